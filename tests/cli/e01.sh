#!/bin/bash
# E01 output and image hashing, checked with libewf's own tools (ewfverify,
# ewfinfo, ewfexport), The Sleuth Kit (fls) and coreutils, and E01 files
# made by other tools (../shared/testdata/ewf).
# Needs: CUSTOS_ACQUIRE, CUSTOS_HASH, SAMPLE, TESTDATA.
. "$(dirname "$0")/lib.sh"
A=$CUSTOS_ACQUIRE
H=$CUSTOS_HASH
for tool in ewfverify ewfinfo ewfexport fls; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool missing" >&2; exit 77; }
done
SAMPLE_MD5=$(md5sum < "$SAMPLE" | cut -d' ' -f1)
SAMPLE_SHA256=$(sha256sum < "$SAMPLE" | cut -d' ' -f1)

ewf_ok() { # ewf_ok DESCRIPTION FILE.E01
	if ewfverify -q "$2" > ewfverify.txt 2>&1 && grep -q 'SUCCESS' ewfverify.txt; then
		pass "$1: ewfverify SUCCESS"
	else
		fail "$1: ewfverify: $(tail -n 3 ewfverify.txt)"
	fi
}

# --- every compression level, E01 is the default format ---
for c in none fast best; do
	expect_status 0 "acquire -c $c" -- "$A" -q -c "$c" --case "CASE-$c" \
		--evidence "EV-1" --examiner "Exa Miner" --description "sample disk" \
		--notes "notes here" -o "c-$c" "$SAMPLE"
	ewf_ok "-c $c" "c-$c.E01"
	expect "-c $c: report format e01" test "$(jget c-$c.report.json .image.format)" = e01
	expect "-c $c: report compression" test "$(jget c-$c.report.json .image.compression)" = "$c"
	expect "-c $c: md5 of the media" test "$(jget c-$c.report.json .hashes.md5)" = "$SAMPLE_MD5"
	expect "-c $c: sha256sum -c accepts the E01 checksum" sha256sum --quiet -c "c-$c.sha256"
	expect_status 0 "-c $c: custos-hash accepts our E01" -- "$H" -q -H md5,sha256 "c-$c.E01"
	expect "-c $c: custos-hash md5" grep -q "^md5: $SAMPLE_MD5" out.txt
done
expect "best is no larger than fast" test "$(stat -c %s c-best.E01)" -le "$(stat -c %s c-fast.E01)"
expect "fast is smaller than none" test "$(stat -c %s c-fast.E01)" -lt "$(stat -c %s c-none.E01)"

# --- ewfinfo shows the case metadata ---
ewfinfo c-fast.E01 > info.txt 2>&1
for want in "Case number:.*CASE-fast" "Evidence number:.*EV-1" \
	"Examiner name:.*Exa Miner" "Description:.*sample disk" \
	"Notes:.*notes here" "File format:.*EnCase 6" \
	"MD5:.*$SAMPLE_MD5"; do
	expect "ewfinfo shows '$want'" grep -Eq "$want" info.txt
done

# --- ewfexport round trip is byte-identical ---
ewfexport -q -u -t rt -f raw c-best.E01 > /dev/null 2>&1
expect "ewfexport of our E01 equals the sample" cmp -s rt.raw "$SAMPLE"

# --- The Sleuth Kit lists the same files from the E01 as from the raw ---
fls -r "$SAMPLE" > fls-raw.txt 2>&1
fls -r -i ewf c-fast.E01 > fls-e01.txt 2>&1
expect "fls reads the E01" test -s fls-e01.txt
expect "fls lists the same files" cmp -s fls-raw.txt fls-e01.txt

# --- segments ---
expect_status 0 "split into 1M segments" -- "$A" -q -c none --split 1M -o seg "$SAMPLE"
expect "several segments" test -e seg.E02
ewf_ok "split" seg.E01
expect "report lists every segment" \
	test "$(jget seg.report.json '.image.files|length')" -eq "$(ls seg.E?? | wc -l)"
expect "sha256sum -c accepts every segment" sha256sum --quiet -c seg.sha256
expect_status 0 "custos-hash reads the segments" -- "$H" -q --no-blockmap seg.E01
expect "custos-hash segments md5" grep -q "^md5: $SAMPLE_MD5" out.txt
expect "no .part folder remains" test ! -e seg.E01.part

# --- a medium that ends inside a sector is padded, and says so ---
head -c 1000003 /dev/urandom > odd.bin
expect_status 0 "odd-sized source into E01 with --verify" -- "$A" -q --verify -o odd odd.bin
ewf_ok "odd size" odd.E01
pad=$(( (512 - 1000003 % 512) % 512 ))
expect "report records the padding ($pad bytes)" test "$(jget odd.report.json .image.padding_bytes)" -eq "$pad"
expect "report md5 is of the source" \
	test "$(jget odd.report.json .hashes.md5)" = "$(md5sum < odd.bin | cut -d' ' -f1)"
{ cat odd.bin; head -c "$pad" /dev/zero; } > odd-padded.bin
expect "stored md5 is of the padded media" \
	test "$(jget odd.report.json .image.stored_hashes.md5)" = "$(md5sum < odd-padded.bin | cut -d' ' -f1)"
