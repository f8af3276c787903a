#!/bin/sh
# The main job on the example policies: check each one (running its
# expect tests), compile every artefact into demo-out/NAME/, and show
# what came out.
set -eu
XFW=${1:-build/xmppfwc}
cd "$(dirname "$0")/.."
out=demo-out
rm -rf "$out"
mkdir -p "$out"
for p in policies/*.xfw; do
	name=$(basename "$p" .xfw)
	echo "==> xmppfwc check $p"
	"$XFW" check "$p"
	echo "    $(grep -c '^expect' "$p") expect tests passed"
	echo "==> xmppfwc compile -o $out/$name $p"
	"$XFW" compile -o "$out/$name" "$p" | sed 's/^/    wrote /'
done
echo
echo "==> xmppfwc explain policies/xmpp-server-edge.xfw out udp to 8.8.8.8 port domain"
"$XFW" explain policies/xmpp-server-edge.xfw out udp to 8.8.8.8 port domain
echo "==> xmppfwc explain policies/spim-whitelist.xfw message from bot@spam.example list '\"urn:xmpp:whitelist\"'"
"$XFW" explain policies/spim-whitelist.xfw message from bot@spam.example \
    list '"urn:xmpp:whitelist"'
for f in "$out"/spim-whitelist/*; do
	case "$f" in *.xml)
		echo "==> $f"; cat "$f" ;;
	esac
done
for f in "$out"/xmpp-server-edge/*; do
	case "$f" in
	*.nft)	# the sets come first; show the chains
		echo "==> $f (the chains, first 60 lines; $(grep -c '^	set ' "$f") sets above them)"
		sed -n '/^	chain input {/,$p' "$f" | head -n 60 ;;
	*.rules|*.conf|*.restore)
		echo "==> $f (first 30 lines)"; head -n 30 "$f" ;;
	esac
done
echo
echo "demo: every artefact is in $out/"
