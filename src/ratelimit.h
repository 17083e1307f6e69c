/* Rate limits: the `APISecRateLimit` argument, the sliding-window decision
 * over the store, and the RateLimit response header fields.
 *
 * Semantics of LIMIT/PERIOD (a sliding window counter):
 * - time is cut into fixed windows of PERIOD, aligned to the Unix epoch
 *   (window k is [k*PERIOD, (k+1)*PERIOD)), and each key counts the
 *   requests it was allowed in each window;
 * - a request at elapsed time e into window k passes when
 *       floor(PREV * (PERIOD - e) / PERIOD) + CUR + 1 <= LIMIT
 *   where PREV is the count of window k-1 and CUR that of window k so far
 *   (times in microseconds): the previous window weighs what is left of it
 *   in a window of PERIOD ending now, as if its requests had come evenly;
 * - refused requests are not counted, so a client that keeps trying is let
 *   through at the limit's rate, not locked out;
 * - a key may send LIMIT requests at once (the burst); at a window's edge
 *   the previous window still weighs in full, so there is no second burst:
 *   after its burst a key gets about one request every PERIOD/LIMIT;
 * - never more than LIMIT in one window; under sustained overload exactly
 *   LIMIT pass in each window after the first, spread evenly, so about
 *   LIMIT in any PERIOD once the allowance is used up (LIMIT + 1 when a
 *   late request leaves its room to the next); a key idle before the end
 *   of the previous window
 *   can get at most 2*LIMIT - 1 in one PERIOD straddling the edge (the same
 *   bound as a token bucket's burst plus refill);
 * - state: two counts per key (shm: one entry of 16 bytes; memcached: one
 *   counter per window), expiring once they no
 *   longer weigh.
 * Result fields, as the RateLimit headers carry them:
 * - remaining: requests the key may send now, right after this one;
 * - reset: seconds until nothing counted weighs any more (the full LIMIT);
 * - retry_after (refused requests): seconds until one request passes.
 * Nothing here knows httpd. */
#ifndef APISEC_RATELIMIT_H
#define APISEC_RATELIMIT_H

#include "store.h"

#include <apr_tables.h>

#define APISEC_RATELIMIT_LIMIT_MAX 1000000000u
#define APISEC_RATELIMIT_PERIOD_MAX ((apr_uint64_t)7 * 86400)
#define APISEC_RATELIMIT_NAME_MAX 64

typedef enum {
    APISEC_RL_KEY_IP,
    APISEC_RL_KEY_USER,
    APISEC_RL_KEY_HEADER
} apisec_ratelimit_key_e;

typedef enum {
    APISEC_RL_COUNT_ALL,
    APISEC_RL_COUNT_FAILURES /* only 401/403 answers consume */
} apisec_ratelimit_count_e;

typedef struct {
    apr_uint64_t limit;           /* LIMIT, requests */
    apr_uint64_t period;          /* PERIOD, seconds */
    apr_interval_time_t interval; /* ceil(PERIOD/LIMIT), microseconds */
    apisec_ratelimit_key_e key;
    const char *header;          /* key=header:NAME, else NULL */
    apr_array_header_t *methods; /* upper-case names; NULL: every method */
    apisec_ratelimit_count_e count;
    const char *name; /* name=, or a default from the spec */
    const char *id;   /* all of the above (and the scope): tells limits apart */
    /* Made from id by apisec_ratelimit_spec_set_id: ";rl;", 16 hex digits
     * of id's SHA-256, ";". Store keys carry this, not id, which may be
     * long: the store hashes every key on every request. */
    const char *key_tag;
    apr_size_t key_tag_len;
    /* The RateLimit-Policy values, fixed by the spec, made once. */
    const char *policy_ietf;  /* "NAME";q=LIMIT;w=PERIOD */
    const char *policy_draft; /* LIMIT;w=PERIOD */
    const char *rl_prefix;    /* "NAME";r= : the ietf RateLimit's start */
    apr_size_t rl_prefix_len;
} apisec_ratelimit_spec_t;

typedef struct {
    int allowed;
    apr_uint64_t limit;
    apr_uint64_t period;
    apr_uint64_t remaining;
    apr_uint64_t reset;       /* seconds */
    apr_uint64_t retry_after; /* seconds, when !allowed */
    apr_time_t now;           /* the clock the decision used */
} apisec_ratelimit_result_t;

typedef enum {
    APISEC_RL_HEADERS_OFF,
    APISEC_RL_HEADERS_IETF,   /* draft-ietf-httpapi-ratelimit-headers-10 */
    APISEC_RL_HEADERS_DRAFT7, /* ... -07 */
    APISEC_RL_HEADERS_DRAFT6  /* ... -06 */
} apisec_ratelimit_headers_e;

