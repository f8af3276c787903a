#!/bin/sh
# tests/suites/ipt.sh - the iptables, ip6tables, ipset and loader
# backends against the real kernel, inside private network namespaces
# (names with $$): nothing outside them is touched, and they go away on
# exit.
#   - every policies/*.xfw and a generated 100k-entry blocklist: ipset
#     restore, then iptables-restore / ip6tables-restore --test --noflush;
#   - the loader applies, a second load changes nothing;
#   - foreign chains, rules and sets (a DOCKER-like chain jumped from
#     FORWARD, a f2b chain jumped from INPUT, a foreign ipset) are
#     byte-identical after load and reload;
#   - a failing step (a corrupt ip6tables.rules) rolls everything back;
#   - traffic: the loaded rules decide as the policy says;
#   - the kernel limits are compile-time errors;
#   - hostile strings and paths reach neither a shell nor iptables.
set -u
: "${XFW:?set XFW to the xmppfwc binary}"
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
N=xfwi-$$
T=$(mktemp -d /tmp/xfwi.XXXXXX)
nsl=""
pids=""
fails=0

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for n in $nsl; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ok() { echo "ok ipt: $1"; }
fail() { echo "FAIL ipt: $1"; fails=$((fails + 1)); }

if [ "$(id -u)" -ne 0 ]; then
	echo "FAIL ipt: needs root for network namespaces"
	exit 1
fi
for t in ip iptables-restore ip6tables-restore ipset socat; do
	command -v $t >/dev/null 2>&1 || { echo "FAIL ipt: no $t (make deps)"
	    exit 1; }
done

# newns NAME: a fresh namespace, remembered for the cleanup.
newns() {
	ip netns add "$1" || { echo "FAIL ipt: netns $1"; exit 1; }
	nsl="$nsl $1"
	ip netns exec "$1" ip link set lo up
}
delns() { ip netns del "$1" 2>/dev/null; }
in_() { n=$1; shift; ip netns exec "$n" "$@"; }
# The state of a namespace: both filter tables (no counters, no
# date comments) and every set.
state() {
	in_ "$1" iptables-save -t filter | grep -v '^#'
	in_ "$1" ip6tables-save -t filter | grep -v '^#'
	in_ "$1" ipset list
}

# What a reload must keep: the tables, the set names and members (a
# reload swaps in new set objects: their hash seed, order and, once the
# kernel resized it, hash size differ).
idem() {
	in_ "$1" iptables-save -t filter | grep -v '^#'
	in_ "$1" ip6tables-save -t filter | grep -v '^#'
	in_ "$1" ipset list -n
	in_ "$1" ipset save | sed -e 's/ initval 0x[0-9a-f]*//' \
	    -e 's/ hashsize [0-9]*//' | sort
}

# --- every policy and a 100k-entry blocklist: the kernel accepts ---------

mkdir -p "$T/big"
awk 'BEGIN { for (i = 0; i < 100000; i++) { a = 167772160 + 2 * i;
    printf "%d.%d.%d.%d\n", int(a / 16777216), int(a / 65536) % 256,
    int(a / 256) % 256, a % 256 } }' >"$T/big/block.txt"
cat >"$T/big/big.xfw" <<'EOF'
xfw 1
define addr drop100k = file "block.txt"
ip {
  deny in from $drop100k
}
transport {
  allow in tcp port { 22, 5222, 5269 }
}
EOF

# Every clause the backends translate, in one policy.
mkdir -p "$T/feat"
cat >"$T/feat/features.xfw" <<EOF
xfw 1
option table "xfwfeat"
option loopback off
define addr mixed = { 10.0.0.0/8, 2001:db8::/32, 0.0.0.0/0 }
ip {
  deny in on eth+ from { 2001:db8:1::1, 2001:db8:1::3, 2001:db8:1::5, 2001:db8:1::7, 2001:db8:1::9, 2001:db8:1::b, 2001:db8:1::d, 2001:db8:1::f, 2001:db8:1::11 }
  allow in icmp
  allow in icmpv6
  reject forward from 192.0.2.0/24 to 198.51.100.0/24
  deny out to ::/0 log
  default out allow
}
transport {
  allow in tcp, udp port { 1-100, 200, 300-400, 500, 600, 700, 800, 900, 1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700 } from \$mixed
  allow in udp from 10.0.0.1 port 53 to 10.0.0.2 port 1024-65535
  deny in tcp port 25 limit 1/hour
  deny in tcp port 26 limit over 100/minute burst 20 per destination
  allow in tcp port 27 conn over 5
  allow in tcp port 28 state new, established, related, untracked limit 10/second per source count log "p"
  allow out state invalid
  default in reject
}
EOF

