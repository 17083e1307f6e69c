/* Value equality for const, enum and uniqueItems, as JSON Schema defines
 * it: numbers by value (1 == 1.0), objects regardless of member order. */
#include "json_schema_int.h"

#include <stdlib.h>
#include <string.h>

static int num_eq(double a, double b)
{
    return a == b;
}

/* JSON Schema equality of a tape value and a jansson value. */
int apisec_schema_eq_json(const apisec_json_tape_t *t, apr_uint32_t i,
                          json_t *j)
{
    const apisec_json_tok_t *k = &t->tok[i];
    const char *s;
    apr_size_t len, n;

    switch (k->type) {
    case APISEC_JSON_OBJECT: {
        const char *key;
        json_t *v;

        if (!json_is_object(j) || json_object_size(j) != k->u.c.count) {
            return 0;
        }
        /* both sides have unique names and the same count, so one
         * direction suffices. jansson's loader refuses U+0000 in names,
         * so strlen is the whole name (json_object_getn needs 2.14). */
        json_object_foreach(j, key, v)
        {
            apr_uint32_t m = apisec_schema_member(t, i, key, strlen(key));

            if (!m || !apisec_schema_eq_json(t, m, v)) {
                return 0;
            }
        }
        return 1;
    }
    case APISEC_JSON_ARRAY:
        if (!json_is_array(j) || json_array_size(j) != k->u.c.count) {
            return 0;
        }
        for (n = 0, i++; n < k->u.c.count; n++) {
            if (!apisec_schema_eq_json(t, i, json_array_get(j, n))) {
                return 0;
            }
            i = apisec_json_tape_next(t, i);
        }
        return 1;
    case APISEC_JSON_STRING:
        s = apisec_json_tape_str(t, i, &len);
        return json_is_string(j) && json_string_length(j) == len
               && memcmp(json_string_value(j), s, len) == 0;
    case APISEC_JSON_NUMBER:
        return json_is_number(j) && num_eq(json_number_value(j), k->u.num);
    case APISEC_JSON_TRUE:
        return json_is_true(j);
    case APISEC_JSON_FALSE:
        return json_is_false(j);
    default:
        return json_is_null(j);
    }
}

/* Finds member name in object o; returns the value's index or 0. */
apr_uint32_t apisec_schema_member(const apisec_json_tape_t *t, apr_uint32_t o,
                                  const char *name, apr_size_t nlen)
{
    apr_uint32_t n, i = o + 1;

    for (n = 0; n < t->tok[o].u.c.count; n++) {
        apr_size_t len;
        const char *s = apisec_json_tape_str(t, i, &len);

        if (len == nlen && memcmp(s, name, len) == 0) {
            return i + 1;
        }
        i = apisec_json_tape_next(t, i + 1);
    }
    return 0;
}

/* JSON Schema equality of two tape values (uniqueItems). */
int apisec_schema_eq_tape(const apisec_json_tape_t *t, apr_uint32_t a,
                          apr_uint32_t b)
{
    const apisec_json_tok_t *x = &t->tok[a], *y = &t->tok[b];
    const char *s1, *s2;
    apr_size_t l1, l2, n;

    if (x->type != y->type) {
        return 0;
    }
    switch (x->type) {
    case APISEC_JSON_OBJECT:
        if (x->u.c.count != y->u.c.count) {
            return 0;
        }
        for (n = 0, a++; n < x->u.c.count; n++) {
            apr_uint32_t v;

            s1 = apisec_json_tape_str(t, a, &l1);
            v = apisec_schema_member(t, b, s1, l1);
            if (!v || !apisec_schema_eq_tape(t, a + 1, v)) {
                return 0;
            }
            a = apisec_json_tape_next(t, a + 1);
        }
        return 1;
    case APISEC_JSON_ARRAY:
        if (x->u.c.count != y->u.c.count) {
            return 0;
        }
        for (n = 0, a++, b++; n < x->u.c.count; n++) {
            if (!apisec_schema_eq_tape(t, a, b)) {
                return 0;
            }
            a = apisec_json_tape_next(t, a);
            b = apisec_json_tape_next(t, b);
        }
        return 1;
    case APISEC_JSON_STRING:
        s1 = apisec_json_tape_str(t, a, &l1);
        s2 = apisec_json_tape_str(t, b, &l2);
        return l1 == l2 && memcmp(s1, s2, l1) == 0;
    case APISEC_JSON_NUMBER:
        return num_eq(x->u.num, y->u.num);
    default:
        return 1;
    }
}

