#!/bin/bash
# The main job, step by step: the whole chain of custody on the shipped
# sample disk, with the TEST-ONLY identities of samples/pki/.
#
#   samples/demo.sh [OUT]        (default OUT: out/demo; it must not exist)
#
# Each step prints a heading; the first failure stops the run and names the
# step.  Everything is written under OUT, which this script creates itself,
# so nothing outside it is touched and a second run never reuses the first
# run's files.  Tools come from build/tools (override with BUILD=...).
set -uo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
T=$BUILD/tools
PKI=samples/pki
OUT=${1:-out/demo}
CASE=DEMO-2026-001

step_no=0
step() { # title, then the command and its arguments
	local title=$1; shift
	step_no=$((step_no + 1))
	printf '\n== %d. %s\n' "$step_no" "$title"
	if ! "$@"; then
		printf '\ndemo: step %d failed: %s\n' "$step_no" "$title" >&2
		exit 1
	fi
}

for tool in custos-log custos-acquire custos-hash custos-sign custos-bundle \
	custos-verify; do
	if [ ! -x "$T/$tool" ]; then
		echo "demo: $T/$tool is missing; build first (ninja -C $BUILD)" >&2
		exit 3
	fi
done
if [ -e "$OUT" ] || [ -L "$OUT" ]; then
	echo "demo: $OUT already exists; move it away or name another folder" >&2
	exit 3
fi
mkdir -p "$(dirname "$OUT")" && mkdir "$OUT" || exit 3

step "open a custody log for the case" \
	"$T/custos-log" init "$OUT/custody" --origin "demo.example/$CASE" \
		--log-key "$OUT/log-key.pem" --trust $PKI/ca.pem --case $CASE \
		-k $PKI/examiner.key -c $PKI/examiner.pem

step "acquire the sample disk to a signed E01, recorded in the log" \
	"$T/custos-acquire" --case $CASE --evidence HD-01 \
		--examiner "Test Examiner" --description "custos sample disk" \
		--verify --sign-key $PKI/examiner.key --sign-cert $PKI/examiner.pem \
		--log "$OUT/custody" -o "$OUT/sample" samples/sample.img

step "show the acquisition report" cat "$OUT/sample.report.txt"

step "check the image with custos-hash" "$T/custos-hash" "$OUT/sample.E01"

step "check the image with libewf's own ewfverify" \
	ewfverify -q "$OUT/sample.E01"

step "check the image files against BASE.sha256 with sha256sum" \
	sh -c 'cd "$1" && sha256sum -c sample.sha256' sh "$OUT"

step "check the report's signature with custos-sign" \
	"$T/custos-sign" verify --trust $PKI/ca.pem "$OUT/sample.report.json"

step "check the report's signature with plain openssl" \
	openssl cms -verify -binary -inform DER \
		-in "$OUT/sample.report.json.p7s" \
		-content "$OUT/sample.report.json" -CAfile $PKI/ca.pem \
		-out /dev/null

step "release the disk to the prosecutor (signed by the examiner)" \
	"$T/custos-log" release "$OUT/custody" --item HD-01 \
		--to "Public Prosecutor" --purpose trial \
		-k $PKI/examiner.key -c $PKI/examiner.pem

step "receive it (signed by the prosecutor)" \
	"$T/custos-log" receive "$OUT/custody" --answers 2 \
		--storage "Evidence room 3" \
		-k $PKI/prosecutor.key -c $PKI/prosecutor.pem

step "checkpoint the log" \
	"$T/custos-log" checkpoint "$OUT/custody" --log-key "$OUT/log-key.pem"

step "show the custody timeline" "$T/custos-log" show "$OUT/custody"

step "verify the log with custos-log" "$T/custos-log" verify "$OUT/custody"

step "verify the log with the shell + openssl reference verifier" \
	sh tools/verify-log.sh "$OUT/custody"

step "make the foreign authority's age key (TEST ONLY)" \
	sh -c '"$1" keygen -o "$2" > "$3"' sh "$T/custos-bundle" \
		"$OUT/foreign-age.key" "$OUT/foreign-age.recipient"

step "bundle the evidence for the foreign authority (MLA request)" \
	"$T/custos-bundle" create --request samples/request.json \
		--sign-key $PKI/prosecutor.key --sign-cert $PKI/prosecutor.pem \
		--recipient "$(cat "$OUT/foreign-age.recipient")" --split 1M \
		--log "$OUT/custody" --item HD-01 -o "$OUT/mla-042" \
		"$OUT/sample.E01" "$OUT/sample.report.json" \
		"$OUT/sample.report.json.p7s"

step "verify the log again, with the export recorded" \
	"$T/custos-log" verify "$OUT/custody"

step "check the transfer manifest's signature with plain openssl" \
	openssl cms -verify -binary -inform DER \
		-in "$OUT/mla-042.transfer-manifest.txt.p7s" \
		-content "$OUT/mla-042.transfer-manifest.txt" \
		-CAfile $PKI/ca.pem -out /dev/null

step "as the foreign authority: verify the bundle" \
	"$T/custos-bundle" verify -i "$OUT/foreign-age.key" \
		--trust $PKI/ca.pem "$OUT/mla-042.transfer-manifest.txt"

step "as the foreign authority: open its own custody log" \
	"$T/custos-log" init "$OUT/foreign-custody" \
		--origin foreign.example/MLA-2026-042 \
		--log-key "$OUT/foreign-log-key.pem" --trust $PKI/ca.pem \
		--case MLA-2026-042 \
		-k $PKI/foreign-authority.key -c $PKI/foreign-authority.pem

step "as the foreign authority: issue a signed receipt, recorded in its log" \
	"$T/custos-bundle" receipt -i "$OUT/foreign-age.key" \
		--trust $PKI/ca.pem \
		-k $PKI/foreign-authority.key -c $PKI/foreign-authority.pem \
		--officer "Test Foreign Officer" \
		--authority "TEST-ONLY Foreign Authority" \
		--storage "Evidence vault F-1" --log "$OUT/foreign-custody" \
		-o "$OUT/mla-042.receipt.json" \
		"$OUT/mla-042.transfer-manifest.txt"

step "check the receipt's signature with plain openssl" \
	openssl cms -verify -binary -inform DER \
		-in "$OUT/mla-042.receipt.json.p7s" \
		-content "$OUT/mla-042.receipt.json" -CAfile $PKI/ca.pem \
		-out /dev/null

step "verify the foreign authority's log" \
	"$T/custos-log" verify "$OUT/foreign-custody"

step "as the prosecutor: one verdict over the whole case, and a court report" \
	"$T/custos-verify" --trust $PKI/ca.pem -i "$OUT/foreign-age.key" \
		--html "$OUT/court-report.html" "$OUT"

printf '\ndemo: all %d steps passed; the case folder is %s\n' "$step_no" "$OUT"
