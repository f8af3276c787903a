/*
 * push.c - "xmppfwc push": the xmpp layer onto the account's server.
 *
 * The steps, each waiting for its answer before the next:
 *  1. connect with libstrophe: STARTTLS mandatory, the certificate
 *     verified (system CAs or --ca-file; --insecure only on request),
 *     SASL (libstrophe picks SCRAM-SHA-512/256/1 when the server offers
 *     it, and never authenticates before TLS here);
 *  2. disco#info on the account's server: jabber:iq:privacy and/or
 *     urn:xmpp:blocking must be advertised;
 *  3. fetch the current lists and blocklist, print the difference;
 *  4. push only what differs: complete lists, then the default (a
 *     server refuses a default naming a list it does not have), then
 *     the active list, then block/unblock;
 *  5. read everything back and compare.
 * Every stanza is built by the same libxml2 code as the xep0016/xep0191
 * artefacts (xmppxml.c).  Any server error, an authentication failure,
 * a timeout or a read-back mismatch is a message and exit code 3.
 *
 * ejabberd keeps XEP-0191 blocks as "deny jid" items of order 0 in the
 * default privacy list.  So that pushing twice changes nothing, such
 * items (deny, all stanzas, a JID in the server's blocklist, ordered
 * below the first item of ours) are not counted as differences in a
 * list, and blocklist JIDs that our own default list denies are not
 * unblocked.
 */
#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <strophe.h>

#include "backend.h"
#include "push.h"
#include "xmppxml.h"

#define X(s)		((const xmlChar *)(s))
#define NS_DISCO	"http://jabber.org/protocol/disco#info"
#define NS_STANZAS	"urn:ietf:params:xml:ns:xmpp-stanzas"

struct popts {
	const char	*jid;
	const char	*pwfile;
	const char	*server;
	const char	*cafile;
	bool		 insecure;
	bool		 dryrun;
	long		 timeout;	/* seconds, whole push */
};

/* A privacy list as the server has it. */
struct slist {
	bool			 exists;
	size_t			 n;
	struct privacy_item	*items;
};

struct session {
	xmpp_ctx_t	*ctx;
	xmpp_conn_t	*conn;
	xmpp_log_t	 log;
	struct arena	 arena;		/* everything read from the server */
	int		 state;		/* 0 connecting, 1 up, -1 down */
	char		 why[512];	/* why the connection went down */
	char		 lastlog[512];	/* last libstrophe error */
	char		 certerr[512];
	char		 mech[64];	/* the SASL mechanism used */
	int		 sockerr;	/* errno of a failed connect */
	xmpp_stanza_t	*reply;
	bool		 got;
	unsigned	 seq;
	struct timespec	 deadline;
	long		 timeout;
	const char	*domain;
	bool		 nodisco;	/* disco#info refused: features unknown */
	bool		 has_blocking;	/* urn:xmpp:blocking (maybe, if nodisco) */
};

static struct session *certfail_session;	/* libstrophe has no userdata
						 * for the certfail handler */

static int
fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("xmppfwc push: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return PUSH_SERVER;
}

static int
usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
usage(const char *fmt, ...)
{
	va_list ap;

	fputs("xmppfwc push: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nusage: xmppfwc push --jid JID [--password-file F] "
	    "[--server HOST[:PORT]]\n"
	    "           [--ca-file F | --insecure] [--dry-run] "
	    "[--timeout SECONDS] FILE\n"
	    "       (password from --password-file or $XMPPFWC_PASSWORD)\n",
	    stderr);
	return PUSH_USAGE;
}

/* Print a policy or server string for a terminal: quoted, escaped. */
static void
print_str(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void
print_item(FILE *f, char sign, const struct privacy_item *it)
{
	unsigned k;
	bool first = true;

	fprintf(f, "  %c %s ", sign, it->action == VERDICT_ALLOW ? "allow" :
	    "deny");
	if (it->type == ITEM_ALL)
		fputs("all", f);
	else {
		fprintf(f, "%s ", item_type_name(it->type));
		print_str(f, it->value);
	}
	for (k = STANZA_IQ; k <= STANZA_PRESENCE_OUT; k <<= 1)
		if (it->stanzas & k) {
			fprintf(f, "%s%s", first ? " for " : ", ",
			    stz_stanza_name(k));
			first = false;
		}
	fprintf(f, " (order %u)\n", (unsigned)it->order);
}

/* --- time ------------------------------------------------------------ */

static long
ms_left(const struct session *s)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (s->deadline.tv_sec - now.tv_sec) * 1000 +
	    (s->deadline.tv_nsec - now.tv_nsec) / 1000000;
}

/* --- libstrophe callbacks ---------------------------------------------- */

static void
log_cb(void *ud, xmpp_log_level_t level, const char *area, const char *msg)
{
	struct session *s = ud;
	const char *p, *q;

	if (level >= XMPP_LEVEL_WARN)
		snprintf(s->lastlog, sizeof(s->lastlog), "%s: %s", area, msg);
	/* libstrophe tells these only in its log. */
	if (strncmp(msg, "connection failed, error ", 25) == 0)
		s->sockerr = atoi(msg + 25);
	if (strncmp(msg, "SENT: <auth ", 12) == 0 &&
	    (p = strstr(msg, "mechanism=\"")) != NULL &&
	    (q = strchr(p + 11, '"')) != NULL)
		snprintf(s->mech, sizeof(s->mech), "%.*s", (int)(q - p - 11),
		    p + 11);
	if (getenv("XMPPFWC_DEBUG") != NULL)
		fprintf(stderr, "strophe %s: %s\n", area,
		    strncmp(msg, "SENT: <auth ", 12) == 0 ?
		    "SENT: <auth ...> (credentials not shown)" : msg);
}

static int
certfail_cb(const xmpp_tlscert_t *cert, const char *errormsg)
{
	(void)cert;
	if (certfail_session != NULL)
		snprintf(certfail_session->certerr,
		    sizeof(certfail_session->certerr), "%s", errormsg);
	return 0;			/* never accept an unverified cert */
}

