//! A local stand-in for Kie.ai's jobs API and Veo's API (see `shared/kie-api.md`), with
//! faults on demand.
//!
//! Tests start it in-process on a free loopback port:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use kie_sim::{Endpoint, Fault, FaultRule, Sim, SimConfig};
//! let sim = Sim::start(SimConfig { gen_ms: 50, invisible_ms: 10, ..SimConfig::default() }).await?;
//! sim.push_fault(FaultRule::new(Endpoint::RecordInfo, Fault::MalformedJson).times(2));
//! // point the client at sim.base_url() and sim.upload_base_url(), key "sim-key"
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Everything is in memory; task lifecycles are computed from the creation instant when
//! queried (only callbacks use a timer).

mod catalogue;
mod files;
mod models;
mod multipart;
mod rules;
mod server;
mod state;
mod util;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::Shared;

/// How the simulator behaves. `Default` gives Kie-like timings scaled down for a demo.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The only API key accepted (`Authorization: Bearer <key>`).
    pub key: String,
    /// Milliseconds from creation to the final state.
    pub gen_ms: u64,
    /// Milliseconds after creation during which `recordInfo` answers 422 "recordInfo is null".
    pub invisible_ms: u64,
    /// Starting balance.
    pub initial_credits: f64,
    /// Creates allowed in any rolling `create_window`; the next one gets HTTP 429.
    pub create_limit: u32,
    pub create_window: Duration,
    /// Lifetime of the result links in records (from when they are issued): about 24 h at Kie.
    pub link_ttl: Duration,
    /// Lifetime of the links `download-url` gives: about 20 min at Kie.
    pub download_link_ttl: Duration,
    /// false: errors are HTTP 200 with the code in the envelope (Kie's usual);
    /// true: the HTTP status is set to the code as well.
    pub http_status_errors: bool,
    /// Some(n): result videos are synthetic files of n bytes (for download benchmarks):
    /// whole MP4s made on the fly as they are sent, never held in memory, whatever n.
    pub result_size: Option<u64>,
    /// Some(n): at most n record queries (both protocols) in any rolling second, as Kie's
    /// 10 per second per key; the next answers HTTP 429 (`Retry-After: 1`) unprocessed.
    /// None: unlimited.
    pub record_limit: Option<u32>,
    /// More model catalogues (the app's format: `{"models":[{"id","protocol"?,"output"?,
    /// "family"?,"pricing"?...}]}`), read at start, beside the app's own catalogue. A model
    /// the simulator's tables do not know is accepted with any input, at the first
    /// `pricing.rules[].credits` of its entry.
    pub extra_catalogues: Vec<PathBuf>,
    /// Veo: how long after the first `get-1080p-video` (or `get-4k-video`) request for a
    /// task the upscaled video is ready; until then the answer is code 400 "... is processing".
    pub hd_ready_after: Duration,
    /// Models whose creates answer code 500 "This interface is temporarily paused." from the
    /// start (see `Sim::pause_model`).
    pub paused: Vec<String>,
    /// Models whose creates answer code 505 "This feature is disabled" from the start.
    pub disabled: Vec<String>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            key: "sim-key".to_string(),
            gen_ms: 3000,
            invisible_ms: 500,
            initial_credits: 10_000.0,
            create_limit: 20,
            create_window: Duration::from_secs(10),
            link_ttl: Duration::from_secs(24 * 3600),
            download_link_ttl: Duration::from_secs(20 * 60),
            http_status_errors: false,
            result_size: None,
            record_limit: None,
            extra_catalogues: Vec::new(),
            hd_ready_after: Duration::from_secs(3),
            paused: Vec::new(),
            disabled: Vec::new(),
        }
    }
}

/// Which kind of request a fault applies to.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `POST /api/v1/jobs/createTask` and `POST /api/v1/veo/generate`
    Create,
    /// `GET /api/v1/jobs/recordInfo` and `GET /api/v1/veo/record-info`
    RecordInfo,
    /// `GET /api/v1/chat/credit`
    Credit,
    /// `POST /api/v1/common/download-url`
    DownloadUrl,
    /// `POST /api/file-stream-upload`, `/api/file-url-upload`, `/api/file-base64-upload`
    Upload,
    /// Veo's `GET /api/v1/veo/get-1080p-video` and `POST /api/v1/veo/get-4k-video`
    VeoHd,
    /// `GET` of any served file: results, first frames, synthetic files, uploads.
    File,
    /// Any of the above.
    Any,
}

