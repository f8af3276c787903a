/*
 * check_parser.c - the scanner and parser: locations, error recovery,
 * the shape of the tree.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* Parse text as a source; returns the statement list. */
static struct stmt *
parse_text(struct ctx *c, const char *text, int *errs)
{
	struct stmt *s = NULL;
	int file = source_add_text(c, "t.xfw", text, strlen(text));

	*errs = parse_source(c, file, &s);
	return s;
}

START_TEST(test_rule_shape)
{
	struct ctx c;
	struct stmt *s, *r;
	int errs;

	ctx_init(&c);
	s = parse_text(&c, "transport {\n\treject in tcp, udp port { 22,\n"
	    "  23 } from $admin log \"x\"\n}\n", &errs);
	ck_assert_int_eq(errs, 0);
	ck_assert_int_eq(s->kind, ST_LAYER);
	r = s->u.layer.body;
	ck_assert_int_eq(r->kind, ST_RULE);
	ck_assert_int_eq(r->u.rule.action, VERDICT_REJECT);
	ck_assert_int_eq(r->loc.line, 2);
	ck_assert_int_eq(r->loc.col, 2);
	ck_assert_uint_eq(r->u.rule.cl->protos, PROTO_TCP | PROTO_UDP);
	ck_assert_uint_eq(r->u.rule.cl->vals[CL_PORT]->n, 2);
	ck_assert_int_eq(r->u.rule.cl->vals[CL_PORT]->v[1]->loc.line, 3);
	ck_assert_int_eq(r->u.rule.cl->vals[CL_PORT]->v[1]->loc.col, 3);
	ck_assert_int_eq(r->u.rule.cl->vals[CL_FROM]->v[0]->kind, VAL_REF);
	ck_assert_str_eq(r->u.rule.cl->vals[CL_FROM]->v[0]->text, "admin");
	ck_assert_str_eq(r->u.rule.cl->val[CL_LOG]->text, "x");
	ctx_free(&c);
}
END_TEST

START_TEST(test_from_port_binds_to_from)
{
	struct ctx c;
	struct stmt *s;
	int errs;

	ctx_init(&c);
	s = parse_text(&c, "allow in tcp from 10.0.0.1 port 22 port 23\n",
	    &errs);
	ck_assert_int_eq(errs, 0);
	ck_assert_ptr_nonnull(s->u.rule.cl->vals[CL_FROM_PORT]);
	ck_assert_str_eq(s->u.rule.cl->vals[CL_FROM_PORT]->v[0]->text, "22");
	ck_assert_str_eq(s->u.rule.cl->vals[CL_PORT]->v[0]->text, "23");
	ctx_free(&c);
}
END_TEST

START_TEST(test_recovery_reports_all)
{
	struct ctx c;
	struct stmt *s;
	int errs, n = 0;

	ctx_init(&c);
	s = parse_text(&c, "ip {\n allow in from\n bogus\n deny in from "
	    "10.0.0.1\n allow @\n}\nxfw 1\n", &errs);
	ck_assert_int_eq(errs, 3);
	ck_assert_int_eq(c.nerrors, 3);
	/* The good statements survive around the bad ones. */
	for (; s != NULL; s = s->next)
		n++;
	ck_assert_int_eq(n, 2);
	ctx_free(&c);
}
END_TEST

START_TEST(test_string_escapes)
{
	struct ctx c;
	struct stmt *s;
	int errs;

	ctx_init(&c);
	s = parse_text(&c, "include \"a\\\"b\\\\c\"\n", &errs);
	ck_assert_int_eq(errs, 0);
	ck_assert_str_eq(s->u.include->text, "a\"b\\c");
	ck_assert_int_eq(s->u.include->loc.col, 9);
	ck_assert_int_eq(s->u.include->loc.len, 9);
	ctx_free(&c);
}
END_TEST

START_TEST(test_caret_output)
{
	struct compiled cc;
	const char *want = ":2:19: error: port 70000 out of range 1..65535\n"
	    "allow in tcp port 70000 from 10.0.0.1\n"
	    "                  ^~~~~\n";

	compile_text(&cc, "transport {\n"
	    "allow in tcp port 70000 from 10.0.0.1\n}\n");
	ck_assert_int_eq(cc.errors, 1);
	ck_assert_ptr_nonnull(strstr(cc.diags, want));
	compiled_free(&cc);
}
END_TEST

static Suite *
parser_suite(void)
{
	Suite *s = suite_create("parser");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_rule_shape);
	tcase_add_test(tc, test_from_port_binds_to_from);
	tcase_add_test(tc, test_recovery_reports_all);
	tcase_add_test(tc, test_string_escapes);
	tcase_add_test(tc, test_caret_output);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(parser_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
