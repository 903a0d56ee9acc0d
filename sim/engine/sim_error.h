/* sim_error.h: status codes and the caller-allocated error value.
 *
 * Operating errors (bad input, a full limit, I/O) are returned as a
 * sim_status plus a message in a sim_error the caller owns.  Programmer
 * errors are SIM_ASSERTs that stop the process (sim_assert.h). */
#ifndef SIM_ERROR_H
#define SIM_ERROR_H

#include <stdarg.h>

typedef enum sim_status {
    SIM_OK = 0,
    SIM_ERR_INVALID = -1,   /* an argument is out of range or unknown */
    SIM_ERR_SCENARIO = -2,  /* invalid or unsupported scenario content */
    SIM_ERR_IO = -3,        /* file or database I/O failed */
    SIM_ERR_LIMIT = -4,     /* a configured capacity was exceeded */
    SIM_ERR_REPORT = -5,    /* SQLite returned an error */
    SIM_ERR_NOMEM = -6,     /* the allocator failed */
    SIM_ERR_STATE = -7,     /* the call does not fit the object's state */
} sim_status;

typedef struct sim_error {  /* caller-allocated; filled only on failure */
    sim_status status;
    char where[128];        /* "scenarios/x.yaml:14:9" or "sim_net_send" */
    char message[384];      /* one sentence, no trailing newline */
} sim_error;

#if defined(__GNUC__)
#define SIM_MUST_CHECK __attribute__((warn_unused_result))
#define SIM_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SIM_MUST_CHECK
#define SIM_PRINTF(a, b)
#endif

/* Fills `err` (NULL is allowed and ignored) and returns `status`, so a
 * caller can write `return sim_error_set(err, SIM_ERR_INVALID, ...)`. */
sim_status sim_error_set(sim_error *err, sim_status status, const char *where,
                         const char *fmt, ...) SIM_PRINTF(4, 5);

/* "SIM_ERR_LIMIT" and so on; never NULL. */
const char *sim_status_name(sim_status status);

#endif
