/* Unit tests of the JSON Schema compiler and validator (src/json_schema*.c,
 * src/json_format.c): the JSON Schema test suite for our keywords, with
 * each exception spelled out, then the order schema of issue 5, strict mode,
 * error pointers and limits, startup refusals and the format checkers.
 * Run from the repository top; vectors through $APISEC_VECTORS. */
#include "json_format.h"
#include "json_schema.h"
#include "tap.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <dirent.h>
#include <stdlib.h>

static apr_pool_t *pool;

/* Groups we refuse at startup, by file and group description: the schema
 * uses a keyword outside issue 5's list, so the operator is told instead of
 * believing it enforced. */
static const struct {
    const char *file;
    const char *group;
    const char *why;
} refused[] = {
    {"additionalProperties.json", "dependentSchemas with additionalProperties",
     "dependentSchemas is not in issue 5's keyword list"},
    {"format.json", "idn-email format",
     "format outside issue 5's list (email, uuid, date-time, date, ipv4, ipv6, "
     "uri): refused rather than silently ignored"},
    {"format.json", "regex format",
     "format outside issue 5's list (email, uuid, date-time, date, ipv4, ipv6, "
     "uri): refused rather than silently ignored"},
    {"format.json", "idn-hostname format",
     "format outside issue 5's list (email, uuid, date-time, date, ipv4, ipv6, "
     "uri): refused rather than silently ignored"},
    {"format.json", "hostname format",
     "format outside issue 5's list (email, uuid, date-time, date, ipv4, ipv6, "
     "uri): refused rather than silently ignored"},
    {"format.json", "time format",
     "format outside issue 5's list (email, uuid, date-time, date, ipv4, ipv6, "
     "uri): refused rather than silently ignored"},
    {"format.json", "json-pointer format",
     "format outside issue 5's list (email, uuid, date-time, date, ipv4, ipv6, "
     "uri): refused rather than silently ignored"},
    {"format.json", "relative-json-pointer format",
     "format outside issue 5's list (email, uuid, date-time, date, ipv4, ipv6, "
     "uri): refused rather than silently ignored"},
    {"format.json", "iri format",
     "format outside issue 5's list (email, uuid, date-time, date, ipv4, ipv6, "
     "uri): refused rather than silently ignored"},
    {"format.json", "iri-reference format",
     "format outside issue 5's list (email, uuid, date-time, date, ipv4, ipv6, "
     "uri): refused rather than silently ignored"},
    {"format.json", "uri-reference format",
     "format outside issue 5's list (email, uuid, date-time, date, ipv4, ipv6, "
     "uri): refused rather than silently ignored"},
    {"format.json", "uri-template format",
     "format outside issue 5's list (email, uuid, date-time, date, ipv4, ipv6, "
     "uri): refused rather than silently ignored"},
    {"format.json", "duration format",
     "format outside issue 5's list (email, uuid, date-time, date, ipv4, ipv6, "
     "uri): refused rather than silently ignored"},
    {"pattern.json",
     "pattern with Unicode property escape requires unicode mode",
     "PCRE2 10.42 knows \\p{L} but not the long name \\p{Letter}: the pattern "
     "does not compile, so the schema is refused at startup"},
    {NULL, NULL, NULL},
};

/* Single tests whose result differs from the suite, with the reason. */
static const struct {
    const char *file;
    const char *group;
    const char *test;
    const char *why;
} exceptions[] = {
    {NULL, NULL, NULL, NULL},
};

typedef struct {
    int pass, fail, refused_groups, refused_tests, excepted;
} tally_t;

static const char *refusal_reason(const char *file, const char *group)
{
    int k;

    for (k = 0; refused[k].file; k++) {
        if (strcmp(file, refused[k].file) == 0
            && strcmp(group, refused[k].group) == 0) {
            return refused[k].why;
        }
    }
    return NULL;
}

static const char *exception_reason(const char *file, const char *group,
                                    const char *test)
{
    int k;

    for (k = 0; exceptions[k].file; k++) {
        if (strcmp(file, exceptions[k].file) == 0
            && strcmp(group, exceptions[k].group) == 0
            && (!exceptions[k].test || strcmp(test, exceptions[k].test) == 0)) {
            return exceptions[k].why;
        }
    }
    return NULL;
}

/* Serialises data with jansson and runs it through the real parser: the
 * suite tests the validator, so the parser's own policy on names is off. */
