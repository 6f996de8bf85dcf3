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
use tokio::io::AsyncSeekExt;
use tokio::sync::Notify;

use crate::catalogue::{MediaType, ModelSpec};
use crate::envelope::{self, Envelope};
use crate::error::{Failure, KieError};
use crate::limits::{Limits, LimitsConfig, SharedLimits, SharedRequest, Wait};
use crate::media::MediaKind;
use crate::protocol::{Protocol, VEO_1080P_PATH};
use crate::record::TaskRecord;
use crate::retry::{parse_retry_after, RetryPolicy};
use crate::secret::ApiKey;
use crate::validate::validate;

mod writer;
use writer::Writer;

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
    /// The most a result video may be: a longer answer (announced or sent) is refused.
    pub max_video_bytes: u64,
    /// The most a result image (or a poster) may be.
    pub max_image_bytes: u64,
    /// The most an API answer (Kie's JSON) may be.
    pub max_api_body_bytes: u64,
    pub retry: RetryPolicy,
    pub limits: LimitsConfig,
    /// Limits kept with other processes using the same key (creates, record queries).
    pub shared_limits: Option<Arc<dyn SharedLimits>>,
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
            max_video_bytes: 2 << 30,
            max_image_bytes: 20 << 20,
            max_api_body_bytes: 1 << 20,
            retry: RetryPolicy::default(),
            limits: LimitsConfig::default(),
            shared_limits: None,
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
    /// The whole file's length as the server announced it (`Content-Length`, or the total
    /// of `Content-Range`), which `total` matched; `None` when it announced none, so only
    /// the file's own structure can tell whether it is whole.
    pub announced: Option<u64>,
}

/// A cheap handle: clones share the connection pool and the limits.
#[derive(Clone)]
pub struct KieClient {
    inner: Arc<Inner>,
}

