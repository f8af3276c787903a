/*
 * qconf.c - parse the xmppfw-queued configuration (version 1).
 *
 * The format is line based; docs/nfqueue-config.md describes it.  Every
 * value that can hold arbitrary bytes is percent-encoded (domains, file
 * names, locations) or hex-encoded (signatures), so a token never holds
 * a blank, and a line never holds anything but printable ASCII.  The
 * parser is strict: an unknown keyword, a missing field, a count that
 * does not match, or a missing "end-config" line rejects the whole file,
 * so that a truncated file is never half-applied on reload.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "qconf.h"

#define MAXTOK		8
#define MAXDOMAIN	1023		/* RFC 7622 domainpart, in bytes */

struct pstate {
	const char	*name;		/* file name for messages */
	const char	*dir;		/* for relative domains-file paths */
	const char	*p, *end;	/* the unread rest of the buffer */
	int		 lineno;
	char		*line;		/* the current line, NUL-terminated */
	size_t		 linecap;
	char		*tok[MAXTOK];
	size_t		 ntok;
	char		*errbuf;
	size_t		 errlen;
};

static int	perr(struct pstate *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static int
perr(struct pstate *ps, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(ps->errbuf, ps->errlen, "%s:%d: ", ps->name, ps->lineno);
	if (n < 0 || (size_t)n >= ps->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(ps->errbuf + n, ps->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

const char *
qaction_name(enum qaction a)
{
	switch (a) {
	case QA_ALLOW:
		return "allow";
	case QA_DENY:
		return "deny";
	case QA_REJECT:
		return "reject";
	}
	return "?";
}

/* ------------------------------------------------------------------ */
/* Domain sets                                                          */

static uint64_t
fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

void
domset_init(struct domset *ds)
{
	memset(ds, 0, sizeof(*ds));
}

void
domset_free(struct domset *ds)
{
	size_t i;

	for (i = 0; i < ds->cap; i++)
		free(ds->slot[i]);
	free(ds->slot);
	memset(ds, 0, sizeof(*ds));
}

/* The slot holding name, or the empty slot where it would go. */
static size_t
domset_probe(char *const *slot, size_t cap, const char *s, size_t n)
{
	size_t i = (size_t)fnv1a(s, n) & (cap - 1);

	while (slot[i] != NULL) {
		if (strlen(slot[i]) == n && memcmp(slot[i], s, n) == 0)
			break;
		i = (i + 1) & (cap - 1);
	}
	return i;
}

static int
domset_grow(struct domset *ds)
{
	size_t ncap = ds->cap ? ds->cap * 2 : 64, i, j;
	char **ns;

	if ((ns = calloc(ncap, sizeof(*ns))) == NULL)
		return -1;
	for (i = 0; i < ds->cap; i++) {
		if (ds->slot[i] == NULL)
			continue;
		j = domset_probe(ns, ncap, ds->slot[i], strlen(ds->slot[i]));
		ns[j] = ds->slot[i];
	}
	free(ds->slot);
	ds->slot = ns;
	ds->cap = ncap;
	return 0;
}

int
domset_add(struct domset *ds, const char *s, size_t n)
{
	size_t i;
	char *c;

	/* Keep the load factor under one half. */
	if ((ds->n + 1) * 2 > ds->cap && domset_grow(ds) == -1)
		return -1;
	if ((c = malloc(n + 1)) == NULL)
		return -1;
	for (i = 0; i < n; i++)
		c[i] = (char)tolower((unsigned char)s[i]);
	c[n] = '\0';
	i = domset_probe(ds->slot, ds->cap, c, n);
	if (ds->slot[i] != NULL) {
		free(c);
		return 0;
	}
	ds->slot[i] = c;
	ds->n++;
	return 0;
}

bool
domset_has(const struct domset *ds, const char *s, size_t n)
{
	if (ds->cap == 0)
		return false;
	return ds->slot[domset_probe(ds->slot, ds->cap, s, n)] != NULL;
}

bool
domset_match(const struct domset *ds, const char *s, size_t n)
{
	const char *dot;

	/* One look-up per label: a.b.c, then b.c, then c. */
	while (n > 0) {
		if (domset_has(ds, s, n))
			return true;
		if ((dot = memchr(s, '.', n)) == NULL)
			break;
		n -= (size_t)(dot + 1 - s);
		s = dot + 1;
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Lines and tokens                                                     */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode a percent-encoded token in place; -1 on a bad escape or NUL. */
static int
pct_decode(char *s, size_t *lenp)
{
	char *r = s, *w = s;
	int hi, lo;

	while (*r != '\0') {
		if (*r != '%') {
			*w++ = *r++;
			continue;
		}
		if ((hi = hexval(r[1])) == -1 || (lo = hexval(r[2])) == -1)
			return -1;
		if (hi == 0 && lo == 0)
			return -1;
		*w++ = (char)(hi << 4 | lo);
		r += 3;
	}
	*w = '\0';
	*lenp = (size_t)(w - s);
	return 0;
}

/* Decode a hex string into a new buffer. */
static unsigned char *
hex_decode(const char *s, size_t *lenp)
{
	size_t n = strlen(s), i;
	unsigned char *b;
	int hi, lo;

	if (n == 0 || n % 2 != 0)
		return NULL;
	if ((b = malloc(n / 2)) == NULL)
		return NULL;
	for (i = 0; i < n / 2; i++) {
		if ((hi = hexval(s[2 * i])) == -1 ||
		    (lo = hexval(s[2 * i + 1])) == -1) {
			free(b);
			return NULL;
		}
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	*lenp = n / 2;
	return b;
}

/*
 * Read the next line that is neither blank nor a comment and split it
 * into tokens.  Returns 1 with a line, 0 at the end, -1 on error.
 */
static int
next_line(struct pstate *ps)
{
	const char *nl;
	size_t n, i;
	char *s;

	for (;;) {
		if (ps->p >= ps->end)
			return 0;
		nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
		n = nl ? (size_t)(nl - ps->p) : (size_t)(ps->end - ps->p);
		ps->lineno++;
		if (n + 1 > ps->linecap) {
			free(ps->line);
			ps->linecap = n + 1;
			if ((ps->line = malloc(ps->linecap)) == NULL) {
				ps->linecap = 0;
				return perr(ps, "out of memory");
			}
		}
		memcpy(ps->line, ps->p, n);
		ps->line[n] = '\0';
		ps->p += n + (nl != NULL);
		if (n > 0 && ps->line[n - 1] == '\r')
			ps->line[--n] = '\0';
		for (i = 0; i < n; i++) {
			unsigned char c = (unsigned char)ps->line[i];

			if (c != '\t' && (c < 0x20 || c > 0x7e))
				return perr(ps, "byte 0x%02x not allowed "
				    "(values must be encoded)", c);
		}
		ps->ntok = 0;
		s = ps->line;
		for (;;) {
			while (*s == ' ' || *s == '\t')
				*s++ = '\0';
			if (*s == '\0' || (ps->ntok == 0 && *s == '#'))
				break;
			if (ps->ntok == MAXTOK)
				return perr(ps, "too many fields");
			ps->tok[ps->ntok++] = s;
			while (*s != '\0' && *s != ' ' && *s != '\t')
				s++;
		}
		if (ps->ntok > 0)
			return 1;
	}
}

static int
parse_ulong(const char *s, unsigned long max, unsigned long *vp)
{
	char *ep;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &ep, 0);
	if (errno != 0 || *ep != '\0' || v > max)
		return -1;
	*vp = v;
	return 0;
}

static int
parse_action(const char *s, enum qaction *ap)
{
	if (strcmp(s, "allow") == 0)
		*ap = QA_ALLOW;
	else if (strcmp(s, "deny") == 0)
		*ap = QA_DENY;
	else if (strcmp(s, "reject") == 0)
		*ap = QA_REJECT;
	else
		return -1;
	return 0;
}

/* Optional trailing "at LOC" on rule and default lines. */
static int
parse_loc(struct pstate *ps, size_t i, char **locp)
{
	size_t n;

	*locp = NULL;
	if (ps->ntok == i)
		return 0;
	if (ps->ntok != i + 2 || strcmp(ps->tok[i], "at") != 0)
		return perr(ps, "unexpected '%s'", ps->tok[i]);
	if (pct_decode(ps->tok[i + 1], &n) == -1)
		return perr(ps, "bad escape in location");
	if ((*locp = strdup(ps->tok[i + 1])) == NULL)
		return perr(ps, "out of memory");
	return 0;
}

/* Check a decoded domain and add it to the set. */
static int
add_domain(struct pstate *ps, struct domset *ds, char *d, size_t n)
{
	size_t i;

	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n > MAXDOMAIN)
		return perr(ps, "bad domain length");
	for (i = 0; i < n; i++)
		if ((unsigned char)d[i] <= ' ' || d[i] == '/' || d[i] == '@')
			return perr(ps, "bad character in domain");
	if (domset_add(ds, d, n) == -1)
		return perr(ps, "out of memory");
	return 0;
}

/* domains-file: one domain a line, '#' comments, blanks ignored. */
static int
load_domains_file(struct pstate *ps, struct domset *ds, const char *path)
{
	char full[4096], *buf = NULL, *s, *e, *nl;
	size_t cap = 0, len = 0, n;
	FILE *fp;
	int rc = 0;

	if (path[0] != '/' && ps->dir != NULL)
		snprintf(full, sizeof(full), "%s/%s", ps->dir, path);
	else
		snprintf(full, sizeof(full), "%s", path);
	if ((fp = fopen(full, "r")) == NULL)
		return perr(ps, "%s: %s", full, strerror(errno));
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap)) == NULL) {
				rc = perr(ps, "out of memory");
				goto out;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, fp);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp)) {
		rc = perr(ps, "%s: read error", full);
		goto out;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		rc = perr(ps, "%s: NUL byte", full);
		goto out;
	}
	for (s = buf; s < buf + len; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL)
			nl = buf + len;
		*nl = '\0';
		if ((e = strchr(s, '#')) != NULL)
			*e = '\0';
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		e = s + strlen(s);
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' ||
		    e[-1] == '\r'))
			*--e = '\0';
		if (*s == '\0')
			continue;
		if (add_domain(ps, ds, s, (size_t)(e - s)) == -1) {
			rc = -1;
			goto out;
		}
	}
