/* JWT claim checks (RFC 7519 section 4.1, RFC 8725) over a verified token.
 *
 * What this core promises, given a policy and the current time:
 * - exp, nbf and iat, when present, are JSON numbers (integer or real);
 *   anything else refuses the token.
 * - exp: refused once now >= exp + leeway. nbf: refused while
 *   now + leeway < nbf. iat: refused when iat > now + leeway.
 * - Required claims (default: exp) must be present and not null.
 * - max_lifetime > 0: exp is then needed, and exp - iat (or, without iat,
 *   exp - now) may not exceed it.
 * - issuers: iss must be a string equal to one of them (byte-wise).
 * - audiences: aud, a string or an array of strings, must hold one of them.
 *   Without configured audiences, a token that carries aud is refused: RFC
 *   7519 4.1.3 says a recipient that does not identify itself with a value
 *   of a present aud must reject the token.
 * - typ: the header typ must name the configured type, compared without
 *   regard to case and with an optional "application/" prefix on either
 *   side (RFC 7515 4.1.9, RFC 8725 3.11). Without a configured type, typ
 *   is not checked.
 * - Errors: an enum and a static message; never claim values.
 * Nothing is allocated: the policy's arrays are read, the trees are not
 * changed.
 * The checks come in two parts, so a caller that remembers tokens can run
 * only the part that depends on the time again: the time claims (exp, nbf,
 * iat, max lifetime), read once into numbers, and the rest, which depends
 * only on the token and the policy (required claims, iss, aud, typ).
 * apisec_jwt_claims_check runs both, in that order. */
#ifndef APISEC_JWT_CLAIMS_H
#define APISEC_JWT_CLAIMS_H

#include <apr_tables.h>
#include <apr_time.h>
#include <jansson.h>

#define APISEC_JWT_DEFAULT_LEEWAY 30

typedef struct {
    apr_array_header_t *issuers;   /* const char *; NULL or empty: any */
    apr_array_header_t *audiences; /* const char *; NULL or empty: none */
    const char *typ;               /* NULL: not checked */
    apr_array_header_t *required;  /* const char *; NULL: just "exp" */
    apr_int64_t leeway;            /* seconds */
    apr_int64_t max_lifetime;      /* seconds; 0: no limit */
} apisec_jwt_policy_t;

typedef enum {
    APISEC_CLAIMS_OK = 0,
    APISEC_CLAIMS_MALFORMED,        /* token claims malformed */
    APISEC_CLAIMS_MISSING,          /* required claim missing */
    APISEC_CLAIMS_EXPIRED,          /* token expired */
    APISEC_CLAIMS_NOT_YET_VALID,    /* token not yet valid */
    APISEC_CLAIMS_ISSUED_IN_FUTURE, /* token issued in the future */
    APISEC_CLAIMS_LIFETIME,         /* token lifetime too long */
    APISEC_CLAIMS_ISSUER,           /* issuer not accepted */
    APISEC_CLAIMS_AUDIENCE,         /* audience not accepted */
    APISEC_CLAIMS_TYPE              /* token type not accepted */
} apisec_claims_err_t;

/* The time claims of a token, as numbers. */
typedef struct {
    double exp, nbf, iat;
    unsigned char has_exp, has_nbf, has_iat;
} apisec_jwt_times_t;

/* Defaults: no issuer, audience or type check, exp required, leeway 30 s,
 * no lifetime limit. */
void apisec_jwt_claims_policy_init(apisec_jwt_policy_t *pol);

/* HEADER is the protected header (for typ), CLAIMS the payload object. */
apisec_claims_err_t apisec_jwt_claims_check(const apisec_jwt_policy_t *pol,
                                            json_t *header, json_t *claims,
                                            apr_time_t now);

/* Reads exp, nbf and iat of CLAIMS into TIMES: MALFORMED if one is present
 * and not a number (or CLAIMS is not an object). */
apisec_claims_err_t apisec_jwt_claims_times(json_t *claims,
                                            apisec_jwt_times_t *times);

/* The checks that depend on the time: exp, nbf, iat and max lifetime. */
apisec_claims_err_t
apisec_jwt_claims_check_times(const apisec_jwt_policy_t *pol,
                              const apisec_jwt_times_t *times, apr_time_t now);

/* The checks that do not: required claims, iss, aud, typ. */
apisec_claims_err_t
apisec_jwt_claims_check_static(const apisec_jwt_policy_t *pol, json_t *header,
                               json_t *claims);

const char *apisec_jwt_claims_strerror(apisec_claims_err_t err);

#endif
