/*
 * check_queued_parse.c - unit tests of xmppfw-queued's parsers: the XMPP
 * stream header, the TLS ClientHello SNI, the configuration file, the
 * domain sets and the first-match decision over the first bytes of a
 * flow.  The daemon's sources are compiled in directly (they have no
 * libnetfilter_queue dependency).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../xmppfw-queued/flow.c"
#include "../xmppfw-queued/parse.c"
#include "../xmppfw-queued/qconf.c"

static enum presult
hdr(const char *s, struct stream_header *h)
{
	return stream_header_parse((const uint8_t *)s, strlen(s), h);
}

/* ------------------------------------------------------------------ */

START_TEST(header_variants)
{
	static const struct {
		const char	*in;
		const char	*to, *from;
	} ok[] = {
		{ "<?xml version='1.0'?><stream:stream to='example.net' "
		  "from='spam.example' version='1.0' "
		  "xmlns='jabber:server' "
		  "xmlns:stream='http://etherx.jabber.org/streams'>",
		  "example.net", "spam.example" },
		{ "<stream:stream xmlns:stream=\"http://etherx.jabber.org/"
		  "streams\" from=\"Spam.Example\" to=\"example.net\">",
		  "example.net", "spam.example" },
		{ "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n"
		  "<!-- hello -->\r\n  <stream:stream\n\tfrom = 'a.b' \n"
		  "  to\t=\t\"c.d\"\n>", "c.d", "a.b" },
		{ "<s:stream xmlns:s='http://etherx.jabber.org/streams' "
		  "to='x.example'/>", "x.example", "" },
		{ "<stream xmlns='http://etherx.jabber.org/streams' "
		  "from='juliet@im.example.com/balcony' to='im.example.com'>",
		  "im.example.com", "im.example.com" },
		{ "<stream:stream to='a&amp;b.example' "
		  "from='&#x73;pam.example.'>", "a&b.example",
		  "spam.example" },
		{ "<stream:stream version='1.0'>", "", "" },
	};
	struct stream_header h;
	size_t i, n;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_int_eq(hdr(ok[i].in, &h), PR_OK);
		ck_assert_str_eq(h.to, ok[i].to);
		ck_assert_str_eq(h.from, ok[i].from);
		ck_assert_uint_eq(h.end, strlen(ok[i].in) -
		    (ok[i].in[strlen(ok[i].in) - 1] == '\n'));
		/* Every strict prefix needs more bytes. */
		for (n = 0; n + 1 < h.end; n++)
			ck_assert_int_eq(stream_header_parse(
			    (const uint8_t *)ok[i].in, n, &h), PR_MORE);
	}
}
END_TEST

START_TEST(header_bad)
{
	static const char *bad[] = {
		"GET / HTTP/1.1\r\n",
		"<html><body>",
		"<stream:streamx to='a'>",
		"<stream:stream to=a>",
		"<stream:stream to='a'from='b'>",
		"<stream:stream to='a<b'>",
		"<!DOCTYPE x><stream:stream>",
		"\x16\x03\x01\x00\x05",
	};
	struct stream_header h;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(hdr(bad[i], &h) == PR_BAD, "accepted %s",
		    bad[i]);
	/* A header that never ends is not XMPP. */
	{
		char big[9000];

		memset(big, ' ', sizeof(big));
		memcpy(big, "<stream:stream ", 15);
		memcpy(big + sizeof(big) - 5, "a='b'", 5);
		ck_assert_int_eq(stream_header_parse((uint8_t *)big,
		    sizeof(big), &h), PR_BAD);
	}
}
END_TEST

