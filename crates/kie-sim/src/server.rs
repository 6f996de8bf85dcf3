//! The HTTP surface: Kie's endpoints, the served files and the `/_sim` control endpoints.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use bytes::Bytes;
use futures_util::{stream, StreamExt};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::catalogue::Protocol;
use crate::files::{self, hv, storage_error, Src};
use crate::multipart;
use crate::state::{bump, number, unknown_is_404, CreateOutcome, Failure, Hd, Lookup, Shared, PAUSED};
use crate::util;
use crate::{Endpoint, Fault, FaultRule};

type S = State<Arc<Shared>>;

const UPLOAD_LIMIT: usize = 256 * 1024 * 1024;
const UNAUTHORIZED: &str = "You do not have access permissions";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v1/jobs/createTask", post(create))
        .route("/api/v1/jobs/recordInfo", get(record_info))
        .route("/api/v1/veo/generate", post(veo_generate))
        .route("/api/v1/veo/record-info", get(veo_record_info))
        .route("/api/v1/veo/get-1080p-video", get(veo_1080p))
        .route("/api/v1/veo/get-4k-video", post(veo_4k))
        .route("/api/v1/chat/credit", get(credit))
        .route("/api/v1/common/download-url", post(download_url))
        .route("/api/file-stream-upload", post(upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)))
        .route("/api/file-url-upload", post(url_upload))
        .route("/api/file-base64-upload", post(base64_upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)))
        .route("/files/{task}/{file}", get(result_file))
        .route("/uploads/{*path}", get(uploaded_file))
        .route("/_sim/faults", post(push_faults).delete(clear_faults).get(list_faults))
        .route("/_sim/stats", get(stats))
        .route("/_sim/credits", post(set_credits).get(get_credits))
        .route("/_sim/expire-links", post(expire_links))
        .route("/_sim/tasks/{id}", get(task))
        .route("/_sim/paused", post(pause_models).delete(unpause_models).get(list_paused))
        .route("/_sim/catalogue", post(add_catalogue))
        .route("/_sim/models", get(list_models))
        .fallback(not_found)
        .with_state(shared)
}

// ---- answers --------------------------------------------------------------------------------

