/*
 * lexstate.h - what the scanner and the parser share.
 */
#ifndef XFW_LEXSTATE_H
#define XFW_LEXSTATE_H

#include "ast.h"

struct lexstate {
	struct ctx	*ctx;
	struct arena	*arena;
	int		 file;
	int		 line;
	int		 col;
	char		*sbuf;		/* string literal being scanned */
	size_t		 slen, scap;
	struct loc	 sloc;		/* where it started */
};

/* A statement list under construction: O(1) append. */
struct stmtlist {
	struct stmt	*head;
	struct stmt	**tail;
};

/* The parser's state. */
struct pstate {
	struct ctx	*ctx;
	int		 file;
	int		 nerrs;
	struct stmtlist	*result;
};

#endif
