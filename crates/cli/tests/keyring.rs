//! The key's round trip through a real Secret Service (gnome-keyring in a private D-Bus
//! session: run under scripts/with-keyring.sh, as the test command does), and proof that
//! after a full run the key is nowhere in the library folder or the program's output.

mod common;

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use common::*;
use kie_sim::Sim;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

fn kie(sim: &Sim, lib: &Path) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_kie"));
    c.env_remove("KIE_API_KEY")
        .env("KIE_API_BASE", sim.base_url())
        .env("KIE_UPLOAD_BASE", sim.upload_base_url())
        .env("KIE_STUDIO_LIBRARY", lib)
        .env("KIE_STUDIO_POLL_SCALE", "0.01")
        .env("KIE_STUDIO_KEYRING_SERVICE", format!("ai.kie.studio.keyring-test-{}", std::process::id()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

async fn run(mut c: tokio::process::Command, args: &[&str], stdin: &str) -> Output {
    let mut child = c.args(args).spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    tokio::time::timeout(Duration::from_secs(30), child.wait_with_output()).await.unwrap().unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test]
async fn key_round_trip_and_no_trace_of_it_anywhere() {
    if std::env::var_os("KIE_TEST_SECRET_SERVICE").is_none() {
        // The test command always provides one; a bare `cargo test` may not.
        eprintln!("skipped: no private Secret Service (run under scripts/with-keyring.sh)");
        return;
    }
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path();
    let mut outputs = Vec::new();

    let out = run(kie(&sim, lib), &["key", "status"], "").await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    outputs.push(out);

    // A key Kie rejects is not saved.
    let out = run(kie(&sim, lib), &["key", "set"], "wrong-key-0000\n").await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    outputs.push(out);
    let out = run(kie(&sim, lib), &["key", "status"], "").await;
    assert_eq!(out.status.code(), Some(3));

    // Nor is one that cannot be checked because Kie cannot be reached (the app's rule too).
    let mut c = kie(&sim, lib);
    c.env("KIE_API_BASE", "http://127.0.0.1:9");
    let out = run(c, &["key", "set"], &format!("{KEY}\n")).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("Kie is busy or unreachable"), "{}", text(&out));
    outputs.push(out);
    let out = run(kie(&sim, lib), &["key", "status"], "").await;
    assert_eq!(out.status.code(), Some(3), "nothing was saved: {}", text(&out));

    // The right one is checked with Kie and saved; only its last four are shown.
    let out = run(kie(&sim, lib), &["key", "set"], &format!("{KEY}\n")).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("4242"));
    outputs.push(out);
    let out = run(kie(&sim, lib), &["--json", "key", "status"], "").await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["set"].as_bool(), v["source"].as_str(), v["last4"].as_str()),
        (Some(true), Some("keyring"), Some("4242"))
    );
    outputs.push(out);

    // A full run with the keyring's key: generate, download, a character, list.
    let out =
        run(kie(&sim, lib), &["--json", "generate", "sora-2-text-to-video", "--prompt", "a fox", "--wait"], "").await;
    assert!(out.status.success(), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["task"]["status"], "succeeded");
    let id = v["task"]["id"].as_i64().unwrap().to_string();
    outputs.push(out);
    let out = run(
        kie(&sim, lib),
        &["characters", "create-from", &id, "--handle", "fox", "--prompt", "a fox", "--timestamps", "0,2", "--wait"],
        "",
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    outputs.push(out);
    outputs.push(run(kie(&sim, lib), &["list"], "").await);
    outputs.push(run(kie(&sim, lib), &["status", &id], "").await);

    // The key is in no file of the library folder (database, WAL, media, posters, logs) ...
    let files = files_under(lib);
    assert!(files.len() >= 3, "{files:?}");
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(!contains(&bytes, KEY.as_bytes()), "the key is in {}", f.display());
    }
    // ... nor in anything the program printed.
    for o in &outputs {
        assert!(!text(o).contains(KEY), "the key was printed: {}", text(o));
    }

    let out = run(kie(&sim, lib), &["key", "delete"], "").await;
    assert!(out.status.success());
    let out = run(kie(&sim, lib), &["key", "status"], "").await;
    assert_eq!(out.status.code(), Some(3));

    // `--no-check`, the one deliberate exception: saved without asking Kie.
    let creds_before = sim.stats().credit_queries;
    let out = run(kie(&sim, lib), &["--json", "key", "set", "--no-check"], "unchecked-key-7777\n").await;
    assert!(out.status.success(), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((v["saved"].as_bool(), v["last4"].as_str()), (Some(true), Some("7777")));
    assert_eq!(sim.stats().credit_queries, creds_before, "Kie was not asked");
    let out = run(kie(&sim, lib), &["key", "status"], "").await;
    assert!(out.status.success(), "{}", text(&out));
    let out = run(kie(&sim, lib), &["key", "delete"], "").await;
    assert!(out.status.success());
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
