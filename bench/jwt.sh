#!/bin/sh
# Benchmarks AuthType JWT against plain httpd and mod_auth_openidc, all in one
# run on loopback, and prints req/s, p50/p99 latency and the ratio to plain
# httpd; then per-process memory under many distinct tokens and instructions
# per request:
#   bench/jwt.sh [SECONDS_PER_RUN] [ROUNDS]      (default 5 s, 3 rounds)
# Every variant GETs the same small static file with a valid bearer token:
#   plain           no authentication (the same Authorization header is sent)
#   apisec_ALG      AuthType JWT, one ALG key, verified-token cache on (the
#                   default), the same token on every request
#   apisec_ALG_off  the same with APISecJWTCache off and a fresh token per
#                   request (wrk Lua script over a pre-minted list)
#   openidc_ALG     mod_auth_openidc, AuthType oauth20, verifying the same
#                   token as apisec_ALG locally (it has no cache for
#                   locally verified JWTs: every request verifies)
# mod_auth_openidc 2.4.12 (Debian 12) verifies HS* with
# OIDCOAuthVerifySharedKeys, RSA keys from PEM files with
# OIDCOAuthVerifyCertFiles (RSA only), and EC keys only from a JWKS it fetches
# over https (OIDCOAuthVerifyJwksUri): a helper httpd with mod_ssl on loopback
# serves that JWKS. It cannot verify EdDSA at all (cjose has no OKP keys):
# there is no openidc_EdDSA.
# Tokens carry kid, iss, aud, sub, iat, exp (2 h), jti, scope; mod_apisec
# checks iss and aud too. Keys are made fresh for the run (t/make-keys),
# tokens are minted by python3-jwt (PyJWT), not by our code.
# Servers are pinned to core 0, wrk (one thread) to core 1, runs interleaved
# round by round, median of rounds. Then:
#   memory   VmRSS of the httpd child of a fresh cache-on HS256 server before
#            and after APISEC_BENCH_MEM_TOKENS (100000) distinct tokens
#   ir       user-space instructions per request (../shared/tools/httpd-ir,
#            cachegrind) of plain, every apisec_ALG (cache on),
#            apisec_ES256_off (same token: cache off verifies every time),
#            openidc_HS256 and openidc_ES256, with the ratio plain / variant;
#            and two references that are not timed: plain_rsatok (plain
#            httpd sent the longer RS256 token: what parsing that header
#            costs httpd itself) and basic (AuthType Basic with
#            mod_authn_anon, the cheapest provider httpd has: what httpd's
#            own authn/authz framework and `Require valid-user` cost any
#            auth module). APISEC_BENCH_IR=0 skips it.
# Traffic goes to 127.0.0.1 only; every server is stopped (by pid) at the end.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-5}; rounds=${2:-3}
conns=${APISEC_BENCH_CONNS:-32}
ntokens=${APISEC_BENCH_TOKENS:-4000}
nmem=${APISEC_BENCH_MEM_TOKENS:-100000}
python=/usr/bin/python3   # Debian's, which has python3-jwt

. "$top/bench/lib.sh"
algs="HS256 RS256 ES256 EdDSA"
oidc_algs="HS256 RS256 ES256"
timed="plain"
for a in $algs; do timed="$timed apisec_$a"; done
for a in $algs; do timed="$timed apisec_${a}_off"; done
for a in $oidc_algs; do timed="$timed openidc_$a"; done
variants="$timed jwks mem plain_rsatok basic"
bench_setup
trap bench_cleanup EXIT INT TERM

# Keys, the TLS certificate of the JWKS server, tokens, the JWKS.
keys=$run/keys tok=$run/tok
t/make-keys "$keys"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj /CN=127.0.0.1 -days 2 -keyout "$keys/tls.key" -out "$keys/tls.crt" 2>/dev/null
mkdir -p "$tok"
"$python" - "$keys" "$tok" "$ntokens" "$nmem" <<'EOF'
import json, sys, time
import jwt
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_public_key

keys, out, n, nmem = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
now = int(time.time())
signing = {  # alg: (kid, private key)
    "HS256": ("hs", open(keys + "/hmac.secret", "rb").read()),
    "RS256": ("rsa", open(keys + "/rsa.pem", "rb").read()),
    "ES256": ("ec256", open(keys + "/ec256.pem", "rb").read()),
    "EdDSA": ("ed", open(keys + "/ed25519.pem", "rb").read()),
}
def mint(alg, i):
    kid, key = signing[alg]
    claims = {"iss": "https://issuer.test", "aud": "api://bench", "sub": "user%d" % i,
              "iat": now, "exp": now + 7200, "jti": "%s-%d" % (alg, i),
              "scope": "orders:read orders:write"}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid})
