// clang-format off
// FUZZ_SOURCES: src/user_row.c src/user_cache.c
// FUZZ_LIBS: -lapr-1 -ljansson
// clang-format on
/* libFuzzer target over the user lookup's cores. The first byte picks:
 * even: the APISecUserQuery check on the rest (an accepted query has
 * exactly one unquoted %s and no other %, as apr_dbd needs);
 * odd: the rest is a row, "name=value" lines ("name" alone is a NULL)
 * followed by a line of token claims as JSON. The row rules run on it,
 * every exported name must be a safe environment name, and the row must
 * come back from the cache exactly as stored (or not be stored at all). */
#include "user_cache.h"
#include "user_row.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_tables.h>
#include <stdlib.h>
#include <string.h>

static apr_pool_t *root;
static apisec_user_cache_t *cache;

static void check(int cond)
{
    if (!cond) {
        abort();
    }
}

static void query(const char *sql)
{
    const char *at;

    if (apisec_user_query_check(sql)) {
        return;
    }
    at = strchr(sql, '%');
    check(at && at[1] == 's' && !strchr(at + 1, '%'));
    check(at == sql || !((at[-1] == '\'' || at[-1] == '"') && at[2] == at[-1]));
}

static void row(apr_pool_t *p, char *text)
{
    apisec_user_row_t r, *got = NULL;
    apr_array_header_t *names = apr_array_make(p, 8, sizeof(char *));
    apr_array_header_t *values = apr_array_make(p, 8, sizeof(char *));
    char *line, *last, *claims_text = NULL;
    json_t *claims;
    int i, key;
    apr_time_t now = apr_time_from_sec(1000000);

    for (line = apr_strtok(text, "\n", &last); line;
         line = apr_strtok(NULL, "\n", &last)) {
        char *eq = strchr(line, '=');
        if (*line == '{') {
            claims_text = line;
            continue;
        }
        if (eq) {
            *eq = '\0';
        }
        APR_ARRAY_PUSH(names, char *) = line;
        APR_ARRAY_PUSH(values, char *) = eq ? eq + 1 : NULL;
    }
    r.ncols = names->nelts;
    r.names = (const char **)names->elts;
    r.values = (const char **)values->elts;
    claims = claims_text ? json_loads(claims_text, 0, NULL) : NULL;
    check(apisec_user_strerror(apisec_user_row_check(&r, claims)) != NULL);
    json_decref(claims);
    for (i = 0; i < r.ncols; ++i) {
        char *env = apisec_user_env_name(p, r.names[i]);
        const char *e;
        if (!env) {
            continue;
        }
        check(!strncmp(env, "APISEC_USER_", 12) && env[12]);
        for (e = env; *e; ++e) {
            check((*e >= 'A' && *e <= 'Z') || (*e >= '0' && *e <= '9')
                  || *e == '_');
        }
        check(!apisec_user_column_secret(r.names[i]));
    }
    if (!apisec_user_cache_put(cache, &key, NULL, "user", now, &r)) {
        check(!apisec_user_cache_get(cache, &key, NULL, "user", now,
                                     apr_time_from_sec(60), p, &got));
        return;
    }
    check(apisec_user_cache_get(cache, &key, NULL, "user", now,
                                apr_time_from_sec(60), p, &got));
    check(got->ncols == r.ncols);
    for (i = 0; i < r.ncols; ++i) {
        check(!strcmp(got->names[i], r.names[i]));
        check(!got->values[i] == !r.values[i]);
        check(!r.values[i] || !strcmp(got->values[i], r.values[i]));
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    apr_pool_t *p;
    char *text;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
        cache = apisec_user_cache_create(root, 16);
    }
    if (size < 1) {
        return 0;
    }
    apr_pool_create(&p, root);
    text = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    if (data[0] % 2 == 0) {
        query(text);
    }
    else {
        row(p, text);
    }
    apr_pool_destroy(p);
    return 0;
}
