//! The HTTP surface: Kie's endpoints, the served files and the `/_sim` control endpoints.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

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

use crate::files::{self, hv, storage_error, Src};
use crate::multipart;
use crate::state::{bump, number, CreateOutcome, Shared};
use crate::util;
use crate::{Endpoint, Fault, FaultRule};

type S = State<Arc<Shared>>;

const UPLOAD_LIMIT: usize = 256 * 1024 * 1024;
const UNAUTHORIZED: &str = "You do not have access permissions";
const PAUSED: &str = "This interface is temporarily paused.";

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v1/jobs/createTask", post(create))
        .route("/api/v1/jobs/recordInfo", get(record_info))
        .route("/api/v1/chat/credit", get(credit))
        .route("/api/v1/common/download-url", post(download_url))
        .route("/api/file-stream-upload", post(upload).layer(DefaultBodyLimit::max(UPLOAD_LIMIT)))
        .route("/files/{task}/{file}", get(result_file))
        .route("/uploads/{*path}", get(uploaded_file))
        .route("/_sim/faults", post(push_faults).delete(clear_faults).get(list_faults))
        .route("/_sim/stats", get(stats))
        .route("/_sim/credits", post(set_credits).get(get_credits))
        .route("/_sim/expire-links", post(expire_links))
        .route("/_sim/tasks/{id}", get(task))
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

/// `{"code", msg_key, "data"}`: HTTP 200, or the code as the HTTP status for errors when
/// `http_status_errors` is set. `msg_key` is "message" for createTask (as seed 000), else "msg".
fn envelope(sh: &Shared, code: i64, msg_key: &str, msg: &str, data: Value) -> Response {
    let mut body = serde_json::Map::new();
    body.insert("code".into(), json!(code));
    body.insert(msg_key.into(), json!(msg));
    body.insert("data".into(), data);
    let status = if code == 200 || !sh.cfg.http_status_errors { StatusCode::OK } else { status_for(code) };
    json_response(status, &Value::Object(body))
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
            envelope(sh, 455, "msg", "Service unavailable: under maintenance, please retry later", Value::Null)
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
        | Fault::FailGeneration { .. } => return None,
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
        _ => resp,
    }
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

async fn create(State(sh): S, headers: HeaderMap, body: Bytes) -> Response {
    bump(&sh.counters.creates_received);
    let fault = sh.take_fault(Endpoint::Create);
    if let Some(r) = early_fault(&sh, fault.as_ref()) {
        return r;
    }
    let resp = if !authorized(&sh, &headers) {
        envelope(&sh, 401, "message", UNAUTHORIZED, Value::Null)
    } else {
        let fail = match &fault {
            Some(Fault::FailGeneration { code, msg }) => Some((code.clone(), msg.clone())),
            _ => None,
        };
        match sh.create(&body, fail) {
            CreateOutcome::Created { task_id } => {
                envelope(&sh, 200, "message", "success", json!({ "taskId": task_id }))
            }
            CreateOutcome::Rejected { code: 429, msg, retry_after } => {
                let mut r =
                    json_response(StatusCode::TOO_MANY_REQUESTS, &json!({"code": 429, "message": msg, "data": null}));
                if let Some(secs) = retry_after {
                    r.headers_mut().insert(header::RETRY_AFTER, hv(&secs.to_string()));
                }
                r
            }
            CreateOutcome::Rejected { code, msg, .. } => envelope(&sh, code, "message", &msg, Value::Null),
        }
    };
    late_fault(fault, resp).await
}

async fn record_info(State(sh): S, headers: HeaderMap, Query(q): Query<HashMap<String, String>>) -> Response {
    bump(&sh.counters.record_queries);
    let fault = sh.take_fault(Endpoint::RecordInfo);
    if let Some(r) = early_fault(&sh, fault.as_ref()) {
        return r;
    }
    let resp = if !authorized(&sh, &headers) {
        envelope(&sh, 401, "msg", UNAUTHORIZED, Value::Null)
    } else {
        match q.get("taskId").map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => envelope(&sh, 422, "msg", "taskId is required", Value::Null),
            Some(id) => match sh.visible_record(id) {
                Some(rec) => envelope(&sh, 200, "msg", "success", rec),
                None => envelope(&sh, 422, "msg", "recordInfo is null", Value::Null),
            },
        }
    };
    late_fault(fault, resp).await
}

