/* cli_run.c: campaigns of scenario runs.
 *
 * A campaign is a list of jobs (scenario, seed, parameter set).  Jobs run
 * on -j worker threads (the engine and model keep no global state, so runs
 * are independent), and results are written to SQLite strictly in job
 * order, one transaction per run, whatever the thread count: the database
 * and every printed line are the same with -j 1 and -j 8.
 *
 * Exit status: 0 when every expectation held, 1 when one failed, 2 for a
 * harness or input error (bad scenario, bad flag, database failure). */
#include "cli_run.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sha2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rpt_db.h"
#include "rpt_report.h"
#include "cli_perfetto.h"
#include "distro_cluster.h"
#include "run_scenario.h"
#include "scn_load.h"
#include "sim_duration.h"
#include "sim_vec.h"

#define SETS_MAX 16u
#define TAG_ARGS_MAX 16u
#define SEEDS_MAX 1000000u

typedef struct cli_scenario {
    char *path;
    scn_config config;
    char sha256[65];
} cli_scenario;

typedef struct cli_job {
    uint32_t scenario;
    uint32_t variant;            /* sweep: index of the parameter combination */
    uint64_t seed;
    bool done;
    sim_status status;
    sim_error err;
    run_result result;
} cli_job;

typedef struct cli_variant {
    scn_config config;           /* the scenario with the sweep's values set */
    uint32_t scenario;
    char args[512];              /* "--set k=v --set k=v" */
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
    cli_job *jobs;
    size_t job_count;
    size_t next_job;
    size_t written;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    const char *campaign;
    bool trace;
    run_trace_filter filter;
} cli_campaign;

typedef struct cli_args {
    const char *paths[256];
    uint32_t path_count;
    uint64_t seed_first;
    uint64_t seed_last;
    bool seeds_given;
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
    int32_t trace_node;
    int32_t trace_type;
    sim_time_ns trace_from;
    sim_time_ns trace_to;
} cli_args;

/* --- Parsing helpers ----------------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (s[0] == '\0' || s[0] == '-' || *end != '\0' || errno != 0) return -1;
    *out = v;
    return 0;
}

static int parse_seeds(const char *s, uint64_t *first, uint64_t *last)
{
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%s", s);
    if (n < 0 || (size_t)n >= sizeof buf) return -1;   /* longer than any two u64 and a dash */
    char *dash = strchr(buf, '-');
    if (dash == NULL) {
        if (parse_u64(buf, first) != 0) return -1;
        *last = *first;
        return 0;
    }
    *dash = '\0';
    if (parse_u64(buf, first) != 0 || parse_u64(dash + 1, last) != 0 || *last < *first) return -1;
    if (*last - *first >= SEEDS_MAX) return -1;
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

