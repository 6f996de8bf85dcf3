//! Batches: many creates from one form: N variations of one input, or a list (one prompt per
//! line, CSV, JSON Lines), checked in full before anything is sent, then sent one by one, in
//! order, by whichever process polls the library (the poller calls [`Batches::send_next`]),
//! within Kie's limits (the client's: creates per 10 s, running slots) and a credit cap.
//!
//! Journaled: the batch and every item are written down when it starts; an item is marked
//! sent in the transaction that writes its task down, before the create leaves
//! (`tasks::insert_submitting_for`). So a batch stopped by a crash or a quit continues where
//! it was, and an item whose create may have reached Kie is never sent again: its task is
//! `outcome_unknown`, as a single task's would be. An item whose create surely did not leave
//! (no connection, Kie busy, no running slot) goes back to waiting, and the batch tries again
//! a little later.
//!
//! Spend caps: before each create, the item's estimate must fit what is left of the batch's
//! cap (default: its estimate) and of Kie's balance as last asked (at start and resume),
//! else the batch stops, with a plain message, and sends nothing more. Kie's 402 stops the
//! batch, not just the item.

pub mod input;

use kie::ErrorCode;
use rusqlite::{params, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::db::{Db, StoreError};
use crate::error::StudioError;
use crate::events::StudioEvent;
use crate::studio::Studio;
use crate::tasks::{ItemLink, Task, TaskStatus};
use crate::uploads::local_files;

/// Items in one batch, at most.
pub const MAX_ITEMS: usize = 1000;
/// Variations of one input, at most.
pub const MAX_VARIATIONS: u32 = 4;
/// After a create that surely did not leave (no connection, Kie busy), the batch waits this
/// long before it tries again: 30 s with the default polling (scaled with it in tests).
fn retry_ms(studio: &Studio) -> i64 {
    let poll = &studio.config().poll;
    (poll.error_backoff_ms * 15).min(poll.error_backoff_cap_ms)
}

/// How the list is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum BatchFormat {
    /// `count` copies of the form.
    Variations,
    /// One prompt per line.
    Lines,
    /// A header line naming fields, then one row per item.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl BatchFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchFormat::Variations => "variations",
            BatchFormat::Lines => "lines",
            BatchFormat::Csv => "csv",
            BatchFormat::Jsonl => "jsonl",
        }
    }

    fn parse(s: &str) -> BatchFormat {
        match s {
            "variations" => BatchFormat::Variations,
            "csv" => BatchFormat::Csv,
            "jsonl" => BatchFormat::Jsonl,
            _ => BatchFormat::Lines,
        }
    }

    /// By a file's name: `.csv`, `.jsonl` / `.ndjson`, else one prompt per line.
    pub fn of_file_name(name: &str) -> BatchFormat {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") {
            BatchFormat::Csv
        } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            BatchFormat::Jsonl
        } else {
            BatchFormat::Lines
        }
    }
}

/// What the user asks for: the model, the form's values (every item starts from them), and
/// the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct BatchRequest {
    pub model: String,
    #[serde(default)]
    #[ts(type = "Record<string, unknown>")]
    pub base: Map<String, Value>,
    /// How the list is written; `None`: as `file_name` says, else one prompt per line.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub format: Option<BatchFormat>,
    /// The name of the file the list was opened from, if any: it says the format when
    /// `format` does not, so the window and the CLI need not know the rule.
    #[serde(default)]
    #[ts(optional = nullable)]
    pub file_name: Option<String>,
    /// The list (not for variations).
    #[serde(default)]
    pub text: String,
    /// Variations: how many (1–4).
    #[serde(default)]
    pub count: u32,
    /// Credits the batch may spend at most; `None`: its estimate.
    #[serde(default)]
    pub cap_credits: Option<f64>,
    #[serde(default)]
    pub name: Option<String>,
}

