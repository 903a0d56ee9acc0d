/* scn_load.c: YAML scenario -> scn_config.  The only user of libfyaml.
 *
 * Design notes
 *
 *   bytes --size, UTF-8--> text --libfyaml events--> ytree --field tables-->
 *   scn_config --scn_config_validate--> caller
 *
 * Why libfyaml's event stream and a private tree, not fy_document_build +
 * fy_node_mapping_lookup_by_string as H17 shows?  libfyaml 0.7 (Debian 12)
 * has no start mark for mapping and sequence nodes, so an error about a
 * collection could not name its line; the document builder resolves or
 * keeps anchors and aliases behind our back and reads one document only.
 * The event stream gives every node's position and shows anchors, aliases,
 * tags and a second document as they come, so each is rejected at its own
 * line.  The rest of H17 holds: each key is looked up by name (map_get),
 * unknown keys are errors, and the tree is freed before the call returns.
 *
 * Invariants:
 *   (1) No recursion.  The tree builder keeps an explicit stack of at most
 *       SCN_YAML_DEPTH_MAX frames; section parsers nest only as the schema
 *       does (a latency's slow_tail holds a latency without slow_tail).
 *   (2) Errors come in a fixed order, whatever the file's key order:
 *       size, encoding, syntax, structure (anchors, tags, documents, depth);
 *       then per mapping its unknown and duplicate keys in file order, then
 *       its values in field-table order.  Top-level sections are read in the
 *       order tags, cluster, phases, network, workload, faults, nemesis, expect,
 *       engine, swarm: node indices need cluster.nodes, fault times need the
 *       run length, and a swarm value is tried on everything else.
 *   (3) One conversion function per value type (conv_*), shared by the
 *       loader and scn_config_set, so a value from the command line gets
 *       the same message as the same value in a file.
 *   (4) Every loop is bounded by the tree size (at most SCN_YAML_NODES_MAX);
 *       the quadratic duplicate checks are bounded by the key-table size
 *       (a repeat shows up among the first table-size + 1 keys) or by an
 *       entry limit checked first (metadata, links, counters). */
#include "scn_load.h"

#include <errno.h>
#include <inttypes.h>
#include <libfyaml.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "scn_swarm.h"
#include "sim_alloc.h"
#include "sim_assert.h"
#include "sim_duration.h"
#include "sim_vec.h"

#define NONE UINT32_MAX

#define EXPECT_DURATION SIM_DURATION_EXPECTED

/* --- The private YAML tree ------------------------------------------------ */

typedef enum ynode_kind { YN_SCALAR, YN_MAPPING, YN_SEQUENCE } ynode_kind;

typedef struct ynode {
    ynode_kind kind;
    bool quoted;         /* scalar written in any style but plain */
    bool markless;       /* libfyaml gave no position (an empty scalar) */
    uint32_t line;       /* 1-based; 0: no position (a command-line value) */
    uint32_t column;     /* 1-based, in characters */
    uint32_t text_off;   /* scalar: its text in ytree.text */
    uint32_t text_len;
    uint32_t first;      /* collection: first child; a mapping alternates key, value */
    uint32_t last;       /* collection: last child, for appending */
    uint32_t next;       /* next sibling, NONE at the end */
    uint32_t count;      /* children (a mapping has 2 per pair) */
} ynode;

typedef struct ytree {
    ynode *nodes;        /* owned */
    uint32_t node_count;
    uint32_t node_cap;
    char *text_buf;      /* owned copies of scalar texts (NULL for scn_config_set) */
    size_t text_len;
    size_t text_cap;
    const char *text;    /* text_buf, or the borrowed value of scn_config_set */
    uint32_t root;       /* NONE: no document */
} ytree;

typedef struct ctx {
    const char *name;    /* file name in `where`; NULL: the command line */
    ytree tree;
    scn_config *cfg;     /* borrowed: being filled */
    sim_error *err;      /* borrowed; may be NULL */
    char path[256];      /* key path of the value being read: "faults[2].at" */
    size_t path_len;
} ctx;

static void tree_free(ytree *t)
{
    free(t->nodes);
    free(t->text_buf);
    memset(t, 0, sizeof *t);
    t->root = NONE;
}

static const ynode *node_at(const ctx *c, uint32_t n)
{
    SIM_ASSERT(n < c->tree.node_count);
    return &c->tree.nodes[n];
}

static const char *text_of(const ctx *c, uint32_t n, size_t *len)
{
    const ynode *y = node_at(c, n);
    SIM_ASSERT(y->kind == YN_SCALAR);
    *len = y->text_len;
    return c->tree.text + y->text_off;
}

static bool text_is(const char *s, size_t len, const char *word)
{
    size_t wlen = strlen(word);
    return len == wlen && memcmp(s, word, len) == 0;
}

static bool scalar_is(const ctx *c, uint32_t n, const char *word)
{
    if (node_at(c, n)->kind != YN_SCALAR) return false;
    size_t len = 0;
    const char *s = text_of(c, n, &len);
    return text_is(s, len, word);
}

/* A plain empty, "~" or "null" scalar: YAML's null. */
static bool is_null(const ctx *c, uint32_t n)
{
    const ynode *y = node_at(c, n);
    if (y->kind != YN_SCALAR || y->quoted) return false;
    size_t len = 0;
    const char *s = text_of(c, n, &len);
    return len == 0 || text_is(s, len, "~") || text_is(s, len, "null") || text_is(s, len, "Null") ||
           text_is(s, len, "NULL");
}

/* --- Errors and the key path ------------------------------------------------ */

static sim_status fail_lc(ctx *c, uint32_t line, uint32_t column, bool with_path, const char *fmt,
                          va_list ap)
{
    char where[128];
    char msg[512];
    if (c->name == NULL) {
        snprintf(where, sizeof where, "%s", SCN_SET_WHERE);
    } else {
        snprintf(where, sizeof where, "%s:%u:%u", c->name, (unsigned)(line > 0 ? line : 1),
                 (unsigned)(line > 0 ? column : 1));
    }
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (with_path && c->path_len > 0) {
        return sim_error_set(c->err, SIM_ERR_SCENARIO, where, "%s: %s", c->path, msg);
    }
    return sim_error_set(c->err, SIM_ERR_SCENARIO, where, "%s", msg);
}

/* "<path>: message" at node n. */
static sim_status fail(ctx *c, uint32_t n, const char *fmt, ...) SIM_PRINTF(3, 4);
static sim_status fail(ctx *c, uint32_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const ynode *y = n == NONE ? NULL : node_at(c, n);
    sim_status st = fail_lc(c, y ? y->line : 0, y ? y->column : 0, true, fmt, ap);
    va_end(ap);
    return st;
}

/* "message" (no path) at node n. */
static sim_status fail_raw(ctx *c, uint32_t n, const char *fmt, ...) SIM_PRINTF(3, 4);
static sim_status fail_raw(ctx *c, uint32_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const ynode *y = n == NONE ? NULL : node_at(c, n);
    sim_status st = fail_lc(c, y ? y->line : 0, y ? y->column : 0, false, fmt, ap);
    va_end(ap);
    return st;
}

/* "message" at a position (before the tree exists). */
static sim_status fail_pos(ctx *c, uint32_t line, uint32_t column, const char *fmt, ...) SIM_PRINTF(4, 5);
static sim_status fail_pos(ctx *c, uint32_t line, uint32_t column, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sim_status st = fail_lc(c, line, column, false, fmt, ap);
    va_end(ap);
    return st;
}

static sim_status fail_nomem(ctx *c)
{
    return sim_error_set(c->err, SIM_ERR_NOMEM, c->name != NULL ? c->name : SCN_SET_WHERE,
                         "out of memory while loading the scenario");
}

static size_t path_push(ctx *c, const char *key)
{
    size_t saved = c->path_len;
    int n = snprintf(c->path + saved, sizeof c->path - saved, "%s%s", saved > 0 ? "." : "", key);
    size_t added = n > 0 ? (size_t)n : 0;
    c->path_len = saved + added < sizeof c->path ? saved + added : sizeof c->path - 1;
    return saved;
}

static size_t path_push_index(ctx *c, uint32_t index)
{
    size_t saved = c->path_len;
    int n = snprintf(c->path + saved, sizeof c->path - saved, "[%u]", (unsigned)index);
    size_t added = n > 0 ? (size_t)n : 0;
    c->path_len = saved + added < sizeof c->path ? saved + added : sizeof c->path - 1;
    return saved;
}

static void path_pop(ctx *c, size_t saved)
{
    SIM_ASSERT(saved <= c->path_len);
    c->path_len = saved;
    c->path[saved] = '\0';
}

/* Escapes `len` bytes of `s` into buf for a message: quotes and
 * backslashes escaped, control bytes as \xNN, at most ~40 bytes kept (cut
 * on a UTF-8 character boundary) with "..." after a cut. */
static void escape_text(const char *s, size_t len, char *buf, size_t size)
{
    size_t out = 0, keep = len;
    bool cut = false;
    if (keep > 40) {
        keep = 40;
        while (keep > 0 && ((unsigned char)s[keep] & 0xC0u) == 0x80u) keep--;   /* not mid-character */
        cut = true;
    }
    SIM_ASSERT(size >= 8);
    for (size_t i = 0; i < keep && out + 6 < size; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') {
            buf[out++] = '\\';
            buf[out++] = (char)ch;
        } else if (ch < 0x20 || ch == 0x7f) {
            out += (size_t)snprintf(buf + out, size - out, "\\x%02x", (unsigned)ch);
        } else {
            buf[out++] = (char)ch;
        }
    }
    if (cut && out + 4 < size) {
        memcpy(buf + out, "...", 3);
        out += 3;
    }
    buf[out] = '\0';
}

/* What a node is, for "got ...": 1.5 (plain numbers, booleans, null as
 * written), "5 seconds" (other scalars, quoted), nothing, a mapping, a list. */
static const char *describe(const ctx *c, uint32_t n, char *buf, size_t size)
{
    const ynode *y = node_at(c, n);
    if (y->kind == YN_MAPPING) return y->count == 0 ? "an empty mapping" : "a mapping";
    if (y->kind == YN_SEQUENCE) return y->count == 0 ? "an empty list" : "a list";
    size_t len = 0;
    const char *s = text_of(c, n, &len);
    if (len == 0 && !y->quoted) return "nothing";
    bool bare = !y->quoted && len <= 40;
    bool digit = false;
    for (size_t i = 0; bare && i < len; i++) {
        char ch = s[i];
        if (ch >= '0' && ch <= '9') digit = true;
        bare = (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '+' || ch == 'e' || ch == 'E';
    }
    bool word = !y->quoted && (text_is(s, len, "true") || text_is(s, len, "false") || text_is(s, len, "null") ||
                               text_is(s, len, "~"));
    char esc[200];
    escape_text(s, len, esc, sizeof esc);
    if ((bare && digit) || word) {
        snprintf(buf, size, "%s", esc);
    } else {
        snprintf(buf, size, "\"%s\"", esc);
    }
    return buf;
}

#define GOT(n) describe(c, (n), got_buf, sizeof got_buf)

/* --- Encoding: UTF-8 text of YAML's printable characters ------------------- */

typedef enum text_bad { TEXT_OK, TEXT_BAD_UTF8, TEXT_BAD_CHAR } text_bad;

/* Scans UTF-8; stops at the first invalid sequence or at a character YAML
 * forbids (C0 controls but tab, LF, and CR when allow_cr; DEL; C1 controls
 * but NEL; U+FFFE, U+FFFF).  *off is the offending byte offset, *cp the
 * character or the bad byte.  O(len). */
static text_bad text_scan(const unsigned char *s, size_t len, bool allow_newline, bool allow_cr,
                          size_t *off, uint32_t *cp)
{
    size_t i = 0;
    while (i < len) {
        unsigned char b = s[i];
        uint32_t ch = 0;
        size_t need = 0;
        unsigned char lo = 0x80, hi = 0xBF;
        if (b < 0x80) {
            ch = b;
        } else if (b >= 0xC2 && b <= 0xDF) {
            ch = b & 0x1Fu;
            need = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            ch = b & 0x0Fu;
            need = 2;
            if (b == 0xE0) lo = 0xA0;
            if (b == 0xED) hi = 0x9F;   /* no surrogates */
        } else if (b >= 0xF0 && b <= 0xF4) {
            ch = b & 0x07u;
            need = 3;
            if (b == 0xF0) lo = 0x90;
            if (b == 0xF4) hi = 0x8F;
        } else {
            *off = i;
            *cp = b;
            return TEXT_BAD_UTF8;
        }
        for (size_t k = 1; k <= need; k++) {
            unsigned char cb = i + k < len ? s[i + k] : 0;
            unsigned char l = k == 1 ? lo : 0x80, h = k == 1 ? hi : 0xBF;
            if (i + k >= len || cb < l || cb > h) {
                *off = i;
                *cp = b;
                return TEXT_BAD_UTF8;
            }
            ch = (ch << 6) | (cb & 0x3Fu);
        }
        bool ok = (ch >= 0x20 && ch != 0x7F && (ch < 0x80 || ch > 0x9F || ch == 0x85) && ch != 0xFFFE &&
                   ch != 0xFFFF) ||
                  ch == '\t' || (ch == '\n' && allow_newline) || (ch == '\r' && allow_cr);
        if (!ok) {
            *off = i;
            *cp = ch;
            return TEXT_BAD_CHAR;
        }
        i += need + 1;
    }
    return TEXT_OK;
}

/* 1-based line and column (in characters) of byte `off`. */
static void text_position(const char *s, size_t off, uint32_t *line, uint32_t *column)
{
    uint32_t l = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
        if (s[i] == '\n') {
            l++;
            col = 1;
        } else if (((unsigned char)s[i] & 0xC0u) != 0x80u) {
            col++;
        }
    }
    *line = l;
    *column = col;
}

static sim_status check_encoding(ctx *c, const char *text, size_t len)
{
    size_t off = 0;
    uint32_t cp = 0, line = 1, column = 1;
    text_bad bad = text_scan((const unsigned char *)text, len, true, true, &off, &cp);
    if (bad == TEXT_OK) return SIM_OK;
    text_position(text, off, &line, &column);
    if (bad == TEXT_BAD_UTF8) {
        return fail_pos(c, line, column, "invalid UTF-8 (byte 0x%02x): a scenario must be UTF-8 text",
                        (unsigned)cp);
    }
    return fail_pos(c, line, column, "%s U+%04X is not allowed in a scenario",
                    cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) ? "control character" : "character",
                    (unsigned)cp);
}

/* --- Building the tree from libfyaml events -------------------------------- */

static void diag_discard(struct fy_diag *diag, void *user, const char *buf, size_t len)
{
    (void)diag;
    (void)user;
    (void)buf;
    (void)len;   /* errors are collected instead; nothing may reach stderr */
}

typedef struct builder {
    uint32_t stack[SCN_YAML_DEPTH_MAX];   /* open collections, innermost last */
    uint32_t depth;
    uint32_t documents;
    uint32_t last_line;                   /* end of the previous event: position */
    uint32_t last_column;                 /* of empty values, which have none */
    bool done;
} builder;

static void mark_to(const struct fy_mark *m, uint32_t *line, uint32_t *column)
{
    if (m != NULL && m->line >= 0 && m->column >= 0) {
        *line = (uint32_t)m->line + 1u;
        *column = (uint32_t)m->column + 1u;
    }
}

static sim_status tree_add(ctx *c, builder *b, ynode_kind kind, struct fy_event *ev, uint32_t *out)
{
    ytree *t = &c->tree;
    if (t->node_count == SCN_YAML_NODES_MAX) {
        return fail_pos(c, b->last_line, b->last_column, "more than %u YAML nodes", SCN_YAML_NODES_MAX);
    }
    size_t have = t->node_count;
    if (!SIM_VEC_RESERVE(t->nodes, have, t->node_cap, 1)) return fail_nomem(c);
    uint32_t n = t->node_count++;
    ynode *y = &t->nodes[n];
    memset(y, 0, sizeof *y);
    y->kind = kind;
    y->first = y->last = y->next = NONE;
    y->line = 0;
    mark_to(fy_event_start_mark(ev), &y->line, &y->column);
    y->markless = y->line == 0;
    if (y->markless) {   /* an empty scalar: where the previous token ended */
        y->line = b->last_line;
        y->column = b->last_column;
    }
    if (b->depth == 0) {
        SIM_ASSERT(t->root == NONE);   /* one document, one root */
        t->root = n;
    } else {
        ynode *parent = &t->nodes[b->stack[b->depth - 1]];
        uint32_t prev = parent->last;
        if (prev == NONE) {
            parent->first = n;
        } else {
            t->nodes[prev].next = n;
        }
        parent->last = n;
        parent->count++;
        /* An empty key (": 1") is better shown where its value is. */
        if (parent->kind == YN_MAPPING && parent->count % 2u == 0 && t->nodes[prev].markless && !y->markless) {
            t->nodes[prev].line = y->line;
            t->nodes[prev].column = y->column;
        }
    }
    *out = n;
    return SIM_OK;
}

static sim_status tree_scalar_text(ctx *c, uint32_t n, struct fy_token *value)
{
    ytree *t = &c->tree;
    size_t len = 0;
    const char *s = fy_token_get_text(value, &len);
    if (s == NULL) len = 0;
    if (len >= UINT32_MAX - t->text_len) return fail_raw(c, n, "scalar text above 4 GiB");
    if (!SIM_VEC_RESERVE(t->text_buf, t->text_len, t->text_cap, len + 1)) return fail_nomem(c);
    t->text = t->text_buf;
    if (len > 0) memcpy(t->text_buf + t->text_len, s, len);
    t->text_buf[t->text_len + len] = '\0';
    t->nodes[n].text_off = (uint32_t)t->text_len;
    t->nodes[n].text_len = (uint32_t)len;
    enum fy_scalar_style style = fy_token_scalar_style(value);
    t->nodes[n].quoted = style != FYSS_PLAIN;
    /* libfyaml marks a quoted scalar at its first character; point at the quote. */
    if ((style == FYSS_SINGLE_QUOTED || style == FYSS_DOUBLE_QUOTED) && !t->nodes[n].markless &&
        t->nodes[n].column > 1) {
        t->nodes[n].column--;
    }
    t->text_len += len + 1;
    return SIM_OK;
}

/* Anchors, aliases and tags are refused where they stand. */
static sim_status check_props(ctx *c, builder *b, struct fy_token *anchor, struct fy_token *tag)
{
    uint32_t line = b->last_line, column = b->last_column;
    if (anchor != NULL) {
        mark_to(fy_token_start_mark(anchor), &line, &column);   /* the name, after '&' */
        return fail_pos(c, line, column > 1 ? column - 1 : column, "anchors and aliases are not supported");
    }
    if (tag != NULL) {
        mark_to(fy_token_start_mark(tag), &line, &column);
        return fail_pos(c, line, column, "tags such as !!str are not supported");
    }
    return SIM_OK;
}

static sim_status tree_open(ctx *c, builder *b, ynode_kind kind, struct fy_event *ev)
{
    uint32_t n = NONE;
    if (b->depth == SCN_YAML_DEPTH_MAX) {
        uint32_t line = b->last_line, column = b->last_column;
        mark_to(fy_event_start_mark(ev), &line, &column);
        return fail_pos(c, line, column, "nesting deeper than %u levels", SCN_YAML_DEPTH_MAX);
    }
    sim_status st = tree_add(c, b, kind, ev, &n);
    if (st != SIM_OK) return st;
    b->stack[b->depth++] = n;
    return SIM_OK;
}

