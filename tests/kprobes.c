/*
 * kprobes.c - the probe generator of the differential kernel tests
 * (tests/suites/kernel.sh).
 *
 *   kprobes POLICY
 *
 * Compiles POLICY with the library and prints a probe set, one item a
 * line, for build/kprobe (the prober) and the suite:
 *
 *   iface NAME                       the server namespace's veth
 *   addr client|server|dest ADDRESS  an address to add to that side
 *   probe ID DIR PROTO SRC SPORT DST DPORT WANT ORIGIN WHERE...
 *   # comment lines (counts, skips)
 *
 * Probes are every packet expect of the policy (made concrete: default
 * addresses and ports where the expect has none) and, for each ip and
 * transport rule, probes at its boundaries: the rule's protocols and the
 * others, inside and just outside each address prefix (first, last, one
 * below, one above; large sets are sampled), each port range (lo-1, lo,
 * hi, hi+1), the rule's direction and the opposite one, IPv4 and IPv6;
 * plus the defaults of each direction.  WANT is the model evaluator's
 * verdict for the probe as a new connection (CT_NEW).  Inbound probes
 * come from the client namespace to the server namespace (where the
 * rules are loaded); outbound probes leave the server to the client;
 * forwarded ones go from the client through the server (a router) to a
 * third namespace, dest.
 *
 * Probes that cannot be realised in the three-namespace setup are
 * skipped and counted: expects on an interface other than the server's
 * end of the client link (the first interface the rules name, else
 * eth0), unusable addresses (loopback, multicast, 0/8, class E,
 * link-local, v4-mapped), an address needed on two sides, states other
 * than new, and more than a few probes decided by a rule with a rate or
 * connection limit (a single probe cannot judge those).
 * With `option established off', the reply must pass the layers too: a
 * probe whose reply the policy does not allow is expected to be dropped;
 * likewise the refusal (TCP reset, ICMP error) of a reject.
 */
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"

#define FAR_IFACE	"xkfar0"	/* the router's end of the far link */
#define DEF_SPORT	40000
#define DEF_DPORT	9999
#define MAX_PROBES	2500
#define PORT_SAMPLE	24	/* ranges of a port set probed */
#define LIMIT_PROBES	2	/* per rule with a rate or conn limit */

enum side { CLIENT, SERVER, DEST };

struct kp {
	struct packet	 pk;
	enum verdict	 want;
	const char	*origin;
	char		 where[256];
};

struct role {
	unsigned	 fam;
	u128		 a;
	enum side	 side;
};

struct gen {
	const struct model	*m;
	const char		*iface;
	struct kp		*v;
	size_t			 n, cap;
	struct role		*roles;
	size_t			 nroles, caproles;
	size_t			*limit_hits;	/* per rule */
	u128			 def[2][3];	/* [fam v4/v6][side] */
	size_t			 sk_iface, sk_unusable, sk_conflict,
				 sk_state, sk_limit, sk_cap, dups, expects;
};

static int
fi(unsigned fam)
{
	return fam == FAM_V4 ? 0 : 1;
}

static void
fmt_addr(unsigned fam, u128 a, char *buf, size_t len)
{
	if (fam == FAM_V4) {
		struct in_addr x;

		x.s_addr = htonl((uint32_t)a);
		inet_ntop(AF_INET, &x, buf, (socklen_t)len);
	} else {
		uint8_t b[16];
		int i;

		for (i = 0; i < 16; i++)
			b[i] = (uint8_t)(a >> (8 * (15 - i)));
		inet_ntop(AF_INET6, b, buf, (socklen_t)len);
	}
}

static bool
usable(unsigned fam, u128 a)
{
	if (fam == FAM_V4) {
		uint32_t x = (uint32_t)a;

		return (x >> 24) != 0 && (x >> 24) != 127 &&
		    (x >> 29) != 7 && (x >> 16) != 0xa9fe;
	}
	if ((a >> 120) == 0xff)				/* multicast */
		return false;
	if ((a >> 118) == (((u128)0xfe80) >> 6))	/* fe80::/10 */
		return false;
	if ((a >> 32) == 0 || (a >> 32) == 0xffff)	/* ::/96, mapped */
		return false;
	return true;
}

