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
	sig_hex=$(awk '/cont \[ 1 \]/ {print prev; exit} {prev = $0}' asn.txt |
		sed 's/.*\[HEX DUMP\]://')
	tok_off=$(awk '/timeStampToken/ {getline; getline; sub(/:.*/, "");
		print $1; exit}' asn.txt)
	[ -n "$sig_hex" ] && [ -n "$tok_off" ] || return 1
	printf '%b' "$(printf '%s' "$sig_hex" | sed 's/../\\x&/g')" > sig.bin
	openssl asn1parse -inform DER -in "$1" -strparse "$tok_off" -noout \
		-out token.der
}
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

finish
