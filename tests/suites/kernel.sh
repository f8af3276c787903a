#!/bin/sh
# tests/suites/kernel.sh - the differential traffic test: the kernel
# rulesets do what the model says.
#
# For each policy (policies/*.xfw and tests/data/kernel/*.xfw), build/kprobes
# prints a probe set with the model evaluator's verdict for each probe (the
# policy's packet expects, and probes at every ip/transport rule's
# boundaries).  The policy is then loaded in a server namespace S by each
# loader in turn:
#   apply    xmppfwc apply (libnftnl)
#   nft      nft -f of xmppfwc compile -t nftables
#   iptables sh DIR/load-iptables.sh after xmppfwc compile -o DIR
# and build/kprobe sends every probe as real traffic: inbound from a
# client namespace C to S over a veth pair, outbound from S to C, and
# forwarded from C through S (a router) to a third namespace D, with
# responders on every probe port.  Every observed verdict must equal the
# model's; a disagreement is printed with the probe and the place in the
# policy that decided.  Each loader gets fresh namespaces (no rules, sets
# or conntrack entries survive from the one before: the flush).
# limits.xfw also gets bursts of real connections against its rate and
# connection limits (per source, per destination and in all; in fresh
# namespaces, so no probe has taken a token), and a mutant ruleset checks
# that the test can fail.
# This kernel has no nft queue statement: policies with inspect blocks lose
# them for apply, and the nft -f script loses its queue rules only (the
# accept_input chain the layers go to stays); iptables loads NFQUEUE with
# bypass.
#
# Nothing outside the namespaces this suite creates is touched.
set -u
: "${XFW:?set XFW to the xmppfwc binary}"
top=$(cd "$(dirname "$0")/../.." && pwd)
bd=$(dirname "$XFW")
KPS=$bd/kprobes
KP=$bd/kprobe
T=$(mktemp -d /tmp/xfwk.XXXXXX)
S=xfwk-$$-s
C=xfwk-$$-c
D=xfwk-$$-d
VS=xk$$s
VC=xk$$c
VF=xkfar0
VD=xk$$d
pids=""
fails=0
t0=$(date +%s.%N)

cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	ip netns del "$S" 2>/dev/null
	ip netns del "$C" 2>/dev/null
	ip netns del "$D" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

