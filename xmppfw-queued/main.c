/*
 * main.c - xmppfw-queued: the NFQUEUE helper of xmppfwc.
 *
 * Binds one netfilter queue per inspect block of the configuration,
 * keeps a flow table of the connections being inspected, and gives each
 * packet NF_ACCEPT, or, for a flow the rules deny, NF_REPEAT with the
 * block's mark so that the kernel rules reset the connection.  SIGHUP
 * reloads the configuration without unbinding the queues, SIGUSR1 writes
 * the counters, SIGTERM and SIGINT stop.  After the queues are bound,
 * every capability but CAP_NET_ADMIN is dropped.
 */
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <arpa/inet.h>
#include <linux/capability.h>
#include <linux/netfilter.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libnetfilter_queue/libnetfilter_queue.h>

#include "flow.h"
#include "qconf.h"

#define PROG		"xmppfw-queued"
#define MAXQUEUES	64

struct bound {
	uint16_t		 queue;
	struct nfq_q_handle	*qh;
};

static volatile sig_atomic_t	got_hup, got_usr1, got_term;

static struct qconf	*conf;
static const char	*conf_path;
static const char	*stats_path;
static struct flowtab	 tab;
static struct nfq_handle *nfq;
static struct bound	 bound[MAXQUEUES];
static size_t		 nbound;
static int		 verbose;

/* Decision logs: a token bucket, logs_rate a second, burst 2x. */
static double		 logs_rate = 10;
static double		 log_tokens;
static uint64_t		 log_last_ms;
static uint64_t		 log_suppressed;

static void	 msg(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, PROG ": ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

static void
fmt_addr(const struct flowkey *k, const uint8_t *a, uint16_t port,
    char *buf, size_t len)
{
	char ab[INET6_ADDRSTRLEN];

	inet_ntop(k->family == 4 ? AF_INET : AF_INET6, a, ab, sizeof(ab));
	snprintf(buf, len, k->family == 4 ? "%s:%u" : "[%s]:%u", ab, port);
}

/* Print a name from the network with anything unprintable escaped. */
static void
safe_name(const char *s, char *out, size_t len)
{
	size_t w = 0;

	for (; *s != '\0' && w + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c > ' ' && c < 0x7f && c != '\\')
			out[w++] = (char)c;
		else
			w += (size_t)snprintf(out + w, len - w, "\\x%02x", c);
	}
	out[w] = '\0';
}

static void
log_decision(void *arg, const struct flow *f, const struct qinspect *qi,
    const struct decision *d)
{
	char src[80], dst[80], name[4 * DOMAIN_MAX + 1], what[32];
	uint64_t now = now_ms();
	const char *loc;

	(void)arg;
	if (!verbose && d->action == QA_ALLOW)
		return;
	log_tokens += (double)(now - log_last_ms) * logs_rate / 1000.0;
	log_last_ms = now;
	if (log_tokens > 2 * logs_rate)
		log_tokens = 2 * logs_rate;
	if (log_tokens < 1) {
		log_suppressed++;
		return;
	}
	log_tokens -= 1;
	if (log_suppressed > 0) {
		msg("%llu decision logs suppressed",
		    (unsigned long long)log_suppressed);
		log_suppressed = 0;
	}
	fmt_addr(&f->key, f->key.src, f->key.sport, src, sizeof(src));
	fmt_addr(&f->key, f->key.dst, f->key.dport, dst, sizeof(dst));
	safe_name(d->name, name, sizeof(name));
	if (d->rule >= 0)
		loc = qi->rules[d->rule].loc;
	else
		loc = qi->def_loc;
	if (d->rule >= 0)
		snprintf(what, sizeof(what), "rule %d", d->rule + 1);
	else
		snprintf(what, sizeof(what), "default");
	msg("%s %s -> %s queue %u: %s%s%s (%s%s%s)",
	    qaction_name(d->action), src, dst, qi->queue, d->why,
	    name[0] ? "=" : "", name, what, loc ? " at " : "",
	    loc ? loc : "");
}

