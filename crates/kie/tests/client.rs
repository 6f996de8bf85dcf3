//! The client against the local simulator: every error code of the contract, every fault,
//! retries, limits, and proof (the simulator's counts) that a create whose outcome is
//! unknown is sent exactly once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kie::catalogue::Catalogue;
use kie::client::{ClientConfig, KieClient};
use kie::limits::LimitsConfig;
use kie::protocol::Protocol;
use kie::retry::RetryPolicy;
use kie::{ApiKey, ErrorCode, KieError, TaskRecord, TaskState};
use kie_sim::{Endpoint, Fault, FaultRule, Sim, SimConfig};
use serde_json::{json, Map, Value};

const KEY: &str = "test-key-0001";

fn sim_config() -> SimConfig {
    SimConfig { key: KEY.into(), gen_ms: 150, invisible_ms: 60, ..SimConfig::default() }
}

fn client_for(sim: &Sim) -> KieClient {
    client_with(sim, |_| {})
}

fn client_with(sim: &Sim, tweak: impl FnOnce(&mut ClientConfig)) -> KieClient {
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
    tweak(&mut cfg);
    KieClient::new(cfg).unwrap()
}

fn input(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn t2v() -> &'static kie::catalogue::ModelSpec {
    Catalogue::builtin().model("sora-2-text-to-video").unwrap()
}

async fn create(client: &KieClient) -> Result<String, KieError> {
    client.create_task(t2v(), &input(json!({"prompt": "a red fox in the snow"})), None).await
}

/// Poll as the app will: tolerate the not-yet-visible window, stop at a final state.
async fn wait_final(client: &KieClient, task_id: &str) -> TaskRecord {
    let start = Instant::now();
    loop {
        match client.record_info(Protocol::Jobs, task_id).await {
            Ok(rec) if rec.is_final() => return rec,
            Ok(_) => {}
            Err(e) if e.code() == ErrorCode::NotFound => {}
            Err(e) => panic!("poll failed: {e:?}"),
        }
        assert!(start.elapsed() < Duration::from_secs(10), "task never finished");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn text_to_video_end_to_end() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_for(&sim);
    let before = client.credits().await.unwrap();
    let task_id = create(&client).await.unwrap();
    // Right after the create the record is not there yet.
    let early = client.record_info(Protocol::Jobs, &task_id).await.unwrap_err();
    assert_eq!(early.code(), ErrorCode::NotFound);
    let rec = wait_final(&client, &task_id).await;
    assert_eq!(rec.state, TaskState::Success);
    assert_eq!(rec.task_id.as_deref(), Some(task_id.as_str()));
    assert_eq!(rec.param.as_ref().unwrap().input["prompt"], "a red fox in the snow");
    // Defaults were filled in by validation before sending.
    assert_eq!(rec.param.as_ref().unwrap().input["n_frames"], "10");
    let spent = rec.credits_consumed.unwrap();
    assert!(spent > 0.0);
    let after = client.credits().await.unwrap();
    assert!((before - after - spent).abs() < 1e-9, "balance {before} -> {after}, spent {spent}");

    let result = rec.result.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("video.mp4.partial");
    let mut file = tokio::fs::File::create(&path).await.unwrap();
    let fetched = client.fetch_to(&result.result_urls[0], &mut file, 0, None).await.unwrap();
    drop(file);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(fetched.total, bytes.len() as u64);
    assert_eq!(kie::media::MediaKind::sniff(&bytes), Some(kie::media::MediaKind::Mp4));
    assert!(result.first_frame_url.is_some());
    let s = sim.stats();
    assert_eq!((s.creates_received, s.tasks_created), (1, 1));
}

#[tokio::test]
async fn local_validation_sends_nothing() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_for(&sim);
    let err = client.create_task(t2v(), &input(json!({"prompt": "", "n_frames": "20"})), None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    let KieError::InvalidInput(problems) = &err else { panic!() };
    assert!(problems.len() >= 2, "all problems at once: {problems:?}");
    assert!(problems.iter().any(|p| p.field == "prompt"));
    assert!(problems.iter().any(|p| p.field == "n_frames"));
    assert_eq!(sim.stats().creates_received, 0);
}

#[tokio::test]
async fn server_side_validation_is_not_retried() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_for(&sim);
    let err = client
        .send_create(Protocol::Jobs, "sora-2-text-to-video", &input(json!({"n_frames": "10"})), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidRequest);
    assert!(err.failure().unwrap().message.contains("prompt"), "{err:?}");
    let err =
        client.send_create(Protocol::Jobs, "sora-3-imaginary", &input(json!({"prompt": "x"})), None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidRequest);
    assert!(err.failure().unwrap().message.contains("not supported"));
    assert_eq!(sim.stats().creates_received, 2);
    assert_eq!(sim.stats().tasks_created, 0);
}

