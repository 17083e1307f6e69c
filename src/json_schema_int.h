/* Compiled schema nodes, shared by the compiler (json_schema_compile.c) and
 * the validator (json_schema.c). Not part of the public interface. */
#ifndef APISEC_JSON_SCHEMA_INT_H
#define APISEC_JSON_SCHEMA_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include "json_format.h"
#include "json_schema.h"

#include <pcre2.h>

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

typedef struct {
    const char *name;
    apr_size_t len;
    const snode_t *schema; /* NULL for required names */
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
    int names_members; /* strict: it or an in-place subschema names members */
};

struct apisec_schema_t {
    const snode_t *root;
    pcre2_match_context *mctx;
    int assert_formats;
};

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