impl BatchRequest {
    /// How the list is read: as asked, else by the file's name, else one prompt per line.
    pub fn format(&self) -> BatchFormat {
        self.format.unwrap_or_else(|| self.file_name.as_deref().map_or(BatchFormat::Lines, BatchFormat::of_file_name))
    }
}

/// A problem with one line of the list (line 0: the list as a whole).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct LineProblem {
    pub line: u32,
    /// The field, as the form names it (`prompt`, `image_urls[0]`), or `text` for the line itself.
    pub field: String,
    pub rule: String,
    /// Starts with "Line N: " when it is a line's.
    pub message: String,
}

/// One item as it will be sent.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct PlannedItem {
    pub line: u32,
    #[ts(type = "Record<string, unknown>")]
    pub input: Map<String, Value>,
    pub credits_estimated: Option<f64>,
}

/// The review before a batch starts: every item, every problem, the total.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct BatchPlan {
    pub model: String,
    /// How the list was read (the request's, or its file name's).
    pub format: BatchFormat,
    pub items: Vec<PlannedItem>,
    pub problems: Vec<LineProblem>,
    /// The sum of the items' estimates (`None` when no item has a price).
    pub estimate_credits: Option<f64>,
    /// Items without a price (the catalogue has none for their settings).
    pub unpriced: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum BatchState {
    /// Items are being sent.
    Running,
    /// By the user: nothing more is sent until resumed.
    Paused,
    /// By the cap, the balance, or Kie (402, a refused key, a paused model): see `stop_message`.
    Stopped,
    /// Every item was sent.
    Done,
    /// By the user: the items not yet sent will not be.
    Cancelled,
}

impl BatchState {
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Running => "running",
            BatchState::Paused => "paused",
            BatchState::Stopped => "stopped",
            BatchState::Done => "done",
            BatchState::Cancelled => "cancelled",
        }
    }

    fn parse(s: &str) -> BatchState {
        match s {
            "running" => BatchState::Running,
            "paused" => BatchState::Paused,
            "stopped" => BatchState::Stopped,
            "done" => BatchState::Done,
            _ => BatchState::Cancelled,
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, BatchState::Done | BatchState::Cancelled)
    }
}

