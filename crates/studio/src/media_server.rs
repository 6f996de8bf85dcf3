//! Plays the library's videos in the window. WebKitGTK's media stack cannot load `<video>`
//! from Tauri's custom `asset:` scheme (tauri-apps/tauri#3725), so videos are served over
//! loopback HTTP instead: bound to 127.0.0.1 only, only the library's `media/` folder, under
//! a random token that other local programs cannot guess, with Range for seeking. Posters are
//! served the same way: WebKitGTK handles custom schemes on its UI thread, so dozens of
//! poster loads while scrolling the gallery stall frames; loopback HTTP is loaded off it.
//! The posters' thumbs (`thumbs/`, for the grid) likewise.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::Router;
use tokio::sync::oneshot;
use tower_http::cors::CorsLayer;
use tower_http::services::ServeDir;

use crate::paths::{MEDIA_DIR, POSTERS_DIR, THUMBS_DIR};

pub struct MediaServer {
    base: String,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl MediaServer {
    /// Serve `<root>/media`, `<root>/posters` and `<root>/thumbs` at `http://127.0.0.1:<port>/<token>/…`
    /// (the same relative paths the library records). Must be called
    /// within a Tokio runtime, which serves it until the server is dropped.
    ///
    /// Only to `Host: 127.0.0.1:<port>` (a page whose own name was made to point at
    /// loopback, DNS rebinding, is refused), only finished results (not `.partial`, `.bad`,
    /// `.deleting` or hidden files), and never through a symbolic link below `media/` or
    /// `posters/`.
    pub fn start(root: &Path) -> std::io::Result<MediaServer> {
        let token: String = (0..32).map(|_| format!("{:x}", rand::random::<u8>() & 0xf)).collect();
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        std_listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        let addr = listener.local_addr()?;
        let serve = |dir: &str| ServeDir::new(root.join(dir)).append_index_html_on_directories(false);
        let guard =
            Guard { host: format!("127.0.0.1:{}", addr.port()), prefix: format!("/{token}/"), root: root.into() };
        let app = Router::new()
            .nest_service(&format!("/{token}/{MEDIA_DIR}"), serve(MEDIA_DIR))
            .nest_service(&format!("/{token}/{POSTERS_DIR}"), serve(POSTERS_DIR))
            .nest_service(&format!("/{token}/{THUMBS_DIR}"), serve(THUMBS_DIR))
            .layer(middleware::from_fn(move |req: Request, next: Next| {
                let verdict = guard.check(&req);
                async move {
                    match verdict {
                        Ok(()) => next.run(req).await,
                        Err(status) => status.into_response(),
                    }
                }
            }))
            .layer(cors());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(MediaServer { base: format!("http://127.0.0.1:{}/{token}", addr.port()), addr, stop: Some(stop) })
    }

    /// Prefix for a result's relative path: `{base}/{path}`.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

/// What is checked before a request reaches the folder.
#[derive(Clone)]
struct Guard {
    /// The one `Host` answered.
    host: String,
    /// `/<token>/`.
    prefix: String,
    root: PathBuf,
}

impl Guard {
    fn check(&self, req: &Request) -> Result<(), StatusCode> {
        if req.headers().get(header::HOST).and_then(|h| h.to_str().ok()) != Some(self.host.as_str()) {
            return Err(StatusCode::MISDIRECTED_REQUEST);
        }
        // Decoded as the folder service decodes it (`%2f` is a separator there too).
        let Some(rel) = req.uri().path().strip_prefix(&self.prefix) else { return Err(StatusCode::NOT_FOUND) };
        let rel = percent_decode(rel).ok_or(StatusCode::NOT_FOUND)?;
        let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
        let (Some(top), Some(name)) = (parts.first(), parts.last()) else { return Err(StatusCode::NOT_FOUND) };
        if parts.len() < 2 || unfinished(name) || parts.iter().any(|p| p.starts_with('.')) {
            return Err(StatusCode::NOT_FOUND);
        }
        // Below media/ or posters/ (which may themselves be links, to another disk), nothing
        // may be a link.
        let mut at = self.root.join(top);
        for part in &parts[1..] {
            at.push(part);
            match std::fs::symlink_metadata(&at) {
                Ok(m) if m.file_type().is_symlink() => return Err(StatusCode::NOT_FOUND),
                Ok(_) => {}
                // Missing: the folder service answers 404 itself.
                Err(_) => break,
            }
        }
        Ok(())
    }
}

/// The names the library gives what is not a finished result: an interrupted download,
/// a file that failed its check, a file being deleted.
fn unfinished(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".partial", ".bad", ".deleting"].iter().any(|suffix| lower.ends_with(suffix))
}

/// `%XX` sequences to bytes (others kept as they are); `None` if the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The window captures posters by drawing a video frame on a canvas, which needs CORS. Only
/// the app's own origins (Linux/macOS, Windows) may read; Vite's dev server too in a debug
/// build (`cargo run -p kie-studio --no-default-features` against `npm run dev`).
fn allowed_origins(dev: bool) -> Vec<&'static str> {
    let mut origins = vec!["tauri://localhost", "http://tauri.localhost"];
    if dev {
        origins.push("http://localhost:5173");
    }
    origins
}

