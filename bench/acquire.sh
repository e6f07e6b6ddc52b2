#!/usr/bin/env bash
# bench/acquire.sh - time custos-acquire against its anchors (dc3dd, openssl dgst -md5)
# and measure its peak RSS.  See bench/README.md.
#
# Usage: bench/acquire.sh [SIZE_GIB]
#
# Environment (all optional):
#   SIZE_GIB        size of the media used for the timing comparison, GiB (default 1;
#                   the first positional argument overrides it)
#   RUNS            timed runs per job, interleaved A B B2 C A B B2 C ... (default 5)
#   WARMUP          untimed rounds before the timed ones (default 1)
#   BENCH_DIR       work dir for media, outputs and logs (default /var/tmp/custos-bench)
#   OUT_DIR         where the acquired images are written (default $BENCH_DIR/out);
#                   e.g. OUT_DIR=/dev/shm/custos-bench to take the disk out of the picture
#   CUSTOS_ACQUIRE  binary under test (default <repo>/build/tools/custos-acquire)
#   SEED_TEXT       text repeated for the text quarter of the media
#                   (default <repo>/../shared/seed/international-cooperation-in-combating-cybercrime.txt)
#   SKIP_4G=1       skip the 4 GiB media and its RSS measurement
#   SKIP_RSS=1      skip the peak-RSS section entirely
#   SKIP_TIMING=1   skip the timing section
#
# Progress goes to stderr; the results go to stdout, so
#   bench/acquire.sh | tee result.txt
# keeps just the results.

set -euo pipefail

# ---------------------------------------------------------------- locations
script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(git -C "$script_dir" rev-parse --show-toplevel 2>/dev/null || (cd "$script_dir/.." && pwd -P))

SIZE_GIB=${1:-${SIZE_GIB:-1}}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
BENCH_DIR=${BENCH_DIR:-/var/tmp/custos-bench}
OUT_DIR=${OUT_DIR:-$BENCH_DIR/out}
CUSTOS_ACQUIRE=${CUSTOS_ACQUIRE:-$repo_root/build/tools/custos-acquire}
SEED_TEXT=${SEED_TEXT:-$repo_root/../shared/seed/international-cooperation-in-combating-cybercrime.txt}
SKIP_4G=${SKIP_4G:-0}
SKIP_RSS=${SKIP_RSS:-0}
SKIP_TIMING=${SKIP_TIMING:-0}

# Targets (from the design).
TARGET_DC3DD_RATIO=2.5    # dc3dd time / custos time  >= this
TARGET_OPENSSL_RATIO=1.25 # custos time / openssl-md5 time <= this
TARGET_RSS_MIB=64         # peak RSS <= this
TARGET_RSS_SPREAD=0.10    # 1 GiB vs 4 GiB peak RSS within 10 %

# Fixed key/iv: the random half of the media is the same on every machine.
AES_KEY=000102030405060708090a0b0c0d0e0f
AES_IV=f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff

LOG_DIR=$BENCH_DIR/logs
GIB=$((1024 * 1024 * 1024))

say() { printf '%s\n' "$*" >&2; }
die() { printf 'acquire.sh: error: %s\n' "$*" >&2; exit 1; }

[[ $SIZE_GIB =~ ^[1-9][0-9]*$ ]] || die "SIZE_GIB must be a positive integer (got '$SIZE_GIB')"
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer (got '$RUNS')"
[[ $WARMUP =~ ^[0-9]+$ ]] || die "WARMUP must be a non-negative integer (got '$WARMUP')"

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found${2:+ ($2)}"; }
need openssl
need dc3dd "apt-get install dc3dd"
need awk
[[ -x /usr/bin/time ]] || die "/usr/bin/time not found (apt-get install time)"
[[ -x $CUSTOS_ACQUIRE ]] || die "custos-acquire not found or not executable: $CUSTOS_ACQUIRE
  build it (cd $repo_root && meson setup build --buildtype=release && ninja -C build)
  or point CUSTOS_ACQUIRE at it"
[[ -r $SEED_TEXT && -s $SEED_TEXT ]] || die "seed text not readable: $SEED_TEXT (set SEED_TEXT)"

mkdir -p "$BENCH_DIR" "$OUT_DIR" "$LOG_DIR"

