/* JWK and JWKS documents (RFC 7517, RFC 7518 section 6, RFC 8037) into
 * the key set: see jwk.h for the rules. Key material is decoded with the
 * strict base64url decoder and imported with OSSL_PARAM / EVP_PKEY_fromdata;
 * the resulting key is then classified exactly like a PEM key (jwk.c). */
#include "jwk.h"
#include "jwk_int.h"
#include "b64url.h"

#include <string.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

/* A base64url member, strictly decoded. */
static const char *jwk_bytes(apr_pool_t *p, json_t *jwk, const char *name,
                             unsigned char **out, apr_size_t *len)
{
    json_t *v = json_object_get(jwk, name);

    if (!json_is_string(v)) {
        return "JWK lacks a required key member";
    }
    if (apisec_b64url_decode(p, json_string_value(v), json_string_length(v),
                             out, len)
        != APR_SUCCESS) {
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

    if ((err = jwk_bytes(set->pool, jwk, "n", &nb, &nlen))
        || (err = jwk_bytes(set->pool, jwk, "e", &eb, &elen))) {
        return err;
    }
    n = BN_bin2bn(nb, (int)nlen, NULL);
    e = BN_bin2bn(eb, (int)elen, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (n && e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n)
        && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)
        && (params = OSSL_PARAM_BLD_to_param(bld))
        && (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL))
        && EVP_PKEY_fromdata_init(ctx) == 1
        && EVP_PKEY_fromdata(ctx, &key->pkey, EVP_PKEY_PUBLIC_KEY, params)
               == 1) {
        ok = 1;
    }
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    ERR_clear_error();
    return ok ? apisec_jwk_key_classify(key) : "JWK RSA key not importable";
}

static const char *jwk_ec(apisec_jwk_set_t *set, apisec_jwk_t *key, json_t *jwk)
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
    if ((err = jwk_bytes(set->pool, jwk, "x", &x, &xlen))
        || (err = jwk_bytes(set->pool, jwk, "y", &y, &ylen))) {
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
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *)curves[i].group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pub,
                                                  1 + 2 * xlen);
    params[2] = OSSL_PARAM_construct_end();
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    ok =
        ctx && EVP_PKEY_fromdata_init(ctx) == 1
        && EVP_PKEY_fromdata(ctx, &key->pkey, EVP_PKEY_PUBLIC_KEY, params) == 1;
    EVP_PKEY_CTX_free(ctx);
    ERR_clear_error();
    return ok ? apisec_jwk_key_classify(key)
              : "JWK EC key is not a valid curve point";
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
    return key->pkey ? apisec_jwk_key_classify(key)
                     : "JWK Ed25519 key not importable";
}

static const char *jwk_oct(apisec_jwk_set_t *set, apisec_jwk_t *key,
                           json_t *jwk)
{
    unsigned char *k;
    apr_size_t klen;
    const char *err = jwk_bytes(set->pool, jwk, "k", &k, &klen);

    if (!err) {
        err = apisec_jwk_key_secret(set, key, k, klen);
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
    if (!json_is_string(alg)
        || (key->alg = apisec_jws_alg_from_name(json_string_value(alg))) < 0) {
        return "JWK alg is not a supported JWS algorithm";
    }
    key->fits &= APISEC_JWS_ALG_BIT(key->alg);
    if (!key->fits) {
        return key->kty == APISEC_KTY_OCT
                       && (APISEC_JWS_ALG_BIT(key->alg) & APISEC_JWK_HS_ALGS)
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
    key = apisec_jwk_key_new(set, json_string_value(kidv));
    if ((err = jwk_usage(key, jwk))) {
        return err;
    }
    if (!key->usable) {
        /* Never used: not imported, so an encryption key of a kind we do
         * not implement does not stop a provider's set from loading. */
        return apisec_jwk_key_push(set, key);
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
    return err ? err : apisec_jwk_key_push(set, key);
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
