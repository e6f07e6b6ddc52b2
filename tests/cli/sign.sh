#!/bin/bash
# custos-key and custos-sign from the command line: identities, CAdES
# signatures, RFC 3161 time stamps, and their checks by openssl (cms -verify,
# ts -verify), with the negative cases each pinned to exit 1 and its reason.
# The test PKI is made fresh by samples/pki/make-pki.sh; the TSA is
# `openssl ts -reply` behind tests/tsa/tsa-server on a random loopback port.
# Needs: CUSTOS_KEY, CUSTOS_SIGN, TSA_SERVER, GRAFT_TOKEN, SOURCE_ROOT;
# openssl, jq, setsid.
. "$(dirname "$0")/lib.sh"
K=$CUSTOS_KEY
S=$CUSTOS_SIGN
for tool in openssl jq setsid; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: no $tool" >&2; exit 77; }
done

TSA_PIDS=()
cleanup() {
	for pid in "${TSA_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT

bash "$SOURCE_ROOT/samples/pki/make-pki.sh" "$WORK/pki" >/dev/null 2>pki.err ||
	{ cat pki.err; echo "FAIL: make-pki.sh"; exit 1; }
P=$WORK/pki

# start_tsa NAME MODE [SECTION]: run a TSA and set TSA_URL.
start_tsa() {
	local name=$1 mode=$2 section=${3:-tsa_test}
	local dir=$WORK/tsa-$name
	mkdir -p "$dir"
	rm -f "$dir/port"
	TSA_DIR=$dir TSA_PKI=$P "$TSA_SERVER" "$dir/port" "$dir" "$mode" -- \
		openssl ts -reply -config "$SOURCE_ROOT/tests/tsa/tsa.cnf" \
		-section "$section" -queryfile "$dir/query.tsq" \
		-out "$dir/reply.tsr" 2>"$dir/log" &
	TSA_PIDS+=($!)
	for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
	[ -s "$dir/port" ] || { echo "FAIL: TSA $name did not start"; exit 1; }
	TSA_URL="http://127.0.0.1:$(cat "$dir/port")/tsa"
}

# cms_ok FILE CA: openssl cms -verify accepts FILE.p7s.
cms_ok() {
	openssl cms -verify -binary -inform DER -in "$1.p7s" -content "$1" \
		-CAfile "$2" -out /dev/null 2>cms.err
}
# cms_rejects FILE CA REGEX: openssl refuses, for the given reason.
cms_rejects() {
	! cms_ok "$1" "$2" && grep -Eq "$3" cms.err
}
# embedded_token P7S: write the signature value to sig.bin and the
# signature time-stamp token to token.der (plain openssl asn1parse).
embedded_token() {
	openssl asn1parse -inform DER -in "$1" > asn.txt || return 1
	local sig_hex tok_off
	# The SignerInfo's unsignedAttrs are the [1] at depth 5 (RSA-PSS
	# parameters hold [1]s deeper down); the signature value precedes it.
	sig_hex=$(awk '/d=5 .*cons: cont \[ 1 \]/ {print prev; exit} {prev = $0}' asn.txt |
		sed 's/.*\[HEX DUMP\]://')
	tok_off=$(awk '/timeStampToken/ {getline; getline; sub(/:.*/, "");
		print $1; exit}' asn.txt)
	[ -n "$sig_hex" ] && [ -n "$tok_off" ] || return 1
	printf '%b' "$(printf '%s' "$sig_hex" | sed 's/../\\x&/g')" > sig.bin
	openssl asn1parse -inform DER -in "$1" -strparse "$tok_off" -noout \
		-out token.der
}
not() { ! "$@"; }
ts_token_ok() {  # DATA TOKEN CA: openssl ts -verify accepts a bare token.
	openssl ts -verify -data "$1" -token_in -in "$2" -CAfile "$3" \
		>ts.out 2>&1 && grep -q 'Verification: OK' ts.out
}

# ===================== custos-key =====================
expect_status 0 "custos-key --help" -- "$K" --help
expect "help names new and show" grep -q 'show' out.txt
expect_status 0 "custos-key new --help" -- "$K" new --help
expect "new --help lists --passphrase-file" grep -q -- '--passphrase-file' out.txt
expect_status 0 "custos-key --version" -- "$K" --version
expect_status 2 "no command" -- "$K"
expect_status 2 "unknown command" -- "$K" frobnicate
expect_status 2 "new without name" -- "$K" new -k a.key -o a.pem
expect_status 2 "new without key path" -- "$K" new --name X -o a.pem
expect_status 2 "a passphrase is never an argument" -- \
	"$K" new --name X -k a.key -o a.pem --passphrase secret
expect_status 2 "bad key type" -- "$K" new --name X -t dsa -k a.key -o a.pem
expect_status 2 "bad country" -- "$K" new --name X --country Austria -k a.key -o a.pem
expect "usage errors wrote nothing" test ! -e a.key -a ! -e a.pem

expect_status 0 "new ECDSA P-256 self-signed" -- "$K" new --name "Jane Examiner" \
	--org "Lab TEST ONLY" --unit "Forensics" --country AT \
	--role "Forensic Examiner" -k jane.key -o jane.pem
expect "key mode is 0600" test "$(stat -c %a jane.key)" = 600
expect "the key is not printed" sh -c '! grep -q "PRIVATE KEY" out.txt err.txt'
expect "key is PKCS#8 and unencrypted (said so)" grep -q 'NOT encrypted' out.txt
expect "openssl reads the key as EC P-256" sh -c \
	"openssl pkey -in jane.key -noout -text | grep -q 'NIST CURVE: P-256'"
openssl x509 -in jane.pem -noout -text > x509.txt
expect "key usage is critical digitalSignature, nonRepudiation" \
	grep -A1 -q 'Key Usage: critical' x509.txt
expect "key usage bits" grep -q 'Digital Signature, Non Repudiation' x509.txt
expect "subject has C, O, OU, CN, title" test \
	"$(openssl x509 -in jane.pem -noout -subject -nameopt RFC2253)" = \
	"subject=title=Forensic Examiner,CN=Jane Examiner,OU=Forensics,O=Lab TEST ONLY,C=AT"
expect "the self-signed certificate checks against itself" \
	openssl verify -CAfile jane.pem jane.pem
want_fp=$(openssl x509 -in jane.pem -noout -fingerprint -sha256 | cut -d= -f2 |
	tr -d : | tr A-F a-f)
expect "new prints the SHA-256 fingerprint" grep -q "sha256: $want_fp" out.txt

expect_status 0 "show" -- "$K" show jane.pem
expect "show: subject" grep -q '^subject: .*CN=Jane Examiner' out.txt
expect "show: issuer" grep -q '^issuer: .*CN=Jane Examiner' out.txt
expect "show: validity" grep -Eq '^not after: +20[0-9]{2}-[0-9]{2}-[0-9]{2}T' out.txt
expect "show: fingerprint equals openssl's" grep -q "^sha256: \+$want_fp" out.txt
expect "show: key usage" grep -q 'digitalSignature,nonRepudiation' out.txt
expect_status 0 "show --json" -- "$K" show --json jane.pem
expect "show --json: sha256" test "$(jq -r .sha256 out.txt)" = "$want_fp"
expect_status 3 "show a missing file" -- "$K" show nothere.pem
expect_status 3 "show a non-certificate" -- "$K" show jane.key
expect "the key is not printed by show" sh -c '! grep -q "PRIVATE" out.txt err.txt'
expect_status 3 "new refuses to overwrite" -- "$K" new --name Y -k jane.key -o other.pem
err_matches "already exists" "overwrite refusal is named"

expect_status 0 "new RSA-3072" -- "$K" new -t rsa-3072 --name "R" -k r.key -o r.pem
expect "RSA key is 3072 bits" sh -c "openssl pkey -in r.key -noout -text | grep -q '3072 bit'"
expect "RSA certificate is signed with RSASSA-PSS" \
	sh -c "openssl x509 -in r.pem -noout -text | grep -q 'rsassaPss'"
expect_status 0 "new Ed25519" -- "$K" new -t ed25519 --name "E" -k e.key -o e.pem
expect "Ed25519 key" sh -c "openssl pkey -in e.key -noout -text | grep -q ED25519"

expect_status 0 "new with a CSR" -- "$K" new --csr --name "Lab Analyst" \
	--org "Lab TEST ONLY" --country DE --role "Analyst" -k an.key -o an.csr
expect "openssl verifies the CSR" openssl req -in an.csr -noout -verify
expect "the CSR asks for the key usage" sh -c \
	"openssl req -in an.csr -noout -text | grep -q 'Digital Signature, Non Repudiation'"
# The lab CA (here the test CA) issues it, and it signs.
expect "the test CA issues the CSR" openssl x509 -req -in an.csr -CA "$P/ca.pem" \
	-CAkey "$P/ca.key" -CAcreateserial -days 30 -copy_extensions copy -out an.pem

printf 'correct horse battery staple\n' > pass.txt
expect_status 0 "new with an encrypted key (--passphrase-file)" -- \
	"$K" new --name "Enc" -k enc.key -o enc.pem --passphrase-file pass.txt
expect "key is encrypted PKCS#8" grep -q 'BEGIN ENCRYPTED PRIVATE KEY' enc.key
expect "openssl opens it with the passphrase" \
	openssl pkey -in enc.key -passin file:pass.txt -noout
expect "openssl refuses a wrong passphrase" \
	sh -c '! openssl pkey -in enc.key -passin pass:wrong -noout 2>/dev/null'
expect "the passphrase is not in the key file" sh -c '! grep -q horse enc.key'
expect_status 0 "new with --passphrase-fd" -- \
	sh -c "'$K' new --name Fd -k fd.key -o fd.pem --passphrase-fd 3 3<pass.txt"
expect "fd key is encrypted" grep -q 'ENCRYPTED' fd.key
expect_status 3 "--encrypt without a terminal fails clearly" -- \
	setsid -w "$K" new --name T -k t.key -o t.pem --encrypt
err_matches "no terminal" "no-terminal message"
expect "nothing written without a passphrase" test ! -e t.key

# ===================== custos-sign: usage =====================
echo "Evidence report, TEST ONLY" > report.json
expect_status 0 "custos-sign --help" -- "$S" --help
expect "help gives exit statuses" grep -q 'Exit status' out.txt
for cmd in sign verify timestamp; do
	expect_status 0 "custos-sign $cmd --help" -- "$S" $cmd --help
done
expect_status 2 "no command" -- "$S"
expect_status 2 "sign without a key" -- "$S" sign -c "$P/examiner.pem" report.json
expect_status 2 "sign without a file" -- "$S" sign -k "$P/examiner.key" -c "$P/examiner.pem"
expect_status 2 "a passphrase is never an argument" -- "$S" sign --passphrase x \
	-k "$P/examiner.key" -c "$P/examiner.pem" report.json
expect_status 2 "bad digest" -- "$S" sign --digest md5 -k "$P/examiner.key" \
	-c "$P/examiner.pem" report.json
expect_status 2 "timestamp without --tsa" -- "$S" timestamp report.json
expect_status 2 "verify without a file" -- "$S" verify
expect "usage errors wrote nothing" test ! -e report.json.p7s
expect_status 3 "sign a missing file" -- "$S" sign -k "$P/examiner.key" \
	-c "$P/examiner.pem" nothere.json
err_matches "nothere.json.*No such file" "missing file is named"
expect_status 3 "verify a missing file" -- "$S" verify nothere.json

# ===================== CAdES-B-B, checked by openssl =====================
for who in examiner prosecutor foreign-authority; do
	cp report.json "$who.json"
	expect_status 0 "sign as $who" -- "$S" sign -k "$P/$who.key" \
		-c "$P/$who.pem" "$who.json"
	expect "openssl cms -verify accepts $who's signature" cms_ok "$who.json" "$P/ca.pem"
	expect_status 0 "custos-sign verify accepts $who's signature" -- \
		"$S" verify --trust "$P/ca.pem" "$who.json"
	expect "verify names $who's signer" grep -q "signer: .*CN=Test " out.txt
	expect "verify says VERIFIED" grep -q '^verdict: *VERIFIED' out.txt
done
openssl cms -cmsout -print -inform DER -in prosecutor.json.p7s > print.txt
expect "the RSA signature uses RSASSA-PSS" grep -q rsassaPss print.txt
openssl cms -cmsout -print -inform DER -in examiner.json.p7s > print.txt
expect "CAdES: signing-certificate-v2 is signed" grep -q 'signingCertificateV2' print.txt
expect "the signing time is signed" grep -q 'signingTime' print.txt
expect "the signature is detached (no content inside)" \
	sh -c "! grep -q 'Evidence report' examiner.json.p7s"

cp report.json sha512.json
# The examiner's P-256 key signs with SHA-256 only (RFC 5753); the
# prosecutor's RSA-PSS key takes sha512.  (Every curve: conformance.sh.)
expect_status 2 "a P-256 key refuses --digest sha512" -- "$S" sign \
	--digest sha512 -k "$P/examiner.key" -c "$P/examiner.pem" sha512.json
expect_status 0 "sign with sha512 (RSA-PSS)" -- "$S" sign --digest sha512 \
	-k "$P/prosecutor.key" -c "$P/prosecutor.pem" sha512.json
expect "openssl accepts the sha512 signature" cms_ok sha512.json "$P/ca.pem"

cp report.json analyst.json
expect_status 0 "sign with an intermediate CA (--chain)" -- "$S" sign \
	-k "$P/analyst.key" -c "$P/analyst.pem" --chain "$P/analyst-chain.pem" analyst.json
expect "openssl accepts the chained signature with only the root" \
	cms_ok analyst.json "$P/ca.pem"
expect_status 0 "custos accepts the chained signature with only the root" -- \
	"$S" verify --trust "$P/ca.pem" analyst.json

cp report.json lab.json
expect_status 0 "sign with the CSR-made certificate" -- "$S" sign \
	-k an.key -c an.pem lab.json
expect "openssl accepts it" cms_ok lab.json "$P/ca.pem"
cp report.json self.json
expect_status 0 "sign with a self-signed identity" -- "$S" sign -k jane.key \
	-c jane.pem self.json
expect "openssl accepts it with the certificate as its own CA" cms_ok self.json jane.pem
expect_status 0 "custos accepts it with --trust on itself" -- \
	"$S" verify --trust jane.pem self.json

cp report.json enc.json
expect_status 0 "sign with an encrypted key (--passphrase-file)" -- "$S" sign \
	-k enc.key -c enc.pem --passphrase-file pass.txt enc.json
expect "openssl accepts it" cms_ok enc.json enc.pem
cp report.json enc2.json
expect_status 0 "sign with an encrypted key (--passphrase-fd)" -- \
	sh -c "'$S' sign -k enc.key -c enc.pem --passphrase-fd 3 enc2.json 3<pass.txt"
printf 'wrong\n' > wrong.txt
cp report.json enc3.json
expect_status 3 "a wrong passphrase fails" -- "$S" sign -k enc.key -c enc.pem \
	--passphrase-file wrong.txt enc3.json
err_matches "wrong passphrase" "wrong passphrase is named"
expect_status 3 "an encrypted key without a terminal fails" -- \
	setsid -w "$S" sign -k enc.key -c enc.pem enc3.json
err_matches "no terminal" "no-terminal message"
expect "no signature left by failed signing" test ! -e enc3.json.p7s

# --- refusals at signing time (exit 2, nothing written) ---
cp report.json refuse.json
expect_status 2 "refuse an expired certificate" -- "$S" sign \
	-k "$P/expired.key" -c "$P/expired.pem" refuse.json
err_matches "expired on" "expiry is named"
expect_status 2 "refuse a certificate that may not sign" -- "$S" sign \
	-k "$P/no-signing.key" -c "$P/no-signing.pem" refuse.json
err_matches "may not sign.*keyAgreement" "key usage is named"
expect_status 2 "refuse a key that is not the certificate's" -- "$S" sign \
	-k "$P/prosecutor.key" -c "$P/examiner.pem" refuse.json
err_matches "does not belong" "key mismatch is named"
expect_status 2 "refuse Ed25519 (OpenSSL cannot check EdDSA CMS)" -- "$S" sign \
	-k "$P/ed25519-examiner.key" -c "$P/ed25519-examiner.pem" refuse.json
err_matches "Ed25519" "Ed25519 refusal is named"
expect "nothing written by refusals" test ! -e refuse.json.p7s
expect_status 3 "refuse to overwrite a signature" -- "$S" sign \
	-k "$P/examiner.key" -c "$P/examiner.pem" examiner.json
err_matches "already exists" "overwrite refusal is named"

# --- JSON ---
expect_status 0 "verify --json" -- "$S" verify --json --trust "$P/ca.pem" examiner.json
expect "json: verdict" test "$(jq -r .verdict out.txt)" = VERIFIED
expect "json: signer common name" test \
	"$(jq -r .signature.signer.common_name out.txt)" = "Test Examiner"
expect "json: signer fingerprint" test "$(jq -r .signature.signer.sha256 out.txt)" = \
	"$(openssl x509 -in "$P/examiner.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)"
