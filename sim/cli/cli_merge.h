/* cli_merge.h: `distrosim merge A.db B.db ... -o OUT.db [--force]`.
 *
 * Joins results databases, typically the shards of one campaign
 * (`--shard K/N`, cli_shard.h), into one new file: every campaign record,
 * run and child row, with ids rewritten so they stay consistent.  The runs
 * of the shards of one campaign are put back in the campaign's job order,
 * so the merged file holds the same runs, with the same ids, as one
 * unsharded run of the campaign would have written; only the campaign
 * records (one per shard, with its own command line and wall-clock times)
 * differ.
 *
 * Refused, exit status 2, and OUT is not created: a missing input, one that
 * is not a distrosim database, an input given twice, OUT existing already,
 * two files holding the same shard of one campaign or shards of it split
 * differently (their runs would count twice), and, unless --force, inputs
 * written by different builds or at an older schema version than this
 * build's.  OUT is written beside its final name and renamed into place
 * when complete. */
#ifndef CLI_MERGE_H
#define CLI_MERGE_H

/* argv[0] is the first argument after `merge`.  Returns the process exit
 * status: 0 merged, 2 refused or failed (nothing written), 0 for --help. */
int cli_merge_main(int argc, char **argv);

#endif
