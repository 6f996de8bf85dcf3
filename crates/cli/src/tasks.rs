//! `kie status`, `kie list` and `kie resume`: the library's tasks and results, and finishing
//! what is unfinished.

use serde_json::json;
use studio::library::ResultQuery;
use studio::poller::Until;
use studio::tasks::Task;
use studio::{ApiErrorCode, App, StudioError};

use crate::exit;
use crate::open::{self, Need};
use crate::output::{ellipsize, print_task, Out};
use crate::polling;

/// A task by its number in the library (`12` or `#12`) or by Kie's task id.
pub async fn find(app: &App, reference: &str) -> Result<Task, StudioError> {
    let r = reference.trim().trim_start_matches('#');
    if let Ok(id) = r.parse::<i64>() {
        match app.get_task(id).await {
            Ok(task) => return Ok(task),
            Err(e) if e.code() != ApiErrorCode::NotInLibrary => return Err(e),
            // Kie's ids could be all digits too.
            Err(_) => {}
        }
    }
    studio::tasks::by_kie_id(app.studio()?.db(), r)?
        .ok_or_else(|| StudioError::NotFound(format!("No task {reference:?} in this library.")))
}

pub async fn status(app: &App, out: &Out, reference: &str) -> Result<i32, StudioError> {
    let studio = open::library(app, Need::Library).await?;
    let task = find(app, reference).await?;
    print_task(&studio, out, &task)?;
    Ok(exit::for_task(&task))
}

pub async fn list(app: &App, out: &Out, search: Option<String>, limit: u32) -> Result<i32, StudioError> {
    let studio = open::library(app, Need::Library).await?;
    let rows = app.list_results(ResultQuery { search, limit, ..ResultQuery::default() }).await?.items;
    out.print(&serde_json::to_value(&rows).unwrap_or_default(), || {
        if rows.is_empty() {
            return "The library is empty.".to_string();
        }
        rows.iter()
            .map(|r| {
                let file = r.result.path.as_deref().map(|p| studio.paths().root().join(p).display().to_string());
                format!(
                    "#{:<5} {:<26} {:<9} {}\n       {}",
                    r.result.task_id,
                    r.model,
                    r.result.kind.as_str(),
                    r.prompt.as_deref().map(|p| ellipsize(p, 60)).unwrap_or_default(),
                    file.unwrap_or_else(|| "(text result)".into())
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    // Results only: a task with none (yet) that waits for the user is pointed at.
    if !out.json {
        let waiting = crate::actions::needing_the_user(&studio)?;
        if waiting > 0 {
            let them = if waiting == 1 { "1 task needs".to_string() } else { format!("{waiting} tasks need") };
            eprintln!("{them} you (outcome unknown, or stale): see `kie tasks`.");
        }
    }
    Ok(exit::OK)
}

pub async fn resume(app: &App, out: &Out) -> Result<i32, StudioError> {
    let studio = open::library(app, Need::Key).await?;
    let before = studio::tasks::unfinished(studio.db())?.len();
    let batches = studio::batches::list(studio.db(), 1000)?
        .iter()
        .filter(|b| b.state == studio::batches::BatchState::Running && b.pending > 0)
        .count();
    // Only the library's lock holder polls; while Kie Studio is open, it does, and this waits.
    let what = "poll and download what is unfinished";
    polling::drive(app, &studio, out, Until::Idle, "kie resume", what).await?;
    if !out.json && before > 0 {
        eprintln!();
    }
    out.print(&json!({"resumed": before, "batches": batches}), || {
        let sent = match batches {
            0 => String::new(),
            n => format!(" and {n} batch(es) sent to the end"),
        };
        format!("Done: {before} unfinished task(s) picked up{sent}; nothing left to poll or download.")
    });
    Ok(exit::OK)
}
