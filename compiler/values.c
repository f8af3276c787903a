/*
 * values.c - typed values: addresses, ports and JIDs, inline or from
 * `file' lists, with $references resolved lazily and cycle-checked.
 *
 * Address values become intervals (IPv4 in uint32_t, IPv6 in a 128-bit
 * integer) that are sorted and merged once per definition, so a 1M-entry
 * blocklist costs one sort.  Nothing is resolved through DNS.
 */
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "utf8.h"

/* ------------------------------------------------------------------ */
/* Address intervals                                                   */

static void
push4(struct addrval *a, uint32_t lo, uint32_t hi)
{
	if ((a->n4 & (a->n4 - 1)) == 0)
		a->v4 = xrealloc(a->v4, (a->n4 ? a->n4 * 2 : 4) *
		    sizeof(*a->v4));
	a->v4[a->n4].lo = lo;
	a->v4[a->n4].hi = hi;
	a->n4++;
}

static void
push6(struct addrval *a, u128 lo, u128 hi)
{
	if ((a->n6 & (a->n6 - 1)) == 0)
		a->v6 = xrealloc(a->v6, (a->n6 ? a->n6 * 2 : 4) *
		    sizeof(*a->v6));
	a->v6[a->n6].lo = lo;
	a->v6[a->n6].hi = hi;
	a->n6++;
}

void
addrval_free(struct addrval *a)
{
	free(a->v4);
	free(a->v6);
	memset(a, 0, sizeof(*a));
}

static int
cmp4(const void *x, const void *y)
{
	const struct iv4 *a = x, *b = y;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return a->hi < b->hi ? -1 : a->hi > b->hi;
}

static int
cmp6(const void *x, const void *y)
{
	const struct iv6 *a = x, *b = y;

	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return a->hi < b->hi ? -1 : a->hi > b->hi;
}

/*
 * Radix sort for IPv4 intervals: 1M entries sort in a few milliseconds,
 * where qsort with a callback takes ~100 ms.
 */
static void
sort4(struct iv4 *v, size_t n)
{
	struct iv4 *tmp;
	size_t count[256], i, pass;
	uint32_t shift;

	if (n < 64) {
		qsort(v, n, sizeof(*v), cmp4);
		return;
	}
	tmp = xmalloc(n * sizeof(*tmp));
	for (pass = 0; pass < 4; pass++) {
		shift = (uint32_t)pass * 8;
		memset(count, 0, sizeof(count));
		for (i = 0; i < n; i++)
			count[(v[i].lo >> shift) & 0xff]++;
		for (i = 1; i < 256; i++)
			count[i] += count[i - 1];
		for (i = n; i-- > 0;)
			tmp[--count[(v[i].lo >> shift) & 0xff]] = v[i];
		memcpy(v, tmp, n * sizeof(*v));
	}
	free(tmp);
}

void
addrval_normalise(struct addrval *a)
{
	size_t i, k;

	if (a->n4 > 1) {
		sort4(a->v4, a->n4);
		for (i = 1, k = 0; i < a->n4; i++) {
			if (a->v4[i].lo <= a->v4[k].hi ||
			    (a->v4[k].hi != UINT32_MAX &&
			    a->v4[i].lo == a->v4[k].hi + 1)) {
				if (a->v4[i].hi > a->v4[k].hi)
					a->v4[k].hi = a->v4[i].hi;
			} else
				a->v4[++k] = a->v4[i];
		}
		a->n4 = k + 1;
	}
	if (a->n6 > 1) {
		qsort(a->v6, a->n6, sizeof(*a->v6), cmp6);
		for (i = 1, k = 0; i < a->n6; i++) {
			if (a->v6[i].lo <= a->v6[k].hi ||
			    (a->v6[k].hi != ~(u128)0 &&
			    a->v6[i].lo == a->v6[k].hi + 1)) {
				if (a->v6[i].hi > a->v6[k].hi)
					a->v6[k].hi = a->v6[i].hi;
			} else
				a->v6[++k] = a->v6[i];
		}
		a->n6 = k + 1;
	}
}

static void
addrval_merge(struct addrval *dst, const struct addrval *src)
{
	size_t i;

	if (src->any)
		dst->any = true;
	for (i = 0; i < src->n4; i++)
		push4(dst, src->v4[i].lo, src->v4[i].hi);
	for (i = 0; i < src->n6; i++)
		push6(dst, src->v6[i].lo, src->v6[i].hi);
}

