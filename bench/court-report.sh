#!/bin/bash
# bench/court-report.sh: how long custos-verify takes to render the court
# report of a large case.  Builds a case of ITEMS items, each acquired from
# a small file with custos-acquire into one custody log, followed by
# release/receive pairs until the log holds RECORDS records, all signed by
# the real tools; then times custos-verify with and without --html (the
# difference is the rendering) and reports the HTML's size, its number of
# timelines and the index.
#
#   bench/court-report.sh [RECORDS [ITEMS]]      (default 100000 1000)
#
# Building is the slow part: every record is one custos-log process that
# signs (about 40 ms each here), so 100,000 records take over an hour.
# Needs a build in ./build.  Writes under ${BENCH_DIR:-/tmp/custos-bench-court}.
set -eu
RECORDS=${1:-100000}
ITEMS=${2:-1000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/build/tools
D=${BENCH_DIR:-/tmp/custos-bench-court}
rm -rf "$D" && mkdir -p "$D" && cd "$D"
bash "$ROOT/samples/pki/make-pki.sh" pki >/dev/null 2>&1
P=$D/pki
head -c 65536 /dev/urandom >src.img
EX=(-k "$P/examiner.key" -c "$P/examiner.pem")
PR=(-k "$P/prosecutor.key" -c "$P/prosecutor.pem")
start=$(date +%s)
"$B/custos-log" init case/custody --origin bench.example/BIG --log-key log-key.pem \
	--trust "$P/ca.pem" --case BIG "${EX[@]}" >/dev/null
per_item=$(( (RECORDS - 1) / ITEMS ))
seq=1
for i in $(seq -w 1 "$ITEMS"); do
	"$B/custos-acquire" -q --case BIG --evidence "IT-$i" --examiner "Test Examiner" \
		--description "bench item $i" --sign-key "$P/examiner.key" \
		--sign-cert "$P/examiner.pem" --log case/custody -o "case/it-$i" src.img
	seq=$((seq + 1))
	n=1
	while [ $((n + 2)) -le "$per_item" ]; do
		"$B/custos-log" release case/custody --item "IT-$i" --to "Public Prosecutor" \
			--purpose analysis "${EX[@]}" >/dev/null
		"$B/custos-log" receive case/custody --answers "$seq" \
			--storage "Evidence room 3" "${PR[@]}" >/dev/null
		# back to the examiner for the next round
		"$B/custos-log" release case/custody --item "IT-$i" --to "Test Examiner" \
			--purpose analysis "${PR[@]}" >/dev/null
		"$B/custos-log" receive case/custody --answers $((seq + 2)) "${EX[@]}" >/dev/null
		seq=$((seq + 4))
		n=$((n + 4))
	done
done
"$B/custos-log" checkpoint case/custody --log-key log-key.pem >/dev/null
built=$(date +%s)
records=$(wc -l <case/custody/log.jsonl)
echo "built: $records records, $ITEMS items in $((built - start)) s"

t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
	echo "$e - $s" | bc; }
plain=$(t "$B/custos-verify" -q --trust "$P/ca.pem" case)
rm -f big.html
html=$(t "$B/custos-verify" -q --trust "$P/ca.pem" --html big.html case)
echo "custos-verify without --html: $plain s"
echo "custos-verify with --html:    $html s (rendering: $(echo "$html - $plain" | bc) s)"
echo "HTML: $(stat -c %s big.html) bytes, $(grep -c '<section class="item"' big.html) item sections, $(grep -c '<svg class="timeline"' big.html) timeline blocks, index rows: $(grep -c 'href="#item-' big.html)"
/usr/bin/python3 -c 'import html5lib,sys,time; s=time.time(); html5lib.HTMLParser(strict=True).parse(open(sys.argv[1],"rb")); print("html5lib strict: ok in %.1f s" % (time.time()-s))' big.html || echo "html5lib strict: FAILED"
