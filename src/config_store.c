/* Directives of the store and of rate limits, and their merge rules.
 *
 * Merge rule of APISecRateLimit: limits accumulate down the tree. A scope
 * enforces its own limits and every limit of the scopes that enclose it, so
 * a tenant's .htaccess (AllowOverride Limit) can add a stricter limit but
 * can neither raise nor remove one the operator set above it. A limit
 * without name= counts per scope (the section's path is part of its
 * identity, so two locations with the same rate keep separate counters); a
 * limit with name= is one budget wherever that exact limit is written. */
#include "config.h"
#include "ratelimit.h"
#include "store_memcached.h"
#include "store_shm.h"

#include "http_log.h"
#include "apr_strings.h"
#include "apr_network_io.h"

APLOG_USE_MODULE(apisec);

static const char *fail(cmd_parms *cmd, const char *msg)
{
    return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", msg, NULL);
}

void apisec_merge_ratelimit(apr_pool_t *p, apisec_dir_conf_t *c,
                            const apisec_dir_conf_t *base,
                            const apisec_dir_conf_t *add)
{
    int i, j;

    c->rl_headers =
        add->rl_headers != APISEC_UNSET ? add->rl_headers : base->rl_headers;
    /* Exemptions are operator-only (no .htaccess): a scope's list replaces
     * its parent's, as an allowlist is expected to. */
    c->rl_exempt = add->rl_exempt ? add->rl_exempt : base->rl_exempt;
    if (!base->rl_limits || !add->rl_limits) {
        c->rl_limits = add->rl_limits ? add->rl_limits : base->rl_limits;
        return;
    }
    c->rl_limits = apr_array_copy(p, base->rl_limits);
    for (i = 0; i < add->rl_limits->nelts; ++i) {
        const apisec_ratelimit_spec_t *a =
            APR_ARRAY_IDX(add->rl_limits, i, const apisec_ratelimit_spec_t *);
        /* The same limit reached twice (one section merged on two paths)
         * must not be counted twice per request. */
        for (j = 0; j < base->rl_limits->nelts; ++j) {
            if (!strcmp(a->id, APR_ARRAY_IDX(base->rl_limits, j,
                                             const apisec_ratelimit_spec_t *)
                                   ->id)) {
                break;
            }
        }
        if (j == base->rl_limits->nelts) {
            APR_ARRAY_PUSH(c->rl_limits, const apisec_ratelimit_spec_t *) = a;
        }
    }
}

void apisec_merge_store_srv(apisec_srv_conf_t *c, const apisec_srv_conf_t *base,
                            const apisec_srv_conf_t *add)
{
    /* APISecStore is global only: virtual hosts see the main server's. */
    c->store_kind = base->store_kind;
    c->shm_size = base->shm_size;
    c->memcached = base->memcached;
    c->store_failure = add->store_failure != APISEC_UNSET ? add->store_failure
                                                          : base->store_failure;
}

const char *apisec_cmd_store(cmd_parms *cmd, void *sconf, int argc,
                             char *const argv[])
{
    apisec_srv_conf_t *c =
        ap_get_module_config(cmd->server->module_config, &apisec_module);
    const char *err;
    int i;

    (void)sconf;
    if ((err = ap_check_cmd_context(cmd, GLOBAL_ONLY)) != NULL) {
        return err;
    }
    if (argc < 1) {
        return fail(cmd, "write shm [size=N] or memcached HOST:PORT ... "
                         "[timeout=MS]");
    }
    if (!strcasecmp(argv[0], "shm")) {
        apr_size_t size = APISEC_STORE_SHM_DEFAULT_SIZE;
        for (i = 1; i < argc; ++i) {
            if (strncasecmp(argv[i], "size=", 5)) {
                return fail(cmd, apr_psprintf(cmd->pool,
                                              "'%s': shm takes only size=N "
                                              "(bytes, or with K, M or G)",
                                              argv[i]));
            }
            if ((err = apisec_store_shm_parse_size(argv[i] + 5, &size))) {
                return fail(cmd, err);
            }
        }
        c->store_kind = APISEC_STORE_KIND_SHM;
        c->shm_size = size;
        return NULL;
    }
    if (!strcasecmp(argv[0], "memcached")) {
        apisec_store_memcached_conf_t *mc = NULL;
        if (argc < 2) {
            return fail(cmd, "memcached needs at least one HOST:PORT, for "
                             "example memcached 127.0.0.1:11211");
        }
        if ((err = apisec_store_memcached_parse(cmd->pool, argc - 1, argv + 1,
                                                &mc))) {
            return fail(cmd, err);
        }
        /* A misspelt host fails `apachectl -t` here, not the first request. */
        if ((err = apisec_store_memcached_resolve(cmd->temp_pool, mc))) {
            return fail(cmd, apr_pstrcat(cmd->pool, err,
                                         ": write a host name this server "
                                         "resolves, or an IP address",
                                         NULL));
        }
        c->store_kind = APISEC_STORE_KIND_MEMCACHED;
        c->memcached = mc;
        return NULL;
    }
    return fail(cmd, apr_psprintf(cmd->pool,
                                  "unknown store '%s': write shm [size=N] or "
                                  "memcached HOST:PORT ... [timeout=MS]",
                                  argv[0]));
}

