#!/bin/sh
# tests/suites/nft.sh - the nftables text backend (-t nftables) against the
# real kernel, only inside private network namespaces made here (named
# xfwn-PID-N) and deleted on exit; the host's own ruleset is never read
# or touched.
#
# For every policy in policies/ and a few generated ones (every rule
# feature, a 100k-entry blocklist, hostile strings):
#   - the output is deterministic, and nft -c -f accepts it;
#   - nft -f loads it, and "xmppfwc diff" then finds the table that
#     "xmppfwc apply" would build (exit 0): the two backends agree;
#   - where no queue rule had to be stripped, "nft list ruleset" is the
#     same as after "xmppfwc apply" in another namespace;
#   - loading it twice gives the same table (nft list table identical).
# Then: foreign tables present before loading are byte-identical after
# loading and reloading; a stale version of our table is replaced whole;
# hostile strings come out filtered; a 1M-entry blocklist is one set and
# compiles fast.
#
# This kernel may lack nft's queue expression (see NOTES): then the
# "inspect queue" rules, and only those, are stripped before loading, and
# diff must report exactly those rules as missing.
set -u
: "${XFW:?set XFW to the xmppfwc binary}"
cd "$(dirname "$0")/../.." || exit 2
P=xfwn-$$
T=$(mktemp -d /tmp/xfwn.XXXXXX)
nsl=""
nsn=0
fails=0
n=0

cleanup() {
	for ns in $nsl; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
trap 'exit 1' PIPE

ok() { n=$((n + 1)); echo "ok nft $1"; }
fail() { n=$((n + 1)); fails=$((fails + 1)); echo "FAIL nft $1"; }
note() { echo "note: $*"; }

# A fresh namespace; its name in $NS.
newns() {
	nsn=$((nsn + 1))
	NS=$P-$nsn
	ip netns add "$NS" || { echo "FAIL nft: cannot add netns $NS"; exit 1; }
	nsl="$nsl $NS"
	ip netns exec "$NS" ip link set lo up
}
delns() {
	ip netns del "$1"
	nsl=$(echo "$nsl" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}
inns() { ns=$1; shift; ip netns exec "$ns" "$@"; }
now() { date +%s.%N; }
secs() { echo "$1 $2" | awk '{ printf "%.2f", $2 - $1 }'; }

if [ "$(id -u)" -ne 0 ] || ! command -v nft >/dev/null; then
	echo "FAIL nft: needs root and nft"
	exit 1
fi
if ! "$XFW" targets | grep -q '^nftables '; then
	echo "FAIL nft: this xmppfwc has no nftables target"
	exit 1
fi

# --- does this kernel have nft's queue expression? ------------------------
newns
printf 'table inet xfwq {\n chain c {\n  type filter hook input priority 0;\n  tcp dport 1 queue num 0 bypass\n }\n}\n' >"$T/q.nft"
if inns "$NS" nft -f "$T/q.nft" 2>"$T/q.err"; then
	QUEUE=1
	echo "   (this kernel has the nft queue expression: nothing is stripped)"
else
	QUEUE=0
	note "this kernel has no nft queue expression ($(head -1 "$T/q.err" |
	    sed 's/.*Error: //')):"
	note "the 'inspect queue' rules are stripped before loading, so the"
	note "inspect part (queueing to the helper) is NOT loaded or checked here."
fi
delns "$NS"

# Strip the queue rules when the kernel cannot load them: $1 -> $2,
# prints how many lines went.
strip_queue() {
	if [ "$QUEUE" = 1 ]; then
		cp "$1" "$2"
		echo 0
		return
	fi
	grep -v '^		.* queue num [0-9]*\( bypass\)\? comment "[^"]*"$' "$1" >"$2"
	echo $(($(wc -l <"$1") - $(wc -l <"$2")))
}
table_of() { sed -n 's/^table inet \([A-Za-z0-9_-]*\) {}$/\1/p' "$1"; }

# --- generated policies -----------------------------------------------------
mkdir -p "$T/gen"
# 100k IPv4 hosts that do not aggregate, plus 1000 IPv6 hosts.
awk 'BEGIN { for (i = 0; i < 100000; i++) { a = 2 * i + 1;
	printf "10.%d.%d.%d\n", int(a / 65536) % 256, int(a / 256) % 256,
	    a % 256 }
	for (i = 0; i < 1000; i++) printf "fd00:1::%x\n", 2 * i + 1 }' \
    >"$T/gen/block100k.txt"
