#!/bin/bash
# custos-bundle against a hostile user and a hostile sender (issue 9):
#  1. repeated or contradictory header lines in every format it parses
#     (transfer manifest, bagit.txt, bag-info.txt, manifests, fetch.txt,
#     request.json) are refused, and the last value never wins;
#  2. a FIFO, device or socket where a file is expected is refused at once
#     (every command runs under `timeout 10`): exit 1 when the bundle names
#     it (a part, a signature, a bag member), 2 when the command line does;
#  3. outputs are exclusive: a planted symlink at any output name is never
#     followed, a second create with the same -o refuses at once (exit 3);
#  4. a failure at each step of committing a bundle or a receipt (fault
#     injection through an LD_PRELOAD shim) exits 3, names the step and the
#     file, and leaves nothing under a final name;
#  5. open never writes outside its folder, even with a symlink planted in
#     it during the run;
#  6. names with spaces, accents, Arabic and CJK round-trip through create,
#     verify and open under several locales, checked with age -d, bsdtar,
#     GNU tar and sha512sum/sha256sum -c.
# Needs: CUSTOS_BUNDLE, CUSTOS_SIGN, FAULT_SHIM, SOURCE_ROOT; age,
# age-keygen, bsdtar, tar, openssl, jq, timeout.
. "$(dirname "$0")/lib.sh"
B=$CUSTOS_BUNDLE
for tool in age age-keygen bsdtar openssl tar jq timeout sha512sum; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: no $tool" >&2; exit 77; }
done
bash "$SOURCE_ROOT/samples/pki/make-pki.sh" "$WORK/pki" >/dev/null 2>pki.err ||
	{ cat pki.err; echo "FAIL: make-pki.sh"; exit 1; }
P=$WORK/pki
T="timeout 10"
SIGN=(-k "$P/prosecutor.key" -c "$P/prosecutor.pem")

cat >request.json <<'JSON'
{
  "instrument": {"name": "Budapest Convention", "article": "31"},
  "measure": "letter-of-request",
  "requesting_authority": {"name": "TEST-ONLY Foreign Authority", "country": "FR"},
  "requested_authority": {"name": "TEST-ONLY Public Prosecutor", "country": "AT"},
  "references": {"request": "MLA-2026-042", "case": "DEMO-2026-001"}
}
JSON
head -c 150000 /dev/urandom >img.raw
age-keygen -o fa.key 2>/dev/null
R=$(age-keygen -y fa.key)
mkdir out
expect_status 0 "create: the reference bundle (3 parts)" -- $T $B create \
	--request request.json "${SIGN[@]}" -r "$R" --split 64K -o out/b img.raw
ID=$(sed -n 's/^bundle: //p' out.txt)
V=(-i fa.key --trust "$P/ca.pem")

# resign DIR NAME: sign DIR/NAME as the sending authority (a forger who
# holds a good key, or a confused re-issuing authority).
resign() {
	rm -f "$1/$2.p7s"
	"$CUSTOS_SIGN" sign -q "${SIGN[@]}" "$1/$2"
}
# manifest_variant NAME SED: a copy of the bundle whose transfer manifest
# is edited by SED and signed again.
manifest_variant() {
	rm -rf "v-$1" && cp -r out "v-$1"
	sed -i "$2" "v-$1/b.transfer-manifest.txt"
	resign "v-$1" b.transfer-manifest.txt
}

# ===================== 1. repeated header lines =====================
manifest_variant ok 's/^Encryption/Encryption/'
expect_status 0 "a re-signed but unchanged manifest still verifies" -- \
	$T $B verify "${V[@]}" v-ok/b.transfer-manifest.txt
for h in Custos-Transfer-Manifest Bundle-Id Created Request-Reference \
		Case-Reference Encryption Part-Count Total-Size; do
	manifest_variant "$h" "/^$h:/p"
	expect_status 1 "transfer manifest: repeated $h refused" -- \
		$T $B verify "${V[@]}" "v-$h/b.transfer-manifest.txt"
	expect "... reason: repeated $h" grep -q "repeated $h\|$h.*twice" out.txt
