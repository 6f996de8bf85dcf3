//! Running slots (issue 10, item 8): a task that goes stale stops counting against the
//! client's running cap, so it cannot hold later creates back.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use kie::catalogue::Catalogue;
use kie::KieClient;
use kie_sim::Sim;
use serde_json::{json, Map, Value};
use studio::clock::{Clock, SystemClock};
use studio::paths::LibraryPaths;
use studio::poller::Until;
use studio::tasks::{self, TaskStatus};
use studio::{Db, Studio, StudioConfig};

fn input(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// A studio whose client lets one task run at a time.
fn one_slot_studio(sim: &Sim, root: &std::path::Path, cfg: StudioConfig) -> Studio {
    let paths = LibraryPaths::new(root.to_path_buf()).unwrap();
    paths.create_dirs().unwrap();
    let db = Db::open(&paths.db(), SystemClock.now_ms()).unwrap();
    let mut client_cfg = client_config(sim);
    client_cfg.limits.max_running = 1;
    client_cfg.limits.slot_wait = Duration::from_secs(3);
    let client = KieClient::new(client_cfg).unwrap();
    Studio::new(db, paths, client, Catalogue::builtin().clone(), Arc::new(SystemClock), cfg)
}

async fn run_until_done(studio: &Studio, id: i64) {
    tokio::time::timeout(Duration::from_secs(20), studio.poller().run(Until::TaskDone(id)))
        .await
        .expect("the task finished in time")
        .unwrap();
}

/// Submitting takes the one slot at once: the create goes out and the task runs.
async fn submit_runs(studio: &Studio) {
    let t = tokio::time::timeout(
        Duration::from_secs(2),
        studio.journal().submit("sora-2-text-to-video", &input(json!({"prompt": "after the stale one"}))),
    )
    .await
    .expect("the create did not wait for a slot the stale task held")
    .unwrap();
    assert_eq!(t.status, TaskStatus::Running, "{t:?}");
}

#[tokio::test]
async fn a_task_kie_never_shows_frees_its_slot_when_it_goes_stale() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = one_slot_studio(&sim, dir.path(), studio_config());
    let now = studio.now_ms();
    let t = tasks::insert_submitting(studio.db(), "sora-2-text-to-video", &Map::new(), None, false, now).unwrap();
    tasks::mark_submitted(studio.db(), t.id, "00000000000000000000000000000000", now).unwrap();
    run_until_done(&studio, t.id).await;
    let t = tasks::get(studio.db(), t.id).unwrap();
    assert!(t.stale && t.status == TaskStatus::Running, "{t:?}");
    assert_eq!(studio.client().running_tasks(), 0, "the stale task still holds a running slot");
    submit_runs(&studio).await;
}

#[tokio::test]
async fn a_task_running_past_the_horizon_frees_its_slot_when_it_goes_stale() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = studio_config();
    let studio = one_slot_studio(&sim, dir.path(), cfg.clone());
    // Sent long ago (past the give-up horizon), still running as far as we know.
    let long_ago = studio.now_ms() - cfg.poll.give_up_after_ms - 1000;
    let t = tasks::insert_submitting(studio.db(), "sora-2-text-to-video", &Map::new(), None, false, long_ago).unwrap();
    tasks::mark_submitted(studio.db(), t.id, "kie-task-from-long-ago", long_ago).unwrap();
    run_until_done(&studio, t.id).await;
    let t = tasks::get(studio.db(), t.id).unwrap();
    assert!(t.stale && t.status == TaskStatus::Running, "{t:?}");
    assert_eq!(studio.client().running_tasks(), 0, "the stale task still holds a running slot");
    submit_runs(&studio).await;
}
