#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The packages as a user gets them: build them (make deb: lintian-clean),
# install them on this machine with apt, check that DKMS built the module for
# each installed kernel (6.1 and 6.12), build a program with pkg-config, boot
# each kernel so that `modprobe pmemflush` loads DKMS's module and the
# installed command and the program run (tools/pkg/guest-packages.sh), then
# purge the packages and check that nothing of theirs is left.
# Needs root (apt). TAP files go to RESULTS.
# Usage: check-packages.sh BUILD RESULTS
set -uo pipefail
cd "$(dirname "$0")/../.."

b=$(realpath -m "$1")
res=$(realpath -m "$2")
deb=$b/deb
pkgs=(pmemflush-dkms libpmemflush1 libpmemflush-dev pmemflush-tools)
kvers=("$(tools/kver.sh 6.1)" "$(tools/kver.sh 6.12)")
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
mkdir -p "$res"

n=0
tap=$res/packages.tap
: >"$tap.body"
step() {	# description command...: one TAP line, the output as diagnostics
	local d=$1 out rc
	shift
	n=$((n + 1))
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "ok $n $d" | tee -a "$tap.body"
	else
		echo "not ok $n $d" | tee -a "$tap.body"
		echo "$out" | tail -n 30 | sed 's/^/# /' | tee -a "$tap.body"
	fi
	return $rc
}

# "installed", "config-files" (removed, not purged) or nothing
pkg_state() {
	dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null | grep -v '^not-installed$'
}

purge() {
	local p installed=()
	for p in "${pkgs[@]}"; do
		[ -n "$(pkg_state "$p")" ] && installed+=("$p")
	done
	[ ${#installed[@]} -eq 0 ] || $sudo apt-get purge -y -q "${installed[@]}"
}

install_pkgs() {
	local f=()
	for p in "${pkgs[@]}"; do
		f+=("$(ls "$deb"/"${p}"_*.deb)") || return 1
	done
	$sudo apt-get install -y -q --no-install-recommends "${f[@]}"
}

dkms_built() {
	local k ver path rc=0
	ver=$(dpkg-query -W -f='${Version}' pmemflush-dkms)
	for k in "${kvers[@]}"; do
		dkms status -m pmemflush -v "$ver" -k "$k"
		dkms status -m pmemflush -v "$ver" -k "$k" | grep -q ': installed' || rc=1
		path=$(modinfo -k "$k" -n pmemflush) || { rc=1; continue; }
		echo "$k: $path"
		case "$path" in
		/lib/modules/"$k"/updates/dkms/pmemflush.ko*) ;;
		*)	echo "$k: modprobe would load $path, not DKMS's"; rc=1 ;;
		esac
	done
	return $rc
}

# What a kernel update does: the kernel's postinst runs
# /etc/kernel/postinst.d/dkms, which must rebuild the module (AUTOINSTALL).
# The 6.12 module is removed first, as if that kernel were new.
kernel_hook() {
	local k=${kvers[1]} ver
	ver=$(dpkg-query -W -f='${Version}' pmemflush-dkms)
	$sudo dkms remove -m pmemflush -v "$ver" -k "$k" || return 1
	if modinfo -k "$k" -n pmemflush; then
		echo "$k: still has the module after dkms remove"
		return 1
	fi
	$sudo /etc/kernel/postinst.d/dkms "$k" || return 1
	dkms status -m pmemflush -v "$ver" -k "$k" | grep ': installed' &&
		modinfo -k "$k" -n pmemflush | grep -q "/updates/dkms/"
}

build_user() {
	local cflags libs
	cflags=$(pkg-config --cflags libpmemflush) || return 1
	libs=$(pkg-config --libs libpmemflush) || return 1
	mkdir -p "$b/pkg"
	echo "cc $cflags tools/pkg/pkg-user.c $libs"
	cc -Wall -Wextra -Werror $cflags -o "$b/pkg/pkg-user" tools/pkg/pkg-user.c $libs &&
		ldd "$b/pkg/pkg-user" | tee /dev/stderr |
		grep -Eq 'libpmemflush\.so\.1 => /(usr/)?lib/x86_64-linux-gnu/libpmemflush\.so\.1'
}

# everything the packages installed, recorded before the purge
record_files() {
	local p
	for p in "${pkgs[@]}"; do
		dpkg-query -L "$p"
	done | sort -u >"$b/pkg/files"
	wc -l <"$b/pkg/files"
}

nothing_left() {
	local f rc=0 k
	while read -r f; do
		# directories of their own go, shared ones (/usr/share/doc) stay
		if [ -d "$f" ]; then
			case "$f" in
			*pmemflush*)	echo "left: $f/"; rc=1 ;;
			esac
			continue
		fi
		[ -e "$f" ] || [ -L "$f" ] && { echo "left: $f"; rc=1; }
	done <"$b/pkg/files"
	for p in "${pkgs[@]}"; do
		[ -n "$(pkg_state "$p")" ] && { echo "dpkg: $p $(pkg_state "$p")"; rc=1; }
	done
	[ -e /var/lib/dkms/pmemflush ] && { echo "left: /var/lib/dkms/pmemflush"; rc=1; }
	ls -d /usr/src/pmemflush-* 2>/dev/null && rc=1
	for k in "${kvers[@]}"; do
		ls /lib/modules/"$k"/updates/dkms/pmemflush.ko* 2>/dev/null && rc=1
		modinfo -k "$k" -n pmemflush 2>/dev/null && rc=1
	done
	return $rc
}

step "make deb: packages built, lintian reports no error or warning" \
	tools/deb.sh "$deb"
built=$?
step "no earlier install of the packages left" purge
if [ $built -eq 0 ] && step "apt-get install ${pkgs[*]}" install_pkgs; then
	step "DKMS built and installed the module for ${kvers[*]}" dkms_built
	step "the kernel-install hook rebuilds it for ${kvers[1]} (AUTOINSTALL)" \
		kernel_hook
	step "a program links with pkg-config --cflags --libs libpmemflush" build_user
	step "the packages' file list recorded" record_files
	i=0
	for k in "${kvers[@]}"; do
		i=$((i + 1))
		out=$b/vm-packages-$i
		tools/vm/mkinitramfs.sh "$k" "$b/initramfs-$k.cpio.gz"
		step "$k boot: DKMS module, command and program in the guest, log clean" \
			tools/vm/run.sh "$k" qemu "$out" tools/pkg/guest-packages.sh \
				PMF_PKG_USER="$b/pkg/pkg-user"
		if [ -f "$out/tap/packages.tap" ]; then
			cp "$out/tap/packages.tap" "$res/packages-$k.tap"
		else
			printf '1..1\nnot ok 1 guest package test did not run\n' \
				>"$res/packages-$k.tap"
		fi
	done
	step "apt-get purge ${pkgs[*]}" purge
	step "nothing of the packages left after the purge" nothing_left
elif [ $built -eq 0 ]; then
	purge >/dev/null 2>&1	# whatever a failed install left
fi
{ echo "1..$n"; cat "$tap.body"; } >"$tap"
rm -f "$tap.body"
