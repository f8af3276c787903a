/*
 * expect.c - a policy's own unit tests (expect), and explain.
 *
 *   expect ACTION [in|out|forward] [PROTO] [from A [port P]] [to A
 *       [port P]] [port P] [state S] [on IFACE]         -- a packet
 *   expect ACTION message|iq|presence-in|presence-out from JID
 *       list "NAME" [subscription S] [group G, ...]     -- a stanza
 *   expect ACTION stream [c2s|s2s] from DOMAIN [to DOMAIN] [port P]
 *       [string "bytes seen"]                           -- a stream
 *
 * A packet expect without addresses probes IPv4 (IPv6 for icmpv6) with
 * addresses outside every set of the policy.  A failing expect is an
 * error at the expect that names what decided, with its place.
 */
#include <arpa/inet.h>

#include <string.h>

#include "compile.h"

#define C(x)	(1u << (x))

#define PACKET_CLAUSES	(C(CL_DIR) | C(CL_ON) | C(CL_PROTO) | C(CL_FROM) | \
	C(CL_FROM_PORT) | C(CL_TO) | C(CL_TO_PORT) | C(CL_PORT) | C(CL_STATE))
#define STANZA_CLAUSES	(C(CL_KIND) | C(CL_FROM) | C(CL_LIST) | \
	C(CL_SUBSCRIPTION) | C(CL_GROUP))
#define STREAM_CLAUSES	(C(CL_KIND) | C(CL_FROM) | C(CL_TO) | C(CL_PORT) | \
	C(CL_STRING) | C(CL_C2S) | C(CL_S2S))

enum probe_kind {
	PROBE_PACKET,
	PROBE_STANZA,
	PROBE_STREAM,
};

struct probe {
	enum probe_kind	 kind;
	struct packet	 pk;
	struct stanza	 st;
	const char	*list;
	struct stream	 sm;
};

static bool
clauses_ok(struct ctx *c, const struct clauses *cl, unsigned allowed,
    const char *what)
{
	unsigned k;
	bool ok = true;

	for (k = 0; k < CL_COUNT_; k++) {
		if ((cl->present & C(k)) && !(allowed & C(k))) {
			error(c, cl->loc[k], "'%s' is not allowed in %s",
			    clause_name(k), what);
			ok = false;
		}
	}
	return ok;
}

static struct value *
single(struct ctx *c, struct values *vs, const char *what)
{
	if (vs == NULL)
		return NULL;
	if (vs->n != 1 || vs->v[0]->kind == VAL_REF) {
		error(c, vs->loc, "an expect names one %s, not a list or a "
		    "definition", what);
		return NULL;
	}
	return vs->v[0];
}

static bool
one_addr(struct ctx *c, struct values *vs, unsigned *fam, u128 *out,
    bool *has)
{
	struct value *v = single(c, vs, "address");
	unsigned char b[16];
	struct in_addr a4;
	int i;

	if (vs == NULL)
		return true;
	if (v == NULL)
		return false;
	if (inet_pton(AF_INET, v->text, &a4) == 1) {
		if (*fam == FAM_V6) {
			error(c, v->loc, "an expect mixes IPv4 and IPv6");
			return false;
		}
		*fam = FAM_V4;
		*out = ntohl(a4.s_addr);
	} else if (inet_pton(AF_INET6, v->text, b) == 1) {
		if (*fam == FAM_V4) {
			error(c, v->loc, "an expect mixes IPv4 and IPv6");
			return false;
		}
		*fam = FAM_V6;
		*out = 0;
		for (i = 0; i < 16; i++)
			*out = (*out << 8) | b[i];
	} else {
		error(c, v->loc, "'%s' is not a single IPv4 or IPv6 address",
		    v->text);
		return false;
	}
	*has = true;
	return true;
}

