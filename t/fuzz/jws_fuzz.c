// FUZZ_SOURCES: src/b64url.c src/jose.c src/jwk.c src/jwk_json.c
// FUZZ_SOURCES: src/jwt_claims.c
// FUZZ_LIBS: -lcrypto -ljansson -lapr-1
/* libFuzzer target over the JOSE core: token parsing and verification
 * against a fixed key set (one key of each type, built once), the claim
 * checks on whatever verifies, the raw signature primitive (so the ECDSA
 * and RSA paths see attacker-chosen signatures, not only b64 noise), the
 * base64url decoder (with a canonical round-trip property) and JWK/JWKS
 * loading. FUZZ_SOURCES is split over two lines to stay within 80 columns;
 * t/fuzz/run.sh joins every such line. Build: clang
 * -fsanitize=fuzzer,address -Isrc <FUZZ_SOURCES>
 * t/fuzz/jws_fuzz.c <FUZZ_LIBS> (plus the apr-1/jansson cflags).
 *
 * The HMAC secret is fixed (bytes 7*i+1) so that corpus tokens can carry
 * valid HS* signatures and reach the claim checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <openssl/evp.h>

#include "b64url.h"
#include "jose.h"
#include "jwk.h"
#include "jwt_claims.h"

static apr_pool_t *root;
static apisec_jwk_set_t *keys;
static apisec_jwt_policy_t policy;

/* The key set lives in pool memory, which LeakSanitizer does not scan
 * (APR's allocator may mmap): free it before the exit-time leak check,
 * which runs after handlers registered later than its own. */
static void teardown(void)
{
    apr_pool_destroy(root);
    apr_terminate();
}

static void add(EVP_PKEY *k, const char *kid)
{
    if (!k || apisec_jwk_set_add_pkey(keys, k, kid)) {
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    unsigned char secret[64];
    int i;

    (void)argc;
    (void)argv;
    apr_initialize();
    apr_pool_create(&root, NULL);
    keys = apisec_jwk_set_make(root);
    add(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048), "rsa");
    add(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), "ec256");
    add(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"), "ec384");
    add(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521"), "ec521");
    add(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), "ed");
    for (i = 0; i < 64; i++) {
        secret[i] = (unsigned char)(7 * i + 1);
    }
    if (apisec_jwk_set_add_secret(keys, secret, sizeof(secret), "hs")) {
        abort();
    }
    apisec_jwt_claims_policy_init(&policy);
    policy.issuers = apr_array_make(root, 1, sizeof(const char *));
    APR_ARRAY_PUSH(policy.issuers, const char *) = "https://issuer.example";
    policy.audiences = apr_array_make(root, 1, sizeof(const char *));
    APR_ARRAY_PUSH(policy.audiences, const char *) = "api";
    policy.typ = "at+jwt";
    policy.max_lifetime = 3600;
    atexit(teardown);
    return 0;
}

/* Canonical base64url: whatever decodes must encode back to the input. */
static void b64url_roundtrip(apr_pool_t *p, const char *in, size_t len)
{
    unsigned char *out;
    apr_size_t n;
    char *again;

    if (apisec_b64url_decode(p, in, len, &out, &n) != APR_SUCCESS) {
        return;
    }
    again = apisec_b64url_encode(p, out, n);
    if (!again || strlen(again) != len || memcmp(again, in, len) != 0) {
        __builtin_trap();
    }
}

/* First byte: algorithm and key; the rest: half data, half signature. */
static void raw_signature(const uint8_t *data, size_t size)
{
    static const char *const kid_of[APISEC_JWS_ALG_COUNT] = {
        "hs",  "hs",  "hs",    "rsa",   "rsa",   "rsa", "rsa",
        "rsa", "rsa", "ec256", "ec384", "ec521", "ed"};
    apisec_jws_alg_t alg;
    const apisec_jwk_t *key;
    int mismatch;
    size_t half;

    if (size < 1) {
        return;
    }
    alg = (apisec_jws_alg_t)(data[0] % APISEC_JWS_ALG_COUNT);
    key = apisec_jwk_set_select(keys, kid_of[alg], alg, &mismatch);
    data++;
    size--;
    half = size / 2;
    (void)apisec_jose_verify_signature(alg, key, data, half, data + half,
                                       size - half);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apisec_jws_t jws;
    json_t *claims;
    const char *text = (const char *)data;

    apr_pool_create(&p, root);
    if (apisec_jose_decode_jwt(p, text, size, keys, APISEC_JWS_ALL_ALGS, &jws,
                               &claims)
        == APISEC_JOSE_OK) {
        (void)apisec_jwt_claims_check(&policy, jws.header, claims,
                                      apr_time_from_sec(1700000000));
    }
    b64url_roundtrip(p, text, size);
    raw_signature(data, size);
    if (size > 0 && data[0] == '{') {
        apisec_jwk_set_t *set = apisec_jwk_set_make(p);
        if (!apisec_jwk_set_add_json(set, text, size, 0)) {
            (void)apisec_jwk_set_check(set, APISEC_JWS_ALL_ALGS, NULL);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
