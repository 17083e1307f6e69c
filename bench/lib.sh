# Shell functions shared by the benchmarks (bench/run.sh, bench/jwt.sh).
# Sourced, not run: the caller sets $top (the source tree, also the current
# directory) and $variants (the servers to stop at the end), then calls
# bench_setup. Each server is one variant NAME with variables
#   port_NAME   its port on 127.0.0.1
#   mods_NAME   LoadModule lines (server level)
#   srv_NAME    further server-level directives (optional)
#   conf_NAME   directives inside the <Directory> of the served files
#   req_NAME    Require line replacing the template's "Require all granted"
#               (optional: AuthType variants need a Require that needs a user)
#   tmpl_NAME   config template (optional, default bench/httpd.conf.in)
#   check_NAME  URL that answers once it is up (optional, default
#               http://127.0.0.1:PORT/small.json; https is not verified)

# Installs what is missing, builds the module; sets $libexec, $httpd, $run
# (a fresh directory for configs, logs and pid files) and $userlines.
bench_setup() {
    scripts/deps.sh bench
    scripts/build.sh build >/dev/null
    libexec=$(apxs -q LIBEXECDIR)
    httpd=$(apxs -q SBINDIR)/$(apxs -q TARGET)
    run=$(mktemp -d /tmp/apisec-bench.XXXXXX)
    chmod 755 "$run"
    userlines=""
    if [ "$(id -u)" = 0 ]; then
        userlines="User www-data
Group www-data"
        chmod -R a+rX bench/htdocs build/mod_apisec.so
        chmod a+rx "$top" "$top/bench" "$top/build"
    fi
}

# The pid of variant NAME's running httpd parent, from its pid file, or
# nothing: a pid file left behind (httpd-ir's single-process server leaves
# one) is ignored unless that pid is still an httpd run with this config.
bench_pid() {  # $1 variant
    [ -f "$run/$1/httpd.pid" ] || return 0
    _pid=$(cat "$run/$1/httpd.pid")
    { tr '\0' ' ' < "/proc/$_pid/cmdline"; } 2>/dev/null \
        | grep -q -F -- "$run/$1/httpd.conf" && echo "$_pid"
    return 0
}

# Stops every server this run started (by the pid in its pid file) and
# removes the run directory. Meant for trap ... EXIT INT TERM.
bench_cleanup() {
    for v in $variants; do
        _pid=$(bench_pid "$v")
        [ -n "$_pid" ] && { kill "$_pid" 2>/dev/null || true; }
    done
    sleep 0.5
    rm -rf "$run"
}

# Writes $run/NAME/httpd.conf for variant NAME from its template.
bench_render() {  # $1 variant
    v=$1
    eval "port=\$port_$v; mods=\$mods_$v; conf=\$conf_$v"
    eval "srv=\${srv_$v:-}; req=\${req_$v:-}; tmpl=\${tmpl_$v:-bench/httpd.conf.in}"
    [ -n "$srv" ] && mods="$mods
$srv"
    mkdir -p "$run/$v"
    awk -v dir="$run/$v" -v src="$top" -v port="$port" -v libexec="$libexec" \
        -v users="$userlines" -v mods="$mods" -v conf="$conf" -v req="$req" '
        { gsub("@DIR@", dir); gsub("@SRC@", src); gsub("@PORT@", port);
          gsub("@LIBEXECDIR@", libexec) }
        $0 == "@USERLINES@" { print users; next }
        $0 == "@LOADMODULES@" { print mods; next }
        $0 == "@VARIANT_CONF@" { print conf; next }
        req != "" && $0 ~ /^[ \t]*Require all granted[ \t]*$/ { print "    " req; next }
        { print }' "$tmpl" > "$run/$v/httpd.conf"
    chmod -R a+rX "$run/$v"
}

# Starts variant NAME on core 0 and waits until it answers.
bench_start() {  # $1 variant
    bench_render "$1"
    eval "check=\${check_$v:-http://127.0.0.1:$port/small.json}"
    taskset -c 0 "$httpd" -f "$run/$v/httpd.conf" -k start
    for _ in $(seq 50); do
        curl -s -k -o /dev/null "$check" && return 0
        sleep 0.1
    done
    echo "bench: $v did not start" >&2; cat "$run/$v/error.log" >&2; exit 1
}

# Stops variant NAME (its parent process, by pid) and waits until it is gone.
bench_stop() {  # $1 variant
    _pid=$(bench_pid "$1")
    [ -n "$_pid" ] || return 0
    kill "$_pid" 2>/dev/null || return 0
    for _ in $(seq 50); do
        kill -0 "$_pid" 2>/dev/null || return 0
        sleep 0.1
    done
}

