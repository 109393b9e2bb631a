#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the release (uname -r) of the Debian kernel a meta package points at:
#   tools/kver.sh 6.1   -> e.g. 6.1.0-56-amd64        (linux-image-amd64)
#   tools/kver.sh 6.12  -> e.g. 6.12.117+deb12-amd64  (linux-image-6.12-amd64)
set -euo pipefail

case "${1:-6.1}" in
6.1)	meta=linux-image-amd64 ;;
6.12)	meta=linux-image-6.12-amd64 ;;
*)	echo "kver: unknown series '$1' (6.1 or 6.12)" >&2; exit 2 ;;
esac
dpkg-query -W -f='${Depends}\n' "$meta" |
	grep -o 'linux-image-[^ ,]*' | head -n1 | sed 's/^linux-image-//; s/-unsigned$//'