struct Inner {
    /// For result files: redirects followed within [`redirect_policy`].
    http: reqwest::Client,
    /// For Kie's API and upload endpoints: no redirects.
    api: reqwest::Client,
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
        let builder = || {
            reqwest::Client::builder()
                .user_agent(cfg.user_agent.clone())
                .connect_timeout(cfg.connect_timeout)
                .read_timeout(cfg.transfer_idle_timeout)
        };
        let built = |r: reqwest::Result<reqwest::Client>| {
            r.map_err(|e| KieError::Connection { failure: Failure::wire(e.to_string()), never_sent: true })
        };
        // Result files may be redirected (within the rules); API calls never are: a redirected
        // create would be sent again by the HTTP stack, and the key would follow it.
        let http = built(builder().redirect(redirect_policy(loopback_http_allowed(&cfg.api_base))).build())?;
        let api = built(builder().redirect(reqwest::redirect::Policy::none()).build())?;
        let limits = Mutex::new(Limits::new(cfg.limits.clone()));
        // The key prints as redacted (`ApiKey`'s Debug).
        tracing::debug!(config = ?cfg, "Kie client ready");
        Ok(KieClient { inner: Arc::new(Inner { http, api, cfg, limits, slot_freed: Notify::new() }) })
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
    /// (no connection) or Kie said it did not take it (429, 433, 455, 1003). Only the
    /// contract's refusals come back as what they are ([`KieError::create_not_taken`]), and
    /// what never left: a request that could not be built ([`KieError::NotBuilt`]), no
    /// running slot within `LimitsConfig::slot_wait` ([`KieError::SlotsFull`]). Anything else
    /// (a timeout, a 5xx, an answer outside the contract such as code 201, a broken or
    /// unreadable answer) is [`KieError::OutcomeUnknown`], with any task id Kie named, and
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
            self.reserve_create().await?;
            let req = self.authed(self.inner.api.post(&url)).json(&body);
            // Built apart from sending, so a request that cannot be built is surely unsent.
            let (http, built) = req.build_split();
            let result = match built {
                Ok(request) => {
                    self.send_once(reqwest::RequestBuilder::from_parts(http, request)).await.and_then(task_id_of)
                }
                Err(e) => Err(KieError::NotBuilt(Failure::wire(error_detail(&e)))),
            };
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
                        KieError::OutcomeUnknown { task_id: named_task_id(&err), cause: Box::new(err) }
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
                self.take_shared(SharedRequest::RecordQuery).await;
                let req = self.authed(self.inner.api.get(&url)).query(&[("taskId", task_id)]);
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
            let req = self.authed(self.inner.api.get(&url)).query(&[("taskId", task_id), ("index", index.as_str())]);
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
            let env = self.send_once(self.authed(self.inner.api.get(&url))).await?;
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
            let env = self.send_once(self.authed(self.inner.api.post(&url)).json(&body)).await?;
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
            let env = self.send_once(self.authed(self.inner.api.post(&url)).multipart(form)).await?;
            uploaded_of(&env).ok_or_else(|| unexpected("no file link in the upload answer", &env))
        })
        .await
    }

    /// Download a result into `file`, as [`KieClient::fetch_media_to`], its kind (and so its
    /// cap) told by the link's extension: an image for `.jpg`, `.jpeg`, `.png`, `.webp`,
    /// `.gif`, else a video.
    pub async fn fetch_to(
        &self,
        url: &str,
        file: &mut tokio::fs::File,
        already: u64,
        progress: Option<Progress>,
    ) -> Result<Fetched, KieError> {
        self.fetch_media_to(url, media_of_link(url), file, already, progress).await
    }

    /// Download a result of kind `media` (the catalogue's output kind) into `file`,
    /// continuing after the `already` bytes it holds when the server honours Range (206);
    /// otherwise the file is emptied and filled from the start. Result links are fetched
    /// without the API key (they may be on other hosts).
    ///
    /// Bounded and checked:
    /// - the link must be https (plain http only on loopback, and only when the API itself is
    ///   on loopback http: the simulator, the demo), and a redirect may not change scheme nor
    ///   lead anywhere a link may not; refused before anything is sent;
    /// - at most [`ClientConfig::max_video_bytes`] or [`ClientConfig::max_image_bytes`]: a
    ///   larger announced length is refused before the body is read, a body growing past the
    ///   cap is cut off; either way the file is emptied (not kept to be resumed);
    /// - the bytes in the file must come to the length announced (`Content-Length`, or the
    ///   total of `Content-Range`): fewer are [`KieError::Truncated`] (resume), more an error
    ///   (start over). Without an announced length [`Fetched::announced`] is `None` and only
    ///   the file's structure can tell whether it is whole ([`crate::media::MediaKind::check_whole`]).
    ///
    /// Not retried here: the caller resumes, and renews the link on [`KieError::LinkExpired`].
    /// What will not change by asking again (a refused link or redirect, a file over its cap)
    /// is [`KieError::Unexpected`], which is not transient.
    pub async fn fetch_media_to(
        &self,
        url: &str,
        media: MediaType,
        file: &mut tokio::fs::File,
        already: u64,
        progress: Option<Progress>,
    ) -> Result<Fetched, KieError> {
        let link = check_link(url, loopback_http_allowed(&self.inner.cfg.api_base)).map_err(refused)?;
        let cap = match media {
            MediaType::Image => self.inner.cfg.max_image_bytes,
            MediaType::Video | MediaType::Audio => self.inner.cfg.max_video_bytes,
        };
        let what = match media {
            MediaType::Image => "an image",
            MediaType::Video => "a video",
            MediaType::Audio => "a sound",
        };
        let too_big = |status: u16, size: String| {
            KieError::Unexpected(Failure::new(
                Some(status),
                None,
                format!("the file is larger than {what} may be ({size}, at most {}); it was not kept", size_words(cap)),
                "",
            ))
        };
        // Any error of the partial file itself.
        let on_file = |e| file_error(Path::new("download"), e);
        let mut req = self.inner.http.get(link);
        if already > 0 {
            req = req.header(header::RANGE, format!("bytes={already}-"));
        }
        let resp = req.send().await.map_err(download_error)?;
        let status = resp.status().as_u16();
        let (mut written, announced, resumed) = match status {
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
                let total = total.or_else(|| resp.content_length().map(|n| already.saturating_add(n)));
                (already, total, true)
            }
            200..=299 => {
                file.set_len(0).await.map_err(on_file)?;
                (0, resp.content_length(), false)
            }
            // The range starts at or past the end: start over rather than guess.
            416 => {
                file.set_len(0).await.map_err(on_file)?;
                return Err(KieError::Truncated { got: 0, expected: already });
            }
            403 | 404 | 410 => {
                return Err(KieError::LinkExpired(Failure::new(Some(status), None, format!("HTTP {status}"), "")));
            }
            _ => {
                let retry_after = retry_after_of(resp.headers());
                let body = read_prefix(resp, ERROR_BODY_BYTES).await;
                let failure = Failure::new(Some(status), None, format!("HTTP {status}"), body);
                return Err(KieError::from_code(i64::from(status), failure, retry_after));
            }
        };
        if let Some(total) = announced.filter(|t| *t > cap) {
            file.set_len(0).await.map_err(on_file)?;
            return Err(too_big(status, format!("{total} bytes announced")));
        }
        file.seek(std::io::SeekFrom::Start(written)).await.map_err(on_file)?;
        // Received here, written by the writer meanwhile; it is stopped (every queued chunk
        // written) before the file is emptied or the error returned.
        let writer = Writer::start(file, written, progress, announced).await.map_err(on_file)?;
        let mut stream = resp.bytes_stream();
        let received: Result<(), (KieError, bool)> = async {
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| {
                    let e = if e.is_timeout() {
                        KieError::Timeout(Failure::wire(format!("download stalled: {e}")))
                    } else {
                        KieError::Connection {
                            failure: Failure::wire(format!("download broke off: {e}")),
                            never_sent: false,
                        }
                    };
                    (e, false)
                })?;
                let after = written + chunk.len() as u64;
                if after > cap {
                    return Err((too_big(status, format!("more than {} sent", size_words(cap))), true));
                }
                if announced.is_some_and(|t| after > t) {
                    let e = KieError::Malformed(Failure::new(
                        Some(status),
                        None,
                        format!("the server sent more than the {} bytes it announced", announced.unwrap_or(0)),
                        "",
                    ));
                    return Err((e, true));
                }
                if !writer.send(chunk).await {
                    // The write failed: `finish` says why.
                    break;
                }
                written = after;
            }
            Ok(())
        }
        .await;
        drop(stream);
        let in_file = writer.finish().await.map_err(on_file);
        match received {
            // Not worth resuming (over its cap, more than announced): emptied.
            Err((e, true)) => {
                file.set_len(0).await.map_err(on_file)?;
                return Err(e);
            }
            Err((e, false)) => return Err(e),
            Ok(()) => written = in_file?,
        }
        if let Some(expected) = announced {
            if written != expected {
                return Err(KieError::Truncated { got: written, expected });
            }
        }
        Ok(Fetched { total: written, resumed, announced })
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

    /// Every running slot is taken (running tasks and creates in flight): a create now would
    /// wait for one to free.
    pub fn slots_full(&self) -> bool {
        self.lock_limits().slots_full()
    }

    fn lock_limits(&self) -> std::sync::MutexGuard<'_, Limits> {
        // The bookkeeping stays consistent even if a holder panicked.
        self.inner.limits.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wait for a running slot and a place in the create window. The wait for a slot is
    /// bounded (`LimitsConfig::slot_wait`): then the create gives up, unsent, with
    /// [`KieError::SlotsFull`], rather than wait without end for tasks that may never finish.
    async fn reserve_create(&self) -> Result<(), KieError> {
        let deadline = tokio::time::Instant::now() + self.lock_limits().config().slot_wait;
        loop {
            let freed = self.inner.slot_freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            let now = Instant::now();
            let wait = self.lock_limits().try_reserve(now);
            match wait {
                Ok(()) => match self.try_take_shared(SharedRequest::Create) {
                    Ok(()) => return Ok(()),
                    Err(d) => {
                        // Another process sent one: give the place back and wait.
                        self.lock_limits().cancel_reservation(now);
                        self.inner.slot_freed.notify_waiters();
                        tokio::time::sleep(d).await
                    }
                },
                Err(Wait::For(d)) => tokio::time::sleep(d).await,
                Err(Wait::ForSlot) => {
                    if tokio::time::timeout_at(deadline, freed).await.is_err() {
                        // A slot freed just as the bound ran out still counts: look once more.
                        let limits = self.lock_limits();
                        if limits.slots_full() {
                            return Err(KieError::SlotsFull { in_progress: limits.in_progress() });
                        }
                    }
                }
            }
        }
    }

    /// A place for this request in the limits shared with other processes, if any.
    fn try_take_shared(&self, request: SharedRequest) -> Result<(), Duration> {
        match &self.inner.cfg.shared_limits {
            Some(shared) => shared.try_take(request),
            None => Ok(()),
        }
    }

    /// Wait for a place in the shared limits (record queries: they hold no local slot).
    async fn take_shared(&self, request: SharedRequest) {
        while let Err(d) = self.try_take_shared(request) {
            tokio::time::sleep(d).await;
        }
    }

    fn api_url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.cfg.api_base.trim_end_matches('/'))
    }

    fn authed(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        req.bearer_auth(self.inner.cfg.key.expose()).timeout(self.inner.cfg.request_timeout)
    }

    async fn send_once(&self, req: reqwest::RequestBuilder) -> Result<Envelope, KieError> {
        // Addresses, statuses and Kie's words only: the request's headers carry the key.
        let resp = req.send().await.map_err(|e| {
            tracing::debug!(url = e.url().map_or("?", |u| u.as_str()), "Kie not reached: {}", error_detail(&e));
            wire_error(e)
        })?;
        let status = resp.status().as_u16();
        let url = resp.url().to_string();
        let retry_after = retry_after_of(resp.headers());
        let body = read_api_body(resp, self.inner.cfg.max_api_body_bytes).await?;
        let answer = envelope::parse(status, &body, retry_after);
        match &answer {
            Ok(_) => tracing::debug!(status, url = %url, "Kie answered"),
            Err(e) => tracing::debug!(status, url = %url, "Kie answered: {e}"),
        }
        answer
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

/// After these, a create may have reached Kie and been charged: everything but the
/// contract's refusals and what never left ([`KieError::create_not_taken`]).
fn create_outcome_unknown(err: &KieError) -> bool {
    !err.create_not_taken()
}

/// A task id in an answer that was not a success (seen: code 201 with a taskId), so the
/// user can find the task in their Kie account and attach it.
fn named_task_id(err: &KieError) -> Option<String> {
    let body: Value = serde_json::from_str(&err.failure()?.body).ok()?;
    let data = body.get("data")?;
    match data.get("taskId").or_else(|| data.get("task_id"))? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A reqwest error in words, with its cause.
fn error_detail(e: &reqwest::Error) -> String {
    let text = e.to_string();
    std::error::Error::source(e).map(|s| format!("{text}: {s}")).unwrap_or(text)
}

fn wire_error(e: reqwest::Error) -> KieError {
    let text = e.to_string();
    let detail = std::error::Error::source(&e).map(|s| format!("{text}: {s}")).unwrap_or(text);
    if e.is_builder() {
        // Never left, and never will as it is: not worth trying again.
        KieError::NotBuilt(Failure::wire(detail))
    } else if e.is_connect() {
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

/// An API answer's body, read only up to `cap` bytes: one announcing or sending more is
/// [`KieError::Malformed`] (an unreadable answer: retried for reads, an unknown outcome for a
/// create), and the rest is never read.
async fn read_api_body(resp: reqwest::Response, cap: u64) -> Result<String, KieError> {
    let status = resp.status().as_u16();
    let too_long = || {
        KieError::Malformed(Failure::new(
            Some(status),
            None,
            format!("the answer is longer than {}, the most an API answer may be; it was not read", size_words(cap)),
            "",
        ))
    };
    if resp.content_length().is_some_and(|n| n > cap) {
        return Err(too_long());
    }
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(wire_error)?;
        if (body.len() + chunk.len()) as u64 > cap {
            return Err(too_long());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// How much of an error answer to a download is read (for the failure's text).
const ERROR_BODY_BYTES: usize = 4096;

/// The first `n` bytes of an answer's body (for an error's text); the rest is not read.
async fn read_prefix(resp: reqwest::Response, n: usize) -> String {
    let mut body = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        body.extend_from_slice(&chunk[..chunk.len().min(n - body.len())]);
        if body.len() >= n {
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// Whether plain-http result links (and redirects) on loopback are let through: only when
/// the API itself is on loopback http (the simulator, the demo). Kie's are https.
fn loopback_http_allowed(api_base: &str) -> bool {
    url::Url::parse(api_base.trim()).is_ok_and(|u| u.scheme() == "http" && is_loopback(&u))
}

fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A result link that may be fetched: https, or http on loopback when `loopback_http`.
fn check_link(link: &str, loopback_http: bool) -> Result<url::Url, String> {
    let u = url::Url::parse(link.trim()).map_err(|_| format!("the result link {link:?} is not a link"))?;
    match u.scheme() {
        "https" if u.host().is_some() => Ok(u),
        "http" if loopback_http && is_loopback(&u) => Ok(u),
        _ => Err(format!("a result link must be https, not {}", short_link(&u))),
    }
}

/// A link for people: scheme, host and path, without the query (signatures).
fn short_link(u: &url::Url) -> String {
    let mut s = format!("{}://{}{}", u.scheme(), u.host_str().unwrap_or(""), u.path());
    if s.len() > 200 {
        let mut cut = 200;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// Most redirects followed for one request.
const MAX_REDIRECTS: usize = 10;

/// Redirects keep their scheme (no https → http, nor the reverse) and lead only where a
/// result link may ([`check_link`]); at most [`MAX_REDIRECTS`].
fn redirect_policy(loopback_http: bool) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let from = attempt.previous().last().map(|u| u.scheme().to_string()).unwrap_or_default();
        let to = attempt.url().clone();
        if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(format!("refused a redirect: more than {MAX_REDIRECTS} in a row"))
        } else if to.scheme() != from {
            attempt.error(format!("refused a redirect from {from} to {}", short_link(&to)))
        } else if let Err(why) = check_link(to.as_str(), loopback_http) {
            attempt.error(format!("refused a redirect: {why}"))
        } else {
            attempt.follow()
        }
    })
}

/// A download that could not be made: a refused redirect will be refused again (not
/// transient); anything else as for any request.
fn download_error(e: reqwest::Error) -> KieError {
    if e.is_redirect() {
        let why = std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_else(|| e.to_string());
        refused(why)
    } else {
        wire_error(e)
    }
}

/// A link or answer that asking again will not change.
fn refused(why: String) -> KieError {
    KieError::Unexpected(Failure::wire(why))
}

/// What a link most likely is, by its path's extension: an image, else a video.
fn media_of_link(link: &str) -> MediaType {
    let path = url::Url::parse(link.trim()).map(|u| u.path().to_ascii_lowercase()).unwrap_or_default();
    let ext = path.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match MediaKind::from_extension(ext) {
        Some(k) if k.is_image() => MediaType::Image,
        _ => MediaType::Video,
    }
}

/// A byte count for people: "2 GiB", "20 MiB", "1 MiB", "512 KiB", "300 bytes".
fn size_words(n: u64) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if n >= 1 << shift && n.is_multiple_of(1 << shift) {
            return format!("{} {unit}", n >> shift);
        }
    }
    if n >= 1 << 20 {
        return format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64);
    }
    format!("{n} bytes")
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
        let said = |code: i64, msg: &str| Failure::new(Some(200), Some(code), msg, "");
        assert!(create_outcome_unknown(&KieError::Timeout(Failure::wire("t"))));
        assert!(create_outcome_unknown(&KieError::Server(Failure::wire("t"))));
        assert!(create_outcome_unknown(&KieError::Malformed(Failure::wire("t"))));
        assert!(create_outcome_unknown(&KieError::Connection { failure: Failure::wire("reset"), never_sent: false }));
        assert!(!create_outcome_unknown(&KieError::Connection { failure: Failure::wire("refused"), never_sent: true }));
        assert!(!create_outcome_unknown(&KieError::ModelPaused(said(500, "temporarily paused"))));
        assert!(!create_outcome_unknown(&KieError::InvalidRequest(said(422, "p"))));
        assert!(create_outcome_unknown(&KieError::Unexpected(said(201, "created"))));
        assert!(create_outcome_unknown(&KieError::Unauthorized(said(403, "forbidden"))));
        assert!(!create_outcome_unknown(&KieError::NotBuilt(Failure::wire("bad url"))));
    }

    #[test]
    fn keeps_the_task_id_an_odd_answer_named() {
        let body = r#"{"code":201,"msg":"created","data":{"taskId":" t-201 "}}"#;
        let err = KieError::Unexpected(Failure::new(Some(201), Some(201), "created", body));
        assert_eq!(named_task_id(&err).as_deref(), Some("t-201"));
        let err = KieError::Unexpected(Failure::new(Some(200), Some(299), "x", r#"{"code":299,"data":null}"#));
        assert_eq!(named_task_id(&err), None);
        assert_eq!(named_task_id(&KieError::Timeout(Failure::wire("t"))), None);
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

    #[test]
    fn result_links_are_https_or_the_simulators_loopback_http() {
        assert!(check_link("https://tempfile.aiquickdraw.com/v.mp4?sig=x", false).is_ok());
        assert!(check_link("https://127.0.0.1:9/v.mp4", false).is_ok());
        let refused = ["http://127.0.0.1:9/v.mp4", "http://cdn.example/v.mp4", "ftp://cdn.example/v", "v.mp4"];
        for bad in refused {
            assert!(check_link(bad, false).is_err(), "{bad}");
        }
        for ok in ["http://127.0.0.1:9/v.mp4", "http://127.8.0.1/v", "http://[::1]:9/v", "http://LOCALHOST:9/v"] {
            assert!(check_link(ok, true).is_ok(), "{ok}");
        }
        for bad in ["http://10.0.0.1/v.mp4", "http://localhost.example/v", "http://cdn.example/v"] {
            assert!(check_link(bad, true).is_err(), "{bad}");
        }
        assert!(loopback_http_allowed("http://127.0.0.1:8787/"));
        assert!(loopback_http_allowed(" http://localhost:1 "));
        assert!(!loopback_http_allowed("https://127.0.0.1:8787"));
        assert!(!loopback_http_allowed("https://api.kie.ai"));
        assert!(!loopback_http_allowed("http://api.kie.ai"));
        // The signature in the query stays out of messages.
        let err = check_link("http://cdn.example/v.mp4?sig=secret", true).unwrap_err();
        assert!(err.contains("http://cdn.example/v.mp4") && !err.contains("secret"), "{err}");
    }

    #[test]
    fn kinds_and_sizes_in_words() {
        assert_eq!(media_of_link("https://x/a/first.JPG?sig=1"), MediaType::Image);
        assert_eq!(media_of_link("https://x/a.webp"), MediaType::Image);
        assert_eq!(media_of_link("https://x/a.mp4"), MediaType::Video);
        assert_eq!(media_of_link("https://x/download?id=3"), MediaType::Video);
        assert_eq!(size_words(2 << 30), "2 GiB");
        assert_eq!(size_words(20 << 20), "20 MiB");
        assert_eq!(size_words(1 << 20), "1 MiB");
        assert_eq!(size_words(512 << 10), "512 KiB");
        assert_eq!(size_words(3 << 19), "1536 KiB");
        assert_eq!(size_words(1_500_000), "1.4 MiB");
        assert_eq!(size_words(300), "300 bytes");
    }
}