static void
write_stats(FILE *fp)
{
	const struct fstats *s = &tab.st;

	fprintf(fp, "packets %llu\nflows %llu\nallowed %llu\ndenied %llu\n"
	    "deny_packets %llu\nmidstream %llu\ntable_full %llu\n"
	    "expired %llu\nout_of_order %llu\nmalformed %llu\n"
	    "tracked %llu\nbytes_buffered %llu\n",
	    (unsigned long long)s->packets, (unsigned long long)s->flows,
	    (unsigned long long)s->allowed, (unsigned long long)s->denied,
	    (unsigned long long)s->deny_packets,
	    (unsigned long long)s->midstream,
	    (unsigned long long)s->table_full,
	    (unsigned long long)s->expired,
	    (unsigned long long)s->out_of_order,
	    (unsigned long long)s->malformed,
	    (unsigned long long)s->tracked,
	    (unsigned long long)s->bytes_buffered);
}

static void
dump_stats(void)
{
	char tmp[4096];
	FILE *fp;

	if (stats_path == NULL) {
		write_stats(stderr);
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", stats_path);
	if ((fp = fopen(tmp, "w")) == NULL) {
		msg("%s: %s", tmp, strerror(errno));
		return;
	}
	write_stats(fp);
	if (fclose(fp) != 0 || rename(tmp, stats_path) != 0)
		msg("%s: %s", stats_path, strerror(errno));
}

/*
 * Parse the IP and TCP headers.  Returns -1 for anything that is not a
 * well-formed, unfragmented TCP segment.
 */
static int
parse_packet(const uint8_t *b, size_t len, uint16_t queue, struct pkt *p)
{
	const struct tcphdr *th;
	size_t ihl, thl, tot;

	memset(p, 0, sizeof(*p));
	p->key.queue = queue;
	if (len < 1)
		return -1;
	if (b[0] >> 4 == 4) {
		const struct iphdr *ip = (const void *)b;

		if (len < sizeof(*ip))
			return -1;
		ihl = (size_t)ip->ihl * 4;
		tot = ntohs(ip->tot_len);
		if (ihl < 20 || tot < ihl || tot > len ||
		    ip->protocol != IPPROTO_TCP ||
		    (ntohs(ip->frag_off) & 0x3fff) != 0)
			return -1;
		p->key.family = 4;
		memcpy(p->key.src, &ip->saddr, 4);
		memcpy(p->key.dst, &ip->daddr, 4);
	} else if (b[0] >> 4 == 6) {
		const struct ip6_hdr *ip6 = (const void *)b;

		if (len < sizeof(*ip6) || ip6->ip6_nxt != IPPROTO_TCP)
			return -1;
		ihl = sizeof(*ip6);
		tot = ihl + ntohs(ip6->ip6_plen);
		if (tot > len)
			return -1;
		p->key.family = 6;
		memcpy(p->key.src, &ip6->ip6_src, 16);
		memcpy(p->key.dst, &ip6->ip6_dst, 16);
	} else
		return -1;
	if (tot - ihl < sizeof(struct tcphdr))
		return -1;
	th = (const void *)(b + ihl);
	thl = (size_t)th->doff * 4;
	if (thl < 20 || thl > tot - ihl)
		return -1;
	p->key.sport = ntohs(th->source);
	p->key.dport = ntohs(th->dest);
	p->syn = th->syn;
	p->ack = th->ack;
	p->fin = th->fin;
	p->rst = th->rst;
	p->seq = ntohl(th->seq);
	p->data = b + ihl + thl;
	p->dlen = tot - ihl - thl;
	p->iplen = (uint32_t)tot;
	return 0;
}

static int
on_packet(struct nfq_q_handle *qh, struct nfgenmsg *nfmsg,
    struct nfq_data *nfa, void *data)
{
	struct nfqnl_msg_packet_hdr *ph;
	const struct qinspect *qi;
	unsigned char *payload;
	uint16_t queue = (uint16_t)(uintptr_t)data;
	enum pverdict v = PV_ACCEPT;
	struct pkt p;
	uint32_t id;
	int len;

	(void)nfmsg;
	if ((ph = nfq_get_msg_packet_hdr(nfa)) == NULL)
		return 0;
	id = ntohl(ph->packet_id);
	len = nfq_get_payload(nfa, &payload);
	qi = qconf_find_queue(conf, queue);
	if (qi == NULL) {
		/* Queue dropped by a reload: let traffic pass. */
	} else if (len < 0 || parse_packet(payload, (size_t)len, queue,
	    &p) == -1) {
		tab.st.malformed++;
		tab.st.packets++;
	} else
		v = flow_packet(&tab, qi, &p, now_ms());
	switch (v) {
	case PV_DENY:
		return nfq_set_verdict2(qh, id, NF_REPEAT, qi->mark, 0, NULL);
	case PV_DROP:
		return nfq_set_verdict(qh, id, NF_DROP, 0, NULL);
	case PV_ACCEPT:
		break;
	}
	return nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL);
}

