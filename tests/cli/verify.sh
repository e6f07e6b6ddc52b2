#!/bin/bash
# custos-verify from the command line.  A complete case folder made with the
# real tools (acquired, signed, logged, released, received, bundled,
# receipted) gives VERIFIED; each single change gives FAILED and names its
# check; a missing image or no trust anchor gives INCOMPLETE; hostile
# targets (a FIFO, garbage, repeated JSON keys) give a clear error, never a
# hang.  Needs: CUSTOS_VERIFY, CUSTOS_ACQUIRE, CUSTOS_LOG, CUSTOS_BUNDLE,
# SOURCE_ROOT; openssl, jq, timeout.
. "$(dirname "$0")/lib.sh"
V=$CUSTOS_VERIFY
for tool in openssl jq timeout mkfifo; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: no $tool" >&2; exit 77; }
done
bash "$SOURCE_ROOT/samples/pki/make-pki.sh" "$WORK/pki" >/dev/null 2>pki.err ||
	{ cat pki.err; echo "FAIL: make-pki.sh"; exit 1; }
P=$WORK/pki
SAMPLE=$SOURCE_ROOT/samples/sample.img
REQUEST=$SOURCE_ROOT/samples/request.json

# ---- the case, as the README's main job makes it ----
build_case() {
	local d=$1
	mkdir -p "$d" && cd "$d" || return 1
	"$CUSTOS_LOG" init custody --origin test.example/CASE-1 --log-key log-key.pem \
		--trust "$P/ca.pem" --case CASE-1 -k "$P/examiner.key" -c "$P/examiner.pem" &&
	"$CUSTOS_ACQUIRE" -q --case CASE-1 --evidence HD-01 --examiner "Test Examiner" \
		--sign-key "$P/examiner.key" --sign-cert "$P/examiner.pem" --log custody \
		-o sample "$SAMPLE" &&
	"$CUSTOS_LOG" release custody --item HD-01 --to "Public Prosecutor" --purpose trial \
		-k "$P/examiner.key" -c "$P/examiner.pem" &&
	"$CUSTOS_LOG" receive custody --answers 2 --storage "Evidence room 3" \
		-k "$P/prosecutor.key" -c "$P/prosecutor.pem" &&
	"$CUSTOS_LOG" checkpoint custody --log-key log-key.pem &&
	R=$("$CUSTOS_BUNDLE" keygen -o age.key) &&
	"$CUSTOS_BUNDLE" create --request "$REQUEST" --sign-key "$P/prosecutor.key" \
		--sign-cert "$P/prosecutor.pem" --recipient "$R" --split 256K --log custody \
		--item HD-01 -o mla-042 sample.E01 sample.report.json sample.report.json.p7s &&
	"$CUSTOS_LOG" init foreign-custody --origin foreign.example/MLA-1 \
		--log-key foreign-log-key.pem --trust "$P/ca.pem" --case MLA-1 \
		-k "$P/foreign-authority.key" -c "$P/foreign-authority.pem" &&
	"$CUSTOS_BUNDLE" receipt -i age.key --trust "$P/ca.pem" \
		-k "$P/foreign-authority.key" -c "$P/foreign-authority.pem" \
		--officer "Test Officer" --authority "TEST-ONLY Foreign Authority" \
		--storage "Vault F-1" --log foreign-custody -o mla-042.receipt.json \
		mla-042.transfer-manifest.txt
	local rc=$?
	cd "$WORK" || return 1
	return $rc
}
build_case "$WORK/base" >build.log 2>&1 || { cat build.log; echo "FAIL: building the case"; exit 1; }
# The keys are not part of what a prosecutor is given.
mkdir keys && mv base/log-key.pem base/foreign-log-key.pem base/age.key keys/

# flip FILE OFFSET: invert one byte (so it surely changes).
flip() {
	local b
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf %o $((b ^ 255)))" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# fresh NAME: a copy of the case to change.
fresh() { rm -rf "$WORK/$1"; cp -a "$WORK/base" "$WORK/$1"; }
# result ID [SUBJECT]: the result of the first check with that id in out.json.
result() { jq -r --arg id "$1" '[.checks[] | select(.id == $id)][0].result' out.json; }
# verify ARGS...: custos-verify --json into out.json, exit status in $RC.
verify() {
	timeout 60 "$V" --json "$@" >out.json 2>err.txt
	RC=$?
}
verdict() { jq -r .verdict out.json; }
jqe() { jq -e "$@" >/dev/null; }
TRUST=(--trust "$P/ca.pem" -i keys/age.key)

