//! Issue 12, logs a user can send: a process set up by `studio::logs::init` writes its
//! diagnostic lines to a daily file in `KIE_STUDIO_LOG_DIR`, never the key (even at `trace`,
//! even the HTTP crates' lines), and a panic leaves a crash note beside it.
//!
//! Logging is set up once per process, so each case runs in a child: this test binary run
//! again on one `child_*` test, with `LOGS_CHILD` naming it (the `child_*` tests do nothing
//! otherwise).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use kie_sim::Sim;
use serde_json::{json, Value};
use studio::app::Env;
use studio::logs::{self, Program};
use studio::session::SessionConfig;
use studio::surface::{dispatch, Channels, Sink};
use studio::uploads::FilePick;
use studio::{ApiError, ApiErrorCode, App, Headless, Host};

const CHILD_ENV: &str = "LOGS_CHILD";
/// A key Kie (the simulator) refuses: it is sent too, and must not be logged either.
const WRONG_KEY: &str = "wrong-test-key-8642";

/// Runs the test `name` of this binary in a child process logging to `dir` at `level`.
fn child(name: &str, dir: &Path, level: &str) -> Output {
    Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, name)
        .env(logs::LOG_DIR_ENV, dir)
        .env(logs::LOG_LEVEL_ENV, level)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap()
}

fn is_child(name: &str) -> bool {
    std::env::var(CHILD_ENV).as_deref() == Ok(name)
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Every place in the files under `dir` where `secret` (or its `Bearer` header form) is:
/// `file:line`. Empty when it is nowhere.
fn leaks(dir: &Path, secret: &str) -> Vec<String> {
    let bearer = format!("Bearer {secret}");
    let mut found = Vec::new();
    for file in files_under(dir) {
        let bytes = std::fs::read(&file).unwrap();
        for (i, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
            if line.contains(secret) || line.contains(&bearer) {
                found.push(format!("{}:{}", file.display(), i + 1));
            }
        }
    }
    found
}

fn log_files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|f| {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            name.starts_with(&format!("{prefix}.")) && name.ends_with(".log")
        })
        .collect()
}

fn read_all(files: &[PathBuf]) -> String {
    files.iter().map(|f| std::fs::read_to_string(f).unwrap()).collect()
}

#[test]
fn a_panic_leaves_a_crash_note_beside_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let out = child("child_panics", dir.path(), "info");
    assert!(!out.status.success(), "the child should have panicked: {}", text(&out));
    assert!(text(&out).contains("a crash note was written to"), "{}", text(&out));

    let notes: Vec<PathBuf> = files_under(dir.path())
        .into_iter()
        .filter(|f| f.file_name().unwrap().to_string_lossy().starts_with("crash-"))
        .collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    let note = std::fs::read_to_string(&notes[0]).unwrap();
    for want in [
        format!("kie-studio {}", env!("CARGO_PKG_VERSION")),
        "panic:    the test panics on purpose (42)".into(),
        "tests/logs.rs:".into(),
        std::env::consts::OS.into(),
        "backtrace:".into(),
    ] {
        assert!(note.contains(&want), "{want:?} missing from the crash note:\n{note}");
    }
    // The log says so too, after the line each run starts with.
    let log = read_all(&log_files(dir.path(), "kie-studio"));
    assert!(log.contains("kie-studio started"), "{log}");
    assert!(log.contains("panic: the test panics on purpose (42)"), "{log}");
}

#[test]
fn child_panics() {
    if !is_child("child_panics") {
        return;
    }
    logs::init(Program::App);
    panic!("the test panics on purpose ({})", 42);
}

#[test]
fn the_key_never_reaches_the_logs_even_at_trace() {
    let dir = tempfile::tempdir().unwrap();
    let out = child("child_makes_a_video", dir.path(), "trace");
    assert!(out.status.success(), "{}", text(&out));
    let log = read_all(&log_files(dir.path(), "kie-studio"));
    // The flow was logged, at debug too: the calls to Kie, the library opened.
    assert!(log.contains("opened the real library"), "{log}");
    assert!(log.contains("Kie answered"), "{log}");
    assert!(log.contains("ApiKey(***)"), "the client's settings are logged, the key redacted: {log}");
    assert!(log.contains("DEBUG") && log.contains("INFO"), "{log}");
    for key in [KEY, WRONG_KEY] {
        assert_eq!(leaks(dir.path(), key), Vec::<String>::new(), "the key {key} is in the logs");
    }
    assert!(!text(&out).contains(KEY), "the key reached stderr: {}", text(&out));
}

