/* Rate limits: the `APISecRateLimit` argument, the GCRA decision over the
 * store, and the RateLimit response header fields.
 *
 * Semantics of LIMIT/PERIOD (GCRA, the generic cell rate algorithm, which is
 * a token bucket kept as one timestamp):
 * - a key may send LIMIT requests at once (the burst), and the allowance
 *   refills continuously at LIMIT per PERIOD, one request every
 *   T = PERIOD/LIMIT (rounded up to the microsecond);
 * - under sustained overload exactly one request per T passes: LIMIT per
 *   PERIOD, whatever the phase of the clock. There are no fixed windows, so
 *   there is no window edge where two bursts meet: after its burst a client
 *   gets T-spaced requests, never a second burst;
 * - in any interval of length D at most LIMIT + D/T requests pass; in any
 *   interval that starts when the key's allowance is used up (as under
 *   sustained load), at most ceil(D/T), so at most LIMIT per PERIOD;
 * - state: one 8-byte "theoretical arrival time" (TAT) per key, expiring
 *   once it lies in the past (then the key is fresh again); a TAT more than
 *   LIMIT intervals ahead, which only a skewed clock can write, is read as
 *   now + LIMIT intervals, so no answer exceeds one PERIOD.
 * Result fields, as the RateLimit headers carry them:
 * - remaining: requests the key may send now, right after this one;
 * - reset: seconds until the full LIMIT is available again (0: it is);
 * - retry_after (refused requests): seconds until one request passes.
 * Nothing here knows httpd. */
#ifndef APISEC_RATELIMIT_H
#define APISEC_RATELIMIT_H

#include "store.h"

#include <apr_tables.h>

#define APISEC_RATELIMIT_LIMIT_MAX 1000000000u
#define APISEC_RATELIMIT_PERIOD_MAX ((apr_uint64_t)7 * 86400)
#define APISEC_RATELIMIT_NAME_MAX 64
#define APISEC_RATELIMIT_CAS_TRIES 8

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
    apr_interval_time_t interval; /* T = ceil(PERIOD/LIMIT), microseconds */
    apisec_ratelimit_key_e key;
    const char *header;          /* key=header:NAME, else NULL */
    apr_array_header_t *methods; /* upper-case names; NULL: every method */
    apisec_ratelimit_count_e count;
    const char *name; /* name=, or a default from the spec */
    const char *id;   /* all of the above, for store keys */
} apisec_ratelimit_spec_t;

typedef struct {
    int allowed;
    int contended; /* CAS lost every try: refused, see .c */
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

/* 1 when the limit applies to requests with METHOD. */
int apisec_ratelimit_method_applies(const apisec_ratelimit_spec_t *spec,
                                    const char *method);

/* The store key of one client under one limit: PREFIX (the glue's
 * per-vhost namespace), the limit's id and the client's value (address,
 * user or header bytes, of any content and length). */
const char *apisec_ratelimit_key(apr_pool_t *p, const char *prefix,
                                 const apisec_ratelimit_spec_t *spec,
                                 const char *client, apr_size_t *klen);

/* One GCRA step, pure. HAVE_TAT says whether TAT holds a stored state.
 * COST 1 consumes a request; COST 0 asks whether one would pass without
 * consuming (the check before a count=failures request). Returns 1 when
 * *NEW_TAT must be stored, 0 when the state stays as it is. */
int apisec_ratelimit_gcra(const apisec_ratelimit_spec_t *spec, int have_tat,
                          apr_time_t tat, apr_time_t now, unsigned cost,
                          apr_time_t *new_tat, apisec_ratelimit_result_t *res);

/* Decides one request of KEY at NOW over the store: under the backend's
 * lock when it has one (shm), else by get + compare-and-swap, at most
 * APISEC_RATELIMIT_CAS_TRIES rounds. NOW 0 reads the clock at the decision
 * itself (under the lock, or after each get), so that decisions on one key
 * are taken in the order of their times and the promises above hold to the
 * microsecond across processes; pass a time only to test. A store failure
 * is returned as is and RES is then not a decision: APISecStoreFailure
 * decides. */
apr_status_t apisec_ratelimit_check(apisec_store_t *store,
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
 * merged); Retry-After on a refused result whatever FMT is. */
void apisec_ratelimit_headers(apr_pool_t *p, apisec_ratelimit_headers_e fmt,
                              const apisec_ratelimit_spec_t *spec,
                              const apisec_ratelimit_result_t *res,
                              apr_table_t *out);

#endif
