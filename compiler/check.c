/*
 * check.c - pass 4, whole-policy analysis: rules that never decide
 * anything, and privacy-list items that can never be reached.  (Each
 * statement was already checked in its context while lowering.)
 *
 * A rule B is covered by an earlier rule A of the same layer and
 * direction when every packet B matches, A matches too: A's families,
 * interface, protocols, addresses, ports and states each contain B's
 * (exact reasoning over prefix and port ranges), and A has no limit or
 * connection count (those match only some of the time).  B is then
 * shadowed (A's action differs) or redundant (same action).
 *
 * Checking every earlier rule would be quadratic.  Instead, earlier
 * rules are indexed: a rule whose source is one prefix is filed under
 * that prefix, a source-any rule whose destination is one prefix under
 * that, a rule with neither under its single destination port; the rest
 * go to a short general list.  The rules that can cover B are then found
 * in the index entries of B's enclosing prefixes (at most 129 look-ups)
 * plus the general list.
 */
#include <stdlib.h>
#include <string.h>

#include "compile.h"

/* ------------------------------------------------------------------ */
/* containment                                                         */

/* Does a contain b, for the families in fam?  NULL is any. */
static bool
set_contains(const struct addrset *a, const struct addrset *b, unsigned fam)
{
	size_t i, k;

	if (a == NULL || a == b)
		return true;
	if (b == NULL)
		return false;
	if (fam & FAM_V4) {
		for (i = 0, k = 0; i < b->n4; i++) {
			while (k < a->n4 &&
			    pfx4_last(&a->v4[k]) < b->v4[i].addr)
				k++;
			if (k == a->n4 || a->v4[k].addr > b->v4[i].addr ||
			    pfx4_last(&a->v4[k]) < pfx4_last(&b->v4[i]))
				return false;
		}
	}
	if (fam & FAM_V6) {
		for (i = 0, k = 0; i < b->n6; i++) {
			while (k < a->n6 &&
			    pfx6_last(&a->v6[k]) < pfx6_first(&b->v6[i]))
				k++;
			if (k == a->n6 ||
			    pfx6_first(&a->v6[k]) > pfx6_first(&b->v6[i]) ||
			    pfx6_last(&a->v6[k]) < pfx6_last(&b->v6[i]))
				return false;
		}
	}
	return true;
}

static bool
ports_contain(const struct portset *a, const struct portset *b)
{
	size_t i, k = 0;

	if (a->n == 0)
		return true;
	if (b->n == 0)
		return false;
	for (i = 0; i < b->n; i++) {
		while (k < a->n && a->r[k].hi < b->r[i].lo)
			k++;
		if (k == a->n || a->r[k].lo > b->r[i].lo ||
		    a->r[k].hi < b->r[i].hi)
			return false;
	}
	return true;
}

static bool
covers(const struct rule *a, const struct rule *b)
{
	if (a->limit.present || a->conn.present)
		return false;
	if ((a->families & b->families) != b->families)
		return false;
	if (a->iface != NULL && (b->iface == NULL ||
	    strcmp(a->iface, b->iface) != 0))
		return false;
	if (a->protos != 0 && (b->protos == 0 ||
	    (b->protos & a->protos) != b->protos))
		return false;
	if (a->states != 0 && (b->states == 0 ||
	    (b->states & a->states) != b->states))
		return false;
	return set_contains(a->src, b->src, b->families) &&
	    set_contains(a->dst, b->dst, b->families) &&
	    ports_contain(&a->sport, &b->sport) &&
	    ports_contain(&a->dport, &b->dport);
}

/* ------------------------------------------------------------------ */
/* the index                                                           */

enum slot {
	SLOT_SRC,		/* single source prefix */
	SLOT_DST,		/* source any, single destination prefix */
	SLOT_PORT,		/* both any, single destination port */
};

struct key {
	u128		addr;
	uint8_t		len;
	uint8_t		fam;
	uint8_t		slot;
};

struct entry {
	struct key	 key;
	size_t		*rules;		/* ascending rule indices */
	size_t		 n;
	struct entry	*next;
};

