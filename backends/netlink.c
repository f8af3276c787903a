/*
 * netlink.c - "xmppfwc apply" / "xmppfwc diff": talk to nf_tables.
 *
 * apply reads the running table inet TABLE over netlink, builds the
 * policy's table (nlbuild.c), prints the difference and, when there is
 * one, sends one batch that deletes the old table and adds the new one:
 * the kernel commits all of it or none.  A refused message is mapped
 * back through its sequence number to the policy line it came from.
 * With --confirm SECONDS the previous table (as read) is put back unless
 * "xmppfwc apply --confirm-ok" (or Enter on the terminal) confirms in
 * time.  When SSH_CONNECTION is set, a policy that would drop that
 * session (or a new one like it) is refused unless --force.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "compile.h"
#include "netlink.h"
#include "nlbuild.h"

#define RUNDIR		"/run/xmppfwc"
#define RBUF_SIZE	(1024 * 1024)

enum {
	XR_OK = 0,
	XR_DIFF = 1,
	XR_USAGE = 2,
	XR_REFUSED = 3,
};

struct nls {
	struct mnl_socket	*nl;
	uint32_t		 portid;
	uint32_t		 seq;
	char			*rbuf;
};

static int
nls_open(struct nls *s)
{
	int one = 1;

	memset(s, 0, sizeof(*s));
	s->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (s->nl == NULL || mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		fprintf(stderr, "xmppfwc: netlink: %s\n", strerror(errno));
		if (s->nl != NULL)
			mnl_socket_close(s->nl);
		s->nl = NULL;
		return -1;
	}
	/* Extended acks; ignore failure on old kernels. */
	mnl_socket_setsockopt(s->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	s->portid = mnl_socket_get_portid(s->nl);
	s->seq = (uint32_t)time(NULL);
	s->rbuf = malloc(RBUF_SIZE);
	if (s->rbuf == NULL) {
		mnl_socket_close(s->nl);
		return -1;
	}
	return 0;
}

static void
nls_close(struct nls *s)
{
	if (s->nl != NULL)
		mnl_socket_close(s->nl);
	free(s->rbuf);
	s->nl = NULL;
	s->rbuf = NULL;
}

/* Send one request and run cb on every answer; 0, or -1 with errno. */
static int
nls_talk(struct nls *s, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	uint32_t seq = nlh->nlmsg_seq;
	int ret;

	if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ret = (int)mnl_socket_recvfrom(s->nl, s->rbuf, RBUF_SIZE);
		if (ret <= 0)
			return -1;
		ret = mnl_cb_run(s->rbuf, (size_t)ret, seq, s->portid, cb,
		    data);
		if (ret <= 0)
			return ret < 0 ? -1 : 0;
	}
}

/* --- reading the running table ------------------------------------- */

struct rd {
	struct nlview	*v;
	const char	*table;
};

static int
table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rd *rd = data;
	struct nftnl_table *t = nftnl_table_alloc();

	if (nftnl_table_nlmsg_parse(nlh, t) == 0 &&
	    strcmp(nftnl_table_get_str(t, NFTNL_TABLE_NAME), rd->table) == 0) {
		rd->v->exists = true;
		if (rd->v->t != NULL)
			nftnl_table_free(rd->v->t);
		rd->v->t = t;
		return MNL_CB_OK;
	}
	nftnl_table_free(t);
	return MNL_CB_OK;
}

static int
chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rd *rd = data;
	struct nftnl_chain *c = nftnl_chain_alloc();

	if (nftnl_chain_nlmsg_parse(nlh, c) == 0 &&
	    strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE), rd->table) == 0)
		nlview_add_chain(rd->v, c);
	else
		nftnl_chain_free(c);
	return MNL_CB_OK;
}

static int
set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rd *rd = data;
	struct nftnl_set *s = nftnl_set_alloc();

	if (nftnl_set_nlmsg_parse(nlh, s) == 0 &&
	    strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE), rd->table) == 0)
		nlview_add_set(rd->v, s);
	else
		nftnl_set_free(s);
	return MNL_CB_OK;
}

static int
elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rd *rd = data;
	struct nftnl_set *s = nftnl_set_alloc();

	if (nftnl_set_elems_nlmsg_parse(nlh, s) == 0)
		nlview_add_elems(rd->v, s);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static int
rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rd *rd = data;
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (nftnl_rule_nlmsg_parse(nlh, r) == 0 &&
	    strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), rd->table) == 0)
		nlview_add_rule(rd->v, r);
	else
		nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* Read table inet NAME into v (v->exists false when there is none). */
static int
read_table(struct nls *s, const char *table, struct nlview *v)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct rd rd = { v, table };
	size_t i, nsets;

	nlview_init(v, table);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, NFPROTO_INET,
	    NLM_F_DUMP, ++s->seq);
	if (nls_talk(s, nlh, table_cb, &rd) < 0)
		goto fail;
	if (!v->exists)
		return 0;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETCHAIN, NFPROTO_INET,
	    NLM_F_DUMP, ++s->seq);
	if (nls_talk(s, nlh, chain_cb, &rd) < 0)
		goto fail;
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSET, NFPROTO_INET,
	    NLM_F_DUMP, ++s->seq);
	if (nls_talk(s, nlh, set_cb, &rd) < 0)
		goto fail;
	nsets = v->nsets;
	for (i = 0; i < nsets; i++) {
		struct nftnl_set *q = nftnl_set_alloc();

		nftnl_set_set_str(q, NFTNL_SET_TABLE, table);
		nftnl_set_set_str(q, NFTNL_SET_NAME, v->sets[i].name);
		nftnl_set_set_u32(q, NFTNL_SET_FAMILY, NFPROTO_INET);
		nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM,
		    NFPROTO_INET, NLM_F_DUMP, ++s->seq);
		nftnl_set_elems_nlmsg_build_payload(nlh, q);
		nftnl_set_free(q);
		if (nls_talk(s, nlh, elem_cb, &rd) < 0)
			goto fail;
	}
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_INET,
	    NLM_F_DUMP, ++s->seq);
	if (nls_talk(s, nlh, rule_cb, &rd) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "xmppfwc: cannot read table inet %s: %s\n", table,
	    strerror(errno));
	return -1;
}

/* --- sending a batch ----------------------------------------------- */

static void
report(const struct nlbatch *b, uint32_t seq, int err)
{
	const struct nlorigin *o = nlb_origin(b, seq);
	const char *hint = "";

	if (o != NULL && o->queue && err == ENOENT)
		hint = " (this kernel has no nft queue expression, which "
		    "inspect needs; load the iptables NFQUEUE artefact "
		    "instead)";
	if (o != NULL && o->loc != NULL && o->loc->file != NULL)
		fprintf(stderr, "%s:%d:%d: error: kernel rejected %s in "
		    "%s %s: %s%s\n", o->loc->file, o->loc->line,
		    o->loc->col, o->what, strcmp(o->what, "rule") == 0 ?
		    "chain" : "table", strcmp(o->what, "rule") == 0 ?
		    o->name : "", strerror(err), hint);
	else if (o != NULL && o->what != NULL)
		fprintf(stderr, "xmppfwc: error: kernel rejected %s %s: "
		    "%s%s\n", o->what, o->name, strerror(err), hint);
	else
		fprintf(stderr, "xmppfwc: error: kernel rejected the batch: "
		    "%s\n", strerror(err));
}

/* Send b; 0 when the kernel committed it, else the number of errors
 * reported (or -1 on I/O trouble). */
static int
send_batch(struct nls *s, const struct nlbatch *b)
{
	struct pollfd pfd;
	struct nlmsghdr *nlh;
	int fd = mnl_socket_get_fd(s->nl), size, nerr = 0, ret;
	bool done = false;

	size = b->len + 65536 > (size_t)0x3fffffff ? 0x3fffffff :
	    (int)(b->len + 65536);
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size,
	    sizeof(size)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	size = 16 * 1024 * 1024;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size,
	    sizeof(size)) != 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (mnl_socket_sendto(s->nl, b->buf, b->len) < 0) {
		fprintf(stderr, "xmppfwc: netlink send (%zu bytes): %s\n",
		    b->len, strerror(errno));
		return -1;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (!done) {
		/* nf_tables answers the batch inside sendmsg: everything
		 * is queued by now; the timeout is a safety net. */
		ret = poll(&pfd, 1, nerr > 0 ? 200 : 5000);
		if (ret <= 0)
			break;
		ret = (int)recv(fd, s->rbuf, RBUF_SIZE, 0);
		if (ret <= 0)
			break;
		nlh = (struct nlmsghdr *)s->rbuf;
		while (mnl_nlmsg_ok(nlh, ret)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				if (e->error != 0) {
					report(b, nlh->nlmsg_seq, -e->error);
					nerr++;
				}
				if (nlh->nlmsg_seq == b->ack_seq)
					done = true;
			}
			nlh = mnl_nlmsg_next(nlh, &ret);
		}
	}
	if (!done && nerr == 0) {
		fprintf(stderr, "xmppfwc: no answer from the kernel\n");
		return -1;
	}
	return nerr;
}

