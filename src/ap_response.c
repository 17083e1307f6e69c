/* Answers the module makes itself (RFC 9457 problem+json) and audit events. */
#include "ap_glue.h"
#include "audit.h"
#include "config.h"
#include "problem.h"

#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_core.h"
#include "http_main.h"
#include "apr_strings.h"
#include "apr_hash.h"

APLOG_USE_MODULE(apisec);

/* Sends STATUS with a problem body (none for 204) and returns DONE, so the
 * hook that called it ends the request there. Security and CORS headers come
 * from the headers filter, as on every other response. */
int apisec_send_problem(request_rec *r, int status, const char *detail)
{
    return apisec_send_problem_extra(r, status, detail, NULL);
}

/* EXTRA (not consumed) adds extension members, such as the "errors" array of
 * a rejected JSON body. */
int apisec_send_problem_extra(request_rec *r, int status, const char *detail,
                              json_t *extra)
{
    const char *line = ap_get_status_line(status);
    const char *body = NULL;

    /* A body the client already sent is read and dropped, so the connection
     * stays usable; a failure here only means it will be closed. */
    ap_discard_request_body(r);
    r->status = status;
    r->status_line = NULL;
    apisec_insert_headers_filter(r);
    if (status == HTTP_NO_CONTENT) {
        ap_set_content_length(r, 0);
        return DONE;
    }
    if (status >= 400) {
        apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    }
    body = apisec_problem_json(r->pool, status, line ? line + 4 : "Error",
                               detail, apisec_request_id(r), extra);
    if (!body) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    ap_set_content_type(r, APISEC_PROBLEM_CONTENT_TYPE);
    ap_set_content_length(r, strlen(body));
    if (!r->header_only) {
        ap_rputs(body, r);
    }
    return DONE;
}

/* One open file per distinct path, shared by the virtual hosts that name it;
 * "|command" goes through httpd's piped logs, which restart the command if it
 * dies. */
