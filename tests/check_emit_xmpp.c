/*
 * check_emit_xmpp.c - the xep0016 and xep0191 backends on hand-built
 * models: golden stanzas, schema validation of every generated payload
 * (XSF schemas, xmlSchemaValidateDoc), the guarantees the schema cannot
 * check, hostile strings re-parsed unchanged, determinism, and the
 * errors and warnings.
 *
 * The schemas are read from $XFW_XSD_DIR, else tests/data/xmpp (copies of the XSF schemas,
 * with the documented local patch in privacy.xsd).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <glob.h>
#include <libgen.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "backend.h"
#include "compile.h"
#include "xmppxml.h"

#define X(s)	((const xmlChar *)(s))

extern const struct backend backend_xep0016;
extern const struct backend backend_xep0191;

static struct arena A;

static void
setup(void)
{
	arena_init(&A);
}

static void
teardown(void)
{
	arena_free(&A);
}

/* --- building models by hand ------------------------------------- */

static struct model *
model_new(void)
{
	struct model *m;

	m = arena_alloc(&A, sizeof(*m));
	m->arena = &A;
	m->source = "t.xfw";
	return m;
}

static struct privacy_list *
add_list(struct model *m, const char *name, bool def, bool act)
{
	struct privacy_list *l;

	m->lists = arena_grow(&A, m->lists, m->nlists * sizeof(*l),
	    (m->nlists + 1) * sizeof(*l));
	l = &m->lists[m->nlists++];
	memset(l, 0, sizeof(*l));
	l->loc.file = "t.xfw";
	l->loc.line = (int)m->nlists;
	l->loc.col = 3;
	l->name = arena_strdup(&A, name);
	l->is_default = def;
	l->is_active = act;
	return l;
}

static void
add_item(struct privacy_list *l, enum item_type t, const char *value,
    enum verdict v, uint32_t order, unsigned stanzas)
{
	struct privacy_item *it;

	l->items = arena_grow(&A, l->items, l->n * sizeof(*it),
	    (l->n + 1) * sizeof(*it));
	it = &l->items[l->n++];
	memset(it, 0, sizeof(*it));
	it->loc.file = "t.xfw";
	it->loc.line = 10 + (int)l->n;
	it->loc.col = 5;
	it->type = t;
	it->value = value != NULL ? arena_strdup(&A, value) : NULL;
	it->action = v;
	it->order = order;
	it->stanzas = stanzas;
}

static void
set_block(struct model *m, const char *const *jids, size_t n)
{
	size_t i;

	m->block.loc.file = "t.xfw";
	m->block.loc.line = 30;
	m->block.loc.col = 3;
	m->block.n = n;
	m->block.jids = arena_alloc(&A, n * sizeof(char *));
	m->block.locs = arena_alloc(&A, n * sizeof(struct srcloc));
	for (i = 0; i < n; i++) {
		m->block.jids[i] = arena_strdup(&A, jids[i]);
		m->block.locs[i] = m->block.loc;
	}
}

/* The policy of the README: a whitelist, made default. */
static struct model *
whitelist_model(void)
{
	struct model *m = model_new();
	struct privacy_list *l;

	l = add_list(m, "urn:xmpp:whitelist", true, false);
	add_item(l, ITEM_JID, "jabber.org", VERDICT_ALLOW, 10, 0);
	add_item(l, ITEM_JID, "gmail.com", VERDICT_ALLOW, 20, 0);
	add_item(l, ITEM_GROUP, "Friends", VERDICT_ALLOW, 30, STANZA_MESSAGE);
	add_item(l, ITEM_ALL, NULL, VERDICT_DENY, 40, 0);
	return m;
}

/* --- running a backend ------------------------------------------- */

struct run {
	int	 rc;
	char	*out;
	size_t	 outlen;
	char	*err;
	size_t	 errlen;
};

static struct run
run(const struct backend *b, const struct model *m)
{
	struct run r;
	FILE *out, *err;

	memset(&r, 0, sizeof(r));
	out = open_memstream(&r.out, &r.outlen);
	err = open_memstream(&r.err, &r.errlen);
	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(err);
	r.rc = b->emit(m, out, err);
	fclose(out);
	fclose(err);
	return r;
}

