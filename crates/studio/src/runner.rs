//! The task runner: submits creates with the journal written first, recovers what a crash
//! left behind, and offers the user's deliberate actions (cancel, check again, resubmit).
//! Polling lives in `poller`, fetching results in `downloader`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kie::catalogue::Catalogue;
use kie::{KieClient, KieError};
use serde_json::{Map, Value};
use tokio::sync::{broadcast, Notify};

use crate::clock::Clock;
use crate::db::Db;
use crate::error::StudioError;
use crate::events::StudioEvent;
use crate::paths::LibraryPaths;
use crate::tasks::{self, Task, TaskStatus};

/// How the runner polls, downloads and recovers. Defaults follow the contract.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    pub poll: PollConfig,
    /// A `submitting` row not touched for this long belongs to a process that died mid-create.
    pub submit_lease_ms: i64,
    /// Download attempts (with resume) before leaving the task for a later pass.
    pub download_attempts: u32,
    /// Everything this runner creates is marked as demo (kept apart from real work).
    pub demo: bool,
    /// Test hook: abort the process (as `kill -9` would) at this named step.
    pub crash_at: Option<String>,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            poll: PollConfig::default(),
            submit_lease_ms: 60_000,
            download_attempts: 6,
            demo: false,
            crash_at: None,
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

/// The app's core: one per library. Cheap to clone.
#[derive(Clone)]
pub struct Studio {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub db: Db,
    pub paths: LibraryPaths,
    pub client: KieClient,
    pub catalogue: Catalogue,
    pub clock: Arc<dyn Clock>,
    pub cfg: RunnerConfig,
    pub events: broadcast::Sender<StudioEvent>,
    /// Wakes the scheduler: a task was submitted, or the user asked to check again.
    pub wake: Notify,
    /// Tasks with a poll or download under way, so none runs twice.
    pub busy: Mutex<HashSet<i64>>,
}

