/* check_user_id for AuthType JWT: the bearer token from the Authorization
 * header (RFC 6750) or the configured cookie, verified by the jose core with
 * the scope's keys and algorithms, the claims checked by the jwt_claims core,
 * r->user set, claims forwarded to the application. Verified tokens are
 * remembered per process (token_cache core) so a repeated token skips the
 * signature and the JSON parsing; the claim checks run every time. */
#include "ap_glue.h"
#include "config.h"
#include "jose.h"
#include "jwt_claims.h"
#include "problem.h"
#include "token_cache.h"
#include "ap_tokens.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"
#include "apr_lib.h"

APLOG_USE_MODULE(apisec);

static apisec_token_cache_t *token_cache; /* per process, NULL: off */

/* Tokens without exp (only when APISecJWTRequire leaves it out) are
 * remembered this long at most. */
#define NO_EXP_CACHE_SECONDS 300

void apisec_jwt_child_init(apr_pool_t *pchild, server_rec *s)
{
    apisec_srv_conf_t *c = apisec_srv_conf(s);
    int n =
        c->jwt_cache == APISEC_UNSET ? APISEC_JWT_DEFAULT_CACHE : c->jwt_cache;

    token_cache = n > 0 ? apisec_token_cache_create(pchild, n) : NULL;
}

apisec_token_cache_t *apisec_jwt_cache(void)
{
    return token_cache;
}

/* 401 with the RFC 6750 challenge; ERROR_DESC NULL for a missing token. */
static int unauthorized(request_rec *r, const char *reason, int has_token)
{
    const char *challenge =
        apr_psprintf(r->pool, "Bearer realm=\"%s\"", apisec_bearer_realm(r));

    if (has_token) {
        challenge = apr_psprintf(r->pool,
                                 "%s, error=\"invalid_token\", "
                                 "error_description=\"%s\"",
                                 challenge, reason);
    }
    apr_table_setn(r->err_headers_out, "WWW-Authenticate", challenge);
    apisec_audit(r, "auth_failed", reason);
    return apisec_send_problem(r, HTTP_UNAUTHORIZED,
                               has_token ? reason
                                         : "A bearer token is required.");
}

static int is_token_char(unsigned char ch)
{
    return apr_isalnum(ch) || ch == '-' || ch == '_' || ch == '.';
}

/* The value of cookie NAME; *count is how many times it appears. */
static const char *cookie_value(request_rec *r, const char *name, int *count)
{
    const char *hdr = apr_table_get(r->headers_in, "Cookie");
    const char *found = NULL;
    apr_size_t nlen = strlen(name);
    char *list, *last, *pair;

    *count = 0;
    if (!hdr) {
        return NULL;
    }
    list = apr_pstrdup(r->pool, hdr);
    for (pair = apr_strtok(list, ";", &last); pair;
         pair = apr_strtok(NULL, ";", &last)) {
        while (*pair == ' ' || *pair == '\t') {
            ++pair;
        }
        if (!strncmp(pair, name, nlen) && pair[nlen] == '=') {
            found = pair + nlen + 1;
            ++*count;
        }
    }
    return found;
}

typedef enum { TOKEN_NONE, TOKEN_FOUND, TOKEN_BAD } token_state_e;

/* Finds the one token of the request. A second token (header and cookie,
 * two Authorization headers, two cookies) or an oversized one is refused:
 * which one a backend would read is not certain. */
static token_state_e find_token(request_rec *r, const apisec_dir_conf_t *c,
                                const char **token, const char **reason)
{
    const char *auth = apr_table_get(r->headers_in, "Authorization");
    const char *cookie = NULL, *t = NULL;
    int max = c->jwt_max_size == APISEC_UNSET ? APISEC_JWT_DEFAULT_MAX_SIZE
                                              : c->jwt_max_size;
    int ncookies = 0;
    apr_size_t len;

    if (auth && !strncasecmp(auth, "Bearer ", 7)) {
        t = auth + 7;
        while (*t == ' ') {
            ++t;
        }
    }
    else if (auth && !strncasecmp(auth, "Bearer", 6) && !auth[6]) {
        t = "";
    }
    if (c->jwt_cookie && *c->jwt_cookie) {
        cookie = cookie_value(r, c->jwt_cookie, &ncookies);
    }
    if ((t && cookie) || ncookies > 1) {
        *reason = "more than one token";
        return TOKEN_BAD;
    }
    if (!t) {
        t = cookie;
    }
    if (!t) {
        return TOKEN_NONE;
    }
    len = strlen(t);
    if (len > (apr_size_t)max) {
        *reason = "token too large";
        return TOKEN_BAD;
    }
    /* Only base64url and dots: a comma here means two merged headers. */
    for (len = 0; t[len]; ++len) {
        if (!is_token_char((unsigned char)t[len])) {
            *reason = t[len] == ',' ? "more than one token" : "token malformed";
            return TOKEN_BAD;
        }
    }
    if (!len) {
        *reason = "token malformed";
        return TOKEN_BAD;
    }
    *token = t;
    return TOKEN_FOUND;
}

