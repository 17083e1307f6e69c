/* memcached behind the store interface. libmemcached 1.1 (Debian 12's
 * libmemcached-awesome 1.1.4) handles a failed server so:
 * - every failed operation (refused, timed out) puts the server "in
 *   timeout" for RETRY_TIMEOUT seconds and counts one failure;
 * - at its next use after SERVER_FAILURE_LIMIT failures, with
 *   REMOVE_FAILED_SERVERS on, the server is ejected: the ketama ring is
 *   rebuilt without it and that one operation answers SERVER_MARKED_DEAD
 *   at once; after DEAD_TIMEOUT seconds it is put back and tried once.
 * With a failure limit of 1 a dead server costs each pooled connection one
 * failed operation (at most one timeout) per retry period; every other
 * request goes to the surviving servers or fails at once. */
#include "store_memcached.h"

#include <apr_atomic.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <libmemcached/memcached.h>
#include <libmemcachedutil-1.0/pool.h>
#include <openssl/evp.h>
#include <string.h>

#define KEY_PLAIN_MAX 200
#define TTL_MAX (30u * 86400u)

typedef struct {
    memcached_st *master;
    memcached_pool_st *pool;
    struct timespec wait;
    volatile void *last_error; /* const char *, set by any thread */
} mc_store_t;

/* ---- keys ---- */

apr_size_t apisec_store_memcached_key(const void *key, apr_size_t klen,
                                      char *buf)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *k = key;
    unsigned char md[32];
    unsigned int mdlen = 0;
    apr_size_t i;
    int plain = klen > 0 && klen <= KEY_PLAIN_MAX && k[0] != '#';

    for (i = 0; plain && i < klen; ++i) {
        plain = k[i] > 0x20 && k[i] < 0x7f;
    }
    if (plain) {
        memcpy(buf, key, klen);
        buf[klen] = '\0';
        return klen;
    }
    /* EVP_Digest fails only on allocation failure; an all-zero digest
     * then would merge keys, so a failure is left to the caller as an
     * empty key, which every operation refuses. */
    if (!EVP_Digest(key, klen, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
        buf[0] = '\0';
        return 0;
    }
    buf[0] = '#';
    for (i = 0; i < 32; ++i) {
        buf[1 + 2 * i] = hex[md[i] >> 4];
        buf[2 + 2 * i] = hex[md[i] & 15];
    }
    buf[65] = '\0';
    return 65;
}

/* ---- results ---- */

static apr_status_t fail(mc_store_t *m, memcached_st *mc, memcached_return_t rc)
{
    apr_atomic_xchgptr(&m->last_error, (void *)memcached_strerror(mc, rc));
    return rc == MEMCACHED_TIMEOUT ? APR_TIMEUP : APR_EGENERAL;
}

static apr_status_t status(mc_store_t *m, memcached_st *mc,
                           memcached_return_t rc)
{
    switch (rc) {
    case MEMCACHED_SUCCESS:
    case MEMCACHED_STORED:
    case MEMCACHED_DELETED:
        return APR_SUCCESS;
    case MEMCACHED_NOTFOUND:
        return APISEC_STORE_NOTFOUND;
    case MEMCACHED_DATA_EXISTS:
    case MEMCACHED_NOTSTORED:
        return APISEC_STORE_EXISTS;
    default:
        return fail(m, mc, rc);
    }
}

static memcached_st *pop(mc_store_t *m, apr_status_t *rv)
{
    memcached_return_t rc = MEMCACHED_SUCCESS;
    memcached_st *mc = memcached_pool_fetch(m->pool, &m->wait, &rc);

    if (mc == NULL) {
        *rv = fail(m, NULL, rc == MEMCACHED_SUCCESS ? MEMCACHED_FAILURE : rc);
    }
    return mc;
}

static apr_status_t push(mc_store_t *m, memcached_st *mc, apr_status_t rv)
{
    memcached_pool_release(m->pool, mc);
    return rv;
}

static time_t ttl_of(apr_uint32_t ttl)
{
    return (time_t)(ttl > TTL_MAX ? TTL_MAX : ttl);
}

/* ---- operations ---- */

