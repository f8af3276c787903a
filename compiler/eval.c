/*
 * eval.c - the evaluator: SPEC "Semantics" as code.
 *
 * It decides a packet, a stanza or a stream against the model exactly as
 * every artefact must, and says what decided.  It runs the policy's
 * expect tests during check, answers explain, and is the oracle of the
 * differential traffic tests of the kernel backends.
 *
 * Stateful matches are judged for a single probe: a plain `limit' is
 * under its rate (the rule matches), `limit over' and `conn over' are not
 * exceeded (the rule does not match).
 */
#include <string.h>

#include "compile.h"

static bool
in_set4(const struct addrset *s, uint32_t a)
{
	size_t lo = 0, hi = s->n4;

	/* Prefixes are sorted and disjoint: binary search. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pfx4 *p = &s->v4[mid];

		if (a < p->addr)
			hi = mid;
		else if (a > pfx4_last(p))
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static bool
in_set6(const struct addrset *s, u128 a)
{
	size_t lo = 0, hi = s->n6;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct pfx6 *p = &s->v6[mid];

		if (a < pfx6_first(p))
			hi = mid;
		else if (a > pfx6_last(p))
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

static bool
addr_matches(const struct addrset *s, bool has, unsigned fam, u128 a)
{
	if (s == NULL)
		return true;
	if (!has)
		return false;	/* unspecified: outside every set */
	return fam == FAM_V4 ? in_set4(s, (uint32_t)a) : in_set6(s, a);
}

static bool
port_matches(const struct portset *ps, uint16_t port)
{
	size_t i;

	if (ps->n == 0)
		return true;
	for (i = 0; i < ps->n; i++)
		if (port >= ps->r[i].lo && port <= ps->r[i].hi)
			return true;
	return false;
}

static bool
iface_matches(const char *pat, const char *iface)
{
	size_t n = strlen(pat);

	if (iface == NULL)
		return false;
	if (n > 0 && pat[n - 1] == '+')
		return strncmp(pat, iface, n - 1) == 0;
	return strcmp(pat, iface) == 0;
}

bool
rule_matches(const struct rule *r, const struct packet *pk)
{
	if (r->dir != pk->dir || !(r->families & pk->family))
		return false;
	if (r->iface != NULL && !iface_matches(r->iface, pk->iface))
		return false;
	if (r->protos != 0 && !(r->protos & pk->proto))
		return false;
	if (!addr_matches(r->src, pk->has_src, pk->family, pk->src))
		return false;
	if (!addr_matches(r->dst, pk->has_dst, pk->family, pk->dst))
		return false;
	if (r->sport.n > 0 && (pk->sport == 0 ||
	    !port_matches(&r->sport, pk->sport)))
		return false;
	if (r->dport.n > 0 && (pk->dport == 0 ||
	    !port_matches(&r->dport, pk->dport)))
		return false;
	if (r->states != 0 && !(r->states & pk->state))
		return false;
	if (r->limit.present && r->limit.over)
		return false;
	if (r->conn.present)
		return false;
	return true;
}

static bool
is_loopback(const struct packet *pk)
{
	if (pk->iface != NULL && strcmp(pk->iface, "lo") == 0)
		return true;
	if (pk->family == FAM_V4)
		return (pk->has_src && ((uint32_t)pk->src >> 24) == 127) ||
		    (pk->has_dst && ((uint32_t)pk->dst >> 24) == 127);
	return (pk->has_src && pk->src == 1) || (pk->has_dst && pk->dst == 1);
}

void
eval_packet(const struct model *m, const struct packet *pk,
    struct decision *d)
{
	const struct prelude *pre = &m->prelude;
	size_t i;
	int l;