static const char *
stream_error_name(xmpp_error_type_t t)
{
	switch (t) {
	case XMPP_SE_CONFLICT:
		return "conflict";
	case XMPP_SE_CONN_TIMEOUT:
		return "connection-timeout";
	case XMPP_SE_HOST_UNKNOWN:
		return "host-unknown";
	case XMPP_SE_NOT_AUTHORIZED:
		return "not-authorized";
	case XMPP_SE_POLICY_VIOLATION:
		return "policy-violation";
	case XMPP_SE_SYSTEM_SHUTDOWN:
		return "system-shutdown";
	case XMPP_SE_INVALID_XML:
	case XMPP_SE_XML_NOT_WELL_FORMED:
		return "invalid-xml";
	default:
		return "stream error";
	}
}

static void
conn_cb(xmpp_conn_t *conn, xmpp_conn_event_t ev, int error,
    xmpp_stream_error_t *se, void *ud)
{
	struct session *s = ud;

	(void)conn;
	if (ev == XMPP_CONN_CONNECT) {
		s->state = 1;
		return;
	}
	if (s->state == -1)
		return;
	if (se != NULL)
		snprintf(s->why, sizeof(s->why), "server closed the stream: "
		    "%s%s%s", stream_error_name(se->type),
		    se->text != NULL ? ": " : "",
		    se->text != NULL ? se->text : "");
	else if (error != 0)
		snprintf(s->why, sizeof(s->why), "connection failed: %s",
		    strerror(error));
	else if (s->state == 0)
		snprintf(s->why, sizeof(s->why), "connection closed before "
		    "the session was up (TLS or authentication failed)");
	else
		snprintf(s->why, sizeof(s->why), "connection closed");
	s->state = -1;
}

static int
reply_cb(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
	struct session *s = ud;

	(void)conn;
	s->reply = xmpp_stanza_copy(st);
	s->got = true;
	return 0;
}

/*
 * The server tells every session of the account about a changed privacy
 * list (XEP-0016 2.6) or blocklist (XEP-0191 4), this one included; the
 * client acknowledges with a result.  Only pushes from the account itself
 * (no from, or its bare JID) are answered.  The id goes out through
 * libxml2's attribute escaping like everything else.
 */
static int
push_ack_cb(xmpp_conn_t *conn, xmpp_stanza_t *st, void *ud)
{
	struct session *s = ud;
	const char *id = xmpp_stanza_get_id(st), *from, *ns;
	xmpp_stanza_t *c;
	xmlDocPtr doc;
	xmlNodePtr iq;
	char *bare, *raw;
	size_t len;
	bool mine;

	for (c = xmpp_stanza_get_children(st); c != NULL &&
	    !xmpp_stanza_is_tag(c); c = xmpp_stanza_get_next(c))
		;
	if (id == NULL || c == NULL || (ns = xmpp_stanza_get_ns(c)) == NULL ||
	    (strcmp(ns, STZ_NS_PRIVACY) != 0 && strcmp(ns, STZ_NS_BLOCK) != 0))
		return 1;
	if ((from = xmpp_stanza_get_from(st)) != NULL) {
		bare = xmpp_jid_bare(s->ctx, xmpp_conn_get_bound_jid(conn));
		mine = bare != NULL && strcmp(from, bare) == 0;
		if (bare != NULL)
			xmpp_free(s->ctx, bare);
		if (!mine)
			return 1;
	}
	doc = xmlNewDoc(X("1.0"));
	iq = stz_iq_new(doc, NULL, "result", id);
	if (from != NULL)
		xmlNewProp(iq, X("to"), X(from));
	raw = stz_node_string(iq, &len);
	xmlFreeDoc(doc);
	xmpp_send_raw(conn, raw, len);
	free(raw);
	return 1;
}

/* --- requests ------------------------------------------------------------ */

/* A new request document: <iq type=TYPE id=xfw-push-N>. */
static xmlNodePtr
iq_begin(struct session *s, xmlDocPtr *docp, const char *type, char *id,
    size_t idlen)
{
	*docp = xmlNewDoc(X("1.0"));
	stz_iq_id(id, idlen, "push", ++s->seq);
	return stz_iq_new(*docp, NULL, type, id);
}

/* The condition of an error reply, e.g. "item-not-found", and its text. */
static void
error_of(xmpp_stanza_t *st, char *buf, size_t len)
{
	xmpp_stanza_t *e, *c;
	const char *cond = "undefined-condition", *name, *ns;
	char *text = NULL;

	e = xmpp_stanza_get_child_by_name(st, "error");
	if (e != NULL)
		for (c = xmpp_stanza_get_children(e); c != NULL;
		    c = xmpp_stanza_get_next(c)) {
			name = xmpp_stanza_get_name(c);
			ns = xmpp_stanza_get_ns(c);
			if (name == NULL || ns == NULL ||
			    strcmp(ns, NS_STANZAS) != 0)
				continue;
			if (strcmp(name, "text") == 0)
				text = xmpp_stanza_get_text(c);
			else
				cond = name;
		}
	snprintf(buf, len, "%s%s%s", cond, text != NULL ? " (" : "",
	    text != NULL ? text : "");
	if (text != NULL) {
		strncat(buf, ")", len - strlen(buf) - 1);
		xmpp_free(xmpp_stanza_get_context(st), text);
	}
}

/*
 * Send the iq of doc, wait for its answer.  Returns the reply (type
 * "result" or "error"; release it) or NULL when the connection went
 * down or the deadline passed, after printing why.
 */
static xmpp_stanza_t *
request(struct session *s, xmlDocPtr doc, const char *id, const char *what)
{
	char *raw;
	size_t len;
	long left;

	raw = stz_node_string(xmlDocGetRootElement(doc), &len);
	xmlFreeDoc(doc);
	s->got = false;
	s->reply = NULL;
	xmpp_id_handler_add(s->conn, reply_cb, id, s);
	xmpp_send_raw(s->conn, raw, len);
	free(raw);
	while (!s->got && s->state == 1 && (left = ms_left(s)) > 0)
		xmpp_run_once(s->ctx, left < 100 ? (unsigned long)left : 100);
	if (s->got)
		return s->reply;
	xmpp_id_handler_delete(s->conn, reply_cb, id);
	if (s->state != 1)
		fail("%s: %s", what, s->why);
	else
		fail("%s: timeout: no answer within %ld s", what, s->timeout);
	return NULL;
}

