/* Compact JWS: see jose.h for what is promised. */
#include "jose.h"
#include "b64url.h"

#include <string.h>
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>

static const char *const messages[] = {
    "ok",
    "token malformed",
    "encrypted tokens not accepted",
    "unsecured tokens not accepted",
    "algorithm not supported",
    "algorithm not allowed",
    "header key parameters not accepted",
    "critical header not supported",
    "unknown key",
    "algorithm does not fit the key",
    "signature invalid",
    "token payload is not a JSON object",
    "internal error",
};

const char *apisec_jose_strerror(apisec_jose_err_t err)
{
    if ((unsigned)err >= sizeof(messages) / sizeof(messages[0])) {
        return "internal error";
    }
    return messages[err];
}

static apr_status_t json_cleanup(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

json_t *apisec_jose_json_object(apr_pool_t *p, const char *buf, apr_size_t len)
{
    json_error_t jerr;
    json_t *v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

    if (!v) {
        return NULL;
    }
    if (!json_is_object(v)) {
        json_decref(v);
        return NULL;
    }
    apr_pool_cleanup_register(p, v, json_cleanup, apr_pool_cleanup_null);
    return v;
}

/* ---- parsing ---------------------------------------------------------- */

/* Header members that would let the token name its own key. */
static const char *const key_members[] = {"jwk", "jku", "x5u", "x5c"};

/* A member that must be a string when present: *OUT is NULL when absent. */
static int optional_string(json_t *hdr, const char *name, const char **out)
{
    json_t *v = json_object_get(hdr, name);

    *out = NULL;
    if (!v) {
        return 1;
    }
    if (!json_is_string(v)) {
        return 0;
    }
    *out = json_string_value(v);
    return 1;
}

static apisec_jose_err_t check_header(apisec_jws_t *jws)
{
    json_t *hdr = jws->header, *alg, *b64;
    const char *cty;
    size_t i;
    int a;

    if (json_object_get(hdr, "enc")) {
        return APISEC_JOSE_JWE;
    }
    alg = json_object_get(hdr, "alg");
    if (!json_is_string(alg)) {
        return APISEC_JOSE_MALFORMED;
    }
    /* Jansson strings may hold NUL: "HS256\u0000x" must not pass as HS256. */
    if (strlen(json_string_value(alg)) != json_string_length(alg)) {
        return APISEC_JOSE_ALG_UNKNOWN;
    }
    if (apisec_jws_alg_is_none(json_string_value(alg))) {
        return APISEC_JOSE_UNSECURED;
    }
    a = apisec_jws_alg_from_name(json_string_value(alg));
    if (a < 0) {
        return APISEC_JOSE_ALG_UNKNOWN;
    }
    jws->alg = (apisec_jws_alg_t)a;
    for (i = 0; i < sizeof(key_members) / sizeof(key_members[0]); i++) {
        if (json_object_get(hdr, key_members[i])) {
            return APISEC_JOSE_HEADER_KEY;
        }
    }
    b64 = json_object_get(hdr, "b64");
    if (json_object_get(hdr, "crit") || (b64 && !json_is_true(b64))) {
        return APISEC_JOSE_CRIT;
    }
    if (!optional_string(hdr, "kid", &jws->kid)
        || !optional_string(hdr, "typ", &jws->typ)
        || !optional_string(hdr, "cty", &cty)) {
        return APISEC_JOSE_MALFORMED;
    }
    /* A kid with an embedded NUL would compare equal to its prefix. */
    if (jws->kid
        && strlen(jws->kid)
               != json_string_length(json_object_get(hdr, "kid"))) {
        return APISEC_JOSE_UNKNOWN_KEY;
    }
    return APISEC_JOSE_OK;
}

apisec_jose_err_t apisec_jose_parse(apr_pool_t *p, const char *token,
                                    apr_size_t len, apisec_jws_t *jws)
{
    const char *dot[4];
    apr_size_t i;
    int ndots = 0;
    unsigned char *hdr, *payload, *sig;
    apr_size_t hdr_len, payload_len, sig_len;
    apisec_jose_err_t rv;

    memset(jws, 0, sizeof(*jws));
    for (i = 0; i < len; i++) {
        if (token[i] == '.') {
            if (ndots == 4) {
                return APISEC_JOSE_MALFORMED;
            }
            dot[ndots++] = token + i;
        }
    }
    if (ndots == 4) {
        return APISEC_JOSE_JWE;
    }
    if (ndots != 2) {
        return APISEC_JOSE_MALFORMED;
    }
    /* The header first: what it says (crit, JWE, none) is a more useful
     * reason than a payload that does not decode because of it. */
    if (apisec_b64url_decode(p, token, (apr_size_t)(dot[0] - token), &hdr,
                             &hdr_len)
        != APR_SUCCESS) {
        return APISEC_JOSE_MALFORMED;
    }
    jws->header = apisec_jose_json_object(p, (const char *)hdr, hdr_len);
    if (!jws->header) {
        return APISEC_JOSE_MALFORMED;
    }
    rv = check_header(jws);
    if (rv != APISEC_JOSE_OK) {
        return rv;
    }
    if (apisec_b64url_decode(p, dot[0] + 1, (apr_size_t)(dot[1] - dot[0] - 1),
                             &payload, &payload_len)
            != APR_SUCCESS
        || apisec_b64url_decode(p, dot[1] + 1,
                                (apr_size_t)(token + len - dot[1] - 1), &sig,
                                &sig_len)
               != APR_SUCCESS) {
        return APISEC_JOSE_MALFORMED;
    }
    jws->signing_input = token;
    jws->signing_input_len = (apr_size_t)(dot[1] - token);
    jws->payload = payload;
    jws->payload_len = payload_len;
    jws->sig = sig;
    jws->sig_len = sig_len;
    return APISEC_JOSE_OK;
}

/* ---- signature primitives --------------------------------------------- */

static apisec_jose_err_t verify_hmac(apisec_jws_alg_t alg,
                                     const apisec_jwk_t *key,
                                     const unsigned char *data, apr_size_t len,
                                     const unsigned char *sig,
                                     apr_size_t sig_len)
{
    unsigned char tag[EVP_MAX_MD_SIZE];
    size_t tag_len = 0;
    EVP_MAC_CTX *ctx;
    int ok;

    /* Only the full tag, 32/48/64 bytes (RFC 7518 3.2): a truncated one is
     * a weaker MAC an attacker could choose. */
    if (sig_len != 32 + 16 * (apr_size_t)(alg - APISEC_JWS_HS256)) {
        return APISEC_JOSE_BAD_SIGNATURE;
    }
    ctx = apisec_jwk_mac_ctx(key, alg);
    ok = ctx && EVP_MAC_update(ctx, data, len)
         && EVP_MAC_final(ctx, tag, &tag_len, sizeof(tag));
    EVP_MAC_CTX_free(ctx);
    if (!ok || tag_len != sig_len) {
        OPENSSL_cleanse(tag, sizeof(tag));
        return APISEC_JOSE_INTERNAL;
    }
    ok = CRYPTO_memcmp(tag, sig, sig_len) == 0;
    OPENSSL_cleanse(tag, sizeof(tag));
    return ok ? APISEC_JOSE_OK : APISEC_JOSE_BAD_SIGNATURE;
}

/* 0 < X < order, for big-endian X and order of the same length. */
static int ec_scalar_ok(const unsigned char *x, const unsigned char *order,
                        apr_size_t n)
{
    apr_size_t i;
    unsigned char any = 0;

    for (i = 0; i < n; i++) {
        any |= x[i];
    }
    return any != 0 && memcmp(x, order, n) < 0;
}

/* Raw r||s (RFC 7518 3.4) to the DER that OpenSSL verifies. Returns the DER
 * length, or 0. */
static int ecdsa_der(const apisec_jwk_t *key, const unsigned char *sig,
                     unsigned char *der, int cap)
{
    apr_size_t n = key->ec_len;
    ECDSA_SIG *es;
    BIGNUM *r, *s;
    unsigned char *out = der;
    int der_len;

    if (!ec_scalar_ok(sig, key->ec_order, n)
        || !ec_scalar_ok(sig + n, key->ec_order, n)) {
        return 0;
    }
    es = ECDSA_SIG_new();
    r = BN_bin2bn(sig, (int)n, NULL);
    s = BN_bin2bn(sig + n, (int)n, NULL);
    if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s)) {
        ECDSA_SIG_free(es);
        BN_free(r);
        BN_free(s);
        return 0;
    }
    der_len = i2d_ECDSA_SIG(es, NULL);
    if (der_len <= 0 || der_len > cap) {
        der_len = 0;
    }
    else {
        der_len = i2d_ECDSA_SIG(es, &out);
    }
    ECDSA_SIG_free(es);
    return der_len > 0 ? der_len : 0;
}