for alg in signing:
    with open("%s/%s.one" % (out, alg), "w") as f:
        f.write(mint(alg, 0))
    with open("%s/%s.list" % (out, alg), "w") as f:
        f.writelines(mint(alg, i) + "\n" for i in range(1, n + 1))
with open(out + "/mem.list", "w") as f:
    f.writelines(mint("HS256", i) + "\n" for i in range(1, nmem + 1))
# The JWKS mod_auth_openidc fetches for EC keys (and RSA, for completeness).
pub = lambda name: load_pem_public_key(open("%s/%s.pub.pem" % (keys, name), "rb").read())
ec = json.loads(ECAlgorithm.to_jwk(pub("ec256")))
ec.update(kid="ec256", use="sig", alg="ES256")
rsa = json.loads(RSAAlgorithm.to_jwk(pub("rsa")))
rsa.update(kid="rsa", use="sig", alg="RS256")
with open(out + "/jwks.json", "w") as f:
    json.dump({"keys": [ec, rsa]}, f)
EOF
chmod -R a+rX "$keys" "$tok"

# Lua for wrk: a fresh token per request from APISEC_TOKENS, one per line;
# requests are formatted once, in init.
cat > "$run/fresh.lua" <<'EOF'
local reqs, i = {}, 0
function init(args)
  for line in io.lines(os.getenv("APISEC_TOKENS")) do
    reqs[#reqs + 1] = wrk.format(nil, nil, { Authorization = "Bearer " .. line })
  end
end
function request()
  i = i % #reqs + 1
  return reqs[i]
end
EOF

# Sends tokens FIRST..FIRST+COUNT-1 (1-based lines of FILE) once each to
# 127.0.0.1:PORT/small.json over CONNS keep-alive connections, prints how
# many it sent, fails on any answer but 200. (wrk cannot stop after N
# requests: its thread:stop() still waits out the whole duration.)
cat > "$run/send.py" <<'EOF'
import http.client, sys, threading
port, path, first, count, conns = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
with open(path) as f:
    toks = [t.strip() for t in f][first - 1:first - 1 + count]
bad, sent = [], [0] * conns
def worker(k):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
    for t in toks[k::conns]:
        c.request("GET", "/small.json", headers={"Authorization": "Bearer " + t})
        r = c.getresponse()
        r.read()
        if r.status != 200:
            bad.append(r.status)
        sent[k] += 1
    c.close()
ts = [threading.Thread(target=worker, args=(k,)) for k in range(conns)]
for t in ts:
    t.start()
for t in ts:
    t.join()
if bad:
    sys.exit("bench: %d answers were not 200 (%s)" % (len(bad), sorted(set(bad))))
print(sum(sent))
EOF

# The servers.
authz_user="LoadModule authn_core_module $libexec/mod_authn_core.so
LoadModule authz_user_module $libexec/mod_authz_user.so"
apisec_mods="$authz_user
LoadModule apisec_module $top/build/mod_apisec.so"
oidc_mods="$authz_user
LoadModule auth_openidc_module $libexec/mod_auth_openidc.so"
apisec_key() {  # $1 alg -> key directive
    case $1 in
        HS256) echo "APISecJWTSecret file:$keys/hmac.secret kid=hs" ;;
        RS256) echo "APISecJWTKey kid=rsa $keys/rsa.pub.pem" ;;
        ES256) echo "APISecJWTKey kid=ec256 $keys/ec256.pub.pem" ;;
        EdDSA) echo "APISecJWTKey kid=ed $keys/ed25519.pub.pem" ;;
    esac
}
port_plain=18100; mods_plain=""; conf_plain=""
port_jwks=18199
mods_jwks="LoadModule ssl_module $libexec/mod_ssl.so
LoadModule alias_module $libexec/mod_alias.so"
srv_jwks="SSLEngine on
SSLCertificateFile $keys/tls.crt
SSLCertificateKeyFile $keys/tls.key
Alias /jwks.json $tok/jwks.json
<Directory $tok>
    Require all granted
</Directory>"
conf_jwks=""
check_jwks=https://127.0.0.1:$port_jwks/jwks.json
p=18100
for a in $algs; do
    for v in "apisec_$a" "apisec_${a}_off"; do
        p=$((p + 1))
        eval "port_$v=$p"
        eval "mods_$v=\$apisec_mods"
        eval "req_$v='Require valid-user'"
        eval "conf_$v=\"    AuthType JWT
    AuthName api
    APISecJWTAlgorithms $a
    $(apisec_key "$a")
    APISecJWTIssuer https://issuer.test
    APISecJWTAudience api://bench\""
    done
    eval "srv_apisec_${a}_off='APISecJWTCache off'"
