#!/bin/sh
# Golden diagnostics: `xmppfwc check` on every tests/golden/*.xfw must
# print exactly NAME.err (whose first line is "exit N").  UPDATE=1
# rewrites the .err files from the current output (review the diff!).
set -u
cd "$(dirname "$0")/../golden" || exit 2
fail=0 n=0
# A FIFO inside the policy directory: "a device or pipe, not a file".
rm -f inc/fifo.xfw && mkfifo inc/fifo.xfw
trap 'rm -f inc/fifo.xfw' EXIT
for f in *.xfw; do
	name=${f%.xfw}
	out=$("$XFW" check "$f" 2>&1; echo "exit $?")
	got=$(printf '%s\n' "$out" | tail -n 1; printf '%s\n' "$out" | sed '$d')
	if [ "${UPDATE:-}" = 1 ]; then
		printf '%s\n' "$got" > "$name.err"
	fi
	n=$((n + 1))
	if [ "$got" = "$(cat "$name.err" 2>/dev/null)" ]; then
		echo "ok golden $name"
	else
		echo "FAIL golden $name"
		printf '%s\n' "$got" | diff -u "$name.err" - | head -40
		fail=$((fail + 1))
	fi
done
# --werror turns warnings into a failure.
"$XFW" check --werror warnings.xfw >/dev/null 2>&1
if [ $? -eq 1 ]; then echo "ok golden werror"; else
	echo "FAIL golden werror"; fail=$((fail + 1)); fi
n=$((n + 1))
echo "golden: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
