/* cli_nacos.h: `distrosim nacos ...`, command-line access to the model's
 * pure Nacos functions, for comparing them with a real cluster.
 *
 *   distrosim nacos owner --members ADDR,ADDR,...   < service names
 *       one "name<TAB>distroHash<TAB>owner" line per input line
 *       (NACOS-DISTRO.md 1.6: healthyList sorted in Java String order)
 *   distrosim nacos checksum                        < JSON instance lists
 *       one 32-hex v1 instance-list checksum per input line (2.6(a))
 *
 * Harness code: reads stdin, writes stdout and stderr, uses libfyaml. */
#ifndef CLI_NACOS_H
#define CLI_NACOS_H

/* Runs one subcommand: argv[0] is "owner" or "checksum" (or "--help"), the
 * rest are its arguments.  Borrows argv.  Returns the process exit status:
 * 0 on success, 1 when writing the output failed, 2 for bad usage or bad
 * input (with a message on stderr). */
int cli_nacos_main(int argc, char **argv);

#endif
