//! Typed calls to Kie: create, query, credits, fresh download links, uploads and result
//! downloads, with the contract's retry rules and the client-side limits.

use std::future::Future;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt;
use reqwest::header::{self, HeaderMap};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio::sync::Notify;

use crate::catalogue::ModelSpec;
use crate::envelope::{self, Envelope};
use crate::error::{Failure, KieError};
use crate::limits::{Limits, LimitsConfig, Wait};
use crate::media::MediaKind;
use crate::protocol::{Protocol, VEO_1080P_PATH};
use crate::record::TaskRecord;
use crate::retry::{parse_retry_after, RetryPolicy};
use crate::secret::ApiKey;
use crate::validate::validate;

pub const DEFAULT_API_BASE: &str = "https://api.kie.ai";
pub const DEFAULT_UPLOAD_BASE: &str = "https://kieai.redpandaai.co";

/// Progress of a transfer: (bytes done, bytes in all when known).
pub type Progress = Arc<dyn Fn(u64, Option<u64>) + Send + Sync>;

#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub api_base: String,
    pub upload_base: String,
    pub key: ApiKey,
    /// The hosts sit behind a CDN reported to reject requests without one.
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// For API calls, whole request and answer.
    pub request_timeout: Duration,
    /// For uploads and downloads: the longest silence while bytes are moving.
    pub transfer_idle_timeout: Duration,
    pub retry: RetryPolicy,
    pub limits: LimitsConfig,
}

impl ClientConfig {
    pub fn new(key: ApiKey) -> Self {
        ClientConfig {
            api_base: DEFAULT_API_BASE.into(),
            upload_base: DEFAULT_UPLOAD_BASE.into(),
            key,
            user_agent: format!("KieStudio/{} (+https://github.com/kie-studio)", env!("CARGO_PKG_VERSION")),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            transfer_idle_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            limits: LimitsConfig::default(),
        }
    }
}

/// What the upload host says about a stored file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadedFile {
    pub file_name: String,
    pub file_path: Option<String>,
    /// Public for 24 h to 3 days: what goes into `image_urls`.
    pub download_url: String,
    pub file_size: Option<u64>,
    pub mime_type: Option<String>,
    pub uploaded_at: Option<String>,
}

/// Veo's answer about a finished video's 1080p copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HdVideo {
    /// The copy is ready at this link (a result link: fetch it with [`KieClient::fetch_to`]).
    Ready { url: String },
    /// Kie is still making it (or not yet willing to): ask again later. Kie's words.
    Processing { message: String },
}

/// How a download into a file went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fetched {
    /// Bytes in the file now.
    pub total: u64,
    /// Whether the server continued from the bytes already there (206) instead of
    /// starting over.
    pub resumed: bool,
}

/// A cheap handle: clones share the connection pool and the limits.
#[derive(Clone)]
pub struct KieClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    cfg: ClientConfig,
    limits: Mutex<Limits>,
    slot_freed: Notify,
}

impl std::fmt::Debug for KieClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KieClient").field("api_base", &self.inner.cfg.api_base).finish_non_exhaustive()
    }
}

impl KieClient {
    pub fn new(cfg: ClientConfig) -> Result<Self, KieError> {
        let http = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .connect_timeout(cfg.connect_timeout)
            .read_timeout(cfg.transfer_idle_timeout)
            .build()
            .map_err(|e| KieError::Connection { failure: Failure::wire(e.to_string()), never_sent: true })?;
        let limits = Mutex::new(Limits::new(cfg.limits.clone()));
        Ok(KieClient { inner: Arc::new(Inner { http, cfg, limits, slot_freed: Notify::new() }) })
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.cfg
    }

    /// Validate `input` against the model's catalogue entry, then create the task through
    /// the model's protocol. Returns Kie's task id; store it at once.
    pub async fn create_task(
        &self,
        spec: &ModelSpec,
        input: &Map<String, Value>,
        callback_url: Option<&str>,
    ) -> Result<String, KieError> {
        let normalized = validate(spec, input).map_err(KieError::InvalidInput)?;
        self.send_create(spec.protocol, &spec.id, &normalized, callback_url).await
    }

