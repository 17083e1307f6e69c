/* Access tokens, refresh-token families, logout, JWKS and the revocation
 * check of AuthType JWT (issue 6). The store records and why rotation is
 * atomic are described in refresh.h; here are the store calls and the
 * answers.
 *
 * Revocations: logout writes "rj" + jti until the access token expires, and
 * a revoked family record "rf" + family id (live = 0). Access tokens carry
 * their family as the claim "sid"; with APISecJWTRevocation On a token is
 * refused when its jti is revoked or, for tokens of this server's issuer,
 * when its family is revoked or gone. Every store failure there is a 503:
 * revocation fails closed. */
#include "ap_glue.h"
#include "ap_tokens.h"
#include "b64url.h"
#include "config.h"
#include "jose.h"
#include "jws_sign.h"
#include "problem.h"
#include "refresh.h"
#include "store.h"

#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"

APLOG_USE_MODULE(apisec);

#define DETAIL_REFRESH "The refresh token is not valid."
#define DETAIL_LOGOUT "No valid access or refresh token was presented."
#define DETAIL_UNAVAILABLE "The service is unavailable; try again shortly."
/* Revocations outlive a token's exp by the longest leeway a verifier may
 * grant. */
#define REVOKE_MARGIN 300

static int lifetime_of(const apisec_tokens_conf_t *tc)
{
    return tc->lifetime != APISEC_UNSET ? tc->lifetime
                                        : APISEC_TOKEN_DEFAULT_LIFETIME;
}

static int refresh_lifetime_of(const apisec_tokens_conf_t *tc)
{
    return tc->refresh_lifetime != APISEC_UNSET
               ? tc->refresh_lifetime
               : APISEC_REFRESH_DEFAULT_LIFETIME;
}

const char *apisec_tokens_key(request_rec *r, const char *tag, const void *data,
                              apr_size_t len, apr_size_t *klen)
{
    /* Sessions belong to the issuer: every virtual host that issues or
     * checks tokens of one APISecTokenIssuer shares them (and its lockout
     * counts); without an issuer, the virtual host's own namespace. */
    const apisec_tokens_conf_t *tc = apisec_tokens_conf(r->server);
    const char *ns = tc && tc->issuer
                         ? apr_pstrcat(r->pool, "iss:", tc->issuer, NULL)
                         : apisec_store_namespace(r->server);
    apr_size_t nl = strlen(ns), tl = strlen(tag);
    char *k = apr_palloc(r->pool, nl + tl + len + 2);

    memcpy(k, ns, nl);
    k[nl] = '|';
    memcpy(k + nl + 1, tag, tl);
    k[nl + 1 + tl] = '|';
    memcpy(k + nl + tl + 2, data, len);
    *klen = nl + tl + len + 2;
    return k;
}

int apisec_tokens_unavailable(request_rec *r)
{
    apr_table_setn(r->err_headers_out, "Retry-After", "1");
    return apisec_send_problem(r, HTTP_SERVICE_UNAVAILABLE, DETAIL_UNAVAILABLE);
}

static int store_failed(request_rec *r, apr_status_t rv)
{
    apisec_store_note_failure(r, rv);
    return apisec_tokens_unavailable(r);
}

static const char *cookie_set(request_rec *r, const char *value, int max_age)
{
    return apr_psprintf(r->pool,
                        "%s=%s; Path=/; Secure; HttpOnly; SameSite=Strict; "
                        "Max-Age=%d",
                        APISEC_REFRESH_COOKIE, value, max_age);
}

static void clear_cookie(request_rec *r)
{
    apr_table_addn(r->err_headers_out, "Set-Cookie", cookie_set(r, "", 0));
}

