#include "config.h"
#include "cors.h"
#include "headers.h"
#include "ap_tokens.h" /* issue 6 */

#include "http_log.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apisec);

/* A scope with none of our directives: what create_dir_conf makes. Static,
 * so its padding is zero, as apr_pcalloc's is; the merge compares whole
 * bytes with it. */
static const apisec_dir_conf_t dir_unset = {
    .headers = APISEC_UNSET,
    .cors_credentials = APISEC_UNSET,
    .cors_max_age = APISEC_UNSET,
    .require_tls = APISEC_TLS_UNSET,
    .jwt_leeway = APISEC_UNSET,
    .jwt_max_lifetime = APISEC_UNSET,
    .jwt_max_size = APISEC_UNSET,
    .jwt_forward_headers = APISEC_UNSET,
    .rl_headers = APISEC_UNSET,
    .json = APISEC_UNSET,
    .json_max_body = APISEC_UNSET,
    .json_max_depth = APISEC_UNSET,
    .json_strict = APISEC_UNSET,
    /* Tokens (issue 6) */
    .jwt_revocation = APISEC_UNSET,
};

void *apisec_create_dir_conf(apr_pool_t *p, char *dir)
{
    apisec_dir_conf_t *c = apr_palloc(p, sizeof(*c));

    memcpy(c, &dir_unset, sizeof(*c));
    return c;
}

/* Rules merge by header name: the child's rule for a name replaces the
 * parent's, the parent's other rules stay. */
static apr_array_header_t *merge_rules(apr_pool_t *p,
                                       const apr_array_header_t *base,
                                       const apr_array_header_t *add)
{
    apr_array_header_t *out;
    int i, j;

    if (!base || !add) {
        return (apr_array_header_t *)(add ? add : base);
    }
    out = apr_array_copy(p, add);
    for (i = 0; i < base->nelts; ++i) {
        const apisec_hdr_rule_t *b = &APR_ARRAY_IDX(base, i, apisec_hdr_rule_t);
        for (j = 0; j < add->nelts; ++j) {
            if (!strcasecmp(b->name,
                            APR_ARRAY_IDX(add, j, apisec_hdr_rule_t).name)) {
                break;
            }
        }
        if (j == add->nelts) {
            APR_ARRAY_PUSH(out, apisec_hdr_rule_t) = *b;
        }
    }
    return out;
}

#define MERGE_INT(f) c->f = (add->f != APISEC_UNSET) ? add->f : base->f
#define MERGE_PTR(f) c->f = add->f ? add->f : base->f

void *apisec_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    apisec_dir_conf_t *base = basev, *add = addv;
    apisec_dir_conf_t *c;

    /* httpd makes a section's configuration of a module only when the
     * section holds one of its directives, and merges none otherwise; the
     * main server's defaults are always made. Without directives of ours
     * outside sections, then, every request merges them, untouched, with
     * its first section: that section's configuration is the result, as
     * it is (nothing writes to a configuration once it is parsed). */
    if (!memcmp(base, &dir_unset, sizeof(*base))) {
        return add;
    }
    c = apr_palloc(p, sizeof(*c));

    MERGE_INT(headers);
    c->hdr_rules = merge_rules(p, base->hdr_rules, add->hdr_rules);
    MERGE_PTR(hsts);

    /* The origin list is replaced as a whole, never appended to: a child
     * scope that lists origins means exactly those. */
    if (add->cors_origins) {
        c->cors_origins = add->cors_origins;
        c->cors_any = add->cors_any;
    }
    else {
        c->cors_origins = base->cors_origins;
        c->cors_any = base->cors_any;
    }
    MERGE_INT(cors_credentials);
    MERGE_PTR(cors_methods);
    MERGE_PTR(cors_headers);
    MERGE_PTR(cors_expose);
    MERGE_INT(cors_max_age);

    MERGE_INT(require_tls);
    c->tls_port =
        add->require_tls != APISEC_TLS_UNSET ? add->tls_port : base->tls_port;
    apisec_merge_jwt(p, c, base, add);
    apisec_merge_ratelimit(p, c, base, add);
    apisec_merge_json(c, base, add);
    apisec_merge_users(c, base, add);
    /* Tokens (issue 6) */
    c->jwt_revocation = add->jwt_revocation != APISEC_UNSET
                            ? add->jwt_revocation
                            : base->jwt_revocation;
    return c;
}