/* request(), then demand type="result"; prints the error otherwise. */
static xmpp_stanza_t *
request_ok(struct session *s, xmlDocPtr doc, const char *id,
    const char *what, char *cond, size_t condlen)
{
	xmpp_stanza_t *r;
	const char *type;
	char buf[512];

	if (cond != NULL)
		cond[0] = '\0';
	if ((r = request(s, doc, id, what)) == NULL)
		return NULL;
	type = xmpp_stanza_get_type(r);
	if (type != NULL && strcmp(type, "result") == 0)
		return r;
	error_of(r, buf, sizeof(buf));
	xmpp_stanza_release(r);
	if (cond != NULL) {
		/* The caller handles this one (item-not-found on a get). */
		snprintf(cond, condlen, "%s", buf);
		return NULL;
	}
	fail("%s: the server refused: %s", what, buf);
	return NULL;
}

/* --- reading the server's state ------------------------------------------ */

static bool
has_feature(xmpp_stanza_t *q, const char *var)
{
	xmpp_stanza_t *c;
	const char *v;

	for (c = xmpp_stanza_get_children(q); c != NULL;
	    c = xmpp_stanza_get_next(c)) {
		if (!xmpp_stanza_is_tag(c) ||
		    strcmp(xmpp_stanza_get_name(c), "feature") != 0)
			continue;
		v = xmpp_stanza_get_attribute(c, "var");
		if (v != NULL && strcmp(v, var) == 0)
			return true;
	}
	return false;
}

/* A stanza error meaning "no such protocol here" (RFC 6120 8.3.3). */
static bool
unsupported(const char *cond)
{
	return strncmp(cond, "service-unavailable", 19) == 0 ||
	    strncmp(cond, "feature-not-implemented", 23) == 0;
}

/*
 * disco#info on the account's server.  Prosody applies the account's
 * default privacy list to its own IQs to the server, so a whitelist
 * ending in "deny all" makes it refuse this request with
 * service-unavailable.  A refused disco is therefore a warning: the
 * privacy and blocking requests themselves then show whether the server
 * has the protocol (see unsupported()).
 */
static int
check_features(struct session *s, bool privacy, bool blocking)
{
	xmlDocPtr doc;
	xmlNodePtr iq;
	xmpp_stanza_t *r, *q;
	char id[32], cond[512];
	int rc = PUSH_OK;

	iq = iq_begin(s, &doc, "get", id, sizeof(id));
	xmlNewProp(iq, X("to"), X(s->domain));
	stz_child_ns(iq, "query", NS_DISCO);
	if ((r = request_ok(s, doc, id, "service discovery", cond,
	    sizeof(cond))) == NULL) {
		if (cond[0] == '\0')
			return PUSH_SERVER;
		fprintf(stderr, "xmppfwc push: warning: service discovery on "
		    "%s refused: %s; going on (the account's own privacy "
		    "list may deny IQs to its server)\n", s->domain, cond);
		s->nodisco = true;
		s->has_blocking = true;		/* to be found out */
		return PUSH_OK;
	}
	q = xmpp_stanza_get_child_by_name_and_ns(r, "query", NS_DISCO);
	s->has_blocking = q != NULL && has_feature(q, STZ_NS_BLOCK);
	if (privacy && (q == NULL || !has_feature(q, STZ_NS_PRIVACY)))
		rc = fail("server %s does not advertise %s (XEP-0016 privacy "
		    "lists)", s->domain, STZ_NS_PRIVACY);
	if (blocking && !s->has_blocking)
		rc = fail("server %s does not advertise %s (XEP-0191 "
		    "blocking)", s->domain, STZ_NS_BLOCK);
	xmpp_stanza_release(r);
	return rc;
}

static char *
sdup(struct session *s, const char *str)
{
	return str != NULL ? arena_strdup(&s->arena, str) : NULL;
}

/* Names on the server: default list, and whether each list exists. */
struct names {
	char	*def;
	char	*act;
	size_t	 n;
	char	**lists;
};

static int
fetch_names(struct session *s, struct names *nm)
{
	xmlDocPtr doc;
	xmlNodePtr iq;
	xmpp_stanza_t *r, *q, *c;
	const char *name, *v;
	char id[32], cond[512];

	memset(nm, 0, sizeof(*nm));
	iq = iq_begin(s, &doc, "get", id, sizeof(id));
	stz_child_ns(iq, "query", STZ_NS_PRIVACY);
	r = request_ok(s, doc, id, "fetching the privacy lists", cond,
	    sizeof(cond));
	if (r == NULL) {
		/* Some servers answer item-not-found when there is none. */
		if (strncmp(cond, "item-not-found", 14) == 0)
			return PUSH_OK;
		if (unsupported(cond))
			fail("server %s does not support %s (XEP-0016 privacy "
			    "lists): it answered %s", s->domain,
			    STZ_NS_PRIVACY, cond);
		else if (cond[0] != '\0')
			fail("fetching the privacy lists: the server refused: "
			    "%s", cond);
		return PUSH_SERVER;
	}
	q = xmpp_stanza_get_child_by_name_and_ns(r, "query", STZ_NS_PRIVACY);
	for (c = q != NULL ? xmpp_stanza_get_children(q) : NULL; c != NULL;
	    c = xmpp_stanza_get_next(c)) {
		if (!xmpp_stanza_is_tag(c))
			continue;
		name = xmpp_stanza_get_name(c);
		v = xmpp_stanza_get_attribute(c, "name");
		if (strcmp(name, "default") == 0)
			nm->def = sdup(s, v);
		else if (strcmp(name, "active") == 0)
			nm->act = sdup(s, v);
		else if (strcmp(name, "list") == 0 && v != NULL) {
			nm->lists = arena_grow(&s->arena, nm->lists,
			    nm->n * sizeof(char *), (nm->n + 1) *
			    sizeof(char *));
			nm->lists[nm->n++] = sdup(s, v);
		}
	}
	xmpp_stanza_release(r);
	return PUSH_OK;
}

