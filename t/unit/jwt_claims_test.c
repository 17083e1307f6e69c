/* Claim rules (jwt_claims.c), one behaviour per assertion. NOW is fixed;
 * the default leeway is 30 s. */
#include "tap.h"

#include <apr_general.h>
#include <apr_strings.h>

#include "jwt_claims.h"

#define NOW 1700000000
static apr_pool_t *pool;

static apisec_claims_err_t check_with(const apisec_jwt_policy_t *pol,
                                      const char *header, const char *claims)
{
    json_error_t e;
    /* JSON_ALLOW_NUL: the check itself must cope with NUL inside strings. */
    json_t *h = json_loads(header, 0, &e),
           *c = json_loads(claims, JSON_ALLOW_NUL, &e);
    apisec_claims_err_t rv =
        apisec_jwt_claims_check(pol, h, c, apr_time_from_sec(NOW));

    json_decref(h);
    json_decref(c);
    return rv;
}

static apisec_claims_err_t check(const apisec_jwt_policy_t *pol,
                                 const char *claims)
{
    return check_with(pol, "{\"alg\":\"ES256\"}", claims);
}

static apr_array_header_t *list(const char *a, const char *b)
{
    apr_array_header_t *arr = apr_array_make(pool, 2, sizeof(const char *));

    if (a) {
        APR_ARRAY_PUSH(arr, const char *) = a;
    }
    if (b) {
        APR_ARRAY_PUSH(arr, const char *) = b;
    }
    return arr;
}

#define IS(got, want, name)                                                    \
    tap_is_str(apisec_jwt_claims_strerror(got),                                \
               apisec_jwt_claims_strerror(want), name)

static void times(void)
{
    apisec_jwt_policy_t pol;

    apisec_jwt_claims_policy_init(&pol);
    IS(check(&pol, "{\"exp\":1700000100}"), APISEC_CLAIMS_OK,
       "future exp accepted");
    IS(check(&pol, "{\"exp\":1700000100.5}"), APISEC_CLAIMS_OK,
       "fractional exp accepted");
    IS(check(&pol, "{}"), APISEC_CLAIMS_MISSING, "exp required by default");
    IS(check(&pol, "{\"exp\":null}"), APISEC_CLAIMS_MALFORMED,
       "null exp refused as not a number");
    IS(check(&pol, "{\"exp\":\"1700000100\"}"), APISEC_CLAIMS_MALFORMED,
       "string exp refused");
    IS(check(&pol, "{\"exp\":true}"), APISEC_CLAIMS_MALFORMED,
       "boolean exp refused");
    IS(check(&pol, "{\"exp\":1699999980}"), APISEC_CLAIMS_OK,
       "exp 20 s ago within the 30 s leeway");
    IS(check(&pol, "{\"exp\":1699999970}"), APISEC_CLAIMS_EXPIRED,
       "exp exactly leeway ago: expired");
    IS(check(&pol, "{\"exp\":1699990000}"), APISEC_CLAIMS_EXPIRED,
       "old exp: expired");
    IS(check(&pol, "{\"exp\":1700000100,\"nbf\":1700000020}"), APISEC_CLAIMS_OK,
       "nbf 20 s ahead within leeway");
    IS(check(&pol, "{\"exp\":1700000100,\"nbf\":1700000031}"),
       APISEC_CLAIMS_NOT_YET_VALID, "nbf 31 s ahead: not yet valid");
    IS(check(&pol, "{\"exp\":1700000100,\"nbf\":[1]}"), APISEC_CLAIMS_MALFORMED,
       "array nbf refused");
    IS(check(&pol, "{\"exp\":1700000100,\"iat\":1700000030}"), APISEC_CLAIMS_OK,
       "iat at the leeway edge accepted");
    IS(check(&pol, "{\"exp\":1700000100,\"iat\":1700000031}"),
       APISEC_CLAIMS_ISSUED_IN_FUTURE, "iat beyond leeway refused");
    IS(check(&pol, "{\"exp\":1700000100,\"iat\":\"x\"}"),
       APISEC_CLAIMS_MALFORMED, "string iat refused");
    pol.leeway = 0;
    IS(check(&pol, "{\"exp\":1700000000}"), APISEC_CLAIMS_EXPIRED,
       "leeway 0: exp == now is expired");
    IS(check(&pol, "{\"exp\":1700000001}"), APISEC_CLAIMS_OK,
       "leeway 0: exp one second ahead accepted");
    pol.leeway = 30;
    pol.max_lifetime = 3600;
    IS(check(&pol, "{\"iat\":1700000000,\"exp\":1700003600}"), APISEC_CLAIMS_OK,
       "lifetime equal to the maximum accepted");
    IS(check(&pol, "{\"iat\":1700000000,\"exp\":1700003601}"),
       APISEC_CLAIMS_LIFETIME, "lifetime over the maximum refused");
    IS(check(&pol, "{\"exp\":1700007200}"), APISEC_CLAIMS_LIFETIME,
       "without iat, exp - now over the maximum refused");
    IS(check(&pol, "{\"exp\":1700000600}"), APISEC_CLAIMS_OK,
       "without iat, exp - now under the maximum accepted");
    pol.required = list("sub", NULL);
    IS(check(&pol, "{\"sub\":\"a\"}"), APISEC_CLAIMS_LIFETIME,
       "max lifetime needs exp even when exp is not required");
}