# ===================== the complete case =====================
verify "${TRUST[@]}" base
expect "complete case: exit 0 (got $RC)" test "$RC" -eq 0
expect "complete case: VERIFIED" test "$(verdict)" = VERIFIED
for id in media.hash.md5 media.hash.sha1 media.hash.sha256 media.e01.chunks \
	media.e01.stored.md5 media.files.sha256 report.format report.signature \
	report.chain report.role custody.log custody.acquired custody.continuity \
	custody.holder bundle.transfer-manifest bundle.decrypt bundle.bagit \
	bundle.tag-signature bundle.request bundle.custody receipt.signature \
	receipt.answers receipt.authority bundle.contents; do
	expect "complete case: $id passed" test "$(result $id)" = passed
done
expect "json: every check has id, subject, result, detail, expected, observed" \
	jqe '[.checks[] | has("id") and has("subject") and has("result") and
		has("detail") and has("expected") and has("observed") and has("required")]
		| all' out.json
expect "json: schema version" jqe '.custos_verify == 1' out.json
expect "json: the item's holder is the prosecutor" \
	jqe '.items["HD-01"].holder.name == "Test Prosecutor"' out.json
expect "json: the transfer's two signers" \
	jqe '.items["HD-01"].transfers[0].released_by.name == "Test Examiner" and
		.items["HD-01"].transfers[0].received_by.name == "Test Prosecutor"' out.json
expect "json: signer role from the certificate" \
	jqe '.reports[0].signer.role == "Forensic Examiner"' out.json
expect "json: hash algorithms present" \
	jqe '.reports[0].hash_algorithms == ["md5","sha1","sha256"]' out.json
expect "json: request fields" \
	jqe '.bundles[0].request.instrument.article == "31"' out.json
expect "json: a timestamp is absent and optional" \
	jqe '[.checks[] | select(.id == "report.timestamp")][0] |
		.result == "not-checked" and .required == false' out.json
timeout 60 "$V" "${TRUST[@]}" base >out.txt 2>err.txt
expect "text: the case first" sh -c "head -1 out.txt | grep -q '^report: '"
expect "text: the verdict last" sh -c "tail -1 out.txt | grep -q '^VERIFIED: '"
expect "text: one line per check" test \
	"$(grep -cE '^(passed|FAILED|NOT CHECKED|not checked) ' out.txt)" -eq \
	"$(jq '.checks | length' out.json)"
expect_status 0 "-q: only the verdict" -- "$V" -q "${TRUST[@]}" base
expect "-q prints one line" test "$(wc -l <out.txt)" -eq 1
# A report alone finds its image, .p7s, .sha256 and the log beside it.
verify --trust "$P/ca.pem" base/sample.report.json
expect "the report alone: VERIFIED (exit $RC)" test "$(verdict)" = VERIFIED
expect "the report alone finds its log" test "$(result custody.acquired)" = passed
verify --trust "$P/ca.pem" --log base/custody base/sample.report.json
expect "--log DIR: VERIFIED" test "$(verdict)" = VERIFIED
verify "${TRUST[@]}" base/mla-042.receipt.json
expect "a receipt finds its bundle: VERIFIED" test "$(verdict)" = VERIFIED

# ===================== each single change gives FAILED =====================
# failed_on NAME CHECK ARGS...: FAILED, exit 1, and CHECK failed.
failed_on() {
	local what=$1 id=$2
	shift 2
	verify "$@"
	if [ "$RC" -eq 1 ] && [ "$(verdict)" = FAILED ] && [ "$(result "$id")" = failed ]; then
		pass "$what: FAILED on $id"
	else
		fail "$what: exit $RC, verdict $(verdict), $id $(result "$id"); $(head -c 300 err.txt)"
	fi
}

