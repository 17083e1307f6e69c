#!/bin/sh
# Login throughput at bcrypt cost 12 on one core, against the floor: the
# bcrypt hash itself, as fast as `htpasswd -B -C 12` hashes on that core.
#   bench/login.sh [SECONDS] [ROUNDS]      (default 20 s, 3 rounds)
# The server: httpd (one process, event MPM) pinned to core 0, SetHandler
# apisec-login with APISecLoginQuery on a SQLite users table (mod_dbd) of one
# user whose hash `htpasswd -B -C 12` wrote, ES256 signing key, the shm
# store (each login writes its refresh family). wrk (one thread, on core 1)
# POSTs the right password over $APISEC_BENCH_CONNS (default 4) keep-alive
# connections: more than one so that the core never waits for the client.
# Every answer must be 200, or the round counts as an error.
# The floor: htpasswd pinned to core 0 hashing one cost-12 password per run,
# as many runs as fit in SECONDS (its start-up, ~2 ms, is noise against a
# hash of a quarter second). Prints both rates (medians of ROUNDS) and the
# ratio login/htpasswd: 1.0 means the endpoint costs nothing beyond the hash.
# Traffic goes to 127.0.0.1 only; the server is stopped (by pid) at the end.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-20}; rounds=${2:-3}
conns=${APISEC_BENCH_CONNS:-4}
cost=12

. "$top/bench/lib.sh"
variants="login"
bench_setup
trap bench_cleanup EXIT INT TERM

# Keys and the users table, made for this run.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$run/sign.pem" 2>/dev/null
hash=$(htpasswd -nbB -C "$cost" bench bench-password | cut -d: -f2 | tr -d '\n')
sqlite3 "$run/users.db" < t/data/users.sql    # the one users schema
sqlite3 "$run/users.db" "INSERT INTO users (id, username, password_hash, role) VALUES ('b1', 'bench', '$hash', 'reader');"
chmod -R a+rX "$run"
[ "$(id -u)" = 0 ] && chown www-data "$run" "$run/users.db"

port_login=${APISEC_BENCH_PORT:-8093}
mods_login="LoadModule dbd_module $libexec/mod_dbd.so
LoadModule apisec_module $top/build/mod_apisec.so"
srv_login="DBDriver sqlite3
DBDParams $run/users.db
APISecTokenSigningKey kid=bench $run/sign.pem
APISecTokenIssuer https://bench.test
APISecTokenClaims role
APISecLoginQuery \"SELECT id, password_hash, role, token_version FROM users WHERE username = %s\"
<Location /login>
    SetHandler apisec-login
</Location>"
conf_login=""

cat > "$run/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"username":"bench","password":"bench-password"}'
wrk.headers["Content-Type"] = "application/json"
LUA

bench_start login
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary '{"username":"bench","password":"bench-password"}' "http://127.0.0.1:$port_login/login")
[ "$code" = 200 ] || { echo "bench: login answered $code" >&2; cat "$run/login/error.log" >&2; exit 1; }

: > "$run/login.results"
: > "$run/htpasswd.results"
for r in $(seq "$rounds"); do
    bench_wrk "$port_login" /login -s "$run/post.lua" >> "$run/login.results"
    # The floor, on the same core, for the same time.
    n=0
    t0=$(date +%s.%N)
    end=$(echo "$t0 + $secs" | bc)
    while [ "$(echo "$(date +%s.%N) < $end" | bc)" = 1 ]; do
        taskset -c 0 htpasswd -nbB -C "$cost" u bench-password > /dev/null
        n=$((n + 1))
    done
    t1=$(date +%s.%N)
    echo "$n $t0 $t1" | awk '{ printf "%.3f\n", $1 / ($3 - $2) }' >> "$run/htpasswd.results"
    echo "# round $r: login $(tail -1 "$run/login.results" | awk '{print $1}') req/s," \
         "htpasswd $(tail -1 "$run/htpasswd.results") hashes/s"
done
grep -q ERR "$run/login.results" && { echo "bench: a login round got non-2xx answers" >&2; exit 1; }
login=$(bench_median "$run/login.results")
floor=$(sort -n "$run/htpasswd.results" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
echo "$login $floor" | awk -v c="$cost" '{
    printf "login (bcrypt cost %d, one core)   %8.2f req/s  p50 %.0f ms  p99 %.0f ms\n", c, $1, $2, $3
    printf "htpasswd -B -C %d (one core)       %8.2f hashes/s\n", c, $4
    printf "ratio login / htpasswd              %8.3f\n", $1 / $4 }'
