/* Compact JWS vectors through parse + verify: Wycheproof
 * json_web_signature_test.json and json_web_key_test.json, RFC 7515
 * appendix A, the JOSE cookbook (RFC 7520 4.1-4.4, RFC 8037 EdDSA) and the
 * RFC 7797 b64:false examples (which we must refuse). The attack tests are
 * in jose_attack_test.c.
 *
 * Labels we do not follow, each counted and listed (README of the vectors,
 * section 1):
 * - 367, 370: byte-identical to the valid 357 (C2SP/wycheproof#236): valid;
 * - 372, 373: labelled valid, but the MAC does not cover the altered input:
 *   refused;
 * - 346, 350: the key's JWK says alg PS256, the token is PS384. We honour
 *   the JWK "alg" (RFC 7517 4.4), as the WrongPrimitive cases 331-340
 *   demand: refused;
 * - 347, 351: the key's JWK says alg "ES521", which is no JWS algorithm:
 *   the key is refused at load (as json_web_key_test.json 19/20/25/26
 *   demand for unknown algs), so the token is refused. */
#include "tap.h"
#include "jose_util.h"

typedef struct {
    int total, accepted, rejected, load_refused, overridden, failed;
} counts_t;

static int override(int id, int label)
{
    switch (id) {
    case 367:
    case 370:
        return 1;
    case 372:
    case 373:
    case 346:
    case 350:
    case 347:
    case 351:
        return 0;
    default:
        return label;
    }
}

static void tally(counts_t *c, const char *what, int id, int want, int got,
                  const char *why)
{
    c->total++;
    if (got) {
        c->accepted++;
    }
    else {
        c->rejected++;
    }
    if (got != want) {
        c->failed++;
        printf("# %s tcId %d: expected %s, got %s (%s)\n", what, id,
               want ? "accept" : "reject", got ? "accept" : "reject", why);
    }
}

/* A token from the file: a compact string, or (tcId 17) a JSON-serialised
 * JWS, which we present as it would arrive: its JSON text. */
static const char *token_text(apr_pool_t *p, json_t *jws)
{
    char *s;
    const char *out;

    if (json_is_string(jws)) {
        return json_string_value(jws);
    }
    s = json_dumps(jws, JSON_COMPACT);
    out = apr_pstrdup(p, s ? s : "");
    free(s);
    return out;
}

static void json_web_signature(apr_pool_t *p)
{
    json_t *doc = ju_load_json(p, "wycheproof/json_web_signature_test.json");
    json_t *g, *t;
    size_t i, j;
    counts_t c;
    const char *tok357 = NULL;
    int same = 0;

    memset(&c, 0, sizeof(c));
    if (!doc) {
        tap_ok(0, "json_web_signature_test.json loaded");
        return;
    }
    json_array_foreach(json_object_get(doc, "testGroups"), i, g)
    {
        json_t *jwk = json_object_get(g, "public");
        apisec_jwk_set_t *set = apisec_jwk_set_make(p);
        const char *err = apisec_jwk_set_add_jwk(
            set, json_is_object(jwk) ? jwk : json_object_get(g, "private"), 0);

        json_array_foreach(json_object_get(g, "tests"), j, t)
        {
            int id = (int)json_integer_value(json_object_get(t, "tcId"));
            const char *label = json_string_value(json_object_get(t, "result"));
            const char *tok = token_text(p, json_object_get(t, "jws"));
            int want = override(id, strcmp(label, "valid") == 0);
            apisec_jose_err_t rv = APISEC_JOSE_UNKNOWN_KEY;

            if (id == 357) {
                tok357 = tok;
            }
            if ((id == 367 || id == 370) && tok357 && !strcmp(tok, tok357)) {
                same++;
            }
            c.overridden += want != (strcmp(label, "valid") == 0);
            if (err) {
                c.load_refused++;
            }
            else {
                rv = ju_check(p, tok, set, APISEC_JWS_ALL_ALGS);
            }
            tally(&c, "json_web_signature", id, want, rv == APISEC_JOSE_OK,
                  err ? err : apisec_jose_strerror(rv));
        }
    }
    tap_ok(
        c.failed == 0
            && c.total
                   == json_integer_value(json_object_get(doc, "numberOfTests")),
        "json_web_signature_test.json: %d vectors, %d accepted, %d "
        "rejected (%d with the key refused at load), %d labels overridden, "
        "%d wrong",
        c.total, c.accepted, c.rejected, c.load_refused, c.overridden,
        c.failed);
    tap_ok(same == 2, "tcIds 367 and 370 are byte-identical to 357");
    json_decref(doc);
}

