#!/bin/sh
# Builds every libFuzzer target in t/fuzz/ with clang (fuzzer, address and
# undefined sanitizers, leak checking on) and runs each for a bounded time:
#   t/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# (default seconds: $APISEC_FUZZ_SECONDS, else 60). Output is TAP, one test
# per target, so prove can run it: `prove -v t/fuzz/run.sh`.
# A target names the core sources it links and the libraries it needs on its
# first lines: `// FUZZ_SOURCES: src/a.c ...` and `// FUZZ_LIBS: -l...`.
# Corpora grow in build-fuzz/corpus/<target> (seeded from t/fuzz/corpus/);
# crashes are written to build-fuzz/ and fail the run.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
seconds=${1:-${APISEC_FUZZ_SECONDS:-60}}; [ $# -gt 0 ] && shift
out=build-fuzz
mkdir -p "$out"
cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -Isrc $(pkg-config --cflags apr-1 apr-util-1 jansson libcrypto libmemcached)"
targets=${*:-$(ls t/fuzz/*_fuzz.c | sed 's|.*/||; s|\.c$||')}
status=0
n=0
for t in $targets; do
    n=$((n + 1))
    file=t/fuzz/$t.c
    srcs=$(sed -n 's|^// FUZZ_SOURCES:||p' "$file")
    libs=$(sed -n 's|^// FUZZ_LIBS:||p' "$file")
    echo "# building $t"
    # shellcheck disable=SC2086
    clang $cflags "$file" $srcs -o "$out/$t" $libs
    corpus=$out/corpus/$t
    mkdir -p "$corpus"
    [ -d "t/fuzz/corpus/$t" ] && cp -n t/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
    extra=""
    if [ -f "t/fuzz/$t.dirs" ]; then
        # Extra corpus directories, relative to the top of the tree.
        extra=$(sed "s|^|$top/|" "t/fuzz/$t.dirs" | while read -r d; do
            if [ -d "$d" ]; then printf '%s ' "$d"; fi
        done)
    fi
    echo "# running $t for ${seconds}s"
    # shellcheck disable=SC2086
    if ASAN_OPTIONS=detect_leaks=1 "$out/$t" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/$t-" \
        "$corpus" $extra >"$out/$t.log" 2>&1; then
        echo "ok $n - $t: $(grep -E '^stat::number_of_executed_units' "$out/$t.log" | awk '{print $2}') runs in ${seconds}s, no crash, no leak"
    else
        echo "not ok $n - $t: see $out/$t.log"; tail -30 "$out/$t.log" | sed 's/^/# /'; status=1
    fi
done
echo "1..$n"
exit $status