void *apisec_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    apisec_srv_conf_t *c = apr_pcalloc(p, sizeof(apisec_srv_conf_t));

    c->jwt_cache = APISEC_UNSET;
    c->store_kind = APISEC_UNSET;
    c->store_failure = APISEC_UNSET;
    return c;
}

void *apisec_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    apisec_srv_conf_t *base = basev, *add = addv;
    apisec_srv_conf_t *c = apr_pcalloc(p, sizeof(*c));

    c->audit_path = add->audit_path ? add->audit_path : base->audit_path;
    c->jwt_cache = add->jwt_cache != APISEC_UNSET ? add->jwt_cache
                                                  : base->jwt_cache;
    apisec_merge_store_srv(c, base, add);
    /* Tokens (issue 6) */
    c->tokens = apisec_tokens_merge(p, base->tokens, add->tokens);
    return c;
}

static const char *fail(cmd_parms *cmd, const char *fmt, const char *what)
{
    return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name,
                        apr_psprintf(cmd->pool, fmt, what));
}

const char *apisec_cmd_headers(cmd_parms *cmd, void *dconf, int on)
{
    ((apisec_dir_conf_t *)dconf)->headers = on;
    return NULL;
}

static void put_rule(apr_pool_t *p, apisec_dir_conf_t *c, const char *name,
                     const char *value, apisec_hdr_action_e action)
{
    apisec_hdr_rule_t *r = NULL;
    int i;

    if (!c->hdr_rules) {
        c->hdr_rules = apr_array_make(p, 4, sizeof(apisec_hdr_rule_t));
    }
    for (i = 0; i < c->hdr_rules->nelts; ++i) {
        if (!strcasecmp(APR_ARRAY_IDX(c->hdr_rules, i, apisec_hdr_rule_t).name,
                        name)) {
            r = &APR_ARRAY_IDX(c->hdr_rules, i, apisec_hdr_rule_t);
        }
    }
    if (!r) {
        r = apr_array_push(c->hdr_rules);
    }
    r->name = name;
    r->value = value;
    r->action = action;
}

const char *apisec_cmd_header(cmd_parms *cmd, void *dconf, const char *name,
                              const char *value)
{
    const char *err;

    if ((err = apisec_headers_check_name(name)) != NULL) {
        return fail(cmd, "%s", err);
    }
    if (!strcasecmp(name, "Strict-Transport-Security")) {
        return fail(cmd, "%s",
                    "use APISecHSTS for Strict-Transport-Security: "
                    "it is sent on HTTPS responses only (RFC 6797)");
    }
    if (!strncasecmp(name, "Access-Control-", 15)
        || !strcasecmp(name, "Vary")) {
        return fail(cmd,
                    "'%s' belongs to CORS: use the APISecCORS* "
                    "directives",
                    name);
    }
    if (!strcasecmp(value, "off")) {
        put_rule(cmd->pool, dconf, name, NULL, APISEC_HDR_LEAVE);
        return NULL;
    }
    if ((err = apisec_headers_check_value(value)) != NULL) {
        return fail(cmd, "%s", err);
    }
    put_rule(cmd->pool, dconf, name, value, APISEC_HDR_SET);
    return NULL;
}

const char *apisec_cmd_csp(cmd_parms *cmd, void *dconf, const char *policy)
{
    const char *err;

    if (!strcasecmp(policy, "off")) {
        put_rule(cmd->pool, dconf, "Content-Security-Policy", NULL,
                 APISEC_HDR_LEAVE);
        return NULL;
    }
    if ((err = apisec_headers_check_value(policy)) != NULL) {
        return fail(cmd, "%s", err);
    }
    if (!*policy) {
        return fail(cmd, "%s",
                    "the policy is empty: write a policy such as "
                    "\"default-src 'none'\", or off");
    }
    put_rule(cmd->pool, dconf, "Content-Security-Policy", policy,
             APISEC_HDR_SET);
    return NULL;
}

const char *apisec_cmd_hsts(cmd_parms *cmd, void *dconf, int argc,
                            char *const argv[])
{
    apisec_dir_conf_t *c = dconf;
    const char *err, *value;

    if (argc == 1 && !strcasecmp(argv[0], "off")) {
        c->hsts = "";
        return NULL;
    }
    if ((err = apisec_headers_hsts_parse(cmd->pool, argc, argv, &value))) {
        return fail(cmd, "%s", err);
    }
    c->hsts = value;
    return NULL;
}

