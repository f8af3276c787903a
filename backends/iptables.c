/*
 * iptables.c - the "iptables" and "ip6tables" backends: one
 * iptables-restore file per family, for "iptables-restore --noflush".
 *
 * The policy lives in chains of its own, named "TABLE-..." after option
 * table (kern_ipt_chain, kernel.c), all declared in the file so that a
 * --noflush restore replaces exactly them and leaves every other chain
 * and rule of the filter table (Docker's, fail2ban's) alone:
 *
 *	T-IN, T-OUT, T-FWD   [inspect], prelude, goto T-IP-DIR
 *	T-IP-DIR             ip layer; allow = goto T-TR-DIR
 *	T-TR-DIR             transport layer; allow = ACCEPT (T-ACC-IN
 *	                     for input when the policy inspects streams)
 *	T-REFUSE             TCP reset for TCP, ICMP(v6) port unreachable
 *	T-ACC-IN             queue new inspected connections, ACCEPT
 *	T-L<id>              a logged rule: LOG, then its verdict
 *
 * The jumps INPUT -> T-IN, OUTPUT -> T-OUT and FORWARD -> T-FWD are not
 * in the file (they would pile up on every reload): the loader
 * (loader.c) inserts them when missing.
 *
 * Address sets that become named sets (kern_set_is_named) are matched
 * with -m set against the ipset sets of ipset.c; small inline sets are
 * written as "-s a,b,c".  Everything that comes from the policy is a
 * validated name (sets, interfaces, the table) or passes through
 * kern_text() (comments, log prefixes) and is written in double quotes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "kernel.h"

#define MULTIPORT_MAX	15		/* ports per multiport match */
#define HASHLIMIT_MAX	1000000u	/* packets per second */
#define NAMEBUF		(KERN_NAME_MAX + 40)

struct ipt {
	const struct model	*m;
	unsigned		 fam;
	const char		*table;
	FILE			*err;
	FILE			*body;
	int			 nerr;
	char			**chains;	/* declared, in order */
	size_t			 nchains;
};

static const char *const dir_tag[DIR_COUNT] = { "IN", "OUT", "FWD" };

static void	ipt_error(struct ipt *, const struct srcloc *, const char *,
		    ...) __attribute__((format(printf, 3, 4)));

static void
ipt_error(struct ipt *k, const struct srcloc *loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kern_verror(k->err, k->m, loc, fmt, ap);
	va_end(ap);
	k->nerr++;
}

/* The name of chain SUFFIX; declared on first use. */
static const char *
chain(struct ipt *k, const char *suffix)
{
	char buf[NAMEBUF];
	size_t i;
	char **n;

	if (!kern_ipt_chain(k->table, suffix, buf, sizeof(buf)))
		ipt_error(k, NULL, "iptables chain name \"%s\" is longer "
		    "than %d characters", buf, KERN_IPT_CHAIN_MAX);
	for (i = 0; i < k->nchains; i++)
		if (strcmp(k->chains[i], buf) == 0)
			return k->chains[i];
	n = realloc(k->chains, (k->nchains + 1) * sizeof(*n));
	if (n == NULL || (n[k->nchains] = strdup(buf)) == NULL) {
		if (n != NULL)
			k->chains = n;
		fprintf(k->err, "xmppfwc: out of memory\n");
		exit(2);
	}
	k->chains = n;
	return k->chains[k->nchains++];
}

static const char *
dir_chain(struct ipt *k, const char *layer, enum direction d)
{
	char s[32];

	snprintf(s, sizeof(s), "%s%s", layer, dir_tag[d]);
	return chain(k, s);
}

/* ------------------------------------------------------------------ */
/* Matches                                                             */

static void
put_pfx(FILE *f, const struct addrset *s, unsigned fam, size_t i)
{
	char buf[PFX_STRLEN];

	if (fam == FAM_V4)
		fputs(pfx4_format(&s->v4[i], buf, sizeof(buf)), f);
	else
		fputs(pfx6_format(&s->v6[i], buf, sizeof(buf)), f);
}