static void json_web_key(apr_pool_t *p)
{
    json_t *doc = ju_load_json(p, "wycheproof/json_web_key_test.json");
    json_t *g, *t;
    size_t i, j;
    counts_t c;

    memset(&c, 0, sizeof(c));
    if (!doc) {
        tap_ok(0, "json_web_key_test.json loaded");
        return;
    }
    json_array_foreach(json_object_get(doc, "testGroups"), i, g)
    {
        apisec_jwk_set_t *set = apisec_jwk_set_make(p);
        char *text = json_dumps(json_object_get(g, "private"), JSON_COMPACT);
        const char *err = apisec_jwk_set_add_json(set, text, strlen(text), 0);

        free(text);
        if (!err) {
            err = apisec_jwk_set_check(set, APISEC_JWS_ALL_ALGS, NULL);
        }
        json_array_foreach(json_object_get(g, "tests"), j, t)
        {
            int id = (int)json_integer_value(json_object_get(t, "tcId"));
            const char *label = json_string_value(json_object_get(t, "result"));
            const char *tok = json_string_value(json_object_get(t, "jws"));
            apisec_jose_err_t rv = APISEC_JOSE_UNKNOWN_KEY;

            if (err) {
                c.load_refused++;
            }
            else {
                rv = ju_check(p, tok, set, APISEC_JWS_ALL_ALGS);
            }
            tally(&c, "json_web_key", id, strcmp(label, "valid") == 0,
                  rv == APISEC_JOSE_OK, err ? err : apisec_jose_strerror(rv));
            if (err) {
                tap_diag("json_web_key tcId %d: set refused: %s", id, err);
            }
        }
    }
    tap_ok(
        c.failed == 0
            && c.total
                   == json_integer_value(json_object_get(doc, "numberOfTests")),
        "json_web_key_test.json: %d vectors, %d accepted, %d rejected "
        "(%d key sets refused at load), %d wrong",
        c.total, c.accepted, c.rejected, c.load_refused, c.failed);
    json_decref(doc);
}

static void rfc7515_appendix_a(apr_pool_t *p)
{
    json_t *doc = ju_load_json(p, "rfc7515-appendix-a/rfc7515_appendix_a.json");
    json_t *ex;
    size_t i;

    if (!doc) {
        tap_ok(0, "rfc7515_appendix_a.json loaded");
        return;
    }
    json_array_foreach(json_object_get(doc, "examples"), i, ex)
    {
        const char *id = json_string_value(json_object_get(ex, "id"));
        const char *tok = json_string_value(json_object_get(ex, "compact"));
        int valid = !strcmp(json_string_value(json_object_get(ex, "expected")),
                            "valid");
        json_t *jwk = json_object_get(ex, "jwk_public");
        apisec_jwk_set_t *set = apisec_jwk_set_make(p);
        const char *err = NULL;
        apisec_jws_t jws;
        json_t *claims = NULL;
        apisec_jose_err_t rv;

        if (!json_is_object(jwk)) {
            jwk = json_object_get(ex, "jwk_private");
        }
        if (json_is_object(jwk)) {
            err = apisec_jwk_set_add_jwk(set, jwk, 0);
        }
        if (err) {
            tap_ok(0, "RFC 7515 %s: key loads (%s)", id, err);
            continue;
        }
        rv = ju_check(p, tok, set, APISEC_JWS_ALL_ALGS);
        if (valid) {
            tap_ok(rv == APISEC_JOSE_OK, "RFC 7515 %s: verifies (%s)", id,
                   apisec_jose_strerror(rv));
        }
        else {
            tap_ok(rv == APISEC_JOSE_UNSECURED, "RFC 7515 %s: refused (%s)", id,
                   apisec_jose_strerror(rv));
        }
        if (valid
            && json_string_value(json_object_get(ex, "payload"))[0] == '{') {
            /* A.1-A.3 are JWTs: the full path, payload object included. */
            rv = apisec_jose_decode_jwt(p, tok, strlen(tok), set,
                                        APISEC_JWS_ALL_ALGS, &jws, &claims);
            tap_ok(rv == APISEC_JOSE_OK && json_is_object(claims)
                       && json_integer_value(json_object_get(claims, "exp"))
                              == 1300819380,
                   "RFC 7515 %s: decodes as a JWT (%s)", id,
                   apisec_jose_strerror(rv));
        }
    }
    json_decref(doc);
}

