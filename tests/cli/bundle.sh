#!/bin/bash
# custos-bundle from the command line, checked with tools someone else
# wrote: age -d decrypts our bundle and custos decrypts age -r output; GNU
# tar and bsdtar extract the bag; sha512sum/sha256sum -c check its
# manifests; openssl cms -verify accepts both signatures.  Negative cases
# (tampered part, wrong key, truncated stream, hostile tars crafted here,
# a request lacking a field) are pinned to their exit status and reason.
# The BagIt conformance bags: valid ones pass, invalid ones fail.
# Needs: CUSTOS_BUNDLE, CUSTOS_SIGN, CUSTOS_LOG, SOURCE_ROOT, TESTDATA; age,
# age-keygen, bsdtar, openssl.
. "$(dirname "$0")/lib.sh"
B=$CUSTOS_BUNDLE
for tool in age age-keygen bsdtar openssl tar sha512sum; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: no $tool" >&2; exit 77; }
done
bash "$SOURCE_ROOT/samples/pki/make-pki.sh" "$WORK/pki" >/dev/null 2>pki.err ||
	{ cat pki.err; echo "FAIL: make-pki.sh"; exit 1; }
P=$WORK/pki

cat >request.json <<'EOF'
{
  "custos_request_version": 1,
  "instrument": {"name": "Budapest Convention", "article": "31",
                 "domestic_basis_requesting": "Code of Criminal Procedure (FR)",
                 "domestic_basis_requested": "StPO s. 110 (AT)"},
  "measure": "letter-of-request",
  "requesting_authority": {"name": "TEST-ONLY Foreign Authority", "country": "FR",
                           "role": "requesting authority", "contact": "mla@foreign.example"},
  "requested_authority": {"name": "TEST-ONLY Public Prosecutor", "country": "AT",
                          "role": "requested authority", "contact": "pp@example.invalid"},
  "references": {"request": "MLA-2026-042", "case": "DEMO-2026-001"},
  "offence": {"description": "test", "provisions": ["s. 118a StGB"],
              "budapest_category": "illegal access (art. 2)"},
  "conditions": {"speciality": true, "confidentiality": "restricted"},
  "items": [{"file": "img.raw", "warrant": "TEST-ONLY order 1"}]
}
EOF
head -c 200000 /dev/urandom >img.raw
echo "acquisition report" >img.report.txt

# ---- keys: one made by age-keygen, one by custos-bundle keygen ----
age-keygen -o fa.key 2>/dev/null
R=$(age-keygen -y fa.key)
expect_status 0 "keygen writes an age identity" -- $B keygen -o ours.key
R2=$(cat out.txt)
expect "our identity file is age's format (age-keygen -y reads it)" \
	test "$(age-keygen -y ours.key)" = "$R2"
age-keygen -o wrong.key 2>/dev/null

# ---- create ----
mkdir out
expect_status 2 "request lacking references: refused" -- bash -c \
	"jq 'del(.references)' request.json >bad.json && $B create --request bad.json \
	-k $P/prosecutor.key -c $P/prosecutor.pem -r $R -o out/bad img.raw"
err_matches "missing references.request" "the missing field is named"
expect_status 2 "request with an unknown measure: refused" -- bash -c \
	"jq '.measure=\"fishing\"' request.json >bad.json && $B create --request bad.json \
	-k $P/prosecutor.key -c $P/prosecutor.pem -r $R -o out/bad img.raw"
expect "nothing written for a refused request" test ! -e out/bad.tar.age.000
expect_status 0 "create: bundle for two recipients, split in 64K parts" -- \
	$B create --request request.json -k $P/prosecutor.key \
	-c $P/prosecutor.pem -r "$R" -r "$R2" --split 64K -o out/b \
	img.raw img.report.txt
ID=$(sed -n 's/^bundle: //p' out.txt)
expect "four parts or more" test -e out/b.tar.age.003
expect_status 3 "create refuses to overwrite" -- $B create --request \
	request.json -k $P/prosecutor.key -c $P/prosecutor.pem -r "$R" \
	-o out/b img.raw
expect "the transfer manifest names bundle, request and recipient" \
	grep -q "^Bundle-Id: $ID" out/b.transfer-manifest.txt
expect "... the request reference" grep -q "^Request-Reference: MLA-2026-042" \
	out/b.transfer-manifest.txt
expect "... the recipient fingerprint" grep -q "^Recipient: $R sha256:[0-9a-f]\{64\}" \
	out/b.transfer-manifest.txt