expect "json: signing time" jq -e '.signature.signing_time | test("^20[0-9-]+T[0-9:]+Z$")' out.txt
expect "json: CAdES" jq -e '.signature.cades == true' out.txt

# ===================== CAdES-B-T and .tsr with a local TSA =====================
start_tsa good normal
GOOD=$TSA_URL
cp report.json bt.json
expect_status 0 "sign with a time stamp (CAdES-B-T)" -- "$S" sign --tsa "$GOOD" \
	-k "$P/examiner.key" -c "$P/examiner.pem" bt.json
expect "openssl cms -verify accepts the B-T signature" cms_ok bt.json "$P/ca.pem"
expect "the token is an unsigned attribute" \
	sh -c "openssl cms -cmsout -print -inform DER -in bt.json.p7s | grep -q 'id-smime-aa-timeStampToken'"
expect "the token and signature value can be cut out with asn1parse" \
	embedded_token bt.json.p7s
expect "openssl ts -verify accepts the token over the signature value" \
	ts_token_ok sig.bin token.der "$P/ca.pem"
expect_status 0 "custos-sign verify accepts the B-T signature" -- \
	"$S" verify --trust "$P/ca.pem" bt.json
expect "verify shows the time stamp" grep -q '^timestamp: *over the signature: ok' out.txt
expect "verify names the TSA" grep -q 'authority: .*CN=custos Test TSA' out.txt
expect_status 0 "verify --json (B-T)" -- "$S" verify --json --trust "$P/ca.pem" bt.json
expect "json: timestamp time" jq -e '.timestamps[0].time | test("Z$")' out.txt
expect "json: timestamp kind" test "$(jq -r '.timestamps[0].kind' out.txt)" = signature
expect "json: chain checked at the time stamp" \
	test "$(jq -r .signature.certificate_checked_at_source out.txt)" = timestamp

