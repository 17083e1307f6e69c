/* Key loading rules (jwk.c): what loads, what is refused at startup and
 * with which message, and the key selection rule. Files under t/unit/data
 * are test-only keys made with the openssl CLI. */
#include "tap.h"
#include "jose_util.h"

#include <openssl/rand.h>

static apr_pool_t *pool;

/* mk/jose.am passes the absolute source path, so that an out-of-tree
 * `make check` finds the files; by hand, run from the top of the tree. */
#ifdef APISEC_TEST_DATA
#define DATA APISEC_TEST_DATA
#else
#define DATA "t/unit/data/"
#endif

static const char *load_file(const char *name, const char *kid,
                             apisec_jwk_set_t **out)
{
    apisec_jwk_set_t *set = apisec_jwk_set_make(pool);
    const char *err = apisec_jwk_set_add_file(
        set, apr_pstrcat(pool, DATA, name, NULL), kid, 0);
    if (out) {
        *out = set;
    }
    return err;
}

static const char *load_json(const char *json, apisec_jwk_set_t **out)
{
    apisec_jwk_set_t *set = apisec_jwk_set_make(pool);
    const char *err = apisec_jwk_set_add_json(set, json, strlen(json), 0);

    if (out) {
        *out = set;
    }
    return err;
}

static void files(void)
{
    apisec_jwk_set_t *set;
    const apisec_jwk_t *k;
    int mismatch;

    tap_is_str(load_file("rsa2048-pub.pem", "r", &set), NULL,
               "RSA 2048 PEM public key loads");
    k = apisec_jwk_set_get(set, 0);
    tap_ok(k && k->kty == APISEC_KTY_RSA && !strcmp(k->kid, "r")
               && apisec_jwk_fits(k, APISEC_JWS_PS512)
               && !apisec_jwk_fits(k, APISEC_JWS_HS256),
           "RSA key fits RS*/PS* and not HS*");
    tap_is_str(load_file("rsa2048-pkcs1-pub.pem", NULL, NULL), NULL,
               "PKCS#1 RSA PUBLIC KEY PEM loads");
    tap_is_str(load_file("rsa1024-pub.pem", NULL, NULL),
               "RSA key shorter than 2048 bits",
               "RSA 1024 key refused at load");
    tap_is_str(load_file("ec256-cert.pem", "c", &set), NULL,
               "X.509 certificate (P-256) loads");
    k = apisec_jwk_set_get(set, 0);
    tap_ok(k && k->kty == APISEC_KTY_EC && k->ec_len == 32
               && apisec_jwk_fits(k, APISEC_JWS_ES256)
               && !apisec_jwk_fits(k, APISEC_JWS_ES384),
           "P-256 key fits ES256 only");
    tap_ok(apisec_jwk_set_select(set, "c", APISEC_JWS_ES384, &mismatch) == NULL
               && mismatch,
           "P-256 key selected for ES384: mismatch");
    tap_ok(apisec_jwk_set_check(set, APISEC_JWS_ALG_BIT(APISEC_JWS_ES384), NULL)
               != NULL,
           "P-256 key with only ES384 allowed: refused at load");
    tap_is_str(
        load_file("ec256-priv.pem", NULL, NULL),
        "file holds a private key: configure the public key or certificate",
        "private key file refused");
    tap_is_str(load_file("secp256k1-pub.pem", NULL, NULL),
               "EC curve not supported (P-256, P-384, P-521)",
               "secp256k1 key refused");
    tap_is_str(load_file("ed448-pub.pem", NULL, NULL),
               "key type not supported (RSA, EC, Ed25519)",
               "Ed448 key refused");
    tap_is_str(load_file("no-such-file.pem", NULL, NULL),
               "cannot open key file", "missing file refused");
    tap_is_str(load_file("jwks.json", NULL, &set), NULL, "JWKS file loads");
    tap_is_int(apisec_jwk_set_count(set), 4, "JWKS: four keys kept");
    tap_ok(apisec_jwk_set_get(set, 0)->usable
               && apisec_jwk_set_get(set, 1)->usable
               && !apisec_jwk_set_get(set, 2)->usable
               && !apisec_jwk_set_get(set, 3)->usable,
           "JWKS: use=enc keys kept but unusable");
    tap_ok(apisec_jwk_set_select(set, "rsa-enc", APISEC_JWS_RS256, &mismatch)
                   == NULL
               && mismatch,
           "JWKS: a token naming the encryption key is refused");
    tap_ok(apisec_jwk_set_select(set, "rsa-1", APISEC_JWS_RS256, &mismatch)
               != NULL,
           "JWKS: key_ops [verify] key selected by kid");
    tap_ok(apisec_jwk_set_select(set, "ed-1", APISEC_JWS_EDDSA, &mismatch)
               != NULL,
           "JWKS: Ed25519 key selected by kid");
    tap_is_str(
        apisec_jwk_set_check(set, APISEC_JWS_ALG_BIT(APISEC_JWS_EDDSA), NULL),
        "key type fits none of the allowed algorithms",
        "JWKS with an RSA key and only EdDSA allowed: refused");
    tap_is_str(load_file("jwks.json", "k", NULL),
               "kid= applies to PEM keys only: a JWK carries its own",
               "kid= with a JWKS refused");
}