for p in "$top"/policies/*.xfw "$T/feat/features.xfw" "$T/big/big.xfw"; do
	name=$(basename "$p" .xfw)
	out=$T/out-$name
	if ! "$XFW" compile -o "$out" "$p" >/dev/null 2>"$T/err"; then
		fail "$name: compile: $(head -1 "$T/err")"
		continue
	fi
	newns "$N-t"
	if in_ "$N-t" ipset restore <"$out/ipset.restore" 2>"$T/err" &&
	    in_ "$N-t" iptables-restore --test --noflush "$out/iptables.rules" \
	    2>>"$T/err" &&
	    in_ "$N-t" ip6tables-restore --test --noflush \
	    "$out/ip6tables.rules" 2>>"$T/err"; then
		ok "$name: ipset restore + iptables/ip6tables-restore --test"
	else
		fail "$name: kernel refuses: $(head -3 "$T/err")"
	fi
	# ipset.restore alone reloads too (same sizes: create -exist).
	if in_ "$N-t" ipset restore <"$out/ipset.restore" 2>"$T/err"; then
		ok "$name: ipset.restore applies twice by hand"
	else
		fail "$name: second ipset restore: $(head -1 "$T/err")"
	fi
	delns "$N-t"
	newns "$N-l"
	if in_ "$N-l" sh "$out/load-iptables.sh" 2>"$T/err"; then
		idem "$N-l" >"$T/s1"
		in_ "$N-l" sh "$out/load-iptables.sh" 2>"$T/err"
		idem "$N-l" >"$T/s2"
		if cmp -s "$T/s1" "$T/s2"; then
			ok "$name: loader applies; a second load is idempotent"
		else
			fail "$name: second load differs"
			diff "$T/s1" "$T/s2" | head -10
		fi
		# Two loads at once (a deploy retried while the first
		# runs): the lock serialises them, both succeed, and the
		# result is the same.
		XMPPFW_LOCK_DIR=$T in_ "$N-l" sh "$out/load-iptables.sh" \
		    2>"$T/err1" & lp=$!
		XMPPFW_LOCK_DIR=$T in_ "$N-l" sh "$out/load-iptables.sh" \
		    2>"$T/err2"; r2=$?
		wait $lp; r1=$?
		idem "$N-l" >"$T/s3"
		if [ "$r1/$r2" = 0/0 ] && cmp -s "$T/s1" "$T/s3"; then
			ok "$name: two loads at once both succeed, same result"
		else
			fail "$name: concurrent loads: exit $r1/$r2"
			cat "$T/err1" "$T/err2" | head -5
			diff "$T/s1" "$T/s3" | head -10
		fi
	else
		fail "$name: loader: $(cat "$T/err" | head -3)"
	fi
	delns "$N-l"
done
# The loader is plain POSIX sh.
if command -v shellcheck >/dev/null 2>&1; then
	if shellcheck -s sh "$T/out-features/load-iptables.sh" \
	    "$T/out-xmpp-server-edge/load-iptables.sh" >"$T/sc" 2>&1; then
		ok "loader: shellcheck -s sh clean"
	else
		fail "loader: shellcheck"; head -20 "$T/sc"
	fi
fi
if command -v dash >/dev/null 2>&1 &&
    dash -n "$T/out-features/load-iptables.sh"; then
	ok "loader: dash -n"
fi
# Split per family: no IPv4 prefix in ip6tables.rules, no IPv6 in iptables.
if ! grep -q -E '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+/[0-9]' \
    "$T/out-features/ip6tables.rules" &&
    ! grep -q -E '[0-9a-f]*:[0-9a-f:]*/[0-9]' "$T/out-features/iptables.rules" &&
    grep -q -- '-s 192.0.2.0/24 -d 198.51.100.0/24' \
    "$T/out-features/iptables.rules" &&
    grep -q -- '-d ::/0' "$T/out-features/ip6tables.rules"; then
	ok "features: rules split per family"
else
	fail "features: a rule in the wrong family's file"
