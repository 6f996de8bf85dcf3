//! Client-side limits that keep us under Kie's: creates per rolling window, spacing
//! between creates, and the number of tasks running at once. Pure bookkeeping; the
//! caller passes the time in and does the waiting.

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct LimitsConfig {
    /// Creates allowed per rolling `window` (Kie: 20 per 10 s).
    pub creates_per_window: u32,
    pub window: Duration,
    /// Least time between two creates (seed 001: 1 s between requests).
    pub min_spacing: Duration,
    /// Tasks running at once (seed 001: 10).
    pub max_running: usize,
    /// How long a create waits for a running slot before it gives up, unsent.
    pub slot_wait: Duration,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            creates_per_window: 20,
            // Kie's 10 s, counted where the creates arrive: half a second more here, so two
            // creates that travel at different speeds still arrive within its limit.
            window: Duration::from_millis(10_500),
            min_spacing: Duration::from_secs(1),
            max_running: 10,
            slot_wait: Duration::from_secs(120),
        }
    }
}

/// Bookkeeping for both limits.
#[derive(Debug)]
pub struct Limits {
    cfg: LimitsConfig,
    sent: VecDeque<Instant>,
    running: HashSet<String>,
    /// Creates in flight: they hold a running slot until Kie answers.
    reserved: usize,
}

/// Why a create must wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The rate window or the spacing: try again after this long.
    For(Duration),
    /// Every running slot is taken: wait until a task finishes.
    ForSlot,
}

impl Limits {
    pub fn new(cfg: LimitsConfig) -> Self {
        Limits { cfg, sent: VecDeque::new(), running: HashSet::new(), reserved: 0 }
    }

    pub fn config(&self) -> &LimitsConfig {
        &self.cfg
    }

    /// Take a slot and a place in the window for one create at `now`, or say how to wait.
    pub fn try_reserve(&mut self, now: Instant) -> Result<(), Wait> {
        if self.slots_full() {
            return Err(Wait::ForSlot);
        }
        while let Some(first) = self.sent.front() {
            if now.saturating_duration_since(*first) >= self.cfg.window {
                self.sent.pop_front();
            } else {
                break;
            }
        }
        if let Some(last) = self.sent.back() {
            let since = now.saturating_duration_since(*last);
            if since < self.cfg.min_spacing {
                return Err(Wait::For(self.cfg.min_spacing - since));
            }
        }
        if self.sent.len() >= self.cfg.creates_per_window.max(1) as usize {
            let oldest = *self.sent.front().expect("window is full, so not empty");
            return Err(Wait::For(self.cfg.window.saturating_sub(now.saturating_duration_since(oldest))));
        }
        self.sent.push_back(now);
        self.reserved += 1;
        Ok(())
    }

    /// The create got a task id: the reserved slot now belongs to that task.
    pub fn confirm(&mut self, task_id: &str) {
        self.reserved = self.reserved.saturating_sub(1);
        self.running.insert(task_id.to_string());
    }

    /// Undo a reservation taken at `at` that was not used (the shared limits said wait):
    /// its place in the window and its slot are given back.
    pub fn cancel_reservation(&mut self, at: Instant) {
        if let Some(i) = self.sent.iter().rposition(|t| *t == at) {
            self.sent.remove(i);
        }
        self.reserved = self.reserved.saturating_sub(1);
    }

    /// The create ended without a task we can track: give the slot back.
    pub fn release_reservation(&mut self) {
        self.reserved = self.reserved.saturating_sub(1);
    }

    /// A task we did not create in this process (resumed after a restart) is running.
    pub fn track(&mut self, task_id: &str) {
        self.running.insert(task_id.to_string());
    }

    /// The task reached a final state, or the user stopped tracking it.
    /// Returns whether a slot was freed.
    pub fn finish(&mut self, task_id: &str) -> bool {
        self.running.remove(task_id)
    }

    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Tasks running and creates in flight: what holds the running slots.
    pub fn in_progress(&self) -> usize {
        self.running.len() + self.reserved
    }

