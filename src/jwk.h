/* Verification keys for JWS, loaded once at startup into OpenSSL objects.
 *
 * What this core promises:
 * - Keys come from PEM public keys, PEM X.509 certificates, JWK/JWKS
 *   documents (kty RSA, EC P-256/P-384/P-521, OKP Ed25519, oct) and raw HMAC
 *   secrets. Everything is parsed here, at startup; a request only looks a
 *   key up and uses it.
 * - A key knows which JWS algorithms it fits (its "fits" mask): RSA of at
 *   least 2048 bits for RS* and PS*, P-256 for ES256, P-384 for ES384, P-521
 *   for ES512, Ed25519 for EdDSA, an oct secret for HS* only when it is at
 *   least as long as the hash output (32/48/64 bytes). A JWK "alg" member
 *   narrows the mask to that one algorithm. No other pairing exists, so an
 *   RSA public key can never serve as an HMAC secret.
 * - A JWK whose "use" is present and not "sig", or whose "key_ops" is present
 *   and lacks "verify", is kept (so its kid stays taken) but is never used.
 * - Errors are static messages without file names or key material; the
 *   glue adds directive, file and line.
 * - OpenSSL objects are freed by cleanups on the pool the set was made in.
 *
 * Key selection (apisec_jwk_set_select), among configured keys only; a kid
 * is compared as a string and never used as a path, URL or lookup key
 * anywhere else:
 * 1. The token has a kid that a configured key carries: the usable key with
 *    that kid, if it fits the algorithm; otherwise the token is refused
 *    (mismatch), also when the kid is an encryption key's.
 * 2. The token has a kid that no key carries, or has no kid: the usable keys
 *    configured *without* a kid (for a kid-less token: all usable keys) that
 *    fit the algorithm are candidates; exactly one candidate is used, none or
 *    several refuse the token. Trying several keys in turn is never done.
 * Duplicate kids among usable keys are refused at load.
 */
#ifndef APISEC_JWK_H
#define APISEC_JWK_H

#include <apr_pools.h>
#include <apr_tables.h>
#include <jansson.h>
#include <openssl/evp.h>

/* The JWS algorithms of RFC 7518 that we implement. `none` is not one. */
typedef enum {
    APISEC_JWS_HS256 = 0,
    APISEC_JWS_HS384,
    APISEC_JWS_HS512,
    APISEC_JWS_RS256,
    APISEC_JWS_RS384,
    APISEC_JWS_RS512,
    APISEC_JWS_PS256,
    APISEC_JWS_PS384,
    APISEC_JWS_PS512,
    APISEC_JWS_ES256,
    APISEC_JWS_ES384,
    APISEC_JWS_ES512,
    APISEC_JWS_EDDSA,
    APISEC_JWS_ALG_COUNT
} apisec_jws_alg_t;

#define APISEC_JWS_ALG_BIT(a) (1u << (a))
#define APISEC_JWS_ALL_ALGS ((1u << APISEC_JWS_ALG_COUNT) - 1)

/* The algorithm named exactly (case-sensitive, RFC 7515 4.1.1) by NAME, or
 * -1. "none" in any spelling is -1 too: callers that want to say so check
 * apisec_jws_alg_is_none first. */
int apisec_jws_alg_from_name(const char *name);
int apisec_jws_alg_is_none(const char *name);
const char *apisec_jws_alg_name(apisec_jws_alg_t alg);
/* Parses a space-free list of names into a mask (for the glue's directive);
 * returns NULL or a static message ("none" is refused by name). */
const char *apisec_jws_algs_parse(const char *name, unsigned *mask);

typedef enum {
    APISEC_KTY_RSA,
    APISEC_KTY_EC,
    APISEC_KTY_OKP,
    APISEC_KTY_OCT
} apisec_kty_t;

/* A verification key. Read-only once loaded. */
typedef struct {
    const char *kid; /* NULL when the key has none */
    int alg;         /* the JWK "alg" (apisec_jws_alg_t), or -1 */
    int usable;      /* use/key_ops allow signature verification */
    apisec_kty_t kty;
    unsigned fits;               /* mask of algorithms the key fits */
    EVP_PKEY *pkey;              /* RSA, EC, Ed25519 */
    const unsigned char *secret; /* oct */
    apr_size_t secret_len;
    EVP_MAC *mac;               /* oct: HMAC, fetched once */
    apr_size_t ec_len;          /* EC: bytes of r and of s (32, 48, 66) */
    unsigned char ec_order[66]; /* EC: group order, big-endian, ec_len bytes */
    /* For each algorithm the key fits, a context initialised once at load
     * (digest fetched, padding and salt length set, HMAC key set) that a
     * request copies: no algorithm lookup happens on the hot path. NULL
     * where OpenSSL cannot copy (then a request initialises afresh). */
    EVP_MD_CTX *verify_tpl[APISEC_JWS_ALG_COUNT];
    EVP_MAC_CTX *mac_tpl[3];
} apisec_jwk_t;

