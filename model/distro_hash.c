/* distro_hash.c: Java String/Double semantics and the v1 instance checksum.
 *
 * Design notes.
 *
 * UTF-16 view of UTF-8.  Java strings are UTF-16; ours are UTF-8.  Every
 * function here walks its input through distro_utf8_step(), which decodes
 * one sequence exactly as the JDK's UTF-8 decoder does (String(byte[],
 * UTF_8), JDK 8 and 17 agree) and yields one or two code units.  Table of
 * what a malformed input becomes (checked against the JDK in
 * tests/test_distro_hash.c):
 *
 *   80..BF, C0, C1, F5..FF lead       -> U+FFFD, 1 byte consumed
 *   C2..DF not followed by 80..BF     -> U+FFFD, 1 byte
 *   E0..EF, bad 2nd byte              -> U+FFFD, 1 byte (E0 needs A0..BF)
 *   E0..EF xx, bad 3rd byte           -> U+FFFD, 2 bytes
 *   ED A0..BF 80..BF (a surrogate)    -> U+FFFD, 3 bytes (JDK quirk)
 *   F0..F4, bad 2nd byte              -> U+FFFD, 1 byte (F0: 90..BF, F4: 80..8F)
 *   F0..F4 xx, bad 3rd / 4th byte     -> U+FFFD, 2 / 3 bytes
 *
 * The end of the string reads as a byte that is not a continuation, so a
 * truncated sequence follows the same rows.
 *
 * Invariants:
 *   (1) distro_utf8_step consumes at least one byte whenever bytes remain,
 *       so every decoding loop ends after at most `len` steps.
 *   (2) The instance order used for the checksum is total: equal
 *       toString() values fall back to the position in the caller's array,
 *       which is what Java's stable sort yields.
 *   (3) distro_instance_canonical and distro_instance_checksum emit through
 *       the same function (distro_emit_list), so the checksum is always the
 *       MD5 of the canonical string. */
#include "distro_hash.h"

#include <inttypes.h>
#include <math.h>
#include <md5.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_assert.h"

#define DISTRO_REPLACEMENT 0xFFFDu
#define DISTRO_HASH_MODULUS 2147483647 /* Integer.MAX_VALUE, DistroMapper */
#define DISTRO_CHECKSUM_STACK_ORDER 64u /* instances sorted without malloc */

_Static_assert(DISTRO_DOUBLE_STRING_MAX >= 26, "room for -d.ddddddddddddddddE-324");

/* --- UTF-8 -> UTF-16, the JDK way ---------------------------------------- */

static unsigned distro_byte_at(const unsigned char *s, size_t len, size_t i)
{
    return i < len ? s[i] : 0u; /* 0 is never a continuation byte */
}

static bool distro_is_cont(unsigned b)
{
    return (b & 0xC0u) == 0x80u;
}

/* Decodes the sequence at s[*pos] (requires *pos < len), stores one or two
 * UTF-16 code units in units[] and returns how many.  Advances *pos by the
 * bytes consumed (1..4).  Sets *valid to false when the sequence was
 * malformed and became U+FFFD.  See the table in the file header. */
