#!/bin/bash
# bench/court-report.sh: how long custos-verify takes to check a large case
# and render its court report.  Builds a case of ITEMS items, each acquired
# from a small file with custos-acquire (a signed report and a raw image),
# and one custody log of RECORDS records over them, written by
# bench/court-gen.c through libcustos directly (the acquired records, then
# seals, accesses, hand-overs between three people, exports, re-checks and
# a checkpoint, every record signed with the TEST-ONLY identities of
# samples/pki).  Then times custos-verify plain, --json and --html (wall
# time, user and system CPU and peak RSS from /usr/bin/time -v) and reports
# the HTML's size, its timelines (drawn, or compact tables above 5,000
# records) and its index, and whether html5lib parses it strictly.
#
#   bench/court-report.sh [RECORDS [ITEMS]]      (default 100000 1000)
#
# REUSE=1 measures the case built by the previous run again.
# PDF=1 also prints the HTML with headless Chromium and times that.
# Needs a build in ./build (or BUILD=DIR; a copy keeps ninja from relinking
# the library under a running bench).  Writes under ${BENCH_DIR:-/dev/shm/custos-bench-
# court} (tmpfs: the log syncs every record, which only the disk would feel).
set -eu
RECORDS=${1:-100000}
ITEMS=${2:-1000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
B=$BUILD/tools
P=$ROOT/samples/pki
D=${BENCH_DIR:-/dev/shm/custos-bench-court}
if [ "${REUSE:-0}" = 1 ] && [ -f "$D/case/custody/log.jsonl" ]; then
	cd "$D"	# REUSE=1: measure the case built before
else
	rm -rf "$D" && mkdir -p "$D/case" && cd "$D"
	cc -O2 -I"$ROOT/include" -o court-gen "$ROOT/bench/court-gen.c" \
		-L"$BUILD/src" -Wl,-rpath,"$BUILD/src" -lcustos -lcrypto
	head -c 4096 /dev/urandom >src.img
	start=$(date +%s.%N)
	seq -f 'IT-%04g' 1 "$ITEMS" | xargs -P 2 -I{} "$B/custos-acquire" -q -f raw \
		--block-size none -H sha256 --case BIG --evidence {} \
		--examiner "Test Examiner" --description "bench item {}" \
		--sign-key "$P/examiner.key" --sign-cert "$P/examiner.pem" \
		-o "case/{}" src.img
	acquired=$(date +%s.%N)
	./court-gen case/custody "$D/log-key.pem" "$P" "$RECORDS" case/IT-*.report.json
	built=$(date +%s.%N)
	echo "acquired $ITEMS items in $(echo "$acquired - $start" | bc) s;" \
		"log: $(wc -l <case/custody/log.jsonl) records in" \
		"$(echo "$built - $acquired" | bc) s," \
		"$(stat -c %s case/custody/log.jsonl) bytes"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# Wall time and peak RSS of one custos-verify run.
t() {
	local name=$1 rc=0
	shift
	/usr/bin/time -v -o time.txt "$@" >/dev/null 2>err.txt || rc=$?
	printf '%-8s exit %d, %s s, %s s user, %s s sys, peak RSS %s MiB (load %s)\n' \
		"$name" "$rc" \
		"$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' time.txt)" \
		"$(sed -n 's/.*User time (seconds): //p' time.txt)" \
		"$(sed -n 's/.*System time (seconds): //p' time.txt)" \
		"$(( $(sed -n 's/.*Maximum resident set size (kbytes): //p' time.txt) / 1024 ))" \
		"$(cut -d' ' -f1 /proc/loadavg)"
}
V=("$B/custos-verify" -q --trust "$P/ca.pem")
t plain "${V[@]}" case
t json "${V[@]}" --json case
rm -f big.html
t html "${V[@]}" --html big.html case
echo "HTML: $(stat -c %s big.html) bytes," \
	"$(grep -o '<section class="item"' big.html | wc -l) item sections," \
	"$(grep -o '<figure class="timeline"' big.html | wc -l) drawn timelines" \
	"($(grep -o '<svg class="timeline' big.html | wc -l) page-sized SVG parts)," \
	"$(grep -o '<table class="records compact timeline"' big.html | wc -l) compact timelines," \
	"index links: $(grep -o 'href="#item-' big.html | wc -l)"
/usr/bin/python3 -c 'import html5lib,sys,time; s=time.time(); html5lib.HTMLParser(strict=True).parse(open(sys.argv[1],"rb")); print("html5lib strict: ok in %.1f s" % (time.time()-s))' big.html || echo "html5lib strict: FAILED"
if [ "${PDF:-0}" = 1 ]; then
	C=$(command -v chromium || command -v chromium-headless-shell)
	s=$(date +%s.%N)
	rc=0
	timeout 600 unshare -n "$C" --headless --no-sandbox --disable-gpu \
		--no-pdf-header-footer --print-to-pdf="$D/big.pdf" \
		"file://$D/big.html" >/dev/null 2>&1 || rc=$?
	echo "chromium print-to-pdf: exit $rc in $(echo "$(date +%s.%N) - $s" | bc) s," \
		"$(stat -c %s big.pdf 2>/dev/null || echo 0) bytes," \
		"$(pdfinfo big.pdf 2>/dev/null | sed -n 's/Pages: *//p') pages"
fi