/* Build a ClientHello record with an optional SNI. */
static size_t
client_hello(uint8_t *b, const char *sni, int extra_ext)
{
	uint8_t body[600];
	size_t n = 0, extstart, hsl, sl = sni ? strlen(sni) : 0;

	body[n++] = 3;
	body[n++] = 3;
	memset(body + n, 0xab, 32);
	n += 32;
	body[n++] = 0;				/* session id */
	body[n++] = 0;
	body[n++] = 2;
	body[n++] = 0x13;
	body[n++] = 0x01;			/* one suite */
	body[n++] = 1;
	body[n++] = 0;				/* null compression */
	extstart = n;
	n += 2;
	if (extra_ext) {			/* supported_versions */
		body[n++] = 0x00;
		body[n++] = 0x2b;
		body[n++] = 0;
		body[n++] = 3;
		body[n++] = 2;
		body[n++] = 3;
		body[n++] = 4;
	}
	if (sni != NULL) {
		body[n++] = 0;
		body[n++] = 0;
		body[n++] = (uint8_t)((sl + 5) >> 8);
		body[n++] = (uint8_t)(sl + 5);
		body[n++] = (uint8_t)((sl + 3) >> 8);
		body[n++] = (uint8_t)(sl + 3);
		body[n++] = 0;
		body[n++] = (uint8_t)(sl >> 8);
		body[n++] = (uint8_t)sl;
		memcpy(body + n, sni, sl);
		n += sl;
	}
	body[extstart] = (uint8_t)((n - extstart - 2) >> 8);
	body[extstart + 1] = (uint8_t)(n - extstart - 2);
	hsl = n;
	b[0] = 22;
	b[1] = 3;
	b[2] = 1;
	b[3] = (uint8_t)((hsl + 4) >> 8);
	b[4] = (uint8_t)(hsl + 4);
	b[5] = 1;
	b[6] = 0;
	b[7] = (uint8_t)(hsl >> 8);
	b[8] = (uint8_t)hsl;
	memcpy(b + 9, body, n);
	return 9 + n;
}

START_TEST(sni)
{
	uint8_t b[700], two[800];
	char s[DOMAIN_MAX];
	size_t n, i, cut;

	n = client_hello(b, "Spam.Example", 1);
	ck_assert(tls_looks_like(b, n));
	ck_assert_int_eq(tls_sni_parse(b, n, s, sizeof(s)), PR_OK);
	ck_assert_str_eq(s, "spam.example");
	for (i = 0; i < n; i++)
		ck_assert_int_eq(tls_sni_parse(b, i, s, sizeof(s)), PR_MORE);

	n = client_hello(b, NULL, 1);
	ck_assert_int_eq(tls_sni_parse(b, n, s, sizeof(s)), PR_OK);
	ck_assert_str_eq(s, "");

	/* The same handshake split over two records. */
	n = client_hello(b, "x.example", 0);
	cut = 30;
	memcpy(two, b, 5 + cut);
	two[3] = 0;
	two[4] = (uint8_t)cut;
	memcpy(two + 5 + cut, b, 5);
	two[5 + cut + 3] = (uint8_t)((n - 5 - cut) >> 8);
	two[5 + cut + 4] = (uint8_t)(n - 5 - cut);
	memcpy(two + 10 + cut, b + 5 + cut, n - 5 - cut);
	ck_assert_int_eq(tls_sni_parse(two, n + 5, s, sizeof(s)), PR_OK);
	ck_assert_str_eq(s, "x.example");

	/* Lengths that point outside the message. */
	n = client_hello(b, "x.example", 0);
	b[9 + 2 + 32 + 1 + 1] = 0xff;	/* cipher suites length */
	ck_assert_int_eq(tls_sni_parse(b, n, s, sizeof(s)), PR_BAD);
	n = client_hello(b, "bad/name", 0);
	ck_assert_int_eq(tls_sni_parse(b, n, s, sizeof(s)), PR_BAD);
	ck_assert_int_eq(tls_sni_parse((const uint8_t *)"\x16\x03\x01\x00"
	    "\x04\x02\x00\x00\x00", 9, s, sizeof(s)), PR_BAD);
	ck_assert_int_eq(tls_sni_parse((const uint8_t *)"<stream", 7, s,
	    sizeof(s)), PR_BAD);
}
END_TEST

/* ------------------------------------------------------------------ */

static struct qconf *
conf_str(const char *s, char *err, size_t errlen)
{
	return qconf_parse(s, strlen(s), "t.conf", NULL, err, errlen);
}

