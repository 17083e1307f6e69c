/* Known attacks on JWS/JWT validators, each minted at run time with keys
 * generated here, and each expected to fail with the specific reason.
 * Also: a good token for every algorithm verifies, so the refusals are not
 * just a verifier that refuses everything. */
#include "tap.h"
#include "jose_util.h"

#include <openssl/rand.h>

static apr_pool_t *pool;
static apisec_jwk_set_t *set;
static EVP_PKEY *rsa, *ec256, *ec384, *ec521, *ed;
static unsigned char secret[64];

static const char *payload = "{\"sub\":\"alice\",\"exp\":4102444800}";

static EVP_PKEY *keep(EVP_PKEY *k, const char *kid)
{
    const char *err;

    EVP_PKEY_up_ref(k);
    err = apisec_jwk_set_add_pkey(set, k, kid);
    if (err) {
        tap_diag("setup: %s: %s", kid, err);
    }
    return k;
}

static void setup(void)
{
    set = apisec_jwk_set_make(pool);
    rsa = keep(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048), "rsa");
    ec256 = keep(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), "ec256");
    ec384 = keep(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"), "ec384");
    ec521 = keep(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521"), "ec521");
    ed = keep(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), "ed");
    RAND_bytes(secret, sizeof(secret));
    tap_ok(apisec_jwk_set_add_secret(set, secret, sizeof(secret), "hs") == NULL,
           "setup: 64-byte secret loads");
    tap_ok(apisec_jwk_set_check(set, APISEC_JWS_ALL_ALGS, NULL) == NULL,
           "setup: every key fits an allowed algorithm");
}

static EVP_PKEY *key_for(apisec_jws_alg_t alg)
{
    switch (alg) {
    case APISEC_JWS_ES256:
        return ec256;
    case APISEC_JWS_ES384:
        return ec384;
    case APISEC_JWS_ES512:
        return ec521;
    case APISEC_JWS_EDDSA:
        return ed;
    default:
        return rsa;
    }
}

static const char *kid_for(apisec_jws_alg_t alg)
{
    if (alg <= APISEC_JWS_HS512) {
        return "hs";
    }
    if (alg <= APISEC_JWS_PS512) {
        return "rsa";
    }
    switch (alg) {
    case APISEC_JWS_ES256:
        return "ec256";
    case APISEC_JWS_ES384:
        return "ec384";
    case APISEC_JWS_ES512:
        return "ec521";
    default:
        return "ed";
    }
}

static char *mint(apisec_jws_alg_t alg, const char *header, const char *body)
{
    return ju_token(pool, alg, key_for(alg), secret, sizeof(secret), header,
                    body ? body : payload);
}

static char *hdr(apisec_jws_alg_t alg, const char *extra)
{
    return apr_psprintf(pool, "{\"alg\":\"%s\",\"kid\":\"%s\"%s}",
                        apisec_jws_alg_name(alg), kid_for(alg),
                        extra ? extra : "");
}

#define EXPECT(tok, want, name)                                                \
    tap_is_str(                                                                \
        apisec_jose_strerror(ju_check(pool, (tok), set, APISEC_JWS_ALL_ALGS)), \
        apisec_jose_strerror(want), (name))

static void good_tokens(void)
{
    int a;

    for (a = 0; a < APISEC_JWS_ALG_COUNT; a++) {
        char *tok =
            mint((apisec_jws_alg_t)a, hdr((apisec_jws_alg_t)a, NULL), NULL);
        apisec_jws_t jws;
        json_t *claims;
        apisec_jose_err_t rv = apisec_jose_decode_jwt(
            pool, tok, strlen(tok), set, APISEC_JWS_ALL_ALGS, &jws, &claims);

        tap_ok(rv == APISEC_JOSE_OK && claims
                   && !strcmp(json_string_value(json_object_get(claims, "sub")),
                              "alice"),
               "%s token verifies and decodes (%s)",
               apisec_jws_alg_name((apisec_jws_alg_t)a),
               apisec_jose_strerror(rv));
    }
    /* Without kid: exactly one key fits RS256, ES384, EdDSA, HS256. */
    EXPECT(mint(APISEC_JWS_RS256, "{\"alg\":\"RS256\"}", NULL), APISEC_JOSE_OK,
           "RS256 without kid uses the one RSA key");
    EXPECT(mint(APISEC_JWS_HS256, "{\"alg\":\"HS256\"}", NULL), APISEC_JOSE_OK,
           "HS256 without kid uses the one secret");
}

