/* Unit tests of the remote key set core: what becomes a key from a
 * provider's answer, discovery documents, URLs, refresh timing and the
 * server-wide pacing. */
#include "tap.h"
#include "jwks_remote.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <stdlib.h>

#define S(x) apr_time_from_sec(x)

/* A real EC P-256 public key as a JWK (RFC 7515 A.3). */
#define EC_JWK(kid)                                                            \
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"" kid "\","                   \
    "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","                   \
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}"

static const char *parse(apr_pool_t *p, const char *doc, int *nkeys,
                         apr_array_header_t **dropped)
{
    apisec_jwk_set_t *set = NULL;
    const char *err = apisec_jwks_parse(p, doc, strlen(doc), &set, dropped);

    *nkeys = err ? -1 : apisec_jwk_set_count(set);
    return err;
}

static const char *first_reason(apr_array_header_t *d)
{
    return d && d->nelts ? APR_ARRAY_IDX(d, 0, apisec_jwks_dropped_t).reason
                         : NULL;
}

/* An RSA public JWK of BITS bits, made here. */
static char *rsa_jwk(apr_pool_t *p, int bits, const char *kid)
{
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    BIGNUM *n = NULL, *e = NULL;
    unsigned char nb[1024], eb[8];
    int nl, el;
    char *out;
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *ns, *es;
    int i, j;
    unsigned v = 0, bitsin = 0;

    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n);
    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e);
    nl = BN_bn2bin(n, nb);
    el = BN_bn2bin(e, eb);
    ns = apr_palloc(p, (apr_size_t)nl * 2 + 4);
    for (i = 0, j = 0; i < nl; ++i) {
        v = (v << 8) | nb[i];
        bitsin += 8;
        while (bitsin >= 6) {
            ns[j++] = tbl[(v >> (bitsin - 6)) & 63];
            bitsin -= 6;
        }
    }
    if (bitsin) {
        ns[j++] = tbl[(v << (6 - bitsin)) & 63];
    }
    ns[j] = '\0';
    es = el == 3 && eb[0] == 1 && eb[1] == 0 && eb[2] == 1 ? "AQAB" : "";
    out = apr_psprintf(p,
                       "{\"kty\":\"RSA\",\"kid\":\"%s\",\"n\":\"%s\","
                       "\"e\":\"%s\"}",
                       kid, ns, es);
    BN_free(n);
    BN_free(e);
    EVP_PKEY_free(k);
    return out;
}