static sim_status tree_event(ctx *c, builder *b, struct fy_event *ev)
{
    uint32_t n = NONE, line = b->last_line, column = b->last_column;
    sim_status st = SIM_OK;
    mark_to(fy_event_start_mark(ev), &line, &column);
    switch (ev->type) {
    case FYET_NONE:
    case FYET_STREAM_START:
    case FYET_DOCUMENT_END:
        break;
    case FYET_STREAM_END:
        b->done = true;
        break;
    case FYET_DOCUMENT_START:
        if (++b->documents > 1) {
            return fail_pos(c, line, column, "more than one YAML document: a scenario is a single mapping");
        }
        break;
    case FYET_ALIAS:   /* marked at the name, after '*' */
        return fail_pos(c, line, column > 1 ? column - 1 : column, "anchors and aliases are not supported");
    case FYET_SCALAR:
        st = check_props(c, b, ev->scalar.anchor, ev->scalar.tag);
        if (st == SIM_OK) st = tree_add(c, b, YN_SCALAR, ev, &n);
        if (st == SIM_OK) st = tree_scalar_text(c, n, ev->scalar.value);
        break;
    case FYET_MAPPING_START:
        st = check_props(c, b, ev->mapping_start.anchor, ev->mapping_start.tag);
        if (st == SIM_OK) st = tree_open(c, b, YN_MAPPING, ev);
        break;
    case FYET_SEQUENCE_START:
        st = check_props(c, b, ev->sequence_start.anchor, ev->sequence_start.tag);
        if (st == SIM_OK) st = tree_open(c, b, YN_SEQUENCE, ev);
        break;
    case FYET_MAPPING_END:
    case FYET_SEQUENCE_END:
        SIM_ASSERT(b->depth > 0);
        b->depth--;
        break;
    }
    mark_to(fy_event_end_mark(ev), &b->last_line, &b->last_column);
    return st;
}

/* The first error libfyaml collected, with its position. */
static sim_status syntax_error(ctx *c, builder *b, struct fy_diag *diag)
{
    void *iter = NULL;
    struct fy_diag_error *de = NULL;
    while ((de = fy_diag_errors_iterate(diag, &iter)) != NULL) {
        if (de->type >= FYET_ERROR) break;
    }
    if (de == NULL) return fail_pos(c, b->last_line, b->last_column, "invalid YAML");
    uint32_t line = de->line > 0 ? (uint32_t)de->line : b->last_line;
    uint32_t column = de->line > 0 && de->column > 0 ? (uint32_t)de->column : b->last_column;
    return fail_pos(c, line, column, "invalid YAML: %s", de->msg != NULL ? de->msg : "syntax error");
}

static sim_status tree_build(ctx *c, const char *text, size_t len)
{
    struct fy_diag_cfg dcfg;
    fy_diag_cfg_default(&dcfg);
    dcfg.fp = NULL;
    dcfg.output_fn = diag_discard;
    dcfg.user = NULL;
    dcfg.colorize = false;
    struct fy_diag *diag = fy_diag_create(&dcfg);
    if (diag == NULL) return fail_nomem(c);
    fy_diag_set_collect_errors(diag, true);

    struct fy_parse_cfg pcfg;
    memset(&pcfg, 0, sizeof pcfg);
    pcfg.flags = FYPCF_QUIET | FYPCF_JSON_NONE;
    pcfg.diag = diag;
    struct fy_parser *fyp = fy_parser_create(&pcfg);
    sim_status st = SIM_OK;
    if (fyp == NULL || fy_parser_set_string(fyp, text, len) != 0) {
        st = fail_nomem(c);
        goto out_destroy;
    }
    builder b = { .depth = 0, .documents = 0, .last_line = 1, .last_column = 1, .done = false };
    while (!b.done) {   /* bounded: every event consumes input, at most 1 MiB */
        struct fy_event *ev = fy_parser_parse(fyp);
        if (ev == NULL) {
            st = syntax_error(c, &b, diag);
            /* libfyaml 0.7.12 can crash in fy_parser_destroy
             * (fy_indent_vacuum_internal) after some parse errors
             * (tests/scenarios-bad/libfyaml-destroy-after-error.yaml):
             * the parser is left to the process, which exits 2 on this error
             * (tests/lsan.supp names the leak). */
            fy_diag_destroy(diag);
            return st;
        }
        st = tree_event(c, &b, ev);
        fy_parser_event_free(fyp, ev);
        if (st != SIM_OK) break;
    }
out_destroy:
    fy_parser_destroy(fyp);   /* NULL-safe */
    fy_diag_destroy(diag);
    return st;
}

/* --- Mappings: key checks and lookups -------------------------------------- */

/* Key tables are arrays of structs whose first member is `const char *key`
 * (or arrays of `const char *`); stride is the element size. */
static const char *table_key(const void *table, size_t stride, size_t i)
{
    return *(const char *const *)(const void *)((const char *)table + i * stride);
}

static bool key_equal(const ctx *c, uint32_t a, uint32_t b)
{
    size_t la = 0, lb = 0;
    const char *sa = text_of(c, a, &la), *sb = text_of(c, b, &lb);
    return la == lb && memcmp(sa, sb, la) == 0;
}

/* The value of `key` in mapping m, or NONE.  O(pairs). */
static uint32_t map_get(const ctx *c, uint32_t m, const char *key)
{
    SIM_ASSERT(node_at(c, m)->kind == YN_MAPPING);
    for (uint32_t k = node_at(c, m)->first; k != NONE;) {
        uint32_t v = node_at(c, k)->next;
        SIM_ASSERT(v != NONE);
        if (scalar_is(c, k, key)) return v;
        k = node_at(c, v)->next;
    }
    return NONE;
}

/* Optimal-string-alignment distance, for "did you mean"; keys above 63
 * bytes count as far.  O(la * lb) with la, lb < 64. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    enum { W = 64 };
    size_t d[3][W + 1];   /* rows i-2, i-1, i */
    if (la >= W || lb >= W) return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++) d[1][j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t *cur = d[(i + 1) % 3], *prev = d[i % 3], *prev2 = d[(i + 2) % 3];
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = prev[j] + 1;
            if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1;
            if (prev[j - 1] + cost < best) best = prev[j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < best) {
                best = prev2[j - 2] + 1;
            }
            cur[j] = best;
        }
    }
    return d[(la + 1) % 3][lb];
}

static sim_status unknown_key(ctx *c, uint32_t k, const void *table, size_t stride, size_t count,
                              const char *in_what)
{
    char key[200], list[1400], msg[sizeof c->err->message + 64];
    size_t klen = 0, used = 0;
    const char *ktext = text_of(c, k, &klen);
    escape_text(ktext, klen, key, sizeof key);
    for (size_t i = 0; i < count && used + 2 < sizeof list; i++) {
        int n = snprintf(list + used, sizeof list - used, "%s%s", i > 0 ? ", " : "", table_key(table, stride, i));
        used += n > 0 ? (size_t)n : 0;
    }
    int full = snprintf(msg, sizeof msg, "unknown key \"%s\" %s (expected one of: %s)", key, in_what, list);
    if (full > 0 && (size_t)full < sizeof c->err->message) return fail_raw(c, k, "%s", msg);
    /* Too long for sim_error (cluster.distro has 30 keys): name the closest. */
    size_t best = SIZE_MAX, best_i = 0;
    for (size_t i = 0; i < count; i++) {
        const char *cand = table_key(table, stride, i);
        size_t dist = edit_distance(ktext, klen, cand, strlen(cand));
        if (dist < best) {
            best = dist;
            best_i = i;
        }
    }
    if (best <= 3) {
        return fail_raw(c, k, "unknown key \"%s\" %s (did you mean %s?)", key, in_what,
                        table_key(table, stride, best_i));
    }
    return fail_raw(c, k, "unknown key \"%s\" %s (expected one of the %zu keys starting %s, %s, %s)", key,
                    in_what, count, table_key(table, stride, 0), table_key(table, stride, 1),
                    table_key(table, stride, 2));
}

/* Checks every key of mapping m: a plain string, in the table (unless
 * `any`), and not repeated.  File order; first problem wins. */
static sim_status check_keys_any(ctx *c, uint32_t m, const void *table, size_t stride, size_t count, bool any)
{
    char in_what[300], got_buf[256];
    if (c->path_len == 0) {
        snprintf(in_what, sizeof in_what, "at top level");
    } else {
        snprintf(in_what, sizeof in_what, "in %s", c->path);
    }
    for (uint32_t k = node_at(c, m)->first; k != NONE;) {
        uint32_t v = node_at(c, k)->next;
        if (node_at(c, k)->kind != YN_SCALAR || is_null(c, k)) {
            return fail_raw(c, k, "expected a key name %s, got %s", in_what, GOT(k));
        }
        bool known = any;
        size_t klen = 0;
        const char *ktext = text_of(c, k, &klen);
        for (size_t i = 0; !known && i < count; i++) known = text_is(ktext, klen, table_key(table, stride, i));
        if (!known) return unknown_key(c, k, table, stride, count, in_what);
        for (uint32_t p = node_at(c, m)->first; p != k; p = node_at(c, node_at(c, p)->next)->next) {
            if (key_equal(c, p, k)) {
                char key[200];
                escape_text(ktext, klen, key, sizeof key);
                return fail_raw(c, k, "duplicate key \"%s\" %s", key, in_what);
            }
        }
        k = node_at(c, v)->next;
    }
    return SIM_OK;
}

#define check_keys(c, m, table, count) check_keys_any((c), (m), (table), sizeof (table)[0], (count), false)
#define ARRAY_LEN(a) (sizeof (a) / sizeof (a)[0])

static sim_status expect_kind(ctx *c, uint32_t n, ynode_kind kind, const char *what)
{
    char got_buf[256];
    if (node_at(c, n)->kind == kind && !(kind == YN_SCALAR && is_null(c, n))) return SIM_OK;
    return fail(c, n, "expected %s, got %s", what, GOT(n));
}

/* --- Numbers ---------------------------------------------------------------- */

/* Durations and sizes share the engine's exact quantity grammar
 * (sim_duration.h): one parser for the scenario file and the command line. */
typedef sim_quantity_status num_status;
#define NUM_OK SIM_QUANTITY_OK
#define NUM_SYNTAX SIM_QUANTITY_SYNTAX
#define NUM_RANGE SIM_QUANTITY_RANGE
#define NUM_FRACTION SIM_QUANTITY_FRACTION

static const sim_unit size_units[] = {
    { "B", 1u },
    { "KB", 1000u }, { "MB", 1000000u }, { "GB", 1000000000u }, { "TB", 1000000000000u },
    { "KiB", 1ull << 10 }, { "MiB", 1ull << 20 }, { "GiB", 1ull << 30 }, { "TiB", 1ull << 40 },
};

/* A decimal number scaled by 10^decimals, rounded half up; max inclusive
 * and compared exactly ("1.0000001" is above 1 even though it rounds to 1). */
static num_status parse_fixed(const char *s, size_t len, unsigned decimals, uint64_t max_scaled, uint64_t *out)
{
    SIM_ASSERT(decimals <= 6);
    bool negative = len > 0 && s[0] == '-';
    size_t i = negative ? 1 : 0;
    uint64_t whole = 0, frac = 0;
    unsigned frac_digits = 0, round_digit = 0;
    bool digits = false, overflow = false, sticky = false;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        if (whole > UINT64_MAX / 100u) overflow = true;
        if (!overflow) whole = whole * 10u + (uint64_t)(s[i] - '0');
        digits = true;
    }
    if (i < len && s[i] == '.') {
        size_t start = ++i;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            unsigned d = (unsigned)(s[i] - '0');
            if (frac_digits < decimals) {
                frac = frac * 10u + d;
                frac_digits++;
            } else if (frac_digits == decimals) {
                round_digit = d;
                frac_digits++;
            } else if (d != 0) {
                sticky = true;
            }
        }
        if (i == start) return NUM_SYNTAX;
        digits = true;
    }
    if (!digits || i != len) return NUM_SYNTAX;
    for (unsigned k = frac_digits; k < decimals; k++) frac *= 10u;
    uint64_t scale = 1;
    for (unsigned k = 0; k < decimals; k++) scale *= 10u;
    if (overflow || whole > max_scaled / scale) return NUM_RANGE;
    uint64_t scaled = whole * scale + frac;
    bool beyond = round_digit != 0 || sticky;
    if (scaled > max_scaled || (scaled == max_scaled && beyond)) return NUM_RANGE;
    if (negative && (scaled != 0 || beyond)) return NUM_RANGE;
    if (round_digit >= 5) scaled++;
    *out = scaled;
    return NUM_OK;
}

static num_status parse_uint(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    bool overflow = false;
    if (len == 0) return NUM_SYNTAX;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return NUM_SYNTAX;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10u) overflow = true;
        if (!overflow) v = v * 10u + d;
    }
    if (overflow) return NUM_RANGE;
    *out = v;
    return NUM_OK;
}

/* --- Conversions (one per type; each reports with the current path) ------- */

static sim_status scalar_or_fail(ctx *c, uint32_t n, const char *expected, const char **s, size_t *len)
{
    char got_buf[256];
    if (node_at(c, n)->kind != YN_SCALAR || is_null(c, n)) {
        return fail(c, n, "%s, got %s", expected, GOT(n));
    }
    *s = text_of(c, n, len);
    return SIM_OK;
}

static sim_status conv_duration(ctx *c, uint32_t n, sim_time_ns min_ns, sim_time_ns *out)
{
    const char *s = NULL;
    size_t len = 0;
    char got_buf[256];
    uint64_t v = 0;
    sim_status st = scalar_or_fail(c, n, EXPECT_DURATION, &s, &len);
    if (st != SIM_OK) return st;
    switch (sim_duration_scan(s, len, &v)) {
    case NUM_OK: break;
    case NUM_SYNTAX: return fail(c, n, EXPECT_DURATION ", got %s", GOT(n));
    case NUM_RANGE: return fail(c, n, "expected a duration of at most 8760h, got %s", GOT(n));
    case NUM_FRACTION: return fail(c, n, "expected a whole number of nanoseconds, got %s", GOT(n));
    }
    if (v < min_ns && min_ns <= 1) return fail(c, n, "expected a positive duration, got %s", GOT(n));
    if (v < min_ns) {
        char least[32];
        scn_format_duration(min_ns, least, sizeof least);
        return fail(c, n, "expected a duration of at least %s, got %s", least, GOT(n));
    }
    *out = v;
    return SIM_OK;
}

static sim_status conv_sduration(ctx *c, uint32_t n, int64_t *out)
{
    const char *s = NULL;
    size_t len = 0;
    char got_buf[256];
    uint64_t v = 0;
    sim_status st = scalar_or_fail(c, n, EXPECT_DURATION, &s, &len);
    if (st != SIM_OK) return st;
    bool negative = len > 0 && s[0] == '-';
    size_t skip = negative ? 1 : 0;
    switch (sim_duration_scan(s + skip, len - skip, &v)) {
    case NUM_OK: break;
    case NUM_SYNTAX: return fail(c, n, EXPECT_DURATION ", possibly negative, got %s", GOT(n));
    case NUM_RANGE: return fail(c, n, "expected a duration within +-8760h, got %s", GOT(n));
    case NUM_FRACTION: return fail(c, n, "expected a whole number of nanoseconds, got %s", GOT(n));
    }
    *out = negative ? -(int64_t)v : (int64_t)v;
    return SIM_OK;
}

/* A bound is a maximum: 0s allows none, `unchecked` turns the check off.
 * `none` used to mean "not checked", which reads as "none allowed": it is
 * refused, naming both spellings, so no old file silently changes meaning. */
static sim_status conv_bound(ctx *c, uint32_t n, scn_bound *out)
{
    char got_buf[256];
    if (node_at(c, n)->kind == YN_SCALAR && scalar_is(c, n, "unchecked")) {
        *out = (scn_bound){ .checked = false, .max_ns = 0 };
        return SIM_OK;
    }
    if (node_at(c, n)->kind == YN_SCALAR && scalar_is(c, n, "none")) {
        return fail(c, n, "\"none\" is ambiguous: write 0s to allow none, or unchecked to skip this check");
    }
    const char *s = NULL;
    size_t len = 0;
    uint64_t v = 0;
    sim_status st = scalar_or_fail(c, n, EXPECT_DURATION ", or unchecked", &s, &len);
    if (st != SIM_OK) return st;
    switch (sim_duration_scan(s, len, &v)) {
    case NUM_OK: break;
    case NUM_SYNTAX: return fail(c, n, EXPECT_DURATION ", or unchecked, got %s", GOT(n));
    case NUM_RANGE: return fail(c, n, "expected a duration of at most 8760h, got %s", GOT(n));
    case NUM_FRACTION: return fail(c, n, "expected a whole number of nanoseconds, got %s", GOT(n));
    }
    *out = (scn_bound){ .checked = true, .max_ns = v };
    return SIM_OK;
}

static sim_status conv_uint(ctx *c, uint32_t n, uint64_t min, uint64_t max, uint64_t *out);

/* `count: 3` (at most 3) or `count: unchecked`. */
static sim_status conv_count_bound(ctx *c, uint32_t n, scn_count_bound *out)
{
    if (node_at(c, n)->kind == YN_SCALAR && scalar_is(c, n, "unchecked")) {
        *out = (scn_count_bound){ .checked = false, .max = 0 };
        return SIM_OK;
    }
    char got_buf[256];
    const char *s = NULL;
    size_t len = 0;
    sim_status st = scalar_or_fail(c, n, "a count such as 3, or unchecked", &s, &len);
    if (st != SIM_OK) return st;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return fail(c, n, "expected a count such as 3, or unchecked, got %s", GOT(n));
    }
    uint64_t v = 0;
    st = conv_uint(c, n, 0, UINT64_MAX, &v);
    if (st == SIM_OK) *out = (scn_count_bound){ .checked = true, .max = v };
    return st;
}

static sim_status conv_uint(ctx *c, uint32_t n, uint64_t min, uint64_t max, uint64_t *out)
{
    char expected[96], got_buf[256];
    const char *s = NULL;
    size_t len = 0;
    uint64_t v = 0;
    snprintf(expected, sizeof expected, "expected an integer between %" PRIu64 " and %" PRIu64, min, max);
    sim_status st = scalar_or_fail(c, n, expected, &s, &len);
    if (st != SIM_OK) return st;
    if (parse_uint(s, len, &v) != NUM_OK || v < min || v > max) return fail(c, n, "%s, got %s", expected, GOT(n));
    *out = v;
    return SIM_OK;
}

static sim_status conv_int(ctx *c, uint32_t n, int64_t min, int64_t max, int64_t *out)
{
    char expected[96], got_buf[256];
    const char *s = NULL;
    size_t len = 0;
    uint64_t v = 0;
    snprintf(expected, sizeof expected, "expected an integer between %" PRId64 " and %" PRId64, min, max);
    sim_status st = scalar_or_fail(c, n, expected, &s, &len);
    if (st != SIM_OK) return st;
    bool negative = len > 0 && s[0] == '-';
    size_t skip = negative ? 1 : 0;
    if (parse_uint(s + skip, len - skip, &v) != NUM_OK || v > (uint64_t)INT64_MAX) {
        return fail(c, n, "%s, got %s", expected, GOT(n));
    }
    int64_t sv = negative ? -(int64_t)v : (int64_t)v;
    if (sv < min || sv > max) return fail(c, n, "%s, got %s", expected, GOT(n));
    *out = sv;
    return SIM_OK;
}

static sim_status conv_node(ctx *c, uint32_t n, uint32_t *out)
{
    char expected[96], got_buf[256];
    const char *s = NULL;
    size_t len = 0;
    uint64_t v = 0;
    uint32_t nodes = c->cfg->cluster.nodes;
    SIM_ASSERT(nodes >= 1);
    snprintf(expected, sizeof expected, "expected a node index between 0 and %u", (unsigned)(nodes - 1u));
    sim_status st = scalar_or_fail(c, n, expected, &s, &len);
    if (st != SIM_OK) return st;
    if (parse_uint(s, len, &v) != NUM_OK || v >= nodes) return fail(c, n, "%s, got %s", expected, GOT(n));
    *out = (uint32_t)v;
    return SIM_OK;
}

static sim_status conv_fixed(ctx *c, uint32_t n, unsigned decimals, uint64_t max_scaled, const char *expected,
                             uint64_t *out)
{
    char got_buf[256];
    const char *s = NULL;
    size_t len = 0;
    sim_status st = scalar_or_fail(c, n, expected, &s, &len);
    if (st != SIM_OK) return st;
    if (parse_fixed(s, len, decimals, max_scaled, out) != NUM_OK) return fail(c, n, "%s, got %s", expected, GOT(n));
    return SIM_OK;
}

static sim_status conv_ratio(ctx *c, uint32_t n, uint32_t *ppm)
{
    uint64_t v = 0;
    sim_status st = conv_fixed(c, n, 6, SIM_PPM, "expected a ratio between 0 and 1", &v);
    if (st == SIM_OK) *ppm = (uint32_t)v;
    return st;
}

static sim_status conv_rate(ctx *c, uint32_t n, uint32_t *milli)
{
    uint64_t v = 0;
    sim_status st = conv_fixed(c, n, 3, (uint64_t)SCN_CHURN_PER_MIN_MAX * 1000u,
                               "expected a rate per minute between 0 and 1000000", &v);
    if (st == SIM_OK) *milli = (uint32_t)v;
    return st;
}

