/* cli_run.c: campaigns of scenario runs.
 *
 * A campaign is a sequence of jobs (scenario, parameter set, seed), in run
 * order: scenario by scenario, parameter combination by combination, seed
 * by seed.  Jobs are generated as workers ask for them (a 10^6-seed
 * campaign never lists its jobs) and run on -j worker threads (the engine
 * and model keep no global state, so runs are independent); finished
 * results wait in a ring of 2 x -j slots until they are written.  Results
 * are printed, written to SQLite (one transaction per run) and to the JUnit
 * and Markdown files strictly in run order, whatever the thread count: the
 * output and the database are the same with -j 1 and -j 8, and memory grows
 * with -j, not with the number of runs.
 *
 * Output files are written to a temporary file in the same directory and
 * renamed into place when complete; an output that is also an input (a
 * scenario, the database) is refused before anything runs.
 *
 * SIGINT or SIGTERM stops a campaign cleanly: no new run starts, the runs
 * in flight finish and are written (each in its own transaction, so the
 * database holds whole runs only), the JUnit and Markdown files describe
 * the runs that completed, the summary says how many did not run, and the
 * exit status is 128 + the signal number.  The handler only sets a flag;
 * a second signal of the same kind takes its default action (SA_RESETHAND).
 *
 * A campaign that writes a database records itself (table campaigns:
 * command line, build, wall-clock start and end, counts).  Progress goes to
 * standard error: one line rewritten in place on a terminal, otherwise a
 * line every CLI_PROGRESS_PLAIN_S seconds; --quiet turns it off.  Wall-clock
 * time is read here only, never by the runs.
 *
 * Exit status: 0 when every expectation held, 1 when one failed, 2 for a
 * harness or input error (bad scenario, bad flag, a run whose results could
 * not be stored, a write error on standard output or an output file),
 * 130 or 143 when SIGINT or SIGTERM stopped it. */
#include "cli_run.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sha2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rpt_db.h"
#include "rpt_escape.h"
#include "rpt_report.h"
#include "cli_perfetto.h"
#include "cli_shard.h"
#include "distro_cluster.h"
#include "run_scenario.h"
#include "scn_load.h"
#include "scn_swarm.h"
#include "sim_alloc.h"
#include "sim_duration.h"
#include "sim_vec.h"

#define SETS_MAX 16u
#define TAG_ARGS_MAX 16u
#define SEEDS_MAX 1000000u
#define SWEEP_VALUES_MAX 32u
#define CLI_PROGRESS_PLAIN_S 10.0  /* seconds between progress lines when stderr is not a terminal */
#define CLI_TICK_MS 200            /* the main thread looks at signals and progress this often */

typedef struct cli_scenario {
    char *path;
    scn_config config;
    char sha256[65];
} cli_scenario;

/* One run in flight: a slot of the ring.  A worker fills it; the main
 * thread writes it out when every earlier run has been written. */
typedef struct cli_job {
    size_t index;                /* position in run order */
    uint64_t number;             /* position in the whole campaign's job list, from 1 (runs.job) */
    uint32_t variant;            /* index of the (scenario, parameter combination) */
    uint64_t seed;
    bool done;
    sim_status status;
    sim_error err;
    run_result result;
    char drawn[SCN_SWARM_TEXT_BYTES];   /* a swarm scenario: what this seed drew; else "" */
    double wall_s;               /* wall-clock seconds the run took (JUnit `time`) */
} cli_job;

typedef struct cli_variant {
    scn_config config;           /* the scenario with the sweep's values set */
    uint32_t scenario;
    uint64_t seed_first;         /* the seeds this variant runs */
    uint64_t seed_last;
    char args[1024];             /* "--set k=v --set 'k=v w'": shell words (rpt_esc_shell) */
    rpt_param params[SETS_MAX];
    char keys[SETS_MAX][96];
    char values[SETS_MAX][96];
    uint32_t params_count;
} cli_variant;

typedef struct cli_campaign {
    cli_scenario *scenarios;
    uint32_t scenario_count;
    cli_variant *variants;       /* one per (scenario, parameter combination) */
    uint32_t variant_count;
    size_t job_count;            /* every (variant, seed) of this shard: the runs to make */
    uint64_t all_jobs;           /* every (variant, seed) of the whole campaign, all shards */
    cli_shard shard;             /* --shard K/N; {0, 0}: the whole campaign */
    char plan[65];               /* identity of the whole job list (campaign_plan) */
    /* Shared with the workers, under `lock`. */
    cli_job *slots;              /* run i waits in slots[i % window] */
    size_t window;
    size_t next_job;             /* the next run to hand out */
    uint32_t next_variant;       /* ... and its variant and seed */
    uint64_t next_seed;
    uint64_t next_number;        /* ... and its number in the whole job list */
    size_t written;              /* runs written out: their slots are free */
    bool stop;                   /* hand out no more runs */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    const char *campaign;
    int64_t campaign_id;         /* campaigns.id in the database; 0 = none */
    bool any_hash;               /* a run finished: last_trace_hash is its hash */
    uint64_t last_trace_hash;    /* for replay --perfetto */
    const char *program;         /* how the binary was invoked, for repro commands */
    bool fault_lines;            /* run and replay: one line per fault under every run */
    bool random_seeds;           /* --seeds random:N: run i's seed is cli_random_seed(random_base, i) */
    uint64_t random_base;
    bool until_fail;             /* --until-fail: stop handing out runs after one that did not pass */
    double budget_s;             /* --budget: stop handing out runs after this much wall time; 0: none */
    const char *stopped_why;     /* "a run failed", "the budget was spent": why runs were left */
    bool trace;
    run_trace_filter filter;
} cli_campaign;

typedef struct cli_args {
    const char *paths[256];
    uint32_t path_count;
    uint64_t seed_first;
    uint64_t seed_last;
    bool seeds_given;
    bool random_seeds;           /* seed_first..seed_last are indices into the random list */
    bool random_base_given;      /* random:N@BASE: the list is the one BASE gives */
    uint64_t random_base;
    bool until_fail;
    sim_time_ns budget_ns;       /* --budget; 0: none */
    const char *db;
    uint32_t jobs;
    const char *junit;
    const char *markdown;
    const char *perfetto;
    const char *sets[SETS_MAX];  /* "key=v1,v2,..." */
    uint32_t set_count;
    const char *tags[TAG_ARGS_MAX];  /* "--tag a,b": a scenario runs when it has any of them */
    uint32_t tag_count;
    bool quiet;
    bool trace;
    cli_shard shard;             /* --shard K/N; {0, 0} when not given */
    int32_t trace_node;
    int32_t trace_type;
    sim_time_ns trace_from;
    sim_time_ns trace_to;
} cli_args;

/* --- Parsing helpers ----------------------------------------------------------------- */

/* Decimal digits only (no sign, space or base prefix), at most UINT64_MAX;
 * `len` bytes of `s`.  Leading zeros are allowed. */