async fn credit(State(sh): S, headers: HeaderMap) -> Response {
    bump(&sh.counters.credit_queries);
    let fault = sh.take_fault(Endpoint::Credit);
    if let Some(r) = early_fault(&sh, fault.as_ref()) {
        return r;
    }
    let resp = if !authorized(&sh, &headers) {
        envelope(&sh, 401, "msg", UNAUTHORIZED, Value::Null)
    } else {
        envelope(&sh, 200, "msg", "success", number(sh.credits()))
    };
    late_fault(fault, resp).await
}

async fn download_url(State(sh): S, headers: HeaderMap, body: Bytes) -> Response {
    bump(&sh.counters.download_url_calls);
    let fault = sh.take_fault(Endpoint::DownloadUrl);
    if let Some(r) = early_fault(&sh, fault.as_ref()) {
        return r;
    }
    let resp = if !authorized(&sh, &headers) {
        envelope(&sh, 401, "msg", UNAUTHORIZED, Value::Null)
    } else {
        let url = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("url").and_then(Value::as_str).map(str::to_string));
        match url {
            None => envelope(&sh, 422, "msg", "url is required", Value::Null),
            Some(url) => match sh.renew_link(url.trim()) {
                Some(link) => envelope(&sh, 200, "msg", "success", json!(link)),
                None => {
                    envelope(&sh, 422, "msg", "The url is not a file generated by Kie for this account", Value::Null)
                }
            },
        }
    };
    late_fault(fault, resp).await
}

async fn upload(State(sh): S, headers: HeaderMap, body: Bytes) -> Response {
    bump(&sh.counters.uploads);
    let fault = sh.take_fault(Endpoint::Upload);
    if let Some(r) = early_fault(&sh, fault.as_ref()) {
        return r;
    }
    let resp = if !authorized(&sh, &headers) {
        envelope(&sh, 401, "msg", UNAUTHORIZED, Value::Null)
    } else {
        match store_upload(&sh, &headers, &body) {
            Ok(data) => json_response(
                StatusCode::OK,
                &json!({"success": true, "code": 200, "msg": "File uploaded successfully", "data": data}),
            ),
            Err((code, msg)) => envelope(&sh, code, "msg", &msg, Value::Null),
        }
    };
    late_fault(fault, resp).await
}

fn store_upload(sh: &Shared, headers: &HeaderMap, body: &Bytes) -> Result<Value, (i64, String)> {
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
    let upload_path = text("uploadPath").unwrap_or_default();
    let segments: Vec<&str> = upload_path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|s| *s == "." || *s == "..") {
        return Err((422, "uploadPath is invalid".into()));
    }
    let file_name = text("fileName")
        .or_else(|| file.filename.clone().filter(|f| !f.trim().is_empty()))
        .ok_or((422, "fileName is required".to_string()))?;
    if file_name.contains('/') || file_name.contains('\\') || file_name == "." || file_name == ".." {
        return Err((422, "fileName is invalid".into()));
    }
    let mut key = util::short_hex(8);
    for s in &segments {
        key.push('/');
        key.push_str(&util::encode_segment(s));
    }
    key.push('/');
    key.push_str(&util::encode_segment(&file_name));
    let mime = util::mime_for_name(&file_name);
    sh.add_upload(key.clone(), file.data.clone(), mime);
    let file_path = if segments.is_empty() { file_name.clone() } else { format!("{}/{file_name}", segments.join("/")) };
    Ok(json!({
        "fileName": file_name,
        "filePath": file_path,
        "downloadUrl": format!("{}/uploads/{key}", sh.base),
        "fileSize": file.data.len(),
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
    bump(&sh.counters.file_gets);
    let fault = sh.take_fault(Endpoint::File);
    if let Some(r) = early_fault(&sh, fault.as_ref()) {
        return r;
    }
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
    bump(&sh.counters.file_gets);
    let fault = sh.take_fault(Endpoint::File);
    if let Some(r) = early_fault(&sh, fault.as_ref()) {
        return r;
    }
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
