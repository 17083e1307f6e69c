#!/bin/sh
# Rate-limit benchmark: plain httpd against mod_apisec with a per-client
# limit that is never reached, with the shm store and with one memcached,
# and against mod_evasive (DOSSiteCount/DOSPageCount per client address,
# told by mod_remoteip) and mod_qos (QS_ClientEventLimitCount) with an
# equivalent per-client limit, all in one run on loopback:
#   bench/ratelimit.sh [SECONDS_PER_RUN] [ROUNDS]     (default 5 s, 3 rounds)
# Same method as bench/run.sh: servers side by side, runs interleaved,
# httpd pinned to core 0 and wrk to core 1; each ratio is the median over
# rounds of that round's req/s over plain's; p99 added latency is the
# variant's p99 minus plain's. Every server of the main table has
# EnableMMAP Off (see NOMMAP below); a second table repeats plain and the
# shm limit with httpd's default. At the end the store's memory as the
# metrics page reports it, and the decision alone (bench/store_bench.c).
# Then user-space instructions per request of each (httpd-ir, cachegrind):
# unlike req/s, repeatable on a busy machine. APISEC_BENCH_IR=0 skips it.
# mod_ratelimit is not compared: it limits bandwidth per response, not
# requests per client. mod_evasive and mod_qos are Debian's
# (libapache2-mod-evasive, libapache2-mod-qos: scripts/deps.sh bench),
# loaded by LoadModule as their .load files do. Debian 12's mod_qos 11.63
# cannot load so: it calls PCRE 1 (pcre_free) without linking libpcre3,
# and httpd 2.4 uses PCRE2; its row loads libpcre3 first (LoadFile) and
# is marked so. APISEC_QOS_SO names another mod_qos build.
# Traffic goes to 127.0.0.1 only; every server and memcached is stopped by
# pid at the end.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-5}; rounds=${2:-3}
conns=${APISEC_BENCH_CONNS:-32}

. "$top/bench/lib.sh"
all_variants="plain plain_again apisec_shm apisec_memcached mod_evasive mod_qos_pcre1 plain_mmap apisec_shm_mmap"
# APISEC_BENCH_VARIANTS runs a subset (it must hold plain, apisec_shm and
# apisec_memcached), so that many rounds of a few servers fit in minutes:
# the rounds scatter so much on a shared machine that a ratio needs a
# hundred of them to settle within a few percent.
variants=${APISEC_BENCH_VARIANTS:-$all_variants}
# Those of the arguments that this run runs, in their order.
ran() {
    for _v in "$@"; do
        case " $variants " in *" $_v "*) echo "$_v" ;; esac
    done
}
for v in plain apisec_shm apisec_memcached; do
    [ -n "$(ran "$v")" ] || { echo "bench: APISEC_BENCH_VARIANTS lacks $v" >&2; exit 2; }
done
bench_setup
module=${APISEC_BENCH_MODULE:-$top/build/mod_apisec.so}
qos=${APISEC_QOS_SO:-$libexec/mod_qos.so}
evasive=$libexec/mod_evasive20.so
for so in "$qos" "$evasive"; do
    [ -r "$so" ] || { echo "bench: $so not found: scripts/deps.sh bench" >&2; exit 1; }
done

mc_port=18190
# memcached shares core 1 with wrk: on core 0 it would take the time of
# the httpd it serves.
taskset -c 1 memcached -l 127.0.0.1 -p "$mc_port" -U 0 -t 1 -m 16 -u nobody &
mc_pid=$!
cleanup() { kill "$mc_pid" 2>/dev/null || true; bench_cleanup; }
trap cleanup EXIT INT TERM
# One memcached text command, its answer on stdout.
mc() {
    perl -MIO::Socket::INET -e '
        my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$ARGV[0]", Timeout => 1) or exit 1;
        print $s "$ARGV[1]\r\n";
        while (my $l = <$s>) { print $l; last if $l =~ /^(END|VERSION|ERROR)/ }' "$mc_port" "$1"
}
for _ in $(seq 50); do
    mc version 2>/dev/null | grep -q VERSION && break
    sleep 0.1
done

# 1,000 clients, told apart by X-Client (an address, so that mod_qos and
# mod_evasive can key on it too): wrk gives each request the next client in
# turn, so the 32 connections in flight are 32 different keys, as on a real
# server. (One key hit by 32 connections at once: t/ratelimit_hotkey.t.)
cat > "$run/clients.lua" <<'LUA'
local n = 0
request = function()
    n = n + 1
    local i = n % 1000
    return wrk.format(nil, nil, { ["X-Client"] = "10.0." .. math.floor(i / 256) .. "." .. (i % 256) })
end
LUA
LIMIT="    APISecRateLimit 1000000/1s key=header:X-Client"
METRICS="<Location /metrics>
    SetHandler apisec-metrics
</Location>"
# The servers without mod_apisec get the same section (as a no-op), so
# that every server of the main table walks the same sections.
NOMETRICS="<Location /metrics>
    Require all granted
