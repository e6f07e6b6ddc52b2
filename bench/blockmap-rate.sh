#!/usr/bin/env bash
# bench/blockmap-rate.sh - does the block map slow an acquisition from a
# device that reads at a real drive's speed?  (issue 13: "must not slow
# acquisition")
#
# bench/blockmap.sh times acquisition from the page cache, where custos is
# CPU-bound on a 2-core machine and every extra hash shows.  A seized drive
# is read at its own speed (a USB 3 or SATA disk: 150-550 MB/s).  This
# script puts the 1 GiB media of bench/acquire.sh on a read-only loop
# device over tmpfs, throttles its reads with the blkio cgroup
# (blkio.throttle.read_bps_device, cgroup v1), drops the device's cache
# before every run, and times custos-acquire -f raw and -f e01, with the
# block map and with --block-size none, interleaved, at each RATE.
#
#   sudo bench/blockmap-rate.sh            RATES="300 500" (MB/s asked of
#                                           the throttle), RUNS=3
# Needs root, losetup, the blkio cgroup v1 controller, /dev/shm room for
# 1 GiB.  Prints the medians, the ratio map/none and the CPU seconds.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(cd "$script_dir/.." && pwd -P)
RUNS=${RUNS:-3}
RATES=${RATES:-"300 500"}
BENCH_DIR=${BENCH_DIR:-/var/tmp/custos-bench}
OUT=${OUT_DIR:-$BENCH_DIR/out-blockmap-rate}
ACQ=${CUSTOS_ACQUIRE:-$repo_root/build/tools/custos-acquire}
MEDIA=$BENCH_DIR/media-1g.img
CG=/sys/fs/cgroup/blkio/custos-bench-rate

[ "$(id -u)" = 0 ] || { echo "blockmap-rate.sh: needs root (loop device, cgroup)" >&2; exit 77; }
[ -d /sys/fs/cgroup/blkio ] || { echo "blockmap-rate.sh: no blkio cgroup (v1)" >&2; exit 77; }
if [[ ! -s $MEDIA ]]; then
	SKIP_TIMING=1 SKIP_RSS=1 SKIP_4G=1 "$script_dir/acquire.sh" >/dev/null
fi
SHM=/dev/shm/custos-bench-media-1g.img
cp "$MEDIA" "$SHM"
dev=$(losetup -f --show -r "$SHM")
mm=$(lsblk -dno MAJ:MIN "$dev" | tr -d ' ')
mkdir -p "$CG"
cleanup() {
	echo "$mm 0" >"$CG/blkio.throttle.read_bps_device" 2>/dev/null || true
	losetup -d "$dev" 2>/dev/null || true
	rm -f "$SHM"
	rmdir "$CG" 2>/dev/null || true
}
trap cleanup EXIT
rm -rf "$OUT"; mkdir -p "$OUT"; cd "$OUT"

# run NAME ARGS...: one throttled acquisition of $dev; "wall user+sys" to NAME.t
run() {
	local n=$1; shift
	rm -rf "$OUT"/x "$OUT"/x.*; sync
	blockdev --flushbufs "$dev"
	echo 1 >/proc/sys/vm/drop_caches
	bash -c 'echo $$ >"$1/tasks"; shift; exec /usr/bin/time -f "%e %U %S" -o "$1" "${@:2}"' \
		_ "$CG" "$n.last" "$ACQ" -q "$@" -o "$OUT/x" "$dev" >/dev/null 2>"$n.err" ||
		{ echo "$n failed: $(tail -2 "$n.err")" >&2; exit 1; }
	awk '{printf "%s %.2f\n", $1, $2 + $3}' "$n.last" >>"$n.t"
}
med() { cut -d' ' -f"${2:-1}" "$1.t" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '%-34s %8s %8s %8s %8s\n' "job (median of $RUNS)" seconds MB/s cpu-s ratio
for rate in $RATES; do
	echo "$mm $((rate * 1000000))" >"$CG/blkio.throttle.read_bps_device"
	for i in $(seq 1 "$RUNS"); do
		run "raw_map_$rate" -f raw
		run "raw_none_$rate" -f raw --block-size none
		run "e01_map_$rate" -f e01 -c fast
		run "e01_none_$rate" -f e01 -c fast --block-size none
	done
	for f in raw e01; do
		m=$(med "${f}_map_$rate") n=$(med "${f}_none_$rate")
		printf '%-34s %8s %8.0f %8s\n' "$f with map, throttle $rate MB/s" "$m" \
			"$(echo "1073.741824 / $m" | bc -l)" "$(med "${f}_map_$rate" 2)"
		printf '%-34s %8s %8.0f %8s %8.3f\n' "$f --block-size none" "$n" \
			"$(echo "1073.741824 / $n" | bc -l)" "$(med "${f}_none_$rate" 2)" \
			"$(echo "$m / $n" | bc -l)"
	done
done
echo "ratio: wall time with the map / without (1.000 = no slower)"
