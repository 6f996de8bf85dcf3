//! `kie presets` and `kie generate --preset NAME` against the simulator: a preset's values are
//! the start, the fields given override them, the model comes from the preset (a different
//! one is refused, nothing sent), a local file kept in a preset is uploaded when it is used,
//! and `kie generate MODEL --FIELD VALUE` works as before.

mod common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use common::*;
use kie_sim::Sim;
use serde_json::{json, Value};

fn kie(sim: &Sim, lib: &Path) -> tokio::process::Command {
    kie_command(sim, lib)
}

async fn run(sim: &Sim, lib: &Path, args: &[&str]) -> Output {
    let mut c = kie(sim, lib);
    tokio::time::timeout(Duration::from_secs(30), c.args(args).output()).await.expect("kie finished in time").unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn json_out(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

#[tokio::test]
async fn a_preset_is_the_start_and_given_fields_override_it() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");

    let out = run(&sim, &lib, &["presets"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("No presets yet"), "{}", text(&out));

    let out = run(
        &sim,
        &lib,
        &[
            "--json",
            "presets",
            "save",
            "Snowy",
            "sora-2-text-to-video",
            "--prompt",
            "a fox in the snow",
            "--n_frames",
            "15",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    let saved = json_out(&out);
    assert_eq!(saved["input"], json!({"prompt": "a fox in the snow", "n_frames": "15"}));
    assert_eq!(sim.stats().creates_received, 0, "saving sends nothing");

    // Saving again under the name in another case replaces it.
    let out = run(
        &sim,
        &lib,
        &["presets", "save", "SNOWY", "sora-2-text-to-video", "--prompt", "a fox in the snow", "--n_frames", "10"],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Updated preset \"SNOWY\""), "{}", text(&out));
    let list = json_out(&run(&sim, &lib, &["presets", "--json"]).await);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["input"]["n_frames"], "10");
    let out = run(&sim, &lib, &["presets", "list"]).await;
    assert!(text(&out).contains("SNOWY") && text(&out).contains("sora-2-text-to-video"), "{}", text(&out));

    // The model from the preset, a field given over it, the flag after the fields.
    let out = run(&sim, &lib, &["--json", "generate", "--preset", "snowy", "--prompt", "a fox in the rain"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let task = &json_out(&out)["task"];
    assert_eq!(task["model"], "sora-2-text-to-video");
    assert_eq!(task["input"]["prompt"], "a fox in the rain");
    assert_eq!(task["input"]["n_frames"], "10", "{task}");

    let out =
        run(&sim, &lib, &["generate", "sora-2-text-to-video", "--n_frames", "15", "--preset", "Snowy", "--json"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let task = &json_out(&out)["task"];
    assert_eq!(
        (task["input"]["prompt"].clone(), task["input"]["n_frames"].clone()),
        (json!("a fox in the snow"), json!("15"))
    );
    assert_eq!(sim.stats().creates_received, 2);

    // Another model than the preset's: refused, nothing sent, exit 2.
    let out = run(&sim, &lib, &["generate", "--preset", "snowy", "sora-2-image-to-video", "--prompt", "x"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("is for sora-2-text-to-video, not sora-2-image-to-video"), "{}", text(&out));
    let out = run(&sim, &lib, &["generate", "--preset", "nope", "--prompt", "x"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("No preset named \"nope\"") && text(&out).contains("SNOWY"), "{}", text(&out));
    let out = run(&sim, &lib, &["generate", "--wait"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(sim.stats().creates_received, 2, "nothing sent for a refusal");

    // The plain form is unchanged.
    let out = run(&sim, &lib, &["--json", "generate", "sora-2-text-to-video", "--prompt", "x"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(json_out(&out)["task"]["input"]["prompt"], "x");

    let out = run(&sim, &lib, &["presets", "delete", "snowy"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Deleted preset \"SNOWY\""), "{}", text(&out));
    let out = run(&sim, &lib, &["presets", "delete", "snowy"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(json_out(&run(&sim, &lib, &["--json", "presets"]).await), json!([]));
}

#[tokio::test]
async fn names_and_models_are_checked_when_saving() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let long = "n".repeat(61);
    let out = run(&sim, &lib, &["--json", "presets", "save", &long, "sora-2-text-to-video", "--prompt", "x"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = &json_out(&out)["error"];
    assert_eq!((err["code"].clone(), err["problems"][0]["field"].clone()), (json!("invalid_input"), json!("name")));
    assert!(err["message"].as_str().unwrap().contains("60"), "{err}");
    let out = run(&sim, &lib, &["presets", "save", "x", "no-such-model", "--prompt", "x"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no-such-model"), "{}", text(&out));
}

#[tokio::test]
async fn a_local_file_in_a_preset_is_uploaded_when_it_is_used() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let pic = dir.path().join("me.png");
    std::fs::write(&pic, PNG).unwrap();
    let out = run(
        &sim,
        &lib,
        &["--json", "presets", "save", "me", "sora-2-image-to-video", "--image_urls", pic.to_str().unwrap()],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(json_out(&out)["input"]["image_urls"], json!([pic.to_str().unwrap()]), "kept as a path");
    assert_eq!(sim.stats().uploads, 0);
    let out = run(&sim, &lib, &["--json", "generate", "--preset", "me", "--prompt", "wave hello"]).await;
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(sim.stats().uploads, 1);
    let input = &json_out(&out)["task"]["input"];
    let link = input["image_urls"][0].as_str().unwrap();
    assert!(link.starts_with("http"), "{input}");
    assert_eq!(input["prompt"], "wave hello");
}
