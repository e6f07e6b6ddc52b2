#!/bin/bash
# The court report (custos-verify --html/--pdf/--lang).  The demo case (made
# with the real tools as verify.sh makes it) is written as HTML and PDF in
# English, French and Arabic; every HTML must parse with a strict HTML5
# parser (html5lib, strict=True) and load nothing from anywhere; pdftotext
# must find the verdict, the media hashes and the signers in each PDF; the
# Arabic one runs right to left.  A hostile <script> and a U+202E override
# carried in the evidence come out inert; a FAILED case says so in the
# header; outputs are never replaced.  Chromium runs without a network
# (unshare -n where possible).  Needs: CUSTOS_VERIFY, CUSTOS_ACQUIRE,
# CUSTOS_LOG, CUSTOS_BUNDLE, CUSTOS_LOCALEDIR, SOURCE_ROOT; openssl, jq,
# python3-html5lib; chromium and poppler-utils for the PDF part.
. "$(dirname "$0")/lib.sh"
V=$CUSTOS_VERIFY
PY=/usr/bin/python3
for tool in openssl jq timeout; do
	command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: no $tool" >&2; exit 77; }
done
$PY -c 'import html5lib' 2>/dev/null ||
	{ echo "SKIP: no python3-html5lib (apt-get install python3-html5lib)" >&2; exit 77; }
# The language must not come from the environment.
unset LANG LC_ALL LC_MESSAGES LANGUAGE
export CUSTOS_LOCALEDIR

bash "$SOURCE_ROOT/samples/pki/make-pki.sh" "$WORK/pki" >/dev/null 2>pki.err ||
	{ cat pki.err; echo "FAIL: make-pki.sh"; exit 1; }
P=$WORK/pki
SAMPLE=$SOURCE_ROOT/samples/sample.img
REQUEST=$SOURCE_ROOT/samples/request.json

# build_case DIR EXAMINER DESCRIPTION: the demo case, as verify.sh makes it.
build_case() {
	local d=$1 examiner=$2 description=$3
	mkdir -p "$d" && cd "$d" || return 1
	"$CUSTOS_LOG" init custody --origin test.example/CASE-1 --log-key log-key.pem \
		--trust "$P/ca.pem" --case CASE-1 -k "$P/examiner.key" -c "$P/examiner.pem" &&
	"$CUSTOS_ACQUIRE" -q --case CASE-1 --evidence HD-01 --examiner "$examiner" \
		--description "$description" \
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
	mkdir -p "$WORK/keys-$(basename "$d")" &&
		mv log-key.pem foreign-log-key.pem age.key "$WORK/keys-$(basename "$d")/"
	cd "$WORK" || return 1
	return $rc
}
build_case "$WORK/case" "Test Examiner" "Laptop disk, seized at the office" \
	>build.log 2>&1 || { cat build.log; echo "FAIL: building the case"; exit 1; }
TRUST=(--trust "$P/ca.pem" -i "$WORK/keys-case/age.key")
SHA256=$(jq -r .hashes.sha256 case/sample.report.json)
MD5=$(jq -r .hashes.md5 case/sample.report.json)
E01SHA=$(jq -r '.image.files[0].sha256' case/sample.report.json)

# strict FILE: html5lib in strict mode parses it without a single error.
strict() {
	$PY - "$1" <<'EOF'
import sys, html5lib
p = html5lib.HTMLParser(strict=True)
try:
    p.parse(open(sys.argv[1], 'rb'))
except Exception as e:
    print('parse error:', e, p.errors[:3])
    sys.exit(1)
EOF
}
# self_contained FILE: no script, no link, nothing fetched.
self_contained() {
	! grep -Eiq '<script|<link|<img|<iframe|<object|@import|url\(|src=|href="(https?:|//)' "$1" &&
	test "$(grep -Eo 'https?://[^"]*' "$1" | sort -u)" = "http://www.w3.org/2000/svg"
}

