/* Login request bodies; see login_body.h. */
#include "login_body.h"
#include "json_tape.h"

#include <apr_strings.h>
#include <string.h>

const char *apisec_login_body_parse(apr_pool_t *p, const char *buf,
                                    apr_size_t len, const char **user,
                                    const char **password,
                                    apr_size_t *password_len)
{
    apisec_json_opts_t opts;
    apisec_json_tape_t *t = NULL;
    apr_uint32_t i;
    const char *u = NULL, *pw = NULL;
    apr_size_t ulen = 0, plen = 0;

    apisec_json_opts_default(&opts);
    opts.max_bytes = APISEC_LOGIN_MAX_BODY;
    opts.max_depth = 2;
    if (apisec_json_tape_parse(p, buf, len, &opts, &t, NULL)
        != APISEC_JSON_OK) {
        return "the body is not valid JSON";
    }
    if (t->tok[0].type != APISEC_JSON_OBJECT) {
        return "the body must be a JSON object";
    }
    for (i = 1; i < t->ntok; i = apisec_json_tape_next(t, i + 1)) {
        apr_size_t nlen, vlen;
        const char *name = apisec_json_tape_str(t, i, &nlen), *v;

        if (t->tok[i + 1].type != APISEC_JSON_STRING) {
            return "username and password must be strings";
        }
        v = apisec_json_tape_str(t, i + 1, &vlen);
        if (nlen == 8 && !memcmp(name, "username", 8)) {
            u = v;
            ulen = vlen;
        }
        else if (nlen == 8 && !memcmp(name, "password", 8)) {
            pw = v;
            plen = vlen;
        }
        else {
            return "only username and password are accepted";
        }
    }
    if (!u || !pw || !ulen || !plen) {
        return "username and password are required";
    }
    if (ulen > APISEC_LOGIN_USER_MAX || plen > APISEC_LOGIN_PASSWORD_MAX) {
        return "username or password too long";
    }
    if (memchr(u, '\0', ulen) || memchr(pw, '\0', plen)) {
        return "username and password must not contain NUL";
    }
    *user = apr_pstrmemdup(p, u, ulen);
    *password = apr_pstrmemdup(p, pw, plen);
    *password_len = plen;
    return NULL;
}