fn json_response(status: StatusCode, v: &Value) -> Response {
    let bytes = serde_json::to_vec(v).unwrap_or_default();
    let mut r = Response::new(Body::from(bytes));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

fn status_for(code: i64) -> StatusCode {
    u16::try_from(code).ok().and_then(|c| StatusCode::from_u16(c).ok()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// `{"code", "msg", "data"}`: HTTP 200, or the code as the HTTP status for errors when
/// `http_status_errors` is set.
fn envelope(sh: &Shared, code: i64, msg: &str, data: Value) -> Response {
    let body = json!({"code": code, "msg": msg, "data": data});
    let status = if code == 200 || !sh.cfg.http_status_errors { StatusCode::OK } else { status_for(code) };
    json_response(status, &body)
}

fn authorized(sh: &Shared, headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    match value.trim().split_once(' ') {
        Some((scheme, key)) => scheme.eq_ignore_ascii_case("bearer") && key.trim() == sh.cfg.key,
        None => false,
    }
}

// ---- faults ---------------------------------------------------------------------------------

/// Faults that answer instead of the endpoint (nothing is processed).
fn early_fault(sh: &Shared, fault: Option<&Fault>) -> Option<Response> {
    let r = match fault? {
        Fault::HttpStatus { status } => {
            let status = status_for(i64::from(*status));
            let msg = status.canonical_reason().unwrap_or("Simulated HTTP error");
            json_response(status, &json!({"code": status.as_u16(), "msg": msg}))
        }
        Fault::Code { code, msg } => json_response(StatusCode::OK, &json!({"code": code, "msg": msg, "data": null})),
        Fault::RateLimited { retry_after_secs, retry_after_date } => {
            bump(&sh.counters.rate_limited);
            let mut r = json_response(
                StatusCode::TOO_MANY_REQUESTS,
                &json!({"code": 429, "msg": "Too many requests, please retry later", "data": null}),
            );
            if let Some(secs) = retry_after_secs {
                let value = if *retry_after_date {
                    httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(*secs))
                } else {
                    secs.to_string()
                };
                r.headers_mut().insert(header::RETRY_AFTER, hv(&value));
            }
            r
        }
        Fault::Maintenance => {
            envelope(sh, 455, "Service unavailable: under maintenance, please retry later", Value::Null)
        }
        Fault::MalformedJson => {
            let mut r = Response::new(Body::from(r#"{"code":200,"msg":"success","data":{"taskId":"#));
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            r
        }
        Fault::ExpiredLink => storage_error(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired"),
        Fault::Paused => json_response(StatusCode::OK, &json!({"code": 500, "msg": PAUSED, "data": null})),
        Fault::Slow { .. }
        | Fault::TruncateBody { .. }
        | Fault::ResetBody { .. }
        | Fault::LoseResponse
        | Fault::FailGeneration { .. }
        | Fault::FailUpstream { .. }
        | Fault::OddAnswer { .. }
        | Fault::EndlessBody
        | Fault::CutUnannounced { .. }
        | Fault::ManyResultUrls { .. } => return None,
        Fault::Redirect { location, status } => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::from_u16(*status).unwrap_or(StatusCode::FOUND);
            r.headers_mut().insert(header::LOCATION, hv(location));
            r
        }
    };
    Some(r)
}

/// Faults that spoil an answer the endpoint has produced (its side effects happened).
async fn late_fault(fault: Option<Fault>, resp: Response) -> Response {
    match fault {
        Some(Fault::Slow { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            resp
        }
        Some(Fault::TruncateBody { after_bytes }) => cut(resp, after_bytes, false).await,
        Some(Fault::ResetBody { after_bytes }) => cut(resp, after_bytes, true).await,
        Some(Fault::LoseResponse) => cut(resp, 0, true).await,
        Some(Fault::EndlessBody) => unannounced(resp, None),
        Some(Fault::CutUnannounced { after_bytes }) => unannounced(resp, Some(after_bytes)),
        Some(Fault::ManyResultUrls { count }) => many_result_urls(resp, count).await,
        _ => resp,
    }
}

/// The answer without `Content-Length` (so chunked): its first `limit` bytes, then a clean
/// end; or (`None`) all of it followed by zeros without end.
fn unannounced(resp: Response, limit: Option<u64>) -> Response {
    let (mut parts, body) = resp.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let inner = body.into_data_stream().map(|c| c.map_err(std::io::Error::other));
    let body = match limit {
        Some(limit) => {
            let cut = stream::unfold((inner, 0u64), move |(mut inner, sent)| async move {
                if sent >= limit {
                    return None;
                }
                match inner.next().await {
                    Some(Ok(mut chunk)) => {
                        chunk.truncate((limit - sent).min(chunk.len() as u64) as usize);
                        let n = chunk.len() as u64;
                        Some((Ok(chunk), (inner, sent + n)))
                    }
                    other => other.map(|e| (e, (inner, limit))),
                }
            });
            Body::from_stream(cut)
        }
        None => {
            let zeros = Bytes::from(vec![0u8; 64 * 1024]);
            Body::from_stream(inner.chain(stream::repeat_with(move || Ok::<_, std::io::Error>(zeros.clone()))))
        }
    };
    Response::from_parts(parts, body)
}

/// A record answer whose success lists its first result link `count` times.
async fn many_result_urls(resp: Response, count: u32) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
    let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    let repeat = |r: &mut Value| {
        if let Some(first) = r.get("resultUrls").and_then(|u| u.get(0)).cloned() {
            r["resultUrls"] = Value::Array(vec![first; count as usize]);
        }
    };
    let data = &mut v["data"];
    if let Some(text) = data.get("resultJson").and_then(Value::as_str) {
        if let Ok(mut r) = serde_json::from_str::<Value>(text) {
            repeat(&mut r);
            data["resultJson"] = Value::String(r.to_string());
        }
    } else if let Some(r) = data.get_mut("response").filter(|r| r.is_object()) {
        repeat(r);
    }
    let bytes = serde_json::to_vec(&v).unwrap_or_default();
    parts.headers.insert(header::CONTENT_LENGTH, hv(&bytes.len().to_string()));
    Response::from_parts(parts, Body::from(bytes))
}

/// Sends the headers (with the full `Content-Length`) and the first `limit` bytes, then
/// either ends the body early or fails it with an I/O error.
async fn cut(resp: Response, limit: u64, error: bool) -> Response {
    let (mut parts, body) = resp.into_parts();
    let body = if parts.headers.contains_key(header::CONTENT_LENGTH) {
        body
    } else {
        let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap_or_default();
        parts.headers.insert(header::CONTENT_LENGTH, hv(&bytes.len().to_string()));
        Body::from(bytes)
    };
    let inner = body.into_data_stream();
    let cut = stream::unfold((inner, 0u64, false), move |(mut inner, sent, finished)| async move {
        if finished {
            return None;
        }
        if sent >= limit {
            // Let what was sent reach the socket before the connection goes.
            tokio::time::sleep(Duration::from_millis(30)).await;
            if error {
                let err = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "kie-sim: connection reset");
                return Some((Err(err), (inner, sent, true)));
            }
            return None;
        }
        match inner.next().await {
            Some(Ok(mut chunk)) => {
                let left = (limit - sent) as usize;
                if chunk.len() > left {
                    chunk.truncate(left);
                }
                let n = chunk.len() as u64;
                Some((Ok(chunk), (inner, sent + n, false)))
            }
            Some(Err(e)) => Some((Err(std::io::Error::other(e)), (inner, sent, true))),
            None => None,
        }
    });
    Response::from_parts(parts, Body::from_stream(cut))
}

// ---- Kie's endpoints ------------------------------------------------------------------------

/// What every Kie endpoint does first: count the call, take the fault due, answer at once a
/// fault due before the answer, and refuse a missing or wrong key (`headers`; `None` for the
/// files, which Kie serves to a plain GET). `Ok(fault)`: answer, then pass the answer through
/// [`late_fault`] with that fault.
async fn admit(
    sh: &Shared,
    counter: &AtomicU64,
    ep: Endpoint,
    headers: Option<&HeaderMap>,
) -> Result<Option<Fault>, Response> {
    bump(counter);
    sh.counters.note_arrival(ep);
    let fault = sh.take_fault(ep);
    if let Some(r) = early_fault(sh, fault.as_ref()) {
        return Err(r);
    }
    if headers.is_some_and(|h| !authorized(sh, h)) {
        return Err(late_fault(fault, envelope(sh, 401, UNAUTHORIZED, Value::Null)).await);
    }
    Ok(fault)
}

async fn create(State(sh): S, headers: HeaderMap, body: Bytes) -> Response {
    create_any(sh, headers, body, Protocol::Jobs).await
}

async fn veo_generate(State(sh): S, headers: HeaderMap, body: Bytes) -> Response {
    create_any(sh, headers, body, Protocol::Veo).await
}

async fn create_any(sh: Arc<Shared>, headers: HeaderMap, body: Bytes, protocol: Protocol) -> Response {
    let fault = match admit(&sh, &sh.counters.creates_received, Endpoint::Create, Some(&headers)).await {
        Ok(fault) => fault,
        Err(refused) => return refused,
    };
    let resp = {
        let fail = Failure::from_fault(fault.as_ref());
        let outcome = match protocol {
            Protocol::Jobs => sh.create(&body, fail),
            Protocol::Veo => sh.create_veo(&body, fail),
        };
        match outcome {
            CreateOutcome::Created { task_id } => match &fault {
                Some(Fault::OddAnswer { status, code }) => json_response(
                    status_for(i64::from(*status)),
                    &json!({"code": code, "msg": "created", "data": { "taskId": task_id }}),
                ),
                _ => envelope(&sh, 200, "success", json!({ "taskId": task_id })),
            },
            CreateOutcome::Rejected { code: 429, msg, retry_after } => {
                bump(&sh.counters.rate_limited);
                let mut r =
                    json_response(StatusCode::TOO_MANY_REQUESTS, &json!({"code": 429, "msg": msg, "data": null}));
                if let Some(secs) = retry_after {
                    r.headers_mut().insert(header::RETRY_AFTER, hv(&secs.to_string()));
                }
                r
            }
            CreateOutcome::Rejected { code, msg, .. } => envelope(&sh, code, &msg, Value::Null),
            CreateOutcome::Paused { code, msg } => {
                json_response(StatusCode::OK, &json!({"code": code, "msg": msg, "data": null}))
            }
        }
    };
    late_fault(fault, resp).await
}

async fn record_info(State(sh): S, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    record_any(sh, headers, q, Protocol::Jobs).await
}

async fn veo_record_info(State(sh): S, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    record_any(sh, headers, q, Protocol::Veo).await
}

/// A record query: 400 without a taskId; 422 "recordInfo is null" for a task not visible
/// yet; for an id never created, HTTP 404 / code 404 "task not found" or 422 "recordInfo is
/// null", by a hash of the id.
async fn record_any(sh: Arc<Shared>, headers: HeaderMap, q: HashMap<String, String>, protocol: Protocol) -> Response {
    let fault = match admit(&sh, &sh.counters.record_queries, Endpoint::RecordInfo, Some(&headers)).await {
        Ok(fault) => fault,
        Err(refused) => return refused,
    };
    let id = q.get("taskId").map(|s| s.trim()).filter(|s| !s.is_empty());
    if let Some(id) = id {
        sh.counters.note_query(id);
    }
    if !sh.counters.admit_query(sh.cfg.record_limit, Instant::now()) {
        bump(&sh.counters.rate_limited);
        let mut r = json_response(
            StatusCode::TOO_MANY_REQUESTS,
            &json!({"code": 429, "msg": "Too many requests, please retry later", "data": null}),
        );
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    }
    let resp = {
        match id {
            None => envelope(&sh, 400, "taskId is required", Value::Null),
            Some(id) => match sh.lookup(id, protocol) {
                Lookup::Found(rec) => envelope(&sh, 200, "success", rec),
                Lookup::Invisible => envelope(&sh, 422, "recordInfo is null", Value::Null),
                Lookup::Unknown if unknown_is_404(id) => {
                    json_response(StatusCode::NOT_FOUND, &json!({"code": 404, "msg": "task not found", "data": null}))
                }
                Lookup::Unknown => envelope(&sh, 422, "recordInfo is null", Value::Null),
            },
        }
    };
    late_fault(fault, resp).await
}

async fn veo_1080p(State(sh): S, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    let task = q.get("taskId").cloned();
    let index = q.get("index").cloned().map(Value::String);
    veo_hd(sh, headers, task, index, Hd::P1080).await
}

async fn veo_4k(State(sh): S, headers: HeaderMap, body: Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let task = v.get("taskId").and_then(Value::as_str).map(str::to_string);
    veo_hd(sh, headers, task, v.get("index").cloned(), Hd::K4).await
}

async fn veo_hd(sh: Arc<Shared>, headers: HeaderMap, task: Option<String>, index: Option<Value>, hd: Hd) -> Response {
    let fault = match admit(&sh, &sh.counters.hd_queries, Endpoint::VeoHd, Some(&headers)).await {
        Ok(fault) => fault,
        Err(refused) => return refused,
    };
    let index = match index {
        None | Some(Value::Null) => Some(0),
        Some(Value::String(s)) => s.trim().parse::<i64>().ok(),
        Some(v) => v.as_i64(),
    };
    let resp = {
        match (task.as_deref().map(str::trim).filter(|t| !t.is_empty()), index) {
            (None, _) => envelope(&sh, 400, "taskId is required", Value::Null),
            (_, None) => envelope(&sh, 400, "index must be a whole number", Value::Null),
            (Some(id), Some(index)) => match sh.hd_video(id, index, hd) {
                Ok(url) => {
                    let data = match hd {
                        Hd::P1080 => json!({ "resultUrl": url }),
                        Hd::K4 => json!({ "taskId": id, "resultUrl": url, "resultUrls": [url] }),
                    };
                    envelope(&sh, 200, "success", data)
                }
                Err((code, msg)) => envelope(&sh, code, &msg, Value::Null),
            },
        }
    };
    late_fault(fault, resp).await
}

async fn credit(State(sh): S, headers: HeaderMap) -> Response {
    let fault = match admit(&sh, &sh.counters.credit_queries, Endpoint::Credit, Some(&headers)).await {
        Ok(fault) => fault,
        Err(refused) => return refused,
    };
    let resp = { envelope(&sh, 200, "success", number(sh.credits())) };
    late_fault(fault, resp).await
}

async fn download_url(State(sh): S, headers: HeaderMap, body: Bytes) -> Response {
    let fault = match admit(&sh, &sh.counters.download_url_calls, Endpoint::DownloadUrl, Some(&headers)).await {
        Ok(fault) => fault,
        Err(refused) => return refused,
    };
    let resp = {
        let url = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("url").and_then(Value::as_str).map(str::to_string));
        match url {
            None => envelope(&sh, 422, "url is required", Value::Null),
            Some(url) => match sh.renew_link(url.trim()) {
                Some(link) => envelope(&sh, 200, "success", json!(link)),
                None => envelope(&sh, 422, "The url is not a file generated by Kie for this account", Value::Null),
            },
        }
    };
    late_fault(fault, resp).await
}

async fn upload(State(sh): S, headers: HeaderMap, body: Bytes) -> Response {
    let fault = match admit(&sh, &sh.counters.uploads, Endpoint::Upload, Some(&headers)).await {
        Ok(fault) => fault,
        Err(refused) => return refused,
    };
    let resp = { upload_answer(&sh, stream_upload(&sh, &headers, &body)) };
    late_fault(fault, resp).await
}

/// `POST /api/file-url-upload` `{fileUrl, uploadPath, fileName?}`: the simulator fetches the
/// URL itself; it has no network, so only loopback http(s) URLs (its own files included).
async fn url_upload(State(sh): S, headers: HeaderMap, body: Bytes) -> Response {
    let fault = match admit(&sh, &sh.counters.uploads, Endpoint::Upload, Some(&headers)).await {
        Ok(fault) => fault,
        Err(refused) => return refused,
    };
    let resp = {
        let stored = match json_fields(&body) {
            Err(e) => Err(e),
            Ok(v) => fetch_upload(&sh, &v).await,
        };
        upload_answer(&sh, stored)
    };
    late_fault(fault, resp).await
}

/// `POST /api/file-base64-upload` `{base64Data, uploadPath, fileName?}`; `base64Data` may be
/// a `data:` URL or bare base64.
async fn base64_upload(State(sh): S, headers: HeaderMap, body: Bytes) -> Response {
    let fault = match admit(&sh, &sh.counters.uploads, Endpoint::Upload, Some(&headers)).await {
        Ok(fault) => fault,
        Err(refused) => return refused,
    };
    let resp = { upload_answer(&sh, json_fields(&body).and_then(|v| decode_upload(&sh, &v))) };
    late_fault(fault, resp).await
}

fn upload_answer(sh: &Shared, stored: Result<Value, (i64, String)>) -> Response {
    match stored {
        Ok(data) => json_response(
            StatusCode::OK,
            &json!({"success": true, "code": 200, "msg": "File uploaded successfully", "data": data}),
        ),
        Err((code, msg)) => envelope(sh, code, &msg, Value::Null),
    }
}

fn json_fields(body: &Bytes) -> Result<serde_json::Map<String, Value>, (i64, String)> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        _ => Err((400, "The request body must be a JSON object".into())),
    }
}

