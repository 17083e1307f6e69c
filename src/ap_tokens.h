/* Login, access tokens, refresh-token rotation, logout, JWKS and revocation
 * (issue 6): the configuration record of a server and the glue functions
 * the module record registers. Cores: jws_sign.c, password.c, refresh.c,
 * login_body.c. */
#ifndef APISEC_AP_TOKENS_H
#define APISEC_AP_TOKENS_H

#include "httpd.h"
#include "http_config.h"
#include "apr_tables.h"
#include <jansson.h>

#include "jwk.h"

#define APISEC_TOKEN_DEFAULT_LIFETIME 900      /* 15 min */
#define APISEC_REFRESH_DEFAULT_LIFETIME 604800 /* 7 days */
#define APISEC_JWKS_MAX_AGE 300
#define APISEC_TOKEN_TYP "at+jwt"

/* Per server (virtual host); a virtual host inherits what it does not set. */
typedef struct {
    apr_array_header_t *signers;   /* apisec_signer_t *; the first one signs */
    apisec_jwk_set_t *verify;      /* the signers' verification keys */
    unsigned verify_algs;          /* their algorithms */
    json_t *jwks;                  /* {"keys": [public JWKs]} */
    const char *jwks_text;         /* its text, made at startup */
    const char *issuer;            /* APISecTokenIssuer */
    apr_array_header_t *audiences; /* APISecTokenAudience */
    int lifetime;                  /* APISecTokenLifetime or UNSET */
    int refresh_lifetime;          /* APISecRefreshLifetime or UNSET */
    apr_array_header_t *claims;    /* APISecTokenClaims column names */
    const char *login_label;       /* mod_dbd statement label, NULL unset */
    const char *login_query;       /* its text, to prepare it again */
    int lockout_n;                 /* APISecLoginLockout, 0 unset */
    int lockout_period;
} apisec_tokens_conf_t;

/* config_tokens.c */
apisec_tokens_conf_t *apisec_tokens_conf(server_rec *s);
void *apisec_tokens_merge(apr_pool_t *p, const apisec_tokens_conf_t *base,
                          const apisec_tokens_conf_t *add);
const char *apisec_cmd_token_key(cmd_parms *cmd, void *sconf, int argc,
                                 char *const argv[]);
const char *apisec_cmd_token_issuer(cmd_parms *cmd, void *sconf,
                                    const char *arg);
const char *apisec_cmd_token_list(cmd_parms *cmd, void *sconf, int argc,
                                  char *const argv[]);
const char *apisec_cmd_token_seconds(cmd_parms *cmd, void *sconf,
                                     const char *arg);
const char *apisec_cmd_login_query(cmd_parms *cmd, void *sconf,
                                   const char *arg);
const char *apisec_cmd_login_lockout(cmd_parms *cmd, void *sconf,
                                     const char *arg);
const char *apisec_cmd_jwt_revocation(cmd_parms *cmd, void *dconf, int on);
int apisec_check_tokens_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp, server_rec *s);
/* "15m", "7d", "30": seconds, or -1. */
long apisec_tokens_parse_duration(const char *s);

/* ap_login.c */
typedef struct {
    const char *id;
    const char *hash;
    int has_ver;
    apr_int64_t ver;
    int inactive;   /* an "active" column that is false */
    json_t *claims; /* APISecTokenClaims columns present in the row */
} apisec_user_row_t;
/* Runs APISecLoginQuery with USER: OK with *ROW, HTTP_NOT_FOUND for no row,
 * or HTTP_SERVICE_UNAVAILABLE (database unreachable or failing; logged). */
int apisec_login_lookup(request_rec *r, const apisec_tokens_conf_t *tc,
                        const char *user, apisec_user_row_t *row);
void apisec_login_child_init(apr_pool_t *pchild, server_rec *s);
int apisec_login_handler(request_rec *r);

/* ap_tokens.c */
/* Starts a family for USER and answers the login with an access token for
 * ROW and the refresh cookie. Returns what the handler returns. */
int apisec_tokens_login_answer(request_rec *r, const apisec_tokens_conf_t *tc,
                               const char *user, const apisec_user_row_t *row);
int apisec_tokens_handler(request_rec *r);
/* For AuthType JWT with APISecJWTRevocation On: OK, HTTP_UNAUTHORIZED with
 * *REASON (revoked), or DONE after a 503 answer (store unreachable). */
int apisec_revocation_check(request_rec *r, json_t *claims,
                            const char **reason);
/* 503 problem (with Retry-After) for a store or database failure. */
int apisec_tokens_unavailable(request_rec *r);
/* Store key NAMESPACE|TAG|DATA in pool memory. */
const char *apisec_tokens_key(request_rec *r, const char *tag, const void *data,
                              apr_size_t len, apr_size_t *klen);

#endif
