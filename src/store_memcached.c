/* memcached behind the store interface.
 *
 * libmemcached 1.1 (Debian 12's libmemcached-awesome 1.1.4) takes a server
 * out only after a failed *connect*: with REMOVE_FAILED_SERVERS and a
 * SERVER_FAILURE_LIMIT of 1, a refused connection puts the server in
 * timeout, its next use ejects it from the ketama ring, and RETRY_TIMEOUT /
 * DEAD_TIMEOUT seconds later it is tried again. A server that accepts
 * connections and never answers is never taken out that way: for TCP an
 * I/O timeout only closes the socket, so every request would wait the whole
 * timeout again. Hence a small layer of our own, per process:
 * - when an operation fails for a server reason (timeout, I/O, refused),
 *   the server its key maps to is marked down until now + retry, and a
 *   generation counter moves on;
 * - a pooled connection whose generation is old gets its server list
 *   rebuilt from the servers that are up (ketama moves only the keys of the
 *   servers that left), once per change, not per request;
 * - with no server up an operation fails at once, without a connection.
 * So a dead or silent server costs each process one failed operation, at
 * most one timeout, per retry period. */
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
    apr_uint32_t generation; /* of the server list this connection has */
    int live;                /* servers in it */
} conn_state_t;

typedef struct {
    memcached_st *master;
    memcached_pool_st *pool;
    struct timespec wait;
    volatile void *last_error; /* const char *, set by any thread */
    int nservers;
    apisec_store_memcached_server_t *servers;
    volatile apr_uint64_t *down_until; /* apr_time_t per server, 0: up */
    volatile apr_uint32_t generation;
    conn_state_t *conns; /* one per pooled connection, handed out once */
    volatile apr_uint32_t nconns;
    apr_uint32_t pool_max;
    apr_interval_time_t retry;
} mc_store_t;

/* One operation's connection and the server its key maps to. */
typedef struct {
    memcached_st *mc;
    char key[KEY_PLAIN_MAX + 1];
    apr_size_t klen;
} op_t;

/* ---- keys ---- */

apr_size_t apisec_store_memcached_key(const void *key, apr_size_t klen,
                                      char *buf)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *k = key;
    unsigned char md[32];
    unsigned int mdlen = 0;
    apr_size_t i;
    unsigned bad = klen == 0 || klen > KEY_PLAIN_MAX || k[0] == '#';

    /* Every byte from '!' to '~': one compare a byte, no branch, since
     * this runs on every operation. */
    for (i = 0; !bad && i < klen; ++i) {
        bad |= (unsigned)(k[i] - 0x21) > 0x7e - 0x21;
    }
    if (!bad) {
        memcpy(buf, key, klen);
        buf[klen] = '\0';
        return klen;
    }
    /* EVP_Digest fails only when memory runs out; the empty key returned
     * then is refused by every operation rather than merged with others. */
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

/* ---- server health ---- */

static void note_error(mc_store_t *m, const char *msg)
{
    apr_atomic_xchgptr(&m->last_error, (void *)msg);
}

/* Servers whose time is up come back, and connections learn of it. */
static void revive(mc_store_t *m, apr_time_t now)
{
    int i;

    for (i = 0; i < m->nservers; ++i) {
        apr_uint64_t d = apr_atomic_read64(&m->down_until[i]);
        if (d != 0 && (apr_time_t)d <= now
            && apr_atomic_cas64(&m->down_until[i], 0, d) == d) {
            apr_atomic_inc32(&m->generation);
        }
    }
}

static void mark_down(mc_store_t *m, int server, apr_time_t now)
{
    if (server >= 0
        && apr_atomic_cas64(&m->down_until[server],
                            (apr_uint64_t)(now + m->retry), 0)
               == 0) {
        apr_atomic_inc32(&m->generation);
    }
}

/* Failures that say something about the server rather than the request.
 * Not UNKNOWN_READ_FAILURE: libmemcached also reports a server's error
 * answer so (incr of a non-number), and a server that answers is up. */
static int server_fault(memcached_return_t rc)
{
    switch (rc) {
    case MEMCACHED_TIMEOUT:
    case MEMCACHED_CONNECTION_FAILURE:
    case MEMCACHED_WRITE_FAILURE:
    case MEMCACHED_READ_FAILURE:
    case MEMCACHED_SOME_ERRORS: /* mget of our one key: its server failed */
    case MEMCACHED_ERRNO:
    case MEMCACHED_SERVER_MARKED_DEAD:
    case MEMCACHED_SERVER_TEMPORARILY_DISABLED:
    case MEMCACHED_HOST_LOOKUP_FAILURE:
    case MEMCACHED_CONNECTION_SOCKET_CREATE_FAILURE:
        return 1;
    default:
        return 0;
    }
}

static conn_state_t *conn_state(mc_store_t *m, memcached_st *mc)
{
    conn_state_t *cs = memcached_get_user_data(mc);
    apr_uint32_t i;

    if (cs == NULL) {
        /* The pool never holds more than pool_max connections. */
        i = apr_atomic_inc32(&m->nconns);
        if (i >= m->pool_max) {
            return NULL;
        }
        cs = &m->conns[i];
        memcached_set_user_data(mc, cs);
    }
    return cs;
}

