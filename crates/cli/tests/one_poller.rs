//! Issue 10, "one poller per library": the app (the real `App`, in this process) and the
//! `kie` binary (other processes) on one library. Only the holder of the library's lock
//! polls and downloads; the other says so and waits for the result to land; Kie's create
//! spacing holds across processes.

mod common;

use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use kie_sim::{Endpoint, Sim, SimConfig};
use studio::clock::{Clock, SystemClock};
use studio::session::SessionConfig;
use studio::tasks::{self, Task, TaskStatus};
use studio::{App, Db, Headless};

fn kie(sim: &Sim, lib: &Path) -> tokio::process::Command {
    kie_command(sim, lib)
}

async fn run(mut c: tokio::process::Command, args: &[&str]) -> Output {
    tokio::time::timeout(Duration::from_secs(60), c.args(args).output()).await.expect("kie finished in time").unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn open_db(lib: &Path) -> Db {
    Db::open(&lib.join("library.db"), SystemClock.now_ms()).unwrap()
}

fn all_tasks(lib: &Path) -> Vec<Task> {
    tasks::list(&open_db(lib), &Default::default()).unwrap()
}

/// The desktop app's core on `lib`, as the window would start it (flags for the simulator,
/// the key from the environment), its poller running.
async fn open_app(sim: &Sim, lib: &Path) -> App {
    let args = ["kie-studio", "--library", lib.to_str().unwrap(), "--api-base", &sim.base_url()];
    let args: Vec<String> =
        args.iter().map(|s| s.to_string()).chain(["--upload-base".into(), sim.upload_base_url()]).collect();
    let env = |name: &str| match name {
        "KIE_API_KEY" => Some(KEY.to_string()),
        "KIE_STUDIO_POLL_SCALE" => Some("0.01".to_string()),
        "KIE_STUDIO_KEYRING_SERVICE" => Some("ai.kie.studio.cli-tests".to_string()),
        _ => None,
    };
    let cfg = SessionConfig::from_args_and_env(args, env).unwrap();
    let app = App::new(cfg, Arc::new(Headless), Arc::new(env));
    assert!(app.open_with_saved_key().await.unwrap(), "the app opened the library");
    app
}

async fn wait_until(what: &str, within: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < within, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_app_is_open_the_cli_leaves_polling_and_downloading_to_it() {
    let sim = Sim::start(SimConfig { gen_ms: 1_500, ..sim_config() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path();
    let app = open_app(&sim, lib).await;
    wait_until("the app to hold the library", Duration::from_secs(10), || app.polls_library()).await;

    // The CLI may still create (the journal is shared), but the app polls and downloads.
    let out = run(kie(&sim, lib), &["generate", "sora-2-text-to-video", "--prompt", "a kite", "--wait"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("Kie Studio is open on this library; it will download the result"), "{said}");
    let t = all_tasks(lib).pop().unwrap();
    assert_eq!((t.status, t.downloads_done), (TaskStatus::Succeeded, true), "{t:?}");
    // Once: the video and its first frame, by one downloader.
    assert_eq!(sim.stats().file_gets, 2, "a result was fetched by two pollers");
    assert_eq!(sim.stats().creates_received, 1);

    // `kie resume` while the app is open: says so; nothing is unfinished, so it is done.
    let out = run(kie(&sim, lib), &["resume"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Kie Studio is open on this library"), "{}", text(&out));
    assert_eq!(sim.stats().file_gets, 2);

    // Closed: the CLI polls again on its own.
    app.close();
    let out = run(kie(&sim, lib), &["generate", "sora-2-text-to-video", "--prompt", "a boat", "--wait"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("Kie Studio is open"), "{}", text(&out));
    assert!(all_tasks(lib).iter().all(|t| t.downloads_done));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_opened_while_the_cli_polls_waits_then_takes_over() {
    let sim = Sim::start(SimConfig { gen_ms: 2_000, ..sim_config() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path();
    let mut cli = kie(&sim, lib);
    let cli = cli.args(["generate", "sora-2-text-to-video", "--prompt", "a crane", "--wait"]).output();
    let cli = tokio::spawn(cli);
    wait_until("the CLI's task to run", Duration::from_secs(20), || {
        lib.join("library.db").exists() && all_tasks(lib).iter().any(|t| t.status == TaskStatus::Running)
    })
    .await;

    let app = open_app(&sim, lib).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!app.polls_library(), "the app polls a library the CLI is polling");
    let out = cli.await.unwrap().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(sim.stats().file_gets, 2, "a result was fetched by two pollers");
    // The CLI is gone: the app takes over.
    wait_until("the app to take over", Duration::from_secs(10), || app.polls_library()).await;
}

/// Seed 001: 1 s between creates. Four `kie generate` at once on one library: their creates
/// reach Kie a second apart, as one process's would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_from_several_processes_keep_kies_spacing() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path();
    // The library exists before they race to create it.
    assert!(run(kie(&sim, lib), &["list"]).await.status.success());
    let runs: Vec<_> = (0..4)
        .map(|i| {
            let prompt = format!("a lantern {i}");
            let c = kie(&sim, lib);
            tokio::spawn(async move { run(c, &["generate", "sora-2-text-to-video", "--prompt", &prompt]).await })
        })
        .collect();
    for r in runs {
        let out = r.await.unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
    let mut at = sim.arrivals(Endpoint::Create);
    assert_eq!(at.len(), 4);
    at.sort();
    for pair in at.windows(2) {
        let gap = pair[1] - pair[0];
        // The spacing is kept on the sender's clock; allow the loopback's jitter.
        assert!(gap >= Duration::from_millis(900), "two creates {gap:?} apart");
    }
}
