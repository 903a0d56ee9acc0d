/* rpt_svg.c: the chart primitives of the HTML report: inline SVG with
 * linear or categorical axes, lines, areas, bars, shaded spans, legends.
 *
 * Everything is drawn in pixels computed from data ranges and printed with
 * one decimal ("%.1f"): the same data gives the same bytes.  Styles live in
 * the page's CSS (rpt_html.c) under the classes used here (ct chart title,
 * ax axis, gr grid, tk tick label, at axis title, lg legend, sp span label),
 * so a chart is small and the page can restyle it.
 *
 * Invariants:
 *   (1) Every data mark is a <path>, <rect> or <circle>, and counted in
 *       chart->marks; callers draw a chart only when they have data, so
 *       every <svg class="chart"> on the page holds at least one mark (the
 *       browser test checks this).
 *   (2) Every axis has a title, and the titles carry the unit ("time (s)").
 *   (3) Loops over ticks are bounded by RPT_SVG_TICKS_MAX. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rpt_report_int.h"
#include "sim_assert.h"

/* Ticks per axis; nice_step aims at 5-8, and the bound guards rounding. */
#define RPT_SVG_TICKS_MAX 64

/* Average advance of one character of the 11 px sans-serif labels, used to
 * lay out legends and label columns without measuring text. */
#define RPT_SVG_CHAR_PX 6.4

const char *rpt_color(size_t index)
{
    /* Okabe-Ito and Tableau shades: distinguishable with the common forms
     * of colour blindness, in an order whose first few differ most. */
    static const char *const palette[RPT_PALETTE_SIZE] = {
        "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9",
        "#d55e00", "#7f7f7f", "#bcbd22", "#17becf", "#8c564b",
    };
    return palette[index % RPT_PALETTE_SIZE];
}

static double nice_step(double span, int target)
{
    SIM_ASSERT(target > 0);
    if (!(span > 0.0)) return 1.0;
    double raw = span / target;
    double mag = pow(10.0, floor(log10(raw)));
    double norm = raw / mag;
    double step = norm < 1.5 ? 1.0 : norm < 3.0 ? 2.0 : norm < 7.0 ? 5.0 : 10.0;
    return step * mag;
}

static int step_decimals(double step)
{
    int d = (int)-floor(log10(step) + 1e-9);
    return d < 0 ? 0 : d > 6 ? 6 : d;
}

void rpt_chart_begin_area(rpt_chart *c, rpt_buf *out, const char *title, double w, double h,
                          double left, double right, double top, double bottom)
{
    SIM_ASSERT(w > left + right);
    SIM_ASSERT(h > top + bottom);
    memset(c, 0, sizeof *c);
    c->out = out;
    c->w = w;
    c->h = h;
    c->left = left;
    c->right = w - right;
    c->top = top;
    c->bottom = h - bottom;
    c->x0 = 0.0;
    c->x1 = 1.0;
    c->y0 = 0.0;
    c->y1 = 1.0;
    rpt_buf_printf(out,
                   "<svg class=\"chart\" width=\"%.0f\" height=\"%.0f\" "
                   "viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
                   w, h, w, h);
    rpt_buf_html(out, title);
    rpt_buf_put(out, "\"><title>");
    rpt_buf_html(out, title);
    rpt_buf_printf(out, "</title><text class=\"ct\" x=\"%.1f\" y=\"15\">", left);
    rpt_buf_html(out, title);
    rpt_buf_put(out, "</text>\n");
}

void rpt_chart_begin(rpt_chart *c, rpt_buf *out, const char *title, double w, double h)
{
    rpt_chart_begin_area(c, out, title, w, h, 62.0, 18.0, 40.0, 46.0);
}

