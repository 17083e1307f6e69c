/* The default store: a fixed-size table in one shared memory segment that
 * every httpd process of one server uses.
 *
 * What it promises:
 * - memory is bounded by the segment: a 64-byte header and slots of 64
 *   bytes, one cache line each, from the first line boundary after the
 *   header (about (size - 128) / 64 of them: 16,382 in the default 1M);
 * - a key lives only in the PROBE (8) slots that follow its hash's home
 *   slot, so every operation touches at most 8 slots under the lock;
 * - when all 8 are taken by other live keys, the one that expires soonest
 *   is replaced (one without expiry counts as expiring last; a tie goes to
 *   the first in the window), and the eviction is counted;
 * - keys are not stored: a slot holds SipHash-2-4-128 of the key under a
 *   random 128-bit secret drawn when the table is initialised. Two distinct
 *   keys share a slot only if their 128-bit hashes collide: about n^2/2^129
 *   for n live keys by chance, and not steerable by a client, who cannot
 *   compute the hash without the secret;
 * - one apr_global_mutex serialises all operations (see store_shm.c for
 *   why one lock and not stripes or atomics);
 * - a segment that already holds a table of this version and size is used
 *   as it is, so counters survive a graceful restart when the glue keeps
 *   the segment (and the mutex) in a pool that outlives restarts.
 * Nothing here knows httpd. */
#ifndef APISEC_STORE_SHM_H
#define APISEC_STORE_SHM_H

#include "store.h"

#include <apr_global_mutex.h>

#define APISEC_STORE_SHM_PROBE 8
#define APISEC_STORE_SHM_DEFAULT_SIZE ((apr_size_t)1024 * 1024)
#define APISEC_STORE_SHM_MIN_SIZE ((apr_size_t)16 * 1024)
#define APISEC_STORE_SHM_MAX_SIZE ((apr_size_t)1024 * 1024 * 1024)

/* Uses the SIZE bytes at BASE (an apr_shm segment the caller created and
 * keeps) as the table. The table is (re)initialised, losing its content,
 * only when the header's magic, version or size do not match; *FRESH (may
 * be NULL) says which happened. MUTEX is the caller's global mutex, created
 * with the segment; children call apr_global_mutex_child_init on it as
 * usual. The store is allocated from P. */
apr_status_t apisec_store_shm_attach(apr_pool_t *p, void *base, apr_size_t size,
                                     apr_global_mutex_t *mutex, int *fresh,
                                     apisec_store_t **store);

/* Parses the `size=` value of `APISecStore shm`: bytes, or a number with
 * K, M or G (powers of 1024). Returns NULL or a message. */
const char *apisec_store_shm_parse_size(const char *arg, apr_size_t *size);

/* Counts for the metrics page; scans the table under the lock, so for a
 * status page, not for every request. */
typedef struct {
    apr_uint64_t slots;
    apr_uint64_t live;
    apr_uint64_t evictions;
    apr_size_t bytes;
} apisec_store_shm_stats_t;

apr_status_t apisec_store_shm_stats(apisec_store_t *store,
                                    apisec_store_shm_stats_t *stats);

/* The clock the store reads expiry against; tests replace it. */
typedef apr_time_t apisec_store_clock_fn(void);
void apisec_store_shm_set_clock(apisec_store_t *store,
                                apisec_store_clock_fn *now_fn);

/* SipHash-2-4 with a 128-bit result (out: 16 bytes, little-endian halves);
 * exported for its test vectors. The _words form gives the two halves as
 * numbers, with no trip through bytes: the table and the lease cache
 * compare them as such, on every request. */
void apisec_store_shm_hash128(const unsigned char key[16], const void *data,
                              apr_size_t len, unsigned char out[16]);
void apisec_store_shm_hash128_words(const unsigned char key[16],
                                    const void *data, apr_size_t len,
                                    apr_uint64_t out[2]);

#endif