expect "verify matched" test "$(jget odd.report.json .verify.result)" = match

# --- from a pipe: size unknown until the end, odd size padded ---
expect_status 0 "E01 from stdin" -- sh -c "cat odd.bin | '$A' -q --verify -o pipe -"
ewf_ok "stdin" pipe.E01
expect "stdin E01: padding recorded" test "$(jget pipe.report.json .image.padding_bytes)" -eq "$pad"
expect "stdin E01: verify matched" test "$(jget pipe.report.json .verify.result)" = match

# --- E01 files written by other tools (libewf's ewfacquire) ---
for img in ext2.E01 ext2.split.E01; do
	expect_status 0 "custos-hash $img" -- "$H" -q -H md5,sha256 "$TESTDATA/ewf/$img"
	expect "$img md5 (testdata README)" grep -q '^md5: 196066add11fb71c4c49cf1bb50d6d24$' out.txt
	expect "$img sha256 (testdata README)" \
		grep -q '^sha256: a6c2f0e39afe6c6ab432ca5465349fcefe8dc944398e97b2d957d3f89dbb5d80$' out.txt
done
expect "split testdata: both segments used" grep -q 'ext2.split.E02' out.txt

# --- a flipped byte inside a chunk of a copy ---
flip() { # flip SRC DST OFFSET
	cp "$1" "$2"
	local b
	b=$(od -An -tu1 -j "$3" -N1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $(( b ^ 255 )))" | dd of="$2" bs=1 seek="$3" conv=notrunc status=none
}
for src in c-fast c-none; do
	for off in 20000 300000; do
		flip "$src.E01" bad.E01 "$off"
		expect_status 1 "$src: byte $off flipped makes custos-hash exit 1" -- "$H" -q bad.E01
		err_matches "chunk [0-9]+ at offset [0-9]+ is corrupt" "$src/$off: the chunk and its offset are named"
		expect "$src/$off: no hash printed for a corrupt image" sh -c "! grep -q '^md5:' out.txt"
	done
done
flip "$TESTDATA/ewf/ext2.E01" bad2.E01 6000
expect_status 1 "flipped byte in the testdata E01" -- "$H" -q bad2.E01
head -c 12000 "$TESTDATA/ewf/ext2.E01" > cut.E01
expect_status 1 "a truncated E01 exits 1" -- "$H" -q cut.E01
err_matches "truncated" "truncation is named"

# --- custos-hash: raw, split raw, JSON, errors ---
expect_status 0 "custos-hash raw" -- "$H" -q -H sha256 "$SAMPLE"
expect "raw sha256" grep -q "^sha256: $SAMPLE_SHA256" out.txt
expect_status 0 "split raw for the test" -- "$A" -q -f raw --split 1M -o r "$SAMPLE"
expect_status 0 "custos-hash finds .002 onwards from .001" -- "$H" -q --no-blockmap r.001
expect "split raw md5" grep -q "^md5: $SAMPLE_MD5" out.txt
expect_status 0 "custos-hash --json" -- "$H" -q --no-blockmap --json c-fast.E01
expect "JSON result ok" test "$(jq -r .result out.txt)" = ok
expect "JSON stored md5 matches" test "$(jq -r '.["e01"].stored_md5_matches' out.txt)" = true
expect_status 1 "custos-hash --json on a corrupt E01" -- "$H" -q --json bad.E01
expect "JSON names the corrupt chunk" test "$(jq -r '.["e01"].corrupt_chunk.chunk' out.txt)" != null
expect_status 2 "custos-hash without IMAGE" -- "$H"
expect_status 2 "custos-hash bad option" -- "$H" --nope x
expect_status 3 "custos-hash missing file" -- "$H" nonexistent.E01
expect_status 0 "custos-hash --help" -- "$H" --help

# --- an interrupted E01 keeps nothing under a final name ---
expect_status 3 "E01 write failure (ulimit -f)" -- \
	bash -c "ulimit -f 300; exec '$A' -q -c none -o wf '$SAMPLE'"
expect "no final E01 after a failure" test ! -e wf.E01
expect "report says aborted" test "$(jget wf.report.json .result)" = aborted
expect "partial segments stay in the work folder" test -e wf.part/wf.E01
expect "the report names them there" \
	test "$(jget wf.report.json '.image.files[0].name')" = wf.part/wf.E01
mkdir -p held.part
expect_status 3 "refuse when BASE.part exists" -- "$A" -q -o held "$SAMPLE"
err_matches "held.part already exists" "the leftover folder is named"
expect "nothing was written beside it" test -z "$(ls -d held.* | grep -vx held.part)"
finish