/* --- anti-lockout -------------------------------------------------- */

static bool
parse_ip(const char *s, unsigned *fam, u128 *a)
{
	uint8_t b[16];
	int i;

	if (inet_pton(AF_INET, s, b) == 1) {
		*fam = FAM_V4;
		*a = ((u128)b[0] << 24) | ((u128)b[1] << 16) |
		    ((u128)b[2] << 8) | b[3];
		return true;
	}
	if (inet_pton(AF_INET6, s, b) == 1) {
		*fam = FAM_V6;
		*a = 0;
		for (i = 0; i < 16; i++)
			*a = (*a << 8) | b[i];
		return true;
	}
	return false;
}

/* 0: the SSH session survives; 1: it would be cut (reported). */
static int
lockout_check(const struct model *m)
{
	const char *env = getenv("SSH_CONNECTION");
	char cip[64], sip[64];
	unsigned cport, sport, fam, fam2;
	struct packet pk;
	struct decision d;
	u128 c, s;
	int i;
	static const struct {
		enum direction	 dir;
		unsigned	 state;
		bool		 reply;
		const char	*what;
	} probes[] = {
		{ DIR_IN, CT_ESTABLISHED, false, "the running SSH session" },
		{ DIR_OUT, CT_ESTABLISHED, true, "replies to the SSH session" },
		{ DIR_IN, CT_NEW, false, "a new SSH connection from the "
		    "same client" },
	};

	if (env == NULL || env[0] == '\0')
		return 0;
	if (sscanf(env, "%63s %u %63s %u", cip, &cport, sip, &sport) != 4 ||
	    !parse_ip(cip, &fam, &c) || !parse_ip(sip, &fam2, &s) ||
	    fam != fam2 || cport > 65535 || sport > 65535) {
		fprintf(stderr, "xmppfwc: warning: cannot parse "
		    "SSH_CONNECTION \"%.80s\"; lockout check skipped\n", env);
		return 0;
	}
	for (i = 0; i < 3; i++) {
		memset(&pk, 0, sizeof(pk));
		pk.dir = probes[i].dir;
		pk.family = fam;
		pk.proto = PROTO_TCP;
		pk.has_src = pk.has_dst = true;
		pk.state = probes[i].state;
		if (!probes[i].reply) {
			pk.src = c;
			pk.dst = s;
			pk.sport = (uint16_t)cport;
			pk.dport = (uint16_t)sport;
		} else {
			pk.src = s;
			pk.dst = c;
			pk.sport = (uint16_t)sport;
			pk.dport = (uint16_t)cport;
		}
		eval_packet(m, &pk, &d);
		if (d.verdict != VERDICT_ALLOW) {
			if (d.loc.file != NULL)
				fprintf(stderr, "%s:%d:%d: error: this policy "
				    "would %s %s (SSH_CONNECTION %s); use "
				    "--force to apply anyway\n", d.loc.file,
				    d.loc.line, d.loc.col,
				    verdict_name(d.verdict), probes[i].what,
				    env);
			else
				fprintf(stderr, "xmppfwc: error: this policy "
				    "would %s %s (SSH_CONNECTION %s)%s%s; use "
				    "--force to apply anyway\n",
				    verdict_name(d.verdict), probes[i].what,
				    env, d.why != NULL ? ": " : "",
				    d.why != NULL ? d.why : "");
			return 1;
		}
	}
	return 0;
}

/* --- confirmation -------------------------------------------------- */