static int parse_u64_n(const char *s, size_t len, uint64_t *out)
{
    if (len == 0) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int parse_u64(const char *s, uint64_t *out)
{
    return parse_u64_n(s, strlen(s), out);
}

/* "N" or "A-B" with A <= B and at most SEEDS_MAX seeds, each a decimal
 * number up to UINT64_MAX, parsed whole (no length limit, no truncation). */
static int parse_seeds(const char *s, uint64_t *first, uint64_t *last)
{
    const char *dash = strchr(s, '-');
    if (dash == NULL) {
        if (parse_u64(s, first) != 0) return -1;
        *last = *first;
        return 0;
    }
    if (parse_u64_n(s, (size_t)(dash - s), first) != 0 || parse_u64(dash + 1, last) != 0 || *last < *first) {
        return -1;
    }
    if (*last - *first >= SEEDS_MAX) return -1;
    return 0;
}

/* The i-th seed of `--seeds random:N@BASE`: splitmix64's output function
 * over BASE + i, a bijection of 64-bit words, so the N seeds are distinct
 * and the list is the same wherever BASE is given again. */
static uint64_t cli_random_seed(uint64_t base, uint64_t i)
{
    uint64_t z = base + i * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A fresh base for --seeds random:N: the kernel's random bytes (the wall
 * clock and the process id when there are none).  Read here, in the
 * command line, only: the runs see the seeds it leads to, printed. */
static uint64_t cli_random_base(void)
{
    uint64_t base = 0;
    FILE *f = fopen("/dev/urandom", "rb");
    bool ok = f != NULL && fread(&base, sizeof base, 1, f) == 1;
    if (f != NULL) fclose(f);
    if (!ok) {
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        base = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec + ((uint64_t)getpid() << 32);
    }
    return base;
}

/* "random:N" or "random:N@BASE" (1 <= N <= SEEDS_MAX): N seeds drawn from
 * BASE (a fresh one when not given). */
static int parse_random_seeds(const char *s, cli_args *a)
{
    const char *at = strchr(s, '@');
    uint64_t n = 0;
    if (parse_u64_n(s, at != NULL ? (size_t)(at - s) : strlen(s), &n) != 0 || n == 0 || n > SEEDS_MAX) return -1;
    if (at != NULL && parse_u64(at + 1, &a->random_base) != 0) return -1;
    a->random_base_given = at != NULL;
    if (at == NULL) a->random_base = cli_random_base();
    a->random_seeds = true;
    a->seed_first = 0;
    a->seed_last = n - 1;
    return 0;
}

/* "a,b,c": every piece a tag word ([a-z0-9_-], 1 to SCN_TAG_BYTES_MAX bytes). */
static bool tag_list_valid(const char *s)
{
    for (;;) {
        size_t len = strcspn(s, ",");
        if (len == 0 || len > SCN_TAG_BYTES_MAX || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") < len) {
            return false;
        }
        if (s[len] == '\0') return true;
        s += len + 1;
    }
}

/* True when the scenario has one of the tags asked for, or none was asked for. */
static bool tags_select(const scn_config *config, const cli_args *a)
{
    if (a->tag_count == 0) return true;
    for (uint32_t i = 0; i < a->tag_count; i++) {
        for (const char *p = a->tags[i];; p++) {
            size_t len = strcspn(p, ",");
            for (uint32_t t = 0; t < config->tag_count; t++) {
                if (strlen(config->tags[t]) == len && strncmp(config->tags[t], p, len) == 0) return true;
            }
            p += len;
            if (*p == '\0') break;
        }
    }
    return false;
}

static int32_t message_type_by_name(const char *name)
{
    for (uint16_t t = 1; t < 64; t++) {
        if (strcmp(distro_msg_type_name(t), name) == 0) return t;
    }
    return -1;
}

/* What run, check and sweep share: random seeds, swarm lines, progress,
 * --quiet and the signals. */
#define CLI_USAGE_COMMON                                                                          \
    "--seeds random:N draws N distinct fresh seeds and prints the BASE they came from;\n"          \
    "random:N@BASE draws the same ones again.  --until-fail stops after the first run that\n"      \
    "did not pass (without --seeds it draws random seeds); --budget D (wall time, e.g. 10m)\n"   \
    "stops once D has passed; the runs already started finish and are stored.  A scenario\n"     \
    "with a swarm: block draws its configuration per seed: each run prints it on a\n"           \
    "`  swarm:` line and stores it as its effective scenario.\n"                                 \
    "Progress (runs done of the total, virtual time simulated, time elapsed and an\n"              \
    "estimate of what is left) goes to standard error: one line rewritten in place on a\n"        \
    "terminal, otherwise a line every 10 s.  --quiet turns progress off and leaves out\n"         \
    "the PASS lines.  SIGINT (Ctrl-C) or SIGTERM stops the campaign: no new run starts,\n"        \
    "the runs in flight finish and are stored, --junit and --markdown describe the runs\n"        \
    "that completed, and the summary says how many did not run; a second signal ends\n"           \
    "the process at once (the database holds whole runs only).\n"                               \
    "Each run prints convergence=TIME, or convergence=never and why (reports/SCHEMA.md).\n"          \
    "--junit FILE writes a test case per run (seed and sweep point in its name; time,\n"            \
    "properties seed, trace_hash, convergence, events and the parameters; every failed\n"          \
    "expectation); --markdown FILE a summary table and the failing runs.\n"                         \
    "--shard K/N runs only shard K of N of the campaign: its jobs (scenario, --set\n"             \
    "combination, seed) are numbered from 1 in run order and shard K takes jobs K, K+N,\n"        \
    "K+2N, ...; give each shard its own --db and join them with `distrosim merge`.\n"

static void usage_run(FILE *out, const char *cmd)
{
    if (strcmp(cmd, "run") == 0) {
        fprintf(out,
                "usage: distrosim run SCENARIO|DIR... [--seed N | --seeds A-B|random:N[@BASE]] [--db FILE] [-j JOBS]\n"
                "                    [--set KEY=VALUE]... [--tag TAG[,TAG...]]... [--junit FILE] [--markdown FILE]\n"
                "                    [--shard K/N] [--until-fail] [--budget D] [--quiet]\n"
                "\n"
                "Runs each scenario once per seed and prints one line per run.  Results go to\n"
                "the SQLite database FILE (default: none).  --set overrides one scenario value\n"
                "(e.g. --set cluster.distro.verify_interval=2s).  --tag keeps only the scenarios\n"
                "whose `tags:` list has one of the tags.  The database records the campaign\n"
                "(table campaigns: command line, build, wall-clock start and end, counts).\n"
                "%s"
                "Exit 0 if every expectation held, 1 if one failed, 2 on bad input or a harness\n"
                "error, 130 / 143 when SIGINT / SIGTERM stopped it.\n",
                CLI_USAGE_COMMON);
    } else if (strcmp(cmd, "check") == 0) {
        fprintf(out,
                "usage: distrosim check DIR|FILE... [--seeds A-B|random:N[@BASE]] [--db FILE] [-j JOBS] [--junit FILE]\n"
                "                      [--markdown FILE] [--set KEY=VALUE]... [--tag TAG[,TAG...]]... [--shard K/N]\n"
                "                      [--until-fail] [--budget D] [--quiet]\n"
                "\n"
                "The CI entry point: runs every scenario (*.yaml in DIR, sorted) over the seeds\n"
                "(default 1-20), prints a summary and one repro command per failing run.\n"
                "--tag keeps only the scenarios whose `tags:` list has one of the tags (repeat it\n"
                "or give a comma list); a selection of no scenario is an error.\n"
                "--seeds takes at most %u seeds; runs start at once and memory does not grow with\n"
                "the range.  --junit and --markdown must be writable before any run starts, are\n"
                "written beside their final name and renamed into place when complete, and may not\n"
                "name a scenario or the database.  A run whose results could not be stored is an\n"
                "error, and so is a write error on standard output.\n"
                "%s"
                "Exit 0 if every expectation held, 1 if any failed, 2 on bad input or a harness error,\n"
                "130 / 143 when SIGINT / SIGTERM stopped it.\n",
                SEEDS_MAX, CLI_USAGE_COMMON);
    } else if (strcmp(cmd, "replay") == 0) {
        fprintf(out,
                "usage: distrosim replay SCENARIO --seed N [--trace] [--node N] [--type TYPE]\n"
                "                       [--from DURATION] [--to DURATION] [--perfetto FILE]\n"
                "\n"
                "Runs one seed again and, with --trace, prints every processed event (time, seq,\n"
                "kind, node) and every message delivered (type, source, destination, bytes),\n"
                "filtered by node, message type (sync_datum, checksum, get_datum, get_datums,\n"
                "member_report, service_status, instance_statuses, proxy and their _resp) and time.\n"
                "--perfetto FILE writes the run as Chrome/Perfetto trace JSON (one track per node,\n"
                "messages as flows) for ui.perfetto.dev or `distrosim report --trace`.\n");
    } else {
        fprintf(out,
                "usage: distrosim sweep SCENARIO --set KEY=V1,V2,... [--set KEY=...]... [--seeds A-B|random:N[@BASE]]\n"
                "                      [--db FILE] [-j JOBS] [--tag TAG[,TAG...]]... [--junit FILE]\n"
                "                      [--markdown FILE] [--shard K/N] [--until-fail] [--budget D] [--quiet]\n"
                "\n"
                "Runs the cross product of the values over the seeds; every run is recorded with\n"
                "its parameters (table run_params), for `distrosim report`.  --tag keeps only the\n"
                "scenarios whose `tags:` list has one of the tags.\n"
                "%s",
                CLI_USAGE_COMMON);
    }
}

/* Returns 0, or 2 after printing an error; 1 for --help (printed). */
static int parse_args(int argc, char **argv, const char *cmd, cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->jobs = 1;
    a->trace_node = -1;
    a->trace_type = -1;
    a->trace_to = SIM_TIME_NEVER;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage_run(stdout, cmd);
            return 1;
        }
        bool takes = strcmp(arg, "--seed") == 0 || strcmp(arg, "--seeds") == 0 || strcmp(arg, "--db") == 0 ||
                     strcmp(arg, "--budget") == 0 ||
                     strcmp(arg, "-j") == 0 || strcmp(arg, "--junit") == 0 || strcmp(arg, "--markdown") == 0 ||
                     strcmp(arg, "--set") == 0 || strcmp(arg, "--node") == 0 || strcmp(arg, "--type") == 0 ||
                     strcmp(arg, "--from") == 0 || strcmp(arg, "--to") == 0 || strcmp(arg, "--perfetto") == 0 ||
                     strcmp(arg, "--tag") == 0 || strcmp(arg, "--shard") == 0;
        if (takes && next == NULL) {
            fprintf(stderr, "distrosim %s: %s needs a value\n", cmd, arg);
            return 2;
        }
        uint64_t v = 0;
        if (strcmp(arg, "--seeds") == 0 && strncmp(next, "random:", 7) == 0) {
            if (parse_random_seeds(next + 7, a) != 0) {
                fprintf(stderr,
                        "distrosim %s: --seeds: expected random:N or random:N@BASE with 1 <= N <= %u and BASE a "
                        "decimal number, got \"%s\"\n",
                        cmd, SEEDS_MAX, next);
                return 2;
            }
            a->seeds_given = true;
            i++;
        } else if (strcmp(arg, "--budget") == 0) {
            sim_error derr = { 0 };
            if (sim_duration_parse(next, &a->budget_ns, &derr) != SIM_OK || a->budget_ns == 0) {
                fprintf(stderr, "distrosim %s: --budget: expected a wall-clock duration such as 10m, got \"%s\"\n",
                        cmd, next);
                return 2;
            }
            i++;
        } else if (strcmp(arg, "--until-fail") == 0) {
            a->until_fail = true;
        } else if (strcmp(arg, "--seed") == 0 || strcmp(arg, "--seeds") == 0) {
            a->random_seeds = false;
            if (parse_seeds(next, &a->seed_first, &a->seed_last) != 0) {
                fprintf(stderr,
                        "distrosim %s: %s: expected N or A-B with A <= B, decimal numbers up to %" PRIu64
                        ", at most %u seeds, got \"%s\"\n",
                        cmd, arg, UINT64_MAX, SEEDS_MAX, next);
                return 2;
            }
            a->seeds_given = true;
            i++;
        } else if (strcmp(arg, "--db") == 0) {
            a->db = next;
            i++;
        } else if (strcmp(arg, "-j") == 0) {
            if (parse_u64(next, &v) != 0 || v == 0 || v > 256) {
                fprintf(stderr, "distrosim %s: -j: expected 1..256, got \"%s\"\n", cmd, next);
                return 2;
            }
            a->jobs = (uint32_t)v;
            i++;
        } else if (strcmp(arg, "--junit") == 0) {
            a->junit = next;
            i++;
        } else if (strcmp(arg, "--markdown") == 0) {
            a->markdown = next;
            i++;
        } else if (strcmp(arg, "--perfetto") == 0) {
            a->perfetto = next;
            i++;
        } else if (strcmp(arg, "--set") == 0) {
            if (a->set_count == SETS_MAX || strchr(next, '=') == NULL) {
                fprintf(stderr, "distrosim %s: --set: expected KEY=VALUE (at most %u), got \"%s\"\n", cmd, SETS_MAX,
                        next);
                return 2;
            }
            a->sets[a->set_count++] = next;
            i++;
        } else if (strcmp(arg, "--tag") == 0) {
            if (a->tag_count == TAG_ARGS_MAX || !tag_list_valid(next)) {
                fprintf(stderr,
                        "distrosim %s: --tag: expected TAG or TAG,TAG,... of [a-z0-9_-] (at most %u --tag), got \"%s\"\n",
                        cmd, TAG_ARGS_MAX, next);
                return 2;
            }
            a->tags[a->tag_count++] = next;
            i++;
        } else if (strcmp(arg, "--shard") == 0) {
            if (!cli_shard_parse(next, &a->shard)) {
                fprintf(stderr, "distrosim %s: --shard: expected K/N with 1 <= K <= N <= %u, got \"%s\"\n", cmd,
                        CLI_SHARD_COUNT_MAX, next);
                return 2;
            }
            i++;
        } else if (strcmp(arg, "--trace") == 0) {
            a->trace = true;
        } else if (strcmp(arg, "--quiet") == 0) {
            a->quiet = true;
        } else if (strcmp(arg, "--node") == 0) {
            if (parse_u64(next, &v) != 0 || v >= SCN_NODES_MAX) {
                fprintf(stderr, "distrosim %s: --node: expected a node index, got \"%s\"\n", cmd, next);
                return 2;
            }
            a->trace_node = (int32_t)v;
            i++;
        } else if (strcmp(arg, "--type") == 0) {
            a->trace_type = message_type_by_name(next);
            if (a->trace_type < 0) {
                fprintf(stderr, "distrosim %s: --type: unknown message type \"%s\"\n", cmd, next);
                return 2;
            }
            i++;
        } else if (strcmp(arg, "--from") == 0 || strcmp(arg, "--to") == 0) {
            sim_time_ns t = 0;
            sim_error derr = { 0 };
            if (sim_duration_parse(next, &t, &derr) != SIM_OK) {
                fprintf(stderr, "distrosim %s: %s: %s\n", cmd, arg, derr.message);
                return 2;
            }
            if (strcmp(arg, "--from") == 0) a->trace_from = t;
            else a->trace_to = t;
            i++;
        } else if (arg[0] == '-') {
            fprintf(stderr, "distrosim %s: unknown option %s (see distrosim %s --help)\n", cmd, arg, cmd);
            return 2;
        } else {
            if (a->path_count == 256) {
                fprintf(stderr, "distrosim %s: too many scenario files (at most 256)\n", cmd);
                return 2;
            }
            a->paths[a->path_count++] = arg;
        }
    }
    if (a->path_count == 0) {
        usage_run(stderr, cmd);
        return 2;
    }
    return 0;
}

