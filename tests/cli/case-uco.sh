#!/bin/bash
# custos-acquire and custos-verify --case-uco: the README's demo case
# (acquired, signed, logged, released, received, bundled with a legal
# request, receipted abroad) exported by both tools, and both exports
# validated offline against the CASE 1.4.0 / UCO 1.4.0 SHACL shapes in
# ../shared/testdata/case-uco (tests/case-uco/validate.mjs).  Broken copies
# of the export (a Hash without hashMethod, a hash value that is a plain
# string, a misspelt property, a node without @id) must be rejected, so the
# validation can fail.  Also: the same case exports the same bytes, the
# two tools give the acquisition the same IRIs, and the output is never
# written over something that exists.  Needs: CUSTOS_VERIFY,
# CUSTOS_ACQUIRE, CUSTOS_LOG, CUSTOS_BUNDLE, SOURCE_ROOT; openssl, jq,
# node and the npm modules of tests/case-uco (npm ci --prefix tests/case-uco).
. "$(dirname "$0")/lib.sh"
V=$CUSTOS_VERIFY
VALIDATE=$SOURCE_ROOT/tests/case-uco/validate.mjs
ONTOLOGY=$SOURCE_ROOT/../shared/testdata/case-uco/ontology
for tool in openssl jq timeout node; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: no $tool" >&2; exit 77; }
done
[ -d "$SOURCE_ROOT/tests/case-uco/node_modules/shacl-engine" ] || {
	echo "SKIP: the validator's npm modules are missing (run: npm ci --prefix tests/case-uco)" >&2
	exit 77; }
[ -d "$ONTOLOGY" ] || { echo "SKIP: no $ONTOLOGY" >&2; exit 77; }
bash "$SOURCE_ROOT/samples/pki/make-pki.sh" "$WORK/pki" >/dev/null 2>pki.err ||
	{ cat pki.err; echo "FAIL: make-pki.sh"; exit 1; }
P=$WORK/pki

# ---- the case, as in tests/cli/verify.sh, with an export at acquisition ----
build_case() {
	local d=$1
	mkdir -p "$d" && cd "$d" || return 1
	"$CUSTOS_LOG" init custody --origin test.example/CASE-1 --log-key ../log-key.pem \
		--trust "$P/ca.pem" --case CASE-1 -k "$P/examiner.key" -c "$P/examiner.pem" &&
	"$CUSTOS_ACQUIRE" -q --case CASE-1 --evidence HD-01 --examiner "Test Examiner" \
		--sign-key "$P/examiner.key" --sign-cert "$P/examiner.pem" --log custody \
		--case-uco ../acquire.jsonld -o sample "$SOURCE_ROOT/samples/sample.img" &&
	"$CUSTOS_LOG" release custody --item HD-01 --to "Public Prosecutor" --purpose trial \
		-k "$P/examiner.key" -c "$P/examiner.pem" &&
	"$CUSTOS_LOG" receive custody --answers 2 --storage "Evidence room 3" \
		-k "$P/prosecutor.key" -c "$P/prosecutor.pem" &&
	"$CUSTOS_LOG" checkpoint custody --log-key ../log-key.pem &&
	R=$("$CUSTOS_BUNDLE" keygen -o ../age.key) &&
	"$CUSTOS_BUNDLE" create --request "$SOURCE_ROOT/samples/request.json" \
		--sign-key "$P/prosecutor.key" --sign-cert "$P/prosecutor.pem" --recipient "$R" \
		--log custody --item HD-01 -o mla-042 sample.E01 sample.report.json \
		sample.report.json.p7s &&
	"$CUSTOS_LOG" init foreign-custody --origin foreign.example/MLA-1 \
		--log-key ../foreign-log-key.pem --trust "$P/ca.pem" --case MLA-1 \
		-k "$P/foreign-authority.key" -c "$P/foreign-authority.pem" &&
	"$CUSTOS_BUNDLE" receipt -i ../age.key --trust "$P/ca.pem" \
		-k "$P/foreign-authority.key" -c "$P/foreign-authority.pem" \
		--officer "Test Officer" --authority "TEST-ONLY Foreign Authority" \
		--storage "Vault F-1" --log foreign-custody -o mla-042.receipt.json \
		mla-042.transfer-manifest.txt
	local rc=$?
	cd "$WORK" || return 1
	return $rc
}
build_case "$WORK/case" >build.log 2>&1 || { cat build.log; echo "FAIL: building the case"; exit 1; }
TRUST=(--trust "$P/ca.pem" -i age.key)