# ===================== HTML in three languages =====================
declare -A VERDICT=([en]=VERIFIED [fr]="VÉRIFIÉ" [ar]="تم التحقق")
for l in en fr ar; do
	expect_status 0 "$l: --html" -- timeout 60 "$V" -q --lang "$l" "${TRUST[@]}" \
		--html "report-$l.html" case
	expect "$l: the HTML parses with html5lib strict=True" strict "report-$l.html"
	expect "$l: self-contained (no script, no external resource)" self_contained "report-$l.html"
	expect "$l: html lang" grep -q "<html lang=\"$l\"" "report-$l.html"
	expect "$l: the verdict in the header" grep -q "<span class=\"word\">${VERDICT[$l]}</span>" "report-$l.html"
	expect "$l: the item's SHA-256 is shown" grep -q "$SHA256" "report-$l.html"
	expect "$l: a timeline drawn as SVG" grep -q '<svg class="timeline"' "report-$l.html"
	expect "$l: one timeline per item (a figure of page-sized parts)" test \
		"$(grep -o '<figure class="timeline">' "report-$l.html" | wc -l)" = \
		"$(grep -o '<section class="item"' "report-$l.html" | wc -l)"
	expect "$l: a small case is not compact" \
		sh -c "! grep -q 'records compact' report-$l.html"
	expect "$l: the appendix names the image file and its hash" \
		grep -q "sha256sum sample.E01" "report-$l.html"
done
expect "ar: dir=rtl" grep -q '<html lang="ar" dir="rtl">' report-ar.html
expect "en: dir=ltr" grep -q '<html lang="en" dir="ltr">' report-en.html
expect "ar: hashes are isolated left to right" \
	grep -q "<span dir=\"ltr\" class=\"h\">$SHA256</span>" report-ar.html
expect "fr: a French word from the catalogue" grep -q "Chronologie de la garde" report-fr.html
expect "fr: a French date" grep -Eq '[0-9]+ (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre) 20[0-9][0-9] à' report-fr.html
expect "ar: an Arabic date with its RFC 3339 value" \
	grep -Eq '(يناير|فبراير|مارس|أبريل|مايو|يونيو|يوليو|أغسطس|سبتمبر|أكتوبر|نوفمبر|ديسمبر) 20[0-9][0-9]، الساعة .*20[0-9-]{8}T[0-9:]{8}Z' report-ar.html

# The text output too, with LANG unset.
expect_status 0 "fr: text output" -- "$V" --lang fr "${TRUST[@]}" case
expect "fr: the verdict line in French" sh -c "tail -1 out.txt | grep -q '^VÉRIFIÉ: '"
expect "fr: outcomes in French" grep -q '^réussi ' out.txt
expect_status 0 "ar: -q text output" -- "$V" -q --lang ar "${TRUST[@]}" case
expect "ar: the verdict line in Arabic" grep -q '^تم التحقق: ' out.txt
# No English left for what the catalogue translates: every fixed piece of
# a translated template (the text between its conversions, 12 bytes or
# more, that the translation does not itself carry) must be absent from
# the French and Arabic text output, check details and reason included,
# and from --help.  (Untranslated templates stay English by design.)
leftover_english() { # CATALOGUE.po OUTPUT
	$PY - "$1" "$2" <<'EOF'
import re, sys
def entries(path):
    e, cur, field, fuzzy = [], None, None, False
    for line in open(path, encoding='utf-8'):
        line = line.rstrip('\n')
        if line.startswith('msgid '):
            cur = {'msgid': eval(line[6:]), 'msgstr': '', 'fuzzy': fuzzy}
            field = 'msgid'
        elif line.startswith('msgstr ') and cur is not None:
            cur['msgstr'] = eval(line[7:])
            field = 'msgstr'
        elif line.startswith('"') and cur is not None:
            cur[field] += eval(line)
        elif not line.strip() and cur is not None:
            e.append(cur)
            cur = None
        fuzzy = line.startswith('#,') and 'fuzzy' in line
    if cur is not None:
        e.append(cur)
    return e
out = open(sys.argv[2], encoding='utf-8').read()
bad = []
for x in entries(sys.argv[1]):
    if not x['msgid'] or not x['msgstr'] or x['fuzzy']:
        continue
    conv = r'%[-+ #0-9.]*(?:hh|ll|[hlzjt])?[sdiuxXc%]'
    for piece in re.split(conv, x['msgid']):
        for line in piece.split('\n'):
            line = line.strip()
            if len(line) >= 12 and line not in x['msgstr'] and line in out:
                bad.append(line)
if bad:
    print('English left:', bad[:5])
    sys.exit(1)
EOF
}
expect_status 0 "en: text output, every check" -- "$V" "${TRUST[@]}" case
cp out.txt text-en.txt
if leftover_english "$SOURCE_ROOT/po/fr.po" text-en.txt >/dev/null; then
	fail "the leftover check finds nothing in the English text"
