/*
 * ast.c - constructors for the syntax tree.
 */
#include <string.h>

#include "ast.h"

struct value *
value_new(struct arena *a, enum value_kind kind, struct loc l,
    const char *text)
{
	struct value *v = arena_alloc(a, sizeof(*v));

	v->kind = kind;
	v->loc = l;
	v->text = text;
	return v;
}

struct values *
values_new(struct arena *a, struct loc l, bool braced)
{
	struct values *vs = arena_alloc(a, sizeof(*vs));

	vs->loc = l;
	vs->braced = braced;
	return vs;
}

struct values *
values_one(struct arena *a, struct value *v)
{
	struct values *vs = values_new(a, v->loc, false);

	values_add(a, vs, v);
	return vs;
}

void
values_add(struct arena *a, struct values *vs, struct value *v)
{
	size_t cap;

	/* Grow in powers of two: the arena cannot realloc in place. */
	if ((vs->n & (vs->n - 1)) == 0) {
		cap = vs->n == 0 ? 4 : vs->n * 2;
		vs->v = arena_grow(a, vs->v, vs->n * sizeof(*vs->v),
		    cap * sizeof(*vs->v));
	}
	vs->v[vs->n++] = v;
}

struct clauses *
clauses_new(struct arena *a)
{
	struct clauses *c = arena_alloc(a, sizeof(*c));

	c->dir = -1;
	return c;
}

struct stmt *
stmt_new(struct arena *a, enum stmt_kind kind, struct loc l)
{
	struct stmt *s = arena_alloc(a, sizeof(*s));

	s->kind = kind;
	s->loc = l;
	return s;
}

struct stmt **
stmt_append(struct stmt **tail, struct stmt *s)
{
	if (s == NULL)
		return tail;
	*tail = s;
	while (s->next != NULL)
		s = s->next;
	return &s->next;
}

const char *
clause_name(enum clause c)
{
	static const char *const names[CL_COUNT_] = {
		[CL_DIR] = "in/out/forward", [CL_ON] = "on",
		[CL_PROTO] = "protocol", [CL_FROM] = "from",
		[CL_FROM_PORT] = "from ... port", [CL_TO] = "to",
		[CL_TO_PORT] = "to ... port", [CL_PORT] = "port",
		[CL_STATE] = "state", [CL_LIMIT] = "limit",
		[CL_CONN] = "conn", [CL_LOG] = "log", [CL_COUNT] = "count",
		[CL_COMMENT] = "comment", [CL_JID] = "jid",
		[CL_GROUP] = "group", [CL_SUBSCRIPTION] = "subscription",
		[CL_ALL] = "all", [CL_FOR] = "for", [CL_DOMAIN] = "domain",
		[CL_STRING] = "string", [CL_LIST] = "list",
		[CL_KIND] = "stanza kind", [CL_C2S] = "c2s", [CL_S2S] = "s2s",
		[CL_QUEUE] = "queue", [CL_PORTS] = "ports",
		[CL_FAIL] = "fail-closed/fail-open", [CL_ORDER] = "order",
	};

	if (c >= CL_COUNT_)
		return "?";
	return names[c];
}
