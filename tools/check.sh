#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# make check: lint, the host tests, the harness self-check, then one VM boot
# per kernel (Debian 6.1, 6.12) and flush provider stack (QEMU NFIT +
# virtio-pmem; nfit_test). Every step leaves TAP in build/results; the last
# line is the total over all of them.
set -uo pipefail
cd "$(dirname "$0")/.."

b=$PWD/build
res=$b/results
rm -rf "$res"
mkdir -p "$res"
selftests=$(ls "$b"/selftests/*)
kver61=$(tools/kver.sh 6.1)

# PMF_SERIES / PMF_STACKS narrow the VM boots, PMF_VM_ONLY=1 skips the
# steps before them and PMF_NO_PACKAGES=1 the package test, for quicker runs
# while developing; make check sets none of them.
series_list=${PMF_SERIES:-6.1 6.12}
stack_list=${PMF_STACKS:-qemu nfit_test cxl}

if [ -z "${PMF_VM_ONLY:-}" ]; then
echo "== lint"
tools/lint.sh | tee "$res/lint.tap"

for t in $(ls "$b"/hosttests/*_test 2>/dev/null); do
	echo "== host: $(basename "$t")"
	"$t" >"$res/host-$(basename "$t").tap" 2>&1
	grep -E '^(not )?ok |^# Totals' "$res/host-$(basename "$t").tap"
done
echo "== host: abi"
tools/abi-check.sh "$b/ulib/libpmemflush.so.1" ulib/libpmemflush.map \
	include/libpmemflush.h | tee "$res/host-abi.tap"

echo "== VM harness self-check"
tools/vm/mkinitramfs.sh "$kver61" "$b/initramfs-$kver61.cpio.gz"
tools/vm/selfcheck.sh "$kver61" "$b/vm-selfcheck" | tee "$res/vm-selfcheck.tap"
fi

boots=()
for series in $series_list; do
	kver=$(tools/kver.sh $series)
	make --no-print-directory -s module KSERIES=$series >/dev/null
	nfit=$b/ksrc-$kver
	tools/vm/mkinitramfs.sh "$kver" "$b/initramfs-$kver.cpio.gz"
	tools/extract-kernel-src.sh "$kver" "$nfit" >/dev/null
	for stack in $stack_list; do
		out=$b/vm-$series-$stack
		echo "== VM: $series ($kver), $stack"
		rc=0
		tools/vm/run.sh "$kver" $stack "$out" tools/vm/guest-tests.sh \
			PMF_MODULE="$b/mod-$kver/pmemflush.ko" \
			PMF_KAPI_MODULE="$b/mod-$kver/test_pmemflush.ko" \
			PMF_NFIT_DIR="$nfit/src/tools/testing/nvdimm" \
			PMF_SELFTESTS="$(echo $selftests)" \
			PMF_COMPAT_PMDK="$b/compat/pmem2_compat-pmdk" \
			PMF_COMPAT_OURS="$b/compat/pmem2_compat-pmemflush" \
			PMF_PATTERNS_DIR="$b/patterns" || rc=$?
		boots+=("$rc $series $stack")
		for t in "$out"/tap/*.tap; do
			[ -f "$t" ] && cp "$t" "$res/$series-$stack-$(basename "$t")"
		done
		# a boot that died mid-run must not lose the tests it never ran
		gen='/[^./]*_test$|'
		[ "$stack" = cxl ] && gen=
		for t in $(ls "$b"/selftests/* | grep -E "$gen\.$stack\$"); do
			name=$(basename "$t")
			[ -f "$res/$series-$stack-$name.tap" ] ||
				printf '1..1\nnot ok 1 %s did not run\n' "$name" \
					>"$res/$series-$stack-$name.tap"
		done
	done
done

{
	echo "1..${#boots[@]}"
	i=0
	for boot in "${boots[@]}"; do
		read -r rc series stack <<<"$boot"
		i=$((i + 1))
		[ "$rc" -eq 0 ] && r=ok || r="not ok"
		echo "$r $i $series $stack boot: job ok, kernel log clean, no foreign taint"
	done
} >"$res/vm-boots.tap"

# the Debian packages, installed, used in two boots and purged (root: apt)
if [ -z "${PMF_NO_PACKAGES:-}" ]; then
	echo "== packages"
	tools/pkg/check-packages.sh "$b" "$res"
fi

echo "== summary"
tools/tap-summary.sh "$res"/*.tap
