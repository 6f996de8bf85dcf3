//! The Veo adapter against the local simulator: the flat create body, the `successFlag`
//! states, both kinds of failure, the create rules shared with the jobs API, and the 1080p
//! copy (still processing, then ready, then downloaded).

use std::time::{Duration, Instant};

use kie::catalogue::{Catalogue, ModelSpec, Protocol};
use kie::client::{ClientConfig, HdVideo, KieClient};
use kie::limits::LimitsConfig;
use kie::media::MediaKind;
use kie::retry::RetryPolicy;
use kie::{ApiKey, ErrorCode, KieError, TaskRecord, TaskState};
use kie_sim::{Endpoint, Fault, FaultRule, Sim, SimConfig};
use serde_json::{json, Map, Value};

const KEY: &str = "test-key-veo-0001";

fn sim_config() -> SimConfig {
    SimConfig {
        key: KEY.into(),
        gen_ms: 150,
        invisible_ms: 60,
        hd_ready_after: Duration::from_millis(300),
        ..SimConfig::default()
    }
}

fn client_for(sim: &Sim) -> KieClient {
    let mut cfg = ClientConfig::new(ApiKey::new(KEY).unwrap());
    cfg.api_base = sim.base_url();
    cfg.upload_base = sim.upload_base_url();
    cfg.request_timeout = Duration::from_millis(800);
    cfg.transfer_idle_timeout = Duration::from_millis(800);
    cfg.retry = RetryPolicy {
        max_attempts: 4,
        base: Duration::from_millis(10),
        cap: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(3),
    };
    cfg.limits = LimitsConfig { min_spacing: Duration::ZERO, ..LimitsConfig::default() };
    KieClient::new(cfg).unwrap()
}

fn input(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// A Veo model from the catalogue, found by its protocol (no id in the code).
fn veo_spec() -> &'static ModelSpec {
    Catalogue::builtin().models.iter().find(|m| m.protocol == Protocol::Veo).expect("a Veo model in the catalogue")
}

async fn wait_final(client: &KieClient, task_id: &str) -> (TaskRecord, Vec<TaskState>) {
    let start = Instant::now();
    let mut seen = Vec::new();
    loop {
        match client.record_info(Protocol::Veo, task_id).await {
            Ok(rec) => {
                if seen.last() != Some(&rec.state) {
                    seen.push(rec.state.clone());
                }
                if rec.is_final() {
                    return (rec, seen);
                }
            }
            Err(e) if e.code() == ErrorCode::NotFound => {}
            Err(e) => panic!("poll failed: {e:?}"),
        }
        assert!(start.elapsed() < Duration::from_secs(10), "task never finished");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_veo_create_sends_the_flat_body_and_is_polled_to_success() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_for(&sim);
    let spec = veo_spec();
    let given = json!({"prompt": "a paper crane takes flight", "aspect_ratio": "16:9", "duration": 8});
    let task_id = client.create_task(spec, &input(given), Some("https://cb.example/veo")).await.unwrap();

    // Exactly the flat body: the model and callBackUrl beside the validated input (with its
    // defaults filled in), and no `input` wrapper.
    let normalized = kie::validate::validate(
        spec,
        &input(json!({
            "prompt": "a paper crane takes flight", "aspect_ratio": "16:9", "duration": 8
        })),
    )
    .unwrap();
    let mut want = normalized.clone();
    want.insert("model".into(), json!(spec.id));
    want.insert("callBackUrl".into(), json!("https://cb.example/veo"));
    let stored = sim.task(&task_id).expect("the simulator has the task");
    let param: Value = serde_json::from_str(stored["paramJson"].as_str().expect("paramJson is a JSON string")).unwrap();
    assert_eq!(param, Value::Object(want), "the body as sent");
    assert!(param.get("input").is_none());

    let (rec, seen) = wait_final(&client, &task_id).await;
    assert_eq!(seen.first(), Some(&TaskState::Generating), "successFlag 0 first: {seen:?}");
    assert_eq!(rec.state, TaskState::Success);
    assert_eq!(rec.task_id.as_deref(), Some(task_id.as_str()));
    assert!(rec.create_time.is_some() && rec.complete_time.is_some(), "{rec:?}");
    let p = rec.param.as_ref().unwrap();
    assert_eq!(p.model.as_deref(), Some(spec.id.as_str()));
    assert_eq!(Value::Object(p.input.clone()), Value::Object(normalized));
    let result = rec.result.unwrap();
    assert_eq!(result.result_urls.len(), 1, "{result:?}");

    // Results download like any other.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("veo.mp4.partial");
    let mut file = tokio::fs::File::create(&path).await.unwrap();
    client.fetch_to(&result.result_urls[0], &mut file, 0, None).await.unwrap();
    drop(file);
    assert_eq!(MediaKind::sniff(&std::fs::read(&path).unwrap()), Some(MediaKind::Mp4));
    let s = sim.stats();
    assert_eq!((s.creates_received, s.tasks_created), (1, 1));
    // A final record frees the running slot, as for jobs.
    assert_eq!(client.running_tasks(), 0);
}

#[tokio::test]
async fn a_veo_failure_and_an_upstream_failure_both_fail() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_for(&sim);
    let spec = veo_spec();
    let prompt = || input(json!({"prompt": "a storm over the sea"}));

    sim.push_fault(FaultRule::new(
        Endpoint::Create,
        Fault::FailGeneration { code: "400".into(), msg: "Your prompt was flagged".into() },
    ));
    let failed = client.create_task(spec, &prompt(), None).await.unwrap();
    let (rec, _) = wait_final(&client, &failed).await;
    assert_eq!(sim.task(&failed).unwrap()["successFlag"], 2);
    assert_eq!(rec.state, TaskState::Fail);
    assert_eq!(rec.fail_code.as_deref(), Some("400"));
    assert_eq!(rec.fail_msg.as_deref(), Some("Your prompt was flagged"));

    sim.push_fault(FaultRule::new(
        Endpoint::Create,
        Fault::FailUpstream { code: "501".into(), msg: "generation failed upstream".into() },
    ));
    let upstream = client.create_task(spec, &prompt(), None).await.unwrap();
    let (rec, _) = wait_final(&client, &upstream).await;
    assert_eq!(sim.task(&upstream).unwrap()["successFlag"], 3);
    assert_eq!(rec.state, TaskState::Fail);
    assert_eq!(rec.fail_code.as_deref(), Some("501"));
    assert_eq!(rec.fail_msg.as_deref(), Some("generation failed upstream"));

    // No 1080p copy of a failed video.
    let hd = client.get_1080p_video(&upstream, 0).await.unwrap();
    assert!(matches!(hd, HdVideo::Processing { .. }), "{hd:?}");
}