cp report.json rsa-bt.json
expect_status 0 "RSA-PSS B-T" -- "$S" sign --tsa "$GOOD" -k "$P/prosecutor.key" \
	-c "$P/prosecutor.pem" rsa-bt.json
expect "openssl accepts RSA-PSS B-T" cms_ok rsa-bt.json "$P/ca.pem"
embedded_token rsa-bt.json.p7s
expect "openssl ts accepts its token" ts_token_ok sig.bin token.der "$P/ca.pem"

cp report.json ts.json
expect_status 0 "timestamp writes FILE.tsr" -- "$S" timestamp --tsa "$GOOD" ts.json
expect "openssl ts -verify accepts the .tsr" sh -c \
	"openssl ts -verify -in ts.json.tsr -data ts.json -CAfile '$P/ca.pem' 2>&1 | grep -q 'Verification: OK'"
expect_status 0 "custos-sign verify accepts the .tsr" -- \
	"$S" verify --trust "$P/ca.pem" ts.json
expect "verify shows the .tsr" grep -q '^timestamp: *ts.json.tsr: ok' out.txt
cp report.json ts512.json
expect_status 0 "timestamp --digest sha512" -- "$S" timestamp --digest sha512 \
	--tsa "$GOOD" ts512.json
expect "openssl ts -verify accepts it" sh -c \
	"openssl ts -verify -in ts512.json.tsr -data ts512.json -CAfile '$P/ca.pem' 2>&1 | grep -q 'Verification: OK'"
