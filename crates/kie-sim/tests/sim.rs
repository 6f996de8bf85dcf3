//! The simulator seen from outside, with plain reqwest (not the kie client).

use std::time::{Duration, Instant};

use base64::Engine;
use hmac::{Hmac, Mac};
use kie_sim::{Endpoint, Fault, FaultRule, Sim, SimConfig};
use serde_json::{json, Value};
use sha2::Sha256;

const KEY: &str = "sim-key";
const LANDSCAPE_MP4: &[u8] = include_bytes!("../assets/landscape.mp4");
const PORTRAIT_MP4: &[u8] = include_bytes!("../assets/portrait.mp4");
const PORTRAIT_JPG: &[u8] = include_bytes!("../assets/portrait.jpg");

fn fast() -> SimConfig {
    SimConfig { gen_ms: 60, invisible_ms: 20, ..SimConfig::default() }
}

fn t2v() -> Value {
    json!({"model": "sora-2-text-to-video", "input": {"prompt": "a cat on a skateboard"}})
}

struct H {
    sim: Sim,
    http: reqwest::Client,
}

impl H {
    async fn new(cfg: SimConfig) -> H {
        let sim = Sim::start(cfg).await.expect("sim starts");
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
        H { sim, http }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self.http.post(self.url(path)).bearer_auth(KEY).json(&body).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(self.url(path)).bearer_auth(KEY).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    async fn create(&self, body: Value) -> String {
        let (status, v) = self.post("/api/v1/jobs/createTask", body).await;
        assert_eq!((status, &v["code"]), (200, &json!(200)), "{v}");
        v["data"]["taskId"].as_str().unwrap().to_string()
    }

    async fn record(&self, id: &str) -> Value {
        self.get(&format!("/api/v1/jobs/recordInfo?taskId={id}")).await.1
    }

    async fn wait_final(&self, id: &str) -> Value {
        let start = Instant::now();
        loop {
            let v = self.record(id).await;
            if v["code"] == 200 && matches!(v["data"]["state"].as_str(), Some("success" | "fail")) {
                return v["data"].clone();
            }
            assert!(start.elapsed() < Duration::from_secs(5), "task never finished: {v}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn credits(&self) -> f64 {
        let (_, v) = self.get("/api/v1/chat/credit").await;
        assert_eq!(v["code"], 200);
        v["data"].as_f64().unwrap()
    }
}

fn result(rec: &Value) -> Value {
    serde_json::from_str(rec["resultJson"].as_str().expect("resultJson is a string")).unwrap()
}

/// Reads a body chunk by chunk: (bytes received, whether the stream failed).
async fn drain(mut r: reqwest::Response) -> (Vec<u8>, bool) {
    let mut got = Vec::new();
    loop {
        match r.chunk().await {
            Ok(Some(c)) => got.extend_from_slice(&c),
            Ok(None) => return (got, false),
            Err(_) => return (got, true),
        }
    }
}

// ---- envelopes and lifecycle ------------------------------------------------------------------

#[tokio::test]
async fn every_envelope_uses_msg() {
    let h = H::new(fast()).await;
    let (status, v) = h.post("/api/v1/jobs/createTask", t2v()).await;
    assert_eq!(status, 200);
    assert_eq!(v["msg"], "success");
    assert!(v.get("message").is_none(), "{v}");
    let id = v["data"]["taskId"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));

    let (_, v) = h.get("/api/v1/chat/credit").await;
    assert_eq!(v["msg"], "success");
    assert!(v.get("message").is_none());
    let v = h.record(id).await;
    assert_eq!(v["msg"], "recordInfo is null", "not visible yet");
    // createTask's errors carry their text in `msg` too, as Kie's do.
    let (_, v) = h.post("/api/v1/jobs/createTask", json!({"model": "sora-3", "input": {}})).await;
    assert_eq!(v["code"], 422);
    assert_eq!(v["msg"], "The model name you specified is not supported");
    assert!(v.get("message").is_none(), "{v}");
    let (_, v) = h.post("/api/v1/jobs/createTask", json!({"model": "sora-2-text-to-video", "input": {}})).await;
    assert_eq!(v["msg"], "input.prompt is required");
    let (_, v) = h.post("/api/v1/veo/generate", json!({"model": "veo3"})).await;
    assert_eq!((v["code"].as_i64(), v["msg"].as_str()), (Some(422), Some("prompt is required")));
    let r = h.http.post(h.url("/api/v1/jobs/createTask")).json(&t2v()).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["code"].as_i64(), v["msg"].as_str()), (Some(401), Some("You do not have access permissions")));
    h.sim.set_credits(0.0);
    let (_, v) = h.post("/api/v1/jobs/createTask", t2v()).await;
    assert_eq!((v["code"].as_i64(), v["msg"].as_str()), (Some(402), Some("Credits insufficient")));
    h.sim.shutdown().await;

