//! The core's errors and the one envelope every caller receives: `{code, message, problems}`
//! with a closed set of codes ([`ApiErrorCode`], one Rust enum, generated into a TypeScript
//! union). The window and the CLI branch on the code, never on the message.

use kie::validate::Problem;
use kie::KieError;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::db::{DbError, StoreError};
use crate::keys::KeyError;
use crate::paths::PathError;

/// Every code a caller may see. Closed: a new failure gets a new variant, and Kie's codes
/// are mapped by an exhaustive match, so a new `kie::ErrorCode` does not compile until it
/// has a place here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ApiErrorCode {
    // ---- input, wherever it was found wrong (the catalogue, the core, Kie) ----
    /// Problems with what the user entered; `problems` names each field.
    InvalidInput,
    // ---- Kie's answers and the wire (from `kie::ErrorCode`) ----
    InvalidRequest,
    Unauthorized,
    InsufficientCredits,
    /// Kie has no record of the task (yet).
    NotFound,
    UpstreamTimeout,
    RateLimited,
    Unavailable,
    ModelPaused,
    ServerError,
    GenerationFailed,
    FeatureDisabled,
    UnexpectedResponse,
    MalformedResponse,
    Timeout,
    Connection,
    OutcomeUnknown,
    LinkExpired,
    Truncated,
    File,
    // ---- the core's own ----
    DbTooNew,
    DbCorrupt,
    DbIo,
    DbError,
    Json,
    InvalidTransition,
    DuplicateHandle,
    KieIdInUse,
    /// No such task, result or character in the library.
    NotInLibrary,
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

impl From<kie::ErrorCode> for ApiErrorCode {
    fn from(code: kie::ErrorCode) -> Self {
        use kie::ErrorCode as K;
        match code {
            K::InvalidInput => ApiErrorCode::InvalidInput,
            K::InvalidRequest => ApiErrorCode::InvalidRequest,
            K::Unauthorized => ApiErrorCode::Unauthorized,
            K::InsufficientCredits => ApiErrorCode::InsufficientCredits,
            K::NotFound => ApiErrorCode::NotFound,
            K::UpstreamTimeout => ApiErrorCode::UpstreamTimeout,
            K::RateLimited => ApiErrorCode::RateLimited,
            K::Unavailable => ApiErrorCode::Unavailable,
            K::ModelPaused => ApiErrorCode::ModelPaused,
            K::ServerError => ApiErrorCode::ServerError,
            K::GenerationFailed => ApiErrorCode::GenerationFailed,
            K::FeatureDisabled => ApiErrorCode::FeatureDisabled,
            K::UnexpectedResponse => ApiErrorCode::UnexpectedResponse,
            K::MalformedResponse => ApiErrorCode::MalformedResponse,
            K::Timeout => ApiErrorCode::Timeout,
            K::Connection => ApiErrorCode::Connection,
            K::OutcomeUnknown => ApiErrorCode::OutcomeUnknown,
            K::LinkExpired => ApiErrorCode::LinkExpired,
            K::Truncated => ApiErrorCode::Truncated,
            K::File => ApiErrorCode::File,
        }
    }
}

impl ApiErrorCode {
    /// The wire name (what serde writes), for logs, the CLI's JSON and stored task errors.
    pub fn as_str(self) -> &'static str {
        // `ALL` lists every variant (a test checks it against serde).
        ALL.iter().find(|(c, _)| *c == self).map_or("internal", |(_, name)| name)
    }
}

macro_rules! all_codes {
    ($($v:ident => $s:literal),* $(,)?) => {
        /// Every code with its wire name (checked against serde by a test).
        pub const ALL: &[(ApiErrorCode, &str)] = &[$((ApiErrorCode::$v, $s)),*];
    };
}
all_codes! {
    InvalidInput => "invalid_input", InvalidRequest => "invalid_request", Unauthorized => "unauthorized",
    InsufficientCredits => "insufficient_credits", NotFound => "not_found", UpstreamTimeout => "upstream_timeout",
    RateLimited => "rate_limited", Unavailable => "unavailable", ModelPaused => "model_paused",
    ServerError => "server_error", GenerationFailed => "generation_failed", FeatureDisabled => "feature_disabled",
    UnexpectedResponse => "unexpected_response", MalformedResponse => "malformed_response", Timeout => "timeout",
    Connection => "connection", OutcomeUnknown => "outcome_unknown", LinkExpired => "link_expired",
    Truncated => "truncated", File => "file", DbTooNew => "db_too_new", DbCorrupt => "db_corrupt",
    DbIo => "db_io", DbError => "db_error", Json => "json", InvalidTransition => "invalid_transition",
    DuplicateHandle => "duplicate_handle", KieIdInUse => "kie_id_in_use", NotInLibrary => "not_in_library",
    KeyringUnavailable => "keyring_unavailable", BadPath => "bad_path", NoKey => "no_key", Io => "io",
    CorruptDownload => "corrupt_download", Refused => "refused", NotReady => "not_ready", Internal => "internal",
}

