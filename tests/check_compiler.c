/*
 * check_compiler.c - unit tests of the compiler passes: values, JIDs,
 * the model the lowering builds, the evaluator and the shadow analysis.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* --- values ----------------------------------------------------------- */

START_TEST(test_aggregate_v4)
{
	struct compiled c;
	const struct addrset *s;
	char buf[PFX_STRLEN];

	compile_text(&c, "define addr a = { 10.0.0.0/25, 10.0.0.128/25, "
	    "10.0.1.0-10.0.1.255, 10.0.0.7, 192.0.2.1 }\n"
	    "ip { deny in from $a }\n");
	ck_assert_int_eq(c.errors, 0);
	ck_assert_uint_eq(c.model.nsets, 1);
	s = c.model.sets[0];
	ck_assert_str_eq(s->name, "a");
	ck_assert_uint_eq(s->n4, 2);
	ck_assert_str_eq(pfx4_format(&s->v4[0], buf, sizeof(buf)),
	    "10.0.0.0/23");
	ck_assert_str_eq(pfx4_format(&s->v4[1], buf, sizeof(buf)),
	    "192.0.2.1/32");
	ck_assert_uint_eq(s->n6, 0);
	ck_assert_uint_eq(c.model.rules[0].families, FAM_V4);
	compiled_free(&c);
}
END_TEST

START_TEST(test_range_to_prefixes)
{
	struct compiled c;
	const struct addrset *s;
	char buf[PFX_STRLEN];

	compile_text(&c, "ip { deny in from { 10.0.0.1-10.0.0.6, "
	    "2001:db8::-2001:db8::ffff:ffff } }\n");
	ck_assert_int_eq(c.errors, 0);
	s = c.model.sets[0];
	/* 1/32, 2/31, 4/31, 6/32 */
	ck_assert_uint_eq(s->n4, 4);
	ck_assert_str_eq(pfx4_format(&s->v4[1], buf, sizeof(buf)),
	    "10.0.0.2/31");
	ck_assert_uint_eq(s->n6, 1);
	ck_assert_str_eq(pfx6_format(&s->v6[0], buf, sizeof(buf)),
	    "2001:db8::/96");
	ck_assert_uint_eq(c.model.rules[0].families, FAM_BOTH);
	compiled_free(&c);
}
END_TEST

START_TEST(test_ports)
{
	struct compiled c;
	const struct rule *r;

	compile_text(&c, "transport { allow in port { 5223, xmpp-client, "
	    "5224-5230, ssh, 22 } }\n");
	ck_assert_int_eq(c.errors, 0);
	r = &c.model.rules[0];
	ck_assert_uint_eq(r->protos, PROTO_TCP | PROTO_UDP);
	ck_assert_uint_eq(r->dport.n, 2);
	ck_assert_uint_eq(r->dport.r[0].lo, 22);
	ck_assert_uint_eq(r->dport.r[0].hi, 22);
	ck_assert_uint_eq(r->dport.r[1].lo, 5222);
	ck_assert_uint_eq(r->dport.r[1].hi, 5230);
	compiled_free(&c);
}
END_TEST

/* --- JIDs ------------------------------------------------------------- */

static const struct {
	const char *in, *out;	/* out NULL: invalid */
} jids[] = {
	{ "example.com", "example.com" },
	{ "Example.COM", "example.com" },
	{ "User@Example.com/Res", "user@example.com/Res" },
	{ "example.com/res", "example.com/res" },
	{ "a@[2001:db8::1]", "a@[2001:db8::1]" },
	{ "example.com.", "example.com" },
	{ "@example.com", NULL },
	{ "a@", NULL },
	{ "a b@example.com", NULL },
	{ "a<b@example.com", NULL },
	{ "a@exa_mple..com", NULL },
	{ "", NULL },
};

START_TEST(test_jid_normalise)
{
	struct ctx c;
	const char *r;

	ctx_init(&c);
	r = jid_normalise(&c, jids[_i].in, NOLOC, false);
	if (jids[_i].out == NULL) {
		ck_assert_ptr_null(r);
		ck_assert_int_ge(c.nerrors, 1);
	} else {
		ck_assert_ptr_nonnull(r);
		ck_assert_str_eq(r, jids[_i].out);
	}
	ctx_free(&c);
}
END_TEST

START_TEST(test_jid_match)
{
	/* XEP-0016 section 2.1 matching rules. */
	ck_assert(jid_match("example.com", "example.com"));
	ck_assert(jid_match("example.com", "u@example.com/r"));
	ck_assert(jid_match("example.com", "example.com/r"));
	ck_assert(!jid_match("example.com", "u@sub.example.com"));
	ck_assert(jid_match("u@example.com", "u@example.com/r"));
	ck_assert(!jid_match("u@example.com", "v@example.com"));
	ck_assert(jid_match("u@example.com/r", "u@example.com/r"));
	ck_assert(!jid_match("u@example.com/r", "u@example.com/s"));
	ck_assert(jid_match("example.com/r", "example.com/r"));
	ck_assert(!jid_match("example.com/r", "u@example.com/r"));
	ck_assert(domain_match("spam.example", "spam.example"));
	ck_assert(domain_match("spam.example", "muc.spam.example"));
	ck_assert(!domain_match("spam.example", "notspam.example"));
}
END_TEST

