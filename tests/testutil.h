/*
 * testutil.h - shared by the Check unit tests.
 */
#ifndef XFW_TESTUTIL_H
#define XFW_TESTUTIL_H

#include <check.h>
#include <stdlib.h>

/* Run one suite, print Check's summary, return the exit status. */
static inline int
testutil_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
