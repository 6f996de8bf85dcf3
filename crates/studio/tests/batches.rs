//! Issue 13: batches against the simulator: sent once each, in order, within Kie's create
//! rate; a cap or the balance reached mid-batch sends exactly what is affordable; Kie's 402
//! stops the batch; a create that surely did not leave is tried again, never twice.

mod common;

use std::time::{Duration, Instant};

use common::*;
use kie::limits::LimitsConfig;
use kie::KieClient;
use kie_sim::{Endpoint, Fault, FaultRule, Sim, SimConfig};
use serde_json::json;
use studio::batches::{self, BatchFormat, BatchRequest, BatchState};
use studio::clock::{Clock, SystemClock};
use studio::paths::LibraryPaths;
use studio::{tasks, Db, Studio, Until};

fn request(n: usize) -> BatchRequest {
    BatchRequest {
        model: "sora-2-text-to-video".into(),
        base: json!({"aspect_ratio": "landscape", "n_frames": "10"}).as_object().unwrap().clone(),
        format: Some(BatchFormat::Lines),
        file_name: None,
        text: (1..=n).map(|i| format!("shot number {i}\n")).collect(),
        count: 0,
        cap_credits: None,
        name: Some("test".into()),
    }
}

/// A studio whose client allows `per_window` creates per second.
fn studio_with_rate(sim: &Sim, root: &std::path::Path, per_window: u32) -> Studio {
    let paths = LibraryPaths::new(root.to_path_buf()).unwrap();
    paths.create_dirs().unwrap();
    let db = Db::open(&paths.db(), SystemClock.now_ms()).unwrap();
    let mut cfg = client_config(sim);
    cfg.limits = LimitsConfig { creates_per_window: per_window, window: Duration::from_millis(1000), ..cfg.limits };
    let client = KieClient::new(cfg).unwrap();
    Studio::new(
        db,
        paths,
        client,
        kie::catalogue::Catalogue::builtin().clone(),
        std::sync::Arc::new(SystemClock),
        studio_config(),
    )
}

async fn run_until_idle(studio: &Studio) {
    tokio::time::timeout(Duration::from_secs(60), studio.poller().run(Until::Idle))
        .await
        .expect("idle in time")
        .unwrap();
}

