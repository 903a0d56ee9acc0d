/* sim_time.h: virtual time, an integer count of nanoseconds.
 *
 * No floating point decides anything about time.  uint64_t nanoseconds cover
 * 584 years and compare exactly.  Additions never wrap: the engine checks a
 * delay against SIM_TIME_NEVER - now before it adds it, and deadlines that
 * may be "never" use sim_time_add_sat. */
#ifndef SIM_TIME_H
#define SIM_TIME_H

#include <stdint.h>

#include "sim_assert.h"

typedef uint64_t sim_time_ns;               /* virtual time, NOT wall time */

#define SIM_US ((sim_time_ns)1000)
#define SIM_MS ((sim_time_ns)1000 * SIM_US)
#define SIM_S ((sim_time_ns)1000 * SIM_MS)
#define SIM_TIME_NEVER UINT64_MAX

/* Saturating add for deadlines that may legitimately be "never". */
static inline sim_time_ns sim_time_add_sat(sim_time_ns at_ns, sim_time_ns delay_ns)
{
    return delay_ns > SIM_TIME_NEVER - at_ns ? SIM_TIME_NEVER : at_ns + delay_ns;
}

#endif
