#!/bin/bash
# The public API: every header compiles on its own, and the shared library
# exports only custos_* symbols (the version script and visibility agree).
# Needs: SOURCE_ROOT, LIBCUSTOS, CC.
. "$(dirname "$0")/lib.sh"

for h in "$SOURCE_ROOT"/include/custos/*.h; do
	name=$(basename "$h")
	printf '#include <custos/%s>\nint main(void) { return 0; }\n' "$name" > t.c
	if "$CC" -std=c11 -Wall -Wextra -Wpedantic -Werror \
		-I"$SOURCE_ROOT/include" -c t.c -o t.o 2>err.txt; then
		pass "header $name compiles alone"
	else
		fail "header $name compiles alone: $(head -c 300 err.txt)"
	fi
done

others=$(nm -D --defined-only "$LIBCUSTOS" | awk '$2 ~ /^[TDBR]$/ {print $3}' |
	grep -v '^custos_[a-z]' || true)
expect "only custos_* symbols exported (got: ${others:-none})" test -z "$others"
private=$(nm -D --defined-only "$LIBCUSTOS" | awk '{print $3}' | grep '^custos__' || true)
expect "no custos__ private helpers exported" test -z "$private"
finish