static void
run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

/* --- validation ---------------------------------------------------- */

static xmlSchemaPtr
load_schema(const char *file)
{
	const char *dir = getenv("XFW_XSD_DIR");
	char path[4096];
	xmlSchemaParserCtxtPtr pc;
	xmlSchemaPtr s;

	snprintf(path, sizeof(path), "%s/%s",
	    dir != NULL ? dir : "tests/data/xmpp", file);
	pc = xmlSchemaNewParserCtxt(path);
	ck_assert_msg(pc != NULL, "cannot read schema %s", path);
	s = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
	ck_assert_msg(s != NULL, "cannot parse schema %s", path);
	return s;
}

static xmlNodePtr
first_elem(xmlNodePtr n)
{
	for (; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

static xmlNodePtr
next_elem(xmlNodePtr n)
{
	return first_elem(n->next);
}

static size_t
count_elems(xmlNodePtr parent)
{
	xmlNodePtr c;
	size_t n = 0;

	for (c = first_elem(parent->children); c != NULL; c = next_elem(c))
		n++;
	return n;
}

static bool
is(xmlNodePtr n, const char *name, const char *ns)
{
	return n != NULL && xmlStrcmp(n->name, X(name)) == 0 &&
	    n->ns != NULL && xmlStrcmp(n->ns->href, X(ns)) == 0;
}

static xmlDocPtr
parse(const struct run *r)
{
	xmlDocPtr doc;

	doc = xmlReadMemory(r->out, (int)r->outlen, "out.xml", "UTF-8",
	    XML_PARSE_NONET | XML_PARSE_NOBLANKS);
	ck_assert_msg(doc != NULL, "output is not well-formed XML:\n%s",
	    r->out);
	return doc;
}

/*
 * Check every <iq> of an artefact: the envelope guarantees, then the
 * payload, copied into a document of its own, against the schema.
 * Returns the number of iqs.
 */
static size_t
validate(const struct run *r, const char *xsd, const char *payload,
    const char *ns)
{
	xmlSchemaPtr schema = load_schema(xsd);
	xmlSchemaValidCtxtPtr vc;
	xmlDocPtr doc, pd;
	xmlNodePtr root, iq, q;
	xmlChar *id, *type;
	char ids[256][32];
	size_t n = 0, i;
	int rc;

	doc = parse(r);
	root = xmlDocGetRootElement(doc);
	ck_assert(is(root, "stanzas", STZ_NS_STANZAS));
	for (iq = first_elem(root->children); iq != NULL; iq = next_elem(iq)) {
		ck_assert(is(iq, "iq", STZ_NS_CLIENT));
		type = xmlGetProp(iq, X("type"));
		id = xmlGetProp(iq, X("id"));
		ck_assert_str_eq((char *)type, "set");
		ck_assert_ptr_nonnull(id);
		ck_assert_ptr_null(xmlHasProp(iq, X("to")));
		ck_assert_uint_lt(n, 256);
		for (i = 0; i < n; i++)
			ck_assert_str_ne(ids[i], (char *)id);
		snprintf(ids[n++], sizeof(ids[0]), "%s", (char *)id);
		xmlFree(type);
		xmlFree(id);
		/* One payload element, and one child in a privacy query. */
		ck_assert_uint_eq(count_elems(iq), 1);
		q = first_elem(iq->children);
		ck_assert(is(q, payload, ns));
		if (strcmp(payload, "query") == 0)
			ck_assert_uint_eq(count_elems(q), 1);
		pd = xmlNewDoc(X("1.0"));
		xmlDocSetRootElement(pd, xmlDocCopyNode(q, pd, 1));
		vc = xmlSchemaNewValidCtxt(schema);
		rc = xmlSchemaValidateDoc(vc, pd);
		ck_assert_msg(rc == 0, "payload of iq %zu does not validate "
		    "against %s:\n%s", n, xsd, r->out);
		xmlSchemaFreeValidCtxt(vc);
		xmlFreeDoc(pd);
	}
	xmlFreeDoc(doc);
	xmlSchemaFree(schema);
	return n;
}

/* Attribute name of n equals want. */
static void
prop_is(xmlNodePtr n, const char *name, const char *want)
{
	xmlChar *v = xmlGetProp(n, X(name));

	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq((char *)v, want);
	xmlFree(v);
}

/* The <list> of the i-th iq (0-based), or NULL. */
static xmlNodePtr
nth_payload(xmlDocPtr doc, size_t i)
{
	xmlNodePtr iq;

	iq = first_elem(xmlDocGetRootElement(doc)->children);
	while (iq != NULL && i-- > 0)
		iq = next_elem(iq);
	if (iq == NULL)
		return NULL;
	return first_elem(first_elem(iq->children)->children);
}

/* --- the tests ------------------------------------------------------ */

static const char golden_whitelist[] =
"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
"<stanzas xmlns=\"urn:xmppfwc:stanzas:1\" generator=\"xmppfwc " XFW_VERSION
    "\" source=\"t.xfw\">\n"
"  <iq xmlns=\"jabber:client\" type=\"set\" id=\"xfw-privacy-1\">\n"
"    <query xmlns=\"jabber:iq:privacy\">\n"
"      <list name=\"urn:xmpp:whitelist\">\n"
"        <item type=\"jid\" value=\"jabber.org\" action=\"allow\" order=\"10\"/>\n"
"        <item type=\"jid\" value=\"gmail.com\" action=\"allow\" order=\"20\"/>\n"
"        <item type=\"group\" value=\"Friends\" action=\"allow\" order=\"30\">\n"
"          <message/>\n"
"        </item>\n"
"        <item action=\"deny\" order=\"40\"/>\n"
"      </list>\n"
"    </query>\n"
"  </iq>\n"
"  <iq xmlns=\"jabber:client\" type=\"set\" id=\"xfw-privacy-2\">\n"
"    <query xmlns=\"jabber:iq:privacy\">\n"
"      <default name=\"urn:xmpp:whitelist\"/>\n"
"    </query>\n"
"  </iq>\n"
"</stanzas>\n";

START_TEST(golden_xep0016_whitelist)
{
	struct run r = run(&backend_xep0016, whitelist_model());

	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.err, "");
	ck_assert_str_eq(r.out, golden_whitelist);
	ck_assert_uint_eq(validate(&r, "privacy.xsd", "query",
	    STZ_NS_PRIVACY), 2);
	run_free(&r);
}
END_TEST

static const char golden_block[] =
"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
"<stanzas xmlns=\"urn:xmppfwc:stanzas:1\" generator=\"xmppfwc " XFW_VERSION
    "\" source=\"t.xfw\">\n"
"  <iq xmlns=\"jabber:client\" type=\"set\" id=\"xfw-block-1\">\n"
"    <block xmlns=\"urn:xmpp:blocking\">\n"
"      <item jid=\"bad.example\"/>\n"
"      <item jid=\"spammer@example.net\"/>\n"
"    </block>\n"
"  </iq>\n"
"</stanzas>\n";

START_TEST(golden_xep0191_block)
{
	struct model *m = model_new();
	const char *jids[] = { "bad.example", "spammer@example.net" };
	struct run r;

	set_block(m, jids, 2);
	r = run(&backend_xep0191, m);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.err, "");
	ck_assert_str_eq(r.out, golden_block);
	ck_assert_uint_eq(validate(&r, "blocking.xsd", "block",
	    STZ_NS_BLOCK), 1);
	run_free(&r);
}
END_TEST

