//! What was spent: credits per local day and per model over the last days, from the task
//! journal (the only record of what was paid for: Kie has no list of an account's tasks).
//!
//! What counts (the API contract on `creditsConsumed`, `../shared/kie-api.md`):
//! - **actual**: every `creditsConsumed` Kie reported, whatever the task's state (a late
//!   success of a cancelled task is charged; an uncharged failure reports 0). So the totals
//!   are exactly the sum of `creditsConsumed`.
//! - **estimated**, where Kie gave no figure but may have charged: a success without
//!   `creditsConsumed`, a task still submitting or running, an outcome-unknown one, a
//!   cancelled one (Kie cannot cancel: it may have finished and charged). The catalogue's
//!   estimate stands in; `pending_tasks` says how many may still change.
//! - nothing: failures without a figure (Kie does not charge a failure; a rejected create
//!   is written down with 0).
//!
//! Days are the user's local days: the caller passes the UTC offset and `now_ms`. Tasks are
//! dated by `created_at`, when the create was written down (it leaves right after). One
//! offset serves the whole window (today's): across a daylight-saving change, a task within
//! an hour of midnight on the older side may land on the neighbouring day.

use kie::catalogue::credits_to_usd;
use rusqlite::{params, Connection};
use serde::Serialize;
use ts_rs::TS;

use crate::db::{Db, StoreError};

pub const DAY_MS: i64 = 86_400_000;
/// Most days one report covers.
pub const MAX_DAYS: u32 = 366;
/// Real offsets run from -12:00 to +14:00; this leaves room and nothing absurd.
pub const MAX_OFFSET_MINUTES: i64 = 18 * 60;

/// Credits and task counts for one day, one model, one model on one day, or the window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, TS)]
pub struct SpendAmount {
    /// `actual_credits + estimated_credits`.
    pub credits: f64,
    /// The sum of Kie's `creditsConsumed`.
    pub actual_credits: f64,
    /// Estimates for the tasks Kie gave no figure for but may have charged.
    pub estimated_credits: f64,
    /// `credits` in dollars.
    pub usd: f64,
    /// Tasks Kie charged (`creditsConsumed` above 0) or may have charged (estimated).
    pub tasks: u32,
    /// Of `tasks`, those counted by their estimate.
    pub estimated_tasks: u32,
    /// Of `estimated_tasks`, those not finished yet (submitting, running, outcome unknown).
    pub pending_tasks: u32,
    /// Of `estimated_tasks`, those with no estimate either (counted as 0).
    pub unpriced_tasks: u32,
}

impl SpendAmount {
    fn add(&mut self, o: &SpendAmount) {
        self.actual_credits += o.actual_credits;
        self.estimated_credits += o.estimated_credits;
        self.tasks += o.tasks;
        self.estimated_tasks += o.estimated_tasks;
        self.pending_tasks += o.pending_tasks;
        self.unpriced_tasks += o.unpriced_tasks;
        self.settle();
    }

    /// Rounds the sums (to a millionth: fractional prices add up in binary) and fills in
    /// the derived fields.
    fn settle(&mut self) {
        self.actual_credits = round6(self.actual_credits);
        self.estimated_credits = round6(self.estimated_credits);
        self.credits = round6(self.actual_credits + self.estimated_credits);
        self.usd = credits_to_usd(self.credits);
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// One model's share.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ModelSpend {
    pub model: String,
    pub spend: SpendAmount,
}

/// One local day, with every day of the window present (a chart's full axis).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct DaySpend {
    /// The local date, `YYYY-MM-DD`.
    pub date: String,
    /// When that local day starts (ms since the epoch).
    pub start_ms: i64,
    pub spend: SpendAmount,
    /// The models spent on that day, in the order of [`SpendReport::models`].
    pub models: Vec<ModelSpend>,
}

/// Spend over the last `days` local days, today included.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct SpendReport {
    /// Oldest first, one per day.
    pub days: Vec<DaySpend>,
    /// Every model spent on in the window, most credits first.
    pub models: Vec<ModelSpend>,
    pub total: SpendAmount,
    /// The window: `from_ms` (the first day's start) to `to_ms` (the end of today), exclusive.
    pub from_ms: i64,
    pub to_ms: i64,
    pub utc_offset_minutes: i64,
}