/* Hash consistent with apisec_schema_eq_tape: equal values hash equally
 * (member order does not count, -0 == 0). */
static apr_uint64_t mix(apr_uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb93e7f4a7ed3ULL;
    h ^= h >> 33;
    return h;
}

static apr_uint64_t hash_bytes(const char *s, apr_size_t len)
{
    apr_uint64_t h = 0xcbf29ce484222325ULL;
    apr_size_t k;

    for (k = 0; k < len; k++) {
        h = (h ^ (unsigned char)s[k]) * 0x100000001b3ULL;
    }
    return h;
}

static apr_uint64_t hash_tape(const apisec_json_tape_t *t, apr_uint32_t i)
{
    const apisec_json_tok_t *k = &t->tok[i];
    apr_uint64_t h = mix((apr_uint64_t)k->type), n;
    const char *s;
    apr_size_t len;
    double d;

    switch (k->type) {
    case APISEC_JSON_OBJECT:
        for (n = 0, i++; n < k->u.c.count; n++) {
            s = apisec_json_tape_str(t, i, &len);
            h += mix(hash_bytes(s, len) ^ mix(hash_tape(t, i + 1)));
            i = apisec_json_tape_next(t, i + 1);
        }
        return mix(h + k->u.c.count);
    case APISEC_JSON_ARRAY:
        for (n = 0, i++; n < k->u.c.count; n++) {
            h = mix(h * 31 + hash_tape(t, i));
            i = apisec_json_tape_next(t, i);
        }
        return h;
    case APISEC_JSON_STRING:
        s = apisec_json_tape_str(t, i, &len);
        return h ^ hash_bytes(s, len);
    case APISEC_JSON_NUMBER:
        d = k->u.num == 0 ? 0.0 : k->u.num;
        memcpy(&n, &d, sizeof(n));
        return h ^ mix(n);
    default:
        return h;
    }
}

typedef struct {
    apr_uint64_t h;
    apr_uint32_t i;
} hashed_t;

static int hashed_cmp(const void *a, const void *b)
{
    const hashed_t *x = a, *y = b;

    return x->h < y->h ? -1 : (x->h > y->h);
}

int apisec_schema_unique(const apisec_json_tape_t *t, apr_uint32_t arr,
                         apr_pool_t *p, apr_size_t *steps, apr_size_t max_steps)
{
    apr_uint32_t n = t->tok[arr].u.c.count, k, j, e;
    hashed_t *v;

    if (n <= 16) {
        /* pairwise is cheaper than hashing for short arrays */
        apr_uint32_t a, b, end = t->tok[arr].u.c.end;

        for (a = arr + 1; a < end; a = apisec_json_tape_next(t, a)) {
            for (b = apisec_json_tape_next(t, a); b < end;
                 b = apisec_json_tape_next(t, b)) {
                if (++*steps > max_steps) {
                    return -2;
                }
                if (apisec_schema_eq_tape(t, a, b)) {
                    return 0;
                }
            }
        }
        return 1;
    }
    /* one array per uniqueItems check, O(n log n) whatever the items */
    v = apr_palloc(p, sizeof(*v) * n);
    if (!v) {
        return -1;
    }
    for (k = 0, e = arr + 1; k < n; k++, e = apisec_json_tape_next(t, e)) {
        v[k].h = hash_tape(t, e);
        v[k].i = e;
    }
    *steps += n;
    qsort(v, n, sizeof(*v), hashed_cmp);
    for (k = 0; k < n; k = j) {
        apr_uint32_t a, b;

        for (j = k + 1; j < n && v[j].h == v[k].h; j++) {
        }
        for (a = k; a < j; a++) {
            for (b = a + 1; b < j; b++) {
                if (++*steps > max_steps) {
                    return -2; /* crafted hash collisions */
                }
                if (apisec_schema_eq_tape(t, v[a].i, v[b].i)) {
                    return 0;
                }
            }
        }
    }
    return 1;
}
