// FUZZ_SOURCES: src/json_tape.c src/json_tape_string.c
// FUZZ_LIBS: -ljansson -lapr-1
/* Differential fuzz target: the strict tape parser against jansson.
 * Any accept/reject disagreement is a finding, except the deliberate ones
 * (json_tape.h): depth limit, forbidden member names, U+0000 in names,
 * numbers jansson refuses because they overflow a double, and raw NUL
 * bytes, which jansson's buffer reader takes for the end of input (so it
 * accepts "1\0garbage"; RFC 8259 does not). When both
 * accept, the tape must describe the same tree: types, counts, names,
 * string values, number values (raw text re-read with strtod). */
#include "json_tape.h"

#include <apr_general.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static apr_pool_t *root;

static void finding(const char *what)
{
    fprintf(stderr, "json_tape_fuzz finding: %s\n", what);
    abort();
}

static int has_overflow(const apisec_json_tape_t *t)
{
    apr_uint32_t i;

    for (i = 0; i < t->ntok; i++) {
        if (t->tok[i].type == APISEC_JSON_NUMBER && isinf(t->tok[i].u.num)) {
            return 1;
        }
    }
    return 0;
}

static void check_number(const apisec_json_tape_t *t, apr_uint32_t i)
{
    const apisec_json_tok_t *k = &t->tok[i];
    char buf[4096];

    if (k->len >= sizeof(buf)) {
        return;
    }
    memcpy(buf, t->body + k->off, k->len);
    buf[k->len] = '\0';
    if (strtod(buf, NULL) != k->u.num) {
        finding("number value differs from its raw text");
    }
}

static apr_uint32_t compare(const apisec_json_tape_t *t, apr_uint32_t i,
                            json_t *j)
{
    const apisec_json_tok_t *k = &t->tok[i];
    const char *s;
    apr_size_t len, n;

    switch (k->type) {
    case APISEC_JSON_OBJECT:
        if (!json_is_object(j) || json_object_size(j) != k->u.c.count) {
            finding("object differs");
        }
        i++;
        for (n = 0; n < k->u.c.count; n++) {
            json_t *v;

            s = apisec_json_tape_str(t, i, &len);
            v = json_object_getn(j, s, len);
            if (!v) {
                finding("member name differs");
            }
            i = compare(t, i + 1, v);
        }
        if (i != k->u.c.end) {
            finding("object end index wrong");
        }
        return i;
    case APISEC_JSON_ARRAY:
        if (!json_is_array(j) || json_array_size(j) != k->u.c.count) {
            finding("array differs");
        }
        i++;
        for (n = 0; n < k->u.c.count; n++) {
            i = compare(t, i, json_array_get(j, n));
        }
        if (i != k->u.c.end) {
            finding("array end index wrong");
        }
        return i;
    case APISEC_JSON_STRING:
        s = apisec_json_tape_str(t, i, &len);
        if (!json_is_string(j) || json_string_length(j) != len
            || memcmp(json_string_value(j), s, len) != 0) {
            finding("string differs");
        }
        return i + 1;
    case APISEC_JSON_NUMBER:
        if (!json_is_real(j) || json_real_value(j) != k->u.num) {
            finding("number differs");
        }
        check_number(t, i);
        return i + 1;
    case APISEC_JSON_TRUE:
        if (!json_is_true(j)) {
            finding("true differs");
        }
        return i + 1;
    case APISEC_JSON_FALSE:
        if (!json_is_false(j)) {
            finding("false differs");
        }
        return i + 1;
    case APISEC_JSON_NULL:
        if (!json_is_null(j)) {
            finding("null differs");
        }
        return i + 1;
    default:
        finding("unknown token type");
        return i + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    apisec_json_tape_t *t = NULL;
    apisec_json_error_t e;
    apisec_json_err_e rc;
    json_error_t je;
    json_t *j;

    if (!root) {
        if (apr_initialize() != APR_SUCCESS
            || apr_pool_create(&root, NULL) != APR_SUCCESS) {
            abort();
        }
    }
    if (apr_pool_create(&p, root) != APR_SUCCESS) {
        abort();
    }
    rc = apisec_json_tape_parse(p, (const char *)data, size, NULL, &t, &e);
    j = json_loadb((const char *)data, size,
                   JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL
                       | JSON_DECODE_INT_AS_REAL,
                   &je);
    if (rc == APISEC_JSON_OK) {
        if (!t || t->ntok == 0 || apisec_json_tape_next(t, 0) != t->ntok) {
            finding("tape does not cover one value");
        }
        if (!j) {
            if (!(json_error_code(&je) == json_error_numeric_overflow
                  && has_overflow(t))) {
                finding("tape accepts what jansson rejects");
            }
        }
        else if (compare(t, 0, j) != t->ntok) {
            finding("tape and jansson tree differ in length");
        }
    }
    else {
        if (e.code != rc || !e.msg || e.offset > size) {
            finding("error report inconsistent");
        }
        if (j && rc != APISEC_JSON_ERR_DEPTH && !memchr(data, 0, size)
            && rc != APISEC_JSON_ERR_FORBIDDEN_NAME
            && rc != APISEC_JSON_ERR_NUL_IN_NAME) {
            finding("tape rejects what jansson accepts");
        }
    }
    json_decref(j);
    apr_pool_destroy(p);
    return 0;
}
