/* check_user_id for AuthType JWT: the bearer token from the Authorization
 * header (RFC 6750) or the configured cookie, verified by the jose core with
 * the scope's keys and algorithms, the claims checked by the jwt_claims core,
 * r->user set, claims forwarded to the application. Verified tokens are
 * remembered per process (token_cache core) so a repeated token skips the
 * signature and the JSON parsing: the time checks run on every request, the
 * checks that depend only on the token and the scope's settings are
 * remembered per (token, policy) as a memo (see "What a token gives under
 * one policy" below).
 * Order in apisec_check_user_id: find the token, verify (cache or jose
 * core), then the user and the forwarded claims; later steps (user lookup,
 * revocation) go after verify. */
#include "ap_glue.h"
#include "config.h"
#include "jose.h"
#include "jwt_claims.h"
#include "problem.h"
#include "token_cache.h"
#include "ap_jwks.h"
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
                                const char **token, apr_size_t *token_len,
                                const char **reason)
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
    if (!len) {
        *reason = "token malformed";
        return TOKEN_BAD;
    }
    *token = t;
    *token_len = len;
    return TOKEN_FOUND;
}

/* Only base64url and dots: a comma here means two merged headers. Run
 * before a token is verified; a token found in the cache is byte for byte
 * one that passed. */
static const char *token_chars(const char *t, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; ++i) {
        if (!is_token_char((unsigned char)t[i])) {
            return t[i] == ',' ? "more than one token" : "token malformed";
        }
    }
    return NULL;
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

static apr_time_t expiry_of(const apisec_jwt_times_t *t, apr_time_t now)
{
    double v;

    if (!t->has_exp) {
        return now + apr_time_from_sec(NO_EXP_CACHE_SECONDS);
    }
    v = t->exp;
    if (v > 253402300799.0) { /* year 9999: far enough */
        v = 253402300799.0;
    }
    return v <= 0 ? 0 : (apr_time_t)(v * APR_USEC_PER_SEC);
}

/* ---- What a token gives under one policy -------------------------------
 * The checks that depend only on the token and the configuration (the
 * algorithm allowlist, required claims, iss, aud, typ), the user and the
 * forwarded claims, worked out once per (token, policy) and kept with the
 * cached token as a memo of the token cache. The memo starts with a copy of
 * the policy it was made under, and a request uses it only if its own
 * policy is equal to that copy field by field (values, not addresses: a
 * policy read from an .htaccess lives only as long as its request). The
 * key set is part of the cache entry's key already; the time claims, leeway
 * and max lifetime are not in the memo and are checked on every request.
 * One malloc'd block, freed with its cache entry. */

typedef struct {
    int n; /* -1: the directive is not set (not the same as an empty list) */
    const char *const *v;
} list_t;

typedef struct {
    const char *env, *value;  /* APISEC_CLAIM_<NAME> and the claim's text */
    const char *hdr, *hvalue; /* X-APISec-Claim-<Name>, percent-encoded */
} forward_t;

typedef struct {
    /* the policy it was made under */
    unsigned algs;
    const char *typ, *user_claim;
    int forward_headers;
    list_t issuers, audiences, required, forward;
    /* what it gives */
    const char *err;  /* a static reason, or NULL: the token is good here */
    const char *user; /* NULL: the token names no user */
    forward_t *fwd;   /* forward.n entries; value NULL: claim absent */
} memo_t;

static list_t list_of(const apr_array_header_t *a)
{
    list_t l = {-1, NULL};

    if (a) {
        l.n = a->nelts;
        l.v = (const char *const *)a->elts;
    }
    return l;
}

