/* Configuration of mod_apisec: the per-directory and per-server records, their
 * create/merge functions and the directive handlers. Every field has an
 * explicit "unset" value so that a child scope inherits what it does not set
 * (httpd's usual merge), and every check that can be made at startup is made
 * here, failing with the directive's name (httpd adds file and line). */
#ifndef APISEC_CONFIG_H
#define APISEC_CONFIG_H

#include "httpd.h"
#include "http_config.h"
#include "apr_tables.h"
#include "apr_file_io.h"
#include "ap_regex.h"

#include "jwk.h"
#include "ratelimit.h"
#include "store_memcached.h"

#define APISEC_UNSET (-1)
#define APISEC_JWT_DEFAULT_MAX_SIZE 8192
#define APISEC_JWT_DEFAULT_CACHE 4096

typedef enum {
    APISEC_TLS_UNSET = -1,
    APISEC_TLS_OFF = 0,
    APISEC_TLS_REDIRECT,
    APISEC_TLS_REJECT
} apisec_tls_mode_e;

/* What the module does with one response header. */
typedef enum {
    APISEC_HDR_SET,    /* set it, replacing what the application sent */
    APISEC_HDR_REMOVE, /* remove what the application sent */
    APISEC_HDR_LEAVE   /* `off`: neither set nor remove */
} apisec_hdr_action_e;

typedef struct {
    const char *name;
    const char *value;
    apisec_hdr_action_e action;
} apisec_hdr_rule_t;

typedef struct {
    int headers;                   /* APISecHeaders: UNSET, 0, 1 */
    apr_array_header_t *hdr_rules; /* apisec_hdr_rule_t, one per name */
    const char *hsts;              /* NULL unset, "" off, else the value */

    apr_array_header_t *cors_origins; /* NULL unset; canonical origins */
    int cors_any;                     /* "*" listed */
    int cors_credentials;             /* UNSET, 0, 1 */
    const char *cors_methods;
    const char *cors_headers;
    const char *cors_expose;
    int cors_max_age; /* UNSET or seconds */

    int require_tls; /* apisec_tls_mode_e */
    int tls_port;    /* port for the redirect, 0: default */

    /* JWT (AuthType JWT) */
    apisec_jwk_set_t *jwt_keys;    /* APISecJWTKey/APISecJWTSecret, NULL unset */
    int jwt_keys_cacheable;        /* keys from the server's configuration,
                                      not from an .htaccess (whose key sets
                                      live for one request only) */
    unsigned jwt_algs;             /* mask of allowed algorithms, 0 unset */
    apr_array_header_t *jwt_issuers;   /* const char *, NULL unset */
    apr_array_header_t *jwt_audiences; /* const char *, NULL unset */
    const char *jwt_type;          /* NULL unset, "" no check */
    int jwt_leeway;                /* UNSET or seconds */
    int jwt_max_lifetime;          /* UNSET, 0 no limit, or seconds */
    apr_array_header_t *jwt_required;  /* const char *, NULL unset */
    const char *jwt_cookie;        /* NULL unset, "" none */
    int jwt_max_size;              /* UNSET or bytes */
    const char *jwt_user_claim;    /* NULL unset */
    apr_array_header_t *jwt_forward;   /* claim names, NULL unset */
    int jwt_forward_headers;       /* UNSET, 0, 1 */
    ap_regex_t *owner_pattern;     /* APISecOwnerPattern, NULL unset */

    /* Rate limits (issue 4): config_store.c, ap_ratelimit.c */
    apr_array_header_t *rl_limits; /* apisec_ratelimit_spec_t *, NULL unset */
    int rl_headers;                /* apisec_ratelimit_headers_e or UNSET */
    apr_array_header_t *rl_exempt; /* apr_ipsubnet_t *, NULL unset */

    /* JSON requests (issue 5): config_json.c, ap_json.c */
    int json;                       /* APISecJSON: UNSET, 0, 1 */
    apr_off_t json_max_body;        /* APISecJSONMaxBody: UNSET or bytes */
    int json_max_depth;             /* APISecJSONMaxDepth: UNSET or N */
    apr_array_header_t *json_schemas; /* schema rules, NULL unset */
    int json_strict;                /* APISecJSONStrict: UNSET, 0, 1 */

    /* Users through mod_dbd (issue 6): config_users.c, ap_users.c */
    const struct apisec_user_query_t *user_query; /* APISecUserQuery, NULL
                                                     unset */
    int user_cache_ttl; /* APISecUserCacheTTL: 0 unset, -1 off, seconds */
    /* Remote key sets (issue 8): config_jwks.c, ap_jwks.c */
    struct apisec_jwks_src_t *jwt_remote; /* APISecJWTKey https://... or
                                             APISecJWTIssuerDiscovery On */
} apisec_dir_conf_t;

