#!/bin/bash
# The whole test suite, as CI runs it (README: "Run the whole test suite"):
# gcc with warnings as errors, then clang, then the suite again under
# AddressSanitizer + UndefinedBehaviorSanitizer, and the unit tests under
# ThreadSanitizer.  The slow CASE/UCO SHACL validation (suite case-uco)
# runs in the gcc build only.  Each build folder is made once and reused.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }
setup() { # folder, then meson options
	local dir=$1; shift
	[ -d "$dir" ] || meson setup "$dir" -Dwerror=true "$@"
}

# The CASE/UCO validator's npm modules (pinned by package-lock.json), once:
# npm writes node_modules/.package-lock.json, newer than the lock file after
# a good install.  Without npm, tests/cli/case-uco.sh skips.
if command -v npm >/dev/null 2>&1 &&
   ! [ tests/case-uco/node_modules/.package-lock.json -nt tests/case-uco/package-lock.json ]; then
	step "npm ci: the CASE/UCO validator's modules"
	npm ci --prefix tests/case-uco --no-audit --no-fund
fi

step "gcc: build and run every test"
setup build
meson test -C build --print-errorlogs

step "clang: build and run every test"
CC=clang setup build-clang
meson test -C build-clang --print-errorlogs --no-suite case-uco

step "gcc release build (what packagers run)"
setup build-release --buildtype=release
ninja -C build-release

step "AddressSanitizer + UndefinedBehaviorSanitizer"
setup build-asan -Db_sanitize=address,undefined
meson test -C build-asan --print-errorlogs --no-suite case-uco

step "ThreadSanitizer (unit tests)"
setup build-tsan -Db_sanitize=thread
meson test -C build-tsan --suite unit --print-errorlogs