/// What goes wrong. Serialized with a `kind` tag, e.g. `{"kind":"http_status","status":503}`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// A real HTTP status with body `{"code":status,"msg":"..."}`; nothing is processed.
    HttpStatus { status: u16 },
    /// HTTP 200 with this code and msg in the envelope; nothing is processed.
    Code { code: i64, msg: String },
    /// HTTP 429, envelope code 429, and `Retry-After` (seconds, or an HTTP date) when given.
    RateLimited {
        #[serde(default)]
        retry_after_secs: Option<u64>,
        #[serde(default)]
        retry_after_date: bool,
    },
    /// Envelope code 455 "service unavailable / maintenance" (HTTP 200, or 455 with
    /// `http_status_errors`).
    Maintenance,
    /// The request is processed as usual (side effects happen), then answered only after
    /// `ms` milliseconds.
    Slow { ms: u64 },
    /// HTTP 200 with a truncated JSON body; nothing is processed.
    MalformedJson,
    /// The request is processed; the answer announces its full `Content-Length`, sends
    /// `after_bytes` bytes and ends early (the connection closes; the client sees a short body).
    TruncateBody { after_bytes: u64 },
    /// The request is processed; the answer sends `after_bytes` bytes, then the body fails
    /// with an I/O error and the connection is aborted.
    ResetBody { after_bytes: u64 },
    /// HTTP 403 as an expired link answers (S3-style XML body); nothing is processed.
    ExpiredLink,
    /// HTTP 200, code 500, msg "This interface is temporarily paused."; nothing is processed.
    Paused,
    /// The request IS processed (a create is created and charged), the headers are sent,
    /// then the body is aborted with an error.
    LoseResponse,
    /// Creates only: the create succeeds, but the task ends in state `fail` with this
    /// failCode/failMsg, and is refunded (creditsConsumed 0). A Veo task ends with
    /// successFlag 2 and this errorCode/errorMessage.
    FailGeneration { code: String, msg: String },
    /// As `FailGeneration`, but a Veo task ends with successFlag 3 ("created, but generation
    /// failed upstream"). A jobs task ends in state `fail` as with `FailGeneration`.
    FailUpstream { code: String, msg: String },
    /// Creates only: the create IS processed (the task exists and is charged), then answered
    /// with this HTTP status and this envelope code instead of 200, the task id in `data` as
    /// on success (Kie was seen answering code 201 with a taskId). E.g. 201/201, 200/299,
    /// 302/302, 418/418.
    OddAnswer { status: u16, code: i64 },
    /// The request is processed; the answer is sent without `Content-Length` (chunked), its
    /// bytes followed by filler (zeros) that never ends.
    EndlessBody,
    /// The request is processed; the answer is sent without `Content-Length` (chunked), and
    /// its body ends cleanly after `after_bytes` bytes: on the wire, a whole but short answer.
    CutUnannounced { after_bytes: u64 },
    /// HTTP `status` (default 302) with `Location: location`; nothing is processed.
    Redirect {
        location: String,
        #[serde(default = "found")]
        status: u16,
    },
    /// Records only: a success record's `resultUrls` (jobs: in `resultJson`; Veo: in
    /// `response`) lists its first link `count` times.
    ManyResultUrls { count: u32 },
}

fn found() -> u16 {
    302
}

/// A fault and how many matching requests it hits.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct FaultRule {
    pub endpoint: Endpoint,
    pub fault: Fault,
    /// How many matching requests it hits (default 1).
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

impl FaultRule {
    pub fn new(endpoint: Endpoint, fault: Fault) -> Self {
        FaultRule { endpoint, fault, times: 1 }
    }

    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }
}

