/* fuzz_nacos.c: the `distrosim nacos owner`, `nacos checksum` and `nacos revision` readers
 * on any bytes as their standard input.
 *
 * All three readers run on the same input, through cli_nacos_owner_read,
 * cli_nacos_checksum_read and cli_nacos_revision_read, the functions the subcommands call with stdin.
 * Promises checked besides "no crash, no sanitizer report, no leak": the
 * exit status of checksum and revision is 0 or 2 (1 only when the output cannot be written, which
 * /dev/null never refuses), and owner, which accepts any line, exits 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_nacos.h"
#include "fuzz.h"

#define FUZZ_MEMBERS "10.0.0.1:8848,10.0.0.2:8848,10.0.0.3:8848,192.168.1.10:8848"

/* The input as a read-only stream; NULL for no bytes (fmemopen may refuse
 * a zero size) or when out of memory.  `*copy` is the buffer to free. */
static FILE *open_input(const uint8_t *data, size_t size, char **copy)
{
    *copy = NULL;
    if (size == 0 || (*copy = malloc(size)) == NULL) return NULL;
    memcpy(*copy, data, size);
    FILE *in = fmemopen(*copy, size, "r");
    if (in == NULL) {
        free(*copy);
        *copy = NULL;
    }
    return in;
}

static FILE *sink(void)
{
    static FILE *null_out;                           /* one per process: opened once */
    if (null_out == NULL && (null_out = fopen("/dev/null", "w")) == NULL) fuzz_fail("cannot open /dev/null");
    return null_out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = NULL;
    FILE *in = open_input(data, size, &copy);
    if (in == NULL) return 0;
    int rc = cli_nacos_checksum_read(in, sink(), sink());
    if (rc != 0 && rc != 2) fuzz_fail("nacos checksum exited with a status other than 0 or 2");
    rewind(in);
    rc = cli_nacos_revision_read(in, sink(), sink());
    if (rc != 0 && rc != 2) fuzz_fail("nacos revision exited with a status other than 0 or 2");
    rewind(in);
    rc = cli_nacos_owner_read(FUZZ_MEMBERS, in, sink(), sink());
    if (rc != 0) fuzz_fail("nacos owner refused an input");
    fclose(in);
    free(copy);
    return 0;
}
