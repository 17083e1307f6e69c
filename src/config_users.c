/* Directives of the user lookup (issue 6): APISecUserQuery,
 * APISecUserCacheTTL, APISecUserCacheSize.
 *
 * The query is handed to mod_dbd at startup (ap_dbd_prepare, as
 * mod_authn_dbd does): mod_dbd prepares it, under a label of ours, on each
 * connection it opens for the server the directive belongs to. So mod_dbd
 * must be loaded (LoadModule runs while the file is read, before any
 * directive), and the server must have a DBDriver; either missing fails
 * `apachectl -t` at the directive's line. */
#include "config.h"
#include "user_row.h"

#include "http_log.h"
#include "apr_dbd.h" /* before mod_dbd.h, which uses its types */
#include "mod_dbd.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apisec);

static const apisec_user_query_t query_off = {NULL, NULL};
static int label_seq;    /* labels unique within one reading of the config */
static int cache_wanted; /* some scope sets a TTL: make the cache */

static const char *fail(cmd_parms *cmd, const char *msg)
{
    return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, msg);
}

int apisec_users_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp)
{
    cache_wanted = 0;
    return OK;
}

int apisec_users_cache_wanted(void)
{
    return cache_wanted;
}

void apisec_merge_users(apisec_dir_conf_t *c, const apisec_dir_conf_t *base,
                        const apisec_dir_conf_t *add)
{
    c->user_query = add->user_query ? add->user_query : base->user_query;
    c->user_cache_ttl =
        add->user_cache_ttl ? add->user_cache_ttl : base->user_cache_ttl;
}

/* Whether NAME is among the directives from D on (and their children).
 * <VirtualHost> sections are skipped when SKIP_VHOSTS: what they hold is
 * theirs, not the main server's. Conditional sections (<IfModule>,
 * <IfDefine>) that held true are already part of the tree. */
static int has_directive(const ap_directive_t *d, const char *name,
                         int skip_vhosts)
{
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, name)) {
            return 1;
        }
        if (skip_vhosts && !strcasecmp(d->directive, "<VirtualHost")) {
            continue;
        }
        if (d->first_child
            && has_directive(d->first_child, name, skip_vhosts)) {
            return 1;
        }
    }
    return 0;
}

/* mod_dbd's DBDriver for the server of CMD: in the enclosing <VirtualHost>,
 * or at the top level, which every virtual host inherits (mod_dbd merges
 * its server configuration). The whole tree is read before any directive
 * runs, so a DBDriver further down the file counts too. */
static int dbd_configured(cmd_parms *cmd)
{
    const ap_directive_t *v;

    for (v = cmd->directive; v; v = v->parent) {
        if (!strcasecmp(v->directive, "<VirtualHost")) {
            if (has_directive(v->first_child, "DBDriver", 0)) {
                return 1;
            }
            break;
        }
    }
    return has_directive(ap_conftree, "DBDriver", 1);
}

const char *apisec_cmd_user_query(cmd_parms *cmd, void *dconf, const char *sql)
{
    apisec_dir_conf_t *c = dconf;
    APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) * prepare;
    apisec_user_query_t *q;
    const char *why;

    if (!strcasecmp(sql, "off")) {
        c->user_query = &query_off;
        return NULL;
    }
    if ((why = apisec_user_query_check(sql))) {
        return fail(cmd, why);
    }
    prepare = APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    if (!prepare || !APR_RETRIEVE_OPTIONAL_FN(ap_dbd_acquire)) {
        return fail(cmd, "needs mod_dbd (LoadModule dbd_module "
                         ".../mod_dbd.so) and, for this server, DBDriver "
                         "and DBDParams");
    }
    if (!dbd_configured(cmd)) {
        return fail(cmd, "mod_dbd has no database for this server: add "
                         "DBDriver and DBDParams (e.g. DBDriver sqlite3, "
                         "DBDParams /var/lib/apisec/users.db) at the top "
                         "level or in this <VirtualHost>");
    }
    q = apr_palloc(cmd->pool, sizeof(*q));
    q->sql = sql;
    q->label = apr_psprintf(cmd->pool, "apisec_user_%d", ++label_seq);
    prepare(cmd->server, q->sql, q->label);
    c->user_query = q;
    return NULL;
}

const char *apisec_cmd_user_cache_ttl(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    apisec_dir_conf_t *c = dconf;
    apr_int64_t n;
    char *end;

    if (!strcasecmp(arg, "off")) {
        c->user_cache_ttl = -1;
        return NULL;
    }
    n = apr_strtoi64(arg, &end, 10);
    if (*end || end == arg || n < 0 || n > 86400) {
        return fail(cmd, "give seconds from 1 to 86400, or off");
    }
    c->user_cache_ttl = n ? (int)n : -1;
    cache_wanted |= n > 0;
    return NULL;
}

const char *apisec_cmd_user_cache_size(cmd_parms *cmd, void *sconf,
                                       const char *arg)
{
    apisec_srv_conf_t *c = apisec_srv_conf(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    apr_int64_t n;
    char *end;

    if (err) {
        return err;
    }
    n = apr_strtoi64(arg, &end, 10);
    if (*end || end == arg || n < 4 || n > 1000000) {
        return fail(cmd, "give a number of rows from 4 to 1000000");
    }
    c->user_cache_size = (int)n;
    return NULL;
}
