/*
 * check_nlbuild.c - unit tests of the pure half of "xmppfwc apply": the
 * netlink batch built for a model (built by hand, and compiled from a
 * policy), parsed back with libnftnl, without a socket; and the diff of
 * two views.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/expr.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "nlbuild.h"
#include "testutil.h"

struct seen {
	size_t	 msgs, rules, sets, elem_msgs, tables, chains;
	size_t	 begin, end;
	int	 udata_rules;		/* rules with a comment */
	char	 comments[4096];
};

static void
walk(const struct nlbatch *b, struct seen *s)
{
	size_t off = 0;
	const struct nlmsghdr *nlh;
	struct nftnl_rule *r;
	uint32_t len;
	const char *u;

	memset(s, 0, sizeof(*s));
	while (off < b->len) {
		nlh = (const struct nlmsghdr *)(b->buf + off);
		ck_assert(nlh->nlmsg_len >= sizeof(*nlh));
		off += MNL_ALIGN(nlh->nlmsg_len);
		s->msgs++;
		if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN) {
			s->begin++;
			continue;
		}
		if (nlh->nlmsg_type == NFNL_MSG_BATCH_END) {
			s->end++;
			continue;
		}
		switch (nlh->nlmsg_type & 0xff) {
		case NFT_MSG_NEWTABLE:
		case NFT_MSG_DELTABLE:
			s->tables++;
			break;
		case NFT_MSG_NEWCHAIN:
			s->chains++;
			break;
		case NFT_MSG_NEWSET:
			s->sets++;
			break;
		case NFT_MSG_NEWSETELEM:
			s->elem_msgs++;
			break;
		case NFT_MSG_NEWRULE:
			s->rules++;
			r = nftnl_rule_alloc();
			ck_assert_int_eq(nftnl_rule_nlmsg_parse(nlh, r), 0);
			if (nftnl_rule_is_set(r, NFTNL_RULE_USERDATA)) {
				u = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA,
				    &len);
				s->udata_rules++;
				/* TLV: type 0 (comment), length, text. */
				ck_assert_int_eq(u[0], 0);
				if (strlen(s->comments) + len + 2 <
				    sizeof(s->comments)) {
					strncat(s->comments, u + 2, len - 2);
					strcat(s->comments, "|");
				}
			}
			nftnl_rule_free(r);
			break;
		}
	}
	ck_assert_uint_eq(off, b->len);
}

/* A model built by hand: one ip-layer deny from a 10-prefix set. */
START_TEST(test_hand_model)
{
	struct arena a;
	struct model m;
	struct addrset *s;
	struct rule *r;
	struct nlbatch b;
	struct nlview v;
	struct seen sn;
	const struct nlorigin *o;
	size_t i;
	int d;

	arena_init(&a);
	memset(&m, 0, sizeof(m));
	m.arena = &a;
	m.source = "hand.xfw";
	m.opt.table = "handt";
	m.prelude.established = true;
	s = arena_alloc(&a, sizeof(*s));
	memset(s, 0, sizeof(*s));
	s->name = "bad";
	s->used = FAM_V4;	/* as lower() derives it from the rule */
	s->loc = (struct srcloc){ "hand.xfw", 2, 1 };
	s->n4 = 10;
	s->v4 = arena_alloc(&a, 10 * sizeof(*s->v4));
	for (i = 0; i < 10; i++) {
		s->v4[i].addr = 0x0a000000u + ((uint32_t)i << 8);
		s->v4[i].len = 24;
	}
	m.nsets = 1;
	m.sets = arena_alloc(&a, sizeof(*m.sets));
	m.sets[0] = s;
	m.nrules = 1;
	m.rules = r = arena_alloc(&a, sizeof(*r));
	memset(r, 0, sizeof(*r));
	r->loc = (struct srcloc){ "hand.xfw", 7, 3 };
	r->layer = LAYER_IP;
	r->dir = DIR_IN;
	r->action = VERDICT_DENY;
	r->families = FAM_V4;
	r->src = s;
	for (d = 0; d < DIR_COUNT; d++) {
		m.defaults[LAYER_IP].action[d] = VERDICT_ALLOW;
		m.defaults[LAYER_TRANSPORT].action[d] = d == DIR_OUT ?
		    VERDICT_ALLOW : VERDICT_DENY;
	}

	nlview_init(&v, "handt");
	ck_assert_int_eq(nlb_build(&m, 100, &b, &v, stderr), 0);
	walk(&b, &sn);
	ck_assert_uint_eq(sn.begin, 1);
	ck_assert_uint_eq(sn.end, 1);
	ck_assert_uint_eq(sn.tables, 3);	/* add, delete, add */
	ck_assert_uint_eq(sn.chains, 10);
	/* The named set, and two anonymous ct state sets... no: one
	 * established set per base chain. */
	ck_assert_uint_eq(sn.sets, 1 + 3);
	ck_assert_ptr_nonnull(strstr(sn.comments, "hand.xfw:7|"));
	/* The contiguous /24s merge into one interval: 0-end, start, end. */
	ck_assert_uint_eq(v.sets[0].n, 3);
	ck_assert_str_eq(v.sets[0].name, "bad_v4");
	/* The rule's message maps back to its location. */
	for (i = 0; i < v.nrules; i++)
		if (strcmp(v.rules[i].chain, "ip_input") == 0)
			break;
	ck_assert_uint_lt(i, v.nrules);
	{
		uint32_t seq;
		bool found = false;

		for (seq = b.seq0; seq < b.seq; seq++) {
			o = nlb_origin(&b, seq);
			if (o != NULL && o->loc == &r->loc) {
				ck_assert_str_eq(o->what, "rule");
				ck_assert_str_eq(o->name, "ip_input");
				found = true;
			}
		}
		ck_assert(found);
	}
	/* The last message before the batch end asks for the ack. */
	ck_assert_uint_eq(b.ack_seq, b.seq - 2);
	nlb_free(&b);
	nlview_free(&v);
	arena_free(&a);
}
END_TEST

