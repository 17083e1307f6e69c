/* The body of a login request: exactly {"username": STRING, "password":
 * STRING}, strict JSON (json_tape.c: no duplicate members, valid UTF-8, no
 * trailing data), no other member, both strings non-empty, without U+0000
 * (C strings downstream), the user name at most APISEC_LOGIN_USER_MAX bytes
 * and the password at most APISEC_LOGIN_PASSWORD_MAX bytes.
 * Nothing here knows httpd. */
#ifndef APISEC_LOGIN_BODY_H
#define APISEC_LOGIN_BODY_H

#include <apr_pools.h>

#define APISEC_LOGIN_MAX_BODY 4096
#define APISEC_LOGIN_USER_MAX 256
#define APISEC_LOGIN_PASSWORD_MAX 1024

/* NULL and *USER, *PASSWORD as NUL-terminated pool strings; or a static
 * message (never quoting the body). */
const char *apisec_login_body_parse(apr_pool_t *p, const char *buf,
                                    apr_size_t len, const char **user,
                                    const char **password,
                                    apr_size_t *password_len);

#endif
