//! `kie tasks` and the window's task actions: `kie check`, `kie attach`, `kie cancel`,
//! `kie resubmit`. Every task is listed, not only those with results, so the one the user
//! must act on (an outcome unknown, a stale task) is never invisible; each action is the
//! app's command of the same meaning, offered where the window offers it (`Task.actions`).

use std::io::{BufRead, IsTerminal, Write};

use kie::catalogue::credits_to_usd;
use studio::poller::Until;
use studio::tasks::{Task, TaskAction, TaskQuery, TaskStatus};
use studio::{App, Studio, StudioError};

use crate::exit;
use crate::generate;
use crate::open::{self, Need};
use crate::output::{ellipsize, print_task, Out};
use crate::polling;
use crate::tasks::find;

/// What `--state` takes: a task's status, or `stale` (running, but given up on for now).
const STATES: &str = "submitting, running, stale, succeeded, failed, outcome_unknown, cancelled";

/// A `--state` filter: a status, or running tasks that went stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StateFilter {
    Status(TaskStatus),
    Stale,
}

fn parse_state(s: &str) -> Result<StateFilter, StudioError> {
    let s = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
    if s == "stale" {
        return Ok(StateFilter::Stale);
    }
    TaskStatus::parse(&s)
        .map(StateFilter::Status)
        .ok_or_else(|| StudioError::invalid("state", "one_of", format!("No task state {s:?}. Use one of: {STATES}.")))
}

/// `kie tasks`: every task, newest first, with what can be done about each.
pub async fn list(app: &App, out: &Out, state: Option<&str>, limit: u32) -> Result<i32, StudioError> {
    let filter = state.map(parse_state).transpose()?;
    let studio = open::library(app, Need::Library).await?;
    let status = match filter {
        Some(StateFilter::Status(s)) => Some(s),
        Some(StateFilter::Stale) => Some(TaskStatus::Running),
        None => None,
    };
    let query = TaskQuery { status, limit: limit.max(1), ..TaskQuery::default() };
    let mut rows = studio::tasks::list(studio.db(), &query)?;
    if filter == Some(StateFilter::Stale) {
        rows.retain(|t| t.stale);
    }
    let now = studio.now_ms();
    out.print(&serde_json::to_value(&rows).unwrap_or_default(), || {
        if rows.is_empty() {
            return match state {
                Some(s) => format!("No {s} tasks."),
                None => "No tasks in this library yet.".to_string(),
            };
        }
        rows.iter().map(|t| task_lines(t, now)).collect::<Vec<_>>().join("\n")
    });
    Ok(exit::OK)
}

/// A task in two or three lines: number, state, model, age and prompt; why it failed or
/// what is unknown; and the commands that act on it.
fn task_lines(t: &Task, now_ms: i64) -> String {
    let prompt = t.prompt().map(|p| ellipsize(p, 50)).unwrap_or_default();
    let mut s =
        format!("#{:<5} {:<16} {:<26} {:>9}  {}", t.id, state_words(t), t.model, ago(now_ms - t.created_at), prompt);
    let why = match t.status {
        TaskStatus::OutcomeUnknown => {
            Some("Kie may or may not have it (it was not sent again). Look in your Kie account.".to_string())
        }
        TaskStatus::Running if t.stale => {
            Some("Kie has not finished it in a long time; polling stopped for now.".to_string())
        }
        TaskStatus::Failed | TaskStatus::Cancelled => t.fail_message.as_deref().map(|m| ellipsize(m, 100)),
        _ => None,
    };
    if let Some(why) = why {
        s.push_str(&format!("\n       {why}"));
    }
    let commands = commands_for(t);
    if !commands.is_empty() {
        s.push_str(&format!("\n       {}", commands.join(" · ")));
    }
    s
}

fn state_words(t: &Task) -> String {
    match t.status {
        TaskStatus::Running if t.stale => "stale".into(),
        TaskStatus::Running => match (t.kie_state.as_deref(), t.progress) {
            (Some(k), Some(p)) => format!("{} {p:.0}%", ellipsize(k, 10)),
            (Some(k), None) => ellipsize(k, 16),
            _ => "running".into(),
        },
        TaskStatus::Succeeded if !t.downloads_done => "succeeded (files pending)".into(),
        TaskStatus::OutcomeUnknown => "outcome unknown".into(),
        other => other.as_str().into(),
    }
}

