#!/bin/bash
# custos-log against a hostile log folder and hostile inputs (issue 9): a
# FIFO, where a file is expected, never hangs a command (each runs under
# `timeout 10`, so a hang fails instead of blocking the suite); planted
# symlinks are never followed; a forged tree.state never changes a tree
# head; repeated or contradictory keys and header lines are refused (the
# last value never wins); text that is not a record is shown escaped.
# Needs: CUSTOS_LOG, SOURCE_ROOT; openssl, timeout.
. "$(dirname "$0")/lib.sh"
L=$CUSTOS_LOG
for tool in openssl timeout mkfifo; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: no $tool" >&2; exit 77; }
done
bash "$SOURCE_ROOT/samples/pki/make-pki.sh" "$WORK/pki" >/dev/null 2>pki.err ||
	{ cat pki.err; echo "FAIL: make-pki.sh"; exit 1; }
P=$WORK/pki
EX=(-k "$P/examiner.key" -c "$P/examiner.pem")
KEY=$WORK/secret/log.key
T=(timeout 10)

"$L" init good --origin lab.example/hostile --log-key "$KEY" \
	--trust "$P/ca.pem" "${EX[@]}" -q >/dev/null 2>init.err ||
	{ cat init.err; echo "FAIL: init"; exit 1; }
for i in 1 2; do
	"$L" record good --type accessed --item HD-01 -q "${EX[@]}" ||
		{ echo "FAIL: record"; exit 1; }
done
"$L" checkpoint good --log-key "$KEY" -q || { echo "FAIL: checkpoint"; exit 1; }
fresh() { rm -rf "$1"; cp -a good "$1"; }

# ===================== FIFOs where files are expected =====================
fresh f1; rm f1/log.jsonl; mkfifo f1/log.jsonl
expect_status 3 "verify: log.jsonl is a FIFO" -- "${T[@]}" "$L" verify f1
err_matches 'FIFO' "the message says FIFO"
expect_status 3 "record: log.jsonl is a FIFO (no hang under the lock)" -- \
	"${T[@]}" "$L" record f1 --type accessed --item HD-01 "${EX[@]}"
expect_status 3 "show: log.jsonl is a FIFO" -- "${T[@]}" "$L" show f1
expect_status 3 "checkpoint: log.jsonl is a FIFO" -- \
	"${T[@]}" "$L" checkpoint f1 --log-key "$KEY"
expect_status 3 "prove: log.jsonl is a FIFO" -- "${T[@]}" "$L" prove f1 --seq 1

fresh f2; rm f2/sig/00000001.p7s; mkfifo f2/sig/00000001.p7s
expect_status 1 "verify: a record's signature is a FIFO" -- \
	"${T[@]}" "$L" verify f2 --threads 1
err_matches 'record 1' "the problem names record 1"

fresh f3; mkfifo f3/checkpoints/2.note
expect_status 1 "verify: a checkpoint note is a FIFO" -- "${T[@]}" "$L" verify f3
mkfifo f3/checkpoints/3.tsr
expect_status 1 "verify: a checkpoint time stamp is a FIFO" -- \
	"${T[@]}" "$L" verify f3
err_matches '3.tsr' "the problem names the time stamp"

fresh f4; rm f4/keys/log.vkey; mkfifo f4/keys/log.vkey
expect_status 3 "verify: keys/log.vkey is a FIFO" -- "${T[@]}" "$L" verify f4
expect_status 3 "checkpoint: keys/log.vkey is a FIFO" -- \
	"${T[@]}" "$L" checkpoint f4 --log-key "$KEY"

fresh f5; rm f5/keys/ca-0.pem; mkfifo f5/keys/ca-0.pem
expect_status 1 "verify: a pinned CA is a FIFO" -- "${T[@]}" "$L" verify f5

fresh f6; rm -f f6/tree.state; mkfifo f6/tree.state
expect_status 0 "record: tree.state is a FIFO (ignored, never read)" -- \
	"${T[@]}" "$L" record f6 --type accessed --item HD-01 "${EX[@]}"

mkfifo fields.fifo
expect_status 2 "record: --fields is a FIFO" -- "${T[@]}" "$L" record good \
	--type sealed --item HD-01 --fields fields.fifo "${EX[@]}"
err_matches 'FIFO' "the message says FIFO"
mkfifo vkey.fifo cp.fifo proof.fifo
expect_status 2 "verify: --vkey is a FIFO" -- "${T[@]}" "$L" verify good \
	--vkey vkey.fifo
