/* test_distro_hash.c: the pure Nacos functions of model/distro_hash.h and
 * the instance helpers of model/distro_instance.h.
 *
 * Expected values come from two places, and each table says which:
 *   - NACOS-DISTRO.md section 9 (9.1 hash rows, 9.2 checksum vectors);
 *   - the JDK itself (OpenJDK 17 and Temurin 25, which agree on every value
 *     used here): a throwaway program ran String.hashCode, String.compareTo,
 *     new String(bytes, UTF_8), Double.toString, and a transcription of
 *     Instances.getChecksum (Collections.sort by Instance.toString, then
 *     MessageDigest MD5 of getBytes(UTF_8)).  Their output is pasted below;
 *     nothing here was produced by the code under test. */
#include <check.h>
#include <math.h>
#include <md5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "distro_hash.h"
#include "distro_instance.h"

/* --- helpers ------------------------------------------------------------- */

/* A list of owned instances built through the public setters, and their
 * borrowed views (what the checksum functions read), refreshed by
 * tst_view. */
typedef struct tst_list {
    distro_instance_owned own[8];
    distro_instance inst[8];
    size_t count;
} tst_list;

static distro_instance_owned *tst_add(tst_list *l, const char *ip, uint32_t port)
{
    ck_assert_uint_lt(l->count, 8);
    distro_instance_owned *inst = &l->own[l->count++];
    distro_instance_owned_init(inst);
    ck_assert_int_eq(distro_instance_set(inst, ip, port, 1.0, NULL), 0);
    return inst;
}

static const distro_instance *tst_view(tst_list *l)
{
    for (size_t i = 0; i < l->count; i++) l->inst[i] = l->own[i].inst;
    return l->inst;
}

static void tst_put(distro_instance_owned *inst, const char *k, const char *v)
{
    ck_assert_int_eq(distro_instance_metadata_put(inst, k, v), 0);
}

static void tst_list_deinit(tst_list *l)
{
    for (size_t i = 0; i < l->count; i++) distro_instance_deinit(&l->own[i]);
    l->count = 0;
}

/* Asserts the canonical string and the checksum of `l`, and that the
 * checksum is the MD5 of the canonical string (both variants). */
static void tst_expect(const distro_instance *list, size_t count, const char *canonical, const char *md5)
{
    char *text = NULL;
    size_t len = distro_instance_canonical(list, count, &text);
    ck_assert_ptr_nonnull(text);
    ck_assert_str_eq(text, canonical);
    ck_assert_uint_eq(len, strlen(canonical));

    char hex[33];
    distro_instance_checksum(list, count, hex);
    ck_assert_str_eq(hex, md5);

    const distro_instance *order[8];
    char hex_into[33];
    ck_assert_uint_le(count, 8);
    distro_instance_checksum_into(list, count, order, hex_into);
    ck_assert_str_eq(hex_into, md5);

    char from_text[MD5_DIGEST_STRING_LENGTH];
    MD5Data((const uint8_t *)text, len, from_text);
    ck_assert_str_eq(from_text, md5);
    free(text);
}

/* --- 9.1 and the hash ------------------------------------------------------ */

typedef struct tst_hash_row {
    const char *tag;
    int32_t java_hash;
    uint32_t distro_hash;
    size_t mod3;
    size_t mod2;
} tst_hash_row;

/* NACOS-DISTRO.md 9.1. */
static const tst_hash_row tst_rows_9_1[] = {
    {"DEFAULT_GROUP@@demo-service", 1092918732, 1092918732u, 0, 0},
    {"DEFAULT_GROUP@@com.taobao.service", 614666819, 614666819u, 2, 1},
    {"127.0.0.1:8080", -35736627, 35736627u, 0, 1},
    {"192.168.1.10:20880", 1579419571, 1579419571u, 1, 1},
    {"1.1.1.1:0", 2095561520, 2095561520u, 2, 0},
};

START_TEST(test_hash_vectors_9_1)
{
    const tst_hash_row *row = &tst_rows_9_1[_i];
    ck_assert_int_eq(distro_java_string_hash(row->tag), row->java_hash);
    ck_assert_uint_eq(distro_hash(row->tag), row->distro_hash);
    ck_assert_uint_eq(distro_mapper_index(row->tag, 3), row->mod3);
    ck_assert_uint_eq(distro_mapper_index(row->tag, 2), row->mod2);
    ck_assert_uint_eq(distro_mapper_index(row->tag, 1), 0);
}
END_TEST

