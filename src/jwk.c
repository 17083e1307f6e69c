/* Verification keys: see jwk.h for the promises and the selection rule.
 * This file holds the set, key classification and PEM/file loading; JWK
 * member parsing is in the second half. */
#include "jwk.h"
#include "b64url.h"

#include <string.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

struct apisec_jwk_set_t {
    apr_pool_t *pool;
    apr_array_header_t *keys; /* apisec_jwk_t * */
};

/* Largest key file we read: a JWKS of a big provider is a few KB. */
#define MAX_KEY_FILE (1024 * 1024)

#define HS_ALGS                                                              \
    (APISEC_JWS_ALG_BIT(APISEC_JWS_HS256) |                                  \
     APISEC_JWS_ALG_BIT(APISEC_JWS_HS384) |                                  \
     APISEC_JWS_ALG_BIT(APISEC_JWS_HS512))
#define RSA_ALGS                                                             \
    (APISEC_JWS_ALG_BIT(APISEC_JWS_RS256) |                                  \
     APISEC_JWS_ALG_BIT(APISEC_JWS_RS384) |                                  \
     APISEC_JWS_ALG_BIT(APISEC_JWS_RS512) |                                  \
     APISEC_JWS_ALG_BIT(APISEC_JWS_PS256) |                                  \
     APISEC_JWS_ALG_BIT(APISEC_JWS_PS384) |                                  \
     APISEC_JWS_ALG_BIT(APISEC_JWS_PS512))

static const char *const alg_names[APISEC_JWS_ALG_COUNT] = {
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
    "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"};

