//! Kie Studio's desktop shell: a Tauri 2 window over the `studio` core. Every command of the
//! surface (`crates/studio/src/surface.rs`) reaches `studio::App` through one invoke handler
//! (`invoke`); what only a desktop can do is the [`host::TauriHost`]; the core's events reach
//! the window through `events`. No business logic here.

mod events;
mod host;
mod invoke;

use std::sync::Arc;

use studio::session::SessionConfig;
use studio::App;
use tauri::Manager;

pub fn run() {
    let cfg = match SessionConfig::from_args_and_env(std::env::args(), |n| studio::app::process_env()(n)) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("kie-studio: {e}");
            std::process::exit(2);
        }
    };
    tauri::Builder::default()
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
            // last run left unfinished; without one, the window shows the welcome screen.
            tauri::async_runtime::block_on(async {
                match app.open_with_saved_key().await {
                    Ok(true) => {}
                    Ok(false) => eprintln!("kie-studio: no Kie key yet: showing the welcome screen"),
                    Err(e) => eprintln!("kie-studio: cannot open the library: {e}"),
                }
            });
            Ok(())
        })
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("error while running Kie Studio");
}