else
	pass "the leftover check can fail: it finds English in the English text"
fi
for l in fr ar; do
	expect_status 0 "$l: text output, every check" -- "$V" --lang "$l" "${TRUST[@]}" case
	cp out.txt "text-$l.txt"
	expect "$l: no English left in the text output" \
		leftover_english "$SOURCE_ROOT/po/$l.po" "text-$l.txt"
	expect_status 0 "$l: --help" -- "$V" --help --lang "$l"
	cp out.txt "help-$l.txt"
	expect "$l: no English left in --help" \
		leftover_english "$SOURCE_ROOT/po/$l.po" "help-$l.txt"
done
expect "fr: a check detail in French" grep -q "la chaîne d'empreintes" text-fr.txt
expect "ar: a check detail in Arabic" grep -q "سلسلة البصمات" text-ar.txt
expect "fr: the reason in French" grep -q "contrôles requis sont réussis" text-fr.txt
expect "fr: --help in French" grep -q "^Usage : " help-fr.txt
# A hostile catalogue cannot make a detail read memory or write: a
# template naming an argument that is not there, or %n, gives the English.
mkdir -p hostile-locale/xx/LC_MESSAGES
cat >hostile.po <<'EOF'
msgid ""
msgstr "Content-Type: text/plain; charset=UTF-8\n"

msgid "CAdES signature over the report's bytes by %s"
msgstr "%2$s %n %s%s%s%s%s%s"

msgid "%zu required checks passed"
msgstr "%3$s %s %s"

msgid "hash chain, every record's signature, the Merkle tree and the checkpoints verify"
msgstr "HOSTILE-OK %s%s%s%n"
EOF
if command -v msgfmt >/dev/null 2>&1 &&
   msgfmt -o hostile-locale/xx/LC_MESSAGES/custos.mo hostile.po 2>/dev/null; then
	CUSTOS_LOCALEDIR=$WORK/hostile-locale expect_status 0 \
		"hostile catalogue: the run still works" -- "$V" --lang xx "${TRUST[@]}" case
	expect "hostile catalogue: the English detail instead" \
		grep -q "CAdES signature over the report's bytes by" out.txt
	expect "hostile catalogue: the English reason instead" \
		grep -q "required checks passed" out.txt
	expect "hostile catalogue: a template with more conversions than values is not used" \
		sh -c "! grep -q HOSTILE-OK out.txt"
else
	echo "SKIP: no msgfmt for the hostile catalogue"
fi
expect_status 0 "en: text output is unchanged without --lang" -- "$V" -q "${TRUST[@]}" case
expect "en: VERIFIED line" grep -q '^VERIFIED: ' out.txt
expect_status 3 "--lang with no catalogue" -- "$V" -q --lang de "${TRUST[@]}" case
err_matches "no catalogue for language 'de'" "no catalogue: says so"
expect_status 2 "--lang that is not a code" -- "$V" -q --lang ../../etc "${TRUST[@]}" case
CUSTOS_LOCALEDIR=$WORK/nowhere expect_status 3 "no locale folder" -- \
	"$V" -q --lang fr "${TRUST[@]}" case

# ===================== hostile text from the evidence =====================
# U+202E, U+2066, U+2069 as UTF-8 bytes (LANG is unset here).
RLO=$'\xe2\x80\xae' LRI=$'\xe2\x81\xa6' PDI=$'\xe2\x81\xa9'
EVIL_NAME="Eve <script>alert(1)</script> ${RLO}evil"
EVIL_DESC="</td></tr></table><img src=x onerror=alert(2)> & \"q\" ${LRI}x${PDI}"
build_case "$WORK/evil" "$EVIL_NAME" "$EVIL_DESC" >build2.log 2>&1 ||
	{ cat build2.log; echo "FAIL: building the hostile case"; exit 1; }
