#!/bin/sh
# Reference verifier for a custos custody log, following the log's own
# VERIFY.md with nothing but a POSIX shell, coreutils and openssl.  It is
# deliberately simple and slow (one openssl run per record): it exists so
# that anyone can check a log without trusting custos.
#
#   verify-log.sh [-t CA.pem]... [-k VKEY_FILE] [-c CHECKPOINT]... DIR
#
# -t  trust these CA certificates (default: keys/ca-*.pem as pinned, by
#     SHA-256, in the genesis record)
# -k  the log's verifier key as you received it (default: keys/log.vkey)
# -c  also hold the log to this checkpoint note
#
# Exit status: 0 VERIFIED, 1 FAILED (a check failed), 2 usage, 3 cannot run.
set -u
LC_ALL=C
export LC_ALL

usage() { echo "usage: $0 [-t CA.pem]... [-k VKEY] [-c NOTE]... DIR" >&2; exit 2; }
TRUST=""
VKEY_FILE=""
EXTRA_CP=""
while getopts t:k:c: opt; do
	case $opt in
	t) TRUST="$TRUST
$OPTARG" ;;
	k) VKEY_FILE=$OPTARG ;;
	c) EXTRA_CP="$EXTRA_CP
$OPTARG" ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
DIR=$1
LOG=$DIR/log.jsonl
for tool in openssl sha256sum basenc base64 od; do
	command -v "$tool" >/dev/null 2>&1 || { echo "verify-log: needs $tool" >&2; exit 3; }
done
[ -f "$LOG" ] || { echo "verify-log: no $LOG" >&2; exit 3; }
[ -n "$VKEY_FILE" ] || VKEY_FILE=$DIR/keys/log.vkey
[ -f "$VKEY_FILE" ] || { echo "verify-log: no $VKEY_FILE" >&2; exit 3; }

T=$(mktemp -d "${TMPDIR:-/tmp}/verify-log.XXXXXX") || exit 3
trap 'rm -rf "$T"' EXIT INT TERM
STATUS=0
fail() { echo "verify-log: $*" >&2; STATUS=1; }

hex_of_b64() { printf '%s' "$1" | base64 -d 2>/dev/null | od -An -v -tx1 | tr -d ' \n'; }
# node LEFT RIGHT: SHA-256(0x01 || left || right), hex in and out.
node() {
	{ printf '\001'; printf '%s%s' "$1" "$2" | tr 'a-f' 'A-F' | basenc --base16 -d; } |
		sha256sum | cut -c1-64
}

# ---- the log key (keys/log.vkey: NAME+KEYID+BASE64(0x01 || pubkey)) ----
VKEY=$(head -n 1 "$VKEY_FILE" | tr -d '\r')
KNAME=${VKEY%%+*}
rest=${VKEY#*+}
KID=${rest%%+*}
KB64=${rest#*+}
printf '%s' "$KB64" | base64 -d > "$T/vkey.raw" 2>/dev/null
if [ "$(wc -c < "$T/vkey.raw")" -ne 33 ] || [ "$(head -c 1 "$T/vkey.raw" | od -An -tx1 | tr -d ' ')" != 01 ]; then
	echo "verify-log: $VKEY_FILE is not an Ed25519 verifier key" >&2; exit 3
fi
if [ "$({ printf '%s\n' "$KNAME"; cat "$T/vkey.raw"; } | sha256sum | cut -c1-8)" != "$KID" ]; then
	echo "verify-log: the key id in $VKEY_FILE does not match its key" >&2; exit 3
fi
# SubjectPublicKeyInfo for Ed25519: fixed 12-byte prefix, then the key.
{ printf '\060\052\060\005\006\003\053\145\160\003\041\000'; tail -c 32 "$T/vkey.raw"; } > "$T/pub.der"
openssl pkey -pubin -inform DER -in "$T/pub.der" -out "$T/pub.pem" 2>/dev/null ||
	{ echo "verify-log: bad log key" >&2; exit 3; }

# ---- 1. the chain ----
if [ -s "$LOG" ] && [ "$(tail -c 1 "$LOG" | od -An -tx1 | tr -d ' \n')" != 0a ]; then
	fail "torn last line: the log does not end in LF"
fi
GENESIS=$(head -n 1 "$LOG")
case $GENESIS in
*"\"log_key\":\"$VKEY\""*) ;;
*) fail "wrong log key: the genesis record does not name $VKEY_FILE's key" ;;
esac
case $GENESIS in
*'"type":"genesis"'*) ;;
*) fail "record 0 is not the genesis record" ;;
esac
ORIGIN=$(printf '%s' "$GENESIS" | sed -n 's/.*"origin":"\([^"]*\)".*/\1/p')