/* --- Scenarios ------------------------------------------------------------------------ */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Out of memory on the command line: say so; the caller exits 2. */
static int cli_nomem(const char *what)
{
    fprintf(stderr, "distrosim: out of memory %s\n", what);
    return 2;
}

/* True when snprintf's result `n` fit a buffer of `size` bytes; otherwise
 * prints what was too long and the limit, and the caller exits 2. */
static bool cli_fits(int n, size_t size, const char *cmd, const char *what)
{
    if (n >= 0 && (size_t)n < size) return true;
    fprintf(stderr, "distrosim %s: %s is longer than the limit of %zu bytes\n", cmd, what, size - 1);
    return false;
}

static void paths_free(char **paths, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++) free(paths[i]);
    free(paths);
}

/* Expands directories to their *.yaml files, sorted by name.  0, or 2 (with
 * a message) when out of memory. */
static int expand_paths(const cli_args *a, char ***out, uint32_t *count)
{
    char **paths = NULL;
    uint32_t len = 0, cap = 0;
    for (uint32_t i = 0; i < a->path_count; i++) {
        DIR *dir = opendir(a->paths[i]);
        if (dir == NULL) {
            if (!SIM_VEC_RESERVE(paths, len, cap, 1) || (paths[len] = sim_strdup(a->paths[i])) == NULL) {
                paths_free(paths, len);
                return cli_nomem("listing the scenario files");
            }
            len++;
            continue;
        }
        uint32_t first = len;
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            size_t n = strlen(e->d_name);
            if (n < 6 || strcmp(e->d_name + n - 5, ".yaml") != 0) continue;
            size_t size = strlen(a->paths[i]) + n + 2;
            if (!SIM_VEC_RESERVE(paths, len, cap, 1) || (paths[len] = sim_malloc(size)) == NULL) {
                closedir(dir);
                paths_free(paths, len);
                return cli_nomem("listing the scenario files");
            }
            const char *sep = a->paths[i][strlen(a->paths[i]) - 1] == '/' ? "" : "/";
            snprintf(paths[len], size, "%s%s%s", a->paths[i], sep, e->d_name);   /* sized to fit */
            len++;
        }
        closedir(dir);
        qsort(paths + first, len - first, sizeof *paths, name_cmp);   /* readdir order is the filesystem's */
    }
    *out = paths;
    *count = len;
    return 0;
}

static void sha256_file_text(const char *path, char out[65])
{
    FILE *f = fopen(path, "rb");
    SHA2_CTX ctx;
    SHA256Init(&ctx);
    if (f != NULL) {
        uint8_t buf[8192];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) SHA256Update(&ctx, buf, n);
        fclose(f);
    }
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256Final(digest, &ctx);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* --- Output files -------------------------------------------------------------------------- */

/* True when `a` and `b` name the same file: the same device and inode when
 * both exist, the same directory and name when neither does. */
static bool same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    bool ea = stat(a, &sa) == 0, eb = stat(b, &sb) == 0;
    if (ea && eb) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    if (ea || eb) return false;
    const char *na = strrchr(a, '/'), *nb = strrchr(b, '/');
    const char *base_a = na != NULL ? na + 1 : a, *base_b = nb != NULL ? nb + 1 : b;
    if (strcmp(base_a, base_b) != 0) return false;
    char da[4096], db[4096];
    int la = na != NULL ? snprintf(da, sizeof da, "%.*s", (int)(na - a + 1), a) : snprintf(da, sizeof da, ".");
    int lb = nb != NULL ? snprintf(db, sizeof db, "%.*s", (int)(nb - b + 1), b) : snprintf(db, sizeof db, ".");
    if (la < 0 || lb < 0 || (size_t)la >= sizeof da || (size_t)lb >= sizeof db) return strcmp(a, b) == 0;
    struct stat sda, sdb;
    if (stat(da, &sda) != 0 || stat(db, &sdb) != 0) return strcmp(a, b) == 0;
    return sda.st_dev == sdb.st_dev && sda.st_ino == sdb.st_ino;
}

/* An output file being written: `tmp` (in the directory of `path`) is
 * renamed over `path` by out_commit when it is complete, and removed by
 * out_abort otherwise, so `path` is never left half written. */
typedef struct cli_out {
    const char *path;
    const char *flag;            /* "--junit", for messages */
    char *tmp;
    FILE *f;
} cli_out;

/* A new file next to `path` ("PATH.XXXXXX"), mode 0666 less the umask like
 * fopen's; `*tmp_out` is its name (caller frees).  NULL with errno set on
 * failure. */
static FILE *temp_beside(const char *path, char **tmp_out)
{
    size_t len = strlen(path) + sizeof ".XXXXXX";
    char *tmp = sim_malloc(len);
    if (tmp == NULL) return NULL;
    snprintf(tmp, len, "%s.XXXXXX", path);   /* exactly len - 1 bytes */
    int fd = mkstemp(tmp);
    if (fd < 0) {
        free(tmp);
        return NULL;
    }
    mode_t mask = umask(0);
    umask(mask);
    FILE *f = fchmod(fd, 0666 & ~mask) == 0 ? fdopen(fd, "w+b") : NULL;
    if (f == NULL) {
        int saved = errno;
        close(fd);
        unlink(tmp);
        free(tmp);
        errno = saved;
        return NULL;
    }
    *tmp_out = tmp;
    return f;
}

/* Refuses a directory or a file the user may not write, and creates the
 * temporary file: a path that cannot be written fails before any run.
 * 0, or 2 after a message. */
static int out_open(cli_out *o, const char *cmd)
{
    struct stat st;
    if (stat(o->path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "distrosim %s: %s %s: is a directory\n", cmd, o->flag, o->path);
        return 2;
    }
    if (stat(o->path, &st) == 0 && access(o->path, W_OK) != 0) {
        fprintf(stderr, "distrosim %s: %s %s: cannot write: %s\n", cmd, o->flag, o->path, strerror(errno));
        return 2;
    }
    o->f = temp_beside(o->path, &o->tmp);
    if (o->f == NULL) {
        fprintf(stderr, "distrosim %s: %s %s: cannot create a file beside it: %s\n", cmd, o->flag, o->path,
                strerror(errno));
        return 2;
    }
    return 0;
}

static void out_abort(cli_out *o)
{
    if (o->f != NULL) fclose(o->f);
    if (o->tmp != NULL) unlink(o->tmp);
    free(o->tmp);
    o->f = NULL;
    o->tmp = NULL;
}

/* 0 when everything reached the file and it replaced `path`; 2 after a
 * message otherwise (the temporary file is removed). */
static int out_commit(cli_out *o, const char *cmd)
{
    if (o->f == NULL) return 0;
    bool ok = fflush(o->f) == 0 && !ferror(o->f) && fsync(fileno(o->f)) == 0;
    int saved = errno;
    ok = fclose(o->f) == 0 && ok;
    if (ok) saved = errno;
    o->f = NULL;
    if (ok && rename(o->tmp, o->path) == 0) {
        free(o->tmp);
        o->tmp = NULL;
        return 0;
    }
    fprintf(stderr, "distrosim %s: %s %s: cannot write: %s\n", cmd, o->flag, o->path, strerror(ok ? errno : saved));
    out_abort(o);
    return 2;
}

/* An unnamed scratch file beside `path` (created and unlinked at once). */
static FILE *scratch_beside(const char *path)
{
    char *tmp = NULL;
    FILE *f = temp_beside(path, &tmp);
    if (f != NULL) unlink(tmp);
    free(tmp);
    return f;
}

/* Appends the scratch file to `to` and empties it.  False on a read or
 * write error. */
static bool scratch_drain(FILE *scratch, FILE *to)
{
    if (fflush(scratch) != 0 || fseek(scratch, 0, SEEK_SET) != 0) return false;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, scratch)) > 0) {
        if (fwrite(buf, 1, n, to) != n) return false;
    }
    if (ferror(scratch) || fseek(scratch, 0, SEEK_SET) != 0) return false;
    return ftruncate(fileno(scratch), 0) == 0;
}

/* JUnit text and attributes (rpt_esc_xml: forbidden bytes become \xHH). */
static void xml_escape(FILE *f, const char *s)
{
    rpt_esc_xml(s, rpt_esc_to_file, f);
}

/* A Markdown table cell; with `code`, a code span (rpt_esc_md_cell). */
static void md_cell(FILE *f, const char *text, bool code)
{
    rpt_esc_md_cell(text, code, rpt_esc_to_file, f);
}

/* One fault of a run as a line of text: index, kind, nodes, start, end,
 * recovery (run_recovery) and the lost and zombie windows that began during
 * the fault or its recovery.  `buf` has at least 192 bytes. */
static void fault_line(const run_result *r, size_t i, char *buf, size_t size)
{
    const rpt_fault *f = &r->row.faults[i];
    const run_recovery *rec = &r->recoveries[i];
    char end[32] = "never", recovery[48] = "-";
    if (f->end_ns != SIM_TIME_NEVER) snprintf(end, sizeof end, "%.3fs", (double)f->end_ns / 1e9);
    if (rec->not_started) snprintf(recovery, sizeof recovery, "not started");
    else if (rec->applies && rec->recovery_ns == SIM_TIME_NEVER) snprintf(recovery, sizeof recovery, "never");
    else if (rec->applies) snprintf(recovery, sizeof recovery, "%.3fs", (double)rec->recovery_ns / 1e9);
    if (rec->applies && rec->bound.checked) {
        size_t len = strlen(recovery);
        snprintf(recovery + len, sizeof recovery - len, " (bound %.3fs%s)", (double)rec->bound.max_ns / 1e9,
                 rec->ok ? "" : ", NOT met");
    }
    snprintf(buf, size, "fault %d %s node %s start=%.3fs end=%s recovery=%s lost=%u zombie=%u", (int)f->index,
             f->kind, rec->nodes, (double)f->start_ns / 1e9, end, recovery, rec->applies ? rec->lost : 0,
             rec->applies ? rec->zombie : 0);
}

/* The run's convergence (reports/SCHEMA.md): "12.345s" or "never". */
static void convergence_text(const run_result *r, char *buf, size_t size)
{
    if (r->row.convergence_ns == SIM_TIME_NEVER) snprintf(buf, size, "never");
    else snprintf(buf, size, "%.3fs", (double)r->row.convergence_ns / 1e9);
}

static double seconds_since(const struct timespec *start);

/* The sweep point of a variant as "key=value, key=value" ("" for none),
 * for JUnit names. */
static void variant_point(const cli_variant *v, char *buf, size_t size)
{
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < v->params_count && len < size; i++) {
        int w = snprintf(buf + len, size - len, "%s%s=%s", i > 0 ? ", " : "", v->params[i].key, v->params[i].value);
        len += w > 0 ? (size_t)w : 0;
    }
}

/* What the run's readers saw, on one line (runs with readers only):
 * "client reads: empty 2 (max 5.965s), short 9 (max 16.382s), stale 0". */
