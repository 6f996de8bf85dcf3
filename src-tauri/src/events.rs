//! The core's app-wide events to the window (names and payloads from the surface), and a
//! desktop notification when a task is over while the window is not in front. Progress goes
//! to the channels `watch_progress` registered, through the core's one throttle.

use studio::events::StudioEvent;
use studio::progress::Notices;
use studio::surface;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast::{error::RecvError, Receiver};

pub fn forward(app: AppHandle, mut rx: Receiver<StudioEvent>) {
    tauri::async_runtime::spawn(async move {
        let mut notices = Notices::default();
        loop {
            match rx.recv().await {
                Ok(event) => {
                    if let StudioEvent::TaskChanged { task } = &event {
                        if let Some(text) = notices.for_change(task) {
                            notify_unless_focused(&app, &text);
                        }
                    }
                    if let Some((name, payload)) = surface::app_event(&event) {
                        if let Err(e) = app.emit(name, payload) {
                            tracing::warn!("could not tell the window: {e}");
                        }
                    }
                }
                Err(RecvError::Lagged(n)) => tracing::warn!("{n} events were skipped"),
                Err(RecvError::Closed) => break,
            }
        }
    });
}

fn notify_unless_focused(app: &AppHandle, text: &str) {
    let focused = app.get_webview_window("main").and_then(|w| w.is_focused().ok()).unwrap_or(false);
    if focused {
        return;
    }
    // Plain text from the core; escaped here for desktops that read the body as markup.
    let body = studio::progress::desktop_body(text);
    if let Err(e) = app.notification().builder().title("Kie Studio").body(body).show() {
        tracing::warn!("no desktop notification: {e}");
    }
}
