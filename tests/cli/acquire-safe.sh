#!/bin/bash
# custos-acquire must lose nothing, overwrite nothing and never crash:
# concurrent runs with the same -o, planted symlinks, names that appear
# during a run, stray files in the work folder, a full disk, Ctrl-C during
# --verify, the signing self-test's scratch files, and a failure at every
# single file-system step of a run (the failat LD_PRELOAD shim).
# Checked with cmp, sha256sum -c, ewfverify and jq.
# Needs: CUSTOS_ACQUIRE, SAMPLE, FAILAT, SOURCE_ROOT.
. "$(dirname "$0")/lib.sh"
A=$CUSTOS_ACQUIRE
for tool in jq ewfverify sha256sum timeout; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool missing" >&2; exit 77; }
done
PKI=$SOURCE_ROOT/samples/pki
# Under AddressSanitizer the shim is preloaded ahead of the ASan runtime,
# which ASan refuses unless told the order is fine.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"

MOUNTS=()
PIDS=()
cleanup() {
	for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null; done
	cd / && rm -rf "$WORK"
}
trap cleanup EXIT

sums() { sha256sum "$@" 2>/dev/null; ls -l --time-style=+%s "$@" 2>/dev/null; }
ewf_ok() { ewfverify -q "$1" > ewfverify.txt 2>&1 && grep -q SUCCESS ewfverify.txt; }
no_see_report() { ! grep -q 'see the report' err.txt; }

# A source that gives its first bytes, then holds still until released:
# slow_source NAME BYTES; release with `rm NAME.hold`.
slow_source() {
	head -c "$2" /dev/urandom > "$1.bin"
	mkfifo "$1.fifo"
	touch "$1.hold"
	( cat "$1.bin"; while [ -e "$1.hold" ]; do sleep 0.1; done ) > "$1.fifo" &
	PIDS+=($!)
}
# wait_for PATH: until it exists (at most 10 s).
wait_for() { for _ in $(seq 100); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }

# ===== 1. two runs with the same -o at once =====
slow_source c1 3000000
"$A" -q -f raw -o same - < c1.fifo > run1.out 2> run1.err &
run1=$!
wait_for same.part || wait_for same.raw.part
sleep 0.5
before=$(ls -l --time-style=+%s same* 2>/dev/null; find same* -type f -exec sha256sum {} + 2>/dev/null)
# The second run's source never ends: it must refuse before reading it.
mkfifo c2.fifo
( sleep 30 ) > c2.fifo &
PIDS+=($!)
expect_status 3 "second run with the same -o refuses at once" -- \
	timeout 10 "$A" -q -f raw -o same c2.fifo
err_matches "same" "the refusal names the output"
after=$(ls -l --time-style=+%s same* 2>/dev/null; find same* -type f -exec sha256sum {} + 2>/dev/null)
expect "the first run's files are untouched by the refusal" test "$before" = "$after"
cp "$SAMPLE" c3.img
expect_status 3 "a second run from a file refuses too" -- \
	timeout 10 "$A" -q -f raw -o same c3.img
rm c1.hold
wait "$run1"; status=$?
expect "the first run completes (exit 0)" test "$status" -eq 0
expect "its image is its own source" cmp -s same.raw c1.bin
expect "sha256sum -c accepts its checksum" sha256sum --quiet -c same.sha256
expect "its report is its own" test "$(jget same.report.json .source.kind)" = stdin
expect "its report's SHA-256 is of its source" test \
	"$(jget same.report.json .hashes.sha256)" = "$(sha256sum < c1.bin | cut -d' ' -f1)"
snap=$(sums same.raw same.sha256 same.report.json same.report.txt)
expect_status 3 "a run after it with the same -o refuses" -- "$A" -q -f raw -o same c3.img
expect "the committed files are byte-identical afterwards" \
	test "$snap" = "$(sums same.raw same.sha256 same.report.json same.report.txt)"
expect_status 3 "an E01 run with the same -o refuses too" -- "$A" -q -o same c3.img
expect "still byte-identical" \
	test "$snap" = "$(sums same.raw same.sha256 same.report.json same.report.txt)"
expect "the E01 run wrote no E01" test ! -e same.E01

# Two E01 runs at once.
slow_source e1 3000000
"$A" -q -c none --split 1M -o samee - < e1.fifo > run1.out 2> run1.err &
run1=$!
wait_for samee.part || wait_for samee.E01.part
sleep 0.5
expect_status 3 "second E01 run with the same -o refuses at once" -- \
	timeout 10 "$A" -q -c none -o samee c2.fifo