</Location>"
port_plain=18181; port_apisec_shm=18182; port_apisec_memcached=18183; port_mod_evasive=18185
port_mod_qos_pcre1=18184
# EnableMMAP Off in every server of the main comparison: with httpd's
# default, each request of the static file maps it, faults it in and
# unmaps it, and on this 2-core VM that costs plain httpd a fifth of its
# req/s and slows all other per-request work (its unmap flushes TLB
# entries). An API's answer comes from a handler or a backend, not from a
# mapped file. The *_mmap pair repeats plain and the shm limit with the
# default, so both figures are in one run.
NOMMAP="EnableMMAP Off"
mods_plain=""; conf_plain=""; srv_plain="$NOMMAP
$NOMETRICS"
# The control: a second plain server, the same in all but its port. Its
# ratio to plain is what this machine's noise alone makes of a ratio in
# this run; a variant's ratio says no more than that.
port_plain_again=18188; mods_plain_again=""; conf_plain_again=""
srv_plain_again="$srv_plain"
mods_apisec_shm="LoadModule apisec_module $module"
srv_apisec_shm="$NOMMAP
APISecStore shm size=1M
$METRICS"
conf_apisec_shm="$LIMIT"
mods_apisec_memcached="LoadModule apisec_module $module"
srv_apisec_memcached="$NOMMAP
APISecStore memcached 127.0.0.1:$mc_port timeout=100
$METRICS"
conf_apisec_memcached="$LIMIT"
# mod_evasive: the client's address from X-Client (mod_remoteip, which
# mod_evasive reads as the request's address), at most 1,000,000 requests
# per client per second site-wide and per page: never reached.
mods_mod_evasive="LoadModule remoteip_module $libexec/mod_remoteip.so
LoadModule evasive20_module $evasive"
srv_mod_evasive="$NOMMAP
$NOMETRICS
RemoteIPHeader X-Client
RemoteIPInternalProxy 127.0.0.1
DOSHashTableSize 3097
DOSSiteCount 1000000
DOSSiteInterval 1
DOSPageCount 1000000
DOSPageInterval 1
DOSBlockingPeriod 10
DOSLogDir $run/mod_evasive"
conf_mod_evasive=""
# mod_qos: every request is an event counted per client address; the limit
# (events per second per address) is never reached either.
mods_mod_qos_pcre1="LoadFile /usr/lib/x86_64-linux-gnu/libpcre.so.3
LoadModule qos_module $qos
LoadModule setenvif_module $libexec/mod_setenvif.so"
srv_mod_qos_pcre1="$NOMMAP
$NOMETRICS
QS_ClientEntries 10000
QS_ClientIpFromHeader X-Client
SetEnvIf Request_URI . QS_Limit=yes
QS_ClientEventLimitCount 1000000 1"
conf_mod_qos_pcre1=""
# Not in the default list: the shm limit without its RateLimit fields
# (APISecRateLimitHeaders off), to tell the fields' cost from the
# decision's; APISEC_BENCH_VARIANTS names it.
port_apisec_shm_nofields=18189; mods_apisec_shm_nofields="$mods_apisec_shm"
srv_apisec_shm_nofields="$srv_apisec_shm"
conf_apisec_shm_nofields="$LIMIT
    APISecRateLimitHeaders off"
port_plain_mmap=18186; mods_plain_mmap=""; conf_plain_mmap=""
port_apisec_shm_mmap=18187; mods_apisec_shm_mmap="$mods_apisec_shm"
srv_apisec_shm_mmap="APISecStore shm size=1M"; conf_apisec_shm_mmap="$LIMIT"

mkdir -p "$run/mod_evasive"
[ "$(id -u)" = 0 ] && chown www-data "$run/mod_evasive"
for v in $variants; do bench_start "$v"; done

# The limits are on: a limited variant answers with its headers.
curl -s -D - -o /dev/null -H 'X-Client: 10.0.0.1' "http://127.0.0.1:$port_apisec_shm/small.json" | grep -qi '^RateLimit:' \
    || { echo "bench: apisec_shm sends no RateLimit field" >&2; exit 1; }
curl -s -D - -o /dev/null -H 'X-Client: 10.0.0.1' "http://127.0.0.1:$port_apisec_memcached/small.json" | grep -qi '^RateLimit:' \
    || { echo "bench: apisec_memcached sends no RateLimit field (memcached down?)" >&2; exit 1; }

for v in $variants; do eval "port=\$port_$v"; taskset -c 1 wrk -t1 -c"$conns" -d1s -s "$run/clients.lua" "http://127.0.0.1:$port/small.json" >/dev/null; done
# Each round starts one variant further along the list (round 2 with
# plain_again, ..., round 9 with plain again): a variant run always in the
# same place of a round, say right after plain, would carry whatever that
# place costs on this machine into every ratio.
r=0
while [ "$r" -lt "$rounds" ]; do
    for v in $(bench_rotate "$r" $variants); do
        eval "port=\$port_$v"
        bench_wrk "$port" /small.json -s "$run/clients.lua" >> "$run/$v.results"
    done
    r=$((r + 1))