START_TEST(test_hash_integer_min_value)
{
    /* JDK: "polygenelubricants".hashCode() == Integer.MIN_VALUE, and
     * Math.abs(Integer.MIN_VALUE % Integer.MAX_VALUE) == 1 (section 9.1). */
    ck_assert_int_eq(distro_java_string_hash("polygenelubricants"), INT32_MIN);
    ck_assert_uint_eq(distro_hash("polygenelubricants"), 1);
    ck_assert_uint_eq(distro_hash_from_java(INT32_MIN), 1);
    ck_assert_uint_eq(distro_hash_from_java(INT32_MIN + 1), 0);  /* -2147483647 rem M = 0 */
    ck_assert_uint_eq(distro_hash_from_java(INT32_MAX), 0);
    ck_assert_uint_eq(distro_hash_from_java(INT32_MAX - 1), 2147483646u);
    ck_assert_uint_eq(distro_hash_from_java(-1), 1);
    ck_assert_uint_eq(distro_hash_from_java(0), 0);
    ck_assert_int_eq(distro_java_string_hash(""), 0);
}
END_TEST

/* JDK String.hashCode and abs(h % Integer.MAX_VALUE) of the same text. */
static const tst_hash_row tst_rows_unicode[] = {
    {"DEFAULT_GROUP@@\xE6\x9C\x8D\xE5\x8A\xA1", 1863218037, 1863218037u, 0, 1},    /* 服务 */
    {"DEFAULT_GROUP@@caf\xC3\xA9", -1252027358, 1252027358u, 2, 0},                 /* café */
    {"DEFAULT_GROUP@@smile\xF0\x9F\x98\x80", 8599754, 8599754u, 2, 0},              /* U+1F600 */
    {"DEFAULT_GROUP@@\xEE\x80\x80x", 1864156857, 1864156857u, 0, 1},                /* U+E000 x */
};

START_TEST(test_hash_non_ascii)
{
    const tst_hash_row *row = &tst_rows_unicode[_i];
    ck_assert_int_eq(distro_java_string_hash(row->tag), row->java_hash);
    ck_assert_uint_eq(distro_hash(row->tag), row->distro_hash);
    ck_assert_uint_eq(distro_mapper_index(row->tag, 3), row->mod3);
    ck_assert_uint_eq(distro_mapper_index(row->tag, 2), row->mod2);
}
END_TEST

/* JDK: new String(bytes, StandardCharsets.UTF_8).hashCode(); the comment
 * gives the UTF-16 the JDK decoded. */
static const struct {
    const char *bytes;
    int32_t java_hash;
} tst_rows_malformed[] = {
    {"\xFF", 65533},                          /* fffd */
    {"a\x80" "b", 2124838},                   /* 0061 fffd 0062 */
    {"\xE1\x80", 65533},                      /* fffd (truncated) */
    {"\xE1\x80" "A", 2031588},                /* fffd 0041 */
    {"\xED\xA0\x80" "A", 2031588},            /* fffd 0041: an encoded surrogate is one U+FFFD */
    {"\xED\xA0", 65533},                      /* fffd */
    {"\xF0\x9F\x98", 65533},                  /* fffd (truncated) */
    {"\xF0\x9F" "AB", 62979294},              /* fffd 0041 0042 */
    {"\xC0\xAF", 2097056},                    /* fffd fffd (overlong) */
    {"\xE0\x80\x80", 65074269},               /* fffd fffd fffd (overlong) */
    {"\xF4\x90\x80\x80", 2017367872},         /* 4 x fffd (above U+10FFFF) */
    {"\xF5\x80\x80\x80", 2017367872},         /* 4 x fffd */
    {"\xC3", 65533},                          /* fffd */
    {"\xC3" "A", 2031588},                    /* fffd 0041 */
    {"\xF0\x9F\x98" "A", 2031588},            /* fffd 0041 */
};

START_TEST(test_hash_malformed_utf8)
{
    ck_assert_int_eq(distro_java_string_hash(tst_rows_malformed[_i].bytes), tst_rows_malformed[_i].java_hash);
}
END_TEST

/* --- String.compareTo -------------------------------------------------------- */

