/* test_distro2_revision.c: the 2.x revision of model/distro2_revision.h
 * (NACOS-DISTRO.md sections 3.6, 7.2 and 9.3).
 *
 * Expected values come from two places, and each test says which:
 *   - Nacos 2.5.1's own tests, DistroUtilsTest and IpPortBasedClientTest
 *     (NACOS-DISTRO.md 7.2 and 9.3);
 *   - the JDK (OpenJDK 17): a throwaway program built each client with
 *     java.util.HashMap / HashSet and called Objects.hash exactly as
 *     DistroUtils.hash does.  Its output is pasted below; nothing here was
 *     produced by the code under test. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "distro2_revision.h"

#define V_STR(x) {.kind = DISTRO2_VALUE_STRING, .s = (x)}
#define V_BOOL(x) {.kind = DISTRO2_VALUE_BOOLEAN, .b = (x)}
#define V_INT(x) {.kind = DISTRO2_VALUE_INTEGER, .i = (x)}
#define V_LONG(x) {.kind = DISTRO2_VALUE_LONG, .i = (x)}
#define V_DOUBLE(x) {.kind = DISTRO2_VALUE_DOUBLE, .d = (x)}
#define V_NULL {.kind = DISTRO2_VALUE_NULL}

/* DistroUtilsTest.buildClient: one service testNamespace-1 / testGroup-1 /
 * testName-1. */
static distro2_publish tst_publish(const char *ip, uint32_t port, bool ephemeral, bool healthy, const char *cluster,
                                   const distro2_extend *ext, uint32_t ext_count)
{
    return (distro2_publish){
        .namespace_id = "testNamespace-1", .group = "testGroup-1", .service = "testName-1",
        .ephemeral = ephemeral, .ip = ip, .port = port, .healthy = healthy, .cluster = cluster,
        .extend = ext, .extend_count = ext_count,
    };
}

/* NACOS-DISTRO.md 9.3, DistroUtilsTest.testHash0 / testRevision0 /
 * testChecksum0 / testBuildUniqueString0 (client0). */
START_TEST(test_vector_9_3_client0)
{
    distro2_publish p = tst_publish("127.0.0.1", 8848, false, true, "DEFAULT", NULL, 0);
    ck_assert_int_eq(distro2_ipport_revision("127.0.0.1:8848#false", &p, 1), -1320954445);
    char *s = distro2_unique_string("127.0.0.1:8848#false", &p, 1);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "127.0.0.1:8848#false|testNamespace-1##testGroup-1@@testName-1##false_127.0.0.1:8848_1.0"
                        "_true_true_DEFAULT_,");
    free(s);
    int32_t h = 0;
    ck_assert(distro2_string_hash("127.0.0.1:8848#false", &p, 1, &h));
    ck_assert_int_eq(h, -1713189600);
    char hex[33];
    ck_assert(distro2_checksum("127.0.0.1:8848#false", &p, 1, hex));
    ck_assert_str_eq(hex, "2a3f62f84a4b6f2a979434276d546ac1");
}
END_TEST

/* DistroUtilsTest.testBuildUniqueString1: metadata order (Custom.* first,
 * then publishInstanceEnable, then publishInstanceWeight), null prints as
 * "null", a Long weight 2 prints 2.0 as the weight and 2 as metadata.  The
 * hash of the same client: the JDK. */
START_TEST(test_distro_utils_unique_string1)
{
    const distro2_extend ext[] = {
        {DISTRO2_PUBLISH_WEIGHT, V_LONG(2)},
        {DISTRO2_PUBLISH_ENABLE, V_BOOL(false)},
        {"Custom.metadataId1", V_STR("abc")},
        {"Custom.metadataId2", V_INT(123)},
        {"Custom.metadataId3", V_NULL},
    };
    distro2_publish p = tst_publish("128.0.0.1", 8848, false, false, "DEFAULT", ext, 5);
    char *s = distro2_unique_string("128.0.0.1:8848#false", &p, 1);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "128.0.0.1:8848#false|testNamespace-1##testGroup-1@@testName-1##false_128.0.0.1:8848_2.0"
                        "_false_false_DEFAULT_Custom.metadataId1:abc,Custom.metadataId2:123,Custom.metadataId3:null,"
                        "publishInstanceEnable:false,publishInstanceWeight:2,,");
    free(s);
    int32_t h = 0;
    ck_assert(distro2_string_hash("128.0.0.1:8848#false", &p, 1, &h));
    ck_assert_int_eq(h, 2128732271);
    char hex[33];
    ck_assert(distro2_checksum("128.0.0.1:8848#false", &p, 1, hex));
    ck_assert_str_eq(hex, "ac9bf94dc4bd6a35e5ff9734868eafea");
    ck_assert_int_eq(distro2_ipport_revision("128.0.0.1:8848#false", &p, 1), -856673335);   /* JDK */
}
END_TEST