done
if grep -q ERR "$run"/*.results; then
    echo "bench: a variant answered other than 2xx (a limit was reached?)" >&2
    grep -l ERR "$run"/*.results >&2
    exit 1
fi

echo
echo "scenario: GET 1 small static file (EnableMMAP Off), keep-alive, $conns connections, 1,000 clients"
echo "(X-Client), a per-client limit never reached; wrk -t1 on core 1, httpd (1 process, 64 threads) on core 0"
echo "$rounds rounds of ${secs}s, interleaved, each round starting one variant later; req/s and"
echo "latencies: median of rounds;"
echo "ratio: median of the rounds' paired ratios to plain (each round's runs follow each other)"
# shellcheck disable=SC2046
bench_paired_table 20 $(ran plain plain_again apisec_shm apisec_shm_nofields apisec_memcached mod_evasive mod_qos_pcre1)
[ -n "$(ran plain_again)" ] \
    && echo "(plain_again: a second plain server, the control: its distance from 1.000 is this run's noise)"
[ -n "$(ran mod_qos_pcre1)" ] \
    && echo "(mod_qos_pcre1: Debian's mod_qos with libpcre3 loaded first, the only way it loads)"
if [ -n "$(ran plain_mmap)" ]; then
    echo "the same with httpd's default EnableMMAP On (the file mapped and unmapped per request):"
    # shellcheck disable=SC2046
    bench_paired_table 20 $(ran plain_mmap apisec_shm_mmap)
fi
base_p99=$(bench_median "$run/plain.results" | awk '{print $3}')
for v in $(ran apisec_shm apisec_shm_nofields apisec_memcached mod_evasive mod_qos_pcre1); do
    bench_median "$run/$v.results" | awk -v v="$v" -v b="$base_p99" \
        '{ printf "%-20s p99 added: %+.3f ms\n", v, $3 - b }'
done
echo
# The store's memory while 1,000 clients are being counted (counts expire
# a window after they stop weighing: read after the load they are gone).
echo "store memory, read 1 s into a 2 s run of the same load:"
taskset -c 1 wrk -t1 -c"$conns" -d2s -s "$run/clients.lua" "http://127.0.0.1:$port_apisec_shm/small.json" >/dev/null &
sleep 1
curl -s "http://127.0.0.1:$port_apisec_shm/metrics" | grep -E '^apisec_store_shm_(bytes|slots|live) ' \
    | sed 's/^/  shm: /'
wait $!
taskset -c 1 wrk -t1 -c"$conns" -d2s -s "$run/clients.lua" "http://127.0.0.1:$port_apisec_memcached/small.json" >/dev/null &
sleep 1
echo "  memcached: $(mc stats | tr -d '\r' \
    | awk '$2 == "bytes" || $2 == "curr_items" { printf "%s=%s ", $2, $3 }')(two counters a key: this window's and the last)"
wait $!
# memcached commands over the variant's rate-limit decisions (its metrics
# page counts one per request), both since the start. memcached counts an
# increment that creates its counter in none of its command counters, only
# in total_items (items stored), so that is added.
ops=$(curl -s "http://127.0.0.1:$port_apisec_memcached/metrics" \
    | awk '/^apisec_store_operations_total/ { print $2 }')
mc stats | tr -d '\r' | awk -v ops="$ops" '
    $2 ~ /^(cmd_get|cmd_set|total_items|incr_hits|incr_misses|decr_hits|decr_misses)$/ { n += $3; s = s sprintf("%s=%s ", $2, $3) }
    END { printf "  memcached commands per request: %.3f (%s; %d requests)\n", n / ops, s, ops }'

echo
echo "the decision alone (bench/store_bench.c, -O2, one core, no httpd):"
# shellcheck disable=SC2046
cc -O2 -Isrc $(pkg-config --cflags apr-1 apr-util-1) \
    src/ratelimit.c src/store.c src/store_shm.c bench/store_bench.c \
    -o "$run/store_bench" $(pkg-config --libs apr-1 apr-util-1) -lcrypto
for k in 1000 10000; do taskset -c 1 "$run/store_bench" "$k" 1 | sed 's/^/  /'; done

# req/s on a shared 2-core machine moves with whatever else runs; user-space
# instructions per request (cachegrind, one process) do not. One key here
# (httpd-ir sends the same headers each time).
if [ "${APISEC_BENCH_IR:-1}" = 1 ]; then
    echo
    echo "user-space instructions per request (httpd-ir, cachegrind, single process, 2000 requests):"
    for v in $variants; do
        eval "port=\$port_$v"
        bench_stop "$v"
        printf '%-20s %10s\n' "$v" \
            "$(bench_ir "$v" "http://127.0.0.1:$port/small.json" -H 'X-Client: 10.0.0.1')"
    done
fi
