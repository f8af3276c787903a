#!/bin/sh
# tests/suites/apply.sh - "xmppfwc apply" / "xmppfwc diff" against the real
# kernel, inside two network namespaces joined by a veth pair:
#   S (10.99.0.1, fd99::1) runs the rules and the listeners,
#   C (10.99.0.2 and 10.99.0.66, fd99::2 and fd99::66) probes.
# Nothing outside the namespaces is touched; they go away on exit.
set -u
: "${XFW:?set XFW to the xmppfwc binary}"
S=xfwa-$$-s
C=xfwa-$$-c
R=xfwa-$$-r
T=$(mktemp -d /tmp/xfwa.XXXXXX)
pids=""
fails=0

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	ip netns del "$S" 2>/dev/null
	ip netns del "$C" 2>/dev/null
	ip netns del "$R" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

ok() { echo "ok $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
check() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1 (got '$2', want '$3')"; fi; }
inS() { ip netns exec "$S" "$@"; }
inC() { ip netns exec "$C" "$@"; }

if [ "$(id -u)" -ne 0 ] || ! ip netns add "$S" 2>/dev/null; then
	echo "FAIL apply: needs root and network namespaces"
	exit 1
fi
ip netns add "$C" && ip netns add "$R" || exit 1
ip link add xfwa$$s netns "$S" type veth peer name xfwa$$c netns "$C" ||
    exit 1
inS ip link set lo up
inC ip link set lo up
inS ip addr add 10.99.0.1/24 dev xfwa$$s
inS ip addr add fd99::1/64 dev xfwa$$s nodad
inC ip addr add 10.99.0.2/24 dev xfwa$$c
inC ip addr add 10.99.0.66/24 dev xfwa$$c
inC ip addr add fd99::2/64 dev xfwa$$c nodad
inC ip addr add fd99::66/64 dev xfwa$$c nodad
inS ip link set xfwa$$s up
inC ip link set xfwa$$c up

# Listeners in S: TCP on 5222, 5269, 8080, UDP on 5353 and 5354 (the
# datagrams land in files).
# (ip netns exec runs socat in place, so $! is the listener's PID.)
for port in 5222 5269 8080; do
	ip netns exec "$S" socat TCP4-LISTEN:$port,fork,reuseaddr /dev/null \
	    </dev/null >/dev/null 2>&1 &
	pids="$pids $!"
	ip netns exec "$S" socat TCP6-LISTEN:$port,fork,reuseaddr,ipv6only=1 \
	    /dev/null </dev/null >/dev/null 2>&1 &
	pids="$pids $!"
done
for port in 5353 5354; do
	ip netns exec "$S" socat -u UDP4-RECV:$port \
	    OPEN:"$T/udp4-$port",creat,append </dev/null >/dev/null 2>&1 &
	pids="$pids $!"
	ip netns exec "$S" socat -u UDP6-RECV:$port,ipv6only=1 \
	    OPEN:"$T/udp6-$port",creat,append </dev/null >/dev/null 2>&1 &
	pids="$pids $!"
done
sleep 0.5

P=$T/policy.xfw
cat >"$P" <<'EOF'
xfw 1
option table "xfwa"
define addr client = { 10.99.0.2, fd99::2 }
ip {
  deny in from { 10.99.0.66, fd99::66 }
  default allow
}
transport {
  allow in tcp port 5222
  reject in tcp port 5269
  allow in udp port 5353 from $client
  allow in icmp
  allow in icmpv6
  default in deny
}
EOF

# --- apply and nft list ----------------------------------------------------
out=$(inS "$XFW" apply "$P" 2>&1); rc=$?
check "apply: exit status" "$rc" 0
inS nft list table inet xfwa >"$T/list" 2>&1
if grep -q "tcp dport 5222 accept comment \"$P:9\"" "$T/list" &&
    grep -q "tcp dport 5269 goto refuse comment \"$P:10\"" "$T/list" &&
    grep -q "ip saddr @client_v4 udp dport 5353 accept comment \"$P:11\"" \
    "$T/list" &&
    grep -q "ip saddr 10.99.0.66 goto refuse\|ip saddr 10.99.0.66 drop" \
    "$T/list" &&
    grep -q "elements = { 10.99.0.2 }" "$T/list" &&
    grep -q "ct state { established, related } accept" "$T/list"; then
	ok "apply: nft list table shows the policy's rules and sets"
else
	fail "apply: nft list table"; sed 's/^/# /' "$T/list"
fi
# Only our table: nothing else appeared.
check "apply: one table" "$(inS nft list tables)" "table inet xfwa"

# The same ruleset as nft -f of the text backend, when this build has it.
if "$XFW" targets | grep -q '^nftables '; then
	"$XFW" compile -t nftables "$P" >"$T/p.nft" 2>/dev/null
	ip netns exec "$R" nft -f "$T/p.nft"
	ip netns exec "$R" nft list ruleset >"$T/viaNft"
	inS nft list ruleset >"$T/viaApply"
	if cmp -s "$T/viaNft" "$T/viaApply"; then
		ok "apply: nft list ruleset identical to nft -f of -t nftables"
	else
		fail "apply: differs from nft -f"
		diff "$T/viaNft" "$T/viaApply"
	fi
	out=$(ip netns exec "$R" "$XFW" diff "$P"); rc=$?
	check "diff: table loaded by nft -f equals the policy" "$rc/$out" "0/"
else
	echo "ok apply: nftables text target not in this build (skip nft -f comparison)"
fi

# --- traffic probes agree with explain ------------------------------------
probe_tcp() {	# from to port
	if [ "${1#*:}" != "$1" ]; then
		e=$(inC timeout 4 socat -u OPEN:/dev/null \
		    "TCP6:[$2]:$3,bind=[$1],connect-timeout=1.5" 2>&1)
	else
		e=$(inC timeout 4 socat -u OPEN:/dev/null \
		    "TCP4:$2:$3,bind=$1,connect-timeout=1.5" 2>&1)
	fi
	r=$?
	if [ $r -eq 0 ]; then echo allow
	elif echo "$e" | grep -q "refused"; then echo reject
	else echo deny
	fi
}
probe_udp() {	# from to port
	tok="t$$-$1-$3"
	if [ "${1#*:}" != "$1" ]; then
		echo "$tok" | inC socat -u - "UDP6-SENDTO:[$2]:$3,bind=[$1]"
		f=$T/udp6-$3
	else
		echo "$tok" | inC socat -u - "UDP4-SENDTO:$2:$3,bind=$1"
		f=$T/udp4-$3
	fi
	sleep 0.3
	if grep -q "$tok" "$f" 2>/dev/null; then echo allow; else echo deny; fi
}
probe_ping() {	# from to
	if inC ping -c 1 -W 1 -I "$1" "$2" >/dev/null 2>&1; then
		echo allow
	else
		echo deny
	fi
}
n=0
while read -r kind from to port; do
	case $kind in
	tcp) got=$(probe_tcp "$from" "$to" "$port") ;;
	udp) got=$(probe_udp "$from" "$to" "$port") ;;
	icmp) got=$(probe_ping "$from" "$to") ;;
	esac
	proto=$kind
	if [ "$kind" = icmp ] && [ "${from#*:}" != "$from" ]; then
		proto=icmpv6
	fi
	if [ "$kind" = icmp ]; then
		want=$("$XFW" explain "$P" in $proto from "$from" to "$to" |
		    head -1)
	else
		want=$("$XFW" explain "$P" in $proto from "$from" to "$to" \
		    port "$port" | head -1)
	fi
	n=$((n + 1))
	check "probe $kind $from -> $to ${port:-}: kernel agrees with explain ($want)" \
	    "$got" "$want"