done
manifest_variant pc-grow 's/^Part-Count: 3$/Part-Count: 5\n&/'
expect_status 1 "transfer manifest: contradictory Part-Count (5, then 3)" -- \
	$T $B verify "${V[@]}" v-pc-grow/b.transfer-manifest.txt
manifest_variant pc-late '/^Part: b.tar.age.001/a Part-Count: 1'
expect_status 1 "transfer manifest: Part-Count again after the parts" -- \
	$T $B verify "${V[@]}" v-pc-late/b.transfer-manifest.txt
manifest_variant bid-other "s/^Bundle-Id: .*/&\nBundle-Id: bundle-other/"
expect_status 1 "transfer manifest: a second, other Bundle-Id (last must not win)" -- \
	$T $B verify "${V[@]}" v-bid-other/b.transfer-manifest.txt
manifest_variant part-twice 's/^Part: b.tar.age.001 .*/&\n&/; s/^Part-Count: 3/Part-Count: 4/'
expect_status 1 "transfer manifest: one part listed twice" -- \
	$T $B verify "${V[@]}" v-part-twice/b.transfer-manifest.txt
manifest_variant rcpt-twice '/^Recipient:/p'
expect_status 1 "transfer manifest: the same Recipient twice" -- \
	$T $B verify "${V[@]}" v-rcpt-twice/b.transfer-manifest.txt
manifest_variant total "s/^Total-Size: .*/Total-Size: 1/"
expect_status 1 "transfer manifest: Total-Size contradicting the parts" -- \
	$T $B verify "${V[@]}" v-total/b.transfer-manifest.txt

# A plain bag made here, unsigned: one payload file, two manifests.
mkbag() {
	rm -rf "$1" && mkdir -p "$1/data"
	printf 'BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n' >"$1/bagit.txt"
	echo "evidence" >"$1/data/f.txt"
	(cd "$1" && sha256sum data/f.txt >manifest-sha256.txt &&
	 sha512sum data/f.txt >manifest-sha512.txt)
	printf 'Source-Organization: Lab A\nBagging-Date: 2026-01-01\nPayload-Oxum: 9.1\n' \
		>"$1/bag-info.txt"
}
mkbag bag
expect_status 0 "a plain bag made here verifies" -- $T $B verify bag
mkbag bag && echo "Source-Organization: Lab B" >>bag/bag-info.txt
expect_status 0 "bag-info.txt: a repeatable label (Source-Organization) twice is fine" -- \
	$T $B verify bag
for l in "Payload-Oxum: 9.1" "Payload-Oxum: 1.1" "Bagging-Date: 2027-01-01" \
		"Bag-Size: 9 bytes" "Bag-Group-Identifier: g" "Bag-Count: 1 of 2"; do
	mkbag bag
	case $l in Bag-Size*|Bag-Group*|Bag-Count*) echo "$l" >>bag/bag-info.txt;; esac
	echo "$l" >>bag/bag-info.txt
	expect_status 1 "bag-info.txt: ${l%%:*} twice refused ($l)" -- $T $B verify bag
	expect "... reason names the repeated label" grep -q "${l%%:*}.*\(repeated\|twice\)" out.txt
done
mkbag bag && echo "payload-oxum: 1.1" >bag/bag-info.txt
expect_status 1 "bag-info.txt: a Payload-Oxum in another case is checked too" -- \
	$T $B verify bag
