/* Parser throughput on realistic order bodies (about 2 KB and 64 KB):
 *   cc -O2 -Isrc $(pkg-config --cflags apr-1 jansson) src/json_tape.c \
 *      bench/json_tape_bench.c -o /tmp/json_tape_bench \
 *      $(pkg-config --libs apr-1 jansson)
 * Prints MB/s of apisec_json_tape_parse and, for scale, of jansson's
 * json_loadb on the same bytes. One core, pool cleared between runs as the
 * per-request pool would be. */
#include "json_tape.h"

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

    n += (apr_size_t)apr_snprintf(b + n, cap - n, "{\"orderId\":\"ord-20261123-0001\","
                                  "\"customer\":{\"id\":48213,\"email\":\"jane.doe@example.com\","
                                  "\"name\":\"Jane Doe\"},\"items\":[");
    while (n + 300 < target) {
        n += (apr_size_t)apr_snprintf(
            b + n, cap - n,
            "%s{\"productId\":\"3fa85f64-5717-4562-b3fc-%012d\",\"quantity\":%d,"
            "\"unitPrice\":%d.%02d,\"name\":\"Widget \\u00e9dition %d\",\"gift\":%s}",
            k ? "," : "", k, k % 100 + 1, 10 + k % 90, k % 100, k,
            k % 3 ? "false" : "true");
        k++;
    }
    n += (apr_size_t)apr_snprintf(b + n, cap - n,
                                  "],\"shipping\":{\"street\":\"Hauptstra\xc3\x9f"
                                  "e 1\",\"city\":\"Berlin\",\"zip\":\"10115\","
                                  "\"country\":\"DE\"},\"promoCode\":\"SAVE-2026\","
                                  "\"note\":null}");
    *len = n;
    return b;
}

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
    double t0, t1, t2;
    apisec_json_tape_t *t;
    apr_uint32_t ntok;

    if (apr_pool_create(&rp, p) != APR_SUCCESS ||
        apisec_json_tape_parse(rp, body, len, NULL, &t, NULL) != APISEC_JSON_OK) {
        fprintf(stderr, "bench body does not parse\n");
        exit(1);
    }
    ntok = t->ntok;
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
    printf("%6zu bytes, %5u tokens: tape %7.1f MB/s (%.2f us/body), "
           "jansson %6.1f MB/s (%.2f us/body)\n",
           len, ntok, len * (double)iters / (t1 - t0) / 1e6,
           (t1 - t0) / iters * 1e6, len * (double)(iters / 4) / (t2 - t1) / 1e6,
           (t2 - t1) / (iters / 4) * 1e6);
}

int main(void)
{
    apr_pool_t *p;

    if (apr_initialize() != APR_SUCCESS || apr_pool_create(&p, NULL) != APR_SUCCESS) {
        return 1;
    }
    run(p, 2048);
    run(p, 65536);
    apr_pool_destroy(p);
    apr_terminate();
    return 0;
}
