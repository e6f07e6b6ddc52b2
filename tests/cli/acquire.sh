#!/bin/bash
# custos-acquire from the command line: exit statuses, outputs, and checks
# by independent tools (coreutils' *sum and cmp, jq).
# Needs: CUSTOS_ACQUIRE, SAMPLE.
. "$(dirname "$0")/lib.sh"
A=$CUSTOS_ACQUIRE

# --- usage and help ---
expect_status 0 "--help" -- "$A" --help
expect "--help lists the options" grep -q -- '--require-readonly' out.txt
expect "--help gives exit statuses" grep -q 'Exit status' out.txt
expect_status 0 "--version" -- "$A" --version
expect "--version names libewf" grep -q '^libewf ' out.txt
expect "--version names OpenSSL" grep -q '^OpenSSL ' out.txt
expect_status 2 "unknown option" -- "$A" --bogus -o x "$SAMPLE"
err_matches "unknown option '--bogus'" "unknown option is named"
expect_status 2 "no source" -- "$A" -o x
expect_status 2 "two sources" -- "$A" -o x "$SAMPLE" "$SAMPLE"
expect_status 2 "no output" -- "$A" "$SAMPLE"
expect_status 2 "unknown hash" -- "$A" -H md5,crc32 -o x "$SAMPLE"
err_matches "crc32" "the unknown hash is named"
expect_status 2 "unknown format" -- "$A" -f vmdk -o x "$SAMPLE"
expect_status 2 "unknown compression" -- "$A" -c turbo -o x "$SAMPLE"
expect_status 2 "bad split size" -- "$A" --split 12Q -o x "$SAMPLE"
expect_status 2 "bad retries" -- "$A" --retries -1 -o x "$SAMPLE"
expect_status 2 "granularity not whole sectors" -- \
	"$A" --granularity 1000 -o x "$SAMPLE"
expect_status 2 "missing option value" -- "$A" "$SAMPLE" -o
expect "usage errors wrote nothing" test -z "$(ls x.* 2>/dev/null)"

# --- operational failures ---
expect_status 3 "missing source" -- "$A" -o x "$WORK/no-such-disk"
err_matches "no-such-disk.*No such file" "missing source is named"
expect_status 3 "unwritable output folder" -- "$A" -q -o /nonexistent/dir/x "$SAMPLE"
err_matches "/nonexistent/dir/x" "unwritable output is named"
expect_status 3 "a folder as source" -- "$A" -o x "$WORK"

# --- a clean acquisition of the sample ---
expect_status 0 "acquire the sample" -- "$A" -q -f raw -H md5,sha1,sha256,sha512 \
	--case "CASE-42" --evidence "E-1" --examiner "A. Examiner" \
	--description "sample disk" --notes "test run" -o s "$SAMPLE"
expect "image is byte-identical (cmp)" cmp -s s.raw "$SAMPLE"
for alg in md5 sha1 sha256 sha512; do
	want=$(${alg}sum < "$SAMPLE" | cut -d' ' -f1)
	got=$(jget s.report.json ".hashes.$alg")
	expect "$alg equals ${alg}sum" test "$want" = "$got"
done
expect "sha256sum -c accepts s.sha256" sha256sum --quiet -c s.sha256
expect "report: result complete" test "$(jget s.report.json .result)" = complete
expect "report: case number" test "$(jget s.report.json .case.case_number)" = CASE-42
expect "report: source kind file" test "$(jget s.report.json .source.kind)" = file
expect "report: size" test "$(jget s.report.json .source.size_bytes)" = "$(stat -c %s "$SAMPLE")"
expect "report: file name relative" test "$(jget s.report.json '.image.files[0].name')" = s.raw
expect "report.txt is written" grep -q 'CUSTOS ACQUISITION REPORT' s.report.txt
expect "no .part files remain" test -z "$(ls ./*.part 2>/dev/null)"

