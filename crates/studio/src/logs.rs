//! Logs a user can send: every diagnostic line of the app and the CLI goes, through
//! `tracing`, to a daily file in the log folder (the 7 newest kept) and to stderr as before;
//! a panic leaves a short crash note beside them. Set up once per process by [`init`].
//!
//! The log folder is `KIE_STUDIO_LOG_DIR` (tests), else `$XDG_STATE_HOME/kie-studio/logs`
//! (`~/.local/state/kie-studio/logs`), else, where there is no state folder (macOS, Windows),
//! the platform's local data folder: `~/Library/Application Support/kie-studio/logs`,
//! `%LOCALAPPDATA%\kie-studio\logs`.
//!
//! Never the key: `ApiKey` redacts itself, and the crates that could print request headers
//! (reqwest, hyper, h2, rustls) are held at `warn` whatever `KIE_STUDIO_LOG` asks for.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;

/// The log folder instead of the platform's (tests).
pub const LOG_DIR_ENV: &str = "KIE_STUDIO_LOG_DIR";
/// What is logged, as `RUST_LOG` says it (`debug`, `info,studio=trace`); `info` by default.
pub const LOG_LEVEL_ENV: &str = "KIE_STUDIO_LOG";
/// Daily files kept per program.
pub const KEEP_FILES: usize = 7;
/// Crash notes kept.
pub const KEEP_CRASH_NOTES: usize = 10;
/// Crates whose debug and trace lines may carry request headers (the key is one): never
/// below `warn`.
const HEADER_CRATES: &[&str] = &["reqwest", "hyper", "hyper_util", "h2", "rustls", "tokio_rustls", "http"];

/// Lines with this target go to the file only (each run's first line: not news on stderr).
const FILE_ONLY: &str = "kie_studio::log_file";

/// Which program logs: it names its files and its lines on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    /// The desktop app: `kie-studio.YYYY-MM-DD.log`, `kie-studio: …` on stderr.
    App,
    /// The `kie` CLI: `kie-cli.YYYY-MM-DD.log`, `kie: …` on stderr.
    Cli,
}

impl Program {
    /// The files' prefix. Neither is a prefix of the other: each program's rotation only
    /// ever removes its own files.
    pub fn file_prefix(self) -> &'static str {
        match self {
            Program::App => "kie-studio",
            Program::Cli => "kie-cli",
        }
    }

    /// What starts its lines on stderr (as the `eprintln!`s before it did).
    pub fn stderr_name(self) -> &'static str {
        match self {
            Program::App => "kie-studio",
            Program::Cli => "kie",
        }
    }
}

/// What [`init`] set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logging {
    /// The folder the log file and crash notes go to; `None` when there is none (no home
    /// folder, or it could not be made: then only stderr).
    pub dir: Option<PathBuf>,
}

static ACTIVE: OnceLock<Option<PathBuf>> = OnceLock::new();

/// The log folder: `over` (`KIE_STUDIO_LOG_DIR`), else the state folder's, else the local
/// data folder's.
pub fn pick_dir(over: Option<String>, state: Option<PathBuf>, local: Option<PathBuf>) -> Option<PathBuf> {
    if let Some(dir) = over.filter(|v| !v.trim().is_empty()) {
        return Some(PathBuf::from(dir));
    }
    state.or(local).map(|d| d.join(crate::paths::APP_DIR).join("logs"))
}

/// The log folder for this environment (`env` reads a variable).
pub fn folder(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    pick_dir(env(LOG_DIR_ENV), dirs::state_dir(), dirs::data_local_dir())
}

/// The folder [`init`] writes to in this process, if it was called and has one.
pub fn active_dir() -> Option<PathBuf> {
    ACTIVE.get().cloned().flatten()
}