# ---- independent tools ----
expect_status 0 "openssl cms -verify: transfer manifest signature" -- \
	openssl cms -verify -binary -inform DER -in out/b.transfer-manifest.txt.p7s \
	-content out/b.transfer-manifest.txt -CAfile $P/ca.pem -out /dev/null
expect "sha256sum matches every part listed" bash -c \
	'cd out && sed -n "s/^Part: \([^ ]*\) [0-9]* \([0-9a-f]*\)$/\2  \1/p" \
	b.transfer-manifest.txt | sha256sum -c --quiet'
expect_status 0 "age -d (age-keygen identity) decrypts our bundle" -- \
	bash -c "cat out/b.tar.age.* | age -d -i fa.key >b.tar"
expect_status 0 "age -d (custos identity) decrypts it too" -- \
	bash -c "cat out/b.tar.age.* | age -d -i ours.key >b2.tar"
expect "both decryptions agree" cmp -s b.tar b2.tar
mkdir gnu bsd
expect_status 0 "GNU tar extracts the bag" -- tar -xf b.tar -C gnu
expect_status 0 "bsdtar extracts the bag" -- bsdtar -xf b.tar -C bsd
expect "GNU tar and bsdtar extract the same files" diff -r gnu bsd
expect "payload under <bundle-id>/data/" cmp -s img.raw "gnu/$ID/data/img.raw"
expect_status 0 "sha512sum -c manifest-sha512.txt" -- \
	bash -c "cd gnu/$ID && sha512sum -c manifest-sha512.txt"
expect_status 0 "sha256sum -c manifest-sha256.txt" -- \
	bash -c "cd gnu/$ID && sha256sum -c manifest-sha256.txt"
expect_status 0 "sha512sum -c tagmanifest-sha512.txt" -- \
	bash -c "cd gnu/$ID && sha512sum -c tagmanifest-sha512.txt"
expect_status 0 "openssl cms -verify: tag manifest signature" -- \
	openssl cms -verify -binary -inform DER \
	-in "gnu/$ID/signature/tagmanifest-sha512.txt.p7s" \
	-content "gnu/$ID/tagmanifest-sha512.txt" -CAfile $P/ca.pem -out /dev/null
expect "bag-info.txt has Payload-Oxum" grep -q '^Payload-Oxum: 200019.2$' \
	"gnu/$ID/bag-info.txt"
expect "bag-info.txt has Bagging-Date and the request fields" bash -c \
	"grep -q '^Bagging-Date: [0-9-]*$' gnu/$ID/bag-info.txt &&
	 grep -q '^Custos-Measure: letter-of-request$' gnu/$ID/bag-info.txt &&
	 grep -q '^Custos-Request-Reference: MLA-2026-042$' gnu/$ID/bag-info.txt"

expect "metadata/evidence.json lists each item with its hashes and warrant" bash -c \
	"jq -e --arg h \"\$(sha256sum img.raw | cut -d' ' -f1)\" \
	'.items[0].path == \"data/img.raw\" and .items[0].sha256 == \$h and
	 .items[0].warrant == \"TEST-ONLY order 1\"' gnu/$ID/metadata/evidence.json >/dev/null"

# ---- verify ----
expect_status 0 "verify: the bundle (age-keygen identity)" -- $B verify \
	-i fa.key --trust $P/ca.pem out/b.transfer-manifest.txt
expect "verify prints VERIFIED" grep -q '^VERIFIED$' out.txt
expect_status 0 "verify: with the custos identity" -- $B verify \
	-i ours.key --trust $P/ca.pem out/b.transfer-manifest.txt
expect_status 0 "verify: the decrypted tar as a plain bag" -- $B verify \
	--trust $P/ca.pem b.tar
expect_status 0 "verify: the extracted folder as a plain bag" -- $B verify \
	--trust $P/ca.pem "gnu/$ID"

# Wrong key.
expect_status 1 "verify: wrong key" -- $B verify -i wrong.key \
	--trust $P/ca.pem out/b.transfer-manifest.txt
expect "... reason: no identity matches" grep -q 'no identity matches' out.txt
# Untrusted signer.
expect_status 1 "verify: transfer manifest from an untrusted CA" -- $B verify \
	-i fa.key --trust $P/other-ca.pem out/b.transfer-manifest.txt
expect "... reason: transfer manifest signature" \
	grep -q 'transfer manifest signature' out.txt
# Tampered part.
cp -r out tamper
printf '\x55' | dd of=tamper/b.tar.age.001 bs=1 seek=1000 conv=notrunc 2>/dev/null
expect_status 1 "verify: tampered part" -- $B verify -i fa.key \
	--trust $P/ca.pem tamper/b.transfer-manifest.txt