/// One query: the window's tasks by day and model, found through `tasks_created_at`.
/// A row's day is its index in the window (0 = the first day).
const BY_DAY_AND_MODEL: &str = "
    SELECT (created_at - ?1) / 86400000 AS day, model,
        total(credits_consumed) AS actual,
        count(CASE WHEN credits_consumed > 0 THEN 1 END) AS charged,
        total(CASE WHEN est THEN credits_estimated END) AS estimated,
        count(CASE WHEN est THEN 1 END) AS estimated_tasks,
        count(CASE WHEN est AND status IN ('submitting', 'running', 'outcome_unknown') THEN 1 END) AS pending,
        count(CASE WHEN est AND credits_estimated IS NULL THEN 1 END) AS unpriced
    FROM (
        SELECT created_at, model, credits_consumed, credits_estimated, status,
            credits_consumed IS NULL AND status <> 'failed' AND coalesce(kie_state, '') <> 'fail' AS est
        FROM tasks
        WHERE created_at >= ?1 AND created_at < ?2
    )
    GROUP BY day, model";

/// Spend over the `days` local days ending with today (`now_ms` at `utc_offset_minutes`
/// east of UTC).
pub fn report(db: &Db, days: u32, utc_offset_minutes: i64, now_ms: i64) -> Result<SpendReport, StoreError> {
    if days == 0 || days > MAX_DAYS {
        return Err(StoreError::InvalidInput(format!("The spend report covers 1 to {MAX_DAYS} days, not {days}.")));
    }
    if utc_offset_minutes.abs() > MAX_OFFSET_MINUTES {
        return Err(StoreError::InvalidInput(format!(
            "{utc_offset_minutes} minutes is not a time zone's offset from UTC."
        )));
    }
    let offset_ms = utc_offset_minutes * 60_000;
    let today = (now_ms + offset_ms).div_euclid(DAY_MS);
    let first = today - (i64::from(days) - 1);
    let from_ms = first * DAY_MS - offset_ms;
    let to_ms = (today + 1) * DAY_MS - offset_ms;

    let rows = db.with(|c| query(c, from_ms, to_ms))?;

    let mut out_days: Vec<DaySpend> = (0..i64::from(days))
        .map(|i| DaySpend {
            date: civil_date(first + i),
            start_ms: from_ms + i * DAY_MS,
            spend: SpendAmount::default(),
            models: Vec::new(),
        })
        .collect();
    let mut models: Vec<ModelSpend> = Vec::new();
    let mut total = SpendAmount::default();
    for (day, model, amount) in rows {
        // Only uncharged failures: nothing to show for that model that day.
        if amount.tasks == 0 && amount.credits == 0.0 {
            continue;
        }
        let Some(d) = usize::try_from(day).ok().and_then(|i| out_days.get_mut(i)) else { continue };
        d.spend.add(&amount);
        d.models.push(ModelSpend { model: model.clone(), spend: amount.clone() });
        match models.iter_mut().find(|m| m.model == model) {
            Some(m) => m.spend.add(&amount),
            None => {
                let mut spend = SpendAmount::default();
                spend.add(&amount);
                models.push(ModelSpend { model, spend });
            }
        }
        total.add(&amount);
    }
    models.sort_by(|a, b| b.spend.credits.total_cmp(&a.spend.credits).then_with(|| a.model.cmp(&b.model)));
    let rank = |m: &str| models.iter().position(|x| x.model == m).unwrap_or(usize::MAX);
    for d in &mut out_days {
        d.models.sort_by_key(|m| rank(&m.model));
    }
    Ok(SpendReport { days: out_days, models, total, from_ms, to_ms, utc_offset_minutes })
}

