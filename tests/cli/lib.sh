# Shared helpers for the CLI tests (bash).  Each test script sources this,
# works in its own temporary folder, and exits 0 (pass), 1 (fail), 77 (skip).
set -u

FAILURES=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/custos-cli-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK" || exit 99

pass() { printf 'PASS: %s\n' "$1"; }
fail() { printf 'FAIL: %s\n' "$1"; FAILURES=$((FAILURES + 1)); }

# expect_status STATUS DESCRIPTION -- COMMAND...
# Runs COMMAND with stdout in out.txt and stderr in err.txt.
expect_status() {
	local want=$1 what=$2
	shift 3
	"$@" >out.txt 2>err.txt
	local got=$?
	if [ "$got" -eq "$want" ]; then
		pass "$what (exit $got)"
	else
		fail "$what: exit $got, wanted $want; stderr: $(head -c 300 err.txt)"
	fi
}

# expect TEST DESCRIPTION: passes when the shell test succeeds.
expect() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; fi
}

# err_matches REGEX DESCRIPTION: the last stderr has a line matching REGEX.
err_matches() {
	if grep -Eq "$1" err.txt; then pass "$2"; else
		fail "$2: stderr was: $(head -c 300 err.txt)"; fi
}

# jget FILE FILTER: print a jq value.
jget() { jq -r "$2" "$1"; }

finish() {
	if [ "$FAILURES" -ne 0 ]; then
		printf '%d check(s) failed\n' "$FAILURES"
		exit 1
	fi
	exit 0
}