#[tokio::test]
async fn wrong_key_inside_http_200_and_as_status() {
    for http_status_errors in [false, true] {
        let sim = Sim::start(SimConfig { http_status_errors, ..sim_config() }).await.unwrap();
        let client = client_with(&sim, |c| c.key = ApiKey::new("wrong-key-9999").unwrap());
        let err = client.credits().await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Unauthorized);
        assert_eq!(err.failure().unwrap().http_status, Some(if http_status_errors { 401 } else { 200 }));
        assert_eq!(err.failure().unwrap().kie_code, Some(401));
        let err = create(&client).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Unauthorized);
        // Not retried: one request each.
        assert_eq!(sim.stats().credit_queries, 1);
        assert_eq!(sim.stats().creates_received, 1);
        // The key never shows up in what we print.
        assert!(!format!("{err:?} {err}").contains("wrong-key-9999"));
    }
}

#[tokio::test]
async fn insufficient_credits() {
    let sim = Sim::start(sim_config()).await.unwrap();
    sim.set_credits(5.0);
    let client = client_for(&sim);
    let err = create(&client).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InsufficientCredits);
    assert_eq!(sim.stats().tasks_created, 0);
    assert_eq!(client.credits().await.unwrap(), 5.0);
}

#[tokio::test]
async fn every_error_code_of_the_contract() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_with(&sim, |c| c.retry = RetryPolicy::none());
    let cases: &[(i64, ErrorCode)] = &[
        (400, ErrorCode::InvalidRequest),
        (401, ErrorCode::Unauthorized),
        (402, ErrorCode::InsufficientCredits),
        (404, ErrorCode::NotFound),
        (408, ErrorCode::UpstreamTimeout),
        (422, ErrorCode::InvalidRequest),
        (429, ErrorCode::RateLimited),
        (433, ErrorCode::RateLimited),
        (455, ErrorCode::Unavailable),
        (500, ErrorCode::ServerError),
        (501, ErrorCode::GenerationFailed),
        (505, ErrorCode::FeatureDisabled),
        (1001, ErrorCode::InvalidRequest),
        (1002, ErrorCode::InsufficientCredits),
        (1003, ErrorCode::Unavailable),
        (1004, ErrorCode::InvalidRequest),
    ];
    for (code, want) in cases {
        sim.push_fault(FaultRule::new(Endpoint::Credit, Fault::Code { code: *code, msg: format!("code {code} here") }));
        let err = client.credits().await.unwrap_err();
        assert_eq!(err.code(), *want, "code {code}");
        let f = err.failure().unwrap();
        assert_eq!(f.kie_code, Some(*code));
        assert_eq!(f.http_status, Some(200));
        assert_eq!(f.message, format!("code {code} here"));
        assert!(f.body.contains(&format!("code {code} here")));
    }
    // The same codes as real HTTP statuses.
    for status in [400u16, 401, 402, 404, 422, 500, 502, 505] {
        sim.push_fault(FaultRule::new(Endpoint::Credit, Fault::HttpStatus { status }));
        let err = client.credits().await.unwrap_err();
        assert_eq!(err.failure().unwrap().http_status, Some(status), "{err:?}");
        assert_ne!(err.code(), ErrorCode::UnexpectedResponse);
    }
}