static void secrets(void)
{
    unsigned char s[64];
    apisec_jwk_set_t *set = apisec_jwk_set_make(pool);
    const char *kid;

    RAND_bytes(s, sizeof(s));
    tap_is_str(apisec_jwk_set_add_secret(set, s, 31, NULL),
               "HMAC secret shorter than 32 bytes (the HS256 minimum)",
               "31-byte secret refused");
    tap_is_str(apisec_jwk_set_add_secret(set, s, 0, NULL),
               "HMAC secret shorter than 32 bytes (the HS256 minimum)",
               "empty secret refused");
    set = apisec_jwk_set_make(pool);
    tap_is_str(apisec_jwk_set_add_secret(set, s, 32, "a"), NULL,
               "32-byte secret loads");
    tap_ok(
        apisec_jwk_fits(apisec_jwk_set_get(set, 0), APISEC_JWS_HS256)
            && !apisec_jwk_fits(apisec_jwk_set_get(set, 0), APISEC_JWS_HS384),
        "32-byte secret fits HS256, not HS384");
    tap_is_str(
        apisec_jwk_set_check(set, APISEC_JWS_ALG_BIT(APISEC_JWS_HS512), &kid),
        "HMAC secret shorter than the hash output of every allowed HS "
        "algorithm (32/48/64 bytes)",
        "32-byte secret with only HS512 allowed: refused at load");
    tap_is_str(kid, "a", "the refusal names the key's kid");
    set = apisec_jwk_set_make(pool);
    tap_is_str(apisec_jwk_set_add_secret(set, s, 48, NULL), NULL,
               "48-byte secret loads");
    tap_ok(
        apisec_jwk_fits(apisec_jwk_set_get(set, 0), APISEC_JWS_HS384)
            && !apisec_jwk_fits(apisec_jwk_set_get(set, 0), APISEC_JWS_HS512),
        "48-byte secret fits HS384, not HS512");
    tap_ok(!apisec_jwk_fits(apisec_jwk_set_get(set, 0), APISEC_JWS_RS256),
           "a secret never fits an RSA algorithm");
}