/* Gives the connection the servers that are up now. The generation is read
 * first: a change after it moves it on again and is seen next time. */
static void refresh(mc_store_t *m, memcached_st *mc, conn_state_t *cs,
                    apr_time_t now)
{
    apr_uint32_t gen = apr_atomic_read32(&m->generation);
    int i;

    if (cs->generation == gen) {
        return;
    }
    memcached_servers_reset(mc);
    cs->live = 0;
    for (i = 0; i < m->nservers; ++i) {
        apr_time_t d = (apr_time_t)apr_atomic_read64(&m->down_until[i]);
        if ((d == 0 || d <= now)
            && memcached_server_add(mc, m->servers[i].host, m->servers[i].port)
                   == MEMCACHED_SUCCESS) {
            ++cs->live;
        }
    }
    cs->generation = gen;
}

static int server_of(mc_store_t *m, memcached_st *mc, const char *k,
                     apr_size_t kn)
{
    memcached_return_t rc;
    const memcached_instance_st *in = memcached_server_by_key(mc, k, kn, &rc);
    int i;

    for (i = 0; in != NULL && i < m->nservers; ++i) {
        if (memcached_server_port(in) == m->servers[i].port
            && strcmp(memcached_server_name(in), m->servers[i].host) == 0) {
            return i;
        }
    }
    return -1;
}

/* ---- one operation ---- */

static apr_status_t begin(mc_store_t *m, const void *key, apr_size_t klen,
                          op_t *op)
{
    memcached_return_t rc = MEMCACHED_SUCCESS;
    apr_time_t now = apr_time_now();
    conn_state_t *cs;

    op->klen = apisec_store_memcached_key(key, klen, op->key);
    if (op->klen == 0) {
        return APR_ENOMEM;
    }
    op->mc = memcached_pool_fetch(m->pool, &m->wait, &rc);
    if (op->mc == NULL) {
        note_error(m, "no free memcached connection in this process");
        return APR_EAGAIN;
    }
    revive(m, now);
    if ((cs = conn_state(m, op->mc)) == NULL) {
        memcached_pool_release(m->pool, op->mc);
        return APR_ENOMEM;
    }
    refresh(m, op->mc, cs, now);
    if (cs->live == 0) {
        memcached_pool_release(m->pool, op->mc);
        note_error(m, "every memcached server is down, retried later");
        return APR_ECONNREFUSED;
    }
    return APR_SUCCESS;
}

static apr_status_t end(mc_store_t *m, op_t *op, memcached_return_t rc)
{
    apr_status_t rv;

    switch (rc) {
    case MEMCACHED_SUCCESS:
    case MEMCACHED_STORED:
    case MEMCACHED_DELETED:
        rv = APR_SUCCESS;
        break;
    case MEMCACHED_NOTFOUND:
    case MEMCACHED_END:
        rv = APISEC_STORE_NOTFOUND;
        break;
    case MEMCACHED_DATA_EXISTS:
    case MEMCACHED_NOTSTORED:
        rv = APISEC_STORE_EXISTS;
        break;
    default:
        note_error(m, memcached_strerror(op->mc, rc));
        if (server_fault(rc)) {
            /* Found only now: the ketama lookup is not paid on success. */
            mark_down(m, server_of(m, op->mc, op->key, op->klen),
                      apr_time_now());
        }
        rv = rc == MEMCACHED_TIMEOUT ? APR_TIMEUP : APR_EGENERAL;
    }
    memcached_pool_release(m->pool, op->mc);
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
    op_t op;
    uint64_t v = 0;
    memcached_return_t rc;
    apr_status_t rv = begin(m, key, klen, &op);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    rc = memcached_increment_with_initial(op.mc, op.key, op.klen, delta,
                                          initial, ttl_of(ttl), &v);
    *value = v;
    return end(m, &op, rc);
}

static apr_status_t mc_adjust(void *h, const void *key, apr_size_t klen,
                              apr_uint64_t delta, int down, apr_uint64_t *value)
{
    mc_store_t *m = h;
    op_t op;
    uint64_t v = 0;
    memcached_return_t rc;
    apr_status_t rv = begin(m, key, klen, &op);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* In the binary protocol these never create: absent is NOTFOUND. */
    rc = down ? memcached_decrement_by_key(op.mc, op.key, op.klen, op.key,
                                           op.klen, delta, &v)
              : memcached_increment_by_key(op.mc, op.key, op.klen, op.key,
                                           op.klen, delta, &v);
    *value = v;
    return end(m, &op, rc);
}

/* A too long value was not written by this module: reported as
 * MEMCACHED_E2BIG, which end() turns into a failure. */