struct index {
	struct entry	**tab;
	size_t		  size;
	size_t		 *general;
	size_t		  ngeneral;
	struct entry	 *all;		/* for freeing */
};

static size_t
key_hash(const struct key *k, size_t size)
{
	uint64_t h = (uint64_t)(k->addr >> 64) * 0x9e3779b97f4a7c15ull;

	h ^= (uint64_t)k->addr * 0xc2b2ae3d27d4eb4full;
	h ^= ((uint64_t)k->len << 8 | (uint64_t)k->fam << 16 |
	    (uint64_t)k->slot << 24) * 0x165667b19e3779f9ull;
	return (size_t)(h ^ (h >> 29)) & (size - 1);
}

static bool
key_eq(const struct key *a, const struct key *b)
{
	return a->addr == b->addr && a->len == b->len && a->fam == b->fam &&
	    a->slot == b->slot;
}

static void
push(size_t **v, size_t *n, size_t x)
{
	if ((*n & (*n - 1)) == 0)
		*v = xrealloc(*v, (*n ? *n * 2 : 2) * sizeof(**v));
	(*v)[(*n)++] = x;
}

static void
index_add(struct index *ix, const struct key *k, size_t rule)
{
	size_t h = key_hash(k, ix->size);
	struct entry *e;

	for (e = ix->tab[h]; e != NULL; e = e->next)
		if (key_eq(&e->key, k))
			break;
	if (e == NULL) {
		e = xcalloc(1, sizeof(*e));
		e->key = *k;
		e->next = ix->tab[h];
		ix->tab[h] = e;
	}
	push(&e->rules, &e->n, rule);
}

static const struct entry *
index_get(const struct index *ix, const struct key *k)
{
	const struct entry *e;

	for (e = ix->tab[key_hash(k, ix->size)]; e != NULL; e = e->next)
		if (key_eq(&e->key, k))
			return e;
	return NULL;
}

static void
index_free(struct index *ix)
{
	size_t i;
	struct entry *e, *next;

	for (i = 0; i < ix->size; i++) {
		for (e = ix->tab[i]; e != NULL; e = next) {
			next = e->next;
			free(e->rules);
			free(e);
		}
	}
	free(ix->tab);
	free(ix->general);
}

static bool	hull(const struct addrset *, unsigned, u128 *, unsigned *);

/* Index a rule under the hull of its source (or, with any source, its
 * destination) set, per family.  A rule can only cover a rule whose set
 * lies inside its own, and the hull of that set then lies inside its
 * hull: walk() finds it by looking up the enclosing prefixes of the
 * covered rule's hull.  Multi-prefix sets are indexed too, so 10k rules
 * with small address lists do not all land in the general list. */
static bool
index_hulls(struct index *ix, const struct addrset *s, enum slot slot,
    size_t rule)
{
	struct key k;
	unsigned fam, len;
	u128 addr;
	bool any = false;

	for (fam = FAM_V4; fam <= FAM_V6; fam <<= 1) {
		if (!hull(s, fam, &addr, &len))
			continue;
		memset(&k, 0, sizeof(k));
		k.fam = (uint8_t)fam;
		k.len = (uint8_t)len;
		k.slot = (uint8_t)slot;
		k.addr = addr;
		index_add(ix, &k, rule);
		any = true;
	}
	return any;
}

static void
index_rule(struct index *ix, const struct rule *r)
{
	struct key k;

	memset(&k, 0, sizeof(k));
	if (r->src != NULL) {
		if (index_hulls(ix, r->src, SLOT_SRC, r->id))
			return;
	} else if (r->dst != NULL) {
		if (index_hulls(ix, r->dst, SLOT_DST, r->id))
			return;
	} else if (r->dport.n == 1 && r->dport.r[0].lo == r->dport.r[0].hi) {
		k.slot = SLOT_PORT;
		k.addr = r->dport.r[0].lo;
		index_add(ix, &k, r->id);
		return;
	}
	push(&ix->general, &ix->ngeneral, r->id);
}

