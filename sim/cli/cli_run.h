/* cli_run.h: `distrosim run`, `check`, `replay` and `sweep`. */
#ifndef CLI_RUN_H
#define CLI_RUN_H

/* `program` is how the binary was invoked (main's argv[0]): repro commands
 * name it, so pasting one runs the same binary.  argv[0] is the first
 * argument after the command name.  Each returns the process exit status:
 * 0 every expectation held, 1 one failed, 2 a harness or input error. */
int cli_run_main(const char *program, int argc, char **argv);
int cli_check_main(const char *program, int argc, char **argv);
int cli_replay_main(const char *program, int argc, char **argv);
int cli_sweep_main(const char *program, int argc, char **argv);

#endif
