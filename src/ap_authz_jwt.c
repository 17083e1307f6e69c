/* Authorization providers over the verified token's claims:
 *   Require jwt-claim NAME VALUE ...   the claim (a string, or an array of
 *                                      strings) holds one of the values
 *   Require jwt-scope SCOPE ...        every scope is granted, from a
 *                                      space-separated "scope" or a "scp" array
 *   Require jwt-owner                  the first capture of APISecOwnerPattern
 *                                      on the request path is the user
 * They combine with <RequireAll>/<RequireAny> like any httpd provider. */
#include "ap_glue.h"
#include "config.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "mod_auth.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apisec);

typedef struct {
    const char *claim;
    apr_array_header_t *values; /* const char * */
} require_args_t;

static const char *parse_words(cmd_parms *cmd, const char *line, int need,
                               const char *usage, const void **parsed)
{
    require_args_t *a = apr_pcalloc(cmd->pool, sizeof(*a));
    const char *w;

    a->values = apr_array_make(cmd->pool, 4, sizeof(const char *));
    while (*(w = ap_getword_conf(cmd->pool, &line))) {
        APR_ARRAY_PUSH(a->values, const char *) = w;
    }
    if (a->values->nelts < need) {
        return apr_pstrcat(cmd->pool, "Require ", usage, NULL);
    }
    *parsed = a;
    return NULL;
}

static const char *parse_claim(cmd_parms *cmd, const char *line,
                               const void **parsed)
{
    require_args_t *a;
    const char *err = parse_words(cmd, line, 2,
                                  "jwt-claim needs a claim name and at least "
                                  "one value",
                                  parsed);
    int i;

    if (err) {
        return err;
    }
    /* The first word is the claim; the rest are the accepted values. */
    a = (require_args_t *)*parsed;
    a->claim = APR_ARRAY_IDX(a->values, 0, const char *);
    for (i = 1; i < a->values->nelts; ++i) {
        APR_ARRAY_IDX(a->values, i - 1, const char *) =
            APR_ARRAY_IDX(a->values, i, const char *);
    }
    a->values->nelts--;
    return NULL;
}

static const char *parse_scope(cmd_parms *cmd, const char *line,
                               const void **parsed)
{
    return parse_words(cmd, line, 1, "jwt-scope needs at least one scope",
                       parsed);
}

static const char *parse_owner(cmd_parms *cmd, const char *line,
                               const void **parsed)
{
    if (*line) {
        return "Require jwt-owner takes no arguments: the pattern is "
               "APISecOwnerPattern";
    }
    *parsed = NULL;
    return NULL;
}

static int in_list(const apr_array_header_t *list, const char *v)
{
    int i;

    for (i = 0; v && i < list->nelts; ++i) {
        if (!strcmp(APR_ARRAY_IDX(list, i, const char *), v)) {
            return 1;
        }
    }
    return 0;
}

static authz_status deny(request_rec *r, const char *reason)
{
    apisec_authz_denied(
        r, reason, "The token does not grant access to this resource.", NULL);
    return AUTHZ_DENIED;
}

static authz_status check_claim(request_rec *r, const char *line,
                                const void *parsed)
{
    const require_args_t *a = parsed;
    json_t *claims = apisec_request_claims(r), *v;
    size_t i;

    if (!r->user || !claims) {
        return AUTHZ_DENIED_NO_USER;
    }
    v = json_object_get(claims, a->claim);
    if (json_is_string(v) && in_list(a->values, json_string_value(v))) {
        return AUTHZ_GRANTED;
    }
    for (i = 0; json_is_array(v) && i < json_array_size(v); ++i) {
        if (in_list(a->values, json_string_value(json_array_get(v, i)))) {
            return AUTHZ_GRANTED;
        }
    }
    return deny(r, "claim value not accepted");
}

/* Whether SCOPE is among the token's: "scope" (RFC 8693, space-separated)
 * or "scp" (an array, as some providers write it). */