#[tokio::test]
async fn reads_are_retried_through_transient_faults() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_for(&sim);
    let task_id = create(&client).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for fault in [
        Fault::HttpStatus { status: 502 },
        Fault::Maintenance,
        Fault::MalformedJson,
        Fault::RateLimited { retry_after_secs: Some(0), retry_after_date: false },
        Fault::Slow { ms: 1500 },
        Fault::ResetBody { after_bytes: 5 },
    ] {
        let queries = sim.stats().record_queries;
        sim.push_fault(FaultRule::new(Endpoint::RecordInfo, fault.clone()).times(2));
        let rec = client.record_info(Protocol::Jobs, &task_id).await.unwrap_or_else(|e| panic!("{fault:?}: {e:?}"));
        assert_eq!(rec.task_id.as_deref(), Some(task_id.as_str()));
        assert_eq!(sim.stats().record_queries - queries, 3, "{fault:?}: two failures, then success");
    }
    sim.push_fault(FaultRule::new(Endpoint::Credit, Fault::Maintenance));
    client.credits().await.unwrap();
    // A fault that outlasts the attempts comes back as the error it is.
    sim.push_fault(FaultRule::new(Endpoint::Credit, Fault::HttpStatus { status: 503 }).times(10));
    let err = client.credits().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ServerError);
    sim.clear_faults();
}

#[tokio::test]
async fn create_retried_on_429_and_455_honouring_retry_after() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_for(&sim);
    sim.push_fault(FaultRule::new(
        Endpoint::Create,
        Fault::RateLimited { retry_after_secs: Some(1), retry_after_date: false },
    ));
    let start = Instant::now();
    create(&client).await.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(900), "Retry-After was not honoured");
    assert_eq!((sim.stats().creates_received, sim.stats().tasks_created), (2, 1));

    sim.push_fault(FaultRule::new(
        Endpoint::Create,
        Fault::RateLimited { retry_after_secs: Some(1), retry_after_date: true },
    ));
    create(&client).await.unwrap();
    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::Maintenance));
    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::Code { code: 433, msg: "slow down".into() }));
    create(&client).await.unwrap();
    let s = sim.stats();
    // 429 then success, 429 (date) then success, 455 then 433 then success.
    assert_eq!((s.creates_received, s.tasks_created), (7, 3));
}

/// The heart of "nothing paid for is lost, nothing paid for twice".
#[tokio::test]
async fn create_with_unknown_outcome_is_sent_exactly_once() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_for(&sim);
    let cases: Vec<(Fault, bool)> = vec![
        // (fault, whether the simulator processed the create)
        (Fault::LoseResponse, true),
        (Fault::Slow { ms: 1500 }, true),
        (Fault::HttpStatus { status: 500 }, false),
        (Fault::HttpStatus { status: 502 }, false),
        (Fault::Code { code: 500, msg: "Internal server error".into() }, false),
        (Fault::MalformedJson, false),
    ];
    for (fault, processed) in cases {
        let before = sim.stats();
        sim.push_fault(FaultRule::new(Endpoint::Create, fault.clone()).times(5));
        let err = create(&client).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::OutcomeUnknown, "{fault:?}: {err:?}");
        let after = sim.stats();
        assert_eq!(after.creates_received - before.creates_received, 1, "{fault:?} was sent again");
        assert_eq!(after.tasks_created - before.tasks_created, u64::from(processed), "{fault:?}");
        sim.clear_faults();
    }
}

#[tokio::test]
async fn paused_model_is_said_plainly_and_not_retried() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_for(&sim);
    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::Paused).times(3));
    let err = create(&client).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::ModelPaused);
    assert!(err.to_string().contains("paused"));
    assert_eq!(sim.stats().creates_received, 1);
}