static unsigned distro_utf8_step(const unsigned char *s, size_t len, size_t *pos,
                                 uint16_t units[2], bool *valid)
{
    SIM_ASSERT(*pos < len);
    size_t i = *pos;
    unsigned b1 = s[i];
    unsigned b2 = distro_byte_at(s, len, i + 1);
    unsigned b3 = distro_byte_at(s, len, i + 2);
    unsigned b4 = distro_byte_at(s, len, i + 3);
    size_t used = 1;
    uint32_t cp = DISTRO_REPLACEMENT;
    bool ok = false;

    if (b1 < 0x80u) {
        cp = b1;
        ok = true;
    } else if (b1 >= 0xC2u && b1 <= 0xDFu) {
        if (distro_is_cont(b2)) {
            cp = ((b1 & 0x1Fu) << 6) | (b2 & 0x3Fu);
            used = 2;
            ok = true;
        }
    } else if (b1 >= 0xE0u && b1 <= 0xEFu) {
        /* The JDK accepts ED A0..BF as a prefix and rejects the surrogate
         * only once all three bytes are in (isMalformed3 has no ED rule). */
        bool b2_ok = distro_is_cont(b2) && !(b1 == 0xE0u && b2 < 0xA0u);
        if (b2_ok && distro_is_cont(b3)) {
            cp = ((b1 & 0x0Fu) << 12) | ((b2 & 0x3Fu) << 6) | (b3 & 0x3Fu);
            used = 3;
            ok = cp < 0xD800u || cp > 0xDFFFu;
            if (!ok) {
                cp = DISTRO_REPLACEMENT;
            }
        } else if (b2_ok) {
            used = 2;
        }
    } else if (b1 >= 0xF0u && b1 <= 0xF4u) {
        bool b2_ok = distro_is_cont(b2) && !(b1 == 0xF0u && b2 < 0x90u) && !(b1 == 0xF4u && b2 > 0x8Fu);
        if (b2_ok && distro_is_cont(b3) && distro_is_cont(b4)) {
            cp = ((b1 & 0x07u) << 18) | ((b2 & 0x3Fu) << 12) | ((b3 & 0x3Fu) << 6) | (b4 & 0x3Fu);
            used = 4;
            ok = true;
        } else if (b2_ok && distro_is_cont(b3)) {
            used = 3;
        } else if (b2_ok) {
            used = 2;
        }
    }
    SIM_ASSERT(used <= len - i); /* the NUL stand-in is never consumed */
    *pos = i + used;
    *valid = ok;
    if (cp >= 0x10000u) {
        SIM_ASSERT(cp <= 0x10FFFFu);
        cp -= 0x10000u;
        units[0] = (uint16_t)(0xD800u | (cp >> 10));
        units[1] = (uint16_t)(0xDC00u | (cp & 0x3FFu));
        return 2;
    }
    units[0] = (uint16_t)cp;
    return 1;
}

/* A cursor that yields the UTF-16 code units of a byte string. */
typedef struct distro_u16_reader {
    const unsigned char *s;
    size_t len;
    size_t pos;
    uint16_t low;        /* pending low surrogate */
    bool has_low;
} distro_u16_reader;

static void distro_u16_reader_init(distro_u16_reader *r, const char *s, size_t len)
{
    r->s = (const unsigned char *)s;
    r->len = len;
    r->pos = 0;
    r->low = 0;
    r->has_low = false;
}

/* Stores the next code unit in *unit; false at the end. */
static bool distro_u16_next(distro_u16_reader *r, uint16_t *unit)
{
    if (r->has_low) {
        r->has_low = false;
        *unit = r->low;
        return true;
    }
    if (r->pos >= r->len) return false;
    uint16_t units[2];
    bool valid = false;
    unsigned n = distro_utf8_step(r->s, r->len, &r->pos, units, &valid);
    SIM_ASSERT(n == 1 || n == 2);
    *unit = units[0];
    if (n == 2) {
        r->low = units[1];
        r->has_low = true;
    }
    return true;
}

int32_t distro_java_string_hash(const char *utf8)
{
    SIM_ASSERT(utf8 != NULL);
    distro_u16_reader r;
    distro_u16_reader_init(&r, utf8, strlen(utf8));
    uint32_t h = 0;
    uint16_t unit = 0;
    while (distro_u16_next(&r, &unit)) { /* bound: invariant (1) */
        h = h * 31u + unit;                 /* wraps mod 2^32, as Java's int */
    }
    /* Two's-complement reinterpretation without implementation-defined
     * conversion of an out-of-range unsigned value. */
    if (h <= (uint32_t)INT32_MAX) return (int32_t)h;
    return (int32_t)(h - 0x80000000u) + INT32_MIN;
}

uint32_t distro_hash_from_java(int32_t java_hash)
{
    int32_t rem = java_hash % DISTRO_HASH_MODULUS; /* C99 truncates, as Java */
    SIM_ASSERT(rem > -DISTRO_HASH_MODULUS);
    SIM_ASSERT(rem < DISTRO_HASH_MODULUS);
    return rem < 0 ? (uint32_t)(-rem) : (uint32_t)rem; /* |rem| fits: no overflow */
}

uint32_t distro_hash(const char *tag)
{
    return distro_hash_from_java(distro_java_string_hash(tag));
}