/* The smallest prefix (per family) holding every address of a set. */
static bool
hull(const struct addrset *s, unsigned fam, u128 *addr, unsigned *len)
{
	u128 lo, hi, diff;
	unsigned bits = fam == FAM_V4 ? 32 : 128, l;

	if (s == NULL)
		return false;
	if (fam == FAM_V4) {
		if (s->n4 == 0)
			return false;
		lo = s->v4[0].addr;
		hi = pfx4_last(&s->v4[s->n4 - 1]);
	} else {
		if (s->n6 == 0)
			return false;
		lo = pfx6_first(&s->v6[0]);
		hi = pfx6_last(&s->v6[s->n6 - 1]);
	}
	diff = lo ^ hi;
	for (l = bits; diff != 0; l--)
		diff >>= 1;
	/* Ranges not aligned to l still fit in the l-bit prefix of lo. */
	*len = l;
	*addr = l == 0 ? 0 : lo & (~(u128)0 << (bits - l));
	if (fam == FAM_V4)
		*addr &= 0xffffffffu;
	return true;
}

struct best {
	size_t		 idx;
	const struct rule *rule;
};

static void
consider(const struct model *m, const size_t *v, size_t n,
    const struct rule *b, struct best *best)
{
	size_t i;

	for (i = 0; i < n && v[i] < b->id && v[i] < best->idx; i++) {
		const struct rule *a = &m->rules[v[i]];

		if (a->layer == b->layer && a->dir == b->dir && covers(a, b)) {
			best->idx = v[i];
			best->rule = a;
			return;
		}
	}
}

/* Look up every enclosing prefix of a set's hull, per family. */
static void
walk(const struct model *m, const struct index *ix, const struct rule *b,
    const struct addrset *s, enum slot slot, struct best *best)
{
	const struct entry *e;
	struct key k;
	unsigned fam, len, l, bits;
	u128 addr;

	for (fam = FAM_V4; fam <= FAM_V6; fam <<= 1) {
		if (!(b->families & fam))
			continue;
		bits = fam == FAM_V4 ? 32 : 128;
		if (s == NULL) {
			addr = 0;
			len = 0;
		} else if (!hull(s, fam, &addr, &len))
			continue;
		for (l = 0; l <= len; l++) {
			memset(&k, 0, sizeof(k));
			k.fam = (uint8_t)fam;
			k.len = (uint8_t)l;
			k.slot = (uint8_t)slot;
			k.addr = l == 0 ? 0 : addr & (~(u128)0 << (bits - l));
			if (fam == FAM_V4)
				k.addr &= 0xffffffffu;
			if ((e = index_get(ix, &k)) != NULL)
				consider(m, e->rules, e->n, b, best);
		}
	}
}

static void
find_cover(const struct model *m, const struct index *ix,
    const struct rule *b, struct best *best)
{
	const struct entry *e;
	struct key k;
	size_t i;

	walk(m, ix, b, b->src, SLOT_SRC, best);
	walk(m, ix, b, b->dst, SLOT_DST, best);
	for (i = 0; i < b->dport.n && b->dport.n == 1; i++) {
		if (b->dport.r[0].lo != b->dport.r[0].hi)
			break;
		memset(&k, 0, sizeof(k));
		k.slot = SLOT_PORT;
		k.addr = b->dport.r[0].lo;
		if ((e = index_get(ix, &k)) != NULL)
			consider(m, e->rules, e->n, b, best);
	}
	consider(m, ix->general, ix->ngeneral, b, best);
}

/* "allows", "denies", "rejects". */
static const char *
verdict_verb(enum verdict v)
{
	switch (v) {
	case VERDICT_ALLOW:
		return "allows";
	case VERDICT_DENY:
		return "denies";
	case VERDICT_REJECT:
		return "rejects";
	}
	return "decides";
}

static struct loc
loc_of(struct ctx *c, struct srcloc s)
{
	size_t i;

	for (i = 0; i < c->nsources; i++)
		if (strcmp(c->sources[i]->path, s.file) == 0)
			return (struct loc){ (int)i, s.line, s.col, 1 };
	return NOLOC;
}

