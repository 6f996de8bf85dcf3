//! `kie batch FILE --model MODEL [--FIELD VALUE ...] [--max-credits N] [--wait]`: many
//! creates from one list (one prompt per line, CSV, JSON Lines), checked in full before
//! anything is sent, written down as a batch, and sent in order within Kie's limits and the
//! credit cap, as the app sends them. `kie batches` lists them; `kie batches pause|resume|cancel N`.
//! Exit codes as `kie generate`'s: 2 a problem in the list (every one named with its line),
//! 4 the cap or the balance reached (or Kie's 402), 3 the key refused, 5 a model paused or
//! (with --wait) an item failed, 6 an item's outcome unknown.

use std::io::Read;
use std::path::Path;

use kie::catalogue::credits_to_usd;
use serde_json::json;
use studio::batches::{Batch, BatchFormat, BatchRequest, BatchState};
use studio::tasks::TaskStatus;
use studio::{App, StudioError, Until};

use crate::args::BatchAction;
use crate::exit;
use crate::fields;
use crate::open::{self, Need};
use crate::output::Out;
use crate::polling;

/// The flags given after the fields (clap hands everything after the first field over as
/// fields): taken out here.
#[derive(Debug, Default, PartialEq)]
struct Flags {
    model: Option<String>,
    max_credits: Option<String>,
    format: Option<String>,
    name: Option<String>,
    wait: bool,
    dry_run: bool,
    json: bool,
    fields: Vec<String>,
}

fn take_flags(args: &[String]) -> Flags {
    let mut f = Flags::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (name, inline) = match a.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let mut value = |slot: &mut Option<String>| *slot = inline.clone().or_else(|| it.next().cloned());
        match name {
            "--model" => value(&mut f.model),
            "--max-credits" => value(&mut f.max_credits),
            "--format" => value(&mut f.format),
            "--name" => value(&mut f.name),
            "--wait" => f.wait = true,
            "--dry-run" => f.dry_run = true,
            "--json" => f.json = true,
            _ => f.fields.push(a.clone()),
        }
    }
    f
}

fn invalid(field: &str, message: String) -> StudioError {
    StudioError::InvalidInput(vec![kie::validate::Problem::new(field, "bad_format", message)])
}

fn credits(c: Option<f64>) -> String {
    match c {
        Some(c) => format!("{c} credits (${:.2})", credits_to_usd(c)),
        None => "no price known".into(),
    }
}

pub struct BatchArgs<'a> {
    pub file: &'a Path,
    pub model: Option<&'a str>,
    pub max_credits: Option<f64>,
    pub format: Option<&'a str>,
    pub name: Option<&'a str>,
    pub dry_run: bool,
    pub wait: bool,
    pub fields: &'a [String],
}

pub async fn run(app: &App, out: &Out, a: BatchArgs<'_>) -> Result<i32, StudioError> {
    let f = take_flags(a.fields);
    let out = &Out { json: out.json || f.json };
    let wait = a.wait || f.wait;
    let dry_run = a.dry_run || f.dry_run;
    let model = f
        .model
        .as_deref()
        .or(a.model)
        .ok_or_else(|| invalid("model", "Give the model: --model MODEL (see `kie models`).".into()))?;
    let max_credits =
        match (f.max_credits.as_deref(), a.max_credits) {
            (Some(raw), _) => Some(raw.trim().parse::<f64>().map_err(|_| {
                invalid("max_credits", format!("--max-credits takes a number of credits, not {raw:?}."))
            })?),
            (None, m) => m,
        };
    let format = match f.format.as_deref().or(a.format) {
        Some("lines") => Some(BatchFormat::Lines),
        Some("csv") => Some(BatchFormat::Csv),
        Some("jsonl") => Some(BatchFormat::Jsonl),
        Some(other) => return Err(invalid("format", format!("--format is lines, csv or jsonl, not {other:?}."))),
        // The core reads it as the file's name says.
        None => None,
    };
    let text = read_list(a.file)?;
    let studio = open::library(app, Need::Key).await?;
    // The fields given here are every item's start (local files uploaded once).
    let base = fields::parse(app, &studio, model, &f.fields).await?;
    let request = BatchRequest {
        model: model.to_string(),
        base,
        format,
        file_name: Some(a.file.to_string_lossy().into_owned()),
        text,
        count: 0,
        cap_credits: max_credits,
        name: f.name.clone().or(a.name.map(str::to_string)),
    };
    let plan = app.plan_batch(request.clone()).await?;
    if !plan.problems.is_empty() {
        return Err(studio::batches::problems_error(&plan));
    }
    let cap = max_credits.or(plan.estimate_credits);
    if dry_run {
        out.print(&serde_json::to_value(&plan).unwrap_or_default(), || {
            format!(
                "{} items for {model}, about {} in all{}; nothing sent (--dry-run).",
                plan.items.len(),
                credits(plan.estimate_credits),
                unpriced(plan.unpriced)
            )
        });
        return Ok(exit::OK);
    }
    studio.journal().recover()?;
    let batch = app.start_batch(request).await?;
    if !out.json {
        eprintln!(
            "Batch #{} started: {} items, about {} in all{}, capped at {}.",
            batch.id,
            batch.items,
            credits(batch.estimate_credits),
            unpriced(plan.unpriced),
            credits(cap)
        );
    }
    // Only the library's lock holder sends and polls; while Kie Studio is open, it does.
    let (until, what) = if wait {
        (Until::BatchDone(batch.id), "send the batch and download its results")
    } else {
        (Until::BatchSent(batch.id), "send the batch")
    };
    polling::drive(app, &studio, out, until, "kie batch", what).await?;
    if !out.json {
        eprintln!();
    }
    report(app, out, batch.id, wait).await
}

