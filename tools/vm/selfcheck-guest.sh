#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Guest side of the harness self-check: misbehave as PMF_SELFCHECK says.
case "$PMF_SELFCHECK" in
clean)	exit 0 ;;
fail)	false ;;
warn)	echo "<4>WARNING: CPU: 0 PID: 1 at pmemflush-selfcheck" >/dev/kmsg ;;
taint)	echo 512 >/proc/sys/kernel/tainted ;;	# TAINT_WARN
esac
