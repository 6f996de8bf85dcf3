//! What the app holds: where things are (read once at startup), the open session (real
//! library or demo, or none: the welcome screen), and the progress channels the window
//! registered. Locks are held only for a moment, never across an `.await`.

use std::sync::{Mutex, MutexGuard};

use studio::api::{ApiError, ApiErrorCode, AppInfo, ProgressEvent};
use studio::session::{self, Mode, Session, SessionConfig};
use studio::Studio;
use tauri::async_runtime::JoinHandle;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager};

use crate::events;

/// A window that reloads registers again; older channels beyond this many are dropped.
const MAX_CHANNELS: usize = 8;

pub struct AppState {
    pub cfg: SessionConfig,
    open: Mutex<Option<Open>>,
    channels: Mutex<Vec<Channel<ProgressEvent>>>,
}

/// A session with the task forwarding its events to the window.
struct Open {
    session: Session,
    forwarder: JoinHandle<()>,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.forwarder.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The environment as the core reads it.
pub fn env_string(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

pub fn not_ready() -> ApiError {
    ApiError::new(ApiErrorCode::NOT_READY, "Kie Studio is not set up yet: add your Kie API key, or try the demo.")
}

impl AppState {
    pub fn new(cfg: SessionConfig) -> Self {
        AppState { cfg, open: Mutex::new(None), channels: Mutex::new(Vec::new()) }
    }

    /// The open studio (cheap to clone), or `not_ready`.
    pub fn studio(&self) -> Result<Studio, ApiError> {
        lock(&self.open).as_ref().map(|o| o.session.studio().clone()).ok_or_else(not_ready)
    }

    pub fn mode(&self) -> Option<Mode> {
        lock(&self.open).as_ref().map(|o| o.session.mode())
    }

    pub fn app_info(&self) -> AppInfo {
        match lock(&self.open).as_ref() {
            Some(o) => o.session.app_info(&self.cfg, env_string),
            None => session::app_info_not_ready(&self.cfg, env_string),
        }
    }

    /// Make `session` the open one: its folder becomes visible to the asset protocol, its
    /// events go to the window, and its poller starts (resuming unfinished work). The
    /// session it replaces is closed. Must run inside the async runtime.
    pub fn install(&self, app: &AppHandle, mut session: Session) {
        allow_library(app, session.root());
        let forwarder = events::forward(app.clone(), session.studio().subscribe());
        session.start();
        eprintln!(
            "kie-studio: opened the {} library at {}",
            if session.is_demo() { "demo" } else { "real" },
            session.root().display()
        );
        let old = lock(&self.open).replace(Open { session, forwarder });
        drop(old);
    }

    /// Close the open session (the welcome screen comes back).
    pub fn close(&self) {
        let old = lock(&self.open).take();
        drop(old);
    }

    pub fn add_channel(&self, channel: Channel<ProgressEvent>) {
        let mut channels = lock(&self.channels);
        channels.push(channel);
        let excess = channels.len().saturating_sub(MAX_CHANNELS);
        channels.drain(..excess);
    }

    /// Send to every registered channel; a channel that fails (its page is gone) is dropped.
    pub fn send_progress(&self, event: &ProgressEvent) {
        lock(&self.channels).retain(|c| c.send(event.clone()).is_ok());
    }
}

/// The asset protocol may serve files of this library folder (and nothing else: the
/// config's static scope is empty), except the database itself.
pub fn allow_library(app: &AppHandle, root: &std::path::Path) {
    let scope = app.asset_protocol_scope();
    if let Err(e) = scope.allow_directory(root, true) {
        eprintln!("kie-studio: cannot show files of {}: {e}", root.display());
    }
    for name in ["library.db", "library.db-wal", "library.db-shm", "library.db-journal"] {
        let _ = scope.forbid_file(root.join(name));
    }
}
