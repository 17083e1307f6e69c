/* SetHandler apisec-login: POST {"username","password"} checked against
 * APISecLoginQuery through mod_dbd, with bcrypt or argon2id (password.c),
 * per-account lockout in the store, then a token answer (ap_tokens.c).
 *
 * An unknown user, an inactive one and a row whose hash is in no supported
 * format are checked against a dummy hash with the parameters (cost, or
 * m/t/p) of the last real hash this process verified, so each costs what a
 * wrong password costs, and all get the same 401. */
#include "ap_glue.h"
#include "ap_tokens.h"
#include "config.h"
#include "login_body.h"
#include "password.h"
#include "problem.h"
#include "store.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_dbd.h"
#include "apr_strings.h"
#include "apr_thread_mutex.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

APLOG_USE_MODULE(apisec);

static APR_OPTIONAL_FN_TYPE(ap_dbd_acquire) * dbd_acquire;

#define DETAIL_FAILED "The user name or the password is wrong."
#define DETAIL_LOCKED "Too many failed logins for this account; try later."
#define DETAIL_BODY                                                            \
    "The body must be a JSON object with the strings username and password."
#define DETAIL_TYPE "The request body must be JSON (application/json)."
#define DETAIL_SIZE "The request body is larger than this resource accepts."

/* Dummy hashes of this process, by parameters; bounded, never freed. */
#define MAX_DUMMIES 8
/* Before any real hash was seen: bcrypt of the cost frameworks default to. */
#define DEFAULT_TEMPLATE                                                       \
    "$2y$10$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static struct {
    const char *params;
    const char *hash;
} dummies[MAX_DUMMIES];
static int ndummies;
static int last_dummy = -1;
static apr_pool_t *dummy_pool;
#if APR_HAS_THREADS
static apr_thread_mutex_t *dummy_lock;
#endif

void apisec_login_child_init(apr_pool_t *pchild, server_rec *s)
{
    dbd_acquire = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire);
    apr_pool_create(&dummy_pool, pchild);
#if APR_HAS_THREADS
    apr_thread_mutex_create(&dummy_lock, APR_THREAD_MUTEX_DEFAULT, pchild);
#endif
}

/* The dummy for the parameters of TEMPLATE (made on first use, under the
 * lock: once per parameter set and process). NULL TEMPLATE: the dummy of the
 * last real hash seen. When REMEMBER, TEMPLATE becomes the last one seen. */
static const char *dummy_for(request_rec *r, const char *tmpl, int remember)
{
    const char *params, *hash = NULL;
    int i;

#if APR_HAS_THREADS
    apr_thread_mutex_lock(dummy_lock);
#endif
    if (!tmpl && last_dummy >= 0) {
        hash = dummies[last_dummy].hash;
    }
    else {
        if (!tmpl) {
            tmpl = DEFAULT_TEMPLATE;
        }
        params = apisec_password_params(r->pool, tmpl);
        for (i = 0; params && i < ndummies; ++i) {
            if (!strcmp(dummies[i].params, params)) {
                break;
            }
        }
        if (params && i == ndummies) {
            const char *d = apisec_password_dummy(dummy_pool, tmpl);
            i = ndummies < MAX_DUMMIES ? ndummies++ : MAX_DUMMIES - 1;
            if (d) {
                dummies[i].params = apr_pstrdup(dummy_pool, params);
                dummies[i].hash = d;
            }
        }
        if (params && dummies[i].hash) {
            hash = dummies[i].hash;
            if (remember) {
                last_dummy = i;
            }
        }
    }
#if APR_HAS_THREADS
    apr_thread_mutex_unlock(dummy_lock);
#endif
    return hash;
}

