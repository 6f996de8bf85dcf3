//! The browser backend: the real core (`studio::App`) serving the same generated surface
//! over HTTP on loopback, as GitButler's `but-server` serves `but-api`. The window, run in a
//! plain browser (development) or in the UI's own tests, talks to it through the same
//! generated client as in the app, with an HTTP transport (`ui/src/lib/api/http.ts`).
//!
//! Wire: `POST /api/{command}` (JSON arguments object, camelCase) answers 200 with the
//! result or 4xx/5xx with an `ApiError`; `GET /events` is a Server-Sent Events stream of
//! `{"event", "payload"}` (app-wide events) and `{"channel", "message"}` (a channel argument
//! given as `"__CHANNEL__:<id>"`), opened with `{"ready": true}`; `GET /asset?path=` serves a
//! file of the open library (uploaded images' thumbnails). Every request carries the random
//! token (`Authorization: Bearer`, or `?token=` where a header cannot be set). 127.0.0.1
//! only. With test hooks, `POST /_test/reset` closes the library and empties it, and
//! `POST /_test/seed {"results": n, "seed": s}` fills the demo library with finished videos.

pub mod seed;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{json, Value};
use studio::surface::{self, Channels, Sink};
use studio::{ApiError, ApiErrorCode, App};
use tokio::sync::broadcast;
use tower_http::cors::{Any, CorsLayer};

/// What the server does besides the surface.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// `/_test/reset` and `/_test/seed` (never in a build anyone runs for real work).
    pub test_hooks: bool,
    /// Port on 127.0.0.1 (0: any free one).
    pub port: u16,
}

/// A running server. Dropping it stops serving.
pub struct Server {
    addr: SocketAddr,
    token: String,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn token(&self) -> &str {
        &self.token
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Shared {
    app: Arc<App>,
    token: String,
    /// Every message of the event stream, serialized once.
    out: broadcast::Sender<Arc<str>>,
    test_hooks: bool,
}

const CHANNEL_PREFIX: &str = "__CHANNEL__:";

/// Channel arguments: their messages go out on the event stream under their id.
struct StreamChannels(broadcast::Sender<Arc<str>>);

impl Channels for StreamChannels {
    fn open(&self, arg: &Value) -> Result<Sink<Value>, ApiError> {
        let id = arg
            .as_str()
            .and_then(|s| s.strip_prefix(CHANNEL_PREFIX))
            .and_then(|id| id.parse::<u64>().ok())
            .ok_or_else(|| ApiError::new(ApiErrorCode::InvalidRequest, format!("Not a channel: {arg}")))?;
        let out = self.0.clone();
        Ok(Sink::new(move |message| {
            let _ = out.send(json!({"channel": id, "message": message}).to_string().into());
            true
        }))
    }
}

fn random_token() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Serves `app` on 127.0.0.1. Must run inside a Tokio runtime.
pub async fn serve(app: Arc<App>, opts: ServerOptions) -> std::io::Result<Server> {
    let (out, _) = broadcast::channel(4096);
    let token = random_token();
    // App-wide events, named and shaped by the surface.
    let mut rx = app.subscribe();
    let events_out = out.clone();
    let forwarder = tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(event) => {
                    if let Some((name, payload)) = surface::app_event(&event) {
                        let _ = events_out.send(json!({"event": name, "payload": payload}).to_string().into());
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => break,
            }
        }
    });
    let shared = Arc::new(Shared { app, token: token.clone(), out, test_hooks: opts.test_hooks });
    let router = Router::new()
        .route("/api/{command}", post(command))
        .route("/events", get(events))
        .route("/asset", get(asset))
        .route("/_test/reset", post(test_reset))
        .route("/_test/seed", post(test_seed))
        .layer(middleware::from_fn_with_state(shared.clone(), authorize))
        // The token is the gate; any page that has it may call (the Vite dev server's origin).
        .layer(CorsLayer::new().allow_origin(Any).allow_methods(Any).allow_headers(Any))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", opts.port)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _forwarder = AbortOnDrop(forwarder);
        if let Err(e) = axum::serve(listener, router).await {
            eprintln!("kie-studio-server: {e}");
        }
    });
    Ok(Server { addr, token, task })
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);
impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn authorize(
    State(s): State<Arc<Shared>>,
    Query(q): Query<TokenQuery>,
    headers: HeaderMap,
    req: Request,
    next: Next,
) -> Response {
    if req.method() == axum::http::Method::OPTIONS {
        return next.run(req).await;
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    if bearer.or(q.token).as_deref() != Some(s.token.as_str()) {
        return error(StatusCode::UNAUTHORIZED, ApiError::new(ApiErrorCode::Unauthorized, "Wrong or missing token."));
    }
    next.run(req).await
}

fn error(status: StatusCode, e: ApiError) -> Response {
    (status, Json(e)).into_response()
}

fn status_for(code: ApiErrorCode) -> StatusCode {
    match code {
        ApiErrorCode::InvalidInput | ApiErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
        ApiErrorCode::NotInLibrary => StatusCode::NOT_FOUND,
        ApiErrorCode::NotReady => StatusCode::CONFLICT,
        ApiErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

async fn command(State(s): State<Arc<Shared>>, UrlPath(name): UrlPath<String>, body: axum::body::Bytes) -> Response {
    let args: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                let e = ApiError::new(ApiErrorCode::InvalidRequest, format!("The body is not JSON: {e}"));
                return error(StatusCode::BAD_REQUEST, e);
            }
        }
    };
    let channels = StreamChannels(s.out.clone());
    match surface::dispatch(&s.app, &name, args, &channels).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(status_for(e.code), e),
    }
}

