//! Every command of docs/ipc.md. Each converts, calls the core and maps the error into the
//! one envelope (`ApiError`); the logic lives in the `studio` crate.

use std::path::PathBuf;

use kie::catalogue::{Catalogue, ModelSpec};
use serde_json::{Map, Value};
use studio::api::{
    ApiError, ApiErrorCode, AppInfo, Balance, InputCheck, KeyCheck, ProgressEvent, ResultPage, UploadProgress,
    UploadedImage,
};
use studio::characters::Character;
use studio::gallery::{self, CharacterView, Exported, Health, Rescan, ResultDetail};
use studio::library::ResultQuery;
use studio::library::{self, ResultRow};
use studio::session::{Mode, Session};
use studio::tasks::{self, Task};
use studio::{actions, uploads, StudioError};
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, State};
use tauri_plugin_dialog::DialogExt;

use crate::state::{env_string, AppState};

type Res<T> = Result<T, ApiError>;

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ApiErrorCode::INTERNAL, e.to_string())
}

#[tauri::command]
pub async fn get_app_info(state: State<'_, AppState>) -> Res<AppInfo> {
    Ok(state.app_info())
}

#[tauri::command]
pub async fn set_key(app: AppHandle, state: State<'_, AppState>, key: String) -> Res<KeyCheck> {
    let (session, check) = Session::open_with_new_key(&state.cfg, &key).await?;
    state.install(&app, session);
    Ok(check)
}

/// Removes the key from the keyring and closes the real library (a demo stays open). A key
/// from `KIE_API_KEY` cannot be removed here; the real library then stays open too.
#[tauri::command]
pub async fn delete_key(state: State<'_, AppState>) -> Res<AppInfo> {
    state.cfg.key_store().delete().map_err(StudioError::from)?;
    if state.mode() == Some(Mode::Real) && !state.cfg.key_status(env_string).set {
        state.close();
    }
    Ok(state.app_info())
}

#[tauri::command]
pub async fn start_demo(app: AppHandle, state: State<'_, AppState>) -> Res<AppInfo> {
    if state.mode() != Some(Mode::Demo) {
        let session = Session::open_demo(&state.cfg).await?;
        state.install(&app, session);
    }
    Ok(state.app_info())
}

#[tauri::command]
pub async fn get_catalogue() -> Res<Vec<ModelSpec>> {
    Ok(Catalogue::builtin().models.clone())
}

#[tauri::command]
pub async fn check_input(model: String, input: Map<String, Value>) -> Res<InputCheck> {
    Ok(actions::check_input(Catalogue::builtin(), &model, &input))
}

#[tauri::command]
pub async fn get_balance(state: State<'_, AppState>) -> Res<Balance> {
    Ok(state.studio()?.balance().await?)
}

#[tauri::command]
pub async fn submit_task(state: State<'_, AppState>, model: String, input: Map<String, Value>) -> Res<Task> {
    Ok(state.studio()?.submit(&model, &input).await?)
}

#[tauri::command]
pub async fn list_tasks(state: State<'_, AppState>, limit: u32) -> Res<Vec<Task>> {
    Ok(state.studio()?.recent_tasks(limit)?)
}

#[tauri::command]
pub async fn get_task(state: State<'_, AppState>, id: i64) -> Res<Task> {
    Ok(tasks::get(state.studio()?.db(), id).map_err(StudioError::from)?)
}

#[tauri::command]
pub async fn cancel_task(state: State<'_, AppState>, id: i64) -> Res<Task> {
    Ok(state.studio()?.cancel(id)?)
}

#[tauri::command]
pub async fn check_task_again(state: State<'_, AppState>, id: i64) -> Res<Task> {
    Ok(state.studio()?.check_again(id)?)
}

#[tauri::command]
pub async fn resubmit_task(state: State<'_, AppState>, id: i64) -> Res<Task> {
    Ok(state.studio()?.resubmit(id).await?)
}

#[tauri::command]
pub async fn attach_kie_id(state: State<'_, AppState>, id: i64, kie_task_id: String) -> Res<Task> {
    Ok(state.studio()?.attach_kie_id(id, &kie_task_id)?)
}

/// The native file dialog (or, for the end-to-end tests, the files `KIE_STUDIO_E2E_PICK`
/// names), then each image is checked, copied into the library and uploaded. `[]` when the
/// dialog is cancelled. The window never passes a path.
#[tauri::command]
pub async fn pick_images(
    app: AppHandle,
    state: State<'_, AppState>,
    on_progress: Channel<UploadProgress>,
) -> Res<Vec<UploadedImage>> {
    let studio = state.studio()?;
    let paths: Vec<PathBuf> = match &state.cfg.e2e_pick {
        Some(paths) => paths.clone(),
        None => {
            let mut dialog = app
                .dialog()
                .file()
                .set_title("Choose images")
                .add_filter("Images (JPEG, PNG, WebP)", &["jpg", "jpeg", "png", "webp", "JPG", "JPEG", "PNG", "WEBP"]);
            if let Some(window) = app.get_webview_window("main") {
                dialog = dialog.set_parent(&window);
            }
            // Blocks until the user answers: off the async workers.
            let picked =
                tauri::async_runtime::spawn_blocking(move || dialog.blocking_pick_files()).await.map_err(internal)?;
            let Some(files) = picked else { return Ok(Vec::new()) };
            files.into_iter().filter_map(|f| f.into_path().ok()).collect()
        }
    };
    let images = uploads::check_images(&paths)?;
    let mut uploaded = Vec::with_capacity(images.len());
    for img in &images {
        let channel = on_progress.clone();
        uploaded.push(studio.upload_image(img, move |p| drop(channel.send(p))).await?);
    }
    Ok(uploaded)
}