static void usage_run(FILE *out, const char *cmd)
{
    if (strcmp(cmd, "run") == 0) {
        fprintf(out,
                "usage: distrosim run SCENARIO|DIR... [--seed N | --seeds A-B] [--db FILE] [-j JOBS] [--set KEY=VALUE]...\n"
                "                    [--tag TAG[,TAG...]]...\n"
                "\n"
                "Runs each scenario once per seed and prints one line per run.  Results go to\n"
                "the SQLite database FILE (default: none).  --set overrides one scenario value\n"
                "(e.g. --set cluster.distro.verify_interval=2s).  --tag keeps only the scenarios\n"
                "whose `tags:` list has one of the tags.  Exit 0 if every expectation held, 1 if\n"
                "one failed, 2 on bad input or a harness error.\n");
    } else if (strcmp(cmd, "check") == 0) {
        fprintf(out,
                "usage: distrosim check DIR|FILE... [--seeds A-B] [--db FILE] [-j JOBS] [--junit FILE]\n"
                "                      [--markdown FILE] [--set KEY=VALUE]... [--tag TAG[,TAG...]]...\n"
                "\n"
                "The CI entry point: runs every scenario (*.yaml in DIR, sorted) over the seeds\n"
                "(default 1-20), prints a summary and one repro command per failing run.\n"
                "--tag keeps only the scenarios whose `tags:` list has one of the tags (repeat it\n"
                "or give a comma list); a selection of no scenario is an error.\n"
                "Exit 0 if every expectation held, 1 if any failed, 2 on bad input or a harness error.\n");
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
                "usage: distrosim sweep SCENARIO --set KEY=V1,V2,... [--set KEY=...]... [--seeds A-B]\n"
                "                      [--db FILE] [-j JOBS] [--tag TAG[,TAG...]]...\n"
                "\n"
                "Runs the cross product of the values over the seeds; every run is recorded with\n"
                "its parameters (table run_params), for `distrosim report`.  --tag keeps only the\n"
                "scenarios whose `tags:` list has one of the tags.\n");
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
                     strcmp(arg, "-j") == 0 || strcmp(arg, "--junit") == 0 || strcmp(arg, "--markdown") == 0 ||
                     strcmp(arg, "--set") == 0 || strcmp(arg, "--node") == 0 || strcmp(arg, "--type") == 0 ||
                     strcmp(arg, "--from") == 0 || strcmp(arg, "--to") == 0 || strcmp(arg, "--perfetto") == 0 ||
                     strcmp(arg, "--tag") == 0;
        if (takes && next == NULL) {
            fprintf(stderr, "distrosim %s: %s needs a value\n", cmd, arg);
            return 2;
        }
        uint64_t v = 0;
        if (strcmp(arg, "--seed") == 0 || strcmp(arg, "--seeds") == 0) {
            if (parse_seeds(next, &a->seed_first, &a->seed_last) != 0) {
                fprintf(stderr, "distrosim %s: %s: expected N or A-B (at most %u seeds), got \"%s\"\n", cmd, arg,
                        SEEDS_MAX, next);
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
            if (!SIM_VEC_RESERVE(paths, len, cap, 1) || (paths[len] = strdup(a->paths[i])) == NULL) {
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
            if (!SIM_VEC_RESERVE(paths, len, cap, 1) || (paths[len] = malloc(size)) == NULL) {
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

/* --- Campaign ------------------------------------------------------------------------- */

static void *worker(void *arg)
{
    cli_campaign *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        size_t i = c->next_job;
        if (i < c->job_count) c->next_job++;
        pthread_mutex_unlock(&c->lock);
        if (i >= c->job_count) return NULL;
        cli_job *job = &c->jobs[i];
        const cli_variant *v = &c->variants[job->variant];
        const cli_scenario *s = &c->scenarios[v->scenario];
        run_options opt = { .seed = job->seed, .scenario_path = s->path, .scenario_sha256 = s->sha256,
                            .campaign = c->campaign, .extra_args = v->args, .trace = c->filter };
        job->status = run_scenario(&v->config, &opt, &job->result, &job->err);
        if (job->status == SIM_OK) {
            job->result.row.params = v->params;
            job->result.row.params_count = v->params_count;
        }
        pthread_mutex_lock(&c->lock);
        job->done = true;
        pthread_cond_broadcast(&c->cond);
        pthread_mutex_unlock(&c->lock);
    }
}

typedef struct cli_tally {
    uint32_t pass;
    uint32_t fail;
    uint32_t error;
} cli_tally;

static void print_run(const cli_campaign *c, const cli_job *job, bool quiet)
{
    const run_result *r = &job->result;
    const cli_scenario *s = &c->scenarios[c->variants[job->variant].scenario];
    if (job->status != SIM_OK) {
        fprintf(stderr, "ERROR %s seed=%llu: %s: %s\n", s->config.name, (unsigned long long)job->seed,
                job->err.where, job->err.message);
        return;
    }
    if (strcmp(r->verdict, "error") == 0) {   /* stopped early: a limit or out of memory */
        printf("ERROR %s seed=%llu%s%s events=%llu trace=%016llx\n  error: %s\n  repro:  %s\n", s->config.name,
               (unsigned long long)job->seed, c->variants[job->variant].args[0] ? " " : "",
               c->variants[job->variant].args, (unsigned long long)r->row.events,
               (unsigned long long)r->row.trace_hash, r->failure, r->repro);
        return;
    }
    bool pass = strcmp(r->verdict, "pass") == 0;
    if (quiet && pass) return;
    char converged[32] = "never";
    if (r->row.converged_ns != SIM_TIME_NEVER) {
        sim_time_ns after = r->row.converged_ns > r->row.last_fault_end_ns ? r->row.converged_ns - r->row.last_fault_end_ns : 0;
        snprintf(converged, sizeof converged, "%.3fs", (double)after / 1e9);
    }
    printf("%s %s seed=%llu%s%s converged_after_last_fault=%s events=%llu trace=%016llx\n", pass ? "PASS" : "FAIL",
           s->config.name, (unsigned long long)job->seed, c->variants[job->variant].args[0] ? " " : "",
           c->variants[job->variant].args, converged, (unsigned long long)r->row.events,
           (unsigned long long)r->row.trace_hash);
    if (!pass) {
        printf("  failed: %s\n  repro:  %s\n", r->failure, r->repro);
    }
}

/* Runs every job; writes and prints results in job order. */
static int run_campaign(cli_campaign *c, const cli_args *a, rpt_db *db, cli_tally *tally)
{
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    uint32_t threads = a->jobs > c->job_count ? (uint32_t)c->job_count : a->jobs;
    if (threads == 0) threads = 1;
    pthread_t *tids = calloc(threads, sizeof *tids);
    if (tids == NULL) {
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->cond);
        return cli_nomem("starting the worker threads");
    }
    for (uint32_t t = 0; t < threads; t++) {
        int rc = pthread_create(&tids[t], NULL, worker, c);
        if (rc == 0) continue;
        /* Stop handing out jobs, let the started workers finish theirs, and
         * give up: waiting for runs no thread will take would hang. */
        fprintf(stderr, "distrosim: cannot start worker thread %u of %u: %s\n", t + 1, threads, strerror(rc));
        pthread_mutex_lock(&c->lock);
        c->next_job = c->job_count;
        pthread_mutex_unlock(&c->lock);
        for (uint32_t u = 0; u < t; u++) pthread_join(tids[u], NULL);
        free(tids);
        pthread_mutex_destroy(&c->lock);
        pthread_cond_destroy(&c->cond);
        return 2;
    }
    bool progress = isatty(STDERR_FILENO) && !a->trace && c->job_count > 1;
    int status = 0;
    for (size_t i = 0; i < c->job_count; i++) {
        pthread_mutex_lock(&c->lock);
        while (!c->jobs[i].done) pthread_cond_wait(&c->cond, &c->lock);
        pthread_mutex_unlock(&c->lock);
        cli_job *job = &c->jobs[i];
        if (job->status != SIM_OK || strcmp(job->result.verdict, "error") == 0) {
            tally->error++;
            status = 2;
        } else if (strcmp(job->result.verdict, "pass") == 0) {
            tally->pass++;
        } else {
            tally->fail++;
            if (status == 0) status = 1;
        }
        if (progress) fprintf(stderr, "\r%*s\r", 60, "");
        print_run(c, job, a->quiet);
        if (db != NULL && job->status == SIM_OK) {
            sim_error err;
            int64_t id = 0;
            if (rpt_db_write_run(db, &job->result.row, &id, &err) != SIM_OK) {
                fprintf(stderr, "distrosim: %s: %s\n", err.where, err.message);
                status = 2;
            }
        }
        if (progress) {
            fprintf(stderr, "[%zu/%zu] pass=%u fail=%u error=%u", i + 1, c->job_count, tally->pass, tally->fail,
                    tally->error);
        }
        /* Keep the verdict for the reports, free the rest. */
        char verdict[8], failure[512], repro[1024];
        snprintf(verdict, sizeof verdict, "%s", job->result.verdict);
        snprintf(failure, sizeof failure, "%s", job->result.failure);
        snprintf(repro, sizeof repro, "%s", job->result.repro);
        run_result_deinit(&job->result);
        memcpy(job->result.verdict, verdict, sizeof verdict);
        memcpy(job->result.failure, failure, sizeof failure);
        memcpy(job->result.repro, repro, sizeof repro);
    }
    if (progress) fprintf(stderr, "\r%*s\r", 60, "");
    for (uint32_t t = 0; t < threads; t++) pthread_join(tids[t], NULL);
    free(tids);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    return status;
}

/* --- Reports for CI ---------------------------------------------------------------------- */

static void xml_escape(FILE *f, const char *s)
{
    for (; *s != '\0'; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f); break;
        }
    }
}

static int write_junit(const cli_campaign *c, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "distrosim check: cannot write %s: %s\n", path, strerror(errno));
        return 2;
    }
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"distrosim\">\n");
    for (uint32_t v = 0; v < c->variant_count; v++) {
        const cli_scenario *s = &c->scenarios[c->variants[v].scenario];
        uint32_t tests = 0, failures = 0, errors = 0;
        for (size_t i = 0; i < c->job_count; i++) {
            if (c->jobs[i].variant != v) continue;
            tests++;
            if (c->jobs[i].status != SIM_OK || strcmp(c->jobs[i].result.verdict, "error") == 0) errors++;
            else if (strcmp(c->jobs[i].result.verdict, "pass") != 0) failures++;
        }
        fprintf(f, "  <testsuite name=\"");
        xml_escape(f, s->config.name);
        fprintf(f, "\" tests=\"%u\" failures=\"%u\" errors=\"%u\">\n", tests, failures, errors);
        for (size_t i = 0; i < c->job_count; i++) {
            const cli_job *job = &c->jobs[i];
            if (job->variant != v) continue;
            fprintf(f, "    <testcase classname=\"distrosim.");
            xml_escape(f, s->config.name);
            fprintf(f, "\" name=\"seed %llu\">", (unsigned long long)job->seed);
            if (job->status != SIM_OK) {
                fprintf(f, "<error message=\"");
                xml_escape(f, job->err.message);
                fprintf(f, "\"/>");
            } else if (strcmp(job->result.verdict, "error") == 0) {
                fprintf(f, "<error message=\"");
                xml_escape(f, job->result.failure);
                fprintf(f, "\">repro: ");
                xml_escape(f, job->result.repro);
                fprintf(f, "</error>");
            } else if (strcmp(job->result.verdict, "pass") != 0) {
                fprintf(f, "<failure message=\"");
                xml_escape(f, job->result.failure);
                fprintf(f, "\">repro: ");
                xml_escape(f, job->result.repro);
                fprintf(f, "</failure>");
            }
            fprintf(f, "</testcase>\n");
        }
        fprintf(f, "  </testsuite>\n");
    }
    fprintf(f, "</testsuites>\n");
    return fclose(f) == 0 ? 0 : 2;
}