    /// Create a task through `protocol` without local validation (the input is sent as
    /// given): jobs' `createTask` with `{model, input}`, or Veo's `generate` with a flat body.
    ///
    /// A create is not idempotent: it is sent again only when it surely never reached Kie
    /// (no connection) or Kie said it did not take it (429, 433, 455). After a timeout, a
    /// 5xx, a broken or unreadable answer, the result is [`KieError::OutcomeUnknown`] and
    /// nothing is sent again.
    pub async fn send_create(
        &self,
        protocol: Protocol,
        model: &str,
        input: &Map<String, Value>,
        callback_url: Option<&str>,
    ) -> Result<String, KieError> {
        let body = protocol.create_body(model, input, callback_url);
        let url = self.api_url(protocol.create_path());
        let mut failures = 0;
        loop {
            self.reserve_create().await;
            let req = self.authed(self.inner.http.post(&url)).json(&body);
            let result = self.send_once(req).await.and_then(task_id_of);
            match result {
                Ok(task_id) => {
                    self.lock_limits().confirm(&task_id);
                    return Ok(task_id);
                }
                Err(err) => {
                    self.lock_limits().release_reservation();
                    self.inner.slot_freed.notify_waiters();
                    if err.create_may_retry() {
                        failures += 1;
                        if let Some(delay) = self.inner.cfg.retry.next_delay(&err, failures, rand::random()) {
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                        return Err(err);
                    }
                    return Err(if create_outcome_unknown(&err) {
                        KieError::OutcomeUnknown { cause: Box::new(err) }
                    } else {
                        err
                    });
                }
            }
        }
    }

    /// The task's record, asked of `protocol`'s query endpoint and read into one
    /// [`TaskRecord`] whatever the protocol. Retried on transient errors. A record not there
    /// (yet) is [`KieError::NotFound`]: right after a create, keep polling for about 90 s.
    pub async fn record_info(&self, protocol: Protocol, task_id: &str) -> Result<TaskRecord, KieError> {
        let url = self.api_url(protocol.record_path());
        let record = self
            .with_retries(|| async {
                let req = self.authed(self.inner.http.get(&url)).query(&[("taskId", task_id)]);
                match self.send_once(req).await {
                    Ok(env) if env.data.is_object() => Ok(protocol.parse_record(&env.data)),
                    Ok(env) => Err(KieError::NotFound(Failure::new(
                        Some(200),
                        Some(200),
                        "no record in the answer",
                        env.data.to_string(),
                    ))),
                    // "recordInfo is null": the record is not visible yet (or never was).
                    Err(KieError::InvalidRequest(f)) => Err(KieError::NotFound(f)),
                    Err(e) => Err(e),
                }
            })
            .await?;
        if record.is_final() {
            self.finish_tracking(task_id);
        }
        Ok(record)
    }

    /// Veo: the 1080p copy of result `index` of a finished task. Free, and safe to ask again:
    /// until the copy is ready (1–3 minutes after success) Kie answers 400 "1080P is
    /// processing" or 422 "record status is not success", read as [`HdVideo::Processing`]
    /// with Kie's words. Transient errors are retried here like any query.
    pub async fn get_1080p_video(&self, task_id: &str, index: u32) -> Result<HdVideo, KieError> {
        let url = self.api_url(VEO_1080P_PATH);
        let index = index.to_string();
        self.with_retries(|| async {
            let req = self.authed(self.inner.http.get(&url)).query(&[("taskId", task_id), ("index", index.as_str())]);
            match self.send_once(req).await {
                Ok(env) => Ok(match hd_url_of(&env.data) {
                    Some(url) => HdVideo::Ready { url },
                    // A success without a link yet: ask again later.
                    None if env.message.is_empty() => {
                        HdVideo::Processing { message: "Kie has no 1080p link yet".into() }
                    }
                    None => HdVideo::Processing { message: env.message },
                }),
                Err(KieError::InvalidRequest(f)) => Ok(HdVideo::Processing { message: f.message }),
                Err(e) => Err(e),
            }
        })
        .await
    }

    /// The account's credit balance.
    pub async fn credits(&self) -> Result<f64, KieError> {
        let url = self.api_url("/api/v1/chat/credit");
        self.with_retries(|| async {
            let env = self.send_once(self.authed(self.inner.http.get(&url))).await?;
            number_of(&env.data)
                .or_else(|| env.data.get("credits").and_then(number_of))
                .ok_or_else(|| unexpected("no balance in the answer", &env))
        })
        .await
    }

    /// A fresh link (valid about 20 minutes) for a Kie result URL.
    pub async fn download_url(&self, result_url: &str) -> Result<String, KieError> {
        let url = self.api_url("/api/v1/common/download-url");
        let body = json!({ "url": result_url });
        self.with_retries(|| async {
            let env = self.send_once(self.authed(self.inner.http.post(&url)).json(&body)).await?;
            match &env.data {
                Value::String(s) if !s.is_empty() => Ok(s.clone()),
                Value::Object(o) => o
                    .get("url")
                    .or_else(|| o.get("downloadUrl"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| unexpected("no link in the answer", &env)),
                _ => Err(unexpected("no link in the answer", &env)),
            }
        })
        .await
    }

    /// Upload a local file through Kie's file-upload API, streamed. The file is named by
    /// its real format (the upload host serves it with the type of the name's extension).
    pub async fn upload_file(
        &self,
        path: &Path,
        upload_path: &str,
        progress: Option<Progress>,
    ) -> Result<UploadedFile, KieError> {
        let (kind, len) = inspect_upload(path).await?;
        let stem = path.file_stem().and_then(|s| s.to_str()).map(safe_stem).unwrap_or_default();
        let stem = if stem.is_empty() { "upload".to_string() } else { stem };
        let file_name = format!("{stem}.{}", kind.extension());
        let url = format!("{}/api/file-stream-upload", self.inner.cfg.upload_base.trim_end_matches('/'));
        self.with_retries(|| async {
            let file = tokio::fs::File::open(path).await.map_err(|e| file_error(path, e))?;
            let mut sent = 0u64;
            let progress = progress.clone();
            let stream = tokio_util::io::ReaderStream::new(file).map(move |chunk| {
                if let Ok(bytes) = &chunk {
                    sent += bytes.len() as u64;
                    if let Some(p) = &progress {
                        p(sent, Some(len));
                    }
                }
                chunk
            });
            let part = reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), len)
                .file_name(file_name.clone())
                .mime_str(kind.mime())
                .expect("static mime types parse");
            let form = reqwest::multipart::Form::new()
                .part("file", part)
                .text("uploadPath", upload_path.to_string())
                .text("fileName", file_name.clone());
            let env = self.send_once(self.authed(self.inner.http.post(&url)).multipart(form)).await?;
            uploaded_of(&env).ok_or_else(|| unexpected("no file link in the upload answer", &env))
        })
        .await
    }

