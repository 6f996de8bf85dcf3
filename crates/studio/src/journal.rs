//! The [`Journal`] service: every task is written down before anything leaves. It submits
//! creates (the row first, Kie's id the moment it arrives, the row's lease kept fresh while
//! the create is out), recovers what a crash left behind, and carries out the user's
//! deliberate actions: cancel, check again, attach a Kie id, resubmit. The rules for each
//! change of a task's state are `tasks.rs`'s.

use std::time::Duration;

use kie::KieError;
use serde_json::{Map, Value};

use crate::availability::{self, ModelState};
use crate::error::StudioError;
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
    /// create may have reached Kie (never re-sent on its own). Errors only when nothing was
    /// written (invalid input, database trouble).
    pub async fn submit(self, model: &str, input: &Map<String, Value>) -> Result<Task, StudioError> {
        let studio = self.studio;
        let normalized = studio.catalogue().validate(model, input).map_err(StudioError::InvalidInput)?;
        let spec = studio.catalogue().model(model).expect("validated, so the model exists");
        let estimate = spec.estimate_credits(&normalized);
        let now = studio.now_ms();
        let task = tasks::insert_submitting(studio.db(), model, &normalized, estimate, studio.config().demo, now)?;
        studio.emit_task(&task);
        studio.crash_point("after_insert");

        // Keep the row's lease fresh while the create waits for a slot or an answer.
        let heartbeat = {
            let studio = studio.clone();
            let id = task.id;
            let every = Duration::from_millis((studio.config().submit_lease_ms / 3).max(10) as u64);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let _ = tasks::touch_submitting(studio.db(), id, studio.now_ms());
                }
            })
        };
        let sent = studio.client().send_create(spec.protocol, model, &normalized, None).await;
        heartbeat.abort();
        let now = studio.now_ms();
        // What Kie says of the model's availability is worth keeping, but never at the cost
        // of the task's own record below.
        let _ = match &sent {
            Ok(_) => availability::clear(studio.db(), model).map(|_| ()),
            Err(err) => match ModelState::from_error(err) {
                Some(state) => availability::record(studio.db(), model, state, &err.to_string(), now),
                None => Ok(()),
            },
        };
        let task = match sent {
            Ok(kie_id) => {
                studio.crash_point("after_create_before_id");
                let task = tasks::mark_submitted(studio.db(), task.id, &kie_id, now)?;
                studio.crash_point("after_id");
                studio.wake().notify_one();
                task
            }
            Err(err @ KieError::OutcomeUnknown { .. }) => {
                tasks::mark_outcome_unknown(studio.db(), task.id, err.code().as_str(), &err.to_string(), now)?
            }
            Err(err) => tasks::mark_rejected(studio.db(), task.id, err.code().as_str(), &err.to_string(), now)?,
        };
        studio.emit_task(&task);
        Ok(task)
    }

    /// At startup (and now and then): creates whose sender died are honestly marked as
    /// outcome unknown; running tasks count against the client's running limit.
    pub fn recover(self) -> Result<Vec<Task>, StudioError> {
        let studio = self.studio;
        let now = studio.now_ms();
        let mut changed = Vec::new();
        for t in tasks::abandoned_submissions(studio.db(), now - studio.config().submit_lease_ms)? {
            let msg = "Kie Studio stopped while sending this task, so Kie may or may not have it. \
                       It was not sent again. Check your Kie account, then resubmit if you want it.";
            let t = tasks::mark_outcome_unknown(studio.db(), t.id, "outcome_unknown", msg, now)?;
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
