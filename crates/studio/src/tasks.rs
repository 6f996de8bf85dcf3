//! The task journal: every create the app sends, written down before it leaves, and every
//! state Kie reports after. There is no endpoint that lists an account's tasks, so this table
//! is the only record of what was paid for.
//!
//! Transitions (anything else is `StoreError::InvalidTransition`; nothing is overwritten):
//!
//! | call | from | to |
//! |---|---|---|
//! | `mark_submitted` | submitting, **outcome_unknown or cancelled without a Kie id** | running (same id again: no-op) |
//! | `mark_outcome_unknown` | submitting | outcome_unknown |
//! | `mark_rejected` | submitting | failed, 0 credits |
//! | `record_progress` | running | running (after a final state: ignored, see below) |
//! | `mark_succeeded` | running, **cancelled with a Kie id** | succeeded |
//! | `mark_failed` | running | failed; cancelled with a Kie id: details recorded, stays cancelled |
//! | `mark_downloaded` | succeeded | succeeded, downloads done |
//! | `mark_cancelled` | running, outcome_unknown | cancelled |
//! | `mark_stale` | running | running, stale flag set or cleared |
//! | `attach_kie_id` | outcome_unknown, cancelled without a Kie id | running |
//!
//! Decisions:
//! - Kie has no cancel call: cancelling only stops tracking, and Kie may still finish and
//!   charge. So a late success for a cancelled (or stale) task is recorded as a success,
//!   and its results are fetched: the user paid for them. A late failure of a cancelled task
//!   records Kie's reason and credits but leaves it cancelled, as the user asked.
//! - Repeating a final mark (a callback and a poll both report the end) is a no-op that
//!   only fills in credits still unknown; it never resets downloads or the first result.
//! - A poll answer that lands after a final state (`record_progress`) is ignored rather than
//!   refused: that race is normal, and writing it would move a finished task backwards.
//! - Cancelling while `submitting` is refused: the request is in flight and its id, if it
//!   comes, must be written down. A task left `submitting` by a sender that is gone
//!   ([`crate::lease`]) is marked outcome_unknown by whoever finds it.
//! - An id that arrives for a task already marked outcome_unknown (its sender was judged gone,
//!   or the id comes from the id log at the next start) or dismissed from there is taken:
//!   it is what Kie charged for, so the task is tracked again.
//! - Every refusal about a task with a Kie id names the Kie id.

use kie::catalogue::Protocol;
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{params, Connection, OptionalExtension, Row, ToSql};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::db::{required, Db, StoreError};
use crate::lease::{self, LeaseOwner, OwnerState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Written before the create request leaves; no Kie id yet.
    Submitting,
    /// Kie took it and gave an id; being polled.
    Running,
    Succeeded,
    Failed,
    /// The create may or may not have reached Kie (timeout, 5xx): never re-sent on our own.
    OutcomeUnknown,
    /// The user stopped tracking it (Kie cannot cancel; it may still finish and charge).
    Cancelled,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 6] = [
        TaskStatus::Submitting,
        TaskStatus::Running,
        TaskStatus::Succeeded,
        TaskStatus::Failed,
        TaskStatus::OutcomeUnknown,
        TaskStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Submitting => "submitting",
            TaskStatus::Running => "running",
            TaskStatus::Succeeded => "succeeded",
            TaskStatus::Failed => "failed",
            TaskStatus::OutcomeUnknown => "outcome_unknown",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<TaskStatus> {
        TaskStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Nothing more will happen to it on its own.
    pub fn is_final(self) -> bool {
        matches!(self, TaskStatus::Succeeded | TaskStatus::Failed | TaskStatus::Cancelled)
    }
}

impl std::fmt::Display for TaskStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ToSql for TaskStatus {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(self.as_str().into())
    }
}

impl FromSql for TaskStatus {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let s = value.as_str()?;
        TaskStatus::parse(s).ok_or_else(|| FromSqlError::Other(format!("unknown task status {s:?}").into()))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Task {
    pub id: i64,
    pub model: String,
    /// The full `input` sent to Kie.
    pub input: Map<String, Value>,
    pub status: TaskStatus,
    pub kie_task_id: Option<String>,
    /// Kie's last reported state (`waiting`, `generating`, ... or one it did not document).
    pub kie_state: Option<String>,
    /// 0–100, as Kie reports it.
    pub progress: Option<f64>,
    pub created_at: i64,
    pub submitted_at: Option<i64>,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
    /// Kie's `failCode` and `failMsg`, or our message for a rejection or unknown outcome.
    pub fail_code: Option<String>,
    pub fail_message: Option<String>,
    /// Our stable code (`kie::ErrorCode::as_str()`), for the UI to branch on.
    pub error_code: Option<String>,
    pub credits_estimated: Option<f64>,
    pub credits_consumed: Option<f64>,
    /// Kie's result as stored on success, kept as JSON so a change to `kie::TaskResult`
    /// cannot make old rows unreadable; see [`Task::result`].
    pub result_json: Option<Value>,
    pub downloads_done: bool,
    pub stale: bool,
    pub next_poll_at: Option<i64>,
    pub poll_errors: i64,
    pub demo: bool,
    /// The batch it was sent by (batches.rs), if any.
    pub batch_id: Option<i64>,
    /// Nothing more will happen to it on its own (from the state machine, for the window).
    pub is_final: bool,
    /// What the user may do with it now (from the state machine, for the window's buttons).
    pub actions: Vec<TaskAction>,
}

/// A deliberate user action on a task. Which are offered follows the transition table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum TaskAction {
    /// Ask Kie again now (a stale task, a download that failed, or an unknown outcome: look again).
    CheckAgain,
    /// Give the Kie task id the user found in their account.
    AttachKieId,
    /// Send the same input again, as a new (paid) task.
    Resubmit,
    /// Stop tracking (Kie cannot cancel).
    Cancel,
    /// Veo: fetch the free 1080p copy of the finished video into the library
    /// (`get_hd_video`). Offered once the task succeeded, until the copy is in.
    #[serde(rename = "get_1080p")]
    GetHd,
}

/// The actions offered for a task in this state. `hd_possible`: the task's protocol has an
/// HD copy to fetch (Veo), it was not made at 1080p or more, and no copy is in yet
/// ([`hd_possible`]).
pub fn actions_for(
    status: TaskStatus,
    stale: bool,
    downloads_done: bool,
    has_error: bool,
    has_kie_id: bool,
    hd_possible: bool,
) -> Vec<TaskAction> {
    use TaskAction::*;
    match status {
        TaskStatus::Submitting => vec![],
        TaskStatus::Running if stale => vec![CheckAgain, Cancel],
        TaskStatus::Running => vec![Cancel],
        TaskStatus::Succeeded => {
            let mut actions = Vec::new();
            if !downloads_done && has_error {
                actions.push(CheckAgain);
            }
            if hd_possible && has_kie_id {
                actions.push(GetHd);
            }
            actions
        }
        TaskStatus::Failed => vec![Resubmit],
        TaskStatus::OutcomeUnknown => vec![CheckAgain, AttachKieId, Resubmit],
        TaskStatus::Cancelled if !has_kie_id => vec![AttachKieId],
        TaskStatus::Cancelled => vec![],
    }
}

/// Whether a task of `model` with this input has an HD copy to fetch, given how many HD
/// copies it has ([`crate::library::HD_IDX_OFFSET`]): the model's protocol (from the catalogue,
/// never its id) is Veo, the video was made below 1080p (`resolution` absent or lower),
/// and no copy is in yet.
pub fn hd_possible(model: &str, input: &Map<String, Value>, hd_copies: i64) -> bool {
    let veo = kie::catalogue::Catalogue::builtin().model(model).is_some_and(|m| m.protocol == Protocol::Veo);
    let resolution = input.get("resolution").and_then(Value::as_str).map(|r| r.trim().to_ascii_lowercase());
    let already_hd = matches!(resolution.as_deref(), Some("1080p" | "4k"));
    veo && !already_hd && hd_copies == 0
}