/* A signed access token for ROW in family FID. */
static char *mint(request_rec *r, const apisec_tokens_conf_t *tc,
                  const apisec_user_row_t *row, const unsigned char *fid)
{
    const apisec_signer_t *s = APR_ARRAY_IDX(tc->signers, 0, apisec_signer_t *);
    apr_time_t now = apr_time_sec(apr_time_now());
    unsigned char jti[16];
    json_t *claims;
    char *tok;

    if (!apisec_refresh_random(jti, sizeof(jti))) {
        return NULL;
    }
    claims = row->claims ? json_deep_copy(row->claims) : json_object();
    if (!claims) {
        return NULL;
    }
    if (tc->issuer) {
        json_object_set_new(claims, "iss", json_string(tc->issuer));
    }
    if (tc->audiences && tc->audiences->nelts == 1) {
        json_object_set_new(
            claims, "aud",
            json_string(APR_ARRAY_IDX(tc->audiences, 0, const char *)));
    }
    else if (tc->audiences) {
        json_t *a = json_array();
        int i;
        for (i = 0; i < tc->audiences->nelts; ++i) {
            json_array_append_new(
                a, json_string(APR_ARRAY_IDX(tc->audiences, i, const char *)));
        }
        json_object_set_new(claims, "aud", a);
    }
    json_object_set_new(claims, "sub",
                        apisec_json_string_safe(r->pool, row->id));
    json_object_set_new(claims, "iat", json_integer((json_int_t)now));
    json_object_set_new(claims, "exp",
                        json_integer((json_int_t)(now + lifetime_of(tc))));
    json_object_set_new(
        claims, "jti",
        json_string(apisec_b64url_encode(r->pool, jti, sizeof(jti))));
    json_object_set_new(claims, "sid",
                        json_string(apisec_b64url_encode(
                            r->pool, fid, APISEC_REFRESH_FAMILY_LEN)));
    if (row->has_ver) {
        json_object_set_new(claims, "ver", json_integer((json_int_t)row->ver));
    }
    tok = apisec_jws_sign(r->pool, s, APISEC_TOKEN_TYP, claims);
    json_decref(claims);
    return tok;
}

/* Writes the token record of a new refresh token of FID at GEN; *TEXT gets
 * the cookie value. */
static apr_status_t new_refresh(request_rec *r, const apisec_tokens_conf_t *tc,
                                apisec_store_t *store, const unsigned char *fid,
                                apr_uint64_t gen, const char **text)
{
    unsigned char raw[APISEC_REFRESH_TOKEN_LEN], h[32];
    unsigned char rec[APISEC_REFRESH_TOKEN_REC_LEN];
    apisec_refresh_token_rec_t t;
    const char *key;
    apr_size_t klen;

    if (!apisec_refresh_random(raw, sizeof(raw))) {
        return APR_EGENERAL;
    }
    apisec_refresh_hash(raw, h);
    memcpy(t.family, fid, APISEC_REFRESH_FAMILY_LEN);
    t.gen = gen;
    apisec_refresh_token_encode(&t, rec);
    key = apisec_tokens_key(r, "rt", h, sizeof(h), &klen);
    *text = apisec_refresh_token_text(r->pool, raw);
    return apisec_store_set(store, key, klen, rec, sizeof(rec),
                            (apr_uint32_t)refresh_lifetime_of(tc));
}

/* Sends TXT (malloc'd by jansson, freed here) as the body. */
static int send_json(request_rec *r, char *txt, const char *type)
{
    apisec_insert_headers_filter(r);
    ap_set_content_type(r, type);
    ap_set_content_length(r, strlen(txt));
    if (!r->header_only) {
        ap_rputs(txt, r);
    }
    free(txt);
    return OK;
}

static int answer(request_rec *r, const apisec_tokens_conf_t *tc,
                  const char *token, const char *refresh)
{
    json_t *body =
        json_pack("{s:s,s:s,s:i}", "access_token", token, "token_type",
                  "Bearer", "expires_in", lifetime_of(tc));
    char *txt = body ? json_dumps(body, JSON_COMPACT) : NULL;

    json_decref(body);
    if (!txt) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    apr_table_setn(r->headers_out, "Pragma", "no-cache");
    apr_table_addn(r->headers_out, "Set-Cookie",
                   cookie_set(r, refresh, refresh_lifetime_of(tc)));
    return send_json(r, txt, "application/json");
}

static const char *family_key(request_rec *r, const unsigned char *fid,
                              apr_size_t *klen)
{
    return apisec_tokens_key(r, "rf", fid, APISEC_REFRESH_FAMILY_LEN, klen);
}

static const char *chunk_key(request_rec *r, const unsigned char *fid, int i,
                             apr_size_t *klen)
{
    unsigned char k[APISEC_REFRESH_FAMILY_LEN + 1];

    memcpy(k, fid, APISEC_REFRESH_FAMILY_LEN);
    k[APISEC_REFRESH_FAMILY_LEN] = (unsigned char)i;
    return apisec_tokens_key(r, "ru", k, sizeof(k), klen);
}

