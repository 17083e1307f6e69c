// FUZZ_SOURCES: src/jwks_remote.c src/b64url.c src/jwk.c src/jwk_json.c
// FUZZ_LIBS: -lcrypto -ljansson -lapr-1
/* libFuzzer target over the remote key set core: everything a provider's
 * network can send. The first byte picks the job: a JWKS answer
 * (apisec_jwks_parse: JSON, key import, the remote rules), a discovery
 * document checked against a fixed issuer, a Cache-Control header
 * (refresh timing), or a URL (the URL rules, the well-known URLs of an
 * issuer, the prefix match). Properties: a parsed set has at least one
 * usable key and no oct key; a discovered jwks_uri passes the URL check;
 * the refresh time stays within its bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>

#include "jwks_remote.h"

static apr_pool_t *root;

static void teardown(void)
{
    apr_pool_destroy(root);
    apr_terminate();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *text;
    int i, usable = 0;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
        atexit(teardown);
    }
    if (size < 1) {
        return 0;
    }
    apr_pool_create(&p, root);
    text = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    switch (data[0] % 4) {
    case 0: {
        apisec_jwk_set_t *set = NULL;
        apr_array_header_t *dropped = NULL;
        if (!apisec_jwks_parse(p, (const char *)data + 1, size - 1, &set,
                               &dropped)) {
            for (i = 0; i < apisec_jwk_set_count(set); ++i) {
                const apisec_jwk_t *k = apisec_jwk_set_get(set, i);
                if (k->kty == APISEC_KTY_OCT) {
                    abort();
                }
                usable += k->usable;
            }
            if (!usable) {
                abort();
            }
        }
        break;
    }
    case 1: {
        const char *uri = NULL;
        if (!apisec_jwks_discovery_parse(p, (const char *)data + 1, size - 1,
                                         "https://idp.example/realms/x", &uri)
            && (!uri || apisec_jwks_url_check(uri))) {
            abort();
        }
        break;
    }
    case 2: {
        apr_interval_time_t t = apisec_jwks_refresh_after(
            text, apr_time_from_sec(300), apr_time_from_sec(86400));
        if (t < apr_time_from_sec(300) || t > apr_time_from_sec(86400)) {
            abort();
        }
        break;
    }
    case 3: {
        const char *a, *b;
        if (!apisec_jwks_url_check(text)
            && !apisec_jwks_discovery_urls(p, text, &a, &b)
            && (apisec_jwks_url_check(a)
                && strlen(a) <= APISEC_JWKS_MAX_URL - 40)) {
            abort();
        }
        apisec_jwks_url_allowed(text, "https://idp.example/t1");
        break;
    }
    }
    apr_pool_destroy(p);
    return 0;
}
