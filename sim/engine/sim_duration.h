/* sim_duration.h: the one grammar for durations, in scenario files and on
 * the command line alike.
 *
 * A duration is "<digits>[.<digits>]<unit>" (or ".5s") with a unit of ns,
 * us (or µs), ms, s, m or h.  The value is exact: the decimal is scaled by
 * the unit in integer arithmetic, and a value that is not a whole number of
 * nanoseconds is rejected, never rounded.  A bare number, a sign, an
 * exponent or a value above SIM_DURATION_NS_MAX (8760h, one year) is
 * rejected. */
#ifndef SIM_DURATION_H
#define SIM_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "sim_error.h"
#include "sim_time.h"

#define SIM_DURATION_NS_MAX (365ull * 24u * 3600u * SIM_S)

/* The text every rejection starts with, for callers that word their own. */
#define SIM_DURATION_EXPECTED "expected a duration such as 250ms, 5s or 2m"

typedef enum sim_quantity_status {
    SIM_QUANTITY_OK,
    SIM_QUANTITY_SYNTAX,     /* not "<decimal><unit>" with a known unit */
    SIM_QUANTITY_RANGE,      /* above the maximum */
    SIM_QUANTITY_FRACTION,   /* not a whole number of base units */
} sim_quantity_status;

typedef struct sim_unit {
    const char *suffix;
    uint64_t mult;           /* base units per one of this unit */
} sim_unit;

/* "<digits>[.<digits>]<unit>" over s[0..len): the exact value times the
 * unit, at most `max`.  *out is written only on SIM_QUANTITY_OK.  O(len). */
sim_quantity_status sim_quantity_parse(const char *s, size_t len, const sim_unit *units, size_t unit_count,
                                       uint64_t max, uint64_t *out);

/* A duration over s[0..len), at most SIM_DURATION_NS_MAX. */
sim_quantity_status sim_duration_scan(const char *s, size_t len, sim_time_ns *out);

/* A NUL-terminated duration.  On failure returns SIM_ERR_INVALID with err's
 * message saying what was expected and what was given, in the scenario
 * loader's words ("expected a duration such as 250ms, 5s or 2m, got
 * \"10\""), and leaves *out unchanged. */
sim_status sim_duration_parse(const char *text, sim_time_ns *out, sim_error *err) SIM_MUST_CHECK;

#endif