static bool
names_has(const struct names *nm, const char *name)
{
	size_t i;

	for (i = 0; i < nm->n; i++)
		if (strcmp(nm->lists[i], name) == 0)
			return true;
	return false;
}

static int
parse_item(struct session *s, xmpp_stanza_t *c, struct privacy_item *it)
{
	const char *type, *value, *action, *order;
	xmpp_stanza_t *k;
	const char *kn;
	char *end;
	unsigned long o;
	unsigned bit;

	memset(it, 0, sizeof(*it));
	type = xmpp_stanza_get_attribute(c, "type");
	value = xmpp_stanza_get_attribute(c, "value");
	action = xmpp_stanza_get_attribute(c, "action");
	order = xmpp_stanza_get_attribute(c, "order");
	if (action == NULL || order == NULL)
		return -1;
	if (type == NULL)
		it->type = ITEM_ALL;
	else if (strcmp(type, "jid") == 0)
		it->type = ITEM_JID;
	else if (strcmp(type, "group") == 0)
		it->type = ITEM_GROUP;
	else if (strcmp(type, "subscription") == 0)
		it->type = ITEM_SUBSCRIPTION;
	else
		return -1;
	it->value = it->type == ITEM_ALL ? NULL : sdup(s, value != NULL ?
	    value : "");
	if (strcmp(action, "allow") == 0)
		it->action = VERDICT_ALLOW;
	else if (strcmp(action, "deny") == 0)
		it->action = VERDICT_DENY;
	else
		return -1;
	errno = 0;
	o = strtoul(order, &end, 10);
	if (*order == '\0' || *end != '\0' || errno != 0 || o > UINT32_MAX)
		return -1;
	it->order = (uint32_t)o;
	for (k = xmpp_stanza_get_children(c); k != NULL;
	    k = xmpp_stanza_get_next(k)) {
		if (!xmpp_stanza_is_tag(k))
			continue;
		kn = xmpp_stanza_get_name(k);
		for (bit = STANZA_IQ; bit <= STANZA_PRESENCE_OUT; bit <<= 1)
			if (strcmp(kn, stz_stanza_name(bit)) == 0)
				it->stanzas |= bit;
	}
	/* All four kinds named is the same as none named. */
	if (it->stanzas == (STANZA_IQ | STANZA_MESSAGE | STANZA_PRESENCE_IN |
	    STANZA_PRESENCE_OUT))
		it->stanzas = 0;
	return 0;
}

static int
fetch_list(struct session *s, const char *name, struct slist *sl)
{
	xmlDocPtr doc;
	xmlNodePtr iq, q, l;
	xmpp_stanza_t *r, *rq, *rl, *c;
	char id[32], cond[512], what[256];

	memset(sl, 0, sizeof(*sl));
	iq = iq_begin(s, &doc, "get", id, sizeof(id));
	q = stz_child_ns(iq, "query", STZ_NS_PRIVACY);
	l = xmlNewChild(q, NULL, X("list"), NULL);
	xmlNewProp(l, X("name"), X(name));
	snprintf(what, sizeof(what), "fetching privacy list \"%s\"", name);
	r = request_ok(s, doc, id, what, cond, sizeof(cond));
	if (r == NULL) {
		if (strncmp(cond, "item-not-found", 14) == 0)
			return PUSH_OK;
		if (cond[0] != '\0')
			fail("%s: the server refused: %s", what, cond);
		return PUSH_SERVER;
	}
	sl->exists = true;
	rq = xmpp_stanza_get_child_by_name_and_ns(r, "query",
	    STZ_NS_PRIVACY);
	rl = rq != NULL ? xmpp_stanza_get_child_by_name(rq, "list") : NULL;
	for (c = rl != NULL ? xmpp_stanza_get_children(rl) : NULL; c != NULL;
	    c = xmpp_stanza_get_next(c)) {
		if (!xmpp_stanza_is_tag(c) ||
		    strcmp(xmpp_stanza_get_name(c), "item") != 0)
			continue;
		sl->items = arena_grow(&s->arena, sl->items, sl->n *
		    sizeof(*sl->items), (sl->n + 1) * sizeof(*sl->items));
		if (parse_item(s, c, &sl->items[sl->n]) != 0) {
			xmpp_stanza_release(r);
			return fail("%s: the server sent an item xmppfwc "
			    "cannot read", what);
		}
		sl->n++;
	}
	xmpp_stanza_release(r);
	return PUSH_OK;
}

/* The server's blocklist (XEP-0191), sorted. */
struct jids {
	size_t	 n;
	char	**v;
};

static int
cmpstrp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
jids_has(const struct jids *j, const char *jid)
{
	return jid != NULL && j->n > 0 && bsearch(&jid, j->v, j->n,
	    sizeof(char *), cmpstrp) != NULL;
}

/*
 * optional: the blocklist only helps (push_lists, ejabberd's block
 * items); a server without XEP-0191 then means an empty one.
 */