size_t distro_mapper_index(const char *tag, size_t healthy_count)
{
    SIM_ASSERT(tag != NULL);
    SIM_ASSERT(healthy_count > 0);
    size_t index = (size_t)distro_hash(tag) % healthy_count;
    SIM_ASSERT(index < healthy_count);
    return index;
}

static int distro_u16_compare(distro_u16_reader *a, distro_u16_reader *b)
{
    for (;;) { /* bound: both readers advance every round (invariant (1)) */
        uint16_t ua = 0;
        uint16_t ub = 0;
        bool more_a = distro_u16_next(a, &ua);
        bool more_b = distro_u16_next(b, &ub);
        if (!more_a || !more_b) return (int)more_a - (int)more_b;
        if (ua != ub) return ua < ub ? -1 : 1;
    }
}

int distro_java_string_compare(const char *a, const char *b)
{
    SIM_ASSERT(a != NULL);
    SIM_ASSERT(b != NULL);
    distro_u16_reader ra;
    distro_u16_reader rb;
    distro_u16_reader_init(&ra, a, strlen(a));
    distro_u16_reader_init(&rb, b, strlen(b));
    return distro_u16_compare(&ra, &rb);
}

/* --- Double.toString --------------------------------------------------- */

/* Finds the shortest decimal that reads back as `d` (finite, nonzero,
 * positive): stores its digits (no leading zero, NUL-terminated) in
 * digits[18] and its decimal exponent in *exp10, so d = 0.D * 10^(exp10+1),
 * i.e. D[0].D[1..] * 10^exp10.  Locale-proof: the string handed to strtod is
 * the one printf made in the same locale, and only digits and the exponent
 * are read back. */
static unsigned distro_shortest_digits(double d, char digits[18], int *exp10)
{
    SIM_ASSERT(d > 0.0);
    SIM_ASSERT(isfinite(d));
    char text[48];
    int p = 1;
    for (; p <= 17; p++) { /* 17 significant digits always round-trip */
        int n = snprintf(text, sizeof text, "%.*e", p - 1, d);
        SIM_ASSERT(n > 0 && (size_t)n < sizeof text);
        if (strtod(text, NULL) == d) break;
    }
    SIM_ASSERT(p <= 17);
    unsigned count = 0;
    const char *c = text;
    for (; *c != '\0' && *c != 'e' && *c != 'E'; c++) {
        if (*c >= '0' && *c <= '9') {
            SIM_ASSERT(count < 17);
            digits[count++] = *c;
        }
    }
    SIM_ASSERT(*c == 'e' || *c == 'E');
    SIM_ASSERT(count == (unsigned)p);
    /* The shortest digits never end in 0: if p digits "X0" round-trip, the
     * p-1 digits "X" name the same value and were tried first. */
    SIM_ASSERT(digits[count - 1] != '0');
    digits[count] = '\0';
    *exp10 = (int)strtol(c + 1, NULL, 10);
    return count;
}

/* Appends one byte to buf if it fits; counts it regardless. */
static void distro_put(char *buf, size_t size, size_t *len, char ch)
{
    if (*len + 1 < size) buf[*len] = ch;
    (*len)++;
}

static void distro_puts(char *buf, size_t size, size_t *len, const char *s)
{
    for (; *s != '\0'; s++) distro_put(buf, size, len, *s);
}