ok() { echo "ok $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
note() { echo "# $*"; }

if [ "$(id -u)" -ne 0 ]; then
	echo "FAIL kernel: needs root and network namespaces"
	exit 1
fi
if [ ! -x "$KPS" ] || [ ! -x "$KP" ]; then
	(cd "$top" && make -s B="$bd" "$KPS" "$KP") >/dev/null 2>&1 ||
	    { echo "FAIL kernel: cannot build $KPS and $KP"; exit 1; }
fi

# --- namespaces -------------------------------------------------------------

# ns_up PROBEFILE: fresh S and C, joined by a veth pair; S's end is named
# after the policy's interface; every address of the probe set on its side
# (/32, /128 nodad), on-link default routes, static neighbours (no ARP or
# neighbour discovery for the rules to get in the way of), no ICMP rate
# limits, and a responder on every probe port in both.
ns_up() {
	f=$1
	ifc=$(sed -n 's/^iface //p' "$f")
	ip netns add "$S" && ip netns add "$C" && ip netns add "$D" || return 1
	ip link add "$VS" netns "$S" type veth peer name "$VC" netns "$C" ||
	    return 1
	ip link add "$VF" netns "$S" type veth peer name "$VD" netns "$D" ||
	    return 1
	ip -n "$S" link set "$VS" name "$ifc" || return 1
	ip netns exec "$S" sysctl -qw net.ipv4.ip_forward=1 \
	    net.ipv6.conf.all.forwarding=1 net.ipv4.conf.all.rp_filter=0 \
	    net.ipv4.conf.default.rp_filter=0 >/dev/null
	for n in "$S" "$C" "$D"; do
		ip -n "$n" link set lo up
		ip netns exec "$n" sysctl -qw net.ipv4.icmp_ratelimit=0 \
		    net.ipv6.icmp.ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 \
		    net.ipv4.icmp_msgs_burst=100000 >/dev/null 2>&1
	done
	macS=$(ip -n "$S" -o link show "$ifc" | sed -n 's/.*link\/ether \([^ ]*\).*/\1/p')
	macC=$(ip -n "$C" -o link show "$VC" | sed -n 's/.*link\/ether \([^ ]*\).*/\1/p')
	macF=$(ip -n "$S" -o link show "$VF" | sed -n 's/.*link\/ether \([^ ]*\).*/\1/p')
	macD=$(ip -n "$D" -o link show "$VD" | sed -n 's/.*link\/ether \([^ ]*\).*/\1/p')
	awk -v ifc="$ifc" -v vc="$VC" -v ms="$macS" -v mc="$macC" -v d="$T" \
	    -v vf="$VF" -v vd="$VD" -v mf="$macF" -v md="$macD" '
	    $1 == "addr" {
		v6 = index($3, ":") > 0
		if ($2 == "server") {
			print "addr add " $3 (v6 ? "/128 nodad" : "/32") \
			    " dev " ifc > (d "/ipS")
			print "neigh add " $3 " lladdr " ms " dev " vc \
			    " nud permanent" > (d "/ipC")
		} else if ($2 == "client") {
			print "addr add " $3 (v6 ? "/128 nodad" : "/32") \
			    " dev " vc > (d "/ipC")
			print "neigh add " $3 " lladdr " mc " dev " ifc \
			    " nud permanent" > (d "/ipS")
			print "neigh add " $3 " lladdr " mf " dev " vd \
			    " nud permanent" > (d "/ipD")
		} else {
			# dest: beyond S, which routes to it
			print "addr add " $3 (v6 ? "/128 nodad" : "/32") \
			    " dev " vd > (d "/ipD")
			print "route add " $3 " dev " vf > (d "/ipS")
			print "neigh add " $3 " lladdr " md " dev " vf \
			    " nud permanent" > (d "/ipS")
			print "neigh add " $3 " lladdr " ms " dev " vc \
			    " nud permanent" > (d "/ipC")
		}
	    }' "$f"
	touch "$T/ipS" "$T/ipC" "$T/ipD"
	ip -n "$S" link set "$ifc" up && ip -n "$C" link set "$VC" up &&
	    ip -n "$S" link set "$VF" up && ip -n "$D" link set "$VD" up ||
	    return 1
	ip -n "$S" -batch "$T/ipS" && ip -n "$C" -batch "$T/ipC" &&
	    ip -n "$D" -batch "$T/ipD" || return 1
	ip -n "$S" route add default dev "$ifc" &&
	    ip -n "$S" -6 route add default dev "$ifc" &&
	    ip -n "$C" route add default dev "$VC" &&
	    ip -n "$C" -6 route add default dev "$VC" &&
	    ip -n "$D" route add default dev "$VD" &&
	    ip -n "$D" -6 route add default dev "$VD" || return 1
	rm -f "$T/ipS" "$T/ipC" "$T/ipD" "$T/readyS" "$T/readyC" "$T/readyD"
	ip netns exec "$S" "$KP" serve "$f" "$T/readyS" in &
	pids="$pids $!"
	ip netns exec "$C" "$KP" serve "$f" "$T/readyC" out &
	pids="$pids $!"
	ip netns exec "$D" "$KP" serve "$f" "$T/readyD" forward &
	pids="$pids $!"
	i=0
	while [ ! -s "$T/readyS" ] || [ ! -s "$T/readyC" ] ||
	    [ ! -s "$T/readyD" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.05
	done
	return 0
}

ns_down() {
	for p in $pids; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	pids=""
	ip netns del "$S" 2>/dev/null
	ip netns del "$C" 2>/dev/null
	ip netns del "$D" 2>/dev/null
}

# --- policies -----------------------------------------------------------------

# strip_inspect SRC DST: DST is SRC without its inspect blocks and stream
# expects (this kernel has no nft queue statement); the lines are blanked,
# not removed, so rule lines keep their numbers.
strip_inspect() {
	awk '
	    depth > 0 {
		n = gsub(/\{/, "{"); m = gsub(/\}/, "}")
		depth += n - m; print ""; next
	    }
	    /^[ \t]*inspect[ \t]/ {
		n = gsub(/\{/, "{"); m = gsub(/\}/, "}")
		depth = n - m; print ""; next
	    }
	    /^[ \t]*expect[ \t]+[a-z]+[ \t]+stream/ { print ""; next }
	    { print }' "$1" >"$2"
}

# load LOADER POLICY: load POLICY in S; prints "skip: why" when this
# build has no such loader.
load() {
	case $1 in
	apply)
		ip netns exec "$S" "$XFW" apply -q --force "$2" 2>&1 ;;
	nft)
		if ! "$XFW" compile -t nftables "$2" >"$T/ruleset.nft" \
		    2>"$T/err"; then
			if grep -qi "unknown target\|no target\|target" \
			    "$T/err"; then
				echo "skip: $(head -1 "$T/err")"
				return 0
			fi
			cat "$T/err"
			return 1
		fi
		# This kernel has no nft queue statement: only the queue
		# rules go, the rest of the inspect plumbing (accept_input)
		# is loaded and probed.
		grep -v ' queue num [0-9]*\( bypass\)\? comment "[^"]*"$' \
		    "$T/ruleset.nft" >"$T/ruleset.load.nft"
		ip netns exec "$S" nft -f "$T/ruleset.load.nft" 2>&1 ;;
	iptables)
		rm -rf "$T/out"
		if ! "$XFW" compile -o "$T/out" "$2" >"$T/err" 2>&1; then
			cat "$T/err"
			return 1
		fi
		if [ ! -f "$T/out/load-iptables.sh" ]; then
			echo "skip: compile -o writes no load-iptables.sh" \
			    "(no iptables loader in this build)"
			return 0
		fi
		ip netns exec "$S" sh "$T/out/load-iptables.sh" 2>&1 ;;
	esac
}