static void alg_none(void)
{
    static const char *const spellings[] = {"none", "None", "NONE", "nOnE"};
    size_t i;

    for (i = 0; i < 4; i++) {
        char *h =
            apr_psprintf(pool, "{\"alg\":\"%s\",\"kid\":\"hs\"}", spellings[i]);
        char *tok = apr_pstrcat(
            pool, apisec_b64url_encode(pool, (unsigned char *)h, strlen(h)),
            ".",
            apisec_b64url_encode(pool, (unsigned char *)payload,
                                 strlen(payload)),
            ".", NULL);
        EXPECT(tok, APISEC_JOSE_UNSECURED,
               apr_psprintf(pool, "alg %s refused", spellings[i]));
        /* Even with a signature part attached. */
        EXPECT(apr_pstrcat(pool, tok, "AAAA", NULL), APISEC_JOSE_UNSECURED,
               apr_psprintf(pool, "alg %s with a signature refused",
                            spellings[i]));
    }
    EXPECT(mint(APISEC_JWS_HS256, "{\"alg\":\"HS257\"}", NULL),
           APISEC_JOSE_ALG_UNKNOWN, "unknown alg refused");
    EXPECT(mint(APISEC_JWS_HS256, "{\"alg\":\"hs256\"}", NULL),
           APISEC_JOSE_ALG_UNKNOWN, "alg names are case-sensitive");
    EXPECT(mint(APISEC_JWS_HS256, "{\"alg\":[\"HS256\"]}", NULL),
           APISEC_JOSE_MALFORMED, "non-string alg refused");
    EXPECT(mint(APISEC_JWS_HS256, "{\"kid\":\"hs\"}", NULL),
           APISEC_JOSE_MALFORMED, "missing alg refused");
    {
        char *tok = mint(APISEC_JWS_HS256, hdr(APISEC_JWS_HS256, NULL), NULL);
        tap_is_int(
            ju_check(pool, tok, set, APISEC_JWS_ALG_BIT(APISEC_JWS_RS256)),
            APISEC_JOSE_ALG_NOT_ALLOWED, "alg outside the allowlist refused");
    }
}

static void signatures(void)
{
    char *tok = mint(APISEC_JWS_RS256, hdr(APISEC_JWS_RS256, NULL), NULL);
    char *cut =
        apr_pstrndup(pool, tok, (apr_size_t)(strrchr(tok, '.') - tok + 1));
    char *pem = ju_pubkey_pem(pool, rsa);

    EXPECT(cut, APISEC_JOSE_BAD_SIGNATURE,
           "RS256 with an empty signature refused");
    /* The classic key confusion: HS256 keyed with the RSA public key PEM. */
    EXPECT(ju_token(pool, APISEC_JWS_HS256, NULL, (unsigned char *)pem,
                    strlen(pem), "{\"alg\":\"HS256\",\"kid\":\"rsa\"}",
                    payload),
           APISEC_JOSE_KEY_MISMATCH,
           "HS256 keyed with the RSA PEM, kid of the RSA key: refused");
    EXPECT(ju_token(pool, APISEC_JWS_HS256, NULL, (unsigned char *)pem,
                    strlen(pem), "{\"alg\":\"HS256\"}", payload),
           APISEC_JOSE_BAD_SIGNATURE,
           "HS256 keyed with the RSA PEM, no kid: checked against the secret "
           "only");
    {
        apisec_jwk_set_t *rsa_only = apisec_jwk_set_make(pool);
        char *tok2 =
            ju_token(pool, APISEC_JWS_HS256, NULL, (unsigned char *)pem,
                     strlen(pem), "{\"alg\":\"HS256\"}", payload);
        EVP_PKEY_up_ref(rsa);
        apisec_jwk_set_add_pkey(rsa_only, rsa, NULL);
        tap_is_int(ju_check(pool, tok2, rsa_only, APISEC_JWS_ALL_ALGS),
                   APISEC_JOSE_UNKNOWN_KEY,
                   "HS256 keyed with the RSA PEM, only an RSA key configured, "
                   "HS256 allowed: refused");
        tap_ok(apisec_jwk_set_check(rsa_only,
                                    APISEC_JWS_ALG_BIT(APISEC_JWS_HS256), NULL)
                   != NULL,
               "an RSA key with only HS256 allowed is refused at load");
    }
    /* A truncated HMAC tag. */
    {
        char *hs = mint(APISEC_JWS_HS256, hdr(APISEC_JWS_HS256, NULL), NULL);
        EXPECT(apr_pstrndup(pool, hs, strlen(hs) - 11),
               APISEC_JOSE_BAD_SIGNATURE, "truncated HMAC tag refused");
    }
    EXPECT(
        mint(APISEC_JWS_ES256, "{\"alg\":\"ES256\",\"kid\":\"ec384\"}", NULL),
        APISEC_JOSE_KEY_MISMATCH, "ES256 naming a P-384 key refused");
    EXPECT(mint(APISEC_JWS_RS256, "{\"alg\":\"PS256\",\"kid\":\"rsa\"}", NULL),
           APISEC_JOSE_BAD_SIGNATURE,
           "PKCS#1 v1.5 signature presented as PS256 refused");
}

