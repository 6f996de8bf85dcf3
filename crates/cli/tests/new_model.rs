//! A model of a known protocol added as data: a JSON file with one catalogue entry, given to
//! the app (`KIE_STUDIO_CATALOGUE`) and to the simulator, makes a video with no code change.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::*;
use kie_sim::{Sim, SimConfig};
use serde_json::{json, Value};
use studio::clock::{Clock, SystemClock};
use studio::library;
use studio::tasks::{self, TaskStatus};
use studio::Db;

const ENTRY: &str = r#"{"models": [{
  "id": "acme/dream-1", "name": "Acme Dream 1", "family": "Acme",
  "summary": "A made-up model, added as a JSON file.", "output": "video",
  "takes": ["text"], "makes": "4–8 s",
  "example": {"prompt": "a paper boat on a pond", "seconds": 6},
  "fields": [
    {"name": "prompt", "label": "Prompt", "type": "text", "widget": "textarea", "required": true,
     "limits": {"max_length": 500}},
    {"name": "seconds", "label": "Length", "type": "integer", "widget": "number", "unit": "s",
     "default": 4, "send_as": "string", "limits": {"min": 4, "max": 8}}
  ],
  "pricing": {"source": "made up for a test", "seconds_field": "seconds", "rules": [{"credits": 2, "per_second": 3}]}
}]}"#;

async fn run(sim: &Sim, lib: &Path, catalogue: &Path, args: &[&str]) -> Output {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_kie"));
    c.env("KIE_API_KEY", KEY)
        .env("KIE_API_BASE", sim.base_url())
        .env("KIE_UPLOAD_BASE", sim.upload_base_url())
        .env("KIE_STUDIO_LIBRARY", lib)
        .env("KIE_STUDIO_POLL_SCALE", "0.01")
        .env("KIE_STUDIO_KEYRING_SERVICE", "ai.kie.studio.cli-tests")
        .env("KIE_STUDIO_CATALOGUE", catalogue)
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(30), c.args(args).output()).await.expect("kie finished in time").unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[tokio::test]
async fn a_model_added_as_json_makes_a_video() {
    let dir = tempfile::tempdir().unwrap();
    let catalogue = dir.path().join("acme.json");
    std::fs::write(&catalogue, ENTRY).unwrap();
    let sim = Sim::start(SimConfig {
        key: KEY.into(),
        gen_ms: 50,
        invisible_ms: 0,
        extra_catalogues: vec![catalogue.clone()],
        ..Default::default()
    })
    .await
    .unwrap();
    let lib = dir.path().join("lib");

    // It is listed, with its fields and price.
    let out = run(&sim, &lib, &catalogue, &["models", "acme/dream-1"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Acme Dream 1") && text(&out).contains("Length"), "{}", text(&out));

    // Its own limits hold, from the data.
    let out = run(&sim, &lib, &catalogue, &["generate", "acme/dream-1", "--prompt", "p", "--seconds", "9"]).await;
    assert!(!out.status.success());
    assert!(text(&out).contains("Length must be at most 8 s"), "{}", text(&out));

    // And it makes a video.
    let out = run(
        &sim,
        &lib,
        &catalogue,
        &["--json", "generate", "acme/dream-1", "--prompt", "a paper boat", "--seconds", "6", "--wait"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let db = Db::open(&lib.join("library.db"), SystemClock.now_ms()).unwrap();
    let all = tasks::list(&db, &Default::default()).unwrap();
    assert_eq!(all.len(), 1);
    let task = &all[0];
    assert_eq!((task.model.as_str(), task.status), ("acme/dream-1", TaskStatus::Succeeded));
    assert_eq!(task.credits_estimated, Some(20.0), "2 + 3 × 6 credits");
    let rows = library::results_for_task(&db, task.id).unwrap();
    assert!(rows.iter().any(|r| r.path.as_deref().is_some_and(|p| p.ends_with(".mp4"))), "{rows:?}");

    // Sent exactly as the data says: the length as a string.
    let kie_id = task.kie_task_id.clone().unwrap();
    let record = sim.task(&kie_id).expect("the simulator has the task");
    let param: Value = match &record["param"] {
        Value::String(s) => serde_json::from_str(s).unwrap(),
        other => other.clone(),
    };
    assert_eq!(param["model"], "acme/dream-1");
    assert_eq!(param["input"], json!({"prompt": "a paper boat", "seconds": "6"}));
    sim.shutdown().await;
}
