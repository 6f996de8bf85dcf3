//! The core's error, with a stable code for the app and the CLI to branch on.

use kie::validate::Problem;
use kie::KieError;

use crate::db::{DbError, StoreError};
use crate::keys::KeyError;
use crate::paths::PathError;

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
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("The downloaded file is not what Kie promised: {0}")]
    Corrupt(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Refused(String),
}

impl StudioError {
    /// Stable codes: Kie's (`kie::ErrorCode`) plus the core's own.
    pub fn code(&self) -> &'static str {
        match self {
            StudioError::Kie(e) => e.code().as_str(),
            StudioError::Store(e) => e.code(),
            StudioError::Db(e) => e.code(),
            StudioError::Key(_) => "keyring_unavailable",
            StudioError::Path(_) => "bad_path",
            StudioError::InvalidInput(_) => "invalid_input",
            StudioError::NoKey => "no_key",
            StudioError::Io { .. } => "io",
            StudioError::Corrupt(_) => "corrupt_download",
            StudioError::NotFound(_) => "not_found",
            StudioError::Refused(_) => "refused",
        }
    }

    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> StudioError {
        let context = context.into();
        move |source| StudioError::Io { context, source }
    }
}