#[tokio::test]
async fn veo_creates_follow_the_same_rules_as_jobs() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_for(&sim);
    let spec = veo_spec();
    let prompt = || input(json!({"prompt": "waves at dusk"}));

    // Local validation: nothing is sent.
    let err = client.create_task(spec, &Map::new(), None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert_eq!(sim.stats().creates_received, 0);

    // Kie's rejection is not retried.
    let err = client.send_create(Protocol::Veo, spec.id.as_str(), &Map::new(), None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidRequest);
    assert_eq!(sim.stats().creates_received, 1);

    // Rate limited: Kie said it did not take it, so it is sent again.
    sim.push_fault(FaultRule::new(
        Endpoint::Create,
        Fault::RateLimited { retry_after_secs: None, retry_after_date: false },
    ));
    client.create_task(spec, &prompt(), None).await.unwrap();
    let s = sim.stats();
    assert_eq!((s.creates_received, s.tasks_created), (3, 1));

    // A lost answer: the outcome is unknown, and it is never sent again.
    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::LoseResponse));
    let err = client.create_task(spec, &prompt(), None).await.unwrap_err();
    assert!(matches!(err, KieError::OutcomeUnknown { .. }), "{err:?}");
    let s = sim.stats();
    assert_eq!((s.creates_received, s.tasks_created), (4, 2), "sent once, created (and charged) once");

    // A 5xx: the same.
    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::HttpStatus { status: 502 }));
    let err = client.create_task(spec, &prompt(), None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::OutcomeUnknown);
    assert_eq!(sim.stats().creates_received, 5);
}

#[tokio::test]
async fn veo_records_are_not_visible_at_once_and_polls_retry() {
    let sim = Sim::start(SimConfig { invisible_ms: 300, ..sim_config() }).await.unwrap();
    let client = client_for(&sim);
    let task_id = client.create_task(veo_spec(), &input(json!({"prompt": "a fox"})), None).await.unwrap();
    let early = client.record_info(Protocol::Veo, &task_id).await.unwrap_err();
    assert_eq!(early.code(), ErrorCode::NotFound, "{early:?}");
    // Transient faults on a query are retried inside the call.
    sim.push_fault(FaultRule::new(Endpoint::RecordInfo, Fault::MalformedJson).times(2));
    tokio::time::sleep(Duration::from_millis(350)).await;
    let rec = client.record_info(Protocol::Veo, &task_id).await.unwrap();
    assert_ne!(rec.state, TaskState::Other(String::new()), "{rec:?}");
    // The jobs endpoint does not know a Veo task.
    let err = client.record_info(Protocol::Jobs, &task_id).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
}

#[tokio::test]
async fn the_1080p_copy_is_processing_then_ready() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_for(&sim);
    let task_id = client.create_task(veo_spec(), &input(json!({"prompt": "a lighthouse"})), None).await.unwrap();

    // Before success: "record status is not success", read as not ready yet.
    let early = client.get_1080p_video(&task_id, 0).await.unwrap();
    assert!(matches!(&early, HdVideo::Processing { .. }), "{early:?}");
    let (rec, _) = wait_final(&client, &task_id).await;
    assert_eq!(rec.state, TaskState::Success);

    // The first asks start it; Kie says it is processing for a while.
    let HdVideo::Processing { message } = client.get_1080p_video(&task_id, 0).await.unwrap() else {
        panic!("ready at once")
    };
    assert!(message.to_ascii_lowercase().contains("processing"), "{message}");
    // Transient faults are retried inside the call.
    sim.push_fault(FaultRule::new(Endpoint::VeoHd, Fault::HttpStatus { status: 503 }));
    let start = Instant::now();
    let url = loop {
        match client.get_1080p_video(&task_id, 0).await.unwrap() {
            HdVideo::Ready { url } => break url,
            HdVideo::Processing { .. } => {}
        }
        assert!(start.elapsed() < Duration::from_secs(5), "never ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(sim.stats().hd_queries >= 3);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hd.mp4.partial");
    let mut file = tokio::fs::File::create(&path).await.unwrap();
    let fetched = client.fetch_to(&url, &mut file, 0, None).await.unwrap();
    drop(file);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(fetched.total, bytes.len() as u64);
    assert_eq!(MediaKind::sniff(&bytes), Some(MediaKind::Mp4));

    // An unknown task is an error at once, not "processing".
    let err = client.get_1080p_video("no-such-task", 0).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::NotFound);
    // A refused key is said so.
    let mut cfg = client.config().clone();
    cfg.key = ApiKey::new("wrong-key-123456").unwrap();
    let err = KieClient::new(cfg).unwrap().get_1080p_video(&task_id, 0).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Unauthorized);
}