START_TEST(test_java_compare)
{
    /* Signs from the JDK's compareTo. */
    ck_assert_int_lt(distro_java_string_compare("a", "b"), 0);
    ck_assert_int_gt(distro_java_string_compare("abc", "ab"), 0);
    ck_assert_int_lt(distro_java_string_compare("ab", "abc"), 0);
    ck_assert_int_eq(distro_java_string_compare("abc", "abc"), 0);
    ck_assert_int_eq(distro_java_string_compare("", ""), 0);
    ck_assert_int_lt(distro_java_string_compare("", "a"), 0);
    ck_assert_int_lt(distro_java_string_compare("10.0.0.10:8848", "10.0.0.2:8848"), 0);
    ck_assert_int_lt(distro_java_string_compare("Z", "a"), 0);
    ck_assert_int_gt(distro_java_string_compare("caf\xC3\xA9", "cafe"), 0);
    /* U+E000 > U+1F600 in UTF-16 (0xE000 > 0xD83D), the reverse of UTF-8
     * byte order (EE < F0). */
    ck_assert_int_gt(distro_java_string_compare("\xEE\x80\x80", "\xF0\x9F\x98\x80"), 0);
    ck_assert_int_lt(strcmp("\xEE\x80\x80", "\xF0\x9F\x98\x80"), 0);
    /* U+FFFF > U+10000 (surrogate pair D800 DC00). */
    ck_assert_int_gt(distro_java_string_compare("\xEF\xBF\xBF", "\xF0\x90\x80\x80"), 0);
    ck_assert_int_lt(distro_java_string_compare("\xF0\x90\x80\x80", "\xEF\xBF\xBF"), 0);
    /* Two malformed byte strings that decode to the same text are equal. */
    ck_assert_int_eq(distro_java_string_compare("\xFF", "\xFE"), 0);
}
END_TEST

START_TEST(test_java_compare_ascii_is_strcmp)
{
    static const char *const words[] = {"", "a", "ab", "b", "B", "10.0.0.1:8848", "10.0.0.10:8848",
                                        "10.0.0.2:8848", "~", " ", "DEFAULT_GROUP@@x"};
    size_t n = sizeof words / sizeof words[0];
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            int want = strcmp(words[i], words[j]);
            int got = distro_java_string_compare(words[i], words[j]);
            ck_assert_int_eq((want > 0) - (want < 0), (got > 0) - (got < 0));
        }
    }
}
END_TEST

/* --- Double.toString --------------------------------------------------------- */

