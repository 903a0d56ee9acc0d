/* cli_nacos.c: `distrosim nacos owner`, `nacos checksum` and `nacos revision`.
 *
 * Both tools are thin shells around the model's pure functions
 * (model/distro_hash.h), so a run of the simulator can be checked against
 * a real Nacos cluster line by line.
 *
 * checksum input: one JSON array of Nacos instance objects per line, as
 * Nacos's own API returns them.  Recognised fields and their defaults when
 * missing or null (Instance.java, NACOS-DISTRO.md 2.1):
 *   ip (string, required), port (integer 0..65535, default 0),
 *   weight (number, default 1.0, clamped as Instance.setWeight does),
 *   healthy, enabled (true/false, default true), marked (default false),
 *   ephemeral (default true; not part of the checksum),
 *   clusterName (string, default "DEFAULT"),
 *   metadata (object of string -> string, default empty).
 * Every other field (instanceId, serviceName, lastBeat, ...) is skipped,
 * whatever its type.  The types are checked strictly, as JSON types: where
 * Jackson would coerce ("8080" for a port, 1.0 for a metadata value), this
 * tool reports an error instead, because such input means the list did not
 * come from Nacos and the checksum would prove nothing.  A field given
 * twice is an error too.  Blank lines are skipped.
 *
 * The JSON is read with libfyaml's event parser in forced JSON mode: the
 * events carry a position for every value, so each error names the stdin
 * line and column it is about. */
#include "cli_nacos.h"

#include <errno.h>
#include <inttypes.h>
#include <libfyaml.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "distro2_revision.h"
#include "distro_hash.h"
#include "distro_instance.h"
#include "sim_error.h" /* SIM_PRINTF */
#include "sim_vec.h"

#define NACOS_PORT_MAX 65535u
#define NACOS_ERR_BYTES 256u

static void nacos_usage(FILE *out)
{
    fprintf(out,
            "usage: distrosim nacos owner --members ADDR,ADDR,... < names\n"
            "       distrosim nacos checksum < lists\n"
            "       distrosim nacos revision < clients\n"
            "\n"
            "  owner     reads service names (\"group@@service\", or any Distro tag), one\n"
            "            per line, and prints \"name<TAB>distroHash<TAB>owner\", the owner\n"
            "            taken from the members sorted in Java String order, as Nacos's\n"
            "            DistroMapper does (NACOS-DISTRO.md 1.6)\n"
            "  checksum  reads instance lists, one JSON array of Nacos instance objects\n"
            "            per line, and prints the v1 instance-list checksum of each\n"
            "            (NACOS-DISTRO.md 2.6(a))\n"
            "  revision  reads 2.x IP-port clients, one JSON object per line:\n"
            "              {\"clientId\": \"ip:port#true\", \"services\": [{\"namespace\": ...,\n"
            "               \"group\": ..., \"name\": ..., \"ip\": ..., \"port\": ...,\n"
            "               \"healthy\": ..., \"cluster\": ..., \"extendDatum\": {...}}, ...]}\n"
            "            and prints the revision Nacos 2.x computes for each,\n"
            "            DistroUtils.hash (NACOS-DISTRO.md 3.6, vector in 9.3)\n"
            "\n"
            "Blank lines are skipped.  Bad usage or bad input exits with status 2.\n");
}

/* Drops trailing '\r' and '\n'; returns the new length. */
static size_t nacos_chomp(char *line, size_t len)
{
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    return len;
}

static bool nacos_blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (line[i] != ' ' && line[i] != '\t') return false;
    }
    return true;
}

static int nacos_finish_output(const char *tool, FILE *out, FILE *errs)
{
    if (fflush(out) != 0 || ferror(out)) {
        fprintf(errs, "distrosim: nacos %s: cannot write the output\n", tool);
        return 1;
    }
    return 0;
}

/* --- owner ------------------------------------------------------------- */

static int nacos_member_cmp(const void *a, const void *b)
{
    return distro_java_string_compare(*(char *const *)a, *(char *const *)b);
}

/* Splits `list` (modified in place) at commas into a new array of pointers
 * into it, sorted in Java String order.  Returns the count, or 0 after
 * printing why the list is unusable. */
static size_t nacos_members_parse(char *list, char ***out, FILE *errs)
{
    size_t count = 1;
    for (const char *c = list; *c != '\0'; c++) count += *c == ',';
    char **members = calloc(count, sizeof *members);
    if (members == NULL) {
        fprintf(errs, "distrosim: nacos owner: out of memory\n");
        return 0;
    }
    char *cursor = list;
    for (size_t i = 0; i < count; i++) {
        char *comma = strchr(cursor, ',');
        if (comma != NULL) *comma = '\0';
        if (*cursor == '\0') {
            fprintf(errs, "distrosim: nacos owner: --members: expected an address at position %zu\n", i + 1);
            free(members);
            return 0;
        }
        members[i] = cursor;
        cursor = comma != NULL ? comma + 1 : cursor + strlen(cursor);
    }
    qsort(members, count, sizeof *members, nacos_member_cmp);
    for (size_t i = 1; i < count; i++) {
        if (distro_java_string_compare(members[i - 1], members[i]) == 0) {
            fprintf(errs, "distrosim: nacos owner: --members: expected distinct addresses, '%s' is repeated\n",
                    members[i]);
            free(members);
            return 0;
        }
    }
    *out = members;
    return count;
}

