/* cli_merge.c: `distrosim merge` (see cli_merge.h).
 *
 * Two steps, both through rpt_db: every input is copied, in the order
 * given, into a scratch file (rpt_db_merge, which also brings an older
 * file's rows to the current schema), and the scratch file is copied into
 * the output with the runs of each sharded campaign put back in job order
 * (rpt_db_merge_in_job_order).  Both files are created beside OUT; the
 * output is renamed into place only when complete, and the scratch file is
 * removed either way. */
#include "cli_merge.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rpt_db.h"
#include "sim_alloc.h"
#include "sim_vec.h"

#define MERGE_INPUTS_MAX 4096u
#define MERGE_BUILDS_MAX 8u          /* distinct builds remembered per file (for the message) */
#define MERGE_MISSING_LISTED 8u      /* missing shards named in a warning */

/* A campaign record that ran one shard (campaigns.shard_index not NULL). */
typedef struct merge_shard {
    size_t input;                    /* which input file */
    int64_t campaign;                /* its campaigns.id there */
    char plan[65];
    uint64_t index, count;           /* K/N */
    bool finished;                   /* state 'finished' */
    uint64_t planned, done;
} merge_shard;

typedef struct merge_input {
    const char *path;
    int version;
    int64_t runs;
    char builds[MERGE_BUILDS_MAX][128];
    uint32_t build_count;            /* distinct non-NULL builds (the first MERGE_BUILDS_MAX kept) */
    uint32_t build_total;
} merge_input;

typedef struct merge_state {
    merge_input *inputs;
    size_t input_count;
    merge_shard *shards;
    size_t shard_count, shard_cap;
    bool nomem;
    size_t current;                  /* the input being read */
} merge_state;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: distrosim merge A.db B.db ... -o OUT.db [--force] [--quiet]\n"
            "\n"
            "Joins results databases (typically the --shard K/N pieces of one campaign) into the\n"
            "new file OUT.db: every campaign record, run and child row, with ids rewritten\n"
            "consistently.  The runs of the shards of one campaign are put back in the\n"
            "campaign's job order, so OUT.db holds the same runs, with the same ids, as one\n"
            "unsharded run would have written (the campaign records stay one per shard).\n"
            "A missing shard or one that did not finish is a warning on standard error.\n"
            "\n"
            "Refused (exit 2, OUT.db not created): a missing input, a file that is not a distrosim\n"
            "database or is newer than this build, an input given twice, an existing OUT.db, and\n"
            "two files holding the same shard of one campaign, or shards of it split with\n"
            "different N (their runs would count twice).  Inputs written by different builds\n"
            "(runs.build, campaigns.build) or at an older schema version than this build's are\n"
            "refused unless --force: results of two builds need not agree, so pooling them is\n"
            "a deliberate choice; with --force an older file's missing columns read as NULL.\n"
            "--quiet leaves out the summary line.\n");
}

static void collect_build(void *ctx, int ncols, const char *const *values)
{
    merge_state *m = ctx;
    merge_input *in = &m->inputs[m->current];
    if (ncols != 1 || values[0] == NULL) return;
    in->build_total++;
    if (in->build_count < MERGE_BUILDS_MAX) {
        snprintf(in->builds[in->build_count++], sizeof in->builds[0], "%s", values[0]);
    }
}

static void collect_runs(void *ctx, int ncols, const char *const *values)
{
    merge_state *m = ctx;
    if (ncols == 1 && values[0] != NULL) m->inputs[m->current].runs = strtoll(values[0], NULL, 10);
}

static void collect_shard(void *ctx, int ncols, const char *const *values)
{
    merge_state *m = ctx;
    if (ncols != 7 || values[1] == NULL || values[2] == NULL || values[3] == NULL) return;
    if (!SIM_VEC_RESERVE(m->shards, m->shard_count, m->shard_cap, 1)) {
        m->nomem = true;
        return;
    }
    merge_shard *s = &m->shards[m->shard_count++];
    memset(s, 0, sizeof *s);
    s->input = m->current;
    s->campaign = strtoll(values[0], NULL, 10);
    snprintf(s->plan, sizeof s->plan, "%s", values[1]);
    s->index = strtoull(values[2], NULL, 10);
    s->count = strtoull(values[3], NULL, 10);
    s->finished = values[4] != NULL && strcmp(values[4], "finished") == 0;
    s->planned = values[5] != NULL ? strtoull(values[5], NULL, 10) : 0;
    s->done = values[6] != NULL ? strtoull(values[6], NULL, 10) : 0;
}