static int
fetch_blocklist(struct session *s, struct jids *j, bool optional)
{
	xmlDocPtr doc;
	xmlNodePtr iq;
	xmpp_stanza_t *r, *b, *c;
	const char *jid;
	char id[32], cond[512];

	memset(j, 0, sizeof(*j));
	iq = iq_begin(s, &doc, "get", id, sizeof(id));
	stz_child_ns(iq, "blocklist", STZ_NS_BLOCK);
	if ((r = request_ok(s, doc, id, "fetching the blocklist", cond,
	    sizeof(cond))) == NULL) {
		if (unsupported(cond)) {
			if (optional) {
				s->has_blocking = false;
				return PUSH_OK;
			}
			return fail("server %s does not support %s (XEP-0191 "
			    "blocking): it answered %s", s->domain,
			    STZ_NS_BLOCK, cond);
		}
		if (cond[0] != '\0')
			fail("fetching the blocklist: the server refused: %s",
			    cond);
		return PUSH_SERVER;
	}
	b = xmpp_stanza_get_child_by_name_and_ns(r, "blocklist",
	    STZ_NS_BLOCK);
	for (c = b != NULL ? xmpp_stanza_get_children(b) : NULL; c != NULL;
	    c = xmpp_stanza_get_next(c)) {
		if (!xmpp_stanza_is_tag(c) ||
		    (jid = xmpp_stanza_get_attribute(c, "jid")) == NULL)
			continue;
		j->v = arena_grow(&s->arena, j->v, j->n * sizeof(char *),
		    (j->n + 1) * sizeof(char *));
		j->v[j->n++] = sdup(s, jid);
	}
	xmpp_stanza_release(r);
	if (j->n > 1)
		qsort(j->v, j->n, sizeof(char *), cmpstrp);
	return PUSH_OK;
}

/* --- comparing ---------------------------------------------------------------- */

static bool
item_eq(const struct privacy_item *a, const struct privacy_item *b)
{
	if (a->type != b->type || a->action != b->action ||
	    a->order != b->order || a->stanzas != b->stanzas)
		return false;
	if (a->type == ITEM_ALL)
		return true;
	return strcmp(a->value, b->value) == 0;
}

/* An item the server's blocking command put there (see the top). */
static bool
is_block_item(const struct privacy_item *it, const struct privacy_list *l,
    const struct jids *blocked)
{
	return it->type == ITEM_JID && it->action == VERDICT_DENY &&
	    it->stanzas == 0 && jids_has(blocked, it->value) &&
	    (l->n == 0 || it->order < l->items[0].order);
}

/* Print the difference; return the number of differing items. */
static size_t
diff_list(const struct privacy_list *l, const struct slist *sl,
    const struct jids *blocked, bool print)
{
	size_t i, j, nd = 0, ns = 0;
	bool found;

	for (j = 0; j < sl->n; j++)
		if (!is_block_item(&sl->items[j], l, blocked))
			ns++;
	/* Same items in the same order: no change. */
	if (ns == l->n) {
		for (i = 0, j = 0; i < l->n; i++, j++) {
			while (is_block_item(&sl->items[j], l, blocked))
				j++;
			if (!item_eq(&l->items[i], &sl->items[j]))
				break;
		}
		if (i == l->n)
			return 0;
	}
	for (j = 0; j < sl->n; j++) {
		if (is_block_item(&sl->items[j], l, blocked))
			continue;
		for (found = false, i = 0; i < l->n && !found; i++)
			found = item_eq(&l->items[i], &sl->items[j]);
		if (!found) {
			nd++;
			if (print)
				print_item(stdout, '-', &sl->items[j]);
		}
	}
	for (i = 0; i < l->n; i++) {
		for (found = false, j = 0; j < sl->n && !found; j++)
			found = item_eq(&l->items[i], &sl->items[j]);
		if (!found) {
			nd++;
			if (print)
				print_item(stdout, '+', &l->items[i]);
		}
	}
	/* Same items, other order: count it as one change. */
	if (nd == 0) {
		nd = 1;
		if (print)
			printf("  ~ items reordered\n");
	}
	return nd;
}

/* --- pushing ------------------------------------------------------------------- */

static int
set_list(struct session *s, const struct privacy_list *l)
{
	xmlDocPtr doc;
	xmlNodePtr iq;
	xmpp_stanza_t *r;
	char id[32], what[256];

	iq = iq_begin(s, &doc, "set", id, sizeof(id));
	xep0016_add_list(iq, l);
	snprintf(what, sizeof(what), "setting privacy list \"%s\"", l->name);
	if ((r = request_ok(s, doc, id, what, NULL, 0)) == NULL)
		return PUSH_SERVER;
	xmpp_stanza_release(r);
	return PUSH_OK;
}

static int
set_named(struct session *s, bool active, const char *name)
{
	xmlDocPtr doc;
	xmlNodePtr iq;
	xmpp_stanza_t *r;
	char id[32], what[256], cond[512];

	iq = iq_begin(s, &doc, "set", id, sizeof(id));
	if (active)
		xep0016_add_active(iq, name);
	else
		xep0016_add_default(iq, name);
	snprintf(what, sizeof(what), "making \"%s\" the %s list", name,
	    active ? "active" : "default");
	if ((r = request_ok(s, doc, id, what, cond, sizeof(cond))) == NULL) {
		if (strncmp(cond, "conflict", 8) == 0)
			return fail("%s: the server refused: %s; another "
			    "session of this account is online and uses the "
			    "default list (XEP-0016 3.4): close it, push again",
			    what, cond);
		if (cond[0] != '\0')
			return fail("%s: the server refused: %s", what, cond);
		return PUSH_SERVER;
	}
	xmpp_stanza_release(r);
	return PUSH_OK;
}

static int
set_block(struct session *s, const char *verb, const char *const *jids,
    size_t n)
{
	xmlDocPtr doc;
	xmlNodePtr iq;
	xmpp_stanza_t *r;
	char id[32], what[64];

	if (n == 0)
		return PUSH_OK;		/* an empty <unblock/> unblocks all */
	iq = iq_begin(s, &doc, "set", id, sizeof(id));
	xep0191_add_items(iq, verb, jids, n);
	snprintf(what, sizeof(what), "sending the %s command", verb);
	if ((r = request_ok(s, doc, id, what, NULL, 0)) == NULL)
		return PUSH_SERVER;
	xmpp_stanza_release(r);
	return PUSH_OK;
}

static const struct privacy_list *
default_list(const struct model *m)
{
	size_t i;

	for (i = 0; i < m->nlists; i++)
		if (m->lists[i].is_default)
			return &m->lists[i];
	return NULL;
}

static const struct privacy_list *
active_list(const struct model *m)
{
	size_t i;

	for (i = 0; i < m->nlists; i++)
		if (m->lists[i].is_active)
			return &m->lists[i];
	return NULL;
}