static void
put_addr(struct ipt *k, FILE *f, const struct addrset *s, bool src)
{
	char name[NAMEBUF];
	size_t i, n;

	if (s == NULL)
		return;
	if (kern_set_is_named(s, k->fam)) {
		kern_ipset_name(k->table, s, k->fam, name, sizeof(name));
		fprintf(f, " -m set --match-set %s %s", name,
		    src ? "src" : "dst");
		return;
	}
	n = kern_set_count(s, k->fam);
	fputs(src ? " -s " : " -d ", f);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', f);
		put_pfx(f, s, k->fam, i);
	}
}

/* A port set as chunks of at most MULTIPORT_MAX ports (a range counts
 * two).  Chunk c holds ranges [start[c], start[c + 1]). */
static size_t
port_chunks(const struct portset *p, size_t *start)
{
	size_t i, n = 0, w = 0, rw;

	start[n++] = 0;
	for (i = 0; i < p->n; i++) {
		rw = p->r[i].lo == p->r[i].hi ? 1 : 2;
		if (w + rw > MULTIPORT_MAX) {
			start[n++] = i;
			w = 0;
		}
		w += rw;
	}
	start[n] = p->n;
	return n;
}

static void
put_range(FILE *f, const struct port_range *r)
{
	if (r->lo == r->hi)
		fprintf(f, "%u", r->lo);
	else
		fprintf(f, "%u:%u", r->lo, r->hi);
}

static void
put_ports(FILE *f, const struct portset *p, const size_t *start, size_t c,
    bool src)
{
	size_t i;

	if (p->n == 0)
		return;
	if (p->n == 1) {
		fputs(src ? " --sport " : " --dport ", f);
		put_range(f, &p->r[0]);
		return;
	}
	fputs(src ? " -m multiport --sports " : " -m multiport --dports ", f);
	for (i = start[c]; i < start[c + 1]; i++) {
		if (i > start[c])
			fputc(',', f);
		put_range(f, &p->r[i]);
	}
}

static void
put_states(FILE *f, unsigned st)
{
	static const struct { unsigned bit; const char *name; } t[] = {
		{ CT_NEW, "NEW" }, { CT_ESTABLISHED, "ESTABLISHED" },
		{ CT_RELATED, "RELATED" }, { CT_INVALID, "INVALID" },
		{ CT_UNTRACKED, "UNTRACKED" },
	};
	size_t i;
	bool first = true;

	fputs(" -m conntrack --ctstate ", f);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (st & t[i].bit) {
			fprintf(f, "%s%s", first ? "" : ",", t[i].name);
			first = false;
		}
}

static const char *
proto_name(unsigned pv, unsigned fam)
{
	switch (pv) {
	case PROTO_TCP:
		return "tcp";
	case PROTO_UDP:
		return "udp";
	default:
		return fam == FAM_V4 ? "icmp" : "ipv6-icmp";
	}
}

/* The verdict of layer l, direction d as a target. */
static void
put_verdict(struct ipt *k, FILE *f, enum layer l, enum direction d,
    enum verdict v)
{
	switch (v) {
	case VERDICT_ALLOW:
		if (l == LAYER_IP)
			fprintf(f, " -g %s", dir_chain(k, "TR-", d));
		else if (d == DIR_IN && k->m->ninspect > 0)
			fprintf(f, " -g %s", chain(k, "ACC-IN"));
		else
			fputs(" -j ACCEPT", f);
		break;
	case VERDICT_DENY:
		fputs(" -j DROP", f);
		break;
	case VERDICT_REJECT:
		fprintf(f, " -g %s", chain(k, "REFUSE"));
		break;
	}
	fputc('\n', f);
}

static void
put_comment(FILE *f, const char *c)
{
	fprintf(f, " -m comment --comment \"%s\"", c);
}

/* ------------------------------------------------------------------ */
/* Rules                                                               */

struct rtext {
	char	comment[KERN_IPT_COMMENT_MAX + 512];
	char	logpfx[KERN_IPT_LOGPFX_MAX + 512];
	char	hlname[32];
	char	logsuffix[32];		/* "L<id>" */
	char	logchain[NAMEBUF];
	unsigned l4;
	bool	ports;
};

/* Everything about rule r that can be wrong, for either family; false
 * after an error. */