expect "acquire: the export exists" test -s acquire.jsonld
expect_status 0 "verify --case-uco: VERIFIED" -- timeout 60 "$V" -q "${TRUST[@]}" \
	--case-uco verify.jsonld case
expect "verify: the export exists" test -s verify.jsonld

# ---- what the exports say ----
g() { jq -e "$2" "$1" >/dev/null; }
iris_ok='[.["@graph"][] | .. | objects | select(has("@id")) | .["@id"]] |
	all(test("^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"))'
for f in acquire.jsonld verify.jsonld; do
	expect "$f: inline @context, no remote context" g $f '.["@context"] | type == "object"'
	expect "$f: every IRI is urn:uuid: and a version 5 UUID" g $f "$iris_ok"
	expect "$f: the acquisition, with performer, instrument, object, result" g $f \
		'[.["@graph"][] | select(.["uco-core:name"] == "acquired")][0] |
		 has("uco-action:performer") and has("uco-action:instrument") and
		 has("uco-action:object") and has("uco-action:result")'
	expect "$f: custos, libewf and OpenSSL as tools with versions" g $f \
		'[.["@graph"][] | select(.["@type"] == "uco-tool:Tool") |
		  select(.["uco-tool:version"] != null) | .["uco-core:name"]] as $t |
		 ($t | index("custos-acquire")) and ($t | index("libewf")) and ($t | index("OpenSSL"))'
	expect "$f: the media SHA256 as a hexBinary Hash" jq -e \
		--arg h "$(jq -r .hashes.sha256 case/sample.report.json)" \
		'[.. | objects | select(.["uco-types:hashMethod"] == "SHA256") |
		  .["uco-types:hashValue"]] | any(.["@type"] == "xsd:hexBinary" and .["@value"] == $h)' $f
	expect "$f: a ProvenanceRecord for HD-01" g $f \
		'any(.["@graph"][]; .["@type"] == "case-investigation:ProvenanceRecord" and
		 .["case-investigation:exhibitNumber"] == "HD-01")'
	expect "$f: the examiner as a Person with a name" g $f \
		'any(.["@graph"][]; .["@type"] == "uco-identity:Person" and
		 .["uco-core:name"] == "Test Examiner")'
done
expect "verify: the custody transfer, from examiner to prosecutor" g verify.jsonld \
	'[.["@graph"][] | select(.["uco-core:name"] == "custody transfer")] | length == 1 and
	 (.[0] | has("uco-action:performer") and has("uco-action:instrument") and
	  has("uco-action:object") and has("uco-action:result") and
	  has("uco-action:participant") and .["uco-action:startTime"]["@type"] == "xsd:dateTime")'
expect "verify: the request as an Authorization (MLA-2026-042)" g verify.jsonld \
	'any(.["@graph"][]; .["@type"] == "case-investigation:Authorization" and
	 .["case-investigation:authorizationIdentifier"] == "MLA-2026-042")'
expect "verify: the requesting case DEMO-2026-001 as an Investigation" g verify.jsonld \
	'any(.["@graph"][]; .["@type"] == "case-investigation:Investigation" and
	 .["uco-core:name"] == "DEMO-2026-001")'
expect "verify: the export and the foreign receipt" g verify.jsonld \
	'([.["@graph"][] | .["uco-core:name"]] | index("exported") and index("received abroad"))'
expect "verify: the verdict as actionStatus Success" g verify.jsonld \
	'any(.["@graph"][]; .["uco-core:name"] == "verified" and .["uco-action:actionStatus"] == "Success")'
acq_iri() { jq -r '[.["@graph"][] | select(.["uco-core:name"] == "acquired")][0]["@id"]' "$1"; }
expect "both tools give the acquisition the same IRI" \
	test "$(acq_iri acquire.jsonld)" = "$(acq_iri verify.jsonld)"

# ---- stable, and never over something ----
timeout 60 "$V" -q "${TRUST[@]}" --case-uco verify2.jsonld case >/dev/null 2>&1
expect "the same case exports the same bytes" cmp -s verify.jsonld verify2.jsonld
cp verify.jsonld before.jsonld
expect_status 3 "an existing output is refused" -- timeout 60 "$V" -q "${TRUST[@]}" \
	--case-uco verify.jsonld case
