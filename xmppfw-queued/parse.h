/*
 * parse.h - the parsers of the first bytes of a connection: the XMPP
 * stream header (RFC 6120 section 4.7) and the TLS ClientHello SNI
 * (RFC 8446 section 4.1.2, RFC 6066 section 3).
 *
 * Both work on whatever prefix of the stream has arrived so far: they
 * say PR_MORE when the prefix is too short to decide, and never read
 * past len.  No allocation, no libnetfilter_queue: fuzzed and unit
 * tested alone.
 */
#ifndef QUEUED_PARSE_H
#define QUEUED_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define DOMAIN_MAX	1024		/* 1023 bytes + NUL */

enum presult {
	PR_MORE,			/* need more bytes */
	PR_OK,				/* parsed */
	PR_BAD,				/* not this protocol, or malformed */
};

struct stream_header {
	char	to[DOMAIN_MAX];		/* domainpart of 'to', or "" */
	char	from[DOMAIN_MAX];	/* domainpart of 'from', or "" */
	size_t	end;			/* offset just past the start tag */
};

/* Parse <?xml ...?> (optional) and the <stream:stream ...> start tag. */
enum presult	stream_header_parse(const uint8_t *, size_t,
		    struct stream_header *);

/* The SNI host name of a TLS ClientHello; sni is "" when there is none. */
enum presult	tls_sni_parse(const uint8_t *, size_t, char *sni,
		    size_t snilen);

/* True when buf starts like a TLS handshake record. */
int		tls_looks_like(const uint8_t *, size_t);

/*
 * Reduce a JID (local@domain/resource) to its domainpart, lower case,
 * without a trailing dot, into out.  Returns -1 when nothing usable is
 * left (empty, too long, control bytes).
 */
int		jid_domain(const char *, size_t, char *out, size_t outlen);

#endif
