/*
 * compile.c - the pipeline: parse -> resolve -> lower (check) -> analyse
 * -> expects.  Each stage runs only when the ones before were clean,
 * except that lowering also runs after resolve errors so one run
 * reports as many problems as it can.
 */
#include <string.h>

#include "compile.h"

static void
unused_defs(struct program *p)
{
	size_t i;

	for (i = 0; i < p->ndefs; i++) {
		struct def *d = p->deflist[i];

		if (!d->used)
			warning(p->ctx, d->loc, "unused", "'%s' is defined but "
			    "never used", d->name);
	}
}

static void
program_free(struct program *p)
{
	size_t i;

	for (i = 0; i < p->ndefs; i++)
		addrval_free(&p->deflist[i]->addr);
}

int
compile_policy(struct ctx *c, const char *path,
    const struct compile_opts *o, struct model *m, struct program *p)
{
	size_t i;

	for (i = 0; o != NULL && i < o->nroots; i++)
		ctx_add_root(c, o->roots[i]);
	memset(m, 0, sizeof(*m));
	m->source = path;
	if (resolve(c, path, p) < 0)
		return -1;	/* the policy itself could not be read */
	lower(p, m);
	if (c->nerrors == 0 && o != NULL && o->analyse) {
		unused_defs(p);
		check_policy(c, m);
	}
	if (c->nerrors == 0 && o != NULL && o->run_expects)
		expect_run(p, m);
	program_free(p);
	return c->nerrors;
}