static void policy_of(const apisec_dir_conf_t *c, apisec_jwt_policy_t *pol)
{
    apisec_jwt_claims_policy_init(pol);
    pol->issuers = c->jwt_issuers;
    pol->audiences = c->jwt_audiences;
    pol->typ = c->jwt_type && *c->jwt_type ? c->jwt_type : NULL;
    if (c->jwt_required) {
        pol->required = c->jwt_required;
    }
    if (c->jwt_leeway != APISEC_UNSET) {
        pol->leeway = c->jwt_leeway;
    }
    if (c->jwt_max_lifetime != APISEC_UNSET) {
        pol->max_lifetime = c->jwt_max_lifetime;
    }
}

static apr_status_t release_json(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

/* A cache hit is used only if its algorithm is still allowed here: two
 * scopes can share keys and allow different algorithms. */
static int alg_allowed(json_t *header, unsigned algs)
{
    int alg = apisec_jws_alg_from_name(
        json_string_value(json_object_get(header, "alg")));

    return alg >= 0 && (algs & APISEC_JWS_ALG_BIT(alg));
}

static apr_time_t expiry_of(json_t *claims, apr_time_t now)
{
    json_t *exp = json_object_get(claims, "exp");
    double v;

    if (!json_is_number(exp)) {
        return now + apr_time_from_sec(NO_EXP_CACHE_SECONDS);
    }
    v = json_number_value(exp);
    if (v > 253402300799.0) { /* year 9999: far enough */
        v = 253402300799.0;
    }
    return v <= 0 ? 0 : (apr_time_t)(v * APR_USEC_PER_SEC);
}

/* Verifies TOKEN (from the cache when it can) and checks its claims. */
static const char *verify(request_rec *r, const apisec_dir_conf_t *c,
                          const char *token, json_t **header, json_t **claims)
{
    apr_size_t len = strlen(token);
    unsigned char digest[APISEC_TOKEN_DIGEST_LEN];
    apr_time_t now = apr_time_now();
    apisec_jwt_policy_t pol;
    apisec_claims_err_t cerr;
    apisec_token_cache_t *cache = c->jwt_keys_cacheable ? token_cache : NULL;
    int cached = 0;

    if (cache && apisec_token_cache_digest(cache, token, len, digest)
        && apisec_token_cache_get(cache, digest, c->jwt_keys, now, header,
                                  claims)) {
        apr_pool_cleanup_register(r->pool, *header, release_json,
                                  apr_pool_cleanup_null);
        apr_pool_cleanup_register(r->pool, *claims, release_json,
                                  apr_pool_cleanup_null);
        if (!alg_allowed(*header, c->jwt_algs)) {
            return apisec_jose_strerror(APISEC_JOSE_ALG_NOT_ALLOWED);
        }
        cached = 1;
    }
    else {
        apisec_jws_t jws;
        apisec_jose_err_t err = apisec_jose_decode_jwt(
            r->pool, token, len, c->jwt_keys, c->jwt_algs, &jws, claims);
        if (err != APISEC_JOSE_OK) {
            return apisec_jose_strerror(err);
        }
        *header = jws.header;
    }
    policy_of(c, &pol);
    cerr = apisec_jwt_claims_check(&pol, *header, *claims, now);
    if (cerr != APISEC_CLAIMS_OK) {
        return apisec_jwt_claims_strerror(cerr);
    }
    if (cache && !cached) {
        apisec_token_cache_put(cache, digest, c->jwt_keys,
                               expiry_of(*claims, now), *header, *claims);
    }
    return NULL;
}

static const char *claim_text(apr_pool_t *p, json_t *v)
{
    char *s, *out;

    if (json_is_string(v)) {
        return json_string_value(v);
    }
    if (json_is_integer(v)) {
        return apr_psprintf(p, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    }
    if (!v || json_is_null(v)) {
        return NULL;
    }
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) {
        return NULL;
    }
    out = apr_pstrdup(p, s);
    free(s);
    return out;
}

static void forward_claims(request_rec *r, const apisec_dir_conf_t *c,
                           json_t *claims)
{
    int i;

    for (i = 0; c->jwt_forward && i < c->jwt_forward->nelts; ++i) {
        const char *name = APR_ARRAY_IDX(c->jwt_forward, i, const char *);
        const char *value = claim_text(r->pool, json_object_get(claims, name));
        char *env, *hdr, *e;

        if (!value) {
            continue;
        }
        env = apr_pstrcat(r->pool, "APISEC_CLAIM_", name, NULL);
        for (e = env; *e; ++e) {
            *e = apr_isalnum(*e) ? (char)apr_toupper(*e) : '_';
        }
        apr_table_setn(r->subprocess_env, env, value);
        if (c->jwt_forward_headers == 1) {
            hdr = apr_pstrcat(r->pool, "X-APISec-Claim-", name, NULL);
            for (e = hdr + 15; *e; ++e) {
                if (!apr_isalnum(*e) && *e != '-') {
                    *e = '-';
                }
            }
            /* No CR, LF or other controls in a header value: a claim
             * cannot add a header. */
            apr_table_setn(r->headers_in, hdr,
                           apisec_percent_encode(r->pool, value));
        }
    }
}

int apisec_check_user_id(request_rec *r)
{
    const apisec_dir_conf_t *c;
    const char *type = ap_auth_type(r), *token = NULL, *reason = NULL, *user;
    json_t *header = NULL, *claims = NULL, *sub;
    apisec_req_t *st;

    if (!type || strcasecmp(type, "JWT")) {
        return DECLINED;
    }
    c = apisec_dir_conf(r);
    if (!c->jwt_algs || !c->jwt_keys) {
        ap_log_rerror(
            APLOG_MARK, APLOG_ERR, 0, r,
            APLOGNO(
                20006) "AuthType JWT without %s here: refusing every token, "
                       "request_id %s",
            c->jwt_algs ? "APISecJWTKey or "
                          "APISecJWTSecret"
                        : "APISecJWTAlgorithms",
            apisec_request_id(r));
        return apisec_send_problem(r, HTTP_INTERNAL_SERVER_ERROR,
                                   "Authentication is not configured.");
    }
    switch (find_token(r, c, &token, &reason)) {
    case TOKEN_NONE:
        return unauthorized(r, "no token", 0);
    case TOKEN_BAD:
        return unauthorized(r, reason, 1);
    case TOKEN_FOUND:
        break;
    }
    if ((reason = verify(r, c, token, &header, &claims))) {
        return unauthorized(r, reason, 1);
    }
    /* APISecJWTRevocation (issue 6): a reason when revoked, none after
     * it answered 503 itself. */
    if (apisec_revocation_check(r, claims, &reason) != OK) {
        return reason ? unauthorized(r, reason, 1) : DONE;
    }
    sub = json_object_get(claims,
                          c->jwt_user_claim ? c->jwt_user_claim : "sub");
    /* A user is a string (or a number, as some issuers write ids); an
     * array or object is no name for REMOTE_USER. */
    user = json_is_string(sub) || json_is_integer(sub)
               ? claim_text(r->pool, sub)
               : NULL;
    if (!user || !*user) {
        return unauthorized(r, "token has no subject", 1);
    }
    r->user = (char *)user;
    r->ap_auth_type = (char *)"JWT";
    st = apr_pcalloc(r->pool, sizeof(*st));
    st->header = header;
    st->claims = claims;
    ap_set_module_config(r->request_config, &apisec_module, st);
    forward_claims(r, c, claims);
    return OK;
}

/* The claims of the token that authenticated this request, or of the request
 * it was redirected or derived from. */
json_t *apisec_request_claims(request_rec *r)
{
    for (; r; r = r->prev ? r->prev : r->main) {
        apisec_req_t *st =
            ap_get_module_config(r->request_config, &apisec_module);
        if (st && st->claims) {
            return st->claims;
        }
    }
    return NULL;
}

/* httpd asks the auth type to add its challenge when authorization refuses
 * a request without a user (AUTHZ_DENIED_NO_USER). */
int apisec_note_auth_failure(request_rec *r, const char *auth_type)
{
    if (strcasecmp(auth_type, "JWT")) {
        return DECLINED;
    }
    if (!apr_table_get(r->err_headers_out, "WWW-Authenticate")) {
        apr_table_setn(r->err_headers_out, "WWW-Authenticate",
                       apr_psprintf(r->pool, "Bearer realm=\"%s\"",
                                    apisec_bearer_realm(r)));
    }
    return OK;
}
