/*
 * ipset.c - the "ipset" backend: the named address sets of the kernel
 * rules (iptables.c matches them with -m set) for "ipset restore".
 *
 * Every set is replaced atomically, so that reloading a changed set of
 * a million entries never leaves an empty window:
 *
 *	create TMP hash:net family inet hashsize H maxelem M
 *	add TMP ...                     (fill the temporary set)
 *	create REAL ... -exist          (a placeholder on the first load)
 *	swap TMP REAL                   (one kernel operation)
 *	destroy TMP                     (now the old contents)
 *
 * Names come from kernel.h (kern_ipset_name, kern_ipset_tmpname), so
 * iptables.c and the loader name the same sets; sizes from
 * kern_ipset_create.  Nothing else from the policy is written.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "kernel.h"

#define NAMEBUF		(KERN_NAME_MAX + 40)

static void
put_v4(FILE *out, const char *tmp, const struct pfx4 *p)
{
	uint32_t a = p->addr;

	if (p->len == 0) {
		fprintf(out, "add %s 0.0.0.0/1\nadd %s 128.0.0.0/1\n", tmp,
		    tmp);
		return;
	}
	fprintf(out, "add %s %u.%u.%u.%u", tmp, a >> 24, (a >> 16) & 0xff,
	    (a >> 8) & 0xff, a & 0xff);
	if (p->len != 32)
		fprintf(out, "/%u", p->len);
	fputc('\n', out);
}

static void
put_v6(FILE *out, const char *tmp, const struct pfx6 *p)
{
	char buf[PFX_STRLEN];

	if (p->len == 0) {
		fprintf(out, "add %s ::/1\nadd %s 8000::/1\n", tmp, tmp);
		return;
	}
	fprintf(out, "add %s %s\n", tmp, pfx6_format(p, buf, sizeof(buf)));
}

static int
emit(const struct model *m, FILE *out, FILE *err)
{
	const struct addrset *s;
	char real[NAMEBUF], tmp[NAMEBUF], create[NAMEBUF * 2 + 64];
	const char *table;
	size_t i, j, n;
	unsigned fam;
	int nerr = 0;

	if ((table = kern_table(m, err)) == NULL)
		return 1;
	/* Every name first: on an error nothing is written. */
	for (i = 0; i < m->nsets; i++)
		for (fam = FAM_V4; fam <= FAM_V6; fam <<= 1)
			if (kern_set_declared(m->sets[i], fam) &&
			    !kern_ipset_names(m, table, m->sets[i], fam, real,
			    tmp, sizeof(real), err))
				nerr++;
	if (nerr > 0)
		return nerr;
	backend_header(out, "#", m);
	for (i = 0; i < m->nsets; i++) {
		s = m->sets[i];
		for (fam = FAM_V4; fam <= FAM_V6; fam <<= 1) {
			if (!kern_set_declared(s, fam))
				continue;
			n = kern_set_count(s, fam);
			kern_ipset_name(table, s, fam, real, sizeof(real));
			kern_ipset_tmpname(table, s, fam, tmp, sizeof(tmp));
			kern_ipset_create(tmp, fam, n, create,
			    sizeof(create));
			fprintf(out, "%s\n", create);
			for (j = 0; j < n; j++)
				if (fam == FAM_V4)
					put_v4(out, tmp, &s->v4[j]);
				else
					put_v6(out, tmp, &s->v6[j]);
			kern_ipset_create(real, fam, n, create,
			    sizeof(create));
			fprintf(out, "%s -exist\nswap %s %s\ndestroy %s\n",
			    create, tmp, real, tmp);
		}
	}
	return 0;
}

const struct backend backend_ipset = {
	.name = "ipset",
	.filename = "ipset.restore",
	.description = "address sets for ipset restore (swapped in "
	    "atomically)",
	.emit = emit,
};