/// What the user may do with a batch now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum BatchAction {
    Pause,
    Resume,
    /// The items not yet sent.
    Cancel,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Batch {
    pub id: i64,
    pub name: String,
    pub model: String,
    pub format: BatchFormat,
    pub state: BatchState,
    pub cap_credits: Option<f64>,
    pub estimate_credits: Option<f64>,
    pub stop_code: Option<String>,
    pub stop_message: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub items: u32,
    pub sent: u32,
    pub pending: u32,
    pub cancelled: u32,
    /// What the items sent so far cost or will cost: Kie's figure where it gave one, else the
    /// estimate (nothing for a create Kie refused).
    pub committed_credits: f64,
    pub actions: Vec<BatchAction>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct BatchItem {
    pub id: i64,
    pub batch_id: i64,
    pub position: u32,
    pub line: u32,
    #[ts(type = "Record<string, unknown>")]
    pub input: Map<String, Value>,
    pub credits_estimated: Option<f64>,
    /// `pending`, `sent` or `cancelled`.
    pub state: String,
    pub task_id: Option<i64>,
    pub sent_at: Option<i64>,
}

/// What an item sent so far counts for against the cap, in SQL over `batch_items i` joined
/// to `tasks t`: Kie's charge where known; nothing for a create Kie refused (no Kie id, not
/// in doubt); else the estimate.
const COMMITTED: &str = "CASE WHEN t.credits_consumed IS NOT NULL THEN t.credits_consumed
      WHEN t.status = 'failed' AND t.kie_task_id IS NULL THEN 0
      ELSE coalesce(t.credits_estimated, i.credits_estimated, 0) END";

const BATCH_COLUMNS: &str =
    "b.id, b.name, b.model, b.source, b.state, b.cap_credits, b.estimate_credits, b.stop_code, \
     b.stop_message, b.created_at, b.updated_at, b.balance, b.balance_at, b.retry_at";

fn batch_from_row(c: &rusqlite::Connection, r: &Row<'_>) -> rusqlite::Result<Batch> {
    let id: i64 = r.get(0)?;
    let state = BatchState::parse(&r.get::<_, String>(4)?);
    let (items, sent, pending, cancelled, committed): (u32, u32, u32, u32, f64) = c.query_row(
        &format!(
            "SELECT count(*), count(*) FILTER (WHERE i.state = 'sent'), count(*) FILTER (WHERE i.state = 'pending'),
                    count(*) FILTER (WHERE i.state = 'cancelled'),
                    coalesce(sum({COMMITTED}) FILTER (WHERE i.state = 'sent'), 0)
             FROM batch_items i LEFT JOIN tasks t ON t.id = i.task_id WHERE i.batch_id = ?1"
        ),
        [id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
    )?;
    let actions = match state {
        BatchState::Running => vec![BatchAction::Pause, BatchAction::Cancel],
        BatchState::Paused | BatchState::Stopped if pending > 0 => vec![BatchAction::Resume, BatchAction::Cancel],
        _ => Vec::new(),
    };
    Ok(Batch {
        id,
        name: r.get(1)?,
        model: r.get(2)?,
        format: BatchFormat::parse(&r.get::<_, String>(3)?),
        state,
        cap_credits: r.get(5)?,
        estimate_credits: r.get(6)?,
        stop_code: r.get(7)?,
        stop_message: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        items,
        sent,
        pending,
        cancelled,
        committed_credits: (committed * 1000.0).round() / 1000.0,
        actions,
    })
}

/// The balance as last asked, and when; and when the batch may try again.
struct Timing {
    balance: Option<f64>,
    balance_at: Option<i64>,
    retry_at: Option<i64>,
}

fn timing(db: &Db, id: i64) -> Result<Timing, StoreError> {
    db.with(|c| {
        Ok(c.query_row("SELECT balance, balance_at, retry_at FROM batches WHERE id = ?1", [id], |r| {
            Ok(Timing { balance: r.get(0)?, balance_at: r.get(1)?, retry_at: r.get(2)? })
        })?)
    })
}

pub fn get(db: &Db, id: i64) -> Result<Batch, StoreError> {
    db.with(|c| {
        c.query_row(&format!("SELECT {BATCH_COLUMNS} FROM batches b WHERE b.id = ?1"), [id], |r| batch_from_row(c, r))
            .optional()?
            .ok_or(StoreError::NotFound { what: "batch", id: id.to_string() })
    })
}

/// Newest first.
pub fn list(db: &Db, limit: u32) -> Result<Vec<Batch>, StoreError> {
    db.with(|c| {
        let mut st = c.prepare(&format!("SELECT {BATCH_COLUMNS} FROM batches b ORDER BY b.id DESC LIMIT ?1"))?;
        let rows = st.query_map([limit], |r| batch_from_row(c, r))?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    })
}

fn item_from_row(r: &Row<'_>) -> rusqlite::Result<BatchItem> {
    let input: String = r.get(4)?;
    Ok(BatchItem {
        id: r.get(0)?,
        batch_id: r.get(1)?,
        position: r.get(2)?,
        line: r.get(3)?,
        input: serde_json::from_str(&input)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(4, rusqlite::types::Type::Text, e.into()))?,
        credits_estimated: r.get(5)?,
        state: r.get(6)?,
        task_id: r.get(7)?,
        sent_at: r.get(8)?,
    })
}

const ITEM_COLUMNS: &str = "id, batch_id, position, line, input_json, credits_estimated, state, task_id, sent_at";

/// A batch's items, in order.
pub fn items(db: &Db, batch_id: i64) -> Result<Vec<BatchItem>, StoreError> {
    db.with(|c| {
        let mut st =
            c.prepare(&format!("SELECT {ITEM_COLUMNS} FROM batch_items WHERE batch_id = ?1 ORDER BY position"))?;
        let rows = st.query_map([batch_id], item_from_row)?.collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    })
}

fn next_pending(db: &Db, batch_id: i64) -> Result<Option<BatchItem>, StoreError> {
    db.with(|c| {
        Ok(c.query_row(
            &format!(
                "SELECT {ITEM_COLUMNS} FROM batch_items WHERE batch_id = ?1 AND state = 'pending' ORDER BY position LIMIT 1"
            ),
            [batch_id],
            item_from_row,
        )
        .optional()?)
    })
}

/// The batch to send from now: the oldest running one with an item waiting and not waiting
/// to try again. Cheap (the scheduler asks every tick).
pub fn due(db: &Db, now_ms: i64) -> Result<Option<i64>, StoreError> {
    db.with(|c| {
        Ok(c.query_row(
            "SELECT b.id FROM batches b WHERE b.state = 'running' AND (b.retry_at IS NULL OR b.retry_at <= ?1)
               AND EXISTS (SELECT 1 FROM batch_items i WHERE i.batch_id = b.id AND i.state = 'pending')
             ORDER BY b.id LIMIT 1",
            [now_ms],
            |r| r.get(0),
        )
        .optional()?)
    })
}

/// Whether any batch still has items to send on its own (running, whatever its retry time).
pub fn any_running(db: &Db) -> Result<bool, StoreError> {
    db.with(|c| {
        Ok(c.query_row(
            "SELECT EXISTS (SELECT 1 FROM batches b WHERE b.state = 'running'
               AND EXISTS (SELECT 1 FROM batch_items i WHERE i.batch_id = b.id AND i.state = 'pending'))",
            [],
            |r| r.get(0),
        )?)
    })
}