/// `spec` (`KIE_STUDIO_LOG`) as directives, `info` when absent, with every directive that
/// names a header crate dropped and those crates held at `warn`.
pub fn filter_directives(spec: Option<&str>) -> String {
    let mut kept: Vec<&str> = spec
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        // A span filter (`[request]=trace`) could let a header crate's lines through.
        .filter(|d| !d.starts_with('['))
        .filter(|d| {
            let target = d.split(['=', '[']).next().unwrap_or("");
            !HEADER_CRATES.iter().any(|c| target == *c || target.starts_with(&format!("{c}::")))
        })
        .collect();
    if kept.is_empty() {
        kept.push("info");
    }
    let caps = HEADER_CRATES.iter().map(|c| format!("{c}=warn"));
    kept.into_iter().map(String::from).chain(caps).collect::<Vec<_>>().join(",")
}

fn env_filter(spec: Option<&str>) -> EnvFilter {
    EnvFilter::builder().parse_lossy(filter_directives(spec))
}

/// Sets up logging for this process (once; later calls change nothing and say where the
/// first one writes): the daily file in [`folder`], stderr, and the panic hook that writes a
/// crash note. Writes go straight to the file (no background thread), so a line logged just
/// before an exit or an abort is kept.
pub fn init(program: Program) -> Logging {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut problem = None;
    let dir = folder(&env).filter(|dir| match std::fs::create_dir_all(dir) {
        Ok(()) => true,
        Err(e) => {
            problem = Some(format!("no log file: cannot make {}: {e}", dir.display()));
            false
        }
    });
    let file = dir.as_ref().and_then(|dir| {
        tracing_appender::rolling::Builder::new()
            .rotation(tracing_appender::rolling::Rotation::DAILY)
            .filename_prefix(program.file_prefix())
            .filename_suffix("log")
            .max_log_files(KEEP_FILES)
            .build(dir)
            .map_err(|e| problem = Some(format!("no log file in {}: {e}", dir.display())))
            .ok()
    });
    let dir = if file.is_some() { dir } else { None };
    if ACTIVE.set(dir.clone()).is_err() {
        return Logging { dir: active_dir() };
    }
    let file_layer = file.map(|f| tracing_subscriber::fmt::layer().with_ansi(false).with_writer(f));
    let stderr_layer = tracing_subscriber::fmt::layer()
        .event_format(Plain(program.stderr_name()))
        .with_writer(std::io::stderr)
        .with_filter(filter_fn(|meta| meta.target() != FILE_ONLY));
    let started = tracing_subscriber::registry()
        .with(env_filter(env(LOG_LEVEL_ENV).as_deref()))
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
    if let Err(e) = started {
        eprintln!("{}: logging not set up: {e}", program.stderr_name());
    }
    install_panic_hook(program, dir.clone());
    if let Some(problem) = problem {
        tracing::warn!("{problem}");
    }
    tracing::info!(
        target: FILE_ONLY,
        version = env!("CARGO_PKG_VERSION"),
        os = std::env::consts::OS,
        "{} started",
        program.file_prefix()
    );
    Logging { dir }
}

/// Only stderr, as `{name}: message` (the browser server, whose lines were `eprintln!`s
/// too); no file, no crash note.
pub fn init_stderr(name: &'static str) {
    let _ = tracing_subscriber::registry()
        .with(env_filter(std::env::var(LOG_LEVEL_ENV).ok().as_deref()))
        .with(tracing_subscriber::fmt::layer().event_format(Plain(name)).with_writer(std::io::stderr))
        .try_init();
}

