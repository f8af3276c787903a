#!/bin/sh
# bench/queued.sh XFW - figures for the NFQUEUE helper xmppfw-queued, in
# two network namespaces joined by a veth pair (root needed):
#   - added connection-setup latency: connect + stream header + the
#     server's echo, with and without the helper on the queue;
#   - packets per second through the helper (every packet of a bulk
#     transfer queued, not only the first bytes);
#   - memory per tracked flow (helper RSS with K pending flows open);
#   - load time of a 100k-domain configuration.
# Figures, not pass/fail.
set -u
XFW=${1:-build/xmppfwc}
XFW=$(cd "$(dirname "$XFW")" && pwd)/$(basename "$XFW")
QD=$(dirname "$XFW")/xmppfw-queued
echo "== xmppfw-queued: the NFQUEUE helper (2 cores, $(date +%F))"
if [ "$(id -u)" != 0 ] || [ ! -x "$QD" ] || ! command -v socat >/dev/null
then
	echo "skipped: needs root, socat and $QD"
	exit 0
fi
S=xfwt-qbs-$$
C=xfwt-qbc-$$
SA=198.18.251.1
CA=198.18.251.2
tmp=$(mktemp -d /tmp/xfwt-qbench.XXXXXX)
qd_pid=
srv_pid=
hold_pid=
cleanup() {
	[ -n "$qd_pid" ] && kill "$qd_pid" 2>/dev/null
	[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null
	[ -n "$hold_pid" ] && kill "$hold_pid" 2>/dev/null
	ip netns del "$S" 2>/dev/null
	ip netns del "$C" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
ins() { ip netns exec "$S" "$@"; }
inc() { ip netns exec "$C" "$@"; }

ip netns add "$S" && ip netns add "$C" || exit 1
ip link add "xqb$$a" type veth peer name "xqb$$b" || exit 1
ip link set "xqb$$a" netns "$S"
ip link set "xqb$$b" netns "$C"
ins ip addr add "$SA/24" dev "xqb$$a"
inc ip addr add "$CA/24" dev "xqb$$b"
ins ip link set "xqb$$a" up
inc ip link set "xqb$$b" up
ins ip link set lo up

# qbench: "server" (one process, poll loop: answers the first bytes of
# each connection with "ok", discards the rest), "lat N" (N sequential
# connections: connect, stream header, wait for the answer, close; prints
# mean/p50/p99 microseconds), "hold K" (K connections left open after the
# header), "flood M" (one connection, TCP_NODELAY, M writes of 64 bytes).
cat >"$tmp/qbench.c" <<'EOC'
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define HDR "<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' from='good.example' to='example.net' version='1.0'>"
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e6 + t.tv_nsec / 1e3; }
static struct sockaddr_in sa;
static int conn(void) { int s = socket(AF_INET, SOCK_STREAM, 0); if (connect(s, (void *)&sa, sizeof(sa)) < 0) { perror("connect"); exit(1); } return s; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
	int n = argc > 3 ? atoi(argv[3]) : 0, i, s, one = 1;
	char b[65536];
	memset(&sa, 0, sizeof(sa)); sa.sin_family = AF_INET; sa.sin_port = htons(5269); inet_pton(AF_INET, argv[2], &sa.sin_addr);
	if (strcmp(argv[1], "server") == 0) {
		static struct pollfd p[20000]; static char fresh[20000]; int np = 1;
		p[0].fd = socket(AF_INET, SOCK_STREAM, 0); p[0].events = POLLIN;
		setsockopt(p[0].fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(p[0].fd, (void *)&sa, sizeof(sa)) < 0 || listen(p[0].fd, 4096) < 0) { perror("bind"); return 1; }
		for (;;) {
			poll(p, np, -1);
			if ((p[0].revents & POLLIN) && np < 20000) { p[np].fd = accept(p[0].fd, NULL, NULL); p[np].events = POLLIN; fresh[np++] = 1; }
			for (i = 1; i < np; i++) {
				ssize_t r;
				if (!p[i].revents) continue;
				r = read(p[i].fd, b, sizeof(b));
				if (r <= 0) { close(p[i].fd); p[i] = p[np - 1]; fresh[i] = fresh[np - 1]; np--; i--; continue; }
				if (fresh[i]) { if (write(p[i].fd, "ok", 2) < 0) {} fresh[i] = 0; }
			}
		}
	}
	if (strcmp(argv[1], "lat") == 0) {
		double *lat = calloc(n, sizeof(double)), sum = 0, t0;
		for (i = 0; i < n; i++) {
			t0 = now(); s = conn();
			if (write(s, HDR, strlen(HDR)) < 0 || read(s, b, 2) <= 0) { perror("lat"); return 1; }
			close(s); lat[i] = now() - t0; sum += lat[i];
		}
		qsort(lat, n, sizeof(double), cmp);
		printf("%.0f %.0f %.0f\n", sum / n, lat[n / 2], lat[n * 99 / 100]);
		return 0;
	}
	if (strcmp(argv[1], "hold") == 0) {
		for (i = 0; i < n; i++) { s = conn(); if (write(s, HDR, strlen(HDR)) < 0 || read(s, b, 2) <= 0) { perror("hold"); return 1; } }
		printf("held %d\n", n); fflush(stdout); pause(); return 0;
	}
	/* flood */
	s = conn(); setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (write(s, HDR, strlen(HDR)) < 0 || read(s, b, 2) <= 0) return 1;
	memset(b, 'x', 64);
	for (i = 0; i < n; i++) if (write(s, b, 64) != 64) { perror("flood"); return 1; }
	close(s); return 0;
}
EOC
cc -O2 -o "$tmp/qbench" "$tmp/qbench.c" || exit 1

# A 100k-domain inspect block (domains written inline by the compiler).
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "spam%d.example\n", i }' \
    >"$tmp/spam.txt"