static const char good_conf[] =
    "xmppfw-queued-config 1\n"
    "# comment\n"
    "\n"
    "inspect s2s\n"
    "queue 1\n"
    "ports 5269,5270-5271\n"
    "fail open\n"
    "mark 0x10\n"
    "bytes 4096\n"
    "rule deny domains 2 at pol%20icy.xfw:3:5\n"
    "domain spam.example\n"
    "domain B%C3%BCcher.example\n"
    "rule reject string 3c736372697074000a at p.xfw:4:5\n"
    "rule allow domains 0\n"
    "default allow at p.xfw:5:3\n"
    "end\n"
    "inspect c2s\n"
    "queue 2\n"
    "ports 5222\n"
    "fail closed\n"
    "mark 7\n"
    "bytes 100\n"
    "default deny\n"
    "end\n"
    "end-config\n";

START_TEST(config_good)
{
	char err[256];
	struct qconf *qc;
	struct qinspect *qi;

	qc = conf_str(good_conf, err, sizeof(err));
	ck_assert_msg(qc != NULL, "%s", err);
	ck_assert_uint_eq(qc->ninspect, 2);
	qi = qconf_find_queue(qc, 1);
	ck_assert_ptr_nonnull(qi);
	ck_assert_str_eq(qi->kind, "s2s");
	ck_assert(!qi->fail_closed);
	ck_assert_uint_eq(qi->mark, 0x10);
	ck_assert_uint_eq(qi->bytes, 4096);
	ck_assert_uint_eq(qi->nrules, 3);
	ck_assert_int_eq(qi->rules[0].action, QA_DENY);
	ck_assert_str_eq(qi->rules[0].loc, "pol icy.xfw:3:5");
	ck_assert(domset_match(&qi->rules[0].domains, "spam.example", 12));
	ck_assert(domset_match(&qi->rules[0].domains, "bücher.example",
	    strlen("bücher.example")));
	ck_assert_int_eq(qi->rules[1].match, QM_STRING);
	ck_assert_uint_eq(qi->rules[1].siglen, 9);
	ck_assert_mem_eq(qi->rules[1].sig, "<script\0\n", 9);
	ck_assert_uint_eq(qi->rules[2].domains.n, 0);
	ck_assert_int_eq(qi->def, QA_ALLOW);
	qi = qconf_find_queue(qc, 2);
	ck_assert(qi->fail_closed);
	ck_assert_uint_eq(qi->mark, 7);
	ck_assert_int_eq(qi->def, QA_DENY);
	ck_assert_ptr_null(qconf_find_queue(qc, 3));
	qconf_free(qc);
}
END_TEST

START_TEST(config_bad)
{
	static const struct {
		const char	*from, *to;	/* replace in good_conf */
		const char	*msg;
	} bad[] = {
		{ "config 1", "config 2", "version 2 not supported" },
		{ "end-config\n", "", "missing end-config" },
		{ "queue 2", "queue 1", "queue 1 used twice" },
		{ "domains 2 at", "domains 3 at", "expected 3 domain lines" },
		{ "3c7363", "3c736", "bad hex" },
		{ "3c7363", "zz7363", "bad hex" },
		{ "pol%20icy", "pol%2icy", "bad escape" },
		{ "B%C3%BC", "B%00", "bad domain line" },
		{ "fail open", "fail maybe", "open or closed" },
		{ "mark 7", "mark 0", "bad mark" },
		{ "bytes 100", "bytes 70000", "bad bytes" },
		{ "bytes 100\n", "", "lacks queue" },
		{ "default deny\n", "default deny\nrule deny domains 0\n",
		  "after default" },
		{ "rule allow", "rule permit", "unknown action" },
		{ "# comment", "# comm\001ent", "byte 0x01" },
		{ "inspect c2s", "inspect", "expected 'inspect KIND'" },
		{ "domain spam.example", "domain sp@m.example",
		  "bad character" },
	};
	char buf[2048], err[256];
	const char *p;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = strstr(good_conf, bad[i].from);
		ck_assert_ptr_nonnull(p);
		snprintf(buf, sizeof(buf), "%.*s%s%s",
		    (int)(p - good_conf), good_conf, bad[i].to,
		    p + strlen(bad[i].from));
		ck_assert_msg(conf_str(buf, err, sizeof(err)) == NULL,
		    "case %zu accepted", i);
		ck_assert_msg(strstr(err, bad[i].msg) != NULL,
		    "case %zu: '%s' lacks '%s'", i, err, bad[i].msg);
		ck_assert_msg(strncmp(err, "t.conf:", 7) == 0, "%s", err);
	}
	/* Truncated anywhere: never accepted, never crashes. */
	for (i = 0; i + 1 < strlen(good_conf); i++)
		ck_assert_ptr_null(qconf_parse(good_conf, i, "t", NULL, err,
		    sizeof(err)));
	ck_assert_ptr_null(qconf_parse("xmppfw-queued-config 1\0\n", 24,
	    "t", NULL, err, sizeof(err)));
}
END_TEST

