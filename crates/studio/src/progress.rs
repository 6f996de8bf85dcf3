//! Progress, and the one policy for how often it is reported. [`Throttle`] is that policy
//! (at most N reports a second per stream; the first, a change of state and the last always
//! pass), used everywhere progress is reported: the downloader's byte counts and the
//! uploads' ([`throttled_transfer`]), and the window's progress channel ([`ProgressThrottle`],
//! which turns the core's events into progress events). Also the one-line desktop notice when
//! a task is over. No Tauri here: the shell sends what this returns.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kie::catalogue::{Catalogue, OutputKind};

use crate::events::StudioEvent;
use crate::payloads::ProgressEvent;
use crate::tasks::{Task, TaskStatus};

/// Progress reports per second per stream (a task, a downloaded file, an uploaded file).
pub const DEFAULT_PER_SECOND: u32 = 10;

/// The one progress policy. Reports come in streams (`K`: a task, a file being fetched or
/// sent), each in some state (`S`: Kie's state of a task; `()` for a byte count). Per stream,
/// at most `per_second` reports a second pass; the first report of a stream, a change of its
/// state and its last report always pass. The last report ends the stream: it is forgotten,
/// so a stream that starts again starts afresh.
#[derive(Debug)]
pub struct Throttle<K, S = ()> {
    gap: Duration,
    streams: HashMap<K, (Instant, S)>,
}

impl<K: Eq + Hash, S: PartialEq> Default for Throttle<K, S> {
    fn default() -> Self {
        Throttle::new(DEFAULT_PER_SECOND)
    }
}

impl<K: Eq + Hash, S: PartialEq> Throttle<K, S> {
    pub fn new(per_second: u32) -> Self {
        Throttle { gap: Duration::from_millis(1000 / u64::from(per_second.max(1))), streams: HashMap::new() }
    }

    /// Whether a report of `stream`, now in `state`, goes out at `now`. `last` marks the
    /// stream's final report (it always goes, and ends the stream).
    pub fn pass(&mut self, stream: K, state: S, last: bool, now: Instant) -> bool {
        if last {
            self.streams.remove(&stream);
            return true;
        }
        let due = match self.streams.get(&stream) {
            None => true,
            Some((at, was)) => *was != state || now.saturating_duration_since(*at) >= self.gap,
        };
        if due {
            self.streams.insert(stream, (now, state));
        }
        due
    }

    /// Forgets the streams `which` picks (they are over without a last report of their own).
    pub fn forget(&mut self, mut which: impl FnMut(&K) -> bool) {
        self.streams.retain(|k, _| !which(k));
    }

    /// Whether `stream` has started and not ended.
    pub fn tracks(&self, stream: &K) -> bool {
        self.streams.contains_key(stream)
    }
}