static int
bind_queue(const struct qinspect *qi)
{
	struct nfq_q_handle *qh;
	uint32_t flags;

	if (nbound == MAXQUEUES) {
		msg("queue %u: too many queues", qi->queue);
		return -1;
	}
	qh = nfq_create_queue(nfq, qi->queue, on_packet,
	    (void *)(uintptr_t)qi->queue);
	if (qh == NULL) {
		msg("queue %u: cannot bind: %s", qi->queue, strerror(errno));
		return -1;
	}
	if (nfq_set_mode(qh, NFQNL_COPY_PACKET, 0xffff) < 0) {
		msg("queue %u: cannot set copy mode", qi->queue);
		nfq_destroy_queue(qh);
		return -1;
	}
	nfq_set_queue_maxlen(qh, 4096);
	/* Fail open: the kernel accepts when our queue overflows. */
	flags = qi->fail_closed ? 0 : NFQA_CFG_F_FAIL_OPEN;
	nfq_set_queue_flags(qh, NFQA_CFG_F_FAIL_OPEN, flags);
	bound[nbound].queue = qi->queue;
	bound[nbound++].qh = qh;
	if (verbose)
		msg("queue %u bound (%s, fail %s)", qi->queue,
		    qi->kind, qi->fail_closed ? "closed" : "open");
	return 0;
}

/* Bind the queues a (new) configuration names; unbind those it drops. */
static int
sync_queues(struct qconf *qc)
{
	size_t i, j;
	int rc = 0;

	for (i = 0; i < nbound; ) {
		if (qconf_find_queue(qc, bound[i].queue) != NULL) {
			i++;
			continue;
		}
		nfq_destroy_queue(bound[i].qh);
		bound[i] = bound[--nbound];
	}
	for (i = 0; i < qc->ninspect; i++) {
		for (j = 0; j < nbound; j++)
			if (bound[j].queue == qc->inspects[i].queue)
				break;
		if (j == nbound && bind_queue(&qc->inspects[i]) == -1)
			rc = -1;
		else if (j < nbound)
			nfq_set_queue_flags(bound[j].qh, NFQA_CFG_F_FAIL_OPEN,
			    qc->inspects[i].fail_closed ? 0 :
			    NFQA_CFG_F_FAIL_OPEN);
	}
	return rc;
}

static void
reload(void)
{
	char err[1024];
	struct qconf *qc;

	if ((qc = qconf_load(conf_path, err, sizeof(err))) == NULL) {
		msg("reload failed, keeping the old configuration: %s", err);
		return;
	}
	qconf_free(conf);
	conf = qc;
	sync_queues(conf);
	msg("reloaded %s: %zu inspect block(s)", conf_path, conf->ninspect);
}

