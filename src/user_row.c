#include "user_row.h"

#include <apr_lib.h>
#include <apr_strings.h>
#include <errno.h>
#include <string.h>

const char *apisec_user_row_value(const apisec_user_row_t *row,
                                  const char *name, int *found)
{
    int i;

    for (i = 0; i < row->ncols; ++i) {
        if (row->names[i] && !strcasecmp(row->names[i], name)) {
            *found = 1;
            return row->values[i];
        }
    }
    *found = 0;
    return NULL;
}

int apisec_user_truthy(const char *v)
{
    static const char *const words[] = {"t", "true", "y", "yes", "on"};
    apr_int64_t n;
    char *end;
    size_t i;

    if (!v || !*v) {
        return 0;
    }
    if (apr_isdigit(*v) || *v == '-' || *v == '+') {
        errno = 0;
        n = apr_strtoi64(v, &end, 10);
        /* An overflowing number is still a number that is not zero. */
        return !*end && end != v && (n != 0 || errno == ERANGE);
    }
    for (i = 0; i < sizeof(words) / sizeof(words[0]); ++i) {
        if (!strcasecmp(v, words[i])) {
            return 1;
        }
    }
    return 0;
}

/* A non-negative decimal integer, nothing else: no sign, no spaces. */
static int parse_version(const char *v, apr_int64_t *out)
{
    char *end;

    if (!apr_isdigit(*v)) {
        return 0;
    }
    errno = 0;
    *out = apr_strtoi64(v, &end, 10);
    return !*end && errno != ERANGE;
}

int apisec_user_token_ver(json_t *claims, apr_int64_t *ver)
{
    json_t *v = json_object_get(claims, "ver");

    /* A missing ver is an older token's: it counts as version 0, which
     * any raised token_version refuses. */
    if (!v || json_is_null(v)) {
        *ver = 0;
        return 1;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        return 0;
    }
    *ver = json_integer_value(v);
    return 1;
}

apisec_user_err_t apisec_user_row_check(const apisec_user_row_t *row,
                                        json_t *claims)
{
    const char *v;
    apr_int64_t version = 0, ver;
    int found;

    v = apisec_user_row_value(row, "active", &found);
    if (found && !apisec_user_truthy(v)) {
        return APISEC_USER_INACTIVE;
    }
    v = apisec_user_row_value(row, "token_version", &found);
    if (!found) {
        return APISEC_USER_OK;
    }
    if (v && !parse_version(v, &version)) {
        return APISEC_USER_BAD_VERSION;
    }
    if (!apisec_user_token_ver(claims, &ver)) {
        return APISEC_USER_BAD_VER_CLAIM;
    }
    return ver < version ? APISEC_USER_REVOKED : APISEC_USER_OK;
}

const char *apisec_user_strerror(apisec_user_err_t err)
{
    switch (err) {
    case APISEC_USER_OK:
        return "ok";
    case APISEC_USER_INACTIVE:
        return "user inactive";
    case APISEC_USER_REVOKED:
        return "token version revoked";
    case APISEC_USER_BAD_VER_CLAIM:
        return "token ver claim malformed";
    case APISEC_USER_BAD_VERSION:
        return "user token_version unreadable";
    }
    return "user refused";
}

/* Runs for every column of every request: one pass to lower-case the name,
 * then plain substring searches. A name too long for the buffer is taken
 * for a secret (not exported): no real column is named with 128 bytes. */
static int is_secret(const char *name, size_t n)
{
    char low[APISEC_USER_NAME_MAX];
    size_t i;

    if (n >= sizeof(low)) {
        return 1;
    }
    for (i = 0; i < n; ++i) {
        low[i] = (char)apr_tolower(name[i]);
    }
    low[n] = '\0';
    return strstr(low, "password") || strstr(low, "passwd")
           || strstr(low, "secret")
           || (n >= 4 && !memcmp(low + n - 4, "hash", 4));
}

int apisec_user_column_secret(const char *name)
{
    return is_secret(name, strlen(name));
}

char *apisec_user_env_name(apr_pool_t *p, const char *name)
{
    size_t n = strlen(name), i;
    char *env;

    if (!n || (n == 6 && !strcasecmp(name, "active"))
        || (n == 13 && !strcasecmp(name, "token_version"))
        || is_secret(name, n)) {
        return NULL;
    }
    env = apr_palloc(p, 12 + n + 1);
    memcpy(env, "APISEC_USER_", 12);
    for (i = 0; i < n; ++i) {
        unsigned char ch = (unsigned char)name[i];
        env[12 + i] =
            apr_isascii(ch) && apr_isalnum(ch) ? (char)apr_toupper(ch) : '_';
    }
    env[12 + n] = '\0';
    return env;
}

/* Whether the statement starts with KEYWORD (after blanks), as a word. */
static int starts_with_word(const char *sql, const char *keyword)
{
    size_t n = strlen(keyword);

    while (apr_isspace(*sql) || *sql == '(') {
        ++sql;
    }
    return !strncasecmp(sql, keyword, n) && !apr_isalnum(sql[n])
           && sql[n] != '_';
}

const char *apisec_user_query_check(const char *sql)
{
    const char *p, *at = NULL;

    if (!starts_with_word(sql, "SELECT") && !starts_with_word(sql, "WITH")) {
        return "the query must be a SELECT (it runs on every request)";
    }
    for (p = sql; (p = strchr(p, '%')); ++p) {
        if (p[1] != 's') {
            return "the only % in the query must be the one %s (a LIKE "
                   "pattern cannot be written here)";
        }
        if (at) {
            return "the query must have exactly one %s, the user";
        }
        at = p;
    }
    if (!at) {
        return "the query needs %s where the user goes, e.g. "
               "\"SELECT id, active, token_version, role FROM users WHERE "
               "id = %s\"";
    }
    if (at > sql && (at[-1] == '\'' || at[-1] == '"') && at[2] == at[-1]) {
        return "write %s without quotes: the user is bound as a parameter "
               "of the prepared statement";
    }
    return NULL;
}