/* ES256 token with a raw signature of our choosing. */
static char *es256_with(const unsigned char *sig, apr_size_t len)
{
    char *tok = mint(APISEC_JWS_ES256, hdr(APISEC_JWS_ES256, NULL), NULL);
    char *dot = strrchr(tok, '.');

    return apr_pstrcat(pool,
                       apr_pstrndup(pool, tok, (apr_size_t)(dot - tok + 1)),
                       apisec_b64url_encode(pool, sig, len), NULL);
}

static void ecdsa(void)
{
    static const char n256[] =
        "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
    unsigned char sig[64], good[64], *n, *raw;
    apr_size_t nlen, rawlen;
    char *tok, *dot;
    BIGNUM *s, *order;

    n = ju_hex(pool, n256, &nlen);
    memset(sig, 0, sizeof(sig));
    EXPECT(es256_with(sig, 64), APISEC_JOSE_BAD_SIGNATURE,
           "ES256 r=s=0 refused (CVE-2022-21449)");
    memcpy(sig, n, 32);
    memcpy(sig + 32, n, 32);
    EXPECT(es256_with(sig, 64), APISEC_JOSE_BAD_SIGNATURE,
           "ES256 r=s=n refused");
    /* A real signature with r or s pushed to n, or r+n. */
    tok = mint(APISEC_JWS_ES256, hdr(APISEC_JWS_ES256, NULL), NULL);
    dot = strrchr(tok, '.');
    apisec_b64url_decode(pool, dot + 1, strlen(dot + 1), &raw, &rawlen);
    memcpy(good, raw, 64);
    memcpy(sig, good, 64);
    memcpy(sig, n, 32);
    EXPECT(es256_with(sig, 64), APISEC_JOSE_BAD_SIGNATURE, "ES256 r=n refused");
    memcpy(sig, good, 64);
    memcpy(sig + 32, n, 32);
    EXPECT(es256_with(sig, 64), APISEC_JOSE_BAD_SIGNATURE, "ES256 s=n refused");
    EXPECT(es256_with(good, 63), APISEC_JOSE_BAD_SIGNATURE,
           "ES256 63-byte signature refused");
    memcpy(sig, good, 64);
    EXPECT(es256_with(sig, 48), APISEC_JOSE_BAD_SIGNATURE,
           "ES256 signature of ES384 length refused");
    {
        unsigned char longer[65];
        memcpy(longer + 1, good, 64);
        longer[0] = 0;
        EXPECT(es256_with(longer, 65), APISEC_JOSE_BAD_SIGNATURE,
               "ES256 65-byte signature refused");
    }
    EXPECT(es256_with(good, 64), APISEC_JOSE_OK,
           "ES256 the untouched signature verifies");
    /* High S: s' = n - s is the same signature and must still verify. */
    s = BN_bin2bn(good + 32, 32, NULL);
    order = BN_bin2bn(n, 32, NULL);
    BN_sub(s, order, s);
    memcpy(sig, good, 32);
    BN_bn2binpad(s, sig + 32, 32);
    EXPECT(es256_with(sig, 64), APISEC_JOSE_OK,
           "ES256 with the other S (high/low) accepted");
    BN_free(s);
    BN_free(order);
}

