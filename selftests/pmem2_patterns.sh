#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# libpmem2 usage patterns (selftests/patterns/*.c: log, ringbuf, redo, usc,
# multifile), each built against PMDK's libpmem2 (NAME-pmdk) and against
# libpmemflush (NAME-pmemflush), run on every target kind the stack offers:
# device-dax, a file on the ext4 DAX mount, a file on the xfs DAX mount, a
# file on the ext4 DAX mount of virtio-pmem.
# Installed as build/selftests/pmem2_patterns.STACK; guest-tests.sh has
# brought the stack up and exported its targets (guest-setup.sh).
#
# For each program and target, on freshly zeroed identical targets: both
# builds write and read back (exit 0), their outputs are the same, the
# medium they leave is the same (SHA-256 of the range the program uses),
# and each build reads what the other wrote with the same output as PMDK's
# own read. One TAP line per (program, target, check).
#
# PMF_PATTERNS_DIR: where the binaries are (default ../patterns next to this
# script, or ../build/patterns from the source tree).
# PMF_PAT_DIRS="NAME=DIR ...": more file targets (host runs: files in DIR,
# e.g. tmpfs=/dev/shm/x; non-DAX files map with PAGE granularity).
# PMF_PAT_ONLY: run only these programs.
# Prints TAP; a failing test does not fail the script.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
P=${PMF_PATTERNS_DIR:-$(realpath -m "$here/../patterns")}
# run from the source tree: the binaries are in build/
[ -d "$P" ] || P=$(realpath -m "$here/../build/patterns")
WIN=$((4 << 20))
NFILES=4
programs=${PMF_PAT_ONLY:-log ringbuf redo usc multifile}
tmp=$(mktemp -d /tmp/pmem2_patterns.XXXXXX)

n=0
tap=()
emit() { tap+=("$1"); }
pass() { n=$((n + 1)); emit "ok $n $1"; }
fail() {
	n=$((n + 1))
	emit "not ok $n $1"
	[ -n "${2:-}" ] && while IFS= read -r l; do emit "# $l"; done \
		<<<"$(printf '%s\n' "$2" | head -n 40)"
}
skip() { n=$((n + 1)); emit "ok $n $1 # SKIP $2"; }

finish() {
	echo "1..$n"
	printf '%s\n' "${tap[@]}"
	rm -rf "$tmp"
	exit 0
}
trap finish EXIT

# zero the first LEN bytes of a file or device-dax (which has no
# read(2)/write(2): through mmap), or print their SHA-256
medium() {	# zero|hash PATH LEN
	if [ "$1" = zero ]; then
		"$P/medium" zero "$2" "$3"
	else
		"$P/medium" dump "$2" "$3" | sha256sum | cut -d' ' -f1
	fi
}

# target kinds: NAME KIND PATH (devdax: the device; file kinds: a directory)
kinds=()
[ -n "${PMF_NFIT_DEVDAX:-}" ] && kinds+=("devdax devdax $PMF_NFIT_DEVDAX")
[ -n "${PMF_NFIT_EXT4:-}" ] && kinds+=("ext4-dax dir $PMF_NFIT_EXT4/pmem2_patterns")
[ -n "${PMF_NFIT_XFS:-}" ] && kinds+=("xfs-dax dir $PMF_NFIT_XFS/pmem2_patterns")
# virtio-pmem: no MAP_SYNC, so PAGE granularity (msync) in both libraries
[ -n "${PMF_VIRTIO_EXT4:-}" ] && kinds+=("virtio-ext4 dir $PMF_VIRTIO_EXT4/pmem2_patterns")
for kv in ${PMF_PAT_DIRS:-}; do
	kinds+=("${kv%%=*} dir ${kv#*=}")
done

# the target arguments of PROG on a kind
targets() {	# prog kind path
	local i
	if [ "$2" = devdax ]; then
		echo "$3"
	elif [ "$1" = multifile ]; then
		for i in $(seq 0 $((NFILES - 1))); do printf '%s ' "$3/$1.$i"; done
	else
		echo "$3/$1.0"
	fi
}

# fresh, zeroed, identical targets
fresh() {	# kind path targets...
	local kind=$1 t
	shift 2
	for t in "$@"; do
		if [ "$kind" = devdax ]; then
			medium zero "$t" $WIN || return 1
		else
			rm -f "$t" && truncate -s $WIN "$t" || return 1
		fi
	done
}

hash_targets() {	# fails when a target cannot be read
	local t h
	for t in "$@"; do
		h=$(medium hash "$t" $WIN) || return 1
		echo "$(basename "$t") $h"
	done
}

# run BUILD MODE PROG TARGETS...: stdout to $tmp/BUILD-MODE.out, stderr to .err
runp() {
	local build=$1 mode=$2 prog=$3
	shift 3
	"$P/$prog-$build" "$mode" "$@" >"$tmp/$build-$mode.out" 2>"$tmp/$build-$mode.err"
}

# Known differences of libpmemflush's output (B, when it is ours), matched
# line by line: sed expressions turning our line into PMDK's, and why.
# - usc: an empty device id (a region without DIMMs: virtio-pmem) asked for
#   in a 0-byte buffer: PMDK returns 0 and writes nothing, not even the NUL;
#   we return PMEM2_E_BUFFER_TOO_SMALL (the id needs 1 byte), as
#   pmem2_source_device_id(3) describes that error.
known_sed='s/^device_id in 0 bytes: -100017$/device_id in 0 bytes: 0/'
known_why="known difference: an empty device id in a 0-byte buffer: PMDK returns 0 writing nothing (not even the NUL), libpmemflush PMEM2_E_BUFFER_TOO_SMALL"

