#!/bin/bash
# custos-log from the command line: a custody log made, added to, shown,
# proven and verified; every tamper case of issue 5 pinned to exit 1 and its
# message; and the same verdict from the reference verifier
# (tools/verify-log.sh: POSIX shell, coreutils, openssl) on every log.
# Needs: CUSTOS_LOG, SOURCE_ROOT; openssl, dash.
. "$(dirname "$0")/lib.sh"
L=$CUSTOS_LOG
REF="$SOURCE_ROOT/tools/verify-log.sh"
for tool in openssl dash basenc; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: no $tool" >&2; exit 77; }
done
bash "$SOURCE_ROOT/samples/pki/make-pki.sh" "$WORK/pki" >/dev/null 2>pki.err ||
	{ cat pki.err; echo "FAIL: make-pki.sh"; exit 1; }
P=$WORK/pki
EX=(-k "$P/examiner.key" -c "$P/examiner.pem")
PR=(-k "$P/prosecutor.key" -c "$P/prosecutor.pem")

# same_verdict DIR WANT DESCRIPTION [verify options]: custos-log verify
# and the reference verifier both exit WANT.
same_verdict() {
	local dir=$1 want=$2 what=$3
	shift 3
	local ref_args=()
	while [ $# -gt 0 ]; do
		case $1 in
		--checkpoint) ref_args+=(-c "$2"); shift 2 ;;
		--vkey) ref_args+=(-k "$2"); shift 2 ;;
		--trust) ref_args+=(-t "$2"); shift 2 ;;
		*) shift ;;
		esac
	done
	dash "$REF" "${ref_args[@]}" "$dir" >ref.out 2>ref.err
	local got=$?
	if [ "$got" -eq "$want" ]; then
		pass "reference verifier: $what (exit $got)"
	else
		fail "reference verifier: $what: exit $got, wanted $want: $(head -c 300 ref.err)"
	fi
}

# tamper NAME: a fresh copy of the good log in NAME.
tamper() { rm -rf "$1"; cp -a good "$1"; }

# ===================== a good log =====================
expect_status 0 "custos-log --help" -- "$L" --help
expect_status 0 "custos-log verify --help" -- "$L" verify --help
expect "help lists --checkpoint" grep -q -- '--checkpoint' out.txt
expect_status 2 "no command" -- "$L"
expect_status 2 "unknown command" -- "$L" frobnicate x
expect_status 3 "verify a folder that is not a log" -- "$L" verify nolog
expect_status 2 "prove without --seq or --from/--to" -- "$L" prove nolog
echo garbage > garbage.txt
expect_status 2 "check-proof without --vkey" -- "$L" check-proof garbage.txt
expect_status 2 "init without --origin" -- "$L" init x "${EX[@]}"
expect_status 2 "init without a key" -- "$L" init x --origin a.example/x

expect_status 0 "init" -- "$L" init good --origin lab.example/case-2026-001 \
	--log-key "$WORK/secret/log.key" --trust "$P/ca.pem" --case 2026-001 "${EX[@]}"
expect "the log key is outside the log, mode 0600" \
	test "$(stat -c %a "$WORK/secret/log.key")" = 600
expect "keys/ holds only public material" \
	test -z "$(grep -l PRIVATE good/keys/* 2>/dev/null)"
expect "VERIFY.md shipped" test -s good/VERIFY.md
expect_status 3 "init refuses an existing log" -- "$L" init good \
	--origin lab.example/x --log-key "$WORK/secret/other.key" "${EX[@]}"
expect_status 2 "init refuses a log key inside the log" -- "$L" init inside \
	--origin lab.example/y --log-key "$WORK/inside/k/log.key" "${EX[@]}"

expect_status 0 "record acquired" -- "$L" record good --type acquired \
	--item HD-01 --case 2026-001 --location "Lab 2" --reason "warrant 17/2026" \
	--field method=dd --hash sha256:abc "${EX[@]}"
expect "record prints the new tree head" grep -q 'recorded: 1 acquired (tree head' out.txt
cat > fields.json <<'JSON'
{"seal_id": "S-0042", "condition": "intact"}
JSON
expect_status 0 "record sealed with --fields" -- "$L" record good --type sealed \
	--item HD-01 --fields fields.json "${EX[@]}"