    /// Download a result into `file`, continuing after the `already` bytes it holds when
    /// the server honours Range (206); otherwise the file is emptied and filled from the
    /// start. Result links are fetched without the API key (they may be on other hosts).
    /// Not retried here: the caller resumes, and renews the link on [`KieError::LinkExpired`].
    pub async fn fetch_to(
        &self,
        url: &str,
        file: &mut tokio::fs::File,
        already: u64,
        progress: Option<Progress>,
    ) -> Result<Fetched, KieError> {
        let mut req = self.inner.http.get(url);
        if already > 0 {
            req = req.header(header::RANGE, format!("bytes={already}-"));
        }
        let resp = req.send().await.map_err(wire_error)?;
        let status = resp.status().as_u16();
        let (mut written, expected_total, resumed) = match status {
            206 => {
                let (start, total) = content_range(resp.headers()).ok_or_else(|| {
                    KieError::Malformed(Failure::new(
                        Some(206),
                        None,
                        "a partial answer without a usable Content-Range",
                        "",
                    ))
                })?;
                if start != already {
                    return Err(KieError::Malformed(Failure::new(
                        Some(206),
                        None,
                        format!("asked for bytes from {already}, got them from {start}"),
                        "",
                    )));
                }
                (already, total, true)
            }
            200..=299 => {
                file.set_len(0).await.map_err(|e| file_error(Path::new("download"), e))?;
                (0, resp.content_length(), false)
            }
            // The range starts at or past the end: start over rather than guess.
            416 => {
                file.set_len(0).await.map_err(|e| file_error(Path::new("download"), e))?;
                return Err(KieError::Truncated { got: 0, expected: already });
            }
            403 | 404 | 410 => {
                return Err(KieError::LinkExpired(Failure::new(Some(status), None, format!("HTTP {status}"), "")));
            }
            _ => {
                let retry_after = retry_after_of(resp.headers());
                let body = resp.text().await.unwrap_or_default();
                let failure = Failure::new(Some(status), None, format!("HTTP {status}"), body);
                return Err(KieError::from_code(i64::from(status), failure, retry_after));
            }
        };
        file.seek(std::io::SeekFrom::Start(written)).await.map_err(|e| file_error(Path::new("download"), e))?;
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| {
                if e.is_timeout() {
                    KieError::Timeout(Failure::wire(format!("download stalled: {e}")))
                } else {
                    KieError::Connection {
                        failure: Failure::wire(format!("download broke off: {e}")),
                        never_sent: false,
                    }
                }
            })?;
            file.write_all(&chunk).await.map_err(|e| file_error(Path::new("download"), e))?;
            written += chunk.len() as u64;
            if let Some(p) = &progress {
                p(written, expected_total);
            }
        }
        file.flush().await.map_err(|e| file_error(Path::new("download"), e))?;
        if let Some(expected) = expected_total {
            if written != expected {
                return Err(KieError::Truncated { got: written, expected });
            }
        }
        Ok(Fetched { total: written, resumed })
    }

    /// A task created elsewhere (resumed after a restart) counts against the running limit.
    pub fn track_running(&self, task_id: &str) {
        self.lock_limits().track(task_id);
    }

    /// The task is over (or the user stopped tracking it): free its running slot.
    pub fn finish_tracking(&self, task_id: &str) {
        if self.lock_limits().finish(task_id) {
            self.inner.slot_freed.notify_waiters();
        }
    }

    pub fn running_tasks(&self) -> usize {
        self.lock_limits().running()
    }

    fn lock_limits(&self) -> std::sync::MutexGuard<'_, Limits> {
        // The bookkeeping stays consistent even if a holder panicked.
        self.inner.limits.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wait for a running slot and a place in the create window.
    async fn reserve_create(&self) {
        loop {
            let freed = self.inner.slot_freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            let wait = self.lock_limits().try_reserve(Instant::now());
            match wait {
                Ok(()) => return,
                Err(Wait::For(d)) => tokio::time::sleep(d).await,
                Err(Wait::ForSlot) => freed.await,
            }
        }
    }

    fn api_url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.cfg.api_base.trim_end_matches('/'))
    }

    fn authed(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        req.bearer_auth(self.inner.cfg.key.expose()).timeout(self.inner.cfg.request_timeout)
    }

    async fn send_once(&self, req: reqwest::RequestBuilder) -> Result<Envelope, KieError> {
        let resp = req.send().await.map_err(wire_error)?;
        let status = resp.status().as_u16();
        let retry_after = retry_after_of(resp.headers());
        let body = resp.text().await.map_err(wire_error)?;
        envelope::parse(status, &body, retry_after)
    }

    /// Run a read-only call, retrying transient failures per the policy.
    async fn with_retries<T, F, Fut>(&self, mut op: F) -> Result<T, KieError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, KieError>>,
    {
        let mut failures = 0;
        loop {
            match op().await {
                Ok(v) => return Ok(v),
                Err(err) if err.is_transient() => {
                    failures += 1;
                    match self.inner.cfg.retry.next_delay(&err, failures, rand::random()) {
                        Some(delay) => tokio::time::sleep(delay).await,
                        None => return Err(err),
                    }
                }
                Err(err) => return Err(err),
            }
        }
    }
}