/* A JID our own default list denies outright: ejabberd shows it in the
 * blocklist, and unblocking it would edit our list. */
static bool
explained(const struct model *m, const char *jid)
{
	const struct privacy_list *l = default_list(m);
	size_t i;

	for (i = 0; l != NULL && i < l->n; i++)
		if (l->items[i].type == ITEM_JID &&
		    l->items[i].action == VERDICT_DENY &&
		    l->items[i].stanzas == 0 &&
		    strcmp(l->items[i].value, jid) == 0)
			return true;
	return false;
}

static bool
model_blocks(const struct model *m, const char *jid)
{
	size_t i;

	for (i = 0; i < m->block.n; i++)
		if (strcmp(m->block.jids[i], jid) == 0)
			return true;
	return false;
}

/*
 * The lists and the default.  *changes counts what differs; when apply
 * is set, push it and read it back.
 */
static int
push_lists(struct session *s, const struct model *m, bool apply,
    size_t *changes)
{
	const struct privacy_list *def = default_list(m), *act;
	struct names nm;
	struct slist *cur;
	struct jids blocked = { 0, NULL };
	size_t i, nd;
	bool *dirty;
	int rc;

	if ((rc = fetch_names(s, &nm)) != PUSH_OK)
		return rc;
	if (s->has_blocking && (rc = fetch_blocklist(s, &blocked, true)) !=
	    PUSH_OK)
		return rc;
	cur = arena_alloc(&s->arena, (m->nlists + 1) * sizeof(*cur));
	dirty = arena_alloc(&s->arena, (m->nlists + 1) * sizeof(*dirty));
	for (i = 0; i < m->nlists; i++) {
		if (names_has(&nm, m->lists[i].name) &&
		    (rc = fetch_list(s, m->lists[i].name, &cur[i])) != PUSH_OK)
			return rc;
		printf("privacy list ");
		print_str(stdout, m->lists[i].name);
		if (!cur[i].exists) {
			printf(": new, %zu items\n", m->lists[i].n);
			for (nd = 0; nd < m->lists[i].n; nd++)
				print_item(stdout, '+', &m->lists[i].items[nd]);
			dirty[i] = true;
			(*changes)++;
		} else if ((nd = diff_list(&m->lists[i], &cur[i], &blocked,
		    false)) == 0)
			printf(": unchanged\n");
		else {
			printf(": %zu changes\n", nd);
			diff_list(&m->lists[i], &cur[i], &blocked, true);
			dirty[i] = true;
			(*changes)++;
		}
	}
	for (i = 0; i < nm.n; i++) {
		size_t k;

		for (k = 0; k < m->nlists; k++)
			if (strcmp(m->lists[k].name, nm.lists[i]) == 0)
				break;
		if (k == m->nlists) {
			printf("privacy list ");
			print_str(stdout, nm.lists[i]);
			printf(": on the server, not in the policy: left "
			    "alone\n");
		}
	}
	if (def != NULL) {
		if (nm.def != NULL && strcmp(nm.def, def->name) == 0)
			printf("default list: unchanged\n");
		else {
			printf("default list: ");
			if (nm.def == NULL)
				printf("none");
			else
				print_str(stdout, nm.def);
			printf(" -> ");
			print_str(stdout, def->name);
			printf("\n");
			(*changes)++;
		}
	}
	if (!apply)
		return PUSH_OK;

	for (i = 0; i < m->nlists; i++)
		if (dirty[i] && (rc = set_list(s, &m->lists[i])) != PUSH_OK)
			return rc;
	if (def != NULL && (nm.def == NULL || strcmp(nm.def, def->name) != 0) &&
	    (rc = set_named(s, false, def->name)) != PUSH_OK)
		return rc;
	/* The active list is per session (XEP-0016 2.3): it is set for
	 * this session, which shows the server accepts it, and is not
	 * counted as a change. */
	if ((act = active_list(m)) != NULL &&
	    (rc = set_named(s, true, act->name)) != PUSH_OK)
		return rc;

	/* Read back. */
	if ((rc = fetch_names(s, &nm)) != PUSH_OK)
		return rc;
	if (def != NULL && (nm.def == NULL || strcmp(nm.def, def->name) != 0))
		return fail("read back: the default list is \"%s\", not "
		    "\"%s\"", nm.def != NULL ? nm.def : "(none)", def->name);
	if (s->has_blocking && (rc = fetch_blocklist(s, &blocked, true)) !=
	    PUSH_OK)
		return rc;
	for (i = 0; i < m->nlists; i++) {
		if ((rc = fetch_list(s, m->lists[i].name, &cur[i])) != PUSH_OK)
			return rc;
		if (!cur[i].exists || diff_list(&m->lists[i], &cur[i],
		    &blocked, false) != 0) {
			printf("read back of privacy list ");
			print_str(stdout, m->lists[i].name);
			printf(":\n");
			diff_list(&m->lists[i], &cur[i], &blocked, true);
			return fail("read back: privacy list \"%s\" on the "
			    "server differs from the policy",
			    m->lists[i].name);
		}
	}
	return PUSH_OK;
}