echo '{"x": 1.5}' > float.json
expect_status 2 "floats refused" -- "$L" record good --type sealed --item HD-01 \
	--fields float.json "${EX[@]}"
echo '{"seq": 99}' > clash.json
expect_status 2 "extra fields may not replace common ones" -- "$L" record good \
	--type sealed --item HD-01 --fields clash.json "${EX[@]}"
expect_status 2 "an event time that is not RFC 3339 UTC is refused" -- "$L" record good \
	--type sealed --item HD-01 --event-time "yesterday" "${EX[@]}"
expect_status 2 "unknown type refused" -- "$L" record good --type teleported \
	--item HD-01 "${EX[@]}"
expect_status 0 "release to the prosecutor" -- "$L" release good --item HD-01 \
	--to "Public Prosecutor" --purpose trial --carrier courier --seal "S-0042 intact" \
	"${EX[@]}"
expect_status 2 "receive of a record that is not a release" -- "$L" receive good \
	--answers 1 "${PR[@]}"
expect_status 0 "receive, signed by the prosecutor" -- "$L" receive good \
	--answers 3 --seal "S-0042 intact" --storage "Vault 3" "${PR[@]}"
# An analyst certified by the lab CA (an intermediate under the root):
# the chain travels in the signature.
expect_status 0 "record by an analyst with an intermediate CA (--chain)" -- \
	"$L" record good --type accessed --item HD-01 --reason "hash check" \
	-k "$P/analyst.key" -c "$P/analyst.pem" --chain "$P/lab-ca.pem"
expect_status 0 "an append computes the tree head from the log" -- "$L" record \
	good --type sealed --item HD-01 --field seal_id=S-0043 "${EX[@]}"
expect "no tree.state cache is written (nothing to trust beside the log)" \
	test ! -e good/tree.state
expect_status 0 "checkpoint" -- "$L" checkpoint good --log-key "$WORK/secret/log.key"
expect "checkpoints/7.note written" test -s good/checkpoints/7.note
expect_status 3 "checkpoint with a key that is not Ed25519 is refused" -- "$L" checkpoint good \
	--log-key "$P/../pki/examiner.key"

expect_status 0 "verify a good log" -- "$L" verify good
expect "verify says VERIFIED with 7 records" grep -q 'VERIFIED: 7 records, 2 checkpoints' out.txt
same_verdict good 0 "good log"
expect_status 0 "verify --json" -- "$L" verify --json good
expect "json verdict" grep -q '"verdict": "VERIFIED"' out.txt
expect_status 0 "verify with --vkey and --trust" -- "$L" verify good \
	--vkey good/keys/log.vkey --trust "$P/ca.pem" --threads 1
expect_status 0 "show" -- "$L" show good
expect "show lists the transfer" grep -q 'released.*HD-01.*to Public Prosecutor' out.txt
expect "show lists the receipt" grep -q 'received.*answers 3' out.txt
expect_status 0 "show --item --json" -- "$L" show good --item HD-01 --json
expect "show --json is JSON with 7 records" test "$(jq length out.txt)" = 7

# Records are canonical: sorted keys, no whitespace; prev chains lines.
expect "records are canonical JSON (jq -cS gives the same bytes)" \
	cmp -s good/log.jsonl <(jq -cS . good/log.jsonl)
expect "prev of record 1 is the SHA-256 of line 0" test \
	"$(sed -n 2p good/log.jsonl | jq -r .prev)" = "$(sed -n 1p good/log.jsonl | sha256sum | cut -c1-64)"
sed -n 4p good/log.jsonl > line3
expect "openssl cms -verify accepts a record signature" openssl cms -verify \
	-binary -inform DER -in good/sig/00000003.p7s -content line3 \
	-CAfile "$P/ca.pem" -out /dev/null
expect "the actor is the signer's certificate" test \
	"$(jq -r .actor.cert_sha256 line3)" = \
	"$(openssl x509 -in "$P/examiner.pem" -outform DER | sha256sum | cut -c1-64)"
# The checkpoint note signature, with plain openssl.
head -n 3 good/checkpoints/7.note > cp.text
tail -n 1 good/checkpoints/7.note | cut -d' ' -f3 | base64 -d | tail -c 64 > cp.sig
expect "openssl pkeyutl -verify -rawin accepts the checkpoint" openssl pkeyutl \
	-verify -pubin -inkey good/keys/log.pub.pem -rawin -in cp.text -sigfile cp.sig