    /// Whether every running slot is taken (a create would wait for one).
    pub fn slots_full(&self) -> bool {
        self.in_progress() >= self.cfg.max_running.max(1)
    }
}

/// A request kind whose limit is kept together with other processes using the same key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SharedRequest {
    /// `createTask` / Veo's `generate`: 20 per rolling 10 s, 1 s apart.
    Create,
    /// `recordInfo` / Veo's `record-info`: 10 per second per key.
    RecordQuery,
}

/// Limits kept across processes (the app and the `kie` command line on one library: the
/// studio keeps them in the library folder). The client asks right before sending, after
/// its own limits allowed the request. Implementations may block briefly (a file lock).
pub trait SharedLimits: Send + Sync + std::fmt::Debug {
    /// Take a place for one request of this kind now, or say how long to wait before
    /// asking again.
    fn try_take(&self, request: SharedRequest) -> Result<(), Duration>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(per: u32, window_ms: u64, spacing_ms: u64, max_running: usize) -> LimitsConfig {
        LimitsConfig {
            creates_per_window: per,
            window: Duration::from_millis(window_ms),
            min_spacing: Duration::from_millis(spacing_ms),
            max_running,
            slot_wait: Duration::from_secs(120),
        }
    }

    #[test]
    fn rolling_window_allows_exactly_the_limit() {
        let t0 = Instant::now();
        let mut l = Limits::new(cfg(3, 1000, 0, 100));
        for _ in 0..3 {
            l.try_reserve(t0).unwrap();
        }
        assert_eq!(l.try_reserve(t0), Err(Wait::For(Duration::from_millis(1000))));
        assert_eq!(l.try_reserve(t0 + Duration::from_millis(400)), Err(Wait::For(Duration::from_millis(600))));
        // The window rolls: the first three age out together.
        l.try_reserve(t0 + Duration::from_millis(1000)).unwrap();
    }

    #[test]
    fn spacing_between_creates() {
        let t0 = Instant::now();
        let mut l = Limits::new(cfg(20, 10_000, 1000, 100));
        l.try_reserve(t0).unwrap();
        assert_eq!(l.try_reserve(t0 + Duration::from_millis(300)), Err(Wait::For(Duration::from_millis(700))));
        l.try_reserve(t0 + Duration::from_millis(1000)).unwrap();
    }

    #[test]
    fn running_slots_are_held_until_tasks_finish() {
        let t0 = Instant::now();
        let mut l = Limits::new(cfg(100, 1000, 0, 2));
        l.try_reserve(t0).unwrap();
        l.try_reserve(t0).unwrap();
        assert_eq!(l.try_reserve(t0), Err(Wait::ForSlot));
        l.confirm("a");
        l.release_reservation();
        l.try_reserve(t0).unwrap();
        l.confirm("b");
        assert_eq!(l.running(), 2);
        assert_eq!(l.try_reserve(t0), Err(Wait::ForSlot));
        assert_eq!(l.in_progress(), 2);
        assert!(l.slots_full());
        assert!(l.finish("a"));
        assert!(!l.finish("a"));
        l.try_reserve(t0).unwrap();
        l.track("resumed");
        assert_eq!(l.try_reserve(t0), Err(Wait::ForSlot));
    }

    #[test]
    fn a_cancelled_reservation_gives_its_place_back() {
        // Issue 10: the shared (cross-process) limits said wait; nothing was sent.
        let t0 = Instant::now();
        let mut l = Limits::new(cfg(1, 1000, 500, 1));
        l.try_reserve(t0).unwrap();
        assert_eq!(l.try_reserve(t0), Err(Wait::ForSlot));
        l.cancel_reservation(t0);
        // Neither the slot, nor the place in the window, nor the spacing is held.
        l.try_reserve(t0).unwrap();
    }
}
