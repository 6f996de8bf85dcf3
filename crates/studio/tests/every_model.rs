//! Every video model in the catalogue, through the journal, against the simulator: its
//! example input goes out as exactly the JSON the catalogue says (types included, in the
//! protocol's shape), the video lands in the library, and what Kie charged (the simulator
//! prices from the contract on its own) is what the catalogue estimated.

mod common;

use std::time::Duration;

use common::*;
use kie::catalogue::{Catalogue, OutputKind, Protocol};
use kie_sim::Sim;
use serde_json::{json, Map, Value};
use studio::library::{self, ResultKind};
use studio::poller::Until;
use studio::tasks::{self, TaskStatus};

/// What the simulator recorded as sent, as an object.
fn sent(sim: &Sim, kie_id: &str) -> Value {
    let record = sim.task(kie_id).unwrap_or_else(|| panic!("the simulator has {kie_id}"));
    let raw = record.get("param").or_else(|| record.get("paramJson")).cloned().unwrap_or(Value::Null);
    match raw {
        Value::String(s) => serde_json::from_str(&s).unwrap(),
        other => other,
    }
}

#[tokio::test]
async fn every_video_model_sends_its_exact_json_and_lands_in_the_library() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    let catalogue = Catalogue::builtin();
    let mut done = 0;
    for spec in catalogue.models.iter().filter(|m| m.output == OutputKind::Video) {
        let example = spec.example.clone().unwrap_or_else(|| panic!("{} has no example", spec.id));
        let normalized: Map<String, Value> = catalogue.validate(&spec.id, &example).unwrap();
        let task = studio.journal().submit(&spec.id, &example).await.unwrap();
        assert_eq!(task.status, TaskStatus::Running, "{}: {task:?}", spec.id);
        let kie_id = task.kie_task_id.clone().unwrap();

        let body = sent(&sim, &kie_id);
        match spec.protocol {
            Protocol::Jobs => {
                assert_eq!(body["model"], json!(spec.id), "{}", spec.id);
                assert_eq!(body["input"], Value::Object(normalized.clone()), "{}: the exact input", spec.id);
            }
            Protocol::Veo => {
                let mut flat = normalized.clone();
                flat.insert("model".into(), json!(spec.id));
                let body = body.as_object().unwrap();
                for (k, v) in &flat {
                    assert_eq!(body.get(k), Some(v), "{}: {k} in the flat body", spec.id);
                }
                assert!(!body.contains_key("input"), "{}: Veo's body is flat", spec.id);
            }
        }

        tokio::time::timeout(Duration::from_secs(20), studio.poller().run(Until::TaskDone(task.id)))
            .await
            .unwrap_or_else(|_| panic!("{} finished in time", spec.id))
            .unwrap();
        let t = tasks::get(studio.db(), task.id).unwrap();
        assert_eq!(t.status, TaskStatus::Succeeded, "{}: {t:?}", spec.id);
        assert!(t.downloads_done, "{}", spec.id);
        let videos: Vec<_> = library::results_for_task(studio.db(), task.id)
            .unwrap()
            .into_iter()
            .filter(|r| r.kind == ResultKind::Video)
            .collect();
        assert!(!videos.is_empty(), "{}: a video in the library", spec.id);
        let estimate = spec.estimate_credits(&normalized);
        assert!(estimate.is_some(), "{}: a price", spec.id);
        assert_eq!(t.credits_estimated, estimate, "{}", spec.id);
        match spec.protocol {
            // The simulator prices from the contract on its own: the two must agree.
            Protocol::Jobs => assert_eq!(t.credits_consumed, estimate, "{}: charged as estimated", spec.id),
            // Veo's records say nothing of credits: the estimate is all there is.
            Protocol::Veo => assert_eq!(t.credits_consumed, None, "{}", spec.id),
        }
        done += 1;
    }
    assert!(done >= 20, "only {done} video models");
    sim.shutdown().await;
}