const char *apisec_cmd_store_failure(cmd_parms *cmd, void *sconf,
                                     const char *arg)
{
    apisec_srv_conf_t *c =
        ap_get_module_config(cmd->server->module_config, &apisec_module);

    (void)sconf;
    if (!strcasecmp(arg, "open")) {
        c->store_failure = 0;
    }
    else if (!strcasecmp(arg, "closed")) {
        c->store_failure = 1;
    }
    else {
        return fail(cmd, "write open (requests pass, the failure is counted) "
                         "or closed (503)");
    }
    return NULL;
}

const char *apisec_cmd_ratelimit(cmd_parms *cmd, void *dconf, int argc,
                                 char *const argv[])
{
    apisec_dir_conf_t *c = dconf;
    apisec_ratelimit_spec_t *spec = NULL;
    const char *err;
    int i, named = 0;

    if ((err = apisec_ratelimit_spec_parse(cmd->pool, argc, argv, &spec))) {
        return fail(cmd, err);
    }
    for (i = 1; i < argc; ++i) {
        named |= !strncasecmp(argv[i], "name=", 5);
    }
    if (!named) {
        apisec_ratelimit_spec_set_id(
            cmd->pool, spec,
            apr_pstrcat(cmd->pool, cmd->path ? cmd->path : "*", ";", spec->id,
                        NULL));
    }
    if (!c->rl_limits) {
        c->rl_limits =
            apr_array_make(cmd->pool, 2, sizeof(apisec_ratelimit_spec_t *));
    }
    for (i = 0; i < c->rl_limits->nelts; ++i) {
        if (!strcmp(
                APR_ARRAY_IDX(c->rl_limits, i, apisec_ratelimit_spec_t *)->id,
                spec->id)) {
            return fail(cmd, "the same limit is already set in this scope: "
                             "give one of them another name=");
        }
    }
    APR_ARRAY_PUSH(c->rl_limits, apisec_ratelimit_spec_t *) = spec;
    return NULL;
}

const char *apisec_cmd_ratelimit_headers(cmd_parms *cmd, void *dconf,
                                         const char *arg)
{
    apisec_ratelimit_headers_e fmt;
    const char *err;

    if ((err = apisec_ratelimit_headers_parse(arg, &fmt))) {
        return fail(cmd, err);
    }
    ((apisec_dir_conf_t *)dconf)->rl_headers = (int)fmt;
    return NULL;
}

const char *apisec_cmd_ratelimit_exempt(cmd_parms *cmd, void *dconf, int argc,
                                        char *const argv[])
{
    apisec_dir_conf_t *c = dconf;
    int i;

    if (argc < 1) {
        return fail(cmd, "list addresses or networks, for example "
                         "10.0.0.0/8 2001:db8::/32");
    }
    c->rl_exempt = apr_array_make(cmd->pool, argc, sizeof(apr_ipsubnet_t *));
    for (i = 0; i < argc; ++i) {
        char *ip = apr_pstrdup(cmd->pool, argv[i]);
        char *mask = strchr(ip, '/');
        apr_ipsubnet_t *sub;
        apr_status_t rv;

        if (mask) {
            *mask++ = '\0';
        }
        rv = apr_ipsubnet_create(&sub, ip, mask, cmd->pool);
        if (rv != APR_SUCCESS) {
            return fail(cmd, apr_psprintf(cmd->pool,
                                          "'%s' is not an address or a "
                                          "network: write 192.0.2.0/24, "
                                          "192.0.2.7 or 2001:db8::/32",
                                          argv[i]));
        }
        APR_ARRAY_PUSH(c->rl_exempt, apr_ipsubnet_t *) = sub;
    }
    return NULL;
}
