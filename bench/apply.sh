#!/bin/sh
# bench/apply.sh XMPPFWC - kernel load time of a 100k and a 1M-entry
# blocklist: "xmppfwc apply" (libnftnl, one netlink batch) against
# "nft -f" of the same table as text, same namespace, same run.
# The text is "xmppfwc compile -t nftables" when this build has that
# target, else an equivalent table written here.
set -u
XFW=${1:?usage: bench/apply.sh XMPPFWC}
NS=xfwb-$$
T=$(mktemp -d /tmp/xfwb.XXXXXX)
trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$T"' EXIT INT TERM
ip netns add "$NS" || { echo "bench/apply: needs root and netns"; exit 1; }

now() { date +%s.%N; }

for n in 100000 1000000; do
	# n distinct, non-adjacent /32s (every other address from 16.0.0.0).
	awk -v n=$n 'BEGIN { for (i = 0; i < n; i++) { a = 268435456 + 2 * i;
	    printf "%d.%d.%d.%d\n", int(a / 16777216), int(a / 65536) % 256,
	    int(a / 256) % 256, a % 256 } }' >"$T/bl.txt"
	cat >"$T/bl.xfw" <<EOP
xfw 1
option table "xfwb"
define addr bl = file "bl.txt"
ip {
  deny in from \$bl
  default allow
}
EOP
	if "$XFW" targets | grep -q '^nftables '; then
		"$XFW" compile -t nftables "$T/bl.xfw" >"$T/bl.nft"
		how="xmppfwc -t nftables"
	else
		{
			printf 'table inet xfwb {}\ndelete table inet xfwb\n'
			printf 'table inet xfwb {\n\tset bl_v4 {\n'
			printf '\t\ttype ipv4_addr\n\t\tflags interval\n'
			printf '\t\tauto-merge\n\t\telements = {\n'
			sed '$!s/$/,/' "$T/bl.txt"
			printf '\t\t}\n\t}\n\tchain input {\n'
			printf '\t\ttype filter hook input priority filter; '
			printf 'policy accept;\n\t\tip saddr @bl_v4 drop\n'
			printf '\t}\n}\n'
		} >"$T/bl.nft"
		how="hand-written equivalent"
	fi
	t0=$(now)
	"$XFW" check "$T/bl.xfw" >/dev/null 2>&1
	t1=$(now)
	ip netns exec "$NS" nft flush ruleset
	ip netns exec "$NS" "$XFW" apply -q "$T/bl.xfw" >/dev/null || exit 1
	t2=$(now)
	ip netns exec "$NS" nft flush ruleset
	t3=$(now)
	ip netns exec "$NS" nft -f "$T/bl.nft" || exit 1
	t4=$(now)
	# Reloading over the loaded table: the no-change path.
	t5=$(now)
	ip netns exec "$NS" "$XFW" apply -q "$T/bl.xfw" >/dev/null 2>&1
	t6=$(now)
	awk -v n=$n -v c="$t0 $t1" -v a="$t1 $t2" -v f="$t3 $t4" \
	    -v u="$t5 $t6" -v how="$how" 'BEGIN {
	    split(c, C, " "); split(a, A, " "); split(f, F, " ");
	    split(u, U, " ");
	    ap = A[2] - A[1]; nf = F[2] - F[1]; cc = C[2] - C[1];
	    printf "apply %7d entries: xmppfwc apply %.2f s (of which "\
	        "compile %.2f s), nft -f (%s) %.2f s, ratio apply/nft %.2f; "\
	        "diff-only re-apply %.2f s\n", n, ap, cc, how, nf, ap / nf,
	        U[2] - U[1] }'
done
