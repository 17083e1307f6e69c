/* Remote key sets: see jwks_remote.h for what is promised. */
#include "jwks_remote.h"

#include <apr_strings.h>
#include <apr_lib.h>
#include <jansson.h>
#include <string.h>

static void drop(apr_array_header_t *dropped, int index, json_t *jwk,
                 const char *reason)
{
    apisec_jwks_dropped_t *d;
    const char *kid = json_string_value(json_object_get(jwk, "kid"));

    if (!dropped) {
        return;
    }
    d = apr_array_push(dropped);
    d->index = index;
    d->kid = kid ? apr_pstrdup(dropped->pool, kid) : NULL;
    d->reason = reason;
}

/* Why a JWK cannot be taken from the network, before the jwk core sees
 * it; NULL if it may be tried. */
static const char *unfit_remote(json_t *jwk)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    json_t *use = json_object_get(jwk, "use");
    json_t *ops = json_object_get(jwk, "key_ops");
    size_t i;
    int verify = 0;

    if (!json_is_object(jwk)) {
        return "not a JSON object";
    }
    if (!kty) {
        return "no kty";
    }
    if (!strcmp(kty, "oct")) {
        return "symmetric (oct) key in a remote set";
    }
    if (strcmp(kty, "RSA") && strcmp(kty, "EC") && strcmp(kty, "OKP")) {
        return "unknown kty";
    }
    if (use
        && (!json_is_string(use) || strcmp(json_string_value(use), "sig"))) {
        return "use is not sig";
    }
    if (ops) {
        for (i = 0; json_is_array(ops) && i < json_array_size(ops); ++i) {
            const char *op = json_string_value(json_array_get(ops, i));
            verify |= op && !strcmp(op, "verify");
        }
        if (!verify) {
            return "key_ops without verify";
        }
    }
    return NULL;
}

const char *apisec_jwks_parse(apr_pool_t *pool, const char *doc, apr_size_t len,
                              apisec_jwk_set_t **set,
                              apr_array_header_t **dropped)
{
    apr_array_header_t *d =
        apr_array_make(pool, 4, sizeof(apisec_jwks_dropped_t));
    apisec_jwk_set_t *s;
    json_error_t jerr;
    json_t *root, *keys;
    const char *err = NULL;
    size_t i;
    int usable = 0;

    if (dropped) {
        *dropped = d;
    }
    if (len > APISEC_JWKS_MAX_DOC) {
        return "larger than 256 KB";
    }
    root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        return "not JSON";
    }
    keys = json_object_get(root, "keys");
    if (!json_is_array(keys)) {
        json_decref(root);
        return "not a JWKS (no keys array)";
    }
    s = apisec_jwk_set_make(pool);
    for (i = 0; i < json_array_size(keys); ++i) {
        json_t *jwk = json_array_get(keys, i);
        const char *why = unfit_remote(jwk);
        int before = apisec_jwk_set_count(s);

        if (!why) {
            why = apisec_jwk_set_add_jwk(s, jwk, 0);
        }
        if (!why && apisec_jwk_set_count(s) > before
            && !apisec_jwk_set_get(s, before)->usable) {
            why = "not usable for signatures";
        }
        if (why) {
            drop(d, (int)i, jwk, why);
            continue;
        }
        ++usable;
    }
    if (!usable) {
        err = "no usable signing key";
    }
    json_decref(root);
    if (!err) {
        *set = s;
    }
    return err;
}

const char *apisec_jwks_discovery_parse(apr_pool_t *pool, const char *doc,
                                        apr_size_t len, const char *issuer,
                                        const char **jwks_uri)
{
    json_error_t jerr;
    json_t *root;
    const char *iss, *uri, *err = NULL;

    if (len > APISEC_JWKS_MAX_DOC) {
        return "larger than 256 KB";
    }
    root = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return "not a JSON object";
    }
    iss = json_string_value(json_object_get(root, "issuer"));
    uri = json_string_value(json_object_get(root, "jwks_uri"));
    if (!iss || strcmp(iss, issuer)) {
        err = "issuer differs from APISecJWTIssuer";
    }
    else if (!uri) {
        err = "no jwks_uri";
    }
    else if ((err = apisec_jwks_url_check(uri)) == NULL) {
        *jwks_uri = apr_pstrdup(pool, uri);
    }
    else {
        err = "jwks_uri is not an https URL (or http to loopback)";
    }
    json_decref(root);
    return err;
}

/* The scheme length (5 for https://, 4 for http://) or 0. */
static apr_size_t scheme_of(const char *url, int *https)
{
    if (!strncasecmp(url, "https://", 8)) {
        *https = 1;
        return 8;
    }
    if (!strncasecmp(url, "http://", 7)) {
        *https = 0;
        return 7;
    }
    return 0;
}

static int loopback_host(const char *h, apr_size_t n)
{
    if (n == 9 && !strncasecmp(h, "localhost", 9)) {
        return 1;
    }
    if (n == 5 && !strncmp(h, "[::1]", 5)) {
        return 1;
    }
    if (n >= 9 && !strncmp(h, "127.", 4)) {
        apr_size_t i;
        int dots = 0;
        for (i = 0; i < n; ++i) {
            if (h[i] == '.') {
                ++dots;
            }
            else if (!apr_isdigit(h[i])) {
                return 0;
            }
        }
        return dots == 3;
    }
    return 0;
}

