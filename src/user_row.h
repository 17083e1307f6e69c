/* Users through mod_dbd: the rules applied to the row that APISecUserQuery
 * returns for the user of a verified token.
 *
 * What this core promises:
 * - Columns are found by name without regard to case (PostgreSQL folds
 *   unquoted names to lower case, SQLite keeps them as written).
 * - active, when the row has it: the user passes only when it is a non-zero
 *   integer or t, true, y, yes, on (any case). 0, f, false, NULL, an empty
 *   or any other text refuse the user: an account is off unless it says on.
 * - token_version, when the row has it: a non-negative integer (NULL counts
 *   as 0; anything else refuses the token). The token's ver claim, missing
 *   or null, counts as 0; otherwise it must be a non-negative JSON integer.
 *   A token whose ver is below token_version is refused: raising the
 *   column kills every token issued before.
 * - Exported: every other column with a value, as APISEC_USER_<NAME> (the
 *   name upper-cased, every character outside A-Z, 0-9 and _ made _),
 *   except secret columns (a name containing "password", "passwd" or
 *   "secret", or ending in "hash"; and names of APISEC_USER_NAME_MAX bytes
 *   or more): those are never exported nor matched.
 * - The query, checked at startup: SELECT or WITH, exactly one %s (the
 *   user, bound as a parameter of the prepared statement, never quoted)
 *   and no other %: apr_dbd reads one argument per conversion.
 * - Errors are an enum and a static text; never a value of the row.
 * Nothing here keeps state; results live in the caller's pool. */
#ifndef APISEC_USER_ROW_H
#define APISEC_USER_ROW_H

#include <apr_pools.h>
#include <jansson.h>

#define APISEC_USER_NAME_MAX 128

typedef struct apisec_user_row_t {
    int ncols;
    const char **names;
    const char **values; /* NULL: SQL NULL */
} apisec_user_row_t;

typedef enum {
    APISEC_USER_OK = 0,
    APISEC_USER_INACTIVE,      /* user inactive */
    APISEC_USER_REVOKED,       /* token version revoked */
    APISEC_USER_BAD_VER_CLAIM, /* token ver claim malformed */
    APISEC_USER_BAD_VERSION    /* user token_version unreadable */
} apisec_user_err_t;

/* The checks above, over ROW and the token's CLAIMS (for ver). */
apisec_user_err_t apisec_user_row_check(const apisec_user_row_t *row,
                                        json_t *claims);

const char *apisec_user_strerror(apisec_user_err_t err);

/* 1 when V is a true value for the active column. */
int apisec_user_truthy(const char *v);

/* The token's ver: 1 and *VER on success (0 when absent or null). */
int apisec_user_token_ver(json_t *claims, apr_int64_t *ver);

/* 1 for a column name that holds a secret. */
int apisec_user_column_secret(const char *name);

/* "APISEC_USER_<NAME>" for an exported column, NULL for one that is not
 * (active, token_version, secrets, an empty name). */
char *apisec_user_env_name(apr_pool_t *p, const char *name);

/* The value of column NAME (NULL for SQL NULL); *FOUND says whether the
 * row has the column at all. */
const char *apisec_user_row_value(const apisec_user_row_t *row,
                                  const char *name, int *found);

/* NULL when SQL is fit for APISecUserQuery, else why not. */
const char *apisec_user_query_check(const char *sql);

#endif