# check_limits LOADER: bursts of real connections against limits.xfw.
check_limits() {
	src=45.250.0.9 src2=45.250.0.10
	got=$(ip netns exec "$C" "$KP" burst $src "$srv" 7001 5 hold 600)
	if [ "$got" = "AAARR" ]; then
		ok "kernel: $1: conn over 3 per source: 3 held open, the 4th and 5th are reset ($got)"
	else
		fail "kernel: $1: conn over 3 per source: got $got, want AAARR (limits.xfw:8)"
	fi
	got=$(ip netns exec "$C" "$KP" burst $src "$srv" 7002 9 close 600)
	if [ "$got" = "AAAAADDDD" ]; then
		ok "kernel: $1: limit 3/minute burst 5 per source: 5 accepted, the excess dropped ($got)"
	else
		fail "kernel: $1: limit 3/minute burst 5 per source: got $got, want AAAAADDDD (limits.xfw:12)"
	fi
	got=$(ip netns exec "$C" "$KP" burst 45.250.0.10 "$srv" 7002 2 close 600)
	if [ "$got" = "AA" ]; then
		ok "kernel: $1: the rate limit is per source (another source: $got)"
	else
		fail "kernel: $1: the rate limit is per source: another source got $got, want AA"
	fi
	got=$(ip netns exec "$C" "$KP" burst $src "$srv" 7003 8 close 600)
	if [ "$got" = "AAAAARRR" ]; then
		ok "kernel: $1: limit over 3/minute burst 5 per source: the excess reset ($got)"
	else
		fail "kernel: $1: limit over 3/minute burst 5 per source: got $got, want AAAAARRR (limits.xfw:14)"
	fi
	# per destination: two sources share the bucket of one server
	# address (3 + 4 connects: 5 pass), a second address has its own.
	got=$(ip netns exec "$C" "$KP" burst $src "$srv" 7010 3 close 600)
	got=$got+$(ip netns exec "$C" "$KP" burst $src2 "$srv" 7010 4 close 600)
	if [ "$got" = "AAA+AADD" ]; then
		ok "kernel: $1: limit 3/minute burst 5 per destination: two sources share one bucket ($got)"
	else
		fail "kernel: $1: limit 3/minute burst 5 per destination: two sources to $srv got $got, want AAA+AADD (limits.xfw:18)"
	fi
	got=$(ip netns exec "$C" "$KP" burst $src "$srv2" 7010 6 close 600)
	if [ "$got" = "AAAAAD" ]; then
		ok "kernel: $1: limit per destination: another server address has its own bucket ($got)"
	else
		fail "kernel: $1: limit per destination: $srv2 got $got, want AAAAAD (limits.xfw:18)"
	fi
	# conn over 3 in all: 3 held open from one source, then another
	# source is refused, and one of the other family too (one burst:
	# the count must not see connections of an earlier one).
	got=$(ip netns exec "$C" "$KP" burst $src,$src,$src,$src2,$src6 \
	    "$srv,$srv,$srv,$srv,$srv6" 7011 5 hold 600)
	if [ "${got%?}" = "AAAR" ]; then
		ok "kernel: $1: conn over 3: 3 held open from one source, another source is reset (${got%?})"
	else
		fail "kernel: $1: conn over 3: got ${got%?}, want AAAR (3 from $src held, then $src2) (limits.xfw:20)"
	fi
	expect_got "$1" "conn over 3: the count is per family (3 IPv4 held, then $src6 connects)" \
	    "${got#????}" A "limits.xfw:20"
	# limit 3/minute burst 5 in all: two sources share one bucket, and
	# a source of the other family too.
	got=$(ip netns exec "$C" "$KP" burst $src "$srv" 7012 3 close 600)
	got=$got+$(ip netns exec "$C" "$KP" burst $src2 "$srv" 7012 4 close 600)
	if [ "$got" = "AAA+AADD" ]; then
		ok "kernel: $1: limit 3/minute burst 5: two sources share one bucket ($got)"
	else
		fail "kernel: $1: limit 3/minute burst 5: got $got, want AAA+AADD (3 from $src, 4 from $src2) (limits.xfw:23)"
	fi
	got=$(ip netns exec "$C" "$KP" burst $src6 "$srv6" 7012 1 close 600)
	expect_got "$1" "limit 3/minute burst 5: the bucket is per family ($src6 after the IPv4 bursts)" \
	    "$got" A "limits.xfw:23"
	# The same with sources of both families in the rule: a kernel rule,
	# a bucket and a count per family.
	got=$(ip netns exec "$C" "$KP" burst $src "$srv" 7013 3 close 600)
	got=$got+$(ip netns exec "$C" "$KP" burst $src6 "$srv6" 7013 4 close 600)
	expect_got "$1" "limit 3/minute burst 5 from IPv4 and IPv6 prefixes: a bucket per family (3 IPv4, then 4 IPv6)" \
	    "$got" AAA+AAAA "limits.xfw:26"
	got=$(ip netns exec "$C" "$KP" burst $src,$src,$src,$src6 \
	    "$srv,$srv,$srv,$srv6" 7014 4 hold 600)
	expect_got "$1" "conn over 3 from IPv4 and IPv6 prefixes: a count per family (3 IPv4 held, then IPv6)" \
	    "$got" AAAA "limits.xfw:27"
}

