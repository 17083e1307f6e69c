/* Parser and validator throughput on realistic order bodies (about 2 KB and
 * 64 KB):
 *   cc -O2 -Isrc $(pkg-config --cflags apr-1 jansson libpcre2-8) \
 *      src/json_tape.c src/json_tape_string.c src/json_format.c \
 *      src/json_schema_compile.c src/json_schema.c src/json_schema_eq.c \
 *      bench/json_tape_bench.c \
 *      -o /tmp/json_tape_bench $(pkg-config --libs apr-1 jansson libpcre2-8)
 * Prints MB/s of apisec_json_tape_parse, of parse plus validation against
 * issue 5's order schema (strict mode), and, for scale, of jansson's
 * json_loadb on the same bytes. One core, pool cleared between runs as the
 * per-request pool would be. */
#include "json_schema.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static char *order(apr_pool_t *p, apr_size_t target, apr_size_t *len)
{
    apr_size_t cap = target + 1024, n = 0;
    char *b = apr_palloc(p, cap);
    int k = 0;

    n += (apr_size_t)apr_snprintf(
        b + n, cap - n,
        "{\"orderId\":\"ord-20261123-0001\","
        "\"customer\":{\"id\":48213,\"email\":\"jane.doe@example.com\","
        "\"name\":\"Jane Doe\"},\"items\":[");
    while (n + 300 < target) {
        n += (apr_size_t)apr_snprintf(b + n, cap - n,
                                      "%s{\"productId\":\"3fa85f64-5717-4562-"
                                      "b3fc-%012d\",\"quantity\":%d,"
                                      "\"unitPrice\":%d.%02d,\"name\":\"Widget "
                                      "\\u00e9dition %d\",\"gift\":%s}",
                                      k ? "," : "", k, k % 100 + 1, 10 + k % 90,
                                      k % 100, k, k % 3 ? "false" : "true");
        k++;
    }
    n += (apr_size_t)apr_snprintf(
        b + n, cap - n,
        "],\"shipping\":{\"street\":\"Hauptstra\xc3\x9f"
        "e 1\",\"city\":\"Berlin\",\"zip\":\"10115\","
        "\"country\":\"DE\"},\"promoCode\":\"SAVE-2026\","
        "\"note\":null}");
    *len = n;
    return b;
}

/* items allow up to 500 here so that the 64 KB body is valid too */
static const char order_schema[] =
    "{\"type\":\"object\",\"required\":[\"items\",\"shipping\"],"
    " \"properties\":{\"orderId\":{\"type\":\"string\",\"maxLength\":40},"
    "  "
    "\"customer\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":"
    "\"integer\"},"
    "    "
    "\"email\":{\"type\":\"string\",\"format\":\"email\"},\"name\":{\"type\":"
    "\"string\"}}},"
    "  \"items\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":500,"
    "    \"items\":{\"$ref\":\"#/$defs/item\"}},"
    "  "
    "\"shipping\":{\"type\":\"object\",\"required\":[\"street\",\"city\","
    "\"country\"],"
    "    "
    "\"properties\":{\"street\":{\"type\":\"string\",\"minLength\":1,"
    "\"maxLength\":200},"
    "      \"city\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":100},"
    "      \"zip\":{\"type\":\"string\",\"pattern\":\"^[0-9]{5}$\"},"
    "      \"country\":{\"enum\":[\"DE\",\"FR\",\"NL\",\"AT\"]}}},"
    "  \"promoCode\":{\"type\":\"string\",\"pattern\":\"^[A-Z0-9-]{4,12}$\"},"
    "  \"note\":{\"type\":[\"string\",\"null\"]}},"
    " \"$defs\":{\"item\":{\"type\":\"object\",\"required\":[\"productId\","
    "\"quantity\"],"
    "   "
    "\"properties\":{\"productId\":{\"type\":\"string\",\"format\":\"uuid\"},"
    "     \"quantity\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100},"
    "     \"unitPrice\":{\"type\":\"number\",\"exclusiveMinimum\":0},"
    "     "
    "\"name\":{\"type\":\"string\",\"maxLength\":100},\"gift\":{\"type\":"
    "\"boolean\"}}}}}";

static apisec_schema_t *schema;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run(apr_pool_t *p, apr_size_t target)
{
    apr_size_t len;
    char *body = order(p, target, &len);
    apr_pool_t *rp;
    long iters = (long)(400000000 / len), k;
    double t0, t1, t2, t3;
    static apisec_schema_result_t res;
    apisec_json_tape_t *t;
    apr_uint32_t ntok;

    if (apr_pool_create(&rp, p) != APR_SUCCESS
        || apisec_json_tape_parse(rp, body, len, NULL, &t, NULL)
               != APISEC_JSON_OK) {
        fprintf(stderr, "bench body does not parse\n");
        exit(1);
    }
    ntok = t->ntok;
    if (!apisec_schema_validate(schema, t, 1, rp, &res)) {
        fprintf(stderr, "bench body does not validate: %s %s\n",
                res.err[0].pointer, res.err[0].message);
        exit(1);
    }
    apr_pool_clear(rp);
    t0 = now();
    for (k = 0; k < iters; k++) {
        apisec_json_tape_parse(rp, body, len, NULL, &t, NULL);
        apr_pool_clear(rp);
    }
    t1 = now();
    for (k = 0; k < iters / 4; k++) {
        json_decref(json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL));
    }
    t2 = now();
    for (k = 0; k < iters; k++) {
        apisec_json_tape_parse(rp, body, len, NULL, &t, NULL);
        apisec_schema_validate(schema, t, 1, rp, &res);
        apr_pool_clear(rp);
    }
    t3 = now();
    printf("%6zu bytes, %5u tokens:\n"
           "  tape parse          %7.1f MB/s %8.2f us/body\n"
           "  parse + validate    %7.1f MB/s %8.2f us/body\n"
           "  validate alone      %7.1f MB/s %8.2f us/body\n"
           "  jansson json_loadb  %7.1f MB/s %8.2f us/body\n",
           len, ntok, len * (double)iters / (t1 - t0) / 1e6,
           (t1 - t0) / iters * 1e6, len * (double)iters / (t3 - t2) / 1e6,
           (t3 - t2) / iters * 1e6,
           len / (((t3 - t2) - (t1 - t0)) / iters) / 1e6,
           ((t3 - t2) - (t1 - t0)) / iters * 1e6,
           len * (double)(iters / 4) / (t2 - t1) / 1e6,
           (t2 - t1) / (iters / 4) * 1e6);
}

int main(void)
{
    apr_pool_t *p;

    json_t *j;
    const char *err;

    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 1;
    }
    j = json_loads(order_schema, 0, NULL);
    if (!j || apisec_schema_compile(p, j, 0, &schema, &err) != APR_SUCCESS) {
        fprintf(stderr, "schema: %s\n", j ? err : "does not parse");
        return 1;
    }
    json_decref(j);
    run(p, 2048);
    run(p, 65536);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
