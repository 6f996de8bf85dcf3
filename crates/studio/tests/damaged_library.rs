//! A damaged library database is never replaced behind the user's back. Opening it is cheap
//! (the page-by-page check would grow with the library); the check runs just after, before
//! the poller writes anything, and finds it damaged every time: the library is closed, the
//! window is told (`library_damaged`, then `AppInfo.library_problem`) and the file is left as
//! it is; only `repair_library`, which the user chooses, sets it aside
//! (kept) and starts a new library, with the tasks it could still read, their Kie ids and
//! results; new tasks never reuse the old ids that result files are named after.

use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Value};
use studio::app::Env;
use studio::error::{ApiError, ApiErrorCode};
use studio::library::{self, NewResult, ResultKind};
use studio::session::SessionConfig;
use studio::surface::{dispatch, Channels, Sink};
use studio::{tasks, App, Db, Headless};

struct NoChannels;
impl Channels for NoChannels {
    fn open(&self, _: &Value) -> Result<Sink<Value>, ApiError> {
        Ok(Sink::new(|_| true))
    }
}

const MP4: &[u8] = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom rest of a video";

fn app(lib: &Path) -> App {
    let args = ["kie-studio".to_string(), "--library".into(), lib.display().to_string()];
    let cfg = SessionConfig::from_args_and_env(args, |name| match name {
        // Nothing is sent: the one running task is polled against a closed port.
        "KIE_API_BASE" | "KIE_UPLOAD_BASE" => Some("http://127.0.0.1:9".into()),
        "KIE_STUDIO_KEYRING_SERVICE" => Some("ai.kie.studio.test-damaged-library".into()),
        // The check after opening waits 3 s scaled by this.
        "KIE_STUDIO_POLL_SCALE" => Some("0.01".into()),
        _ => None,
    })
    .unwrap();
    let env: Env = Arc::new(|name: &str| (name == "KIE_API_KEY").then(|| "studio-test-key-4242".to_string()));
    App::new(cfg, Arc::new(Headless), env)
}

/// A library with a finished video (its file on disk), a task still running at Kie, and a
/// file of a task whose row will not be read back; then an index page scribbled over.
fn damaged_library(lib: &Path) -> Vec<u8> {
    let db_path = lib.join("library.db");
    {
        let db = Db::open(&db_path, 1).unwrap();
        let input = json!({"prompt": "a fox in the snow"}).as_object().unwrap().clone();
        let done = tasks::insert_submitting(&db, "sora-2-text-to-video", &input, Some(30.0), false, 1).unwrap();
        tasks::mark_submitted(&db, done.id, "kie-done", 2).unwrap();
        tasks::mark_succeeded(&db, done.id, &kie::TaskResult::default(), Some(30.0), 3).unwrap();
        let rel = format!("media/2026/03/task-{}-0.mp4", done.id);
        std::fs::create_dir_all(lib.join("media/2026/03")).unwrap();
        std::fs::write(lib.join(&rel), MP4).unwrap();
        library::add_result(
            &db,
            NewResult { task_id: done.id, idx: 0, kind: ResultKind::Video, path: Some(rel), ..Default::default() },
            4,
        )
        .unwrap();
        let running = tasks::insert_submitting(&db, "sora-2-text-to-video", &input, Some(30.0), false, 5).unwrap();
        tasks::mark_submitted(&db, running.id, "kie-running", 6).unwrap();
        db.with(|c| Ok(c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?)).unwrap();
    }
    // A result file named after task 40, whose row is lost.
    std::fs::write(lib.join("media/2026/03/task-40-0.mp4"), MP4).unwrap();
    let page: i64 = rusqlite::Connection::open(&db_path)
        .unwrap()
        .query_row("SELECT rootpage FROM sqlite_master WHERE name = 'tasks_status'", [], |r| r.get(0))
        .unwrap();
    let mut bytes = std::fs::read(&db_path).unwrap();
    let at = (page as usize - 1) * 4096;
    bytes[at..at + 4096].fill(0xA5);
    std::fs::write(&db_path, &bytes).unwrap();
    bytes
}

#[tokio::test]
async fn a_damaged_library_waits_for_the_user_and_repair_keeps_its_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let damaged = damaged_library(&lib);
    let app = app(&lib);

    // Every open finds it, says so, and puts nothing in its place.
    let mut events = app.subscribe();
    for _ in 0..2 {
        assert!(app.open_with_saved_key().await.unwrap(), "opening is cheap: the check comes after");
        let told = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            loop {
                if let studio::events::StudioEvent::LibraryDamaged { message } = events.recv().await.unwrap() {
                    return message;
                }
            }
        })
        .await
        .expect("the check after opening finds the damage");
        assert!(told.contains("library.db"), "{told}");
        let info = dispatch(&app, "get_app_info", json!({}), &NoChannels).await.unwrap();
        assert_eq!(info["ready"], false, "{info}");
        assert_eq!(info["library_problem"]["code"], "db_corrupt", "{info}");
        assert!(info["library_problem"]["message"].as_str().unwrap().contains("library.db"), "{info}");
        assert!(app.studio().is_err(), "the damaged library is closed");
        assert_eq!(std::fs::read(lib.join("library.db")).unwrap(), damaged, "nothing was written to it");
        assert!(!app.polls_library(), "nothing was polled");
    }

    // The user chose to repair.
    let repaired = dispatch(&app, "repair_library", json!({}), &NoChannels).await.unwrap();
    assert_eq!((repaired["tasks"].clone(), repaired["results"].clone()), (json!(2), json!(1)), "{repaired}");
    let aside = repaired["set_aside"].as_str().unwrap();
    assert!(aside.starts_with(&lib.join("library.db.corrupt-").display().to_string()), "{aside}");
    assert_eq!(std::fs::read(aside).unwrap(), damaged, "the damaged file is kept as it was");
    let info = dispatch(&app, "get_app_info", json!({}), &NoChannels).await.unwrap();
    assert_eq!((info["ready"].clone(), info["library_problem"].clone()), (json!(true), Value::Null), "{info}");

    let studio = app.studio().unwrap();
    assert_eq!(tasks::by_kie_id(studio.db(), "kie-done").unwrap().unwrap().id, 1);
    assert_eq!(tasks::by_kie_id(studio.db(), "kie-running").unwrap().unwrap().status, tasks::TaskStatus::Running);
    let page = dispatch(&app, "list_results", json!({"query": {"limit": 10}}), &NoChannels).await.unwrap();
    assert_eq!(page["total"], 1, "{page}");
    // The lost task's file stays reported; a new task does not take its number.
    let health = dispatch(&app, "library_health", json!({}), &NoChannels).await.unwrap();
    assert_eq!(health["orphans"], json!(["media/2026/03/task-40-0.mp4"]));
    let input = json!({"prompt": "new"}).as_object().unwrap().clone();
    let fresh = tasks::insert_submitting(studio.db(), "sora-2-text-to-video", &input, None, false, 7).unwrap();
    assert!(fresh.id > 40, "{}", fresh.id);

    // Nothing to repair now.
    app.close();
    let err = dispatch(&app, "repair_library", json!({}), &NoChannels).await.unwrap_err();
    assert_eq!(err.code, ApiErrorCode::Refused, "{err:?}");
}