static sim_status conv_bool(ctx *c, uint32_t n, bool *out)
{
    char got_buf[256];
    const char *s = NULL;
    size_t len = 0;
    sim_status st = scalar_or_fail(c, n, "expected true or false", &s, &len);
    if (st != SIM_OK) return st;
    if (text_is(s, len, "true") || text_is(s, len, "True") || text_is(s, len, "TRUE")) {
        *out = true;
    } else if (text_is(s, len, "false") || text_is(s, len, "False") || text_is(s, len, "FALSE")) {
        *out = false;
    } else {
        return fail(c, n, "expected true or false, got %s", GOT(n));
    }
    return SIM_OK;
}

static sim_status conv_bandwidth(ctx *c, uint32_t n, uint64_t *out)
{
    static const char expected[] = "expected a size per second such as 100MB, or 0 for unlimited";
    char got_buf[256];
    const char *s = NULL;
    size_t len = 0;
    uint64_t v = 0;
    sim_status st = scalar_or_fail(c, n, expected, &s, &len);
    if (st != SIM_OK) return st;
    if (text_is(s, len, "0")) {
        *out = 0;
        return SIM_OK;
    }
    if (len >= 2 && memcmp(s + len - 2, "/s", 2) == 0) len -= 2;
    switch (sim_quantity_parse(s, len, size_units, ARRAY_LEN(size_units), SCN_BANDWIDTH_BYTES_PER_S_MAX, &v)) {
    case NUM_OK: break;
    case NUM_SYNTAX: return fail(c, n, "%s, got %s", expected, GOT(n));
    case NUM_RANGE: return fail(c, n, "expected at most 1000TB per second, got %s", GOT(n));
    case NUM_FRACTION: return fail(c, n, "expected a whole number of bytes, got %s", GOT(n));
    }
    *out = v;
    return SIM_OK;
}

/* Text: UTF-8, no control characters but tab (and newline when
 * `multiline`), at most max_bytes.  Escapes in quoted YAML can produce
 * anything, so the decoded text is checked again here. */
static sim_status check_text(ctx *c, uint32_t n, const char *s, size_t len, size_t max_bytes, bool multiline)
{
    size_t off = 0;
    uint32_t cp = 0;
    if (len > max_bytes) return fail(c, n, "expected at most %zu bytes of text, got %zu", max_bytes, len);
    if (memchr(s, '\0', len) != NULL) return fail(c, n, "expected text without NUL characters");
    switch (text_scan((const unsigned char *)s, len, multiline, false, &off, &cp)) {
    case TEXT_OK: return SIM_OK;
    case TEXT_BAD_UTF8: return fail(c, n, "expected UTF-8 text, got byte 0x%02x", (unsigned)cp);
    case TEXT_BAD_CHAR: return fail(c, n, "expected text without control characters, got U+%04X", (unsigned)cp);
    }
    return SIM_OK;
}

/* Owned text; NULL for "". */
static sim_status conv_text(ctx *c, uint32_t n, size_t max_bytes, char **out)
{
    const char *s = NULL;
    size_t len = 0;
    sim_status st = scalar_or_fail(c, n, "expected a string", &s, &len);
    if (st == SIM_OK) st = check_text(c, n, s, len, max_bytes, true);
    if (st != SIM_OK) return st;
    char *copy = NULL;
    if (len > 0) {
        copy = sim_malloc(len + 1);
        if (copy == NULL) return fail_nomem(c);
        memcpy(copy, s, len);
        copy[len] = '\0';
    }
    free(*out);
    *out = copy;
    return SIM_OK;
}

/* Inline text of 1..max_bytes bytes into out[max_bytes + 1]. */
static sim_status conv_short_text(ctx *c, uint32_t n, size_t max_bytes, char *out)
{
    const char *s = NULL;
    size_t len = 0;
    sim_status st = scalar_or_fail(c, n, "expected a string", &s, &len);
    if (st == SIM_OK) st = check_text(c, n, s, len, max_bytes, false);
    if (st != SIM_OK) return st;
    memcpy(out, s, len);
    out[len] = '\0';
    return SIM_OK;
}

/* A word of 1..max_bytes characters from `allowed` plus ASCII letters or
 * lower-case letters only.  into out[max_bytes + 1]. */
