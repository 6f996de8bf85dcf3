//! Plays the library's videos in the window. WebKitGTK's media stack cannot load `<video>`
//! from Tauri's custom `asset:` scheme (tauri-apps/tauri#3725), so videos are served over
//! loopback HTTP instead: bound to 127.0.0.1 only, only the library's `media/` folder, under
//! a random token that other local programs cannot guess, with Range for seeking. Posters are
//! served the same way: WebKitGTK handles custom schemes on its UI thread, so dozens of
//! poster loads while scrolling the gallery stall frames; loopback HTTP is loaded off it.

use std::net::SocketAddr;
use std::path::Path;

use axum::http::{HeaderValue, Method};
use axum::Router;
use tokio::sync::oneshot;
use tower_http::cors::CorsLayer;
use tower_http::services::ServeDir;

use crate::paths::{MEDIA_DIR, POSTERS_DIR};

pub struct MediaServer {
    base: String,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl MediaServer {
    /// Serve `<root>/media` and `<root>/posters` at `http://127.0.0.1:<port>/<token>/…`
    /// (the same relative paths the library records). Must be called
    /// within a Tokio runtime, which serves it until the server is dropped.
    pub fn start(root: &Path) -> std::io::Result<MediaServer> {
        let token: String = (0..32).map(|_| format!("{:x}", rand::random::<u8>() & 0xf)).collect();
        let serve = |dir: &str| ServeDir::new(root.join(dir)).append_index_html_on_directories(false);
        let app = Router::new()
            .nest_service(&format!("/{token}/{MEDIA_DIR}"), serve(MEDIA_DIR))
            .nest_service(&format!("/{token}/{POSTERS_DIR}"), serve(POSTERS_DIR))
            .layer(cors());
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        std_listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        let addr = listener.local_addr()?;
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

/// The window captures posters by drawing a video frame on a canvas, which needs CORS. Only
/// the app's own origins (Linux/macOS, Windows, and Vite's dev server) may read.
fn cors() -> CorsLayer {
    let origins = ["tauri://localhost", "http://tauri.localhost", "http://localhost:5173"];
    CorsLayer::new().allow_origin(origins.map(HeaderValue::from_static)).allow_methods([Method::GET, Method::HEAD])
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
        // Without the token, outside media/ and posters/, or climbing out: nothing.
        let port = server.addr().port();
        for bad in [
            format!("http://127.0.0.1:{port}/media/2026/11/task-1-0.mp4"),
            format!("{}/library.db", server.base()),
            format!("{}/uploads/mine.png", server.base()),
            format!("{}/posters/../library.db", server.base()),
            format!("{}/media/../library.db", server.base()),
            format!("{}/media/%2e%2e/library.db", server.base()),
        ] {
            let r = http.get(&bad).send().await.unwrap();
            assert!(r.status().is_client_error(), "{bad}: {}", r.status());
        }
        drop(server);
    }
}