static void required(void)
{
    apisec_jwt_policy_t pol;

    apisec_jwt_claims_policy_init(&pol);
    pol.required = list("sub", "jti");
    IS(check(&pol, "{\"sub\":\"a\",\"jti\":\"1\"}"), APISEC_CLAIMS_OK,
       "required claims present; exp then optional");
    IS(check(&pol, "{\"sub\":\"a\"}"), APISEC_CLAIMS_MISSING,
       "a required claim missing");
    IS(check(&pol, "{\"sub\":\"a\",\"jti\":null}"), APISEC_CLAIMS_MISSING,
       "a required claim null counts as missing");
}

static void issuer_audience(void)
{
    apisec_jwt_policy_t pol;

    apisec_jwt_claims_policy_init(&pol);
    pol.issuers = list("https://a.example", "https://b.example");
    IS(check(&pol, "{\"exp\":1700000100,\"iss\":\"https://b.example\"}"),
       APISEC_CLAIMS_OK, "listed issuer accepted");
    IS(check(&pol, "{\"exp\":1700000100,\"iss\":\"https://c.example\"}"),
       APISEC_CLAIMS_ISSUER, "other issuer refused");
    IS(check(&pol, "{\"exp\":1700000100,\"iss\":\"https://A.example\"}"),
       APISEC_CLAIMS_ISSUER, "issuer compared exactly");
    IS(check(&pol, "{\"exp\":1700000100}"), APISEC_CLAIMS_ISSUER,
       "missing issuer refused");
    IS(check(&pol, "{\"exp\":1700000100,\"iss\":[\"https://a.example\"]}"),
       APISEC_CLAIMS_ISSUER, "array issuer refused");
    IS(check(&pol,
             "{\"exp\":1700000100,\"iss\":\"https://a.example\\u0000x\"}"),
       APISEC_CLAIMS_ISSUER, "issuer with trailing garbage refused");
    apisec_jwt_claims_policy_init(&pol);
    IS(check(&pol, "{\"exp\":1700000100,\"aud\":\"api\"}"),
       APISEC_CLAIMS_AUDIENCE,
       "aud present but no audience configured: refused (RFC 7519 4.1.3)");
    IS(check(&pol, "{\"exp\":1700000100}"), APISEC_CLAIMS_OK,
       "no aud and no audience configured: accepted");
    pol.audiences = list("api", "api2");
    IS(check(&pol, "{\"exp\":1700000100,\"aud\":\"api2\"}"), APISEC_CLAIMS_OK,
       "string aud matching accepted");
    IS(check(&pol, "{\"exp\":1700000100,\"aud\":[\"x\",\"api\"]}"),
       APISEC_CLAIMS_OK, "array aud with a match accepted");
    IS(check(&pol, "{\"exp\":1700000100,\"aud\":[\"x\",\"y\"]}"),
       APISEC_CLAIMS_AUDIENCE, "array aud without a match refused");
    IS(check(&pol, "{\"exp\":1700000100,\"aud\":\"other\"}"),
       APISEC_CLAIMS_AUDIENCE, "other aud refused");
    IS(check(&pol, "{\"exp\":1700000100}"), APISEC_CLAIMS_AUDIENCE,
       "missing aud refused");
    IS(check(&pol, "{\"exp\":1700000100,\"aud\":[]}"), APISEC_CLAIMS_AUDIENCE,
       "empty aud array refused");
    IS(check(&pol, "{\"exp\":1700000100,\"aud\":[[\"api\"]]}"),
       APISEC_CLAIMS_AUDIENCE, "nested aud array refused");
}

