#!/usr/bin/env bash
# bench/verify.sh - custos-verify of a signed E01 case against custos-hash
# of the same image (DESIGN.md: "custos-verify of a signed E01 case <= 1.1x
# custos-hash of the image alone"), and against the hand chain a prosecutor
# would otherwise run, side by side in one run:
#
#   verify  custos-verify -q --trust ca.pem CASE        (report, .p7s, log, image:
#           every block against the signed block map, and the report's
#           md5, sha1, sha256 in the same pass)
#   hash    custos-hash -q -H md5,sha1,sha256 CASE/disk.E01  (the same set, with the map)
#   verify_fast  custos-verify -q --blockmap-only ...   (blocks only: all cores)
#   hash_fast    custos-hash -q CASE/disk.E01           (blocks only)
#   hand    ewfverify -q -d sha256 disk.E01 && openssl cms -verify ... report.json.p7s
#           && custos-log verify custody
#
# The case is the 1 GiB synthetic media of bench/acquire.sh acquired as an
# E01 (-c fast) with a signed report, logged, released, received and
# checkpointed.  Runs are interleaved (v h c v h c ...); medians and ratios
# are printed.  Usage: bench/verify.sh; env SIZE_MIB (default 1024: the
# media of bench/acquire.sh; smaller for a quick run), RUNS (default 3), BENCH_DIR,
# OUT_DIR, and the binaries CUSTOS_VERIFY, CUSTOS_HASH, CUSTOS_ACQUIRE,
# CUSTOS_LOG.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(cd "$script_dir/.." && pwd -P)
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-/var/tmp/custos-bench}
SIZE_MIB=${SIZE_MIB:-1024}
[[ $SIZE_MIB =~ ^[1-9][0-9]*$ && $((SIZE_MIB % 4)) = 0 ]] ||
	{ echo "verify.sh: SIZE_MIB must be a multiple of 4" >&2; exit 2; }
suffix=; [[ $SIZE_MIB = 1024 ]] || suffix=-${SIZE_MIB}m
OUT_DIR=${OUT_DIR:-$BENCH_DIR/out-verify$suffix}
B=$repo_root/build/tools
CUSTOS_VERIFY=${CUSTOS_VERIFY:-$B/custos-verify}
CUSTOS_HASH=${CUSTOS_HASH:-$B/custos-hash}
CUSTOS_ACQUIRE=${CUSTOS_ACQUIRE:-$B/custos-acquire}
CUSTOS_LOG=${CUSTOS_LOG:-$B/custos-log}
MEDIA=$BENCH_DIR/media-1g.img
[[ $SIZE_MIB = 1024 ]] || MEDIA=$BENCH_DIR/media$suffix.img

die() { printf 'verify.sh: error: %s\n' "$*" >&2; exit 1; }
for t in ewfverify openssl /usr/bin/time "$CUSTOS_VERIFY" "$CUSTOS_HASH" \
	"$CUSTOS_ACQUIRE" "$CUSTOS_LOG"; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' not found"
done
# The media of bench/acquire.sh (same recipe, same bytes): zeros, the seed
# text repeated, AES-128-CTR keystream.  (acquire.sh with SKIP_TIMING=1
# does not make it.)
if [[ ! -s $MEDIA ]]; then
	echo "making the $SIZE_MIB MiB media ..." >&2
	SEED_TEXT=${SEED_TEXT:-$repo_root/../shared/seed/international-cooperation-in-combating-cybercrime.txt}
	[[ -s $SEED_TEXT ]] || die "seed text not readable: $SEED_TEXT (set SEED_TEXT)"
	mkdir -p "$BENCH_DIR"
	q=$((SIZE_MIB << 18)) chunk=$BENCH_DIR/.text-chunk
	: >"$chunk"
	while (($(stat -c %s "$chunk") < 1048576)); do cat "$SEED_TEXT" >>"$chunk"; done
	clen=$(stat -c %s "$chunk")
	{
		head -c "$q" /dev/zero
		for ((i = 0; i < q / clen; i++)); do cat "$chunk"; done
		head -c $((q % clen)) "$chunk"
		head -c $((2 * q)) /dev/zero | openssl enc -aes-128-ctr -nosalt \
			-K 000102030405060708090a0b0c0d0e0f -iv f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff
	} >"$MEDIA.tmp"
	rm -f "$chunk"
	mv "$MEDIA.tmp" "$MEDIA"