# Trusted CAs: -t, else the genesis pins.
: > "$T/ca.pem"
if [ -n "$TRUST" ]; then
	printf '%s\n' "$TRUST" | while IFS= read -r f; do
		[ -n "$f" ] && cat "$f" >> "$T/ca.pem"
	done
else
	printf '%s' "$GENESIS" | grep -o '"file":"keys/[^"/]*","sha256":"[0-9a-f]*"' |
	while IFS= read -r pin; do
		f=$(printf '%s' "$pin" | sed 's/"file":"\([^"]*\)".*/\1/')
		want=$(printf '%s' "$pin" | sed 's/.*"sha256":"\([0-9a-f]*\)"/\1/')
		if [ "$(sha256sum < "$DIR/$f" | cut -c1-64)" = "$want" ]; then
			cat "$DIR/$f" >> "$T/ca.pem"
		else
			echo "verify-log: the pinned CA $f was replaced" >&2
			echo bad > "$T/ca.bad"
		fi
	done
	[ -f "$T/ca.bad" ] && fail "a pinned CA certificate was replaced"
fi
[ -s "$T/ca.pem" ] || fail "no trusted CA certificate"

# Checkpoints: signature, origin, size, root.
: > "$T/cps"
{ ls "$DIR"/checkpoints/*.note 2>/dev/null; printf '%s\n' "$EXTRA_CP"; } |
while IFS= read -r cp; do
	[ -n "$cp" ] || continue
	head -n 3 "$cp" > "$T/cp.text"
	# The signature lines follow the blank line 4.  The log key's are
	# those with its name AND key ID (a witness cosignature or another key
	# of the same name is skipped); there must be one, and every one of
	# them must verify (C2SP signed-note).
	good=0
	bad=0
	[ "$(sed -n 4p "$cp")" = "" ] || bad=1
	sed -n '5,$p' "$cp" > "$T/cp.lines"
	while IFS=' ' read -r dash name b64 extra; do
		[ "$dash" = "—" ] && [ "$name" = "$KNAME" ] && [ -z "$extra" ] || continue
		printf '%s' "$b64" | base64 -d > "$T/cp.blob" 2>/dev/null
		[ "$(head -c 4 "$T/cp.blob" | od -An -tx1 | tr -d ' \n')" = "$KID" ] || continue
		tail -c 64 "$T/cp.blob" > "$T/cp.sig"
		if [ "$(wc -c < "$T/cp.blob")" -eq 68 ] &&
		   openssl pkeyutl -verify -pubin -inkey "$T/pub.pem" -rawin \
			-in "$T/cp.text" -sigfile "$T/cp.sig" >/dev/null 2>&1; then
			good=$((good + 1))
		else
			bad=$((bad + 1))
		fi
	done < "$T/cp.lines"
	if [ "$good" -eq 0 ] || [ "$bad" -ne 0 ]; then
		echo "verify-log: checkpoint $cp is not signed by the log key" >&2
		echo "$cp bad" >> "$T/cps"
		continue
	fi
	if [ "$(sed -n 1p "$cp")" != "$ORIGIN" ]; then
		echo "verify-log: checkpoint $cp is for another log" >&2
		echo "$cp bad" >> "$T/cps"
		continue
	fi
	echo "$cp $(sed -n 2p "$cp") $(hex_of_b64 "$(sed -n 3p "$cp")")" >> "$T/cps"
done
grep -q ' bad$' "$T/cps" && fail "a checkpoint is not signed by the log key"

# Walk the lines: chain, signatures, Merkle tree.
EMPTY=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
prev=$EMPTY
n=0
stack=""
: > "$T/hashes"
: > "$T/roots"
root_of_stack() {
	rev=""
	for e in $stack; do rev="$e $rev"; done
	r=""
	for e in $rev; do
		if [ -z "$r" ]; then r=${e#*:}; else r=$(node "${e#*:}" "$r"); fi
	done
	printf '%s' "${r:-$EMPTY}"
}
while IFS= read -r line || [ -n "$line" ]; do
	printf '%s\n' "$line" > "$T/line"
	h=$(sha256sum < "$T/line" | cut -c1-64)
	case $line in
	*"\"prev\":\"$prev\""*) ;;
	*) fail "record $n: prev is not the SHA-256 of the line before (changed, deleted, reordered or duplicated lines)" ;;
	esac
	case $line in
	*"\"seq\":$n,"*|*"\"seq\":$n}"*) ;;
	*) fail "line $n does not hold record $n" ;;
	esac
	sig=$(printf '%s/sig/%08d.p7s' "$DIR" "$n")
	if [ ! -f "$sig" ]; then
		fail "record $n: signature file missing"
	elif ! openssl cms -verify -binary -inform DER -in "$sig" -content "$T/line" \
		-CAfile "$T/ca.pem" -purpose any -signer "$T/signer.pem" -out /dev/null >/dev/null 2>&1; then
		fail "record $n: signature does not verify over the line"
	else
		fp=$(openssl x509 -in "$T/signer.pem" -outform DER | sha256sum | cut -c1-64)
		case $line in
		*"\"cert_sha256\":\"$fp\""*) ;;
		*) fail "record $n: signed by a certificate other than its actor's" ;;
		esac
	fi
	type=$(printf '%s' "$line" | sed -n 's/.*"type":"\([a-z-]*\)".*/\1/p')
	echo "$n $type $h" >> "$T/hashes"
	if [ "$type" = received ]; then
		ans=$(printf '%s' "$line" | sed -n 's/.*"answers":{"seq":\([0-9]*\),"sha256":"\([0-9a-f]*\)"}.*/\1 \2/p')
		a_seq=${ans%% *}
		a_hash=${ans#* }
		# From another state's log: it names the bundle's transfer manifest.
		xfer=$(printf '%s' "$line" | sed -n 's/.*"transfer":{"bundle_id":"[^"]\{1,\}","transfer_manifest_sha256":"\([0-9a-f]\{64\}\)".*/\1/p')
		if [ -z "$ans" ] && [ -n "$xfer" ]; then
			:
		elif [ -z "$ans" ] || ! grep -q "^$a_seq released $a_hash\$" "$T/hashes"; then
			fail "record $n: a receive with no matching earlier release"
		fi
	fi
	# The Merkle tree: push the leaf, merge equal heights.
	x=$({ printf '\000'; cat "$T/line"; } | sha256sum | cut -c1-64)
	ht=0
	while [ -n "$stack" ]; do
		top=${stack##* }
		[ "${top%%:*}" = "$ht" ] || break
		x=$(node "${top#*:}" "$x")
		ht=$((ht + 1))
		case $stack in *" "*) stack=${stack% *} ;; *) stack="" ;; esac
	done
	stack="${stack:+$stack }$ht:$x"
	prev=$h
	n=$((n + 1))
	if grep -q " $n " "$T/cps"; then
		echo "$n $(root_of_stack)" >> "$T/roots"
	fi
done < "$LOG"

# Checkpoints against the log.
while read -r cp size root; do
	[ "$size" = bad ] && continue
	if [ "$size" -gt "$n" ]; then
		fail "truncated: $cp covers $size records, the log has $n"
	elif ! grep -q "^$size $root\$" "$T/roots"; then
		fail "$cp does not match the log's first $size records (rewritten, or a fork)"
	fi
done < "$T/cps"
# Two signed checkpoints of one size with different roots: a fork.
if [ "$(grep -v ' bad$' "$T/cps" | cut -d' ' -f2,3 | sort -u | cut -d' ' -f1 | uniq -d)" != "" ]; then
	fail "fork: two checkpoints signed by the log key disagree"
fi

if [ "$STATUS" -eq 0 ]; then
	echo "VERIFIED: $n records, tree head $(root_of_stack | tr 'a-f' 'A-F' | basenc --base16 -d | base64)"
else
	echo "FAILED"
fi
exit "$STATUS"