impl Task {
    /// The stored result, if there is one and it still reads as a `kie::TaskResult`.
    pub fn result(&self) -> Option<kie::TaskResult> {
        serde_json::from_value(self.result_json.clone()?).ok()
    }

    /// The text prompt, when the model has one.
    pub fn prompt(&self) -> Option<&str> {
        self.input.get("prompt").and_then(Value::as_str)
    }
}

/// Filters for [`list`]. Newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskQuery {
    pub status: Option<TaskStatus>,
    pub model: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

impl Default for TaskQuery {
    fn default() -> Self {
        TaskQuery { status: None, model: None, limit: 100, offset: 0 }
    }
}

const COLUMNS: &str = "id, model, input_json, status, kie_task_id, kie_state, progress, created_at, submitted_at, \
     updated_at, finished_at, fail_code, fail_message, error_code, credits_estimated, credits_consumed, result_json, \
     downloads_done, stale, next_poll_at, poll_errors, demo, batch_id, \
     (SELECT count(*) FROM results hd WHERE hd.task_id = tasks.id AND hd.idx >= 1000) AS hd_copies";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Task> {
    let input: String = r.get("input_json")?;
    let input = serde_json::from_str(&input)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into()))?;
    let result_json = r
        .get::<_, Option<String>>("result_json")?
        .map(|s| serde_json::from_str(&s))
        .transpose()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(16, rusqlite::types::Type::Text, e.into()))?;
    let status: TaskStatus = r.get("status")?;
    let kie_task_id: Option<String> = r.get("kie_task_id")?;
    let stale: bool = r.get("stale")?;
    let downloads_done: bool = r.get("downloads_done")?;
    let error_code: Option<String> = r.get("error_code")?;
    let model: String = r.get("model")?;
    let hd = hd_possible(&model, &input, r.get("hd_copies")?);
    Ok(Task {
        id: r.get("id")?,
        actions: actions_for(status, stale, downloads_done, error_code.is_some(), kie_task_id.is_some(), hd),
        model,
        input,
        kie_state: r.get("kie_state")?,
        progress: r.get("progress")?,
        created_at: r.get("created_at")?,
        submitted_at: r.get("submitted_at")?,
        updated_at: r.get("updated_at")?,
        finished_at: r.get("finished_at")?,
        fail_code: r.get("fail_code")?,
        fail_message: r.get("fail_message")?,
        credits_estimated: r.get("credits_estimated")?,
        credits_consumed: r.get("credits_consumed")?,
        result_json,
        next_poll_at: r.get("next_poll_at")?,
        poll_errors: r.get("poll_errors")?,
        demo: r.get("demo")?,
        batch_id: r.get("batch_id")?,
        is_final: status.is_final(),
        status,
        kie_task_id,
        stale,
        downloads_done,
        error_code,
    })
}

fn load(c: &Connection, id: i64) -> Result<Task, StoreError> {
    // Cached: the poller loads tasks several times a second (parsing this cost more than running it).
    let t = c
        .prepare_cached(&format!("SELECT {COLUMNS} FROM tasks WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?;
    required(t, "task", id)
}

fn refuse(t: &Task, action: &str) -> StoreError {
    StoreError::InvalidTransition { id: t.id, why: format!("cannot {action} a task that is {}{}", t.status, of_kie(t)) }
}

/// " (Kie task …)" when the task has a Kie id: every error about a task names it.
fn of_kie(t: &Task) -> String {
    t.kie_task_id.as_deref().map(|k| format!(" (Kie task {k})")).unwrap_or_default()
}

/// Load the task, let `step` check the transition and write it, then return the task as stored.
fn change(
    db: &Db,
    id: i64,
    step: impl FnOnce(&Connection, &Task) -> Result<(), StoreError>,
) -> Result<Task, StoreError> {
    db.tx(|tx| {
        let before = load(tx, id)?;
        step(tx, &before)?;
        load(tx, id)
    })
}

fn clean_kie_id(kie_task_id: &str) -> Result<&str, StoreError> {
    let k = kie_task_id.trim();
    if k.is_empty() {
        return Err(StoreError::InvalidInput("A Kie task id cannot be empty".into()));
    }
    Ok(k)
}

/// A Kie id belongs to one task only; say which one already has it.
fn check_kie_id_free(c: &Connection, id: i64, kie_task_id: &str) -> Result<(), StoreError> {
    let other: Option<i64> = c
        .query_row("SELECT id FROM tasks WHERE kie_task_id = ?1 AND id <> ?2", params![kie_task_id, id], |r| r.get(0))
        .optional()?;
    match other {
        Some(task_id) => Err(StoreError::KieIdInUse { kie_task_id: kie_task_id.to_string(), task_id }),
        None => Ok(()),
    }
}

/// Write the task down before its create request leaves, so a crash mid-request still
/// leaves a trace of what may have been paid for.
/// Its lease has no owner: it is judged by the wall clock alone (see [`insert_submitting_owned`]).
pub fn insert_submitting(
    db: &Db,
    model: &str,
    input: &Map<String, Value>,
    credits_estimated: Option<f64>,
    demo: bool,
    now_ms: i64,
) -> Result<Task, StoreError> {
    insert_submitting_owned(db, model, input, credits_estimated, demo, None, now_ms)
}

/// [`insert_submitting`], the row's lease held by `owner` (the process about to send the
/// create): no other process abandons it while that process lives.
pub fn insert_submitting_owned(
    db: &Db,
    model: &str,
    input: &Map<String, Value>,
    credits_estimated: Option<f64>,
    demo: bool,
    owner: Option<&LeaseOwner>,
    now_ms: i64,
) -> Result<Task, StoreError> {
    insert_submitting_for(db, model, input, credits_estimated, demo, owner, None, now_ms)
}

/// A batch's item being sent as a task (batches.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemLink {
    pub batch_id: i64,
    pub item_id: i64,
}

/// [`insert_submitting_owned`], and for a batch's item, the item marked sent with this task
/// in the same transaction: a batch continued after a crash can never send it again. Refused
/// (`InvalidTransition`, nothing written) when the item is no longer waiting to be sent, or
/// its batch no longer sending (paused or cancelled a moment before).
#[allow(clippy::too_many_arguments)]
pub fn insert_submitting_for(
    db: &Db,
    model: &str,
    input: &Map<String, Value>,
    credits_estimated: Option<f64>,
    demo: bool,
    owner: Option<&LeaseOwner>,
    item: Option<ItemLink>,
    now_ms: i64,
) -> Result<Task, StoreError> {
    let input_json = serde_json::to_string(input)?;
    db.tx(|tx| {
        tx.execute(
            "INSERT INTO tasks (model, input_json, status, created_at, updated_at, credits_estimated, demo,
                lease_pid, lease_start, batch_id)
             VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                model,
                input_json,
                TaskStatus::Submitting,
                now_ms,
                credits_estimated,
                demo,
                owner.map(|o| o.pid),
                owner.map(|o| o.start.as_str()),
                item.map(|i| i.batch_id)
            ],
        )?;
        let id = tx.last_insert_rowid();
        if let Some(item) = item {
            let marked = tx.execute(
                "UPDATE batch_items SET state = 'sent', task_id = ?3, sent_at = ?4
                 WHERE id = ?1 AND batch_id = ?2 AND state = 'pending'
                   AND (SELECT b.state FROM batches b WHERE b.id = ?2) = 'running'",
                params![item.item_id, item.batch_id, id, now_ms],
            )?;
            if marked != 1 {
                return Err(StoreError::InvalidTransition {
                    id: item.item_id,
                    why: "this batch item is no longer waiting to be sent, or its batch was paused".into(),
                });
            }
        }
        load(tx, id)
    })
}

