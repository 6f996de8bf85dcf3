//! What a create's answer means (issue 10, items 6 and 8), against the simulator: only the
//! contract's "surely not taken" answers are rejections; anything else (an unknown code, a
//! 2xx other than 200, a 5xx, a timeout, an unreadable body) is "outcome unknown" and is
//! never sent again. A request that could not be built never left; a create waiting for a
//! running slot gives up after a bound with a plain "not sent".

use std::time::{Duration, Instant};

use kie::catalogue::Catalogue;
use kie::client::{ClientConfig, KieClient};
use kie::limits::LimitsConfig;
use kie::retry::RetryPolicy;
use kie::{ApiKey, ErrorCode, KieError};
use kie_sim::{Endpoint, Fault, FaultRule, Sim, SimConfig};
use serde_json::{json, Map, Value};

const KEY: &str = "test-key-0001";

fn sim_config() -> SimConfig {
    SimConfig { key: KEY.into(), gen_ms: 150, invisible_ms: 60, ..SimConfig::default() }
}

fn client_with(sim: &Sim, tweak: impl FnOnce(&mut ClientConfig)) -> KieClient {
    let mut cfg = ClientConfig::new(ApiKey::new(KEY).unwrap());
    cfg.api_base = sim.base_url();
    cfg.upload_base = sim.upload_base_url();
    cfg.request_timeout = Duration::from_millis(800);
    cfg.retry = RetryPolicy {
        max_attempts: 4,
        base: Duration::from_millis(10),
        cap: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(3),
    };
    cfg.limits = LimitsConfig { min_spacing: Duration::ZERO, ..LimitsConfig::default() };
    tweak(&mut cfg);
    KieClient::new(cfg).unwrap()
}

fn input(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

async fn create(client: &KieClient) -> Result<String, KieError> {
    let spec = Catalogue::builtin().model("sora-2-text-to-video").unwrap();
    client.create_task(spec, &input(json!({"prompt": "a red fox in the snow"})), None).await
}

/// Seen live: a create answered with code 201 and a taskId. Kie took it (and charged): it
/// must not be recorded as a rejection, nor sent again; the id Kie named is kept.
#[tokio::test]
async fn a_create_answered_outside_the_contract_is_outcome_unknown() {
    let sim = Sim::start(SimConfig { create_limit: 1000, ..sim_config() }).await.unwrap();
    // Many creates in a row: the create window is not what is tested here.
    let client = client_with(&sim, |c| c.limits.creates_per_window = 1000);
    for (status, code) in [(201u16, 201i64), (200, 201), (200, 299), (302, 302), (418, 418), (200, 777), (200, 403)] {
        let before = sim.stats();
        sim.push_fault(FaultRule::new(Endpoint::Create, Fault::OddAnswer { status, code }).times(3));
        let err = create(&client).await.unwrap_err();
        let what = format!("HTTP {status} code {code}");
        assert_eq!(err.code(), ErrorCode::OutcomeUnknown, "{what}: {err:?}");
        let after = sim.stats();
        assert_eq!(after.creates_received - before.creates_received, 1, "{what}: sent again");
        assert_eq!(after.tasks_created - before.tasks_created, 1, "{what}");
        let KieError::OutcomeUnknown { task_id, .. } = &err else { panic!("{what}: {err:?}") };
        assert!(task_id.is_some(), "{what}: the id Kie named is kept: {err:?}");
        assert!(err.to_string().contains(task_id.as_deref().unwrap()), "{what}: {err}");
        sim.clear_faults();
    }
    // The same codes, not processed: still nobody can say Kie did not take it.
    for code in [201i64, 299, 302, 403, 404, 408, 418, 501, 503, 777] {
        let before = sim.stats();
        sim.push_fault(FaultRule::new(Endpoint::Create, Fault::Code { code, msg: format!("odd {code}") }).times(3));
        let err = create(&client).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::OutcomeUnknown, "code {code}: {err:?}");
        assert_eq!(sim.stats().creates_received - before.creates_received, 1, "code {code}: sent again");
        sim.clear_faults();
    }
    for status in [201u16, 204, 302, 403, 404, 418, 501, 503] {
        let before = sim.stats();
        sim.push_fault(FaultRule::new(Endpoint::Create, Fault::HttpStatus { status }).times(3));
        let err = create(&client).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::OutcomeUnknown, "HTTP {status}: {err:?}");
        assert_eq!(sim.stats().creates_received - before.creates_received, 1, "HTTP {status}: sent again");
        sim.clear_faults();
    }
}

