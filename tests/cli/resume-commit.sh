#!/usr/bin/env bash
# resume-commit.sh -- a run killed in the middle of its commit (issue 14):
# strace kills custos-acquire at exactly the k-th rename of its commit (and
# at each unlink of its clean-up), for every k, and --resume must then
# finish the run: the image byte-identical to the source, the hashes and
# BASE.sha256 those of an uninterrupted run, no work folder left.  Also: a
# final name replaced behind custos's back is never moved, and a journal
# that is not custos's is refused.  Raw, and E01 in several segments
# (checked with ewfverify).
#
#   CUSTOS_ACQUIRE; needs strace (skipped without it)
. "$(dirname "$0")/lib.sh"

A=$CUSTOS_ACQUIRE
# LeakSanitizer cannot run under ptrace (an ASan build would exit 1 on
# every traced run); the leaks of these paths are checked by resume.sh.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
command -v strace >/dev/null 2>&1 || { echo "SKIP: strace is not installed"; exit 77; }
# strace must be able to trace here (not in every container).
strace -f -o /dev/null true 2>/dev/null || { echo "SKIP: strace cannot trace here"; exit 77; }

head -c $((3 * 1024 * 1024 + 4096)) /dev/urandom >src.img
REF_SHA256=$(sha256sum <src.img | cut -c1-64)
REF_MD5=$(md5sum <src.img | cut -c1-32)

# How many renames and unlinks a clean run makes.
strace -f -o trace.txt -e trace=renameat2,unlink "$A" -q -f raw -o clean src.img ||
	fail "a clean run under strace"
RENAMES=$(grep -c 'renameat2(' trace.txt)
UNLINKS=$(grep -c 'unlink(' trace.txt)
expect "a clean run writes its commit journal before the first rename of an output" \
	grep -q 'custos-commit.json' trace.txt
expect "a clean run leaves no work folder" test ! -e clean.part

# finished BASE: the run's outputs are an uninterrupted run's.
finished() {
	local b=$1
	[ ! -e "$b.part" ] && cmp -s src.img "$b.raw" &&
		[ "$(jget "$b.report.json" .hashes.sha256)" = "$REF_SHA256" ] &&
		[ "$(jget "$b.report.json" .hashes.md5)" = "$REF_MD5" ] &&
		[ "$(jget "$b.report.json" .result)" = complete ] &&
		(sha256sum -c --quiet "$b.sha256" >/dev/null 2>&1)
}

# kill_at SYSCALL K BASE: run, killed at the K-th SYSCALL; then --resume.
kill_at() {
	local sc=$1 k=$2 b=$3 rc
	strace -f -o /dev/null -e trace="$sc" -e inject="$sc":signal=SIGKILL:when="$k" \
		"$A" -q -f raw -o "$b" src.img >/dev/null 2>&1
	[ -d "$b.part" ] || return 0 # the kill came after the end
	"$A" -q -f raw --resume -o "$b" src.img >out.txt 2>err.txt
	rc=$?
	# Killed once the commit was whole: only the clean-up is left.
	if [ $rc -eq 3 ] && grep -q "nothing to resume" err.txt; then
		return 0
	fi
	return $rc
}

for k in $(seq 1 "$RENAMES"); do
	b=r$k
	if kill_at renameat2 "$k" "$b" && finished "$b"; then
		pass "killed at rename $k of $RENAMES, then --resume: the run is an uninterrupted one's"
	else
		fail "killed at rename $k of $RENAMES: $(head -c 300 err.txt)"
	fi
done
for k in $(seq 1 "$UNLINKS"); do
	b=u$k
	if kill_at unlink "$k" "$b" && finished "$b"; then
		pass "killed at unlink $k of $UNLINKS, then --resume: the run is an uninterrupted one's"
	else
		fail "killed at unlink $k of $UNLINKS: $(head -c 300 err.txt)"
	fi
done

# ---- the same for an E01 in several segments ------------------------------
E01_OPTS=(-f e01 --split 1M)
strace -f -o trace-e01.txt -e trace=renameat2 "$A" -q "${E01_OPTS[@]}" -o eclean src.img ||
	fail "a clean E01 run under strace"
E01_RENAMES=$(grep -c 'renameat2(' trace-e01.txt)
expect "the clean E01 has several segments" test -e eclean.E03

