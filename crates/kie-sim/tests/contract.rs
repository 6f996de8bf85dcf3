//! The simulator's newer surface seen from outside with plain reqwest: every model of the
//! contract, Veo's protocol, paused models, Kie's other upload endpoints, link lifetimes,
//! record queries for unknown ids, and extra catalogues.

use std::time::{Duration, Instant};

use base64::Engine;
use kie_sim::{Endpoint, Fault, FaultRule, Sim, SimConfig};
use serde_json::{json, Value};

const KEY: &str = "sim-key";
const LANDSCAPE_MP4: &[u8] = include_bytes!("../assets/landscape.mp4");
const PORTRAIT_MP4: &[u8] = include_bytes!("../assets/portrait.mp4");
const IMG: &str = "https://example.com/a.png";
const PAUSED: &str = "This interface is temporarily paused.";

fn fast() -> SimConfig {
    SimConfig { gen_ms: 60, invisible_ms: 20, create_limit: 1000, ..SimConfig::default() }
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

    async fn create_at(&self, path: &str, body: Value) -> String {
        let (status, v) = self.post(path, body.clone()).await;
        assert_eq!((status, &v["code"]), (200, &json!(200)), "{body}: {v}");
        v["data"]["taskId"].as_str().unwrap().to_string()
    }

    async fn create(&self, model: &str, input: Value) -> String {
        self.create_at("/api/v1/jobs/createTask", json!({"model": model, "input": input})).await
    }

    async fn veo(&self, body: Value) -> String {
        self.create_at("/api/v1/veo/generate", body).await
    }

    /// Polls until the record is final (jobs `state`, or Veo `successFlag` ≠ 0).
    async fn wait(&self, path: &str, id: &str) -> Value {
        let start = Instant::now();
        loop {
            let (_, v) = self.get(&format!("{path}?taskId={id}")).await;
            let d = &v["data"];
            let done = matches!(d["state"].as_str(), Some("success" | "fail"))
                || d["successFlag"].as_i64().is_some_and(|f| f != 0);
            if v["code"] == 200 && done {
                return d.clone();
            }
            assert!(start.elapsed() < Duration::from_secs(5), "never finished: {v}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn wait_job(&self, id: &str) -> Value {
        self.wait("/api/v1/jobs/recordInfo", id).await
    }

    async fn wait_veo(&self, id: &str) -> Value {
        self.wait("/api/v1/veo/record-info", id).await
    }

    async fn download(&self, url: &str) -> (u16, Vec<u8>) {
        let r = self.http.get(url).send().await.unwrap();
        (r.status().as_u16(), r.bytes().await.unwrap().to_vec())
    }
}

fn result(rec: &Value) -> Value {
    serde_json::from_str(rec["resultJson"].as_str().expect("resultJson is a string")).unwrap()
}

/// The `exp` (ms) of a signed result link.
fn exp_of(url: &str) -> u64 {
    let q = url.split_once("exp=").unwrap().1;
    q.split('&').next().unwrap().parse().unwrap()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

// ---- every model ------------------------------------------------------------------------------------

/// (model, a valid input, its price, an input with one field of the wrong JSON type, that field)
fn examples() -> Vec<(&'static str, Value, f64, Value, &'static str)> {
    let k3 =
        json!({"prompt":"a fox","sound":false,"duration":"5","aspect_ratio":"16:9","mode":"pro","multi_shots":false});
    let mut k3_bad = k3.clone();
    k3_bad["duration"] = json!(5);
    let shots = json!([{"Scene":"a fox wakes","duration":7.5},{"Scene":"it runs","duration":7.5}]);
    vec![
        ("sora-2-text-to-video", json!({"prompt":"x"}), 30.0, json!({"prompt":"x","n_frames":10}), "input.n_frames"),
        (
            "sora-2-image-to-video",
            json!({"prompt":"x","image_urls":[IMG],"n_frames":"15"}),
            45.0,
            json!({"prompt":"x","image_urls":IMG}),
            "input.image_urls",
        ),
        (
            "sora-2-pro-text-to-video",
            json!({"prompt":"x","size":"standard","n_frames":"15"}),
            270.0,
            json!({"prompt":"x","remove_watermark":"true"}),
            "input.remove_watermark",
        ),
        (
            "sora-2-pro-image-to-video",
            json!({"prompt":"x","image_urls":[IMG],"size":"high"}),
            330.0,
            json!({"prompt":"x","image_urls":[IMG],"size":1}),
            "input.size",
        ),
        (
            "sora-2-pro-storyboard",
            json!({"shots":shots}),
            270.0,
            json!({"shots":shots,"n_frames":15}),
            "input.n_frames",
        ),
        (
            "sora-watermark-remover",
            json!({"video_url":"https://sora.chatgpt.com/p/s_1"}),
            10.0,
            json!({"video_url":["https://sora.chatgpt.com/p/s_1"]}),
            "input.video_url",
        ),
        (
            "sora-2-text-to-video-stable",
            json!({"prompt":"x"}),
            35.0,
            json!({"prompt":"x","n_frames":15}),
            "input.n_frames",
        ),
        (
            "sora-2-image-to-video-stable",
            json!({"prompt":"x","image_urls":[IMG],"n_frames":"15"}),
            40.0,
            json!({"prompt":"x","image_urls":[IMG],"remove_watermark":true}),
            "input.remove_watermark",
        ),
        (
            "sora-2-characters",
            json!({"character_file_url":["https://example.com/me.mp4"],"character_prompt":"me"}),
            10.0,
            json!({"character_file_url":"https://example.com/me.mp4"}),
            "input.character_file_url",
        ),
        ("kling-3.0/video", k3, 90.0, k3_bad, "input.duration"),
        (
            "kling-2.6/text-to-video",
            json!({"prompt":"x","sound":true,"aspect_ratio":"9:16","duration":"5"}),
            110.0,
            json!({"prompt":"x","sound":"true","aspect_ratio":"9:16","duration":"5"}),
            "input.sound",
        ),
        (
            "kling-2.6/image-to-video",
            json!({"prompt":"x","image_urls":[IMG],"sound":true,"duration":"10"}),
            220.0,
            json!({"prompt":"x","image_urls":[IMG],"sound":true,"duration":10}),
            "input.duration",
        ),
        (
            "bytedance/seedance-2",
            json!({"prompt":"a fox","duration":4,"resolution":"480p"}),
            76.0,
            json!({"prompt":"a fox","duration":"4"}),
            "input.duration",
        ),
        (
            "bytedance/seedance-2-fast",
            json!({"prompt":"a fox","resolution":"480p"}),
            58.5,
            json!({"prompt":"a fox","generate_audio":"false"}),
            "input.generate_audio",
        ),
        (
            "wan/2-6-text-to-video",
            json!({"prompt":"x","duration":"10","resolution":"720p"}),
            140.0,
            json!({"prompt":"x","duration":10}),
            "input.duration",
        ),
        (
            "wan/2-6-image-to-video",
            json!({"prompt":"xy","image_urls":[IMG]}),
            104.5,
            json!({"prompt":"xy","image_urls":IMG}),
            "input.image_urls",
        ),
        (
            "hailuo/2-3-image-to-video-pro",
            json!({"prompt":"x","image_url":IMG,"duration":"10"}),
            90.0,
            json!({"prompt":"x","image_url":IMG,"duration":10}),
            "input.duration",
        ),
        (
            "hailuo/2-3-image-to-video-standard",
            json!({"prompt":"x","image_url":IMG,"resolution":"1080P"}),
            50.0,
            json!({"prompt":"x","image_url":[IMG]}),
            "input.image_url",
        ),
        (
            "hailuo/02-text-to-video-pro",
            json!({"prompt":"x","prompt_optimizer":true}),
            57.0,
            json!({"prompt":"x","prompt_optimizer":"yes"}),
            "input.prompt_optimizer",
        ),
        (
            "grok-imagine/text-to-video",
            json!({"prompt":"x","duration":10,"resolution":"720p","aspect_ratio":"16:9"}),
            45.0,
            json!({"prompt":"x","duration":"ten"}),
            "input.duration",
        ),
        (
            "grok-imagine/image-to-video",
            json!({"image_urls":[IMG],"duration":"6"}),
            14.4,
            json!({"image_urls":IMG}),
            "input.image_urls",
        ),
    ]
}

#[tokio::test]
async fn every_model_accepts_its_example_charges_its_price_and_refuses_a_wrong_type() {
    let h = H::new(SimConfig { initial_credits: 100_000.0, ..fast() }).await;
    let mut spent = 0.0;
    let mut ids = Vec::new();
    for (model, good, price, bad, field) in examples() {
        let before = h.sim.credits();
        let body = json!({"model": model, "input": good});
        let id = h.create_at("/api/v1/jobs/createTask", body.clone()).await;
        assert!((before - h.sim.credits() - price).abs() < 1e-9, "{model}: charged {}", before - h.sim.credits());
        spent += price;
        ids.push((id, model, price, body));

        let (status, v) = h.post("/api/v1/jobs/createTask", json!({"model": model, "input": bad})).await;
        assert_eq!((status, v["code"].as_i64()), (200, Some(422)), "{model}: {v}");
        assert!(v["msg"].as_str().unwrap().contains(field), "{model}: {v}");
    }
    for (id, model, price, body) in ids {
        let rec = h.wait_job(&id).await;
        assert_eq!(rec["state"], "success", "{model}");
        assert_eq!(rec["model"], model);
        assert_eq!(rec["progress"], 100);
        assert_eq!(rec["creditsConsumed"].as_f64(), Some(price), "{model}");
        let param: Value = serde_json::from_str(rec["param"].as_str().unwrap()).unwrap();
        assert_eq!(param, body);
        let res = result(&rec);
        if model == "sora-2-characters" {
            let obj = res["resultObject"].as_object().unwrap();
            assert!(obj["character_id"].as_str().unwrap().starts_with("char_"));
            assert_eq!(obj.len(), 1, "a bare {{character_id}}: {res}");
        } else {
            let (status, bytes) = h.download(res["resultUrls"][0].as_str().unwrap()).await;
            assert_eq!(status, 200, "{model}");
            assert_eq!(&bytes[4..8], b"ftyp", "{model}");
        }
    }
    assert!((100_000.0 - h.sim.credits() - spent).abs() < 1e-6);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn shapes_follow_the_aspect_ratio() {
    let h = H::new(fast()).await;
    let tall = h
        .create("kling-2.6/text-to-video", json!({"prompt":"x","sound":false,"aspect_ratio":"9:16","duration":"5"}))
        .await;
    let wide = h.create("bytedance/seedance-2", json!({"prompt":"a fox","aspect_ratio":"21:9"})).await;
    let grok = h.create("grok-imagine/text-to-video", json!({"prompt":"x"})).await;
    for (id, want) in [(tall, PORTRAIT_MP4), (wide, LANDSCAPE_MP4), (grok, PORTRAIT_MP4)] {
        let res = result(&h.wait_job(&id).await);
        assert_eq!(h.download(res["resultUrls"][0].as_str().unwrap()).await.1, want);
    }
    h.sim.shutdown().await;
}

#[tokio::test]
async fn cross_field_rules_over_http() {
    let h = H::new(fast()).await;
    let refused = [
        (
            "kling-3.0/video",
            json!({"sound":false,"duration":"5","aspect_ratio":"16:9","mode":"pro","multi_shots":true,
                   "multi_prompt":[{"prompt":"a","duration":2}]}),
            "input.sound",
        ),
        (
            "bytedance/seedance-2",
            json!({"prompt":"a fox","first_frame_url":IMG,"reference_image_urls":[IMG]}),
            "exclusive",
        ),
        (
            "hailuo/2-3-image-to-video-pro",
            json!({"prompt":"x","image_url":IMG,"duration":"10","resolution":"1080P"}),
            "1080P",
        ),
        ("grok-imagine/image-to-video", json!({"image_urls":[IMG, IMG],"resolution":"1080p"}), "1080p"),
        ("grok-imagine/image-to-video", json!({"image_urls":[IMG],"mode":"spicy"}), "spicy"),
        ("sora-2-image-to-video", json!({"prompt":"x","image_urls":[IMG, IMG]}), "input.image_urls"),
    ];
    for (model, input, field) in refused {
        let (_, v) = h.post("/api/v1/jobs/createTask", json!({"model": model, "input": input})).await;
        assert_eq!(v["code"], 422, "{model}: {v}");
        assert!(v["msg"].as_str().unwrap().contains(field), "{model}: {v}");
    }
    let accepted = [
        (
            "kling-3.0/video",
            json!({"sound":true,"duration":"5","aspect_ratio":"16:9","mode":"std","multi_shots":true,
                   "multi_prompt":[{"prompt":"a","duration":2},{"prompt":"b","duration":3}]}),
        ),
        ("bytedance/seedance-2", json!({"prompt":"a fox","first_frame_url":IMG,"last_frame_url":IMG})),
        ("hailuo/2-3-image-to-video-pro", json!({"prompt":"x","image_url":IMG,"duration":"6","resolution":"1080P"})),
        ("grok-imagine/image-to-video", json!({"image_urls":[IMG],"resolution":"1080p"})),
        ("grok-imagine/image-to-video", json!({"task_id":"abc","mode":"spicy"})),
    ];
    for (model, input) in accepted {
        h.create(model, input).await;
    }
    assert_eq!(h.sim.stats().tasks_created, 5);
    h.sim.shutdown().await;
}

// ---- Veo ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn veo_generate_then_record_info_from_0_to_1() {
    let h = H::new(SimConfig { gen_ms: 400, invisible_ms: 60, ..fast() }).await;
    let body = json!({"prompt": "a lighthouse at dusk", "model": "veo3_fast", "aspect_ratio": "9:16",
                      "resolution": "1080p", "duration": 6, "enableTranslation": true, "watermark": "me"});
    let (status, v) = h.post("/api/v1/veo/generate", body.clone()).await;
    assert_eq!((status, v["code"].as_i64(), v["msg"].as_str()), (200, Some(200), Some("success")));
    let id = v["data"]["taskId"].as_str().unwrap().to_string();
    assert_eq!(h.sim.credits(), 10_000.0 - 65.0);

    let (_, v) = h.get(&format!("/api/v1/veo/record-info?taskId={id}")).await;
    assert_eq!((v["code"].as_i64(), v["msg"].as_str()), (Some(422), Some("recordInfo is null")));
    tokio::time::sleep(Duration::from_millis(80)).await;
    let (_, v) = h.get(&format!("/api/v1/veo/record-info?taskId={id}")).await;
    assert_eq!(v["code"], 200, "{v}");
    let d = &v["data"];
    assert_eq!(d["taskId"], id.as_str());
    assert_eq!(d["successFlag"], 0);
    assert!(d["response"].is_null() && d["completeTime"].is_null() && d["errorCode"].is_null(), "{d}");
    let param: Value = serde_json::from_str(d["paramJson"].as_str().expect("paramJson is a string")).unwrap();
    assert_eq!(param, body);
    assert!(d["createTime"].as_u64().unwrap() > 0);

    let d = h.wait_veo(&id).await;
    assert_eq!(d["successFlag"], 1);
    assert!(d["completeTime"].as_u64().unwrap() >= d["createTime"].as_u64().unwrap());
    let resp = &d["response"];
    assert_eq!(resp["taskId"], id.as_str());
    assert_eq!(resp["resolution"], "1080p");
    let video = resp["resultUrls"][0].as_str().unwrap();
    assert_eq!(h.download(video).await, (200, PORTRAIT_MP4.to_vec()));
    assert_eq!(h.download(resp["originUrls"][0].as_str().unwrap()).await.0, 200);
    // download-url renews Veo's links as well.
    let (_, v) = h.post("/api/v1/common/download-url", json!({"url": video})).await;
    assert_eq!(h.download(v["data"].as_str().unwrap()).await.0, 200);
    assert_eq!(h.sim.task(&id).unwrap(), d, "the handle sees the Veo record");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn veo_prices_and_defaults() {
    let h = H::new(fast()).await;
    let cases = [
        (json!({"prompt":"x"}), 60.0),
        (json!({"prompt":"x","model":"veo3"}), 250.0),
        (json!({"prompt":"x","model":"veo3","resolution":"4k"}), 370.0),
        (json!({"prompt":"x","model":"veo3_lite","resolution":"1080p"}), 35.0),
        (
            json!({"prompt":"x","model":"veo3_fast","generationType":"REFERENCE_2_VIDEO","imageUrls":[IMG, IMG, IMG]}),
            60.0,
        ),
        (
            json!({"prompt":"x","model":"veo3_lite","generationType":"FIRST_AND_LAST_FRAMES_2_VIDEO","imageUrls":[IMG]}),
            30.0,
        ),
    ];
    for (body, price) in cases {
        let before = h.sim.credits();
        let id = h.veo(body.clone()).await;
        assert_eq!(before - h.sim.credits(), price, "{body}");
        let d = h.wait_veo(&id).await;
        let want = body["resolution"].as_str().unwrap_or("720p");
        assert_eq!(d["response"]["resolution"], want);
    }
    let refused = [
        (json!({"prompt":"x","model":"veo3","generationType":"REFERENCE_2_VIDEO","imageUrls":[IMG]}), "veo3_fast"),
        (
            json!({"prompt":"x","model":"veo3_fast","generationType":"REFERENCE_2_VIDEO","imageUrls":[IMG],"duration":4}),
            "duration",
        ),
        (json!({"prompt":"x","generationType":"TEXT_2_VIDEO","imageUrls":[IMG]}), "imageUrls"),
        (
            json!({"prompt":"x","generationType":"FIRST_AND_LAST_FRAMES_2_VIDEO","imageUrls":[IMG, IMG, IMG]}),
            "imageUrls",
        ),
        (json!({"prompt":"x","aspect_ratio":"4:3"}), "aspect_ratio"),
        (json!({"prompt":"x","resolution":"480p"}), "resolution"),
        (json!({"prompt":"x","duration":5}), "duration"),
        (json!({"model":"veo3"}), "prompt"),
    ];
    for (body, field) in refused {
        let (_, v) = h.post("/api/v1/veo/generate", body.clone()).await;
        assert_eq!(v["code"], 422, "{body}: {v}");
        assert!(v["msg"].as_str().unwrap().contains(field), "{body}: {v}");
    }
    h.sim.shutdown().await;
}

#[tokio::test]
async fn veo_and_jobs_models_stay_on_their_own_protocol() {
    let h = H::new(fast()).await;
    let (_, v) = h.post("/api/v1/jobs/createTask", json!({"model": "veo3_fast", "input": {"prompt": "x"}})).await;
    assert_eq!(
        (v["code"].as_i64(), v["msg"].as_str()),
        (Some(422), Some("The model name you specified is not supported"))
    );
    let (_, v) = h.post("/api/v1/veo/generate", json!({"model": "sora-2-text-to-video", "prompt": "x"})).await;
    assert_eq!(
        (v["code"].as_i64(), v["msg"].as_str()),
        (Some(422), Some("The model name you specified is not supported"))
    );
    assert_eq!(h.sim.stats().tasks_created, 0);

    // Each query endpoint knows only its own protocol's tasks.
    let veo = h.veo(json!({"prompt": "x"})).await;
    let job = h.create("sora-2-text-to-video", json!({"prompt": "x"})).await;
    h.wait_veo(&veo).await;
    h.wait_job(&job).await;
    let (_, v) = h.get(&format!("/api/v1/jobs/recordInfo?taskId={veo}")).await;
    assert!(matches!(v["code"].as_i64(), Some(404 | 422)), "{v}");
    let (_, v) = h.get(&format!("/api/v1/veo/record-info?taskId={job}")).await;
    assert!(matches!(v["code"].as_i64(), Some(404 | 422)), "{v}");
    // A Veo task is no origin for a character.
    let (_, v) = h
        .post(
            "/api/v1/jobs/createTask",
            json!({"model": "sora-2-characters-pro", "input": {"origin_task_id": veo, "character_prompt": "x", "timestamps": "0,2"}}),
        )
        .await;
    assert_eq!(v["code"], 422);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn veo_failures_are_flag_2_or_3_and_refunded() {
    let h = H::new(fast()).await;
    h.sim.push_fault(FaultRule::new(
        Endpoint::Create,
        Fault::FailGeneration { code: "500".into(), msg: "Internal error".into() },
    ));
    h.sim.push_fault(FaultRule::new(
        Endpoint::Create,
        Fault::FailUpstream {
            code: "400".into(),
            msg: "Your prompt was flagged by Website as violating content policies".into(),
        },
    ));
    let a = h.veo(json!({"prompt": "x"})).await;
    let b = h.veo(json!({"prompt": "x", "model": "veo3"})).await;
    assert_eq!(h.sim.credits(), 10_000.0 - 310.0);
    let da = h.wait_veo(&a).await;
    assert_eq!(da["successFlag"], 2);
    assert_eq!(da["errorCode"], 500);
    assert_eq!(da["errorMessage"], "Internal error");
    assert!(da["response"].is_null());
    let db = h.wait_veo(&b).await;
    assert_eq!(db["successFlag"], 3);
    assert_eq!(db["errorCode"], 400);
    assert_eq!(h.sim.credits(), 10_000.0);
    // A failed task has no 1080p video.
    let (_, v) = h.get(&format!("/api/v1/veo/get-1080p-video?taskId={a}&index=0")).await;
    assert_eq!((v["code"].as_i64(), v["msg"].as_str()), (Some(422), Some("record status is not success")));

    // FailUpstream on a jobs task: state fail, as FailGeneration.
    h.sim.push_fault(FaultRule::new(Endpoint::Create, Fault::FailUpstream { code: "501".into(), msg: "no".into() }));
    let j = h.create("sora-2-text-to-video", json!({"prompt": "x"})).await;
    let rec = h.wait_job(&j).await;
    assert_eq!((rec["state"].as_str(), rec["failCode"].as_i64()), (Some("fail"), Some(501)));
    h.sim.shutdown().await;
}

#[tokio::test]
async fn veo_1080p_and_4k_flow() {
    let h = H::new(SimConfig { gen_ms: 250, hd_ready_after: Duration::from_millis(300), ..fast() }).await;
    let id = h.veo(json!({"prompt": "x", "model": "veo3_lite"})).await;
    let hd = format!("/api/v1/veo/get-1080p-video?taskId={id}&index=0");
    let (status, v) = h.get(&hd).await;
    assert_eq!((status, v["code"].as_i64(), v["msg"].as_str()), (200, Some(422), Some("record status is not success")));
    h.wait_veo(&id).await;

    let (_, v) = h.get(&hd).await;
    assert_eq!((v["code"].as_i64(), v["msg"].as_str()), (Some(400), Some("1080P is processing")));
    let (_, v) = h.post("/api/v1/veo/get-4k-video", json!({"taskId": id, "index": 0})).await;
    assert_eq!((v["code"].as_i64(), v["msg"].as_str()), (Some(400), Some("4K is processing")));
    let start = Instant::now();
    let url = loop {
        let (_, v) = h.get(&hd).await;
        if v["code"] == 200 {
            assert_eq!(v["msg"], "success");
            break v["data"]["resultUrl"].as_str().unwrap().to_string();
        }
        assert_eq!(v["code"], 400);
        assert!(start.elapsed() < Duration::from_secs(5));
        tokio::time::sleep(Duration::from_millis(30)).await;
    };
    assert!(start.elapsed() >= Duration::from_millis(200), "{:?}", start.elapsed());
    assert!(url.contains("1080p"), "{url}");
    assert_eq!(h.download(&url).await, (200, LANDSCAPE_MP4.to_vec()));
    let (_, v) = h.post("/api/v1/veo/get-4k-video", json!({"taskId": id, "index": 0})).await;
    assert_eq!(v["code"], 200, "{v}");
    assert_eq!(h.download(v["data"]["resultUrl"].as_str().unwrap()).await.0, 200);

    // Odd requests.
    let (_, v) = h.get("/api/v1/veo/get-1080p-video?index=0").await;
    assert_eq!(v["code"], 400);
    let (_, v) = h.get(&format!("/api/v1/veo/get-1080p-video?taskId={id}&index=3")).await;
    assert_eq!(v["code"], 422);
    let (_, v) = h.get("/api/v1/veo/get-1080p-video?taskId=nope").await;
    assert_eq!(v["code"], 404);
    let r = h.http.get(h.url(&hd)).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 401);
    assert!(h.sim.stats().hd_queries >= 8);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn veo_callbacks() {
    use axum::routing::post;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(axum::http::HeaderMap, Value)>();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
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
    let ok = h.veo(json!({"prompt": "x", "callBackUrl": hook})).await;
    h.sim
        .push_fault(FaultRule::new(Endpoint::Create, Fault::FailGeneration { code: "500".into(), msg: "boom".into() }));
    let bad = h.veo(json!({"prompt": "x", "callBackUrl": hook})).await;
    for _ in 0..2 {
        let (headers, v) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap().unwrap();
        assert!(headers.contains_key("x-webhook-signature"));
        let id = v["data"]["taskId"].as_str().unwrap();
        if id == ok {
            assert_eq!(v["code"], 200);
            assert!(v["data"]["info"]["resultUrls"][0].is_string(), "{v}");
        } else {
            assert_eq!(id, bad);
            assert_eq!((v["code"].as_i64(), v["msg"].as_str()), (Some(501), Some("boom")));
            assert!(v["data"]["info"].is_null());
        }
    }
    h.sim.shutdown().await;
    server.abort();
}

// ---- paused models ---------------------------------------------------------------------------------------

#[tokio::test]
async fn paused_and_disabled_models_charge_nothing_until_cleared() {
    let h = H::new(SimConfig { http_status_errors: true, ..fast() }).await;
    h.sim.pause_model("sora-2-text-to-video", 500);
    h.sim.pause_model("veo3", 505);
    let t2v = json!({"model": "sora-2-text-to-video", "input": {"prompt": "x"}});
    let (status, v) = h.post("/api/v1/jobs/createTask", t2v.clone()).await;
    assert_eq!(status, 200, "a paused model answers in an HTTP 200, like Kie");
    assert_eq!(v, json!({"code": 500, "msg": PAUSED, "data": null}));
    let (status, v) = h.post("/api/v1/veo/generate", json!({"model": "veo3", "prompt": "x"})).await;
    assert_eq!((status, v["code"].as_i64(), v["msg"].as_str()), (200, Some(505), Some("This feature is disabled")));
    // Other models are not affected.
    h.create("sora-2-image-to-video", json!({"prompt": "x", "image_urls": [IMG]})).await;
    h.veo(json!({"model": "veo3_fast", "prompt": "x"})).await;
    assert_eq!(h.sim.credits(), 10_000.0 - 30.0 - 60.0);
    assert_eq!(h.sim.stats().tasks_created, 2);

    h.sim.unpause_model("sora-2-text-to-video");
    h.create_at("/api/v1/jobs/createTask", t2v.clone()).await;
    h.sim.clear_paused();
    h.veo(json!({"model": "veo3", "prompt": "x"})).await;

    // Over HTTP.
    let c = &h.http;
    let r = c
        .post(h.url("/_sim/paused"))
        .json(&json!({"models": ["kling-3.0/video", "sora-2-text-to-video"]}))
        .send()
        .await;
    let v: Value = r.unwrap().json().await.unwrap();
    assert_eq!(v["paused"], json!({"kling-3.0/video": 500, "sora-2-text-to-video": 500}));
    let r = c.post(h.url("/_sim/paused")).json(&json!({"model": "veo3_lite", "code": 505})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = c.post(h.url("/_sim/paused")).json(&json!({"models": ["x"], "code": 418})).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = c.get(h.url("/_sim/paused")).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["paused"]["veo3_lite"], 505);
    assert_eq!(h.post("/api/v1/jobs/createTask", t2v.clone()).await.1["code"], 500);
    let v: Value = c
        .delete(h.url("/_sim/paused"))
        .json(&json!({"models": ["sora-2-text-to-video"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["paused"], json!({"kling-3.0/video": 500, "veo3_lite": 505}));
    assert_eq!(h.post("/api/v1/jobs/createTask", t2v).await.1["code"], 200);
    c.delete(h.url("/_sim/paused")).send().await.unwrap();
    let v: Value = c.get(h.url("/_sim/paused")).send().await.unwrap().json().await.unwrap();
    assert_eq!(v["paused"], json!({}));
    h.sim.shutdown().await;

    let h = H::new(SimConfig { paused: vec!["sora-2-pro-storyboard".into()], disabled: vec!["veo3".into()], ..fast() })
        .await;
    let (_, v) = h.post("/api/v1/jobs/createTask", json!({"model": "sora-2-pro-storyboard", "input": {}})).await;
    assert_eq!(v["code"], 500, "the pause answers before validation");
    assert_eq!(h.post("/api/v1/veo/generate", json!({"model": "veo3", "prompt": "x"})).await.1["code"], 505);
    h.sim.shutdown().await;
}

// ---- uploads ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn file_url_upload_fetches_loopback_urls() {
    let h = H::new(fast()).await;
    let src = h.url("/files/synthetic/5000.mp4");
    let (status, v) = h
        .post(
            "/api/file-url-upload",
            json!({"fileUrl": src, "uploadPath": "kie-studio/inputs", "fileName": "clip.mp4"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!((v["success"].as_bool(), v["code"].as_i64()), (Some(true), Some(200)), "{v}");
    let d = &v["data"];
    assert_eq!(d["fileName"], "clip.mp4");
    assert_eq!(d["filePath"], "kie-studio/inputs/clip.mp4");
    assert_eq!(d["fileSize"], 5000);
    assert_eq!(d["mimeType"], "video/mp4");
    assert!(d["uploadedAt"].as_str().unwrap().ends_with('Z'));
    let (status, bytes) = h.download(d["downloadUrl"].as_str().unwrap()).await;
    assert_eq!((status, bytes.len()), (200, 5000));
    let whole = h.download(&src).await.1;
    assert_eq!(bytes, whole);

    // The name defaults to the URL's last segment; localhost works too.
    let port = h.sim.addr().port();
    let (_, v) = h
        .post(
            "/api/file-url-upload",
            json!({"fileUrl": format!("http://localhost:{port}/files/synthetic/64.mp4"), "uploadPath": "x"}),
        )
        .await;
    assert_eq!(v["data"]["fileName"], "64.mp4", "{v}");

    for (body, what) in [
        (json!({"fileUrl": "https://example.com/a.png", "uploadPath": "x"}), "loopback"),
        (json!({"fileUrl": "file:///etc/passwd", "uploadPath": "x"}), "loopback"),
        (json!({"uploadPath": "x"}), "fileUrl is required"),
        (json!({"fileUrl": h.url("/files/nope/video.mp4"), "uploadPath": "x"}), "HTTP 404"),
    ] {
        let (_, v) = h.post("/api/file-url-upload", body.clone()).await;
        assert_eq!(v["code"], 422, "{body}: {v}");
        assert!(v["msg"].as_str().unwrap().contains(what), "{body}: {v}");
    }
    let r = h.http.post(h.url("/api/file-url-upload")).json(&json!({"fileUrl": src})).send().await.unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["code"], 401);
    h.sim.shutdown().await;
}

#[tokio::test]
async fn file_base64_upload_takes_data_urls_and_bare_base64() {
    let h = H::new(fast()).await;
    let png: Vec<u8> = b"\x89PNG\r\n\x1a\n a small png".to_vec();
    let b64 = base64::engine::general_purpose::STANDARD.encode(&png);
    let (_, v) = h
        .post(
            "/api/file-base64-upload",
            json!({"base64Data": format!("data:image/png;base64,{b64}"), "uploadPath": "in", "fileName": "me.png"}),
        )
        .await;
    assert_eq!((v["success"].as_bool(), v["code"].as_i64()), (Some(true), Some(200)), "{v}");
    let d = &v["data"];
    assert_eq!((d["fileName"].as_str(), d["filePath"].as_str()), (Some("me.png"), Some("in/me.png")));
    assert_eq!((d["fileSize"].as_u64(), d["mimeType"].as_str()), (Some(png.len() as u64), Some("image/png")));
    let r = h.http.get(d["downloadUrl"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.bytes().await.unwrap().to_vec(), png);

    // Bare base64 without a name: named by its bytes.
    let (_, v) = h.post("/api/file-base64-upload", json!({"base64Data": b64, "uploadPath": "in"})).await;
    assert!(v["data"]["fileName"].as_str().unwrap().ends_with(".png"), "{v}");
    assert_eq!(h.download(v["data"]["downloadUrl"].as_str().unwrap()).await.1, png);
    // A data URL without a name: named by its type.
    let (_, v) = h
        .post("/api/file-base64-upload", json!({"base64Data": format!("data:video/mp4;base64,{}", base64::engine::general_purpose::STANDARD.encode(LANDSCAPE_MP4))}))
        .await;
    assert!(v["data"]["fileName"].as_str().unwrap().ends_with(".mp4"), "{v}");
    assert_eq!(v["data"]["mimeType"], "video/mp4");

    for (body, what) in [
        (json!({"base64Data": "!!! not base64 !!!", "uploadPath": "in"}), "base64Data"),
        (json!({"uploadPath": "in"}), "base64Data is required"),
        (json!({"base64Data": "data:image/png,rawtext", "uploadPath": "in"}), "base64"),
        (json!({"base64Data": b64, "uploadPath": "../up"}), "uploadPath"),
    ] {
        let (_, v) = h.post("/api/file-base64-upload", body.clone()).await;
        assert_eq!(v["code"], 422, "{body}: {v}");
        assert!(v["msg"].as_str().unwrap().contains(what), "{body}: {v}");
    }
    assert_eq!(h.sim.stats().uploads, 7);
    h.sim.shutdown().await;
}

// ---- links, record queries ----------------------------------------------------------------------------------

#[tokio::test]
async fn result_links_live_a_day_renewed_ones_twenty_minutes() {
    let h = H::new(fast()).await;
    let id = h.create("sora-2-text-to-video", json!({"prompt": "x"})).await;
    let url = result(&h.wait_job(&id).await)["resultUrls"][0].as_str().unwrap().to_string();
    let day = exp_of(&url).saturating_sub(now_ms());
    assert!((23 * 3600 * 1000..=24 * 3600 * 1000).contains(&day), "{day} ms");
    let (_, v) = h.post("/api/v1/common/download-url", json!({"url": url})).await;
    let fresh = v["data"].as_str().unwrap().to_string();
    let twenty = exp_of(&fresh).saturating_sub(now_ms());
    assert!((19 * 60 * 1000..=20 * 60 * 1000).contains(&twenty), "{twenty} ms");
    // Both still expire on demand.
    h.sim.expire_links();
    assert_eq!(h.download(&url).await.0, 403);
    assert_eq!(h.download(&fresh).await.0, 403);
    h.sim.shutdown().await;

    let h = H::new(SimConfig { download_link_ttl: Duration::from_millis(300), ..fast() }).await;
    let id = h.create("sora-2-text-to-video", json!({"prompt": "x"})).await;
    let url = result(&h.wait_job(&id).await)["resultUrls"][0].as_str().unwrap().to_string();
    let (_, v) = h.post("/api/v1/common/download-url", json!({"url": url})).await;
    let fresh = v["data"].as_str().unwrap().to_string();
    assert_eq!(h.download(&fresh).await.0, 200);
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(h.download(&fresh).await.0, 403, "the renewed link expired");
    assert_eq!(h.download(&url).await.0, 200, "the original link lives on");
    h.sim.shutdown().await;
}

#[tokio::test]
async fn record_queries_for_unknown_missing_and_invisible_ids() {
    let h = H::new(SimConfig { invisible_ms: 60_000, ..fast() }).await;
    for path in ["/api/v1/jobs/recordInfo", "/api/v1/veo/record-info"] {
        let (mut n404, mut n422) = (0, 0);
        for i in 0..40 {
            let id = format!("{i:032x}");
            let (status, v) = h.get(&format!("{path}?taskId={id}")).await;
            match (status, v["code"].as_i64(), v["msg"].as_str()) {
                (404, Some(404), Some("task not found")) => n404 += 1,
                (200, Some(422), Some("recordInfo is null")) => n422 += 1,
                other => panic!("{path} {id}: {other:?}"),
            }
            let again = h.get(&format!("{path}?taskId={id}")).await;
            assert_eq!(again, (status, v), "the same id gets the same answer");
        }
        assert!(n404 > 0 && n422 > 0, "{path}: {n404} × 404, {n422} × 422");
        for query in ["", "?taskId=", "?taskId=%20"] {
            let (status, v) = h.get(&format!("{path}{query}")).await;
            assert_eq!((status, v["code"].as_i64()), (200, Some(400)), "{path}{query}: {v}");
        }
    }
    // Just created, not visible yet: always 422, whatever the id.
    for _ in 0..10 {
        let id = h.create("sora-2-text-to-video", json!({"prompt": "x"})).await;
        let (status, v) = h.get(&format!("/api/v1/jobs/recordInfo?taskId={id}")).await;
        assert_eq!((status, v["code"].as_i64()), (200, Some(422)));
        let id = h.veo(json!({"prompt": "x"})).await;
        let (status, v) = h.get(&format!("/api/v1/veo/record-info?taskId={id}")).await;
        assert_eq!((status, v["code"].as_i64()), (200, Some(422)));
    }
    h.sim.shutdown().await;
}

// ---- extra catalogues ------------------------------------------------------------------------------------------

const EXTRA: &str = r#"{"models": [
  {"id": "acme/video-1", "name": "Acme", "family": "Acme", "output": "video",
   "pricing": {"rules": [{"when": {}, "per_second": 3}, {"when": {"x": "y"}, "credits": 12.5}]},
   "fields": [{"name": "prompt", "type": "text"}], "something_new": {"a": 1}},
  {"id": "veo-4", "protocol": "veo", "family": "Veo", "pricing": {"rules": [{"when": {}, "credits": 99}]}}
]}"#;

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("kie-sim-{}-{name}", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test]
async fn an_extra_catalogue_adds_models_without_code() {
    let file = temp_file("extra.json", EXTRA);
    let h = H::new(SimConfig { extra_catalogues: vec![file.clone()], ..fast() }).await;
    let id = h.create("acme/video-1", json!({"whatever": [1, 2, 3]})).await;
    assert_eq!(h.sim.credits(), 10_000.0 - 12.5);
    let rec = h.wait_job(&id).await;
    assert_eq!((rec["state"].as_str(), rec["creditsConsumed"].as_f64()), (Some("success"), Some(12.5)));
    assert_eq!(h.download(result(&rec)["resultUrls"][0].as_str().unwrap()).await.0, 200);
    let (_, v) = h.post("/api/v1/jobs/createTask", json!({"model": "acme/video-1"})).await;
    assert_eq!((v["code"].as_i64(), v["msg"].as_str()), (Some(422), Some("input is required")));
    let veo = h.veo(json!({"model": "veo-4", "prompt": "x"})).await;
    assert_eq!(h.wait_veo(&veo).await["successFlag"], 1);
    assert_eq!(h.sim.credits(), 10_000.0 - 12.5 - 99.0);
    let (_, v) = h.post("/api/v1/jobs/createTask", json!({"model": "veo-4", "input": {}})).await;
    assert_eq!(v["code"], 422);

    // At run time, by the handle or over HTTP.
    let (_, v) = h.post("/api/v1/jobs/createTask", json!({"model": "acme/video-2", "input": {}})).await;
    assert_eq!(v["code"], 422);
    assert_eq!(h.sim.add_catalogue(r#"{"id": "acme/video-2"}"#).unwrap(), ["acme/video-2"]);
    h.create("acme/video-2", json!({})).await;
    let r =
        h.http.post(h.url("/_sim/catalogue")).body(r#"[{"id": "acme/video-3", "output": "character"}]"#).send().await;
    assert_eq!(r.unwrap().status(), 200);
    let id = h.create("acme/video-3", json!({})).await;
    assert!(result(&h.wait_job(&id).await)["resultObject"]["character_id"].is_string());
    let r = h.http.post(h.url("/_sim/catalogue")).body("{not json").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let models: Value = h.http.get(h.url("/_sim/models")).send().await.unwrap().json().await.unwrap();
    assert_eq!(models["models"]["veo-4"]["protocol"], "veo");
    assert_eq!(models["models"]["acme/video-1"]["family"], "Acme");
    assert_eq!(models["models"]["kling-3.0/video"]["protocol"], "jobs");
    assert_eq!(models["models"]["veo3_lite"]["protocol"], "veo");
    assert_eq!(models["models"]["sora-2-text-to-video"]["family"], "Sora");
    h.sim.shutdown().await;

    let bad = temp_file("bad.json", r#"{"models": [{"id": "x", "protocol": "carrier-pigeon"}]}"#);
    let err = Sim::start(SimConfig { extra_catalogues: vec![bad.clone()], ..fast() }).await.err().expect("refused");
    assert!(err.to_string().contains("carrier-pigeon"), "{err}");
    let missing = std::env::temp_dir().join("kie-sim-no-such-catalogue.json");
    assert!(Sim::start(SimConfig { extra_catalogues: vec![missing], ..fast() }).await.is_err());
    let _ = std::fs::remove_file(file);
    let _ = std::fs::remove_file(bad);
}

#[tokio::test]
async fn binary_flags_catalogue_and_paused() {
    use tokio::io::AsyncBufReadExt;
    let file = temp_file("bin.json", EXTRA);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_kie-sim"))
        .args(["--port", "0", "--gen-ms", "30", "--invisible-ms", "5", "--hd-ready-ms", "10"])
        .args(["--catalogue", file.to_str().unwrap(), "--paused", "sora-2-text-to-video", "--disabled", "veo3"])
        .args(["--download-link-ttl-secs", "60"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line()).await.unwrap().unwrap().unwrap();
    let base = first.strip_prefix("listening on ").unwrap().to_string();
    let http = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        let req = http.post(format!("{base}{path}")).bearer_auth(KEY).json(&body);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let v = post("/api/v1/jobs/createTask", json!({"model": "sora-2-text-to-video", "input": {"prompt": "x"}})).await;
    assert_eq!((v["code"].as_i64(), v["msg"].as_str()), (Some(500), Some(PAUSED)));
    let v = post("/api/v1/veo/generate", json!({"model": "veo3", "prompt": "x"})).await;
    assert_eq!(v["code"], 505);
    let v = post("/api/v1/jobs/createTask", json!({"model": "acme/video-1", "input": {}})).await;
    assert_eq!(v["code"], 200, "{v}");
    child.kill().await.unwrap();
    let _ = std::fs::remove_file(file);

    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_kie-sim"))
        .args(["--catalogue", "/nonexistent/kie-sim.json"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