static apisec_jose_err_t verify_pkey(apisec_jws_alg_t alg,
                                     const apisec_jwk_t *key,
                                     const unsigned char *data, apr_size_t len,
                                     const unsigned char *sig,
                                     apr_size_t sig_len)
{
    unsigned char der[2 * 66 + 16];
    EVP_MD_CTX *ctx;
    int ok;

    if (key->kty == APISEC_KTY_EC) {
        int der_len;

        if (sig_len != 2 * key->ec_len) {
            return APISEC_JOSE_BAD_SIGNATURE;
        }
        der_len = ecdsa_der(key, sig, der, (int)sizeof(der));
        if (!der_len) {
            return APISEC_JOSE_BAD_SIGNATURE;
        }
        sig = der;
        sig_len = (apr_size_t)der_len;
    }
    else if (key->kty == APISEC_KTY_OKP) {
        if (sig_len != 64) {
            return APISEC_JOSE_BAD_SIGNATURE;
        }
    }
    else if (sig_len != (apr_size_t)EVP_PKEY_get_size(key->pkey)) {
        /* RSA: exactly the modulus length, no leading-zero games. */
        return APISEC_JOSE_BAD_SIGNATURE;
    }
    ctx = apisec_jwk_verify_ctx(key, alg);
    if (!ctx) {
        return APISEC_JOSE_INTERNAL;
    }
    ok = EVP_DigestVerify(ctx, sig, sig_len, data, len) == 1;
    EVP_MD_CTX_free(ctx);
    return ok ? APISEC_JOSE_OK : APISEC_JOSE_BAD_SIGNATURE;
}

