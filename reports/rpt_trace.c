/* rpt_trace.c: reads a Chrome / Perfetto trace-event JSON file for the
 * report's space-time diagram.
 *
 * The results database has no per-message rows (a run sends thousands), so
 * the diagram is drawn from a trace of one replayed run, written by
 * sim/cli_perfetto.c (`distrosim replay ... --perfetto FILE`).  Any trace in
 * the Chrome JSON format works: the object form {"traceEvents": [...]} or a
 * bare array.  Of its events we keep:
 *
 *   ph "M", name "thread_name"   the name of lane `tid`
 *   ph "s" / "f"                 flow start / end: paired by id (the k-th
 *                                start of an id with its k-th end) into an
 *                                arrow from (start ts, tid) to (end ts, tid)
 *   ph "i" / "I" with s "g"      a global instant: a horizontal mark
 *   ph "i", cat "drop"           a lost message (distrosim writes args.from,
 *                                the sender's tid, and args.sent_ns)
 *   ph "X", cat "fault"          a fault on the lane `tid`, ts .. ts + dur
 *
 * The parser is a small iterative scanner, not a general JSON library: it
 * decodes strings (with \u escapes) and numbers, and skips every other
 * value with a depth counter, so nesting depth costs nothing and there is
 * no recursion (H11).  Timestamps are microseconds; "12.345" is read
 * exactly as 12345 ns (three decimals), longer or exponent forms through
 * strtod and rounding.
 *
 * Limits: the file is read whole, at most RPT_REPORT_TRACE_BYTES_MAX bytes;
 * at most RPT_TRACE_NAMES_MAX distinct names are kept (the rest share the
 * name "(other)"). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpt_report_int.h"
#include "sim_alloc.h"
#include "sim_assert.h"
#include "sim_vec.h"

#define RPT_TRACE_NAMES_MAX 4096u
#define RPT_TRACE_NAME_BYTES_MAX 95u

typedef struct jr {
    const char *s;
    size_t n;
    size_t i;
} jr;

typedef struct flow_half {
    uint64_t id;
    int64_t ts_ns;
    uint32_t tid;
    uint32_t name;
    size_t order;                /* position in the file: makes the sort total */
} flow_half;

typedef struct vec {
    void *data;
    size_t count;
    size_t cap;
} vec;

static bool vec_push(vec *v, const void *item, size_t size)
{
    /* SIM_VEC_RESERVE's helper, called directly: the element size is a
     * run-time value here. */
    if (v->count == v->cap && !sim_vec_grow_(&v->data, size, v->count + 1, &v->cap)) return false;
    memcpy((char *)v->data + v->count * size, item, size);
    v->count++;
    return true;
}

typedef struct loader {
    jr r;
    char trace_hash[17];         /* "distrosim": {"trace_hash": ...}; "" = none */
    vec starts, ends, marks, lanes, drops, spans;
    char **names;
    size_t names_count;
    size_t names_cap;
    bool nomem;
} loader;

