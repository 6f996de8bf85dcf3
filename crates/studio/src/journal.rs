//! The [`Journal`] service: every task is written down before anything leaves. It submits
//! creates (the row first, synced; Kie's id the moment it arrives, into the id log and then
//! the database; the row's lease held by this process), recovers what a crash left behind, and carries out the user's
//! deliberate actions: cancel, check again, attach a Kie id, resubmit. The rules for each
//! change of a task's state are `tasks.rs`'s.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kie::catalogue::Protocol;
use kie::KieError;
use serde_json::{Map, Value};

use crate::availability::{self, ModelState};
use crate::db::StoreError;
use crate::error::StudioError;
use crate::idlog::{self, IdLine};
use crate::lease::{LeaseOwner, OwnerState};
use crate::studio::Studio;
use crate::tasks::{self, Task, TaskStatus};

/// The journal of one library (from [`Studio::journal`]).
#[derive(Clone, Copy)]
pub struct Journal<'a> {
    studio: &'a Studio,
}

impl<'a> Journal<'a> {
    pub(crate) fn new(studio: &'a Studio) -> Self {
        Journal { studio }
    }

    /// Validate, write the task down, then send the create. Returns the task as stored:
    /// `running` with Kie's id, `failed` when Kie refused it, or `outcome_unknown` when the
    /// create may have reached Kie (never re-sent on its own). Errors when nothing was sent
    /// (invalid input, database trouble), or when Kie took the create but its id could not be
    /// written to the database even after retrying (`KieIdNotRecorded`, naming the Kie id;
    /// the id is then safe in the id log and recorded by the next `recover`).
    pub async fn submit(self, model: &str, input: &Map<String, Value>) -> Result<Task, StudioError> {
        self.submit_as(model, input, None).await
    }

    /// [`Journal::submit`] of a batch's item: the item is marked sent in the transaction that
    /// writes its task down, before the create leaves (`tasks::insert_submitting_for`).
    pub async fn submit_as(
        self,
        model: &str,
        input: &Map<String, Value>,
        item: Option<tasks::ItemLink>,
    ) -> Result<Task, StudioError> {
        let studio = self.studio;
        let normalized = studio.catalogue().validate(model, input).map_err(StudioError::InvalidInput)?;
        let spec = studio.catalogue().model(model).expect("validated, so the model exists");
        let estimate = spec.estimate_credits(&normalized);
        let now = studio.now_ms();
        // The row is synced to disk (synchronous=FULL) before the create leaves, its lease
        // held by this process, and the create counted in flight from the same moment.
        let owner = studio.config().processes.me();
        let (task, in_flight) = InFlight::register(studio.paths().root(), || {
            tasks::insert_submitting_for(
                studio.db(),
                model,
                &normalized,
                estimate,
                studio.config().demo,
                Some(&owner),
                item,
                now,
            )
        })?;
        studio.emit_task(&task);
        studio.crash_point("after_insert");

        // From here on the create and the recording of its answer run to the end even if the
        // caller stops waiting: a create that left must have its answer written down.
        let (id, protocol) = (task.id, spec.protocol);
        let sending = {
            let studio = studio.clone();
            tokio::spawn(async move {
                let _in_flight = in_flight;
                studio.journal().send_and_record(task, protocol, normalized).await
            })
        };
        sending.await.map_err(|e| StudioError::Internal(format!("sending task {id} was interrupted: {e}")))?
    }