static int nacos_owner(int argc, char **argv)
{
    const char *list = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            nacos_usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--members") == 0 && i + 1 < argc) {
            list = argv[++i];
        } else if (strncmp(argv[i], "--members=", 10) == 0) {
            list = argv[i] + 10;
        } else {
            fprintf(stderr, "distrosim: nacos owner: unexpected argument '%s'\n", argv[i]);
            nacos_usage(stderr);
            return 2;
        }
    }
    if (list == NULL) {
        fprintf(stderr, "distrosim: nacos owner: expected --members ADDR,ADDR,...\n");
        nacos_usage(stderr);
        return 2;
    }
    return cli_nacos_owner_read(list, stdin, stdout, stderr);
}

int cli_nacos_owner_read(const char *list, FILE *in, FILE *out, FILE *errs)
{
    char *list_copy = malloc(strlen(list) + 1);
    if (list_copy == NULL) {
        fprintf(errs, "distrosim: nacos owner: out of memory\n");
        return 2;
    }
    memcpy(list_copy, list, strlen(list) + 1);
    char **members = NULL;
    size_t count = nacos_members_parse(list_copy, &members, errs);
    if (count == 0) {
        free(list_copy);
        return 2;
    }

    char *line = NULL;
    size_t cap = 0;
    ssize_t got = 0;
    while ((got = getline(&line, &cap, in)) >= 0) { /* bound: the input */
        size_t len = nacos_chomp(line, (size_t)got);
        if (len == 0) continue;
        size_t owner = distro_mapper_index(line, count);
        fprintf(out, "%s\t%" PRIu32 "\t%s\n", line, distro_hash(line), members[owner]);
    }
    free(line);
    free(members);
    free(list_copy);
    return nacos_finish_output("owner", out, errs);
}

/* --- checksum: JSON events ------------------------------------------------ */

typedef struct nacos_json {
    struct fy_diag *diag;        /* owned; collects the parser's errors */
    struct fy_parser *fyp;       /* owned */
    struct fy_event *ev;         /* owned; the current event, NULL at end or error */
    size_t line_len;             /* bytes in the line being parsed */
    unsigned long line_no;       /* 1-based line of stdin */
    unsigned long err_line;      /* position of the first error, 1-based */
    unsigned long err_col;
    char err[NACOS_ERR_BYTES];   /* "" until an error */
} nacos_json;

static void nacos_diag_discard(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag;
    (void)user;
    (void)buf;
    (void)len;
}

/* Sets the error (the first one wins) at 0-based `mark` within the line. */
static int nacos_json_fail_at(nacos_json *j, const struct fy_mark *mark, const char *fmt, ...)
    SIM_PRINTF(3, 4);

static int nacos_json_fail_at(nacos_json *j, const struct fy_mark *mark, const char *fmt, ...)
{
    if (j->err[0] != '\0') return -1;
    j->err_line = j->line_no;
    j->err_col = mark != NULL ? (unsigned long)mark->column + 1 : 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->err, sizeof j->err, fmt, ap);
    va_end(ap);
    return -1;
}

/* Sets the error at the current event. */
#define nacos_json_fail(j, ...) \
    nacos_json_fail_at((j), (j)->ev != NULL ? fy_event_start_mark((j)->ev) : NULL, __VA_ARGS__)

/* Copies the parser's first collected error into j. */
static void nacos_json_fail_from_diag(nacos_json *j)
{
    void *iter = NULL;
    struct fy_diag_error *e = fy_diag_errors_iterate(j->diag, &iter);
    if (e == NULL) {
        nacos_json_fail_at(j, NULL, "malformed JSON");
        return;
    }
    j->err_line = j->line_no;
    /* libfyaml counts from 1.  Past the end of the one line we gave it (an
     * unclosed bracket) it reports the next line: point at the line end. */
    j->err_col = e->line > 1 || e->column < 1 ? (unsigned long)j->line_len + 1 : (unsigned long)e->column;
    snprintf(j->err, sizeof j->err, "malformed JSON: %s", e->msg != NULL ? e->msg : "syntax error");
}

static int nacos_json_open(nacos_json *j, const char *line, size_t len, unsigned long line_no)
{
    *j = (nacos_json){.line_len = len, .line_no = line_no};
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = nacos_diag_discard;
    dcfg.colorize = false;
    j->diag = fy_diag_create(&dcfg);
    if (j->diag == NULL) return -1;
    fy_diag_set_collect_errors(j->diag, true);
    struct fy_parse_cfg cfg = {.flags = FYPCF_QUIET | FYPCF_JSON_FORCE, .diag = j->diag};
    j->fyp = fy_parser_create(&cfg);
    if (j->fyp == NULL || fy_parser_set_string(j->fyp, line, len) != 0) return -1;
    return 0;
}