static int
push_blocking(struct session *s, const struct model *m, bool apply,
    size_t *changes)
{
	struct jids cur;
	const char **add, **del;
	size_t i, na = 0, nd = 0;
	int rc;

	if ((rc = fetch_blocklist(s, &cur, false)) != PUSH_OK)
		return rc;
	add = arena_alloc(&s->arena, (m->block.n + 1) * sizeof(char *));
	del = arena_alloc(&s->arena, (cur.n + 1) * sizeof(char *));
	for (i = 0; i < m->block.n; i++)
		if (!jids_has(&cur, m->block.jids[i]))
			add[na++] = m->block.jids[i];
	for (i = 0; i < cur.n; i++)
		if (!model_blocks(m, cur.v[i]) && !explained(m, cur.v[i]))
			del[nd++] = cur.v[i];
	if (na + nd == 0)
		printf("blocklist: unchanged (%zu JIDs)\n", m->block.n);
	else {
		printf("blocklist: %zu to block, %zu to unblock\n", na, nd);
		for (i = 0; i < na; i++) {
			printf("  + ");
			print_str(stdout, add[i]);
			printf("\n");
		}
		for (i = 0; i < nd; i++) {
			printf("  - ");
			print_str(stdout, del[i]);
			printf("\n");
		}
		(*changes)++;
	}
	if (!apply || na + nd == 0)
		return PUSH_OK;
	if ((rc = set_block(s, "block", add, na)) != PUSH_OK ||
	    (rc = set_block(s, "unblock", del, nd)) != PUSH_OK)
		return rc;

	/* Read back. */
	if ((rc = fetch_blocklist(s, &cur, false)) != PUSH_OK)
		return rc;
	for (i = 0; i < m->block.n; i++)
		if (!jids_has(&cur, m->block.jids[i]))
			return fail("read back: \"%s\" is not blocked on the "
			    "server", m->block.jids[i]);
	for (i = 0; i < cur.n; i++)
		if (!model_blocks(m, cur.v[i]) && !explained(m, cur.v[i]))
			return fail("read back: \"%s\" is still blocked on "
			    "the server", cur.v[i]);
	return PUSH_OK;
}

/* --- the session -------------------------------------------------------------- */

static int
parse_server(const char *arg, char *host, size_t hostlen,
    unsigned short *port)
{
	const char *colon, *end;
	char *e;
	unsigned long p;
	size_t n;

	*port = 0;
	if (arg[0] == '[') {
		if ((end = strchr(arg, ']')) == NULL)
			return -1;
		n = (size_t)(end - arg - 1);
		if (n == 0 || n >= hostlen)
			return -1;
		memcpy(host, arg + 1, n);
		host[n] = '\0';
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -1;
	} else {
		colon = strchr(arg, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL;	/* a bare IPv6 address */
		n = colon != NULL ? (size_t)(colon - arg) : strlen(arg);
		if (n == 0 || n >= hostlen)
			return -1;
		memcpy(host, arg, n);
		host[n] = '\0';
	}
	if (colon != NULL) {
		errno = 0;
		p = strtoul(colon + 1, &e, 10);
		if (colon[1] == '\0' || *e != '\0' || errno != 0 || p == 0 ||
		    p > 65535)
			return -1;
		*port = (unsigned short)p;
	}
	return 0;
}

static int
read_password(const struct popts *o, char *pw, size_t len)
{
	const char *env;
	struct stat st;
	FILE *f;
	size_t n;

	if (o->pwfile != NULL) {
		if ((f = fopen(o->pwfile, "r")) == NULL) {
			fprintf(stderr, "xmppfwc push: %s: %s\n", o->pwfile,
			    strerror(errno));
			return -1;
		}
		if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
			fclose(f);
			fprintf(stderr, "xmppfwc push: %s: not a regular "
			    "file\n", o->pwfile);
			return -1;
		}
		if ((st.st_mode & 077) != 0)
			fprintf(stderr, "xmppfwc push: warning: %s can be "
			    "read by others (chmod 600 it)\n", o->pwfile);
		if (fgets(pw, (int)len, f) == NULL)
			pw[0] = '\0';
		fclose(f);
	} else if ((env = getenv("XMPPFWC_PASSWORD")) != NULL)
		snprintf(pw, len, "%s", env);
	else {
		fprintf(stderr, "xmppfwc push: no password: use "
		    "--password-file F or set XMPPFWC_PASSWORD\n");
		return -1;
	}
	n = strlen(pw);
	while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
		pw[--n] = '\0';
	if (n == 0) {
		fprintf(stderr, "xmppfwc push: the password is empty\n");
		return -1;
	}
	return 0;
}

static int
session_open(struct session *s, const struct popts *o, const char *pw)
{
	char host[256];
	unsigned short port = 0;
	long flags;

	s->log.handler = log_cb;
	s->log.userdata = s;
	s->ctx = xmpp_ctx_new(NULL, &s->log);
	s->conn = xmpp_conn_new(s->ctx);
	flags = XMPP_CONN_FLAG_MANDATORY_TLS | XMPP_CONN_FLAG_DISABLE_SM;
	if (o->insecure)
		flags |= XMPP_CONN_FLAG_TRUST_TLS;
	xmpp_conn_set_flags(s->conn, flags);
	xmpp_conn_set_jid(s->conn, o->jid);
	xmpp_conn_set_pass(s->conn, pw);
	if (o->cafile != NULL)
		xmpp_conn_set_cafile(s->conn, o->cafile);
	certfail_session = s;
	xmpp_conn_set_certfail_handler(s->conn, certfail_cb);
	if (o->server != NULL)
		parse_server(o->server, host, sizeof(host), &port);
	if (xmpp_connect_client(s->conn, o->server != NULL ? host : NULL,
	    port, conn_cb, s) != XMPP_EOK)
		return fail("cannot start connecting to %s", o->server != NULL ?
		    o->server : s->domain);
	while (s->state == 0 && ms_left(s) > 0)
		xmpp_run_once(s->ctx, 100);
	if (s->state == 0)
		return fail("timeout: no session with %s within %ld s",
		    s->domain, s->timeout);
	if (s->state < 0) {
		if (s->certerr[0] != '\0')
			return fail("the server certificate is not trusted: "
			    "%s (use --ca-file)", s->certerr);
		if (s->sockerr != 0)
			return fail("cannot connect to %s: %s", o->server != NULL ?
			    o->server : s->domain, strerror(s->sockerr));
		if (strncmp(s->lastlog, "auth:", 5) == 0 || s->mech[0] != '\0')
			return fail("authentication failed for %s (wrong "
			    "password, no such account, or no common SASL "
			    "mechanism)", o->jid);
		return fail("%s%s%s", s->why, s->lastlog[0] != '\0' ?
		    "; " : "", s->lastlog);
	}
	if (!xmpp_conn_is_secured(s->conn))
		return fail("the connection is not encrypted; refusing");
	if (strncmp(s->mech, "SCRAM-", 6) != 0)
		return fail("authenticated with %s, not SCRAM: the server "
		    "offers no SCRAM mechanism; refusing to go on",
		    s->mech[0] != '\0' ? s->mech : "an unknown mechanism");
	xmpp_handler_add(s->conn, push_ack_cb, NULL, "iq", "set", s);
	printf("connected: %s over TLS (certificate %s), SASL %s\n",
	    xmpp_conn_get_bound_jid(s->conn), o->insecure ? "NOT verified" :
	    "verified", s->mech);
	return PUSH_OK;
}

