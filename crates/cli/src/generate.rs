//! `kie generate`: the app's `submit_task`, then (with `--wait`) polling until the result
//! is in the library.

use kie::catalogue::credits_to_usd;
use serde_json::{Map, Value};
use studio::poller::Until;
use studio::tasks::TaskStatus;
use studio::{App, Studio, StudioError};

use crate::exit;
use crate::fields;
use crate::open::{self, Need};
use crate::output::{print_task, progress_line, Out};

pub async fn run(app: &App, out: &Out, model: &str, wait: bool, fields: &[String]) -> Result<i32, StudioError> {
    // Flags may come after the fields (`--prompt x --wait`): take them out first.
    let wait = wait || fields.iter().any(|f| f == "--wait");
    let out = &Out { json: out.json || fields.iter().any(|f| f == "--json") };
    let fields: Vec<String> = fields.iter().filter(|f| *f != "--wait" && *f != "--json").cloned().collect();
    let studio = open::library(app, Need::Key).await?;
    let input = fields::parse(app, &studio, model, &fields).await?;
    submit(app, &studio, out, model, input, wait).await
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
    let task = app.submit_task(model.to_string(), input).await?;
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
    if !wait {
        print_task(studio, out, &task)?;
        return Ok(exit::OK);
    }
    let progress = progress_line(app, out.json);
    let done = studio.poller().run(Until::TaskDone(task.id)).await;
    progress.abort();
    done?;
    if !out.json {
        eprintln!();
    }
    let task = app.get_task(task.id).await?;
    print_task(studio, out, &task)?;
    Ok(exit::for_task(&task))
}
