/* fuzz_scn_load.c: the scenario loader (scn_load_string) on any bytes.
 *
 * Promises checked besides "no crash, no sanitizer report, no leak":
 *   - a failure is SIM_ERR_SCENARIO (or SIM_ERR_NOMEM) with a position
 *     "fuzz.yaml:LINE:COLUMN" and a message, never an empty one;
 *   - a failure leaves the config owning nothing (deinit is harmless);
 *   - an accepted scenario prints (scn_config_print) as YAML that loads
 *     back to an equal config and prints to the same bytes (scn_config.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "scn_load.h"

#define FUZZ_NAME "fuzz.yaml"

/* The config printed into a new heap string; NULL when printing fails. */
static char *print_config(const scn_config *config, size_t *len)
{
    char *text = NULL;
    FILE *mem = open_memstream(&text, len);
    if (mem == NULL) return NULL;
    sim_status st = scn_config_print(config, mem);
    if (fclose(mem) != 0 || st != SIM_OK) {
        free(text);
        return NULL;
    }
    return text;
}

static void check_failure(sim_status st, const sim_error *err)
{
    if (st == SIM_ERR_NOMEM) return;
    if (st != SIM_ERR_SCENARIO) fuzz_fail("the loader failed with a status other than SIM_ERR_SCENARIO");
    if (strncmp(err->where, FUZZ_NAME ":", strlen(FUZZ_NAME) + 1) != 0) {
        fuzz_fail("an error's position does not start with the file name");
    }
    if (err->message[0] == '\0') fuzz_fail("an error without a message");
}

static void check_round_trip(const scn_config *config)
{
    size_t len = 0, len2 = 0;
    char *text = print_config(config, &len);
    if (text == NULL) fuzz_fail("an accepted scenario does not print");
    scn_config again;
    sim_error err;
    if (scn_load_string("printed.yaml", text, len, &again, &err) != SIM_OK) {
        fprintf(stderr, "%s: %s\n%s", err.where, err.message, text);
        fuzz_fail("a printed scenario does not load back");
    }
    if (!scn_config_equal(config, &again)) fuzz_fail("a printed scenario loads back to a different config");
    char *text2 = print_config(&again, &len2);
    if (text2 == NULL || len2 != len || memcmp(text, text2, len) != 0) {
        fuzz_fail("printing is not a fixed point");
    }
    free(text);
    free(text2);
    scn_config_deinit(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scn_config config;
    sim_error err;
    memset(&err, 0, sizeof err);
    sim_status st = scn_load_string(FUZZ_NAME, (const char *)data, size, &config, &err);
    if (st != SIM_OK) {
        check_failure(st, &err);
    } else {
        check_round_trip(&config);
    }
    scn_config_deinit(&config);
    return 0;
}
