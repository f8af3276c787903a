/*
 * parse.c - tolerant parsers of the XMPP stream header and of the TLS
 * ClientHello server_name extension.
 *
 * The stream header parser accepts what RFC 6120 servers send and
 * receive in the wild: an optional byte-order mark, an optional XML
 * declaration, comments, any whitespace between attributes and around
 * '=', both quote styles, attributes in any order, and any prefix on the
 * stream element ("stream:stream", "x:stream", or "stream" with a default
 * namespace).  It reads 'to' and 'from' and ignores everything else.
 * Every read is bounds-checked against len.
 */
#include <ctype.h>
#include <string.h>

#include "parse.h"

#define HDR_MAX		8192		/* a longer header is not XMPP */

static int
is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
is_namechar(uint8_t c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':' ||
	    c >= 0x80;
}

int
jid_domain(const char *s, size_t n, char *out, size_t outlen)
{
	const char *slash, *at;
	size_t i;

	/* RFC 7622: the first '/' starts the resource; an '@' before it
	 * ends the localpart. */
	if ((slash = memchr(s, '/', n)) != NULL)
		n = (size_t)(slash - s);
	if ((at = memchr(s, '@', n)) != NULL) {
		n -= (size_t)(at + 1 - s);
		s = at + 1;
	}
	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0 || n >= outlen)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f)
			return -1;
		out[i] = (char)tolower(c);
	}
	out[i] = '\0';
	return 0;
}

/* Decode an attribute value with XML entities into out (bounded). */
static int
attr_decode(const uint8_t *v, size_t n, char *out, size_t outlen)
{
	char tmp[DOMAIN_MAX];
	size_t i = 0, w = 0;

	while (i < n) {
		if (w + 1 >= sizeof(tmp))
			return -1;
		if (v[i] != '&') {
			tmp[w++] = (char)v[i++];
			continue;
		}
		if (n - i >= 5 && memcmp(v + i, "&amp;", 5) == 0) {
			tmp[w++] = '&';
			i += 5;
		} else if (n - i >= 6 && memcmp(v + i, "&apos;", 6) == 0) {
			tmp[w++] = '\'';
			i += 6;
		} else if (n - i >= 6 && memcmp(v + i, "&quot;", 6) == 0) {
			tmp[w++] = '"';
			i += 6;
		} else if (n - i >= 4 && memcmp(v + i, "&lt;", 4) == 0) {
			tmp[w++] = '<';
			i += 4;
		} else if (n - i >= 4 && memcmp(v + i, "&gt;", 4) == 0) {
			tmp[w++] = '>';
			i += 4;
		} else if (n - i >= 4 && v[i + 1] == '#') {
			/* Numeric references: ASCII only, else refuse. */
			unsigned long c = 0;
			size_t j = i + 2;
			int hex = 0, digits = 0;

			if (j < n && (v[j] == 'x' || v[j] == 'X')) {
				hex = 1;
				j++;
			}
			for (; j < n && v[j] != ';' && digits < 8; j++,
			    digits++) {
				if (hex && isxdigit(v[j]))
					c = c * 16 + (unsigned long)(isdigit(
					    v[j]) ? v[j] - '0' :
					    (tolower(v[j]) - 'a' + 10));
				else if (!hex && isdigit(v[j]))
					c = c * 10 + (unsigned long)(v[j] - '0');
				else
					return -1;
			}
			if (j >= n || v[j] != ';' || digits == 0 || c == 0 ||
			    c > 0x7f)
				return -1;
			tmp[w++] = (char)c;
			i = j + 1;
		} else
			return -1;
	}
	return jid_domain(tmp, w, out, outlen);
}

/* Skip whitespace; returns the new offset. */
static size_t
skip_space(const uint8_t *b, size_t len, size_t i)
{
	while (i < len && is_space(b[i]))
		i++;
	return i;
}

/* Find the two-or-three byte terminator t starting at i; len if absent. */
static size_t
find(const uint8_t *b, size_t len, size_t i, const char *t)
{
	size_t tl = strlen(t);

	for (; i + tl <= len; i++)
		if (memcmp(b + i, t, tl) == 0)
			return i;
	return len;
}