fn json_text(v: &serde_json::Map<String, Value>, name: &str) -> Result<Option<String>, (i64, String)> {
    match v.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(_) => Err((422, format!("{name} must be a string"))),
    }
}

fn stream_upload(sh: &Shared, headers: &HeaderMap, body: &Bytes) -> Result<Value, (i64, String)> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let boundary =
        multipart::boundary(content_type).ok_or((400, "Content-Type must be multipart/form-data".to_string()))?;
    let parts = multipart::parse(&boundary, body).map_err(|e| (400, e))?;
    let file = parts.iter().find(|p| p.name == "file").ok_or((422, "file is required".to_string()))?;
    let text = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| std::str::from_utf8(&p.data).ok())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let file_name = text("fileName")
        .or_else(|| file.filename.clone().filter(|f| !f.trim().is_empty()))
        .ok_or((422, "fileName is required".to_string()))?;
    store_upload(sh, &text("uploadPath").unwrap_or_default(), &file_name, file.data.clone())
}

async fn fetch_upload(sh: &Shared, v: &serde_json::Map<String, Value>) -> Result<Value, (i64, String)> {
    let url = json_text(v, "fileUrl")?.ok_or((422, "fileUrl is required".to_string()))?;
    let parsed = reqwest::Url::parse(&url).map_err(|_| (422, "fileUrl is not a valid URL".to_string()))?;
    let host = parsed.host_str().unwrap_or("");
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !matches!(parsed.scheme(), "http" | "https") || !loopback {
        return Err((
            422,
            "fileUrl must be an http(s) URL the simulator can reach: it has no network, so only loopback URLs \
             (its own files included)"
                .into(),
        ));
    }
    let file_name = match json_text(v, "fileName")? {
        Some(n) => n,
        None => parsed
            .path_segments()
            .and_then(|mut s| s.next_back().map(str::to_string))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("upload-{}", util::short_hex(8))),
    };
    let upload_path = json_text(v, "uploadPath")?.unwrap_or_default();
    let resp = sh.http.get(parsed).send().await.map_err(|e| (422, format!("fileUrl could not be fetched: {e}")))?;
    if !resp.status().is_success() {
        return Err((422, format!("fileUrl answered HTTP {}", resp.status().as_u16())));
    }
    if resp.content_length().is_some_and(|n| n > UPLOAD_LIMIT as u64) {
        return Err((413, "The file is too large".into()));
    }
    let data = resp.bytes().await.map_err(|e| (422, format!("fileUrl could not be read: {e}")))?;
    store_upload(sh, &upload_path, &file_name, data)
}