fi
if [ "$(grep -c '^add ' "$T/out-big/ipset.restore")" = 100000 ] &&
    [ "$(grep -c -- '-m set --match-set xmppfw-drop100k_v4 src' \
    "$T/out-big/iptables.rules")" = 1 ]; then
	ok "big: 100k addresses are one set and one rule"
else
	fail "big: not one set and one rule"
fi

# --- coexistence, reload, roll-back -------------------------------------

P=$T/co/policy.xfw
mkdir -p "$T/co"
policy() {	# $1: the last address of the admin set
	cat <<EOF
xfw 1
option table "xfwco"
define addr admin = { 10.98.0.2, fd98::2, 192.0.2.$1 }
ip {
  deny in from { 10.98.0.66, fd98::66 }
}
transport {
  allow in tcp port 22 from \$admin
  allow in tcp port 5222
  reject in tcp port 5223 log "c2s-old"
  deny in udp port 53 limit over 10/second per source
}
EOF
}
policy 1 >"$P"
"$XFW" compile -o "$T/co/out" "$P" >/dev/null || fail "co: compile"
S=$N-s
C=$N-c
newns "$S"
newns "$C"
ip link add "xi$$s" netns "$S" type veth peer name "xi$$c" netns "$C" ||
    exit 1
in_ "$S" ip addr add 10.98.0.1/24 dev "xi$$s"
in_ "$S" ip addr add fd98::1/64 dev "xi$$s" nodad
in_ "$C" ip addr add 10.98.0.2/24 dev "xi$$c"
in_ "$C" ip addr add 10.98.0.66/24 dev "xi$$c"
in_ "$C" ip addr add fd98::2/64 dev "xi$$c" nodad
in_ "$S" ip link set "xi$$s" up
in_ "$C" ip link set "xi$$c" up

# Someone else's firewall: Docker-like, fail2ban-like, a foreign set.
in_ "$S" sh -e -c '
	ipset create f2b-sshd hash:ip
	ipset add f2b-sshd 203.0.113.7
	iptables -N DOCKER
	iptables -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp --dport 80 -j ACCEPT
	iptables -A FORWARD -o docker0 -j DOCKER
	iptables -N f2b-sshd
	iptables -A f2b-sshd -m set --match-set f2b-sshd src -j REJECT --reject-with icmp-port-unreachable
	iptables -A f2b-sshd -j RETURN
	iptables -A INPUT -p tcp --dport 22 -j f2b-sshd
	ip6tables -N DOCKER
	ip6tables -A FORWARD -o docker0 -j DOCKER' || fail "co: foreign rules"
foreign() {	# everything but ours
	in_ "$S" iptables-save -t filter | grep -v '^#' | grep -v xfwco
	in_ "$S" ip6tables-save -t filter | grep -v '^#' | grep -v xfwco
	in_ "$S" ipset list f2b-sshd
}
foreign >"$T/f0"
if in_ "$S" sh "$T/co/out/load-iptables.sh" 2>"$T/err"; then
	ok "co: loader applies next to foreign rules"
else
	fail "co: loader: $(head -3 "$T/err")"
fi
foreign >"$T/f1"
in_ "$S" sh "$T/co/out/load-iptables.sh" 2>"$T/err" || fail "co: reload"
foreign >"$T/f2"
if cmp -s "$T/f0" "$T/f1" && cmp -s "$T/f0" "$T/f2"; then
	ok "co: foreign chains, rules and sets byte-identical after load and reload"
else
	fail "co: foreign state changed"; diff "$T/f0" "$T/f2" | head
fi
for t in iptables ip6tables; do
	for h in INPUT:IN OUTPUT:OUT FORWARD:FWD; do
		n=$(in_ "$S" $t -S "${h%%:*}" | grep -c -x -- \
		    "-A ${h%%:*} -j xfwco-${h#*:}")
		[ "$n" = 1 ] || fail "co: $t ${h%%:*} has $n jumps to xfwco-${h#*:}"
	done
done
ok "co: exactly one jump from each hook, first in INPUT: $(in_ "$S" iptables -S INPUT | sed -n 2p)"

# Traffic: the rules decide as the policy says.
for port in 22 5222 5223 8080; do
	ip netns exec "$S" socat TCP4-LISTEN:$port,fork,reuseaddr /dev/null \
	    </dev/null >/dev/null 2>&1 &
	pids="$pids $!"