static int run_one(const apisec_schema_t *s, json_t *data, int *parsed)
{
    char *text = json_dumps(data, JSON_ENCODE_ANY | JSON_COMPACT);
    apisec_json_opts_t o;
    apisec_json_tape_t *t;
    apisec_schema_result_t res;
    int ok = -1;

    apisec_json_opts_default(&o);
    o.allow_proto_names = 1;
    o.max_depth = 256;
    *parsed = text
              && apisec_json_tape_parse(pool, text, strlen(text), &o, &t, NULL)
                     == APISEC_JSON_OK;
    if (*parsed) {
        ok = apisec_schema_validate(s, t, 0, pool, &res);
    }
    free(text);
    return ok;
}

static void run_file(const char *dir, const char *file, unsigned int flags,
                     tally_t *ty)
{
    json_error_t je;
    json_t *groups = json_load_file(apr_pstrcat(pool, dir, "/", file, NULL),
                                    JSON_ALLOW_NUL, &je);
    size_t g, k;

    if (!tap_ok(json_is_array(groups), "%s loads", file)) {
        json_decref(groups);
        return;
    }
    for (g = 0; g < json_array_size(groups); g++) {
        json_t *grp = json_array_get(groups, g);
        const char *gdesc =
            json_string_value(json_object_get(grp, "description"));
        json_t *tests = json_object_get(grp, "tests");
        apisec_schema_t *s;
        const char *err;
        const char *why = refusal_reason(file, gdesc);

        if (apisec_schema_compile(pool, json_object_get(grp, "schema"), flags,
                                  &s, &err)
            != APR_SUCCESS) {
            ty->refused_groups++;
            ty->refused_tests += (int)json_array_size(tests);
            tap_ok(why != NULL, "%s / %s: refused at startup (%s)", file, gdesc,
                   err);
            continue;
        }
        if (why) {
            tap_ok(0, "%s / %s: expected a refusal", file, gdesc);
        }
        for (k = 0; k < json_array_size(tests); k++) {
            json_t *tc = json_array_get(tests, k);
            const char *tdesc =
                json_string_value(json_object_get(tc, "description"));
            int want = json_is_true(json_object_get(tc, "valid")), parsed;
            int got = run_one(s, json_object_get(tc, "data"), &parsed);
            const char *ex = exception_reason(file, gdesc, tdesc);

            if (ex) {
                ty->excepted++;
                tap_ok(got == !want, "%s / %s / %s: exception, %s (%s)", file,
                       gdesc, tdesc, want ? "rejected" : "accepted", ex);
                continue;
            }
            if (got == want) {
                ty->pass++;
            }
            else {
                ty->fail++;
            }
            tap_ok(got == want, "%s / %s / %s", file, gdesc, tdesc);
        }
    }
    json_decref(groups);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(const char *dir, tally_t *ty)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char *names[64];
    int n = 0, k;

    if (!tap_ok(d != NULL, "suite directory %s", dir)) {
        return;
    }
    while ((de = readdir(d)) != NULL && n < 64) {
        apr_size_t len = strlen(de->d_name);

        if (len > 5 && strcmp(de->d_name + len - 5, ".json") == 0) {
            names[n++] = apr_pstrdup(pool, de->d_name);
        }
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(*names), cmp_str);
    for (k = 0; k < n; k++) {
        /* 2020-12 makes format an annotation unless asked: format.json tests
         * exactly that, the optional/format files test assertion */
        run_file(dir, names[k],
                 strcmp(names[k], "format.json") == 0
                     ? APISEC_SCHEMA_FORMAT_ANNOTATION
                     : 0,
                 ty);
    }
}

static void test_suite(void)
{
    const char *vec = getenv("APISEC_VECTORS");
    const char *base =
        apr_pstrcat(pool, vec ? vec : "../shared/vectors",
                    "/json-schema-test-suite/draft2020-12", NULL);
    tally_t ty = {0, 0, 0, 0, 0};

    run_dir(base, &ty);
    run_dir(apr_pstrcat(pool, base, "/optional/format", NULL), &ty);
    tap_diag(
        "JSON Schema suite: %d passed, %d failed, %d documented exceptions, "
        "%d groups (%d tests) refused at startup",
        ty.pass, ty.fail, ty.excepted, ty.refused_groups, ty.refused_tests);
}

/* ---- the order schema of issue 5 ---- */

