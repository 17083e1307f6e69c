#include "headers.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>

/* The values helmet 8 sends by default (checked against helmet 8.3.0 by
 * t/helmet_parity.t, which runs helmet itself). */
static const apisec_header_t helmet_defaults[] = {
    {"Content-Security-Policy",
     "default-src 'self';base-uri 'self';font-src 'self' https: data:;"
     "form-action 'self';frame-ancestors 'self';img-src 'self' data:;"
     "object-src 'none';script-src 'self';script-src-attr 'none';"
     "style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests"},
    {"Cross-Origin-Opener-Policy", "same-origin"},
    {"Cross-Origin-Resource-Policy", "same-origin"},
    {"Origin-Agent-Cluster", "?1"},
    {"Referrer-Policy", "no-referrer"},
    {"X-Content-Type-Options", "nosniff"},
    {"X-DNS-Prefetch-Control", "off"},
    {"X-Download-Options", "noopen"},
    {"X-Frame-Options", "SAMEORIGIN"},
    {"X-Permitted-Cross-Domain-Policies", "none"},
    {"X-XSS-Protection", "0"},
};

#define HSTS_ONE_YEAR 31536000L

const apisec_header_t *apisec_headers_defaults(int *count)
{
    *count = (int)(sizeof(helmet_defaults) / sizeof(helmet_defaults[0]));
    return helmet_defaults;
}

const char *apisec_headers_hsts_default(void)
{
    return "max-age=31536000; includeSubDomains";
}

static int is_tchar(unsigned char c)
{
    return apr_isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

const char *apisec_headers_check_name(const char *name)
{
    const unsigned char *s = (const unsigned char *)name;

    if (!*s) {
        return "the header name is empty";
    }
    for (; *s; ++s) {
        if (!is_tchar(*s)) {
            return "the header name has a character that is not allowed in "
                   "a field name (RFC 9110 token)";
        }
    }
    return NULL;
}

const char *apisec_headers_check_value(const char *value)
{
    const unsigned char *s = (const unsigned char *)value;

    for (; *s; ++s) {
        if ((*s < 0x20 && *s != '\t') || *s == 0x7f || *s >= 0x80) {
            return "the header value has a control or non-ASCII character";
        }
    }
    return NULL;
}

const char *apisec_headers_hsts_parse(apr_pool_t *p, int argc,
                                      char *const argv[], const char **value)
{
    long max_age = -1;
    int subdomains = 0, preload = 0, i;

    for (i = 0; i < argc; ++i) {
        const char *a = argv[i];
        if (strncasecmp(a, "max-age=", 8) == 0) {
            char *end;
            errno = 0;
            max_age = strtol(a + 8, &end, 10);
            if (errno || end == a + 8 || *end || max_age < 0) {
                return "max-age must be a whole number of seconds, "
                       "for example max-age=31536000";
            }
        }
        else if (strcasecmp(a, "includeSubDomains") == 0) {
            subdomains = 1;
        }
        else if (strcasecmp(a, "preload") == 0) {
            preload = 1;
        }
        else {
            return apr_psprintf(p,
                                "unknown token '%s': write max-age=N "
                                "[includeSubDomains] [preload], or off",
                                a);
        }
    }
    if (max_age < 0) {
        return "max-age=N is required, for example max-age=31536000";
    }
    if (preload && (!subdomains || max_age < HSTS_ONE_YEAR)) {
        return "preload needs includeSubDomains and max-age of at least "
               "31536000 (one year): browsers' preload lists refuse less";
    }
    *value = apr_psprintf(p, "max-age=%ld%s%s", max_age,
                          subdomains ? "; includeSubDomains" : "",
                          preload ? "; preload" : "");
    return NULL;
}