START_TEST(empty_models)
{
	struct model *m = model_new();
	struct run r;

	/* No list, no block: a valid document with no stanza at all
	 * (an empty <block/> is invalid XEP-0191). */
	r = run(&backend_xep0016, m);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(validate(&r, "privacy.xsd", "query",
	    STZ_NS_PRIVACY), 0);
	run_free(&r);
	r = run(&backend_xep0191, m);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(validate(&r, "blocking.xsd", "block",
	    STZ_NS_BLOCK), 0);
	run_free(&r);
}
END_TEST

/* Several lists, default and active different, every stanza kind, every
 * item type: the order of IQs and of children in an item. */
START_TEST(lists_default_active_order)
{
	struct model *m = model_new();
	struct privacy_list *a, *b;
	struct run r;
	xmlDocPtr doc;
	xmlNodePtr n, item, c;
	const char *kids[] = { "iq", "message", "presence-in", "presence-out" };
	size_t i;

	a = add_list(m, "public", false, true);
	add_item(a, ITEM_SUBSCRIPTION, "both", VERDICT_ALLOW, 5,
	    STANZA_PRESENCE_OUT | STANZA_IQ | STANZA_PRESENCE_IN |
	    STANZA_MESSAGE);
	add_item(a, ITEM_ALL, NULL, VERDICT_DENY, 2147483647u,
	    STANZA_PRESENCE_IN);
	b = add_list(m, "home", true, false);
	add_item(b, ITEM_JID, "a@b.example/res", VERDICT_DENY, 0, 0);
	r = run(&backend_xep0016, m);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(validate(&r, "privacy.xsd", "query",
	    STZ_NS_PRIVACY), 4);
	doc = parse(&r);
	/* Lists first, in model order, then default, then active. */
	ck_assert(is(nth_payload(doc, 0), "list", STZ_NS_PRIVACY));
	ck_assert(is(nth_payload(doc, 1), "list", STZ_NS_PRIVACY));
	n = nth_payload(doc, 2);
	ck_assert(is(n, "default", STZ_NS_PRIVACY));
	prop_is(n, "name", "home");
	n = nth_payload(doc, 3);
	ck_assert(is(n, "active", STZ_NS_PRIVACY));
	prop_is(n, "name", "public");
	/* Children in the order iq, message, presence-in, presence-out. */
	item = first_elem(nth_payload(doc, 0)->children);
	for (c = first_elem(item->children), i = 0; c != NULL;
	    c = next_elem(c), i++)
		ck_assert_str_eq((char *)c->name, kids[i]);
	ck_assert_uint_eq(i, 4);
	/* The catch-all: no type, no value, plain decimal order. */
	item = next_elem(item);
	ck_assert_ptr_null(xmlHasProp(item, X("type")));
	ck_assert_ptr_null(xmlHasProp(item, X("value")));
	prop_is(item, "order", "2147483647");
	xmlFreeDoc(doc);
	run_free(&r);
}
END_TEST

