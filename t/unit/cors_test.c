/* Unit tests of src/cors.c: origin parsing, canonical form and matching. */
#include "cors.h"
#include "tap.h"

#include <apr_general.h>

static const char *canon(apr_pool_t *p, const char *origin, const char **err)
{
    const char *out = NULL;

    *err = apisec_cors_origin_parse(p, origin, &out);
    return *err ? NULL : out;
}

int main(void)
{
    apr_pool_t *p;
    apr_array_header_t *allowed;
    const char *err, *joined;
    char *list[] = {"GET", "POST, PUT"};
    char *bad[] = {"GET", "PO/ST"};

    apr_initialize();
    apr_pool_create(&p, NULL);

    tap_is_str(canon(p, "https://app.example.com", &err),
               "https://app.example.com", "a plain origin is kept");
    tap_is_str(canon(p, "HTTPS://App.Example.COM", &err),
               "https://app.example.com", "scheme and host are lower-cased");
    tap_is_str(canon(p, "https://app.example.com:443", &err),
               "https://app.example.com", "the default https port is dropped");
    tap_is_str(canon(p, "http://localhost:8080", &err), "http://localhost:8080",
               "a non-default port is kept");
    tap_is_str(canon(p, "http://[::1]:3000", &err), "http://[::1]:3000",
               "an IPv6 literal with a port");
    tap_is_str(canon(p, "*", &err), "*", "'*' is accepted as any origin");
    canon(p, "https://*.example.com", &err);
    tap_ok(err && strstr(err, "wildcard"), "a wildcard subdomain is refused");
    canon(p, "null", &err);
    tap_ok(err != NULL, "the null origin is refused");
    canon(p, "https://app.example.com/", &err);
    tap_ok(err != NULL, "a trailing slash is refused");
    canon(p, "https://app.example.com/path", &err);
    tap_ok(err != NULL, "a path is refused");
    canon(p, "app.example.com", &err);
    tap_ok(err != NULL, "an origin without scheme is refused");
    canon(p, "https://user@app.example.com", &err);
    tap_ok(err != NULL, "user info is refused");
    canon(p, "https://app.example.com:99999", &err);
    tap_ok(err != NULL, "a port over 65535 is refused");
    canon(p, "https://app.exa mple.com", &err);
    tap_ok(err != NULL, "a space in the host is refused");

    allowed = apr_array_make(p, 2, sizeof(const char *));
    APR_ARRAY_PUSH(allowed, const char *) = "https://app.example.com";
    APR_ARRAY_PUSH(allowed, const char *) = "http://localhost:8080";
    tap_ok(apisec_cors_origin_allowed(allowed, "https://app.example.com"),
           "a listed origin matches");
    tap_ok(!apisec_cors_origin_allowed(allowed,
                                       "https://app.example.com.evil.net"),
           "a suffix-extended origin does not match");
    tap_ok(!apisec_cors_origin_allowed(allowed, "https://evilapp.example.com"),
           "a prefix-extended origin does not match");
    tap_ok(!apisec_cors_origin_allowed(allowed, "http://app.example.com"),
           "another scheme does not match");
    tap_ok(!apisec_cors_origin_allowed(
               allowed, "https://app.example.com, http://localhost:8080"),
           "two origins in one header do not match");
    tap_ok(!apisec_cors_origin_allowed(allowed, NULL), "no origin, no match");

    tap_ok(apisec_cors_token_list(p, 2, list, &joined) == NULL,
           "a list of methods is accepted");
    tap_is_str(joined, "GET, POST, PUT", "lists are joined with ', '");
    tap_ok(apisec_cors_token_list(p, 2, bad, &joined) != NULL,
           "a name with a slash is refused");

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
