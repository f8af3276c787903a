/*
 * lower.c - pass 3: check every statement in its context and lower the
 * policy into the model (model.h).
 *
 * Each context allows a set of clauses (an ip rule cannot say `port', a
 * privacy item cannot say `from'); a clause out of place is an error at
 * the clause.  Values are evaluated with their type (values.c), address
 * definitions become shared named sets, inline lists anonymous ones, and
 * each rule gets the address families it can match: a rule that can
 * match neither IPv4 nor IPv6 is an error.
 */
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "utf8.h"

#define C(x)	(1u << (x))

#define IP_CLAUSES	(C(CL_DIR) | C(CL_ON) | C(CL_PROTO) | C(CL_FROM) | \
	C(CL_TO) | C(CL_LOG) | C(CL_COUNT) | C(CL_COMMENT))
#define TRANSPORT_CLAUSES (IP_CLAUSES | C(CL_FROM_PORT) | C(CL_TO_PORT) | \
	C(CL_PORT) | C(CL_STATE) | C(CL_LIMIT) | C(CL_CONN))
#define ITEM_CLAUSES	(C(CL_JID) | C(CL_GROUP) | C(CL_SUBSCRIPTION) | \
	C(CL_ALL) | C(CL_FOR))
#define INSPECT_CLAUSES	(C(CL_C2S) | C(CL_S2S) | C(CL_QUEUE) | \
	C(CL_PORTS) | C(CL_FAIL))
#define IITEM_CLAUSES	(C(CL_DOMAIN) | C(CL_STRING))

#define ORDER_MAX	2147483647u

struct lower {
	struct program	*p;
	struct ctx	*c;
	struct model	*m;
	struct rule	*rules;
	size_t		 nrules, caprules;
	struct addrset	**sets;
	size_t		 nsets, capsets;
	bool		 def_set[LAYER_COUNT][DIR_COUNT];
	struct privacy_list *lists;
	size_t		 nlists, caplists;
	struct jidval	 block;
	struct inspect	*insp;
	size_t		 ninsp, capinsp;
};

static void *
grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 16;
	return xrealloc(p, *cap * size);
}

struct srcloc
srcloc_of(struct ctx *c, struct loc l)
{
	const struct source *s = ctx_source(c, l.file);
	struct srcloc r = { "<builtin>", 0, 0 };

	if (s != NULL) {
		r.file = s->path;
		r.line = l.line;
		r.col = l.col;
	}
	return r;
}

/* Report every clause that the context does not allow. */
static int
clauses_allowed(struct lower *L, const struct clauses *cl, unsigned allowed,
    const char *where)
{
	unsigned k;
	int errs = 0;

	for (k = 0; k < CL_COUNT_; k++) {
		if ((cl->present & C(k)) && !(allowed & C(k))) {
			error(L->c, cl->loc[k], "'%s' is not allowed in %s",
			    clause_name(k), where);
			errs++;
		}
	}
	if (cl->burst != NULL && !(allowed & C(CL_LIMIT))) {
		error(L->c, cl->burst->loc, "'burst' is not allowed in %s",
		    where);
		errs++;
	}
	if (cl->limit_per != PER_NONE && !(allowed & C(CL_LIMIT))) {
		error(L->c, cl->limit_per_loc, "'per' is not allowed in %s",
		    where);
		errs++;
	}
	return errs;
}

static bool
printable_ascii(const char *s, const char *forbid)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr(forbid, *s) != NULL)
			return false;
	return true;
}

static bool
no_controls(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* A log prefix: what every kernel tool accepts without escaping. */
static const char *
log_prefix(struct lower *L, struct value *v)
{
	if (v->kind != VAL_STRING) {
		error(L->c, v->loc, "a log prefix is a quoted string");
		return NULL;
	}
	if (strlen(v->text) > 29) {
		error(L->c, v->loc, "log prefix is %zu bytes, longer than the "
		    "kernel's 29", strlen(v->text));
		return NULL;
	}
	if (!printable_ascii(v->text, "\"'\\`$;#")) {
		error(L->c, v->loc, "log prefix may hold only printable "
		    "ASCII without quotes, backslash, '`', '$', ';' or '#'");
		return NULL;
	}
	return v->text;
}

static bool
iface_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 15)
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '+' && i == n - 1 && i > 0)
			continue;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' ||
		    ch == '.'))
			return false;
	}
	return true;
}

static void
add_set(struct lower *L, struct addrset *s)
{
	L->sets = grow(L->sets, &L->capsets, L->nsets, sizeof(*L->sets));
	s->id = L->nsets;
	L->sets[L->nsets++] = s;
}