fn decode_upload(sh: &Shared, v: &serde_json::Map<String, Value>) -> Result<Value, (i64, String)> {
    use base64::Engine;
    let raw = json_text(v, "base64Data")?.ok_or((422, "base64Data is required".to_string()))?;
    let (mime, b64) = match raw.strip_prefix("data:") {
        Some(rest) => {
            let (head, data) = rest.split_once(',').ok_or((422, "base64Data is not a valid data URL".to_string()))?;
            let mut params = head.split(';');
            let mime = params.next().unwrap_or("").trim().to_ascii_lowercase();
            if !params.any(|p| p.trim().eq_ignore_ascii_case("base64")) {
                return Err((422, "base64Data must be base64 (a data URL with ;base64)".into()));
            }
            (Some(mime), data.to_string())
        }
        None => (None, raw),
    };
    let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let data = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(compact.as_bytes()))
        .map_err(|_| (422, "base64Data is not valid base64".to_string()))?;
    if data.is_empty() {
        return Err((422, "base64Data is empty".into()));
    }
    let file_name = match json_text(v, "fileName")? {
        Some(n) => n,
        None => {
            let ext = mime.as_deref().and_then(util::ext_for_mime).or_else(|| util::sniff_ext(&data)).unwrap_or("bin");
            format!("upload-{}.{ext}", util::short_hex(8))
        }
    };
    let upload_path = json_text(v, "uploadPath")?.unwrap_or_default();
    store_upload(sh, &upload_path, &file_name, Bytes::from(data))
}

