/* Strict base64url (b64url.c): one spelling per byte string. */
#include "tap.h"

#include <apr_general.h>
#include <string.h>

#include "b64url.h"

static apr_pool_t *pool;

static int decodes(const char *in, const char *want, apr_size_t want_len)
{
    unsigned char *out;
    apr_size_t len;

    if (apisec_b64url_decode(pool, in, strlen(in), &out, &len) != APR_SUCCESS) {
        return 0;
    }
    return len == want_len && memcmp(out, want, len) == 0 && out[len] == '\0';
}

static int refused(const char *in, apr_size_t len)
{
    unsigned char *out;
    apr_size_t n;

    return apisec_b64url_decode(pool, in, len, &out, &n) == APR_EINVAL
           && out == NULL && n == 0;
}

#define REFUSED(s, name) tap_ok(refused((s), strlen(s)), "%s", name)

int main(void)
{
    static const char *const rfc4648[][2] = {{"", ""},
                                             {"f", "Zg"},
                                             {"fo", "Zm8"},
                                             {"foo", "Zm9v"},
                                             {"foob", "Zm9vYg"},
                                             {"fooba", "Zm9vYmE"},
                                             {"foobar", "Zm9vYmFy"}};
    unsigned char all[256];
    unsigned char *out;
    apr_size_t len, i;
    char *enc;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    for (i = 0; i < 7; i++) {
        tap_ok(decodes(rfc4648[i][1], rfc4648[i][0], strlen(rfc4648[i][0])),
               "RFC 4648 vector '%s' decodes", rfc4648[i][1]);
        enc = apisec_b64url_encode(pool, (const unsigned char *)rfc4648[i][0],
                                   strlen(rfc4648[i][0]));
        tap_ok(enc && strcmp(enc, rfc4648[i][1]) == 0,
               "RFC 4648 vector '%s' encodes", rfc4648[i][1]);
    }
    for (i = 0; i < 256; i++) {
        all[i] = (unsigned char)i;
    }
    enc = apisec_b64url_encode(pool, all, 256);
    tap_ok(strchr(enc, '+') == NULL && strchr(enc, '/') == NULL
               && strchr(enc, '=') == NULL,
           "encoding uses the URL alphabet without padding");
    tap_ok(apisec_b64url_decode(pool, enc, strlen(enc), &out, &len)
                   == APR_SUCCESS
               && len == 256 && memcmp(out, all, 256) == 0,
           "all 256 byte values round-trip");
    tap_ok(decodes("-_-_", "\xfb\xff\xbf", 3),
           "'-' and '_' decode as 62 and 63");
    REFUSED("Zg==", "padding refused");
    REFUSED("Zm8=", "single padding refused");
    REFUSED("Zm9v====", "padding after a full quantum refused");
    REFUSED("+/+/", "standard alphabet '+' '/' refused");
    REFUSED("Zm9v Yg", "inner space refused");
    REFUSED(" Zm9v", "leading space refused");
    REFUSED("Zm9v\n", "trailing newline refused");
    REFUSED("Zm9v\r\nYg", "CRLF refused");
    REFUSED("Zm9vY", "length 1 mod 4 refused");
    REFUSED("A", "single character refused");
    REFUSED("Zh", "non-zero unused bits (2 chars) refused");
    REFUSED("Zm9", "non-zero unused bits (3 chars) refused");
    REFUSED("Zm.v", "dot refused");
    REFUSED("Zm9v\x80", "high byte refused");
    tap_ok(refused("Zm\0v", 4), "embedded NUL refused");
    tap_ok(decodes("AA", "\0", 1), "canonical one zero byte accepted");
    REFUSED("AB", "non-canonical one zero byte refused");
    tap_ok(decodes("", "", 0), "empty input is the empty string");
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