/// `name: message field=value`, as the lines on stderr always read.
struct Plain(&'static str);

impl<S, N> FormatEvent<S, N> for Plain
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> std::fmt::Result {
        write!(writer, "{}: ", self.0)?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

/// What a crash note says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrashNote {
    pub program: String,
    pub version: String,
    pub os: String,
    pub thread: String,
    pub message: String,
    /// `file:line:column`.
    pub location: Option<String>,
    pub backtrace: String,
}

impl CrashNote {
    /// The note's text, `at_ms` being when it happened.
    pub fn text(&self, at_ms: i64) -> String {
        let mut t = String::new();
        let _ = writeln!(t, "Kie Studio crash note: send this file (and the log beside it) with your report.");
        let _ = writeln!(t);
        let _ = writeln!(t, "program:  {} {}", self.program, self.version);
        let _ = writeln!(t, "time:     {} (UTC)", iso_stamp(at_ms));
        let _ = writeln!(t, "os:       {}", self.os);
        let _ = writeln!(t, "thread:   {}", self.thread);
        let _ = writeln!(t, "panic:    {}", self.message);
        let _ = writeln!(t, "at:       {}", self.location.as_deref().unwrap_or("(unknown)"));
        let _ = writeln!(t);
        let _ = writeln!(t, "backtrace:");
        let _ = writeln!(t, "{}", self.backtrace.trim_end());
        t
    }
}

/// Writes the note into `dir` as `crash-<time>.txt` (never over another one), and keeps
/// only the [`KEEP_CRASH_NOTES`] newest notes. Returns the note's path.
pub fn write_crash_note(dir: &Path, note: &CrashNote, at_ms: i64) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let stamp = iso_stamp(at_ms).replace(':', "-");
    let mut n = 0;
    let (path, mut file) = loop {
        let name = if n == 0 { format!("crash-{stamp}.txt") } else { format!("crash-{stamp}-{n}.txt") };
        let path = dir.join(name);
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(f) => break (path, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    };
    file.write_all(note.text(at_ms).as_bytes())?;
    file.sync_all()?;
    prune_crash_notes(dir, KEEP_CRASH_NOTES);
    Ok(path)
}

/// Removes all but the `keep` newest crash notes (their names sort by time).
fn prune_crash_notes(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut notes: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("crash-") && n.ends_with(".txt"))
        })
        .collect();
    notes.sort();
    let extra = notes.len().saturating_sub(keep);
    for old in &notes[..extra] {
        let _ = std::fs::remove_file(old);
    }
}

fn install_panic_hook(program: Program, dir: Option<PathBuf>) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".into());
        let location = info.location().map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
        let thread = std::thread::current().name().unwrap_or("(unnamed)").to_string();
        tracing::error!(thread, location = location.as_deref().unwrap_or("?"), "panic: {message}");
        if let Some(dir) = &dir {
            let note = CrashNote {
                program: program.file_prefix().to_string(),
                version: env!("CARGO_PKG_VERSION").to_string(),
                os: format!("{} {} ({})", std::env::consts::OS, std::env::consts::ARCH, std::env::consts::FAMILY),
                thread,
                message,
                location,
                backtrace: std::backtrace::Backtrace::force_capture().to_string(),
            };
            // The clock is read here, at the edge: a panic happens now.
            let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
            match write_crash_note(dir, &note, now) {
                Ok(path) => eprintln!("{}: a crash note was written to {}", program.stderr_name(), path.display()),
                Err(e) => eprintln!("{}: no crash note in {}: {e}", program.stderr_name(), dir.display()),
            }
        }
        previous(info);
    }));
}

/// `2026-03-01T10:22:33.123Z` for milliseconds since the epoch.
pub fn iso_stamp(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, ms.rem_euclid(1000))
}

