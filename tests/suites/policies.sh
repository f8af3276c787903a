#!/bin/sh
# The example policies: check clean (their expects run), compile
# deterministically, and check --format json|sarif is valid JSON.
set -u
cd "$(dirname "$0")/../.." || exit 2
T=$(mktemp -d /tmp/xfw-pol.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0 n=0
ok() { n=$((n + 1)); echo "ok policies $1"; }
bad() { n=$((n + 1)); fail=$((fail + 1)); echo "FAIL policies $1"; }

if "$XFW" check --werror policies/*.xfw; then ok check-werror; else
	bad check-werror; fi
nexp=$(grep -h '^expect' policies/*.xfw | wc -l)
echo "   ($nexp expect tests in policies/ ran)"
for p in policies/*.xfw; do
	name=$(basename "$p" .xfw)
	"$XFW" compile -o "$T/a-$name" "$p" >/dev/null &&
	"$XFW" compile -o "$T/b-$name" "$p" >/dev/null
	if [ $? -eq 0 ] && diff -r "$T/a-$name" "$T/b-$name" >/dev/null &&
	    [ -n "$(ls "$T/a-$name")" ]; then
		ok "deterministic-$name"
	else
		bad "deterministic-$name"
	fi
	if jq -e '.rules and .lists and .sets' "$T/a-$name/model.json" \
	    >/dev/null; then ok "json-$name"; else bad "json-$name"; fi
done
# A broken expect in a copy of a policy makes check fail, naming the rule.
sed 's/^expect allow in tcp from 9.9.9.9 to 192.0.2.10 port xmpp-client/expect deny in tcp from 9.9.9.9 to 192.0.2.10 port xmpp-client/' \
    policies/xmpp-server-edge.xfw > policies/.broken.xfw
"$XFW" check policies/.broken.xfw 2>"$T/err"
rc=$?
rm -f policies/.broken.xfw
if [ $rc -eq 1 ] && grep -q 'expect failed: expected deny, but the rule at policies/.broken.xfw:28:2 decides allow' "$T/err"; then
	ok expect-fails-names-rule
else
	bad expect-fails-names-rule; cat "$T/err"
fi
# Machine-readable diagnostics.
"$XFW" check --format json tests/golden/warnings.xfw > "$T/w.json"
if jq -e '.warnings == 9 and .errors == 0 and (.diagnostics | length) == 9
    and .diagnostics[0].line == 4' "$T/w.json" >/dev/null; then
	ok format-json; else bad format-json; fi
"$XFW" check --format sarif tests/golden/syntax.xfw > "$T/s.sarif"
rc=$?
if [ $rc -eq 1 ] && jq -e '.version == "2.1.0" and
    (.runs[0].results | length) == 6 and
    .runs[0].results[0].locations[0].physicalLocation.region.startLine == 4 and
    .runs[0].tool.driver.name == "xmppfwc"' "$T/s.sarif" >/dev/null; then
	ok format-sarif; else bad format-sarif; fi
# Usage and I/O errors exit 2.
"$XFW" check /nonexistent.xfw 2>/dev/null
[ $? -eq 2 ] && ok exit-2-missing || bad exit-2-missing
"$XFW" compile -t nosuch policies/spim-whitelist.xfw 2>/dev/null
[ $? -eq 2 ] && ok exit-2-target || bad exit-2-target
"$XFW" explain policies/xmpp-server-edge.xfw out udp to 8.8.8.8 port 53 > "$T/ex"
if [ "$(head -n 1 "$T/ex")" = reject ] && grep -q 'xmpp-server-edge.xfw:32:2' "$T/ex"; then
	ok explain; else bad explain; cat "$T/ex"; fi
echo "policies: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