static const char order_schema[] =
    "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
    " \"type\":\"object\", \"required\":[\"items\",\"shipping\"],"
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

static apisec_schema_t *compile_text(const char *text, const char **err)
{
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    apisec_schema_t *s = NULL;

    *err = "schema text does not parse";
    if (j) {
        if (apisec_schema_compile(pool, j, 0, &s, err) != APR_SUCCESS) {
            s = NULL;
        }
        json_decref(j);
    }
    return s;
}

static int check(const apisec_schema_t *s, const char *body, int strict,
                 apisec_schema_result_t *res)
{
    apisec_json_tape_t *t;

    if (apisec_json_tape_parse(pool, body, strlen(body), NULL, &t, NULL)
        != APISEC_JSON_OK) {
        return -1;
    }
    return apisec_schema_validate(s, t, strict, pool, res);
}

#define GOOD_ITEM                                                              \
    "{\"productId\":\"3fa85f64-5717-4562-b3fc-2c963f66afa6\",\"quantity\":2}"
#define GOOD_SHIP                                                              \
    "{\"street\":\"Hauptstr. 1\",\"city\":\"Berlin\",\"country\":\"DE\"}"

static void test_order(void)
{
    static const struct {
        const char *name;
        const char *body;
        const char *pointer;
        const char *message;
    } bad[] = {
        {"bad uuid",
         "{\"items\":[" GOOD_ITEM ",{\"productId\":\"x-1\",\"quantity\":1}],"
         "\"shipping\":" GOOD_SHIP "}",
         "/items/1/productId", "string is not in the required format"},
        {"quantity 0",
         "{\"items\":[{\"productId\":\"3fa85f64-5717-4562-b3fc-2c963f66afa6\","
         "\"quantity\":0}],\"shipping\":" GOOD_SHIP "}",
         "/items/0/quantity", "number is below the minimum"},
        {"quantity 101",
         "{\"items\":[{\"productId\":\"3fa85f64-5717-4562-b3fc-2c963f66afa6\","
         "\"quantity\":101}],\"shipping\":" GOOD_SHIP "}",
         "/items/0/quantity", "number is above the maximum"},
        {"quantity 1.5",
         "{\"items\":[{\"productId\":\"3fa85f64-5717-4562-b3fc-2c963f66afa6\","
         "\"quantity\":1.5}],\"shipping\":" GOOD_SHIP "}",
         "/items/0/quantity", "value has the wrong type"},
        {"country",
         "{\"items\":[" GOOD_ITEM
         "],\"shipping\":{\"street\":\"a\",\"city\":\"b\","
         "\"country\":\"XX\"}}",
         "/shipping/country", "value is not one of the allowed values"},
        {"missing country",
         "{\"items\":[" GOOD_ITEM "],\"shipping\":{\"street\":\"a\","
         "\"city\":\"b\"}}",
         "/shipping/country", "required member is missing"},
        {"promo",
         "{\"items\":[" GOOD_ITEM "],\"shipping\":" GOOD_SHIP
         ",\"promoCode\":\"save 10\"}",
         "/promoCode", "string does not match the pattern"},
        {"no items", "{\"items\":[],\"shipping\":" GOOD_SHIP "}", "/items",
         "array has fewer items than minItems"},
        {"items not array", "{\"items\":{},\"shipping\":" GOOD_SHIP "}",
         "/items", "value has the wrong type"},
        {"top not object", "[]", "", "value has the wrong type"},
    };
    apisec_schema_result_t res;
    const char *err;
    apisec_schema_t *s = compile_text(order_schema, &err);
    apr_size_t k;
    int r;

    if (!tap_ok(s != NULL, "order schema compiles")) {
        tap_diag("%s", err);
        return;
    }
    tap_is_int(check(s,
                     "{\"items\":[" GOOD_ITEM "],\"shipping\":" GOOD_SHIP
                     ",\"promoCode\":\"SAVE10\"}",
                     0, &res),
               1, "good order accepted");
    tap_is_int(check(s,
                     "{\"items\":[" GOOD_ITEM "," GOOD_ITEM
                     "],\"shipping\":" GOOD_SHIP "}",
                     1, &res),
               1, "good order without promo accepted in strict mode");
    for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        r = check(s, bad[k].body, 0, &res);
        tap_is_int(r, 0, apr_psprintf(pool, "order %s rejected", bad[k].name));
        tap_is_int(res.count, 1,
                   apr_psprintf(pool, "order %s: one error", bad[k].name));
        tap_is_str(res.err[0].pointer, bad[k].pointer,
                   apr_psprintf(pool, "order %s: pointer", bad[k].name));
        tap_is_str(res.err[0].message, bad[k].message,
                   apr_psprintf(pool, "order %s: message", bad[k].name));
    }
    r = check(s,
              "{\"items\":[" GOOD_ITEM "],\"shipping\":" GOOD_SHIP
              ",\"isAdmin\":true}",
              0, &res);
    tap_is_int(r, 1, "unknown member accepted without strict");
    r = check(
        s,
        "{\"items\":[{\"productId\":\"3fa85f64-5717-4562-b3fc-2c963f66afa6\","
        "\"quantity\":1,\"price\":0}],\"shipping\":" GOOD_SHIP
        ",\"isAdmin\":true}",
        1, &res);
    tap_is_int(r, 0, "strict: unknown members rejected");
    tap_is_int(res.count, 2, "strict: two errors");
    tap_is_str(res.err[0].pointer, "/items/0/price",
               "strict: first error in document order");
    tap_is_str(res.err[1].pointer, "/isAdmin", "strict: second error");
    tap_is_str(res.err[1].message, "member is not allowed (strict)",
               "strict: message");

    /* many errors: capped, stable, values never in messages */
    {
        char body[8192];
        apr_size_t pos = 0;
        int i;

        pos += (apr_size_t)apr_snprintf(body, sizeof(body), "{\"items\":[");
        for (i = 0; i < 30; i++) {
            pos += (apr_size_t)apr_snprintf(
                body + pos, sizeof(body) - pos,
                "%s{\"productId\":\"SECRET%d\",\"quantity\":1}", i ? "," : "",
                i);
        }
        apr_snprintf(body + pos, sizeof(body) - pos,
                     "],\"shipping\":" GOOD_SHIP "}");
        r = check(s, body, 0, &res);
        tap_is_int(r, 0, "30 bad items rejected");
        tap_is_int(res.count, 20, "errors capped at 20");
        tap_is_int(res.truncated, 1, "truncation flagged");
        tap_is_str(res.err[19].pointer, "/items/19/productId",
                   "errors in document order");
        for (i = 0, r = 1; i < res.count; i++) {
            r &= strstr(res.err[i].message, "SECRET") == NULL
                 && strstr(res.err[i].pointer, "SECRET") == NULL;
        }
        tap_ok(r, "no error echoes the value");
    }
}

