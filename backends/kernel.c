/*
 * kernel.c - names and text shared by the kernel backends (kernel.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel.h"
#include "utf8.h"

void
kern_verror(FILE *err, const struct model *m, const struct srcloc *loc,
    const char *fmt, va_list ap)
{
	if (loc != NULL && loc->file != NULL)
		fprintf(err, "%s:%d:%d: error: ", loc->file, loc->line,
		    loc->col);
	else
		fprintf(err, "%s: error: ", m->source != NULL ? m->source :
		    "xmppfwc");
	vfprintf(err, fmt, ap);
	fputc('\n', err);
}

void
kern_error(FILE *err, const struct model *m, const struct srcloc *loc,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kern_verror(err, m, loc, fmt, ap);
	va_end(ap);
}

bool
kern_text(char *dst, size_t n, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0, l;

	if (n == 0)
		return false;
	while (*s != '\0') {
		l = *s >= 0x80 ? utf8_seqlen(s) : 1;
		if (l == 0)
			l = 1;
		if (o + l >= n) {
			dst[o] = '\0';
			return false;
		}
		if (l > 1) {
			memcpy(dst + o, s, l);
			o += l;
		} else if (*s >= 0x80 || *s < 0x20 || *s == 0x7f ||
		    strchr("\"\\'`$;#", *s) != NULL)
			dst[o++] = '_';
		else
			dst[o++] = (char)*s;
		s += l;
	}
	dst[o] = '\0';
	return true;
}

static bool
is_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

bool
kern_ident(const char *s, size_t max)
{
	size_t i;

	if (s == NULL || !(is_alpha(s[0]) || s[0] == '_'))
		return false;
	for (i = 1; s[i] != '\0'; i++)
		if (!(is_alpha(s[i]) || is_digit(s[i]) || s[i] == '_' ||
		    s[i] == '-'))
			return false;
	return i <= max;
}

bool
kern_iface(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return false;
	for (i = 0; s[i] != '\0'; i++)
		if (!(is_alpha(s[i]) || is_digit(s[i]) || s[i] == '_' ||
		    s[i] == '.' || s[i] == '-' || s[i] == '+'))
			return false;
	return i <= 15;
}

/*
 * The words nft 1.0.6 reads as keywords where a table name goes ("table
 * inet meta {}" is a syntax error, quoted or not), sorted (strcmp).
 * Found by trying every word of libnftables' strings and of nft(8) as a
 * table name with nft -c.
 */
static const char *const nft_keywords[] = {
	"accept", "add", "ah", "all", "and", "arp", "auto-merge",
	"bridge", "cgroup", "chain", "comment", "comp", "constant",
	"continue", "counter", "cpu", "create", "ct", "day", "dccp",
	"define", "delete", "describe", "device", "devices", "dnat",
	"drop", "dst", "dup", "dynamic", "ecn", "element", "elements",
	"esp", "ether", "exists", "expires", "export", "exthdr", "fib",
	"flags", "flow", "flowtable", "flush", "frag", "fwd",
	"gc-interval", "get", "goto", "handle", "hbh", "hook", "hour",
	"ibriport", "ibrname", "icmp", "icmpv6", "igmp", "iif",
	"iifgroup", "iifname", "iiftype", "import", "include", "index",
	"inet", "insert", "interval", "ip", "ip6", "ipsec", "jhash",
	"jump", "limit", "list", "log", "lt", "map", "mark",
	"masquerade", "meta", "meter", "mh", "missing", "monitor",
	"netdev", "nftrace", "not", "notrack", "numgen", "obriport",
	"obrname", "offload", "oif", "oifgroup", "oifname", "oiftype",
	"or", "osf", "pkttype", "policy", "position", "priority",
	"queue", "quota", "random", "redefine", "redirect", "reject",
	"rename", "replace", "reset", "return", "rt", "rt0", "rt2",
	"rtclassid", "rule", "ruleset", "sctp", "secmark", "set",
	"size", "skgid", "skuid", "snat", "socket", "srh", "symhash",
	"synproxy", "table", "tcp", "th", "time", "timeout", "tproxy",
	"type", "typeof", "udp", "udplite", "undefine", "update",
	"vlan", "vmap", "xt",
};

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool
kern_nft_keyword(const char *s)
{
	return bsearch(&s, nft_keywords, sizeof(nft_keywords) /
	    sizeof(nft_keywords[0]), sizeof(nft_keywords[0]), str_cmp) != NULL;
}