async fn events(State(s): State<Arc<Shared>>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = s.out.subscribe();
    let hello = futures_util::stream::once(async { Ok(Event::default().data(r#"{"ready":true}"#)) });
    let rest = futures_util::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(msg) => return Some((Ok(Event::default().data(&*msg)), rx)),
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    use futures_util::StreamExt;
    Sse::new(hello.chain(rest)).keep_alive(KeepAlive::default())
}

#[derive(Deserialize)]
struct AssetQuery {
    path: String,
}

/// A file of the open library (never its database), as the app's asset protocol would serve it.
async fn asset(State(s): State<Arc<Shared>>, Query(q): Query<AssetQuery>) -> Response {
    let not_found = || error(StatusCode::NOT_FOUND, ApiError::new(ApiErrorCode::NotInLibrary, "No such file."));
    let Ok(studio) = s.app.studio() else { return not_found() };
    let (Ok(root), Ok(path)) = (studio.paths().root().canonicalize(), Path::new(&q.path).canonicalize()) else {
        return not_found();
    };
    let is_db = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(studio::paths::DB_FILE));
    if !path.starts_with(&root) || is_db {
        return not_found();
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type(&path))], bytes).into_response(),
        Err(_) => not_found(),
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("mp4") => "video/mp4",
        _ => "application/octet-stream",
    }
}

fn hooks_off() -> Response {
    error(StatusCode::NOT_FOUND, ApiError::new(ApiErrorCode::InvalidRequest, "Test hooks are off."))
}

fn empty_dir(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Closes the library and empties both folders (real and demo): a fresh app for the next test.
async fn test_reset(State(s): State<Arc<Shared>>) -> Response {
    if !s.test_hooks {
        return hooks_off();
    }
    s.app.close();
    let cfg = s.app.config();
    let dirs: Vec<PathBuf> = vec![cfg.library.root().to_path_buf(), cfg.demo_library().root().to_path_buf()];
    let store = cfg.key_store();
    let done = tokio::task::spawn_blocking(move || {
        // A key saved by an earlier test goes too (the server runs with a keyring entry of its own).
        let _ = store.delete();
        dirs.iter().try_for_each(|d| empty_dir(d))
    })
    .await;
    match done {
        Ok(Ok(())) => Json(json!({})).into_response(),
        Ok(Err(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, ApiError::new(ApiErrorCode::Io, e.to_string())),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, ApiError::new(ApiErrorCode::Internal, e.to_string())),
    }
}

#[derive(Deserialize)]
struct SeedArgs {
    results: usize,
    #[serde(default = "one")]
    seed: u64,
}

fn one() -> u64 {
    1
}

/// Fills the demo library (closed first) with `results` finished videos; `start_demo` opens it.
async fn test_seed(State(s): State<Arc<Shared>>, Json(args): Json<SeedArgs>) -> Response {
    if !s.test_hooks {
        return hooks_off();
    }
    s.app.close();
    let root = s.app.config().demo_library().root().to_path_buf();
    let report = tokio::task::spawn_blocking(move || seed::seed_library(&root, args.results, args.seed)).await;
    match report {
        Ok(r) => Json(json!({"results": r.n, "newest": r.newest_result_id()})).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, ApiError::new(ApiErrorCode::Internal, e.to_string())),
    }
}
