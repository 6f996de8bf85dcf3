//! The simulator's state: tasks (of both protocols) and their lifecycle, the credit ledger,
//! result links, uploads, paused models, the model catalogue, faults and counters.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{json, Map, Value};
use tokio::sync::watch;

use crate::catalogue::{Catalogue, Protocol};
use crate::files::{self, Src};
use crate::models::{self, Output, Plan};
use crate::util::{self, now_ms};
use crate::{Endpoint, Fault, FaultRule, SimConfig, Stats};

pub(crate) const PAUSED: &str = "This interface is temporarily paused.";
pub(crate) const DISABLED: &str = "This feature is disabled";

pub(crate) struct Shared {
    pub cfg: SimConfig,
    pub base: String,
    link_secret: [u8; 32],
    st: Mutex<State>,
    pub counters: Counters,
    pub http: reqwest::Client,
    pub stop: watch::Receiver<bool>,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub creates_received: AtomicU64,
    pub tasks_created: AtomicU64,
    pub record_queries: AtomicU64,
    pub credit_queries: AtomicU64,
    pub download_url_calls: AtomicU64,
    pub uploads: AtomicU64,
    pub file_gets: AtomicU64,
    pub callbacks_sent: AtomicU64,
    pub hd_queries: AtomicU64,
    pub rate_limited: AtomicU64,
    /// When each request arrived, by endpoint (tests check rate limits with it).
    pub arrivals: Mutex<Vec<(Endpoint, Instant)>>,
    /// When each record query arrived, by the task id it named.
    pub queried: Mutex<HashMap<String, Vec<Instant>>>,
    /// Record queries admitted in the last second (for `SimConfig::record_limit`).
    pub recent_queries: Mutex<VecDeque<Instant>>,
}

impl Counters {
    pub fn note_arrival(&self, ep: Endpoint) {
        self.arrivals.lock().unwrap_or_else(|e| e.into_inner()).push((ep, Instant::now()));
    }

    pub fn arrivals(&self, ep: Endpoint) -> Vec<Instant> {
        let all = self.arrivals.lock().unwrap_or_else(|e| e.into_inner());
        all.iter().filter(|(e, _)| ep == Endpoint::Any || *e == ep).map(|(_, at)| *at).collect()
    }

    pub fn note_query(&self, task_id: &str) {
        let mut q = self.queried.lock().unwrap_or_else(|e| e.into_inner());
        q.entry(task_id.to_string()).or_default().push(Instant::now());
    }

    pub fn record_queries(&self) -> HashMap<String, Vec<Instant>> {
        self.queried.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Whether a record query may be answered at `now` under `limit` per rolling second
    /// (and, if so, it counts).
    pub fn admit_query(&self, limit: Option<u32>, now: Instant) -> bool {
        let Some(limit) = limit else { return true };
        let mut recent = self.recent_queries.lock().unwrap_or_else(|e| e.into_inner());
        while recent.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(1)) {
            recent.pop_front();
        }
        if recent.len() >= limit as usize {
            return false;
        }
        recent.push_back(now);
        true
    }
}

pub(crate) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

pub(crate) struct State {
    pub credits: f64,
    pub faults: Vec<FaultRule>,
    pub tasks: HashMap<String, Task>,
    /// Admitted creates, for the rolling rate limit.
    pub recent_creates: VecDeque<Instant>,
    /// Signatures of result links that `expire_links` has not revoked.
    pub live_links: HashSet<String>,
    /// Uploads by their (encoded) path under `/uploads/`.
    pub uploads: HashMap<String, Upload>,
    /// Paused models and the code their creates answer (500 or 505).
    pub paused: BTreeMap<String, i64>,
    pub catalogue: Catalogue,
}

pub(crate) struct Upload {
    pub data: Bytes,
    pub mime: &'static str,
}