static void nacos_json_close(nacos_json *j)
{
    if (j->ev != NULL) fy_parser_event_free(j->fyp, j->ev);
    if (j->fyp != NULL) fy_parser_destroy(j->fyp);
    if (j->diag != NULL) fy_diag_destroy(j->diag);
    j->ev = NULL;
    j->fyp = NULL;
    j->diag = NULL;
}

/* Advances to the next event; NULL (with j->err set) at an error. */
static struct fy_event *nacos_json_next(nacos_json *j)
{
    if (j->ev != NULL) fy_parser_event_free(j->fyp, j->ev);
    j->ev = fy_parser_parse(j->fyp);
    if (j->ev == NULL) {
        if (fy_parser_get_stream_error(j->fyp)) {
            nacos_json_fail_from_diag(j);
        } else {
            nacos_json_fail_at(j, NULL, "malformed JSON: unexpected end of input");
        }
    }
    return j->ev;
}

/* After a line's top-level array or object: the document and the stream
 * must end there.  0, or -1 with the error set. */
static int nacos_json_line_end(nacos_json *j, const char *what)
{
    if (nacos_json_next(j) == NULL) return -1; /* document end */
    if (nacos_json_next(j) == NULL) return -1;
    if (j->ev->type != FYET_STREAM_END) return nacos_json_fail(j, "expected the end of the line after the %s", what);
    return 0;
}

/* The start of an event, or line start when libfyaml has none for it. */
static struct fy_mark nacos_mark(struct fy_event *ev)
{
    const struct fy_mark *mark = ev != NULL ? fy_event_start_mark(ev) : NULL;
    return mark != NULL ? *mark : (struct fy_mark){.input_pos = 0, .line = 0, .column = 0};
}

static bool nacos_is_scalar(const struct fy_event *ev, enum fy_scalar_style style)
{
    return ev->type == FYET_SCALAR && fy_token_scalar_style(ev->scalar.value) == style;
}

static bool nacos_scalar_is(const struct fy_event *ev, const char *word)
{
    size_t len = 0;
    if (!nacos_is_scalar(ev, FYSS_PLAIN)) return false;
    const char *text = fy_token_get_text(ev->scalar.value, &len);
    return text != NULL && len == strlen(word) && memcmp(text, word, len) == 0;
}

/* A JSON string's value as a new C string; NULL (with j->err set) when the
 * event is not a string or holds a NUL character. */