# ---------------------------------------------------------------- media
# Layout of an N GiB medium: [ zeros N/4 | text N/4 | AES-128-CTR keystream N/2 ].
# Deterministic: same bytes on every run and every machine (given the same seed text).
make_media() {
    local gib=$1 path=$BENCH_DIR/media-${1}g.img
    local total=$((gib * GIB))
    local q=$((total / 4)) h=$((total / 2))
    if [[ -f $path ]] && [[ $(stat -c %s "$path") -eq $total ]]; then
        say "media: reusing $path"
        printf '%s\n' "$path"
        return
    fi
    say "media: generating $path ($gib GiB) ..."
    local tmp=$path.tmp chunk=$BENCH_DIR/.text-chunk
    # Text chunk: the seed repeated until it is >= 1 MiB, always whole copies,
    # so concatenating chunks is still the seed repeated end to end.
    local seed_len reps chunk_len
    seed_len=$(stat -c %s "$SEED_TEXT")
    reps=$(((1024 * 1024 + seed_len - 1) / seed_len))
    : >"$chunk"
    for ((i = 0; i < reps; i++)); do cat "$SEED_TEXT" >>"$chunk"; done
    chunk_len=$(stat -c %s "$chunk")
    {
        head -c "$q" /dev/zero
        for ((i = 0; i < q / chunk_len; i++)); do cat "$chunk"; done
        head -c $((q % chunk_len)) "$chunk"
        head -c "$h" /dev/zero | openssl enc -aes-128-ctr -K "$AES_KEY" -iv "$AES_IV" -nosalt
    } >"$tmp"
    rm -f "$chunk"
    [[ $(stat -c %s "$tmp") -eq $total ]] || die "generated media has the wrong size: $tmp"
    mv "$tmp" "$path"
    printf '%s\n' "$path"
}

# Pull the medium into the page cache; the design times reads from the page cache.
warm_cache() {
    say "media: pre-reading $1 into the page cache"
    cat "$1" >/dev/null
}

cached_pct() { # percentage of a file resident in the page cache (needs fincore)
    if command -v fincore >/dev/null 2>&1; then
        fincore -b -n -o RES,SIZE "$1" 2>/dev/null | awk '{ if ($2 > 0) printf "%.0f%%", 100 * $1 / $2; else print "?" }'
    else
        printf '?'
    fi
}

# ---------------------------------------------------------------- jobs
# Each job reads $SRC; outputs are removed (untimed) before each run, and the page
# cache's dirty data is flushed (untimed) so no run pays for the previous one's writeback.
clean_outputs() {
    rm -f "$OUT_DIR"/c.* "$OUT_DIR"/d.raw
    sync
}

job_A() { "$CUSTOS_ACQUIRE" -f raw -H md5,sha1,sha256 -q -o "$OUT_DIR/c" "$SRC"; }
job_B() { dc3dd if="$SRC" of="$OUT_DIR/d.raw" hash=md5 hash=sha1 hash=sha256 log=/dev/null; }
job_B2() { job_B && sync "$OUT_DIR/d.raw"; }   # fsync the image, as custos does
job_C() { openssl dgst -md5 "$SRC"; }

JOBS=(A B B2 C)
declare -A LABEL=(
    [A]="custos-acquire -f raw -H md5,sha1,sha256"
    [B]="dc3dd hash=md5 hash=sha1 hash=sha256"
    [B2]="dc3dd ... + sync (fsync) of the image"
    [C]="openssl dgst -md5"
)

