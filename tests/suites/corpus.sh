#!/bin/sh
# Hostile inputs: every case must end in a clear error (exit 1 with a
# "file:line:col: error:" diagnostic) or success (exit 0) -- never a crash,
# a hang, a sanitizer report, or a partial output file.
set -u
T=$(mktemp -d /tmp/xfw-corpus.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0 n=0

# run NAME WANT FILE [ARGS...]: WANT is 0, 1 or "01" (either).
run() {
	name=$1 want=$2 file=$3
	shift 3
	n=$((n + 1))
	rm -f "$T/out.json"
	timeout 60 "$XFW" compile -t json -o "$T/out.json" "$@" "$file" \
	    >"$T/stdout" 2>"$T/stderr"
	rc=$?
	ok=1
	case "$want" in *"$rc"*) ;; *) ok=0 ;; esac
	if [ "$rc" -eq 1 ] && ! grep -q ': error: ' "$T/stderr"; then ok=0; fi
	if [ "$rc" -ne 0 ] && [ -e "$T/out.json" ]; then ok=0; fi
	if grep -q 'Sanitizer\|runtime error' "$T/stderr"; then ok=0; fi
	if [ "$ok" -eq 1 ]; then
		echo "ok corpus $name (exit $rc)"
	else
		echo "FAIL corpus $name (exit $rc, wanted $want)"
		head -c 2000 "$T/stderr"
		fail=$((fail + 1))
	fi
}

# NUL bytes inside a policy and inside a string.
printf 'transport {\n\tallow in tcp port 22\000 from 10.0.0.1\n}\n' > "$T/nul.xfw"
run nul-byte 1 "$T/nul.xfw"
printf 'transport { allow in tcp port 22 comment "a\000b" }\n' > "$T/nulstr.xfw"
run nul-in-string 1 "$T/nulstr.xfw"

# Invalid UTF-8: a lone continuation byte, an overlong form, a surrogate.
printf 'transport { allow in tcp port 22 comment "\200" }\n# \300\257\n# \355\240\200\n' > "$T/utf8.xfw"
run invalid-utf8 1 "$T/utf8.xfw"

# CRLF line ends work.
printf 'transport {\r\n\tallow in tcp port 22 from 10.0.0.0/8\r\n}\r\n' > "$T/crlf.xfw"
run crlf 0 "$T/crlf.xfw"

# A 10 MB line: one word, then one comment.
awk 'BEGIN { s = "x"; while (length(s) < 10485760) s = s s; print "transport { allow in tcp port " s " }" }' > "$T/longword.xfw"
run long-word 1 "$T/longword.xfw"
awk 'BEGIN { s = "x"; while (length(s) < 10485760) s = s s; print "# " s; print "transport { allow in tcp port 22 }" }' > "$T/longcomment.xfw"
run long-comment 0 "$T/longcomment.xfw"

# 100k nested braces, and 100k nested blocks.
awk 'BEGIN { s = "{"; while (length(s) < 100000) s = s s; print "transport " s }' > "$T/braces.xfw"
run nested-braces 1 "$T/braces.xfw"
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "ip { "; print "" }' > "$T/blocks.xfw"
run nested-blocks 1 "$T/blocks.xfw"

# Unterminated string at end of file; lone quote; lone backslash.
printf 'transport { allow in tcp port 22 comment "abc' > "$T/unterm.xfw"
run unterminated-eof 1 "$T/unterm.xfw"
printf '"' > "$T/quote.xfw"
run lone-quote 1 "$T/quote.xfw"
printf 'transport { allow in tcp port 22 comment "\\' > "$T/bs.xfw"
run lone-backslash 1 "$T/bs.xfw"

# Includes: a cycle, itself, a directory, a device, outside the root.
printf 'include "self.xfw"\n' > "$T/self.xfw"
run include-self 1 "$T/self.xfw"
mkdir -p "$T/d"
printf 'include "d"\n' > "$T/incdir.xfw"
run include-dir 1 "$T/incdir.xfw"
printf 'include "/dev/zero"\n' > "$T/incdev.xfw"
run include-dev-outside 1 "$T/incdev.xfw"
run include-dev-root 1 "$T/incdev.xfw" -I /dev
printf 'define addr x = file "/dev/urandom"\nip { deny in from $x }\n' > "$T/listdev.xfw"
run list-dev 1 "$T/listdev.xfw" -I /dev
ln -sf /etc/passwd "$T/link.xfw"
printf 'include "link.xfw"\n' > "$T/symlink.xfw"
run include-symlink-out 1 "$T/symlink.xfw"