START_TEST(deterministic)
{
	struct model *m = whitelist_model();
	const char *jids[] = { "a.example", "b@c.example" };
	struct run r1, r2;

	set_block(m, jids, 2);
	r1 = run(&backend_xep0016, m);
	r2 = run(&backend_xep0016, m);
	ck_assert_uint_eq(r1.outlen, r2.outlen);
	ck_assert(memcmp(r1.out, r2.out, r1.outlen) == 0);
	run_free(&r1);
	run_free(&r2);
	r1 = run(&backend_xep0191, m);
	r2 = run(&backend_xep0191, m);
	ck_assert_uint_eq(r1.outlen, r2.outlen);
	ck_assert(memcmp(r1.out, r2.out, r1.outlen) == 0);
	run_free(&r1);
	run_free(&r2);
}
END_TEST

/* Strings that would break hand-made XML, all legal XML characters. */
static const char *const hostile[] = {
	"a\"b'c",
	"]]>",
	"x<y&z>w",
	"&amp;&#60;&lt;",
	"line1\nline2\r\n\ttab",
	"<!-- c --><![CDATA[x]]>",
	"\"/><item action=\"allow\" order=\"0\"/><x a=\"",
	"\xc3\xa9t\xc3\xa9 \xe2\x80\x8b\xf0\x9f\x98\x80",
	"  leading and trailing  ",
};
#define NHOSTILE	(sizeof(hostile) / sizeof(hostile[0]))

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