int apisec_jws_alg_from_name(const char *name)
{
    int i;

    for (i = 0; i < APISEC_JWS_ALG_COUNT; i++) {
        if (strcmp(name, alg_names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

int apisec_jws_alg_is_none(const char *name)
{
    return strcasecmp(name, "none") == 0;
}

const char *apisec_jws_alg_name(apisec_jws_alg_t alg)
{
    return (unsigned)alg < APISEC_JWS_ALG_COUNT ? alg_names[alg] : "?";
}

const char *apisec_jws_algs_parse(const char *name, unsigned *mask)
{
    int alg;

    if (apisec_jws_alg_is_none(name)) {
        return "the algorithm 'none' can never be allowed";
    }
    alg = apisec_jws_alg_from_name(name);
    if (alg < 0) {
        return "unknown JWS algorithm (HS256/384/512, RS256/384/512, "
               "PS256/384/512, ES256/384/512, EdDSA)";
    }
    *mask |= APISEC_JWS_ALG_BIT(alg);
    return NULL;
}

/* ---- the set ---------------------------------------------------------- */

static apr_status_t key_cleanup(void *data)
{
    apisec_jwk_t *key = data;

    EVP_PKEY_free(key->pkey);
    key->pkey = NULL;
    EVP_MAC_free(key->mac);
    key->mac = NULL;
    if (key->secret) {
        OPENSSL_cleanse((void *)key->secret, key->secret_len);
    }
    return APR_SUCCESS;
}

apisec_jwk_set_t *apisec_jwk_set_make(apr_pool_t *p)
{
    apisec_jwk_set_t *set = apr_pcalloc(p, sizeof(*set));

    set->pool = p;
    set->keys = apr_array_make(p, 4, sizeof(apisec_jwk_t *));
    return set;
}

/* A blank key whose OpenSSL objects the pool frees, whatever happens next. */
static apisec_jwk_t *key_new(apisec_jwk_set_t *set, const char *kid)
{
    apisec_jwk_t *key = apr_pcalloc(set->pool, sizeof(*key));

    key->kid = kid ? apr_pstrdup(set->pool, kid) : NULL;
    key->alg = -1;
    key->usable = 1;
    apr_pool_cleanup_register(set->pool, key, key_cleanup,
                              apr_pool_cleanup_null);
    return key;
}

static const char *key_push(apisec_jwk_set_t *set, apisec_jwk_t *key)
{
    int i;

    if (key->usable && key->kid) {
        for (i = 0; i < set->keys->nelts; i++) {
            const apisec_jwk_t *k = APR_ARRAY_IDX(set->keys, i, apisec_jwk_t *);
            if (k->usable && k->kid && strcmp(k->kid, key->kid) == 0) {
                return "two keys carry the same kid";
            }
        }
    }
    APR_ARRAY_PUSH(set->keys, apisec_jwk_t *) = key;
    return NULL;
}

int apisec_jwk_set_count(const apisec_jwk_set_t *set)
{
    return set->keys->nelts;
}

const apisec_jwk_t *apisec_jwk_set_get(const apisec_jwk_set_t *set, int i)
{
    if (i < 0 || i >= set->keys->nelts) {
        return NULL;
    }
    return APR_ARRAY_IDX(set->keys, i, const apisec_jwk_t *);
}

int apisec_jwk_fits(const apisec_jwk_t *key, apisec_jws_alg_t alg)
{
    return key->usable && (unsigned)alg < APISEC_JWS_ALG_COUNT &&
           (key->fits & APISEC_JWS_ALG_BIT(alg)) != 0;
}

const apisec_jwk_t *apisec_jwk_set_select(const apisec_jwk_set_t *set,
                                          const char *kid,
                                          apisec_jws_alg_t alg,
                                          int *mismatch)
{
    const apisec_jwk_t *found = NULL;
    int i, n = 0;

    *mismatch = 0;
    if (kid) {
        for (i = 0; i < set->keys->nelts; i++) {
            const apisec_jwk_t *k = APR_ARRAY_IDX(set->keys, i, apisec_jwk_t *);
            if (k->kid && strcmp(k->kid, kid) == 0) {
                if (apisec_jwk_fits(k, alg)) {
                    return k;
                }
                /* An unusable twin may share the kid: keep looking. */
                *mismatch = 1;
            }
        }
        if (*mismatch) {
            return NULL;
        }
    }
    for (i = 0; i < set->keys->nelts; i++) {
        const apisec_jwk_t *k = APR_ARRAY_IDX(set->keys, i, apisec_jwk_t *);
        if ((!kid || !k->kid) && apisec_jwk_fits(k, alg)) {
            found = k;
            n++;
        }
    }
    return n == 1 ? found : NULL;
}

const char *apisec_jwk_set_check(const apisec_jwk_set_t *set,
                                 unsigned allowed, const char **kid)
{
    int i, usable = 0;

    for (i = 0; i < set->keys->nelts; i++) {
        const apisec_jwk_t *k = APR_ARRAY_IDX(set->keys, i, apisec_jwk_t *);
        if (!k->usable) {
            continue;
        }
        usable++;
        if (k->fits & allowed) {
            continue;
        }
        if (kid) {
            *kid = k->kid;
        }
        if (k->alg >= 0 && !(allowed & APISEC_JWS_ALG_BIT(k->alg))) {
            return "the key's alg is not among the allowed algorithms";
        }
        if (k->kty == APISEC_KTY_OCT && (allowed & HS_ALGS)) {
            return "HMAC secret shorter than the hash output of every "
                   "allowed HS algorithm (32/48/64 bytes)";
        }
        return "key type fits none of the allowed algorithms";
    }
    if (!usable) {
        if (kid) {
            *kid = NULL;
        }
        return "no key usable for signature verification";
    }
    return NULL;
}

/* ---- classification of OpenSSL keys ----------------------------------- */

/* ROCA (CVE-2017-15361): moduli from the flawed Infineon generator are, for
 * every small prime p, congruent to a power of 65537 modulo p. A random
 * modulus passes that test for all primes up to 167 with negligible
 * probability, so passing it marks a key that can be factored. */
static int roca_weak(const BIGNUM *n)
{
    static const unsigned short primes[] = {
        3,  5,  7,  11, 13, 17, 19, 23,  29,  31,  37,  41,  43,
        47, 53, 59, 61, 67, 71, 73, 79,  83,  89,  97,  101, 103,
        107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167};
    size_t i;

    for (i = 0; i < sizeof(primes) / sizeof(primes[0]); i++) {
        unsigned p = primes[i], g = 65537 % p, x = 1;
        BN_ULONG r = BN_mod_word(n, p);
        int in_group = 0;

        if (r == (BN_ULONG)-1) {
            return 0;
        }
        do {
            if (x == r) {
                in_group = 1;
                break;
            }
            x = x * g % p;
        } while (x != 1);
        if (!in_group) {
            return 0;
        }
    }
    return 1;
}

static const char *classify_rsa(apisec_jwk_t *key)
{
    BIGNUM *n = NULL, *e = NULL;
    const char *err = NULL;

    if (EVP_PKEY_get_bits(key->pkey) < 2048) {
        return "RSA key shorter than 2048 bits";
    }
    if (!EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_N, &n) ||
        !EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_E, &e)) {
        err = "RSA key unreadable";
    }
    else if (!BN_is_odd(e) || BN_is_one(e)) {
        /* e = 1 makes every "signature" its own message; even e is no
         * RSA key at all. */
        err = "RSA public exponent invalid";
    }
    else if (roca_weak(n)) {
        err = "RSA key has the ROCA weakness (CVE-2017-15361)";
    }
    BN_free(n);
    BN_free(e);
    key->kty = APISEC_KTY_RSA;
    key->fits = RSA_ALGS;
    return err;
}

static const char *classify_ec(apisec_jwk_t *key)
{
    char group[64];
    size_t glen = 0;
    int nid;
    EC_GROUP *g;
    EVP_PKEY_CTX *ctx;
    int ok;

    if (!EVP_PKEY_get_utf8_string_param(key->pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                        group, sizeof(group), &glen)) {
        return "EC key without a named curve";
    }
    nid = OBJ_sn2nid(group);
    if (nid == NID_X9_62_prime256v1) {
        key->fits = APISEC_JWS_ALG_BIT(APISEC_JWS_ES256);
        key->ec_len = 32;
    }
    else if (nid == NID_secp384r1) {
        key->fits = APISEC_JWS_ALG_BIT(APISEC_JWS_ES384);
        key->ec_len = 48;
    }
    else if (nid == NID_secp521r1) {
        key->fits = APISEC_JWS_ALG_BIT(APISEC_JWS_ES512);
        key->ec_len = 66;
    }
    else {
        return "EC curve not supported (P-256, P-384, P-521)";
    }
    key->kty = APISEC_KTY_EC;
    /* The order bounds r and s (CVE-2022-21449); taken from OpenSSL once
     * here so a request compares bytes only. */
    g = EC_GROUP_new_by_curve_name(nid);
    ok = g && BN_bn2binpad(EC_GROUP_get0_order(g), key->ec_order,
                           (int)key->ec_len) == (int)key->ec_len;
    EC_GROUP_free(g);
    if (!ok) {
        return "EC curve parameters unavailable";
    }
    /* A point off the curve (invalid-curve attacks) is refused here. */
    ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key->pkey, NULL);
    ok = ctx && EVP_PKEY_public_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok ? NULL : "EC public key is not a valid curve point";
}

/* Sets kty and fits from the OpenSSL key; refuses what no JWS alg can use. */
static const char *classify_pkey(apisec_jwk_t *key)
{
    const char *err;

    switch (EVP_PKEY_get_base_id(key->pkey)) {
    case EVP_PKEY_RSA:
        err = classify_rsa(key);
        break;
    case EVP_PKEY_EC:
        err = classify_ec(key);
        break;
    case EVP_PKEY_ED25519:
        key->kty = APISEC_KTY_OKP;
        key->fits = APISEC_JWS_ALG_BIT(APISEC_JWS_EDDSA);
        err = NULL;
        break;
    case EVP_PKEY_RSA_PSS:
        err = "RSASSA-PSS-restricted keys are not supported: use an "
              "rsaEncryption public key";
        break;
    default:
        err = "key type not supported (RSA, EC, Ed25519)";
    }
    ERR_clear_error();
    return err;
}

const char *apisec_jwk_set_add_pkey(apisec_jwk_set_t *set, EVP_PKEY *pkey,
                                    const char *kid)
{
    apisec_jwk_t *key;
    const char *err;

    if (!pkey) {
        return "no key";
    }
    key = key_new(set, kid);
    key->pkey = pkey;
    err = classify_pkey(key);
    return err ? err : key_push(set, key);
}

/* Fills an oct key; the secret is copied into the set's pool. */
static const char *fill_secret(apisec_jwk_set_t *set, apisec_jwk_t *key,
                               const unsigned char *secret, apr_size_t len)
{
    key->kty = APISEC_KTY_OCT;
    if (len < 32) {
        return "HMAC secret shorter than 32 bytes (the HS256 minimum)";
    }
    key->fits = APISEC_JWS_ALG_BIT(APISEC_JWS_HS256) |
                (len >= 48 ? APISEC_JWS_ALG_BIT(APISEC_JWS_HS384) : 0) |
                (len >= 64 ? APISEC_JWS_ALG_BIT(APISEC_JWS_HS512) : 0);
    key->secret = apr_pmemdup(set->pool, secret, len);
    key->secret_len = len;
    key->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!key->mac) {
        ERR_clear_error();
        return "HMAC not available from OpenSSL";
    }
    return NULL;
}

