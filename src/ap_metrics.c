/* SetHandler apisec-metrics: Prometheus text of the rate limits and the
 * store, counted by every httpd process.
 *
 * The counters live in their own small anonymous shared memory segment
 * (about 12 KB), made once in the process pool so that they, like the shm
 * store, survive graceful restarts and stay monotonic for Prometheus. They
 * are updated with atomic additions and never locked: a request pays one
 * atomic add per store operation, and the store's own lock (shm) is never
 * held longer for metrics. Limit names are claimed in a fixed table of
 * NAMES slots the first time a limit refuses a request; names past that
 * are counted under "_other". */
#include "ap_glue.h"
#include "config.h"
#include "store_shm.h"
#include "ap_jwks.h"

#include "http_log.h"
#include "http_protocol.h"
#include "apr_shm.h"
#include "apr_strings.h"
#include "apr_hash.h"

APLOG_USE_MODULE(apisec);

#define NAMES 128
#define MAGIC 0x61706973656d7431ULL /* "apisemt1" */
#define OTHER "_other"

/* Upper bounds of the latency buckets, microseconds. */
static const apr_uint64_t bucket_us[] = {100,    250,    500,    1000,  2500,
                                         5000,   10000,  25000,  50000, 100000,
                                         250000, 500000, 1000000};
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

typedef struct {
    apr_uint32_t state; /* 0 free, 1 being written, 2 ready */
    char name[APISEC_RATELIMIT_NAME_MAX + 1];
    apr_uint64_t limited;
} name_slot_t;

typedef struct {
    apr_uint64_t magic;
    apr_uint64_t ops;
    apr_uint64_t errors;
    apr_uint64_t store_failure_open;   /* passed because the store failed */
    apr_uint64_t store_failure_closed; /* refused with 503 for that */
    apr_uint64_t latency_sum_us;
    apr_uint64_t buckets[NBUCKETS + 1]; /* the last one: +Inf */
    apr_uint64_t log_last;              /* apr_time_t of the last log line */
    apr_uint64_t log_suppressed;
    apr_uint64_t other_limited;
    name_slot_t names[NAMES];
} metrics_t;

static metrics_t *m;

#define ADD(f, n) __atomic_fetch_add(&(f), (n), __ATOMIC_RELAXED)
#define LOAD(f) __atomic_load_n(&(f), __ATOMIC_RELAXED)

apr_status_t apisec_metrics_post_config(apr_pool_t *pproc, server_rec *s)
{
    static const char key[] = "apisec-metrics-shm";
    apr_shm_t *shm = NULL;
    apr_status_t rv;

    apr_pool_userdata_get((void **)&shm, key, pproc);
    if (!shm) {
        rv = apr_shm_create(&shm, sizeof(metrics_t), NULL, pproc);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                         APLOGNO(20110) "cannot create the shared memory of "
                                        "the metrics");
            return rv;
        }
        apr_pool_userdata_set(shm, key, apr_pool_cleanup_null, pproc);
        memset(apr_shm_baseaddr_get(shm), 0, sizeof(metrics_t));
    }
    m = apr_shm_baseaddr_get(shm);
    m->magic = MAGIC;
    return APR_SUCCESS;
}

void apisec_metrics_store_op(apr_interval_time_t us, int failed)
{
    apr_size_t i;

    if (!m) {
        return;
    }
    ADD(m->ops, 1);
    if (failed) {
        ADD(m->errors, 1);
    }
    ADD(m->latency_sum_us, (apr_uint64_t)(us < 0 ? 0 : us));
    for (i = 0; i < NBUCKETS && (apr_uint64_t)us > bucket_us[i]; ++i) {
    }
    ADD(m->buckets[i], 1);
}

void apisec_metrics_store_failure(int closed)
{
    if (m) {
        if (closed) {
            ADD(m->store_failure_closed, 1);
        }
        else {
            ADD(m->store_failure_open, 1);
        }
    }
}