/// Write a checked plan down as a running batch.
pub fn insert(
    db: &Db,
    name: &str,
    format: BatchFormat,
    plan: &BatchPlan,
    cap_credits: Option<f64>,
    balance: Option<f64>,
    now_ms: i64,
) -> Result<Batch, StoreError> {
    let id = db.tx(|tx| {
        tx.execute(
            "INSERT INTO batches (name, model, source, state, cap_credits, estimate_credits, balance, balance_at,
                created_at, updated_at)
             VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?6, ?7, ?8, ?8)",
            params![
                name,
                plan.model,
                format.as_str(),
                cap_credits,
                plan.estimate_credits,
                balance,
                balance.map(|_| now_ms),
                now_ms
            ],
        )?;
        let id = tx.last_insert_rowid();
        let mut st = tx.prepare(
            "INSERT INTO batch_items (batch_id, position, line, input_json, credits_estimated, state)
             VALUES (?1, ?2, ?3, ?4, ?5, 'pending')",
        )?;
        for (pos, item) in plan.items.iter().enumerate() {
            st.execute(params![
                id,
                pos as i64 + 1,
                item.line,
                serde_json::to_string(&item.input)?,
                item.credits_estimated
            ])?;
        }
        Ok(id)
    })?;
    get(db, id)
}

/// A change of state the user asked for, or the sender decided. `from`: the states it may
/// come from (else `InvalidTransition`, nothing changed).
fn set_state(
    db: &Db,
    id: i64,
    from: &[BatchState],
    to: BatchState,
    stop: Option<(&str, &str)>,
    now_ms: i64,
) -> Result<Batch, StoreError> {
    let current = get(db, id)?;
    if !from.contains(&current.state) {
        return Err(StoreError::InvalidTransition {
            id,
            why: format!("batch {id} is {}; it cannot become {}", current.state.as_str(), to.as_str()),
        });
    }
    db.tx(|tx| {
        tx.execute(
            "UPDATE batches SET state = ?2, stop_code = ?3, stop_message = ?4, updated_at = ?5 WHERE id = ?1",
            params![id, to.as_str(), stop.map(|s| s.0), stop.map(|s| s.1), now_ms],
        )?;
        if to == BatchState::Cancelled {
            tx.execute("UPDATE batch_items SET state = 'cancelled' WHERE batch_id = ?1 AND state = 'pending'", [id])?;
        }
        Ok(())
    })?;
    get(db, id)
}