const char *apisec_jwk_set_add_secret(apisec_jwk_set_t *set,
                                      const unsigned char *secret,
                                      apr_size_t len, const char *kid)
{
    apisec_jwk_t *key = key_new(set, kid);
    const char *err = fill_secret(set, key, secret, len);

    return err ? err : key_push(set, key);
}

/* ---- PEM and files ---------------------------------------------------- */

static EVP_PKEY *pem_public_key(BIO *bio)
{
    EVP_PKEY *pkey = NULL;
    OSSL_DECODER_CTX *dctx;

    /* Takes "PUBLIC KEY" (SubjectPublicKeyInfo) and "RSA PUBLIC KEY"
     * (PKCS#1) alike; only public-key structures are asked for. */
    dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL,
                                         EVP_PKEY_PUBLIC_KEY, NULL, NULL);
    if (!dctx) {
        return NULL;
    }
    if (!OSSL_DECODER_from_bio(dctx, bio)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dctx);
    return pkey;
}

static EVP_PKEY *pem_certificate_key(BIO *bio)
{
    X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    EVP_PKEY *pkey;

    if (!cert) {
        return NULL;
    }
    /* The certificate is only a container for the key here: its validity
     * dates and chain are not ours to judge. */
    pkey = X509_get_pubkey(cert);
    X509_free(cert);
    return pkey;
}

