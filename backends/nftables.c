/*
 * nftables.c - the "nftables" backend: an nft script (nft -f) that
 * replaces table inet TABLE, and only it, in one transaction:
 *
 *	table inet T {}		create it if missing (no-op otherwise),
 *	delete table inet T	so that this delete cannot fail,
 *	table inet T { ... }	the policy's table.
 *
 * nft -f applies a file atomically, so the running table is replaced
 * whole or not at all; other tables are never touched (no flush
 * ruleset), and loading the file twice gives the same table.
 *
 * The table is exactly the one "xmppfwc apply" builds through libnftnl
 * (nlbuild.c), so "xmppfwc diff" finds no difference after nft -f:
 *
 *	base chains input/output/forward: [inspect], prelude, goto ip_DIR
 *	ip_DIR:        rules of the ip layer; allow = goto transport_DIR
 *	transport_DIR: rules of the transport layer; allow = accept
 *	refuse:        tcp reset for TCP, ICMP(v6) port unreachable else
 *
 * Names and policy text go through kernel.c only: the table name
 * (kern_table), set names (kern_set_name), interface names (kern_iface),
 * rule comments "file:line[ text]" (kern_rule_comment), log prefixes
 * (kern_log_prefix) and locations (kern_where).  The filter there leaves
 * nothing that can end an nft string or start a variable or a comment,
 * so every string is written in double quotes as it comes.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>

#include "backend.h"
#include "kernel.h"

#define NFT_COMMENT_MAX	KERN_NFT_COMMENT_MAX
#define NFT_LOGPFX_MAX	KERN_NFT_LOGPFX_MAX
#define ELEMS_PER_LINE	4

static const char *const hook_name[DIR_COUNT] = {
	"input", "output", "forward"
};

struct nt {
	const struct model	*m;
	FILE			*out;
	FILE			*err;
	const char		*table;
	int			 nerr;
};

static void	nt_error(struct nt *, const struct srcloc *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

static void
nt_error(struct nt *k, const struct srcloc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kern_verror(k->err, k->m, loc, fmt, ap);
	va_end(ap);
	k->nerr++;
}

/* ------------------------------------------------------------------ */
/* Addresses and ports.                                                */

/* An IPv4 prefix, fast (1M-entry sets): "a.b.c.d" or "a.b.c.d/len". */
static void
put_pfx4(FILE *out, const struct pfx4 *p)
{
	char buf[24], *o = buf;
	int i;
	unsigned v;

	for (i = 3; i >= 0; i--) {
		v = (p->addr >> (i * 8)) & 0xff;
		if (v >= 100)
			*o++ = (char)('0' + v / 100);
		if (v >= 10)
			*o++ = (char)('0' + v / 10 % 10);
		*o++ = (char)('0' + v % 10);
		if (i > 0)
			*o++ = '.';
	}
	if (p->len < 32) {
		*o++ = '/';
		if (p->len >= 10)
			*o++ = (char)('0' + p->len / 10);
		*o++ = (char)('0' + p->len % 10);
	}
	*o = '\0';
	fputs(buf, out);
}

static void
put_pfx6(FILE *out, const struct pfx6 *p)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(AF_INET6, p->addr, a, sizeof(a));
	fputs(a, out);
	if (p->len < 128)
		fprintf(out, "/%u", p->len);
}

static void
put_pfx(FILE *out, const struct addrset *s, unsigned fam, size_t i)
{
	if (fam == FAM_V4)
		put_pfx4(out, &s->v4[i]);
	else
		put_pfx6(out, &s->v6[i]);
}

static void
put_range(FILE *out, const struct port_range *r)
{
	if (r->lo == r->hi)
		fprintf(out, "%u", r->lo);
	else
		fprintf(out, "%u-%u", r->lo, r->hi);
}

/* "th sport|dport PORTS " for a non-empty set. */
static void
put_ports(FILE *out, const char *what, const struct portset *p)
{
	size_t i;

	if (p->n == 0)
		return;
	fprintf(out, "th %s ", what);
	if (p->n == 1)
		put_range(out, &p->r[0]);
	else {
		fputs("{ ", out);
		for (i = 0; i < p->n; i++) {
			if (i > 0)
				fputs(", ", out);
			put_range(out, &p->r[i]);
		}
		fputs(" }", out);
	}
	fputc(' ', out);
}

