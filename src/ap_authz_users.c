/* Require apisec-user COLUMN VALUE ...: the row APISecUserQuery returned
 * for the user has COLUMN equal to one of the VALUEs (the column found
 * without regard to case, the value compared exactly; a NULL never
 * matches). Secret columns (password, hash) cannot be named. Combines with
 * <RequireAll>/<RequireAny> like any httpd provider; a refusal is the same
 * 403 problem and authz_denied event as the jwt-* providers'. */
#include "ap_glue.h"
#include "config.h"
#include "user_row.h"

#include "http_log.h"
#include "http_request.h"
#include "mod_auth.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apisec);

typedef struct {
    const char *column;
    apr_array_header_t *values; /* const char * */
} user_require_t;

static const char *parse_user(cmd_parms *cmd, const char *line,
                              const void **parsed)
{
    user_require_t *a = apr_pcalloc(cmd->pool, sizeof(*a));
    const char *w;

    a->column = ap_getword_conf(cmd->pool, &line);
    a->values = apr_array_make(cmd->pool, 4, sizeof(const char *));
    while (*(w = ap_getword_conf(cmd->pool, &line))) {
        APR_ARRAY_PUSH(a->values, const char *) = w;
    }
    if (!*a->column || !a->values->nelts) {
        return "Require apisec-user needs a column name and at least one "
               "value, e.g. Require apisec-user role admin";
    }
    if (apisec_user_column_secret(a->column)) {
        return apr_psprintf(cmd->pool,
                            "Require apisec-user: the column %s holds a "
                            "secret and is never compared",
                            a->column);
    }
    *parsed = a;
    return NULL;
}

static authz_status check_user(request_rec *r, const char *line,
                               const void *parsed)
{
    const user_require_t *a = parsed;
    const apisec_user_row_t *row;
    const char *v;
    int i, found;

    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    if (!(row = apisec_request_user_row(r))) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      APLOGNO(20410) "Require apisec-user without a user "
                                     "row (no APISecUserQuery with AuthType "
                                     "JWT here): denied, request_id %s",
                      apisec_request_id(r));
        apisec_authz_denied(r, "no user row",
                            "The user's account does not grant access to "
                            "this resource.",
                            NULL);
        return AUTHZ_DENIED;
    }
    v = apisec_user_row_value(row, a->column, &found);
    for (i = 0; v && i < a->values->nelts; ++i) {
        if (!strcmp(v, APR_ARRAY_IDX(a->values, i, const char *))) {
            return AUTHZ_GRANTED;
        }
    }
    apisec_authz_denied(r, "user column value not accepted",
                        "The user's account does not grant access to this "
                        "resource.",
                        NULL);
    return AUTHZ_DENIED;
}

static const authz_provider user_provider = {check_user, parse_user};

void apisec_register_user_authz(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "apisec-user",
                              AUTHZ_PROVIDER_VERSION, &user_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}
