#!/usr/bin/env bash
# resume.sh -- long acquisitions (issue 14): --resume after kill -9 (and
# after a simulated power cut), after a full disk, refusals of another
# source, other options or a changed partial image; BASE.map read by
# ddrescuelog; the passes over a 10 MiB dead area on a FUSE fault device,
# for raw and for an E01 resumed during them (resume-e01.sh has the rest).
#
#   CUSTOS_ACQUIRE, FAULTFS (optional: the dead-area cases need root,
#   FUSE and loop devices, else they are skipped)
. "$(dirname "$0")/lib.sh"

A=$CUSTOS_ACQUIRE
TRIALS=${RESUME_TRIALS:-20}
MIB=$((1024 * 1024))

# A medium whose every MiB differs, so a misplaced block shows.
head -c $((16 * MIB)) /dev/urandom >src.img
head -c $((16 * MIB)) /dev/urandom >other.img
expect_status 0 "uninterrupted run" -- "$A" -q -f raw -o ref src.img
REF_MD5=$(jget ref.report.json .hashes.md5)
REF_SHA256=$(jget ref.report.json .hashes.sha256)

# run_until_done BASE ARGS...: --resume until the run completes (at most 5)
run_until_done() {
	local base=$1 i rc
	shift
	for i in 1 2 3 4 5; do
		"$A" -q --resume "$@" -o "$base" src.img >out.txt 2>err.txt
		rc=$?
		[ "$rc" -eq 0 ] && return 0
		[ -d "$base.part" ] || return "$rc"
	done
	return 1
}

# ---- kill -9 at random points, then --resume ----------------------------
ok=0
for t in $(seq 1 "$TRIALS"); do
	b=k$t
	"$A" -q -f raw --sync-interval 1M -o "$b" src.img >/dev/null 2>&1 &
	pid=$!
	sleep "0.$(printf '%02d' $((RANDOM % 60 + 5)))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if [ ! -d "$b.part" ]; then
		ok=$((ok + 1)) # finished before the kill
		continue
	fi
	# Killed between the claim and the first state: nothing to resume,
	# and --resume says so.
	if [ ! -f "$b.part/custos-state.json" ]; then
		"$A" -q -f raw --resume -o "$b" src.img >out.txt 2>err.txt
		if [ $? -eq 3 ] && grep -q "no resume state" err.txt; then
			ok=$((ok + 1))
		else
			fail "kill -9 trial $t (no state yet): $(head -c 300 err.txt)"
		fi
		continue
	fi
	# Killed while committing: --resume takes the commit back and
	# finishes it (tests/cli/resume-commit.sh kills at every step).
	if [ -e "$b.raw" ]; then
		run_until_done "$b" -f raw --sync-interval 1M
		if [ ! -d "$b.part" ] && cmp -s src.img "$b.raw" &&
			[ "$(jget "$b.report.json" .hashes.sha256)" = "$REF_SHA256" ]; then
			ok=$((ok + 1))
		else
			fail "kill -9 trial $t (while committing): $(head -c 300 err.txt)"
		fi
		continue
	fi
	# Every other trial: a power cut loses what was not synced.
	if [ $((t % 2)) -eq 0 ]; then
		d=$(jq -r .durable_bytes "$b.part/custos-state.json")
		truncate -s "$d" "$b.part/$b.raw"
	fi
	if run_until_done "$b" -f raw --sync-interval 1M &&
		cmp -s src.img "$b.raw" &&
		[ "$(jget "$b.report.json" .hashes.sha256)" = "$REF_SHA256" ] &&
		[ "$(jget "$b.report.json" .hashes.md5)" = "$REF_MD5" ] &&
		(sha256sum -c --quiet "$b.sha256" >/dev/null 2>&1); then
		ok=$((ok + 1))
	else
		fail "kill -9 trial $t: $(head -c 300 err.txt)"
	fi
done
expect "kill -9 at $TRIALS random points, then --resume: image and hashes equal the uninterrupted run's ($ok/$TRIALS)" \
	test "$ok" -eq "$TRIALS"

# The sessions of one resumed run, and its rehash figures.
b=s1
"$A" -q -f raw --sync-interval 1M -o $b src.img >/dev/null 2>&1 &
pid=$!
sleep 0.3
kill -INT $pid
wait $pid
if [ -d $b.part ]; then
	expect "Ctrl-C leaves a report that says aborted" \
		test "$(jget $b.report.json .result)" = aborted
	expect_status 0 "--resume after Ctrl-C" -- "$A" -q -f raw \
		--sync-interval 1M --resume -o $b src.img
	expect "the earlier session's report is kept" test -f $b.session-1.report.json
	expect "the report lists two sessions" \
		test "$(jget $b.report.json '.recovery.sessions | length')" = 2
	expect "the first session stopped on the interrupt" \
		grep -q interrupt <<<"$(jget $b.report.json '.recovery.sessions[0].stop_reason')"
	expect "the report says how much was rehashed" \
		test "$(jget $b.report.json .recovery.rehashed_bytes)" -gt 0
	expect "the image is the uninterrupted run's" cmp -s src.img $b.raw
