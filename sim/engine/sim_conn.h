/* sim_conn.h: connections (a TCP-like stream layer) and client connection
 * pools, beside the datagram network of sim_net.h.
 *
 * Nacos's HTTP calls ride TCP, and TCP turns the network's faults into
 * delays and resets rather than lost messages.  This layer models that at
 * the level of whole messages: a request or a response is a byte count
 * sent on a connection, and what the caller sees is the outcome TCP and the
 * HTTP client would give it, at the virtual instant it would happen.
 *
 * What is modelled (Linux defaults in sim_conn_params_default, each named
 * with its sysctl or socket option):
 *
 *   - Connect.  A SYN crosses the link (latency sampled from the link's
 *     distribution in sim_net.h, loss from its loss ratio).  A host that is
 *     DOWN answers with a reset: the connect is refused one round trip after
 *     it began.  A SYN that is lost, or meets a block, is retransmitted after 1 s, then 2, 4, ...
 *     (initial RTO 1 s, doubling), net.ipv4.tcp_syn_retries = 6 times; the
 *     connect fails 1+2+4+8+16+32+64 = 127 s after it began, unless the
 *     caller's connect timeout fires first.  A PAUSED host's kernel
 *     completes the handshake (its accept queue is not modelled as
 *     bounded); its process reads the request when it resumes.
 *   - Blocks.  sim_net_block(src, dst) acts as a stateful firewall: a
 *     connection is blocked, both ways, when its client cannot reach its
 *     server; replies on a connection the other side opened pass.  So a
 *     partition stalls every connection between its sides, and a one-way
 *     block a -> b stops a's calls to b while b's calls to a (and a's
 *     answers to them) go through: the directional rule of a security
 *     group or an iptables OUTPUT rule, which is how one-way failures
 *     between Nacos servers usually arise.  (A block of single packets in
 *     one direction would stop every TCP connection both ways.)
 *   - Bytes.  An established connection delivers every message, in order
 *     (one exchange at a time per connection, as HTTP/1.1 without
 *     pipelining).  Loss and partitions become retransmission delay: a
 *     transmission that is lost, or meets a partition at its send or at its
 *     arrival, is sent again after the retransmission timeout (RTO).  RTO =
 *     the handshake's round-trip sample + tcp_rto_min (200 ms; Linux floors
 *     the variance term at tcp_rto_min, so an idle LAN connection's RTO is
 *     just over 200 ms), doubling per retry up to TCP_RTO_MAX (120 s).
 *     After net.ipv4.tcp_retries2 = 15 retransmissions have all expired the
 *     kernel gives up: with 200 ms and 120 s that is 0.2 * (2^10 - 1) + 6 *
 *     120 = 924.6 s after the first send.  Which side gives up first in a
 *     partition: the application's read timeout when it has one (the
 *     caller sees READ_TIMEOUT); otherwise the sender's retransmission limit
 *     (the caller sees RETRIES_EXHAUSTED).  After a heal that came before
 *     either, the bytes flow again at the next retransmission.
 *   - Bandwidth.  A link with a bandwidth (sim_net.h) has one transmit
 *     queue per direction shared by every connection of this layer on it
 *     (separate from the datagram network's queue): a message waits for the
 *     wire, then takes bytes / bandwidth to serialize.
 *   - Crash.  By default a crash is a host crash: the crashed host's
 *     connections vanish and it sends nothing (no FIN, no RST) at the
 *     crash instant.  The peer learns of it only when it next sends: the
 *     segment reaches a host with no such connection, which answers with a
 *     reset (RESET).  An idle peer learns nothing until it sends, and a
 *     peer waiting for a response that was fully delivered before the
 *     crash waits until its read timeout (or forever without one), as on
 *     Linux without TCP keepalive, which Apache HttpClient leaves off.
 *     sim_conn_process_died says instead that only the process died and
 *     its kernel lives on (a killed or crashed JVM): the kernel closes
 *     each of the process's connections at once, and the FIN reaches the
 *     peer one latency later, if the way is open.  A client whose pooled
 *     idle connection gets it drops the connection (the pool sees it
 *     closed), and a client waiting on it for a response gets RESET.  A
 *     restarted host has no connections.  A DOWN host's kernel answers a
 *     SYN with a reset (nothing listens), which makes connect refusal one
 *     round trip.
 *   - Pause.  A paused process reads nothing until it resumes; its kernel
 *     still acknowledges what fits its receive buffer (rcvbuf_bytes, like
 *     net.ipv4.tcp_rmem's default 131072 B); the rest of a larger message
 *     waits for the window update sent when the process reads at resume
 *     (one more round trip).
 *   - Pools, as Apache HttpClient 4's PoolingHttpClientConnectionManager:
 *     a pool belongs to a client node and holds at most max_per_route
 *     connections to one destination and max_total in all.  A lease takes
 *     the most recently released idle connection to the route (LIFO) that
 *     has not outlived its time to live (created + ttl); otherwise it opens
 *     one if the limits allow (closing the oldest idle connection of
 *     another route when only max_total is in the way); otherwise it waits,
 *     in FIFO order, up to the lease timeout (0 = forever).  A connection
 *     goes back to the pool after a complete exchange, and is closed on any
 *     failure.  Idle connections are reused without a staleness check, so
 *     a pooled connection to a crashed host fails with RESET at its use.
 *   - Timeouts per request: connect (0 = none: the kernel's SYN limit),
 *     read (0 = none: the caller waits for as long as the connection
 *     lives), lease (0 = none).  The read timeout runs from the moment the
 *     request is handed to the kernel to the response's arrival.  A caller
 *     that gives up closes the connection; a request already in its send
 *     buffer is still delivered (the kernel keeps retransmitting an
 *     orphaned socket's data, up to orphan_retries, like
 *     net.ipv4.tcp_orphan_retries whose default 0 means 8) and processed by
 *     the server, whose response is then dropped: counted as a late request
 *     and a late response in sim_conn_stats.
 *
 * What is not modelled: slow start and congestion windows, Nagle, delayed
 * ACKs, segmentation (a message is one unit: one loss draw per
 * transmission, so a large message under loss is delayed as one segment
 * would be), lost ACKs, send-buffer blocking of the writer, the accept
 * backlog limit, TIME_WAIT and port exhaustion, keepalive probes, a read
 * timeout restarted by partial arrivals, half-open detection by a server
 * that never sends, FIN exchanges (a close is silent), and the pause of a
 * client node delaying its own kernel (kernels never pause).
 *
 * Events.  Kernel work (segments arriving) runs as harness events, so it
 * goes on while a node is paused; process work (a server reading a request,
 * a client learning an outcome, timeouts) runs as the node's own timers, so
 * a pause delays it and a crash cancels it.  Randomness comes only from
 * streams derived from (seed, client, server, the pool's connection
 * serial).
 *
 * Ownership: sim_conn_net_create returns an object the caller owns and
 * frees with sim_conn_net_destroy after the engine stops (before or after
 * sim_engine_destroy).  Handler contexts are borrowed.  Payloads follow
 * sim_net.h's rule: sim_conn_request and sim_conn_respond take one
 * reference whatever the outcome; a handler borrows the payload it is
 * given for the call.  A payload travels with its message: the server
 * sees the request's, the caller the response's. */