rm e1.hold
wait "$run1"; status=$?
expect "the first E01 run completes (exit 0)" test "$status" -eq 0
expect "ewfverify accepts the first E01 run" ewf_ok samee.E01
expect "sha256sum -c accepts the first E01 run" sha256sum --quiet -c samee.sha256

# ===== 2. planted symlinks are never followed =====
mkdir outside
echo precious > outside/victim
ln -s "$WORK/outside/victim" l.raw.part
expect_status 0 "a symlink at BASE.raw.part is not followed" -- "$A" -q -f raw -o l "$SAMPLE"
expect "its target is untouched" test "$(cat outside/victim)" = precious
expect "BASE.raw is a regular file, not a symlink" test -f l.raw -a ! -L l.raw
expect "BASE.raw holds the source" cmp -s l.raw "$SAMPLE"
expect "the planted symlink is left as it was" test -L l.raw.part
for name in lr.raw lr.report.json lr.report.txt lr.sha256 lr.part; do
	rm -f outside/new; ln -sfn "$WORK/outside/new" "$name"
	expect_status 3 "a dangling symlink at $name is refused" -- "$A" -q -f raw -o lr "$SAMPLE"
	expect "$name: its target was not created" test ! -e outside/new
	expect "$name: nothing else was written" test -z "$(ls -d lr.* | grep -vx "$name")"
	rm "$name"
done
mkdir outdir
ln -s "$WORK/outdir" ld.part
expect_status 3 "a symlink to a folder at BASE.part is refused" -- "$A" -q -f raw -o ld "$SAMPLE"
expect "nothing was written into that folder" test -z "$(ls outdir)"
rm ld.part
for name in le.E01 le.E02; do
	ln -sfn "$WORK/outside/new" "$name"
	expect_status 3 "a dangling symlink at $name is refused at once" -- \
		"$A" -q -c none --split 1M -o le "$SAMPLE"
	expect "$name: its target was not created" test ! -e outside/new
	rm "$name"
done
ln -s "$WORK/outside/victim" lp.report.json.p7s
expect_status 3 "a symlink at the signature's name is refused" -- "$A" -q -f raw \
	--sign-key "$PKI/examiner.key" --sign-cert "$PKI/examiner.pem" -o lp "$SAMPLE"
expect "the signature's symlink target is untouched" test "$(cat outside/victim)" = precious

# ===== 3. a segment name that is taken, or appears, or a stray file =====
echo mine > taken.E03
expect_status 3 "an E01 whose third segment name is taken is refused" -- \
	"$A" -q -c none --split 1M -o taken "$SAMPLE"
expect "the taken segment is untouched" test "$(cat taken.E03)" = mine
expect "no E01 was committed" test ! -e taken.E01
echo mine > takenr.003
expect_status 3 "a raw set whose third name is taken is refused" -- \
	"$A" -q -f raw --split 1M -o takenr "$SAMPLE"
expect "the taken raw segment is untouched" test "$(cat takenr.003)" = mine

slow_source ap 3000000
"$A" -q -c none --split 1M -o ap - < ap.fifo > out.txt 2> err.txt &
pid=$!
wait_for ap.part || wait_for ap.E01.part
sleep 0.5
echo intruder > ap.E02
rm ap.hold
wait "$pid"; status=$?
expect "a segment name appearing during the run: exit 3, no crash" test "$status" -eq 3
expect "the file that appeared is untouched" test "$(cat ap.E02)" = intruder
expect "the report says aborted" test "$(jget ap.report.json .result)" = aborted
expect "the reason names the file" grep -q 'ap.E02' <<< "$(jget ap.report.json .aborted_reason)"
expect "no first segment under a final name" test ! -e ap.E01
expect "no checksum file" test ! -e ap.sha256

for kind in raw e01; do
	b=stray-$kind
	slow_source "$b" 3000000
	if [ $kind = raw ]; then f="-f raw --split 1M"; else f="-c none --split 1M"; fi
	# shellcheck disable=SC2086
	"$A" -q $f -o "$b" - < "$b.fifo" > out.txt 2> err.txt &
	pid=$!
	wait_for "$b.part" || wait_for "$b.E01.part"
	sleep 0.5
	for d in "$b.part" "$b.E01.part"; do
		[ -d "$d" ] && echo stray > "$d/$b.E07" && echo stray > "$d/junk"
	done
	rm "$b.hold"
	wait "$pid"; status=$?
	expect "$kind: a stray file in the work folder: exit 3, no crash" test "$status" -eq 3
	expect "$kind: the report says aborted" test "$(jget "$b.report.json" .result)" = aborted
	expect "$kind: the reason names the stray file" \
		grep -Eq 'junk|E07' <<< "$(jget "$b.report.json" .aborted_reason)"
	expect "$kind: the stray files are untouched" \
		test "$(cat "$b".part*/junk "$b".*part*/junk 2>/dev/null | head -1)" = stray
	expect "$kind: nothing committed" test -z "$(ls -d "$b".E0? "$b".00? 2>/dev/null)"
