/* The user lookup (issue 6): after AuthType JWT has verified a token, the
 * scope's APISecUserQuery runs through mod_dbd with r->user (a prepared
 * statement: the user is a bound parameter, never SQL). The row decides
 * (user_row core): no row, an inactive user or a token older than the
 * user's token_version is a 401 like any refused token; the other columns
 * go to the application as APISEC_USER_*. A database that cannot answer is
 * a 503, never a pass. Rows are reused for APISecUserCacheTTL seconds from
 * a per-process cache (user_cache core). */
#include "ap_glue.h"
#include "config.h"
#include "user_cache.h"
#include "problem.h"
#include "user_row.h"

#include "http_log.h"
#include "http_protocol.h"
#include "apr_dbd.h" /* before mod_dbd.h, which uses its types */
#include "mod_dbd.h"
#include "apr_atomic.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apisec);

#define ROW_KEY "apisec-user-row"
/* What a client is told: which of unknown, inactive or revoked it was is
 * for the audit log, not for whoever holds the token. */
#define REFUSED "the user of this token is not accepted"
#define RETRY_AFTER "5"
#define LOG_INTERVAL_SEC 10

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) * dbd_acquire;
static apisec_user_cache_t *user_cache; /* per process; NULL: none */
static apr_uint32_t log_last;           /* second of the last failure line */
static apr_uint32_t log_suppressed;

typedef enum { LOOKUP_ROW, LOOKUP_NONE, LOOKUP_FAILED } lookup_e;

void apisec_users_child_init(apr_pool_t *pchild, server_rec *s)
{
    apisec_srv_conf_t *c = apisec_srv_conf(s);
    int n = c->user_cache_size ? c->user_cache_size
                               : APISEC_USER_DEFAULT_CACHE_SIZE;

    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    if (apisec_users_cache_wanted()
        && !(user_cache = apisec_user_cache_create(pchild, n))) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     APLOGNO(20400) "user lookup: the row cache could not "
                                    "be made; every lookup asks the database");
    }
}

/* One line per process every LOG_INTERVAL_SEC at most: a database that is
 * down must not write a line per request. WHY is the driver's message,
 * percent-encoded (it may quote the user). */
static void log_failure(request_rec *r, const char *what, const char *why)
{
    apr_uint32_t now = (apr_uint32_t)apr_time_sec(apr_time_now());
    apr_uint32_t last = apr_atomic_read32(&log_last);

    if (last && now - last < LOG_INTERVAL_SEC) {
        apr_atomic_inc32(&log_suppressed);
        return;
    }
    if (apr_atomic_cas32(&log_last, now, last) != last) {
        apr_atomic_inc32(&log_suppressed);
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  APLOGNO(20401) "user lookup: %s (%s): answered 503; %u "
                                 "more such failures not logged; "
                                 "request_id %s",
                  what, why ? apisec_percent_encode(r->pool, why) : "no detail",
                  apr_atomic_xchg32(&log_suppressed, 0), apisec_request_id(r));
}

/* mod_dbd never prepares a statement again on a connection it keeps: after
 * PostgreSQL restarts, libpq reconnects the same connection (PQreset) and
 * the server has forgotten the statement; after a schema change SQLite's
 * statement is stale. When the statement fails, it is prepared once more on
 * this connection (held by this request alone) in a pool of its own, kept
 * with the connection only if that works. */
static apr_dbd_prepared_t *prepare_again(request_rec *r, ap_dbd_t *dbd,
                                         const apisec_user_query_t *q)
{
    apr_allocator_t *a;
    apr_pool_t *p;
    apr_dbd_prepared_t *stmt = NULL;

    if (apr_allocator_create(&a) != APR_SUCCESS) {
        return NULL;
    }
    if (apr_pool_create_ex(&p, dbd->pool, NULL, a) != APR_SUCCESS) {
        apr_allocator_destroy(a);
        return NULL;
    }
    apr_allocator_owner_set(a, p);
    if (apr_dbd_prepare(dbd->driver, p, dbd->handle, q->sql, q->label, &stmt)
        || !stmt) {
        apr_pool_destroy(p);
        return NULL;
    }
    apr_hash_set(dbd->prepared, q->label, APR_HASH_KEY_STRING, stmt);
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  APLOGNO(20402) "user lookup: statement %s prepared again "
                                 "on a %s connection; request_id %s",
                  q->label, apr_dbd_name(dbd->driver), apisec_request_id(r));
    return stmt;
}

static int select_user(request_rec *r, ap_dbd_t *dbd, apr_dbd_prepared_t *st,
                       apr_dbd_results_t **res)
{
    *res = NULL;
    /* random access: the driver reads the whole result and reports any
     * error here, not half-way through the rows. */
    return apr_dbd_pvselect(dbd->driver, r->pool, dbd->handle, res, st, 1,
                            r->user, NULL);
}