static bool
in_set(const struct addrset *s, unsigned fam, u128 a)
{
	size_t i;

	if (s == NULL)
		return false;
	if (fam == FAM_V4) {
		for (i = 0; i < s->n4; i++)
			if ((uint32_t)a >= s->v4[i].addr &&
			    (uint32_t)a <= pfx4_last(&s->v4[i]))
				return true;
	} else {
		for (i = 0; i < s->n6; i++)
			if (a >= pfx6_first(&s->v6[i]) &&
			    a <= pfx6_last(&s->v6[i]))
				return true;
	}
	return false;
}

static bool
in_any_set(const struct model *m, unsigned fam, u128 a)
{
	size_t i;

	for (i = 0; i < m->nsets; i++)
		if (in_set(m->sets[i], fam, a))
			return true;
	return false;
}

/* Default addresses: outside every set of the policy if we can. */
static void
pick_defaults(struct gen *g)
{
	unsigned k;
	int s;

	for (s = 0; s < 3; s++) {
		unsigned host = s == SERVER ? 1 : s == CLIENT ? 2 : 3;

		for (k = 0; k < 200; k++) {
			u128 a = ((u128)(45u << 24 | (k + 1) << 16)) |
			    (u128)host;

			if (!in_any_set(g->m, FAM_V4, a) || k == 199) {
				g->def[0][s] = a;
				break;
			}
		}
		for (k = 0; k < 200; k++) {
			u128 a = ((u128)0x2a0b0000u << 96) |
			    ((u128)(k + 1) << 80) | (u128)host;

			if (!in_any_set(g->m, FAM_V6, a) || k == 199) {
				g->def[1][s] = a;
				break;
			}
		}
	}
}

static const char *
proto_name(unsigned p)
{
	switch (p) {
	case PROTO_TCP:
		return "tcp";
	case PROTO_UDP:
		return "udp";
	case PROTO_ICMP:
		return "icmp";
	case PROTO_ICMPV6:
		return "icmpv6";
	}
	return "?";
}

static struct role *
role_find(struct gen *g, unsigned fam, u128 a)
{
	size_t i;

	for (i = 0; i < g->nroles; i++)
		if (g->roles[i].fam == fam && g->roles[i].a == a)
			return &g->roles[i];
	return NULL;
}

static void
role_add(struct gen *g, unsigned fam, u128 a, enum side s)
{
	if (role_find(g, fam, a) != NULL)
		return;
	if (g->nroles == g->caproles) {
		g->caproles = g->caproles ? 2 * g->caproles : 64;
		g->roles = xrealloc(g->roles, g->caproles *
		    sizeof(*g->roles));
	}
	g->roles[g->nroles].fam = fam;
	g->roles[g->nroles].a = a;
	g->roles[g->nroles].side = s;
	g->nroles++;
}

static void
describe(const struct model *m, const struct decision *d, char *buf,
    size_t len)
{
	switch (d->by) {
	case BY_RULE:
		snprintf(buf, len, "%s:%d (rule, %s layer)", d->loc.file,
		    d->loc.line, layer_name(d->layer));
		break;
	case BY_DEFAULT:
		if (d->loc.file != NULL)
			snprintf(buf, len, "%s:%d (default of the %s layer)",
			    d->loc.file, d->loc.line, layer_name(d->layer));
		else
			snprintf(buf, len, "%s (built-in default of the %s "
			    "layer)", m->source, layer_name(d->layer));
		break;
	default:
		snprintf(buf, len, "%s (prelude: %s)", m->source,
		    d->why != NULL ? d->why : "?");
		break;
	}
}

/*
 * With `established off', the refusal a reject sends (a TCP reset, an
 * ICMP error: conntrack state related) goes through the layers of the
 * other direction like any packet; a refusal to a local sender goes over
 * lo.  The prelude lets ICMP errors through with icmp-essential on.  A
 * refusal the policy does not let out leaves the probe unanswered.
 */