uint32_t
pfx4_last(const struct pfx4 *p)
{
	return p->len == 0 ? UINT32_MAX :
	    p->addr | (uint32_t)(((uint64_t)1 << (32 - p->len)) - 1);
}

u128
pfx6_first(const struct pfx6 *p)
{
	u128 v = 0;
	int i;

	for (i = 0; i < 16; i++)
		v = (v << 8) | p->addr[i];
	return v;
}

u128
pfx6_last(const struct pfx6 *p)
{
	return p->len == 0 ? ~(u128)0 :
	    pfx6_first(p) | ((((u128)1) << (128 - p->len)) - 1);
}

const struct flagname state_flags[5] = {
	{ "new", CT_NEW }, { "established", CT_ESTABLISHED },
	{ "related", CT_RELATED }, { "invalid", CT_INVALID },
	{ "untracked", CT_UNTRACKED },
};

const struct flagname stanza_flags[4] = {
	{ "iq", STANZA_IQ }, { "message", STANZA_MESSAGE },
	{ "presence-in", STANZA_PRESENCE_IN },
	{ "presence-out", STANZA_PRESENCE_OUT },
};

unsigned
flag_lookup(const struct flagname *t, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].bit;
	return 0;
}

/* Split intervals into the fewest CIDR prefixes. */
static size_t
count_pfx4(uint32_t lo, uint32_t hi, struct pfx4 *out)
{
	size_t n = 0;
	uint64_t cur = lo, end = (uint64_t)hi + 1;
	unsigned len;

	while (cur < end) {
		len = 32;
		while (len > 0) {
			uint64_t size = (uint64_t)1 << (33 - len);

			if ((cur & (size - 1)) != 0 || cur + size > end)
				break;
			len--;
		}
		if (out != NULL) {
			out[n].addr = (uint32_t)cur;
			out[n].len = (uint8_t)len;
		}
		n++;
		cur += (uint64_t)1 << (32 - len);
	}
	return n;
}

static size_t
count_pfx6(u128 lo, u128 hi, struct pfx6 *out)
{
	size_t n = 0;
	u128 cur = lo, size;
	unsigned len, i;
	bool done = false;

	while (!done) {
		len = 128;
		while (len > 0) {
			if (len == 1) {
				/* The /0 block: 1 << 128 does not fit. */
				if (cur == 0 && hi == ~(u128)0)
					len--;
				break;
			}
			size = (u128)1 << (129 - len);
			if ((cur & (size - 1)) != 0 || cur + size - 1 > hi ||
			    cur + size - 1 < cur)
				break;
			len--;
		}
		if (out != NULL) {
			for (i = 0; i < 16; i++)
				out[n].addr[i] = (uint8_t)(cur >> (120 - 8 * i));
			out[n].len = (uint8_t)len;
		}
		n++;
		size = len == 0 ? 0 : (u128)1 << (128 - len);
		if (len == 0 || cur + size - 1 >= hi)
			done = true;
		else
			cur += size;
	}
	return n;
}

struct addrset *
addrset_from(struct arena *ar, const struct addrval *a, const char *name,
    struct srcloc loc)
{
	struct addrset *s = arena_alloc(ar, sizeof(*s));
	size_t i, n;

	s->name = name;
	s->loc = loc;
	for (i = 0, n = 0; i < a->n4; i++)
		n += count_pfx4(a->v4[i].lo, a->v4[i].hi, NULL);
	s->v4 = arena_alloc(ar, (n ? n : 1) * sizeof(*s->v4));
	for (i = 0; i < a->n4; i++)
		s->n4 += count_pfx4(a->v4[i].lo, a->v4[i].hi, s->v4 + s->n4);
	for (i = 0, n = 0; i < a->n6; i++)
		n += count_pfx6(a->v6[i].lo, a->v6[i].hi, NULL);
	s->v6 = arena_alloc(ar, (n ? n : 1) * sizeof(*s->v6));
	for (i = 0; i < a->n6; i++)
		s->n6 += count_pfx6(a->v6[i].lo, a->v6[i].hi, s->v6 + s->n6);
	return s;
}

/* ------------------------------------------------------------------ */
/* Parsing single values                                               */