expect "complete case: bundle.custody counts the records and the checkpoint" \
	jqe '[.checks[] | select(.id == "bundle.custody")][0].observed |
	test("^[1-9][0-9]* records, checkpoint of [1-9][0-9]*$")' out.json

fresh img
flip img/sample.E01 200000
failed_on "one image byte" media.files.sha256 "${TRUST[@]}" img
expect "one image byte: the E01 chunk check names it" test "$(result media.e01.chunks)" = failed

fresh field
sed -i 's/"examiner": "Test Examiner"/"examiner": "Test Examiner2"/' field/sample.report.json
failed_on "one report field" report.signature "${TRUST[@]}" field
expect "one report field: the log's acquired record no longer matches" \
	test "$(result custody.acquired)" = failed

fresh p7s
size=$(stat -c %s p7s/sample.report.json.p7s)
flip p7s/sample.report.json.p7s $((size - 20))
failed_on "the .p7s" report.signature "${TRUST[@]}" p7s

fresh swap   # a valid signature, but by someone else than the report names
rm swap/sample.report.json.p7s
openssl cms -sign -binary -cades -outform DER -in swap/sample.report.json \
	-out swap/sample.report.json.p7s -signer "$P/analyst.pem" -inkey "$P/analyst.key" \
	-certfile "$P/analyst-chain.pem" -md sha256
failed_on "a signature by another signer" report.signature "${TRUST[@]}" swap

fresh logline
sed -i 's/Evidence room 3/Evidence room 4/' logline/custody/log.jsonl
failed_on "a log line" custody.log "${TRUST[@]}" logline

fresh gap
"$CUSTOS_LOG" record gap/custody --type accessed --item HD-01 --event-time 2099-01-01T00:00:00Z \
	--reason "late access" -k "$P/prosecutor.key" -c "$P/prosecutor.pem" >/dev/null
verify "${TRUST[@]}" gap
expect "a long gap without --max-gap: still VERIFIED" test "$(verdict)" = VERIFIED
failed_on "a custody gap" custody.gap "${TRUST[@]}" --max-gap 30d gap
expect "the gap names its records" jqe '[.checks[] | select(.id == "custody.gap")][0].observed |
	test("records 4 to 5")' out.json
verify "${TRUST[@]}" --max-gap 36500d gap
expect "a gap within --max-gap: VERIFIED" test "$(verdict)" = VERIFIED

fresh destroyed
"$CUSTOS_LOG" record destroyed/custody --type destroyed --item HD-01 --reason "court order" \
	-k "$P/prosecutor.key" -c "$P/prosecutor.pem" >/dev/null
verify "${TRUST[@]}" destroyed
expect "destroyed, nothing after: VERIFIED" test "$(verdict)" = VERIFIED
expect "destroyed: the holder check says so" \
	jqe '.items["HD-01"].state == "destroyed"' out.json
"$CUSTOS_LOG" record destroyed/custody --type accessed --item HD-01 --reason "after the end" \
	-k "$P/prosecutor.key" -c "$P/prosecutor.pem" >/dev/null
failed_on "a record after destroyed" custody.continuity "${TRUST[@]}" destroyed

fresh holder   # a release by someone who does not hold the item
"$CUSTOS_LOG" release holder/custody --item HD-01 --to "Someone" --purpose test \
	-k "$P/analyst.key" -c "$P/analyst.pem" --chain "$P/analyst-chain.pem" >/dev/null
failed_on "a release by a non-holder" custody.continuity "${TRUST[@]}" holder

# A receipt for another bundle: the same authority acknowledging mla-043.
mkdir other && cp base/sample.E01 other/ &&
(cd other && R=$("$CUSTOS_BUNDLE" keygen -o age.key) &&
	"$CUSTOS_BUNDLE" create --request "$REQUEST" --sign-key "$P/prosecutor.key" \
	--sign-cert "$P/prosecutor.pem" --recipient "$R" -o mla-043 sample.E01 &&
	"$CUSTOS_BUNDLE" receipt -i age.key --trust "$P/ca.pem" \
	-k "$P/foreign-authority.key" -c "$P/foreign-authority.pem" --officer O \
	--authority "TEST-ONLY Foreign Authority" --storage S -o mla-043.receipt.json \
	mla-043.transfer-manifest.txt) >other.log 2>&1 || { cat other.log; fail "second bundle"; }
