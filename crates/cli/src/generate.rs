//! `kie generate`: the app's `submit_task`, then (with `--wait`) polling until the result
//! is in the library, or, while Kie Studio is open on the library (it polls and downloads),
//! waiting for it to land there.

use kie::catalogue::credits_to_usd;
use kie::KieError;
use serde_json::{Map, Value};
use studio::poller::Until;
use studio::tasks::{Task, TaskStatus};
use studio::{App, Studio, StudioError};

use crate::exit;
use crate::fields;
use crate::open::{self, Need};
use crate::output::{print_task, Out};
use crate::polling;
use crate::presets;

pub async fn run(
    app: &App,
    out: &Out,
    model: Option<&str>,
    preset: Option<&str>,
    wait: bool,
    fields: &[String],
) -> Result<i32, StudioError> {
    // With no model before them (`--preset p --prompt x`), clap took the first field for it.
    let (model, fields) = match model {
        Some(m) if m.starts_with('-') => (None, [&[m.to_string()], fields].concat()),
        m => (m, fields.to_vec()),
    };
    // Flags may come after the fields (`--prompt x --wait`): take them out first.
    let wait = wait || fields.iter().any(|f| f == "--wait");
    let out = &Out { json: out.json || fields.iter().any(|f| f == "--json") };
    let fields: Vec<String> = fields.into_iter().filter(|f| f != "--wait" && f != "--json").collect();
    let (preset, fields) = presets::take_flag(preset, fields)?;
    let no_model = || {
        StudioError::invalid(
            "model",
            "required",
            "Name a model (`kie generate MODEL --FIELD VALUE ...`; see `kie models`) or a preset (--preset NAME).",
        )
    };
    // Said before the library opens, so before any key is asked for.
    if model.is_none() && preset.is_none() {
        return Err(no_model());
    }
    let studio = open::library(app, Need::Key).await?;
    let (model, input) = match (&preset, model) {
        (Some(name), model) => presets::start_from(app, &studio, name, model, &fields).await?,
        (None, Some(model)) => (model.to_string(), fields::parse(app, &studio, model, &fields).await?),
        (None, None) => return Err(no_model()),
    };
    submit(app, &studio, out, &model, input, wait).await
}

/// Sends one task (as the app does) and reports it; with `wait`, polls until it is over
/// and its files are in.
pub async fn submit(
    app: &App,
    studio: &Studio,
    out: &Out,
    model: &str,
    input: Map<String, Value>,
    wait: bool,
) -> Result<i32, StudioError> {
    // No poller runs here: account for what other runs left (interrupted creates, tasks
    // still running at Kie) before sending.
    studio.journal().recover()?;
    refuse_when_slots_full(studio)?;
    let task = app.submit_task(model.to_string(), input).await?;
    follow(app, studio, out, task, wait).await
}

/// Every running slot is taken by the library's running tasks: say so at once, sending
/// nothing and writing nothing. (The app waits a while for one to finish; here nothing polls
/// while the create waits, so no slot would free.)
pub fn refuse_when_slots_full(studio: &Studio) -> Result<(), StudioError> {
    let client = studio.client();
    let running = client.running_tasks();
    if running < client.config().limits.max_running.max(1) {
        return Ok(());
    }
    Err(StudioError::Kie(KieError::SlotsFull { in_progress: running }))
}

/// Reports a task just sent (or refused); with `wait`, polls until it is over and its files
/// are in.
pub async fn follow(app: &App, studio: &Studio, out: &Out, task: Task, wait: bool) -> Result<i32, StudioError> {
    if task.status != TaskStatus::Running {
        print_task(studio, out, &task)?;
        return Ok(exit::for_task(&task));
    }
    if !out.json {
        let est = task.credits_estimated.map(|c| format!(", about {c} credits (${:.2})", credits_to_usd(c)));
        eprintln!(
            "Task #{} sent to Kie (id {}){}.",
            task.id,
            task.kie_task_id.as_deref().unwrap_or("?"),
            est.unwrap_or_default()
        );
    }
    let what = "download the result";
    if !wait {
        if let polling::Claim::Elsewhere(busy) = polling::claim(studio, "kie generate") {
            eprintln!("{}", polling::busy_line(&busy, what));
        }
        print_task(studio, out, &task)?;
        return Ok(exit::OK);
    }
    // Only the library's lock holder polls and downloads; while Kie Studio is open, it does.
    polling::drive(app, studio, out, Until::TaskDone(task.id), "kie generate", what).await?;
    if !out.json {
        eprintln!();
    }
    let task = app.get_task(task.id).await?;
    print_task(studio, out, &task)?;
    Ok(exit::for_task(&task))
}