static char *nacos_json_string(nacos_json *j, const char *what)
{
    size_t len = 0;
    const char *text = nacos_is_scalar(j->ev, FYSS_DOUBLE_QUOTED) ? fy_token_get_text(j->ev->scalar.value, &len) : NULL;
    if (text == NULL || memchr(text, '\0', len) != NULL) {
        nacos_json_fail(j, "expected %s to be a string", what);
        return NULL;
    }
    char *copy = malloc(len + 1);
    if (copy == NULL) {
        nacos_json_fail(j, "out of memory");
        return NULL;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    return copy;
}

/* True when text[0..len) is a JSON number (RFC 8259), an integer only when
 * `integer` is set. */
static bool nacos_json_number_ok(const char *t, size_t len, bool integer)
{
    size_t i = 0;
    if (i < len && t[i] == '-') i++;
    if (i < len && t[i] == '0') {
        i++;
    } else if (i < len && t[i] >= '1' && t[i] <= '9') {
        while (i < len && t[i] >= '0' && t[i] <= '9') i++;
    } else {
        return false;
    }
    if (integer) return i == len;
    if (i < len && t[i] == '.') {
        size_t start = ++i;
        while (i < len && t[i] >= '0' && t[i] <= '9') i++;
        if (i == start) return false;
    }
    if (i < len && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        if (i < len && (t[i] == '+' || t[i] == '-')) i++;
        size_t start = i;
        while (i < len && t[i] >= '0' && t[i] <= '9') i++;
        if (i == start) return false;
    }
    return i == len;
}

static int nacos_json_port(nacos_json *j, uint32_t *port)
{
    size_t len = 0;
    const char *t = nacos_is_scalar(j->ev, FYSS_PLAIN) ? fy_token_get_text(j->ev->scalar.value, &len) : NULL;
    if (t == NULL || !nacos_json_number_ok(t, len, true) || t[0] == '-' || len > 5) {
        return nacos_json_fail(j, "expected \"port\" to be an integer in 0..%u", NACOS_PORT_MAX);
    }
    uint32_t value = 0;
    for (size_t i = 0; i < len; i++) value = value * 10u + (uint32_t)(t[i] - '0');
    if (value > NACOS_PORT_MAX) {
        return nacos_json_fail(j, "expected \"port\" to be an integer in 0..%u", NACOS_PORT_MAX);
    }
    *port = value;
    return 0;
}

static int nacos_json_weight(nacos_json *j, double *weight)
{
    size_t len = 0;
    const char *t = nacos_is_scalar(j->ev, FYSS_PLAIN) ? fy_token_get_text(j->ev->scalar.value, &len) : NULL;
    char text[64];
    if (t == NULL || !nacos_json_number_ok(t, len, false) || len >= sizeof text) {
        return nacos_json_fail(j, "expected \"weight\" to be a number");
    }
    memcpy(text, t, len);
    text[len] = '\0';
    *weight = strtod(text, NULL); /* the C locale: the program never calls setlocale */
    return 0;
}

static int nacos_json_bool(nacos_json *j, const char *name, bool *value)
{
    if (nacos_scalar_is(j->ev, "true")) {
        *value = true;
    } else if (nacos_scalar_is(j->ev, "false")) {
        *value = false;
    } else {
        return nacos_json_fail(j, "expected \"%s\" to be true or false", name);
    }
    return 0;
}

/* Skips the value that starts at the current event (a scalar or a whole
 * nested object or array). */
static int nacos_json_skip(nacos_json *j)
{
    unsigned long depth = 0;
    do { /* bound: the events of the line */
        enum fy_event_type type = j->ev->type;
        if (type == FYET_MAPPING_START || type == FYET_SEQUENCE_START) depth++;
        if (type == FYET_MAPPING_END || type == FYET_SEQUENCE_END) depth--;
        if (depth > 0 && nacos_json_next(j) == NULL) return -1;
    } while (depth > 0);
    return 0;
}

static int nacos_json_metadata(nacos_json *j, distro_instance_owned *inst)
{
    if (j->ev->type != FYET_MAPPING_START) {
        return nacos_json_fail(j, "expected \"metadata\" to be an object of strings");
    }
    for (;;) { /* bound: the events of the line */
        if (nacos_json_next(j) == NULL) return -1;
        if (j->ev->type == FYET_MAPPING_END) return 0;
        struct fy_mark key_mark = nacos_mark(j->ev);
        char *key = nacos_json_string(j, "a metadata key");
        if (key == NULL) return -1;
        char *value = nacos_json_next(j) != NULL ? nacos_json_string(j, "a metadata value") : NULL;
        uint32_t before = inst->inst.metadata_count;
        int rc = value != NULL ? distro_instance_metadata_put(inst, key, value) : -1;
        if (value != NULL && rc != 0) nacos_json_fail(j, "out of memory");
        if (rc == 0 && inst->inst.metadata_count == before) {
            rc = nacos_json_fail_at(j, &key_mark, "expected distinct metadata keys, \"%s\" is repeated", key);
        }
        free(key);
        free(value);
        if (rc != 0) return -1;
    }
}

enum nacos_field {
    NACOS_F_IP, NACOS_F_PORT, NACOS_F_WEIGHT, NACOS_F_HEALTHY, NACOS_F_ENABLED,
    NACOS_F_MARKED, NACOS_F_EPHEMERAL, NACOS_F_CLUSTER, NACOS_F_METADATA, NACOS_F_COUNT,
};

static const char *const nacos_field_names[NACOS_F_COUNT] = {
    "ip", "port", "weight", "healthy", "enabled", "marked", "ephemeral", "clusterName", "metadata",
};

/* The fields of one instance object while it is being read. */
typedef struct nacos_pending {
    char *ip;                    /* owned; NULL until seen */
    char *cluster;               /* owned; NULL means "DEFAULT" */
    uint32_t port;
    double weight;
    bool seen[NACOS_F_COUNT];
} nacos_pending;

/* Reads the value of field `f` (the current event) into p or inst. */
static int nacos_json_field(nacos_json *j, enum nacos_field f, nacos_pending *p, distro_instance_owned *inst)
{
    if (f != NACOS_F_COUNT && nacos_scalar_is(j->ev, "null")) return 0; /* null reads as missing */
    switch (f) {
    case NACOS_F_IP: return (p->ip = nacos_json_string(j, "\"ip\"")) != NULL ? 0 : -1;
    case NACOS_F_CLUSTER: return (p->cluster = nacos_json_string(j, "\"clusterName\"")) != NULL ? 0 : -1;
    case NACOS_F_PORT: return nacos_json_port(j, &p->port);
    case NACOS_F_WEIGHT: return nacos_json_weight(j, &p->weight);
    case NACOS_F_HEALTHY: return nacos_json_bool(j, "healthy", &inst->inst.healthy);
    case NACOS_F_ENABLED: return nacos_json_bool(j, "enabled", &inst->inst.enabled);
    case NACOS_F_MARKED: return nacos_json_bool(j, "marked", &inst->inst.marked);
    case NACOS_F_EPHEMERAL: return nacos_json_bool(j, "ephemeral", &inst->inst.ephemeral);
    case NACOS_F_METADATA: return nacos_json_metadata(j, inst);
    case NACOS_F_COUNT: return nacos_json_skip(j); /* an unknown field */
    }
    return nacos_json_fail(j, "internal error: unknown field kind");
}

static enum nacos_field nacos_field_lookup(const char *key, size_t len)
{
    for (unsigned f = 0; f < NACOS_F_COUNT; f++) {
        if (strlen(nacos_field_names[f]) == len && memcmp(nacos_field_names[f], key, len) == 0) {
            return (enum nacos_field)f;
        }
    }
    return NACOS_F_COUNT;
}

/* Reads one instance object (the current event is its MAPPING_START) into
 * `inst`, which the caller has set to the defaults. */
static int nacos_json_instance(nacos_json *j, distro_instance_owned *inst)
{
    struct fy_mark start = nacos_mark(j->ev);
    nacos_pending p = {.ip = NULL, .cluster = NULL, .port = 0, .weight = 1.0};
    int rc = 0;
    for (;;) { /* bound: the events of the line */
        if (nacos_json_next(j) == NULL) {
            rc = -1;
            break;
        }
        if (j->ev->type == FYET_MAPPING_END) break;
        size_t len = 0;
        const char *key = nacos_is_scalar(j->ev, FYSS_DOUBLE_QUOTED) ? fy_token_get_text(j->ev->scalar.value, &len) : NULL;
        if (key == NULL) {
            rc = nacos_json_fail(j, "expected a field name (a string)");
            break;
        }
        enum nacos_field f = nacos_field_lookup(key, len);
        if (f != NACOS_F_COUNT && p.seen[f]) {
            rc = nacos_json_fail(j, "expected each field once, \"%s\" is repeated", nacos_field_names[f]);
            break;
        }
        if (f != NACOS_F_COUNT) p.seen[f] = true;
        if (nacos_json_next(j) == NULL || nacos_json_field(j, f, &p, inst) != 0) {
            rc = -1;
            break;
        }
    }
    if (rc == 0 && p.ip == NULL) {
        rc = nacos_json_fail_at(j, &start, "expected an \"ip\" field (a string) in the instance object");
    }
    if (rc == 0 && distro_instance_set(inst, p.ip, p.port, p.weight, p.cluster) != 0) {
        rc = nacos_json_fail_at(j, &start, "out of memory");
    }
    free(p.ip);
    free(p.cluster);
    return rc;
}

/* --- checksum: the tool ---------------------------------------------------- */

typedef struct nacos_list {
    distro_instance_owned *items; /* owned; [0, count) initialised */
    size_t count;
    size_t cap;
} nacos_list;

static void nacos_list_clear(nacos_list *list)
{
    for (size_t i = 0; i < list->count; i++) distro_instance_deinit(&list->items[i]);
    list->count = 0;
}

/* Appends a default instance; NULL when out of memory. */
static distro_instance_owned *nacos_list_push(nacos_list *list)
{
    if (!SIM_VEC_RESERVE(list->items, list->count, list->cap, 1)) return NULL;
    distro_instance_owned *inst = &list->items[list->count++];
    distro_instance_owned_init(inst);
    return inst;
}

/* Parses one line into `list` (empty on entry). */
static int nacos_json_list(nacos_json *j, nacos_list *list)
{
    if (nacos_json_next(j) == NULL || nacos_json_next(j) == NULL) return -1; /* stream, document start */
    if (nacos_json_next(j) == NULL) return -1;
    if (j->ev->type != FYET_SEQUENCE_START) {
        return nacos_json_fail(j, "expected a JSON array of instance objects");
    }
    for (;;) { /* bound: the events of the line */
        if (nacos_json_next(j) == NULL) return -1;
        if (j->ev->type == FYET_SEQUENCE_END) break;
        if (j->ev->type != FYET_MAPPING_START) return nacos_json_fail(j, "expected an instance object");
        distro_instance_owned *inst = nacos_list_push(list);
        if (inst == NULL) return nacos_json_fail(j, "out of memory");
        if (nacos_json_instance(j, inst) != 0) return -1;
    }
    return nacos_json_line_end(j, "array");
}

/* A subcommand that reads stdin and takes no argument: -1 to go on, else
 * its exit status (0 after --help, 2 after anything else). */
static int nacos_no_args(const char *cmd, int argc, char **argv)
{
    if (argc == 0) return -1;
    if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        nacos_usage(stdout);
        return 0;
    }
    fprintf(stderr, "distrosim: nacos %s: unexpected argument '%s'\n", cmd, argv[0]);
    nacos_usage(stderr);
    return 2;
}