/// After these, a create may have reached Kie and been charged.
fn create_outcome_unknown(err: &KieError) -> bool {
    match err {
        KieError::Timeout(_) | KieError::Server(_) | KieError::Malformed(_) => true,
        KieError::Connection { never_sent, .. } => !never_sent,
        // Kie said success but gave no task id we could read.
        KieError::Unexpected(f) => f.kie_code == Some(200),
        _ => false,
    }
}

fn wire_error(e: reqwest::Error) -> KieError {
    let text = e.to_string();
    let detail = std::error::Error::source(&e).map(|s| format!("{text}: {s}")).unwrap_or(text);
    if e.is_connect() {
        KieError::Connection { failure: Failure::wire(detail), never_sent: true }
    } else if e.is_timeout() {
        KieError::Timeout(Failure::wire(detail))
    } else {
        KieError::Connection { failure: Failure::wire(detail), never_sent: false }
    }
}

fn retry_after_of(headers: &HeaderMap) -> Option<Duration> {
    headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| parse_retry_after(v, SystemTime::now()))
}

/// `Content-Range: bytes START-END/TOTAL` → (start, total when given).
fn content_range(headers: &HeaderMap) -> Option<(u64, Option<u64>)> {
    let v = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (start, _end) = range.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()))
}

fn unexpected(what: &str, env: &Envelope) -> KieError {
    KieError::Unexpected(Failure::new(Some(200), Some(200), what, env.data.to_string()))
}

