/*
 * arena.h - one allocation arena per compilation.
 *
 * The AST, interned strings, diagnostics and the model all live in one
 * arena that is freed in one call when the compilation ends.  Allocation
 * never fails: on exhaustion the program prints a message and exits 2.
 */
#ifndef XFW_ARENA_H
#define XFW_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block	*head;
	size_t			 used;	/* bytes handed out, for statistics */
};

void	 arena_init(struct arena *);
void	 arena_free(struct arena *);
void	*arena_alloc(struct arena *, size_t);		/* zeroed */
void	*arena_grow(struct arena *, void *, size_t, size_t);
char	*arena_strdup(struct arena *, const char *);
char	*arena_strndup(struct arena *, const char *, size_t);
char	*arena_printf(struct arena *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* Out-of-memory handler shared by everything that mallocs outside arenas. */
void	*xmalloc(size_t);
void	*xrealloc(void *, size_t);
void	*xcalloc(size_t, size_t);
char	*xstrdup(const char *);

#endif