#ifndef SIM_CONN_H
#define SIM_CONN_H

#include "sim_engine.h"
#include "sim_net.h"

/* Event kinds of this layer, in the engine's reserved range. */
#define SIM_KIND_CONN_NET 12u    /* a segment arrives at a host's kernel */
#define SIM_KIND_CONN_PROC 13u   /* a process reads, or a timeout fires */

/* Random streams of this layer: family 4 in the top byte. */
#define SIM_STREAM_CONN(client, server, serial) \
    ((4ull << 56) | ((uint64_t)(client) << 44) | ((uint64_t)(server) << 32) | (uint64_t)(serial))

typedef struct sim_conn_params {
    sim_time_ns syn_rto_ns;      /* initial SYN retransmission timeout: 1 s (TCP_TIMEOUT_INIT) */
    uint32_t syn_retries;        /* net.ipv4.tcp_syn_retries: 6 */
    sim_time_ns rto_min_ns;      /* TCP_RTO_MIN / route rto_min: 200 ms */
    sim_time_ns rto_max_ns;      /* TCP_RTO_MAX: 120 s */
    uint32_t retries2;           /* net.ipv4.tcp_retries2: 15 */
    uint32_t orphan_retries;     /* net.ipv4.tcp_orphan_retries: 0, which means 8 */
    uint32_t rcvbuf_bytes;       /* net.ipv4.tcp_rmem default: 131072 */
} sim_conn_params;