	memset(d, 0, sizeof(*d));
	d->by = BY_PRELUDE;
	if (pre->loopback && is_loopback(pk)) {
		d->verdict = VERDICT_ALLOW;
		d->why = "loopback traffic is allowed (option loopback)";
		return;
	}
	if (pre->drop_invalid && pk->state == CT_INVALID) {
		d->verdict = VERDICT_DENY;
		d->why = "invalid packets are dropped (option drop-invalid)";
		return;
	}
	if (pre->established && (pk->state == CT_ESTABLISHED ||
	    pk->state == CT_RELATED)) {
		d->verdict = VERDICT_ALLOW;
		d->why = "established and related traffic is allowed "
		    "(option established)";
		return;
	}
	for (l = 0; l < LAYER_COUNT; l++) {
		const struct rule *hit = NULL;

		for (i = 0; i < m->nrules; i++) {
			const struct rule *r = &m->rules[i];

			if (r->layer == (enum layer)l && rule_matches(r, pk)) {
				hit = r;
				break;
			}
		}
		if (hit != NULL) {
			d->by = BY_RULE;
			d->rule = hit;
			d->layer = (enum layer)l;
			d->loc = hit->loc;
			d->verdict = hit->action;
		} else {
			d->by = BY_DEFAULT;
			d->rule = NULL;
			d->layer = (enum layer)l;
			d->loc = m->defaults[l].loc[pk->dir];
			d->verdict = m->defaults[l].action[pk->dir];
		}
		if (d->verdict != VERDICT_ALLOW)
			return;
	}
}

/* Returns -1 when the list does not exist. */
int
eval_stanza(const struct model *m, const char *list, const struct stanza *st,
    struct decision *d)
{
	const struct privacy_list *pl = NULL;
	size_t i, g;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < m->nlists; i++)
		if (strcmp(m->lists[i].name, list) == 0)
			pl = &m->lists[i];
	if (pl == NULL)
		return -1;
	for (i = 0; i < pl->n; i++) {
		const struct privacy_item *it = &pl->items[i];
		bool hit = false;

		if (it->stanzas != 0 && !(it->stanzas & st->kind))
			continue;
		switch (it->type) {
		case ITEM_JID:
			hit = st->from != NULL && jid_match(it->value,
			    st->from);
			break;
		case ITEM_GROUP:
			for (g = 0; g < st->ngroups; g++)
				if (strcmp(st->groups[g], it->value) == 0)
					hit = true;
			break;
		case ITEM_SUBSCRIPTION:
			hit = strcmp(it->value, st->subscription != NULL ?
			    st->subscription : "none") == 0;
			break;
		case ITEM_ALL:
			hit = true;
			break;
		}
		if (hit) {
			d->by = BY_RULE;
			d->verdict = it->action;
			d->loc = it->loc;
			return 0;
		}
	}
	d->by = BY_NOTHING;
	d->verdict = VERDICT_ALLOW;
	d->loc = pl->loc;
	d->why = "no item matched: XEP-0016 falls through to the server, "
	    "which allows";
	return 0;
}

static bool
inspect_applies(const struct inspect *in, const struct stream *s)
{
	if (s->port != 0 && !port_matches(&in->ports, s->port))
		return false;
	if (s->kind >= 0 && in->kind != INSPECT_BOTH &&
	    (int)in->kind != s->kind)
		return false;
	return true;
}

/* Returns -1 when no inspect block applies. */
int
eval_stream(const struct model *m, const struct stream *s,
    struct decision *d)
{
	const struct inspect *in = NULL;
	size_t i, k;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < m->ninspect; i++) {
		if (inspect_applies(&m->inspects[i], s)) {
			in = &m->inspects[i];
			break;
		}
	}
	if (in == NULL)
		return -1;
	for (i = 0; i < in->nrules; i++) {
		const struct inspect_rule *r = &in->rules[i];
		bool hit = false;

		if (r->match == IMATCH_STRING)
			hit = s->payload != NULL &&
			    strstr(s->payload, r->string) != NULL;
		else
			for (k = 0; k < r->ndomains && !hit; k++)
				hit = (s->from != NULL && domain_match(
				    r->domains[k], s->from)) ||
				    (s->to != NULL && domain_match(
				    r->domains[k], s->to));
		if (hit) {
			d->by = BY_RULE;
			d->verdict = r->action;
			d->loc = r->loc;
			return 0;
		}
	}
	d->by = BY_DEFAULT;
	d->verdict = in->def;
	d->loc = in->def_loc.file != NULL ? in->def_loc : in->loc;
	return 0;
}
