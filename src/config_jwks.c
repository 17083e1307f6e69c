/* Directives of remote key sets (issue 8): the URL form of APISecJWTKey,
 * APISecJWTIssuerDiscovery and the server-wide APISecJWKS* settings.
 *
 * A URL is checked when read (https, or http to loopback; no user info).
 * From an .htaccess file (a tenant's) a URL is refused unless the
 * operator's APISecJWKSAllow lists a prefix of it: a tenant must not make
 * the server fetch URLs of its choosing (SSRF). Sources from the server's
 * configuration are registered here and get their shared memory slot in
 * post_config; one URL named in several scopes is one source. */
#include "ap_jwks.h"
#include "config.h"
#include "jwks_remote.h"

#include "http_log.h"
#include "apr_strings.h"
#include "apr_lib.h"

APLOG_USE_MODULE(apisec);

static apisec_jwks_conf_t settings;

apisec_jwks_conf_t *apisec_jwks_conf(void)
{
    return &settings;
}

void apisec_merge_jwks(apisec_dir_conf_t *c, const apisec_dir_conf_t *base,
                       const apisec_dir_conf_t *add)
{
    /* A scope that names keys (a file, a secret or a URL) means exactly
     * those: the other kind is not inherited. */
    if (add->jwt_keys || add->jwt_remote) {
        c->jwt_keys = add->jwt_keys;
        c->jwt_remote = add->jwt_remote;
        c->jwt_keys_cacheable = add->jwt_keys_cacheable;
    }
    else {
        c->jwt_keys = base->jwt_keys;
        c->jwt_remote = base->jwt_remote;
        c->jwt_keys_cacheable = base->jwt_keys_cacheable;
    }
}

static int from_htaccess(cmd_parms *cmd)
{
    return (cmd->override & (ACCESS_CONF | RSRC_CONF)) == 0;
}

static const char *where(cmd_parms *cmd)
{
    /* The directive's own line: an .htaccess file is read whole before its
     * directives run, so config_file is at its end by then. */
    return cmd->directive ? apr_psprintf(cmd->pool, " (%s, line %d)",
                                         cmd->directive->filename,
                                         cmd->directive->line_num)
                          : "";
}

static const char *register_src(cmd_parms *cmd, apisec_dir_conf_t *c,
                                const char *key, int discovery)
{
    apisec_jwks_src_t *src = NULL;
    int i;

    if (c->jwt_remote) {
        return apr_psprintf(cmd->pool,
                            "%s: this scope already takes its keys from %s: "
                            "one provider per scope",
                            cmd->cmd->name, c->jwt_remote->key);
    }
    if (c->jwt_keys) {
        return apr_psprintf(cmd->pool,
                            "%s: this scope already has keys from files or "
                            "secrets: a scope takes its keys from files or "
                            "from one provider, not both",
                            cmd->cmd->name);
    }
    if (from_htaccess(cmd)) {
        const apr_array_header_t *allow = settings.allow;
        int ok = 0;
        for (i = 0; allow && !ok && i < allow->nelts; ++i) {
            ok = apisec_jwks_url_allowed(key,
                                         APR_ARRAY_IDX(allow, i, const char *));
        }
        if (!ok) {
            return apr_psprintf(cmd->pool,
                                "%s: keys from a URL are not allowed in "
                                ".htaccess files%s: the server would fetch "
                                "what a tenant names; the administrator "
                                "may permit a provider with APISecJWKSAllow",
                                cmd->cmd->name, where(cmd));
        }
        src = apr_pcalloc(cmd->pool, sizeof(*src));
        src->key = key;
        src->discovery = discovery;
        src->slot = -1;
    }
    else {
        for (i = 0; i < settings.srcs->nelts; ++i) {
            apisec_jwks_src_t *s =
                APR_ARRAY_IDX(settings.srcs, i, apisec_jwks_src_t *);
            if (s->discovery == discovery && !strcmp(s->key, key)) {
                src = s;
            }
        }
        if (!src) {
            src = apr_pcalloc(cmd->pool, sizeof(*src));
            src->key = apr_pstrdup(cmd->pool, key);
            src->discovery = discovery;
            src->slot = -1;
            APR_ARRAY_PUSH(settings.srcs, apisec_jwks_src_t *) = src;
        }
    }
    c->jwt_remote = src;
    /* The token cache keys on the identity of each fetched generation,
     * unique for the life of a process: safe for .htaccess scopes too. */
    c->jwt_keys_cacheable = 1;
    return NULL;
}

const char *apisec_jwks_cmd_key_url(cmd_parms *cmd, void *dconf,
                                    const char *kid, const char *url)
{
    const char *err;

    if (kid) {
        return apr_psprintf(cmd->pool,
                            "%s: kid= is for PEM keys: a provider's keys "
                            "carry their own kid",
                            cmd->cmd->name);
    }
    if ((err = apisec_jwks_url_check(url))) {
        return apr_psprintf(cmd->pool, "%s: %s: %s", cmd->cmd->name,
                            ap_escape_logitem(cmd->pool, url), err);
    }
    return register_src(cmd, dconf, url, 0);
}

