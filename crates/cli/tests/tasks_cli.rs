//! Every task from the command line (issue 10, item 10): `kie tasks` shows them all, newest
//! first, so the one a user must act on (outcome unknown) is not invisible; and the window's
//! task actions: `kie check`, `kie attach`, `kie cancel`, `kie resubmit` (asks, or `--yes`).
//! Also (item 6) a create answered outside the contract is outcome unknown, from the binary.

mod common;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use common::*;
use kie_sim::{Endpoint, Fault, FaultRule, Sim};
use serde_json::Value;
use tokio::io::AsyncWriteExt;

fn kie(sim: &Sim, lib: &Path) -> tokio::process::Command {
    let mut c = kie_command(sim, lib);
    c.env("KIE_STUDIO_SUBMIT_LEASE_MS", "200");
    c
}

async fn run(mut c: tokio::process::Command, args: &[&str]) -> Output {
    tokio::time::timeout(Duration::from_secs(30), c.args(args).output()).await.expect("kie finished in time").unwrap()
}

/// Runs with `input` on standard input (as a script piping an answer would).
async fn run_with_stdin(mut c: tokio::process::Command, args: &[&str], input: &str) -> Output {
    c.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).await.unwrap();
    drop(stdin);
    tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("kie finished in time")
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(o)))
}

