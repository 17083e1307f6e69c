/* JWT claim checks: see jwt_claims.h. */
#include "jwt_claims.h"

#include <string.h>
#include <strings.h>

static const char *const messages[] = {
    "ok",
    "token claims malformed",
    "required claim missing",
    "token expired",
    "token not yet valid",
    "token issued in the future",
    "token lifetime too long",
    "issuer not accepted",
    "audience not accepted",
    "token type not accepted",
};

const char *apisec_jwt_claims_strerror(apisec_claims_err_t err)
{
    if ((unsigned)err >= sizeof(messages) / sizeof(messages[0])) {
        return "token claims malformed";
    }
    return messages[err];
}

void apisec_jwt_claims_policy_init(apisec_jwt_policy_t *pol)
{
    memset(pol, 0, sizeof(*pol));
    pol->leeway = APISEC_JWT_DEFAULT_LEEWAY;
}

/* A NumericDate claim: 0 absent, 1 present (*out set), -1 not a number. */
static int time_claim(json_t *claims, const char *name, double *out)
{
    json_t *v = json_object_get(claims, name);

    if (!v) {
        return 0;
    }
    if (!json_is_number(v)) {
        return -1;
    }
    *out = json_number_value(v);
    return 1;
}

static int present(json_t *claims, const char *name)
{
    json_t *v = json_object_get(claims, name);

    return v && !json_is_null(v);
}

static int listed(const apr_array_header_t *list, json_t *v)
{
    int i;

    if (!json_is_string(v)) {
        return 0;
    }
    for (i = 0; i < list->nelts; i++) {
        const char *want = APR_ARRAY_IDX(list, i, const char *);
        if (strlen(want) == json_string_length(v)
            && memcmp(want, json_string_value(v), json_string_length(v)) == 0) {
            return 1;
        }
    }
    return 0;
}

static apisec_claims_err_t check_audience(const apisec_jwt_policy_t *pol,
                                          json_t *aud)
{
    size_t i;

    if (!pol->audiences || pol->audiences->nelts == 0) {
        return aud ? APISEC_CLAIMS_AUDIENCE : APISEC_CLAIMS_OK;
    }
    if (json_is_array(aud)) {
        for (i = 0; i < json_array_size(aud); i++) {
            if (listed(pol->audiences, json_array_get(aud, i))) {
                return APISEC_CLAIMS_OK;
            }
        }
        return APISEC_CLAIMS_AUDIENCE;
    }
    return listed(pol->audiences, aud) ? APISEC_CLAIMS_OK
                                       : APISEC_CLAIMS_AUDIENCE;
}

/* A media type without the optional "application/" prefix: RFC 7515 4.1.9
 * lets it go only when no other '/' follows. */
static const char *short_type(const char *t)
{
    static const char prefix[] = "application/";

    if (strncasecmp(t, prefix, sizeof(prefix) - 1) == 0
        && !strchr(t + sizeof(prefix) - 1, '/')) {
        return t + sizeof(prefix) - 1;
    }
    return t;
}

static apisec_claims_err_t check_type(const apisec_jwt_policy_t *pol,
                                      json_t *header)
{
    json_t *typ;

    if (!pol->typ) {
        return APISEC_CLAIMS_OK;
    }
    typ = json_object_get(header, "typ");
    if (!json_is_string(typ)
        || strlen(json_string_value(typ)) != json_string_length(typ)) {
        return APISEC_CLAIMS_TYPE;
    }
    return strcasecmp(short_type(json_string_value(typ)), short_type(pol->typ))
                   == 0
               ? APISEC_CLAIMS_OK
               : APISEC_CLAIMS_TYPE;
}

static apisec_claims_err_t check_required(const apisec_jwt_policy_t *pol,
                                          json_t *claims)
{
    int i;

    if (!pol->required) {
        return present(claims, "exp") ? APISEC_CLAIMS_OK
                                      : APISEC_CLAIMS_MISSING;
    }
    for (i = 0; i < pol->required->nelts; i++) {
        if (!present(claims, APR_ARRAY_IDX(pol->required, i, const char *))) {
            return APISEC_CLAIMS_MISSING;
        }
    }
    return APISEC_CLAIMS_OK;
}

apisec_claims_err_t apisec_jwt_claims_times(json_t *claims,
                                            apisec_jwt_times_t *t)
{
    int e, n, i;

    memset(t, 0, sizeof(*t));
    if (!json_is_object(claims)) {
        return APISEC_CLAIMS_MALFORMED;
    }
    e = time_claim(claims, "exp", &t->exp);
    n = time_claim(claims, "nbf", &t->nbf);
    i = time_claim(claims, "iat", &t->iat);
    if (e < 0 || n < 0 || i < 0) {
        return APISEC_CLAIMS_MALFORMED;
    }
    t->has_exp = e == 1;
    t->has_nbf = n == 1;
    t->has_iat = i == 1;
    return APISEC_CLAIMS_OK;
}

apisec_claims_err_t
apisec_jwt_claims_check_times(const apisec_jwt_policy_t *pol,
                              const apisec_jwt_times_t *t, apr_time_t at)
{
    double now = (double)at / APR_USEC_PER_SEC, leeway = (double)pol->leeway;

    if (t->has_exp && now >= t->exp + leeway) {
        return APISEC_CLAIMS_EXPIRED;
    }
    if (t->has_nbf && now + leeway < t->nbf) {
        return APISEC_CLAIMS_NOT_YET_VALID;
    }
    if (t->has_iat && t->iat > now + leeway) {
        return APISEC_CLAIMS_ISSUED_IN_FUTURE;
    }
    if (pol->max_lifetime > 0) {
        if (!t->has_exp
            || t->exp - (t->has_iat ? t->iat : now)
                   > (double)pol->max_lifetime) {
            return APISEC_CLAIMS_LIFETIME;
        }
    }
    return APISEC_CLAIMS_OK;
}

apisec_claims_err_t
apisec_jwt_claims_check_static(const apisec_jwt_policy_t *pol, json_t *header,
                               json_t *claims)
{
    apisec_claims_err_t rv;

    if (!json_is_object(claims) || !json_is_object(header)) {
        return APISEC_CLAIMS_MALFORMED;
    }
    if ((rv = check_required(pol, claims))) {
        return rv;
    }
    if (pol->issuers && pol->issuers->nelts > 0
        && !listed(pol->issuers, json_object_get(claims, "iss"))) {
        return APISEC_CLAIMS_ISSUER;
    }
    if ((rv = check_audience(pol, json_object_get(claims, "aud")))) {
        return rv;
    }
    return check_type(pol, header);
}

apisec_claims_err_t apisec_jwt_claims_check(const apisec_jwt_policy_t *pol,
                                            json_t *header, json_t *claims,
                                            apr_time_t now)
{
    apisec_jwt_times_t t;
    apisec_claims_err_t rv;

    if (!json_is_object(header)) {
        return APISEC_CLAIMS_MALFORMED;
    }
    if ((rv = apisec_jwt_claims_times(claims, &t))
        || (rv = apisec_jwt_claims_check_times(pol, &t, now))) {
        return rv;
    }
    return apisec_jwt_claims_check_static(pol, header, claims);
}
