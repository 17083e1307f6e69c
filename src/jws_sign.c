/* Compact JWS signing with OpenSSL 3 EVP; see jws_sign.h. */
#include "jws_sign.h"
#include "b64url.h"

#include <apr_strings.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <string.h>

static apr_status_t free_pkey(void *data)
{
    EVP_PKEY_free(data);
    return APR_SUCCESS;
}

static const char *md_of(apisec_jws_alg_t alg)
{
    switch (alg) {
    case APISEC_JWS_HS256:
    case APISEC_JWS_RS256:
    case APISEC_JWS_PS256:
    case APISEC_JWS_ES256:
        return "SHA256";
    case APISEC_JWS_HS384:
    case APISEC_JWS_RS384:
    case APISEC_JWS_PS384:
    case APISEC_JWS_ES384:
        return "SHA384";
    case APISEC_JWS_HS512:
    case APISEC_JWS_RS512:
    case APISEC_JWS_PS512:
    case APISEC_JWS_ES512:
        return "SHA512";
    default:
        return NULL; /* EdDSA: no separate digest */
    }
}

static const char *alg_or(const char *alg, int dflt, unsigned fits, int *out)
{
    int a = dflt;

    if (alg) {
        a = apisec_jws_alg_from_name(alg);
        if (a < 0) {
            return "unknown alg= (write e.g. alg=RS256 or alg=PS256)";
        }
    }
    if (!(fits & APISEC_JWS_ALG_BIT(a))) {
        return "the key does not fit the alg= given";
    }
    *out = a;
    return NULL;
}

/* RFC 7638: SHA-256 over the required members in lexicographic order, no
 * whitespace; jansson's sorted compact output is exactly that form. */
static const char *thumbprint(apr_pool_t *p, json_t *jwk)
{
    json_t *req = json_object();
    const char *names[] = {"crv", "e", "kty", "n", "x", "y"};
    unsigned char md[32];
    unsigned int mdlen = 0;
    char *txt;
    size_t i;
    const char *kid = NULL;

    if (!req) {
        return NULL;
    }
    for (i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
        json_t *v = json_object_get(jwk, names[i]);
        if (v) {
            json_object_set(req, names[i], v);
        }
    }
    txt = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(req);
    if (txt && EVP_Digest(txt, strlen(txt), md, &mdlen, EVP_sha256(), NULL)) {
        kid = apisec_b64url_encode(p, md, mdlen);
    }
    free(txt);
    return kid;
}

const char *apisec_signer_from_pem(apr_pool_t *p, const char *pem,
                                   apr_size_t len, const char *kid,
                                   const char *alg, apisec_signer_t **out)
{
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *pkey;
    apisec_signer_t *s;
    const char *err = NULL;
    int a = -1;

    if (!bio) {
        return "out of memory";
    }
    /* No passphrase callback: an encrypted key would need one at every
     * start, which a server cannot answer. */
    pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
    BIO_free(bio);
    if (!pkey) {
        ERR_clear_error();
        return "no unencrypted PEM private key found";
    }
    apr_pool_cleanup_register(p, pkey, free_pkey, apr_pool_cleanup_null);
    s = apr_pcalloc(p, sizeof(*s));
    s->pkey = pkey;
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        if (EVP_PKEY_get_bits(pkey) < 2048) {
            return "RSA key shorter than 2048 bits";
        }
        err = alg_or(alg, APISEC_JWS_RS256,
                     APISEC_JWS_ALG_BIT(APISEC_JWS_RS256)
                         | APISEC_JWS_ALG_BIT(APISEC_JWS_RS384)
                         | APISEC_JWS_ALG_BIT(APISEC_JWS_RS512)
                         | APISEC_JWS_ALG_BIT(APISEC_JWS_PS256)
                         | APISEC_JWS_ALG_BIT(APISEC_JWS_PS384)
                         | APISEC_JWS_ALG_BIT(APISEC_JWS_PS512),
                     &a);
    }
    else if (EVP_PKEY_is_a(pkey, "EC")) {
        char curve[32];
        int dflt;
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                            curve, sizeof(curve), NULL)) {
            ERR_clear_error();
            return "EC key without a named curve";
        }
        if (!strcmp(curve, "prime256v1") || !strcmp(curve, "P-256")) {
            dflt = APISEC_JWS_ES256;
            s->ec_len = 32;
        }
        else if (!strcmp(curve, "secp384r1") || !strcmp(curve, "P-384")) {
            dflt = APISEC_JWS_ES384;
            s->ec_len = 48;
        }
        else if (!strcmp(curve, "secp521r1") || !strcmp(curve, "P-521")) {
            dflt = APISEC_JWS_ES512;
            s->ec_len = 66;
        }
        else {
            return "EC curve not supported (P-256, P-384, P-521)";
        }
        err = alg_or(alg, dflt, APISEC_JWS_ALG_BIT(dflt), &a);
    }
    else if (EVP_PKEY_is_a(pkey, "ED25519")) {
        err = alg_or(alg, APISEC_JWS_EDDSA,
                     APISEC_JWS_ALG_BIT(APISEC_JWS_EDDSA), &a);
    }
    else {
        err = "key type not supported (RSA, EC, Ed25519)";
    }
    if (err) {
        return err;
    }
    s->alg = (apisec_jws_alg_t)a;
    if (kid) {
        s->kid = apr_pstrdup(p, kid);
    }
    else {
        json_t *jwk = apisec_signer_public_jwk(s);
        s->kid = jwk ? thumbprint(p, jwk) : NULL;
        json_decref(jwk);
        if (!s->kid) {
            return "cannot compute the key's thumbprint";
        }
    }
    *out = s;
    return NULL;
}

