/*
 * loader.c - the "loader" backend: load-iptables.sh, a POSIX sh script
 * that "compile -o DIR" writes next to ipset.restore, iptables.rules and
 * ip6tables.rules, and that loads them from its own directory:
 *
 *  1. saves the filter tables (iptables-save -c, ip6tables-save -c) and
 *     notes which of the policy's sets exist;
 *  2. fills the temporary sets of ipset.restore and swaps each into
 *     place (the old contents stay in the temporary set until the end,
 *     for the roll-back);
 *  3. iptables-restore --noflush iptables.rules, then ip6tables;
 *  4. inserts the jumps INPUT/OUTPUT/FORWARD -> TABLE-IN/OUT/FWD at the
 *     top where they are missing (never twice);
 *  5. deletes chains "TABLE-*" the rules files no longer declare (the
 *     log chains of rules that are gone);
 *  6. destroys the temporary sets.
 *
 * If a step of 2-4 fails, it restores the saved tables, swaps the old
 * sets back, destroys what it created, and exits 1.
 *
 * Every name and line that goes into the script passes through put_q(),
 * the one shell-quoting function: single quotes, with ' written as '\''.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "kernel.h"

#define NAMEBUF		(KERN_NAME_MAX + 40)

static void
put_q(FILE *out, const char *s)
{
	fputc('\'', out);
	for (; *s != '\0'; s++)
		if (*s == '\'')
			fputs("'\\''", out);
		else
			fputc(*s, out);
	fputc('\'', out);
}

static const char script[] =
"set -u\n"
"set -f\n"
"umask 077\n"
"me=load-iptables.sh\n"
"say() { printf '%s: %s\\n' \"$me\" \"$*\" >&2; }\n"
"dir=$(CDPATH='' cd -- \"$(dirname -- \"$0\")\" && pwd) || exit 1\n"
"for f in ipset.restore iptables.rules ip6tables.rules; do\n"
"\t[ -r \"$dir/$f\" ] || { say \"cannot read $dir/$f\"; exit 1; }\n"
"done\n"
"for t in iptables-restore ip6tables-restore iptables-save ip6tables-save;"
" do\n"
"\tcommand -v \"$t\" >/dev/null 2>&1 || { say \"no $t\"; exit 1; }\n"
"done\n"
"if [ -n \"$sets\" ] && ! command -v ipset >/dev/null 2>&1; then\n"
"\tsay \"no ipset\"; exit 1\n"
"fi\n"
"# One load of this table at a time: a second loader waits for the first\n"
"# (its save would otherwise catch the first half-done, and its roll-back\n"
"# restore that).  flock(1) is util-linux; without it, no lock.\n"
"if command -v flock >/dev/null 2>&1; then\n"
"\tlock=${XMPPFW_LOCK_DIR:-/run}/xmppfw-$table.lock\n"
"\tif exec 9>>\"$lock\"; then\n"
"\t\tflock -w 60 9 || { say \"another load holds $lock\"; exit 1; }\n"
"\telse\n"
"\t\tsay \"cannot open $lock: loading without a lock\"\n"
"\tfi\n"
"fi\n"
"tmp=$(mktemp -d \"${TMPDIR:-/tmp}/xmppfw-load.XXXXXX\") || exit 1\n"
"existed='' swapped='' saved=''\n"
"has_set() { ipset -n list \"$1\" >/dev/null 2>&1; }\n"
"rollback() {\n"
"\tsay \"rolling back to the state before the load\"\n"
"\tif [ -n \"$saved\" ]; then\n"
"\t\tiptables-restore -c <\"$tmp/save4\" || say \"iptables roll-back failed\"\n"
"\t\tip6tables-restore -c <\"$tmp/save6\" || say \"ip6tables roll-back failed\"\n"
"\tfi\n"
"\tfor p in $sets; do\n"
"\t\tr=${p%%:*} t=${p#*:}\n"
"\t\tcase \" $swapped \" in *\" $r \"*) ipset swap \"$t\" \"$r\" ;; esac\n"
"\t\thas_set \"$t\" && ipset destroy \"$t\"\n"
"\t\tcase \" $existed \" in\n"
"\t\t*\" $r \"*) ;;\n"
"\t\t*) has_set \"$r\" && ipset destroy \"$r\" ;;\n"
"\t\tesac\n"
"\tdone\n"
"}\n"
"fail() { say \"$*\"; rollback; rm -rf \"$tmp\"; exit 1; }\n"
"trap 'rm -rf \"$tmp\"' EXIT\n"
"trap 'exit 1' INT TERM HUP\n"
"\n"
"# 1. the state to go back to\n"
"if ! iptables-save -c -t filter >\"$tmp/save4\" ||\n"
"    ! ip6tables-save -c -t filter >\"$tmp/save6\"; then\n"
"\tsay \"cannot save the current rules\"; exit 1\n"
"fi\n"
"saved=1\n"
"for p in $sets; do\n"
"\tr=${p%%:*} t=${p#*:}\n"
"\thas_set \"$r\" && existed=\"$existed $r\"\n"
"\t# a temporary set left by an interrupted load\n"
"\thas_set \"$t\" && { ipset destroy \"$t\" || { say \"cannot destroy $t\"; exit 1; }; }\n"
"done\n"
"trap 'fail interrupted' INT TERM HUP\n"
"\n"
"# 2. sets: fill the temporaries, then swap each into place\n"
"if [ -n \"$sets\" ]; then\n"
"\t: >\"$tmp/skip\"\n"
"\tfor r in $existed; do create_line \"$r\" >>\"$tmp/skip\"; done\n"
"\tsed -e '/^swap /d' -e '/^destroy /d' \"$dir/ipset.restore\" |\n"
"\t    if [ -s \"$tmp/skip\" ]; then grep -v -x -F -f \"$tmp/skip\";\n"
"\t    else cat; fi | ipset restore || fail \"ipset restore failed\"\n"
"\tfor p in $sets; do\n"
"\t\tr=${p%%:*} t=${p#*:}\n"
"\t\tipset swap \"$t\" \"$r\" || fail \"ipset swap $t $r failed\"\n"
"\t\tswapped=\"$swapped $r\"\n"
"\tdone\n"
"fi\n"
"\n"
"# 3. the rules: only this policy's chains are replaced\n"
"iptables-restore --noflush \"$dir/iptables.rules\" ||\n"
"    fail \"iptables-restore failed\"\n"
"ip6tables-restore --noflush \"$dir/ip6tables.rules\" ||\n"
"    fail \"ip6tables-restore failed\"\n"
"\n"
"# 4. the jumps, where missing\n"
"jump() {\n"
"\t\"$1\" -C \"$2\" -j \"$3\" 2>/dev/null || \"$1\" -I \"$2\" 1 -j \"$3\"\n"
"}\n"
"for t in iptables ip6tables; do\n"
"\tif ! jump \"$t\" INPUT \"$table-IN\" ||\n"
"\t    ! jump \"$t\" OUTPUT \"$table-OUT\" ||\n"
"\t    ! jump \"$t\" FORWARD \"$table-FWD\"; then\n"
"\t\tfail \"$t: cannot insert the jumps\"\n"
"\tfi\n"
"done\n"
"\n"
"# 5. chains of this table the rules no longer declare\n"
"prune() {\n"
"\tdecl=$(sed -n 's/^:\\([^ ]*\\) .*/\\1/p' \"$2\" | tr '\\n' ' ')\n"
"\tstale=\n"
"\tfor c in $(\"$1\" -S | sed -n 's/^-N //p'); do\n"
"\t\tcase $c in\n"
"\t\t\"$table\"-*)\n"
"\t\t\tcase \" $decl \" in *\" $c \"*) ;; *) stale=\"$stale $c\" ;; esac ;;\n"
"\t\tesac\n"
"\tdone\n"
"\tfor c in $stale; do \"$1\" -F \"$c\"; done\n"
"\tfor c in $stale; do \"$1\" -X \"$c\" || say \"cannot delete stale chain $c\"; done\n"
"}\n"
"prune iptables \"$dir/iptables.rules\"\n"
"prune ip6tables \"$dir/ip6tables.rules\"\n"
"\n"
"# 6. the old contents of the sets\n"
"for p in $sets; do\n"
"\tt=${p#*:}\n"
"\tipset destroy \"$t\" || say \"cannot destroy $t\"\n"
"done\n"
"exit 0\n";