expect "... reason: part SHA-256 mismatch" \
	grep -q 'part b.tar.age.001: SHA-256 does not match' out.txt
# Missing part.
cp out/b.tar.age.001 tamper/
rm tamper/b.tar.age.003
expect_status 1 "verify: missing part" -- $B verify -i fa.key \
	--trust $P/ca.pem tamper/b.transfer-manifest.txt
expect "... reason: part missing" grep -q 'b.tar.age.003 is missing' out.txt

# sign_manifest DIR NAME PARTS...: a transfer manifest over PARTS, signed
# by the same authority (as a forwarding authority might re-issue one).
sign_manifest() {
	local dir=$1 name=$2 id=$3
	shift 3
	{
		echo "Custos-Transfer-Manifest: 1"
		echo "Bundle-Id: $id"
		echo "Part-Count: $#"
		for p in "$@"; do
			echo "Part: $p $(stat -c %s "$dir/$p") $(sha256sum "$dir/$p" | cut -d' ' -f1)"
		done
	} >"$dir/$name"
	"$CUSTOS_SIGN" sign -q -k $P/prosecutor.key -c $P/prosecutor.pem "$dir/$name"
}
# Truncated stream: a correctly signed manifest over the first parts only.
mkdir trunc
cp out/b.tar.age.000 out/b.tar.age.001 trunc/
sign_manifest trunc t.txt "$ID" b.tar.age.000 b.tar.age.001
expect_status 1 "verify: truncated stream (signed manifest, parts good)" -- \
	$B verify -i fa.key --trust $P/ca.pem trunc/t.txt
expect "... reason: decryption names the truncation" \
	grep -Eq 'truncated|final chunk missing' out.txt

# custos decrypts what age -r made (on another system, say).
mkdir agein
age -r "$R" -o agein/x.tar.age.000 b.tar
sign_manifest agein x.txt "$ID" x.tar.age.000
expect_status 0 "verify: custos decrypts a bundle encrypted by age -r" -- \
	$B verify -i fa.key --trust $P/ca.pem agein/x.txt

# Hostile tars, crafted here, in plain and encrypted form.
cp -r "gnu/$ID" bag
hostile() {
	local what=$1 tarfile=$2 reason=$3
	expect_status 1 "hostile tar refused: $what" -- $B verify --trust $P/ca.pem "$tarfile"
	expect "... reason: $reason" grep -q "$reason" out.txt
}
ln -s /etc/passwd bag/data/link
tar -cf symlink.tar bag
rm bag/data/link
hostile "symbolic link" symlink.tar "link member refused"
ln bag/data/img.raw bag/data/hard
tar -cf hardlink.tar bag
rm bag/data/hard
hostile "hard link" hardlink.tar "link member refused"
tar -P -cf absolute.tar "$WORK/bag" 2>/dev/null
hostile "absolute path" absolute.tar "absolute member path"
tar -P -cf dotdot.tar bag/../bag/bagit.txt bag 2>/dev/null
hostile "'..' in a name" dotdot.tar "with '..'"
tar -cf dup.tar bag && tar -rf dup.tar bag/bagit.txt
hostile "duplicate name" dup.tar "duplicate member name"
printf '#mtree\nbag/data/null type=char mode=0644 device=native,1,3\n' >dev.mtree
bsdtar -cf device.tar bag @dev.mtree
hostile "device file" device.tar "device, FIFO or other special member"
echo x >'bag/data/100%'
tar -cf percent.tar bag
rm 'bag/data/100%'
hostile "'%' in a name" percent.tar "CR, LF, %"
nl_name=$(printf 'bag/data/a\nb')
echo x >"$nl_name"
tar -cf newline.tar bag
rm "$nl_name"
hostile "LF in a name" newline.tar "CR, LF, %"
# The same symlink tar, encrypted by age and under a good signed manifest.
mkdir hostile
age -r "$R" -o hostile/h.tar.age.000 symlink.tar
sign_manifest hostile h.txt bag h.tar.age.000
expect_status 1 "verify: hostile tar inside an encrypted bundle" -- \
	$B verify -i fa.key --trust $P/ca.pem hostile/h.txt
expect "... reason: link refused" grep -q 'link member refused' out.txt
# A changed payload file in an otherwise intact bag.
cp -r bag changed
printf 'X' | dd of=changed/data/img.raw bs=1 seek=5 conv=notrunc 2>/dev/null
expect_status 1 "verify: changed payload in a bag folder" -- $B verify \
	--trust $P/ca.pem changed