expect_status 1 "verify: --checkpoint is a FIFO" -- "${T[@]}" "$L" verify good \
	--checkpoint cp.fifo
"$L" prove good --seq 1 > proof.txt 2>/dev/null
expect_status 2 "check-proof: the proof is a FIFO" -- "${T[@]}" "$L" \
	check-proof proof.fifo --vkey good/keys/log.vkey
expect_status 2 "check-proof: --vkey is a FIFO" -- "${T[@]}" "$L" \
	check-proof proof.txt --vkey vkey.fifo
expect_status 2 "prove --checkpoint is a FIFO" -- "${T[@]}" "$L" prove good \
	--seq 1 --checkpoint cp.fifo

# ===================== symlinks are never followed =====================
echo "the user's own file" > outside.txt
cp outside.txt outside.orig
fresh s1; mv s1/log.jsonl s1/real.jsonl; ln -s real.jsonl s1/log.jsonl
expect_status 3 "record: a symlinked log.jsonl is refused" -- \
	"${T[@]}" "$L" record s1 --type accessed --item HD-01 "${EX[@]}"
expect "the symlink's target is unchanged" cmp -s s1/real.jsonl good/log.jsonl

fresh s2; ln -s "$WORK/outside.txt" s2/tree.state.part
rm -f s2/tree.state; ln -s "$WORK/outside.txt" s2/tree.state
expect_status 0 "record with tree.state{,.part} planted as symlinks" -- \
	"${T[@]}" "$L" record s2 --type accessed --item HD-01 "${EX[@]}"
expect "the file outside is unchanged" cmp -s outside.txt outside.orig
expect "tree.state is still the planted symlink" test -L s2/tree.state

fresh s3; ln -s "$WORK/planted-sig" s3/sig/00000003.p7s
expect_status 0 "record over an orphaned signature that is a symlink" -- \
	"${T[@]}" "$L" record s3 --type accessed --item HD-01 "${EX[@]}"
expect "its target was not created" test ! -e "$WORK/planted-sig"
expect "the new signature is a regular file" test -f s3/sig/00000003.p7s -a \
	! -L s3/sig/00000003.p7s

fresh s4; mkdir "$WORK/elsewhere"; rmdir s4/quarantine
ln -s "$WORK/elsewhere" s4/quarantine
printf '{"torn":' >> s4/log.jsonl
expect_status 3 "recover: quarantine/ is a symlink" -- "${T[@]}" "$L" recover s4 \
	"${EX[@]}"
expect "nothing was written through it" test -z "$(ls -A "$WORK/elsewhere")"

fresh s5
"$L" record s5 --type accessed --item HD-01 -q "${EX[@]}" || fail "record s5"
ln -s "$WORK/planted-note" s5/checkpoints/4.note
expect_status 1 "checkpoint: checkpoints/4.note planted as a symlink" -- \
	"${T[@]}" "$L" checkpoint s5 --log-key "$KEY"
expect "its target was not created" test ! -e "$WORK/planted-note"

fresh s6; mkdir "$WORK/sig-elsewhere"; mv s6/sig/* "$WORK/sig-elsewhere/"
rmdir s6/sig; ln -s "$WORK/sig-elsewhere" s6/sig
ls "$WORK/sig-elsewhere" > sig-before.txt
expect_status 3 "record: sig/ is a symlink to elsewhere" -- "${T[@]}" "$L" record s6 \
	--type accessed --item HD-01 "${EX[@]}"
expect "nothing was written through it" \
	cmp -s sig-before.txt <(ls "$WORK/sig-elsewhere")
fresh s7; "$L" record s7 --type accessed --item HD-01 -q "${EX[@]}" ||
	fail "record s7"
mkdir "$WORK/cp-elsewhere"; mv s7/checkpoints/* "$WORK/cp-elsewhere/"
rmdir s7/checkpoints; ln -s "$WORK/cp-elsewhere" s7/checkpoints
expect_status 3 "checkpoint: checkpoints/ is a symlink to elsewhere" -- \
	"${T[@]}" "$L" checkpoint s7 --log-key "$KEY"
expect "no note was written through it" test ! -e "$WORK/cp-elsewhere/4.note"

ln -s "$WORK/planted-proof" proof.link
expect_status 3 "prove --output onto a planted symlink" -- "$L" prove good \
	--seq 1 --output proof.link
expect "its target was not created" test ! -e "$WORK/planted-proof"
"$L" prove good --seq 1 --output proof.out 2>/dev/null
expect_status 3 "prove --output never replaces a file" -- "$L" prove good \
	--seq 1 --output proof.out

# ===================== a forged tree.state =====================
fresh t1
"$L" verify good > v.out 2>&1
printf 'custos-tree-state 1\nsize 3\n%s\n%s\n' \
	"$(printf 'a%.0s' $(seq 64))" "$(printf 'b%.0s' $(seq 64))" > t1/tree.state
expect_status 0 "record over a forged tree.state" -- "$L" record t1 \
	--type accessed --item HD-01 "${EX[@]}"
recorded=$(sed -n 's/.*tree head \([^)]*\)).*/\1/p' out.txt)
expect_status 0 "the log still verifies" -- "$L" verify t1
verified=$(sed -n 's/.*tree head \(.*\)$/\1/p' out.txt)
expect "record's tree head is the log's, not the forged cache's" \
	test -n "$recorded" -a "$recorded" = "$verified"
