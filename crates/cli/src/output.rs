//! What the command prints: text for people or JSON for scripts on standard output;
//! progress, hints and errors on standard error.

use std::io::Write;

use kie::catalogue::credits_to_usd;
use serde_json::{json, Value};
use studio::events::StudioEvent;
use studio::progress::plain_line;
use studio::tasks::{Task, TaskStatus};
use studio::{App, Studio, StudioError};
use tokio::task::JoinHandle;

use crate::exit;

/// Where output goes, and in which form.
pub struct Out {
    pub json: bool,
}

impl Out {
    pub fn print(&self, value: &Value, human: impl FnOnce() -> String) {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
        } else {
            println!("{}", human());
        }
    }

    /// Reports an error (`{"error": {"code", "message", "problems"?}}` in JSON) and returns
    /// its exit code.
    pub fn error(&self, e: &StudioError) -> i32 {
        let code = e.code();
        if self.json {
            let mut v = json!({"error": {"code": code.as_str(), "message": e.to_string()}});
            if let StudioError::InvalidInput(problems) = e {
                v["error"]["problems"] = serde_json::to_value(problems).unwrap_or_default();
            }
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        } else {
            // Kie's message may be in it: each line as plain text.
            let text = e.to_string().lines().map(plain_line).collect::<Vec<_>>().join("\n");
            eprintln!("kie: {text}");
            if let Some(hint) = exit::hint(code) {
                eprintln!("{hint}");
            }
        }
        exit::for_code(code)
    }
}

/// A task with its results and the full paths of its files.
pub fn print_task(studio: &Studio, out: &Out, task: &Task) -> Result<(), StudioError> {
    let results = studio::library::results_for_task(studio.db(), task.id)?;
    let files: Vec<String> = results
        .iter()
        .filter_map(|r| r.path.as_deref())
        .filter_map(|p| studio.paths().resolve(p).ok())
        .map(|p| p.display().to_string())
        .collect();
    let v = json!({"task": task, "results": results, "files": files});
    out.print(&v, || {
        let mut s = format!("Task #{} · {} · {}", task.id, task.model, task.status);
        if let Some(k) = &task.kie_task_id {
            s.push_str(&format!("\nKie id: {k}"));
        }
        if let Some(p) = task.prompt() {
            s.push_str(&format!("\nPrompt: {}", ellipsize(p, 200)));
        }
        if task.status == TaskStatus::Running {
            s.push_str(&format!(
                "\nState: {} {}",
                plain_line(task.kie_state.as_deref().unwrap_or("sent")),
                task.progress.map(|p| format!("{p:.0}%")).unwrap_or_default()
            ));
            if task.stale {
                s.push_str("\nKie has not finished it in a long time; `kie resume` after checking your account.");
            }
        }
        if let Some(m) = &task.fail_message {
            // Kie's words: no escape sequences or control characters reach the terminal.
            s.push_str(&format!("\nWhy: {}", plain_line(m)));
        }
        if let Some(c) = task.credits_consumed.or(task.credits_estimated) {
            let what = if task.credits_consumed.is_some() { "Credits" } else { "Estimated credits" };
            s.push_str(&format!("\n{what}: {c} (${:.2})", credits_to_usd(c)));
        }
        for f in &files {
            s.push_str(&format!("\nFile: {f}"));
        }
        for r in &results {
            if let Some(t) = &r.text_json {
                s.push_str(&format!("\nResult: {t}"));
            }
        }
        s
    });
    Ok(())
}

/// One progress line on standard error while waiting (none in JSON mode), from the app's
/// event stream. Abort the handle when done.
pub fn progress_line(app: &App, json: bool) -> JoinHandle<()> {
    let mut rx = app.subscribe();
    tokio::spawn(async move {
        if json {
            return;
        }
        while let Ok(ev) = rx.recv().await {
            let line = match ev {
                StudioEvent::TaskChanged { task } => format!(
                    "#{} {} {}",
                    task.id,
                    plain_line(task.kie_state.as_deref().unwrap_or(task.status.as_str())),
                    task.progress.map(|p| format!("{p:.0}%")).unwrap_or_default()
                ),
                StudioEvent::DownloadProgress { task_id, done, total, .. } => match total {
                    Some(t) if t > 0 => format!("#{task_id} downloading {:.0}%", done as f64 * 100.0 / t as f64),
                    _ => format!("#{task_id} downloading {} KB", done / 1024),
                },
                _ => continue,
            };
            eprint!("\r{line:<60}");
            let _ = std::io::stderr().flush();
        }
    })
}

/// One line of at most `max` characters.
pub fn ellipsize(s: &str, max: usize) -> String {
    let one_line = s.replace(['\n', '\r'], " ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        format!("{}…", one_line.chars().take(max.saturating_sub(1)).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_prompts_fit_one_line() {
        assert_eq!(ellipsize("a fox\nin snow", 20), "a fox in snow");
        assert_eq!(ellipsize("abcdef", 4), "abc…");
    }
}
