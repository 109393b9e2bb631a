#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# pmemflush(1) in the guest, on the stack PMF_STACK names (installed as
# build/selftests/pmemflush_cmd.STACK; guest-tests.sh has brought the stack
# up, exported its targets and loaded the module). Checks list (text and
# JSON) against sysfs, ndctl and mountinfo, query and flush on every target
# kind of the stack (virtio-pmem: one host fsync per flush), the error
# messages, bench, the access policy of a group-restricted /dev/pmemflush,
# the module-unloaded case, --help, --version and usage errors.
# Prints TAP; a failing test does not fail the script.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
C=$(realpath "$here/../cmd/pmemflush")
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
tmp=$(mktemp -d /tmp/pmemflush_cmd.XXXXXX)
out=$tmp/out
errf=$tmp/err
stack=${PMF_STACK:-unknown}
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
MEMBER=(setpriv --reuid=65534 --regid=65534 --groups=4242)

n=0
tap=()
cleanups=()

emit() { tap+=("$1"); }
diag() { while IFS= read -r l; do emit "# $l"; done; }

pass() { n=$((n + 1)); emit "ok $n $1"; }
fail() {
	n=$((n + 1))
	emit "not ok $n $1"
	# (no process substitution: the guest's /dev has no /dev/fd)
	[ -n "${2:-}" ] && diag <<<"$(printf '%s\n' "$2" | tail -n 40)"
}
skip() { n=$((n + 1)); emit "ok $n $1 # SKIP $2"; }

# t DESC CMD...: a test whose verdict is CMD's exit code; its output and
# the command's last stdout/stderr are the diagnostics of a failure
t() {
	local desc=$1 log
	shift
	if log=$("$@" 2>&1); then
		pass "$desc"
	else
		fail "$desc" "--- stdout:
$(head -c 1500 "$out" 2>/dev/null)
--- stderr:
$(head -c 1000 "$errf" 2>/dev/null)
--- check:
$log"
	fi
}

