#!/bin/sh
# Installs the Debian 12 packages mod_apisec needs, and only those missing:
#   scripts/deps.sh build|test|demo|bench
# build: compiler, autotools, httpd headers and the libraries the module links.
# test:  build + Apache::Test, curl, memcached, clang (fuzzing, ASan runtime),
#        Node.js for the helmet parity check, python3-jwt / Crypt::JWT,
#        SQLite and PostgreSQL with their apr_dbd drivers (users tests).
# demo:  build + sqlite3 and curl.
# bench: test + wrk and ab.
set -eu
what=${1:-build}
pkgs="gcc make autoconf automake libtool pkg-config apache2 apache2-dev
      libapr1-dev libaprutil1-dev libssl-dev libjansson-dev libmemcached-dev
      libcurl4-openssl-dev libpcre2-dev libargon2-dev openssl"
case $what in
  build) ;;
  demo)  pkgs="$pkgs curl sqlite3 libaprutil1-dbd-sqlite3 python3-jwt argon2" ;;
  test)  pkgs="$pkgs libapache2-mod-perl2 curl memcached clang libclang-rt-14-dev
               python3-jwt libcrypt-jwt-perl sqlite3 libaprutil1-dbd-sqlite3 perl
               postgresql libaprutil1-dbd-pgsql argon2" ;;
  bench) pkgs="$pkgs libapache2-mod-perl2 curl memcached wrk apache2-utils valgrind util-linux
               python3-jwt libapache2-mod-auth-openidc
               sqlite3 libaprutil1-dbd-sqlite3 postgresql libaprutil1-dbd-pgsql" ;;
  *) echo "usage: $0 build|test|demo|bench" >&2; exit 2 ;;
esac
# bench/ratelimit.sh compares with mod_evasive and mod_qos (issue 4),
# bench/json.sh with mod_security2 (issue 5).
if [ "$what" = bench ]; then pkgs="$pkgs libapache2-mod-evasive libapache2-mod-qos libapache2-mod-security2"; fi

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" \
        || missing="$missing $p"
done
# Node.js and npm for t/helmet_parity.t: the machine's own node if it has
# one, Debian's otherwise.
if [ "$what" = test ] && ! command -v npm >/dev/null 2>&1; then
    missing="$missing nodejs npm"
fi
if [ -n "$missing" ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "missing Debian packages:$missing (run as root, or install them)" >&2
        exit 1
    fi
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
    # The peer modules the benchmarks compare with are loaded by path in the
    # benchmarks' own configs; Debian enables them system-wide on install,
    # which the system httpd (and Apache::Test, which inherits its modules)
    # must not get from us.
    for pm in libapache2-mod-auth-openidc:auth_openidc libapache2-mod-qos:qos \
              libapache2-mod-security2:security2 libapache2-mod-evasive:evasive; do
        case " $missing " in
            *" ${pm%%:*} "*) a2dismod -q "${pm#*:}" >/dev/null 2>&1 || true ;;
        esac
    done
fi