static int nacos_checksum(int argc, char **argv)
{
    int st = nacos_no_args("checksum", argc, argv);
    return st >= 0 ? st : cli_nacos_checksum_read(stdin, stdout, stderr);
}

int cli_nacos_checksum_read(FILE *in, FILE *out, FILE *errs)
{
    nacos_list list = {.items = NULL, .count = 0, .cap = 0};
    char *line = NULL;
    size_t cap = 0;
    ssize_t got = 0;
    unsigned long line_no = 0;
    int status = 0;
    while (status == 0 && (got = getline(&line, &cap, in)) >= 0) { /* bound: the input */
        line_no++;
        size_t len = nacos_chomp(line, (size_t)got);
        if (nacos_blank(line, len)) continue;
        nacos_json j;
        if (nacos_json_open(&j, line, len, line_no) != 0) {
            nacos_json_fail_at(&j, NULL, "cannot start the JSON parser");
        } else if (nacos_json_list(&j, &list) == 0) {
            char hex[33];
            if (distro_instance_owned_checksum(list.items, list.count, hex) != 0) {
                nacos_json_fail_at(&j, NULL, "out of memory");
            } else {
                fprintf(out, "%s\n", hex);
            }
        }
        if (j.err[0] != '\0') {
            fprintf(errs, "distrosim: nacos checksum: <stdin>:%lu:%lu: %s\n", j.err_line, j.err_col, j.err);
            status = 2;
        }
        nacos_json_close(&j);
        nacos_list_clear(&list);
    }
    free(line);
    free(list.items);
    if (status != 0) return status;
    return nacos_finish_output("checksum", out, errs);
}

