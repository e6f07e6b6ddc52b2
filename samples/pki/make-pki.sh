#!/bin/bash
# TEST ONLY - NOT FOR REAL USE.
#
# Builds the test PKI that custos' examples and tests use: a test root CA, a
# lab CA under it, certificates for an examiner, a prosecutor, a foreign
# receiving authority, an analyst (issued by the lab CA), a time-stamping
# authority, and, for negative tests, an expired certificate, a certificate
# that may not sign, and an unrelated second CA.
#
# Every private key is written UNENCRYPTED and the keys are published in the
# source tree: anyone can sign as these "people".  Every subject says
# "TEST ONLY - NOT FOR REAL USE".  Never trust this CA outside the tests.
#
#   samples/pki/make-pki.sh            rebuild the set in samples/pki/
#   samples/pki/make-pki.sh OUTDIR     or build a fresh set in OUTDIR
#
# Certificates are valid from one day ago for ten years (the expired one
# ended one day ago), so a set built today works at once.  Needs: openssl.
set -euo pipefail

OUT=${1:-$(dirname "$0")}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/custos-pki-XXXXXX")
trap 'rm -rf "$WORKDIR"' EXIT
umask 077

ORG="custos TEST ONLY - NOT FOR REAL USE"
ago() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
START=$(ago '-1 day')
END=$(ago '+3650 days')

cat > "$WORKDIR/ca.cnf" <<CNF
# TEST ONLY - NOT FOR REAL USE
[ ca ]
default_ca = testca
[ testca ]
database = $WORKDIR/index.txt
new_certs_dir = $WORKDIR
serial = $WORKDIR/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
[ policy_any ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
title = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ext_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ ext_lab_ca ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ext_signer ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ext_tsa ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ext_no_signing ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, keyAgreement
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
touch "$WORKDIR/index.txt"
echo 1000 > "$WORKDIR/serial"

# newkey NAME TYPE: an unencrypted PKCS#8 key (TEST ONLY).
newkey() {
	case $2 in
	ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$OUT/$1.key" 2>/dev/null ;;
	rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -out "$OUT/$1.key" 2>/dev/null ;;
	ed25519) openssl genpkey -algorithm ED25519 -out "$OUT/$1.key" ;;
	esac
}

# issue NAME TYPE SUBJECT EXT ISSUER [START END]
issue() {
	local name=$1 type=$2 subj=$3 ext=$4 issuer=$5 s=${6:-$START} e=${7:-$END}
	newkey "$name" "$type"
	openssl req -new -config "$WORKDIR/ca.cnf" -key "$OUT/$name.key" \
		-subj "$subj" -out "$WORKDIR/$name.csr"
	if [ "$issuer" = self ]; then
		openssl ca -batch -notext -config "$WORKDIR/ca.cnf" -selfsign \
			-keyfile "$OUT/$name.key" -in "$WORKDIR/$name.csr" \
			-extensions "$ext" -startdate "$s" -enddate "$e" \
			-preserveDN -out "$OUT/$name.pem" 2>"$WORKDIR/ca.log" ||
			{ cat "$WORKDIR/ca.log" >&2; exit 1; }
	else
		openssl ca -batch -notext -config "$WORKDIR/ca.cnf" \
			-cert "$OUT/$issuer.pem" -keyfile "$OUT/$issuer.key" \
			-in "$WORKDIR/$name.csr" -extensions "$ext" \
			-startdate "$s" -enddate "$e" -preserveDN \
			-out "$OUT/$name.pem" 2>"$WORKDIR/ca.log" ||
			{ cat "$WORKDIR/ca.log" >&2; exit 1; }
	fi
}

issue ca ec "/C=XX/O=$ORG/CN=custos Test Root CA (TEST ONLY)" ext_root self
issue lab-ca ec "/C=AT/O=$ORG/OU=Forensic Lab/CN=custos Test Lab CA (TEST ONLY)" \
	ext_lab_ca ca
issue examiner ec "/C=AT/O=$ORG/OU=Digital Forensics Unit/CN=Test Examiner/title=Forensic Examiner" \
	ext_signer ca
issue prosecutor rsa "/C=AT/O=$ORG/OU=Public Prosecutor's Office/CN=Test Prosecutor/title=Public Prosecutor" \
	ext_signer ca
issue foreign-authority ec "/C=DE/O=$ORG/OU=Central Authority for Mutual Legal Assistance/CN=Test Receiving Authority/title=Receiving Authority" \
	ext_signer ca
issue analyst ec "/C=AT/O=$ORG/OU=Forensic Lab/CN=Test Analyst/title=Forensic Analyst" \
	ext_signer lab-ca
# Ed25519: fine for custody-log keys, but OpenSSL cannot check Ed25519 CMS
# signatures, so custos-sign refuses it (a test pins that).
issue ed25519-examiner ed25519 "/C=AT/O=$ORG/OU=Digital Forensics Unit/CN=Test Ed25519 Examiner/title=Forensic Examiner" \
	ext_signer ca
issue tsa ec "/C=XX/O=$ORG/CN=custos Test TSA (TEST ONLY)" ext_tsa ca
issue expired ec "/C=AT/O=$ORG/OU=Digital Forensics Unit/CN=Test Expired Examiner/title=Forensic Examiner" \
	ext_signer ca "$(ago '-30 days')" "$(ago '-1 day')"
issue no-signing ec "/C=AT/O=$ORG/OU=Digital Forensics Unit/CN=Test Key Agreement Only/title=Forensic Examiner" \
	ext_no_signing ca
issue other-ca ec "/C=XX/O=$ORG/CN=custos Unrelated Test CA (TEST ONLY)" ext_root self

# The chain a signer issued by the lab CA sends along.
cp "$OUT/lab-ca.pem" "$OUT/analyst-chain.pem"
chmod 644 "$OUT"/*.pem
chmod 600 "$OUT"/*.key
echo "TEST ONLY - NOT FOR REAL USE: test PKI written to $OUT"