fn cors() -> CorsLayer {
    let origins = allowed_origins(cfg!(debug_assertions));
    CorsLayer::new()
        .allow_origin(origins.into_iter().map(HeaderValue::from_static).collect::<Vec<_>>())
        .allow_methods([Method::GET, Method::HEAD])
}

impl Drop for MediaServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn serves_media_with_range_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("media/2026/11")).unwrap();
        std::fs::write(dir.path().join("media/2026/11/task-1-0.mp4"), b"0123456789").unwrap();
        std::fs::write(dir.path().join("library.db"), b"secret rows").unwrap();
        std::fs::create_dir_all(dir.path().join("posters")).unwrap();
        std::fs::write(dir.path().join("posters/task-1-poster.jpg"), b"\xff\xd8\xff poster").unwrap();
        std::fs::create_dir_all(dir.path().join("thumbs")).unwrap();
        std::fs::write(dir.path().join("thumbs/task-1-poster.jpg"), b"\xff\xd8\xff thumb").unwrap();
        std::fs::create_dir_all(dir.path().join("uploads")).unwrap();
        std::fs::write(dir.path().join("uploads/mine.png"), b"private").unwrap();
        let server = MediaServer::start(dir.path()).unwrap();
        let http = reqwest::Client::new();
        let url = format!("{}/media/2026/11/task-1-0.mp4", server.base());
        let full = http.get(&url).send().await.unwrap();
        assert_eq!(full.status(), 200);
        assert_eq!(full.headers()["content-type"], "video/mp4");
        assert_eq!(full.bytes().await.unwrap().as_ref(), b"0123456789");
        let part = http.get(&url).header("Range", "bytes=2-4").send().await.unwrap();
        assert_eq!(part.status(), 206);
        assert_eq!(part.bytes().await.unwrap().as_ref(), b"234");
        let cors = http.get(&url).header("Origin", "tauri://localhost").send().await.unwrap();
        assert_eq!(cors.headers()["access-control-allow-origin"], "tauri://localhost");
        let other = http.get(&url).header("Origin", "http://evil.example").send().await.unwrap();
        assert!(other.headers().get("access-control-allow-origin").is_none());
        let poster = http.get(format!("{}/posters/task-1-poster.jpg", server.base())).send().await.unwrap();
        assert_eq!(poster.status(), 200);
        assert_eq!(poster.headers()["content-type"], "image/jpeg");
        let thumb = http.get(format!("{}/thumbs/task-1-poster.jpg", server.base())).send().await.unwrap();
        assert_eq!(thumb.status(), 200);
        assert_eq!(thumb.bytes().await.unwrap().as_ref(), b"\xff\xd8\xff thumb");
        // The HiDPI thumb, its `@` encoded as the window encodes it.
        std::fs::write(dir.path().join("thumbs/task-1-poster@2x.jpg"), b"\xff\xd8\xff 2x").unwrap();
        let hidpi = http.get(format!("{}/thumbs/task-1-poster%402x.jpg", server.base())).send().await.unwrap();
        assert_eq!(hidpi.status(), 200);
        assert_eq!(hidpi.bytes().await.unwrap().as_ref(), b"\xff\xd8\xff 2x");
        // Without the token, outside media/ and posters/, or climbing out: nothing.
        let port = server.addr().port();
        for bad in [
            format!("http://127.0.0.1:{port}/media/2026/11/task-1-0.mp4"),
            format!("{}/library.db", server.base()),
            format!("{}/uploads/mine.png", server.base()),
            format!("{}/posters/../library.db", server.base()),
            format!("{}/thumbs/../library.db", server.base()),
            format!("{}/media/../library.db", server.base()),
            format!("{}/media/%2e%2e/library.db", server.base()),
        ] {
            let r = http.get(&bad).send().await.unwrap();
            assert!(r.status().is_client_error(), "{bad}: {}", r.status());
        }
        drop(server);
    }

    /// DNS rebinding: a page on evil.example whose name now points at 127.0.0.1 reaches the
    /// server with its own name in Host. Only `127.0.0.1:<port>` is answered.
    #[tokio::test]
    async fn only_its_own_host_is_answered() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("media")).unwrap();
        std::fs::write(dir.path().join("media/task-1-0.mp4"), b"0123456789").unwrap();
        let server = MediaServer::start(dir.path()).unwrap();
        let http = reqwest::Client::new();
        let url = format!("{}/media/task-1-0.mp4", server.base());
        assert_eq!(http.get(&url).send().await.unwrap().status(), 200);
        let port = server.addr().port();
        for host in
            [format!("evil.example:{port}"), format!("localhost:{port}"), "127.0.0.1".into(), "127.0.0.1:1".into()]
        {
            let r = http.get(&url).header("Host", &host).send().await.unwrap();
            assert_eq!(r.status(), 421, "{host}");
        }
    }

    /// What is not a finished result is not served: interrupted or bad downloads, files being
    /// deleted, hidden files, and links (to anywhere, in the library or not).
    #[tokio::test]
    #[cfg(unix)] // Makes symlinks (or a pipe) the Unix way.
    async fn partial_bad_and_linked_files_are_not_served() {
        let dir = tempfile::tempdir().unwrap();
        let media = dir.path().join("media/2026/11");
        std::fs::create_dir_all(&media).unwrap();
        std::fs::write(media.join("task-1-0.mp4"), b"0123456789").unwrap();
        for name in
            ["task-2-0.partial", "task-3-0.mp4.bad", "task-4-0.mp4.deleting", ".hidden.mp4", "task-5-0.MP4.PARTIAL"]
        {
            std::fs::write(media.join(name), b"not for playing").unwrap();
        }
        let secret = tempfile::tempdir().unwrap();
        std::fs::write(secret.path().join("private.mp4"), b"private").unwrap();
        std::os::unix::fs::symlink(secret.path().join("private.mp4"), media.join("task-6-0.mp4")).unwrap();
        std::os::unix::fs::symlink(secret.path(), dir.path().join("media/2025")).unwrap();
        std::os::unix::fs::symlink(media.join("task-1-0.mp4"), media.join("task-7-0.mp4")).unwrap();
        let server = MediaServer::start(dir.path()).unwrap();
        let http = reqwest::Client::new();
        let ok = http.get(format!("{}/media/2026/11/task-1-0.mp4", server.base())).send().await.unwrap();
        assert_eq!(ok.status(), 200);
        for bad in [
            "media/2026/11/task-2-0.partial",
            "media/2026/11/task-3-0.mp4.bad",
            "media/2026/11/task-4-0.mp4.deleting",
            "media/2026/11/.hidden.mp4",
            "media/2026/11/task-5-0.MP4.PARTIAL",
            "media/2026/11/task-6-0.mp4",
            "media/2026/11/task-7-0.mp4",
            "media/2025/private.mp4",
            "media/2026/11/task-2-0%2epartial",
            "media/2025%2fprivate.mp4",
        ] {
            let r = http.get(format!("{}/{bad}", server.base())).send().await.unwrap();
            assert_eq!(r.status(), 404, "{bad}");
        }
    }

    /// Vite's dev server may read frames only in a debug build (`cargo run` against Vite).
    #[test]
    fn the_dev_servers_origin_only_in_development() {
        let release = allowed_origins(false);
        assert_eq!(release, ["tauri://localhost", "http://tauri.localhost"]);
        assert!(allowed_origins(true).contains(&"http://localhost:5173"));
    }
}
