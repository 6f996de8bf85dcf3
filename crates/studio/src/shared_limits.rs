//! Kie's request limits kept across processes: the app and the `kie` command line on one
//! library share one budget, kept in `<library>/.limits` (a few lines: the kind and the
//! wall-clock time of each recent request). A request takes its place under an exclusive OS
//! lock on that file (held for a read and a rewrite, microseconds): creates at most
//! `creates_per_window` per rolling window and `min_spacing` apart, record queries at most
//! 10 per second (with a margin for the network's jitter). The client asks
//! ([`kie::limits::SharedLimits`]) after its own in-process limits allowed a request.
//!
//! The file is rewritten in place, never replaced: a rename would give a process waiting on
//! the old file's lock a file no one else uses. A file that cannot be used (a read-only
//! library) lets requests through with one warning: the in-process limits still hold.

use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fs4::fs_std::FileExt;
use kie::limits::{LimitsConfig, SharedLimits, SharedRequest};

use crate::clock::{Clock, SystemClock};

/// The shared budget's file, in the library folder.
pub const LIMITS_FILE: &str = ".limits";

/// The budget, in milliseconds of wall-clock time (processes share no monotonic clock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedLimitsConfig {
    pub creates_per_window: u32,
    pub create_window_ms: i64,
    pub create_spacing_ms: i64,
    pub queries_per_window: u32,
    pub query_window_ms: i64,
}

impl SharedLimitsConfig {
    /// The client's create limits, and Kie's 10 record queries per second per key, counted
    /// over 1.1 s so that a burst sent just under the limit cannot arrive over it.
    pub fn from_client(limits: &LimitsConfig) -> Self {
        SharedLimitsConfig {
            creates_per_window: limits.creates_per_window.max(1),
            create_window_ms: limits.window.as_millis() as i64,
            create_spacing_ms: limits.min_spacing.as_millis() as i64,
            queries_per_window: 10,
            query_window_ms: 1_100,
        }
    }
}

/// The library's shared budget (one per client; every process opens the same file).
#[derive(Debug)]
pub struct LibraryLimits {
    path: PathBuf,
    cfg: SharedLimitsConfig,
    warned: AtomicBool,
}

impl LibraryLimits {
    pub fn new(root: &Path, cfg: SharedLimitsConfig) -> LibraryLimits {
        LibraryLimits { path: root.join(LIMITS_FILE), cfg, warned: AtomicBool::new(false) }
    }

    /// Take a place at `now_ms`, or say how long to wait. The file is locked meanwhile.
    pub fn take_at(&self, request: SharedRequest, now_ms: i64) -> std::io::Result<Result<(), Duration>> {
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&self.path)?;
        FileExt::lock_exclusive(&file)?;
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        let mut log = Log::parse(&text, now_ms, &self.cfg);
        let verdict = log.admit(request, now_ms, &self.cfg);
        if verdict.is_ok() {
            log.0.push((request, now_ms));
        }
        let text = log.render();
        file.seek(SeekFrom::Start(0))?;
        file.write_all(text.as_bytes())?;
        // Cut to length after writing, not to nothing before: ext4 flushes a file emptied by
        // truncation to disk when it is closed, a disk write per request (issue 11).
        file.set_len(text.len() as u64)?;
        // The lock goes with the file.
        Ok(verdict)
    }
}

impl SharedLimits for LibraryLimits {
    fn try_take(&self, request: SharedRequest) -> Result<(), Duration> {
        match self.take_at(request, SystemClock.now_ms()) {
            Ok(verdict) => verdict,
            Err(e) => {
                if !self.warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        "cannot use {} to share Kie's rate limits with other processes ({e}); \
                         this process keeps them on its own",
                        self.path.display()
                    );
                }
                Ok(())
            }
        }
    }
}

/// The recent requests, oldest first.
#[derive(Debug, Default, PartialEq)]
struct Log(Vec<(SharedRequest, i64)>);

impl Log {
    /// Lines `c <ms>` (create) and `q <ms>` (record query); anything else is skipped. Entries
    /// past every window are dropped; a time in the future (the clock was set back) counts
    /// as now, so it ages out instead of blocking.
    fn parse(text: &str, now: i64, cfg: &SharedLimitsConfig) -> Log {
        let horizon = cfg.create_window_ms.max(cfg.query_window_ms).max(cfg.create_spacing_ms);
        let mut entries: Vec<(SharedRequest, i64)> = text
            .lines()
            .filter_map(|line| {
                let (kind, at) = line.split_once(' ')?;
                let kind = match kind {
                    "c" => SharedRequest::Create,
                    "q" => SharedRequest::RecordQuery,
                    _ => return None,
                };
                Some((kind, at.trim().parse::<i64>().ok()?.min(now)))
            })
            .filter(|(_, at)| now - at < horizon)
            .collect();
        entries.sort_by_key(|(_, at)| *at);
        Log(entries)
    }

    fn render(&self) -> String {
        self.0
            .iter()
            .map(|(kind, at)| format!("{} {at}\n", if *kind == SharedRequest::Create { "c" } else { "q" }))
            .collect()
    }