static const char *
fam_kw(unsigned fam)
{
	return fam == FAM_V4 ? "ip" : "ip6";
}

/* "ip|ip6 saddr|daddr MATCH " */
static void
put_addr(FILE *out, const struct addrset *s, unsigned fam, bool src)
{
	char name[KERN_NAME_MAX + 8];
	size_t i, n = kern_set_count(s, fam);

	fprintf(out, "%s %s ", fam_kw(fam), src ? "saddr" : "daddr");
	if (kern_set_is_named(s, fam)) {
		kern_set_name(s, fam, name, sizeof(name));
		fprintf(out, "@%s ", name);
		return;
	}
	if (n == 1) {
		put_pfx(out, s, fam, 0);
		fputc(' ', out);
		return;
	}
	fputs("{ ", out);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputs(", ", out);
		put_pfx(out, s, fam, i);
	}
	fputs(" } ", out);
}

/* ------------------------------------------------------------------ */
/* Sets.                                                               */

static void
put_named_sets(struct nt *k)
{
	const struct model *m = k->m;
	const struct addrset *as;
	char name[KERN_NAME_MAX + 8], where[300];
	size_t i, j, n;
	unsigned fam;
	FILE *out = k->out;

	for (i = 0; i < m->nsets; i++) {
		as = m->sets[i];
		for (fam = FAM_V4; fam <= FAM_V6; fam <<= 1) {
			n = kern_set_count(as, fam);
			if (!kern_set_declared(as, fam))
				continue;
			kern_set_name(as, fam, name, sizeof(name));
			kern_where(&as->loc, where, sizeof(where));
			fprintf(out, "\t# %s, %zu entr%s\n", where, n,
			    n == 1 ? "y" : "ies");
			fprintf(out, "\tset %s {\n\t\ttype %s\n"
			    "\t\tflags interval\n\t\tauto-merge\n"
			    "\t\telements = {", name,
			    fam == FAM_V4 ? "ipv4_addr" : "ipv6_addr");
			for (j = 0; j < n; j++) {
				if (j % ELEMS_PER_LINE == 0)
					fputs(j > 0 ? ",\n\t\t\t" : " ", out);
				else
					fputs(", ", out);
				put_pfx(out, as, fam, j);
			}
			fputs(" }\n\t}\n", out);
		}
	}
}

/* A duration as nft writes it: "10s", "2m", "2h". */
static void
put_ms(FILE *out, uint64_t ms)
{
	if (ms % 3600000 == 0)
		fprintf(out, "%" PRIu64 "h", ms / 3600000);
	else if (ms % 60000 == 0)
		fprintf(out, "%" PRIu64 "m", ms / 60000);
	else if (ms % 1000 == 0)
		fprintf(out, "%" PRIu64 "s", ms / 1000);
	else
		fprintf(out, "%" PRIu64 "ms", ms);
}

/* The dynamic sets behind per-address limits and connection caps. */
static void
put_dyn_sets(struct nt *k)
{
	const struct model *m = k->m;
	const struct rule *r;
	char name[32];
	size_t i;
	unsigned fam;
	const char *type;

	for (i = 0; i < m->nrules; i++) {
		r = &m->rules[i];
		for (fam = FAM_V4; fam <= FAM_V6; fam <<= 1) {
			if (!rule_has_family(r, fam))
				continue;
			type = fam == FAM_V4 ? "ipv4_addr" : "ipv6_addr";
			if (r->limit.present && r->limit.per != PER_NONE) {
				kern_dyn_set_name("limit", r, fam, name,
				    sizeof(name));
				fprintf(k->out, "\tset %s {\n"
				    "\t\ttype %s\n\t\tsize 65535\n"
				    "\t\tflags dynamic,timeout\n"
				    "\t\ttimeout ", name, type);
				put_ms(k->out,
				    kern_meter_timeout_ms(&r->limit));
				fputs("\n\t}\n", k->out);
			}
			if (r->conn.present && r->conn.per_source) {
				kern_dyn_set_name("conn", r, fam, name,
				    sizeof(name));
				fprintf(k->out, "\tset %s {\n"
				    "\t\ttype %s\n\t\tsize 65535\n"
				    "\t\tflags dynamic\n\t}\n", name, type);
			}
		}
	}
}