static memcached_return_t fetch_one(op_t *op, unsigned char *val,
                                    apr_size_t *vlen, apr_uint64_t *cas)
{
    memcached_result_st res, *r;
    memcached_return_t rc;
    const char *keys[1] = {op->key};
    size_t lens[1] = {op->klen};

    rc = memcached_mget(op->mc, keys, lens, 1);
    if (rc != MEMCACHED_SUCCESS) {
        return rc;
    }
    if (memcached_result_create(op->mc, &res) == NULL) {
        return MEMCACHED_MEMORY_ALLOCATION_FAILURE;
    }
    r = memcached_fetch_result(op->mc, &res, &rc);
    if (r == NULL) {
        rc = rc == MEMCACHED_SUCCESS ? MEMCACHED_NOTFOUND : rc;
    }
    else if (memcached_result_length(r) > APISEC_STORE_VALUE_MAX) {
        rc = MEMCACHED_E2BIG;
    }
    else {
        *vlen = memcached_result_length(r);
        memcpy(val, memcached_result_value(r), *vlen);
        if (cas != NULL) {
            *cas = memcached_result_cas(r);
        }
        rc = MEMCACHED_SUCCESS;
    }
    if (r != NULL) {
        memcached_return_t drc;
        /* Read to the end of the answer: the connection goes back clean. */
        while (memcached_fetch_result(op->mc, &res, &drc) != NULL) {
        }
    }
    memcached_result_free(&res);
    return rc;
}

static apr_status_t mc_get(void *h, const void *key, apr_size_t klen,
                           unsigned char *val, apr_size_t *vlen,
                           apr_uint64_t *cas)
{
    mc_store_t *m = h;
    op_t op;
    apr_status_t rv = begin(m, key, klen, &op);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    return end(m, &op, fetch_one(&op, val, vlen, cas));
}

static apr_status_t mc_set(void *h, const void *key, apr_size_t klen,
                           const void *val, apr_size_t vlen, apr_uint32_t ttl)
{
    mc_store_t *m = h;
    op_t op;
    apr_status_t rv = begin(m, key, klen, &op);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    return end(
        m, &op,
        memcached_set(op.mc, op.key, op.klen, val, vlen, ttl_of(ttl), 0));
}

static apr_status_t mc_cas(void *h, const void *key, apr_size_t klen,
                           const void *val, apr_size_t vlen, apr_uint32_t ttl,
                           apr_uint64_t cas)
{
    mc_store_t *m = h;
    op_t op;
    apr_status_t rv = begin(m, key, klen, &op);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    return end(m, &op,
               cas == 0 ? memcached_add(op.mc, op.key, op.klen, val, vlen,
                                        ttl_of(ttl), 0)
                        : memcached_cas(op.mc, op.key, op.klen, val, vlen,
                                        ttl_of(ttl), 0, cas));
}

static apr_status_t mc_del(void *h, const void *key, apr_size_t klen)
{
    mc_store_t *m = h;
    op_t op;
    apr_status_t rv = begin(m, key, klen, &op);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    return end(m, &op, memcached_delete(op.mc, op.key, op.klen, 0));
}

static const apisec_store_ops_t mc_ops = {
    "memcached", mc_incr, mc_get, mc_set, mc_cas, mc_del, NULL, mc_adjust};

const char *apisec_store_memcached_error(apisec_store_t *store)
{
    return apr_atomic_casptr(&((mc_store_t *)store->handle)->last_error, NULL,
                             NULL);
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
    unsigned t =
        c->timeout_ms ? c->timeout_ms : APISEC_STORE_MEMCACHED_TIMEOUT_MS;
    unsigned r = c->retry_s ? c->retry_s : APISEC_STORE_MEMCACHED_RETRY_S;

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
           && behave(mc, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, r)
           && behave(mc, MEMCACHED_BEHAVIOR_DEAD_TIMEOUT, r);
}

apr_status_t
apisec_store_memcached_create(apr_pool_t *p,
                              const apisec_store_memcached_conf_t *conf,
                              apisec_store_t **store)
{
    mc_store_t *m = apr_pcalloc(p, sizeof(*m));
    apisec_store_t *s;
    int i;

    if (conf->servers == NULL || conf->servers->nelts == 0) {
        return APR_EINVAL;
    }
    m->nservers = conf->servers->nelts;
    m->servers = apr_pmemdup(p, conf->servers->elts,
                             sizeof(*m->servers) * (apr_size_t)m->nservers);
    m->down_until =
        apr_pcalloc(p, sizeof(*m->down_until) * (apr_size_t)m->nservers);
    m->pool_max = conf->pool_max ? conf->pool_max : 1;
    m->conns = apr_pcalloc(p, sizeof(*m->conns) * m->pool_max);
    m->generation = 1; /* connections start at 0: refreshed on first use */
    m->retry = apr_time_from_sec(
        conf->retry_s ? conf->retry_s : APISEC_STORE_MEMCACHED_RETRY_S);
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
    m->pool = memcached_pool_create(m->master, 1, m->pool_max);
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
        srv->host =
            apr_pstrmemdup(p, arg + 1, (apr_size_t)(host_end - arg - 1));
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
        err = parse_server(p, argv[i], apr_array_push(c->servers));
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

const char *
apisec_store_memcached_resolve(apr_pool_t *p,
                               const apisec_store_memcached_conf_t *conf)
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