/// How a task is made to fail (the `FailGeneration` / `FailUpstream` faults).
#[derive(Clone, Debug)]
pub(crate) struct Failure {
    pub code: String,
    pub msg: String,
    /// Veo: successFlag 3 instead of 2.
    pub upstream: bool,
}

impl Failure {
    pub fn from_fault(fault: Option<&Fault>) -> Option<Failure> {
        match fault? {
            Fault::FailGeneration { code, msg } => {
                Some(Failure { code: code.clone(), msg: msg.clone(), upstream: false })
            }
            Fault::FailUpstream { code, msg } => Some(Failure { code: code.clone(), msg: msg.clone(), upstream: true }),
            _ => None,
        }
    }
}

pub(crate) struct Task {
    pub id: String,
    pub protocol: Protocol,
    pub model: String,
    /// The whole create request, as a JSON string.
    pub param: String,
    pub plan: Plan,
    pub created: Instant,
    pub create_ms: u64,
    pub fail: Option<Failure>,
    pub done: Option<Done>,
    /// Veo upscales asked for ("1080p" / "4k"), from the first request.
    pub hd: HashMap<&'static str, Instant>,
}

/// Filled in the first time a task is seen past `gen_ms`: the jobs `resultJson` value, or
/// Veo's `response`; `None` for a failure.
pub(crate) struct Done {
    pub result: Option<Value>,
}

/// The outcome of a create that reached the task logic.
pub(crate) enum CreateOutcome {
    Created {
        task_id: String,
    },
    /// (code, message, retry_after_secs)
    Rejected {
        code: i64,
        msg: String,
        retry_after: Option<u64>,
    },
    /// A paused or disabled model: always answered in an HTTP 200, like Kie.
    Paused {
        code: i64,
        msg: String,
    },
}

/// What `recordInfo` finds for a task id.
pub(crate) enum Lookup {
    Found(Value),
    /// Created, but not visible yet: 422 "recordInfo is null".
    Invisible,
    /// Never created (here, or with this protocol).
    Unknown,
}

/// Veo's upscales.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hd {
    P1080,
    K4,
}

impl Hd {
    fn key(self) -> &'static str {
        match self {
            Hd::P1080 => "1080p",
            Hd::K4 => "4k",
        }
    }

    fn file(self) -> &'static str {
        match self {
            Hd::P1080 => "video-1080p.mp4",
            Hd::K4 => "video-4k.mp4",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Hd::P1080 => "1080P",
            Hd::K4 => "4K",
        }
    }
}

fn pause_text(code: i64) -> String {
    match code {
        500 => PAUSED.to_string(),
        505 => DISABLED.to_string(),
        _ => "This model is not available right now".to_string(),
    }
}