START_TEST(test_double_to_string)
{
    /* JDK Double.toString of the same double values. */
    static const struct {
        double d;
        const char *java;
    } rows[] = {
        {1.0, "1.0"}, {0.5, "0.5"}, {100.0, "100.0"}, {0.01, "0.01"}, {2.0, "2.0"},
        {1.0e7, "1.0E7"}, {1.0e-4, "1.0E-4"}, {12.345, "12.345"}, {0.1 + 0.2, "0.30000000000000004"},
        {0.001, "0.001"}, {9999999.0, "9999999.0"}, {0.000999, "9.99E-4"}, {10000.0, "10000.0"},
        {-0.0, "-0.0"}, {0.0, "0.0"}, {1.0 / 3.0, "0.3333333333333333"}, {123456.789, "123456.789"},
        {0.002, "0.002"}, {1.7976931348623157e308, "1.7976931348623157E308"}, {0.3, "0.3"},
        {1.5e-5, "1.5E-5"}, {0.07, "0.07"}, {1234567.0, "1234567.0"}, {12345678.9, "1.23456789E7"},
        {0.1, "0.1"}, {0.7, "0.7"}, {1.1, "1.1"}, {3.3, "3.3"}, {9999.99, "9999.99"}, {0.015, "0.015"},
        {100.25, "100.25"}, {1e-5, "1.0E-5"}, {123.456e5, "1.23456E7"}, {-2.5, "-2.5"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char buf[DISTRO_DOUBLE_STRING_MAX];
        size_t len = distro_java_double_to_string(rows[i].d, buf, sizeof buf);
        ck_assert_str_eq(buf, rows[i].java);
        ck_assert_uint_eq(len, strlen(rows[i].java));
    }
}
END_TEST

START_TEST(test_double_to_string_special)
{
    char buf[DISTRO_DOUBLE_STRING_MAX];
    distro_java_double_to_string(NAN, buf, sizeof buf);
    ck_assert_str_eq(buf, "NaN");
    distro_java_double_to_string(INFINITY, buf, sizeof buf);
    ck_assert_str_eq(buf, "Infinity");
    distro_java_double_to_string(-INFINITY, buf, sizeof buf);
    ck_assert_str_eq(buf, "-Infinity");
    /* snprintf semantics: truncated but terminated, full length returned. */
    char small[4];
    ck_assert_uint_eq(distro_java_double_to_string(12.345, small, sizeof small), 6);
    ck_assert_str_eq(small, "12.");
    ck_assert_uint_eq(distro_java_double_to_string(12.345, NULL, 0), 6);
    /* The longest output fits the documented bound. */
    ck_assert_uint_lt(distro_java_double_to_string(-2.2250738585072014e-308, buf, sizeof buf),
                      DISTRO_DOUBLE_STRING_MAX);
    ck_assert_str_eq(buf, "-2.2250738585072014E-308");
}
END_TEST

/* --- 9.2 and the instance-list checksum ---------------------------------- */

START_TEST(test_checksum_vectors_9_2)
{
    tst_list l = {.count = 0};
    tst_expect(tst_view(&l), 0, "", "d41d8cd98f00b204e9800998ecf8427e");

    tst_add(&l, "1.1.1.1", 8080);
    tst_expect(tst_view(&l), 1, "1.1.1.1:8080_1.0_true_true_DEFAULT_,", "7631f88e79d10bf2abf1da0b81748118");

    distro_instance_owned *second = tst_add(&l, "2.2.2.2", 9090);
    ck_assert_int_eq(distro_instance_set(second, "2.2.2.2", 9090, 2.0, "DEFAULT"), 0);
    second->inst.healthy = false;
    tst_put(second, "zone", "a");
    tst_put(second, "version", "1.0");
    const char *both = "1.1.1.1:8080_1.0_true_true_DEFAULT_,2.2.2.2:9090_2.0_false_true_DEFAULT_version:1.0,zone:a,,";
    tst_expect(tst_view(&l), 2, both, "53faf1250ac748c6acaa66583eeeba2d");

    /* The sort is on toString(), not on the input order. */
    distro_instance swapped[2] = {l.inst[1], l.inst[0]}; /* shallow: borrowed strings */
    tst_expect(swapped, 2, both, "53faf1250ac748c6acaa66583eeeba2d");
    ck_assert_str_eq(swapped[0].ip, "2.2.2.2"); /* the caller's array is not reordered */
    tst_list_deinit(&l);
}
END_TEST

START_TEST(test_checksum_port_zero_order)
{
    /* toString "1.1.1.1:unknown:..." sorts after "1.1.1.1:80:unknown:..."
     * ('u' > '8'), although "1.1.1.1:0_" < "1.1.1.1:80_".  JDK values. */
    tst_list l = {.count = 0};
    tst_add(&l, "1.1.1.1", 0);
    tst_add(&l, "1.1.1.1", 80);
    tst_expect(tst_view(&l), 2, "1.1.1.1:80_1.0_true_true_DEFAULT_,1.1.1.1:0_1.0_true_true_DEFAULT_,",
               "6edd5382e19bb5fa36f21ba1c5de4f3b");
    tst_list_deinit(&l);

    tst_add(&l, "10.0.0.2", 8848);
    tst_add(&l, "10.0.0.10", 8848);
    tst_add(&l, "9.0.0.1", 1);
    tst_expect(tst_view(&l), 3,
               "10.0.0.10:8848_1.0_true_true_DEFAULT_,10.0.0.2:8848_1.0_true_true_DEFAULT_,"
               "9.0.0.1:1_1.0_true_true_DEFAULT_,",
               "295483adcc4b954b0eb52f551c18be8d");
    tst_list_deinit(&l);
}
END_TEST

START_TEST(test_checksum_java_order_not_byte_order)
{
    /* Clusters U+E000 and U+1F600: Java puts the emoji first.  JDK values. */
    tst_list l = {.count = 0};
    ck_assert_int_eq(distro_instance_set(tst_add(&l, "x", 1), "1.1.1.1", 80, 1.0, "\xEE\x80\x80"), 0);
    ck_assert_int_eq(distro_instance_set(tst_add(&l, "x", 1), "1.1.1.1", 80, 1.0, "\xF0\x9F\x98\x80"), 0);
    tst_expect(tst_view(&l), 2,
               "1.1.1.1:80_1.0_true_true_\xF0\x9F\x98\x80_,1.1.1.1:80_1.0_true_true_\xEE\x80\x80_,",
               "c6901fa6b99fe7df76c5d4bc76b92c73");
    tst_list_deinit(&l);

    ck_assert_int_eq(distro_instance_set(tst_add(&l, "x", 1), "1.1.1.1", 80, 1.0, "\xE6\x9C\x8D\xE5\x8A\xA1"), 0);
    tst_put(&l.own[0], "zone", "caf\xC3\xA9");
    tst_expect(tst_view(&l), 1, "1.1.1.1:80_1.0_true_true_\xE6\x9C\x8D\xE5\x8A\xA1_zone:caf\xC3\xA9,,",
               "e1358d9ce6fcf5ade72ffbbdb781191b");
    tst_list_deinit(&l);
}
END_TEST

START_TEST(test_checksum_flags_and_ties)
{
    /* healthy and marked are in toString (so they order), marked is not in
     * the checksum string.  JDK values. */
    tst_list l = {.count = 0};
    distro_instance_owned *a = tst_add(&l, "1.1.1.1", 80);
    a->inst.marked = true;
    tst_put(a, "k", "marked");
    tst_put(tst_add(&l, "1.1.1.1", 80), "k", "unmarked");
    distro_instance_owned *c = tst_add(&l, "1.1.1.1", 80);
    c->inst.healthy = false;
    c->inst.enabled = false;
    tst_expect(tst_view(&l), 3,
               "1.1.1.1:80_1.0_false_false_DEFAULT_,1.1.1.1:80_1.0_true_true_DEFAULT_k:unmarked,,"
               "1.1.1.1:80_1.0_true_true_DEFAULT_k:marked,,",
               "14572c9a5f40142f1adab24dad7cd910");
    tst_list_deinit(&l);

    /* Equal toString(): the input order decides, as Java's stable sort. */
    tst_add(&l, "1.1.1.1", 80)->inst.enabled = false;
    tst_put(tst_add(&l, "1.1.1.1", 80), "x", "y");
    tst_expect(tst_view(&l), 2, "1.1.1.1:80_1.0_true_false_DEFAULT_,1.1.1.1:80_1.0_true_true_DEFAULT_x:y,,",
               "306f1e1d7718fcf946300f52f0b583dc");
    distro_instance swapped[2] = {l.inst[1], l.inst[0]};
    tst_expect(swapped, 2, "1.1.1.1:80_1.0_true_true_DEFAULT_x:y,,1.1.1.1:80_1.0_true_false_DEFAULT_,",
               "f02d1285790bdb73f2af07a845c17dc3");
    tst_list_deinit(&l);
}
END_TEST

START_TEST(test_checksum_many_instances)
{
    /* More than the 64 pointers distro_instance_checksum keeps on the stack:
     * the malloc path must agree with the canonical string. */
    enum { N = 200 };
    distro_instance_owned *owned = calloc(N, sizeof *owned);
    distro_instance *list = calloc(N, sizeof *list);
    ck_assert_ptr_nonnull(owned);
    ck_assert_ptr_nonnull(list);
    for (unsigned i = 0; i < N; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.0.%u.%u", (N - i) / 7, (i * 37u) % 251u);
        distro_instance_owned_init(&owned[i]);
        ck_assert_int_eq(distro_instance_set(&owned[i], ip, 8000 + i % 3, 0.5 * (i % 5), NULL), 0);
        list[i] = owned[i].inst;
    }
    char *text = NULL;
    size_t len = distro_instance_canonical(list, N, &text);
    ck_assert_ptr_nonnull(text);
    char want[MD5_DIGEST_STRING_LENGTH];
    MD5Data((const uint8_t *)text, len, want);
    char got[33];
    distro_instance_checksum(list, N, got);
    ck_assert_str_eq(got, want);
    /* Input order does not matter when toString() values are distinct. */
    for (unsigned i = 0; i < N / 2; i++) {
        distro_instance t = list[i];
        list[i] = list[N - 1 - i];
        list[N - 1 - i] = t;
    }
    distro_instance_checksum(list, N, got);
    ck_assert_str_eq(got, want);
    ck_assert_int_eq(distro_instance_owned_checksum(owned, N, got), 0);
    ck_assert_str_eq(got, want);
    free(text);
    for (unsigned i = 0; i < N; i++) distro_instance_deinit(&owned[i]);
    free(owned);
    free(list);
}
END_TEST

/* --- instance helpers ------------------------------------------------------ */

START_TEST(test_weight_clamp)
{
    ck_assert_double_eq(distro_instance_weight_clamp(20000.0), 10000.0);
    ck_assert_double_eq(distro_instance_weight_clamp(10000.0), 10000.0);
    ck_assert_double_eq(distro_instance_weight_clamp(0.001), 0.01);
    ck_assert_double_eq(distro_instance_weight_clamp(0.01), 0.01);
    ck_assert_double_eq(distro_instance_weight_clamp(0.0), 0.0);
    ck_assert_double_eq(distro_instance_weight_clamp(-5.0), 0.0);
    ck_assert_double_eq(distro_instance_weight_clamp(0.5), 0.5);
    ck_assert(isnan(distro_instance_weight_clamp(NAN))); /* Java comparisons are all false */

    /* Through distro_instance_set, into the checksum.  JDK values. */
    static const double weights[] = {0.001, 20000.0, -5.0, 0.5, 12.345};
    tst_list l = {.count = 0};
    for (unsigned i = 0; i < 5; i++) {
        char ip[16];
        snprintf(ip, sizeof ip, "1.0.0.%u", i + 1);
        ck_assert_int_eq(distro_instance_set(tst_add(&l, ip, 1), ip, 1, weights[i], "DEFAULT"), 0);
    }
    ck_assert_double_eq(l.own[0].inst.weight, 0.01);
    tst_expect(tst_view(&l), 5,
               "1.0.0.1:1_0.01_true_true_DEFAULT_,1.0.0.2:1_10000.0_true_true_DEFAULT_,"
               "1.0.0.3:1_0.0_true_true_DEFAULT_,1.0.0.4:1_0.5_true_true_DEFAULT_,"
               "1.0.0.5:1_12.345_true_true_DEFAULT_,",
               "5f3816677e958b92e0bdd31d65e22562");
    tst_list_deinit(&l);
}
END_TEST

START_TEST(test_metadata_order)
{
    /* Keys put out of order; Java String order is B < a < b < é < U+1F600
     * < U+E000.  JDK values. */
    const char *want = "1.1.1.1:80_1.0_true_true_DEFAULT_B:3,a:1,b:2,\xC3\xA9:4,\xF0\x9F\x98\x80:5,\xEE\x80\x80:6,,";
    const char *md5 = "799a82b0cee9741ddf95c0b54958e0ac";
    tst_list l = {.count = 0};
    distro_instance_owned *inst = tst_add(&l, "1.1.1.1", 80);
    tst_put(inst, "b", "old");
    tst_put(inst, "\xEE\x80\x80", "6");
    tst_put(inst, "a", "1");
    tst_put(inst, "\xF0\x9F\x98\x80", "5");
    tst_put(inst, "B", "3");
    tst_put(inst, "\xC3\xA9", "4");
    tst_put(inst, "b", "2"); /* replaces */
    ck_assert_uint_eq(inst->inst.metadata_count, 6);
    static const char *const keys[] = {"B", "a", "b", "\xC3\xA9", "\xF0\x9F\x98\x80", "\xEE\x80\x80"};
    for (unsigned i = 0; i < 6; i++) ck_assert_str_eq(inst->metadata[i].key, keys[i]);
    ck_assert_str_eq(inst->metadata[2].value, "2");
    tst_expect(tst_view(&l), 1, want, md5);

    /* A struct filled by hand, keys unsorted: the checksum sorts a view. */
    distro_kv shuffled[6];
    static const unsigned perm[6] = {4, 2, 0, 5, 3, 1};
    for (unsigned i = 0; i < 6; i++) shuffled[i] = inst->metadata[perm[i]];
    distro_instance by_hand = inst->inst;
    by_hand.metadata = shuffled;
    tst_expect(&by_hand, 1, want, md5);
    ck_assert_str_eq(shuffled[0].key, inst->metadata[4].key); /* not reordered */
    tst_list_deinit(&l);
}
END_TEST

START_TEST(test_instance_lifecycle)
{
    distro_instance_owned inst;
    distro_instance_owned_init(&inst);
    ck_assert_ptr_null(inst.inst.ip);
    ck_assert_ptr_null(inst.inst.cluster);
    ck_assert_double_eq(inst.inst.weight, 1.0);
    ck_assert(inst.inst.healthy);
    ck_assert(inst.inst.enabled);
    ck_assert(inst.inst.ephemeral);
    ck_assert(!inst.inst.marked);
    ck_assert_uint_eq(inst.inst.metadata_count, 0);

    ck_assert_int_eq(distro_instance_set(&inst, "10.0.0.1", 8848, 3.0, NULL), 0);
    ck_assert_str_eq(inst.inst.cluster, "DEFAULT");
    ck_assert_int_eq(distro_instance_set(&inst, "10.0.0.2", 8849, 4.0, "c1"), 0); /* replaces */
    tst_put(&inst, "k", "v");

    distro_instance_owned copy;
    ck_assert_int_eq(distro_instance_copy(&copy, &inst.inst), 0);
    ck_assert_str_eq(copy.inst.ip, "10.0.0.2");
    ck_assert_ptr_ne(copy.inst.ip, inst.inst.ip);
    ck_assert_str_eq(copy.inst.cluster, "c1");
    ck_assert_uint_eq(copy.inst.port, 8849);
    ck_assert_double_eq(copy.inst.weight, 4.0);
    ck_assert_uint_eq(copy.inst.metadata_count, 1);
    ck_assert_ptr_ne(copy.inst.metadata, inst.inst.metadata);
    ck_assert_str_eq(copy.inst.metadata[0].value, "v");

    char a[33];
    char b[33];
    distro_instance_checksum(&inst.inst, 1, a);
    distro_instance_deinit(&inst);
    distro_instance_checksum(&copy.inst, 1, b);
    ck_assert_str_eq(a, b);

    distro_instance_deinit(&copy);
    distro_instance_deinit(&copy); /* twice is fine */
    ck_assert_ptr_null(copy.inst.ip);
    distro_instance_deinit(NULL);

    /* A NULL cluster reads as "DEFAULT" in the checksum. */
    distro_instance bare;
    distro_instance_init_defaults(&bare);
    bare.ip = "1.1.1.1"; /* borrowed; not deinit'd */
    bare.port = 8080;
    tst_expect(&bare, 1, "1.1.1.1:8080_1.0_true_true_DEFAULT_,", "7631f88e79d10bf2abf1da0b81748118");
}
END_TEST

static Suite *distro_hash_suite(void)
{
    Suite *s = suite_create("distro_hash");
    TCase *tc = tcase_create("java");
    tcase_add_loop_test(tc, test_hash_vectors_9_1, 0, (int)(sizeof tst_rows_9_1 / sizeof tst_rows_9_1[0]));
    tcase_add_test(tc, test_hash_integer_min_value);
    tcase_add_loop_test(tc, test_hash_non_ascii, 0, (int)(sizeof tst_rows_unicode / sizeof tst_rows_unicode[0]));
    tcase_add_loop_test(tc, test_hash_malformed_utf8, 0,
                        (int)(sizeof tst_rows_malformed / sizeof tst_rows_malformed[0]));
    tcase_add_test(tc, test_java_compare);
    tcase_add_test(tc, test_java_compare_ascii_is_strcmp);
    tcase_add_test(tc, test_double_to_string);
    tcase_add_test(tc, test_double_to_string_special);
    suite_add_tcase(s, tc);

    TCase *tc_sum = tcase_create("checksum");
    tcase_add_test(tc_sum, test_checksum_vectors_9_2);
    tcase_add_test(tc_sum, test_checksum_port_zero_order);
    tcase_add_test(tc_sum, test_checksum_java_order_not_byte_order);
    tcase_add_test(tc_sum, test_checksum_flags_and_ties);
    tcase_add_test(tc_sum, test_checksum_many_instances);
    suite_add_tcase(s, tc_sum);

    TCase *tc_inst = tcase_create("instance");
    tcase_add_test(tc_inst, test_weight_clamp);
    tcase_add_test(tc_inst, test_metadata_order);
    tcase_add_test(tc_inst, test_instance_lifecycle);
    suite_add_tcase(s, tc_inst);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(distro_hash_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
