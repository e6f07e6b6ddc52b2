#!/usr/bin/env bash
# disclose.sh -- block maps and disclosure packages, end to end: acquire
# the sample ext2 image (raw and E01, signed), check it block by block with
# custos-hash, disclose one file, verify the package, and make each tamper
# case fail.  Independent checks: icat (The Sleuth Kit) for the file,
# sha256sum/sha512sum -c for the bag manifests, dd + cmp for the bytes.
#
#   CUSTOS_ACQUIRE CUSTOS_HASH CUSTOS_DISCLOSE SAMPLE PKI
. "$(dirname "$0")/lib.sh"

A=$CUSTOS_ACQUIRE H=$CUSTOS_HASH D=$CUSTOS_DISCLOSE
SIGN=(--sign-key "$PKI/examiner.key" --sign-cert "$PKI/examiner.pem")
command -v icat >/dev/null || { echo "SKIP: sleuthkit not installed"; exit 77; }

expect_status 0 "acquire raw with a block map" -- \
	"$A" -q -f raw "${SIGN[@]}" -o s "$SAMPLE"
expect_status 0 "acquire E01 with a block map" -- \
	"$A" -q "${SIGN[@]}" -o e "$SAMPLE"
expect "report carries the root" [ "$(jget s.report.json .block_map.root)" \
	= "$(od -An -tx1 -j 64 -N 32 s.blockmap | tr -d ' \n')" ]
expect "report: 64 leaves of 64 KiB" [ "$(jget s.report.json \
	'"\(.block_map.leaf_count) \(.block_map.block_size_bytes)"')" = "64 65536" ]
expect "report: map file sha256" [ "$(jget s.report.json .block_map.sha256)" \
	= "$(sha256sum <s.blockmap | cut -d' ' -f1)" ]
# Every leaf is the SHA-256 of its block (checked with dd and sha256sum).
ok=1
for i in 0 4 63; do
	want=$(dd if="$SAMPLE" bs=65536 skip=$i count=1 status=none | sha256sum | cut -d' ' -f1)
	got=$(od -An -tx1 -j $((128 + 32 * i)) -N 32 s.blockmap | tr -d ' \n')
	[ "$want" = "$got" ] || ok=0
done
expect "leaves are dd | sha256sum of the blocks" [ $ok = 1 ]

expect_status 0 "custos-hash checks the raw image block by block" -- "$H" -q s.raw
expect "no message on success" [ ! -s err.txt ]
expect "custos-hash: root matches the report" grep -q "matches the report" out.txt
expect_status 0 "custos-hash checks the E01 block by block, with -H md5" -- \
	"$H" -q -H md5 e.E01
expect "E01 md5 in the same pass" grep -q "^md5: $(md5sum <"$SAMPLE" | cut -d' ' -f1)" out.txt

# Damage: a changed byte names the block, its byte range and the file.
cp s.raw bad.raw; cp s.blockmap bad.blockmap; cp s.report.json bad.report.json
printf 'X' | dd of=bad.raw bs=1 seek=296970 conv=notrunc status=none
expect_status 1 "a changed byte fails the block check" -- "$H" -q bad.raw
expect "damage as an exact byte range" grep -q "damaged: bytes 262144-327679 (block 4)" out.txt
expect "damage names the file it touches" grep -q "touches file: /README.txt (inode 12" out.txt
# A map whose root differs from the report.
jq '.block_map.root = "00'"$(printf '%062d' 0)"'"' s.report.json >other.report.json
expect_status 1 "a map whose root differs from the report" -- \
	"$H" -q --report other.report.json s.raw
expect "says so" grep -q "DIFFERS from the report" out.txt

