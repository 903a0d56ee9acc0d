/* rpt_faultvfs.h: a fault-injection seam under the results database.
 *
 * Armed, it registers an SQLite VFS that wraps the default one as the new
 * default and makes the n-th call of one file operation fail, as SQLite
 * tests itself: every write, sync and lock failure path of rpt_db.c and the
 * commands above it can then be run on purpose.  Unarmed, nothing is
 * registered and SQLite runs as always.  Only the command line arms it
 * (DISTROSIM_FAIL_WRITE, _SYNC, _LOCK, _BUSY, read once in cli_main.c).
 * Calls are counted over every file SQLite opens through the VFS (the
 * database, its -wal, -shm and journals), from the first open on; arm it
 * before opening any database. */
#ifndef RPT_FAULTVFS_H
#define RPT_FAULTVFS_H

#include <stdbool.h>
#include <stdint.h>

typedef enum rpt_fault_op {
    RPT_FAULT_WRITE,            /* xWrite fails with SQLITE_IOERR_WRITE */
    RPT_FAULT_SYNC,             /* xSync fails with SQLITE_IOERR_FSYNC */
    RPT_FAULT_LOCK,             /* xLock fails with SQLITE_IOERR_LOCK */
    RPT_FAULT_BUSY,             /* xLock answers SQLITE_BUSY (another process holds it) */
    RPT_FAULT_OPS
} rpt_fault_op;

/* Makes the n-th call of `op` fail (only that one; n > 0) and installs the
 * VFS.  RPT_FAULT_LOCK and RPT_FAULT_BUSY count the same xLock calls.
 * False when SQLite would not register it. */
bool rpt_faultvfs_arm(rpt_fault_op op, uint64_t n);
/* Calls of `op`'s file operation counted so far. */
uint64_t rpt_faultvfs_calls(rpt_fault_op op);
/* True when `op` is armed and its n-th call was reached (and failed). */
bool rpt_faultvfs_failed(rpt_fault_op op);

#endif