done
ip netns exec "$S" socat TCP6-LISTEN:5222,fork,reuseaddr,ipv6only=1 \
    /dev/null </dev/null >/dev/null 2>&1 &
pids="$pids $!"
sleep 0.5
probe() {	# probe SRC DST PORT -> open | refused | timeout
	in_ "$C" socat -T 1 /dev/null \
	    "TCP:$2:$3,bind=$1,connect-timeout=1" >/dev/null 2>"$T/probe"
	if [ $? -eq 0 ]; then echo open
	elif grep -q -i refused "$T/probe"; then echo refused
	else echo timeout; fi
}
tr_check() {
	got=$(probe "$2" "$3" "$4")
	if [ "$got" = "$5" ]; then ok "traffic: $1 $got"
	else fail "traffic: $1 got $got, want $5"; fi
}
tr_check "admin to 22" 10.98.0.2 10.98.0.1 22 open
tr_check "5222" 10.98.0.2 10.98.0.1 5222 open
tr_check "5222 over IPv6" "[fd98::2]" "[fd98::1]" 5222 open
tr_check "5223 rejected (reset)" 10.98.0.2 10.98.0.1 5223 refused
tr_check "8080 dropped (default)" 10.98.0.2 10.98.0.1 8080 timeout
tr_check "denied source to 5222" 10.98.0.66 10.98.0.1 5222 timeout

# Roll-back: a later step fails; everything is as before.
state "$S" >"$T/r0"
policy 99 >"$P"
"$XFW" compile -o "$T/co/bad" "$P" >/dev/null || fail "co: compile 2"
sed -i 's/^COMMIT$/-A xfwco-nosuchchain -j ACCEPT\nCOMMIT/' \
    "$T/co/bad/ip6tables.rules"
if in_ "$S" sh "$T/co/bad/load-iptables.sh" 2>"$T/err"; then
	fail "rollback: the loader succeeded on a corrupt ip6tables.rules"
else
	ok "rollback: the loader fails on a corrupt ip6tables.rules ($(grep -c . "$T/err") lines on stderr)"
fi
state "$S" >"$T/r1"
if cmp -s "$T/r0" "$T/r1"; then
	ok "rollback: iptables-save, ip6tables-save, ipset list exactly as before"
else
	fail "rollback: state differs"; diff "$T/r0" "$T/r1" | head -20
fi
# A broken ipset step rolls back too (a foreign set of another type
# under one of our names makes the swap fail).
delns "$C"
newns "$N-r"
in_ "$N-r" ipset create xfwco-admin_v6 hash:ip family inet6
in_ "$N-r" iptables -N DOCKER
state "$N-r" >"$T/r2"
in_ "$N-r" sh "$T/co/out/load-iptables.sh" 2>"$T/err" &&
    fail "rollback: loader succeeded over a foreign set of our name"
state "$N-r" >"$T/r3"
if cmp -s "$T/r2" "$T/r3"; then
	ok "rollback: a failed ipset swap leaves the state exactly as before"
else
	fail "rollback (ipset): state differs"; diff "$T/r2" "$T/r3" | head -20
fi
# A failing ipset restore (a bad line after every set was created).
cp -r "$T/co/out" "$T/co/badset"
echo "add xfwco.t0_v4 not-an-address" >>"$T/co/badset/ipset.restore"
in_ "$N-r" ipset destroy xfwco-admin_v6
state "$N-r" >"$T/r4"
in_ "$N-r" sh "$T/co/badset/load-iptables.sh" 2>"$T/err" &&
    fail "rollback: loader succeeded on a corrupt ipset.restore"
state "$N-r" >"$T/r5"
if cmp -s "$T/r4" "$T/r5"; then
	ok "rollback: a failed ipset restore leaves the state exactly as before"
else
	fail "rollback (ipset restore): state differs"
	diff "$T/r4" "$T/r5" | head -20
fi
delns "$N-r"
# The changed policy loads cleanly, and its set change is swapped in.
in_ "$S" sh "$T/co/bad/../bad/load-iptables.sh" >/dev/null 2>&1
"$XFW" compile -o "$T/co/new" "$P" >/dev/null
if in_ "$S" sh "$T/co/new/load-iptables.sh" 2>"$T/err" &&
    in_ "$S" ipset test xfwco-admin_v4 192.0.2.99 2>/dev/null &&
    ! in_ "$S" ipset test xfwco-admin_v4 192.0.2.1 2>/dev/null &&
    [ -z "$(in_ "$S" ipset list -n | grep '^xfwco\.')" ]; then
	ok "reload: changed set swapped in, no temporary set left"
