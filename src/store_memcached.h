/* The memcached store: several httpd servers share counters through a
 * memcached cluster (libmemcached 1.1, libmemcachedutil's pool).
 *
 * What it promises:
 * - one connection pool per process (create it in child_init: connections
 *   must not cross a fork) of at most pool_max connections: set it to the
 *   threads of a process; a thread that finds none free fails at once
 *   rather than wait (a wait would add to the operation's own timeout);
 * - binary protocol, consistent hashing (ketama): with N servers a key
 *   lives on one of them, and when one leaves only its keys move;
 * - no operation waits longer than `timeout` for a server (connect and each
 *   poll are bounded by it); a server that fails (refuses, times out, or
 *   accepts and never answers) is taken out of the ring of this process and
 *   tried again after `retry` seconds, not on every request: each process
 *   pays one failed operation per retry period, and while every server is
 *   out, operations fail at once;
 * - keys of printable ASCII without spaces, up to 200 bytes and not starting
 *   with '#', are sent as they are (readable in memcached's tools); any
 *   other key is sent as '#' and the hex SHA-256 of its bytes, so long and
 *   binary keys are safe and distinct keys stay distinct;
 * - a ttl over 30 days is cut to 30 days (memcached reads larger ones as
 *   absolute times).
 * Nothing here knows httpd. */
#ifndef APISEC_STORE_MEMCACHED_H
#define APISEC_STORE_MEMCACHED_H

#include "store.h"

#include <apr_network_io.h>
#include <apr_tables.h>

#define APISEC_STORE_MEMCACHED_PORT 11211
#define APISEC_STORE_MEMCACHED_TIMEOUT_MS 250
#define APISEC_STORE_MEMCACHED_RETRY_S 1

typedef struct {
    const char *host;
    apr_port_t port;
} apisec_store_memcached_server_t;

typedef struct {
    apr_array_header_t *servers; /* apisec_store_memcached_server_t */
    unsigned timeout_ms;         /* connect and I/O timeout */
    unsigned retry_s;            /* a failed server is retried after this */
    unsigned pool_max;           /* connections per process (threads) */
} apisec_store_memcached_conf_t;

/* Parses the arguments after `APISecStore memcached`: HOST[:PORT] ...
 * [timeout=MS]. Hosts are names, IPv4 addresses or [IPv6] literals; the
 * port defaults to 11211; MS is 1 to 60000 (default 250). Returns NULL or a
 * message. */
const char *apisec_store_memcached_parse(apr_pool_t *p, int argc,
                                         char *const argv[],
                                         apisec_store_memcached_conf_t **conf);

/* Resolves every host, so that a misspelt name fails at startup. Returns
 * NULL or a message naming the host. */
const char *
apisec_store_memcached_resolve(apr_pool_t *p,
                               const apisec_store_memcached_conf_t *conf);

/* Builds the per-process pool; P's cleanup closes it. Connects lazily:
 * servers that are down now are not an error here. */
apr_status_t
apisec_store_memcached_create(apr_pool_t *p,
                              const apisec_store_memcached_conf_t *conf,
                              apisec_store_t **store);

/* libmemcached's text for the last failure in this process (a fixed
 * string of the library, never data), or NULL. For the glue's log line. */
const char *apisec_store_memcached_error(apisec_store_t *store);

/* The key as it goes to memcached (see above); BUF holds 201 bytes. */
apr_size_t apisec_store_memcached_key(const void *key, apr_size_t klen,
                                      char *buf);

#endif