void apisec_metrics_limited(const char *name)
{
    apr_size_t len = strlen(name);
    int i;

    if (!m) {
        return;
    }
    for (i = 0; i < NAMES; ++i) {
        name_slot_t *n = &m->names[i];
        apr_uint32_t st = __atomic_load_n(&n->state, __ATOMIC_ACQUIRE);
        if (st == 2 && !strcmp(n->name, name)) {
            ADD(n->limited, 1);
            return;
        }
        if (st == 0 && len <= APISEC_RATELIMIT_NAME_MAX) {
            apr_uint32_t expect = 0;
            if (__atomic_compare_exchange_n(&n->state, &expect, 1, 0,
                                            __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                memcpy(n->name, name, len + 1);
                ADD(n->limited, 1);
                __atomic_store_n(&n->state, 2, __ATOMIC_RELEASE);
                return;
            }
            /* Another process claimed it first: it may be this name (two
             * slots of one name are summed on output); look on. */
        }
    }
    ADD(m->other_limited, 1);
}

/* Store failures are logged at most once per INTERVAL by all processes
 * together: one compare-and-swap on the time of the last line decides which
 * process writes it; the others only count. */
int apisec_metrics_log_due(apr_time_t now, apr_interval_time_t interval,
                           apr_uint64_t *suppressed)
{
    apr_uint64_t last;

    if (!m) {
        *suppressed = 0;
        return 1;
    }
    last = __atomic_load_n(&m->log_last, __ATOMIC_ACQUIRE);
    if (last && (apr_uint64_t)now < last + (apr_uint64_t)interval) {
        ADD(m->log_suppressed, 1);
        return 0;
    }
    if (!__atomic_compare_exchange_n(&m->log_last, &last, (apr_uint64_t)now, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        ADD(m->log_suppressed, 1);
        return 0;
    }
    *suppressed = __atomic_exchange_n(&m->log_suppressed, 0, __ATOMIC_ACQ_REL);
    return 1;
}

static void counter(request_rec *r, const char *name, const char *help,
                    const char *type)
{
    ap_rprintf(r, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int apisec_metrics_handler(request_rec *r)
{
    apisec_store_t *store;
    apr_hash_t *names;
    apr_hash_index_t *hi;
    apr_uint64_t cum = 0;
    apr_size_t i;
    const char *backend;

    if (!r->handler || strcmp(r->handler, "apisec-metrics")) {
        return DECLINED;
    }
    if (r->method_number != M_GET) {
        r->allowed = AP_METHOD_BIT << M_GET;
        return HTTP_METHOD_NOT_ALLOWED;
    }
    if (!m) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    store = apisec_store_handle();
    backend = store ? store->ops->name : "none";
    ap_set_content_type(r, "text/plain; version=0.0.4; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (r->header_only) {
        return OK;
    }

    /* Two processes may have claimed a slot each for one name: sum them. */
    names = apr_hash_make(r->pool);
    for (i = 0; i < NAMES; ++i) {
        name_slot_t *n = &m->names[i];
        apr_uint64_t *v;
        if (__atomic_load_n(&n->state, __ATOMIC_ACQUIRE) != 2) {
            continue;
        }
        v = apr_hash_get(names, n->name, APR_HASH_KEY_STRING);
        if (!v) {
            v = apr_pcalloc(r->pool, sizeof(*v));
            apr_hash_set(names, apr_pstrdup(r->pool, n->name),
                         APR_HASH_KEY_STRING, v);
        }
        *v += LOAD(n->limited);
    }
    counter(r, "apisec_ratelimit_limited_total",
            "Requests refused with 429, per limit name.", "counter");
    /* Names hold only letters, digits, '-', '_' and '.' (checked when
     * the directive is read), so they need no escaping in a label. */
    for (hi = apr_hash_first(r->pool, names); hi; hi = apr_hash_next(hi)) {
        const void *k;
        void *v;
        apr_hash_this(hi, &k, NULL, &v);
        ap_rprintf(
            r,
            "apisec_ratelimit_limited_total{name=\"%s\"} %" APR_UINT64_T_FMT
            "\n",
            (const char *)k, *(apr_uint64_t *)v);
    }
    if (LOAD(m->other_limited)) {
        ap_rprintf(r,
                   "apisec_ratelimit_limited_total{name=\"" OTHER
                   "\"} %" APR_UINT64_T_FMT "\n",
                   LOAD(m->other_limited));
    }

    counter(r, "apisec_store_operations_total",
            "Rate-limit decisions asked of the store.", "counter");
    ap_rprintf(
        r,
        "apisec_store_operations_total{backend=\"%s\"} %" APR_UINT64_T_FMT "\n",
        backend, LOAD(m->ops));
    counter(r, "apisec_store_errors_total",
            "Store operations that failed (unreachable, timed out).",
            "counter");
    ap_rprintf(
        r, "apisec_store_errors_total{backend=\"%s\"} %" APR_UINT64_T_FMT "\n",
        backend, LOAD(m->errors));
    counter(r, "apisec_store_failure_requests_total",
            "Requests decided by APISecStoreFailure, per mode.", "counter");
    ap_rprintf(r,
               "apisec_store_failure_requests_total{mode=\"open\"} "
               "%" APR_UINT64_T_FMT "\n"
               "apisec_store_failure_requests_total{mode=\"closed\"} "
               "%" APR_UINT64_T_FMT "\n",
               LOAD(m->store_failure_open), LOAD(m->store_failure_closed));

    counter(r, "apisec_store_latency_seconds",
            "Time of one rate-limit decision in the store.", "histogram");
    for (i = 0; i <= NBUCKETS; ++i) {
        cum += LOAD(m->buckets[i]);
        if (i < NBUCKETS) {
            ap_rprintf(r,
                       "apisec_store_latency_seconds_bucket{le=\"%g\"} "
                       "%" APR_UINT64_T_FMT "\n",
                       (double)bucket_us[i] / 1e6, cum);
        }
        else {
            ap_rprintf(r,
                       "apisec_store_latency_seconds_bucket{le=\"+Inf\"} "
                       "%" APR_UINT64_T_FMT "\n",
                       cum);
        }
    }
    ap_rprintf(r, "apisec_store_latency_seconds_sum %.6f\n",
               (double)LOAD(m->latency_sum_us) / 1e6);
    ap_rprintf(r, "apisec_store_latency_seconds_count %" APR_UINT64_T_FMT "\n",
               cum);

    if (store && !strcmp(backend, "shm")) {
        apisec_store_shm_stats_t st;
        if (apisec_store_shm_stats(store, &st) == APR_SUCCESS) {
            counter(r, "apisec_store_shm_bytes",
                    "Size of the shared memory table.", "gauge");
            ap_rprintf(r, "apisec_store_shm_bytes %" APR_SIZE_T_FMT "\n",
                       st.bytes);
            counter(r, "apisec_store_shm_slots", "Slots of the table.",
                    "gauge");
            ap_rprintf(r, "apisec_store_shm_slots %" APR_UINT64_T_FMT "\n",
                       st.slots);
            counter(r, "apisec_store_shm_live", "Slots holding a live entry.",
                    "gauge");
            ap_rprintf(r, "apisec_store_shm_live %" APR_UINT64_T_FMT "\n",
                       st.live);
            counter(r, "apisec_store_shm_evictions_total",
                    "Live entries replaced because their window was full.",
                    "counter");
            ap_rprintf(
                r, "apisec_store_shm_evictions_total %" APR_UINT64_T_FMT "\n",
                st.evictions);
        }
    }
    apisec_jwks_metrics(r); /* remote key sets (issue 8) */
    return OK;
}