# e01_finished BASE: ewfverify SUCCESS and the uninterrupted run's hashes.
e01_finished() {
	local b=$1
	[ ! -e "$b.part" ] && ewfverify -q "$b.E01" >ev.txt 2>&1 &&
		grep -q "ewfverify: SUCCESS" ev.txt &&
		grep -q "MD5 hash calculated over data:.*$REF_MD5" ev.txt &&
		[ "$(jget "$b.report.json" .hashes.sha256)" = "$REF_SHA256" ] &&
		[ "$(jget "$b.report.json" .block_map.root)" = \
		  "$(jget eclean.report.json .block_map.root)" ] &&
		(sha256sum -c --quiet "$b.sha256" >/dev/null 2>&1)
}

if command -v ewfverify >/dev/null 2>&1; then
	for k in $(seq 1 "$E01_RENAMES"); do
		b=e$k
		strace -f -o /dev/null -e trace=renameat2 \
			-e inject=renameat2:signal=SIGKILL:when="$k" \
			"$A" -q "${E01_OPTS[@]}" -o "$b" src.img >/dev/null 2>&1
		rc=0
		if [ -d "$b.part" ]; then
			"$A" -q --resume "${E01_OPTS[@]}" -o "$b" src.img >out.txt 2>err.txt
			rc=$?
			[ $rc -eq 3 ] && grep -q "nothing to resume" err.txt && rc=0
		fi
		if [ $rc -eq 0 ] && e01_finished "$b"; then
			pass "E01 killed at rename $k of $E01_RENAMES, then --resume: ewfverify SUCCESS, the uninterrupted run's hashes"
		else
			fail "E01 killed at rename $k of $E01_RENAMES: $(head -c 300 err.txt) $(tail -c 200 ev.txt 2>/dev/null)"
		fi
	done
else
	echo "SKIP: E01 commit cases: ewfverify is not installed"
fi

# The report of a resumed run names both sessions (the commit's session
# among them) and its rehash.
b=r$((RENAMES / 2 + 1))
expect "the resumed report lists the killed session too" \
	test "$(jget "$b.report.json" '.recovery.sessions | length')" -ge 2

# ---- a final name replaced behind custos's back --------------------------
# Killed after the image was committed; then someone replaces BASE.raw
# with another file.  --resume refuses, and neither file is moved.
n=$(grep -n 'renameat2(' trace.txt | grep -n 'clean.raw' | cut -d: -f1)
b=x
strace -f -o /dev/null -e trace=renameat2 -e inject=renameat2:signal=SIGKILL:when=$((n + 1)) \
	"$A" -q -f raw -o $b src.img >/dev/null 2>&1
if [ -e $b.raw ] && [ -d $b.part ]; then
	mv $b.raw $b.raw.theirs-was-ours
	printf 'not the evidence\n' >$b.raw
	cp $b.raw planted.copy
	expect_status 3 "--resume with BASE.raw replaced by another file" -- \
		"$A" -q -f raw --resume -o $b src.img
	err_matches "replaced" "the reason says the final name was replaced"
	expect "the planted file is left as it was" cmp -s $b.raw planted.copy
	expect "the work folder and its journal are left for a human" \
		test -f $b.part/custos-commit.json
else
	fail "could not stop a run right after its image commit (rename $((n + 1)))"
fi

# ---- a journal that is not custos's --------------------------------------
b=j
strace -f -o /dev/null -e trace=renameat2 -e inject=renameat2:signal=SIGKILL:when=$((n + 1)) \
	"$A" -q -f raw -o $b src.img >/dev/null 2>&1
if [ -f $b.part/custos-commit.json ]; then
	# Point a step at a file outside the run.
	jq -c '.steps[0].final = "/etc/passwd"' $b.part/custos-commit.json >j.tmp &&
		cat j.tmp >$b.part/custos-commit.json
	expect_status 3 "--resume with a journal naming a file outside the run" -- \
		"$A" -q -f raw --resume -o $b src.img
	err_matches "not a commit journal of this run" "the reason names the journal"
	expect "the committed image is left where it was" cmp -s src.img $b.raw
else
	fail "could not stop a run right after its image commit (journal case)"
fi

finish
