/* Unit tests of src/token_cache.c: hits, scopes, expiry, the bound. */
#include "token_cache.h"
#include "tap.h"

#include <apr_general.h>
#include <stdio.h>

static void digest_of(apisec_token_cache_t *c, int i,
                      unsigned char d[APISEC_TOKEN_DIGEST_LEN])
{
    char tok[32];

    snprintf(tok, sizeof(tok), "token-%d", i);
    apisec_token_cache_digest(c, tok, strlen(tok), d);
}

int main(void)
{
    apr_pool_t *p;
    apisec_token_cache_t *c;
    unsigned char d[APISEC_TOKEN_DIGEST_LEN], e[APISEC_TOKEN_DIGEST_LEN];
    json_t *h = json_pack("{s:s}", "alg", "ES256");
    json_t *cl = json_pack("{s:s}", "sub", "alice");
    json_t *gh = NULL, *gc = NULL;
    apr_time_t now = apr_time_now(), later = now + apr_time_from_sec(600);
    int scope_a, scope_b, i, hits;
    static const unsigned char abc[] = {
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
        0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
        0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};

    apr_initialize();
    apr_pool_create(&p, NULL);
    c = apisec_token_cache_create(p, 64);
    tap_ok(c != NULL, "a cache of 64 tokens is made");

    tap_ok(apisec_token_cache_digest(c, "abc", 3, d)
               && memcmp(d, abc, sizeof(abc)) == 0,
           "the digest is SHA-256 (FIPS 180-2 'abc')");

    digest_of(c, 1, d);
    tap_ok(!apisec_token_cache_get(c, d, &scope_a, now, &gh, &gc),
           "an unknown token misses");
    apisec_token_cache_put(c, d, &scope_a, later, h, cl);
    tap_ok(apisec_token_cache_get(c, d, &scope_a, now, &gh, &gc),
           "a remembered token hits");
    tap_is_str(json_string_value(json_object_get(gc, "sub")), "alice",
               "the hit gives the claims");
    tap_is_str(json_string_value(json_object_get(gh, "alg")), "ES256",
               "and the header");
    json_decref(gh);
    json_decref(gc);
    tap_ok(!apisec_token_cache_get(c, d, &scope_b, now, &gh, &gc),
           "the same token for another key set misses");
    tap_ok(!apisec_token_cache_get(c, d, &scope_a, later, &gh, &gc),
           "an entry is never used at or after its token's exp");
    digest_of(c, 2, e);
    tap_ok(!apisec_token_cache_get(c, e, &scope_a, now, &gh, &gc),
           "another token misses");

    /* 10,000 distinct tokens through 64 slots: the count stays bounded and
     * recent tokens are found. */
    for (i = 0; i < 10000; ++i) {
        digest_of(c, 100 + i, d);
        apisec_token_cache_put(c, d, &scope_a, later + i, h, cl);
    }
    tap_ok(apisec_token_cache_count(c) <= 64, "never more entries than slots");
    tap_ok(apisec_token_cache_count(c) >= 48, "and the slots are used");
    for (hits = 0, i = 9990; i < 10000; ++i) {
        digest_of(c, 100 + i, d);
        if (apisec_token_cache_get(c, d, &scope_a, now, &gh, &gc)) {
            ++hits;
            json_decref(gh);
            json_decref(gc);
        }
    }
    tap_ok(hits >= 5, "most of the newest tokens are still there (%d/10)",
           hits);
    tap_is_int(json_object_size(cl), 1, "the cache shares, not copies");

    json_decref(h);
    json_decref(cl);
    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