static apr_status_t mc_incr(void *h, const void *key, apr_size_t klen,
                            apr_uint64_t delta, apr_uint64_t initial,
                            apr_uint32_t ttl, apr_uint64_t *value)
{
    mc_store_t *m = h;
    char k[KEY_PLAIN_MAX + 1];
    apr_size_t kn = apisec_store_memcached_key(key, klen, k);
    apr_status_t rv = APR_SUCCESS;
    memcached_st *mc;
    uint64_t v = 0;

    if (kn == 0 || (mc = pop(m, &rv)) == NULL) {
        return kn == 0 ? APR_ENOMEM : rv;
    }
    rv = status(m, mc, memcached_increment_with_initial(
                           mc, k, kn, delta, initial, ttl_of(ttl), &v));
    *value = v;
    return push(m, mc, rv);
}

static apr_status_t fetch_one(mc_store_t *m, memcached_st *mc, const char *k,
                              apr_size_t kn, unsigned char *val,
                              apr_size_t *vlen, apr_uint64_t *cas)
{
    memcached_result_st res, *r;
    memcached_return_t rc;
    apr_status_t rv;
    const char *keys[1] = {k};
    size_t lens[1] = {kn};

    rc = memcached_mget(mc, keys, lens, 1);
    if (rc != MEMCACHED_SUCCESS) {
        return status(m, mc, rc);
    }
    if (memcached_result_create(mc, &res) == NULL) {
        return APR_ENOMEM;
    }
    r = memcached_fetch_result(mc, &res, &rc);
    if (r == NULL) {
        rv = rc == MEMCACHED_END || rc == MEMCACHED_NOTFOUND
                 ? APISEC_STORE_NOTFOUND : status(m, mc, rc);
    }
    else if (memcached_result_length(r) > APISEC_STORE_VALUE_MAX) {
        rv = APR_EINVAL; /* not a value this module wrote */
    }
    else {
        *vlen = memcached_result_length(r);
        memcpy(val, memcached_result_value(r), *vlen);
        if (cas != NULL) {
            *cas = memcached_result_cas(r);
        }
        rv = APR_SUCCESS;
        /* Read up to the end of the answer so the connection goes back
         * to the pool clean. */
        while (memcached_fetch_result(mc, &res, &rc) != NULL) {
        }
    }
    memcached_result_free(&res);
    return rv;
}

static apr_status_t mc_get(void *h, const void *key, apr_size_t klen,
                           unsigned char *val, apr_size_t *vlen,
                           apr_uint64_t *cas)
{
    mc_store_t *m = h;
    char k[KEY_PLAIN_MAX + 1];
    apr_size_t kn = apisec_store_memcached_key(key, klen, k);
    apr_status_t rv = APR_SUCCESS;
    memcached_st *mc;

    if (kn == 0 || (mc = pop(m, &rv)) == NULL) {
        return kn == 0 ? APR_ENOMEM : rv;
    }
    return push(m, mc, fetch_one(m, mc, k, kn, val, vlen, cas));
}

static apr_status_t mc_set(void *h, const void *key, apr_size_t klen,
                           const void *val, apr_size_t vlen, apr_uint32_t ttl)
{
    mc_store_t *m = h;
    char k[KEY_PLAIN_MAX + 1];
    apr_size_t kn = apisec_store_memcached_key(key, klen, k);
    apr_status_t rv = APR_SUCCESS;
    memcached_st *mc;

    if (kn == 0 || (mc = pop(m, &rv)) == NULL) {
        return kn == 0 ? APR_ENOMEM : rv;
    }
    rv = status(m, mc, memcached_set(mc, k, kn, val, vlen, ttl_of(ttl), 0));
    return push(m, mc, rv);
}

static apr_status_t mc_cas(void *h, const void *key, apr_size_t klen,
                           const void *val, apr_size_t vlen, apr_uint32_t ttl,
                           apr_uint64_t cas)
{
    mc_store_t *m = h;
    char k[KEY_PLAIN_MAX + 1];
    apr_size_t kn = apisec_store_memcached_key(key, klen, k);
    apr_status_t rv = APR_SUCCESS;
    memcached_st *mc;
    memcached_return_t rc;

    if (kn == 0 || (mc = pop(m, &rv)) == NULL) {
        return kn == 0 ? APR_ENOMEM : rv;
    }
    rc = cas == 0 ? memcached_add(mc, k, kn, val, vlen, ttl_of(ttl), 0)
                  : memcached_cas(mc, k, kn, val, vlen, ttl_of(ttl), 0, cas);
    return push(m, mc, status(m, mc, rc));
}