sim_conn_params sim_conn_params_default(void);

/* How long a connect to a host that never answers lasts: the initial SYN
 * RTO, doubled after each of syn_retries retransmissions (127 s with
 * Linux's defaults).  Pure. */
sim_time_ns sim_conn_syn_limit_ns(const sim_conn_params *params);

typedef struct sim_conn_pool_params {
    uint32_t max_per_route;      /* HttpClient setDefaultMaxPerRoute; default 2 */
    uint32_t max_total;          /* setMaxTotal; default 20 */
    sim_time_ns ttl_ns;          /* connection time to live; 0 = forever (default) */
} sim_conn_pool_params;

sim_conn_pool_params sim_conn_pool_params_default(void);

typedef struct sim_conn_timeouts {
    sim_time_ns connect_ns;      /* 0 = none: the kernel's SYN retries decide */
    sim_time_ns read_ns;         /* 0 = none */
    sim_time_ns lease_ns;        /* 0 = wait for a connection forever */
} sim_conn_timeouts;

typedef enum sim_conn_outcome {
    SIM_CONN_OK,
    SIM_CONN_REFUSED,            /* the destination host is down: reset to the SYN */
    SIM_CONN_CONNECT_TIMEOUT,    /* the caller's connect timeout, or the SYN retries ran out */
    SIM_CONN_READ_TIMEOUT,       /* no response within the read timeout */
    SIM_CONN_LEASE_TIMEOUT,      /* no pooled connection within the lease timeout */
    SIM_CONN_RESET,              /* the peer's host had no such connection (it crashed) */
    SIM_CONN_RETRIES_EXHAUSTED,  /* tcp_retries2 retransmissions all expired */
    SIM_CONN_OUTCOMES
} sim_conn_outcome;

const char *sim_conn_outcome_name(sim_conn_outcome outcome);

typedef struct sim_conn_result {
    sim_conn_outcome outcome;
    sim_node_id client;
    sim_node_id server;
    uint32_t response_bytes;     /* SIM_CONN_OK only */
    sim_time_ns started_ns;      /* true time of sim_conn_request */
    bool reused;                 /* rode a pooled idle connection */
    sim_payload *response;       /* SIM_CONN_OK only, may be NULL; borrowed */
} sim_conn_result;

typedef struct sim_conn_net sim_conn_net;   /* opaque */
typedef uint32_t sim_conn_pool_id;

/* A request's outcome, run on the client node (a paused client sees it at
 * resume, a crashed one never).  `result` is borrowed for the call. */
typedef void sim_conn_result_fn(sim_engine *sim, void *ctx, uint64_t arg, const sim_conn_result *result);

/* Names one request received by a server, for sim_conn_respond. */
typedef struct sim_conn_token {
    uint32_t conn;
    uint32_t generation;
    uint32_t exchange;
} sim_conn_token;

/* A server process read a request of `bytes` bytes from `client`, with the
 * caller's `tag` and `payload` (borrowed, may be NULL).  Answer with
 * sim_conn_respond now or later, or never. */
typedef void sim_conn_server_fn(sim_engine *sim, sim_node_id server, void *ctx, sim_node_id client,
                                uint32_t bytes, uint64_t tag, sim_payload *payload, sim_conn_token token);