TIMEFORMAT='%3R %3U %3S'
# run_job JOB -> prints "wall user sys" (seconds); stdout of the job goes to
# $LOG_DIR/JOB.out, stderr (dc3dd's progress, errors) to $LOG_DIR/JOB.err.
run_job() {
    local j=$1 t
    clean_outputs
    if ! t=$({ time "job_$j" >"$LOG_DIR/$j.out" 2>"$LOG_DIR/$j.err"; } 2>&1); then
        say "job $j (${LABEL[$j]}) failed; its stderr:"
        sed 's/^/    /' "$LOG_DIR/$j.err" >&2
        exit 1
    fi
    printf '%s\n' "$t"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Sanity: the image custos wrote must be byte-identical to the source, and its md5 must
# appear in its report; otherwise timing it is meaningless.
check_custos_output() {
    local md5 sha f
    cmp -s "$SRC" "$OUT_DIR/c.raw" || die "custos-acquire image $OUT_DIR/c.raw differs from $SRC"
    for f in c.raw c.report.json c.report.txt c.sha256; do
        [[ -e $OUT_DIR/$f ]] || die "custos-acquire did not write $OUT_DIR/$f"
    done
    md5=$(openssl dgst -md5 -r "$SRC" | cut -d' ' -f1)
    grep -qi "$md5" "$OUT_DIR/c.report.json" ||
        say "WARNING: md5 of the source ($md5) not found in $OUT_DIR/c.report.json"
    sha=$(openssl dgst -sha256 -r "$SRC" | cut -d' ' -f1)
    grep -qi "$sha" "$OUT_DIR/c.sha256" ||
        say "WARNING: sha256 of the source ($sha) not found in $OUT_DIR/c.sha256"
}

verdict() { # verdict VALUE OP TARGET
    awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { ok = (op == ">=") ? (v >= t) : (v <= t); print ok ? "PASS" : "MISS" }'
}

# ---------------------------------------------------------------- header
cpu_model=$(lscpu 2>/dev/null | awk -F: '/^Model name/ { sub(/^[ \t]+/, "", $2); print $2; exit }')
mem_total=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
fs_type=$(df -PT "$OUT_DIR" | awk 'NR == 2 { print $2 " (" $1 ")" }')

# Build type, when the binary sits in a meson build dir (<builddir>/tools/custos-acquire).
build_type() {
    local bdir json
    bdir=$(cd "$(dirname "$CUSTOS_ACQUIRE")/.." 2>/dev/null && pwd -P) || return 0
    json=$bdir/meson-info/intro-buildoptions.json
    if [[ ! -r $json ]] || ! command -v python3 >/dev/null 2>&1; then echo "unknown"; return 0; fi
    python3 - "$json" <<'PY' || echo "unknown"
import json, sys
o = {x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}
print("%s (optimization %s, b_ndebug %s, b_sanitize %s)" % (
    o.get("buildtype"), o.get("optimization"), o.get("b_ndebug"), o.get("b_sanitize")))
PY
}
read -r load1 _ </proc/loadavg

if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
    say "WARNING: 1-min load average is $load1; timings will be noisy (the design assumes an idle two-core machine)"
fi

cat <<EOF
== custos-acquire benchmark (bench/acquire.sh) ==
date        $(date -u '+%Y-%m-%d %H:%M:%S UTC')
host        $(uname -n)
cpu         ${cpu_model:-unknown}
nproc       $(nproc)
memory      $mem_total
kernel      $(uname -sr)
output fs   $OUT_DIR on $fs_type
loadavg     $load1 (1 min, at start)
custos      $("$CUSTOS_ACQUIRE" --version 2>&1 | paste -sd ';' | sed 's/;/; /g')
custos-bin  $CUSTOS_ACQUIRE
build       $(build_type)
dc3dd       $(dc3dd --version 2>&1 | sed -n 's/^dc3dd (dc3dd) /dc3dd /p;q')
openssl     $(openssl version)
EOF

# ---------------------------------------------------------------- timing
if [[ $SKIP_TIMING != 1 ]]; then
    SRC=$(make_media "$SIZE_GIB")
    warm_cache "$SRC"
    size_mib=$((SIZE_GIB * 1024))

    say "timing: $WARMUP warm-up round(s), then $RUNS timed round(s) of: ${JOBS[*]}"
    for ((r = 1; r <= WARMUP; r++)); do
        for j in "${JOBS[@]}"; do
            say "  warm-up $r/$WARMUP: $j"
            run_job "$j" >/dev/null
            if [[ $j == A && $r == 1 ]]; then check_custos_output; fi
        done
    done
    if ((WARMUP == 0)); then run_job A >/dev/null; check_custos_output; fi

    declare -A WALL=() USR=() SYS=()
    for ((r = 1; r <= RUNS; r++)); do
        for j in "${JOBS[@]}"; do
            t=$(run_job "$j")
            read -r w u s <<<"$t"
            WALL[$j]+="$w "; USR[$j]+="$u "; SYS[$j]+="$s "
            say "  run $r/$RUNS: $(printf '%-3s %7.3f s wall' "$j" "$w")"
        done
    done
    clean_outputs
    cache_after=$(cached_pct "$SRC")

    declare -A MED=()
    echo
    echo "-- wall time, $SIZE_GIB GiB media from the page cache ($RUNS interleaved runs, median; page cache at end: $cache_after) --"
    printf '%-4s %-42s %9s %9s %9s %9s %9s  %s\n' job command median min max user sys MiB/s
    for j in "${JOBS[@]}"; do
        med=$(tr ' ' '\n' <<<"${WALL[$j]}" | grep . | median)
        MED[$j]=$med
        mn=$(tr ' ' '\n' <<<"${WALL[$j]}" | grep . | sort -g | head -1)
        mx=$(tr ' ' '\n' <<<"${WALL[$j]}" | grep . | sort -g | tail -1)
        mu=$(tr ' ' '\n' <<<"${USR[$j]}" | grep . | median)
        ms=$(tr ' ' '\n' <<<"${SYS[$j]}" | grep . | median)
        tput=$(awk -v m="$size_mib" -v t="$med" 'BEGIN { printf "%.0f", (t > 0) ? m / t : 0 }')
        printf '%-4s %-42s %8.3fs %8.3fs %8.3fs %8.3fs %8.3fs  %s\n' "$j" "${LABEL[$j]}" "$med" "$mn" "$mx" "$mu" "$ms" "$tput"
    done
    echo "(user/sys are medians too; runs in seconds: $(for j in "${JOBS[@]}"; do printf '%s=[%s] ' "$j" "${WALL[$j]% }"; done))"
    noisy=$(for j in "${JOBS[@]}"; do
        tr ' ' '\n' <<<"${WALL[$j]}" | grep . | sort -g |
            awk -v j="$j" '{ v[NR] = $1 } END { if (v[NR] > 1.25 * v[1]) printf "%s ", j }'
    done)
    if [[ -n $noisy ]]; then
        echo "NOTE: slowest run > 1.25x the fastest for: ${noisy% } -- was something else running? (1-min load now $(cut -d' ' -f1 /proc/loadavg))"
    fi

    r_dc3dd=$(awk -v b="${MED[B]}" -v a="${MED[A]}" 'BEGIN { printf "%.2f", b / a }')
    r_dc3dd2=$(awk -v b="${MED[B2]}" -v a="${MED[A]}" 'BEGIN { printf "%.2f", b / a }')
    r_openssl=$(awk -v a="${MED[A]}" -v c="${MED[C]}" 'BEGIN { printf "%.2f", a / c }')
    echo
    echo "-- ratios (medians) --"
    printf '%-48s %6s   target >= %-5s %s\n' "dc3dd / custos            (B / A)" "$r_dc3dd" "$TARGET_DC3DD_RATIO" "$(verdict "$r_dc3dd" '>=' "$TARGET_DC3DD_RATIO")"
    printf '%-48s %6s   target <= %-5s %s\n' "custos / openssl-md5      (A / C)" "$r_openssl" "$TARGET_OPENSSL_RATIO" "$(verdict "$r_openssl" '<=' "$TARGET_OPENSSL_RATIO")"
    printf '%-48s %6s   target >= %-5s %s  (info only: dc3dd made to fsync like custos)\n' "dc3dd+sync / custos       (B2 / A)" "$r_dc3dd2" "$TARGET_DC3DD_RATIO" "$(verdict "$r_dc3dd2" '>=' "$TARGET_DC3DD_RATIO")"
fi

# ---------------------------------------------------------------- peak RSS
# peak_rss GIB -> prints "rss_kib wall_s"
peak_rss() {
    local src=$1 tv=$LOG_DIR/time-v.txt
    clean_outputs
    if ! /usr/bin/time -v -o "$tv" "$CUSTOS_ACQUIRE" -f raw -H md5,sha1,sha256 -q -o "$OUT_DIR/c" "$src" \
        >"$LOG_DIR/rss.out" 2>"$LOG_DIR/rss.err"; then
        sed 's/^/    /' "$LOG_DIR/rss.err" >&2
        die "custos-acquire failed on $src"
    fi
    awk -F': ' '/Maximum resident set size/ { rss = $2 }
                /Elapsed \(wall clock\)/ { n = split($2, p, ":"); w = 0; for (i = 1; i <= n; i++) w = w * 60 + p[i] }
                END { printf "%s %.2f\n", rss, w }' "$tv"
    clean_outputs
}

if [[ $SKIP_RSS != 1 ]]; then
    sizes=(1)
    [[ $SKIP_4G == 1 ]] || sizes+=(4)
    declare -A RSS=()
    echo
    echo "-- peak RSS of custos-acquire (/usr/bin/time -v, Maximum resident set size) --"
    for g in "${sizes[@]}"; do
        src=$(make_media "$g")
        warm_cache "$src"
        say "rss: custos-acquire on $g GiB"
        t=$(peak_rss "$src")
        read -r kib wall <<<"$t"
        RSS[$g]=$kib
        mib=$(awk -v k="$kib" 'BEGIN { printf "%.1f", k / 1024 }')
        printf '%d GiB media: %8s MiB  (%s KiB; wall %ss)   target <= %d MiB  %s\n' \
            "$g" "$mib" "$kib" "$wall" "$TARGET_RSS_MIB" "$(verdict "$mib" '<=' "$TARGET_RSS_MIB")"
    done
    if [[ -n ${RSS[4]:-} ]]; then
        spread=$(awk -v a="${RSS[1]}" -v b="${RSS[4]}" 'BEGIN { lo = (a < b) ? a : b; hi = (a < b) ? b : a; printf "%.1f", 100 * (hi - lo) / lo }')
        printf 'same at 1 and 4 GiB: differ by %s%%   target <= %.0f%%  %s\n' \
            "$spread" "$(awk -v t="$TARGET_RSS_SPREAD" 'BEGIN { print 100 * t }')" \
            "$(verdict "$spread" '<=' "$(awk -v t="$TARGET_RSS_SPREAD" 'BEGIN { print 100 * t }')")"
    else
        echo "same at 1 and 4 GiB: not measured (SKIP_4G=1)"
    fi
fi