static void skip_ws(jr *r)
{
    while (r->i < r->n) {                            /* bound: file size */
        char c = r->s[r->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return;
        r->i++;
    }
}

static bool expect(jr *r, char c)
{
    skip_ws(r);
    if (r->i >= r->n || r->s[r->i] != c) return false;
    r->i++;
    return true;
}

static void put_utf8(rpt_buf *out, uint32_t cp)
{
    char b[4];
    size_t n = 0;
    if (cp < 0x80) {
        b[n++] = (char)cp;
    } else if (cp < 0x800) {
        b[n++] = (char)(0xC0 | (cp >> 6));
        b[n++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        b[n++] = (char)(0xE0 | (cp >> 12));
        b[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[n++] = (char)(0x80 | (cp & 0x3F));
    } else {
        b[n++] = (char)(0xF0 | (cp >> 18));
        b[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[n++] = (char)(0x80 | (cp & 0x3F));
    }
    rpt_buf_putn(out, b, n);
}

static bool hex4(jr *r, uint32_t *out)
{
    if (r->n - r->i < 4) return false;
    uint32_t v = 0;
    for (int k = 0; k < 4; k++) {
        char c = r->s[r->i++];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
        else return false;
    }
    *out = v;
    return true;
}

/* Reads a string at the cursor (after whitespace); decodes it into `out`
 * when `out` is not NULL (which is then reset first). */
static bool read_string(jr *r, rpt_buf *out)
{
    if (!expect(r, '"')) return false;
    if (out != NULL) {
        out->len = 0;
        if (out->data != NULL) out->data[0] = '\0';
    }
    while (r->i < r->n) {                            /* bound: file size */
        char c = r->s[r->i++];
        if (c == '"') return true;
        if ((unsigned char)c < 0x20) return false;   /* raw control characters are not JSON */
        if (c != '\\') {
            if (out != NULL) rpt_buf_putn(out, &c, 1);
            continue;
        }
        if (r->i >= r->n) return false;
        char e = r->s[r->i++];
        const char *simple = NULL;
        switch (e) {
        case '"': simple = "\""; break;
        case '\\': simple = "\\"; break;
        case '/': simple = "/"; break;
        case 'b': simple = "\b"; break;
        case 'f': simple = "\f"; break;
        case 'n': simple = "\n"; break;
        case 'r': simple = "\r"; break;
        case 't': simple = "\t"; break;
        case 'u': break;
        default: return false;
        }
        if (simple != NULL) {
            if (out != NULL) rpt_buf_put(out, simple);
            continue;
        }
        uint32_t cp = 0;
        if (!hex4(r, &cp)) return false;
        if (cp >= 0xD800 && cp < 0xDC00 && r->n - r->i >= 6 && r->s[r->i] == '\\' && r->s[r->i + 1] == 'u') {
            size_t save = r->i;
            r->i += 2;
            uint32_t lo = 0;
            if (hex4(r, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
                r->i = save;
            }
        }
        if (cp >= 0xD800 && cp < 0xE000) cp = 0xFFFD;   /* a lone surrogate */
        if (out != NULL) put_utf8(out, cp);
    }
    return false;
}

/* Reads a JSON number; `*ns` gets it read as microseconds, in ns. */
static bool read_number(jr *r, int64_t *ns, double *value)
{
    skip_ws(r);
    size_t start = r->i;
    if (r->i < r->n && r->s[r->i] == '-') r->i++;
    size_t digits = r->i;
    while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9') r->i++;   /* bound: file size */
    if (r->i == digits) return false;
    /* Exact only while whole * 1000 + 999 fits int64_t: at most 15 integer
     * digits (a longer one overflowed the exact sum). */
    bool simple = r->i - digits <= 15;
    if (r->i < r->n && r->s[r->i] == '.') {
        r->i++;
        size_t frac = r->i;
        while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9') r->i++;
        if (r->i == frac) return false;
        if (r->i - frac > 3) simple = false;
    }
    if (r->i < r->n && (r->s[r->i] == 'e' || r->s[r->i] == 'E')) {
        simple = false;
        r->i++;
        if (r->i < r->n && (r->s[r->i] == '+' || r->s[r->i] == '-')) r->i++;
        size_t exp = r->i;
        while (r->i < r->n && r->s[r->i] >= '0' && r->s[r->i] <= '9') r->i++;
        if (r->i == exp) return false;
    }
    char text[64];
    size_t len = r->i - start;
    if (len >= sizeof text) {
        simple = false;
        len = sizeof text - 1;
    }
    memcpy(text, r->s + start, len);
    text[len] = '\0';
    *value = strtod(text, NULL);
    if (simple) {
        /* Exact: integer microseconds and up to three decimals. */
        bool neg = text[0] == '-';
        int64_t whole = 0, frac = 0;
        int frac_digits = 0;
        const char *p = text + (neg ? 1 : 0);
        for (; *p >= '0' && *p <= '9'; p++) whole = whole * 10 + (*p - '0');
        if (*p == '.') {
            for (p++; *p >= '0' && *p <= '9'; p++, frac_digits++) frac = frac * 10 + (*p - '0');
        }
        for (; frac_digits < 3; frac_digits++) frac *= 10;
        *ns = (whole * 1000 + frac) * (neg ? -1 : 1);
    } else {
        double v = *value * 1000.0;
        *ns = fabs(v) < 9.0e18 ? (int64_t)llround(v) : 0;
    }
    return true;
}

/* Skips one value of any kind.  Nesting is tracked with a counter, not the
 * call stack; strings are scanned so brackets inside them do not count. */
static bool skip_value(jr *r)
{
    skip_ws(r);
    if (r->i >= r->n) return false;
    char c = r->s[r->i];
    if (c == '"') return read_string(r, NULL);
    if (c != '{' && c != '[') {
        if (c == '-' || (c >= '0' && c <= '9')) {
            int64_t ns = 0;
            double v = 0.0;
            return read_number(r, &ns, &v);
        }
        static const char *const words[] = { "true", "false", "null" };
        for (size_t w = 0; w < 3; w++) {
            size_t len = strlen(words[w]);
            if (r->n - r->i >= len && memcmp(r->s + r->i, words[w], len) == 0) {
                r->i += len;
                return true;
            }
        }
        return false;
    }
    size_t depth = 0;
    while (r->i < r->n) {                            /* bound: file size */
        c = r->s[r->i];
        if (c == '"') {
            if (!read_string(r, NULL)) return false;
            continue;
        }
        r->i++;
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth == 0) return false;
            if (--depth == 0) return true;
        }
    }
    return false;
}

static bool find_name(const loader *l, const char *name, uint32_t *at)
{
    for (size_t k = 0; k < l->names_count; k++) {   /* bound: RPT_TRACE_NAMES_MAX */
        if (strcmp(l->names[k], name) == 0) {
            *at = (uint32_t)k;
            return true;
        }
    }
    return false;
}

static uint32_t intern(loader *l, const char *name)
{
    uint32_t at = 0;
    if (find_name(l, name, &at)) return at;
    if (l->names_count + 1 >= RPT_TRACE_NAMES_MAX) {  /* the last slot is "(other)" */
        name = "(other)";
        if (find_name(l, name, &at)) return at;
    }
    char *copy = NULL;
    if (!SIM_VEC_RESERVE(l->names, l->names_count, l->names_cap, 1) || (copy = sim_strdup(name)) == NULL) {
        l->nomem = true;
        return 0;
    }
    l->names[l->names_count] = copy;
    return (uint32_t)l->names_count++;
}

typedef struct event_fields {
    char ph;
    bool has_ts, has_tid, has_id, has_dur, has_from, has_sent;
    int64_t ts_ns;
    int64_t dur_ns;
    uint32_t tid;
    uint64_t id;
    char scope;
    char cat[8];                 /* "drop", "fault", ...: the first bytes */
    uint32_t from;               /* args.from */
    int64_t sent_ns;             /* args.sent_ns, in ns as written */
    rpt_buf name;
    rpt_buf args_name;
} event_fields;

/* Reads the "args" object of an event, keeping only args.name. */
static bool read_args(jr *r, event_fields *e, rpt_buf *key)
{
    skip_ws(r);
    if (r->i >= r->n || r->s[r->i] != '{') return skip_value(r);
    r->i++;
    skip_ws(r);
    if (r->i < r->n && r->s[r->i] == '}') {
        r->i++;
        return true;
    }
    for (;;) {                                       /* bound: file size */
        if (!read_string(r, key) || !expect(r, ':')) return false;
        skip_ws(r);
        bool is_string = r->i < r->n && r->s[r->i] == '"';
        const char *k = rpt_buf_str(key);
        bool ok = true;
        int64_t ns = 0;
        double v = 0.0;
        if (strcmp(k, "name") == 0 && is_string) {
            ok = read_string(r, &e->args_name);
        } else if (strcmp(k, "from") == 0 && !is_string) {
            ok = read_number(r, &ns, &v);
            e->from = v >= 0.0 && v < 4294967296.0 ? (uint32_t)v : 0;
            e->has_from = ok;
        } else if (strcmp(k, "sent_ns") == 0 && !is_string) {
            ok = read_number(r, &ns, &v);   /* written in ns: the number itself, not microseconds */
            e->sent_ns = v >= 0.0 && v < 9.2e18 ? (int64_t)v : 0;
            e->has_sent = ok;
        } else {
            ok = skip_value(r);
        }
        if (!ok) return false;
        if (expect(r, '}')) return true;
        if (!expect(r, ',')) return false;
    }
}

static bool read_event_field(jr *r, event_fields *e, const char *k, rpt_buf *scratch, rpt_buf *key)
{
    double v = 0.0;
    int64_t ns = 0;
    skip_ws(r);
    bool is_string = r->i < r->n && r->s[r->i] == '"';
    if (strcmp(k, "ph") == 0 && is_string) {
        if (!read_string(r, scratch)) return false;
        e->ph = scratch->len > 0 ? scratch->data[0] : '\0';
    } else if (strcmp(k, "s") == 0 && is_string) {
        if (!read_string(r, scratch)) return false;
        e->scope = scratch->len > 0 ? scratch->data[0] : '\0';
    } else if (strcmp(k, "cat") == 0 && is_string) {
        if (!read_string(r, scratch)) return false;
        snprintf(e->cat, sizeof e->cat, "%s", rpt_buf_str(scratch));
    } else if (strcmp(k, "dur") == 0 && !is_string) {
        if (!read_number(r, &ns, &v)) return false;
        e->dur_ns = ns;
        e->has_dur = true;
    } else if (strcmp(k, "name") == 0 && is_string) {
        if (!read_string(r, &e->name)) return false;
    } else if (strcmp(k, "ts") == 0 && !is_string) {
        if (!read_number(r, &ns, &v)) return false;
        e->ts_ns = ns;
        e->has_ts = true;
    } else if (strcmp(k, "tid") == 0 && !is_string) {
        if (!read_number(r, &ns, &v)) return false;
        e->tid = v >= 0.0 && v < 4294967296.0 ? (uint32_t)v : 0;
        e->has_tid = true;
    } else if (strcmp(k, "id") == 0) {
        if (is_string) {
            if (!read_string(r, scratch)) return false;
            e->id = strtoull(rpt_buf_str(scratch), NULL, 16);   /* Perfetto reads string ids as hex */
        } else {
            if (!read_number(r, &ns, &v)) return false;
            e->id = v >= 0.0 && v < 18446744073709551616.0 ? (uint64_t)v : 0;   /* out of range: no id */
        }
        e->has_id = true;
    } else if (strcmp(k, "args") == 0) {
        return read_args(r, e, key);
    } else {
        return skip_value(r);
    }
    return true;
}

static void keep_event(loader *l, event_fields *e)
{
    const char *name = e->name.len > 0 ? rpt_buf_str(&e->name) : "(unnamed)";
    if (name[0] != '\0' && strlen(name) > RPT_TRACE_NAME_BYTES_MAX) e->name.data[RPT_TRACE_NAME_BYTES_MAX] = '\0';
    bool ok = true;
    if ((e->ph == 's' || e->ph == 'f') && e->has_id && e->has_ts && e->has_tid) {
        flow_half h = { .id = e->id, .ts_ns = e->ts_ns, .tid = e->tid, .name = intern(l, name),
                        .order = e->ph == 's' ? l->starts.count : l->ends.count };
        ok = vec_push(e->ph == 's' ? &l->starts : &l->ends, &h, sizeof h);
    } else if ((e->ph == 'i' || e->ph == 'I') && e->scope == 'g' && e->has_ts) {
        rpt_trace_mark m = { .at_ns = e->ts_ns, .name = intern(l, name) };
        ok = vec_push(&l->marks, &m, sizeof m);
    } else if (e->ph == 'i' && strcmp(e->cat, "drop") == 0 && e->has_ts && e->has_tid && e->has_from && e->has_sent) {
        /* "TYPE dropped (REASON)": the type colours it, the whole names it. */
        char type[RPT_TRACE_NAME_BYTES_MAX + 1];
        snprintf(type, sizeof type, "%s", name);
        char *cut = strstr(type, " dropped");
        if (cut != NULL) *cut = '\0';
        rpt_trace_drop d = { .send_ns = e->sent_ns, .drop_ns = e->ts_ns, .src_tid = e->from, .dst_tid = e->tid,
                             .name = intern(l, type), .why = intern(l, name) };
        ok = vec_push(&l->drops, &d, sizeof d);
    } else if (e->ph == 'X' && strcmp(e->cat, "fault") == 0 && e->has_ts && e->has_tid) {
        rpt_trace_span sp = { .start_ns = e->ts_ns, .end_ns = e->ts_ns + (e->has_dur ? e->dur_ns : 0), .tid = e->tid,
                              .name = intern(l, name) };
        ok = vec_push(&l->spans, &sp, sizeof sp);
    } else if (e->ph == 'M' && strcmp(name, "thread_name") == 0 && e->has_tid) {
        rpt_trace_lane lane;
        memset(&lane, 0, sizeof lane);
        lane.tid = e->tid;
        snprintf(lane.name, sizeof lane.name, "%s", rpt_buf_str(&e->args_name));
        ok = vec_push(&l->lanes, &lane, sizeof lane);
    }
    if (!ok) l->nomem = true;
}

/* Reads one event object, or skips a value that is not an object. */
static bool read_event(loader *l, rpt_buf *scratch, rpt_buf *key, event_fields *e)
{
    jr *r = &l->r;
    skip_ws(r);
    if (r->i >= r->n || r->s[r->i] != '{') return skip_value(r);
    r->i++;
    e->ph = '\0';
    e->scope = '\0';
    e->cat[0] = '\0';
    e->has_ts = e->has_tid = e->has_id = e->has_dur = e->has_from = e->has_sent = false;
    e->name.len = 0;
    if (e->name.data != NULL) e->name.data[0] = '\0';
    e->args_name.len = 0;
    if (e->args_name.data != NULL) e->args_name.data[0] = '\0';
    if (expect(r, '}')) return true;
    for (;;) {                                       /* bound: file size */
        if (!read_string(r, key) || !expect(r, ':')) return false;
        if (!read_event_field(r, e, rpt_buf_str(key), scratch, key)) return false;
        if (expect(r, '}')) break;
        if (!expect(r, ',')) return false;
    }
    keep_event(l, e);
    return true;
}

static bool read_events_array(loader *l, rpt_buf *scratch, rpt_buf *key, event_fields *e)
{
    jr *r = &l->r;
    if (!expect(r, '[')) return false;
    if (expect(r, ']')) return true;
    for (;;) {                                       /* bound: file size */
        if (!read_event(l, scratch, key, e)) return false;
        if (expect(r, ']')) return true;
        if (!expect(r, ',')) return false;
    }
}

/* The value of the top-level key "distrosim" (written by cli_perfetto):
 * an object whose "trace_hash" is the run's hash, 16 hex digits.  Other
 * members are skipped; a hash of another shape is no hash. */
static bool read_distrosim(loader *l, rpt_buf *key, rpt_buf *value)
{
    jr *r = &l->r;
    if (!expect(r, '{')) return false;
    if (expect(r, '}')) return true;
    for (;;) {                                       /* bound: file size */
        if (!read_string(r, key) || !expect(r, ':')) return false;
        skip_ws(r);
        if (strcmp(rpt_buf_str(key), "trace_hash") == 0 && r->i < r->n && r->s[r->i] == '"') {
            if (!read_string(r, value)) return false;
            const char *h = rpt_buf_str(value);
            if (strlen(h) == 16 && strspn(h, "0123456789abcdef") == 16) memcpy(l->trace_hash, h, 17);
        } else if (!skip_value(r)) {
            return false;
        }
        if (expect(r, '}')) return true;
        if (!expect(r, ',')) return false;
    }
}

static bool read_document(loader *l)
{
    jr *r = &l->r;
    rpt_buf scratch = { 0 }, key = { 0 };
    event_fields e;
    memset(&e, 0, sizeof e);
    bool ok = false, found = false;
    skip_ws(r);
    if (r->i < r->n && r->s[r->i] == '[') {
        ok = read_events_array(l, &scratch, &key, &e);
        found = true;
    } else if (expect(r, '{')) {
        ok = true;
        if (!expect(r, '}')) {
            for (;;) {                               /* bound: file size */
                if (!read_string(r, &key) || !expect(r, ':')) {
                    ok = false;
                    break;
                }
                if (strcmp(rpt_buf_str(&key), "traceEvents") == 0) {
                    ok = read_events_array(l, &scratch, &key, &e);
                    found = true;
                } else if (strcmp(rpt_buf_str(&key), "distrosim") == 0) {
                    ok = read_distrosim(l, &key, &scratch);
                } else {
                    ok = skip_value(r);
                }
                if (!ok || expect(r, '}')) break;
                if (!expect(r, ',')) {
                    ok = false;
                    break;
                }
            }
        }
    }
    if (ok) {
        skip_ws(r);
        ok = r->i == r->n && found;
    }
    if (scratch.failed || key.failed || e.name.failed || e.args_name.failed) l->nomem = true;
    rpt_buf_deinit(&scratch);
    rpt_buf_deinit(&key);
    rpt_buf_deinit(&e.name);
    rpt_buf_deinit(&e.args_name);
    return ok;
}

/* --- Pairing and ordering -------------------------------------------------- */

static int half_cmp(const void *a, const void *b)
{
    const flow_half *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    if (x->order != y->order) return x->order < y->order ? -1 : 1;
    return 0;                                        /* the same element: order is unique */
}

static int arrow_cmp(const void *a, const void *b)
{
    const rpt_trace_arrow *x = a, *y = b;
    if (x->send_ns != y->send_ns) return x->send_ns < y->send_ns ? -1 : 1;
    if (x->recv_ns != y->recv_ns) return x->recv_ns < y->recv_ns ? -1 : 1;
    if (x->src_tid != y->src_tid) return x->src_tid < y->src_tid ? -1 : 1;
    if (x->dst_tid != y->dst_tid) return x->dst_tid < y->dst_tid ? -1 : 1;
    return x->name < y->name ? -1 : x->name > y->name;   /* equal: identical arrows */
}

static int mark_cmp(const void *a, const void *b)
{
    const rpt_trace_mark *x = a, *y = b;
    if (x->at_ns != y->at_ns) return x->at_ns < y->at_ns ? -1 : 1;
    return x->name < y->name ? -1 : x->name > y->name;
}

static int drop_cmp(const void *a, const void *b)
{
    const rpt_trace_drop *x = a, *y = b;
    if (x->drop_ns != y->drop_ns) return x->drop_ns < y->drop_ns ? -1 : 1;
    if (x->send_ns != y->send_ns) return x->send_ns < y->send_ns ? -1 : 1;
    if (x->src_tid != y->src_tid) return x->src_tid < y->src_tid ? -1 : 1;
    if (x->dst_tid != y->dst_tid) return x->dst_tid < y->dst_tid ? -1 : 1;
    return x->why < y->why ? -1 : x->why > y->why;
}

static int span_cmp(const void *a, const void *b)
{
    const rpt_trace_span *x = a, *y = b;
    if (x->start_ns != y->start_ns) return x->start_ns < y->start_ns ? -1 : 1;
    if (x->tid != y->tid) return x->tid < y->tid ? -1 : 1;
    if (x->end_ns != y->end_ns) return x->end_ns < y->end_ns ? -1 : 1;
    return x->name < y->name ? -1 : x->name > y->name;
}

static int lane_cmp(const void *a, const void *b)
{
    const rpt_trace_lane *x = a, *y = b;
    if (x->tid != y->tid) return x->tid < y->tid ? -1 : 1;
    return strcmp(x->name, y->name);
}

typedef struct name_slot {
    const char *name;
    uint32_t old;
} name_slot;

static int name_slot_cmp(const void *a, const void *b)
{
    const name_slot *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : (x->old < y->old ? -1 : x->old > y->old);
}

/* Pairs flow halves into arrows, renames names into sorted order, sorts
 * everything with total comparators and keeps one lane per tid. */
static bool finish(loader *l, rpt_trace *out)
{
    flow_half *s = l->starts.data, *f = l->ends.data;
    rpt_sort(s, l->starts.count, sizeof *s, half_cmp);
    rpt_sort(f, l->ends.count, sizeof *f, half_cmp);
    vec arrows = { 0 };
    size_t i = 0, j = 0;
    while (i < l->starts.count && j < l->ends.count) {   /* bound: starts + ends */
        if (s[i].id < f[j].id) {
            out->unpaired++;
            i++;
        } else if (s[i].id > f[j].id) {
            out->unpaired++;
            j++;
        } else {
            rpt_trace_arrow a = { .send_ns = s[i].ts_ns, .recv_ns = f[j].ts_ns, .src_tid = s[i].tid,
                                  .dst_tid = f[j].tid, .name = s[i].name };
            if (!vec_push(&arrows, &a, sizeof a)) return false;
            i++;
            j++;
        }
    }
    out->unpaired += (l->starts.count - i) + (l->ends.count - j);
    out->arrows = arrows.data;
    out->arrows_count = arrows.count;

    /* Names in sorted order, so colours and legends do not depend on the
     * order of the file. */
    name_slot *slots = sim_calloc(l->names_count + 1, sizeof *slots);
    uint32_t *map = sim_calloc(l->names_count + 1, sizeof *map);
    if (slots == NULL || map == NULL) {
        free(slots);
        free(map);
        return false;
    }
    for (size_t k = 0; k < l->names_count; k++) slots[k] = (name_slot){ .name = l->names[k], .old = (uint32_t)k };
    rpt_sort(slots, l->names_count, sizeof *slots, name_slot_cmp);
    out->names = sim_calloc(l->names_count + 1, sizeof *out->names);
    if (out->names == NULL) {
        free(slots);
        free(map);
        return false;
    }
    for (size_t k = 0; k < l->names_count; k++) {
        map[slots[k].old] = (uint32_t)k;
        out->names[k] = l->names[slots[k].old];
    }
    out->names_count = l->names_count;
    free(l->names);                                  /* the strings moved to out->names */
    l->names = NULL;
    l->names_count = 0;
    free(slots);
    for (size_t k = 0; k < out->arrows_count; k++) out->arrows[k].name = map[out->arrows[k].name];
    rpt_trace_mark *m = l->marks.data;
    for (size_t k = 0; k < l->marks.count; k++) m[k].name = map[m[k].name];
    rpt_sort(out->arrows, out->arrows_count, sizeof *out->arrows, arrow_cmp);
    rpt_sort(m, l->marks.count, sizeof *m, mark_cmp);
    out->marks = m;
    out->marks_count = l->marks.count;
    l->marks.data = NULL;
    rpt_trace_drop *d = l->drops.data;
    for (size_t k = 0; k < l->drops.count; k++) {
        d[k].name = map[d[k].name];
        d[k].why = map[d[k].why];
    }
    rpt_sort(d, l->drops.count, sizeof *d, drop_cmp);
    out->drops = d;
    out->drops_count = l->drops.count;
    l->drops.data = NULL;
    rpt_trace_span *sp = l->spans.data;
    for (size_t k = 0; k < l->spans.count; k++) sp[k].name = map[sp[k].name];
    rpt_sort(sp, l->spans.count, sizeof *sp, span_cmp);
    out->spans = sp;
    out->spans_count = l->spans.count;
    l->spans.data = NULL;
    free(map);

    /* Lanes: every named thread, plus every tid an arrow touches. */
    for (size_t k = 0; k < out->arrows_count; k++) {
        for (int end = 0; end < 2; end++) {
            rpt_trace_lane lane;
            memset(&lane, 0, sizeof lane);
            lane.tid = end == 0 ? out->arrows[k].src_tid : out->arrows[k].dst_tid;
            snprintf(lane.name, sizeof lane.name, "%c", '\x7f');   /* sorts after real names: dropped below */
            bool known = false;
            rpt_trace_lane *ls = l->lanes.data;
            for (size_t q = 0; q < l->lanes.count && !known; q++) known = ls[q].tid == lane.tid;
            if (!known && !vec_push(&l->lanes, &lane, sizeof lane)) return false;
        }
    }
    rpt_trace_lane *ls = l->lanes.data;
    rpt_sort(ls, l->lanes.count, sizeof *ls, lane_cmp);
    size_t kept = 0;
    for (size_t k = 0; k < l->lanes.count; k++) {   /* one lane per tid: its first name */
        if (kept > 0 && ls[kept - 1].tid == ls[k].tid) continue;
        ls[kept] = ls[k];
        if (ls[kept].name[0] == '\x7f' || ls[kept].name[0] == '\0') {
            snprintf(ls[kept].name, sizeof ls[kept].name, "tid %u", ls[kept].tid);
        }
        kept++;
    }
    out->lanes = ls;
    out->lanes_count = kept;
    l->lanes.data = NULL;
    return true;
}

void rpt_trace_deinit(rpt_trace *t)
{
    if (t == NULL) return;
    for (size_t k = 0; k < t->names_count; k++) free(t->names[k]);
    free(t->names);
    free(t->lanes);
    free(t->arrows);
    free(t->marks);
    free(t->drops);
    free(t->spans);
    memset(t, 0, sizeof *t);
}

static char *read_file(const char *path, size_t *len, sim_error *err, sim_status *st)
{
    static const char where[] = "rpt_trace_load";
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        *st = sim_error_set(err, SIM_ERR_IO, where, "cannot open trace %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 0, n = 0;
    char *data = NULL;
    bool nomem = false;
    for (;;) {                                       /* bound: RPT_REPORT_TRACE_BYTES_MAX */
        if (n == cap) {
            if ((uint64_t)cap * 2 > RPT_REPORT_TRACE_BYTES_MAX) {
                *st = sim_error_set(err, SIM_ERR_INVALID, where, "trace %s is larger than %llu bytes", path,
                                    (unsigned long long)RPT_REPORT_TRACE_BYTES_MAX);
                free(data);
                fclose(f);
                return NULL;
            }
            if (!SIM_VEC_RESERVE(data, n, cap, cap == 0 ? (size_t)1 << 16 : cap)) {   /* doubling */
                nomem = true;
                break;
            }
        }
        size_t got = fread(data + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    bool bad = nomem || ferror(f);
    fclose(f);
    if (bad) {
        free(data);
        *st = sim_error_set(err, nomem ? SIM_ERR_NOMEM : SIM_ERR_IO, where, "cannot read trace %s", path);
        return NULL;
    }
    *len = n;
    return data;
}

sim_status rpt_trace_parse(const char *name, const char *text, size_t len, rpt_trace *out, sim_error *err)
{
    static const char where[] = "rpt_trace_load";
    memset(out, 0, sizeof *out);
    sim_status st = SIM_OK;
    loader l;
    memset(&l, 0, sizeof l);
    l.r = (jr){ .s = text, .n = len, .i = 0 };
    bool parsed = read_document(&l);
    if (!parsed && !l.nomem) {
        st = sim_error_set(err, SIM_ERR_INVALID, where,
                           "%s is not a Chrome/Perfetto trace (JSON with \"traceEvents\"): bad input at byte %zu",
                           name, l.r.i);
    } else if (l.nomem || !finish(&l, out)) {
        st = sim_error_set(err, SIM_ERR_NOMEM, where, "out of memory reading trace %s", name);
    }
    memcpy(out->trace_hash, l.trace_hash, sizeof out->trace_hash);
    for (size_t k = 0; k < l.names_count; k++) free(l.names[k]);
    free(l.names);
    free(l.starts.data);
    free(l.ends.data);
    free(l.marks.data);
    free(l.lanes.data);
    free(l.drops.data);
    free(l.spans.data);
    if (st != SIM_OK) rpt_trace_deinit(out);
    return st;
}

sim_status rpt_trace_load(const char *path, rpt_trace *out, sim_error *err)
{
    memset(out, 0, sizeof *out);
    sim_status st = SIM_OK;
    size_t len = 0;
    char *text = read_file(path, &len, err, &st);
    if (text == NULL) return st;
    st = rpt_trace_parse(path, text, len, out, err);
    free(text);
    return st;
}

/* The promises of rpt_trace (rpt_report_int.h), checked on a parsed one:
 * what the diagram's drawing code relies on. */
static void check_trace(const rpt_trace *t)
{
    for (size_t k = 1; k < t->names_count; k++) SIM_ASSERT(strcmp(t->names[k - 1], t->names[k]) < 0);
    for (size_t k = 0; k < t->lanes_count; k++) {
        SIM_ASSERT(memchr(t->lanes[k].name, '\0', sizeof t->lanes[k].name) != NULL);
        SIM_ASSERT(k == 0 || t->lanes[k - 1].tid < t->lanes[k].tid);
    }
    for (size_t k = 0; k < t->arrows_count; k++) {
        SIM_ASSERT(t->arrows[k].name < t->names_count);
        SIM_ASSERT(k == 0 || arrow_cmp(&t->arrows[k - 1], &t->arrows[k]) <= 0);
    }
    for (size_t k = 0; k < t->marks_count; k++) {
        SIM_ASSERT(t->marks[k].name < t->names_count);
        SIM_ASSERT(k == 0 || mark_cmp(&t->marks[k - 1], &t->marks[k]) <= 0);
    }
}

sim_status rpt_trace_read_buffer(const char *name, const char *text, size_t len, rpt_trace_counts *counts,
                                 sim_error *err)
{
    memset(counts, 0, sizeof *counts);
    rpt_trace t;
    sim_status st = rpt_trace_parse(name, text, len, &t, err);
    if (st != SIM_OK) return st;
    check_trace(&t);
    *counts = (rpt_trace_counts){ .lanes = t.lanes_count, .arrows = t.arrows_count, .marks = t.marks_count,
                                  .names = t.names_count, .unpaired = t.unpaired };
    rpt_trace_deinit(&t);
    return SIM_OK;
}