static bool
one_port(struct program *p, struct values *vs, uint16_t *out)
{
	struct portset ps = { 0, NULL };
	struct value *v = single(p->ctx, vs, "port");

	if (vs == NULL)
		return true;
	if (v == NULL || port_eval(p, vs, &ps) != 0)
		return false;
	if (ps.n != 1 || ps.r[0].lo != ps.r[0].hi) {
		error(p->ctx, v->loc, "an expect names one port, not a range");
		return false;
	}
	*out = ps.r[0].lo;
	return true;
}

static bool
packet_probe(struct program *p, const struct clauses *cl, struct packet *pk)
{
	struct ctx *c = p->ctx;
	unsigned fam = 0;
	bool ok = true;

	memset(pk, 0, sizeof(*pk));
	if (!clauses_ok(c, cl, PACKET_CLAUSES, "a packet expect"))
		return false;
	pk->dir = cl->dir < 0 ? DIR_IN : (enum direction)cl->dir;
	if (__builtin_popcount(cl->protos) > 1) {
		error(c, cl->loc[CL_PROTO], "an expect names one protocol");
		ok = false;
	}
	pk->proto = cl->protos;
	ok &= one_addr(c, cl->vals[CL_FROM], &fam, &pk->src, &pk->has_src);
	ok &= one_addr(c, cl->vals[CL_TO], &fam, &pk->dst, &pk->has_dst);
	if (fam == 0)
		fam = pk->proto == PROTO_ICMPV6 ? FAM_V6 : FAM_V4;
	if ((pk->proto == PROTO_ICMP && fam == FAM_V6) ||
	    (pk->proto == PROTO_ICMPV6 && fam == FAM_V4)) {
		error(c, cl->loc[CL_PROTO], "protocol does not fit the "
		    "address family");
		ok = false;
	}
	pk->family = fam;
	ok &= one_port(p, cl->vals[CL_FROM_PORT], &pk->sport);
	ok &= one_port(p, cl->vals[CL_TO_PORT], &pk->dport);
	ok &= one_port(p, cl->vals[CL_PORT], &pk->dport);
	if ((pk->sport || pk->dport) && pk->proto == 0)
		pk->proto = PROTO_TCP;
	if ((pk->sport || pk->dport) && !(pk->proto & (PROTO_TCP |
	    PROTO_UDP))) {
		error(c, cl->loc[CL_PROTO], "ports need tcp or udp");
		ok = false;
	}
	pk->state = CT_NEW;
	if (cl->vals[CL_STATE] != NULL) {
		struct value *v = single(c, cl->vals[CL_STATE], "state");

		if (v == NULL)
			return false;
		if ((pk->state = flag_lookup(state_flags, 5, v->text)) == 0) {
			error(c, v->loc, "unknown connection state '%s'",
			    v->text);
			ok = false;
		}
	}
	if (cl->val[CL_ON] != NULL)
		pk->iface = cl->val[CL_ON]->text;
	return ok;
}

static bool
stanza_probe(struct program *p, const struct clauses *cl, const char *kind,
    struct probe *pr)
{
	struct ctx *c = p->ctx;
	struct value *v;
	struct values *g;
	size_t i;

	if (!clauses_ok(c, cl, STANZA_CLAUSES, "a stanza expect"))
		return false;
	pr->kind = PROBE_STANZA;
	pr->st.kind = flag_lookup(stanza_flags, 4, kind);
	if (cl->val[CL_LIST] == NULL) {
		error(c, cl->loc[CL_KIND], "a stanza expect names the list: "
		    "list \"NAME\"");
		return false;
	}
	pr->list = cl->val[CL_LIST]->text;
	if ((v = single(c, cl->vals[CL_FROM], "JID")) == NULL) {
		if (cl->vals[CL_FROM] == NULL)
			error(c, cl->loc[CL_KIND], "a stanza expect needs "
			    "'from JID'");
		return false;
	}
	if ((pr->st.from = jid_normalise(c, v->text, v->loc, false)) == NULL)
		return false;
	if (cl->vals[CL_SUBSCRIPTION] != NULL) {
		if ((v = single(c, cl->vals[CL_SUBSCRIPTION],
		    "subscription")) == NULL)
			return false;
		pr->st.subscription = v->text;
	}
	if ((g = cl->vals[CL_GROUP]) != NULL) {
		pr->st.groups = arena_alloc(&c->arena, g->n *
		    sizeof(*pr->st.groups));
		for (i = 0; i < g->n; i++)
			pr->st.groups[i] = g->v[i]->text;
		pr->st.ngroups = g->n;
	}
	return true;
}

