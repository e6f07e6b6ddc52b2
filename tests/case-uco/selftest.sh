#!/bin/bash
# The validator itself checked: every example and test file shipped in
# ../shared/testdata/case-uco must give the result its README states
# (PASS files conform, XFAIL files do not, with the stated counts of
# Violations, Warnings and Infos).  Needs node, jq and the npm modules.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
T=${CASE_UCO_TESTDATA:-$HERE/../../../shared/testdata/case-uco}
command -v node >/dev/null 2>&1 && command -v jq >/dev/null 2>&1 ||
	{ echo "SKIP: no node or jq" >&2; exit 77; }
[ -d "$HERE/node_modules/shacl-engine" ] ||
	{ echo "SKIP: run npm ci --prefix tests/case-uco" >&2; exit 77; }
[ -d "$T/ontology" ] || { echo "SKIP: no $T" >&2; exit 77; }
out=$(mktemp) && trap 'rm -f "$out"' EXIT
node "$HERE/validate.mjs" --ontology "$T/ontology" --json "$T"/examples/*.json \
	"$T"/tests/*.json >"$out"
bad=0
# file conforms violations warnings infos (from the README's tables)
while read -r f c v w i; do
	got=$(jq -r --arg f "$T/$f" '.[] | select(.file == $f) |
		"\(.conforms) \(.violations) \(.warnings) \(.infos)"' "$out")
	if [ "$got" = "$c $v $w $i" ]; then echo "PASS: $f: $got"
	else echo "FAIL: $f: got '$got', README says '$c $v $w $i'"; bad=1; fi
done <<'TABLE'
examples/Oresteia.json true 0 0 2
examples/forensic_lifecycle.json true 0 0 0
examples/network_connection.json true 0 0 0
examples/exif_data.json true 0 0 0
tests/case-investigative_action_PASS.json true 0 0 0
tests/case-investigative_action_XFAIL.json false 2 0 0
tests/uco-hash_PASS.json false 0 2 4
tests/uco-hash_XFAIL.json false 1 0 0
tests/uco-relationship_PASS.json true 0 0 0
tests/uco-relationship_XFAIL.json false 12 0 0
tests/uco-uco_thing_XFAIL.json false 1 0 2
TABLE
exit $bad