impl Studio {
    pub fn new(
        db: Db,
        paths: LibraryPaths,
        client: KieClient,
        catalogue: Catalogue,
        clock: Arc<dyn Clock>,
        cfg: RunnerConfig,
    ) -> Studio {
        let (events, _) = broadcast::channel(1024);
        Studio {
            inner: Arc::new(Inner {
                db,
                paths,
                client,
                catalogue,
                clock,
                cfg,
                events,
                wake: Notify::new(),
                busy: Mutex::new(HashSet::new()),
            }),
        }
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn paths(&self) -> &LibraryPaths {
        &self.inner.paths
    }

    pub fn client(&self) -> &KieClient {
        &self.inner.client
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.inner.catalogue
    }

    pub fn config(&self) -> &RunnerConfig {
        &self.inner.cfg
    }

    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<StudioEvent> {
        self.inner.events.subscribe()
    }

    pub(crate) fn emit(&self, event: StudioEvent) {
        // No subscriber is fine: the database is the source of truth.
        let _ = self.inner.events.send(event);
    }

    pub(crate) fn emit_task(&self, task: &Task) {
        self.emit(StudioEvent::TaskChanged { task: task.clone() });
    }

    /// Test hook: die here, as `kill -9` would, if told to.
    pub(crate) fn crash_point(&self, step: &str) {
        if self.inner.cfg.crash_at.as_deref() == Some(step) {
            eprintln!("crash point {step}: aborting");
            std::process::abort();
        }
    }

    /// Validate, write the task down, then send the create. Returns the task as stored:
    /// `running` with Kie's id, `failed` when Kie refused it, or `outcome_unknown` when the
    /// create may have reached Kie (never re-sent on its own). Errors only when nothing was
    /// written (invalid input, database trouble).
    pub async fn submit(&self, model: &str, input: &Map<String, Value>) -> Result<Task, StudioError> {
        let normalized = self.inner.catalogue.validate(model, input).map_err(StudioError::InvalidInput)?;
        let spec = self.inner.catalogue.model(model).expect("validated, so the model exists");
        let estimate = spec.estimate_credits(&normalized);
        let now = self.now_ms();
        let task = tasks::insert_submitting(&self.inner.db, model, &normalized, estimate, self.inner.cfg.demo, now)?;
        self.emit_task(&task);
        self.crash_point("after_insert");

        // Keep the row's lease fresh while the create waits for a slot or an answer.
        let heartbeat = {
            let studio = self.clone();
            let id = task.id;
            let every = Duration::from_millis((self.inner.cfg.submit_lease_ms / 3).max(10) as u64);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let _ = tasks::touch_submitting(&studio.inner.db, id, studio.now_ms());
                }
            })
        };
        let sent = self.inner.client.send_create(model, &normalized, None).await;
        heartbeat.abort();
        let now = self.now_ms();
        let task = match sent {
            Ok(kie_id) => {
                self.crash_point("after_create_before_id");
                let task = tasks::mark_submitted(&self.inner.db, task.id, &kie_id, now)?;
                self.crash_point("after_id");
                self.inner.wake.notify_one();
                task
            }
            Err(err @ KieError::OutcomeUnknown { .. }) => {
                tasks::mark_outcome_unknown(&self.inner.db, task.id, err.code().as_str(), &err.to_string(), now)?
            }
            Err(err) => tasks::mark_rejected(&self.inner.db, task.id, err.code().as_str(), &err.to_string(), now)?,
        };
        self.emit_task(&task);
        Ok(task)
    }

    /// At startup (and now and then): creates whose sender died are honestly marked as
    /// outcome unknown; running tasks count against the client's running limit.
    pub fn recover(&self) -> Result<Vec<Task>, StudioError> {
        let now = self.now_ms();
        let mut changed = Vec::new();
        for t in tasks::abandoned_submissions(&self.inner.db, now - self.inner.cfg.submit_lease_ms)? {
            let msg = "Kie Studio stopped while sending this task, so Kie may or may not have it. \
                       It was not sent again. Check your Kie account, then resubmit if you want it.";
            let t = tasks::mark_outcome_unknown(&self.inner.db, t.id, "outcome_unknown", msg, now)?;
            self.emit_task(&t);
            changed.push(t);
        }
        for t in tasks::unfinished(&self.inner.db)? {
            if let (TaskStatus::Running, Some(kie_id)) = (t.status, &t.kie_task_id) {
                self.inner.client.track_running(kie_id);
            }
        }
        Ok(changed)
    }

    /// Stop tracking a task. Kie cannot cancel, so it may still finish (and charge); a late
    /// success is still recorded and downloaded.
    pub fn cancel(&self, id: i64) -> Result<Task, StudioError> {
        let task = tasks::mark_cancelled(&self.inner.db, id, self.now_ms())?;
        if let Some(kie_id) = &task.kie_task_id {
            self.inner.client.finish_tracking(kie_id);
        }
        self.emit_task(&task);
        Ok(task)
    }

    /// Poll a stale task again now.
    pub fn check_again(&self, id: i64) -> Result<Task, StudioError> {
        let now = self.now_ms();
        let task = tasks::get(&self.inner.db, id)?;
        let task = if task.stale { tasks::mark_stale(&self.inner.db, id, false, now)? } else { task };
        let pending_download = task.status == TaskStatus::Succeeded && !task.downloads_done;
        if task.status != TaskStatus::Running && !pending_download {
            return Err(StudioError::Refused(format!(
                "Task {id} is {}; only running tasks can be checked again. For a task whose outcome is unknown, \
                 give its Kie task id if you have one, or resubmit it.",
                task.status
            )));
        }
        tasks::schedule_poll(&self.inner.db, id, Some(now), 0)?;
        self.emit_task(&task);
        self.inner.wake.notify_one();
        Ok(task)
    }

    /// The user found the Kie id of a task whose outcome was unknown: track it.
    pub fn attach_kie_id(&self, id: i64, kie_id: &str) -> Result<Task, StudioError> {
        let task = tasks::attach_kie_id(&self.inner.db, id, kie_id, self.now_ms())?;
        self.inner.client.track_running(kie_id.trim());
        self.emit_task(&task);
        self.inner.wake.notify_one();
        Ok(task)
    }

    /// Send a task's input again, on purpose, as a new task (it will be paid for again).
    pub async fn resubmit(&self, id: i64) -> Result<Task, StudioError> {
        let task = tasks::get(&self.inner.db, id)?;
        self.submit(&task.model, &task.input).await
    }
}