#[test]
fn child_makes_a_video() {
    if !is_child("child_makes_a_video") {
        return;
    }
    logs::init(Program::App);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let sim = Sim::start(sim_config()).await.unwrap();
        let lib = tempfile::tempdir().unwrap();
        let args = [
            "kie-studio".to_string(),
            "--library".into(),
            lib.path().display().to_string(),
            "--api-base".into(),
            sim.base_url(),
            "--upload-base".into(),
            sim.upload_base_url(),
        ];
        let cfg = SessionConfig::from_args_and_env(args, |name| match name {
            "KIE_STUDIO_KEYRING_SERVICE" => Some("ai.kie.studio.test-logs".into()),
            "KIE_STUDIO_POLL_SCALE" => Some("0.01".into()),
            _ => None,
        })
        .unwrap();
        let env: Env = Arc::new(|name: &str| (name == "KIE_API_KEY").then(|| KEY.to_string()));
        let app = App::new(cfg, Arc::new(Headless), env);
        assert!(app.open_with_saved_key().await.unwrap());
        app.get_balance().await.unwrap();
        let input = json!({"prompt": "a lighthouse at dusk"}).as_object().unwrap().clone();
        let task = app.submit_task("sora-2-text-to-video".into(), input).await.unwrap();
        tokio::time::timeout(Duration::from_secs(30), async {
            while !app.get_task(task.id).await.unwrap().downloads_done {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .expect("the video is in the library");
        // A key Kie refuses is sent (and refused), and is not saved.
        let refused = app.set_key(WRONG_KEY.into()).await.expect_err("the simulator refuses it");
        assert_eq!(refused.code(), studio::ApiErrorCode::Unauthorized, "{refused}");
    });
}

#[test]
fn the_checker_finds_a_key_that_was_logged_and_header_crates_stay_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let out = child("child_logs_a_key", dir.path(), "trace,hyper=trace,reqwest=trace");
    assert!(out.status.success(), "{}", text(&out));
    // The key logged on purpose by our own code is found, in its Bearer form too...
    let found = leaks(dir.path(), KEY);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(read_all(&log_files(dir.path(), "kie-studio")).contains(&format!("Authorization: Bearer {KEY}")));
    // ... while the same line from the HTTP crates never reaches the file, whatever was asked.
    assert_eq!(leaks(dir.path(), WRONG_KEY), Vec::<String>::new());
}

#[test]
fn child_logs_a_key() {
    if !is_child("child_logs_a_key") {
        return;
    }
    logs::init(Program::App);
    tracing::debug!("a careless line: {KEY}");
    tracing::trace!("Authorization: Bearer {KEY}");
    tracing::debug!(target: "hyper::proto::h1::role", "Authorization: Bearer {WRONG_KEY}");
    tracing::trace!(target: "reqwest::connect", "headers: Bearer {WRONG_KEY}");
    tracing::debug!(target: "h2::codec::framed_write", "send frame=Headers Bearer {WRONG_KEY}");
}

/// A desktop that remembers which folders it was asked to open.
#[derive(Default)]
struct Desktop(Mutex<Vec<PathBuf>>);

impl Host for Desktop {
    fn pick_files(&self, _: &FilePick) -> Option<Vec<PathBuf>> {
        None
    }
    fn pick_folder(&self, _: &str) -> Option<PathBuf> {
        None
    }
    fn reveal(&self, _: &Path) -> Result<(), String> {
        Ok(())
    }
    fn open_folder(&self, path: &Path) -> Result<(), String> {
        self.0.lock().unwrap().push(path.to_path_buf());
        Ok(())
    }
}

struct NoChannels;
impl Channels for NoChannels {
    fn open(&self, _: &Value) -> Result<Sink<Value>, ApiError> {
        Ok(Sink::new(|_| true))
    }
}

#[tokio::test]
async fn settings_shows_the_log_folder_and_opens_it_or_the_library_by_name_only() {
    let dir = tempfile::tempdir().unwrap();
    let (lib, log_dir) = (dir.path().join("lib"), dir.path().join("my-logs"));
    let args = ["kie-studio".to_string(), "--library".into(), lib.display().to_string()];
    let cfg = SessionConfig::from_args_and_env(args, |_| None).unwrap();
    let shown = log_dir.display().to_string();
    let env: Env = Arc::new(move |name: &str| (name == logs::LOG_DIR_ENV).then(|| shown.clone()));
    let desktop = Arc::new(Desktop::default());
    let app = App::new(cfg.clone(), desktop.clone(), env.clone());

    let info = app.get_app_info().await.unwrap();
    assert_eq!(info.log_dir.as_deref(), Some(log_dir.to_str().unwrap()));
    assert_eq!(info.library_path, lib.display().to_string());
    assert!(!info.version.is_empty());

    for which in ["logs", "library"] {
        dispatch(&app, "open_folder", json!({ "which": which }), &NoChannels).await.unwrap();
    }
    assert_eq!(*desktop.0.lock().unwrap(), vec![log_dir.clone(), lib.clone()]);
    // The window names a folder, never a path.
    let refused = dispatch(&app, "open_folder", json!({ "which": "/etc" }), &NoChannels).await.unwrap_err();
    assert_eq!(refused.code, ApiErrorCode::InvalidRequest, "{refused:?}");
    assert_eq!(desktop.0.lock().unwrap().len(), 2);

    // No desktop (the CLI, the browser server): said plainly, with the folder.
    let headless = App::new(cfg, Arc::new(Headless), env);
    let err = dispatch(&headless, "open_folder", json!({ "which": "logs" }), &NoChannels).await.unwrap_err();
    assert_eq!(err.code, ApiErrorCode::Io, "{err:?}");
    assert!(err.message.contains("no file manager") && err.message.contains("my-logs"), "{err:?}");
}
