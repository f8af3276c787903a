/*
 * xmppfwc - compile an XMPP firewall policy (.xfw) into iptables,
 * nftables, ipset, NFQUEUE helper, XEP-0016 and XEP-0191 artefacts;
 * check it (with its own expect tests); explain a decision.
 *
 * Exit codes: 0 ok, 1 policy errors (or warnings under --werror), 2 usage
 * or I/O, 3 the kernel or a server refused.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "compile.h"
#include "netlink.h"
#include "push.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_POLICY = 1,
	EXIT_USAGE = 2,
	EXIT_REFUSED = 3,
};

static const char usage_text[] =
"usage: xmppfwc [compile] [-t TARGET] [-o PATH] [-I DIR] FILE\n"
"       xmppfwc check [--format text|json|sarif] [--werror] [-I DIR] FILE...\n"
"       xmppfwc explain [-I DIR] FILE PROBE\n"
"       xmppfwc push --jid JID [--password-file F] [--server HOST[:PORT]]\n"
"                    [--ca-file F] [--insecure] [--dry-run] [--timeout S]\n"
"                    [-I DIR] FILE\n"
"       xmppfwc apply [--dry-run] [--confirm SECONDS] [--force] [-I DIR] FILE\n"
"       xmppfwc apply --confirm-ok [FILE]\n"
"       xmppfwc diff [-I DIR] FILE\n"
"       xmppfwc targets\n"
"       xmppfwc --version\n"
"\n"
"compile: -t TARGET writes one artefact to stdout (or to -o FILE);\n"
"without -t, every artefact goes into the directory -o DIR (default\n"
"./NAME.out for NAME.xfw).  See xmppfwc(1).\n";

static int
usage(void)
{
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

struct roots {
	const char	*v[64];
	size_t		 n;
};

static int
add_root(struct roots *r, const char *dir)
{
	if (r->n == sizeof(r->v) / sizeof(r->v[0])) {
		fprintf(stderr, "xmppfwc: too many -I roots\n");
		return -1;
	}
	r->v[r->n++] = dir;
	return 0;
}

/* Compile one policy; returns an exit code (model valid when 0). */
static int
build(struct ctx *c, const char *path, const struct roots *r, bool analyse,
    struct model *m)
{
	struct compile_opts o;
	struct program p;
	int n;

	memset(&o, 0, sizeof(o));
	o.roots = (const char **)r->v;
	o.nroots = r->n;
	o.analyse = analyse;
	o.run_expects = true;
	n = compile_policy(c, path, &o, m, &p);
	if (n < 0)
		return EXIT_USAGE;
	return n > 0 ? EXIT_POLICY : EXIT_OK;
}

/* Emit one backend into a malloc'd buffer; returns errors. */
static int
emit_buf(const struct backend *b, const struct model *m, char **buf,
    size_t *len)
{
	FILE *f = open_memstream(buf, len);
	int errs;

	if (f == NULL) {
		fprintf(stderr, "xmppfwc: %s\n", strerror(errno));
		return 1;
	}
	errs = b->emit(m, f, stderr);
	if (fclose(f) != 0)
		errs++;
	return errs;
}

/*
 * Write a buffer to path atomically: a temporary file in the same
 * directory, fsync, rename.  Never leaves a half-written file.
 */
static int
write_atomic(const char *path, const char *buf, size_t len)
{
	char *tmp;
	size_t off = 0;
	ssize_t w;
	int fd;

	if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0)
		return -1;
	fd = mkstemp(tmp);
	if (fd == -1) {
		fprintf(stderr, "xmppfwc: cannot create %s: %s\n", tmp,
		    strerror(errno));
		free(tmp);
		return -1;
	}
	while (off < len) {
		w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (fchmod(fd, 0644) != 0 || fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) != 0) {
		fd = -1;
		goto fail;
	}
	free(tmp);
	return 0;