static bool
stream_probe(struct program *p, const struct clauses *cl, struct probe *pr)
{
	struct ctx *c = p->ctx;
	struct value *v;

	if (!clauses_ok(c, cl, STREAM_CLAUSES, "a stream expect"))
		return false;
	pr->kind = PROBE_STREAM;
	pr->sm.kind = (cl->present & C(CL_C2S)) ? INSPECT_C2S :
	    (cl->present & C(CL_S2S)) ? INSPECT_S2S : -1;
	if (cl->vals[CL_FROM] != NULL) {
		if ((v = single(c, cl->vals[CL_FROM], "domain")) == NULL ||
		    (pr->sm.from = jid_normalise(c, v->text, v->loc,
		    true)) == NULL)
			return false;
	}
	if (cl->vals[CL_TO] != NULL) {
		if ((v = single(c, cl->vals[CL_TO], "domain")) == NULL ||
		    (pr->sm.to = jid_normalise(c, v->text, v->loc,
		    true)) == NULL)
			return false;
	}
	if (!one_port(p, cl->vals[CL_PORT], &pr->sm.port))
		return false;
	if (cl->val[CL_STRING] != NULL)
		pr->sm.payload = cl->val[CL_STRING]->text;
	return true;
}

static bool
make_probe(struct program *p, struct stmt *s, struct probe *pr)
{
	struct clauses *cl = s->u.rule.cl;
	struct value *k = cl->val[CL_KIND];

	memset(pr, 0, sizeof(*pr));
	if (k == NULL) {
		pr->kind = PROBE_PACKET;
		return packet_probe(p, cl, &pr->pk);
	}
	if (strcmp(k->text, "stream") == 0)
		return stream_probe(p, cl, pr);
	if (flag_lookup(stanza_flags, 4, k->text) != 0)
		return stanza_probe(p, cl, k->text, pr);
	error(p->ctx, k->loc, "unknown expect kind '%s' (a packet, message, "
	    "iq, presence-in, presence-out or stream)", k->text);
	return false;
}

/* Run a probe; returns -1 (error reported at `at') if nothing applies. */
static int
run_probe(struct ctx *c, const struct model *m, struct probe *pr,
    struct decision *d, struct loc at)
{
	switch (pr->kind) {
	case PROBE_PACKET:
		eval_packet(m, &pr->pk, d);
		return 0;
	case PROBE_STANZA:
		if (eval_stanza(m, pr->list, &pr->st, d) != 0) {
			error(c, at, "no privacy list named '%s'", pr->list);
			return -1;
		}
		return 0;
	case PROBE_STREAM:
		if (eval_stream(m, &pr->sm, d) != 0) {
			error(c, at, "no inspect block applies to this stream");
			return -1;
		}
		return 0;
	}
	return -1;
}

/* "the rule at f:l:c (transport layer)" and the like. */
static const char *
decided_by(struct ctx *c, const struct model *m, const struct decision *d)
{
	switch (d->by) {
	case BY_RULE:
		return arena_printf(&c->arena, "the rule at %s:%d:%d",
		    d->loc.file, d->loc.line, d->loc.col);
	case BY_DEFAULT:
		if (d->loc.file == NULL)
			return arena_printf(&c->arena, "the built-in default "
			    "of the %s layer", layer_name(d->layer));
		return arena_printf(&c->arena, "the default at %s:%d:%d",
		    d->loc.file, d->loc.line, d->loc.col);
	case BY_PRELUDE:
		return arena_printf(&c->arena, "the prelude: %s", d->why);
	case BY_NOTHING:
		return arena_printf(&c->arena, "no item of the list at "
		    "%s:%d (XEP-0016 then allows)", d->loc.file, d->loc.line);
	}
	(void)m;
	return "?";
}

