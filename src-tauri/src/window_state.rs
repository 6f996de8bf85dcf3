//! The window's size and place, remembered (tauri-plugin-window-state) in the app's config
//! folder (`~/.config/ai.kie.studio/.window-state.json`): a preference of this computer and its
//! screen, never the library's, which may be synced to another one.
//!
//! The plugin saves only on a clean exit; an app ended otherwise (killed at logout, a crash,
//! its test driver) would forget. So the state is also saved once a move or resize has settled,
//! and when the window is asked to close.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tauri::plugin::TauriPlugin;
use tauri::{AppHandle, Manager, Runtime, Window, WindowEvent};
use tauri_plugin_window_state::{AppHandleExt, StateFlags};

/// Size, position, maximized; not visibility: the window always shows.
const FLAGS: StateFlags = StateFlags::SIZE.union(StateFlags::POSITION).union(StateFlags::MAXIMIZED);
/// How long a move or resize must have stopped before it is written (a drag sends many).
const SETTLE: Duration = Duration::from_millis(400);

/// Bumped by every move or resize: a pending save whose number is no longer the latest
/// leaves the writing to the one after it.
static LATEST: AtomicU64 = AtomicU64::new(0);

pub fn plugin<R: Runtime>() -> TauriPlugin<R> {
    tauri_plugin_window_state::Builder::new().with_state_flags(FLAGS).build()
}

pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    match event {
        WindowEvent::Moved(_) | WindowEvent::Resized(_) => {
            let mine = LATEST.fetch_add(1, Ordering::SeqCst) + 1;
            let app = window.app_handle().clone();
            tauri::async_runtime::spawn(async move {
                tokio::time::sleep(SETTLE).await;
                if LATEST.load(Ordering::SeqCst) == mine {
                    save(&app);
                }
            });
        }
        WindowEvent::CloseRequested { .. } => save(window.app_handle()),
        _ => {}
    }
}

fn save<R: Runtime>(app: &AppHandle<R>) {
    if let Err(e) = app.save_window_state(FLAGS) {
        tracing::warn!("the window's size and place were not saved: {e}");
    }
}
