//! How one library's engine behaves: [`StudioConfig`] (the submit lease, who is alive,
//! how long a Kie id's write is retried, download attempts, demo marking, the crash-point
//! test hook) and [`PollConfig`] (the scheduler's cadence, backoff and patience). Defaults
//! follow the contract (docs/decisions.md, "Studio core"; docs/reliability.md).

use std::sync::Arc;

use crate::lease::{OsProcesses, Processes};

/// How a [`crate::Studio`] polls, downloads and recovers. Defaults follow the contract.
#[derive(Debug, Clone)]
pub struct StudioConfig {
    pub poll: PollConfig,
    /// A `submitting` row whose sender cannot be asked about (a row from before leases had
    /// owners, or a process this OS cannot see) and that was not touched for this long is
    /// taken as abandoned. A row whose sender is known alive is never abandoned, however old;
    /// one whose sender is gone is abandoned at once (`lease.rs`).
    pub submit_lease_ms: i64,
    /// Which process this is, and whether another is alive (the OS; tests pass their own).
    pub processes: Arc<dyn Processes>,
    /// How long writing a Kie id that just arrived into the database is retried (busy, I/O
    /// errors) before the submit gives up, the id still safe in the id log.
    pub record_retry_ms: u64,
    /// Download attempts (with resume) before leaving the task for a later pass.
    pub download_attempts: u32,
    /// Everything this studio creates is marked as demo (kept apart from real work).
    pub demo: bool,
    /// Test hook: abort the process (as `kill -9` would) at this named step.
    pub crash_at: Option<String>,
    /// How long after opening the library its database is checked page by page
    /// ([`crate::Db::verify`]), before the poller writes anything: late enough not to slow
    /// the first screen (the check grows with the library), soon enough to stop early.
    pub verify_delay_ms: u64,
}

impl Default for StudioConfig {
    fn default() -> Self {
        StudioConfig {
            poll: PollConfig::default(),
            submit_lease_ms: 60_000,
            processes: Arc::new(OsProcesses),
            record_retry_ms: 15_000,
            download_attempts: 6,
            demo: false,
            crash_at: None,
            verify_delay_ms: 3_000,
        }
    }
}

/// The contract's cadence: 2–3 s for the first 30 s, then 5–10 s, then 15–30 s after 2 min.
#[derive(Debug, Clone)]
pub struct PollConfig {
    pub fast_ms: i64,
    pub fast_until_ms: i64,
    pub medium_ms: i64,
    pub medium_until_ms: i64,
    pub slow_ms: i64,
    /// A new task's record may be missing (404/422) for about this long.
    pub not_visible_grace_ms: i64,
    /// After this long running, the task is marked stale: not polled, still recoverable.
    pub give_up_after_ms: i64,
    /// Error backoff: doubled per consecutive error, capped.
    pub error_backoff_ms: i64,
    pub error_backoff_cap_ms: i64,
    /// The one request budget shared by all tasks: polls in flight at once.
    pub max_concurrent: usize,
    /// How often the scheduler looks for due work when nothing wakes it.
    pub tick_ms: u64,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            fast_ms: 2_500,
            fast_until_ms: 30_000,
            medium_ms: 7_000,
            medium_until_ms: 120_000,
            slow_ms: 20_000,
            not_visible_grace_ms: 90_000,
            give_up_after_ms: 6 * 3600 * 1000,
            error_backoff_ms: 2_000,
            error_backoff_cap_ms: 120_000,
            max_concurrent: 4,
            tick_ms: 250,
        }
    }
}

impl PollConfig {
    /// Every interval scaled down, for tests and the demo.
    pub fn scaled(factor: f64) -> Self {
        let d = PollConfig::default();
        let s = |v: i64| ((v as f64) * factor).round().max(1.0) as i64;
        PollConfig {
            fast_ms: s(d.fast_ms),
            fast_until_ms: s(d.fast_until_ms),
            medium_ms: s(d.medium_ms),
            medium_until_ms: s(d.medium_until_ms),
            slow_ms: s(d.slow_ms),
            not_visible_grace_ms: s(d.not_visible_grace_ms),
            give_up_after_ms: s(d.give_up_after_ms),
            error_backoff_ms: s(d.error_backoff_ms),
            error_backoff_cap_ms: s(d.error_backoff_cap_ms),
            max_concurrent: d.max_concurrent,
            tick_ms: (d.tick_ms as f64 * factor).round().max(5.0) as u64,
        }
    }

    /// When to poll next, by how long the task has been running.
    pub fn interval(&self, age_ms: i64) -> i64 {
        if age_ms < self.fast_until_ms {
            self.fast_ms
        } else if age_ms < self.medium_until_ms {
            self.medium_ms
        } else {
            self.slow_ms
        }
    }

    /// Backoff after `errors` consecutive failed polls.
    pub fn backoff(&self, errors: i64) -> i64 {
        let shift = (errors.max(1) - 1).min(20) as u32;
        self.error_backoff_ms.saturating_mul(1i64 << shift).min(self.error_backoff_cap_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::PollConfig;

    #[test]
    fn cadence_follows_the_contract() {
        let p = PollConfig::default();
        assert_eq!(p.interval(0), 2_500);
        assert_eq!(p.interval(29_999), 2_500);
        assert_eq!(p.interval(30_000), 7_000);
        assert_eq!(p.interval(119_999), 7_000);
        assert_eq!(p.interval(120_000), 20_000);
        assert!((2_000..=3_000).contains(&p.fast_ms));
        assert!((5_000..=10_000).contains(&p.medium_ms));
        assert!((15_000..=30_000).contains(&p.slow_ms));
    }

    #[test]
    fn backoff_doubles_to_a_cap() {
        let p = PollConfig::default();
        assert_eq!(p.backoff(1), 2_000);
        assert_eq!(p.backoff(2), 4_000);
        assert_eq!(p.backoff(3), 8_000);
        assert_eq!(p.backoff(50), 120_000);
    }

    #[test]
    fn scaled_keeps_the_shape() {
        let p = PollConfig::scaled(0.01);
        assert_eq!(p.fast_ms, 25);
        assert_eq!(p.not_visible_grace_ms, 900);
        assert!(p.tick_ms >= 5);
    }
}
