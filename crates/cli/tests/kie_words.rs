//! What Kie writes (a task's `failMsg`, its state) reaches the terminal as plain text: an
//! escape sequence in it must not recolour, retitle or clear the user's terminal, and a
//! control character must not hide what a line says.

use std::path::Path;
use std::process::Output;

use serde_json::{json, Map, Value};
use studio::tasks;
use studio::Db;

const NASTY: &str = "Content \u{1b}[2J\u{1b}]0;owned\u{7}policy\u{1b}[31m flagged\u{8}\u{8}\r\nit\u{202e}";

fn kie(lib: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kie"))
        .env("KIE_STUDIO_LIBRARY", lib)
        .env("KIE_API_KEY", "studio-test-key-4242")
        .env("KIE_API_BASE", "http://127.0.0.1:9")
        .env("KIE_UPLOAD_BASE", "http://127.0.0.1:9")
        .env("KIE_STUDIO_KEYRING_SERVICE", "ai.kie.studio.cli-tests")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn a_failure_message_is_printed_without_control_characters() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    {
        let db = Db::open(&lib.join("library.db"), 1_000).unwrap();
        let input: Map<String, Value> = json!({"prompt": "a fox"}).as_object().unwrap().clone();
        let t = tasks::insert_submitting(&db, "sora-2-text-to-video", &input, Some(30.0), false, 1_000).unwrap();
        tasks::mark_submitted(&db, t.id, "kie-1", 1_000).unwrap();
        tasks::mark_failed(&db, t.id, Some("400"), Some(NASTY), Some(0.0), 2_000).unwrap();
    }
    let out = kie(&lib, &["status", "1"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Why: Content policy flagged it"), "{stdout}");
    assert!(
        !stdout.chars().any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c)),
        "{stdout:?}"
    );
    // Scripts get Kie's words as they are, inside JSON (which escapes them).
    let json: Value = serde_json::from_slice(&kie(&lib, &["--json", "status", "1"]).stdout).unwrap();
    assert_eq!(json["task"]["fail_message"], NASTY);
}