/// Keeps an upload and describes it as Kie's upload endpoints do.
fn store_upload(sh: &Shared, upload_path: &str, file_name: &str, data: Bytes) -> Result<Value, (i64, String)> {
    let segments: Vec<&str> = upload_path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return Err((422, "uploadPath is invalid".into()));
    }
    if file_name.contains('/') || file_name.contains('\\') || file_name == "." || file_name == ".." {
        return Err((422, "fileName is invalid".into()));
    }
    let mut key = util::short_hex(8);
    for s in &segments {
        key.push('/');
        key.push_str(&util::encode_segment(s));
    }
    key.push('/');
    key.push_str(&util::encode_segment(file_name));
    let mime = util::mime_for_name(file_name);
    let size = data.len();
    sh.add_upload(key.clone(), data, mime);
    let file_path =
        if segments.is_empty() { file_name.to_string() } else { format!("{}/{file_name}", segments.join("/")) };
    Ok(json!({
        "fileName": file_name,
        "filePath": file_path,
        "downloadUrl": format!("{}/uploads/{key}", sh.base),
        "fileSize": size,
        "mimeType": mime,
        "uploadedAt": util::iso8601(util::now_ms()),
    }))
}

// ---- files ------------------------------------------------------------------------------------

async fn result_file(
    State(sh): S,
    Path((task, file)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let fault = match admit(&sh, &sh.counters.file_gets, Endpoint::File, None).await {
        Ok(fault) => fault,
        Err(refused) => return refused,
    };
    let resp = if task == "synthetic" {
        match file.strip_suffix(".mp4").and_then(|n| n.parse::<u64>().ok()) {
            Some(n) => files::serve(Src::Synthetic(n), "video/mp4", &headers),
            None => storage_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist."),
        }
    } else {
        match sh.task_file(&task, &file) {
            None => storage_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist."),
            Some((src, mime)) => {
                let path = format!("/files/{task}/{file}");
                match sh.check_link(&path, q.get("exp").map(String::as_str), q.get("sig").map(String::as_str)) {
                    Ok(()) => files::serve(src, mime, &headers),
                    Err(reason) => storage_error(StatusCode::FORBIDDEN, "AccessDenied", reason),
                }
            }
        }
    };
    late_fault(fault, resp).await
}

async fn uploaded_file(State(sh): S, uri: Uri, headers: HeaderMap) -> Response {
    let fault = match admit(&sh, &sh.counters.file_gets, Endpoint::File, None).await {
        Ok(fault) => fault,
        Err(refused) => return refused,
    };
    let key = uri.path().strip_prefix("/uploads/").unwrap_or("");
    let resp = match sh.upload(key) {
        Some((src, mime)) => files::serve(src, mime, &headers),
        None => storage_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist."),
    };
    late_fault(fault, resp).await
}

async fn not_found() -> Response {
    json_response(StatusCode::NOT_FOUND, &json!({"code": 404, "msg": "Not Found", "data": null}))
}

// ---- control ------------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<FaultRule>),
    One(FaultRule),
}