static unsigned long
netns_id(void)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) != 0)
		return 0;
	return (unsigned long)st.st_ino;
}

static void
state_path(char *buf, size_t n, const char *table, const char *ext)
{
	snprintf(buf, n, "%s/%s.%lu.%s", RUNDIR, table, netns_id(), ext);
}

/* Wait for a confirmation: the .ok file, or a line on the terminal. */
static bool
wait_confirm(const char *table, unsigned secs)
{
	char pending[512], ok[512], line[64];
	struct pollfd pfd;
	struct timespec t0, t;
	bool tty = isatty(0) != 0;
	FILE *f;
	long ms;

	if (mkdir(RUNDIR, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "xmppfwc: cannot create %s: %s\n", RUNDIR,
		    strerror(errno));
		return false;
	}
	state_path(pending, sizeof(pending), table, "pending");
	state_path(ok, sizeof(ok), table, "ok");
	unlink(ok);
	if ((f = fopen(pending, "w")) != NULL) {
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
	printf("applied; confirm within %u s with \"xmppfwc apply "
	    "--confirm-ok\"%s, or the previous table comes back\n", secs,
	    tty ? " or Enter here" : "");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pfd.fd = 0;
	pfd.events = POLLIN;
	for (;;) {
		if (access(ok, F_OK) == 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		ms = (t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (ms >= (long)secs * 1000) {
			unlink(pending);
			return false;
		}
		if (tty && poll(&pfd, 1, 100) > 0) {
			if (fgets(line, sizeof(line), stdin) != NULL)
				break;
			tty = false;
		} else if (!tty)
			usleep(100 * 1000);
	}
	unlink(pending);
	unlink(ok);
	return true;
}

/* apply --confirm-ok: confirm the pending applies of this namespace
 * (of table t only, when given). */
static int
confirm_ok(const char *t)
{
	char suffix[64], path[600];
	struct dirent *de;
	DIR *d;
	size_t l, sl;
	int n = 0, fd;

	snprintf(suffix, sizeof(suffix), ".%lu.pending", netns_id());
	sl = strlen(suffix);
	if ((d = opendir(RUNDIR)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			l = strlen(de->d_name);
			if (l <= sl || strcmp(de->d_name + l - sl, suffix) != 0)
				continue;
			if (t != NULL && (l - sl != strlen(t) ||
			    strncmp(de->d_name, t, l - sl) != 0))
				continue;
			snprintf(path, sizeof(path), "%s/%.*s.%lu.ok", RUNDIR,
			    (int)(l - sl), de->d_name, netns_id());
			fd = open(path, O_WRONLY | O_CREAT, 0600);
			if (fd >= 0) {
				close(fd);
				printf("confirmed table inet %.*s\n",
				    (int)(l - sl), de->d_name);
				n++;
			}
		}
		closedir(d);
	}
	if (n == 0) {
		fprintf(stderr, "xmppfwc: nothing waits for a confirmation\n");
		return XR_USAGE;
	}
	return XR_OK;
}

/* --- the commands -------------------------------------------------- */

static double
now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

static int
usage_apply(void)
{
	fputs("usage: xmppfwc apply [--dry-run] [--confirm SECONDS] "
	    "[--force] [-q] FILE\n"
	    "       xmppfwc apply --confirm-ok [FILE]\n"
	    "       xmppfwc diff [-q] FILE\n", stderr);
	return XR_USAGE;
}

int
apply_command(const struct model *m, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "confirm", required_argument, NULL, 'c' },
		{ "confirm-ok", no_argument, NULL, 'k' },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct nlview old, mine;
	struct nlbatch b, rb;
	struct nls s;
	const char *table;
	char *end;
	bool dry = false, force = false, ok = false, quiet = false;
	long confirm = -1;
	int ch, rc, n;
	size_t d;
	double t0, t1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "nc:kfq", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			dry = true;
			break;
		case 'c':
			errno = 0;
			confirm = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || confirm < 1 ||
			    confirm > 86400) {
				fprintf(stderr, "xmppfwc: --confirm wants "
				    "seconds (1..86400)\n");
				return XR_USAGE;
			}
			break;
		case 'k':
			ok = true;
			break;
		case 'f':
			force = true;
			break;
		case 'q':
			quiet = true;
			break;
		default:
			return usage_apply();
		}
	}
	if (optind != argc)
		return usage_apply();
	if (ok)
		return confirm_ok(m != NULL ? nlb_table(m, stderr) : NULL);
	if (m == NULL)
		return usage_apply();
	if ((table = nlb_table(m, stderr)) == NULL)
		return XR_DIFF;
	if (!dry && !force && lockout_check(m) != 0)
		return XR_REFUSED;
	t0 = now_ms();
	nlview_init(&mine, table);
	if (nlb_build(m, 1, &b, &mine, stderr) != 0) {
		nlview_free(&mine);
		nlb_free(&b);
		return XR_DIFF;
	}
	if (nls_open(&s) != 0) {
		nlview_free(&mine);
		nlb_free(&b);
		return XR_USAGE;
	}
	if (read_table(&s, table, &old) != 0) {
		rc = XR_USAGE;
		goto out;
	}
	{
		FILE *out = quiet ? fopen("/dev/null", "w") : stdout;

		d = nlview_diff(&old, &mine, out != NULL ? out : stdout);
		if (quiet && out != NULL)
			fclose(out);
	}
	if (dry) {
		printf("%s\n", d == 0 ? "no change" : "would change");
		rc = d == 0 ? XR_OK : XR_DIFF;
		goto out;
	}
	if (d == 0) {
		printf("no change: table inet %s is up to date\n", table);
		rc = XR_OK;
		goto out;
	}
	n = send_batch(&s, &b);
	t1 = now_ms();
	if (n != 0) {
		fprintf(stderr, "xmppfwc: nothing applied: the running "
		    "ruleset is unchanged\n");
		rc = n < 0 ? XR_USAGE : XR_REFUSED;
		goto out;
	}
	printf("applied table inet %s: %zu change%s, %zu netlink messages "
	    "in %.1f ms\n", table, d, d == 1 ? "" : "s",
	    (size_t)(b.seq - b.seq0), t1 - t0);
	rc = XR_OK;
	if (confirm > 0 && !wait_confirm(table, (unsigned)confirm)) {
		nlb_restore(&old, 1, &rb);
		n = send_batch(&s, &rb);
		nlb_free(&rb);
		if (n != 0) {
			fprintf(stderr, "xmppfwc: error: rollback failed; "
			    "the new table stays\n");
			rc = XR_REFUSED;
			goto out;
		}
		printf("not confirmed within %ld s: previous %s restored\n",
		    confirm, old.exists ? "table" : "state (no table)");
		rc = XR_REFUSED;
	} else if (confirm > 0)
		printf("confirmed\n");
