#!/bin/bash
# The whole test suite, as CI runs it (README: "Run the whole test suite"):
# gcc with warnings as errors, then clang, then the suite again under
# AddressSanitizer + UndefinedBehaviorSanitizer, and the unit tests under
# ThreadSanitizer.  Each build folder is made once and reused.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n=== %s\n' "$*"; }
setup() { # folder, then meson options
	local dir=$1; shift
	[ -d "$dir" ] || meson setup "$dir" -Dwerror=true "$@"
}

step "gcc: build and run every test"
setup build
meson test -C build --print-errorlogs

step "clang: build and run every test"
CC=clang setup build-clang
meson test -C build-clang --print-errorlogs

step "gcc release build (what packagers run)"
setup build-release --buildtype=release
ninja -C build-release

step "AddressSanitizer + UndefinedBehaviorSanitizer"
setup build-asan -Db_sanitize=address,undefined
meson test -C build-asan --print-errorlogs

step "ThreadSanitizer (unit tests)"
setup build-tsan -Db_sanitize=thread
meson test -C build-tsan --suite unit --print-errorlogs
