/*
 * resolve.c - pass 1: read the policy, splice includes, collect names.
 *
 * An include is resolved relative to the including file, must stay under
 * a root (checked by source_load), and may not form a cycle: a cycle is
 * reported at the include statement that closes it, and the diagnostic
 * printer shows the whole include chain.  Definitions are collected into
 * a hash table; a redefinition is an error that points at both places.
 * Values are not evaluated here: that happens lazily on first use
 * (values.c), so a definition may use one defined later in the file.
 */
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"

#define INCLUDE_DEPTH	32

static unsigned
hash(const char *s)
{
	unsigned h = 5381;

	while (*s != '\0')
		h = h * 33 + (unsigned char)*s++;
	return h % DEF_HASH;
}

struct def *
def_find(struct program *p, const char *name)
{
	struct def *d;

	for (d = p->defs[hash(name)]; d != NULL; d = d->hnext)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

static void
def_add(struct program *p, struct stmt *s)
{
	struct ctx *c = p->ctx;
	struct value *name = s->u.define.name;
	struct def *d, *old;
	unsigned h;

	if (name->kind != VAL_WORD) {
		error(c, name->loc, "a definition name is a bare word");
		return;
	}
	if (strchr(name->text, '/') != NULL || strchr(name->text, '.') !=
	    NULL || strchr(name->text, ':') != NULL ||
	    strchr(name->text, '@') != NULL) {
		error(c, name->loc, "invalid definition name '%s' (letters, "
		    "digits, '_' and '-')", name->text);
		return;
	}
	if (strlen(name->text) > 64) {
		error(c, name->loc, "definition name longer than 64 bytes");
		return;
	}
	if ((old = def_find(p, name->text)) != NULL) {
		error(c, name->loc, "redefinition of '%s'", name->text);
		note(c, old->loc, "'%s' was first defined here", name->text);
		return;
	}
	d = arena_alloc(&c->arena, sizeof(*d));
	d->type = s->u.define.type;
	d->name = name->text;
	d->loc = name->loc;
	d->stmt = s;
	h = hash(d->name);
	d->hnext = p->defs[h];
	p->defs[h] = d;
	if ((p->ndefs & (p->ndefs - 1)) == 0)
		p->deflist = arena_grow(&c->arena, p->deflist,
		    p->ndefs * sizeof(*p->deflist),
		    (p->ndefs ? p->ndefs * 2 : 8) * sizeof(*p->deflist));
	p->deflist[p->ndefs++] = d;
}

static void
expect_add(struct program *p, struct stmt *s)
{
	if ((p->nexpects & (p->nexpects - 1)) == 0)
		p->expects = arena_grow(&p->ctx->arena, p->expects,
		    p->nexpects * sizeof(*p->expects),
		    (p->nexpects ? p->nexpects * 2 : 8) * sizeof(*p->expects));
	p->expects[p->nexpects++] = s;
}

/* The path of `name' relative to the directory of source `file'. */
const char *
path_relative(struct ctx *c, int file, const char *name)
{
	const struct source *s = ctx_source(c, file);
	char *dir, *copy;
	const char *r;

	if (name[0] == '/' || s == NULL)
		return name;
	copy = xstrdup(s->path);
	dir = dirname(copy);
	if (strcmp(dir, ".") == 0)
		r = arena_strdup(&c->arena, name);
	else
		r = arena_printf(&c->arena, "%s/%s", dir, name);
	free(copy);
	return r;
}

/* Is the file's real path already on the include stack? */
static bool
on_stack(struct ctx *c, int file, const char *real)
{
	const struct source *s;

	for (s = ctx_source(c, file); s != NULL;
	    s = ctx_source(c, s->from.file))
		if (strcmp(s->real, real) == 0)
			return true;
	return false;
}

static struct stmt **splice(struct program *, int, struct stmt *,
    struct stmt **, int);

static struct stmt **
do_include(struct program *p, struct stmt *s, struct stmt **tail, int depth)
{
	struct ctx *c = p->ctx;
	struct value *v = s->u.include;
	const char *path;
	char *real;
	struct stmt *body;
	int file;

	if (v->kind != VAL_STRING) {
		error(c, v->loc, "include takes a quoted file name");
		return tail;
	}
	if (depth >= INCLUDE_DEPTH) {
		error(c, s->loc, "includes nested deeper than %d",
		    INCLUDE_DEPTH);
		return tail;
	}
	path = path_relative(c, s->loc.file, v->text);
	real = realpath(path, NULL);
	if (real != NULL && on_stack(c, s->loc.file, real)) {
		error(c, v->loc, "include cycle: '%s' includes itself",
		    v->text);
		free(real);
		return tail;
	}
	free(real);
	file = source_load(c, path, v->loc, false);
	if (file < 0)
		return tail;
	parse_source(c, file, &body);
	return splice(p, file, body, tail, depth + 1);
}

/* Append statements to the program, expanding includes in place. */
static struct stmt **
splice(struct program *p, int file, struct stmt *s, struct stmt **tail,
    int depth)
{
	struct stmt *next;

	(void)file;
	for (; s != NULL; s = next) {
		next = s->next;
		s->next = NULL;
		switch (s->kind) {
		case ST_INCLUDE:
			tail = do_include(p, s, tail, depth);
			continue;
		case ST_DEFINE:
			def_add(p, s);
			break;
		case ST_EXPECT:
			expect_add(p, s);
			continue;
		case ST_VERSION:
			if (s->u.version->kind != VAL_WORD ||
			    strcmp(s->u.version->text, "1") != 0)
				error(p->ctx, s->u.version->loc,
				    "unsupported language version '%s' "
				    "(this compiler reads xfw 1)",
				    s->u.version->text);
			continue;
		case ST_OPTION:
		case ST_LAYER:
		case ST_RULE:
		case ST_DEFAULT:
		case ST_LIST:
		case ST_BLOCK:
		case ST_INSPECT:
			break;
		}
		*tail = s;
		tail = &s->next;
	}
	return tail;
}

int
resolve(struct ctx *c, const char *path, struct program *p)
{
	struct stmt *body;
	char *copy;
	int file, before = c->nerrors;

	memset(p, 0, sizeof(*p));
	p->ctx = c;
	p->order_step = 10;
	file = source_load(c, path, NOLOC, true);
	if (file < 0)
		return -1;
	copy = xstrdup(c->sources[file]->real);
	ctx_add_root(c, dirname(copy));
	free(copy);
	if (c->sources[file]->len == 0)
		error(c, (struct loc){ file, 1, 1, 1 }, "empty policy");
	parse_source(c, file, &body);
	splice(p, file, body, &p->stmts, 0);
	return c->nerrors - before;
}