fn unpriced(n: u32) -> String {
    match n {
        0 => String::new(),
        n => format!(" ({n} items without a price)"),
    }
}

/// The list, from the file or standard input (`-`).
fn read_list(file: &Path) -> Result<String, StudioError> {
    let mut text = String::new();
    let read = if file == Path::new("-") {
        std::io::stdin().read_to_string(&mut text).map(|_| ())
    } else {
        std::fs::read_to_string(file).map(|t| text = t)
    };
    read.map_err(|e| invalid("file", format!("The list {} cannot be read: {e}.", file.display())))?;
    Ok(text)
}

/// The batch as it stands, and the exit code it ends with.
async fn report(app: &App, out: &Out, id: i64, waited: bool) -> Result<i32, StudioError> {
    let batch = studio::batches::get(app.studio()?.db(), id)?;
    let items = app.list_batch_items(id).await?;
    let mut statuses = Vec::new();
    for i in &items {
        if let Some(t) = i.task_id {
            statuses.push(app.get_task(t).await?);
        }
    }
    let failed = statuses.iter().filter(|t| t.status == TaskStatus::Failed).count();
    let unknown = statuses.iter().filter(|t| t.status == TaskStatus::OutcomeUnknown).count();
    let code = match (&batch.stop_code, waited) {
        (Some(c), _) => stop_exit(c),
        _ if unknown > 0 => exit::UNKNOWN,
        _ if failed > 0 => exit::FAILED,
        _ => exit::OK,
    };
    let value = json!({"batch": batch, "items": items, "tasks": statuses});
    out.print(&value, || describe(&batch, failed, unknown));
    Ok(code)
}

/// A stop's exit code (its code is an error code's name, or `cap_reached`).
fn stop_exit(code: &str) -> i32 {
    match code {
        "cap_reached" | "insufficient_credits" => exit::CREDITS,
        "unauthorized" => exit::KEY,
        "invalid_input" => exit::INVALID,
        _ => exit::FAILED,
    }
}

fn describe(b: &Batch, failed: usize, unknown: usize) -> String {
    let mut s = format!(
        "Batch #{} ({}): {}; {} of {} items sent, {} credits spent or committed",
        b.id,
        b.name,
        b.state.as_str(),
        b.sent,
        b.items,
        b.committed_credits
    );
    if let Some(cap) = b.cap_credits {
        s.push_str(&format!(" of a {cap}-credit cap"));
    }
    s.push('.');
    if failed > 0 {
        s.push_str(&format!(" {failed} failed."));
    }
    if unknown > 0 {
        s.push_str(&format!(" {unknown} with an unknown outcome (not sent again: see `kie tasks`)."));
    }
    if let Some(m) = &b.stop_message {
        s.push_str(&format!("\n{m}"));
    }
    if b.pending > 0 && b.state != BatchState::Cancelled {
        s.push_str(&format!(
            "\n{} items wait: `kie batches resume {}` sends them, `kie batches cancel {}` drops them.",
            b.pending, b.id, b.id
        ));
    }
    s
}

/// `kie batches [pause|resume|cancel N]`.
pub async fn batches(app: &App, out: &Out, action: Option<&BatchAction>) -> Result<i32, StudioError> {
    let changed = match action {
        None => {
            open::library(app, Need::Library).await?;
            let list = app.list_batches(100).await?;
            out.print(&serde_json::to_value(&list).unwrap_or_default(), || {
                if list.is_empty() {
                    return "No batches yet: `kie batch FILE --model MODEL` starts one.".into();
                }
                list.iter()
                    .map(|b| describe(b, 0, 0).lines().next().unwrap_or_default().to_string())
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            return Ok(exit::OK);
        }
        Some(BatchAction::Pause { id }) => {
            open::library(app, Need::Library).await?;
            app.pause_batch(*id).await?
        }
        Some(BatchAction::Resume { id, wait }) => {
            let studio = open::library(app, Need::Key).await?;
            let b = app.resume_batch(*id).await?;
            let until = if *wait { Until::BatchDone(b.id) } else { Until::BatchSent(b.id) };
            polling::drive(app, &studio, out, until, "kie batches resume", "send the batch").await?;
            return report(app, out, b.id, *wait).await;
        }
        Some(BatchAction::Cancel { id }) => {
            open::library(app, Need::Library).await?;
            app.cancel_batch(*id).await?
        }
    };
    out.print(&serde_json::to_value(&changed).unwrap_or_default(), || describe(&changed, 0, 0));
    Ok(exit::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_after_the_fields_are_taken_out() {
        let args: Vec<String> =
            ["--n_frames", "15", "--max-credits", "40", "--wait", "--model=sora-2-text-to-video", "--json"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        let f = take_flags(&args);
        assert_eq!(f.fields, ["--n_frames", "15"]);
        assert_eq!((f.max_credits.as_deref(), f.model.as_deref()), (Some("40"), Some("sora-2-text-to-video")));
        assert!(f.wait && f.json && !f.dry_run);
    }

    #[test]
    fn stops_exit_as_generate_does() {
        assert_eq!(stop_exit("cap_reached"), exit::CREDITS);
        assert_eq!(stop_exit("insufficient_credits"), exit::CREDITS);
        assert_eq!(stop_exit("unauthorized"), exit::KEY);
        assert_eq!(stop_exit("model_paused"), exit::FAILED);
    }
}