/*
 * The model set for an address clause: NULL for any, the definition's
 * shared set for a single $ref, an anonymous set otherwise.  *bad is set
 * on error.
 */
static const struct addrset *
set_for(struct lower *L, struct values *vs, bool *bad)
{
	struct addrval a;
	struct addrset *s;
	struct def *d;

	if (vs == NULL)
		return NULL;
	if (vs->n == 1 && vs->v[0]->kind == VAL_REF) {
		d = def_find(L->p, vs->v[0]->text);
		if (d != NULL && d->type == DEF_ADDR) {
			d->used = true;
			if (def_resolve(L->p, d) != 0) {
				*bad = true;
				return NULL;
			}
			if (d->addr.any)
				return NULL;
			if (d->set == NULL) {
				d->set = addrset_from(&L->c->arena, &d->addr,
				    d->name, srcloc_of(L->c, d->loc));
				add_set(L, d->set);
			}
			return d->set;
		}
	}
	memset(&a, 0, sizeof(a));
	if (addr_eval(L->p, vs, &a) != 0) {
		*bad = true;
		addrval_free(&a);
		return NULL;
	}
	if (a.any) {
		if (a.n4 + a.n6 > 0)
			warning(L->c, vs->loc, "redundant", "'any' makes the "
			    "other addresses of this list redundant");
		addrval_free(&a);
		return NULL;
	}
	s = addrset_from(&L->c->arena, &a, NULL, srcloc_of(L->c, vs->loc));
	addrval_free(&a);
	add_set(L, s);
	return s;
}

static unsigned
set_families(const struct addrset *s)
{
	if (s == NULL)
		return FAM_BOTH;
	return (s->n4 ? FAM_V4 : 0) | (s->n6 ? FAM_V6 : 0);
}

/* Parse names from a flag table into a mask; unknown names are errors. */
static int
parse_flags(struct lower *L, struct values *vs, const struct flagname *t,
    size_t n, unsigned *out, const char *what, const char *known)
{
	unsigned bit;
	size_t i;
	int errs = 0;

	for (i = 0; i < vs->n; i++) {
		bit = vs->v[i]->kind == VAL_WORD ?
		    flag_lookup(t, n, vs->v[i]->text) : 0;
		if (bit == 0) {
			error(L->c, vs->v[i]->loc, "unknown %s '%s' (%s)", what,
			    vs->v[i]->text, known);
			errs++;
		} else
			*out |= bit;
	}
	return errs;
}

static int
parse_rate(struct lower *L, struct value *v, struct rate_limit *lim)
{
	const char *slash = strchr(v->text, '/');
	char num[16];
	uint32_t n;
	size_t len;

	if (slash == NULL || (len = (size_t)(slash - v->text)) == 0 ||
	    len >= sizeof(num)) {
		error(L->c, v->loc, "'%s' is not a rate (N/second, N/minute "
		    "or N/hour)", v->text);
		return 1;
	}
	memcpy(num, v->text, len);
	num[len] = '\0';
	if (parse_u32(num, 1000000, &n) != 0 || n == 0) {
		error(L->c, v->loc, "rate %s out of range 1..1000000", num);
		return 1;
	}
	if (strcmp(slash + 1, "second") == 0)
		lim->unit = RATE_SECOND;
	else if (strcmp(slash + 1, "minute") == 0)
		lim->unit = RATE_MINUTE;
	else if (strcmp(slash + 1, "hour") == 0)
		lim->unit = RATE_HOUR;
	else {
		error(L->c, v->loc, "unknown rate unit '%s' (second, minute "
		    "or hour)", slash + 1);
		return 1;
	}
	lim->rate = n;
	return 0;
}

static int
parse_count(struct lower *L, struct value *v, uint32_t max, uint32_t *out,
    const char *what)
{
	int r = v->kind == VAL_WORD ? parse_u32(v->text, max, out) : -1;

	if (r == -2 || (r == 0 && *out == 0)) {
		error(L->c, v->loc, "%s %s out of range 1..%u", what, v->text,
		    max);
		return 1;
	}
	if (r != 0) {
		error(L->c, v->loc, "%s '%s' is not a number", what, v->text);
		return 1;
	}
	return 0;
}