    // The create limit's 429 too.
    let h = H::new(SimConfig { create_limit: 1, ..fast() }).await;
    h.create(t2v()).await;
    let (status, v) = h.post("/api/v1/jobs/createTask", t2v()).await;
    assert_eq!((status, v["code"].as_i64()), (429, Some(429)));
    assert!(v["msg"].as_str().unwrap().contains("Rate limited"), "{v}");
    assert!(v.get("message").is_none());
    h.sim.shutdown().await;
}

#[tokio::test]
async fn invisible_window_then_states_then_success() {
    let h = H::new(SimConfig { gen_ms: 600, invisible_ms: 150, ..SimConfig::default() }).await;
    let request = json!({"model": "sora-2-text-to-video", "input": {"prompt": "waves", "aspect_ratio": "landscape", "n_frames": "10"}});
    let id = h.create(request.clone()).await;

    let r = h.http.get(h.url(&format!("/api/v1/jobs/recordInfo?taskId={id}"))).bearer_auth(KEY).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["code"].as_i64(), v["msg"].as_str()), (Some(422), Some("recordInfo is null")));
    assert!(h.sim.task(&id).is_some(), "the handle sees the task even while invisible");

    let order = ["waiting", "queuing", "generating", "success"];
    let mut seen: Vec<String> = Vec::new();
    let start = Instant::now();
    let done = loop {
        let v = h.record(&id).await;
        if v["code"] == 200 {
            let d = &v["data"];
            let state = d["state"].as_str().unwrap().to_string();
            if seen.last() != Some(&state) {
                seen.push(state.clone());
            }
            if state == "success" {
                break d.clone();
            }
            assert!(d["resultJson"].is_null() && d["failCode"].is_null() && d["completeTime"].is_null(), "{d}");
            let p = d["progress"].as_i64().unwrap();
            if state == "generating" {
                assert!((1..=99).contains(&p), "{p}");
            } else {
                assert_eq!(p, 0);
            }
        } else {
            assert_eq!(v["code"], 422);
        }
        assert!(start.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(8)).await;
    };
    let idx: Vec<usize> = seen.iter().map(|s| order.iter().position(|o| o == s).unwrap()).collect();
    assert!(idx.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert!(seen.contains(&"generating".to_string()), "{seen:?}");

    assert_eq!(done["taskId"], id.as_str());
    assert_eq!(done["model"], "sora-2-text-to-video");
    let param: Value = serde_json::from_str(done["param"].as_str().expect("param is a string")).unwrap();
    assert_eq!(param, request);
    assert_eq!(done["failCode"], "");
    assert_eq!(done["progress"], 100);
    assert!(done["creditsConsumed"].is_f64());
    assert_eq!(done["creditsConsumed"].as_f64(), Some(30.0));
    assert_eq!(done["costTime"], 600);
    let (create, complete) = (done["createTime"].as_u64().unwrap(), done["completeTime"].as_u64().unwrap());
    assert_eq!(complete - create, 600);
    let res = result(&done);
    let video = res["resultUrls"][0].as_str().unwrap();
    assert!(video.starts_with(&h.sim.base_url()) && video.contains(&id), "{video}");
    assert!(res["resultWaterMarkUrls"][0].is_string());
    assert!(res["firstFrameUrl"].is_string());
    // The result is the bundled landscape clip, served to a plain GET without the key.
    let r = h.http.get(video).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "video/mp4");
    assert_eq!(r.headers()["accept-ranges"], "bytes");
    assert_eq!(&r.bytes().await.unwrap()[..], LANDSCAPE_MP4);
    assert_eq!(h.sim.task(&id).unwrap(), done);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn portrait_results_and_first_frame() {
    let h = H::new(fast()).await;
    let id = h
        .create(json!({"model": "sora-2-pro-image-to-video", "input": {
            "prompt": "x", "aspect_ratio": "portrait", "image_urls": ["https://example.com/a.png"]}}))
        .await;
    let res = result(&h.wait_final(&id).await);
    let video = h.http.get(res["resultUrls"][0].as_str().unwrap()).send().await.unwrap();
    assert_eq!(&video.bytes().await.unwrap()[..], PORTRAIT_MP4);
    let frame = h.http.get(res["firstFrameUrl"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(frame.headers()["content-type"], "image/jpeg");
    assert_eq!(&frame.bytes().await.unwrap()[..], PORTRAIT_JPG);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn watermark_remover_and_storyboard_results() {
    let h = H::new(fast()).await;
    let id = h
        .create(json!({"model": "sora-watermark-remover", "input": {"video_url": "https://sora.chatgpt.com/p/s_123"}}))
        .await;
    let res = result(&h.wait_final(&id).await);
    assert_eq!(res.as_object().unwrap().keys().collect::<Vec<_>>(), ["resultUrls"]);

    let before = h.credits().await;
    let id = h
        .create(json!({"model": "sora-2-pro-storyboard", "input": {"n_frames": "25", "shots": [
            {"Scene": "a", "duration": 12.5}, {"Scene": "b", "duration": 12.5}]}}))
        .await;
    let rec = h.wait_final(&id).await;
    assert_eq!(rec["creditsConsumed"].as_f64(), Some(450.0));
    assert_eq!(before - h.credits().await, 450.0);
    h.sim.shutdown().await;
}

// ---- auth, credits, limits, validation -----------------------------------------------------------

#[tokio::test]
async fn bad_or_missing_key_is_401_inside_http_200() {
    let h = H::new(fast()).await;
    let calls: Vec<(reqwest::Method, &str)> = vec![
        (reqwest::Method::POST, "/api/v1/jobs/createTask"),
        (reqwest::Method::GET, "/api/v1/jobs/recordInfo?taskId=x"),
        (reqwest::Method::GET, "/api/v1/chat/credit"),
        (reqwest::Method::POST, "/api/v1/common/download-url"),
        (reqwest::Method::POST, "/api/file-stream-upload"),
    ];
    for (method, path) in &calls {
        for key in [None, Some("wrong")] {
            let mut req = h.http.request(method.clone(), h.url(path)).json(&t2v());
            if let Some(k) = key {
                req = req.bearer_auth(k);
            }
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["code"], 401, "{path}: {v}");
        }
    }
    assert_eq!(h.sim.stats().tasks_created, 0);
    h.sim.shutdown().await;

    let h = H::new(SimConfig { http_status_errors: true, ..fast() }).await;
    let r = h.http.get(h.url("/api/v1/chat/credit")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 401);
    let (status, v) = h.post("/api/v1/jobs/createTask", json!({"model": "sora-2-text-to-video", "input": {}})).await;
    assert_eq!((status, v["code"].as_i64()), (422, Some(422)));
    h.sim.set_credits(1.0);
    let (status, v) = h.post("/api/v1/jobs/createTask", t2v()).await;
    assert_eq!((status, v["code"].as_i64()), (402, Some(402)));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn credits_are_charged_and_402_when_short() {
    let h = H::new(fast()).await;
    assert_eq!(h.credits().await, 10_000.0);
    h.create(json!({"model": "sora-2-pro-text-to-video", "input": {"prompt": "x", "size": "high", "n_frames": "15"}}))
        .await;
    assert_eq!(h.credits().await, 10_000.0 - 630.0);
    assert_eq!(h.sim.credits(), 9370.0);

    h.sim.set_credits(20.0);
    let (status, v) = h.post("/api/v1/jobs/createTask", t2v()).await;
    assert_eq!(status, 200);
    assert_eq!(v["code"], 402);
    assert_eq!(v["msg"], "Credits insufficient");
    assert!(v["data"].is_null());
    let s = h.sim.stats();
    assert_eq!((s.creates_received, s.tasks_created), (2, 1));
    assert_eq!(h.credits().await, 20.0);
    assert!(s.credit_queries >= 2);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn failed_generation_is_refunded() {
    let h = H::new(fast()).await;
    h.sim.push_fault(FaultRule::new(
        Endpoint::Create,
        Fault::FailGeneration { code: "500".into(), msg: "Internal server error".into() },
    ));
    h.sim.push_fault(FaultRule::new(
        Endpoint::Any,
        Fault::FailGeneration { code: "content_policy".into(), msg: "Blocked by the content policy".into() },
    ));
    let a = h.create(t2v()).await;
    let b = h.create(t2v()).await;
    assert_eq!(h.sim.credits(), 10_000.0 - 60.0);
    let ra = h.wait_final(&a).await;
    assert_eq!(ra["state"], "fail");
    assert_eq!(ra["failCode"], 500, "a numeric failCode arrives as a number in recordInfo");
    assert_eq!(ra["failMsg"], "Internal server error");
    assert_eq!(ra["creditsConsumed"], 0);
    assert!(ra["resultJson"].is_null());
    let rb = h.wait_final(&b).await;
    assert_eq!(rb["failCode"], "content_policy");
    assert_eq!(h.credits().await, 10_000.0);
    assert_eq!(h.sim.stats().tasks_created, 2);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn create_rate_limit_answers_429_with_retry_after() {
    let h = H::new(SimConfig { create_limit: 3, create_window: Duration::from_secs(2), ..fast() }).await;
    for _ in 0..3 {
        h.create(t2v()).await;
    }
    let r = h.http.post(h.url("/api/v1/jobs/createTask")).bearer_auth(KEY).json(&t2v()).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let secs: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&secs), "{secs}");
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 429);
    let s = h.sim.stats();
    assert_eq!((s.creates_received, s.tasks_created), (4, 3));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn record_limit_answers_429_past_n_a_second_and_logs_queries_by_task() {
    let h = H::new(SimConfig { record_limit: Some(3), invisible_ms: 0, ..fast() }).await;
    let (a, b) = (h.create(t2v()).await, h.create(t2v()).await);
    let start = Instant::now();
    let mut statuses = Vec::new();
    for id in [&a, &b, &a, &b] {
        let r = h.http.get(h.url(&format!("/api/v1/jobs/recordInfo?taskId={id}"))).bearer_auth(KEY).send().await;
        let r = r.unwrap();
        if r.status() == 429 {
            assert_eq!(r.headers()["retry-after"], "1");
            assert_eq!(r.json::<Value>().await.unwrap()["code"], 429);
            statuses.push(429);
        } else {
            statuses.push(r.status().as_u16());
        }
    }
    // Within one second (the test is fast): the fourth is refused.
    assert!(start.elapsed() < Duration::from_secs(1));
    assert_eq!(statuses, [200, 200, 200, 429]);
    assert_eq!(h.sim.stats().rate_limited, 1);
    assert_eq!(h.sim.stats().record_queries, 4);
    let log = h.sim.record_queries();
    assert_eq!((log[&a].len(), log[&b].len()), (2, 2));
    assert!(log[&a][0] <= log[&a][1]);
    // A second later the window has room again.
    tokio::time::sleep(Duration::from_millis(1050)).await;
    assert_eq!(h.record(&a).await["code"], 200);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn record_queries_are_unlimited_by_default() {
    let h = H::new(SimConfig { invisible_ms: 0, ..fast() }).await;
    let id = h.create(t2v()).await;
    for _ in 0..30 {
        assert_eq!(h.record(&id).await["code"], 200);
    }
    assert_eq!(h.sim.stats().rate_limited, 0);
    assert_eq!(h.sim.record_queries()[&id].len(), 30);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn validation_names_the_field() {
    let h = H::new(fast()).await;
    let cases = [
        (json!({"model": "sora-2-text-to-video", "input": {}}), "input.prompt"),
        (json!({"model": "sora-2-text-to-video"}), "input"),
        (json!({"input": {"prompt": "x"}}), "model"),
        (json!({"model": "sora-2-text-to-video", "input": {"prompt": "x", "n_frames": 10}}), "input.n_frames"),
        (json!({"model": "sora-2-image-to-video", "input": {"prompt": "x"}}), "input.image_urls"),
        (json!({"model": "sora-2-pro-text-to-video", "input": {"prompt": "x", "size": "ultra"}}), "input.size"),
        (
            json!({"model": "sora-2-pro-storyboard", "input": {"n_frames": "10", "shots": [{"Scene": "a", "duration": 11}]}}),
            "n_frames",
        ),
        (
            json!({"model": "sora-watermark-remover", "input": {"video_url": "https://youtube.com/x"}}),
            "input.video_url",
        ),
        (json!({"model": "sora-2-text-to-video", "callBackUrl": 5, "input": {"prompt": "x"}}), "callBackUrl"),
    ];
    for (body, field) in cases {
        let (status, v) = h.post("/api/v1/jobs/createTask", body.clone()).await;
        assert_eq!(status, 200);
        assert_eq!(v["code"], 422, "{body}: {v}");
        assert!(v["msg"].as_str().unwrap().contains(field), "{body}: {v}");
    }
    let r = h.http.post(h.url("/api/v1/jobs/createTask")).bearer_auth(KEY).body("{not json").send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 400);
    assert_eq!(h.sim.stats().tasks_created, 0);
    assert_eq!(h.sim.credits(), 10_000.0);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn characters_pro_needs_a_successful_origin() {
    // Long enough that the origin is surely still running when first named.
    let h = H::new(SimConfig { gen_ms: 400, ..fast() }).await;
    let character = |origin: &str, handle: Option<&str>| {
        let mut input = json!({"origin_task_id": origin, "character_prompt": "cheerful barista, green apron",
            "timestamps": "0,2"});
        if let Some(handle) = handle {
            input["character_user_name"] = json!(handle);
        }
        json!({"model": "sora-2-characters-pro", "input": input})
    };
    let (_, v) = h.post("/api/v1/jobs/createTask", character("0123", None)).await;
    assert_eq!(v["code"], 422);
    assert!(v["msg"].as_str().unwrap().contains("origin_task_id"));

    let origin = h.create(t2v()).await;
    let (_, v) = h.post("/api/v1/jobs/createTask", character(&origin, None)).await;
    assert_eq!(v["code"], 422, "a running task is no origin yet");
    h.wait_final(&origin).await;

    let id = h.create(character(&origin, Some("sky_ranger"))).await;
    let rec = h.wait_final(&id).await;
    let obj = &result(&rec)["resultObject"];
    assert!(obj["character_id"].as_str().unwrap().starts_with("char_"));
    assert_eq!(obj["character_user_name"], "sky_ranger");
    assert!(obj["remark"].as_str().unwrap().contains("@sky_ranger"));
    assert_eq!(rec["creditsConsumed"].as_f64(), Some(10.0));

    let id = h.create(character(&origin, None)).await;
    let obj = result(&h.wait_final(&id).await)["resultObject"].clone();
    assert!(!obj["character_user_name"].as_str().unwrap().is_empty());

    // A character task is not itself an origin.
    let (_, v) = h.post("/api/v1/jobs/createTask", character(&id, None)).await;
    assert_eq!(v["code"], 422);
    h.sim.shutdown().await;
}

// ---- faults -------------------------------------------------------------------------------------

#[tokio::test]
async fn fault_status_code_paused_maintenance() {
    let h = H::new(fast()).await;
    h.sim.push_fault(FaultRule::new(Endpoint::Credit, Fault::HttpStatus { status: 503 }));
    let (status, v) = h.get("/api/v1/chat/credit").await;
    assert_eq!((status, v["code"].as_i64()), (503, Some(503)));
    assert!(v["msg"].is_string());

    h.sim.push_fault(FaultRule::new(Endpoint::Credit, Fault::Code { code: 505, msg: "Feature disabled".into() }));
    let (status, v) = h.get("/api/v1/chat/credit").await;
    assert_eq!((status, v["code"].as_i64(), v["msg"].as_str()), (200, Some(505), Some("Feature disabled")));

    h.sim.push_fault(FaultRule::new(Endpoint::Create, Fault::Paused));
    let (status, v) = h.post("/api/v1/jobs/createTask", t2v()).await;
    assert_eq!((status, v["code"].as_i64()), (200, Some(500)));
    assert_eq!(v["msg"], "This interface is temporarily paused.");

    h.sim.push_fault(FaultRule::new(Endpoint::Create, Fault::Maintenance));
    let (status, v) = h.post("/api/v1/jobs/createTask", t2v()).await;
    assert_eq!((status, v["code"].as_i64()), (200, Some(455)));

    assert_eq!(h.sim.stats().tasks_created, 0, "these faults process nothing");
    assert_eq!(h.sim.stats().creates_received, 2);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn fault_rate_limited_seconds_and_date() {
    let h = H::new(fast()).await;
    h.sim.push_fault(FaultRule::new(
        Endpoint::Create,
        Fault::RateLimited { retry_after_secs: Some(7), retry_after_date: false },
    ));
    h.sim.push_fault(FaultRule::new(
        Endpoint::Create,
        Fault::RateLimited { retry_after_secs: Some(30), retry_after_date: true },
    ));
    h.sim.push_fault(FaultRule::new(
        Endpoint::Create,
        Fault::RateLimited { retry_after_secs: None, retry_after_date: false },
    ));
    let send = || h.http.post(h.url("/api/v1/jobs/createTask")).bearer_auth(KEY).json(&t2v()).send();
    let r = send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 429);

    let r = send().await.unwrap();
    let date = httpdate::parse_http_date(r.headers()["retry-after"].to_str().unwrap()).unwrap();
    let wait = date.duration_since(std::time::SystemTime::now()).unwrap();
    assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(31), "{wait:?}");

    let r = send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_none());
    assert_eq!(h.sim.stats().tasks_created, 0);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn fault_slow_outlasts_the_client_but_the_create_happened() {
    let h = H::new(fast()).await;
    h.sim.push_fault(FaultRule::new(Endpoint::Create, Fault::Slow { ms: 800 }));
    let err = h
        .http
        .post(h.url("/api/v1/jobs/createTask"))
        .bearer_auth(KEY)
        .timeout(Duration::from_millis(150))
        .json(&t2v())
        .send()
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(h.sim.stats().tasks_created, 1);
    assert_eq!(h.sim.credits(), 10_000.0 - 30.0);
    // Only that one request was slow.
    let started = Instant::now();
    h.create(t2v()).await;
    assert!(started.elapsed() < Duration::from_millis(600));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn fault_malformed_json() {
    let h = H::new(fast()).await;
    let id = h.create(t2v()).await;
    h.sim.push_fault(FaultRule::new(Endpoint::RecordInfo, Fault::MalformedJson).times(2));
    for _ in 0..2 {
        let r =
            h.http.get(h.url(&format!("/api/v1/jobs/recordInfo?taskId={id}"))).bearer_auth(KEY).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    assert_eq!(h.record(&id).await["code"], 200);
    assert_eq!(h.sim.stats().record_queries, 3);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn fault_truncate_and_reset_body() {
    let h = H::new(fast()).await;
    let url = h.url("/files/synthetic/200000.mp4");

    h.sim.push_fault(FaultRule::new(Endpoint::File, Fault::TruncateBody { after_bytes: 70_000 }));
    let r = h.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.content_length(), Some(200_000), "the full length is announced");
    let (got, _failed) = drain(r).await;
    assert_eq!(got.len(), 70_000, "only the first bytes arrive");

    h.sim.push_fault(FaultRule::new(Endpoint::File, Fault::ResetBody { after_bytes: 1000 }));
    let r = h.http.get(&url).send().await.unwrap();
    assert_eq!(r.content_length(), Some(200_000));
    let (got, failed) = drain(r).await;
    assert!(failed, "the body stream fails");
    assert_eq!(got.len(), 1000);

    // ResetBody works on API answers too.
    h.sim.push_fault(FaultRule::new(Endpoint::Credit, Fault::ResetBody { after_bytes: 5 }));
    let r = h.http.get(h.url("/api/v1/chat/credit")).bearer_auth(KEY).send().await.unwrap();
    let (got, failed) = drain(r).await;
    assert!(failed);
    assert_eq!(got, b"{\"cod");

    // And the next download is whole.
    let r = h.http.get(&url).send().await.unwrap();
    assert_eq!(r.bytes().await.unwrap().len(), 200_000);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn fault_expired_link() {
    let h = H::new(fast()).await;
    h.sim.push_fault(FaultRule::new(Endpoint::File, Fault::ExpiredLink));
    let url = h.url("/files/synthetic/1000.mp4");
    let r = h.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.text().await.unwrap().contains("expired"));
    assert_eq!(h.http.get(&url).send().await.unwrap().status(), 200);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn fault_lose_response_still_creates_and_charges() {
    let h = H::new(fast()).await;
    h.sim.push_fault(FaultRule::new(Endpoint::Create, Fault::LoseResponse));
    let r = h.http.post(h.url("/api/v1/jobs/createTask")).bearer_auth(KEY).json(&t2v()).send().await;
    let lost = match r {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(lost, "the answer must not arrive whole");
    let s = h.sim.stats();
    assert_eq!((s.creates_received, s.tasks_created), (1, 1));
    assert_eq!(h.credits().await, 10_000.0 - 30.0);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn faults_fire_in_push_order_and_count_down() {
    let h = H::new(fast()).await;
    h.sim.push_fault(FaultRule::new(Endpoint::RecordInfo, Fault::Code { code: 501, msg: "a".into() }).times(2));
    h.sim.push_fault(FaultRule::new(Endpoint::Any, Fault::Code { code: 502, msg: "b".into() }));
    h.sim.push_fault(FaultRule::new(Endpoint::RecordInfo, Fault::Code { code: 503, msg: "c".into() }));
    let codes = [
        h.record("x").await["code"].as_i64(),
        h.get("/api/v1/chat/credit").await.1["code"].as_i64(), // Any hits the credit call
        h.record("x").await["code"].as_i64(),
        h.record("x").await["code"].as_i64(),
        h.record("x").await["code"].as_i64(),
    ];
    assert_eq!(&codes[..4], [Some(501), Some(502), Some(501), Some(503)]);
    assert!(matches!(codes[4], Some(404 | 422)), "{codes:?}");

    h.sim.push_fault(FaultRule::new(Endpoint::Credit, Fault::Maintenance).times(5));
    h.sim.clear_faults();
    assert_eq!(h.get("/api/v1/chat/credit").await.1["code"], 200);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn control_endpoints_over_http() {
    let h = H::new(fast()).await;
    let c = &h.http;
    let rules = json!([
        {"endpoint": "credit", "fault": {"kind": "code", "code": 505, "msg": "off"}, "times": 2},
        {"endpoint": "create", "fault": {"kind": "fail_generation", "code": "500", "msg": "boom"}}
    ]);
    let r = c.post(h.url("/_sim/faults")).json(&rules).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["queued"], 2);
    let one = json!({"endpoint": "record_info", "fault": {"kind": "rate_limited", "retry_after_secs": 3}});
    assert_eq!(c.post(h.url("/_sim/faults")).json(&one).send().await.unwrap().status(), 200);
    let listed: Vec<FaultRule> = c.get(h.url("/_sim/faults")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[2].fault, Fault::RateLimited { retry_after_secs: Some(3), retry_after_date: false });
    assert_eq!(listed[2].times, 1);
    let bad = c.post(h.url("/_sim/faults")).json(&json!({"endpoint": "nope"})).send().await.unwrap();
    assert_eq!(bad.status(), 400);

    assert_eq!(h.get("/api/v1/chat/credit").await.1["code"], 505);
    let id = h.create(t2v()).await;
    assert_eq!(h.wait_final(&id).await["state"], "fail");
    assert_eq!(c.delete(h.url("/_sim/faults")).send().await.unwrap().status(), 200);
    assert_eq!(h.get("/api/v1/chat/credit").await.1["code"], 200);

    let r = c.post(h.url("/_sim/credits")).json(&json!({"credits": 12.5})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(h.credits().await, 12.5);
    assert_eq!(c.get(h.url("/_sim/credits")).send().await.unwrap().json::<Value>().await.unwrap()["credits"], 12.5);

    let stats: kie_sim::Stats = c.get(h.url("/_sim/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(stats, h.sim.stats());
    assert_eq!((stats.creates_received, stats.tasks_created, stats.credit_queries), (1, 1, 3));

    let rec: Value = c.get(h.url(&format!("/_sim/tasks/{id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(rec["taskId"], id.as_str());
    assert_eq!(c.get(h.url("/_sim/tasks/none")).send().await.unwrap().status(), 404);
    assert_eq!(c.post(h.url("/_sim/expire-links")).send().await.unwrap().status(), 200);
    h.sim.shutdown().await;
}

// ---- files ----------------------------------------------------------------------------------------

#[tokio::test]
async fn ranges_on_results_and_synthetic_files() {
    let h = H::new(fast()).await;
    let id = h.create(t2v()).await;
    let url = result(&h.wait_final(&id).await)["resultUrls"][0].as_str().unwrap().to_string();
    let len = LANDSCAPE_MP4.len();

    let r = h.http.get(&url).header("Range", "bytes=100-199").send().await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], format!("bytes 100-199/{len}").as_str());
    assert_eq!(r.headers()["content-length"], "100");
    assert_eq!(&r.bytes().await.unwrap()[..], &LANDSCAPE_MP4[100..200]);

    let r = h.http.get(&url).header("Range", "bytes=-10").send().await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(&r.bytes().await.unwrap()[..], &LANDSCAPE_MP4[len - 10..]);

    let r = h.http.get(&url).header("Range", format!("bytes={len}-")).send().await.unwrap();
    assert_eq!(r.status(), 416);
    assert_eq!(r.headers()["content-range"], format!("bytes */{len}").as_str());

    // Resuming with If-Range: a matching ETag gives the range, a stale one the whole file.
    let etag = h.http.head(&url).send().await.unwrap().headers()["etag"].to_str().unwrap().to_string();
    let r = h.http.get(&url).header("Range", "bytes=10-").header("If-Range", &etag).send().await.unwrap();
    assert_eq!(r.status(), 206);
    let r = h.http.get(&url).header("Range", "bytes=10-").header("If-Range", "\"stale\"").send().await.unwrap();
    assert_eq!(r.status(), 200);

    let syn = h.url("/files/synthetic/1000000.mp4");
    let whole = h.http.get(&syn).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(whole.len(), 1_000_000);
    assert_eq!(&whole[4..8], b"ftyp");
    let r = h.http.get(&syn).header("Range", "bytes=654321-700000").send().await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-range"], "bytes 654321-700000/1000000");
    assert_eq!(r.bytes().await.unwrap(), whole.slice(654_321..700_001));
    assert_eq!(h.http.get(h.url("/files/synthetic/abc.mp4")).send().await.unwrap().status(), 404);
    assert!(h.sim.stats().file_gets >= 8);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn result_size_makes_synthetic_results() {
    let h = H::new(SimConfig { result_size: Some(3_000_000), ..fast() }).await;
    let id = h.create(t2v()).await;
    let res = result(&h.wait_final(&id).await);
    let r = h.http.get(res["resultUrls"][0].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.content_length(), Some(3_000_000));
    let body = r.bytes().await.unwrap();
    assert_eq!(body.len(), 3_000_000);
    assert_eq!(&body[4..8], b"ftyp");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn a_gib_result_is_a_whole_mp4_made_as_it_is_sent() {
    // 1 GiB announced and served in ranges without the simulator holding it: the head is an
    // ftyp and an mdat spanning to the closing moov, which ends the file exactly.
    let n: u64 = 1 << 30;
    let h = H::new(SimConfig { result_size: Some(n), ..fast() }).await;
    let id = h.create(t2v()).await;
    let url = result(&h.wait_final(&id).await)["resultUrls"][0].as_str().unwrap().to_string();
    let r = h.http.head(&url).send().await.unwrap();
    assert_eq!(r.headers()["content-length"], n.to_string().as_str());
    let head = h.http.get(&url).header("Range", "bytes=0-39").send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&head[4..8], b"ftyp");
    assert_eq!(&head[36..40], b"mdat");
    let mdat = u64::from(u32::from_be_bytes(head[32..36].try_into().unwrap()));
    let tail = h.http.get(&url).header("Range", format!("bytes={}-", 32 + mdat)).send().await.unwrap();
    let tail = tail.bytes().await.unwrap();
    assert_eq!(&tail[4..8], b"moov");
    assert_eq!(u64::from(u32::from_be_bytes(tail[0..4].try_into().unwrap())), tail.len() as u64);
    assert_eq!(32 + mdat + tail.len() as u64, n);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn links_expire_and_download_url_renews_them() {
    let h = H::new(SimConfig { link_ttl: Duration::from_millis(500), ..fast() }).await;
    let id = h.create(t2v()).await;
    let url = result(&h.wait_final(&id).await)["resultUrls"][0].as_str().unwrap().to_string();
    assert_eq!(h.http.get(&url).send().await.unwrap().status(), 200);
    tokio::time::sleep(Duration::from_millis(550)).await;
    let r = h.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 403);

    let (status, v) = h.post("/api/v1/common/download-url", json!({"url": url})).await;
    assert_eq!((status, v["code"].as_i64()), (200, Some(200)));
    let fresh = v["data"].as_str().expect("data is a bare string").to_string();
    assert_ne!(fresh, url);
    let r = h.http.get(&fresh).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(&r.bytes().await.unwrap()[..], LANDSCAPE_MP4);

    // expire_links revokes every link issued so far; later ones work.
    h.sim.expire_links();
    assert_eq!(h.http.get(&fresh).send().await.unwrap().status(), 403);
    let again =
        h.post("/api/v1/common/download-url", json!({"url": fresh})).await.1["data"].as_str().unwrap().to_string();
    assert_eq!(h.http.get(&again).send().await.unwrap().status(), 200);

    // A tampered expiry fails the signature.
    let tampered = again.replace("exp=", "exp=9");
    assert_eq!(h.http.get(&tampered).send().await.unwrap().status(), 403);

    for foreign in ["https://example.com/video.mp4", &h.url("/files/synthetic/10.mp4"), &h.url("/files/nope/video.mp4")]
    {
        let (_, v) = h.post("/api/v1/common/download-url", json!({"url": foreign})).await;
        assert_eq!(v["code"], 422, "{foreign}");
    }
    assert_eq!(h.sim.stats().download_url_calls, 5);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn upload_then_get_with_the_type_of_the_name() {
    let h = H::new(fast()).await;
    let png: Vec<u8> = b"\x89PNG\r\n\x1a\n fake png body".to_vec();
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(png.clone()).file_name("ref image.png"))
        .text("uploadPath", "kie-studio/inputs")
        .text("fileName", "ref image.png");
    let r = h
        .http
        .post(format!("{}/api/file-stream-upload", h.sim.upload_base_url()))
        .bearer_auth(KEY)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["success"], true);
    assert_eq!(v["code"], 200);
    assert_eq!(v["msg"], "File uploaded successfully");
    let d = &v["data"];
    assert_eq!(d["fileName"], "ref image.png");
    assert_eq!(d["filePath"], "kie-studio/inputs/ref image.png");
    assert_eq!(d["fileSize"], png.len());
    assert_eq!(d["mimeType"], "image/png");
    assert!(d["uploadedAt"].as_str().unwrap().ends_with('Z'));
    let url = d["downloadUrl"].as_str().unwrap();
    let r = h.http.get(url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(&r.bytes().await.unwrap()[..], &png[..]);

    // The type follows the name, whatever the bytes are.
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(LANDSCAPE_MP4.to_vec()).file_name("clip.mp4"))
        .text("uploadPath", "x");
    let v: Value = h
        .http
        .post(h.url("/api/file-stream-upload"))
        .bearer_auth(KEY)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"]["fileName"], "clip.mp4", "fileName defaults to the part's file name");
    let r = h.http.get(v["data"]["downloadUrl"].as_str().unwrap()).header("Range", "bytes=0-7").send().await.unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(r.headers()["content-type"], "video/mp4");

    let form = reqwest::multipart::Form::new().text("uploadPath", "x");
    let v: Value = h
        .http
        .post(h.url("/api/file-stream-upload"))
        .bearer_auth(KEY)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["code"], 422);
    assert_eq!(h.sim.stats().uploads, 3);
    h.sim.shutdown().await;
}

// ---- callbacks -------------------------------------------------------------------------------------

#[tokio::test]
async fn callbacks_are_signed_and_sent_for_success_and_failure() {
    use axum::http::HeaderMap;
    use axum::routing::post;

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(HeaderMap, Value)>();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send((headers, serde_json::from_slice(&body).unwrap()));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let h = H::new(fast()).await;
    let mut body = t2v();
    body["callBackUrl"] = json!(hook);
    let ok_id = h.create(body.clone()).await;
    h.sim.push_fault(FaultRule::new(
        Endpoint::Create,
        Fault::FailGeneration { code: "500".into(), msg: "Internal server error".into() },
    ));
    let fail_id = h.create(body).await;

    let mut got = Vec::new();
    for _ in 0..2 {
        got.push(tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.expect("a callback").unwrap());
    }
    for (headers, v) in &got {
        let id = v["data"]["taskId"].as_str().unwrap();
        let ts: i64 = headers["x-webhook-timestamp"].to_str().unwrap().parse().unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        assert!((now - ts).abs() < 60);
        let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
        mac.update(format!("{id}.{ts}").as_bytes());
        let want = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        assert_eq!(headers["x-webhook-signature"], want.as_str());
        if id == ok_id {
            assert_eq!(v["code"], 200);
            assert_eq!(v["data"]["state"], "success");
            assert!(v["data"]["resultJson"].is_string());
            assert_eq!(v["data"]["consumeCredits"], 30);
        } else {
            assert_eq!(id, fail_id);
            assert_eq!(v["code"], 501);
            assert_eq!(v["data"]["state"], "fail");
            assert_eq!(v["data"]["failCode"], "500", "callbacks carry failCode as a string");
            assert_eq!(v["data"]["creditsConsumed"], 0);
        }
        assert!(v["msg"].is_string());
        assert!(v["data"]["param"].is_string());
    }
    assert_eq!(h.sim.stats().callbacks_sent, 2);
    h.sim.shutdown().await;
    server.abort();
}

// ---- the binary ---------------------------------------------------------------------------------------

#[tokio::test]
async fn binary_prints_its_address_first() {
    use tokio::io::AsyncBufReadExt;

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kie-sim"))
        .args(["--port", "0", "--key", "bin-key", "--gen-ms", "30", "--invisible-ms", "5", "--credits", "77"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.unwrap().unwrap().unwrap();
    let base = first.strip_prefix("listening on ").expect("the first line").to_string();
    let port: u16 = base.strip_prefix("http://127.0.0.1:").unwrap().parse().unwrap();
    assert!(port > 0);

    let http = reqwest::Client::new();
    let v: Value = http
        .get(format!("{base}/api/v1/chat/credit"))
        .bearer_auth("bin-key")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((v["code"].as_i64(), v["data"].as_f64()), (Some(200), Some(77.0)));
    let v: Value = http
        .get(format!("{base}/api/v1/chat/credit"))
        .bearer_auth("sim-key")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["code"], 401);
    child.kill().await.unwrap();

    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kie-sim")).arg("--bogus").output().await.unwrap();
    assert_eq!(out.status.code(), Some(2));
}