static void jwk_rules(void)
{
    apisec_jwk_set_t *set;
    const apisec_jwk_t *k;
    int mismatch;
    const char *two = "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"a\",\"k\":"
                      "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"},"
                      "{\"kty\":\"oct\",\"kid\":\"b\",\"k\":"
                      "\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}";
    const char *skip = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AA\"},"
                       "{\"kty\":\"oct\",\"kid\":\"x\",\"k\":"
                       "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}";

    tap_is_str(load_json("{\"keys\":[{\"kty\":\"oct\",\"kid\":\"a\",\"k\":"
                         "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"},"
                         "{\"kty\":\"oct\",\"kid\":\"a\",\"k\":"
                         "\"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}",
                         NULL),
               "two keys carry the same kid", "duplicate kid refused");
    tap_is_str(load_json("{\"keys\":[]}", NULL),
               "JWKS keys is not a non-empty array", "empty JWKS refused");
    tap_is_str(load_json("{\"keys\":[{\"kty\":\"oct\",\"k\":"
                         "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}],"
                         "\"keys\":[]}",
                         NULL),
               "key file is not a JSON object (JWK or JWKS)",
               "JWKS with duplicate members refused");
    tap_is_str(load_json("{\"kty\":\"oct\",\"k\":"
                         "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB\"}",
                         NULL),
               "JWK key member is not canonical base64url",
               "non-canonical base64url in a JWK refused");
    tap_is_str(load_json("{\"kty\":\"oct\",\"k\":"
                         "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
                         "\"alg\":\"RS256\"}",
                         NULL),
               "JWK alg does not fit the key type",
               "oct key with alg RS256 refused");
    tap_is_str(
        load_json(
            "{\"kty\":\"oct\",\"k\":"
            "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"alg\":\"none\"}",
            NULL),
        "JWK alg is not a supported JWS algorithm", "JWK alg none refused");
    tap_is_str(
        load_json(
            "{\"kty\":\"oct\",\"k\":"
            "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"use\":\"enc\"}",
            &set),
        NULL, "use=enc JWK loads (kept, unusable)");
    tap_is_str(apisec_jwk_set_check(set, APISEC_JWS_ALL_ALGS, NULL),
               "no key usable for signature verification",
               "a set of unusable keys is refused");
    tap_is_str(load_json("{\"kty\":\"oct\",\"k\":"
                         "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
                         "\"key_ops\":[\"sign\"]}",
                         &set),
               NULL, "key_ops without verify loads (kept, unusable)");
    tap_ok(!apisec_jwk_fits(apisec_jwk_set_get(set, 0), APISEC_JWS_HS256),
           "key_ops without verify: not used");
    tap_is_str(
        load_json(
            "{\"kty\":\"EC\",\"crv\":\"P-256K\",\"x\":\"AA\",\"y\":\"AA\"}",
            NULL),
        "JWK EC curve not supported (P-256, P-384, P-521)",
        "unknown EC crv refused");
    tap_is_str(load_json("{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":"
                         "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
                         NULL),
               "JWK OKP curve not supported (Ed25519)",
               "X25519 for signing refused");
    tap_is_str(
        load_json("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
                  "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
                  "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
                  NULL),
        "JWK EC key is not a valid curve point", "EC point (0,0) refused");
    tap_is_str(
        load_json(
            "{\"kty\":\"OKP\",\"crv\":\"X25519\",\"use\":\"enc\",\"x\":\"AA\"}",
            NULL),
        NULL, "unusable key of an unsupported kind is not even imported");
    tap_is_str(load_json("{\"kty\":\"XYZ\",\"k\":\"AA\"}", NULL),
               "JWK kty not supported (RSA, EC, OKP, oct)",
               "unknown kty refused");
    tap_is_str(load_json("[1]", NULL),
               "key file is not a JSON object (JWK or JWKS)",
               "JSON array refused");
    set = apisec_jwk_set_make(pool);
    tap_is_str(
        apisec_jwk_set_add_json(set, two, strlen(two), APISEC_JWK_SKIP_UNFIT),
        NULL, "two secrets with kids load");
    tap_ok(apisec_jwk_set_select(set, NULL, APISEC_JWS_HS256, &mismatch)
               == NULL,
           "kid-less token with two fitting keys: refused (ambiguous)");
    k = apisec_jwk_set_select(set, "b", APISEC_JWS_HS256, &mismatch);
    tap_ok(k && !strcmp(k->kid, "b"), "token kid picks its key");
    tap_ok(apisec_jwk_set_select(set, "c", APISEC_JWS_HS256, &mismatch) == NULL
               && !mismatch,
           "unknown kid with no kid-less key: unknown");
    set = apisec_jwk_set_make(pool);
    tap_is_str(
        apisec_jwk_set_add_json(set, skip, strlen(skip), APISEC_JWK_SKIP_UNFIT),
        NULL, "SKIP_UNFIT: a short secret is skipped, the good key loads");
    tap_is_int(apisec_jwk_set_count(set), 1, "SKIP_UNFIT: one key kept");
}

static void selection_fallback(void)
{
    apisec_jwk_set_t *set = apisec_jwk_set_make(pool);
    unsigned char s[32] = {1};
    const apisec_jwk_t *k;
    int mismatch;

    apisec_jwk_set_add_secret(set, s, 32, NULL);
    k = apisec_jwk_set_select(set, "issuer-kid-7", APISEC_JWS_HS256, &mismatch);
    tap_ok(k != NULL,
           "a kid no key carries falls back to the one kid-less key");
    tap_ok(
        apisec_jwk_set_select(set, "issuer-kid-7", APISEC_JWS_RS256, &mismatch)
            == NULL,
        "the fallback still needs a key that fits the alg");
}

static void algs(void)
{
    unsigned mask = 0;

    tap_is_str(apisec_jws_algs_parse("ES256", &mask), NULL,
               "ES256 is an algorithm");
    tap_ok(mask == APISEC_JWS_ALG_BIT(APISEC_JWS_ES256), "mask has ES256");
    tap_ok(apisec_jws_algs_parse("none", &mask) != NULL,
           "none can never be allowed");
    tap_ok(apisec_jws_algs_parse("NoNe", &mask) != NULL,
           "NoNe can never be allowed");
    tap_ok(apisec_jws_algs_parse("ES521", &mask) != NULL,
           "ES521 is no algorithm");
    tap_is_int(apisec_jws_alg_from_name("EdDSA"), APISEC_JWS_EDDSA,
               "EdDSA by name");
    tap_is_int(apisec_jws_alg_from_name("eddsa"), -1,
               "names are case-sensitive");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    files();
    secrets();
    jwk_rules();
    selection_fallback();
    algs();
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
