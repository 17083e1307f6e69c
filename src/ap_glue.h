/* The httpd glue of mod_apisec: the functions that mod_apisec.c registers as
 * hooks and filters, and the few helpers the glue files share (request id,
 * problem answers, audit events). Logic worth testing apart from httpd lives
 * in the cores (headers.c, cors.c, problem.c, audit.c). */
#ifndef APISEC_AP_GLUE_H
#define APISEC_AP_GLUE_H

#include "httpd.h"
#include "http_config.h"
#include "util_filter.h"

#define APISEC_HEADERS_FILTER "APISEC_HEADERS"
#define APISEC_PROBLEM_FILTER "APISEC_PROBLEM"

#include <jansson.h>

#include "ratelimit.h"

/* Per-request state, in r->request_config (apisec_req). */
typedef struct {
    json_t *header; /* the verified token's header and claims, or NULL */
    json_t *claims;
    /* ap_ratelimit.c: the most restrictive decision of this request's
     * limits so far (access and fixups), whose fields go out in RL_FMT. */
    const apisec_ratelimit_spec_t *rl_spec;
    apisec_ratelimit_result_t rl_res;
    apisec_ratelimit_headers_e rl_fmt;
} apisec_req_t;

/* ap_request.c */
int apisec_post_read_request(request_rec *r);
/* R's state, made on first use. */
apisec_req_t *apisec_req(request_rec *r);
const char *apisec_request_id(request_rec *r);
int apisec_request_is_https(request_rec *r);

/* ap_access.c: TLS enforcement and CORS preflight, before authentication. */
int apisec_access_checker(request_rec *r);

/* ap_headers.c: security and CORS response headers, and the RateLimit
 * fields, on every response. */
extern ap_filter_rec_t *apisec_headers_filter_handle;
apr_status_t apisec_headers_filter(ap_filter_t *f, apr_bucket_brigade *bb);
void apisec_insert_headers_filter(request_rec *r);
void apisec_headers_apply(request_rec *r);

/* ap_authn_jwt.c: AuthType JWT. */
int apisec_check_user_id(request_rec *r);
void apisec_jwt_child_init(apr_pool_t *pchild, server_rec *s);
json_t *apisec_request_claims(request_rec *r);

/* ap_authz_jwt.c: Require jwt-claim, jwt-scope, jwt-owner. */
void apisec_register_authz_providers(apr_pool_t *p);

/* ap_response.c */
int apisec_send_problem(request_rec *r, int status, const char *detail);
/* For answers httpd itself sends after a hook of ours said no (authz
 * providers cannot send one): the error body becomes a problem with DETAIL. */
void apisec_problem_on_error(request_rec *r, const char *detail);
void apisec_insert_error_filters(request_rec *r);
/* An authorization provider of ours said no: REASON for the audit event,
 * DETAIL for the problem, CHALLENGE (may be NULL) for WWW-Authenticate. */
void apisec_authz_denied(request_rec *r, const char *reason, const char *detail,
                         const char *challenge);
/* AuthType JWT's challenge when httpd notes an authentication failure. */
int apisec_note_auth_failure(request_rec *r, const char *auth_type);
/* S without the characters a quoted-string cannot hold as is. */
const char *apisec_quoted_safe(apr_pool_t *p, const char *s);
/* The realm of Bearer challenges: AuthName, or "api". */
const char *apisec_bearer_realm(request_rec *r);
apr_status_t apisec_problem_filter(ap_filter_t *f, apr_bucket_brigade *bb);
int apisec_open_logs(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                     server_rec *s);
void apisec_audit(request_rec *r, const char *event, const char *reason);

/* Store and rate limits (issue 4). */
#include "store.h"
/* ap_store.c: the store of this process (NULL before child_init, or when
 * it could not be made), its hooks, and paced logging of its failures. */
apisec_store_t *apisec_store_handle(void);
/* This process's rate-limit leases (memcached only; NULL for shm). */
struct apisec_ratelimit_local *apisec_store_local(void);
int apisec_store_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp);
int apisec_store_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s);
void apisec_store_child_init(apr_pool_t *pchild, server_rec *s);
void apisec_store_note_failure(request_rec *r, apr_status_t rv);
/* "ServerName:port" of S, the prefix of its store keys. */
const char *apisec_store_namespace(server_rec *s);
/* ap_ratelimit.c */
int apisec_ratelimit_access(request_rec *r);
int apisec_ratelimit_fixups(request_rec *r);
int apisec_ratelimit_log(request_rec *r);
/* Whether R's answer carries RateLimit fields (or Retry-After), and their
 * writing into r->headers_out, by the headers filter. */
int apisec_ratelimit_has_fields(const request_rec *r);
void apisec_ratelimit_set_fields(request_rec *r);
/* ap_metrics.c: counters shared by every process. */
apr_status_t apisec_metrics_post_config(apr_pool_t *pproc, server_rec *s);
void apisec_metrics_store_op(apr_interval_time_t us, int failed);
void apisec_metrics_store_failure(int closed);
void apisec_metrics_limited(const char *name);
int apisec_metrics_log_due(apr_time_t now, apr_interval_time_t interval,
                           apr_uint64_t *suppressed);
int apisec_metrics_handler(request_rec *r);

/* JSON requests (issue 5). ap_response.c: a problem with extension members
 * and an audit event with extra members (EXTRA not consumed). */
int apisec_send_problem_extra(request_rec *r, int status, const char *detail,
                              json_t *extra);
void apisec_audit_extra(request_rec *r, const char *event, const char *reason,
                        json_t *extra);
/* ap_json.c: body read, checked and handed on in fixups. */
#define APISEC_JSON_FILTER "APISEC_JSON_BODY"
int apisec_json_fixups(request_rec *r);
/* application/json or a +json type, charset utf-8 if any (also for the
 * login handler, issue 6). */
int apisec_json_media_type(apr_pool_t *p, const char *ct);
apr_status_t apisec_json_body_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                     ap_input_mode_t mode,
                                     apr_read_type_e block,
                                     apr_off_t readbytes);

/* Users through mod_dbd (issue 6). ap_users.c: the row of r->user, after
 * AuthType JWT verified the token: OK, or DONE with the 401 or 503 sent. */
int apisec_user_lookup(request_rec *r, json_t *claims);
void apisec_users_child_init(apr_pool_t *pchild, server_rec *s);
/* The row of this request (or of the one it came from), NULL if none. */
const struct apisec_user_row_t *apisec_request_user_row(request_rec *r);
/* ap_authz_users.c: Require apisec-user COLUMN VALUE ... */
void apisec_register_user_authz(apr_pool_t *p);

#endif
