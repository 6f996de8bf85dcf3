//! Parsing of every record shape in the contract and in the seeds' examples.

use std::path::PathBuf;

use kie::record::{parse_callback, TaskRecord, TaskState};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/records").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn record(name: &str) -> TaskRecord {
    TaskRecord::from_value(&fixture(name)["data"])
}

#[test]
fn every_fixture_parses_with_an_id_and_a_state() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/records");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let rec = record(&name);
        assert!(rec.task_id.is_some(), "{name}: no task id");
        assert_ne!(rec.state, TaskState::Other(String::new()), "{name}: no state");
        count += 1;
    }
    assert!(count >= 15, "fixtures went missing: {count}");
}

#[test]
fn seed_success_callback() {
    let body = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/records/seed000_02.json"),
    )
    .unwrap();
    let (code, rec) = parse_callback(&body).unwrap();
    assert_eq!(code, 200);
    assert_eq!(rec.state, TaskState::Success);
    assert_eq!(rec.task_id.as_deref(), Some("e989621f54392584b05867f87b160672"));
    let result = rec.result.unwrap();
    assert_eq!(result.result_urls, vec!["https://example.com/video.mp4"]);
    assert_eq!(result.watermark_urls, vec!["https://example.com/video-watermark.mp4"]);
    // `consumeCredits` in callbacks, `creditsConsumed` in records.
    assert_eq!(rec.credits_consumed, Some(100.0));
    // The seed's placeholder param is not JSON: tolerated, not fatal.
    assert!(rec.param.is_none());
}

#[test]
fn seed_failure_callback() {
    let v = fixture("seed000_03.json");
    assert_eq!(v["code"], 501);
    let rec = TaskRecord::from_value(&v["data"]);
    assert_eq!(rec.state, TaskState::Fail);
    assert_eq!(rec.fail_code.as_deref(), Some("500"));
    assert_eq!(rec.fail_msg.as_deref(), Some("Internal server error"));
    assert_eq!(rec.credits_consumed, Some(0.0));
    assert!(rec.is_final());
}

#[test]
fn waiting_record_with_a_result_is_still_waiting() {
    let rec = record("seed002_02.json");
    assert_eq!(rec.state, TaskState::Waiting);
    assert!(!rec.is_final());
    assert_eq!(rec.result.as_ref().unwrap().result_urls.len(), 1);
    let param = rec.param.unwrap();
    assert_eq!(param.model.as_deref(), Some("sora-2-text-to-video"));
    assert!(param.input["prompt"].as_str().unwrap().starts_with("A professor"));
    assert_eq!(rec.create_time, Some(1_757_584_164_490));
}

#[test]
fn seed_character_and_watermark_records() {
    let rec = record("seed003_08.json");
    assert_eq!(rec.model.as_deref(), Some("sora-2-characters-pro"));
    let ch = rec.result.unwrap().character().unwrap();
    assert_eq!(ch.character_id, "example_123456789");
    assert_eq!(ch.character_user_name.as_deref(), Some("mzsdaag.ab"));
    assert!(ch.remark.unwrap().contains("@character_user_name"));
    let rec = record("seed003_11.json");
    assert_eq!(rec.model.as_deref(), Some("sora-watermark-remover"));
}

#[test]
fn seed001_numeric_status() {
    assert_eq!(record("seed001_01.json").state, TaskState::Generating);
    let rec = record("seed001_02.json");
    assert_eq!(rec.state, TaskState::Success);
    assert_eq!(rec.result.unwrap().result_urls, vec!["https://storage.kie.ai/videos/sora_abc123xyz.mp4"]);
}

#[test]
fn drifting_types() {
    let rec = record("drift_fail_numeric_code.json");
    assert_eq!(rec.fail_code.as_deref(), Some("422"));
    assert_eq!(rec.credits_consumed, Some(0.0));
    assert_eq!(rec.param.unwrap().input["size"], "high");

    let rec = record("drift_success_empty_failcode.json");
    assert_eq!(rec.state, TaskState::Success);
    assert_eq!(rec.fail_code, None);
    assert_eq!(rec.fail_msg, None);
    assert_eq!(rec.credits_consumed, Some(18.0));
    assert_eq!(rec.progress, Some(100.0));
    let param = rec.param.unwrap();
    assert_eq!(param.call_back_url.as_deref(), Some("https://example.com/cb"));
    assert_eq!(param.input["n_frames"], "15");
    let result = rec.result.unwrap();
    assert_eq!(result.first_frame_url.as_deref(), Some("https://tempfile.example/first.jpg"));
    assert_eq!(result.last_frame_url.as_deref(), Some("https://tempfile.example/last.jpg"));
    assert!(result.character().is_none());
}

#[test]
fn unknown_state_counts_as_running() {
    let rec = record("drift_unknown_state.json");
    assert_eq!(rec.state, TaskState::Other("rendering".into()));
    assert!(!rec.is_final());
    assert_eq!(rec.progress, Some(42.5));
    // param as an object instead of a string.
    assert_eq!(rec.param.unwrap().input["prompt"], "object, not string");
}

#[test]
fn nulls_everywhere() {
    let rec = record("drift_all_null.json");
    assert_eq!(rec.state, TaskState::Queuing);
    assert!(rec.model.is_none() && rec.param.is_none() && rec.result.is_none());
    assert!(rec.progress.is_none() && rec.credits_consumed.is_none() && rec.create_time.is_none());
}

#[test]
fn broken_json_strings_are_tolerated() {
    let rec = record("drift_bad_json_strings.json");
    assert_eq!(rec.state, TaskState::Success);
    assert!(rec.param.is_none());
    assert!(rec.result.is_none());
    assert_eq!(rec.create_time, Some(1_757_584_164_490));
}

#[test]
fn character_result_object() {
    let rec = record("drift_character_success.json");
    let ch = rec.result.unwrap().character().unwrap();
    assert_eq!(ch.character_id, "char_123");
    assert_eq!(ch.character_user_name.as_deref(), Some("robo.ab"));
    assert_eq!(rec.credits_consumed, Some(10.0));
}

#[test]
fn not_an_object_is_an_empty_record() {
    let rec = TaskRecord::from_value(&Value::Null);
    assert!(rec.task_id.is_none());
    assert!(!rec.is_final());
}