out:
	fflush(stdout);
	nls_close(&s);
	nlview_free(&old);
	nlview_free(&mine);
	nlb_free(&b);
	return rc;
}

int
diff_command(const struct model *m, int argc, char *argv[])
{
	struct nlview old, mine;
	struct nlbatch b;
	struct nls s;
	const char *table;
	bool quiet = false;
	int ch, rc;
	size_t d;

	optind = 1;
	while ((ch = getopt(argc, argv, "q")) != -1) {
		if (ch != 'q')
			return usage_apply();
		quiet = true;
	}
	if (optind != argc || m == NULL)
		return usage_apply();
	if ((table = nlb_table(m, stderr)) == NULL)
		return XR_USAGE;
	nlview_init(&mine, table);
	if (nlb_build(m, 1, &b, &mine, stderr) != 0) {
		nlview_free(&mine);
		nlb_free(&b);
		return XR_USAGE;
	}
	nlb_free(&b);
	if (nls_open(&s) != 0) {
		nlview_free(&mine);
		return XR_USAGE;
	}
	if (read_table(&s, table, &old) != 0)
		rc = XR_USAGE;
	else {
		FILE *out = quiet ? fopen("/dev/null", "w") : stdout;

		d = nlview_diff(&old, &mine, out != NULL ? out : stdout);
		if (quiet && out != NULL)
			fclose(out);
		rc = d == 0 ? XR_OK : XR_DIFF;
	}
	fflush(stdout);
	nls_close(&s);
	nlview_free(&old);
	nlview_free(&mine);
	return rc;
}