static void client_line(const run_result *r, char *buf, size_t size)
{
    static const char *const kinds[3] = { "empty", "short", "stale" };
    size_t at = (size_t)snprintf(buf, size, "client reads:");
    for (int k = 0; k < 3 && at < size; k++) {
        at += (size_t)snprintf(buf + at, size - at, "%s %s %" PRIu64, k > 0 ? "," : "", kinds[k],
                               r->client_windows[k]);
        if (r->client_windows[k] > 0 && at < size) {
            at += (size_t)snprintf(buf + at, size - at, " (max %.3fs)", (double)r->client_window_max_ns[k] / 1e9);
        }
    }
}

/* --- Campaign ------------------------------------------------------------------------- */

typedef struct cli_tally {
    uint64_t pass;
    uint64_t fail;
    uint64_t error;
} cli_tally;

/* The JUnit and Markdown files, written as the runs are: runs of one
 * variant are consecutive, so a variant's test cases (JUnit) wait in a
 * scratch file until its counts are known, and the failing runs
 * (Markdown) until the table of variants is complete. */
typedef struct cli_ci {
    cli_out junit;
    cli_out markdown;
    FILE *junit_cases;           /* the current variant's <testcase> elements */
    FILE *markdown_failing;      /* rows of the "Failing runs" table */
    FILE *markdown_faults;       /* rows of the "Faults not recovered in time" table */
    FILE *markdown_clients;      /* rows of the "What clients read" table */
    bool any_failing;
    bool any_late;
    bool any_clients;
    /* The current variant's reads: runs with readers, windows and the
     * longest window of each kind (empty, short, stale). */
    uint32_t client_runs;
    uint64_t client_windows[3];
    sim_time_ns client_max_ns[3];
    bool failed;                 /* a scratch file could not be read or written */
    uint32_t variant;            /* the variant being counted */
    uint32_t runs, pass, fail, error;
    double wall_s;               /* the variant's runs' wall-clock seconds */
    uint32_t never;              /* the variant's runs whose convergence is never */
    sim_time_ns convergence_max; /* the longest convergence among the others */
} cli_ci;

static void ci_end_variant(cli_ci *ci, const cli_campaign *c)
{
    if (ci->runs == 0) return;
    const cli_variant *v = &c->variants[ci->variant];
    const cli_scenario *s = &c->scenarios[v->scenario];
    if (ci->junit.f != NULL) {
        FILE *f = ci->junit.f;
        char point[1024];
        variant_point(v, point, sizeof point);
        fprintf(f, "  <testsuite name=\"");
        xml_escape(f, s->config.name);
        if (point[0] != '\0') {
            fputs(" [", f);
            xml_escape(f, point);
            fputc(']', f);
        }
        fprintf(f, "\" tests=\"%u\" failures=\"%u\" errors=\"%u\" time=\"%.3f\">\n", ci->runs, ci->fail,
                ci->error, ci->wall_s);
        if (!scratch_drain(ci->junit_cases, f)) ci->failed = true;
        fprintf(f, "  </testsuite>\n");
    }
    if (ci->markdown.f != NULL) {
        FILE *f = ci->markdown.f;
        fputs("| ", f);
        md_cell(f, s->config.name, false);
        if (v->args[0] != '\0') {
            fputc(' ', f);
            md_cell(f, v->args, false);
        }
        fprintf(f, " | %u | %u | %u | %u | ", ci->runs, ci->pass, ci->fail, ci->error);
        if (ci->never > 0) fprintf(f, "never (%u run%s) |\n", ci->never, ci->never == 1 ? "" : "s");
        else if (ci->error == ci->runs) fputs("- |\n", f);
        else fprintf(f, "%.3fs |\n", (double)ci->convergence_max / 1e9);
    }
    if (ci->markdown.f != NULL && ci->client_runs > 0) {
        FILE *f = ci->markdown_clients;
        fputs("| ", f);
        md_cell(f, s->config.name, false);
        if (v->args[0] != '\0') {
            fputc(' ', f);
            md_cell(f, v->args, false);
        }
        fprintf(f, " | %u", ci->client_runs);
        for (int k = 0; k < 3; k++) {
            fprintf(f, " | %" PRIu64 " | %.3fs", ci->client_windows[k], (double)ci->client_max_ns[k] / 1e9);
        }
        fputs(" |\n", f);
        ci->any_clients = true;
    }
    ci->client_runs = 0;
    memset(ci->client_windows, 0, sizeof ci->client_windows);
    memset(ci->client_max_ns, 0, sizeof ci->client_max_ns);
    ci->runs = ci->pass = ci->fail = ci->error = 0;
    ci->wall_s = 0.0;
    ci->never = 0;
    ci->convergence_max = 0;
}

typedef enum cli_outcome { CLI_PASS, CLI_FAIL, CLI_ERROR } cli_outcome;

/* The run's per-fault table as the test case's output, one line per fault. */
static void junit_faults(FILE *f, const run_result *r)
{
    if (r->row.faults_count == 0 && !r->has_reads) return;
    fputs("<system-out>", f);
    for (size_t i = 0; i < r->row.faults_count; i++) {
        char line[256];
        fault_line(r, i, line, sizeof line);
        xml_escape(f, line);
        fputc('\n', f);
    }
    if (r->has_reads) {   /* what the run's readers saw (obs_reads.h) */
        char line[256];
        client_line(r, line, sizeof line);
        xml_escape(f, line);
        fputc('\n', f);
    }
    fputs("</system-out>", f);
}

static void junit_property(FILE *f, const char *name, const char *value)
{
    fputs("<property name=\"", f);
    xml_escape(f, name);
    fputs("\" value=\"", f);
    xml_escape(f, value);
    fputs("\"/>", f);
}

/* One run as a test case: named after its seed and sweep point, with the
 * run's wall-clock time, its properties (seed, trace hash, convergence and
 * why it is never, events, the sweep parameters), every failed expectation
 * (one line each, the first one as the message) and the per-fault table. */
static void junit_case(cli_ci *ci, const cli_campaign *c, const cli_job *job, cli_outcome outcome,
                       const char *message, const char *repro)
{
    FILE *f = ci->junit_cases;
    const cli_variant *v = &c->variants[job->variant];
    const char *name = c->scenarios[v->scenario].config.name;
    char point[1024];
    variant_point(v, point, sizeof point);
    ci->wall_s += job->wall_s;
    fprintf(f, "    <testcase classname=\"distrosim.");
    xml_escape(f, name);
    fprintf(f, "\" name=\"seed %" PRIu64, job->seed);
    if (point[0] != '\0') {
        fputs(" [", f);
        xml_escape(f, point);
        fputc(']', f);
    }
    fprintf(f, "\" time=\"%.3f\">", job->wall_s);
    const run_result *r = job->status == SIM_OK ? &job->result : NULL;
    char text[64];
    fputs("<properties>", f);
    snprintf(text, sizeof text, "%" PRIu64, job->seed);
    junit_property(f, "seed", text);
    if (r != NULL) {
        snprintf(text, sizeof text, "%016" PRIx64, r->row.trace_hash);
        junit_property(f, "trace_hash", text);
        convergence_text(r, text, sizeof text);
        junit_property(f, "convergence", text);
        if (r->row.convergence_never != NULL) junit_property(f, "convergence_never", r->row.convergence_never);
        snprintf(text, sizeof text, "%" PRIu64, r->row.events);
        junit_property(f, "events", text);
    }
    for (uint32_t i = 0; i < v->params_count; i++) {
        char key[128];
        snprintf(key, sizeof key, "param %s", v->params[i].key);
        junit_property(f, key, v->params[i].value);
    }
    fputs("</properties>", f);
    if (outcome != CLI_PASS) {
        const char *element = outcome == CLI_FAIL ? "failure" : "error";
        fprintf(f, "<%s message=\"", element);
        xml_escape(f, message);
        fputs("\">", f);
        for (size_t i = 0; r != NULL && outcome == CLI_FAIL && i < r->row.expects_count; i++) {
            const rpt_expect *e = &r->row.expects[i];
            if (e->ok) continue;
            fputs("failed: ", f);
            xml_escape(f, e->name);
            fputs(": observed ", f);
            xml_escape(f, e->observed != NULL ? e->observed : "-");
            fputs(", bound ", f);
            xml_escape(f, e->bound != NULL ? e->bound : "-");
            fputc('\n', f);
        }
        if (repro != NULL) {
            fputs("repro: ", f);
            xml_escape(f, repro);
        }
        fprintf(f, "</%s>", element);
    }
    if (r != NULL) junit_faults(f, r);
    fprintf(f, "</testcase>\n");
}

/* Rows for the faults of one run whose recovery bound was not met; true
 * when there was one. */
static bool md_late_faults(FILE *f, const char *scenario, uint64_t seed, const run_result *r)
{
    bool any = false;
    for (size_t i = 0; i < r->row.faults_count; i++) {
        const run_recovery *rec = &r->recoveries[i];
        const rpt_fault *fl = &r->row.faults[i];
        if (rec->ok) continue;
        char end[32] = "never", recovery[32] = "never";
        if (fl->end_ns != SIM_TIME_NEVER) snprintf(end, sizeof end, "%.3fs", (double)fl->end_ns / 1e9);
        if (rec->recovery_ns != SIM_TIME_NEVER) snprintf(recovery, sizeof recovery, "%.3fs", (double)rec->recovery_ns / 1e9);
        fputs("| ", f);
        md_cell(f, scenario, false);
        fprintf(f, " | %" PRIu64 " | %d | ", seed, (int)fl->index);
        md_cell(f, fl->kind, false);
        fputs(" | ", f);
        md_cell(f, rec->nodes, false);
        fprintf(f, " | %.3fs | %s | %s | %.3fs | %u | %u |\n", (double)fl->start_ns / 1e9, end, recovery,
                (double)rec->bound.max_ns / 1e9, rec->lost, rec->zombie);
        any = true;
    }
    return any;
}

/* Adds one run, in run order.  `message` is the error or failure text;
 * `repro` may be NULL (a run that did not start has none). */
static void ci_add(cli_ci *ci, const cli_campaign *c, const cli_job *job, cli_outcome outcome, const char *message,
                   const char *repro)
{
    if (ci->junit.f == NULL && ci->markdown.f == NULL) return;
    if (ci->runs > 0 && ci->variant != job->variant) ci_end_variant(ci, c);
    ci->variant = job->variant;
    ci->runs++;
    if (outcome == CLI_PASS) ci->pass++;
    else if (outcome == CLI_FAIL) ci->fail++;
    else ci->error++;
    if (outcome != CLI_ERROR && job->status == SIM_OK) {   /* an error run has no convergence to speak of */
        sim_time_ns conv = job->result.row.convergence_ns;
        if (conv == SIM_TIME_NEVER) ci->never++;
        else if (conv > ci->convergence_max) ci->convergence_max = conv;
    }
    const char *name = c->scenarios[c->variants[job->variant].scenario].config.name;
    if (ci->junit.f != NULL) junit_case(ci, c, job, outcome, message, repro);
    if (ci->markdown.f != NULL && job->status == SIM_OK) {
        ci->any_late |= md_late_faults(ci->markdown_faults, name, job->seed, &job->result);
    }
    if (job->status == SIM_OK && job->result.has_reads) {
        ci->client_runs++;
        for (int k = 0; k < 3; k++) {
            ci->client_windows[k] += job->result.client_windows[k];
            if (job->result.client_window_max_ns[k] > ci->client_max_ns[k]) {
                ci->client_max_ns[k] = job->result.client_window_max_ns[k];
            }
        }
    }
    if (ci->markdown.f != NULL && outcome != CLI_PASS && repro != NULL) {
        FILE *f = ci->markdown_failing;
        fputs("| ", f);
        md_cell(f, name, false);
        fprintf(f, " | %" PRIu64 " | ", job->seed);
        md_cell(f, message, false);
        fputs(" | ", f);
        md_cell(f, repro, true);
        fputs(" |\n", f);
        ci->any_failing = true;
    }
}

