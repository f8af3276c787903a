#!/bin/sh
# xmpp2.sh - "xmppfwc push" against a second real server, Prosody 0.12
# with prosody-modules' mod_privacy_lists (XEP-0016) and core
# mod_blocklist (XEP-0191), and the IQ error paths push must report.
#
# Starts prosody (Debian packages, installed when missing) on 127.0.0.1
# with a temporary config, data dir and self-signed certificate, as the
# prosody user, stopped by its PID.  Virtual hosts:
#   a.test, b.test  privacy lists and blocking
#   c.test          neither (no jabber:iq:privacy, no urn:xmpp:blocking)
#   d.test          privacy lists only
#   e.test          blocking only
# Then, as in xmpp.sh for ejabberd: whitelist + default (a message from
# an unlisted host is not delivered, one from a listed host is),
# blocklist, XEP-0191 block, each pushed twice (second: no change).
# Error paths, each answered by the real server: conflict (the default
# changed while another session of the account is online),
# service-unavailable to a privacy and to a blocking IQ, a server that
# does not advertise the protocol.  Each: a clear message and exit 3.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${XFW:?set XFW to the xmppfwc binary}"
fail=0 n=0

ok() { n=$((n + 1)); echo "ok xmpp2 $*"; }
nok() { n=$((n + 1)); fail=$((fail + 1)); echo "FAIL xmpp2 $*"; }
check() {	# check NAME COMMAND...: ok when the command succeeds
	name=$1; shift
	if "$@"; then ok "$name"; else nok "$name"; fi
}

if ! command -v prosody >/dev/null 2>&1 ||
    [ ! -f /usr/lib/prosody/modules/mod_privacy_lists/mod_privacy_lists.lua ]
then
	echo "xmpp2: installing prosody and prosody-modules"
	apt-get update -qq >/dev/null 2>&1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends prosody prosody-modules >/dev/null 2>&1
fi
if ! command -v prosody >/dev/null 2>&1 ||
    [ ! -f /usr/lib/prosody/modules/mod_privacy_lists/mod_privacy_lists.lua ]
then
	nok "prosody/prosody-modules not installed and could not be installed"
	exit 1
fi