static void test_parse(apr_pool_t *p)
{
    apr_array_header_t *d;
    int n;
    char *big;

    tap_ok(!parse(p, "{\"keys\":[" EC_JWK("a") "]}", &n, &d) && n == 1,
           "a JWKS with one EC key gives one key");
    tap_ok(
        !parse(
            p,
            "{\"keys\":[" EC_JWK(
                "a") ",{\"kty\":\"oct\",\"kid\":\"h\","
                     "\"k\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}",
            &n, &d)
            && n == 1,
        "an oct key beside an EC key: only the EC key");
    tap_is_str(first_reason(d), "symmetric (oct) key in a remote set",
               "the oct key is reported as dropped");
    tap_is_str(APR_ARRAY_IDX(d, 0, apisec_jwks_dropped_t).kid, "h",
               "the dropped key's kid is reported");
    tap_is_str(parse(p,
                     "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAAAAAAAAAAAAAAAAA"
                     "AAAAAAAAAAAAAAAAAAAAAAAA\"}]}",
                     &n, &d),
               "no usable signing key", "a set of only oct keys is refused");
    parse(p, "{\"keys\":[" EC_JWK("a") ",{\"kty\":\"XYZ\"}]}", &n, &d);
    tap_is_str(first_reason(d), "unknown kty", "unknown kty dropped");
    parse(p,
          "{\"keys\":[" EC_JWK("a") ",{\"kty\":\"EC\",\"use\":\"enc\","
                                    "\"crv\":\"P-256\",\"kid\":\"e\",\"x\":"
                                    "\"f83OJ3D2xF1Bg8vub9tLe1gH"
                                    "MzV76e8Tus9uPHvRVEU\",\"y\":\"x_"
                                    "FEzRu9m36HLN_tue659LNpXW6pCyStikY"
                                    "jKIWI5a0\"}]}",
          &n, &d);
    tap_ok(n == 1, "use=enc key not counted");
    tap_is_str(first_reason(d), "use is not sig", "use=enc dropped");
    parse(p,
          "{\"keys\":[" EC_JWK("a") ",{\"kty\":\"EC\",\"crv\":\"P-256\","
                                    "\"kid\":\"w\",\"key_ops\":[\"wrapKey\"],"
                                    "\"x\":\"f83OJ3D2xF1Bg8vu"
                                    "b9tLe1gHMzV76e8Tus9uPHvRVEU\",\"y\":\"x_"
                                    "FEzRu9m36HLN_tue659LNpXW6pCyS"
                                    "tikYjKIWI5a0\"}]}",
          &n, &d);
    tap_is_str(first_reason(d), "key_ops without verify",
               "key_ops without verify dropped");
    parse(p,
          "{\"keys\":[" EC_JWK("a") ",{\"kty\":\"EC\",\"crv\":\"P-256\","
                                    "\"kid\":\"m\",\"alg\":\"RS256\",\"x\":"
                                    "\"f83OJ3D2xF1Bg8vub9tLe1gH"
                                    "MzV76e8Tus9uPHvRVEU\",\"y\":\"x_"
                                    "FEzRu9m36HLN_tue659LNpXW6pCyStikY"
                                    "jKIWI5a0\"}]}",
          &n, &d);
    tap_ok(n == 1 && d->nelts == 1,
           "an EC key claiming alg RS256 dropped (the jwk core's rule)");
    tap_is_str(parse(p, "{\"keys\":[]}", &n, &d), "no usable signing key",
               "an empty set refused");
    parse(p,
          apr_psprintf(p, "{\"keys\":[" EC_JWK("a") ",%s]}",
                       rsa_jwk(p, 1024, "small")),
          &n, &d);
    tap_ok(n == 1 && d->nelts == 1, "1024-bit RSA dropped");
    tap_ok(!parse(p,
                  apr_psprintf(p, "{\"keys\":[%s]}", rsa_jwk(p, 2048, "big")),
                  &n, &d)
               && n == 1,
           "2048-bit RSA kept");
    parse(p, "{\"keys\":[" EC_JWK("a") "," EC_JWK("a") "]}", &n, &d);
    tap_ok(n == 1 && d->nelts == 1, "a kid seen twice: the second dropped");
    tap_is_str(parse(p, "{\"keys\":[", &n, &d), "not JSON",
               "truncated JSON refused");
    tap_is_str(parse(p, "<html>", &n, &d), "not JSON", "HTML refused");
    tap_is_str(parse(p, "{\"keys\":{}}", &n, &d), "not a JWKS (no keys array)",
               "keys not an array refused");
    tap_is_str(parse(p, EC_JWK("a"), &n, &d), "not a JWKS (no keys array)",
               "a lone JWK is not a JWKS");
    big = apr_palloc(p, APISEC_JWKS_MAX_DOC + 2);
    memset(big, ' ', APISEC_JWKS_MAX_DOC + 1);
    big[APISEC_JWKS_MAX_DOC + 1] = '\0';
    tap_is_str(parse(p, big, &n, &d), "larger than 256 KB",
               "over 256 KB refused before parsing");
}

static void test_discovery(apr_pool_t *p)
{
    const char *uri = NULL, *a, *b;
    const char *doc = "{\"issuer\":\"https://idp.example/realms/x\","
                      "\"jwks_uri\":\"https://idp.example/certs\"}";

    tap_ok(!apisec_jwks_discovery_parse(p, doc, strlen(doc),
                                        "https://idp.example/realms/x", &uri)
               && uri && !strcmp(uri, "https://idp.example/certs"),
           "discovery gives jwks_uri when the issuer matches");
    tap_is_str(apisec_jwks_discovery_parse(
                   p, doc, strlen(doc), "https://idp.example/realms/x/", &uri),
               "issuer differs from APISecJWTIssuer",
               "a trailing slash is another issuer");
    doc = "{\"issuer\":\"https://idp.example\",\"jwks_uri\":"
          "\"http://evil.example/certs\"}";
    tap_ok(apisec_jwks_discovery_parse(p, doc, strlen(doc),
                                       "https://idp.example", &uri)
               != NULL,
           "a plain http jwks_uri off loopback is refused");
    doc = "{\"issuer\":\"https://idp.example\"}";
    tap_is_str(apisec_jwks_discovery_parse(p, doc, strlen(doc),
                                           "https://idp.example", &uri),
               "no jwks_uri", "metadata without jwks_uri refused");
    tap_ok(!apisec_jwks_discovery_urls(p, "https://idp.example/t/1", &a, &b),
           "well-known URLs of an issuer with a path");
    tap_is_str(a, "https://idp.example/t/1/.well-known/openid-configuration",
               "OpenID Connect Discovery appends");
    tap_is_str(b,
               "https://idp.example/.well-known/oauth-authorization-server/t/1",
               "RFC 8414 inserts");
    apisec_jwks_discovery_urls(p, "https://idp.example/", &a, &b);
    tap_is_str(b, "https://idp.example/.well-known/oauth-authorization-server",
               "RFC 8414 for an issuer without a path");
}