cat >"$T/gen/big100k.xfw" <<'EOF'
xfw 1
option table "xfwbig"
define addr blocked = file "block100k.txt"
ip {
  deny in from $blocked log "blocked" count comment "100k blocklist"
  deny out to $blocked
}
transport {
  allow in tcp port xmpp-client
}
EOF
# Every rule feature the language has.
cat >"$T/gen/features.xfw" <<'EOF'
xfw 1
option table "xfwfeat"
option log-prefix "feat"
define addr hosts = { 192.0.2.1, 192.0.2.9, 2001:db8::1, 2001:db8::9 }
define addr nets = { 198.51.100.0/24, 2001:db8:100::/48 }
ip {
  deny in from { 10.0.0.1, 10.0.0.3 }
  deny in from { 10.1.0.0/16, 10.3.0.0/24, 172.16.0.0/12 }
  deny in from 10.0.0.0/8
  deny in from 100.64.0.0/10
  deny in from 100.100.9.0/24 to 192.0.2.0/31
  deny in from fd00::/48
  deny in from fd01::/49
  deny in from { fd02::1, fd02::3 }
  deny in from { fd03::/64, fd04::/63 }
  allow in on eth+ from 198.51.100.7
  deny forward on wlan0 to $hosts
  deny out to 10.0.0.0-10.0.0.5
  allow in icmp
  allow in icmpv6
  reject in from $nets
  default allow
}
transport {
  allow in tcp port { 22, 1000-2000 } from any port 1024-65535
  allow in udp port 5353 state new, established
  allow in tcp port 80 limit over 100/second burst 20 per destination
  allow in tcp port 81 limit 10/hour
  allow in tcp port 88 limit 10/second per source
  reject in tcp port 82 conn over 5 log
  reject in tcp port 87 conn over 5 per source
  allow in tcp port 83 log "my prefix" count comment "web thing"
  allow in port 84
  reject in udp port 85 state untracked
  allow in tcp, udp port 86 from { 10.0.0.1, 10.0.0.2, 10.0.0.4, 10.0.0.6, 10.0.0.8, 10.0.0.10, 10.0.0.12, 10.0.0.14, 10.0.0.16, 10.0.0.18 }
  reject in icmp
  deny forward tcp to 2001:db8::/32 port 25
  default in deny
  default out allow
  default forward reject
}
xmpp {
  inspect s2s queue 2 ports { xmpp-server, xmpps-server } {
    deny domain spam.example
    default allow
  }
  inspect c2s queue 3 fail-closed {
    deny string "<spam"
  }
}
EOF
# The same without inspect, so that apply can load it here too.
sed '/^xmpp {/,$d; s/xfwfeat/xfwfeat2/' "$T/gen/features.xfw" \
    >"$T/gen/features-noinspect.xfw"
# Prelude off.
cat >"$T/gen/bare.xfw" <<'EOF'
xfw 1
option table "xfwbare"
option loopback off
option established off
option drop-invalid off
option icmp-essential off
transport {
  allow in tcp port 5222 from 192.0.2.0/24
}
EOF
# Definitions named like the generated sets (sN, limitN, connN).
cat >"$T/gen/collide.xfw" <<'EOF'
xfw 1
option table "xfwcoll"
define addr limit0 = { 192.0.2.1, 192.0.2.3 }
define addr conn1 = { 192.0.2.5, 2001:db8::5 }
define addr s0 = { 192.0.2.7 }
transport {
  allow in tcp port 1 limit 1/second per source
  reject in tcp port 2 conn over 3 per source
  allow in tcp port 3 from $limit0
  allow in tcp port 4 from $conn1
  allow in tcp port 5 from $s0
}
EOF
# Hostile strings wherever the language lets text through.
cat >"$T/gen/hostile.xfw" <<'EOF'
xfw 1
option table "xfwhostile"
option log-prefix "<x>&|*?{}()[]!~"
ip {
  deny in from 192.0.2.1 comment "x\"; flush ruleset; # $(reboot) `id` ]]> \\\" 'q'" log
  deny in from 192.0.2.2 comment "}} } table ip evil { chain c { drop } } #" log "a{b}c(d)e[f]g|h&i*j?k!l~m"
  deny in from 192.0.2.3 comment "$HOME ${IFS} $((1+1)) \\ ; ; ;" count
  deny in from 192.0.2.4 comment "café Ω ∀x ↯ 日本語 text"
}
EOF
printf '  deny in from 192.0.2.5 comment "%s"\n}\n' "$(printf 'ü%.0s' $(seq 40))" \
    >"$T/gen/tail"
