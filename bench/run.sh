#!/bin/sh
# make bench: wall time and peak memory of xmppfwc check and -t json on
# generated policies, then every other bench/*.sh (the backends' figures).
# Figures, not pass/fail: goals are read by people, not asserted.
set -eu
XFW=${1:-build/xmppfwc}
XFW=$(cd "$(dirname "$XFW")" && pwd)/$(basename "$XFW")
here=$(cd "$(dirname "$0")" && pwd)
out="$here/out"
mkdir -p "$out"
cd "$out"

gen_addrs() {	# N FILE: N distinct IPv4 /32s and /24s, some IPv6
	awk -v n="$1" 'BEGIN {
		for (i = 0; i < n; i++) {
			if (i % 10 == 9)
				printf "2001:db8:%x:%x::/64\n", int(i / 65536), i % 65536
			else if (i % 7 == 0)
				printf "%d.%d.%d.0/24\n", 11 + int(i / 65536) % 200, int(i / 256) % 256, i % 256
			else
				printf "%d.%d.%d.%d\n", 11 + int(i / 16777216), int(i / 65536) % 256, int(i / 256) % 256, i % 256
		}
	}' > "$2"
}

[ -f addrs-10k.txt ] || gen_addrs 10000 addrs-10k.txt
[ -f addrs-100k.txt ] || gen_addrs 100000 addrs-100k.txt
[ -f addrs-1M.txt ] || gen_addrs 1000000 addrs-1M.txt
[ -f jids-100k.txt ] || awk 'BEGIN { for (i = 0; i < 100000; i++)
	printf "spam%d.example\n", i }' > jids-100k.txt
for n in 10k 100k 1M; do
	printf 'define addr blocked = file "addrs-%s.txt"\nip { deny in from $blocked }\n' \
	    "$n" > "blocklist-$n.xfw"
done
printf 'define jid spam = file "jids-100k.txt"\nxmpp {\n list "b" { deny jid $spam }\n block $spam\n inspect s2s { deny domain $spam }\n}\n' > jids-100k.xfw
for n in 1000 10000; do
	awk -v n="$n" 'BEGIN {
		print "transport {"
		for (i = 0; i < n; i++)
			printf "\t%s in tcp port %d from 10.%d.%d.0/24\n",
			    i % 3 ? "allow" : "deny", 1000 + i % 50000,
			    int(i / 256) % 256, i % 256
		# Rules the analysis must find: a shadowed and a redundant one.
		print "\tdeny in tcp port 1000 from 10.0.0.7"
		print "\tdeny in tcp port 1003 from 10.0.3.0/25"
		print "}"
	}' > "rules-$n.xfw"
done

# 10k rules whose sources are 9-address lists (the index keys them by the
# hull of their set; they used to fall into a linear list).
awk 'BEGIN {
	print "transport {"
	for (i = 0; i < 10000; i++) {
		printf "\tallow in tcp port %d from {", 1000 + i
		for (j = 0; j < 9; j++)
			printf "%s10.%d.%d.%d", j ? ", " : " ", int(i / 256) % 256, i % 256, j * 2
		print " }"
	}
	print "\tdeny in tcp port 1000 from 10.0.0.2"
	print "}"
}' > rules-lists-10000.xfw

measure() {	# LABEL CMD...: prints wall seconds and peak RSS
	label=$1
	shift
	rc=0
	/usr/bin/time -f '%e %M' -o time.out "$@" >/dev/null 2>err.out || rc=$?
	read -r wall kb < time.out || true
	case "$wall" in [0-9]*) ;; *) read -r _ wall kb < time.out ;; esac
	printf '%-40s %7s s %8.1f MB%s\n' "$label" "$wall" \
	    "$(echo "$kb" | awk '{ print $1 / 1024 }')" \
	    "$([ $rc -eq 0 ] || echo "  (FAILED: exit $rc)")"
}

echo "== xmppfwc core: wall time and peak memory (2 cores, $(date +%F))"
for n in 10k 100k 1M; do
	measure "check blocklist $n" "$XFW" check "blocklist-$n.xfw"
	measure "-t json blocklist $n" "$XFW" -t json "blocklist-$n.xfw"
done
measure "check 100k JIDs (list+block+inspect)" "$XFW" check jids-100k.xfw
measure "-t json 100k JIDs" "$XFW" -t json jids-100k.xfw
for n in 1000 10000; do
	measure "check $n rules (shadow analysis)" "$XFW" check "rules-$n.xfw"
	echo "   $(grep -c 'warning:' err.out) warnings found (2 planted)"
done
measure "check 10000 rules with address lists" "$XFW" check rules-lists-10000.xfw
echo "   $(grep -c 'warning:' err.out) warnings found (1 planted)"

for b in "$here"/*.sh; do
	case "$b" in */run.sh) continue ;; esac
	echo
	sh "$b" "$XFW"
done
