/* JSON Schema (draft 2020-12 subset) for request bodies: compiled once at
 * startup from a jansson tree, then checked against json_tape tapes on the
 * hot path without allocating per value.
 *
 * Keywords: type, enum, const, properties, required, additionalProperties,
 * patternProperties, propertyNames, minProperties, maxProperties, items,
 * prefixItems, minItems, maxItems, uniqueItems, contains, minLength,
 * maxLength (code points), pattern, format (email, uuid, date-time, date,
 * ipv4, ipv6, uri: see json_format.h), minimum, maximum, exclusiveMinimum,
 * exclusiveMaximum, multipleOf, allOf, anyOf, oneOf, not, if/then/else,
 * $ref to "#" or "#/$defs/NAME" with $defs at the top of the same document;
 * boolean schemas. Annotations are allowed and ignored: title, description,
 * default, examples, $comment, deprecated, readOnly, writeOnly; $schema (only
 * the 2020-12 URI) and $id at the top. Anything else, or a keyword with a
 * value of the wrong kind, refuses the whole schema with a message naming
 * the keyword and its JSON pointer in the schema: an operator must never
 * believe a rule is enforced when it is not.
 *
 * Patterns are PCRE2 (UTF mode, $ only at the very end, \uHHHH and \u{H..}
 * as in ECMA-262), JIT-compiled at startup, with a match limit so a
 * pathological pattern fails closed instead of spinning. Differences from
 * ECMA-262 that remain: \d \w \s \b are ASCII-only (ECMA's \s also takes
 * Unicode spaces), \p{..} works without a "u" flag, PCRE-only syntax
 * (possessive quantifiers, atomic groups, \A \z, (?i)) is accepted, and
 * ECMA's \cX, named group syntax (?<n>) quirks and lookbehind of any length
 * follow PCRE2's rules.
 *
 * Validation errors: at most APISEC_SCHEMA_MAX_ERRORS {pointer, message},
 * in a stable order (instance document order; per value: type, enum/const,
 * value keywords, required in schema order, then members/elements, then
 * applicators), each message a static text; the value is never echoed.
 * Inside anyOf/oneOf/not/if and contains the branches are evaluated quietly
 * and one error is reported for the keyword. Strict mode (mass assignment):
 * an object checked by a schema that names members (properties or
 * patternProperties, its own or those of its allOf/anyOf/oneOf/then/else/$ref
 * subschemas) and has no additionalProperties rejects every member none of
 * them names. */
#ifndef APISEC_JSON_SCHEMA_H
#define APISEC_JSON_SCHEMA_H

#include "json_tape.h"

#include <apr_pools.h>
#include <jansson.h>

#define APISEC_SCHEMA_MAX_ERRORS 20
#define APISEC_SCHEMA_POINTER_MAX 256

typedef struct apisec_schema_t apisec_schema_t;

/* compile flags */
#define APISEC_SCHEMA_FORMAT_ANNOTATION 0x01 /* do not assert formats */

typedef struct {
    /* RFC 6901, unescaped form; cut at APISEC_SCHEMA_POINTER_MAX - 1 bytes
     * (then ending in "...") */
    char pointer[APISEC_SCHEMA_POINTER_MAX];
    const char *message; /* static */
} apisec_schema_error_t;

typedef struct {
    int count;     /* errors in err[] */
    int truncated; /* more errors than fit */
    apisec_schema_error_t err[APISEC_SCHEMA_MAX_ERRORS];
} apisec_schema_result_t;

/* Compiles schema (not consumed; the constants it needs are kept with a
 * reference released when p is cleared). On failure returns APR_EINVAL and
 * sets *errmsg to a pool string naming the keyword and its schema pointer. */
apr_status_t apisec_schema_compile(apr_pool_t *p, json_t *schema,
                                   unsigned int flags, apisec_schema_t **out,
                                   const char **errmsg);

/* Validates the tape. p is used for at most a fixed few allocations per call
 * (the PCRE2 match block, when a pattern runs). Returns 1 when valid, 0 when
 * not (res holds the errors). */
int apisec_schema_validate(const apisec_schema_t *s,
                           const apisec_json_tape_t *t, int strict,
                           apr_pool_t *p, apisec_schema_result_t *res);

#endif