/* --- lowering and evaluation ----------------------------------------- */

START_TEST(test_privacy_orders)
{
	struct compiled c;
	const struct privacy_list *l;
	size_t i;

	compile_text(&c, "option order-step 5\n"
	    "xmpp { list \"w\" default order 7 {\n"
	    " allow jid { a.example, b.example } for message, presence-in\n"
	    " allow subscription both\n deny all\n} }\n");
	ck_assert_int_eq(c.errors, 0);
	ck_assert_uint_eq(c.model.nlists, 1);
	l = &c.model.lists[0];
	ck_assert(l->is_default);
	ck_assert_uint_eq(l->n, 4);
	for (i = 0; i < l->n; i++)
		ck_assert_uint_eq(l->items[i].order, 7 + 5 * i);
	ck_assert_uint_eq(l->items[0].stanzas,
	    STANZA_MESSAGE | STANZA_PRESENCE_IN);
	ck_assert_int_eq(l->items[3].type, ITEM_ALL);
	ck_assert_ptr_null(l->items[3].value);
	compiled_free(&c);
}
END_TEST

static enum verdict
decide(const struct model *m, const char *src, const char *dst,
    unsigned proto, uint16_t dport, enum direction dir)
{
	struct packet pk;
	struct decision d;
	unsigned a, b, cc, dd;

	memset(&pk, 0, sizeof(pk));
	pk.dir = dir;
	pk.family = FAM_V4;
	pk.proto = proto;
	pk.dport = dport;
	pk.state = CT_NEW;
	if (src != NULL && sscanf(src, "%u.%u.%u.%u", &a, &b, &cc, &dd) == 4) {
		pk.src = a << 24 | b << 16 | cc << 8 | dd;
		pk.has_src = true;
	}
	if (dst != NULL && sscanf(dst, "%u.%u.%u.%u", &a, &b, &cc, &dd) == 4) {
		pk.dst = a << 24 | b << 16 | cc << 8 | dd;
		pk.has_dst = true;
	}
	eval_packet(m, &pk, &d);
	return d.verdict;
}

START_TEST(test_eval_layers)
{
	struct compiled c;
	const struct model *m;

	compile_text(&c, "ip { deny in from 203.0.113.0/24\n"
	    " allow in from 198.51.100.0/24 }\n"
	    "transport { reject in tcp port 23\n"
	    " allow in tcp port 22 from 198.51.100.0/24\n"
	    " allow in udp port 53 }\n");
	ck_assert_int_eq(c.errors, 0);
	m = &c.model;
	/* The ip layer denies first. */
	ck_assert_int_eq(decide(m, "203.0.113.5", NULL, PROTO_TCP, 22,
	    DIR_IN), VERDICT_DENY);
	/* ip allow passes to transport, which decides. */
	ck_assert_int_eq(decide(m, "198.51.100.5", NULL, PROTO_TCP, 22,
	    DIR_IN), VERDICT_ALLOW);
	ck_assert_int_eq(decide(m, "198.51.100.5", NULL, PROTO_TCP, 23,
	    DIR_IN), VERDICT_REJECT);
	ck_assert_int_eq(decide(m, "198.51.100.5", NULL, PROTO_TCP, 25,
	    DIR_IN), VERDICT_DENY);
	ck_assert_int_eq(decide(m, "9.9.9.9", NULL, PROTO_UDP, 53,
	    DIR_IN), VERDICT_ALLOW);
	/* Defaults: transport out allows, forward denies. */
	ck_assert_int_eq(decide(m, NULL, "9.9.9.9", PROTO_TCP, 443,
	    DIR_OUT), VERDICT_ALLOW);
	ck_assert_int_eq(decide(m, NULL, "9.9.9.9", PROTO_TCP, 443,
	    DIR_FORWARD), VERDICT_DENY);
	/* Loopback is allowed by the prelude. */
	ck_assert_int_eq(decide(m, "127.0.0.1", "127.0.0.1", PROTO_TCP, 23,
	    DIR_IN), VERDICT_ALLOW);
	compiled_free(&c);
}
END_TEST

START_TEST(test_prelude_off)
{
	struct compiled c;

	compile_text(&c, "option loopback off\n"
	    "transport { default in deny }\n");
	ck_assert_int_eq(c.errors, 0);
	ck_assert_int_eq(decide(&c.model, "127.0.0.1", "127.0.0.1", PROTO_TCP,
	    23, DIR_IN), VERDICT_DENY);
	compiled_free(&c);
}
END_TEST