static void test_strict_applicators(void)
{
    apisec_schema_result_t res;
    const char *err;
    apisec_schema_t *s = compile_text(
        "{\"allOf\":[{\"properties\":{\"a\":{}}},{\"properties\":{\"b\":{}}}],"
        " \"properties\":{\"c\":{\"type\":\"object\",\"additionalProperties\":"
        "true}}}",
        &err);

    if (!tap_ok(s != NULL, "allOf schema compiles")) {
        return;
    }
    tap_is_int(check(s, "{\"a\":1,\"b\":2,\"c\":{\"z\":1}}", 1, &res), 1,
               "strict: names from allOf branches count, additionalProperties "
               "opts out");
    tap_is_int(check(s, "{\"a\":1,\"d\":2}", 1, &res), 0,
               "strict: unnamed member rejected once");
    tap_is_int(res.count, 1,
               "strict: allOf branches do not add their own errors");
    s = compile_text("{\"$ref\":\"#/$defs/"
                     "o\",\"$defs\":{\"o\":{\"properties\":{\"a\":{}}}}}",
                     &err);
    tap_ok(s && check(s, "{\"b\":1}", 1, &res) == 0,
           "strict applies through a top $ref");
}

static void test_refusals(void)
{
    static const struct {
        const char *schema;
        const char *want;
    } cases[] = {
        {"{\"properties\":{\"a\":{\"minContains\":1}}}",
         "unsupported keyword \"minContains\" at /properties/a/minContains"},
        {"{\"unevaluatedProperties\":false}",
         "unsupported keyword \"unevaluatedProperties\" at "
         "/unevaluatedProperties"},
        {"{\"$ref\":\"other.json#/x\"}", "$ref may only be"},
        {"{\"$ref\":\"#/$defs/missing\"}", "does not exist"},
        {"{\"pattern\":\"(\"}", "pattern at /pattern does not compile"},
        {"{\"format\":\"hostname\"}", "format is not one of"},
        {"{\"$schema\":\"http://json-schema.org/draft-07/schema#\"}",
         "$schema must be"},
        {"{\"items\":[{}]}",
         "a schema must be an object or a boolean at /items"},
        {"{\"minLength\":-1}", "needs a non-negative integer at /minLength"},
        {"{\"type\":\"int\"}", "unknown or repeated type"},
        {"{\"multipleOf\":0}", "multipleOf needs a number above 0"},
        {"{\"properties\":{\"a\":{\"$defs\":{}}}}",
         "unsupported keyword \"$defs\" at /properties/a/$defs"},
        {"{\"properties\":{\"a/b\":{\"foo\":1}}}", "at /properties/a~1b/foo"},
    };
    apr_size_t k;

    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const char *err = NULL;
        apisec_schema_t *s = compile_text(cases[k].schema, &err);

        tap_ok(s == NULL && err && strstr(err, cases[k].want),
               "refused: %s (%s)", cases[k].schema, err ? err : "accepted");
    }
}

