//! The core's events to the window: app-wide changes as `studio://…` events, progress
//! (throttled per task) to the channels `watch_progress` registered, and a desktop
//! notification when a task is over while the window is not in front.

use std::time::Instant;

use studio::api::events as names;
use studio::events::StudioEvent;
use studio::progress::{Notices, ProgressThrottle};
use tauri::async_runtime::JoinHandle;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::{error::RecvError, Receiver};

use crate::state::AppState;

/// Forward a session's events until it is closed (the task is aborted then).
pub fn forward(app: AppHandle, mut rx: Receiver<StudioEvent>) -> JoinHandle<()> {
    tauri::async_runtime::spawn(async move {
        let mut throttle = ProgressThrottle::default();
        let mut notices = Notices::default();
        loop {
            match rx.recv().await {
                Ok(event) => deliver(&app, &event, &mut throttle, &mut notices),
                // The window re-reads what it shows on the next change; nothing to replay.
                Err(RecvError::Lagged(n)) => eprintln!("kie-studio: {n} events were skipped"),
                Err(RecvError::Closed) => break,
            }
        }
    })
}

fn deliver(app: &AppHandle, event: &StudioEvent, throttle: &mut ProgressThrottle, notices: &mut Notices) {
    if let Some(progress) = throttle.filter(event, Instant::now()) {
        app.state::<AppState>().send_progress(&progress);
    }
    let sent = match event {
        StudioEvent::TaskChanged { task } => {
            if let Some(text) = notices.for_change(task) {
                notify_unless_focused(app, &text);
            }
            app.emit(names::TASK_CHANGED, task)
        }
        StudioEvent::ResultAdded { result } => app.emit(names::RESULT_ADDED, result),
        StudioEvent::CharacterAdded { character } => app.emit(names::CHARACTER_ADDED, character),
        StudioEvent::KeyRejected => app.emit(names::KEY_REJECTED, ()),
        StudioEvent::DownloadProgress { .. } => Ok(()),
    };
    if let Err(e) = sent {
        eprintln!("kie-studio: could not tell the window: {e}");
    }
}

fn notify_unless_focused(app: &AppHandle, text: &str) {
    let focused = app.get_webview_window("main").and_then(|w| w.is_focused().ok()).unwrap_or(false);
    if focused {
        return;
    }
    if let Err(e) = app.notification().builder().title("Kie Studio").body(text).show() {
        eprintln!("kie-studio: no desktop notification: {e}");
    }
}
