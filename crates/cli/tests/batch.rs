//! Issue 13: `kie batch` against the simulator: a list sent and landed; killed (-9) midway
//! and continued by `kie resume` with every item sent once; one invalid line sends nothing
//! and is named; a cap reached exits 4 having sent exactly what fits; the list read as its
//! file name says unless `--format` is given.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use common::*;
use kie_sim::{Sim, SimConfig};
use studio::batches::{self, BatchState};
use studio::clock::{Clock, SystemClock};
use studio::tasks::{self, TaskStatus};
use studio::Db;

async fn run(mut c: tokio::process::Command, args: &[&str]) -> Output {
    tokio::time::timeout(Duration::from_secs(90), c.args(args).output()).await.expect("kie finished in time").unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn open_db(lib: &Path) -> Db {
    Db::open(&lib.join("library.db"), SystemClock.now_ms()).unwrap()
}

fn list_file(dir: &Path, n: usize) -> String {
    let path = dir.join("prompts.txt");
    let body: String = (1..=n).map(|i| format!("a paper boat, take {i}\n")).collect();
    std::fs::write(&path, body).unwrap();
    path.to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_is_sent_and_lands() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let list = list_file(dir.path(), 3);
    let out = run(
        kie_command(&sim, &lib),
        &["batch", &list, "--model", "sora-2-text-to-video", "--n_frames", "10", "--wait"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("3 of 3 items sent"), "{}", text(&out));
    let db = open_db(&lib);
    let all = tasks::list(&db, &Default::default()).unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.iter().all(|t| t.status == TaskStatus::Succeeded && t.downloads_done && t.batch_id.is_some()));
    assert_eq!(sim.stats().tasks_created, 3);

    // --json: the batch, its items and their tasks; `kie batches` lists it.
    let out = run(kie_command(&sim, &lib), &["batches", "--json"]).await;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v[0]["state"].as_str(), v[0]["sent"].as_u64()), (Some("done"), Some(3)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_midway_then_resumed_every_item_is_sent_once() {
    let sim = Sim::start(SimConfig { gen_ms: 300, ..sim_config() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let list = list_file(dir.path(), 8);
    let mut child = kie_command(&sim, &lib).args(["batch", &list, "--model", "sora-2-text-to-video"]).spawn().unwrap();
    // Killed once some items are out (the client spaces creates 1 s apart).
    let start = Instant::now();
    loop {
        assert!(start.elapsed() < Duration::from_secs(30), "no item was sent");
        if sim.stats().creates_received >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let db = open_db(&lib);
    let b = &batches::list(&db, 10).unwrap()[0];
    assert!(b.pending > 0 && b.state == BatchState::Running, "killed midway: {b:?}");

    let out = run(kie_command(&sim, &lib), &["resume"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("1 batch(es) sent to the end"), "{}", text(&out));
    let b = batches::get(&db, b.id).unwrap();
    assert_eq!((b.state, b.sent, b.pending), (BatchState::Done, 8, 0), "{b:?}");
    // Never twice: one create per item at most (an item whose create was cut off by the kill
    // is outcome unknown, not sent again).
    let received = sim.stats().creates_received;
    assert!(received <= 8, "{received} creates for 8 items");
    let all = tasks::list(&db, &Default::default()).unwrap();
    assert_eq!(all.len(), 8, "one task per item");
    let created = all.iter().filter(|t| t.kie_task_id.is_some()).count() as u64;
    let unknown = all.iter().filter(|t| t.status == TaskStatus::OutcomeUnknown && t.kie_task_id.is_none()).count();
    assert_eq!(created + unknown as u64, 8, "{all:?}");
    assert!(sim.stats().tasks_created >= created);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_invalid_line_sends_nothing_and_is_named() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let path = dir.path().join("list.csv");
    std::fs::write(&path, "prompt,n_frames\na fox,10\nan owl,7\nbees,15\n").unwrap();
    let out = run(kie_command(&sim, &lib), &["batch", path.to_str().unwrap(), "--model", "sora-2-text-to-video"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("Line 3:"), "{}", text(&out));
    assert_eq!(sim.stats().creates_received, 0);
    assert!(batches::list(&open_db(&lib), 10).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cap_exits_4_having_sent_what_fits() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let list = list_file(dir.path(), 4);
    let dry =
        run(kie_command(&sim, &lib), &["batch", &list, "--model", "sora-2-text-to-video", "--dry-run", "--json"]).await;
    assert!(dry.status.success(), "{}", text(&dry));
    let plan: serde_json::Value = serde_json::from_slice(&dry.stdout).unwrap();
    let each = plan["items"][0]["credits_estimated"].as_f64().unwrap();
    assert_eq!(sim.stats().creates_received, 0, "a dry run sends nothing");
    let cap = format!("{}", each * 2.0);
    let out =
        run(kie_command(&sim, &lib), &["batch", &list, "--model", "sora-2-text-to-video", "--max-credits", &cap]).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("before line 3"), "{}", text(&out));
    assert_eq!(sim.stats().tasks_created, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_is_read_as_its_file_name_says_unless_format_is_given() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let body = "{\"prompt\": \"a fox\"}\n{\"prompt\": \"an owl\"}\n";
    let (jsonl, txt) = (dir.path().join("list.jsonl"), dir.path().join("list.txt"));
    std::fs::write(&jsonl, body).unwrap();
    std::fs::write(&txt, body).unwrap();
    let dry_run = |file: &Path, format: Option<&'static str>| {
        let (sim, lib, file) = (&sim, lib.clone(), file.to_str().unwrap().to_string());
        async move {
            let mut args = vec!["batch", &file, "--model", "sora-2-text-to-video", "--dry-run", "--json"];
            if let Some(f) = format {
                args.extend(["--format", f]);
            }
            let out = run(kie_command(sim, &lib), &args).await;
            assert!(out.status.success(), "{}", text(&out));
            let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let prompts: Vec<String> = plan["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["input"]["prompt"].as_str().unwrap().into())
                .collect();
            (plan["format"].as_str().unwrap().to_string(), prompts)
        }
    };
    let objects = vec!["a fox".to_string(), "an owl".to_string()];
    assert_eq!(dry_run(&jsonl, None).await, ("jsonl".into(), objects.clone()));
    let lines: Vec<String> = body.lines().map(str::to_string).collect();
    assert_eq!(dry_run(&txt, None).await, ("lines".into(), lines.clone()));
    assert_eq!(dry_run(&txt, Some("jsonl")).await, ("jsonl".into(), objects));
    assert_eq!(dry_run(&jsonl, Some("lines")).await, ("lines".into(), lines));
    assert_eq!(sim.stats().creates_received, 0);
}