mkbag bag && printf 'BagIt-Version: 1.0\n' >>bag/bagit.txt
expect_status 1 "bagit.txt: BagIt-Version twice refused" -- $T $B verify bag
mkbag bag && sed -i '2p' bag/bagit.txt
expect_status 1 "bagit.txt: Tag-File-Character-Encoding twice refused" -- $T $B verify bag
mkbag bag && sed -i 'p' bag/manifest-sha256.txt
expect_status 1 "manifest: a path listed twice refused (same digest)" -- $T $B verify bag
mkbag bag && echo "$(printf '0%.0s' $(seq 64))  data/f.txt" >>bag/manifest-sha256.txt
expect_status 1 "manifest: a path listed twice refused (other digest)" -- $T $B verify bag
mkbag bag && (cd bag && sha256sum bagit.txt bagit.txt >tagmanifest-sha256.txt)
expect_status 1 "tag manifest: a path listed twice refused" -- $T $B verify bag
mkbag bag && sed -i '1s/1.0/0.97/' bag/bagit.txt && sed -i 'p' bag/manifest-sha256.txt
expect_status 1 "manifest (BagIt 0.97): a path listed twice refused" -- $T $B verify bag
mkbag bag && rm bag/data/f.txt && sed -i '/Payload-Oxum/d' bag/bag-info.txt &&
	printf 'http://x.example/f - data/f.txt\nhttp://y.example/f - data/f.txt\n' >bag/fetch.txt
expect_status 1 "fetch.txt: a path listed twice refused" -- $T $B verify bag
jq '.references.request2 = 1' request.json | sed 's/"request2"/"request"/' >dup.json
expect_status 2 "request.json: a repeated nested key refused" -- $T $B create \
	--request dup.json "${SIGN[@]}" -r "$R" -o out/dup img.raw
err_matches "duplicate" "... reason: duplicate key"
expect "... and nothing written" test ! -e out/dup.tar.age.000

# ===================== 2. FIFOs where files are expected =====================
mkfifo fifo
cp -r out f1 && rm f1/b.tar.age.001 && mkfifo f1/b.tar.age.001
expect_status 1 "verify: a FIFO as a part is refused, no hang" -- \
	$T $B verify "${V[@]}" f1/b.transfer-manifest.txt
expect "... reason: FIFO" grep -q "FIFO" out.txt
cp -r out f2 && rm f2/b.transfer-manifest.txt.p7s && mkfifo f2/b.transfer-manifest.txt.p7s
expect_status 1 "verify: a FIFO as the manifest's .p7s is refused, no hang" -- \
	$T $B verify "${V[@]}" f2/b.transfer-manifest.txt
expect "... reason: FIFO" grep -q "FIFO" out.txt err.txt
expect_status 2 "verify: a FIFO as the bundle itself is refused, no hang" -- \
	$T $B verify "${V[@]}" fifo
err_matches "FIFO" "... reason: FIFO"
mkbag bag && mkfifo bag/data/pipe
expect_status 1 "verify: a FIFO in a bag folder is refused, no hang" -- $T $B verify bag
mkbag bag && mkfifo bag/bag-info.txt.new && rm bag/bag-info.txt && mv bag/bag-info.txt.new bag/bag-info.txt
expect_status 1 "verify: a FIFO as bag-info.txt is refused, no hang" -- $T $B verify bag
expect_status 2 "create: a FIFO as a payload file is refused, no hang" -- \
	$T $B create --request request.json "${SIGN[@]}" -r "$R" -o out/ff img.raw fifo
err_matches "FIFO" "... reason: FIFO"
expect "... and nothing written" bash -c '! ls out/ff* 2>/dev/null | grep -q .'
expect_status 2 "create: a FIFO as request.json is refused, no hang" -- \
	$T $B create --request fifo "${SIGN[@]}" -r "$R" -o out/ff img.raw
err_matches "FIFO" "... reason: FIFO"
expect_status 2 "verify: a FIFO as --trust is refused, no hang" -- \
	$T $B verify -i fa.key --trust fifo out/b.transfer-manifest.txt
# An identity file with several identities (age-keygen output appended,
# comments between): the one that matches decrypts, as with age -d -i.
{ age-keygen 2>/dev/null; echo "# the foreign authority's key"; cat fa.key; } >multi.key
expect_status 0 "verify: an identity file whose second identity matches" -- \
	$T $B verify -i multi.key --trust "$P/ca.pem" out/b.transfer-manifest.txt