static void
lower_rule(struct lower *L, struct stmt *s, enum layer layer)
{
	struct clauses *cl = s->u.rule.cl;
	struct ctx *c = L->c;
	struct rule r;
	struct value *v;
	unsigned pf;
	bool bad = false;

	if (clauses_allowed(L, cl, layer == LAYER_IP ? IP_CLAUSES :
	    TRANSPORT_CLAUSES, layer == LAYER_IP ? "an ip rule (ports, "
	    "states and limits belong in the transport layer)" :
	    "a transport rule") != 0)
		bad = true;
	memset(&r, 0, sizeof(r));
	r.loc = srcloc_of(c, s->u.rule.action_loc);
	r.layer = layer;
	r.action = (enum verdict)s->u.rule.action;
	r.dir = cl->dir < 0 ? DIR_IN : (enum direction)cl->dir;
	r.protos = cl->protos;
	if ((v = cl->val[CL_ON]) != NULL) {
		if (!iface_ok(v->text)) {
			error(c, v->loc, "invalid interface name '%s' (1..15 "
			    "of letters, digits, '_', '-', '.', and a final "
			    "'+' for a prefix)", v->text);
			bad = true;
		} else
			r.iface = v->text;
	}
	r.src = set_for(L, cl->vals[CL_FROM], &bad);
	r.dst = set_for(L, cl->vals[CL_TO], &bad);
	if (cl->vals[CL_FROM_PORT] != NULL &&
	    port_eval(L->p, cl->vals[CL_FROM_PORT], &r.sport) != 0)
		bad = true;
	if (cl->vals[CL_FROM_PORT] != NULL && cl->vals[CL_PORT] == NULL &&
	    cl->vals[CL_TO_PORT] == NULL && r.dir == DIR_IN)
		warning(c, cl->loc[CL_FROM_PORT], "source-port", "'from ... "
		    "port' is the source port; write 'port P from ADDRS' for "
		    "the destination port");
	if (cl->vals[CL_TO_PORT] != NULL && cl->vals[CL_PORT] != NULL) {
		error(c, cl->loc[CL_PORT], "destination port given twice "
		    "('to ... port' and 'port')");
		bad = true;
	}
	if (cl->vals[CL_TO_PORT] != NULL &&
	    port_eval(L->p, cl->vals[CL_TO_PORT], &r.dport) != 0)
		bad = true;
	if (cl->vals[CL_PORT] != NULL &&
	    port_eval(L->p, cl->vals[CL_PORT], &r.dport) != 0)
		bad = true;
	if (cl->present & (C(CL_FROM_PORT) | C(CL_TO_PORT) | C(CL_PORT))) {
		if (r.protos & (PROTO_ICMP | PROTO_ICMPV6)) {
			error(c, cl->loc[CL_PROTO], "ports need tcp or udp, "
			    "not icmp");
			bad = true;
		}
		if (r.protos == 0)
			r.protos = PROTO_TCP | PROTO_UDP;
	}
	if (cl->vals[CL_STATE] != NULL &&
	    parse_flags(L, cl->vals[CL_STATE], state_flags, 5, &r.states,
	    "connection state", "new, established, related, invalid, "
	    "untracked") != 0)
		bad = true;
	if ((v = cl->val[CL_LIMIT]) != NULL) {
		r.limit.present = true;
		r.limit.over = cl->limit_over;
		if (parse_rate(L, v, &r.limit) != 0)
			bad = true;
		r.limit.per = (enum limit_per)cl->limit_per;
	}
	if (cl->burst != NULL) {
		if (!r.limit.present) {
			error(c, cl->burst->loc, "'burst' without 'limit'");
			bad = true;
		} else if (parse_count(L, cl->burst, 1000000, &r.limit.burst,
		    "burst") != 0)
			bad = true;
	}
	if ((v = cl->val[CL_CONN]) != NULL) {
		r.conn.present = true;
		if (parse_count(L, v, 1000000, &r.conn.over, "connection "
		    "count") != 0)
			bad = true;
		if (cl->limit_per == PER_SOURCE)
			r.conn.per_source = true;
		else if (cl->limit_per == PER_DESTINATION) {
			error(c, cl->limit_per_loc, "'conn over' counts per "
			    "source only");
			bad = true;
		}
	}
	if (cl->limit_per != PER_NONE && !r.limit.present &&
	    !r.conn.present) {
		error(c, cl->limit_per_loc, "'per' without 'limit' or 'conn'");
		bad = true;
	}
	if (cl->present & C(CL_LOG)) {
		r.log = true;
		if (cl->val[CL_LOG] != NULL &&
		    (r.log_prefix = log_prefix(L, cl->val[CL_LOG])) == NULL)
			bad = true;
	}
	r.count = (cl->present & C(CL_COUNT)) != 0;
	if ((v = cl->val[CL_COMMENT]) != NULL) {
		if (v->kind != VAL_STRING || strlen(v->text) > 256 ||
		    !no_controls(v->text)) {
			error(c, v->loc, "a comment is a quoted string of at "
			    "most 256 bytes without control characters");
			bad = true;
		} else
			r.comment = v->text;
	}
	pf = 0;
	if (r.protos == 0 || (r.protos & (PROTO_TCP | PROTO_UDP)))
		pf = FAM_BOTH;
	if (r.protos & PROTO_ICMP)
		pf |= FAM_V4;
	if (r.protos & PROTO_ICMPV6)
		pf |= FAM_V6;
	r.families = set_families(r.src) & set_families(r.dst) & pf;
	if (bad)
		return;
	if (r.families == 0) {
		error(c, s->u.rule.action_loc, "rule can match neither IPv4 "
		    "nor IPv6 (%s%s%s)",
		    set_families(r.src) == FAM_V4 ? "source is IPv4" :
		    set_families(r.src) == FAM_V6 ? "source is IPv6" :
		    "source is any",
		    set_families(r.dst) == FAM_V4 ? ", destination IPv4" :
		    set_families(r.dst) == FAM_V6 ? ", destination IPv6" :
		    ", destination any",
		    pf == FAM_V4 ? ", protocol IPv4 only" :
		    pf == FAM_V6 ? ", protocol IPv6 only" : "");
		return;
	}
	L->rules = grow(L->rules, &L->caprules, L->nrules, sizeof(r));
	r.id = L->nrules;
	L->rules[L->nrules++] = r;
}

