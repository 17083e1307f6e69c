/* Security and CORS response headers. They are set by an output filter that
 * runs on the first brigade of every response, normal or error, whichever
 * handler made it (static, CGI, proxy, the module's own answers), so that
 * headers the application wrote are already there to be replaced. */
#include "ap_glue.h"
#include "config.h"
#include "cors.h"
#include "headers.h"

#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apisec);

ap_filter_rec_t *apisec_headers_filter_handle;

/* The filter runs when the status is final: on an error response httpd has
 * already moved err_headers_out into headers_out, so headers_out is what goes
 * out either way. Setting there (not in err_headers_out) replaces what the
 * application sent and spares httpd merging the two tables per response. */
static void set_header(request_rec *r, const char *name, const char *value)
{
    apr_table_unset(r->err_headers_out, name);
    apr_table_setn(r->headers_out, name, value);
}

static void remove_header(request_rec *r, const char *name)
{
    apr_table_unset(r->headers_out, name);
    apr_table_unset(r->err_headers_out, name);
}

static const apisec_hdr_rule_t *find_rule(const apr_array_header_t *rules,
                                          const char *name)
{
    int i;

    for (i = 0; rules && i < rules->nelts; ++i) {
        const apisec_hdr_rule_t *rule =
            &APR_ARRAY_IDX(rules, i, apisec_hdr_rule_t);
        if (!strcasecmp(rule->name, name)) {
            return rule;
        }
    }
    return NULL;
}

static void apply_rule(request_rec *r, const char *name, const char *value,
                       apisec_hdr_action_e action)
{
    if (action == APISEC_HDR_SET) {
        set_header(r, name, value);
    }
    else if (action == APISEC_HDR_REMOVE) {
        remove_header(r, name);
    }
}

static void apply_security(request_rec *r, const apisec_dir_conf_t *c)
{
    const apisec_header_t *defaults;
    const char *hsts = NULL;
    int i, n;

    if (c->headers == 0) {
        return; /* APISecHeaders Off: nothing at all */
    }
    if (c->headers == 1) {
        defaults = apisec_headers_defaults(&n);
        for (i = 0; i < n; ++i) {
            if (!find_rule(c->hdr_rules, defaults[i].name)) {
                set_header(r, defaults[i].name, defaults[i].value);
            }
        }
        /* helmet removes X-Powered-By (PHP's version banner). */
        if (!find_rule(c->hdr_rules, "X-Powered-By")) {
            remove_header(r, "X-Powered-By");
        }
        hsts = apisec_headers_hsts_default();
    }
    for (i = 0; c->hdr_rules && i < c->hdr_rules->nelts; ++i) {
        const apisec_hdr_rule_t *rule =
            &APR_ARRAY_IDX(c->hdr_rules, i, apisec_hdr_rule_t);
        apply_rule(r, rule->name, rule->value, rule->action);
    }
    if (c->hsts) {
        hsts = *c->hsts ? c->hsts : NULL;
    }
    /* RFC 6797 section 7.2: never over plain HTTP. */
    if (hsts && apisec_request_is_https(r)) {
        set_header(r, "Strict-Transport-Security", hsts);
    }
}

static void add_vary_origin(request_rec *r)
{
    const char *vary = apr_table_get(r->headers_out, "Vary");
    const char *evary = apr_table_get(r->err_headers_out, "Vary");

    if ((vary && ap_find_token(r->pool, vary, "Origin"))
        || (evary && ap_find_token(r->pool, evary, "Origin"))) {
        return;
    }
    apr_table_mergen(r->headers_out, "Vary", "Origin");
}

static void apply_cors(request_rec *r, const apisec_dir_conf_t *c)
{
    const char *origin;
    int allowed;

    if (!c->cors_any && !(c->cors_origins && c->cors_origins->nelts)) {
        return;
    }
    /* The module is the one place that decides: a backend that reflects
     * every Origin must not undo the allowlist. */
    remove_header(r, "Access-Control-Allow-Origin");
    remove_header(r, "Access-Control-Allow-Credentials");
    remove_header(r, "Access-Control-Expose-Headers");
    add_vary_origin(r);
    origin = apr_table_get(r->headers_in, "Origin");
    if (!origin) {
        return;
    }
    allowed =
        c->cors_any || apisec_cors_origin_allowed(c->cors_origins, origin);
    if (!allowed) {
        return;
    }
    if (c->cors_any) {
        set_header(r, "Access-Control-Allow-Origin", "*");
    }
    else {
        set_header(r, "Access-Control-Allow-Origin", origin);
        if (c->cors_credentials == 1) {
            set_header(r, "Access-Control-Allow-Credentials", "true");
        }
    }
    if (c->cors_expose) {
        set_header(r, "Access-Control-Expose-Headers", c->cors_expose);
    }
}

void apisec_headers_apply(request_rec *r)
{
    const apisec_dir_conf_t *c = apisec_dir_conf(r);

    apply_security(r, c);
    apply_cors(r, c);
}

apr_status_t apisec_headers_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    apisec_headers_apply(f->r);
    apisec_ratelimit_set_fields(f->r);
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

static int needs_filter(const apisec_dir_conf_t *c)
{
    return c->headers == 1 || c->hdr_rules || (c->hsts && *c->hsts)
           || c->cors_any || (c->cors_origins && c->cors_origins->nelts);
}

/* Called from insert_filter, insert_error_filter and before the module's own
 * answers; inserts the filter once per request. */
void apisec_insert_headers_filter(request_rec *r)
{
    ap_filter_t *f;

    if (r->main
        || (!needs_filter(apisec_dir_conf(r))
            && !apisec_ratelimit_has_fields(r))) {
        return;
    }
    for (f = r->output_filters; f; f = f->next) {
        if (f->frec == apisec_headers_filter_handle) {
            return;
        }
    }
    ap_add_output_filter_handle(apisec_headers_filter_handle, NULL, r,
                                r->connection);
}