static void test_urls(void)
{
    tap_ok(!apisec_jwks_url_check("https://idp.example/jwks"), "https ok");
    tap_ok(!apisec_jwks_url_check("http://127.0.0.1:8080/jwks"),
           "http to 127.0.0.1 ok");
    tap_ok(!apisec_jwks_url_check("http://[::1]:8080/jwks"), "http to ::1 ok");
    tap_ok(!apisec_jwks_url_check("http://localhost/jwks"),
           "http to localhost");
    tap_ok(apisec_jwks_url_check("http://idp.example/jwks") != NULL,
           "http off loopback refused");
    tap_ok(apisec_jwks_url_check("http://127.0.0.1.evil.example/") != NULL,
           "a name starting with 127. is not loopback");
    tap_ok(apisec_jwks_url_check("https://u:p@idp.example/") != NULL,
           "user info refused");
    tap_ok(apisec_jwks_url_check("file:///etc/passwd") != NULL,
           "file: refused");
    tap_ok(apisec_jwks_url_check("https://idp.example/a b") != NULL,
           "spaces refused");
    tap_ok(apisec_jwks_url_check("https://idp.example/a\"b") != NULL,
           "quotes refused (URLs go into metric labels)");
    tap_ok(apisec_jwks_url_check("https://idp.example/a\\b") != NULL,
           "backslashes refused");
    tap_ok(apisec_jwks_url_allowed("https://idp.example/t1/jwks",
                                   "https://idp.example/t1"),
           "prefix allows a path below it");
    tap_ok(!apisec_jwks_url_allowed("https://idp.example.evil/jwks",
                                    "https://idp.example"),
           "prefix does not allow a longer host");
    tap_ok(!apisec_jwks_url_allowed("https://idp.example/t10/jwks",
                                    "https://idp.example/t1"),
           "prefix does not allow a sibling path");
}

static void test_timing(void)
{
    apr_uint64_t next = 0;
    apr_time_t now = S(1000000);

    tap_is_int(apisec_jwks_refresh_after("max-age=3600", S(300), S(86400)),
               S(3600), "max-age inside the bounds is taken");
    tap_is_int(
        apisec_jwks_refresh_after("public, max-age=10", S(300), S(86400)),
        S(300), "max-age under MIN gives MIN");
    tap_is_int(apisec_jwks_refresh_after("max-age=999999999", S(300), S(86400)),
               S(86400), "max-age over MAX gives MAX");
    tap_is_int(apisec_jwks_refresh_after(NULL, S(300), S(86400)), S(300),
               "no Cache-Control gives MIN");
    tap_is_int(
        apisec_jwks_refresh_after("no-store, max-age=3600", S(300), S(86400)),
        S(300), "no-store gives MIN");
    tap_is_int(apisec_jwks_refresh_after("x=\"max-age=9999,\", max-age=600",
                                         S(300), S(86400)),
               S(600), "a quoted string is skipped");
    tap_is_int(apisec_jwks_refresh_after("max-age=abc", S(300), S(86400)),
               S(300), "a malformed max-age gives MIN");
    tap_is_int(apisec_jwks_retry_after(1, S(60), S(300)), S(60),
               "first failure: retry after MinRefetch");
    tap_is_int(apisec_jwks_retry_after(2, S(60), S(300)), S(120),
               "second failure: doubled");
    tap_is_int(apisec_jwks_retry_after(9, S(60), S(300)), S(300),
               "many failures: at most the refresh MIN");
    tap_ok(!apisec_jwks_usable(0, now, S(86400)), "never fetched: unusable");
    tap_ok(apisec_jwks_usable(now - S(86400), now, S(86400)),
           "at MaxStale: still usable");
    tap_ok(!apisec_jwks_usable(now - S(86401), now, S(86400)),
           "past MaxStale: unusable");
    tap_ok(apisec_jwks_pace(&next, now, S(60)), "first claim wins");
    tap_ok(!apisec_jwks_pace(&next, now + S(59), S(60)),
           "a claim within the gap loses");
    tap_ok(apisec_jwks_pace(&next, now + S(60), S(60)),
           "a claim after the gap wins");
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_parse(p);
    test_discovery(p);
    test_urls();
    test_timing();
    apr_pool_destroy(p);
    apr_terminate();
    printf("1..%d\n", tap_count);
    return tap_failed ? 1 : 0;
}