START_TEST(test_expect_failure_names_rule)
{
	struct compiled c;

	compile_text(&c, "transport { allow in tcp port 22 }\n"
	    "expect deny in tcp port 22 from 10.0.0.1\n");
	ck_assert_int_eq(c.errors, 1);
	ck_assert_ptr_nonnull(strstr(c.diags, "expect failed: expected deny, "
	    "but the rule at /tmp/xfwtest."));
	ck_assert_ptr_nonnull(strstr(c.diags, ":1:13 decides allow"));
	compiled_free(&c);
}
END_TEST

/* --- shadow analysis --------------------------------------------------- */

START_TEST(test_shadow_exact)
{
	struct compiled c;

	/* Covered through ranges, not text: 10.0.0.0/8 covers the range. */
	compile_text(&c, "transport {\n"
	    " allow in tcp port 20-30 from 10.0.0.0/8\n"
	    " deny in tcp port 22 from 10.1.0.0-10.1.255.255\n"
	    " deny in tcp port 31 from 10.1.0.0/16\n"
	    " deny in port 22 from 10.1.0.0/16\n"
	    " allow in tcp port 22 from 10.0.0.0/8 limit 5/second\n"
	    " deny in tcp port 22 from 10.2.0.0/16\n}\n");
	ck_assert_int_eq(c.errors, 0);
	ck_assert_int_eq(c.ctx.nwarnings, 3);
	ck_assert_ptr_nonnull(strstr(c.diags, ":3:2: warning: rule never "
	    "matches"));
	/* Line 4 (port 31), 5 (udp too) are not covered; line 6 only
	 * narrows line 2 by a limit (redundant); line 7 is covered by line
	 * 2, not by the rate-limited line 6. */
	ck_assert_ptr_nonnull(strstr(c.diags, ":6:2: warning: redundant"));
	ck_assert_ptr_null(strstr(c.diags, ":4:2: warning"));
	ck_assert_ptr_null(strstr(c.diags, ":5:2: warning"));
	ck_assert_ptr_nonnull(strstr(c.diags, ":7:2: warning: rule never "
	    "matches: the rule at /tmp/"));
	compiled_free(&c);
}
END_TEST

/* Rules whose addresses are lists (not one prefix) are found as covers
 * too: the index keys them by the hull of their set. */
START_TEST(test_shadow_lists)
{
	struct compiled c;

	compile_text(&c, "ip {\n"
	    " deny in from { 10.0.0.0/24, 10.0.2.0/24, 2001:db8::/48 }\n"
	    " allow in from 10.0.2.5\n"
	    " allow in from { 10.0.0.1, 10.0.2.1 }\n"
	    " deny in from { 10.0.0.9, 2001:db8::1 }\n"
	    " allow in from 2001:db8:0:1::/64\n"
	    " allow in from { 10.0.0.1, 10.0.1.1 }\n"
	    " reject in from 10.0.1.0/24\n"
	    " deny in from 10.0.1.7\n}\n");
	ck_assert_int_eq(c.errors, 0);
	ck_assert_ptr_nonnull(strstr(c.diags, ":3:2: warning: rule never "
	    "matches"));
	ck_assert_ptr_nonnull(strstr(c.diags, ":4:2: warning: rule never "
	    "matches"));
	ck_assert_ptr_nonnull(strstr(c.diags, ":5:2: warning: redundant rule: "
	    "the rule at "));
	ck_assert_ptr_nonnull(strstr(c.diags, ":2 already denies every "
	    "packet it matches"));
	ck_assert_ptr_nonnull(strstr(c.diags, ":6:2: warning: rule never "
	    "matches"));
	/* 10.0.1.1 is outside line 2's set: line 7 is not covered. */
	ck_assert_ptr_null(strstr(c.diags, ":7:2: warning"));
	ck_assert_ptr_null(strstr(c.diags, ":8:2: warning"));
	ck_assert_ptr_nonnull(strstr(c.diags, ":9:2: warning: rule never "
	    "matches"));
	ck_assert_ptr_nonnull(strstr(c.diags, ":8 rejects every packet it "
	    "would match"));
	ck_assert_int_eq(c.ctx.nwarnings, 5);
	compiled_free(&c);
}
END_TEST

static Suite *
compiler_suite(void)
{
	Suite *s = suite_create("compiler");
	TCase *tc;

	tc = tcase_create("values");
	tcase_add_test(tc, test_aggregate_v4);
	tcase_add_test(tc, test_range_to_prefixes);
	tcase_add_test(tc, test_ports);
	suite_add_tcase(s, tc);
	tc = tcase_create("jid");
	tcase_add_loop_test(tc, test_jid_normalise, 0,
	    sizeof(jids) / sizeof(jids[0]));
	tcase_add_test(tc, test_jid_match);
	suite_add_tcase(s, tc);
	tc = tcase_create("model");
	tcase_add_test(tc, test_privacy_orders);
	tcase_add_test(tc, test_eval_layers);
	tcase_add_test(tc, test_prelude_off);
	tcase_add_test(tc, test_expect_failure_names_rule);
	tcase_add_test(tc, test_shadow_exact);
	tcase_add_test(tc, test_shadow_lists);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(compiler_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