/* --- revision: 2.x IP-port clients ------------------------------------------ */

/* One client while it is read: its services and their extendDatum, with
 * the strings they point at (all owned). */
typedef struct nacos_client {
    char *client_id;
    distro2_publish *pubs;
    size_t pubs_count, pubs_cap;
    char **strings;              /* every string the client owns */
    size_t strings_count, strings_cap;
    /* extendDatum arrays, one per service (owned). */
    distro2_extend **exts;
    size_t exts_count, exts_cap;
} nacos_client;

static void nacos_client_clear(nacos_client *c)
{
    for (size_t i = 0; i < c->strings_count; i++) free(c->strings[i]);
    for (size_t i = 0; i < c->exts_count; i++) free(c->exts[i]);
    free(c->strings);
    free(c->exts);
    free(c->pubs);
    free(c->client_id);
    *c = (nacos_client){0};
}

/* Keeps `s` (owned) in the client; NULL stays NULL.  False when out of memory
 * (then `s` is freed). */
static bool nacos_client_keep(nacos_client *c, char *s)
{
    if (s == NULL) return true;
    if (!SIM_VEC_RESERVE(c->strings, c->strings_count, c->strings_cap, 1)) {
        free(s);
        return false;
    }
    c->strings[c->strings_count++] = s;
    return true;
}

/* A string field of a service, kept by the client. */
static int nacos_rev_string(nacos_json *j, nacos_client *c, const char *what, const char **out)
{
    char *s = nacos_json_string(j, what);
    if (s == NULL) return -1;
    if (!nacos_client_keep(c, s)) return nacos_json_fail(j, "out of memory");
    *out = s;
    return 0;
}

/* One extendDatum value as Jackson reads it into an Object: a string, a
 * Boolean, null, an Integer when an integer fits 32 bits, else a Long, else
 * (any other number) a Double.  Objects, arrays and integers beyond 64
 * bits are refused. */
static int nacos_rev_value(nacos_json *j, nacos_client *c, distro2_value *v)
{
    if (nacos_scalar_is(j->ev, "null")) {
        *v = (distro2_value){.kind = DISTRO2_VALUE_NULL};
        return 0;
    }
    if (nacos_scalar_is(j->ev, "true") || nacos_scalar_is(j->ev, "false")) {
        *v = (distro2_value){.kind = DISTRO2_VALUE_BOOLEAN, .b = nacos_scalar_is(j->ev, "true")};
        return 0;
    }
    if (nacos_is_scalar(j->ev, FYSS_DOUBLE_QUOTED)) {
        const char *s = NULL;
        if (nacos_rev_string(j, c, "an extendDatum value", &s) != 0) return -1;
        *v = (distro2_value){.kind = DISTRO2_VALUE_STRING, .s = s};
        return 0;
    }
    size_t len = 0;
    const char *t = nacos_is_scalar(j->ev, FYSS_PLAIN) ? fy_token_get_text(j->ev->scalar.value, &len) : NULL;
    char text[64];
    if (t == NULL || !nacos_json_number_ok(t, len, false) || len >= sizeof text) {
        return nacos_json_fail(j, "expected an extendDatum value to be a string, a number, true, false or null");
    }
    memcpy(text, t, len);
    text[len] = '\0';
    if (nacos_json_number_ok(t, len, true)) {
        errno = 0;
        char *end = NULL;
        long long i = strtoll(text, &end, 10);
        if (errno != 0) return nacos_json_fail(j, "expected an extendDatum integer within 64 bits");
        bool small = i >= INT32_MIN && i <= INT32_MAX;
        *v = (distro2_value){.kind = small ? DISTRO2_VALUE_INTEGER : DISTRO2_VALUE_LONG, .i = i};
        return 0;
    }
    *v = (distro2_value){.kind = DISTRO2_VALUE_DOUBLE, .d = strtod(text, NULL)};
    return 0;
}

