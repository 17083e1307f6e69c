// clang-format off
// FUZZ_SOURCES: src/refresh.c src/login_body.c src/json_tape.c src/json_tape_string.c src/b64url.c
// FUZZ_LIBS: -lapr-1 -lcrypto
// clang-format on
/* libFuzzer target over the request parsers of the token handlers: the
 * Cookie header (first byte even) as the refresh handler reads it, and the
 * login body (first byte odd). A found refresh token must re-encode to
 * exactly the cookie text it came from (one spelling per token); an
 * accepted login body must give NUL-free, bounded strings and keep
 * accepting itself when re-serialised. Store records are decoded from the
 * input too: a decoded record must encode back to the same bytes. */
#include "login_body.h"
#include "refresh.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

static apr_pool_t *root;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    apr_initialize();
    apr_pool_create(&root, NULL);
    return 0;
}

static void cookie(apr_pool_t *p, const char *hdr)
{
    unsigned char raw[APISEC_REFRESH_TOKEN_LEN];

    if (apisec_refresh_parse_cookie(hdr, APISEC_REFRESH_COOKIE, raw)
        == APISEC_REFRESH_FOUND) {
        const char *text = apisec_refresh_token_text(p, raw);
        if (!strstr(hdr, text)) {
            abort();
        }
    }
}

static void body(apr_pool_t *p, const char *buf, apr_size_t len)
{
    const char *u, *pw;
    apr_size_t plen;

    if (!apisec_login_body_parse(p, buf, len, &u, &pw, &plen)) {
        if (!*u || strlen(u) > APISEC_LOGIN_USER_MAX || strlen(pw) != plen
            || plen > APISEC_LOGIN_PASSWORD_MAX) {
            abort();
        }
    }
}

static void records(const unsigned char *d, apr_size_t n)
{
    apisec_refresh_token_rec_t t;
    apisec_refresh_family_rec_t f;
    unsigned char out[32];

    if (n >= APISEC_REFRESH_TOKEN_REC_LEN
        && apisec_refresh_token_decode(d, APISEC_REFRESH_TOKEN_REC_LEN, &t)) {
        apisec_refresh_token_encode(&t, out);
        if (memcmp(out, d, APISEC_REFRESH_TOKEN_REC_LEN)) {
            abort();
        }
    }
    if (n >= APISEC_REFRESH_FAMILY_REC_LEN
        && apisec_refresh_family_decode(d, APISEC_REFRESH_FAMILY_REC_LEN, &f)) {
        apisec_refresh_family_encode(&f, out);
        if (memcmp(out, d, APISEC_REFRESH_FAMILY_REC_LEN)) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    apr_pool_t *p;

    if (size < 1 || size > 8192) {
        return 0;
    }
    apr_pool_create(&p, root);
    if (data[0] % 2 == 0) {
        cookie(p, apr_pstrmemdup(p, (const char *)data + 1, size - 1));
    }
    else {
        body(p, (const char *)data + 1, size - 1);
    }
    records(data + 1, size - 1);
    apr_pool_destroy(p);
    return 0;
}