const char *apisec_jwks_url_check(const char *url)
{
    int https = 0;
    apr_size_t s = scheme_of(url, &https), n;
    const char *host, *end, *p;

    if (!s) {
        return "not an https:// URL";
    }
    if (strlen(url) > APISEC_JWKS_MAX_URL) {
        return "URL longer than 2048 characters";
    }
    for (p = url; *p; ++p) {
        /* RFC 3986 never has these unencoded; keeping them out also keeps
         * URLs safe to print in logs and metric labels. */
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f
            || strchr("\"\\<>{}|^`", *p)) {
            return "URL holds spaces, quotes or control characters";
        }
    }
    host = url + s;
    end = host + strcspn(host, "/?#");
    if (memchr(host, '@', (apr_size_t)(end - host))) {
        return "URL with user or password";
    }
    if (strchr(url, '#')) {
        return "URL with a fragment";
    }
    if (end == host) {
        return "URL without a host";
    }
    /* Host without the port. */
    n = (apr_size_t)(end - host);
    if (*host == '[') {
        const char *b = memchr(host, ']', n);
        if (!b) {
            return "URL with a malformed IPv6 host";
        }
        n = (apr_size_t)(b - host) + 1;
    }
    else if ((p = memchr(host, ':', n))) {
        n = (apr_size_t)(p - host);
    }
    if (!https && !loopback_host(host, n)) {
        return "plain http:// only to a loopback address; use https://";
    }
    return NULL;
}

int apisec_jwks_url_allowed(const char *url, const char *prefix)
{
    apr_size_t n = strlen(prefix);

    if (strncasecmp(url, prefix, n)) {
        return 0;
    }
    return (n && prefix[n - 1] == '/') || url[n] == '/' || url[n] == '\0';
}

const char *apisec_jwks_discovery_urls(apr_pool_t *pool, const char *issuer,
                                       const char **oidc, const char **oauth)
{
    int https;
    apr_size_t s = scheme_of(issuer, &https), len = strlen(issuer);
    const char *path, *err;

    if ((err = apisec_jwks_url_check(issuer))) {
        return err;
    }
    if (strchr(issuer, '?')) {
        return "an issuer has no query";
    }
    path = issuer + s + strcspn(issuer + s, "/");
    /* OpenID Connect Discovery 1.0, 4: the issuer without a trailing
     * slash, then the well-known path. */
    while (len > s && issuer[len - 1] == '/') {
        --len;
    }
    *oidc = apr_pstrcat(pool, apr_pstrmemdup(pool, issuer, len),
                        "/.well-known/openid-configuration", NULL);
    /* RFC 8414, 3.1: between host and path; "/" as path is none. */
    *oauth = apr_pstrcat(
        pool, apr_pstrmemdup(pool, issuer, (apr_size_t)(path - issuer)),
        "/.well-known/oauth-authorization-server",
        strcmp(path, "/") ? path : "", NULL);
    return NULL;
}

/* Cache-Control directive NAME at P (case-insensitive, a whole token). */
static int directive_at(const char *p, const char *name, apr_size_t n)
{
    return !strncasecmp(p, name, n)
           && (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'
               || p[n] == '=' || p[n] == ';');
}

apr_interval_time_t apisec_jwks_refresh_after(const char *header,
                                              apr_interval_time_t min,
                                              apr_interval_time_t max)
{
    const char *p = header;
    apr_int64_t age = -1;

    while (p && *p) {
        while (*p == ' ' || *p == '\t' || *p == ',') {
            ++p;
        }
        if (directive_at(p, "no-store", 8) || directive_at(p, "no-cache", 8)) {
            return min;
        }
        if (directive_at(p, "max-age", 7) && p[7] == '=') {
            const char *v = p + 8;
            apr_int64_t n = 0;
            if (*v == '"') {
                ++v;
            }
            if (!apr_isdigit(*v)) {
                return min;
            }
            for (; apr_isdigit(*v); ++v) {
                n = n > 100000000 ? n : n * 10 + (*v - '0');
            }
            age = n;
        }
        /* On to the next directive, past quoted strings. */
        while (*p && *p != ',') {
            if (*p == '"') {
                for (++p; *p && *p != '"'; ++p) {
                    if (*p == '\\' && p[1]) {
                        ++p;
                    }
                }
                if (!*p) {
                    break;
                }
            }
            ++p;
        }
    }
    if (age < 0) {
        return min;
    }
    if (apr_time_from_sec(age) < min) {
        return min;
    }
    return apr_time_from_sec(age) > max ? max : apr_time_from_sec(age);
}

apr_interval_time_t apisec_jwks_retry_after(int failures,
                                            apr_interval_time_t min_refetch,
                                            apr_interval_time_t refresh_min)
{
    apr_interval_time_t t = min_refetch;
    int i;

    for (i = 1; i < failures && t < refresh_min; ++i) {
        t *= 2;
    }
    return t > refresh_min
               ? (min_refetch > refresh_min ? min_refetch : refresh_min)
               : t;
}

int apisec_jwks_usable(apr_time_t fetched, apr_time_t now,
                       apr_interval_time_t max_stale)
{
    return fetched > 0 && now - fetched <= max_stale;
}

int apisec_jwks_pace(apr_uint64_t *next, apr_time_t now,
                     apr_interval_time_t gap)
{
    apr_uint64_t cur = __atomic_load_n(next, __ATOMIC_ACQUIRE);

    if ((apr_uint64_t)now < cur) {
        return 0;
    }
    return __atomic_compare_exchange_n(next, &cur, (apr_uint64_t)(now + gap), 0,
                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