pub fn pause(db: &Db, id: i64, now_ms: i64) -> Result<Batch, StoreError> {
    set_state(db, id, &[BatchState::Running], BatchState::Paused, None, now_ms)
}

/// Back to sending, with the balance just asked (`None`: unknown, not checked).
pub fn resume(db: &Db, id: i64, balance: Option<f64>, now_ms: i64) -> Result<Batch, StoreError> {
    let b = get(db, id)?;
    if b.pending == 0 {
        return Err(StoreError::InvalidTransition { id, why: format!("batch {id} has nothing left to send") });
    }
    db.with(|c| {
        c.execute(
            "UPDATE batches SET balance = ?2, balance_at = ?3, retry_at = NULL WHERE id = ?1",
            params![id, balance, balance.map(|_| now_ms)],
        )?;
        Ok(())
    })?;
    set_state(db, id, &[BatchState::Paused, BatchState::Stopped], BatchState::Running, None, now_ms)
}

/// The items not yet sent will not be; those sent go on.
pub fn cancel(db: &Db, id: i64, now_ms: i64) -> Result<Batch, StoreError> {
    let from = [BatchState::Running, BatchState::Paused, BatchState::Stopped];
    set_state(db, id, &from, BatchState::Cancelled, None, now_ms)
}

fn stop(db: &Db, id: i64, code: &str, message: &str, now_ms: i64) -> Result<Batch, StoreError> {
    set_state(db, id, &[BatchState::Running], BatchState::Stopped, Some((code, message)), now_ms)
}

/// The create surely did not leave (the task has no Kie id and its code says Kie was not
/// reached, was busy, or had no slot): the item waits again, and the batch tries after `retry_at`.
fn unsend(db: &Db, item: &BatchItem, retry_at: i64) -> Result<(), StoreError> {
    db.tx(|tx| {
        tx.execute(
            "UPDATE batch_items SET state = 'pending', task_id = NULL, sent_at = NULL WHERE id = ?1 AND state = 'sent'",
            [item.id],
        )?;
        tx.execute("UPDATE batches SET retry_at = ?2 WHERE id = ?1", params![item.batch_id, retry_at])?;
        Ok(())
    })
}

/// The estimates of the items sent at or after `since` (against the balance asked then).
fn sent_since(db: &Db, batch_id: i64, since: i64) -> Result<f64, StoreError> {
    db.with(|c| {
        Ok(c.query_row(
            &format!(
                "SELECT coalesce(sum({COMMITTED}), 0) FROM batch_items i LEFT JOIN tasks t ON t.id = i.task_id
                 WHERE i.batch_id = ?1 AND i.state = 'sent' AND i.sent_at >= ?2"
            ),
            params![batch_id, since],
            |r| r.get(0),
        )?)
    })
}