expect_status 0 "a .tsr beside a B-T signature: both verified" -- \
	"$S" timestamp --tsa "$GOOD" bt.json
expect_status 0 "verify both" -- "$S" verify --json --trust "$P/ca.pem" bt.json
expect "two time stamps" test "$(jq '.timestamps | length' out.txt)" = 2

# ===================== negative checks: exit 1, a specific reason =====================
# A changed file.
cp report.json changed.json
"$S" sign -q -k "$P/examiner.key" -c "$P/examiner.pem" changed.json
echo "one more line" >> changed.json
expect_status 1 "changed file" -- "$S" verify --trust "$P/ca.pem" changed.json
err_matches "FAILED \(content-changed\)" "reason: content-changed"
expect "openssl also rejects the changed file" cms_rejects changed.json "$P/ca.pem" \
	"digest failure|verification failure"
expect_status 1 "changed file, --json" -- "$S" verify --json --trust "$P/ca.pem" changed.json
expect "json says FAILED content-changed" test \
	"$(jq -r '.verdict + " " + .result' out.txt)" = "FAILED content-changed"

# Another file's signature.
cp report.json swapped.json; echo x >> swapped.json
cp examiner.json.p7s swapped.json.p7s
expect_status 1 "another file's signature" -- "$S" verify --trust "$P/ca.pem" swapped.json
err_matches "content-changed" "reason: content-changed (swap)"