/// The prompt each create carried, in the order Kie got them, from the tasks it holds.
fn prompts_sent(studio: &Studio, sim: &Sim, batch: i64) -> Vec<String> {
    let mut sent: Vec<(i64, String)> = batches::items(studio.db(), batch)
        .unwrap()
        .into_iter()
        .filter_map(|i| i.task_id)
        .map(|id| tasks::get(studio.db(), id).unwrap())
        .filter_map(|t| {
            let kie = t.kie_task_id?;
            let task = sim.task(&kie).expect("Kie has every task the library recorded");
            Some((t.submitted_at.unwrap(), task.to_string()))
        })
        .collect();
    sent.sort();
    sent.into_iter()
        .map(|(_, t)| {
            let at = t.find("shot number ").expect("the prompt is in Kie's task");
            t[at..].split('"').next().unwrap().trim_end_matches('\\').to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_25_is_sent_once_each_in_order_within_the_rate() {
    let sim = Sim::start(SimConfig { create_limit: 1000, ..sim_config() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = studio_with_rate(&sim, dir.path(), 5);
    let b = studio.batches().start(&request(25), &|_| {}).await.unwrap();
    assert_eq!((b.items, b.pending, b.state), (25, 25, BatchState::Running));
    assert!(b.cap_credits.is_some() && b.cap_credits == b.estimate_credits, "the cap defaults to the estimate");
    let started = Instant::now();
    run_until_idle(&studio).await;

    let b = batches::get(studio.db(), b.id).unwrap();
    assert_eq!((b.state, b.sent, b.pending), (BatchState::Done, 25, 0));
    assert_eq!(sim.stats().tasks_created, 25, "each item sent once");
    let want: Vec<String> = (1..=25).map(|i| format!("shot number {i}")).collect();
    assert_eq!(prompts_sent(&studio, &sim, b.id), want, "in order");
    // The client's limit: at most 5 creates in any second (as they arrive: less 5% for the
    // loopback's jitter on a busy machine).
    let at = sim.arrivals(Endpoint::Create);
    assert_eq!(at.len(), 25);
    for (i, t) in at.iter().enumerate() {
        let in_window = at[i..].iter().take_while(|u| u.duration_since(*t) < Duration::from_millis(950)).count();
        assert!(in_window <= 5, "{in_window} creates within 950 ms from create {i}");
    }
    assert!(started.elapsed() >= Duration::from_millis(4000), "25 creates at 5 a second take at least 4 s");
    // Every result is in: the batch's tasks all finished and downloaded.
    for i in batches::items(studio.db(), b.id).unwrap() {
        let t = tasks::get(studio.db(), i.task_id.unwrap()).unwrap();
        assert!(t.downloads_done, "task {} of line {} not downloaded", t.id, i.line);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cap_reached_mid_batch_sends_exactly_the_affordable_items() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    let plan = batches::plan(studio.catalogue(), &request(6)).unwrap();
    let each = plan.items[0].credits_estimated.unwrap();
    let mut req = request(6);
    req.cap_credits = Some(each * 3.5);
    let b = studio.batches().start(&req, &|_| {}).await.unwrap();
    run_until_idle(&studio).await;

    let b = batches::get(studio.db(), b.id).unwrap();
    assert_eq!((b.state, b.sent, b.pending), (BatchState::Stopped, 3, 3));
    assert_eq!(b.stop_code.as_deref(), Some("cap_reached"));
    let msg = b.stop_message.unwrap();
    assert!(msg.contains("before line 4") && msg.contains("Nothing more was sent"), "{msg}");
    assert_eq!(sim.stats().tasks_created, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_balance_asked_at_start_limits_what_is_sent() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    let each = batches::plan(studio.catalogue(), &request(1)).unwrap().estimate_credits.unwrap();
    sim.set_credits(each * 2.5);
    let b = studio.batches().start(&request(5), &|_| {}).await.unwrap();
    run_until_idle(&studio).await;
    let b = batches::get(studio.db(), b.id).unwrap();
    assert_eq!((b.state, b.sent, b.stop_code.as_deref()), (BatchState::Stopped, 2, Some("insufficient_credits")));
    assert_eq!(sim.stats().tasks_created, 2);
    assert!(b.stop_message.unwrap().contains("add credits, then resume it"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kies_402_stops_the_batch_not_just_the_item() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    // Written down with no balance known (as when it could not be asked): only Kie can say.
    let plan = batches::plan(studio.catalogue(), &request(5)).unwrap();
    let each = plan.items[0].credits_estimated.unwrap();
    let b = batches::insert(studio.db(), "t", BatchFormat::Lines, &plan, None, None, SystemClock.now_ms()).unwrap();
    sim.set_credits(each * 2.5);
    run_until_idle(&studio).await;
    let b = batches::get(studio.db(), b.id).unwrap();
    assert_eq!((b.state, b.sent, b.pending), (BatchState::Stopped, 3, 2), "{:?}", b.stop_message);
    assert_eq!(b.stop_code.as_deref(), Some("insufficient_credits"));
    assert_eq!(sim.stats().tasks_created, 2, "the third create was refused by Kie and nothing followed it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_that_surely_did_not_leave_is_tried_again_and_sent_once() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    // Kie in maintenance for longer than the client's retries: the first item is not taken.
    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::Maintenance).times(4));
    let b = studio.batches().start(&request(3), &|_| {}).await.unwrap();
    run_until_idle(&studio).await;
    let b = batches::get(studio.db(), b.id).unwrap();
    assert_eq!((b.state, b.sent), (BatchState::Done, 3));
    assert_eq!(sim.stats().tasks_created, 3, "each item created once");
    let want: Vec<String> = (1..=3).map(|i| format!("shot number {i}")).collect();
    assert_eq!(prompts_sent(&studio, &sim, b.id), want);
    // The attempt that did not leave stays in the queue, failed, not sent, part of the batch.
    let unsent: Vec<_> = tasks::list(studio.db(), &tasks::TaskQuery::default())
        .unwrap()
        .into_iter()
        .filter(|t| t.kie_task_id.is_none())
        .collect();
    assert_eq!(unsent.len(), 1);
    assert_eq!((unsent[0].batch_id, unsent[0].error_code.as_deref()), (Some(b.id), Some("unavailable")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_invalid_line_sends_nothing_and_names_the_line() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    let mut req = request(4);
    req.text.push_str(&"x".repeat(10_001));
    req.text.push_str("\nlast\n");
    let err = studio.batches().start(&req, &|_| {}).await.unwrap_err();
    let studio::StudioError::InvalidInput(problems) = err else { panic!("{err:?}") };
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].field, "lines[5].prompt");
    assert!(batches::list(studio.db(), 10).unwrap().is_empty(), "nothing written");
    assert_eq!(sim.stats().creates_received, 0, "nothing sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_batch_sends_nothing_until_resumed() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    let b = studio.batches().start(&request(3), &|_| {}).await.unwrap();
    studio.batches().pause(b.id).unwrap();
    run_until_idle(&studio).await;
    assert_eq!(sim.stats().creates_received, 0);
    studio.batches().resume(b.id).await.unwrap();
    run_until_idle(&studio).await;
    assert_eq!(batches::get(studio.db(), b.id).unwrap().state, BatchState::Done);
    assert_eq!(sim.stats().tasks_created, 3);
}
