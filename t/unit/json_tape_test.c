/* Unit tests of the strict JSON parser (src/json_tape.c): JSONTestSuite
 * conformance with the deliberate choices spelled out, then limits, errors,
 * pointers and the tape layout. Run from the repository top; the vectors are
 * found through $APISEC_VECTORS (default ../shared/vectors). */
#include "json_tape.h"
#include "tap.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <dirent.h>
#include <math.h>
#include <stdlib.h>

static apr_pool_t *pool;

/* y_ files rejected on purpose, with the reason. */
static const struct {
    const char *file;
    apisec_json_err_e code;
    const char *why;
} y_rejected[] = {
    {"y_object_duplicated_key.json", APISEC_JSON_ERR_DUPLICATE,
     "duplicate member names are refused (issue 5): backends disagree on "
     "which one wins"},
    {"y_object_duplicated_key_and_value.json", APISEC_JSON_ERR_DUPLICATE,
     "duplicate member names are refused even with equal values"},
    {"y_object_escaped_null_in_key.json", APISEC_JSON_ERR_NUL_IN_NAME,
     "U+0000 in a member name: C backends truncate the name"},
};

/* Our documented outcome for every i_ file: OK = accepted. */
static const struct {
    const char *file;
    apisec_json_err_e code;
} i_expected[] = {
    {"i_number_double_huge_neg_exp.json", APISEC_JSON_OK},
    {"i_number_huge_exp.json", APISEC_JSON_OK},
    {"i_number_neg_int_huge_exp.json", APISEC_JSON_OK},
    {"i_number_pos_double_huge_exp.json", APISEC_JSON_OK},
    {"i_number_real_neg_overflow.json", APISEC_JSON_OK},
    {"i_number_real_pos_overflow.json", APISEC_JSON_OK},
    {"i_number_real_underflow.json", APISEC_JSON_OK},
    {"i_number_too_big_neg_int.json", APISEC_JSON_OK},
    {"i_number_too_big_pos_int.json", APISEC_JSON_OK},
    {"i_number_very_big_negative_int.json", APISEC_JSON_OK},
    {"i_object_key_lone_2nd_surrogate.json", APISEC_JSON_ERR_SURROGATE},
    {"i_string_1st_surrogate_but_2nd_missing.json", APISEC_JSON_ERR_SURROGATE},
    {"i_string_1st_valid_surrogate_2nd_invalid.json",
     APISEC_JSON_ERR_SURROGATE},
    {"i_string_UTF-16LE_with_BOM.json", APISEC_JSON_ERR_SYNTAX},
    {"i_string_UTF-8_invalid_sequence.json", APISEC_JSON_ERR_UTF8},
    {"i_string_UTF8_surrogate_U+D800.json", APISEC_JSON_ERR_UTF8},
    {"i_string_incomplete_surrogate_and_escape_valid.json",
     APISEC_JSON_ERR_SURROGATE},
    {"i_string_incomplete_surrogate_pair.json", APISEC_JSON_ERR_SURROGATE},
    {"i_string_incomplete_surrogates_escape_valid.json",
     APISEC_JSON_ERR_SURROGATE},
    {"i_string_invalid_lonely_surrogate.json", APISEC_JSON_ERR_SURROGATE},
    {"i_string_invalid_surrogate.json", APISEC_JSON_ERR_SURROGATE},
    {"i_string_invalid_utf-8.json", APISEC_JSON_ERR_UTF8},
    {"i_string_inverted_surrogates_U+1D11E.json", APISEC_JSON_ERR_SURROGATE},
    {"i_string_iso_latin_1.json", APISEC_JSON_ERR_UTF8},
    {"i_string_lone_second_surrogate.json", APISEC_JSON_ERR_SURROGATE},
    {"i_string_lone_utf8_continuation_byte.json", APISEC_JSON_ERR_UTF8},
    {"i_string_not_in_unicode_range.json", APISEC_JSON_ERR_UTF8},
    {"i_string_overlong_sequence_2_bytes.json", APISEC_JSON_ERR_UTF8},
    {"i_string_overlong_sequence_6_bytes.json", APISEC_JSON_ERR_UTF8},
    {"i_string_overlong_sequence_6_bytes_null.json", APISEC_JSON_ERR_UTF8},
    {"i_string_truncated-utf-8.json", APISEC_JSON_ERR_UTF8},
    {"i_string_utf16BE_no_BOM.json", APISEC_JSON_ERR_SYNTAX},
    {"i_string_utf16LE_no_BOM.json", APISEC_JSON_ERR_SYNTAX},
    {"i_structure_500_nested_arrays.json", APISEC_JSON_ERR_DEPTH},
    {"i_structure_UTF-8_BOM_empty_object.json", APISEC_JSON_ERR_SYNTAX},
};