static sim_status conv_word(ctx *c, uint32_t n, size_t max_bytes, bool upper, const char *extra,
                            const char *expected, char *out)
{
    char got_buf[256];
    const char *s = NULL;
    size_t len = 0;
    sim_status st = scalar_or_fail(c, n, expected, &s, &len);
    if (st != SIM_OK) return st;
    bool ok = len >= 1 && len <= max_bytes;
    for (size_t i = 0; ok && i < len; i++) {
        char ch = s[i];
        ok = (ch >= 'a' && ch <= 'z') || (upper && ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
             (ch != '\0' && strchr(extra, ch) != NULL);
    }
    if (!ok) return fail(c, n, "%s, got %s", expected, GOT(n));
    memcpy(out, s, len);
    out[len] = '\0';
    return SIM_OK;
}

static sim_status conv_version(ctx *c, uint32_t n, char *out)
{
    char got_buf[256];
    static const char *const versions[] = { "1.4.2", "2.5.1", "3.0.3" };
    for (size_t i = 0; node_at(c, n)->kind == YN_SCALAR && i < ARRAY_LEN(versions); i++) {
        if (!scalar_is(c, n, versions[i])) continue;
        snprintf(out, SCN_VERSION_BYTES, "%s", versions[i]);
        return SIM_OK;
    }
    return fail(c, n, "expected \"1.4.2\", \"2.5.1\" or \"3.0.3\", got %s", GOT(n));
}

static sim_status conv_transport(ctx *c, uint32_t n, scn_transport *out)
{
    char got_buf[256];
    if (node_at(c, n)->kind == YN_SCALAR && scalar_is(c, n, "tcp")) {
        *out = SCN_TRANSPORT_TCP;
    } else if (node_at(c, n)->kind == YN_SCALAR && scalar_is(c, n, "datagram")) {
        *out = SCN_TRANSPORT_DATAGRAM;
    } else {
        return fail(c, n, "expected tcp or datagram, got %s", GOT(n));
    }
    return SIM_OK;
}

static sim_status conv_clients(ctx *c, uint32_t n, scn_clients *out)
{
    char got_buf[256];
    static const scn_clients kinds[] = { SCN_CLIENTS_2X_SDK, SCN_CLIENTS_1X_SDK, SCN_CLIENTS_MIXED,
                                         SCN_CLIENTS_HTTP_V2 };
    for (size_t i = 0; node_at(c, n)->kind == YN_SCALAR && i < ARRAY_LEN(kinds); i++) {
        if (!scalar_is(c, n, scn_clients_name(kinds[i]))) continue;
        *out = kinds[i];
        return SIM_OK;
    }
    return fail(c, n, "expected 2.x-sdk, 1.x-sdk, mixed or http-v2, got %s", GOT(n));
}

static sim_status conv_reads_sdk(ctx *c, uint32_t n, scn_reads_sdk *out)
{
    char got_buf[256];
    if (node_at(c, n)->kind == YN_SCALAR && scalar_is(c, n, "1.x")) {
        *out = SCN_READS_SDK_1X;
    } else if (node_at(c, n)->kind == YN_SCALAR && scalar_is(c, n, "2.x")) {
        *out = SCN_READS_SDK_2X;
    } else if (node_at(c, n)->kind == YN_SCALAR && scalar_is(c, n, "native")) {
        *out = SCN_READS_SDK_NATIVE;
    } else {
        return fail(c, n, "expected 1.x, 2.x or native, got %s", GOT(n));
    }
    return SIM_OK;
}

static bool parse_address(const char *s, size_t len, char out[SCN_ADDRESS_BYTES])
{
    unsigned part[5] = { 0, 0, 0, 0, 0 };
    size_t i = 0;
    for (unsigned p = 0; p < 5; p++) {
        size_t start = i;
        unsigned v = 0;
        for (; i < len && s[i] >= '0' && s[i] <= '9' && i - start < 5; i++) v = v * 10u + (unsigned)(s[i] - '0');
        if (i == start || (p < 4 && (i - start > 3 || v > 255)) || (p == 4 && (v < 1 || v > 65535))) return false;
        part[p] = v;
        char sep = p < 3 ? '.' : p == 3 ? ':' : '\0';
        if (sep == '\0') break;
        if (i >= len || s[i] != sep) return false;
        i++;
    }
    if (i != len) return false;
    snprintf(out, SCN_ADDRESS_BYTES, "%u.%u.%u.%u:%u", part[0], part[1], part[2], part[3], part[4]);
    return true;
}

static sim_status conv_address(ctx *c, uint32_t n, char out[SCN_ADDRESS_BYTES])
{
    static const char expected[] = "expected an address \"ip:port\" such as \"10.0.0.1:8848\"";
    char got_buf[256];
    const char *s = NULL;
    size_t len = 0;
    sim_status st = scalar_or_fail(c, n, expected, &s, &len);
    if (st != SIM_OK) return st;
    if (!parse_address(s, len, out)) return fail(c, n, "%s, got %s", expected, GOT(n));
    return SIM_OK;
}

/* A list of distinct node indices -> a set. */
static sim_status conv_nodeset(ctx *c, uint32_t n, scn_node_set *out)
{
    sim_status st = expect_kind(c, n, YN_SEQUENCE, "a list of node indices such as [0, 1]");
    if (st != SIM_OK) return st;
    scn_node_set set = 0;
    uint32_t i = 0;
    for (uint32_t e = node_at(c, n)->first; e != NONE; e = node_at(c, e)->next, i++) {
        uint32_t node = 0;
        size_t saved = path_push_index(c, i);
        st = conv_node(c, e, &node);
        if (st == SIM_OK && (set & ((scn_node_set)1 << node)) != 0) st = fail(c, e, "node %u is listed twice", (unsigned)node);
        path_pop(c, saved);
        if (st != SIM_OK) return st;
        set |= (scn_node_set)1 << node;
    }
    *out = set;
    return SIM_OK;
}

/* --- Latency ---------------------------------------------------------------- */

static const char *const dist_names[] = { "constant", "uniform", "normal", "lognormal", "exponential" };
static const sim_dist_kind dist_kinds[] = { SIM_DIST_CONSTANT, SIM_DIST_UNIFORM, SIM_DIST_NORMAL,
                                            SIM_DIST_LOGNORMAL, SIM_DIST_EXPONENTIAL };
/* Parameters of each dist, in dist_names order: a_ns, then b_ns or sigma. */
static const char *const dist_params[][2] = {
    { "value", NULL }, { "min", "max" }, { "mean", "stddev" }, { "median", "sigma" }, { "mean", NULL },
};
/* Keys allowed per dist, with and without slow_tail. */
static const char *const dist_keys[][2][4] = {
    { { "dist", "value", NULL, NULL }, { "dist", "value", "slow_tail", NULL } },
    { { "dist", "min", "max", NULL }, { "dist", "min", "max", "slow_tail" } },
    { { "dist", "mean", "stddev", NULL }, { "dist", "mean", "stddev", "slow_tail" } },
    { { "dist", "median", "sigma", NULL }, { "dist", "median", "sigma", "slow_tail" } },
    { { "dist", "mean", NULL, NULL }, { "dist", "mean", "slow_tail", NULL } },
};
static const char *const dist_all_keys[] = { "dist", "value", "min", "max", "mean", "stddev", "median", "sigma",
                                             "slow_tail" };

static size_t names_count(const char *const *names, size_t cap)
{
    size_t n = 0;
    while (n < cap && names[n] != NULL) n++;
    return n;
}

static sim_status conv_dist_param(ctx *c, uint32_t m, sim_dist_kind kind, const char *key, sim_dist *out,
                                  bool second)
{
    uint32_t v = map_get(c, m, key);
    if (v == NONE) return fail(c, m, "missing key \"%s\"", key);
    size_t saved = path_push(c, key);
    sim_status st = SIM_OK;
    if (kind == SIM_DIST_LOGNORMAL && second) {
        uint64_t milli = 0;
        st = conv_fixed(c, v, 3, 10000u, "expected a number between 0 and 10", &milli);
        out->sigma_milli = (uint32_t)milli;
    } else {
        st = conv_duration(c, v, 0, second ? &out->b_ns : &out->a_ns);
    }
    path_pop(c, saved);
    return st;
}

/* One distribution: a duration (constant) or {dist: ..., params}.  With
 * allow_tail, a slow_tail key may appear and its value node is returned in
 * *tail (NONE otherwise). */
static sim_status conv_dist(ctx *c, uint32_t n, bool allow_tail, sim_dist *out, uint32_t *tail)
{
    char got_buf[256];
    memset(out, 0, sizeof *out);
    *tail = NONE;
    if (node_at(c, n)->kind == YN_SCALAR) {
        out->kind = SIM_DIST_CONSTANT;
        return conv_duration(c, n, 0, &out->a_ns);
    }
    if (node_at(c, n)->kind != YN_MAPPING) {
        return fail(c, n, "expected a latency such as 1ms or {dist: uniform, min: 1ms, max: 5ms}, got %s", GOT(n));
    }
    size_t all = allow_tail ? ARRAY_LEN(dist_all_keys) : ARRAY_LEN(dist_all_keys) - 1u;
    uint32_t d = map_get(c, n, "dist");
    if (d == NONE) {
        sim_status st = check_keys(c, n, dist_all_keys, all);
        return st != SIM_OK ? st : fail(c, n, "missing key \"dist\" (one of constant, uniform, normal, lognormal, exponential)");
    }
    size_t which = ARRAY_LEN(dist_names);
    for (size_t i = 0; i < ARRAY_LEN(dist_names); i++) {
        if (scalar_is(c, d, dist_names[i])) which = i;
    }
    if (which == ARRAY_LEN(dist_names)) {
        size_t saved = path_push(c, "dist");
        sim_status st = fail(c, d, "expected one of constant, uniform, normal, lognormal, exponential, got %s", GOT(d));
        path_pop(c, saved);
        return st;
    }
    const char *const *keys = dist_keys[which][allow_tail ? 1 : 0];
    sim_status st = check_keys(c, n, keys, names_count(keys, 4));
    if (st != SIM_OK) return st;
    out->kind = dist_kinds[which];
    st = conv_dist_param(c, n, out->kind, dist_params[which][0], out, false);
    if (st == SIM_OK && dist_params[which][1] != NULL) {
        st = conv_dist_param(c, n, out->kind, dist_params[which][1], out, true);
    }
    if (st != SIM_OK) return st;
    if (out->kind == SIM_DIST_UNIFORM && out->a_ns > out->b_ns) {
        char a[32], b[32];
        scn_format_duration(out->a_ns, a, sizeof a);
        scn_format_duration(out->b_ns, b, sizeof b);
        return fail(c, n, "min %s is greater than max %s", a, b);
    }
    if (allow_tail) *tail = map_get(c, n, "slow_tail");
    return SIM_OK;
}

static sim_status conv_latency(ctx *c, uint32_t n, sim_latency *out)
{
    static const char *const tail_keys[] = { "ratio", "latency" };
    uint32_t tail = NONE, unused = NONE;
    memset(out, 0, sizeof *out);
    sim_status st = conv_dist(c, n, true, &out->base, &tail);
    if (st != SIM_OK || tail == NONE) return st;
    size_t saved = path_push(c, "slow_tail");
    st = expect_kind(c, tail, YN_MAPPING, "a mapping such as {ratio: 0.01, latency: 200ms}");
    if (st == SIM_OK) st = check_keys(c, tail, tail_keys, ARRAY_LEN(tail_keys));
    for (size_t i = 0; st == SIM_OK && i < ARRAY_LEN(tail_keys); i++) {
        uint32_t v = map_get(c, tail, tail_keys[i]);
        if (v == NONE) {
            st = fail(c, tail, "missing key \"%s\"", tail_keys[i]);
            break;
        }
        size_t inner = path_push(c, tail_keys[i]);
        st = i == 0 ? conv_ratio(c, v, &out->tail_ppm) : conv_dist(c, v, false, &out->tail, &unused);
        path_pop(c, inner);
    }
    path_pop(c, saved);
    if (st == SIM_OK && out->tail_ppm == 0) memset(&out->tail, 0, sizeof out->tail);   /* one form for "no tail" */
    return st;
}

/* --- Field tables ------------------------------------------------------------ */

typedef enum ftype {
    F_NAME,          /* char[SCN_NAME_BYTES_MAX + 1], [a-z0-9._-]+ */
    F_TEXT,          /* owned char *, NULL when empty; max = byte limit */
    F_IDENT,         /* char[max + 1], [A-Za-z0-9._:-]+ */
    F_VERSION,       /* char[SCN_VERSION_BYTES], "1.4.2", "2.5.1" or "3.0.3" */
    F_TRANSPORT,     /* scn_transport: tcp or datagram */
    F_READS_SDK,     /* scn_reads_sdk: 1.x, 2.x or native */
    F_COUNTER_NAME,  /* char[SCN_COUNTER_NAME_BYTES_MAX + 1], [a-z0-9_]+ */
    F_U32,           /* uint32_t in [min, max] */
    F_U64,           /* uint64_t in [min, max] */
    F_I32,           /* int32_t in [min, max] */
    F_NODE,          /* uint32_t node index < cluster.nodes */
    F_NODE_COUNT,    /* uint32_t in [0, cluster.nodes] */
    F_NODESET,       /* scn_node_set from a list of indices */
    F_DURATION,      /* sim_time_ns >= min */
    F_SDURATION,     /* int64_t ns, may be negative */
    F_BOUND,         /* scn_bound: a duration or none */
    F_COUNT_BOUND,   /* scn_count_bound: a count or unchecked */
    F_RATIO,         /* uint32_t ppm */
    F_BANDWIDTH,     /* uint64_t bytes per second */
    F_BOOL,          /* bool */
    F_RATE,          /* uint32_t per minute x1000 */
    F_LATENCY,       /* sim_latency */
    F_CLIENTS,       /* scn_clients: 2.x-sdk, 1.x-sdk, mixed or http-v2 */
    F_NESTED,        /* read by the section's own function */
} ftype;

typedef struct field {
    const char *key;     /* first member: table_key reads it */
    ftype type;
    size_t offset;       /* from the base pointer the table is used with */
    int64_t min;
    uint64_t max;        /* numbers: largest value; F_TEXT and F_IDENT: byte limit */
    bool required;
    uint32_t link_bit;   /* SCN_LINK_* for link parameters, else 0 */
} field;

#define FLD(k, t, off, lo, hi) { k, t, off, lo, hi, false, 0 }
#define REQ(k, t, off, lo, hi) { k, t, off, lo, hi, true, 0 }
#define LNK(k, t, off, bit) { k, t, off, 0, 0, false, bit }
#define NEST(k) { k, F_NESTED, 0, 0, 0, false, 0 }
#define CFG(member) offsetof(scn_config, member)

static const field top_fields[] = {
    REQ("name", F_NAME, CFG(name), 0, 0),
    FLD("description", F_TEXT, CFG(description), 0, SCN_TEXT_BYTES_MAX),
    FLD("incident", F_TEXT, CFG(incident), 0, SCN_TEXT_BYTES_MAX),
    FLD("seed", F_U64, CFG(seed), 0, UINT64_MAX),
    FLD("duration", F_DURATION, CFG(duration_ns), 1, 0),
    NEST("cluster"), NEST("network"), NEST("workload"), NEST("faults"), NEST("nemesis"), NEST("phases"),
    NEST("expect"), NEST("tags"), NEST("engine"), NEST("swarm"),
};
enum { TOP_DURATION = 4 };

static const field engine_fields[] = {
    FLD("events_budget", F_U64, CFG(engine.events_budget), 1, UINT64_MAX),
    FLD("events_max", F_U32, CFG(engine.events_max), 64, SIM_EVENTS_MAX),
};

static const field cluster_fields[] = {
    FLD("nodes", F_U32, CFG(cluster.nodes), 1, SCN_NODES_MAX),
    NEST("addresses"),
    FLD("version", F_VERSION, CFG(cluster.version), 0, 0),
    NEST("distro"),
    NEST("identity"), NEST("node_settings"),
    NEST("bugs"),
};
enum { CLUSTER_NODES = 0 };

static const field network_fields[] = {
    FLD("transport", F_TRANSPORT, CFG(network.transport), 0, 0),
    NEST("tcp"),
    FLD("latency", F_LATENCY, CFG(network.defaults.latency), 0, 0),
    FLD("loss", F_RATIO, CFG(network.defaults.loss_ppm), 0, 0),
    FLD("duplicate", F_RATIO, CFG(network.defaults.duplicate_ppm), 0, 0),
    FLD("reorder", F_BOOL, CFG(network.defaults.reorder), 0, 0),
    FLD("bandwidth", F_BANDWIDTH, CFG(network.defaults.bandwidth_bytes_per_s), 0, 0),
    NEST("links"),
};

/* The kernel's TCP settings, named after their sysctls (sim_conn.h). */
static const field tcp_fields[] = {
    FLD("syn_rto", F_DURATION, CFG(network.tcp.syn_rto_ns), SIM_MS, 0),
    FLD("syn_retries", F_U32, CFG(network.tcp.syn_retries), 0, 30),
    FLD("rto_min", F_DURATION, CFG(network.tcp.rto_min_ns), SIM_MS, 0),
    FLD("rto_max", F_DURATION, CFG(network.tcp.rto_max_ns), SIM_MS, 0),
    FLD("retries2", F_U32, CFG(network.tcp.retries2), 0, 30),
    FLD("orphan_retries", F_U32, CFG(network.tcp.orphan_retries), 0, 30),
    FLD("rcvbuf_bytes", F_U32, CFG(network.tcp.rcvbuf_bytes), 1, UINT32_MAX),
};

#define LINK_PARAM_FIELDS(type, member)                                                                  \
    LNK("latency", F_LATENCY, offsetof(type, member.latency), SCN_LINK_LATENCY),                         \
        LNK("loss", F_RATIO, offsetof(type, member.loss_ppm), SCN_LINK_LOSS),                            \
        LNK("duplicate", F_RATIO, offsetof(type, member.duplicate_ppm), SCN_LINK_DUPLICATE),             \
        LNK("reorder", F_BOOL, offsetof(type, member.reorder), SCN_LINK_REORDER),                        \
        LNK("bandwidth", F_BANDWIDTH, offsetof(type, member.bandwidth_bytes_per_s), SCN_LINK_BANDWIDTH)

static const field link_entry_fields[] = {
    REQ("from", F_NODE, offsetof(scn_link_override, from), 0, 0),
    REQ("to", F_NODE, offsetof(scn_link_override, to), 0, 0),
    LINK_PARAM_FIELDS(scn_link_override, params),
};

static const field workload_fields[] = {
    FLD("services", F_U32, CFG(workload.services), 0, SCN_SERVICES_MAX),
    FLD("instances_per_service", F_U32, CFG(workload.instances_per_service), 1, SCN_INSTANCES_PER_SERVICE_MAX),
    FLD("namespace", F_IDENT, CFG(workload.namespace_id), 0, SCN_IDENT_BYTES_MAX),
    FLD("group", F_IDENT, CFG(workload.group), 0, SCN_IDENT_BYTES_MAX),
    FLD("service_prefix", F_IDENT, CFG(workload.service_prefix), 0, SCN_IDENT_BYTES_MAX),
    FLD("beat_interval", F_DURATION, CFG(workload.beat_interval_ns), 1, 0),
    NEST("metadata"),
    FLD("register_spread", F_DURATION, CFG(workload.register_spread_ns), 0, 0),
    FLD("start_at", F_DURATION, CFG(workload.start_at_ns), 0, 0),
    NEST("churn"),
    NEST("reads"),
    FLD("clients", F_CLIENTS, CFG(workload.clients), 0, 0),
};
enum { WORKLOAD_START_AT = 8, WORKLOAD_CLIENTS = 11 };

static const field reads_fields[] = {
    FLD("services", F_U32, CFG(workload.reads.services), 0, SCN_SERVICES_MAX),
    FLD("queriers", F_U32, CFG(workload.reads.queriers), 0, SCN_READERS_PER_SERVICE_MAX),
    FLD("query_interval", F_DURATION, CFG(workload.reads.query_interval_ns), SIM_MS, 0),
    FLD("subscribers", F_U32, CFG(workload.reads.subscribers), 0, SCN_READERS_PER_SERVICE_MAX),
    FLD("push_empty_protection", F_BOOL, CFG(workload.reads.push_empty_protection), 0, 0),
    FLD("start_at", F_DURATION, CFG(workload.reads.start_at_ns), 0, 0),
    FLD("subscriber_sdk", F_READS_SDK, CFG(workload.reads.subscriber_sdk), 0, 0),
};
enum { READS_SERVICES = 0, READS_START_AT = 5, READS_SUBSCRIBER_SDK = 6 };

static const field churn_fields[] = {
    FLD("register_per_min", F_RATE, CFG(workload.churn.register_per_min_milli), 0, 0),
    FLD("deregister_per_min", F_RATE, CFG(workload.churn.deregister_per_min_milli), 0, 0),
    FLD("crash_per_min", F_RATE, CFG(workload.churn.crash_per_min_milli), 0, 0),
};

#define FLT(member) offsetof(scn_fault, member)

/* `at` and the action keys; the kind of each action follows in fault_actions. */
static const char *const fault_keys[] = { "at", "recover_within", "partition", "block", "isolate", "heal",
                                          "crash", "start", "restart", "pause", "link", "clock", "members",
                                          "rolling" };
static const char *const rolling_keys[] = { "action", "nodes", "every", "down", "wait_converged" };

static const field from_to_fields[] = {
    REQ("from", F_NODE, FLT(from), 0, 0),
    REQ("to", F_NODE, FLT(to), 0, 0),
};
static const field node_fields[] = { REQ("node", F_NODE, FLT(node), 0, 0) };
static const char *const heal_keys[] = { "from", "to", "node" };
static const field restart_fields[] = {
    REQ("node", F_NODE, FLT(node), 0, 0),
    REQ("after", F_DURATION, FLT(duration_ns), 0, 0),
};
static const field pause_fields[] = {
    REQ("node", F_NODE, FLT(node), 0, 0),
    REQ("for", F_DURATION, FLT(duration_ns), 1, 0),
};
static const field link_fault_fields[] = {
    REQ("from", F_NODE, FLT(from), 0, 0),
    REQ("to", F_NODE, FLT(to), 0, 0),
    REQ("for", F_DURATION, FLT(duration_ns), 1, 0),
    FLD("both", F_BOOL, FLT(both), 0, 0),
    LINK_PARAM_FIELDS(scn_fault, link),
};
static const field clock_fields[] = {
    REQ("node", F_NODE, FLT(node), 0, 0),
    FLD("offset", F_SDURATION, FLT(clock_offset_ns), 0, 0),
    FLD("drift_ppm", F_I32, FLT(clock_drift_ppm), -SIM_DRIFT_PPM_MAX, SIM_DRIFT_PPM_MAX),
};
static const field members_fields[] = {
    REQ("on", F_NODESET, FLT(members_on), 0, 0),
    FLD("add", F_NODESET, FLT(members_add), 0, 0),
    FLD("remove", F_NODESET, FLT(members_remove), 0, 0),
};

static const field nemesis_fields[] = {
    NEST("kinds"), NEST("interval"), NEST("duration"),
    FLD("max_down", F_NODE_COUNT, CFG(nemesis.max_down), 0, 0),
};
static const field nemesis_interval_fields[] = {
    FLD("min", F_DURATION, CFG(nemesis.interval.min_ns), 1, 0),
    FLD("max", F_DURATION, CFG(nemesis.interval.max_ns), 1, 0),
};
static const field nemesis_duration_fields[] = {
    FLD("min", F_DURATION, CFG(nemesis.duration.min_ns), 1, 0),
    FLD("max", F_DURATION, CFG(nemesis.duration.max_ns), 1, 0),
};
static const char *const nemesis_kind_names[] = { "partition", "isolate", "crash", "restart", "pause", "link",
                                                  "clock" };
static const scn_fault_kind nemesis_kind_values[] = { SCN_FAULT_PARTITION, SCN_FAULT_ISOLATE, SCN_FAULT_CRASH,
                                                      SCN_FAULT_RESTART,   SCN_FAULT_PAUSE,   SCN_FAULT_LINK,
                                                      SCN_FAULT_CLOCK };

static const field phases_fields[] = {
    FLD("chaos", F_DURATION, CFG(phases.chaos_ns), 1, 0),
    FLD("quiet", F_DURATION, CFG(phases.quiet_ns), 0, 0),
};

static const field expect_fields[] = {
    FLD("converge_within", F_BOUND, CFG(expect.converge_within), 0, 0),
    FLD("recover_within", F_BOUND, CFG(expect.recover_within), 0, 0),
    FLD("lost_max", F_BOUND, CFG(expect.lost_max), 0, 0),
    FLD("zombie_max", F_BOUND, CFG(expect.zombie_max), 0, 0),
    FLD("ownership_disagreement_max", F_BOUND, CFG(expect.ownership_disagreement_max), 0, 0),
    FLD("client_empty_max", F_BOUND, CFG(expect.client_empty_max), 0, 0),
    FLD("client_short_max", F_BOUND, CFG(expect.client_short_max), 0, 0),
    FLD("client_stale_max", F_BOUND, CFG(expect.client_stale_max), 0, 0),
    FLD("lag_allowance", F_DURATION, CFG(expect.lag_allowance_ns), 0, 0),
    FLD("zombie_allowance", F_DURATION, CFG(expect.zombie_allowance_ns), 0, 0),
    NEST("counters"), NEST("lost"), NEST("zombie"),
};
enum { EXPECT_LOST_MAX = 2, EXPECT_ZOMBIE_MAX = 3 };
/* `lost: {max: 0s, p99: 2s, count: 3}` and the same for zombie: bounds on
 * the run's windows of that kind (reports/SCHEMA.md).  `max` is lost_max. */
static const field lost_fields[] = {
    FLD("max", F_BOUND, CFG(expect.lost_max), 0, 0),
    FLD("p99", F_BOUND, CFG(expect.lost_p99), 0, 0),
    FLD("count", F_COUNT_BOUND, CFG(expect.lost_count), 0, 0),
};
static const field zombie_fields[] = {
    FLD("max", F_BOUND, CFG(expect.zombie_max), 0, 0),
    FLD("p99", F_BOUND, CFG(expect.zombie_p99), 0, 0),
    FLD("count", F_COUNT_BOUND, CFG(expect.zombie_count), 0, 0),
};
static const field counter_fields[] = {
    REQ("name", F_COUNTER_NAME, offsetof(scn_counter_bound, name), 0, 0),
    FLD("min", F_U64, offsetof(scn_counter_bound, min), 0, UINT64_MAX),
    FLD("max", F_U64, offsetof(scn_counter_bound, max), 0, UINT64_MAX),
};

/* A counter name the model does not have: the closest name when one is
 * near, and where to find them all (the whole list is longer than an
 * error message; `distrosim validate` prints it after the error). */
static sim_status unknown_counter(ctx *c, uint32_t n, const char *name)
{
    size_t count = 0;
    const scn_counter_info *all = scn_counters(&count);
    /* The closest name, preferring those of the same family (the word
     * before the first '_': sync, verify, snapshot...). */
    const char *us = strchr(name, '_');
    size_t family = us != NULL ? (size_t)(us - name) + 1 : 0;
    size_t best = SIZE_MAX, best_i = 0;
    for (int pass = family > 0 ? 0 : 1; pass < 2 && best == SIZE_MAX; pass++) {
        for (size_t i = 0; i < count; i++) {
            if (pass == 0 && strncmp(all[i].name, name, family) != 0) continue;
            size_t dist = edit_distance(name, strlen(name), all[i].name, strlen(all[i].name));
            if (dist < best) {
                best = dist;
                best_i = i;
            }
        }
    }
    if (best <= strlen(name) / 2) {
        return fail(c, n, "unknown counter \"%s\" (did you mean %s? `distrosim counters` lists all %zu)", name,
                    all[best_i].name, count);
    }
    return fail(c, n, "unknown counter \"%s\" (`distrosim counters` lists all %zu)", name, count);
}

static sim_status conv_field(ctx *c, uint32_t n, const field *f, void *base)
{
    char *p = (char *)base + f->offset;
    uint64_t u = 0;
    int64_t i = 0;
    sim_status st = SIM_OK;
    switch (f->type) {
    case F_NAME:
        return conv_word(c, n, SCN_NAME_BYTES_MAX, false, "._-",
                         "expected a name of 1 to 64 characters from [a-z0-9._-]", p);
    case F_TEXT: return conv_text(c, n, (size_t)f->max, (char **)(void *)p);
    case F_IDENT:
        return conv_word(c, n, (size_t)f->max, true, "._:-", "expected 1 to 128 characters from [A-Za-z0-9._:-]", p);
    case F_VERSION: return conv_version(c, n, p);
    case F_TRANSPORT: return conv_transport(c, n, (scn_transport *)(void *)p);
    case F_CLIENTS: return conv_clients(c, n, (scn_clients *)(void *)p);
    case F_READS_SDK: return conv_reads_sdk(c, n, (scn_reads_sdk *)(void *)p);
    case F_COUNTER_NAME:
        st = conv_word(c, n, SCN_COUNTER_NAME_BYTES_MAX, false, "_",
                       "expected a counter name of 1 to 64 characters from [a-z0-9_]", p);
        if (st == SIM_OK && !scn_counter_known(p)) return unknown_counter(c, n, p);
        return st;
    case F_U32:
        st = conv_uint(c, n, (uint64_t)f->min, f->max, &u);
        if (st == SIM_OK) *(uint32_t *)(void *)p = (uint32_t)u;
        return st;
    case F_U64: return conv_uint(c, n, (uint64_t)f->min, f->max, (uint64_t *)(void *)p);
    case F_I32:
        st = conv_int(c, n, f->min, (int64_t)f->max, &i);
        if (st == SIM_OK) *(int32_t *)(void *)p = (int32_t)i;
        return st;
    case F_NODE: return conv_node(c, n, (uint32_t *)(void *)p);
    case F_NODE_COUNT:
        st = conv_uint(c, n, 0, c->cfg->cluster.nodes, &u);
        if (st == SIM_OK) *(uint32_t *)(void *)p = (uint32_t)u;
        return st;
    case F_NODESET: return conv_nodeset(c, n, (scn_node_set *)(void *)p);
    case F_DURATION: return conv_duration(c, n, (sim_time_ns)f->min, (sim_time_ns *)(void *)p);
    case F_SDURATION: return conv_sduration(c, n, (int64_t *)(void *)p);
    case F_BOUND: return conv_bound(c, n, (scn_bound *)(void *)p);
    case F_COUNT_BOUND: return conv_count_bound(c, n, (scn_count_bound *)(void *)p);
    case F_RATIO: return conv_ratio(c, n, (uint32_t *)(void *)p);
    case F_BANDWIDTH: return conv_bandwidth(c, n, (uint64_t *)(void *)p);
    case F_BOOL: return conv_bool(c, n, (bool *)(void *)p);
    case F_RATE: return conv_rate(c, n, (uint32_t *)(void *)p);
    case F_LATENCY: return conv_latency(c, n, (sim_latency *)(void *)p);
    case F_NESTED: break;
    }
    SIM_ASSERT(0 && "nested fields are read by their section");
    return SIM_ERR_INVALID;
}

/* Reads every non-nested field of `table` present in mapping m into base,
 * in table order; *given gets bit i for each key i present (nested too).
 * A missing required key is an error at the mapping. */
static sim_status parse_fields(ctx *c, uint32_t m, const field *table, size_t count, void *base, uint64_t *given)
{
    SIM_ASSERT(count <= 64);
    uint64_t mask = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t v = map_get(c, m, table[i].key);
        if (v == NONE) {
            if (table[i].required) {
                return fail(c, m, "missing key \"%s\"%s", table[i].key, c->path_len == 0 ? " at top level" : "");
            }
            continue;
        }
        mask |= (uint64_t)1 << i;
        if (table[i].type == F_NESTED) continue;
        size_t saved = path_push(c, table[i].key);
        sim_status st = conv_field(c, v, &table[i], base);
        path_pop(c, saved);
        if (st != SIM_OK) return st;
    }
    if (given != NULL) *given = mask;
    return SIM_OK;
}

/* SCN_LINK_* bits of the link parameters in `given`. */
static uint32_t link_bits(const field *table, size_t count, uint64_t given)
{
    uint32_t bits = 0;
    for (size_t i = 0; i < count; i++) {
        if (given & ((uint64_t)1 << i)) bits |= table[i].link_bit;
    }
    return bits;
}

/* A mapping section: type check, key check, scalar fields. */
static sim_status parse_section(ctx *c, uint32_t m, const field *table, size_t count, void *base, uint64_t *given,
                                const char *expected)
{
    sim_status st = expect_kind(c, m, YN_MAPPING, expected);
    if (st == SIM_OK) st = check_keys_any(c, m, table, sizeof *table, count, false);
    if (st == SIM_OK) st = parse_fields(c, m, table, count, base, given);
    return st;
}

/* --- Sections ---------------------------------------------------------------- */

static sim_status parse_addresses(ctx *c, uint32_t seq)
{
    scn_cluster *cl = &c->cfg->cluster;
    sim_status st = expect_kind(c, seq, YN_SEQUENCE, "a list of 1 to 64 addresses such as [\"10.0.0.1:8848\"]");
    if (st != SIM_OK) return st;
    uint32_t count = node_at(c, seq)->count;
    if (count < 1 || count > SCN_NODES_MAX) {
        return fail(c, seq, "expected a list of 1 to %u addresses, got %u", SCN_NODES_MAX, (unsigned)count);
    }
    uint32_t i = 0;
    for (uint32_t e = node_at(c, seq)->first; e != NONE; e = node_at(c, e)->next, i++) {
        size_t saved = path_push_index(c, i);
        st = conv_address(c, e, cl->addresses[i]);
        for (uint32_t j = 0; st == SIM_OK && j < i; j++) {
            if (strcmp(cl->addresses[i], cl->addresses[j]) == 0) {
                st = fail(c, e, "address \"%s\" is already cluster.addresses[%u]", cl->addresses[i], (unsigned)j);
            }
        }
        path_pop(c, saved);
        if (st != SIM_OK) return st;
    }
    cl->nodes = count;
    return SIM_OK;
}

/* One beat interval.  Nacos 1.4.2 has two: the client's own period (the
 * instance's preserved.heart.beat.interval, 5 s; BeatReactor.java) and the
 * server's clientBeatInterval switch (5 s; SwitchDomain.java), which every
 * beat reply carries and the client adopts from its second beat on
 * (BeatReactor.java:165-176).  A scenario sets workload.beat_interval and
 * the servers answer the same value, so the two cannot silently differ;
 * cluster.distro.client_beat_interval is refused with this pointer. */
#define ONE_BEAT_INTERVAL                                                                         \
    "not a key: set workload.beat_interval, the one beat interval (the clients beat at it and the " \
    "servers answer it as clientBeatInterval)"

static void derive_beat_interval(scn_config *cfg)
{
    cfg->cluster.distro.client_beat_interval_ns = cfg->workload.beat_interval_ns;
}

/* cluster.distro: plain keys, and nested maps whose keys the table names
 * "map.key" (http: {sync_ttl: 1s} sets "http.sync_ttl"; v2: and grpc:
 * hold the 2.x settings).  A key of another Distro line than
 * cluster.version's is refused at its position (scn_distro_refusal). */
