#!/bin/bash
# The README's main job: samples/demo.sh runs the whole chain into a fresh
# folder, refuses to reuse a folder, and names the step that fails.
. "$(dirname "$0")/lib.sh"
DEMO=$SOURCE_ROOT/samples/demo.sh

expect_status 0 "demo runs end to end" -- env BUILD="$BUILD" "$DEMO" "$WORK/case"
expect "every step passed" grep -q '^demo: all [0-9]* steps passed' out.txt
expect "the signed E01 is in the case folder" test -s "$WORK/case/sample.E01"
expect "the receipt is in the case folder" test -s "$WORK/case/mla-042.receipt.json"
expect "custos-verify gives VERIFIED on the whole case" \
	grep -q '^VERIFIED: ' out.txt
expect "the court report was written" test -s "$WORK/case/court-report.html"

(cd "$WORK/case" && find . -type f -exec sha256sum {} + | sort) > before.txt
expect_status 3 "a second run into the same folder refuses" -- \
	env BUILD="$BUILD" "$DEMO" "$WORK/case"
err_matches 'already exists' "it says the folder exists"
(cd "$WORK/case" && find . -type f -exec sha256sum {} + | sort) > after.txt
expect "the first run's files are untouched" cmp -s before.txt after.txt

# A tool that fails: the demo stops at that step and names it.
mkdir -p fake/tools
for t in "$BUILD"/tools/custos-*; do ln -s "$t" fake/tools/; done
rm fake/tools/custos-hash
printf '#!/bin/sh\nexit 1\n' > fake/tools/custos-hash
chmod +x fake/tools/custos-hash
expect_status 1 "a failing step stops the demo" -- \
	env BUILD="$WORK/fake" "$DEMO" "$WORK/case2"
err_matches 'step 4 failed: check the image with custos-hash' \
	"it names the failed step"
expect "no later step ran" test ! -e "$WORK/case2/mla-042.transfer-manifest.txt"

exit $((FAILURES > 0))
