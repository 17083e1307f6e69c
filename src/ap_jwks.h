/* Remote key sets (issue 8), httpd glue: the sources named by APISecJWTKey
 * https://... and APISecJWTIssuerDiscovery, their server-wide settings, the
 * shared memory every process reads them from, the fetcher thread of each
 * process, and the call AuthType JWT makes per request. */
#ifndef APISEC_AP_JWKS_H
#define APISEC_AP_JWKS_H

#include "httpd.h"
#include "http_config.h"
#include "jwk.h"

/* One remote key set: a JWKS URL, or an issuer whose metadata names it. */
typedef struct apisec_jwks_src_t {
    const char *key; /* the URL, or the issuer for discovery */
    int discovery;   /* 1: key is an issuer */
    int slot;        /* index in shared memory, -1 until known */
} apisec_jwks_src_t;

/* config_jwks.c: directives and settings. */
typedef struct {
    apr_interval_time_t refresh_min, refresh_max, timeout, min_refetch,
        max_stale;
    const char *ca;            /* APISecJWKSCA, NULL: system CAs */
    apr_array_header_t *allow; /* APISecJWKSAllow prefixes (const char *) */
    apr_array_header_t *srcs;  /* apisec_jwks_src_t *, from the server's
                                  configuration */
} apisec_jwks_conf_t;

apisec_jwks_conf_t *apisec_jwks_conf(void);
const char *apisec_jwks_cmd_key_url(cmd_parms *cmd, void *dconf,
                                    const char *kid, const char *url);
const char *apisec_cmd_jwt_discovery(cmd_parms *cmd, void *dconf, int on);
const char *apisec_cmd_jwks_refresh(cmd_parms *cmd, void *dconf,
                                    const char *min, const char *max);
const char *apisec_cmd_jwks_time(cmd_parms *cmd, void *dconf, const char *arg);
const char *apisec_cmd_jwks_ca(cmd_parms *cmd, void *dconf, const char *arg);
const char *apisec_cmd_jwks_allow(cmd_parms *cmd, void *dconf, const char *arg);

/* ap_jwks.c: hooks. */
int apisec_jwks_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                           apr_pool_t *ptemp);
int apisec_jwks_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s);
void apisec_jwks_child_init(apr_pool_t *pchild, server_rec *s);

/* The key set of SRC for this request in *KEYS, and in *SCOPE the identity
 * the verified-token cache must key on (unique for the life of the process,
 * so tokens verified with a key the provider has since removed are never
 * served from the cache). KID_MISS: the token's kid was not in the set
 * given before; at most one refetch per APISecJWKSMinRefetch for the whole
 * server follows, and this request waits at most APISecJWKSTimeout for it.
 * Returns OK, or DONE after a 503 answer (keys unavailable). */
int apisec_jwks_keys(request_rec *r, apisec_jwks_src_t *src, int kid_miss,
                     const apisec_jwk_set_t **keys, const void **scope);

/* Prometheus text of the fetches, for SetHandler apisec-metrics. */
void apisec_jwks_metrics(request_rec *r);

#endif
