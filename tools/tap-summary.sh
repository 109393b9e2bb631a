#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Total the TAP files of a `make check` run. A file whose plan promises more
# results than it has (a crashed or killed test binary), or that has no plan,
# counts the missing results as failures. Prints one line per file, then
# "N passed, N failed, N skipped"; exits 1 when anything failed.
# Usage: tap-summary.sh FILE.tap...
set -euo pipefail

awk '
function flush_file() {
	if (file == "")
		return
	missing = (plan < 0) ? 1 : plan - (p + f + s)
	if (missing > 0)
		f += missing
	printf "%-44s %3d passed, %d failed, %d skipped%s\n", name, p, f, s,
	       (missing > 0) ? sprintf(" (%d results missing)", missing) : ""
	P += p; F += f; S += s
}
FNR == 1 {
	flush_file()
	file = FILENAME; name = FILENAME; sub(/.*\//, "", name); sub(/\.tap$/, "", name)
	plan = -1; p = f = s = 0
}
/^1\.\.[0-9]+/ { plan = substr($1, 4) + 0 }
/^ok / { if ($0 ~ /# *SKIP/) s++; else p++ }
/^not ok / { f++; failed[++nfailed] = name ": " $0 }
END {
	flush_file()
	for (i = 1; i <= nfailed; i++)
		print "FAILED " failed[i]
	printf "%d passed, %d failed, %d skipped\n", P, F, S
	exit (F > 0)
}' "$@"
