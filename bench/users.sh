#!/bin/sh
# User lookup benchmark: AuthType JWT alone against AuthType JWT with
# APISecUserQuery through mod_dbd, with SQLite and with PostgreSQL, row
# cache off and on, all in one run on loopback:
#   bench/users.sh [SECONDS_PER_RUN] [ROUNDS]     (default 5 s, 3 rounds)
# Every variant GETs the same small static file with the same ES256 token
# (python3-jwt; the verified-token cache is on, as by default), so what
# differs is the lookup:
#   jwt          validation alone (the base of the ratios)
#   sqlite_off   + APISecUserQuery on an SQLite file of 10,000 users
#   sqlite_on    + APISecUserCacheTTL 60
#   pgsql_off    + APISecUserQuery on PostgreSQL (a server of our own on
#                  loopback, the same 10,000 users)
#   pgsql_on     + APISecUserCacheTTL 60
# Same method as bench/run.sh: servers side by side, runs interleaved, httpd
# pinned to core 0 and wrk (one thread) to core 1 (PostgreSQL too, as
# memcached in bench/ratelimit.sh: on core 0 it would take the time of the
# httpd it serves), median of rounds. Then user-space instructions per
# request of each variant (../shared/tools/httpd-ir; the httpd process only:
# SQLite runs inside it, PostgreSQL's work is in its own processes);
# APISEC_BENCH_IR=0 skips them.
# Traffic goes to 127.0.0.1 only; every server is stopped (by pid) at the end.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-5}; rounds=${2:-3}
conns=${APISEC_BENCH_CONNS:-32}
nusers=${APISEC_BENCH_USERS:-10000}
python=/usr/bin/python3   # Debian's, which has python3-jwt

. "$top/bench/lib.sh"
timed="jwt sqlite_off sqlite_on pgsql_off pgsql_on"
variants=$timed
bench_setup
# PostgreSQL refuses to run as root: t/lib/ApisecDB.pm runs it as this user.
id apisec-test >/dev/null 2>&1 \
    || useradd --system --no-create-home --shell /usr/sbin/nologin apisec-test

keys=$run/keys
t/make-keys "$keys" >/dev/null
token=$("$python" - "$keys" <<'EOF'
import sys, time
import jwt
now = int(time.time())
key = open(sys.argv[1] + "/ec256.pem", "rb").read()
print(jwt.encode({"iss": "https://issuer.test", "aud": "api://bench", "sub": "user42",
                  "iat": now, "exp": now + 7200, "ver": 0}, key, algorithm="ES256",
                 headers={"kid": "ec256"}))
EOF
)

# The users: the committed schema, NUSERS rows, user42 among them.
"$python" - "$nusers" > "$run/rows.sql" <<'EOF'
import sys
print("BEGIN;")
for i in range(int(sys.argv[1])):
    print("INSERT INTO users (id, username, password_hash, role, email) VALUES "
          "('user%d', 'name%d', '!', '%s', 'user%d@example.com');"
          % (i, i, "admin" if i % 10 == 0 else "user", i))
print("COMMIT;")
EOF
cat t/data/users.sql "$run/rows.sql" | sqlite3 "$run/users.db"
chmod a+r "$run/users.db"

# PostgreSQL on core 1, kept by a small Perl process that stops it (by pid)
# when it is told to (TERM) and removes its data directory.
cat > "$run/pg.pl" <<'EOF'
use strict;
use warnings;
use ApisecDB qw(pg_start pg_stop pg_exec pg_dbd_params);
my ($out, $rows) = @ARGV;
my $pg = pg_start();
pg_exec($pg, do { local (@ARGV, $/) = ($rows); <> });
pg_exec($pg, 'ANALYZE users;');
my $stop = 0;
$SIG{TERM} = $SIG{INT} = sub { $stop = 1 };
open my $f, '>', "$out.tmp" or die;
print $f pg_dbd_params($pg), "\n";
close $f;
rename "$out.tmp", $out;
sleep 1 until $stop;
pg_stop($pg);
EOF
taskset -c 1 perl -It/lib "$run/pg.pl" "$run/pg.params" "$run/rows.sql" &
pg_keeper=$!
cleanup() { kill "$pg_keeper" 2>/dev/null || true; wait "$pg_keeper" 2>/dev/null || true; bench_cleanup; }
trap cleanup EXIT INT TERM
for _ in $(seq 300); do [ -s "$run/pg.params" ] && break; sleep 0.1; done
[ -s "$run/pg.params" ] || { echo "bench: PostgreSQL did not start" >&2; exit 1; }
pg_params=$(cat "$run/pg.params")

