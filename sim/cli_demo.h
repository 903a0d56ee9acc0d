/* cli_demo.h: `distrosim demo` and `distrosim bench distro`. */
#ifndef CLI_DEMO_H
#define CLI_DEMO_H

int cli_demo_main(int argc, char **argv);
int bench_distro_main(int argc, char **argv);
int bench_report_main(int argc, char **argv);

#endif
