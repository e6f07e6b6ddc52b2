#!/usr/bin/env bash
# resume-e01.sh -- long E01 acquisitions (issue 14): --resume after kill -9
# (and after a simulated power cut), Ctrl-C and SIGTERM goes on after the
# last complete segment; the final E01 passes ewfverify with the media
# hashes, case details and block map of an uninterrupted run.  Refusals:
# another source, other options, a changed complete segment, a missing
# one; a changed partial segment is written again, never kept.
#
#   CUSTOS_ACQUIRE; ewfverify and ewfinfo (ewf-tools)
. "$(dirname "$0")/lib.sh"

A=$CUSTOS_ACQUIRE
TRIALS=${RESUME_TRIALS:-20}
KIB=1024
MIB=$((1024 * KIB))
if ! command -v ewfverify >/dev/null 2>&1 ||
	! command -v ewfinfo >/dev/null 2>&1; then
	echo "SKIP: needs ewfverify and ewfinfo (ewf-tools)"
	exit 77
fi

# 32 MiB, half random and half zeros, so that chunks are stored both
# compressed and raw; with --split 1M that is 16 segments.  More than the
# buffer pool (16 MiB), so that a run stopped early is still reading.
for _ in $(seq 1 32); do
	head -c $((512 * KIB)) /dev/urandom
	head -c $((512 * KIB)) /dev/zero
done >src.img
head -c $((32 * MIB)) /dev/urandom >other.img
OPTS=(-f e01 --split 1M --case "C-2026/14" --evidence "E 7"
	--examiner "Jo Examiner" --notes "resume test")
t0=${EPOCHREALTIME/./}
expect_status 0 "uninterrupted E01 run" -- "$A" -q "${OPTS[@]}" -o ref src.img
# The kills fall anywhere in a run as long as this one.
RUN_MS=$(( (${EPOCHREALTIME/./} - t0) / 1000 + 20 ))
REF_MD5=$(jget ref.report.json .hashes.md5)
REF_SHA1=$(jget ref.report.json .hashes.sha1)
REF_SHA256=$(jget ref.report.json .hashes.sha256)
REF_ROOT=$(jget ref.report.json .block_map.root)
# The case details as ewfinfo shows them (the dates are each run's own).
case_lines() { ewfinfo "$1" | grep -E "Case number|Evidence number|Examiner|Notes|Media size|Bytes per sector"; }
REF_CASE=$(case_lines ref.E01)
expect "the uninterrupted run has several segments" test -e ref.E05
# The same media with other case details.
"$A" -q -f e01 --split 1M --case "C-2026/99" --evidence "E 7" \
	--examiner "Jo Examiner" --notes "resume test" -o other src.img ||
	fail "the E01 with other case details"

# e01_good BASE: the committed E01 is the uninterrupted run's media, whole.
e01_good() {
	local b=$1 f
	ewfverify -q "$b.E01" >ev.txt 2>&1 || return 1
	grep -q "ewfverify: SUCCESS" ev.txt || return 1
	grep -q "MD5 hash calculated over data:.*$REF_MD5" ev.txt || return 1
	[ "$(jget "$b.report.json" .hashes.md5)" = "$REF_MD5" ] || return 1
	[ "$(jget "$b.report.json" .hashes.sha1)" = "$REF_SHA1" ] || return 1
	[ "$(jget "$b.report.json" .hashes.sha256)" = "$REF_SHA256" ] || return 1
	[ "$(jget "$b.report.json" .block_map.root)" = "$REF_ROOT" ] || return 1
	[ "$(case_lines "$b.E01")" = "$REF_CASE" ] || return 1
	sha256sum -c --quiet "$b.sha256" >/dev/null 2>&1 || return 1
	# --split holds after a resume too.
	for f in "$b".E[0-9][0-9]; do
		[ "$(stat -c %s "$f")" -le "$MIB" ] || return 1
	done
}