static int nacos_rev_extend(nacos_json *j, nacos_client *c, distro2_publish *p)
{
    if (j->ev->type != FYET_MAPPING_START) return nacos_json_fail(j, "expected \"extendDatum\" to be an object");
    distro2_extend *ext = NULL;
    size_t count = 0, cap = 0;
    for (;;) { /* bound: the events of the line */
        if (nacos_json_next(j) == NULL) break;
        if (j->ev->type == FYET_MAPPING_END) {
            if (!SIM_VEC_RESERVE(c->exts, c->exts_count, c->exts_cap, 1)) break;
            c->exts[c->exts_count++] = ext;
            p->extend = ext;
            p->extend_count = (uint32_t)count;
            return 0;
        }
        struct fy_mark key_mark = nacos_mark(j->ev);
        const char *key = NULL;
        if (nacos_rev_string(j, c, "an extendDatum key", &key) != 0) break;
        bool repeated = false;
        for (size_t i = 0; i < count; i++) repeated = repeated || strcmp(ext[i].key, key) == 0;
        if (repeated) {
            nacos_json_fail_at(j, &key_mark, "expected distinct extendDatum keys, \"%s\" is repeated", key);
            break;
        }
        if (!SIM_VEC_RESERVE(ext, count, cap, 1)) {
            nacos_json_fail(j, "out of memory");
            break;
        }
        ext[count].key = key;
        if (nacos_json_next(j) == NULL || nacos_rev_value(j, c, &ext[count].value) != 0) break;
        count++;
    }
    if (j->err[0] == '\0') nacos_json_fail(j, "out of memory");
    free(ext);
    return -1;
}

enum nacos_rev_field {
    NACOS_R_NAMESPACE, NACOS_R_GROUP, NACOS_R_NAME, NACOS_R_EPHEMERAL, NACOS_R_IP, NACOS_R_PORT,
    NACOS_R_HEALTHY, NACOS_R_CLUSTER, NACOS_R_EXTEND, NACOS_R_COUNT,
};

static const char *const nacos_rev_field_names[NACOS_R_COUNT] = {
    "namespace", "group", "name", "ephemeral", "ip", "port", "healthy", "cluster", "extendDatum",
};

/* One service object (the current event is its MAPPING_START).  Required:
 * namespace, group, name, ip, port; defaults: ephemeral from the client
 * id's "#true"/"#false", healthy true, cluster "DEFAULT", no extendDatum. */
static int nacos_rev_service(nacos_json *j, nacos_client *c, bool ephemeral)
{
    struct fy_mark start = nacos_mark(j->ev);
    if (!SIM_VEC_RESERVE(c->pubs, c->pubs_count, c->pubs_cap, 1)) return nacos_json_fail(j, "out of memory");
    distro2_publish *p = &c->pubs[c->pubs_count++];
    *p = (distro2_publish){.ephemeral = ephemeral, .healthy = true};
    bool seen[NACOS_R_COUNT] = {false};
    for (;;) { /* bound: the events of the line */
        if (nacos_json_next(j) == NULL) return -1;
        if (j->ev->type == FYET_MAPPING_END) break;
        size_t len = 0;
        const char *key = nacos_is_scalar(j->ev, FYSS_DOUBLE_QUOTED) ? fy_token_get_text(j->ev->scalar.value, &len) : NULL;
        if (key == NULL) return nacos_json_fail(j, "expected a field name (a string)");
        unsigned f = 0;
        while (f < NACOS_R_COUNT && !(strlen(nacos_rev_field_names[f]) == len &&
                                      memcmp(nacos_rev_field_names[f], key, len) == 0)) f++;
        if (f < NACOS_R_COUNT && seen[f]) {
            return nacos_json_fail(j, "expected each field once, \"%s\" is repeated", nacos_rev_field_names[f]);
        }
        if (f < NACOS_R_COUNT) seen[f] = true;
        if (nacos_json_next(j) == NULL) return -1;
        int rc = 0;
        switch ((enum nacos_rev_field)f) {
        case NACOS_R_NAMESPACE: rc = nacos_rev_string(j, c, "\"namespace\"", &p->namespace_id); break;
        case NACOS_R_GROUP: rc = nacos_rev_string(j, c, "\"group\"", &p->group); break;
        case NACOS_R_NAME: rc = nacos_rev_string(j, c, "\"name\"", &p->service); break;
        case NACOS_R_IP: rc = nacos_rev_string(j, c, "\"ip\"", &p->ip); break;
        case NACOS_R_CLUSTER: rc = nacos_rev_string(j, c, "\"cluster\"", &p->cluster); break;
        case NACOS_R_EPHEMERAL: rc = nacos_json_bool(j, "ephemeral", &p->ephemeral); break;
        case NACOS_R_HEALTHY: rc = nacos_json_bool(j, "healthy", &p->healthy); break;
        case NACOS_R_PORT: rc = nacos_json_port(j, &p->port); break;
        case NACOS_R_EXTEND: rc = nacos_rev_extend(j, c, p); break;
        case NACOS_R_COUNT: rc = nacos_json_skip(j); break;
        }
        if (rc != 0) return -1;
    }
    static const enum nacos_rev_field required[] = {NACOS_R_NAMESPACE, NACOS_R_GROUP, NACOS_R_NAME, NACOS_R_IP,
                                                    NACOS_R_PORT};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (!seen[required[i]]) {
            return nacos_json_fail_at(j, &start, "expected a \"%s\" field in the service object",
                                      nacos_rev_field_names[required[i]]);
        }
    }
    return 0;
}