# ---- signed notes with more than one signature line (C2SP signed-note) ----
# The log key's line is picked by name AND key ID; other lines (a witness
# cosignature, another key of the same name) are ignored; a failing
# signature by the log key itself rejects the note.
KNAME=$(cut -d+ -f1 good/keys/log.vkey)
rnd() { head -c "$1" /dev/urandom | base64 -w0; }
tamper cosigned
printf '\342\200\224 witness.example/w1 %s\n' "$(rnd 76)" >> cosigned/checkpoints/7.note
expect_status 0 "custos-log: a witness cosignature after the log's line" -- \
	"$L" verify cosigned
same_verdict cosigned 0 "a witness cosignature after the log's line"
tamper samename
{ head -n 4 good/checkpoints/7.note
  printf '\342\200\224 %s %s\n' "$KNAME" "$(rnd 68)"
  tail -n 1 good/checkpoints/7.note; } > samename/checkpoints/7.note
expect_status 0 "custos-log: another key's line of the same name first" -- \
	"$L" verify samename
same_verdict samename 0 "another key's line of the same name comes first"
tamper badsig
KID=$(cut -d+ -f2 good/keys/log.vkey)
forged_sig() {
	{ printf '%s' "$KID" | tr a-f A-F | basenc --base16 -d
	  head -c 64 /dev/urandom; } | base64 -w0
}
{ cat good/checkpoints/7.note
  printf '\342\200\224 %s %s\n' "$KNAME" "$(forged_sig)"; } > badsig/checkpoints/7.note
expect_status 1 "custos-log: a second, failing signature by the log key" -- \
	"$L" verify badsig
same_verdict badsig 1 "a second, failing signature by the log key"

# ---- the VERIFY.md recipe, run as written inside the log folder ----
recipe=$(sed -n '/^    N=/,/REJECTED/p' good/VERIFY.md | sed 's/^    //')
expect "VERIFY.md has a checkpoint recipe" test -n "$recipe"
printf '%s\n' "$recipe" | sed 's/^N=.*/N=7/' > recipe.sh
for d in good cosigned samename; do
	before=$(cd "$d" && find . | sort | sha256sum)
	(cd "$d" && sh ../recipe.sh) >recipe.out 2>recipe.err
	rc=$?
	expect "VERIFY.md recipe in $d: exit 0 and the signature verified" \
		test "$rc" -eq 0 -a "$(grep -c 'Signature Verified Successfully' recipe.out)" -eq 1
	expect "VERIFY.md recipe wrote nothing into $d" \
		test "$(cd "$d" && find . | sort | sha256sum)" = "$before"
done
(cd badsig && sh ../recipe.sh) >recipe.out 2>recipe.err
expect "VERIFY.md recipe rejects a failing log-key signature" test $? -ne 0

# ===================== proofs =====================
expect_status 0 "prove --seq 3" -- "$L" prove good --seq 3 -o proof3
expect "a C2SP tlog-proof" test "$(head -n 1 proof3)" = "c2sp.org/tlog-proof@v1"
expect_status 0 "check-proof (without the log)" -- "$L" check-proof proof3 --vkey good/keys/log.vkey
expect "check-proof names the record" grep -q 'record 3 (released)' out.txt
sed 's/^index 3$/index 2/' proof3 > proof-bad
expect_status 1 "check-proof refuses a proof for another index" -- "$L" check-proof proof-bad --vkey good/keys/log.vkey
awk 'NR==4 { $0 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" } { print }' proof3 > proof-bad
expect_status 1 "check-proof refuses a changed proof hash" -- "$L" check-proof proof-bad --vkey good/keys/log.vkey
expect_status 1 "check-proof refuses garbage" -- "$L" check-proof garbage.txt --vkey good/keys/log.vkey
expect_status 3 "prove a record that does not exist" -- "$L" prove good --seq 999
expect_status 0 "prove --from 1 --to 7" -- "$L" prove good --from 1 --to 7 -o cons
expect_status 0 "check-proof consistency" -- "$L" check-proof cons --vkey good/keys/log.vkey
expect "consistency summary" grep -q 'records extends the log of 1 records' out.txt

