/* Directives of AuthType JWT: keys and secrets (parsed here, at startup, into
 * OpenSSL key objects by the jwk core), the algorithm allowlist and the claim
 * policy. Whatever can be checked when the directive is read is checked
 * then, so a bad key or an unsafe combination stops `apachectl -t` with the
 * directive, file and line. */
#include "config.h"
#include "jwt_claims.h"
#include "ap_jwks.h"

#include "http_log.h"
#include "apr_strings.h"
#include "apr_lib.h"
#include "apr_file_io.h"

#include <stdlib.h>

APLOG_USE_MODULE(apisec);

#define PICK(f, unset) c->f = (add->f != (unset)) ? add->f : base->f

void apisec_merge_jwt(apr_pool_t *p, apisec_dir_conf_t *c,
                      const apisec_dir_conf_t *base,
                      const apisec_dir_conf_t *add)
{
    /* Key sets and lists are replaced as a whole by a child that sets them:
     * a scope that names its keys means exactly those. */
    /* With the remote key set (issue 8): config_jwks.c */
    apisec_merge_jwks(c, base, add);
    PICK(jwt_algs, 0);
    PICK(jwt_issuers, NULL);
    PICK(jwt_audiences, NULL);
    PICK(jwt_type, NULL);
    PICK(jwt_leeway, APISEC_UNSET);
    PICK(jwt_max_lifetime, APISEC_UNSET);
    PICK(jwt_required, NULL);
    PICK(jwt_cookie, NULL);
    PICK(jwt_max_size, APISEC_UNSET);
    PICK(jwt_user_claim, NULL);
    PICK(jwt_forward, NULL);
    PICK(jwt_forward_headers, APISEC_UNSET);
    PICK(owner_pattern, NULL);
}

static const char *fail(cmd_parms *cmd, const char *msg)
{
    return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, msg);
}

/* A key that fits none of the allowed algorithms would never verify
 * anything: refused whichever of the two directives comes second. */
static const char *check_keys_fit(cmd_parms *cmd, apisec_dir_conf_t *c)
{
    const char *err, *kid = NULL;

    if (!c->jwt_keys || !c->jwt_algs) {
        return NULL;
    }
    if ((err = apisec_jwk_set_check(c->jwt_keys, c->jwt_algs, &kid))) {
        return apr_psprintf(cmd->pool,
                            "%s: %s%s%s: list an algorithm the "
                            "key is made for in APISecJWTAlgorithms, or use "
                            "a key made for the listed ones",
                            cmd->cmd->name, err, kid ? " (kid " : "",
                            kid ? apr_pstrcat(cmd->pool, kid, ")", NULL) : "");
    }
    return NULL;
}

static apisec_jwk_set_t *keys_of(cmd_parms *cmd, apisec_dir_conf_t *c)
{
    if (!c->jwt_keys) {
        c->jwt_keys = apisec_jwk_set_make(cmd->pool);
        /* An .htaccess is read again for every request (no ACCESS_CONF or
         * RSRC_CONF bit in its override): its key set dies with the request
         * and its address may be reused, so tokens it verified are not
         * remembered. */
        c->jwt_keys_cacheable =
            (cmd->override & (ACCESS_CONF | RSRC_CONF)) != 0;
    }
    return c->jwt_keys;
}

/* [kid=ID] PATH */
const char *apisec_cmd_jwt_key(cmd_parms *cmd, void *dconf, int argc,
                               char *const argv[])
{
    apisec_dir_conf_t *c = dconf;
    const char *kid = NULL, *path, *err;

    if (argc == 2 && !strncmp(argv[0], "kid=", 4) && argv[0][4]) {
        kid = argv[0] + 4;
        path = argv[1];
    }
    else if (argc == 1) {
        path = argv[0];
    }
    else {
        return fail(cmd, "write [kid=ID] PATH: a PEM public key, an X.509 "
                         "certificate or a JWKS file");
    }
    if (ap_strchr_c(path, ':') && ap_strstr_c(path, "://")) {
        /* Remote key sets (issue 8): config_jwks.c */
        return apisec_jwks_cmd_key_url(cmd, c, kid, path);
    }
    if (c->jwt_remote) {
        return fail(cmd, "this scope takes its keys from a provider's URL: "
                         "a scope takes keys from files or from one "
                         "provider, not both");
    }
    path = ap_server_root_relative(cmd->pool, path);
    if (!path) {
        return fail(cmd, "the path is not valid");
    }
    if ((err = apisec_jwk_set_add_file(keys_of(cmd, c), path, kid, 0))) {
        return apr_psprintf(cmd->pool, "%s: %s: %s", cmd->cmd->name, path, err);
    }
    return check_keys_fit(cmd, c);
}

/* Reads the secret of file:PATH; one trailing newline (as editors and
 * `echo` leave) is not part of it. */
