#!/bin/sh
# Benchmarks JSON request validation against plain httpd and mod_security2,
# all in one run on loopback, and prints req/s, p50/p99 latency and the ratio
# to plain httpd for two order bodies (about 2 KB and 64 KB), then the
# validator's own throughput (bench/json_tape_bench.c):
#   bench/json.sh [SECONDS_PER_RUN] [ROUNDS]      (default 5 s, 3 rounds)
# Every variant POSTs the same valid order (application/json) to the same
# CGI-free handler, so what differs is the body path. Two handlers, each
# timed: "lua", a four-line mod_lua handler (LuaScope thread) that reads the
# whole body (r:requestbody()) and answers a 15-byte JSON; and "static", a
# POST to a 32-byte static file, which httpd's default handler answers after
# reading and discarding the body (ap_discard_request_body) - the cheapest
# handler that reads a body, so the module's share shows most. The issue's
# figure is the "lua" one: an API backend reads the body it is sent (so
# plain httpd pays for reading it too), and both servers run the very same
# handler; no backend throws an order away unread as the static case does,
# which is printed as the module's worst case. Variants:
#   plain     nothing else
#   apisec    APISecJSON On, APISecJSONMaxBody 128k, APISecJSONSchema POST
#             with the order schema (items of {productId uuid, quantity
#             1..100, ...}, customer, shipping address with a country enum,
#             optional promo code pattern), APISecJSONStrict On: the body is
#             read in fixups, parsed, validated and handed on to the handler
#   modsec2   Debian's mod_security2 (libapache2-mod-security2, installed if
#             missing and then left disabled system-wide): SecRuleEngine On,
#             SecRequestBodyAccess On, a phase 1 rule setting
#             ctl:requestBodyProcessor=JSON for application/json and the
#             usual REQBODY_ERROR deny rule, SecArgumentsLimit raised so the
#             64 KB order (5,000 values) parses; no other rules (no CRS), so this
#             is its body reading and JSON parsing alone
# Servers are pinned to core 0, wrk (one thread, a Lua script for the POST
# body) to core 1, runs interleaved round by round, median of rounds. Each
# variant is first checked to answer the order 200 and a broken order as
# expected. Then (APISEC_BENCH_IR=0 skips it) user-space instructions per
# request of each variant on the static handler, from
# ../shared/tools/httpd-ir, which does not move with the machine's load.
# Traffic goes to 127.0.0.1 only; every server is stopped (by pid) at the end.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
secs=${1:-5}; rounds=${2:-3}
conns=${APISEC_BENCH_CONNS:-32}

. "$top/bench/lib.sh"
variants="plain apisec modsec2"
bench_setup
if [ ! -e "$libexec/mod_security2.so" ]; then
    [ "$(id -u)" = 0 ] || { echo "bench: install libapache2-mod-security2" >&2; exit 1; }
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq --no-install-recommends libapache2-mod-security2 >/dev/null
    # Its postinst enables it (and unique_id) for the system's httpd: this
    # benchmark loads it itself, nothing else should.
    a2dismod -q -f security2 >/dev/null 2>&1 || true
fi
trap bench_cleanup EXIT INT TERM

# The bodies and the schema, in the run directory.
python3 - "$run" <<'EOF'
import json, sys
run = sys.argv[1]
def order(target):
    items, k = [], 0
    base = {"orderId": "ord-20261123-0001",
            "customer": {"id": 48213, "email": "jane.doe@example.com", "name": "Jane Doe"},
            "shipping": {"name": "Jane Doe", "street": "12 Rue de Rivoli", "city": "Paris",
                         "postalCode": "75001", "country": "FR"},
            "promoCode": "SPRING24", "items": items}
    while len(json.dumps(base, separators=(",", ":"))) < target - 110:
        items.append({"productId": "3fa85f64-5717-4562-b3fc-%012d" % k,
                      "quantity": k % 100 + 1, "unitPrice": 10 + (k % 90) + (k % 100) / 100,
                      "name": "Widget \u00e9dition %d" % k, "gift": k % 3 == 0})
        k += 1
    return json.dumps(base, separators=(",", ":"))
for name, size in (("2k", 2048), ("64k", 65536)):
    with open("%s/order_%s.json" % (run, name), "w") as f:
        f.write(order(size))