#[tauri::command]
pub async fn list_results(state: State<'_, AppState>, query: ResultQuery) -> Res<ResultPage> {
    Ok(state.studio()?.result_page(&query)?)
}

#[tauri::command]
pub async fn list_characters(state: State<'_, AppState>) -> Res<Vec<CharacterView>> {
    Ok(gallery::characters_with_posters(state.studio()?.db())?)
}

#[tauri::command]
pub async fn complete_characters(state: State<'_, AppState>, prefix: String, limit: u32) -> Res<Vec<Character>> {
    Ok(state.studio()?.complete_characters(&prefix, limit)?)
}

#[tauri::command]
pub async fn add_character(
    state: State<'_, AppState>,
    handle: String,
    character_id: Option<String>,
    prompt: Option<String>,
) -> Res<Character> {
    Ok(state.studio()?.add_character(&handle, character_id, prompt)?)
}

#[tauri::command]
pub async fn remove_character(state: State<'_, AppState>, id: i64) -> Res<Character> {
    Ok(state.studio()?.remove_character(id)?)
}

/// Registers the window's progress channel (throttled task and download progress).
#[tauri::command]
pub async fn watch_progress(state: State<'_, AppState>, channel: Channel<ProgressEvent>) -> Res<()> {
    state.add_channel(channel);
    Ok(())
}

#[tauri::command]
pub async fn get_result(state: State<'_, AppState>, id: i64) -> Res<ResultDetail> {
    let studio = state.studio()?;
    Ok(gallery::result_detail(studio.db(), studio.paths(), id)?)
}

#[tauri::command]
pub async fn set_favourite(state: State<'_, AppState>, id: i64, favourite: bool) -> Res<ResultRow> {
    Ok(library::set_favourite(state.studio()?.db(), id, favourite).map_err(StudioError::from)?)
}

#[tauri::command]
pub async fn set_notes(state: State<'_, AppState>, id: i64, notes: Option<String>) -> Res<ResultRow> {
    let notes = notes.as_deref().map(str::trim).filter(|n| !n.is_empty());
    Ok(library::set_notes(state.studio()?.db(), id, notes).map_err(StudioError::from)?)
}

#[tauri::command]
pub async fn delete_result(state: State<'_, AppState>, id: i64) -> Res<ResultRow> {
    let studio = state.studio()?;
    Ok(gallery::delete_result_and_files(studio.db(), studio.paths(), id)?)
}

/// Asks for a folder (natively, from Rust: the web view never names a path), then copies the
/// video there with its JSON sidecar. `None` when the user cancels.
#[tauri::command]
pub async fn export_result(app: AppHandle, state: State<'_, AppState>, id: i64) -> Res<Option<Exported>> {
    let studio = state.studio()?;
    let dir = match &state.cfg.e2e_export_dir {
        Some(dir) => dir.clone(),
        None => {
            let mut dialog = app.dialog().file().set_title("Export to folder");
            if let Some(window) = app.get_webview_window("main") {
                dialog = dialog.set_parent(&window);
            }
            let picked =
                tauri::async_runtime::spawn_blocking(move || dialog.blocking_pick_folder()).await.map_err(internal)?;
            match picked.and_then(|f| f.into_path().ok()) {
                Some(dir) => dir,
                None => return Ok(None),
            }
        }
    };
    Ok(Some(gallery::export_result(studio.db(), studio.paths(), id, &dir)?))
}

#[tauri::command]
pub async fn reveal_result(state: State<'_, AppState>, id: i64) -> Res<()> {
    let studio = state.studio()?;
    let row = library::get_result(studio.db(), id).map_err(StudioError::from)?;
    let rel = row.path.ok_or_else(|| ApiError::new(ApiErrorCode::REFUSED, "This result has no file."))?;
    let path = studio.paths().resolve(&rel).map_err(StudioError::from)?;
    tauri_plugin_opener::reveal_item_in_dir(&path)
        .map_err(|e| ApiError::new(ApiErrorCode::IO, format!("Could not open the file manager: {e}")))
}

/// `image` is base64 (the window's canvas capture); the core checks it is an image.
#[tauri::command]
pub async fn save_poster(state: State<'_, AppState>, id: i64, image: String) -> Res<ResultRow> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(image.trim().trim_start_matches("data:image/jpeg;base64,").trim_start_matches("data:image/png;base64,"))
        .map_err(|_| ApiError::new(ApiErrorCode::REFUSED, "The poster was not valid base64."))?;
    let studio = state.studio()?;
    Ok(gallery::save_poster(studio.db(), studio.paths(), id, &bytes)?)
}

#[tauri::command]
pub async fn library_health(state: State<'_, AppState>) -> Res<Health> {
    let studio = state.studio()?;
    Ok(gallery::health(studio.db(), studio.paths())?)
}

#[tauri::command]
pub async fn rescan_library(state: State<'_, AppState>) -> Res<Rescan> {
    let studio = state.studio()?;
    Ok(gallery::rescan(studio.db(), studio.paths(), studio.now_ms())?)
}