out:
	free(buf);
	fclose(fp);
	return rc;
}

static void
qinspect_free(struct qinspect *qi)
{
	size_t i;

	for (i = 0; i < qi->nrules; i++) {
		domset_free(&qi->rules[i].domains);
		free(qi->rules[i].sig);
		free(qi->rules[i].loc);
	}
	free(qi->rules);
	free(qi->kind);
	free(qi->ports);
	free(qi->def_loc);
}

void
qconf_free(struct qconf *qc)
{
	size_t i;

	if (qc == NULL)
		return;
	for (i = 0; i < qc->ninspect; i++)
		qinspect_free(&qc->inspects[i]);
	free(qc->inspects);
	free(qc);
}

/* "rule ACTION domains N | domains-file PATH | string HEX [at LOC]" */
static int
parse_rule(struct pstate *ps, struct qinspect *qi)
{
	struct qrule *r, *nr;
	unsigned long cnt, k;
	size_t n;

	if (ps->ntok < 4)
		return perr(ps, "rule: missing fields");
	if ((nr = realloc(qi->rules, (qi->nrules + 1) * sizeof(*nr))) == NULL)
		return perr(ps, "out of memory");
	qi->rules = nr;
	r = &qi->rules[qi->nrules++];
	memset(r, 0, sizeof(*r));
	domset_init(&r->domains);
	if (parse_action(ps->tok[1], &r->action) == -1)
		return perr(ps, "unknown action '%s'", ps->tok[1]);
	if (parse_loc(ps, 4, &r->loc) == -1)
		return -1;
	if (strcmp(ps->tok[2], "string") == 0) {
		r->match = QM_STRING;
		if ((r->sig = hex_decode(ps->tok[3], &r->siglen)) == NULL)
			return perr(ps, "bad hex signature");
		return 0;
	}
	r->match = QM_DOMAIN;
	if (strcmp(ps->tok[2], "domains-file") == 0) {
		if (pct_decode(ps->tok[3], &n) == -1 || n == 0)
			return perr(ps, "bad file name");
		return load_domains_file(ps, &r->domains, ps->tok[3]);
	}
	if (strcmp(ps->tok[2], "domains") != 0)
		return perr(ps, "unknown match '%s'", ps->tok[2]);
	if (parse_ulong(ps->tok[3], 100000000UL, &cnt) == -1)
		return perr(ps, "bad domain count");
	for (k = 0; k < cnt; k++) {
		int rc = next_line(ps);

		if (rc == -1)
			return -1;
		if (rc == 0 || strcmp(ps->tok[0], "domain") != 0)
			return perr(ps, "expected %lu domain lines, got %lu",
			    cnt, k);
		if (ps->ntok != 2 || pct_decode(ps->tok[1], &n) == -1)
			return perr(ps, "bad domain line");
		if (add_domain(ps, &r->domains, ps->tok[1], n) == -1)
			return -1;
	}
	return 0;
}