#define DISTRO_MAPS_MAX 4
static sim_status parse_distro(ctx *c, uint32_t m)
{
    size_t count = 0;
    const scn_distro_field *fields = scn_distro_fields(&count);
    const char *plain[96], *nested_keys[DISTRO_MAPS_MAX][32];
    char maps[DISTRO_MAPS_MAX][8];
    size_t plain_count = 0, map_count = 0, nested_count[DISTRO_MAPS_MAX] = { 0 };
    for (size_t i = 0; i < count; i++) {
        const char *dot = strchr(fields[i].key, '.');
        if (dot == NULL) {
            SIM_ASSERT(plain_count + DISTRO_MAPS_MAX < ARRAY_LEN(plain));
            plain[plain_count++] = fields[i].key;
            continue;
        }
        size_t len = (size_t)(dot - fields[i].key), mi = 0;
        SIM_ASSERT(len < sizeof maps[0] && strchr(dot + 1, '.') == NULL);   /* one level of nesting */
        while (mi < map_count && (strlen(maps[mi]) != len || strncmp(maps[mi], fields[i].key, len) != 0)) mi++;
        if (mi == map_count) {
            SIM_ASSERT(map_count < DISTRO_MAPS_MAX);
            memcpy(maps[mi], fields[i].key, len);
            maps[mi][len] = '\0';
            map_count++;
        }
        SIM_ASSERT(nested_count[mi] < ARRAY_LEN(nested_keys[mi]));
        nested_keys[mi][nested_count[mi]++] = dot + 1;
    }
    for (size_t mi = 0; mi < map_count; mi++) plain[plain_count++] = maps[mi];
    sim_status st = expect_kind(c, m, YN_MAPPING, "a mapping of Distro settings such as {verify_interval: 5s}");
    for (uint32_t k = st == SIM_OK ? node_at(c, m)->first : NONE; k != NONE; k = node_at(c, node_at(c, k)->next)->next) {
        size_t klen = 0;
        const char *ktext = node_at(c, k)->kind == YN_SCALAR ? text_of(c, k, &klen) : NULL;
        if (ktext == NULL || klen <= 5 || strncmp(ktext, "http_", 5) != 0) continue;
        char key[200];
        escape_text(ktext, klen, key, sizeof key);
        return fail_raw(c, k, "unknown key \"%s\" in %s (the HTTP client settings are a map: http: {%s: ...})", key,
                        c->path, key + 5);
    }
    uint32_t beat = st == SIM_OK ? map_get(c, m, "client_beat_interval") : NONE;
    if (beat != NONE) {
        size_t at = path_push(c, "client_beat_interval");
        st = fail(c, beat, "%s", ONE_BEAT_INTERVAL);
        path_pop(c, at);
    }
    if (st == SIM_OK) st = check_keys_any(c, m, plain, sizeof plain[0], plain_count, false);
    uint32_t map_node[DISTRO_MAPS_MAX];
    for (size_t mi = 0; mi < map_count; mi++) {
        map_node[mi] = st == SIM_OK ? map_get(c, m, maps[mi]) : NONE;
        if (map_node[mi] == NONE) continue;
        size_t saved = path_push(c, maps[mi]);
        st = expect_kind(c, map_node[mi], YN_MAPPING, "a mapping of settings such as {sync_delay: 1s}");
        if (st == SIM_OK) st = check_keys_any(c, map_node[mi], nested_keys[mi], sizeof nested_keys[mi][0], nested_count[mi], false);
        path_pop(c, saved);
    }
    for (size_t i = 0; st == SIM_OK && i < count; i++) {
        const char *dot = strchr(fields[i].key, '.');
        uint32_t in = m;
        size_t mi = 0;
        if (dot != NULL) {
            while (strncmp(maps[mi], fields[i].key, (size_t)(dot - fields[i].key)) != 0 ||
                   maps[mi][dot - fields[i].key] != '\0') {
                mi++;
            }
            in = map_node[mi];
            if (in == NONE) continue;
        }
        const char *key = dot != NULL ? dot + 1 : fields[i].key;
        uint32_t v = map_get(c, in, key);
        if (v == NONE) continue;
        char *p = (char *)&c->cfg->cluster.distro + fields[i].offset;
        uint64_t u = 0;
        size_t outer = dot != NULL ? path_push(c, maps[mi]) : 0;
        size_t saved = path_push(c, key);
        const char *refusal = scn_distro_refusal(&fields[i], c->cfg->cluster.version);
        if (refusal != NULL) {
            st = fail(c, v, "%s", refusal);
        } else {
            switch (fields[i].type) {
            case SCN_DISTRO_DURATION: st = conv_duration(c, v, fields[i].min, (sim_time_ns *)(void *)p); break;
            case SCN_DISTRO_BOOL: st = conv_bool(c, v, (bool *)(void *)p); break;
            case SCN_DISTRO_U32:
                st = conv_uint(c, v, fields[i].min, fields[i].max, &u);
                if (st == SIM_OK) *(uint32_t *)(void *)p = (uint32_t)u;
                break;
            }
        }
        path_pop(c, saved);
        if (dot != NULL) path_pop(c, outer);
    }
    return st;
}

/* cluster.identity and node_settings[].identity: {key: K, value: V}, each a
 * string, empty for blank. */
static sim_status parse_identity(ctx *c, uint32_t m, scn_identity *out)
{
    static const char *const keys[] = { "key", "value" };
    sim_status st = expect_kind(c, m, YN_MAPPING, "a mapping such as {key: \"serverIdentity\", value: \"security\"}");
    if (st == SIM_OK) st = check_keys(c, m, keys, ARRAY_LEN(keys));
    for (size_t i = 0; st == SIM_OK && i < ARRAY_LEN(keys); i++) {
        uint32_t v = map_get(c, m, keys[i]);
        if (v == NONE) return fail(c, m, "missing key \"%s\" (an empty string is blank)", keys[i]);
        size_t saved = path_push(c, keys[i]);
        if (node_at(c, v)->kind == YN_SCALAR) c->tree.nodes[v].quoted = true;   /* "" and null-looking text are strings */
        st = conv_short_text(c, v, SCN_IDENTITY_BYTES_MAX, i == 0 ? out->key : out->value);
        path_pop(c, saved);
    }
    return st;
}

/* cluster.node_settings: [{node: N, identity: {...}, version: "2.5.1",
 * upgrade_to: "3.0.3"}]: upgrade_to is the release the node runs from its
 * first crash or restart on (a rolling upgrade). */
static sim_status parse_node_settings(ctx *c, uint32_t seq)
{
    static const char *const keys[] = { "node", "identity", "version", "upgrade_to" };
    scn_cluster *cl = &c->cfg->cluster;
    sim_status st = expect_kind(c, seq, YN_SEQUENCE, "a list such as [{node: 2, identity: {key: \"\", value: \"\"}}]");
    uint32_t i = 0;
    bool seen[SCN_NODES_MAX] = { false };
    for (uint32_t e = st == SIM_OK ? node_at(c, seq)->first : NONE; st == SIM_OK && e != NONE; e = node_at(c, e)->next, i++) {
        size_t saved = path_push_index(c, i);
        st = expect_kind(c, e, YN_MAPPING, "a mapping such as {node: 2, version: \"2.5.1\"}");
        if (st == SIM_OK) st = check_keys(c, e, keys, ARRAY_LEN(keys));
        uint32_t nn = st == SIM_OK ? map_get(c, e, "node") : NONE, node = 0;
        if (st == SIM_OK && nn == NONE) st = fail(c, e, "missing key \"node\"");
        if (st == SIM_OK) {
            size_t at = path_push(c, "node");
            st = conv_node(c, nn, &node);
            if (st == SIM_OK && seen[node]) st = fail(c, nn, "node %u is already listed", (unsigned)node);
            path_pop(c, at);
        }
        uint32_t idn = st == SIM_OK ? map_get(c, e, "identity") : NONE;
        uint32_t vn = st == SIM_OK ? map_get(c, e, "version") : NONE;
        if (st == SIM_OK && idn == NONE && vn == NONE) st = fail(c, e, "expected identity or version (or both)");
        if (st == SIM_OK) seen[node] = true;
        if (st == SIM_OK && idn != NONE) {
            size_t at = path_push(c, "identity");
            st = parse_identity(c, idn, &cl->node_identity[node]);
            cl->node_identity_set[node] = st == SIM_OK;
            path_pop(c, at);
        }
        if (st == SIM_OK && vn != NONE) {
            size_t at = path_push(c, "version");
            st = conv_version(c, vn, cl->node_version[node]);
            if (st == SIM_OK && strcmp(cl->node_version[node], "1.4.2") == 0) {
                st = fail(c, vn, "expected \"2.5.1\" or \"3.0.3\" (a 1.4.2 server cannot join a 2.x cluster), got \"1.4.2\"");
            }
            path_pop(c, at);
        }
        uint32_t un = st == SIM_OK ? map_get(c, e, "upgrade_to") : NONE;
        if (st == SIM_OK && un != NONE) {
            size_t at = path_push(c, "upgrade_to");
            st = conv_version(c, un, cl->node_upgrade[node]);
            if (st == SIM_OK && (strcmp(cl->node_upgrade[node], "3.0.3") != 0 || strcmp(cl->node_version[node], "2.5.1") != 0)) {
                st = fail(c, un, "expected \"3.0.3\", on a node whose version is \"2.5.1\" (an upgrade from 2.5.1 "
                                 "to 3.0.3 at the node's first restart)");
            }
            path_pop(c, at);
        }
        path_pop(c, saved);
    }
    return st;
}

/* cluster.bugs: a list of selectable 2.x defects, each named once
 * ("nacos-8099"); [] is none.  Sets the bits of `bugs`. */
static sim_status parse_bugs(ctx *c, uint32_t seq, uint32_t *bugs)
{
    char got_buf[256], known[160];
    size_t used = 0;
    known[0] = '\0';
    for (unsigned b = 0; b < DISTRO2_BUG_COUNT; b++) {
        int w = snprintf(known + used, sizeof known - used, "%s%s", b > 0 ? ", " : "",
                         distro2_bug_name((distro2_bug_id)b));
        if (w > 0 && (size_t)w < sizeof known - used) used += (size_t)w;
    }
    if (node_at(c, seq)->kind != YN_SEQUENCE) {
        return fail(c, seq, "expected a list of defects such as [nacos-8099] (known: %s), got %s", known, GOT(seq));
    }
    uint32_t set = 0, i = 0;
    for (uint32_t e = node_at(c, seq)->first; e != NONE; e = node_at(c, e)->next, i++) {
        size_t len = 0;
        const char *text = node_at(c, e)->kind == YN_SCALAR ? text_of(c, e, &len) : NULL;
        distro2_bug_id id = text != NULL ? distro2_bug_find(text, len) : DISTRO2_BUG_COUNT;
        size_t saved = path_push_index(c, i);
        sim_status st = SIM_OK;
        if (id == DISTRO2_BUG_COUNT) {
            st = fail(c, e, "expected one of %s, got %s", known, GOT(e));
        } else if (set & (1u << id)) {
            st = fail(c, e, "defect %s is listed twice", distro2_bug_name(id));
        }
        path_pop(c, saved);
        if (st != SIM_OK) return st;
        set |= 1u << id;
    }
    *bugs = set;
    return SIM_OK;
}

static sim_status parse_cluster(ctx *c, uint32_t m)
{
    scn_cluster *cl = &c->cfg->cluster;
    uint64_t given = 0;
    sim_status st = parse_section(c, m, cluster_fields, ARRAY_LEN(cluster_fields), c->cfg, &given,
                                  "a mapping such as {nodes: 3}");
    if (st != SIM_OK) return st;
    uint32_t addresses = map_get(c, m, "addresses");
    if (addresses != NONE) {
        uint32_t nodes = cl->nodes;
        size_t saved = path_push(c, "addresses");
        st = parse_addresses(c, addresses);
        path_pop(c, saved);
        if (st != SIM_OK) return st;
        if ((given & (1u << CLUSTER_NODES)) && nodes != cl->nodes) {
            saved = path_push(c, "nodes");
            st = fail(c, map_get(c, m, "nodes"), "%u does not match the %u entries of cluster.addresses",
                      (unsigned)nodes, (unsigned)cl->nodes);
            path_pop(c, saved);
            return st;
        }
    } else {
        for (uint32_t i = 0; i < SCN_NODES_MAX; i++) {
            if (i < cl->nodes) {
                scn_default_address(i, cl->addresses[i]);
            } else {
                memset(cl->addresses[i], 0, sizeof cl->addresses[i]);
            }
        }
    }
    c->cfg->nemesis.max_down = (cl->nodes - 1u) / 2u;   /* the default follows the node count */
    uint32_t bugs = map_get(c, m, "bugs");
    if (bugs != NONE) {
        size_t at = path_push(c, "bugs");
        st = parse_bugs(c, bugs, &cl->distro.v2.bugs);
        path_pop(c, at);
        if (st != SIM_OK) return st;
    }
    uint32_t distro = map_get(c, m, "distro");
    if (distro != NONE) {
        size_t saved = path_push(c, "distro");
        st = parse_distro(c, distro);
        path_pop(c, saved);
        if (st != SIM_OK) return st;
    }
    /* 3.0.3's inner-API identity and per-node settings (section 3.11). */
    static const char *const v3_keys[] = { "identity", "node_settings" };
    for (size_t i = 0; i < ARRAY_LEN(v3_keys); i++) {
        uint32_t v = map_get(c, m, v3_keys[i]);
        if (v == NONE) continue;
        size_t saved = path_push(c, v3_keys[i]);
        if (strcmp(cl->version, "3.0.3") != 0) {
            st = fail(c, v, "a Nacos 3.0.3 setting; a %s cluster has %s", cl->version,
                      i == 0 ? "no inner-API identity check" : "one release on every node and no identity check");
        } else {
            st = i == 0 ? parse_identity(c, v, &cl->identity) : parse_node_settings(c, v);
        }
        path_pop(c, saved);
        if (st != SIM_OK) return st;
    }
    return SIM_OK;
}

static sim_status parse_link_entry(ctx *c, uint32_t item, uint32_t index)
{
    scn_network *net = &c->cfg->network;
    scn_link_override *l = &net->links[index];
    uint64_t given = 0;
    memset(l, 0, sizeof *l);
    l->params = net->defaults;
    sim_status st = parse_section(c, item, link_entry_fields, ARRAY_LEN(link_entry_fields), l, &given,
                                  "a mapping such as {from: 0, to: 1, latency: 50ms}");
    if (st != SIM_OK) return st;
    l->fields = link_bits(link_entry_fields, ARRAY_LEN(link_entry_fields), given);
    if (l->from == l->to) return fail(c, item, "from and to are the same node (%u)", (unsigned)l->from);
    if (l->fields == 0) return fail(c, item, "expected at least one of latency, loss, duplicate, reorder, bandwidth");
    for (uint32_t j = 0; j < index; j++) {
        if (net->links[j].from == l->from && net->links[j].to == l->to) {
            return fail(c, item, "link %u -> %u is already set by network.links[%u]", (unsigned)l->from,
                        (unsigned)l->to, (unsigned)j);
        }
    }
    return SIM_OK;
}

static sim_status parse_network(ctx *c, uint32_t m)
{
    scn_network *net = &c->cfg->network;
    sim_status st = parse_section(c, m, network_fields, ARRAY_LEN(network_fields), c->cfg, NULL,
                                  "a mapping such as {latency: 1ms, loss: 0}");
    uint32_t tcp = st == SIM_OK ? map_get(c, m, "tcp") : NONE;
    if (tcp != NONE) {
        size_t saved = path_push(c, "tcp");
        st = parse_section(c, tcp, tcp_fields, ARRAY_LEN(tcp_fields), c->cfg, NULL,
                           "a mapping of TCP settings such as {syn_retries: 6}");
        if (st == SIM_OK && net->tcp.rto_max_ns < net->tcp.rto_min_ns) {
            st = fail(c, tcp, "rto_max is below rto_min");
        }
        path_pop(c, saved);
    }
    uint32_t links = st == SIM_OK ? map_get(c, m, "links") : NONE;
    if (links == NONE) return st;
    size_t saved = path_push(c, "links");
    st = expect_kind(c, links, YN_SEQUENCE, "a list of links such as [{from: 0, to: 1, latency: 50ms}]");
    uint32_t count = node_at(c, links)->count;
    if (st == SIM_OK && count > SCN_LINKS_MAX) {
        st = fail(c, links, "expected at most %u links, got %u", SCN_LINKS_MAX, (unsigned)count);
    }
    if (st == SIM_OK && count > 0) {
        net->links = sim_calloc(count, sizeof *net->links);
        if (net->links == NULL) st = fail_nomem(c);
    }
    uint32_t i = 0;
    for (uint32_t e = node_at(c, links)->first; st == SIM_OK && e != NONE; e = node_at(c, e)->next, i++) {
        size_t inner = path_push_index(c, i);
        st = parse_link_entry(c, e, i);
        path_pop(c, inner);
        if (st == SIM_OK) net->link_count = i + 1u;
    }
    path_pop(c, saved);
    return st;
}

static sim_status parse_metadata(ctx *c, uint32_t m)
{
    scn_workload *w = &c->cfg->workload;
    sim_status st = expect_kind(c, m, YN_MAPPING, "a mapping of strings such as {version: \"1.0\"}");
    if (st != SIM_OK) return st;
    uint32_t pairs = node_at(c, m)->count / 2u;
    if (pairs > SCN_METADATA_MAX) return fail(c, m, "expected at most %u entries, got %u", SCN_METADATA_MAX, (unsigned)pairs);
    st = check_keys_any(c, m, NULL, sizeof(const char *), 0, true);
    if (st != SIM_OK || pairs == 0) return st;
    w->metadata = sim_calloc(pairs, sizeof *w->metadata);
    if (w->metadata == NULL) return fail_nomem(c);
    for (uint32_t k = node_at(c, m)->first; k != NONE;) {
        uint32_t v = node_at(c, k)->next;
        scn_metadata_entry *e = &w->metadata[w->metadata_count];
        st = conv_short_text(c, k, SCN_METADATA_KEY_BYTES_MAX, e->key);
        if (st == SIM_OK && e->key[0] == '\0') st = fail(c, k, "expected a key of 1 to %u bytes, got \"\"", SCN_METADATA_KEY_BYTES_MAX);
        if (st != SIM_OK) return st;
        size_t saved = path_push(c, e->key);
        st = conv_short_text(c, v, SCN_METADATA_VALUE_BYTES_MAX, e->value);
        path_pop(c, saved);
        if (st != SIM_OK) return st;
        w->metadata_count++;
        k = node_at(c, v)->next;
    }
    return SIM_OK;
}

static sim_status parse_workload(ctx *c, uint32_t m)
{
    uint64_t given = 0;
    sim_status st = parse_section(c, m, workload_fields, ARRAY_LEN(workload_fields), c->cfg, &given,
                                  "a mapping such as {services: 10}");
    if (st != SIM_OK) return st;
    uint32_t meta = map_get(c, m, "metadata"), churn = map_get(c, m, "churn"), reads = map_get(c, m, "reads");
    if (meta != NONE) {
        size_t saved = path_push(c, "metadata");
        st = parse_metadata(c, meta);
        path_pop(c, saved);
        if (st != SIM_OK) return st;
    }
    if (churn != NONE) {
        size_t saved = path_push(c, "churn");
        st = parse_section(c, churn, churn_fields, ARRAY_LEN(churn_fields), c->cfg, NULL,
                           "a mapping such as {register_per_min: 1}");
        path_pop(c, saved);
        if (st != SIM_OK) return st;
    }
    const scn_config *cfg = c->cfg;
    if (reads != NONE) {
        uint64_t reads_given = 0;
        size_t saved = path_push(c, "reads");
        st = parse_section(c, reads, reads_fields, ARRAY_LEN(reads_fields), c->cfg, &reads_given,
                           "a mapping such as {subscribers: 1, queriers: 1, query_interval: 1s}");
        if (st == SIM_OK && (reads_given & (1u << READS_SERVICES)) &&
            cfg->workload.reads.services > cfg->workload.services) {
            size_t inner = path_push(c, "services");
            st = fail(c, map_get(c, reads, "services"), "%u is more than the %u services of the workload",
                      (unsigned)cfg->workload.reads.services, (unsigned)cfg->workload.services);
            path_pop(c, inner);
        }
        if (st == SIM_OK && (reads_given & (1u << READS_START_AT)) &&
            cfg->workload.reads.start_at_ns >= cfg->duration_ns) {
            char at[32], end[32];
            scn_format_duration(cfg->workload.reads.start_at_ns, at, sizeof at);
            scn_format_duration(cfg->duration_ns, end, sizeof end);
            size_t inner = path_push(c, "start_at");
            st = fail(c, map_get(c, reads, "start_at"), "%s is not before the end of the run (%s)", at, end);
            path_pop(c, inner);
        }
        if (st == SIM_OK && (reads_given & (1u << READS_SUBSCRIBER_SDK)) &&
            cfg->workload.reads.subscriber_sdk == SCN_READS_SDK_2X && scn_cluster_version(cfg) == DISTRO_VERSION_1_4_2) {
            size_t inner = path_push(c, "subscriber_sdk");
            st = fail(c, map_get(c, reads, "subscriber_sdk"),
                      "2.x needs cluster.version \"2.5.1\" (a 1.4.2 server has no gRPC naming service; "
                      "\"native\" picks the version's own SDK)");
            path_pop(c, inner);
        }
        path_pop(c, saved);
        if (st != SIM_OK) return st;
    }
    if ((given & (1u << WORKLOAD_CLIENTS)) && strcmp(cfg->cluster.version, "1.4.2") == 0 &&
        scn_clients_need_v2(cfg->workload.clients)) {
        size_t saved = path_push(c, "clients");
        st = fail(c, map_get(c, m, "clients"), "%s needs cluster.version \"2.5.1\" (Nacos 1.4.2 serves 1.x SDK "
                  "clients only)", scn_clients_name(cfg->workload.clients));
        path_pop(c, saved);
        if (st != SIM_OK) return st;
    }
    if ((given & (1u << WORKLOAD_START_AT)) && cfg->workload.start_at_ns >= cfg->duration_ns) {
        char at[32], end[32];
        scn_format_duration(cfg->workload.start_at_ns, at, sizeof at);
        scn_format_duration(cfg->duration_ns, end, sizeof end);
        size_t saved = path_push(c, "start_at");
        st = fail(c, map_get(c, m, "start_at"), "%s is not before the end of the run (%s)", at, end);
        path_pop(c, saved);
    }
    return st;
}

