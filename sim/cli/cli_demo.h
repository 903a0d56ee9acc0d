/* cli_demo.h: `distrosim demo`. */
#ifndef CLI_DEMO_H
#define CLI_DEMO_H

int cli_demo_main(int argc, char **argv);

#endif
