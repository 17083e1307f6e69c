/* Refresh tokens and their families, as records in the shared store.
 *
 * A refresh token is 256 random bits, sent to the client only as the value
 * (unpadded base64url, 43 characters) of a __Host- cookie. The store never
 * sees a token, only its SHA-256. Each login starts a family (128 random
 * bits); each rotation replaces the family's current token by a new one.
 *
 * Records (each value within the store's 32 bytes):
 * - token record, key "rt" + SHA-256(token): family id (16 bytes) and the
 *   generation the token was issued at (8 bytes). Kept until it expires,
 *   also after use: a used token must still be recognised as one.
 * - family record, key "rf" + family id: current generation (8), the user's
 *   token_version at login (8, signed), state (1: live, 0: revoked), the
 *   length of the user name (2), which is kept in chunk records
 *   "ru" + family id + chunk number (32 bytes each, at most 8), and the
 *   first 12 bytes of SHA-256 of the user's id (so a user name given to
 *   another account later does not inherit the family).
 *
 * Rotation is one compare-and-swap on the family record: a token is current
 * when its generation equals the family's; the request that swaps the
 * generation from G to G+1 (with the CAS token read with G) is the only one
 * that gets a new token, on every process and every server sharing the
 * store (memcached's CAS, or the shm table's lock). Only after winning does
 * it write the new token's record, so no loser's token can ever be current.
 * A token whose generation is behind the family's, or that lost the swap to
 * a concurrent use, is a reuse: the family is revoked.
 * Nothing here knows httpd. */
#ifndef APISEC_REFRESH_H
#define APISEC_REFRESH_H

#include <apr_pools.h>

#define APISEC_REFRESH_TOKEN_LEN 32
#define APISEC_REFRESH_TOKEN_TEXT 43 /* base64url of 32 bytes */
#define APISEC_REFRESH_FAMILY_LEN 16
#define APISEC_REFRESH_COOKIE "__Host-apisec-refresh"
#define APISEC_REFRESH_USER_MAX 256
#define APISEC_REFRESH_CHUNK 32

typedef struct {
    unsigned char family[APISEC_REFRESH_FAMILY_LEN];
    apr_uint64_t gen;
} apisec_refresh_token_rec_t;

typedef struct {
    apr_uint64_t gen;
    apr_int64_t ver;
    int live;
    apr_size_t user_len;
    unsigned char id_hash[12];
} apisec_refresh_family_rec_t;

#define APISEC_REFRESH_TOKEN_REC_LEN 24
#define APISEC_REFRESH_FAMILY_REC_LEN 31

/* Fills BUF with LEN random bytes (OpenSSL's DRBG). 1 on success. */
int apisec_refresh_random(unsigned char *buf, apr_size_t len);

/* The cookie text of a raw token, in pool memory. */
char *
apisec_refresh_token_text(apr_pool_t *p,
                          const unsigned char raw[APISEC_REFRESH_TOKEN_LEN]);

typedef enum {
    APISEC_REFRESH_NONE = 0, /* no such cookie */
    APISEC_REFRESH_FOUND,
    APISEC_REFRESH_BAD /* malformed, or the cookie sent twice */
} apisec_refresh_cookie_e;

/* Finds cookie NAME in a Cookie header value (RFC 6265 5.4: "a=b; c=d") and
 * decodes it as a token. Two cookies of that name are BAD: which one a
 * proxy or browser meant is not certain. */
apisec_refresh_cookie_e
apisec_refresh_parse_cookie(const char *header, const char *name,
                            unsigned char raw[APISEC_REFRESH_TOKEN_LEN]);

/* SHA-256 of the raw token: what the store keys it by. */
void apisec_refresh_hash(const unsigned char raw[APISEC_REFRESH_TOKEN_LEN],
                         unsigned char out[32]);

void apisec_refresh_token_encode(
    const apisec_refresh_token_rec_t *t,
    unsigned char out[APISEC_REFRESH_TOKEN_REC_LEN]);
int apisec_refresh_token_decode(const unsigned char *in, apr_size_t len,
                                apisec_refresh_token_rec_t *t);
void apisec_refresh_family_encode(
    const apisec_refresh_family_rec_t *f,
    unsigned char out[APISEC_REFRESH_FAMILY_REC_LEN]);
int apisec_refresh_family_decode(const unsigned char *in, apr_size_t len,
                                 apisec_refresh_family_rec_t *f);

typedef enum {
    APISEC_REFRESH_ROTATE = 0, /* current: swap gen to gen+1 */
    APISEC_REFRESH_REUSE,      /* an old token of a live family: revoke */
    APISEC_REFRESH_DEAD        /* family revoked or gone: refuse */
} apisec_refresh_decision_e;

/* The id_hash of a user id. */
void apisec_refresh_id_hash(const char *id, unsigned char out[12]);

/* What to do with a presented token given its family record (NULL when the
 * family is gone). */
apisec_refresh_decision_e
apisec_refresh_decide(const apisec_refresh_token_rec_t *t,
                      const apisec_refresh_family_rec_t *f);

#endif