differs() { ! cmp -s "$1" "$2"; }

# run_until_done BASE: --resume until the run completes (at most 5)
run_until_done() {
	local base=$1 i rc
	for i in 1 2 3 4 5; do
		"$A" -q --resume "${OPTS[@]}" -o "$base" src.img >out.txt 2>err.txt
		rc=$?
		[ "$rc" -eq 0 ] && return 0
		[ -d "$base.part" ] || return "$rc"
	done
	return 1
}

# ---- kill -9 at random points, then --resume ----------------------------
ok=0 kept=0
for t in $(seq 1 "$TRIALS"); do
	b=k$t
	"$A" -q "${OPTS[@]}" -o "$b" src.img >/dev/null 2>&1 &
	pid=$!
	# Odd trials anywhere, even ones in the second half, where
	# complete segments are kept.
	ms=$((RANDOM % RUN_MS + 5))
	[ $((t % 2)) -eq 0 ] && ms=$((RUN_MS / 2 + RANDOM % (RUN_MS / 2)))
	sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if [ ! -d "$b.part" ]; then
		ok=$((ok + 1)) # finished before the kill
		continue
	fi
	if [ ! -f "$b.part/custos-state.json" ]; then
		"$A" -q --resume "${OPTS[@]}" -o "$b" src.img >out.txt 2>err.txt
		if [ $? -eq 3 ] && grep -q "no resume state" err.txt; then
			ok=$((ok + 1))
		else
			fail "kill -9 trial $t (no state yet): $(head -c 300 err.txt)"
		fi
		continue
	fi
	# Killed while committing: --resume takes the commit back and
	# finishes it (tests/cli/resume-commit.sh kills at every step).
	if [ -e "$b.E01" ]; then
		run_until_done "$b"
		if [ ! -d "$b.part" ] && e01_good "$b"; then
			ok=$((ok + 1))
		else
			fail "kill -9 trial $t (while committing): $(head -c 300 err.txt)"
		fi
		continue
	fi
	n=$(jq -r .durable_segments "$b.part/custos-state.json")
	[ "$n" -gt 0 ] && kept=$((kept + 1))
	# Every third trial: a power cut loses what was not synced; the
	# partial segment after the durable ones is cut short or gone.
	if [ $((t % 3)) -eq 0 ]; then
		for f in "$b.part/$b".E[0-9][0-9]; do
			[ -e "$f" ] || continue
			i=${f##*.E}
			[ $((10#$i)) -le "$n" ] && continue
			if [ $((RANDOM % 2)) -eq 0 ]; then rm -f "$f"
			else truncate -s $(($(stat -c %s "$f") / 2)) "$f"; fi
		done
	fi
	if run_until_done "$b" && e01_good "$b"; then
		ok=$((ok + 1))
	else
		fail "kill -9 trial $t ($n segments kept): $(head -c 300 err.txt) $(tail -c 200 ev.txt 2>/dev/null)"
	fi
done
expect "kill -9 at $TRIALS random points, then --resume: ewfverify SUCCESS, hashes, case details and block map equal the uninterrupted run's ($ok/$TRIALS)" \
	test "$ok" -eq "$TRIALS"
echo "info: runs of $RUN_MS ms; $kept of $TRIALS killed runs kept complete segments"

# stop_at BASE SEGMENTS SIGNAL: start a run, stop it with SIGNAL once
# SEGMENTS segments are durable.
stop_at() {
	local b=$1 want=$2 sig=$3 pid d
	"$A" -q "${OPTS[@]}" -o "$b" src.img >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 1 3000); do
		d=$(grep -o '"durable_segments": [0-9]*' \
			"$b.part/custos-state.json" 2>/dev/null)
		[ "${d##* }" -ge "$want" ] 2>/dev/null && break
		sleep 0.002
	done
	kill "-$sig" "$pid"
	wait "$pid" 2>/dev/null
}

# ---- Ctrl-C and SIGTERM: a clean stop, then --resume --------------------
for sig in INT TERM; do
	b=s$sig
	stop_at $b 2 $sig
	if [ ! -d $b.part ]; then
		fail "SIG$sig: the run ended before it could be stopped"
		continue
	fi
	expect "SIG$sig leaves a report that says aborted" \
		test "$(jget $b.report.json .result)" = aborted
	n=$(jq -r .durable_segments $b.part/custos-state.json)
	kept_sums=$(cd $b.part && for i in $(seq 1 "$n"); do
		sha256sum "$(printf '%s.E%02d' $b "$i")"; done)
	expect_status 0 "--resume after SIG$sig" -- "$A" -q --resume \
		"${OPTS[@]}" -o $b src.img
	expect "after SIG$sig: the $n kept segments were not written again" \
		test "$(for i in $(seq 1 "$n"); do
			sha256sum "$(printf '%s.E%02d' $b "$i")"; done)" = "$kept_sums"
	expect "after SIG$sig: ewfverify SUCCESS, same hashes, case and block map" \
		e01_good $b
	expect "after SIG$sig: the report lists two sessions" \
		test "$(jget $b.report.json '.recovery.sessions | length')" = 2
	expect "after SIG$sig: the report says how much was rehashed, and how long it took" \
		test "$(jget $b.report.json .recovery.rehashed_bytes)" -ge $((2 * MIB)) -a \
			"$(jget $b.report.json .recovery.rehash_ms)" -ge 0
	expect "after SIG$sig: the text report says it too" \
		grep -q "Rehashed [0-9]* bytes of the image in" $b.report.txt
	expect "after SIG$sig: the second session began where a segment ended" \
		test "$(jget $b.report.json '.recovery.sessions[1].bytes_from')" = \
			"$(jget $b.report.json .recovery.rehashed_bytes)"
done

# ---- refusals: exit 3 and the reason, the work folder untouched --------
b=r1
stop_at $b 3 9
if [ -d $b.part ] && [ "$(jq -r .durable_segments $b.part/custos-state.json)" -ge 3 ]; then
	before=$(cd $b.part && sha256sum ./* | sha256sum)
	expect_status 3 "E01: a resume against another source is refused" -- \
		"$A" -q --resume "${OPTS[@]}" -o $b other.img
	err_matches "not the source" "the reason: not the same source"
	expect_status 3 "E01: a resume with another split is refused" -- \
		"$A" -q --resume "${OPTS[@]}" --split 2M -o $b src.img
	err_matches "options differ" "the reason: the options differ"
	expect_status 3 "E01: a resume with other case details is refused" -- \
		"$A" -q --resume "${OPTS[@]}" --case other -o $b src.img
	expect_status 3 "E01: a resume with another compression is refused" -- \
		"$A" -q --resume "${OPTS[@]}" -c best -o $b src.img
	expect "the refused resumes left the work folder as it was" \
		test "$(cd $b.part && sha256sum ./* | sha256sum)" = "$before"
	# Complete segments of another E01 of the same media with other case
	# details, in place of the kept ones.
	n=$(jq -r .durable_segments $b.part/custos-state.json)
	mkdir keep && cp $b.part/$b.E[0-9][0-9] keep/
	for i in $(seq 1 "$n"); do
		cp "$(printf 'other.E%02d' "$i")" "$(printf '%s.part/%s.E%02d' $b $b "$i")"
	done
	expect_status 3 "a resume over another E01's segments (other case details) is refused" -- \
		"$A" -q --resume "${OPTS[@]}" -o $b src.img
	err_matches "case_number in the partial E01 .*differs" \
		"the reason: the case details in the partial E01 differ"
	cp keep/* $b.part/
	# A missing complete segment.
	mv $b.part/$b.E02 e02.keep
	expect_status 3 "a resume without a complete segment is refused" -- \
		"$A" -q --resume "${OPTS[@]}" -o $b src.img
	err_matches "missing" "the reason: the segment is missing"
	mv e02.keep $b.part/$b.E02
	# A changed complete segment: one byte of its media flipped.
	cp $b.part/$b.E02 e02.orig
	printf '\x5a' | dd of=$b.part/$b.E02 bs=1 seek=200000 conv=notrunc \
		status=none
	expect "the flipped byte changed the segment" differs e02.orig $b.part/$b.E02
	expect_status 3 "a resume over a changed complete segment is refused" -- \
		"$A" -q --resume "${OPTS[@]}" -o $b src.img
	err_matches "refusing to resume.*(changed|cannot read)" \
		"the reason: the partial E01 changed"
	expect "no image was committed" test ! -e $b.E01
else
	fail "r1: the run ended before 3 segments were durable"
fi

# A changed partial segment (after the durable ones) is written again.
b=p1
stop_at $b 3 9
n=$(jq -r .durable_segments $b.part/custos-state.json 2>/dev/null)
last=$(printf '%s/%s.E%02d' $b.part $b $((n + 1)))
if [ -d $b.part ] && [ -s "$last" ] && [ "$(stat -c %s "$last")" -gt 5000 ]; then
	printf '\x5a\x5a\x5a\x5a' | dd of="$last" bs=1 seek=4000 conv=notrunc \
		status=none
	expect_status 0 "a resume over a changed partial segment" -- \
		"$A" -q --resume "${OPTS[@]}" -o $b src.img
	expect "the changed partial segment was written again: the E01 is whole" \
		e01_good $b
else
	echo "SKIP: partial segment: the run was stopped too early or too late"
fi

# Killed before a second segment was complete, with a --split other than
# libewf's default: made again from the start, never with larger segments.
b=o1
stop_at $b 1 9
if [ -d $b.part ]; then
	expect_status 0 "a resume with one complete segment" -- \
		"$A" -q --resume "${OPTS[@]}" -o $b src.img
	expect "with one complete segment: the E01 is whole, segments within --split" \
		e01_good $b
fi

expect_status 3 "--resume with nothing to resume (E01)" -- "$A" -q --resume \
	"${OPTS[@]}" -o none src.img

# ---- past .E99: libewf goes on with .EAA, .EAB ... -----------------------
# A 4 TB drive in 1.5 GiB segments has thousands; a resume must keep every
# complete one, not only the first 98.
head -c $((108 * MIB)) /dev/urandom >many.img
MANY_MD5=$(md5sum <many.img | cut -c1-32)
b=m1
"$A" -q -f e01 --split 1M -o $b many.img >/dev/null 2>&1 &
pid=$!
for i in $(seq 1 600); do [ -e $b.part/$b.EAE ] && break; sleep 0.05; done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
if [ -d $b.part ]; then
	kept=$(jq -r .durable_segments $b.part/custos-state.json)
	durable=$(jq -r .durable_bytes $b.part/custos-state.json)
	expect "segments past .E99 are counted as complete ($kept)" test "$kept" -gt 99
	expect_status 0 "--resume of an E01 past .E99" -- \
		"$A" -q --resume -f e01 --split 1M -o $b many.img
	expect "past .E99: ewfverify SUCCESS with the source's MD5" \
		sh -c "ewfverify -q $b.E01 | grep -q 'MD5 hash calculated over data:.*$MANY_MD5' &&
			ewfverify -q $b.E01 | grep -q SUCCESS"
	expect "past .E99: every kept segment was kept (rehashed from the E01: $durable bytes)" \
		test "$(jget $b.report.json .recovery.rehashed_bytes)" = "$durable"
	expect "past .E99: the report lists the .EAA segment" \
		grep -q "\"$b.EAA\"" $b.report.json
else
	echo "SKIP: past .E99: the run ended before it was stopped"
fi
finish