size_t distro_java_double_to_string(double d, char *buf, size_t size)
{
    SIM_ASSERT(buf != NULL || size == 0);
    size_t len = 0;
    if (isnan(d)) {
        distro_puts(buf, size, &len, "NaN");
    } else if (isinf(d)) {
        distro_puts(buf, size, &len, d < 0 ? "-Infinity" : "Infinity");
    } else if (d == 0.0) {
        distro_puts(buf, size, &len, signbit(d) ? "-0.0" : "0.0");
    } else if (d >= 1.0 && d < 1e7 && d == (double)(int64_t)d) {
        /* Fast path for whole weights (1.0, 2.0, 100.0): the shortest
         * round-trip digits of an integer below 10^7 are the integer
         * itself, so Java prints "N.0".  Same output as the general path,
         * without its printf/strtod search. */
        char text[16];
        int64_t v = (int64_t)d;
        int n = 0;
        char rev[16];
        while (v > 0) {
            rev[n++] = (char)('0' + v % 10);
            v /= 10;
        }
        for (int i = 0; i < n; i++) text[i] = rev[n - 1 - i];
        text[n] = '\0';
        distro_puts(buf, size, &len, text);
        distro_puts(buf, size, &len, ".0");
    } else {
        char digits[18];
        int e = 0;
        unsigned n = distro_shortest_digits(fabs(d), digits, &e);
        if (d < 0) distro_put(buf, size, &len, '-');
        if (e >= 0 && e < 7) { /* FloatingDecimal: 0 < decExponent < 8 */
            for (int i = 0; i <= e; i++) distro_put(buf, size, &len, (unsigned)i < n ? digits[i] : '0');
            distro_put(buf, size, &len, '.');
            if ((unsigned)e + 1 >= n) {
                distro_put(buf, size, &len, '0');
            } else {
                distro_puts(buf, size, &len, digits + e + 1);
            }
        } else if (e < 0 && e >= -3) { /* -3 < decExponent <= 0 */
            distro_puts(buf, size, &len, "0.");
            for (int i = -1; i > e; i--) distro_put(buf, size, &len, '0');
            distro_puts(buf, size, &len, digits);
        } else {
            char exp_text[8];
            distro_put(buf, size, &len, digits[0]);
            distro_put(buf, size, &len, '.');
            distro_puts(buf, size, &len, n > 1 ? digits + 1 : "0");
            int m = snprintf(exp_text, sizeof exp_text, "E%d", e);
            SIM_ASSERT(m > 0 && (size_t)m < sizeof exp_text);
            distro_puts(buf, size, &len, exp_text);
        }
    }
    SIM_ASSERT(len < DISTRO_DOUBLE_STRING_MAX);
    if (size > 0) buf[len < size ? len : size - 1] = '\0';
    return len;
}

/* --- Instance.toString() order ----------------------------------------- */

static const char *distro_cluster_name(const distro_instance *inst)
{
    return inst->cluster != NULL ? inst->cluster : "DEFAULT";
}

/* Walks the UTF-16 code units of one instance's toString(),
 *   ip ":" port ":unknown:" cluster "_" weight "_" healthy "_" marked "_" cluster
 * (port 0: ip ":unknown:" cluster "_" ...), one segment at a time, without
 * building the string.  The weight and port are rendered only when the walk
 * reaches them, which it rarely does: most lists differ in the ip. */
typedef struct distro_tostring_reader {
    const distro_instance *inst;
    unsigned segment;            /* next segment to open, 0..DISTRO_TOSTRING_SEGMENTS */
    distro_u16_reader cur;       /* inside the current segment */
    char number[DISTRO_DOUBLE_STRING_MAX];
} distro_tostring_reader;

#define DISTRO_TOSTRING_SEGMENTS 11u

/* Returns segment k's text (a NUL-terminated string, maybe in r->number). */
static const char *distro_tostring_segment(distro_tostring_reader *r, unsigned k)
{
    const distro_instance *inst = r->inst;
    bool has_port = inst->port > 0;
    switch (k) {
    case 0: return inst->ip;
    case 1: return has_port ? ":" : "";
    case 2:
        if (!has_port) return "";
        snprintf(r->number, sizeof r->number, "%" PRIu32, inst->port);
        return r->number;
    case 3: return ":unknown:";
    case 4: return distro_cluster_name(inst);
    case 5: return "_";
    case 6:
        distro_java_double_to_string(inst->weight, r->number, sizeof r->number);
        return r->number;
    case 7: return inst->healthy ? "_true_" : "_false_";
    case 8: return inst->marked ? "true" : "false";
    case 9: return "_";
    case 10: return distro_cluster_name(inst);
    default: SIM_ASSERT(k < DISTRO_TOSTRING_SEGMENTS); return "";
    }
}

static bool distro_tostring_next(distro_tostring_reader *r, uint16_t *unit)
{
    for (;;) { /* bound: DISTRO_TOSTRING_SEGMENTS segment switches */
        if (distro_u16_next(&r->cur, unit)) return true;
        if (r->segment == DISTRO_TOSTRING_SEGMENTS) return false;
        const char *text = distro_tostring_segment(r, r->segment);
        r->segment++;
        distro_u16_reader_init(&r->cur, text, strlen(text));
    }
}

