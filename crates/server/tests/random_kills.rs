//! Issue 10's randomized crash test: the `kie` command line and the app's core (the browser
//! server runs the same `studio::App` as the window) are killed with SIGKILL at 20 random
//! moments across create, poll and download, on one library. After a restart: every task is
//! in the library, verified, or honestly "outcome unknown"; the simulator never received
//! more creates than the tasks recorded; no file under a final name is partial or unverified.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use kie::media::MediaKind;
use kie_sim::{Sim, SimConfig};
use serde_json::{json, Value};
use studio::downloader::sha256_file;
use studio::library;
use studio::paths::LibraryPaths;
use studio::tasks::{self, TaskStatus};
use studio::Db;

const KEY: &str = "random-kills-key-5150";
const ROUNDS: u64 = 20;

/// The `kie` binary, built beside this test's own binaries by `cargo test --workspace`.
fn kie_bin() -> PathBuf {
    let server = PathBuf::from(env!("CARGO_BIN_EXE_kie-studio-server"));
    let kie = server.with_file_name("kie");
    assert!(kie.exists(), "{} is missing: build it with `cargo build -p kie-cli`", kie.display());
    kie
}

fn env_for(cmd: &mut Command, sim: &Sim, lib: &Path) {
    cmd.env("KIE_API_KEY", KEY)
        .env("KIE_API_BASE", sim.base_url())
        .env("KIE_UPLOAD_BASE", sim.upload_base_url())
        .env("KIE_STUDIO_LIBRARY", lib)
        .env("KIE_STUDIO_POLL_SCALE", "0.02")
        .env("KIE_STUDIO_SUBMIT_LEASE_MS", "300")
        .env("KIE_STUDIO_KEYRING_SERVICE", "ai.kie.studio.random-kills")
        .env_remove("KIE_STUDIO_CRASH_AT")
        .stdin(Stdio::null());
}

/// A small deterministic generator (xorshift), so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn kill(child: &mut std::process::Child) {
    // SIGKILL, as `kill -9`: no destructor, no flush.
    let _ = child.kill();
    let _ = child.wait();
}