int apisec_tokens_login_answer(request_rec *r, const apisec_tokens_conf_t *tc,
                               const char *user, const apisec_user_row_t *row)
{
    apisec_store_t *store = apisec_store_handle();
    unsigned char fid[APISEC_REFRESH_FAMILY_LEN];
    unsigned char rec[APISEC_REFRESH_FAMILY_REC_LEN];
    apisec_refresh_family_rec_t f;
    apr_size_t ulen = strlen(user), klen, off;
    apr_uint32_t ttl = (apr_uint32_t)refresh_lifetime_of(tc);
    const char *key, *refresh, *token;
    apr_status_t rv;
    int i;

    if (!store) {
        return apisec_tokens_unavailable(r);
    }
    if (!apisec_refresh_random(fid, sizeof(fid))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* The user name first, the family record last: a family is never live
     * without its user. */
    for (i = 0, off = 0; off < ulen; ++i, off += APISEC_REFRESH_CHUNK) {
        apr_size_t n = ulen - off < APISEC_REFRESH_CHUNK ? ulen - off
                                                         : APISEC_REFRESH_CHUNK;
        key = chunk_key(r, fid, i, &klen);
        if ((rv = apisec_store_set(store, key, klen, user + off, n, ttl))) {
            return store_failed(r, rv);
        }
    }
    memset(&f, 0, sizeof(f));
    f.gen = 1;
    f.ver = row->has_ver ? row->ver : 0;
    f.live = 1;
    f.user_len = ulen;
    apisec_refresh_id_hash(row->id, f.id_hash);
    apisec_refresh_family_encode(&f, rec);
    key = family_key(r, fid, &klen);
    if ((rv = apisec_store_cas(store, key, klen, rec, sizeof(rec), ttl, 0))) {
        /* EXISTS would mean a 128-bit collision: refuse all the same. */
        return store_failed(r, rv);
    }
    if ((rv = new_refresh(r, tc, store, fid, 1, &refresh))) {
        return store_failed(r, rv);
    }
    if (!(token = mint(r, tc, row, fid))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return answer(r, tc, token, refresh);
}

/* Marks family FID revoked (whatever its state: revocation always wins;
 * a concurrent rotation then loses its compare-and-swap). */
static apr_status_t revoke_family(request_rec *r,
                                  const apisec_tokens_conf_t *tc,
                                  apisec_store_t *store,
                                  const unsigned char *fid,
                                  const apisec_refresh_family_rec_t *known)
{
    unsigned char rec[APISEC_REFRESH_FAMILY_REC_LEN];
    apisec_refresh_family_rec_t f;
    apr_size_t klen;
    const char *key = family_key(r, fid, &klen);

    if (known) {
        f = *known;
    }
    else {
        memset(&f, 0, sizeof(f));
    }
    f.live = 0;
    apisec_refresh_family_encode(&f, rec);
    return apisec_store_set(store, key, klen, rec, sizeof(rec),
                            (apr_uint32_t)refresh_lifetime_of(tc));
}

static apr_status_t get_family(request_rec *r, apisec_store_t *store,
                               const unsigned char *fid,
                               apisec_refresh_family_rec_t *f, int *found,
                               apr_uint64_t *cas)
{
    unsigned char v[APISEC_STORE_VALUE_MAX];
    apr_size_t vlen = sizeof(v), klen;
    const char *key = family_key(r, fid, &klen);
    apr_status_t rv = apisec_store_get(store, key, klen, v, &vlen, cas);

    *found = 0;
    if (rv == APISEC_STORE_NOTFOUND) {
        return APR_SUCCESS;
    }
    if (rv == APR_SUCCESS) {
        *found = apisec_refresh_family_decode(v, vlen, f);
    }
    return rv;
}

/* The token record of the refresh cookie: OK with *T, HTTP_UNAUTHORIZED
 * (no, bad or unknown cookie), or DONE after a 503. */
static int cookie_token(request_rec *r, apisec_store_t *store,
                        apisec_refresh_token_rec_t *t)
{
    unsigned char raw[APISEC_REFRESH_TOKEN_LEN], h[32];
    unsigned char v[APISEC_STORE_VALUE_MAX];
    apr_size_t vlen = sizeof(v), klen;
    const char *key;
    apr_status_t rv;

    if (apisec_refresh_parse_cookie(apr_table_get(r->headers_in, "Cookie"),
                                    APISEC_REFRESH_COOKIE, raw)
        != APISEC_REFRESH_FOUND) {
        return HTTP_UNAUTHORIZED;
    }
    apisec_refresh_hash(raw, h);
    key = apisec_tokens_key(r, "rt", h, sizeof(h), &klen);
    rv = apisec_store_get(store, key, klen, v, &vlen, NULL);
    if (rv == APISEC_STORE_NOTFOUND) {
        return HTTP_UNAUTHORIZED;
    }
    if (rv != APR_SUCCESS) {
        store_failed(r, rv);
        return DONE;
    }
    return apisec_refresh_token_decode(v, vlen, t) ? OK : HTTP_UNAUTHORIZED;
}

static int refresh_refused(request_rec *r, const char *reason)
{
    apisec_audit(r, "auth_failed", reason);
    clear_cookie(r);
    return apisec_send_problem(r, HTTP_UNAUTHORIZED, DETAIL_REFRESH);
}

static int reuse(request_rec *r, const apisec_tokens_conf_t *tc,
                 apisec_store_t *store, const apisec_refresh_token_rec_t *t,
                 const apisec_refresh_family_rec_t *f)
{
    apr_status_t rv = revoke_family(r, tc, store, t->family, f);

    apisec_audit(r, "token_reuse", "refresh token reused: family revoked");
    if (rv != APR_SUCCESS) {
        return store_failed(r, rv);
    }
    clear_cookie(r);
    return apisec_send_problem(r, HTTP_UNAUTHORIZED, DETAIL_REFRESH);
}

/* The user name of family FID from its chunks; NULL when one is gone. */
static const char *family_user(request_rec *r, apisec_store_t *store,
                               const unsigned char *fid, apr_size_t ulen,
                               apr_status_t *rv)
{
    char *u = apr_palloc(r->pool, ulen + 1);
    apr_size_t off, klen;
    int i;

    *rv = APR_SUCCESS;
    for (i = 0, off = 0; off < ulen; ++i, off += APISEC_REFRESH_CHUNK) {
        unsigned char v[APISEC_STORE_VALUE_MAX];
        apr_size_t vlen = sizeof(v);
        apr_size_t want = ulen - off < APISEC_REFRESH_CHUNK
                              ? ulen - off
                              : APISEC_REFRESH_CHUNK;
        const char *key = chunk_key(r, fid, i, &klen);
        *rv = apisec_store_get(store, key, klen, v, &vlen, NULL);
        if (*rv == APISEC_STORE_NOTFOUND
            || (*rv == APR_SUCCESS && vlen != want)) {
            *rv = APR_SUCCESS;
            return NULL;
        }
        if (*rv != APR_SUCCESS) {
            return NULL;
        }
        memcpy(u + off, v, vlen);
    }
    u[ulen] = '\0';
    return ulen ? u : NULL;
}

static int refresh_handler(request_rec *r, const apisec_tokens_conf_t *tc)
{
    apisec_store_t *store = apisec_store_handle();
    apisec_refresh_token_rec_t t;
    apisec_refresh_family_rec_t f, nf;
    apisec_user_row_t row;
    unsigned char rec[APISEC_REFRESH_FAMILY_REC_LEN], idh[12];
    apr_uint64_t cas = 0;
    const char *user, *key, *refresh, *token;
    apr_size_t klen;
    apr_status_t rv;
    int found, rc;

    if (!store) {
        return apisec_tokens_unavailable(r);
    }
    if ((rc = cookie_token(r, store, &t)) == DONE) {
        return DONE;
    }
    if (rc != OK) {
        return refresh_refused(r, "refresh token missing or unknown");
    }
    if ((rv = get_family(r, store, t.family, &f, &found, &cas))) {
        return store_failed(r, rv);
    }
    switch (apisec_refresh_decide(&t, found ? &f : NULL)) {
    case APISEC_REFRESH_DEAD:
        return refresh_refused(r, "refresh token family revoked");
    case APISEC_REFRESH_REUSE:
        return reuse(r, tc, store, &t, &f);
    case APISEC_REFRESH_ROTATE:
        break;
    }
    user = family_user(r, store, t.family, f.user_len, &rv);
    if (rv != APR_SUCCESS) {
        return store_failed(r, rv);
    }
    if (!user) {
        return refresh_refused(r, "refresh token family incomplete");
    }
    rc = apisec_login_lookup(r, tc, user, &row);
    if (rc == HTTP_SERVICE_UNAVAILABLE) {
        return apisec_tokens_unavailable(r);
    }
    if (rc == OK) {
        apisec_refresh_id_hash(row.id, idh);
    }
    if (rc != OK || row.inactive || memcmp(idh, f.id_hash, sizeof(idh))
        || (row.has_ver && row.ver > f.ver)) {
        /* The user is gone, disabled, another account now, or changed the
         * password (token_version): the session ends. */
        if ((rv = revoke_family(r, tc, store, t.family, &f))) {
            return store_failed(r, rv);
        }
        return refresh_refused(r, "user no longer valid");
    }
    nf = f;
    nf.gen = f.gen + 1;
    apisec_refresh_family_encode(&nf, rec);
    key = family_key(r, t.family, &klen);
    rv = apisec_store_cas(store, key, klen, rec, sizeof(rec),
                          (apr_uint32_t)refresh_lifetime_of(tc), cas);
    if (rv == APISEC_STORE_EXISTS || rv == APISEC_STORE_NOTFOUND) {
        /* Someone used this same token at the same time: a reuse. */
        return reuse(r, tc, store, &t, &nf);
    }
    if (rv != APR_SUCCESS) {
        return store_failed(r, rv);
    }
    if ((rv = new_refresh(r, tc, store, t.family, nf.gen, &refresh))) {
        return store_failed(r, rv);
    }
    if (!(token = mint(r, tc, &row, t.family))) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return answer(r, tc, token, refresh);
}

/* The bearer token, if it is one of ours and valid: its claims. */
static json_t *own_token(request_rec *r, const apisec_tokens_conf_t *tc)
{
    const char *auth = apr_table_get(r->headers_in, "Authorization");
    apisec_jws_t jws;
    json_t *claims = NULL, *exp, *iss;

    if (!auth || strncasecmp(auth, "Bearer ", 7)) {
        return NULL;
    }
    auth += 7;
    while (*auth == ' ') {
        ++auth;
    }
    if (strlen(auth) > 8192
        || apisec_jose_decode_jwt(r->pool, auth, strlen(auth), tc->verify,
                                  tc->verify_algs, &jws, &claims)
               != APISEC_JOSE_OK) {
        return NULL;
    }
    exp = json_object_get(claims, "exp");
    iss = json_object_get(claims, "iss");
    if (!json_is_integer(exp)
        || json_integer_value(exp) <= apr_time_sec(apr_time_now())
        || (tc->issuer
            && (!json_is_string(iss)
                || strcmp(json_string_value(iss), tc->issuer)))) {
        return NULL;
    }
    return claims;
}

/* Decodes a "sid" claim to a family id. */
static int sid_of(request_rec *r, json_t *claims, unsigned char *fid)
{
    json_t *sid = json_object_get(claims, "sid");
    unsigned char *raw;
    apr_size_t n;

    if (!json_is_string(sid)
        || apisec_b64url_decode(r->pool, json_string_value(sid),
                                json_string_length(sid), &raw, &n)
        || n != APISEC_REFRESH_FAMILY_LEN) {
        return 0;
    }
    memcpy(fid, raw, n);
    return 1;
}

static int logout_handler(request_rec *r, const apisec_tokens_conf_t *tc)
{
    apisec_store_t *store = apisec_store_handle();
    json_t *claims = own_token(r, tc);
    apisec_refresh_token_rec_t t;
    unsigned char fid[APISEC_REFRESH_FAMILY_LEN];
    apr_status_t rv;
    int rc, done = 0;

    if (!store) {
        return apisec_tokens_unavailable(r);
    }
    if (claims) {
        json_t *jti = json_object_get(claims, "jti");
        apr_int64_t left = json_integer_value(json_object_get(claims, "exp"))
                           - apr_time_sec(apr_time_now()) + REVOKE_MARGIN;
        if (json_is_string(jti)) {
            apr_size_t klen;
            const char *key = apisec_tokens_key(r, "rj", json_string_value(jti),
                                                json_string_length(jti), &klen);
            if ((rv = apisec_store_set(store, key, klen, "1", 1,
                                       (apr_uint32_t)left))) {
                return store_failed(r, rv);
            }
        }
        if (sid_of(r, claims, fid)
            && (rv = revoke_family(r, tc, store, fid, NULL))) {
            return store_failed(r, rv);
        }
        done = 1;
    }
    if ((rc = cookie_token(r, store, &t)) == DONE) {
        return DONE;
    }
    if (rc == OK) {
        if ((rv = revoke_family(r, tc, store, t.family, NULL))) {
            return store_failed(r, rv);
        }
        done = 1;
    }
    clear_cookie(r);
    if (!done) {
        apisec_audit(r, "auth_failed", "logout without a valid token");
        return apisec_send_problem(r, HTTP_UNAUTHORIZED, DETAIL_LOGOUT);
    }
    apisec_audit(r, "logout", "tokens revoked");
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    return apisec_send_problem(r, HTTP_NO_CONTENT, NULL);
}

static int jwks_handler(request_rec *r, const apisec_tokens_conf_t *tc)
{
    char *txt;

    if (r->method_number != M_GET) {
        apr_table_setn(r->err_headers_out, "Allow", "GET, HEAD");
        return apisec_send_problem(r, HTTP_METHOD_NOT_ALLOWED,
                                   "The key set is read with GET.");
    }
    txt = strdup(tc && tc->jwks_text ? tc->jwks_text : "{\"keys\":[]}");
    if (!txt) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_table_setn(
        r->headers_out, "Cache-Control",
        apr_psprintf(r->pool, "public, max-age=%d", APISEC_JWKS_MAX_AGE));
    return send_json(r, txt, "application/jwk-set+json");
}

int apisec_tokens_handler(request_rec *r)
{
    apisec_tokens_conf_t *tc;

    if (!r->handler || strncmp(r->handler, "apisec-", 7)) {
        return DECLINED;
    }
    if (!strcmp(r->handler, "apisec-login")) {
        return apisec_login_handler(r);
    }
    if (strcmp(r->handler, "apisec-refresh")
        && strcmp(r->handler, "apisec-logout")
        && strcmp(r->handler, "apisec-jwks")) {
        return DECLINED;
    }
    tc = apisec_tokens_conf(r->server);
    if (!strcmp(r->handler, "apisec-jwks")) {
        return jwks_handler(r, tc);
    }
    if (r->method_number != M_POST) {
        apr_table_setn(r->err_headers_out, "Allow", "POST");
        return apisec_send_problem(r, HTTP_METHOD_NOT_ALLOWED, "Use POST.");
    }
    if (!tc || !tc->signers || !tc->login_label) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      APLOGNO(20506) "%s needs APISecLoginQuery and "
                                     "APISecTokenSigningKey in this server, "
                                     "request_id %s",
                      r->handler, apisec_request_id(r));
        return apisec_send_problem(r, HTTP_INTERNAL_SERVER_ERROR,
                                   "Tokens are not configured.");
    }
    return r->handler[7] == 'r' ? refresh_handler(r, tc)
                                : logout_handler(r, tc);
}