fn ids(v: &Value) -> Vec<i64> {
    v.as_array().unwrap_or_else(|| panic!("not a list: {v}")).iter().map(|t| t["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn kie_tasks_shows_every_task_newest_first() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path();
    let gen = |prompt: &'static str| ["generate", "sora-2-text-to-video", "--prompt", prompt, "--wait"];

    let out = run(kie(&sim, lib), &gen("it worked")).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::LoseResponse));
    let out = run(kie(&sim, lib), &gen("lost on the way back")).await;
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    sim.set_credits(0.0);
    let out = run(kie(&sim, lib), &gen("no credits")).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    sim.set_credits(10_000.0);

    // `kie list` shows results only; it points at the task that needs the user.
    let out = run(kie(&sim, lib), &["list"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("lost on the way back"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kie tasks"), "{}", text(&out));

    let out = run(kie(&sim, lib), &["tasks"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let human = String::from_utf8_lossy(&out.stdout).to_string();
    let at = |s: &str| human.find(s).unwrap_or_else(|| panic!("{s:?} missing from:\n{human}"));
    assert!(at("#3") < at("#2") && at("#2") < at("#1"), "newest first:\n{human}");
    for want in ["outcome unknown", "lost on the way back", "failed", "succeeded", "kie attach 2", "kie resubmit 2"] {
        at(want);
    }

    let out = run(kie(&sim, lib), &["--json", "tasks"]).await;
    let v = json(&out);
    assert_eq!(ids(&v), [3, 2, 1]);
    assert_eq!(v[1]["status"], "outcome_unknown");
    let out = run(kie(&sim, lib), &["tasks", "--state", "outcome_unknown", "--json"]).await;
    assert_eq!(ids(&json(&out)), [2]);
    let out = run(kie(&sim, lib), &["--json", "tasks", "--state", "outcome-unknown"]).await;
    assert_eq!(ids(&json(&out)), [2]);
    let out = run(kie(&sim, lib), &["--json", "tasks", "--state", "failed"]).await;
    assert_eq!(ids(&json(&out)), [3]);
    let out = run(kie(&sim, lib), &["tasks", "--state", "sideways"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("outcome_unknown"), "the states are named: {}", text(&out));
}

#[tokio::test]
async fn the_windows_task_actions_from_the_command_line() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("a");
    let lib = lib.as_path();

    // #1: the answer to the create was lost (Kie has it and charged for it).
    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::LoseResponse));
    let out = run(kie(&sim, lib), &["generate", "sora-2-text-to-video", "--prompt", "lost"]).await;
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));

    // Check: nothing can be asked without Kie's id; it says what to do.
    let out = run(kie(&sim, lib), &["check", "1"]).await;
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    assert!(text(&out).contains("kie attach 1"), "{}", text(&out));

    // Attach the id the user found in their Kie account (here: a task made elsewhere).
    let other = dir.path().join("b");
    let out = run(kie(&sim, &other), &["--json", "generate", "sora-2-text-to-video", "--prompt", "found"]).await;
    let kie_id = json(&out)["task"]["kie_task_id"].as_str().unwrap().to_string();
    let out = run(kie(&sim, lib), &["--json", "attach", "1", &kie_id]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(json(&out)["task"]["status"], "running");
    // Check, waiting: polled and downloaded.
    let out = run(kie(&sim, lib), &["--json", "check", "1", "--wait"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v = json(&out);
    assert_eq!((v["task"]["status"].as_str(), v["task"]["downloads_done"].as_bool()), (Some("succeeded"), Some(true)));
    assert!(Path::new(v["files"][0].as_str().unwrap()).exists());

    // Cancel a running task (again: no change); a finished one cannot be cancelled.
    let out = run(kie(&sim, lib), &["generate", "sora-2-text-to-video", "--prompt", "stop me"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let out = run(kie(&sim, lib), &["--json", "cancel", "2"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(json(&out)["task"]["status"], "cancelled");
    assert!(run(kie(&sim, lib), &["cancel", "2"]).await.status.success());
    let out = run(kie(&sim, lib), &["cancel", "1"]).await;
    assert_eq!(out.status.code(), Some(1), "a succeeded task: {}", text(&out));
    let out = run(kie(&sim, lib), &["check", "2"]).await;
    assert_eq!(out.status.code(), Some(1), "a cancelled task is not checked: {}", text(&out));

    // Resubmit is for what failed (or is unknown), not a finished task.
    let out = run(kie(&sim, lib), &["resubmit", "1", "--yes"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("kie generate"), "{}", text(&out));
    sim.set_credits(0.0);
    let out = run(kie(&sim, lib), &["generate", "sora-2-text-to-video", "--prompt", "again please"]).await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    sim.set_credits(10_000.0);

    // Resubmit asks first: no answer, or "n", sends nothing.
    let creates = sim.stats().creates_received;
    let out = run(kie(&sim, lib), &["resubmit", "3"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("--yes"), "{}", text(&out));
    let out = run_with_stdin(kie(&sim, lib), &["resubmit", "3"], "n\n").await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(sim.stats().creates_received, creates, "nothing sent without a yes");
    // "y" on standard input, or --yes: a new task with the same input, paid for again.
    let out = run_with_stdin(kie(&sim, lib), &["resubmit", "3"], "y\n").await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("paid for again"), "it said so before asking: {}", text(&out));
    let out = run(kie(&sim, lib), &["--json", "resubmit", "#3", "--yes", "--wait"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v = json(&out);
    assert_eq!(v["task"]["id"], 5);
    assert_eq!(v["task"]["status"], "succeeded");
    assert_eq!(v["task"]["input"]["prompt"], "again please");
    assert_eq!(sim.stats().creates_received, creates + 2);

    let out = run(kie(&sim, lib), &["--json", "tasks"]).await;
    assert_eq!(ids(&json(&out)), [5, 4, 3, 2, 1]);
}

#[tokio::test]
async fn a_stale_task_is_listed_and_checked_again() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path();
    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::LoseResponse));
    let out = run(kie(&sim, lib), &["generate", "sora-2-text-to-video", "--prompt", "lost"]).await;
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    // A wrong id: Kie never shows it, so polling gives up for now (stale).
    let out = run(kie(&sim, lib), &["attach", "1", "00000000000000000000000000000000"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let out = run(kie(&sim, lib), &["resume"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let out = run(kie(&sim, lib), &["--json", "tasks", "--state", "stale"]).await;
    assert_eq!(ids(&json(&out)), [1]);
    let out = run(kie(&sim, lib), &["tasks"]).await;
    assert!(text(&out).contains("kie check 1"), "{}", text(&out));
    let queries = sim.stats().record_queries;
    let out = run(kie(&sim, lib), &["check", "1"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(sim.stats().record_queries > queries, "Kie was asked again");
}

/// Seen live: a create answered with code 201 and a taskId is not "failed, 0 credits".
#[tokio::test]
async fn a_create_answered_with_201_is_outcome_unknown() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path();
    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::OddAnswer { status: 201, code: 201 }));
    let out = run(kie(&sim, lib), &["--json", "generate", "sora-2-text-to-video", "--prompt", "odd"]).await;
    assert_eq!(out.status.code(), Some(6), "{}", text(&out));
    let v = json(&out);
    assert_eq!(v["task"]["status"], "outcome_unknown", "{v}");
    assert_eq!(v["task"]["error_code"], "outcome_unknown", "{v}");
    assert_eq!(sim.stats().creates_received, 1, "not sent again");
}

/// A key with a character no HTTP header can carry is refused as it is entered, in plain
/// words, and Kie is never asked (with or without the check).
#[tokio::test]
async fn a_key_that_cannot_be_sent_is_refused_when_entered() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    for args in [&["key", "set"][..], &["key", "set", "--no-check"][..]] {
        let mut c = kie(&sim, dir.path());
        c.env_remove("KIE_API_KEY");
        let out = run_with_stdin(c, args, "sk-abc def\n").await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("a space at character 7"), "{args:?}: {}", text(&out));
        assert!(!text(&out).contains("sk-abc"), "the key is never shown: {}", text(&out));
    }
    assert_eq!(sim.stats().credit_queries, 0, "Kie was not asked");
}
