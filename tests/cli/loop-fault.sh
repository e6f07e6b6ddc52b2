#!/usr/bin/env bash
# loop-fault.sh -- custos-acquire against real block devices (loop devices),
# including one with injected bad sectors.
#
#   CUSTOS_ACQUIRE  path to custos-acquire            (required)
#   FAULTFS         path to the faultfs test helper  (required; skip if absent)
#   SAMPLE          path to samples/sample.img        (required)
#   TMPDIR          where the scratch directory goes  (optional)
#
# Exit status: 0 all cases passed, 1 a case failed, 77 skipped (not root, no
# /dev/fuse, no loop devices, no faultfs, no jq).
#
# Cases:
#   faulty     loop device (read-only) over faultfs with bad sectors 1000:8 and
#              4096:16 (4 KiB aligned, so it holds even if the loop driver
#              only fails whole pages): exit 1, exact ranges in the report,
#              image == sample with those sectors zeroed, BASE.sha256 checks.
#   unaligned  same with 1001:1 and 2050:3; only run when a probe shows that
#              the loop device passes 512-byte failures through exactly.
#   clean      read-only loop device over the clean sample: exit 0, identical
#              image, source.kind/read_only/backing_file in the report.
#   readwrite  read-write loop device with --require-readonly: exit 3, a
#              message about read-only, no BASE.raw.
#   flip       the read-only flag turned off during the run (needs strace):
#              with --require-readonly exit 3 and no image; without, the
#              report records the change.

set -u

skip() {
	echo "SKIP: loop-fault: $*" >&2
	exit 77
}

die() {
	echo "FAIL: loop-fault: $*" >&2
	exit 1
}

# ---- preconditions ---------------------------------------------------------

[ "$(id -u)" -eq 0 ] || skip "needs root (loop devices and FUSE mounts)"
[ -c /dev/fuse ] || skip "/dev/fuse is not available"
command -v fusermount3 >/dev/null 2>&1 || skip "fusermount3 not installed"
command -v losetup >/dev/null 2>&1 || skip "losetup not installed"
command -v jq >/dev/null 2>&1 || skip "jq not installed (needed to read the JSON report)"
if [ -z "${FAULTFS:-}" ] || [ ! -x "$FAULTFS" ]; then
	skip "faultfs not built (set FAULTFS; needs libfuse3-dev)"
fi
losetup -f >/dev/null 2>&1 || skip "no free loop device (is the loop module loaded?)"

if [ -z "${CUSTOS_ACQUIRE:-}" ] || [ ! -x "$CUSTOS_ACQUIRE" ]; then
	die "CUSTOS_ACQUIRE is not set or not executable: '${CUSTOS_ACQUIRE:-}'"
fi
if [ -z "${SAMPLE:-}" ] || [ ! -f "$SAMPLE" ]; then
	die "SAMPLE is not set or not a file: '${SAMPLE:-}'"
fi

SECTOR=512
ACQ_TIMEOUT=300

WORK=$(mktemp -d "${TMPDIR:-/tmp}/custos-loop-fault.XXXXXX") ||
	die "mktemp failed"
WORK=$(cd "$WORK" && pwd -P)

LOOPS=()
LOOPDEV=
ACQ_PID=
MOUNTS=()
FUSE_PIDS=()

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
	local dev mnt pid
	if [ -n "$ACQ_PID" ]; then
		kill "$ACQ_PID" 2>/dev/null
		wait "$ACQ_PID" 2>/dev/null
	fi
	for dev in "${LOOPS[@]+"${LOOPS[@]}"}"; do
		losetup -d "$dev" 2>/dev/null
	done
	for mnt in "${MOUNTS[@]+"${MOUNTS[@]}"}"; do
		# A just-detached loop device may hold the file for a moment.
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			mountpoint -q "$mnt" || break
			fusermount3 -u "$mnt" 2>/dev/null && break
			sleep 0.5
		done
		mountpoint -q "$mnt" && fusermount3 -u -z "$mnt" 2>/dev/null
	done
	for pid in "${FUSE_PIDS[@]+"${FUSE_PIDS[@]}"}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

FAILED=0

pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); }

# check NAME EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1: expected '$2', got '$3'"
	fi
}

# jqr REPORT FILTER -- prints one value from the JSON report ("" if absent)
jqr() {
	jq -r "$2 | if . == null then empty else tostring end" "$1" 2>/dev/null
}