# The arguments after the first, rotated left by $1 places (modulo their
# number), one per line.
bench_rotate() {  # $1 places, then words
    _k=$1; shift
    _k=$((_k % $#))
    _i=0
    for _x in "$@"; do
        [ "$_i" -ge "$_k" ] && echo "$_x"
        _i=$((_i + 1))
    done
    _i=0
    for _x in "$@"; do
        [ "$_i" -lt "$_k" ] && echo "$_x"
        _i=$((_i + 1))
    done
    return 0
}

# One timed wrk run (one thread, on core 1) against 127.0.0.1:PORT/PATH with
# the extra wrk arguments given; prints "rps p50_ms p99_ms", rps "ERR" when
# any answer was not 2xx/3xx. Uses $conns and $secs.
bench_wrk() {  # $1 port, $2 path, then wrk arguments
    _port=$1; _path=$2; shift 2
    taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" --latency \
        "$@" "http://127.0.0.1:$_port$_path" \
      | awk '
        function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
        /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
        /^Requests\/sec:/ { rps = $2 }
        /Non-2xx/ { bad = 1 }
        END { if (bad) rps = "ERR"; printf "%s %s %s\n", rps, p50, p99 }'
}

# The median line (by req/s) of a results file of "rps p50 p99" lines.
bench_median() {  # $1 file
    sort -n "$1" | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'
}

# Prints the table header and one row per variant from $run/NAME.results;
# the first variant is the base of the ratios. $1 is the width of the
# variant column. A round that got a non-2xx answer counts as 0 req/s here:
# callers that can get one check the results files for "ERR" themselves.
bench_table() {  # $1 width, then variants
    _w=$1; shift
    printf "%-${_w}s %10s %9s %9s %8s\n" variant req/s p50_ms p99_ms ratio
    _base=""
    for _v in "$@"; do
        _med=$(bench_median "$run/$_v.results")
        _rps=$(echo "$_med" | awk '{print $1}')
        [ -z "$_base" ] && _base=$_rps
        echo "$_med" | awk -v v="$_v" -v base="$_base" -v w="$_w" '{ printf "%-" w "s %10.0f %9.3f %9.3f %8.3f\n", v, $1, $2, $3, $1 / base }'
    done
}

# As bench_table, but the ratio is the median over rounds of each round's
# req/s over the first variant's req/s in the same round: the runs of one
# round follow each other within seconds, so a drift of the machine's speed
# over the minutes of a run moves both sides of a ratio alike. The min and
# max of the per-round ratios show the spread; the last column is the 95%
# confidence interval of the median, from the order statistics of the
# rounds' ratios (ranks n/2 -+ 0.98 sqrt(n): no assumption about their
# distribution), "-" under 8 rounds. Where two variants' intervals
# overlap, the run has not told them apart. Rounds are the lines of the
# results files, in order.
bench_paired_table() {  # $1 width, then variants
    _w=$1; shift
    printf "%-${_w}s %10s %9s %9s %8s %15s %15s\n" variant req/s p50_ms p99_ms ratio "(min-max)" "median 95% CI"
    _base=$1
    for _v in "$@"; do
        _med=$(bench_median "$run/$_v.results")
        _r=$(paste -d' ' "$run/$_base.results" "$run/$_v.results" \
            | awk '{ printf "%.6f\n", ($1 > 0) ? $4 / $1 : 0 }' | sort -n \
            | awk '{ r[NR] = $1 } END {
                m = (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
                h = 0.98 * sqrt(NR); j = int(NR / 2 - h); k = int(NR / 2 + 1 + h)
                if (k < NR / 2 + 1 + h) k++
                ci = (j >= 1 && k <= NR) ? sprintf("%.3f-%.3f", r[j], r[k]) : "-"
                printf "%.3f %.3f %.3f %s", m, r[1], r[NR], ci }')
        echo "$_med $_r" | awk -v v="$_v" -v w="$_w" '{ printf "%-" w "s %10.0f %9.3f %9.3f %8.3f %7.3f-%-7.3f %15s\n", v, $1, $2, $3, $4, $5, $6, $7 }'
    done
}

# User-space instructions per request of variant NAME at URL, counted by
# ../shared/tools/httpd-ir on its config (the variant's server must be
# stopped first: httpd-ir starts its own on the same port). Extra arguments
# go to httpd-ir (-H 'Name: value').
bench_ir() {  # $1 variant, $2 url, then httpd-ir arguments
    _v=$1; _url=$2; shift 2
    "$top/../shared/tools/httpd-ir" -f "$run/$_v/httpd.conf" -u "$_url" -n 2000 \
        "$@" 2>/dev/null | awk '{print $1}'
}