impl Shared {
    pub fn new(cfg: SimConfig, base: String, stop: watch::Receiver<bool>) -> std::io::Result<Shared> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent("kie-sim")
            .build()
            .map_err(std::io::Error::other)?;
        let mut link_secret = [0u8; 32];
        link_secret[..16].copy_from_slice(&rand::random::<u128>().to_le_bytes());
        link_secret[16..].copy_from_slice(&rand::random::<u128>().to_le_bytes());
        let mut catalogue = Catalogue::builtin();
        for path in &cfg.extra_catalogues {
            let text = std::fs::read_to_string(path).map_err(|e| {
                std::io::Error::new(e.kind(), format!("cannot read the catalogue {}: {e}", path.display()))
            })?;
            catalogue.add_json(&text).map_err(|e| {
                std::io::Error::new(std::io::ErrorKind::InvalidData, format!("catalogue {}: {e}", path.display()))
            })?;
        }
        let mut paused = BTreeMap::new();
        for m in &cfg.paused {
            paused.insert(m.clone(), 500);
        }
        for m in &cfg.disabled {
            paused.insert(m.clone(), 505);
        }
        let st = State {
            credits: cfg.initial_credits,
            faults: Vec::new(),
            tasks: HashMap::new(),
            recent_creates: VecDeque::new(),
            live_links: HashSet::new(),
            uploads: HashMap::new(),
            paused,
            catalogue,
        };
        Ok(Shared { cfg, base, link_secret, st: Mutex::new(st), counters: Counters::default(), http, stop })
    }

    /// The state, with every task that is due settled.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        let mut st = self.st.lock().unwrap_or_else(|p| p.into_inner());
        self.settle_all(&mut st, Instant::now());
        st
    }

    // ---- faults -------------------------------------------------------------------------

    pub fn push_faults(&self, rules: Vec<FaultRule>) {
        let mut st = self.st.lock().unwrap_or_else(|p| p.into_inner());
        st.faults.extend(rules.into_iter().filter(|r| r.times > 0));
    }

    pub fn clear_faults(&self) {
        self.st.lock().unwrap_or_else(|p| p.into_inner()).faults.clear();
    }

    pub fn faults(&self) -> Vec<FaultRule> {
        self.st.lock().unwrap_or_else(|p| p.into_inner()).faults.clone()
    }

    /// The first queued rule matching a request to `ep` fires (and counts down).
    pub fn take_fault(&self, ep: Endpoint) -> Option<Fault> {
        let mut st = self.st.lock().unwrap_or_else(|p| p.into_inner());
        let idx = st.faults.iter().position(|r| {
            (r.endpoint == ep || r.endpoint == Endpoint::Any)
                && (ep == Endpoint::Create
                    || !matches!(
                        r.fault,
                        Fault::FailGeneration { .. } | Fault::FailUpstream { .. } | Fault::OddAnswer { .. }
                    ))
        })?;
        let rule = &mut st.faults[idx];
        let fault = rule.fault.clone();
        rule.times -= 1;
        if rule.times == 0 {
            st.faults.remove(idx);
        }
        Some(fault)
    }

    // ---- counters, credits, pauses, catalogue ---------------------------------------------------

    pub fn stats(&self) -> Stats {
        let c = &self.counters;
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            creates_received: g(&c.creates_received),
            tasks_created: g(&c.tasks_created),
            record_queries: g(&c.record_queries),
            credit_queries: g(&c.credit_queries),
            download_url_calls: g(&c.download_url_calls),
            uploads: g(&c.uploads),
            file_gets: g(&c.file_gets),
            callbacks_sent: g(&c.callbacks_sent),
            hd_queries: g(&c.hd_queries),
            rate_limited: g(&c.rate_limited),
        }
    }

    pub fn set_credits(&self, credits: f64) {
        self.lock().credits = credits;
    }

    pub fn credits(&self) -> f64 {
        self.lock().credits
    }

    pub fn pause(&self, model: &str, code: i64) {
        self.lock().paused.insert(model.to_string(), code);
    }

    pub fn unpause(&self, model: &str) {
        self.lock().paused.remove(model);
    }

    pub fn clear_paused(&self) {
        self.lock().paused.clear();
    }

    pub fn paused(&self) -> BTreeMap<String, i64> {
        self.lock().paused.clone()
    }

    pub fn add_catalogue(&self, json: &str) -> Result<Vec<String>, String> {
        self.lock().catalogue.add_json(json)
    }

    /// Every model known (the tables' and the catalogues'): id → (protocol, family).
    pub fn models(&self) -> BTreeMap<String, (&'static str, String)> {
        let st = self.lock();
        let mut out = BTreeMap::new();
        for (id, e) in st.catalogue.iter() {
            out.insert(id.clone(), (e.protocol.name(), e.family.clone()));
        }
        for (id, protocol, family) in models::table_models() {
            out.insert(id.to_string(), (protocol.name(), family.to_string()));
        }
        out
    }

    // ---- tasks ------------------------------------------------------------------------------

    /// The rolling create limit (admitted creates count, whatever happens to them next).
    fn admit(&self, st: &mut State, now: Instant) -> Result<(), CreateOutcome> {
        let window = self.cfg.create_window;
        while st.recent_creates.front().is_some_and(|t| now.duration_since(*t) >= window) {
            st.recent_creates.pop_front();
        }
        if st.recent_creates.len() >= self.cfg.create_limit as usize {
            let oldest = st.recent_creates.front().copied().unwrap_or(now);
            let wait = window.saturating_sub(now.duration_since(oldest));
            let secs = wait.as_millis().div_ceil(1000).max(1) as u64;
            return Err(CreateOutcome::Rejected {
                code: 429,
                msg: "Rate limited: too many createTask requests, please retry later".into(),
                retry_after: Some(secs),
            });
        }
        st.recent_creates.push_back(now);
        Ok(())
    }

    /// Creates a validated, paid-for jobs task (the caller checked auth and faults).
    /// `body` is the raw request body.
    pub fn create(self: &Arc<Self>, body: &[u8], fail: Option<Failure>) -> CreateOutcome {
        let now = Instant::now();
        let mut st = self.lock();
        if let Err(r) = self.admit(&mut st, now) {
            return r;
        }
        let (request, obj) = match parse_object(body) {
            Ok(v) => v,
            Err(r) => return r,
        };
        let model = match obj.get("model") {
            Some(Value::String(m)) if !m.trim().is_empty() => m.clone(),
            Some(Value::String(_)) | None | Some(Value::Null) => return reject(422, "model is required"),
            Some(_) => return reject(422, "model must be a string"),
        };
        if let Some(&code) = st.paused.get(&model) {
            return CreateOutcome::Paused { code, msg: pause_text(code) };
        }
        let callback = match callback_url(&obj) {
            Ok(c) => c,
            Err(r) => return r,
        };
        let empty = Map::new();
        let input = match obj.get("input") {
            Some(Value::Object(i)) => i,
            None | Some(Value::Null) if models::jobs_model(&model, &st.catalogue) => {
                return reject(422, "input is required")
            }
            None | Some(Value::Null) => &empty,
            Some(_) => return reject(422, "input must be an object"),
        };
        let plan = {
            let State { tasks, catalogue, .. } = &*st;
            let origin = |id: &str| {
                tasks.get(id).filter(|t| t.protocol == Protocol::Jobs).map(|t| models::Origin {
                    succeeded: t.done.is_some() && t.fail.is_none(),
                    sora_video: matches!(t.plan.output, Output::Video { .. })
                        && models::family(&t.model, catalogue) == "Sora",
                    seconds: match t.plan.output {
                        Output::Video { seconds, .. } => Some(seconds),
                        _ => None,
                    },
                })
            };
            match models::validate(&model, input, &origin, catalogue) {
                Ok(p) => p,
                Err(msg) => return reject(422, &msg),
            }
        };
        self.open_task(st, Protocol::Jobs, model, &request, plan, fail, callback, now)
    }

    /// Creates a validated, paid-for Veo task from a `veo/generate` body.
    pub fn create_veo(self: &Arc<Self>, body: &[u8], fail: Option<Failure>) -> CreateOutcome {
        let now = Instant::now();
        let mut st = self.lock();
        if let Err(r) = self.admit(&mut st, now) {
            return r;
        }
        let (request, obj) = match parse_object(body) {
            Ok(v) => v,
            Err(r) => return r,
        };
        let named = obj.get("model").and_then(Value::as_str).unwrap_or(models::veo::DEFAULT_MODEL);
        if let Some(&code) = st.paused.get(named) {
            return CreateOutcome::Paused { code, msg: pause_text(code) };
        }
        let callback = match callback_url(&obj) {
            Ok(c) => c,
            Err(r) => return r,
        };
        let (model, plan) = match models::veo::validate(&obj, &st.catalogue) {
            Ok(v) => v,
            Err(msg) => return reject(422, &msg),
        };
        self.open_task(st, Protocol::Veo, model, &request, plan, fail, callback, now)
    }

    /// Charges for and stores a validated task, and schedules its callback.
    #[allow(clippy::too_many_arguments)]
    fn open_task(
        self: &Arc<Self>,
        mut st: MutexGuard<'_, State>,
        protocol: Protocol,
        model: String,
        request: &Value,
        plan: Plan,
        fail: Option<Failure>,
        callback: Option<String>,
        now: Instant,
    ) -> CreateOutcome {
        if st.credits + 1e-9 < plan.price {
            return reject(402, "Credits insufficient");
        }
        st.credits -= plan.price;
        let id = loop {
            let id = util::task_id();
            if !st.tasks.contains_key(&id) {
                break id;
            }
        };
        let param = serde_json::to_string(request).unwrap_or_default();
        st.tasks.insert(
            id.clone(),
            Task {
                id: id.clone(),
                protocol,
                model,
                param,
                plan,
                created: now,
                create_ms: now_ms(),
                fail,
                done: None,
                hd: HashMap::new(),
            },
        );
        bump(&self.counters.tasks_created);
        drop(st);
        if let Some(url) = callback {
            self.schedule_callback(id.clone(), url, now);
        }
        CreateOutcome::Created { task_id: id }
    }

    fn schedule_callback(self: &Arc<Self>, id: String, url: String, created: Instant) {
        let me = self.clone();
        let due = created + Duration::from_millis(self.cfg.gen_ms);
        let mut stop = self.stop.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = tokio::time::sleep_until(due.into()) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
            let Some(body) = me.callback_body(&id) else { return };
            let ts = (now_ms() / 1000) as i64;
            let sig = util::callback_signature(&me.cfg.key, &id, ts);
            bump(&me.counters.callbacks_sent);
            let send = me
                .http
                .post(&url)
                .header("X-Webhook-Timestamp", ts.to_string())
                .header("X-Webhook-Signature", sig)
                .json(&body)
                .send();
            tokio::select! {
                _ = send => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        });
    }

    /// The callback's body. Jobs: `{code, msg, data: record}` with the final record,
    /// `failCode` as a string (as seed 000's example), plus `consumeCredits` and
    /// `remainedCredits`. Veo: `{code, msg, data: {taskId, info: {resultUrls, originUrls,
    /// resolution} | null, fallbackFlag}}`.
    fn callback_body(&self, id: &str) -> Option<Value> {
        let st = self.lock();
        let task = st.tasks.get(id)?;
        let ok = task.fail.is_none();
        if task.protocol == Protocol::Veo {
            let info = task.done.as_ref().and_then(|d| d.result.clone()).map(|mut r| {
                if let Some(o) = r.as_object_mut() {
                    o.remove("taskId");
                }
                r
            });
            let data = json!({"taskId": task.id, "info": info, "fallbackFlag": false});
            return Some(match &task.fail {
                None => json!({"code": 200, "msg": "Veo3 video generated successfully.", "data": data}),
                Some(f) => json!({"code": 501, "msg": f.msg, "data": data}),
            });
        }
        let mut rec = self.record(task, Instant::now(), true);
        let consumed = if ok { task.plan.price } else { 0.0 };
        rec["consumeCredits"] = number(consumed);
        rec["remainedCredits"] = number(st.credits);
        Some(if ok {
            json!({"code": 200, "msg": "Playground task completed successfully.", "data": rec})
        } else {
            json!({"code": 501, "msg": "Playground task failed.", "data": rec})
        })
    }

    /// Finishes every task whose time has come: links for successes, refunds for failures.
    fn settle_all(&self, st: &mut State, now: Instant) {
        let State { tasks, credits, live_links, .. } = st;
        let ttl = self.cfg.link_ttl;
        for task in tasks.values_mut() {
            if task.done.is_some() || now.duration_since(task.created) < Duration::from_millis(self.cfg.gen_ms) {
                continue;
            }
            if task.fail.is_some() {
                *credits += task.plan.price;
                task.done = Some(Done { result: None });
                continue;
            }
            let mut link = |name: &str| self.issue_link(live_links, &task.id, name, ttl);
            let result = match (&task.protocol, &task.plan.output) {
                (Protocol::Veo, _) => json!({
                    "taskId": task.id,
                    "resultUrls": [link("video.mp4")],
                    "originUrls": [link("origin.mp4")],
                    "resolution": task.plan.resolution.as_deref().unwrap_or("720p"),
                }),
                (_, Output::Video { .. }) => json!({
                    "resultUrls": [link("video.mp4")],
                    "resultWaterMarkUrls": [link("video-watermark.mp4")],
                    "firstFrameUrl": link("first-frame.jpg"),
                }),
                (_, Output::Remover) => json!({"resultUrls": [link("video.mp4")]}),
                (_, Output::Character { handle: Some(handle) }) => json!({"resultObject": {
                    "character_id": format!("char_{}", util::short_hex(24)),
                    "character_user_name": handle,
                    "remark": format!("insert this username directly into your prompt.(@{handle})."),
                }}),
                (_, Output::Character { handle: None }) => json!({"resultObject": {
                    "character_id": format!("char_{}", util::short_hex(24)),
                }}),
            };
            task.done = Some(Done { result: Some(result) });
        }
    }

    /// A fresh signed link to `/files/<task>/<name>`, valid for `ttl`.
    fn issue_link(&self, live: &mut HashSet<String>, task: &str, name: &str, ttl: Duration) -> String {
        let path = format!("/files/{task}/{name}");
        let exp = now_ms() + ttl.as_millis() as u64;
        let sig = util::link_signature(&self.link_secret, &path, exp);
        live.insert(sig.clone());
        format!("{}{path}?exp={exp}&sig={sig}", self.base)
    }

    /// The record of either protocol, as its query endpoint answers it.
    fn any_record(&self, task: &Task, now: Instant) -> Value {
        match task.protocol {
            Protocol::Jobs => self.record(task, now, false),
            Protocol::Veo => self.veo_record(task),
        }
    }

    /// The record as `recordInfo` answers it (`for_callback`: failCode as a string).
    pub fn record(&self, task: &Task, now: Instant, for_callback: bool) -> Value {
        let gen = self.cfg.gen_ms;
        let elapsed = now.duration_since(task.created).as_millis() as u64;
        let mut rec = json!({
            "taskId": task.id,
            "model": task.model,
            "param": task.param,
            "resultJson": null,
            "failCode": null,
            "failMsg": null,
            "costTime": null,
            "createTime": task.create_ms,
            "completeTime": null,
            "creditsConsumed": null,
        });
        match &task.done {
            Some(done) => {
                let complete = task.create_ms + gen;
                rec["costTime"] = json!(gen);
                rec["completeTime"] = json!(complete);
                rec["updateTime"] = json!(complete);
                match &task.fail {
                    None => {
                        rec["state"] = json!("success");
                        rec["resultJson"] = json!(done.result.as_ref().map(Value::to_string));
                        rec["failCode"] = json!("");
                        rec["failMsg"] = json!("");
                        rec["progress"] = json!(100);
                        rec["creditsConsumed"] = json!(task.plan.price);
                    }
                    Some(f) => {
                        rec["state"] = json!("fail");
                        // Types drift: a numeric failCode is a number in recordInfo, and a
                        // string in callbacks (as documented).
                        rec["failCode"] = match f.code.parse::<i64>() {
                            Ok(n) if !for_callback => json!(n),
                            _ => json!(f.code),
                        };
                        rec["failMsg"] = json!(f.msg);
                        rec["progress"] = json!(0);
                        rec["creditsConsumed"] = json!(0);
                    }
                }
            }
            None => {
                let waiting_end = gen / 5;
                let queuing_end = gen * 2 / 5;
                let (state, since, progress) = if elapsed < waiting_end {
                    ("waiting", 0, 0)
                } else if elapsed < queuing_end {
                    ("queuing", waiting_end, 0)
                } else {
                    let span = (gen - queuing_end).max(1);
                    let p = ((elapsed - queuing_end) * 100 / span).clamp(1, 99);
                    ("generating", queuing_end, p)
                };
                rec["state"] = json!(state);
                rec["updateTime"] = json!(task.create_ms + since);
                rec["progress"] = json!(progress);
            }
        }
        rec
    }

    /// The record as Veo's `record-info` answers it.
    fn veo_record(&self, task: &Task) -> Value {
        let mut rec = json!({
            "taskId": task.id,
            "paramJson": task.param,
            "createTime": task.create_ms,
            "completeTime": null,
            "successFlag": 0,
            "errorCode": null,
            "errorMessage": null,
            "response": null,
            "fallbackFlag": false,
        });
        if let Some(done) = &task.done {
            rec["completeTime"] = json!(task.create_ms + self.cfg.gen_ms);
            match &task.fail {
                None => {
                    rec["successFlag"] = json!(1);
                    rec["response"] = done.result.clone().unwrap_or(Value::Null);
                }
                Some(f) => {
                    rec["successFlag"] = json!(if f.upstream { 3 } else { 2 });
                    rec["errorCode"] = match f.code.parse::<i64>() {
                        Ok(n) => json!(n),
                        Err(_) => json!(f.code),
                    };
                    rec["errorMessage"] = json!(f.msg);
                }
            }
        }
        rec
    }

    /// What a record query of `protocol` finds for `id`.
    pub fn lookup(&self, id: &str, protocol: Protocol) -> Lookup {
        let st = self.lock();
        let Some(task) = st.tasks.get(id).filter(|t| t.protocol == protocol) else {
            return Lookup::Unknown;
        };
        let now = Instant::now();
        if now.duration_since(task.created) < Duration::from_millis(self.cfg.invisible_ms) {
            return Lookup::Invisible;
        }
        Lookup::Found(self.any_record(task, now))
    }

    pub fn task_record(&self, id: &str) -> Option<Value> {
        let st = self.lock();
        st.tasks.get(id).map(|t| self.any_record(t, Instant::now()))
    }

    /// Veo's get-1080p-video / get-4k-video: the link once ready, else (code, msg).
    pub fn hd_video(&self, id: &str, index: i64, hd: Hd) -> Result<String, (i64, String)> {
        let mut st = self.lock();
        let State { tasks, live_links, .. } = &mut *st;
        let Some(task) = tasks.get_mut(id).filter(|t| t.protocol == Protocol::Veo) else {
            return Err((404, "task not found".into()));
        };
        if task.done.is_none() || task.fail.is_some() {
            return Err((422, "record status is not success".into()));
        }
        if index != 0 {
            return Err((422, format!("index {index} is out of range (the task has 1 video)")));
        }
        let now = Instant::now();
        let started = *task.hd.entry(hd.key()).or_insert(now);
        if now.duration_since(started) < self.cfg.hd_ready_after {
            return Err((400, format!("{} is processing", hd.label())));
        }
        Ok(self.issue_link(live_links, id, hd.file(), self.cfg.link_ttl))
    }

    // ---- files and links --------------------------------------------------------------------

    pub fn expire_links(&self) {
        self.lock().live_links.clear();
    }

    /// The bytes and type of `/files/<task>/<name>`, if that task has such a file.
    pub fn task_file(&self, task: &str, name: &str) -> Option<(Src, &'static str)> {
        let st = self.lock();
        let t = st.tasks.get(task)?;
        t.done.as_ref()?;
        if t.fail.is_some() {
            return None;
        }
        let video = |portrait: bool| match self.cfg.result_size {
            Some(n) => Src::Synthetic(n),
            None if portrait => Src::Static(files::PORTRAIT_MP4),
            None => Src::Static(files::LANDSCAPE_MP4),
        };
        let veo = t.protocol == Protocol::Veo;
        match (&t.plan.output, name) {
            (Output::Video { portrait, .. }, "video.mp4") => Some((video(*portrait), "video/mp4")),
            (Output::Video { portrait, .. }, "video-watermark.mp4") if !veo => Some((video(*portrait), "video/mp4")),
            (Output::Video { portrait, .. }, "origin.mp4" | "video-1080p.mp4" | "video-4k.mp4") if veo => {
                Some((video(*portrait), "video/mp4"))
            }
            (Output::Video { portrait: true, .. }, "first-frame.jpg") if !veo => {
                Some((Src::Static(files::PORTRAIT_JPG), "image/jpeg"))
            }
            (Output::Video { portrait: false, .. }, "first-frame.jpg") if !veo => {
                Some((Src::Static(files::LANDSCAPE_JPG), "image/jpeg"))
            }
            (Output::Remover, "video.mp4") => Some((video(false), "video/mp4")),
            _ => None,
        }
    }

    /// Whether a link's `exp`/`sig` are good now: `Err` carries the reason for a 403.
    pub fn check_link(&self, path: &str, exp: Option<&str>, sig: Option<&str>) -> Result<(), &'static str> {
        let (Some(exp), Some(sig)) = (exp, sig) else { return Err("Request is missing a signature") };
        let Ok(exp_ms) = exp.parse::<u64>() else { return Err("Invalid expiry") };
        if util::link_signature(&self.link_secret, path, exp_ms) != sig {
            return Err("The request signature we calculated does not match the signature you provided");
        }
        if now_ms() >= exp_ms || !self.lock().live_links.contains(sig) {
            return Err("Request has expired");
        }
        Ok(())
    }

    /// `download-url`: a fresh link (valid `download_link_ttl`) for a result URL this
    /// simulator produced.
    pub fn renew_link(&self, url: &str) -> Option<String> {
        let rest = url.strip_prefix(&self.base)?.strip_prefix("/files/")?;
        let path = rest.split(['?', '#']).next()?;
        let (task, name) = path.split_once('/')?;
        self.task_file(task, name)?;
        let mut st = self.lock();
        Some(self.issue_link(&mut st.live_links, task, name, self.cfg.download_link_ttl))
    }

    pub fn add_upload(&self, key: String, data: Bytes, mime: &'static str) {
        self.lock().uploads.insert(key, Upload { data, mime });
    }

    pub fn upload(&self, key: &str) -> Option<(Src, &'static str)> {
        let st = self.lock();
        st.uploads.get(key).map(|u| (Src::Shared(u.data.clone()), u.mime))
    }
}

