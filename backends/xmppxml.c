/*
 * xmppxml.c - libxml2 helpers shared by the XMPP backends and push.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xmlsave.h>

#include "backend.h"
#include "xmppxml.h"

#define X(s)	((const xmlChar *)(s))

/*
 * Decode one UTF-8 sequence at s; return its length, or 0 when it is
 * malformed (overlong, surrogate, beyond U+10FFFF, truncated).
 */
static size_t
utf8_decode(const unsigned char *s, uint32_t *cp)
{
	size_t n, i;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		n = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4, c = s[0] & 0x07, min = 0x10000;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

bool
stz_text_ok(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t c;
	size_t n;

	if (s == NULL)
		return false;
	while (*s != '\0') {
		if ((n = utf8_decode(s, &c)) == 0)
			return false;
		/* XML 1.0 Char production. */
		if (!(c == 0x9 || c == 0xa || c == 0xd ||
		    (c >= 0x20 && c <= 0xd7ff) ||
		    (c >= 0xe000 && c <= 0xfffd) ||
		    (c >= 0x10000 && c <= 0x10ffff)))
			return false;
		s += n;
	}
	return true;
}

void
stz_diag(FILE *err, const struct srcloc *loc, const char *kind,
    const char *fmt, ...)
{
	va_list ap;

	if (loc != NULL && loc->file != NULL)
		fprintf(err, "%s:%d:%d: %s: ", loc->file, loc->line, loc->col,
		    kind);
	else
		fprintf(err, "xmppfwc: %s: ", kind);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputc('\n', err);
}

static bool
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

int
xep0016_check(const struct model *m, FILE *err)
{
	const struct privacy_list *l;
	const struct privacy_item *it;
	size_t i, j, k, ndef = 0, nact = 0;
	int errors = 0;

	for (i = 0; i < m->nlists; i++) {
		l = &m->lists[i];
		if (!stz_text_ok(l->name)) {
			stz_diag(err, &l->loc, "error", "list name is not "
			    "valid UTF-8 text that XML can carry");
			errors++;
			continue;
		}
		if (!is_ascii(l->name))
			stz_diag(err, &l->loc, "warning", "list name \"%s\" "
			    "is not ASCII; some servers and clients mangle "
			    "it", l->name);
		for (k = 0; k < i; k++)
			if (strcmp(m->lists[k].name, l->name) == 0) {
				stz_diag(err, &l->loc, "error", "list \"%s\" "
				    "defined twice", l->name);
				errors++;
			}
		ndef += l->is_default;
		nact += l->is_active;
		if (l->n == 0) {
			/* Servers read <list name='x'/> as "delete x". */
			stz_diag(err, &l->loc, "error", "list \"%s\" has no "
			    "items; an empty list would delete it on the "
			    "server", l->name);
			errors++;
			continue;
		}
		if (l->n > STZ_WARN_ITEMS)
			stz_diag(err, &l->loc, "warning", "list \"%s\" has "
			    "%zu items (more than %d); servers may refuse "
			    "it", l->name, l->n, STZ_WARN_ITEMS);
		for (j = 0; j < l->n; j++) {
			it = &l->items[j];
			if (it->action != VERDICT_ALLOW &&
			    it->action != VERDICT_DENY) {
				stz_diag(err, &it->loc, "error", "privacy "
				    "items can only allow or deny");
				errors++;
			}
			if (j > 0 && it->order <= l->items[j - 1].order) {
				stz_diag(err, &it->loc, "error", "item order "
				    "%u not above the previous %u",
				    (unsigned)it->order,
				    (unsigned)l->items[j - 1].order);
				errors++;
			}
			if (it->order > INT32_MAX) {
				stz_diag(err, &it->loc, "error", "item order "
				    "%u out of range 0..2147483647",
				    (unsigned)it->order);
				errors++;
			}
			if ((it->stanzas & ~(STANZA_IQ | STANZA_MESSAGE |
			    STANZA_PRESENCE_IN | STANZA_PRESENCE_OUT)) != 0) {
				stz_diag(err, &it->loc, "error", "unknown "
				    "stanza kind");
				errors++;
			}
			if (it->type == ITEM_ALL)
				continue;
			if (!stz_text_ok(it->value) || it->value[0] == '\0') {
				stz_diag(err, &it->loc, "error", "%s value is "
				    "empty or not valid UTF-8 text that XML "
				    "can carry", item_type_name(it->type));
				errors++;
			}
		}
	}
	if (ndef > 1) {
		stz_diag(err, NULL, "error", "more than one default list");
		errors++;
	}
	if (nact > 1) {
		stz_diag(err, NULL, "error", "more than one active list");
		errors++;
	}
	return errors;
}

int
xep0191_check(const struct model *m, FILE *err)
{
	const struct blocklist *b = &m->block;
	size_t i;
	int errors = 0;

	for (i = 0; i < b->n; i++) {
		const struct srcloc *loc = b->locs != NULL ? &b->locs[i] :
		    &b->loc;

		if (!stz_text_ok(b->jids[i]) || b->jids[i][0] == '\0') {
			stz_diag(err, loc, "error", "blocked JID is empty or "
			    "not valid UTF-8 text that XML can carry");
			errors++;
		} else if (i > 0 && strcmp(b->jids[i - 1], b->jids[i]) >= 0) {
			stz_diag(err, loc, "error", "blocked JIDs not sorted "
			    "and unique at \"%s\"", b->jids[i]);
			errors++;
		}
	}
	if (b->n > STZ_WARN_ITEMS)
		stz_diag(err, &b->loc, "warning", "blocklist has %zu items "
		    "(more than %d); servers may refuse it", b->n,
		    STZ_WARN_ITEMS);
	return errors;
}

void
stz_iq_id(char *buf, size_t len, const char *kind, size_t n)
{
	snprintf(buf, len, "xfw-%s-%zu", kind, n);
}

xmlNodePtr
stz_iq_new(xmlDocPtr doc, xmlNodePtr parent, const char *type,
    const char *id)
{
	xmlNodePtr iq;

	if (parent != NULL)
		iq = xmlNewChild(parent, NULL, X("iq"), NULL);
	else {
		iq = xmlNewDocNode(doc, NULL, X("iq"), NULL);
		xmlDocSetRootElement(doc, iq);
	}
	xmlSetNs(iq, xmlNewNs(iq, X(STZ_NS_CLIENT), NULL));
	xmlNewProp(iq, X("type"), X(type));
	xmlNewProp(iq, X("id"), X(id));
	return iq;
}

xmlNodePtr
stz_child_ns(xmlNodePtr parent, const char *name, const char *ns)
{
	xmlNodePtr n;

	n = xmlNewChild(parent, NULL, X(name), NULL);
	xmlSetNs(n, xmlNewNs(n, X(ns), NULL));
	return n;
}

const char *
stz_stanza_name(unsigned bit)
{
	switch (bit) {
	case STANZA_IQ:
		return "iq";
	case STANZA_MESSAGE:
		return "message";
	case STANZA_PRESENCE_IN:
		return "presence-in";
	case STANZA_PRESENCE_OUT:
		return "presence-out";
	}
	return NULL;
}

xmlNodePtr
xep0016_add_list(xmlNodePtr iq, const struct privacy_list *l)
{
	static const unsigned kinds[] = {
		STANZA_IQ, STANZA_MESSAGE, STANZA_PRESENCE_IN,
		STANZA_PRESENCE_OUT
	};
	xmlNodePtr q, list, item;
	const struct privacy_item *it;
	char order[16];
	size_t i, k;

	q = stz_child_ns(iq, "query", STZ_NS_PRIVACY);
	list = xmlNewChild(q, NULL, X("list"), NULL);
	xmlNewProp(list, X("name"), X(l->name));
	for (i = 0; i < l->n; i++) {
		it = &l->items[i];
		item = xmlNewChild(list, NULL, X("item"), NULL);
		/* The catch-all has neither type nor value (XEP-0016 2.2). */
		if (it->type != ITEM_ALL) {
			xmlNewProp(item, X("type"),
			    X(item_type_name(it->type)));
			xmlNewProp(item, X("value"), X(it->value));
		}
		xmlNewProp(item, X("action"), X(it->action == VERDICT_ALLOW ?
		    "allow" : "deny"));
		snprintf(order, sizeof(order), "%u", (unsigned)it->order);
		xmlNewProp(item, X("order"), X(order));
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (it->stanzas & kinds[k])
				xmlNewChild(item, NULL,
				    X(stz_stanza_name(kinds[k])), NULL);
	}
	return q;
}

static xmlNodePtr
add_named(xmlNodePtr iq, const char *elem, const char *name)
{
	xmlNodePtr q, n;

	q = stz_child_ns(iq, "query", STZ_NS_PRIVACY);
	n = xmlNewChild(q, NULL, X(elem), NULL);
	/* No name: decline the default / active list (XEP-0016 2.4, 2.5). */
	if (name != NULL)
		xmlNewProp(n, X("name"), X(name));
	return q;
}

xmlNodePtr
xep0016_add_default(xmlNodePtr iq, const char *name)
{
	return add_named(iq, "default", name);
}

xmlNodePtr
xep0016_add_active(xmlNodePtr iq, const char *name)
{
	return add_named(iq, "active", name);
}

xmlNodePtr
xep0191_add_items(xmlNodePtr iq, const char *verb, const char *const *jids,
    size_t n)
{
	xmlNodePtr b, item;
	size_t i;

	b = stz_child_ns(iq, verb, STZ_NS_BLOCK);
	for (i = 0; i < n; i++) {
		item = xmlNewChild(b, NULL, X("item"), NULL);
		xmlNewProp(item, X("jid"), X(jids[i]));
	}
	return b;
}

char *
stz_node_string(xmlNodePtr node, size_t *lenp)
{
	xmlBufferPtr buf;
	char *s;
	size_t len;

	buf = xmlBufferCreate();
	if (buf == NULL) {
		fprintf(stderr, "xmppfwc: out of memory\n");
		exit(2);
	}
	xmlNodeDump(buf, node->doc, node, 0, 0);
	len = (size_t)xmlBufferLength(buf);
	s = xmalloc(len + 1);
	memcpy(s, xmlBufferContent(buf), len);
	s[len] = '\0';
	xmlBufferFree(buf);
	if (lenp != NULL)
		*lenp = len;
	return s;
}

int
stz_doc_write(xmlDocPtr doc, FILE *out)
{
	xmlChar *mem = NULL;
	int len = 0;
	size_t w;

	xmlDocDumpFormatMemoryEnc(doc, &mem, &len, "UTF-8", 1);
	if (mem == NULL)
		return -1;
	w = fwrite(mem, 1, (size_t)len, out);
	xmlFree(mem);
	return w == (size_t)len && fflush(out) == 0 ? 0 : -1;
}

xmlDocPtr
stz_artefact_new(const struct model *m, xmlNodePtr *rootp)
{
	xmlDocPtr doc;
	xmlNodePtr root;

	doc = xmlNewDoc(X("1.0"));
	root = xmlNewDocNode(doc, NULL, X("stanzas"), NULL);
	xmlDocSetRootElement(doc, root);
	xmlSetNs(root, xmlNewNs(root, X(STZ_NS_STANZAS), NULL));
	xmlNewProp(root, X("generator"), X("xmppfwc " XFW_VERSION));
	/* The source path goes through the same escaping as everything
	 * else; a path that XML cannot carry is left out. */
	if (m->source != NULL && stz_text_ok(m->source))
		xmlNewProp(root, X("source"), X(m->source));
	*rootp = root;
	return doc;
}