static const char *read_secret_file(cmd_parms *cmd, const char *path,
                                    char **buf, apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;

    path = ap_server_root_relative(cmd->pool, path);
    if (!path
        || apr_file_open(&f, path, APR_FOPEN_READ, 0, cmd->temp_pool)
               != APR_SUCCESS) {
        return "the secret file cannot be read";
    }
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS
        || fi.size > 4096) {
        apr_file_close(f);
        return "the secret file is unreadable or larger than 4096 bytes";
    }
    n = (apr_size_t)fi.size;
    *buf = apr_palloc(cmd->temp_pool, n + 1);
    if (n && apr_file_read_full(f, *buf, n, &n) != APR_SUCCESS) {
        apr_file_close(f);
        return "the secret file cannot be read";
    }
    apr_file_close(f);
    if (n && (*buf)[n - 1] == '\n') {
        --n;
    }
    if (n && (*buf)[n - 1] == '\r') {
        --n;
    }
    *len = n;
    return NULL;
}

/* file:PATH | env:NAME [kid=ID] */
const char *apisec_cmd_jwt_secret(cmd_parms *cmd, void *dconf, int argc,
                                  char *const argv[])
{
    apisec_dir_conf_t *c = dconf;
    const char *kid = NULL, *err;
    char *buf = NULL;
    apr_size_t len = 0;

    if (argc == 2 && !strncmp(argv[1], "kid=", 4) && argv[1][4]) {
        kid = argv[1] + 4;
    }
    else if (argc != 1) {
        return fail(cmd, "write file:PATH or env:NAME, then optionally "
                         "kid=ID");
    }
    if (!strncmp(argv[0], "file:", 5)) {
        if ((err = read_secret_file(cmd, argv[0] + 5, &buf, &len))) {
            return apr_psprintf(cmd->pool, "%s: %s: %s", cmd->cmd->name,
                                argv[0] + 5, err);
        }
    }
    else if (!strncmp(argv[0], "env:", 4)) {
        buf = getenv(argv[0] + 4);
        if (!buf || !*buf) {
            return apr_psprintf(cmd->pool,
                                "%s: the environment variable %s "
                                "is not set",
                                cmd->cmd->name, argv[0] + 4);
        }
        len = strlen(buf);
    }
    else {
        return fail(cmd, "the secret is never written in the configuration: "
                         "write file:PATH or env:NAME");
    }
    if ((err = apisec_jwk_set_add_secret(
             keys_of(cmd, c), (const unsigned char *)buf, len, kid))) {
        return fail(cmd, err);
    }
    return check_keys_fit(cmd, c);
}

const char *apisec_cmd_jwt_algorithms(cmd_parms *cmd, void *dconf, int argc,
                                      char *const argv[])
{
    apisec_dir_conf_t *c = dconf;
    unsigned mask = 0;
    const char *err;
    int i;

    if (argc == 0) {
        return fail(cmd, "list the algorithms your tokens use, for example "
                         "ES256 or RS256");
    }
    for (i = 0; i < argc; ++i) {
        if ((err = apisec_jws_algs_parse(argv[i], &mask))) {
            return apr_psprintf(cmd->pool, "%s: '%s': %s", cmd->cmd->name,
                                argv[i], err);
        }
    }
    c->jwt_algs = mask;
    return check_keys_fit(cmd, c);
}

/* APISecJWTIssuer, APISecJWTAudience, APISecJWTRequire, APISecJWTForward:
 * lists of strings, at the offset in cmd->info. */
const char *apisec_cmd_jwt_list(cmd_parms *cmd, void *dconf, int argc,
                                char *const argv[])
{
    apr_array_header_t **field =
        (apr_array_header_t **)((char *)dconf + (apr_size_t)cmd->info);
    int i;

    if (argc == 0) {
        return fail(cmd, "give at least one value");
    }
    *field = apr_array_make(cmd->pool, argc, sizeof(const char *));
    for (i = 0; i < argc; ++i) {
        if (!*argv[i]) {
            return fail(cmd, "an empty value is not allowed");
        }
        APR_ARRAY_PUSH(*field, const char *) = argv[i];
    }
    return NULL;
}

const char *apisec_cmd_jwt_type(cmd_parms *cmd, void *dconf, const char *arg)
{
    ((apisec_dir_conf_t *)dconf)->jwt_type = strcasecmp(arg, "off") ? arg : "";
    return NULL;
}

/* APISecJWTLeeway, APISecJWTMaxLifetime: seconds, at cmd->info's offset;
 * a number with an optional unit s, m, h or d. */
const char *apisec_cmd_jwt_seconds(cmd_parms *cmd, void *dconf, const char *arg)
{
    int *field = (int *)((char *)dconf + (apr_size_t)cmd->info);
    apr_int64_t v, unit = 1;
    char *end;

    v = apr_strtoi64(arg, &end, 10);
    if (end != arg && *end && !end[1]) {
        switch (*end) {
        case 's':
            unit = 1;
            ++end;
            break;
        case 'm':
            unit = 60;
            ++end;
            break;
        case 'h':
            unit = 3600;
            ++end;
            break;
        case 'd':
            unit = 86400;
            ++end;
            break;
        }
    }
    if (end == arg || *end || v < 0 || v * unit > 31 * 86400) {
        return fail(cmd, "give seconds, or a number with s, m, h or d, up to "
                         "31 days");
    }
    *field = (int)(v * unit);
    return NULL;
}

