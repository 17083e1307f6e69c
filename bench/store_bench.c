/* The rate-limit decision over the shm store on its own, without httpd:
 * nanoseconds per apisec_ratelimit_check for KEYS clients taken in turn
 * (as bench/ratelimit.sh's load does), in a 1 MiB table, one thread.
 *   store_bench [KEYS] [SECONDS]      (default 1000 keys, 2 s)
 * bench/ratelimit.sh builds and runs it at the end. */
#include "ratelimit.h"
#include "store_shm.h"

#include <apr_general.h>
#include <apr_global_mutex.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int keys = argc > 1 ? atoi(argv[1]) : 1000;
    double secs = argc > 2 ? atof(argv[2]) : 2.0;
    apr_pool_t *p, *rp;
    apr_shm_t *shm;
    apr_global_mutex_t *m;
    apisec_store_t *store;
    apisec_ratelimit_spec_t *spec;
    const char **key;
    apr_size_t *klen;
    apr_time_t t0, t;
    unsigned long n = 0;
    int i;

    apr_initialize();
    apr_pool_create(&p, NULL);
    apr_pool_create(&rp, p);
    if (keys < 1 || apr_shm_create(&shm, 1 << 20, NULL, p) != APR_SUCCESS
        || apr_global_mutex_create(&m, NULL, APR_LOCK_DEFAULT, p)
               != APR_SUCCESS
        || apisec_store_shm_attach(p, apr_shm_baseaddr_get(shm), 1 << 20, m,
                                   NULL, &store)
               != APR_SUCCESS
        || apisec_ratelimit_spec_parse_line(
               p, "1000000/1s key=header:X-Client", &spec)
               != NULL) {
        fprintf(stderr, "store_bench: cannot set up the store\n");
        return 1;
    }
    /* The keys the glue makes: namespace, the limit's tag, the client. */
    key = apr_palloc(p, sizeof(*key) * (apr_size_t)keys);
    klen = apr_palloc(p, sizeof(*klen) * (apr_size_t)keys);
    for (i = 0; i < keys; ++i) {
        key[i] = apisec_ratelimit_key(
            p, "127.0.0.1:18182", 15, spec,
            apr_psprintf(p, "10.0.%d.%d", i / 256, i % 256), &klen[i]);
    }
    t0 = apr_time_now();
    do {
        for (i = 0; i < 1000; ++i) {
            apisec_ratelimit_result_t res;
            int k = (int)(n++ % (unsigned long)keys);

            if (apisec_ratelimit_check(rp, store, NULL, spec, key[k], klen[k],
                                       0, 1, &res)
                    != APR_SUCCESS
                || !res.allowed) {
                fprintf(stderr, "store_bench: a check failed\n");
                return 1;
            }
        }
        apr_pool_clear(rp);
        t = apr_time_now();
    } while (t - t0 < (apr_time_t)(secs * APR_USEC_PER_SEC));
    printf("shm store, %d keys in turn: %.0f ns per rate-limit check "
           "(%lu checks)\n",
           keys, (double)(t - t0) * 1000.0 / (double)n, n);
    apr_terminate();
    return 0;
}
