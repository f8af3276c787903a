#!/bin/sh
# xmpp.sh - "xmppfwc push" against a real ejabberd, and the lists enforced
# on real messages between accounts.
#
# Starts ejabberd (Debian package, installed when missing) on 127.0.0.1
# with a temporary config, spool and self-signed certificate for two
# virtual hosts a.test and b.test, registers accounts, then:
#  - whitelist pushed and made default: a message from a.test (not on
#    the list) is not delivered, one from b.test (listed) is;
#  - a privacy-list blocklist: the blocked account's message is not
#    delivered, another's is;
#  - XEP-0191 block: likewise;
#  - pushing the same policy again reports no change; --dry-run pushes
#    nothing; an untrusted certificate, a wrong password, a closed port,
#    a silent server and a stanza the server refuses all exit 3.
# The server is stopped by its PID and the temp dir removed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${XFW:?set XFW to the xmppfwc binary}"
B=$(dirname "$XFW")
fail=0 n=0

ok() { n=$((n + 1)); echo "ok xmpp $*"; }
nok() { n=$((n + 1)); fail=$((fail + 1)); echo "FAIL xmpp $*"; }
check() {	# check NAME COMMAND...: ok when the command succeeds
	name=$1; shift
	if "$@"; then ok "$name"; else nok "$name"; fi
}

if ! command -v ejabberdctl >/dev/null 2>&1; then
	echo "xmpp: installing ejabberd"
	apt-get update -qq >/dev/null 2>&1
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends ejabberd >/dev/null 2>&1
fi
if ! command -v ejabberdctl >/dev/null 2>&1; then
	nok "ejabberd is not installed and could not be installed"
	exit 1
fi

T=$(mktemp -d /tmp/xfwt-xmpp.XXXXXX) || exit 2
node="xfwt$$@localhost"
EJ=""
# Alive and not a zombie waiting for its parent.
alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat"; }
cleanup() {
	if [ -n "$EJ" ]; then
		pid=$(cat "$T/ejabberd.pid" 2>/dev/null)
		timeout 20 $EJ stop >/dev/null 2>&1
		# Then the PID, if it is still there.
		if [ -n "$pid" ] && alive "$pid"; then
			i=0
			while alive "$pid" && [ $i -lt 20 ]; do
				sleep 0.5; i=$((i + 1))
			done
			alive "$pid" && kill "$pid" 2>/dev/null
			sleep 1
			alive "$pid" && kill -9 "$pid" 2>/dev/null
		fi
	fi
	[ -n "${silent_pid:-}" ] && kill "$silent_pid" 2>/dev/null
	[ -n "${rpid:-}" ] && kill "$rpid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP PIPE

# Free loopback ports for c2s and the Erlang distribution.
port_free() { ! ss -Htln "sport = :$1" 2>/dev/null | grep -q .; }
pick_port() {
	p=$((20000 + ($$ * 7 + $1) % 30000))
	while ! port_free $p; do p=$((p + 1)); done
	echo $p
}
C2S=$(pick_port 0)
DIST=$(pick_port 1)
[ "$DIST" = "$C2S" ] && DIST=$((C2S + 1))

# --- the helpers: a message client, and push -----------------------------
cc -std=c17 -D_GNU_SOURCE -O1 $(pkg-config --cflags libstrophe) \
    -o "$T/xmppmsg" "$top/tests/xmppmsg.c" $(pkg-config --libs libstrophe) ||
    { nok "build xmppmsg"; exit 1; }
PUSH=${XFW_PUSH:-$XFW}	# XFW_PUSH: e.g. a sanitizer build

# --- the server ---------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=a.test" \
    -addext "subjectAltName=DNS:a.test,DNS:b.test" \
    -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 ||
    { nok "openssl certificate"; exit 1; }
cat "$T/cert.pem" "$T/key.pem" > "$T/server.pem"
# A second, unrelated CA: the server's certificate must not verify with it.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other.test" \
    -keyout "$T/other.key" -out "$T/other.pem" >/dev/null 2>&1
cat > "$T/ejabberd.yml" <<EOF
hosts:
  - a.test
  - b.test
loglevel: info
certfiles:
  - $T/server.pem
listen:
  -
    port: $C2S
    ip: "127.0.0.1"
    module: ejabberd_c2s
    starttls_required: true
    max_stanza_size: 65536
s2s_use_starttls: false
auth_method: internal
auth_password_format: scram
access_rules:
  c2s:
    allow: all
  register:
    deny: all
shaper_rules:
  c2s_shaper: none
modules:
  mod_disco: {}
  mod_privacy: {}
  mod_blocking: {}
  mod_roster: {}
EOF
cat > "$T/ctl.cfg" <<EOF
ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"
ERL_DIST_PORT=$DIST
EJABBERD_PID_PATH=$T/ejabberd.pid
EOF
mkdir "$T/spool" "$T/log"
touch "$T/inetrc"
chmod 755 "$T"
chown -R ejabberd: "$T"
EJ="ejabberdctl -n $node -c $T/ctl.cfg -d $T -f $T/ejabberd.yml -s $T/spool -l $T/log"
t0=$(date +%s)
$EJ start >/dev/null 2>&1
i=0
until $EJ status >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 120 ]; then
		nok "ejabberd did not start in 60 s"
		tail -20 "$T/log/ejabberd.log" 2>/dev/null
		exit 1
	fi
	sleep 0.5