const char *apisec_cmd_jwt_cookie(cmd_parms *cmd, void *dconf, const char *arg)
{
    const char *s;

    for (s = arg; *s; ++s) {
        if (*s <= ' ' || *s >= 0x7f || ap_strchr_c("()<>@,;:\\\"/[]?={}", *s)) {
            return fail(cmd, "a cookie name is a token: letters, digits and "
                             "!#$%&'*+-.^_`|~");
        }
    }
    ((apisec_dir_conf_t *)dconf)->jwt_cookie =
        strcasecmp(arg, "off") ? arg : "";
    return NULL;
}

const char *apisec_cmd_jwt_max_size(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    apr_off_t v;

    if (ap_parse_strict_length(&v, arg) && v >= 64 && v <= 65536) {
        ((apisec_dir_conf_t *)dconf)->jwt_max_size = (int)v;
        return NULL;
    }
    /* 8k, 16K */
    if (apr_isdigit(*arg)) {
        char *end;
        apr_int64_t n = apr_strtoi64(arg, &end, 10);
        if ((*end == 'k' || *end == 'K') && !end[1] && n >= 1 && n <= 64) {
            ((apisec_dir_conf_t *)dconf)->jwt_max_size = (int)(n * 1024);
            return NULL;
        }
    }
    return fail(cmd, "give a size in bytes from 64 to 65536, or like 8k");
}

const char *apisec_cmd_jwt_user_claim(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    ((apisec_dir_conf_t *)dconf)->jwt_user_claim = arg;
    return NULL;
}

const char *apisec_cmd_jwt_forward_headers(cmd_parms *cmd, void *dconf, int on)
{
    ((apisec_dir_conf_t *)dconf)->jwt_forward_headers = on;
    return NULL;
}

const char *apisec_cmd_jwt_cache(cmd_parms *cmd, void *sconf, const char *arg)
{
    apisec_srv_conf_t *c = apisec_srv_conf(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    char *end;
    apr_int64_t n;

    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "off")) {
        c->jwt_cache = 0;
        return NULL;
    }
    n = apr_strtoi64(arg, &end, 10);
    if (*end || end == arg || n < 4 || n > 1000000) {
        return fail(cmd, "give a number of tokens from 4 to 1000000, or off");
    }
    c->jwt_cache = (int)n;
    return NULL;
}

const char *apisec_cmd_owner_pattern(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    ap_regex_t *re = ap_pregcomp(cmd->pool, arg, 0);

    if (!re) {
        return fail(cmd, "the regular expression does not compile");
    }
    if (re->re_nsub < 1) {
        return fail(cmd, "the pattern needs a capture group for the owner, "
                         "for example ^/users/([^/]+)");
    }
    ((apisec_dir_conf_t *)dconf)->owner_pattern = re;
    return NULL;
}

/* Whether SECTION (or the server level when NULL) sets an allowlist. */
static int section_has_algorithms(const ap_directive_t *first)
{
    const ap_directive_t *d;

    for (d = first; d; d = d->next) {
        if (!strcasecmp(d->directive, "APISecJWTAlgorithms")) {
            return 1;
        }
    }
    return 0;
}

static const ap_directive_t *
find_jwt_without_algorithms(const ap_directive_t *first, int inherited)
{
    const ap_directive_t *d, *bad;
    int here = inherited || section_has_algorithms(first);

    for (d = first; d; d = d->next) {
        if (!strcasecmp(d->directive, "AuthType") && d->args
            && !strcasecmp(d->args, "JWT") && !here) {
            return d;
        }
        if (d->first_child
            && (bad = find_jwt_without_algorithms(d->first_child, here))) {
            return bad;
        }
    }
    return NULL;
}

/* AuthType JWT without an algorithm allowlist would refuse every token (or,
 * in another module, accept any algorithm): refused at startup when neither
 * its section nor an enclosing one lists the algorithms. A list given only
 * in another, overlapping section (a <Location> for a <Directory>) is not
 * seen here: write it next to AuthType JWT. .htaccess files are checked when
 * they are read (the request then fails with 500 and a log line). */
int apisec_check_jwt_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp, server_rec *s)
{
    const ap_directive_t *bad = find_jwt_without_algorithms(ap_conftree, 0);

    if (bad) {
        ap_log_error(
            APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
            APLOGNO(
                20008) "AuthType JWT on line %d of %s needs "
                       "APISecJWTAlgorithms in the same section or one that "
                       "encloses it, for example APISecJWTAlgorithms ES256",
            bad->line_num, bad->filename);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}