/* Opens one input read-only and reads what the checks need.  0, or 2 after
 * a message. */
static int read_input(merge_state *m, size_t i)
{
    merge_input *in = &m->inputs[i];
    struct stat st;
    if (stat(in->path, &st) != 0) {
        fprintf(stderr, "distrosim merge: %s: %s\n", in->path, strerror(errno));
        return 2;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "distrosim merge: %s: not a regular file\n", in->path);
        return 2;
    }
    rpt_db *db = NULL;
    sim_error err;
    if (rpt_db_open_readonly(in->path, &db, &err) != SIM_OK) {
        fprintf(stderr, "distrosim merge: %s: %s\n", in->path, err.message);
        return 2;
    }
    m->current = i;
    in->version = rpt_db_file_version(db);
    sim_status read_status = rpt_db_exec_rows(db,
                                      "SELECT b FROM (SELECT build AS b FROM runs UNION SELECT build FROM campaigns) "
                                      "WHERE b IS NOT NULL ORDER BY b",
                                      collect_build, m, &err);
    if (read_status == SIM_OK) read_status = rpt_db_exec_rows(db, "SELECT count(*) FROM runs", collect_runs, m, &err);
    if (read_status == SIM_OK) {
        read_status = rpt_db_exec_rows(db,
                               "SELECT id, plan, shard_index, shard_count, state, runs_planned, runs_done "
                               "FROM campaigns WHERE shard_count IS NOT NULL ORDER BY id",
                               collect_shard, m, &err);
    }
    rpt_db_close(db);
    if (read_status != SIM_OK) {
        fprintf(stderr, "distrosim merge: %s: %s: %s\n", in->path, err.where, err.message);
        return 2;
    }
    if (m->nomem) {
        fprintf(stderr, "distrosim merge: out of memory reading %s\n", in->path);
        return 2;
    }
    return 0;
}

/* Without --force: every input at this build's schema version, and one
 * build among them all.  0, or 2 after a message. */
static int check_versions_builds(const merge_state *m)
{
    int status = 0;
    for (size_t i = 0; i < m->input_count; i++) {
        const merge_input *in = &m->inputs[i];
        if (in->version != rpt_db_schema_version()) {
            fprintf(stderr,
                    "distrosim merge: %s: schema version %d, this build writes %d (--force merges it: the "
                    "columns it lacks read as NULL)\n",
                    in->path, in->version, rpt_db_schema_version());
            status = 2;
        }
    }
    const char *first = NULL;
    const char *first_path = NULL;
    for (size_t i = 0; i < m->input_count && status == 0; i++) {
        const merge_input *in = &m->inputs[i];
        for (uint32_t b = 0; b < in->build_count; b++) {
            if (first == NULL) {
                first = in->builds[b];
                first_path = in->path;
            } else if (strcmp(first, in->builds[b]) != 0) {
                fprintf(stderr,
                        "distrosim merge: the files come from different builds: %s has \"%s\", %s has \"%s\" "
                        "(--force merges them anyway; their results need not agree, and the report then "
                        "counts runs by build)\n",
                        first_path, first, in->path, in->builds[b]);
                return 2;
            }
        }
    }
    return status;
}

/* Shards of one campaign (same plan): refuses one held twice or a split
 * into different N; warns about missing and unfinished shards.  0, or 2
 * after a message. */
