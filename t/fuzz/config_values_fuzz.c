// FUZZ_SOURCES: src/cors.c src/headers.c
// FUZZ_LIBS: -lapr-1
/* libFuzzer target over the configuration parsers of the headers and CORS
 * cores: origins, method/header lists, header names and values, HSTS. The
 * first byte picks the parser; the rest is the argument (split on spaces for
 * the multi-argument ones). Checks that accepted values hold the promises
 * the glue relies on. */
#include "cors.h"
#include "headers.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

static apr_pool_t *root;

static void check(int cond)
{
    if (!cond) {
        abort();
    }
}

static int split(apr_pool_t *p, char *s, char **argv, int max)
{
    int n = 0;
    char *last, *tok;

    for (tok = apr_strtok(s, " ", &last); tok && n < max;
         tok = apr_strtok(NULL, " ", &last)) {
        argv[n++] = tok;
    }
    return n;
}

static void no_ctl(const char *s)
{
    for (; *s; ++s) {
        check((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f);
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    apr_pool_t *p;
    char *s, *argv[16];
    const char *out = NULL;
    int argc;

    if (size < 1) {
        return 0;
    }
    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    apr_pool_create(&p, root);
    s = apr_pstrmemdup(p, (const char *)data + 1, size - 1);
    switch (data[0] % 5) {
    case 0:
        if (!apisec_cors_origin_parse(p, s, &out)) {
            /* An accepted origin is "*" or scheme://host[:port], ASCII. */
            if (strcmp(out, "*") != 0) {
                const char *sep = strstr(out, "://");
                check(sep != NULL);
                /* No path: the only slashes are the two after the scheme. */
                check(strchr(sep + 3, '/') == NULL);
            }
            no_ctl(out);
            check(apisec_cors_origin_allowed(NULL, out) == 0);
        }
        break;
    case 1:
        argc = split(p, s, argv, 16);
        if (!apisec_cors_token_list(p, argc, argv, &out)) {
            no_ctl(out);
        }
        break;
    case 2:
        if (!apisec_headers_check_name(s)) {
            check(*s && !strpbrk(s, " :\t\r\n"));
        }
        break;
    case 3:
        if (!apisec_headers_check_value(s)) {
            check(!strpbrk(s, "\r\n"));
        }
        break;
    default:
        argc = split(p, s, argv, 16);
        if (!apisec_headers_hsts_parse(p, argc, argv, &out)) {
            check(!strncmp(out, "max-age=", 8));
            no_ctl(out);
        }
        break;
    }
    apr_pool_destroy(p);
    return 0;
}