START_TEST(hostile_strings_escaped)
{
	struct model *m = model_new();
	struct privacy_list *l;
	struct run r;
	xmlDocPtr doc;
	xmlNodePtr list, item, b;
	xmlChar *v;
	const char *sorted[NHOSTILE];
	size_t i;

	for (i = 0; i < NHOSTILE; i++) {
		l = add_list(m, hostile[i], i == 0, i == 1);
		add_item(l, ITEM_GROUP, hostile[i], VERDICT_ALLOW, 1, 0);
		add_item(l, ITEM_JID, hostile[NHOSTILE - 1 - i], VERDICT_DENY,
		    2, STANZA_MESSAGE);
	}
	/* The model's blocklist is sorted, unique. */
	memcpy(sorted, hostile, sizeof(sorted));
	qsort(sorted, NHOSTILE, sizeof(sorted[0]), cmpstr);
	set_block(m, sorted, NHOSTILE);
	r = run(&backend_xep0016, m);
	ck_assert_msg(r.rc == 0, "%s", r.err);
	ck_assert_uint_eq(validate(&r, "privacy.xsd", "query",
	    STZ_NS_PRIVACY), NHOSTILE + 2);
	doc = parse(&r);
	for (i = 0; i < NHOSTILE; i++) {
		list = nth_payload(doc, i);
		ck_assert(is(list, "list", STZ_NS_PRIVACY));
		/* Exactly the items we put in: nothing injected. */
		ck_assert_uint_eq(count_elems(list), 2);
		v = xmlGetProp(list, X("name"));
		ck_assert_str_eq((char *)v, hostile[i]);
		xmlFree(v);
		item = first_elem(list->children);
		v = xmlGetProp(item, X("value"));
		ck_assert_str_eq((char *)v, hostile[i]);
		xmlFree(v);
		item = next_elem(item);
		v = xmlGetProp(item, X("value"));
		ck_assert_str_eq((char *)v, hostile[NHOSTILE - 1 - i]);
		xmlFree(v);
	}
	v = xmlGetProp(nth_payload(doc, NHOSTILE), X("name"));
	ck_assert_str_eq((char *)v, hostile[0]);
	xmlFree(v);
	xmlFreeDoc(doc);
	run_free(&r);

	/* The source path is escaped too. */
	m->source = "dir/\"a<b>&.xfw";
	r = run(&backend_xep0191, m);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_uint_eq(validate(&r, "blocking.xsd", "block",
	    STZ_NS_BLOCK), 1);
	doc = parse(&r);
	v = xmlGetProp(xmlDocGetRootElement(doc), X("source"));
	ck_assert_str_eq((char *)v, m->source);
	xmlFree(v);
	b = nth_payload(doc, 0);	/* the first <item> */
	for (i = 0; i < NHOSTILE; i++, b = next_elem(b)) {
		ck_assert_ptr_nonnull(b);
		v = xmlGetProp(b, X("jid"));
		ck_assert_str_eq((char *)v, sorted[i]);
		xmlFree(v);
	}
	ck_assert_ptr_null(b);
	xmlFreeDoc(doc);
	run_free(&r);
}
END_TEST

/* Characters XML 1.0 cannot carry at all, even escaped: refused with a
 * located error, never written. */
START_TEST(control_chars_refused)
{
	static const char *const bad[] = {
		"a\x01z", "\x1b[31m", "x\x7f\x08", "\xff\xfe", "\xc0\xaf",
		"\xed\xa0\x80", "\xef\xbf\xbe",
	};
	struct model *m;
	struct privacy_list *l;
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* \x7f is a legal XML char; pair it with \x08 which is not. */
		m = model_new();
		l = add_list(m, bad[i], false, false);
		add_item(l, ITEM_ALL, NULL, VERDICT_DENY, 1, 0);
		r = run(&backend_xep0016, m);
		ck_assert_int_eq(r.rc, 1);
		ck_assert_msg(strstr(r.err, "t.xfw:1:3: error: list name") !=
		    NULL, "%s", r.err);
		run_free(&r);

		m = model_new();
		l = add_list(m, "ok", false, false);
		add_item(l, ITEM_GROUP, bad[i], VERDICT_DENY, 1, 0);
		r = run(&backend_xep0016, m);
		ck_assert_int_eq(r.rc, 1);
		ck_assert_msg(strstr(r.err, "t.xfw:11:5: error: group value")
		    != NULL, "%s", r.err);
		run_free(&r);

		m = model_new();
		set_block(m, &bad[i], 1);
		r = run(&backend_xep0191, m);
		ck_assert_int_eq(r.rc, 1);
		ck_assert_msg(strstr(r.err, "t.xfw:30:3: error: blocked JID")
		    != NULL, "%s", r.err);
		run_free(&r);
	}
}
END_TEST