const char *apisec_signer_from_secret(apr_pool_t *p,
                                      const unsigned char *secret,
                                      apr_size_t len, const char *kid,
                                      const char *alg, apisec_signer_t **out)
{
    apisec_signer_t *s;
    unsigned fits = 0;
    const char *err;
    int a;

    if (len >= 32) {
        fits |= APISEC_JWS_ALG_BIT(APISEC_JWS_HS256);
    }
    if (len >= 48) {
        fits |= APISEC_JWS_ALG_BIT(APISEC_JWS_HS384);
    }
    if (len >= 64) {
        fits |= APISEC_JWS_ALG_BIT(APISEC_JWS_HS512);
    }
    if (!fits) {
        return "the secret is shorter than 32 bytes";
    }
    if ((err = alg_or(alg, APISEC_JWS_HS256, fits, &a))) {
        return alg ? "the secret is shorter than alg= needs, or alg= is not "
                     "HS256, HS384 or HS512"
                   : err;
    }
    s = apr_pcalloc(p, sizeof(*s));
    s->alg = (apisec_jws_alg_t)a;
    s->kid = kid ? apr_pstrdup(p, kid) : NULL;
    s->secret = apr_pmemdup(p, secret, len);
    s->secret_len = len;
    *out = s;
    return NULL;
}

/* DER ECDSA-Sig-Value to raw r||s of 2 x LEN bytes. */
static int der_to_raw(const unsigned char *der, size_t derlen,
                      unsigned char *raw, apr_size_t len)
{
    const unsigned char *q = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &q, (long)derlen);
    const BIGNUM *r, *s;
    int ok;

    if (!sig) {
        return 0;
    }
    ECDSA_SIG_get0(sig, &r, &s);
    ok = BN_bn2binpad(r, raw, (int)len) == (int)len
         && BN_bn2binpad(s, raw + len, (int)len) == (int)len;
    ECDSA_SIG_free(sig);
    return ok;
}

static unsigned char *sign_input(apr_pool_t *p, const apisec_signer_t *s,
                                 const char *in, apr_size_t inlen,
                                 apr_size_t *siglen)
{
    const char *md = md_of(s->alg);
    unsigned char *sig = NULL;
    size_t n = 0;

    if (!s->pkey) {
        unsigned char tag[EVP_MAX_MD_SIZE];
        size_t taglen = sizeof(tag);
        EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
        OSSL_PARAM params[2];
        params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                     (char *)md, 0);
        params[1] = OSSL_PARAM_construct_end();
        if (ctx && EVP_MAC_init(ctx, s->secret, s->secret_len, params)
            && EVP_MAC_update(ctx, (const unsigned char *)in, inlen)
            && EVP_MAC_final(ctx, tag, &taglen, sizeof(tag))) {
            sig = apr_pmemdup(p, tag, taglen);
            *siglen = taglen;
        }
        EVP_MAC_CTX_free(ctx);
        EVP_MAC_free(mac);
    }
    else {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        int ok =
            ctx
            && EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, s->pkey, NULL)
                   > 0;
        if (ok && s->alg >= APISEC_JWS_PS256 && s->alg <= APISEC_JWS_PS512) {
            ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0
                 && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
                                                     RSA_PSS_SALTLEN_DIGEST)
                        > 0
                 && EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, md, NULL) > 0;
        }
        ok = ok
             && EVP_DigestSign(ctx, NULL, &n, (const unsigned char *)in, inlen)
                    > 0;
        if (ok) {
            sig = apr_palloc(p, n);
            ok = EVP_DigestSign(ctx, sig, &n, (const unsigned char *)in, inlen)
                 > 0;
        }
        if (ok && s->ec_len) {
            unsigned char *raw = apr_palloc(p, 2 * s->ec_len);
            ok = der_to_raw(sig, n, raw, s->ec_len);
            sig = raw;
            n = 2 * s->ec_len;
        }
        EVP_MD_CTX_free(ctx);
        if (!ok) {
            sig = NULL;
        }
        *siglen = n;
    }
    ERR_clear_error();
    return sig;
}