typedef struct {
    const char *audit_path; /* APISecAuditLog, NULL unset */
    apr_file_t *audit_file; /* opened in open_logs */
    int jwt_cache;          /* APISecJWTCache: UNSET, 0 off, entries */

    /* Store and rate limits (issue 4): config_store.c, ap_store.c */
    int store_kind;         /* APISEC_STORE_KIND_* or UNSET (shm) */
    apr_size_t shm_size;    /* APISecStore shm size=, 0 unset */
    apisec_store_memcached_conf_t *memcached; /* APISecStore memcached */
    int store_failure;      /* APISecStoreFailure: UNSET, 0 open, 1 closed */

    /* Users through mod_dbd (issue 6): config_users.c */
    int user_cache_size;    /* APISecUserCacheSize (main server): 0 unset */
} apisec_srv_conf_t;

extern module AP_MODULE_DECLARE_DATA apisec_module;

void *apisec_create_dir_conf(apr_pool_t *p, char *dir);
void *apisec_merge_dir_conf(apr_pool_t *p, void *basev, void *addv);
void *apisec_create_srv_conf(apr_pool_t *p, server_rec *s);
void *apisec_merge_srv_conf(apr_pool_t *p, void *basev, void *addv);

const char *apisec_cmd_headers(cmd_parms *cmd, void *dconf, int on);
const char *apisec_cmd_header(cmd_parms *cmd, void *dconf, const char *name,
                              const char *value);
const char *apisec_cmd_csp(cmd_parms *cmd, void *dconf, const char *policy);
const char *apisec_cmd_hsts(cmd_parms *cmd, void *dconf, int argc,
                            char *const argv[]);
const char *apisec_cmd_cors_origin(cmd_parms *cmd, void *dconf, int argc,
                                   char *const argv[]);
const char *apisec_cmd_cors_credentials(cmd_parms *cmd, void *dconf, int on);
const char *apisec_cmd_cors_list(cmd_parms *cmd, void *dconf, int argc,
                                 char *const argv[]);
const char *apisec_cmd_cors_max_age(cmd_parms *cmd, void *dconf,
                                    const char *arg);
const char *apisec_cmd_require_tls(cmd_parms *cmd, void *dconf,
                                   const char *mode, const char *port);
const char *apisec_cmd_audit_log(cmd_parms *cmd, void *sconf, const char *path);

/* config_jwt.c */
int apisec_check_jwt_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s);
void apisec_merge_jwt(apr_pool_t *p, apisec_dir_conf_t *c,
                      const apisec_dir_conf_t *base,
                      const apisec_dir_conf_t *add);
const char *apisec_cmd_jwt_key(cmd_parms *cmd, void *dconf, int argc,
                               char *const argv[]);
const char *apisec_cmd_jwt_secret(cmd_parms *cmd, void *dconf, int argc,
                                  char *const argv[]);
const char *apisec_cmd_jwt_algorithms(cmd_parms *cmd, void *dconf, int argc,
                                      char *const argv[]);
const char *apisec_cmd_jwt_list(cmd_parms *cmd, void *dconf, int argc,
                                char *const argv[]);
const char *apisec_cmd_jwt_type(cmd_parms *cmd, void *dconf, const char *arg);
const char *apisec_cmd_jwt_seconds(cmd_parms *cmd, void *dconf,
                                   const char *arg);
const char *apisec_cmd_jwt_cookie(cmd_parms *cmd, void *dconf,
                                  const char *arg);
const char *apisec_cmd_jwt_max_size(cmd_parms *cmd, void *dconf,
                                    const char *arg);
