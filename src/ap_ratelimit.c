/* Rate limits (APISecRateLimit) over the store, in three phases:
 * - access_checker: limits keyed by client address or header, before
 *   authentication; and for count=failures limits, a look (cost 0) that
 *   refuses a key already over its failure limit;
 * - fixups: limits keyed by user, once authentication has named one;
 * - log_transaction: count=failures limits consume one for each 401/403.
 * The decisions are the core's (ratelimit.c); here are the keys, the
 * answers (429 problem, Retry-After, RateLimit fields of the most
 * restrictive limit on every limited response) and APISecStoreFailure. */
#include "ap_glue.h"
#include "config.h"
#include "ratelimit.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apisec);

typedef enum { PHASE_ACCESS, PHASE_FIXUPS, PHASE_LOG } phase_e;

static int exempt(request_rec *r, const apisec_dir_conf_t *c)
{
    int i;

    if (!c->rl_exempt || !r->useragent_addr) {
        return 0;
    }
    for (i = 0; i < c->rl_exempt->nelts; ++i) {
        if (apr_ipsubnet_test(APR_ARRAY_IDX(c->rl_exempt, i, apr_ipsubnet_t *),
                              r->useragent_addr)) {
            return 1;
        }
    }
    return 0;
}

static const char *client_of(request_rec *r, const apisec_ratelimit_spec_t *s)
{
    switch (s->key) {
    case APISEC_RL_KEY_IP:
        return r->useragent_ip;
    case APISEC_RL_KEY_USER:
        return r->user;
    case APISEC_RL_KEY_HEADER:
        return apr_table_get(r->headers_in, s->header);
    }
    return NULL;
}

static int applies(const apisec_ratelimit_spec_t *s, phase_e phase)
{
    switch (phase) {
    case PHASE_ACCESS:
        return s->key != APISEC_RL_KEY_USER;
    case PHASE_FIXUPS:
        return s->key == APISEC_RL_KEY_USER;
    case PHASE_LOG:
        return s->count == APISEC_RL_COUNT_FAILURES;
    }
    return 0;
}

static int store_failed(request_rec *r, apr_status_t rv, phase_e phase)
{
    const apisec_srv_conf_t *sc = apisec_srv_conf(r->server);
    int closed = sc->store_failure == 1;

    apisec_store_note_failure(r, rv);
    if (phase == PHASE_LOG) {
        return DECLINED;
    }
    apisec_metrics_store_failure(closed);
    if (!closed) {
        return DECLINED;
    }
    apisec_audit(r, "rate_limited",
                 "store unavailable, APISecStoreFailure closed");
    apr_table_setn(r->err_headers_out, "Retry-After", "1");
    return apisec_send_problem(r, HTTP_SERVICE_UNAVAILABLE,
                               "Rate limits cannot be checked now; try again "
                               "later.");
}

