/* Directives of login, tokens, refresh and revocation (issue 6). Signing
 * keys and secrets are read here, at startup, and only from the server's
 * own configuration (RSRC_CONF: never an .htaccess); a bad key stops
 * `apachectl -t` with the directive (httpd adds file and line). */
#include "ap_tokens.h"
#include "config.h"
#include "jws_sign.h"

#include "http_log.h"
#include "apr_strings.h"
#include "apr_optional.h"
#include "apr_dbd.h"
#include "mod_dbd.h"

#define MAX_KEY_FILE 65536

apisec_tokens_conf_t *apisec_tokens_conf(server_rec *s)
{
    apisec_srv_conf_t *sc =
        ap_get_module_config(s->module_config, &apisec_module);
    return sc->tokens;
}

/* The record a directive of this server writes to, made on first use. */
static apisec_tokens_conf_t *conf_of(cmd_parms *cmd)
{
    apisec_srv_conf_t *sc =
        ap_get_module_config(cmd->server->module_config, &apisec_module);
    apisec_tokens_conf_t *tc = sc->tokens;

    if (!tc) {
        tc = apr_pcalloc(cmd->pool, sizeof(*tc));
        tc->lifetime = APISEC_UNSET;
        tc->refresh_lifetime = APISEC_UNSET;
        sc->tokens = tc;
    }
    return tc;
}

void *apisec_tokens_merge(apr_pool_t *p, const apisec_tokens_conf_t *base,
                          const apisec_tokens_conf_t *add)
{
    apisec_tokens_conf_t *c;

    if (!base || !add) {
        return (void *)(add ? add : base);
    }
    c = apr_pcalloc(p, sizeof(*c));
    /* Keys go together with their JWKS and verification set. */
    if (add->signers) {
        c->signers = add->signers;
        c->verify = add->verify;
        c->verify_algs = add->verify_algs;
        c->jwks = add->jwks;
        c->jwks_text = add->jwks_text;
    }
    else {
        c->signers = base->signers;
        c->verify = base->verify;
        c->verify_algs = base->verify_algs;
        c->jwks = base->jwks;
        c->jwks_text = base->jwks_text;
    }
    c->issuer = add->issuer ? add->issuer : base->issuer;
    c->audiences = add->audiences ? add->audiences : base->audiences;
    c->lifetime =
        add->lifetime != APISEC_UNSET ? add->lifetime : base->lifetime;
    c->refresh_lifetime = add->refresh_lifetime != APISEC_UNSET
                              ? add->refresh_lifetime
                              : base->refresh_lifetime;
    c->claims = add->claims ? add->claims : base->claims;
    if (add->login_label) {
        c->login_label = add->login_label;
        c->login_query = add->login_query;
    }
    else {
        c->login_label = base->login_label;
        c->login_query = base->login_query;
    }
    if (add->lockout_n) {
        c->lockout_n = add->lockout_n;
        c->lockout_period = add->lockout_period;
    }
    else {
        c->lockout_n = base->lockout_n;
        c->lockout_period = base->lockout_period;
    }
    return c;
}

static const char *fail(cmd_parms *cmd, const char *msg)
{
    return apr_pstrcat(cmd->pool, cmd->cmd->name, ": ", msg, NULL);
}

static const char *read_file(cmd_parms *cmd, const char *path, char **buf,
                             apr_size_t *len)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_size_t n;

    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, cmd->temp_pool)
        != APR_SUCCESS) {
        return "cannot be read";
    }
    if (apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS
        || fi.size > MAX_KEY_FILE) {
        apr_file_close(f);
        return "is unreadable or larger than 64 KB";
    }
    n = (apr_size_t)fi.size;
    *buf = apr_palloc(cmd->temp_pool, n + 1);
    if (n && apr_file_read_full(f, *buf, n, &n) != APR_SUCCESS) {
        apr_file_close(f);
        return "cannot be read";
    }
    apr_file_close(f);
    (*buf)[n] = '\0';
    *len = n;
    return NULL;
}

static apr_status_t release_json(void *data)
{
    json_decref(data);
    return APR_SUCCESS;
}