/* DistroUtilsTest.testBuildUniqueString2. */
START_TEST(test_distro_utils_unique_string2)
{
    const distro2_extend ext[] = {
        {DISTRO2_PUBLISH_WEIGHT, V_LONG(2)},
        {DISTRO2_PUBLISH_ENABLE, V_BOOL(true)},
        {"Custom.metadataId1", V_STR("abc")},
    };
    distro2_publish p = tst_publish("128.0.0.2", 7001, true, false, "cluster1", ext, 3);
    int32_t h = 0;
    ck_assert(distro2_string_hash("128.0.0.2:7001#true", &p, 1, &h));
    ck_assert_int_eq(h, 775352583);
    char hex[33];
    ck_assert(distro2_checksum("128.0.0.2:7001#true", &p, 1, hex));
    ck_assert_str_eq(hex, "82d8e086a880f088320349b895b22948");
}
END_TEST

/* IpPortBasedClientTest: an empty client's recalculateRevision. */
START_TEST(test_empty_client_revision)
{
    ck_assert_int_eq(distro2_ipport_revision("127.0.0.1:80#true", NULL, 0), -1531701243);
}
END_TEST

/* Three services, a Double weight (2.5), one unhealthy, a blank cluster
 * ("DEFAULT"), given in any order: the JDK says -350091121. */
START_TEST(test_multi_service_any_order)
{
    const distro2_extend ext[] = {{DISTRO2_PUBLISH_WEIGHT, V_DOUBLE(2.5)}, {"zone", V_STR("a")}};
    distro2_publish p[3];
    for (unsigned i = 0; i < 3; i++) {
        static const char *const names[3] = {"svc-1", "svc-2", "svc-3"};
        p[i] = (distro2_publish){.namespace_id = "public", .group = "DEFAULT_GROUP", .service = names[i],
                                 .ephemeral = true, .ip = "10.1.2.3", .port = 8080, .healthy = i != 1,
                                 .cluster = i == 2 ? "" : "c1", .extend = ext, .extend_count = 2};
    }
    ck_assert_int_eq(distro2_ipport_revision("10.1.2.3:8080#true", p, 3), -350091121);
    distro2_publish r[3] = {p[2], p[0], p[1]};
    ck_assert_int_eq(distro2_ipport_revision("10.1.2.3:8080#true", r, 3), -350091121);
    /* The health flag is part of the hash (a re-register that changes it
     * changes the revision). */
    p[1].healthy = true;
    ck_assert_int_ne(distro2_ipport_revision("10.1.2.3:8080#true", p, 3), -350091121);
}
END_TEST

/* A weight or enable flag of the wrong Java type is ignored (1.0, true),
 * but still hashed as metadata; a Double elsewhere hashes by its bits; a
 * Long by both halves (the JDK: 2105830867, 593608118). */
START_TEST(test_value_types)
{
    const distro2_extend ext[] = {
        {DISTRO2_PUBLISH_WEIGHT, V_STR("3")}, {DISTRO2_PUBLISH_ENABLE, V_STR("false")}, {"k", V_DOUBLE(1.5)}};
    distro2_publish p = {.namespace_id = "ns", .group = "g", .service = "n", .ephemeral = true, .ip = "1.1.1.1",
                         .port = 1, .healthy = true, .cluster = "DEFAULT", .extend = ext, .extend_count = 3};
    ck_assert(distro2_publish_weight(&p) == 1.0);
    ck_assert(distro2_publish_enabled(&p));
    ck_assert_int_eq(distro2_ipport_revision("1.1.1.1:1#true", &p, 1), 2105830867);
    const distro2_extend big[] = {{"big", V_LONG(5000000000LL)}};
    p.extend = big;
    p.extend_count = 1;
    ck_assert_int_eq(distro2_ipport_revision("1.1.1.1:1#true", &p, 1), 593608118);
}
END_TEST

/* The Set sums distinct inner hashes (Collectors.toSet): a service listed
 * twice with the same content counts once. */
START_TEST(test_set_sums_distinct)
{
    distro2_publish p = tst_publish("127.0.0.1", 8848, false, true, "DEFAULT", NULL, 0);
    distro2_publish twice[2] = {p, p};
    ck_assert_int_eq(distro2_ipport_revision("127.0.0.1:8848#false", twice, 2), -1320954445);
}
END_TEST

static Suite *distro2_revision_suite(void)
{
    Suite *s = suite_create("distro2_revision");
    TCase *tc = tcase_create("DistroUtils");
    tcase_add_test(tc, test_vector_9_3_client0);
    tcase_add_test(tc, test_distro_utils_unique_string1);
    tcase_add_test(tc, test_distro_utils_unique_string2);
    tcase_add_test(tc, test_empty_client_revision);
    tcase_add_test(tc, test_multi_service_any_order);
    tcase_add_test(tc, test_value_types);
    tcase_add_test(tc, test_set_sums_distinct);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(distro2_revision_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