# On virtio-pmem libpmemflush maps files PAGE on purpose (libpmemflush(7):
# MAP_SYNC proves nothing there, and whether the kernel accepts it changes
# from boot to boot); PMDK says CACHE_LINE when the kernel accepts it.
virtio_sed='s/granularity page/granularity cache_line/g'
virtio_why="known difference: virtio-pmem files are PAGE in libpmemflush, CACHE_LINE in PMDK when the kernel accepts MAP_SYNC"

# same DESC A B: outputs A and B must be equal (B is ours when its name
# starts with pmemflush-; the target kind is in \$name)
same() {
	local seds=(-e "$known_sed") why=$known_why

	if [[ "${name:-}" == virtio-* ]]; then
		seds+=(-e "$virtio_sed")
		why="$known_why; $virtio_why"
	fi
	if cmp -s "$2" "$3"; then
		pass "$1"
	elif [[ "$(basename "$3")" == pmemflush-* ]] &&
	     sed "${seds[@]}" "$3" | cmp -s "$2" -; then
		pass "$1"
		emit "# $why"
	else
		fail "$1" "$(diff -u "$2" "$3" | head -n 30)"
	fi
}

check_program() {	# prog name kind path
	local prog=$1 name=$2 kind=$3 path=$4 t rc what
	local -a tg
	read -r -a tg <<<"$(targets "$prog" "$kind" "$path")"
	what="$prog on $name"

	for b in pmdk pmemflush; do
		if [ ! -x "$P/$prog-$b" ]; then
			skip "$what: all checks" "$P/$prog-$b not built"
			return
		fi
	done
	[ "$kind" = dir ] && mkdir -p "$path"

	# each build on its own fresh target: write, hash, read
	for b in pmdk pmemflush; do
		fresh "$kind" "$path" "${tg[@]}" || {
			fail "$what: fresh targets" "cannot zero ${tg[*]}"
			return
		}
		rc=0
		runp $b write "$prog" "${tg[@]}" || rc=$?
		if ! hash_targets "${tg[@]}" >"$tmp/$b.medium" 2>"$tmp/medium.err"; then
			fail "$what: the medium $b left is read" "$(cat "$tmp/medium.err")"
			return
		fi
		[ $rc -eq 0 ] && { runp $b read "$prog" "${tg[@]}" || rc=$?; }
		if [ $rc -eq 0 ]; then
			pass "$what: $b build writes and reads back"
		else
			fail "$what: $b build writes and reads back" \
			     "exit $rc; stderr: $(cat "$tmp/$b-write.err" "$tmp/$b-read.err" 2>/dev/null | head -c 1500)
--- stdout: $(tail -n 5 "$tmp/$b-write.out" "$tmp/$b-read.out" 2>/dev/null)"
		fi
		for m in write read; do
			mv "$tmp/$b-$m.out" "$tmp/$b-$m.own" 2>/dev/null
			: >>"$tmp/$b-$m.own"
		done
	done
	same "$what: write output as PMDK's" "$tmp/pmdk-write.own" "$tmp/pmemflush-write.own"
	same "$what: medium as PMDK's" "$tmp/pmdk.medium" "$tmp/pmemflush.medium"
	same "$what: read output as PMDK's" "$tmp/pmdk-read.own" "$tmp/pmemflush-read.own"

	# cross-reads: what one build wrote, the other reads as PMDK reads it
	for pair in "pmdk pmemflush" "pmemflush pmdk"; do
		read -r w r <<<"$pair"
		fresh "$kind" "$path" "${tg[@]}" || {
			fail "$what: fresh targets" "cannot zero ${tg[*]}"
			return
		}
		rc=0
		runp $w write "$prog" "${tg[@]}" || rc=$?
		[ $rc -eq 0 ] && { runp $r read "$prog" "${tg[@]}" || rc=$?; }
		if [ $rc -ne 0 ]; then
			fail "$what: $r reads what $w wrote" \
			     "exit $rc; stderr: $(cat "$tmp/$w-write.err" "$tmp/$r-read.err" 2>/dev/null | head -c 1500)"
		else
			same "$what: $r reads what $w wrote" "$tmp/pmdk-read.own" "$tmp/$r-read.out"
		fi
	done
	if [ "$kind" = dir ]; then
		rm -f "${tg[@]}"
	fi
}

if [ ${#kinds[@]} -eq 0 ]; then
	skip "libpmem2 usage patterns" "no device-dax or DAX file system on stack ${PMF_STACK:-none}"
	exit 0
fi
for k in "${kinds[@]}"; do
	read -r name kind path <<<"$k"
	emit "# $name: $path"
	for prog in $programs; do
		# under TCG a full matrix takes too long: every program runs on
		# ext4 DAX; on xfs DAX the two whose behaviour depends on the
		# file system (appends, several files in a reservation); on
		# device-dax and virtio-pmem the deep flush per append (log),
		# for PMDK's deep flush walks every ndctl region each call:
		# ringbuf, redo and multifile took 170-210 s of a boot on
		# device-dax, usc there 193 s beside the debug build (its
		# unsafe shutdown count is compared by pmem2_compat too)
		case "$name:$prog" in
		xfs-dax:log | xfs-dax:multifile | virtio-ext4:log | \
		devdax:log | ext4-dax:*) ;;
		*) [ -z "${PMF_PAT_ONLY:-}" ] && [ -z "${PMF_PAT_DIRS:-}" ] &&
			continue ;;
		esac
		start=$SECONDS
		check_program "$prog" "$name" "$kind" "$path"
		emit "# $prog on $name: $((SECONDS - start))s"
	done
	# leave none of our data on the device
	[ "$kind" = devdax ] && medium zero "$path" $WIN
	[ "$kind" = dir ] && rmdir "$path" 2>/dev/null
done
