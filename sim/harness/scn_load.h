/* scn_load.h: scenario files (YAML) -> scn_config, and one-key overrides.
 *
 * The loader reads a whole file (at most SCN_FILE_BYTES_MAX), checks it is
 * UTF-8 text, parses it with libfyaml, rejects what a scenario may not use
 * (anchors, aliases, tags, several documents, unknown or duplicate keys),
 * converts and range-checks every value, and fills a scn_config.  Nothing
 * is printed: every failure is a sim_error whose `where` is
 * "FILE:LINE:COLUMN" (1-based, pointing at the offending key or value) and
 * whose message starts with the key path ("network.links[2].loss: expected
 * a ratio between 0 and 1, got 1.5").  A command-line tool prints
 * "where: message".
 *
 * Ownership: functions borrow their string arguments.  On success `*out`
 * owns its memory (release with scn_config_deinit); on failure `*out` is
 * zeroed and owns nothing, so calling scn_config_deinit on it is harmless. */
#ifndef SCN_LOAD_H
#define SCN_LOAD_H

#include <stddef.h>

#include "scn_config.h"
#include "sim_error.h"

/* `where` of errors raised by scn_config_set. */
#define SCN_SET_WHERE "command line"

/* Loads and validates the scenario file at `path`.  SIM_ERR_SCENARIO for
 * any problem with the content (where = "path:line:col", or "path:1:1" for
 * whole-file problems such as size or encoding), SIM_ERR_IO when the file
 * cannot be read (where = path), SIM_ERR_NOMEM when memory runs out. */
SIM_MUST_CHECK sim_status scn_load_file(const char *path, scn_config *out, sim_error *err);

/* The same for `len` bytes of `text` (need not be NUL-terminated); `name`
 * stands for the file name in error positions. */
SIM_MUST_CHECK sim_status scn_load_string(const char *name, const char *text, size_t len,
                                          scn_config *out, sim_error *err);

/* Overrides one scalar of a loaded config from the command line, e.g.
 * ("cluster.distro.verify_interval", "2s"), ("network.loss", "0.1"),
 * ("workload.services", "100").  `value` is read like a YAML scalar with the
 * same conversions and messages as the loader; then the whole config is
 * revalidated (scn_config_validate), so a new cluster.nodes or duration that
 * leaves a fault out of range is refused.  Atomic: on failure `*config` is
 * unchanged and err->where is SCN_SET_WHERE.  Side effects that keep the
 * invariants: network.* also updates the fields that link overrides and
 * link faults inherit; cluster.nodes regenerates default addresses (and is
 * refused when the scenario lists its own) and a default nemesis.max_down;
 * phases.* enables phases and sets duration; nemesis.* enables the nemesis.
 * Borrows `dotted_key` and `value`; may replace owned strings of *config. */
SIM_MUST_CHECK sim_status scn_config_set(scn_config *config, const char *dotted_key,
                                         const char *value, sim_error *err);
/* network.latency and nemesis.kinds take a YAML flow value through
 * scn_config_set too: "{dist: normal, mean: 2ms, stddev: 500us}", "[crash]".
 * A key of the scenario's swarm block set this way leaves the block: the
 * command line pins it. */

/* One key of a swarm draw (scn_swarm.c): like scn_config_set, but the value
 * is always read as YAML text (a scalar, or a flow mapping or list) and the
 * whole config is not revalidated, so several keys can change before one
 * scn_config_validate; the swarm block is left as it is.  Atomic. */
SIM_MUST_CHECK sim_status scn_config_apply(scn_config *config, const char *dotted_key, const char *yaml_value,
                                           sim_error *err);

#endif