apisec_jose_err_t
apisec_jose_verify_signature(apisec_jws_alg_t alg, const apisec_jwk_t *key,
                             const unsigned char *data, apr_size_t len,
                             const unsigned char *sig, apr_size_t sig_len)
{
    apisec_jose_err_t rv;

    /* The second line of defence against key confusion: whatever chose
     * the key, an RSA/EC/OKP key never reaches the HMAC code and a secret
     * never reaches the public-key code. */
    if (!key || !apisec_jwk_fits(key, alg)) {
        return APISEC_JOSE_KEY_MISMATCH;
    }
    if (alg <= APISEC_JWS_HS512) {
        rv = key->kty == APISEC_KTY_OCT && key->mac
                 ? verify_hmac(alg, key, data, len, sig, sig_len)
                 : APISEC_JOSE_KEY_MISMATCH;
    }
    else {
        rv = key->kty != APISEC_KTY_OCT && key->pkey
                 ? verify_pkey(alg, key, data, len, sig, sig_len)
                 : APISEC_JOSE_KEY_MISMATCH;
    }
    /* Leave nothing in this thread's queue for the next OpenSSL user
     * (mod_ssl reads it). */
    ERR_clear_error();
    return rv;
}

apisec_jose_err_t apisec_jose_verify(const apisec_jws_t *jws,
                                     const apisec_jwk_set_t *keys,
                                     unsigned allowed,
                                     const apisec_jwk_t **used)
{
    const apisec_jwk_t *key;
    apisec_jose_err_t rv;
    int mismatch;

    if (used) {
        *used = NULL;
    }
    if (!(allowed & APISEC_JWS_ALG_BIT(jws->alg))) {
        return APISEC_JOSE_ALG_NOT_ALLOWED;
    }
    key = apisec_jwk_set_select(keys, jws->kid, jws->alg, &mismatch);
    if (!key) {
        return mismatch ? APISEC_JOSE_KEY_MISMATCH : APISEC_JOSE_UNKNOWN_KEY;
    }
    rv = apisec_jose_verify_signature(
        jws->alg, key, (const unsigned char *)jws->signing_input,
        jws->signing_input_len, jws->sig, jws->sig_len);
    if (rv == APISEC_JOSE_OK && used) {
        *used = key;
    }
    return rv;
}

apisec_jose_err_t apisec_jose_decode_jwt(apr_pool_t *p, const char *token,
                                         apr_size_t len,
                                         const apisec_jwk_set_t *keys,
                                         unsigned allowed, apisec_jws_t *jws,
                                         json_t **claims)
{
    apisec_jose_err_t rv;

    *claims = NULL;
    rv = apisec_jose_parse(p, token, len, jws);
    if (rv == APISEC_JOSE_OK) {
        rv = apisec_jose_verify(jws, keys, allowed, NULL);
    }
    if (rv != APISEC_JOSE_OK) {
        return rv;
    }
    /* Parsed only once the signature holds: nobody gets to feed jansson
     * an unsigned payload of their choosing. */
    *claims = apisec_jose_json_object(p, (const char *)jws->payload,
                                      jws->payload_len);
    return *claims ? APISEC_JOSE_OK : APISEC_JOSE_NOT_JSON;
}
