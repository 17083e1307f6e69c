/* The store of this server (APISecStore): made in post_config, attached in
 * each child, and the per-virtual-host key namespace.
 *
 * shm: the segment and its global mutex are made once in the process pool
 * (s->process->pool), which lives as long as the parent httpd, and found
 * again there on every later configuration pass: so counters survive a
 * graceful restart (`apachectl graceful`), as store_shm.h advises. A
 * changed size= makes a new segment (the old counters are lost then).
 * memcached: each child makes its own connection pool in child_init
 * (connections must not cross a fork); servers down at startup are not an
 * error, they are retried as the core describes.
 *
 * Namespace: "ServerName:port" of each virtual host, so two virtual hosts
 * never share a counter, and two httpd servers that share memcached share
 * the limits of virtual hosts with the same ServerName and port. */
#include "ap_glue.h"
#include "config.h"
#include "ratelimit.h"
#include "store_memcached.h"
#include "store_shm.h"

#include "http_log.h"
#include "ap_mpm.h"
#include "util_mutex.h"
#include "apr_shm.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apisec);

#define MUTEX_TYPE "apisec-store"
#define PERSIST_KEY "apisec-store-persist"
/* Store failures are logged at most once in this interval (all processes
 * together); the rest are counted in the metrics. */
#define LOG_INTERVAL apr_time_from_sec(10)

typedef struct {
    apr_shm_t *shm;
    apr_size_t size;
    apr_global_mutex_t *mutex;
} persist_t;

static persist_t *persist;
static int kind;
static const apisec_store_memcached_conf_t *mc_conf;
static apisec_store_t *store; /* this process's */
static apisec_ratelimit_local_t *local;
/* Keys a process holds leases of; a lease lost to another key only costs
 * a round trip. */
#define LEASE_SLOTS 4096

apisec_store_t *apisec_store_handle(void)
{
    return store;
}

struct apisec_ratelimit_local *apisec_store_local(void)
{
    return local;
}

int apisec_store_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp)
{
    (void)plog;
    (void)ptemp;
    return ap_mutex_register(pconf, MUTEX_TYPE, NULL, APR_LOCK_DEFAULT, 0);
}

static apr_status_t make_shm(server_rec *s, apr_pool_t *pproc, apr_size_t size)
{
    apr_status_t rv;

    if (!persist) {
        apr_pool_userdata_get((void **)&persist, PERSIST_KEY, pproc);
    }
    if (!persist) {
        persist = apr_pcalloc(pproc, sizeof(*persist));
        apr_pool_userdata_set(persist, PERSIST_KEY, apr_pool_cleanup_null,
                              pproc);
    }
    if (!persist->mutex) {
        rv = ap_global_mutex_create(&persist->mutex, NULL, MUTEX_TYPE, NULL, s,
                                    pproc, 0);
        if (rv != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                         APLOGNO(20100) "APISecStore shm: cannot create the "
                                        "global mutex; see the Mutex "
                                        "directive (type apisec-store)");
            return rv;
        }
    }
    if (persist->shm && persist->size == size) {
        return APR_SUCCESS;
    }
    if (persist->shm) {
        /* Children of the old generation keep their mapping until they
         * exit; the parent lets go of it here. */
        apr_shm_destroy(persist->shm);
        persist->shm = NULL;
    }
    rv = apr_shm_create(&persist->shm, size, NULL, pproc);
    if (rv != APR_SUCCESS) {
        ap_log_error(
            APLOG_MARK, APLOG_EMERG, rv, s,
            APLOGNO(20102) "APISecStore shm: cannot create %" APR_SIZE_T_FMT
                           " bytes of shared memory: write a smaller "
                           "size=",
            size);
        return rv;
    }
    persist->size = size;
    return APR_SUCCESS;
}

/* By server_rec, not in the server config: a virtual host without a
 * directive of ours shares the main server's config record. An open
 * addressing table of the pointers, made in post_config and only read
 * after it: apr_hash_get cost as much as the rest of a rate-limit check's
 * glue, and this runs on every limited request. At most half full, so a
 * lookup probes one or two slots. */
typedef struct {
    const server_rec *s;
    const char *ns;
} ns_slot_t;

static ns_slot_t *namespaces;
static apr_size_t ns_mask;

static apr_size_t ns_home(const server_rec *s)
{
    apr_uintptr_t v = (apr_uintptr_t)s;

    return (apr_size_t)((v >> 4) ^ (v >> 12)) & ns_mask;
}

