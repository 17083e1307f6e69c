/* Remote key sets shared by every httpd process.
 *
 * Shared memory (made in post_config, one segment per configuration) holds
 * one slot per source: the last good JWKS text, its generation, the times
 * that pace fetches and the fetch counters. Slots of sources from the
 * server's configuration are filled at startup; when APISecJWKSAllow is
 * given, spare slots are claimed by .htaccess sources by URL.
 *
 * One fetch for the whole server: a process fetches only after winning a
 * compare-and-swap on the slot's fetching_until (which also expires a claim
 * whose process died), so N processes make one request. Each process has
 * a fetcher thread that refreshes slots when due (off the request path);
 * a request fetches itself only on an unknown kid or while there are no
 * keys, and only after winning the server-wide pacing of
 * APISecJWKSMinRefetch. Others wait for the fetch in progress, at most
 * APISecJWKSTimeout.
 *
 * The text is written under a sequence counter (odd while written) by the
 * one fetcher; each process parses a new generation once into its own
 * OpenSSL keys. A generation's keys are freed when the last request using
 * them ends. */
#include "ap_jwks.h"
#include "ap_glue.h"
#include "config.h"
#include "jwks_remote.h"
#include "ap_jwks_int.h"

#include "http_log.h"
#include "http_protocol.h"
#include "apr_shm.h"
#include "apr_strings.h"
#include "apr_thread_proc.h"
#include "apr_thread_mutex.h"
#include "apr_thread_cond.h"
#include "apr_thread_rwlock.h"

APLOG_USE_MODULE(apisec);

#define MAGIC 0x61706973656a6b31ULL /* "apisejk1" */
#define SPARE_SLOTS 8
#define LOG_INTERVAL apr_time_from_sec(10)
#define ACCESS(f) __atomic_load_n(&(f), __ATOMIC_ACQUIRE)
#define STORE(f, v) __atomic_store_n(&(f), (v), __ATOMIC_RELEASE)
#define ADD(f, n) __atomic_fetch_add(&(f), (n), __ATOMIC_RELAXED)

typedef struct {
    apr_uint32_t state; /* 0 free, 1 being claimed, 2 in use */
    int discovery;
    char key[APISEC_JWKS_MAX_URL + 1];
    char jwks_uri[APISEC_JWKS_MAX_URL + 1]; /* discovery's last answer */
    apr_uint64_t seq;                       /* odd while doc is written */
    apr_uint64_t generation;                /* changes when doc changes */
    apr_uint64_t fetched_at;                /* last success, 0: never */
    apr_uint64_t next_refresh;
    apr_uint64_t next_demand; /* pacing of kid-miss and no-keys fetches */
    apr_uint64_t fetching_until;
    apr_uint64_t failures_in_row;
    apr_uint64_t fetches;
    apr_uint64_t failures[CAUSE_COUNT];
    apr_uint64_t dropped_keys;
    apr_uint64_t demand_fetches;
    apr_uint64_t unavailable;
    apr_uint64_t next_log; /* 503s are logged once per LOG_INTERVAL */
    apr_size_t len;
    char doc[APISEC_JWKS_MAX_DOC];
} slot_t;

typedef struct {
    apr_uint64_t magic;
    int nslots;
    slot_t slots[1];
} shm_t;

/* A generation's keys in one process. REFS counts the requests using it
 * plus one while it is current; whoever drops the last frees it. */
typedef struct {
    apr_pool_t *pool;
    apisec_jwk_set_t *set;
    const void *ident;
    apr_uint32_t refs;
} gen_t;

typedef struct {
    apr_uint64_t generation;
    gen_t *gen;
} local_t;

static shm_t *shm;
static local_t *locals;                /* per process, one per slot */
static apr_thread_rwlock_t *keys_lock; /* locals and idpool: read to take
                                          a reference, write to replace */
static apr_thread_mutex_t *lock;       /* the fetcher's sleep */
static apr_pool_t *idpool;             /* identities, never freed */
static apr_thread_cond_t *wake;
static int stopping;
static apr_thread_t *fetcher;

static void sync_local(int i, server_rec *s);