# Overlong JIDs and names.
awk 'BEGIN { s = "a"; while (length(s) < 5000) s = s s; printf "xmpp { block %s@example.com }\n", s }' > "$T/longjid.xfw"
run overlong-jid 1 "$T/longjid.xfw"
awk 'BEGIN { s = "a"; while (length(s) < 5000) s = s s; printf "xmpp { list \"%s\" { deny all } }\n", s }' > "$T/longlist.xfw"
run overlong-list-name 1 "$T/longlist.xfw"
awk 'BEGIN { s = "a"; while (length(s) < 100000) s = s s; printf "define addr %s = { 10.0.0.1 }\nip { deny in from $%s }\n", s, s }' > "$T/longdef.xfw"
run overlong-def-name 1 "$T/longdef.xfw"

# Huge numbers everywhere a number goes.
cat > "$T/huge.xfw" <<'P'
option inspect-bytes 99999999999999999999999999
option order-step 18446744073709551617
transport {
	allow in tcp port 340282366920938463463374607431768211456
	allow in tcp port 22 limit 99999999999999999999/second burst 99999999999999999
	allow in tcp port 22 conn over 4294967296
	allow in tcp from 10.0.0.0/4294967328
}
xmpp {
	inspect queue 18446744073709551616 { default allow }
	list "x" order 4294967296 { deny all }
}
P
run huge-numbers 1 "$T/huge.xfw"

# Binary garbage (deterministic), and an empty and a blank file.
awk 'BEGIN { srand(7); for (i = 0; i < 65536; i++) printf "%c", int(rand() * 256) }' > "$T/garbage.xfw"
run binary-garbage 1 "$T/garbage.xfw"
: > "$T/empty.xfw"
run empty 1 "$T/empty.xfw"
printf '\n\n   \n\t\n' > "$T/blank.xfw"
run blank 0 "$T/blank.xfw"

# A 1M-line list file full of garbage: errors are capped, no hang.
awk 'BEGIN { for (i = 0; i < 1000000; i++) print "garbage-" i }' > "$T/garbage.txt"
printf 'define addr g = file "garbage.txt"\nip { deny in from $g }\n' > "$T/biglist.xfw"
run garbage-list-1M 1 "$T/biglist.xfw"

# Hostile strings in every free-text slot: the JSON stays valid and
# carries the text back exactly.
cat > "$T/hostile.xfw" <<'P'
transport {
	allow in tcp port 22 comment "q\"uote $(rm -rf /) `id` ; # ]]> <x> & '"
}
xmpp {
	list "a\"b$(id)`id`;#]]><&'" { allow group "g\"$(x)`y`;#]]><&'\\"; deny all }
}
P
run hostile-strings 0 "$T/hostile.xfw"
n=$((n + 1))
if jq -e '.rules[0].comment == "q\"uote $(rm -rf /) `id` ; # ]]> <x> & '"'"'"' \
    "$T/out.json" >/dev/null 2>&1 &&
    jq -e '.lists[0].items[0].value == "g\"$(x)`y`;#]]><&'"'"'\\"' \
    "$T/out.json" >/dev/null 2>&1; then
	echo "ok corpus hostile-strings-roundtrip"
else
	echo "FAIL corpus hostile-strings-roundtrip"
	fail=$((fail + 1))
fi

# A failed compile leaves an existing output untouched.
n=$((n + 1))
echo keep > "$T/keep.json"
"$XFW" compile -t json -o "$T/keep.json" "$T/nul.xfw" 2>/dev/null
if [ "$(cat "$T/keep.json")" = keep ] && ! ls "$T"/keep.json.tmp* >/dev/null 2>&1; then
	echo "ok corpus failed-compile-keeps-output"
else
	echo "FAIL corpus failed-compile-keeps-output"
	fail=$((fail + 1))
fi

echo "corpus: $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