expect_status 0 "checkpoint after the forged cache" -- "$L" checkpoint t1 \
	--log-key "$KEY" -q
expect "the checkpoint's tree head is the log's" \
	test "$(sed -n 3p t1/checkpoints/4.note)" = "$verified"

# ===================== repeated or contradictory keys =====================
echo '{"seal_id": "S-1", "seal_id": "S-2"}' > dup.json
expect_status 2 "--fields with a repeated key is refused" -- "$L" record good \
	--type sealed --item HD-01 --fields dup.json "${EX[@]}"
expect_status 2 "--field given twice for one key is refused" -- "$L" record good \
	--type sealed --item HD-01 --field seal_id=S-1 --field seal_id=S-2 "${EX[@]}"
echo '{"seal_id": "S-1"}' > one.json
expect_status 2 "--field contradicting --fields is refused" -- "$L" record good \
	--type sealed --item HD-01 --fields one.json --field seal_id=S-2 "${EX[@]}"
echo '{"to": "someone else"}' > to.json
expect_status 2 "release: --fields naming another recipient is refused" -- \
	"$L" release good --item HD-01 --to "Prosecutor" --fields to.json "${EX[@]}"

expect_status 2 "record --type received that answers nothing is refused" -- \
	"$L" record good --type received --item HD-01 "${EX[@]}"

fresh d1
sed -i '$ s/"seq":2,/"seq":2,"seq":2,/' d1/log.jsonl
expect_status 3 "record after a last line with a repeated key is refused" -- \
	"$L" record d1 --type accessed --item HD-01 "${EX[@]}"
expect_status 1 "verify refuses the repeated key" -- "$L" verify d1

# vkeys: one key, one line.
{ cat good/keys/log.vkey; cat good/keys/log.vkey; } > two.vkey
expect_status 3 "verify --vkey with two key lines is refused" -- "$L" verify good \
	--vkey two.vkey
expect_status 1 "check-proof --vkey with two key lines is refused" -- "$L" \
	check-proof proof.txt --vkey two.vkey

# Proofs: every header line once.
awk 'NR == 3 { print } { print }' proof.txt > dup-index.txt
expect_status 1 "check-proof: a repeated index line" -- "$L" check-proof \
	dup-index.txt --vkey good/keys/log.vkey
awk 'NR == 2 { print } { print }' proof.txt > dup-extra.txt
expect_status 1 "check-proof: a repeated extra line" -- "$L" check-proof \
	dup-extra.txt --vkey good/keys/log.vkey
"$L" prove good --from 1 --to 3 > cons.txt 2>/dev/null ||
	fail "prove --from 1 --to 3"
awk 'NR == 2 { print } { print }' cons.txt > dup-old.txt
expect_status 1 "check-proof: a repeated old line" -- "$L" check-proof \
	dup-old.txt --vkey good/keys/log.vkey

# ===================== text =====================
fresh x1
printf '{"reason":"\xff\xfe\x1b[31m"}\n' >> x1/log.jsonl
expect_status 0 "show a log with a line that is not valid UTF-8" -- "$L" show x1
expect "the bytes are shown escaped, not dropped" grep -qF '\xff\xfe\x1b' out.txt
expect "no raw escape reaches the terminal" test -z "$(grep -l $'\x1b' out.txt)"

finish
