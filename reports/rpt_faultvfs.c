/* rpt_faultvfs.c: the fault-injection VFS (rpt_faultvfs.h).  With rpt_db.c
 * the only file that includes sqlite3.h.
 *
 * A wrapped file is this file's header followed by the default VFS's own
 * file object; every method forwards to it, and xWrite, xSync and xLock
 * first ask whether this call is the one to fail.  The database is used by
 * one thread only (rpt_db.h), so the counters need no lock. */
#include "rpt_faultvfs.h"

#include <sqlite3.h>

#include "sim_assert.h"

typedef struct rpt_fault_file {
    sqlite3_file base;          /* base.pMethods = &rpt_fault_io, or NULL when the open failed */
    sqlite3_file *real;         /* the wrapped VFS's file, right after this header */
} rpt_fault_file;

static uint64_t rpt_fault_at[RPT_FAULT_OPS];     /* the call to fail; 0 = none */
static uint64_t rpt_fault_calls[RPT_FAULT_OPS];
static sqlite3_vfs *rpt_fault_real;              /* the VFS wrapped */

static sqlite3_file *rpt_real(sqlite3_file *file)
{
    return ((rpt_fault_file *)file)->real;
}

/* Counts a call of `op` (and of `twin`, which counts the same calls) and
 * says whether it is the armed one of either. */
static bool rpt_fault_hit(rpt_fault_op op, rpt_fault_op twin)
{
    uint64_t n = ++rpt_fault_calls[op];
    if (twin != op) rpt_fault_calls[twin] = n;
    return n == rpt_fault_at[op] || (twin != op && n == rpt_fault_at[twin]);
}

/* --- File methods: forward, failing the armed call ------------------------------------- */

static int rpt_fault_close(sqlite3_file *f)
{
    return rpt_real(f)->pMethods->xClose(rpt_real(f));
}

static int rpt_fault_read(sqlite3_file *f, void *buf, int amount, sqlite3_int64 offset)
{
    return rpt_real(f)->pMethods->xRead(rpt_real(f), buf, amount, offset);
}

static int rpt_fault_write(sqlite3_file *f, const void *buf, int amount, sqlite3_int64 offset)
{
    if (rpt_fault_hit(RPT_FAULT_WRITE, RPT_FAULT_WRITE)) return SQLITE_IOERR_WRITE;
    return rpt_real(f)->pMethods->xWrite(rpt_real(f), buf, amount, offset);
}

static int rpt_fault_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return rpt_real(f)->pMethods->xTruncate(rpt_real(f), size);
}

static int rpt_fault_sync(sqlite3_file *f, int flags)
{
    if (rpt_fault_hit(RPT_FAULT_SYNC, RPT_FAULT_SYNC)) return SQLITE_IOERR_FSYNC;
    return rpt_real(f)->pMethods->xSync(rpt_real(f), flags);
}

static int rpt_fault_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return rpt_real(f)->pMethods->xFileSize(rpt_real(f), size);
}

static int rpt_fault_lock(sqlite3_file *f, int level)
{
    bool hit = rpt_fault_hit(RPT_FAULT_LOCK, RPT_FAULT_BUSY);
    if (hit && rpt_fault_calls[RPT_FAULT_LOCK] == rpt_fault_at[RPT_FAULT_LOCK]) return SQLITE_IOERR_LOCK;
    if (hit) return SQLITE_BUSY;
    return rpt_real(f)->pMethods->xLock(rpt_real(f), level);
}

static int rpt_fault_unlock(sqlite3_file *f, int level)
{
    return rpt_real(f)->pMethods->xUnlock(rpt_real(f), level);
}

static int rpt_fault_check_reserved(sqlite3_file *f, int *out)
{
    return rpt_real(f)->pMethods->xCheckReservedLock(rpt_real(f), out);
}

static int rpt_fault_control(sqlite3_file *f, int op, void *arg)
{
    return rpt_real(f)->pMethods->xFileControl(rpt_real(f), op, arg);
}

static int rpt_fault_sector_size(sqlite3_file *f)
{
    return rpt_real(f)->pMethods->xSectorSize(rpt_real(f));
}

static int rpt_fault_device(sqlite3_file *f)
{
    return rpt_real(f)->pMethods->xDeviceCharacteristics(rpt_real(f));
}

static int rpt_fault_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **out)
{
    return rpt_real(f)->pMethods->xShmMap(rpt_real(f), region, size, extend, out);
}

static int rpt_fault_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return rpt_real(f)->pMethods->xShmLock(rpt_real(f), offset, n, flags);
}

static void rpt_fault_shm_barrier(sqlite3_file *f)
{
    rpt_real(f)->pMethods->xShmBarrier(rpt_real(f));
}

static int rpt_fault_shm_unmap(sqlite3_file *f, int delete_flag)
{
    return rpt_real(f)->pMethods->xShmUnmap(rpt_real(f), delete_flag);
}

static int rpt_fault_fetch(sqlite3_file *f, sqlite3_int64 offset, int amount, void **out)
{
    return rpt_real(f)->pMethods->xFetch(rpt_real(f), offset, amount, out);
}

static int rpt_fault_unfetch(sqlite3_file *f, sqlite3_int64 offset, void *p)
{
    return rpt_real(f)->pMethods->xUnfetch(rpt_real(f), offset, p);
}

/* Version 3, as the unix VFS's files: rpt_fault_open refuses to wrap a
 * file whose methods are older, whose version-2 and -3 slots would be
 * missing. */