static int write_markdown(const cli_campaign *c, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "distrosim check: cannot write %s: %s\n", path, strerror(errno));
        return 2;
    }
    fprintf(f, "## distrosim check\n\n| scenario | runs | pass | fail | error |\n|---|---:|---:|---:|---:|\n");
    for (uint32_t v = 0; v < c->variant_count; v++) {
        uint32_t runs = 0, pass = 0, fail = 0, error = 0;
        for (size_t i = 0; i < c->job_count; i++) {
            if (c->jobs[i].variant != v) continue;
            runs++;
            if (c->jobs[i].status != SIM_OK || strcmp(c->jobs[i].result.verdict, "error") == 0) error++;
            else if (strcmp(c->jobs[i].result.verdict, "pass") == 0) pass++;
            else fail++;
        }
        fprintf(f, "| %s%s%s | %u | %u | %u | %u |\n", c->scenarios[c->variants[v].scenario].config.name,
                c->variants[v].args[0] ? " " : "", c->variants[v].args, runs, pass, fail, error);
    }
    bool header = false;
    for (size_t i = 0; i < c->job_count; i++) {
        const cli_job *job = &c->jobs[i];
        if (job->status != SIM_OK || strcmp(job->result.verdict, "pass") == 0) continue;
        if (!header) {
            fprintf(f, "\n### Failing runs\n\n| scenario | seed | failure | repro |\n|---|---:|---|---|\n");
            header = true;
        }
        fprintf(f, "| %s | %llu | %s | `%s` |\n", c->scenarios[c->variants[job->variant].scenario].config.name,
                (unsigned long long)job->seed, job->result.failure, job->result.repro);
    }
    return fclose(f) == 0 ? 0 : 2;
}