/* '*' with credentials would let every site read authenticated answers; the
 * CORS standard forbids it and browsers refuse it, so it is refused here,
 * whichever of the two directives comes second. */
static const char *check_any_credentials(cmd_parms *cmd, apisec_dir_conf_t *c)
{
    if (c->cors_any && c->cors_credentials == 1) {
        return fail(cmd, "%s",
                    "'*' together with APISecCORSAllowCredentials "
                    "On is unsafe and refused: list the exact origins that "
                    "may send credentials");
    }
    return NULL;
}

const char *apisec_cmd_cors_origin(cmd_parms *cmd, void *dconf, int argc,
                                   char *const argv[])
{
    apisec_dir_conf_t *c = dconf;
    int i;

    if (argc == 0) {
        return fail(cmd, "%s",
                    "list at least one origin, for example "
                    "https://app.example.com");
    }
    c->cors_origins = apr_array_make(cmd->pool, argc, sizeof(const char *));
    c->cors_any = 0;
    for (i = 0; i < argc; ++i) {
        const char *canon, *err;
        if ((err = apisec_cors_origin_parse(cmd->pool, argv[i], &canon))) {
            return apr_psprintf(cmd->pool, "%s: '%s': %s", cmd->cmd->name,
                                argv[i], err);
        }
        if (!strcmp(canon, "*")) {
            c->cors_any = 1;
        }
        else {
            APR_ARRAY_PUSH(c->cors_origins, const char *) = canon;
        }
    }
    if (c->cors_any && c->cors_origins->nelts) {
        return fail(cmd, "%s",
                    "'*' allows every origin: list either '*' or "
                    "exact origins, not both");
    }
    return check_any_credentials(cmd, c);
}

const char *apisec_cmd_cors_credentials(cmd_parms *cmd, void *dconf, int on)
{
    apisec_dir_conf_t *c = dconf;

    c->cors_credentials = on;
    return check_any_credentials(cmd, c);
}

const char *apisec_cmd_cors_list(cmd_parms *cmd, void *dconf, int argc,
                                 char *const argv[])
{
    const char **field = (const char **)((char *)dconf + (apr_size_t)cmd->info);
    const char *err;

    if ((err = apisec_cors_token_list(cmd->pool, argc, argv, field))) {
        return fail(cmd, "%s", err);
    }
    return NULL;
}

const char *apisec_cmd_cors_max_age(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    apr_int64_t v;
    char *end;

    v = apr_strtoi64(arg, &end, 10);
    if (*end || end == arg || v < 0 || v > 86400) {
        return fail(cmd,
                    "'%s' is not a number of seconds from 0 to 86400 "
                    "(browsers cap it lower still)",
                    arg);
    }
    ((apisec_dir_conf_t *)dconf)->cors_max_age = (int)v;
    return NULL;
}

const char *apisec_cmd_require_tls(cmd_parms *cmd, void *dconf,
                                   const char *mode, const char *port)
{
    apisec_dir_conf_t *c = dconf;

    if (!strcasecmp(mode, "redirect")) {
        c->require_tls = APISEC_TLS_REDIRECT;
    }
    else if (!strcasecmp(mode, "reject")) {
        c->require_tls = APISEC_TLS_REJECT;
    }
    else if (!strcasecmp(mode, "off")) {
        c->require_tls = APISEC_TLS_OFF;
    }
    else {
        return fail(cmd, "'%s' is not a mode: write redirect, reject or off",
                    mode);
    }
    c->tls_port = 0;
    if (port) {
        apr_int64_t v;
        char *end;
        if (c->require_tls != APISEC_TLS_REDIRECT
            || strncasecmp(port, "port=", 5)) {
            return fail(cmd, "%s",
                        "only redirect takes a second argument, "
                        "port=N (the HTTPS port, when it is not 443)");
        }
        v = apr_strtoi64(port + 5, &end, 10);
        if (*end || end == port + 5 || v < 1 || v > 65535) {
            return fail(cmd, "'%s' is not a port from 1 to 65535", port + 5);
        }
        c->tls_port = v == 443 ? 0 : (int)v;
    }
    return NULL;
}

const char *apisec_cmd_audit_log(cmd_parms *cmd, void *sconf, const char *path)
{
    apisec_srv_conf_t *c = apisec_srv_conf(cmd->server);

    if (!*path) {
        return fail(cmd, "%s", "give a file path or \"|command\"");
    }
    c->audit_path = path;
    return NULL;
}