/* ------------------------------------------------------------------ */
/* Rules.                                                              */

static void
put_verdict(const struct nt *k, enum layer l, enum direction d,
    enum verdict v)
{
	const char *chain;

	switch (kern_nft_verdict(k->m, l, d, v, &chain)) {
	case KERN_ACCEPT:
		fputs("accept", k->out);
		return;
	case KERN_DROP:
		fputs("drop", k->out);
		return;
	case KERN_GOTO:
		fprintf(k->out, "goto %s", chain);
		return;
	}
}

/* Conntrack states in the kernel's bit order (NF_CT_STATE_BIT). */
static void
put_ctstate(FILE *out, unsigned st)
{
	static const struct {
		unsigned	 bit;
		const char	*name;
	} tab[] = {
		{ CT_INVALID, "invalid" }, { CT_ESTABLISHED, "established" },
		{ CT_RELATED, "related" }, { CT_NEW, "new" },
		{ CT_UNTRACKED, "untracked" },
	};
	size_t i, n = 0;
	bool many = (st & (st - 1)) != 0;

	/* One state is a bit test, several a set lookup, as in nlbuild. */
	fputs(many ? "ct state { " : "ct state ", out);
	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (st & tab[i].bit)
			fprintf(out, "%s%s", n++ > 0 ? ", " : "", tab[i].name);
	fputs(many ? " } " : " ", out);
}

static void
put_limit(FILE *out, const struct rate_limit *l)
{
	fprintf(out, "limit rate %s%u/%s burst %u packets", l->over ? "over " :
	    "", l->rate, rate_unit_name(l->unit), l->burst != 0 ? l->burst :
	    5);
}

static void
put_iface(FILE *out, const struct rule *r)
{
	size_t n = strlen(r->iface);

	fprintf(out, "%s \"", r->dir == DIR_OUT ? "oifname" : "iifname");
	if (n > 0 && r->iface[n - 1] == '+')
		fprintf(out, "%.*s*", (int)(n - 1), r->iface);
	else
		fputs(r->iface, out);
	fputs("\" ", out);
}

/* One kernel rule for family fam (0: both) and protocol variant pv, as
 * nlbuild.c's emit_one, statement for statement. */
static void
put_one(struct nt *k, const struct rule *r, unsigned fam, unsigned pv,
    const char *logpfx, const char *comment)
{
	FILE *out = k->out;
	unsigned af = fam != 0 ? fam : FAM_V4;
	char dyn[32];

	fputs("\t\t", out);
	if (fam != 0)
		fprintf(out, "meta nfproto %s ", fam == FAM_V4 ? "ipv4" :
		    "ipv6");
	if (r->iface != NULL)
		put_iface(out, r);
	if (r->src != NULL)
		put_addr(out, r->src, af, true);
	if (r->dst != NULL)
		put_addr(out, r->dst, af, false);
	if (pv != 0) {
		unsigned char num[4];
		const char *name[4];
		size_t i, n = kern_l4_list(pv, num, name);

		fputs("meta l4proto ", out);
		if (n > 1)
			fputs("{ ", out);
		for (i = 0; i < n; i++)
			fprintf(out, "%s%s", i > 0 ? ", " : "", name[i]);
		fputs(n > 1 ? " } " : " ", out);
	}
	if (pv & (PROTO_TCP | PROTO_UDP)) {
		put_ports(out, "sport", &r->sport);
		put_ports(out, "dport", &r->dport);
	}
	if (r->states != 0)
		put_ctstate(out, r->states);
	if (r->conn.present) {
		if (r->conn.per_source) {
			kern_dyn_set_name("conn", r, af, dyn, sizeof(dyn));
			fprintf(out, "add @%s { %s saddr ct count over %u } ",
			    dyn, fam_kw(af), r->conn.over);
		} else
			fprintf(out, "ct count over %u ", r->conn.over);
	}
	if (r->limit.present) {
		if (r->limit.per != PER_NONE) {
			kern_dyn_set_name("limit", r, af, dyn, sizeof(dyn));
			fprintf(out, "update @%s { %s %s ", dyn, fam_kw(af),
			    r->limit.per == PER_SOURCE ? "saddr" : "daddr");
			put_limit(out, &r->limit);
			fputs(" } ", out);
		} else {
			put_limit(out, &r->limit);
			fputc(' ', out);
		}
	}
	if (r->log)
		fprintf(out, "log prefix \"%s\" ", logpfx);
	if (r->count)
		fputs("counter ", out);
	put_verdict(k, r->layer, r->dir, r->action);
	fprintf(out, " comment \"%s\"\n", comment);
}

