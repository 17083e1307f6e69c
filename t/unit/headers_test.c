/* Unit tests of src/headers.c: helmet's defaults, name/value checks, HSTS. */
#include "headers.h"
#include "tap.h"

#include <apr_general.h>

static const char *default_value(const char *name)
{
    int i, n;
    const apisec_header_t *d = apisec_headers_defaults(&n);

    for (i = 0; i < n; ++i) {
        if (!strcmp(d[i].name, name)) {
            return d[i].value;
        }
    }
    return NULL;
}

static const char *hsts(apr_pool_t *p, const char *a, const char *b,
                        const char *c, const char **err)
{
    char *argv[3];
    int argc = 0;
    const char *value = NULL;

    if (a)
        argv[argc++] = (char *)a;
    if (b)
        argv[argc++] = (char *)b;
    if (c)
        argv[argc++] = (char *)c;
    *err = apisec_headers_hsts_parse(p, argc, argv, &value);
    return value;
}

int main(void)
{
    apr_pool_t *p;
    const char *err;
    int n;

    apr_initialize();
    apr_pool_create(&p, NULL);

    apisec_headers_defaults(&n);
    tap_is_int(n, 11, "helmet's default set has 11 headers besides HSTS");
    tap_is_str(default_value("X-Frame-Options"), "SAMEORIGIN",
               "X-Frame-Options is SAMEORIGIN");
    tap_is_str(default_value("X-XSS-Protection"), "0",
               "X-XSS-Protection is 0 (the auditor is disabled)");
    tap_is_str(default_value("Referrer-Policy"), "no-referrer",
               "Referrer-Policy is no-referrer");
    tap_is_str(default_value("Origin-Agent-Cluster"), "?1",
               "Origin-Agent-Cluster is ?1");
    tap_ok(default_value("Strict-Transport-Security") == NULL,
           "HSTS is not in the plain set: it depends on HTTPS");
    tap_is_str(apisec_headers_hsts_default(),
               "max-age=31536000; includeSubDomains", "helmet's HSTS value");

    tap_ok(apisec_headers_check_name("X-Frame-Options") == NULL,
           "a token is a valid header name");
    tap_ok(apisec_headers_check_name("Bad Name") != NULL,
           "a space in a header name is refused");
    tap_ok(apisec_headers_check_name("X:Y") != NULL,
           "a colon in a header name is refused");
    tap_ok(apisec_headers_check_name("") != NULL, "an empty name is refused");
    tap_ok(apisec_headers_check_value("default-src 'self'\tx") == NULL,
           "visible ASCII, space and tab are a valid value");
    tap_ok(apisec_headers_check_value("a\r\nSet-Cookie: x=1") != NULL,
           "CR LF in a value is refused (no response splitting)");
    tap_ok(apisec_headers_check_value("caf\xc3\xa9") != NULL,
           "non-ASCII in a value is refused");

    tap_is_str(hsts(p, "max-age=600", NULL, NULL, &err), "max-age=600",
               "max-age alone");
    tap_is_str(
        hsts(p, "max-age=31536000", "includeSubDomains", "preload", &err),
        "max-age=31536000; includeSubDomains; preload",
        "max-age, includeSubDomains and preload");
    hsts(p, "max-age=600", "includeSubDomains", "preload", &err);
    tap_ok(err != NULL, "preload with less than a year is refused");
    hsts(p, "max-age=31536000", "preload", NULL, &err);
    tap_ok(err != NULL, "preload without includeSubDomains is refused");
    hsts(p, "includeSubDomains", NULL, NULL, &err);
    tap_ok(err != NULL, "max-age is required");
    hsts(p, "max-age=-1", NULL, NULL, &err);
    tap_ok(err != NULL, "a negative max-age is refused");
    hsts(p, "max-age=1x", NULL, NULL, &err);
    tap_ok(err != NULL, "a max-age that is not a number is refused");
    hsts(p, "max-age=1", "always", NULL, &err);
    tap_ok(err != NULL && strstr(err, "always"),
           "an unknown token is refused and named");

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
