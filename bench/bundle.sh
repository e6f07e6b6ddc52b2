#!/usr/bin/env bash
# bench/bundle.sh - time custos-bundle create (BagIt bag with SHA-256 and
# SHA-512 manifests, signed tag manifest, pax tar, age encryption, parts)
# against `tar c ... | age -r ...` on the same data, and measure peak RSS.
# Also times custos-bundle verify against `cat parts | age -d | tar t`.
#
# Usage: bench/bundle.sh [SIZE_MIB]
#
# Environment (all optional):
#   SIZE_MIB       payload size in MiB (default 1024; first argument overrides)
#   RUNS           timed runs per job, interleaved (default 3)
#   BENCH_DIR      work dir (default /var/tmp/custos-bench-bundle)
#   CUSTOS_BUNDLE  binary under test (default <repo>/build/tools/custos-bundle)
#   SPLIT          part size (default 256M)
#
# Needs: age, age-keygen, GNU tar, /usr/bin/time (GNU), openssl.
# Keys: a TEST-ONLY PKI made fresh with samples/pki/make-pki.sh.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(cd "$script_dir/.." && pwd -P)
SIZE_MIB=${1:-${SIZE_MIB:-1024}}
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-/var/tmp/custos-bench-bundle}
CUSTOS_BUNDLE=${CUSTOS_BUNDLE:-$repo_root/build/tools/custos-bundle}
SPLIT=${SPLIT:-256M}

mkdir -p "$BENCH_DIR"
cd "$BENCH_DIR"
rm -rf out pki
mkdir out
bash "$repo_root/samples/pki/make-pki.sh" pki >/dev/null 2>&1
[ -f age.key ] || age-keygen -o age.key 2>/dev/null
R=$(age-keygen -y age.key)
cat >request.json <<'JSON'
{"instrument": {"name": "Budapest Convention", "article": "31"},
 "measure": "letter-of-request",
 "requesting_authority": {"name": "TEST-ONLY Foreign Authority", "country": "FR"},
 "requested_authority": {"name": "TEST-ONLY Public Prosecutor", "country": "AT"},
 "references": {"request": "BENCH-1"}}
JSON
# The payload: half random, half compressible text, in two files.
if [ ! -f payload/done-$SIZE_MIB ]; then
	rm -rf payload && mkdir payload
	half=$((SIZE_MIB / 2))
	head -c $((half * 1048576)) /dev/urandom >payload/image.raw
	yes "international cooperation in combating cybercrime, evidence" |
		head -c $(((SIZE_MIB - half) * 1048576)) >payload/report.txt || true
	touch payload/done-$SIZE_MIB
fi
cat payload/image.raw payload/report.txt >/dev/null   # warm the page cache

# elapsed CMD...: wall-clock seconds.
elapsed() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }

custos_create() {
	rm -f out/c.*
	"$CUSTOS_BUNDLE" create -q --request request.json \
		-k pki/prosecutor.key -c pki/prosecutor.pem -r "$R" \
		--split "$SPLIT" -o out/c payload/image.raw payload/report.txt
}
tar_age() {
	rm -f out/t.tar.age
	tar -C payload -cf - image.raw report.txt | age -r "$R" -o out/t.tar.age
}
custos_verify() {
	"$CUSTOS_BUNDLE" verify -q -i age.key --trust pki/ca.pem \
		out/c.transfer-manifest.txt
}
age_untar() { cat out/c.tar.age.* | age -d -i age.key | tar -tf - >/dev/null; }

echo "payload: $SIZE_MIB MiB (half random, half text), $RUNS runs each" >&2
declare -A best
for job in custos_create tar_age; do best[$job]=999999; done
for ((i = 1; i <= RUNS; i++)); do
	for job in custos_create tar_age; do
		t=$(elapsed $job)
		echo "run $i $job: $t s" >&2
		if (($(echo "$t < ${best[$job]}" | bc))); then best[$job]=$t; fi
	done
done
custos_create
vbest=999999
abest=999999
for ((i = 1; i <= RUNS; i++)); do
	t=$(elapsed custos_verify); echo "run $i custos_verify: $t s" >&2
	if (($(echo "$t < $vbest" | bc))); then vbest=$t; fi
	t=$(elapsed age_untar); echo "run $i age_untar: $t s" >&2
	if (($(echo "$t < $abest" | bc))); then abest=$t; fi
done
rm -f out/c.*
rss_create=$( { /usr/bin/time -f '%M' "$CUSTOS_BUNDLE" create -q \
	--request request.json -k pki/prosecutor.key -c pki/prosecutor.pem \
	-r "$R" --split "$SPLIT" -o out/c payload/image.raw payload/report.txt \
	>/dev/null; } 2>&1 | tail -1)
rss_verify=$( { /usr/bin/time -f '%M' "$CUSTOS_BUNDLE" verify -q -i age.key --trust pki/ca.pem out/c.transfer-manifest.txt >/dev/null; } 2>&1 | tail -1)

printf 'bundle bench, %s MiB payload, best of %s (seconds)\n' "$SIZE_MIB" "$RUNS"
printf '  custos-bundle create (bag, sha256+sha512, sign, age, parts): %s\n' "${best[custos_create]}"
printf '  tar c | age -r:                                               %s\n' "${best[tar_age]}"
printf '  ratio: %s (target <= 1.3)\n' "$(echo "scale=2; ${best[custos_create]} / ${best[tar_age]}" | bc)"
printf '  custos-bundle verify (parts, age, tar, all hashes, sigs):    %s\n' "$vbest"
printf '  cat parts | age -d | tar t:                                  %s\n' "$abest"
printf '  peak RSS: create %s KiB, verify %s KiB (target <= 65536)\n' "$rss_create" "$rss_verify"
