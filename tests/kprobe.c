/*
 * kprobe.c - the prober and responder of the differential kernel tests
 * (tests/suites/kernel.sh).  Reads the probe sets build/kprobes prints.
 *
 *   kprobe serve PROBEFILE READYFILE in|out|forward
 *	Listen on every TCP and UDP destination port of the probes of one
 *	direction, IPv4 and IPv6: accept TCP connections, echo UDP
 *	datagrams back from the address they were sent to.  Creates
 *	READYFILE when listening.
 *   kprobe run PROBEFILE in|out|forward [TIMEOUT_MS]
 *	Send the probes of one direction, all at once, each bound to its
 *	source address and port: a TCP connect, a UDP datagram or an ICMP
 *	echo.  Connected / echoed / echo reply = allow; RST or ICMP error =
 *	reject; nothing before the timeout = deny (a send refused locally
 *	with EPERM waits for the ICMP error of a reject all the same).
 *	Prints every disagreement with the model's verdict and a last line
 *	"N probes, M agreed; observed ...".
 *   kprobe burst SRC DST PORT COUNT hold|close [TIMEOUT_MS]
 *	COUNT TCP connects one after the other from SRC to DST; prints one
 *	letter each: A accepted, R rejected, D dropped.  hold keeps the
 *	accepted connections open until the end.  SRC and DST may be
 *	comma-separated lists: the i-th connect uses the i-th address of
 *	each (the last one for the rest), so one burst can hold connections
 *	from one source open while another source connects.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum proto { P_TCP, P_UDP, P_ICMP };

struct probe {
	unsigned	 id;
	bool		 eperm;		/* the send was refused locally */
	bool		 active;	/* in the current pass */
	char		 dir[8];	/* in, out or forward */
	enum proto	 proto;
	int		 af;
	struct sockaddr_storage src, dst;
	socklen_t	 slen;
	char		 srcs[64], dsts[64];
	unsigned	 sport, dport;
	char		 want[16], origin[32];
	char		*where;
	int		 fd;
	uint16_t	 echo_id;
	const char	*got;		/* NULL: pending */
	const char	*detail;
};

static struct probe	*pv;
static size_t		 np;

static _Noreturn void
die(const char *what)
{
	perror(what);
	exit(2);
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static bool
mkaddr(const char *s, unsigned port, struct sockaddr_storage *ss,
    socklen_t *len, int *af)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(s, ':') != NULL) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a);
		*af = AF_INET6;
		return inet_pton(AF_INET6, s, &a->sin6_addr) == 1;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		*len = sizeof(*a);
		*af = AF_INET;
		return inet_pton(AF_INET, s, &a->sin_addr) == 1;
	}
}

static void
load(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	size_t cap = 0;

	if (f == NULL)
		die(path);
	while (fgets(line, sizeof(line), f) != NULL) {
		struct probe p;
		char dir[8], proto[8];
		int off = 0, af2;
		socklen_t l2;

		memset(&p, 0, sizeof(p));
		line[strcspn(line, "\n")] = '\0';
		if (sscanf(line, "probe %u %7s %7s %63s %u %63s %u %15s %31s %n",
		    &p.id, dir, proto, p.srcs, &p.sport, p.dsts, &p.dport,
		    p.want, p.origin, &off) < 9 || off == 0)
			continue;
		snprintf(p.dir, sizeof(p.dir), "%s", dir);
		p.proto = strcmp(proto, "tcp") == 0 ? P_TCP :
		    strcmp(proto, "udp") == 0 ? P_UDP : P_ICMP;
		if (!mkaddr(p.srcs, p.sport, &p.src, &p.slen, &p.af) ||
		    !mkaddr(p.dsts, p.dport, &p.dst, &l2, &af2)) {
			fprintf(stderr, "kprobe: bad probe line: %s\n", line);
			exit(2);
		}
		p.where = strdup(line + off);
		p.fd = -1;
		if (np == cap) {
			cap = cap ? 2 * cap : 256;
			if ((pv = realloc(pv, cap * sizeof(*pv))) == NULL)
				die("realloc");
		}
		pv[np++] = p;
	}
	fclose(f);
}

/* ------------------------------------------------------------------ */
/* serve */

struct lsock {
	int	fd;
	bool	tcp;
	int	af;
};

