#!/bin/bash
# Conformance with other implementations and hostile inputs (issue 9):
#  - time stamps sit below signatures: timestamp.c uses nothing of sign.c;
#  - CMS signatures on P-256, P-384, P-521 and RSA-PSS keys, each with its
#    RFC 5753 digest, checked by openssl cms, GnuTLS certtool and gpgsm,
#    and the digest read back from the SignerInfo;
#  - inputs that must be regular files (a FIFO never hangs a tool);
#  - age identity files with several identities and comments, against age;
#  - damaged E01 files reported as damaged, never hashed as raw.
# Needs: CUSTOS_KEY, CUSTOS_SIGN, CUSTOS_HASH, TESTDATA, SOURCE_ROOT;
# openssl, jq.
# certtool (gnutls-bin), gpgsm and age are used when installed.
. "$(dirname "$0")/lib.sh"
K=$CUSTOS_KEY
S=$CUSTOS_SIGN
for tool in openssl jq timeout; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: no $tool" >&2; exit 77; }
done

# ---- layering: time stamps sit below signatures (issue 10) ----

if [ -n "${SOURCE_ROOT:-}" ]; then
	ts_files="$SOURCE_ROOT/src/timestamp.c $SOURCE_ROOT/src/timestamp_private.h
		$SOURCE_ROOT/include/custos/timestamp.h"
	# shellcheck disable=SC2086
	inc=$(grep -hE '^#include "(custos/)?sign(_private)?\.h"' $ts_files || true)
	expect "timestamp.c and its headers include nothing of sign (${inc:-none})" \
		test -z "$inc"
	stray=""
	# shellcheck disable=SC2086
	for f in $(grep -ohE 'custos_sign_[a-z_]+' $ts_files | sort -u); do
		grep -q "$f" "$SOURCE_ROOT/include/custos/check.h" ||
			stray="$stray $f"
	done
	expect "timestamp.c uses no sign symbol outside check.h (${stray:-none})" \
		test -z "$stray"
fi

# ---- signatures: each curve with its own digest ----

# A TEST-ONLY CA and one signer per key type, certified by it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout ca.key -out ca.pem -subj "/CN=custos TEST ONLY conformance CA" \
	-days 30 -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null ||
	{ echo "FAIL: cannot make the test CA"; exit 1; }
cat > ee.ext <<'EXT'
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EXT
for t in ecdsa-p256 ecdsa-p384 ecdsa-p521 rsa-3072; do
	"$K" new -t "$t" --csr -n "TEST ONLY $t" -k "$t.key" -o "$t.csr" \
		>/dev/null 2>&1 &&
	openssl x509 -req -in "$t.csr" -CA ca.pem -CAkey ca.key \
		-CAcreateserial -days 20 -extfile ee.ext -out "$t.pem" \
		2>/dev/null || { echo "FAIL: cannot certify a $t key"; exit 1; }
done

# signer_alg P7S FIELD: the SignerInfo's digestAlgorithm or
# signatureAlgorithm, as openssl names it.
signer_alg() {
	openssl cms -cmsout -print -inform DER -in "$1" |
		sed -n '/signerInfos:/,$p' |
		awk -v f="$2:" '$1 == f { getline; print $2; exit }'
}
# pss_digests P7S: the PSS parameters' hash and MGF1 hash, "H M".
pss_digests() {
	openssl cms -cmsout -print -inform DER -in "$1" |
		sed -n '/signatureAlgorithm:/,/signature:/p' |
		awk '/OBJECT/ { sub(/.*:/, ""); printf "%s ", $0 }' |
		sed 's/mgf1 //; s/ $//'
}
cms_ok() {
	openssl cms -verify -binary -inform DER -in "$1.p7s" -content "$1" \
		-CAfile ca.pem -out /dev/null 2>cms.err
}
have_certtool=0; have_gpgsm=0
command -v certtool >/dev/null 2>&1 && have_certtool=1
command -v gpgsm >/dev/null 2>&1 && have_gpgsm=1
certtool_ok() {
	certtool --p7-verify --load-ca-certificate ca.pem --inder \
		--infile "$1.p7s" --load-data "$1" >certtool.out 2>&1
}
if [ "$have_gpgsm" = 1 ]; then
	export GNUPGHOME=$WORK/gnupg
	mkdir -m 700 "$GNUPGHOME"
	printf 'disable-crl-checks\n' > "$GNUPGHOME/gpgsm.conf"
	gpgsm --batch --import ca.pem >/dev/null 2>&1
	printf '%s S relax\n' "$(openssl x509 -in ca.pem -noout -fingerprint \
		-sha1 | sed 's/.*=//')" > "$GNUPGHOME/trustlist.txt"