static apr_size_t shm_size(int n)
{
    return APR_OFFSETOF(shm_t, slots) + (apr_size_t)n * sizeof(slot_t);
}

int apisec_jwks_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp)
{
    apisec_jwks_conf_t *c = apisec_jwks_conf();

    memset(c, 0, sizeof(*c));
    c->refresh_min = apr_time_from_sec(300);
    c->refresh_max = apr_time_from_sec(86400);
    c->timeout = apr_time_from_sec(3);
    c->min_refetch = apr_time_from_sec(60);
    c->max_stale = apr_time_from_sec(86400);
    c->srcs = apr_array_make(pconf, 2, sizeof(apisec_jwks_src_t *));
    shm = NULL;
    return OK;
}

int apisec_jwks_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s)
{
    apisec_jwks_conf_t *c = apisec_jwks_conf();
    apr_shm_t *seg;
    apr_status_t rv;
    int n, i;

    n = c->srcs->nelts + (c->allow ? SPARE_SLOTS : 0);
    if (!n) {
        return OK;
    }
    if (apisec_jwks_http_init() != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, s,
                     APLOGNO(20300) "libcurl cannot be initialised");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rv = apr_shm_create(&seg, shm_size(n), NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                     APLOGNO(20301) "cannot create the shared memory of the "
                                    "remote key sets");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    shm = apr_shm_baseaddr_get(seg);
    memset(shm, 0, shm_size(n));
    shm->magic = MAGIC;
    shm->nslots = n;
    for (i = 0; i < c->srcs->nelts; ++i) {
        apisec_jwks_src_t *src = APR_ARRAY_IDX(c->srcs, i, apisec_jwks_src_t *);
        slot_t *sl = &shm->slots[i];
        apr_cpystrn(sl->key, src->key, sizeof(sl->key));
        sl->discovery = src->discovery;
        sl->state = 2;
        src->slot = i;
    }
    return OK;
}

/* The slot of SRC: known at startup, or for an .htaccess source found or
 * claimed by its URL among the spare slots; -1 when they are all taken. */