T=$(mktemp -d /tmp/xfwt-xmpp2.XXXXXX) || exit 2
PID=""
alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
cleanup() {
	if [ -n "$PID" ] && alive "$PID"; then
		kill "$PID" 2>/dev/null
		i=0
		while alive "$PID" && [ $i -lt 20 ]; do
			sleep 0.25; i=$((i + 1))
		done
		alive "$PID" && kill -9 "$PID" 2>/dev/null
	fi
	[ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP PIPE

port_free() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
pick_port() {
	p=$((20000 + ($$ * 11 + $1) % 30000))
	while ! port_free $p; do p=$((p + 1)); done
	echo $p
}
C2S=$(pick_port 3)

cc -std=c17 -D_GNU_SOURCE -O1 $(pkg-config --cflags libstrophe) \
    -o "$T/xmppmsg" "$top/tests/xmppmsg.c" $(pkg-config --libs libstrophe) ||
    { nok "build xmppmsg"; exit 1; }
PUSH=${XFW_PUSH:-$XFW}

# --- the server ---------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=a.test" \
    -addext "subjectAltName=DNS:a.test,DNS:b.test,DNS:c.test,DNS:d.test,DNS:e.test" \
    -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 ||
    { nok "openssl certificate"; exit 1; }
mkdir "$T/data" "$T/certs"
cat > "$T/prosody.cfg.lua" <<EOF
pidfile = "$T/prosody.pid"
data_path = "$T/data"
certificates = "$T/certs"
plugin_paths = { "/usr/lib/prosody/modules" }
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { $C2S }
c2s_interfaces = { "127.0.0.1" }
c2s_direct_tls_ports = { }
legacy_ssl_ports = { }
log = { { levels = { min = "info" }, to = "file",
    filename = "$T/prosody.log" } }
authentication = "internal_hashed"
c2s_require_encryption = true
allow_registration = false
ssl = { certificate = "$T/cert.pem", key = "$T/key.pem" }
modules_enabled = { "roster", "saslauth", "tls", "disco", "ping",
    "presence", "message", "iq", "privacy_lists", "blocklist" }
modules_disabled = { "s2s", "admin_socket" }
VirtualHost "a.test"
VirtualHost "b.test"
VirtualHost "c.test"
	modules_disabled = { "privacy_lists", "blocklist" }
VirtualHost "d.test"
	modules_disabled = { "blocklist" }
VirtualHost "e.test"
	modules_disabled = { "privacy_lists" }
EOF
chmod 755 "$T"
chown -R prosody: "$T"
asprosody() { setpriv --reuid=prosody --regid=prosody --init-groups "$@"; }
t0=$(date +%s)
# Not through the shell function: "f &" would fork a subshell, and $!
# would be its PID, not the server's.  setpriv execs prosody, same PID.
setpriv --reuid=prosody --regid=prosody --init-groups \
    prosody -F --config "$T/prosody.cfg.lua" > "$T/stdout" 2>&1 &
PID=$!
i=0
until grep -q "Activated service 'c2s' on \[127.0.0.1\]:$C2S" \
    "$T/prosody.log" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! alive "$PID"; then
		nok "prosody did not start in 20 s"
		tail -20 "$T/prosody.log" "$T/stdout" 2>/dev/null
		exit 1
	fi
	sleep 0.2
done
if [ "$(cat "$T/prosody.pid" 2>/dev/null)" != "$PID" ]; then
	nok "prosody's pid file says $(cat "$T/prosody.pid" 2>/dev/null), not $PID"
	exit 1
fi
ok "prosody $(dpkg-query -W -f='${Version}' prosody) started on 127.0.0.1:$C2S in $(($(date +%s) - t0)) s (pid $PID)"

rnd() { od -An -N8 -tx8 /dev/urandom | tr -d ' \n'; }
for u in alice@a.test erin@a.test dave@a.test gina@a.test henry@a.test \
    carol@a.test bob@b.test mallory@b.test cora@c.test dora@d.test eve@e.test; do
	pw=$(rnd)
	asprosody prosodyctl --config "$T/prosody.cfg.lua" register \
	    "${u%@*}" "${u#*@}" "$pw" >/dev/null 2>&1 ||
	    { nok "register $u"; exit 1; }
	printf '%s\n' "$pw" > "$T/pw.${u%@*}"
	chmod 600 "$T/pw.${u%@*}"
done
ok "registered 11 accounts on 5 virtual hosts"

export XMSG_SERVER="127.0.0.1:$C2S" XMSG_CA="$T/cert.pem"
push() {	# push USER POLICY [OPTIONS...]: output in $T/out, rc in $rc
	u=$1 pol=$2; shift 2
	"$PUSH" push --jid "$u" --password-file "$T/pw.${u%@*}" \
	    --server "127.0.0.1:$C2S" --ca-file "$T/cert.pem" --timeout 20 \
	    "$@" "$pol" > "$T/out" 2>&1
	rc=$?
}
grep_out() { grep -q -- "$1" "$T/out"; }
show() { sed 's/^/    /' "$T/out"; }

# --- policies ------------------------------------------------------------------
cat > "$T/whitelist.xfw" <<'EOF'
xfw 1
xmpp {
	list "urn:xmpp:whitelist" default {
		allow jid b.test
		deny all
	}
}
EOF
cat > "$T/blocklist.xfw" <<'EOF'
xfw 1
xmpp {
	list "blocklist" default {
		deny jid mallory@b.test
	}
}
EOF
cat > "$T/block.xfw" <<'EOF'
xfw 1
xmpp {
	block { mallory@b.test }
}
EOF
cat "$T/whitelist.xfw" > "$T/both.xfw"
printf 'xmpp {\n\tblock { mallory@b.test, x@spam.example }\n}\n' >> "$T/both.xfw"
printf 'xfw 1\nxmpp {\n\tblock { e.test }\n}\n' > "$T/blockself.xfw"
chmod 644 "$T"/*.xfw

# --- delivery (as in xmpp.sh) ---------------------------------------------------
deliver() {
	to=$1; shift
	XMPPFWC_PASSWORD=$(cat "$T/pw.${to%@*}") \
	    "$T/xmppmsg" recv "$to/recv" 15 > "$T/recv" 2>&1 &
	rpid=$!
	i=0
	until grep -q ready "$T/recv" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1
	done
	: > "$T/sent"
	for s in "$@"; do
		XMPPFWC_PASSWORD=$(cat "$T/pw.${s%@*}") "$T/xmppmsg" send "$s" \
		    "$to" "from-${s%@*}" | sed "s|^|$s |" >> "$T/sent"
	done
	sleep 1
	kill "$rpid" 2>/dev/null
	wait "$rpid" 2>/dev/null
	rpid=""
}
delivered() { grep -q "^msg $1/[^ ]* from-${1%@*}\$" "$T/recv"; }
bounced() { grep -q "^$1 error" "$T/sent"; }

# --- whitelist --------------------------------------------------------------------
push alice@a.test "$T/whitelist.xfw"
if [ $rc -eq 0 ] && grep_out 'read back and verified' &&
    grep_out 'SASL SCRAM-SHA-1' && grep_out 'certificate verified' &&
    grep_out 'default list: none -> "urn:xmpp:whitelist"'; then
	ok "whitelist pushed, made default, read back (TLS verified, SCRAM)"
else nok "whitelist push (rc $rc)"; show; fi
# Prosody applies alice's new default list to her own disco#info to
# a.test (not on the whitelist): push warns and goes on.
push alice@a.test "$T/whitelist.xfw"
if [ $rc -eq 0 ] && grep_out 'alice@a.test: no change' &&
    grep_out 'service discovery on a.test refused: service-unavailable'; then
	ok "whitelist pushed again: no change (disco refused by her own list)"
else nok "whitelist second push (rc $rc)"; show; fi

deliver alice@a.test carol@a.test bob@b.test
if ! delivered carol@a.test && bounced carol@a.test; then
	ok "whitelist: message from unlisted host a.test not delivered ($(sed -n 's/^carol@a.test //p' "$T/sent"))"
else nok "whitelist: carol@a.test got through"; cat "$T/recv" "$T/sent"; fi
if delivered bob@b.test; then
	ok "whitelist: message from listed host b.test delivered"
else nok "whitelist: bob@b.test not delivered"; cat "$T/recv" "$T/sent"; fi
# A list item with no stanza kind covers outgoing stanzas too (XEP-0016
# 2.13): the owner's own message to an unlisted host is refused.
deliver carol@a.test alice@a.test
if ! delivered alice@a.test && grep -q '^alice@a.test error service-unavailable$' "$T/sent"; then
	ok "whitelist: owner's message to unlisted host refused (service-unavailable)"
else nok "whitelist: alice's outgoing message"; cat "$T/recv" "$T/sent"; fi

# --- blocklist as a privacy list -----------------------------------------------
push erin@a.test "$T/blocklist.xfw"
check "blocklist pushed and made default" \
    eval '[ $rc -eq 0 ] && grep_out "read back and verified"'
deliver erin@a.test mallory@b.test bob@b.test
if ! delivered mallory@b.test && bounced mallory@b.test; then
	ok "blocklist: blocked account's message not delivered"
else nok "blocklist: mallory got through"; cat "$T/recv" "$T/sent"; fi
if delivered bob@b.test; then
	ok "blocklist: other account's message delivered"
else nok "blocklist: bob not delivered"; cat "$T/recv" "$T/sent"; fi
push erin@a.test "$T/blocklist.xfw"
check "blocklist pushed again: no change" \
    eval '[ $rc -eq 0 ] && grep_out "no change"'

# --- XEP-0191 -----------------------------------------------------------------------
push dave@a.test "$T/block.xfw"
if [ $rc -eq 0 ] && grep_out '+ "mallory@b.test"' &&
    grep_out 'read back and verified'; then
	ok "XEP-0191 block pushed and read back"
else nok "XEP-0191 push (rc $rc)"; show; fi
deliver dave@a.test mallory@b.test bob@b.test
if ! delivered mallory@b.test && bounced mallory@b.test; then
	ok "XEP-0191: blocked account's message not delivered ($(sed -n 's/^mallory@b.test //p' "$T/sent"))"
else nok "XEP-0191: mallory got through"; cat "$T/recv" "$T/sent"; fi
if delivered bob@b.test; then
	ok "XEP-0191: other account's message delivered"
else nok "XEP-0191: bob not delivered"; cat "$T/recv" "$T/sent"; fi
push dave@a.test "$T/block.xfw"
check "XEP-0191 pushed again: no change" \
    eval '[ $rc -eq 0 ] && grep_out "no change"'
# Prosody keeps blocks apart from privacy lists: dave has none.
push dave@a.test "$T/whitelist.xfw" --dry-run
check "XEP-0191 block is not stored as a privacy list" \
    eval '[ $rc -eq 0 ] && grep_out "new, 2 items" && ! grep_out "on the server"'

push alice@a.test "$T/both.xfw"
r1=$rc
cp "$T/out" "$T/out1"
push alice@a.test "$T/both.xfw"
if [ $r1 -eq 0 ] && [ $rc -eq 0 ] && grep_out 'no change' &&
    grep -q 'privacy list "urn:xmpp:whitelist": unchanged' "$T/out1"; then
	ok "whitelist + XEP-0191 on one account: list untouched, second push no change"
else nok "whitelist + block (rc $r1/$rc)"; cat "$T/out1"; show; fi

# JIDs at the edges of what xmppfwc accepts: taken (no bad-request, no
# jid-malformed) and read back unchanged, as on ejabberd.
cat > "$T/edge.xfw" <<'EOF'
xfw 1
xmpp {
	list "edge" default {
		deny jid { "user@[::1]", "x@-bad-.test", "u@x_y.test", "x@1.2.3.4", "a/b@x.test" }
	}
	block { "user@[::1]", "x@-bad-.test", "u@x_y.test", "x@1.2.3.4", "a/b@x.test", "é@x.test" }
}
EOF
chmod 644 "$T/edge.xfw"
push henry@a.test "$T/edge.xfw"
r1=$rc
cp "$T/out" "$T/out1"
push henry@a.test "$T/edge.xfw"
if [ $r1 -eq 0 ] && [ $rc -eq 0 ] && grep -q 'read back and verified' "$T/out1" &&
    grep_out 'no change'; then
	ok "edge-case JIDs accepted and read back, then no change"
else nok "edge-case JIDs (rc $r1/$rc)"; cat "$T/out1"; show; fi

# --- error paths -----------------------------------------------------------------
# conflict: XEP-0016 3.4, the default list changed while another
# session of the account is online and uses it.
XMPPFWC_PASSWORD=$(cat "$T/pw.gina") "$T/xmppmsg" recv gina@a.test/other 15 \
    > "$T/recv" 2>&1 &
rpid=$!
i=0
until grep -q ready "$T/recv" 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1
done
push gina@a.test "$T/blocklist.xfw"
kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null; rpid=""
if [ $rc -eq 3 ] &&
    grep_out 'making "blocklist" the default list: the server refused: conflict' &&
    grep_out 'another session of this account is online'; then
	ok "conflict (second session online): clear message, exit 3"
else nok "conflict (rc $rc)"; show; fi
push gina@a.test "$T/blocklist.xfw"
check "conflict: once the other session is gone, the push goes through" \
    eval '[ $rc -eq 0 ] && grep_out "default list: none -> \"blocklist\"" &&
    grep_out "privacy list \"blocklist\": unchanged"'

# A host without either module: disco says so.
push cora@c.test "$T/whitelist.xfw"
check "no jabber:iq:privacy advertised: exit 3" \
    eval '[ $rc -eq 3 ] && grep_out "server c.test does not advertise jabber:iq:privacy"'
push cora@c.test "$T/block.xfw"
check "no urn:xmpp:blocking advertised: exit 3" \
    eval '[ $rc -eq 3 ] && grep_out "server c.test does not advertise urn:xmpp:blocking"'

# d.test: privacy lists, no blocking.  After a whitelist, disco is refused,
# and the blocking IQ itself answers service-unavailable.
export XMPPFWC_DEBUG=1
push dora@d.test "$T/whitelist.xfw"
unset XMPPFWC_DEBUG
r1=$rc
# Prosody told this session about the new list; push acknowledged it.
if grep -q 'RECV: <iq id="push1"[^>]*type="set"' "$T/out" &&
    grep -q 'SENT: <iq xmlns="jabber:client" type="result" id="push1"/>' "$T/out"
then ok "privacy list push from the server acknowledged (XEP-0016 2.6)"
else nok "list push not acknowledged"; grep 'push1' "$T/out"; fi
push dora@d.test "$T/whitelist.xfw"
check "privacy-only host: whitelist pushed, then no change" \
    eval '[ $r1 -eq 0 ] && [ $rc -eq 0 ] && grep_out "no change"'
push dora@d.test "$T/block.xfw"
check "service-unavailable to a blocking IQ: exit 3" \
    eval '[ $rc -eq 3 ] && grep_out "warning: service discovery on d.test refused" &&
    grep_out "server d.test does not support urn:xmpp:blocking (XEP-0191 blocking): it answered service-unavailable"'

# e.test: blocking, no privacy lists.  eve blocks her own server's domain,
# so disco is refused (not-acceptable), and the privacy IQ answers
# service-unavailable.
push eve@e.test "$T/blockself.xfw"
check "blocking-only host: domain blocked" \
    eval '[ $rc -eq 0 ] && grep_out "read back and verified"'
push eve@e.test "$T/whitelist.xfw"
check "service-unavailable to a privacy IQ: exit 3" \
    eval '[ $rc -eq 3 ] && grep_out "warning: service discovery on e.test refused: not-acceptable" &&
    grep_out "server e.test does not support jabber:iq:privacy (XEP-0016 privacy lists): it answered service-unavailable"'

# The server log must not show errors from our stanzas.
awk -F '\t' '$2 == "error"' "$T/prosody.log" > "$T/errs"
if [ -s "$T/errs" ]; then
	nok "prosody logged errors"; cat "$T/errs"
else ok "prosody log: no errors"; fi

echo "xmpp2: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