static void encoding(void)
{
    char *tok = mint(APISEC_JWS_HS256, hdr(APISEC_JWS_HS256, NULL), NULL);
    char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
    char *h = apr_pstrndup(pool, tok, (apr_size_t)(d1 - tok));
    char *pl = apr_pstrndup(pool, d1 + 1, (apr_size_t)(d2 - d1 - 1));
    char *sg = d2 + 1;

    EXPECT(tok, APISEC_JOSE_OK, "baseline HS256 token verifies");
    EXPECT(apr_pstrcat(pool, tok, "=", NULL), APISEC_JOSE_MALFORMED,
           "padded signature refused");
    EXPECT(apr_pstrcat(pool, h, "=.", pl, ".", sg, NULL), APISEC_JOSE_MALFORMED,
           "padded header refused");
    EXPECT(apr_pstrcat(pool, h, ".", pl, "==.", sg, NULL),
           APISEC_JOSE_MALFORMED, "padded payload refused");
    {
        char *plus = apr_pstrdup(pool, tok), *q;
        int swapped = 0;
        for (q = plus + (d2 - tok); *q; q++) {
            if (*q == '-') {
                *q = '+';
                swapped = 1;
            }
            else if (*q == '_') {
                *q = '/';
                swapped = 1;
            }
        }
        if (swapped) {
            EXPECT(plus, APISEC_JOSE_MALFORMED,
                   "standard-alphabet ('+' '/') signature refused");
        }
        else {
            tap_ok(
                1,
                "standard-alphabet: signature had no - or _ (nothing to swap)");
        }
        EXPECT(apr_pstrcat(pool, h, ".", pl, "+.", sg, NULL),
               APISEC_JOSE_MALFORMED, "'+' in payload refused");
        EXPECT(apr_pstrcat(pool, h, ".", pl, ".", sg, "/", NULL),
               APISEC_JOSE_MALFORMED, "'/' in signature refused");
    }
    EXPECT(apr_pstrcat(pool, " ", tok, NULL), APISEC_JOSE_MALFORMED,
           "leading space refused");
    EXPECT(apr_pstrcat(pool, tok, "\n", NULL), APISEC_JOSE_MALFORMED,
           "trailing newline refused");
    EXPECT(apr_pstrcat(pool, h, ".", pl, ".", apr_pstrndup(pool, sg, 8), " ",
                       sg + 8, NULL),
           APISEC_JOSE_MALFORMED, "space inside the signature refused");
    EXPECT(apr_pstrcat(pool, h, ".\t", pl, ".", sg, NULL),
           APISEC_JOSE_MALFORMED, "tab in payload refused");
    EXPECT(apr_pstrcat(pool, tok, ".", NULL), APISEC_JOSE_MALFORMED,
           "trailing dot (4 parts) refused");
    EXPECT(apr_pstrcat(pool, tok, ".", sg, NULL), APISEC_JOSE_MALFORMED,
           "extra segment refused");
    EXPECT(apr_pstrcat(pool, h, ".", pl, NULL), APISEC_JOSE_MALFORMED,
           "two parts refused");
    EXPECT(apr_pstrcat(pool, tok, ".a.b.c", NULL), APISEC_JOSE_MALFORMED,
           "six parts refused");
    EXPECT(apr_pstrcat(pool, h, ".", pl, ".", sg, ".", sg, ".", sg, NULL),
           APISEC_JOSE_JWE, "five parts (JWE shape) refused as JWE");
    EXPECT("eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d",
           APISEC_JOSE_JWE, "a JWE refused");
    EXPECT(mint(APISEC_JWS_HS256,
                "{\"alg\":\"HS256\",\"enc\":\"A256GCM\",\"kid\":\"hs\"}", NULL),
           APISEC_JOSE_JWE, "enc in a three-part header refused");
    EXPECT("", APISEC_JOSE_MALFORMED, "empty token refused");
    EXPECT("..", APISEC_JOSE_MALFORMED, "two dots refused");
}