fresh receipt
cp other/mla-043.receipt.json receipt/mla-042.receipt.json
cp other/mla-043.receipt.json.p7s receipt/mla-042.receipt.json.p7s
failed_on "a receipt for another bundle" receipt.answers "${TRUST[@]}" receipt
fresh receipt2   # the receipt edited to name this bundle: its signature breaks
jq --arg id "$(jq -r .bundle_id base/mla-042.receipt.json)" '.bundle_id = $id' \
	other/mla-043.receipt.json >receipt2/mla-042.receipt.json
failed_on "an edited receipt" receipt.signature "${TRUST[@]}" receipt2

failed_on "the wrong trust anchor" report.chain --trust "$P/other-ca.pem" -i keys/age.key base

# An expired signer, no timestamp (signed by openssl, which lets it).
mkdir expired && "$CUSTOS_ACQUIRE" -q --evidence HD-09 -o expired/x "$SAMPLE" &&
openssl cms -sign -binary -cades -outform DER -in expired/x.report.json \
	-out expired/x.report.json.p7s -signer "$P/expired.pem" -inkey "$P/expired.key" -md sha256
failed_on "an expired signer without a timestamp" report.chain --trust "$P/ca.pem" expired
expect "expired: the reason is named" jqe '[.checks[] | select(.id == "report.chain")][0] |
	.observed == "expired"' out.json
# An untrusted signer: a CA the verifier does not trust.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout rogue.key \
	-out rogue.pem -days 30 -subj "/CN=Rogue Examiner/title=Forensic Examiner" 2>/dev/null
mkdir rogue && cp expired/x.report.json expired/x.E01 expired/x.sha256 rogue/ &&
openssl cms -sign -binary -cades -outform DER -in rogue/x.report.json \
	-out rogue/x.report.json.p7s -signer rogue.pem -inkey rogue.key -md sha256
failed_on "an untrusted signer" report.chain --trust "$P/ca.pem" rogue

# The custody export inside a plain bag folder: one byte of a record line.
"$CUSTOS_BUNDLE" open -i keys/age.key --trust "$P/ca.pem" -o bag \
	base/mla-042.transfer-manifest.txt >bag.log 2>&1 || { cat bag.log; fail "open"; }
verify --trust "$P/ca.pem" bag
expect "a plain bag folder: bundle.custody passed" test "$(result bundle.custody)" = passed
cp -a bag bag-room
sed -i '2,$s/Evidence room 3/Evidence room 4/' bag-room/metadata/custody.jsonl
expect "bag-room: the record line was changed" bash -c \
	"! cmp -s bag/metadata/custody.jsonl bag-room/metadata/custody.jsonl"
failed_on "a custody.jsonl record edited" bundle.custody --trust "$P/ca.pem" bag-room
cp -a bag bag-flip
flip bag-flip/metadata/custody.jsonl \
	$(( $(head -1 bag/metadata/custody.jsonl | wc -c) + 40 ))
failed_on "a custody.jsonl byte flipped" bundle.custody --trust "$P/ca.pem" bag-flip
cp -a bag bag-none
rm bag-none/metadata/custody.jsonl
verify --trust "$P/ca.pem" bag-none
expect "no custody.jsonl: bundle.custody not-checked" \
	test "$(result bundle.custody)" = not-checked
expect "... and not required" jqe '[.checks[] | select(.id == "bundle.custody")][0].required == false' out.json
# There but unreadable (here a FIFO): never passed off as absent.
cp -a bag bag-fifo
rm bag-fifo/metadata/custody.jsonl
mkfifo bag-fifo/metadata/custody.jsonl
failed_on "a custody.jsonl that cannot be read" bundle.custody \
	--trust "$P/ca.pem" bag-fifo

# ===================== INCOMPLETE =====================
fresh noimage
rm noimage/sample.E01
verify "${TRUST[@]}" noimage
expect "a missing image: INCOMPLETE, exit 1 (got $RC)" \
	test "$RC" -eq 1 -a "$(verdict)" = INCOMPLETE
