#!/bin/bash
# House rule: no sprintf, strcpy, strcat, gets, atoi or strtok in our C.
# Needs: SOURCE_ROOT.
cd "$SOURCE_ROOT" || exit 99
hits=$(grep -nE '(^|[^a-z_])(sprintf|vsprintf|strcpy|strcat|gets|atoi|atol|strtok)[[:space:]]*\(' \
	$(find src tools tests include -name '*.[ch]') || true)
if [ -n "$hits" ]; then
	printf 'FAIL: banned functions used:\n%s\n' "$hits"
	exit 1
fi
printf 'PASS: no banned functions in %d files\n' \
	"$(find src tools tests include -name '*.[ch]' | wc -l)"
