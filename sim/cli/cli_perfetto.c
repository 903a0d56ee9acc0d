/* cli_perfetto.c: Chrome trace-event JSON from the engine's trace hook.
 * The format and its choices are described in cli_perfetto.h.
 *
 * Invariants:
 *   (1) The output is a JSON document once cli_perfetto_close has run:
 *       every event is one object in the "traceEvents" array, separated by
 *       commas (`first` says whether one is due), and every string goes
 *       through json_string.
 *   (2) Flow ids are unique within a file: 1, 2, 3, ... in delivery order.
 *   (3) Nothing here reads the clock or the host: the bytes depend only on
 *       the events, so two replays of one seed give the same file. */
#include "cli_perfetto.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "distro_cluster.h"
#include "run_scenario.h"
#include "sim_assert.h"

#define CLI_PERFETTO_NAME_MAX 160   /* bytes of one node's thread name */

struct cli_perfetto {
    FILE *out;                  /* kept; the caller closes it */
    uint32_t nodes;
    uint64_t flow_next;         /* (2) */
    bool first;                 /* no event written yet: no comma due */
    bool has_hash;              /* cli_perfetto_set_trace_hash was called */
    uint64_t trace_hash;
    bool failed;                /* a write failed */
};

/* --- JSON text ------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at `s` (1-4), or 0 when the bytes there
 * are not one (overlong forms, surrogates and code points above U+10FFFF
 * included). */
static size_t utf8_valid(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (n == 0 || c > 0xF4) return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;       /* also stops at the NUL */
    }
    if (c == 0xE0 && s[1] < 0xA0) return 0;         /* overlong */
    if (c == 0xED && s[1] >= 0xA0) return 0;        /* surrogate */
    if (c == 0xF0 && s[1] < 0x90) return 0;         /* overlong */
    if (c == 0xF4 && s[1] >= 0x90) return 0;        /* above U+10FFFF */
    return n;
}

static void json_string(cli_perfetto *p, const char *text)
{
    FILE *f = p->out;
    const unsigned char *s = (const unsigned char *)(text != NULL ? text : "");
    if (fputc('"', f) == EOF) p->failed = true;
    while (*s != '\0') {                              /* bound: strlen(text) */
        unsigned char c = *s;
        int rc = 0;
        if (c == '"' || c == '\\') {
            rc = fprintf(f, "\\%c", c);
            s++;
        } else if (c < 0x20) {
            rc = fprintf(f, "\\u%04x", c);
            s++;
        } else {
            size_t n = utf8_valid(s);
            if (n == 0) {
                rc = fputs("\\ufffd", f);
                s++;
            } else {
                rc = fwrite(s, 1, n, f) == n ? 0 : EOF;
                s += n;
            }
        }
        if (rc < 0) p->failed = true;
    }
    if (fputc('"', f) == EOF) p->failed = true;
}

/* Starts one event object: the comma, then `{"name":NAME,"ph":"PH"`. */
static void event_begin(cli_perfetto *p, const char *name, const char *ph)
{
    if (fputs(p->first ? "\n" : ",\n", p->out) == EOF) p->failed = true;
    p->first = false;
    if (fputs("{\"name\":", p->out) == EOF) p->failed = true;
    json_string(p, name);
    if (fprintf(p->out, ",\"ph\":\"%s\"", ph) < 0) p->failed = true;
}

static void put_ts(cli_perfetto *p, const char *key, sim_time_ns ns)
{
    if (fprintf(p->out, ",\"%s\":%" PRIu64 ".%03u", key, ns / 1000, (unsigned)(ns % 1000)) < 0) p->failed = true;
}

static void put_raw(cli_perfetto *p, const char *text)
{
    if (fputs(text, p->out) == EOF) p->failed = true;
}

/* The event's sequence number as `distrosim replay --trace` prints it, so
 * the two traces can be read side by side: ordinary numbers start at 2^62
 * and are shown from 0; smaller ones are events resumed from a pause
 * backlog, shown with an "r". */