static void
refusal(struct gen *g, struct kp *k)
{
	const struct packet *pk = &k->pk;
	struct packet rp = *pk;
	struct decision rd;
	char w[200];

	if (pk->proto != PROTO_TCP && g->m->prelude.essential_icmp)
		return;
	/* The refusal of a forwarded packet is sent by the router. */
	rp.dir = pk->dir == DIR_OUT ? DIR_IN : DIR_OUT;
	rp.src = pk->dst;
	rp.dst = pk->src;
	rp.sport = pk->dport;
	rp.dport = pk->sport;
	if (pk->proto != PROTO_TCP) {
		rp.proto = pk->family == FAM_V4 ? PROTO_ICMP : PROTO_ICMPV6;
		rp.sport = rp.dport = 0;
	}
	rp.state = CT_RELATED;
	if (pk->dir == DIR_OUT)
		rp.iface = "lo";
	if (pk->dir == DIR_OUT) {
		/* Out through the output hook first, to a local address. */
		rp.dir = DIR_OUT;
		eval_packet(g->m, &rp, &rd);
		if (rd.verdict == VERDICT_ALLOW) {
			rp.dir = DIR_IN;
			eval_packet(g->m, &rp, &rd);
		}
	} else {
		eval_packet(g->m, &rp, &rd);
	}
	if (rd.verdict == VERDICT_ALLOW)
		return;
	describe(g->m, &rd, w, sizeof(w));
	k->want = VERDICT_DENY;
	snprintf(k->where, sizeof(k->where), "refusal %s by %s",
	    verdict_name(rd.verdict), w);
}

static void
add(struct gen *g, const struct packet *in, const char *origin)
{
	struct packet pk = *in;
	enum side ss, ds;
	struct decision d;
	struct role *r;
	size_t i;
	struct kp *k;

	ss = pk.dir == DIR_OUT ? SERVER : CLIENT;
	ds = pk.dir == DIR_IN ? SERVER : pk.dir == DIR_OUT ? CLIENT : DEST;
	if (pk.state != CT_NEW) {
		g->sk_state++;
		return;
	}
	if (!pk.has_src) {
		pk.has_src = true;
		pk.src = g->def[fi(pk.family)][ss];
	}
	if (!pk.has_dst) {
		pk.has_dst = true;
		pk.dst = g->def[fi(pk.family)][ds];
	}
	if (pk.proto == 0)
		pk.proto = PROTO_TCP;
	if (pk.proto & (PROTO_TCP | PROTO_UDP)) {
		if (pk.sport == 0)
			pk.sport = DEF_SPORT;
		if (pk.dport == 0)
			pk.dport = DEF_DPORT;
	} else {
		pk.sport = pk.dport = 0;
	}
	/* The server's end of the client link: in (and forward) in on
	 * it, out out of it.  An expect on another interface is skipped. */
	if (pk.iface != NULL && strcmp(pk.iface, g->iface) != 0) {
		g->sk_iface++;
		return;
	}
	pk.iface = g->iface;
	if (!usable(pk.family, pk.src) || !usable(pk.family, pk.dst) ||
	    pk.src == pk.dst) {
		g->sk_unusable++;
		return;
	}
	if (((r = role_find(g, pk.family, pk.src)) != NULL && r->side != ss) ||
	    ((r = role_find(g, pk.family, pk.dst)) != NULL && r->side != ds)) {
		g->sk_conflict++;
		return;
	}
	for (i = 0; i < g->n; i++) {
		const struct packet *o = &g->v[i].pk;

		if (o->dir == pk.dir && o->family == pk.family &&
		    o->proto == pk.proto && o->src == pk.src &&
		    o->dst == pk.dst && o->sport == pk.sport &&
		    o->dport == pk.dport) {
			g->dups++;
			return;
		}
	}
	if (g->n >= MAX_PROBES) {
		g->sk_cap++;
		return;
	}
	eval_packet(g->m, &pk, &d);
	if (d.by == BY_RULE && d.rule != NULL &&
	    (d.rule->limit.present || d.rule->conn.present) &&
	    ++g->limit_hits[d.rule->id] > LIMIT_PROBES) {
		g->sk_limit++;
		return;
	}
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 256;
		g->v = xrealloc(g->v, g->cap * sizeof(*g->v));
	}
	k = &g->v[g->n++];
	k->pk = pk;
	k->want = d.verdict;
	k->origin = origin;
	describe(g->m, &d, k->where, sizeof(k->where));
	if (d.verdict == VERDICT_REJECT && !g->m->prelude.established)
		refusal(g, k);
	if (d.verdict == VERDICT_ALLOW && !g->m->prelude.established) {
		/* The reply goes through the layers as well. */
		struct packet rp = pk;
		struct decision rd;
		char w[200];

		rp.dir = pk.dir == DIR_IN ? DIR_OUT : pk.dir == DIR_OUT ?
		    DIR_IN : DIR_FORWARD;
		rp.src = pk.dst;
		rp.dst = pk.src;
		rp.sport = pk.dport;
		rp.dport = pk.sport;
		rp.state = CT_ESTABLISHED;
		/* A forwarded reply comes in from the far side. */
		if (pk.dir == DIR_FORWARD)
			rp.iface = FAR_IFACE;
		eval_packet(g->m, &rp, &rd);
		if (rd.verdict != VERDICT_ALLOW) {
			describe(g->m, &rd, w, sizeof(w));
			k->want = VERDICT_DENY;
			snprintf(k->where, sizeof(k->where), "reply %s by %s",
			    verdict_name(rd.verdict), w);
		}
	}
	role_add(g, pk.family, pk.src, ss);
	role_add(g, pk.family, pk.dst, ds);
}

