/* Compiled schema nodes, shared by the compiler (json_schema_compile.c) and
 * the validator (json_schema.c). Not part of the public interface. */
#ifndef APISEC_JSON_SCHEMA_INT_H
#define APISEC_JSON_SCHEMA_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include "json_format.h"
#include "json_schema.h"

#include <pcre2.h>
#include <string.h>

/* which value keywords a node has */
enum {
    K_MINIMUM = 1 << 0,
    K_MAXIMUM = 1 << 1,
    K_XMIN = 1 << 2,
    K_XMAX = 1 << 3,
    K_MULTIPLE = 1 << 4,
    K_MINLEN = 1 << 5,
    K_MAXLEN = 1 << 6,
    K_MINITEMS = 1 << 7,
    K_MAXITEMS = 1 << 8,
    K_MINPROPS = 1 << 9,
    K_MAXPROPS = 1 << 10,
    K_CONST = 1 << 11,
    K_ENUM = 1 << 12,
    K_TYPE = 1 << 13,
    K_UNIQUE = 1 << 14
};

/* snode checks: which groups of keywords a node has */
enum {
    C_NUMBER = 1 << 0,     /* minimum ... multipleOf */
    C_STRING = 1 << 1,     /* minLength, maxLength, pattern, format */
    C_APPLICATORS = 1 << 2 /* allOf ... $ref */
};

/* type keyword bits */
enum {
    T_NULL = 1 << 0,
    T_BOOLEAN = 1 << 1,
    T_OBJECT = 1 << 2,
    T_ARRAY = 1 << 3,
    T_NUMBER = 1 << 4,
    T_STRING = 1 << 5,
    T_INTEGER = 1 << 6
};

typedef struct snode snode_t;

typedef struct sprop {
    const char *name;
    apr_size_t len;
    const snode_t *schema; /* NULL for required names */
    apr_uint64_t reqbit;   /* properties: bit k when required[k] names it */
    apr_size_t order;      /* properties: place in the schema's own order */
    /* properties: the one after it in the schema's order (NULL for the
     * last): clients mostly send members in the order the schema lists
     * them, so the previous member's next is the first guess */
    const struct sprop *next;
} sprop_t;

typedef struct {
    pcre2_code *re;
    const snode_t *schema;
} spat_t;

typedef struct {
    const snode_t **v;
    apr_size_t n;
} slist_t;

struct snode {
    int boolean; /* -1: a schema object; 0: false; 1: true */
    unsigned int kw;
    unsigned int types;
    double minimum, maximum, xmin, xmax, multiple;
    apr_size_t min_len, max_len, min_items, max_items, min_props, max_props;
    pcre2_code *pattern;
    apisec_format_e format;
    const snode_t *items;
    slist_t prefix;
    const snode_t *contains;
    sprop_t *props; /* sorted by (len, bytes) for binary search */
    apr_size_t nprops;
    /* props by name hash (apisec_schema_name_hash), open addressing:
     * index + 1 into props, 0 for a free slot; pmask + 1 slots, at least
     * twice nprops, so a lookup usually compares one name */
    apr_uint32_t *phash;
    apr_uint32_t pmask;
    const sprop_t *pfirst; /* first property in the schema's order */
    /* every required name is a property and there are at most 64: the
     * member walk that looks the properties up also finds them */
    int req_in_props;
    spat_t *pats;
    apr_size_t npats;
    const snode_t *addl;
    const snode_t *pnames;
    sprop_t *required;
    apr_size_t nrequired;
    json_t *cnst;
    json_t **enums;
    apr_size_t nenums;
    slist_t all, any, one;
    const snode_t *not_, *if_, *then_, *else_;
    const snode_t *ref;
    int names_members;   /* strict: it or an in-place subschema names members */
    unsigned int checks; /* C_*, from the keywords above */
    unsigned int tmask;  /* type: bit per apisec_json_type_e it takes */
    /* a schema object with no keywords but type and C_NUMBER/C_STRING
     * ones: a scalar needs no more than v_value() */
    int leaf;
};

struct apisec_schema_t {
    const snode_t *root;
    pcre2_match_context *mctx;
    int assert_formats;
};

static APR_INLINE apr_uint64_t apisec_rd8(const char *s)
{
    apr_uint64_t v;

    memcpy(&v, s, 8);
    return v;
}

static APR_INLINE apr_uint64_t apisec_rd4(const char *s)
{
    apr_uint32_t v;

    memcpy(&v, s, 4);
    return v;
}

/* Hash of a member name for the props table: a word at a time, a
 * multiply-xorshift mix. Short names and the tail are read with
 * overlapping loads that stay inside s[0..len), so there is no loop per
 * byte. Only the schema's own names go into a table, so the member names
 * a client picks cannot make its chains longer. */
static APR_INLINE apr_uint32_t apisec_schema_name_hash(const char *s,
                                                       apr_size_t len)
{
    apr_uint64_t h = (apr_uint64_t)len * 0x9E3779B97F4A7C15ULL, w;

    if (len >= 8) {
        for (; len > 8; s += 8, len -= 8) {
            h = (h ^ apisec_rd8(s)) * 0xFF51AFD7ED558CCDULL;
            h ^= h >> 32;
        }
        w = apisec_rd8(s + len - 8);
    }
    else if (len >= 4) {
        w = (apisec_rd4(s) << 32) | apisec_rd4(s + len - 4);
    }
    else if (len > 0) {
        w = ((apr_uint64_t)(unsigned char)s[0] << 16)
            | ((apr_uint64_t)(unsigned char)s[len >> 1] << 8)
            | (unsigned char)s[len - 1];
    }
    else {
        w = 0;
    }
    h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
    return (apr_uint32_t)(h ^ (h >> 33));
}

/* a[0..len) == b[0..len), with the same overlapping loads: member names
 * are short, and a call to memcmp would cost more than the compare. */
static APR_INLINE int apisec_bytes_eq(const char *a, const char *b,
                                      apr_size_t len)
{
    if (len >= 8) {
        for (; len > 8; a += 8, b += 8, len -= 8) {
            if (apisec_rd8(a) != apisec_rd8(b)) {
                return 0;
            }
        }
        return apisec_rd8(a + len - 8) == apisec_rd8(b + len - 8);
    }
    if (len >= 4) {
        return apisec_rd4(a) == apisec_rd4(b)
               && apisec_rd4(a + len - 4) == apisec_rd4(b + len - 4);
    }
    return len == 0
           || (a[0] == b[0] && a[len >> 1] == b[len >> 1]
               && a[len - 1] == b[len - 1]);
}

/* json_schema_eq.c */
int apisec_schema_eq_json(const apisec_json_tape_t *t, apr_uint32_t i,
                          json_t *j);
int apisec_schema_eq_tape(const apisec_json_tape_t *t, apr_uint32_t a,
                          apr_uint32_t b);
/* Index of the value of member name in object o, or 0. */
apr_uint32_t apisec_schema_member(const apisec_json_tape_t *t, apr_uint32_t o,
                                  const char *name, apr_size_t nlen);
/* 1 when the array's items are pairwise unequal, 0 when not, -1 out of
 * memory, -2 when *steps (comparisons, added to) passes max_steps. */
int apisec_schema_unique(const apisec_json_tape_t *t, apr_uint32_t arr,
                         apr_pool_t *p, apr_size_t *steps,
                         apr_size_t max_steps);

#endif
