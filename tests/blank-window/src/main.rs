//! A blank Tauri 2 window, the same Tauri as the app's: one window showing a static page,
//! no commands, no plugins, no state. The bench (tests/e2e/src/bin/bench.rs) launches it
//! the way it launches the app and measures its launch and memory as the floor the app's
//! are compared with.

// No console window on Windows release builds, as the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tauri::Builder::default().run(tauri::generate_context!()).expect("run the blank window");
}