static void
check_rules(struct ctx *c, const struct model *m)
{
	struct index ix;
	struct best best;
	size_t i, size = 64;

	while (size < m->nrules * 2)
		size <<= 1;
	memset(&ix, 0, sizeof(ix));
	ix.size = size;
	ix.tab = xcalloc(size, sizeof(*ix.tab));
	for (i = 0; i < m->nrules; i++) {
		const struct rule *b = &m->rules[i];

		best.idx = SIZE_MAX;
		best.rule = NULL;
		find_cover(m, &ix, b, &best);
		if (best.rule != NULL) {
			struct loc l = loc_of(c, b->loc);

			l.len = (int)strlen(verdict_name(b->action));
			if (best.rule->action == b->action)
				warning(c, l, "redundant", "redundant rule: "
				    "the rule at %s:%d already %s every "
				    "packet it matches", best.rule->loc.file,
				    best.rule->loc.line,
				    verdict_verb(b->action));
			else
				warning(c, l, "shadowed", "rule never "
				    "matches: the rule at %s:%d %s every "
				    "packet it would match",
				    best.rule->loc.file, best.rule->loc.line,
				    verdict_verb(best.rule->action));
		}
		index_rule(&ix, b);
	}
	index_free(&ix);
}

/* ------------------------------------------------------------------ */
/* privacy lists                                                       */

static const struct privacy_list *sort_list;

static int
cmpitem(const void *x, const void *y)
{
	const struct privacy_item *a = &sort_list->items[*(const size_t *)x];
	const struct privacy_item *b = &sort_list->items[*(const size_t *)y];
	int r;

	if (a->type != b->type)
		return (int)a->type - (int)b->type;
	if (a->value != NULL && b->value != NULL &&
	    (r = strcmp(a->value, b->value)) != 0)
		return r;
	return a->order < b->order ? -1 : a->order > b->order;
}

static bool
mask_covers(unsigned a, unsigned b)
{
	return a == 0 || (b != 0 && (a & b) == b);
}

static void
check_list(struct ctx *c, const struct privacy_list *pl)
{
	size_t i, *idx;
	unsigned all = 0;
	bool allow = false, all_seen = false;
	const struct privacy_item *last = &pl->items[pl->n - 1];

	for (i = 0; i < pl->n; i++) {
		const struct privacy_item *it = &pl->items[i];

		if (it->action == VERDICT_ALLOW)
			allow = true;
		if (all_seen && mask_covers(all, it->stanzas)) {
			warning(c, loc_of(c, it->loc), "unreachable",
			    "unreachable item: an earlier 'all' item of list "
			    "'%s' decides every stanza it would", pl->name);
			continue;
		}
		if (it->type == ITEM_ALL) {
			all = all_seen ? (all == 0 || it->stanzas == 0 ? 0 :
			    all | it->stanzas) : it->stanzas;
			all_seen = true;
		}
	}
	/* Duplicates: same type and value, earlier covering stanzas. */
	idx = xmalloc(pl->n * sizeof(*idx));
	for (i = 0; i < pl->n; i++)
		idx[i] = i;
	sort_list = pl;
	qsort(idx, pl->n, sizeof(*idx), cmpitem);
	for (i = 1; i < pl->n; i++) {
		const struct privacy_item *a = &pl->items[idx[i - 1]];
		const struct privacy_item *b = &pl->items[idx[i]];

		if (a->type == b->type && a->type != ITEM_ALL &&
		    strcmp(a->value, b->value) == 0 &&
		    mask_covers(a->stanzas, b->stanzas))
			warning(c, loc_of(c, b->loc), "unreachable",
			    "unreachable item: '%s' is already decided by "
			    "the item at %s:%d", b->value, a->loc.file,
			    a->loc.line);
	}
	free(idx);
	if (allow && (pl->is_default || strstr(pl->name, "whitelist")) &&
	    !(last->type == ITEM_ALL && last->action == VERDICT_DENY &&
	    last->stanzas == 0))
		warning(c, loc_of(c, pl->loc), "whitelist", "list '%s' is used "
		    "as a whitelist but does not end with 'deny all': "
		    "XEP-0016 then lets everything else through", pl->name);
}

int
check_policy(struct ctx *c, const struct model *m)
{
	size_t i;

	check_rules(c, m);
	for (i = 0; i < m->nlists; i++)
		check_list(c, &m->lists[i]);
	return 0;
}