async fn push_faults(State(sh): S, body: Bytes) -> Response {
    match serde_json::from_slice::<OneOrMany>(&body) {
        Ok(rules) => {
            let rules = match rules {
                OneOrMany::Many(r) => r,
                OneOrMany::One(r) => vec![r],
            };
            let n = rules.len();
            sh.push_faults(rules);
            json_response(StatusCode::OK, &json!({"ok": true, "queued": n}))
        }
        Err(e) => json_response(StatusCode::BAD_REQUEST, &json!({"ok": false, "error": e.to_string()})),
    }
}

async fn clear_faults(State(sh): S) -> Response {
    sh.clear_faults();
    json_response(StatusCode::OK, &json!({"ok": true}))
}

async fn list_faults(State(sh): S) -> Response {
    json_response(StatusCode::OK, &json!(sh.faults()))
}

async fn stats(State(sh): S) -> Response {
    json_response(StatusCode::OK, &json!(sh.stats()))
}

async fn set_credits(State(sh): S, body: Bytes) -> Response {
    let credits = serde_json::from_slice::<Value>(&body).ok().and_then(|v| v.get("credits").and_then(Value::as_f64));
    match credits {
        Some(c) => {
            sh.set_credits(c);
            json_response(StatusCode::OK, &json!({"ok": true, "credits": number(c)}))
        }
        None => json_response(StatusCode::BAD_REQUEST, &json!({"ok": false, "error": "body must be {\"credits\": n}"})),
    }
}

