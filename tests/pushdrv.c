/*
 * pushdrv.c - a stand-in for "xmppfwc push" until driver/main.c has it:
 * compiles the policy FILE (the last argument) exactly as "xmppfwc
 * compile" does and calls push_command() with the other arguments.
 * Usage: pushdrv push [OPTIONS] FILE
 * Built and used by tests/suites/xmpp.sh only when $XFW has no push.
 */
#include <stdio.h>
#include <string.h>

#include "compile.h"
#include "push.h"

int
main(int argc, char *argv[])
{
	struct compile_opts o;
	struct program p;
	struct model m;
	struct ctx c;
	int n, rc;

	if (argc < 3 || strcmp(argv[1], "push") != 0) {
		fprintf(stderr, "usage: pushdrv push [OPTIONS] FILE\n");
		return 2;
	}
	memset(&o, 0, sizeof(o));
	o.run_expects = true;
	ctx_init(&c);
	n = compile_policy(&c, argv[argc - 1], &o, &m, &p);
	diag_print(&c, stderr, DIAG_TEXT, false);
	if (n != 0)
		rc = n < 0 ? 2 : 1;
	else
		rc = push_command(&m, argc - 2, argv + 1);
	ctx_free(&c);
	return rc;
}
