/* Every Wycheproof signature and MAC vector for the JWS algorithms, run
 * through the key loader (jwk.c) and the verify primitive that tokens use
 * (apisec_jose_verify_signature). One TAP line per file; each failing
 * vector is listed as a diagnostic. JWS-specific expectations (README of
 * the vectors, section 1) are applied and counted separately:
 * - PS*: salt length = hash length; so in rsa_pss_2048_sha256_mgf1_0 every
 *   salt-0 signature is a forgery for PS256, and tcId 69 (salt 32, labelled
 *   invalid for salt 0) is a good PS256 signature;
 * - rsa_pss_misc: groups whose hash is SHA-256/384/512 are checked as
 *   PS256/384/512 (valid only when MGF1 uses the same hash and the salt is
 *   the hash length); groups with other hashes have no JWS algorithm and
 *   are counted as not applicable;
 * - HMAC: a key shorter than the hash must be refused at load, a tag shorter
 *   than the hash must be refused at verify, whatever the label;
 * - "acceptable" (MissingNull) RSA vectors may go either way; both counted. */
#include "tap.h"
#include "jose_util.h"

typedef enum { K_ECDSA, K_RSA, K_PSS, K_EDDSA, K_HMAC } kind_t;

typedef struct {
    int total, accepted, rejected, load_refused, not_applicable, acceptable;
    int failed;
} counts_t;

static int hash_bits(const char *sha)
{
    if (!sha) {
        return 0;
    }
    if (strcmp(sha, "SHA-256") == 0) {
        return 256;
    }
    if (strcmp(sha, "SHA-384") == 0) {
        return 384;
    }
    if (strcmp(sha, "SHA-512") == 0) {
        return 512;
    }
    return -1;
}

static apisec_jws_alg_t alg_for(kind_t kind, int bits)
{
    int i = bits == 256 ? 0 : bits == 384 ? 1 : 2;

    switch (kind) {
    case K_ECDSA:
        return (apisec_jws_alg_t)(APISEC_JWS_ES256 + i);
    case K_RSA:
        return (apisec_jws_alg_t)(APISEC_JWS_RS256 + i);
    case K_PSS:
        return (apisec_jws_alg_t)(APISEC_JWS_PS256 + i);
    case K_HMAC:
        return (apisec_jws_alg_t)(APISEC_JWS_HS256 + i);
    default:
        return APISEC_JWS_EDDSA;
    }
}

static void record(counts_t *c, const char *file, json_t *t, int want, int got,
                   const char *why)
{
    int id = (int)json_integer_value(json_object_get(t, "tcId"));

    c->total++;
    if (want < 0) { /* either answer is right: say which we gave */
        c->acceptable++;
        printf("# %s tcId %d (acceptable): %s\n", file, id,
               got ? "accepted" : "rejected");
        return;
    }
    if (got) {
        c->accepted++;
    }
    else {
        c->rejected++;
    }
    if (want != got) {
        c->failed++;
        printf("# %s tcId %d: expected %s, got %s (%s)\n", file, id,
               want ? "accept" : "reject", got ? "accept" : "reject", why);
    }
}

/* The expected answer for a test: 1 accept, 0 reject, -1 either. */
static int expectation(kind_t kind, const char *file, json_t *g, json_t *t)
{
    const char *result = json_string_value(json_object_get(t, "result"));
    int id = (int)json_integer_value(json_object_get(t, "tcId"));

    if (kind == K_PSS) {
        int bits = hash_bits(json_string_value(json_object_get(g, "sha")));
        int mgf = hash_bits(json_string_value(json_object_get(g, "mgfSha")));
        int slen = (int)json_integer_value(json_object_get(g, "sLen"));
        if (strstr(file, "mgf1_0_test") && id == 69) {
            return 1; /* salt 32: a proper PS256 signature (README 1) */
        }
        if (mgf != bits || slen * 8 != bits) {
            return 0;
        }
    }
    if (strcmp(result, "acceptable") == 0) {
        return -1;
    }
    return strcmp(result, "valid") == 0;
}

static void run_group(apr_pool_t *p, kind_t kind, const char *file, json_t *g,
                      int bits, counts_t *c)
{
    apisec_jwk_set_t *set = apisec_jwk_set_make(p);
    const char *pem = json_string_value(json_object_get(g, "publicKeyPem"));
    const char *err = apisec_jwk_set_add_pem(set, pem, strlen(pem), NULL);
    apisec_jws_alg_t alg = alg_for(kind, bits);
    json_t *tests = json_object_get(g, "tests"), *t;
    size_t i;

    json_array_foreach(tests, i, t)
    {
        apr_size_t mlen, slen;
        unsigned char *msg =
            ju_hex(p, json_string_value(json_object_get(t, "msg")), &mlen);
        unsigned char *sig =
            ju_hex(p, json_string_value(json_object_get(t, "sig")), &slen);
        int want = expectation(kind, file, g, t), got;
        apisec_jose_err_t rv;

        if (err) {
            c->load_refused++;
            record(c, file, t, want, 0, err);
            continue;
        }
        rv = apisec_jose_verify_signature(alg, apisec_jwk_set_get(set, 0), msg,
                                          mlen, sig, slen);
        got = rv == APISEC_JOSE_OK;
        record(c, file, t, want, got, apisec_jose_strerror(rv));
    }
}