const char *
kern_table(const struct model *m, FILE *err)
{
	const char *t = m->opt.table != NULL ? m->opt.table : "xmppfw";

	if (kern_ident(t, KERN_TABLE_MAX) && kern_nft_keyword(t)) {
		fprintf(err, "%s: error: option table \"%s\" is an nft keyword; "
		    "nft cannot read a table of that name back\n",
		    m->source != NULL ? m->source : "xmppfwc", t);
		return NULL;
	}
	if (!kern_ident(t, KERN_TABLE_MAX)) {
		char shown[64];

		kern_text(shown, sizeof(shown), t);
		fprintf(err, "%s: error: option table \"%s\" must match "
		    "[A-Za-z_][A-Za-z0-9_-]* and be at most %d chars\n",
		    m->source != NULL ? m->source : "xmppfwc", shown,
		    KERN_TABLE_MAX);
		return NULL;
	}
	return t;
}

static bool
rule_comment_as(const struct rule *r, const char *file, char *buf, size_t n,
    size_t max)
{
	char raw[1024];
	int l;

	if (r->comment != NULL)
		l = snprintf(raw, sizeof(raw), "%s:%d %s", file, r->loc.line,
		    r->comment);
	else
		l = snprintf(raw, sizeof(raw), "%s:%d", file, r->loc.line);
	if (l < 0 || (size_t)l >= sizeof(raw) || !kern_text(buf, n, raw))
		return false;
	return strlen(buf) <= max;
}

bool
kern_rule_comment(const struct rule *r, char *buf, size_t n, size_t max)
{
	const char *base = strrchr(r->loc.file, '/');

	/* The path as given; when that does not fit the kernel's limit
	 * (a policy deep in a CI workspace), the file name alone. */
	if (rule_comment_as(r, r->loc.file, buf, n, max))
		return true;
	return base != NULL && rule_comment_as(r, base + 1, buf, n, max);
}

bool
kern_log_prefix(const struct model *m, const struct rule *r, char *buf,
    size_t n, size_t max)
{
	char raw[256];
	const char *t;
	int l;

	t = r->log_prefix != NULL ? r->log_prefix : m->opt.log_prefix;
	if (t != NULL)
		l = snprintf(raw, sizeof(raw), "%s ", t);
	else
		l = snprintf(raw, sizeof(raw), "xfw %s %s:%d ",
		    verdict_name(r->action), layer_name(r->layer),
		    r->loc.line);
	if (l < 0 || (size_t)l >= sizeof(raw) || !kern_text(buf, n, raw))
		return false;
	return strlen(buf) <= max;
}

void
kern_where(const struct srcloc *loc, char *buf, size_t n)
{
	char raw[1024];

	snprintf(raw, sizeof(raw), "%s:%d", loc->file, loc->line);
	kern_text(buf, n, raw);
}

size_t
kern_set_count(const struct addrset *s, unsigned fam)
{
	return fam == FAM_V4 ? s->n4 : s->n6;
}

/* "s12", "limit3", "conn0": the form of the names kernel backends
 * generate (inline sets, per-address limits and caps), which a
 * definition's name must not take. */
static bool
generated_name(const char *s)
{
	static const char *const pfx[] = { "s", "limit", "conn" };
	size_t i, l;

	for (i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++) {
		l = strlen(pfx[i]);
		if (strncmp(s, pfx[i], l) == 0 && s[l] != '\0' &&
		    strspn(s + l, "0123456789") == strlen(s + l))
			return true;
	}
	return false;
}

void
kern_set_name(const struct addrset *s, unsigned fam, char *buf, size_t n)
{
	const char *tag = fam == FAM_V4 ? "v4" : "v6";

	if (s->name != NULL && kern_ident(s->name, KERN_NAME_MAX - 3) &&
	    !generated_name(s->name))
		snprintf(buf, n, "%s_%s", s->name, tag);
	else
		snprintf(buf, n, "s%zu_%s", s->id, tag);
}

bool
kern_set_is_named(const struct addrset *s, unsigned fam)
{
	return s->name != NULL || kern_set_count(s, fam) > KERN_INLINE_MAX;
}

bool
kern_set_declared(const struct addrset *s, unsigned fam)
{
	return kern_set_count(s, fam) != 0 && (s->used & fam) != 0 &&
	    kern_set_is_named(s, fam);
}

/* ------------------------------------------------------------------ */
/* iptables, ip6tables, ipset                                          */

bool
kern_ipt_chain(const char *table, const char *suffix, char *buf, size_t n)
{
	int l = snprintf(buf, n, "%s-%s", table, suffix);

	return l >= 0 && (size_t)l < n && l <= KERN_IPT_CHAIN_MAX;
}

