/* Helpers shared by the JOSE unit tests: where the vectors are, hex,
 * and a small JWS signer built straight on OpenSSL (independent of the
 * verify code under test) so that attack tokens can be minted at run time.
 * Test-only code; every function is static so each test is one .c file. */
#ifndef APISEC_JOSE_UTIL_H
#define APISEC_JOSE_UTIL_H

#include <stdlib.h>
#include <string.h>
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "b64url.h"
#include "jose.h"
#include "jwk.h"

/* Unused helpers in a given test are fine. */
#define JU_UNUSED __attribute__((unused))

/* The vectors directory: $APISEC_VECTORS, else ../shared/vectors (tests run
 * from the repository top). */
static JU_UNUSED const char *ju_vectors(apr_pool_t *p, const char *rel)
{
    const char *dir = getenv("APISEC_VECTORS");

    return apr_pstrcat(p, dir && *dir ? dir : "../shared/vectors", "/", rel,
                       NULL);
}

static JU_UNUSED json_t *ju_load_json(apr_pool_t *p, const char *rel)
{
    json_error_t err;
    json_t *j = json_load_file(ju_vectors(p, rel), 0, &err);

    if (!j) {
        printf("# cannot load %s: %s\n", rel, err.text);
    }
    return j;
}

/* Hex to bytes in pool memory; NULL on bad hex. */
static JU_UNUSED unsigned char *ju_hex(apr_pool_t *p, const char *hex,
                                       apr_size_t *len)
{
    apr_size_t n = strlen(hex), i;
    unsigned char *out;

    if (n % 2) {
        return NULL;
    }
    out = apr_palloc(p, n / 2 + 1);
    for (i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            return NULL;
        }
        out[i] = (unsigned char)v;
    }
    *len = n / 2;
    return out;
}

static JU_UNUSED const EVP_MD *ju_md(apisec_jws_alg_t alg)
{
    switch (alg) {
    case APISEC_JWS_HS256:
    case APISEC_JWS_RS256:
    case APISEC_JWS_PS256:
    case APISEC_JWS_ES256:
        return EVP_sha256();
    case APISEC_JWS_HS384:
    case APISEC_JWS_RS384:
    case APISEC_JWS_PS384:
    case APISEC_JWS_ES384:
        return EVP_sha384();
    case APISEC_JWS_HS512:
    case APISEC_JWS_RS512:
    case APISEC_JWS_PS512:
    case APISEC_JWS_ES512:
        return EVP_sha512();
    default:
        return NULL;
    }
}

/* Raw JWS signature over DATA (no JOSE rules applied: the signer must be
 * able to produce bad tokens). For HS*, SECRET is the key; else PKEY. */
static JU_UNUSED unsigned char *ju_sign_raw(apr_pool_t *p, apisec_jws_alg_t alg,
                                            EVP_PKEY *pkey,
                                            const unsigned char *secret,
                                            apr_size_t slen, const char *data,
                                            apr_size_t dlen, apr_size_t *siglen)
{
    const EVP_MD *md = ju_md(alg);
    unsigned char *sig;
    size_t n = 0;

    if (alg <= APISEC_JWS_HS512) {
        sig = apr_palloc(p, EVP_MAX_MD_SIZE);
        if (!EVP_Q_mac(NULL, "HMAC", NULL, EVP_MD_get0_name(md), NULL, secret,
                       slen, (const unsigned char *)data, dlen, sig,
                       EVP_MAX_MD_SIZE, &n)) {
            return NULL;
        }
    }
    else {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        EVP_PKEY_CTX *pctx = NULL;
        unsigned char *der;
        int ok = EVP_DigestSignInit(ctx, &pctx, md, NULL, pkey) == 1;

        if (ok && alg >= APISEC_JWS_PS256 && alg <= APISEC_JWS_PS512) {
            ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0
                 && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
                                                     RSA_PSS_SALTLEN_DIGEST)
                        > 0;
        }
        ok = ok
             && EVP_DigestSign(ctx, NULL, &n, (const unsigned char *)data, dlen)
                    == 1;
        der = apr_palloc(p, n + 1);
        ok = ok
             && EVP_DigestSign(ctx, der, &n, (const unsigned char *)data, dlen)
                    == 1;
        EVP_MD_CTX_free(ctx);
        if (!ok) {
            return NULL;
        }
        sig = der;
        if (alg >= APISEC_JWS_ES256 && alg <= APISEC_JWS_ES512) {
            /* DER to raw r||s of the curve's size. */
            apr_size_t half = alg == APISEC_JWS_ES256   ? 32
                              : alg == APISEC_JWS_ES384 ? 48
                                                        : 66;
            const unsigned char *q = der;
            ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &q, (long)n);
            if (!es) {
                return NULL;
            }
            sig = apr_palloc(p, 2 * half);
            BN_bn2binpad(ECDSA_SIG_get0_r(es), sig, (int)half);
            BN_bn2binpad(ECDSA_SIG_get0_s(es), sig + half, (int)half);
            ECDSA_SIG_free(es);
            n = 2 * half;
        }
    }
    *siglen = n;
    return sig;
}

/* HEADER.PAYLOAD.SIG with the JSON texts given verbatim. */
static JU_UNUSED char *ju_token(apr_pool_t *p, apisec_jws_alg_t alg,
                                EVP_PKEY *pkey, const unsigned char *secret,
                                apr_size_t slen, const char *header,
                                const char *payload)
{
    char *input = apr_pstrcat(
        p,
        apisec_b64url_encode(p, (const unsigned char *)header, strlen(header)),
        ".",
        apisec_b64url_encode(p, (const unsigned char *)payload,
                             strlen(payload)),
        NULL);
    apr_size_t siglen;
    unsigned char *sig =
        ju_sign_raw(p, alg, pkey, secret, slen, input, strlen(input), &siglen);

    if (!sig) {
        return NULL;
    }
    return apr_pstrcat(p, input, ".", apisec_b64url_encode(p, sig, siglen),
                       NULL);
}

/* Public key PEM of PKEY, in pool memory. */
static JU_UNUSED char *ju_pubkey_pem(apr_pool_t *p, EVP_PKEY *pkey)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *data, *out;
    long n;

    if (!bio || !PEM_write_bio_PUBKEY(bio, pkey)) {
        BIO_free(bio);
        return NULL;
    }
    n = BIO_get_mem_data(bio, &data);
    out = apr_pstrmemdup(p, data, (apr_size_t)n);
    BIO_free(bio);
    return out;
}

/* parse + verify, the JWS-level path (payload need not be JSON). */
static JU_UNUSED apisec_jose_err_t ju_check(apr_pool_t *p, const char *token,
                                            const apisec_jwk_set_t *set,
                                            unsigned allowed)
{
    apisec_jws_t jws;
    apisec_jose_err_t rv = apisec_jose_parse(p, token, strlen(token), &jws);

    return rv ? rv : apisec_jose_verify(&jws, set, allowed, NULL);
}

#endif