/* Wipes key material read into temporary memory. */
static void wipe(char *buf, apr_size_t len)
{
    volatile char *v = buf;

    while (len--) {
        *v++ = 0;
    }
}

/* [kid=ID] [alg=ALG] PATH | file:PATH | env:NAME */
const char *apisec_cmd_token_key(cmd_parms *cmd, void *sconf, int argc,
                                 char *const argv[])
{
    apisec_tokens_conf_t *tc = conf_of(cmd);
    const char *kid = NULL, *alg = NULL, *src = NULL, *err, *path;
    apisec_signer_t *s = NULL;
    char *buf = NULL;
    apr_size_t len = 0;
    int i;
    json_t *jwk;

    for (i = 0; i < argc; ++i) {
        if (!strncmp(argv[i], "kid=", 4) && argv[i][4] && !kid) {
            kid = argv[i] + 4;
        }
        else if (!strncmp(argv[i], "alg=", 4) && argv[i][4] && !alg) {
            alg = argv[i] + 4;
        }
        else if (!src && strncmp(argv[i], "kid=", 4)
                 && strncmp(argv[i], "alg=", 4)) {
            src = argv[i];
        }
        else {
            return fail(cmd, "write [kid=ID] [alg=ALG] followed by a PEM "
                             "private key file, file:PATH or env:NAME");
        }
    }
    if (!src) {
        return fail(cmd, "a PEM private key file, file:PATH or env:NAME "
                         "is required");
    }
    if (!strncmp(src, "env:", 4)) {
        const char *v = getenv(src + 4);
        if (!v || !*v) {
            return apr_psprintf(cmd->pool,
                                "%s: the environment variable %s is not set",
                                cmd->cmd->name, src + 4);
        }
        err = apisec_signer_from_secret(cmd->pool, (const unsigned char *)v,
                                        strlen(v), kid, alg, &s);
        if (err) {
            return fail(cmd, err);
        }
    }
    else {
        int secret = !strncmp(src, "file:", 5);
        path = ap_server_root_relative(cmd->temp_pool, secret ? src + 5 : src);
        if (!path) {
            return fail(cmd, "the path is not valid");
        }
        if ((err = read_file(cmd, path, &buf, &len))) {
            return apr_psprintf(cmd->pool, "%s: %s %s", cmd->cmd->name, path,
                                err);
        }
        if (secret) {
            /* One trailing newline (editors, echo) is not part of it. */
            if (len && buf[len - 1] == '\n') {
                --len;
            }
            if (len && buf[len - 1] == '\r') {
                --len;
            }
            err = apisec_signer_from_secret(
                cmd->pool, (const unsigned char *)buf, len, kid, alg, &s);
        }
        else {
            err = apisec_signer_from_pem(cmd->pool, buf, len, kid, alg, &s);
        }
        wipe(buf, len);
        if (err) {
            return apr_psprintf(cmd->pool, "%s: %s: %s", cmd->cmd->name, path,
                                err);
        }
    }
    if (!tc->signers) {
        tc->signers = apr_array_make(cmd->pool, 2, sizeof(apisec_signer_t *));
        tc->verify = apisec_jwk_set_make(cmd->pool);
        tc->jwks = json_pack("{s:[]}", "keys");
        apr_pool_cleanup_register(cmd->pool, tc->jwks, release_json,
                                  apr_pool_cleanup_null);
    }
    for (i = 0; i < tc->signers->nelts; ++i) {
        const apisec_signer_t *o =
            APR_ARRAY_IDX(tc->signers, i, apisec_signer_t *);
        if (o->kid ? s->kid && !strcmp(o->kid, s->kid) : !s->kid) {
            return fail(cmd, "two signing keys need two different kid=");
        }
    }
    if ((err = apisec_signer_add_to_set(s, tc->verify))) {
        return fail(cmd, err);
    }
    tc->verify_algs |= APISEC_JWS_ALG_BIT(s->alg);
    if ((jwk = apisec_signer_public_jwk(s))) {
        char *txt;
        json_array_append_new(json_object_get(tc->jwks, "keys"), jwk);
        /* Rendered once here: a request only writes the text. */
        if ((txt = json_dumps(tc->jwks, JSON_COMPACT))) {
            tc->jwks_text = apr_pstrdup(cmd->pool, txt);
            free(txt);
        }
    }
    APR_ARRAY_PUSH(tc->signers, apisec_signer_t *) = s;
    return NULL;
}