expect "a missing image: the media checks say not-checked" \
	test "$(result media.hash.sha256)" = not-checked
expect "a missing image: the JSON says why" \
	jqe '.reason | test("media.*missing")' out.json
verify -i keys/age.key base
expect "no trust anchor: INCOMPLETE, exit 1" test "$RC" -eq 1 -a "$(verdict)" = INCOMPLETE
expect "no trust anchor: report.chain not-checked" test "$(result report.chain)" = not-checked
verify --trust "$P/ca.pem" base
expect "no age identity: INCOMPLETE" test "$(verdict)" = INCOMPLETE
expect "no age identity: bundle.decrypt not-checked" test "$(result bundle.decrypt)" = not-checked
mkdir alone && cp base/sample.report.json base/sample.report.json.p7s base/sample.E01 \
	base/sample.sha256 alone/
verify --trust "$P/ca.pem" alone
expect "no custody log: INCOMPLETE" test "$(verdict)" = INCOMPLETE
expect "no custody log: custody.acquired not-checked" test "$(result custody.acquired)" = not-checked
verify --trust "$P/ca.pem" base/sample.E01
expect "an image alone: INCOMPLETE (nothing to compare its hashes with)" \
	test "$(verdict)" = INCOMPLETE -a "$(result media.e01.chunks)" = passed

# ===================== hostile input =====================
mkfifo fifo
expect_status 2 "a FIFO target: refused, no hang" -- timeout 10 "$V" fifo
err_matches "FIFO" "the FIFO is named"
mkdir crowded && cp -a base/sample.* crowded/
(cd crowded && seq -f 'x%05g' 1 65536 | xargs touch)
expect_status 2 "a folder of more than 65536 entries: refused, not cut short" -- "$V" crowded
err_matches "more than 65536 entries" "the crowded folder is named"
rm -rf crowded
mkdir fifocase && cp -a base/sample.* fifocase/ && mkfifo fifocase/zz.report.json
verify --trust "$P/ca.pem" fifocase
expect "a FIFO inside a case folder is skipped, no hang (exit $RC)" test "$RC" -ne 124
fresh fifoimage && rm fifoimage/sample.E01 && mkfifo fifoimage/sample.E01
verify "${TRUST[@]}" fifoimage
expect "a FIFO in place of the image: FAILED, no hang (exit $RC)" \
	test "$RC" -eq 1 -a "$(result media.image)" = failed
mkdir garbage && head -c 3000 /dev/urandom >garbage/g.report.json
verify --trust "$P/ca.pem" garbage/g.report.json
expect "a garbage report: FAILED on report.format (exit $RC)" \
	test "$RC" -eq 1 -a "$(result report.format)" = failed
mkdir dup && jq -c . base/sample.report.json |
	sed 's/^{/{"custos_report":1,/' >dup/d.report.json
verify --trust "$P/ca.pem" dup/d.report.json
expect "repeated JSON keys: FAILED on report.format (exit $RC)" \
	test "$RC" -eq 1 -a "$(result report.format)" = failed
expect "repeated keys are named" jqe '[.checks[] | select(.id == "report.format")][0].detail |
	test("duplicate")' out.json
mkdir escape && jq '.image.files[0].name = "../../etc/passwd"' base/sample.report.json \
	>escape/e.report.json
verify --trust "$P/ca.pem" escape/e.report.json
expect "an image name outside the folder: FAILED" test "$(verdict)" = FAILED
printf '{"custos_report":1,"case":{"evidence_number":"X\\u001b[31mRED"},"hashes":{"md5":"00"},"image":{"files":[]},"source":{},"result":"complete"}' \
	>escape/ctl.report.json
timeout 60 "$V" --trust "$P/ca.pem" escape/ctl.report.json >out.txt 2>err.txt
expect "control characters are escaped in the text" sh -c \
	"grep -q 'X\\\\x1b\\[31mRED' out.txt && ! grep -q \$'\\x1b' out.txt"