static int has_scope(json_t *claims, const char *scope)
{
    json_t *s = json_object_get(claims, "scope");
    json_t *scp = json_object_get(claims, "scp");
    apr_size_t n = strlen(scope);
    size_t i;

    if (json_is_string(s)) {
        const char *p = json_string_value(s);
        while (*p) {
            const char *end = p;
            while (*end && *end != ' ') {
                ++end;
            }
            if ((apr_size_t)(end - p) == n && !strncmp(p, scope, n)) {
                return 1;
            }
            p = *end ? end + 1 : end;
        }
    }
    if (json_is_string(scp) && !strcmp(json_string_value(scp), scope)) {
        return 1;
    }
    for (i = 0; json_is_array(scp) && i < json_array_size(scp); ++i) {
        const char *v = json_string_value(json_array_get(scp, i));
        if (v && !strcmp(v, scope)) {
            return 1;
        }
    }
    return 0;
}

static authz_status check_scope(request_rec *r, const char *line,
                                const void *parsed)
{
    const require_args_t *a = parsed;
    json_t *claims = apisec_request_claims(r);
    const char *needed;
    int i;

    if (!r->user || !claims) {
        return AUTHZ_DENIED_NO_USER;
    }
    for (i = 0; i < a->values->nelts; ++i) {
        if (!has_scope(claims, APR_ARRAY_IDX(a->values, i, const char *))) {
            break;
        }
    }
    if (i == a->values->nelts) {
        return AUTHZ_GRANTED;
    }
    /* RFC 6750 3.1: 403 insufficient_scope, with the scope needed. */
    needed = apr_array_pstrcat(r->pool, a->values, ' ');
    apisec_authz_denied(
        r, "insufficient scope", "The token lacks a scope this resource needs.",
        apr_psprintf(r->pool,
                     "Bearer realm=\"%s\", "
                     "error=\"insufficient_scope\", scope=\"%s\"",
                     apisec_bearer_realm(r),
                     apisec_quoted_safe(r->pool, needed)));
    return AUTHZ_DENIED;
}

static authz_status check_owner(request_rec *r, const char *line,
                                const void *parsed)
{
    const apisec_dir_conf_t *c = apisec_dir_conf(r);
    ap_regmatch_t m[2];

    if (!r->user) {
        return AUTHZ_DENIED_NO_USER;
    }
    if (!c->owner_pattern) {
        ap_log_rerror(
            APLOG_MARK, APLOG_ERR, 0, r,
            APLOGNO(
                20007) "Require jwt-owner without APISecOwnerPattern: denied, "
                       "request_id %s",
            apisec_request_id(r));
        return deny(r, "no owner pattern configured");
    }
    /* The decoded path: the owner is compared as the user is written. */
    if (ap_regexec(c->owner_pattern, r->uri, 2, m, 0) || m[1].rm_so < 0) {
        return deny(r, "path has no owner");
    }
    if ((apr_size_t)(m[1].rm_eo - m[1].rm_so) != strlen(r->user)
        || strncmp(r->uri + m[1].rm_so, r->user,
                   (apr_size_t)(m[1].rm_eo - m[1].rm_so))) {
        return deny(r, "user is not the owner");
    }
    return AUTHZ_GRANTED;
}

static const authz_provider claim_provider = {check_claim, parse_claim};
static const authz_provider scope_provider = {check_scope, parse_scope};
static const authz_provider owner_provider = {check_owner, parse_owner};

void apisec_register_authz_providers(apr_pool_t *p)
{
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "jwt-claim",
                              AUTHZ_PROVIDER_VERSION, &claim_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "jwt-scope",
                              AUTHZ_PROVIDER_VERSION, &scope_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
    ap_register_auth_provider(p, AUTHZ_PROVIDER_GROUP, "jwt-owner",
                              AUTHZ_PROVIDER_VERSION, &owner_provider,
                              AP_AUTH_INTERNAL_PER_CONF);
}