static bool
rule_check(struct ipt *k, const struct rule *r, struct rtext *t)
{
	bool ok = true;

	if (!kern_rule_comment(r, t->comment, sizeof(t->comment),
	    KERN_IPT_COMMENT_MAX)) {
		ipt_error(k, &r->loc, "comment too long for iptables (max %d "
		    "chars with the source location)", KERN_IPT_COMMENT_MAX);
		ok = false;
	}
	if (r->log && !kern_log_prefix(k->m, r, t->logpfx, sizeof(t->logpfx),
	    KERN_IPT_LOGPFX_MAX)) {
		ipt_error(k, &r->loc, "log prefix too long for iptables (max "
		    "%d chars)", KERN_IPT_LOGPFX_MAX);
		ok = false;
	}
	if (r->iface != NULL && !kern_iface(r->iface)) {
		ipt_error(k, &r->loc, "invalid interface name");
		ok = false;
	}
	if (r->limit.present) {
		uint64_t per_s = r->limit.rate;

		if (r->limit.unit == RATE_SECOND && per_s > HASHLIMIT_MAX) {
			ipt_error(k, &r->loc, "rate limit too high for "
			    "iptables hashlimit (max %u/second)",
			    HASHLIMIT_MAX);
			ok = false;
		}
		kern_hashlimit_name(k->table, r, t->hlname,
		    sizeof(t->hlname));
	}
	t->l4 = r->protos & (PROTO_TCP | PROTO_UDP);
	t->ports = r->sport.n > 0 || r->dport.n > 0;
	if (t->ports && t->l4 == 0) {
		if (r->protos != 0) {
			ipt_error(k, &r->loc, "a port match needs tcp or udp");
			ok = false;
		}
		t->l4 = PROTO_TCP | PROTO_UDP;
	}
	if (r->log) {
		snprintf(t->logsuffix, sizeof(t->logsuffix), "L%zu", r->id);
		if (!kern_ipt_chain(k->table, t->logsuffix, t->logchain,
		    sizeof(t->logchain))) {
			ipt_error(k, &r->loc, "iptables chain name \"%s\" is "
			    "longer than %d characters", t->logchain,
			    KERN_IPT_CHAIN_MAX);
			ok = false;
		}
	}
	return ok;
}

static void
emit_one(struct ipt *k, const struct rule *r, const struct rtext *t,
    unsigned pv, const size_t *sc, size_t si, const size_t *dc, size_t di)
{
	FILE *f = k->body;
	const char *rule_chain = dir_chain(k, r->layer == LAYER_IP ? "IP-" :
	    "TR-", r->dir);

	fprintf(f, "-A %s", rule_chain);
	if (r->iface != NULL)
		fprintf(f, " %s %s", r->dir == DIR_OUT ? "-o" : "-i",
		    r->iface);
	if (r->src != NULL && !kern_set_is_named(r->src, k->fam))
		put_addr(k, f, r->src, true);
	if (r->dst != NULL && !kern_set_is_named(r->dst, k->fam))
		put_addr(k, f, r->dst, false);
	if (pv != 0)
		fprintf(f, " -p %s", proto_name(pv, k->fam));
	if (pv & (PROTO_TCP | PROTO_UDP)) {
		put_ports(f, &r->sport, sc, si, true);
		put_ports(f, &r->dport, dc, di, false);
	}
	if (r->src != NULL && kern_set_is_named(r->src, k->fam))
		put_addr(k, f, r->src, true);
	if (r->dst != NULL && kern_set_is_named(r->dst, k->fam))
		put_addr(k, f, r->dst, false);
	if (r->states != 0)
		put_states(f, r->states);
	if (r->conn.present)
		fprintf(f, " -m connlimit --connlimit-above %u "
		    "--connlimit-mask %u", r->conn.over, !r->conn.per_source ?
		    0 : k->fam == FAM_V4 ? 32 : 128);
	if (r->limit.present) {
		fprintf(f, " -m hashlimit --hashlimit-%s %u/%s "
		    "--hashlimit-burst %u", r->limit.over ? "above" : "upto",
		    r->limit.rate, rate_unit_name(r->limit.unit),
		    r->limit.burst != 0 ? r->limit.burst : 5);
		if (r->limit.per != PER_NONE)
			fprintf(f, " --hashlimit-mode %s",
			    r->limit.per == PER_SOURCE ? "srcip" : "dstip");
		fprintf(f, " --hashlimit-name %s", t->hlname);
	}
	put_comment(f, t->comment);
	if (r->log)
		fprintf(f, " -g %s\n", chain(k, t->logsuffix));
	else
		put_verdict(k, f, r->layer, r->dir, r->action);
}