expect_status 3 "a missing target: exit 3" -- "$V" nosuch.report.json
expect_status 2 "no target: usage" -- "$V"
expect_status 2 "a bad --max-gap: usage" -- "$V" --max-gap 3x base
expect_status 2 "an unknown option: usage" -- "$V" --bogus base
# ===================== admissibility profiles =====================
# profile FILE JSON-BODY: a profile with the given requirements.
profile() { printf '{"custos_profile": 1, "name": "test %s", %s}\n' "$1" "$2" >"$1.json"; }
# requirement ID [N]: the result of the Nth requirement with that id.
requirement() {
	jq -r --arg id "$1" --argjson n "${2:-0}" \
		'[.profile.requirements[] | select(.id == $id)][$n].result' out.json
}
# judged NAME ID WANT TARGET-ARGS...: run with profile NAME, ID is WANT.
judged() {
	local name=$1 id=$2 want=$3
	shift 3
	verify --profile "$name.json" "$@"
	local got
	got=$(requirement "$id")
	if [ "$got" = "$want" ]; then pass "profile $name: $id $want"
	else fail "profile $name: $id is $got, wanted $want; $(head -c 300 err.txt)"; fi
}
profile algs-met '"hash_algorithms": ["md5", "sha256"]'
judged algs-met hash_algorithms met "${TRUST[@]}" base
expect "a profile met: exit 0 (got $RC)" test "$RC" -eq 0
expect "json: profile met" jqe '.profile.met == true' out.json
profile algs-not '"hash_algorithms": ["sha512"]'
judged algs-not hash_algorithms not-met "${TRUST[@]}" base
expect "a profile not met: exit 1 although VERIFIED (got $RC)" \
	test "$RC" -eq 1 -a "$(verdict)" = VERIFIED
expect "the evidence names what is missing" jqe \
	'.profile.requirements[0].evidence | test("missing sha512")' out.json
profile role-met '"signer": {"roles": ["Forensic Examiner"]}'
judged role-met signer met "${TRUST[@]}" base
profile role-not '"signer": {"roles": ["Judge"]}'
judged role-not signer not-met "${TRUST[@]}" base
ISSUER=$(jq -r '.reports[0].signer.issuer' out.json)
profile ca-met "$(jq -cn --arg i "$ISSUER" '{signer: {issuers: [$i]}}' | sed 's/^{//; s/}$//')"
judged ca-met signer met "${TRUST[@]}" base
profile ca-not '"signer": {"issuers": ["CN=Some Other CA"]}'
judged ca-not signer not-met "${TRUST[@]}" base
profile ts '"trusted_timestamp": true'
judged ts trusted_timestamp not-met "${TRUST[@]}" base
profile ro '"source_read_only": true'
judged ro source_read_only not-met "${TRUST[@]}" base
profile legal '"legal_basis": true'
judged legal legal_basis not-met "${TRUST[@]}" base
profile two '"two_person_rule": true'
judged two two_person_rule met "${TRUST[@]}" base
expect "two-person: the bundle's receipt is by another person" \
	test "$(requirement two_person_rule 1)" = met
fresh self   # the prosecutor releases to and receives from himself
"$CUSTOS_LOG" release self/custody --item HD-01 --to "himself" --purpose test \
	-k "$P/prosecutor.key" -c "$P/prosecutor.pem" >/dev/null &&
"$CUSTOS_LOG" receive self/custody --answers 5 --storage here \
	-k "$P/prosecutor.key" -c "$P/prosecutor.pem" >/dev/null
judged two two_person_rule not-met "${TRUST[@]}" self
expect "two-person: the records are named" jqe \
	'.profile.requirements[0].evidence | test("records 5 and 6")' out.json