enum presult
stream_header_parse(const uint8_t *b, size_t len, struct stream_header *h)
{
	size_t i = 0, ns, ne, vs, ve;
	uint8_t q;

	h->to[0] = h->from[0] = '\0';
	h->end = 0;
	if (len >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf)
		i = 3;
	/* Prolog: the XML declaration, comments, whitespace. */
	for (;;) {
		i = skip_space(b, len, i);
		if (i >= len)
			return PR_MORE;
		if (b[i] != '<')
			return PR_BAD;
		if (i + 1 >= len)
			return PR_MORE;
		if (b[i + 1] == '?') {
			if ((ns = find(b, len, i + 2, "?>")) == len)
				return len - i > HDR_MAX ? PR_BAD : PR_MORE;
			i = ns + 2;
			continue;
		}
		if (b[i + 1] == '!') {
			if (len - i < 4)
				return PR_MORE;
			if (memcmp(b + i, "<!--", 4) != 0)
				return PR_BAD;
			if ((ns = find(b, len, i + 4, "-->")) == len)
				return len - i > HDR_MAX ? PR_BAD : PR_MORE;
			i = ns + 3;
			continue;
		}
		break;
	}
	/* The element name: "stream" with or without a prefix. */
	ns = ++i;
	while (i < len && is_namechar(b[i]))
		i++;
	if (i >= len)
		return i - ns > 64 ? PR_BAD : PR_MORE;
	ne = i;
	if (ne - ns < 6 || memcmp(b + ne - 6, "stream", 6) != 0 ||
	    (ne - ns > 6 && b[ne - 7] != ':'))
		return PR_BAD;
	/* Attributes, until '>' or "/>". */
	for (;;) {
		size_t before = i;

		if (i > HDR_MAX)
			return PR_BAD;
		i = skip_space(b, len, i);
		if (i >= len)
			return PR_MORE;
		if (b[i] == '>') {
			h->end = i + 1;
			return PR_OK;
		}
		if (b[i] == '/') {
			if (i + 1 >= len)
				return PR_MORE;
			if (b[i + 1] != '>')
				return PR_BAD;
			h->end = i + 2;
			return PR_OK;
		}
		if (i == before)
			return PR_BAD;	/* attributes need whitespace */
		ns = i;
		while (i < len && is_namechar(b[i]))
			i++;
		ne = i;
		if (ne == ns)
			return i >= len ? PR_MORE : PR_BAD;
		i = skip_space(b, len, i);
		if (i >= len)
			return PR_MORE;
		if (b[i] != '=')
			return PR_BAD;
		i = skip_space(b, len, i + 1);
		if (i >= len)
			return PR_MORE;
		q = b[i];
		if (q != '\'' && q != '"')
			return PR_BAD;
		vs = ++i;
		while (i < len && b[i] != q) {
			if (b[i] == '<')
				return PR_BAD;
			i++;
		}
		if (i >= len)
			return PR_MORE;
		ve = i++;
		if (ne - ns == 2 && memcmp(b + ns, "to", 2) == 0) {
			if (attr_decode(b + vs, ve - vs, h->to,
			    sizeof(h->to)) == -1)
				h->to[0] = '\0';
		} else if (ne - ns == 4 && memcmp(b + ns, "from", 4) == 0) {
			if (attr_decode(b + vs, ve - vs, h->from,
			    sizeof(h->from)) == -1)
				h->from[0] = '\0';
		}
	}
}

/* ------------------------------------------------------------------ */
/* TLS                                                                  */

#define TLS_HANDSHAKE	22
#define TLS_CLIENTHELLO	1
#define TLS_RECMAX	(16384 + 2048)
#define HS_MAX		16384		/* a bigger ClientHello is refused */

int
tls_looks_like(const uint8_t *b, size_t len)
{
	return len >= 1 && b[0] == TLS_HANDSHAKE &&
	    (len < 2 || b[1] == 3);
}

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

enum presult
tls_sni_parse(const uint8_t *b, size_t len, char *sni, size_t snilen)
{
	uint8_t hs[HS_MAX + 4];
	size_t hl = 0, pos = 0, rl, take, need, i, end, n;
	unsigned et, el;

	sni[0] = '\0';
	/* Gather the handshake bytes from consecutive records. */
	while (pos < len) {
		if (len - pos < 5)
			break;
		if (b[pos] != TLS_HANDSHAKE || b[pos + 1] != 3)
			return PR_BAD;
		rl = get16(b + pos + 3);
		if (rl == 0 || rl > TLS_RECMAX)
			return PR_BAD;
		take = rl;
		if (take > len - pos - 5)
			take = len - pos - 5;
		if (take > sizeof(hs) - hl)
			return PR_BAD;
		memcpy(hs + hl, b + pos + 5, take);
		hl += take;
		pos += 5 + take;
		if (hl >= 4 && hl >= 4 + ((size_t)hs[1] << 16 |
		    (size_t)hs[2] << 8 | hs[3]))
			break;
	}
	if (len >= 1 && b[0] != TLS_HANDSHAKE)
		return PR_BAD;
	if (len >= 2 && b[1] != 3)
		return PR_BAD;
	if (hl < 4)
		return PR_MORE;
	if (hs[0] != TLS_CLIENTHELLO)
		return PR_BAD;
	need = (size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3];
	if (need > HS_MAX)
		return PR_BAD;
	if (hl < 4 + need)
		return PR_MORE;
	end = 4 + need;
	/* version(2) random(32) */
	i = 4 + 2 + 32;
	if (i + 1 > end)
		return PR_BAD;
	i += 1 + hs[i];				/* session id */
	if (i + 2 > end)
		return PR_BAD;
	i += 2 + get16(hs + i);			/* cipher suites */
	if (i + 1 > end)
		return PR_BAD;
	i += 1 + hs[i];				/* compression methods */
	if (i == end)
		return PR_OK;			/* no extensions */
	if (i + 2 > end)
		return PR_BAD;
	n = get16(hs + i);
	i += 2;
	if (i + n > end)
		return PR_BAD;
	end = i + n;
	while (i + 4 <= end) {
		et = get16(hs + i);
		el = get16(hs + i + 2);
		i += 4;
		if (i + el > end)
			return PR_BAD;
		if (et == 0) {
			/* server_name: list length, then entries. */
			size_t j = i, le;

			if (el < 2)
				return PR_BAD;
			le = get16(hs + j);
			j += 2;
			if (j + le > i + el)
				return PR_BAD;
			while (j + 3 <= i + 2 + le) {
				unsigned nt = hs[j], nl = get16(hs + j + 1);

				j += 3;
				if (j + nl > i + 2 + le)
					return PR_BAD;
				if (nt == 0) {
					if (jid_domain((const char *)hs + j, nl,
					    sni, snilen) == -1 ||
					    strchr(sni, '/') != NULL ||
					    strchr(sni, '@') != NULL ||
					    strlen(sni) != nl - (hs[j + nl - 1]
					    == '.')) {
						sni[0] = '\0';
						return PR_BAD;
					}
					return PR_OK;
				}
				j += nl;
			}
			return PR_OK;
		}
		i += el;
	}
	return PR_OK;
}
