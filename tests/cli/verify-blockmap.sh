#!/bin/bash
# custos-verify with block maps and disclosure packages (issues 11 and 13).
# A signed raw acquisition of the sample ext2 image, with its block map and
# custody log, gives VERIFIED; one changed image byte gives FAILED naming
# media.blockmap.blocks with the byte range and the file (/README.txt, as
# icat finds it at inode 12); a map whose root differs from the signed
# report gives FAILED; a missing map gives INCOMPLETE; --blockmap-only
# leaves the stream hashes unrecomputed but still VERIFIED; a disclosure
# package verifies, and a changed block in it FAILS naming disclose.blocks.
# Needs: CUSTOS_VERIFY CUSTOS_ACQUIRE CUSTOS_LOG CUSTOS_DISCLOSE SAMPLE PKI;
# jq.
. "$(dirname "$0")/lib.sh"
V=$CUSTOS_VERIFY
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }
K=(-k "$PKI/examiner.key" -c "$PKI/examiner.pem")

mkdir base && cd base &&
	"$CUSTOS_LOG" init custody --origin test.example/C --log-key ../log-key.pem \
		--trust "$PKI/ca.pem" --case CASE-1 "${K[@]}" >/dev/null &&
	"$CUSTOS_ACQUIRE" -q -f raw --case CASE-1 --evidence HD-01 \
		--examiner "Test Examiner" --sign-key "$PKI/examiner.key" \
		--sign-cert "$PKI/examiner.pem" --log custody -o s "$SAMPLE" &&
	cd "$WORK" || fail "making the case"
[ -s base/s.blockmap ] || fail "the acquisition wrote no block map"

fresh() { rm -rf "$WORK/$1"; cp -a "$WORK/base" "$WORK/$1"; }
verify() { timeout 60 "$V" --json "$@" >out.json 2>err.txt; RC=$?; }
verdict() { jq -r .verdict out.json; }
# check ID FIELD: a field of the first check with that id.
check() { jq -r --arg id "$1" "[.checks[] | select(.id == \$id)][0].$2" out.json; }

verify --trust "$PKI/ca.pem" base
expect "with a block map: VERIFIED (exit $RC)" [ "$RC/$(verdict)" = 0/VERIFIED ]
expect "media.blockmap.root passed" [ "$(check media.blockmap.root result)" = passed ]
expect "the root is the signed report's" [ "$(check media.blockmap.root observed)" \
	= "$(jq -r .block_map.root base/s.report.json)" ]
expect "media.blockmap.blocks passed, 64 blocks" [ "$(check media.blockmap.blocks \
	observed)" = "64 blocks match" ]
expect "MD5 still recomputed by default" [ "$(check media.hash.md5 result)" = passed ]
expect "SHA-256 still recomputed by default" [ "$(check media.hash.sha256 result)" = passed ]

verify --trust "$PKI/ca.pem" --blockmap-only base
expect "--blockmap-only: VERIFIED (exit $RC)" [ "$(verdict)" = VERIFIED ]
expect "--blockmap-only: MD5 not checked, not required" [ "$(check media.hash.md5 \
	result)/$(check media.hash.md5 required)" = not-checked/false ]

# One changed image byte: the block, its byte range and the file.
fresh bad; printf 'X' | dd of=bad/s.raw bs=1 seek=296970 conv=notrunc status=none
verify --trust "$PKI/ca.pem" bad
expect "a changed byte: FAILED (exit $RC)" [ "$RC/$(verdict)" = 1/FAILED ]
expect "media.blockmap.blocks failed" [ "$(check media.blockmap.blocks result)" = failed ]
expect "names the exact byte range" [ "$(check media.blockmap.blocks observed)" \
	= "bytes 262144-327679" ]
expect "names the block and the file" jq -e '[.checks[] | select(.id ==
	"media.blockmap.blocks")][0].detail | test("bytes 262144-327679 \\(block 4\\) touches .*/README.txt \\(inode 12\\)")' out.json