/* A cookbook example with a compact output: verify it with the public part
 * of input.key; EXPECT_OK says whether it must verify. */
static void cookbook(apr_pool_t *p, const char *file, int expect_ok)
{
    json_t *doc = ju_load_json(p, apr_pstrcat(p, "jose-cookbook/", file, NULL));
    json_t *out, *input;
    const char *tok, *err, *alg;
    apisec_jwk_set_t *set = apisec_jwk_set_make(p);
    apisec_jose_err_t rv;

    if (!doc) {
        tap_ok(0, "%s loaded", file);
        return;
    }
    input = json_object_get(doc, "input");
    out = json_object_get(doc, "output");
    tok = json_string_value(json_object_get(out, "compact"));
    if (!tok) {
        /* JSON serialisation only: present it in compact form. */
        json_t *flat = json_object_get(out, "json_flat");
        tok = apr_pstrcat(
            p, json_string_value(json_object_get(flat, "protected")), ".",
            json_string_value(json_object_get(flat, "payload")), ".",
            json_string_value(json_object_get(flat, "signature")), NULL);
    }
    alg = json_string_value(json_object_get(input, "alg"));
    err = apisec_jwk_set_add_jwk(set, json_object_get(input, "key"), 0);
    rv = err ? APISEC_JOSE_UNKNOWN_KEY
             : ju_check(p, tok, set, APISEC_JWS_ALL_ALGS);
    if (expect_ok) {
        tap_ok(rv == APISEC_JOSE_OK, "cookbook %s (%s) verifies (%s)", file,
               alg, err ? err : apisec_jose_strerror(rv));
    }
    else {
        /* The compact form of 4.2 has a '.' in its unencoded payload, so
         * it is refused as malformed before its header is read. */
        tap_ok(rv == APISEC_JOSE_CRIT || rv == APISEC_JOSE_MALFORMED,
               "cookbook %s (%s, b64:false) refused (%s)", file, alg,
               err ? err : apisec_jose_strerror(rv));
    }
    json_decref(doc);
}

int main(void)
{
    apr_pool_t *pool;

    apr_initialize();
    apr_pool_create(&pool, NULL);
    json_web_signature(pool);
    json_web_key(pool);
    rfc7515_appendix_a(pool);
    cookbook(pool, "jws/4_1.rsa_v15_signature.json", 1);
    cookbook(pool, "jws/4_2.rsa-pss_signature.json", 1);
    cookbook(pool, "jws/4_3.ecdsa_signature.json", 1);
    cookbook(pool, "jws/4_4.hmac-sha2_integrity_protection.json", 1);
    cookbook(pool, "curve25519/jws.json", 1);
    cookbook(pool, "rfc7797/hmac-sha2_b64_false.json", 0);
    cookbook(pool, "rfc7797/4.2.hmac-sha2_b64_false.json", 0);
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