# ===================== tamper cases =====================
# Each: custos-log verify exits 1 with its message; the reference verifier
# exits 1 too.
check_tamper() {  # DIR DESCRIPTION REGEX [verify options]
	local dir=$1 what=$2 re=$3
	shift 3
	expect_status 1 "$what" -- "$L" verify "$dir" "$@"
	err_matches "$re" "$what: message"
	printf '%s\n  -> %s\n' "$what" "$(grep -E "$re" err.txt | head -n 1)" >> tamper-messages.txt
	same_verdict "$dir" 1 "$what" "$@"
}

tamper changed
sed -i '3s/intact/broken/' changed/log.jsonl
check_tamper changed "a changed byte" 'record 2: signature sig/00000002.p7s does not match'

tamper deleted
sed -i '3d' deleted/log.jsonl
check_tamper deleted "a deleted line" 'line 2 holds record 3: record 2 was deleted'

tamper reordered
{ sed -n '1,2p' good/log.jsonl; sed -n 4p good/log.jsonl; sed -n 3p good/log.jsonl; sed -n '5,$p' good/log.jsonl; } > reordered/log.jsonl
check_tamper reordered "reordered lines" 'line 2 holds record 3 and record 2 is at line 3: the lines were reordered'

tamper duplicated
{ sed -n '1,3p' good/log.jsonl; sed -n 3p good/log.jsonl; sed -n '4,$p' good/log.jsonl; } > duplicated/log.jsonl
check_tamper duplicated "a duplicated line" 'line 3 repeats record 2: a duplicated line'

tamper truncated
sed -i '7d' truncated/log.jsonl
check_tamper truncated "truncation below a checkpoint" 'truncated: checkpoints/7.note, signed by the log key, covers 7 records but the log has only 6'

# A fork: the same log key signs two different histories.
tamper forkA
tamper forkB
"$L" record forkA --type accessed --item HD-01 --reason "imaging check" "${EX[@]}" >/dev/null
"$L" record forkB --type destroyed --item HD-01 --reason "oops" "${EX[@]}" >/dev/null
"$L" checkpoint forkA --log-key "$WORK/secret/log.key" >/dev/null
"$L" checkpoint forkB --log-key "$WORK/secret/log.key" >/dev/null
expect_status 0 "each fork alone verifies" -- "$L" verify forkB
check_tamper forkA "two checkpoints that disagree (a fork)" \
	'fork: checkpoint .*forkB/checkpoints/8.note and checkpoints/8.note are both signed by the log key|fork: .* both signed by the log key' \
	--checkpoint "$WORK/forkB/checkpoints/8.note"

tamper swapped
mv swapped/sig/00000001.p7s swapped/sig/tmp && mv swapped/sig/00000002.p7s swapped/sig/00000001.p7s &&
	mv swapped/sig/tmp swapped/sig/00000002.p7s
check_tamper swapped "swapped signature files" 'record 1: signature sig/00000001.p7s does not match the record.s bytes'

tamper missing
rm missing/sig/00000003.p7s
check_tamper missing "a missing signature file" 'record 3: its signature file sig/00000003.p7s is missing'

# Record 1 names the examiner; re-sign its exact bytes as the prosecutor.
tamper otheractor
sed -n 2p good/log.jsonl > line1
openssl cms -sign -binary -in line1 -signer "$P/prosecutor.pem" -inkey "$P/prosecutor.key" \
	-outform DER -out otheractor/sig/00000001.p7s 2>/dev/null
check_tamper otheractor "a record signed by a certificate other than its actor's" \
	'record 1: signed by certificate [0-9a-f]+\.\.\. \(.*Prosecutor.*\), not by its actor.s certificate'

# A wrong log key: the verifier trusts another key; and keys/ replaced.
"$L" init other --origin lab.example/case-2026-001 --log-key "$WORK/secret/other.key" \
	--trust "$P/ca.pem" "${EX[@]}" >/dev/null
expect_status 2 "checkpoint with another log's key is refused" -- "$L" checkpoint good \
	--log-key "$WORK/secret/other.key"
tamper wrongkey
check_tamper wrongkey "a wrong log key (the verifier's)" \
	'wrong log key: the genesis record names a different log key than the one you trust' \
	--vkey other/keys/log.vkey