int apisec_revocation_check(request_rec *r, json_t *claims, const char **reason)
{
    const apisec_dir_conf_t *c = apisec_dir_conf(r);
    const apisec_tokens_conf_t *tc;
    apisec_store_t *store;
    json_t *jti, *iss;
    unsigned char v[APISEC_STORE_VALUE_MAX];
    unsigned char fid[APISEC_REFRESH_FAMILY_LEN];
    apr_size_t vlen = sizeof(v), klen;
    apr_status_t rv;

    if (c->jwt_revocation != 1) {
        return OK;
    }
    /* Only our own tokens can be revoked here: those of this server's
     * issuer (or without iss, when no issuer is configured). */
    tc = apisec_tokens_conf(r->server);
    iss = json_object_get(claims, "iss");
    if (!tc || !tc->signers
        || (tc->issuer ? !json_is_string(iss)
                             || strcmp(json_string_value(iss), tc->issuer)
                       : iss != NULL)) {
        return OK;
    }
    if (!(store = apisec_store_handle())) {
        return apisec_tokens_unavailable(r);
    }
    jti = json_object_get(claims, "jti");
    if (json_is_string(jti)) {
        const char *key = apisec_tokens_key(r, "rj", json_string_value(jti),
                                            json_string_length(jti), &klen);
        rv = apisec_store_get(store, key, klen, v, &vlen, NULL);
        if (rv == APR_SUCCESS) {
            *reason = "token revoked";
            return HTTP_UNAUTHORIZED;
        }
        if (rv != APISEC_STORE_NOTFOUND) {
            return store_failed(r, rv);
        }
    }
    if (json_object_get(claims, "sid")) {
        apisec_refresh_family_rec_t f;
        int found;
        if (!sid_of(r, claims, fid)) {
            *reason = "token revoked";
            return HTTP_UNAUTHORIZED;
        }
        if ((rv = get_family(r, store, fid, &f, &found, NULL))) {
            return store_failed(r, rv);
        }
        if (!found || !f.live) {
            *reason = "token revoked";
            return HTTP_UNAUTHORIZED;
        }
    }
    return OK;
}