expect "... and left as it was" cmp -s verify.jsonld before.jsonld
ln -s before.jsonld link.jsonld
expect_status 3 "a symlink as output is refused" -- timeout 60 "$V" -q "${TRUST[@]}" \
	--case-uco link.jsonld case
expect "... and its target left as it was" cmp -s before.jsonld verify.jsonld
expect_status 2 "--case-uco without a value is a usage error" -- "$V" --case-uco
# A report changed after acquisition is still exported by verify (FAILED),
# the change visible as the verification's status.
cp -a case changed
sed -i 's/"examiner": "Test Examiner"/"examiner": "Test Examiner2"/' changed/sample.report.json
expect_status 1 "a changed report: FAILED, still exported" -- timeout 60 "$V" -q \
	--trust "$P/ca.pem" -i age.key --case-uco changed.jsonld changed
expect "... with actionStatus Fail" g changed.jsonld \
	'any(.["@graph"][]; .["uco-core:name"] == "verified" and .["uco-action:actionStatus"] == "Fail")'

# ---- broken copies the validator must reject ----
mkdir bad
jq '(.. | objects | select(.["@type"] == "uco-types:Hash")) |= del(.["uco-types:hashMethod"])' \
	verify.jsonld >bad/no-hash-method.jsonld
jq '(.. | objects | select(.["@type"] == "uco-types:Hash") | .["uco-types:hashValue"]) |= .["@value"]' \
	verify.jsonld >bad/plain-hash-value.jsonld
jq '(.["@graph"][] | select(.["uco-core:name"] == "acquired")) |=
	with_entries(if .key == "uco-action:performer" then .key = "uco-action:perfomer" else . end)' \
	verify.jsonld >bad/misspelt-property.jsonld
jq '(.["@graph"][] | select(.["@type"] == "uco-tool:Tool")) |= del(.["@id"])' \
	acquire.jsonld >bad/blank-tool.jsonld
jq '.["@context"] = "https://ontology.example/case.jsonld"' \
	acquire.jsonld >bad/remote-context.jsonld
for f in bad/*.jsonld; do cmp -s "$f" verify.jsonld && fail "$f: jq changed nothing"; done

# ---- validation (offline: the validator refuses remote documents) ----
start=$(date +%s.%N)
node "$VALIDATE" --ontology "$ONTOLOGY" --json acquire.jsonld verify.jsonld \
	changed.jsonld >valid.json 2>valid.err
vrc=$?
end=$(date +%s.%N)
echo "validation of 3 exports: $(echo "$end - $start" | bc 2>/dev/null || echo "?") s (exit $vrc)"
jq -r '.[] | "  \(.file): conforms \(.conforms), \(.violations) violations, \(.warnings) warnings, \(.infos) infos, \(.unknown | length) unknown, \(.ms | floor) ms"' valid.json 2>/dev/null
expect "the exports conform to CASE 1.4.0 (exit $vrc; $(head -c 300 valid.err))" test "$vrc" -eq 0
for f in acquire.jsonld verify.jsonld changed.jsonld; do
	expect "$f conforms, no violations or warnings" g valid.json \
		"any(.[]; .file == \"$f\" and .conforms and .violations == 0 and .warnings == 0)"
done
node "$VALIDATE" --ontology "$ONTOLOGY" --json bad/*.jsonld >invalid.json 2>invalid.err
vrc=$?
expect "the broken copies are rejected (exit $vrc)" test "$vrc" -eq 1
jq -r '.[] | "  \(.file): conforms \(.conforms) \(.error // "") \(.problems // [] | .[0:2] | join("; "))"' \
	invalid.json 2>/dev/null | cut -c1-300
rejected() { jq -e --arg f "$1" --arg w "$2" '.[] | select(.file == $f) |
	(.conforms | not) and ((.problems // []) + [.error // ""] | any(test($w)))' invalid.json >/dev/null; }
expect "a Hash without hashMethod: Violation" rejected bad/no-hash-method.jsonld 'Violation: .*hashMethod'
expect "a plain-string hash value: Violation (not hexBinary)" rejected bad/plain-hash-value.jsonld 'hexBinary'
expect "a misspelt property: unknown concept" rejected bad/misspelt-property.jsonld 'Unknown: .*perfomer'
expect "a node without @id: Violation (blank UcoThing)" rejected bad/blank-tool.jsonld 'blank nodes'
expect "a remote @context: refused" rejected bad/remote-context.jsonld 'remote'
finish