done
port_mem=18198; mods_mem=$apisec_mods; req_mem=$req_apisec_HS256; conf_mem=$conf_apisec_HS256
for a in $oidc_algs; do
    v=openidc_$a
    p=$((p + 1))
    eval "port_$v=$p; mods_$v=\$oidc_mods; req_$v='Require valid-user'"
    eval "conf_$v='    AuthType oauth20
    AuthName api'"
done
srv_openidc_HS256="OIDCOAuthVerifySharedKeys plain#hs#$(cat "$keys/hmac.secret")"
srv_openidc_RS256="OIDCOAuthVerifyCertFiles rsa#$keys/rsa.pub.pem"
srv_openidc_ES256="OIDCOAuthVerifyJwksUri https://127.0.0.1:$port_jwks/jwks.json
OIDCOAuthSSLValidateServer Off"

# References for the instruction counts only (never started here).
port_plain_rsatok=18196; mods_plain_rsatok=""; conf_plain_rsatok=""
port_basic=18197
mods_basic="$authz_user
LoadModule auth_basic_module $libexec/mod_auth_basic.so
LoadModule authn_anon_module $libexec/mod_authn_anon.so"
req_basic='Require valid-user'
conf_basic="    AuthType Basic
    AuthName api
    AuthBasicProvider anon
    Anonymous *
    Anonymous_MustGiveEmail off"
basic_auth="Basic $(printf 'anonymous:bench@example.test' | base64)"

bench_start jwks
for v in $timed; do bench_start "$v"; done

alg_of() { case $1 in plain) echo HS256 ;; *) echo "$1" | cut -d_ -f2 ;; esac; }

# Each variant must take its token(s) and refuse a request without one
# before it is timed.
for v in $timed; do
    eval "port=\$port_$v"
    a=$(alg_of "$v")
    case $v in *_off) t=$(head -1 "$tok/$a.list") ;; *) t=$(cat "$tok/$a.one") ;; esac
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t" \
           "http://127.0.0.1:$port/small.json")
    [ "$code" = 200 ] || { echo "bench: $v answers $code to a valid $a token" >&2;
                           tail -5 "$run/$v/error.log" >&2; exit 1; }
    [ "$v" = plain ] && continue
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/small.json")
    [ "$code" = 401 ] || { echo "bench: $v answers $code without a token" >&2; exit 1; }
done

measure() {  # $1 variant -> "rps p50_ms p99_ms"
    _mv=$1
    eval "port=\$port_$_mv"
    a=$(alg_of "$_mv")
    case $_mv in
        *_off) APISEC_TOKENS=$tok/$a.list; export APISEC_TOKENS
               bench_wrk "$port" /small.json -s "$run/fresh.lua" ;;
        *)     bench_wrk "$port" /small.json -H "Authorization: Bearer $(cat "$tok/$a.one")" ;;
    esac
}