const char *apisec_cmd_jwt_user_claim(cmd_parms *cmd, void *dconf,
                                      const char *arg);
const char *apisec_cmd_jwt_forward_headers(cmd_parms *cmd, void *dconf,
                                           int on);
const char *apisec_cmd_jwt_cache(cmd_parms *cmd, void *sconf,
                                 const char *arg);
const char *apisec_cmd_owner_pattern(cmd_parms *cmd, void *dconf,
                                     const char *arg);

/* config_store.c: APISecStore, APISecStoreFailure, APISecRateLimit* */
#define APISEC_STORE_KIND_SHM 1
#define APISEC_STORE_KIND_MEMCACHED 2
void apisec_merge_ratelimit(apr_pool_t *p, apisec_dir_conf_t *c,
                            const apisec_dir_conf_t *base,
                            const apisec_dir_conf_t *add);
void apisec_merge_store_srv(apisec_srv_conf_t *c, const apisec_srv_conf_t *base,
                            const apisec_srv_conf_t *add);
const char *apisec_cmd_store(cmd_parms *cmd, void *sconf, int argc,
                             char *const argv[]);
const char *apisec_cmd_store_failure(cmd_parms *cmd, void *sconf,
                                     const char *arg);
const char *apisec_cmd_ratelimit(cmd_parms *cmd, void *dconf, int argc,
                                 char *const argv[]);
const char *apisec_cmd_ratelimit_headers(cmd_parms *cmd, void *dconf,
                                         const char *arg);
const char *apisec_cmd_ratelimit_exempt(cmd_parms *cmd, void *dconf, int argc,
                                        char *const argv[]);

/* config_json.c: APISecJSON* (issue 5) */
#include "json_schema.h"
#define APISEC_JSON_DEFAULT_MAX_BODY 10240
typedef struct {
    apr_int64_t methods;      /* AP_METHOD_BIT << M_*; 0: every method */
    apisec_schema_t *schema;  /* compiled at startup */
    const char *path;
} apisec_json_schema_rule_t;
void apisec_merge_json(apisec_dir_conf_t *c, const apisec_dir_conf_t *base,
                       const apisec_dir_conf_t *add);
const char *apisec_cmd_json(cmd_parms *cmd, void *dconf, int on);
const char *apisec_cmd_json_strict(cmd_parms *cmd, void *dconf, int on);
const char *apisec_cmd_json_max_body(cmd_parms *cmd, void *dconf,
                                     const char *arg);
const char *apisec_cmd_json_max_depth(cmd_parms *cmd, void *dconf,
                                      const char *arg);
const char *apisec_cmd_json_schema(cmd_parms *cmd, void *dconf, int argc,
                                   char *const argv[]);

/* config_users.c: APISecUserQuery, APISecUserCacheTTL, APISecUserCacheSize
 * (issue 6). */
#define APISEC_USER_DEFAULT_CACHE_SIZE 1024
typedef struct apisec_user_query_t {
    const char *label; /* mod_dbd's statement label; NULL: "off" */
    const char *sql;   /* kept to prepare it again on a reset connection */
} apisec_user_query_t;
void apisec_merge_users(apisec_dir_conf_t *c, const apisec_dir_conf_t *base,
                        const apisec_dir_conf_t *add);
const char *apisec_cmd_user_query(cmd_parms *cmd, void *dconf,
                                  const char *sql);
const char *apisec_cmd_user_cache_ttl(cmd_parms *cmd, void *dconf,
                                      const char *arg);
const char *apisec_cmd_user_cache_size(cmd_parms *cmd, void *sconf,
                                       const char *arg);
int apisec_users_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp);
int apisec_users_cache_wanted(void);
/* config_jwks.c: remote key sets (issue 8); the rest in ap_jwks.h. Remote
 * and local keys are replaced together by a child scope that sets either. */
void apisec_merge_jwks(apisec_dir_conf_t *c, const apisec_dir_conf_t *base,
                       const apisec_dir_conf_t *add);

static APR_INLINE apisec_dir_conf_t *apisec_dir_conf(request_rec *r)
{
    return ap_get_module_config(r->per_dir_config, &apisec_module);
}

static APR_INLINE apisec_srv_conf_t *apisec_srv_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &apisec_module);
}

#endif
