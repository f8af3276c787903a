/*
 * testutil.h - tiny helpers shared by the Check unit tests.
 */
#ifndef XFW_TESTUTIL_H
#define XFW_TESTUTIL_H

#include <check.h>
#include <stdlib.h>

/* Run suite s with the default runner; the exit status of main(). */
static inline int
testutil_run(Suite *s)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