START_TEST(domains_file_100k)
{
	char path[] = "/tmp/check_queued_XXXXXX", conf[512], err[256];
	char name[64];
	struct qconf *qc;
	const struct domset *ds;
	FILE *fp;
	int fd, i;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	fprintf(fp, "# blocklist\n\n");
	for (i = 0; i < 100000; i++)
		fprintf(fp, "%s%d.spam.example\n", i % 2 ? "  " : "", i);
	fprintf(fp, "Upper.Example.   # trailing comment\n");
	fclose(fp);
	snprintf(conf, sizeof(conf), "xmppfw-queued-config 1\ninspect both\n"
	    "queue 3\nports 5269\nfail open\nmark 1\nbytes 4096\n"
	    "rule deny domains-file %s\ndefault allow\nend\nend-config\n",
	    path);
	qc = conf_str(conf, err, sizeof(err));
	unlink(path);
	ck_assert_msg(qc != NULL, "%s", err);
	ds = &qc->inspects[0].rules[0].domains;
	ck_assert_uint_eq(ds->n, 100001);
	for (i = 0; i < 100000; i += 997) {
		snprintf(name, sizeof(name), "%d.spam.example", i);
		ck_assert(domset_match(ds, name, strlen(name)));
		snprintf(name, sizeof(name), "x.y.%d.spam.example", i);
		ck_assert(domset_match(ds, name, strlen(name)));
	}
	ck_assert(domset_match(ds, "upper.example", 13));
	ck_assert(!domset_match(ds, "spam.example", 12));
	ck_assert(!domset_match(ds, "100000.spam.example", 19));
	ck_assert(!domset_match(ds, "x0.spam.example", 15));
	qconf_free(qc);
}
END_TEST

START_TEST(parent_domains)
{
	struct domset ds;

	domset_init(&ds);
	ck_assert_int_eq(domset_add(&ds, "Spam.Example", 12), 0);
	ck_assert_int_eq(domset_add(&ds, "spam.example", 12), 0);
	ck_assert_uint_eq(ds.n, 1);
	ck_assert(domset_match(&ds, "spam.example", 12));
	ck_assert(domset_match(&ds, "a.b.spam.example", 16));
	ck_assert(!domset_match(&ds, "notspam.example", 15));
	ck_assert(!domset_match(&ds, "example", 7));
	ck_assert(!domset_match(&ds, "spam.example.org", 16));
	domset_free(&ds);
}
END_TEST

/* ------------------------------------------------------------------ */

static struct qinspect *
one_block(struct qconf **qcp, const char *rules)
{
	char buf[1024], err[256];

	snprintf(buf, sizeof(buf), "xmppfw-queued-config 1\ninspect s2s\n"
	    "queue 1\nports 5269\nfail open\nmark 1\nbytes 4096\n%send\n"
	    "end-config\n", rules);
	*qcp = conf_str(buf, err, sizeof(err));
	ck_assert_msg(*qcp != NULL, "%s", err);
	return &(*qcp)->inspects[0];
}

static int
decide(const struct qinspect *qi, const char *bytes, bool closed,
    struct decision *d)
{
	return flow_decide(qi, (const uint8_t *)bytes, strlen(bytes), closed,
	    d);
}