done <<'EOF'
tcp 10.99.0.2 10.99.0.1 5222
tcp fd99::2 fd99::1 5222
tcp 10.99.0.2 10.99.0.1 5269
tcp fd99::2 fd99::1 5269
tcp 10.99.0.2 10.99.0.1 8080
tcp fd99::2 fd99::1 8080
tcp 10.99.0.66 10.99.0.1 5222
tcp fd99::66 fd99::1 5222
udp 10.99.0.2 10.99.0.1 5353
udp fd99::2 fd99::1 5353
udp 10.99.0.2 10.99.0.1 5354
udp 10.99.0.66 10.99.0.1 5353
icmp 10.99.0.2 10.99.0.1
icmp fd99::2 fd99::1
icmp 10.99.0.66 10.99.0.1
EOF

# --- idempotence and diff --------------------------------------------------
out=$(inS "$XFW" apply "$P"); rc=$?
check "apply again: no change" "$rc/$out" \
    "0/no change: table inet xfwa is up to date"
out=$(inS "$XFW" diff "$P"); rc=$?
check "diff after apply: empty, exit 0" "$rc/$out" "0/"

# Edit one rule in place (line 9) and one set element.
P2=$T/policy.xfw
cp "$P" "$T/orig.xfw"
sed -i 's/allow in tcp port 5222/allow in tcp port 5223/' "$P2"
out=$(inS "$XFW" diff "$P2"); rc=$?
check "diff after a rule edit: exit 1" "$rc" 1
check "diff lists exactly the edit" "$out" \
"- rule $P:9 in chain transport_input
+ rule $P:9 in chain transport_input"
cp "$T/orig.xfw" "$P"
sed -i 's/10.99.0.2, fd99::2/10.99.0.2, 10.99.0.5, fd99::2/' "$P"
out=$(inS "$XFW" diff "$P"); rc=$?
check "diff after a set edit: exactly one element" "$rc/$out" \
"1/+ element 10.99.0.5/32 in set client_v4"
out=$(inS "$XFW" apply --dry-run "$P"); rc=$?
check "apply --dry-run: exit 1, says what" "$rc/$out" \
"1/+ element 10.99.0.5/32 in set client_v4
would change"
cp "$T/orig.xfw" "$P"
out=$(inS "$XFW" diff "$P" 2>&1); rc=$?
check "dry-run changed nothing" "$rc" 0

