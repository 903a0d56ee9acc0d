/* cli_shrink.h: `distrosim shrink FILE --seed S [-o OUT.yaml] [--set K=V]...`
 * and `distrosim rerun --db FILE --failed`.
 *
 * shrink takes a failing run and searches, deterministically, for a
 * smaller scenario that fails the same expectation (or ends in the same
 * ERROR) with the same seed:
 * the nemesis's schedule made explicit, fewer faults (delta debugging),
 * shorter fault durations, fewer nodes, services, instances and churn, a
 * shorter run.  It prints every candidate it tries and writes the smallest
 * failing scenario as YAML that `distrosim run OUT.yaml` reproduces.
 *
 * rerun runs every failed (or errored) run a results database recorded
 * again, from its stored effective scenario and seed, and says whether it
 * still fails and whether its trace is the one recorded. */
#ifndef CLI_SHRINK_H
#define CLI_SHRINK_H

/* `program` is main's argv[0]; argv[0] is the first argument after the
 * command.  Exit status: shrink 0 when a failing scenario was written, 1
 * when the run does not fail (nothing to shrink), 2 on bad input or an
 * error; rerun 0 when every rerun passes, 1 when any still fails, 2 on bad
 * input or an error. */
int cli_shrink_main(const char *program, int argc, char **argv);
int cli_rerun_main(const char *program, int argc, char **argv);

#endif