# --- refuse to overwrite ---
cp s.report.json before.json
expect_status 3 "existing output is refused" -- "$A" -q -f raw -o s "$SAMPLE"
err_matches "already exists" "existing output message"
expect "existing report untouched" cmp -s s.report.json before.json

# --- split output ---
expect_status 0 "split into 1M segments" -- "$A" -q -f raw --split 1M -o p "$SAMPLE"
expect "four segments" test "$(ls p.0* | wc -l)" -eq 4
expect "segments concatenate to the source" sh -c "cat p.001 p.002 p.003 p.004 | cmp -s - '$SAMPLE'"
expect "sha256sum -c accepts split checksums" sha256sum --quiet -c p.sha256
expect "report lists four files" test "$(jget p.report.json '.image.files|length')" -eq 4

# --- stdin, unknown size ---
expect_status 0 "acquire from stdin" -- sh -c "cat '$SAMPLE' | '$A' -q -f raw -o in -"
expect "stdin image identical" cmp -s in.raw "$SAMPLE"
expect "stdin kind" test "$(jget in.report.json .source.kind)" = stdin
expect "stdin size unknown" test "$(jget in.report.json .source.size_bytes)" = null
expect "stdin bytes acquired" test "$(jget in.report.json .acquisition.bytes_acquired)" = "$(stat -c %s "$SAMPLE")"

# --- odd size (not a multiple of 4096 or of a sector) ---
head -c 1000003 /dev/urandom > odd.bin
expect_status 0 "odd-sized file" -- "$A" -q -f raw --verify -o odd odd.bin
expect "odd-sized image identical" cmp -s odd.raw odd.bin
expect "verify matched" test "$(jget odd.report.json .verify.result)" = match

# --- --json and --progress=json ---
expect_status 0 "--json" -- "$A" -f raw --json --progress=json -o j "$SAMPLE"
expect "--json prints the report" cmp -s out.txt j.report.json
expect "progress lines are JSON" sh -c "jq -e . err.txt >/dev/null"
expect "last progress line is final" \
	test "$(grep '"phase":"acquire"' err.txt | tail -1 | jq -r .final)" = true
expect_status 0 "-q is silent on stderr" -- "$A" -q -f raw -o quiet "$SAMPLE"
expect "nothing on stderr with -q" test ! -s err.txt
expect "nothing on stdout with -q" test ! -s out.txt

# --- a write failure half way: file size limit ---
expect_status 3 "write failure (ulimit -f)" -- \
	bash -c "ulimit -f 1024; exec '$A' -q -f raw -o wf '$SAMPLE'"
err_matches "aborted" "write failure says aborted"
expect "no final image after write failure" test ! -e wf.raw
expect "no checksum file after write failure" test ! -e wf.sha256
expect "report says aborted" test "$(jget wf.report.json .result)" = aborted

# --- SIGINT while reading a slow source ---
mkfifo slow
( head -c 3000000 /dev/urandom; sleep 20 ) > slow &
writer=$!
"$A" -q -f raw -o int - < slow >out.txt 2>err.txt &
pid=$!
for _ in $(seq 50); do [ -s int.part/int.raw ] && break; sleep 0.1; done
sleep 0.3
kill -INT "$pid"
wait "$pid"
status=$?
kill "$writer" 2>/dev/null; pkill -P "$writer" 2>/dev/null; wait 2>/dev/null
expect "SIGINT exits 3" test "$status" -eq 3
expect "SIGINT report says aborted" test "$(jget int.report.json .result)" = aborted
expect "SIGINT report says how far" test "$(jget int.report.json .acquisition.bytes_acquired)" -gt 0
expect "SIGINT leaves no final image" test ! -e int.raw
expect "SIGINT keeps the partial data in the work folder" test -e int.part/int.raw
expect "SIGINT report names it there" \
	test "$(jget int.report.json '.image.files[0].name')" = int.part/int.raw

finish