/// Request counters. Every counter but `tasks_created` and `callbacks_sent` counts
/// requests received, whatever their outcome (faulted, unauthorized, invalid).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
#[serde(default)]
pub struct Stats {
    /// Every POST to createTask or veo/generate, even rejected ones.
    pub creates_received: u64,
    /// Tasks actually created (and charged).
    pub tasks_created: u64,
    pub record_queries: u64,
    pub credit_queries: u64,
    pub download_url_calls: u64,
    pub uploads: u64,
    pub file_gets: u64,
    /// Callback POSTs attempted (counted just before sending).
    pub callbacks_sent: u64,
    /// Veo's get-1080p-video and get-4k-video requests.
    pub hd_queries: u64,
    /// Answers with HTTP status 429: the create window, `record_limit`, `RateLimited` faults.
    pub rate_limited: u64,
}

/// A running simulator. Dropping it stops the server too; `shutdown` does so gracefully.
pub struct Sim {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    server: Option<JoinHandle<()>>,
}

impl Sim {
    /// Starts on a free port of 127.0.0.1.
    pub async fn start(cfg: SimConfig) -> std::io::Result<Sim> {
        Sim::start_on(cfg, 0).await
    }

    /// Starts on 127.0.0.1:`port` (0 for a free one).
    pub async fn start_on(cfg: SimConfig, port: u16) -> std::io::Result<Sim> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let base = format!("http://127.0.0.1:{}", addr.port());
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(cfg, base, stop_rx.clone())?);
        let app = server::router(shared.clone());
        let mut rx = stop_rx;
        let server = tokio::spawn(async move {
            let stopped = async move {
                let _ = rx.wait_for(|s| *s).await;
            };
            let _ = axum::serve(listener, app).with_graceful_shutdown(stopped).await;
        });
        Ok(Sim { shared, addr, stop, server: Some(server) })
    }

    /// `http://127.0.0.1:PORT`, the API base.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// The upload base: the same server.
    pub fn upload_base_url(&self) -> String {
        self.base_url()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a fault. Rules are checked per request in push order; the first matching
    /// one fires and counts down.
    pub fn push_fault(&self, rule: FaultRule) {
        self.shared.push_faults(vec![rule]);
    }

    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// When each request of this kind arrived, in order (`Endpoint::Any`: every request).
    /// For checking rate limits: `Stats` only counts.
    pub fn arrivals(&self, endpoint: Endpoint) -> Vec<std::time::Instant> {
        self.shared.counters.arrivals(endpoint)
    }

    /// When each record query arrived, by the task id it asked about (both protocols,
    /// whatever the answer), in order: for checking a poller's cadence task by task.
    pub fn record_queries(&self) -> std::collections::HashMap<String, Vec<std::time::Instant>> {
        self.shared.counters.record_queries()
    }

    pub fn set_credits(&self, credits: f64) {
        self.shared.set_credits(credits);
    }

    pub fn credits(&self) -> f64 {
        self.shared.credits()
    }

    /// The record as `recordInfo` would answer it, also during the invisible window.
    pub fn task(&self, task_id: &str) -> Option<serde_json::Value> {
        self.shared.task_record(task_id)
    }

    /// Every result link issued so far answers 403 from now on (`download-url` gives fresh ones).
    pub fn expire_links(&self) {
        self.shared.expire_links();
    }

    /// From now on every create for `model` answers HTTP 200 with `code` (500: "This
    /// interface is temporarily paused."; 505: "This feature is disabled"; other codes: a
    /// generic text), charging nothing, until `unpause_model` or `clear_paused`.
    pub fn pause_model(&self, model: &str, code: i64) {
        self.shared.pause(model, code);
    }

    pub fn unpause_model(&self, model: &str) {
        self.shared.unpause(model);
    }

    pub fn clear_paused(&self) {
        self.shared.clear_paused();
    }

    /// Adds the models of a catalogue text (`{"models":[...]}`, an array of models, or one
    /// model) as `SimConfig::extra_catalogues` does; returns their ids.
    pub fn add_catalogue(&self, json: &str) -> Result<Vec<String>, String> {
        self.shared.add_catalogue(json)
    }

    /// Stops accepting connections, lets in-flight answers finish (for at most 2 s) and
    /// cancels pending callbacks.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if tokio::time::timeout(Duration::from_secs(2), server).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}