fi
gpgsm_ok() {
	gpgsm --batch --status-fd 3 --verify "$1.p7s" "$1" 3>gpgsm.status \
		>/dev/null 2>gpgsm.err && grep -q '^\[GNUPG:\] GOODSIG' gpgsm.status
}

# key type, digest it must sign with, signatureAlgorithm openssl names
while read -r t want sigalg; do
	printf 'TEST ONLY report signed with %s\n' "$t" > "$t.json"
	expect_status 0 "$t signs with the default digest" -- \
		"$S" sign -q -k "$t.key" -c "$t.pem" "$t.json"
	got=$(signer_alg "$t.json.p7s" digestAlgorithm)
	expect "$t: SignerInfo digestAlgorithm is $want (got $got)" \
		test "$got" = "$want"
	got=$(signer_alg "$t.json.p7s" signatureAlgorithm)
	expect "$t: signatureAlgorithm is $sigalg (got $got)" \
		test "$got" = "$sigalg"
	expect "$t: openssl cms -verify accepts it" cms_ok "$t.json"
	if [ "$have_certtool" = 1 ]; then
		expect "$t: certtool --p7-verify accepts it" certtool_ok "$t.json"
	fi
	if [ "$have_gpgsm" = 1 ]; then
		if [ "$t" = ecdsa-p521 ]; then
			# gpgsm 2.2 cannot check P-521 ECDSA at all ("DSA
			# requires the hash length to be a multiple of 8
			# bits"), even openssl's own: it must judge ours as it
			# judges openssl's.
			openssl cms -sign -binary -md sha512 -in "$t.json" \
				-signer "$t.pem" -inkey "$t.key" -outform DER \
				-out ref.p7s 2>/dev/null
			mkdir -p ref && cp "$t.json" ref/ && mv ref.p7s "ref/$t.json.p7s"
			if gpgsm_ok "ref/$t.json"; then ref=accepts; else ref=rejects; fi
			if gpgsm_ok "$t.json"; then ours=accepts; else ours=rejects; fi
			expect "$t: gpgsm judges custos's signature as openssl's ($ref)" \
				test "$ours" = "$ref"
		else
			expect "$t: gpgsm --verify accepts it" gpgsm_ok "$t.json"
		fi
	fi
	# The check can fail: a changed byte is refused by each.
	cp "$t.json" "$t.keep"
	printf 'X' | dd of="$t.json" bs=1 seek=3 conv=notrunc 2>/dev/null
	expect "$t: openssl cms -verify refuses a changed file" \
		bash -c "! openssl cms -verify -binary -inform DER -in '$t.json.p7s' -content '$t.json' -CAfile ca.pem -out /dev/null 2>/dev/null"
	if [ "$have_certtool" = 1 ]; then
		expect "$t: certtool refuses a changed file" \
			bash -c "! certtool --p7-verify --load-ca-certificate ca.pem --inder --infile '$t.json.p7s' --load-data '$t.json' >/dev/null 2>&1"
	fi
	mv "$t.keep" "$t.json"
done <<'KEYS'
ecdsa-p256 sha256 ecdsa-with-SHA256
ecdsa-p384 sha384 ecdsa-with-SHA384
ecdsa-p521 sha512 ecdsa-with-SHA512
rsa-3072 sha256 rsassaPss
KEYS

# An explicit digest: the curve's own is accepted, another refused (exit 2,
# nothing written); RSA-PSS takes each, and its PSS and MGF1 hashes follow.
printf 'TEST ONLY\n' > pick.json
expect_status 0 "P-384 with --digest sha384" -- \
	"$S" sign -q --digest sha384 -k ecdsa-p384.key -c ecdsa-p384.pem pick.json
expect "P-384 --digest sha384 is sha384 in the SignerInfo" \
	test "$(signer_alg pick.json.p7s digestAlgorithm)" = sha384
