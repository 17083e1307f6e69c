/* Unit tests of src/jws_sign.c: every algorithm signs a token that the
 * verify core (jose.c) accepts with the signer's own verification key and
 * with a key rebuilt from the published JWK; alg= choices and refusals. */
#include "jws_sign.h"
#include "jose.h"
#include "tap.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <openssl/pem.h>

static char *pem_of(apr_pool_t *p, EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long n;

    PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
    n = BIO_get_mem_data(b, &data);
    data = apr_pstrmemdup(p, data, (apr_size_t)n);
    BIO_free(b);
    EVP_PKEY_free(k);
    return data;
}

static EVP_PKEY *gen(const char *type, const char *arg)
{
    if (!strcmp(type, "RSA")) {
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)atoi(arg));
    }
    if (!strcmp(type, "EC")) {
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", arg);
    }
    return EVP_PKEY_Q_keygen(NULL, NULL, type);
}

/* Signs, then verifies through jose.c twice: with the signer's set, and
 * with a set made from the public JWK alone (what a JWKS client does). */
static void round_trip(apr_pool_t *p, const apisec_signer_t *s,
                       const char *name)
{
    json_t *claims = json_pack("{s:s,s:i}", "sub", "alice", "exp", 2000000000);
    char *tok = apisec_jws_sign(p, s, "at+jwt", claims);
    apisec_jwk_set_t *set = apisec_jwk_set_make(p),
                     *pub = apisec_jwk_set_make(p);
    apisec_jws_t jws;
    json_t *got = NULL, *jwk;

    tap_ok(tok != NULL, "%s: signed", name);
    tap_ok(apisec_signer_add_to_set(s, set) == NULL, "%s: verification key",
           name);
    tap_is_int(apisec_jose_decode_jwt(p, tok, strlen(tok), set,
                                      APISEC_JWS_ALG_BIT(s->alg), &jws, &got),
               APISEC_JOSE_OK, apr_psprintf(p, "%s: jose.c verifies it", name));
    tap_is_str(json_string_value(json_object_get(got, "sub")), "alice",
               apr_psprintf(p, "%s: claims survive", name));
    tap_is_str(jws.typ, "at+jwt", apr_psprintf(p, "%s: typ at+jwt", name));
    tap_is_str(apisec_jws_alg_name(jws.alg), apisec_jws_alg_name(s->alg),
               apr_psprintf(p, "%s: alg header", name));
    if (s->pkey) {
        char *txt;
        jwk = apisec_signer_public_jwk(s);
        tap_ok(jwk && !json_object_get(jwk, "d") && !json_object_get(jwk, "p"),
               "%s: the JWK has no private member", name);
        txt = json_dumps(jwk, JSON_COMPACT);
        tap_ok(apisec_jwk_set_add_json(pub, txt, strlen(txt), 0) == NULL,
               "%s: the JWK loads", name);
        free(txt);
        json_decref(jwk);
        tap_is_int(
            apisec_jose_decode_jwt(p, tok, strlen(tok), pub,
                                   APISEC_JWS_ALG_BIT(s->alg), &jws, &got),
            APISEC_JOSE_OK,
            apr_psprintf(p, "%s: verifies with the published JWK", name));
        /* One flipped signature bit must fail. */
        tok[strlen(tok) - 2] = tok[strlen(tok) - 2] == 'A' ? 'B' : 'A';
        tap_ok(apisec_jose_decode_jwt(p, tok, strlen(tok), pub,
                                      APISEC_JWS_ALG_BIT(s->alg), &jws, &got)
                   != APISEC_JOSE_OK,
               "%s: a changed signature is refused", name);
    }
    else {
        tap_ok(apisec_signer_public_jwk(s) == NULL,
               "%s: a secret is never published", name);
    }
    json_decref(claims);
}

int main(void)
{
    apr_pool_t *p;
    apisec_signer_t *s;
    const char *pem, *err;
    static const struct {
        const char *type, *arg, *alg, *want;
    } cases[] = {
        {"EC", "P-256", NULL, "ES256"},    {"EC", "P-384", NULL, "ES384"},
        {"EC", "P-521", NULL, "ES512"},    {"ED25519", NULL, NULL, "EdDSA"},
        {"RSA", "2048", NULL, "RS256"},    {"RSA", "2048", "PS256", "PS256"},
        {"RSA", "2048", "RS512", "RS512"}, {"RSA", "2048", "PS384", "PS384"},
    };
    unsigned i;
    unsigned char secret[64];

    apr_initialize();
    apr_pool_create(&p, NULL);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
        pem = pem_of(p, gen(cases[i].type, cases[i].arg));
        err =
            apisec_signer_from_pem(p, pem, strlen(pem), NULL, cases[i].alg, &s);
        tap_ok(err == NULL, "%s key loads", cases[i].want);
        if (err) {
            continue;
        }
        tap_is_str(apisec_jws_alg_name(s->alg), cases[i].want,
                   "alg chosen from the key");
        tap_ok(s->kid && strlen(s->kid) == 43, "%s: the kid is the thumbprint",
               cases[i].want);
        round_trip(p, s, cases[i].want);
    }
    pem = pem_of(p, gen("EC", "P-256"));
    tap_ok(apisec_signer_from_pem(p, pem, strlen(pem), "k1", "RS256", &s)
               != NULL,
           "alg=RS256 on an EC key is refused");
    tap_ok(apisec_signer_from_pem(p, pem, strlen(pem), "k1", "none", &s)
               != NULL,
           "alg=none is refused");
    tap_ok(apisec_signer_from_pem(p, pem, strlen(pem), "k1", NULL, &s) == NULL
               && !strcmp(s->kid, "k1"),
           "kid= is kept");
    pem = pem_of(p, gen("RSA", "1024"));
    tap_ok(apisec_signer_from_pem(p, pem, strlen(pem), NULL, NULL, &s) != NULL,
           "RSA 1024 is refused");
    tap_ok(apisec_signer_from_pem(p, "-----BEGIN PUBLIC KEY-----\n", 27, NULL,
                                  NULL, &s)
               != NULL,
           "a public key is no signing key");

    memset(secret, 0x5a, sizeof(secret));
    tap_ok(apisec_signer_from_secret(p, secret, 31, NULL, NULL, &s) != NULL,
           "a 31-byte secret is refused");
    tap_ok(apisec_signer_from_secret(p, secret, 32, NULL, "HS384", &s) != NULL,
           "HS384 needs 48 bytes");
    tap_ok(apisec_signer_from_secret(p, secret, 32, "hs", NULL, &s) == NULL
               && s->alg == APISEC_JWS_HS256,
           "a 32-byte secret signs HS256");
    round_trip(p, s, "HS256");
    tap_ok(apisec_signer_from_secret(p, secret, 64, NULL, "HS512", &s) == NULL,
           "HS512");
    round_trip(p, s, "HS512");

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
