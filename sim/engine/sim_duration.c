/* sim_duration.c: exact parsing of durations (and other unit quantities). */
#include "sim_duration.h"

#include <stdbool.h>
#include <string.h>

static const sim_unit duration_units[] = {
    { "ns", 1u }, { "us", SIM_US }, { "\xc2\xb5s", SIM_US }, { "ms", SIM_MS },
    { "s", SIM_S }, { "m", 60u * SIM_S }, { "h", 3600u * SIM_S },
};

static bool suffix_is(const char *s, size_t len, const char *word)
{
    size_t n = strlen(word);
    return n == len && memcmp(s, word, n) == 0;
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b != 0) {   /* Euclid: at most ~93 steps for 64-bit values */
        uint64_t r = a % b;
        a = b;
        b = r;
    }
    return a;
}

sim_quantity_status sim_quantity_parse(const char *s, size_t len, const sim_unit *units, size_t unit_count,
                                       uint64_t max, uint64_t *out)
{
    size_t i = 0;
    uint64_t whole = 0, frac = 0, frac_scale = 1;
    bool digits = false, overflow = false, too_precise = false;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        uint64_t d = (uint64_t)(s[i] - '0');
        if (whole > (UINT64_MAX - d) / 10u) overflow = true;
        if (!overflow) whole = whole * 10u + d;
        digits = true;
    }
    if (i < len && s[i] == '.') {
        size_t start = ++i;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
            if (frac_scale < 1000000000000000000ull) {
                frac = frac * 10u + (uint64_t)(s[i] - '0');
                frac_scale *= 10u;
            } else if (s[i] != '0') {
                too_precise = true;
            }
        }
        if (i == start) return SIM_QUANTITY_SYNTAX;
        digits = true;
    }
    if (!digits) return SIM_QUANTITY_SYNTAX;
    const sim_unit *unit = NULL;
    for (size_t u = 0; u < unit_count && unit == NULL; u++) {
        if (suffix_is(s + i, len - i, units[u].suffix)) unit = &units[u];
    }
    if (unit == NULL) return SIM_QUANTITY_SYNTAX;
    if (overflow || whole > max / unit->mult) return SIM_QUANTITY_RANGE;
    uint64_t value = whole * unit->mult;
    if (too_precise) return SIM_QUANTITY_FRACTION;
    if (frac != 0) {
        uint64_t g = gcd_u64(frac, frac_scale);
        uint64_t f = frac / g, scale = frac_scale / g;
        if (unit->mult % scale != 0) return SIM_QUANTITY_FRACTION;
        uint64_t per = unit->mult / scale;
        if (f > (max - value) / per) return SIM_QUANTITY_RANGE;
        value += f * per;
    }
    *out = value;
    return SIM_QUANTITY_OK;
}

sim_quantity_status sim_duration_scan(const char *s, size_t len, sim_time_ns *out)
{
    return sim_quantity_parse(s, len, duration_units, sizeof duration_units / sizeof duration_units[0],
                              SIM_DURATION_NS_MAX, out);
}

sim_status sim_duration_parse(const char *text, sim_time_ns *out, sim_error *err)
{
    static const char where[] = "sim_duration_parse";
    if (text == NULL) text = "";
    size_t len = strlen(text);
    sim_time_ns v = 0;
    /* The value as given, for "got ...": as the scenario loader shows it,
     * bare when it reads as a number (10, -1.5), otherwise quoted and cut
     * short. */
    bool bare = len > 0 && len <= 40, digit = false;
    for (size_t i = 0; bare && i < len; i++) {
        char ch = text[i];
        if (ch >= '0' && ch <= '9') digit = true;
        bare = (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '+' || ch == 'e' || ch == 'E';
    }
    bare = bare && digit;
    char got[80];
    size_t keep = len < sizeof got - 6 ? len : sizeof got - 6;
    size_t o = 0;
    if (!bare) got[o++] = '"';
    for (size_t i = 0; i < keep; i++) {
        unsigned char ch = (unsigned char)text[i];
        got[o++] = ch < 0x20 || ch == 0x7f || ch == '"' ? '?' : (char)ch;
    }
    if (keep < len) {
        memcpy(got + o, "...", 3);
        o += 3;
    }
    if (!bare) got[o++] = '"';
    got[o] = '\0';
    switch (sim_duration_scan(text, len, &v)) {
    case SIM_QUANTITY_OK: break;
    case SIM_QUANTITY_SYNTAX:
        return sim_error_set(err, SIM_ERR_INVALID, where, SIM_DURATION_EXPECTED ", got %s", got);
    case SIM_QUANTITY_RANGE:
        return sim_error_set(err, SIM_ERR_INVALID, where, "expected a duration of at most 8760h, got %s", got);
    case SIM_QUANTITY_FRACTION:
        return sim_error_set(err, SIM_ERR_INVALID, where, "expected a whole number of nanoseconds, got %s", got);
    }
    *out = v;
    return SIM_OK;
}
