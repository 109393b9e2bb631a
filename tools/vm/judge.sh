#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Verdict on one guest boot: fail unless the job exited 0, the kernel log is
# clean and the kernel is tainted by nothing but out-of-tree (O, 4096) and
# unsigned (E, 8192) modules.
# Usage: judge.sh OUTDIR
set -uo pipefail

out=$1
bad=0
fail() {
	echo "vm: FAIL: $*"
	bad=1
}

[ -f "$out/judge-notes" ] && fail "$(cat "$out/judge-notes")"
if [ ! -f "$out/rc" ]; then
	fail "guest did not finish (no exit code); console tail:"
	tail -n 40 "$out/console" 2>/dev/null | sed 's/^/  /'
elif [ "$(cat "$out/rc")" != 0 ]; then
	fail "guest job exited $(cat "$out/rc"); log tail:"
	tail -n 30 "$out/job.log" | sed 's/^/  /'
fi

# A panic or hang leaves no dmesg file, so also scan the serial console.
# The sanitizer kernel's reports all match too: KASAN, KFENCE and sleeping in
# atomic context say "BUG:", lockdep "WARNING: possible ..." or "INFO:",
# UBSAN "UBSAN:", debugobjects "ODEBUG:".
pat='WARNING:|BUG:|Oops|kernel BUG at|general protection fault|refcount_t:|list_add corruption|list_del corruption|UBSAN:|KASAN:|KFENCE:|ODEBUG:|INFO: |Call Trace:|hung_task|blocked for more than'
hits=$(cat "$out/dmesg" "$out/console" 2>/dev/null | grep -E "$pat")
[ -n "$hits" ] && fail "guest kernel log reports:" && echo "$hits" | head -n 20 | sed 's/^/  /'
# kmemleak's scan at the end of the boot (tools/vm/init)
if [ -s "$out/kmemleak" ]; then
	fail "kmemleak: $(grep -c '^unreferenced object' "$out/kmemleak") unreferenced object(s):"
	head -n 30 "$out/kmemleak" | sed 's/^/  /'
fi

if [ -f "$out/tainted" ]; then
	t=$(cat "$out/tainted")
	[ $((t & ~(4096 | 8192))) -ne 0 ] && fail "kernel tainted $t (only O|E allowed)"
elif [ -f "$out/rc" ]; then
	fail "no taint mask recorded"
fi
exit $bad