static void
lower_default(struct lower *L, struct stmt *s, enum layer layer)
{
	struct layer_defaults *d = &L->m->defaults[layer];
	int dir, lo = 0, hi = DIR_COUNT - 1;

	if (s->u.def.dir >= 0)
		lo = hi = s->u.def.dir;
	for (dir = lo; dir <= hi; dir++) {
		if (L->def_set[layer][dir]) {
			error(L->c, s->loc, "default for %s %s set twice",
			    layer_name(layer), direction_name(dir));
			return;
		}
		L->def_set[layer][dir] = true;
		d->action[dir] = (enum verdict)s->u.def.action;
		d->loc[dir] = srcloc_of(L->c, s->loc);
	}
}

static void
lower_layer(struct lower *L, struct stmt *s, enum layer layer)
{
	for (s = s->u.layer.body; s != NULL; s = s->next) {
		switch (s->kind) {
		case ST_RULE:
			lower_rule(L, s, layer);
			break;
		case ST_DEFAULT:
			lower_default(L, s, layer);
			break;
		case ST_VERSION:
		case ST_INCLUDE:
		case ST_OPTION:
		case ST_DEFINE:
		case ST_LAYER:
		case ST_LIST:
		case ST_BLOCK:
		case ST_INSPECT:
		case ST_EXPECT:
			error(L->c, s->loc, "only rules and 'default' belong "
			    "in the %s layer", layer_name(layer));
			break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* xmpp                                                                */

static const char *
list_name(struct lower *L, struct value *v)
{
	if (v->text[0] == '\0' || strlen(v->text) > 1023 ||
	    !no_controls(v->text)) {
		error(L->c, v->loc, "a list name is 1..1023 bytes without "
		    "control characters");
		return NULL;
	}
	return v->text;
}

struct items {
	struct privacy_item	*v;
	size_t			 n, cap;
};

static void
item_add(struct items *it, struct privacy_item *pi)
{
	it->v = grow(it->v, &it->cap, it->n, sizeof(*it->v));
	it->v[it->n++] = *pi;
}

static void
lower_item(struct lower *L, struct stmt *s, struct items *it)
{
	struct clauses *cl = s->u.rule.cl;
	struct privacy_item pi;
	struct jidval j;
	unsigned kinds;
	size_t i;
	int n;

	if (clauses_allowed(L, cl, ITEM_CLAUSES, "a privacy-list item") != 0)
		return;
	memset(&pi, 0, sizeof(pi));
	pi.loc = srcloc_of(L->c, s->u.rule.action_loc);
	pi.action = (enum verdict)s->u.rule.action;
	if (pi.action == VERDICT_REJECT) {
		error(L->c, s->u.rule.action_loc, "'reject' is not a "
		    "privacy-list action (allow or deny)");
		return;
	}
	kinds = cl->present & (C(CL_JID) | C(CL_GROUP) | C(CL_SUBSCRIPTION) |
	    C(CL_ALL));
	n = __builtin_popcount(kinds);
	if (n != 1) {
		error(L->c, s->loc, "a privacy-list item needs exactly one of "
		    "jid, group, subscription or all");
		return;
	}
	if (cl->vals[CL_FOR] != NULL &&
	    parse_flags(L, cl->vals[CL_FOR], stanza_flags, 4, &pi.stanzas,
	    "stanza kind", "message, iq, presence-in, presence-out") != 0)
		return;
	if (kinds & C(CL_ALL)) {
		pi.type = ITEM_ALL;
		item_add(it, &pi);
	} else if (kinds & C(CL_JID)) {
		memset(&j, 0, sizeof(j));
		if (jid_eval(L->p, cl->vals[CL_JID], &j, false) != 0)
			return;
		pi.type = ITEM_JID;
		for (i = 0; i < j.n; i++) {
			pi.value = j.jids[i];
			pi.loc = srcloc_of(L->c, j.locs[i]);
			item_add(it, &pi);
		}
	} else if (kinds & C(CL_GROUP)) {
		struct values *vs = cl->vals[CL_GROUP];

		pi.type = ITEM_GROUP;
		for (i = 0; i < vs->n; i++) {
			if (vs->v[i]->kind == VAL_REF ||
			    vs->v[i]->text[0] == '\0' ||
			    strlen(vs->v[i]->text) > 1023 ||
			    !no_controls(vs->v[i]->text)) {
				error(L->c, vs->v[i]->loc, "a roster group is "
				    "a name of 1..1023 bytes");
				continue;
			}
			pi.value = vs->v[i]->text;
			pi.loc = srcloc_of(L->c, vs->v[i]->loc);
			item_add(it, &pi);
		}
	} else {
		struct values *vs = cl->vals[CL_SUBSCRIPTION];

		pi.type = ITEM_SUBSCRIPTION;
		for (i = 0; i < vs->n; i++) {
			const char *t = vs->v[i]->text;

			if (strcmp(t, "none") != 0 && strcmp(t, "to") != 0 &&
			    strcmp(t, "from") != 0 && strcmp(t, "both") != 0) {
				error(L->c, vs->v[i]->loc, "unknown "
				    "subscription '%s' (none, to, from, both)",
				    t);
				continue;
			}
			pi.value = t;
			pi.loc = srcloc_of(L->c, vs->v[i]->loc);
			item_add(it, &pi);
		}
	}
}

static void
lower_list(struct lower *L, struct stmt *s)
{
	struct privacy_list pl;
	struct items it = { NULL, 0, 0 };
	struct value *ov = s->u.list.cl->val[CL_ORDER];
	uint32_t start = 100;
	uint64_t order;
	struct stmt *b;
	size_t i;
	int errs;

	memset(&pl, 0, sizeof(pl));
	pl.loc = srcloc_of(L->c, s->loc);
	if ((pl.name = list_name(L, s->u.list.name)) == NULL)
		return;
	for (i = 0; i < L->nlists; i++) {
		if (strcmp(L->lists[i].name, pl.name) == 0) {
			error(L->c, s->u.list.name->loc, "list '%s' defined "
			    "twice", pl.name);
			return;
		}
	}
	pl.is_default = s->u.list.is_default;
	pl.is_active = s->u.list.is_active;
	if (ov != NULL && (ov->kind != VAL_WORD ||
	    parse_u32(ov->text, ORDER_MAX, &start) != 0)) {
		error(L->c, ov->loc, "order %s out of range 0..%u", ov->text,
		    ORDER_MAX);
		return;
	}
	errs = L->c->nerrors;
	for (b = s->u.list.body; b != NULL; b = b->next) {
		if (b->kind == ST_RULE)
			lower_item(L, b, &it);
		else if (b->kind == ST_DEFAULT)
			error(L->c, b->loc, "a privacy list has no default: "
			    "end it with 'deny all'");
		else
			error(L->c, b->loc, "only items belong in a privacy "
			    "list");
	}
	if (it.n == 0) {
		if (L->c->nerrors == errs)
			error(L->c, s->loc, "list '%s' has no items (an empty "
			    "list deletes the list on the server)", pl.name);
		free(it.v);
		return;
	}
	order = start;
	for (i = 0; i < it.n; i++, order += L->p->order_step) {
		if (order > ORDER_MAX) {
			error(L->c, s->loc, "list '%s' needs orders above %u "
			    "(start %u, step %u, %zu items)", pl.name,
			    ORDER_MAX, start, L->p->order_step, it.n);
			free(it.v);
			return;
		}
		it.v[i].order = (uint32_t)order;
	}
	pl.n = it.n;
	pl.items = arena_alloc(&L->c->arena, it.n * sizeof(*pl.items));
	memcpy(pl.items, it.v, it.n * sizeof(*pl.items));
	free(it.v);
	for (i = 0; i < L->nlists; i++) {
		if (pl.is_default && L->lists[i].is_default)
			error(L->c, s->loc, "two default lists ('%s' and "
			    "'%s')", L->lists[i].name, pl.name);
		if (pl.is_active && L->lists[i].is_active)
			error(L->c, s->loc, "two active lists ('%s' and "
			    "'%s')", L->lists[i].name, pl.name);
	}
	L->lists = grow(L->lists, &L->caplists, L->nlists, sizeof(pl));
	L->lists[L->nlists++] = pl;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sort and deduplicate a JID list, keeping locations in step. */
static size_t
jid_sort_unique(struct arena *ar, struct jidval *j, const char ***out,
    struct srcloc **locs, struct ctx *c)
{
	struct pair {
		const char *jid;
		struct loc loc;
	} *v = xmalloc((j->n ? j->n : 1) * sizeof(*v));
	size_t i, k = 0;

	for (i = 0; i < j->n; i++) {
		v[i].jid = j->jids[i];
		v[i].loc = j->locs[i];
	}
	qsort(v, j->n, sizeof(*v), cmpstr);
	*out = arena_alloc(ar, (j->n ? j->n : 1) * sizeof(**out));
	if (locs != NULL)
		*locs = arena_alloc(ar, (j->n ? j->n : 1) * sizeof(**locs));
	for (i = 0; i < j->n; i++) {
		if (k > 0 && strcmp((*out)[k - 1], v[i].jid) == 0)
			continue;
		(*out)[k] = v[i].jid;
		if (locs != NULL)
			(*locs)[k] = srcloc_of(c, v[i].loc);
		k++;
	}
	free(v);
	return k;
}

static void
lower_block(struct lower *L, struct stmt *s)
{
	struct jidval j;
	size_t i;

	memset(&j, 0, sizeof(j));
	if (jid_eval(L->p, s->u.block, &j, false) != 0)
		return;
	if (L->block.n == 0)
		L->m->block.loc = srcloc_of(L->c, s->loc);
	for (i = 0; i < j.n; i++) {
		struct jidval *b = &L->block;

		if ((b->n & (b->n - 1)) == 0) {
			size_t cap = b->n ? b->n * 2 : 8;

			b->jids = arena_grow(&L->c->arena, b->jids,
			    b->n * sizeof(*b->jids), cap * sizeof(*b->jids));
			b->locs = arena_grow(&L->c->arena, b->locs,
			    b->n * sizeof(*b->locs), cap * sizeof(*b->locs));
		}
		b->jids[b->n] = j.jids[i];
		b->locs[b->n] = j.locs[i];
		b->n++;
	}
}

static void
lower_inspect_item(struct lower *L, struct inspect *in, struct stmt *s,
    struct inspect_rule *out, size_t *n)
{
	struct clauses *cl = s->u.rule.cl;
	struct inspect_rule ir;
	struct jidval j;
	struct value *v;

	if (clauses_allowed(L, cl, IITEM_CLAUSES, "an inspect rule") != 0)
		return;
	memset(&ir, 0, sizeof(ir));
	ir.loc = srcloc_of(L->c, s->u.rule.action_loc);
	ir.action = (enum verdict)s->u.rule.action;
	if (__builtin_popcount(cl->present & (C(CL_DOMAIN) |
	    C(CL_STRING))) != 1) {
		error(L->c, s->loc, "an inspect rule needs exactly one of "
		    "domain or string");
		return;
	}
	if (cl->vals[CL_DOMAIN] != NULL) {
		memset(&j, 0, sizeof(j));
		if (jid_eval(L->p, cl->vals[CL_DOMAIN], &j, true) != 0)
			return;
		ir.match = IMATCH_DOMAIN;
		ir.ndomains = jid_sort_unique(&L->c->arena, &j, &ir.domains,
		    NULL, L->c);
	} else {
		v = cl->val[CL_STRING];
		if (v->kind != VAL_STRING || v->text[0] == '\0' ||
		    strlen(v->text) > 255) {
			error(L->c, v->loc, "a signature is a quoted string "
			    "of 1..255 bytes");
			return;
		}
		ir.match = IMATCH_STRING;
		ir.string = v->text;
	}
	(void)in;
	out[(*n)++] = ir;
}

static void
lower_inspect(struct lower *L, struct stmt *s)
{
	struct clauses *cl = s->u.inspect.cl;
	struct inspect in;
	struct stmt *b;
	size_t nb = 0;
	uint32_t q;
	bool def_seen = false;

	if (clauses_allowed(L, cl, INSPECT_CLAUSES, "an inspect header") != 0)
		return;
	memset(&in, 0, sizeof(in));
	in.loc = srcloc_of(L->c, s->loc);
	in.kind = INSPECT_BOTH;
	if ((cl->present & C(CL_C2S)) && !(cl->present & C(CL_S2S)))
		in.kind = INSPECT_C2S;
	else if ((cl->present & C(CL_S2S)) && !(cl->present & C(CL_C2S)))
		in.kind = INSPECT_S2S;
	if (cl->val[CL_QUEUE] != NULL) {
		q = 0;
		if (cl->val[CL_QUEUE]->kind != VAL_WORD ||
		    parse_u32(cl->val[CL_QUEUE]->text, 65535, &q) != 0) {
			error(L->c, cl->val[CL_QUEUE]->loc, "queue %s out of "
			    "range 0..65535", cl->val[CL_QUEUE]->text);
			return;
		}
		in.queue = (uint16_t)q;
	}
	if (cl->vals[CL_PORTS] != NULL) {
		if (port_eval(L->p, cl->vals[CL_PORTS], &in.ports) != 0)
			return;
	} else {
		static struct port_range c2s[] = { { 5222, 5223 } };
		static struct port_range s2s[] = { { 5269, 5270 } };
		static struct port_range both[] = { { 5222, 5223 },
		    { 5269, 5270 } };

		in.ports.r = in.kind == INSPECT_C2S ? c2s :
		    in.kind == INSPECT_S2S ? s2s : both;
		in.ports.n = in.kind == INSPECT_BOTH ? 2 : 1;
	}
	in.fail_closed = cl->fail_closed;
	in.mark = L->m->opt.inspect_mark;
	in.bytes = L->m->opt.inspect_bytes;
	in.def = VERDICT_ALLOW;
	in.def_loc.file = NULL;
	for (b = s->u.inspect.body; b != NULL; b = b->next)
		nb++;
	in.rules = arena_alloc(&L->c->arena, (nb ? nb : 1) *
	    sizeof(*in.rules));
	for (b = s->u.inspect.body; b != NULL; b = b->next) {
		if (b->kind == ST_RULE)
			lower_inspect_item(L, &in, b, in.rules, &in.nrules);
		else if (b->kind == ST_DEFAULT) {
			if (b->u.def.dir >= 0)
				error(L->c, b->u.def.dir_loc, "an inspect "
				    "default has no direction");
			if (def_seen)
				error(L->c, b->loc, "default set twice");
			def_seen = true;
			in.def = (enum verdict)b->u.def.action;
			in.def_loc = srcloc_of(L->c, b->loc);
		} else
			error(L->c, b->loc, "only rules and 'default' belong "
			    "in an inspect block");
	}
	L->insp = grow(L->insp, &L->capinsp, L->ninsp, sizeof(in));
	in.id = L->ninsp;
	L->insp[L->ninsp++] = in;
}

static void
lower_xmpp(struct lower *L, struct stmt *s)
{
	for (s = s->u.layer.body; s != NULL; s = s->next) {
		switch (s->kind) {
		case ST_LIST:
			lower_list(L, s);
			break;
		case ST_BLOCK:
			lower_block(L, s);
			break;
		case ST_INSPECT:
			lower_inspect(L, s);
			break;
		case ST_VERSION:
		case ST_INCLUDE:
		case ST_OPTION:
		case ST_DEFINE:
		case ST_LAYER:
		case ST_RULE:
		case ST_DEFAULT:
		case ST_EXPECT:
			error(L->c, s->loc, "only list, block and inspect "
			    "belong in the xmpp layer");
			break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* options                                                             */

static int
onoff(struct lower *L, struct value *v, bool *out)
{
	if (strcmp(v->text, "on") == 0)
		*out = true;
	else if (strcmp(v->text, "off") == 0)
		*out = false;
	else {
		error(L->c, v->loc, "expected on or off, not '%s'", v->text);
		return 1;
	}
	return 0;
}

static void
lower_option(struct lower *L, struct stmt *s)
{
	struct value *n = s->u.option.name, *v = s->u.option.value;
	struct model *m = L->m;
	uint32_t u;

	if (strcmp(n->text, "table") == 0) {
		if (!printable_ascii(v->text, " \"'\\`$;#{}()[]<>|&*?!~,=/.:@")
		    || v->text[0] == '\0' || strlen(v->text) > 16)
			error(L->c, v->loc, "a table name is 1..16 letters, "
			    "digits, '_' or '-'");
		else
			m->opt.table = v->text;
	} else if (strcmp(n->text, "log-prefix") == 0) {
		m->opt.log_prefix = log_prefix(L, v);
	} else if (strcmp(n->text, "loopback") == 0) {
		onoff(L, v, &m->prelude.loopback);
	} else if (strcmp(n->text, "established") == 0) {
		onoff(L, v, &m->prelude.established);
	} else if (strcmp(n->text, "drop-invalid") == 0) {
		onoff(L, v, &m->prelude.drop_invalid);
	} else if (strcmp(n->text, "icmp-essential") == 0) {
		onoff(L, v, &m->prelude.essential_icmp);
	} else if (strcmp(n->text, "inspect-mark") == 0) {
		if (parse_count(L, v, 0x7fffffff, &u, "mark") == 0)
			m->opt.inspect_mark = u;
	} else if (strcmp(n->text, "inspect-bytes") == 0) {
		if (parse_count(L, v, 65535, &u, "byte count") == 0)
			m->opt.inspect_bytes = u;
	} else if (strcmp(n->text, "order-step") == 0) {
		if (parse_count(L, v, 1000000, &u, "order step") == 0)
			L->p->order_step = u;
	} else
		error(L->c, n->loc, "unknown option '%s' (table, log-prefix, "
		    "loopback, established, drop-invalid, icmp-essential, "
		    "inspect-mark, inspect-bytes, order-step)", n->text);
}

/* ------------------------------------------------------------------ */

static void
model_defaults(struct model *m)
{
	int d;

	m->opt.table = "xmppfw";
	m->opt.log_prefix = "xmppfw";
	m->opt.inspect_mark = 0x1;
	m->opt.inspect_bytes = 4096;
	m->prelude.loopback = true;
	m->prelude.established = true;
	m->prelude.drop_invalid = true;
	m->prelude.essential_icmp = true;
	for (d = 0; d < DIR_COUNT; d++) {
		m->defaults[LAYER_IP].action[d] = VERDICT_ALLOW;
		m->defaults[LAYER_TRANSPORT].action[d] = d == DIR_OUT ?
		    VERDICT_ALLOW : VERDICT_DENY;
	}
}

int
lower(struct program *p, struct model *m)
{
	struct lower L;
	struct stmt *s;
	size_t i;
	int before = p->ctx->nerrors;

	memset(&L, 0, sizeof(L));
	L.p = p;
	L.c = p->ctx;
	L.m = m;
	m->arena = &p->ctx->arena;
	model_defaults(m);
	/* Options first: they set defaults the layers use. */
	for (s = p->stmts; s != NULL; s = s->next)
		if (s->kind == ST_OPTION)
			lower_option(&L, s);
	for (s = p->stmts; s != NULL; s = s->next) {
		switch (s->kind) {
		case ST_LAYER:
			if (s->u.layer.which == LK_IP)
				lower_layer(&L, s, LAYER_IP);
			else if (s->u.layer.which == LK_TRANSPORT)
				lower_layer(&L, s, LAYER_TRANSPORT);
			else
				lower_xmpp(&L, s);
			break;
		case ST_RULE:
		case ST_DEFAULT:
			error(L.c, s->loc, "a rule belongs in an ip or "
			    "transport block");
			break;
		case ST_LIST:
		case ST_BLOCK:
		case ST_INSPECT:
			error(L.c, s->loc, "this belongs in the xmpp block");
			break;
		case ST_OPTION:
		case ST_DEFINE:
		case ST_VERSION:
		case ST_INCLUDE:
		case ST_EXPECT:
			break;
		}
	}
	/* Definitions nobody used are still checked. */
	for (i = 0; i < p->ndefs; i++)
		def_resolve(p, p->deflist[i]);

	m->nrules = L.nrules;
	m->rules = arena_alloc(&L.c->arena, (L.nrules ? L.nrules : 1) *
	    sizeof(*m->rules));
	if (L.nrules)
		memcpy(m->rules, L.rules, L.nrules * sizeof(*m->rules));
	m->nsets = L.nsets;
	m->sets = arena_alloc(&L.c->arena, (L.nsets ? L.nsets : 1) *
	    sizeof(*m->sets));
	if (L.nsets)
		memcpy(m->sets, L.sets, L.nsets * sizeof(*m->sets));
	/* Which families' rules use each set (one pass, for backends). */
	for (i = 0; i < m->nrules; i++) {
		const struct rule *r = &m->rules[i];

		if (r->src != NULL)
			m->sets[r->src->id]->used |= r->families;
		if (r->dst != NULL)
			m->sets[r->dst->id]->used |= r->families;
	}
	m->nlists = L.nlists;
	m->lists = arena_alloc(&L.c->arena, (L.nlists ? L.nlists : 1) *
	    sizeof(*m->lists));
	if (L.nlists)
		memcpy(m->lists, L.lists, L.nlists * sizeof(*m->lists));
	m->block.n = jid_sort_unique(&L.c->arena, &L.block, &m->block.jids,
	    &m->block.locs, L.c);
	m->ninspect = L.ninsp;
	m->inspects = arena_alloc(&L.c->arena, (L.ninsp ? L.ninsp : 1) *
	    sizeof(*m->inspects));
	if (L.ninsp)
		memcpy(m->inspects, L.insp, L.ninsp * sizeof(*m->inspects));
	free(L.rules);
	free(L.sets);
	free(L.lists);
	free(L.insp);
	return p->ctx->nerrors - before;
}
