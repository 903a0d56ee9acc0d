/* rpt_escape.h: the one escaping function per output format.
 *
 * Every text a user controls (scenario paths and names, --set values,
 * --title, failure messages, repro commands) passes through exactly one of
 * these before it reaches a file or a terminal in a format that gives some
 * characters a meaning: CSV (and spreadsheets that open it), XML (JUnit),
 * HTML, Markdown table cells, and POSIX shell words.  The report writer, the
 * CLI's JUnit and Markdown files and the runner's repro command all call
 * these, so a format is escaped the same way wherever it is written.
 *
 * Output goes to a sink: a function that takes pieces of escaped text.
 * Two sinks are given here (a stdio stream and a fixed buffer that counts
 * what did not fit, as snprintf does); other callers pass their own.  Runs
 * of characters that need no escaping go out in one piece, so a sink is
 * called a few times per field, not once per byte.
 *
 * Every function takes a NUL-terminated string (NULL writes nothing), is
 * pure apart from the sink, and costs O(strlen). */
#ifndef RPT_ESCAPE_H
#define RPT_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

typedef void rpt_esc_put_fn(void *sink, const char *s, size_t n);

/* Sink: `sink` is a FILE *; write errors are left in the stream (ferror). */
void rpt_esc_to_file(void *sink, const char *s, size_t n);

/* Sink: `sink` is an rpt_esc_mem.  Stores what fits in buf[0 .. size-1],
 * always NUL-terminated when size > 0, and counts every byte in `len`, so
 * len >= size means the text was cut (size the buffer len + 1 and retry). */
typedef struct rpt_esc_mem {
    char *buf;                   /* may be NULL when size is 0 (measuring) */
    size_t size;
    size_t len;                  /* bytes produced so far, stored or not */
} rpt_esc_mem;
void rpt_esc_to_mem(void *sink, const char *s, size_t n);

/* One CSV field (RFC 4180), made safe to open in a spreadsheet:
 *   - a field that is not a number and starts with '=', '+', '-', '@', TAB
 *     or CR gets a leading apostrophe, so a spreadsheet shows it as text
 *     instead of evaluating it as a formula (OWASP "CSV injection");
 *     numbers such as -3, -0.5 or +1e-9 are left as they are;
 *   - then a field that is empty or contains a comma, double quote, CR or
 *     LF is enclosed in double quotes, with each double quote doubled.
 * NULL writes nothing (an SQL NULL is an empty field; "" is written as ""). */
void rpt_esc_csv(const char *field, rpt_esc_put_fn *put, void *sink);

/* True when `field` reads as a number: [+-] digits [. digits] [e [+-] digits]
 * (digits on at least one side of the point).  Exposed for tests. */
bool rpt_esc_csv_is_number(const char *field);

/* XML 1.0 text or attribute value: & < > " ' become entities; TAB, LF and CR
 * become character references (so attribute normalisation keeps them);
 * every byte XML 1.0 forbids (other C0 controls, bytes of invalid or
 * overlong UTF-8, surrogates, U+FFFE and U+FFFF) is written as the visible
 * text \xHH, so the file always parses and the byte can still be read. */
void rpt_esc_xml(const char *s, rpt_esc_put_fn *put, void *sink);

/* HTML text or attribute value (quoted with either quote): & < > " '. */
void rpt_esc_html(const char *s, rpt_esc_put_fn *put, void *sink);

/* The content of one GitHub Markdown table cell.  A `|` would end the cell
 * and is written \|; a line break would end the row and becomes a space.
 * Without `code`, HTML would be rendered and backslashes and backticks
 * would escape or open markup, so & < > become entities and \ ` are
 * backslash-escaped.  With `code`, the text goes in a code span (shown as
 * written) whose fence is longer than any run of backticks inside it; a
 * backslash right before a pipe cannot be written in a code span inside a
 * table, so such text falls back to a plain cell. */
void rpt_esc_md_cell(const char *s, bool code, rpt_esc_put_fn *put, void *sink);

/* One POSIX shell word that the shell reads back as exactly `arg`: left as
 * it is when it is not empty and made only of [A-Za-z0-9] and _ . / : = , +
 * - @ %; otherwise in single quotes, each ' written as '\''. */
void rpt_esc_shell(const char *arg, rpt_esc_put_fn *put, void *sink);

#endif