int
parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s[2] != '\0') {
		for (s += 2; *s != '\0'; s++) {
			if (!isxdigit((unsigned char)*s))
				return -1;
			v = v * 16 + (uint64_t)(isdigit((unsigned char)*s) ?
			    *s - '0' : (tolower((unsigned char)*s) - 'a' + 10));
			if (v > max)
				return -2;
		}
	} else {
		for (; *s != '\0'; s++) {
			if (*s < '0' || *s > '9')
				return -1;
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > max)
				return -2;
		}
	}
	*out = (uint32_t)v;
	return 0;
}

static bool
parse_v4(const char *s, size_t n, uint32_t *out)
{
	char buf[INET_ADDRSTRLEN];
	struct in_addr a;

	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return false;
	*out = ntohl(a.s_addr);
	return true;
}

static bool
parse_v6(const char *s, size_t n, u128 *out)
{
	char buf[INET6_ADDRSTRLEN];
	unsigned char b[16];
	u128 v = 0;
	int i;

	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET6, buf, b) != 1)
		return false;
	for (i = 0; i < 16; i++)
		v = (v << 8) | b[i];
	*out = v;
	return true;
}

/*
 * Parse one address value: any, A, A/len, A-B, for IPv4 and IPv6.
 * Returns 0, or -1 after reporting an error.
 */
int
parse_addr(struct ctx *c, const char *s, struct loc l, struct addrval *a,
    bool warn)
{
	const char *slash = strchr(s, '/'), *dash = strchr(s, '-');
	size_t n = slash ? (size_t)(slash - s) : dash ? (size_t)(dash - s) :
	    strlen(s);
	uint32_t lo4, hi4, len;
	u128 lo6, hi6, mask6;
	bool v6 = strchr(s, ':') != NULL;

	if (strcmp(s, "any") == 0) {
		a->any = true;
		return 0;
	}
	if (slash != NULL && dash != NULL) {
		error(c, l, "'%s' is not an address: a range cannot have a "
		    "prefix length", s);
		return -1;
	}
	if (!v6) {
		if (!parse_v4(s, n, &lo4))
			goto bad;
		hi4 = lo4;
		if (slash != NULL) {
			if (parse_u32(slash + 1, 32, &len) != 0 ||
			    (slash[1] == '0' && slash[2] != '\0')) {
				error(c, l, "invalid prefix length in '%s' "
				    "(0..32)", s);
				return -1;
			}
			mask6 = len == 0 ? 0 : (uint32_t)(~0u << (32 - len));
			if ((lo4 & ~(uint32_t)mask6) != 0 && warn)
				warning(c, l, "host-bits", "host bits set in "
				    "'%s'; it means %u.%u.%u.%u/%u", s,
				    (lo4 & (uint32_t)mask6) >> 24,
				    ((lo4 & (uint32_t)mask6) >> 16) & 0xff,
				    ((lo4 & (uint32_t)mask6) >> 8) & 0xff,
				    lo4 & (uint32_t)mask6 & 0xff, len);
			lo4 &= (uint32_t)mask6;
			hi4 = lo4 | ~(uint32_t)mask6;
		} else if (dash != NULL) {
			if (!parse_v4(dash + 1, strlen(dash + 1), &hi4))
				goto bad;
			if (hi4 < lo4) {
				error(c, l, "empty address range '%s' (end "
				    "before start)", s);
				return -1;
			}
		}
		push4(a, lo4, hi4);
		return 0;
	}
	if (!parse_v6(s, n, &lo6))
		goto bad;
	hi6 = lo6;
	if (slash != NULL) {
		if (parse_u32(slash + 1, 128, &len) != 0 ||
		    (slash[1] == '0' && slash[2] != '\0')) {
			error(c, l, "invalid prefix length in '%s' (0..128)", s);
			return -1;
		}
		mask6 = len == 0 ? 0 : ~(u128)0 << (128 - len);
		if ((lo6 & ~mask6) != 0 && warn)
			warning(c, l, "host-bits", "host bits set in '%s'", s);
		lo6 &= mask6;
		hi6 = lo6 | ~mask6;
	} else if (dash != NULL) {
		if (!parse_v6(dash + 1, strlen(dash + 1), &hi6))
			goto bad;
		if (hi6 < lo6) {
			error(c, l, "empty address range '%s' (end before "
			    "start)", s);
			return -1;
		}
	}
	push6(a, lo6, hi6);
	return 0;
bad:
	error(c, l, "'%s' is not an IPv4 or IPv6 address, prefix or range "
	    "(names are not resolved)", s);
	return -1;
}