/// Kie answered with an id: write it down at once (it is the only way back to the task).
/// Also taken late, by a task marked outcome-unknown (or dismissed from there) meanwhile.
pub fn mark_submitted(db: &Db, id: i64, kie_task_id: &str, now_ms: i64) -> Result<Task, StoreError> {
    let kie_task_id = clean_kie_id(kie_task_id)?;
    change(db, id, |tx, t| match (&t.kie_task_id, t.status) {
        (Some(existing), _) if existing == kie_task_id => Ok(()),
        (Some(existing), _) => Err(StoreError::InvalidTransition {
            id,
            why: format!("already submitted as Kie task {existing}; refusing {kie_task_id}"),
        }),
        (None, TaskStatus::Submitting) => {
            check_kie_id_free(tx, id, kie_task_id)?;
            tx.execute(
                "UPDATE tasks SET status = ?2, kie_task_id = ?3, submitted_at = ?4, updated_at = ?4 WHERE id = ?1",
                params![id, TaskStatus::Running, kie_task_id, now_ms],
            )?;
            Ok(())
        }
        (None, TaskStatus::OutcomeUnknown | TaskStatus::Cancelled) => {
            check_kie_id_free(tx, id, kie_task_id)?;
            tx.execute(
                "UPDATE tasks SET status = ?2, kie_task_id = ?3, submitted_at = coalesce(submitted_at, ?4),
                    error_code = NULL, fail_message = NULL, stale = 0, poll_errors = 0, next_poll_at = NULL,
                    finished_at = NULL, updated_at = ?4 WHERE id = ?1",
                params![id, TaskStatus::Running, kie_task_id, now_ms],
            )?;
            Ok(())
        }
        _ => Err(StoreError::InvalidTransition {
            id,
            why: format!("cannot take Kie task {kie_task_id}: the task is {}", t.status),
        }),
    })
}

/// The create may or may not have reached Kie. It is not sent again; the user decides.
pub fn mark_outcome_unknown(
    db: &Db,
    id: i64,
    error_code: &str,
    message: &str,
    now_ms: i64,
) -> Result<Task, StoreError> {
    change(db, id, |tx, t| match t.status {
        TaskStatus::Submitting | TaskStatus::OutcomeUnknown => {
            tx.execute(
                "UPDATE tasks SET status = ?2, error_code = ?3, fail_message = ?4, updated_at = ?5 WHERE id = ?1",
                params![id, TaskStatus::OutcomeUnknown, error_code, message, now_ms],
            )?;
            Ok(())
        }
        _ => Err(refuse(t, "mark outcome-unknown")),
    })
}

/// Kie refused the create (validation, key, credits, paused model): nothing was charged.
pub fn mark_rejected(db: &Db, id: i64, error_code: &str, message: &str, now_ms: i64) -> Result<Task, StoreError> {
    change(db, id, |tx, t| match t.status {
        TaskStatus::Submitting => {
            tx.execute(
                "UPDATE tasks SET status = ?2, error_code = ?3, fail_message = ?4, credits_consumed = 0,
                    updated_at = ?5, finished_at = ?5 WHERE id = ?1",
                params![id, TaskStatus::Failed, error_code, message, now_ms],
            )?;
            Ok(())
        }
        _ => Err(refuse(t, "mark rejected")),
    })
}

/// A poll's news for a running task. Ignored once the task is final (see the module doc).
pub fn record_progress(
    db: &Db,
    id: i64,
    kie_state: &str,
    progress: Option<f64>,
    now_ms: i64,
) -> Result<Task, StoreError> {
    change(db, id, |tx, t| match t.status {
        TaskStatus::Running => {
            tx.execute(
                "UPDATE tasks SET kie_state = ?2, progress = coalesce(?3, progress), updated_at = ?4 WHERE id = ?1",
                params![id, kie_state, progress, now_ms],
            )?;
            Ok(())
        }
        s if s.is_final() => Ok(()),
        _ => Err(refuse(t, "record progress for")),
    })
}

/// [`record_progress`] and [`schedule_poll`] (errors cleared) in one transaction: one sync to
/// disk per poll instead of two (issue 11). Ignored once the task is final.
pub fn record_poll(
    db: &Db,
    id: i64,
    kie_state: &str,
    progress: Option<f64>,
    next_poll_at: i64,
    now_ms: i64,
) -> Result<Task, StoreError> {
    change(db, id, |tx, t| match t.status {
        TaskStatus::Running => {
            tx.prepare_cached(
                "UPDATE tasks SET kie_state = ?2, progress = coalesce(?3, progress), updated_at = ?4,
                    next_poll_at = ?5, poll_errors = 0 WHERE id = ?1",
            )?
            .execute(params![id, kie_state, progress, now_ms, next_poll_at])?;
            Ok(())
        }
        s if s.is_final() => Ok(()),
        _ => Err(refuse(t, "record progress for")),
    })
}

/// Kie reported success. The result is stored now, before any download, so that nothing
/// is lost if the app stops; `downloads_done` stays 0 until [`mark_downloaded`].
pub fn mark_succeeded(
    db: &Db,
    id: i64,
    result: &kie::TaskResult,
    credits_consumed: Option<f64>,
    now_ms: i64,
) -> Result<Task, StoreError> {
    let result_json = serde_json::to_string(result)?;
    change(db, id, |tx, t| match t.status {
        TaskStatus::Running | TaskStatus::Cancelled if t.kie_task_id.is_some() => {
            tx.execute(
                "UPDATE tasks SET status = ?2, result_json = ?3, credits_consumed = coalesce(?4, credits_consumed),
                    kie_state = 'success', progress = 100, downloads_done = 0, stale = 0, next_poll_at = NULL,
                    error_code = NULL, updated_at = ?5, finished_at = ?5 WHERE id = ?1",
                params![id, TaskStatus::Succeeded, result_json, credits_consumed, now_ms],
            )?;
            Ok(())
        }
        TaskStatus::Succeeded => {
            tx.execute(
                "UPDATE tasks SET credits_consumed = coalesce(credits_consumed, ?2),
                    result_json = coalesce(result_json, ?3) WHERE id = ?1",
                params![id, credits_consumed, result_json],
            )?;
            Ok(())
        }
        _ => Err(refuse(t, "mark succeeded")),
    })
}

/// Every result of the task is in the library.
pub fn mark_downloaded(db: &Db, id: i64, now_ms: i64) -> Result<Task, StoreError> {
    change(db, id, |tx, t| match t.status {
        TaskStatus::Succeeded if t.downloads_done => Ok(()),
        TaskStatus::Succeeded => {
            tx.execute("UPDATE tasks SET downloads_done = 1, updated_at = ?2 WHERE id = ?1", params![id, now_ms])?;
            Ok(())
        }
        _ => Err(refuse(t, "mark downloaded")),
    })
}