/// The window's buttons for this task, as commands.
fn commands_for(t: &Task) -> Vec<String> {
    t.actions
        .iter()
        .filter_map(|a| {
            Some(match a {
                TaskAction::CheckAgain => format!("`kie check {}`", t.id),
                TaskAction::AttachKieId => format!("`kie attach {} KIE_ID`", t.id),
                TaskAction::Resubmit => format!("`kie resubmit {}`", t.id),
                TaskAction::Cancel => format!("`kie cancel {}`", t.id),
                // The 1080p copy has no command of its own yet: the app fetches it.
                TaskAction::GetHd => return None,
            })
        })
        .collect()
}

/// "5 s ago", "3 min ago", "2 h ago", "4 days ago".
fn ago(ms: i64) -> String {
    let s = (ms / 1000).max(0);
    match s {
        0..=59 => format!("{s} s ago"),
        60..=3599 => format!("{} min ago", s / 60),
        3600..=172_799 => format!("{} h ago", s / 3600),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// How many tasks wait for the user (an outcome unknown, or stale): `kie list` points at them.
pub fn needing_the_user(studio: &Studio) -> Result<usize, StudioError> {
    let all = |status| TaskQuery { status: Some(status), limit: u32::MAX, ..TaskQuery::default() };
    let unknown = studio::tasks::list(studio.db(), &all(TaskStatus::OutcomeUnknown))?.len();
    let stale = studio::tasks::list(studio.db(), &all(TaskStatus::Running))?.iter().filter(|t| t.stale).count();
    Ok(unknown + stale)
}

/// `kie check`: the window's "Check again". A running (stale) task is asked about now, a
/// succeeded one whose files did not arrive is downloaded again; `--wait` keeps polling
/// until it is over. For a task whose outcome is unknown nothing can be asked of Kie without
/// its id: it is shown as it stands, with what the user can do.
pub async fn check(app: &App, out: &Out, reference: &str, wait: bool) -> Result<i32, StudioError> {
    let studio = open::library(app, Need::Key).await?;
    let task = find(app, reference).await?;
    let task = app.check_task_again(task.id).await?;
    if task.status != TaskStatus::OutcomeUnknown {
        let what = "check it now";
        if wait {
            polling::drive(app, &studio, out, Until::TaskDone(task.id), "kie check", what).await?;
            if !out.json {
                eprintln!();
            }
        } else {
            match polling::claim(&studio, "kie check") {
                polling::Claim::Mine(_lock) => check_once(&studio, &task).await?,
                polling::Claim::Elsewhere(busy) => eprintln!("{}", polling::busy_line(&busy, what)),
            }
        }
    }
    let task = app.get_task(task.id).await?;
    print_task(&studio, out, &task)?;
    if !out.json {
        if let Some(next) = next_step(&task) {
            eprintln!("{next}");
        }
    }
    Ok(exit::for_task(&task))
}

/// One look, as the poller would take it: a poll for a running task (a success is downloaded
/// at once), a download for a succeeded one whose files are not all in.
async fn check_once(studio: &Studio, task: &Task) -> Result<(), StudioError> {
    match task.status {
        TaskStatus::Running => studio.poller().poll_once(task).await,
        TaskStatus::Succeeded if !task.downloads_done => studio.downloader().download_results(task).await,
        _ => Ok(()),
    }
}

/// What the user can do next, in words, when the task waits for them.
fn next_step(t: &Task) -> Option<String> {
    let id = t.id;
    match t.status {
        TaskStatus::OutcomeUnknown => Some(format!(
            "Kie may or may not have task #{id}, and without its Kie id there is nothing to ask. \
             If your Kie account shows it, `kie attach {id} KIE_ID` tracks it; if not, `kie resubmit {id}` \
             sends it again (paid for again)."
        )),
        TaskStatus::Running if t.stale => Some(format!(
            "Kie has not finished task #{id} yet. Look in your Kie account; `kie check {id}` asks again, \
             `kie cancel {id}` stops tracking it."
        )),
        TaskStatus::Running => {
            Some(format!("Still running at Kie; `kie check {id} --wait` waits for it, or `kie resume` later."))
        }
        _ => None,
    }
}

/// `kie attach`: the Kie task id the user found, for a task whose outcome was unknown (or a
/// cancelled one without an id): it is tracked again.
pub async fn attach(app: &App, out: &Out, reference: &str, kie_id: &str) -> Result<i32, StudioError> {
    let studio = open::library(app, Need::Library).await?;
    let task = find(app, reference).await?;
    let task = app.attach_kie_id(task.id, kie_id.to_string()).await?;
    print_task(&studio, out, &task)?;
    if !out.json {
        eprintln!(
            "Task #{} is tracked again; `kie check {} --wait` brings the result in (or `kie resume`).",
            task.id, task.id
        );
    }
    Ok(exit::OK)
}

/// `kie cancel`: stop tracking. Kie has no cancel call: the task may still finish and charge,
/// and a late result still lands in the library.
pub async fn cancel(app: &App, out: &Out, reference: &str) -> Result<i32, StudioError> {
    let studio = open::library(app, Need::Library).await?;
    let task = find(app, reference).await?;
    let task = app.cancel_task(task.id).await?;
    print_task(&studio, out, &task)?;
    if !out.json {
        eprintln!(
            "No longer tracked. Kie cannot cancel a task: it may still finish and charge; a late result still \
             lands in the library."
        );
    }
    Ok(exit::OK)
}

/// `kie resubmit`: the task's input again, as a new task, paid for again. Offered where the
/// window offers it (a failed task, an unknown outcome). Asks first (a "y" on standard
/// input), unless `--yes`.
pub async fn resubmit(app: &App, out: &Out, reference: &str, yes: bool, wait: bool) -> Result<i32, StudioError> {
    let studio = open::library(app, Need::Key).await?;
    let task = find(app, reference).await?;
    if !task.actions.contains(&TaskAction::Resubmit) {
        return Err(StudioError::Refused(format!(
            "Task #{} is {}; only a task that failed or whose outcome is unknown is resubmitted. \
             To make it again, use `kie generate {}`.",
            task.id, task.status, task.model
        )));
    }
    let cost =
        task.credits_estimated.map(|c| format!(" (about {c} credits, ${:.2})", credits_to_usd(c))).unwrap_or_default();
    eprintln!(
        "Resubmit task #{} ({}{}) as a new task: it will be paid for again{cost}.",
        task.id,
        task.model,
        task.prompt().map(|p| format!(", \"{}\"", ellipsize(p, 60))).unwrap_or_default()
    );
    if task.status == TaskStatus::OutcomeUnknown {
        eprintln!("Kie may already have the first one: look in your Kie account first.");
    }
    if !yes && !confirmed()? {
        return Err(StudioError::Refused(format!(
            "Not resubmitted. Answer y to send it, or pass --yes (`kie resubmit {} --yes`).",
            task.id
        )));
    }
    studio.journal().recover()?;
    generate::refuse_when_slots_full(&studio)?;
    let new = app.resubmit_task(task.id).await?;
    generate::follow(app, &studio, out, new, wait).await
}

/// Asks "Send it? [y/N]" and reads one line of standard input: only "y" or "yes" agree
/// (no input, as from a script that gave none, does not).
fn confirmed() -> Result<bool, StudioError> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Send it? [y/N] ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(StudioError::io("read the answer"))?;
    Ok(matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_by_name() {
        assert_eq!(parse_state("outcome-unknown").unwrap(), StateFilter::Status(TaskStatus::OutcomeUnknown));
        assert_eq!(parse_state(" Failed ").unwrap(), StateFilter::Status(TaskStatus::Failed));
        assert_eq!(parse_state("stale").unwrap(), StateFilter::Stale);
        let e = parse_state("sideways").unwrap_err();
        assert!(e.to_string().contains("outcome_unknown"), "{e}");
    }

    #[test]
    fn ages_in_words() {
        assert_eq!(ago(-5), "0 s ago");
        assert_eq!(ago(59_000), "59 s ago");
        assert_eq!(ago(180_000), "3 min ago");
        assert_eq!(ago(2 * 3_600_000), "2 h ago");
        assert_eq!(ago(3 * 86_400_000), "3 days ago");
    }
}