/// Year, month, day of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_is_the_override_else_state_else_local_data() {
        let state = Some(PathBuf::from("/home/me/.local/state"));
        let local = Some(PathBuf::from("/home/me/Library/Application Support"));
        assert_eq!(pick_dir(Some("/tmp/logs".into()), state.clone(), local.clone()), Some("/tmp/logs".into()));
        assert_eq!(
            pick_dir(Some("  ".into()), state.clone(), local.clone()),
            Some("/home/me/.local/state/kie-studio/logs".into())
        );
        assert_eq!(pick_dir(None, state, local.clone()), Some("/home/me/.local/state/kie-studio/logs".into()));
        // macOS and Windows have no state folder.
        assert_eq!(pick_dir(None, None, local), Some("/home/me/Library/Application Support/kie-studio/logs".into()));
        assert_eq!(pick_dir(None, None, None), None);
    }

    #[test]
    fn header_crates_stay_at_warn_whatever_is_asked() {
        assert_eq!(
            filter_directives(None),
            "info,reqwest=warn,hyper=warn,hyper_util=warn,h2=warn,rustls=warn,tokio_rustls=warn,http=warn"
        );
        let asked = filter_directives(Some("trace, hyper=trace,reqwest::connect=debug,[req]=trace,studio=debug,h2"));
        assert!(asked.starts_with("trace,studio=debug,reqwest=warn"), "{asked}");
        assert!(!asked.contains("hyper=trace") && !asked.contains("connect") && !asked.contains("[req]"), "{asked}");
        assert!(!asked.split(',').any(|d| d == "h2"), "{asked}");
        // A crate whose name only starts like one is not capped.
        assert!(filter_directives(Some("httpdate=debug")).starts_with("httpdate=debug,"));
    }

    #[test]
    fn the_filter_drops_header_crates_debug_lines_at_trace() {
        let filter = env_filter(Some("trace,hyper=trace"));
        let subscriber = tracing_subscriber::registry().with(filter);
        tracing::subscriber::with_default(subscriber, || {
            // `enabled!` asks the filter, as a real event would.
            assert!(tracing::enabled!(target: "studio::session", tracing::Level::TRACE));
            assert!(!tracing::enabled!(target: "hyper::proto::h1", tracing::Level::DEBUG));
            assert!(!tracing::enabled!(target: "reqwest::connect", tracing::Level::TRACE));
            assert!(!tracing::enabled!(target: "h2::codec", tracing::Level::DEBUG));
            assert!(tracing::enabled!(target: "reqwest::connect", tracing::Level::WARN));
        });
    }

    #[test]
    fn stamps_are_utc_dates() {
        assert_eq!(iso_stamp(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_stamp(1_772_360_553_123), "2026-03-01T10:22:33.123Z");
        assert_eq!(iso_stamp(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    fn note() -> CrashNote {
        CrashNote {
            program: "kie-studio".into(),
            version: "0.1.0".into(),
            os: "linux x86_64 (unix)".into(),
            thread: "main".into(),
            message: "boom".into(),
            location: Some("src/x.rs:1:2".into()),
            backtrace: "0: main\n".into(),
        }
    }

    #[test]
    fn a_crash_note_says_what_where_and_on_what() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_crash_note(dir.path(), &note(), 1_772_360_553_123).unwrap();
        assert_eq!(path.file_name().unwrap(), "crash-2026-03-01T10-22-33.123Z.txt");
        let text = std::fs::read_to_string(&path).unwrap();
        for want in [
            "kie-studio 0.1.0",
            "2026-03-01T10:22:33.123Z",
            "linux x86_64",
            "panic:    boom",
            "src/x.rs:1:2",
            "0: main",
        ] {
            assert!(text.contains(want), "{want} missing from {text}");
        }
        // The same millisecond again: a second note, not one over the other.
        let again = write_crash_note(dir.path(), &note(), 1_772_360_553_123).unwrap();
        assert_ne!(again, path);
        assert!(path.exists());
    }

    #[test]
    fn only_the_newest_crash_notes_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("kie-studio.2026-03-01.log"), "a log").unwrap();
        for i in 0..(KEEP_CRASH_NOTES as i64 + 3) {
            write_crash_note(dir.path(), &note(), 1_772_360_553_000 + i * 1000).unwrap();
        }
        let mut names: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into()).collect();
        names.sort();
        assert_eq!(names.len(), KEEP_CRASH_NOTES + 1, "{names:?}");
        assert!(names.contains(&"kie-studio.2026-03-01.log".to_string()));
        assert!(!names.contains(&"crash-2026-03-01T10-22-33.000Z.txt".to_string()), "the oldest went");
        assert!(names.contains(&"crash-2026-03-01T10-22-45.000Z.txt".to_string()), "the newest stayed");
    }

    #[test]
    fn program_files_never_share_a_prefix() {
        let (a, c) = (Program::App.file_prefix(), Program::Cli.file_prefix());
        assert!(!a.starts_with(c) && !c.starts_with(a));
    }
}
