/* Password hashes as operators store them in their users table.
 *
 * What this core promises:
 * - Exactly two formats are accepted: bcrypt as `htpasswd -B` writes it
 *   ($2y$, and $2b$, the same algorithm under OpenBSD's name) and argon2id
 *   in the PHC string form the `argon2` tool and libargon2 write
 *   ($argon2id$v=19$m=..,t=..,p=..$salt$hash). Anything else (DES or MD5
 *   crypt, $apr1$, {SHA}, plain text, $2a$, argon2i/d) is
 * APISEC_PW_UNSUPPORTED: APR's apr_password_validate would hand unknown
 * prefixes to crypt(3), which accepts far weaker schemes.
 * - bcrypt is verified by APR-util's own bcrypt (apr_password_validate),
 *   argon2id by libargon2 (argon2id_verify), both comparing in constant time.
 * - Hash parameters are bounded so that a row cannot make one login cost
 *   minutes or gigabytes: bcrypt cost 4..17, argon2id m <= 1 GiB, t <= 64,
 *   p <= 64.
 * - apisec_password_dummy makes a hash with the same parameters as a given
 *   one (cost, or m/t/p and lengths) of a random password: verifying against
 *   it costs what verifying against the real one costs, which is what an
 *   unknown user is checked against.
 * Nothing here knows httpd. */
#ifndef APISEC_PASSWORD_H
#define APISEC_PASSWORD_H

#include <apr_pools.h>

typedef enum {
    APISEC_PW_OK = 0,
    APISEC_PW_MISMATCH,
    APISEC_PW_UNSUPPORTED
} apisec_pw_result_e;

apisec_pw_result_e apisec_password_verify(const char *password, apr_size_t len,
                                          const char *hash);

/* The parameter part of HASH (e.g. "$2y$12$", or
 * "$argon2id$v=19$m=65536,t=3,p=4$16$32" with salt and hash lengths), in
 * pool memory, identifying hashes that cost the same; NULL when HASH is not
 * a supported format. */
const char *apisec_password_params(apr_pool_t *p, const char *hash);

/* A hash of a random password with the parameters of HASH; NULL when HASH
 * is not supported or hashing fails. */
const char *apisec_password_dummy(apr_pool_t *p, const char *hash);

#endif
