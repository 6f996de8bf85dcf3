//! The `kie` binary against the simulator: crash (abort, as `kill -9` would) at each step
//! of create, poll and download, then restart; a real SIGKILL; exit codes; human and JSON
//! output. Every task ends in the library or honestly outcome-unknown, no create is sent
//! twice, and no half file sits under a final name.
// Crashes are told by their signal (SIGABRT): Unix only.
#![cfg(unix)]

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::*;
use kie::media::MediaKind;
use kie_sim::{Endpoint, Fault, FaultRule, Sim, SimConfig};
use serde_json::Value;
use studio::clock::{Clock, SystemClock};
use studio::downloader::sha256_file;
use studio::library::{self, ResultKind};
use studio::paths::LibraryPaths;
use studio::tasks::{self, Task, TaskStatus};
use studio::Db;

fn kie(sim: &Sim, lib: &Path) -> tokio::process::Command {
    let mut c = kie_command(sim, lib);
    c.env("KIE_STUDIO_SUBMIT_LEASE_MS", "200");
    c
}

async fn run(mut c: tokio::process::Command, args: &[&str]) -> Output {
    tokio::time::timeout(Duration::from_secs(30), c.args(args).output()).await.expect("kie finished in time").unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn open_db(lib: &Path) -> Db {
    Db::open(&lib.join("library.db"), SystemClock.now_ms()).unwrap()
}

fn only_task(db: &Db) -> Task {
    let all = tasks::list(db, &Default::default()).unwrap();
    assert_eq!(all.len(), 1, "{all:?}");
    all.into_iter().next().unwrap()
}

/// Every file under media/ is a verified result with its record; nothing else is there
/// but resumable `.partial` files.
fn assert_library_honest(lib: &Path, db: &Db) {
    let paths = LibraryPaths::new(lib.to_path_buf()).unwrap();
    for f in files_under(&lib.join("media")) {
        let name = f.to_string_lossy().to_string();
        assert!(!name.ends_with(".partial"), "a partial file was left after resume: {name}");
        assert!(name.ends_with(".mp4"), "unexpected file {name}");
        assert_eq!(MediaKind::sniff(&std::fs::read(&f).unwrap()), Some(MediaKind::Mp4), "{name}");
        let (_, sha) = sha256_file(&f).unwrap();
        let rel = f.strip_prefix(lib).unwrap().to_string_lossy().to_string();
        let t = only_task(db);
        let rows = library::results_for_task(db, t.id).unwrap();
        let row = rows.iter().find(|r| r.path.as_deref() == Some(rel.as_str())).expect("a record for every file");
        assert_eq!(row.sha256.as_deref(), Some(sha.as_str()));
        assert_eq!(paths.resolve(&rel).unwrap(), f);
    }
}

#[tokio::test]
async fn a_crash_at_every_step_leaves_an_honest_record_and_resume_finishes() {
    let cases = [
        ("after_insert", TaskStatus::OutcomeUnknown, 0),
        ("after_create_before_id", TaskStatus::OutcomeUnknown, 1),
        // The id reached the id log, not the database: the restart takes it from the log.
        ("after_id_logged", TaskStatus::Succeeded, 1),
        ("after_id", TaskStatus::Succeeded, 1),
        ("before_success_recorded", TaskStatus::Succeeded, 1),
        ("after_success_recorded", TaskStatus::Succeeded, 1),
        ("mid_download", TaskStatus::Succeeded, 1),
        ("before_rename", TaskStatus::Succeeded, 1),
        ("after_rename_before_record", TaskStatus::Succeeded, 1),
    ];
    for (point, want, creates) in cases {
        let sim = Sim::start(SimConfig { result_size: Some(2_500_000), ..sim_config() }).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path();
        let mut c = kie(&sim, lib);
        c.env("KIE_STUDIO_CRASH_AT", point);
        let out = run(c, &["generate", "sora-2-text-to-video", "--prompt", "a crash test", "--wait"]).await;
        assert_eq!(out.status.signal(), Some(6), "{point}: the process should have died there: {}", text(&out));

        // The lease of an interrupted create runs out; then the restart picks everything up.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let out = run(kie(&sim, lib), &["resume"]).await;
        assert!(out.status.success(), "{point}: {}", text(&out));

        let db = open_db(lib);
        let t = only_task(&db);
        assert_eq!(t.status, want, "{point}: {t:?}");
        assert_eq!(sim.stats().creates_received, creates, "{point}: a create was sent twice (or not at all)");
        if want == TaskStatus::Succeeded {
            assert!(t.downloads_done, "{point}");
            let rows = library::results_for_task(&db, t.id).unwrap();
            assert_eq!(rows.iter().filter(|r| r.kind == ResultKind::Video).count(), 1, "{point}: {rows:?}");
            assert_eq!(rows[0].size, Some(2_500_000), "{point}");
        } else {
            assert!(t.fail_message.as_deref().unwrap().contains("may or may not"), "{point}: {t:?}");
        }
        assert_library_honest(lib, &db);
        // Resuming again changes nothing and sends nothing.
        let out = run(kie(&sim, lib), &["resume"]).await;
        assert!(out.status.success());
        assert_eq!(sim.stats().creates_received, creates, "{point}");
    }
}

#[tokio::test]
async fn a_real_sigkill_while_polling_then_restart() {
    let sim = Sim::start(SimConfig { gen_ms: 1500, ..sim_config() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path();
    let mut child = kie(&sim, lib)
        .args(["generate", "sora-2-text-to-video", "--prompt", "kill me", "--wait"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the id is written down, then kill -9.
    let start = std::time::Instant::now();
    loop {
        if lib.join("library.db").exists() {
            let db = open_db(lib);
            if tasks::list(&db, &Default::default()).unwrap().iter().any(|t| t.kie_task_id.is_some()) {
                break;
            }
        }
        assert!(start.elapsed() < Duration::from_secs(10));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.start_kill().unwrap();
    let status = child.wait().await.unwrap();
    assert_eq!(status.signal(), Some(9));
    let t = only_task(&open_db(lib));
    assert_eq!(t.status, TaskStatus::Running, "killed mid-poll");
    let out = run(kie(&sim, lib), &["--json", "resume"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let db = open_db(lib);
    let t = only_task(&db);
    assert_eq!((t.status, t.downloads_done), (TaskStatus::Succeeded, true));
    assert_eq!(sim.stats().creates_received, 1);
    assert_library_honest(lib, &db);
}

#[tokio::test]
async fn exit_codes_follow_the_documented_table() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path();
    let gen = ["generate", "sora-2-text-to-video", "--prompt", "p", "--wait"];

    // 2: invalid input, named by field and limit, nothing sent.
    let out = run(kie(&sim, lib), &["generate", "sora-2-text-to-video", "--prompt", "p", "--n_frames", "20"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("Length"), "{}", text(&out));
    let out = run(kie(&sim, lib), &["generate", "sora-2-text-to-video", "--promt", "p"]).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("promt"), "{}", text(&out));
    assert_eq!(sim.stats().creates_received, 0);

    // 3: no key, or a key Kie rejects.
    let mut c = kie(&sim, lib);
    c.env_remove("KIE_API_KEY");
    let out = run(c, &gen).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("kie key set"));
    let mut c = kie(&sim, lib);
    c.env("KIE_API_KEY", "not-the-right-key");
    assert_eq!(run(c, &gen).await.status.code(), Some(3));

    // 4: not enough credits.
    sim.set_credits(0.0);
    let out = run(kie(&sim, lib), &gen).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).to_lowercase().contains("credits"));
    sim.set_credits(10_000.0);

    // 5: generation failed.
    sim.push_fault(FaultRule::new(
        Endpoint::Create,
        Fault::FailGeneration { code: "500".into(), msg: "flagged".into() },
    ));
    let out = run(kie(&sim, lib), &gen).await;
    assert_eq!(out.status.code(), Some(5), "{}", text(&out));
    assert!(text(&out).contains("flagged"));

    // 6: outcome unknown.
    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::LoseResponse));
    let out = run(kie(&sim, lib), &gen).await;
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    assert!(text(&out).contains("not sent again"), "{}", text(&out));

    // 0, with JSON for scripts.
    let out = run(kie(&sim, lib), &["--json", "generate", "sora-2-text-to-video", "--prompt", "ok", "--wait"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["task"]["status"], "succeeded");
    let file = v["files"][0].as_str().unwrap();
    assert!(Path::new(file).exists());
    let id = v["task"]["id"].as_i64().unwrap().to_string();

    let out = run(kie(&sim, lib), &["--json", "status", &id]).await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["task"]["status"], "succeeded");
    let kie_id = v["task"]["kie_task_id"].as_str().unwrap().to_string();
    let out = run(kie(&sim, lib), &["--json", "list", "--search", "ok"]).await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
    let out = run(kie(&sim, lib), &["list"]).await;
    assert!(text(&out).contains("sora-2-text-to-video"));
    let out = run(kie(&sim, lib), &["--json", "status", &kie_id]).await;
    let by_kie_id: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(by_kie_id["task"]["id"].as_i64().unwrap().to_string(), id, "found by Kie's id");
    let out = run(kie(&sim, lib), &["--json", "status", "no-such-task"]).await;
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], "not_in_library", "{v}");
}