/* A compiled policy: rule splitting, comments, diff of two builds. */
/* compile_text() uses a fresh temporary path: give both policies the
 * same file name, as two versions of one policy file have. */
static void
same_path(struct model *m)
{
	size_t i;
	int l, d;

	for (i = 0; i < m->nrules; i++)
		m->rules[i].loc.file = "p.xfw";
	for (l = 0; l < LAYER_COUNT; l++)
		for (d = 0; d < DIR_COUNT; d++)
			if (m->defaults[l].loc[d].file != NULL)
				m->defaults[l].loc[d].file = "p.xfw";
}

START_TEST(test_policy_and_diff)
{
	struct compiled c1, c2;
	struct nlbatch b1, b2;
	struct nlview v1, v2, v3;
	struct seen sn;
	char *out = NULL;
	size_t len = 0, d;
	FILE *f;

	compile_text(&c1, "xfw 1\noption table \"t1\"\n"
	    "define addr adm = { 192.0.2.0/24, 2001:db8::/32 }\n"
	    "transport {\n"
	    "  allow in tcp port ssh from $adm\n"
	    "  allow in tcp port { 5222, 5269 } comment \"xmpp\"\n"
	    "  default in deny\n}\n");
	ck_assert_int_eq(c1.errors, 0);
	same_path(&c1.model);
	nlview_init(&v1, "t1");
	ck_assert_int_eq(nlb_build(&c1.model, 1, &b1, &v1, stderr), 0);
	walk(&b1, &sn);
	/* ssh rule split per family (2), xmpp rule (1), 6+2 defaults,
	 * prelude 5+5+4, 3 gotos, refuse 2. */
	ck_assert_uint_eq(sn.rules, 2 + 1 + 6 + 14 + 3 + 2);
	ck_assert_ptr_nonnull(strstr(sn.comments, ":6 xmpp|"));

	/* The same policy built twice: no difference. */
	nlview_init(&v2, "t1");
	ck_assert_int_eq(nlb_build(&c1.model, 1, &b2, &v2, stderr), 0);
	ck_assert_uint_eq(b1.len, b2.len);
	ck_assert(memcmp(b1.buf, b2.buf, b1.len) == 0);	/* deterministic */
	f = open_memstream(&out, &len);
	d = nlview_diff(&v1, &v2, f);
	fclose(f);
	ck_assert_uint_eq(d, 0);
	ck_assert_uint_eq(len, 0);
	free(out);
	nlb_free(&b2);
	nlview_free(&v2);

	/* One element more: exactly that element. */
	compile_text(&c2, "xfw 1\noption table \"t1\"\n"
	    "define addr adm = { 192.0.2.0/24, 198.51.100.7, 2001:db8::/32 }\n"
	    "transport {\n"
	    "  allow in tcp port ssh from $adm\n"
	    "  allow in tcp port { 5222, 5269 } comment \"xmpp\"\n"
	    "  default in deny\n}\n");
	ck_assert_int_eq(c2.errors, 0);
	same_path(&c2.model);
	nlview_init(&v3, "t1");
	ck_assert_int_eq(nlb_build(&c2.model, 1, &b2, &v3, stderr), 0);
	out = NULL;
	f = open_memstream(&out, &len);
	d = nlview_diff(&v1, &v3, f);
	fclose(f);
	if (d != 1)
		fputs(out, stderr);
	ck_assert_uint_eq(d, 1);
	ck_assert_str_eq(out, "+ element 198.51.100.7/32 in set adm_v4\n");
	free(out);
	nlb_free(&b2);
	nlview_free(&v3);

	/* Against an empty (absent) table: the table is new. */
	nlview_init(&v2, "t1");
	out = NULL;
	f = open_memstream(&out, &len);
	d = nlview_diff(&v2, &v1, f);
	fclose(f);
	ck_assert_uint_gt(d, 10);
	ck_assert(strncmp(out, "+ table inet t1\n", 16) == 0);
	free(out);
	nlview_free(&v2);

	/* The restore batch of a view deletes and re-adds the table. */
	nlb_restore(&v1, 1, &b2);
	walk(&b2, &sn);
	ck_assert_uint_eq(sn.tables, 3);
	ck_assert_uint_eq(sn.rules, 2 + 1 + 6 + 14 + 3 + 2);
	nlb_free(&b2);

	nlb_free(&b1);
	nlview_free(&v1);
	compiled_free(&c1);
	compiled_free(&c2);
}
END_TEST

START_TEST(test_bad_table_name)
{
	struct compiled c;
	struct nlbatch b;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	compile_text(&c, "xfw 1\noption table \"a b;c\"\n"
	    "transport { default in deny }\n");
	if (c.errors == 0) {
		f = open_memstream(&out, &len);
		memset(&b, 0, sizeof(b));
		ck_assert_int_ne(nlb_build(&c.model, 1, &b, NULL, f), 0);
		fclose(f);
		ck_assert_ptr_nonnull(strstr(out, "option table"));
		free(out);
		nlb_free(&b);
	}
	compiled_free(&c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("nlbuild");
	TCase *tc = tcase_create("build");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, test_hand_model);
	tcase_add_test(tc, test_policy_and_diff);
	tcase_add_test(tc, test_bad_table_name);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