/* A policy rule: one kernel rule per piece of kern_nft_plan(), the
 * split nlbuild.c's emit_rule() makes too. */
static void
put_rule(struct nt *k, const struct rule *r)
{
	struct kern_nft_rule p;
	const char *why;
	size_t i;

	if (kern_nft_plan(k->m, r, &p, &why) < 0) {
		nt_error(k, &r->loc, "%s", why);
		return;
	}
	for (i = 0; i < p.npieces; i++)
		put_one(k, r, p.pieces[i].fam, p.pieces[i].protos, p.logpfx,
		    p.comment);
}

/* "file:line SUFFIX" for objects that are not rules, checked. */
static bool
where_comment(struct nt *k, const struct srcloc *loc, const char *suffix,
    char *buf, size_t n)
{
	char where[300];

	kern_where(loc, where, sizeof(where));
	snprintf(buf, n, "%s %s", where, suffix);
	if (strlen(buf) > NFT_COMMENT_MAX) {
		nt_error(k, loc, "source path too long for an nft comment "
		    "(max %d chars)", NFT_COMMENT_MAX);
		return false;
	}
	return true;
}

/* The queue rule of one inspect block for connections in state st.
 * The SYN is queued only after the layers allowed it (accept_input):
 * the helper's accept ends the base chain, so queueing it earlier would
 * let a connection the layers deny through. */
static void
put_inspect_queue(struct nt *k, const struct inspect *in, const char *st)
{
	char c[400];
	FILE *out = k->out;

	if (in->mark == 0 || in->ports.n == 0)
		return;
	where_comment(k, &in->loc, "inspect queue", c, sizeof(c));
	fprintf(out, "\t\tmeta l4proto tcp ct state %s ", st);
	put_ports(out, "dport", &in->ports);
	fprintf(out, "ct original bytes < %u queue num %u%s comment "
	    "\"%s\"\n", in->bytes != 0 ? in->bytes : 4096, in->queue,
	    in->fail_closed ? "" : " bypass", c);
}

/* Inspect, in the input base chain before the prelude: ct-marked
 * (denied) flows are reset, the helper's verdict mark is remembered in
 * the connmark, and the next first bytes of established inspected
 * streams go to the helper's queue. */
static void
put_inspect(struct nt *k)
{
	const struct model *m = k->m;
	const struct inspect *in;
	char c[400];
	size_t i;
	FILE *out = k->out;

	for (i = 0; i < m->ninspect; i++) {
		in = &m->inspects[i];
		if (!kern_inspect_ok(m, in, k->err)) {
			k->nerr++;
			continue;
		}
		if (!where_comment(k, &in->loc, "inspect reset", c,
		    sizeof(c)))
			continue;
		fprintf(out, "\t\tmeta l4proto tcp ct mark 0x%x reject with "
		    "tcp reset comment \"%s\"\n", in->mark, c);
		where_comment(k, &in->loc, "inspect deny", c, sizeof(c));
		fprintf(out, "\t\tmeta l4proto tcp meta mark 0x%x ct mark set "
		    "0x%x reject with tcp reset comment \"%s\"\n", in->mark,
		    in->mark, c);
		put_inspect_queue(k, in, "established");
	}
}