/* Writes the rest of both files and renames them into place; `stopped_by`
 * names the signal that stopped the campaign (NULL: it ran to the end),
 * and the Markdown says how many runs did not run.  0, or 2 after a
 * message. */
static int ci_finish(cli_ci *ci, const cli_campaign *c, const char *cmd, const char *stopped_by, size_t done)
{
    ci_end_variant(ci, c);
    if (ci->markdown.f != NULL && stopped_by != NULL) {
        fprintf(ci->markdown.f, "\n**Interrupted by %s**: %zu of %zu runs done; %zu did not run.\n", stopped_by, done,
                c->job_count, c->job_count - done);
    }
    if (ci->junit.f != NULL) fprintf(ci->junit.f, "</testsuites>\n");
    if (ci->markdown.f != NULL && ci->any_failing) {
        fprintf(ci->markdown.f, "\n### Failing runs\n\n| scenario | seed | failure | repro |\n|---|---:|---|---|\n");
        if (!scratch_drain(ci->markdown_failing, ci->markdown.f)) ci->failed = true;
    }
    if (ci->markdown.f != NULL && ci->any_late) {
        fprintf(ci->markdown.f, "\n### Faults not recovered within their bound\n\n"
                                "| scenario | seed | fault | kind | node(s) | start | end | recovery | bound | lost | zombie |\n"
                                "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---:|\n");
        if (!scratch_drain(ci->markdown_faults, ci->markdown.f)) ci->failed = true;
    }
    if (ci->markdown.f != NULL && ci->any_clients) {
        fprintf(ci->markdown.f, "\n### What clients read\n\n"
                                "Windows in which list answers or subscribers' views were empty, short or "
                                "stale (reports/SCHEMA.md), over the runs with readers.\n\n"
                                "| scenario | runs | empty | longest | short | longest | stale | longest |\n"
                                "|---|---:|---:|---:|---:|---:|---:|---:|\n");
        if (!scratch_drain(ci->markdown_clients, ci->markdown.f)) ci->failed = true;
    }
    if (ci->failed) {
        fprintf(stderr, "distrosim %s: cannot write the scratch files of --junit or --markdown: %s\n", cmd,
                strerror(errno));
        out_abort(&ci->junit);
        out_abort(&ci->markdown);
        return 2;
    }
    int status = out_commit(&ci->junit, cmd);
    if (out_commit(&ci->markdown, cmd) != 0) status = 2;
    return status;
}

static void ci_close(cli_ci *ci)
{
    out_abort(&ci->junit);
    out_abort(&ci->markdown);
    if (ci->junit_cases != NULL) fclose(ci->junit_cases);
    if (ci->markdown_failing != NULL) fclose(ci->markdown_failing);
    if (ci->markdown_faults != NULL) fclose(ci->markdown_faults);
    if (ci->markdown_clients != NULL) fclose(ci->markdown_clients);
    ci->junit_cases = ci->markdown_failing = ci->markdown_faults = ci->markdown_clients = NULL;
}

/* Opens the files asked for (nothing when neither is); 0, or 2 after a
 * message. */
static int ci_open(cli_ci *ci, const char *junit, const char *markdown, const char *cmd)
{
    memset(ci, 0, sizeof *ci);
    ci->junit = (cli_out){ .path = junit, .flag = "--junit" };
    ci->markdown = (cli_out){ .path = markdown, .flag = "--markdown" };
    if (junit != NULL) {
        if (out_open(&ci->junit, cmd) != 0) return 2;
        ci->junit_cases = scratch_beside(junit);
        if (ci->junit_cases == NULL) {
            fprintf(stderr, "distrosim %s: --junit %s: cannot create a file beside it: %s\n", cmd, junit,
                    strerror(errno));
            return 2;
        }
        fprintf(ci->junit.f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"distrosim\">\n");
    }
    if (markdown != NULL) {
        if (out_open(&ci->markdown, cmd) != 0) return 2;
        ci->markdown_failing = scratch_beside(markdown);
        ci->markdown_faults = ci->markdown_failing != NULL ? scratch_beside(markdown) : NULL;
        ci->markdown_clients = ci->markdown_faults != NULL ? scratch_beside(markdown) : NULL;
        if (ci->markdown_failing == NULL || ci->markdown_faults == NULL || ci->markdown_clients == NULL) {
            fprintf(stderr, "distrosim %s: --markdown %s: cannot create a file beside it: %s\n", cmd, markdown,
                    strerror(errno));
            return 2;
        }
        fprintf(ci->markdown.f,
                "## distrosim check\n\n| scenario | runs | pass | fail | error | convergence max |\n"
                "|---|---:|---:|---:|---:|---:|\n");
    }
    return 0;
}

/* Moves the cursor (next_variant, next_seed, next_number) `steps` jobs on
 * in the whole campaign's job list, a variant's seed range at a time. */
static void cursor_skip(cli_campaign *c, uint64_t steps)
{
    c->next_number += steps;
    while (steps > 0 && c->next_variant < c->variant_count) {
        const cli_variant *v = &c->variants[c->next_variant];
        uint64_t left = v->seed_last - c->next_seed;     /* jobs of this variant after the cursor */
        if (steps <= left) {
            c->next_seed += steps;
            return;
        }
        steps -= left + 1;
        c->next_variant++;
        if (c->next_variant < c->variant_count) c->next_seed = c->variants[c->next_variant].seed_first;
    }
}

/* Takes the next run under the lock: its variant and seed, then moves the
 * cursor on to the shard's next job (cli_shard.h). */
static void take_job(cli_campaign *c, cli_job *job)
{
    job->index = c->next_job++;
    job->number = c->next_number;
    job->variant = c->next_variant;
    job->seed = c->random_seeds ? cli_random_seed(c->random_base, c->next_seed) : c->next_seed;
    job->done = false;
    cursor_skip(c, cli_shard_step(&c->shard));
}