tamper rekeyed
cp other/keys/log.vkey other/keys/log.pub.pem rekeyed/keys/
check_tamper rekeyed "a wrong log key (keys/ replaced)" 'wrong log key'
tamper forged
sed -i '3s/^.\{8\}/AAAAAAAA/' forged/checkpoints/7.note
check_tamper forged "a forged checkpoint" 'checkpoints/7.note is not signed by the log key'

# A receive that answers no release.
tamper norelease
cat > ans.json <<JSON
{"answers": {"seq": 1, "sha256": "$(sed -n 2p good/log.jsonl | sha256sum | cut -c1-64)"}}
JSON
"$L" record norelease --type received --item HD-01 --fields ans.json "${PR[@]}" >/dev/null
check_tamper norelease "a receive with no matching release" \
	'record 7 \(received\) answers record 1, which is acquired, not a release'

tamper untrusted
check_tamper untrusted "signatures from an untrusted CA" \
	'not issued by a trusted CA' --trust "$P/other-ca.pem"

tamper capinned
cp "$P/other-ca.pem" capinned/keys/ca-0.pem
check_tamper capinned "a replaced pinned CA" 'was replaced'

# ===================== torn line and recovery =====================
tamper torn
printf '{"actor":{"cert_sha' >> torn/log.jsonl
check_tamper torn "a torn last line" 'torn last line: 19 bytes after the last LF'
expect_status 0 "recover" -- "$L" recover torn "${EX[@]}"
expect "recover says so" grep -q 'recovered' out.txt
expect "the torn bytes are in quarantine/" test "$(cat torn/quarantine/torn-line-*)" = '{"actor":{"cert_sha'
expect "a recovery record names the quarantined file" \
	grep -q '"type":"recovery"' torn/log.jsonl
expect_status 0 "the recovered log verifies" -- "$L" verify torn
same_verdict torn 0 "recovered log"
printf 'xx' >> torn/log.jsonl
expect_status 0 "an append recovers a torn line by itself" -- "$L" record torn \
	--type accessed --item HD-01 "${EX[@]}"
expect "two records: recovery, then the new one" \
	test "$(tail -n 2 torn/log.jsonl | jq -r .type | tr '\n' ' ')" = "recovery accessed "
expect_status 0 "and verifies" -- "$L" verify torn

# An orphaned signature (append killed after signing): a note, not a failure.
tamper orphan
cp orphan/sig/00000004.p7s orphan/sig/00000007.p7s
expect_status 0 "an orphaned signature file is only a note" -- "$L" verify orphan
err_matches 'note: sig/00000007.p7s belongs to no record' "orphan note"
expect_status 0 "the next append moves it to quarantine" -- "$L" record orphan \
	--type accessed --item HD-01 "${EX[@]}"
expect "orphan quarantined" test -n "$(ls orphan/quarantine/orphan-sig-7-* 2>/dev/null)"
expect_status 0 "and the log verifies" -- "$L" verify orphan