int
expect_run(struct program *p, const struct model *m)
{
	struct ctx *c = p->ctx;
	struct decision d;
	struct probe pr;
	size_t i;
	int before = c->nerrors;

	for (i = 0; i < p->nexpects; i++) {
		struct stmt *s = p->expects[i];

		if (!make_probe(p, s, &pr))
			continue;
		if (run_probe(c, m, &pr, &d, s->loc) != 0)
			continue;
		if ((int)d.verdict != s->u.rule.action)
			error(c, s->u.rule.action_loc, "expect failed: "
			    "expected %s, but %s decides %s",
			    verdict_name((enum verdict)s->u.rule.action),
			    decided_by(c, m, &d), verdict_name(d.verdict));
	}
	return c->nerrors - before;
}

/*
 * The packet of expect i, for tools that replay a policy's expects (the
 * differential kernel tests): false when it is not a well-formed packet
 * expect.  *want is the expected action, *at where the expect is.
 */
bool
expect_packet(struct program *p, size_t i, struct packet *pk,
    enum verdict *want, struct srcloc *at)
{
	struct stmt *s;
	struct probe pr;

	if (i >= p->nexpects)
		return false;
	s = p->expects[i];
	if (s->u.rule.cl->val[CL_KIND] != NULL || !make_probe(p, s, &pr) ||
	    pr.kind != PROBE_PACKET)
		return false;
	*pk = pr.pk;
	*want = (enum verdict)s->u.rule.action;
	*at = srcloc_of(p->ctx, s->loc);
	return true;
}

/* Print the source line a srcloc points at, if the ctx has it. */
static void
print_src(struct ctx *c, FILE *out, struct srcloc l)
{
	size_t i, n;
	const char *line;

	if (l.file == NULL)
		return;
	for (i = 0; i < c->nsources; i++) {
		if (strcmp(c->sources[i]->path, l.file) == 0) {
			line = source_line(c->sources[i], l.line, &n);
			fprintf(out, "    %.*s\n", (int)(n > 200 ? 200 : n),
			    line);
			return;
		}
	}
}

int
explain(struct ctx *c, const struct model *m, const char *probe, FILE *out)
{
	struct program p;
	struct stmt *s = NULL;
	struct decision d;
	struct probe pr;
	const char *text;
	int file, errs;

	memset(&p, 0, sizeof(p));
	p.ctx = c;
	text = arena_printf(&c->arena, "expect allow %s\n", probe);
	file = source_add_text(c, "<probe>", text, strlen(text));
	errs = parse_source(c, file, &s);
	if (errs != 0 || s == NULL || s->kind != ST_EXPECT || s->next != NULL) {
		if (errs == 0)
			error(c, NOLOC, "the probe must be one packet, stanza "
			    "or stream");
		return 1;
	}
	if (!make_probe(&p, s, &pr) || run_probe(c, m, &pr, &d, s->loc) != 0)
		return 1;
	fprintf(out, "%s\n", verdict_name(d.verdict));
	fprintf(out, "  decided by %s\n", decided_by(c, m, &d));
	if (d.by == BY_RULE || (d.by == BY_DEFAULT && d.loc.file != NULL))
		print_src(c, out, d.loc);
	if (d.by == BY_RULE && d.rule != NULL)
		fprintf(out, "  in the %s layer, direction %s; first matching "
		    "rule of the layer decides\n", layer_name(d.layer),
		    direction_name(d.rule->dir));
	return 0;
}
