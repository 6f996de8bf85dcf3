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
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            creates_per_window: 20,
            window: Duration::from_secs(10),
            min_spacing: Duration::from_secs(1),
            max_running: 10,
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
        if self.running.len() + self.reserved >= self.cfg.max_running.max(1) {
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
        assert!(l.finish("a"));
        assert!(!l.finish("a"));
        l.try_reserve(t0).unwrap();
        l.track("resumed");
        assert_eq!(l.try_reserve(t0), Err(Wait::ForSlot));
    }
}
