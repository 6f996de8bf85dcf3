//! Kie Studio's desktop shell: a Tauri 2 window over the `studio` core. Every command of the
//! surface (`crates/studio/src/surface.rs`) reaches `studio::App` through one invoke handler
//! (`invoke`); what only a desktop can do is the [`host::TauriHost`]; the core's events reach
//! the window through `events`. No business logic here.

mod events;
mod host;
mod invoke;
mod rendering;
mod window_state;

use std::sync::Arc;

use studio::session::SessionConfig;
use studio::App;
use tauri::{AppHandle, Manager};

pub fn run() {
    // First, while this is the only thread: `KIE_API_KEY` is read once and removed from the
    // environment, so the web view's processes (and any other child) never inherit it.
    studio::keys::take_env_key();
    // And WebKit's renderer for this machine, before any web view exists (rendering.rs).
    rendering::choose();
    // Then the log file (in the state folder, for the user to send) and the crash note hook.
    studio::logs::init(studio::logs::Program::App);
    let cfg = match SessionConfig::from_args_and_env(std::env::args(), |n| studio::app::process_env()(n)) {
        Ok(cfg) => cfg,
        Err(e) => {
            tracing::error!("{e}");
            std::process::exit(2);
        }
    };
    let instance = cfg.instance_id();
    tauri::Builder::default()
        // First plugin: a second launch on the same library hands over to this window
        // (raised and focused) and exits before it opens anything. On Linux the D-Bus name is
        // per library ([`SessionConfig::instance_id`]); Windows and macOS key it by the app.
        .plugin(
            tauri_plugin_single_instance::Builder::new()
                .dbus_id(instance)
                .callback(|app, _args, _cwd| focus_main(app))
                .build(),
        )
        // The window's size and place: restored at start, saved as they change (window_state.rs).
        .plugin(window_state::plugin())
        .on_window_event(window_state::on_window_event)
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        .invoke_handler(invoke::handler)
        .setup(move |tauri_app| {
            let handle = tauri_app.handle().clone();
            host::allow_library(&handle, cfg.library.root());
            let app =
                Arc::new(App::new(cfg, Arc::new(host::TauriHost::new(handle.clone())), studio::app::process_env()));
            tauri_app.manage(app.clone());
            events::forward(handle, app.subscribe());
            // With a key (`KIE_API_KEY` or the keyring), open the real library and resume what the
            // last run left unfinished; without one, the window shows the welcome screen. Done
            // while the window and its page load (the keyring and the library took 150-250 ms
            // of the launch); every command waits for it (invoke::Starting), so the page never
            // sees a half-started app.
            let (done, starting) = tokio::sync::watch::channel(false);
            tauri_app.manage(invoke::Starting(starting));
            tauri::async_runtime::spawn(async move {
                match app.open_with_saved_key().await {
                    Ok(true) => {}
                    Ok(false) => tracing::info!("no Kie key yet: showing the welcome screen"),
                    Err(e) => tracing::error!("cannot open the library: {e}"),
                }
                let _ = done.send(true);
            });
            Ok(())
        })
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("error while running Kie Studio");
}

/// Brings the main window to the front (a second launch asked for it).
fn focus_main(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}