/* Up to 3 sampled prefixes of a set: their first and last addresses. */
static size_t
sample_prefixes(const struct addrset *s, unsigned fam, u128 lo[3],
    u128 hi[3])
{
	size_t n = fam == FAM_V4 ? s->n4 : s->n6, idx[3], k = 0, i;

	if (n == 0)
		return 0;
	if (n <= 3) {
		for (i = 0; i < n; i++)
			idx[k++] = i;
	} else {
		idx[k++] = 0;
		idx[k++] = n / 2;
		idx[k++] = n - 1;
	}
	for (i = 0; i < k; i++) {
		if (fam == FAM_V4) {
			lo[i] = s->v4[idx[i]].addr;
			hi[i] = pfx4_last(&s->v4[idx[i]]);
		} else {
			lo[i] = pfx6_first(&s->v6[idx[i]]);
			hi[i] = pfx6_last(&s->v6[idx[i]]);
		}
	}
	return k;
}

static u128
fam_max(unsigned fam)
{
	return fam == FAM_V4 ? (u128)0xffffffffu : ~(u128)0;
}

/* Probes at the edges of an address set, on the src or dst side. */
static void
addr_edges(struct gen *g, const struct packet *base, const struct addrset *s,
    bool src, const char *origin)
{
	u128 lo[3], hi[3], cand[4];
	size_t n, i, j;
	struct packet pk;

	if (s == NULL)
		return;
	n = sample_prefixes(s, base->family, lo, hi);
	for (i = 0; i < n; i++) {
		cand[0] = lo[i];
		cand[1] = hi[i];
		cand[2] = lo[i] - 1;
		cand[3] = hi[i] + 1;
		for (j = 0; j < 4; j++) {
			if ((j == 2 && lo[i] == 0) ||
			    (j == 3 && hi[i] == fam_max(base->family)))
				continue;
			pk = *base;
			if (src)
				pk.src = cand[j];
			else
				pk.dst = cand[j];
			add(g, &pk, origin);
		}
	}
}