const char *apisec_jwk_set_add_pem(apisec_jwk_set_t *set, const char *pem,
                                   apr_size_t len, const char *kid)
{
    char *text = apr_pstrmemdup(set->pool, pem, len);
    EVP_PKEY *pkey = NULL;
    BIO *bio;

    if (len > MAX_KEY_FILE) {
        return "key file too large";
    }
    bio = BIO_new_mem_buf(text, (int)len);
    if (!bio) {
        return "out of memory reading PEM";
    }
    if (strstr(text, "-----BEGIN CERTIFICATE-----")) {
        pkey = pem_certificate_key(bio);
    }
    else if (strstr(text, "-----BEGIN PUBLIC KEY-----") ||
             strstr(text, "-----BEGIN RSA PUBLIC KEY-----")) {
        pkey = pem_public_key(bio);
    }
    else if (strstr(text, "PRIVATE KEY-----")) {
        BIO_free(bio);
        return "file holds a private key: configure the public key or "
               "certificate";
    }
    BIO_free(bio);
    ERR_clear_error();
    if (!pkey) {
        return "no readable PEM public key or certificate";
    }
    return apisec_jwk_set_add_pkey(set, pkey, kid);
}

const char *apisec_jwk_set_add_file(apisec_jwk_set_t *set, const char *path,
                                    const char *kid, unsigned flags)
{
    apr_file_t *f;
    apr_finfo_t fi;
    char *buf;
    apr_size_t n, i;
    apr_pool_t *tmp;
    const char *err;

    if (apr_pool_create(&tmp, set->pool) != APR_SUCCESS) {
        return "out of memory";
    }
    if (apr_file_open(&f, path, APR_FOPEN_READ | APR_FOPEN_BINARY,
                      APR_FPROT_OS_DEFAULT, tmp) != APR_SUCCESS ||
        apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
        apr_pool_destroy(tmp);
        return "cannot open key file";
    }
    if (fi.size <= 0 || fi.size > MAX_KEY_FILE) {
        apr_pool_destroy(tmp);
        return fi.size <= 0 ? "key file is empty" : "key file too large";
    }
    n = (apr_size_t)fi.size;
    buf = apr_palloc(tmp, n + 1);
    if (apr_file_read_full(f, buf, n, &n) != APR_SUCCESS) {
        apr_pool_destroy(tmp);
        return "cannot read key file";
    }
    buf[n] = '\0';
    for (i = 0; i < n && strchr(" \t\r\n", buf[i]); i++) {
    }
    if (i < n && buf[i] == '{') {
        err = kid ? "kid= applies to PEM keys only: a JWK carries its own"
                  : apisec_jwk_set_add_json(set, buf, n, flags);
    }
    else {
        err = apisec_jwk_set_add_pem(set, buf, n, kid);
    }
    OPENSSL_cleanse(buf, n);
    apr_pool_destroy(tmp);
    return err;
}