const char *apisec_cmd_jwt_discovery(cmd_parms *cmd, void *dconf, int on)
{
    apisec_dir_conf_t *c = dconf;
    const char *issuer, *oidc, *oauth, *err;

    if (!on) {
        return NULL;
    }
    if (!c->jwt_issuers || c->jwt_issuers->nelts != 1) {
        return apr_psprintf(cmd->pool,
                            "%s: write exactly one APISecJWTIssuer before "
                            "this directive, in the same section: discovery "
                            "starts from it",
                            cmd->cmd->name);
    }
    issuer = APR_ARRAY_IDX(c->jwt_issuers, 0, const char *);
    if ((err = apisec_jwks_discovery_urls(cmd->pool, issuer, &oidc, &oauth))) {
        return apr_psprintf(cmd->pool, "%s: the issuer %s: %s", cmd->cmd->name,
                            ap_escape_logitem(cmd->pool, issuer), err);
    }
    return register_src(cmd, c, issuer, 1);
}

/* A duration: a number with ms, s, m, h or d (bare: seconds). */
static int duration(const char *arg, apr_interval_time_t *out)
{
    char *end;
    apr_int64_t v = apr_strtoi64(arg, &end, 10), unit = APR_USEC_PER_SEC;

    if (end == arg || v < 0) {
        return 0;
    }
    if (!strcmp(end, "ms")) {
        unit = 1000;
    }
    else if (!*end || !strcmp(end, "s")) {
        unit = APR_USEC_PER_SEC;
    }
    else if (!strcmp(end, "m")) {
        unit = 60 * APR_USEC_PER_SEC;
    }
    else if (!strcmp(end, "h")) {
        unit = 3600 * APR_USEC_PER_SEC;
    }
    else if (!strcmp(end, "d")) {
        unit = 86400 * APR_USEC_PER_SEC;
    }
    else {
        return 0;
    }
    if (v > 400LL * 86400 * 1000) {
        return 0;
    }
    *out = v * unit;
    return 1;
}

const char *apisec_cmd_jwks_refresh(cmd_parms *cmd, void *dconf,
                                    const char *min, const char *max)
{
    apr_interval_time_t a, b;
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    if (!duration(min, &a) || !duration(max, &b) || a < apr_time_from_sec(1)
        || b < a || b > apr_time_from_sec(30 * 86400)) {
        return apr_psprintf(cmd->pool,
                            "%s: write MIN MAX as durations (s, m, h, d), "
                            "1s <= MIN <= MAX <= 30d, for example 5m 24h",
                            cmd->cmd->name);
    }
    settings.refresh_min = a;
    settings.refresh_max = b;
    return NULL;
}

/* APISecJWKSTimeout, APISecJWKSMinRefetch, APISecJWKSMaxStale: cmd->info
 * is 0, 1 or 2. */
const char *apisec_cmd_jwks_time(cmd_parms *cmd, void *dconf, const char *arg)
{
    static const struct {
        apr_size_t off;
        apr_interval_time_t lo, hi;
        const char *hint;
    } f[] = {
        {APR_OFFSETOF(apisec_jwks_conf_t, timeout), 100000,
         60 * APR_USEC_PER_SEC, "from 100ms to 60s, for example 3s"},
        {APR_OFFSETOF(apisec_jwks_conf_t, min_refetch), APR_USEC_PER_SEC,
         86400 * APR_USEC_PER_SEC, "from 1s to 1d, for example 60s"},
        {APR_OFFSETOF(apisec_jwks_conf_t, max_stale), APR_USEC_PER_SEC,
         30 * 86400 * APR_USEC_PER_SEC, "from 1s to 30d, for example 24h"},
    };
    int which = (int)(apr_size_t)cmd->info;
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_interval_time_t v;

    if (err) {
        return err;
    }
    if (!duration(arg, &v) || v < f[which].lo || v > f[which].hi) {
        return apr_psprintf(cmd->pool, "%s: give a duration %s", cmd->cmd->name,
                            f[which].hint);
    }
    *(apr_interval_time_t *)((char *)&settings + f[which].off) = v;
    return NULL;
}

const char *apisec_cmd_jwks_ca(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY), *path;
    apr_finfo_t fi;

    if (err) {
        return err;
    }
    path = ap_server_root_relative(cmd->pool, arg);
    if (!path
        || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->temp_pool) != APR_SUCCESS
        || fi.filetype != APR_REG) {
        return apr_psprintf(cmd->pool,
                            "%s: %s is not a readable file of PEM "
                            "certificates",
                            cmd->cmd->name, arg);
    }
    settings.ca = path;
    return NULL;
}

const char *apisec_cmd_jwks_allow(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err) {
        return err;
    }
    if ((err = apisec_jwks_url_check(arg))) {
        return apr_psprintf(cmd->pool, "%s: %s: %s", cmd->cmd->name,
                            ap_escape_logitem(cmd->pool, arg), err);
    }
    if (!strchr(strchr(arg, ':') + 3, '/')) {
        return apr_psprintf(cmd->pool,
                            "%s: %s: give at least scheme://host/, so the "
                            "prefix cannot match another host",
                            cmd->cmd->name, arg);
    }
    if (!settings.allow) {
        settings.allow = apr_array_make(cmd->pool, 2, sizeof(const char *));
    }
    APR_ARRAY_PUSH(settings.allow, const char *) = arg;
    return NULL;
}
