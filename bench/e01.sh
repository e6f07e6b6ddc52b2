#!/usr/bin/env bash
# bench/e01.sh - E01 acquisition and verification against libewf's own tools,
# side by side in one run, on the synthetic media of bench/acquire.sh.
#
#   A  custos-acquire -f e01 -c fast -H md5,sha1,sha256   vs  ewfacquire -u -c fast -d sha1,sha256
#   B  custos-acquire -f e01 -c none -H md5,sha1,sha256   vs  ewfacquire -u -c none
#   C  custos-hash -H md5,sha256 (of A's E01)              vs  ewfverify -d sha256
#
# Runs are interleaved (a1 e1 a2 e2 ... then again), medians are reported with
# ratios, output sizes and peak RSS.  Usage: bench/e01.sh; env RUNS (default 3),
# BENCH_DIR, OUT_DIR, CUSTOS_ACQUIRE, CUSTOS_HASH as in acquire.sh.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(cd "$script_dir/.." && pwd -P)
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-/var/tmp/custos-bench}
OUT_DIR=${OUT_DIR:-$BENCH_DIR/out-e01}
CUSTOS_ACQUIRE=${CUSTOS_ACQUIRE:-$repo_root/build/tools/custos-acquire}
CUSTOS_HASH=${CUSTOS_HASH:-$repo_root/build/tools/custos-hash}
MEDIA=$BENCH_DIR/media-1g.img

die() { printf 'e01.sh: error: %s\n' "$*" >&2; exit 1; }
for t in ewfacquire ewfverify /usr/bin/time "$CUSTOS_ACQUIRE" "$CUSTOS_HASH"; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' not found"
done
if [[ ! -s $MEDIA ]]; then
	echo "making the 1 GiB media with bench/acquire.sh ..." >&2
	SKIP_TIMING=1 SKIP_RSS=1 SKIP_4G=1 "$script_dir/acquire.sh" >/dev/null
fi
mkdir -p "$OUT_DIR"
cat "$MEDIA" > /dev/null   # from the page cache, as the design says

# run NAME COMMAND... : time one run, append "seconds rss_kib" to $OUT_DIR/NAME.times
run() {
	local name=$1
	shift
	rm -rf "${OUT_DIR:?}"/w.* "${OUT_DIR:?}"/w.E01.part
	sync
	/usr/bin/time -f '%e %M' -o "$OUT_DIR/$name.last" "$@" >/dev/null 2>"$OUT_DIR/$name.err" ||
		die "$name failed: $(tail -n 3 "$OUT_DIR/$name.err")"
	cat "$OUT_DIR/$name.last" >> "$OUT_DIR/$name.times"
	if ls "$OUT_DIR"/w.E01 >/dev/null 2>&1; then
		stat -c %s "$OUT_DIR"/w.E?? | awk '{s += $1} END {print s}' > "$OUT_DIR/$name.size"
	fi
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
col() { awk -v c="$2" '{print $c}' "$OUT_DIR/$1.times"; }

rm -f "$OUT_DIR"/*.times "$OUT_DIR"/*.size
# A reference E01 for the verification jobs.
rm -rf "$OUT_DIR"/ref.*
"$CUSTOS_ACQUIRE" -q -c fast -o "$OUT_DIR/ref" "$MEDIA"
for i in $(seq "$RUNS"); do
	echo "round $i of $RUNS" >&2
	run custos_fast "$CUSTOS_ACQUIRE" -q -f e01 -c fast -H md5,sha1,sha256 -o "$OUT_DIR/w" "$MEDIA"
	run ewf_fast ewfacquire -u -q -c fast -d sha1,sha256 -t "$OUT_DIR/w" "$MEDIA"
	run custos_none "$CUSTOS_ACQUIRE" -q -f e01 -c none -H md5,sha1,sha256 -o "$OUT_DIR/w" "$MEDIA"
	run ewf_none ewfacquire -u -q -c none -t "$OUT_DIR/w" "$MEDIA"
	run custos_hash "$CUSTOS_HASH" -q -H md5,sha256 "$OUT_DIR/ref.E01"
	run ewfverify ewfverify -q -d sha256 "$OUT_DIR/ref.E01"
done
rm -rf "${OUT_DIR:?}"/w.*

printf '# custos E01 bench, %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
printf '# %s, %s cores, %s\n' "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" "$(nproc)" "$(uname -r)"
printf '# custos %s, %s, 1 GiB media (zeros/text/random), %s runs, median wall time\n\n' \
	"$("$CUSTOS_ACQUIRE" --version | head -1 | cut -d' ' -f2)" "$(ewfacquire -V 2>&1 | head -1)" "$RUNS"
printf '%-14s %9s %9s %14s\n' job seconds rss_MiB output_bytes
for j in custos_fast ewf_fast custos_none ewf_none custos_hash ewfverify; do
	printf '%-14s %9.2f %9.1f %14s\n' "$j" "$(col $j 1 | median)" \
		"$(col $j 2 | sort -n | tail -1 | awk '{print $1 / 1024}')" \
		"$(cat "$OUT_DIR/$j.size" 2>/dev/null || echo -)"
done
ratio() { awk -v a="$(col "$1" 1 | median)" -v b="$(col "$2" 1 | median)" 'BEGIN {printf "%.2f", a / b}'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN {print (r >= t) ? "PASS" : "MISS"}'; }
echo
r=$(ratio ewf_fast custos_fast); printf 'E01 fast: ewfacquire / custos = %s (target >= 4)  %s\n' "$r" "$(verdict "$r" 4)"
printf 'E01 fast: output custos %s bytes vs ewfacquire %s bytes  %s\n' "$(cat "$OUT_DIR/custos_fast.size")" \
	"$(cat "$OUT_DIR/ewf_fast.size")" \
	"$( [ "$(cat "$OUT_DIR/custos_fast.size")" -le "$(cat "$OUT_DIR/ewf_fast.size")" ] && echo PASS || echo MISS)"
r=$(ratio ewf_none custos_none); printf 'E01 none: ewfacquire / custos = %s (target >= 2)  %s\n' "$r" "$(verdict "$r" 2)"
r=$(ratio ewfverify custos_hash); printf 'verify:   ewfverify / custos-hash = %s (target >= 2)  %s\n' "$r" "$(verdict "$r" 2)"
max_rss=$(cat "$OUT_DIR"/custos_*.times | awk '$2 > m {m = $2} END {print m / 1024}')
printf 'peak RSS of custos jobs: %.1f MiB (target <= 64)  %s\n' "$max_rss" \
	"$(awk -v m="$max_rss" 'BEGIN {print (m <= 64) ? "PASS" : "MISS"}')"
echo
echo "Note: custos fsyncs every file before renaming it into place; ewfacquire does not."