static int run_limits(request_rec *r, phase_e phase)
{
    const apisec_dir_conf_t *c = apisec_dir_conf(r);
    const char *ns;
    apisec_store_t *store;
    apisec_req_t *st = NULL;
    apr_size_t nslen;
    int i, rv;

    /* Most scopes have no limit: they pay nothing more than this test. */
    if (!c->rl_limits || exempt(r, c)) {
        return DECLINED;
    }
    ns = apisec_store_namespace(r->server);
    nslen = strlen(ns);
    store = apisec_store_handle();
    for (i = 0; i < c->rl_limits->nelts; ++i) {
        const apisec_ratelimit_spec_t *s =
            APR_ARRAY_IDX(c->rl_limits, i, const apisec_ratelimit_spec_t *);
        apisec_ratelimit_result_t res;
        const char *client, *key;
        apr_size_t klen;
        apr_status_t srv;
        apr_time_t t0;
        unsigned cost;
        int failed;

        if (!applies(s, phase) || !apisec_ratelimit_method_applies(s, r->method)
            || !(client = client_of(r, s)) || !*client) {
            continue;
        }
        key = apisec_ratelimit_key(r->pool, ns, nslen, s, client, &klen);
        cost = phase == PHASE_LOG || s->count == APISEC_RL_COUNT_ALL;
        t0 = apr_time_now();
        srv = store
                  ? apisec_ratelimit_check(r->pool, store, apisec_store_local(),
                                           s, key, klen, 0, cost, &res)
                  : APR_EGENERAL;
        failed = apisec_store_failed(srv);
        apisec_metrics_store_op(apr_time_now() - t0, failed);
        if (failed) {
            if ((rv = store_failed(r, srv, phase)) != DECLINED) {
                return rv;
            }
            continue;
        }
        if (phase == PHASE_LOG) {
            continue;
        }
        if (!st) {
            st = apisec_req(r);
        }
        if (!st->rl_spec
            || apisec_ratelimit_more_restrictive(&res, &st->rl_res)) {
            st->rl_spec = s;
            st->rl_res = res;
        }
        if (!res.allowed) {
            /* The others need not be asked: the request will not pass. */
            break;
        }
    }
    if (!st || !st->rl_spec) {
        return DECLINED;
    }
    /* The fields are written by the headers filter (ap_headers.c), which
     * every answer passes, into the answer's headers once they are final:
     * a proxied backend's, a CGI's, an error page's. There they replace an
     * application's own fields of those names; written now into
     * err_headers_out, they went out beside a backend's. */
    st->rl_fmt = c->rl_headers == APISEC_UNSET
                     ? APISEC_RL_HEADERS_IETF
                     : (apisec_ratelimit_headers_e)c->rl_headers;
    if (st->rl_res.allowed) {
        return DECLINED;
    }
    apisec_metrics_limited(st->rl_spec->name);
    apisec_audit(r, "rate_limited", apr_pstrcat(r->pool, "over the limit ",
                                                st->rl_spec->name, NULL));
    /* The fields, and Retry-After, go out with the problem: it inserts the
     * headers filter. */
    return apisec_send_problem(r, HTTP_TOO_MANY_REQUESTS,
                               "Too many requests: retry after the number of "
                               "seconds in Retry-After.");
}

/* The state that holds R's decision: R's own or, after internal redirects
 * (an ErrorDocument), the first request's, which ran the limits. */
static const apisec_req_t *decided(const request_rec *r)
{
    for (; r; r = r->prev) {
        const apisec_req_t *st =
            ap_get_module_config(r->request_config, &apisec_module);
        if (st && st->rl_spec) {
            return st;
        }
    }
    return NULL;
}

int apisec_ratelimit_has_fields(const request_rec *r)
{
    const apisec_req_t *st = decided(r);

    /* A refusal carries Retry-After even when the fields are off. */
    return st
           && (st->rl_fmt != APISEC_RL_HEADERS_OFF || !st->rl_res.allowed);
}

void apisec_ratelimit_set_fields(request_rec *r)
{
    const apisec_req_t *st = decided(r);

    if (st) {
        apisec_ratelimit_headers(r->pool, st->rl_fmt, st->rl_spec,
                                 &st->rl_res, r->headers_out,
                                 r->err_headers_out);
    }
}

int apisec_ratelimit_access(request_rec *r)
{
    if (!ap_is_initial_req(r)) {
        return DECLINED;
    }
    return run_limits(r, PHASE_ACCESS);
}

int apisec_ratelimit_fixups(request_rec *r)
{
    if (!ap_is_initial_req(r) || !r->user) {
        return DECLINED;
    }
    return run_limits(r, PHASE_FIXUPS);
}

int apisec_ratelimit_log(request_rec *r)
{
    const request_rec *last = r;

    if (r->main) {
        return DECLINED;
    }
    /* After internal redirects the answer is the last request's. */
    while (last->next) {
        last = last->next;
    }
    if (last->status != HTTP_UNAUTHORIZED && last->status != HTTP_FORBIDDEN) {
        return DECLINED;
    }
    run_limits(r, PHASE_LOG);
    return DECLINED;
}
