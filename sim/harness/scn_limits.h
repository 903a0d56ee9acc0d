/* scn_limits.h: the checks that keep a scenario's run finite and its size
 * bounded, made before the run starts.
 *
 * scn_config_validate() calls scn_limits_check() as its last step, so the
 * loader (`distrosim validate`, `run`, `check`, `sweep`) and every
 * `--set` override refuse the same scenarios with the same words; the
 * loader adds the file position of the key each message starts with.
 * What is checked, in this order:
 *   (1) expect.counters names the model's counters (run_scenario refuses
 *       the others);
 *   (2) no scripted clock fault sets a node's clock before 0 (the engine
 *       refuses it when the fault fires);
 *   (3) timer periods, the nemesis interval and churn gaps are at least
 *       SCN_TIMER_FLOOR_NS;
 *   (4) the instance copies the run holds are at most SCN_INSTANCE_COPIES_MAX;
 *   (5) the estimated event count is at most the default cap
 *       SCN_EVENTS_ESTIMATE_MAX, unless engine.events_budget is set: an
 *       explicit budget bounds the run itself (it ends as an ERROR naming
 *       the budget when it is spent), so it replaces the cap. */
#ifndef SCN_LIMITS_H
#define SCN_LIMITS_H

#include <stdint.h>

#include "scn_config.h"
#include "sim_error.h"

/* Floor of every repeating timer: the Distro periods (task_tick,
 * verify_interval, beat_check_interval, ...), their retry delays, the
 * client beat, the nemesis interval and the mean gap between churn events.
 * Nacos reads all of its timers in milliseconds (the delay-task engine and
 * the retry delays of the model are in milliseconds too), so a shorter
 * period is not a Nacos setting; and a 1 ns period makes a one-minute run
 * take 6 * 10^10 events per timer, which never finishes. */
#define SCN_TIMER_FLOOR_NS SIM_MS

/* Churn rates above one event per SCN_TIMER_FLOOR_NS on average:
 * 60000 per minute, in the thousandths the config stores. */
#define SCN_CHURN_PER_MIN_MILLI_FLOOR_MAX (60000u * 1000u)

/* Instance copies: every node keeps every instance and every client is
 * one more record, so a run holds (nodes + 1) x clients of them, where
 * clients = services x instances_per_service plus the expected churn
 * registrations.  The 50-node, 100,000-instance benchmark (5.1 M copies)
 * peaks at 551 MB, about 110 bytes each, so 10^7 copies stay near 1 GB. */
#define SCN_INSTANCE_COPIES_MAX 10000000ull

/* Default cap on a run's estimated events (scn_events_estimate) when
 * engine.events_budget is not set.  The model runs 1 to 10 M events per
 * second on this project's machine (1 M with 50 nodes), so 10^9 events is
 * two to fifteen minutes of wall time for one seed; a bigger run sets
 * engine.events_budget. */
#define SCN_EVENTS_ESTIMATE_MAX 1000000000ull

/* (nodes + 1) x clients, as (4) counts them.  Saturates at UINT64_MAX. */
uint64_t scn_instance_copies(const scn_config *config);

/* Events the run will take, estimated from its timers, clients and
 * registrations (see scn_limits.c); within a factor of about two of the
 * real count for the scenario library.  Saturates at UINT64_MAX. */
uint64_t scn_events_estimate(const scn_config *config);

/* Checks (1) to (5) of a config that passed every other check of
 * scn_config_validate.  err->where is `where`; the message starts with the
 * key path it is about ("cluster.distro.task_tick: ..."). */
SIM_MUST_CHECK sim_status scn_limits_check(const scn_config *config, const char *where, sim_error *err);

#endif
