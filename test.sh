#!/bin/sh
# The whole mod_apisec test suite, from a fresh Debian 12 clone, as root:
#   ./test.sh            everything CI runs: build, unit tests (C, TAP),
#                        Apache::Test suite, both again under AddressSanitizer,
#                        and a bounded fuzzing run of every parser
#   ./test.sh quick      build, unit tests and Apache::Test suite only
# Missing Debian packages are installed first. Exits non-zero on any failure.
set -eu
top=$(cd "$(dirname "$0")" && pwd)
cd "$top"
mode=${1:-all}

scripts/deps.sh test
# helmet itself, the reference of t/helmet_parity.t (pinned in t/node).
(cd t/node && npm ci --silent --no-audit --no-fund >/dev/null)
# The OpenID provider of t/jwks*.t: panva's oidc-provider (pinned in t/oidc).
(cd t/oidc && npm ci --silent --no-audit --no-fund >/dev/null)

echo "== build (-Wall -Wextra -Werror)"
scripts/build.sh build
echo "== unit tests and Apache::Test suite"
make -C build -s check

[ "$mode" = quick ] && exit 0

echo "== AddressSanitizer build: unit tests and Apache::Test suite"
scripts/build.sh build-asan --enable-asan
make -C build-asan -s check

echo "== fuzzing (bounded: ${APISEC_FUZZ_SECONDS:-60} s a target)"
prove -v t/fuzz/run.sh