query='APISecUserQuery "SELECT id, username, active, token_version, role, email FROM users WHERE id = %s"'
jwt_conf="    AuthType JWT
    AuthName api
    APISecJWTAlgorithms ES256
    APISecJWTKey kid=ec256 $keys/ec256.pub.pem
    APISecJWTIssuer https://issuer.test
    APISecJWTAudience api://bench"
mods="LoadModule authn_core_module $libexec/mod_authn_core.so
LoadModule authz_user_module $libexec/mod_authz_user.so
LoadModule dbd_module $libexec/mod_dbd.so
LoadModule apisec_module $top/build/mod_apisec.so"
# A connection per thread, kept: the lookup holds one for the request.
pool="DBDMin 4
DBDKeep 64
DBDMax 64
DBDExptime 300"
p=18640
for v in $timed; do
    p=$((p + 1))
    eval "port_$v=$p; mods_$v=\$mods; req_$v='Require valid-user'"
    case $v in
        jwt)      eval "conf_$v=\$jwt_conf" ;;
        *_off)    eval "conf_$v=\"\$jwt_conf
    \$query\"" ;;
        *_on)     eval "conf_$v=\"\$jwt_conf
    \$query
    APISecUserCacheTTL 60\"" ;;
    esac
    case $v in
        sqlite_*) eval "srv_$v=\"DBDriver sqlite3
DBDParams $run/users.db
\$pool\"" ;;
        pgsql_*)  eval "srv_$v=\"DBDriver pgsql
DBDParams \\\"$pg_params\\\"
\$pool\"" ;;
    esac
    eval "check_$v=http://127.0.0.1:$p/"
done

for v in $timed; do bench_start "$v"; done

# Each variant must take the token and refuse one without it; the lookup
# variants must also refuse a user who is not in the database.
unknown=$("$python" - "$keys" <<'EOF'
import sys, time
import jwt
now = int(time.time())
key = open(sys.argv[1] + "/ec256.pem", "rb").read()
print(jwt.encode({"iss": "https://issuer.test", "aud": "api://bench", "sub": "nobody",
                  "iat": now, "exp": now + 7200}, key, algorithm="ES256",
                 headers={"kid": "ec256"}))
EOF
)
for v in $timed; do
    eval "port=\$port_$v"
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
           "http://127.0.0.1:$port/small.json")
    [ "$code" = 200 ] || { echo "bench: $v answers $code to a known user's token" >&2;
                           tail -5 "$run/$v/error.log" >&2; exit 1; }
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/small.json")
    [ "$code" = 401 ] || { echo "bench: $v answers $code without a token" >&2; exit 1; }
    [ "$v" = jwt ] && continue
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $unknown" \
           "http://127.0.0.1:$port/small.json")
    [ "$code" = 401 ] || { echo "bench: $v answers $code to an unknown user" >&2; exit 1; }
done

measure() {  # $1 variant
    eval "port=\$port_$1"
    bench_wrk "$port" /small.json -H "Authorization: Bearer $token"
}
_secs=$secs; secs=1
for v in $timed; do measure "$v" >/dev/null; done
secs=$_secs
for r in $(seq "$rounds"); do
    for v in $timed; do measure "$v" >> "$run/$v.results"; done
done

echo
echo "scenario: GET 1 small static file (32 B JSON) with the same valid ES256 token, keep-alive,"
echo "$conns connections, wrk -t1 on core 1 (PostgreSQL too), httpd on core 0; $rounds rounds of ${secs}s,"
echo "interleaved; median of rounds; $nusers users; ratio to AuthType JWT alone (jwt)"
# shellcheck disable=SC2086
bench_table 12 $timed
for v in $timed; do
    if grep -q '^ERR' "$run/$v.results"; then
        echo "WARNING: $v got non-2xx answers in $(grep -c '^ERR' "$run/$v.results") round(s)"
    fi
done

if [ "${APISEC_BENCH_IR:-1}" = 1 ]; then
    echo
    echo "user-space instructions per request of the httpd process (httpd-ir, cachegrind, single"
    echo "process, same token; SQLite's work is counted, PostgreSQL's server side is not):"
    base_ir=""
    for v in $timed; do
        eval "port=\$port_$v"
        bench_stop "$v"
        n=$(bench_ir "$v" "http://127.0.0.1:$port/small.json" -H "Authorization: Bearer $token")
        [ -z "$base_ir" ] && base_ir=$n
        awk -v v="$v" -v n="$n" -v b="$base_ir" \
            'BEGIN { printf "%-12s %10s  (+%d over jwt)\n", v, n, n - b }'
    done
fi
