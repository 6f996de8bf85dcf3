//! Issue 11: more running tasks than Kie's record-query budget can poll at the documented
//! cadence. The scheduler takes due tasks longest overdue first, so every task keeps being
//! polled (each round stretched by the budget); taken by id, the last ones were never polled.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use kie::limits::LimitsConfig;
use kie::protocol::Protocol;
use kie::KieClient;
use kie_sim::{Sim, SimConfig};
use serde_json::{Map, Value};
use studio::clock::{Clock, SystemClock};
use studio::paths::LibraryPaths;
use studio::shared_limits::{LibraryLimits, SharedLimitsConfig};
use studio::{tasks, Db, PollConfig, Studio, StudioConfig, Until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_task_gets_its_turn_when_the_budget_is_short() {
    let sim =
        Sim::start(SimConfig { gen_ms: 3_600_000, invisible_ms: 0, create_limit: 100, ..sim_config() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paths = LibraryPaths::new(dir.path().to_path_buf()).unwrap();
    paths.create_dirs().unwrap();
    let now = SystemClock.now_ms();
    let db = Db::open(&paths.db(), now).unwrap();
    // Setup only: sent straight, past the client's running slots.
    let mut wide = client_config(&sim);
    wide.limits = LimitsConfig { max_running: 100, creates_per_window: 100, ..wide.limits };
    let plain = KieClient::new(wide).unwrap();
    let mut input = Map::new();
    input.insert("prompt".into(), Value::from("a tide pool"));
    let mut ids = Vec::new();
    for _ in 0..20 {
        let kie_id = plain.send_create(Protocol::Jobs, "sora-2-text-to-video", &input, None).await.unwrap();
        // Sent a while ago: in the slow phase, one poll per 100 ms at this scale.
        let t = tasks::insert_submitting(&db, "sora-2-text-to-video", &input, None, false, now - 2_000).unwrap();
        tasks::mark_submitted(&db, t.id, &kie_id, now - 1_900).unwrap();
        ids.push(kie_id);
    }

    // 20 tasks due every 100 ms is 200 queries a second; the budget is 50.
    let mut cfg = client_config(&sim);
    let budget = SharedLimitsConfig {
        queries_per_window: 5,
        query_window_ms: 100,
        ..SharedLimitsConfig::from_client(&cfg.limits)
    };
    cfg.shared_limits = Some(Arc::new(LibraryLimits::new(dir.path(), budget)));
    let poll = PollConfig::scaled(0.005);
    assert_eq!(poll.slow_ms, 100);
    let studio = Studio::new(
        db,
        paths,
        KieClient::new(cfg).unwrap(),
        kie::catalogue::Catalogue::builtin().clone(),
        Arc::new(SystemClock),
        StudioConfig { poll, ..studio_config() },
    );
    let _ = tokio::time::timeout(Duration::from_millis(2_000), studio.poller().run(Until::Forever)).await;

    let seen = sim.record_queries();
    let counts: Vec<usize> = ids.iter().map(|id| seen.get(id).map_or(0, Vec::len)).collect();
    // About 100 queries for 20 tasks: each gets several, none is left out.
    assert!(counts.iter().all(|n| *n >= 2), "polls per task, in id order: {counts:?}");
    let (min, max) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
    assert!(max - min <= 3, "turns are shared evenly: {counts:?}");
    // And none is asked again before its interval: a poll that ended while the scheduler was
    // going through its list has rescheduled its task.
    for id in &ids {
        for w in seen[id].windows(2) {
            assert!(w[1] - w[0] >= Duration::from_millis(90), "{id} polled twice within {:?}", w[1] - w[0]);
        }
    }
}