static void
port_edges(struct gen *g, const struct packet *base, const struct portset *ps,
    bool src, const char *origin)
{
	size_t idx[PORT_SAMPLE], k = 0, i, j;
	struct packet pk;

	/* Port sets are short: all ranges, or an even sample of long ones
	 * (a backend may split them, e.g. into multiport matches). */
	if (ps->n <= PORT_SAMPLE) {
		for (i = 0; i < ps->n; i++)
			idx[k++] = i;
	} else {
		for (i = 0; i < PORT_SAMPLE; i++)
			idx[k++] = i * (ps->n - 1) / (PORT_SAMPLE - 1);
	}
	for (i = 0; i < k; i++) {
		long c[4];

		c[0] = (long)ps->r[idx[i]].lo - 1;
		c[1] = ps->r[idx[i]].lo;
		c[2] = ps->r[idx[i]].hi;
		c[3] = (long)ps->r[idx[i]].hi + 1;
		for (j = 0; j < 4; j++) {
			if (c[j] < 1 || c[j] > 65535)
				continue;
			pk = *base;
			if (src)
				pk.sport = (uint16_t)c[j];
			else
				pk.dport = (uint16_t)c[j];
			add(g, &pk, origin);
		}
	}
}

static u128
first_in(const struct addrset *s, unsigned fam)
{
	if (fam == FAM_V4)
		return s->v4[0].addr;
	return pfx6_first(&s->v6[0]);
}

static void
rule_probes(struct gen *g, const struct rule *r)
{
	static const unsigned fams[2] = { FAM_V4, FAM_V6 };
	int f, p;

	for (f = 0; f < 2; f++) {
		unsigned fam = fams[f];
		unsigned protos[3] = { PROTO_TCP, PROTO_UDP,
		    fam == FAM_V4 ? PROTO_ICMP : PROTO_ICMPV6 };

		if (!(r->families & fam))
			continue;
		if ((r->src != NULL && (fam == FAM_V4 ? r->src->n4 :
		    r->src->n6) == 0) || (r->dst != NULL && (fam == FAM_V4 ?
		    r->dst->n4 : r->dst->n6) == 0))
			continue;
		for (p = 0; p < 3; p++) {
			struct packet b, mirror;
			bool ports = protos[p] != PROTO_ICMP &&
			    protos[p] != PROTO_ICMPV6;
			bool own = r->protos == 0 || (r->protos & protos[p]);

			memset(&b, 0, sizeof(b));
			b.dir = r->dir;
			b.family = fam;
			b.proto = protos[p];
			b.state = CT_NEW;
			if (r->src != NULL) {
				b.has_src = true;
				b.src = first_in(r->src, fam);
			}
			if (r->dst != NULL) {
				b.has_dst = true;
				b.dst = first_in(r->dst, fam);
			}
			if (ports) {
				b.sport = r->sport.n ? r->sport.r[0].lo :
				    DEF_SPORT;
				b.dport = r->dport.n ? r->dport.r[0].lo :
				    DEF_DPORT;
			}
			add(g, &b, "rule");
			/* The opposite direction, same addresses' roles;
			 * forward rules: the same packet coming in. */
			mirror = b;
			if (r->dir == DIR_FORWARD) {
				mirror.dir = DIR_IN;
				mirror.has_dst = false;
				add(g, &mirror, "rule-mirror");
				mirror.has_dst = b.has_dst;
				mirror.dir = DIR_FORWARD;
			}
			mirror.dir = r->dir == DIR_OUT ? DIR_IN : DIR_OUT;
			mirror.has_src = b.has_dst;
			mirror.src = b.dst;
			mirror.has_dst = b.has_src;
			mirror.dst = b.src;
			add(g, &mirror, "rule-mirror");
			if (!own)
				continue;
			/* Address edges with the first of the rule's own
			 * protocols, port edges with each of them. */
			if (r->protos == 0 ? protos[p] == PROTO_TCP :
			    (unsigned)__builtin_ctz(r->protos & (protos[0] |
			    protos[1] | protos[2])) ==
			    (unsigned)__builtin_ctz(protos[p])) {
				addr_edges(g, &b, r->src, true, "edge-src");
				addr_edges(g, &b, r->dst, false, "edge-dst");
			}
			if (ports) {
				port_edges(g, &b, &r->sport, true,
				    "edge-sport");
				port_edges(g, &b, &r->dport, false,
				    "edge-dport");
			}
		}
	}
}