#[tokio::test]
async fn models_and_characters_from_the_command_line() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path();
    let out = run(kie(&sim, lib), &["models"]).await;
    for id in ["sora-2-text-to-video", "sora-2-pro-storyboard", "sora-watermark-remover", "sora-2-characters-pro"] {
        assert!(text(&out).contains(id), "{id}");
    }
    let out = run(kie(&sim, lib), &["models", "sora-2-pro-text-to-video"]).await;
    assert!(text(&out).contains("--size") && text(&out).contains("credits"), "{}", text(&out));

    // A video, then a character from it, then the registry.
    let out = run(kie(&sim, lib), &["--json", "generate", "sora-2-text-to-video", "--prompt", "a fox", "--wait"]).await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = v["task"]["id"].as_i64().unwrap().to_string();
    let out = run(
        kie(&sim, lib),
        &[
            "characters",
            "create-from",
            &id,
            "--handle",
            "foxy",
            "--prompt",
            "a clever fox",
            "--timestamps",
            "0,2",
            "--wait",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let out = run(kie(&sim, lib), &["--json", "characters", "list"]).await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["handle"], "foxy", "{v}");
    let out = run(kie(&sim, lib), &["characters", "add", "@Hero", "--id", "char_1"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let out = run(kie(&sim, lib), &["characters", "add", "hero"]).await;
    assert!(!out.status.success(), "duplicate handles are refused");
    assert!(text(&out).contains("already exists"));
    let out = run(kie(&sim, lib), &["characters", "remove", "HERO"]).await;
    assert!(out.status.success(), "{}", text(&out));

    // A storyboard with shots as JSON, and image-to-video from a local file (uploaded first).
    let shots = r#"[{"Scene":"a fox wakes","duration":5},{"Scene":"it runs","duration":5}]"#;
    let out = run(kie(&sim, lib), &["generate", "sora-2-pro-storyboard", "--shots", shots, "--wait"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let png = dir.path().join("me.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n rest of a png").unwrap();
    let out = run(
        kie(&sim, lib),
        &["generate", "sora-2-image-to-video", "--prompt", "wave", "--image_urls", png.to_str().unwrap(), "--wait"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(sim.stats().uploads, 1);
    // As the app does with a picked image: a copy is kept in the library ...
    let kept = files_under(&lib.join("uploads"));
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(std::fs::read(&kept[0]).unwrap(), std::fs::read(&png).unwrap());
    // ... and a file is judged by its bytes, not its name: nothing is uploaded or sent.
    let fake = dir.path().join("fake.png");
    std::fs::write(&fake, b"<html>not an image</html>").unwrap();
    let creates = sim.stats().creates_received;
    let out = run(
        kie(&sim, lib),
        &["--json", "generate", "sora-2-image-to-video", "--prompt", "wave", "--image_urls", fake.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["code"], "invalid_input", "{v}");
    assert_eq!(v["error"]["problems"][0]["rule"], "unsupported_type", "{v}");
    assert_eq!((sim.stats().uploads, sim.stats().creates_received), (1, creates));
}

#[tokio::test]
async fn the_library_folder_is_a_setting_the_environment_overrides() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let home = tempfile::tempdir().unwrap();
    let cmd = |extra_lib: Option<&Path>| {
        let mut c = kie(&sim, home.path());
        c.env_remove("KIE_STUDIO_LIBRARY").env("HOME", home.path()).env_remove("XDG_CONFIG_HOME");
        c.env_remove("XDG_DATA_HOME");
        if let Some(l) = extra_lib {
            c.env("KIE_STUDIO_LIBRARY", l);
        }
        c
    };
    let out = run(cmd(None), &["--json", "library"]).await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["source"], "default");
    assert_eq!(v["library"], home.path().join(".local/share/kie-studio").display().to_string());

    let chosen = home.path().join("My Videos");
    let out = run(cmd(None), &["library", chosen.to_str().unwrap()]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("chosen with `kie library`"), "{}", text(&out));
    // Work goes to the chosen folder.
    let out = run(cmd(None), &["--json", "generate", "sora-2-text-to-video", "--prompt", "p", "--wait"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(chosen.join("library.db").exists());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["files"][0].as_str().unwrap().starts_with(chosen.to_str().unwrap()));

    // The environment wins; --default goes back.
    let other = home.path().join("other");
    let out = run(cmd(Some(&other)), &["--json", "library"]).await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["source"].as_str(), v["library"].as_str()), (Some("env"), other.to_str()));
    let out = run(cmd(None), &["--json", "library", "--default"]).await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["source"], "default");
}