static void *worker(void *arg)
{
    cli_campaign *c = arg;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        /* Room in the ring: run i may start once run i - window is written. */
        while (!c->stop && c->next_job < c->job_count && c->next_job - c->written >= c->window) {
            pthread_cond_wait(&c->cond, &c->lock);
        }
        if (c->stop || c->next_job >= c->job_count) break;
        cli_job *job = &c->slots[c->next_job % c->window];
        take_job(c, job);
        pthread_mutex_unlock(&c->lock);

        const cli_variant *v = &c->variants[job->variant];
        const cli_scenario *s = &c->scenarios[v->scenario];
        run_options opt = { .seed = job->seed, .scenario_path = s->path, .scenario_sha256 = s->sha256,
                            .campaign = c->campaign, .extra_args = v->args, .trace = c->filter,
                            .program = c->program };
        memset(&job->result, 0, sizeof job->result);
        struct timespec started;
        bool timed = clock_gettime(CLOCK_MONOTONIC, &started) == 0;
        job->drawn[0] = '\0';
        if (v->config.swarm_count == 0) {
            job->status = run_scenario(&v->config, &opt, &job->result, &job->err);
        } else {
            /* The seed draws its configuration first (scn_swarm.h); the run
             * records the drawn scenario as its effective one. */
            scn_config drawn;
            job->status = scn_swarm_draw(&v->config, job->seed, &drawn, job->drawn, &job->err);
            opt.swarm_drawn = job->drawn;
            if (job->status == SIM_OK) job->status = run_scenario(&drawn, &opt, &job->result, &job->err);
            scn_config_deinit(&drawn);
        }
        job->wall_s = timed ? seconds_since(&started) : 0.0;
        if (job->status == SIM_OK) {
            job->result.row.params = v->params;
            job->result.row.params_count = v->params_count;
            job->result.row.job = job->number;
        }

        pthread_mutex_lock(&c->lock);
        job->done = true;
        pthread_cond_broadcast(&c->cond);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* Prints one run; `store_error` is the message when its results could not
 * be written to the database (the run then counts as an error). */
static void print_run(const cli_campaign *c, const cli_job *job, bool quiet, const char *store_error)
{
    const run_result *r = &job->result;
    const cli_variant *v = &c->variants[job->variant];
    const cli_scenario *s = &c->scenarios[v->scenario];
    if (job->status != SIM_OK) {
        fprintf(stderr, "ERROR %s seed=%" PRIu64 ": %s: %s\n", s->config.name, job->seed, job->err.where,
                job->err.message);
        if (job->drawn[0] != '\0') fprintf(stderr, "  swarm: %s\n", job->drawn);
        return;
    }
    if (strcmp(r->verdict, "error") == 0 || store_error != NULL) {   /* stopped early, or not stored */
        printf("ERROR %s seed=%" PRIu64 "%s%s events=%" PRIu64 " trace=%016" PRIx64 "\n  error: %s\n  repro:  %s\n",
               s->config.name, job->seed, v->args[0] ? " " : "", v->args, r->row.events, r->row.trace_hash,
               store_error != NULL ? store_error : r->failure, r->repro);
        if (job->drawn[0] != '\0') printf("  swarm: %s\n", job->drawn);
        return;
    }
    bool pass = strcmp(r->verdict, "pass") == 0;
    if (quiet && pass) return;
    char converged[32];
    convergence_text(r, converged, sizeof converged);
    printf("%s %s seed=%" PRIu64 "%s%s convergence=%s events=%" PRIu64 " trace=%016" PRIx64 "\n",
           pass ? "PASS" : "FAIL", s->config.name, job->seed, v->args[0] ? " " : "", v->args, converged,
           r->row.events, r->row.trace_hash);
    if (job->drawn[0] != '\0') printf("  swarm: %s\n", job->drawn);
    if (r->row.convergence_never != NULL) printf("  convergence never: %s\n", r->row.convergence_never);
    if (!pass) {
        printf("  failed: %s\n  repro:  %s\n", r->failure, r->repro);
    }
    if (r->has_reads && (!pass || c->fault_lines)) {
        char line[256];
        client_line(r, line, sizeof line);
        printf("  %s\n", line);
    }
    if (!pass || c->fault_lines) {   /* check and sweep: only under failing runs, to keep CI logs short */
        for (size_t i = 0; i < r->row.faults_count; i++) {
            char line[256];
            fault_line(r, i, line, sizeof line);
            printf("  %s\n", line);
        }
    }
}

/* Writes out one finished run: database, then output, tally and CI files.
 * Returns the run's exit status (0, 1 or 2). */
static int write_job(cli_campaign *c, const cli_args *a, rpt_db *db, cli_ci *ci, cli_job *job, cli_tally *tally)
{
    char store_error[sizeof job->err.where + sizeof job->err.message + 64];
    bool stored = true;
    if (db != NULL && job->status == SIM_OK) {
        sim_error err;
        int64_t id = 0;
        job->result.row.campaign_id = c->campaign_id;
        if (rpt_db_write_run(db, &job->result.row, &id, &err) != SIM_OK) {
            snprintf(store_error, sizeof store_error, "results not stored in the database: %s: %s", err.where,
                     err.message);
            stored = false;
        }
    }
    print_run(c, job, a->quiet, stored ? NULL : store_error);
    const run_result *r = &job->result;
    if (job->status == SIM_OK) {
        c->any_hash = true;
        c->last_trace_hash = r->row.trace_hash;
    }
    if (job->status != SIM_OK) {
        tally->error++;
        ci_add(ci, c, job, CLI_ERROR, job->err.message, NULL);
        return 2;
    }
    if (!stored) {
        tally->error++;
        ci_add(ci, c, job, CLI_ERROR, store_error, r->repro);
        return 2;
    }
    if (strcmp(r->verdict, "error") == 0) {
        tally->error++;
        ci_add(ci, c, job, CLI_ERROR, r->failure, r->repro);
        return 2;
    }
    if (strcmp(r->verdict, "pass") == 0) {
        tally->pass++;
        ci_add(ci, c, job, CLI_PASS, "", r->repro);
        return 0;
    }
    tally->fail++;
    ci_add(ci, c, job, CLI_FAIL, r->failure, r->repro);
    return 1;
}

/* --- Stop signals and progress ------------------------------------------------------ */

/* The signal (SIGINT, SIGTERM) that asked the campaign to stop; 0 while
 * none did.  Written by the handler only, read by the main thread. */
static volatile sig_atomic_t cli_stop_signal;

static void on_stop_signal(int sig)
{
    cli_stop_signal = sig;           /* a store to a sig_atomic_t: async-signal-safe */
}

typedef struct cli_signals {
    struct sigaction old[2];
    bool installed[2];
} cli_signals;

static const int cli_stop_signals[2] = { SIGINT, SIGTERM };

/* Catches SIGINT and SIGTERM for the campaign, unless one was ignored when
 * distrosim started (nohup, a background job of a shell without job
 * control): an ignored signal stays ignored.  SA_RESETHAND: a second
 * signal of the same kind takes its default action and ends the process at
 * once (the database still holds whole runs: one transaction per run). */
static void signals_install(cli_signals *s)
{
    memset(s, 0, sizeof *s);
    cli_stop_signal = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = (int)(SA_RESTART | SA_RESETHAND);   /* SA_RESETHAND is 0x80000000 on Linux */
    for (int k = 0; k < 2; k++) {
        if (sigaction(cli_stop_signals[k], NULL, &s->old[k]) != 0 || s->old[k].sa_handler == SIG_IGN) continue;
        s->installed[k] = sigaction(cli_stop_signals[k], &sa, NULL) == 0;
    }
}

static void signals_restore(const cli_signals *s)
{
    for (int k = 0; k < 2; k++) {
        if (s->installed[k]) (void)sigaction(cli_stop_signals[k], &s->old[k], NULL);
    }
}

static const char *signal_name(int sig)
{
    return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

/* Wall-clock time in ms since the epoch, for the campaign record only. */
static int64_t wall_ms(void)
{
    struct timespec t;
    if (clock_gettime(CLOCK_REALTIME, &t) != 0) return 0;
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    if (clock_gettime(CLOCK_MONOTONIC, &now) != 0) return 0.0;
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Progress on standard error (never standard output, which holds the
 * results).  Main thread only. */
typedef struct cli_progress {
    bool on;                     /* not --quiet, not tracing, more than one run */
    bool tty;                    /* rewrite one line in place; else a line now and then */
    const char *cmd;
    struct timespec start;       /* CLOCK_MONOTONIC */
    double next_s;               /* seconds since start when the next line is due */
    int shown;                   /* width of the line on the terminal; 0 = none */
    size_t total;
    uint64_t virtual_ns;         /* simulated time of the runs written */
    const cli_tally *tally;
} cli_progress;

static void fmt_wall(double s, char *buf, size_t size)
{
    uint64_t t = s < 0 ? 0 : (uint64_t)(s + 0.5);
    if (t < 60) snprintf(buf, size, "%" PRIu64 "s", t);
    else if (t < 3600) snprintf(buf, size, "%" PRIu64 "m%02" PRIu64 "s", t / 60, t % 60);
    else snprintf(buf, size, "%" PRIu64 "h%02" PRIu64 "m", t / 3600, t / 60 % 60);
}

/* Shows the count done, the virtual time simulated and an estimate of the
 * time left, if a line is due (`force`: now). */
static void progress_show(cli_progress *p, bool force)
{
    if (!p->on) return;
    double elapsed = seconds_since(&p->start);
    if (!force && elapsed < p->next_s) return;
    p->next_s = elapsed + (p->tty ? (double)CLI_TICK_MS / 1000.0 : CLI_PROGRESS_PLAIN_S);
    size_t done = (size_t)(p->tally->pass + p->tally->fail + p->tally->error);
    char spent[32], left[32] = "?";
    fmt_wall(elapsed, spent, sizeof spent);
    if (done > 0) fmt_wall(elapsed / (double)done * (double)(p->total - done), left, sizeof left);
    char line[256];
    int n = snprintf(line, sizeof line,
                     "%zu/%zu runs, %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64
                     " errors; %.1fs simulated; %s elapsed, about %s left",
                     done, p->total, p->tally->pass, p->tally->fail, p->tally->error, (double)p->virtual_ns / 1e9,
                     spent, left);
    if (n < 0) return;
    if (p->tty) {
        fprintf(stderr, "\r%s%*s", line, p->shown > n ? p->shown - n : 0, "");
        p->shown = n;
    } else {
        fprintf(stderr, "distrosim %s: %s\n", p->cmd, line);
    }
}

/* Takes the terminal line away before a result is printed. */
static void progress_clear(cli_progress *p)
{
    if (!p->tty || p->shown == 0) return;
    fprintf(stderr, "\r%*s\r", p->shown, "");
    p->shown = 0;
}

/* Waits until run i is done, looking every CLI_TICK_MS for a stop signal
 * (then no new run starts; the runs already handed out finish) and showing
 * progress meanwhile.  False when the campaign stopped before run i
 * started. */
static bool wait_for_job(cli_campaign *c, const cli_job *job, size_t i, cli_progress *pg)
{
    pthread_mutex_lock(&c->lock);
    for (;;) {
        if (cli_stop_signal != 0 && !c->stop) {
            c->stop = true;
            pthread_cond_broadcast(&c->cond);
        }
        if (!c->stop && c->budget_s > 0 && seconds_since(&pg->start) >= c->budget_s) {
            c->stop = true;              /* --budget: the runs handed out finish, no new one starts */
            c->stopped_why = "the --budget was spent";
            pthread_cond_broadcast(&c->cond);
        }
        if (job->done && job->index == i) break;
        if (c->stop && i >= c->next_job) break;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += (long)CLI_TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        (void)pthread_cond_timedwait(&c->cond, &c->lock, &until);   /* a timeout is the point */
        pthread_mutex_unlock(&c->lock);
        progress_show(pg, false);
        pthread_mutex_lock(&c->lock);
    }
    bool ready = job->done && job->index == i;
    pthread_mutex_unlock(&c->lock);
    return ready;
}

/* Runs every job; writes and prints results in job order. */
static int run_campaign(cli_campaign *c, const cli_args *a, rpt_db *db, cli_ci *ci, cli_tally *tally)
{
    uint32_t threads = a->jobs > c->job_count ? (uint32_t)c->job_count : a->jobs;
    if (threads == 0) threads = 1;
    /* Two slots per thread keep every worker busy while the main thread
     * writes; one when tracing, so a run's trace lines never interleave with
     * the previous run's result. */
    c->window = c->filter.out != NULL ? 1 : 2 * (size_t)threads;
    c->slots = sim_calloc(c->window, sizeof *c->slots);
    pthread_t *tids = sim_calloc(threads, sizeof *tids);
    if (c->slots == NULL || tids == NULL) {
        free(tids);
        return cli_nomem("starting the worker threads");
    }
    c->next_job = 0;
    c->next_variant = 0;
    c->next_seed = c->variants[0].seed_first;
    c->next_number = 1;
    cursor_skip(c, cli_shard_first(&c->shard) - 1);
    c->written = 0;
    c->stop = false;
    int rc = pthread_mutex_init(&c->lock, NULL);
    if (rc == 0) {
        rc = pthread_cond_init(&c->cond, NULL);
        if (rc != 0) pthread_mutex_destroy(&c->lock);
    }
    if (rc != 0) {
        fprintf(stderr, "distrosim: cannot create the campaign's lock: %s\n", strerror(rc));
        free(tids);
        return 2;
    }
    for (uint32_t t = 0; t < threads; t++) {
        rc = pthread_create(&tids[t], NULL, worker, c);
        if (rc == 0) continue;
        /* Stop handing out jobs, let the started workers finish theirs, and
         * give up: waiting for runs no thread will take would hang. */
        fprintf(stderr, "distrosim: cannot start worker thread %u of %u: %s\n", t + 1, threads, strerror(rc));
        pthread_mutex_lock(&c->lock);
        c->stop = true;
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->lock);
        for (uint32_t u = 0; u < t; u++) pthread_join(tids[u], NULL);
        for (size_t i = 0; i < c->window; i++) {
            if (c->slots[i].done) run_result_deinit(&c->slots[i].result);
        }
        free(tids);
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->cond);
        return 2;
    }
    cli_progress pg = { .on = !a->quiet && !a->trace && c->job_count > 1, .tty = isatty(STDERR_FILENO) != 0,
                        .cmd = c->campaign, .total = c->job_count, .tally = tally };
    if (clock_gettime(CLOCK_MONOTONIC, &pg.start) != 0) {
        pg.on = false;
        c->budget_s = 0;                 /* no clock, no budget to measure */
    }
    pg.next_s = pg.tty ? 0.0 : CLI_PROGRESS_PLAIN_S;
    int status = 0;
    for (size_t i = 0; i < c->job_count; i++) {
        cli_job *job = &c->slots[i % c->window];
        if (!wait_for_job(c, job, i, &pg)) break;        /* stopped by a signal: run i never started */
        progress_clear(&pg);
        int st = write_job(c, a, db, ci, job, tally);
        if (st > status) status = st;
        if (st != 0 && c->until_fail) {
            pthread_mutex_lock(&c->lock);
            if (!c->stop) c->stopped_why = "a run did not pass";   /* the runs in flight still finish */
            c->stop = true;
            pthread_cond_broadcast(&c->cond);
            pthread_mutex_unlock(&c->lock);
        }
        if (job->status == SIM_OK) pg.virtual_ns += job->result.row.end_ns;
        progress_show(&pg, false);
        run_result_deinit(&job->result);
        memset(&job->result, 0, sizeof job->result);
        pthread_mutex_lock(&c->lock);
        job->done = false;
        c->written = i + 1;
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->lock);
    }
    progress_clear(&pg);
    for (uint32_t t = 0; t < threads; t++) pthread_join(tids[t], NULL);
    free(tids);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    return status;
}

/* --- Commands ------------------------------------------------------------------------------ */

static void campaign_free(cli_campaign *c)
{
    for (uint32_t i = 0; i < c->scenario_count; i++) {
        free(c->scenarios[i].path);
        scn_config_deinit(&c->scenarios[i].config);
    }
    for (uint32_t i = 0; i < c->variant_count; i++) scn_config_deinit(&c->variants[i].config);
    free(c->scenarios);
    free(c->variants);
    free(c->slots);
}