static void
put_prelude(struct nt *k, enum direction d)
{
	const struct prelude *p = &k->m->prelude;
	FILE *out = k->out;
	size_t i;

	if (p->loopback && d != DIR_FORWARD)
		fprintf(out, "\t\t%s \"lo\" accept comment "
		    "\"prelude loopback\"\n", d == DIR_IN ? "iif" : "oif");
	if (p->established)
		fputs("\t\tct state { established, related } accept comment "
		    "\"prelude established\"\n", out);
	if (p->drop_invalid)
		fputs("\t\tct state invalid drop comment \"prelude invalid\"\n",
		    out);
	if (p->essential_icmp) {
		fputs("\t\tmeta l4proto icmp icmp type { ", out);
		for (i = 0; i < KERN_ICMP4_ESSENTIAL; i++)
			fprintf(out, "%s%s", i > 0 ? ", " : "",
			    kern_icmp4_essential[i].nft);
		fputs(" } accept comment \"prelude essential icmp\"\n", out);
		fputs("\t\tmeta l4proto ipv6-icmp icmpv6 type { ", out);
		for (i = 0; i < KERN_ICMP6_ESSENTIAL; i++)
			fprintf(out, "%s%s", i > 0 ? ", " : "",
			    kern_icmp6_essential[i].nft);
		fputs(" } accept comment \"prelude essential icmpv6\"\n",
		    out);
	}
}

static void
put_default(struct nt *k, enum layer l, enum direction d)
{
	const struct layer_defaults *def = &k->m->defaults[l];
	char c[400];

	if (def->loc[d].file != NULL) {
		if (!where_comment(k, &def->loc[d], "default", c, sizeof(c)))
			return;
	} else
		snprintf(c, sizeof(c), "built-in default");
	fputs("\t\t", k->out);
	put_verdict(k, l, d, def->action[d]);
	fprintf(k->out, " comment \"%s\"\n", c);
}

static int
nft_emit(const struct model *m, FILE *out, FILE *err)
{
	struct nt k;
	size_t i;
	int d, l;

	memset(&k, 0, sizeof(k));
	k.m = m;
	k.out = out;
	k.err = err;
	if ((k.table = kern_table(m, err)) == NULL)
		return 1;

	backend_header(out, "#", m);
	fprintf(out, "#\n# Load with: nft -f ruleset.nft\n"
	    "# Replaces table inet %s in one transaction; other tables are "
	    "left alone.\n# Rule comments name the policy line "
	    "(file:line) they come from.\n\n", k.table);
	fprintf(out, "table inet %s {}\ndelete table inet %s\n\n"
	    "table inet %s {\n", k.table, k.table, k.table);

	put_named_sets(&k);
	put_dyn_sets(&k);

	for (d = 0; d < DIR_COUNT; d++) {
		fprintf(out, "\n\tchain %s {\n\t\ttype filter hook %s "
		    "priority 0; policy accept;\n", hook_name[d],
		    hook_name[d]);
		if (d == DIR_IN)
			put_inspect(&k);
		put_prelude(&k, (enum direction)d);
		fprintf(out, "\t\tgoto ip_%s\n\t}\n", hook_name[d]);
	}
	for (l = 0; l < LAYER_COUNT; l++)
		for (d = 0; d < DIR_COUNT; d++) {
			fprintf(out, "\n\tchain %s_%s {\n", l == LAYER_IP ?
			    "ip" : "transport", hook_name[d]);
			for (i = 0; i < m->nrules; i++)
				if (m->rules[i].layer == (enum layer)l &&
				    m->rules[i].dir == (enum direction)d)
					put_rule(&k, &m->rules[i]);
			put_default(&k, (enum layer)l, (enum direction)d);
			fputs("\t}\n", out);
		}
	fputs("\n\tchain refuse {\n"
	    "\t\tmeta l4proto tcp reject with tcp reset\n"
	    "\t\treject with icmpx type port-unreachable\n"
	    "\t}\n", out);
	if (m->ninspect > 0) {
		fputs("\n\tchain accept_input {\n", out);
		for (i = 0; i < m->ninspect; i++)
			put_inspect_queue(&k, &m->inspects[i], "new");
		fputs("\t\taccept\n\t}\n", out);
	}
	fputs("}\n", out);
	return k.nerr;
}

const struct backend backend_nftables = {
	"nftables",
	"ruleset.nft",
	"nftables ruleset for nft -f (table inet, atomic replace)",
	nft_emit,
};
