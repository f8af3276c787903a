/*
 * testutil.h - helpers shared by the Check suites: compile a policy
 * given as a string and capture its diagnostics.
 */
#ifndef XFW_TESTUTIL_H
#define XFW_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile.h"

struct compiled {
	struct ctx	 ctx;
	struct model	 model;
	struct program	 prog;
	char		*diags;		/* text diagnostics */
	size_t		 ndiags;
	int		 errors;
	char		 path[64];
};

/* Write text to a temporary policy file and compile it. */
static inline void
compile_text(struct compiled *c, const char *text)
{
	struct compile_opts o = { NULL, 0, true, true };
	FILE *f, *d;
	int fd;

	memset(c, 0, sizeof(*c));
	strcpy(c->path, "/tmp/xfwtest.XXXXXX");
	fd = mkstemp(c->path);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	ctx_init(&c->ctx);
	c->errors = compile_policy(&c->ctx, c->path, &o, &c->model, &c->prog);
	d = open_memstream(&c->diags, &c->ndiags);
	diag_print(&c->ctx, d, DIAG_TEXT, false);
	fclose(d);
	unlink(c->path);
}

static inline void
compiled_free(struct compiled *c)
{
	ctx_free(&c->ctx);
	free(c->diags);
}

#endif
