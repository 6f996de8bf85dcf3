//! Issue 12: the `kie` CLI logs to its own daily file in the log folder (`KIE_STUDIO_LOG_DIR`
//! here), at `trace` too without the key; its output for the user stays where it was (a
//! `--json` answer is still one JSON document on stdout).

mod common;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use common::*;
use kie_sim::Sim;
use tokio::io::AsyncWriteExt;

const WRONG_KEY: &str = "wrong-cli-key-8642";

fn kie(sim: &Sim, lib: &Path, logs: &Path, key: &str) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_kie"));
    c.env("KIE_API_KEY", key)
        .env("KIE_API_BASE", sim.base_url())
        .env("KIE_UPLOAD_BASE", sim.upload_base_url())
        .env("KIE_STUDIO_LIBRARY", lib)
        .env("KIE_STUDIO_POLL_SCALE", "0.01")
        .env("KIE_STUDIO_KEYRING_SERVICE", "ai.kie.studio.cli-logs-tests")
        .env("KIE_STUDIO_LOG_DIR", logs)
        .env("KIE_STUDIO_LOG", "trace")
        .env_remove("KIE_STUDIO_CRASH_AT")
        .kill_on_drop(true);
    c
}

async fn run(mut c: tokio::process::Command, args: &[&str]) -> Output {
    tokio::time::timeout(Duration::from_secs(30), c.args(args).output()).await.expect("kie finished in time").unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test]
async fn the_cli_logs_to_its_own_file_without_the_key() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (lib, logs) = (dir.path().join("lib"), dir.path().join("logs"));

    let out = run(
        kie(&sim, &lib, &logs, KEY),
        &["--json", "generate", "sora-2-text-to-video", "--prompt", "a kite", "--wait"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    assert!(answer.is_object(), "{answer}");
    // A key Kie refuses, in the environment and pasted: exit 3, and not in the logs either.
    let out = run(kie(&sim, &lib, &logs, WRONG_KEY), &["generate", "sora-2-text-to-video", "--prompt", "a kite"]).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let mut c = kie(&sim, &lib, &logs, "");
    c.env_remove("KIE_API_KEY")
        .args(["key", "set"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(format!("{WRONG_KEY}\n").as_bytes()).await.unwrap();
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output()).await.unwrap().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));

    let files = files_under(&logs);
    let names: Vec<String> = files.iter().map(|f| f.file_name().unwrap().to_string_lossy().to_string()).collect();
    assert_eq!(names.len(), 1, "one daily file for every run: {names:?}");
    assert!(names[0].starts_with("kie-cli.") && names[0].ends_with(".log"), "{names:?}");
    let log = std::fs::read_to_string(&files[0]).unwrap();
    assert_eq!(log.matches("kie-cli started").count(), 3, "{log}");
    // What Kie said, refusals too (in Kie's words, never the request's headers).
    assert!(log.contains("Kie answered status=200") && log.contains("Kie answered: "), "{log}");
    for key in [KEY, WRONG_KEY] {
        assert!(!log.contains(key), "the key {key} is in the log:\n{log}");
    }
    // The first line of each run goes to the file only.
    assert!(!text(&out).contains("kie-cli started"), "{}", text(&out));
}