#[tokio::test]
async fn no_server_means_never_sent_and_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut cfg = ClientConfig::new(ApiKey::new(KEY).unwrap());
    cfg.api_base = format!("http://127.0.0.1:{port}");
    cfg.retry = RetryPolicy {
        max_attempts: 3,
        base: Duration::from_millis(5),
        cap: Duration::from_millis(10),
        ..Default::default()
    };
    let client = KieClient::new(cfg).unwrap();
    let err = create(&client).await.unwrap_err();
    assert!(matches!(err, KieError::Connection { never_sent: true, .. }), "{err:?}");
    let err = client.credits().await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Connection);
}

#[tokio::test]
async fn failed_generation_is_refunded() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_for(&sim);
    let before = client.credits().await.unwrap();
    sim.push_fault(FaultRule::new(
        Endpoint::Create,
        Fault::FailGeneration { code: "500".into(), msg: "Content flagged".into() },
    ));
    let task_id = create(&client).await.unwrap();
    let rec = wait_final(&client, &task_id).await;
    assert_eq!(rec.state, TaskState::Fail);
    assert_eq!(rec.fail_msg.as_deref(), Some("Content flagged"));
    assert_eq!(rec.credits_consumed.unwrap_or(0.0), 0.0);
    assert_eq!(client.credits().await.unwrap(), before);
    assert_eq!(client.running_tasks(), 0, "a final record frees its running slot");
}

#[tokio::test]
async fn expired_link_is_renewed() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_for(&sim);
    let task_id = create(&client).await.unwrap();
    let url = wait_final(&client, &task_id).await.result.unwrap().result_urls[0].clone();
    sim.expire_links();
    let dir = tempfile::tempdir().unwrap();
    let mut file = tokio::fs::File::create(dir.path().join("v.partial")).await.unwrap();
    let err = client.fetch_to(&url, &mut file, 0, None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::LinkExpired);
    let fresh = client.download_url(&url).await.unwrap();
    assert_ne!(fresh, url);
    client.fetch_to(&fresh, &mut file, 0, None).await.unwrap();
    // The ExpiredLink fault, and a URL Kie never made.
    sim.push_fault(FaultRule::new(Endpoint::File, Fault::ExpiredLink));
    assert_eq!(client.fetch_to(&fresh, &mut file, 0, None).await.unwrap_err().code(), ErrorCode::LinkExpired);
    let err = client.download_url("https://example.com/not-kie.mp4").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidRequest);
}

#[tokio::test]
async fn truncated_and_reset_downloads_resume_with_range() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_for(&sim);
    let url = format!("{}/files/synthetic/300000.mp4", sim.base_url());
    let dir = tempfile::tempdir().unwrap();
    for fault in [Fault::TruncateBody { after_bytes: 100_000 }, Fault::ResetBody { after_bytes: 120_000 }] {
        let path = dir.path().join("big.partial");
        let mut file = tokio::fs::File::create(&path).await.unwrap();
        sim.push_fault(FaultRule::new(Endpoint::File, fault.clone()));
        let err = client.fetch_to(&url, &mut file, 0, None).await.unwrap_err();
        assert!(err.is_transient(), "{fault:?}: {err:?}");
        let have = std::fs::metadata(&path).unwrap().len();
        assert!(have > 0 && have < 300_000, "{fault:?}: {have}");
        let seen = Arc::new(AtomicU64::new(0));
        let seen2 = seen.clone();
        let progress: kie::client::Progress = Arc::new(move |done, total| {
            assert_eq!(total, Some(300_000));
            seen2.store(done, Ordering::SeqCst);
        });
        let fetched = client.fetch_to(&url, &mut file, have, Some(progress)).await.unwrap();
        assert!(fetched.resumed, "{fault:?}: the server supports Range");
        assert_eq!(fetched.total, 300_000);
        assert_eq!(seen.load(Ordering::SeqCst), 300_000);
        drop(file);
        // Resumed bytes are the same as a clean download.
        let resumed = std::fs::read(&path).unwrap();
        let clean_path = dir.path().join("clean");
        let mut clean = tokio::fs::File::create(&clean_path).await.unwrap();
        client.fetch_to(&url, &mut clean, 0, None).await.unwrap();
        drop(clean);
        assert!(resumed == std::fs::read(&clean_path).unwrap(), "{fault:?}: resumed file differs");
    }
}

