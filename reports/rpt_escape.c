/* rpt_escape.c: the escaping functions of rpt_escape.h, one per format.
 *
 * Each walks its input once and hands the sink the runs of bytes that stay
 * as they are, with a replacement between them (flush-then-replace). */
#include "rpt_escape.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* ========================================================================
 * Sinks
 * ======================================================================== */

void rpt_esc_to_file(void *sink, const char *s, size_t n)
{
    if (n > 0) (void)fwrite(s, 1, n, (FILE *)sink);   /* errors stay in the stream (ferror) */
}

void rpt_esc_to_mem(void *sink, const char *s, size_t n)
{
    rpt_esc_mem *m = sink;
    if (m->len < m->size) {
        size_t room = m->size - 1 - m->len;          /* keep one byte for the NUL */
        size_t k = n < room ? n : room;
        memcpy(m->buf + m->len, s, k);
        m->buf[m->len + k] = '\0';
    }
    m->len = n > SIZE_MAX - m->len ? SIZE_MAX : m->len + n;
}

static void put_str(rpt_esc_put_fn *put, void *sink, const char *s)
{
    put(sink, s, strlen(s));
}

/* Writes s[*run .. p) and moves the run start past p. */
static void flush(rpt_esc_put_fn *put, void *sink, const char **run, const char *p, size_t skip)
{
    if (p > *run) put(sink, *run, (size_t)(p - *run));
    *run = p + skip;
}

/* ========================================================================
 * CSV
 * ======================================================================== */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Skips digits from *p; returns how many. */
static size_t digits(const char **p)
{
    size_t n = 0;
    while (is_digit(**p)) {                          /* bound: strlen */
        (*p)++;
        n++;
    }
    return n;
}

bool rpt_esc_csv_is_number(const char *field)
{
    if (field == NULL) return false;
    const char *p = field;
    if (*p == '+' || *p == '-') p++;
    size_t whole = digits(&p), frac = 0;
    if (*p == '.') {
        p++;
        frac = digits(&p);
    }
    if (whole + frac == 0) return false;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (digits(&p) == 0) return false;
    }
    return *p == '\0';
}

/* A spreadsheet evaluates a cell that starts with one of these. */
static bool csv_formula_lead(char c)
{
    return c == '=' || c == '+' || c == '-' || c == '@' || c == '\t' || c == '\r';
}

void rpt_esc_csv(const char *field, rpt_esc_put_fn *put, void *sink)
{
    if (field == NULL) return;
    bool neutralise = csv_formula_lead(field[0]) && !rpt_esc_csv_is_number(field);
    bool quote = field[0] == '\0' || strpbrk(field, ",\"\r\n") != NULL;
    if (quote) put_str(put, sink, "\"");
    if (neutralise) put_str(put, sink, "'");
    const char *run = field;
    for (const char *p = field; quote && *p != '\0'; p++) {   /* bound: strlen(field) */
        if (*p != '"') continue;
        flush(put, sink, &run, p, 0);                /* the quote itself starts the next run: doubled */
        put_str(put, sink, "\"");
    }
    put_str(put, sink, run);
    if (quote) put_str(put, sink, "\"");
}

/* ========================================================================
 * XML
 * ======================================================================== */

/* Length of the well-formed UTF-8 sequence at p that XML 1.0 allows, or 0
 * (RFC 3629 table 3-7: no overlong forms, no surrogates, <= U+10FFFF). */