static sim_status parse_phases(ctx *c, uint32_t m, uint32_t duration_node)
{
    scn_config *cfg = c->cfg;
    size_t saved = path_push(c, "phases");
    sim_status st = parse_section(c, m, phases_fields, ARRAY_LEN(phases_fields), cfg, NULL,
                                  "a mapping such as {chaos: 3m, quiet: 2m}");
    path_pop(c, saved);
    if (st != SIM_OK) return st;
    cfg->phases.enabled = true;
    sim_time_ns total_ns = cfg->phases.chaos_ns + cfg->phases.quiet_ns;   /* each <= 1 year: no wrap */
    if (total_ns > SCN_DURATION_NS_MAX) {
        saved = path_push(c, "phases");
        st = fail(c, m, "chaos + quiet is above the limit of 8760h");
        path_pop(c, saved);
        return st;
    }
    if (duration_node != NONE && cfg->duration_ns != total_ns) {
        char have[32], want[32];
        scn_format_duration(cfg->duration_ns, have, sizeof have);
        scn_format_duration(total_ns, want, sizeof want);
        saved = path_push(c, "duration");
        st = fail(c, duration_node, "%s does not match phases.chaos + phases.quiet (%s); give one or the other",
                  have, want);
        path_pop(c, saved);
        return st;
    }
    cfg->duration_ns = total_ns;
    return SIM_OK;
}

/* --- Faults ------------------------------------------------------------------ */

static sim_status parse_partition(ctx *c, uint32_t v, scn_fault *f)
{
    char got_buf[256];
    f->kind = SCN_FAULT_PARTITION;
    memset(f->group_of, SCN_GROUP_UNLISTED, sizeof f->group_of);
    if (node_at(c, v)->kind != YN_SEQUENCE || node_at(c, v)->count == 0) {
        return fail(c, v, "expected a list of node groups such as [[0, 1], [2]], got %s", GOT(v));
    }
    uint32_t g = 0;
    for (uint32_t gn = node_at(c, v)->first; gn != NONE; gn = node_at(c, gn)->next, g++) {
        size_t saved = path_push_index(c, g);
        sim_status st = SIM_OK;
        if (node_at(c, gn)->kind != YN_SEQUENCE || node_at(c, gn)->count == 0) {
            st = fail(c, gn, "expected a non-empty list of node indices, got %s", GOT(gn));
        }
        uint32_t j = 0;
        for (uint32_t e = node_at(c, gn)->first; st == SIM_OK && e != NONE; e = node_at(c, e)->next, j++) {
            uint32_t node = 0;
            size_t inner = path_push_index(c, j);
            st = conv_node(c, e, &node);
            if (st == SIM_OK && f->group_of[node] != SCN_GROUP_UNLISTED) {
                st = fail(c, e, "node %u is already in group %u", (unsigned)node, (unsigned)f->group_of[node]);
            }
            if (st == SIM_OK) f->group_of[node] = (uint8_t)g;
            path_pop(c, inner);
        }
        path_pop(c, saved);
        if (st != SIM_OK) return st;   /* each group takes a node, so g < SCN_NODES_MAX here */
    }
    f->group_count = g;
    uint32_t group_of[SCN_NODES_MAX];
    if (scn_partition_group_of(f, c->cfg->cluster.nodes, group_of) < 2) {
        return fail(c, v, "a partition needs at least two groups (nodes not listed form one extra group)");
    }
    return SIM_OK;
}

static sim_status parse_heal(ctx *c, uint32_t v, scn_fault *f)
{
    char got_buf[256];
    static const char expected[] = "expected all, {from: A, to: B} or {node: N}";
    if (node_at(c, v)->kind == YN_SCALAR && scalar_is(c, v, "all")) {
        f->kind = SCN_FAULT_HEAL_ALL;
        return SIM_OK;
    }
    if (node_at(c, v)->kind != YN_MAPPING) return fail(c, v, "%s, got %s", expected, GOT(v));
    sim_status st = check_keys(c, v, heal_keys, ARRAY_LEN(heal_keys));
    if (st != SIM_OK) return st;
    if (map_get(c, v, "node") != NONE) {
        if (map_get(c, v, "from") != NONE || map_get(c, v, "to") != NONE) {
            return fail(c, v, "expected either node or from and to, not both");
        }
        f->kind = SCN_FAULT_HEAL_NODE;
        return parse_fields(c, v, node_fields, ARRAY_LEN(node_fields), f, NULL);
    }
    f->kind = SCN_FAULT_HEAL_LINK;
    st = parse_fields(c, v, from_to_fields, ARRAY_LEN(from_to_fields), f, NULL);
    if (st == SIM_OK && f->from == f->to) st = fail(c, v, "from and to are the same node (%u)", (unsigned)f->from);
    return st;
}

static sim_status parse_members(ctx *c, uint32_t v, scn_fault *f)
{
    f->kind = SCN_FAULT_MEMBERS;
    sim_status st = parse_section(c, v, members_fields, ARRAY_LEN(members_fields), f, NULL,
                                  "a mapping such as {on: [0, 1], add: [3]}");
    if (st != SIM_OK) return st;
    if (f->members_on == 0) {
        size_t saved = path_push(c, "on");
        st = fail(c, map_get(c, v, "on"), "expected at least one node");
        path_pop(c, saved);
        return st;
    }
    if ((f->members_add | f->members_remove) == 0) return fail(c, v, "expected add, remove or both to list a node");
    scn_node_set both = f->members_add & f->members_remove;
    if (both != 0) {
        unsigned node = 0;
        while (!(both & ((scn_node_set)1 << node))) node++;
        return fail(c, v, "node %u is in both add and remove", node);
    }
    return SIM_OK;
}

static sim_status parse_link_fault(ctx *c, uint32_t v, scn_fault *f)
{
    uint64_t given = 0;
    f->kind = SCN_FAULT_LINK;
    f->link = c->cfg->network.defaults;
    sim_status st = parse_section(c, v, link_fault_fields, ARRAY_LEN(link_fault_fields), f, &given,
                                  "a mapping such as {from: 0, to: 1, for: 30s, loss: 0.5}");
    if (st != SIM_OK) return st;
    f->link_fields = link_bits(link_fault_fields, ARRAY_LEN(link_fault_fields), given);
    if (f->from == f->to) return fail(c, v, "from and to are the same node (%u)", (unsigned)f->from);
    if (f->link_fields == 0) return fail(c, v, "expected at least one of latency, loss, duplicate, reorder, bandwidth");
    return SIM_OK;
}

/* The action of fault f, whose key node is k and value node v. */
static sim_status parse_action(ctx *c, uint32_t k, uint32_t v, scn_fault *f)
{
    if (scalar_is(c, k, "partition")) return parse_partition(c, v, f);
    if (scalar_is(c, k, "heal")) return parse_heal(c, v, f);
    if (scalar_is(c, k, "members")) return parse_members(c, v, f);
    if (scalar_is(c, k, "link")) return parse_link_fault(c, v, f);
    if (scalar_is(c, k, "isolate") || scalar_is(c, k, "crash") || scalar_is(c, k, "start")) {
        f->kind = scalar_is(c, k, "isolate") ? SCN_FAULT_ISOLATE
                  : scalar_is(c, k, "crash") ? SCN_FAULT_CRASH
                                             : SCN_FAULT_START;
        return conv_node(c, v, &f->node);
    }
    sim_status st = SIM_OK;
    if (scalar_is(c, k, "block")) {
        f->kind = SCN_FAULT_BLOCK;
        st = parse_section(c, v, from_to_fields, ARRAY_LEN(from_to_fields), f, NULL, "a mapping such as {from: 0, to: 1}");
        if (st == SIM_OK && f->from == f->to) st = fail(c, v, "from and to are the same node (%u)", (unsigned)f->from);
    } else if (scalar_is(c, k, "restart")) {
        f->kind = SCN_FAULT_RESTART;
        st = parse_section(c, v, restart_fields, ARRAY_LEN(restart_fields), f, NULL,
                           "a mapping such as {node: 1, after: 10s}");
    } else if (scalar_is(c, k, "pause")) {
        f->kind = SCN_FAULT_PAUSE;
        st = parse_section(c, v, pause_fields, ARRAY_LEN(pause_fields), f, NULL, "a mapping such as {node: 1, for: 20s}");
    } else {
        SIM_ASSERT(scalar_is(c, k, "clock"));
        f->kind = SCN_FAULT_CLOCK;
        st = parse_section(c, v, clock_fields, ARRAY_LEN(clock_fields), f, NULL,
                           "a mapping such as {node: 1, offset: 2s, drift_ppm: 100}");
    }
    return st;
}

/* `rolling: {action, nodes, every, down, wait_converged}`: f becomes the
 * template of the steps (kind, down as duration, every, steps) and
 * nodes[0, f->rolling_steps) the nodes in step order; parse_faults expands it. */
static sim_status parse_rolling(ctx *c, uint32_t v, scn_fault *f, uint32_t *nodes)
{
    char got_buf[256];
    sim_status st = expect_kind(c, v, YN_MAPPING, "a mapping such as {action: restart, every: 30s, down: 10s}");
    if (st == SIM_OK) st = check_keys(c, v, rolling_keys, ARRAY_LEN(rolling_keys));
    if (st != SIM_OK) return st;
    static const char *const required[] = { "action", "every", "down" };
    for (size_t i = 0; i < ARRAY_LEN(required); i++) {
        if (map_get(c, v, required[i]) == NONE) return fail(c, v, "missing key \"%s\"", required[i]);
    }
    uint32_t n = map_get(c, v, "action");
    size_t saved = path_push(c, "action");
    if (scalar_is(c, n, "restart")) f->kind = SCN_FAULT_RESTART;
    else if (scalar_is(c, n, "pause")) f->kind = SCN_FAULT_PAUSE;
    else st = fail(c, n, "expected restart or pause, got %s", GOT(n));
    path_pop(c, saved);
    if (st != SIM_OK) return st;
    saved = path_push(c, "every");
    st = conv_duration(c, map_get(c, v, "every"), 1, &f->rolling_every_ns);
    path_pop(c, saved);
    if (st != SIM_OK) return st;
    saved = path_push(c, "down");
    st = conv_duration(c, map_get(c, v, "down"), 1, &f->duration_ns);
    path_pop(c, saved);
    if (st != SIM_OK) return st;
    bool wait = false;
    n = map_get(c, v, "wait_converged");
    saved = path_push(c, "wait_converged");
    if (n != NONE) st = conv_bool(c, n, &wait);
    f->rolling_wait = wait;
    path_pop(c, saved);
    if (st != SIM_OK) return st;
    n = map_get(c, v, "nodes");
    if (n == NONE) {   /* default: every node, in index order */
        for (uint32_t i = 0; i < c->cfg->cluster.nodes; i++) nodes[i] = i;
        f->rolling_steps = c->cfg->cluster.nodes;
        return SIM_OK;
    }
    saved = path_push(c, "nodes");
    scn_node_set seen = 0;
    st = expect_kind(c, n, YN_SEQUENCE, "a non-empty list of node indices such as [0, 1, 2]");
    if (st == SIM_OK && node_at(c, n)->count == 0) st = fail(c, n, "expected a non-empty list of node indices such as [0, 1, 2]");
    uint32_t i = 0;
    for (uint32_t e = st == SIM_OK ? node_at(c, n)->first : NONE; e != NONE; e = node_at(c, e)->next, i++) {
        size_t inner = path_push_index(c, i);
        st = conv_node(c, e, &nodes[i]);
        if (st == SIM_OK && (seen >> nodes[i] & 1u)) st = fail(c, e, "node %u is listed twice", (unsigned)nodes[i]);
        path_pop(c, inner);
        if (st != SIM_OK) break;
        seen |= (scn_node_set)1 << nodes[i];
    }
    path_pop(c, saved);
    f->rolling_steps = i;
    return st;
}

static sim_status parse_fault(ctx *c, uint32_t item, scn_fault *f, uint32_t *rolling_nodes)
{
    sim_status st = expect_kind(c, item, YN_MAPPING, "a mapping such as {at: 30s, crash: 1}");
    if (st == SIM_OK) st = check_keys(c, item, fault_keys, ARRAY_LEN(fault_keys));
    if (st != SIM_OK) return st;
    memset(f, 0, sizeof *f);
    uint32_t action = NONE, action_value = NONE;
    for (uint32_t k = node_at(c, item)->first; k != NONE;) {
        uint32_t v = node_at(c, k)->next;
        if (!scalar_is(c, k, "at") && !scalar_is(c, k, "recover_within")) {
            if (action != NONE) {
                size_t l1 = 0, l2 = 0;
                const char *a1 = text_of(c, action, &l1), *a2 = text_of(c, k, &l2);
                return fail(c, k, "expected one action, got both %.*s and %.*s", (int)l1, a1, (int)l2, a2);
            }
            action = k;
            action_value = v;
        }
        k = node_at(c, v)->next;
    }
    uint32_t at = map_get(c, item, "at");
    if (at == NONE) return fail(c, item, "missing key \"at\"");
    if (action == NONE) {
        return fail(c, item, "expected one action (one of: partition, block, isolate, heal, crash, start, restart, "
                             "pause, link, clock, members, rolling), got none");
    }
    uint32_t bound = map_get(c, item, "recover_within");
    if (bound != NONE) {
        size_t at_bound = path_push(c, "recover_within");
        st = conv_bound(c, bound, &f->recover_within);
        path_pop(c, at_bound);
        if (st != SIM_OK) return st;
        f->recover_within_set = true;
    }
    size_t saved = path_push(c, "at");
    st = conv_duration(c, at, 0, &f->at_ns);
    sim_time_ns window_ns = scn_config_fault_window_ns(c->cfg);
    if (st == SIM_OK && f->at_ns >= window_ns) {
        char when[32], end[32];
        scn_format_duration(f->at_ns, when, sizeof when);
        scn_format_duration(window_ns, end, sizeof end);
        st = c->cfg->phases.enabled
                 ? fail(c, at, "%s is not within the chaos phase (%s); faults act only during chaos", when, end)
                 : fail(c, at, "%s is not before the end of the run (%s)", when, end);
    }
    path_pop(c, saved);
    if (st != SIM_OK) return st;
    size_t klen = 0;
    const char *ktext = text_of(c, action, &klen);
    char key[16];
    snprintf(key, sizeof key, "%.*s", (int)klen, ktext);   /* a known action key: short */
    saved = path_push(c, key);
    st = scalar_is(c, action, "rolling") ? parse_rolling(c, action_value, f, rolling_nodes)
                                         : parse_action(c, action, action_value, f);
    path_pop(c, saved);
    return st;
}

/* Appends fault f, or the steps of the rolling entry f over `nodes`. */
static sim_status add_fault(ctx *c, uint32_t item, const scn_fault *f, const uint32_t *nodes, size_t *cap)
{
    scn_config *cfg = c->cfg;
    uint32_t steps = f->rolling_steps == 0 ? 1u : f->rolling_steps;
    if (steps > SCN_FAULTS_MAX - cfg->fault_count) {
        return fail(c, item, "expected at most %u faults (a rolling entry counts one per step)", SCN_FAULTS_MAX);
    }
    if (!SIM_VEC_RESERVE(cfg->faults, cfg->fault_count, *cap, steps)) return fail_nomem(c);
    for (uint32_t k = 0; k < steps; k++) {
        scn_fault *step = &cfg->faults[cfg->fault_count++];
        *step = *f;
        if (f->rolling_steps == 0) continue;
        step->rolling_step = k;
        step->node = nodes[k];
        step->at_ns = f->at_ns + (sim_time_ns)k * f->rolling_every_ns;
    }
    return SIM_OK;
}

static sim_status parse_faults(ctx *c, uint32_t seq)
{
    size_t saved = path_push(c, "faults");
    sim_status st = expect_kind(c, seq, YN_SEQUENCE, "a list of faults such as [{at: 30s, crash: 1}]");
    uint32_t count = st == SIM_OK ? node_at(c, seq)->count : 0;
    if (st == SIM_OK && count > SCN_FAULTS_MAX) {
        st = fail(c, seq, "expected at most %u faults, got %u", SCN_FAULTS_MAX, (unsigned)count);
    }
    size_t cap = 0;
    uint32_t i = 0;
    for (uint32_t e = st == SIM_OK ? node_at(c, seq)->first : NONE; e != NONE; e = node_at(c, e)->next, i++) {
        size_t inner = path_push_index(c, i);
        scn_fault f;
        uint32_t nodes[SCN_NODES_MAX];
        st = parse_fault(c, e, &f, nodes);
        if (st == SIM_OK) st = add_fault(c, e, &f, nodes, &cap);
        path_pop(c, inner);
        if (st != SIM_OK) break;
    }
    path_pop(c, saved);
    return st;
}

/* --- Nemesis and expectations ------------------------------------------------ */

static sim_status parse_kinds(ctx *c, uint32_t seq, uint32_t *kinds)
{
    char got_buf[256];
    if (node_at(c, seq)->kind != YN_SEQUENCE || node_at(c, seq)->count == 0) {
        return fail(c, seq, "expected a non-empty list of fault kinds such as [crash, partition], got %s", GOT(seq));
    }
    uint32_t set = 0, i = 0;
    for (uint32_t e = node_at(c, seq)->first; e != NONE; e = node_at(c, e)->next, i++) {
        size_t which = ARRAY_LEN(nemesis_kind_names);
        for (size_t k = 0; k < ARRAY_LEN(nemesis_kind_names); k++) {
            if (scalar_is(c, e, nemesis_kind_names[k])) which = k;
        }
        size_t saved = path_push_index(c, i);
        sim_status st = SIM_OK;
        if (which == ARRAY_LEN(nemesis_kind_names)) {
            st = fail(c, e, "expected one of partition, isolate, crash, restart, pause, link, clock, got %s", GOT(e));
        } else if (set & (1u << nemesis_kind_values[which])) {
            st = fail(c, e, "kind %s is listed twice", nemesis_kind_names[which]);
        }
        path_pop(c, saved);
        if (st != SIM_OK) return st;
        set |= 1u << nemesis_kind_values[which];
    }
    *kinds = set;
    return SIM_OK;
}

static sim_status parse_range(ctx *c, uint32_t m, const char *key, const field *table, scn_range_ns *range)
{
    size_t saved = path_push(c, key);
    sim_status st = parse_section(c, m, table, 2, c->cfg, NULL, "a mapping such as {min: 10s, max: 30s}");
    if (st == SIM_OK && range->min_ns > range->max_ns) {
        char lo[32], hi[32];
        scn_format_duration(range->min_ns, lo, sizeof lo);
        scn_format_duration(range->max_ns, hi, sizeof hi);
        st = fail(c, m, "min %s is greater than max %s", lo, hi);
    }
    path_pop(c, saved);
    return st;
}