expect_status 0 "hostile: --html" -- "$V" -q --trust "$P/ca.pem" \
	-i "$WORK/keys-evil/age.key" --html evil.html evil
expect "hostile: the HTML still parses strictly" strict evil.html
expect "hostile: no <script> element" sh -c "! grep -qi '<script' evil.html"
expect "hostile: no <img> element" sh -c "! grep -qi '<img' evil.html"
expect "hostile: the script shows as text" grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' evil.html
expect "hostile: U+202E shows as [U+202E]" grep -q 'Eve &lt;script&gt;alert(1)&lt;/script&gt; \[U+202E\]evil' evil.html
expect "hostile: no raw U+202E, U+2066 or U+2069 byte" \
	sh -c "! grep -q $'\u202e\|\u2066\|\u2069' evil.html"
expect "hostile: the isolates show as text" grep -q '\[U+2066\]x\[U+2069\]' evil.html

# ===================== FAILED shows in the header =====================
cp -a case failed
printf '\x55' | dd of=failed/sample.E01 bs=1 seek=200000 conv=notrunc status=none
for l in en fr; do
	expect_status 1 "FAILED ($l): exit 1" -- "$V" -q --lang "$l" "${TRUST[@]}" \
		--html "failed-$l.html" failed
	expect "FAILED ($l): parses strictly" strict "failed-$l.html"
	header=$(sed -n '/<header>/,/<\/header>/p' "failed-$l.html")
	expect "FAILED ($l): the header has the failed verdict" \
		grep -q 'class="verdict v-FAILED"' <<<"$header"
done
expect "FAILED (en): the header names the failed check" \
	grep -q 'Failed: <bdi>SHA-256 of the image file</bdi>' <<<"$(sed -n '/<header>/,/<\/header>/p' failed-en.html)"
expect "FAILED (fr): the header in French" \
	grep -q 'ÉCHEC</span>.*' <<<"$(sed -n '/<header>/,/<\/header>/p' failed-fr.html)"

# ===================== outputs are never replaced =====================
echo precious >taken.html
expect_status 3 "--html onto an existing file" -- "$V" -q "${TRUST[@]}" --html taken.html case
expect "the existing file is untouched" test "$(cat taken.html)" = precious
ln -s "$WORK/target.html" planted.html
expect_status 3 "--html onto a planted symlink" -- "$V" -q "${TRUST[@]}" --html planted.html case
expect "nothing was written through the symlink" test ! -e target.html
expect_status 3 "--pdf with no Chromium" -- env CUSTOS_CHROMIUM=/nonexistent/chromium \
	"$V" -q "${TRUST[@]}" --pdf nochrome.pdf case
err_matches "no headless Chromium" "no Chromium: a clear message"
expect "no Chromium: no PDF and no leftovers" \
	sh -c "! ls -A | grep -q -e nochrome -e '^\.custos-pdf'"

# ===================== PDF and PNG through Chromium =====================
CHROME=$(command -v chromium || command -v chromium-browser || command -v chromium-headless-shell || true)
if [ -z "$CHROME" ] || ! command -v pdftotext >/dev/null 2>&1; then
	echo "SKIP: no headless Chromium or pdftotext; the PDF part was not run (apt-get install chromium poppler-utils)"
	[ "$FAILURES" -eq 0 ] && exit 77
	finish
fi
# Chromium without a network at all, where a network namespace can be made.
if unshare -n true 2>/dev/null; then
	printf '#!/bin/sh\nexec unshare -n %s "$@"\n' "$CHROME" >chromium-offline
	chmod +x chromium-offline
	export CUSTOS_CHROMIUM=$WORK/chromium-offline
	pass "Chromium runs in a network namespace of its own (unshare -n)"