static void
emit_rule(struct ipt *k, const struct rule *r)
{
	struct rtext t;
	size_t *sc, *dc, ns, nd, si, di;
	unsigned pvs[4], npv = 0, i;

	if (!rule_check(k, r, &t) || k->nerr > 0)
		return;
	if (!rule_has_family(r, k->fam) ||
	    (r->src != NULL && kern_set_count(r->src, k->fam) == 0) ||
	    (r->dst != NULL && kern_set_count(r->dst, k->fam) == 0))
		return;
	if (r->protos == 0 && !t.ports)
		pvs[npv++] = 0;
	else {
		if (t.l4 & PROTO_TCP)
			pvs[npv++] = PROTO_TCP;
		if (t.l4 & PROTO_UDP)
			pvs[npv++] = PROTO_UDP;
		if (!t.ports && k->fam == FAM_V4 && (r->protos & PROTO_ICMP))
			pvs[npv++] = PROTO_ICMP;
		if (!t.ports && k->fam == FAM_V6 &&
		    (r->protos & PROTO_ICMPV6))
			pvs[npv++] = PROTO_ICMPV6;
	}
	sc = calloc(r->sport.n + 2, sizeof(*sc));
	dc = calloc(r->dport.n + 2, sizeof(*dc));
	if (sc == NULL || dc == NULL) {
		fprintf(k->err, "xmppfwc: out of memory\n");
		exit(2);
	}
	ns = port_chunks(&r->sport, sc);
	nd = port_chunks(&r->dport, dc);
	for (i = 0; i < npv; i++)
		for (si = 0; si < ns; si++)
			for (di = 0; di < nd; di++)
				emit_one(k, r, &t, pvs[i], sc, si, dc, di);
	free(sc);
	free(dc);
	if (r->log && npv > 0) {
		fprintf(k->body, "-A %s", t.logchain);
		put_comment(k->body, t.comment);
		fprintf(k->body, " -j LOG --log-prefix \"%s\"\n", t.logpfx);
		fprintf(k->body, "-A %s", t.logchain);
		put_comment(k->body, t.comment);
		put_verdict(k, k->body, r->layer, r->dir, r->action);
	}
}

/* The first bytes of inspected streams go to the helper; the helper's
 * verdict on a denied flow (NF_REPEAT with the mark) resets it. */
static void
emit_inspect_marks(struct ipt *k, const char *in_chain)
{
	const struct inspect *in;
	char where[KERN_IPT_COMMENT_MAX + 64];
	size_t i;

	for (i = 0; i < k->m->ninspect; i++) {
		in = &k->m->inspects[i];
		kern_where(&in->loc, where, sizeof(where));
		fprintf(k->body, "-A %s -p tcp -m connmark --mark 0x%x",
		    in_chain, in->mark);
		fprintf(k->body, " -m comment --comment \"%s inspect reset\""
		    " -j REJECT --reject-with tcp-reset\n", where);
		fprintf(k->body, "-A %s -p tcp -m mark --mark 0x%x", in_chain,
		    in->mark);
		fprintf(k->body, " -m comment --comment \"%s inspect deny\""
		    " -j CONNMARK --save-mark\n", where);
		fprintf(k->body, "-A %s -p tcp -m mark --mark 0x%x", in_chain,
		    in->mark);
		fprintf(k->body, " -m comment --comment \"%s inspect deny\""
		    " -j REJECT --reject-with tcp-reset\n", where);
	}
}