void rpt_chart_range(rpt_chart *c, double x0, double x1, double y0, double y1)
{
    SIM_ASSERT(!isnan(x0) && !isnan(x1));
    SIM_ASSERT(!isnan(y0) && !isnan(y1));
    if (!(x1 > x0)) x1 = x0 + 1.0;
    if (!(y1 > y0)) y1 = y0 + 1.0;
    c->x0 = x0;
    c->x1 = x1;
    c->y0 = y0;
    c->y1 = y1;
}

void rpt_chart_nice(rpt_chart *c, bool x, bool y)
{
    if (y) {
        double step = nice_step(c->y1 - c->y0, 5);
        c->y1 = c->y0 + ceil((c->y1 - c->y0) / step - 1e-9) * step;
    }
    if (x) {
        double step = nice_step(c->x1 - c->x0, 8);
        c->x1 = c->x0 + ceil((c->x1 - c->x0) / step - 1e-9) * step;
    }
}

double rpt_chart_px(const rpt_chart *c, double x)
{
    if (c->x_categories > 0) {
        double slot = (c->right - c->left) / (double)c->x_categories;
        return c->left + slot * (x + 0.5);
    }
    return c->left + (x - c->x0) / (c->x1 - c->x0) * (c->right - c->left);
}

double rpt_chart_py(const rpt_chart *c, double y)
{
    double f = (y - c->y0) / (c->y1 - c->y0);
    return c->y_down ? c->top + f * (c->bottom - c->top) : c->bottom - f * (c->bottom - c->top);
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void tick_label(char *buf, size_t size, double v, int decimals)
{
    if (fabs(v) < 1e-12) v = 0.0;                  /* no "-0" */
    snprintf(buf, size, "%.*f", decimals, v);
}

static void y_axis(rpt_chart *c, const char *y_title)
{
    double step = nice_step(c->y1 - c->y0, 5);
    int dec = step_decimals(step);
    double first = ceil(c->y0 / step - 1e-9);
    rpt_buf_put(c->out, "<path class=\"gr\" d=\"");
    for (int i = 0; i < RPT_SVG_TICKS_MAX; i++) {
        double v = (first + i) * step;
        if (v > c->y1 + step * 1e-6) break;
        rpt_buf_printf(c->out, "M%.1f %.1fH%.1f", c->left, rpt_chart_py(c, v), c->right);
    }
    rpt_buf_put(c->out, "\"/>\n");
    for (int i = 0; i < RPT_SVG_TICKS_MAX; i++) {
        double v = (first + i) * step;
        if (v > c->y1 + step * 1e-6) break;
        char t[32];
        tick_label(t, sizeof t, v, dec);
        double y = rpt_chart_py(c, v);
        rpt_buf_printf(c->out, "<text class=\"tk\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>", c->left - 5,
                       y + 3.5, t);
    }
    rpt_buf_put(c->out, "\n");
    rpt_chart_y_title(c, y_title);
}

static void x_title(rpt_chart *c, const char *title)
{
    rpt_buf_printf(c->out, "<text class=\"at\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                   (c->left + c->right) / 2, c->h - 8);
    rpt_buf_html(c->out, title);
    rpt_buf_put(c->out, "</text>\n");
}

void rpt_chart_x_axis(rpt_chart *c, const char *x_title_text)
{
    SIM_ASSERT(x_title_text != NULL);                /* (2): every axis is titled */
    SIM_ASSERT(c->x_categories == 0);
    double step = nice_step(c->x1 - c->x0, 8);
    int dec = step_decimals(step);
    double first = ceil(c->x0 / step - 1e-9);
    rpt_buf_printf(c->out, "<path class=\"ax\" d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1f", c->left, c->bottom, c->right,
                   c->left, c->top, c->bottom);
    for (int i = 0; i < RPT_SVG_TICKS_MAX; i++) {
        double v = (first + i) * step;
        if (v > c->x1 + step * 1e-6) break;
        rpt_buf_printf(c->out, "M%.1f %.1fv4", rpt_chart_px(c, v), c->bottom);
    }
    rpt_buf_put(c->out, "\"/>\n");
    for (int i = 0; i < RPT_SVG_TICKS_MAX; i++) {
        double v = (first + i) * step;
        if (v > c->x1 + step * 1e-6) break;
        char t[32];
        tick_label(t, sizeof t, v, dec);
        rpt_buf_printf(c->out, "<text class=\"tk\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                       rpt_chart_px(c, v), c->bottom + 15, t);
    }
    rpt_buf_put(c->out, "\n");
    x_title(c, x_title_text);
}

void rpt_chart_axes(rpt_chart *c, const char *x_title_text, const char *y_title)
{
    SIM_ASSERT(x_title_text != NULL && y_title != NULL);   /* (2): every axis is titled */
    y_axis(c, y_title);
    rpt_chart_x_axis(c, x_title_text);
}

void rpt_chart_y_title(rpt_chart *c, const char *y_title)
{
    rpt_buf_printf(c->out, "<text class=\"at\" transform=\"translate(14 %.1f) rotate(-90)\" text-anchor=\"middle\">",
                   (c->top + c->bottom) / 2);
    rpt_buf_html(c->out, y_title);
    rpt_buf_put(c->out, "</text>\n");
}

void rpt_chart_axes_categorical(rpt_chart *c, const char *const *labels, const char *x_title_text,
                                const char *y_title)
{
    SIM_ASSERT(c->x_categories > 0);
    SIM_ASSERT(x_title_text != NULL && y_title != NULL);
    y_axis(c, y_title);
    rpt_buf_printf(c->out, "<path class=\"ax\" d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1f\"/>\n", c->left, c->bottom,
                   c->right, c->left, c->top, c->bottom);
    for (size_t i = 0; i < c->x_categories; i++) {
        rpt_buf_printf(c->out, "<text class=\"tk\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
                       rpt_chart_px(c, (double)i), c->bottom + 15);
        rpt_buf_html(c->out, labels[i]);
        rpt_buf_put(c->out, "</text>");
    }
    rpt_buf_put(c->out, "\n");
    x_title(c, x_title_text);
}

void rpt_chart_span(rpt_chart *c, double x0, double x1, const char *label, const char *fill)
{
    double a = clamp(rpt_chart_px(c, x0), c->left, c->right);
    double b = clamp(rpt_chart_px(c, x1), c->left, c->right);
    if (b - a < 1.5) {                               /* an instant: draw it 1.5 px wide */
        a = clamp(a - 0.75, c->left, c->right - 1.5);
        b = a + 1.5;
    }
    rpt_buf_printf(c->out, "<rect class=\"span\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">",
                   a, c->top, b - a, c->bottom - c->top, fill);
    rpt_buf_put(c->out, "<title>");
    rpt_buf_html(c->out, label);
    rpt_buf_put(c->out, "</title></rect>");
    if (label != NULL && label[0] != '\0' && b - a > 30) {
        rpt_buf_printf(c->out, "<text class=\"sp\" x=\"%.1f\" y=\"%.1f\">", a + 3, c->top + 11);
        rpt_buf_html(c->out, label);
        rpt_buf_put(c->out, "</text>");
    }
    rpt_buf_put(c->out, "\n");
    c->marks++;
}

void rpt_chart_vline(rpt_chart *c, double x, const char *label, const char *stroke)
{
    double px = rpt_chart_px(c, x);
    if (px < c->left - 0.01 || px > c->right + 0.01) return;
    rpt_buf_printf(c->out, "<path d=\"M%.1f %.1fV%.1f\" stroke=\"%s\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\">"
                           "<title>",
                   px, c->top, c->bottom, stroke);
    rpt_buf_html(c->out, label);
    rpt_buf_put(c->out, "</title></path>");
    if (label != NULL) {
        bool right_side = px < (c->left + c->right) / 2;
        rpt_buf_printf(c->out, "<text class=\"sp\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" fill=\"%s\">",
                       right_side ? px + 3 : px - 3, c->top + 24, right_side ? "start" : "end", stroke);
        rpt_buf_html(c->out, label);
        rpt_buf_put(c->out, "</text>");
    }
    rpt_buf_put(c->out, "\n");
    c->marks++;
}

static void tooltip(rpt_buf *out, const char *text)
{
    if (text == NULL) return;
    rpt_buf_put(out, "<title>");
    rpt_buf_html(out, text);
    rpt_buf_put(out, "</title>");
}

void rpt_chart_line(rpt_chart *c, const double *xs, const double *ys, size_t n, const char *stroke,
                    bool step, bool dashed, const char *tip)
{
    if (n == 0) return;
    rpt_buf_printf(c->out, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" stroke-linejoin=\"round\"%s d=\"",
                   stroke, dashed ? " stroke-dasharray=\"5 3\"" : "");
    bool pen = false;
    for (size_t i = 0; i < n; i++) {                 /* bound: n */
        if (isnan(ys[i])) {
            pen = false;
            continue;
        }
        double px = rpt_chart_px(c, xs[i]);
        double py = rpt_chart_py(c, clamp(ys[i], c->y0, c->y1));
        if (!pen) {
            rpt_buf_printf(c->out, "M%.1f %.1f", px, py);
        } else if (step) {
            rpt_buf_printf(c->out, "H%.1fV%.1f", px, py);
        } else {
            rpt_buf_printf(c->out, "L%.1f %.1f", px, py);
        }
        pen = true;
    }
    rpt_buf_put(c->out, "\">");
    tooltip(c->out, tip);
    rpt_buf_put(c->out, "</path>\n");
    c->marks++;
}

void rpt_chart_area(rpt_chart *c, const double *xs, const double *ys, size_t n, const char *fill,
                    const char *tip)
{
    if (n == 0) return;
    double base = rpt_chart_py(c, c->y0);
    rpt_buf_printf(c->out, "<path fill=\"%s\" fill-opacity=\"0.35\" stroke=\"%s\" stroke-width=\"1.5\" d=\"M%.1f %.1f",
                   fill, fill, rpt_chart_px(c, xs[0]), base);
    for (size_t i = 0; i < n; i++) {                 /* bound: n */
        double py = rpt_chart_py(c, clamp(isnan(ys[i]) ? c->y0 : ys[i], c->y0, c->y1));
        if (i > 0) rpt_buf_printf(c->out, "H%.1f", rpt_chart_px(c, xs[i]));
        rpt_buf_printf(c->out, "V%.1f", py);
    }
    rpt_buf_printf(c->out, "V%.1fZ\">", base);
    tooltip(c->out, tip);
    rpt_buf_put(c->out, "</path>\n");
    c->marks++;
}

void rpt_chart_rect(rpt_chart *c, double x0, double y0, double x1, double y1, const char *fill,
                    const char *tip)
{
    double a = rpt_chart_px(c, x0), b = rpt_chart_px(c, x1);
    double p = rpt_chart_py(c, y0), q = rpt_chart_py(c, y1);
    double x = a < b ? a : b, y = p < q ? p : q;
    double w = fabs(b - a), h = fabs(q - p);
    rpt_buf_printf(c->out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">", x, y,
                   w < 0.5 ? 0.5 : w, h < 0.5 ? 0.5 : h, fill);
    tooltip(c->out, tip);
    rpt_buf_put(c->out, "</rect>\n");
    c->marks++;
}

void rpt_chart_dot(rpt_chart *c, double x, double y, const char *fill, const char *tip)
{
    rpt_buf_printf(c->out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\">", rpt_chart_px(c, x),
                   rpt_chart_py(c, y), fill);
    tooltip(c->out, tip);
    rpt_buf_put(c->out, "</circle>\n");
    c->marks++;
}

void rpt_chart_legend(rpt_chart *c, const char *const *names, const char *const *colors, size_t n)
{
    /* One row above the plot, right-aligned; long legends wrap to the left
     * edge of the plot and are cut at the chart's width. */
    double width = 0.0;
    for (size_t i = 0; i < n; i++) width += 18.0 + RPT_SVG_CHAR_PX * (double)strlen(names[i]) + 10.0;
    double x = c->right - width;
    if (x < c->left) x = c->left;
    double y = c->top - 12;
    rpt_buf_put(c->out, "<g class=\"lg\">");
    for (size_t i = 0; i < n; i++) {                 /* bound: n */
        double need = 18.0 + RPT_SVG_CHAR_PX * (double)strlen(names[i]);
        if (x + need > c->w) break;
        rpt_buf_printf(c->out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"9\" fill=\"%s\"/>"
                               "<text x=\"%.1f\" y=\"%.1f\">",
                       x, y - 8, colors[i], x + 16, y);
        rpt_buf_html(c->out, names[i]);
        rpt_buf_put(c->out, "</text>");
        x += need + 10.0;
    }
    rpt_buf_put(c->out, "</g>\n");
}

void rpt_chart_legend_column(rpt_chart *c, double x, double y, const char *const *names,
                             const char *const *colors, size_t n)
{
    rpt_buf_put(c->out, "<g class=\"lg\">");
    for (size_t i = 0; i < n; i++) {                 /* bound: n */
        double row = y + 16.0 * (double)i;
        if (row > c->h - 4) break;
        rpt_buf_printf(c->out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"9\" fill=\"%s\"/>"
                               "<text x=\"%.1f\" y=\"%.1f\">",
                       x, row - 8, colors[i], x + 16, row);
        rpt_buf_html(c->out, names[i]);
        rpt_buf_put(c->out, "</text>");
    }
    rpt_buf_put(c->out, "</g>\n");
}

void rpt_chart_text(rpt_chart *c, double px, double py, const char *anchor, const char *cls, const char *text)
{
    rpt_buf_printf(c->out, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", cls, px, py, anchor);
    rpt_buf_html(c->out, text);
    rpt_buf_put(c->out, "</text>");
}

void rpt_chart_end(rpt_chart *c)
{
    rpt_buf_put(c->out, "</svg>\n");
}

/* A bar's value: whole numbers without decimals, others with one; bytes in
 * the axis unit chosen by the caller. */
static void bar_label(char *buf, size_t size, double v)
{
    if (v == floor(v)) {
        snprintf(buf, size, "%.0f", v);
    } else {
        snprintf(buf, size, "%.1f", v);
    }
}

void rpt_svg_hbars(rpt_buf *out, const char *title, const char *const *labels, size_t n_rows,
                   const char *const *series, size_t n_series, const double *values, const char *const *colors,
                   const char *x_title_text, const char *y_title, bool bytes)
{
    SIM_ASSERT(n_rows > 0);
    SIM_ASSERT(n_series > 0);
    size_t longest = 4;
    double max_total = 0.0;
    for (size_t r = 0; r < n_rows; r++) {            /* bound: n_rows */
        size_t len = strlen(labels[r]);
        if (len > longest) longest = len;
        double total = 0.0;
        for (size_t s = 0; s < n_series; s++) total += values[r * n_series + s];
        if (total > max_total) max_total = total;
    }
    double label_w = 30.0 + RPT_SVG_CHAR_PX * (double)(longest > 28 ? 28 : longest);
    double row_h = 17.0;
    double h = 40.0 + row_h * (double)n_rows + 46.0;
    /* Bytes: ticks and labels in the largest binary unit that keeps the
     * longest bar at 1 or more, so the ticks are round numbers of it. */
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    size_t unit = 0;
    double scale = 1.0;
    while (bytes && max_total / scale >= 1024.0 && unit + 1 < sizeof units / sizeof units[0]) {
        scale *= 1024.0;
        unit++;
    }
    rpt_chart c;
    rpt_chart_begin_area(&c, out, title, 560.0, h, label_w, 70.0, 40.0, 46.0);
    rpt_chart_range(&c, 0.0, max_total > 0.0 ? max_total / scale : 1.0, 0.0, (double)n_rows);
    rpt_chart_nice(&c, true, false);
    c.y_down = true;
    /* x axis: value ticks along the bottom, light grid up the plot. */
    double step = nice_step(c.x1 - c.x0, 5);
    rpt_buf_put(out, "<path class=\"gr\" d=\"");
    for (int i = 0; i < RPT_SVG_TICKS_MAX; i++) {
        double v = i * step;
        if (v > c.x1 + step * 1e-6) break;
        rpt_buf_printf(out, "M%.1f %.1fV%.1f", rpt_chart_px(&c, v), c.top, c.bottom);
    }
    rpt_buf_put(out, "\"/>\n");
    for (int i = 0; i < RPT_SVG_TICKS_MAX; i++) {
        double v = i * step;
        if (v > c.x1 + step * 1e-6) break;
        char t[32];
        tick_label(t, sizeof t, v, step_decimals(step));
        rpt_buf_printf(out, "<text class=\"tk\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>",
                       rpt_chart_px(&c, v), c.bottom + 15, t);
    }
    rpt_buf_printf(out, "\n<path class=\"ax\" d=\"M%.1f %.1fV%.1fH%.1f\"/>\n", c.left, c.top, c.bottom, c.right);
    for (size_t r = 0; r < n_rows; r++) {            /* bound: n_rows */
        double y = c.top + row_h * (double)r;
        rpt_buf_printf(out, "<text class=\"tk\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", c.left - 5,
                       y + row_h / 2 + 3.5);
        rpt_buf_html(out, labels[r]);
        rpt_buf_put(out, "</text>");
        double acc = 0.0;
        for (size_t s = 0; s < n_series; s++) {
            double v = values[r * n_series + s];
            if (v <= 0.0) continue;
            double a = rpt_chart_px(&c, acc / scale), b = rpt_chart_px(&c, (acc + v) / scale);
            char t[48];
            if (bytes) {
                rpt_fmt_bytes(v, t, sizeof t);
            } else {
                bar_label(t, sizeof t, v);
            }
            rpt_buf_printf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>", a,
                           y + 2, b - a < 0.5 ? 0.5 : b - a, row_h - 4, colors != NULL ? colors[s] : rpt_color(s));
            rpt_buf_html(out, labels[r]);
            rpt_buf_put(out, ", ");
            rpt_buf_html(out, series[s]);
            rpt_buf_printf(out, ": %s</title></rect>", t);
            c.marks++;
            acc += v;
        }
        char t[48];
        if (bytes) {
            rpt_fmt_bytes(acc, t, sizeof t);
        } else {
            bar_label(t, sizeof t, acc);
        }
        rpt_buf_printf(out, "<text class=\"tk\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", rpt_chart_px(&c, acc / scale) + 4,
                       y + row_h / 2 + 3.5, t);
    }
    rpt_buf_printf(out, "<text class=\"at\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (c.left + c.right) / 2,
                   c.h - 8);
    rpt_buf_html(out, x_title_text);
    if (bytes) rpt_buf_printf(out, " (%s)", units[unit]);
    rpt_buf_printf(out, "</text>\n<text class=\"at\" transform=\"translate(12 %.1f) rotate(-90)\" "
                        "text-anchor=\"middle\">", (c.top + c.bottom) / 2);
    rpt_buf_html(out, y_title);
    rpt_buf_put(out, "</text>\n");
    if (n_series > 1) {
        const char *swatch[RPT_PALETTE_SIZE];
        size_t n = n_series < RPT_PALETTE_SIZE ? n_series : RPT_PALETTE_SIZE;
        for (size_t s = 0; s < n; s++) swatch[s] = colors != NULL ? colors[s] : rpt_color(s);
        rpt_chart_legend(&c, series, swatch, n);
    }
    rpt_chart_end(&c);
}