const char *apisec_cmd_token_issuer(cmd_parms *cmd, void *sconf,
                                    const char *arg)
{
    if (!*arg) {
        return fail(cmd, "the issuer must not be empty");
    }
    conf_of(cmd)->issuer = arg;
    return NULL;
}

/* APISecTokenAudience AUD ... and APISecTokenClaims COLUMN ... */
const char *apisec_cmd_token_list(cmd_parms *cmd, void *sconf, int argc,
                                  char *const argv[])
{
    apisec_tokens_conf_t *tc = conf_of(cmd);
    apr_array_header_t *a = apr_array_make(cmd->pool, argc, sizeof(char *));
    static const char *reserved[] = {"iss", "sub", "aud", "exp", "nbf",
                                     "iat", "jti", "ver", "sid", NULL};
    int i, j, claims = cmd->info != NULL;

    if (!argc) {
        return fail(cmd, "at least one value is required");
    }
    for (i = 0; i < argc; ++i) {
        if (claims) {
            for (j = 0; reserved[j]; ++j) {
                if (!strcasecmp(argv[i], reserved[j])) {
                    return apr_psprintf(cmd->pool,
                                        "%s: %s is set by the module itself",
                                        cmd->cmd->name, argv[i]);
                }
            }
        }
        APR_ARRAY_PUSH(a, const char *) = argv[i];
    }
    if (claims) {
        tc->claims = a;
    }
    else {
        tc->audiences = a;
    }
    return NULL;
}

long apisec_tokens_parse_duration(const char *s)
{
    char *end;
    long v;

    if (!s || *s < '0' || *s > '9') {
        return -1;
    }
    v = strtol(s, &end, 10);
    if (v < 0 || v > 100000000) {
        return -1;
    }
    switch (*end) {
    case '\0':
    case 's':
        break;
    case 'm':
        v *= 60;
        break;
    case 'h':
        v *= 3600;
        break;
    case 'd':
        v *= 86400;
        break;
    default:
        return -1;
    }
    if (*end && end[1]) {
        return -1;
    }
    return v;
}

/* APISecTokenLifetime (60 s to 1 day) and APISecRefreshLifetime (60 s to
 * 90 days): cmd->info says which. */
const char *apisec_cmd_token_seconds(cmd_parms *cmd, void *sconf,
                                     const char *arg)
{
    apisec_tokens_conf_t *tc = conf_of(cmd);
    long v = apisec_tokens_parse_duration(arg);
    int refresh = cmd->info != NULL;
    long max = refresh ? 90L * 86400 : 86400;

    if (v < 60 || v > max) {
        return apr_psprintf(cmd->pool,
                            "%s: write seconds or a number with s, m, h, d, "
                            "from 60 s to %s",
                            cmd->cmd->name, refresh ? "90d" : "1d");
    }
    if (refresh) {
        tc->refresh_lifetime = (int)v;
    }
    else {
        tc->lifetime = (int)v;
    }
    return NULL;
}

/* "SELECT id, password_hash, ... FROM users WHERE username = %s", prepared
 * by mod_dbd for this server under a label of our own. */
const char *apisec_cmd_login_query(cmd_parms *cmd, void *sconf, const char *arg)
{
    static unsigned n;
    APR_OPTIONAL_FN_TYPE(ap_dbd_prepare) *prepare =
        APR_RETRIEVE_OPTIONAL_FN(ap_dbd_prepare);
    apisec_tokens_conf_t *tc = conf_of(cmd);
    const char *first = strstr(arg, "%s");

    if (!prepare) {
        return fail(cmd, "load mod_dbd (LoadModule dbd_module ...) before "
                         "mod_apisec and configure DBDriver");
    }
    if (!first || strstr(first + 2, "%s")) {
        return fail(cmd, "the query takes the user name as exactly one %s, "
                         "e.g. \"SELECT id, password_hash FROM users WHERE "
                         "username = %s\"");
    }
    if (strncasecmp(arg, "SELECT ", 7)) {
        return fail(cmd, "the query must be a SELECT");
    }
    tc->login_label = apr_psprintf(cmd->pool, "apisec_login_%u", ++n);
    tc->login_query = arg;
    prepare(cmd->server, arg, tc->login_label);
    return NULL;
}