static void distro_tostring_reader_init(distro_tostring_reader *r, const distro_instance *inst)
{
    SIM_ASSERT(inst->ip != NULL);
    SIM_ASSERT(inst->port <= (uint32_t)INT32_MAX); /* a Java int */
    r->inst = inst;
    r->segment = 0;
    r->number[0] = '\0';
    distro_u16_reader_init(&r->cur, "", 0);
}

/* qsort comparator over `const distro_instance *`: toString() in Java
 * String order, then position in the caller's array (invariant (2); the
 * pointers all point into that one array, so `<` on them is defined). */
static int distro_instance_order_cmp(const void *pa, const void *pb)
{
    const distro_instance *a = *(const distro_instance *const *)pa;
    const distro_instance *b = *(const distro_instance *const *)pb;
    if (a == b) return 0;
    distro_tostring_reader ra;
    distro_tostring_reader rb;
    distro_tostring_reader_init(&ra, a);
    distro_tostring_reader_init(&rb, b);
    for (;;) { /* bound: the length of the shorter toString() */
        uint16_t ua = 0;
        uint16_t ub = 0;
        bool more_a = distro_tostring_next(&ra, &ua);
        bool more_b = distro_tostring_next(&rb, &ub);
        if (!more_a || !more_b) {
            if (more_a != more_b) return (int)more_a - (int)more_b;
            break;
        }
        if (ua != ub) return ua < ub ? -1 : 1;
    }
    return a < b ? -1 : 1;
}

/* --- Canonical string and MD5 ------------------------------------------ */

/* Where emitted bytes go: an MD5 context, a buffer of known size, or
 * nowhere (a first pass that only counts). */
typedef struct distro_sink {
    MD5_CTX *md5;
    char *buf;
    size_t cap;
    size_t len;
} distro_sink;

static void distro_sink_bytes(distro_sink *sink, const char *bytes, size_t n)
{
    if (sink->md5 != NULL) MD5Update(sink->md5, (const uint8_t *)bytes, n);
    if (sink->buf != NULL) {
        SIM_ASSERT(n <= sink->cap - sink->len);
        memcpy(sink->buf + sink->len, bytes, n);
    }
    sink->len += n;
}

/* Emits `s` as Java's getBytes(UTF_8) would after decoding it: valid
 * sequences unchanged, each malformed one as EF BF BD (U+FFFD). */
static void distro_sink_text(distro_sink *sink, const char *s)
{
    size_t len = strlen(s);
    size_t pos = 0;
    size_t run = 0; /* start of the current run of valid bytes */
    while (pos < len) { /* bound: invariant (1) */
        size_t at = pos;
        uint16_t units[2];
        bool valid = false;
        (void)distro_utf8_step((const unsigned char *)s, len, &pos, units, &valid);
        if (!valid) {
            distro_sink_bytes(sink, s + run, at - run);
            distro_sink_bytes(sink, "\xEF\xBF\xBD", 3);
            run = pos;
        }
    }
    distro_sink_bytes(sink, s + run, len - run);
}

static bool distro_kv_before(const distro_kv *md, uint32_t i, uint32_t j)
{
    int c = distro_java_string_compare(md[i].key, md[j].key);
    return c < 0 || (c == 0 && i < j);
}

/* Emits "k:v," per key in ascending Java String order.  The struct keeps
 * its metadata sorted, but this does not rely on it: when the keys are out
 * of order it selects the next key each round, O(m^2) for m keys and no
 * allocation (metadata maps hold a handful of keys). */
static void distro_emit_metadata(distro_sink *sink, const distro_instance *inst)
{
    const distro_kv *md = inst->metadata;
    uint32_t m = inst->metadata_count;
    SIM_ASSERT(md != NULL || m == 0);
    bool sorted = true;
    for (uint32_t i = 1; i < m && sorted; i++) sorted = distro_kv_before(md, i - 1, i);
    uint32_t prev = UINT32_MAX;
    for (uint32_t round = 0; round < m; round++) {
        uint32_t next = round;
        if (!sorted) {
            next = UINT32_MAX;
            for (uint32_t j = 0; j < m; j++) {
                if (prev != UINT32_MAX && !distro_kv_before(md, prev, j)) continue;
                if (next == UINT32_MAX || distro_kv_before(md, j, next)) next = j;
            }
        }
        SIM_ASSERT(next < m);
        SIM_ASSERT(md[next].key != NULL);
        SIM_ASSERT(md[next].value != NULL);
        distro_sink_text(sink, md[next].key);
        distro_sink_bytes(sink, ":", 1);
        distro_sink_text(sink, md[next].value);
        distro_sink_bytes(sink, ",", 1);
        prev = next;
    }
}