typedef struct apisec_jwk_set_t apisec_jwk_set_t;

/* Flags for the JWKS loaders. */
#define APISEC_JWK_SKIP_UNFIT                                                  \
    0x1 /* skip keys we cannot use instead of                                  \
           failing: for a provider's remote JWKS */

apisec_jwk_set_t *apisec_jwk_set_make(apr_pool_t *p);

/* Each loader returns NULL on success or a static error message. */

/* A file holding a PEM public key ("PUBLIC KEY" or "RSA PUBLIC KEY"), a PEM
 * certificate, or a JWK/JWKS (JSON, told apart by a leading '{'). KID names
 * a PEM key (may be NULL); it is refused for JSON, whose keys carry their
 * own. */
const char *apisec_jwk_set_add_file(apisec_jwk_set_t *set, const char *path,
                                    const char *kid, unsigned flags);
const char *apisec_jwk_set_add_pem(apisec_jwk_set_t *set, const char *pem,
                                   apr_size_t len, const char *kid);
/* A JSON document: {"keys":[...]} or one JWK object. */
const char *apisec_jwk_set_add_json(apisec_jwk_set_t *set, const char *json,
                                    apr_size_t len, unsigned flags);
const char *apisec_jwk_set_add_jwk(apisec_jwk_set_t *set, json_t *jwk,
                                   unsigned flags);
/* An HMAC secret, copied. At least 32 bytes (it then fits HS256; 48 adds
 * HS384, 64 adds HS512). */
const char *apisec_jwk_set_add_secret(apisec_jwk_set_t *set,
                                      const unsigned char *secret,
                                      apr_size_t len, const char *kid);
/* An OpenSSL key (RSA, EC, Ed25519); the set takes ownership, also on
 * failure. For tests, the fuzzer and keys the glue builds itself. */
const char *apisec_jwk_set_add_pkey(apisec_jwk_set_t *set, EVP_PKEY *pkey,
                                    const char *kid);

/* After loading: every usable key must fit one of ALLOWED (a mask of
 * APISEC_JWS_ALG_BIT). NULL, or a static message; *KID (if not NULL) is set
 * to the offending key's kid (may be NULL). Also fails on a set without any
 * usable key. */
const char *apisec_jwk_set_check(const apisec_jwk_set_t *set, unsigned allowed,
                                 const char **kid);

int apisec_jwk_set_count(const apisec_jwk_set_t *set);
const apisec_jwk_t *apisec_jwk_set_get(const apisec_jwk_set_t *set, int i);

/* The rule in the comment at the top. Returns the key or NULL; on NULL,
 * *MISMATCH is 1 when a key with the token's kid exists but does not fit
 * ALG (or is not usable), else 0. */
const apisec_jwk_t *apisec_jwk_set_select(const apisec_jwk_set_t *set,
                                          const char *kid, apisec_jws_alg_t alg,
                                          int *mismatch);

/* Whether KEY is usable and fits ALG. */
int apisec_jwk_fits(const apisec_jwk_t *key, apisec_jws_alg_t alg);

/* A fresh context to verify one signature with KEY under ALG, which KEY
 * must fit; the caller frees it. RS*: PKCS#1 v1.5. PS*: MGF1 with the same
 * hash and a salt as long as the hash (RSA_PSS_SALTLEN_DIGEST; OpenSSL's
 * default "auto" would take any salt length). ES*: DER signatures. EdDSA:
 * no digest. NULL on failure. */
EVP_MD_CTX *apisec_jwk_verify_ctx(const apisec_jwk_t *key,
                                  apisec_jws_alg_t alg);
/* A fresh HMAC context for KEY under HS256/384/512, keyed and ready for
 * EVP_MAC_update. NULL on failure. The caller frees it. */
EVP_MAC_CTX *apisec_jwk_mac_ctx(const apisec_jwk_t *key, apisec_jws_alg_t alg);

#endif