expect "... age -d -i accepts the same file" \
	bash -c "cat out/b.tar.age.* | age -d -i multi.key >/dev/null"
expect_status 2 "verify: a FIFO as -i is refused, no hang" -- \
	$T $B verify -i fifo --trust "$P/ca.pem" out/b.transfer-manifest.txt
expect_status 2 "create: /dev/null (a device) as a payload file is refused" -- \
	$T $B create --request request.json "${SIGN[@]}" -r "$R" -o out/ff img.raw /dev/null

# ===================== 3. exclusive outputs =====================
mkdir victim && echo "precious" >victim/file
for n in out/s.tar.age.000 out/s.tar.age.001 out/s.transfer-manifest.txt \
		out/s.transfer-manifest.txt.p7s; do
	rm -f out/s.*
	ln -s "$WORK/victim/file" "$n"
	expect_status 3 "create: a symlink planted at ${n#out/} is refused" -- \
		$T $B create --request request.json "${SIGN[@]}" -r "$R" --split 64K \
		-o out/s img.raw
	expect "... the symlink's target is untouched" \
		test "$(cat victim/file)" = precious
	expect "... the symlink is still a symlink" test -L "$n"
	expect "... nothing else is left under a final name" \
		test "$(ls out/ | grep -c '^s\.')" = 1
done
rm -f out/s.*
cp -r out before
expect_status 3 "create: a second run with the same -o refuses" -- \
	$T $B create --request request.json "${SIGN[@]}" -r "$R" -o out/b img.raw
expect "... at once, naming the existing file" grep -q "exists" err.txt
expect "... the first run's files are untouched" diff -r before out
ln -s "$WORK/victim/file" r.json
expect_status 3 "receipt: a symlink planted at the receipt is refused" -- \
	$T $B receipt "${V[@]}" "${SIGN[@]}" --officer O --authority A \
	--storage S -o r.json out/b.transfer-manifest.txt
expect "... its target is untouched" test "$(cat victim/file)" = precious
rm r.json
ln -s "$WORK/victim/file" r.json.p7s
expect_status 3 "receipt: a symlink planted at the receipt's .p7s is refused" -- \
	$T $B receipt "${V[@]}" "${SIGN[@]}" --officer O --authority A \
	--storage S -o r.json out/b.transfer-manifest.txt
expect "... its target is untouched" test "$(cat victim/file)" = precious
expect "... and no unsigned receipt is left" test ! -e r.json
rm r.json.p7s
ln -s "$WORK/victim/file" k.key
expect_status 3 "keygen: a symlink planted at the identity file is refused" -- \
	$T $B keygen -o k.key
expect "... its target is untouched" test "$(cat victim/file)" = precious
ln -s "$WORK/victim" opened
expect_status 3 "open: a symlink planted at the destination is refused" -- \
	$T $B open "${V[@]}" -o opened out/b.transfer-manifest.txt
expect "... nothing is written through it" test "$(ls victim)" = file
rm opened
mkdir opened.UNVERIFIED