# start_faultfs IMAGE BAD MOUNTPOINT -- mounts faultfs, waits for MOUNT/disk
start_faultfs() {
	mkdir -p "$3" || return 1
	"$FAULTFS" --image "$1" --bad "$2" --sector "$SECTOR" --verbose \
		-f "$3" 2>>"$WORK/faultfs.log" &
	FUSE_PIDS+=("$!")
	MOUNTS+=("$3")
	for _ in $(seq 1 100); do
		[ -e "$3/disk" ] && return 0
		kill -0 "$!" 2>/dev/null || break
		sleep 0.1
	done
	echo "faultfs did not come up; its log:" >&2
	cat "$WORK/faultfs.log" >&2
	return 1
}

# attach [losetup options] FILE -- sets LOOPDEV and remembers it for cleanup
# (not run in $(...): the LOOPS array must be updated in this shell)
attach() {
	LOOPDEV=$(losetup -f --show "$@") || return 1
	LOOPS+=("$LOOPDEV")
}

# attach_ro FILE -- read-only loop device, direct I/O if the kernel allows it
attach_ro() {
	attach --direct-io=on -r "$1" 2>/dev/null || attach -r "$1"
}

# zeroed_copy SRC DST START:COUNT... -- DST = SRC with those sectors zeroed
zeroed_copy() {
	local src=$1 dst=$2 r
	shift 2
	cp "$src" "$dst" || return 1
	for r in "$@"; do
		dd if=/dev/zero of="$dst" bs="$SECTOR" seek="${r%%:*}" \
			count="${r##*:}" conv=notrunc status=none || return 1
	done
}

# acquire NAME ARGS... -- runs custos-acquire, output base $WORK/NAME/img;
# sets RC, BASE, REPORT; stdout/stderr go to $WORK/NAME/{out,err}
acquire() {
	local name=$1
	shift
	mkdir -p "$WORK/$name"
	BASE=$WORK/$name/img
	REPORT=$BASE.report.json
	# In the background so that a signal to this script is acted on at once
	# (bash defers traps while a foreground child runs).
	timeout "$ACQ_TIMEOUT" "$CUSTOS_ACQUIRE" "$@" -o "$BASE" \
		>"$WORK/$name/out" 2>"$WORK/$name/err" </dev/null &
	ACQ_PID=$!
	wait "$ACQ_PID"
	RC=$?
	ACQ_PID=
	if [ "$RC" -eq 124 ]; then
		echo "custos-acquire timed out after ${ACQ_TIMEOUT}s" >&2
	fi
}

show_output() {
	echo "---- custos-acquire stdout ($1) ----"
	head -n 40 "$WORK/$1/out"
	echo "---- custos-acquire stderr ($1) ----"
	head -n 40 "$WORK/$1/err"
	echo "----"
}

# check_hashes NAME IMAGE -- every hash in the report matches IMAGE
check_hashes() {
	local algo want got
	for algo in md5 sha1 sha256 sha512; do
		want=$(jqr "$REPORT" ".hashes.$algo")
		[ -n "$want" ] || continue
		got=$("${algo}sum" <"$2" | cut -d' ' -f1)
		check "$1: report hashes.$algo matches the image" "$got" "$want"
	done
	[ -n "$(jqr "$REPORT" '.hashes.sha256')" ] ||
		fail "$1: report has no hashes.sha256"
}

check_sha256_file() {
	if (cd "$WORK/$1" && sha256sum -c --quiet img.sha256) \
		>"$WORK/$1/sha256check" 2>&1; then
		pass "$1: sha256sum -c img.sha256"
	else
		fail "$1: sha256sum -c img.sha256: $(head -c 300 "$WORK/$1/sha256check")"
	fi
}