static lookup_e read_row(request_rec *r, ap_dbd_t *dbd, apr_dbd_results_t *res,
                         apisec_user_row_t **out)
{
    const apr_dbd_driver_t *drv = dbd->driver;
    apr_dbd_row_t *dbrow = NULL;
    apisec_user_row_t *row;
    int i, n = apr_dbd_num_cols(drv, res);

    /* Rows by number (1-based, random access): MySQL's driver refuses -1
     * ("next") on a random-access result. */
    if (apr_dbd_get_row(drv, r->pool, res, &dbrow, 1) != 0) {
        return LOOKUP_NONE;
    }
    row = apr_palloc(r->pool, sizeof(*row));
    row->ncols = n > 0 ? n : 0;
    row->names = apr_palloc(r->pool, sizeof(char *) * (row->ncols + 1));
    row->values = apr_palloc(r->pool, sizeof(char *) * (row->ncols + 1));
    for (i = 0; i < row->ncols; ++i) {
        const char *name = apr_dbd_get_name(drv, res, i);
        char *v = NULL;
        /* Copies: the PostgreSQL driver frees its result after the last
         * row. datum_get tells NULL from "" (get_entry does not). */
        row->names[i] = apr_pstrdup(r->pool, name ? name : "");
        row->values[i] =
            apr_dbd_datum_get(drv, dbrow, i, APR_DBD_TYPE_STRING, &v)
                        == APR_SUCCESS
                    && v
                ? apr_pstrdup(r->pool, v)
                : NULL;
    }
    if (apr_dbd_get_row(drv, r->pool, res, &dbrow, 2) == 0) {
        /* The query does not name one user: which row would be right? */
        log_failure(r, "the query returned more than one row", NULL);
        return LOOKUP_FAILED;
    }
    *out = row;
    return LOOKUP_ROW;
}

static lookup_e query_row(request_rec *r, const apisec_user_query_t *q,
                          apisec_user_row_t **row)
{
    ap_dbd_t *dbd = dbd_acquire ? dbd_acquire(r) : NULL;
    apr_dbd_prepared_t *st;
    apr_dbd_results_t *res;
    const char *why;
    int rv;

    if (!dbd) {
        log_failure(r, "mod_dbd has no connection to the database", NULL);
        return LOOKUP_FAILED;
    }
    st = apr_hash_get(dbd->prepared, q->label, APR_HASH_KEY_STRING);
    rv = st ? select_user(r, dbd, st, &res) : -1;
    if (rv) {
        why = st ? apr_dbd_error(dbd->driver, dbd->handle, rv)
                 : "statement not prepared on this connection";
        why = apr_pstrdup(r->pool, why ? why : "");
        if (!(st = prepare_again(r, dbd, q)) || select_user(r, dbd, st, &res)) {
            log_failure(r, "the query failed", why);
            return LOOKUP_FAILED;
        }
    }
    return read_row(r, dbd, res, row);
}

/* The same 401 as any refused token (RFC 6750 invalid_token). */
static int refuse(request_rec *r, const char *reason)
{
    apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                   apr_psprintf(r->pool,
                                "Bearer realm=\"%s\", error=\"invalid_token\", "
                                "error_description=\"%s\"",
                                apisec_bearer_realm(r), REFUSED));
    apisec_audit(r, "auth_failed", reason);
    return apisec_send_problem(r, HTTP_UNAUTHORIZED, REFUSED);
}

static int unavailable(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Retry-After", RETRY_AFTER);
    return apisec_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                               "The user database cannot be reached; try "
                               "again later.");
}

static void export_row(request_rec *r, const apisec_user_row_t *row)
{
    int i;

    for (i = 0; i < row->ncols; ++i) {
        char *env;
        if (row->values[i]
            && (env = apisec_user_env_name(r->pool, row->names[i]))) {
            apr_table_setn(r->subprocess_env, env, row->values[i]);
        }
    }
}

int apisec_user_lookup(request_rec *r, json_t *claims)
{
    const apisec_dir_conf_t *c = apisec_dir_conf(r);
    const apisec_user_query_t *q = c->user_query;
    apr_interval_time_t ttl =
        c->user_cache_ttl > 0 ? apr_time_from_sec(c->user_cache_ttl) : 0;
    apisec_user_cache_t *cache = ttl ? user_cache : NULL;
    apisec_user_row_t *row = NULL;
    apisec_user_err_t err;
    apr_time_t now;

    if (!q || !q->label || !r->user) {
        return OK;
    }
    now = apr_time_now();
    if (!cache
        || !apisec_user_cache_get(cache, q, r->server, r->user, now, ttl,
                                  r->pool, &row)) {
        switch (query_row(r, q, &row)) {
        case LOOKUP_FAILED:
            return unavailable(r);
        case LOOKUP_NONE:
            return refuse(r, "unknown user");
        case LOOKUP_ROW:
            break;
        }
        /* Stamped with the time before the query: never fresher than the
         * data can be. */
        if (cache) {
            apisec_user_cache_put(cache, q, r->server, r->user, now, row);
        }
    }
    if ((err = apisec_user_row_check(row, claims)) != APISEC_USER_OK) {
        return refuse(r, apisec_user_strerror(err));
    }
    export_row(r, row);
    apr_pool_userdata_setn(row, ROW_KEY, NULL, r->pool);
    return OK;
}

const apisec_user_row_t *apisec_request_user_row(request_rec *r)
{
    for (; r; r = r->prev ? r->prev : r->main) {
        void *row = NULL;
        if (apr_pool_userdata_get(&row, ROW_KEY, r->pool) == APR_SUCCESS
            && row) {
            return row;
        }
    }
    return NULL;
}
