#!/usr/bin/env bash
# bench/resume.sh - what a resume costs: interrupt an acquisition of
# SIZE_MIB (default 1024) at half way, resume it, and compare the time the
# resume spent rehashing the first half (the report's recovery.rehash_ms)
# with custos-hash hashing that same half as a file.  Also the whole
# resume against an uninterrupted run.  FORMAT=e01 does the same for an
# E01 (--split SPLIT, default 64M), which resumes after its last complete
# segment and rehashes it through libewf; its result goes to ewfverify.
#
# Environment: SIZE_MIB, FORMAT (raw, e01), SPLIT, BENCH_DIR (default
# /var/tmp/custos-bench-resume), CUSTOS_ACQUIRE, CUSTOS_HASH (default
# <repo>/build/tools/...).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
A=${CUSTOS_ACQUIRE:-$here/build/tools/custos-acquire}
H=${CUSTOS_HASH:-$here/build/tools/custos-hash}
SIZE_MIB=${SIZE_MIB:-1024}
FORMAT=${FORMAT:-raw}
F=(-f raw)
[ "$FORMAT" = e01 ] && F=(-f e01 --split "${SPLIT:-64M}")
D=${BENCH_DIR:-/var/tmp/custos-bench-resume}
half=$((SIZE_MIB / 2 * 1024 * 1024))
rm -rf "$D" && mkdir -p "$D" && cd "$D"
head -c $((SIZE_MIB * 1024 * 1024)) /dev/urandom >media.img
head -c "$half" media.img >half.img
now() { date +%s.%N; }
t0=$(now); "$A" -q "${F[@]}" -o full media.img; t1=$(now)
echo "uninterrupted: $(echo "$t1 - $t0" | bc) s"
"$A" -q "${F[@]}" -o r media.img &
pid=$!
while :; do
	d=$(jq -r .durable_bytes r.part/custos-state.json 2>/dev/null || echo 0)
	[ "${d:-0}" -ge "$half" ] && break
	sleep 0.05
done
kill -INT "$pid"; wait "$pid" || true
d=$(jq -r '.recovery.sessions[0].bytes_to // empty' r.report.json 2>/dev/null ||
	true)
echo "interrupted at byte ${d:-?} (durable)"
t0=$(now); "$A" -q "${F[@]}" --resume -o r media.img; t1=$(now)
echo "resume, whole: $(echo "$t1 - $t0" | bc) s"
echo "resume, rehash of $(jq -r .recovery.rehashed_bytes r.report.json) bytes:" \
	"$(jq -r .recovery.rehash_ms r.report.json) ms"
# Cold, as the partial image is for the resume (written with O_DIRECT).
dd if=half.img iflag=nocache count=0 status=none
t0=$(now)
"$H" --format raw half.img >/dev/null; t1=$(now)
echo "custos-hash of the first half: $(echo "($t1 - $t0) * 1000 / 1" | bc) ms"
if [ "$FORMAT" = e01 ]; then
	ewfverify -q r.E01 | grep -E "MD5 hash calculated|ewfverify:"
else
	cmp media.img r.raw && echo "resumed image identical: yes"
fi
[ "$(jq -r .hashes.sha256 r.report.json)" = "$(jq -r .hashes.sha256 full.report.json)" ] &&
	echo "hashes equal the uninterrupted run's: yes"
