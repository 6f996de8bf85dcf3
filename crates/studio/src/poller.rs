//! The [`Poller`] service: one scheduler for every running task. The contract's cadence,
//! one shared request budget, backoff on errors, patience with records that are not
//! visible yet, and a give-up horizon that marks a task stale but keeps it recoverable.
//! Successes go straight to the downloader (links expire).

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use kie::{ErrorCode, KieError, TaskState};
use tokio::task::JoinSet;

use crate::error::StudioError;
use crate::events::StudioEvent;
use crate::studio::Studio;
use crate::tasks::{self, Task, TaskStatus};

/// The busy-set key of the batch sender (task ids are positive).
const BATCH_SENDER: i64 = -1;

/// When the scheduler should return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Keep going (the app).
    Forever,
    /// Nothing left to poll or download (`kie resume`).
    Idle,
    /// This task is over: failed, cancelled, outcome unknown, or succeeded with its files in.
    TaskDone(i64),
    /// This batch sends nothing more on its own (every item sent, or it stopped or paused).
    BatchSent(i64),
    /// [`Until::BatchSent`], and every task it sent is over as for [`Until::TaskDone`].
    BatchDone(i64),
}

/// The scheduler of one library (from [`Studio::poller`]).
#[derive(Clone, Copy)]
pub struct Poller<'a> {
    studio: &'a Studio,
}

/// Tasks with a poll or download under way, so none runs twice. Held by the [`Studio`]
/// (every scheduler over it shares it); only the poller reads or changes it.
#[derive(Debug, Default)]
pub(crate) struct BusySet(Mutex<HashSet<i64>>);

impl BusySet {
    fn set(&self) -> std::sync::MutexGuard<'_, HashSet<i64>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn count(&self) -> usize {
        self.set().len()
    }

    fn contains(&self, id: i64) -> bool {
        self.set().contains(&id)
    }

    /// Claim `id` for work that must not run twice at once; false when it is already claimed.
    pub(crate) fn try_claim(&self, id: i64) -> bool {
        self.set().insert(id)
    }

    pub(crate) fn release(&self, id: i64) {
        self.set().remove(&id);
    }

    fn mark(&self, id: i64, busy: bool) {
        let mut set = self.set();
        if busy {
            set.insert(id);
        } else {
            set.remove(&id);
        }
    }
}

impl<'a> Poller<'a> {
    pub(crate) fn new(studio: &'a Studio) -> Self {
        Poller { studio }
    }

    /// Run the scheduler. Recovers first, so a restart resumes everything unfinished.
    pub async fn run(self, until: Until) -> Result<(), StudioError> {
        let studio = self.studio;
        let cfg = studio.config();
        studio.journal().recover()?;
        let mut jobs: JoinSet<()> = JoinSet::new();
        let mut last_recover = studio.now_ms();
        loop {
            while jobs.try_join_next().is_some() {}
            let now = studio.now_ms();
            if now - last_recover >= cfg.submit_lease_ms / 2 {
                studio.journal().recover()?;
                last_recover = now;
            }
            let none_left = until == Until::Idle
                && !tasks::any_unfinished(studio.db())?
                && !crate::batches::any_running(studio.db())?;
            if self.should_stop(until, none_left, jobs.is_empty())? {
                // Let work under way finish, so no file is left half-written by us.
                while jobs.join_next().await.is_some() {}
                return Ok(());
            }
            let busy = studio.busy();
            let mut polls_in_flight = busy.count();
            // Only what is due, longest overdue first: with many running tasks, reading them
            // all on every wake cost more than the polls, and taking them by id starved the
            // last ones whenever Kie's budget could not keep up with the cadence (issue 11).
            for (id, status) in tasks::due(studio.db(), now)? {
                if busy.contains(id) {
                    continue;
                }
                let ready = match status {
                    TaskStatus::Succeeded => true,
                    TaskStatus::Running => polls_in_flight < cfg.poll.max_concurrent,
                    _ => false,
                };
                if !ready {
                    continue;
                }
                // Read again: a poll that ended since the list was read has rescheduled its
                // task (and a deleted task is gone).
                let Ok(task) = tasks::get(studio.db(), id) else { continue };
                if task.next_poll_at.is_some_and(|at| at > now) {
                    continue;
                }
                match task.status {
                    TaskStatus::Succeeded => {
                        busy.mark(task.id, true);
                        let studio = studio.clone();
                        jobs.spawn(async move {
                            studio.downloader().download_or_reschedule(&task).await;
                            studio.busy().mark(task.id, false);
                        });
                    }
                    TaskStatus::Running => {
                        polls_in_flight += 1;
                        busy.mark(task.id, true);
                        let studio = studio.clone();
                        jobs.spawn(async move {
                            if let Err(e) = studio.poller().poll_once(&task).await {
                                let kie = task.kie_task_id.as_deref().unwrap_or("?");
                                tracing::warn!("poll of task {} (Kie task {kie}) failed: {e}", task.id);
                            }
                            studio.busy().mark(task.id, false);
                            studio.wake().notify_one();
                        });
                    }
                    _ => {}
                }
            }
            // Batches: one item at a time per library, in order, when a running slot is free
            // (the client keeps the creates within Kie's rate); a key no task ever takes.
            if !busy.contains(BATCH_SENDER) && !studio.client().slots_full() {
                if let Some(batch) = crate::batches::due(studio.db(), now)? {
                    busy.mark(BATCH_SENDER, true);
                    let studio = studio.clone();
                    jobs.spawn(async move {
                        if let Err(e) = studio.batches().send_next(batch).await {
                            tracing::warn!("batch {batch}: the next item was not sent: {e}");
                        }
                        studio.busy().mark(BATCH_SENDER, false);
                        studio.wake().notify_one();
                    });
                }
            }
            let tick = Duration::from_millis(cfg.poll.tick_ms);
            tokio::select! {
                _ = tokio::time::sleep(tick) => {}
                _ = studio.wake().notified() => {}
            }
        }
    }

