/* Unit tests of src/user_row.c: active, token_version against ver, the
 * exported names, secret columns, and the startup check of the query. */
#include "user_row.h"
#include "tap.h"

#include <apr_general.h>

static apisec_user_row_t *row_of(apr_pool_t *p, int n, const char **cols)
{
    apisec_user_row_t *r = apr_palloc(p, sizeof(*r));
    int i;

    r->ncols = n;
    r->names = apr_palloc(p, sizeof(char *) * n);
    r->values = apr_palloc(p, sizeof(char *) * n);
    for (i = 0; i < n; ++i) {
        r->names[i] = cols[2 * i];
        r->values[i] = cols[2 * i + 1];
    }
    return r;
}

static int check(apr_pool_t *p, const char *active, const char *version,
                 const char *claims_json)
{
    const char *cols[] = {"id",   "u1", "active", active, "token_version",
                          version};
    json_t *claims = json_loads(claims_json, JSON_DECODE_ANY, NULL);
    int rv = apisec_user_row_check(row_of(p, 3, cols), claims);

    json_decref(claims);
    return rv;
}

int main(void)
{
    apr_pool_t *p;
    static const char *const yes[] = {"1",
                                      "t",
                                      "T",
                                      "true",
                                      "TRUE",
                                      "y",
                                      "yes",
                                      "on",
                                      "2",
                                      "-1",
                                      "99999999999999999999"};
    static const char *const no[] = {"0",   "f", "false", "n",   "no",
                                     "off", "",  "00",    "1.5", " 1",
                                     "1 ",  "x", "-0"};
    const char *only_id[] = {"id", "u1", "role", "admin"};
    const char *cols[] = {"ID", "u1", "Role", NULL, "email", "a@b"};
    apisec_user_row_t *r;
    apr_int64_t ver;
    json_t *j;
    size_t i;
    int found;

    apr_initialize();
    apr_pool_create(&p, NULL);

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); ++i) {
        tap_ok(apisec_user_truthy(yes[i]), "active '%s' is true", yes[i]);
    }
    for (i = 0; i < sizeof(no) / sizeof(no[0]); ++i) {
        tap_ok(!apisec_user_truthy(no[i]), "active '%s' is false", no[i]);
    }
    tap_ok(!apisec_user_truthy(NULL), "active NULL is false");

    tap_is_int(check(p, "1", "0", "{}"), APISEC_USER_OK,
               "active user, version 0, token without ver: passes");
    tap_is_int(check(p, "0", "0", "{}"), APISEC_USER_INACTIVE,
               "active 0: refused");
    tap_is_int(check(p, NULL, "0", "{}"), APISEC_USER_INACTIVE,
               "active NULL: refused");
    tap_is_int(check(p, "f", "0", "{\"ver\":0}"), APISEC_USER_INACTIVE,
               "active f (PostgreSQL false): refused");
    tap_is_int(check(p, "t", "3", "{\"ver\":3}"), APISEC_USER_OK,
               "ver equal to token_version: passes");
    tap_is_int(check(p, "t", "3", "{\"ver\":4}"), APISEC_USER_OK,
               "ver above token_version: passes");
    tap_is_int(check(p, "t", "3", "{\"ver\":2}"), APISEC_USER_REVOKED,
               "ver below token_version: refused");
    tap_is_int(check(p, "t", "1", "{}"), APISEC_USER_REVOKED,
               "no ver counts as 0: refused once token_version is 1");
    tap_is_int(check(p, "t", "1", "{\"ver\":null}"), APISEC_USER_REVOKED,
               "ver null counts as 0");
    tap_is_int(check(p, "t", "0", "{\"ver\":\"0\"}"), APISEC_USER_BAD_VER_CLAIM,
               "ver as a string: refused");
    tap_is_int(check(p, "t", "0", "{\"ver\":1.0}"), APISEC_USER_BAD_VER_CLAIM,
               "ver as a real: refused");
    tap_is_int(check(p, "t", "0", "{\"ver\":-1}"), APISEC_USER_BAD_VER_CLAIM,
               "ver negative: refused");
    tap_is_int(check(p, "t", "0", "{\"ver\":[1]}"), APISEC_USER_BAD_VER_CLAIM,
               "ver as an array: refused");
    tap_is_int(check(p, "t", NULL, "{}"), APISEC_USER_OK,
               "token_version NULL counts as 0");
    tap_is_int(check(p, "t", "abc", "{\"ver\":5}"), APISEC_USER_BAD_VERSION,
               "token_version not a number: refused");
    tap_is_int(check(p, "t", "-2", "{\"ver\":5}"), APISEC_USER_BAD_VERSION,
               "token_version negative: refused");
    tap_is_int(check(p, "t", "99999999999999999999", "{\"ver\":5}"),
               APISEC_USER_BAD_VERSION, "token_version overflowing: refused");
    tap_is_int(apisec_user_row_check(row_of(p, 2, only_id), NULL),
               APISEC_USER_OK, "a row without active and token_version passes");

    j = json_loads("{\"ver\":9007199254740993}", 0, NULL);
    tap_ok(apisec_user_token_ver(j, &ver) && ver == 9007199254740993LL,
           "ver beyond 2^53 is read exactly");
    json_decref(j);

    tap_is_str(apisec_user_env_name(p, "role"), "APISEC_USER_ROLE",
               "role is exported as APISEC_USER_ROLE");
    tap_is_str(apisec_user_env_name(p, "e-mail.addr"),
               "APISEC_USER_E_MAIL_ADDR", "unsafe characters become _");
    tap_is_str(apisec_user_env_name(p, "caf\xc3\xa9"), "APISEC_USER_CAF__",
               "non-ASCII bytes become _");
    tap_ok(!apisec_user_env_name(p, "active"), "active is not exported");
    tap_ok(!apisec_user_env_name(p, "Token_Version"),
           "token_version is not exported");
    tap_ok(!apisec_user_env_name(p, ""), "an empty name is not exported");
    tap_ok(!apisec_user_env_name(p, "password_hash"),
           "password_hash is not exported");
    tap_ok(!apisec_user_env_name(p, "PASSWORD"), "PASSWORD is not exported");
    tap_ok(!apisec_user_env_name(p, "pw_hash"), "pw_hash is not exported");
    tap_ok(!apisec_user_env_name(p, "totp_secret"),
           "totp_secret is not exported");
    tap_ok(!apisec_user_env_name(p, "passwd"), "passwd is not exported");
    {
        char longname[APISEC_USER_NAME_MAX + 1];
        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        tap_ok(!apisec_user_env_name(p, longname),
               "a name of APISEC_USER_NAME_MAX bytes is not exported");
        longname[sizeof(longname) - 2] = '\0';
        tap_ok(apisec_user_env_name(p, longname) != NULL,
               "one byte shorter is");
    }
    tap_ok(apisec_user_env_name(p, "hashtag") != NULL,
           "hashtag is exported (hash only at the end counts)");

    r = row_of(p, 3, cols);
    tap_is_str(apisec_user_row_value(r, "id", &found), "u1",
               "columns are found without regard to case");
    tap_ok(!apisec_user_row_value(r, "role", &found) && found,
           "a NULL column is found, with no value");
    tap_ok(!apisec_user_row_value(r, "missing", &found) && !found,
           "a missing column is not found");

    tap_ok(!apisec_user_query_check(
               "SELECT id, active, token_version FROM users WHERE id = %s"),
           "the usual query is accepted");
    tap_ok(!apisec_user_query_check(
               "  select id from users where lower(id) = lower(%s)"),
           "lower-case select with a function around %%s is accepted");
    tap_ok(!apisec_user_query_check("WITH u AS (SELECT * FROM users) "
                                    "SELECT * FROM u WHERE id = %s"),
           "a WITH query is accepted");
    tap_ok(apisec_user_query_check("DELETE FROM users WHERE id = %s") != NULL,
           "a DELETE is refused");
    tap_ok(apisec_user_query_check("SELECTED FROM x WHERE id = %s") != NULL,
           "SELECT must be a word");
    tap_ok(apisec_user_query_check("SELECT id FROM users") != NULL,
           "a query without %%s is refused");
    tap_ok(apisec_user_query_check(
               "SELECT id FROM users WHERE id = %s OR name = %s")
               != NULL,
           "two %%s are refused");
    tap_ok(apisec_user_query_check("SELECT id FROM users WHERE id = %d")
               != NULL,
           "%%d is refused");
    tap_ok(apisec_user_query_check(
               "SELECT id FROM users WHERE id = %s AND n LIKE 'a%'")
               != NULL,
           "a literal %% is refused");
    tap_ok(apisec_user_query_check("SELECT id FROM users WHERE id = '%s'")
               != NULL,
           "a quoted '%%s' is refused");
    tap_ok(apisec_user_query_check("SELECT id FROM users WHERE id = %") != NULL,
           "a %% at the end is refused");

    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
