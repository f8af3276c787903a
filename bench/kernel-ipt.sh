#!/bin/sh
# bench/kernel-ipt.sh XMPPFWC - the iptables / ipset backends:
#   - compile time and peak memory of -t iptables and -t ipset for 10k,
#     100k and 1M-entry blocklists;
#   - load time in a private network namespace of the 100k and 1M
#     blocklists as ipset + 1 rule (the generated loader) against, for
#     100k only, one iptables rule per address (iptables-restore);
#   - ferm (ferm --noexec --lines, in the namespace) on a 10k-rule ferm
#     policy against xmppfwc compile -t iptables on the same 10k rules.
# Figures, not pass/fail.
set -u
XFW=${1:?usage: bench/kernel-ipt.sh XMPPFWC}
NS=xfwk-$$
T=$(mktemp -d /tmp/xfwk.XXXXXX)
trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP PIPE

. "$(dirname "$0")/kernel.inc"

echo "== iptables / ipset backends (2 cores, $(date +%F))"
for n in 10k:10000 100k:100000 1M:1000000; do
	blocklist "${n#*:}" "$T/${n%%:*}" xfwk
done
for n in 10k 100k 1M; do
	measure "-t iptables blocklist $n" "$XFW" compile -t iptables \
	    "$T/$n/bl.xfw"
	measure "-t ipset blocklist $n" "$XFW" compile -t ipset "$T/$n/bl.xfw"
done

if ! ip netns add "$NS" 2>/dev/null; then
	echo "(load times and ferm skipped: needs root and network namespaces)"
	exit 0
fi
ins() { ip netns exec "$NS" "$@"; }
reset_ns() {
	ip netns del "$NS" 2>/dev/null
	ip netns add "$NS"
}

echo
echo "== kernel load in a namespace (iptables $(iptables -V | sed 's/.* v//'))"
for n in 100k 1M; do
	"$XFW" compile -o "$T/$n/out" "$T/$n/bl.xfw" >/dev/null || exit 1
	reset_ns
	t0=$(now)
	ins sh "$T/$n/out/load-iptables.sh" || echo "(load FAILED)"
	t1=$(now)
	ins sh "$T/$n/out/load-iptables.sh" || echo "(reload FAILED)"
	t2=$(now)
	printf '%-44s %7s s\n' "ipset + 1 rule, $n: loader (first load)" \
	    "$(secs "$t0" "$t1")"
	printf '%-44s %7s s\n' "ipset + 1 rule, $n: loader (reload, swap)" \
	    "$(secs "$t1" "$t2")"
done
# 100k: one rule per address, as a tool without sets would write it.
{
	printf '*filter\n:xfwk-lin - [0:0]\n'
	sed 's/^\(.*\)$/-A xfwk-lin -s \1 -j DROP/' "$T/100k/bl.txt"
	printf 'COMMIT\n'
} >"$T/linear.rules"
reset_ns
t0=$(now)
ins iptables-restore --noflush "$T/linear.rules" || echo "(load FAILED)"
t1=$(now)
lin=$(secs "$t0" "$t1")
printf '%-44s %7s s\n' "100k rules, one per address: iptables-restore" \
    "$lin"
reset_ns
t0=$(now)
ins sh "$T/100k/out/load-iptables.sh" >/dev/null 2>&1
t1=$(now)
set1=$(secs "$t0" "$t1")
awk -v a="$lin" -v b="$set1" 'BEGIN { if (b > 0)
    printf "   100k: one rule per address is %.1fx slower to load than ipset + 1 rule\n", a / b }'

echo
if command -v ferm >/dev/null 2>&1; then
	# The same 10k rules for both: tcp port P from a /24, allow or deny.
	awk 'BEGIN {
		print "xfw 1\noption table \"xfwk\"\ntransport {"
		for (i = 0; i < 10000; i++)
			printf "  %s in tcp port %d from 10.%d.%d.0/24\n",
			    i % 3 ? "allow" : "deny", 1000 + i % 50000,
			    int(i / 256) % 256, i % 256
		print "}"
	}' >"$T/r10k.xfw"
	awk 'BEGIN {
		print "table filter {\n  chain INPUT {\n    policy DROP;"
		for (i = 0; i < 10000; i++)
			printf "    proto tcp saddr 10.%d.%d.0/24 dport %d %s;\n",
			    int(i / 256) % 256, i % 256, 1000 + i % 50000,
			    i % 3 ? "ACCEPT" : "DROP"
		print "  }\n}"
	}' >"$T/r10k.ferm"
	echo "== ferm $(ferm --version 2>/dev/null | head -1 | awk '{ print $2 }') vs xmppfwc, 10k rules to iptables"
	t0=$(now)
	ins ferm --noexec --lines "$T/r10k.ferm" >"$T/ferm.out" 2>&1 ||
	    echo "(ferm FAILED: $(head -1 "$T/ferm.out"))"
	t1=$(now)
	"$XFW" compile -t iptables "$T/r10k.xfw" >"$T/xfw.out" ||
	    echo "(xmppfwc FAILED)"
	t2=$(now)
	f=$(secs "$t0" "$t1")
	x=$(secs "$t1" "$t2")
	printf '%-44s %7s s  (%s rules)\n' "ferm --noexec --lines" "$f" \
	    "$(grep -c '^-A' "$T/ferm.out")"
	printf '%-44s %7s s  (%s rules)\n' "xmppfwc compile -t iptables" "$x" \
	    "$(grep '^-A xfwk-TR-IN' "$T/xfw.out" | grep -c -v default)"
	awk -v f="$f" -v x="$x" 'BEGIN { if (x > 0)
	    printf "   ferm / xmppfwc: %.1fx\n", f / x;
	    else print "   ferm / xmppfwc: xmppfwc under 10 ms" }'
else
	echo "(ferm not installed: make deps)"
fi
