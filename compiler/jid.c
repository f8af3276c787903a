/*
 * jid.c - JIDs (RFC 7622): validation, normalisation and matching.
 *
 * A JID is [local@]domain[/resource].  Each part is prepared with the
 * XMPP stringprep profiles of libidn (Nodeprep, Nameprep, Resourceprep,
 * RFC 3920 appendices A and B), which fold case and reject forbidden
 * characters; each part must then be 1..1023 bytes.  Where preparation
 * changes a non-ASCII value, check warns: the server will see the
 * normalised form, not what the policy says.
 */
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include <stringprep.h>

#include "compile.h"
#include "utf8.h"

#define JID_PART_MAX	1023

static char *
prep(const char *in, size_t n, int (*fn)(char *, size_t))
{
	size_t cap = n * 4 + 16;
	char *buf = xmalloc(cap);

	memcpy(buf, in, n);
	buf[n] = '\0';
	if (fn(buf, cap) != STRINGPREP_OK) {
		free(buf);
		return NULL;
	}
	return buf;
}

static int
nodeprep(char *s, size_t n)
{
	return stringprep_xmpp_nodeprep(s, n);
}

static int
nameprep(char *s, size_t n)
{
	return stringprep_nameprep(s, n);
}

static int
resprep(char *s, size_t n)
{
	return stringprep_xmpp_resourceprep(s, n);
}

