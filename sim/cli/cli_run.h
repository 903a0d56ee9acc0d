/* cli_run.h: `distrosim run`, `check`, `replay` and `sweep`. */
#ifndef CLI_RUN_H
#define CLI_RUN_H

/* argv[0] is the first argument after the command name.  Each returns the
 * process exit status: 0 every expectation held, 1 one failed, 2 a harness
 * or input error. */
int cli_run_main(int argc, char **argv);
int cli_check_main(int argc, char **argv);
int cli_replay_main(int argc, char **argv);
int cli_sweep_main(int argc, char **argv);

#endif