fn reject(code: i64, msg: &str) -> CreateOutcome {
    CreateOutcome::Rejected { code, msg: msg.to_string(), retry_after: None }
}

/// The request body as a JSON object (400 otherwise).
fn parse_object(body: &[u8]) -> Result<(Value, Map<String, Value>), CreateOutcome> {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return Err(reject(400, "The request body is not valid JSON"));
    };
    match request.as_object() {
        Some(obj) => {
            let obj = obj.clone();
            Ok((request, obj))
        }
        None => Err(reject(400, "The request body must be a JSON object")),
    }
}

/// `callBackUrl`: absent, empty, or an http(s) URL.
fn callback_url(obj: &Map<String, Value>) -> Result<Option<String>, CreateOutcome> {
    match obj.get("callBackUrl") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(u)) if u.is_empty() => Ok(None),
        Some(Value::String(u)) if u.starts_with("http://") || u.starts_with("https://") => Ok(Some(u.clone())),
        Some(_) => Err(reject(422, "callBackUrl must be an http(s) URL")),
    }
}

/// Whether an unknown task id answers 404 (else 422 "recordInfo is null"): decided by a
/// hash of the id, so the same id always gets the same answer.
pub(crate) fn unknown_is_404(id: &str) -> bool {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h.is_multiple_of(2)
}

/// A balance or price as JSON: an integer when whole, else a float.
pub(crate) fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}
