//! Kie Studio's desktop shell: a Tauri 2 window over the `studio` core. Commands convert,
//! call the core and map errors (`commands`); the open session lives in `state`; the core's
//! events reach the window through `events`. No business logic here.

mod commands;
mod events;
mod state;

use studio::session::{Session, SessionConfig};
use tauri::{AppHandle, Manager};

use crate::state::{env_string, AppState};

pub fn run() {
    let cfg = match SessionConfig::from_args_and_env(std::env::args(), env_string) {
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
        .manage(AppState::new(cfg))
        .invoke_handler(tauri::generate_handler![
            commands::get_app_info,
            commands::set_key,
            commands::delete_key,
            commands::start_demo,
            commands::get_catalogue,
            commands::check_input,
            commands::get_balance,
            commands::submit_task,
            commands::list_tasks,
            commands::get_task,
            commands::cancel_task,
            commands::check_task_again,
            commands::resubmit_task,
            commands::attach_kie_id,
            commands::pick_images,
            commands::list_results,
            commands::list_characters,
            commands::complete_characters,
            commands::add_character,
            commands::remove_character,
            commands::watch_progress,
            commands::get_result,
            commands::set_favourite,
            commands::set_notes,
            commands::delete_result,
            commands::export_result,
            commands::reveal_result,
            commands::save_poster,
            commands::library_health,
            commands::rescan_library,
        ])
        .setup(|app| {
            startup(app.handle());
            Ok(())
        })
        .run(tauri::generate_context!("../tauri.conf.json"))
        .expect("error while running Kie Studio");
}

/// With a key (`KIE_API_KEY` or the keyring), open the real library and start the poller,
/// which resumes whatever the last run left unfinished. Without one, the window shows the
/// welcome screen (`ready: false`).
fn startup(app: &AppHandle) {
    let state = app.state::<AppState>();
    state::allow_library(app, state.cfg.library.root());
    let key = match state.cfg.load_key(env_string) {
        Ok(Some((key, _source))) => key,
        Ok(None) => {
            eprintln!("kie-studio: no Kie key yet: showing the welcome screen");
            return;
        }
        Err(e) => {
            eprintln!("kie-studio: {e}");
            return;
        }
    };
    match Session::open_real(&state.cfg, key) {
        // `install` starts the poller: it must run inside the async runtime.
        Ok(session) => tauri::async_runtime::block_on(async { state.install(app, session) }),
        Err(e) => eprintln!("kie-studio: cannot open the library at {}: {e}", state.cfg.library.root().display()),
    }
}