static void
session_close(struct session *s)
{
	if (s->conn != NULL) {
		if (s->state == 1) {
			xmpp_disconnect(s->conn);
			while (s->state == 1 && ms_left(s) > -2000)
				xmpp_run_once(s->ctx, 50);
		}
		xmpp_conn_release(s->conn);
	}
	if (s->ctx != NULL)
		xmpp_ctx_free(s->ctx);
	certfail_session = NULL;
	arena_free(&s->arena);
}

static int
parse_opts(int argc, char *argv[], struct popts *o)
{
	static const struct option longopts[] = {
		{ "jid",		required_argument, NULL, 'j' },
		{ "password-file",	required_argument, NULL, 'p' },
		{ "server",		required_argument, NULL, 's' },
		{ "ca-file",		required_argument, NULL, 'c' },
		{ "insecure",		no_argument,	   NULL, 'k' },
		{ "dry-run",		no_argument,	   NULL, 'n' },
		{ "timeout",		required_argument, NULL, 't' },
		{ "password",		required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	char host[256], *end;
	unsigned short port;
	int ch;

	memset(o, 0, sizeof(*o));
	o->timeout = 30;
	optind = 0;			/* glibc: full reset */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			o->jid = optarg;
			break;
		case 'p':
			o->pwfile = optarg;
			break;
		case 's':
			o->server = optarg;
			if (parse_server(optarg, host, sizeof(host), &port))
				return usage("bad --server \"%s\" (HOST or "
				    "HOST:PORT)", optarg);
			break;
		case 'c':
			o->cafile = optarg;
			break;
		case 'k':
			o->insecure = true;
			break;
		case 'n':
			o->dryrun = true;
			break;
		case 't':
			errno = 0;
			o->timeout = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    o->timeout < 1 || o->timeout > 3600)
				return usage("bad --timeout \"%s\" (1..3600 "
				    "seconds)", optarg);
			break;
		case 'P':
			return usage("--password is refused: a password in "
			    "argv is visible to every user (ps); use "
			    "--password-file or XMPPFWC_PASSWORD");
		default:
			return usage("unknown or incomplete option \"%s\"",
			    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage("unexpected argument \"%s\"", argv[optind]);
	if (o->jid == NULL)
		return usage("--jid is required");
	if (strchr(o->jid, '@') == NULL || o->jid[0] == '@' ||
	    !stz_text_ok(o->jid) || strpbrk(o->jid, " \t\r\n<>&\"'") != NULL)
		return usage("bad --jid \"%s\" (user@domain)", o->jid);
	if (o->insecure && o->cafile != NULL)
		return usage("--insecure and --ca-file exclude each other");
	return PUSH_OK;
}

int
push_command(const struct model *m, int argc, char *argv[])
{
	struct popts o;
	struct session s;
	char pw[1024], *dom;
	bool manage_block;
	size_t changes = 0;
	int rc;

	if ((rc = parse_opts(argc, argv, &o)) != PUSH_OK)
		return rc;
	/* Refuse what the backends would refuse, before connecting. */
	if (xep0016_check(m, stderr) + xep0191_check(m, stderr) != 0)
		return PUSH_USAGE;
	manage_block = m->block.n > 0 || m->block.loc.file != NULL;
	if (m->nlists == 0 && !manage_block) {
		printf("push: the policy has no privacy list and no block: "
		    "nothing to push\n");
		return PUSH_OK;
	}
	if (read_password(&o, pw, sizeof(pw)) != 0)
		return PUSH_USAGE;
	if (o.insecure)
		fprintf(stderr, "xmppfwc push: warning: --insecure: the "
		    "server certificate is NOT verified; anyone on the path "
		    "can read the password and change the lists\n");

	memset(&s, 0, sizeof(s));
	arena_init(&s.arena);
	s.timeout = o.timeout;
	clock_gettime(CLOCK_MONOTONIC, &s.deadline);
	s.deadline.tv_sec += o.timeout;
	xmpp_initialize();
	rc = PUSH_SERVER;
	s.log.handler = log_cb;
	s.log.userdata = &s;
	{
		xmpp_ctx_t *tmp = xmpp_ctx_new(NULL, NULL);

		dom = xmpp_jid_domain(tmp, o.jid);
		s.domain = sdup(&s, dom);
		xmpp_free(tmp, dom);
		xmpp_ctx_free(tmp);
	}
	if (session_open(&s, &o, pw) != PUSH_OK)
		goto out;
	explicit_bzero(pw, sizeof(pw));
	if (check_features(&s, m->nlists > 0, manage_block) != PUSH_OK)
		goto out;
	if (m->nlists > 0 && push_lists(&s, m, !o.dryrun, &changes) != PUSH_OK)
		goto out;
	if (manage_block && push_blocking(&s, m, !o.dryrun, &changes) !=
	    PUSH_OK)
		goto out;
	if (changes == 0)
		printf("push: %s: no change\n", o.jid);
	else if (o.dryrun)
		printf("push: %s: dry run, %zu update%s not pushed\n", o.jid,
		    changes, changes == 1 ? "" : "s");
	else
		printf("push: %s: %zu update%s pushed, read back and "
		    "verified\n", o.jid, changes, changes == 1 ? "" : "s");
	rc = PUSH_OK;
out:
	explicit_bzero(pw, sizeof(pw));
	fflush(stdout);
	session_close(&s);
	xmpp_shutdown();
	return rc;
}