static const struct service {
	const char	*name;
	uint16_t	 port;
} services[] = {
	{ "bgp", 179 }, { "dns", 53 }, { "domain", 53 }, { "ftp", 21 },
	{ "http", 80 }, { "https", 443 }, { "imap", 143 }, { "imaps", 993 },
	{ "ldap", 389 }, { "ldaps", 636 }, { "ntp", 123 }, { "pop3", 110 },
	{ "pop3s", 995 }, { "proxy65", 7777 }, { "smtp", 25 },
	{ "snmp", 161 }, { "ssh", 22 }, { "stun", 3478 }, { "stuns", 5349 },
	{ "submission", 587 }, { "syslog", 514 }, { "telnet", 23 },
	{ "xmpp-bosh", 5280 }, { "xmpp-bosh-tls", 5281 },
	{ "xmpp-client", 5222 }, { "xmpp-server", 5269 },
	{ "xmpps-client", 5223 }, { "xmpps-server", 5270 },
};

static int
parse_port1(const char *s, uint16_t *out)
{
	uint32_t v;
	size_t i;
	int r;

	for (i = 0; i < sizeof(services) / sizeof(services[0]); i++) {
		if (strcmp(s, services[i].name) == 0) {
			*out = services[i].port;
			return 0;
		}
	}
	r = parse_u32(s, 1000000, &v);
	if (r == -1 || (s[0] == '0' && s[1] != '\0'))
		return -1;		/* not a number or name */
	if (r == -2 || v < 1 || v > 65535)
		return -2;		/* out of range */
	*out = (uint16_t)v;
	return 0;
}

static int
parse_port(struct ctx *c, const char *s, struct loc l, struct portset *ps,
    struct arena *ar)
{
	const char *dash = strchr(s, '-');
	char buf[64];
	uint16_t lo, hi;
	int r;

	/* Service names may hold '-' (xmpp-client): try the whole first. */
	r = parse_port1(s, &lo);
	hi = lo;
	if (r == -1 && dash != NULL && (size_t)(dash - s) < sizeof(buf)) {
		memcpy(buf, s, (size_t)(dash - s));
		buf[dash - s] = '\0';
		r = parse_port1(buf, &lo);
		if (r == 0)
			r = parse_port1(dash + 1, &hi);
		if (r == 0 && hi < lo) {
			error(c, l, "empty port range '%s' (end before start)",
			    s);
			return -1;
		}
	}
	if (r == -2) {
		error(c, l, "port %s out of range 1..65535", s);
		return -1;
	}
	if (r != 0) {
		error(c, l, "'%s' is not a port, port range or known service "
		    "name", s);
		return -1;
	}
	if ((ps->n & (ps->n - 1)) == 0)
		ps->r = arena_grow(ar, ps->r, ps->n * sizeof(*ps->r),
		    (ps->n ? ps->n * 2 : 4) * sizeof(*ps->r));
	ps->r[ps->n].lo = lo;
	ps->r[ps->n].hi = hi;
	ps->n++;
	return 0;
}

static int
cmpport(const void *x, const void *y)
{
	const struct port_range *a = x, *b = y;

	return (int)a->lo - (int)b->lo;
}

static void
portset_normalise(struct portset *ps)
{
	size_t i, k;

	if (ps->n < 2)
		return;
	qsort(ps->r, ps->n, sizeof(*ps->r), cmpport);
	for (i = 1, k = 0; i < ps->n; i++) {
		if (ps->r[i].lo <= (uint32_t)ps->r[k].hi + 1) {
			if (ps->r[i].hi > ps->r[k].hi)
				ps->r[k].hi = ps->r[i].hi;
		} else
			ps->r[++k] = ps->r[i];
	}
	ps->n = k + 1;
}

/* ------------------------------------------------------------------ */
/* file lists                                                          */

typedef int (*entry_fn)(struct program *, struct def *, const char *,
    struct loc);