static void header_rules(void)
{
    static const char *const members[] = {
        ",\"jwk\":{\"kty\":\"oct\",\"k\":\"AAAA\"}",
        ",\"jku\":\"https://evil.example/jwks\"",
        ",\"x5u\":\"https://evil.example/cert\"", ",\"x5c\":[\"MIIB\"]"};
    size_t i;

    for (i = 0; i < 4; i++) {
        EXPECT(mint(APISEC_JWS_ES256, hdr(APISEC_JWS_ES256, members[i]), NULL),
               APISEC_JOSE_HEADER_KEY,
               apr_psprintf(pool, "header %.4s refused", members[i] + 1));
    }
    EXPECT(
        mint(APISEC_JWS_ES256, hdr(APISEC_JWS_ES256, ",\"x5t\":\"abc\""), NULL),
        APISEC_JOSE_OK, "header x5t (a hint only) ignored");
    EXPECT(mint(APISEC_JWS_HS256,
                hdr(APISEC_JWS_HS256, ",\"crit\":[\"exp\"],\"exp\":1"), NULL),
           APISEC_JOSE_CRIT, "unknown crit refused");
    EXPECT(mint(APISEC_JWS_HS256,
                hdr(APISEC_JWS_HS256, ",\"crit\":[\"b64\"],\"b64\":false"),
                NULL),
           APISEC_JOSE_CRIT, "crit b64 (RFC 7797) refused");
    EXPECT(
        mint(APISEC_JWS_HS256, hdr(APISEC_JWS_HS256, ",\"b64\":false"), NULL),
        APISEC_JOSE_CRIT, "b64:false without crit refused");
    EXPECT(mint(APISEC_JWS_HS256, hdr(APISEC_JWS_HS256, ",\"crit\":[]"), NULL),
           APISEC_JOSE_CRIT, "empty crit refused");
    EXPECT(mint(APISEC_JWS_HS256,
                "{\"alg\":\"HS256\",\"kid\":\"hs\",\"alg\":\"none\"}", NULL),
           APISEC_JOSE_MALFORMED, "duplicate header member refused");
    EXPECT(mint(APISEC_JWS_HS256,
                "{\"alg\":\"HS256\",\"kid\":\"hs\",\"kid\":\"rsa\"}", NULL),
           APISEC_JOSE_MALFORMED, "duplicate kid member refused");
    EXPECT(mint(APISEC_JWS_HS256, "[\"HS256\"]", NULL), APISEC_JOSE_MALFORMED,
           "array header refused");
    EXPECT(mint(APISEC_JWS_HS256, "\"HS256\"", NULL), APISEC_JOSE_MALFORMED,
           "string header refused");
    EXPECT(mint(APISEC_JWS_HS256, "{\"alg\":\"HS256\"} ", NULL), APISEC_JOSE_OK,
           "trailing JSON whitespace in the header is fine");
    EXPECT(mint(APISEC_JWS_HS256, "{\"alg\":\"HS256\"}x", NULL),
           APISEC_JOSE_MALFORMED,
           "trailing garbage after the header object refused");
    EXPECT(mint(APISEC_JWS_HS256, "{\"alg\":\"HS256\",\"kid\":\"h\\u0000s\"}",
                NULL),
           APISEC_JOSE_MALFORMED, "NUL escape in the header refused");
    EXPECT(mint(APISEC_JWS_HS256, hdr(APISEC_JWS_HS256, ",\"typ\":7"), NULL),
           APISEC_JOSE_MALFORMED, "non-string typ refused");
    EXPECT(mint(APISEC_JWS_HS256, "{\"alg\":\"HS256\",\"kid\":7}", NULL),
           APISEC_JOSE_MALFORMED, "non-string kid refused");
}

static void payload_rules(void)
{
    static const char *const bodies[] = {
        "[1]",         "\"alice\"", "42", "null", "{\"a\":1,\"a\":2}",
        "{\"a\":1} x", "not json"};
    size_t i;

    for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        char *tok =
            mint(APISEC_JWS_HS256, hdr(APISEC_JWS_HS256, NULL), bodies[i]);
        apisec_jws_t jws;
        json_t *claims;
        tap_is_int(apisec_jose_decode_jwt(pool, tok, strlen(tok), set,
                                          APISEC_JWS_ALL_ALGS, &jws, &claims),
                   APISEC_JOSE_NOT_JSON,
                   apr_psprintf(pool, "JWT payload %s refused", bodies[i]));
    }
}

static void kids(void)
{
    static const char *const bad[] = {"../../../../etc/passwd",
                                      "/dev/null",
                                      "file:///etc/passwd",
                                      "https://evil.example/k",
                                      "hs\\u002f..",
                                      "HS",
                                      "hs "};
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT(mint(APISEC_JWS_HS256,
                    apr_psprintf(pool, "{\"alg\":\"HS256\",\"kid\":\"%s\"}",
                                 bad[i]),
                    NULL),
               APISEC_JOSE_UNKNOWN_KEY,
               apr_psprintf(pool, "kid '%s' is an unknown key", bad[i]));
    }
    EXPECT(mint(APISEC_JWS_ES256, "{\"alg\":\"ES256\"}", NULL), APISEC_JOSE_OK,
           "ES256 without kid: the one P-256 key");
}

int main(void)
{
    apr_initialize();
    apr_pool_create(&pool, NULL);
    setup();
    good_tokens();
    alg_none();
    signatures();
    ecdsa();
    encoding();
    header_rules();
    payload_rules();
    kids();
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec256);
    EVP_PKEY_free(ec384);
    EVP_PKEY_free(ec521);
    EVP_PKEY_free(ed);
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