/// Kie reported failure (`failCode`/`failMsg`; `creditsConsumed` is 0 when uncharged).
pub fn mark_failed(
    db: &Db,
    id: i64,
    fail_code: Option<&str>,
    fail_message: Option<&str>,
    credits_consumed: Option<f64>,
    now_ms: i64,
) -> Result<Task, StoreError> {
    change(db, id, |tx, t| match t.status {
        TaskStatus::Running => {
            tx.execute(
                "UPDATE tasks SET status = ?2, fail_code = ?3, fail_message = ?4,
                    credits_consumed = coalesce(?5, credits_consumed), error_code = ?6, kie_state = 'fail',
                    stale = 0, next_poll_at = NULL, updated_at = ?7, finished_at = ?7 WHERE id = ?1",
                params![
                    id,
                    TaskStatus::Failed,
                    fail_code,
                    fail_message,
                    credits_consumed,
                    kie::ErrorCode::GenerationFailed.as_str(),
                    now_ms
                ],
            )?;
            Ok(())
        }
        // Late news for a task the user cancelled: keep what Kie said and charged, not the status.
        TaskStatus::Cancelled if t.kie_task_id.is_some() => {
            tx.execute(
                "UPDATE tasks SET fail_code = ?2, fail_message = ?3, credits_consumed = coalesce(?4, credits_consumed),
                    kie_state = 'fail', updated_at = ?5 WHERE id = ?1",
                params![id, fail_code, fail_message, credits_consumed, now_ms],
            )?;
            Ok(())
        }
        TaskStatus::Failed if t.kie_task_id.is_some() => {
            tx.execute(
                "UPDATE tasks SET credits_consumed = coalesce(credits_consumed, ?2) WHERE id = ?1",
                params![id, credits_consumed],
            )?;
            Ok(())
        }
        _ => Err(refuse(t, "mark failed")),
    })
}

/// Stop tracking a running task, or dismiss an outcome-unknown one. Kie is not told (it
/// cannot be) and may still charge.
pub fn mark_cancelled(db: &Db, id: i64, now_ms: i64) -> Result<Task, StoreError> {
    change(db, id, |tx, t| match t.status {
        TaskStatus::Cancelled => Ok(()),
        TaskStatus::Running | TaskStatus::OutcomeUnknown => {
            tx.execute(
                "UPDATE tasks SET status = ?2, stale = 0, next_poll_at = NULL, updated_at = ?3, finished_at = ?3
                 WHERE id = ?1",
                params![id, TaskStatus::Cancelled, now_ms],
            )?;
            Ok(())
        }
        _ => Err(refuse(t, "cancel")),
    })
}

/// The poller gave up on a running task for now (or the user asked to try again: `false`).
pub fn mark_stale(db: &Db, id: i64, stale: bool, now_ms: i64) -> Result<Task, StoreError> {
    change(db, id, |tx, t| match t.status {
        TaskStatus::Running => {
            tx.execute("UPDATE tasks SET stale = ?2, updated_at = ?3 WHERE id = ?1", params![id, stale, now_ms])?;
            Ok(())
        }
        _ => Err(refuse(t, if stale { "mark stale" } else { "un-stale" })),
    })
}

/// Poller bookkeeping; not a change the user sees, so `updated_at` stays.
pub fn schedule_poll(db: &Db, id: i64, next_poll_at: Option<i64>, poll_errors: i64) -> Result<(), StoreError> {
    let n =
        db.with(|c| {
            Ok(c.prepare_cached("UPDATE tasks SET next_poll_at = ?2, poll_errors = ?3 WHERE id = ?1")?
                .execute(params![id, next_poll_at, poll_errors])?)
        })?;
    if n == 0 {
        return Err(StoreError::not_found("task", id));
    }
    Ok(())
}

/// The user found the Kie id of a task whose outcome was unknown (or that they dismissed):
/// track it again.
pub fn attach_kie_id(db: &Db, id: i64, kie_task_id: &str, now_ms: i64) -> Result<Task, StoreError> {
    let kie_task_id = clean_kie_id(kie_task_id)?;
    change(db, id, |tx, t| match (&t.kie_task_id, t.status) {
        (Some(existing), _) if existing == kie_task_id => Ok(()),
        (None, TaskStatus::OutcomeUnknown | TaskStatus::Cancelled) => {
            check_kie_id_free(tx, id, kie_task_id)?;
            tx.execute(
                "UPDATE tasks SET status = ?2, kie_task_id = ?3, submitted_at = coalesce(submitted_at, ?4),
                    error_code = NULL, fail_message = NULL, stale = 0, poll_errors = 0, next_poll_at = NULL,
                    finished_at = NULL, updated_at = ?4 WHERE id = ?1",
                params![id, TaskStatus::Running, kie_task_id, now_ms],
            )?;
            Ok(())
        }
        _ => Err(refuse(t, "attach a Kie id to")),
    })
}

pub fn get(db: &Db, id: i64) -> Result<Task, StoreError> {
    db.with(|c| load(c, id))
}

pub fn by_kie_id(db: &Db, kie_task_id: &str) -> Result<Option<Task>, StoreError> {
    db.with(|c| {
        Ok(c.query_row(&format!("SELECT {COLUMNS} FROM tasks WHERE kie_task_id = ?1"), [kie_task_id.trim()], from_row)
            .optional()?)
    })
}

/// Tasks that still want something of the app or of the user: being sent, being polled
/// (also given up on: stale), Kie's answer unknown, or files still coming.
const OPEN: &str =
    "status IN ('submitting', 'running', 'outcome_unknown') OR (status = 'succeeded' AND downloads_done = 0)";

/// Open tasks the queue shows at most beside the newest (a batch of hundreds shows as its row).
pub const QUEUE_OPEN_MAX: u32 = 200;

/// The queue (issue 11): the newest `newest` tasks and, older than those, every one still
/// [open](OPEN) (up to [`QUEUE_OPEN_MAX`]), so that nothing running or waiting for the user is
/// out of sight however few are shown; with `before` (a task's id), the `newest` tasks older
/// than that one (the user asked for more). Newest first. Keyset, not offset: a page costs
/// the same at 100,000 tasks as at 10.
pub fn queue(db: &Db, newest: u32, before: Option<i64>) -> Result<Vec<Task>, StoreError> {
    db.with(|c| {
        let page = |c: &rusqlite::Connection, cond: &str, p: &[&dyn rusqlite::ToSql]| -> rusqlite::Result<Vec<Task>> {
            let mut st = c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM tasks WHERE {cond} ORDER BY created_at DESC, id DESC LIMIT ?1"
            ))?;
            let rows = st.query_map(p, from_row)?.collect();
            rows
        };
        if let Some(id) = before {
            return Ok(page(
                c,
                "(created_at, id) < (SELECT created_at, id FROM tasks WHERE id = ?2)",
                &[&newest, &id],
            )?);
        }
        let mut rows = page(c, "1", &[&newest])?;
        if let Some(last) = rows.last() {
            let (at, id) = (last.created_at, last.id);
            let older = page(c, &format!("({OPEN}) AND (created_at, id) < (?2, ?3)"), &[&QUEUE_OPEN_MAX, &at, &id])?;
            rows.extend(older);
        }
        Ok(rows)
    })
}