START_TEST(decide_order)
{
	struct qconf *qc;
	struct qinspect *qi;
	struct decision d;
	const char *spam = "<stream:stream from='a.spam.example' "
	    "to='example.net'>";
	const char *good = "<stream:stream from='good.example' "
	    "to='example.net'>";

	/* deny domain, deny string, default allow (the example policy). */
	qi = one_block(&qc, "rule deny domains 1\ndomain spam.example\n"
	    "rule deny string 3c736372697074\ndefault allow\n");
	ck_assert_int_eq(decide(qi, "<stream:str", false, &d), 0);
	ck_assert_int_eq(decide(qi, spam, false, &d), 1);
	ck_assert_int_eq(d.action, QA_DENY);
	ck_assert_int_eq(d.rule, 0);
	ck_assert_str_eq(d.why, "from");
	ck_assert_str_eq(d.name, "a.spam.example");
	/* A good domain waits for the signature until cleartext ends. */
	ck_assert_int_eq(decide(qi, good, false, &d), 0);
	ck_assert_int_eq(decide(qi, "<stream:stream from='good.example'>"
	    "<message><script>", false, &d), 1);
	ck_assert_int_eq(d.action, QA_DENY);
	ck_assert_int_eq(d.rule, 1);
	ck_assert_int_eq(decide(qi, "<stream:stream from='good.example'>"
	    "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", false,
	    &d), 1);
	ck_assert_int_eq(d.action, QA_ALLOW);
	ck_assert_int_eq(d.rule, -1);
	/* The signature after STARTTLS is not cleartext. */
	ck_assert_int_eq(decide(qi, "<stream:stream from='good.example'>"
	    "<starttls/><script", false, &d), 1);
	ck_assert_int_eq(d.action, QA_ALLOW);
	ck_assert_int_eq(decide(qi, good, true, &d), 1);
	ck_assert_int_eq(d.action, QA_ALLOW);
	qconf_free(qc);

	/* A pending string with another action holds a later domain. */
	qi = one_block(&qc, "rule allow string 6f6b\n"
	    "rule deny domains 1\ndomain spam.example\ndefault allow\n");
	ck_assert_int_eq(decide(qi, spam, false, &d), 0);
	ck_assert_int_eq(decide(qi, spam, true, &d), 1);
	ck_assert_int_eq(d.action, QA_DENY);
	qconf_free(qc);

	/* Allow-list: only named peers, by SNI too. */
	qi = one_block(&qc, "rule allow domains 1\ndomain friend.example\n"
	    "default reject\n");
	ck_assert_int_eq(decide(qi, "<stream:stream to='friend.example'>",
	    false, &d), 1);
	ck_assert_int_eq(d.action, QA_ALLOW);
	ck_assert_int_eq(decide(qi, good, false, &d), 1);
	ck_assert_int_eq(d.action, QA_REJECT);
	{
		uint8_t b[700];
		size_t n = client_hello(b, "friend.example", 1);

		ck_assert_int_eq(flow_decide(qi, b, n - 1, false, &d), 0);
		ck_assert_int_eq(flow_decide(qi, b, n, false, &d), 1);
		ck_assert_int_eq(d.action, QA_ALLOW);
		ck_assert_str_eq(d.why, "sni");
		n = client_hello(b, NULL, 1);
		ck_assert_int_eq(flow_decide(qi, b, n, false, &d), 1);
		ck_assert_int_eq(d.action, QA_REJECT);
	}
	/* Not XMPP at all: no names, the default. */
	ck_assert_int_eq(decide(qi, "GET / HTTP/1.0\r\n", false, &d), 1);
	ck_assert_int_eq(d.action, QA_REJECT);
	qconf_free(qc);
}
END_TEST

static void
mkpkt(struct pkt *p, uint16_t sport, bool syn, uint32_t seq,
    const char *data)
{
	memset(p, 0, sizeof(*p));
	p->key.family = 4;
	p->key.queue = 1;
	p->key.sport = sport;
	p->key.dport = 5269;
	p->syn = syn;
	p->ack = !syn;
	p->seq = seq;
	p->data = (const uint8_t *)data;
	p->dlen = data ? strlen(data) : 0;
	p->iplen = (uint32_t)(52 + p->dlen);
}