static void
emit_inspect_queue(struct ipt *k, const char *ch, const char *state)
{
	const struct inspect *in;
	char where[KERN_IPT_COMMENT_MAX + 64];
	size_t i, c, nc, *pc;

	for (i = 0; i < k->m->ninspect; i++) {
		in = &k->m->inspects[i];
		kern_where(&in->loc, where, sizeof(where));
		if ((pc = calloc(in->ports.n + 2, sizeof(*pc))) == NULL) {
			fprintf(k->err, "xmppfwc: out of memory\n");
			exit(2);
		}
		nc = port_chunks(&in->ports, pc);
		for (c = 0; c < nc; c++) {
			fprintf(k->body, "-A %s -p tcp", ch);
			put_ports(k->body, &in->ports, pc, c, false);
			fprintf(k->body, " -m conntrack --ctstate %s -m "
			    "connbytes --connbytes 0:%u --connbytes-dir "
			    "original --connbytes-mode bytes", state,
			    in->bytes != 0 ? in->bytes : 4096);
			fprintf(k->body, " -m comment --comment \"%s inspect "
			    "queue\" -j NFQUEUE --queue-num %u%s\n", where,
			    in->queue, in->fail_closed ? "" :
			    " --queue-bypass");
		}
		free(pc);
	}
}

static void
check_inspects(struct ipt *k)
{
	const struct inspect *in;
	char where[2048];
	size_t i;

	for (i = 0; i < k->m->ninspect; i++) {
		in = &k->m->inspects[i];
		if (!kern_inspect_ok(k->m, in, k->err))
			k->nerr++;
		kern_where(&in->loc, where, sizeof(where));
		if (strlen(where) + strlen(" inspect reset") >
		    KERN_IPT_COMMENT_MAX)
			ipt_error(k, &in->loc, "source path too long for an "
			    "iptables comment (max %d chars)",
			    KERN_IPT_COMMENT_MAX);
	}
}

static void
check_sets(struct ipt *k)
{
	const struct addrset *s;
	char name[NAMEBUF];
	size_t i;

	for (i = 0; i < k->m->nsets; i++) {
		s = k->m->sets[i];
		if (kern_set_declared(s, k->fam) &&
		    !kern_ipset_names(k->m, k->table, s, k->fam, name, NULL,
		    sizeof(name), k->err))
			k->nerr++;
	}
}

static void
emit_prelude(struct ipt *k, enum direction d, const char *ch)
{
	const struct prelude *p = &k->m->prelude;
	FILE *f = k->body;
	size_t i;

	if (d == DIR_IN && k->m->ninspect > 0) {
		emit_inspect_marks(k, ch);
		emit_inspect_queue(k, ch, "ESTABLISHED");
	}
	if (p->loopback && d != DIR_FORWARD)
		fprintf(f, "-A %s %s lo -m comment --comment \"prelude "
		    "loopback\" -j ACCEPT\n", ch, d == DIR_IN ? "-i" : "-o");
	if (p->established)
		fprintf(f, "-A %s -m conntrack --ctstate RELATED,ESTABLISHED"
		    " -m comment --comment \"prelude established\" -j "
		    "ACCEPT\n", ch);
	if (p->drop_invalid)
		fprintf(f, "-A %s -m conntrack --ctstate INVALID -m comment "
		    "--comment \"prelude invalid\" -j DROP\n", ch);
	if (p->essential_icmp && k->fam == FAM_V4)
		for (i = 0; i < KERN_ICMP4_ESSENTIAL; i++)
			fprintf(f, "-A %s -p icmp --icmp-type %d -m comment "
			    "--comment \"prelude essential icmp\" -j ACCEPT\n",
			    ch, kern_icmp4_essential[i].type);
	if (p->essential_icmp && k->fam == FAM_V6)
		for (i = 0; i < KERN_ICMP6_ESSENTIAL; i++)
			fprintf(f, "-A %s -p ipv6-icmp --icmpv6-type %d -m "
			    "comment --comment \"prelude essential icmpv6\" "
			    "-j ACCEPT\n", ch, kern_icmp6_essential[i].type);
	fprintf(f, "-A %s -g %s\n", ch, dir_chain(k, "IP-", d));
}

