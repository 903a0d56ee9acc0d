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

/* The harness's words for what this thread runs ("scenario x.yaml seed 3,
 * build ..."): thread-local, read only on the way to abort(). */
static _Thread_local const char *assert_context;

void sim_assert_context_set(const char *context) { assert_context = context; }

_Noreturn void sim_assert_fail(const char *expr, const char *file, int line,
                               const char *func)
{
    char where[256];
    fprintf(stderr, "%s:%d: %s: assertion failed: %s\n", file, line, func, expr);
    if (sim_assert_position(where, sizeof where) > 0) fprintf(stderr, "  at %s\n", where);
    if (assert_context != NULL) fprintf(stderr, "  in %s\n", assert_context);
    fflush(stderr);
    abort();
}
