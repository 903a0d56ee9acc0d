/* bench_distro.h: `distrosim bench distro`. */
#ifndef BENCH_DISTRO_H
#define BENCH_DISTRO_H

int bench_distro_main(int argc, char **argv);

#endif