/// Credits as the user reads them.
fn credits(c: f64) -> String {
    let r = (c * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

/// Which field a plain line of text fills: the model's `prompt`.
fn prompt_field(spec: &kie::catalogue::ModelSpec) -> Option<&str> {
    spec.field("prompt").map(|f| f.name.as_str())
}

/// Read and check the whole list: every item validated by the catalogue (its local files
/// checked by their bytes, not yet uploaded) and priced; every problem named with its line.
/// Nothing is written or sent. Blocking: reads local files.
pub fn plan(catalogue: &kie::catalogue::Catalogue, req: &BatchRequest) -> Result<BatchPlan, StudioError> {
    let spec = catalogue.model(&req.model).ok_or_else(|| {
        StudioError::InvalidInput(vec![kie::validate::Problem::new(
            "model",
            "unknown",
            format!("There is no model `{}`.", req.model),
        )])
    })?;
    let fields: Vec<&str> = spec.fields.iter().map(|f| f.name.as_str()).collect();
    let format = req.format();
    let read = input::read(format, &req.text, req.count, &req.base, prompt_field(spec), &fields);
    let mut problems = Vec::new();
    let mut items = Vec::new();
    let variations = format == BatchFormat::Variations;
    for item in read.unwrap_or_else(|p| {
        problems = p;
        Vec::new()
    }) {
        // Copies of one form: its problems are the form's (said once, with no line), and
        // every copy costs the same.
        if variations && item.line > 1 {
            if problems.is_empty() {
                if let Some(first) = items.first().cloned() {
                    items.push(PlannedItem { line: item.line, ..first });
                }
            }
            continue;
        }
        let line = if variations { 0 } else { item.line };
        let problem = |p: kie::validate::Problem| {
            let prefix = if variations { String::new() } else { format!("Line {line}: ") };
            LineProblem { line, message: prefix + &p.message, field: p.field, rule: p.rule }
        };
        // One walk over the local files: each is checked by its bytes, and a stand-in link
        // takes its place in the copy the catalogue checks (the link check does not apply to
        // a file; the upload's link replaces it at start).
        let mut probe = item.input.clone();
        let mut file_paths = Vec::new();
        for slot in local_files::slots(spec, &mut probe) {
            if let Err(p) = slot.field.check(&slot.file) {
                problems.push(problem(p));
            }
            *slot.value = Value::String(format!("https://local.file/{}", slot.field.path));
            file_paths.push(slot.field.path);
        }
        match catalogue.validate(&req.model, &probe) {
            Ok(normalized) => {
                let credits_estimated = spec.estimate_credits(&normalized);
                items.push(PlannedItem { line: item.line, input: item.input, credits_estimated });
            }
            Err(ps) => problems.extend(ps.into_iter().filter(|p| !file_paths.contains(&p.field)).map(problem)),
        }
    }
    if !problems.is_empty() {
        items.clear();
    }
    let priced: Vec<f64> = items.iter().filter_map(|i| i.credits_estimated).collect();
    let estimate_credits = (!priced.is_empty()).then(|| (priced.iter().sum::<f64>() * 1000.0).round() / 1000.0);
    let unpriced = (items.len() - priced.len()) as u32;
    Ok(BatchPlan { model: req.model.clone(), format, items, problems, estimate_credits, unpriced })
}

/// The plan's problems as the one error envelope's (`invalid_input`), each field named with
/// its line (`lines[3].prompt`).
pub fn problems_error(plan: &BatchPlan) -> StudioError {
    StudioError::InvalidInput(
        plan.problems
            .iter()
            .map(|p| {
                let field = if p.line == 0 { p.field.clone() } else { format!("lines[{}].{}", p.line, p.field) };
                kie::validate::Problem::new(&field, &p.rule, p.message.clone())
            })
            .collect(),
    )
}

/// The batches of one library (from [`Studio::batches`]).
#[derive(Clone, Copy)]
pub struct Batches<'a> {
    studio: &'a Studio,
}

/// What sending one item came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Sent {
    /// Nothing to send (not running, nothing left, waiting to try again).
    Nothing,
    /// The item's task, as the journal left it.
    Task(Task),
    /// The batch stopped before sending (the cap, the balance), or because of what Kie said.
    Stopped(Batch),
}

impl<'a> Batches<'a> {
    pub(crate) fn new(studio: &'a Studio) -> Self {
        Batches { studio }
    }

    /// Kie's balance now, or `None` when it cannot be asked (then it is not checked).
    async fn balance(self) -> Option<f64> {
        match self.studio.client().credits().await {
            Ok(b) => Some(b),
            Err(e) => {
                tracing::warn!("the balance could not be asked ({e}); the batch is held to its cap only");
                None
            }
        }
    }