START_TEST(errors_guaranteed)
{
	struct model *m;
	struct privacy_list *l;
	struct run r;

	/* Empty list: a server would delete it. */
	m = model_new();
	add_list(m, "empty", true, false);
	r = run(&backend_xep0016, m);
	ck_assert_int_eq(r.rc, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "t.xfw:1:3: error: list \"empty\" "
	    "has no items"));
	run_free(&r);

	/* Orders must be unique and ascending. */
	m = model_new();
	l = add_list(m, "x", false, false);
	add_item(l, ITEM_JID, "a.example", VERDICT_ALLOW, 5, 0);
	add_item(l, ITEM_JID, "b.example", VERDICT_ALLOW, 5, 0);
	add_item(l, ITEM_JID, "c.example", VERDICT_ALLOW, 4, 0);
	r = run(&backend_xep0016, m);
	ck_assert_int_eq(r.rc, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "t.xfw:12:5: error: item order 5 "
	    "not above the previous 5"));
	run_free(&r);

	/* Orders beyond 2^31-1 and reject items. */
	m = model_new();
	l = add_list(m, "x", false, false);
	add_item(l, ITEM_JID, "a.example", VERDICT_REJECT, 2147483648u, 0);
	r = run(&backend_xep0016, m);
	ck_assert_int_eq(r.rc, 2);
	run_free(&r);

	/* Two lists of the same name. */
	m = model_new();
	l = add_list(m, "x", false, false);
	add_item(l, ITEM_ALL, NULL, VERDICT_DENY, 1, 0);
	l = add_list(m, "x", false, false);
	add_item(l, ITEM_ALL, NULL, VERDICT_DENY, 1, 0);
	r = run(&backend_xep0016, m);
	ck_assert_int_eq(r.rc, 1);
	run_free(&r);

	/* Blocked JIDs must be sorted and unique. */
	m = model_new();
	{
		const char *j[] = { "b.example", "a.example" };

		set_block(m, j, 2);
	}
	r = run(&backend_xep0191, m);
	ck_assert_int_eq(r.rc, 1);
	run_free(&r);
}
END_TEST

START_TEST(warnings_only)
{
	struct model *m;
	struct privacy_list *l;
	struct run r;
	char big[200];
	uint32_t i;

	/* Non-ASCII name: a warning, output written, emit returns 0. */
	m = model_new();
	l = add_list(m, "liste-bl\xc3\xa2nche", true, false);
	add_item(l, ITEM_ALL, NULL, VERDICT_DENY, 1, 0);
	r = run(&backend_xep0016, m);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "t.xfw:1:3: warning: list name "
	    "\"liste-bl\xc3\xa2nche\" is not ASCII"));
	ck_assert_ptr_nonnull(strstr(r.out, "name=\"liste-bl\xc3\xa2nche\""));
	run_free(&r);

	/* 1001 items of 200 bytes: both the count and the size warnings. */
	m = model_new();
	l = add_list(m, "huge", false, false);
	memset(big, 'a', sizeof(big) - 20);
	for (i = 0; i < 1001; i++) {
		snprintf(big + sizeof(big) - 20, 20, "%u.example", i);
		add_item(l, ITEM_JID, big, VERDICT_DENY, i, 0);
	}
	r = run(&backend_xep0016, m);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_ptr_nonnull(strstr(r.err, "warning: list \"huge\" has 1001 "
	    "items"));
	ck_assert_ptr_nonnull(strstr(r.err, "warning: list \"huge\" is "));
	ck_assert_uint_eq(validate(&r, "privacy.xsd", "query",
	    STZ_NS_PRIVACY), 1);
	run_free(&r);

	/* 1000 items, small: no warning. */
	m = model_new();
	l = add_list(m, "big", false, false);
	for (i = 0; i < 1000; i++) {
		snprintf(big, sizeof(big), "%u.x", i);
		add_item(l, ITEM_JID, big, VERDICT_DENY, i, 0);
	}
	r = run(&backend_xep0016, m);
	ck_assert_int_eq(r.rc, 0);
	ck_assert_str_eq(r.err, "");
	run_free(&r);
}
END_TEST