/// What the poller and downloader must pick up at startup: running tasks with a Kie id
/// that have not been given up on, and successes whose files are not all in yet. Oldest first.
pub fn unfinished(db: &Db) -> Result<Vec<Task>, StoreError> {
    db.with(|c| {
        let mut st = c.prepare(&format!(
            "SELECT {COLUMNS} FROM tasks
             WHERE (status = 'running' AND kie_task_id IS NOT NULL AND stale = 0)
                OR (status = 'succeeded' AND downloads_done = 0)
             ORDER BY id"
        ))?;
        let rows = st.query_map([], from_row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    })
}

const DUE: &str = "SELECT id, status FROM tasks
     WHERE ((status = 'running' AND kie_task_id IS NOT NULL AND stale = 0)
        OR (status = 'succeeded' AND downloads_done = 0))
       AND (next_poll_at IS NULL OR next_poll_at <= ?1)
     ORDER BY coalesce(next_poll_at, 0), id";

/// The [`unfinished`] tasks due at `now_ms` (never scheduled, or scheduled for then or
/// before), as (id, status), the longest overdue first, so that when there is more to ask
/// than Kie's budget allows, every task still gets its turn. Cheap: no row is decoded (the
/// scheduler asks several times a second).
pub fn due(db: &Db, now_ms: i64) -> Result<Vec<(i64, TaskStatus)>, StoreError> {
    db.with(|c| {
        let mut st = c.prepare_cached(DUE)?;
        let rows = st.query_map([now_ms], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    })
}

/// Whether any task is [`unfinished`].
pub fn any_unfinished(db: &Db) -> Result<bool, StoreError> {
    db.with(|c| {
        Ok(c.query_row(
            "SELECT EXISTS (SELECT 1 FROM tasks
             WHERE (status = 'running' AND kie_task_id IS NOT NULL AND stale = 0)
                OR (status = 'succeeded' AND downloads_done = 0))",
            [],
            |r| r.get(0),
        )?)
    })
}

/// Newest first.
pub fn list(db: &Db, q: &TaskQuery) -> Result<Vec<Task>, StoreError> {
    db.with(|c| {
        let mut st = c.prepare(&format!(
            "SELECT {COLUMNS} FROM tasks
             WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR model = ?2)
             ORDER BY created_at DESC, id DESC LIMIT ?3 OFFSET ?4"
        ))?;
        let rows = st.query_map(params![q.status, q.model, q.limit, q.offset], from_row)?.collect::<Result<_, _>>()?;
        Ok(rows)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn input(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn new_task(db: &Db, now: i64) -> Task {
        insert_submitting(db, "sora-2-text-to-video", &input(json!({"prompt": "a fox"})), Some(30.0), false, now)
            .unwrap()
    }

    fn running(db: &Db, kie: &str) -> Task {
        let t = new_task(db, 1);
        mark_submitted(db, t.id, kie, 2).unwrap()
    }

    fn result() -> kie::TaskResult {
        kie::TaskResult { result_urls: vec!["https://x/a.mp4".into()], ..Default::default() }
    }

    fn is_invalid(r: Result<Task, StoreError>) -> bool {
        matches!(r, Err(StoreError::InvalidTransition { .. }))
    }

    #[test]
    fn a_poll_is_recorded_and_scheduled_at_once() {
        let db = Db::open_in_memory().unwrap();
        let t = running(&db, "k1");
        schedule_poll(&db, t.id, Some(50), 3).unwrap();
        let after = record_poll(&db, t.id, "generating", Some(40.0), 9_000, 100).unwrap();
        assert_eq!((after.kie_state.as_deref(), after.progress), (Some("generating"), Some(40.0)));
        assert_eq!((after.next_poll_at, after.poll_errors, after.updated_at), (Some(9_000), 0, 100));
        // No progress in the answer: the last one stays.
        assert_eq!(record_poll(&db, t.id, "generating", None, 9_500, 200).unwrap().progress, Some(40.0));
        // A task that ended meanwhile is left as it is.
        mark_failed(&db, t.id, None, None, None, 300).unwrap();
        let ended = record_poll(&db, t.id, "generating", Some(50.0), 10_000, 400).unwrap();
        assert_eq!((ended.status, ended.next_poll_at, ended.progress), (TaskStatus::Failed, None, Some(40.0)));
    }

    #[test]
    fn the_queue_is_the_newest_and_every_open_task_older_and_pages_back_by_key() {
        let db = Db::open_in_memory().unwrap();
        let at = |n: i64| {
            insert_submitting(&db, "sora-2-text-to-video", &input(json!({"prompt": "a fox"})), Some(30.0), false, n)
                .unwrap()
        };
        // Oldest first: an unknown outcome, a running task, a success still downloading, then
        // eight finished ones.
        let unknown = at(1);
        mark_outcome_unknown(&db, unknown.id, "timeout", "no answer", 2).unwrap();
        let polled = at(2);
        mark_submitted(&db, polled.id, "k-running", 3).unwrap();
        let fetching = at(3);
        mark_submitted(&db, fetching.id, "k-fetching", 4).unwrap();
        mark_succeeded(&db, fetching.id, &result(), Some(30.0), 5).unwrap();
        let done: Vec<i64> = (10..18)
            .map(|n| {
                let t = at(n);
                mark_submitted(&db, t.id, &format!("k{n}"), n).unwrap();
                mark_failed(&db, t.id, None, None, None, n).unwrap();
                t.id
            })
            .collect();
        let ids = |v: Vec<Task>| v.into_iter().map(|t| t.id).collect::<Vec<_>>();

        // The newest three, then the open ones older than those, newest first.
        let first = ids(queue(&db, 3, None).unwrap());
        assert_eq!(first, vec![done[7], done[6], done[5], fetching.id, polled.id, unknown.id]);
        // Asked for more: the three older than the last of the newest, finished or not.
        assert_eq!(ids(queue(&db, 3, Some(done[5])).unwrap()), vec![done[4], done[3], done[2]]);
        assert_eq!(ids(queue(&db, 5, Some(done[0])).unwrap()), vec![fetching.id, polled.id, unknown.id]);
        assert!(queue(&db, 5, Some(unknown.id)).unwrap().is_empty());
        // Fewer tasks than asked for: each once.
        assert_eq!(queue(&db, 50, None).unwrap().len(), 11);
        // Ties of time are ordered by id.
        let (a, b) = (at(20), at(20));
        assert_eq!(ids(queue(&db, 2, None).unwrap())[..2], [b.id, a.id]);
        assert_eq!(ids(queue(&db, 1, Some(b.id)).unwrap()), vec![a.id]);
    }

    #[test]
    fn the_queue_reads_no_more_than_it_shows() {
        let db = Db::open_in_memory().unwrap();
        let plans = db
            .with(|c| {
                let mut out = Vec::new();
                for cond in [
                    "1".to_string(),
                    format!("({OPEN}) AND (created_at, id) < (?2, ?3)"),
                    "(created_at, id) < (SELECT created_at, id FROM tasks WHERE id = ?2)".to_string(),
                ] {
                    let sql = format!("EXPLAIN QUERY PLAN SELECT id FROM tasks WHERE {cond} ORDER BY created_at DESC, id DESC LIMIT 5");
                    let mut st = c.prepare(&sql)?;
                    let n = st.parameter_count();
                    let rows = st
                        .query_map(rusqlite::params_from_iter(std::iter::repeat_n(1, n)), |r| r.get::<_, String>(3))?
                        .collect::<Result<Vec<_>, _>>()?;
                    out.push(rows);
                }
                Ok(out)
            })
            .unwrap();
        // The newest and the older pages walk the time index from where they start.
        for plan in [&plans[0], &plans[2]] {
            assert!(plan.iter().any(|p| p.contains("tasks_created_at")), "{plan:?}");
            assert!(!plan.iter().any(|p| p.contains("TEMP B-TREE")), "{plan:?}");
        }
        // The open ones are looked up by status, never by reading every finished task.
        let open = &plans[1];
        assert!(open.iter().any(|p| p.contains("(status=?)")), "{open:?}");
        assert!(!open.iter().any(|p| p == "SCAN tasks" || p.contains("USING INDEX tasks_created_at")), "{open:?}");
    }

    #[test]
    fn due_tasks_are_found_without_reading_every_finished_one() {
        let db = Db::open_in_memory().unwrap();
        let plan: Vec<String> = db
            .with(|c| {
                let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {DUE}"))?;
                let rows = st.query_map([0], |r| r.get(3))?.collect::<Result<Vec<String>, _>>()?;
                Ok(rows)
            })
            .unwrap();
        assert!(plan.iter().any(|p| p.contains("tasks_to_fetch (status=? AND downloads_done=?)")), "{plan:?}");
        assert!(!plan.iter().any(|p| p.starts_with("SCAN")), "{plan:?}");
    }

    #[test]
    fn due_tasks_come_longest_overdue_first() {
        let db = Db::open_in_memory().unwrap();
        let (a, b, c, d) = (running(&db, "a"), running(&db, "b"), running(&db, "c"), running(&db, "d"));
        schedule_poll(&db, a.id, Some(900), 0).unwrap();
        schedule_poll(&db, b.id, Some(100), 0).unwrap();
        schedule_poll(&db, c.id, Some(5_000), 0).unwrap();
        // d was never scheduled: due at once, first.
        let done = running(&db, "e");
        mark_succeeded(&db, done.id, &result(), Some(30.0), 3).unwrap();
        mark_downloaded(&db, done.id, 4).unwrap();
        let ids = |now| due(&db, now).unwrap().into_iter().map(|(id, _)| id).collect::<Vec<_>>();
        assert_eq!(ids(1_000), [d.id, b.id, a.id]);
        assert_eq!(ids(5_000), [d.id, b.id, a.id, c.id]);
        assert_eq!(due(&db, 1_000).unwrap()[0].1, TaskStatus::Running);
        assert!(any_unfinished(&db).unwrap());
        for t in [a, b, c, d] {
            mark_failed(&db, t.id, None, None, None, 10).unwrap();
        }
        assert!(ids(5_000).is_empty());
        assert!(!any_unfinished(&db).unwrap());
    }

    #[test]
    fn status_round_trips() {
        for s in TaskStatus::ALL {
            assert_eq!(TaskStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), json!(s.as_str()));
        }
        assert_eq!(TaskStatus::parse("done"), None);
    }

    #[test]
    fn happy_path_keeps_everything() {
        let db = Db::open_in_memory().unwrap();
        let t = new_task(&db, 10);
        assert_eq!(t.status, TaskStatus::Submitting);
        assert_eq!((t.created_at, t.updated_at, t.credits_estimated), (10, 10, Some(30.0)));
        assert_eq!(t.prompt(), Some("a fox"));

        let t = mark_submitted(&db, t.id, " kie-1 ", 11).unwrap();
        assert_eq!(
            (t.status, t.kie_task_id.as_deref(), t.submitted_at),
            (TaskStatus::Running, Some("kie-1"), Some(11))
        );

        let t = record_progress(&db, t.id, "generating", Some(40.0), 12).unwrap();
        assert_eq!((t.kie_state.as_deref(), t.progress, t.updated_at), (Some("generating"), Some(40.0), 12));
        let t = record_progress(&db, t.id, "generating", None, 13).unwrap();
        assert_eq!(t.progress, Some(40.0), "an absent progress keeps the last one");

        schedule_poll(&db, t.id, Some(20), 2).unwrap();
        let t = get(&db, t.id).unwrap();
        assert_eq!((t.next_poll_at, t.poll_errors, t.updated_at), (Some(20), 2, 13));

        let t = mark_succeeded(&db, t.id, &result(), Some(30.0), 14).unwrap();
        assert_eq!(t.status, TaskStatus::Succeeded);
        assert_eq!((t.finished_at, t.credits_consumed, t.downloads_done), (Some(14), Some(30.0), false));
        assert_eq!(t.result(), Some(result()));
        assert_eq!(t.next_poll_at, None);
        assert_eq!(unfinished(&db).unwrap().len(), 1, "results still to fetch");

        let t = mark_downloaded(&db, t.id, 15).unwrap();
        assert!(t.downloads_done);
        assert!(unfinished(&db).unwrap().is_empty());
        assert_eq!(by_kie_id(&db, "kie-1").unwrap().unwrap().id, t.id);
        assert_eq!(by_kie_id(&db, "nope").unwrap(), None);
    }

    #[test]
    fn submitted_twice() {
        let db = Db::open_in_memory().unwrap();
        let t = running(&db, "k1");
        assert_eq!(mark_submitted(&db, t.id, "k1", 5).unwrap().submitted_at, Some(2), "same id: no-op");
        assert!(is_invalid(mark_submitted(&db, t.id, "k2", 5)));
        assert_eq!(get(&db, t.id).unwrap().kie_task_id.as_deref(), Some("k1"));
        // Another task cannot take the same Kie id.
        let u = new_task(&db, 6);
        assert!(
            matches!(mark_submitted(&db, u.id, "k1", 7), Err(StoreError::KieIdInUse { task_id, .. }) if task_id == t.id)
        );
        assert!(matches!(mark_submitted(&db, u.id, "  ", 7), Err(StoreError::InvalidInput(_))));
        assert!(matches!(get(&db, 999), Err(StoreError::NotFound { .. })));
        assert!(matches!(mark_submitted(&db, 999, "k9", 1), Err(StoreError::NotFound { .. })));
        assert!(matches!(schedule_poll(&db, 999, None, 0), Err(StoreError::NotFound { .. })));
    }

    #[test]
    fn rejection_and_unknown_outcome() {
        let db = Db::open_in_memory().unwrap();
        let t = new_task(&db, 1);
        let t = mark_rejected(&db, t.id, "insufficient_credits", "Not enough credits", 2).unwrap();
        assert_eq!((t.status, t.credits_consumed, t.finished_at), (TaskStatus::Failed, Some(0.0), Some(2)));
        assert_eq!(t.error_code.as_deref(), Some("insufficient_credits"));
        assert!(is_invalid(mark_submitted(&db, t.id, "k", 3)));

        let u = new_task(&db, 1);
        let u = mark_outcome_unknown(&db, u.id, "outcome_unknown", "timed out", 2).unwrap();
        assert_eq!((u.status, u.finished_at), (TaskStatus::OutcomeUnknown, None));
        assert!(unfinished(&db).unwrap().is_empty(), "nothing to poll without an id");
        assert!(is_invalid(mark_succeeded(&db, u.id, &result(), None, 3)));
        // The user found its id on Kie's site.
        let u = attach_kie_id(&db, u.id, "found-1", 4).unwrap();
        assert_eq!((u.status, u.error_code.as_deref(), u.submitted_at), (TaskStatus::Running, None, Some(4)));
        assert_eq!(unfinished(&db).unwrap().len(), 1);
        assert!(is_invalid(attach_kie_id(&db, u.id, "found-2", 5)));

        // Dismissed, then found after all.
        let v = new_task(&db, 1);
        mark_outcome_unknown(&db, v.id, "timeout", "t", 2).unwrap();
        assert_eq!(mark_cancelled(&db, v.id, 3).unwrap().status, TaskStatus::Cancelled);
        let v = attach_kie_id(&db, v.id, "found-3", 4).unwrap();
        assert_eq!((v.status, v.finished_at), (TaskStatus::Running, None));
        assert!(matches!(
            attach_kie_id(&db, new_task(&db, 1).id, "found-3", 5),
            Err(StoreError::InvalidTransition { .. })
        ));
    }

    #[test]
    fn nonsense_is_refused_not_written() {
        let db = Db::open_in_memory().unwrap();
        let t = new_task(&db, 1);
        assert!(is_invalid(mark_cancelled(&db, t.id, 2)), "in flight");
        assert!(is_invalid(record_progress(&db, t.id, "waiting", None, 2)));
        assert!(is_invalid(mark_failed(&db, t.id, None, None, None, 2)));
        assert!(is_invalid(mark_downloaded(&db, t.id, 2)));
        assert!(is_invalid(mark_stale(&db, t.id, true, 2)));

        let t = running(&db, "k1");
        assert!(is_invalid(mark_rejected(&db, t.id, "x", "y", 3)));
        assert!(is_invalid(mark_outcome_unknown(&db, t.id, "x", "y", 3)));
        mark_failed(&db, t.id, Some("500"), Some("boom"), Some(0.0), 4).unwrap();
        assert!(is_invalid(mark_succeeded(&db, t.id, &result(), None, 5)));
        assert!(is_invalid(mark_cancelled(&db, t.id, 5)));
        let f = get(&db, t.id).unwrap();
        assert_eq!((f.status, f.fail_message.as_deref(), f.updated_at), (TaskStatus::Failed, Some("boom"), 4));
        assert_eq!(f.error_code.as_deref(), Some("generation_failed"));
        // A late poll after the end is ignored.
        assert_eq!(record_progress(&db, t.id, "generating", Some(10.0), 9).unwrap(), f);

        let s = running(&db, "k2");
        mark_succeeded(&db, s.id, &result(), None, 4).unwrap();
        assert!(is_invalid(mark_failed(&db, s.id, None, None, None, 5)));
        assert!(is_invalid(mark_cancelled(&db, s.id, 5)));
    }

    #[test]
    fn repeated_final_marks_only_fill_in() {
        let db = Db::open_in_memory().unwrap();
        let t = running(&db, "k1");
        mark_succeeded(&db, t.id, &result(), None, 3).unwrap();
        mark_downloaded(&db, t.id, 4).unwrap();
        let other = kie::TaskResult { result_urls: vec!["https://x/other.mp4".into()], ..Default::default() };
        let again = mark_succeeded(&db, t.id, &other, Some(30.0), 5).unwrap();
        assert!(again.downloads_done, "a repeated success must not re-download");
        assert_eq!((again.result(), again.credits_consumed, again.finished_at), (Some(result()), Some(30.0), Some(3)));

        let f = running(&db, "k2");
        mark_failed(&db, f.id, Some("501"), Some("nope"), None, 3).unwrap();
        let f = mark_failed(&db, f.id, Some("501"), Some("other"), Some(0.0), 4).unwrap();
        assert_eq!((f.fail_message.as_deref(), f.credits_consumed, f.finished_at), (Some("nope"), Some(0.0), Some(3)));
    }

    #[test]
    fn late_results_after_cancel_or_stale_are_kept() {
        let db = Db::open_in_memory().unwrap();
        let t = running(&db, "k1");
        mark_cancelled(&db, t.id, 3).unwrap();
        assert!(unfinished(&db).unwrap().is_empty(), "cancelled tasks are not polled");
        let t = mark_succeeded(&db, t.id, &result(), Some(30.0), 9).unwrap();
        assert_eq!((t.status, t.downloads_done, t.finished_at), (TaskStatus::Succeeded, false, Some(9)));
        assert_eq!(unfinished(&db).unwrap().iter().map(|t| t.id).collect::<Vec<_>>(), vec![t.id]);

        let c = running(&db, "k2");
        mark_cancelled(&db, c.id, 3).unwrap();
        let c = mark_failed(&db, c.id, Some("501"), Some("failed late"), Some(0.0), 9).unwrap();
        assert_eq!(c.status, TaskStatus::Cancelled);
        assert_eq!((c.fail_message.as_deref(), c.credits_consumed), (Some("failed late"), Some(0.0)));

        let s = running(&db, "k3");
        let s = mark_stale(&db, s.id, true, 4).unwrap();
        assert!(s.stale);
        assert!(!unfinished(&db).unwrap().iter().any(|t| t.id == s.id), "stale tasks wait");
        assert!(!mark_stale(&db, s.id, false, 5).unwrap().stale);
        mark_stale(&db, s.id, true, 6).unwrap();
        let s = mark_succeeded(&db, s.id, &result(), None, 7).unwrap();
        assert!(!s.stale && s.status == TaskStatus::Succeeded);
    }

    #[test]
    fn hd_is_offered_for_veo_successes_until_the_copy_is_in() {
        use crate::library::{self, NewResult, ResultKind, HD_IDX_OFFSET};
        use TaskAction::*;
        assert_eq!(actions_for(TaskStatus::Succeeded, false, true, false, true, true), vec![GetHd]);
        assert_eq!(actions_for(TaskStatus::Succeeded, false, false, true, true, true), vec![CheckAgain, GetHd]);
        assert_eq!(actions_for(TaskStatus::Succeeded, false, true, false, true, false), vec![]);
        assert_eq!(actions_for(TaskStatus::Running, false, false, false, true, true), vec![Cancel]);
        assert_eq!(actions_for(TaskStatus::Failed, false, false, true, true, true), vec![Resubmit]);
        assert_eq!(serde_json::to_value(GetHd).unwrap(), json!("get_1080p"));

        // Decided by the catalogue's protocol, never by a model id.
        let veo = kie::catalogue::Catalogue::builtin()
            .models
            .iter()
            .find(|m| m.protocol == Protocol::Veo)
            .expect("a Veo model in the catalogue");
        assert!(hd_possible(&veo.id, &input(json!({"prompt": "p", "resolution": "720p"})), 0));
        assert!(hd_possible(&veo.id, &input(json!({"prompt": "p"})), 0));
        assert!(!hd_possible(&veo.id, &input(json!({"resolution": "1080p"})), 0), "made in HD already");
        assert!(!hd_possible(&veo.id, &input(json!({"resolution": "4K"})), 0));
        assert!(!hd_possible(&veo.id, &input(json!({})), 1), "the copy is in");
        assert!(!hd_possible("sora-2-text-to-video", &input(json!({})), 0));
        assert!(!hd_possible("a-model-no-longer-in-the-catalogue", &input(json!({})), 0));

        // The stored task counts its HD copies (the SQL's literal is HD_IDX_OFFSET).
        let db = Db::open_in_memory().unwrap();
        let t = insert_submitting(&db, &veo.id, &input(json!({"prompt": "p", "resolution": "720p"})), None, false, 1)
            .unwrap();
        assert_eq!(t.actions, vec![]);
        let t = mark_submitted(&db, t.id, "veo-1", 2).unwrap();
        assert_eq!(t.actions, vec![Cancel]);
        let t = mark_succeeded(&db, t.id, &result(), None, 3).unwrap();
        assert_eq!(t.actions, vec![GetHd]);
        let video = |idx: u32| NewResult {
            task_id: t.id,
            idx,
            kind: ResultKind::Video,
            path: Some(format!("media/2026/01/task-{}-{idx}.mp4", t.id)),
            ..Default::default()
        };
        library::add_result(&db, video(0), 4).unwrap();
        assert_eq!(mark_downloaded(&db, t.id, 5).unwrap().actions, vec![GetHd]);
        library::add_result(&db, video(HD_IDX_OFFSET), 6).unwrap();
        assert_eq!(get(&db, t.id).unwrap().actions, vec![]);
        assert_eq!(HD_IDX_OFFSET, 1000, "COLUMNS counts HD copies with this literal");
    }

    #[test]
    fn list_filters_and_pages() {
        let db = Db::open_in_memory().unwrap();
        for i in 0..5 {
            let model = if i % 2 == 0 { "sora-2-text-to-video" } else { "sora-2-pro-storyboard" };
            let t = insert_submitting(&db, model, &input(json!({"prompt": format!("p{i}")})), None, i == 4, i).unwrap();
            if i < 3 {
                mark_submitted(&db, t.id, &format!("k{i}"), i).unwrap();
            }
        }
        let all = list(&db, &TaskQuery::default()).unwrap();
        assert_eq!(all.iter().map(|t| t.created_at).collect::<Vec<_>>(), vec![4, 3, 2, 1, 0]);
        assert!(all[0].demo && !all[1].demo);
        let q = TaskQuery { status: Some(TaskStatus::Running), ..Default::default() };
        assert_eq!(list(&db, &q).unwrap().len(), 3);
        let q = TaskQuery { model: Some("sora-2-pro-storyboard".into()), ..Default::default() };
        assert_eq!(list(&db, &q).unwrap().len(), 2);
        let q = TaskQuery { limit: 2, offset: 2, ..Default::default() };
        assert_eq!(list(&db, &q).unwrap().iter().map(|t| t.created_at).collect::<Vec<_>>(), vec![2, 1]);
    }

    #[test]
    fn status_check_is_enforced_by_the_schema() {
        let db = Db::open_in_memory().unwrap();
        let r = db.with(|c| {
            Ok(c.execute(
                "INSERT INTO tasks (model, input_json, status, created_at, updated_at) VALUES ('m', '{}', 'done', 1, 1)",
                [],
            )?)
        });
        assert!(r.is_err());
    }
}

/// The process sending a create keeps its `submitting` row fresh, so another process (the
/// CLI beside the app) can tell a create in flight from one a crash interrupted.
pub fn touch_submitting(db: &Db, id: i64, now_ms: i64) -> Result<(), StoreError> {
    db.with(|c| {
        c.execute("UPDATE tasks SET updated_at = ?2 WHERE id = ?1 AND status = 'submitting'", params![id, now_ms])?;
        Ok(())
    })
}

/// Rows left `submitting` whose sender died mid-create: `judge` says its process is gone,
/// or, when that cannot be told (no owner, another OS), the row was not touched for
/// `lease_ms` ([`lease::is_abandoned`]).
pub fn abandoned_submissions(
    db: &Db,
    now_ms: i64,
    lease_ms: i64,
    judge: &dyn Fn(&Task, &LeaseOwner) -> OwnerState,
) -> Result<Vec<Task>, StoreError> {
    let rows = db.with(|c| {
        let mut st = c.prepare(&format!(
            "SELECT {COLUMNS}, lease_pid, lease_start FROM tasks WHERE status = 'submitting' ORDER BY id"
        ))?;
        let rows = st
            .query_map([], |r| {
                let owner = match (r.get::<_, Option<u32>>("lease_pid")?, r.get::<_, Option<String>>("lease_start")?) {
                    (Some(pid), Some(start)) => Some(LeaseOwner { pid, start }),
                    _ => None,
                };
                Ok((from_row(r)?, owner))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    })?;
    Ok(rows
        .into_iter()
        .filter(|(t, owner)| {
            let state = owner.as_ref().map(|o| judge(t, o));
            lease::is_abandoned(state, t.updated_at, now_ms, lease_ms)
        })
        .map(|(t, _)| t)
        .collect())
}

/// Tasks that may still take a Kie id from the id log: no id yet, and submitting, outcome
/// unknown, or dismissed from there. (id, model, created_at), oldest first.
pub fn awaiting_kie_id(db: &Db) -> Result<Vec<(i64, String, i64)>, StoreError> {
    db.with(|c| {
        let mut st = c.prepare(
            "SELECT id, model, created_at FROM tasks WHERE kie_task_id IS NULL
             AND status IN ('submitting', 'outcome_unknown', 'cancelled') ORDER BY id",
        )?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    })
}

#[cfg(test)]
mod lease_tests {
    use super::*;

    use std::collections::HashMap;

    /// Liveness decided by the test: pids listed alive or gone, anything else unknown.
    #[derive(Debug, Default)]
    struct Fake(HashMap<u32, OwnerState>);

    fn abandoned(db: &Db, now: i64, fake: &Fake) -> Vec<i64> {
        let judge = |_: &Task, o: &LeaseOwner| fake.0.get(&o.pid).copied().unwrap_or(OwnerState::Unknown);
        abandoned_submissions(db, now, 10_000, &judge).unwrap().iter().map(|t| t.id).collect()
    }

    #[test]
    fn only_untouched_submissions_are_abandoned() {
        let db = Db::open_in_memory().unwrap();
        let nobody = Fake::default();
        let a = insert_submitting(&db, "m", &Map::new(), None, false, 1_000).unwrap();
        let b = insert_submitting(&db, "m", &Map::new(), None, false, 1_000).unwrap();
        touch_submitting(&db, b.id, 50_000).unwrap();
        assert_eq!(abandoned(&db, 50_000, &nobody), vec![a.id]);
        mark_submitted(&db, a.id, "k1", 60_000).unwrap();
        // Touching a row that is no longer submitting changes nothing.
        touch_submitting(&db, a.id, 70_000).unwrap();
        assert_eq!(get(&db, a.id).unwrap().updated_at, 60_000);
        assert!(abandoned(&db, 110_000, &nobody).iter().all(|id| *id == b.id));
    }

    #[test]
    fn an_owned_lease_lasts_as_long_as_its_process() {
        let db = Db::open_in_memory().unwrap();
        let fake = Fake(HashMap::from([(10, OwnerState::Alive), (20, OwnerState::Gone)]));
        let owner = |pid| LeaseOwner { pid, start: format!("t/{pid}") };
        let new =
            |o: Option<&LeaseOwner>| insert_submitting_owned(&db, "m", &Map::new(), None, false, o, 1_000).unwrap();
        let alive = new(Some(&owner(10)));
        let gone = new(Some(&owner(20)));
        let unknown = new(Some(&owner(30)));
        // Right away: only the one whose sender is gone.
        assert_eq!(abandoned(&db, 1_001, &fake), vec![gone.id]);
        // An hour later (a suspend, a clock step): the live sender keeps its row.
        assert_eq!(abandoned(&db, 3_600_000, &fake), vec![gone.id, unknown.id]);
        assert_eq!(get(&db, alive.id).unwrap().status, TaskStatus::Submitting);
    }

    /// A create marked outcome-unknown (its sender seemed gone, or the answer was lost) whose
    /// id then arrives takes it: the id is what Kie charged for.
    #[test]
    fn a_late_id_is_taken_by_an_unknown_outcome() {
        let db = Db::open_in_memory().unwrap();
        let t = insert_submitting(&db, "m", &Map::new(), None, false, 1).unwrap();
        mark_outcome_unknown(&db, t.id, "outcome_unknown", "stopped while sending", 2).unwrap();
        let t = mark_submitted(&db, t.id, "late-1", 3).unwrap();
        assert_eq!(
            (t.status, t.kie_task_id.as_deref(), t.submitted_at),
            (TaskStatus::Running, Some("late-1"), Some(3))
        );
        assert_eq!((t.error_code, t.fail_message), (None, None));
        // Dismissed by the user meanwhile: tracked again (it was paid for).
        let d = insert_submitting(&db, "m", &Map::new(), None, false, 1).unwrap();
        mark_outcome_unknown(&db, d.id, "outcome_unknown", "x", 2).unwrap();
        mark_cancelled(&db, d.id, 3).unwrap();
        let d = mark_submitted(&db, d.id, "late-2", 4).unwrap();
        assert_eq!((d.status, d.finished_at), (TaskStatus::Running, None));
        // Never another id over one already known, nor onto a refused create.
        assert!(matches!(mark_submitted(&db, d.id, "late-3", 5), Err(StoreError::InvalidTransition { .. })));
        let r = insert_submitting(&db, "m", &Map::new(), None, false, 1).unwrap();
        mark_rejected(&db, r.id, "insufficient_credits", "no", 2).unwrap();
        assert!(matches!(mark_submitted(&db, r.id, "late-4", 5), Err(StoreError::InvalidTransition { .. })));
    }
}