#[tokio::test]
async fn upload_names_the_file_by_its_real_format() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_for(&sim);
    let dir = tempfile::tempdir().unwrap();
    // A PNG saved with a misleading name.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";
    let path = dir.path().join("holiday photo.dat");
    std::fs::write(&path, png).unwrap();
    let seen = Arc::new(AtomicU64::new(0));
    let seen2 = seen.clone();
    let progress: kie::client::Progress = Arc::new(move |done, _| seen2.store(done, Ordering::SeqCst));
    let up = client.upload_file(&path, "kie-studio/images", Some(progress)).await.unwrap();
    assert!(up.file_name.ends_with(".png"), "{up:?}");
    assert!(up.download_url.ends_with(".png"), "{up:?}");
    assert_eq!(seen.load(Ordering::SeqCst), png.len() as u64);
    let resp = reqwest::get(&up.download_url).await.unwrap();
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), png);

    // Image-to-video with the uploaded URL goes through.
    let i2v = Catalogue::builtin().model("sora-2-image-to-video").unwrap();
    let task = client
        .create_task(i2v, &input(json!({"prompt": "make it move", "image_urls": [up.download_url]})), None)
        .await
        .unwrap();
    assert_eq!(wait_final(&client, &task).await.state, TaskState::Success);

    // Not an image: refused before anything is sent.
    let txt = dir.path().join("notes.png");
    std::fs::write(&txt, "hello").unwrap();
    let err = client.upload_file(&txt, "x", None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::File);
    assert_eq!(sim.stats().uploads, 1);
}

#[tokio::test]
async fn every_model_runs_against_the_simulator() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_for(&sim);
    let cat = Catalogue::builtin();
    let image = "https://images.example.com/cat.png";
    let origin = create(&client).await.unwrap();
    wait_final(&client, &origin).await;
    let cases = vec![
        ("sora-2-text-to-video", json!({"prompt": "p", "aspect_ratio": "portrait", "n_frames": "15"})),
        ("sora-2-image-to-video", json!({"prompt": "p", "image_urls": [image]})),
        ("sora-2-pro-text-to-video", json!({"prompt": "p", "size": "high"})),
        ("sora-2-pro-image-to-video", json!({"prompt": "p", "image_urls": [image], "size": "standard"})),
        (
            "sora-2-pro-storyboard",
            json!({"n_frames": "15", "shots": [{"Scene": "a", "duration": 7.5}, {"Scene": "b", "duration": 7.5}]}),
        ),
        ("sora-watermark-remover", json!({"video_url": "https://sora.chatgpt.com/p/s_0123456789abcdef"})),
        (
            "sora-2-characters-pro",
            json!({"origin_task_id": origin, "character_prompt": "a friendly fox", "character_user_name": "foxy", "timestamps": "0,2"}),
        ),
    ];
    for (model, inp) in cases {
        let spec = cat.model(model).unwrap();
        let task = client.create_task(spec, &input(inp), None).await.unwrap_or_else(|e| panic!("{model}: {e:?}"));
        let rec = wait_final(&client, &task).await;
        assert_eq!(rec.state, TaskState::Success, "{model}");
        let result = rec.result.unwrap();
        if model == "sora-2-characters-pro" {
            let ch = result.character().expect("a character");
            assert!(!ch.character_id.is_empty());
        } else {
            assert!(!result.result_urls.is_empty(), "{model}");
        }
    }
}

