/* Verification keys: see jwk.h for the promises and the selection rule.
 * This file holds the set, the classification of OpenSSL keys, secrets,
 * and PEM/file loading; JWK/JWKS parsing is in jwk_json.c. */
#include "jwk.h"
#include "jwk_int.h"

#include <string.h>
#include <apr_file_io.h>
#include <apr_strings.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

/* Largest key file we read: a JWKS of a big provider is a few KB. */
#define MAX_KEY_FILE (1024 * 1024)

#define RSA_ALGS                                                               \
    (APISEC_JWS_ALG_BIT(APISEC_JWS_RS256)                                      \
     | APISEC_JWS_ALG_BIT(APISEC_JWS_RS384)                                    \
     | APISEC_JWS_ALG_BIT(APISEC_JWS_RS512)                                    \
     | APISEC_JWS_ALG_BIT(APISEC_JWS_PS256)                                    \
     | APISEC_JWS_ALG_BIT(APISEC_JWS_PS384)                                    \
     | APISEC_JWS_ALG_BIT(APISEC_JWS_PS512))

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
    int i;

    for (i = 0; i < APISEC_JWS_ALG_COUNT; i++) {
        EVP_MD_CTX_free(key->verify_tpl[i]);
        key->verify_tpl[i] = NULL;
    }
    for (i = 0; i < 3; i++) {
        EVP_MAC_CTX_free(key->mac_tpl[i]);
        key->mac_tpl[i] = NULL;
    }
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
apisec_jwk_t *apisec_jwk_key_new(apisec_jwk_set_t *set, const char *kid)
{
    apisec_jwk_t *key = apr_pcalloc(set->pool, sizeof(*key));

    key->kid = kid ? apr_pstrdup(set->pool, kid) : NULL;
    key->alg = -1;
    key->usable = 1;
    apr_pool_cleanup_register(set->pool, key, key_cleanup,
                              apr_pool_cleanup_null);
    return key;
}

/* ---- verification contexts -------------------------------------------- */

static const char *md_name(apisec_jws_alg_t alg)
{
    static const char *const names[] = {"SHA256", "SHA384", "SHA512"};

    if (alg == APISEC_JWS_EDDSA) {
        return NULL;
    }
    return names[(alg - APISEC_JWS_HS256) % 3];
}

static EVP_MD_CTX *verify_init(const apisec_jwk_t *key, apisec_jws_alg_t alg)
{
    const char *md = md_name(alg);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok;

    ok = ctx
         && EVP_DigestVerifyInit_ex(ctx, &pctx, md, NULL, NULL, key->pkey, NULL)
                == 1;
    if (ok && alg >= APISEC_JWS_PS256 && alg <= APISEC_JWS_PS512) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0
             && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST)
                    > 0
             && EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, NULL) > 0;
    }
    else if (ok && key->kty == APISEC_KTY_RSA) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
    }
    if (!ok) {
        EVP_MD_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static EVP_MAC_CTX *mac_init(const apisec_jwk_t *key, apisec_jws_alg_t alg)
{
    OSSL_PARAM params[2];
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(key->mac);

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)md_name(alg), 0);
    params[1] = OSSL_PARAM_construct_end();
    if (!ctx || !EVP_MAC_init(ctx, key->secret, key->secret_len, params)) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

EVP_MD_CTX *apisec_jwk_verify_ctx(const apisec_jwk_t *key, apisec_jws_alg_t alg)
{
    EVP_MD_CTX *ctx;

    if ((unsigned)alg >= APISEC_JWS_ALG_COUNT || !key->pkey) {
        return NULL;
    }
    if (key->verify_tpl[alg]) {
        ctx = EVP_MD_CTX_new();
        if (ctx && EVP_MD_CTX_copy_ex(ctx, key->verify_tpl[alg])) {
            return ctx;
        }
        EVP_MD_CTX_free(ctx);
    }
    return verify_init(key, alg);
}

EVP_MAC_CTX *apisec_jwk_mac_ctx(const apisec_jwk_t *key, apisec_jws_alg_t alg)
{
    EVP_MAC_CTX *ctx;

    if (alg > APISEC_JWS_HS512 || !key->mac) {
        return NULL;
    }
    if (key->mac_tpl[alg] && (ctx = EVP_MAC_CTX_dup(key->mac_tpl[alg]))) {
        return ctx;
    }
    return mac_init(key, alg);
}

/* One template per fitting algorithm, kept only if OpenSSL can copy it
 * (Ed25519 contexts cannot be copied in OpenSSL 3.0). */