"$V" --trust "$PKI/ca.pem" bad >text.txt 2>&1
expect "the text names it too" grep -q "media.blockmap.blocks.*262144-327679.*README.txt" text.txt
# --blockmap-only must still catch it, with no stream hash to do so.
verify --trust "$PKI/ca.pem" --blockmap-only bad
expect "--blockmap-only: a changed byte FAILED" [ "$(verdict)" = FAILED ]
expect "--blockmap-only: by media.blockmap.blocks" [ "$(check media.blockmap.blocks result)" = failed ]
expect "--blockmap-only: no stream hash computed" [ "$(check media.hash.sha256 result)" = not-checked ]

# A map whose root differs from the signed report (a map with one leaf
# changed and its header root recomputed would do the same; here the map
# of another image of the same size, whose leaves give its own root).
cp "$SAMPLE" other.img
printf 'Z' | dd of=other.img bs=1 seek=300000 conv=notrunc status=none
"$CUSTOS_ACQUIRE" -q -f raw -o other other.img || fail "acquiring the other image"
fresh swap; cp other.blockmap swap/s.blockmap
verify --trust "$PKI/ca.pem" swap
expect "another map: FAILED (exit $RC)" [ "$(verdict)" = FAILED ]
expect "media.blockmap.root failed" [ "$(check media.blockmap.root result)" = failed ]
expect "expected is the signed root" [ "$(check media.blockmap.root expected)" \
	= "$(jq -r .block_map.root base/s.report.json)" ]
verify --trust "$PKI/ca.pem" --blockmap-only swap
expect "another map, --blockmap-only: FAILED" [ "$(verdict)" = FAILED ]

fresh nomap; rm nomap/s.blockmap
verify --trust "$PKI/ca.pem" nomap
expect "a missing map: INCOMPLETE (exit $RC)" [ "$RC/$(verdict)" = 1/INCOMPLETE ]
expect "media.blockmap.root not checked" [ "$(check media.blockmap.root result)" = not-checked ]
expect "the stream hashes still checked" [ "$(check media.hash.sha256 result)" = passed ]

fresh junk; head -c 1000 base/s.blockmap >junk/s.blockmap
verify --trust "$PKI/ca.pem" junk
expect "a truncated map: FAILED" [ "$(verdict)" = FAILED ]
expect "a truncated map: media.blockmap.root failed" [ "$(check media.blockmap.root result)" = failed ]

# ---- disclosure packages ----
(cd base && "$CUSTOS_DISCLOSE" create -o ../pkg --path /README.txt s.raw >/dev/null) ||
	fail "disclosing /README.txt"
verify --trust "$PKI/ca.pem" pkg
expect "a disclosure package: VERIFIED (exit $RC)" [ "$RC/$(verdict)" = 0/VERIFIED ]
expect "the target is a disclosure package" jq -e '.targets[0].kind == "disclosure-package"' out.json
for id in disclose.report disclose.signature disclose.chain disclose.blocks \
	disclose.files disclose.extra disclose.bag; do
	expect "package: $id passed" [ "$(check "$id" result)" = passed ]
done
verify pkg
expect "a package with no trust anchor: INCOMPLETE" [ "$(verdict)" = INCOMPLETE ]
expect "no anchor: disclose.signature not checked" [ "$(check disclose.signature result)" = not-checked ]
rm -rf t; cp -a pkg t
printf 'Y' | dd of=t/data/block-000000000004.bin bs=1 seek=34826 conv=notrunc status=none
verify --trust "$PKI/ca.pem" t
expect "a changed block in a package: FAILED (exit $RC)" [ "$RC/$(verdict)" = 1/FAILED ]
expect "disclose.blocks failed" [ "$(check disclose.blocks result)" = failed ]
expect "names the block and the file" jq -e '[.checks[] | select(.id ==
	"disclose.blocks")][0].detail | test("block 4 .*README.txt")' out.json
expect "what comes after it is not checked" [ "$(check disclose.files result)" = not-checked ]
rm -rf t; cp -a pkg t; cp base/s.raw t/data/extra.bin
verify --trust "$PKI/ca.pem" t
expect "an extra file in a package: FAILED" [ "$(check disclose.extra result)" = failed ]
rm -rf t; cp -a pkg t
verify --trust "$PKI/other-ca.pem" t
expect "a package signed under another CA: FAILED" [ "$(verdict)" = FAILED ]
finish