else
	fail "reload: $(head -2 "$T/err")"
fi
foreign >"$T/f3"
cmp -s "$T/f0" "$T/f3" && ok "co: foreign state intact after a changed policy" ||
    fail "co: foreign state changed by a changed policy"
# A rule that is gone leaves no stale log chain behind.
sed -i '/c2s-old/d' "$P"
"$XFW" compile -o "$T/co/new2" "$P" >/dev/null
in_ "$S" sh "$T/co/new2/load-iptables.sh" 2>"$T/err" || fail "reload 3"
if in_ "$S" iptables -S | grep -q -- '-N xfwco-L'; then
	fail "reload: stale log chain left"
else
	ok "reload: the log chain of a removed rule is deleted"
fi
delns "$S"

# --- compile-time limits -------------------------------------------------

lim() {	# name, expected message, policy text
	printf '%s\n' "$3" >"$T/lim.xfw"
	rm -rf "$T/lim-out"
	"$XFW" compile -o "$T/lim-out" "$T/lim.xfw" >/dev/null 2>"$T/err"
	rc=$?
	if [ $rc = 1 ] && grep -q "^$T/lim.xfw:[0-9]*:[0-9]*: error: .*$2" \
	    "$T/err" && [ -z "$(ls "$T/lim-out" 2>/dev/null)" ]; then
		ok "limit: $1 ($(head -1 "$T/err" | sed 's/.*error: //'))"
	else
		fail "limit: $1: rc $rc, $(head -2 "$T/err")"
	fi
}
long=$(printf '%0250d' 0)
lim "comment 256" "comment too long" "xfw 1
transport {
  allow in tcp port 22 comment \"$long\"
}"
lim "log prefix 29" "log prefix too long" "xfw 1
transport {
  deny in tcp port 22 log \"abcdefghijklmnopqrstuvwxyz012\"
}"
lim "ipset name 31" "ipset name" "xfw 1
option table \"sixteen_chars_ab\"
define addr a_rather_long_set = { 10.0.0.0/8 }
ip {
  deny in from \$a_rather_long_set
}"

# --- hostile strings and paths -------------------------------------------

H="$T/h o'st \$(touch $T/pwned) \`touch $T/pwned\`;#"
mkdir -p "$H"
cat >"$H/p.xfw" <<'EOF'
xfw 1
option log-prefix "x y"
define addr bad = { 10.97.0.0/24, 10.97.2.0/24, 10.97.4.0/24, 10.97.6.0/24, 10.97.8.0/24, 10.97.10.0/24, 10.97.12.0/24, 10.97.14.0/24, 10.97.16.0/24 }
transport {
  deny in tcp port 22 from $bad log comment "q\" $(touch /tmp/xfw-pwned) `touch /tmp/xfw-pwned` ; # ]]> \\ end"
  allow in tcp port 5222 comment "ok' || reboot"
}
EOF
newns "$N-h"
if "$XFW" compile -o "$H/out" "$H/p.xfw" >/dev/null 2>"$T/err" &&
    in_ "$N-h" sh "$H/out/load-iptables.sh" 2>"$T/err"; then
	ok "hostile: policy with hostile comments loads from a hostile path"
else
	fail "hostile: $(head -3 "$T/err")"
fi
in_ "$N-h" iptables-save -t filter >"$T/hs"
if [ ! -e "$T/pwned" ] && [ ! -e /tmp/xfw-pwned ] &&
    ! grep -q -e '\$(' -e '`' -e '\\' -e ';' "$T/hs" &&
    grep -q -- ':5 q_ _(touch /tmp/xfw-pwned) _touch /tmp/xfw-pwned_ _ _ ]]> _ end"' "$T/hs" &&
    grep -q "ok_ || reboot" "$T/hs"; then
	ok "hostile: nothing ran, nothing unescaped in the loaded rules"
else
	fail "hostile: escaping"; grep comment "$T/hs" | head -5
fi
delns "$N-h"

[ "$fails" -eq 0 ] && echo "ipt: all passed"
[ "$fails" -eq 0 ]