static const char *build_templates(apisec_jwk_t *key)
{
    int a;

    for (a = 0; a < APISEC_JWS_ALG_COUNT; a++) {
        if (!(key->fits & APISEC_JWS_ALG_BIT(a))) {
            continue;
        }
        if (key->kty == APISEC_KTY_OCT) {
            EVP_MAC_CTX *probe;

            key->mac_tpl[a] = mac_init(key, (apisec_jws_alg_t)a);
            if (!key->mac_tpl[a]) {
                return "OpenSSL cannot compute HMAC with this secret";
            }
            probe = EVP_MAC_CTX_dup(key->mac_tpl[a]);
            if (!probe) {
                EVP_MAC_CTX_free(key->mac_tpl[a]);
                key->mac_tpl[a] = NULL;
            }
            EVP_MAC_CTX_free(probe);
        }
        else {
            EVP_MD_CTX *probe = EVP_MD_CTX_new();

            key->verify_tpl[a] = verify_init(key, (apisec_jws_alg_t)a);
            if (!key->verify_tpl[a]) {
                EVP_MD_CTX_free(probe);
                return "OpenSSL cannot verify with this key";
            }
            if (!probe || !EVP_MD_CTX_copy_ex(probe, key->verify_tpl[a])) {
                EVP_MD_CTX_free(key->verify_tpl[a]);
                key->verify_tpl[a] = NULL;
            }
            EVP_MD_CTX_free(probe);
        }
    }
    ERR_clear_error();
    return NULL;
}

const char *apisec_jwk_key_push(apisec_jwk_set_t *set, apisec_jwk_t *key)
{
    const char *err;
    int i;

    if (key->usable && key->kid) {
        for (i = 0; i < set->keys->nelts; i++) {
            const apisec_jwk_t *k = APR_ARRAY_IDX(set->keys, i, apisec_jwk_t *);
            if (k->usable && k->kid && strcmp(k->kid, key->kid) == 0) {
                return "two keys carry the same kid";
            }
        }
    }
    if (key->usable && (err = build_templates(key))) {
        return err;
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
    return key->usable && (unsigned)alg < APISEC_JWS_ALG_COUNT
           && (key->fits & APISEC_JWS_ALG_BIT(alg)) != 0;
}

const apisec_jwk_t *apisec_jwk_set_select(const apisec_jwk_set_t *set,
                                          const char *kid, apisec_jws_alg_t alg,
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

const char *apisec_jwk_set_check(const apisec_jwk_set_t *set, unsigned allowed,
                                 const char **kid)
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
        if (k->kty == APISEC_KTY_OCT && (allowed & APISEC_JWK_HS_ALGS)) {
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
        3,   5,   7,   11,  13,  17,  19,  23,  29,  31,  37,  41,  43,
        47,  53,  59,  61,  67,  71,  73,  79,  83,  89,  97,  101, 103,
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
    if (!EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_N, &n)
        || !EVP_PKEY_get_bn_param(key->pkey, OSSL_PKEY_PARAM_RSA_E, &e)) {
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
    ok =
        g
        && BN_bn2binpad(EC_GROUP_get0_order(g), key->ec_order, (int)key->ec_len)
               == (int)key->ec_len;
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
const char *apisec_jwk_key_classify(apisec_jwk_t *key)
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
    key = apisec_jwk_key_new(set, kid);
    key->pkey = pkey;
    err = apisec_jwk_key_classify(key);
    return err ? err : apisec_jwk_key_push(set, key);
}

/* Fills an oct key; the secret is copied into the set's pool. */
const char *apisec_jwk_key_secret(apisec_jwk_set_t *set, apisec_jwk_t *key,
                                  const unsigned char *secret, apr_size_t len)
{
    key->kty = APISEC_KTY_OCT;
    if (len < 32) {
        return "HMAC secret shorter than 32 bytes (the HS256 minimum)";
    }
    key->fits = APISEC_JWS_ALG_BIT(APISEC_JWS_HS256)
                | (len >= 48 ? APISEC_JWS_ALG_BIT(APISEC_JWS_HS384) : 0)
                | (len >= 64 ? APISEC_JWS_ALG_BIT(APISEC_JWS_HS512) : 0);
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
    apisec_jwk_t *key = apisec_jwk_key_new(set, kid);
    const char *err = apisec_jwk_key_secret(set, key, secret, len);

    return err ? err : apisec_jwk_key_push(set, key);
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
    EVP_PKEY *pkey = NULL;
    const char *err = NULL;
    apr_pool_t *tmp;
    char *text;
    BIO *bio;

    if (len > MAX_KEY_FILE) {
        return "key file too large";
    }
    /* A NUL-terminated copy for strstr, gone once the key is read. */
    if (apr_pool_create(&tmp, set->pool) != APR_SUCCESS) {
        return "out of memory";
    }
    text = apr_pstrmemdup(tmp, pem, len);
    bio = BIO_new_mem_buf(text, (int)len);
    if (!bio) {
        err = "out of memory reading PEM";
    }
    else if (strstr(text, "-----BEGIN CERTIFICATE-----")) {
        pkey = pem_certificate_key(bio);
    }
    else if (strstr(text, "-----BEGIN PUBLIC KEY-----")
             || strstr(text, "-----BEGIN RSA PUBLIC KEY-----")) {
        pkey = pem_public_key(bio);
    }
    else if (strstr(text, "PRIVATE KEY-----")) {
        err = "file holds a private key: configure the public key or "
              "certificate";
    }
    BIO_free(bio);
    ERR_clear_error();
    apr_pool_destroy(tmp);
    if (err) {
        return err;
    }
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
                      APR_FPROT_OS_DEFAULT, tmp)
            != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS) {
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
