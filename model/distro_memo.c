/* distro_memo.c: the receiver memo of the verify and health-status channels.
 *
 * Not a Nacos component: a cache of work Nacos repeats.  Every 5 s each
 * node sends {key: checksum} for the keys it owns to every peer, twice
 * (verify, section 2.5, and the service-status channel, section 2.6(b)),
 * and each receiver compares every key with its own copy: in a 50-node
 * cluster with 100,000 services that is ten million comparisons every 5 s,
 * nearly all of them finding nothing, and each a random read of a large
 * table.  A comparison's outcome depends only on the message's keys and
 * checksums and on the receiver's store, member list and view, so:
 *
 *   - a sender gives each message a content id, the same as its previous
 *     message's when keys and checksums are byte for byte the same;
 *   - a receiver's memo_epoch changes with every change of its store
 *     (distro_store_put), member list or view (set_healthy), and starts
 *     again with a new incarnation;
 *   - a receiver that found nothing to do (nothing to fetch, remove or
 *     abort) notes (content id, epoch) for that source; a message with the
 *     same content id at the same epoch would find nothing again, and is
 *     skipped.
 *
 * The sender's side of the same argument: a message's keys and checksums
 * depend only on the sender's store and view (its owned keys, their lists'
 * checksums, for the status channel the namespaces of its services), which
 * is what memo_epoch follows.  So a round at the epoch of the sender's last
 * round sends that round's message again (verify_run, service_reporter)
 * instead of reading every owned key's datum and list to build the same
 * bytes: 2,000 owned keys per node every 5 s, twice, were 8 % of the
 * 1-hour tcp bench.  Messages are immutable once built, so sharing one
 * between rounds is as sharing it between peers.
 *
 * The message is still sent, delivered and answered, with its size, and
 * every outcome that does something is computed in full.  Turning the memo
 * off (distro_config.shortcuts = false) must not change a run: the test
 * test_shortcuts_equivalence compares the scenario library's runs both
 * ways, trace hashes included. */
#include "distro_int.h"

#include <string.h>

void distro_memo_touch(distro_node *node)
{
    node->memo_epoch++;
}

void distro_memo_stamp(distro_node *node, distro_msg **last, distro_msg *msg)
{
    const distro_msg *prev = *last;
    /* An empty message (the health channel sends one for an empty
     * namespace) may have NULL arrays, which memcmp must not see. */
    if (prev != NULL && prev->count == msg->count &&
        (msg->count == 0 ||
         (memcmp(prev->keys, msg->keys, msg->count * sizeof *msg->keys) == 0 &&
          memcmp(prev->checksums, msg->checksums, msg->count * sizeof *msg->checksums) == 0))) {
        msg->content_id = prev->content_id;
        return;
    }
    msg->content_id = ++node->cluster->content_ids;
    distro_msg_unref(*last);   /* NULL is a no-op */
    sim_payload_retain(&msg->base);
    *last = msg;
}

bool distro_memo_hit(distro_node *node, const distro_memo *memo, const distro_msg *msg)
{
    if (!node->cluster->config.shortcuts || memo->content_id != msg->content_id ||
        memo->epoch != node->memo_epoch) {
        return false;
    }
    node->cluster->memo_hits++;
    return true;
}

uint64_t distro_cluster_memo_hits(const distro_cluster *c)
{
    return c->memo_hits;
}

void distro_memo_note(const distro_node *node, distro_memo *memo, const distro_msg *msg)
{
    memo->content_id = msg->content_id;
    memo->epoch = node->memo_epoch;
}
