#!/bin/sh
# bench/kernel-nft.sh XMPPFWC - the nftables backend, and the load-time
# comparison of the three ways to hold a blocklist in the kernel, in one
# private network namespace, in one run:
#   - compile time and peak memory of -t nftables for 10k, 100k and
#     1M-entry blocklists;
#   - load time of the 100k and 1M blocklist as one nft set (nft -f of
#     the generated script) vs iptables + ipset (the generated loader) vs,
#     for 100k, one rule per address (nft -f and iptables-restore).
# Figures, not pass/fail.
set -u
XFW=${1:?usage: bench/kernel-nft.sh XMPPFWC}
NS=xfwn-$$
T=$(mktemp -d /tmp/xfwn.XXXXXX)
trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP PIPE

. "$(dirname "$0")/kernel.inc"

echo "== nftables backend (2 cores, $(date +%F))"
for n in 10k:10000 100k:100000 1M:1000000; do
	blocklist "${n#*:}" "$T/${n%%:*}" xfwn
done
for n in 10k 100k 1M; do
	measure "-t nftables blocklist $n" "$XFW" compile -t nftables \
	    -o "$T/$n/ruleset.nft" "$T/$n/bl.xfw"
done

if ! ip netns add "$NS" 2>/dev/null; then
	echo "(load times skipped: needs root and network namespaces)"
	exit 0
fi
ins() { ip netns exec "$NS" "$@"; }
reset_ns() {
	ip netns del "$NS" 2>/dev/null
	ip netns add "$NS"
}
# load LABEL CMD...: time one load into a fresh namespace; sets $took.
load() {
	label=$1
	shift
	reset_ns
	t0=$(now)
	ins "$@" >/dev/null 2>"$T/load.err" || echo "($label FAILED: $(head -1 "$T/load.err"))"
	t1=$(now)
	took=$(secs "$t0" "$t1")
	printf '%-48s %7s s\n' "$label" "$took"
}

echo
echo "== kernel load of a blocklist in a namespace: nft set vs iptables+ipset vs one rule per address"
echo "   (nft $(nft --version | awk '{ print $2 }'), iptables $(iptables -V | sed 's/.* v//'), same namespace kind, same run)"
for n in 100k 1M; do
	"$XFW" compile -o "$T/$n/out" "$T/$n/bl.xfw" >/dev/null || exit 1
	load "$n: nft set (nft -f ruleset.nft)" nft -f "$T/$n/out/ruleset.nft"
	nftset=$took
	load "$n: ipset + 1 rule (load-iptables.sh)" sh "$T/$n/out/load-iptables.sh"
	ipset=$took
	awk -v a="$nftset" -v b="$ipset" -v n="$n" 'BEGIN { if (b > 0)
	    printf "   %s: nft set / ipset = %.2f\n", n, a / b }'
done
# 100k: one rule per address, as a tool without sets would write it.
{
	printf 'table inet xfwn {\n\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n'
	sed 's/^\(.*\)$/\t\tip saddr \1 drop/' "$T/100k/bl.txt"
	printf '\t}\n}\n'
} >"$T/linear.nft"
{
	printf '*filter\n:xfwn-lin - [0:0]\n'
	sed 's/^\(.*\)$/-A xfwn-lin -s \1 -j DROP/' "$T/100k/bl.txt"
	printf 'COMMIT\n'
} >"$T/linear.rules"
load "100k: one nft rule per address (nft -f)" nft -f "$T/linear.nft"
nftlin=$took
load "100k: one iptables rule per address" iptables-restore --noflush "$T/linear.rules"
iptlin=$took
load "100k: nft set, again for the ratio" nft -f "$T/100k/out/ruleset.nft"
awk -v a="$nftlin" -v b="$iptlin" -v s="$took" 'BEGIN { if (s > 0)
    printf "   100k: per-address nft rules / nft set = %.1f, per-address iptables rules / nft set = %.1f\n", a / s, b / s }'
