/* bench_report.c: `distrosim bench report`, the reports' benchmark. */
#include "bench_report.h"

#include <stdio.h>
#include <string.h>

#include "bench_mesh.h"
#include "rpt_report.h"

int bench_report_main(int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-') {
        fprintf(stderr, "usage: distrosim bench report DB\n"
                        "  times the HTML and Markdown reports of DB (written to /dev/null)\n");
        return 2;
    }
    rpt_report_options opt;
    memset(&opt, 0, sizeof opt);
    const rpt_format formats[2] = { RPT_FORMAT_HTML, RPT_FORMAT_MARKDOWN };
    const char *names[2] = { "html", "markdown" };
    int status = 0;
    for (int i = 0; i < 2; i++) {
        sim_error err;
        double t0 = bench_wall_now();
        if (rpt_report_write(argv[0], formats[i], &opt, "/dev/null", &err) != SIM_OK) {
            fprintf(stderr, "distrosim bench report: %s: %s\n", err.where, err.message);
            return 2;
        }
        double wall = bench_wall_now() - t0;
        printf("RESULT bench=report format=%s db=%s wall_s=%.3f target_s=5.000 verdict=%s\n", names[i], argv[0], wall,
               wall < 5.0 ? "PASS" : "FAIL");
        if (wall >= 5.0) status = 1;
    }
    return status;
}