    /// Check the whole list, upload its local files (each once), and write the batch down,
    /// running: the poller sends it. Nothing is written when any line has a problem
    /// (`invalid_input`, each field named with its line). `cap`: default the estimate.
    pub async fn start(self, req: &BatchRequest, note: &(dyn Fn(&str) + Send + Sync)) -> Result<Batch, StudioError> {
        let studio = self.studio;
        let (s, owned) = (studio.clone(), req.clone());
        let mut plan = crate::studio::blocking("Checking the list", move || plan(s.catalogue(), &owned)).await?;
        if !plan.problems.is_empty() {
            return Err(problems_error(&plan));
        }
        if let Some(cap) = req.cap_credits {
            if !(cap.is_finite() && cap > 0.0) {
                let msg = format!("The credit cap must be more than 0 (got {cap}).");
                return Err(StudioError::InvalidInput(vec![kie::validate::Problem::new(
                    "cap_credits",
                    "out_of_range",
                    msg,
                )]));
            }
        }
        let spec = studio.catalogue().model(&req.model).expect("planned, so the model exists").clone();
        let mut uploaded = local_files::Uploaded::new();
        for item in &mut plan.items {
            local_files::upload(studio, &spec, &mut item.input, &mut uploaded, note).await?;
        }
        let balance = self.balance().await;
        let name = match req.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => n.chars().take(80).collect(),
            None => default_name(plan.format, &spec.name, plan.items.len()),
        };
        let cap = req.cap_credits.or(plan.estimate_credits);
        let batch = insert(studio.db(), &name, plan.format, &plan, cap, balance, studio.now_ms())?;
        studio.emit(StudioEvent::BatchChanged { batch: batch.clone() });
        studio.wake().notify_one();
        Ok(batch)
    }

    pub fn pause(self, id: i64) -> Result<Batch, StudioError> {
        let b = pause(self.studio.db(), id, self.studio.now_ms())?;
        self.studio.emit(StudioEvent::BatchChanged { batch: b.clone() });
        Ok(b)
    }

    pub async fn resume(self, id: i64) -> Result<Batch, StudioError> {
        let balance = self.balance().await;
        let b = resume(self.studio.db(), id, balance, self.studio.now_ms())?;
        self.studio.emit(StudioEvent::BatchChanged { batch: b.clone() });
        self.studio.wake().notify_one();
        Ok(b)
    }

    pub fn cancel(self, id: i64) -> Result<Batch, StudioError> {
        let b = cancel(self.studio.db(), id, self.studio.now_ms())?;
        self.studio.emit(StudioEvent::BatchChanged { batch: b.clone() });
        Ok(b)
    }

    fn stopped(self, id: i64, code: &str, message: &str) -> Result<Sent, StudioError> {
        let b = stop(self.studio.db(), id, code, message, self.studio.now_ms())?;
        tracing::warn!("batch {id} stopped: {message}");
        self.studio.emit(StudioEvent::BatchChanged { batch: b.clone() });
        Ok(Sent::Stopped(b))
    }

    /// Send the batch's next item, if it may be: the batch running, the item's estimate within
    /// what is left of the cap and of the balance. Called by the poller, one at a time per
    /// library; the client keeps the creates within Kie's limits.
    pub async fn send_next(self, id: i64) -> Result<Sent, StudioError> {
        let studio = self.studio;
        let db = studio.db();
        let now = studio.now_ms();
        let batch = get(db, id)?;
        let t = timing(db, id)?;
        if batch.state != BatchState::Running || t.retry_at.is_some_and(|at| at > now) {
            return Ok(Sent::Nothing);
        }
        let Some(item) = next_pending(db, id)? else {
            let b = set_state(db, id, &[BatchState::Running], BatchState::Done, None, now)?;
            studio.emit(StudioEvent::BatchChanged { batch: b });
            return Ok(Sent::Nothing);
        };
        let cost = item.credits_estimated.unwrap_or(0.0);
        if let Some(cap) = batch.cap_credits {
            if batch.committed_credits + cost > cap + 1e-9 {
                let msg = format!(
                    "The batch stopped before line {}: it would cost about {} credits, and {} of its {}-credit cap \
                     are left. Nothing more was sent; {} of {} items were.",
                    item.line,
                    credits(cost),
                    credits((cap - batch.committed_credits).max(0.0)),
                    credits(cap),
                    batch.sent,
                    batch.items
                );
                return self.stopped(id, "cap_reached", &msg);
            }
        }
        if let (Some(balance), Some(at)) = (t.balance, t.balance_at) {
            let left = balance - sent_since(db, id, at)?;
            if cost > left + 1e-9 {
                let msg = format!(
                    "The batch stopped before line {}: it would cost about {} credits, and your Kie balance has about \
                     {} left. Nothing more was sent; add credits, then resume it.",
                    item.line,
                    credits(cost),
                    credits(left.max(0.0))
                );
                return self.stopped(id, "insufficient_credits", &msg);
            }
        }
        let link = ItemLink { batch_id: id, item_id: item.id };
        let task = match studio.journal().submit_as(&batch.model, &item.input, Some(link)).await {
            Ok(task) => task,
            // The catalogue changed since the batch was checked: this item cannot be sent.
            Err(StudioError::InvalidInput(problems)) => {
                let why = problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join(" ");
                let msg = format!("The batch stopped at line {}: {why} Nothing more was sent.", item.line);
                return self.stopped(id, "invalid_input", &msg);
            }
            // Sent or cancelled meanwhile by another process: nothing to do.
            Err(StudioError::Store(StoreError::InvalidTransition { .. })) => return Ok(Sent::Nothing),
            Err(e) => return Err(e),
        };
        if task.status != TaskStatus::Failed || task.kie_task_id.is_some() {
            let _ = db.with(|c| Ok(c.execute("UPDATE batches SET retry_at = NULL WHERE id = ?1", [id])?));
            self.changed(id)?;
            return Ok(Sent::Task(task));
        }
        let code = task.error_code.as_deref().unwrap_or_default();
        let message = task.fail_message.clone().unwrap_or_default();
        let stop_for = [
            ErrorCode::InsufficientCredits,
            ErrorCode::Unauthorized,
            ErrorCode::ModelPaused,
            ErrorCode::FeatureDisabled,
        ];
        // (No running slot in time comes as `rate_limited` too.)
        let not_sent = [ErrorCode::Connection, ErrorCode::RateLimited, ErrorCode::Unavailable];
        if stop_for.iter().any(|c| c.as_str() == code) {
            let msg = format!("The batch stopped at line {}: {message} Nothing more was sent.", item.line);
            return self.stopped(id, code, &msg).map(|_| Sent::Task(task));
        }
        if not_sent.iter().any(|c| c.as_str() == code) {
            // Surely not sent: the item waits again (its task stays in the queue as not sent).
            let wait = retry_ms(studio);
            unsend(db, &item, now + wait)?;
            tracing::warn!("batch {id}, line {}: not sent ({message}); trying again in {} s", item.line, wait / 1000);
        }
        self.changed(id)?;
        Ok(Sent::Task(task))
    }

    /// Tell the window; a running batch with nothing left to send is done.
    fn changed(self, id: i64) -> Result<(), StudioError> {
        let db = self.studio.db();
        let mut b = get(db, id)?;
        if b.state == BatchState::Running && b.pending == 0 {
            b = set_state(db, id, &[BatchState::Running], BatchState::Done, None, self.studio.now_ms())?;
        }
        self.studio.emit(StudioEvent::BatchChanged { batch: b });
        Ok(())
    }
}

/// "12 items for Sora 2 – Text to video", "3 variations of Kling 2.6".
fn default_name(format: BatchFormat, model_name: &str, n: usize) -> String {
    match format {
        BatchFormat::Variations => format!("{n} variations of {model_name}"),
        _ => format!("{n} items for {model_name}"),
    }
}

#[cfg(test)]
mod tests;
