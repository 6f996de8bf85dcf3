//! Client for Kie.ai's jobs API as this project uses it (see `shared/kie-api.md`):
//! the model catalogue, validation, typed calls, errors, retries and client-side limits.
//! No Tauri here: the app, the CLI and the tests all use this crate.

pub mod callback;
pub mod catalogue;
pub mod client;
pub mod conditions;
pub mod envelope;
pub mod error;
pub mod limits;
pub mod media;
pub mod protocol;
pub mod record;
pub mod retry;
pub mod samples;
pub mod secret;
pub mod validate;

pub use client::{ClientConfig, KieClient};
pub use error::{ErrorCode, Failure, KieError};
pub use record::{TaskRecord, TaskResult, TaskState};
pub use secret::ApiKey;
