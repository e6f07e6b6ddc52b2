#!/bin/bash
# custos-log under faults: 8 processes appending 100 records each at once
# (all 800 present, the log verifies), and a writer killed with SIGKILL at a
# random moment, RUNS times: the log always verifies, or recovers and then
# verifies, and no record whose append reported success is ever missing.
# Needs: CUSTOS_LOG, SOURCE_ROOT; openssl, setsid.  RUNS (default 100).
. "$(dirname "$0")/lib.sh"
L=$CUSTOS_LOG
RUNS=${RUNS:-100}
for tool in openssl setsid; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: no $tool" >&2; exit 77; }
done
bash "$SOURCE_ROOT/samples/pki/make-pki.sh" "$WORK/pki" >/dev/null 2>pki.err ||
	{ cat pki.err; echo "FAIL: make-pki.sh"; exit 1; }
P=$WORK/pki
EX=(-k "$P/examiner.key" -c "$P/examiner.pem")

# ===================== 8 x 100 concurrent appends =====================
"$L" init conc --origin lab.example/concurrency --log-key "$WORK/k/conc.key" \
	--trust "$P/ca.pem" "${EX[@]}" >/dev/null || { echo "FAIL: init"; exit 1; }
start=$(date +%s.%N)
pids=()
for w in 1 2 3 4 5 6 7 8; do
	(
		for i in $(seq 1 100); do
			"$L" record conc --type accessed --item HD-01 \
				--note "w$w-$i" -q "${EX[@]}" || echo "append failed w$w-$i" >&2
		done
	) 2>"append-$w.err" &
	pids+=($!)
done
# Readers meanwhile take a shared lock: they never see half an append.
verify_bad=0
verify_runs=0
while kill -0 "${pids[0]}" 2>/dev/null; do
	"$L" verify conc >/dev/null 2>verify-during.err || {
		verify_bad=$((verify_bad + 1)); cat verify-during.err; }
	verify_runs=$((verify_runs + 1))
	sleep 0.5
done
for pid in "${pids[@]}"; do wait "$pid"; done
end=$(date +%s.%N)
expect "verify during the appends always passed ($verify_runs runs)" test "$verify_bad" -eq 0
expect "no append failed" test -z "$(cat append-*.err)"
expect "801 lines (genesis + 800)" test "$(wc -l < conc/log.jsonl)" -eq 801
expect "every one of the 800 records is there once" test \
	"$(grep -o '"note":"w[0-9]-[0-9]*"' conc/log.jsonl | sort -u | wc -l)" -eq 800
expect_status 0 "the concurrent log verifies" -- "$L" verify conc
expect "and has 801 records" grep -q 'VERIFIED: 801 records' out.txt
printf 'concurrency: 8 x 100 appends in %s s\n' "$(awk "BEGIN { printf \"%.1f\", $end - $start }")"

# ===================== kill -9 loop =====================
"$L" init crash --origin lab.example/crash --log-key "$WORK/k/crash.key" \
	--trust "$P/ca.pem" "${EX[@]}" >/dev/null || { echo "FAIL: init"; exit 1; }
: > reported.txt
recovered=0
orphans=0
bad=0
for run in $(seq 1 "$RUNS"); do
	# The writer stops by itself once this script is gone (killed by a
	# test timeout, say), so it can never outlive the test as an orphan.
	setsid bash -c '
		k=0
		while kill -0 "$3" 2>/dev/null; do
			out=$("$0" record crash --type accessed --item HD-01 \
				--note "r'"$run"'-$k" -k "$1" -c "$2") &&
				echo "r'"$run"'-$k ${out#recorded: }" >> reported.txt
			k=$((k + 1))
		done' "$L" "$P/examiner.key" "$P/examiner.pem" "$$" &
	pid=$!
	sleep "0.0$((RANDOM % 9 + 1))$((RANDOM % 10))"
	kill -9 -- -"$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if ! "$L" verify crash >v.out 2>v.err; then
		if grep -q 'torn last line' v.err &&
		   "$L" recover crash "${EX[@]}" >/dev/null 2>&1 &&
		   "$L" verify crash >/dev/null 2>&1; then
			recovered=$((recovered + 1))
		else
			bad=$((bad + 1))
			echo "run $run: the log does not verify: $(head -c 300 v.err)"
		fi
	fi
	grep -q 'belongs to no record' v.err && orphans=$((orphans + 1))
done
expect "the log verified (or recovered and verified) after every kill" test "$bad" -eq 0
# Every append that reported success is in the log, with its note.
missing=0
while read -r tag seq _; do
	if ! sed -n "$((seq + 1))p" crash/log.jsonl | grep -q "\"note\":\"$tag\""; then
		missing=$((missing + 1))
		echo "reported record $seq ($tag) is missing"
	fi
done < reported.txt
expect "no record reported as appended is missing" test "$missing" -eq 0
expect_status 0 "the crash log verifies at the end" -- "$L" verify crash
printf 'crash loop: %d kill -9 runs, %d appends reported, %d records in the log, %d recoveries of a torn line, %d orphaned signatures seen\n' \
	"$RUNS" "$(wc -l < reported.txt)" "$(wc -l < crash/log.jsonl)" "$recovered" "$orphans"
finish