static const sqlite3_io_methods rpt_fault_io = {
    .iVersion = 3,
    .xClose = rpt_fault_close,
    .xRead = rpt_fault_read,
    .xWrite = rpt_fault_write,
    .xTruncate = rpt_fault_truncate,
    .xSync = rpt_fault_sync,
    .xFileSize = rpt_fault_file_size,
    .xLock = rpt_fault_lock,
    .xUnlock = rpt_fault_unlock,
    .xCheckReservedLock = rpt_fault_check_reserved,
    .xFileControl = rpt_fault_control,
    .xSectorSize = rpt_fault_sector_size,
    .xDeviceCharacteristics = rpt_fault_device,
    .xShmMap = rpt_fault_shm_map,
    .xShmLock = rpt_fault_shm_lock,
    .xShmBarrier = rpt_fault_shm_barrier,
    .xShmUnmap = rpt_fault_shm_unmap,
    .xFetch = rpt_fault_fetch,
    .xUnfetch = rpt_fault_unfetch,
};

/* --- VFS methods: forward to the wrapped VFS --------------------------------------------- */

static int rpt_fault_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
    (void)vfs;
    rpt_fault_file *f = (rpt_fault_file *)file;
    f->real = (sqlite3_file *)(f + 1);
    f->base.pMethods = NULL;
    int rc = rpt_fault_real->xOpen(rpt_fault_real, name, f->real, flags, out_flags);
    if (f->real->pMethods == NULL) return rc;
    if (f->real->pMethods->iVersion < 3) {
        (void)f->real->pMethods->xClose(f->real);
        return SQLITE_CANTOPEN;
    }
    f->base.pMethods = &rpt_fault_io;
    return rc;
}

static int rpt_fault_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return rpt_fault_real->xDelete(rpt_fault_real, name, sync_dir);
}

static int rpt_fault_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return rpt_fault_real->xAccess(rpt_fault_real, name, flags, out);
}

static int rpt_fault_full_pathname(sqlite3_vfs *vfs, const char *name, int size, char *out)
{
    (void)vfs;
    return rpt_fault_real->xFullPathname(rpt_fault_real, name, size, out);
}

static void *rpt_fault_dl_open(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return rpt_fault_real->xDlOpen(rpt_fault_real, name);
}

static void rpt_fault_dl_error(sqlite3_vfs *vfs, int size, char *out)
{
    (void)vfs;
    rpt_fault_real->xDlError(rpt_fault_real, size, out);
}

static void (*rpt_fault_dl_sym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void)
{
    (void)vfs;
    return rpt_fault_real->xDlSym(rpt_fault_real, handle, symbol);
}

static void rpt_fault_dl_close(sqlite3_vfs *vfs, void *handle)
{
    (void)vfs;
    rpt_fault_real->xDlClose(rpt_fault_real, handle);
}

static int rpt_fault_randomness(sqlite3_vfs *vfs, int size, char *out)
{
    (void)vfs;
    return rpt_fault_real->xRandomness(rpt_fault_real, size, out);
}

static int rpt_fault_sleep(sqlite3_vfs *vfs, int microseconds)
{
    (void)vfs;
    return rpt_fault_real->xSleep(rpt_fault_real, microseconds);
}

static int rpt_fault_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return rpt_fault_real->xCurrentTime(rpt_fault_real, out);
}

static int rpt_fault_last_error(sqlite3_vfs *vfs, int size, char *out)
{
    (void)vfs;
    return rpt_fault_real->xGetLastError(rpt_fault_real, size, out);
}

static int rpt_fault_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return rpt_fault_real->xCurrentTimeInt64(rpt_fault_real, out);
}

static sqlite3_vfs rpt_fault_vfs = {
    .iVersion = 2,
    .mxPathname = 0,            /* set from the wrapped VFS */
    .zName = "distrosim-fault",
    .xOpen = rpt_fault_open,
    .xDelete = rpt_fault_delete,
    .xAccess = rpt_fault_access,
    .xFullPathname = rpt_fault_full_pathname,
    .xDlOpen = rpt_fault_dl_open,
    .xDlError = rpt_fault_dl_error,
    .xDlSym = rpt_fault_dl_sym,
    .xDlClose = rpt_fault_dl_close,
    .xRandomness = rpt_fault_randomness,
    .xSleep = rpt_fault_sleep,
    .xCurrentTime = rpt_fault_current_time,
    .xGetLastError = rpt_fault_last_error,
    .xCurrentTimeInt64 = rpt_fault_current_time64,
};

bool rpt_faultvfs_arm(rpt_fault_op op, uint64_t n)
{
    SIM_ASSERT(op < RPT_FAULT_OPS);
    SIM_ASSERT(n > 0);
    if (rpt_fault_real == NULL) {
        sqlite3_vfs *real = sqlite3_vfs_find(NULL);
        if (real == NULL || real->iVersion < 2) return false;
        rpt_fault_vfs.szOsFile = (int)sizeof(rpt_fault_file) + real->szOsFile;
        rpt_fault_vfs.mxPathname = real->mxPathname;
        rpt_fault_real = real;
        if (sqlite3_vfs_register(&rpt_fault_vfs, 1) != SQLITE_OK) {
            rpt_fault_real = NULL;
            return false;
        }
    }
    rpt_fault_at[op] = n;
    return true;
}

uint64_t rpt_faultvfs_calls(rpt_fault_op op)
{
    SIM_ASSERT(op < RPT_FAULT_OPS);
    return rpt_fault_calls[op];
}

bool rpt_faultvfs_failed(rpt_fault_op op)
{
    SIM_ASSERT(op < RPT_FAULT_OPS);
    return rpt_fault_at[op] != 0 && rpt_fault_calls[op] >= rpt_fault_at[op];
}
