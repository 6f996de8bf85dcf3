//! What only a desktop can do, for the core: native dialogs (tauri-plugin-dialog), the file
//! manager (tauri-plugin-opener: a result shown in its folder, the log or library folder
//! opened), and the asset protocol's scope (the library folder only).

use std::path::{Path, PathBuf};

use tauri::{AppHandle, Manager};
use tauri_plugin_dialog::DialogExt;

pub struct TauriHost {
    app: AppHandle,
}

impl TauriHost {
    pub fn new(app: AppHandle) -> Self {
        TauriHost { app }
    }

    fn dialog(&self, title: &str) -> tauri_plugin_dialog::FileDialogBuilder<tauri::Wry> {
        let mut dialog = self.app.dialog().file().set_title(title);
        if let Some(window) = self.app.get_webview_window("main") {
            dialog = dialog.set_parent(&window);
        }
        dialog
    }
}

impl studio::Host for TauriHost {
    fn pick_files(&self, pick: &studio::uploads::FilePick) -> Option<Vec<PathBuf>> {
        let extensions: Vec<&str> = pick.extensions.iter().map(String::as_str).collect();
        let dialog = self.dialog(&pick.title).add_filter(&pick.filter_name, &extensions);
        let files = if pick.multiple { dialog.blocking_pick_files()? } else { vec![dialog.blocking_pick_file()?] };
        Some(files.into_iter().filter_map(|f| f.into_path().ok()).collect())
    }

    fn pick_folder(&self, title: &str) -> Option<PathBuf> {
        self.dialog(title).blocking_pick_folder().and_then(|f| f.into_path().ok())
    }

    fn reveal(&self, path: &Path) -> Result<(), String> {
        tauri_plugin_opener::reveal_item_in_dir(path).map_err(|e| e.to_string())
    }

    fn open_folder(&self, path: &Path) -> Result<(), String> {
        tauri_plugin_opener::open_path(path, None::<&str>).map_err(|e| e.to_string())
    }

    fn library_opened(&self, root: &Path) {
        allow_library(&self.app, root);
    }
}

/// The asset protocol may serve files of this library folder (and nothing else: the
/// config's static scope is empty), except the database itself.
pub fn allow_library(app: &AppHandle, root: &Path) {
    let scope = app.asset_protocol_scope();
    if let Err(e) = scope.allow_directory(root, true) {
        tracing::warn!("cannot show files of {}: {e}", root.display());
    }
    for name in ["library.db", "library.db-wal", "library.db-shm", "library.db-journal", ".lock", ".limits"] {
        let _ = scope.forbid_file(root.join(name));
    }
    // The Kie-id log is the app's own record, not something to show.
    let _ = scope.forbid_directory(root.join("journal"), true);
}