rm -f pick.json.p7s
for bad in "ecdsa-p256 sha512" "ecdsa-p384 sha256" "ecdsa-p384 sha512" \
	   "ecdsa-p521 sha256"; do
	set -- $bad
	expect_status 2 "$1 refuses --digest $2" -- \
		"$S" sign --digest "$2" -k "$1.key" -c "$1.pem" pick.json
	err_matches "signs with sha" "$1 --digest $2 says which digest it needs"
	expect "$1 --digest $2 wrote nothing" test ! -e pick.json.p7s
done
expect_status 2 "--digest sha1 is a usage error" -- \
	"$S" sign --digest sha1 -k rsa-3072.key -c rsa-3072.pem pick.json
for d in sha256 sha384 sha512; do
	rm -f pick.json.p7s
	expect_status 0 "RSA-PSS with --digest $d" -- \
		"$S" sign -q --digest "$d" -k rsa-3072.key -c rsa-3072.pem pick.json
	expect "RSA-PSS $d: digestAlgorithm $d" \
		test "$(signer_alg pick.json.p7s digestAlgorithm)" = "$d"
	expect "RSA-PSS $d: PSS hash and MGF1 hash are $d ($(pss_digests pick.json.p7s))" \
		test "$(pss_digests pick.json.p7s)" = "$d $d"
	expect "RSA-PSS $d: openssl cms -verify accepts it" cms_ok pick.json
	if [ "$have_certtool" = 1 ] && [ "$d" = sha256 ]; then
		expect "RSA-PSS $d: certtool accepts it" certtool_ok pick.json
	elif [ "$have_certtool" = 1 ]; then
		# GnuTLS 3.7 checks every CMS RSA-PSS signature as
		# RSA-PSS-SHA256, whatever its parameters say, and so fails
		# openssl's own SHA-384/512 ones: it must judge ours alike.
		mkdir -p ref && cp pick.json ref/
		rm -f ref/pick.json.p7s
		openssl cms -sign -binary -md "$d" -in pick.json \
			-signer rsa-3072.pem -inkey rsa-3072.key -outform DER \
			-keyopt rsa_padding_mode:pss -keyopt rsa_pss_saltlen:digest \
			-out ref/pick.json.p7s 2>/dev/null
		if certtool_ok ref/pick.json; then ref=accepts; else ref=rejects; fi
		if certtool_ok pick.json; then ours=accepts; else ours=rejects; fi
		expect "RSA-PSS $d: certtool judges ours as openssl's ($ref)" \
			test "$ours" = "$ref"
	fi
	if [ "$have_gpgsm" = 1 ]; then
		expect "RSA-PSS $d: gpgsm accepts it" gpgsm_ok pick.json
	fi
done
# Ed25519: OpenSSL's CMS cannot make or check it, so it is refused clearly.
"$K" new -t ed25519 -n "TEST ONLY ed25519" -k ed.key -o ed.pem >/dev/null 2>&1
rm -f pick.json.p7s
expect_status 2 "an Ed25519 key is refused for CMS" -- \
	"$S" sign -k ed.key -c ed.pem pick.json
err_matches "Ed25519" "the Ed25519 refusal names the reason"
expect "the Ed25519 refusal wrote nothing" test ! -e pick.json.p7s

# ---- inputs that must be files: a FIFO is refused, never waited on ----

# fifo_refused DESCRIPTION -- COMMAND...: exits 2 (a FIFO where a file
# belongs) within 10 s, naming the FIFO; a hang is killed (exit 124) and
# fails.
fifo_refused() {
	local what=$1
	shift 2
	timeout 10 "$@" >out.txt 2>err.txt </dev/null
	local got=$?
	if [ "$got" -eq 2 ] && grep -q 'FIFO' err.txt; then
		pass "$what: refused (exit 2, names the FIFO)"
	else
		fail "$what: exit $got, wanted 2 naming the FIFO; stderr: $(head -c 300 err.txt)"
	fi
}
mkfifo fifo fifo.json fifo.E01 fifo.age
printf 'TEST ONLY\n' > plain.json
"$S" sign -q -k ecdsa-p256.key -c ecdsa-p256.pem plain.json
cp plain.json.p7s fifo.json.p7s
fifo_refused "custos-sign verify, content a FIFO" -- \
	"$S" verify --trust ca.pem fifo.json