static void run_hmac_group(apr_pool_t *p, const char *file, json_t *g, int bits,
                           counts_t *c)
{
    int key_bits = (int)json_integer_value(json_object_get(g, "keySize"));
    int tag_bits = (int)json_integer_value(json_object_get(g, "tagSize"));
    json_t *tests = json_object_get(g, "tests"), *t;
    size_t i;

    json_array_foreach(tests, i, t)
    {
        apr_size_t klen, mlen, tlen;
        unsigned char *key =
            ju_hex(p, json_string_value(json_object_get(t, "key")), &klen);
        unsigned char *msg =
            ju_hex(p, json_string_value(json_object_get(t, "msg")), &mlen);
        unsigned char *tag =
            ju_hex(p, json_string_value(json_object_get(t, "tag")), &tlen);
        apisec_jwk_set_t *set = apisec_jwk_set_make(p);
        const char *err = apisec_jwk_set_add_secret(set, key, klen, NULL);
        int want = expectation(K_HMAC, file, g, t);
        apisec_jose_err_t rv;

        if (key_bits < bits) {
            /* Below RFC 7518 3.2's minimum for this hash: the key must be
             * refused at load, or load (fitting a shorter HS*) and then be
             * refused for this algorithm. */
            if (err) {
                c->load_refused++;
                record(c, file, t, 0, 0, err);
                continue;
            }
            rv = apisec_jose_verify_signature(alg_for(K_HMAC, bits),
                                              apisec_jwk_set_get(set, 0), msg,
                                              mlen, tag, tlen);
            c->load_refused += rv == APISEC_JOSE_KEY_MISMATCH;
            record(c, file, t, 0, rv == APISEC_JOSE_OK,
                   apisec_jose_strerror(rv));
            continue;
        }
        if (err) {
            record(c, file, t, want, 0, err);
            continue;
        }
        if (tag_bits < bits) {
            want = 0; /* truncated tags are not JWS */
        }
        rv = apisec_jose_verify_signature(alg_for(K_HMAC, bits),
                                          apisec_jwk_set_get(set, 0), msg, mlen,
                                          tag, tlen);
        record(c, file, t, want, rv == APISEC_JOSE_OK,
               apisec_jose_strerror(rv));
    }
}

static void run_file(apr_pool_t *parent, kind_t kind, const char *file)
{
    apr_pool_t *p;
    json_t *doc, *groups, *g;
    counts_t c;
    size_t i;
    int declared;

    memset(&c, 0, sizeof(c));
    apr_pool_create(&p, parent);
    doc = ju_load_json(p, apr_pstrcat(p, "wycheproof/", file, NULL));
    if (!doc) {
        tap_ok(0, "%s: loaded", file);
        apr_pool_destroy(p);
        return;
    }
    declared = (int)json_integer_value(json_object_get(doc, "numberOfTests"));
    groups = json_object_get(doc, "testGroups");
    json_array_foreach(groups, i, g)
    {
        int bits = hash_bits(json_string_value(json_object_get(g, "sha")));
        if (kind == K_HMAC) {
            bits = strstr(file, "256") ? 256 : strstr(file, "384") ? 384 : 512;
            run_hmac_group(p, file, g, bits, &c);
        }
        else if (kind != K_EDDSA && bits <= 0) {
            /* e.g. PSS with SHA-1: no JWS algorithm exists for it. */
            c.not_applicable +=
                (int)json_array_size(json_object_get(g, "tests"));
            c.total += (int)json_array_size(json_object_get(g, "tests"));
        }
        else {
            run_group(p, kind, file, g, bits, &c);
        }
    }
    tap_ok(c.failed == 0 && c.total == declared,
           "%s: %d/%d vectors checked, %d accepted, %d rejected "
           "(%d refused for their key), %d either-way, %d not JWS-applicable, "
           "%d wrong",
           file, c.total, declared, c.accepted, c.rejected, c.load_refused,
           c.acceptable, c.not_applicable, c.failed);
    json_decref(doc);
    apr_pool_destroy(p);
}

int main(void)
{
    static const struct {
        kind_t kind;
        const char *file;
    } files[] = {
        {K_ECDSA, "ecdsa_secp256r1_sha256_p1363_test.json"},
        {K_ECDSA, "ecdsa_secp384r1_sha384_p1363_test.json"},
        {K_ECDSA, "ecdsa_secp521r1_sha512_p1363_test.json"},
        {K_RSA, "rsa_signature_2048_sha256_test.json"},
        {K_RSA, "rsa_signature_2048_sha384_test.json"},
        {K_RSA, "rsa_signature_2048_sha512_test.json"},
        {K_RSA, "rsa_signature_3072_sha256_test.json"},
        {K_RSA, "rsa_signature_3072_sha384_test.json"},
        {K_RSA, "rsa_signature_3072_sha512_test.json"},
        {K_RSA, "rsa_signature_4096_sha256_test.json"},
        {K_RSA, "rsa_signature_4096_sha384_test.json"},
        {K_RSA, "rsa_signature_4096_sha512_test.json"},
        {K_PSS, "rsa_pss_2048_sha256_mgf1_32_test.json"},
        {K_PSS, "rsa_pss_3072_sha256_mgf1_32_test.json"},
        {K_PSS, "rsa_pss_4096_sha256_mgf1_32_test.json"},
        {K_PSS, "rsa_pss_2048_sha384_mgf1_48_test.json"},
        {K_PSS, "rsa_pss_4096_sha384_mgf1_48_test.json"},
        {K_PSS, "rsa_pss_4096_sha512_mgf1_64_test.json"},
        {K_PSS, "rsa_pss_misc_test.json"},
        {K_PSS, "rsa_pss_2048_sha256_mgf1_0_test.json"},
        {K_EDDSA, "ed25519_test.json"},
        {K_HMAC, "hmac_sha256_test.json"},
        {K_HMAC, "hmac_sha384_test.json"},
        {K_HMAC, "hmac_sha512_test.json"},
    };
    apr_pool_t *pool;
    size_t i;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        run_file(pool, files[i].kind, files[i].file);
    }
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