static bool
domain_ok(struct ctx *c, const char *d, struct loc l, const char *jid)
{
	const char *p, *label = d;
	char buf[INET6_ADDRSTRLEN + 2];
	unsigned char tmp[16];
	size_t n = strlen(d);

	if (d[0] == '[') {
		if (n < 3 || d[n - 1] != ']' || n - 2 >= sizeof(buf)) {
			error(c, l, "invalid IP literal domain in '%s'", jid);
			return false;
		}
		memcpy(buf, d + 1, n - 2);
		buf[n - 2] = '\0';
		if (inet_pton(AF_INET6, buf, tmp) != 1) {
			error(c, l, "invalid IPv6 literal in '%s'", jid);
			return false;
		}
		return true;
	}
	for (p = d;; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '.' || ch == '\0') {
			if (p == label) {
				error(c, l, "empty label in the domain of "
				    "'%s'", jid);
				return false;
			}
			if (p - label > 63) {
				error(c, l, "a label of the domain of '%s' is "
				    "longer than 63 bytes", jid);
				return false;
			}
			if (ch == '\0')
				break;
			label = p + 1;
			continue;
		}
		if (ch < 0x80 && !(ch == '-' || ch == '_' ||
		    (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z'))) {
			error(c, l, "character '%c' is not allowed in the "
			    "domain of '%s'", ch >= 0x20 && ch < 0x7f ? ch : '?',
			    jid);
			return false;
		}
	}
	return true;
}

/*
 * Validate and normalise a JID.  Returns the normalised form in the
 * arena, or NULL after reporting an error.  With domain_only, only a bare
 * domain is accepted.
 */
const char *
jid_normalise(struct ctx *c, const char *jid, struct loc l, bool domain_only)
{
	const char *slash, *at, *dom, *res = NULL;
	size_t nloc = 0, ndom, nres = 0, n = strlen(jid);
	char *pl = NULL, *pd = NULL, *pr = NULL;
	const char *out = NULL;

	if (n == 0) {
		error(c, l, "empty JID");
		return NULL;
	}
	if (n > 3 * JID_PART_MAX + 2) {
		error(c, l, "JID is %zu bytes, longer than RFC 7622 allows "
		    "(%d)", n, 3 * JID_PART_MAX + 2);
		return NULL;
	}
	if (utf8_invalid(jid, n) != n) {
		error(c, l, "JID is not valid UTF-8");
		return NULL;
	}
	slash = strchr(jid, '/');
	at = memchr(jid, '@', slash ? (size_t)(slash - jid) : n);
	dom = at ? at + 1 : jid;
	ndom = slash ? (size_t)(slash - dom) : strlen(dom);
	if (at != NULL)
		nloc = (size_t)(at - jid);
	if (slash != NULL) {
		res = slash + 1;
		nres = strlen(res);
	}
	if (domain_only && (at != NULL || slash != NULL)) {
		error(c, l, "'%s' is not a bare domain", jid);
		return NULL;
	}
	if (at != NULL && nloc == 0) {
		error(c, l, "empty localpart in JID '%s'", jid);
		return NULL;
	}
	if (ndom == 0) {
		error(c, l, "empty domain in JID '%s'", jid);
		return NULL;
	}
	if (slash != NULL && nres == 0) {
		error(c, l, "empty resource in JID '%s'", jid);
		return NULL;
	}
	if (nloc > JID_PART_MAX || ndom > JID_PART_MAX ||
	    nres > JID_PART_MAX) {
		error(c, l, "a part of JID '%.40s...' is longer than %d bytes",
		    jid, JID_PART_MAX);
		return NULL;
	}
	if (at != NULL && (pl = prep(jid, nloc, nodeprep)) == NULL) {
		error(c, l, "invalid localpart in JID '%s' (forbidden "
		    "character)", jid);
		goto out;
	}
	if (ndom > 1 && dom[ndom - 1] == '.')
		ndom--;		/* a final dot is not part of the domain */
	if (dom[0] == '[')
		pd = prep(dom, ndom, resprep);
	else
		pd = prep(dom, ndom, nameprep);
	if (pd == NULL) {
		error(c, l, "invalid domain in JID '%s'", jid);
		goto out;
	}
	if (!domain_ok(c, pd, l, jid))
		goto out;
	if (res != NULL && (pr = prep(res, nres, resprep)) == NULL) {
		error(c, l, "invalid resource in JID '%s'", jid);
		goto out;
	}
	if ((pl && strlen(pl) > JID_PART_MAX) || strlen(pd) > JID_PART_MAX ||
	    (pr && strlen(pr) > JID_PART_MAX)) {
		error(c, l, "a part of JID '%.40s...' is longer than %d bytes "
		    "after normalisation", jid, JID_PART_MAX);
		goto out;
	}
	out = arena_printf(&c->arena, "%s%s%s%s%s", pl ? pl : "",
	    pl ? "@" : "", pd, pr ? "/" : "", pr ? pr : "");
	if (!utf8_is_ascii(jid) && strcmp(out, jid) != 0)
		warning(c, l, "normalised", "JID '%s' is normalised to '%s'",
		    jid, out);
out:
	free(pl);
	free(pd);
	free(pr);
	return out;
}

/*
 * XEP-0016 section 2.1: does the item's JID value match a stanza's JID?
 * <user@domain/resource> matches only itself; <user@domain> any
 * resource; <domain/resource> only that; <domain> the domain, every user
 * at it and every resource.  Both are normalised.
 */
bool
jid_match(const char *item, const char *jid)
{
	const char *islash = strchr(item, '/'), *iat = strchr(item, '@');
	const char *jslash = strchr(jid, '/'), *jat = strchr(jid, '@');
	size_t jbare = jslash ? (size_t)(jslash - jid) : strlen(jid);
	const char *jdom = jat != NULL && (jslash == NULL || jat < jslash) ?
	    jat + 1 : jid;
	size_t jdomn = jslash ? (size_t)(jslash - jdom) : strlen(jdom);

	if (iat != NULL && islash != NULL)
		return strcmp(item, jid) == 0;
	if (iat != NULL)
		return strlen(item) == jbare && strncmp(item, jid, jbare) == 0;
	if (islash != NULL) {
		/* domain/resource: the JID must have no localpart. */
		if (jat != NULL && (jslash == NULL || jat < jslash))
			return false;
		return strcmp(item, jid) == 0;
	}
	return strlen(item) == jdomn && strncmp(item, jdom, jdomn) == 0;
}

/*
 * Stream inspection: a domain pattern matches the domain itself and
 * every subdomain of it (deny spam.example also denies
 * muc.spam.example).  Both are normalised.
 */
bool
domain_match(const char *pattern, const char *domain)
{
	size_t np = strlen(pattern), nd = strlen(domain);

	if (nd == np)
		return strcmp(pattern, domain) == 0;
	return nd > np && domain[nd - np - 1] == '.' &&
	    strcmp(domain + nd - np, pattern) == 0;
}