/* One block, from after "inspect KIND" to "end". */
static int
parse_block(struct pstate *ps, struct qinspect *qi)
{
	bool seen_queue = false, seen_fail = false, seen_mark = false;
	bool seen_bytes = false, seen_def = false, seen_ports = false;
	unsigned long v;
	int rc;

	for (;;) {
		if ((rc = next_line(ps)) == -1)
			return -1;
		if (rc == 0)
			return perr(ps, "unexpected end of file in inspect "
			    "block");
		if (strcmp(ps->tok[0], "end") == 0 && ps->ntok == 1)
			break;
		if (seen_def)
			return perr(ps, "'%s' after default", ps->tok[0]);
		if (strcmp(ps->tok[0], "rule") == 0) {
			if (parse_rule(ps, qi) == -1)
				return -1;
			continue;
		}
		if (strcmp(ps->tok[0], "default") == 0) {
			if (ps->ntok < 2 || parse_action(ps->tok[1], &qi->def))
				return perr(ps, "default: bad action");
			if (parse_loc(ps, 2, &qi->def_loc) == -1)
				return -1;
			seen_def = true;
			continue;
		}
		if (ps->ntok != 2)
			return perr(ps, "'%s' takes one value", ps->tok[0]);
		if (strcmp(ps->tok[0], "queue") == 0 && !seen_queue) {
			if (parse_ulong(ps->tok[1], 65535, &v) == -1)
				return perr(ps, "bad queue number");
			qi->queue = (uint16_t)v;
			seen_queue = true;
		} else if (strcmp(ps->tok[0], "ports") == 0 && !seen_ports) {
			if ((qi->ports = strdup(ps->tok[1])) == NULL)
				return perr(ps, "out of memory");
			seen_ports = true;
		} else if (strcmp(ps->tok[0], "fail") == 0 && !seen_fail) {
			if (strcmp(ps->tok[1], "open") == 0)
				qi->fail_closed = false;
			else if (strcmp(ps->tok[1], "closed") == 0)
				qi->fail_closed = true;
			else
				return perr(ps, "fail: open or closed");
			seen_fail = true;
		} else if (strcmp(ps->tok[0], "mark") == 0 && !seen_mark) {
			if (parse_ulong(ps->tok[1], 0xffffffffUL, &v) == -1 ||
			    v == 0)
				return perr(ps, "bad mark");
			qi->mark = (uint32_t)v;
			seen_mark = true;
		} else if (strcmp(ps->tok[0], "bytes") == 0 && !seen_bytes) {
			if (parse_ulong(ps->tok[1], QCONF_MAXBYTES, &v) == -1 ||
			    v == 0)
				return perr(ps, "bad bytes (1..%d)",
				    QCONF_MAXBYTES);
			qi->bytes = (uint32_t)v;
			seen_bytes = true;
		} else
			return perr(ps, "unknown or repeated '%s'",
			    ps->tok[0]);
	}
	if (!seen_queue || !seen_fail || !seen_mark || !seen_bytes ||
	    !seen_def)
		return perr(ps, "inspect block lacks queue, fail, mark, "
		    "bytes or default");
	return 0;
}