profile gap '"max_custody_gap": "30d"'
judged gap max_custody_gap met "${TRUST[@]}" base
judged gap max_custody_gap not-met "${TRUST[@]}" gap
profile fields '"request_fields": ["instrument.name", "instrument.article", "measure", "issuing_authority.name", "executing_authority.name"]'
judged fields request_fields met "${TRUST[@]}" base
judged fields request_fields not-applicable --trust "$P/ca.pem" base/sample.report.json
profile fields-not '"request_fields": ["offence.nope"]'
judged fields-not request_fields not-met "${TRUST[@]}" base
profile cond '"conditions_on_use": ["speciality"]'
judged cond conditions_on_use met "${TRUST[@]}" base
profile cond-not '"conditions_on_use": ["return_to_sender"]'
judged cond-not conditions_on_use not-met "${TRUST[@]}" base
# The met side of timestamp, read-only source and warrant: a report that
# says so, signed with a timestamp from a local TSA, logged as acquired.
if [ -n "${TSA_SERVER:-}" ] && [ -n "${CUSTOS_SIGN:-}" ]; then
	mkdir tsa
	TSA_DIR=$WORK/tsa TSA_PKI=$P "$TSA_SERVER" tsa/port tsa normal -- \
		openssl ts -reply -config "$SOURCE_ROOT/tests/tsa/tsa.cnf" -section tsa_test \
		-queryfile tsa/query.tsq -out tsa/reply.tsr 2>tsa/log &
	TSA_PID=$!
	trap 'kill $TSA_PID 2>/dev/null; rm -rf "$WORK"' EXIT
	for _ in $(seq 100); do [ -s tsa/port ] && break; sleep 0.05; done
	mkdir strict && cp base/sample.E01 base/sample.sha256 base/sample.blockmap strict/ &&
	jq '.source.read_only = true | .case.warrant = "TEST-ONLY order 7"' \
		base/sample.report.json >strict/sample.report.json &&
	"$CUSTOS_SIGN" sign --tsa "http://127.0.0.1:$(cat tsa/port)/tsa" \
		-k "$P/examiner.key" -c "$P/examiner.pem" strict/sample.report.json >/dev/null &&
	"$CUSTOS_LOG" init strict/custody --origin t.example/S --log-key keys/s.pem \
		--trust "$P/ca.pem" -k "$P/examiner.key" -c "$P/examiner.pem" >/dev/null &&
	"$CUSTOS_LOG" record strict/custody --type acquired --report strict/sample.report.json \
		-k "$P/examiner.key" -c "$P/examiner.pem" >/dev/null ||
		fail "making the strict case"
	profile strict '"trusted_timestamp": true, "source_read_only": true, "legal_basis": true'
	judged strict trusted_timestamp met --trust "$P/ca.pem" strict
	expect "strict: the case verifies (exit $RC)" test "$(verdict)" = VERIFIED
	expect "strict: report.timestamp passed" test "$(result report.timestamp)" = passed
	expect "strict: the chain was checked at the timestamp" \
		jqe '.reports[0].timestamp.chain_checked_at == "timestamp"' out.json
	expect "strict: source_read_only met" test "$(requirement source_read_only)" = met
	expect "strict: legal_basis met, naming the warrant" jqe \
		'[.profile.requirements[] | select(.id == "legal_basis")][0] |
		.result == "met" and (.evidence | test("TEST-ONLY order 7"))' out.json
else
	echo "SKIP: no TSA_SERVER/CUSTOS_SIGN: the met side of timestamp, read-only, warrant"
fi
printf '{"custos_profile": 1, "name": "x", "hash_algoritms": ["md5"]}' >typo.json
expect_status 2 "a profile with an unknown key: exit 2" -- "$V" --profile typo.json base
err_matches 'unknown key "hash_algoritms"' "the unknown key is named"
printf '{"custos_profile": 1, "name": "x", "max_custody_gap": "soon"}' >badval.json
expect_status 2 "a profile with a bad value: exit 2" -- "$V" --profile badval.json base
err_matches '"max_custody_gap"' "the bad key is named"
printf '{"custos_profile": 1, "name": "x", "signer": {"role": ["x"]}}' >badsub.json
expect_status 2 "a profile with an unknown nested key: exit 2" -- "$V" --profile badsub.json base
err_matches '"signer.role"' "the nested key is named"
for f in "$SOURCE_ROOT"/samples/profiles/*.json; do
	expect "shipped profile $(basename "$f") is marked EXAMPLE and loads" sh -c \
		"jq -e '.name | test(\"EXAMPLE\") and test(\"not legal advice\")' '$f' >/dev/null &&
		timeout 60 '$V' -q --profile '$f' --trust '$P/ca.pem' -i keys/age.key base >/dev/null;
		[ \$? -le 1 ]"
done
expect_status 0 "--help" -- "$V" --help
expect "--help names --max-gap" grep -q -- --max-gap out.txt
finish