schema = {
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object", "required": ["items", "shipping"],
  "properties": {
    "orderId": {"type": "string", "pattern": "^ord-[0-9]{8}-[0-9]{4}$"},
    "customer": {"type": "object", "required": ["id", "email"],
                 "properties": {"id": {"type": "integer", "minimum": 1},
                                "email": {"type": "string", "format": "email"},
                                "name": {"type": "string", "maxLength": 100}}},
    "items": {"type": "array", "minItems": 1, "maxItems": 2000,
              "items": {"type": "object", "required": ["productId", "quantity"],
                        "properties": {"productId": {"type": "string", "format": "uuid"},
                                       "quantity": {"type": "integer", "minimum": 1, "maximum": 100},
                                       "unitPrice": {"type": "number", "exclusiveMinimum": 0},
                                       "name": {"type": "string", "maxLength": 200},
                                       "gift": {"type": "boolean"}}}},
    "shipping": {"type": "object", "required": ["name", "street", "city", "postalCode", "country"],
                 "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 100},
                                "street": {"type": "string", "minLength": 1, "maxLength": 200},
                                "city": {"type": "string", "minLength": 1, "maxLength": 100},
                                "postalCode": {"type": "string", "pattern": "^[A-Za-z0-9 -]{2,10}$"},
                                "country": {"enum": ["DE", "FR", "GB", "IE", "NL", "US"]}}},
    "promoCode": {"type": "string", "pattern": "^[A-Z0-9]{4,12}$"}}}
with open(run + "/order.schema.json", "w") as f:
    json.dump(schema, f)
EOF
cat > "$run/handler.lua" <<'EOF'
function handle(r)
    local body = r:requestbody()
    r.content_type = "application/json"
    r:puts('{"received":' .. #body .. '}')
    return apache2.OK
end
EOF
for size in 2k 64k; do
    cat > "$run/post_$size.lua" <<EOF
local f = assert(io.open("$run/order_$size.json", "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
EOF
done
chmod -R a+rX "$run"

# variant name | port | modules to load | server and directory config
port_plain=18091; port_apisec=18092; port_modsec2=18093
lua="LoadModule lua_module $libexec/mod_lua.so"
# LuaMapHandler is server-level; the directory section's config still
# applies to /order (a path under the DocumentRoot).
# LuaScope thread: one Lua state per worker thread, kept (the default makes
# a fresh state per request, which would dwarf the body path).
handler="LuaScope thread
LuaMapHandler ^/order\$ $run/handler.lua handle"
mods_plain=$lua; srv_plain=$handler; conf_plain=""
mods_apisec="$lua
LoadModule apisec_module $top/build/mod_apisec.so"
srv_apisec=$handler
conf_apisec="    APISecJSON On
    APISecJSONMaxBody 128k
    APISecJSONSchema POST $run/order.schema.json
    APISecJSONStrict On"
mods_modsec2="$lua
LoadModule unique_id_module $libexec/mod_unique_id.so
LoadModule security2_module $libexec/mod_security2.so"
srv_modsec2="SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 1048576
SecRequestBodyNoFilesLimit 131072
SecRequestBodyInMemoryLimit 131072
SecRequestBodyLimitAction Reject
SecArgumentsLimit 100000
SecResponseBodyAccess Off
SecAuditEngine Off
SecDebugLogLevel 0
SecTmpDir $run
SecDataDir $run
SecRule REQUEST_HEADERS:Content-Type \"^application/(?:[a-z0-9.+-]+\\+)?json\" \"id:1000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON\"
SecRule REQBODY_ERROR \"!@eq 0\" \"id:1001,phase:2,t:none,deny,status:400,log,msg:'request body parse error'\"
$handler"
conf_modsec2=""

for v in $variants; do bench_start "$v"; done

# Every variant must take the good orders and handle a broken one before it
# is timed: the handler's answer for the first, its own refusal for the other.
scenarios="lua_2k static_2k lua_64k static_64k"
path_lua=/order; path_static=/small.json
for v in $variants; do
    eval "port=\$port_$v"
    for sc in $scenarios; do
        h=${sc%_*}; size=${sc#*_}
        eval "path=\$path_$h"
        got=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
              --data-binary "@$run/order_$size.json" "http://127.0.0.1:$port$path")
        [ "$got" = 200 ] || { echo "bench: $v answered $got to the $size order ($h)" >&2;
                              cat "$run/$v/error.log" >&2; exit 1; }
    done
    bad=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
          --data-binary '{"items":[1,' "http://127.0.0.1:$port/order")
    echo "check: $v answers 200 to both orders on both handlers, $bad to a truncated one"
done

measure() {  # $1 variant, $2 scenario -> "rps p50_ms p99_ms"
    eval "port=\$port_$1; path=\$path_${2%_*}"
    bench_wrk "$port" "$path" -s "$run/post_${2#*_}.lua"
}

# Warm-up, then interleaved rounds.
for v in $variants; do
    for sc in $scenarios; do measure "$v" "$sc" >/dev/null; done
done
for _ in $(seq "$rounds"); do
    for sc in $scenarios; do
        for v in $variants; do
            r=$(measure "$v" "$sc")
            case $r in ERR*) echo "bench: $v got non-2xx answers ($sc)" >&2; exit 1 ;; esac
            echo "$r" >> "$run/${v}_$sc.results"
        done
    done
done

echo
for sc in $scenarios; do
    h=${sc%_*}; size=${sc#*_}
    bytes=$(wc -c < "$run/order_$size.json")
    case $h in
    lua) what="a mod_lua handler that reads it" ;;
    static) what="a static file (the default handler reads and discards it)" ;;
    esac
    echo "scenario $sc: POST of a valid $bytes-byte order (application/json) to $what; keep-alive, $conns connections, wrk -t1 on core 1, httpd on core 0"
    echo "$rounds rounds of ${secs}s, interleaved; median of rounds"
    # bench_table reads $run/VARIANT.results
    for v in $variants; do cp "$run/${v}_$sc.results" "$run/$v.results"; done
    # shellcheck disable=SC2086
    bench_table 10 $variants
    echo