/* Compare out with the golden file, or write it under XFW_UPDATE=1. */
static void
golden_file(const char *path, const struct run *r)
{
	FILE *f;
	char *want = NULL;
	size_t len = 0;

	if (getenv("XFW_UPDATE") != NULL) {
		f = fopen(path, "w");
		ck_assert_msg(f != NULL, "cannot write %s", path);
		fwrite(r->out, 1, r->outlen, f);
		fclose(f);
		return;
	}
	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "missing golden file %s (XFW_UPDATE=1 "
	    "writes it)", path);
	ck_assert(getdelim(&want, &len, '\0', f) >= 0);
	fclose(f);
	ck_assert_msg(strcmp(want, r->out) == 0, "%s differs; got:\n%s",
	    path, r->out);
	free(want);
}

/* Every example policy in policies/ and the xmpp test policies in
 * tests/golden/xmpp/: golden stanzas, schema-valid. */
START_TEST(example_policies)
{
	struct compile_opts o;
	struct program p;
	struct model m;
	struct ctx c;
	struct run r;
	glob_t g;
	char golden[4096], *base, *copy;
	size_t i;

	ck_assert_int_eq(glob("policies/*.xfw", 0, NULL, &g), 0);
	ck_assert_int_eq(glob("tests/golden/xmpp/*.xfw", GLOB_APPEND, NULL,
	    &g), 0);
	ck_assert_uint_gt(g.gl_pathc, 3);
	for (i = 0; i < g.gl_pathc; i++) {
		memset(&o, 0, sizeof(o));
		ctx_init(&c);
		ck_assert_msg(compile_policy(&c, g.gl_pathv[i], &o, &m, &p) ==
		    0, "%s does not compile", g.gl_pathv[i]);
		copy = xstrdup(g.gl_pathv[i]);
		base = basename(copy);
		base[strlen(base) - 4] = '\0';

		r = run(&backend_xep0016, &m);
		ck_assert_int_eq(r.rc, 0);
		validate(&r, "privacy.xsd", "query", STZ_NS_PRIVACY);
		snprintf(golden, sizeof(golden), "tests/golden/xmpp/%s.xep0016"
		    ".xml", base);
		golden_file(golden, &r);
		run_free(&r);

		r = run(&backend_xep0191, &m);
		ck_assert_int_eq(r.rc, 0);
		validate(&r, "blocking.xsd", "block", STZ_NS_BLOCK);
		snprintf(golden, sizeof(golden), "tests/golden/xmpp/%s.xep0191"
		    ".xml", base);
		golden_file(golden, &r);
		run_free(&r);
		free(copy);
		ctx_free(&c);
	}
	globfree(&g);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("emit_xmpp");
	TCase *tc = tcase_create("xep0016_xep0191");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, golden_xep0016_whitelist);
	tcase_add_test(tc, golden_xep0191_block);
	tcase_add_test(tc, empty_models);
	tcase_add_test(tc, lists_default_active_order);
	tcase_add_test(tc, deterministic);
	tcase_add_test(tc, hostile_strings_escaped);
	tcase_add_test(tc, control_chars_refused);
	tcase_add_test(tc, errors_guaranteed);
	tcase_add_test(tc, warnings_only);
	tcase_add_test(tc, example_policies);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