fi
for l in en fr ar; do
	expect_status 0 "$l: --pdf" -- timeout 200 "$V" -q --lang "$l" "${TRUST[@]}" \
		--pdf "report-$l.pdf" case
	expect "$l: a PDF" sh -c "head -c 5 report-$l.pdf | grep -q '%PDF-'"
	pdftotext -layout "report-$l.pdf" "report-$l.txt" 2>/dev/null
	pdftotext -raw "report-$l.pdf" "report-$l.raw" 2>/dev/null
	# (Arabic: in reading order, below.)
	[ "$l" = ar ] || expect "$l: pdftotext finds the verdict" \
		grep -q "${VERDICT[$l]}" "report-$l.raw"
	expect "$l: pdftotext finds the media SHA-256" grep -q "$SHA256" "report-$l.raw"
	expect "$l: pdftotext finds the media MD5" grep -q "$MD5" "report-$l.raw"
	expect "$l: pdftotext finds the image file's SHA-256" grep -q "$E01SHA" "report-$l.raw"
	for who in "Test Examiner" "Test Prosecutor" "Test Receiving Authority"; do
		expect "$l: pdftotext finds the signer $who" grep -q "$who" "report-$l.raw"
	done
	[ "$l" = ar ] || expect "$l: page numbers in the page footer" \
		grep -Eq "(Page 1 of|Page 1 sur) [0-9]+" "report-$l.raw"
	pdftoppm -r 50 -f 1 -l 1 -png "report-$l.pdf" "page-$l" 2>/dev/null
	expect "$l: the first page as PNG" sh -c "ls page-$l-*1.png >/dev/null 2>&1 &&
		head -c 8 page-$l-*1.png | grep -q PNG"
done
expect "no private rendering folder is left" sh -c "! ls -A | grep -q '^\.custos-pdf'"
# Right to left.  pdftotext gives each line's words from left to right as
# they lie on the page (each Arabic word in its own embedding), so a line
# of Arabic read right to left must give the phrase in its logical order;
# and the Arabic heading starts at the right edge, the English at the left.
rtl_lines() {
	$PY - "$1" <<'EOF'
import sys
for line in open(sys.argv[1], encoding='utf-8'):
    words = line.replace('\u202b', '').replace('\u202c', '').split()
    print(' '.join(reversed(words)))
EOF
}
heading_x() {
	pdftotext -f 1 -l 1 -bbox "$1" - 2>/dev/null | $PY -c '
import sys, re
want = sys.argv[1]
for m in re.finditer(r"<word xMin=\"([0-9.]+)\"[^>]*>([^<]*)</word>", sys.stdin.read()):
    if m.group(2) in (want, want[::-1]):
        print(m.group(1)); break' "$2"
}
rtl_lines report-ar.raw >report-ar.logical
width=$(pdfinfo report-ar.pdf 2>/dev/null | awk '/Page size/ {print $3}')
ar_x=$(heading_x report-ar.pdf "القضية")
en_x=$(heading_x report-en.pdf "Case")
expect "ar: the heading is on the right half (x=$ar_x of $width)" \
	awk -v x="$ar_x" -v w="$width" 'BEGIN { exit !(x != "" && x > w / 2) }'
expect "en: the heading is on the left (x=$en_x of $width)" \
	awk -v x="$en_x" -v w="$width" 'BEGIN { exit !(x != "" && x < w / 2) }'
expect "ar: read right to left, the title is in order" \
	grep -q "^تقرير التحقق من سلسلة الحيازة$" report-ar.logical
expect "ar: read right to left, the verdict is in order" \
	grep -q "تم التحقق" report-ar.logical
expect "ar: read right to left, the page footer is in order" \
	grep -Eq "^الصفحة 1 من [0-9]+$" report-ar.logical
expect "ar: read left to right, the title is not in order (so the check can fail)" \
	sh -c "! grep -q '^تقرير التحقق من سلسلة الحيازة$' report-ar.raw"
expect "ar: a hash keeps its order inside the Arabic text" grep -q "$SHA256" report-ar.raw
expect_status 3 "--pdf onto an existing PDF: exit 3" -- "$V" -q "${TRUST[@]}" --pdf report-en.pdf case
finish