static int
emit(const struct model *m, FILE *out, FILE *err)
{
	const struct addrset *s;
	char real[NAMEBUF], tmp[NAMEBUF], create[2 * NAMEBUF + 80];
	char *list = NULL, *cases = NULL;
	size_t i, llen = 0, clen = 0;
	const char *table;
	unsigned fam;
	FILE *l, *c;
	int nerr = 0;
	bool first = true;

	if ((table = kern_table(m, err)) == NULL)
		return 1;
	if ((l = open_memstream(&list, &llen)) == NULL ||
	    (c = open_memstream(&cases, &clen)) == NULL) {
		fprintf(err, "xmppfwc: out of memory\n");
		exit(2);
	}
	for (i = 0; i < m->nsets; i++) {
		s = m->sets[i];
		for (fam = FAM_V4; fam <= FAM_V6; fam <<= 1) {
			if (!kern_set_declared(s, fam))
				continue;
			if (!kern_ipset_names(m, table, s, fam, real, tmp,
			    sizeof(real), err)) {
				nerr++;
				continue;
			}
			fprintf(l, "%s%s:%s", first ? "" : " ", real, tmp);
			first = false;
			kern_ipset_create(real, fam, kern_set_count(s, fam),
			    create, sizeof(create));
			strcat(create, " -exist");
			fputs("\t", c);
			put_q(c, real);
			fputs(") printf '%s\\n' ", c);
			put_q(c, create);
			fputs(" ;;\n", c);
		}
	}
	fclose(l);
	fclose(c);
	if (nerr == 0) {
		fputs("#!/bin/sh\n", out);
		backend_header(out, "#", m);
		fputs("# Loads ipset.restore, iptables.rules and "
		    "ip6tables.rules from this script's\n# directory; on "
		    "failure restores the state before and exits 1.\n", out);
		fputs("table=", out);
		put_q(out, table);
		fputs("\n# each set of ipset.restore and its temporary set\n"
		    "sets=", out);
		put_q(out, list);
		fputs("\n# the line that creates a set in ipset.restore\n"
		    "create_line() {\n\tcase $1 in\n", out);
		fputs(cases, out);
		fputs("\tesac\n}\n", out);
		fputs(script, out);
	}
	free(list);
	free(cases);
	return nerr;
}

const struct backend backend_loader = {
	.name = "loader",
	.filename = "load-iptables.sh",
	.description = "sh script loading ipset, iptables and ip6tables "
	    "rules with roll-back",
	.emit = emit,
};