static apisec_json_err_e parse_o(const char *s, apr_size_t len,
                                 const apisec_json_opts_t *o,
                                 apisec_json_tape_t **t, apisec_json_error_t *e)
{
    memset(e, 0, sizeof(*e));
    return apisec_json_tape_parse(pool, s, len, o, t, e);
}

static apisec_json_err_e parse(const char *s, apisec_json_tape_t **t,
                               apisec_json_error_t *e)
{
    return parse_o(s, strlen(s), NULL, t, e);
}

static char *slurp(const char *path, apr_size_t *len)
{
    FILE *f = fopen(path, "rb");
    long n;
    char *buf;

    if (!f) {
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0
        || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = apr_palloc(pool, (apr_size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return *len == (apr_size_t)n ? buf : NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_file(const char *dir, const char *name)
{
    apr_size_t len, k;
    char *body = slurp(apr_pstrcat(pool, dir, "/", name, NULL), &len);
    apisec_json_tape_t *t;
    apisec_json_error_t e;
    apisec_json_err_e rc;

    if (!body) {
        tap_ok(0, "%s: readable", name);
        return;
    }
    rc = parse_o(body, len, NULL, &t, &e);
    if (name[0] == 'n') {
        tap_ok(rc != APISEC_JSON_OK, "%s rejected (%s)", name,
               apisec_json_strerror(rc));
        return;
    }
    if (name[0] == 'y') {
        for (k = 0; k < sizeof(y_rejected) / sizeof(y_rejected[0]); k++) {
            if (strcmp(name, y_rejected[k].file) == 0) {
                tap_ok(rc == y_rejected[k].code, "%s rejected on purpose: %s",
                       name, y_rejected[k].why);
                return;
            }
        }
        tap_ok(rc == APISEC_JSON_OK, "%s accepted%s%s", name, rc ? ": " : "",
               rc ? e.msg : "");
        return;
    }
    for (k = 0; k < sizeof(i_expected) / sizeof(i_expected[0]); k++) {
        if (strcmp(name, i_expected[k].file) == 0) {
            tap_ok(rc == i_expected[k].code, "%s %s (%s)", name,
                   rc == APISEC_JSON_OK ? "accepted" : "rejected",
                   apisec_json_strerror(rc));
            return;
        }
    }
    tap_ok(0, "%s has a documented outcome in i_expected", name);
}

static void test_suite(void)
{
    const char *vec = getenv("APISEC_VECTORS");
    const char *dir;
    DIR *d;
    struct dirent *de;
    char **names;
    int n = 0, cap = 512, k, ny = 0, nn = 0, ni = 0;

    dir = apr_pstrcat(pool, vec ? vec : "../shared/vectors",
                      "/JSONTestSuite/test_parsing", NULL);
    d = opendir(dir);
    if (!tap_ok(d != NULL, "JSONTestSuite found at %s", dir)) {
        return;
    }
    names = apr_palloc(pool, sizeof(*names) * cap);
    while ((de = readdir(d)) != NULL && n < cap) {
        const char *s = de->d_name;

        if ((s[0] == 'y' || s[0] == 'n' || s[0] == 'i') && s[1] == '_') {
            names[n++] = apr_pstrdup(pool, s);
        }
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof(*names), cmp_str);
    for (k = 0; k < n; k++) {
        ny += names[k][0] == 'y';
        nn += names[k][0] == 'n';
        ni += names[k][0] == 'i';
        check_file(dir, names[k]);
    }
    tap_diag("JSONTestSuite: %d y_, %d n_, %d i_ files", ny, nn, ni);
    tap_ok(ni == (int)(sizeof(i_expected) / sizeof(i_expected[0])),
           "every i_ file has an entry in the table and no entry is stale");
}

static void test_depth(void)
{
    char buf[200];
    apisec_json_tape_t *t;
    apisec_json_error_t e;
    apisec_json_opts_t o;
    int k;

    for (k = 0; k < 32; k++) {
        buf[k] = '[';
        buf[32 + k] = ']';
    }
    buf[64] = '\0';
    tap_is_int(parse(buf, &t, &e), APISEC_JSON_OK,
               "depth 32 accepted by default");
    for (k = 0; k < 33; k++) {
        buf[k] = '[';
        buf[33 + k] = ']';
    }
    buf[66] = '\0';
    tap_is_int(parse(buf, &t, &e), APISEC_JSON_ERR_DEPTH,
               "depth 33 rejected by default");
    tap_is_int(e.offset, 32, "depth error offset is the 33rd bracket");
    tap_ok(e.pointer && strlen(e.pointer) == 64
               && strncmp(e.pointer, "/0/0/0", 6) == 0,
           "depth error pointer /0 x 32");
    apisec_json_opts_default(&o);
    o.max_depth = 2;
    tap_is_int(parse_o("{\"a\":[1]}", 9, &o, &t, &e), APISEC_JSON_OK,
               "max_depth 2: object with array accepted");
    tap_is_int(parse_o("{\"a\":[{}]}", 10, &o, &t, &e), APISEC_JSON_ERR_DEPTH,
               "max_depth 2: third level rejected");
    tap_is_str(e.pointer, "/a/0", "depth error pointer /a/0");
    tap_is_int(parse("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", &t, &e),
               APISEC_JSON_ERR_DEPTH, "depth checked before end of input");
}

static void test_duplicates(void)
{
    apisec_json_tape_t *t;
    apisec_json_error_t e;
    char *big;
    apr_size_t pos = 0, cap = 64 * 1024;
    int k;

    tap_is_int(parse("{\"a\":1,\"a\":2}", &t, &e), APISEC_JSON_ERR_DUPLICATE,
               "duplicate name rejected");
    tap_is_int(e.offset, 7, "duplicate offset is the second name's quote");
    tap_is_str(e.pointer, "/a", "duplicate pointer names the member");
    tap_is_int(parse("{\"a\":1,\"\\u0061\":2}", &t, &e),
               APISEC_JSON_ERR_DUPLICATE, "a and \\u0061 are the same name");
    tap_is_int(parse("{\"\\u00e9\":1,\"\xc3\xa9\":2}", &t, &e),
               APISEC_JSON_ERR_DUPLICATE,
               "escaped and raw UTF-8 names compare decoded");
    tap_is_int(parse("{\"a\":1,\"b\":{\"a\":1},\"c\":[{\"a\":1}]}", &t, &e),
               APISEC_JSON_OK, "same name in different objects accepted");
    tap_is_int(parse("{\"x\":[{\"b\":1,\"c\":2,\"b\":3}]}", &t, &e),
               APISEC_JSON_ERR_DUPLICATE, "nested duplicate rejected");
    tap_is_str(e.pointer, "/x/0/b", "nested duplicate pointer");
    tap_is_int(parse("{\"a\":1,\"a \":2,\"A\":3}", &t, &e), APISEC_JSON_OK,
               "similar names are different");

    /* big objects take the sorting path */
    big = apr_palloc(pool, cap);
    big[pos++] = '{';
    for (k = 0; k < 5000; k++) {
        pos += (apr_size_t)apr_snprintf(big + pos, cap - pos, "%s\"k%d\":%d",
                                        k ? "," : "", (k * 7919) % 5000, k);
    }
    big[pos++] = '}';
    tap_is_int(parse_o(big, pos, NULL, &t, &e), APISEC_JSON_OK,
               "5000 distinct names accepted");
    tap_is_int(t ? t->tok[0].u.c.count : 0, 5000, "5000 members counted");
    pos--;
    pos +=
        (apr_size_t)apr_snprintf(big + pos, cap - pos, ",\"k17\":1,\"k3\":2}");
    tap_is_int(parse_o(big, pos, NULL, &t, &e), APISEC_JSON_ERR_DUPLICATE,
               "5000 names plus repeats rejected");
    tap_is_str(e.pointer, "/k17",
               "big object: first repeat in document order reported");
}

static void test_forbidden(void)
{
    apisec_json_tape_t *t;
    apisec_json_error_t e;
    apisec_json_opts_t o;

    tap_is_int(parse("{\"__proto__\":{}}", &t, &e),
               APISEC_JSON_ERR_FORBIDDEN_NAME, "__proto__ rejected");
    tap_is_str(e.pointer, "/__proto__", "__proto__ pointer");
    tap_is_int(e.offset, 1, "__proto__ offset");
    tap_is_int(parse("{\"a\":[{\"constructor\":1}]}", &t, &e),
               APISEC_JSON_ERR_FORBIDDEN_NAME, "constructor rejected");
    tap_is_str(e.pointer, "/a/0/constructor", "constructor pointer");
    tap_is_int(parse("{\"prototype\":1}", &t, &e),
               APISEC_JSON_ERR_FORBIDDEN_NAME, "prototype rejected");
    tap_is_int(parse("{\"\\u005f_proto__\":1}", &t, &e),
               APISEC_JSON_ERR_FORBIDDEN_NAME, "escaped __proto__ rejected");
    tap_is_int(
        parse("{\"a\":\"__proto__\",\"proto\":1,\"constructors\":2}", &t, &e),
        APISEC_JSON_OK, "forbidden words as values or parts accepted");
    apisec_json_opts_default(&o);
    o.allow_proto_names = 1;
    tap_is_int(parse_o("{\"__proto__\":1}", 15, &o, &t, &e), APISEC_JSON_OK,
               "__proto__ accepted when allowed");
    tap_is_int(parse("{\"a\\u0000b\":1}", &t, &e), APISEC_JSON_ERR_NUL_IN_NAME,
               "U+0000 in a name rejected");
    tap_is_str(e.pointer, "", "NUL name pointer stops at the object");
    tap_is_int(parse("[\"a\\u0000b\"]", &t, &e), APISEC_JSON_OK,
               "U+0000 in a value accepted");
}

static void test_size(void)
{
    apisec_json_tape_t *t;
    apisec_json_error_t e;
    apisec_json_opts_t o;

    apisec_json_opts_default(&o);
    o.max_bytes = 10;
    tap_is_int(parse_o("[1,2,3,44]", 10, &o, &t, &e), APISEC_JSON_OK,
               "body of exactly the limit accepted");
    tap_is_int(parse_o("[1,2,3,444]", 11, &o, &t, &e),
               APISEC_JSON_ERR_TOO_LARGE,
               "body one byte over the limit rejected");
    tap_is_int(e.offset, 10, "size error offset is the limit");
    tap_ok(e.pointer == NULL, "size error has no pointer");
}

static void test_errors(void)
{
    static const struct {
        const char *text;
        apisec_json_err_e code;
        apr_size_t off;
        const char *ptr;
    } cases[] = {
        {"[1,2,x]", APISEC_JSON_ERR_SYNTAX, 5, "/2"},
        {"{\"a\":{\"b\":tru}}", APISEC_JSON_ERR_SYNTAX, 13, "/a/b"},
        {"\"abc", APISEC_JSON_ERR_TRUNCATED, 4, ""},
        {"[1] x", APISEC_JSON_ERR_TRAILING, 4, ""},
        {"{\"a/b~c\": [1, 01]}", APISEC_JSON_ERR_SYNTAX, 15, "/a~1b~0c"},
        {"{\"a\":1,}", APISEC_JSON_ERR_SYNTAX, 7, ""},
        {"[1,]", APISEC_JSON_ERR_SYNTAX, 3, "/1"},
        {"{\"a\" 1}", APISEC_JSON_ERR_SYNTAX, 5, ""},
        {"[\"a\tb\"]", APISEC_JSON_ERR_CONTROL, 3, "/0"},
        {"[\"\\x\"]", APISEC_JSON_ERR_ESCAPE, 2, "/0"},
        {"[\"\\u12G4\"]", APISEC_JSON_ERR_ESCAPE, 6, "/0"},
        {"{\"k\":[0,\"\xc0\xaf\"]}", APISEC_JSON_ERR_UTF8, 9, "/k/1"},
        {"[\"\\udc00\"]", APISEC_JSON_ERR_SURROGATE, 2, "/0"},
        {"[-]", APISEC_JSON_ERR_NUMBER, 2, "/0"},
        {"[1.]", APISEC_JSON_ERR_NUMBER, 3, "/0"},
        {"[1e+]", APISEC_JSON_ERR_NUMBER, 4, "/0"},
        {"[.5]", APISEC_JSON_ERR_SYNTAX, 1, "/0"},
        {"   ", APISEC_JSON_ERR_EMPTY, 3, ""},
        {"", APISEC_JSON_ERR_EMPTY, 0, ""},
        {"{\"a\":[1,2", APISEC_JSON_ERR_TRUNCATED, 9, "/a"},
        {"\xef\xbb\xbf{}", APISEC_JSON_ERR_SYNTAX, 0, ""},
        {"nul", APISEC_JSON_ERR_TRUNCATED, 3, ""},
        {"[nulx]", APISEC_JSON_ERR_SYNTAX, 4, "/0"},
    };
    apr_size_t k;

    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        apisec_json_tape_t *t;
        apisec_json_error_t e;
        apisec_json_err_e rc = parse(cases[k].text, &t, &e);
        char name[160];

        apr_snprintf(name, sizeof(name), "error case %d: code %s", (int)k,
                     apisec_json_strerror(cases[k].code));
        tap_is_int(rc, cases[k].code, name);
        apr_snprintf(name, sizeof(name), "error case %d: offset", (int)k);
        tap_is_int(e.offset, cases[k].off, name);
        apr_snprintf(name, sizeof(name), "error case %d: pointer", (int)k);
        tap_is_str(e.pointer, cases[k].ptr, name);
        tap_ok(t == NULL, "error case %d: no tape", (int)k);
    }
    tap_ok(strcmp(apisec_json_strerror(APISEC_JSON_ERR_DUPLICATE),
                  "duplicate member name")
               == 0,
           "messages are static texts per code");
}

static void test_walk(void)
{
    const char *s =
        "{\"a\":[1,2,{\"b\":null}],\"c\":\"x\\ny\",\"d\":true,\"e\":[]}";
    apisec_json_tape_t *t;
    apisec_json_error_t e;
    const char *str;
    apr_size_t len;
    apr_uint32_t i;

    if (!tap_ok(parse(s, &t, &e) == APISEC_JSON_OK, "walk: parsed")) {
        return;
    }
    tap_is_int(t->ntok, 14, "walk: 14 tokens");
    tap_is_int(t->tok[0].type, APISEC_JSON_OBJECT, "walk: top is object");
    tap_is_int(t->tok[0].u.c.count, 4, "walk: 4 members");
    tap_is_int(apisec_json_tape_next(t, 0), 14, "walk: top ends past the tape");
    tap_is_int(t->tok[1].type, APISEC_JSON_STRING, "walk: name token first");
    tap_is_int(t->tok[2].type, APISEC_JSON_ARRAY, "walk: value of a is array");
    tap_is_int(t->tok[2].u.c.count, 3, "walk: array has 3 elements");
    tap_is_int(apisec_json_tape_next(t, 2), 8, "walk: skip array of a in O(1)");
    tap_is_int(t->tok[5].u.c.count, 1, "walk: inner object has 1 member");
    tap_is_int(t->tok[7].type, APISEC_JSON_NULL, "walk: null");
    str = apisec_json_tape_str(t, 8, &len);
    tap_ok(len == 1 && str[0] == 'c', "walk: next name is c");
    str = apisec_json_tape_str(t, 9, &len);
    tap_ok(len == 3 && memcmp(str, "x\ny", 3) == 0, "walk: escape decoded");
    tap_ok(t->tok[9].flags & APISEC_JSON_F_ESCAPED, "walk: escaped flag set");
    tap_is_int(t->tok[9].len, 4, "walk: raw length kept");
    tap_is_int(t->tok[11].type, APISEC_JSON_TRUE, "walk: true");
    tap_is_int(t->tok[13].type, APISEC_JSON_ARRAY, "walk: empty array");
    tap_is_int(t->tok[13].u.c.count, 0, "walk: empty array count 0");
    tap_is_int(apisec_json_tape_next(t, 13), 14, "walk: empty array next");
    str = apisec_json_tape_str(t, 1, &len);
    tap_ok(str == s + 2 && len == 1, "walk: unescaped string points into body");
    tap_is_int(t->tok[2].len, 16, "walk: container raw length");
    i = 1;
    len = 0;
    while (i < t->ntok) {
        i = apisec_json_tape_next(t, i + 1);
        len++;
    }
    tap_is_int(len, 4, "walk: member loop visits 4 members");
    tap_is_int(t->tok[12].type, APISEC_JSON_STRING,
               "walk: tokens in document order");
}

static void test_strings(void)
{
    apisec_json_tape_t *t;
    apisec_json_error_t e;
    const char *s;
    apr_size_t len;

    tap_is_int(
        parse("\"\\u00e9\\ud834\\udd1e\\\"\\\\\\/\\b\\f\\r\\t\"", &t, &e),
        APISEC_JSON_OK, "escapes parsed");
    s = apisec_json_tape_str(t, 0, &len);
    tap_ok(len == 13
               && memcmp(s, "\xc3\xa9\xf0\x9d\x84\x9e\"\\/\b\f\r\t", 13) == 0,
           "escapes decoded to UTF-8");
    tap_is_int(apisec_json_utf8_len(s, len), 9, "code points counted");
    tap_is_int(parse("[\"a\\u0000b\"]", &t, &e), APISEC_JSON_OK, "NUL value");
    s = apisec_json_tape_str(t, 1, &len);
    tap_ok(len == 3 && s[1] == '\0', "NUL value decoded with its length");
    tap_is_int(parse("\"\xf4\x8f\xbf\xbf\"", &t, &e), APISEC_JSON_OK,
               "U+10FFFF accepted");
    tap_is_int(parse("\"\xf4\x90\x80\x80\"", &t, &e), APISEC_JSON_ERR_UTF8,
               "U+110000 rejected");
    tap_is_int(parse("\"\xed\x9f\xbf\"", &t, &e), APISEC_JSON_OK,
               "U+D7FF accepted");
    tap_is_int(parse("\"\xe0\x9f\xbf\"", &t, &e), APISEC_JSON_ERR_UTF8,
               "3-byte overlong rejected");
    tap_is_int(parse("\"\\ud800\\u0041\"", &t, &e), APISEC_JSON_ERR_SURROGATE,
               "high surrogate with non-surrogate rejected");
}

static void test_numbers(void)
{
    static const struct {
        const char *text;
        int integer;
        double value;
    } cases[] = {
        {"1", 1, 1},
        {"1.0", 1, 1},
        {"1e2", 1, 100},
        {"1.5", 0, 1.5},
        {"1.5e1", 1, 15},
        {"1e-1", 0, 0.1},
        {"0.0", 1, 0},
        {"-0", 1, 0},
        {"100e-2", 1, 1},
        {"1234.5", 0, 1234.5},
        {"123.4500e2", 1, 12345},
        {"-12", 1, -12},
        {"0.1e1", 1, 1},
        {"10E-1", 1, 1},
        {"12345678901234567890", 1, 12345678901234567890.0},
        {"123456789012345", 1, 123456789012345.0},
        {"1e-400", 0, 0},
        {"0e-999999999999", 1, 0},
        {"9007199254740993", 1, 9007199254740992.0},
    };
    apr_size_t k;

    for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        apisec_json_tape_t *t;
        apisec_json_error_t e;

        if (!tap_ok(parse(cases[k].text, &t, &e) == APISEC_JSON_OK, "%s parsed",
                    cases[k].text)) {
            continue;
        }
        tap_ok(!!(t->tok[0].flags & APISEC_JSON_F_INTEGER) == cases[k].integer,
               "%s is %san integer", cases[k].text,
               cases[k].integer ? "" : "not ");
        tap_ok(t->tok[0].u.num == cases[k].value, "%s as double",
               cases[k].text);
        tap_is_int(t->tok[0].len, strlen(cases[k].text), "raw length kept");
    }
    {
        apisec_json_tape_t *t;
        apisec_json_error_t e;

        parse("[1E400,-1e400]", &t, &e);
        tap_ok(t && isinf(t->tok[1].u.num) && t->tok[1].u.num > 0
                   && (t->tok[1].flags & APISEC_JSON_F_INTEGER),
               "1E400 accepted: +HUGE_VAL, integer");
        tap_ok(t && isinf(t->tok[2].u.num) && t->tok[2].u.num < 0,
               "-1e400 accepted: -HUGE_VAL");
    }
}

static void test_pointer_append(void)
{
    char buf[16];
    apr_size_t pos = 0;

    apisec_json_pointer_append(buf, sizeof(buf), &pos, "a/b", 3);
    apisec_json_pointer_append(buf, sizeof(buf), &pos, "~", 1);
    tap_is_str(buf, "/a~1b/~0", "pointer escapes / and ~");
    tap_ok(
        !apisec_json_pointer_append(buf, sizeof(buf), &pos, "0123456789", 10),
        "pointer truncation reported");
    tap_ok(strlen(buf) < sizeof(buf), "truncated pointer stays in the buffer");
}

int main(void)
{
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        printf("Bail out! APR init\n");
        return 1;
    }
    test_suite();
    test_depth();
    test_duplicates();
    test_forbidden();
    test_size();
    test_errors();
    test_walk();
    test_strings();
    test_numbers();
    test_pointer_append();
    apr_pool_destroy(pool);
    apr_terminate();
    return tap_done();
}