fi

# ---- refusals: exit 3 and the reason, the work folder untouched --------
b=r1
# A larger source, so that the run is still going when it is killed even
# on a fast, idle machine.
head -c $((128 * MIB)) /dev/urandom >big.img
"$A" -q -f raw --sync-interval 1M -o $b big.img >/dev/null 2>&1 &
pid=$!
# Killed once at least 1 MiB is durable, so that a flipped byte at 4096
# lies in what a resume keeps.
for _ in $(seq 1 400); do
	d=$(jq -r .durable_bytes $b.part/custos-state.json 2>/dev/null)
	[ "${d:-0}" -ge $MIB ] && break
	sleep 0.01
done
kill -9 $pid
wait $pid 2>/dev/null
if [ -d $b.part ]; then
	before=$(cd $b.part && sha256sum ./* | sha256sum)
	expect_status 3 "a resume against another source is refused" -- \
		"$A" -q -f raw --sync-interval 1M --resume -o $b other.img
	err_matches "not the source" "the reason: not the same source"
	expect_status 3 "a resume with other options is refused" -- \
		"$A" -q -f raw -H md5 --resume -o $b big.img
	err_matches "options differ" "the reason: the options differ"
	expect "the refused resumes left the work folder as it was" \
		test "$(cd $b.part && sha256sum ./* | sha256sum)" = "$before"
	# A changed partial image: one byte flipped in the durable part.
	printf '\x5a' | dd of=$b.part/$b.raw bs=1 seek=4096 conv=notrunc \
		status=none
	expect_status 3 "a resume over a changed partial image is refused" -- \
		"$A" -q -f raw --sync-interval 1M --resume -o $b big.img
	err_matches "changed" "the reason: the partial image changed"
	expect "no image was committed" test ! -e $b.raw
else
	fail "r1: the run ended before it could be killed"
fi
expect_status 3 "--resume with nothing to resume" -- "$A" -q -f raw \
	--resume -o none src.img
# E01 resumes: resume-e01.sh.

# ---- a full disk, then room, then --resume ----------------------------
if [ "$(id -u)" -eq 0 ]; then
	mkdir full
	if mount -t tmpfs -o size=10M tmpfs full; then
		expect_status 3 "a full disk stops the run" -- "$A" -q -f raw \
			--sync-interval 1M -o full/x src.img
		mount -o remount,size=48M full
		expect_status 0 "--resume once there is room" -- "$A" -q -f raw \
			--sync-interval 1M --resume -o full/x src.img
		expect "after the full disk: the image is complete and equal" \
			cmp -s src.img full/x.raw
		umount full
	else
		echo "SKIP: full disk: cannot mount a tmpfs"
	fi
else
	echo "SKIP: full disk: needs root for a small tmpfs"
fi

# ---- passes over a 10 MiB dead area (FUSE fault device) ---------------
if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/fuse ] || [ -z "${FAULTFS:-}" ] ||
	! command -v ddrescuelog >/dev/null 2>&1; then
	echo "SKIP: dead area: needs root, FUSE, faultfs and ddrescuelog"
	finish
fi
head -c $((24 * MIB)) /dev/urandom >dead.img
DEAD=16384:20480 # 10 MiB from 8 MiB on, in 512-byte sectors
MOUNTS=() LOOPS=()
cleanup_dev() {
	for d in "${LOOPS[@]+"${LOOPS[@]}"}"; do losetup -d "$d"; done
	sleep 0.3
	for m in "${MOUNTS[@]+"${MOUNTS[@]}"}"; do
		fusermount3 -u "$m" 2>/dev/null || fusermount3 -u -z "$m"
	done
	rm -rf "$WORK"
}
trap cleanup_dev EXIT
# device NAME SLOW_MS: faultfs over dead.img, a read-only loop device on it
device() {
	mkdir -p "m$1"
	"$FAULTFS" --image dead.img --bad $DEAD --slow-ms "$2" "m$1" || return 1
	MOUNTS+=("$WORK/m$1")
	DEV=$(losetup -f --show -r --direct-io=on "m$1/disk" 2>/dev/null ||
		losetup -f --show -r "m$1/disk") || return 1
	LOOPS+=("$DEV")
}
failed_reads() { awk '/^failed/ {print $2}' "m$1/stats"; }

# Pass 1 alone: reaches the end, with few reads into the dead area, each
# of which is slow.
device p1 20 || { fail "cannot set up the fault device"; finish; }
expect_status 1 "pass 1 only: complete with errors" -- "$A" -q -f raw \
	--passes 1 -o p1 "$DEV"
n=$(failed_reads p1)
echo "info: pass 1: $n failed reads into the 10 MiB dead area" \
	"(report: $(jget p1.report.json '.recovery.passes[0].failed_reads'))"
# 20480 sectors: reading them one by one would fail 20480 times.  The
# loop device splits each failed 64 KiB read into several FUSE reads, so
# the bound is on what faultfs counts, not on custos' own count.
expect "pass 1: fewer than 2% of the 20480 dead sectors read (got $n)" \
	test "$n" -le 409
expect "pass 1: custos made at most 24 reads that failed" \
	test "$(jget p1.report.json '.recovery.passes[0].failed_reads')" -le 24
expect "pass 1: the good data behind the dead area came off" \
	cmp -s <(tail -c $((4 * MIB)) dead.img) <(tail -c $((4 * MIB)) p1.raw)

# All passes: exactly the dead sectors are bad, nothing else is lost.
device all 0 || { fail "cannot set up the fault device"; finish; }
expect_status 1 "all passes: complete with errors" -- "$A" -q -f raw \
	--retries 1 -o all "$DEV"
ranges=$(jq -c '.errors.ranges' all.report.json)
expect "all passes: the report lists exactly the dead sectors ($ranges)" \
	test "$ranges" = '[{"first_sector":16384,"sector_count":20480}]'
cp dead.img want.img
dd if=/dev/zero of=want.img bs=512 seek=16384 count=20480 conv=notrunc \
	status=none
expect "all passes: image = source with the dead sectors zeroed" \
	cmp -s want.img all.raw
echo "info: all passes: $(failed_reads all) failed reads; per pass:" \
	"$(jq -c '[.recovery.passes[] | [.name, .reads, .failed_reads]]' all.report.json)"
ddrescuelog -l- all.map >ddl.txt 2>ddl.err
expect "ddrescuelog -l- on BASE.map lists the same bad sectors as the report" \
	cmp -s ddl.txt <(seq 16384 36863)
ddrescuelog -t all.map >ddt.txt 2>&1
expect "ddrescuelog -t reads BASE.map: 10 MiB bad" grep -q "bad-sector:.*10485 kB" ddt.txt

# E01 over the dead area: killed during the passes (slow failed reads),
# then --resume goes on after the last complete segment and with the
# passes; the same media hashes and bad sectors as an uninterrupted run.
if command -v ewfverify >/dev/null 2>&1; then
	device e1 20 || { fail "cannot set up the fault device"; finish; }
	E01=(-f e01 --split 4M --passes 3)
	expect_status 1 "E01, passes 1-3, uninterrupted: complete with errors" -- \
		"$A" -q "${E01[@]}" -o e1ref "$DEV"
	"$A" -q "${E01[@]}" -o e1 "$DEV" >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 1 500); do
		f=$(jq -r .rescue_from e1.part/custos-state.json 2>/dev/null)
		[ "${f:--1}" -ge 0 ] 2>/dev/null && break
		sleep 0.01
	done
	sleep 0.5
	kill -9 $pid
	wait $pid 2>/dev/null
	expect "E01: killed during the passes, with complete segments kept" \
		test "$(jq -r .durable_segments e1.part/custos-state.json)" -ge 1
	expect_status 1 "E01: --resume during the passes: complete with errors" -- \
		"$A" -q --resume "${E01[@]}" -o e1 "$DEV"
	ewfverify -q e1.E01 >ev.txt 2>&1
	expect "E01 resumed over the dead area: ewfverify SUCCESS" \
		grep -q "ewfverify: SUCCESS" ev.txt
	expect "E01 resumed over the dead area: the uninterrupted run's MD5, SHA-256 and bad sectors" \
		test "$(jq -c '[.hashes, .errors.ranges, .block_map.root]' e1.report.json)" = \
			"$(jq -c '[.hashes, .errors.ranges, .block_map.root]' e1ref.report.json)"
	expect "E01 resumed over the dead area: the media is the source with the dead sectors zeroed" \
		test "$(jget e1.report.json .hashes.md5)" = "$(md5sum <want.img | cut -d' ' -f1)"
else
	echo "SKIP: E01 over the dead area: needs ewfverify"
fi
finish
