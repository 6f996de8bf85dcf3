//! What the window hears while work is under way: progress events throttled per task (the
//! poller and downloader report far more often than a screen needs), and the one-line
//! desktop notice when a task is over. No Tauri here: the shell sends what this returns.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use kie::catalogue::{Catalogue, OutputKind};

use crate::api::ProgressEvent;
use crate::events::StudioEvent;
use crate::tasks::{Task, TaskStatus};

/// Progress events per second per task (and per downloaded file).
pub const DEFAULT_PER_SECOND: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Stream {
    Task(i64),
    Download(i64, u32),
}

/// Turns the core's events into [`ProgressEvent`]s, at most `per_second` per stream. A
/// change of Kie's state and a finished download are never held back.
#[derive(Debug)]
pub struct ProgressThrottle {
    gap: Duration,
    last: HashMap<Stream, (Instant, Option<String>)>,
}

impl Default for ProgressThrottle {
    fn default() -> Self {
        ProgressThrottle::new(DEFAULT_PER_SECOND)
    }
}

impl ProgressThrottle {
    pub fn new(per_second: u32) -> Self {
        ProgressThrottle { gap: Duration::from_millis(1000 / u64::from(per_second.max(1))), last: HashMap::new() }
    }

    /// The progress event to send now for `event`, if any.
    pub fn filter(&mut self, event: &StudioEvent, now: Instant) -> Option<ProgressEvent> {
        match event {
            StudioEvent::TaskChanged { task } => {
                let stream = Stream::Task(task.id);
                if task.status != TaskStatus::Running && task.status != TaskStatus::Submitting {
                    // Over (or waiting for its files): forget it, and say so once.
                    self.last.retain(|s, _| !matches!(s, Stream::Task(id) | Stream::Download(id, _) if *id == task.id));
                    return Some(task_progress(task));
                }
                let state_changed = !matches!(self.last.get(&stream), Some((_, s)) if *s == task.kie_state);
                if !state_changed && !self.due(stream, now) {
                    return None;
                }
                self.last.insert(stream, (now, task.kie_state.clone()));
                Some(task_progress(task))
            }
            StudioEvent::DownloadProgress { task_id, idx, done, total } => {
                let stream = Stream::Download(*task_id, *idx);
                let finished = total.is_some_and(|t| *done >= t);
                if finished {
                    self.last.remove(&stream);
                } else if self.due(stream, now) {
                    self.last.insert(stream, (now, None));
                } else {
                    return None;
                }
                Some(ProgressEvent::Download { task_id: *task_id, idx: *idx, done: *done, total: *total })
            }
            _ => None,
        }
    }

    fn due(&self, stream: Stream, now: Instant) -> bool {
        match self.last.get(&stream) {
            Some((at, _)) => now.saturating_duration_since(*at) >= self.gap,
            None => true,
        }
    }
}

fn task_progress(task: &Task) -> ProgressEvent {
    ProgressEvent::Task { task_id: task.id, kie_state: task.kie_state.clone(), progress: task.progress }
}

/// Decides the desktop notices: one per task, when its result is in the library or it
/// failed. Whether the window has focus is the shell's business.
#[derive(Debug, Default)]
pub struct Notices {
    told: HashSet<i64>,
}

impl Notices {
    /// The notice's text for this change of a task, once per task.
    pub fn for_change(&mut self, task: &Task) -> Option<String> {
        let text = match task.status {
            TaskStatus::Succeeded if task.downloads_done => {
                match Catalogue::builtin().model(&task.model).map(|m| m.output) {
                    Some(OutputKind::Character) => "Your character is ready",
                    Some(OutputKind::Image) => "Your image is ready",
                    _ => "Your video is ready",
                }
                .to_string()
            }
            TaskStatus::Failed => format!("A task failed: {}", plain_reason(task)),
            _ => return None,
        };
        self.told.insert(task.id).then_some(text)
    }
}

