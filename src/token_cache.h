/* Verified-token cache: remembers, per process, the tokens whose signature
 * passed, so a client that repeats its token skips the expensive part (a
 * signature verification and two JSON parses) for a hash, a lookup and an
 * exact compare.
 *
 * What it promises:
 * - Keyed by the token itself and by the verifying key set (SCOPE, an
 *   identity the caller chooses): an entry matches only the same bytes of
 *   the same length verified with the same key set. A SCOPE must name one
 *   set of keys for as long as the cache lives: a key set that changes (a
 *   refreshed JWKS) needs a new identity, and the address of a freed set
 *   must not come back as another's while entries may name it.
 * - The set an entry lives in is picked by a strongly universal hash
 *   (vector multiply-shift) of the token's length and last 32 bytes (its
 *   signature) under random per-process coefficients; the hash only picks
 *   the set, the full compare decides, so a collision costs a verification,
 *   never a wrong answer.
 * - Never used at or after EXPIRES (the token's exp): such an entry misses
 *   and is dropped.
 * - Bounded: a fixed number of slots, 4-way set associative. A new token
 *   takes an empty or expired slot of its set, else the slot whose token
 *   expires first. Each entry holds a copy of the token, its header and
 *   claims (jansson trees), its time claims as numbers and at most
 *   APISEC_TOKEN_MEMOS memos.
 * - Memos: what a caller derived from the token under one policy (results
 *   of the checks that depend only on the token and the configuration, and
 *   values it would otherwise compute per request). A memo is found only
 *   through the caller's match function, so a memo made under one policy is
 *   never given to a request under another. Memos are immutable once added
 *   and live as long as their entry.
 * - Thread-safe: one mutex per cache around the lookups (a few compares);
 *   entries are reference-counted, so an entry evicted while a request still
 *   uses it is freed when that request releases it.
 */
#ifndef APISEC_TOKEN_CACHE_H
#define APISEC_TOKEN_CACHE_H

#include "jwt_claims.h"

#include <apr_pools.h>
#include <apr_time.h>
#include <jansson.h>

#define APISEC_TOKEN_MEMOS 4

typedef struct apisec_token_cache_t apisec_token_cache_t;

/* A verified token. The public fields are read-only once the entry is
 * returned; the entry stays valid until apisec_token_entry_release. */
typedef struct apisec_token_entry_t {
    json_t *header; /* the protected header and the claims, shared */
    json_t *claims;
    apisec_jwt_times_t times; /* exp, nbf, iat as numbers */
    int alg;                  /* apisec_jws_alg_e of the header's alg */
    /* private */
    const void *scope;
    apr_time_t expires;
    unsigned refs;
    unsigned nmemos;
    void *memos[APISEC_TOKEN_MEMOS]; /* malloc'd by the caller, freed here */
    apr_size_t len;
    char token[1]; /* len bytes and a NUL */
} apisec_token_entry_t;

/* Tells whether MEMO was made under the policy ARG describes. */
typedef int apisec_token_memo_match_fn(const void *memo, const void *arg);

/* ENTRIES slots (rounded up to a multiple of 4). Returns NULL on failure.
 * Entries still in the cache are freed with P. */
apisec_token_cache_t *apisec_token_cache_create(apr_pool_t *p, int entries);

/* The entry of TOKEN (LEN bytes) verified with SCOPE, if remembered and
 * not expired at NOW, with a reference the caller releases; NULL on a miss.
 * With MATCH, *MEMO is set to the entry's first memo that MATCH accepts
 * (NULL if none). */
apisec_token_entry_t *apisec_token_cache_get(apisec_token_cache_t *c,
                                             const char *token, apr_size_t len,
                                             const void *scope, apr_time_t now,
                                             apisec_token_memo_match_fn *match,
                                             const void *arg,
                                             const void **memo);

/* Remembers a verified token until EXPIRES and returns its new entry with a
 * reference the caller releases (NULL when out of memory: the caller goes
 * on without the cache). Takes new references to HEADER and CLAIMS. */
apisec_token_entry_t *
apisec_token_cache_put(apisec_token_cache_t *c, const char *token,
                       apr_size_t len, const void *scope, apr_time_t expires,
                       json_t *header, json_t *claims,
                       const apisec_jwt_times_t *times, int alg);

/* Adds MEMO (from malloc) to entry E and returns 1: from then on the entry
 * owns it. If the entry already holds APISEC_TOKEN_MEMOS memos, returns 0
 * and MEMO stays the caller's (to use for this request only and free). */
int apisec_token_entry_add_memo(apisec_token_cache_t *c,
                                apisec_token_entry_t *e, void *memo);

/* Lets go of a reference from get or put. */
void apisec_token_entry_release(apisec_token_entry_t *e);

/* Entries in use, for tests and metrics. */
int apisec_token_cache_count(apisec_token_cache_t *c);

#endif
