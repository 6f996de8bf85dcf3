/// Every command the window may call (docs/ipc.md). Listing them makes Tauri generate an
/// `allow-<command>` permission for each and check every call against the capabilities, so
/// a command missing from `capabilities/default.json` cannot be called at all.
const COMMANDS: &[&str] = &[
    "get_app_info",
    "set_key",
    "delete_key",
    "start_demo",
    "get_catalogue",
    "check_input",
    "get_balance",
    "submit_task",
    "list_tasks",
    "get_task",
    "cancel_task",
    "check_task_again",
    "resubmit_task",
    "attach_kie_id",
    "pick_images",
    "list_results",
    "list_characters",
    "complete_characters",
    "add_character",
    "remove_character",
    "watch_progress",
    "get_result",
    "set_favourite",
    "set_notes",
    "delete_result",
    "export_result",
    "reveal_result",
    "save_poster",
    "library_health",
    "rescan_library",
];

fn main() {
    // The config lives at the repository root (next to ui/); tauri-build must be told.
    println!("cargo:rerun-if-changed=../tauri.conf.json");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .config_path("../tauri.conf.json")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build");
}