fn query(c: &Connection, from_ms: i64, to_ms: i64) -> Result<Vec<(i64, String, SpendAmount)>, StoreError> {
    let mut st = c.prepare_cached(BY_DAY_AND_MODEL)?;
    let rows = st
        .query_map(params![from_ms, to_ms], |r| {
            let charged: u32 = r.get("charged")?;
            let estimated_tasks: u32 = r.get("estimated_tasks")?;
            let mut a = SpendAmount {
                actual_credits: r.get("actual")?,
                estimated_credits: r.get("estimated")?,
                tasks: charged + estimated_tasks,
                estimated_tasks,
                pending_tasks: r.get("pending")?,
                unpriced_tasks: r.get("unpriced")?,
                ..SpendAmount::default()
            };
            a.settle();
            Ok((r.get("day")?, r.get("model")?, a))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// `YYYY-MM-DD` of a day counted from 1970-01-01 (proleptic Gregorian; Howard Hinnant's
/// `civil_from_days`).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-03-10 12:00 UTC.
    const NOON: i64 = 1_773_144_000_000;
    const HOUR: i64 = 3_600_000;

    #[derive(Default)]
    struct Row {
        model: &'static str,
        status: &'static str,
        created_at: i64,
        estimated: Option<f64>,
        consumed: Option<f64>,
        kie_state: Option<&'static str>,
    }

    fn insert(db: &Db, r: Row) {
        db.with(|c| {
            c.execute(
                "INSERT INTO tasks (model, input_json, status, created_at, updated_at, credits_estimated,
                    credits_consumed, kie_state)
                 VALUES (?1, '{}', ?2, ?3, ?3, ?4, ?5, ?6)",
                params![r.model, r.status, r.created_at, r.estimated, r.consumed, r.kie_state],
            )?;
            Ok(())
        })
        .unwrap();
    }

    fn task(model: &'static str, status: &'static str, created_at: i64, est: f64, consumed: Option<f64>) -> Row {
        Row { model, status, created_at, estimated: Some(est), consumed, ..Row::default() }
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(NOON / DAY_MS), "2026-03-10");
        assert_eq!(civil_date(11_016), "2000-02-29");
        assert_eq!(civil_date(-1), "1969-12-31");
    }

    #[test]
    fn totals_are_the_sum_of_credits_consumed_plus_estimates_where_kie_gave_none() {
        let db = Db::open_in_memory().unwrap();
        let a = "sora-2-text-to-video";
        let b = "kling-3.0/video";
        // Charged: what Kie said, whatever the estimate or state.
        insert(&db, task(a, "succeeded", NOON - HOUR, 30.0, Some(18.5)));
        insert(&db, task(b, "succeeded", NOON - 2 * DAY_MS, 90.0, Some(2.4 * 6.0)));
        insert(&db, task(a, "cancelled", NOON - 3 * DAY_MS, 30.0, Some(30.0)));
        // Uncharged failures and a rejection: 0, no task.
        insert(&db, task(b, "failed", NOON - HOUR, 90.0, Some(0.0)));
        insert(&db, task(b, "failed", NOON - HOUR, 90.0, None));
        insert(&db, Row { kie_state: Some("fail"), ..task(a, "cancelled", NOON - HOUR, 30.0, None) });
        insert(&db, task("grok-imagine/text-to-video", "failed", NOON - HOUR, 20.0, Some(0.0)));
        // No figure from Kie, may be charged: the estimate.
        insert(&db, task(a, "succeeded", NOON - 2 * HOUR, 30.0, None));
        insert(&db, task(a, "running", NOON - 3 * HOUR, 45.0, None));
        insert(&db, task(b, "outcome_unknown", NOON - 3 * HOUR, 100.0, None));
        insert(&db, Row { model: b, status: "cancelled", created_at: NOON - 4 * HOUR, ..Row::default() });
        // Outside the window: too old, or not yet (a clock that went back).
        insert(&db, task(a, "succeeded", NOON - 40 * DAY_MS, 30.0, Some(30.0)));
        insert(&db, task(a, "succeeded", NOON + DAY_MS, 30.0, Some(30.0)));

        let r = report(&db, 30, 0, NOON).unwrap();
        let consumed: f64 = db
            .with(|c| {
                Ok(c.query_row(
                    "SELECT total(credits_consumed) FROM tasks WHERE created_at >= ?1 AND created_at < ?2",
                    params![r.from_ms, r.to_ms],
                    |row| row.get(0),
                )?)
            })
            .unwrap();
        assert_eq!(r.total.actual_credits, round6(consumed));
        assert_eq!(r.total.actual_credits, round6(18.5 + 2.4 * 6.0 + 30.0));
        assert_eq!(r.total.estimated_credits, 30.0 + 45.0 + 100.0);
        assert_eq!(r.total.credits, round6(r.total.actual_credits + 175.0));
        assert_eq!(r.total.usd, credits_to_usd(r.total.credits));
        assert_eq!(
            (r.total.tasks, r.total.estimated_tasks, r.total.pending_tasks, r.total.unpriced_tasks),
            (7, 4, 2, 1)
        );
        // Every breakdown adds up to the total.
        let by_day: f64 = r.days.iter().map(|d| d.spend.actual_credits).sum();
        let by_model: f64 = r.models.iter().map(|m| m.spend.actual_credits).sum();
        assert_eq!((round6(by_day), round6(by_model)), (r.total.actual_credits, r.total.actual_credits));
        // Most spent first; a day's models in that order; a model with nothing charged is not there.
        assert_eq!(r.models.iter().map(|m| m.model.as_str()).collect::<Vec<_>>(), [a, b]);
        let today = r.days.last().unwrap();
        assert_eq!(today.date, "2026-03-10");
        assert_eq!(today.models.iter().map(|m| m.model.as_str()).collect::<Vec<_>>(), [a, b]);
        assert_eq!(today.spend.actual_credits, 18.5);
        assert_eq!(today.spend.estimated_credits, 175.0);
    }

    #[test]
    fn thirty_days_every_one_present_even_empty() {
        let db = Db::open_in_memory().unwrap();
        insert(&db, task("m", "succeeded", NOON - 29 * DAY_MS, 1.0, Some(5.0)));
        let r = report(&db, 30, 0, NOON).unwrap();
        assert_eq!(r.days.len(), 30);
        assert_eq!((r.days[0].date.as_str(), r.days[29].date.as_str()), ("2026-02-09", "2026-03-10"));
        assert_eq!(r.days[0].spend.credits, 5.0);
        assert!(r.days[1..].iter().all(|d| d.spend == SpendAmount::default() && d.models.is_empty()));
        assert!(r.days.windows(2).all(|w| w[1].start_ms - w[0].start_ms == DAY_MS));
        assert_eq!((r.from_ms, r.to_ms), (r.days[0].start_ms, r.days[29].start_ms + DAY_MS));
        // A day before the window is not in it.
        insert(&db, task("m", "succeeded", NOON - 30 * DAY_MS, 1.0, Some(7.0)));
        assert_eq!(report(&db, 30, 0, NOON).unwrap().total.credits, 5.0);
        assert_eq!(report(&db, 31, 0, NOON).unwrap().total.credits, 12.0);
    }

    #[test]
    fn days_are_local_days_across_midnight() {
        let db = Db::open_in_memory().unwrap();
        // 2026-03-09 23:30 UTC: the 10th in Berlin (+01:00), the 9th in UTC and New York.
        let late = NOON - 12 * HOUR - HOUR / 2;
        insert(&db, task("m", "succeeded", late, 1.0, Some(10.0)));
        // 2026-03-10 03:30 UTC: the 9th in New York (-05:00), the 10th elsewhere.
        let early = NOON - 8 * HOUR - HOUR / 2;
        insert(&db, task("m", "succeeded", early, 1.0, Some(20.0)));

        let dates = |offset: i64| {
            let r = report(&db, 3, offset, NOON).unwrap();
            r.days.iter().map(|d| (d.date.clone(), d.spend.credits)).collect::<Vec<_>>()
        };
        let days = |v: [(&str, f64); 3]| v.map(|(d, c)| (d.to_string(), c)).to_vec();
        assert_eq!(dates(0), days([("2026-03-08", 0.0), ("2026-03-09", 10.0), ("2026-03-10", 20.0)]));
        assert_eq!(dates(60), days([("2026-03-08", 0.0), ("2026-03-09", 0.0), ("2026-03-10", 30.0)]));
        assert_eq!(dates(-300), days([("2026-03-08", 0.0), ("2026-03-09", 30.0), ("2026-03-10", 0.0)]));
        // A local day starts at local midnight.
        let r = report(&db, 1, 60, NOON).unwrap();
        assert_eq!(r.days[0].start_ms, NOON - 12 * HOUR - HOUR);
        // Just after local midnight it is already the next day.
        let r = report(&db, 1, 60, NOON + 11 * HOUR + 1).unwrap();
        assert_eq!(r.days[0].date, "2026-03-11");
    }

    #[test]
    fn absurd_arguments_are_refused() {
        let db = Db::open_in_memory().unwrap();
        assert!(matches!(report(&db, 0, 0, NOON), Err(StoreError::InvalidInput(_))));
        assert!(matches!(report(&db, MAX_DAYS + 1, 0, NOON), Err(StoreError::InvalidInput(_))));
        assert!(matches!(report(&db, 30, 24 * 60, NOON), Err(StoreError::InvalidInput(_))));
        assert!(report(&db, MAX_DAYS, -12 * 60, NOON).is_ok());
    }

    #[test]
    fn the_query_reads_only_the_window_through_its_index() {
        let db = Db::open_in_memory().unwrap();
        for i in 0..200 {
            insert(&db, task("m", "succeeded", NOON - i * HOUR, 1.0, Some(1.0)));
        }
        // As libraries are (never analysed), and with statistics.
        for analyse in [false, true] {
            db.with(|c| {
                if analyse {
                    c.execute_batch("ANALYZE")?;
                }
                let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {BY_DAY_AND_MODEL}"))?;
                let plan =
                    st.query_map(params![0, 1], |r| r.get::<_, String>("detail"))?.collect::<Result<Vec<_>, _>>()?;
                let on_tasks: Vec<_> = plan.iter().filter(|d| d.contains("tasks")).collect();
                assert!(!on_tasks.is_empty(), "{plan:?}");
                for step in on_tasks {
                    assert!(
                        step.starts_with("SEARCH tasks USING INDEX tasks_created_at (created_at>? AND created_at<?)"),
                        "{plan:?}"
                    );
                }
                Ok(())
            })
            .unwrap();
        }
    }
}