# --- rollback and confirmation ---------------------------------------------
inS nft list ruleset >"$T/before"
sed -i 's/allow in tcp port 5222/allow in tcp port 5223/' "$P"
start=$(date +%s)
out=$(inS "$XFW" apply --confirm 2 "$P" </dev/null 2>&1); rc=$?
end=$(date +%s)
check "apply --confirm 2 without confirmation: exit 3" "$rc" 3
inS nft list ruleset >"$T/after"
if cmp -s "$T/before" "$T/after"; then
	ok "rollback restores the previous ruleset exactly ($((end - start)) s)"
else
	fail "rollback"; diff "$T/before" "$T/after"
fi
inS "$XFW" apply --confirm 20 "$P" </dev/null >"$T/confirm.out" 2>&1 &
cpid=$!
sleep 1
out=$(inS "$XFW" apply --confirm-ok 2>&1); rc=$?
check "apply --confirm-ok from another shell" "$rc" 0
wait $cpid; rc=$?
check "confirmed apply keeps the new table" "$rc/$(inS "$XFW" diff "$P")" "0/"
cp "$T/orig.xfw" "$P"
inS "$XFW" apply -q "$P" >/dev/null

# --- a batch the kernel refuses ---------------------------------------------
inS nft list ruleset >"$T/before"
cat >"$T/queue.xfw" <<'EOF'
xfw 1
option table "xfwa"
transport {
  allow in tcp port 5222
}
xmpp {
  inspect s2s queue 1 ports 5269 {
    deny string "<script"
    default allow
  }
}
EOF
err=$(inS "$XFW" apply "$T/queue.xfw" 2>&1 >/dev/null); rc=$?
check "refused batch: exit 3" "$rc" 3
case $err in
"$T/queue.xfw:7:3: error: kernel rejected rule in chain input: No such file or directory (this kernel has no nft queue expression"*)
	ok "refusal points at the policy line (queue.xfw:7:3)" ;;
*)	fail "refusal message: $err" ;;
esac
inS nft list ruleset >"$T/after"
if cmp -s "$T/before" "$T/after"; then
	ok "refused batch leaves the running ruleset intact"
else
	fail "refused batch changed the ruleset"
fi

# --- anti-lockout -----------------------------------------------------------
err=$(SSH_CONNECTION="10.99.0.66 40000 10.99.0.1 22" \
    inS "$XFW" apply "$T/orig.xfw" 2>&1); rc=$?
# The prelude keeps the running session (established); a new connection
# from that client is what the ip layer's deny would cut.
check "anti-lockout: refuses a policy that drops the SSH client" "$rc" 3
case $err in
*"$T/orig.xfw:5:3: error: this policy would deny a new SSH connection"*)
	ok "anti-lockout names the rule" ;;
*)	fail "anti-lockout message: $err" ;;
esac
cat >"$T/ssh.xfw" <<'EOF'
xfw 1
option table "xfwa"
transport {
  allow in tcp port ssh from 10.99.0.2
  default in deny
}
EOF
out=$(SSH_CONNECTION="10.99.0.2 40000 10.99.0.1 22" \
    inS "$XFW" apply -q "$T/ssh.xfw" 2>&1); rc=$?
check "anti-lockout: lets a policy that keeps SSH through" "$rc" 0
cat >"$T/nossh.xfw" <<'EOF'
xfw 1
option table "xfwa"
option established off
transport {
  allow in tcp port 5222
  default in deny
}
EOF
out=$(SSH_CONNECTION="10.99.0.2 40000 10.99.0.1 22" \
    inS "$XFW" apply "$T/nossh.xfw" 2>&1); rc=$?
check "anti-lockout: established off + no ssh rule is refused" "$rc" 3
out=$(SSH_CONNECTION="10.99.0.2 40000 10.99.0.1 22" \
    inS "$XFW" apply --force -q "$T/nossh.xfw" 2>&1); rc=$?
check "anti-lockout: --force applies" "$rc" 0

# --- -I DIR: a policy that includes from a shared directory ----------------
mkdir -p "$T/site" "$T/shared"
cat >"$T/shared/lists.xfw" <<'EOF'
define addr admins = { 10.99.0.2 }
EOF
cat >"$T/site/p.xfw" <<'EOF'
xfw 1
option table "xfwi"
include "../shared/lists.xfw"
transport {
  allow in tcp port ssh from $admins
}
EOF
err=$(inS "$XFW" diff "$T/site/p.xfw" 2>&1); rc=$?
check "diff without -I refuses an include outside the policy's root" "$rc" 1
case $err in
*"outside"*) ok "the refusal says why" ;;
*)	fail "refusal message: $err" ;;
esac
inS "$XFW" apply -q -I "$T/shared" "$T/site/p.xfw" >/dev/null 2>&1; rc=$?
check "apply -I DIR loads it" "$rc" 0
inS "$XFW" diff -I "$T/shared" "$T/site/p.xfw" >/dev/null 2>&1; rc=$?
check "diff -I DIR after apply: no change" "$rc" 0
inS nft delete table inet xfwi

if [ $fails -ne 0 ]; then
	echo "apply: $fails failure(s)"
	exit 1
fi
exit 0
