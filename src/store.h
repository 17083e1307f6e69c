/* The shared store: one small interface over the backends (store_shm.c, the
 * default; store_memcached.c for several servers). Counters, rate-limit
 * state, revocations and refresh-token families live here.
 *
 * What it promises:
 * - keys are byte strings of any length from 1 byte, namespaced by the
 *   caller (the glue prefixes each virtual host): both backends hash long
 *   keys, so no client-chosen part can make a key invalid; values are byte
 *   strings of 0..APISEC_STORE_VALUE_MAX bytes;
 * - an operation answers APR_SUCCESS, APISEC_STORE_NOTFOUND (no live entry),
 *   APISEC_STORE_EXISTS (compare-and-swap lost, or add of a present key), or
 *   anything else, which is a store failure (unreachable, timed out, full):
 *   apisec_store_failed() tells them apart, so "not found" is never mistaken
 *   for an outage nor the other way round;
 * - ttl is in seconds from now; 0 means no expiry (the entry may still be
 *   evicted by a bounded backend).
 * Nothing here knows httpd. */
#ifndef APISEC_STORE_H
#define APISEC_STORE_H

#include <apr_errno.h>
#include <apr_pools.h>
#include <apr_time.h>

#define APISEC_STORE_VALUE_MAX 32

#define APISEC_STORE_NOTFOUND APR_NOTFOUND
#define APISEC_STORE_EXISTS APR_EEXIST

/* Updates a value in place, for backends that can hold a lock across the
 * read and the write (shm). NOW is the backend's clock, read under the
 * lock. OLD is NULL when there is no live entry. The
 * function writes the new value to NEW (room for APISEC_STORE_VALUE_MAX
 * bytes) and returns 1 to store it with *TTL, or 0 to leave the entry as it
 * is. It runs under the backend's lock: it must be short and must not call
 * the store. */
typedef int apisec_store_update_fn(void *baton, apr_time_t now,
                                   const unsigned char *old,
                                   apr_size_t oldlen, unsigned char *new_value,
                                   apr_size_t *newlen, apr_uint32_t *ttl);

typedef struct {
    const char *name;
    /* Adds DELTA to the decimal counter at KEY, creating it with INITIAL
     * (and TTL) when absent; the expiry of a present counter is kept. */
    apr_status_t (*incr)(void *h, const void *key, apr_size_t klen,
                         apr_uint64_t delta, apr_uint64_t initial,
                         apr_uint32_t ttl, apr_uint64_t *value);
    /* VAL receives up to APISEC_STORE_VALUE_MAX bytes; CAS (may be NULL) a
     * token for cas(). */
    apr_status_t (*get)(void *h, const void *key, apr_size_t klen,
                        unsigned char *val, apr_size_t *vlen,
                        apr_uint64_t *cas);
    apr_status_t (*set)(void *h, const void *key, apr_size_t klen,
                        const void *val, apr_size_t vlen, apr_uint32_t ttl);
    /* Stores VAL only if the entry still has token CAS; CAS 0 means "only if
     * absent" (add). Loses with APISEC_STORE_EXISTS or _NOTFOUND. */
    apr_status_t (*cas)(void *h, const void *key, apr_size_t klen,
                        const void *val, apr_size_t vlen, apr_uint32_t ttl,
                        apr_uint64_t cas);
    apr_status_t (*del)(void *h, const void *key, apr_size_t klen);
    /* Optional (NULL when the backend has no lock to offer). */
    apr_status_t (*update)(void *h, const void *key, apr_size_t klen,
                           apisec_store_update_fn *fn, void *baton);
    /* Adds DELTA to (DOWN: subtracts it from, stopping at 0, as memcached
     * does) a present decimal counter, its expiry kept; NOTFOUND when
     * absent, which creates nothing. */
    apr_status_t (*adjust)(void *h, const void *key, apr_size_t klen,
                           apr_uint64_t delta, int down, apr_uint64_t *value);
} apisec_store_ops_t;

/* Per-process counts; the glue copies them into its shared metrics. */
typedef struct {
    apr_uint64_t ops;
    apr_uint64_t failures;
    apr_status_t last_failure;
} apisec_store_stats_t;

typedef struct {
    const apisec_store_ops_t *ops;
    void *handle;
    apisec_store_stats_t stats;
} apisec_store_t;

/* 1 when RV is a store failure, 0 for success, "not found" and "exists". */
int apisec_store_failed(apr_status_t rv);

/* Checks key and value sizes, calls the backend and counts failures. */
apr_status_t apisec_store_incr(apisec_store_t *s, const void *key,
                               apr_size_t klen, apr_uint64_t delta,
                               apr_uint64_t initial, apr_uint32_t ttl,
                               apr_uint64_t *value);
apr_status_t apisec_store_get(apisec_store_t *s, const void *key,
                              apr_size_t klen, unsigned char *val,
                              apr_size_t *vlen, apr_uint64_t *cas);
apr_status_t apisec_store_set(apisec_store_t *s, const void *key,
                              apr_size_t klen, const void *val, apr_size_t vlen,
                              apr_uint32_t ttl);
apr_status_t apisec_store_cas(apisec_store_t *s, const void *key,
                              apr_size_t klen, const void *val, apr_size_t vlen,
                              apr_uint32_t ttl, apr_uint64_t cas);
apr_status_t apisec_store_delete(apisec_store_t *s, const void *key,
                                 apr_size_t klen);
/* The counter operations of adjust(): incr_existing never creates (one
 * round trip where "create if absent" is not wanted, or a delta of 0 to
 * read a counter), decr stops at 0. */
apr_status_t apisec_store_incr_existing(apisec_store_t *s, const void *key,
                                        apr_size_t klen, apr_uint64_t delta,
                                        apr_uint64_t *value);
apr_status_t apisec_store_decr(apisec_store_t *s, const void *key,
                               apr_size_t klen, apr_uint64_t delta,
                               apr_uint64_t *value);
/* APR_ENOTIMPL when the backend has no update operation. */
apr_status_t apisec_store_update(apisec_store_t *s, const void *key,
                                 apr_size_t klen, apisec_store_update_fn *fn,
                                 void *baton);

/* "Log at most once per interval": the glue keeps one of these per store
 * (in shared memory when every process should share the pace) and logs only
 * when apisec_store_log_due() says so, reporting how many failures went
 * unlogged in between. Pure over the times given, so it is tested without a
 * clock. */
typedef struct {
    apr_time_t last_logged;  /* 0: never */
    apr_uint64_t suppressed; /* failures since the last logged one */
} apisec_store_logpace_t;

/* Returns 1 when a failure at NOW should be logged (and then *SUPPRESSED,
 * when not NULL, says how many were not logged since the last one); 0 when
 * it falls inside INTERVAL of the last logged one and is only counted. */
int apisec_store_log_due(apisec_store_logpace_t *pace, apr_time_t now,
                         apr_interval_time_t interval,
                         apr_uint64_t *suppressed);

#endif
