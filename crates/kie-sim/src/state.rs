//! The simulator's state: tasks and their lifecycle, the credit ledger, result links,
//! uploads, faults and counters.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::files::{self, Src};
use crate::models::{Output, Plan};
use crate::util::{self, now_ms};
use crate::{Endpoint, Fault, FaultRule, SimConfig, Stats};

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
}

pub(crate) struct Upload {
    pub data: Bytes,
    pub mime: &'static str,
}

pub(crate) struct Task {
    pub id: String,
    pub model: String,
    /// The whole create request, as a JSON string.
    pub param: String,
    pub plan: Plan,
    pub created: Instant,
    pub create_ms: u64,
    /// `FailGeneration`: (failCode, failMsg).
    pub fail: Option<(String, String)>,
    pub done: Option<Done>,
}

/// Filled in the first time a task is seen past `gen_ms`.
pub(crate) struct Done {
    pub result_json: Option<String>,
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
}

impl Shared {
    pub fn new(cfg: SimConfig, base: String, stop: watch::Receiver<bool>) -> std::io::Result<Shared> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent("kie-sim callback")
            .build()
            .map_err(std::io::Error::other)?;
        let mut link_secret = [0u8; 32];
        link_secret[..16].copy_from_slice(&rand::random::<u128>().to_le_bytes());
        link_secret[16..].copy_from_slice(&rand::random::<u128>().to_le_bytes());
        let st = State {
            credits: cfg.initial_credits,
            faults: Vec::new(),
            tasks: HashMap::new(),
            recent_creates: VecDeque::new(),
            live_links: HashSet::new(),
            uploads: HashMap::new(),
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
                && (ep == Endpoint::Create || !matches!(r.fault, Fault::FailGeneration { .. }))
        })?;
        let rule = &mut st.faults[idx];
        let fault = rule.fault.clone();
        rule.times -= 1;
        if rule.times == 0 {
            st.faults.remove(idx);
        }
        Some(fault)
    }

    // ---- counters, credits ----------------------------------------------------------------

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
        }
    }

    pub fn set_credits(&self, credits: f64) {
        self.lock().credits = credits;
    }

    pub fn credits(&self) -> f64 {
        self.lock().credits
    }

    // ---- tasks ------------------------------------------------------------------------------

    /// Creates a validated, paid-for task (the caller checked auth and faults).
    /// `body` is the raw request body.
    pub fn create(self: &Arc<Self>, body: &[u8], fail: Option<(String, String)>) -> CreateOutcome {
        let reject = |code: i64, msg: &str| CreateOutcome::Rejected { code, msg: msg.to_string(), retry_after: None };
        let now = Instant::now();
        let mut st = self.lock();

        // The rolling create limit (admitted creates count, whatever happens to them next).
        let window = self.cfg.create_window;
        while st.recent_creates.front().is_some_and(|t| now.duration_since(*t) >= window) {
            st.recent_creates.pop_front();
        }
        if st.recent_creates.len() >= self.cfg.create_limit as usize {
            let oldest = st.recent_creates.front().copied().unwrap_or(now);
            let wait = window.saturating_sub(now.duration_since(oldest));
            let secs = wait.as_millis().div_ceil(1000).max(1) as u64;
            return CreateOutcome::Rejected {
                code: 429,
                msg: "Rate limited: too many createTask requests, please retry later".into(),
                retry_after: Some(secs),
            };
        }
        st.recent_creates.push_back(now);

        let Ok(request) = serde_json::from_slice::<Value>(body) else {
            return reject(400, "The request body is not valid JSON");
        };
        let Some(obj) = request.as_object() else {
            return reject(400, "The request body must be a JSON object");
        };
        let model = match obj.get("model") {
            Some(Value::String(m)) if !m.trim().is_empty() => m.clone(),
            Some(Value::String(_)) | None | Some(Value::Null) => return reject(422, "model is required"),
            Some(_) => return reject(422, "model must be a string"),
        };
        match obj.get("callBackUrl") {
            None | Some(Value::Null) => {}
            Some(Value::String(u)) if u.starts_with("http://") || u.starts_with("https://") => {}
            Some(Value::String(u)) if u.is_empty() => {}
            Some(_) => return reject(422, "callBackUrl must be an http(s) URL"),
        }
        let callback = obj.get("callBackUrl").and_then(Value::as_str).filter(|u| !u.is_empty()).map(str::to_string);
        let empty = serde_json::Map::new();
        let input = match obj.get("input") {
            Some(Value::Object(i)) => i,
            None | Some(Value::Null) if model_known(&model) => return reject(422, "input is required"),
            None | Some(Value::Null) => &empty,
            Some(_) => return reject(422, "input must be an object"),
        };
        let tasks = &st.tasks;
        let origin = |id: &str| {
            tasks.get(id).map(|t| crate::models::Origin {
                model: t.model.clone(),
                succeeded: t.done.is_some() && t.fail.is_none(),
                seconds: match t.plan.output {
                    Output::Video { seconds, .. } => Some(seconds),
                    _ => None,
                },
            })
        };
        let plan = match crate::models::validate(&model, input, &origin) {
            Ok(p) => p,
            Err(msg) => return reject(422, &msg),
        };
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
        let param = serde_json::to_string(&request).unwrap_or_default();
        st.tasks.insert(
            id.clone(),
            Task { id: id.clone(), model, param, plan, created: now, create_ms: now_ms(), fail, done: None },
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
            let Some((code, msg, record)) = me.callback_body(&id) else { return };
            let ts = (now_ms() / 1000) as i64;
            let sig = util::callback_signature(&me.cfg.key, &id, ts);
            let body = json!({"code": code, "msg": msg, "data": record});
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

    /// The callback's code, msg and record: the final record with `failCode` as a string
    /// (as seed 000's example), plus `consumeCredits` and `remainedCredits`.
    fn callback_body(&self, id: &str) -> Option<(i64, &'static str, Value)> {
        let st = self.lock();
        let task = st.tasks.get(id)?;
        let mut rec = self.record(task, Instant::now(), true);
        let ok = task.fail.is_none();
        let consumed = if ok { task.plan.price } else { 0.0 };
        rec["consumeCredits"] = number(consumed);
        rec["remainedCredits"] = number(st.credits);
        if ok {
            Some((200, "Playground task completed successfully.", rec))
        } else {
            Some((501, "Playground task failed.", rec))
        }
    }

    /// Finishes every task whose time has come: links for successes, refunds for failures.
    fn settle_all(&self, st: &mut State, now: Instant) {
        let State { tasks, credits, live_links, .. } = st;
        for task in tasks.values_mut() {
            if task.done.is_some() || now.duration_since(task.created) < Duration::from_millis(self.cfg.gen_ms) {
                continue;
            }
            if task.fail.is_some() {
                *credits += task.plan.price;
                task.done = Some(Done { result_json: None });
                continue;
            }
            let mut link = |name: &str| self.issue_link(live_links, &task.id, name);
            let result = match &task.plan.output {
                Output::Video { .. } => json!({
                    "resultUrls": [link("video.mp4")],
                    "resultWaterMarkUrls": [link("video-watermark.mp4")],
                    "firstFrameUrl": link("first-frame.jpg"),
                }),
                Output::Remover => json!({"resultUrls": [link("video.mp4")]}),
                Output::Character { handle } => json!({"resultObject": {
                    "character_id": format!("char_{}", util::short_hex(24)),
                    "character_user_name": handle,
                    "remark": format!("insert this username directly into your prompt.(@{handle})."),
                }}),
            };
            task.done = Some(Done { result_json: Some(result.to_string()) });
        }
    }

    /// A fresh signed link to `/files/<task>/<name>`, valid for `link_ttl`.
    fn issue_link(&self, live: &mut HashSet<String>, task: &str, name: &str) -> String {
        let path = format!("/files/{task}/{name}");
        let exp = now_ms() + self.cfg.link_ttl.as_millis() as u64;
        let sig = util::link_signature(&self.link_secret, &path, exp);
        live.insert(sig.clone());
        format!("{}{path}?exp={exp}&sig={sig}", self.base)
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
                        rec["resultJson"] = json!(done.result_json);
                        rec["failCode"] = json!("");
                        rec["failMsg"] = json!("");
                        rec["progress"] = json!(100);
                        rec["creditsConsumed"] = json!(task.plan.price);
                    }
                    Some((code, msg)) => {
                        rec["state"] = json!("fail");
                        // Types drift: a numeric failCode is a number in recordInfo, and a
                        // string in callbacks (as documented).
                        rec["failCode"] = match code.parse::<i64>() {
                            Ok(n) if !for_callback => json!(n),
                            _ => json!(code),
                        };
                        rec["failMsg"] = json!(msg);
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

    /// `recordInfo`'s data, or `None` for "recordInfo is null" (unknown or still invisible).
    pub fn visible_record(&self, id: &str) -> Option<Value> {
        let st = self.lock();
        let task = st.tasks.get(id)?;
        let now = Instant::now();
        if now.duration_since(task.created) < Duration::from_millis(self.cfg.invisible_ms) {
            return None;
        }
        Some(self.record(task, now, false))
    }

    pub fn task_record(&self, id: &str) -> Option<Value> {
        let st = self.lock();
        st.tasks.get(id).map(|t| self.record(t, Instant::now(), false))
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
        match (&t.plan.output, name) {
            (Output::Video { portrait, .. }, "video.mp4" | "video-watermark.mp4") => {
                Some((video(*portrait), "video/mp4"))
            }
            (Output::Video { portrait: true, .. }, "first-frame.jpg") => {
                Some((Src::Static(files::PORTRAIT_JPG), "image/jpeg"))
            }
            (Output::Video { portrait: false, .. }, "first-frame.jpg") => {
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

    /// `download-url`: a fresh link for a result URL this simulator produced.
    pub fn renew_link(&self, url: &str) -> Option<String> {
        let rest = url.strip_prefix(&self.base)?.strip_prefix("/files/")?;
        let path = rest.split(['?', '#']).next()?;
        let (task, name) = path.split_once('/')?;
        self.task_file(task, name)?;
        let mut st = self.lock();
        Some(self.issue_link(&mut st.live_links, task, name))
    }

    pub fn add_upload(&self, key: String, data: Bytes, mime: &'static str) {
        self.lock().uploads.insert(key, Upload { data, mime });
    }

    pub fn upload(&self, key: &str) -> Option<(Src, &'static str)> {
        let st = self.lock();
        st.uploads.get(key).map(|u| (Src::Shared(u.data.clone()), u.mime))
    }
}

fn model_known(model: &str) -> bool {
    crate::models::VIDEO_MODELS.contains(&model)
        || model == "sora-watermark-remover"
        || model == "sora-2-characters-pro"
}

/// A balance or price as JSON: an integer when whole, else a float.
pub(crate) fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}
