#!/bin/sh
# Benchmarks keys from a provider's URL against keys from a file: the same
# ES256 token, verified-token cache on (the default), side by side, on
# loopback; prints req/s, p50/p99, the ratio (the URL form must reach 0.98 of
# the file form), the fetch count of the JWKS server during the runs, and
# user-space instructions per request of both (httpd-ir):
#   bench/jwks.sh [SECONDS_PER_RUN] [ROUNDS]      (default 5 s, 3 rounds)
# Variants (bench/httpd.conf.in: one process, 64 threads):
#   file_ES256   APISecJWTKey kid=ec256 FILE (PEM public key)
#   url_ES256    APISecJWTKey https://127.0.0.1:PORT/jwks.json, verified
#                against APISecJWKSCA (the helper's self-signed certificate)
# The JWKS is served by a helper httpd with mod_ssl on loopback whose access
# log counts the fetches. Keys are made fresh (t/make-keys), the token is
# minted by python3-jwt. Servers on core 0, wrk (one thread) on core 1, runs
# interleaved round by round (the order alternating), median of rounds. APISEC_BENCH_IR=0 skips
# httpd-ir. Every server is stopped (by pid) at the end.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-5}; rounds=${2:-3}
conns=${APISEC_BENCH_CONNS:-32}
python=/usr/bin/python3   # Debian's, which has python3-jwt

. "$top/bench/lib.sh"
timed="file_ES256 url_ES256"
variants="$timed jwks"
bench_setup
trap bench_cleanup EXIT INT TERM

keys=$run/keys tok=$run/tok
t/make-keys "$keys"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -days 2 \
    -keyout "$keys/tls.key" -out "$keys/tls.crt" 2>/dev/null
mkdir -p "$tok"
"$python" - "$keys" "$tok" <<'PY'
import json, sys, time
import jwt
from jwt.algorithms import ECAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_public_key
keys, out = sys.argv[1], sys.argv[2]
now = int(time.time())
claims = {"iss": "https://issuer.test", "aud": "api://bench", "sub": "user0",
          "iat": now, "exp": now + 7200, "jti": "bench-0",
          "scope": "orders:read orders:write"}
with open(out + "/ES256.one", "w") as f:
    f.write(jwt.encode(claims, open(keys + "/ec256.pem", "rb").read(),
                       algorithm="ES256", headers={"kid": "ec256"}))
ec = json.loads(ECAlgorithm.to_jwk(load_pem_public_key(open(keys + "/ec256.pub.pem", "rb").read())))
ec.update(kid="ec256", use="sig", alg="ES256")
with open(out + "/jwks.json", "w") as f:
    json.dump({"keys": [ec]}, f)
PY
chmod -R a+rX "$keys" "$tok"
token=$(cat "$tok/ES256.one")

apisec_mods="LoadModule authn_core_module $libexec/mod_authn_core.so
LoadModule authz_user_module $libexec/mod_authz_user.so
LoadModule apisec_module $top/build/mod_apisec.so"
port_jwks=18299
mods_jwks="LoadModule ssl_module $libexec/mod_ssl.so
LoadModule alias_module $libexec/mod_alias.so"
srv_jwks="SSLEngine on
SSLCertificateFile $keys/tls.crt
SSLCertificateKeyFile $keys/tls.key
CustomLog $run/jwks.access \"%r %{User-Agent}i\"
Alias /jwks.json $tok/jwks.json
<Directory $tok>
    Require all granted
</Directory>"
conf_jwks=""
check_jwks=https://127.0.0.1:$port_jwks/jwks.json
scope_conf() {  # $1 key directive
    printf '    AuthType JWT\n    AuthName api\n    APISecJWTAlgorithms ES256\n    %s\n    APISecJWTIssuer https://issuer.test\n    APISecJWTAudience api://bench' "$1"
}
port_file_ES256=18201; mods_file_ES256=$apisec_mods; req_file_ES256='Require valid-user'
conf_file_ES256=$(scope_conf "APISecJWTKey kid=ec256 $keys/ec256.pub.pem")
port_url_ES256=18202; mods_url_ES256=$apisec_mods; req_url_ES256='Require valid-user'
srv_url_ES256="APISecJWKSCA $keys/tls.crt"
conf_url_ES256=$(scope_conf "APISecJWTKey https://127.0.0.1:$port_jwks/jwks.json")

bench_start jwks
for v in $timed; do bench_start "$v"; done
# Both answer the token before the runs start (the URL form once its keys
# have arrived).
for v in $timed; do
    eval "port=\$port_$v"
    ok=""
    for _ in $(seq 50); do
        code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" \
               "http://127.0.0.1:$port/small.json")
        [ "$code" = 200 ] && { ok=1; break; }
        sleep 0.1
    done
    [ -n "$ok" ] || { echo "bench: $v does not accept the token ($code)" >&2; cat "$run/$v/error.log" >&2; exit 1; }
done
# Fetches by mod_apisec (its User-Agent), not this script's own checks.
fetches() { grep -c ' mod_apisec$' "$run/jwks.access" || true; }
fetch0=$(fetches)

# The order alternates round by round, so neither form always runs second.
for r in $(seq "$rounds"); do
    order=$timed
    [ $((r % 2)) = 0 ] && order="url_ES256 file_ES256"
    for v in $order; do
        eval "port=\$port_$v"
        bench_wrk "$port" /small.json -H "Authorization: Bearer $token" >> "$run/$v.results"
    done
done
fetch1=$(fetches)
if grep -q ERR "$run"/*.results; then
    echo "bench: some answers were not 2xx:" >&2; grep -l ERR "$run"/*.results >&2; exit 1
fi
total=$(cat "$run/url_ES256.results" | awk -v s="$secs" '{ n += $1 * s } END { printf "%.0f", n }')

echo "ES256, the same token, cache on; $conns connections, ${secs} s x $rounds rounds, median:"
bench_table 12 $timed
ratio=$(awk -v a="$(bench_median "$run/url_ES256.results" | awk '{print $1}')" \
            -v b="$(bench_median "$run/file_ES256.results" | awk '{print $1}')" 'BEGIN { printf "%.3f", a / b }')
echo
echo "url/file ratio: $ratio (must be >= 0.98)"
echo "JWKS fetches by mod_apisec: $fetch0 before the runs (startup), $((fetch1 - fetch0)) during ~$total URL-form requests"

if [ "${APISEC_BENCH_IR:-1}" = 1 ]; then
    echo
    echo "user-space instructions per request (httpd-ir, cachegrind, single process, same token each request):"
    for v in $timed; do
        eval "port=\$port_$v"
        bench_stop "$v"
        n=$(bench_ir "$v" "http://127.0.0.1:$port/small.json" -H "Authorization: Bearer $token")
        printf '%-12s %10s\n' "$v" "$n"
    done
fi
awk -v r="$ratio" 'BEGIN { exit !(r >= 0.98) }' || { echo "bench: the URL form is below 0.98 of the file form" >&2; exit 1; }