expect "... reason: payload does not match" grep -q 'does not match' out.txt
# A forged tag manifest signature (the tag manifest changed after signing,
# with its entry in no other manifest to catch it).
cp -r bag forged
echo "Extra: 1" >>forged/bag-info.txt
sed -i "s/^[0-9a-f]*  bag-info.txt$/$(sha512sum forged/bag-info.txt | cut -d' ' -f1)  bag-info.txt/" \
	forged/tagmanifest-sha512.txt
expect_status 1 "verify: tag manifest changed after signing" -- $B verify \
	--trust $P/ca.pem forged
expect "... reason: tag manifest signature" grep -q 'tag manifest signature' out.txt

# ---- open, receipt, custody logs ----
expect_status 0 "open: verify, then extract into a new folder" -- $B open \
	-i fa.key --trust $P/ca.pem -o opened out/b.transfer-manifest.txt
expect "open: the payload is extracted" cmp -s img.raw opened/data/img.raw
expect_status 0 "open: sha512sum -c in the opened bag" -- \
	bash -c "cd opened && sha512sum -c --quiet manifest-sha512.txt"
expect_status 3 "open: refuses an existing folder" -- $B open \
	-i fa.key --trust $P/ca.pem -o opened out/b.transfer-manifest.txt
expect_status 1 "open: a tampered bundle is not extracted" -- $B open \
	-i fa.key --trust $P/ca.pem -o opened2 tamper/b.transfer-manifest.txt
expect "... and no folder is made" test ! -e opened2
expect_status 1 "open: a hostile tar is not extracted" -- $B open \
	--trust $P/ca.pem -o opened3 symlink.tar
expect "... and no folder is made" test ! -e opened3

"$CUSTOS_LOG" init sender --origin sender.example/DEMO --log-key \
	"$WORK/secret/s.key" --trust $P/ca.pem --case DEMO-2026-001 \
	-k $P/prosecutor.key -c $P/prosecutor.pem >/dev/null 2>&1
"$CUSTOS_LOG" init receiver --origin receiver.example/MLA --log-key \
	"$WORK/secret/r.key" --trust $P/ca.pem --case MLA-2026-042 \
	-k $P/foreign-authority.key -c $P/foreign-authority.pem >/dev/null 2>&1
# --log puts the items' custody export in the bag; when it cannot be made
# (no record names the item, no checkpoint covers it) nothing is written.
expect_status 3 "create --log: refused when no record names the item" -- \
	$B create --request request.json -k $P/prosecutor.key \
	-c $P/prosecutor.pem -r "$R" --log sender --item HD-01 -o out/c img.raw
err_matches "custody export, no bundle written: .*HD-01" "... and says why"
expect "... and writes nothing" bash -c "! ls out/c.* >/dev/null 2>&1"
"$CUSTOS_LOG" record sender --type acquired --item HD-01 --reason "imaged" \
	-k $P/prosecutor.key -c $P/prosecutor.pem >/dev/null 2>&1 ||
	fail "custos-log record"
expect_status 3 "create --log: refused when no checkpoint covers the item" -- \
	$B create --request request.json -k $P/prosecutor.key \
	-c $P/prosecutor.pem -r "$R" --log sender --item HD-01 -o out/c img.raw
err_matches "no bundle written: .*checkpoint" "... and says run checkpoint"
expect "... and writes nothing" bash -c "! ls out/c.* >/dev/null 2>&1"
"$CUSTOS_LOG" checkpoint sender --log-key "$WORK/secret/s.key" >/dev/null 2>&1 ||
	fail "custos-log checkpoint"
expect_status 0 "create --log: bundle and 'exported' record" -- \
	$B create --request request.json -k $P/prosecutor.key \
	-c $P/prosecutor.pem -r "$R" --log sender --item HD-01 -o out/c img.raw
ID2=$(sed -n 's/^bundle: //p' out.txt)
expect "the sender's log has the exported record" bash -c \
	"tail -1 sender/log.jsonl | grep '\"type\":\"exported\"' | grep -q '$ID2'"
tail -n 1 sender/log.jsonl > exportline
expect "the exported record names the evidence ID and the transfer manifest" test \
	"$(jq -r '.items[0] + " " + .transfer_manifest_sha256' exportline)" = \
	"HD-01 $(sha256sum < out/c.transfer-manifest.txt | cut -c1-64)"
expect_status 0 "the sender's log still verifies" -- "$CUSTOS_LOG" verify sender
expect_status 0 "open: the --log bundle" -- $B open -i fa.key \
	--trust $P/ca.pem -o opened-c out/c.transfer-manifest.txt
