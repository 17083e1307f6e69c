/* mod_apisec: the module record, the directive table and the hook
 * registration. The work is done in src/: cores (no httpd headers) and the
 * glue files named ap_*.c. */
#include "httpd.h"
#include "http_config.h"
#include "http_request.h"
#include "http_protocol.h"
#include "http_log.h"
#include "mod_auth.h"

#include "src/ap_glue.h"
#include "src/config.h"
#include "src/ap_jwks.h"

/* Override classes decide what a tenant's .htaccess may use:
 * response headers and CORS are FileInfo (as mod_headers' Header is),
 * TLS enforcement is AuthConfig (as mod_ssl's SSLRequireSSL is), and also
 * allowed server- and vhost-wide, where an operator wants it for everything. */
#define DIR_FILEINFO (OR_FILEINFO)
#define DIR_AUTHCFG (RSRC_CONF | OR_AUTHCFG)
/* JWT settings: AuthConfig, like AuthType itself; also server- and
 * vhost-wide, so keys and the allowlist can be given once for every scope. */
#define DIR_JWT (RSRC_CONF | OR_AUTHCFG)

static const command_rec apisec_cmds[] = {
    AP_INIT_FLAG("APISecHeaders", apisec_cmd_headers, NULL, DIR_FILEINFO,
                 "On: helmet's default security headers; Off: none here"),
    AP_INIT_TAKE2("APISecHeader", apisec_cmd_header, NULL, DIR_FILEINFO,
                  "NAME VALUE|off: set one response header, or leave it alone"),
    AP_INIT_TAKE1(
        "APISecCSP", apisec_cmd_csp, NULL, DIR_FILEINFO,
        "a Content-Security-Policy such as \"default-src 'self'\", or off"),
    AP_INIT_TAKE_ARGV("APISecHSTS", apisec_cmd_hsts, NULL, DIR_FILEINFO,
                      "max-age=N [includeSubDomains] [preload] | off "
                      "(HTTPS responses only)"),
    AP_INIT_TAKE_ARGV("APISecCORSAllowOrigin", apisec_cmd_cors_origin, NULL,
                      DIR_FILEINFO, "exact origins allowed by CORS, or *"),
    AP_INIT_FLAG("APISecCORSAllowCredentials", apisec_cmd_cors_credentials,
                 NULL, DIR_FILEINFO,
                 "On: allowed origins may send cookies and credentials"),
    AP_INIT_TAKE_ARGV("APISecCORSAllowMethods", apisec_cmd_cors_list,
                      (void *)APR_OFFSETOF(apisec_dir_conf_t, cors_methods),
                      DIR_FILEINFO, "methods a preflight allows"),
    AP_INIT_TAKE_ARGV("APISecCORSAllowHeaders", apisec_cmd_cors_list,
                      (void *)APR_OFFSETOF(apisec_dir_conf_t, cors_headers),
                      DIR_FILEINFO, "request headers a preflight allows"),
    AP_INIT_TAKE_ARGV("APISecCORSExposeHeaders", apisec_cmd_cors_list,
                      (void *)APR_OFFSETOF(apisec_dir_conf_t, cors_expose),
                      DIR_FILEINFO, "response headers scripts may read"),
    AP_INIT_TAKE1("APISecCORSMaxAge", apisec_cmd_cors_max_age, NULL,
                  DIR_FILEINFO, "seconds a browser may cache a preflight"),
    AP_INIT_TAKE12("APISecRequireTLS", apisec_cmd_require_tls, NULL,
                   DIR_AUTHCFG, "redirect [port=N] | reject | off"),
    AP_INIT_TAKE1("APISecAuditLog", apisec_cmd_audit_log, NULL, RSRC_CONF,
                  "file or \"|command\" for security events, one JSON a line"),

    /* AuthType JWT */
    AP_INIT_TAKE_ARGV(
        "APISecJWTKey", apisec_cmd_jwt_key, NULL, DIR_JWT,
        "[kid=ID] PATH: PEM public key, X.509 certificate or JWKS"),
    AP_INIT_TAKE_ARGV("APISecJWTSecret", apisec_cmd_jwt_secret, NULL, DIR_JWT,
                      "file:PATH | env:NAME [kid=ID]: an HMAC secret"),
    AP_INIT_TAKE_ARGV("APISecJWTAlgorithms", apisec_cmd_jwt_algorithms, NULL,
                      DIR_JWT, "the allowed algorithms, e.g. ES256 RS256"),
    AP_INIT_TAKE_ARGV("APISecJWTIssuer", apisec_cmd_jwt_list,
                      (void *)APR_OFFSETOF(apisec_dir_conf_t, jwt_issuers),
                      DIR_JWT, "accepted iss values"),
    AP_INIT_TAKE_ARGV("APISecJWTAudience", apisec_cmd_jwt_list,
                      (void *)APR_OFFSETOF(apisec_dir_conf_t, jwt_audiences),
                      DIR_JWT,
                      "accepted aud values (one must be in the token)"),
    AP_INIT_TAKE_ARGV("APISecJWTRequire", apisec_cmd_jwt_list,
                      (void *)APR_OFFSETOF(apisec_dir_conf_t, jwt_required),
                      DIR_JWT, "claims every token must have (default exp)"),
    AP_INIT_TAKE_ARGV("APISecJWTForward", apisec_cmd_jwt_list,
                      (void *)APR_OFFSETOF(apisec_dir_conf_t, jwt_forward),
                      DIR_JWT, "claims passed on as APISEC_CLAIM_<NAME>"),
    AP_INIT_TAKE1("APISecJWTType", apisec_cmd_jwt_type, NULL, DIR_JWT,
                  "required typ header (RFC 8725 explicit typing), or off"),
    AP_INIT_TAKE1("APISecJWTLeeway", apisec_cmd_jwt_seconds,
                  (void *)APR_OFFSETOF(apisec_dir_conf_t, jwt_leeway), DIR_JWT,
                  "clock skew allowed for exp, nbf and iat (default 30 s)"),
    AP_INIT_TAKE1("APISecJWTMaxLifetime", apisec_cmd_jwt_seconds,
                  (void *)APR_OFFSETOF(apisec_dir_conf_t, jwt_max_lifetime),
                  DIR_JWT, "longest exp - iat accepted"),
    AP_INIT_TAKE1("APISecJWTCookie", apisec_cmd_jwt_cookie, NULL, DIR_JWT,
                  "also take the token from this cookie"),
    AP_INIT_TAKE1("APISecJWTMaxSize", apisec_cmd_jwt_max_size, NULL, DIR_JWT,
                  "largest token accepted (default 8k)"),
    AP_INIT_TAKE1("APISecJWTUserClaim", apisec_cmd_jwt_user_claim, NULL,
                  DIR_JWT, "the claim that names the user (default sub)"),
    AP_INIT_FLAG("APISecJWTForwardHeaders", apisec_cmd_jwt_forward_headers,
                 NULL, DIR_JWT,
                 "On: forwarded claims also as X-APISec-Claim-<Name> headers"),
    AP_INIT_TAKE1("APISecJWTCache", apisec_cmd_jwt_cache, NULL, RSRC_CONF,
                  "verified tokens remembered per process (default 4096), "
                  "or off"),
    AP_INIT_TAKE1("APISecOwnerPattern", apisec_cmd_owner_pattern, NULL, DIR_JWT,
                  "regex whose first capture on the path is the "
                  "owner, for Require jwt-owner"),

    /* Store and rate limits (issue 4). Limits are in the Limit override
     * class (like Allow/Deny): limits accumulate down the tree, so a
     * tenant can add a stricter one but not lift the operator's. Exempt
     * addresses are the operator's only. */
    AP_INIT_TAKE_ARGV("APISecStore", apisec_cmd_store, NULL, RSRC_CONF,
                      "shm [size=N] | memcached HOST:PORT ... [timeout=MS]"),
    AP_INIT_TAKE1("APISecStoreFailure", apisec_cmd_store_failure, NULL,
                  RSRC_CONF,
                  "open (default) or closed: rate limits when the store "
                  "cannot be reached"),
    AP_INIT_TAKE_ARGV("APISecRateLimit", apisec_cmd_ratelimit, NULL,
                      RSRC_CONF | ACCESS_CONF | OR_LIMIT,
                      "LIMIT/PERIOD [key=ip|user|header:NAME] [methods=M,...] "
                      "[count=all|failures] [name=N]"),
    AP_INIT_TAKE1("APISecRateLimitHeaders", apisec_cmd_ratelimit_headers, NULL,
                  RSRC_CONF | ACCESS_CONF | OR_LIMIT,
                  "ietf (default), draft-7, draft-6 or off"),
    AP_INIT_TAKE_ARGV("APISecRateLimitExempt", apisec_cmd_ratelimit_exempt,
                      NULL, RSRC_CONF | ACCESS_CONF,
                      "addresses or networks (CIDR) no limit applies to"),

    /* JSON requests (issue 5): the operator's, not a tenant's (no .htaccess):
     * a schema is compiled at startup, which an .htaccess re-read for every
     * request would turn into file I/O per request, and a tenant must not
     * switch off or loosen the operator's checks. */
    AP_INIT_FLAG("APISecJSON", apisec_cmd_json, NULL, RSRC_CONF | ACCESS_CONF,
                 "On: request bodies must be strict JSON (415/413/400)"),
    AP_INIT_TAKE1("APISecJSONMaxBody", apisec_cmd_json_max_body, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "largest JSON body accepted (default 10k)"),
    AP_INIT_TAKE1("APISecJSONMaxDepth", apisec_cmd_json_max_depth, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "deepest nesting of arrays and objects (default 32)"),
    AP_INIT_TAKE_ARGV("APISecJSONSchema", apisec_cmd_json_schema, NULL,
                      RSRC_CONF | ACCESS_CONF,
                      "[METHOD ...] PATH: JSON Schema (2020-12 subset) the "
                      "body must match"),
    AP_INIT_FLAG("APISecJSONStrict", apisec_cmd_json_strict, NULL,
                 RSRC_CONF | ACCESS_CONF,
                 "On: objects reject members their schema does not name"),

    /* Users through mod_dbd (issue 6, user lookup): the operator's, not a
     * tenant's (no .htaccess): the statement is prepared by mod_dbd per
     * server at startup, and the query decides who gets in. */
    AP_INIT_TAKE1("APISecUserQuery", apisec_cmd_user_query, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "\"SELECT ... WHERE id = %s\" run through mod_dbd with the "
                  "user of a verified token, or off"),
    AP_INIT_TAKE1("APISecUserCacheTTL", apisec_cmd_user_cache_ttl, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "seconds a user's row is reused without asking the "
                  "database, or off (default)"),
    AP_INIT_TAKE1("APISecUserCacheSize", apisec_cmd_user_cache_size, NULL,
                  RSRC_CONF, "rows remembered per process (default 1024)"),
    /* Remote key sets (issue 8): the URL form of APISecJWTKey is above;
     * the settings are the server's, for every provider. */
    AP_INIT_FLAG("APISecJWTIssuerDiscovery", apisec_cmd_jwt_discovery, NULL,
                 DIR_JWT,
                 "On: the JWKS URL from the metadata of APISecJWTIssuer"),
    AP_INIT_TAKE2("APISecJWKSRefresh", apisec_cmd_jwks_refresh, NULL, RSRC_CONF,
                  "MIN MAX: bounds of the provider's max-age (default 5m 24h)"),
    AP_INIT_TAKE1("APISecJWKSTimeout", apisec_cmd_jwks_time, (void *)0,
                  RSRC_CONF, "time for a whole fetch (default 3s)"),
    AP_INIT_TAKE1("APISecJWKSMinRefetch", apisec_cmd_jwks_time, (void *)1,
                  RSRC_CONF,
                  "at most one fetch on an unknown kid this often "
                  "(default 60s)"),
    AP_INIT_TAKE1("APISecJWKSMaxStale", apisec_cmd_jwks_time, (void *)2,
                  RSRC_CONF,
                  "the last good keys serve this long without a successful "
                  "fetch (default 24h)"),
    AP_INIT_TAKE1("APISecJWKSCA", apisec_cmd_jwks_ca, NULL, RSRC_CONF,
                  "PEM file of the CAs that sign the providers' certificates "
                  "(default: the system's)"),
    AP_INIT_ITERATE("APISecJWKSAllow", apisec_cmd_jwks_allow, NULL, RSRC_CONF,
                    "URL prefixes .htaccess files may take keys from"),
    {NULL}};