cat >"$tmp/p.xfw" <<'EOP'
define jid spam = file "spam.txt"
xmpp {
  inspect s2s queue 9 ports 5269 {
    deny domain $spam
    deny string "<script"
    default allow
  }
}
EOP
t0=$(date +%s.%N)
"$XFW" compile -t nfqueue "$tmp/p.xfw" >"$tmp/q.conf" || exit 1
t1=$(date +%s.%N)
"$QD" -t -c "$tmp/q.conf" >/dev/null || exit 1
t2=$(date +%s.%N)
printf '%-44s %7.3f s (%s bytes)\n' "compile -t nfqueue, 100k domains" \
    "$(echo "$t1 - $t0" | bc)" "$(wc -c <"$tmp/q.conf")"
printf '%-44s %7.3f s\n' "helper: parse + hash 100k domains (-t)" \
    "$(echo "$t2 - $t1" | bc)"

rules() {	# $1: connbytes limit, or "all"
	if [ "$1" = all ]; then cb=""; else
		cb="-m connbytes --connbytes 0:$1 --connbytes-dir original --connbytes-mode bytes"; fi
	printf '*filter\n:INPUT ACCEPT [0:0]\n'
	printf -- '-A INPUT -p tcp -m connmark --mark 0x1 -j REJECT --reject-with tcp-reset\n'
	printf -- '-A INPUT -p tcp -m mark --mark 0x1 -j CONNMARK --save-mark\n'
	printf -- '-A INPUT -p tcp -m mark --mark 0x1 -j REJECT --reject-with tcp-reset\n'
	printf -- '-A INPUT -p tcp --dport 5269 %s -j NFQUEUE --queue-num 9 --queue-bypass\nCOMMIT\n' "$cb"
}
ip netns exec "$S" "$tmp/qbench" server "$SA" &
srv_pid=$!
sleep 0.3
start_qd() {
	ins "$QD" -n 200000 -c "$tmp/q.conf" -s "$tmp/stats" \
	    2>"$tmp/qd.log" &
	i=0
	while ! grep -q "running:" "$tmp/qd.log" && [ $i -lt 100 ]; do
		sleep 0.1; i=$((i + 1)); done
	qd_pid=$(for p in $(ip netns pids "$S"); do
	    [ "$(cat /proc/$p/comm 2>/dev/null)" = xmppfw-queued ] && echo $p
	    done)
}
N=500
inc "$tmp/qbench" lat "$SA" 50 >/dev/null	# warm up
set -- $(inc "$tmp/qbench" lat "$SA" $N)
base_mean=$1 base_p50=$2 base_p99=$3
rules 4096 | ins iptables-restore
start_qd
set -- $(inc "$tmp/qbench" lat "$SA" $N)
printf '%-44s %7s us mean, %s p50, %s p99\n' "connection setup, no helper" \
    "$base_mean" "$base_p50" "$base_p99"
printf '%-44s %7s us mean, %s p50, %s p99\n' "connection setup, helper (100k domains)" \
    "$1" "$2" "$3"
printf '%-44s %7s us mean\n' "added by the helper" "$(( $1 - base_mean ))"

# Packets per second: queue every packet of one connection that sends
# 64-byte segments with TCP_NODELAY.
rules all | ins iptables-restore
kill -USR1 "$qd_pid"; sleep 0.2
p0=$(sed -n 's/^packets //p' "$tmp/stats")
t0=$(date +%s.%N)
inc "$tmp/qbench" flood "$SA" 200000
t1=$(date +%s.%N)
sleep 0.2
kill -USR1 "$qd_pid"; sleep 0.2
p1=$(sed -n 's/^packets //p' "$tmp/stats")
el=$(echo "$t1 - $t0" | bc)
printf '%-44s %7.0f packets/s (%d packets in %.2f s)\n' \
    "through the helper (every packet queued)" \
    "$(echo "($p1 - $p0) / $el" | bc -l)" "$((p1 - p0))" "$el"

# Memory per tracked flow: K flows held open, still being inspected (the
# pending "<script" rule keeps their buffers).
rules 4096 | ins iptables-restore
kill "$qd_pid"; sleep 0.3
start_qd
rss0=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/"$qd_pid"/status)
K=5000
ulimit -n 20000
ip netns exec "$C" "$tmp/qbench" hold "$SA" $K >"$tmp/hold.out" &
hold_pid=$!
i=0
while ! grep -q held "$tmp/hold.out" 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.1; i=$((i + 1)); done
kill -USR1 "$qd_pid"; sleep 0.3
rss1=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/"$qd_pid"/status)
tracked=$(sed -n 's/^tracked //p' "$tmp/stats")
buffered=$(sed -n 's/^bytes_buffered //p' "$tmp/stats")
kill "$hold_pid" 2>/dev/null
printf '%-44s %7d bytes/flow (RSS +%d kB for %s flows; buffers %s B)\n' \
    "memory per tracked, undecided flow" \
    "$(( (rss1 - rss0) * 1024 / (tracked > 0 ? tracked : 1) ))" \
    "$((rss1 - rss0))" "$tracked" "$buffered"
printf '%-44s %7d bytes/flow (flow entry, without buffer)\n' \
    "table entry" "$(( ((rss1 - rss0) * 1024 - buffered) / (tracked > 0 ? tracked : 1) ))"