/* N/PERIOD */
const char *apisec_cmd_login_lockout(cmd_parms *cmd, void *sconf,
                                     const char *arg)
{
    apisec_tokens_conf_t *tc = conf_of(cmd);
    const char *slash = strchr(arg, '/');
    char *end;
    long n, period;

    if (!slash) {
        return fail(cmd, "write N/PERIOD, e.g. 5/15m");
    }
    n = strtol(arg, &end, 10);
    period = apisec_tokens_parse_duration(slash + 1);
    if (end != slash || n < 1 || n > 1000 || period < 1
        || period > 7L * 86400) {
        return fail(cmd, "write N/PERIOD with N from 1 to 1000 and PERIOD up "
                         "to 7d, e.g. 5/15m");
    }
    tc->lockout_n = (int)n;
    tc->lockout_period = (int)period;
    return NULL;
}

const char *apisec_cmd_jwt_revocation(cmd_parms *cmd, void *dconf, int on)
{
    ((apisec_dir_conf_t *)dconf)->jwt_revocation = on;
    return NULL;
}

/* The server a <VirtualHost> section of the configuration tree made. */
static server_rec *vhost_of(server_rec *s, const ap_directive_t *d)
{
    for (s = s->next; s; s = s->next) {
        if (s->defn_line_number == (unsigned)d->line_num && s->defn_name
            && !strcmp(s->defn_name, d->filename)) {
            return s;
        }
    }
    return NULL;
}

/* The first SetHandler apisec-login|refresh|logout|jwks under D whose
 * server lacks what that handler needs; *WHAT says which directives. */
static const ap_directive_t *handler_unconfigured(apr_pool_t *p,
                                                  server_rec *main_s,
                                                  server_rec *s,
                                                  const ap_directive_t *d,
                                                  const char **what)
{
    for (; d; d = d->next) {
        if (!strcasecmp(d->directive, "<VirtualHost")) {
            server_rec *v = vhost_of(main_s, d);
            const ap_directive_t *bad = handler_unconfigured(
                p, main_s, v ? v : s, d->first_child, what);
            if (bad) {
                return bad;
            }
            continue;
        }
        if (!strcasecmp(d->directive, "SetHandler") && d->args) {
            const char *args = d->args;
            const char *h = ap_getword_conf(p, &args);
            const apisec_tokens_conf_t *tc = apisec_tokens_conf(s);
            int jwks = !strcasecmp(h, "apisec-jwks");
            if (jwks || !strcasecmp(h, "apisec-login")
                || !strcasecmp(h, "apisec-refresh")
                || !strcasecmp(h, "apisec-logout")) {
                if (!tc || !tc->signers) {
                    *what = "APISecTokenSigningKey";
                    return d;
                }
                if (!jwks && !tc->login_label) {
                    *what = "APISecLoginQuery";
                    return d;
                }
            }
        }
        if (d->first_child) {
            const ap_directive_t *bad =
                handler_unconfigured(p, main_s, s, d->first_child, what);
            if (bad) {
                return bad;
            }
        }
    }
    return NULL;
}

/* A token handler whose server cannot sign or find users would answer
 * every request with an error: refused at startup instead. */
int apisec_check_tokens_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp, server_rec *s)
{
    const char *what = NULL;
    const ap_directive_t *bad =
        handler_unconfigured(ptemp, s, s, ap_conftree, &what);

    if (bad) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                     APLOGNO(20507) "SetHandler %s on line %d of %s needs "
                                    "%s in its server or virtual host",
                     bad->args, bad->line_num, bad->filename, what);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}