static int
addr_entry(struct program *p, struct def *d, const char *s, struct loc l)
{
	if (strcmp(s, "any") == 0) {
		error(p->ctx, l, "'any' in a file list");
		return -1;
	}
	return parse_addr(p->ctx, s, l, &d->addr, true);
}

static int
port_entry(struct program *p, struct def *d, const char *s, struct loc l)
{
	return parse_port(p->ctx, s, l, &d->ports, &p->ctx->arena);
}

static void
jid_push(struct arena *ar, struct jidval *j, const char *s, struct loc l)
{
	if ((j->n & (j->n - 1)) == 0) {
		size_t cap = j->n ? j->n * 2 : 4;

		j->jids = arena_grow(ar, j->jids, j->n * sizeof(*j->jids),
		    cap * sizeof(*j->jids));
		j->locs = arena_grow(ar, j->locs, j->n * sizeof(*j->locs),
		    cap * sizeof(*j->locs));
	}
	j->jids[j->n] = s;
	j->locs[j->n] = l;
	j->n++;
}

static int
jid_entry(struct program *p, struct def *d, const char *s, struct loc l)
{
	const char *n = jid_normalise(p->ctx, s, l, false);

	if (n == NULL)
		return -1;
	jid_push(&p->ctx->arena, &d->jid, n, l);
	return 0;
}

/*
 * Read a list file: one value a line, '#' comments, blank lines ignored,
 * leading and trailing blanks (and a CR before the newline) stripped.
 */
static int
read_list(struct program *p, struct def *d, struct value *fv)
{
	struct ctx *c = p->ctx;
	const struct source *s;
	entry_fn fn = d->type == DEF_ADDR ? addr_entry :
	    d->type == DEF_PORT ? port_entry : jid_entry;
	const char *path, *t, *end, *nl, *a, *b;
	char small[256], *buf;
	size_t n, i, count = 0;
	int file, line = 0, errs = 0;

	if (fv->kind != VAL_STRING) {
		error(c, fv->loc, "file takes a quoted file name");
		return 1;
	}
	path = path_relative(c, fv->loc.file, fv->text);
	file = source_load(c, path, fv->loc, false);
	if (file < 0)
		return 1;
	c->sources[file]->is_list = true;
	s = ctx_source(c, file);
	n = utf8_invalid(s->text, s->len);
	if (memchr(s->text, '\0', s->len) != NULL) {
		error(c, fv->loc, "'%s' holds NUL bytes: not a text list",
		    fv->text);
		return 1;
	}
	if (n != s->len) {
		error(c, fv->loc, "'%s' is not valid UTF-8 text", fv->text);
		return 1;
	}
	for (t = s->text, end = s->text + s->len; t < end; t = nl + 1) {
		line++;
		nl = memchr(t, '\n', (size_t)(end - t));
		if (nl == NULL)
			nl = end;
		a = t;
		b = memchr(t, '#', (size_t)(nl - t));
		if (b == NULL)
			b = nl;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t' ||
		    b[-1] == '\r'))
			b--;
		if (a == b)
			continue;
		for (i = 0; a + i < b; i++)
			if (a[i] == ' ' || a[i] == '\t')
				break;
		struct loc l = { file, line, (int)(a - t) + 1, (int)(b - a) };
		if (a + i < b) {
			error(c, l, "one value a line expected");
			errs++;
			continue;
		}
		n = (size_t)(b - a);
		buf = n < sizeof(small) ? small : xmalloc(n + 1);
		memcpy(buf, a, n);
		buf[n] = '\0';
		if (fn(p, d, buf, l) != 0)
			errs++;
		else
			count++;
		if (buf != small)
			free(buf);
		if (errs > 50)
			break;
	}
	if (count == 0 && errs == 0) {
		error(c, fv->loc, "'%s' holds no values", fv->text);
		errs++;
	}
	return errs;
}

/* ------------------------------------------------------------------ */
/* Definitions and value lists                                         */

static const char *const type_names[] = {
	[DEF_ADDR] = "an address", [DEF_PORT] = "a port", [DEF_JID] = "a JID",
};

