/* bench_report.h: `distrosim bench report`. */
#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

int bench_report_main(int argc, char **argv);

#endif