static void set_namespaces(apr_pool_t *pconf, server_rec *s)
{
    server_rec *v;
    apr_size_t n = 0, size = 4, i;

    for (v = s; v; v = v->next) {
        ++n;
    }
    while (size < 2 * n) {
        size *= 2;
    }
    namespaces = apr_pcalloc(pconf, size * sizeof(*namespaces));
    ns_mask = size - 1;
    for (v = s; v; v = v->next) {
        unsigned port = v->port;
        if (!port && v->addrs) {
            port = v->addrs->host_port;
        }
        i = ns_home(v);
        while (namespaces[i].s) {
            i = (i + 1) & ns_mask;
        }
        namespaces[i].s = v;
        namespaces[i].ns = apr_psprintf(
            pconf, "%s:%u", v->server_hostname ? v->server_hostname : "", port);
    }
}

const char *apisec_store_namespace(server_rec *s)
{
    apr_size_t i;

    if (!namespaces) {
        return "";
    }
    for (i = ns_home(s); namespaces[i].s; i = (i + 1) & ns_mask) {
        if (namespaces[i].s == s) {
            return namespaces[i].ns;
        }
    }
    return "";
}

int apisec_store_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    apisec_srv_conf_t *c = apisec_srv_conf(s);
    apr_pool_t *pproc = s->process->pool;
    apr_status_t rv;
    int fresh = 0;

    (void)plog;
    (void)ptemp;
    set_namespaces(pconf, s);
    if (apisec_metrics_post_config(pproc, s) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    store = NULL;
    local = NULL;
    kind = c->store_kind == APISEC_STORE_KIND_MEMCACHED
               ? APISEC_STORE_KIND_MEMCACHED
               : APISEC_STORE_KIND_SHM;
    if (kind == APISEC_STORE_KIND_MEMCACHED) {
        mc_conf = c->memcached;
        return OK;
    }
    rv = make_shm(s, pproc,
                  c->shm_size ? c->shm_size : APISEC_STORE_SHM_DEFAULT_SIZE);
    if (rv != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    rv = apisec_store_shm_attach(pconf, apr_shm_baseaddr_get(persist->shm),
                                 persist->size, persist->mutex, &fresh, &store);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                     APLOGNO(20103) "APISecStore shm: cannot use the shared "
                                    "memory segment");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, s,
                 APLOGNO(20104) "store: shared memory of %" APR_SIZE_T_FMT
                                " bytes, %s",
                 persist->size, fresh ? "new" : "kept from before the restart");
    return OK;
}

void apisec_store_child_init(apr_pool_t *pchild, server_rec *s)
{
    apr_status_t rv;

    if (kind == APISEC_STORE_KIND_MEMCACHED && mc_conf) {
        apisec_store_memcached_conf_t *mc =
            apr_pmemdup(pchild, mc_conf, sizeof(*mc));
        int threads = 1;
        /* One connection per thread: a thread never waits for another's. */
        if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS
            || threads < 1) {
            threads = 1;
        }
        mc->pool_max = (unsigned)threads;
        rv = apisec_store_memcached_create(pchild, mc, &store);
        if (rv == APR_SUCCESS
            && apisec_ratelimit_local_create(pchild, LEASE_SLOTS, &local)
                   != APR_SUCCESS) {
            local = NULL; /* one round trip a request instead */
        }
        if (rv != APR_SUCCESS) {
            store = NULL;
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                         APLOGNO(20105) "APISecStore memcached: cannot make "
                                        "the connection pool; every rate-limit "
                                        "check fails as APISecStoreFailure "
                                        "says");
        }
        return;
    }
    if (persist && persist->shm) {
        apr_global_mutex_t *mutex = persist->mutex;
        rv = apr_global_mutex_child_init(
            &mutex, apr_global_mutex_lockfile(mutex), pchild);
        if (rv == APR_SUCCESS) {
            rv = apisec_store_shm_attach(pchild,
                                         apr_shm_baseaddr_get(persist->shm),
                                         persist->size, mutex, NULL, &store);
        }
        if (rv != APR_SUCCESS) {
            store = NULL;
            ap_log_error(APLOG_MARK, APLOG_CRIT, rv, s,
                         APLOGNO(20106) "APISecStore shm: a child cannot "
                                        "attach the store");
        }
    }
}

/* A failed store operation: counted always, logged at most once per
 * LOG_INTERVAL by all processes together. */
void apisec_store_note_failure(request_rec *r, apr_status_t rv)
{
    apr_uint64_t suppressed = 0;
    const char *why = NULL;

    if (!apisec_metrics_log_due(apr_time_now(), LOG_INTERVAL, &suppressed)) {
        return;
    }
    if (store && !strcmp(store->ops->name, "memcached")) {
        why = apisec_store_memcached_error(store);
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                  APLOGNO(20107) "rate limits: the %s store failed (%s); "
                                 "%" APR_UINT64_T_FMT " more failures not "
                                 "logged since the last such line; "
                                 "request %s",
                  store ? store->ops->name : "unavailable",
                  why ? why : "no detail", suppressed, apisec_request_id(r));
}