static void
emit_default(struct ipt *k, enum layer l, enum direction d)
{
	const struct layer_defaults *def = &k->m->defaults[l];
	char where[KERN_IPT_COMMENT_MAX + 64];

	if (def->loc[d].file != NULL) {
		kern_where(&def->loc[d], where, sizeof(where));
		if (strlen(where) + 8 > KERN_IPT_COMMENT_MAX)
			snprintf(where, sizeof(where), "default");
		else
			strcat(where, " default");
	} else
		snprintf(where, sizeof(where), "built-in default");
	fprintf(k->body, "-A %s", dir_chain(k, l == LAYER_IP ? "IP-" : "TR-",
	    d));
	put_comment(k->body, where);
	put_verdict(k, k->body, l, d, def->action[d]);
}

static int
emit_family(const struct model *m, FILE *out, FILE *err, unsigned fam)
{
	struct ipt k;
	char *buf = NULL;
	size_t len = 0, i;
	int d, l;

	memset(&k, 0, sizeof(k));
	k.m = m;
	k.fam = fam;
	k.err = err;
	if ((k.table = kern_table(m, err)) == NULL)
		return 1;
	if ((k.body = open_memstream(&buf, &len)) == NULL) {
		fprintf(err, "xmppfwc: out of memory\n");
		return 1;
	}
	check_sets(&k);
	check_inspects(&k);
	/* Declaration order: the base chains, the layers, the rest. */
	for (d = 0; d < DIR_COUNT; d++)
		dir_chain(&k, "", (enum direction)d);
	for (l = 0; l < LAYER_COUNT; l++)
		for (d = 0; d < DIR_COUNT; d++)
			dir_chain(&k, l == LAYER_IP ? "IP-" : "TR-",
			    (enum direction)d);
	chain(&k, "REFUSE");
	if (m->ninspect > 0)
		chain(&k, "ACC-IN");
	if (k.nerr == 0) {
		for (d = 0; d < DIR_COUNT; d++)
			emit_prelude(&k, (enum direction)d,
			    dir_chain(&k, "", (enum direction)d));
		for (l = 0; l < LAYER_COUNT; l++)
			for (d = 0; d < DIR_COUNT; d++) {
				for (i = 0; i < m->nrules; i++)
					if (m->rules[i].layer == (enum layer)l
					    && m->rules[i].dir ==
					    (enum direction)d)
						emit_rule(&k, &m->rules[i]);
				emit_default(&k, (enum layer)l,
				    (enum direction)d);
			}
		fprintf(k.body, "-A %s -p tcp -m comment --comment \"refuse\""
		    " -j REJECT --reject-with tcp-reset\n",
		    chain(&k, "REFUSE"));
		fprintf(k.body, "-A %s -m comment --comment \"refuse\" -j "
		    "REJECT --reject-with %s\n", chain(&k, "REFUSE"),
		    fam == FAM_V4 ? "icmp-port-unreachable" :
		    "icmp6-port-unreachable");
		if (m->ninspect > 0) {
			emit_inspect_queue(&k, chain(&k, "ACC-IN"), "NEW");
			fprintf(k.body, "-A %s -m comment --comment \"inspect "
			    "accept\" -j ACCEPT\n", chain(&k, "ACC-IN"));
		}
	}
	fclose(k.body);
	if (k.nerr == 0) {
		backend_header(out, "#", m);
		fputs("*filter\n", out);
		for (i = 0; i < k.nchains; i++)
			fprintf(out, ":%s - [0:0]\n", k.chains[i]);
		fwrite(buf, 1, len, out);
		fputs("COMMIT\n", out);
	}
	for (i = 0; i < k.nchains; i++)
		free(k.chains[i]);
	free(k.chains);
	free(buf);
	return k.nerr;
}

static int
emit_v4(const struct model *m, FILE *out, FILE *err)
{
	return emit_family(m, out, err, FAM_V4);
}

static int
emit_v6(const struct model *m, FILE *out, FILE *err)
{
	return emit_family(m, out, err, FAM_V6);
}

const struct backend backend_iptables = {
	.name = "iptables",
	.filename = "iptables.rules",
	.description = "IPv4 rules for iptables-restore --noflush",
	.emit = emit_v4,
};

const struct backend backend_ip6tables = {
	.name = "ip6tables",
	.filename = "ip6tables.rules",
	.description = "IPv6 rules for ip6tables-restore --noflush",
	.emit = emit_v6,
};