int apisec_open_logs(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                     server_rec *s)
{
    apr_hash_t *open = apr_hash_make(ptemp);
    server_rec *v;

    for (v = s; v; v = v->next) {
        apisec_srv_conf_t *c = apisec_srv_conf(v);
        apr_file_t *f;
        apr_status_t rv;

        if (!c->audit_path) {
            continue;
        }
        if ((f = apr_hash_get(open, c->audit_path, APR_HASH_KEY_STRING))) {
            c->audit_file = f;
            continue;
        }
        if (c->audit_path[0] == '|') {
            piped_log *pl = ap_open_piped_log(pconf, c->audit_path + 1);
            if (!pl) {
                ap_log_error(
                    APLOG_MARK, APLOG_EMERG, 0, s,
                    APLOGNO(20002) "APISecAuditLog: cannot start the piped log "
                                   "command %s",
                    c->audit_path + 1);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            f = ap_piped_log_write_fd(pl);
        }
        else {
            const char *path = ap_server_root_relative(ptemp, c->audit_path);
            rv = apr_file_open(
                &f, path,
                APR_FOPEN_WRITE | APR_FOPEN_CREATE | APR_FOPEN_APPEND
                    | APR_FOPEN_LARGEFILE,
                APR_FPROT_UREAD | APR_FPROT_UWRITE | APR_FPROT_GREAD, pconf);
            if (rv != APR_SUCCESS) {
                ap_log_error(APLOG_MARK, APLOG_EMERG, rv, s,
                             APLOGNO(20003) "APISecAuditLog: cannot open %s",
                             path);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
        c->audit_file = f;
        apr_hash_set(open, c->audit_path, APR_HASH_KEY_STRING, f);
    }
    return OK;
}

void apisec_audit(request_rec *r, const char *event, const char *reason)
{
    apisec_audit_extra(r, event, reason, NULL);
}

/* EXTRA (not consumed) adds members, such as the pointers of a rejected JSON
 * body. */
void apisec_audit_extra(request_rec *r, const char *event, const char *reason,
                        json_t *extra)
{
    apisec_srv_conf_t *c = apisec_srv_conf(r->server);
    apisec_audit_event_t ev;
    apr_size_t len;
    char *line;
    apr_status_t rv;

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                  APLOGNO(20004) "%s: %s, request_id %s", event, reason,
                  apisec_request_id(r));
    if (!c->audit_file) {
        return;
    }
    ev.time = apr_time_now();
    ev.event = event;
    ev.request_id = apisec_request_id(r);
    ev.client = r->useragent_ip;
    ev.host = r->server->server_hostname;
    ev.user = r->user;
    ev.method = r->method;
    ev.path = r->parsed_uri.path;
    ev.reason = reason;
    line = apisec_audit_line(r->pool, &ev, extra, &len);
    if (!line) {
        return;
    }
    /* One write per line: O_APPEND keeps lines from several processes whole. */
    rv = apr_file_write_full(c->audit_file, line, len, NULL);
    if (rv != APR_SUCCESS) {
        ap_log_rerror(
            APLOG_MARK, APLOG_ERR, rv, r,
            APLOGNO(20005) "APISecAuditLog: write failed, request_id %s",
            ev.request_id);
    }
}

#define NOTE_PROBLEM "apisec-problem-detail"
#define NOTE_AUTHZ_REASON "apisec-authz-reason"
#define NOTE_CHALLENGE "apisec-challenge"

void apisec_problem_on_error(request_rec *r, const char *detail)
{
    apr_table_setn(r->notes, NOTE_PROBLEM, detail);
}

void apisec_authz_denied(request_rec *r, const char *reason, const char *detail,
                         const char *challenge)
{
    /* Kept in notes until httpd answers: under <RequireAny> another
     * provider may still grant the request, and then nothing is said. */
    apr_table_setn(r->notes, NOTE_AUTHZ_REASON, reason);
    apr_table_setn(r->notes, NOTE_PROBLEM, detail);
    if (challenge) {
        apr_table_setn(r->notes, NOTE_CHALLENGE, challenge);
    }
}

void apisec_insert_error_filters(request_rec *r)
{
    const char *reason = apr_table_get(r->notes, NOTE_AUTHZ_REASON);
    const char *challenge = apr_table_get(r->notes, NOTE_CHALLENGE);

    if (reason
        && (r->status == HTTP_UNAUTHORIZED || r->status == HTTP_FORBIDDEN)) {
        /* An authenticated user whom a provider of ours refused gets 403
         * (RFC 6750 3.1), whatever AuthzSendForbiddenOnFailure says: asking
         * for other credentials would not help. */
        if (r->user) {
            r->status = HTTP_FORBIDDEN;
        }
        if (challenge) {
            /* insert_error_filter runs before httpd makes err_headers_out
             * the answer's headers. */
            apr_table_setn(r->err_headers_out, "WWW-Authenticate", challenge);
        }
        apisec_audit(r, "authz_denied", reason);
    }
    apisec_insert_headers_filter(r);
    if (apr_table_get(r->notes, NOTE_PROBLEM) && r->status >= 400) {
        ap_add_output_filter(APISEC_PROBLEM_FILTER, NULL, r, r->connection);
    }
}

/* Replaces httpd's HTML error page with the problem: the page's buckets are
 * dropped, the problem goes out before EOS. */
apr_status_t apisec_problem_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    apr_bucket *b;
    int eos = 0;

    if (!f->ctx) {
        f->ctx = f;
        ap_set_content_type(r, APISEC_PROBLEM_CONTENT_TYPE);
        apr_table_unset(r->headers_out, "Content-Length");
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    }
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);) {
        apr_bucket *next = APR_BUCKET_NEXT(b);
        if (APR_BUCKET_IS_EOS(b)) {
            eos = 1;
            break;
        }
        if (!APR_BUCKET_IS_METADATA(b)) {
            apr_bucket_delete(b);
        }
        b = next;
    }
    if (eos) {
        const char *line = ap_get_status_line(r->status);
        const char *body = apisec_problem_json(
            r->pool, r->status, line ? line + 4 : "Error",
            apr_table_get(r->notes, NOTE_PROBLEM), apisec_request_id(r), NULL);
        if (body && !r->header_only) {
            APR_BUCKET_INSERT_BEFORE(
                b, apr_bucket_pool_create(body, strlen(body), r->pool,
                                          f->c->bucket_alloc));
        }
        ap_remove_output_filter(f);
    }
    return ap_pass_brigade(f->next, bb);
}

const char *apisec_quoted_safe(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) + 1), *o = out;

    for (; *s; ++s) {
        if (*s != '"' && *s != '\\' && (unsigned char)*s >= 0x20
            && *s != 0x7f) {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

const char *apisec_bearer_realm(request_rec *r)
{
    const char *name = ap_auth_name(r);

    return name ? apisec_quoted_safe(r->pool, name) : "api";
}