/// One round of the command line: `kie generate --wait`, killed after `ms`.
fn cli_round(sim: &Sim, lib: &Path, i: u64, ms: u64) {
    let mut cmd = Command::new(kie_bin());
    env_for(&mut cmd, sim, lib);
    let prompt = format!("round {i}: a paper boat on a pond");
    cmd.args(["generate", "sora-2-text-to-video", "--prompt", &prompt, "--wait"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    std::thread::sleep(Duration::from_millis(ms));
    kill(&mut child);
}

/// One round of the app's core: the server opens the library (and resumes what it finds),
/// a task is submitted through the surface, and the process is killed after `ms`.
async fn app_round(sim: &Sim, lib: &Path, i: u64, ms: u64) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kie-studio-server"));
    env_for(&mut cmd, sim, lib);
    // It serves until its standard input closes: keep it open until the kill.
    cmd.args(["--library", &lib.display().to_string(), "--port", "0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let info: Value = serde_json::from_str(first.trim_start_matches("kie-studio-server ").trim())
        .unwrap_or_else(|e| panic!("the server's first line {first:?}: {e}"));
    let (url, token) = (info["url"].as_str().unwrap().to_string(), info["token"].as_str().unwrap().to_string());
    // The library opens (and resumes what it finds) as the app starts.
    let http = reqwest::Client::new();
    for _ in 0..200 {
        let info = http.post(format!("{url}/api/get_app_info")).bearer_auth(&token).json(&json!({})).send().await;
        if let Ok(res) = info {
            if res.json::<Value>().await.ok().is_some_and(|v| v["ready"] == json!(true)) {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    // The create goes out on its own; the kill lands before, during or after its answer,
    // or while the app polls and downloads.
    let submit = tokio::spawn(
        http.post(format!("{url}/api/submit_task"))
            .bearer_auth(&token)
            .json(&json!({"model": "sora-2-text-to-video", "input": {"prompt": format!("round {i}: a lantern at night")}}))
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(ms)).await;
    kill(&mut child);
    if let Ok(Ok(res)) = submit.await {
        if !res.status().is_success() {
            eprintln!("random kills: round {i}: the app answered {} {:?}", res.status(), res.text().await);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_random_kills_lose_nothing_and_pay_nothing_twice() {
    let seed: u64 = std::env::var("KIE_RANDOM_KILLS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5EED_0010);
    eprintln!("random kills: seed {seed} (set KIE_RANDOM_KILLS_SEED to replay)");
    let mut rng = Rng(seed | 1);
    let sim = Sim::start(SimConfig { key: KEY.into(), gen_ms: 600, invisible_ms: 100, ..SimConfig::default() })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("library");

    for i in 0..ROUNDS {
        // From before the create leaves to well after the video is downloaded.
        let ms = 30 + rng.below(1500);
        if i % 2 == 0 {
            let (sim_ref, lib_ref) = (&sim, lib.as_path());
            tokio::task::block_in_place(|| cli_round(sim_ref, lib_ref, i, ms));
        } else {
            app_round(&sim, &lib, i, ms).await;
        }
    }

    // The restart: resume until everything Kie has is in the library.
    let mut cmd = Command::new(kie_bin());
    env_for(&mut cmd, &sim, &lib);
    let out = tokio::task::block_in_place(|| cmd.args(["--json", "resume"]).output().unwrap());
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));

    let db = Db::open(&lib.join("library.db"), 0).unwrap();
    let all = tasks::list(&db, &Default::default()).unwrap();
    let stats = sim.stats();
    assert!(!all.is_empty());
    let count = |s: TaskStatus| all.iter().filter(|t| t.status == s).count();
    eprintln!(
        "random kills: {} tasks, {} in the library, {} outcome unknown; Kie received {} creates, made {} tasks",
        all.len(),
        count(TaskStatus::Succeeded),
        count(TaskStatus::OutcomeUnknown),
        stats.creates_received,
        stats.tasks_created
    );
    // Never paid twice: every create Kie received is a task written down.
    assert!(
        stats.creates_received as usize <= all.len(),
        "Kie received {} creates for {} tasks recorded",
        stats.creates_received,
        all.len()
    );
    // Every task Kie made is known by its id (none lost), and each is in the library.
    let known: std::collections::HashSet<String> = all.iter().filter_map(|t| t.kie_task_id.clone()).collect();
    assert_eq!(known.len() as u64, stats.tasks_created, "every task Kie made is recorded with its id");
    for t in &all {
        match t.status {
            TaskStatus::Succeeded => assert!(t.downloads_done, "task {} ({:?}) not downloaded", t.id, t.kie_task_id),
            TaskStatus::OutcomeUnknown => assert!(t.kie_task_id.is_none(), "task {}: an id and still unknown", t.id),
            other => panic!("task {} ({:?}) ended {other:?} after resume", t.id, t.kie_task_id),
        }
    }
    // No file under a final name is partial or unverified.
    let paths = LibraryPaths::new(lib.clone()).unwrap();
    for f in studio::paths::files_under(&lib.join("media")) {
        let name = f.to_string_lossy().to_string();
        if name.ends_with(".partial") || name.ends_with(".bad") {
            continue;
        }
        if name.ends_with(".mp4") {
            assert_eq!(MediaKind::sniff(&std::fs::read(&f).unwrap()), Some(MediaKind::Mp4), "{name}");
        }
        let rel = f.strip_prefix(&lib).unwrap().to_string_lossy().to_string();
        let row = all
            .iter()
            .flat_map(|t| library::results_for_task(&db, t.id).unwrap())
            .find(|r| r.path.as_deref() == Some(rel.as_str()) || r.poster_path.as_deref() == Some(rel.as_str()))
            .unwrap_or_else(|| panic!("{name} is in the library folder with no record"));
        if row.path.as_deref() == Some(rel.as_str()) {
            let (_, sha) = sha256_file(&f).unwrap();
            assert_eq!(row.sha256.as_deref(), Some(sha.as_str()), "{name} is not the verified file");
        }
        assert_eq!(paths.resolve(&rel).unwrap(), f);
    }
    sim.shutdown().await;
}