/* Refuses an output (--junit, --markdown, --perfetto) that is one of the
 * inputs (a scenario file, the database) or another output: writing it
 * would destroy what is read.  0, or 2 after a message. */
static int check_outputs(const cli_args *a, char *const *paths, uint32_t count, const char *cmd)
{
    const char *outs[3] = { a->junit, a->markdown, a->perfetto };
    const char *flags[3] = { "--junit", "--markdown", "--perfetto" };
    for (int o = 0; o < 3; o++) {
        if (outs[o] == NULL) continue;
        const char *clash = NULL;
        for (uint32_t i = 0; i < count && clash == NULL; i++) {
            if (same_file(outs[o], paths[i])) clash = "a scenario file";
        }
        if (clash == NULL && a->db != NULL && same_file(outs[o], a->db)) clash = "the database (--db)";
        for (int p = 0; p < o && clash == NULL; p++) {
            if (outs[p] != NULL && same_file(outs[o], outs[p])) clash = flags[p];
        }
        if (clash != NULL) {
            fprintf(stderr, "distrosim %s: %s %s is %s: refusing to overwrite it\n", cmd, flags[o], outs[o], clash);
            return 2;
        }
    }
    return 0;
}

/* Appends " --set KEY=VALUE" (no space first when *used is 0) to `args`,
 * with KEY=VALUE as one shell word (rpt_esc_shell): the runner pastes
 * `args` into repro commands, which must rerun exactly this run.  False
 * (with a message) when it does not fit. */
static bool set_arg_append(char *args, size_t size, size_t *used, const char *key, const char *value,
                           const char *cmd)
{
    char raw[2 * 96];                                /* key and value: at most 95 bytes each */
    snprintf(raw, sizeof raw, "%s=%s", key, value);
    const char *flag = *used > 0 ? " --set " : "--set ";
    rpt_esc_mem m = { .buf = args, .size = size, .len = *used };
    rpt_esc_to_mem(&m, flag, strlen(flag));
    rpt_esc_shell(raw, rpt_esc_to_mem, &m);
    if (m.len >= size) {
        args[*used] = '\0';
        fprintf(stderr, "distrosim %s: the --set options together are longer than the limit of %zu bytes\n", cmd,
                size - 1);
        return false;
    }
    *used = m.len;
    return true;
}

/* Splits "key=v1,v2" into the key and its values (`max` 1: the first only;
 * the caller then takes the whole text as one value).  0 (with a message)
 * when the key or a value is longer than its buffer, or when a sweep lists
 * more than `max` values. */
static uint32_t split_set(const char *set, char *key, size_t key_size, char values[][96], uint32_t max,
                          const char *cmd)
{
    const char *eq = strchr(set, '=');
    if (!cli_fits(snprintf(key, key_size, "%.*s", (int)(eq - set), set), key_size, cmd, "a --set key")) return 0;
    uint32_t n = 0;
    const char *p = eq + 1;
    while (n < max) {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (len > INT32_MAX || !cli_fits(snprintf(values[n++], 96, "%.*s", (int)len, p), 96, cmd, "a --set value")) {
            return 0;
        }
        if (comma == NULL) break;
        p = comma + 1;
        if (n == max && max > 1) {
            fprintf(stderr, "distrosim %s: --set %.*s: more than the limit of %u values\n", cmd, (int)(eq - set), set,
                    max);
            return 0;
        }
    }
    return n;
}

static int build_campaign(cli_campaign *c, const cli_args *a, const char *cmd, bool sweep)
{
    char **paths = NULL;
    uint32_t count = 0;
    if (expand_paths(a, &paths, &count) != 0) return 2;
    if (check_outputs(a, paths, count, cmd) != 0) {
        paths_free(paths, count);
        return 2;
    }
    if (count == 0) {
        fprintf(stderr, "distrosim %s: no scenario files found\n", cmd);
        free(paths);
        return 2;
    }
    c->scenarios = sim_calloc(count, sizeof *c->scenarios);
    if (c->scenarios == NULL) {
        paths_free(paths, count);
        return cli_nomem("loading the scenarios");
    }
    int status = 0;
    for (uint32_t i = 0; i < count; i++) {
        cli_scenario *s = &c->scenarios[c->scenario_count];
        sim_error err;
        s->path = paths[i];
        if (scn_load_file(paths[i], &s->config, &err) != SIM_OK) {
            fprintf(stderr, "%s: %s\n", err.where, err.message);
            free(s->path);
            status = 2;
            continue;
        }
        if (!tags_select(&s->config, a)) {
            scn_config_deinit(&s->config);
            free(s->path);
            continue;
        }
        sha256_file_text(paths[i], s->sha256);
        c->scenario_count++;
    }
    free(paths);
    if (status != 0) return status;
    if (c->scenario_count == 0) {
        fprintf(stderr, "distrosim %s: no scenario has the tag%s", cmd, a->tag_count > 1 ? "s" : "");
        for (uint32_t t = 0; t < a->tag_count; t++) fprintf(stderr, "%s%s", t > 0 ? ", " : " ", a->tags[t]);
        fprintf(stderr, " (%u scenario files read)\n", count);
        return 2;
    }
    /* Parameter combinations: the cross product of every --set's values
     * (plain run/check: one value each, applied to every scenario). */
    uint32_t nvalues[SETS_MAX];
    char keys[SETS_MAX][96];
    char (*values)[SWEEP_VALUES_MAX][96] = sim_calloc(SETS_MAX, sizeof *values);
    if (values == NULL) return cli_nomem("reading the --set values");
    uint32_t combos = 1;
    for (uint32_t s = 0; s < a->set_count; s++) {
        nvalues[s] = split_set(a->sets[s], keys[s], sizeof keys[s], values[s], sweep ? SWEEP_VALUES_MAX : 1, cmd);
        if (nvalues[s] != 0 && !sweep &&
            !cli_fits(snprintf(values[s][0], 96, "%s", strchr(a->sets[s], '=') + 1), 96, cmd, "a --set value")) {
            nvalues[s] = 0;
        }
        if (nvalues[s] == 0) {
            free(values);
            return 2;
        }
        combos *= nvalues[s];
        if (combos > 10000) {
            fprintf(stderr, "distrosim %s: more than 10000 parameter combinations\n", cmd);
            free(values);
            return 2;
        }
    }
    /* Every (scenario, combination) is built before the first run (about
     * 7 KB each): bound their number, not only the combinations per
     * scenario. */
    if (combos > 1 && (uint64_t)c->scenario_count * combos > 10000) {
        fprintf(stderr,
                "distrosim %s: %u scenarios x %u parameter combinations is more than the limit of 10000\n",
                cmd, c->scenario_count, combos);
        free(values);
        return 2;
    }
    c->variants = sim_calloc((size_t)c->scenario_count * combos, sizeof *c->variants);
    if (c->variants == NULL) {
        free(values);
        return cli_nomem("building the parameter combinations");
    }
    for (uint32_t s = 0; s < c->scenario_count && status == 0; s++) {
        for (uint32_t k = 0; k < combos && status == 0; k++) {
            cli_variant *v = &c->variants[c->variant_count];
            v->scenario = s;
            sim_error err;
            if (scn_config_copy(&v->config, &c->scenarios[s].config, &err) != SIM_OK) {
                fprintf(stderr, "distrosim %s: %s\n", cmd, err.message);
                status = 2;
                break;
            }
            c->variant_count++;
            uint32_t rest = k;
            size_t used = 0;
            for (uint32_t p = 0; p < a->set_count; p++) {
                uint32_t which = rest % nvalues[p];
                rest /= nvalues[p];
                const char *value = values[p][which];
                if (scn_config_set(&v->config, keys[p], value, &err) != SIM_OK) {
                    fprintf(stderr, "%s: --set %s=%s: %s\n", c->scenarios[s].path, keys[p], value, err.message);
                    status = 2;
                    break;
                }
                snprintf(v->keys[p], sizeof v->keys[p], "%s", keys[p]);       /* same size as keys[p] */
                snprintf(v->values[p], sizeof v->values[p], "%s", value);     /* same size as values[p][] */
                v->params[p] = (rpt_param){ .key = v->keys[p], .value = v->values[p] };
                v->params_count++;
                if (!set_arg_append(v->args, sizeof v->args, &used, keys[p], value, cmd)) {
                    status = 2;
                    break;
                }
            }
        }
    }
    free(values);
    if (status != 0) return status;
    c->random_seeds = a->random_seeds;
    c->random_base = a->random_base;
    /* The seeds of each variant; runs are numbered variant by variant. */
    for (uint32_t v = 0; v < c->variant_count; v++) {
        cli_variant *var = &c->variants[v];
        if (a->seeds_given) {
            var->seed_first = a->seed_first;
            var->seed_last = a->seed_last;
        } else {
            bool many = strcmp(cmd, "check") == 0 || strcmp(cmd, "sweep") == 0;
            var->seed_first = many ? 1 : c->scenarios[var->scenario].config.seed;
            var->seed_last = many ? 20 : var->seed_first;
        }
        uint64_t n = var->seed_last - var->seed_first + 1;   /* at most SEEDS_MAX */
        if (c->job_count > SIZE_MAX - n) {
            fprintf(stderr, "distrosim %s: more runs than this machine can count\n", cmd);
            return 2;
        }
        c->job_count += (size_t)n;
    }
    c->all_jobs = c->job_count;
    c->shard = a->shard;
    c->job_count = (size_t)cli_shard_jobs(&c->shard, c->all_jobs);
    return 0;
}

/* The identity of the whole job list, the same in every shard of one
 * campaign: SHA-256 over each (scenario path and text, --set values, seed
 * range) in run order.  `merge` puts runs of the same plan back in job
 * order. */