static int str_eq(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static int list_eq(const list_t *l, const apr_array_header_t *a)
{
    int i;

    if (!a || l->n < 0) {
        return !a && l->n < 0;
    }
    if (l->n != a->nelts) {
        return 0;
    }
    for (i = 0; i < l->n; ++i) {
        if (!str_eq(l->v[i], APR_ARRAY_IDX(a, i, const char *))) {
            return 0;
        }
    }
    return 1;
}

static const char *typ_of(const apisec_dir_conf_t *c)
{
    return c->jwt_type && *c->jwt_type ? c->jwt_type : NULL;
}

static const char *user_claim_of(const apisec_dir_conf_t *c)
{
    return c->jwt_user_claim ? c->jwt_user_claim : "sub";
}

/* apisec_token_memo_match_fn: made under the policy of configuration C? */
static int memo_matches(const void *memo, const void *conf)
{
    const memo_t *m = memo;
    const apisec_dir_conf_t *c = conf;

    return m->algs == c->jwt_algs
           && m->forward_headers == (c->jwt_forward_headers == 1)
           && str_eq(m->typ, typ_of(c))
           && str_eq(m->user_claim, user_claim_of(c))
           && list_eq(&m->issuers, c->jwt_issuers)
           && list_eq(&m->audiences, c->jwt_audiences)
           && list_eq(&m->required, c->jwt_required)
           && list_eq(&m->forward, c->jwt_forward);
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

static void forward_of(request_rec *r, const apisec_dir_conf_t *c,
                       json_t *claims, const char *name, forward_t *f)
{
    char *e;

    f->value = claim_text(r->pool, json_object_get(claims, name));
    f->env = e = apr_pstrcat(r->pool, "APISEC_CLAIM_", name, NULL);
    for (; *e; ++e) {
        *e = apr_isalnum(*e) ? (char)apr_toupper(*e) : '_';
    }
    f->hdr = f->hvalue = NULL;
    if (c->jwt_forward_headers == 1 && f->value) {
        f->hdr = e = apr_pstrcat(r->pool, "X-APISec-Claim-", name, NULL);
        for (e += 15; *e; ++e) {
            if (!apr_isalnum(*e) && *e != '-') {
                *e = '-';
            }
        }
        /* No CR, LF or other controls in a header value: a claim cannot
         * add a header. */
        f->hvalue = apisec_percent_encode(r->pool, f->value);
    }
}

/* Works the memo of a verified token out for configuration C, in r->pool. */
static void memo_make(request_rec *r, const apisec_dir_conf_t *c,
                      json_t *header, json_t *claims, int alg, memo_t *m)
{
    apisec_jwt_policy_t pol;
    apisec_claims_err_t cerr;
    json_t *sub;
    int i;

    memset(m, 0, sizeof(*m));
    m->algs = c->jwt_algs;
    m->typ = typ_of(c);
    m->user_claim = user_claim_of(c);
    m->forward_headers = c->jwt_forward_headers == 1;
    m->issuers = list_of(c->jwt_issuers);
    m->audiences = list_of(c->jwt_audiences);
    m->required = list_of(c->jwt_required);
    m->forward = list_of(c->jwt_forward);

    /* Two scopes can share keys and allow different algorithms. */
    if (alg < 0 || !(c->jwt_algs & APISEC_JWS_ALG_BIT(alg))) {
        m->err = apisec_jose_strerror(APISEC_JOSE_ALG_NOT_ALLOWED);
        return;
    }
    policy_of(c, &pol);
    if ((cerr = apisec_jwt_claims_check_static(&pol, header, claims))) {
        m->err = apisec_jwt_claims_strerror(cerr);
        return;
    }
    /* A user is a string (or a number, as some issuers write ids); an
     * array or object is no name for REMOTE_USER. */
    sub = json_object_get(claims, m->user_claim);
    m->user = json_is_string(sub) || json_is_integer(sub)
                  ? claim_text(r->pool, sub)
                  : NULL;
    if (m->forward.n > 0) {
        m->fwd = apr_palloc(r->pool, sizeof(*m->fwd) * m->forward.n);
        for (i = 0; i < m->forward.n; ++i) {
            forward_of(r, c, claims, m->forward.v[i], &m->fwd[i]);
        }
    }
}

/* Copies a memo into one block: measured with F->base NULL, then written. */
typedef struct {
    char *base;
    apr_size_t used;
} flat_t;

static void *flat_alloc(flat_t *f, apr_size_t n)
{
    void *p;

    f->used = APR_ALIGN_DEFAULT(f->used);
    p = f->base ? f->base + f->used : NULL;
    f->used += n;
    return p;
}

static const char *flat_str(flat_t *f, const char *s)
{
    apr_size_t n = s ? strlen(s) + 1 : 0;
    char *p = s ? f->base ? f->base + f->used : NULL : NULL;

    if (p) {
        memcpy(p, s, n);
    }
    f->used += n;
    return p;
}

static list_t flat_list(flat_t *f, const list_t *l)
{
    list_t out = {l->n, NULL};
    const char **v = l->n > 0 ? flat_alloc(f, sizeof(*v) * l->n) : NULL;
    int i;

    for (i = 0; i < l->n; ++i) {
        const char *s = flat_str(f, l->v[i]);
        if (v) {
            v[i] = s;
        }
    }
    out.v = v;
    return out;
}

static void flat_memo(flat_t *f, const memo_t *src)
{
    memo_t m = *src, *dst = flat_alloc(f, sizeof(m));
    int i;

    m.typ = flat_str(f, src->typ);
    m.user_claim = flat_str(f, src->user_claim);
    m.issuers = flat_list(f, &src->issuers);
    m.audiences = flat_list(f, &src->audiences);
    m.required = flat_list(f, &src->required);
    m.forward = flat_list(f, &src->forward);
    m.user = flat_str(f, src->user);
    m.fwd = src->fwd ? flat_alloc(f, sizeof(*m.fwd) * src->forward.n) : NULL;
    for (i = 0; src->fwd && i < src->forward.n; ++i) {
        forward_t g;
        g.env = flat_str(f, src->fwd[i].env);
        g.value = flat_str(f, src->fwd[i].value);
        g.hdr = flat_str(f, src->fwd[i].hdr);
        g.hvalue = flat_str(f, src->fwd[i].hvalue);
        if (m.fwd) {
            m.fwd[i] = g;
        }
    }
    if (dst) {
        *dst = m;
    }
}

static apr_status_t release_entry(void *data)
{
    apisec_token_entry_release(data);
    return APR_SUCCESS;
}

/* The memo of cache entry E for configuration C: worked out and added to
 * the entry on the first request under this policy. */
static const memo_t *memo_remember(request_rec *r, const apisec_dir_conf_t *c,
                                   apisec_token_entry_t *e)
{
    memo_t *m = apr_palloc(r->pool, sizeof(*m));
    flat_t f = {NULL, 0};

    memo_make(r, c, e->header, e->claims, e->alg, m);
    flat_memo(&f, m);
    if ((f.base = malloc(f.used))) {
        f.used = 0;
        flat_memo(&f, m);
        if (apisec_token_entry_add_memo(token_cache, e, f.base)) {
            return (const memo_t *)f.base;
        }
        free(f.base);
    }
    return m;
}

/* Verifies TOKEN (from the cache when it can), checks its claims and gives
 * what it means here (*MEMO); returns NULL or the reason for refusing it.
 * On a cache hit this costs a hash, a lookup, the time checks and, after
 * the first request under this policy, no JSON work at all. */
static const char *verify(request_rec *r, const apisec_dir_conf_t *c,
                          const char *token, apr_size_t len,
                          const apisec_jwk_set_t *keys, const void *scope,
                          json_t **header, json_t **claims, const memo_t **memo)
{
    apr_time_t now = apr_time_now();
    apisec_jwt_policy_t pol;
    apisec_claims_err_t cerr;
    apisec_token_cache_t *cache = c->jwt_keys_cacheable ? token_cache : NULL;
    apisec_token_entry_t *e = NULL;
    apisec_jwt_times_t times;
    const void *found = NULL;
    int alg;

    policy_of(c, &pol);
    if (cache) {
        e = apisec_token_cache_get(cache, token, len, scope, now, memo_matches,
                                   c, &found);
    }
    if (e) {
        times = e->times;
        alg = e->alg;
    }
    else {
        apisec_jws_t jws;
        apisec_jose_err_t err;
        const char *bad = token_chars(token, len);
        if (bad) {
            return bad;
        }
        err = apisec_jose_decode_jwt(r->pool, token, len, keys, c->jwt_algs,
                                     &jws, claims);
        if (err != APISEC_JOSE_OK) {
            return apisec_jose_strerror(err);
        }
        *header = jws.header;
        alg = (int)jws.alg;
        if ((cerr = apisec_jwt_claims_times(*claims, &times))) {
            return apisec_jwt_claims_strerror(cerr);
        }
    }
    if ((cerr = apisec_jwt_claims_check_times(&pol, &times, now))) {
        apisec_token_entry_release(e);
        return apisec_jwt_claims_strerror(cerr);
    }
    /* Not remembered within the leeway after exp: it would be stale at
     * once. */
    if (cache && !e && expiry_of(&times, now) > now) {
        e = apisec_token_cache_put(cache, token, len, scope,
                                   expiry_of(&times, now), *header, *claims,
                                   &times, alg);
    }
    if (e) {
        /* The entry (trees, memo) lives until the request ends. */
        apr_pool_cleanup_register(r->pool, e, release_entry,
                                  apr_pool_cleanup_null);
        *header = e->header;
        *claims = e->claims;
        *memo = found ? found : memo_remember(r, c, e);
    }
    else {
        memo_t *m = apr_palloc(r->pool, sizeof(*m));
        memo_make(r, c, *header, *claims, alg, m);
        *memo = m;
    }
    return (*memo)->err;
}

static void forward_claims(request_rec *r, const memo_t *m)
{
    int i;

    for (i = 0; i < m->forward.n; ++i) {
        const forward_t *f = &m->fwd[i];
        if (f->value) {
            apr_table_setn(r->subprocess_env, f->env, f->value);
        }
        if (f->hvalue) {
            apr_table_setn(r->headers_in, f->hdr, f->hvalue);
        }
    }
}

int apisec_check_user_id(request_rec *r)
{
    const apisec_dir_conf_t *c;
    const char *type = ap_auth_type(r), *token = NULL, *reason = NULL;
    json_t *header = NULL, *claims = NULL;
    const memo_t *memo = NULL;
    apr_size_t len = 0;
    apisec_req_t *st;
    const apisec_jwk_set_t *keys;
    const void *scope;
    int rc;

    if (!type || strcasecmp(type, "JWT")) {
        return DECLINED;
    }
    c = apisec_dir_conf(r);
    if (!c->jwt_algs || (!c->jwt_keys && !c->jwt_remote)) {
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
    switch (find_token(r, c, &token, &len, &reason)) {
    case TOKEN_NONE:
        return unauthorized(r, "no token", 0);
    case TOKEN_BAD:
        return unauthorized(r, reason, 1);
    case TOKEN_FOUND:
        break;
    }
    keys = c->jwt_keys;
    scope = c->jwt_keys;
    /* Remote key sets (issue 8): the provider's keys, or a 503 when there
     * are none; an unknown kid may bring a (paced) refetch. */
    if (c->jwt_remote
        && (rc = apisec_jwks_keys(r, c->jwt_remote, 0, &keys, &scope)) != OK) {
        return rc;
    }
    reason = verify(r, c, token, len, keys, scope, &header, &claims, &memo);
    if (reason && c->jwt_remote
        && reason == apisec_jose_strerror(APISEC_JOSE_UNKNOWN_KEY)) {
        const void *before = scope;
        if ((rc = apisec_jwks_keys(r, c->jwt_remote, 1, &keys, &scope)) != OK) {
            return rc;
        }
        if (scope != before) {
            reason =
                verify(r, c, token, len, keys, scope, &header, &claims, &memo);
        }
    }
    if (reason) {
        return unauthorized(r, reason, 1);
    }
    /* APISecJWTRevocation (issue 6): a reason when revoked, none after
     * it answered 503 itself. */
    if (apisec_revocation_check(r, claims, &reason) != OK) {
        return reason ? unauthorized(r, reason, 1) : DONE;
    }
    if (!memo->user || !*memo->user) {
        return unauthorized(r, "token has no subject", 1);
    }
    /* A copy: the memo is shared by every request with this token. */
    r->user = apr_pstrdup(r->pool, memo->user);
    r->ap_auth_type = (char *)"JWT";
    st = apisec_req(r);
    st->header = header;
    st->claims = claims;
    forward_claims(r, memo);
    return apisec_user_lookup(r, claims); /* issue 6: OK, or the answer */
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