    /// Whether `until` holds as the library stands, for a process that watches another one
    /// poll (the `kie` command line while the app holds the library).
    pub fn reached(self, until: Until) -> Result<bool, StudioError> {
        let none_left = !tasks::any_unfinished(self.studio.db())? && !crate::batches::any_running(self.studio.db())?;
        self.should_stop(until, none_left, true)
    }

    /// `none_left`: no task is unfinished (only read for [`Until::Idle`]).
    fn should_stop(self, until: Until, none_left: bool, idle: bool) -> Result<bool, StudioError> {
        Ok(match until {
            Until::Forever => false,
            Until::Idle => none_left && idle,
            Until::TaskDone(id) => self.task_over(&tasks::get(self.studio.db(), id)?),
            Until::BatchSent(id) => !self.batch_sending(id)?,
            Until::BatchDone(id) => {
                !self.batch_sending(id)?
                    && crate::batches::items(self.studio.db(), id)?
                        .iter()
                        .filter_map(|i| i.task_id)
                        .map(|t| tasks::get(self.studio.db(), t))
                        .collect::<Result<Vec<_>, _>>()?
                        .iter()
                        .all(|t| self.task_over(t))
            }
        })
    }

    /// Over, as [`Until::TaskDone`] means it, and nothing of it under way here.
    fn task_over(self, t: &Task) -> bool {
        let done = match t.status {
            TaskStatus::Succeeded => t.downloads_done,
            TaskStatus::Running => t.stale,
            TaskStatus::Submitting => false,
            _ => true,
        };
        done && !self.studio.busy().contains(t.id)
    }

    /// Whether the batch still has items to send on its own, or one being sent.
    fn batch_sending(self, id: i64) -> Result<bool, StudioError> {
        let b = crate::batches::get(self.studio.db(), id)?;
        Ok((b.state == crate::batches::BatchState::Running && b.pending > 0)
            || self.studio.busy().contains(BATCH_SENDER))
    }

    /// Ask Kie once about a running task and record what it says.
    pub async fn poll_once(self, task: &Task) -> Result<(), StudioError> {
        let studio = self.studio;
        let Some(kie_id) = task.kie_task_id.as_deref() else { return Ok(()) };
        let cfg = &studio.config().poll;
        let db = studio.db();
        let started = task.submitted_at.unwrap_or(task.created_at);
        let age = studio.now_ms() - started;
        // Past the give-up age, Kie is still asked once (the user may have pressed "check
        // again", or it finished meanwhile); only a task still running is then set aside.
        let too_old = age > cfg.give_up_after_ms;
        let give_up = |now: i64| -> Result<(), StudioError> {
            let t = tasks::mark_stale(db, task.id, true, now)?;
            // Not polled any more: it no longer holds one of the client's running slots.
            studio.client().finish_tracking(kie_id);
            studio.emit_task(&t);
            Ok(())
        };
        // A model no longer in the catalogue is asked as a jobs-API task.
        let answer = studio.client().record_info(studio.protocol_of(&task.model), kie_id).await;
        let now = studio.now_ms();
        match answer {
            Ok(rec) => match rec.state {
                TaskState::Success => {
                    studio.crash_point("before_success_recorded");
                    let result = rec.result.clone().unwrap_or_default();
                    let t = tasks::mark_succeeded(db, task.id, &result, rec.credits_consumed, now)?;
                    studio.emit_task(&t);
                    studio.crash_point("after_success_recorded");
                    // Links expire: fetch now, not on the next tick.
                    studio.downloader().download_or_reschedule(&t).await;
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
                    studio.emit_task(&t);
                }
                _ => {
                    if too_old {
                        tasks::record_progress(db, task.id, rec.state.as_str(), rec.progress, now)?;
                        return give_up(now);
                    }
                    let next = now + cfg.interval(now - started);
                    let t = tasks::record_poll(db, task.id, rec.state.as_str(), rec.progress, next, now)?;
                    if t.progress != task.progress || t.kie_state != task.kie_state {
                        studio.emit_task(&t);
                    }
                }
            },
            Err(e) if e.code() == ErrorCode::NotFound && age < cfg.not_visible_grace_ms => {
                tasks::schedule_poll(db, task.id, Some(now + cfg.fast_ms), task.poll_errors)?;
            }
            Err(e) if e.code() == ErrorCode::NotFound => {
                // Kie still has no record after the grace period: stop, but keep it recoverable.
                give_up(now)?;
            }
            Err(e) if too_old => {
                give_up(now)?;
                return Err(e.into());
            }
            Err(e) => {
                let errors = task.poll_errors + 1;
                tasks::schedule_poll(db, task.id, Some(now + cfg.backoff(errors)), errors)?;
                if matches!(e, KieError::Unauthorized(_)) {
                    studio.emit(StudioEvent::KeyRejected);
                }
                return Err(e.into());
            }
        }
        Ok(())
    }
}