/* Parses `LIMIT/PERIOD [key=ip|user|header:NAME] [methods=M,...]
 * [count=all|failures] [name=N]`. PERIOD is seconds, or a number with s, m,
 * h or d. Returns NULL, or a message for the operator naming what is wrong. */
const char *apisec_ratelimit_spec_parse(apr_pool_t *p, int argc,
                                        char *const argv[],
                                        apisec_ratelimit_spec_t **spec);
/* The same for one string of space-separated words. */
const char *apisec_ratelimit_spec_parse_line(apr_pool_t *p, const char *line,
                                             apisec_ratelimit_spec_t **spec);

/* Sets SPEC's id (parse sets one from the spec alone; the glue adds the
 * scope) and the key tag made from it. */
void apisec_ratelimit_spec_set_id(apr_pool_t *p, apisec_ratelimit_spec_t *spec,
                                  const char *id);

/* 1 when the limit applies to requests with METHOD. */
int apisec_ratelimit_method_applies(const apisec_ratelimit_spec_t *spec,
                                    const char *method);

/* The store key of one client under one limit: PREFIX of PLEN bytes (the
 * glue's per-vhost namespace), the limit's key tag and the client's value
 * (address, user or header bytes, of any content and length). */
const char *apisec_ratelimit_key(apr_pool_t *p, const char *prefix,
                                 apr_size_t plen,
                                 const apisec_ratelimit_spec_t *spec,
                                 const char *client, apr_size_t *klen);

/* The window NOW lies in: NOW / PERIOD. */
apr_uint64_t apisec_ratelimit_window_of(const apisec_ratelimit_spec_t *spec,
                                        apr_time_t now);

/* One decision, pure: PREV is the previous window's count, CUR the
 * current window's count before this request. COST 1 asks to consume a
 * request; COST 0 asks whether one would pass without consuming (the check
 * before a count=failures request). Fills RES; returns 1 when the request
 * passes and is to be counted (CUR + 1), 0 otherwise. */
int apisec_ratelimit_window(const apisec_ratelimit_spec_t *spec,
                            apr_uint64_t prev, apr_uint64_t cur, apr_time_t now,
                            unsigned cost, apisec_ratelimit_result_t *res);

/* A process's leases (see apisec_ratelimit_check), SLOTS keys (rounded up
 * to a power of two), safe for its threads. */
typedef struct apisec_ratelimit_local apisec_ratelimit_local_t;
apr_status_t apisec_ratelimit_local_create(apr_pool_t *p, unsigned slots,
                                           apisec_ratelimit_local_t **local);

/* Decides one request of KEY at NOW over the store. With the backend's
 * lock (shm): one update of one entry, the clock read under the lock.
 * Else (memcached): one increment of the window's counter (created by it
 * when absent); the previous window's count is read only when it decides
 * the answer, that is when the request would be refused were the previous
 * window full; a refused request takes its increment back (a decrement).
 * No compare-and-swap, so concurrent requests on one key never lose a
 * race. With LOCAL (may be NULL), a request of a key with 256 or more
 * requests of room counts a lease of 16 to 64 (a sixteenth of the room)
 * at once, which later requests of this process pass without a round
 * trip, in this window only; the previous count, once read, is kept there
 * for the window too. NOW 0 reads the clock; pass a time only to test. P
 * holds the window keys. A store failure is returned as is and RES is
 * then not a decision: APISecStoreFailure decides. */
apr_status_t apisec_ratelimit_check(apr_pool_t *p, apisec_store_t *store,
                                    apisec_ratelimit_local_t *local,
                                    const apisec_ratelimit_spec_t *spec,
                                    const void *key, apr_size_t klen,
                                    apr_time_t now, unsigned cost,
                                    apisec_ratelimit_result_t *res);

/* 1 when A is more restrictive than B (the one whose headers go out):
 * refused before allowed, then fewer remaining, then the longer reset. */
int apisec_ratelimit_more_restrictive(const apisec_ratelimit_result_t *a,
                                      const apisec_ratelimit_result_t *b);

/* Parses `ietf|draft-7|draft-6|off`. Returns NULL or a message. */
const char *apisec_ratelimit_headers_parse(const char *arg,
                                           apisec_ratelimit_headers_e *fmt);

/* Adds the header fields of FMT for one limit's result to OUT (set, not
 * merged); Retry-After on a refused result whatever FMT is. Fields of the
 * same names in CLEAR (NULL: none) are removed: an application may have
 * put its own there. */
void apisec_ratelimit_headers(apr_pool_t *p, apisec_ratelimit_headers_e fmt,
                              const apisec_ratelimit_spec_t *spec,
                              const apisec_ratelimit_result_t *res,
                              apr_table_t *out, apr_table_t *clear);

#endif