# The wrong CA.
expect_status 1 "wrong CA" -- "$S" verify --trust "$P/other-ca.pem" examiner.json
err_matches "FAILED \(untrusted\).*not issued by a trusted CA" "reason: untrusted"
expect "openssl also rejects it with the wrong CA" cms_rejects examiner.json \
	"$P/other-ca.pem" "unable to get local issuer certificate"

# An expired certificate (the signature made by openssl, which lets it sign).
cp report.json expired.json
openssl cms -sign -binary -cades -outform DER -in expired.json -out expired.json.p7s \
	-signer "$P/expired.pem" -inkey "$P/expired.key" -md sha256
expect_status 1 "expired certificate" -- "$S" verify --trust "$P/ca.pem" expired.json
err_matches "FAILED \(expired\).*has expired" "reason: expired"
expect "openssl also rejects the expired certificate" cms_rejects expired.json \
	"$P/ca.pem" "certificate has expired"

# A certificate without a signing key usage.
cp report.json noku.json
openssl cms -sign -binary -cades -outform DER -in noku.json -out noku.json.p7s \
	-signer "$P/no-signing.pem" -inkey "$P/no-signing.key" -md sha256
expect_status 1 "certificate without signing key usage" -- \
	"$S" verify --trust "$P/ca.pem" noku.json