static int slot_of(apisec_jwks_src_t *src)
{
    int i;

    if (src->slot >= 0 || !shm) {
        return shm ? src->slot : -1;
    }
    for (i = 0; i < shm->nslots; ++i) {
        slot_t *sl = &shm->slots[i];
        apr_uint32_t st = ACCESS(sl->state), free_ = 0;
        if (st == 2 && sl->discovery == src->discovery
            && !strcmp(sl->key, src->key)) {
            return src->slot = i;
        }
        if (st == 0
            && __atomic_compare_exchange_n(
                &sl->state, &free_, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            apr_cpystrn(sl->key, src->key, sizeof(sl->key));
            sl->discovery = src->discovery;
            STORE(sl->state, 2);
            return src->slot = i;
        }
        while (ACCESS(sl->state) == 1) {
            apr_sleep(1000);
        }
        if (ACCESS(sl->state) == 2 && sl->discovery == src->discovery
            && !strcmp(sl->key, src->key)) {
            return src->slot = i;
        }
    }
    return -1;
}

static const char *escaped(apr_pool_t *p, const char *s)
{
    return s ? ap_escape_logitem(p, s) : "(none)";
}

/* One fetch of slot I by this process, which holds the claim. */
static void fetch_slot(int i, server_rec *s, const char *why)
{
    const apisec_jwks_conf_t *c = apisec_jwks_conf();
    slot_t *sl = &shm->slots[i];
    apr_pool_t *p;
    apr_time_t start = apr_time_now(), deadline = start + c->timeout;
    const char *url = sl->key, *err = NULL;
    apisec_jwk_set_t *set = NULL;
    apr_array_header_t *dropped = NULL;
    cause_e cause = CAUSE_OTHER;
    apisec_jwks_body_t b;
    long status = 0;
    int k;

    apr_pool_create(&p, NULL);
    ADD(sl->fetches, 1);
    if (sl->discovery) {
        const char *oidc, *oauth, *uri = NULL;
        err = apisec_jwks_discovery_urls(p, sl->key, &oidc, &oauth);
        if (!err) {
            url = oidc;
            err = apisec_jwks_http_get(p, oidc, deadline, &b, &cause, &status);
            if (err && cause == CAUSE_STATUS) {
                /* No OpenID metadata: RFC 8414's. */
                url = oauth;
                err = apisec_jwks_http_get(p, oauth, deadline, &b, &cause,
                                           &status);
            }
        }
        if (!err
            && (err = apisec_jwks_discovery_parse(p, b.buf, b.len, sl->key,
                                                  &uri))) {
            cause = CAUSE_DISCOVERY;
        }
        if (!err) {
            apr_cpystrn(sl->jwks_uri, uri, sizeof(sl->jwks_uri));
            url = uri;
        }
    }
    if (!err) {
        err = apisec_jwks_http_get(p, url, deadline, &b, &cause, &status);
    }
    if (!err && (err = apisec_jwks_parse(p, b.buf, b.len, &set, &dropped))) {
        cause = CAUSE_INVALID;
    }
    for (k = 0; dropped && k < dropped->nelts; ++k) {
        apisec_jwks_dropped_t *d =
            &APR_ARRAY_IDX(dropped, k, apisec_jwks_dropped_t);
        ADD(sl->dropped_keys, 1);
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     APLOGNO(20302) "remote JWKS %s: key %d (kid %s) "
                                    "ignored: %s",
                     escaped(p, url), d->index, escaped(p, d->kid), d->reason);
    }
    if (err) {
        apr_uint64_t n = ADD(sl->failures_in_row, 1) + 1;
        apr_interval_time_t again =
            apisec_jwks_retry_after((int)n, c->min_refetch, c->refresh_min);
        ADD(sl->failures[cause], 1);
        STORE(sl->next_refresh, (apr_uint64_t)(apr_time_now() + again));
        ap_log_error(
            APLOG_MARK, APLOG_ERR, 0, s,
            APLOGNO(20303) "remote JWKS %s (%s fetch): %s "
                           "(cause %s); %s; next try in %" APR_TIME_T_FMT " s",
            escaped(p, url), why, err, apisec_jwks_cause_names[cause],
            sl->fetched_at ? "keeping the last good keys"
                           : "no keys yet: requests get 503",
            apr_time_sec(again));
    }
    else {
        int changed = b.len != sl->len || memcmp(b.buf, sl->doc, b.len);
        if (changed) {
            /* Sequence counter: odd while written; the fence keeps the
             * copy after the odd value for readers of other processes. */
            __atomic_store_n(&sl->seq, sl->seq + 1, __ATOMIC_RELAXED);
            __atomic_thread_fence(__ATOMIC_RELEASE);
            memcpy(sl->doc, b.buf, b.len);
            sl->len = b.len;
            STORE(sl->seq, sl->seq + 1);
            STORE(sl->generation, sl->generation + 1);
        }
        STORE(sl->fetched_at, (apr_uint64_t)apr_time_now());
        STORE(sl->failures_in_row, 0);
        STORE(sl->next_refresh,
              (apr_uint64_t)(apr_time_now()
                             + apisec_jwks_refresh_after(b.cache_control,
                                                         c->refresh_min,
                                                         c->refresh_max)));
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     APLOGNO(20304) "remote JWKS %s (%s fetch): %d keys, %s",
                     escaped(p, url), why, apisec_jwk_set_count(set),
                     changed ? "new generation" : "unchanged");
    }
    apr_pool_destroy(p);
}