fifo_refused "custos-sign verify, --signature a FIFO" -- \
	"$S" verify --trust ca.pem --signature fifo plain.json
fifo_refused "custos-sign verify, --timestamp a FIFO" -- \
	"$S" verify --trust ca.pem --timestamp fifo plain.json
fifo_refused "custos-sign verify, --trust a FIFO" -- \
	"$S" verify --trust fifo plain.json
rm -f fifo.json.p7s
fifo_refused "custos-sign sign, content a FIFO" -- \
	"$S" sign -k ecdsa-p256.key -c ecdsa-p256.pem fifo.json
expect "signing a FIFO wrote no signature" test ! -e fifo.json.p7s
fifo_refused "custos-sign sign, --key a FIFO" -- \
	"$S" sign -k fifo -c ecdsa-p256.pem pick.json
fifo_refused "custos-sign sign, --cert a FIFO" -- \
	"$S" sign -k ecdsa-p256.key -c fifo pick.json
fifo_refused "custos-sign sign, --chain a FIFO" -- \
	"$S" sign -k ecdsa-p256.key -c ecdsa-p256.pem --chain fifo pick.json
fifo_refused "custos-sign timestamp, content a FIFO" -- \
	"$S" timestamp --tsa http://127.0.0.1:1/tsa fifo.json
fifo_refused "custos-key show, a FIFO" -- "$K" show fifo
fifo_refused "custos-hash, a raw image that is a FIFO" -- \
	"$CUSTOS_HASH" fifo
fifo_refused "custos-hash, an E01 that is a FIFO" -- \
	"$CUSTOS_HASH" fifo.E01

# ---- damaged E01: reported as damaged (exit 1), never hashed as raw ----

H=$CUSTOS_HASH
E01=$TESTDATA/ewf/ext2.E01
mkdir e01 && cd e01 || exit 99
cp "$E01" good.E01 && chmod u+w good.E01
expect_status 0 "an intact E01 hashes as E01" -- "$H" -q --json good.E01
expect "the intact E01 is format e01" test "$(jget out.txt .format)" = e01
# damaged NAME OFFSET BYTE: a copy of the E01 with one byte changed.
damaged() {
	cp good.E01 "$1" && printf "$3" |
		dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}
damaged badsig.E01 1 'X'        # "EXF\t..."
damaged badsig7.E01 7 '\001'    # last signature byte
damaged badsig.bin 0 'F'        # no EWF name, EWF-like bytes
head -c 100 good.E01 > trunc.E01
head -c 5 good.E01 > tiny.E01   # shorter than the signature
head -c 13 good.E01 > header.E01
printf 'not an image at all, but named like one\n' > named.E01
cp badsig.E01 badsig.Ex01; cp badsig.E01 badsig.s01; cp badsig.E01 badsig.L01
cp named.E01 named.e02
for f in badsig.E01 badsig7.E01 badsig.bin trunc.E01 tiny.E01 header.E01 \
	 named.E01 badsig.Ex01 badsig.s01 badsig.L01 named.e02; do
	expect_status 1 "$f is reported as damaged" -- "$H" -q "$f"
	expect "$f: no raw hashes printed" bash -c "! grep -q '^md5:' out.txt"
done
err_matches "format raw" "the refusal says how to hash it as raw"
# Raw chosen explicitly: the bytes are hashed as raw media.
expect_status 0 "--format raw hashes a damaged E01 as raw" -- \
	"$H" -q --json --format raw badsig.E01
expect "--format raw: format raw, sha256 of the file" \
	test "$(jget out.txt .hashes.sha256)" = "$(sha256sum badsig.E01 | cut -c1-64)"
expect_status 1 "--format e01 on a damaged E01" -- "$H" -q --format e01 badsig.bin
expect_status 2 "--format bogus is a usage error" -- "$H" --format bogus good.E01
# Unambiguous raw: no EWF name and no EWF-like bytes.
head -c 65536 /dev/zero > disk.img
expect_status 0 "a plain raw image still hashes as raw" -- "$H" -q --json disk.img
expect "the plain raw image is format raw" test "$(jget out.txt .format)" = raw
cd .. || exit 99

finish