static apr_status_t mc_del(void *h, const void *key, apr_size_t klen)
{
    mc_store_t *m = h;
    char k[KEY_PLAIN_MAX + 1];
    apr_size_t kn = apisec_store_memcached_key(key, klen, k);
    apr_status_t rv = APR_SUCCESS;
    memcached_st *mc;

    if (kn == 0 || (mc = pop(m, &rv)) == NULL) {
        return kn == 0 ? APR_ENOMEM : rv;
    }
    return push(m, mc, status(m, mc, memcached_delete(mc, k, kn, 0)));
}

static const apisec_store_ops_t mc_ops = {
    "memcached", mc_incr, mc_get, mc_set, mc_cas, mc_del, NULL
};

const char *apisec_store_memcached_error(apisec_store_t *store)
{
    return apr_atomic_casptr(&((mc_store_t *)store->handle)->last_error,
                             NULL, NULL);
}

/* ---- setup ---- */

static apr_status_t mc_cleanup(void *data)
{
    mc_store_t *m = data;

    if (m->pool != NULL) {
        memcached_pool_destroy(m->pool);
        m->pool = NULL;
    }
    if (m->master != NULL) {
        memcached_free(m->master);
        m->master = NULL;
    }
    return APR_SUCCESS;
}

static int behave(memcached_st *mc, memcached_behavior_t b, uint64_t v)
{
    return memcached_behavior_set(mc, b, v) == MEMCACHED_SUCCESS;
}

static int configure(memcached_st *mc, const apisec_store_memcached_conf_t *c)
{
    unsigned t = c->timeout_ms ? c->timeout_ms : APISEC_STORE_MEMCACHED_TIMEOUT_MS;

    /* NO_BLOCK makes connect() non-blocking, so CONNECT_TIMEOUT applies;
     * SND/RCV_TIMEOUT (microseconds) bound the socket calls as well. */
    return behave(mc, MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 1)
           && behave(mc, MEMCACHED_BEHAVIOR_DISTRIBUTION,
                     MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA)
           && behave(mc, MEMCACHED_BEHAVIOR_SUPPORT_CAS, 1)
           && behave(mc, MEMCACHED_BEHAVIOR_NO_BLOCK, 1)
           && behave(mc, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1)
           && behave(mc, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, t)
           && behave(mc, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, t)
           && behave(mc, MEMCACHED_BEHAVIOR_SND_TIMEOUT, (uint64_t)t * 1000)
           && behave(mc, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, (uint64_t)t * 1000)
           && behave(mc, MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS, 1)
           && behave(mc, MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, 1)
           && behave(mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, c->retry_s)
           && behave(mc, MEMCACHED_BEHAVIOR_DEAD_TIMEOUT, c->retry_s);
}

apr_status_t apisec_store_memcached_create(
    apr_pool_t *p, const apisec_store_memcached_conf_t *conf,
    apisec_store_t **store)
{
    mc_store_t *m = apr_pcalloc(p, sizeof(*m));
    apisec_store_t *s;
    int i;

    if (conf->servers == NULL || conf->servers->nelts == 0) {
        return APR_EINVAL;
    }
    apr_pool_cleanup_register(p, m, mc_cleanup, apr_pool_cleanup_null);
    if ((m->master = memcached_create(NULL)) == NULL) {
        return APR_ENOMEM;
    }
    for (i = 0; i < conf->servers->nelts; ++i) {
        const apisec_store_memcached_server_t *srv =
            &APR_ARRAY_IDX(conf->servers, i, apisec_store_memcached_server_t);
        if (memcached_server_add(m->master, srv->host, srv->port)
            != MEMCACHED_SUCCESS) {
            return APR_EINVAL;
        }
    }
    if (!configure(m->master, conf)) {
        return APR_EINVAL;
    }
    m->pool = memcached_pool_create(m->master, 1,
                                    conf->pool_max ? conf->pool_max : 1);
    if (m->pool == NULL) {
        return APR_ENOMEM;
    }
    /* No wait for a free connection: with pool_max at least the threads of
     * a process there always is one, and a wait would add to the timeout
     * the operation itself may take. */
    m->wait.tv_sec = 0;
    m->wait.tv_nsec = 0;
    s = apr_pcalloc(p, sizeof(*s));
    s->ops = &mc_ops;
    s->handle = m;
    *store = s;
    return APR_SUCCESS;
}

