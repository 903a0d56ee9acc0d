/* cli_nacos.h: `distrosim nacos ...`, command-line access to the model's
 * pure Nacos functions, for comparing them with a real cluster.
 *
 *   distrosim nacos owner --members ADDR,ADDR,...   < service names
 *       one "name<TAB>distroHash<TAB>owner" line per input line
 *       (NACOS-DISTRO.md 1.6: healthyList sorted in Java String order)
 *   distrosim nacos checksum                        < JSON instance lists
 *       one 32-hex v1 instance-list checksum per input line (2.6(a))
 *   distrosim nacos revision                        < JSON 2.x IP-port clients
 *       one 2.x revision (DistroUtils.hash) per input line (3.6, 9.3)
 *
 * Harness code: reads stdin, writes stdout and stderr, uses libfyaml.  The
 * two readers are also callable on any streams (the fuzz harness feeds them
 * memory). */
#ifndef CLI_NACOS_H
#define CLI_NACOS_H

#include <stdio.h>

/* Runs one subcommand: argv[0] is "owner", "checksum" or "revision" (or "--help"), the
 * rest are its arguments.  Borrows argv.  Returns the process exit status:
 * 0 on success, 1 when writing the output failed, 2 for bad usage or bad
 * input (with a message on stderr). */
int cli_nacos_main(int argc, char **argv);

/* `nacos owner` past its arguments: maps every line of `in` to its owner
 * among `members` ("ADDR,ADDR,...", borrowed), one line per name on `out`;
 * messages go to `errs`.  Returns the exit status, as cli_nacos_main. */
int cli_nacos_owner_read(const char *members, FILE *in, FILE *out, FILE *errs);

/* `nacos checksum` past its arguments: one checksum line on `out` per
 * instance list read from `in`, stopping at the first bad line with a
 * "<stdin>:LINE:COLUMN: ..." message on `errs`.  Returns the exit status. */
int cli_nacos_checksum_read(FILE *in, FILE *out, FILE *errs);

/* `nacos revision` past its arguments: one revision line on `out` per
 * client object read from `in`, stopping at the first bad line with a
 * "<stdin>:LINE:COLUMN: ..." message on `errs`.  Returns the exit status. */
int cli_nacos_revision_read(FILE *in, FILE *out, FILE *errs);

#endif