static void apisec_register_hooks(apr_pool_t *p)
{
    /* After mod_remoteip (APR_HOOK_FIRST) and mod_unique_id (MIDDLE). */
    ap_hook_post_read_request(apisec_post_read_request, NULL, NULL,
                              APR_HOOK_LAST);
    ap_hook_access_checker(apisec_access_checker, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_insert_filter(apisec_insert_headers_filter, NULL, NULL,
                          APR_HOOK_MIDDLE);
    ap_hook_insert_error_filter(apisec_insert_error_filters, NULL, NULL,
                                APR_HOOK_MIDDLE);
    ap_hook_check_authn(apisec_check_user_id, NULL, NULL, APR_HOOK_MIDDLE,
                        AP_AUTH_INTERNAL_PER_CONF);
    ap_hook_child_init(apisec_jwt_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_note_auth_failure(apisec_note_auth_failure, NULL, NULL,
                              APR_HOOK_MIDDLE);
    apisec_register_authz_providers(p);
    ap_hook_open_logs(apisec_open_logs, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(apisec_check_jwt_config, NULL, NULL, APR_HOOK_MIDDLE);
    apisec_headers_filter_handle =
        ap_register_output_filter(APISEC_HEADERS_FILTER, apisec_headers_filter,
                                  NULL, AP_FTYPE_CONTENT_SET);
    ap_register_output_filter(APISEC_PROBLEM_FILTER, apisec_problem_filter,
                              NULL, AP_FTYPE_CONTENT_SET);
    /* Store and rate limits (issue 4): address limits after TLS and CORS
     * preflight (registered above, same order), user limits in fixups. */
    ap_hook_pre_config(apisec_store_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(apisec_store_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(apisec_store_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_access_checker(apisec_ratelimit_access, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_fixups(apisec_ratelimit_fixups, NULL, NULL, APR_HOOK_FIRST);
    ap_hook_log_transaction(apisec_ratelimit_log, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(apisec_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* JSON requests (issue 5): bodies are read in fixups, after the user
     * rate limits (FIRST), and handed on by an input filter. */
    ap_hook_fixups(apisec_json_fixups, NULL, NULL, APR_HOOK_MIDDLE);
    ap_register_input_filter(APISEC_JSON_FILTER, apisec_json_body_filter, NULL,
                             AP_FTYPE_CONTENT_SET);
    /* Users through mod_dbd (issue 6, user lookup): run from AuthType
     * JWT's check_user_id; the row cache is made per process. */
    ap_hook_pre_config(apisec_users_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(apisec_users_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    apisec_register_user_authz(p);
    /* Remote key sets (issue 8): shared memory per configuration, a
     * fetcher thread per process. */
    ap_hook_pre_config(apisec_jwks_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(apisec_jwks_post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(apisec_jwks_child_init, NULL, NULL, APR_HOOK_MIDDLE);
}

/* clang-format off */
AP_DECLARE_MODULE(apisec) = {
    STANDARD20_MODULE_STUFF,
    apisec_create_dir_conf,
    apisec_merge_dir_conf,
    apisec_create_srv_conf,
    apisec_merge_srv_conf,
    apisec_cmds,
    apisec_register_hooks
};
/* clang-format on */