struct qconf *
qconf_parse(const char *buf, size_t len, const char *name, const char *dir,
    char *errbuf, size_t errlen)
{
	struct pstate ps;
	struct qconf *qc;
	struct qinspect *qi;
	unsigned long ver;
	size_t i;
	int rc;
	bool done = false;

	memset(&ps, 0, sizeof(ps));
	ps.name = name;
	ps.dir = dir;
	ps.p = buf;
	ps.end = buf + len;
	ps.errbuf = errbuf;
	ps.errlen = errlen;
	if (errlen > 0)
		errbuf[0] = '\0';
	if ((qc = calloc(1, sizeof(*qc))) == NULL)
		return NULL;
	if (memchr(buf, '\0', len) != NULL) {
		perr(&ps, "NUL byte in file");
		goto fail;
	}
	if ((rc = next_line(&ps)) != 1 || ps.ntok != 2 ||
	    strcmp(ps.tok[0], QCONF_MAGIC) != 0 ||
	    parse_ulong(ps.tok[1], 1000, &ver) == -1) {
		if (rc != -1)
			perr(&ps, "not an %s file", QCONF_MAGIC);
		goto fail;
	}
	if (ver != QCONF_VERSION) {
		perr(&ps, "version %lu not supported (this is %d)", ver,
		    QCONF_VERSION);
		goto fail;
	}
	while ((rc = next_line(&ps)) == 1) {
		if (done) {
			perr(&ps, "text after end-config");
			goto fail;
		}
		if (strcmp(ps.tok[0], "end-config") == 0 && ps.ntok == 1) {
			done = true;
			continue;
		}
		if (strcmp(ps.tok[0], "inspect") != 0 || ps.ntok != 2) {
			perr(&ps, "expected 'inspect KIND' or 'end-config'");
			goto fail;
		}
		qi = realloc(qc->inspects, (qc->ninspect + 1) * sizeof(*qi));
		if (qi == NULL) {
			perr(&ps, "out of memory");
			goto fail;
		}
		qc->inspects = qi;
		qi = &qc->inspects[qc->ninspect++];
		memset(qi, 0, sizeof(*qi));
		if ((qi->kind = strdup(ps.tok[1])) == NULL ||
		    parse_block(&ps, qi) == -1)
			goto fail;
		for (i = 0; i + 1 < qc->ninspect; i++)
			if (qc->inspects[i].queue == qi->queue) {
				perr(&ps, "queue %u used twice", qi->queue);
				goto fail;
			}
	}
	if (rc == -1)
		goto fail;
	if (!done) {
		perr(&ps, "missing end-config (truncated file?)");
		goto fail;
	}
	free(ps.line);
	return qc;
fail:
	free(ps.line);
	qconf_free(qc);
	return NULL;
}

struct qconf *
qconf_load(const char *path, char *errbuf, size_t errlen)
{
	char *buf = NULL, *dir = NULL, *slash;
	size_t cap = 0, len = 0, n;
	struct qconf *qc = NULL;
	FILE *fp;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (len == cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap)) == NULL) {
				snprintf(errbuf, errlen, "%s: out of memory",
				    path);
				goto out;
			}
			buf = nb;
		}
		if ((n = fread(buf + len, 1, cap - len, fp)) == 0)
			break;
		len += n;
	}
	if (ferror(fp)) {
		snprintf(errbuf, errlen, "%s: read error", path);
		goto out;
	}
	if ((slash = strrchr(path, '/')) != NULL &&
	    (dir = strndup(path, (size_t)(slash - path) + 1)) == NULL)
		goto out;
	qc = qconf_parse(buf ? buf : "", len, path, dir, errbuf, errlen);
out:
	free(dir);
	free(buf);
	fclose(fp);
	return qc;
}

struct qinspect *
qconf_find_queue(struct qconf *qc, uint16_t q)
{
	size_t i;

	for (i = 0; qc != NULL && i < qc->ninspect; i++)
		if (qc->inspects[i].queue == q)
			return &qc->inspects[i];
	return NULL;
}