done

# ===== 4. the signing self-test never touches the user's files =====
echo "my notes" > sc.sign-check
echo "my signature" > sc.sign-check.p7s
expect_status 0 "signed acquisition beside files named like its scratch files" -- \
	"$A" -q -f raw --sign-key "$PKI/examiner.key" --sign-cert "$PKI/examiner.pem" \
	-o sc "$SAMPLE"
expect "BASE.sign-check is untouched" test "$(cat sc.sign-check 2>/dev/null)" = "my notes"
expect "BASE.sign-check.p7s is untouched" \
	test "$(cat sc.sign-check.p7s 2>/dev/null)" = "my signature"
expect "the report's signature verifies" openssl cms -verify -binary -inform DER \
	-in sc.report.json.p7s -content sc.report.json -CAfile "$PKI/ca.pem" -out /dev/null

# ===== 5. a full disk =====
if [ "$(id -u)" -eq 0 ] && mkdir full && mount -t tmpfs -o size=3m tmpfs full 2>/dev/null; then
	MOUNTS+=("$WORK/full")
	for kind in raw e01; do
		if [ $kind = raw ]; then f="-f raw"; else f="-c none"; fi
		# shellcheck disable=SC2086
		expect_status 3 "$kind: a full disk fails the run" -- "$A" -q $f -o full/x-$kind "$SAMPLE"
		err_matches "No space left on device" "$kind: the message gives the first cause"
		err_matches "full/x-$kind" "$kind: the message names the file"
		expect "$kind: a report was written" test -f full/x-$kind.report.json
		expect "$kind: it says aborted" test "$(jget full/x-$kind.report.json .result)" = aborted
		expect "$kind: its reason is the full disk" \
			grep -q 'No space left on device' <<< "$(jget full/x-$kind.report.json .aborted_reason)"
		expect "$kind: it says how far the run got" \
			test "$(jget full/x-$kind.report.json .acquisition.bytes_acquired)" -gt 0
		expect "$kind: no image under a final name" \
			test -z "$(ls -d full/x-$kind.raw full/x-$kind.E01 2>/dev/null)"
		err_matches "see the report" "$kind: the message points to the report that exists"
		rm -rf full/x-$kind*
	done
	umount full && MOUNTS=()
else
	echo "note: not root or no tmpfs; full-disk case skipped" >&2
fi

# The report itself cannot be committed: its result goes to stderr.
expect_status 3 "the report cannot be committed" -- env LD_PRELOAD="$FAILAT" \
	FAILAT_AT=1 FAILAT_ALL=1 FAILAT_OPS=rename FAILAT_MATCH=nr.report.json \
	"$A" -q -f raw -o nr "$SAMPLE"
expect "no report" test ! -e nr.report.json
expect "no image is left under a final name without a report" test ! -e nr.raw
expect "the message does not point to a missing report" no_see_report
err_matches '"result": "aborted"' "the result is on stderr"

# ===== 6. Ctrl-C during --verify =====
for kind in raw e01; do
	if [ $kind = raw ]; then f="-f raw"; m=v-raw.raw; else f="-c fast"; m=v-e01.E01; fi
	# shellcheck disable=SC2086
	expect_status 3 "$kind: SIGINT during --verify" -- env LD_PRELOAD="$FAILAT" \
		FAILAT_AT=1 FAILAT_OPS=read-open FAILAT_MATCH="$m" FAILAT_SIGINT=1 \
		"$A" -q $f --verify -o v-$kind "$SAMPLE"
	expect "$kind: the report says the verification was interrupted" \
		test "$(jget v-$kind.report.json .verify.result)" = interrupted
	err_matches "interrupted" "$kind: the message says interrupted"
	expect "$kind: the message does not say failed" sh -c "! grep -qi 'fail' err.txt"
done

