#!/bin/bash
# samples/sample.img is a real file system, and make-sample.sh rebuilds it
# byte for byte.  Needs: SOURCE_ROOT; e2fsprogs, openssl, sleuthkit.
. "$(dirname "$0")/lib.sh"
S=$SOURCE_ROOT/samples
for tool in mke2fs debugfs openssl fls; do
	if ! command -v "$tool" >/dev/null 2>&1 && ! [ -x "/sbin/$tool" ]; then
		echo "SKIP: $tool not installed" >&2
		exit 77
	fi
done
export PATH=$PATH:/sbin:/usr/sbin

expect "make-sample.sh runs" bash "$S/make-sample.sh" "$WORK/rebuilt.img"
expect "rebuilt sample is byte-identical to the shipped one" \
	cmp -s "$WORK/rebuilt.img" "$S/sample.img"
fls -r "$S/sample.img" > fls.txt 2>err.txt
expect "fls (The Sleuth Kit) reads the sample" test -s fls.txt
expect "the sample holds README.txt" grep -q 'README.txt' fls.txt
expect "the sample holds data/random.bin" grep -q 'random.bin' fls.txt
finish