async fn get_credits(State(sh): S) -> Response {
    json_response(StatusCode::OK, &json!({"credits": number(sh.credits())}))
}

async fn expire_links(State(sh): S) -> Response {
    sh.expire_links();
    json_response(StatusCode::OK, &json!({"ok": true}))
}

async fn task(State(sh): S, Path(id): Path<String>) -> Response {
    match sh.task_record(&id) {
        Some(rec) => json_response(StatusCode::OK, &rec),
        None => json_response(StatusCode::NOT_FOUND, &json!({"ok": false, "error": "no such task"})),
    }
}

#[derive(Deserialize)]
struct PauseBody {
    #[serde(default)]
    models: Vec<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default = "paused_code")]
    code: i64,
}

fn paused_code() -> i64 {
    500
}

impl PauseBody {
    fn all(self) -> Vec<String> {
        let mut m = self.models;
        m.extend(self.model);
        m
    }
}

fn paused_list(sh: &Shared) -> Value {
    json!({"ok": true, "paused": sh.paused()})
}

async fn pause_models(State(sh): S, body: Bytes) -> Response {
    match serde_json::from_slice::<PauseBody>(&body) {
        Ok(b) if !matches!(b.code, 500 | 505) => json_response(
            StatusCode::BAD_REQUEST,
            &json!({"ok": false, "error": "code must be 500 (paused) or 505 (disabled)"}),
        ),
        Ok(b) => {
            let code = b.code;
            for m in b.all() {
                sh.pause(&m, code);
            }
            json_response(StatusCode::OK, &paused_list(&sh))
        }
        Err(e) => json_response(StatusCode::BAD_REQUEST, &json!({"ok": false, "error": e.to_string()})),
    }
}

/// Without a body (or with no models named) every pause is cleared.
async fn unpause_models(State(sh): S, body: Bytes) -> Response {
    let named = serde_json::from_slice::<PauseBody>(&body).map(PauseBody::all).unwrap_or_default();
    if named.is_empty() {
        sh.clear_paused();
    }
    for m in named {
        sh.unpause(&m);
    }
    json_response(StatusCode::OK, &paused_list(&sh))
}

async fn list_paused(State(sh): S) -> Response {
    json_response(StatusCode::OK, &paused_list(&sh))
}

async fn add_catalogue(State(sh): S, body: Bytes) -> Response {
    let text = String::from_utf8_lossy(&body);
    match sh.add_catalogue(&text) {
        Ok(ids) => json_response(StatusCode::OK, &json!({"ok": true, "added": ids})),
        Err(e) => json_response(StatusCode::BAD_REQUEST, &json!({"ok": false, "error": e})),
    }
}

async fn list_models(State(sh): S) -> Response {
    let models: serde_json::Map<String, Value> = sh
        .models()
        .into_iter()
        .map(|(id, (protocol, family))| (id, json!({"protocol": protocol, "family": family})))
        .collect();
    json_response(StatusCode::OK, &json!({"models": models}))
}