/* --- Commands ------------------------------------------------------------------------------ */

static void campaign_free(cli_campaign *c)
{
    for (uint32_t i = 0; i < c->scenario_count; i++) {
        free(c->scenarios[i].path);
        scn_config_deinit(&c->scenarios[i].config);
    }
    for (uint32_t i = 0; i < c->variant_count; i++) scn_config_deinit(&c->variants[i].config);
    for (size_t i = 0; i < c->job_count; i++) run_result_deinit(&c->jobs[i].result);
    free(c->scenarios);
    free(c->variants);
    free(c->jobs);
}

/* Splits "key=v1,v2" into the key and its values.  0 (with a message)
 * when the key or a value is longer than its buffer. */
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
    }
    return n;
}

#define SWEEP_VALUES_MAX 32u

static int build_campaign(cli_campaign *c, const cli_args *a, const char *cmd, bool sweep)
{
    char **paths = NULL;
    uint32_t count = 0;
    if (expand_paths(a, &paths, &count) != 0) return 2;
    if (count == 0) {
        fprintf(stderr, "distrosim %s: no scenario files found\n", cmd);
        free(paths);
        return 2;
    }
    c->scenarios = calloc(count, sizeof *c->scenarios);
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
    char (*values)[SWEEP_VALUES_MAX][96] = calloc(SETS_MAX, sizeof *values);
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
    c->variants = calloc((size_t)c->scenario_count * combos, sizeof *c->variants);
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
                int n = snprintf(v->args + used, sizeof v->args - used, "%s--set %s=%s", p > 0 ? " " : "", keys[p],
                                 value);
                if (!cli_fits(n, sizeof v->args - used, cmd, "the --set options together")) {
                    status = 2;
                    break;
                }
                used += (size_t)n;
            }
        }
    }
    free(values);
    if (status != 0) return status;
    uint64_t first = a->seeds_given ? a->seed_first : 0, last = a->seeds_given ? a->seed_last : 0;
    size_t per = 0;
    for (uint32_t v = 0; v < c->variant_count; v++) {
        uint64_t f = first, l = last;
        if (!a->seeds_given) {
            bool many = strcmp(cmd, "check") == 0 || strcmp(cmd, "sweep") == 0;
            f = many ? 1 : c->scenarios[c->variants[v].scenario].config.seed;
            l = many ? 20 : f;
        }
        per += (size_t)(l - f + 1);
    }
    c->jobs = calloc(per, sizeof *c->jobs);
    if (c->jobs == NULL) return cli_nomem("listing the runs");
    for (uint32_t v = 0; v < c->variant_count; v++) {
        uint64_t f = first, l = last;
        if (!a->seeds_given) {
            bool many = strcmp(cmd, "check") == 0 || strcmp(cmd, "sweep") == 0;
            f = many ? 1 : c->scenarios[c->variants[v].scenario].config.seed;
            l = many ? 20 : f;
        }
        for (uint64_t seed = f; seed <= l; seed++) {
            c->jobs[c->job_count++] = (cli_job){ .scenario = c->variants[v].scenario, .variant = v, .seed = seed };
            if (seed == UINT64_MAX) break;
        }
    }
    return 0;
}