/* ---- configuration ---- */

static const char *parse_server(apr_pool_t *p, const char *arg,
                                apisec_store_memcached_server_t *srv)
{
    const char *colon, *host_end;
    apr_int64_t port = APISEC_STORE_MEMCACHED_PORT;
    char *end;

    if (arg[0] == '[') {
        host_end = strchr(arg, ']');
        if (host_end == NULL || host_end == arg + 1) {
            return "an IPv6 server must be written [ADDRESS]:PORT";
        }
        srv->host = apr_pstrmemdup(p, arg + 1, (apr_size_t)(host_end - arg - 1));
        colon = host_end[1] == ':' ? host_end + 1 : NULL;
        if (host_end[1] != '\0' && colon == NULL) {
            return "an IPv6 server must be written [ADDRESS]:PORT";
        }
    }
    else {
        colon = strchr(arg, ':');
        if (colon != NULL && strchr(colon + 1, ':') != NULL) {
            return "an IPv6 server must be written [ADDRESS]:PORT";
        }
        host_end = colon ? colon : arg + strlen(arg);
        if (host_end == arg) {
            return "a server needs a host name or address";
        }
        srv->host = apr_pstrmemdup(p, arg, (apr_size_t)(host_end - arg));
    }
    if (colon != NULL) {
        if (!apr_isdigit(colon[1])) {
            return "a server's port must be a number from 1 to 65535";
        }
        port = apr_strtoi64(colon + 1, &end, 10);
        if (*end != '\0' || port < 1 || port > 65535) {
            return "a server's port must be a number from 1 to 65535";
        }
    }
    srv->port = (apr_port_t)port;
    return NULL;
}

const char *apisec_store_memcached_parse(apr_pool_t *p, int argc,
                                         char *const argv[],
                                         apisec_store_memcached_conf_t **conf)
{
    apisec_store_memcached_conf_t *c = apr_pcalloc(p, sizeof(*c));
    const char *err;
    char *end;
    apr_int64_t ms;
    int i;

    c->servers = apr_array_make(p, 2, sizeof(apisec_store_memcached_server_t));
    c->timeout_ms = APISEC_STORE_MEMCACHED_TIMEOUT_MS;
    c->retry_s = APISEC_STORE_MEMCACHED_RETRY_S;
    c->pool_max = 1;
    for (i = 0; i < argc; ++i) {
        if (strncmp(argv[i], "timeout=", 8) == 0) {
            ms = apr_isdigit(argv[i][8]) ? apr_strtoi64(argv[i] + 8, &end, 10)
                                         : -1;
            if (ms < 1 || ms > 60000 || *end != '\0') {
                return "timeout must be a number of milliseconds from 1 to "
                       "60000";
            }
            c->timeout_ms = (unsigned)ms;
            continue;
        }
        if (strchr(argv[i], '=') != NULL) {
            return apr_psprintf(p, "unknown option '%s': expected timeout=MS",
                                argv[i]);
        }
        err = parse_server(p, argv[i],
                           apr_array_push(c->servers));
        if (err != NULL) {
            return apr_psprintf(p, "%s ('%s')", err, argv[i]);
        }
    }
    if (c->servers->nelts == 0) {
        return "memcached needs at least one HOST:PORT";
    }
    *conf = c;
    return NULL;
}

const char *apisec_store_memcached_resolve(
    apr_pool_t *p, const apisec_store_memcached_conf_t *conf)
{
    apr_sockaddr_t *sa;
    int i;

    for (i = 0; i < conf->servers->nelts; ++i) {
        const apisec_store_memcached_server_t *srv =
            &APR_ARRAY_IDX(conf->servers, i, apisec_store_memcached_server_t);
        if (apr_sockaddr_info_get(&sa, srv->host, APR_UNSPEC, srv->port, 0, p)
            != APR_SUCCESS) {
            return apr_psprintf(p, "memcached server '%s' does not resolve",
                                srv->host);
        }
    }
    return NULL;
}