static void seq_text(uint64_t seq, char *buf, size_t size)
{
    const uint64_t base = 1ull << 62;
    if (seq >= base) {
        snprintf(buf, size, "%" PRIu64, seq - base);
    } else {
        snprintf(buf, size, "r%" PRIu64, seq);
    }
}

/* --- API ------------------------------------------------------------------- */

cli_perfetto *cli_perfetto_open(FILE *out, uint32_t nodes, const char *const *node_names)
{
    if (out == NULL) return NULL;
    cli_perfetto *p = calloc(1, sizeof *p);
    if (p == NULL) return NULL;
    p->out = out;
    p->nodes = nodes;
    p->flow_next = 1;
    p->first = true;
    put_raw(p, "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"distrosim\"},\"traceEvents\":[");
    event_begin(p, "process_name", "M");
    put_raw(p, ",\"pid\":1,\"tid\":1,\"args\":{\"name\":\"distrosim\"}}");
    event_begin(p, "process_name", "M");
    if (fprintf(out, ",\"pid\":2,\"tid\":%" PRIu32 ",\"args\":{\"name\":\"harness\"}}", nodes + 1) < 0) p->failed = true;
    for (uint32_t n = 0; n < nodes; n++) {           /* bound: nodes */
        char name[CLI_PERFETTO_NAME_MAX];
        const char *address = node_names != NULL ? node_names[n] : NULL;
        int len = address != NULL ? snprintf(name, sizeof name, "node %" PRIu32 " (%s)", n, address)
                                  : snprintf(name, sizeof name, "node %" PRIu32, n);
        if (len < 0 || (size_t)len >= sizeof name) {
            fprintf(stderr, "distrosim: perfetto: the name of node %" PRIu32 " is longer than the limit of %zu bytes\n",
                    n, sizeof name - 1);
            p->failed = true;
        }
        event_begin(p, "thread_name", "M");
        if (fprintf(out, ",\"pid\":1,\"tid\":%" PRIu32 ",\"args\":{\"name\":", n + 1) < 0) p->failed = true;
        json_string(p, name);
        put_raw(p, "}}");
        event_begin(p, "thread_sort_index", "M");
        if (fprintf(out, ",\"pid\":1,\"tid\":%" PRIu32 ",\"args\":{\"sort_index\":%" PRIu32 "}}", n + 1, n) < 0) {
            p->failed = true;
        }
    }
    return p;
}