done

# The issue's aims, from the medians above.
ratio() {  # $1 variant, $2 scenario -> its median req/s over plain's
    awk -v a="$(bench_median "$run/${1}_$2.results" | cut -d' ' -f1)" \
        -v b="$(bench_median "$run/plain_$2.results" | cut -d' ' -f1)" \
        'BEGIN { printf "%.3f", a / b }'
}
a2=$(ratio apisec lua_2k); a64=$(ratio apisec lua_64k)
m2=$(ratio modsec2 lua_2k); m64=$(ratio modsec2 lua_64k)
ahead=$(awk -v a="$a2" -v b="$m2" -v c="$a64" -v d="$m64" \
        'BEGIN { print (a > b && c > d) ? "ahead at both sizes" : "NOT ahead at both sizes" }')
echo "aims (mod_lua handler): mod_apisec at 2 KB $a2 of plain (aim >= 0.85)," \
     "at 64 KB $a64; mod_security2 $m2 and $m64: mod_apisec $ahead"
echo "worst case (static file POST): mod_apisec $(ratio apisec static_2k) at 2 KB," \
     "$(ratio apisec static_64k) at 64 KB"
echo

# req/s on a shared 2-core machine moves with whatever else runs; user-space
# instructions per request (cachegrind, one process) do not.
if [ "${APISEC_BENCH_IR:-1}" = 1 ]; then
    echo "user-space instructions per request, static handler (httpd-ir, cachegrind, single process, 2000 requests):"
    printf '%-10s %12s %12s\n' variant 2k 64k
    for v in $variants; do
        eval "port=\$port_$v"
        bench_stop "$v"
        n2=$(bench_ir "$v" "http://127.0.0.1:$port/small.json" \
             -p "$run/order_2k.json" -T application/json)
        n64=$(bench_ir "$v" "http://127.0.0.1:$port/small.json" \
              -p "$run/order_64k.json" -T application/json)
        printf '%-10s %12s %12s\n' "$v" "$n2" "$n64"
    done
    echo
fi

echo "validator alone (bench/json_tape_bench.c, -O2, one core):"
# shellcheck disable=SC2046
cc -O2 -Isrc $(pkg-config --cflags apr-1 jansson libpcre2-8) \
    src/json_tape.c src/json_tape_string.c src/json_format.c \
    src/json_schema_compile.c src/json_schema.c src/json_schema_eq.c \
    bench/json_tape_bench.c -o "$run/json_tape_bench" \
    $(pkg-config --libs apr-1 jansson libpcre2-8) -lm
taskset -c 1 "$run/json_tape_bench"