static int check_shards(const merge_state *m)
{
    for (size_t i = 0; i < m->shard_count; i++) {
        const merge_shard *a = &m->shards[i];
        for (size_t j = i + 1; j < m->shard_count; j++) {
            const merge_shard *b = &m->shards[j];
            if (strcmp(a->plan, b->plan) != 0) continue;
            if (a->count != b->count || a->index == b->index) {
                fprintf(stderr,
                        "distrosim merge: %s (campaign %" PRId64 ") holds shard %" PRIu64 "/%" PRIu64
                        " and %s (campaign %" PRId64 ") shard %" PRIu64 "/%" PRIu64
                        " of the same campaign: their runs would count twice\n",
                        m->inputs[a->input].path, a->campaign, a->index, a->count, m->inputs[b->input].path,
                        b->campaign, b->index, b->count);
                return 2;
            }
        }
    }
    for (size_t i = 0; i < m->shard_count; i++) {
        const merge_shard *a = &m->shards[i];
        bool first_of_plan = true;
        for (size_t j = 0; j < i && first_of_plan; j++) first_of_plan = strcmp(m->shards[j].plan, a->plan) != 0;
        if (!a->finished) {
            fprintf(stderr, "distrosim merge: warning: %s: shard %" PRIu64 "/%" PRIu64 " did not finish: %" PRIu64
                            " of its %" PRIu64 " runs done\n",
                    m->inputs[a->input].path, a->index, a->count, a->done, a->planned);
        }
        if (!first_of_plan) continue;
        uint64_t present = 0;
        for (size_t j = i; j < m->shard_count; j++) present += strcmp(m->shards[j].plan, a->plan) == 0;
        if (present == a->count) continue;
        fprintf(stderr, "distrosim merge: warning: campaign %.12s has %" PRIu64 " of its %" PRIu64
                        " shards here; missing:", a->plan, present, a->count);
        uint32_t listed = 0;
        for (uint64_t k = 1; k <= a->count && listed < MERGE_MISSING_LISTED; k++) {
            bool have = false;
            for (size_t j = i; j < m->shard_count && !have; j++) {
                have = strcmp(m->shards[j].plan, a->plan) == 0 && m->shards[j].index == k;
            }
            if (!have) {
                fprintf(stderr, " %" PRIu64 "/%" PRIu64, k, a->count);
                listed++;
            }
        }
        fprintf(stderr, "%s\n", a->count - present > listed ? " ..." : "");
    }
    return 0;
}

/* A new empty file beside `path` ("PATH.merge-XXXXXX"); its name in
 * `*out` (caller frees).  False with errno set on failure. */
static bool temp_beside(const char *path, char **out)
{
    size_t len = strlen(path) + sizeof ".merge-XXXXXX";
    char *tmp = sim_malloc(len);
    if (tmp == NULL) return false;
    snprintf(tmp, len, "%s.merge-XXXXXX", path);     /* exactly len - 1 bytes */
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int saved = errno;
        free(tmp);
        errno = saved;
        return false;
    }
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0 || close(fd) != 0) {
        int saved = errno;
        unlink(tmp);
        free(tmp);
        errno = saved;
        return false;
    }
    *out = tmp;
    return true;
}

/* Removes a database file and the -wal and -shm files SQLite may have left
 * beside it.  NULL is a no-op. */
static void remove_db(const char *path)
{
    if (path == NULL) return;
    const char *suffixes[3] = { "", "-wal", "-shm" };
    for (int i = 0; i < 3; i++) {
        char name[4200];
        int n = snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        if (n > 0 && (size_t)n < sizeof name) (void)unlink(name);   /* absent is fine */
    }
}

/* Copies the inputs into `scratch`, then into `tmp` in job order.  0, or 2
 * after a message. */
static int copy_all(const merge_state *m, const char *scratch, const char *tmp)
{
    rpt_db *db = NULL;
    sim_error err;
    if (rpt_db_open(scratch, &db, &err) != SIM_OK) {
        fprintf(stderr, "distrosim merge: %s: %s\n", scratch, err.message);
        return 2;
    }
    for (size_t i = 0; i < m->input_count; i++) {
        if (rpt_db_merge(db, m->inputs[i].path, &err) != SIM_OK) {
            fprintf(stderr, "distrosim merge: %s: %s\n", m->inputs[i].path, err.message);
            rpt_db_close(db);
            return 2;
        }
    }
    rpt_db_close(db);
    if (rpt_db_open(tmp, &db, &err) != SIM_OK) {
        fprintf(stderr, "distrosim merge: %s: %s\n", tmp, err.message);
        return 2;
    }
    int status = 0;
    if (rpt_db_merge_in_job_order(db, scratch, &err) != SIM_OK) {
        fprintf(stderr, "distrosim merge: %s: %s\n", tmp, err.message);
        status = 2;
    }
    rpt_db_close(db);           /* checkpoints the WAL into the file and removes it */
    return status;
}

