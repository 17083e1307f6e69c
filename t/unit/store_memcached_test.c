/* Unit tests of the memcached store against real memcached servers that
 * the test starts on free loopback ports and stops by pid: operations,
 * key encoding, consistent hashing over two servers, a killed server, a
 * server that accepts and never answers, a server that comes back, and
 * rate-limit accuracy across processes sharing one memcached. */
#include "ratelimit.h"
#include "store_memcached.h"
#include "tap.h"

#include <apr_general.h>
#include <apr_shm.h>
#include <apr_strings.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define TIMEOUT_MS 200
#define SLACK_MS 60
#define MAX_SERVERS 4

static pid_t servers[MAX_SERVERS];
static int blackhole_fd = -1;
static apr_pool_t *pool;

/* ---- servers the test owns ---- */

static int loopback(struct sockaddr_in *sa, apr_port_t port)
{
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    return inet_pton(AF_INET, "127.0.0.1", &sa->sin_addr) == 1;
}

/* A listening socket on a free loopback port; its port in *PORT. */
static int listen_loopback(apr_port_t *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0 || !loopback(&sa, 0)
        || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0
        || listen(fd, 64) != 0
        || getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

static apr_port_t free_port(void)
{
    apr_port_t port = 0;
    int fd = listen_loopback(&port);

    if (fd >= 0) {
        close(fd);
    }
    return port;
}

static int can_connect(apr_port_t port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

    ok = fd >= 0 && loopback(&sa, port)
         && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

/* Starts memcached on 127.0.0.1:PORT in slot I and polls until it accepts
 * connections (5 s at most). */
static int start_server(int i, apr_port_t port)
{
    char p[8];
    apr_time_t deadline = apr_time_now() + apr_time_from_sec(5);
    pid_t pid;

    apr_snprintf(p, sizeof(p), "%u", (unsigned)port);
    pid = fork();
    if (pid == 0) {
        if (geteuid() == 0) {
            execlp("memcached", "memcached", "-l", "127.0.0.1", "-p", p, "-U",
                   "0", "-u", "nobody", (char *)NULL);
        }
        else {
            execlp("memcached", "memcached", "-l", "127.0.0.1", "-p", p, "-U",
                   "0", (char *)NULL);
        }
        _exit(127);
    }
    if (pid < 0) {
        return 0;
    }
    servers[i] = pid;
    while (apr_time_now() < deadline) {
        if (can_connect(port)) {
            return 1;
        }
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            servers[i] = 0;
            return 0;
        }
        apr_sleep(apr_time_from_msec(10));
    }
    return 0;
}

static void stop_server(int i)
{
    if (servers[i] > 0) {
        kill(servers[i], SIGTERM);
        waitpid(servers[i], NULL, 0);
        servers[i] = 0;
    }
}

static void stop_all(void)
{
    int i;

    for (i = 0; i < MAX_SERVERS; ++i) {
        stop_server(i);
    }
    if (blackhole_fd >= 0) {
        close(blackhole_fd);
        blackhole_fd = -1;
    }
}

static apisec_store_t *store_on(const apr_port_t *ports, int n)
{
    apisec_store_memcached_conf_t *c = apr_pcalloc(pool, sizeof(*c));
    apisec_store_t *s = NULL;
    int i;

    c->servers =
        apr_array_make(pool, n, sizeof(apisec_store_memcached_server_t));
    for (i = 0; i < n; ++i) {
        apisec_store_memcached_server_t *srv = apr_array_push(c->servers);
        srv->host = "127.0.0.1";
        srv->port = ports[i];
    }
    c->timeout_ms = TIMEOUT_MS;
    c->retry_s = 1;
    c->pool_max = 4;
    if (apisec_store_memcached_create(pool, c, &s) != APR_SUCCESS) {
        return NULL;
    }
    return s;
}

static apr_interval_time_t ms_since(apr_time_t t)
{
    return (apr_time_now() - t) / 1000;
}

/* ---- configuration and keys ---- */

static void parse(const char *line, int good, const char *name)
{
    apisec_store_memcached_conf_t *c = NULL;
    char **argv;
    int argc = 0;
    const char *err;

    apr_tokenize_to_argv(line, &argv, pool);
    while (argv[argc]) {
        ++argc;
    }
    err = apisec_store_memcached_parse(pool, argc, argv, &c);
    if (!tap_ok(good ? err == NULL : err != NULL, "%s", name)) {
        tap_diag("'%s': %s", line, err ? err : "accepted");
    }
}

static void test_parse(void)
{
    apisec_store_memcached_conf_t *c = NULL;
    char *argv[] = {"10.0.0.1:11212", "cache.example", "[::1]:11213",
                    "timeout=500"};

    tap_ok(apisec_store_memcached_parse(pool, 4, argv, &c) == NULL
               && c->servers->nelts == 3 && c->timeout_ms == 500,
           "three servers and a timeout");
    tap_ok(c
               && APR_ARRAY_IDX(c->servers, 1, apisec_store_memcached_server_t)
                          .port
                      == 11211,
           "the port defaults to 11211");
    tap_ok(c
               && strcmp(APR_ARRAY_IDX(c->servers, 2,
                                       apisec_store_memcached_server_t)
                             .host,
                         "::1")
                      == 0,
           "an IPv6 literal in brackets");
    parse("127.0.0.1:11211", 1, "one server");
    parse("", 0, "no server");
    parse("timeout=100", 0, "a timeout and no server");
    parse("h:0", 0, "port 0");
    parse("h:65536", 0, "port too large");
    parse("h:12ab", 0, "port not a number");
    parse("h:", 0, "empty port");
    parse(":11211", 0, "empty host");
    parse("::1", 0, "IPv6 without brackets");
    parse("[::1", 0, "IPv6 without the closing bracket");
    parse("h timeout=0", 0, "timeout 0");
    parse("h timeout=60001", 0, "timeout too long");
    parse("h timeout=fast", 0, "timeout not a number");
    parse("h retries=3", 0, "unknown option");
    c = NULL;
    apisec_store_memcached_parse(pool, 1, argv + 1, &c);
    ((apisec_store_memcached_server_t *)c->servers->elts)[0].host = "localhost";
    tap_ok(apisec_store_memcached_resolve(pool, c) == NULL,
           "localhost resolves at startup");
}

static void test_keys(void)
{
    char buf[201], buf2[201], k[300];
    apr_size_t n;

    n = apisec_store_memcached_key("vh|rl|api|10.0.0.1", 18, buf);
    tap_ok(n == 18 && strcmp(buf, "vh|rl|api|10.0.0.1") == 0,
           "a printable key goes as it is");
    n = apisec_store_memcached_key("a b", 3, buf);
    tap_ok(n == 65 && buf[0] == '#', "a key with a space is hashed");
    n = apisec_store_memcached_key("#abc", 4, buf);
    tap_ok(n == 65 && strcmp(buf, "#abc") != 0,
           "a key starting with # is hashed, so no plain key looks hashed");
    memset(k, 'x', sizeof(k));
    tap_is_int(apisec_store_memcached_key(k, 200, buf), 200,
               "200 bytes go as they are");
    tap_is_int(apisec_store_memcached_key(k, 201, buf), 65,
               "201 bytes are hashed");
    apisec_store_memcached_key(k, 300, buf);
    k[299] = 'y';
    apisec_store_memcached_key(k, 300, buf2);
    tap_ok(strcmp(buf, buf2) != 0, "long keys differing at the end differ");
    n = apisec_store_memcached_key("\x00\x01", 2, buf);
    tap_ok(n == 65 && strspn(buf + 1, "0123456789abcdef") == 64,
           "a binary key becomes '#' and 64 hex digits");
}

/* ---- one server ---- */

static void test_ops(apisec_store_t *s)
{
    unsigned char buf[APISEC_STORE_VALUE_MAX];
    apr_size_t n = 0;
    apr_uint64_t v = 0, cas = 0, cas2 = 0;
    const char *bin = "bin\0key \xff";
    static char longkey[10000];
    apr_time_t t0, deadline;
    int gone = 0;

    tap_is_int(apisec_store_get(s, "m1", 2, buf, &n, NULL),
               APISEC_STORE_NOTFOUND, "get of an absent key is not found");
    tap_is_int(apisec_store_set(s, "m1", 2, "hello", 5, 0), APR_SUCCESS, "set");
    tap_ok(apisec_store_get(s, "m1", 2, buf, &n, NULL) == APR_SUCCESS && n == 5
               && memcmp(buf, "hello", 5) == 0,
           "get returns what set stored");
    tap_is_int(apisec_store_incr(s, "mc", 2, 1, 7, 0, &v), APR_SUCCESS,
               "incr of an absent counter");
    tap_is_int(v, 7, "it starts at the initial value");
    apisec_store_incr(s, "mc", 2, 3, 7, 0, &v);
    tap_is_int(v, 10, "incr adds the delta");
    tap_ok(apisec_store_get(s, "mc", 2, buf, &n, NULL) == APR_SUCCESS && n == 2
               && memcmp(buf, "10", 2) == 0,
           "a counter reads as decimal text, as in shm");
    tap_is_int(apisec_store_incr_existing(s, "mx", 2, 1, &v),
               APISEC_STORE_NOTFOUND, "incr_existing of an absent counter");
    tap_is_int(apisec_store_get(s, "mx", 2, buf, &n, NULL),
               APISEC_STORE_NOTFOUND, "creates nothing");
    tap_ok(apisec_store_incr_existing(s, "mc", 2, 0, &v) == APR_SUCCESS
               && v == 10,
           "incr_existing by 0 reads a counter");
    tap_ok(apisec_store_incr_existing(s, "mc", 2, (apr_uint64_t)1 << 40, &v)
                   == APR_SUCCESS
               && v == ((apr_uint64_t)1 << 40) + 10,
           "incr_existing adds a 64-bit delta");
    tap_ok(apisec_store_decr(s, "mc", 2, ((apr_uint64_t)1 << 40) + 5, &v)
                   == APR_SUCCESS
               && v == 5,
           "decr subtracts");
    tap_ok(apisec_store_decr(s, "mc", 2, 6, &v) == APR_SUCCESS && v == 0,
           "decr stops at 0");
    tap_is_int(apisec_store_decr(s, "mx", 2, 1, &v), APISEC_STORE_NOTFOUND,
               "decr of an absent counter");
    apisec_store_incr(s, "mc", 2, 10, 0, 0, &v);
    tap_ok(apisec_store_failed(apisec_store_incr(s, "m1", 2, 1, 0, 0, &v)),
           "incr of a non-numeric value is refused");
    tap_is_int(apisec_store_get(s, "mc", 2, buf, &n, NULL), APR_SUCCESS,
               "and the server is not taken out for it");
    tap_is_int(apisec_store_cas(s, "ma", 2, "1", 1, 0, 0), APR_SUCCESS,
               "cas 0 adds an absent key");
    tap_is_int(apisec_store_cas(s, "ma", 2, "2", 1, 0, 0), APISEC_STORE_EXISTS,
               "cas 0 loses against a present key");
    apisec_store_get(s, "ma", 2, buf, &n, &cas);
    tap_is_int(apisec_store_cas(s, "ma", 2, "3", 1, 0, cas), APR_SUCCESS,
               "cas with the current token stores");
    apisec_store_get(s, "ma", 2, buf, &n, &cas2);
    tap_ok(cas2 != cas && n == 1 && buf[0] == '3', "and changes the token");
    tap_is_int(apisec_store_cas(s, "ma", 2, "4", 1, 0, cas),
               APISEC_STORE_EXISTS, "cas with a stale token loses");
    tap_is_int(apisec_store_cas(s, "mz", 2, "4", 1, 0, cas),
               APISEC_STORE_NOTFOUND, "cas on an absent key is not found");
    tap_is_int(apisec_store_delete(s, "ma", 2), APR_SUCCESS, "delete");
    tap_is_int(apisec_store_delete(s, "ma", 2), APISEC_STORE_NOTFOUND,
               "delete of an absent key is not found");
    tap_is_int(apisec_store_set(s, bin, 9, "b", 1, 0), APR_SUCCESS,
               "a binary key with a space and a NUL");
    tap_ok(apisec_store_get(s, bin, 9, buf, &n, NULL) == APR_SUCCESS && n == 1
               && apisec_store_get(s, bin, 3, buf, &n, NULL)
                      == APISEC_STORE_NOTFOUND,
           "is found, and its prefix is another key");

    memset(longkey, 'k', sizeof(longkey));
    tap_ok(
        apisec_store_set(s, longkey, sizeof(longkey), "L", 1, 0) == APR_SUCCESS
            && apisec_store_get(s, longkey, sizeof(longkey), buf, &n, NULL)
                   == APR_SUCCESS
            && apisec_store_get(s, longkey, sizeof(longkey) - 1, buf, &n, NULL)
                   == APISEC_STORE_NOTFOUND,
        "a 10000-byte key works and its prefix is another key");
    apisec_store_set(s, "mt", 2, "t", 1, 1);
    t0 = apr_time_now();
    tap_is_int(apisec_store_get(s, "mt", 2, buf, &n, NULL), APR_SUCCESS,
               "an entry with a 1 s ttl is there");
    deadline = t0 + apr_time_from_sec(3);
    while (!gone && apr_time_now() < deadline) {
        gone = apisec_store_get(s, "mt", 2, buf, &n, NULL)
               == APISEC_STORE_NOTFOUND;
        if (!gone) {
            apr_sleep(apr_time_from_msec(50));
        }
    }
    tap_ok(gone, "and gone within 3 s (%" APR_TIME_T_FMT " ms)", ms_since(t0));
}

/* ---- rate limits across processes on one memcached ---- */

#define PROCS 4
#define RL_LIMIT 100 /* per second */
#define RUN_SECS 3

typedef struct {
    int n[PROCS], failed[PROCS];
    apr_time_t first[PROCS], last[PROCS];
} rl_shared_t;

static int rl_child(const apr_port_t *port, rl_shared_t *sh, int i,
                    apr_time_t start)
{
    apisec_ratelimit_spec_t *spec;
    apisec_ratelimit_result_t r;
    apisec_store_t *s;
    apr_interval_time_t step = APR_USEC_PER_SEC / (10 * RL_LIMIT);
    apr_time_t target;
    long k;

    /* The pool is made after the fork, as child_init does in httpd. */
    if ((s = store_on(port, 1)) == NULL
        || apisec_ratelimit_spec_parse_line(pool, "100/1s", &spec) != NULL) {
        return 1;
    }
    for (k = 0;; ++k) {
        target = start + (k * PROCS + i) * step;
        if (target >= start + apr_time_from_sec(RUN_SECS)) {
            return 0;
        }
        if (apr_time_now() < target) {
            apr_sleep(target - apr_time_now()); /* pacing the load */
        }
        if (apisec_ratelimit_check(pool, s, NULL, spec, "rl-acc", 6, 0, 1, &r)
            != APR_SUCCESS) {
            ++sh->failed[i];
            continue;
        }
        if (sh->first[i] == 0) {
            sh->first[i] = r.now;
        }
        sh->last[i] = r.now;
        sh->n[i] += r.allowed;
    }
}

static void test_ratelimit(apr_port_t port)
{
    apr_shm_t *shm;
    rl_shared_t *sh;
    pid_t pids[PROCS];
    /* From a window's start, so that the burst fills its first window. */
    apr_time_t start = (apr_time_now() / apr_time_from_sec(1) + 1)
                       * apr_time_from_sec(1),
               first = 0, last = 0, next;
    int i, n = 0, failed = 0, ok = 1, st;
    long long want;

    if (!tap_ok(apr_shm_create(&shm, sizeof(*sh), NULL, pool) == APR_SUCCESS,
                "shared counters for the rate-limit run")) {
        return;
    }
    sh = apr_shm_baseaddr_get(shm);
    memset(sh, 0, sizeof(*sh));
    for (i = 0; i < PROCS; ++i) {
        pids[i] = fork();
        if (pids[i] == 0) {
            _exit(rl_child(&port, sh, i, start));
        }
    }
    for (i = 0; i < PROCS; ++i) {
        ok &= pids[i] > 0 && waitpid(pids[i], &st, 0) == pids[i]
              && WIFEXITED(st) && WEXITSTATUS(st) == 0;
        n += sh->n[i];
        failed += sh->failed[i];
        if (sh->first[i] && (first == 0 || sh->first[i] < first)) {
            first = sh->first[i];
        }
        last = sh->last[i] > last ? sh->last[i] : last;
    }
    /* LIMIT in the first window, then LIMIT per second from the next. */
    next = (first / apr_time_from_sec(1) + 1) * apr_time_from_sec(1);
    want = RL_LIMIT + (last > next ? (long long)((last - next) / 10000) : 0);
    tap_ok(ok && failed == 0, "%d processes, one memcached: no store error",
           PROCS);
    tap_diag("memcached: %d passed, the limit allows %lld (%.3f%%)", n, want,
             100.0 * (double)(n - want) / (double)want);
    tap_ok(n <= want + 1, "memcached: never more than the limit allows");
    tap_ok(n >= want - want / 100, "memcached: within 1%% of what it allows");
    apr_shm_destroy(shm);
}

/* ---- faults ---- */

/* Two servers: keys spread over both; one is killed: its keys move to the
 * other after one failed operation, which fails fast, and the other's keys
 * stay where they are. */
static void test_kill(apr_port_t *ports)
{
    apisec_store_t *both, *a, *b;
    unsigned char buf[APISEC_STORE_VALUE_MAX];
    apr_size_t n;
    char key[16];
    int k, stored = 0, on_a = 0, on_b = 0, failures = 0, found = 0, ok = 0;
    apr_interval_time_t worst = 0, ms;
    apr_time_t t;
    apr_status_t rv;

    ports[1] = free_port();
    if (!tap_ok(ports[1] && start_server(1, ports[1]),
                "second memcached started on 127.0.0.1:%u",
                (unsigned)ports[1])) {
        return;
    }
    both = store_on(ports, 2);
    a = store_on(ports, 1);
    b = store_on(ports + 1, 1);
    for (k = 0; k < 200; ++k) {
        apr_snprintf(key, sizeof(key), "ch-%d", k);
        stored +=
            apisec_store_set(both, key, strlen(key), "v", 1, 0) == APR_SUCCESS;
        on_a +=
            apisec_store_get(a, key, strlen(key), buf, &n, NULL) == APR_SUCCESS;
        on_b +=
            apisec_store_get(b, key, strlen(key), buf, &n, NULL) == APR_SUCCESS;
    }
    tap_is_int(stored, 200, "200 keys stored over two servers");
    tap_is_int(on_a + on_b, 200, "each key lives on exactly one server");
    tap_ok(on_a >= 40 && on_b >= 40, "ketama spreads them (%d / %d)", on_a,
           on_b);

    stop_server(1);
    for (k = 0; k < 200; ++k) {
        apr_snprintf(key, sizeof(key), "ch-%d", k);
        t = apr_time_now();
        rv = apisec_store_get(both, key, strlen(key), buf, &n, NULL);
        ms = ms_since(t);
        worst = ms > worst ? ms : worst;
        failures += apisec_store_failed(rv);
        found += rv == APR_SUCCESS;
    }
    tap_ok(failures <= 1, "a killed server costs one failed operation (%d)",
           failures);
    tap_ok(worst <= TIMEOUT_MS + SLACK_MS,
           "none waits past the timeout "
           "(worst %" APR_TIME_T_FMT " ms)",
           worst);
    tap_is_int(found, on_a, "the survivor's keys stay on it");
    for (k = 0; k < 200; ++k) {
        apr_snprintf(key, sizeof(key), "ch-%d", k);
        ok += apisec_store_set(both, key, strlen(key), "w", 1, 0) == APR_SUCCESS
              && apisec_store_get(both, key, strlen(key), buf, &n, NULL)
                     == APR_SUCCESS;
    }
    tap_is_int(ok, 200, "the dead server's keys now go to the survivor");
    tap_ok(apisec_store_memcached_error(both) != NULL,
           "the last failure's text is kept for the log");
}

/* A server that accepts connections and never answers. */
static void test_blackhole(const apr_port_t *ports)
{
    apr_port_t bh = 0, mixed_ports[2];
    apisec_store_t *s, *mixed;
    unsigned char buf[APISEC_STORE_VALUE_MAX];
    apr_size_t n;
    apr_uint64_t v;
    char key[16];
    apr_interval_time_t ms, worst = 0;
    apr_time_t t;
    apr_status_t rv;
    int k, failures = 0, ok = 0;

    blackhole_fd = listen_loopback(&bh);
    if (!tap_ok(blackhole_fd >= 0, "a silent listener on 127.0.0.1:%u",
                (unsigned)bh)) {
        return;
    }
    s = store_on(&bh, 1);
    t = apr_time_now();
    rv = apisec_store_incr(s, "bh", 2, 1, 1, 60, &v);
    ms = ms_since(t);
    tap_ok(apisec_store_failed(rv), "a silent server is a store failure");
    tap_ok(ms <= TIMEOUT_MS + SLACK_MS,
           "returned within the timeout "
           "(%" APR_TIME_T_FMT " ms of %d)",
           ms, TIMEOUT_MS);
    t = apr_time_now();
    rv = apisec_store_get(s, "bh", 2, buf, &n, NULL);
    ms = ms_since(t);
    tap_ok(apisec_store_failed(rv) && ms <= SLACK_MS,
           "the next operation fails at once (%" APR_TIME_T_FMT " ms)", ms);

    mixed_ports[0] = ports[0];
    mixed_ports[1] = bh;
    mixed = store_on(mixed_ports, 2);
    for (k = 0; k < 100; ++k) {
        apr_snprintf(key, sizeof(key), "bh-%d", k);
        t = apr_time_now();
        rv = apisec_store_set(mixed, key, strlen(key), "v", 1, 0);
        ms = ms_since(t);
        worst = ms > worst ? ms : worst;
        failures += apisec_store_failed(rv);
    }
    tap_ok(failures <= 1, "with a live server beside it: one failure (%d)",
           failures);
    tap_ok(worst <= TIMEOUT_MS + SLACK_MS,
           "none waits past the timeout "
           "(worst %" APR_TIME_T_FMT " ms)",
           worst);
    for (k = 0; k < 100; ++k) {
        apr_snprintf(key, sizeof(key), "bh-%d", k);
        ok +=
            apisec_store_set(mixed, key, strlen(key), "v", 1, 0) == APR_SUCCESS;
    }
    tap_is_int(ok, 100, "then every key goes to the live server");
    close(blackhole_fd);
    blackhole_fd = -1;
}

/* The only server dies and comes back: operations fail fast meanwhile and
 * succeed again within about the retry time. */
static void test_comeback(const apr_port_t *ports)
{
    apisec_store_t *s = store_on(ports, 1);
    apr_time_t t, deadline;
    apr_interval_time_t ms;
    apr_status_t rv;
    int back = 0;

    tap_is_int(apisec_store_set(s, "cb", 2, "v", 1, 0), APR_SUCCESS,
               "the server answers");
    stop_server(0);
    t = apr_time_now();
    rv = apisec_store_set(s, "cb", 2, "v", 1, 0);
    ms = ms_since(t);
    tap_ok(apisec_store_failed(rv) && ms <= SLACK_MS,
           "with it gone, a failure at once (%" APR_TIME_T_FMT " ms)", ms);
    if (!tap_ok(start_server(0, ports[0]), "memcached restarted on its port")) {
        return;
    }
    t = apr_time_now();
    deadline = t + apr_time_from_sec(3);
    while (!back && apr_time_now() < deadline) {
        back = apisec_store_set(s, "cb", 2, "v", 1, 0) == APR_SUCCESS;
        if (!back) {
            apr_sleep(apr_time_from_msec(20));
        }
    }
    ms = ms_since(t);
    tap_ok(back && ms <= 2000,
           "used again within 2 s of its return "
           "(%" APR_TIME_T_FMT " ms)",
           ms);
}

static void test_faults(apr_port_t *ports)
{
    test_kill(ports);
    test_blackhole(ports);
    test_comeback(ports);
}

int main(void)
{
    apr_port_t ports[2];

    apr_initialize();
    atexit(apr_terminate);
    atexit(stop_all);
    signal(SIGPIPE, SIG_IGN);
    apr_pool_create(&pool, NULL);
    test_parse();
    test_keys();
    ports[0] = free_port();
    if (!tap_ok(ports[0] && start_server(0, ports[0]),
                "memcached started on 127.0.0.1:%u", (unsigned)ports[0])) {
        stop_all();
        return tap_done();
    }
    test_ops(store_on(ports, 1));
    test_ratelimit(ports[0]);
    test_faults(ports);
    stop_all();
    apr_pool_destroy(pool);
    return tap_done();
}
