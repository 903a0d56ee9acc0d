/* cli_validate.c: the `validate` command (see cli_validate.h). */
#include "cli_validate.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "scn_config.h"
#include "scn_load.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: distrosim validate FILE... [--print]\n"
            "\n"
            "Checks scenario files.  Prints \"FILE: ok\" or \"FILE:LINE:COL: error\" on stderr\n"
            "for each file; exits 0 when all are valid, 2 otherwise.\n"
            "\n"
            "  --print   also write each valid file's effective scenario (every default\n"
            "            filled in) as YAML to stdout\n"
            "  --help    this text\n");
}

/* Validates one file; prints its status line and, with `print`, its
 * effective scenario.  Returns true when the file is valid. */
static bool validate_one(const char *path, bool print, bool header)
{
    scn_config config;
    sim_error err;
    memset(&err, 0, sizeof err);
    if (scn_load_file(path, &config, &err) != SIM_OK) {
        fprintf(stderr, "%s: %s\n", err.where, err.message);
        if (strstr(err.message, "unknown counter") != NULL) {
            size_t count = 0;
            const scn_counter_info *all = scn_counters(&count);
            fprintf(stderr, "  valid counters:");
            for (size_t i = 0; i < count; i++) fprintf(stderr, "%s %s", i > 0 ? "," : "", all[i].name);
            fputc('\n', stderr);
        }
        return false;
    }
    bool ok = true;
    fprintf(stderr, "%s: ok\n", path);
    if (print) {
        if (header) printf("# %s\n", path);
        if (scn_config_print(&config, stdout) != SIM_OK) {
            fprintf(stderr, "distrosim validate: cannot write the effective scenario to stdout\n");
            ok = false;
        }
    }
    scn_config_deinit(&config);
    return ok;
}

int cli_validate_main(int argc, char **argv)
{
    bool print = false, options_done = false;
    int files = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            usage(stdout);
            return 0;
        }
        if (!options_done && strcmp(arg, "--print") == 0) {
            print = true;
        } else if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
        } else if (!options_done && arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr, "distrosim validate: unknown option '%s'\n", arg);
            usage(stderr);
            return 2;
        } else {
            files++;
        }
    }
    if (files == 0) {
        fprintf(stderr, "distrosim validate: no scenario file given\n");
        usage(stderr);
        return 2;
    }
    bool all_ok = true;
    options_done = false;
    for (int i = 0; i < argc; i++) {   /* second pass: the files, in the order given */
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && arg[0] == '-' && arg[1] != '\0') continue;
        if (!validate_one(arg, print, files > 1)) all_ok = false;
    }
    return all_ok ? 0 : 2;
}