/// Kie's words for a failure, short and on one line, or a plain fallback.
fn plain_reason(task: &Task) -> String {
    let raw = task.fail_message.as_deref().map(str::trim).filter(|m| !m.is_empty());
    let Some(raw) = raw else { return "Kie could not make it.".to_string() };
    let one_line = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= 140 {
        one_line
    } else {
        format!("{}…", one_line.chars().take(139).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn task(id: i64, status: TaskStatus, state: Option<&str>, progress: Option<f64>) -> Task {
        Task {
            id,
            model: "sora-2-text-to-video".into(),
            input: Map::new(),
            status,
            kie_task_id: Some(format!("k{id}")),
            kie_state: state.map(str::to_string),
            progress,
            created_at: 0,
            submitted_at: Some(0),
            updated_at: 0,
            finished_at: None,
            fail_code: None,
            fail_message: None,
            error_code: None,
            credits_estimated: None,
            credits_consumed: None,
            result_json: None,
            downloads_done: false,
            stale: false,
            next_poll_at: None,
            poll_errors: 0,
            demo: false,
        }
    }

    fn changed(t: Task) -> StudioEvent {
        StudioEvent::TaskChanged { task: t }
    }

    #[test]
    fn task_progress_is_throttled_per_task_but_state_changes_pass() {
        let mut th = ProgressThrottle::new(10);
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let gen = |id, p| changed(task(id, TaskStatus::Running, Some("generating"), Some(p)));
        assert!(th.filter(&gen(1, 10.0), ms(0)).is_some());
        assert!(th.filter(&gen(1, 11.0), ms(50)).is_none(), "too soon");
        assert!(th.filter(&gen(2, 5.0), ms(50)).is_some(), "another task has its own budget");
        assert!(th.filter(&gen(1, 12.0), ms(100)).is_some());
        let queued = changed(task(1, TaskStatus::Running, Some("queuing"), None));
        assert!(th.filter(&queued, ms(120)).is_some(), "a new state is never held back");
        let done = changed(task(1, TaskStatus::Succeeded, Some("success"), Some(100.0)));
        assert_eq!(
            th.filter(&done, ms(121)),
            Some(ProgressEvent::Task { task_id: 1, kie_state: Some("success".into()), progress: Some(100.0) })
        );
        assert!(!th.last.contains_key(&Stream::Task(1)), "finished tasks are forgotten");
    }

    #[test]
    fn downloads_are_throttled_and_the_end_always_passes() {
        let mut th = ProgressThrottle::new(10);
        let t0 = Instant::now();
        let dl = |done, total| StudioEvent::DownloadProgress { task_id: 3, idx: 0, done, total };
        let mut sent = Vec::new();
        for i in 0..=100u64 {
            let at = t0 + Duration::from_millis(i * 5); // 200 a second
            if let Some(ProgressEvent::Download { done, .. }) = th.filter(&dl(i * 10, Some(1000)), at) {
                sent.push(done);
            }
        }
        assert_eq!(sent.first(), Some(&0));
        assert_eq!(sent.last(), Some(&1000));
        assert!(sent.len() <= 7, "{sent:?}");
        assert!(th.filter(&StudioEvent::KeyRejected, t0).is_none());
    }

    #[test]
    fn one_notice_per_finished_task() {
        let mut n = Notices::default();
        let mut t = task(1, TaskStatus::Succeeded, Some("success"), None);
        assert_eq!(n.for_change(&t), None, "not yet downloaded");
        t.downloads_done = true;
        assert_eq!(n.for_change(&t).as_deref(), Some("Your video is ready"));
        assert_eq!(n.for_change(&t), None, "only once");

        let mut f = task(2, TaskStatus::Failed, Some("fail"), None);
        f.fail_message = Some("  The prompt was flagged\nby the content policy. ".into());
        assert_eq!(n.for_change(&f).as_deref(), Some("A task failed: The prompt was flagged by the content policy."));
        let mut f = task(3, TaskStatus::Failed, None, None);
        f.fail_message = Some("x".repeat(500));
        assert!(n.for_change(&f).unwrap().ends_with('…'));
        let mut c = task(4, TaskStatus::Succeeded, None, None);
        c.model = "sora-2-characters-pro".into();
        c.downloads_done = true;
        assert_eq!(n.for_change(&c).as_deref(), Some("Your character is ready"));
        assert_eq!(n.for_change(&task(5, TaskStatus::Running, None, None)), None);
        assert_eq!(n.for_change(&task(6, TaskStatus::Cancelled, None, None)), None);
    }
}