# ===================== an acquisition report (custos-acquire --log) =====================
if [ -n "${CUSTOS_ACQUIRE:-}" ] && [ -x "$CUSTOS_ACQUIRE" ]; then
	mkdir -p acq
	"$CUSTOS_ACQUIRE" -q --case 2026-001 --evidence HD-02 --examiner "Test Examiner" \
		-o acq/hd02 "$SOURCE_ROOT/samples/sample.img" >/dev/null 2>acq.err
	expect "custos-acquire made a report" test -s acq/hd02.report.json
	expect_status 0 "record --type acquired --report" -- "$L" record good \
		--type acquired --report acq/hd02.report.json "${EX[@]}"
	tail -n 1 good/log.jsonl > acqline
	expect "the acquired record carries the report's SHA-256" test \
		"$(jq -r .report.sha256 acqline)" = "$(sha256sum < acq/hd02.report.json | cut -c1-64)"
	expect "and the media hashes" test \
		"$(jq -cS .hashes acqline)" = "$(jq -cS .hashes acq/hd02.report.json)"
	expect "and the evidence number as its item" test "$(jq -r '.items[0]' acqline)" = HD-02
	expect "and no nulls or floats" test "$(jq '[.. | select(. == null or (type == "number" and . != floor))] | length' acqline)" = 0
	expect_status 0 "the log still verifies" -- "$L" verify good
	same_verdict good 0 "log with an acquired record"
	# custos-acquire --log: the same record, written by the acquisition.
	expect_status 2 "--log without a signing identity is a usage error" -- \
		"$CUSTOS_ACQUIRE" -q --log good -o acq/x "$SOURCE_ROOT/samples/sample.img"
	expect_status 3 "--log to a folder that is no log, before imaging" -- \
		"$CUSTOS_ACQUIRE" -q --log nolog --sign-key "$P/examiner.key" \
		--sign-cert "$P/examiner.pem" -o acq/y "$SOURCE_ROOT/samples/sample.img"
	expect "nothing imaged for a bad --log" test ! -e acq/y.E01
	before=$(wc -l < good/log.jsonl)
	expect_status 0 "custos-acquire --log appends while acquiring" -- \
		"$CUSTOS_ACQUIRE" -q --evidence HD-03 --sign-key "$P/examiner.key" \
		--sign-cert "$P/examiner.pem" --log good -o acq/hd03 \
		"$SOURCE_ROOT/samples/sample.img"
	expect "one more record" test "$(wc -l < good/log.jsonl)" -eq $((before + 1))
	tail -n 1 good/log.jsonl > acqline3
	expect "it is an acquired record for HD-03" test \
		"$(jq -r '.type + " " + .items[0]' acqline3)" = "acquired HD-03"
	expect "it carries that report's SHA-256" test "$(jq -r .report.sha256 acqline3)" = \
		"$(sha256sum < acq/hd03.report.json | cut -c1-64)"
	expect_status 0 "the log verifies after custos-acquire --log" -- "$L" verify good
	same_verdict good 0 "log with custos-acquire's record"
fi

tamper evt
expect_status 0 "a stated event time" -- "$L" record evt --type sealed --item HD-01 \
	--event-time 2026-11-27T10:00:00Z --location "Lab 2" "${EX[@]}"
expect "is kept beside recorded_at" test \
	"$(tail -n 1 evt/log.jsonl | jq -r .event_time)" = 2026-11-27T10:00:00Z

# ===================== a time-stamped checkpoint =====================
if [ -n "${TSA_SERVER:-}" ] && [ -x "$TSA_SERVER" ]; then
	tdir=$WORK/tsa
	mkdir -p "$tdir"
	TSA_DIR=$tdir TSA_PKI=$P "$TSA_SERVER" "$tdir/port" "$tdir" normal -- \
		openssl ts -reply -config "$SOURCE_ROOT/tests/tsa/tsa.cnf" \
		-section tsa_test -queryfile "$tdir/query.tsq" \
		-out "$tdir/reply.tsr" 2>"$tdir/log" &
	TSA_PID=$!
	trap 'kill "$TSA_PID" 2>/dev/null; rm -rf "$WORK"' EXIT
	for _ in $(seq 100); do [ -s "$tdir/port" ] && break; sleep 0.05; done
	"$L" record good --type verified --item HD-01 --reason "seal check" "${EX[@]}" >/dev/null
	n=$(wc -l < good/log.jsonl)
	expect_status 0 "checkpoint --tsa" -- "$L" checkpoint good \
		--log-key "$WORK/secret/log.key" --tsa "http://127.0.0.1:$(cat "$tdir/port")/tsa"
	expect "checkpoints/$n.tsr written" test -s "good/checkpoints/$n.tsr"
	expect "openssl ts -verify accepts the checkpoint's time stamp" sh -c \
		"openssl ts -verify -in good/checkpoints/$n.tsr -data good/checkpoints/$n.note -CAfile '$P/ca.pem' 2>&1 | grep -q 'Verification: OK'"
	expect_status 0 "the log verifies, with its time stamp" -- "$L" verify good
	tamper badtsr
	printf '\x30' | dd of="badtsr/checkpoints/$n.tsr" bs=1 seek=40 conv=notrunc 2>/dev/null
	expect_status 1 "a damaged checkpoint time stamp" -- "$L" verify badtsr
	err_matches "checkpoints/$n.tsr: its time stamp does not verify" "time stamp message"
	printf '%s\n  -> %s\n' "a damaged checkpoint time stamp" "$(grep -E 'tsr: its time stamp' err.txt | head -n 1)" >> tamper-messages.txt
fi

echo "---- tamper cases and messages ----"
cat tamper-messages.txt
finish