static sim_status parse_nemesis(ctx *c, uint32_t m)
{
    scn_nemesis *ne = &c->cfg->nemesis;
    size_t saved = path_push(c, "nemesis");
    sim_status st = parse_section(c, m, nemesis_fields, ARRAY_LEN(nemesis_fields), c->cfg, NULL,
                                  "a mapping such as {kinds: [crash], max_down: 1}");
    uint32_t kinds = st == SIM_OK ? map_get(c, m, "kinds") : NONE;
    if (kinds != NONE) {
        size_t inner = path_push(c, "kinds");
        st = parse_kinds(c, kinds, &ne->kinds);
        path_pop(c, inner);
    }
    uint32_t interval = st == SIM_OK ? map_get(c, m, "interval") : NONE;
    if (interval != NONE) st = parse_range(c, interval, "interval", nemesis_interval_fields, &ne->interval);
    uint32_t duration = st == SIM_OK ? map_get(c, m, "duration") : NONE;
    if (duration != NONE) st = parse_range(c, duration, "duration", nemesis_duration_fields, &ne->duration);
    path_pop(c, saved);
    ne->enabled = true;
    return st;
}

static sim_status parse_counter(ctx *c, uint32_t item, uint32_t index)
{
    scn_expect *ex = &c->cfg->expect;
    scn_counter_bound *b = &ex->counters[index];
    uint64_t given = 0;
    sim_status st = parse_section(c, item, counter_fields, ARRAY_LEN(counter_fields), b, &given,
                                  "a mapping such as {name: sync_retries, max: 10}");
    if (st != SIM_OK) return st;
    b->min_set = (given & 2u) != 0;
    b->max_set = (given & 4u) != 0;
    if (!b->min_set && !b->max_set) return fail(c, item, "expected min, max or both");
    if (b->min_set && b->max_set && b->min > b->max) {
        return fail(c, item, "min %" PRIu64 " is greater than max %" PRIu64, b->min, b->max);
    }
    for (uint32_t j = 0; j < index; j++) {
        if (strcmp(ex->counters[j].name, b->name) == 0) {
            size_t saved = path_push(c, "name");
            st = fail(c, map_get(c, item, "name"), "counter %s is already bounded by expect.counters[%u]", b->name,
                      (unsigned)j);
            path_pop(c, saved);
            return st;
        }
    }
    return SIM_OK;
}

static sim_status parse_expect(ctx *c, uint32_t m)
{
    scn_expect *ex = &c->cfg->expect;
    size_t saved = path_push(c, "expect");
    uint64_t given = 0;
    sim_status st = parse_section(c, m, expect_fields, ARRAY_LEN(expect_fields), c->cfg, &given,
                                  "a mapping such as {converge_within: 30s}");
    static const char *const kinds[2] = { "lost", "zombie" };
    static const int max_index[2] = { EXPECT_LOST_MAX, EXPECT_ZOMBIE_MAX };
    for (int k = 0; k < 2 && st == SIM_OK; k++) {
        uint32_t sub = map_get(c, m, kinds[k]);
        if (sub == NONE) continue;
        size_t inner = path_push(c, kinds[k]);
        uint64_t sub_given = 0;
        st = parse_section(c, sub, k == 0 ? lost_fields : zombie_fields, 3, c->cfg, &sub_given,
                           "a mapping such as {max: 10s, p99: 2s, count: 3}");
        if (st == SIM_OK && (sub_given & 1u) && (given & ((uint64_t)1 << max_index[k]))) {
            size_t at = path_push(c, "max");
            st = fail(c, map_get(c, sub, "max"), "expect.%s_max already bounds the longest %s window; write one of them",
                      kinds[k], kinds[k]);
            path_pop(c, at);
        }
        path_pop(c, inner);
    }
    uint32_t counters = st == SIM_OK ? map_get(c, m, "counters") : NONE;
    if (counters != NONE) {
        size_t inner = path_push(c, "counters");
        st = expect_kind(c, counters, YN_SEQUENCE, "a list such as [{name: verify_discarded, max: 0}]");
        uint32_t count = node_at(c, counters)->count;
        if (st == SIM_OK && count > SCN_COUNTERS_MAX) {
            st = fail(c, counters, "expected at most %u counters, got %u", SCN_COUNTERS_MAX, (unsigned)count);
        }
        if (st == SIM_OK && count > 0) {
            ex->counters = sim_calloc(count, sizeof *ex->counters);
            if (ex->counters == NULL) st = fail_nomem(c);
        }
        uint32_t i = 0;
        for (uint32_t e = st == SIM_OK ? node_at(c, counters)->first : NONE; e != NONE; e = node_at(c, e)->next, i++) {
            size_t item = path_push_index(c, i);
            st = parse_counter(c, e, i);
            path_pop(c, item);
            if (st != SIM_OK) break;
            ex->counter_count = i + 1u;
        }
        path_pop(c, inner);
    }
    path_pop(c, saved);
    return st;
}

/* --- Tags ------------------------------------------------------------------- */

static sim_status parse_tags(ctx *c, uint32_t seq)
{
    char got_buf[256];
    scn_config *cfg = c->cfg;
    size_t saved = path_push(c, "tags");
    sim_status st = SIM_OK;
    if (node_at(c, seq)->kind != YN_SEQUENCE) {
        st = fail(c, seq, "expected a list of tags such as [ci, partition], got %s", GOT(seq));
    } else if (node_at(c, seq)->count > SCN_TAGS_MAX) {
        st = fail(c, seq, "expected at most %u tags, got %u", SCN_TAGS_MAX, (unsigned)node_at(c, seq)->count);
    }
    uint32_t i = 0;
    for (uint32_t e = st == SIM_OK ? node_at(c, seq)->first : NONE; e != NONE; e = node_at(c, e)->next, i++) {
        size_t item = path_push_index(c, i);
        st = conv_word(c, e, SCN_TAG_BYTES_MAX, false, "_-", "expected a tag of 1 to 32 characters from [a-z0-9_-]",
                       cfg->tags[i]);
        for (uint32_t j = 0; st == SIM_OK && j < i; j++) {
            if (strcmp(cfg->tags[i], cfg->tags[j]) == 0) {
                st = fail(c, e, "tag %s is already tags[%u]", cfg->tags[i], (unsigned)j);
            }
        }
        path_pop(c, item);
        if (st != SIM_OK) break;
        cfg->tag_count = i + 1u;
    }
    path_pop(c, saved);
    return st;
}

/* --- The whole document ------------------------------------------------------ */

static sim_status parse_swarm(ctx *c, uint32_t m);


static sim_status parse_top(ctx *c)
{
    char got_buf[256];
    uint32_t root = c->tree.root;
    if (root == NONE || is_null(c, root)) {
        return fail_pos(c, 1, 1, "empty scenario: expected a mapping with at least `name`");
    }
    if (node_at(c, root)->kind != YN_MAPPING) {
        return fail_raw(c, root, "expected a mapping at the top level, got %s", GOT(root));
    }
    uint64_t given = 0;
    sim_status st = check_keys(c, root, top_fields, ARRAY_LEN(top_fields));
    if (st == SIM_OK) st = parse_fields(c, root, top_fields, ARRAY_LEN(top_fields), c->cfg, &given);
    if (st != SIM_OK) return st;
    uint32_t duration = (given & (1u << TOP_DURATION)) ? map_get(c, root, "duration") : NONE;
    uint32_t v = map_get(c, root, "tags");
    if (v != NONE && (st = parse_tags(c, v)) != SIM_OK) return st;
    v = map_get(c, root, "cluster");
    if (v != NONE) {
        size_t saved = path_push(c, "cluster");
        st = parse_cluster(c, v);
        path_pop(c, saved);
        if (st != SIM_OK) return st;
    }
    v = map_get(c, root, "phases");
    if (v != NONE && (st = parse_phases(c, v, duration)) != SIM_OK) return st;
    v = map_get(c, root, "network");
    if (v != NONE) {
        size_t saved = path_push(c, "network");
        st = parse_network(c, v);
        path_pop(c, saved);
        if (st != SIM_OK) return st;
    }
    v = map_get(c, root, "workload");
    if (v != NONE) {
        size_t saved = path_push(c, "workload");
        st = parse_workload(c, v);
        path_pop(c, saved);
        if (st != SIM_OK) return st;
    }
    v = map_get(c, root, "faults");
    if (v != NONE && (st = parse_faults(c, v)) != SIM_OK) return st;
    v = map_get(c, root, "nemesis");
    if (v != NONE && (st = parse_nemesis(c, v)) != SIM_OK) return st;
    v = map_get(c, root, "expect");
    if (v != NONE && (st = parse_expect(c, v)) != SIM_OK) return st;
    v = map_get(c, root, "engine");
    if (v != NONE) {
        size_t saved = path_push(c, "engine");
        st = parse_section(c, v, engine_fields, ARRAY_LEN(engine_fields), c->cfg, NULL,
                           "a mapping such as {events_budget: 1000000}");
        path_pop(c, saved);
        if (st != SIM_OK) return st;
    }
    /* Last: a swarm value is checked against everything above it. */
    v = map_get(c, root, "swarm");
    if (v != NONE && (st = parse_swarm(c, v)) != SIM_OK) return st;
    return SIM_OK;
}

static void ctx_init(ctx *c, const char *name, scn_config *cfg, sim_error *err)
{
    memset(c, 0, sizeof *c);
    c->name = name;
    c->cfg = cfg;
    c->err = err;
    c->tree.root = NONE;
}

/* The node a key path names ("faults[2].clock.offset"), or its deepest
 * ancestor the file has (a key left to its default names the section that
 * holds it, or the top mapping).  NONE without a document. */
static uint32_t node_of_path(const ctx *c, const char *path, size_t len)
{
    uint32_t n = c->tree.root;
    size_t i = 0;
    while (n != NONE && i < len) {
        uint32_t next = NONE;
        if (path[i] == '[') {
            char *end = NULL;
            unsigned long index = strtoul(path + i + 1, &end, 10);
            if (end == NULL || *end != ']' || node_at(c, n)->kind != YN_SEQUENCE) break;
            i = (size_t)(end - path) + 1;
            uint32_t e = node_at(c, n)->first;
            for (unsigned long k = 0; e != NONE && k < index; k++) e = node_at(c, e)->next;
            next = e;
        } else {
            if (path[i] == '.') i++;
            size_t start = i;
            while (i < len && path[i] != '.' && path[i] != '[') i++;
            char key[64];
            if (i - start >= sizeof key || node_at(c, n)->kind != YN_MAPPING) break;
            memcpy(key, path + start, i - start);
            key[i - start] = '\0';
            next = map_get(c, n, key);
        }
        if (next == NONE) break;
        n = next;
    }
    return n;
}

/* Gives a failure of scn_config_validate the file position of the key its
 * message starts with ("cluster.distro.task_tick: ..."), so the checks
 * made only there (the run limits of scn_limits.h) point into the file as
 * the loader's own do. */
static void locate_error(ctx *c)
{
    if (c->err == NULL || c->name == NULL) return;
    const char *msg = c->err->message;
    size_t len = strspn(msg, "abcdefghijklmnopqrstuvwxyz0123456789_.[]");
    if (len == 0 || msg[len] != ':') return;
    uint32_t n = node_of_path(c, msg, len);
    const ynode *y = n == NONE ? NULL : node_at(c, n);
    uint32_t line = y != NULL && y->line > 0 ? y->line : 1, column = y != NULL && y->line > 0 ? y->column : 1;
    snprintf(c->err->where, sizeof c->err->where, "%s:%u:%u", c->name, (unsigned)line, (unsigned)column);
}

static sim_status load_text(ctx *c, const char *text, size_t len)
{
    if (len > SCN_FILE_BYTES_MAX) {
        return fail_pos(c, 1, 1, "scenario is larger than the 1 MiB limit (%u bytes)", SCN_FILE_BYTES_MAX);
    }
    sim_status st = check_encoding(c, text, len);
    if (st != SIM_OK) return st;
    if (len > 0) {
        st = tree_build(c, text, len);
        if (st != SIM_OK) return st;
    }
    st = parse_top(c);
    if (st != SIM_OK) return st;
    derive_beat_interval(c->cfg);
    /* Most checks below were made above with a position; this is the net
     * that keeps the loader and scn_config_validate in agreement, and the
     * only place of the run limits (scn_limits.h), which need the whole
     * scenario. */
    st = scn_config_validate(c->cfg, c->name, c->err);
    if (st == SIM_ERR_SCENARIO) locate_error(c);
    /* A swarm block must give its own seed a configuration: one that never
     * can is a mistake in the file, reported here rather than as an ERROR
     * of every run. */
    if (st == SIM_OK && c->cfg->swarm_count > 0) {
        scn_config drawn;
        sim_error derr;
        st = scn_swarm_draw(c->cfg, c->cfg->seed, &drawn, NULL, &derr);
        scn_config_deinit(&drawn);
        if (st == SIM_ERR_SCENARIO) {
            st = fail_raw(c, map_get(c, c->tree.root, "swarm"), "swarm: %s", derr.message);
        } else if (st != SIM_OK && c->err != NULL) {
            *c->err = derr;
        }
    }
    return st;
}

sim_status scn_load_string(const char *name, const char *text, size_t len, scn_config *out, sim_error *err)
{
    SIM_ASSERT(name != NULL);
    SIM_ASSERT(out != NULL);
    SIM_ASSERT(text != NULL || len == 0);
    ctx c;
    ctx_init(&c, name, out, err);
    scn_config_defaults(out);
    sim_status st = load_text(&c, text != NULL ? text : "", len);
    tree_free(&c.tree);
    if (st != SIM_OK) scn_config_deinit(out);
    return st;
}

sim_status scn_load_file(const char *path, scn_config *out, sim_error *err)
{
    SIM_ASSERT(path != NULL);
    SIM_ASSERT(out != NULL);
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (f == NULL) return sim_error_set(err, SIM_ERR_IO, path, "cannot open: %s", strerror(errno));
    /* One read of up to limit + 1 bytes tells "too large" without stat,
     * which pipes and /dev/stdin do not answer. */
    size_t cap = (size_t)SCN_FILE_BYTES_MAX + 1u, len = 0;
    char *buf = sim_malloc(cap);
    sim_status st = SIM_OK;
    if (buf == NULL) {
        st = sim_error_set(err, SIM_ERR_NOMEM, path, "cannot allocate %zu bytes", cap);
        goto out_close;
    }
    while (len < cap) {   /* bounded: each pass reads at least one byte or stops */
        size_t got = fread(buf + len, 1, cap - len, f);
        if (got == 0) break;
        len += got;
    }
    if (ferror(f)) {
        st = sim_error_set(err, SIM_ERR_IO, path, "cannot read: %s", strerror(errno));
        goto out_free;
    }
    st = scn_load_string(path, buf, len, out, err);
out_free:
    free(buf);
out_close:
    fclose(f);
    return st;
}

/* --- scn_config_set ---------------------------------------------------------- */

typedef struct section {
    const char *path;
    const field *fields;
    size_t count;
} section;

static const section set_sections[] = {
    { "", top_fields, ARRAY_LEN(top_fields) },
    { "cluster", cluster_fields, ARRAY_LEN(cluster_fields) },
    { "network", network_fields, ARRAY_LEN(network_fields) },
    { "network.tcp", tcp_fields, ARRAY_LEN(tcp_fields) },
    { "workload", workload_fields, ARRAY_LEN(workload_fields) },
    { "workload.churn", churn_fields, ARRAY_LEN(churn_fields) },
    { "workload.reads", reads_fields, ARRAY_LEN(reads_fields) },
    { "nemesis", nemesis_fields, ARRAY_LEN(nemesis_fields) },
    { "nemesis.interval", nemesis_interval_fields, ARRAY_LEN(nemesis_interval_fields) },
    { "nemesis.duration", nemesis_duration_fields, ARRAY_LEN(nemesis_duration_fields) },
    { "phases", phases_fields, ARRAY_LEN(phases_fields) },
    { "expect", expect_fields, ARRAY_LEN(expect_fields) },
    { "expect.lost", lost_fields, ARRAY_LEN(lost_fields) },
    { "expect.zombie", zombie_fields, ARRAY_LEN(zombie_fields) },
    { "engine", engine_fields, ARRAY_LEN(engine_fields) },
};

static void link_inherit(sim_link_params *p, uint32_t fields, const sim_link_params *d)
{
    if (!(fields & SCN_LINK_LATENCY)) p->latency = d->latency;
    if (!(fields & SCN_LINK_LOSS)) p->loss_ppm = d->loss_ppm;
    if (!(fields & SCN_LINK_DUPLICATE)) p->duplicate_ppm = d->duplicate_ppm;
    if (!(fields & SCN_LINK_REORDER)) p->reorder = d->reorder;
    if (!(fields & SCN_LINK_BANDWIDTH)) p->bandwidth_bytes_per_s = d->bandwidth_bytes_per_s;
}

/* Keeps the side invariants after one key of `cfg` changed (see scn_load.h);
 * `old` is the config before the change. */
static sim_status set_follow(ctx *c, const scn_config *old, const char *sec, const char *leaf)
{
    scn_config *cfg = c->cfg;
    if (strcmp(sec, "network") == 0) {
        for (uint32_t i = 0; i < cfg->network.link_count; i++) {
            link_inherit(&cfg->network.links[i].params, cfg->network.links[i].fields, &cfg->network.defaults);
        }
        for (uint32_t i = 0; i < cfg->fault_count; i++) {
            if (cfg->faults[i].kind != SCN_FAULT_LINK) continue;
            link_inherit(&cfg->faults[i].link, cfg->faults[i].link_fields, &cfg->network.defaults);
        }
    }
    if (strcmp(sec, "cluster") == 0 && strcmp(leaf, "nodes") == 0) {
        for (uint32_t i = 0; i < old->cluster.nodes; i++) {
            char def[SCN_ADDRESS_BYTES];
            scn_default_address(i, def);
            if (strcmp(def, old->cluster.addresses[i]) != 0) {
                return fail(c, 0, "cannot change the node count of a scenario that lists cluster.addresses");
            }
        }
        for (uint32_t i = 0; i < SCN_NODES_MAX; i++) {
            memset(cfg->cluster.addresses[i], 0, SCN_ADDRESS_BYTES);
            if (i < cfg->cluster.nodes) scn_default_address(i, cfg->cluster.addresses[i]);
        }
        if (old->nemesis.max_down == (old->cluster.nodes - 1u) / 2u) {
            cfg->nemesis.max_down = (cfg->cluster.nodes - 1u) / 2u;
        }
    }
    if (strncmp(sec, "phases", 6) == 0) {
        cfg->phases.enabled = true;
        cfg->duration_ns = cfg->phases.chaos_ns + cfg->phases.quiet_ns;
    }
    if (sec[0] == '\0' && strcmp(leaf, "duration") == 0 && cfg->phases.enabled) {
        return fail(c, 0, "the scenario has phases; set phases.chaos or phases.quiet instead");
    }
    if (strncmp(sec, "nemesis", 7) == 0) cfg->nemesis.enabled = true;
    derive_beat_interval(cfg);
    return SIM_OK;
}

/* What a dotted key sets: a field of a section table, a cluster.distro
 * (or cluster.distro.http) field, or nemesis.kinds (a list, read by
 * parse_kinds); or a key that exists but is refused with `refusal`. */
typedef struct set_target {
    const field *f;                  /* a section's field, or NULL */
    const scn_distro_field *d;       /* a cluster.distro field, or NULL */
    bool kinds;                      /* nemesis.kinds */
    bool bugs;                       /* cluster.bugs */
    const char *refusal;             /* set: the key cannot be set, for this reason */
} set_target;

/* Finds the setting sec.leaf; false when there is none. */
static bool set_resolve(const char *sec, const char *leaf, set_target *t)
{
    memset(t, 0, sizeof *t);
    if (strcmp(sec, "cluster.distro") == 0 && strcmp(leaf, "client_beat_interval") == 0) {
        t->refusal = ONE_BEAT_INTERVAL;
        return true;
    }
    if (strncmp(sec, "cluster.distro", 14) == 0 && (sec[14] == '\0' || sec[14] == '.')) {
        size_t count = 0;
        const scn_distro_field *fields = scn_distro_fields(&count);
        char name[160];
        /* cluster.distro.<map>.<key> names the table's "<map>.<key>". */
        snprintf(name, sizeof name, "%s%s%s", sec[14] == '.' ? sec + 15 : "", sec[14] == '.' ? "." : "", leaf);
        for (size_t i = 0; i < count; i++) {
            if (strcmp(fields[i].key, name) == 0) {
                t->d = &fields[i];
                return true;
            }
        }
        return false;
    }
    if (strcmp(sec, "nemesis") == 0 && strcmp(leaf, "kinds") == 0) {
        t->kinds = true;
        return true;
    }
    if (strcmp(sec, "cluster") == 0 && strcmp(leaf, "bugs") == 0) {
        t->bugs = true;
        return true;
    }
    for (size_t s = 0; s < ARRAY_LEN(set_sections); s++) {
        if (strcmp(set_sections[s].path, sec) != 0) continue;
        for (size_t i = 0; i < set_sections[s].count; i++) {
            if (strcmp(set_sections[s].fields[i].key, leaf) == 0) {
                t->f = &set_sections[s].fields[i];
                return true;
            }
        }
    }
    return false;
}