/// The contract's "surely not taken" answers stay rejections (with their own code), and
/// nothing was created.
#[tokio::test]
async fn the_contracts_refusals_are_rejections() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_with(&sim, |c| c.retry = RetryPolicy::none());
    let cases: &[(i64, ErrorCode)] = &[
        (400, ErrorCode::InvalidRequest),
        (401, ErrorCode::Unauthorized),
        (402, ErrorCode::InsufficientCredits),
        (422, ErrorCode::InvalidRequest),
        (429, ErrorCode::RateLimited),
        (433, ErrorCode::RateLimited),
        (455, ErrorCode::Unavailable),
        (505, ErrorCode::FeatureDisabled),
        (1001, ErrorCode::InvalidRequest),
        (1002, ErrorCode::InsufficientCredits),
        (1003, ErrorCode::Unavailable),
        (1004, ErrorCode::InvalidRequest),
    ];
    for (code, want) in cases {
        sim.push_fault(FaultRule::new(Endpoint::Create, Fault::Code { code: *code, msg: format!("no {code}") }));
        let err = create(&client).await.unwrap_err();
        assert_eq!(err.code(), *want, "code {code}: {err:?}");
        sim.clear_faults();
    }
    for status in [400u16, 401, 402, 422, 429, 455, 505] {
        sim.push_fault(FaultRule::new(Endpoint::Create, Fault::HttpStatus { status }));
        let err = create(&client).await.unwrap_err();
        assert_ne!(err.code(), ErrorCode::OutcomeUnknown, "HTTP {status}: {err:?}");
        sim.clear_faults();
    }
    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::Paused));
    assert_eq!(create(&client).await.unwrap_err().code(), ErrorCode::ModelPaused);
    assert_eq!(sim.stats().tasks_created, 0);
}

/// A request that cannot be built never leaves: it is "not sent", never outcome unknown,
/// and not tried again.
#[tokio::test]
async fn a_request_that_cannot_be_built_is_never_sent() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_with(&sim, |c| c.api_base = "http://exa mple.invalid:99999".into());
    let start = Instant::now();
    let err = create(&client).await.unwrap_err();
    assert_ne!(err.code(), ErrorCode::OutcomeUnknown, "{err:?}");
    assert!(!err.create_may_retry(), "{err:?}");
    assert!(err.to_string().starts_with("Not sent"), "{err}");
    assert!(start.elapsed() < Duration::from_millis(500), "not retried: {:?}", start.elapsed());
    assert_eq!(sim.stats().creates_received, 0);
}

/// A create waiting for a running slot gives up after the bound, plainly, and sends nothing.
#[tokio::test]
async fn a_create_waiting_for_a_slot_gives_up_plainly() {
    let sim = Sim::start(SimConfig { gen_ms: 60_000, ..sim_config() }).await.unwrap();
    let client = client_with(&sim, |c| {
        c.limits.max_running = 1;
        c.limits.slot_wait = Duration::from_millis(300);
    });
    let first = create(&client).await.unwrap();
    let start = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(5), create(&client))
        .await
        .expect("the wait for a slot is bounded")
        .unwrap_err();
    assert!(start.elapsed() >= Duration::from_millis(300), "{:?}", start.elapsed());
    assert_ne!(err.code(), ErrorCode::OutcomeUnknown);
    assert!(!err.create_may_retry());
    assert_eq!(
        err.to_string(),
        "Not sent: Kie already has 1 video in progress for this key; try again when one finishes"
    );
    assert_eq!(sim.stats().creates_received, 1, "the second create never left");
    // A slot freed while waiting lets the create go.
    let waiting = tokio::spawn({
        let client = client.clone();
        async move { create(&client).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(client.running_tasks(), 1);
    assert!(!waiting.is_finished());
    // Stop tracking the first task (it went stale, or the user cancelled it).
    client.finish_tracking(&first);
    waiting.await.unwrap().unwrap();
    assert_eq!(sim.stats().creates_received, 2);
}

/// A create answered with a redirect is not followed: the HTTP stack would send the paid
/// create again (307/308 keep the body) and the key with it. Nothing is processed by this
/// answer, but the client cannot know that: outcome unknown, sent once.
#[tokio::test]
async fn a_redirected_create_is_not_followed() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_with(&sim, |_| {});
    let elsewhere = format!("{}/api/v1/jobs/createTask", sim.base_url());
    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::Redirect { location: elsewhere, status: 307 }).times(1));
    let err = create(&client).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::OutcomeUnknown, "{err:?}");
    assert_eq!(sim.stats().creates_received, 1, "the redirect was not followed to a second create");
    sim.shutdown().await;
}