/* "ip:port_weight_healthy_enabled_cluster_M," for each instance in
 * `order` (2.6(a) step 2). */
static void distro_emit_list(distro_sink *sink, const distro_instance *const *order, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const distro_instance *inst = order[i];
        char number[DISTRO_DOUBLE_STRING_MAX];
        SIM_ASSERT(inst->ip != NULL);
        distro_sink_text(sink, inst->ip);
        int n = snprintf(number, sizeof number, ":%" PRIu32 "_", inst->port);
        SIM_ASSERT(n > 0 && (size_t)n < sizeof number);
        distro_sink_bytes(sink, number, (size_t)n);
        size_t w = distro_java_double_to_string(inst->weight, number, sizeof number);
        SIM_ASSERT(w < sizeof number);
        distro_sink_bytes(sink, number, w);
        distro_sink_text(sink, inst->healthy ? "_true" : "_false");
        distro_sink_text(sink, inst->enabled ? "_true_" : "_false_");
        distro_sink_text(sink, distro_cluster_name(inst));
        distro_sink_bytes(sink, "_", 1);
        distro_emit_metadata(sink, inst);
        distro_sink_bytes(sink, ",", 1);
    }
}

static void distro_order_fill(const distro_instance *list, size_t count, const distro_instance **order)
{
    SIM_ASSERT(list != NULL || count == 0);
    for (size_t i = 0; i < count; i++) order[i] = &list[i];
    if (count > 1) qsort(order, count, sizeof *order, distro_instance_order_cmp);
}

size_t distro_instance_canonical(const distro_instance *list, size_t count, char **out)
{
    SIM_ASSERT(out != NULL);
    *out = NULL;
    const distro_instance **order = malloc((count > 0 ? count : 1) * sizeof *order);
    if (order == NULL) return 0;
    distro_order_fill(list, count, order);

    distro_sink counter = {.md5 = NULL, .buf = NULL, .cap = 0, .len = 0};
    distro_emit_list(&counter, order, count);
    char *text = malloc(counter.len + 1);
    if (text != NULL) {
        distro_sink writer = {.md5 = NULL, .buf = text, .cap = counter.len, .len = 0};
        distro_emit_list(&writer, order, count);
        SIM_ASSERT(writer.len == counter.len);
        text[writer.len] = '\0';
        *out = text;
    }
    free(order);
    return text != NULL ? counter.len : 0;
}

void distro_instance_checksum_into(const distro_instance *list, size_t count,
                                   const distro_instance **order, char out_hex[33])
{
    SIM_ASSERT(order != NULL || count == 0);
    SIM_ASSERT(out_hex != NULL);
    distro_order_fill(list, count, order);
    MD5_CTX md5;
    MD5Init(&md5);
    distro_sink sink = {.md5 = &md5, .buf = NULL, .cap = 0, .len = 0};
    distro_emit_list(&sink, order, count);
    uint8_t digest[MD5_DIGEST_LENGTH];
    MD5Final(digest, &md5);
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < MD5_DIGEST_LENGTH; i++) {
        out_hex[2 * i] = hex[digest[i] >> 4];
        out_hex[2 * i + 1] = hex[digest[i] & 0x0Fu];
    }
    out_hex[2 * MD5_DIGEST_LENGTH] = '\0';
}

void distro_instance_checksum(const distro_instance *list, size_t count, char out_hex[33])
{
    const distro_instance *stack_order[DISTRO_CHECKSUM_STACK_ORDER];
    const distro_instance **order = stack_order;
    if (count > DISTRO_CHECKSUM_STACK_ORDER) {
        order = malloc(count * sizeof *order);
        SIM_ASSERT(order != NULL); /* no way to report it here: see the header */
    }
    distro_instance_checksum_into(list, count, order, out_hex);
    if (order != stack_order) free(order);
}