static int
listen_on(int af, int type, unsigned port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, a;

	mkaddr(af == AF_INET ? "0.0.0.0" : "::", port, &ss, &len, &a);
	if ((fd = socket(af, type | SOCK_NONBLOCK, 0)) < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Probes bound to a listening port (source port rules) set it too. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (af == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		if (type == SOCK_DGRAM)
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
			    sizeof(one));
	} else if (type == SOCK_DGRAM) {
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	}
	if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
		fprintf(stderr, "kprobe: bind %s port %u: %s\n",
		    af == AF_INET ? "v4" : "v6", port, strerror(errno));
		exit(2);
	}
	if (type == SOCK_STREAM && listen(fd, 4096) != 0)
		die("listen");
	return fd;
}

static void
udp_echo(int fd)
{
	char buf[2048], cbuf[256];
	struct sockaddr_storage from;
	struct iovec iov;
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t n;

	for (;;) {
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		mh.msg_name = &from;
		mh.msg_namelen = sizeof(from);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		if ((n = recvmsg(fd, &mh, 0)) < 0)
			return;
		/* Reply from the address the datagram was sent to: keep
		 * only the pktinfo, with the source set from it. */
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		    cm = CMSG_NXTHDR(&mh, cm)) {
			if (cm->cmsg_level == IPPROTO_IP &&
			    cm->cmsg_type == IP_PKTINFO) {
				struct in_pktinfo *pi =
				    (struct in_pktinfo *)CMSG_DATA(cm);

				pi->ipi_spec_dst = pi->ipi_addr;
				pi->ipi_ifindex = 0;
			} else if (cm->cmsg_level == IPPROTO_IPV6 &&
			    cm->cmsg_type == IPV6_PKTINFO) {
				struct in6_pktinfo *pi =
				    (struct in6_pktinfo *)CMSG_DATA(cm);

				pi->ipi6_ifindex = 0;
			}
		}
		iov.iov_len = (size_t)n;
		sendmsg(fd, &mh, 0);
	}
}

