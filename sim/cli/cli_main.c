/* cli_main.c: the distrosim command line. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_conn.h"
#include "bench_distro.h"
#include "bench_mesh.h"
#include "bench_report.h"
#include "cli_demo.h"
#include "cli_merge.h"
#include "cli_nacos.h"
#include "cli_run.h"
#include "cli_shrink.h"
#include "rpt_report.h"
#include "cli_validate.h"
#include "rpt_faultvfs.h"
#include "run_scenario.h"
#include "scn_config.h"
#include "sim_alloc.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: distrosim COMMAND [ARGS]\n"
            "\n"
            "commands:\n"
            "  run SCENARIO... [--seeds A-B] [--db FILE] [-j N] [--tag T] [--shard K/N]   run scenarios, record\n"
            "                                results in SQLite (--shard: only shard K of N of the jobs)\n"
            "  check DIR|FILE... [--seeds A-B] [--tag T] [--junit F] [--markdown F]   CI: exit 0 pass, 1 fail, 2 error,\n"
            "                                130/143 stopped by SIGINT/SIGTERM (--quiet: no progress on stderr)\n"
            "  replay SCENARIO --seed N [--trace] [--node N] [--type T] [--from D] [--to D] [--perfetto FILE]\n"
            "  sweep SCENARIO --set KEY=V1,V2,... [--seeds A-B] [--tag T] --db FILE\n"
            "  merge A.db B.db ... -o OUT.db [--force]   join databases (the --shard K/N pieces of a campaign)\n"
            "                                run, check and sweep also take --seeds random:N[@BASE],\n"
            "                                --until-fail and --budget D (wall time)\n"
            "  shrink SCENARIO --seed N [-o OUT.yaml]   a smaller scenario failing the same expectation\n"
            "  rerun --db FILE --failed      run every failed run of a database again\n"
            "  report DB -o FILE [--format html|markdown|csv] [--run ID] [--campaign ID|latest] [--trace FILE]\n"
            "                                timing reports\n"
            "  demo [SEED]                   a 3-node cluster through a crash, restart, partition and heal\n"
            "  bench mesh [--baseline] N V   engine benchmark (workload MH), optionally against a bare loop\n"
            "  bench distro [--nodes N] [--services S] [--instances I] [--duration D] [--repeat N]\n"
            "  bench report DB               time the HTML and Markdown reports of a database\n"
            "  bench conn [N R]              connection layer against datagram requests (workload CR)\n"
            "  validate FILE... [--print]    check scenario files without running them\n"
            "  counters                      the counters expect.counters may bound, with what each counts\n"
            "  nacos owner --members A,B,..  map service names (stdin) to owners as Nacos 1.4 does\n"
            "  nacos checksum                Nacos 1.4 verify checksums of instance lists (JSON, stdin)\n"
            "  nacos revision                Nacos 2.x revisions of IP-port clients (JSON, stdin)\n"
            "  --version                     the build id\n"
            "  --help                        this text\n");
}

/* `distrosim counters`: the table the loader validates names against. */
static int counters_main(int argc, char **argv)
{
    (void)argv;
    if (argc > 0) {
        fprintf(stderr, "usage: distrosim counters\n");
        return 2;
    }
    size_t count = 0;
    const scn_counter_info *all = scn_counters(&count);
    printf("Counters expect.counters may bound (per node, summed over nodes):\n");
    for (size_t i = 0; i < count; i++) printf("  %-28s %s\n", all[i].name, all[i].what);
    return fflush(stdout) == 0 ? 0 : 2;
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("%s\n", run_build_id());
        return fflush(stdout) == 0 ? 0 : 2;
    }
    if (strcmp(argv[1], "counters") == 0) return counters_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "bench") == 0 && argc >= 3 && strcmp(argv[2], "mesh") == 0) {
        return bench_mesh_main(argc - 3, argv + 3);
    }
    if (strcmp(argv[1], "bench") == 0 && argc >= 3 && strcmp(argv[2], "distro") == 0) {
        return bench_distro_main(argc - 3, argv + 3);
    }
    if (strcmp(argv[1], "bench") == 0 && argc >= 3 && strcmp(argv[2], "conn") == 0) {
        return bench_conn_main(argc - 3, argv + 3);
    }
    if (strcmp(argv[1], "bench") == 0 && argc >= 3 && strcmp(argv[2], "report") == 0) {
        return bench_report_main(argc - 3, argv + 3);
    }
    if (strcmp(argv[1], "demo") == 0) return cli_demo_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "run") == 0) return cli_run_main(argv[0], argc - 2, argv + 2);
    if (strcmp(argv[1], "check") == 0) return cli_check_main(argv[0], argc - 2, argv + 2);
    if (strcmp(argv[1], "replay") == 0) return cli_replay_main(argv[0], argc - 2, argv + 2);
    if (strcmp(argv[1], "sweep") == 0) return cli_sweep_main(argv[0], argc - 2, argv + 2);
    if (strcmp(argv[1], "report") == 0) return rpt_report_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "merge") == 0) return cli_merge_main(argc - 2, argv + 2);
    if (strcmp(argv[1], "shrink") == 0) return cli_shrink_main(argv[0], argc - 2, argv + 2);
    if (strcmp(argv[1], "rerun") == 0) return cli_rerun_main(argv[0], argc - 2, argv + 2);
    if (strcmp(argv[1], "validate") == 0) {
        return cli_validate_main(argc - 2, argv + 2);
    }
    if (strcmp(argv[1], "nacos") == 0) {
        return cli_nacos_main(argc - 2, argv + 2);
    }
    fprintf(stderr, "distrosim: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}

/* --- Fault injection ------------------------------------------------------------------
 *
 * DISTROSIM_FAIL_ALLOC=N fails the N-th allocation of the loader, runner,
 * campaign and reports (sim_alloc.h); DISTROSIM_FAIL_WRITE, _SYNC, _LOCK and
 * _BUSY fail the N-th xWrite, xSync or xLock under the database
 * (rpt_faultvfs.h).  Read here, once, before any command runs: nothing below
 * the command line reads the environment.  At exit an armed seam says on
 * standard error whether its call was reached, and how many calls it
 * counted, so a test can sweep N from 1 until it is not reached. */

typedef struct cli_fault_seam {
    const char *var;
    int op;                     /* rpt_fault_op, or -1 for allocations */
    uint64_t at;                /* 0: not armed */
} cli_fault_seam;

static cli_fault_seam cli_seams[] = {
    { "DISTROSIM_FAIL_ALLOC", -1, 0 },
    { "DISTROSIM_FAIL_WRITE", RPT_FAULT_WRITE, 0 },
    { "DISTROSIM_FAIL_SYNC", RPT_FAULT_SYNC, 0 },
    { "DISTROSIM_FAIL_LOCK", RPT_FAULT_LOCK, 0 },
    { "DISTROSIM_FAIL_BUSY", RPT_FAULT_BUSY, 0 },
};
#define CLI_SEAMS (sizeof cli_seams / sizeof cli_seams[0])

/* Arms the seams the environment asks for; false after a message when a
 * value is not a positive decimal number or a seam cannot be armed. */
static bool faults_arm(void)
{
    for (size_t i = 0; i < CLI_SEAMS; i++) {
        cli_fault_seam *s = &cli_seams[i];
        const char *v = getenv(s->var);
        if (v == NULL || v[0] == '\0') continue;
        uint64_t n = 0;
        bool ok = strlen(v) <= 19;
        for (const char *p = v; ok && *p != '\0'; p++) {
            ok = *p >= '0' && *p <= '9';
            n = n * 10 + (uint64_t)(*p - '0');
        }
        if (!ok || n == 0) {
            fprintf(stderr, "distrosim: %s=%s: give a call number from 1\n", s->var, v);
            return false;
        }
        s->at = n;
        if (s->op < 0) {
            sim_alloc_fail_at(n);
        } else if (!rpt_faultvfs_arm((rpt_fault_op)s->op, n)) {
            fprintf(stderr, "distrosim: %s: cannot install the fault-injection VFS\n", s->var);
            return false;
        }
    }
    return true;
}

/* One line per armed seam: whether its call failed, and the calls counted. */
static void faults_report(void)
{
    for (size_t i = 0; i < CLI_SEAMS; i++) {
        const cli_fault_seam *s = &cli_seams[i];
        if (s->at == 0) continue;
        bool failed = s->op < 0 ? sim_alloc_failed() : rpt_faultvfs_failed((rpt_fault_op)s->op);
        uint64_t calls = s->op < 0 ? sim_alloc_calls() : rpt_faultvfs_calls((rpt_fault_op)s->op);
        fprintf(stderr, "distrosim: %s=%" PRIu64 ": %s (%" PRIu64 " calls)\n", s->var, s->at,
                failed ? "injected" : "not reached", calls);
    }
}

/* Every command's output is checked once more here: a command that printed
 * into a full disk or a closed pipe must not exit 0. */
int main(int argc, char **argv)
{
    if (!faults_arm()) return 2;
    int status = dispatch(argc, argv);
    faults_report();
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "distrosim: cannot write to standard output\n");
        return 2;
    }
    return status;
}
