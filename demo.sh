#!/bin/sh
# The mod_apisec demo, from a fresh Debian 12 clone, as root:
#   ./demo.sh [PORT]     build the module and start httpd on 127.0.0.1:PORT
#                        (default 8080; HTTPS on PORT+363, 8443 by default)
#   ./demo.sh stop       stop it
# Missing Debian packages are installed first. Runtime files go to demo-run/.
set -eu
top=$(cd "$(dirname "$0")" && pwd)
cd "$top"
run=$top/demo-run

if [ "${1:-}" = stop ]; then
    if [ -f "$run/httpd.pid" ]; then
        kill "$(cat "$run/httpd.pid")" && echo "demo stopped"
    else
        echo "the demo is not running"
    fi
    exit 0
fi
port=${1:-8080}
tlsport=$((port + 363))

scripts/deps.sh demo
scripts/build.sh build
libexec=$(apxs -q LIBEXECDIR)
httpd=$(apxs -q SBINDIR)/$(apxs -q TARGET)

[ -f "$run/httpd.pid" ] && kill "$(cat "$run/httpd.pid")" 2>/dev/null && sleep 1
mkdir -p "$run/logs"
if [ ! -s "$run/tls.pem" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
        -keyout "$run/tls.key" -out "$run/tls.pem" >/dev/null 2>&1
fi
mkdir -p "$run/keys"
if [ ! -s "$run/keys/demo-es256.pem" ]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
        -out "$run/keys/demo-es256.pem" 2>/dev/null
    openssl pkey -in "$run/keys/demo-es256.pem" -pubout \
        -out "$run/keys/demo-es256.pub.pem"
fi
# Users through mod_dbd (issue 6): the users database, made afresh from the
# schema and the demo users at every start; httpd's children only read it.
rm -f "$run/users.db"
cat conf/demo/users.sql conf/demo/users-demo.sql | sqlite3 "$run/users.db"
chmod a+rx "$run"
chmod a+r "$run/users.db"
userlines=""
if [ "$(id -u)" = 0 ]; then
    # httpd's children must not run as root; they only read the demo files.
    userlines="User www-data
Group www-data"
    chmod -R a+rX conf/demo
    chmod a+rx "$top" "$top/conf" "$top/build" 2>/dev/null || true
    chmod a+r build/mod_apisec.so
fi
sed -e "s|@DIR@|$run|g" -e "s|@SRC@|$top|g" -e "s|@PORT@|$port|g" \
    -e "s|@TLSPORT@|$tlsport|g" -e "s|@LIBEXECDIR@|$libexec|g" \
    -e "s|@MODULE@|$top/build/mod_apisec.so|g" conf/demo.conf.in \
  | awk -v u="$userlines" '{ if ($0 == "@USERLINES@") print u; else print }' \
  > "$run/httpd.conf"
"$httpd" -t -f "$run/httpd.conf" >/dev/null 2>&1 || { "$httpd" -t -f "$run/httpd.conf"; exit 1; }
"$httpd" -f "$run/httpd.conf" -k start
for _ in 1 2 3 4 5 6 7 8 9 10; do
    curl -s -o /dev/null "http://127.0.0.1:$port/api/v1/" && break
    sleep 0.3
done

h="http://127.0.0.1:$port"
s="https://127.0.0.1:$tlsport"
cat <<MSG

mod_apisec demo running: $h (HTTPS: $s, self-signed)
Logs: $run/logs/ (audit.log has the security events)

Security headers (helmet's set) on a JSON route, and on a 404:
  curl -i $h/api/v1/
  curl -i $h/api/v1/missing.json
HSTS only over HTTPS:
  curl -ik $s/api/v1/
CORS: an allowed origin, a refused one, a preflight, a refused preflight:
  curl -i -H 'Origin: https://app.example.com' $h/api/v1/orders.json
  curl -i -H 'Origin: https://evil.example.net' $h/api/v1/orders.json
  curl -i -X OPTIONS -H 'Origin: https://app.example.com' -H 'Access-Control-Request-Method: POST' $h/api/v1/orders.json
  curl -i -X OPTIONS -H 'Origin: https://evil.example.net' -H 'Access-Control-Request-Method: POST' $h/api/v1/orders.json
Public data for any origin:
  curl -i -H 'Origin: https://anyone.example' $h/public/status.json
TLS enforcement (308 to HTTPS, path and query kept):
  curl -i '$h/secure/account.json?view=full'
JWT: no token, a good token, one without the admin scope, and a forged one:
  curl -i $h/api/v1/me
  curl -s -H "Authorization: Bearer \$(scripts/demo-token alice)" $h/api/v1/me
  curl -i -H "Authorization: Bearer \$(scripts/demo-token alice)" $h/api/v1/admin
  curl -s -H "Authorization: Bearer \$(scripts/demo-token root admin)" $h/api/v1/admin
  curl -i -H "Authorization: Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0." $h/api/v1/me
What reaches the application (a CGI echo); spoofed X-APISec-* headers are dropped:
  curl -s -H 'X-APISec-Claim-Sub: admin' -H 'X-Trace: 1' -d '{"a":1}' -H 'Content-Type: application/json' $h/api/echo
JSON validation: a good order reaches the application byte for byte; a bad one is a 400 naming each error's JSON pointer:
  curl -s -H 'Content-Type: application/json' -d '{"items":[{"productId":"3f2504e0-4f89-41d3-9a0c-0305e82c3301","quantity":2}],"shipping":{"name":"Ada Lovelace","street":"12 St James Sq","city":"London","postalCode":"SW1Y 4JH","country":"GB"}}' $h/api/v1/orders
  curl -s -H 'Content-Type: application/json' -d '{"items":[{"productId":"not-a-uuid","quantity":0}],"shipping":{"name":"Ada","street":"1 Main St","city":"Paris","postalCode":"75001","country":"XX"},"isAdmin":true}' $h/api/v1/orders
Users through mod_dbd (SQLite, $run/users.db): alice is known (APISEC_USER_* reach the
application); nobody is unknown, mallory inactive, and bob's token_version 1 kills tokens
without ver (401 each); only an admin row passes Require apisec-user role admin (alice 403,
root 200); raising token_version kills alice's tokens:
  curl -s -H "Authorization: Bearer \$(scripts/demo-token alice)" $h/api/v1/me
  curl -i -H "Authorization: Bearer \$(scripts/demo-token nobody)" $h/api/v1/staff
  curl -i -H "Authorization: Bearer \$(scripts/demo-token mallory)" $h/api/v1/staff
  curl -i -H "Authorization: Bearer \$(scripts/demo-token bob)" $h/api/v1/staff
  curl -i -H "Authorization: Bearer \$(scripts/demo-token alice)" $h/api/v1/staff
  curl -s -H "Authorization: Bearer \$(scripts/demo-token root)" $h/api/v1/staff
  sqlite3 $run/users.db "UPDATE users SET token_version = 1 WHERE id = 'alice'"
  curl -i -H "Authorization: Bearer \$(scripts/demo-token alice)" $h/api/v1/staff
Rate limits: 5 a minute on /public/ (the sixth is a 429 with Retry-After and RateLimit fields), 3 failed logins a minute, metrics:
  for i in 1 2 3 4 5; do curl -s -o /dev/null -w '%{http_code} ' $h/public/status.json; done; echo
  curl -i $h/public/status.json
  for i in 1 2 3; do curl -s -o /dev/null -w '%{http_code} ' -H 'Authorization: Bearer bad' $h/api/v1/me; done; echo
  curl -i -H "Authorization: Bearer \$(scripts/demo-token alice)" $h/api/v1/me
  curl -s $h/metrics
Security events:
  tail $run/logs/audit.log

Stop it with: ./demo.sh stop
MSG