static struct def *
ref_get(struct program *p, struct value *v, enum def_type want)
{
	struct def *d = def_find(p, v->text);

	if (d == NULL) {
		error(p->ctx, v->loc, "undefined reference '$%s'", v->text);
		return NULL;
	}
	d->used = true;
	if (d->type != want) {
		error(p->ctx, v->loc, "'$%s' is %s definition, expected %s",
		    v->text, type_names[d->type], type_names[want]);
		note(p->ctx, d->loc, "'%s' is defined here", d->name);
		return NULL;
	}
	if (def_resolve(p, d) != 0)
		return NULL;
	return d;
}

int
def_resolve(struct program *p, struct def *d)
{
	struct stmt *s = d->stmt;
	int errs = 0;

	if (d->state == 2)
		return 0;
	if (d->state == 3)
		return 1;
	if (d->state == 1) {
		error(p->ctx, d->loc, "definition '%s' refers to itself",
		    d->name);
		d->state = 3;
		return 1;
	}
	d->state = 1;
	if (s->u.define.file != NULL)
		errs = read_list(p, d, s->u.define.file);
	else if (d->type == DEF_ADDR)
		errs = addr_eval(p, s->u.define.values, &d->addr);
	else if (d->type == DEF_PORT)
		errs = port_eval(p, s->u.define.values, &d->ports);
	else
		errs = jid_eval(p, s->u.define.values, &d->jid, false);
	if (d->state == 3)
		return 1;
	if (d->type == DEF_ADDR)
		addrval_normalise(&d->addr);
	d->state = errs ? 3 : 2;
	return errs;
}

int
addr_eval(struct program *p, struct values *vs, struct addrval *out)
{
	struct def *d;
	size_t i;
	int errs = 0;

	for (i = 0; i < vs->n; i++) {
		struct value *v = vs->v[i];

		if (v->kind == VAL_REF) {
			if ((d = ref_get(p, v, DEF_ADDR)) == NULL)
				errs++;
			else
				addrval_merge(out, &d->addr);
		} else if (v->kind == VAL_STRING) {
			error(p->ctx, v->loc, "an address is not quoted");
			errs++;
		} else if (parse_addr(p->ctx, v->text, v->loc, out, true) != 0)
			errs++;
	}
	addrval_normalise(out);
	return errs;
}

int
port_eval(struct program *p, struct values *vs, struct portset *out)
{
	struct def *d;
	size_t i, k;
	int errs = 0;

	for (i = 0; i < vs->n; i++) {
		struct value *v = vs->v[i];

		if (v->kind == VAL_REF) {
			if ((d = ref_get(p, v, DEF_PORT)) == NULL) {
				errs++;
				continue;
			}
			for (k = 0; k < d->ports.n; k++) {
				struct port_range r = d->ports.r[k];

				if ((out->n & (out->n - 1)) == 0)
					out->r = arena_grow(&p->ctx->arena,
					    out->r, out->n * sizeof(*out->r),
					    (out->n ? out->n * 2 : 4) *
					    sizeof(*out->r));
				out->r[out->n++] = r;
			}
		} else if (strcmp(v->text, "any") == 0) {
			error(p->ctx, v->loc, "'any' port: leave the port "
			    "clause out instead");
			errs++;
		} else if (parse_port(p->ctx, v->text, v->loc, out,
		    &p->ctx->arena) != 0)
			errs++;
	}
	portset_normalise(out);
	return errs;
}

int
jid_eval(struct program *p, struct values *vs, struct jidval *out,
    bool domain_only)
{
	struct def *d;
	const char *n;
	size_t i, k;
	int errs = 0;

	for (i = 0; i < vs->n; i++) {
		struct value *v = vs->v[i];

		if (v->kind == VAL_REF) {
			if ((d = ref_get(p, v, DEF_JID)) == NULL) {
				errs++;
				continue;
			}
			for (k = 0; k < d->jid.n; k++) {
				if (domain_only && (strchr(d->jid.jids[k], '@')
				    || strchr(d->jid.jids[k], '/'))) {
					error(p->ctx, v->loc, "'%s' in '$%s' "
					    "is not a bare domain",
					    d->jid.jids[k], d->name);
					errs++;
					continue;
				}
				jid_push(&p->ctx->arena, out, d->jid.jids[k],
				    d->jid.locs[k]);
			}
			continue;
		}
		n = jid_normalise(p->ctx, v->text, v->loc, domain_only);
		if (n == NULL)
			errs++;
		else
			jid_push(&p->ctx->arena, out, n, v->loc);
	}
	return errs;
}
