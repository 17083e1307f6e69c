/* Directives of JSON request validation (issue 5): APISecJSON,
 * APISecJSONMaxBody, APISecJSONMaxDepth, APISecJSONSchema and
 * APISecJSONStrict. Schemas are read and compiled here, at startup, by the
 * json_schema core, so a schema file that cannot be read, does not parse or
 * uses a keyword the validator does not enforce stops `apachectl -t` with
 * the directive, file and line: an operator must never believe a rule is
 * enforced when it is not. */
#include "config.h"
#include "json_schema.h"

#include "http_log.h"
#include "http_protocol.h"
#include "apr_strings.h"
#include "apr_lib.h"

APLOG_USE_MODULE(apisec);

#define PICK(f, unset) c->f = (add->f != (unset)) ? add->f : base->f

/* Bodies bigger than this would not fit the tape's 32-bit offsets with room
 * to spare, and would cost their size in memory per request anyway. */
#define MAX_BODY_LIMIT ((apr_off_t)1024 * 1024 * 1024)

void apisec_merge_json(apisec_dir_conf_t *c, const apisec_dir_conf_t *base,
                       const apisec_dir_conf_t *add)
{
    PICK(json, APISEC_UNSET);
    PICK(json_max_body, APISEC_UNSET);
    PICK(json_max_depth, APISEC_UNSET);
    /* A scope that names schemas means exactly those, for every method:
     * a parent's schema for another method does not leak into it. */
    PICK(json_schemas, NULL);
    PICK(json_strict, APISEC_UNSET);
}

static const char *fail(cmd_parms *cmd, const char *msg)
{
    return apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, msg);
}

const char *apisec_cmd_json(cmd_parms *cmd, void *dconf, int on)
{
    ((apisec_dir_conf_t *)dconf)->json = on;
    return NULL;
}

const char *apisec_cmd_json_strict(cmd_parms *cmd, void *dconf, int on)
{
    ((apisec_dir_conf_t *)dconf)->json_strict = on;
    return NULL;
}

/* SIZE: bytes, or a number with k/K, m/M, g/G (powers of 1024). */
const char *apisec_cmd_json_max_body(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    apr_int64_t n, mult = 1;
    char *end;

    if (!apr_isdigit(*arg)) {
        return fail(cmd, "give a size in bytes, or like 10k or 2M");
    }
    n = apr_strtoi64(arg, &end, 10);
    switch (apr_tolower(*end)) {
    case '\0':
        break;
    case 'k':
        mult = 1024;
        ++end;
        break;
    case 'm':
        mult = 1024 * 1024;
        ++end;
        break;
    case 'g':
        mult = 1024 * 1024 * 1024;
        ++end;
        break;
    default:
        return fail(cmd, "give a size in bytes, or like 10k or 2M");
    }
    if (*end || n < 1 || n > MAX_BODY_LIMIT / mult) {
        return fail(cmd, "give a size from 1 byte to 1G, such as 10k or 2M");
    }
    ((apisec_dir_conf_t *)dconf)->json_max_body = (apr_off_t)(n * mult);
    return NULL;
}

const char *apisec_cmd_json_max_depth(cmd_parms *cmd, void *dconf,
                                      const char *arg)
{
    char *end;
    apr_int64_t n = apr_strtoi64(arg, &end, 10);

    if (!apr_isdigit(*arg) || *end || n < 1 || n > APISEC_JSON_MAX_DEPTH) {
        return apr_psprintf(cmd->pool, "%s: give a nesting depth from 1 to %d",
                            cmd->cmd->name, APISEC_JSON_MAX_DEPTH);
    }
    ((apisec_dir_conf_t *)dconf)->json_max_depth = (int)n;
    return NULL;
}

/* Reads and compiles PATH; the jansson tree is only needed until the
 * compiled form holds what it uses. */
static const char *load_schema(cmd_parms *cmd, const char *path,
                               apisec_schema_t **out)
{
    json_error_t jerr;
    json_t *root;
    const char *errmsg = NULL;
    apr_status_t rv;

    root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root && jerr.line < 1) {
        /* jansson's text says why (no such file, permission denied). */
        return apr_psprintf(cmd->pool, "%s: %s: cannot be read (%s)",
                            cmd->cmd->name, path, jerr.text);
    }
    if (!root) {
        return apr_psprintf(cmd->pool,
                            "%s: %s: not a readable JSON file (line %d, "
                            "column %d: %s)",
                            cmd->cmd->name, path, jerr.line, jerr.column,
                            jerr.text);
    }
    rv = apisec_schema_compile(cmd->pool, root, 0, out, &errmsg);
    json_decref(root);
    if (rv != APR_SUCCESS) {
        return apr_psprintf(cmd->pool, "%s: %s: %s", cmd->cmd->name, path,
                            errmsg ? errmsg : "the schema was refused");
    }
    return NULL;
}

/* [METHOD ...] PATH */
const char *apisec_cmd_json_schema(cmd_parms *cmd, void *dconf, int argc,
                                   char *const argv[])
{
    apisec_dir_conf_t *c = dconf;
    apisec_json_schema_rule_t rule;
    const char *path, *err;
    int i;

    if (argc < 1) {
        return fail(cmd, "write [METHOD ...] PATH");
    }
    rule.methods = 0;
    for (i = 0; i < argc - 1; ++i) {
        int m = ap_method_number_of(argv[i]);
        if (m == M_INVALID || m >= 64) {
            return apr_psprintf(cmd->pool, "%s: %s is not an HTTP method",
                                cmd->cmd->name, argv[i]);
        }
        rule.methods |= AP_METHOD_BIT << m;
    }
    path = ap_server_root_relative(cmd->pool, argv[argc - 1]);
    if (!path) {
        return fail(cmd, "the path is not valid");
    }
    rule.path = path;
    if ((err = load_schema(cmd, path, &rule.schema))) {
        return err;
    }
    if (!c->json_schemas) {
        c->json_schemas =
            apr_array_make(cmd->pool, 2, sizeof(apisec_json_schema_rule_t));
    }
    for (i = 0; i < c->json_schemas->nelts; ++i) {
        const apisec_json_schema_rule_t *o =
            &APR_ARRAY_IDX(c->json_schemas, i, apisec_json_schema_rule_t);
        /* Two schemas for one method would leave one silently unused; a
         * schema without methods is the scope's default. */
        if ((!o->methods && !rule.methods) || (o->methods & rule.methods)) {
            return fail(cmd, "another APISecJSONSchema of this scope already "
                             "covers one of these methods");
        }
    }
    APR_ARRAY_PUSH(c->json_schemas, apisec_json_schema_rule_t) = rule;
    return NULL;
}