fail:
	fprintf(stderr, "xmppfwc: cannot write %s: %s\n", path,
	    strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

static const char *
default_outdir(const char *policy)
{
	char *copy = xstrdup(policy), *base = basename(copy), *dot, *r;

	if ((dot = strrchr(base, '.')) != NULL && dot != base)
		*dot = '\0';
	if (asprintf(&r, "%s.out", base) < 0)
		r = NULL;
	free(copy);
	return r;
}

static int
cmd_compile(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "target", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const struct backend *b = NULL;
	const char *out = NULL, *dir;
	struct roots roots = { .n = 0 };
	struct model m;
	struct ctx c;
	char **bufs = NULL;
	size_t *lens = NULL, i, nb;
	int ch, rc, errs = 0;
	bool dir_alloc = false;

	while ((ch = getopt_long(argc, argv, "t:o:I:", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			if ((b = backend_find(optarg)) == NULL) {
				fprintf(stderr, "xmppfwc: unknown target '%s' "
				    "(xmppfwc targets lists them)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			out = optarg;
			break;
		case 'I':
			if (add_root(&roots, optarg) != 0)
				return EXIT_USAGE;
			break;
		default:
			return usage();
		}
	}
	if (optind != argc - 1)
		return usage();
	ctx_init(&c);
	rc = build(&c, argv[optind], &roots, true, &m);
	diag_print(&c, stderr, DIAG_TEXT, false);
	if (rc != EXIT_OK)
		goto done;
	if (b != NULL) {
		char *buf = NULL;
		size_t len = 0;

		errs = emit_buf(b, &m, &buf, &len);
		if (errs == 0) {
			if (out == NULL || strcmp(out, "-") == 0) {
				if (fwrite(buf, 1, len, stdout) != len ||
				    fflush(stdout) != 0)
					rc = EXIT_USAGE;
			} else if (write_atomic(out, buf, len) != 0)
				rc = EXIT_USAGE;
		} else
			rc = EXIT_POLICY;
		free(buf);
		goto done;
	}
	/* Every target into a directory: emit all, then write all. */
	dir = out;
	if (dir == NULL) {
		dir = default_outdir(argv[optind]);
		dir_alloc = true;
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "xmppfwc: cannot create %s: %s\n", dir,
		    strerror(errno));
		rc = EXIT_USAGE;
		goto done_dir;
	}
	for (nb = 0; backends[nb] != NULL; nb++)
		;
	bufs = xcalloc(nb, sizeof(*bufs));
	lens = xcalloc(nb, sizeof(*lens));
	for (i = 0; i < nb; i++)
		errs += emit_buf(backends[i], &m, &bufs[i], &lens[i]);
	if (errs != 0)
		rc = EXIT_POLICY;
	for (i = 0; i < nb && rc == EXIT_OK; i++) {
		char *path;

		if (asprintf(&path, "%s/%s", dir, backends[i]->filename) < 0 ||
		    write_atomic(path, bufs[i], lens[i]) != 0)
			rc = EXIT_USAGE;
		else
			printf("%s\n", path);
		free(path);
	}
	for (i = 0; i < nb; i++)
		free(bufs[i]);
	free(bufs);
	free(lens);
done_dir:
	if (dir_alloc)
		free((char *)dir);
done:
	ctx_free(&c);
	return rc;
}

static int
cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "werror", no_argument, NULL, 'W' },
		{ NULL, 0, NULL, 0 },
	};
	enum diag_format fmt = DIAG_TEXT;
	struct roots roots = { .n = 0 };
	struct model m;
	struct ctx c;
	bool werror = false;
	int ch, i, rc = EXIT_OK, r;
	size_t keep;

	while ((ch = getopt_long(argc, argv, "f:WI:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (strcmp(optarg, "text") == 0)
				fmt = DIAG_TEXT;
			else if (strcmp(optarg, "json") == 0)
				fmt = DIAG_JSON;
			else if (strcmp(optarg, "sarif") == 0)
				fmt = DIAG_SARIF;
			else {
				fprintf(stderr, "xmppfwc: unknown format '%s' "
				    "(text, json, sarif)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'W':
			werror = true;
			break;
		case 'I':
			if (add_root(&roots, optarg) != 0)
				return EXIT_USAGE;
			break;
		default:
			return usage();
		}
	}
	if (optind >= argc)
		return usage();
	ctx_init(&c);
	for (i = optind; i < argc; i++) {
		/* Each policy gets its own roots. */
		keep = c.nroots;
		r = build(&c, argv[i], &roots, true, &m);
		c.nroots = keep;
		if (r == EXIT_USAGE)
			rc = EXIT_USAGE;
	}
	diag_print(&c, fmt == DIAG_TEXT ? stderr : stdout, fmt, werror);
	if (rc == EXIT_OK && (c.nerrors > 0 || (werror && c.nwarnings > 0)))
		rc = EXIT_POLICY;
	if (fmt == DIAG_TEXT && (c.nerrors || c.nwarnings))
		fprintf(stderr, "%d error%s, %d warning%s\n", c.nerrors,
		    c.nerrors == 1 ? "" : "s", c.nwarnings,
		    c.nwarnings == 1 ? "" : "s");
	ctx_free(&c);
	return rc;
}

static int
cmd_explain(int argc, char **argv)
{
	struct roots roots = { .n = 0 };
	struct model m;
	struct ctx c;
	char *probe;
	size_t len = 0;
	int ch, i, rc;

	while ((ch = getopt(argc, argv, "I:")) != -1) {
		if (ch != 'I' || add_root(&roots, optarg) != 0)
			return usage();
	}
	if (argc - optind < 2)
		return usage();
	for (i = optind + 1; i < argc; i++)
		len += strlen(argv[i]) + 1;
	probe = xcalloc(1, len + 1);
	for (i = optind + 1; i < argc; i++) {
		strcat(probe, argv[i]);
		strcat(probe, " ");
	}
	ctx_init(&c);
	rc = build(&c, argv[optind], &roots, false, &m);
	if (rc == EXIT_OK && explain(&c, &m, probe, stdout) != 0)
		rc = EXIT_USAGE;
	diag_print(&c, stderr, DIAG_TEXT, false);
	ctx_free(&c);
	free(probe);
	return rc;
}

/*
 * Commands that act on the world with a compiled policy (push, apply,
 * diff): the policy FILE is the last argument, the command's own options
 * come before it and are parsed by the command.  With file_optional, a
 * command line ending in an option ("apply --confirm-ok") runs the
 * command without a model.
 */
static int
cmd_deploy(int argc, char **argv, bool file_optional,
    int (*fn)(const struct model *, int, char *[]))
{
	struct roots roots = { .n = 0 };
	struct model m;
	struct ctx c;
	int rc, i, o;

	/* -I DIR (or -IDIR) is ours, the rest the command's: take the
	 * roots out of argv before the command parses its options. */
	for (i = o = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			while (i < argc)
				argv[o++] = argv[i++];
			break;
		}
		if (strncmp(argv[i], "-I", 2) == 0) {
			const char *dir = argv[i][2] != '\0' ? argv[i] + 2 :
			    i + 1 < argc ? argv[++i] : NULL;

			if (dir == NULL)
				return usage();
			if (add_root(&roots, dir) != 0)
				return EXIT_USAGE;
			continue;
		}
		argv[o++] = argv[i];
	}
	argc = o;
	argv[argc] = NULL;
	if (file_optional && argc >= 2 && argv[argc - 1][0] == '-' &&
	    strcmp(argv[argc - 1], "-") != 0)
		return fn(NULL, argc, argv);
	if (argc < 2)
		return usage();
	ctx_init(&c);
	rc = build(&c, argv[argc - 1], &roots, false, &m);
	diag_print(&c, stderr, DIAG_TEXT, false);
	if (rc == EXIT_OK)
		rc = fn(&m, argc - 1, argv);
	ctx_free(&c);
	return rc;
}

static int
cmd_targets(void)
{
	size_t i;

	for (i = 0; backends[i] != NULL; i++)
		printf("%-10s %-18s %s\n", backends[i]->name,
		    backends[i]->filename, backends[i]->description);
	return EXIT_OK;
}

int
main(int argc, char *argv[])
{
	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "--version") == 0) {
		printf("xmppfwc %s\n", XFW_VERSION);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "explain") == 0)
		return cmd_explain(argc - 1, argv + 1);
	if (strcmp(argv[1], "push") == 0)
		return cmd_deploy(argc - 1, argv + 1, false, push_command);
	if (strcmp(argv[1], "targets") == 0)
		return cmd_targets();
	if (strcmp(argv[1], "apply") == 0)
		return cmd_deploy(argc - 1, argv + 1, true, apply_command);
	if (strcmp(argv[1], "diff") == 0)
		return cmd_deploy(argc - 1, argv + 1, false, diff_command);
	if (strcmp(argv[1], "compile") == 0)
		return cmd_compile(argc - 1, argv + 1);
	return cmd_compile(argc, argv);
}
