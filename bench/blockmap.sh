#!/usr/bin/env bash
# bench/blockmap.sh - the block map (issue 13), side by side in one run on
# the 1 GiB synthetic media of bench/acquire.sh:
#
#   A  custos-acquire -f raw  with the block map   vs  --block-size none
#   B  custos-acquire -f e01  with the block map   vs  --block-size none
#   C  custos-hash BASE.raw (block map, all cores) vs  openssl dgst -md5    target >= 2x
#   D  custos-hash BASE.E01 (block map, all cores) vs  ewfverify -q          target >= 5x
#   E  peak RSS of custos-hash (block map) on 1 GiB and 4 GiB raw (flat)
#   F  block map size per TB and proof length at 64 KiB blocks
#
# Runs are interleaved; medians of RUNS (default 3).  Usage: bench/blockmap.sh
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(cd "$script_dir/.." && pwd -P)
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-/var/tmp/custos-bench}
OUT=${OUT_DIR:-$BENCH_DIR/out-blockmap}
ACQ=${CUSTOS_ACQUIRE:-$repo_root/build/tools/custos-acquire}
HASH=${CUSTOS_HASH:-$repo_root/build/tools/custos-hash}
MEDIA=$BENCH_DIR/media-1g.img

for t in ewfverify openssl /usr/bin/time "$ACQ" "$HASH"; do
	command -v "$t" >/dev/null 2>&1 || { echo "missing $t" >&2; exit 1; }
done
if [[ ! -s $MEDIA ]]; then
	SKIP_TIMING=1 SKIP_RSS=1 SKIP_4G=1 "$script_dir/acquire.sh" >/dev/null
fi
rm -rf "$OUT"; mkdir -p "$OUT"; cd "$OUT"
cat "$MEDIA" >/dev/null

# t NAME CMD...: time one run; "seconds rss_kib" appended to NAME.t
t() {
	local n=$1; shift
	/usr/bin/time -f '%e %M' -o "$n.last" "$@" >/dev/null 2>"$n.err" ||
		{ echo "$n failed: $(tail -2 "$n.err")" >&2; exit 1; }
	cat "$n.last" >>"$n.t"
}
med() { cut -d' ' -f"${2:-1}" "$1.t" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
clean() { rm -rf a.* b.* e.* f.*; }

for ((i = 0; i < RUNS; i++)); do
	clean; t acq_raw_map "$ACQ" -q -f raw -o a "$MEDIA"
	clean; t acq_raw_none "$ACQ" -q -f raw --block-size none -o b "$MEDIA"
	clean; t acq_e01_map "$ACQ" -q -o e "$MEDIA"
	rm -rf e.*; t acq_e01_none "$ACQ" -q --block-size none -o f "$MEDIA"
done
clean
"$ACQ" -q -f raw -o a "$MEDIA"
"$ACQ" -q -o e "$MEDIA"
cat a.raw e.E01 >/dev/null
for ((i = 0; i < RUNS; i++)); do
	t hash_raw "$HASH" -q a.raw
	t md5_raw openssl dgst -md5 a.raw
	t hash_e01 "$HASH" -q e.E01
	t ewfverify ewfverify -q e.E01
done
# RSS flat from 1 GiB to 4 GiB: the same media four times, and its map.
cat a.raw a.raw a.raw a.raw >g.raw
"$ACQ" -q -f raw -o g4 g.raw
rm -f g.raw
t rss_1g "$HASH" -q a.raw
t rss_4g "$HASH" -q g4.raw

r() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
printf '\n%-44s %8s %8s %8s\n' "job (median of $RUNS)" seconds "RSS MiB" ratio
for p in "acq_raw_map acq_raw_none" "acq_e01_map acq_e01_none" \
	 "hash_raw md5_raw" "hash_e01 ewfverify"; do
	set -- $p
	printf '%-44s %8s %8d\n' "$1" "$(med "$1")" $(( $(med "$1" 2) / 1024 ))
	printf '%-44s %8s %8d %8s\n' "$2" "$(med "$2")" $(( $(med "$2" 2) / 1024 )) \
		"$(r "$(med "$2")" "$(med "$1")")"
done
printf '%-44s %8s %8d\n' "custos-hash 1 GiB raw (block map)" "$(med rss_1g)" $(( $(med rss_1g 2) / 1024 ))
printf '%-44s %8s %8d\n' "custos-hash 4 GiB raw (block map)" "$(med rss_4g)" $(( $(med rss_4g 2) / 1024 ))
size=$(stat -c %s a.blockmap)
printf '\nblock map of 1 GiB at 64 KiB: %d bytes; per TB (10^12 B): %d MB\n' \
	"$size" $(( (128 + 32 * (1000000000000 / 65536)) / 1000000 ))
printf 'proof for one block of a 1 TB map: %d hashes (%d bytes)\n' \
	"$(awk 'BEGIN {n = 1e12 / 65536; d = 0; while (2 ^ d < n) d++; print d}')" \
	$(( 32 * $(awk 'BEGIN {n = 1e12 / 65536; d = 0; while (2 ^ d < n) d++; print d}') ))