int cli_merge_main(int argc, char **argv)
{
    const char *out = NULL;
    bool force = false, quiet = false;
    merge_state m;
    memset(&m, 0, sizeof m);
    m.inputs = sim_calloc(argc > 0 ? (size_t)argc : 1, sizeof *m.inputs);
    if (m.inputs == NULL) {
        fprintf(stderr, "distrosim merge: out of memory\n");
        return 2;
    }
    int status = 0;
    for (int i = 0; i < argc && status == 0; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            free(m.inputs);
            return 0;
        } else if (strcmp(arg, "-o") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "distrosim merge: -o needs a value\n");
                status = 2;
            } else {
                out = argv[++i];
            }
        } else if (strcmp(arg, "--force") == 0) {
            force = true;
        } else if (strcmp(arg, "--quiet") == 0) {
            quiet = true;
        } else if (arg[0] == '-') {
            fprintf(stderr, "distrosim merge: unknown option %s (see distrosim merge --help)\n", arg);
            status = 2;
        } else if (m.input_count == MERGE_INPUTS_MAX) {
            fprintf(stderr, "distrosim merge: more than %u input files\n", MERGE_INPUTS_MAX);
            status = 2;
        } else {
            m.inputs[m.input_count++].path = arg;
        }
    }
    if (status == 0 && (out == NULL || m.input_count == 0)) {
        usage(stderr);
        status = 2;
    }
    struct stat st;
    if (status == 0 && stat(out, &st) == 0) {
        fprintf(stderr, "distrosim merge: -o %s exists; merge writes a new file (remove it, or name another)\n",
                out);
        status = 2;
    } else if (status == 0 && errno != ENOENT) {
        fprintf(stderr, "distrosim merge: -o %s: %s\n", out, strerror(errno));
        status = 2;
    }
    for (size_t i = 0; i < m.input_count && status == 0; i++) status = read_input(&m, i);
    /* The same file twice (by device and inode, whatever the spelling). */
    for (size_t i = 0; i < m.input_count && status == 0; i++) {
        struct stat a;
        if (stat(m.inputs[i].path, &a) != 0) continue;     /* read_input saw it a moment ago */
        for (size_t j = i + 1; j < m.input_count && status == 0; j++) {
            struct stat b;
            if (stat(m.inputs[j].path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
                fprintf(stderr, "distrosim merge: %s and %s are the same file: its runs would count twice\n",
                        m.inputs[i].path, m.inputs[j].path);
                status = 2;
            }
        }
    }
    if (status == 0 && !force) status = check_versions_builds(&m);
    if (status == 0) status = check_shards(&m);
    char *scratch = NULL, *tmp = NULL;
    if (status == 0 && (!temp_beside(out, &scratch) || !temp_beside(out, &tmp))) {
        fprintf(stderr, "distrosim merge: -o %s: cannot create a file beside it: %s\n", out, strerror(errno));
        status = 2;
    }
    if (status == 0) status = copy_all(&m, scratch, tmp);
    if (status == 0 && rename(tmp, out) != 0) {
        fprintf(stderr, "distrosim merge: cannot rename %s to %s: %s\n", tmp, out, strerror(errno));
        status = 2;
    }
    remove_db(scratch);
    if (status != 0) remove_db(tmp);
    free(scratch);
    free(tmp);
    if (status == 0 && !quiet) {
        int64_t runs = 0;
        for (size_t i = 0; i < m.input_count; i++) runs += m.inputs[i].runs;
        printf("merge: %zu file%s, %" PRId64 " runs, %zu shard record%s -> %s\n", m.input_count,
               m.input_count == 1 ? "" : "s", runs, m.shard_count, m.shard_count == 1 ? "" : "s", out);
    }
    free(m.shards);
    free(m.inputs);
    return status;
}