/* Claims slot I for one fetch; 0 if another process holds the claim. */
static int claim(int i)
{
    slot_t *sl = &shm->slots[i];
    apr_time_t now = apr_time_now();
    apr_uint64_t cur = ACCESS(sl->fetching_until);

    if ((apr_uint64_t)now < cur) {
        return 0;
    }
    return __atomic_compare_exchange_n(
        &sl->fetching_until, &cur,
        (apr_uint64_t)(now + apisec_jwks_conf()->timeout
                       + apr_time_from_sec(1)),
        0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

static void release(int i)
{
    STORE(shm->slots[i].fetching_until, 0);
}

/* Waits, at most the fetch timeout, for the fetch in progress of slot I. */
static void wait_fetch(int i)
{
    apr_time_t end = apr_time_now() + apisec_jwks_conf()->timeout;

    while (apr_time_now() < end
           && (apr_uint64_t)apr_time_now()
                  < ACCESS(shm->slots[i].fetching_until)) {
        apr_sleep(apr_time_from_msec(10));
    }
}

static apr_status_t fetcher_stop(void *data)
{
    apr_status_t rv;

    apr_thread_mutex_lock(lock);
    stopping = 1;
    apr_thread_cond_signal(wake);
    apr_thread_mutex_unlock(lock);
    if (fetcher) {
        apr_thread_join(&rv, fetcher);
    }
    return APR_SUCCESS;
}

/* Refreshes due slots; wakes every second. */
static void *APR_THREAD_FUNC fetcher_main(apr_thread_t *t, void *data)
{
    server_rec *s = data;
    int i;

    for (;;) {
        for (i = 0; i < shm->nslots; ++i) {
            slot_t *sl = &shm->slots[i];
            if (ACCESS(sl->state) == 2
                && (apr_uint64_t)apr_time_now() >= ACCESS(sl->next_refresh)
                && claim(i)) {
                fetch_slot(i, s, "scheduled");
                release(i);
            }
            /* A generation another process fetched: parsed here, off the
             * request path, before a request needs it. */
            if (ACCESS(sl->state) == 2
                && ACCESS(sl->generation) != ACCESS(locals[i].generation)) {
                apr_thread_rwlock_wrlock(keys_lock);
                sync_local(i, s);
                apr_thread_rwlock_unlock(keys_lock);
            }
        }
        apr_thread_mutex_lock(lock);
        if (!stopping) {
            apr_thread_cond_timedwait(wake, lock, apr_time_from_sec(1));
        }
        if (stopping) {
            apr_thread_mutex_unlock(lock);
            break;
        }
        apr_thread_mutex_unlock(lock);
    }
    return NULL;
}

void apisec_jwks_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    if (!shm) {
        return;
    }
    locals = apr_pcalloc(pchild, sizeof(local_t) * (apr_size_t)shm->nslots);
    apr_pool_create(&idpool, pchild);
    if (apr_thread_mutex_create(&lock, APR_THREAD_MUTEX_DEFAULT, pchild)
            != APR_SUCCESS
        || apr_thread_rwlock_create(&keys_lock, pchild) != APR_SUCCESS
        || apr_thread_cond_create(&wake, pchild) != APR_SUCCESS) {
        shm = NULL;
        return;
    }
    stopping = 0;
    rv = apr_thread_create(&fetcher, NULL, fetcher_main, s, pchild);
    if (rv != APR_SUCCESS) {
        /* Requests still fetch on demand. */
        fetcher = NULL;
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     APLOGNO(20305) "cannot start the thread that refreshes "
                                    "remote key sets");
    }
    apr_pool_cleanup_register(pchild, NULL, fetcher_stop,
                              apr_pool_cleanup_null);
}

/* Drops one reference; the last frees the generation (a root pool: its
 * allocator is APR's global, locked one). */
static void unref(gen_t *g)
{
    if (__atomic_sub_fetch(&g->refs, 1, __ATOMIC_ACQ_REL) == 0) {
        apr_pool_destroy(g->pool);
    }
}

static apr_status_t release_gen(void *data)
{
    unref(data);
    return APR_SUCCESS;
}

/* Brings this process's keys of slot I to the shared generation: the text
 * copied under the sequence counter and parsed once. Write lock held. */