# Disclose one file and verify the package.
expect_status 0 "disclose /README.txt" -- "$D" create -o pkg --path /README.txt s.raw
expect_status 0 "verify the package" -- "$D" verify --trust "$PKI/ca.pem" pkg
expect "VERIFIED" grep -q "result: VERIFIED" out.txt
expect "icat gives the same file" cmp -s <(icat "$SAMPLE" 12) pkg/data/content-001-README.txt
expect "bag manifests pass sha256sum -c" bash -c 'cd pkg && sha256sum -c --quiet manifest-sha256.txt && sha512sum -c --quiet manifest-sha512.txt && sha256sum -c --quiet tagmanifest-sha256.txt'
# No image bytes outside the covering blocks: every block file equals the
# image at its offset, and every other file is not image content.
ok=1
for b in pkg/data/block-*.bin; do
	i=$((10#$(basename "$b" .bin | sed 's/block-//')))
	cmp -s "$b" <(dd if="$SAMPLE" bs=65536 skip="$i" count=1 status=none) || ok=0
done
expect "block files are the image's bytes at their offsets" [ $ok = 1 ]
expect "only block 4 is in the package" [ "$(ls pkg/data | grep -c '^block-')" = 1 ] 
expect "the package's files are accounted for" [ "$(ls pkg/data | sort | tr '\n' ' ')" \
	= "block-000000000004.bin content-001-README.txt disclosure.json s.report.json s.report.json.p7s " ]
expect_status 0 "disclose from the E01 by inode and a byte range" -- \
	"$D" create -o pkg-e --inode 14 --range 1024:1024 e.E01
expect_status 0 "verify the E01 package" -- "$D" verify --trust "$PKI/ca.pem" pkg-e
expect "random.bin reassembled as icat reads it" cmp -s <(icat "$SAMPLE" 14) pkg-e/data/content-002-inode_14

# Tamper cases, each on a fresh copy.
fresh() { rm -rf t; cp -a pkg t; }
fresh; printf 'Y' | dd of=t/data/block-000000000004.bin bs=1 seek=34826 conv=notrunc status=none
expect_status 1 "a changed block fails" -- "$D" verify --trust "$PKI/ca.pem" t
err_matches 'block 4 \(bytes 262144-327679\) was changed.*/README.txt' "names the block and the file"
fresh; dd if="$SAMPLE" of=other.img bs=1 count=0 status=none; cp "$SAMPLE" other.img
printf 'Z' | dd of=other.img bs=1 seek=300000 conv=notrunc status=none
dd if=other.img bs=65536 skip=4 count=1 status=none >t/data/block-000000000004.bin
h=$(sha256sum <t/data/block-000000000004.bin | cut -d' ' -f1)
jq --arg h "$h" '.blocks[0].sha256 = $h' pkg/data/disclosure.json >t/data/disclosure.json
expect_status 1 "a block from another image fails" -- "$D" verify --trust "$PKI/ca.pem" t
err_matches 'block 4 .*not proven to belong to the seized image' "says the proof fails"
fresh; jq '.blocks[0].proof[0] = "'"$(printf '%064d' 0)"'"' pkg/data/disclosure.json >t/data/disclosure.json
expect_status 1 "a proof for another root fails" -- "$D" verify --trust "$PKI/ca.pem" t
err_matches 'not proven' "the proof does not lead to the root"
fresh; jq '.block_map.root = "'"$(printf '%064d' 0)"'"' pkg/data/disclosure.json >t/data/disclosure.json
expect_status 1 "a root that differs from the signed report fails" -- "$D" verify --trust "$PKI/ca.pem" t
err_matches 'differs from the signed report' "names the root"
fresh; cp other.report.json t/data/s.report.json
expect_status 1 "a report swapped for another fails" -- "$D" verify --trust "$PKI/ca.pem" t
fresh; dd if="$SAMPLE" bs=65536 skip=5 count=1 status=none >t/data/block-000000000005.bin
expect_status 1 "an extra block fails (nothing else of the image)" -- "$D" verify --trust "$PKI/ca.pem" t
err_matches 'block-000000000005.bin is in the package' "names the extra file"
fresh; printf 'x' >>t/data/content-001-README.txt
expect_status 1 "a changed content file fails" -- "$D" verify --trust "$PKI/ca.pem" t
fresh; expect_status 1 "a signature from an untrusted CA fails" -- \
	"$D" verify --trust "$PKI/other-ca.pem" t
# Refusals at creation.
expect_status 1 "no package from a damaged image" -- \
	"$D" create -o pkg2 --path /README.txt --blockmap s.blockmap --report s.report.json bad.raw
expect "nothing left behind" [ ! -e pkg2 ]
expect_status 1 "no package when the map differs from the report" -- \
	"$D" create -o pkg3 --path /README.txt --report other.report.json s.raw
expect_status 3 "an existing output is not touched" -- "$D" create -o pkg --path /README.txt s.raw

# Hostile block maps are refused with a clear error.
head -c 1000 s.blockmap >trunc.blockmap
expect_status 1 "a truncated map is refused" -- "$H" -q --blockmap trunc.blockmap s.raw
err_matches 'block map: truncated' "says truncated"
cp s.blockmap hostile.blockmap
printf '\377\377\377\377\377\377\377\177' | dd of=hostile.blockmap bs=1 seek=40 conv=notrunc status=none
expect_status 1 "a map with a hostile leaf count is refused" -- "$H" -q --blockmap hostile.blockmap s.raw
err_matches 'leaves cannot describe' "says why"
cp s.blockmap leaf.blockmap
printf 'Q' | dd of=leaf.blockmap bs=1 seek=200 conv=notrunc status=none
expect_status 1 "a map with a changed leaf fails its root" -- "$H" -q --blockmap leaf.blockmap s.raw
expect_status 3 "a FIFO is refused, not read" -- bash -c "mkfifo f.blockmap; timeout 10 '$H' -q --blockmap f.blockmap s.raw"

expect_status 0 "acquisition without a map (--block-size none)" -- \
	"$A" -q -f raw --block-size none -o n "$SAMPLE"
expect "no BASE.blockmap" [ ! -e n.blockmap ]
expect_status 2 "a bad --block-size" -- "$A" -q -f raw --block-size 3000 -o m "$SAMPLE"
finish