child_of() {  # $1 variant -> pid of its (one) httpd child
    ps -o pid= --ppid "$(bench_pid "$1")" | head -1 | tr -d ' '
}
cpu_ticks() {  # $1 pid -> user + system clock ticks so far
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
hz=$(getconf CLK_TCK)

# Warm-up, then interleaved rounds. Besides wrk's figures, each run records
# the CPU time (user + system) the variant's httpd child spent per request:
# on a machine shared with other work, that holds better than req/s.
_secs=$secs; secs=1
for v in $timed; do measure "$v" >/dev/null; done
secs=$_secs
for r in $(seq "$rounds"); do
    for v in $timed; do
        c=$(child_of "$v"); t0=$(cpu_ticks "$c")
        line=$(measure "$v")
        t1=$(cpu_ticks "$c")
        echo "$line" >> "$run/$v.results"
        echo "$line" | awk -v t="$((t1 - t0))" -v hz="$hz" -v s="$secs" \
            '$1 != "ERR" { printf "%.2f\n", t / hz * 1e6 / ($1 * s) }' >> "$run/$v.cpu"
    done
done

echo
echo "scenario: GET 1 small static file (32 B JSON) with a valid bearer token, keep-alive, $conns connections,"
echo "wrk -t1 on core 1, httpd on core 0; $rounds rounds of ${secs}s, interleaved; median of rounds"
echo "apisec_ALG: cache on, same token; apisec_ALG_off: cache off, a fresh token per request ($ntokens tokens);"
echo "openidc_ALG: mod_auth_openidc $(dpkg-query -W -f='${Version}' libapache2-mod-auth-openidc), AuthType oauth20, same token (no EdDSA support)"
# shellcheck disable=SC2086
bench_table 16 $timed
for v in $timed; do
    if grep -q '^ERR' "$run/$v.results"; then
        echo "WARNING: $v got non-2xx answers in $(grep -c '^ERR' "$run/$v.results") round(s)"
    fi
done

echo
echo "server CPU per request: user + system time of the httpd child during the timed runs / requests,"
echo "median of rounds; capacity = plain's CPU per request / the variant's (what one core could serve)"
printf '%-16s %10s %9s\n' variant cpu_us capacity
base_cpu=$(bench_median "$run/plain.cpu")
for v in $timed; do
    bench_median "$run/$v.cpu" | awk -v v="$v" -v b="$base_cpu" '{ printf "%-16s %10.1f %9.3f\n", v, $1, b / $1 }'
done

med_rps() { bench_median "$run/$1.results" | awk '{print $1}'; }
echo
echo "aims (cache on): >= 0.90 of plain httpd's req/s; ahead of mod_auth_openidc on the same token"
echo "(by req/s, and by server CPU per request)"
base=$(med_rps plain)
med_cpu() { bench_median "$run/$1.cpu"; }
for a in $algs; do
    o="" oc=""
    case " $oidc_algs " in *" $a "*) o=$(med_rps "openidc_$a"); oc=$(med_cpu "openidc_$a") ;; esac
    awk -v a="$a" -v r="$(med_rps "apisec_$a")" -v b="$base" -v o="$o" \
        -v c="$(med_cpu "apisec_$a")" -v bc="$base_cpu" -v oc="$oc" '
        function v(ok) { return ok ? "met" : "MISSED" }
        BEGIN {
            printf "%-6s req/s: %.3f of plain %s", a, r / b, v(r / b >= 0.90);
            if (o != "") printf ", %.2fx openidc %s", r / o, v(r > o);
            printf "; CPU: %.3f of plain %s", bc / c, v(bc / c >= 0.90);
            if (o != "") printf ", %.2fx openidc %s\n", oc / c, v(oc > c);
            else printf "; mod_auth_openidc cannot verify %s\n", a }'
done

# Memory: one fresh cache-on server (default cache size), its one child.
rss() {  # $1 variant -> VmRSS of its httpd child in kB
    awk '/^VmRSS:/ { print $2 }' "/proc/$(child_of "$1")/status"
}
send_once() {  # $1 first token (1-based), $2 count: mem.list tokens to the mem server
    taskset -c 1 "$python" "$run/send.py" "$port_mem" "$tok/mem.list" "$1" "$2" "$conns"
}
bench_start mem
nfill=$((nmem / 10))
curl -s -o /dev/null -H "Authorization: Bearer $(cat "$tok/HS256.one")" "http://127.0.0.1:$port_mem/small.json"
rss0=$(rss mem)
sent1=$(send_once 1 "$nfill")
rss1=$(rss mem)
sent2=$(send_once $((nfill + 1)) $((nmem - nfill)))
rss2=$(rss mem)
echo
echo "memory: VmRSS of the httpd child (64 threads) of a cache-on HS256 server, APISecJWTCache default (4096)"
printf '%-40s %8s kB\n' "after 1 token" "$rss0"
printf '%-40s %8s kB  (%s requests)\n' "after $nfill distinct tokens" "$rss1" "$sent1"
printf '%-40s %8s kB  (%s more requests)\n' "after $nmem distinct tokens" "$rss2" "$sent2"
echo "growth from $nfill to $nmem tokens: $((rss2 - rss1)) kB"
bench_stop mem

if [ "${APISEC_BENCH_IR:-1}" = 1 ]; then
    echo
    echo "user-space instructions per request (httpd-ir, cachegrind, single process, same token each request);"
    echo "ratio = plain / variant:"
    printf '%-16s %10s %8s\n' variant instr ratio
    ir_plain=""
    for v in plain plain_rsatok basic apisec_HS256 apisec_RS256 apisec_ES256 apisec_EdDSA \
             apisec_ES256_off openidc_HS256 openidc_ES256; do
        eval "port=\$port_$v"
        case $v in
            plain_rsatok) auth="Bearer $(cat "$tok/RS256.one")"; bench_render "$v" ;;
            basic) auth=$basic_auth; bench_render "$v" ;;
            *) auth="Bearer $(cat "$tok/$(alg_of "$v").one")"; bench_stop "$v" ;;
        esac
        n=$(bench_ir "$v" "http://127.0.0.1:$port/small.json" -H "Authorization: $auth")
        [ -z "$ir_plain" ] && ir_plain=$n
        printf '%-16s %10s %8s\n' "$v" "$n" "$(awk -v a="$ir_plain" -v b="$n" 'BEGIN { if (b > 0) printf "%.3f", a / b }')"
    done
fi