static void test_patterns(void)
{
    apisec_schema_result_t res;
    const char *err;
    apisec_schema_t *s = compile_text("{\"pattern\":\"^(a+)+$\"}", &err);
    char body[80];

    if (!tap_ok(s != NULL, "backtracking pattern compiles")) {
        return;
    }
    memset(body, 'a', sizeof(body));
    body[0] = '"';
    body[sizeof(body) - 3] = 'b';
    body[sizeof(body) - 2] = '"';
    body[sizeof(body) - 1] = '\0';
    tap_is_int(check(s, body, 0, &res), 0,
               "catastrophic backtracking fails closed");
    s = compile_text("{\"pattern\":\"^\\\\u00e9t\\u00e9$\"}", &err);
    tap_ok(s && check(s, "\"\\u00e9t\\u00e9\"", 0, &res) == 1,
           "\\uHHHH escapes in patterns");
    s = compile_text("{\"pattern\":\"^a$\"}", &err);
    tap_ok(s && check(s, "\"a\\n\"", 0, &res) == 0,
           "$ does not match before a final newline");
    s = compile_text("{\"maxLength\":2}", &err);
    tap_ok(s && check(s, "\"\\u00e9\\ud83d\\ude00\"", 0, &res) == 1,
           "maxLength counts code points");
    s = compile_text("{\"uniqueItems\":true}", &err);
    tap_ok(
        s
            && check(s, "[{\"a\":1,\"b\":[1.0]},{\"b\":[1],\"a\":1}]", 0, &res)
                   == 0,
        "uniqueItems compares objects unordered and 1.0 == 1");
}

static void test_limits(void)
{
    apisec_schema_result_t res;
    const char *err;
    apisec_schema_t *s;
    char body[4096], name[400];
    apr_size_t pos = 0;
    int k;

    s = compile_text("{\"uniqueItems\":true}", &err);
    pos = (apr_size_t)apr_snprintf(body, sizeof(body), "[");
    for (k = 0; k < 200; k++) {
        pos +=
            (apr_size_t)apr_snprintf(body + pos, sizeof(body) - pos,
                                     "%s[%d,{\"a\":%d}]", k ? "," : "", k, k);
    }
    apr_snprintf(body + pos, sizeof(body) - pos, "]");
    tap_ok(s && check(s, body, 0, &res) == 1,
           "uniqueItems: 200 distinct items (hashed path)");
    apr_snprintf(body + pos, sizeof(body) - pos, ",[7,{\"a\":7.0}]]");
    tap_ok(s && check(s, body, 0, &res) == 0,
           "uniqueItems: repeat found among 201 items");

    /* anyOf over a recursive $ref: exponential without a budget */
    s = compile_text(
        "{\"$ref\":\"#/$defs/n\",\"$defs\":{\"n\":{\"anyOf\":["
        "{\"items\":{\"$ref\":\"#/$defs/n\"},\"contains\":{\"const\":\"z\"}},"
        "{\"items\":{\"$ref\":\"#/$defs/n\"}}]}}}",
        &err);
    tap_ok(s
               && check(s,
                        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]"
                        "]]]]]]]",
                        0, &res)
                      == 0,
           "exponential schema stops at the work budget");
    tap_is_str(res.count ? res.err[res.count - 1].message : NULL,
               "validation exceeded its work budget", "budget error reported");

    /* long multibyte names: the pointer is cut on a character boundary */
    s = compile_text("{\"additionalProperties\":false}", &err);
    pos = 0;
    for (k = 0; k < 130; k++) {
        memcpy(name + pos, "\xc3\xa9", 2);
        pos += 2;
    }
    name[pos] = '\0';
    apr_snprintf(body, sizeof(body), "{\"a%s\":1}", name);
    tap_ok(s && check(s, body, 0, &res) == 0 && res.count == 1,
           "long name rejected");
    pos = strlen(res.err[0].pointer);
    tap_ok(pos < APISEC_SCHEMA_POINTER_MAX && pos > 3
               && strcmp(res.err[0].pointer + pos - 3, "...") == 0
               && ((unsigned char)res.err[0].pointer[pos - 4] == 0xa9),
           "cut pointer ends in ... after a whole character");
}