START_TEST(flow_table)
{
	struct qconf *qc;
	struct qinspect *qi;
	struct flowtab t;
	struct pkt p;
	const char *a = "<stream:stream from='sp", *b = "am.example'>";

	qi = one_block(&qc, "rule deny domains 1\ndomain spam.example\n"
	    "default allow\n");
	ck_assert_int_eq(flowtab_init(&t, 2, 1 << 20, 1000), 0);
	/* Segmented header, with a retransmission and a gap. */
	mkpkt(&p, 1000, true, 99, NULL);
	ck_assert_int_eq(flow_packet(&t, qi, &p, 0), PV_ACCEPT);
	mkpkt(&p, 1000, false, 100, a);
	ck_assert_int_eq(flow_packet(&t, qi, &p, 1), PV_ACCEPT);
	mkpkt(&p, 1000, false, 100 + 30, "x");
	ck_assert_int_eq(flow_packet(&t, qi, &p, 2), PV_DROP);
	mkpkt(&p, 1000, false, 100, a);
	ck_assert_int_eq(flow_packet(&t, qi, &p, 3), PV_ACCEPT);
	ck_assert_uint_eq(t.st.bytes_buffered, 512);
	mkpkt(&p, 1000, false, 100 + (uint32_t)strlen(a), b);
	ck_assert_int_eq(flow_packet(&t, qi, &p, 4), PV_DENY);
	ck_assert_uint_eq(t.st.bytes_buffered, 0);
	/* Later packets of the flow stay denied. */
	mkpkt(&p, 1000, false, 200, "more");
	ck_assert_int_eq(flow_packet(&t, qi, &p, 5), PV_DENY);
	ck_assert_uint_eq(t.st.denied, 1);
	/* A flow seen mid-stream is let through uninspected. */
	mkpkt(&p, 1001, false, 5, "<stream:stream from='spam.example'>");
	ck_assert_int_eq(flow_packet(&t, qi, &p, 6), PV_ACCEPT);
	ck_assert_uint_eq(t.st.midstream, 1);
	/* Table full (2 flows): fail open accepts. */
	mkpkt(&p, 1002, true, 0, NULL);
	ck_assert_int_eq(flow_packet(&t, qi, &p, 7), PV_ACCEPT);
	mkpkt(&p, 1003, true, 0, NULL);
	ck_assert_int_eq(flow_packet(&t, qi, &p, 8), PV_ACCEPT);
	ck_assert_uint_eq(t.st.table_full, 1);
	/* Expiry frees the slots. */
	flowtab_expire(&t, 5000);
	ck_assert_uint_eq(t.st.tracked, 0);
	ck_assert_uint_eq(t.st.expired, 2);
	/* FIN removes a flow. */
	mkpkt(&p, 1004, true, 0, NULL);
	flow_packet(&t, qi, &p, 6000);
	mkpkt(&p, 1004, false, 1, "<stream:stream to='ok.example'>");
	p.fin = true;
	ck_assert_int_eq(flow_packet(&t, qi, &p, 6001), PV_ACCEPT);
	ck_assert_uint_eq(t.st.tracked, 0);
	ck_assert_uint_eq(t.st.allowed, 1);
	flowtab_free(&t);
	qconf_free(qc);
}
END_TEST

static Suite *
queued_suite(void)
{
	Suite *s = suite_create("queued_parse");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, header_variants);
	tcase_add_test(tc, header_bad);
	tcase_add_test(tc, sni);
	tcase_add_test(tc, config_good);
	tcase_add_test(tc, config_bad);
	tcase_add_test(tc, domains_file_100k);
	tcase_add_test(tc, parent_domains);
	tcase_add_test(tc, decide_order);
	tcase_add_test(tc, flow_table);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite, print Check's summary, return the exit status. */
static int
run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int
main(void)
{
	return run_suite(queued_suite());
}
