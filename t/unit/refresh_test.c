/* Unit tests of src/refresh.c: cookie parsing, record encoding, the
 * rotation decision. */
#include "refresh.h"
#include "tap.h"

#include <apr_general.h>
#include <apr_strings.h>

int main(void)
{
    apr_pool_t *p;
    unsigned char raw[32], got[32], h1[32], h2[32], rec[32];
    const char *name = APISEC_REFRESH_COOKIE;
    char *text, *hdr;
    apisec_refresh_token_rec_t t = {{0}, 7}, t2;
    apisec_refresh_family_rec_t f = {7, -3, 1, 200, {0}}, f2;

    apr_initialize();
    apr_pool_create(&p, NULL);
    tap_ok(apisec_refresh_random(raw, sizeof(raw)), "random bytes");
    text = apisec_refresh_token_text(p, raw);
    tap_is_int(strlen(text), 43, "43 characters of base64url");

    hdr = apr_psprintf(p, "a=b; %s=%s; c=d", name, text);
    tap_is_int(apisec_refresh_parse_cookie(hdr, name, got),
               APISEC_REFRESH_FOUND, "found among other cookies");
    tap_ok(!memcmp(got, raw, 32), "decoded to the same bytes");
    hdr = apr_psprintf(p, "%s=\"%s\"", name, text);
    tap_is_int(apisec_refresh_parse_cookie(hdr, name, got),
               APISEC_REFRESH_FOUND, "a quoted value");
    hdr = apr_psprintf(p, "%s=%s;%s=%s", name, text, name, text);
    tap_is_int(apisec_refresh_parse_cookie(hdr, name, got), APISEC_REFRESH_BAD,
               "the cookie twice is bad");
    tap_is_int(apisec_refresh_parse_cookie("x=1", name, got),
               APISEC_REFRESH_NONE, "absent");
    tap_is_int(apisec_refresh_parse_cookie(NULL, name, got),
               APISEC_REFRESH_NONE, "no header");
    hdr = apr_psprintf(p, "x%s=%s", name, text);
    tap_is_int(apisec_refresh_parse_cookie(hdr, name, got), APISEC_REFRESH_NONE,
               "a longer name is another cookie");
    hdr = apr_psprintf(p, "%s=%.42s", name, text);
    tap_is_int(apisec_refresh_parse_cookie(hdr, name, got), APISEC_REFRESH_BAD,
               "42 characters are bad");
    hdr = apr_psprintf(p, "%s=%.42s+", name, text);
    tap_is_int(apisec_refresh_parse_cookie(hdr, name, got), APISEC_REFRESH_BAD,
               "'+' is not base64url");
    hdr = apr_psprintf(p, "%s=%.42sB", name,
                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    tap_is_int(apisec_refresh_parse_cookie(hdr, name, got), APISEC_REFRESH_BAD,
               "non-zero trailing bits are bad (one spelling per token)");
    hdr = apr_psprintf(p, "%s=%.42sE", name,
                       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    tap_is_int(apisec_refresh_parse_cookie(hdr, name, got),
               APISEC_REFRESH_FOUND, "zero trailing bits are fine");

    apisec_refresh_hash(raw, h1);
    raw[0] ^= 1;
    apisec_refresh_hash(raw, h2);
    tap_ok(memcmp(h1, h2, 32) != 0, "the hash depends on every byte");

    memset(t.family, 0xab, sizeof(t.family));
    apisec_refresh_token_encode(&t, rec);
    tap_ok(apisec_refresh_token_decode(rec, APISEC_REFRESH_TOKEN_REC_LEN, &t2)
               && t2.gen == 7 && !memcmp(t2.family, t.family, 16),
           "token record round trip");
    tap_ok(!apisec_refresh_token_decode(rec, 23, &t2),
           "short token record refused");
    apisec_refresh_id_hash("user-1", f.id_hash);
    apisec_refresh_family_encode(&f, rec);
    tap_ok(apisec_refresh_family_decode(rec, APISEC_REFRESH_FAMILY_REC_LEN, &f2)
               && f2.gen == 7 && f2.ver == -3 && f2.live == 1
               && f2.user_len == 200 && !memcmp(f2.id_hash, f.id_hash, 12),
           "family record round trip");
    rec[16] = 2;
    tap_ok(
        !apisec_refresh_family_decode(rec, APISEC_REFRESH_FAMILY_REC_LEN, &f2),
        "a bad state byte is refused");
    tap_ok(APISEC_REFRESH_FAMILY_REC_LEN <= 32
               && APISEC_REFRESH_TOKEN_REC_LEN <= 32,
           "records fit the store's 32-byte values");

    tap_is_int(apisec_refresh_decide(&t, &f), APISEC_REFRESH_ROTATE,
               "current: rotate");
    f.gen = 8;
    tap_is_int(apisec_refresh_decide(&t, &f), APISEC_REFRESH_REUSE,
               "old: reuse");
    f.live = 0;
    tap_is_int(apisec_refresh_decide(&t, &f), APISEC_REFRESH_DEAD,
               "revoked: dead");
    tap_is_int(apisec_refresh_decide(&t, NULL), APISEC_REFRESH_DEAD,
               "gone: dead");

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