impl std::fmt::Display for ApiErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ApiErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The one error the window (and the browser server's clients) receive.
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

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl From<StudioError> for ApiError {
    fn from(e: StudioError) -> Self {
        let problems = match &e {
            StudioError::InvalidInput(p) => p.clone(),
            StudioError::Kie(KieError::InvalidInput(p)) => p.clone(),
            _ => Vec::new(),
        };
        ApiError { code: e.code(), message: e.to_string(), problems }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StudioError {
    #[error(transparent)]
    Kie(#[from] KieError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Path(#[from] PathError),
    #[error("{}", kie::validate::describe(.0))]
    InvalidInput(Vec<Problem>),
    #[error("No Kie API key is set. Run `kie key set`, or set KIE_API_KEY.")]
    NoKey,
    #[error("Kie Studio is not set up yet: add your Kie API key, or try the demo.")]
    NotReady,
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("The downloaded file is not what Kie promised: {0}")]
    Corrupt(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Internal(String),
    /// Kie took a create (and charges for it) but the library could not record its id; the
    /// message names the task, the Kie id and where the id is kept.
    #[error("{message}")]
    KieIdNotRecorded { message: String, kie_task_id: String, source: StoreError },
}

impl StudioError {
    /// The code callers branch on.
    pub fn code(&self) -> ApiErrorCode {
        match self {
            StudioError::Kie(e) => e.code().into(),
            StudioError::Store(e) => e.code(),
            StudioError::Db(e) => e.code(),
            StudioError::Key(_) => ApiErrorCode::KeyringUnavailable,
            StudioError::Path(_) => ApiErrorCode::BadPath,
            StudioError::InvalidInput(_) => ApiErrorCode::InvalidInput,
            StudioError::NoKey => ApiErrorCode::NoKey,
            StudioError::NotReady => ApiErrorCode::NotReady,
            StudioError::Io { .. } => ApiErrorCode::Io,
            StudioError::Corrupt(_) => ApiErrorCode::CorruptDownload,
            StudioError::NotFound(_) => ApiErrorCode::NotInLibrary,
            StudioError::Refused(_) => ApiErrorCode::Refused,
            StudioError::Internal(_) => ApiErrorCode::Internal,
            StudioError::KieIdNotRecorded { source, .. } => source.code(),
        }
    }

    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StudioError {
        let context = context.into();
        move |source| StudioError::Io { context, source }
    }

    /// One field's problem, as `invalid_input`.
    pub fn invalid(field: &str, rule: &str, message: impl Into<String>) -> StudioError {
        StudioError::InvalidInput(vec![Problem::new(field, rule, message)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_one_wire_name_that_serde_agrees_with() {
        let mut seen = std::collections::HashSet::new();
        for (code, name) in ALL {
            assert_eq!(serde_json::to_value(code).unwrap(), serde_json::Value::String(name.to_string()));
            assert_eq!(code.as_str(), *name);
            assert!(seen.insert(*name), "{name} twice");
            let back: ApiErrorCode = serde_json::from_value(serde_json::Value::String(name.to_string())).unwrap();
            assert_eq!(back, *code);
        }
        // An unknown code is an error to decode, never silently `internal`.
        assert!(serde_json::from_str::<ApiErrorCode>("\"something_new\"").is_err());
    }

    #[test]
    fn kie_codes_keep_their_names() {
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
            assert_eq!(ApiErrorCode::from(k).as_str(), k.as_str(), "{k:?}");
        }
    }

    #[test]
    fn the_cores_own_codes_are_its_own() {
        assert_eq!(StudioError::NotFound("no task 9".into()).code(), ApiErrorCode::NotInLibrary);
        assert_eq!(StudioError::NotReady.code(), ApiErrorCode::NotReady);
        let p = Problem { field: "prompt".into(), rule: "required".into(), message: "Prompt is required.".into() };
        let e: ApiError = StudioError::InvalidInput(vec![p.clone()]).into();
        assert_eq!(e.code, ApiErrorCode::InvalidInput);
        assert_eq!(e.problems, vec![p]);
        assert_eq!(serde_json::to_value(&e).unwrap()["code"], "invalid_input");
    }
}
