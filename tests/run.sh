#!/bin/sh
# tests/run.sh [SUITE...] - run the shell suites in tests/suites/ (all of
# them, or the ones named) against the xmppfwc binary in $XFW.  Each suite
# prints "ok NAME" / "FAIL NAME" lines and exits non-zero on failure.
set -u
here=$(cd "$(dirname "$0")" && pwd)
: "${XFW:?set XFW to the xmppfwc binary}"
XFW=$(cd "$(dirname "$XFW")" && pwd)/$(basename "$XFW")
export XFW
if [ $# -eq 0 ]; then
	set -- $(ls "$here/suites" | sed -n 's/\.sh$//p' | sort)
fi
passed=0 failed=0
for s in "$@"; do
	if [ ! -f "$here/suites/$s.sh" ]; then
		echo "run.sh: no suite $s" >&2
		exit 2
	fi
	echo "== suite $s"
	if sh "$here/suites/$s.sh"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "== suite $s FAILED"
	fi
done
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
