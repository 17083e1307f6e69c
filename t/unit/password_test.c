/* Unit tests of src/password.c with hashes written by Debian's own tools
 * (`htpasswd -nbB -C 4/5`, `argon2 ... -id -t 2 -m 10 -p 1 -e`), the
 * formats refused, and dummy hashes of the same parameters. */
#include "password.h"
#include "tap.h"

#include <apr_general.h>
#include <apr_time.h>

#define PW "correct horse"
static const char *bc4 =
    "$2y$04$nO.MG2dYHVFsNynJqWl3ZOWXQtWq9zwZ4Wx15hOg7jdEJm9VxTx.u";
static const char *bc5 =
    "$2y$05$3o.XCPwMBRcwz3OtlfBuf.OL/JV7fy.frwb6ID6ILLpO7nYxusCQ.";
static const char *a2id =
    "$argon2id$v=19$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0MTIzNA$"
    "+lmmYt2z4ZMrLKIaiYmx1n/yv76miDs89Dh8Mz4LByQ";
static const char *a2i = "$argon2i$v=19$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0MTIzNA$"
                         "OOEfZ3IASK3N5Ts//88MePWHx9a4QR27wnuUxLI1gnw";
static const char *sha512 =
    "$6$abcdefgh$yIZAF3gQPvtKZO/9qOJKffAKKbtS3ef3qmwyugk4"
    "uWVjX8YZf/GV3A8SkFxEPY0T56CcilGrHKLffBsp6dLMG.";

static int verify(const char *pw, const char *h)
{
    return apisec_password_verify(pw, strlen(pw), h);
}

int main(void)
{
    apr_pool_t *p;
    char b[61];
    const char *d;

    apr_initialize();
    apr_pool_create(&p, NULL);

    tap_is_int(verify(PW, bc4), APISEC_PW_OK, "htpasswd -B cost 4 verifies");
    tap_is_int(verify(PW, bc5), APISEC_PW_OK, "htpasswd -B cost 5 verifies");
    tap_is_int(verify("correct horsE", bc5), APISEC_PW_MISMATCH,
               "bcrypt: a wrong password is a mismatch");
    strcpy(b, bc5);
    b[2] = 'b';
    tap_is_int(verify(PW, b), APISEC_PW_OK, "$2b$ is the same bcrypt");
    b[2] = 'a';
    tap_is_int(verify(PW, b), APISEC_PW_UNSUPPORTED, "$2a$ is refused");
    strcpy(b, bc5);
    b[4] = '3';
    b[5] = '1';
    tap_is_int(verify(PW, b), APISEC_PW_UNSUPPORTED, "bcrypt cost 31 refused");
    tap_is_int(verify(PW, "$2y$05$short"), APISEC_PW_UNSUPPORTED,
               "a truncated bcrypt hash is refused");
    tap_is_int(verify(PW, a2id), APISEC_PW_OK,
               "argon2 tool's argon2id verifies");
    tap_is_int(verify("wrong", a2id), APISEC_PW_MISMATCH,
               "argon2id: a wrong password is a mismatch");
    tap_is_int(verify(PW, a2i), APISEC_PW_UNSUPPORTED, "argon2i is refused");
    tap_is_int(verify(PW, sha512), APISEC_PW_UNSUPPORTED,
               "SHA-512 crypt is refused (crypt(3) would take it)");
    tap_is_int(verify(PW, PW), APISEC_PW_UNSUPPORTED, "plain text is refused");
    tap_is_int(verify(PW, ""), APISEC_PW_UNSUPPORTED,
               "an empty hash is refused");
    tap_is_int(verify(PW,
                      "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0MTIzNA$"
                      "+lmmYt2z4ZMrLKIaiYmx1n/yv76miDs89Dh8Mz4LByQ"),
               APISEC_PW_UNSUPPORTED, "argon2id with m = 4 GiB is refused");
    tap_is_int(apisec_password_verify("correct horse\0x", 15, bc5),
               APISEC_PW_UNSUPPORTED, "a password with NUL is refused");

    tap_is_str(apisec_password_params(p, bc5), "$2y$05$", "bcrypt params");
    tap_is_str(apisec_password_params(p, a2id),
               "$argon2id$v=19$m=1024,t=2,p=1$16$32", "argon2id params");
    tap_ok(apisec_password_params(p, sha512) == NULL,
           "no params for SHA-512 crypt");

    d = apisec_password_dummy(p, bc5);
    tap_ok(d && !strcmp(apisec_password_params(p, d), "$2y$05$"),
           "a bcrypt dummy has the same cost");
    tap_is_int(verify(PW, d), APISEC_PW_MISMATCH,
               "the dummy is not the password");
    tap_ok(d && strcmp(d, apisec_password_dummy(p, bc5)), "dummies differ");
    d = apisec_password_dummy(p, a2id);
    tap_ok(d
               && !strcmp(apisec_password_params(p, d),
                          apisec_password_params(p, a2id)),
           "an argon2id dummy has the same m, t, p and lengths");
    tap_is_int(verify(PW, d), APISEC_PW_MISMATCH,
               "the argon2id dummy is not it");
    {
        /* Same cost, same time: the whole point of the dummy. */
        apr_time_t t0, t1, t2;
        int i;
        d = apisec_password_dummy(p, bc5);
        t0 = apr_time_now();
        for (i = 0; i < 10; ++i)
            verify("x", bc5);
        t1 = apr_time_now();
        for (i = 0; i < 10; ++i)
            verify("x", d);
        t2 = apr_time_now();
        tap_diag("10 x real %ld us, 10 x dummy %ld us", (long)(t1 - t0),
                 (long)(t2 - t1));
        tap_ok((t2 - t1) * 2 > (t1 - t0) && (t1 - t0) * 2 > (t2 - t1),
               "verifying the dummy costs the same (within 2x)");
    }
    apr_pool_destroy(p);
    apr_terminate();
    return tap_done();
}