bool
kern_ipset_name(const char *table, const struct addrset *s, unsigned fam,
    char *buf, size_t n)
{
	char name[KERN_NAME_MAX + 8];
	int l;

	kern_set_name(s, fam, name, sizeof(name));
	l = snprintf(buf, n, "%s-%s", table, name);
	return l >= 0 && (size_t)l < n && l <= KERN_IPSET_NAME_MAX;
}

bool
kern_ipset_tmpname(const char *table, const struct addrset *s,
    unsigned fam, char *buf, size_t n)
{
	int l = snprintf(buf, n, "%s.t%zu_%s", table, s->id,
	    fam == FAM_V4 ? "v4" : "v6");

	return l >= 0 && (size_t)l < n && l <= KERN_IPSET_NAME_MAX;
}

bool
kern_ipset_names(const struct model *m, const char *table,
    const struct addrset *s, unsigned fam, char *real, char *tmp, size_t n,
    FILE *err)
{
	bool ok = true;

	if (!kern_ipset_name(table, s, fam, real, n)) {
		kern_error(err, m, &s->loc, "ipset name \"%s\" is longer than "
		    "%d characters (shorten the definition name or option "
		    "table)", real, KERN_IPSET_NAME_MAX);
		ok = false;
	}
	if (tmp != NULL && !kern_ipset_tmpname(table, s, fam, tmp, n)) {
		kern_error(err, m, &s->loc, "ipset name \"%s\" is longer than "
		    "%d characters", tmp, KERN_IPSET_NAME_MAX);
		ok = false;
	}
	return ok;
}

static size_t
pow2_at_least(size_t x, size_t min)
{
	size_t p = min;

	while (p < x && p < ((size_t)1 << 40))
		p <<= 1;
	return p;
}

void
kern_ipset_create(const char *name, unsigned fam, size_t count, char *buf,
    size_t n)
{
	/* +1: a /0 is written as two /1 (hash:net refuses /0). */
	size_t maxelem = pow2_at_least(count + 1, 65536);
	size_t hashsize = pow2_at_least(count + 1, 1024);

	snprintf(buf, n, "create %s hash:net family %s hashsize %zu "
	    "maxelem %zu", name, fam == FAM_V4 ? "inet" : "inet6", hashsize,
	    maxelem);
}

void
kern_hashlimit_name(const char *table, const struct rule *r, char *buf,
    size_t n)
{
	const struct rate_limit *l = &r->limit;
	uint32_t h = 2166136261u;	/* FNV-1a */
	char raw[128];
	const char *p;

	snprintf(raw, sizeof(raw), "%s %d %u %d %u %d", table, (int)l->over,
	    l->rate, (int)l->unit, l->burst, (int)l->per);
	for (p = raw; *p != '\0'; p++) {
		h ^= (unsigned char)*p;
		h *= 16777619u;
	}
	/* "xfw" + up to 6 digits + "-" + 5 hex digits: 15. */
	snprintf(buf, n, "xfw%zu-%05x", r->id % 1000000, h & 0xfffffu);
}

/* ------------------------------------------------------------------ */
/* nft rules in the inet table                                         */

/* A rule needs one kernel rule per family when it matches on addresses,
 * on ICMP (IPv4 only) or ICMPv6, or keeps state: rate buckets and
 * connection counts are per address family (model.h), as iptables and
 * ip6tables can only have them. */
static bool
nft_needs_split(const struct rule *r)
{
	return r->families != FAM_BOTH || r->src != NULL || r->dst != NULL ||
	    r->limit.present || r->conn.present ||
	    (r->protos & (PROTO_ICMP | PROTO_ICMPV6)) != 0;
}

const struct kern_icmp_type kern_icmp4_essential[KERN_ICMP4_ESSENTIAL] = {
	{ 3, "destination-unreachable" },
	{ 11, "time-exceeded" },
	{ 12, "parameter-problem" },
};

const struct kern_icmp_type kern_icmp6_essential[KERN_ICMP6_ESSENTIAL] = {
	{ 1, "destination-unreachable" },
	{ 2, "packet-too-big" },
	{ 3, "time-exceeded" },
	{ 4, "parameter-problem" },
	{ 133, "nd-router-solicit" },
	{ 134, "nd-router-advert" },
	{ 135, "nd-neighbor-solicit" },
	{ 136, "nd-neighbor-advert" },
};

bool
kern_inspect_ok(const struct model *m, const struct inspect *in, FILE *err)
{
	bool ok = true;

	if (in->mark == 0) {
		kern_error(err, m, &in->loc, "inspect mark must not be 0");
		ok = false;
	}
	if (in->ports.n == 0) {
		kern_error(err, m, &in->loc, "inspect needs ports");
		ok = false;
	}
	return ok;
}

