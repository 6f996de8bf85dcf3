//! Issue 10: Kie's limits hold across processes on one library. Two clients, each with its
//! own view of the library's limits file (as two processes have: each opens and locks the
//! file itself), send a burst of record queries: Kie sees at most 10 in any second. A client
//! without the shared limits, for contrast, sends the burst at once.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use kie::protocol::Protocol;
use kie::KieClient;
use kie_sim::{Endpoint, Sim, SimConfig};
use serde_json::{Map, Value};
use studio::shared_limits::{LibraryLimits, SharedLimitsConfig};

/// The most arrivals in any one-second window.
fn busiest_second(mut at: Vec<Instant>) -> usize {
    at.sort();
    (0..at.len())
        .map(|i| at[i..].iter().take_while(|t| **t - at[i] < Duration::from_secs(1)).count())
        .max()
        .unwrap_or(0)
}

async fn burst(clients: &[KieClient], task_id: &str, n: usize) {
    let calls: Vec<_> = (0..n)
        .map(|i| {
            let (c, id) = (clients[i % clients.len()].clone(), task_id.to_string());
            tokio::spawn(async move { c.record_info(Protocol::Jobs, &id).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_queries_from_two_processes_stay_under_ten_a_second() {
    let sim = Sim::start(SimConfig { gen_ms: 120_000, invisible_ms: 0, ..sim_config() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plain = KieClient::new(client_config(&sim)).unwrap();
    let mut input = Map::new();
    input.insert("prompt".into(), Value::from("a tide pool"));
    let task_id = plain.send_create(Protocol::Jobs, "sora-2-text-to-video", &input, None).await.unwrap();

    // Without the shared limits: all at once.
    burst(&[plain], &task_id, 20).await;
    let unlimited = sim.arrivals(Endpoint::RecordInfo);
    assert!(busiest_second(unlimited.clone()) > 10, "the contrast burst was not a burst");

    let limited = || {
        let mut cfg = client_config(&sim);
        cfg.shared_limits =
            Some(Arc::new(LibraryLimits::new(dir.path(), SharedLimitsConfig::from_client(&cfg.limits))));
        KieClient::new(cfg).unwrap()
    };
    burst(&[limited(), limited()], &task_id, 24).await;
    let all = sim.arrivals(Endpoint::RecordInfo);
    let shared: Vec<Instant> = all[unlimited.len()..].to_vec();
    assert_eq!(shared.len(), 24);
    assert!(busiest_second(shared.clone()) <= 10, "{} record queries in one second", busiest_second(shared));
}