    async fn send_and_record(
        self,
        task: Task,
        protocol: Protocol,
        normalized: Map<String, Value>,
    ) -> Result<Task, StudioError> {
        let studio = self.studio;
        let model = task.model.as_str();
        // Keep the row touched while the create is out and its id is being written: a process
        // that cannot see whether this one lives falls back to that.
        let _heartbeat = {
            let studio = studio.clone();
            let id = task.id;
            let every = Duration::from_millis((studio.config().submit_lease_ms / 3).max(10) as u64);
            AbortOnDrop(tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let _ = tasks::touch_submitting(studio.db(), id, studio.now_ms());
                }
            }))
        };
        let sent = studio.client().send_create(protocol, model, &normalized, None).await;
        let now = studio.now_ms();
        let recorded = match sent {
            Ok(kie_id) => {
                studio.crash_point("after_create_before_id");
                let recorded = self.record_id(&task, &kie_id, now).await;
                // Only now, the id safe: what Kie says of the model is worth keeping, but never
                // before (or at the cost of) the task's own record.
                let _ = availability::clear(studio.db(), model);
                let recorded = recorded?;
                studio.crash_point("after_id");
                studio.wake().notify_one();
                recorded
            }
            Err(err) => {
                if let Some(state) = ModelState::from_error(&err) {
                    let _ = availability::record(studio.db(), model, state, &err.to_string(), now);
                }
                let (code, message) = (err.code().as_str(), err.to_string());
                let id = task.id;
                let write = match err {
                    KieError::OutcomeUnknown { .. } => {
                        self.retry_write(|| tasks::mark_outcome_unknown(studio.db(), id, code, &message, now)).await
                    }
                    _ => self.retry_write(|| tasks::mark_rejected(studio.db(), id, code, &message, now)).await,
                };
                // Not written: the row stays `submitting`; once this create is no longer in
                // flight the next `recover` marks it outcome unknown. Nothing is lost.
                write?
            }
        };
        studio.emit_task(&recorded);
        Ok(recorded)
    }

    /// Kie answered with an id: into the id log (synced) first, then the database, retried.
    async fn record_id(self, task: &Task, kie_id: &str, now: i64) -> Result<Task, StudioError> {
        let studio = self.studio;
        let line = IdLine {
            task: task.id,
            kie_id: kie_id.to_string(),
            model: task.model.clone(),
            created_at: task.created_at,
            at: now,
        };
        let root = studio.paths().root().to_path_buf();
        let logged = crate::studio::blocking("writing the id log", move || {
            idlog::append(&root, &line).map_err(StudioError::io("write the Kie id log"))
        })
        .await;
        if let Err(e) = &logged {
            tracing::error!("task {} (Kie task {kie_id}): the id log could not be written: {e}", task.id);
        }
        studio.crash_point("after_id_logged");
        let written = self.retry_write(|| tasks::mark_submitted(studio.db(), task.id, kie_id, now)).await;
        written.map_err(|source| {
            let safe = match &logged {
                Ok(path) => format!(
                    "The id is kept in {} and will be recorded when Kie Studio next starts (or within a \
                     minute if it is running); do not resubmit.",
                    path.display()
                ),
                Err(e) => format!(
                    "The id log could not be written either ({e}): note the Kie task id {kie_id} and give it to \
                     task #{} (\"Attach Kie id\") once the library can be written; do not resubmit.",
                    task.id
                ),
            };
            let message = format!(
                "Kie took task #{} as Kie task {kie_id} (and charges for it), but the library could not record \
                 it: {source}. {safe}",
                task.id
            );
            tracing::error!("{message}");
            StudioError::KieIdNotRecorded { message, kie_task_id: kie_id.to_string(), source }
        })
    }

    /// Retry a task-state write that failed in the database (busy past its timeout, an I/O
    /// error, a full disk) with backoff, for at most `record_retry_ms`. A refusal by the
    /// state machine is an answer, not retried.
    async fn retry_write(self, mut write: impl FnMut() -> Result<Task, StoreError>) -> Result<Task, StoreError> {
        let deadline = Instant::now() + Duration::from_millis(self.studio.config().record_retry_ms);
        let mut pause = Duration::from_millis(25);
        loop {
            match write() {
                Err(StoreError::Sqlite(e)) if Instant::now() + pause < deadline => {
                    tracing::warn!("a task write failed ({e}); retrying in {} ms", pause.as_millis());
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                other => return other,
            }
        }
    }

    /// At startup (and now and then): Kie ids in the id log that the database missed are
    /// recorded; creates whose sender is gone are honestly marked as outcome unknown; running
    /// tasks count against the client's running limit.
    pub fn recover(self) -> Result<Vec<Task>, StudioError> {
        let studio = self.studio;
        let now = studio.now_ms();
        let (mut changed, logged) = self.replay_id_log(now)?;
        let cfg = studio.config();
        let processes = cfg.processes.as_ref();
        let me = processes.me();
        let root = studio.paths().root();
        // This process knows its own creates in flight; any other process is asked about.
        let judge = |t: &Task, owner: &LeaseOwner| match *owner == me {
            true if InFlight::contains(root, t.id) => OwnerState::Alive,
            true => OwnerState::Gone,
            false => processes.state(owner),
        };
        for t in tasks::abandoned_submissions(studio.db(), now, cfg.submit_lease_ms, &judge)? {
            // Kie has it (its id is in the log, the database not writable yet): not unknown.
            if logged.contains(&t.id) {
                continue;
            }
            let msg = "Kie Studio stopped while sending this task, so Kie may or may not have it. \
                       It was not sent again. Check your Kie account, then resubmit if you want it.";
            let t = match tasks::mark_outcome_unknown(studio.db(), t.id, "outcome_unknown", msg, now) {
                Ok(t) => t,
                // Its sender wrote its answer meanwhile.
                Err(StoreError::InvalidTransition { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            tracing::warn!("task {}: its sender stopped mid-create; marked outcome unknown", t.id);
            studio.emit_task(&t);
            changed.push(t);
        }
        for t in tasks::unfinished(studio.db())? {
            if let (TaskStatus::Running, Some(kie_id)) = (t.status, &t.kie_task_id) {
                studio.client().track_running(kie_id);
            }
        }
        Ok(changed)
    }

    /// Record the Kie ids the log holds for tasks still without one (a crash, or a failed
    /// write, between the log and the database). Idempotent. A log that cannot be read is
    /// reported and skipped: it must not stop the poller. Returns the tasks changed, and the
    /// tasks whose id is in the log but could not be recorded yet.
    fn replay_id_log(self, now: i64) -> Result<(Vec<Task>, HashSet<i64>), StudioError> {
        let studio = self.studio;
        let mut changed = Vec::new();
        let mut pending = HashSet::new();
        let waiting = tasks::awaiting_kie_id(studio.db())?;
        if waiting.is_empty() {
            return Ok((changed, pending));
        }
        let lines = match idlog::read(studio.paths().root()) {
            Ok(lines) => lines,
            Err(e) => {
                tracing::warn!("the Kie id log could not be read: {e}");
                return Ok((changed, pending));
            }
        };
        for (id, model, created_at) in waiting {
            let Some(line) = lines.iter().find(|l| l.task == id && l.model == model && l.created_at == created_at)
            else {
                continue;
            };
            match tasks::mark_submitted(studio.db(), id, &line.kie_id, now) {
                Ok(t) => {
                    tracing::info!("task {id}: Kie task {} recorded from the id log", line.kie_id);
                    studio.emit_task(&t);
                    changed.push(t);
                }
                // Another task has that id, the task cannot take it, or the database cannot be
                // written yet: say so and keep going (the line stays; the next recover tries again).
                Err(e) => {
                    tracing::warn!("task {id}: Kie task {} from the id log not recorded: {e}", line.kie_id);
                    pending.insert(id);
                }
            }
        }
        Ok((changed, pending))
    }

    /// Stop tracking a task. Kie cannot cancel, so it may still finish (and charge); a late
    /// success is still recorded and downloaded.
    pub fn cancel(self, id: i64) -> Result<Task, StudioError> {
        let studio = self.studio;
        let task = tasks::mark_cancelled(studio.db(), id, studio.now_ms())?;
        if let Some(kie_id) = &task.kie_task_id {
            studio.client().finish_tracking(kie_id);
        }
        studio.emit_task(&task);
        Ok(task)
    }

    /// Poll a stale task (or one whose files did not arrive) again now. For a task whose
    /// outcome is unknown, nothing can be asked: it is returned as it stands.
    pub fn check_again(self, id: i64) -> Result<Task, StudioError> {
        let studio = self.studio;
        let now = studio.now_ms();
        let task = tasks::get(studio.db(), id)?;
        // Without a Kie id there is nothing to ask Kie: the task as it stands is the answer
        // (the window then says where to look in the user's Kie account).
        if task.status == TaskStatus::OutcomeUnknown {
            return Ok(task);
        }
        let task = if task.stale { tasks::mark_stale(studio.db(), id, false, now)? } else { task };
        let pending_download = task.status == TaskStatus::Succeeded && !task.downloads_done;
        if task.status != TaskStatus::Running && !pending_download {
            return Err(StudioError::Refused(format!(
                "Task {id} is {}; only running tasks can be checked again. For a task whose outcome is unknown, \
                 give its Kie task id if you have one, or resubmit it.",
                task.status
            )));
        }
        tasks::schedule_poll(studio.db(), id, Some(now), 0)?;
        studio.emit_task(&task);
        studio.wake().notify_one();
        Ok(task)
    }

    /// The user found the Kie id of a task whose outcome was unknown: track it.
    pub fn attach_kie_id(self, id: i64, kie_id: &str) -> Result<Task, StudioError> {
        let studio = self.studio;
        let task = tasks::attach_kie_id(studio.db(), id, kie_id, studio.now_ms())?;
        studio.client().track_running(kie_id.trim());
        studio.emit_task(&task);
        studio.wake().notify_one();
        Ok(task)
    }

    /// Send a task's input again, on purpose, as a new task (it will be paid for again).
    pub async fn resubmit(self, id: i64) -> Result<Task, StudioError> {
        let task = tasks::get(self.studio.db(), id)?;
        self.submit(&task.model, &task.input).await
    }
}

/// The creates this process has in flight, by library folder and task id: shared by every
/// studio in the process, since they share its lease owner. A `submitting` row owned by this
/// process but not in here has no create behind it any more (its answer could not be
/// written, or the sending task died), so `recover` may mark it.
#[derive(Debug)]
struct InFlight {
    root: PathBuf,
    id: i64,
}

static IN_FLIGHT: Mutex<BTreeSet<(PathBuf, i64)>> = Mutex::new(BTreeSet::new());

fn in_flight() -> MutexGuard<'static, BTreeSet<(PathBuf, i64)>> {
    IN_FLIGHT.lock().unwrap_or_else(|e| e.into_inner())
}

impl InFlight {
    /// Write the row with `insert` and count it in flight at once: nobody in this process
    /// judges the row between the two.
    fn register(
        root: &Path,
        insert: impl FnOnce() -> Result<Task, StoreError>,
    ) -> Result<(Task, InFlight), StoreError> {
        let mut set = in_flight();
        let task = insert()?;
        set.insert((root.to_path_buf(), task.id));
        let guard = InFlight { root: root.to_path_buf(), id: task.id };
        Ok((task, guard))
    }

    fn contains(root: &Path, id: i64) -> bool {
        in_flight().contains(&(root.to_path_buf(), id))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        in_flight().remove(&(std::mem::take(&mut self.root), self.id));
    }
}

/// Stops a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