CB=opened-c
expect "the bag carries metadata/custody.jsonl for HD-01" bash -c \
	"test -s $CB/metadata/custody.jsonl && head -1 $CB/metadata/custody.jsonl |
	jq -e '.items == [\"HD-01\"]' >/dev/null"
expect "the tag manifest covers it" grep -q ' metadata/custody.jsonl$' \
	"$CB/tagmanifest-sha512.txt"
expect_status 0 "sha512sum -c: the tag manifest" -- \
	bash -c "cd '$CB' && sha512sum -c --quiet tagmanifest-sha512.txt"
expect_status 0 "receipt: verified, signed, logged" -- $B receipt \
	-i fa.key --trust $P/ca.pem -k $P/foreign-authority.key \
	-c $P/foreign-authority.pem --officer "Test Officer" \
	--authority "TEST-ONLY Foreign Authority" --storage "Vault 7" \
	--log receiver -o receipt.json out/c.transfer-manifest.txt
expect "receipt: result, bundle id, storage" bash -c \
	"jq -e '.result == \"verified\" and .bundle_id == \"$ID2\" and
	.storage_location == \"Vault 7\" and (.discrepancies | length) == 0 and
	(.tag_manifest_sha512 | length) == 128' receipt.json >/dev/null"
expect_status 0 "openssl cms -verify: the receipt's signature" -- \
	openssl cms -verify -binary -inform DER -in receipt.json.p7s \
	-content receipt.json -CAfile $P/ca.pem -out /dev/null
expect_status 0 "the receiver's log verifies with the record" -- \
	"$CUSTOS_LOG" verify receiver
expect "the receiver's log names the bundle" grep -q "$ID2" receiver/log.jsonl
tail -n 1 receiver/log.jsonl > recvline
expect "the receiver records a 'received' naming the transfer manifest" test \
	"$(jq -r '.type + " " + .transfer.bundle_id + " " + .transfer.transfer_manifest_sha256' recvline)" = \
	"received $ID2 $(sha256sum < out/c.transfer-manifest.txt | cut -c1-64)"
expect "the shell verifier agrees on the receiver's log" \
	sh -c "sh '$SOURCE_ROOT/tools/verify-log.sh' receiver | grep -q '^VERIFIED'"
# A "received" with neither a local release nor a bundle still fails.
cp -r receiver recv-bad
sed -i '$ s/"transfer_manifest_sha256":"[0-9a-f]*"/"transfer_manifest_sha256":"x"/' recv-bad/log.jsonl
expect_status 1 "a received record naming no release and no bundle fails" -- \
	"$CUSTOS_LOG" verify recv-bad
err_matches "\\(received\\) answers no earlier released record" \
	"... for that reason, not only its broken signature"
expect_status 1 "receipt for a tampered bundle lists the discrepancy" -- \
	$B receipt -i fa.key --trust $P/ca.pem -k $P/foreign-authority.key \
	-c $P/foreign-authority.pem --officer "Test Officer" \
	--authority "TEST-ONLY Foreign Authority" --storage "Vault 7" \
	-o receipt2.json tamper/b.transfer-manifest.txt
expect "... result 'not verified' with the reason" bash -c \
	"jq -e '.result == \"not verified\" and
	.bundle_id == \"$ID\" and (.discrepancies[0] | test(\"is missing\"))' receipt2.json >/dev/null"

# ---- the BagIt conformance suite ----
C=$TESTDATA/bagit-conformance
ok=0
for d in "$C"/v*/valid/*/; do
	if $B verify -q "${d%/}" >out.txt 2>&1; then ok=$((ok + 1)); else
		fail "conformance: valid bag refused: ${d#$C/} ($(head -c 200 out.txt))"; fi
done
bad=0
for d in "$C"/v*/invalid/*/ "$C"/v*/linux-only/*/; do
	"$B" verify -q "${d%/}" >out.txt 2>&1
	rc=$?
	if [ "$rc" -eq 1 ]; then bad=$((bad + 1)); else
		fail "conformance: invalid bag not refused (exit $rc): ${d#$C/}"; fi
done
pass "conformance: $ok valid bags pass, $bad invalid bags fail"
tar -C "$C/v1.0/valid" -cf basic.tar basicBag
expect_status 0 "conformance: a valid bag as a tar" -- $B verify basic.tar
tar -C "$C/v0.97/invalid" -cf corrupt.tar corrupt-data-file
expect_status 1 "conformance: an invalid bag as a tar" -- $B verify corrupt.tar

finish