static void message_event(cli_perfetto *p, const sim_trace_record *rec, const sim_message *msg)
{
    SIM_ASSERT(msg->sent_at_ns <= rec->at_ns);       /* a message never arrives before it is sent */
    const char *type = distro_msg_type_name(msg->type);
    if (msg->dropped >= 0) {
        /* Dropped at delivery: the send, and a mark where it was lost; no
         * flow, so viewers draw no arrow for a message nobody received. */
        event_begin(p, type, "X");
        put_raw(p, ",\"cat\":\"msg\"");
        put_ts(p, "ts", msg->sent_at_ns);
        if (fprintf(p->out, ",\"dur\":0.001,\"pid\":1,\"tid\":%" PRIu32 ",\"args\":{\"to\":%" PRIu32
                            ",\"bytes\":%" PRIu32 ",\"dropped\":\"%s\"}}",
                    msg->src + 1, msg->dst, msg->bytes, sim_drop_reason_name((sim_drop_reason)msg->dropped)) < 0) {
            p->failed = true;
        }
        char name[96];
        int len = snprintf(name, sizeof name, "%s dropped (%s)", type,
                           sim_drop_reason_name((sim_drop_reason)msg->dropped));
        if (len < 0 || (size_t)len >= sizeof name) p->failed = true;   /* names are short constants: never */
        /* The mark names its sender's track and the send instant (ns), so
         * a reader can draw the lost message (the report's diagram does). */
        event_begin(p, name, "i");
        put_raw(p, ",\"cat\":\"drop\",\"s\":\"t\"");
        put_ts(p, "ts", rec->at_ns);
        if (fprintf(p->out, ",\"pid\":1,\"tid\":%" PRIu32 ",\"args\":{\"from\":%" PRIu32 ",\"sent_ns\":%" PRIu64 "}}",
                    msg->dst + 1, msg->src + 1, msg->sent_at_ns) < 0) {
            p->failed = true;
        }
        return;
    }
    uint64_t id = p->flow_next++;
    /* Sender: a 1 ns slice (flows bind to slices) and the flow start. */
    event_begin(p, type, "X");
    put_raw(p, ",\"cat\":\"msg\"");
    put_ts(p, "ts", msg->sent_at_ns);
    if (fprintf(p->out, ",\"dur\":0.001,\"pid\":1,\"tid\":%" PRIu32 ",\"args\":{\"to\":%" PRIu32 ",\"bytes\":%" PRIu32
                        ",\"type\":%u}}", msg->src + 1, msg->dst, msg->bytes, (unsigned)msg->type) < 0) {
        p->failed = true;
    }
    event_begin(p, type, "s");
    put_raw(p, ",\"cat\":\"msg\"");
    put_ts(p, "ts", msg->sent_at_ns);
    if (fprintf(p->out, ",\"pid\":1,\"tid\":%" PRIu32 ",\"id\":%" PRIu64 "}", msg->src + 1, id) < 0) p->failed = true;
    /* Receiver: the slice and the flow end bound to it. */
    event_begin(p, type, "X");
    put_raw(p, ",\"cat\":\"msg\"");
    put_ts(p, "ts", rec->at_ns);
    char seq[32];
    seq_text(rec->seq, seq, sizeof seq);
    if (fprintf(p->out, ",\"dur\":0.001,\"pid\":1,\"tid\":%" PRIu32 ",\"args\":{\"from\":%" PRIu32 ",\"bytes\":%" PRIu32
                        ",\"in_flight_ns\":%" PRIu64 ",\"seq\":\"%s\"}}",
                msg->dst + 1, msg->src, msg->bytes, rec->at_ns - msg->sent_at_ns, seq) < 0) {
        p->failed = true;
    }
    event_begin(p, type, "f");
    put_raw(p, ",\"cat\":\"msg\",\"bp\":\"e\"");
    put_ts(p, "ts", rec->at_ns);
    if (fprintf(p->out, ",\"pid\":1,\"tid\":%" PRIu32 ",\"id\":%" PRIu64 "}", msg->dst + 1, id) < 0) p->failed = true;
}

/* An instant on the harness track (process 2). */
static void harness_instant(cli_perfetto *p, const char *name, const char *cat, sim_time_ns at_ns)
{
    event_begin(p, name, "i");
    if (fprintf(p->out, ",\"cat\":\"%s\",\"s\":\"t\"", cat) < 0) p->failed = true;
    put_ts(p, "ts", at_ns);
    if (fprintf(p->out, ",\"pid\":2,\"tid\":%" PRIu32 "}", p->nodes + 1) < 0) p->failed = true;
}

void cli_perfetto_event(void *ctx, const sim_trace_record *rec, const sim_message *msg)
{
    cli_perfetto *p = ctx;
    SIM_ASSERT(p != NULL);
    SIM_ASSERT(rec != NULL);
    if (msg != NULL) {
        message_event(p, rec, msg);
        return;
    }
    bool harness = rec->node == SIM_NODE_NONE;
    char buf[32];
    const char *name = run_event_kind_name(rec->kind, buf, sizeof buf);
    if (harness && rec->kind != SIM_KIND_FAULT) {
        harness_instant(p, name, "harness", rec->at_ns);
        return;
    }
    /* A harness fault event is a global instant, so it draws across every
     * track (and the report draws it as a mark); its note says what it did. */
    event_begin(p, name, "i");
    if (fprintf(p->out, ",\"cat\":\"%s\",\"s\":\"%s\"", harness ? "harness" : "event", harness ? "g" : "t") < 0) {
        p->failed = true;
    }
    put_ts(p, "ts", rec->at_ns);
    char seq[32];
    seq_text(rec->seq, seq, sizeof seq);
    if (fprintf(p->out, ",\"pid\":1,\"tid\":%" PRIu32 ",\"args\":{\"kind\":%u,\"seq\":\"%s\",\"incarnation\":%" PRIu32
                        "}}", harness ? 1 : rec->node + 1, (unsigned)rec->kind, seq, rec->incarnation) < 0) {
        p->failed = true;
    }
}