done
ok "ejabberd started on 127.0.0.1:$C2S in $(($(date +%s) - t0)) s (pid $(cat "$T/ejabberd.pid"))"

rnd() { od -An -N8 -tx8 /dev/urandom | tr -d ' \n'; }
for u in alice@a.test erin@a.test dave@a.test frank@a.test carol@a.test \
    gina@a.test henry@a.test bob@b.test mallory@b.test; do
	pw=$(rnd)
	$EJ register "${u%@*}" "${u#*@}" "$pw" >/dev/null 2>&1 ||
	    { nok "register $u"; exit 1; }
	printf '%s\n' "$pw" > "$T/pw.${u%@*}"
	chmod 600 "$T/pw.${u%@*}"
done
ok "registered 9 accounts on a.test and b.test"

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
expect allow message from bob@b.test list "urn:xmpp:whitelist"
expect deny message from carol@a.test list "urn:xmpp:whitelist"
EOF
sed 's/allow jid b.test/allow jid { b.test, c.test }/' "$T/whitelist.xfw" \
    > "$T/whitelist2.xfw"
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
i=0
: > "$T/many.txt"
while [ $i -lt 1500 ]; do echo "spammer$i@spam.example"; i=$((i + 1)); done \
    > "$T/many.txt"
cat > "$T/huge.xfw" <<'EOF'
xfw 1
define jid many = file "many.txt"
xmpp {
	list "huge" {
		deny jid $many
	}
}
EOF
chmod 644 "$T"/*.xfw "$T/many.txt"

# --- delivery -------------------------------------------------------------------
# deliver TO SENDER...: start a receiver for TO, send one message from each
# sender (body "from-SENDER"), record what arrived in $T/recv.
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
    grep_out 'SASL SCRAM-' && grep_out 'certificate verified' &&
    grep_out 'default list: none -> "urn:xmpp:whitelist"'; then
	ok "whitelist pushed, made default, read back (TLS verified, SCRAM)"
else nok "whitelist push (rc $rc)"; show; fi
push alice@a.test "$T/whitelist.xfw"
if [ $rc -eq 0 ] && grep_out 'alice@a.test: no change'; then
	ok "whitelist pushed again: no change"
else nok "whitelist second push (rc $rc)"; show; fi
push alice@a.test "$T/whitelist2.xfw" --dry-run
if [ $rc -eq 0 ] && grep_out 'dry run, 1 update not pushed' &&
    grep_out '+ allow jid "c.test"'; then
	ok "dry run shows the difference"
else nok "dry run (rc $rc)"; show; fi
push alice@a.test "$T/whitelist.xfw"
if [ $rc -eq 0 ] && grep_out 'no change'; then
	ok "dry run pushed nothing"
else nok "dry run changed the server (rc $rc)"; show; fi

deliver alice@a.test carol@a.test bob@b.test
if ! delivered carol@a.test && bounced carol@a.test; then
	ok "whitelist: message from unlisted host a.test not delivered"
else nok "whitelist: carol@a.test got through"; cat "$T/recv" "$T/sent"; fi
if delivered bob@b.test; then
	ok "whitelist: message from listed host b.test delivered"
else nok "whitelist: bob@b.test not delivered"; cat "$T/recv" "$T/sent"; fi
# A list item with no stanza kind covers outgoing stanzas too (XEP-0016
# 2.13): the owner's own message to an unlisted host is refused.
deliver carol@a.test alice@a.test
if ! delivered alice@a.test && grep -q '^alice@a.test error not-acceptable$' "$T/sent"; then
	ok "whitelist: owner's message to unlisted host refused (not-acceptable)"
else nok "whitelist: alice's outgoing message"; cat "$T/recv" "$T/sent"; fi

# --- blocklist as a privacy list -----------------------------------------------
push erin@a.test "$T/blocklist.xfw"
if [ $rc -eq 0 ] && grep_out 'read back and verified'; then
	ok "blocklist pushed and made default"
else nok "blocklist push (rc $rc)"; show; fi
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
	ok "XEP-0191: blocked account's message not delivered"
else nok "XEP-0191: mallory got through"; cat "$T/recv" "$T/sent"; fi
if delivered bob@b.test; then
	ok "XEP-0191: other account's message delivered"
else nok "XEP-0191: bob not delivered"; cat "$T/recv" "$T/sent"; fi
push dave@a.test "$T/block.xfw"
check "XEP-0191 pushed again: no change" \
    eval '[ $rc -eq 0 ] && grep_out "no change"'

# Whitelist and block on one account (ejabberd keeps blocks in the
# default list): still idempotent.
cat "$T/whitelist.xfw" > "$T/both.xfw"
printf 'xmpp {\n\tblock { mallory@b.test, x@spam.example }\n}\n' >> "$T/both.xfw"
push alice@a.test "$T/both.xfw"
r1=$rc
cp "$T/out" "$T/out1"
push alice@a.test "$T/both.xfw"
if [ $r1 -eq 0 ] && [ $rc -eq 0 ] && grep_out 'no change'; then
	ok "whitelist + XEP-0191 on one account: second push no change"
else nok "whitelist + block (rc $r1/$rc)"; cat "$T/out1"; show; fi

# The shipped example policy.
push frank@a.test "$top/policies/spim-whitelist.xfw"
r1=$rc
push frank@a.test "$top/policies/spim-whitelist.xfw"
if [ $r1 -eq 0 ] && [ $rc -eq 0 ] && grep_out 'no change'; then
	ok "policies/spim-whitelist.xfw pushed, then no change"
else nok "spim-whitelist.xfw (rc $r1/$rc)"; show; fi

# ejabberd does not answer conflict (XEP-0016 3.4) when the default list
# changes while another session of the account is online: it accepts it
# (Prosody refuses, see xmpp2.sh).
XMPPFWC_PASSWORD=$(cat "$T/pw.gina") "$T/xmppmsg" recv gina@a.test/other 15 \
    > "$T/recv" 2>&1 &
rpid=$!
i=0
until grep -q ready "$T/recv" 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1
done
export XMPPFWC_DEBUG=1
push gina@a.test "$T/blocklist.xfw"
unset XMPPFWC_DEBUG
kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null; rpid=""
# ejabberd told this session about the new list; push acknowledged it.
if grep -q 'RECV: <iq id="push[0-9]*" type="set"[^>]*from="gina@a.test"' "$T/out" &&
    grep -q 'SENT: <iq xmlns="jabber:client" type="result" id="push[0-9]*" to="gina@a.test"/>' "$T/out"
then ok "privacy list push from the server acknowledged (XEP-0016 2.6)"
else nok "list push not acknowledged"; grep 'push[0-9]' "$T/out"; fi
check "default changed with another session online: accepted (no conflict)" \
    eval '[ $rc -eq 0 ] && grep_out "default list: none -> \"blocklist\""'

# JIDs at the edges of what xmppfwc accepts: the server takes them all
# (no bad-request, no jid-malformed) and reads them back unchanged.
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

# --- failures: clear message, exit 3 (2 for usage) ------------------------------
"$PUSH" push --jid alice@a.test --password-file "$T/pw.alice" \
    --server "127.0.0.1:$C2S" --timeout 10 "$T/whitelist.xfw" > "$T/out" 2>&1
rc=$?
if [ $rc -eq 3 ] && grep_out 'certificate is not trusted'; then
	ok "untrusted certificate (system CAs): exit 3"
else nok "untrusted certificate (rc $rc)"; show; fi
"$PUSH" push --jid alice@a.test --password-file "$T/pw.alice" \
    --server "127.0.0.1:$C2S" --ca-file "$T/other.pem" --timeout 10 \
    "$T/whitelist.xfw" > "$T/out" 2>&1
rc=$?
check "certificate from another CA: exit 3" \
    eval '[ $rc -eq 3 ] && grep_out "not trusted"'
"$PUSH" push --jid alice@a.test --password-file "$T/pw.alice" \
    --server "127.0.0.1:$C2S" --insecure --timeout 10 \
    "$T/whitelist.xfw" > "$T/out" 2>&1
rc=$?
check "--insecure: warns, works" \
    eval '[ $rc -eq 0 ] && grep_out "warning: --insecure" && grep_out "NOT verified"'
echo wrong > "$T/pw.wrong"; chmod 600 "$T/pw.wrong"
"$PUSH" push --jid alice@a.test --password-file "$T/pw.wrong" \
    --server "127.0.0.1:$C2S" --ca-file "$T/cert.pem" --timeout 10 \
    "$T/whitelist.xfw" > "$T/out" 2>&1
rc=$?
check "wrong password: exit 3" \
    eval '[ $rc -eq 3 ] && grep_out "authentication failed for alice@a.test"'
XMPPFWC_PASSWORD=$(cat "$T/pw.alice") "$PUSH" push --jid alice@a.test \
    --server "127.0.0.1:$C2S" --ca-file "$T/cert.pem" --timeout 10 \
    "$T/whitelist.xfw" > "$T/out" 2>&1
rc=$?
check "password from XMPPFWC_PASSWORD" \
    eval '[ $rc -eq 0 ] && grep_out "no change"'
"$PUSH" push --jid alice@a.test --password secret \
    --server "127.0.0.1:$C2S" "$T/whitelist.xfw" > "$T/out" 2>&1
rc=$?
check "--password on the command line refused: exit 2" \
    eval '[ $rc -eq 2 ] && grep_out "password in argv"'
closed=$(pick_port 2)
"$PUSH" push --jid alice@a.test --password-file "$T/pw.alice" \
    --server "127.0.0.1:$closed" --ca-file "$T/cert.pem" --timeout 10 \
    "$T/whitelist.xfw" > "$T/out" 2>&1
rc=$?
check "closed port: exit 3" \
    eval '[ $rc -eq 3 ] && grep_out "Connection refused"'
if command -v python3 >/dev/null 2>&1; then
	# A server that accepts the connection and never says a word.
	python3 -c 'import socket,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(5)
print(s.getsockname()[1], flush=True); c=s.accept(); time.sleep(30)' \
	    > "$T/silent" &
	silent_pid=$!
	i=0
	until [ -s "$T/silent" ] || [ $i -gt 50 ]; do sleep 0.1; i=$((i + 1)); done
	"$PUSH" push --jid alice@a.test --password-file "$T/pw.alice" \
	    --server "127.0.0.1:$(cat "$T/silent")" --ca-file "$T/cert.pem" \
	    --timeout 2 "$T/whitelist.xfw" > "$T/out" 2>&1
	rc=$?
	check "silent server: timeout, exit 3" \
	    eval '[ $rc -eq 3 ] && grep_out "timeout"'
	kill "$silent_pid" 2>/dev/null; wait "$silent_pid" 2>/dev/null
	silent_pid=""
else
	echo "skip xmpp silent-server timeout (no python3)"
fi
# 1500 items are over the server's 64 KiB stanza limit: xmppfwc warns,
# the server refuses, push says so and exits 3.
push alice@a.test "$T/huge.xfw"
if [ $rc -eq 3 ] && grep_out 'warning: list "huge" has 1500 items' &&
    grep_out 'server closed the stream'; then
	ok "list over the server's stanza limit: warned, refused, exit 3"
else nok "huge list (rc $rc)"; show; fi

echo "xmpp: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