err_matches "FAILED \(key-usage\).*keyAgreement" "reason: key-usage"
expect "openssl also rejects it" cms_rejects noku.json "$P/ca.pem" \
	"unsuitable certificate purpose"

# A time stamp over other data: the token of another signature, grafted in.
cp report.json graft.json
"$S" sign -q -k "$P/examiner.key" -c "$P/examiner.pem" graft.json
"$GRAFT_TOKEN" bt.json.p7s graft.json.p7s grafted.p7s && mv grafted.p7s graft.json.p7s
expect "the grafted signature itself still passes openssl cms" cms_ok graft.json "$P/ca.pem"
expect_status 1 "time stamp over another signature" -- \
	"$S" verify --trust "$P/ca.pem" graft.json
err_matches "FAILED \(timestamp-mismatch\).*other data than this signature" \
	"reason: timestamp-mismatch (embedded)"
embedded_token graft.json.p7s
expect "openssl ts -verify also rejects the grafted token" \
	not ts_token_ok sig.bin token.der "$P/ca.pem"
expect "openssl names the imprint" grep -q 'message imprint mismatch' ts.out
# ... and a .tsr of another file.
cp report.json tsr-other.json; echo y >> tsr-other.json
cp ts.json.tsr tsr-other.json.tsr
expect_status 1 "a .tsr over another file" -- "$S" verify --trust "$P/ca.pem" tsr-other.json
err_matches "FAILED \(timestamp-mismatch\).*other data than this file" \
	"reason: timestamp-mismatch (.tsr)"