static int campaign_main(int argc, char **argv, const char *cmd)
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
    if (a.perfetto != NULL && strcmp(cmd, "replay") != 0) {
        fprintf(stderr, "distrosim %s: --perfetto is an option of replay\n", cmd);
        return 2;
    }
    int status = build_campaign(&c, &a, cmd, sweep);
    FILE *perfetto_file = NULL;
    cli_perfetto *perfetto = NULL;
    if (status == 0 && a.perfetto != NULL) {
        const scn_config *cfg = &c.scenarios[0].config;
        const char *names[SCN_NODES_MAX];
        for (uint32_t i = 0; i < cfg->cluster.nodes; i++) names[i] = cfg->cluster.addresses[i];
        perfetto_file = fopen(a.perfetto, "w");
        perfetto = perfetto_file != NULL ? cli_perfetto_open(perfetto_file, cfg->cluster.nodes, names) : NULL;
        if (perfetto == NULL) {
            fprintf(stderr, "distrosim replay: cannot write %s: %s\n", a.perfetto, strerror(errno));
            status = 2;
        } else {
            c.filter.hook = cli_perfetto_event;
            c.filter.hook_ctx = perfetto;
            a.jobs = 1;
        }
    }
    rpt_db *db = NULL;
    if (status == 0 && a.db != NULL) {
        sim_error err;
        if (rpt_db_open(a.db, &db, &err) != SIM_OK) {
            fprintf(stderr, "distrosim %s: %s: %s\n", cmd, err.where, err.message);
            status = 2;
        }
    }
    cli_tally tally = { 0 };
    if (status == 0) {
        status = run_campaign(&c, &a, db, &tally);
        if (c.job_count > 1 || strcmp(cmd, "check") == 0) {
            printf("%s: %zu runs, %u passed, %u failed, %u errors\n", cmd, c.job_count, tally.pass, tally.fail,
                   tally.error);
        }
        if (a.junit != NULL && write_junit(&c, a.junit) != 0) status = 2;
        if (a.markdown != NULL && write_markdown(&c, a.markdown) != 0) status = 2;
    }
    if (perfetto != NULL && cli_perfetto_close(perfetto) != 0) status = 2;
    if (perfetto_file != NULL && fclose(perfetto_file) != 0) status = 2;
    rpt_db_close(db);
    campaign_free(&c);
    return status;
}

int cli_run_main(int argc, char **argv) { return campaign_main(argc, argv, "run"); }
int cli_check_main(int argc, char **argv) { return campaign_main(argc, argv, "check"); }
int cli_replay_main(int argc, char **argv) { return campaign_main(argc, argv, "replay"); }
int cli_sweep_main(int argc, char **argv) { return campaign_main(argc, argv, "sweep"); }