static apr_status_t release_json(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

static int truthy(const char *v)
{
    return v && strcmp(v, "0") && strcasecmp(v, "f") && strcasecmp(v, "false")
           && strcasecmp(v, "n") && strcasecmp(v, "no");
}

int apisec_login_lookup(request_rec *r, const apisec_tokens_conf_t *tc,
                        const char *user, apisec_user_row_t *row)
{
    ap_dbd_t *db = dbd_acquire ? dbd_acquire(r) : NULL;
    apr_dbd_prepared_t *st;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *dbrow = NULL;
    int rv, ncols, col, found = 0, bad = 0;

    memset(row, 0, sizeof(*row));
    if (!db) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      APLOGNO(20500) "login: no database connection "
                                     "(mod_dbd), request_id %s",
                      apisec_request_id(r));
        return HTTP_SERVICE_UNAVAILABLE;
    }
    st = apr_hash_get(db->prepared, tc->login_label, APR_HASH_KEY_STRING);
    if (!st) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      APLOGNO(20501) "login: APISecLoginQuery is not "
                                     "prepared on this connection, "
                                     "request_id %s",
                      apisec_request_id(r));
        return HTTP_SERVICE_UNAVAILABLE;
    }
    /* Random access (the whole result at once): with pgsql's sequential
     * mode a failure would only show as "no more rows", i.e. as an unknown
     * user, where it must be a 503. */
    rv = apr_dbd_pvselect(db->driver, r->pool, db->handle, &res, st, 1, user,
                          NULL);
    if (rv && apr_dbd_check_conn(db->driver, r->pool, db->handle) == APR_SUCCESS
        && apr_dbd_prepare(db->driver, db->pool, db->handle, tc->login_query,
                           tc->login_label, &st)
               == 0) {
        /* A connection the driver re-established (pgsql resets a broken
         * one) has lost its prepared statements: prepare ours again, on the
         * connection's own pool as mod_dbd does, and retry once. */
        apr_hash_set(db->prepared, tc->login_label, APR_HASH_KEY_STRING, st);
        res = NULL;
        rv = apr_dbd_pvselect(db->driver, r->pool, db->handle, &res, st, 1,
                              user, NULL);
    }
    if (rv) {
        /* The driver's message names the statement's trouble, never the
         * parameter. */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      APLOGNO(20502) "login: APISecLoginQuery failed: %s, "
                                     "request_id %s",
                      apr_dbd_error(db->driver, db->handle, rv),
                      apisec_request_id(r));
        return HTTP_SERVICE_UNAVAILABLE;
    }
    /* Every row is fetched, so that the driver finishes the statement;
     * only the first counts (the user name is UNIQUE). */
    while (apr_dbd_get_row(db->driver, r->pool, res, &dbrow, -1) == 0) {
        if (found++) {
            continue;
        }
        ncols = apr_dbd_num_cols(db->driver, res);
        if (ncols < 2) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          APLOGNO(20503) "login: APISecLoginQuery must "
                                         "return id and password hash "
                                         "first, request_id %s",
                          apisec_request_id(r));
            bad = 1;
            continue;
        }
        row->id = apr_pstrdup(r->pool, apr_dbd_get_entry(db->driver, dbrow, 0));
        row->hash =
            apr_pstrdup(r->pool, apr_dbd_get_entry(db->driver, dbrow, 1));
        row->claims = json_object();
        for (col = 2; col < ncols; ++col) {
            const char *name = apr_dbd_get_name(db->driver, res, col);
            const char *v = apr_dbd_get_entry(db->driver, dbrow, col);
            int i;
            if (!name) {
                continue;
            }
            if (!strcasecmp(name, "token_version") && v) {
                row->has_ver = 1;
                row->ver = apr_atoi64(v);
            }
            else if (!strcasecmp(name, "active")) {
                row->inactive = !truthy(v);
            }
            for (i = 0; v && tc->claims && i < tc->claims->nelts; ++i) {
                const char *cl = APR_ARRAY_IDX(tc->claims, i, const char *);
                if (!strcasecmp(cl, name) && row->claims) {
                    json_object_set_new(row->claims, cl,
                                        apisec_json_string_safe(r->pool, v));
                }
            }
        }
    }
    if (row->claims) {
        apr_pool_cleanup_register(r->pool, row->claims, release_json,
                                  apr_pool_cleanup_null);
    }
    if (bad) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (!found || !row->id || !*row->id) {
        return HTTP_NOT_FOUND;
    }
    if (!row->hash) {
        row->hash = "";
    }
    return OK;
}

/* Reads at most APISEC_LOGIN_MAX_BODY bytes: OK, 413, or 400. */
static int read_body(request_rec *r, char **buf, apr_size_t *len)
{
    apr_size_t cap = APISEC_LOGIN_MAX_BODY + 1, n = 0;
    long got;
    int rc;

    if ((rc = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK)) != OK) {
        return rc;
    }
    *buf = apr_palloc(r->pool, cap);
    if (ap_should_client_block(r)) {
        while ((got = ap_get_client_block(r, *buf + n, cap - n)) > 0) {
            n += (apr_size_t)got;
            if (n > APISEC_LOGIN_MAX_BODY) {
                r->connection->keepalive = AP_CONN_CLOSE;
                return HTTP_REQUEST_ENTITY_TOO_LARGE;
            }
        }
        if (got < 0) {
            return HTTP_BAD_REQUEST;
        }
    }
    *len = n;
    return OK;
}

static int refuse(request_rec *r, int status, const char *reason,
                  const char *detail)
{
    apisec_audit(r, "body_rejected", reason);
    return apisec_send_problem(r, status, detail);
}

static void audit_user(request_rec *r, const char *event, const char *reason,
                       const char *user)
{
    json_t *extra = json_object();

    if (extra) {
        json_object_set_new(extra, "username",
                            apisec_json_string_safe(r->pool, user));
    }
    apisec_audit_extra(r, event, reason, extra);
    json_decref(extra);
}

