/* access_checker: TLS enforcement, then CORS preflight. Both answer before
 * authentication: a browser's preflight carries no credentials, and a plain
 * HTTP request must not send them over the wire a second time. */
#include "ap_glue.h"
#include "config.h"
#include "cors.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apisec);

#define DEFAULT_CORS_METHODS "GET, HEAD, PUT, PATCH, POST, DELETE"
#define DEFAULT_CORS_HEADERS "Authorization, Content-Type"

static int require_tls(request_rec *r, const apisec_dir_conf_t *c)
{
    const char *target, *host;

    if (c->require_tls != APISEC_TLS_REDIRECT
        && c->require_tls != APISEC_TLS_REJECT) {
        return DECLINED;
    }
    if (apisec_request_is_https(r)) {
        return DECLINED;
    }
    apisec_audit(r, "tls_required",
                 c->require_tls == APISEC_TLS_REDIRECT
                     ? "plain HTTP redirected to HTTPS"
                     : "plain HTTP refused");
    if (c->require_tls == APISEC_TLS_REJECT) {
        return apisec_send_problem(r, HTTP_FORBIDDEN,
                                   "This resource is only served over HTTPS.");
    }
    /* Path and query exactly as the client sent them (already checked by
     * httpd's request-line parser); an absolute-form target keeps only its
     * path and query. */
    target = r->unparsed_uri;
    if (!target || target[0] != '/') {
        target =
            apr_pstrcat(r->pool, r->parsed_uri.path ? r->parsed_uri.path : "/",
                        r->parsed_uri.query ? "?" : "",
                        r->parsed_uri.query ? r->parsed_uri.query : "", NULL);
    }
    host = ap_get_server_name_for_url(r);
    apr_table_setn(r->err_headers_out, "Location",
                   c->tls_port
                       ? apr_psprintf(r->pool, "https://%s:%d%s", host,
                                      c->tls_port, target)
                       : apr_pstrcat(r->pool, "https://", host, target, NULL));
    return apisec_send_problem(r, HTTP_PERMANENT_REDIRECT,
                               "This resource is only served over HTTPS.");
}

static int cors_configured(const apisec_dir_conf_t *c)
{
    return c->cors_any || (c->cors_origins && c->cors_origins->nelts);
}

static int cors_preflight(request_rec *r, const apisec_dir_conf_t *c)
{
    const char *origin, *acrm;

    if (r->method_number != M_OPTIONS || !cors_configured(c)) {
        return DECLINED;
    }
    origin = apr_table_get(r->headers_in, "Origin");
    acrm = apr_table_get(r->headers_in, "Access-Control-Request-Method");
    if (!origin || !acrm) {
        return DECLINED;
    }
    if (!c->cors_any && !apisec_cors_origin_allowed(c->cors_origins, origin)) {
        apisec_audit(r, "cors_rejected",
                     "preflight from an origin not in "
                     "APISecCORSAllowOrigin");
        return apisec_send_problem(r, HTTP_FORBIDDEN,
                                   "This origin may not use this resource.");
    }
    /* Allow-Origin, credentials and Vary come from the headers filter, the
     * same code that serves actual requests. */
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Methods",
                   c->cors_methods ? c->cors_methods : DEFAULT_CORS_METHODS);
    apr_table_setn(r->err_headers_out, "Access-Control-Allow-Headers",
                   c->cors_headers ? c->cors_headers : DEFAULT_CORS_HEADERS);
    if (c->cors_max_age != APISEC_UNSET) {
        apr_table_setn(r->err_headers_out, "Access-Control-Max-Age",
                       apr_itoa(r->pool, c->cors_max_age));
    }
    return apisec_send_problem(r, HTTP_NO_CONTENT, NULL);
}

int apisec_access_checker(request_rec *r)
{
    const apisec_dir_conf_t *c = apisec_dir_conf(r);
    int rv;

    if (r->main) {
        return DECLINED;
    }
    if ((rv = require_tls(r, c)) != DECLINED) {
        return rv;
    }
    return cors_preflight(r, c);
}
