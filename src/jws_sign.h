/* Signing keys and compact JWS signing (RFC 7515), the other half of jose.c.
 *
 * What this core promises:
 * - A signer is made once, at startup, from a PEM private key (EC P-256,
 *   P-384, P-521, Ed25519, RSA of at least 2048 bits) or from an HMAC secret
 *   of at least 32 bytes. The algorithm follows from the key: EC curves and
 *   Ed25519 have exactly one (ES256/ES384/ES512, EdDSA); RSA signs RS256
 *   unless ALG says RS384/RS512/PS256/PS384/PS512; a secret signs HS256
 *   unless ALG says HS384/HS512 (the secret must then be as long as the
 *   hash). An ALG that does not fit the key is refused.
 * - Without a kid, an asymmetric key gets its RFC 7638 thumbprint as kid, so
 *   a published JWKS always names its keys.
 * - Signatures are what jose.c verifies: ES* as raw r||s (each padded to the
 *   curve's size), PS* with MGF1 of the same hash and a salt as long as the
 *   hash, EdDSA pure Ed25519, HS* full-length tags.
 * - Errors are static messages without key material or file names.
 * - OpenSSL objects are freed by cleanups on the pool the signer was made in.
 * Nothing here knows httpd. */
#ifndef APISEC_JWS_SIGN_H
#define APISEC_JWS_SIGN_H

#include <apr_pools.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "jwk.h"

typedef struct {
    apisec_jws_alg_t alg;
    const char *kid; /* may be NULL for a secret */
    EVP_PKEY *pkey;  /* NULL for a secret */
    const unsigned char *secret;
    apr_size_t secret_len;
    apr_size_t ec_len; /* EC: bytes of r and of s */
} apisec_signer_t;

/* PEM[0..LEN) holding one private key ("PRIVATE KEY", "EC PRIVATE KEY",
 * "RSA PRIVATE KEY"; not encrypted). ALG (may be NULL) picks among the
 * algorithms the key fits. NULL or a static message. */
const char *apisec_signer_from_pem(apr_pool_t *p, const char *pem,
                                   apr_size_t len, const char *kid,
                                   const char *alg, apisec_signer_t **out);
/* An HMAC secret, copied. */
const char *apisec_signer_from_secret(apr_pool_t *p,
                                      const unsigned char *secret,
                                      apr_size_t len, const char *kid,
                                      const char *alg, apisec_signer_t **out);

/* The compact JWS of CLAIMS (a JSON object) with a protected header of alg,
 * kid (when the signer has one) and TYP (may be NULL). Pool memory; NULL on
 * failure (allocation, OpenSSL). */
char *apisec_jws_sign(apr_pool_t *p, const apisec_signer_t *s, const char *typ,
                      json_t *claims);

/* The public JWK of S ({kty, crv|n,e, x[, y], kid, alg, use: "sig"}), a new
 * reference; NULL for a secret (never published) or on failure. */
json_t *apisec_signer_public_jwk(const apisec_signer_t *s);

/* Adds the verification key of S to SET (for our own tokens at logout and
 * refresh). NULL or a static message. */
const char *apisec_signer_add_to_set(const apisec_signer_t *s,
                                     apisec_jwk_set_t *set);

#endif
