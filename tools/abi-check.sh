#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# abi-check.sh LIB.so MAP HEADER: the library exports exactly the symbols
# the version script lists, each at its node's version, and the public
# header declares each one. TAP.
set -uo pipefail
so=$1 map=$2 hdr=$3

want=$(awk '
	/^[A-Z0-9_.]+ *\{/ { node = $1; next }
	/local:/ { node = "" }
	node != "" && /^\t\t[a-z_0-9]+;/ { gsub(/[\t;]/, ""); print $0 "@@" node }
' "$map" | sort)
have=$(readelf --dyn-syms -W "$so" | awk '$5 == "GLOBAL" && $7 != "UND" &&
	$8 ~ /@@/ && $4 == "FUNC" { print $8 }' | sort)

echo "1..2"
if [ -n "$want" ] && [ "$want" = "$have" ]; then
	echo "ok 1 exports = version script ($(wc -l <<<"$want") symbols)"
else
	echo "not ok 1 exports = version script"
	diff <(echo "$want") <(echo "$have") | sed 's/^/# /'
fi
missing=""
for s in $want; do
	grep -q "\b${s%@@*}(" "$hdr" || missing="$missing ${s%@@*}"
done
if [ -z "$missing" ]; then
	echo "ok 2 every export declared in $(basename "$hdr")"
else
	echo "not ok 2 not declared in $(basename "$hdr"):$missing"
fi
