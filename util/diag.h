/*
 * diag.h - sources and diagnostics.
 *
 * Every file the compilation reads (policies, includes, list files) is a
 * struct source kept in memory until the end, so a diagnostic can print
 * its source line and a caret.  A diagnostic is a value: it is queued
 * while the passes run and printed once, in text, JSON or SARIF.
 */
#ifndef XFW_DIAG_H
#define XFW_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "arena.h"

/* A place in a source: file index, 1-based line and column, length. */
struct loc {
	int	file;		/* index in ctx->sources, -1: no place */
	int	line;
	int	col;
	int	len;		/* bytes underlined, >= 1 */
};

#define NOLOC	((struct loc){ -1, 0, 0, 0 })

struct source {
	const char	*path;		/* as shown in diagnostics */
	const char	*real;		/* realpath, for cycles and roots */
	const char	*text;		/* whole file, NUL-terminated */
	size_t		 len;
	struct loc	 from;		/* the include/file statement, or NOLOC */
	bool		 is_list;	/* a `file' list, not an include */
	size_t		*lines;		/* line start offsets, built lazily */
	size_t		 nlines;
};

enum severity {
	SEV_ERROR,
	SEV_WARNING,
	SEV_NOTE,
};

struct diag {
	enum severity	 sev;
	struct loc	 loc;
	const char	*msg;
	const char	*rule;		/* stable id for SARIF, e.g. "shadowed" */
	struct diag	*next;
};

#define DIAG_MAX	200	/* stop reporting after this many */

/* The state of one compilation: arena, sources, diagnostics. */
struct ctx {
	struct arena	 arena;
	struct source	**sources;
	size_t		 nsources;
	struct diag	*diags, **tail;
	int		 nerrors;
	int		 nwarnings;
	int		 ndiags;
	const char	**roots;	/* realpaths that files must stay in */
	size_t		 nroots;
};

void	 ctx_init(struct ctx *);
void	 ctx_free(struct ctx *);
void	 ctx_add_root(struct ctx *, const char *);

/* Read a file into a new source; on failure report at `at' and return
 * -1.  The path is checked against the roots unless `top' is set. */
int	 source_load(struct ctx *, const char *path, struct loc at, bool top);
int	 source_add_text(struct ctx *, const char *name, const char *, size_t);
const struct source *ctx_source(const struct ctx *, int);
/* The text of line n of a source, without its newline. */
const char *source_line(struct source *, int, size_t *);

void	 error(struct ctx *, struct loc, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
void	 warning(struct ctx *, struct loc, const char *rule,
	    const char *, ...) __attribute__((format(printf, 4, 5)));
void	 note(struct ctx *, struct loc, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

enum diag_format {
	DIAG_TEXT,
	DIAG_JSON,
	DIAG_SARIF,
};

void	 diag_print(struct ctx *, FILE *, enum diag_format, bool werror);
/* "file:line:col" for a location, in the arena. */
const char *loc_str(struct ctx *, struct loc);

#endif