# ===== 7. a failure at every file-system step =====
# After each: no crash, exit 3 unless the run could still complete, nothing
# under a final name that a report does not vouch for, no temporary left
# beside the outputs, the user's file untouched; and a complete run passes
# sha256sum -c (and ewfverify).
check_outcome() { # TAG BASE STATUS KIND
	local tag=$1 b=$2 st=$3 kind=$4 finals f
	if [ "$st" -ge 128 ]; then fail "$tag: crashed (exit $st)"; return; fi
	finals=$(ls -d "$b".raw "$b".[0-9][0-9][0-9] "$b".E[0-9][0-9] "$b".sha256 \
		"$b".report.json "$b".report.txt "$b".report.json.p7s 2>/dev/null)
	[ "$(cat keep.txt)" = keep ] || fail "$tag: the user's file changed"
	if ls -d "$b".*.part 2>/dev/null | grep -q .; then
		fail "$tag: a temporary is left beside the outputs: $(ls -d "$b".*.part)"
	fi
	if [ ! -e "$b.report.json" ]; then
		if [ -n "$finals" ]; then
			fail "$tag: files under final names without a report: $finals"
		fi
		grep -q 'see the report' err.txt && fail "$tag: message points to a missing report"
		[ "$st" -eq 3 ] || fail "$tag: exit $st without a report"
		return
	fi
	local result; result=$(jget "$b.report.json" .result)
	for f in $finals; do
		case $f in *.sha256|*.report.*) continue;; esac
		jq -e --arg n "$f" '[.image.files[].name] | index($n)' "$b.report.json" \
			>/dev/null || fail "$tag: $f is not in the report"
	done
	if [ "$result" = aborted ]; then
		[ "$st" -eq 3 ] || fail "$tag: aborted report but exit $st"
		[ -e "$b.sha256" ] && fail "$tag: a checksum file for an aborted run"
	else
		# A signature that could not be made is the one failure after
		# which the (complete) report stands: its text says NOT SIGNED.
		if [ "$st" -eq 3 ] && [ ! -e "$b.report.json.p7s" ] &&
		   grep -q 'NOT SIGNED' "$b.report.txt" 2>/dev/null; then :
		else
			[ "$st" -eq 0 ] || fail "$tag: report says $result but exit $st: $(head -c 200 err.txt)"
		fi
		sha256sum --quiet -c "$b.sha256" > /dev/null 2>&1 || fail "$tag: sha256sum -c"
		if [ "$kind" = e01 ]; then ewf_ok "$b.E01" || fail "$tag: ewfverify"
		else cat $(jq -r '.image.files[].name' "$b.report.json") | cmp -s - "$SAMPLE" ||
			fail "$tag: image differs"; fi
	fi
}

walk() { # NAME KIND OPS ARGS...
	local name=$1 kind=$2 ops=$3 n=1 fired=1 st failed_before=$FAILURES
	shift 3
	mkdir "walk-$name"
	while [ $fired -eq 1 ] && [ $n -lt 400 ]; do
		mkdir "walk-$name/$n"
		(
			cd "walk-$name/$n" || exit 99
			echo keep > keep.txt
			env LD_PRELOAD="$FAILAT" FAILAT_AT=$n FAILAT_OPS="$ops" \
				FAILAT_LOG=failat.log "$A" -q "$@" -o w "$SAMPLE" \
				> out.txt 2> err.txt
			echo $? > status
		)
		st=$(cat "walk-$name/$n/status")
		if grep -q '^FAIL ' "walk-$name/$n/failat.log" 2>/dev/null; then
			(FAILURES=0; cd "walk-$name/$n" && check_outcome "$name step $n ($(sed -n 's/^FAIL [0-9]* //p' failat.log))" w "$st" "$kind"
			 exit $FAILURES) || FAILURES=$((FAILURES + $?))
		else
			fired=0
			(FAILURES=0; cd "walk-$name/$n" && check_outcome "$name without a fault" w "$st" "$kind"
			 [ "$st" -eq 0 ] || fail "$name: exit $st without a fault"
			 exit $FAILURES) || FAILURES=$((FAILURES + $?))
		fi
		n=$((n + 1))
	done
	expect "$name: every one of $((n - 2)) steps failed cleanly" test "$FAILURES" -eq "$failed_before"
}
OPS=creat,mkdir,rename,link,unlink,rmdir,fsync
walk raw raw "$OPS" -f raw
walk raw-split raw "$OPS" -f raw --split 1M
walk e01-split e01 "$OPS" -c none --split 1M
walk signed raw "$OPS" -f raw --sign-key "$PKI/examiner.key" --sign-cert "$PKI/examiner.pem"
walk report-writes raw write,fsync -f raw --split 2M -H sha256

finish