/*
 * Keep only CAP_NET_ADMIN (verdicts are netlink messages the kernel
 * checks for it; binding a queue a reload adds needs it too): drop the
 * rest from the bounding set, then from the effective, permitted and
 * inheritable sets, and forbid regaining privileges through exec.
 */
static int
drop_caps(void)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
	int c;

	for (c = 0; c <= CAP_LAST_CAP; c++)
		if (c != CAP_NET_ADMIN && prctl(PR_CAPBSET_DROP, c, 0, 0, 0)
		    == -1 && errno != EINVAL)
			return -1;
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective =
	    CAP_TO_MASK(CAP_NET_ADMIN);
	data[CAP_TO_INDEX(CAP_NET_ADMIN)].permitted =
	    CAP_TO_MASK(CAP_NET_ADMIN);
	if (syscall(SYS_capset, &hdr, data) == -1)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " [-tv] -c config [-s statsfile] "
	    "[-n maxflows] [-m maxbytes] [-T timeout] [-L logs/s]\n");
	exit(2);
}

static unsigned long
num_arg(const char *s, unsigned long min, unsigned long max)
{
	char *ep;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &ep, 10);
	if (errno || *ep != '\0' || v < min || v > max) {
		msg("bad number '%s'", s);
		usage();
	}
	return v;
}

int
main(int argc, char *argv[])
{
	char err[1024], buf[0x10000 + 4096] __attribute__((aligned(8)));
	unsigned long maxflows = 65536, maxbytes = 64UL << 20, timeout = 60;
	struct sigaction sa;
	int ch, fd, one = 1, testonly = 0;
	ssize_t n;

	while ((ch = getopt(argc, argv, "c:L:m:n:s:tT:v")) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'L':
			logs_rate = (double)num_arg(optarg, 1, 100000);
			break;
		case 'm':
			maxbytes = num_arg(optarg, 4096, 1UL << 40);
			break;
		case 'n':
			maxflows = num_arg(optarg, 1, 1UL << 24);
			break;
		case 's':
			stats_path = optarg;
			break;
		case 't':
			testonly = 1;
			break;
		case 'T':
			timeout = num_arg(optarg, 1, 86400);
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (conf_path == NULL || optind != argc)
		usage();
	if ((conf = qconf_load(conf_path, err, sizeof(err))) == NULL) {
		msg("%s", err);
		return 1;
	}
	if (testonly) {
		printf("%s: ok, %zu inspect block(s)\n", conf_path,
		    conf->ninspect);
		qconf_free(conf);
		return 0;
	}
	if (flowtab_init(&tab, maxflows, maxbytes, timeout * 1000) == -1) {
		msg("out of memory");
		return 1;
	}
	tab.log = log_decision;
	log_tokens = 2 * logs_rate;
	log_last_ms = now_ms();

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: recv() returns EINTR and the loop sees the flag. */
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((nfq = nfq_open()) == NULL) {
		msg("nfq_open: %s", strerror(errno));
		return 1;
	}
	if (sync_queues(conf) == -1)
		return 1;
	fd = nfq_fd(nfq);
	setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	if (drop_caps() == -1)
		msg("cannot drop capabilities: %s", strerror(errno));
	msg("running: %zu queue(s), config %s", nbound, conf_path);

	while (!got_term) {
		if (got_hup) {
			got_hup = 0;
			reload();
		}
		if (got_usr1) {
			got_usr1 = 0;
			dump_stats();
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue;
			msg("recv: %s", strerror(errno));
			break;
		}
		nfq_handle_packet(nfq, buf, (int)n);
		flowtab_expire(&tab, now_ms());
	}
	msg("stopping");
	dump_stats();
	while (nbound > 0)
		nfq_destroy_queue(bound[--nbound].qh);
	nfq_close(nfq);
	flowtab_free(&tab);
	qconf_free(conf);
	return 0;
}