/* A fault: an instant on the harness track, a slice per node hit. */
static void fault_note(cli_perfetto *p, const run_note *note)
{
    harness_instant(p, note->text, "fault", note->at_ns);
    sim_time_ns dur = note->end_ns > note->at_ns ? note->end_ns - note->at_ns : 1;
    for (uint32_t n = 0; n < p->nodes && n < 64; n++) {    /* bound: nodes */
        if (!(note->nodes >> n & 1u)) continue;
        event_begin(p, note->text, "X");
        put_raw(p, ",\"cat\":\"fault\"");
        put_ts(p, "ts", note->at_ns);
        put_ts(p, "dur", dur);
        if (fprintf(p->out, ",\"pid\":1,\"tid\":%" PRIu32 "}", n + 1) < 0) p->failed = true;
    }
}

static void counter(cli_perfetto *p, const char *name, sim_time_ns at_ns, uint64_t value)
{
    event_begin(p, name, "C");
    put_ts(p, "ts", at_ns);
    if (fprintf(p->out, ",\"pid\":1,\"args\":{\"value\":%" PRIu64 "}}", value) < 0) p->failed = true;
}

void cli_perfetto_note(void *ctx, const run_note *note)
{
    cli_perfetto *p = ctx;
    SIM_ASSERT(p != NULL);
    SIM_ASSERT(note != NULL);
    switch (note->kind) {
    case RUN_NOTE_FAULT: fault_note(p, note); break;
    case RUN_NOTE_HARNESS: harness_instant(p, note->text, "harness", note->at_ns); break;
    case RUN_NOTE_MODEL:
        event_begin(p, note->text, "i");
        put_raw(p, ",\"cat\":\"model\",\"s\":\"t\"");
        put_ts(p, "ts", note->at_ns);
        if (fprintf(p->out, ",\"pid\":1,\"tid\":%" PRId32 "}", note->node + 1) < 0) p->failed = true;
        break;
    case RUN_NOTE_SAMPLE: {
        const obs_sample *s = note->sample;
        char name[48];
        snprintf(name, sizeof name, "instances node %" PRIu32, s->node);
        counter(p, name, s->at_ns, s->up ? s->instances : 0);
        if (s->node == 0) counter(p, "divergent keys", s->at_ns, s->divergent_keys);
        break;
    }
    case RUN_NOTE_LAG:   /* reports/SCHEMA.md: acceptance to the last up node's first listing */
        counter(p, "replication lag (us)", note->at_ns, note->value_ns / 1000u);
        break;
    }
}

void cli_perfetto_set_trace_hash(cli_perfetto *p, uint64_t trace_hash)
{
    p->has_hash = true;
    p->trace_hash = trace_hash;
}

int cli_perfetto_close(cli_perfetto *p)
{
    if (p == NULL) return 0;
    put_raw(p, "\n]");
    if (p->has_hash && fprintf(p->out, ",\"distrosim\":{\"trace_hash\":\"%016" PRIx64 "\"}", p->trace_hash) < 0) {
        p->failed = true;
    }
    put_raw(p, "}\n");
    if (fflush(p->out) != 0 || ferror(p->out)) p->failed = true;
    int rc = p->failed ? -1 : 0;
    free(p);
    return rc;
}