sed -i '$d' "$T/gen/hostile.xfw"
cat "$T/gen/tail" >>"$T/gen/hostile.xfw"

# --- every policy: deterministic, nft -c, load, diff, idempotent ----------
for pol in policies/*.xfw "$T"/gen/*.xfw; do
	name=$(basename "$pol" .xfw)
	if ! "$XFW" compile -t nftables -o "$T/$name.nft" "$pol" \
	    2>"$T/$name.err"; then
		fail "$name: compile -t nftables"; cat "$T/$name.err"
		continue
	fi
	"$XFW" compile -t nftables -o "$T/$name.2.nft" "$pol" 2>/dev/null
	if cmp -s "$T/$name.nft" "$T/$name.2.nft"; then
		ok "$name: deterministic"
	else
		fail "$name: two compiles differ"
	fi
	table=$(table_of "$T/$name.nft")
	stripped=$(strip_queue "$T/$name.nft" "$T/$name.load.nft")
	if [ "$stripped" -gt 0 ]; then
		note "$name: $stripped queue rule(s) stripped (no nft queue here)"
	fi
	newns
	t0=$(now)
	if inns "$NS" nft -c -f "$T/$name.load.nft" 2>"$T/$name.nfterr"; then
		ok "$name: nft -c -f accepts it ($(secs "$t0" "$(now)") s)"
	else
		fail "$name: nft -c -f"; head -5 "$T/$name.nfterr"
	fi
	if [ "$stripped" -gt 0 ]; then
		# The whole file: nft parses it, and the kernel refuses
		# exactly the queue rules and nothing else.
		inns "$NS" nft -c -f "$T/$name.nft" 2>"$T/$name.qerr"
		nerr=$(grep -c 'Error:' "$T/$name.qerr")
		nq=0
		for l in $(sed -n 's/^[^ ]*\.nft:\([0-9]*\):[0-9-]*: Error: Could not process rule: No such file or directory$/\1/p' \
		    "$T/$name.qerr"); do
			sed -n "${l}p" "$T/$name.nft" | grep -q ' queue num ' &&
			    nq=$((nq + 1))
		done
		if [ "$nerr" = "$stripped" ] && [ "$nq" = "$stripped" ]; then
			ok "$name: unstripped, nft -c refuses only the $nq queue rule(s)"
		else
			fail "$name: unstripped nft -c errors"
			head -6 "$T/$name.qerr"
		fi
	fi
	t0=$(now)
	if inns "$NS" nft -f "$T/$name.load.nft" 2>"$T/$name.nfterr"; then
		ok "$name: nft -f loads it ($(secs "$t0" "$(now)") s)"
	else
		fail "$name: nft -f"; head -5 "$T/$name.nfterr"
		delns "$NS"
		continue
	fi
	out=$(inns "$NS" "$XFW" diff "$pol" 2>&1); rc=$?
	if [ "$stripped" -eq 0 ]; then
		if [ "$rc/$out" = "0/" ]; then
			ok "$name: xmppfwc diff finds apply's table (exit 0)"
		else
			fail "$name: diff exit $rc"
			echo "$out" | head -20 | sed 's/^/# /'
		fi
	else
		# Exactly the stripped queue rules, nothing else.
		want=$(printf '%s\n' "$out" |
		    grep -c '^+ rule .* inspect queue in chain input$')
		lines=$(printf '%s\n' "$out" | grep -c .)
		if [ "$rc" = 1 ] && [ "$want" = "$stripped" ] &&
		    [ "$lines" = "$stripped" ]; then
			ok "$name: xmppfwc diff finds apply's table but the $stripped stripped queue rule(s)"
		else
			fail "$name: diff exit $rc"
			echo "$out" | head -20 | sed 's/^/# /'
		fi
	fi
	# Byte for byte as listed: apply in a second namespace (it cannot
	# load the queue rules either, so only where none were stripped).
	if [ "$stripped" -eq 0 ]; then
		NS1=$NS
		newns
		inns "$NS" "$XFW" apply -q "$pol" >/dev/null 2>&1
		inns "$NS" nft list ruleset >"$T/$name.viaApply"
		inns "$NS1" nft list ruleset >"$T/$name.viaNft"
		delns "$NS"
		NS=$NS1
		if cmp -s "$T/$name.viaApply" "$T/$name.viaNft"; then
			ok "$name: nft list ruleset identical after apply"
		else
			fail "$name: nft list ruleset differs from apply's"
			diff "$T/$name.viaNft" "$T/$name.viaApply" | head
		fi
	fi
	inns "$NS" nft list table inet "$table" >"$T/$name.l1"
	inns "$NS" nft -f "$T/$name.load.nft"
	inns "$NS" nft list table inet "$table" >"$T/$name.l2"
	if cmp -s "$T/$name.l1" "$T/$name.l2" &&
	    [ "$(inns "$NS" nft list tables)" = "table inet $table" ]; then
		ok "$name: loading twice is idempotent"
	else
		fail "$name: second load changed the table"
		diff "$T/$name.l1" "$T/$name.l2" | head
	fi
	delns "$NS"
done

# --- coexistence: foreign tables are left byte-identical ------------------
pol=policies/xmpp-server-edge.xfw
cat >"$T/foreign.nft" <<'EOF'
table inet other {
	set keep {
		type ipv4_addr
		flags interval
		elements = { 192.0.2.0/24, 198.51.100.7 }
	}
	chain c {
		type filter hook input priority -10; policy accept;
		ip saddr @keep counter accept comment "foreign rule"
		tcp dport 8080 drop
	}
}
table ip filter {
	chain INPUT {
		type filter hook input priority 0; policy accept;
		tcp dport 22 counter accept
	}
}
table ip xmppedge {
	chain same_name_other_family {
		udp dport 53 accept
	}
}
EOF
newns
inns "$NS" nft -f "$T/foreign.nft"
# A stale version of our own table, with objects the policy lacks.
printf 'table inet xmppedge {\n set stale { type ipv4_addr; }\n chain stale { drop; }\n chain input { type filter hook input priority 5; policy drop; }\n}\n' |
    inns "$NS" nft -f -
lf() {
	for t in "inet other" "ip filter" "ip xmppedge"; do
		inns "$NS" nft list table $t
	done
}
lf >"$T/foreign.before"
inns "$NS" nft -f "$T/xmpp-server-edge.load.nft"
lf >"$T/foreign.after1"
inns "$NS" nft -f "$T/xmpp-server-edge.load.nft"
lf >"$T/foreign.after2"
if cmp -s "$T/foreign.before" "$T/foreign.after1" &&
    cmp -s "$T/foreign.before" "$T/foreign.after2"; then
	ok "coexistence: inet other, ip filter, ip xmppedge byte-identical after load and reload"
else
	fail "coexistence"; diff "$T/foreign.before" "$T/foreign.after1"
fi
if [ "$(inns "$NS" nft list tables | sort | tr '\n' ' ')" = \
    "table inet other table inet xmppedge table ip filter table ip xmppedge " ]; then
	ok "coexistence: no table added or lost"
else
	fail "coexistence: tables: $(inns "$NS" nft list tables | tr '\n' ' ')"
fi
out=$(inns "$NS" "$XFW" diff "$pol" 2>&1)
if ! printf '%s' "$out" | grep -q stale &&
    [ "$(printf '%s' "$out" | grep -v 'inspect queue' | grep -c .)" = 0 ]; then
	ok "coexistence: the stale table was replaced whole (no stale set/chain)"
else
	fail "stale table"; echo "$out" | head | sed 's/^/# /'
fi
delns "$NS"

# --- hostile strings: filtered in the script and in the kernel ------------
h=$T/hostile.nft
# Outside comment lines: every quoted string is free of $ ` \ ' ; # and
# every line has balanced quotes.
bad=$(grep -v '^[[:space:]]*#' "$h" | awk '{
	n = gsub(/"/, "\"");
	if (n % 2) { print "unbalanced: " $0; next }
	s = $0
	while (match(s, /"[^"]*"/)) {
		q = substr(s, RSTART, RLENGTH)
		if (q ~ /[$`\\\047;#]/) print "unfiltered: " q
		s = substr(s, RSTART + RLENGTH)
	}
}')
if [ -z "$bad" ] && [ "$(grep -c ' comment "' "$h")" -ge 5 ]; then
	ok "hostile: no quote, \$, backtick, backslash, ';' or '#' inside any string"
else
	fail "hostile: $bad"
fi
# With the strings taken out, nothing of the injected text is left.
if [ -z "$(grep -v '^[[:space:]]*#' "$h" | sed 's/"[^"]*"//g' |
    grep 'flush\|evil\|reboot\|HOME\|\$\|`')" ]; then
	ok "hostile: the injected statements exist only inside comment strings"
else
	fail "hostile: injected text outside strings"
fi
if grep -q 'comment "[^"]*:5 x__ flush ruleset_ _ _(reboot) _id_ ]]> __ _q_"' "$h" &&
    grep -q 'log prefix "a{b}c(d)e\[f\]g|h&i\*j?k!l~m "' "$h" &&
    grep -q 'log prefix "<x>&|\*?{}()\[\]!~ "' "$h" &&
    grep -q 'comment "[^"]*:8 café Ω ∀x ↯ 日本語 text"' "$h"; then
	ok "hostile: comments and prefixes filtered as kern_text says, UTF-8 kept"
else
	fail "hostile: filtered text"; grep 'comment\|prefix' "$h" | head
fi
printf 'xfw 1\ntransport {\n  allow in tcp port 1 comment "%s"\n}\n' \
    "$(printf 'x%.0s' $(seq 130))" >"$T/long.xfw"
err=$("$XFW" compile -t nftables -o "$T/long.nft" "$T/long.xfw" 2>&1); rc=$?
case $rc/$err in
1/*"long.xfw:3:3: error: comment too long"*)
	if [ ! -e "$T/long.nft" ]; then
		ok "hostile: overlong comment is an error at the rule, nothing written"
	else
		fail "overlong comment: a file was written"
	fi ;;
*)	fail "overlong comment: $rc $err" ;;
esac

# Table names: the language refuses non-identifiers, kern_table nft
# keywords; either way an error and no file.
for tn in 'x;y' 'a b' meta counter; do
	printf 'xfw 1\noption table "%s"\n' "$tn" >"$T/tn.xfw"
	rm -f "$T/tn.nft"
	err=$("$XFW" compile -t nftables -o "$T/tn.nft" "$T/tn.xfw" 2>&1); rc=$?
	if [ $rc = 1 ] && [ ! -e "$T/tn.nft" ] &&
	    echo "$err" | grep -q 'tn.xfw[:0-9]*: error: .*table'; then
		ok "table name '$tn' refused, nothing written"
	else
		fail "table name '$tn': exit $rc: $err"
	fi
done

# --- a 1M-entry blocklist: one set, fast ----------------------------------
awk 'BEGIN { for (i = 0; i < 1000000; i++) { a = 2 * i + 1;
	printf "10.%d.%d.%d\n", int(a / 65536) % 256, int(a / 256) % 256,
	    a % 256 } }' >"$T/gen/block1m.txt"
sed 's/block100k/block1m/; s/xfwbig/xfw1m/' "$T/gen/big100k.xfw" \
    >"$T/gen/big1m.xfw"
t0=$(now)
"$XFW" compile -t nftables -o "$T/big1m.nft" "$T/gen/big1m.xfw"; rc=$?
t1=$(now)
el=$(secs "$t0" "$t1")
nsets=$(grep -c '^	set ' "$T/big1m.nft")
if [ $rc -eq 0 ] && [ "$nsets" = 1 ] &&
    grep -q '^	# .*, 1000000 entries$' "$T/big1m.nft" &&
    awk -v t="$el" 'BEGIN { exit !(t < 10) }'; then
	ok "1M-entry blocklist: one set, compiled in $el s ($(du -m "$T/big1m.nft" | cut -f1) MB)"
else
	fail "1M-entry blocklist: rc $rc, $nsets sets, $el s"
fi

echo "nft: $((n - fails)) passed, $fails failed"
[ $fails -eq 0 ]
