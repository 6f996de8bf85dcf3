//! The contract between the app's window and the core: payload types for the Tauri
//! commands, and the one error envelope `{code, message}` with a closed set of codes the UI
//! branches on. TypeScript types are generated from these (see `tests/bindings.rs`), never
//! written by hand. No Tauri here: the shell converts and calls.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::StudioError;
use crate::keys::KeyStatus;
use crate::library::ResultView;
use kie::validate::Problem;

/// Every code the UI may see: Kie's and the wire's (`kie::ErrorCode`, one source for
/// those), or the core's own. Closed: a new failure gets a new variant. On the wire and in
/// TypeScript it is the plain snake_case string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(untagged)]
pub enum ApiErrorCode {
    Kie(kie::ErrorCode),
    Core(CoreErrorCode),
}

/// The library's, the keyring's and the app's own failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CoreErrorCode {
    DbTooNew,
    DbCorrupt,
    DbIo,
    DbError,
    Json,
    InvalidTransition,
    DuplicateHandle,
    KieIdInUse,
    KeyringUnavailable,
    BadPath,
    NoKey,
    Io,
    CorruptDownload,
    Refused,
    /// The app is not set up yet (no key and no demo).
    NotReady,
    /// A bug: the message says what.
    Internal,
}

impl ApiErrorCode {
    pub const NOT_READY: ApiErrorCode = ApiErrorCode::Core(CoreErrorCode::NotReady);
    pub const INTERNAL: ApiErrorCode = ApiErrorCode::Core(CoreErrorCode::Internal);
    pub const REFUSED: ApiErrorCode = ApiErrorCode::Core(CoreErrorCode::Refused);
    pub const IO: ApiErrorCode = ApiErrorCode::Core(CoreErrorCode::Io);

    /// The closed set, from the core's stable code strings.
    pub fn from_code(code: &str) -> ApiErrorCode {
        serde_json::from_value(serde_json::Value::String(code.to_string())).unwrap_or(ApiErrorCode::INTERNAL)
    }
}

/// The one error the UI receives.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ApiError {
    pub code: ApiErrorCode,
    /// Plain words for the user.
    pub message: String,
    /// For `invalid_input`: every problem, each naming its field.
    pub problems: Vec<Problem>,
}

impl ApiError {
    pub fn new(code: ApiErrorCode, message: impl Into<String>) -> Self {
        ApiError { code, message: message.into(), problems: Vec::new() }
    }
}

impl From<StudioError> for ApiError {
    fn from(e: StudioError) -> Self {
        let problems = match &e {
            StudioError::InvalidInput(p) => p.clone(),
            StudioError::Kie(kie::KieError::InvalidInput(p)) => p.clone(),
            _ => Vec::new(),
        };
        ApiError { code: ApiErrorCode::from_code(e.code()), message: e.to_string(), problems }
    }
}

/// What the window needs at start and after the key or mode changes.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct AppInfo {
    pub version: String,
    /// Ready to make things: a key is set, or the demo is running.
    pub ready: bool,
    pub demo: bool,
    pub library_path: String,
    /// Where videos and posters load from: `{media_base}/{result.path}` and
    /// `{media_base}/{result.poster_path}` (loopback HTTP with a token: WebKitGTK cannot play
    /// video from the asset protocol, and loads it on its UI thread). `None` until a library
    /// is open.
    pub media_base: Option<String>,
    /// Never the key itself: whether one is set, where, its last four.
    pub key: KeyStatus,
}

/// A key that Kie accepted and that was saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct KeyCheck {
    pub last4: String,
    pub credits: f64,
}

/// Live check of a form: every problem, and the price.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct InputCheck {
    pub problems: Vec<Problem>,
    pub credits: Option<f64>,
    pub usd: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Balance {
    pub credits: f64,
    pub usd: f64,
}

/// A local image uploaded through Kie's upload API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct UploadedImage {
    /// Public URL to put into `image_urls`.
    pub url: String,
    /// The file's name as the user knows it.
    pub name: String,
    /// A copy inside the library (for the thumbnail, through the asset protocol, and for
    /// remixing offline).
    pub local_path: String,
    pub size: u64,
}

/// Bytes of an upload, over a `tauri::ipc::Channel`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct UploadProgress {
    pub name: String,
    pub done: u64,
    pub total: u64,
}

/// Throttled progress, over a `tauri::ipc::Channel` the window opens once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ProgressEvent {
    Task { task_id: i64, kie_state: Option<String>, progress: Option<f64> },
    Download { task_id: i64, idx: u32, done: u64, total: Option<u64> },
}

/// A page of the gallery.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ResultPage {
    pub items: Vec<ResultView>,
    pub total: i64,
}

/// Names of the app-wide events (payloads: `Task`, `ResultRow`, `Character`, nothing).
pub mod events {
    pub const TASK_CHANGED: &str = "studio://task-changed";
    pub const RESULT_ADDED: &str = "studio://result-added";
    pub const CHARACTER_ADDED: &str = "studio://character-added";
    pub const KEY_REJECTED: &str = "studio://key-rejected";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_code_is_in_the_closed_set() {
        let codes = [
            "invalid_input",
            "invalid_request",
            "unauthorized",
            "insufficient_credits",
            "not_found",
            "upstream_timeout",
            "rate_limited",
            "unavailable",
            "model_paused",
            "server_error",
            "generation_failed",
            "feature_disabled",
            "unexpected_response",
            "malformed_response",
            "timeout",
            "connection",
            "outcome_unknown",
            "link_expired",
            "truncated",
            "file",
            "db_too_new",
            "db_corrupt",
            "db_io",
            "db_error",
            "json",
            "invalid_transition",
            "duplicate_handle",
            "kie_id_in_use",
            "keyring_unavailable",
            "bad_path",
            "no_key",
            "io",
            "corrupt_download",
            "refused",
        ];
        for c in codes {
            assert_ne!(ApiErrorCode::from_code(c), ApiErrorCode::INTERNAL, "{c}");
        }
        assert_eq!(ApiErrorCode::from_code("something new"), ApiErrorCode::INTERNAL);
    }

    #[test]
    fn kie_codes_are_all_covered() {
        use kie::ErrorCode as K;
        for k in [
            K::InvalidInput,
            K::InvalidRequest,
            K::Unauthorized,
            K::InsufficientCredits,
            K::NotFound,
            K::UpstreamTimeout,
            K::RateLimited,
            K::Unavailable,
            K::ModelPaused,
            K::ServerError,
            K::GenerationFailed,
            K::FeatureDisabled,
            K::UnexpectedResponse,
            K::MalformedResponse,
            K::Timeout,
            K::Connection,
            K::OutcomeUnknown,
            K::LinkExpired,
            K::Truncated,
            K::File,
        ] {
            assert_eq!(ApiErrorCode::from_code(k.as_str()), ApiErrorCode::Kie(k), "{k:?}");
        }
    }

    #[test]
    fn invalid_input_carries_its_problems() {
        let p = Problem { field: "prompt".into(), rule: "required".into(), message: "Prompt is required.".into() };
        let e: ApiError = StudioError::InvalidInput(vec![p.clone()]).into();
        assert_eq!(e.code, ApiErrorCode::Kie(kie::ErrorCode::InvalidInput));
        assert_eq!(e.problems, vec![p]);
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["code"], "invalid_input");
    }
}