/* One client object per line. */
static int nacos_rev_client(nacos_json *j, nacos_client *c)
{
    if (nacos_json_next(j) == NULL || nacos_json_next(j) == NULL) return -1; /* stream, document start */
    if (nacos_json_next(j) == NULL) return -1;
    if (j->ev->type != FYET_MAPPING_START) return nacos_json_fail(j, "expected a JSON object (a client)");
    struct fy_mark start = nacos_mark(j->ev);
    bool seen_services = false;
    for (;;) { /* bound: the events of the line */
        if (nacos_json_next(j) == NULL) return -1;
        if (j->ev->type == FYET_MAPPING_END) break;
        size_t len = 0;
        const char *key = nacos_is_scalar(j->ev, FYSS_DOUBLE_QUOTED) ? fy_token_get_text(j->ev->scalar.value, &len) : NULL;
        if (key == NULL) return nacos_json_fail(j, "expected a field name (a string)");
        bool is_id = len == 8 && memcmp(key, "clientId", 8) == 0;
        bool is_services = len == 8 && memcmp(key, "services", 8) == 0;
        if ((is_id && c->client_id != NULL) || (is_services && seen_services)) {
            return nacos_json_fail(j, "expected each field once, \"%s\" is repeated", is_id ? "clientId" : "services");
        }
        if (nacos_json_next(j) == NULL) return -1;
        if (is_id) {
            struct fy_mark id_mark = nacos_mark(j->ev);
            if ((c->client_id = nacos_json_string(j, "\"clientId\"")) == NULL) return -1;
            if (seen_services) {
                return nacos_json_fail_at(j, &id_mark, "expected \"clientId\" before \"services\"");
            }
            if (strchr(c->client_id, '#') == NULL) {
                return nacos_json_fail_at(j, &id_mark,
                                          "expected an IP-port client id (\"ip:port#true\"): a connection "
                                          "client's revision is a counter, +1 per register and deregister");
            }
        } else if (is_services) {
            seen_services = true;
            if (c->client_id == NULL) return nacos_json_fail(j, "expected \"clientId\" before \"services\"");
            if (j->ev->type != FYET_SEQUENCE_START) return nacos_json_fail(j, "expected \"services\" to be an array");
            size_t id_len = strlen(c->client_id);
            bool ephemeral = !(id_len >= 6 && strcmp(c->client_id + id_len - 6, "#false") == 0);
            for (;;) { /* bound: the events of the line */
                if (nacos_json_next(j) == NULL) return -1;
                if (j->ev->type == FYET_SEQUENCE_END) break;
                if (j->ev->type != FYET_MAPPING_START) return nacos_json_fail(j, "expected a service object");
                if (nacos_rev_service(j, c, ephemeral) != 0) return -1;
            }
        } else if (nacos_json_skip(j) != 0) {
            return -1;
        }
    }
    if (c->client_id == NULL) return nacos_json_fail_at(j, &start, "expected a \"clientId\" field (a string)");
    return nacos_json_line_end(j, "object");
}

static int nacos_revision(int argc, char **argv)
{
    int st = nacos_no_args("revision", argc, argv);
    return st >= 0 ? st : cli_nacos_revision_read(stdin, stdout, stderr);
}

int cli_nacos_revision_read(FILE *in, FILE *out, FILE *errs)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t got = 0;
    unsigned long line_no = 0;
    int status = 0;
    while (status == 0 && (got = getline(&line, &cap, in)) >= 0) { /* bound: the input */
        line_no++;
        size_t len = nacos_chomp(line, (size_t)got);
        if (nacos_blank(line, len)) continue;
        nacos_json j;
        nacos_client c = {0};
        if (nacos_json_open(&j, line, len, line_no) != 0) {
            nacos_json_fail_at(&j, NULL, "cannot start the JSON parser");
        } else if (nacos_rev_client(&j, &c) == 0) {
            fprintf(out, "%" PRId32 "\n", distro2_ipport_revision(c.client_id, c.pubs, c.pubs_count));
        }
        if (j.err[0] != '\0') {
            fprintf(errs, "distrosim: nacos revision: <stdin>:%lu:%lu: %s\n", j.err_line, j.err_col, j.err);
            status = 2;
        }
        nacos_json_close(&j);
        nacos_client_clear(&c);
    }
    free(line);
    if (status != 0) return status;
    return nacos_finish_output("revision", out, errs);
}

int cli_nacos_main(int argc, char **argv)
{
    if (argc < 1) {
        nacos_usage(stderr);
        return 2;
    }
    if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        nacos_usage(stdout);
        return 0;
    }
    if (strcmp(argv[0], "owner") == 0) return nacos_owner(argc - 1, argv + 1);
    if (strcmp(argv[0], "checksum") == 0) return nacos_checksum(argc - 1, argv + 1);
    if (strcmp(argv[0], "revision") == 0) return nacos_revision(argc - 1, argv + 1);
    fprintf(stderr, "distrosim: nacos: unknown subcommand '%s'\n", argv[0]);
    nacos_usage(stderr);
    return 2;
}
