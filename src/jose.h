/* Compact JWS (RFC 7515) parsing and verification, held to RFC 8725.
 *
 * What this core promises:
 * - Exactly three dot-separated parts; five parts (a JWE) and any other
 *   count are refused. Each part is strict base64url (b64url.h).
 * - The protected header is a JSON object without duplicate member names
 *   (jansson, JSON_REJECT_DUPLICATES, explicit length so a NUL cannot cut
 *   it short). "alg" is one of apisec_jws_alg_t, spelt exactly; "none" in
 *   any capitalisation and unknown names are refused.
 * - Header-supplied keys are never trusted (RFC 8725 3.5): a header that
 *   carries jwk, jku, x5u or x5c is refused outright, so a token cannot
 *   even suggest a key. x5t / x5t#S256 are only hints and are ignored.
 * - "crit" is refused whatever it lists: we implement no extension, and
 *   that includes b64 (RFC 7797). A "b64" member other than true is
 *   refused too. A header with "enc" is a JWE and refused.
 * - kid, typ and cty, when present, must be strings.
 * - The algorithm must be in the caller's allowlist and fit the selected key
 *   (jwk.h: key type, curve, size, the key's own alg); the key is chosen
 *   among configured keys by the rule in jwk.h.
 * - Signatures: RS* PKCS#1 v1.5; PS* with MGF1 of the same hash and a salt
 *   as long as the hash (not OpenSSL's "auto"; the contexts come from
 *   apisec_jwk_verify_ctx, made at load); ES* as raw r||s of exactly
 *   2 x 32/48/66 bytes, with r and s in [1, n-1] checked before OpenSSL sees
 *   them (CVE-2022-21449), high S accepted; EdDSA (Ed25519) as 64 bytes;
 *   HS* untruncated tags compared in constant time.
 * - Errors are an enum and a static generic message: no library text, no
 *   part of the token. OpenSSL's error queue is left empty.
 * - Memory: pool memory of the caller's pool; the jansson trees are freed by
 *   cleanups on that pool. Nothing is parsed about keys here.
 *
 * Use: at startup, set = apisec_jwk_set_make(pconf); apisec_jwk_set_add_file
 * / _add_secret ...; apisec_jwk_set_check(set, allowed, &kid). Per request,
 * apisec_jose_decode_jwt(r->pool, token, len, set, allowed, &jws, &claims),
 * then apisec_jwt_claims_check(&policy, jws.header, claims,
 * r->request_time); the two strerror functions give the error_description.
 */
#ifndef APISEC_JOSE_H
#define APISEC_JOSE_H

#include <apr_pools.h>
#include <jansson.h>

#include "jwk.h"

typedef enum {
    APISEC_JOSE_OK = 0,
    APISEC_JOSE_MALFORMED,       /* token malformed */
    APISEC_JOSE_JWE,             /* encrypted tokens not accepted */
    APISEC_JOSE_UNSECURED,       /* unsecured tokens not accepted (none) */
    APISEC_JOSE_ALG_UNKNOWN,     /* algorithm not supported */
    APISEC_JOSE_ALG_NOT_ALLOWED, /* algorithm not allowed */
    APISEC_JOSE_HEADER_KEY,      /* header key parameters not accepted */
    APISEC_JOSE_CRIT,            /* critical header not supported */
    APISEC_JOSE_UNKNOWN_KEY,     /* unknown key */
    APISEC_JOSE_KEY_MISMATCH,    /* algorithm does not fit the key */
    APISEC_JOSE_BAD_SIGNATURE,   /* signature invalid */
    APISEC_JOSE_NOT_JSON,        /* token payload is not a JSON object */
    APISEC_JOSE_INTERNAL         /* internal error (allocation, OpenSSL) */
} apisec_jose_err_t;

/* A parsed, not yet verified, token. All pointers into pool memory. */
typedef struct {
    apisec_jws_alg_t alg;
    const char *kid;           /* NULL when absent */
    const char *typ;           /* NULL when absent */
    json_t *header;            /* the protected header; freed with the pool */
    const char *signing_input; /* the token's first two parts, as sent */
    apr_size_t signing_input_len;
    const unsigned char *payload; /* decoded, NUL-terminated */
    apr_size_t payload_len;
    const unsigned char *sig;
    apr_size_t sig_len;
} apisec_jws_t;

/* The message for ERR: short, generic, safe for WWW-Authenticate
 * error_description and for audit logs. */
const char *apisec_jose_strerror(apisec_jose_err_t err);

/* Splits and decodes TOKEN[0..LEN) and checks its header (everything above
 * that does not need a key). */
apisec_jose_err_t apisec_jose_parse(apr_pool_t *p, const char *token,
                                    apr_size_t len, apisec_jws_t *jws);

/* Checks the algorithm against ALLOWED (mask of APISEC_JWS_ALG_BIT),
 * selects the key and verifies the signature. *USED (may be NULL) gets the
 * key on success. */
apisec_jose_err_t apisec_jose_verify(const apisec_jws_t *jws,
                                     const apisec_jwk_set_t *keys,
                                     unsigned allowed,
                                     const apisec_jwk_t **used);

/* The signature primitive alone, as apisec_jose_verify uses it: KEY must
 * fit ALG (checked again here). Exported for the vector tests and the
 * fuzzer. */
apisec_jose_err_t
apisec_jose_verify_signature(apisec_jws_alg_t alg, const apisec_jwk_t *key,
                             const unsigned char *data, apr_size_t len,
                             const unsigned char *sig, apr_size_t sig_len);

/* A JWT: parse, verify, and parse the payload as a JSON object (no
 * duplicate members). *CLAIMS is freed with the pool. The claims
 * themselves are checked by jwt_claims.h. */
apisec_jose_err_t apisec_jose_decode_jwt(apr_pool_t *p, const char *token,
                                         apr_size_t len,
                                         const apisec_jwk_set_t *keys,
                                         unsigned allowed, apisec_jws_t *jws,
                                         json_t **claims);

/* Parses BUF[0..LEN) as a JSON object without duplicate members; the tree
 * is freed with P. NULL if it is anything else. */
json_t *apisec_jose_json_object(apr_pool_t *p, const char *buf, apr_size_t len);

#endif