# expect_got LOADER WHAT GOT WANT WHERE
expect_got() {
	if [ "$3" = "$4" ]; then
		ok "kernel: $1: $2 ($3)"
	else
		fail "kernel: $1: $2: got $3, want $4 ($5)"
	fi
}

# run_probes: every probe of $T/probes, inbound from C and outbound from
# S at once; sets n (probes), a (agreed), obs; disagreements in $T/dis.
run_probes() {
	ip netns exec "$C" "$KP" run "$T/probes" in 1000 >"$T/in.out" &
	cpid=$!
	ip netns exec "$C" "$KP" run "$T/probes" forward 1000 >"$T/fwd.out" &
	fpid=$!
	ip netns exec "$S" "$KP" run "$T/probes" out 1000 >"$T/out.out"
	wait $cpid
	wait $fpid
	cat "$T/in.out" "$T/out.out" "$T/fwd.out" >"$T/all.out"
	n=$(awk '/probes, .* agreed;/ { n += $1 } END { print n + 0 }' "$T/all.out")
	a=$(awk '/probes, .* agreed;/ { a += $3 } END { print a + 0 }' "$T/all.out")
	obs=$(awk '/probes, .* agreed;/ { x += $6; y += $8; z += $10; r += $12 } END { printf "%d allow, %d deny, %d reject; %d sent again", x, y, z, r }' "$T/all.out")
	grep '^DISAGREE' "$T/all.out" >"$T/dis"
	total_probes=$((total_probes + n))
	total_agreed=$((total_agreed + a))
}

