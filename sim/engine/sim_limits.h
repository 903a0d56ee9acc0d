/* sim_limits.h: every capacity of the engine, with the reason for its value.
 *
 * Modelled on SQLite's sqliteLimit.h: one place to look when a run hits a
 * wall.  Scenario values are checked against these at load time, and every
 * public engine function that takes a count or an id checks it too, so a bad
 * argument is an error with a message, never a crash. */
#ifndef SIM_LIMITS_H
#define SIM_LIMITS_H

#include <stdint.h>

/* Nodes in one simulated cluster.  Real Nacos clusters run 3 to 50 members;
 * 4096 leaves room for the mesh benchmark (N = 1000) and for stress runs,
 * while the per-pair tables (N * N links, N * N partition bits) stay below
 * a few hundred MB. */
#define SIM_NODES_MAX 4096u

/* Pending events (timers plus messages in flight).  The pool grows by
 * doubling up to this bound; 2^26 events is 64M * 64 bytes = 4 GiB, more
 * than any scenario needs.  Beyond it a run is a model bug (a storm). */
#define SIM_EVENTS_MAX (1u << 26)

/* Message types per network.  Types index small per-link tables; Distro
 * uses fewer than 32. */
#define SIM_MSG_TYPES_MAX 64u

/* Event kinds recorded in the trace (timer kinds chosen by the model plus
 * the engine's own).  16 bits in the trace record. */
#define SIM_EVENT_KINDS_MAX 65535u

/* Clock drift of a node, in parts per million.  +-10 % is far beyond any
 * real quartz (~100 ppm) and keeps the integer scaling exact in 128 bits. */
#define SIM_DRIFT_PPM_MAX 100000

/* Largest single message, in bytes.  A Nacos snapshot of 10^6 instances is
 * a few hundred MB of JSON; 4 GiB - 1 fits the 32-bit size field. */
#define SIM_MESSAGE_BYTES_MAX UINT32_MAX

/* Pending request/response pairs.  Each in-flight RPC holds one slot. */
#define SIM_RPCS_MAX (1u << 24)

/* Handlers with a prefetch hint (sim_set_prefetch): a few hot ones. */
#define SIM_PREFETCH_MAX 8u

_Static_assert(SIM_NODES_MAX < UINT32_MAX, "node ids are u32 and UINT32_MAX means none");
_Static_assert(SIM_EVENTS_MAX <= UINT32_MAX, "event index is u32");
_Static_assert(SIM_MSG_TYPES_MAX <= UINT16_MAX, "message type is u16");
_Static_assert(SIM_RPCS_MAX <= UINT32_MAX, "rpc index is u32");

#endif
