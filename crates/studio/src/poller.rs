//! One poll scheduler for every running task: the contract's cadence, one shared request
//! budget, backoff on errors, patience with records that are not visible yet, and a give-up
//! horizon that marks a task stale but keeps it recoverable. Successes go straight to the
//! downloader (links expire).

use std::time::Duration;

use kie::{ErrorCode, KieError, TaskState};
use tokio::task::JoinSet;

use crate::error::StudioError;
use crate::events::StudioEvent;
use crate::runner::Studio;
use crate::tasks::{self, Task, TaskStatus};

/// When the scheduler should return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Keep going (the app).
    Forever,
    /// Nothing left to poll or download (`kie resume`).
    Idle,
    /// This task is over: failed, cancelled, outcome unknown, or succeeded with its files in.
    TaskDone(i64),
}

impl Studio {
    /// Run the scheduler. Recovers first, so a restart resumes everything unfinished.
    pub async fn run(&self, until: Until) -> Result<(), StudioError> {
        self.recover()?;
        let mut jobs: JoinSet<()> = JoinSet::new();
        let mut last_recover = self.now_ms();
        loop {
            while jobs.try_join_next().is_some() {}
            let now = self.now_ms();
            if now - last_recover >= self.inner.cfg.submit_lease_ms / 2 {
                self.recover()?;
                last_recover = now;
            }
            let unfinished = tasks::unfinished(&self.inner.db)?;
            if self.should_stop(until, &unfinished, jobs.is_empty())? {
                // Let work under way finish, so no file is left half-written by us.
                while jobs.join_next().await.is_some() {}
                return Ok(());
            }
            let mut polls_in_flight = self.busy_count();
            for task in unfinished {
                if self.is_busy(task.id) {
                    continue;
                }
                let due = task.next_poll_at.unwrap_or(i64::MIN) <= now;
                match task.status {
                    TaskStatus::Succeeded if due => {
                        self.set_busy(task.id, true);
                        let studio = self.clone();
                        jobs.spawn(async move {
                            studio.download_or_reschedule(&task).await;
                            studio.set_busy(task.id, false);
                        });
                    }
                    TaskStatus::Running if due && polls_in_flight < self.inner.cfg.poll.max_concurrent => {
                        polls_in_flight += 1;
                        self.set_busy(task.id, true);
                        let studio = self.clone();
                        jobs.spawn(async move {
                            if let Err(e) = studio.poll_once(&task).await {
                                eprintln!("poll of task {} failed: {e}", task.id);
                            }
                            studio.set_busy(task.id, false);
                            studio.inner.wake.notify_one();
                        });
                    }
                    _ => {}
                }
            }
            let tick = Duration::from_millis(self.inner.cfg.poll.tick_ms);
            tokio::select! {
                _ = tokio::time::sleep(tick) => {}
                _ = self.inner.wake.notified() => {}
            }
        }
    }

    fn should_stop(&self, until: Until, unfinished: &[Task], idle: bool) -> Result<bool, StudioError> {
        Ok(match until {
            Until::Forever => false,
            Until::Idle => unfinished.is_empty() && idle,
            Until::TaskDone(id) => {
                let t = tasks::get(&self.inner.db, id)?;
                let done = match t.status {
                    TaskStatus::Succeeded => t.downloads_done,
                    TaskStatus::Running => t.stale,
                    TaskStatus::Submitting => false,
                    _ => true,
                };
                done && !self.is_busy(id)
            }
        })
    }

    /// Ask Kie once about a running task and record what it says.
    pub async fn poll_once(&self, task: &Task) -> Result<(), StudioError> {
        let Some(kie_id) = task.kie_task_id.as_deref() else { return Ok(()) };
        let cfg = &self.inner.cfg.poll;
        let db = &self.inner.db;
        let started = task.submitted_at.unwrap_or(task.created_at);
        let age = self.now_ms() - started;
        if age > cfg.give_up_after_ms {
            let t = tasks::mark_stale(db, task.id, true, self.now_ms())?;
            self.emit_task(&t);
            return Ok(());
        }
        let answer = self.inner.client.record_info(kie_id).await;
        let now = self.now_ms();
        match answer {
            Ok(rec) => match rec.state {
                TaskState::Success => {
                    self.crash_point("before_success_recorded");
                    let result = rec.result.clone().unwrap_or_default();
                    let t = tasks::mark_succeeded(db, task.id, &result, rec.credits_consumed, now)?;
                    self.emit_task(&t);
                    self.crash_point("after_success_recorded");
                    // Links expire: fetch now, not on the next tick.
                    self.download_or_reschedule(&t).await;
                }
                TaskState::Fail => {
                    let t = tasks::mark_failed(
                        db,
                        task.id,
                        rec.fail_code.as_deref(),
                        rec.fail_msg.as_deref(),
                        rec.credits_consumed,
                        now,
                    )?;
                    self.emit_task(&t);
                }
                _ => {
                    let t = tasks::record_progress(db, task.id, rec.state.as_str(), rec.progress, now)?;
                    tasks::schedule_poll(db, task.id, Some(now + cfg.interval(now - started)), 0)?;
                    if t.progress != task.progress || t.kie_state != task.kie_state {
                        self.emit_task(&t);
                    }
                }
            },
            Err(e) if e.code() == ErrorCode::NotFound && age < cfg.not_visible_grace_ms => {
                tasks::schedule_poll(db, task.id, Some(now + cfg.fast_ms), task.poll_errors)?;
            }
            Err(e) if e.code() == ErrorCode::NotFound => {
                // Kie still has no record after the grace period: stop, but keep it recoverable.
                let t = tasks::mark_stale(db, task.id, true, now)?;
                self.emit_task(&t);
            }
            Err(e) => {
                let errors = task.poll_errors + 1;
                tasks::schedule_poll(db, task.id, Some(now + cfg.backoff(errors)), errors)?;
                if matches!(e, KieError::Unauthorized(_)) {
                    self.emit(StudioEvent::KeyRejected);
                }
                return Err(e.into());
            }
        }
        Ok(())
    }

    fn busy_count(&self) -> usize {
        self.inner.busy.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn is_busy(&self, id: i64) -> bool {
        self.inner.busy.lock().unwrap_or_else(|e| e.into_inner()).contains(&id)
    }

    fn set_busy(&self, id: i64, busy: bool) {
        let mut set = self.inner.busy.lock().unwrap_or_else(|e| e.into_inner());
        if busy {
            set.insert(id);
        } else {
            set.remove(&id);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::runner::PollConfig;

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
