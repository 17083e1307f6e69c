/* Internals shared by jwk.c and jwk_json.c; no other file includes this.
 * The key set is an array of keys in the pool it was made in; a key is
 * created blank with its cleanup registered, filled, classified, then
 * pushed (which refuses a duplicate kid among usable keys). */
#ifndef APISEC_JWK_INT_H
#define APISEC_JWK_INT_H

#include "jwk.h"

struct apisec_jwk_set_t {
    apr_pool_t *pool;
    apr_array_header_t *keys; /* apisec_jwk_t * */
};

#define APISEC_JWK_HS_ALGS                                                     \
    (APISEC_JWS_ALG_BIT(APISEC_JWS_HS256)                                      \
     | APISEC_JWS_ALG_BIT(APISEC_JWS_HS384)                                    \
     | APISEC_JWS_ALG_BIT(APISEC_JWS_HS512))

/* A blank key whose OpenSSL objects the set's pool frees. */
apisec_jwk_t *apisec_jwk_key_new(apisec_jwk_set_t *set, const char *kid);
/* Adds KEY to the set; NULL or a static message. */
const char *apisec_jwk_key_push(apisec_jwk_set_t *set, apisec_jwk_t *key);
/* Sets kty/fits from key->pkey and refuses keys no JWS alg may use. */
const char *apisec_jwk_key_classify(apisec_jwk_t *key);
/* Makes KEY an HMAC key holding a copy of SECRET. */
const char *apisec_jwk_key_secret(apisec_jwk_set_t *set, apisec_jwk_t *key,
                                  const unsigned char *secret, apr_size_t len);

#endif