finish() {
	local i
	for ((i = ${#cleanups[@]} - 1; i >= 0; i--)); do
		eval "${cleanups[$i]}" >/dev/null 2>&1
	done
	echo "1..$n"
	printf '%s\n' "${tap[@]}"
	rm -rf "$tmp"
	exit 0
}
trap finish EXIT

# run: the command's stdout in $out, stderr in $errf, exit code in $rc
run() {
	"$@" >"$out" 2>"$errf"
	rc=$?
	return 0
}

# expect RC REGEX-FOR-STDERR-OR-STDOUT, after run
expect() {
	[ "$rc" -eq "$1" ] || { echo "exit $rc, wanted $1"; return 1; }
	[ -z "${2:-}" ] && return 0
	grep -Eq -- "$2" "$out" "$errf" || { echo "no /$2/ in the output"; return 1; }
}

# python helpers: sysfs facts and JSON checks
cat >"$tmp/h.py" <<'EOF'
import json, os, re, stat, sys

def sysdev(path):
    st = os.stat(path)
    if stat.S_ISCHR(st.st_mode):
        return "/sys/dev/char/%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
    if stat.S_ISBLK(st.st_mode):
        return "/sys/dev/block/%d:%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
    return "/sys/dev/block/%d:%d" % (os.major(st.st_dev), os.minor(st.st_dev))

def region_of(path):
    m = re.search(r"/region(\d+)/", os.path.realpath(sysdev(path)))
    return int(m.group(1)) if m else -1

def rd(path, default=None):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default

def target_size(path):
    st = os.stat(path)
    if stat.S_ISREG(st.st_mode):
        return st.st_size
    real = os.path.realpath(sysdev(path))
    if stat.S_ISBLK(st.st_mode):
        return int(rd(real + "/size")) * 512
    return int(rd(real + "/size"))

def fail(msg):
    print(msg)
    sys.exit(1)

def load(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        return json.loads(data.decode("utf-8"))
    except Exception as e:
        fail("not JSON (%s): %r" % (e, data[:300]))

def region_facts(name):
    d = "/sys/bus/nd/devices/" + name
    prov = rd(os.path.realpath(d) + "/../provider", "unknown")
    df = rd(d + "/deep_flush")
    pd = rd(d + "/persistence_domain") or "unknown"
    return prov, int(rd(d + "/size")), (int(df) if df in ("0", "1") else "unknown"), pd

def cmd_query(jf, path, kind, flags, has_flush):
    q = load(jf)
    want = {"path": path, "region_id": region_of(path),
            "region": "region%d" % region_of(path), "target_kind": kind,
            "target_size": target_size(path)}
    for k, v in want.items():
        if q.get(k) != v:
            fail("%s: %r, wanted %r (%r)" % (k, q.get(k), v, q))
    prov, size, df, pd = region_facts(q["region"])
    if q.get("persistence_domain") != pd:
        fail("persistence_domain %r, sysfs %r" % (q.get("persistence_domain"), pd))
    hf = int(has_flush) if has_flush in ("0", "1") else has_flush
    if q.get("has_flush") != hf:
        fail("has_flush %r, wanted %r" % (q.get("has_flush"), hf))
    got = set(q.get("flags", [])) - {"dax_sync"}
    if got != set(f for f in flags.split(",") if f):
        fail("flags %r, wanted %r (dax_sync aside)" % (q.get("flags"), flags))
    if kind == "devdax" and "dax_sync" not in q["flags"]:
        fail("device-dax without dax_sync: %r" % q["flags"])
    if kind in ("block", "btt") and "dax_sync" in q["flags"]:
        fail("dax_sync on a block device: %r" % q["flags"])

def cmd_flush(jf, path, length, device):
    f = load(jf)
    if f.get("region_id") != region_of(path) or f.get("path") != path:
        fail("region/path: %r" % f)
    if f.get("offset") != 0 or f.get("length") != int(length):
        fail("range: %r, wanted 0+%s" % (f, length))
    if f.get("device_flush") != (device == "1"):
        fail("device_flush %r, wanted %s" % (f.get("device_flush"), device))
    if (f.get("flush_seq", 0) > 0) != (device == "1"):
        fail("flush_seq %r with device flush %s" % (f.get("flush_seq"), device))

# the module's own answer for a region (QUERY on its devices, chardevs
# first), independently of the command: True, False or None
PMEMFLUSH_QUERY = (3 << 30) | (48 << 16) | (0xF7 << 8) | 1
def module_sync(r):
    import fcntl, struct
    try:
        pmf = os.open("/dev/pmemflush", os.O_RDWR)
    except OSError:
        return None
    names = [ns[k] for k in ("chardev", "blockdev") for ns in r.get("namespaces", []) if k in ns]
    try:
        for name in names:
            try:
                fd = os.open("/dev/" + name, os.O_RDWR | os.O_NONBLOCK)
            except OSError:
                continue
            buf = bytearray(struct.pack("=IIiIIiIIIIQ", 48, 0, fd, 0, 0, 0, 0, 0, 0, 0, 0))
            try:
                fcntl.ioctl(pmf, PMEMFLUSH_QUERY, buf)
            except OSError:
                continue
            finally:
                os.close(fd)
            return not struct.unpack_from("=I", buf, 32)[0] & 1
    finally:
        os.close(pmf)
    return None

def mount_dax(sopts):
    return any(o in ("dax", "dax=always") for o in sopts.split(","))

def unescape(s):
    return re.sub(rb"\\([0-3][0-7][0-7])", lambda m: bytes([int(m.group(1), 8)]), s)

def cmd_list(jf, ndf):
    regions = load(jf)
    if not isinstance(regions, list):
        fail("not a list: %r" % regions)
    names = sorted(d for d in os.listdir("/sys/bus/nd/devices") if re.fullmatch(r"region\d+", d))
    got = [r.get("dev") for r in regions]
    if sorted(got) != names:
        fail("regions %r, sysfs %r" % (got, names))
    nd = load(ndf)
    if isinstance(nd, dict):
        nd = nd.get("regions", [])
    ndns = {}
    for r in nd:
        for ns in r.get("namespaces", []):
            ndns[ns["dev"]] = (r["dev"], ns)
    seen = set()
    for r in regions:
        prov, size, df, pd = region_facts(r["dev"])
        for k, v in (("provider", prov), ("size", size), ("has_flush", df),
                     ("persistence_domain", pd)):
            if r.get(k) != v:
                fail("%s %s: %r, sysfs %r" % (r["dev"], k, r.get(k), v))
        sync = module_sync(r)
        if sync is not None:
            want = (sync, "module")
        elif prov == "virtio-pmem":
            want = (False, "provider")
        else:
            want = ("unknown", "none")
        if (r.get("synchronous"), r.get("synchronous_source")) != want:
            fail("%s synchronous %r from %r, wanted %r" % (r["dev"], r.get("synchronous"), r.get("synchronous_source"), want))
        for ns in r.get("namespaces", []):
            if ns["dev"] not in ndns:
                fail("%s not in ndctl list: %r" % (ns["dev"], sorted(ndns)))
            reg, n2 = ndns[ns["dev"]]
            seen.add(ns["dev"])
            if reg != r["dev"]:
                fail("%s in %s, ndctl says %s" % (ns["dev"], r["dev"], reg))
            for k in ("mode", "size", "blockdev", "chardev"):
                if ns.get(k) != n2.get(k):
                    fail("%s %s: %r, ndctl %r" % (ns["dev"], k, ns.get(k), n2.get(k)))
            if ("mounts" in ns) != ("blockdev" in ns):
                fail("%s: mounts without blockdev or the reverse: %r" % (ns["dev"], ns))
    if seen != set(ndns):
        fail("namespaces %r, ndctl %r" % (sorted(seen), sorted(ndns)))
    # every mount of a pmem block device is under its namespace
    bydev = {}
    for r in regions:
        for ns in r.get("namespaces", []):
            for m in ns.get("mounts", []):
                bydev.setdefault(m["mountpoint"], []).append((ns, m))
    with open("/proc/self/mountinfo", "rb") as f:
        for line in f:
            a, b = line.rstrip(b"\n").split(b" - ")
            a = a.split(b" ")
            fstype, src, sopts = b.split(b" ")[:3]
            mp = unescape(a[4]).decode("utf-8", "replace")
            if not re.fullmatch(rb"/dev/pmem\d+(s|p\d+)?", src):
                continue
            dev = src[5:].decode()
            hits = [(ns, m) for ns, m in bydev.get(mp, []) if m["blockdev"] == dev and "role" not in m]
            if len(hits) != 1:
                fail("mount %r of %s: %d entries in the list" % (mp, dev, len(hits)))
            ns, m = hits[0]
            if not (ns["blockdev"] == dev or dev.startswith(ns["blockdev"] + "p")):
                fail("mount %r of %s under %s (%s)" % (mp, dev, ns["dev"], ns["blockdev"]))
            if m["fstype"] != fstype.decode() or m["dax"] != mount_dax(sopts.decode()):
                fail("mount %r: %r, mountinfo %s %s" % (mp, m, fstype, sopts))

def cmd_mount(jf, mp, blockdev, dax, role=""):
    mp = mp.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    for r in load(jf):
        for ns in r.get("namespaces", []):
            for m in ns.get("mounts", []):
                if m["mountpoint"] == mp and m["blockdev"] == blockdev and m.get("role", "") == role:
                    if m["dax"] != (dax == "1"):
                        fail("dax %r, wanted %s" % (m["dax"], dax))
                    if not (ns.get("blockdev") == blockdev or blockdev.startswith(ns.get("blockdev", "?") + "p")):
                        fail("under %r" % ns)
                    return
    fail("no mount %r of %s (role %r)" % (mp, blockdev, role))

def cmd_bench(jf, registrable, uring="0"):
    b = load(jf)
    res = {x["op"]: x for x in b.get("results", [])}
    ops = ["null_ioctl", "flush_fd", "flush_id"] + (["uring"] if uring == "1" else [])
    if list(res) != ops:
        fail("ops %r" % list(res))
    keys = ["min_ns", "p50_ns", "p90_ns", "p99_ns", "p99_9_ns", "max_ns"]
    for op, x in res.items():
        if op == "flush_id" and registrable == "0":
            if "skipped" not in x:
                fail("flush_id on an unregistrable target: %r" % x)
            continue
        if x.get("count", 0) <= 0:
            fail("%s count %r" % (op, x.get("count")))
        v = [x[k] for k in keys]
        if v != sorted(v) or v[0] <= 0:
            fail("%s percentiles not monotonic or zero: %r" % (op, v))

def cmd_bench_text(tf, registrable, errf, uring="0"):
    with open(errf, "rb") as f:
        err = f.read(300)
    if err:
        fail("stderr (a progress line?): %r" % err)
    rows = {}
    with open(tf) as f:
        for line in f:
            w = line.split()
            if w and w[0] in ("null_ioctl", "flush_fd", "flush_id", "uring"):
                rows[w[0]] = w[1:]
    want = ["flush_fd", "flush_id", "null_ioctl"] + (["uring"] if uring == "1" else [])
    if sorted(rows) != want:
        fail("rows %r" % rows)
    for op, w in rows.items():
        if op == "flush_id" and registrable == "0":
            if w[0] != "skipped:":
                fail("flush_id %r" % w)
            continue
        v = [int(x) for x in w]
        if len(v) != 6 or v[0] <= 0 or v[1:] != sorted(v[1:]):
            fail("%s: %r" % (op, w))

def cmd_bench_uring_refused(jf):
    res = {x["op"]: x for x in load(jf).get("results", [])}
    u = res.get("uring", {})
    if "io_uring_disabled" not in u.get("skipped", "") or "count" in u:
        fail("uring row %r" % u)
    if res.get("flush_fd", {}).get("count", 0) <= 0:
        fail("flush_fd not measured: %r" % res.get("flush_fd"))

def cmd_region(path):
    print(region_of(path))

def cmd_size(path):
    print(target_size(path))

def cmd_json(jf):
    load(jf)

def cmd_list_text(jf, tf):
    with open(tf) as f:
        txt = f.read()
    regions = load(jf)
    if not regions:
        if "no pmem regions" not in txt:
            fail("no regions, and no 'no pmem regions' in the text")
        return
    for r in regions:
        want = [r["dev"] + ":", r["provider"], "(%d bytes)" % r["size"],
                "persistence_domain: " + r["persistence_domain"]]
        for ns in r["namespaces"]:
            want += [ns["dev"], ns["mode"]] + [ns[k] for k in ("blockdev", "chardev") if k in ns]
            want += ["mounted on " + m["mountpoint"] for m in ns.get("mounts", [])]
        for w in want:
            if w not in txt:
                fail("missing %r" % w)

def cmd_list_nomod(jf, before):
    rs = load(jf)
    for r in rs:
        want = (False, "provider") if r["provider"] == "virtio-pmem" else ("unknown", "none")
        if (r["synchronous"], r["synchronous_source"]) != want:
            fail("%s: %r %r, wanted %r" % (r["dev"], r["synchronous"], r["synchronous_source"], want))
    if len(rs) != len(load(before)):
        fail("region count changed")

# One process answers every check: under TCG a python3 start from the 9p
# root costs 2-5 s, and a boot's run made about 40 of them. A request is a
# count and that many arguments, each NUL-terminated (paths may hold any
# byte but NUL); the answer is what the check printed, NUL, its exit code,
# NUL.
def serve():
    import contextlib, io
    buf = b""

    def field():
        nonlocal buf
        while b"\0" not in buf:
            chunk = os.read(0, 65536)
            if not chunk:
                sys.exit(0)
            buf += chunk
        f, buf = buf.split(b"\0", 1)
        return os.fsdecode(f)

    sys.stdout.reconfigure(errors="backslashreplace")
    while True:
        args = [field() for _ in range(int(field()))]
        out = io.StringIO()
        rc = 0
        with contextlib.redirect_stdout(out):
            try:
                globals()["cmd_" + args[0]](*args[1:])
            except SystemExit as e:
                rc = e.code if isinstance(e.code, int) else 1
            except Exception as e:
                print("%s: %s" % (type(e).__name__, e))
                rc = 1
        sys.stdout.write(out.getvalue() + "\0%d\0" % rc)
        sys.stdout.flush()

serve()
EOF
coproc PYH { exec "$PY" "$tmp/h.py"; }
# py CHECK ARGS...: one check by the helper; its output, its exit code
py() {
	local o=
	local rc=
	printf '%s\0' "$#" "$@" >&"${PYH[1]}" &&
		IFS= read -r -d '' o <&"${PYH[0]}" &&
		IFS= read -r -d '' rc <&"${PYH[0]}"
	printf '%s' "$o"
	[ -n "$rc" ] || { echo "the python helper is gone"; return 1; }
	return "$rc"
}
# pyok RC CHECK ARGS...: the command before exited RC (0 wanted), then CHECK
pyok() {
	[ "$1" -eq 0 ] || { echo "exit $1, wanted 0"; return 1; }
	shift
	py "$@"
}

# --- targets of this stack: path kind flags has_flush device_flush registrable
targets=()
add_target() { [ -n "$1" ] && targets+=("$1|$2|$3|$4|$5|$6"); }
mkfile() {	# dir -> a 1 MiB file there, written back
	local f=$1/pmemflush_cmd.dat
	dd if=/dev/zero of="$f" bs=1M count=1 conv=fsync status=none && echo "$f"
}
devdax=
case "$stack" in
qemu)
	add_target "$PMF_NFIT_DEVDAX" devdax "" 0 0 1
	add_target "$PMF_NFIT_PMEM" block "" 0 0 1
	add_target "$(mkfile "$PMF_NFIT_EXT4")" fsdax_file "" 0 0 1
	add_target "$(mkfile "$PMF_NFIT_XFS")" fsdax_file "" 0 0 1
	add_target "$PMF_NFIT_RAW" block "" 0 0 0
	add_target "$PMF_NFIT_PART" block "" 0 0 0
	add_target "$PMF_NFIT_BTT" btt "" 0 0 0
	add_target "$(mkfile "$PMF_VIRTIO_EXT4")" fsdax_file async unknown 1 1
	add_target "$PMF_VIRTIO_DEVDAX" devdax async unknown 1 1
	devdax=$PMF_NFIT_DEVDAX
	;;
nfit_test)
	add_target "$PMF_HINTS_DEVDAX" devdax "" 1 1 1
	add_target "$PMF_HINTS_PMEM" block "" 1 1 1
	devdax=$PMF_HINTS_DEVDAX
	;;
cxl)
	if [ -z "${PMF_CXL_SKIP:-}" ]; then
		add_target "$PMF_CXL_DEVDAX" devdax cxl 0 0 1
		add_target "$PMF_CXL_PMEM" block cxl 0 0 1
		add_target "$PMF_CXL_RAW" block cxl 0 0 0
		[ -n "${PMF_CXL_EXT4:-}" ] &&
			add_target "$(mkfile "$PMF_CXL_EXT4")" fsdax_file cxl 0 0 1
		[ -n "${PMF_CXL_XFS:-}" ] &&
			add_target "$(mkfile "$PMF_CXL_XFS")" fsdax_file cxl 0 0 1
		devdax=$PMF_CXL_DEVDAX
	fi
	;;
esac
nosupport=${PMF_CXL_SKIP:-no $stack targets}

# --- help, version, usage errors
run "$C" --version
t "--version prints 'pmemflush VERSION'" \
	bash -c '[ "$0" -eq 0 ] && grep -Eqx "pmemflush [0-9]+(\.[0-9]+)+" "$1" && [ ! -s "$2" ]' \
	"$rc" "$out" "$errf"
run "$C" --help
t "--help lists the four commands, exit 0" bash -c \
	'[ "$0" -eq 0 ] && for c in list query flush bench; do grep -q "pmemflush $c" "$1" || exit 1; done' \
	"$rc" "$out"
for c in list query flush bench; do
	run "$C" "$c" --help
	t "$c --help: its usage on stdout, exit 0" bash -c \
		'[ "$0" -eq 0 ] && grep -q "usage: pmemflush $2" "$1" && grep -q -- "--json" "$1"' \
		"$rc" "$out" "$c"
done
usage_case() {	# desc regex args...
	local desc=$1 re=$2
	shift 2
	run "$C" "$@"
	t "usage error: $desc: exit 129, message and usage on stderr" bash -c \
		'[ "$0" -eq 129 ] && [ ! -s "$1" ] && grep -Eq -- "$3" "$2" && grep -q "usage: pmemflush" "$2"' \
		"$rc" "$out" "$errf" "$re"
}
usage_case "no command" "no command given"
usage_case "unknown command" "'frob' is not a pmemflush command" frob
usage_case "unknown option" "unknown option '--frob'" list --frob
usage_case "flush without a target" "no target given" flush
usage_case "two targets" "one target only" query /dev/null /dev/zero
usage_case "bad size" "bad length '12Q'" flush --length 12Q /dev/null
usage_case "option without value" "'--offset' needs a value" flush --offset
usage_case "bench --seconds 0" "bad --seconds" bench --seconds 0 /dev/null

# --- list
ndctl list -RN >"$tmp/ndctl.json" 2>/dev/null || echo '[]' >"$tmp/ndctl.json"
[ -s "$tmp/ndctl.json" ] || echo '[]' >"$tmp/ndctl.json"
run "$C" list -j
cp "$out" "$tmp/list.json"
t "list -j: exit 0, nothing on stderr, valid JSON" bash -c \
	'[ "$0" -eq 0 ] && [ ! -s "$1" ]' "$rc" "$errf"
t "list -j: valid JSON" py json "$tmp/list.json"
t "list -j: regions, providers, sizes, has_flush, persistence domains match sysfs; namespaces, modes, sizes, devices match ndctl list -RN; every pmem mount under its namespace" \
	py list "$tmp/list.json" "$tmp/ndctl.json"
run "$C" list
cp "$out" "$tmp/list.txt"
emit "# pmemflush list:"
diag <"$tmp/list.txt"
t "list (text): every region, namespace and device of list -j" \
	py list_text "$tmp/list.json" "$tmp/list.txt"

if [ "$stack" = qemu ]; then
	for m in "$PMF_NFIT_EXT4 ${PMF_NFIT_PMEM#/dev/} 1" \
		 "$PMF_VIRTIO_EXT4 $(findmnt -no SOURCE "$PMF_VIRTIO_EXT4" | sed 's|/dev/||') 1" \
		 "$PMF_NFIT_XFS $(findmnt -no SOURCE "$PMF_NFIT_XFS" | sed 's|/dev/||') 1" \
		 "$PMF_NFIT_BTT_EXT4 ${PMF_NFIT_BTT#/dev/} 0"; do
		set -- $m
		t "list -j: $1 on $2 with dax $3" py mount "$tmp/list.json" "$1" "$2" "$3"
	done
	rt=$(findmnt -no OPTIONS "$PMF_NFIT_XFS" | tr , '\n' | sed -n 's|^rtdev=/dev/||p')
	t "list -j: the xfs realtime device $rt carries $PMF_NFIT_XFS as role realtime" \
		py mount "$tmp/list.json" "$PMF_NFIT_XFS" "$rt" 1 realtime
	# a mount point that needs every kind of escaping
	odd=$'/mnt/pmf "q" \\ tab\there\nnl \xc3\xa9 \xff'
	if mkdir -p "$odd" && mount --bind "$PMF_NFIT_EXT4" "$odd"; then
		cleanups+=("umount '$odd'; rmdir '$odd'")
		run "$C" list -j
		cp "$out" "$tmp/list2.json"
		t "list -j: a bind mount at a path with quote, backslash, tab, newline, UTF-8 and a non-UTF-8 byte: valid JSON, exact path" \
			py mount "$tmp/list2.json" "$odd" "${PMF_NFIT_PMEM#/dev/}" 1
		run "$C" list
		t "list (text): the odd mount point is printed" grep -qF "pmf \"q\"" "$out"
		umount "$odd" && rmdir "$odd"
	else
		fail "list -j: odd mount point" "cannot bind-mount $PMF_NFIT_EXT4"
	fi
fi

# --- query and flush on every target kind
fsync_count() { local c; c=$(cat "$1" 2>/dev/null); echo "${c:-0}"; }
for tg in "${targets[@]}"; do
	IFS='|' read -r path kind flags hf devflush reg <<<"$tg"
	label="$kind $path"
	[ -n "$flags" ] && label="$label ($flags)"
	run "$C" query -j "$path"
	cp "$out" "$tmp/q.json"
	t "query -j $label: kind, region (sysfs), size, has_flush $hf, flags '${flags:-none}', persistence domain" \
		pyok "$rc" query "$tmp/q.json" "$path" "$kind" "$flags" "$hf"
	region=$(py region "$path")
	run "$C" query "$path"
	t "query $label (text): region$region, $kind" bash -c \
		'[ "$0" -eq 0 ] && grep -Eq "^region: +region$2\$" "$1" && grep -Eq "^target_kind: +$3\$" "$1"' \
		"$rc" "$out" "$region" "$kind"
	size=$(py size "$path")
	run "$C" flush "$path"
	t "flush $label: exit 0, whole target [0, $size) on region$region" \
		expect 0 "^flushed $path \\[0, $size\\) on region$region: "
	run "$C" flush -j "$path"
	cp "$out" "$tmp/f.json"
	t "flush -j $label: device_flush $devflush" \
		pyok "$rc" flush "$tmp/f.json" "$path" "$size" "$devflush"
	run "$C" flush --offset 0x1000 --length 4K "$path"
	t "flush $label --offset 0x1000 --length 4K: [4096, 8192)" \
		expect 0 "^flushed .* \\[4096, 8192\\) on region$region"
	run "$C" flush --offset "$size" --length 1 "$path"
	t "flush $label past the end: ERANGE message, exit 1" \
		expect 1 "range \\[$size, $((size + 1))\\) ends past the end of the target \\(ERANGE\\): it is $size bytes"
	run "$C" flush --length $((size + 4096)) "$path"
	t "flush $label longer than the target: ERANGE, exit 1" expect 1 "ERANGE"
	if [ -b "$path" ] || [ -c "$path" ]; then
		run "${NOBODY[@]}" "$C" flush "$path"
		t "flush $label as nobody: cannot open for writing, exit 1" \
			expect 1 "cannot open $path for writing: permission denied"
	fi
done
[ ${#targets[@]} -gt 0 ] || skip "query and flush on the stack's targets" "$nosupport"

# virtio-pmem: each flush is one host fsync of the backing file
if [ "$stack" = qemu ]; then
	c0=$(fsync_count "$PMF_VIRTIO_DEVDAX_FSYNC")
	ok=1
	for i in 1 2 3; do "$C" flush -q "$PMF_VIRTIO_DEVDAX" || ok=0; done
	c1=$(fsync_count "$PMF_VIRTIO_DEVDAX_FSYNC")
	t "virtio-pmem device-dax: 3 flushes, 3 host fsyncs ($c0 -> $c1)" \
		test "$ok" = 1 -a "$c1" -eq $((c0 + 3))
	f=$PMF_VIRTIO_EXT4/pmemflush_cmd.dat
	# ext4's journal may flush on its own: one try in three must be exact
	got=
	for try in 1 2 3; do
		sync
		c0=$(fsync_count "$PMF_VIRTIO_EXT4_FSYNC")
		"$C" flush -q "$f" || break
		c1=$(fsync_count "$PMF_VIRTIO_EXT4_FSYNC")
		got="$got $((c1 - c0))"
		[ "$c1" -eq $((c0 + 1)) ] && break
	done
	t "virtio-pmem ext4 DAX file: one flush, one host fsync (deltas:$got)" \
		test "${got##* }" = 1
fi

# --- errors by kind of target
run "$C" flush "$tmp/nonexistent"
t "flush of a nonexistent path: 'no such file or device', exit 1" \
	expect 1 "$tmp/nonexistent: no such file or device"
run "$C" flush "$tmp"
t "flush of a directory: 'is a directory', exit 1" expect 1 "is a directory"
echo data >"$tmp/plain"
run "$C" flush "$tmp/plain"
t "flush of a tmpfs file: no persistent memory region (ENODEV), exit 1" \
	expect 1 "no persistent memory region behind it \\(ENODEV\\)"
run "$C" query "$tmp/plain"
t "query of a tmpfs file: ENODEV, exit 1" expect 1 "ENODEV"
run "$C" flush "$0"
t "flush of a file on the read-only root: read-only file system, exit 1" \
	expect 1 "cannot open $0 for writing: read-only file system"
if [ "$stack" = qemu ]; then
	dd if=/dev/zero of="$PMF_NFIT_BTT_EXT4/pmemflush_cmd.dat" bs=4K count=4 \
		status=none
	run "$C" flush "$PMF_NFIT_BTT_EXT4/pmemflush_cmd.dat"
	t "flush of a non-DAX file on pmem (ext4 on BTT): not DAX, use fsync (EOPNOTSUPP), exit 1" \
		expect 1 "not DAX \\(EOPNOTSUPP\\).*fsync"
	dd if=/dev/zero of="$PMF_NFIT_XFS_RT/pmemflush_cmd.dat" bs=4K count=4 \
		status=none
	run "$C" flush "$PMF_NFIT_XFS_RT/pmemflush_cmd.dat"
	t "flush of an XFS realtime file: EOPNOTSUPP, exit 1" expect 1 "EOPNOTSUPP"
else
	skip "flush of a non-DAX file on pmem: EOPNOTSUPP" "only the qemu stack has one"
fi

# --- bench
if [ -n "$devdax" ]; then
	run "$C" bench --seconds 1 "$devdax"
	cp "$out" "$tmp/bench.txt"
	emit "# pmemflush bench --seconds 1 $devdax:"
	diag <"$tmp/bench.txt"
	t "bench --seconds 1 $devdax (text): counts > 0, p50 <= p90 <= p99 <= p99.9 <= max, no progress on a non-tty" \
		pyok "$rc" bench_text "$tmp/bench.txt" 1 "$errf"
	run "$C" bench -j -s 1 "$devdax"
	cp "$out" "$tmp/bench.json"
	t "bench -j -s 1 $devdax: valid JSON, three ops, counts > 0, percentiles monotonic" \
		pyok "$rc" bench "$tmp/bench.json" 1
	# --uring: a fourth row, FLUSH as an io_uring command
	run "$C" bench -j -s 1 --uring "$devdax"
	cp "$out" "$tmp/bench-uring.json"
	t "bench -j -s 1 --uring $devdax: four ops, the io_uring one measured" \
		pyok "$rc" bench "$tmp/bench-uring.json" 1 1
	run "$C" bench -s 1 -u "$devdax"
	cp "$out" "$tmp/bench-uring.txt"
	t "bench -s 1 -u $devdax (text): a uring row with counts and percentiles" \
		pyok "$rc" bench_text "$tmp/bench-uring.txt" 1 "$errf" 1
	if [ -w /proc/sys/kernel/io_uring_disabled ]; then
		old_ud=$(cat /proc/sys/kernel/io_uring_disabled)
		echo 2 >/proc/sys/kernel/io_uring_disabled
		run "$C" bench -j -s 1 --uring "$devdax"
		echo "$old_ud" >/proc/sys/kernel/io_uring_disabled
		t "bench --uring with kernel.io_uring_disabled=2: the uring row skipped, saying why" \
			pyok "$rc" bench_uring_refused "$out"
	fi
	if ! mountpoint -q /dev/pts; then
		mkdir -p /dev/pts && mount -t devpts devpts /dev/pts &&
			cleanups+=("umount /dev/pts")
	fi
	if command -v script >/dev/null && mountpoint -q /dev/pts; then
		script -qec "$C bench --seconds 2 $devdax >/dev/null" "$tmp/tty.log" >/dev/null 2>&1
		t "bench --seconds 2 on a tty: a carriage-return progress line" \
			grep -q $'\r[a-z_]*: [0-9.]*/2 s, [0-9]* calls' "$tmp/tty.log"
	fi
	# a REGISTER by id of a raw namespace is refused: flush_id skipped
	raw=${PMF_NFIT_RAW:-${PMF_CXL_RAW:-}}
	if [ -n "$raw" ] && [ -z "${PMF_CXL_SKIP:-}" ]; then
		run "$C" bench -j -s 1 "$raw"
		cp "$out" "$tmp/bench-raw.json"
		t "bench -j $raw (raw, not registrable): flush_id skipped, the others measured" \
			pyok "$rc" bench "$tmp/bench-raw.json" 0
	fi
else
	skip "bench" "$nosupport"
fi

# --- access policy: /dev/pmemflush restricted to a group (gid 4242)
if [ -n "$devdax" ]; then
	node_own=$(stat -c %u:%g /dev/pmemflush) node_mode=$(stat -c %a /dev/pmemflush)
	dax_own=$(stat -c %u:%g "$devdax") dax_mode=$(stat -c %a "$devdax")
	cleanups+=("chown $node_own /dev/pmemflush; chmod $node_mode /dev/pmemflush; chown $dax_own '$devdax'; chmod $dax_mode '$devdax'")
	chown :4242 /dev/pmemflush "$devdax" && chmod 0660 /dev/pmemflush "$devdax"
	run "${NOBODY[@]}" "$C" flush "$devdax"
	t "node root:4242 0660: a non-member gets the node's message (restricted to group 4242), exit 1" \
		expect 1 "/dev/pmemflush: permission denied: the node is restricted to group 4242 \\(mode 0660\\)"
	run "${MEMBER[@]}" "$C" flush "$devdax"
	t "node root:4242 0660: a member of 4242 with a writable target flushes" \
		expect 0 "^flushed $devdax "
	chown "$node_own" /dev/pmemflush && chmod "$node_mode" /dev/pmemflush
	chown "$dax_own" "$devdax" && chmod "$dax_mode" "$devdax"
	t "node restored to $node_own $node_mode" test \
		"$(stat -c %u:%g:%a /dev/pmemflush)" = "$node_own:$node_mode"
else
	skip "access policy" "$nosupport"
fi

# --- the module unloaded (loaded again from PMF_MODULE for the next tests)
: >"$errf"
if [ -n "${PMF_MODULE:-}" ] && [ "$(cat /sys/module/pmemflush/refcnt 2>/dev/null)" = 0 ] &&
   rmmod pmemflush 2>"$errf"; then
	cleanups+=("[ -e /sys/module/pmemflush ] || insmod '$PMF_MODULE'")
	tgt0=${targets[0]:-/dev/null}
	run "$C" flush "${tgt0%%|*}"
	t "module unloaded: flush says 'not loaded (try: modprobe pmemflush)', exit 1" \
		expect 1 "/dev/pmemflush does not exist: the pmemflush module is not loaded \\(try: modprobe pmemflush\\)"
	run "$C" list -j
	cp "$out" "$tmp/list-nomod.json"
	t "module unloaded: list -j still lists; synchronous from the provider or unknown" \
		py list_nomod "$tmp/list-nomod.json" "$tmp/list.json"
	insmod "$PMF_MODULE"
	for i in $(seq 50); do [ -e /dev/pmemflush ] && break; sleep 0.1; done
	t "module loaded again from \$PMF_MODULE: /dev/pmemflush is back" test -c /dev/pmemflush
else
	skip "module unloaded" "pmemflush is in use ($(cat /sys/module/pmemflush/refcnt 2>/dev/null) refs) or cannot be unloaded: $(head -c 200 "$errf")"
fi