static void test_formats(void)
{
    static const struct {
        apisec_format_e f;
        const char *s;
        int ok;
    } cases[] = {
        {APISEC_FORMAT_IPV4, "192.168.0.1", 1},
        {APISEC_FORMAT_IPV4, "256.1.1.1", 0},
        {APISEC_FORMAT_IPV4, "01.1.1.1", 0},
        {APISEC_FORMAT_IPV4, "1.1.1", 0},
        {APISEC_FORMAT_IPV6, "::1", 1},
        {APISEC_FORMAT_IPV6, "::", 1},
        {APISEC_FORMAT_IPV6, "2001:db8::ff00:42:8329", 1},
        {APISEC_FORMAT_IPV6, "::ffff:192.0.2.1", 1},
        {APISEC_FORMAT_IPV6, "1:2:3:4:5:6:7:8", 1},
        {APISEC_FORMAT_IPV6, "1:2:3:4:5:6:7:8:9", 0},
        {APISEC_FORMAT_IPV6, "1::2::3", 0},
        {APISEC_FORMAT_IPV6, "12345::", 0},
        {APISEC_FORMAT_IPV6, "fe80::1%eth0", 0},
        {APISEC_FORMAT_IPV6, "1:", 0},
        {APISEC_FORMAT_DATE, "2024-02-29", 1},
        {APISEC_FORMAT_DATE, "2023-02-29", 0},
        {APISEC_FORMAT_DATE, "1900-02-29", 0},
        {APISEC_FORMAT_DATE, "2000-02-29", 1},
        {APISEC_FORMAT_DATE, "2024-13-01", 0},
        {APISEC_FORMAT_DATE, "2024-1-01", 0},
        {APISEC_FORMAT_URI, "https://example.com/a?b=c#d", 1},
        {APISEC_FORMAT_URI, "urn:isbn:0451450523", 1},
        {APISEC_FORMAT_URI, "http://[2001:db8::1]:80/", 1},
        {APISEC_FORMAT_URI, "/relative/path", 0},
        {APISEC_FORMAT_URI, "http://a b", 0},
        {APISEC_FORMAT_URI, "http://x/%zz", 0},
        {APISEC_FORMAT_URI, "http://x/\\y", 0},
        {APISEC_FORMAT_EMAIL, "a.b@example.com", 1},
        {APISEC_FORMAT_EMAIL, "a@b", 1},
        {APISEC_FORMAT_EMAIL, "a@-b.com", 0},
        {APISEC_FORMAT_EMAIL, "a@@b.com", 0},
        {APISEC_FORMAT_EMAIL, "\"\"@b.com", 0},
        {APISEC_FORMAT_DATE_TIME, "2026-11-23T19:39:14+01:00", 1},
        {APISEC_FORMAT_UUID, "3fa85f64-5717-4562-b3fc-2c963f66afa6", 1},
    };
    apr_size_t k;

    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        tap_ok(apisec_format_check(cases[k].f, cases[k].s, strlen(cases[k].s))
                   == cases[k].ok,
               "format %d: \"%s\" %s", (int)cases[k].f, cases[k].s,
               cases[k].ok ? "valid" : "invalid");
    }
    tap_ok(apisec_format_lookup("hostname") == APISEC_FORMAT_NONE,
           "unsupported format unknown");
}

int main(void)
{
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        printf("Bail out! APR init\n");
        return 1;
    }
    test_suite();
    test_order();
    test_strict_applicators();
    test_refusals();
    test_patterns();
    test_limits();
    test_formats();
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