expect "openssl ts -verify also rejects it" sh -c \
	"! openssl ts -verify -in tsr-other.json.tsr -data tsr-other.json -CAfile '$P/ca.pem' >/dev/null 2>&1"
# ... and a TSA we do not trust.
expect_status 1 "a time stamp from an untrusted TSA" -- \
	"$S" verify --trust "$P/other-ca.pem" ts.json
err_matches "FAILED \(timestamp-untrusted\)" "reason: timestamp-untrusted"

# A truncated and a garbage .p7s.
cp report.json trunc.json
head -c 200 examiner.json.p7s > trunc.json.p7s
expect_status 1 "truncated .p7s" -- "$S" verify --trust "$P/ca.pem" trunc.json
err_matches "FAILED \(malformed\).*not a CMS signature" "reason: malformed (truncated)"
expect "openssl also rejects the truncated .p7s" cms_rejects trunc.json "$P/ca.pem" "."
cp report.json garbage.json
head -c 700 /dev/urandom > garbage.json.p7s
expect_status 1 "garbage .p7s" -- "$S" verify --trust "$P/ca.pem" garbage.json
err_matches "FAILED \(malformed\)" "reason: malformed (garbage)"
expect "openssl also rejects the garbage" cms_rejects garbage.json "$P/ca.pem" "."
cp report.json tail.json
{ cat examiner.json.p7s; printf 'x'; } > tail.json.p7s
expect_status 1 "a .p7s with trailing bytes" -- "$S" verify --trust "$P/ca.pem" tail.json
err_matches "FAILED \(malformed\).*garbage after" "reason: malformed (trailing)"
cp report.json garbage-tsr.json
head -c 300 /dev/urandom > garbage-tsr.json.tsr
expect_status 1 "garbage .tsr" -- "$S" verify --trust "$P/ca.pem" garbage-tsr.json
err_matches "FAILED \(malformed\).*not an RFC 3161" "reason: malformed (.tsr)"
cp report.json none.json
expect_status 1 "nothing to verify" -- "$S" verify --trust "$P/ca.pem" none.json
err_matches "FAILED \(missing\)" "reason: missing"
expect_status 1 "one good and one bad file: exit 1" -- \
	"$S" verify --trust "$P/ca.pem" examiner.json changed.json

# ===================== the TSA client's errors =====================
cp report.json tsa.json
start_tsa dead normal
DEAD=$TSA_URL
kill "${TSA_PIDS[-1]}"; wait "${TSA_PIDS[-1]}" 2>/dev/null
expect_status 3 "TSA unreachable" -- "$S" sign --tsa "$DEAD" \
	-k "$P/examiner.key" -c "$P/examiner.pem" tsa.json
err_matches "cannot reach the TSA at http://127.0.0.1:[0-9]+/tsa" "unreachable is named"
# --- custos-acquire --sign-key/--sign-cert [--tsa]: a signed report ---
AQ=$CUSTOS_ACQUIRE
expect_status 0 "acquire with a signed report (B-T)" -- "$AQ" -q \
	--sign-key "$P/examiner.key" --sign-cert "$P/examiner.pem" --tsa "$GOOD" \
	-o acq "$SOURCE_ROOT/samples/sample.img"
expect "the report signature exists" test -s acq.report.json.p7s
cms_ok "openssl cms accepts the report signature" acq.report.json "$P/ca.pem"
expect_status 0 "custos-sign verify accepts the report" -- \
	"$S" verify --trust "$P/ca.pem" acq.report.json
expect "the text report names the signer" grep -q 'Signed by:.*Test Examiner' acq.report.txt
expect "the JSON report names the signer's certificate" \
	test "$(jq -r .signature.certificate_sha256 acq.report.json)" = \
	"$(openssl x509 -in "$P/examiner.pem" -noout -fingerprint -sha256 |
		sed 's/.*=//; s/://g' | tr 'A-F' 'a-f')"
