#!/usr/bin/env bash
# bench/log.sh - custody log: the time to append one signed record as the
# log grows, and the time to verify logs of 1,000, 10,000 and 100,000
# records (custos-log verify: every line, every CAdES signature, the
# Merkle tree and the checkpoints), with the reference shell verifier on
# the smallest for scale.
#
# Appends run in one process (build/tests/log-append, the library's
# custos_custody_append: flock, CMS sign, write, fdatasync); the mean per
# block of 1,000 appends is printed, so a flat append cost shows as flat
# numbers.  Verify runs RUNS times (default 3) and the median is reported.
#
#   bench/log.sh            env: RUNS, BENCH_DIR, SIZES ("1000 10000 100000")
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(cd "$script_dir/.." && pwd -P)
RUNS=${RUNS:-3}
SIZES=${SIZES:-"1000 10000 100000"}
BENCH_DIR=${BENCH_DIR:-/var/tmp/custos-bench}
CUSTOS_LOG=${CUSTOS_LOG:-$repo_root/build/tools/custos-log}
LOG_APPEND=${LOG_APPEND:-$repo_root/build/tests/log-append}
P=$repo_root/samples/pki
W=$BENCH_DIR/custody-log

die() { printf 'log.sh: error: %s\n' "$*" >&2; exit 1; }
for t in "$CUSTOS_LOG" "$LOG_APPEND" openssl; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' not found (ninja -C build)"
done
rm -rf "$W"
mkdir -p "$W"
"$CUSTOS_LOG" init "$W/log" --origin bench.example/log --log-key "$W/log.key" \
	--trust "$P/ca.pem" -k "$P/examiner.key" -c "$P/examiner.pem" -q

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "cores: $(nproc), $(openssl version)"
echo "append (ms per record, mean of each block of 500; first and last block of each stage):"
have=1
for size in $SIZES; do
	"$LOG_APPEND" "$W/log" $((size - have)) "$P/examiner.key" "$P/examiner.pem" 500 |
		awk '{ printf "  %7d records  %.3f ms\n", $2, $4 }' > "$W/append-$size.txt"
	cat "$W/append-$size.txt" >> "$W/append.txt"
	sed -n '1p;$p' "$W/append-$size.txt" | uniq
	have=$size
	"$CUSTOS_LOG" checkpoint "$W/log" --log-key "$W/log.key" -q
	times=()
	for _ in $(seq "$RUNS"); do
		s=$(date +%s.%N)
		"$CUSTOS_LOG" verify "$W/log" >/dev/null 2>&1 || die "verify failed at $size"
		e=$(date +%s.%N)
		times+=("$(awk "BEGIN { print $e - $s }")")
	done
	t=$(printf '%s\n' "${times[@]}" | median)
	printf 'verify %7d records: %.3f s median of %d, %.0f records/s\n' \
		"$size" "$t" "$RUNS" "$(awk "BEGIN { print $size / $t }")"
	if [ "$size" -le 1000 ] && command -v basenc >/dev/null; then
		s=$(date +%s.%N)
		sh "$repo_root/tools/verify-log.sh" "$W/log" >/dev/null 2>&1 ||
			die "the reference verifier failed"
		e=$(date +%s.%N)
		printf '  reference shell verifier (one openssl run per record): %.1f s\n' \
			"$(awk "BEGIN { print $e - $s }")"
	fi
done