# A generated policy with large sets: 20000 IPv4 and 2000 IPv6 addresses
# two apart (nothing aggregates; the neighbours of each are outside), a
# port list longer than a multiport match takes, and inline address sets
# just under and over the size that makes a named set.
mkdir -p "$T/gen"
awk 'BEGIN {
	for (i = 0; i < 20000; i++)
		printf "11.%d.%d.%d\n", int(i / 32768), int(i / 128) % 256, (i % 128) * 2
	for (i = 0; i < 2000; i++)
		printf "2001:db8:77::%x\n", i * 2
}' >"$T/gen/big.txt"
cat >"$T/gen/bigsets.xfw" <<'EOF'
# bigsets.xfw - generated by tests/suites/kernel.sh
xfw 1
option table "xfwk"
define addr big = file "big.txt"
define port many = { 1001, 1003, 1005-1007, 1010, 1012, 1014-1020, 1030, 1040,
	1050-1059, 1061, 1063, 1065, 1067, 1069, 1071, 1073, 1075, 1077, 1079,
	1081-1090, 1100 }
ip {
	deny in from $big
	reject out to $big
}
transport {
	allow in tcp, udp port $many
	reject in tcp port 5000 from { 12.0.0.1, 12.0.0.3, 12.0.0.5, 12.0.0.7,
		12.0.0.9, 12.0.0.11, 12.0.0.13, 12.0.0.15 }
	allow in tcp port 5000 from { 12.0.1.1, 12.0.1.3, 12.0.1.5, 12.0.1.7,
		12.0.1.9, 12.0.1.11, 12.0.1.13, 12.0.1.15, 12.0.1.17 }
	default in deny
}
EOF

