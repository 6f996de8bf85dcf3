//! Giving memory back after the library's big one-off reads (the health check, a rescan, the
//! start-up check of every page). They read the whole library once: SQLite's page cache
//! fills to its limit and the scans' lists are freed, but glibc keeps freed memory in its
//! per-thread arenas, so an idle app at 100,000 videos held ~70 MiB more than at 10 (the
//! bench, issue 11). After such a read the cache is emptied and the free memory returned.

use crate::db::Db;

/// Empties the library connection's page cache (it refills as the gallery reads) and returns
/// the process's free memory to the system.
pub fn release(db: &Db) {
    // Best effort: a busy connection keeps its cache, nothing else changes.
    let _ = db.with(|c| Ok(c.execute_batch("PRAGMA shrink_memory")?));
    return_free_memory();
}

/// Returns free heap memory to the system (glibc only; elsewhere the allocator decides).
pub fn return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists; it is thread-safe.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_empties_the_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("library.db"), 0).unwrap();
        let used = |db: &Db| db.with(|c| Ok(cache_used(c))).unwrap();
        db.with(|c| {
            c.execute_batch(
                "CREATE TABLE t (x BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
                 INSERT INTO t SELECT randomblob(2000) FROM n;",
            )?;
            Ok(c.query_row("SELECT count(*) FROM t WHERE length(x) > 0", [], |r| r.get::<_, i64>(0))?)
        })
        .unwrap();
        let before = used(&db);
        assert!(before > 1_000_000, "the scan filled the cache: {before} bytes");
        release(&db);
        let after = used(&db);
        assert!(after < before / 10, "cache {before} → {after} bytes");
    }

    fn cache_used(c: &rusqlite::Connection) -> i64 {
        // SQLITE_DBSTATUS_CACHE_USED: bytes of the page cache this connection holds.
        let mut cur = 0;
        let mut hi = 0;
        unsafe {
            rusqlite::ffi::sqlite3_db_status(
                c.handle(),
                rusqlite::ffi::SQLITE_DBSTATUS_CACHE_USED,
                &mut cur,
                &mut hi,
                0,
            )
        };
        cur as i64
    }
}