static void sync_local(int i, server_rec *s)
{
    slot_t *sl = &shm->slots[i];
    local_t *l = &locals[i];
    apr_uint64_t gen = ACCESS(sl->generation), seq;
    apr_pool_t *p;
    apisec_jwk_set_t *set = NULL;
    char *copy;
    apr_size_t len;
    gen_t *g;
    int tries;

    if (gen == l->generation) {
        return;
    }
    apr_pool_create(&p, NULL);
    copy = apr_palloc(p, APISEC_JWKS_MAX_DOC);
    for (tries = 0;; ++tries) {
        seq = ACCESS(sl->seq);
        gen = ACCESS(sl->generation);
        len = sl->len;
        if (!(seq & 1) && len <= APISEC_JWKS_MAX_DOC) {
            memcpy(copy, sl->doc, len);
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            if (ACCESS(sl->seq) == seq) {
                break;
            }
        }
        if (tries > 1000) {
            apr_pool_destroy(p);
            return;
        }
        apr_sleep(100);
    }
    if (apisec_jwks_parse(p, copy, len, &set, NULL)) {
        /* The fetcher checked it: only a failure of OpenSSL gets here. */
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     APLOGNO(20306) "remote JWKS %s: this process cannot "
                                    "load the shared keys; keeping its "
                                    "last ones",
                     escaped(p, sl->key));
        apr_pool_destroy(p);
        l->generation = gen; /* not again for every request */
        return;
    }
    g = apr_pcalloc(p, sizeof(*g));
    g->pool = p;
    g->set = set;
    /* Never freed: a new address for each generation, so the token cache
     * never confuses two generations. */
    g->ident = apr_palloc(idpool, 1);
    g->refs = 1;
    if (l->gen) {
        /* No request can take it any more (they take l->gen under the read
         * lock): the requests using it drop the rest. */
        unref(l->gen);
    }
    l->gen = g;
    l->generation = gen;
}

static int unavailable(request_rec *r, int i)
{
    slot_t *sl = &shm->slots[i];
    apr_time_t now = apr_time_now();
    apr_uint64_t next = ACCESS(sl->next_refresh),
                 demand = ACCESS(sl->next_demand);
    apr_int64_t secs;

    /* The next attempt: scheduled, or one a request may start. */
    if (demand < next) {
        next = demand;
    }
    secs = next > (apr_uint64_t)now ? apr_time_sec(next - now) + 1 : 1;

    ADD(sl->unavailable, 1);
    /* Under load while the provider is away, one line per interval for the
     * whole server; the metrics count every answer. */
    if (apisec_jwks_pace(&sl->next_log, now, LOG_INTERVAL)) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      APLOGNO(20307) "no usable keys from %s (none fetched "
                                     "yet, or older than APISecJWKSMaxStale): "
                                     "503 until they arrive, request_id %s",
                      escaped(r->pool, sl->key), apisec_request_id(r));
    }
    apr_table_setn(r->err_headers_out, "Retry-After",
                   apr_psprintf(r->pool, "%" APR_INT64_T_FMT, secs));
    return apisec_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                               "The keys of the identity provider are not "
                               "available; try again later.");
}

/* Fetches slot I on demand, paced server-wide; or waits for the fetch in
 * progress. */
static void on_demand(request_rec *r, int i, const char *why)
{
    slot_t *sl = &shm->slots[i];

    if ((apr_uint64_t)apr_time_now() < ACCESS(sl->fetching_until)) {
        wait_fetch(i);
        return;
    }
    if (apisec_jwks_pace(&sl->next_demand, apr_time_now(),
                         apisec_jwks_conf()->min_refetch)) {
        if (claim(i)) {
            ADD(sl->demand_fetches, 1);
            fetch_slot(i, r->server, why);
            release(i);
        }
        else {
            wait_fetch(i);
        }
    }
}