# ===================== 4. failures while committing =====================
if [ -n "${FAULT_SHIM:-}" ] && [ -e "$FAULT_SHIM" ]; then
	for f in "create:f.tar.age.001|part" "write:f.tar.age.002|part" \
			"create:f.transfer-manifest.txt|transfer manifest" \
			"write:f.transfer-manifest.txt|transfer manifest" \
			"create:f.transfer-manifest.txt.p7s|signature" \
			"commit:f.tar.age.000|commit" "commit:f.tar.age.002|commit" \
			"commit:f.transfer-manifest.txt.p7s|commit" \
			"commit:f.transfer-manifest.txt|commit"; do
		spec=${f%%|*} step=${f#*|}
		rm -rf fo && mkdir fo
		expect_status 3 "create fails at $spec: exit 3" -- env \
			LD_PRELOAD="$FAULT_SHIM" ASAN_OPTIONS=verify_asan_link_order=0 CUSTOS_FAULT="$spec" $T $B create \
			--request request.json "${SIGN[@]}" -r "$R" --split 64K \
			-o fo/f img.raw
		expect "... the message names the step ($step) and the file" \
			grep -q "$step.*${spec#*:}\|${spec#*:}.*$step" err.txt
		expect "... no crash (no sanitizer report)" \
			bash -c '! grep -q "Sanitizer\|core dumped" err.txt'
		expect "... nothing is left in the output folder" \
			test -z "$(ls -A fo)"
	done
	for f in "create:rc.json|receipt" "write:rc.json|receipt" \
			"create:rc.json.p7s|signature" "commit:rc.json.p7s|commit" \
			"commit:rc.json|commit"; do
		spec=${f%%|*} step=${f#*|}
		rm -rf ro && mkdir ro
		expect_status 3 "receipt fails at $spec: exit 3" -- env \
			LD_PRELOAD="$FAULT_SHIM" ASAN_OPTIONS=verify_asan_link_order=0 CUSTOS_FAULT="$spec" $T $B receipt \
			"${V[@]}" "${SIGN[@]}" --officer O --authority A --storage S \
			-o ro/rc.json out/b.transfer-manifest.txt
		expect "... the message names the step ($step) and the file" \
			grep -q "$step.*${spec#*:}\|${spec#*:}.*$step" err.txt
		expect "... nothing is left in the output folder" \
			test -z "$(ls -A ro)"
	done
	rm -rf ko && mkdir ko
	expect_status 3 "keygen fails writing the identity: exit 3" -- env \
		LD_PRELOAD="$FAULT_SHIM" ASAN_OPTIONS=verify_asan_link_order=0 CUSTOS_FAULT="write:id.key" $T $B keygen -o ko/id.key
	expect "... no partial identity file is left" test -z "$(ls -A ko)"

	# ===================== 5. open stays inside =====================
	mkdir outside
	expect_status 3 "open: a symlink planted in the folder during the run is not followed" -- \
		env LD_PRELOAD="$FAULT_SHIM" ASAN_OPTIONS=verify_asan_link_order=0 CUSTOS_FAULT="plant:bagit.txt" \
		CUSTOS_FAULT_TARGET="$WORK/outside" $T $B open "${V[@]}" \
		-o race out/b.transfer-manifest.txt
	expect "... nothing is written outside the folder" test -z "$(ls -A outside)"
	expect "... the half-extracted folder is set aside as UNVERIFIED" \
		test -d race.UNVERIFIED -a ! -e race
else
	fail "FAULT_SHIM not built: steps 4 and 5 not tested"
fi
expect_status 1 "open: a failure is moved aside without replacing an existing folder" -- \
	$T $B open "${V[@]}" -o opened f1/b.transfer-manifest.txt
expect "... the existing opened.UNVERIFIED is untouched" test -d opened.UNVERIFIED

# ===================== 6. names =====================
mkdir names
cp img.raw "names/procès-verbal.pdf"
echo "محضر" >"names/محضر.txt"
echo "証拠" >"names/証拠.bin"
echo "space" >"names/two words.txt"
locales="C C.UTF-8"
locale -a 2>/dev/null | grep -qi '^fr_FR.utf-\?8$' && locales="$locales fr_FR.UTF-8"
for loc in $locales; do
	o="n-$loc"
	mkdir "$o"
	expect_status 0 "[$loc] create: names in several scripts, -o with a space" -- \
		env LANG=C LC_ALL="$loc" $T $B create --request request.json "${SIGN[@]}" \
		-r "$R" --split 64K -o "$o/my bundle" names/*
	expect_status 0 "[$loc] verify" -- env LANG=C LC_ALL="$loc" $T $B verify \
		"${V[@]}" "$o/my bundle.transfer-manifest.txt"
	expect "[$loc] ... four payload files" grep -q "payload: 4 file" out.txt
	expect_status 0 "[$loc] open" -- env LANG=C LC_ALL="$loc" $T $B open \
		"${V[@]}" -o "$o/opened dir" "$o/my bundle.transfer-manifest.txt"
	for n in "procès-verbal.pdf" "محضر.txt" "証拠.bin" "two words.txt"; do
		expect "[$loc] ... $n opened with its name and bytes" \
			cmp -s "names/$n" "$o/opened dir/data/$n"
	done
	expect_status 0 "[$loc] sha256sum -c the parts against the transfer manifest" -- \
		bash -c "cd '$o' && sed -n 's/^Part: \(.*\) [0-9]* \([0-9a-f]*\)$/\2  \1/p' \
		'my bundle.transfer-manifest.txt' | sha256sum -c --quiet"
	expect_status 0 "[$loc] age -d decrypts the parts" -- bash -c \
		"cat '$o/my bundle.tar.age.'* | age -d -i fa.key >'$o/b.tar'"
	mkdir "$o/bsd" "$o/gnu"
	expect_status 0 "[$loc] bsdtar extracts the bag" -- \
		env LC_ALL=C.UTF-8 bsdtar -xf "$o/b.tar" -C "$o/bsd"
	expect_status 0 "[$loc] GNU tar extracts the bag" -- \
		env LC_ALL=C.UTF-8 tar -xf "$o/b.tar" -C "$o/gnu"
	expect "[$loc] ... bsdtar and GNU tar agree" diff -r "$o/bsd" "$o/gnu"
	for n in "procès-verbal.pdf" "محضر.txt" "証拠.bin" "two words.txt"; do
		expect "[$loc] ... bsdtar gives $n its UTF-8 name" \
			cmp -s "names/$n" "$o/bsd/"*"/data/$n"
	done
	expect_status 0 "[$loc] sha512sum -c manifest-sha512.txt" -- \
		bash -c "cd '$o'/bsd/* && sha512sum -c --quiet manifest-sha512.txt"
	expect_status 0 "[$loc] sha256sum -c manifest-sha256.txt" -- \
		bash -c "cd '$o'/bsd/* && sha256sum -c --quiet manifest-sha256.txt"
	expect_status 0 "[$loc] sha512sum -c tagmanifest-sha512.txt" -- \
		bash -c "cd '$o'/bsd/* && sha512sum -c --quiet tagmanifest-sha512.txt"
done
printf 'x' >"$(printf 'names/latin1-\xe9.txt')"
expect_status 2 "create: a file name that is not UTF-8 is refused" -- \
	$T $B create --request request.json "${SIGN[@]}" -r "$R" -o out/l1 \
	"$(printf 'names/latin1-\xe9.txt')"

# ===================== 8. untrusted text =====================
mkbag bag && printf '%s  data/\xff\xfe\x1b[31mred\n' "$(printf '0%.0s' $(seq 64))" \
	>>bag/manifest-sha256.txt
expect_status 1 "a manifest naming a file with invalid UTF-8 and an escape" -- \
	$T $B verify bag
# The library escapes the name in its message, and the tool's printing
# escapes that message again (a backslash doubled), so both forms count.
expect "... the name is shown escaped (\\xff), never raw" \
	grep -Eq 'data/\\\\?xff\\\\?xfe\\\\?x1b\[31mred' out.txt
expect "... no raw invalid byte or ESC reaches the terminal" \
	bash -c '! LC_ALL=C grep -q $'"'"'[\xff\x1b]'"'"' out.txt'
long=$(printf 'é%.0s' $(seq 400))
mkbag bag && echo "$(printf '0%.0s' $(seq 64))  data/$long" >>bag/manifest-sha256.txt
expect_status 1 "a very long accented name in a message" -- $T $B verify bag
expect "... the message is valid UTF-8 (never cut inside a character)" \
	iconv -f UTF-8 -t UTF-8 out.txt -o /dev/null

finish
