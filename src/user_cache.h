/* Per-process cache of the rows APISecUserQuery returned, so that a user
 * seen again within APISecUserCacheTTL skips the database.
 *
 * - Keyed by (query, server, user): QUERY and SERVER are opaque pointers
 *   compared by address (the scope's statement, and the virtual host whose
 *   mod_dbd connection answered: two hosts may use two databases), USER
 *   exactly.
 * - A row is returned only while FETCHED <= now < FETCHED + TTL, TTL being
 *   the asking scope's: a scope with a shorter TTL never gets an older row,
 *   and a clock set back does not make a row live longer.
 * - Bounded: ENTRIES slots (at least 4, rounded up to a multiple of 4),
 *   4-way set associative, each slot holding at most
 *   APISEC_USER_CACHE_ROW_MAX bytes of user, names and values; a larger row
 *   is not cached. Eviction: a row goes to the slot of its set that holds
 *   its key, else to an empty slot, else it replaces the row of the set
 *   that was read from the database longest ago.
 * - Only rows are cached: "no such user" and errors never are.
 * - Thread-safe: one mutex; the critical sections are a compare and a copy.
 * Memory: ENTRIES * (APISEC_USER_CACHE_ROW_MAX + 48) bytes, allocated once. */
#ifndef APISEC_USER_CACHE_H
#define APISEC_USER_CACHE_H

#include "user_row.h"

#include <apr_pools.h>
#include <apr_time.h>

#define APISEC_USER_CACHE_ROW_MAX 1000

typedef struct apisec_user_cache_t apisec_user_cache_t;

/* NULL on failure (no mutex). */
apisec_user_cache_t *apisec_user_cache_create(apr_pool_t *p, int entries);

/* On a hit, 1 and *ROW, a copy in P; 0 on a miss. */
int apisec_user_cache_get(apisec_user_cache_t *c, const void *query,
                          const void *server, const char *user, apr_time_t now,
                          apr_interval_time_t ttl, apr_pool_t *p,
                          apisec_user_row_t **row);

/* Remembers ROW as read from the database at FETCHED; 0 when it does not
 * fit in a slot (nothing is stored, an older row of the key is dropped). */
int apisec_user_cache_put(apisec_user_cache_t *c, const void *query,
                          const void *server, const char *user,
                          apr_time_t fetched, const apisec_user_row_t *row);

/* Slots in use, for tests. */
int apisec_user_cache_count(apisec_user_cache_t *c);

#endif
