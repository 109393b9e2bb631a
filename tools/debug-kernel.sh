#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The sanitizer guest kernel (KASAN, lockdep, KFENCE, UBSAN, kmemleak, ...):
# Debian's linux-source-6.1 + tools/vm/debug-patches/*.patch (fixes of the
# kernel itself that the sanitizer guest needs, each saying why) +
# x86_64_defconfig + tools/vm/debug.config, with its modules and the
# nfit_test modules built against it. The build lives in a cache outside the
# checkout, keyed by the source package's version and the hash of the
# fragment and the patches, so only the first run on a machine pays for it
# (about 20 minutes here). Prints the cache directory:
#   DIR/bzImage  DIR/release  DIR/root/lib/modules/RELEASE  DIR/obj (build tree)
#   DIR/src/tools/testing/nvdimm/*.ko (nfit_test)
# Usage: tools/debug-kernel.sh [--path]   (--path: print DIR, build nothing)
set -euo pipefail
cd "$(dirname "$0")/.."

series=6.1
frag=$PWD/tools/vm/debug.config
patches=("$PWD"/tools/vm/debug-patches/*.patch)
tarball=/usr/src/linux-source-$series.tar.xz
cache=${PMF_CACHE:-/var/tmp/pmemflush-cache}
ver=$(dpkg-query -W -f='${Version}' linux-source-$series)
hash=$(cat "$frag" "${patches[@]}" | sha256sum | cut -c1-12)
dir=$cache/debug-$series-$ver-$hash

if [ "${1:-}" = --path ] || [ -f "$dir/done" ]; then
	echo "$dir"
	exit 0
fi

log() { echo "debug-kernel: $*" >&2; }
mkdir -p "$cache"
rm -rf "$dir"
mkdir -p "$dir/src" "$dir/obj"
start=$(date +%s)
log "building linux-source-$series $ver + $(basename "$frag") in $dir"
tar -xJf "$tarball" -C "$dir/src" --strip-components=1
for p in "${patches[@]}"; do
	log "applying $(basename "$p")"
	patch -s -p1 -d "$dir/src" <"$p"
done

k=(make -s -C "$dir/src" O="$dir/obj" -j"$(($(nproc) + 1))")
"${k[@]}" x86_64_defconfig >/dev/null
"$dir/src/scripts/kconfig/merge_config.sh" -m -O "$dir/obj" \
	"$dir/obj/.config" "$frag" >/dev/null
"${k[@]}" olddefconfig >/dev/null
# every line of the fragment must have survived Kconfig's dependencies
bad=0
while read -r line; do
	case "$line" in
	CONFIG_*=*)	grep -qxF "$line" "$dir/obj/.config" || { log "not set: $line"; bad=1; } ;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }; sym=${sym%% *}
		grep -q "^$sym=" "$dir/obj/.config" && { log "still set: $sym"; bad=1; } ;;
	esac
done <"$frag"
[ $bad -eq 0 ] || exit 1

"${k[@]}" bzImage modules
"${k[@]}" INSTALL_MOD_PATH="$dir/root" INSTALL_MOD_STRIP=1 modules_install >/dev/null
rel=$("${k[@]}" kernelrelease)
# the tests' nfit_test stack, against this kernel
"${k[@]}" M="$dir/src/tools/testing/nvdimm" modules
cp "$dir/obj/arch/x86/boot/bzImage" "$dir/bzImage"
echo "$rel" >"$dir/release"
# keep what the module build and nfit_test need, drop the object files
find "$dir/obj" -name '*.o' -delete
touch "$dir/done"
log "built $rel in $(( $(date +%s) - start ))s"
echo "$dir"
