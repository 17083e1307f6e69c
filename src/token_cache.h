/* Verified-token cache: remembers, per process, which tokens passed the
 * signature check, so a client that repeats its token skips the expensive
 * part (one SHA-256 and a lookup instead of a signature verification and two
 * JSON parses). Claims and time checks still run on every request, from the
 * cached header and claims.
 *
 * Bounded: a fixed number of slots, 4-way set associative. A new token goes
 * to an empty or expired slot of its set, else replaces the slot of the set
 * whose token expires first. An entry is never used after its token's exp.
 * Keyed by SHA-256 of the token and by the verifying key set, so a token
 * verified for one scope's keys is not taken as verified for another's.
 * Thread-safe (one mutex per cache; the critical sections are a few compares).
 */
#ifndef APISEC_TOKEN_CACHE_H
#define APISEC_TOKEN_CACHE_H

#include <apr_pools.h>
#include <apr_time.h>
#include <jansson.h>

#define APISEC_TOKEN_DIGEST_LEN 32

typedef struct apisec_token_cache_t apisec_token_cache_t;

/* ENTRIES slots (rounded up to a multiple of 4). Memory per slot: the entry
 * plus the token's header and claims as jansson trees, so at most ENTRIES
 * times a few times APISecJWTMaxSize. Returns NULL on failure. */
apisec_token_cache_t *apisec_token_cache_create(apr_pool_t *p, int entries);

/* SHA-256 of TOKEN into DIGEST; 0 on failure. */
int apisec_token_cache_digest(apisec_token_cache_t *c, const char *token,
                              apr_size_t len,
                              unsigned char digest[APISEC_TOKEN_DIGEST_LEN]);

/* On a hit, returns 1 and new references to the header and claims (the
 * caller decrefs them); 0 on a miss or an expired entry. */
int apisec_token_cache_get(apisec_token_cache_t *c,
                           const unsigned char digest[APISEC_TOKEN_DIGEST_LEN],
                           const void *scope, apr_time_t now, json_t **header,
                           json_t **claims);

/* Remembers a verified token until EXPIRES (its exp). Takes new references
 * to HEADER and CLAIMS. */
void apisec_token_cache_put(apisec_token_cache_t *c,
                            const unsigned char digest[APISEC_TOKEN_DIGEST_LEN],
                            const void *scope, apr_time_t expires,
                            json_t *header, json_t *claims);

/* Entries in use, for tests and metrics. */
int apisec_token_cache_count(apisec_token_cache_t *c);

#endif