/* True when the setting takes a YAML collection (a latency mapping, a
 * list of kinds) rather than a scalar. */
static bool set_takes_collection(const set_target *t)
{
    return t->kinds || t->bugs || (t->f != NULL && t->f->type == F_LATENCY);
}

/* Converts node n for the resolved setting into c->cfg. */
static sim_status set_convert_node(ctx *c, const set_target *t, const char *key, uint32_t n)
{
    if (t->refusal != NULL) return fail(c, n, "%s", t->refusal);
    if (t->d != NULL) {
        char *p = (char *)&c->cfg->cluster.distro + t->d->offset;
        uint64_t u = 0;
        sim_status st = SIM_OK;
        switch (t->d->type) {
        case SCN_DISTRO_DURATION: return conv_duration(c, n, t->d->min, (sim_time_ns *)(void *)p);
        case SCN_DISTRO_BOOL: return conv_bool(c, n, (bool *)(void *)p);
        case SCN_DISTRO_U32:
            st = conv_uint(c, n, t->d->min, t->d->max, &u);
            if (st == SIM_OK) *(uint32_t *)(void *)p = (uint32_t)u;
            return st;
        }
        return SIM_ERR_INVALID;
    }
    if (t->kinds) return parse_kinds(c, n, &c->cfg->nemesis.kinds);
    if (t->bugs) return parse_bugs(c, n, &c->cfg->cluster.distro.v2.bugs);
    const field *f = t->f;
    if (f->type == F_NESTED) return fail_raw(c, n, "\"%s\" is a section or a list, not a scalar setting", key);
    bool text = f->type == F_NAME || f->type == F_TEXT || f->type == F_IDENT || f->type == F_VERSION;
    if (text && node_at(c, n)->kind == YN_SCALAR) c->tree.nodes[n].quoted = true;   /* a string setting is never YAML null */
    return conv_field(c, n, f, c->cfg);
}

/* The number a RANGE of this setting counts, read from `cfg`: false when
 * the setting is not an integer, duration or ratio. */
static bool set_number(const scn_config *cfg, const set_target *t, scn_swarm_type *type, uint64_t *value)
{
    if (t->d != NULL) {
        const char *p = (const char *)&cfg->cluster.distro + t->d->offset;
        if (t->d->type == SCN_DISTRO_DURATION) {
            *type = SCN_SWARM_DURATION;
            *value = *(const sim_time_ns *)(const void *)p;
            return true;
        }
        if (t->d->type == SCN_DISTRO_U32) {
            *type = SCN_SWARM_INTEGER;
            *value = *(const uint32_t *)(const void *)p;
            return true;
        }
        return false;
    }
    if (t->f == NULL) return false;
    const char *p = (const char *)cfg + t->f->offset;
    ftype ft = t->f->type;
    if (ft == F_U32 || ft == F_NODE_COUNT || ft == F_RATIO) {
        *type = ft == F_RATIO ? SCN_SWARM_RATIO : SCN_SWARM_INTEGER;
        *value = *(const uint32_t *)(const void *)p;
        return true;
    }
    if (ft == F_U64 || ft == F_DURATION) {
        *type = ft == F_DURATION ? SCN_SWARM_DURATION : SCN_SWARM_INTEGER;
        *value = *(const uint64_t *)(const void *)p;
        return true;
    }
    return false;   /* texts, flags, bounds, sizes: choices only */
}

static sim_status set_unknown_key(ctx *c, const char *key, uint32_t n)
{
    char esc[200];
    escape_text(key, strlen(key), esc, sizeof esc);
    return fail_raw(c, n, "unknown key \"%s\" (expected a scalar key such as cluster.distro.verify_interval, "
                          "network.loss or workload.services)", esc);
}

/* One setting from text: `yaml` reads `value` as a YAML document (a flow
 * mapping or list, or a scalar with its quoting), otherwise as one plain
 * scalar's text.  `validate`: revalidate the whole config afterwards. */
static sim_status set_text(scn_config *config, const char *dotted_key, const char *value, bool yaml, bool validate,
                           sim_error *err)
{
    SIM_ASSERT(config != NULL);
    SIM_ASSERT(dotted_key != NULL);
    SIM_ASSERT(value != NULL);
    char sec[128], leaf[128];
    const char *dot = strrchr(dotted_key, '.');
    size_t sec_len = dot != NULL ? (size_t)(dot - dotted_key) : 0;
    const char *leaf_src = dot != NULL ? dot + 1 : dotted_key;
    if (sec_len >= sizeof sec || strlen(leaf_src) >= sizeof leaf || strlen(value) > SCN_TEXT_BYTES_MAX) {
        return sim_error_set(err, SIM_ERR_SCENARIO, SCN_SET_WHERE, "setting %.40s... is too long", dotted_key);
    }
    memcpy(sec, dotted_key, sec_len);
    sec[sec_len] = '\0';
    snprintf(leaf, sizeof leaf, "%s", leaf_src);

    scn_config work;
    sim_status st = scn_config_copy(&work, config, err);
    if (st != SIM_OK) return st;
    ctx c;
    ctx_init(&c, NULL, &work, err);
    set_target t;
    bool known = set_resolve(sec, leaf, &t);
    yaml = yaml || (known && set_takes_collection(&t));
    ynode value_node = { .kind = YN_SCALAR, .quoted = false, .line = 0, .column = 0, .text_off = 0,
                         .text_len = (uint32_t)strlen(value), .first = NONE, .last = NONE, .next = NONE, .count = 0 };
    path_push(&c, dotted_key);
    size_t off = 0;
    uint32_t cp = 0;
    if (!known) {
        c.tree.nodes = &value_node;   /* for the message's position only */
        c.tree.node_count = 1;
        c.tree.text = value;
        st = set_unknown_key(&c, dotted_key, 0);
    } else if (yaml) {
        st = value[0] == '\0' ? fail_pos(&c, 0, 0, "%s: expected a value", dotted_key) : tree_build(&c, value, strlen(value));
        if (st == SIM_OK && c.tree.root == NONE) st = fail_pos(&c, 0, 0, "%s: expected a value", dotted_key);
        if (st == SIM_OK) st = set_convert_node(&c, &t, dotted_key, c.tree.root);
    } else {
        c.tree.nodes = &value_node;   /* borrowed: not freed (text_buf stays NULL) */
        c.tree.node_count = 1;
        c.tree.text = value;
        c.tree.root = 0;
        if (text_scan((const unsigned char *)value, strlen(value), true, false, &off, &cp) != TEXT_OK) {
            st = fail(&c, 0, "expected UTF-8 text without control characters");
        }
        if (st == SIM_OK) st = set_convert_node(&c, &t, dotted_key, 0);
    }
    if (st == SIM_OK) st = set_follow(&c, config, sec, leaf);
    if (st == SIM_OK && validate) st = scn_config_validate(&work, SCN_SET_WHERE, err);
    if (c.tree.nodes == &value_node) {   /* borrowed: nothing to free */
        c.tree.nodes = NULL;
        c.tree.node_count = 0;
        c.tree.text = NULL;
    }
    tree_free(&c.tree);
    if (st != SIM_OK) {
        scn_config_deinit(&work);
        return st;
    }
    scn_config_deinit(config);
    *config = work;
    return SIM_OK;
}

sim_status scn_config_set(scn_config *config, const char *dotted_key, const char *value, sim_error *err)
{
    sim_status st = set_text(config, dotted_key, value, false, true, err);
    if (st == SIM_OK) scn_swarm_remove(config, dotted_key);   /* a value on the command line pins a swarm key */
    return st;
}

sim_status scn_config_apply(scn_config *config, const char *dotted_key, const char *yaml_value, sim_error *err)
{
    return set_text(config, dotted_key, yaml_value, true, false, err);
}

/* --- swarm ---------------------------------------------------------------------- */

/* Writes node n as YAML flow text into buf: scalars as written (a quoted
 * one double-quoted again), mappings in braces, lists in brackets.  No
 * recursion (invariant 1): a stack of at most SCN_YAML_DEPTH_MAX frames.
 * False when the text does not fit `size`. */
static bool emit_flow(const ctx *c, uint32_t n, char *buf, size_t size)
{
    struct frame { uint32_t node; uint32_t child; uint32_t index; } stack[SCN_YAML_DEPTH_MAX + 1];
    size_t depth = 0, len = 0;
    bool ok = true;
#define EMIT(...)                                                                            \
    do {                                                                                     \
        int emit_n_ = snprintf(buf + len, len < size ? size - len : 0, __VA_ARGS__);         \
        if (emit_n_ < 0 || len + (size_t)emit_n_ >= size) ok = false;                        \
        else len += (size_t)emit_n_;                                                         \
    } while (0)
    uint32_t next = n;
    for (;;) {
        if (next != NONE && ok) {
            const ynode *y = node_at(c, next);
            if (y->kind == YN_SCALAR) {
                size_t tl = 0;
                const char *tx = text_of(c, next, &tl);
                /* A plain scalar stays plain unless flow context would
                 * read it otherwise ("a, b" inside [...] is two items). */
                bool quote = y->quoted || tl == 0 || tx[0] == ' ' || tx[tl - 1] == ' ' || tx[0] == '-' ||
                             tx[0] == '?';
                for (size_t i = 0; i < tl && !quote; i++) {
                    quote = strchr(",[]{}#:\"'\\|>&*!%@`", tx[i]) != NULL || (unsigned char)tx[i] < 0x20;
                }
                if (!quote) {
                    EMIT("%.*s", (int)tl, tx);
                } else {
                    EMIT("\"");
                    for (size_t i = 0; i < tl && ok; i++) {
                        unsigned char ch = (unsigned char)tx[i];
                        if (ch == '"' || ch == '\\') EMIT("\\%c", ch);
                        else if (ch == '\n') EMIT("\\n");
                        else if (ch == '\t') EMIT("\\t");
                        else if (ch < 0x20 || ch == 0x7f) EMIT("\\x%02x", ch);
                        else EMIT("%c", ch);
                    }
                    EMIT("\"");
                }
            } else {
                SIM_ASSERT(depth <= SCN_YAML_DEPTH_MAX);
                EMIT(y->kind == YN_MAPPING ? "{" : "[");
                stack[depth++] = (struct frame){ .node = next, .child = y->first, .index = 0 };
            }
            next = NONE;
        }
        if (depth == 0 || !ok) break;
        struct frame *f = &stack[depth - 1];
        bool mapping = node_at(c, f->node)->kind == YN_MAPPING;
        if (f->child == NONE) {
            EMIT(mapping ? "}" : "]");
            depth--;
            continue;
        }
        if (f->index++ > 0) EMIT(", ");
        if (mapping) {
            size_t kl = 0;
            const char *kt = text_of(c, f->child, &kl);
            EMIT("%.*s: ", (int)kl, kt);
            next = node_at(c, f->child)->next;
            f->child = node_at(c, next)->next;
        } else {
            next = f->child;
            f->child = node_at(c, next)->next;
        }
    }
#undef EMIT
    return ok;
}

/* Converts node n for `t` on a scratch copy of the config (a value that
 * would not load is refused at its own position), and reads back its
 * number when `number` is not NULL. */
static sim_status swarm_try(ctx *c, const set_target *t, const char *key, uint32_t n, scn_swarm_type *type,
                            uint64_t *number)
{
    scn_config scratch;
    sim_status st = scn_config_copy(&scratch, c->cfg, c->err);
    if (st != SIM_OK) return st;
    scn_config *saved = c->cfg;
    c->cfg = &scratch;
    st = set_convert_node(c, t, key, n);
    c->cfg = saved;
    if (st == SIM_OK && number != NULL && !set_number(&scratch, t, type, number)) st = SIM_ERR_INVALID;
    scn_config_deinit(&scratch);
    return st;
}

/* Appends the flow text of node n to e->texts. */
static sim_status swarm_add_text(ctx *c, scn_swarm_entry *e, uint32_t n)
{
    char text[SCN_SWARM_VALUE_BYTES_MAX + 1];
    if (!emit_flow(c, n, text, sizeof text)) {
        return fail(c, n, "a value's text is longer than %u bytes", SCN_SWARM_VALUE_BYTES_MAX);
    }
    size_t len = strlen(text) + 1;
    char *grown = realloc(e->texts, e->texts_len + len);
    if (grown == NULL) return fail_nomem(c);
    e->texts = grown;
    memcpy(e->texts + e->texts_len, text, len);
    e->texts_len += len;
    e->value_count++;
    return SIM_OK;
}

static const char *const swarm_spec_keys[] = { "min", "max", "subset" };

/* {min: A, max: B} or {subset: [...]} at mapping m. */
static sim_status parse_swarm_mapping(ctx *c, uint32_t m, const set_target *t, const char *key, scn_swarm_entry *e)
{
    sim_status st = check_keys(c, m, swarm_spec_keys, ARRAY_LEN(swarm_spec_keys));
    if (st != SIM_OK) return st;
    uint32_t lo = map_get(c, m, "min"), hi = map_get(c, m, "max"), sub = map_get(c, m, "subset");
    if (sub != NONE) {
        if (lo != NONE || hi != NONE) return fail(c, m, "expected either {min, max} or {subset}, not both");
        if (!t->kinds) return fail(c, m, "subset is for nemesis.kinds; give {min: A, max: B} or a list of choices");
        char got_buf[256];
        if (node_at(c, sub)->kind != YN_SEQUENCE || node_at(c, sub)->count == 0) {
            return fail(c, sub, "expected a non-empty list of fault kinds such as [crash, partition], got %s",
                        GOT(sub));
        }
        size_t saved = path_push(c, "subset");
        st = swarm_try(c, t, key, sub, NULL, NULL);
        for (uint32_t k = node_at(c, sub)->first; st == SIM_OK && k != NONE; k = node_at(c, k)->next) {
            st = swarm_add_text(c, e, k);
        }
        path_pop(c, saved);
        e->kind = SCN_SWARM_SUBSET;
        return st;
    }
    if (lo == NONE || hi == NONE) return fail(c, m, "missing key \"%s\"", lo == NONE ? "min" : "max");
    scn_swarm_type type_lo = SCN_SWARM_INTEGER, type_hi = SCN_SWARM_INTEGER;
    scn_config probe;
    if (scn_config_copy(&probe, c->cfg, c->err) != SIM_OK) return SIM_ERR_NOMEM;
    uint64_t dummy = 0;
    bool numeric = set_number(&probe, t, &type_lo, &dummy);
    scn_config_deinit(&probe);
    if (!numeric) {
        return fail(c, m, "a range needs an integer, duration or ratio key; give a list of choices instead");
    }
    size_t saved = path_push(c, "min");
    st = swarm_try(c, t, key, lo, &type_lo, &e->min);
    path_pop(c, saved);
    if (st != SIM_OK) return st;
    saved = path_push(c, "max");
    st = swarm_try(c, t, key, hi, &type_hi, &e->max);
    path_pop(c, saved);
    if (st != SIM_OK) return st;
    e->kind = SCN_SWARM_RANGE;
    e->type = type_lo;
    if (e->min > e->max) {
        char a[48], b[48];
        scn_swarm_format(e->type, e->min, a, sizeof a);
        scn_swarm_format(e->type, e->max, b, sizeof b);
        return fail(c, m, "min %s is greater than max %s", a, b);
    }
    return SIM_OK;
}

/* One `key: spec` pair of the swarm block into e. */
static sim_status parse_swarm_entry(ctx *c, uint32_t k, uint32_t v, scn_swarm_entry *e)
{
    char got_buf[256];
    size_t klen = 0;
    /* The kind first: a complex key (`? {a: b}`) has no text to read. */
    const char *ktext = node_at(c, k)->kind == YN_SCALAR ? text_of(c, k, &klen) : NULL;
    if (ktext == NULL || klen == 0 || klen > SCN_SWARM_KEY_BYTES_MAX) {
        return fail(c, k, "expected a dotted scenario key such as cluster.nodes, got %s", GOT(k));
    }
    memcpy(e->key, ktext, klen);
    e->key[klen] = '\0';
    char sec[SCN_SWARM_KEY_BYTES_MAX + 1], leaf[SCN_SWARM_KEY_BYTES_MAX + 1];
    const char *dot = strrchr(e->key, '.');
    size_t sec_len = dot != NULL ? (size_t)(dot - e->key) : 0;
    memcpy(sec, e->key, sec_len);
    sec[sec_len] = '\0';
    snprintf(leaf, sizeof leaf, "%s", dot != NULL ? dot + 1 : e->key);
    set_target t;
    if (!set_resolve(sec, leaf, &t)) {
        char esc[200];
        escape_text(ktext, klen, esc, sizeof esc);
        return fail(c, k, "unknown key \"%s\" (expected a key `--set` takes, such as cluster.nodes, network.loss, "
                          "cluster.distro.verify_interval, network.latency or nemesis.kinds)", esc);
    }
    if (t.f != NULL && t.f->type == F_NESTED) {
        return fail(c, k, "\"%s\" is a section or a list; name one of its keys", e->key);
    }
    if (strcmp(e->key, "name") == 0 || strcmp(e->key, "seed") == 0) {
        return fail(c, k, "\"%s\" cannot be drawn: a swarm draws a configuration of one named scenario per seed",
                    e->key);
    }
    size_t saved = path_push(c, e->key);
    sim_status st = SIM_OK;
    const ynode *y = node_at(c, v);
    if (y->kind == YN_MAPPING && !set_takes_collection(&t)) {
        st = parse_swarm_mapping(c, v, &t, e->key, e);
    } else if (y->kind == YN_MAPPING && t.kinds) {
        st = parse_swarm_mapping(c, v, &t, e->key, e);
    } else if (y->kind == YN_SEQUENCE && y->count > 0 && y->count <= SCN_SWARM_CHOICES_MAX) {
        e->kind = SCN_SWARM_CHOICE;
        uint32_t i = 0;
        for (uint32_t n = y->first; st == SIM_OK && n != NONE; n = node_at(c, n)->next, i++) {
            size_t inner = path_push_index(c, i);
            st = swarm_try(c, &t, e->key, n, NULL, NULL);
            if (st == SIM_OK) st = swarm_add_text(c, e, n);
            path_pop(c, inner);
        }
    } else {
        st = fail(c, v,
                  "expected {min: A, max: B}, a list of 1 to %u choices%s, got %s", SCN_SWARM_CHOICES_MAX,
                  t.kinds ? " (each a list of kinds) or {subset: [KIND, ...]}" : "", GOT(v));
    }
    path_pop(c, saved);
    return st;
}

static sim_status parse_swarm(ctx *c, uint32_t m)
{
    size_t saved = path_push(c, "swarm");
    sim_status st = expect_kind(c, m, YN_MAPPING, "a mapping of scenario keys to {min: A, max: B} or lists of choices");
    uint32_t pairs = st == SIM_OK ? node_at(c, m)->count / 2 : 0;
    if (st == SIM_OK && pairs > SCN_SWARM_ENTRIES_MAX) {
        st = fail(c, m, "more than %u keys", SCN_SWARM_ENTRIES_MAX);
    }
    if (st == SIM_OK && pairs > 0) {
        c->cfg->swarm = sim_calloc(pairs, sizeof *c->cfg->swarm);
        if (c->cfg->swarm == NULL) st = fail_nomem(c);
    }
    for (uint32_t k = st == SIM_OK ? node_at(c, m)->first : NONE; st == SIM_OK && k != NONE;) {
        uint32_t v = node_at(c, k)->next;
        scn_swarm_entry *e = &c->cfg->swarm[c->cfg->swarm_count];
        st = parse_swarm_entry(c, k, v, e);
        for (uint32_t i = 0; st == SIM_OK && i < c->cfg->swarm_count; i++) {
            if (strcmp(c->cfg->swarm[i].key, e->key) == 0) st = fail_raw(c, k, "duplicate key \"%s\" in swarm", e->key);
        }
        c->cfg->swarm_count++;   /* counted even on failure: its texts are freed with the config */
        k = node_at(c, v)->next;
    }
    path_pop(c, saved);
    return st;
}