expect "the JSON report says B-T" test "$(jq -r .signature.format acq.report.json)" = CAdES-B-T
cp acq.report.json acq.saved
printf ' ' >> acq.report.json
expect_status 1 "a changed report fails verification" -- \
	"$S" verify --trust "$P/ca.pem" acq.report.json
cms_rejects "openssl cms rejects the changed report" acq.report.json "$P/ca.pem"
cp acq.saved acq.report.json
expect_status 2 "--sign-key without --sign-cert" -- "$AQ" -q --sign-key "$P/examiner.key" \
	-o acq2 "$SOURCE_ROOT/samples/sample.img"
expect_status 2 "a key that does not match the certificate, before imaging" -- \
	"$AQ" -q --sign-key "$P/prosecutor.key" --sign-cert "$P/examiner.pem" \
	-o acq3 "$SOURCE_ROOT/samples/sample.img"
expect "nothing imaged with a mismatched key" test -z "$(ls acq3.* 2>/dev/null)"
expect_status 2 "a certificate that may not sign, before imaging" -- \
	"$AQ" -q --sign-key "$P/no-signing.key" --sign-cert "$P/no-signing.pem" \
	-o acq4 "$SOURCE_ROOT/samples/sample.img"
expect "nothing imaged with a non-signing certificate" test -z "$(ls acq4.* 2>/dev/null)"
expect_status 3 "an unreachable TSA: report kept, unsigned, exit 3" -- \
	"$AQ" -q --sign-key "$P/examiner.key" --sign-cert "$P/examiner.pem" --tsa "$DEAD" \
	-o acq5 "$SOURCE_ROOT/samples/sample.img"
expect "the unsigned report says NOT SIGNED" grep -q 'NOT SIGNED' acq5.report.txt
expect "no signature file after a TSA failure" test ! -e acq5.report.json.p7s
start_tsa err http-error
expect_status 3 "TSA answers HTTP 500" -- "$S" timestamp --tsa "$TSA_URL" tsa.json
err_matches "refused the request: HTTP 500" "HTTP refusal is named"
start_tsa strict normal tsa_sha512_only
expect_status 3 "TSA refuses the request (RFC 3161 rejection)" -- \
	"$S" timestamp --tsa "$TSA_URL" tsa.json
err_matches "refused the request: status rejection, bad algorithm" \
	"protocol refusal is named with its failure info"
expect_status 0 "the same TSA grants a sha512 query" -- \
	"$S" timestamp --digest sha512 --tsa "$TSA_URL" tsa.json
rm -f tsa.json.tsr
start_tsa replay replay
cp report.json prime.json
expect_status 0 "the replaying TSA answers a first query" -- \
	"$S" timestamp --tsa "$TSA_URL" prime.json
expect_status 3 "a replayed answer (wrong nonce)" -- "$S" sign --tsa "$TSA_URL" \
	-k "$P/examiner.key" -c "$P/examiner.pem" tsa.json
err_matches "nonce" "nonce mismatch is named"
start_tsa other other-data
expect_status 3 "a token over other data" -- "$S" timestamp --tsa "$TSA_URL" tsa.json
err_matches "stamped other data" "imprint mismatch is named"
start_tsa garbage garbage
expect_status 3 "a garbage answer" -- "$S" timestamp --tsa "$TSA_URL" tsa.json
err_matches "did not answer with an RFC 3161" "garbage answer is named"
start_tsa hang hang
expect_status 3 "a TSA that never answers (timeout)" -- "$S" sign --tsa "$TSA_URL" \
	--tsa-timeout 2 -k "$P/examiner.key" -c "$P/examiner.pem" tsa.json
err_matches "did not answer within 2 s" "timeout is named"
expect_status 2 "a TSA URL that is not http(s)" -- "$S" timestamp --tsa file:///etc/passwd tsa.json
expect "failed TSA runs wrote nothing" test ! -e tsa.json.p7s -a ! -e tsa.json.tsr \
	-a -z "$(ls ./*.part 2>/dev/null)"

finish