#[tokio::test]
async fn running_limit_holds_creates_until_a_task_finishes() {
    let sim = Sim::start(SimConfig { gen_ms: 300, ..sim_config() }).await.unwrap();
    let client = client_with(&sim, |c| c.limits.max_running = 2);
    let a = create(&client).await.unwrap();
    create(&client).await.unwrap();
    let c2 = client.clone();
    let third = tokio::spawn(async move { create(&c2).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!third.is_finished(), "a third create went out while two were running");
    assert_eq!(sim.stats().creates_received, 2);
    wait_final(&client, &a).await;
    let c = tokio::time::timeout(Duration::from_secs(5), third).await.expect("freed slot unblocks").unwrap();
    c.unwrap();
    assert_eq!(sim.stats().creates_received, 3);
}

#[tokio::test]
async fn create_window_keeps_us_under_kies_limit() {
    // The simulator allows 3 per second; the client is set to the same: no 429 is ever seen.
    let sim =
        Sim::start(SimConfig { create_limit: 3, create_window: Duration::from_secs(1), ..sim_config() }).await.unwrap();
    let client = client_with(&sim, |c| {
        // A little wider than the simulator's window, as network jitter would demand.
        c.limits = LimitsConfig {
            creates_per_window: 3,
            window: Duration::from_millis(1200),
            min_spacing: Duration::ZERO,
            max_running: 100,
            ..LimitsConfig::default()
        };
        c.retry = RetryPolicy::none();
    });
    for _ in 0..5 {
        create(&client).await.unwrap();
    }
    let s = sim.stats();
    assert_eq!((s.creates_received, s.tasks_created), (5, 5));
    // Without the client limit the simulator does say 429.
    let unlimited = client_with(&sim, |c| {
        c.limits.creates_per_window = 1000;
        c.limits.max_running = 1000;
        c.retry = RetryPolicy::none();
    });
    let mut limited = None;
    for _ in 0..5 {
        if let Err(e) = create(&unlimited).await {
            limited = Some(e);
            break;
        }
    }
    let e = limited.expect("the simulator enforces its limit");
    assert_eq!(e.code(), ErrorCode::RateLimited);
    assert!(e.retry_after().is_some());
}

/// The simulator signs callbacks independently of the client's code; the client's
/// `verify` and `parse_callback` must accept them, and refuse a tampered one.
#[tokio::test]
async fn signed_callbacks_verify_with_the_client() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cb_url = format!("http://{}/cb", listener.local_addr().unwrap());
    let sim = Sim::start(sim_config()).await.unwrap();
    let client = client_for(&sim);
    let task_id = client.create_task(t2v(), &input(json!({"prompt": "p"})), Some(&cb_url)).await.unwrap();
    let (mut sock, _) = tokio::time::timeout(Duration::from_secs(10), listener.accept()).await.unwrap().unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    // Read headers and the announced body.
    loop {
        let n = sock.read(&mut buf).await.unwrap();
        raw.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&raw).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len: usize = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .unwrap_or(0);
            if body.len() >= len {
                break;
            }
        }
        assert!(n > 0, "connection closed early");
    }
    sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_else(|| panic!("no {name} header"))
    };
    let ts: i64 = header(kie::callback::TIMESTAMP_HEADER).parse().unwrap();
    let sig = header(kie::callback::SIGNATURE_HEADER);
    let (code, rec) = kie::record::parse_callback(body).unwrap();
    assert_eq!(code, 200);
    assert_eq!(rec.task_id.as_deref(), Some(task_id.as_str()));
    assert_eq!(rec.state, TaskState::Success);
    let key = ApiKey::new(KEY).unwrap();
    assert!(kie::callback::verify(&key, &task_id, ts, &sig, ts, 300));
    assert!(!kie::callback::verify(&key, "another-task", ts, &sig, ts, 300));
    assert!(!kie::callback::verify(&ApiKey::new("other").unwrap(), &task_id, ts, &sig, ts, 300));
}