static void type(void)
{
    apisec_jwt_policy_t pol;

    apisec_jwt_claims_policy_init(&pol);
    IS(check_with(&pol, "{\"typ\":\"anything\"}", "{\"exp\":1700000100}"),
       APISEC_CLAIMS_OK, "typ not checked when not configured");
    pol.typ = "at+jwt";
    IS(check_with(&pol, "{\"typ\":\"at+jwt\"}", "{\"exp\":1700000100}"),
       APISEC_CLAIMS_OK, "typ equal accepted");
    IS(check_with(&pol, "{\"typ\":\"AT+JWT\"}", "{\"exp\":1700000100}"),
       APISEC_CLAIMS_OK, "typ compared case-insensitively");
    IS(check_with(&pol, "{\"typ\":\"application/at+jwt\"}",
                  "{\"exp\":1700000100}"),
       APISEC_CLAIMS_OK, "typ with application/ prefix accepted");
    IS(check_with(&pol, "{\"typ\":\"JWT\"}", "{\"exp\":1700000100}"),
       APISEC_CLAIMS_TYPE, "other typ refused");
    IS(check_with(&pol, "{}", "{\"exp\":1700000100}"), APISEC_CLAIMS_TYPE,
       "missing typ refused");
    IS(check_with(&pol, "{\"typ\":1}", "{\"exp\":1700000100}"),
       APISEC_CLAIMS_TYPE, "non-string typ refused");
    IS(check_with(&pol, "{\"typ\":\"text/at+jwt\"}", "{\"exp\":1700000100}"),
       APISEC_CLAIMS_TYPE, "other media type refused");
    pol.typ = "application/at+jwt";
    IS(check_with(&pol, "{\"typ\":\"at+jwt\"}", "{\"exp\":1700000100}"),
       APISEC_CLAIMS_OK, "configured with prefix, token without: accepted");
    pol.typ = "a/b";
    IS(check_with(&pol, "{\"typ\":\"application/a/b\"}",
                  "{\"exp\":1700000100}"),
       APISEC_CLAIMS_TYPE, "prefix kept when another '/' follows");
}

/* The two halves a token cache runs apart: the time checks over numbers
 * read once, and the checks that do not depend on the time. */
static void split(void)
{
    apisec_jwt_policy_t pol;
    apisec_jwt_times_t t;
    json_error_t e;
    json_t *h = json_loads("{\"alg\":\"ES256\"}", 0, &e);
    json_t *c = json_loads("{\"exp\":1700000100,\"iat\":1699999990,"
                           "\"iss\":\"https://a.test\"}",
                           0, &e);
    json_t *bad = json_loads("{\"nbf\":\"soon\"}", 0, &e);

    apisec_jwt_claims_policy_init(&pol);
    IS(apisec_jwt_claims_times(c, &t), APISEC_CLAIMS_OK, "time claims read");
    tap_ok(t.has_exp && t.exp == 1700000100 && t.has_iat && t.iat == 1699999990
               && !t.has_nbf,
           "as numbers, with what is present");
    IS(apisec_jwt_claims_times(bad, &t), APISEC_CLAIMS_MALFORMED,
       "a time claim that is no number is refused when read");
    apisec_jwt_claims_times(c, &t);
    IS(apisec_jwt_claims_check_times(&pol, &t, apr_time_from_sec(NOW)),
       APISEC_CLAIMS_OK, "the read times pass now");
    IS(apisec_jwt_claims_check_times(&pol, &t, apr_time_from_sec(NOW + 130)),
       APISEC_CLAIMS_EXPIRED, "the same times fail once exp + leeway passed");
    pol.max_lifetime = 60;
    IS(apisec_jwt_claims_check_times(&pol, &t, apr_time_from_sec(NOW)),
       APISEC_CLAIMS_LIFETIME, "max lifetime is a time check");
    pol.max_lifetime = 0;
    pol.issuers = list("https://b.test", NULL);
    IS(apisec_jwt_claims_check_static(&pol, h, c), APISEC_CLAIMS_ISSUER,
       "the issuer is a check apart from the time");
    pol.issuers = list("https://a.test", NULL);
    IS(apisec_jwt_claims_check_static(&pol, h, c), APISEC_CLAIMS_OK,
       "which passes whatever the time");
    IS(apisec_jwt_claims_check(&pol, h, c, apr_time_from_sec(NOW + 130)),
       APISEC_CLAIMS_EXPIRED, "and the whole check still runs both");
    json_decref(h);
    json_decref(c);
    json_decref(bad);
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    times();
    required();
    issuer_audience();
    type();
    split();
    {
        json_t *h = json_object();
        IS(apisec_jwt_claims_check(&(apisec_jwt_policy_t){0}, h, NULL, 0),
           APISEC_CLAIMS_MALFORMED, "missing claims object refused");
        json_decref(h);
    }
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
