#include "cors.h"
#include "headers.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>

static int valid_scheme(const char *s, apr_size_t n)
{
    apr_size_t i;

    if (n == 0 || !apr_isalpha(s[0])) {
        return 0;
    }
    for (i = 1; i < n; ++i) {
        if (!apr_isalnum(s[i]) && s[i] != '+' && s[i] != '-' && s[i] != '.') {
            return 0;
        }
    }
    return 1;
}

/* Host as a browser serialises it: a DNS name or IPv4 address of letters,
 * digits, '-' and '.', or an IPv6 literal in brackets. */
static int valid_host(const char *s, apr_size_t n)
{
    apr_size_t i;

    if (n == 0) {
        return 0;
    }
    if (s[0] == '[') {
        if (n < 3 || s[n - 1] != ']') {
            return 0;
        }
        for (i = 1; i < n - 1; ++i) {
            if (!apr_isxdigit(s[i]) && s[i] != ':' && s[i] != '.') {
                return 0;
            }
        }
        return 1;
    }
    for (i = 0; i < n; ++i) {
        if (!apr_isalnum(s[i]) && s[i] != '-' && s[i] != '.') {
            return 0;
        }
    }
    return s[0] != '.' && s[n - 1] != '.';
}

static const char *parse_port(const char *s, int *port)
{
    long v = 0;

    if (!*s) {
        return "the port after ':' is empty";
    }
    for (; *s; ++s) {
        if (!apr_isdigit(*s)) {
            return "the port must be a number, and an origin has no path, "
                   "query or trailing slash";
        }
        v = v * 10 + (*s - '0');
        if (v > 65535) {
            return "the port must be at most 65535";
        }
    }
    *port = (int)v;
    return NULL;
}

const char *apisec_cors_origin_parse(apr_pool_t *p, const char *origin,
                                     const char **canonical)
{
    const char *sep, *host, *colon, *err;
    char *scheme, *hostname;
    apr_size_t hostlen;
    int port = 0;

    if (strcmp(origin, "*") == 0) {
        *canonical = origin;
        return NULL;
    }
    if (strcasecmp(origin, "null") == 0) {
        return "the 'null' origin is sent by sandboxed frames and local "
               "files, which any site can create: list real origins";
    }
    if (strchr(origin, '*')) {
        return "wildcards are not allowed in an origin: list each origin "
               "exactly, for example https://app.example.com";
    }
    sep = strstr(origin, "://");
    if (!sep || !valid_scheme(origin, (apr_size_t)(sep - origin))) {
        return "an origin is scheme://host[:port], for example "
               "https://app.example.com";
    }
    host = sep + 3;
    if (strchr(host, '/') || strchr(host, '?') || strchr(host, '#')) {
        return "an origin has no path, query or trailing slash: write "
               "scheme://host[:port] only";
    }
    if (strchr(host, '@')) {
        return "an origin has no user name or password";
    }
    colon = host[0] == '[' ? strstr(host, "]:") : strchr(host, ':');
    if (colon && host[0] == '[') {
        ++colon;
    }
    hostlen = colon ? (apr_size_t)(colon - host) : strlen(host);
    if (!valid_host(host, hostlen)) {
        return "the host of the origin is not a valid host name or address";
    }
    if (colon && (err = parse_port(colon + 1, &port)) != NULL) {
        return err;
    }
    scheme = apr_pstrmemdup(p, origin, (apr_size_t)(sep - origin));
    hostname = apr_pstrmemdup(p, host, hostlen);
    for (char *c = scheme; *c; ++c) {
        *c = (char)apr_tolower(*c);
    }
    for (char *c = hostname; *c; ++c) {
        *c = (char)apr_tolower(*c);
    }
    /* Browsers omit the scheme's default port from Origin. */
    if ((port == 443 && strcmp(scheme, "https") == 0)
        || (port == 80 && strcmp(scheme, "http") == 0)) {
        port = 0;
    }
    *canonical = port ? apr_psprintf(p, "%s://%s:%d", scheme, hostname, port)
                      : apr_pstrcat(p, scheme, "://", hostname, NULL);
    return NULL;
}

int apisec_cors_origin_allowed(const apr_array_header_t *allowed,
                               const char *origin)
{
    int i;

    if (!allowed || !origin) {
        return 0;
    }
    for (i = 0; i < allowed->nelts; ++i) {
        if (strcmp(APR_ARRAY_IDX(allowed, i, const char *), origin) == 0) {
            return 1;
        }
    }
    return 0;
}

const char *apisec_cors_token_list(apr_pool_t *p, int argc, char *const argv[],
                                   const char **joined)
{
    const char *out = NULL;
    int i;

    for (i = 0; i < argc; ++i) {
        /* A single argument may itself be a comma-separated list. */
        char *list = apr_pstrdup(p, argv[i]), *last, *tok;
        for (tok = apr_strtok(list, ", ", &last); tok;
             tok = apr_strtok(NULL, ", ", &last)) {
            if (apisec_headers_check_name(tok)) {
                return apr_psprintf(p,
                                    "'%s' is not a valid method or header "
                                    "name",
                                    tok);
            }
            out = out ? apr_pstrcat(p, out, ", ", tok, NULL) : tok;
        }
    }
    if (!out) {
        return "at least one name is needed";
    }
    *joined = out;
    return NULL;
}