# faulty_case NAME BAD-SPEC EXPECTED-RANGES-JSON EXPECTED-COUNT
faulty_case() {
	local name=$1 bad=$2 want_ranges=$3 want_count=$4 mnt dev ss
	local before=$FAILED
	mnt=$WORK/mnt-$name
	cp "$SAMPLE" "$WORK/$name.src" || die "copy of the sample failed"
	start_faultfs "$WORK/$name.src" "$bad" "$mnt" ||
		die "$name: cannot mount faultfs"
	attach_ro "$mnt/disk" || die "$name: cannot attach a loop device"
	dev=$LOOPDEV
	echo "info: $name: $dev over faultfs, bad=$bad," \
		"dio=$(losetup -n -O DIO "$dev" | tr -d ' ')"

	acquire "$name" -f raw "$dev"
	check "$name: exit status" 1 "$RC"
	if [ ! -f "$REPORT" ]; then
		fail "$name: no report $REPORT"
		show_output "$name"
		return
	fi
	check "$name: result" complete-with-errors "$(jqr "$REPORT" .result)"
	# Ranges are in units of source.sector_size; the injected ones are in
	# 512-byte sectors.  (They are the same unless the loop device came up
	# with 4 KiB logical sectors, which some kernels do with direct I/O.)
	ss=$(jqr "$REPORT" .source.sector_size)
	[ "$ss" = 512 ] || echo "info: $name: source.sector_size is '$ss'," \
		"comparing ranges in 512-byte units"
	check "$name: errors.ranges" "$want_ranges" \
		"$(jq -c '(.source.sector_size / 512) as $k |
			[.errors.ranges[]? | {first_sector: (.first_sector * $k),
			 sector_count: (.sector_count * $k)}]' "$REPORT" 2>/dev/null)"
	check "$name: errors.unreadable_sectors (512-byte units)" "$want_count" \
		"$(jq -r '.errors.unreadable_sectors * .source.sector_size / 512' \
			"$REPORT" 2>/dev/null)"
	check "$name: source.kind" block "$(jqr "$REPORT" .source.kind)"
	check "$name: source.size_bytes" "$(stat -c %s "$SAMPLE")" \
		"$(jqr "$REPORT" .source.size_bytes)"

	# shellcheck disable=SC2046
	zeroed_copy "$SAMPLE" "$WORK/$name.expected" $(echo "$bad" | tr , ' ') ||
		die "$name: cannot build the expected image"
	if cmp "$WORK/$name.expected" "$BASE.raw" >"$WORK/$name/cmp" 2>&1; then
		pass "$name: image equals the sample with the bad sectors zeroed"
	else
		fail "$name: image differs from expected: $(head -c 300 "$WORK/$name/cmp")"
	fi
	check_hashes "$name" "$WORK/$name.expected"
	check_sha256_file "$name"
	check_blockmap_marks "$name" "$bad"
	[ "$FAILED" -eq "$before" ] || show_output "$name"
	e01_case "$name-e01" "$dev" "$WORK/$name.expected" "$bad"
}