/* ---- JWK (RFC 7517, RFC 7518 section 6, RFC 8037) --------------------- */

/* A base64url member, strictly decoded. */
static const char *jwk_bytes(apr_pool_t *p, json_t *jwk, const char *name,
                             unsigned char **out, apr_size_t *len)
{
    json_t *v = json_object_get(jwk, name);

    if (!json_is_string(v)) {
        return "JWK lacks a required key member";
    }
    if (apisec_b64url_decode(p, json_string_value(v), json_string_length(v),
                             out, len) != APR_SUCCESS) {
        return "JWK key member is not canonical base64url";
    }
    return NULL;
}

static const char *jwk_rsa(apisec_jwk_set_t *set, apisec_jwk_t *key,
                           json_t *jwk)
{
    unsigned char *nb, *eb;
    apr_size_t nlen, elen;
    const char *err;
    BIGNUM *n = NULL, *e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    int ok = 0;

    if ((err = jwk_bytes(set->pool, jwk, "n", &nb, &nlen)) ||
        (err = jwk_bytes(set->pool, jwk, "e", &eb, &elen))) {
        return err;
    }
    n = BN_bin2bn(nb, (int)nlen, NULL);
    e = BN_bin2bn(eb, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (n && e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
        (params = OSSL_PARAM_BLD_to_param(bld)) &&
        (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) &&
        EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &key->pkey, EVP_PKEY_PUBLIC_KEY, params) == 1) {
        ok = 1;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    ERR_clear_error();
    return ok ? classify_pkey(key) : "JWK RSA key not importable";
}

static const char *jwk_ec(apisec_jwk_set_t *set, apisec_jwk_t *key,
                          json_t *jwk)
{
    static const struct {
        const char *crv, *group;
        apr_size_t len;
    } curves[] = {{"P-256", "prime256v1", 32},
                  {"P-384", "secp384r1", 48},
                  {"P-521", "secp521r1", 66}};
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    unsigned char *x, *y, pub[1 + 2 * 66];
    apr_size_t xlen, ylen, i;
    const char *err;
    OSSL_PARAM params[3];
    EVP_PKEY_CTX *ctx;
    int ok;

    for (i = 0; crv && i < sizeof(curves) / sizeof(curves[0]); i++) {
        if (strcmp(crv, curves[i].crv) == 0) {
            break;
        }
    }
    if (!crv || i == sizeof(curves) / sizeof(curves[0])) {
        return "JWK EC curve not supported (P-256, P-384, P-521)";
    }
    if ((err = jwk_bytes(set->pool, jwk, "x", &x, &xlen)) ||
        (err = jwk_bytes(set->pool, jwk, "y", &y, &ylen))) {
        return err;
    }
    /* RFC 7518 6.2.1.2: full-length coordinates; a short or long one means
     * the key was made for another curve. */
    if (xlen != curves[i].len || ylen != curves[i].len) {
        return "JWK EC coordinates do not match the curve";
    }
    pub[0] = 0x04;
    memcpy(pub + 1, x, xlen);
    memcpy(pub + 1 + xlen, y, ylen);
    params[0] = OSSL_PARAM_construct_utf8_string(
        OSSL_PKEY_PARAM_GROUP_NAME, (char *)curves[i].group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                  pub, 1 + 2 * xlen);
    params[2] = OSSL_PARAM_construct_end();
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    ok = ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
         EVP_PKEY_fromdata(ctx, &key->pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return ok ? classify_pkey(key) : "JWK EC key is not a valid curve point";
}

static const char *jwk_okp(apisec_jwk_set_t *set, apisec_jwk_t *key,
                           json_t *jwk)
{
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    unsigned char *x;
    apr_size_t xlen;
    const char *err;

    if (!crv || strcmp(crv, "Ed25519") != 0) {
        return "JWK OKP curve not supported (Ed25519)";
    }
    if ((err = jwk_bytes(set->pool, jwk, "x", &x, &xlen))) {
        return err;
    }
    if (xlen != 32) {
        return "JWK Ed25519 key is not 32 bytes";
    }
    key->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, xlen);
    ERR_clear_error();
    return key->pkey ? classify_pkey(key) : "JWK Ed25519 key not importable";
}

static const char *jwk_oct(apisec_jwk_set_t *set, apisec_jwk_t *key,
                           json_t *jwk)
{
    unsigned char *k;
    apr_size_t klen;
    const char *err = jwk_bytes(set->pool, jwk, "k", &k, &klen);

    if (!err) {
        err = fill_secret(set, key, k, klen);
        OPENSSL_cleanse(k, klen);
    }
    return err;
}

/* "use" and "key_ops" (RFC 7517 4.2, 4.3): decide whether the key may
 * verify signatures at all. */
static const char *jwk_usage(apisec_jwk_t *key, json_t *jwk)
{
    json_t *use = json_object_get(jwk, "use");
    json_t *ops = json_object_get(jwk, "key_ops");
    size_t i;
    int verify = 0;

    if (use) {
        if (!json_is_string(use)) {
            return "JWK use is not a string";
        }
        if (strcmp(json_string_value(use), "sig") != 0) {
            key->usable = 0;
        }
    }
    if (ops) {
        if (!json_is_array(ops)) {
            return "JWK key_ops is not an array";
        }
        for (i = 0; i < json_array_size(ops); i++) {
            json_t *op = json_array_get(ops, i);
            if (!json_is_string(op)) {
                return "JWK key_ops holds a non-string";
            }
            verify |= strcmp(json_string_value(op), "verify") == 0;
        }
        if (!verify) {
            key->usable = 0;
        }
    }
    return NULL;
}

/* The JWK "alg" member narrows the key to one algorithm (RFC 7517 4.4). */
static const char *jwk_alg(apisec_jwk_t *key, json_t *jwk)
{
    json_t *alg = json_object_get(jwk, "alg");

    if (!alg) {
        return NULL;
    }
    if (!json_is_string(alg) ||
        (key->alg = apisec_jws_alg_from_name(json_string_value(alg))) < 0) {
        return "JWK alg is not a supported JWS algorithm";
    }
    key->fits &= APISEC_JWS_ALG_BIT(key->alg);
    if (!key->fits) {
        return key->kty == APISEC_KTY_OCT &&
                       (APISEC_JWS_ALG_BIT(key->alg) & HS_ALGS)
                   ? "JWK HMAC secret shorter than the hash output of its alg"
                   : "JWK alg does not fit the key type";
    }
    return NULL;
}

const char *apisec_jwk_set_add_jwk(apisec_jwk_set_t *set, json_t *jwk,
                                   unsigned flags)
{
    json_t *kidv = json_object_get(jwk, "kid");
    const char *kty, *err;
    apisec_jwk_t *key;

    if (!json_is_object(jwk)) {
        return "JWK is not a JSON object";
    }
    if (kidv && !json_is_string(kidv)) {
        return "JWK kid is not a string";
    }
    kty = json_string_value(json_object_get(jwk, "kty"));
    if (!kty) {
        return "JWK lacks kty";
    }
    key = key_new(set, json_string_value(kidv));
    if ((err = jwk_usage(key, jwk))) {
        return err;
    }
    if (!key->usable) {
        /* Never used: not imported, so an encryption key of a kind we do
         * not implement does not stop a provider's set from loading. */
        return key_push(set, key);
    }
    if (strcmp(kty, "RSA") == 0) {
        err = jwk_rsa(set, key, jwk);
    }
    else if (strcmp(kty, "EC") == 0) {
        err = jwk_ec(set, key, jwk);
    }
    else if (strcmp(kty, "OKP") == 0) {
        err = jwk_okp(set, key, jwk);
    }
    else if (strcmp(kty, "oct") == 0) {
        err = jwk_oct(set, key, jwk);
    }
    else {
        err = "JWK kty not supported (RSA, EC, OKP, oct)";
    }
    if (!err) {
        err = jwk_alg(key, jwk);
    }
    if (err && (flags & APISEC_JWK_SKIP_UNFIT)) {
        return NULL;
    }
    return err ? err : key_push(set, key);
}

/* Whether a JWKS mixes secrets with public keys: a published set never
 * holds a secret, so such a file is somebody's private key store. */
static int jwks_mixed(json_t *keys)
{
    size_t i;
    int oct = 0, other = 0;

    for (i = 0; i < json_array_size(keys); i++) {
        const char *kty =
            json_string_value(json_object_get(json_array_get(keys, i), "kty"));
        if (kty && strcmp(kty, "oct") == 0) {
            oct = 1;
        }
        else {
            other = 1;
        }
    }
    return oct && other;
}

const char *apisec_jwk_set_add_json(apisec_jwk_set_t *set, const char *json,
                                    apr_size_t len, unsigned flags)
{
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *keys;
    const char *err = NULL;
    size_t i;

    if (!json_is_object(doc)) {
        json_decref(doc);
        return "key file is not a JSON object (JWK or JWKS)";
    }
    keys = json_object_get(doc, "keys");
    if (!keys) {
        err = apisec_jwk_set_add_jwk(set, doc, flags);
    }
    else if (!json_is_array(keys) || json_array_size(keys) == 0) {
        err = "JWKS keys is not a non-empty array";
    }
    else if (jwks_mixed(keys)) {
        err = "JWKS mixes secret (oct) and public keys";
    }
    else {
        for (i = 0; !err && i < json_array_size(keys); i++) {
            err = apisec_jwk_set_add_jwk(set, json_array_get(keys, i), flags);
        }
    }
    json_decref(doc);
    return err;
}