    fn admit(&self, request: SharedRequest, now: i64, cfg: &SharedLimitsConfig) -> Result<(), Duration> {
        let of_kind = || self.0.iter().filter(move |(k, _)| *k == request).map(|(_, at)| *at);
        let (max, window) = match request {
            SharedRequest::Create => (cfg.creates_per_window, cfg.create_window_ms),
            SharedRequest::RecordQuery => (cfg.queries_per_window, cfg.query_window_ms),
        };
        let wait_ms = |ms: i64| Duration::from_millis(ms.max(1) as u64);
        if request == SharedRequest::Create {
            if let Some(last) = of_kind().max() {
                if now - last < cfg.create_spacing_ms {
                    return Err(wait_ms(cfg.create_spacing_ms - (now - last)));
                }
            }
        }
        let in_window: Vec<i64> = of_kind().filter(|at| now - at < window).collect();
        if in_window.len() >= max.max(1) as usize {
            // The oldest that must age out for one more to fit.
            let oldest = in_window[in_window.len() - max.max(1) as usize];
            return Err(wait_ms(oldest + window - now));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> SharedLimitsConfig {
        SharedLimitsConfig {
            creates_per_window: 3,
            create_window_ms: 10_000,
            create_spacing_ms: 1_000,
            queries_per_window: 2,
            query_window_ms: 1_000,
        }
    }

    #[test]
    fn creates_are_spaced_and_counted_per_window() {
        let dir = tempfile::tempdir().unwrap();
        let a = LibraryLimits::new(dir.path(), cfg());
        // Another process's view of the same file.
        let b = LibraryLimits::new(dir.path(), cfg());
        let c = SharedRequest::Create;
        assert_eq!(a.take_at(c, 100_000).unwrap(), Ok(()));
        assert_eq!(b.take_at(c, 100_400).unwrap(), Err(Duration::from_millis(600)));
        assert_eq!(b.take_at(c, 101_000).unwrap(), Ok(()));
        assert_eq!(a.take_at(c, 102_000).unwrap(), Ok(()));
        // Three in the window: the next fits when the first ages out.
        assert_eq!(b.take_at(c, 103_000).unwrap(), Err(Duration::from_millis(7_000)));
        assert_eq!(a.take_at(c, 110_000).unwrap(), Ok(()));
        // Queries have their own budget.
        assert_eq!(a.take_at(SharedRequest::RecordQuery, 110_000).unwrap(), Ok(()));
    }

    #[test]
    fn record_queries_per_second() {
        let dir = tempfile::tempdir().unwrap();
        let a = LibraryLimits::new(dir.path(), cfg());
        let b = LibraryLimits::new(dir.path(), cfg());
        let q = SharedRequest::RecordQuery;
        assert_eq!(a.take_at(q, 5_000).unwrap(), Ok(()));
        assert_eq!(b.take_at(q, 5_000).unwrap(), Ok(()));
        assert_eq!(a.take_at(q, 5_300).unwrap(), Err(Duration::from_millis(700)));
        assert_eq!(b.take_at(q, 6_000).unwrap(), Ok(()));
    }

    #[test]
    fn the_file_holds_only_what_still_counts() {
        // Rewritten over itself, then cut to length: nothing of a longer past stays behind.
        let dir = tempfile::tempdir().unwrap();
        let a = LibraryLimits::new(dir.path(), cfg());
        let q = SharedRequest::RecordQuery;
        a.take_at(SharedRequest::Create, 1_000).unwrap().unwrap();
        a.take_at(q, 5_000).unwrap().unwrap();
        a.take_at(q, 5_100).unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join(LIMITS_FILE)).unwrap(), "c 1000\nq 5000\nq 5100\n");
        a.take_at(q, 60_000).unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join(LIMITS_FILE)).unwrap(), "q 60000\n");
    }

    #[test]
    fn old_future_and_unreadable_lines() {
        let c = cfg();
        let log = Log::parse("c 1000\nq 9000\nnonsense\nq x\nc 99999999\n", 10_000, &c);
        // 1000 is 9 s old (kept: the create window is 10 s); the future one counts as now.
        assert_eq!(
            log,
            Log(vec![
                (SharedRequest::Create, 1000),
                (SharedRequest::RecordQuery, 9000),
                (SharedRequest::Create, 10_000)
            ])
        );
        assert_eq!(log.render(), "c 1000\nq 9000\nc 10000\n");
        assert_eq!(Log::parse("c 1000\n", 11_000, &c), Log::default());
    }

    #[test]
    fn a_library_that_cannot_hold_the_file_lets_requests_through() {
        let dir = tempfile::tempdir().unwrap();
        let limits = LibraryLimits::new(&dir.path().join("missing"), cfg());
        assert!(limits.take_at(SharedRequest::Create, 0).is_err());
        assert_eq!(limits.try_take(SharedRequest::Create), Ok(()));
        assert_eq!(limits.try_take(SharedRequest::Create), Ok(()));
    }
}