fi
mkdir -p "$OUT_DIR"
C=$OUT_DIR/case
P=$OUT_DIR/pki
if [[ ! -s $C/disk.report.json.p7s || ! -s $C/custody/checkpoints/4.note ]]; then
	echo "making the signed, logged E01 case ..." >&2
	rm -rf "${OUT_DIR:?}/case" "${OUT_DIR:?}/pki" "$OUT_DIR/log-key.pem"
	bash "$repo_root/samples/pki/make-pki.sh" "$P" >/dev/null
	mkdir -p "$C"
	"$CUSTOS_LOG" init "$C/custody" --origin bench.example/V --log-key "$OUT_DIR/log-key.pem" \
		--trust "$P/ca.pem" --case BENCH -k "$P/examiner.key" -c "$P/examiner.pem" >/dev/null
	"$CUSTOS_ACQUIRE" -q -c fast --case BENCH --evidence HD-01 --sign-key "$P/examiner.key" \
		--sign-cert "$P/examiner.pem" --log "$C/custody" -o "$C/disk" "$MEDIA"
	"$CUSTOS_LOG" release "$C/custody" --item HD-01 --to Prosecutor --purpose trial \
		-k "$P/examiner.key" -c "$P/examiner.pem" >/dev/null
	"$CUSTOS_LOG" receive "$C/custody" --answers 2 --storage "Room 3" \
		-k "$P/prosecutor.key" -c "$P/prosecutor.pem" >/dev/null
	"$CUSTOS_LOG" checkpoint "$C/custody" --log-key "$OUT_DIR/log-key.pem" >/dev/null
fi
"$CUSTOS_VERIFY" -q --trust "$P/ca.pem" "$C" | grep -q '^VERIFIED' ||
	die "the case does not verify: $("$CUSTOS_VERIFY" --trust "$P/ca.pem" "$C" | tail -3)"
cat "$C"/disk.E* > /dev/null   # from the page cache, as the design says

hand_chain() {
	ewfverify -q -d sha256 "$C/disk.E01" &&
	openssl cms -verify -binary -inform DER -in "$C/disk.report.json.p7s" \
		-content "$C/disk.report.json" -CAfile "$P/ca.pem" -out /dev/null &&
	"$CUSTOS_LOG" verify "$C/custody"
}
export -f hand_chain
export C P CUSTOS_LOG

# run NAME COMMAND... : time one run, append "seconds rss_kib" to NAME.times
run() {
	local name=$1
	shift
	/usr/bin/time -f '%e %M' -o "$OUT_DIR/$name.last" "$@" >/dev/null 2>"$OUT_DIR/$name.err" ||
		die "$name failed: $(tail -n 3 "$OUT_DIR/$name.err")"
	cat "$OUT_DIR/$name.last" >> "$OUT_DIR/$name.times"
}
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
col() { awk -v c="$2" '{print $c}' "$OUT_DIR/$1.times"; }

rm -f "$OUT_DIR"/*.times
for i in $(seq "$RUNS"); do
	echo "round $i of $RUNS" >&2
	run custos_verify "$CUSTOS_VERIFY" -q --trust "$P/ca.pem" "$C"
	run custos_hash "$CUSTOS_HASH" -q -H md5,sha1,sha256 "$C/disk.E01"
	run verify_fast "$CUSTOS_VERIFY" -q --blockmap-only --trust "$P/ca.pem" "$C"
	run hash_fast "$CUSTOS_HASH" -q "$C/disk.E01"
	run hand_chain bash -c hand_chain
done

printf '# custos-verify bench, %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
printf '# %s, %s cores, %s\n' "$(lscpu | sed -n 's/^Model name: *//p' | head -1)" "$(nproc)" "$(uname -r)"
printf '# signed E01 (-c fast) of the %s MiB media, %s bytes of E01, %s log records; %s runs, median wall time\n\n' \
	"$SIZE_MIB" "$(stat -c %s "$C"/disk.E?? | awk '{s += $1} END {print s}')" \
	"$(wc -l < "$C/custody/log.jsonl")" "$RUNS"
printf '%-14s %9s %9s\n' job seconds rss_MiB
for j in custos_verify custos_hash verify_fast hash_fast hand_chain; do
	printf '%-14s %9.2f %9.1f\n' "$j" "$(col $j 1 | median)" \
		"$(col $j 2 | sort -n | tail -1 | awk '{print $1 / 1024}')"
done
ratio() { awk -v a="$(col "$1" 1 | median)" -v b="$(col "$2" 1 | median)" 'BEGIN {printf "%.2f", a / b}'; }
echo
r=$(ratio custos_verify custos_hash)
printf 'custos-verify / custos-hash = %s (target <= 1.1)  %s\n' "$r" \
	"$(awk -v r="$r" 'BEGIN {print (r <= 1.1) ? "PASS" : "MISS"}')"
r=$(ratio verify_fast hash_fast)
printf 'custos-verify --blockmap-only / custos-hash (blocks only) = %s (target <= 1.1)  %s\n' \
	"$r" "$(awk -v r="$r" 'BEGIN {print (r <= 1.1) ? "PASS" : "MISS"}')"
printf 'hand chain / custos-verify = %s\n' "$(ratio hand_chain custos_verify)"
printf 'hand chain / custos-verify --blockmap-only = %s\n' "$(ratio hand_chain verify_fast)"