enum kern_jump
kern_nft_verdict(const struct model *m, enum layer l, enum direction d,
    enum verdict v, const char **chain)
{
	static const char *const transport[DIR_COUNT] = {
		"transport_input", "transport_output", "transport_forward"
	};

	switch (v) {
	case VERDICT_ALLOW:
		if (l == LAYER_IP) {
			*chain = transport[d];
			return KERN_GOTO;
		}
		if (d == DIR_IN && m->ninspect > 0) {
			*chain = "accept_input";
			return KERN_GOTO;
		}
		return KERN_ACCEPT;
	case VERDICT_DENY:
		return KERN_DROP;
	case VERDICT_REJECT:
		break;
	}
	*chain = "refuse";
	return KERN_GOTO;
}

void
kern_dyn_set_name(const char *kind, const struct rule *r, unsigned fam,
    char *buf, size_t n)
{
	snprintf(buf, n, "%s%zu_%s", kind, r->id, fam == FAM_V4 ? "v4" :
	    "v6");
}

uint64_t
kern_meter_timeout_ms(const struct rate_limit *l)
{
	switch (l->unit) {
	case RATE_SECOND:
		return 10 * 1000;
	case RATE_MINUTE:
		return 2 * 60 * 1000;
	case RATE_HOUR:
		break;
	}
	return 2 * 3600 * 1000;
}

size_t
kern_l4_list(unsigned protos, unsigned char num[4], const char *name[4])
{
	static const struct {
		unsigned	 bit;
		unsigned char	 num;
		const char	*name;
	} tab[] = {
		{ PROTO_ICMP, 1, "icmp" },
		{ PROTO_TCP, 6, "tcp" },
		{ PROTO_UDP, 17, "udp" },
		{ PROTO_ICMPV6, 58, "ipv6-icmp" },
	};
	size_t i, n = 0;

	for (i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (protos & tab[i].bit) {
			num[n] = tab[i].num;
			name[n] = tab[i].name;
			n++;
		}
	return n;
}

static void
nft_piece(struct kern_nft_rule *p, unsigned fam, unsigned protos)
{
	p->pieces[p->npieces].fam = fam;
	p->pieces[p->npieces].protos = protos;
	p->npieces++;
}

int
kern_nft_plan(const struct model *m, const struct rule *r,
    struct kern_nft_rule *p, const char **why)
{
	static char msg[80];
	unsigned fam, icmp, l4 = r->protos & (PROTO_TCP | PROTO_UDP);
	bool ports = r->sport.n > 0 || r->dport.n > 0;

	p->npieces = 0;
	p->logpfx[0] = '\0';
	if (!kern_rule_comment(r, p->comment, sizeof(p->comment),
	    KERN_NFT_COMMENT_MAX)) {
		snprintf(msg, sizeof(msg), "comment too long (max %d chars "
		    "with the source location)", KERN_NFT_COMMENT_MAX);
		*why = msg;
		return -1;
	}
	if (r->log && !kern_log_prefix(m, r, p->logpfx, sizeof(p->logpfx),
	    KERN_NFT_LOGPFX_MAX)) {
		snprintf(msg, sizeof(msg), "log prefix too long (max %d chars)",
		    KERN_NFT_LOGPFX_MAX);
		*why = msg;
		return -1;
	}
	if (r->iface != NULL && !kern_iface(r->iface)) {
		*why = "invalid interface name";
		return -1;
	}
	if (ports && l4 == 0) {
		if (r->protos != 0) {
			*why = "a port match needs tcp or udp";
			return -1;
		}
		l4 = PROTO_TCP | PROTO_UDP;
	}
	if (!nft_needs_split(r)) {
		nft_piece(p, 0, r->protos == 0 && !ports ? 0 : l4);
		return (int)p->npieces;
	}
	for (fam = FAM_V4; fam <= FAM_V6; fam <<= 1) {
		if (!rule_has_family(r, fam))
			continue;
		if (r->src != NULL && kern_set_count(r->src, fam) == 0)
			continue;
		if (r->dst != NULL && kern_set_count(r->dst, fam) == 0)
			continue;
		if (r->protos == 0 && !ports) {
			nft_piece(p, fam, 0);
			continue;
		}
		/* One rule for the family's protocols (one rate bucket,
		 * one connection count); ICMP only without ports. */
		icmp = ports ? 0 : r->protos & (fam == FAM_V4 ? PROTO_ICMP :
		    PROTO_ICMPV6);
		if ((l4 | icmp) != 0)
			nft_piece(p, fam, l4 | icmp);
	}
	return (int)p->npieces;
}
