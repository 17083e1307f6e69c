#!/bin/sh
# Benchmarks mod_apisec against plain httpd and peer setups, all in one run on
# loopback, and prints req/s, p50/p99 latency and the ratio to plain httpd:
#   bench/run.sh [SECONDS_PER_RUN] [ROUNDS]      (default 5 s, 3 rounds)
# Every server is started side by side; runs are interleaved (plain, variant,
# plain, variant, ...) so drift hits all alike. httpd is pinned to core 0 and
# wrk (one thread) to core 1: paired ratios then hold within about 3%.
# With APISEC_BENCH_IR=1 it also counts user-space instructions per request
# of each variant with ../shared/tools/httpd-ir (cachegrind, repeatable).
# Traffic goes to 127.0.0.1 only; every server is stopped at the end.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-5}; rounds=${2:-3}
conns=${APISEC_BENCH_CONNS:-32}

. "$top/bench/lib.sh"
variants="plain apisec mod_headers"
bench_setup

HELMET_HEADERS='Header always set Content-Security-Policy "default-src '"'"'self'"'"';base-uri '"'"'self'"'"';font-src '"'"'self'"'"' https: data:;form-action '"'"'self'"'"';frame-ancestors '"'"'self'"'"';img-src '"'"'self'"'"' data:;object-src '"'"'none'"'"';script-src '"'"'self'"'"';script-src-attr '"'"'none'"'"';style-src '"'"'self'"'"' https: '"'"'unsafe-inline'"'"';upgrade-insecure-requests"
    Header always set Cross-Origin-Opener-Policy same-origin
    Header always set Cross-Origin-Resource-Policy same-origin
    Header always set Origin-Agent-Cluster "?1"
    Header always set Referrer-Policy no-referrer
    Header always set X-Content-Type-Options nosniff
    Header always set X-DNS-Prefetch-Control off
    Header always set X-Download-Options noopen
    Header always set X-Frame-Options SAMEORIGIN
    Header always set X-Permitted-Cross-Domain-Policies none
    Header always set X-XSS-Protection 0
    Header always unset X-Powered-By
    SetEnvIf Origin "^https://app\.example\.com$" CORS_OK=$0
    Header always set Access-Control-Allow-Origin %{CORS_OK}e env=CORS_OK
    Header always set Access-Control-Allow-Credentials true env=CORS_OK
    Header always merge Vary Origin'

# variant name | port | modules to load | directory config
port_plain=18081; port_apisec=18082; port_mod_headers=18083
mods_plain=""; conf_plain=""
mods_apisec="LoadModule apisec_module $top/build/mod_apisec.so"
conf_apisec="    APISecHeaders On
    APISecCORSAllowOrigin https://app.example.com
    APISecCORSAllowCredentials On"
mods_mod_headers="LoadModule headers_module $libexec/mod_headers.so
LoadModule setenvif_module $libexec/mod_setenvif.so"
conf_mod_headers="    $HELMET_HEADERS"
trap bench_cleanup EXIT INT TERM

for v in $variants; do bench_start "$v"; done

# Each variant must answer the same request the same way before it is timed.
curl -s -D - -o /dev/null -H 'Origin: https://app.example.com' \
    "http://127.0.0.1:$port_apisec/small.json" | grep -q '^X-Frame-Options: SAMEORIGIN' \
    || { echo "bench: apisec variant does not send its headers" >&2; exit 1; }
curl -s -D - -o /dev/null -H 'Origin: https://app.example.com' \
    "http://127.0.0.1:$port_mod_headers/small.json" | grep -q '^Access-Control-Allow-Origin: https://app.example.com' \
    || { echo "bench: mod_headers variant does not send its headers" >&2; exit 1; }

measure() {  # $1 variant -> "rps p50_ms p99_ms"
    eval "port=\$port_$1"
    bench_wrk "$port" /small.json -H 'Origin: https://app.example.com'
}

# Warm-up, then interleaved rounds.
for v in $variants; do eval "port=\$port_$v"; taskset -c 1 wrk -t1 -c"$conns" -d1s "http://127.0.0.1:$port/small.json" >/dev/null; done
for r in $(seq "$rounds"); do
    for v in $variants; do
        measure "$v" >> "$run/$v.results"
    done
done

echo
echo "scenario: GET 1 small static file (32 B JSON), keep-alive, $conns connections, wrk -t1 on core 1, httpd on core 0"
echo "$rounds rounds of ${secs}s, interleaved; median of rounds"
# shellcheck disable=SC2086
bench_table 14 $variants

if [ "${APISEC_BENCH_IR:-0}" = 1 ]; then
    echo
    echo "user-space instructions per request (httpd-ir, cachegrind, single process):"
    for v in $variants; do
        eval "port=\$port_$v"
        bench_stop "$v"
        n=$(bench_ir "$v" "http://127.0.0.1:$port/small.json" \
             -H 'Origin: https://app.example.com')
        printf '%-14s %10s\n' "$v" "$n"
    done
fi