char *apisec_jws_sign(apr_pool_t *p, const apisec_signer_t *s, const char *typ,
                      json_t *claims)
{
    json_t *hdr = json_pack("{s:s}", "alg", apisec_jws_alg_name(s->alg));
    char *htxt = NULL, *ctxt = NULL, *input = NULL, *out = NULL;
    unsigned char *sig;
    apr_size_t siglen = 0;

    if (!hdr) {
        return NULL;
    }
    if (typ) {
        json_object_set_new(hdr, "typ", json_string(typ));
    }
    if (s->kid) {
        json_object_set_new(hdr, "kid", json_string(s->kid));
    }
    htxt = json_dumps(hdr, JSON_COMPACT);
    ctxt = json_is_object(claims) ? json_dumps(claims, JSON_COMPACT) : NULL;
    json_decref(hdr);
    if (htxt && ctxt) {
        input = apr_pstrcat(
            p, apisec_b64url_encode(p, (unsigned char *)htxt, strlen(htxt)),
            ".", apisec_b64url_encode(p, (unsigned char *)ctxt, strlen(ctxt)),
            NULL);
        sig = sign_input(p, s, input, strlen(input), &siglen);
        if (sig) {
            out = apr_pstrcat(p, input, ".",
                              apisec_b64url_encode(p, sig, siglen), NULL);
        }
    }
    free(htxt);
    free(ctxt);
    return out;
}

static json_t *b64_bn(apr_pool_t *p, const BIGNUM *bn, int pad)
{
    int n = pad ? pad : BN_num_bytes(bn);
    unsigned char *buf = apr_palloc(p, n ? n : 1);

    if (BN_bn2binpad(bn, buf, n) != n) {
        return NULL;
    }
    return json_string(apisec_b64url_encode(p, buf, n));
}

json_t *apisec_signer_public_jwk(const apisec_signer_t *s)
{
    apr_pool_t *p;
    json_t *jwk = NULL;
    BIGNUM *a = NULL, *b = NULL;

    if (!s->pkey || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return NULL;
    }
    if (EVP_PKEY_is_a(s->pkey, "RSA")) {
        if (EVP_PKEY_get_bn_param(s->pkey, OSSL_PKEY_PARAM_RSA_N, &a)
            && EVP_PKEY_get_bn_param(s->pkey, OSSL_PKEY_PARAM_RSA_E, &b)) {
            jwk = json_pack("{s:s,s:o,s:o}", "kty", "RSA", "n", b64_bn(p, a, 0),
                            "e", b64_bn(p, b, 0));
        }
    }
    else if (s->ec_len) {
        const char *crv = s->ec_len == 32   ? "P-256"
                          : s->ec_len == 48 ? "P-384"
                                            : "P-521";
        if (EVP_PKEY_get_bn_param(s->pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a)
            && EVP_PKEY_get_bn_param(s->pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b)) {
            jwk = json_pack("{s:s,s:s,s:o,s:o}", "kty", "EC", "crv", crv, "x",
                            b64_bn(p, a, (int)s->ec_len), "y",
                            b64_bn(p, b, (int)s->ec_len));
        }
    }
    else {
        unsigned char raw[32];
        size_t n = sizeof(raw);
        if (EVP_PKEY_get_raw_public_key(s->pkey, raw, &n) && n == 32) {
            jwk = json_pack("{s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519",
                            "x", apisec_b64url_encode(p, raw, n));
        }
    }
    BN_free(a);
    BN_free(b);
    ERR_clear_error();
    if (jwk) {
        if (s->kid) {
            json_object_set_new(jwk, "kid", json_string(s->kid));
        }
        json_object_set_new(jwk, "alg",
                            json_string(apisec_jws_alg_name(s->alg)));
        json_object_set_new(jwk, "use", json_string("sig"));
    }
    apr_pool_destroy(p);
    return jwk;
}

const char *apisec_signer_add_to_set(const apisec_signer_t *s,
                                     apisec_jwk_set_t *set)
{
    if (!s->pkey) {
        return apisec_jwk_set_add_secret(set, s->secret, s->secret_len, s->kid);
    }
    /* The set takes ownership of a reference of its own. */
    if (!EVP_PKEY_up_ref(s->pkey)) {
        return "out of memory";
    }
    return apisec_jwk_set_add_pkey(set, s->pkey, s->kid);
}