static const char *
choose_iface(const struct model *m)
{
	static char buf[32];
	size_t i, n;

	for (i = 0; i < m->nrules; i++) {
		const char *s = m->rules[i].iface;

		if (s == NULL)
			continue;
		n = strlen(s);
		if (n > 0 && s[n - 1] == '+') {
			snprintf(buf, sizeof(buf), "%.*s0", (int)(n - 1), s);
			if (strlen(buf) > 15)
				continue;
			return buf;
		}
		return s;
	}
	return "eth0";
}

int
main(int argc, char **argv)
{
	static const unsigned fams[2] = { FAM_V4, FAM_V6 };
	struct compile_opts o;
	struct program prog;
	struct model m;
	struct ctx c;
	struct gen g;
	size_t i;
	int d, f, p, rc;

	if (argc != 2) {
		fprintf(stderr, "usage: kprobes POLICY\n");
		return 2;
	}
	ctx_init(&c);
	memset(&o, 0, sizeof(o));
	memset(&prog, 0, sizeof(prog));
	rc = compile_policy(&c, argv[1], &o, &m, &prog);
	if (rc != 0) {
		diag_print(&c, stderr, DIAG_TEXT, false);
		ctx_free(&c);
		return 1;
	}
	memset(&g, 0, sizeof(g));
	g.m = &m;
	g.iface = choose_iface(&m);
	g.limit_hits = xcalloc(m.nrules + 1, sizeof(*g.limit_hits));
	pick_defaults(&g);

	for (i = 0; i < prog.nexpects; i++) {
		struct packet pk;
		enum verdict want;
		struct srcloc at;
		size_t before = g.n;

		if (!expect_packet(&prog, i, &pk, &want, &at))
			continue;
		g.expects++;
		add(&g, &pk, "expect");
		if (g.n > before)
			snprintf(g.v[before].where + strlen(g.v[before].where),
			    sizeof(g.v[before].where) -
			    strlen(g.v[before].where), " [expect %s:%d]",
			    at.file, at.line);
	}
	for (i = 0; i < m.nrules; i++)
		rule_probes(&g, &m.rules[i]);
	for (d = DIR_IN; d <= DIR_FORWARD; d++)
		for (f = 0; f < 2; f++)
			for (p = 0; p < 3; p++) {
				struct packet pk;
				unsigned pr[3] = { PROTO_TCP, PROTO_UDP,
				    f == 0 ? PROTO_ICMP : PROTO_ICMPV6 };

				memset(&pk, 0, sizeof(pk));
				pk.dir = (enum direction)d;
				pk.family = fams[f];
				pk.proto = pr[p];
				pk.state = CT_NEW;
				add(&g, &pk, "default");
			}

	printf("# policy %s\n", argv[1]);
	printf("iface %s\n", g.iface);
	for (i = 0; i < g.nroles; i++) {
		char b[64];

		fmt_addr(g.roles[i].fam, g.roles[i].a, b, sizeof(b));
		printf("addr %s %s\n", g.roles[i].side == CLIENT ? "client" :
		    g.roles[i].side == SERVER ? "server" : "dest", b);
	}
	for (i = 0; i < g.n; i++) {
		const struct kp *k = &g.v[i];
		char s[64], t[64];

		fmt_addr(k->pk.family, k->pk.src, s, sizeof(s));
		fmt_addr(k->pk.family, k->pk.dst, t, sizeof(t));
		printf("probe %zu %s %s %s %u %s %u %s %s %s\n", i,
		    direction_name(k->pk.dir), proto_name(k->pk.proto), s,
		    k->pk.sport, t, k->pk.dport, verdict_name(k->want),
		    k->origin, k->where);
	}
	printf("# %zu probes (%zu packet expects); skipped: %zu on another "
	    "interface, %zu unusable address, %zu address needed on both sides, "
	    "%zu state not new, %zu decided by a limit rule, %zu over the "
	    "cap; %zu duplicates\n", g.n, g.expects, g.sk_iface,
	    g.sk_unusable, g.sk_conflict, g.sk_state, g.sk_limit, g.sk_cap,
	    g.dups);
	free(g.v);
	free(g.roles);
	free(g.limit_hits);
	ctx_free(&c);
	return 0;
}