static int
serve(const char *ready, const char *dir)
{
	struct lsock *ls = NULL;
	struct pollfd *pf;
	size_t nls = 0, i, j;
	FILE *f;

	raise_nofile();
	if ((ls = calloc(4 * np + 1, sizeof(*ls))) == NULL)
		die("calloc");
	for (i = 0; i < np; i++) {
		bool tcp = pv[i].proto == P_TCP, dup = false;

		if (pv[i].proto == P_ICMP || strcmp(pv[i].dir, dir) != 0)
			continue;
		for (j = 0; j < i && !dup; j++)
			dup = strcmp(pv[j].dir, dir) == 0 && pv[j].proto == pv[i].proto &&
			    pv[j].dport == pv[i].dport;
		if (dup)
			continue;
		ls[nls].fd = listen_on(AF_INET, tcp ? SOCK_STREAM :
		    SOCK_DGRAM, pv[i].dport);
		ls[nls].tcp = tcp;
		nls++;
		ls[nls].fd = listen_on(AF_INET6, tcp ? SOCK_STREAM :
		    SOCK_DGRAM, pv[i].dport);
		ls[nls].tcp = tcp;
		nls++;
	}
	if ((pf = calloc(nls + 1, sizeof(*pf))) == NULL)
		die("calloc");
	for (i = 0; i < nls; i++) {
		pf[i].fd = ls[i].fd;
		pf[i].events = POLLIN;
	}
	if ((f = fopen(ready, "w")) == NULL)
		die(ready);
	fprintf(f, "%zu sockets\n", nls);
	fclose(f);
	for (;;) {
		if (poll(pf, nls, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		for (i = 0; i < nls; i++) {
			if (!(pf[i].revents & POLLIN))
				continue;
			if (ls[i].tcp) {
				int c;

				while ((c = accept4(ls[i].fd, NULL, NULL,
				    SOCK_NONBLOCK)) >= 0)
					close(c);
			} else {
				udp_echo(ls[i].fd);
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* run */

static uint16_t
cksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)(p[len - 1] << 8);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return htons((uint16_t)~s);
}

static void
finish(struct probe *p, const char *got, const char *detail)
{
	if (p->got != NULL)
		return;
	p->got = got;
	p->detail = detail;
	if (p->fd >= 0) {
		if (p->proto == P_TCP) {
			struct linger lg = { 1, 0 };

			/* Abort: no TIME_WAIT to trip a later run. */
			setsockopt(p->fd, SOL_SOCKET, SO_LINGER, &lg,
			    sizeof(lg));
		}
		close(p->fd);
		p->fd = -1;
	}
}

static const char *
errclass(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return "reject";
	case EPERM:
	case ETIMEDOUT:
		return "deny";
	default:
		return "reject";	/* another ICMP error */
	}
}

static void
start(struct probe *p, uint16_t icmp_base)
{
	int one = 1, type;

	type = p->proto == P_TCP ? SOCK_STREAM : p->proto == P_UDP ?
	    SOCK_DGRAM : SOCK_RAW;
	p->fd = socket(p->af, type | SOCK_NONBLOCK, p->proto != P_ICMP ? 0 :
	    p->af == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	if (p->fd < 0) {
		finish(p, "error", strerror(errno));
		return;
	}
	setsockopt(p->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(p->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (p->proto == P_ICMP) {
		struct sockaddr_storage s = p->src;

		((struct sockaddr_in *)&s)->sin_port = 0;
		if (bind(p->fd, (struct sockaddr *)&s, p->slen) != 0) {
			finish(p, "error", "bind");
			return;
		}
	} else if (bind(p->fd, (struct sockaddr *)&p->src, p->slen) != 0) {
		finish(p, "error", strerror(errno));
		return;
	}
	if (p->proto == P_ICMP) {
		uint8_t pkt[16];
		struct sockaddr_storage d = p->dst;

		memset(pkt, 0, sizeof(pkt));
		p->echo_id = (uint16_t)(icmp_base + p->id);
		pkt[0] = p->af == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
		pkt[4] = (uint8_t)(p->echo_id >> 8);
		pkt[5] = (uint8_t)p->echo_id;
		pkt[7] = 1;
		memcpy(pkt + 8, "xfwprobe", 8);
		if (p->af == AF_INET) {
			uint16_t c = cksum(pkt, sizeof(pkt));

			memcpy(pkt + 2, &c, 2);
		}
		((struct sockaddr_in *)&d)->sin_port = 0;
		if (sendto(p->fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&d,
		    p->slen) < 0) {
			if (errno == EPERM)
				p->eperm = true;	/* wait for an error */
			else
				finish(p, errclass(errno), strerror(errno));
		}
		return;
	}
	if (connect(p->fd, (struct sockaddr *)&p->dst, p->slen) != 0 &&
	    errno != EINPROGRESS) {
		finish(p, errclass(errno), strerror(errno));
		return;
	}
	if (p->proto == P_UDP) {
		char msg[32];
		int n = snprintf(msg, sizeof(msg), "kprobe %u", p->id);

		if (send(p->fd, msg, (size_t)n, 0) < 0) {
			if (errno == EPERM)
				p->eperm = true;	/* wait for an error */
			else
				finish(p, errclass(errno), strerror(errno));
		}
	}
}

static void
icmp_input(struct probe *p)
{
	uint8_t buf[2048];
	ssize_t n;

	while ((n = recv(p->fd, buf, sizeof(buf), 0)) > 0) {
		const uint8_t *h = buf, *in;
		size_t len = (size_t)n, off;

		if (p->af == AF_INET) {
			off = (size_t)(buf[0] & 0xf) * 4;
			if (len < off + 8)
				continue;
			h = buf + off;
			len -= off;
			if (h[0] == ICMP_ECHOREPLY &&
			    (h[4] << 8 | h[5]) == p->echo_id) {
				finish(p, "allow", "echo reply");
				return;
			}
			if (h[0] == ICMP_DEST_UNREACH && len >= 8 + 20 + 8) {
				in = h + 8;
				off = (size_t)(in[0] & 0xf) * 4;
				if (len >= 8 + off + 8 &&
				    in[9] == IPPROTO_ICMP &&
				    in[off] == ICMP_ECHO &&
				    (in[off + 4] << 8 | in[off + 5]) ==
				    p->echo_id) {
					finish(p, "reject", h[1] == 3 ?
					    "port unreachable" :
					    "other unreachable");
					return;
				}
			}
		} else {
			if (len < 8)
				continue;
			if (h[0] == ICMP6_ECHO_REPLY &&
			    (h[4] << 8 | h[5]) == p->echo_id) {
				finish(p, "allow", "echo reply");
				return;
			}
			if (h[0] == ICMP6_DST_UNREACH && len >= 8 + 40 + 8) {
				in = h + 8 + 40;
				if (h[8 + 6] == IPPROTO_ICMPV6 &&
				    in[0] == ICMP6_ECHO_REQUEST &&
				    (in[4] << 8 | in[5]) == p->echo_id) {
					finish(p, "reject", h[1] == 4 ?
					    "port unreachable" :
					    "other unreachable");
					return;
				}
			}
		}
	}
}

static void
input(struct probe *p, short rev)
{
	int err = 0;
	socklen_t el = sizeof(err);
	char buf[64];
	ssize_t n;

	switch (p->proto) {
	case P_TCP:
		getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err == 0 && (rev & POLLOUT))
			finish(p, "allow", "connected");
		else if (err != 0)
			finish(p, errclass(err), strerror(err));
		break;
	case P_UDP:
		n = recv(p->fd, buf, sizeof(buf), 0);
		if (n >= 0)
			finish(p, "allow", "echoed");
		else if (errno != EAGAIN)
			finish(p, errclass(errno), strerror(errno));
		break;
	case P_ICMP:
		icmp_input(p);
		break;
	}
}

/* Send the active probes at once and wait up to timeout ms for them. */
static void
pass(long timeout, struct pollfd *pf, size_t *map, uint16_t base)
{
	long deadline;
	size_t i, k;

	for (i = 0; i < np; i++)
		if (pv[i].active)
			start(&pv[i], base);
	deadline = now_ms() + timeout;
	for (;;) {
		long left = deadline - now_ms();

		for (i = k = 0; i < np; i++) {
			if (!pv[i].active || pv[i].got != NULL)
				continue;
			pf[k].fd = pv[i].fd;
			pf[k].events = pv[i].proto == P_TCP ? POLLOUT : POLLIN;
			pf[k].revents = 0;
			map[k++] = i;
		}
		if (k == 0 || left <= 0)
			break;
		if (poll(pf, k, (int)left) < 0 && errno != EINTR)
			die("poll");
		for (i = 0; i < k; i++)
			if (pf[i].revents != 0)
				input(&pv[map[i]], pf[i].revents);
	}
	for (i = 0; i < np; i++)
		if (pv[i].active)
			finish(&pv[i], "deny", pv[i].eperm ?
			    "EPERM: dropped on output" : "no answer");
}

/*
 * All probes of a direction at once; the ones that disagree go once more,
 * with a three times longer timeout, so that a loaded machine does not
 * pass a slow answer for a drop.
 */
static int
run(const char *dir, long timeout)
{
	struct pollfd *pf;
	size_t *map, i, total = 0, agreed = 0, na = 0, nd = 0, nr = 0;
	size_t retried = 0;
	/* ICMP echo ids: probe ids stay under 0x4000; a forward run shares
	 * the client namespace with an inbound one. */
	uint16_t base = strcmp(dir, "forward") == 0 ? 0x8000 : 0;

	raise_nofile();
	pf = calloc(np + 1, sizeof(*pf));
	map = calloc(np + 1, sizeof(*map));
	if (pf == NULL || map == NULL)
		die("calloc");
	for (i = 0; i < np; i++)
		pv[i].active = strcmp(pv[i].dir, dir) == 0;
	pass(timeout, pf, map, base);
	for (i = 0; i < np; i++) {
		struct probe *p = &pv[i];

		p->active = strcmp(p->dir, dir) == 0 &&
		    strcmp(p->got, p->want) != 0;
		if (p->active) {
			p->got = p->detail = NULL;
			p->eperm = false;
			retried++;
		}
	}
	if (retried > 0)
		pass(3 * timeout, pf, map, (uint16_t)(base + 0x4000));
	for (i = 0; i < np; i++) {
		struct probe *p = &pv[i];

		if (strcmp(p->dir, dir) != 0)
			continue;
		total++;
		na += strcmp(p->got, "allow") == 0;
		nd += strcmp(p->got, "deny") == 0;
		nr += strcmp(p->got, "reject") == 0;
		if (strcmp(p->got, p->want) == 0) {
			agreed++;
			continue;
		}
		printf("DISAGREE probe %u %s %s %s%s%s:%u -> %s%s%s:%u (%s): "
		    "model %s by %s; kernel %s (%s)\n", p->id,
		    p->dir, p->proto == P_TCP ? "tcp" :
		    p->proto == P_UDP ? "udp" : p->af == AF_INET ? "icmp" :
		    "icmpv6", p->af == AF_INET6 ? "[" : "", p->srcs,
		    p->af == AF_INET6 ? "]" : "", p->sport,
		    p->af == AF_INET6 ? "[" : "", p->dsts,
		    p->af == AF_INET6 ? "]" : "", p->dport, p->origin,
		    p->want, p->where, p->got, p->detail);
	}
	printf("%zu probes, %zu agreed; observed %zu allow %zu deny %zu "
	    "reject; %zu sent again\n", total, agreed, na, nd, nr, retried);
	for (i = 0; i < np; i++)
		free(pv[i].where);
	free(pv);
	free(pf);
	free(map);
	return 0;
}

/* ------------------------------------------------------------------ */
/* burst */

/* The i-th element of the comma-separated list s (the last one when
 * there are fewer) into buf; false if it does not fit. */
static bool
nth(const char *s, unsigned i, char *buf, size_t n)
{
	const char *e;

	for (; i > 0 && (e = strchr(s, ',')) != NULL; i--)
		s = e + 1;
	if ((e = strchr(s, ',')) == NULL)
		e = s + strlen(s);
	if ((size_t)(e - s) >= n)
		return false;
	memcpy(buf, s, (size_t)(e - s));
	buf[e - s] = '\0';
	return true;
}

static int
burst(const char *src, const char *dst, unsigned port, unsigned count,
    bool hold, long timeout)
{
	int *fds = calloc(count + 1, sizeof(int)), one = 1, af, af2;
	struct sockaddr_storage s, d;
	socklen_t sl, dl;
	unsigned i;
	char sa[64], da[64];

	if (fds == NULL)
		return 2;
	for (i = 0; i < count; i++) {
		struct pollfd p;
		int fd, err = 0;
		socklen_t el = sizeof(err);
		char c = 'D';

		fds[i] = -1;
		if (!nth(src, i, sa, sizeof(sa)) ||
		    !nth(dst, i, da, sizeof(da)) ||
		    !mkaddr(sa, 0, &s, &sl, &af) ||
		    !mkaddr(da, port, &d, &dl, &af2) || af != af2) {
			fprintf(stderr, "burst: bad address %s -> %s\n", sa,
			    da);
			return 2;
		}
		fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (fd < 0)
			die("socket");
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&s, sl) != 0)
			die("bind");
		if (connect(fd, (struct sockaddr *)&d, dl) != 0 &&
		    errno != EINPROGRESS) {
			c = errno == ECONNREFUSED ? 'R' : 'D';
		} else {
			p.fd = fd;
			p.events = POLLOUT;
			if (poll(&p, 1, (int)timeout) > 0) {
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
				c = err == 0 ? 'A' : err == ECONNREFUSED ?
				    'R' : 'D';
			}
		}
		putchar(c);
		fflush(stdout);
		if (c == 'A' && hold) {
			fds[i] = fd;
		} else {
			struct linger lg = { 1, 0 };

			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(fd);
		}
	}
	putchar('\n');
	for (i = 0; i < count; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "serve") == 0) {
		load(argv[2]);
		return serve(argv[3], argv[4]);
	}
	if ((argc == 4 || argc == 5) && strcmp(argv[1], "run") == 0) {
		load(argv[2]);
		return run(argv[3],
		    argc == 5 ? atol(argv[4]) : 1000);
	}
	if ((argc == 7 || argc == 8) && strcmp(argv[1], "burst") == 0)
		return burst(argv[2], argv[3], (unsigned)atoi(argv[4]),
		    (unsigned)atoi(argv[5]), strcmp(argv[6], "hold") == 0,
		    argc == 8 ? atol(argv[7]) : 1000);
	fprintf(stderr, "usage: kprobe serve PROBEFILE READYFILE DIR | "
	    "run PROBEFILE DIR [MS] | burst SRC DST PORT N hold|close "
	    "[MS]\n");
	return 2;
}