fn task_id_of(env: Envelope) -> Result<String, KieError> {
    let id = env.data.get("taskId").or_else(|| env.data.get("task_id"));
    match id {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(unexpected("Kie said the task was created but sent no task id", &env)),
    }
}

/// The link in a `get-1080p-video` answer: `{resultUrl}` (also a bare string, `url`, or a
/// one-item `resultUrls`).
fn hd_url_of(data: &Value) -> Option<String> {
    let url = match data {
        Value::String(s) => Some(s.as_str()),
        Value::Object(o) => o
            .get("resultUrl")
            .or_else(|| o.get("url"))
            .and_then(Value::as_str)
            .or_else(|| o.get("resultUrls").and_then(|v| v.get(0)).and_then(Value::as_str)),
        _ => None,
    };
    url.map(str::trim).filter(|u| !u.is_empty()).map(str::to_string)
}

fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn uploaded_of(env: &Envelope) -> Option<UploadedFile> {
    let d = env.data.as_object()?;
    let s = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_string);
    Some(UploadedFile {
        file_name: s("fileName").unwrap_or_default(),
        file_path: s("filePath"),
        download_url: s("downloadUrl").filter(|u| !u.is_empty())?,
        file_size: d.get("fileSize").and_then(number_of).map(|n| n as u64),
        mime_type: s("mimeType"),
        uploaded_at: s("uploadedAt"),
    })
}

/// What the file really is (by its first bytes) and how long it is.
async fn inspect_upload(path: &Path) -> Result<(MediaKind, u64), KieError> {
    let len = tokio::fs::metadata(path).await.map_err(|e| file_error(path, e))?.len();
    let kind = MediaKind::sniff_path(path).map_err(|e| file_error(path, e))?.ok_or_else(|| KieError::File {
        path: path.display().to_string(),
        message: format!("{} is not a JPEG, PNG, WebP, GIF or MP4 file.", path.display()),
    })?;
    Ok((kind, len))
}

/// Keep names plain: letters, digits, dash and underscore.
fn safe_stem(stem: &str) -> String {
    stem.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).take(80).collect()
}

fn file_error(path: &Path, e: std::io::Error) -> KieError {
    KieError::File { path: path.display().to_string(), message: format!("{}: {e}", path.display()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_content_range() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_RANGE, "bytes 100-199/1000".parse().unwrap());
        assert_eq!(content_range(&h), Some((100, Some(1000))));
        h.insert(header::CONTENT_RANGE, "bytes 5-9/*".parse().unwrap());
        assert_eq!(content_range(&h), Some((5, None)));
        h.insert(header::CONTENT_RANGE, "junk".parse().unwrap());
        assert_eq!(content_range(&h), None);
    }

    #[test]
    fn outcome_unknown_only_when_kie_may_have_taken_it() {
        assert!(create_outcome_unknown(&KieError::Timeout(Failure::wire("t"))));
        assert!(create_outcome_unknown(&KieError::Server(Failure::wire("t"))));
        assert!(create_outcome_unknown(&KieError::Malformed(Failure::wire("t"))));
        assert!(create_outcome_unknown(&KieError::Connection { failure: Failure::wire("reset"), never_sent: false }));
        assert!(!create_outcome_unknown(&KieError::Connection { failure: Failure::wire("refused"), never_sent: true }));
        assert!(!create_outcome_unknown(&KieError::ModelPaused(Failure::wire("p"))));
        assert!(!create_outcome_unknown(&KieError::InvalidRequest(Failure::wire("p"))));
    }

    #[test]
    fn reads_the_hd_link() {
        assert_eq!(hd_url_of(&json!({"resultUrl": "https://x/hd.mp4"})).as_deref(), Some("https://x/hd.mp4"));
        assert_eq!(hd_url_of(&json!("https://x/hd.mp4")).as_deref(), Some("https://x/hd.mp4"));
        assert_eq!(hd_url_of(&json!({"resultUrls": ["https://x/a.mp4"]})).as_deref(), Some("https://x/a.mp4"));
        assert_eq!(hd_url_of(&json!({"resultUrl": " "})), None);
        assert_eq!(hd_url_of(&json!({"resultUrl": null})), None);
        assert_eq!(hd_url_of(&Value::Null), None);
    }

    #[test]
    fn safe_names() {
        assert_eq!(safe_stem("my photo (1)"), "my_photo__1_");
        assert_eq!(safe_stem("../../etc"), "______etc");
    }
}