static int locked_out(request_rec *r, const apisec_tokens_conf_t *tc,
                      apisec_store_t *store, const char *key, apr_size_t klen,
                      int *status)
{
    unsigned char v[APISEC_STORE_VALUE_MAX + 1];
    apr_size_t vlen = APISEC_STORE_VALUE_MAX;
    apr_status_t rv = apisec_store_get(store, key, klen, v, &vlen, NULL);

    *status = OK;
    if (rv == APISEC_STORE_NOTFOUND) {
        return 0;
    }
    if (rv != APR_SUCCESS) {
        apisec_store_note_failure(r, rv);
        *status = HTTP_SERVICE_UNAVAILABLE;
        return 1;
    }
    v[vlen] = '\0';
    return apr_atoi64((char *)v) >= tc->lockout_n;
}

int apisec_login_handler(request_rec *r)
{
    apisec_tokens_conf_t *tc = apisec_tokens_conf(r->server);
    apisec_store_t *store = apisec_store_handle();
    const char *ct = apr_table_get(r->headers_in, "Content-Type");
    const char *cl = apr_table_get(r->headers_in, "Content-Length");
    const char *user, *password, *err, *hash, *lkey = NULL;
    apr_size_t plen = 0, len = 0, lklen = 0;
    apr_off_t clen;
    apisec_user_row_t row;
    char *buf;
    int rc, ok = 0, status;

    if (r->method_number != M_POST) {
        apr_table_setn(r->err_headers_out, "Allow", "POST");
        return apisec_send_problem(r, HTTP_METHOD_NOT_ALLOWED,
                                   "Log in with POST.");
    }
    if (!tc || !tc->login_label || !tc->signers) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      APLOGNO(20504) "apisec-login needs APISecLoginQuery "
                                     "and APISecTokenSigningKey in this "
                                     "server, request_id %s",
                      apisec_request_id(r));
        return apisec_send_problem(r, HTTP_INTERNAL_SERVER_ERROR,
                                   "Login is not configured.");
    }
    if (!ct || !apisec_json_media_type(r->pool, ct)) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return refuse(r, HTTP_UNSUPPORTED_MEDIA_TYPE, "media_type",
                      DETAIL_TYPE);
    }
    if (cl && ap_parse_strict_length(&clen, cl)
        && clen > APISEC_LOGIN_MAX_BODY) {
        r->connection->keepalive = AP_CONN_CLOSE;
        return refuse(r, HTTP_REQUEST_ENTITY_TOO_LARGE, "too_large",
                      DETAIL_SIZE);
    }
    rc = read_body(r, &buf, &len);
    if (rc == HTTP_REQUEST_ENTITY_TOO_LARGE) {
        return refuse(r, rc, "too_large", DETAIL_SIZE);
    }
    if (rc != OK) {
        return rc;
    }
    if ((err = apisec_login_body_parse(r->pool, buf, len, &user, &password,
                                       &plen))) {
        return refuse(r, HTTP_BAD_REQUEST, err, DETAIL_BODY);
    }
    if (tc->lockout_n) {
        if (!store) {
            return apisec_tokens_unavailable(r);
        }
        lkey = apisec_tokens_key(r, "lk", user, strlen(user), &lklen);
        if (locked_out(r, tc, store, lkey, lklen, &status)) {
            if (status != OK) {
                return apisec_tokens_unavailable(r);
            }
            audit_user(r, "login_failed", "account locked", user);
            apr_table_setn(r->err_headers_out, "Retry-After",
                           apr_itoa(r->pool, tc->lockout_period));
            return apisec_send_problem(r, HTTP_TOO_MANY_REQUESTS,
                                       DETAIL_LOCKED);
        }
    }
    rc = apisec_login_lookup(r, tc, user, &row);
    if (rc == HTTP_SERVICE_UNAVAILABLE) {
        return apisec_tokens_unavailable(r);
    }
    if (rc == OK && apisec_password_params(r->pool, row.hash)) {
        hash = row.hash;
        dummy_for(r, hash, 1); /* the parameters unknown users now cost */
        ok = apisec_password_verify(password, plen, hash) == APISEC_PW_OK
             && !row.inactive;
    }
    else {
        if (rc == OK) {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                          APLOGNO(20505) "login: a user's password hash is "
                                         "neither bcrypt ($2y$/$2b$) nor "
                                         "argon2id, request_id %s",
                          apisec_request_id(r));
        }
        hash = dummy_for(r, NULL, 0);
        if (hash) {
            apisec_password_verify(password, plen, hash);
        }
    }
    if (!ok) {
        if (lkey) {
            apr_uint64_t n = 0;
            apr_status_t rv = apisec_store_incr(
                store, lkey, lklen, 1, 1, (apr_uint32_t)tc->lockout_period, &n);
            if (rv != APR_SUCCESS) {
                apisec_store_note_failure(r, rv);
            }
            else if (n == (apr_uint64_t)tc->lockout_n) {
                audit_user(r, "lockout", "too many failed logins", user);
            }
        }
        audit_user(r, "login_failed", "bad credentials", user);
        return apisec_send_problem(r, HTTP_UNAUTHORIZED, DETAIL_FAILED);
    }
    if (lkey) {
        apisec_store_delete(store, lkey, lklen);
    }
    return apisec_tokens_login_answer(r, tc, user, &row);
}