static void campaign_plan(const cli_campaign *c, char out[65])
{
    SHA2_CTX ctx;
    SHA256Init(&ctx);
    static const char tag[] = "distrosim plan 1";
    SHA256Update(&ctx, (const uint8_t *)tag, sizeof tag);
    for (uint32_t i = 0; i < c->variant_count; i++) {
        const cli_variant *v = &c->variants[i];
        const cli_scenario *s = &c->scenarios[v->scenario];
        char seeds[64];
        if (c->random_seeds) {   /* the list random:N@BASE names: another base is another campaign */
            snprintf(seeds, sizeof seeds, "random:%" PRIu64 "@%" PRIu64, v->seed_last + 1, c->random_base);
        } else {
            snprintf(seeds, sizeof seeds, "%" PRIu64 "-%" PRIu64, v->seed_first, v->seed_last);   /* at most 41 bytes */
        }
        const char *parts[4] = { s->path, s->sha256, v->args, seeds };
        for (int p = 0; p < 4; p++) {
            SHA256Update(&ctx, (const uint8_t *)parts[p], strlen(parts[p]) + 1);   /* with its NUL */
        }
    }
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256Final(digest, &ctx);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* The command line as POSIX shell words (rpt_esc_shell), for the campaign
 * record.  NULL when out of memory; the caller frees it. */
static char *command_line_text(const char *program, const char *cmd, int argc, char **argv)
{
    rpt_esc_mem m = { .buf = NULL, .size = 0, .len = 0 };
    for (int pass = 0; pass < 2; pass++) {
        m.len = 0;
        rpt_esc_shell(program, rpt_esc_to_mem, &m);
        rpt_esc_to_mem(&m, " ", 1);
        rpt_esc_to_mem(&m, cmd, strlen(cmd));
        for (int i = 0; i < argc; i++) {
            rpt_esc_to_mem(&m, " ", 1);
            rpt_esc_shell(argv[i], rpt_esc_to_mem, &m);
        }
        if (pass == 0) {
            m.size = m.len + 1;
            m.buf = sim_malloc(m.size);
            if (m.buf == NULL) return NULL;
        }
    }
    return m.buf;
}

/* Records the campaign in the database (table campaigns) before its first
 * run; its runs point at the record.  0, or 2 after a message. */
static int campaign_record_begin(cli_campaign *c, rpt_db *db, const char *program, const char *cmd, int argc,
                                 char **argv)
{
    char *line = command_line_text(program, cmd, argc, argv);
    if (line == NULL) return cli_nomem("recording the command line");
    rpt_campaign rec = { .command_line = line, .build = run_build_id(), .started_unix_ms = wall_ms(),
                         .runs_planned = c->job_count, .shard_index = c->shard.index,
                         .shard_count = c->shard.count, .plan = c->plan };
    sim_error err;
    sim_status st = rpt_db_campaign_begin(db, &rec, &c->campaign_id, &err);
    free(line);
    if (st != SIM_OK) {
        fprintf(stderr, "distrosim %s: %s: %s\n", cmd, err.where, err.message);
        return 2;
    }
    return 0;
}

/* Completes the campaign record: end time, how it ended, the counts.  0,
 * or 2 after a message. */
static int campaign_record_end(const cli_campaign *c, rpt_db *db, const char *cmd, const cli_tally *tally,
                               const char *stopped_by)
{
    rpt_campaign_end end = { .ended_unix_ms = wall_ms(), .signal = stopped_by,
                             .runs_done = tally->pass + tally->fail + tally->error, .passed = tally->pass,
                             .failed = tally->fail, .errors = tally->error };
    sim_error err;
    if (rpt_db_campaign_end(db, c->campaign_id, &end, &err) != SIM_OK) {
        fprintf(stderr, "distrosim %s: %s: %s\n", cmd, err.where, err.message);
        return 2;
    }
    return 0;
}

static int campaign_main(const char *program, int argc, char **argv, const char *cmd)
{
    cli_args a;
    int st = parse_args(argc, argv, cmd, &a);
    if (st != 0) return st == 1 ? 0 : 2;
    bool sweep = strcmp(cmd, "sweep") == 0;
    if (sweep && a.set_count == 0) {
        fprintf(stderr, "distrosim sweep: give at least one --set KEY=V1,V2,...\n");
        return 2;
    }
    if (strcmp(cmd, "replay") == 0 && (!a.seeds_given || a.seed_first != a.seed_last || a.path_count != 1)) {
        fprintf(stderr, "distrosim replay: give one SCENARIO and --seed N\n");
        return 2;
    }
    cli_campaign c;
    memset(&c, 0, sizeof c);
    c.program = program;
    c.fault_lines = strcmp(cmd, "run") == 0 || strcmp(cmd, "replay") == 0;
    char label[256];
    int used = snprintf(label, sizeof label, "%s %s%s", cmd, a.paths[0], a.path_count > 1 ? " ..." : "");
    bool fits = cli_fits(used, sizeof label, cmd, "the campaign label (command and first path)");
    for (uint32_t t = 0; t < a.tag_count && fits; t++) {
        int n = snprintf(label + used, sizeof label - (size_t)used, " --tag %s", a.tags[t]);
        fits = cli_fits(n, sizeof label - (size_t)used, cmd, "the campaign label (command, first path and tags)");
        used += fits ? n : 0;
    }
    if (!fits) return 2;
    c.campaign = label;   /* "check scenarios --tag ci" */
    if (a.trace) {
        c.filter = (run_trace_filter){ .out = stdout, .node = a.trace_node, .type = a.trace_type,
                                       .from_ns = a.trace_from, .to_ns = a.trace_to };
        a.jobs = 1;
    }
    if (a.tag_count > 0 && strcmp(cmd, "replay") == 0) {
        fprintf(stderr, "distrosim replay: --tag is an option of run, check and sweep\n");
        return 2;
    }
    if (a.shard.count > 0 && strcmp(cmd, "replay") == 0) {
        fprintf(stderr, "distrosim replay: --shard is an option of run, check and sweep\n");
        return 2;
    }
    if (a.perfetto != NULL && strcmp(cmd, "replay") != 0) {
        fprintf(stderr, "distrosim %s: --perfetto is an option of replay\n", cmd);
        return 2;
    }
    if (a.shard.count > 0 && ((a.random_seeds && !a.random_base_given) || (a.until_fail && !a.seeds_given))) {
        /* Each shard would draw a base of its own: the shards would not be
         * pieces of one campaign. */
        fprintf(stderr, "distrosim %s: --shard with random seeds needs --seeds random:N@BASE, the same BASE in "
                        "every shard\n", cmd);
        return 2;
    }
    if ((a.until_fail || a.budget_ns > 0) && strcmp(cmd, "replay") == 0) {
        fprintf(stderr, "distrosim replay: --until-fail and --budget are options of run, check and sweep\n");
        return 2;
    }
    if (a.until_fail && !a.seeds_given) {   /* keep drawing: as many fresh seeds as a campaign may have */
        a.random_seeds = true;
        a.random_base = cli_random_base();
        a.seed_first = 0;
        a.seed_last = SEEDS_MAX - 1;
        a.seeds_given = true;
    }
    c.until_fail = a.until_fail;
    c.budget_s = (double)a.budget_ns / 1e9;
    if (a.random_seeds) {
        /* Printed so the list can be drawn again: each run's line names
         * its seed, and random:N@BASE gives the same N seeds. */
        printf("%s: seeds random:%" PRIu64 "@%" PRIu64 "\n", cmd, a.seed_last + 1, a.random_base);
    }
    int status = build_campaign(&c, &a, cmd, sweep);
    if (status == 0) campaign_plan(&c, c.plan);
    if (status == 0 && c.shard.count > 0 && !a.quiet) {
        fprintf(stderr, "distrosim %s: shard %" PRIu64 "/%" PRIu64 ": %zu of the campaign's %" PRIu64 " runs\n", cmd,
                c.shard.index, c.shard.count, c.job_count, c.all_jobs);
    }
    cli_out perfetto_out = { .path = a.perfetto, .flag = "--perfetto" };
    cli_perfetto *perfetto = NULL;
    if (status == 0 && a.perfetto != NULL) {
        /* The nodes of the run replayed: a swarm scenario's are those its
         * seed draws (the worker draws the same configuration). */
        const scn_config *cfg = &c.variants[0].config;
        scn_config drawn;
        memset(&drawn, 0, sizeof drawn);
        sim_error derr;
        if (cfg->swarm_count > 0) {
            if (scn_swarm_draw(cfg, a.seed_first, &drawn, NULL, &derr) != SIM_OK) {
                fprintf(stderr, "%s: %s: %s\n", c.scenarios[0].path, derr.where, derr.message);
                status = 2;
            }
            cfg = &drawn;
        }
        const char *names[SCN_NODES_MAX];
        for (uint32_t i = 0; i < cfg->cluster.nodes; i++) names[i] = cfg->cluster.addresses[i];
        if (status == 0) status = out_open(&perfetto_out, cmd);
        perfetto = status == 0 ? cli_perfetto_open(perfetto_out.f, cfg->cluster.nodes, names) : NULL;
        scn_config_deinit(&drawn);
        if (status == 0 && perfetto == NULL) {
            fprintf(stderr, "distrosim replay: cannot write %s: %s\n", a.perfetto, strerror(errno));
            status = 2;
        } else if (status == 0) {
            c.filter.hook = cli_perfetto_event;
            c.filter.hook_ctx = perfetto;
            c.filter.note = cli_perfetto_note;
            c.filter.note_ctx = perfetto;
            a.jobs = 1;
        }
    }
    cli_ci ci;
    if (status == 0) status = ci_open(&ci, a.junit, a.markdown, cmd);
    else memset(&ci, 0, sizeof ci);
    rpt_db *db = NULL;
    if (status == 0 && a.db != NULL) {
        sim_error err;
        if (rpt_db_open(a.db, &db, &err) != SIM_OK) {
            fprintf(stderr, "distrosim %s: %s: %s\n", cmd, err.where, err.message);
            status = 2;
        }
    }
    if (status == 0 && db != NULL) status = campaign_record_begin(&c, db, program, cmd, argc, argv);
    cli_tally tally = { 0 };
    bool ran = status == 0;
    int stop_signal = 0;
    if (ran) {
        cli_signals signals;
        signals_install(&signals);
        status = run_campaign(&c, &a, db, &ci, &tally);
        stop_signal = cli_stop_signal;
        size_t done = (size_t)(tally.pass + tally.fail + tally.error);
        const char *stopped_by = stop_signal != 0 ? signal_name(stop_signal) : NULL;
        if (stopped_by != NULL) {
            printf("%s: interrupted by %s: %zu of %zu runs done, %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64
                   " errors; %zu runs did not run\n",
                   cmd, stopped_by, done, c.job_count, tally.pass, tally.fail, tally.error, c.job_count - done);
        } else if (c.stopped_why != NULL) {
            printf("%s: stopped because %s: %zu runs, %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " errors\n",
                   cmd, c.stopped_why, done, tally.pass, tally.fail, tally.error);
        } else if (c.job_count > 1 || strcmp(cmd, "check") == 0) {
            printf("%s: %zu runs, %" PRIu64 " passed, %" PRIu64 " failed, %" PRIu64 " errors\n", cmd, c.job_count,
                   tally.pass, tally.fail, tally.error);
        }
        if (ci_finish(&ci, &c, cmd, stopped_by, done) != 0) status = 2;
        if (db != NULL && campaign_record_end(&c, db, cmd, &tally, stopped_by) != 0) status = 2;
        signals_restore(&signals);
    }
    ci_close(&ci);
    if (perfetto != NULL) {
        if (c.any_hash) cli_perfetto_set_trace_hash(perfetto, c.last_trace_hash);
        bool ok = cli_perfetto_close(perfetto) == 0;
        if (!ok) {
            fprintf(stderr, "distrosim replay: cannot write %s\n", a.perfetto);
            status = 2;
        }
        if (ok && ran && out_commit(&perfetto_out, cmd) != 0) status = 2;
    }
    out_abort(&perfetto_out);                 /* a no-op once committed */
    rpt_db_close(db);
    campaign_free(&c);
    /* Every line of output is part of the result: a write error on
     * standard output (a full disk, a closed pipe) is an error too. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "distrosim %s: cannot write to standard output\n", cmd);
        status = 2;
    }
    /* Stopped by a signal: the shell's convention, 128 + its number. */
    if (stop_signal != 0) status = 128 + stop_signal;
    return status;
}

int cli_run_main(const char *program, int argc, char **argv) { return campaign_main(program, argc, argv, "run"); }
int cli_check_main(const char *program, int argc, char **argv) { return campaign_main(program, argc, argv, "check"); }
int cli_replay_main(const char *program, int argc, char **argv) { return campaign_main(program, argc, argv, "replay"); }
int cli_sweep_main(const char *program, int argc, char **argv) { return campaign_main(program, argc, argv, "sweep"); }
