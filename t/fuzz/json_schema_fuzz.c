// FUZZ_SOURCES: src/json_tape.c src/json_tape_string.c src/json_format.c
// FUZZ_SOURCES: src/json_schema_compile.c src/json_schema.c
// FUZZ_SOURCES: src/json_schema_eq.c
// FUZZ_LIBS: -ljansson -lapr-1 -lpcre2-8 -lm
/* Parser plus validator with compiled schemas: issue 5's order schema and a
 * second one that uses the remaining keywords. Invariants checked on every
 * input: no crash or leak, valid exactly when there are no errors, at most
 * APISEC_SCHEMA_MAX_ERRORS errors, every pointer terminated and starting
 * with '/' (or empty), and the same errors in the same order on a second run
 * (stable output). */
#include "json_schema.h"

#include <apr_general.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char order_schema[] =
    "{\"type\":\"object\",\"required\":[\"items\",\"shipping\"],"
    " \"properties\":{"
    "  \"items\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":50,"
    "    \"items\":{\"$ref\":\"#/$defs/item\"}},"
    "  "
    "\"shipping\":{\"type\":\"object\",\"required\":[\"street\",\"city\","
    "\"country\"],"
    "    "
    "\"properties\":{\"street\":{\"type\":\"string\",\"minLength\":1,"
    "\"maxLength\":200},"
    "      \"city\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":100},"
    "      \"country\":{\"enum\":[\"DE\",\"FR\",\"NL\",\"AT\"]}}},"
    "  \"promoCode\":{\"type\":\"string\",\"pattern\":\"^[A-Z0-9]{4,12}$\"}},"
    " \"$defs\":{\"item\":{\"type\":\"object\",\"required\":[\"productId\","
    "\"quantity\"],"
    "   "
    "\"properties\":{\"productId\":{\"type\":\"string\",\"format\":\"uuid\"},"
    "     "
    "\"quantity\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100}}}}}";

static const char other_schema[] =
    "{\"$defs\":{\"node\":{\"type\":[\"object\",\"array\",\"string\","
    "\"number\",\"null\",\"boolean\"],"
    "   \"properties\":{\"next\":{\"$ref\":\"#/$defs/node\"}}}},"
    " \"anyOf\":[{\"type\":\"object\"},{\"type\":\"array\",\"uniqueItems\":"
    "true,"
    "   "
    "\"prefixItems\":[{\"type\":\"number\",\"multipleOf\":0.5,"
    "\"exclusiveMaximum\":1e6}],"
    "   \"contains\":{\"const\":{\"a\":[1,\"x\"]}}}, "
    "{\"not\":{\"type\":\"object\"}}],"
    " \"oneOf\":[{\"minProperties\":1},{\"maxProperties\":0},{\"type\":"
    "\"string\"}],"
    " \"if\":{\"type\":\"object\",\"required\":[\"kind\"]},"
    " \"then\":{\"properties\":{\"kind\":{\"enum\":[\"a\",\"b\",2]},"
    "   \"mail\":{\"format\":\"email\"},\"when\":{\"format\":\"date-time\"},"
    "   \"day\":{\"format\":\"date\"},\"ip\":{\"format\":\"ipv4\"},"
    "   \"ip6\":{\"format\":\"ipv6\"},\"url\":{\"format\":\"uri\"}},"
    "   \"patternProperties\":{\"^x-\":{\"type\":\"string\",\"maxLength\":8}},"
    "   \"propertyNames\":{\"pattern\":\"^[a-z0-9-]+$\"}},"
    " \"else\":{\"allOf\":[{\"$ref\":\"#/$defs/"
    "node\"},{\"not\":{\"const\":[]}}]}}";

static apr_pool_t *root;
static apisec_schema_t *schemas[2];

/* The schemas live for the process, as in httpd's pconf; their PCRE2 code is
 * freed by pool cleanups, run here so LeakSanitizer sees a clean exit. */
static void fini(void)
{
    apr_pool_destroy(root);
    apr_terminate();
}

static void init(void)
{
    const char *texts[2] = {order_schema, other_schema};
    int k;

    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&root, NULL) != APR_SUCCESS) {
        abort();
    }
    for (k = 0; k < 2; k++) {
        json_error_t je;
        json_t *j = json_loads(texts[k], 0, &je);
        const char *err;

        if (!j
            || apisec_schema_compile(root, j, 0, &schemas[k], &err)
                   != APR_SUCCESS) {
            fprintf(stderr, "schema %d: %s\n", k, j ? err : je.text);
            abort();
        }
        json_decref(j);
    }
    atexit(fini);
}

static void check(const apisec_schema_t *s, const apisec_json_tape_t *t,
                  int strict, apr_pool_t *p)
{
    static apisec_schema_result_t a, b;
    int va = apisec_schema_validate(s, t, strict, p, &a);
    int vb = apisec_schema_validate(s, t, strict, p, &b);
    int k;

    if (va != (a.count == 0) || a.count > APISEC_SCHEMA_MAX_ERRORS
        || (a.truncated && a.count != APISEC_SCHEMA_MAX_ERRORS)) {
        abort();
    }
    if (va != vb || a.count != b.count || a.truncated != b.truncated) {
        abort();
    }
    for (k = 0; k < a.count; k++) {
        if (!a.err[k].message
            || memchr(a.err[k].pointer, 0, APISEC_SCHEMA_POINTER_MAX) == NULL
            || (a.err[k].pointer[0] && a.err[k].pointer[0] != '/')
            || strcmp(a.err[k].pointer, b.err[k].pointer) != 0
            || a.err[k].message != b.err[k].message) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apisec_json_tape_t *t;
    apisec_json_opts_t o;
    int k;

    if (!root) {
        init();
    }
    if (apr_pool_create(&p, root) != APR_SUCCESS) {
        abort();
    }
    apisec_json_opts_default(&o);
    o.max_bytes = 64 * 1024;
    if (apisec_json_tape_parse(p, (const char *)data, size, &o, &t, NULL)
        == APISEC_JSON_OK) {
        for (k = 0; k < 2; k++) {
            check(schemas[k], t, 0, p);
            check(schemas[k], t, 1, p);
        }
    }
    apr_pool_destroy(p);
    return 0;
}