total_probes=0
total_agreed=0
for pol in "$top"/policies/*.xfw "$top"/tests/data/kernel/*.xfw \
    "$T/gen/bigsets.xfw"; do
	name=$(basename "$pol")
	reld=$(dirname "${pol#"$top"/}")
	# A copy of the policy's directory, so a stripped policy keeps its
	# includes and list files.
	rm -rf "$T/pol"
	mkdir -p "$T/pol"
	cp -r "$(dirname "$pol")"/. "$T/pol/"
	P=$T/pol/$name
	Pn=$P
	stripped=""
	if grep -q '^[[:space:]]*inspect[[:space:]]' "$pol"; then
		Pn=$T/pol/stripped-$name
		strip_inspect "$pol" "$Pn"
		stripped=yes
		note "$name: inspect blocks stripped for apply, queue" \
		    "rules stripped from the nft -f script (this kernel has" \
		    "no nft queue statement); iptables loads the policy as" \
		    "written (NFQUEUE with bypass)"
	fi
	if ! "$KPS" "$Pn" >"$T/probes" 2>"$T/err"; then
		fail "kernel: $name: kprobes: $(head -3 "$T/err")"
		continue
	fi
	note "$name: $(sed -n 's/^# \([0-9]* probes.*\)/\1/p' "$T/probes")"
	srv=$(awk '$1 == "addr" && $2 == "server" && $3 !~ /:/ { print $3; exit }' "$T/probes")
	srv6=$(awk '$1 == "addr" && $2 == "server" && $3 ~ /:/ { print $3; exit }' "$T/probes")
	srv2=45.250.1.1 src6=2a0b:0:250::9
	for loader in apply nft iptables; do
		lp=$Pn
		[ "$loader" != apply ] && lp=$P
		probes=$T/probes
		if [ "$name" = limits.xfw ]; then
			# The burst sources and a server address.
			probes=$T/probes.lim
			{ cat "$T/probes"
			  echo "addr client 45.250.0.9"
			  echo "addr client 45.250.0.10"
			  echo "addr client $src6"
			  echo "addr server $srv2"
			} >"$probes"
		fi
		if ! ns_up "$probes"; then
			fail "kernel: $name: $loader: namespace set-up failed"
			ns_down
			continue
		fi
		out=$(load "$loader" "$lp"); rc=$?
		case $out in
		skip:*)
			echo "ok kernel: $name: $loader: ${out#skip: } (skip)"
			ns_down
			continue ;;
		esac
		if [ $rc -ne 0 ]; then
			fail "kernel: $name: $loader: load failed: $out"
			ns_down
			continue
		fi
		run_probes
		echo "kernel: $name: $loader: $n probes, $a agreed (observed $obs)"
		if [ "$n" -gt 0 ] && [ "$n" = "$a" ]; then
			ok "kernel: $name: $loader agrees with the model"
		else
			fail "kernel: $name: $loader: $((n - a)) disagreement(s)"
			sed -n '/^DISAGREE/p' "$T/dis" |
			    sed "s|$T/pol/stripped-|$reld/|g; s|$T/pol/|$reld/|g; s/^/#   $loader: /"
		fi
		ns_down
		# The limit bursts get fresh namespaces: the probes above
		# took tokens from the buckets the bursts count on (a global
		# or per-destination one is shared with the probes' sources).
		if [ "$name" = limits.xfw ]; then
			if ! ns_up "$probes"; then
				fail "kernel: $name: $loader: namespace set-up failed (limits)"
			elif ! out=$(load "$loader" "$lp"); then
				fail "kernel: $name: $loader: load failed (limits): $out"
			else
				check_limits "$loader"
			fi
			ns_down
		fi
	done
done

# --- negative control: the oracle sees a wrong ruleset ----------------------
# Load a mutant of constructs.xfw (one port range one wider, one reject
# made a deny) against the probes of the real one: exactly the probes of
# those two edges must disagree.
K=$top/tests/data/kernel/constructs.xfw
sed 's/allow in udp port 3478-3480 from/allow in udp port 3478-3481 from/
    s/^\treject in tcp port 25$/\tdeny in tcp port 25/' "$K" >"$T/mutant.xfw"
"$KPS" "$K" >"$T/probes" 2>/dev/null
tp=$total_probes ta=$total_agreed
if ! ns_up "$T/probes"; then
	fail "kernel: negative control: namespace set-up failed"
elif ! out=$(load apply "$T/mutant.xfw"); then
	fail "kernel: negative control: load failed: $out"
else
	run_probes
	bad=$(grep -cv ' -> [^ ]*:\(3481\|25\) ' "$T/dis")
	if [ "$a" -lt "$n" ] && [ "$bad" -eq 0 ]; then
		ok "kernel: negative control: a mutant ruleset disagrees on exactly the mutated edges ($((n - a)) of $n probes)"
	else
		fail "kernel: negative control: mutant: $n probes, $a agreed, $bad unexpected"
		sed 's/^/#   mutant: /' "$T/dis"
	fi
fi
ns_down
total_probes=$tp total_agreed=$ta

t1=$(date +%s.%N)
echo "kernel: $total_probes probes in all, $total_agreed agreed; runtime $(echo "$t1 $t0" | awk '{ printf "%.1f", $1 - $2 }') s"
if [ $fails -ne 0 ]; then
	echo "kernel: $fails failure(s)"
	exit 1
fi
exit 0