static size_t xml_utf8_len(const unsigned char *p)
{
    unsigned char b = p[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;
    if (b >= 0xC2 && b <= 0xDF) {
        n = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        if (b == 0xE0) lo = 0xA0;
        if (b == 0xED) hi = 0x9F;                    /* U+D800..U+DFFF are surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        if (b == 0xF0) lo = 0x90;
        if (b == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF) return 0;   /* a NUL stops here too */
    }
    if (n == 3 && b == 0xEF && p[1] == 0xBF && p[2] >= 0xBE) return 0;   /* U+FFFE, U+FFFF */
    return n;
}

void rpt_esc_xml(const char *s, rpt_esc_put_fn *put, void *sink)
{
    if (s == NULL) return;
    const char *run = s;
    for (const char *p = s; *p != '\0';) {           /* bound: strlen(s) */
        unsigned char c = (unsigned char)*p;
        const char *rep = NULL;
        char hex[8];
        if (c >= 0x80) {
            size_t n = xml_utf8_len((const unsigned char *)p);
            if (n > 0) {
                p += n;
                continue;
            }
            snprintf(hex, sizeof hex, "\\x%02X", c);
            rep = hex;
        } else {
            switch (c) {
            case '&': rep = "&amp;"; break;
            case '<': rep = "&lt;"; break;
            case '>': rep = "&gt;"; break;
            case '"': rep = "&quot;"; break;
            case '\'': rep = "&apos;"; break;
            case '\t': rep = "&#9;"; break;
            case '\n': rep = "&#10;"; break;
            case '\r': rep = "&#13;"; break;
            default:
                if (c < 0x20) {
                    snprintf(hex, sizeof hex, "\\x%02X", c);
                    rep = hex;
                }
                break;
            }
        }
        if (rep == NULL) {
            p++;
            continue;
        }
        flush(put, sink, &run, p, 1);
        put_str(put, sink, rep);
        p++;
    }
    put_str(put, sink, run);
}

/* ========================================================================
 * HTML
 * ======================================================================== */

void rpt_esc_html(const char *s, rpt_esc_put_fn *put, void *sink)
{
    if (s == NULL) return;
    const char *run = s;
    for (const char *p = s; *p != '\0'; p++) {       /* bound: strlen(s) */
        const char *rep = NULL;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: break;
        }
        if (rep == NULL) continue;
        flush(put, sink, &run, p, 1);
        put_str(put, sink, rep);
    }
    put_str(put, sink, run);
}

/* ========================================================================
 * Markdown table cells
 * ======================================================================== */

/* The longest run of backticks in s. */
static size_t longest_backticks(const char *s)
{
    size_t best = 0, cur = 0;
    for (const char *p = s; *p != '\0'; p++) {       /* bound: strlen(s) */
        cur = *p == '`' ? cur + 1 : 0;
        if (cur > best) best = cur;
    }
    return best;
}

static void put_backticks(rpt_esc_put_fn *put, void *sink, size_t n)
{
    for (size_t i = 0; i < n; i++) put_str(put, sink, "`");   /* bound: n */
}

void rpt_esc_md_cell(const char *s, bool code, rpt_esc_put_fn *put, void *sink)
{
    if (s == NULL) return;
    /* GFM splits table rows before parsing code spans: "\\|" would read
     * as an escaped backslash and a cell border. */
    if (code && strstr(s, "\\|") != NULL) code = false;
    size_t fence = 0;
    if (code) {
        fence = longest_backticks(s) + 1;
        if (fence < 2) fence = 2;
        put_backticks(put, sink, fence);
        put_str(put, sink, " ");
    }
    const char *run = s;
    for (const char *p = s; *p != '\0'; p++) {       /* bound: strlen(s) */
        const char *rep = NULL;
        switch (*p) {
        case '|': rep = "\\|"; break;
        case '\n':
        case '\r': rep = " "; break;
        case '<': rep = code ? NULL : "&lt;"; break;
        case '>': rep = code ? NULL : "&gt;"; break;
        case '&': rep = code ? NULL : "&amp;"; break;
        case '\\': rep = code ? NULL : "\\\\"; break;
        case '`': rep = code ? NULL : "\\`"; break;
        default: break;
        }
        if (rep == NULL) continue;
        flush(put, sink, &run, p, 1);
        put_str(put, sink, rep);
    }
    put_str(put, sink, run);
    if (code) {
        put_str(put, sink, " ");
        put_backticks(put, sink, fence);
    }
}

/* ========================================================================
 * Shell words
 * ======================================================================== */

static bool shell_safe(const char *arg)
{
    if (arg[0] == '\0') return false;
    for (const char *p = arg; *p != '\0'; p++) {     /* bound: strlen(arg) */
        char c = *p;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || strchr("_./:=,+-@%", c) != NULL;
        if (!ok) return false;
    }
    return true;
}

void rpt_esc_shell(const char *arg, rpt_esc_put_fn *put, void *sink)
{
    if (arg == NULL) return;
    if (shell_safe(arg)) {
        put_str(put, sink, arg);
        return;
    }
    put_str(put, sink, "'");
    const char *run = arg;
    for (const char *p = arg; *p != '\0'; p++) {     /* bound: strlen(arg) */
        if (*p != '\'') continue;
        flush(put, sink, &run, p, 1);
        put_str(put, sink, "'\\''");
    }
    put_str(put, sink, run);
    put_str(put, sink, "'");
}