int apisec_jwks_keys(request_rec *r, apisec_jwks_src_t *src, int kid_miss,
                     const apisec_jwk_set_t **keys, const void **scope)
{
    const apisec_jwks_conf_t *c = apisec_jwks_conf();
    int i = slot_of(src);
    slot_t *sl;
    gen_t *g;

    if (i < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      APLOGNO(20308) "no room for the remote key set %s "
                                     "(at most %d from .htaccess files): "
                                     "503, request_id %s",
                      escaped(r->pool, src->key), SPARE_SLOTS,
                      apisec_request_id(r));
        apr_table_setn(r->err_headers_out, "Retry-After", "60");
        return apisec_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                                   "Authentication is not available.");
    }
    sl = &shm->slots[i];
    if (kid_miss) {
        on_demand(r, i, "unknown kid");
    }
    else if (!apisec_jwks_usable(ACCESS(sl->fetched_at), apr_time_now(),
                                 c->max_stale)) {
        on_demand(r, i, "no keys");
    }
    if (!apisec_jwks_usable(ACCESS(sl->fetched_at), apr_time_now(),
                            c->max_stale)) {
        return unavailable(r, i);
    }
    /* The common case, keys unchanged: a read lock and an atomic add. */
    apr_thread_rwlock_rdlock(keys_lock);
    g = locals[i].gen;
    if (g && locals[i].generation == ACCESS(sl->generation)) {
        __atomic_add_fetch(&g->refs, 1, __ATOMIC_ACQ_REL);
    }
    else {
        g = NULL;
    }
    apr_thread_rwlock_unlock(keys_lock);
    if (!g) {
        apr_thread_rwlock_wrlock(keys_lock);
        sync_local(i, r->server);
        g = locals[i].gen;
        if (g) {
            __atomic_add_fetch(&g->refs, 1, __ATOMIC_ACQ_REL);
        }
        apr_thread_rwlock_unlock(keys_lock);
    }
    if (!g) {
        return unavailable(r, i);
    }
    apr_pool_cleanup_register(r->pool, g, release_gen, apr_pool_cleanup_null);
    *keys = g->set;
    *scope = g->ident;
    return OK;
}

/* One metric family: its help, then a sample per slot in use (the
 * Prometheus text format wants a family's lines together). */
typedef enum {
    F_FETCHES,
    F_FAILURES,
    F_DEMAND,
    F_IGNORED,
    F_UNAVAILABLE,
    F_AGE
} family_e;

static const struct {
    const char *name, *type, *help;
} families[] = {
    {"apisec_jwks_fetches_total", "counter", "Fetches of remote key sets."},
    {"apisec_jwks_fetch_failures_total", "counter",
     "Failed fetches, per cause."},
    {"apisec_jwks_demand_fetches_total", "counter",
     "Fetches on an unknown kid or without keys."},
    {"apisec_jwks_keys_ignored_total", "counter",
     "Keys of remote sets ignored (oct, use not sig, weak, unknown kty)."},
    {"apisec_jwks_unavailable_total", "counter",
     "Requests answered 503 for want of keys."},
    {"apisec_jwks_age_seconds", "gauge",
     "Time since the last successful fetch."},
};

static void sample(request_rec *r, family_e f, slot_t *sl)
{
    /* Keys were checked when read: no quote, backslash or control. */
    const char *n = families[f].name, *key = sl->key;
    apr_uint64_t v = 0, at;
    int k;

    switch (f) {
    case F_FETCHES:
        v = ACCESS(sl->fetches);
        break;
    case F_FAILURES:
        for (k = 0; k < CAUSE_COUNT; ++k) {
            ap_rprintf(
                r, "%s{source=\"%s\",cause=\"%s\"} %" APR_UINT64_T_FMT "\n", n,
                key, apisec_jwks_cause_names[k], ACCESS(sl->failures[k]));
        }
        return;
    case F_DEMAND:
        v = ACCESS(sl->demand_fetches);
        break;
    case F_IGNORED:
        v = ACCESS(sl->dropped_keys);
        break;
    case F_UNAVAILABLE:
        v = ACCESS(sl->unavailable);
        break;
    case F_AGE:
        if ((at = ACCESS(sl->fetched_at))) {
            ap_rprintf(r, "%s{source=\"%s\"} %.3f\n", n, key,
                       (double)(apr_time_now() - (apr_time_t)at) / 1e6);
        }
        return;
    }
    ap_rprintf(r, "%s{source=\"%s\"} %" APR_UINT64_T_FMT "\n", n, key, v);
}

void apisec_jwks_metrics(request_rec *r)
{
    int f, i;

    if (!shm) {
        return;
    }
    for (f = F_FETCHES; f <= F_AGE; ++f) {
        ap_rprintf(r, "# HELP %s %s\n# TYPE %s %s\n", families[f].name,
                   families[f].help, families[f].name, families[f].type);
        for (i = 0; i < shm->nslots; ++i) {
            if (ACCESS(shm->slots[i].state) == 2) {
                sample(r, (family_e)f, &shm->slots[i]);
            }
        }
    }
}