/// A transfer's progress callback (bytes done, bytes in all when known) that hands on, through
/// the one [`Throttle`] at [`DEFAULT_PER_SECOND`], only the reports that pass. The transfer is
/// one stream; it ends when all the bytes are in. A report of the same count as the one
/// handed on before it is no news and is dropped (so an end reported twice goes once).
pub fn throttled_transfer(report: impl Fn(u64, Option<u64>) + Send + Sync + 'static) -> kie::client::Progress {
    let state: Mutex<(Throttle<()>, Option<u64>)> = Mutex::new((Throttle::default(), None));
    Arc::new(move |done: u64, total: Option<u64>| {
        let pass = {
            let mut guard = state.lock().unwrap_or_else(|e| e.into_inner());
            let (throttle, sent) = &mut *guard;
            let last = total.is_some_and(|t| done >= t);
            let pass = *sent != Some(done) && throttle.pass((), (), last, Instant::now());
            if pass {
                *sent = Some(done);
            }
            pass
        };
        if pass {
            report(done, total);
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Stream {
    Task(i64),
    Download(i64, u32),
}

/// Turns the core's events into [`ProgressEvent`]s through the one [`Throttle`]: per task
/// and per downloaded file. A change of Kie's state, the end of a task and a finished
/// download are never held back.
#[derive(Debug)]
pub struct ProgressThrottle {
    /// A task's state is Kie's; a download has none.
    throttle: Throttle<Stream, Option<String>>,
}

impl Default for ProgressThrottle {
    fn default() -> Self {
        ProgressThrottle::new(DEFAULT_PER_SECOND)
    }
}

impl ProgressThrottle {
    pub fn new(per_second: u32) -> Self {
        ProgressThrottle { throttle: Throttle::new(per_second) }
    }

    /// The progress event to send now for `event`, if any.
    pub fn filter(&mut self, event: &StudioEvent, now: Instant) -> Option<ProgressEvent> {
        match event {
            StudioEvent::TaskChanged { task } => {
                // Over (or waiting for its files): its last report, and its downloads' too.
                let over = task.status != TaskStatus::Running && task.status != TaskStatus::Submitting;
                let pass = self.throttle.pass(Stream::Task(task.id), task.kie_state.clone(), over, now);
                if over {
                    self.throttle.forget(|s| matches!(s, Stream::Download(id, _) if *id == task.id));
                }
                pass.then(|| task_progress(task))
            }
            StudioEvent::DownloadProgress { task_id, idx, done, total } => {
                let finished = total.is_some_and(|t| *done >= t);
                self.throttle
                    .pass(Stream::Download(*task_id, *idx), None, finished, now)
                    .then_some(ProgressEvent::Download { task_id: *task_id, idx: *idx, done: *done, total: *total })
            }
            _ => None,
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
    let one_line = task.fail_message.as_deref().map(plain_line).unwrap_or_default();
    if one_line.is_empty() {
        return "Kie could not make it.".to_string();
    }
    if one_line.chars().count() <= 140 {
        one_line
    } else {
        format!("{}…", one_line.chars().take(139).collect::<String>())
    }
}

/// Words from outside (Kie's `failMsg`, its states) as one line of plain text: terminal
/// escape sequences (CSI, OSC), other control characters and bidirectional overrides
/// removed, line breaks and tabs made spaces, runs of spaces made one, ends trimmed. For the
/// desktop's notices and the CLI's output, where they would otherwise drive the terminal or
/// hide what a line says.
pub fn plain_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // ESC [ … final, or the one-character CSI: parameters up to a final byte @–~.
            '\u{1b}' if chars.peek() == Some(&'[') => {
                chars.next();
                skip_csi(&mut chars);
            }
            '\u{9b}' => skip_csi(&mut chars),
            // ESC ] … up to BEL or ESC \ (a window title, a link).
            '\u{1b}' if chars.peek() == Some(&']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                        break;
                    }
                }
            }
            c if c.is_whitespace() => out.push(' '),
            c if c.is_control() || is_bidi_control(c) => {}
            c => out.push(c),
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('@'..='~').contains(&c) {
            break;
        }
    }
}

/// Characters that reorder how the text around them shows (U+202A–U+202E, U+2066–U+2069).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{61c}')
}

/// A notice's text as the desktop's notification body. Linux (and BSD) notification servers
/// read the body as a small markup language (`<b>`, `<a href>`, `<img>`, entities), so there
/// it is escaped; macOS and Windows show the text as it is.
pub fn desktop_body(text: &str) -> String {
    if cfg!(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd", target_os = "netbsd")) {
        text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
    } else {
        text.to_string()
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
            batch_id: None,
            is_final: status.is_final(),
            actions: Vec::new(),
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
        assert!(!th.throttle.tracks(&Stream::Task(1)), "finished tasks are forgotten");
    }

    #[test]
    fn one_policy_first_state_changes_and_last_pass() {
        let mut th: Throttle<u8, &str> = Throttle::new(10);
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        assert!(th.pass(1, "a", false, ms(0)), "the first passes");
        assert!(!th.pass(1, "a", false, ms(99)), "too soon");
        assert!(th.pass(2, "a", false, ms(99)), "each stream has its own budget");
        assert!(th.pass(1, "b", false, ms(99)), "a change of state passes");
        assert!(th.pass(1, "b", true, ms(100)), "the last passes");
        assert!(!th.tracks(&1), "and ends the stream");
        assert!(th.pass(1, "b", false, ms(101)), "a new stream starts afresh");
        assert!(th.pass(1, "b", false, ms(201)), "one gap later");
        th.forget(|k| *k == 2);
        assert!(!th.tracks(&2));
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

    /// Kie's words are text: terminal escapes and control characters go, and on Linux, where
    /// notification servers read the body as markup, `<`, `>` and `&` show as themselves
    /// instead of making a link, an image or bold text.
    #[test]
    fn kies_words_stay_plain_text() {
        let mut n = Notices::default();
        let mut f = task(7, TaskStatus::Failed, Some("fail"), None);
        f.fail_message =
            Some("<a href=\"https://evil.example\">Click</a> & \x1b[31mred\x1b[0m\u{7}\u{202e}gnp.exe\r\nend".into());
        let text = n.for_change(&f).unwrap();
        assert_eq!(text, "A task failed: <a href=\"https://evil.example\">Click</a> & redgnp.exe end");
        let body = desktop_body(&text);
        if cfg!(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd")) {
            assert_eq!(
                body,
                "A task failed: &lt;a href=\"https://evil.example\"&gt;Click&lt;/a&gt; &amp; redgnp.exe end"
            );
        } else {
            assert_eq!(body, text);
        }
        assert_eq!(plain_line("  \x1b]0;title\x07ok\t\u{9b}2Jdone \u{2066}x "), "ok done x");
    }
}