# check_blockmap_marks NAME BAD-SPEC -- BASE.blockmap marks exactly the
# 64 KiB blocks that hold the bad sectors (read with od, not with custos).
check_blockmap_marks() {
	local name=$1 bad=$2 r f c b0 b1 want="" got="" leaves runs off
	for r in $(echo "$bad" | tr , ' '); do
		f=${r%%:*}; c=${r##*:}
		b0=$(( f * 512 / 65536 )); b1=$(( ((f + c) * 512 - 1) / 65536 ))
		for ((b = b0; b <= b1; b++)); do want="$want $b"; done
	done
	want=$(echo $want | tr ' ' '\n' | sort -nu | tr '\n' ' ')
	leaves=$(od -An -t u8 -j 40 -N 8 "$BASE.blockmap" | tr -d ' ')
	runs=$(od -An -t u8 -j 48 -N 8 "$BASE.blockmap" | tr -d ' ')
	off=$(( 128 + 32 * leaves ))
	for ((i = 0; i < runs; i++)); do
		read -r f c <<<"$(od -An -t u8 -j $((off + 16 * i)) -N 16 \
			"$BASE.blockmap")"
		for ((b = f; b < f + c; b++)); do got="$got $b"; done
	done
	got=$(echo $got | tr ' ' '\n' | sort -nu | tr '\n' ' ')
	check "$name: block map marks the blocks with bad sectors" "$want" "$got"
	check "$name: report block_map.marked_blocks" \
		"$(echo $want | wc -w)" "$(jqr "$REPORT" .block_map.marked_blocks)"
}

# e01_case NAME DEVICE EXPECTED-IMAGE BAD-SPEC -- the same faulty device into
# an E01: libewf's ewfverify accepts it, ewfinfo lists the acquiry errors.
e01_case() {
	local name=$1 dev=$2 expected=$3 bad=$4 before=$FAILED r want
	acquire "$name" -f e01 "$dev"
	check "$name: exit status" 1 "$RC"
	check "$name: result" complete-with-errors "$(jqr "$REPORT" .result)"
	check "$name: report md5 is that of the zero-filled media" \
		"$(md5sum <"$expected" | cut -d' ' -f1)" "$(jqr "$REPORT" .hashes.md5)"
	if ! command -v ewfverify >/dev/null 2>&1; then
		echo "SKIP: $name: ewfverify (ewf-tools) not installed"
		return
	fi
	if ewfverify -q "$BASE.E01" >"$WORK/$name/ewfverify" 2>&1 &&
		grep -q 'ewfverify: SUCCESS' "$WORK/$name/ewfverify"; then
		pass "$name: ewfverify SUCCESS"
	else
		fail "$name: ewfverify: $(tail -n 3 "$WORK/$name/ewfverify")"
	fi
	ewfinfo "$BASE.E01" >"$WORK/$name/ewfinfo" 2>&1
	for r in $(echo "$bad" | tr , ' '); do
		want="at sector(s): ${r%%:*} - $(( ${r%%:*} + ${r##*:} - 1 )) number: ${r##*:}"
		if grep -q "$want" "$WORK/$name/ewfinfo"; then
			pass "$name: ewfinfo lists the acquiry error $r"
		else
			fail "$name: ewfinfo does not list '$want'"
		fi
	done
	check_sha256_file "$name"
	[ "$FAILED" -eq "$before" ] || show_output "$name"
}

# ---- case: faulty (4 KiB aligned bad ranges) -------------------------------

faulty_case faulty 1000:8,4096:16 \
	'[{"first_sector":1000,"sector_count":8},{"first_sector":4096,"sector_count":16}]' \
	24

# ---- case: unaligned (only if the loop device has 512-byte granularity) ----

probe() {
	local mnt=$WORK/mnt-probe dev ok=1
	cp "$SAMPLE" "$WORK/probe.src" || return 1
	start_faultfs "$WORK/probe.src" 1001:1 "$mnt" || return 1
	attach_ro "$mnt/disk" || return 1
	dev=$LOOPDEV
	dd if="$dev" of=/dev/null iflag=direct bs=512 skip=1000 count=1 \
		status=none 2>/dev/null || ok=0
	dd if="$dev" of=/dev/null iflag=direct bs=512 skip=1001 count=1 \
		status=none 2>/dev/null && ok=0
	dd if="$dev" of=/dev/null iflag=direct bs=512 skip=1002 count=1 \
		status=none 2>/dev/null || ok=0
	[ "$ok" -eq 1 ]
}

if probe; then
	faulty_case unaligned 1001:1,2050:3 \
		'[{"first_sector":1001,"sector_count":1},{"first_sector":2050,"sector_count":3}]' \
		4
else
	echo "SKIP: unaligned: this loop device does not fail single 512-byte" \
		"sectors exactly; only the 4 KiB-aligned case applies"
fi

# ---- case: clean read-only loop device --------------------------------------

before=$FAILED
cp "$SAMPLE" "$WORK/clean.img" || die "copy of the sample failed"
attach -r "$WORK/clean.img" || die "clean: losetup -r failed"
dev=$LOOPDEV
echo "info: clean: $dev (read-only) over $WORK/clean.img"
acquire clean -f raw "$dev"
check "clean: exit status" 0 "$RC"
if [ -f "$REPORT" ]; then
	check "clean: result" complete "$(jqr "$REPORT" .result)"
	check "clean: errors.unreadable_sectors" 0 \
		"$(jqr "$REPORT" .errors.unreadable_sectors)"
	check "clean: errors.ranges" '[]' \
		"$(jq -c '.errors.ranges' "$REPORT" 2>/dev/null)"
	check "clean: source.kind" block "$(jqr "$REPORT" .source.kind)"
	check "clean: source.read_only" true "$(jqr "$REPORT" .source.read_only)"
	check "clean: source.sector_size" 512 "$(jqr "$REPORT" .source.sector_size)"
	check "clean: source.backing_file" "$WORK/clean.img" \
		"$(jqr "$REPORT" .source.backing_file)"
	check_hashes clean "$SAMPLE"
else
	fail "clean: no report $REPORT"
fi
if cmp "$SAMPLE" "$BASE.raw" >"$WORK/clean/cmp" 2>&1; then
	pass "clean: image identical to the sample"
else
	fail "clean: image differs: $(head -c 300 "$WORK/clean/cmp")"
fi
check_sha256_file clean
[ "$FAILED" -eq "$before" ] || show_output clean

# ---- case: read-write loop device with --require-readonly -------------------

cp "$SAMPLE" "$WORK/rw.img" || die "copy of the sample failed"
attach "$WORK/rw.img" || die "readwrite: losetup failed"
dev=$LOOPDEV
check "readwrite: loop device is writable (test setup)" 0 \
	"$(blockdev --getro "$dev")"
acquire readwrite -f raw --require-readonly "$dev"
check "readwrite: exit status with --require-readonly" 3 "$RC"
if grep -qi -E 'read-only|read only|readonly' "$WORK/readwrite/err" \
	"$WORK/readwrite/out"; then
	pass "readwrite: message mentions read-only"
else
	fail "readwrite: no message mentioning read-only"
	show_output readwrite
fi
if [ -e "$BASE.raw" ]; then
	fail "readwrite: $BASE.raw was created"
else
	pass "readwrite: no image file created"
fi
if cmp -s "$SAMPLE" "$WORK/rw.img"; then
	pass "readwrite: source left unchanged"
else
	fail "readwrite: the source device was modified"
fi

# ---- case: the read-only flag turned off during the run -----------------------
# strace slows each pread() of the device by 0.3 s so the run lasts long
# enough (a second or more for the 4 MiB sample); the flag
# is turned off once the run has written its state (past the start check).
# With --require-readonly the run stops with the reason; without it, the
# report records the change and the run completes.

flip_during_run() {
	local name=$1 dev i
	shift
	cp "$SAMPLE" "$WORK/$name.img" || die "copy of the sample failed"
	attach "$WORK/$name.img" || die "$name: losetup failed"
	dev=$LOOPDEV
	blockdev --setro "$dev" || die "$name: blockdev --setro failed"
	mkdir -p "$WORK/$name"
	BASE=$WORK/$name/img
	REPORT=$BASE.report.json
	# LeakSanitizer cannot run under ptrace: an ASan build would exit 1.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	timeout "$ACQ_TIMEOUT" strace -f -o /dev/null -P "$dev" -e trace=pread64 \
		-e inject=pread64:delay_enter=300000 "$CUSTOS_ACQUIRE" "$@" \
		-o "$BASE" "$dev" >"$WORK/$name/out" 2>"$WORK/$name/err" </dev/null &
	ACQ_PID=$!
	for i in $(seq 1 400); do
		[ -f "$BASE.part/custos-state.json" ] && break
		sleep 0.05
	done
	blockdev --setrw "$dev"
	wait "$ACQ_PID"
	RC=$?
	ACQ_PID=
}

if ! command -v strace >/dev/null 2>&1 || ! strace -f -o /dev/null true 2>/dev/null; then
	echo "SKIP: read-only flag flip cases: strace cannot run here"
else
	flip_during_run flip -f raw --require-readonly
	check "flip: --require-readonly stops the run (exit 3)" 3 "$RC"
	if grep -q "read-only flag of .* changed from on to off" "$WORK/flip/err"; then
		pass "flip: the reason names the change"
	else
		fail "flip: no reason: $(head -c 300 "$WORK/flip/err")"
	fi
	check "flip: the report says aborted" aborted "$(jqr "$REPORT" .result)"
	check "flip: the report's read-only check at the start" true \
		"$(jqr "$REPORT" .recovery.read_only_checks.at_start)"
	check "flip: the report's read-only check at the end" false \
		"$(jqr "$REPORT" .recovery.read_only_checks.at_end)"
	if [ -e "$BASE.raw" ]; then
		fail "flip: an image was committed despite the change"
	else
		pass "flip: no image committed"
	fi

	flip_during_run flipok -f raw
	check "flip without --require-readonly: the run completes (exit 0)" 0 "$RC"
	check "flip without --require-readonly: the report records the change" \
		"the kernel read-only flag of $LOOPDEV changed from on to off at the end" \
		"$(jqr "$REPORT" .recovery.read_only_checks.change)"
	check "flip without --require-readonly: at the end the flag was off" false \
		"$(jqr "$REPORT" .recovery.read_only_checks.at_end)"
fi

# ---- summary ----------------------------------------------------------------

if [ "$FAILED" -eq 0 ]; then
	echo "PASS: loop-fault: all cases passed"
	exit 0
fi
echo "FAIL: loop-fault: $FAILED check(s) failed, see FAIL lines above"
exit 1
