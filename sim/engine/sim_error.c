/* sim_error.c: the status table and the error setter. */
#include "sim_error.h"
#include "sim_assert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sim_status sim_error_set(sim_error *err, sim_status status, const char *where,
                         const char *fmt, ...)
{
    SIM_ASSERT(status != SIM_OK);
    if (err == NULL) return status;
    memset(err, 0, sizeof *err);
    err->status = status;
    snprintf(err->where, sizeof err->where, "%s", where != NULL ? where : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return status;
}

const char *sim_status_name(sim_status status)
{
    switch (status) {
    case SIM_OK: return "SIM_OK";
    case SIM_ERR_INVALID: return "SIM_ERR_INVALID";
    case SIM_ERR_SCENARIO: return "SIM_ERR_SCENARIO";
    case SIM_ERR_IO: return "SIM_ERR_IO";
    case SIM_ERR_LIMIT: return "SIM_ERR_LIMIT";
    case SIM_ERR_REPORT: return "SIM_ERR_REPORT";
    case SIM_ERR_NOMEM: return "SIM_ERR_NOMEM";
    case SIM_ERR_STATE: return "SIM_ERR_STATE";
    }
    return "SIM_ERR_UNKNOWN";
}

_Noreturn void sim_assert_fail(const char *expr, const char *file, int line,
                               const char *func)
{
    fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", file, line, func, expr);
    fflush(stderr);
    abort();
}
