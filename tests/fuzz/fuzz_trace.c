/* fuzz_trace.c: the report's trace reader (`distrosim report --trace`) on
 * any bytes.
 *
 * rpt_trace_read_buffer parses like the file reader and itself checks the
 * promises the space-time diagram relies on (sorted names, lanes, arrows,
 * marks; name indices in range).  Checked here besides "no crash, no
 * sanitizer report, no leak": a failure is SIM_ERR_INVALID (or NOMEM)
 * with a message naming the input, and the counts fit the input (every
 * kept lane, arrow and mark came from at least a few bytes of it). */
#include <string.h>

#include "fuzz.h"
#include "rpt_report.h"

#define FUZZ_NAME "fuzz.json"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rpt_trace_counts counts;
    sim_error err;
    memset(&err, 0, sizeof err);
    sim_status st = rpt_trace_read_buffer(FUZZ_NAME, (const char *)data, size, &counts, &err);
    if (st == SIM_OK) {
        /* An arrow takes two events, a mark or an unpaired half one, and
         * an event at least the two bytes of "{}". */
        if (2 * counts.arrows + counts.unpaired + counts.marks > size / 2) fuzz_fail("more items than events");
    } else if (st != SIM_ERR_NOMEM) {
        if (st != SIM_ERR_INVALID) fuzz_fail("the trace reader failed with a status other than SIM_ERR_INVALID");
        if (strstr(err.message, FUZZ_NAME) == NULL) fuzz_fail("an error message does not name the trace");
    }
    return 0;
}