typedef struct sim_conn_stats {
    uint64_t requests;           /* sim_conn_request calls */
    uint64_t outcomes[SIM_CONN_OUTCOMES];
    uint64_t connects;           /* connections opened (SYN sent) */
    uint64_t reuses;             /* leases of an idle pooled connection */
    uint64_t retransmissions;    /* data and SYN retransmissions */
    uint64_t served;             /* requests read by a server process */
    uint64_t late_requests;      /* read by the server after the caller gave up */
    uint64_t late_responses;     /* responses dropped: the caller had gone */
} sim_conn_stats;

/* Creates the layer on `sim` (which it borrows: destroy this first or
 * after, but do not use it after the engine is gone).  NULL params = the
 * defaults.  Returns owned, or NULL with `err` filled. */
sim_conn_net *sim_conn_net_create(sim_engine *sim, const sim_conn_params *params, sim_error *err);
void sim_conn_net_destroy(sim_conn_net *cn);    /* NULL is a no-op */

/* Sets the handler of requests to `node`.  Without one, the node's kernel
 * accepts connections and a request is read and never answered. */
SIM_MUST_CHECK sim_status sim_conn_listen(sim_conn_net *cn, sim_node_id node, sim_conn_server_fn *fn,
                                          void *ctx, sim_error *err);

/* A pool owned by `client`.  NULL params = the defaults. */
SIM_MUST_CHECK sim_status sim_conn_pool_create(sim_conn_net *cn, sim_node_id client,
                                               const sim_conn_pool_params *params,
                                               sim_conn_pool_id *id_out, sim_error *err);

/* Sends a request of `req_bytes` (with a caller's `tag` and `payload`,
 * handed to the server handler) from the pool's client, which must be UP,
 * to `dst`.  Exactly one outcome reaches `fn`, unless the client crashes
 * first. */
SIM_MUST_CHECK sim_status sim_conn_request(sim_conn_net *cn, sim_conn_pool_id pool, sim_node_id dst,
                                           uint32_t req_bytes, uint64_t tag, sim_payload *payload,
                                           const sim_conn_timeouts *timeouts, sim_conn_result_fn *fn,
                                           void *ctx, uint64_t arg, sim_error *err);

/* Answers a request from the server incarnation that read it, with a
 * response of message type `type` (for the statistics).  A response
 * whose caller has gone, or whose connection died, is counted in
 * late_responses and SIM_OK is returned.  Errors: answering twice, or from
 * a later incarnation of the server. */
SIM_MUST_CHECK sim_status sim_conn_respond(sim_conn_net *cn, sim_conn_token token, uint16_t type,
                                           uint32_t bytes, sim_payload *payload, sim_error *err);

/* `node`'s process has just died (call it from the node's crash handler)
 * while its kernel lives: its connections as a server are closed with a
 * FIN to their clients.  Connections it opened as a client need nothing:
 * their servers learn of the death when they answer. */
void sim_conn_process_died(sim_conn_net *cn, sim_node_id node);

/* A prefetch hint for requests (sim_set_prefetch on this layer's
 * arrivals): called with a request's server and payload (borrowed, not
 * NULL) a few events before the request reaches the server's kernel, to
 * start loading what the server's handler will read.  Like any hint it
 * must only read memory and decide nothing.  One per layer; NULL `fn`
 * removes it.  Errors: the engine's hint table is full. */
typedef void sim_conn_prefetch_fn(const void *ctx, sim_node_id server, const sim_payload *payload);
SIM_MUST_CHECK sim_status sim_conn_set_prefetch(sim_conn_net *cn, sim_conn_prefetch_fn *fn, const void *ctx,
                                                sim_error *err);

sim_conn_stats sim_conn_net_stats(const sim_conn_net *cn);

/* Connections of the pool: leased or connecting, and idle. */
void sim_conn_pool_counts(const sim_conn_net *cn, sim_conn_pool_id pool, uint32_t *leased_out,
                          uint32_t *idle_out);

#endif
