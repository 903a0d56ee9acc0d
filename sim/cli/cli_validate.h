/* cli_validate.h: `distrosim validate FILE... [--print]`.
 *
 * Loads each scenario file with scn_load_file and reports, on stderr, one
 * line per file: "FILE: ok" or the loader's error as "FILE:LINE:COL:
 * message".  With --print the effective scenario of each valid file (every
 * default filled in, see scn_config_print) goes to stdout, so
 * `distrosim validate x.yaml --print > effective.yaml` gives a file that
 * loads to the same config. */
#ifndef CLI_VALIDATE_H
#define CLI_VALIDATE_H

/* argv[0] is the first argument after `validate`; borrows argv.  Returns
 * the process exit status: 0 when every file is valid, 2 when any is not
 * (or on a usage error), 0 for --help. */
int cli_validate_main(int argc, char **argv);

#endif
