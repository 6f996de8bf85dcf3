//! Kie Studio's core, shared by the desktop app and the `kie` CLI: the library folder,
//! the SQLite store (task journal, results, characters, settings) and its full-text search.
//! No Tauri here, ever: the app is a thin shell over this crate.

pub mod app;
pub mod availability;
pub mod batches;
pub mod characters;
pub mod clock;
pub mod config;
pub mod db;
pub mod downloader;
pub mod error;
pub mod events;
pub mod gallery;
pub mod idlog;
pub mod journal;
pub mod keys;
pub mod lease;
pub mod library;
pub mod library_lock;
pub mod logs;
pub mod media_server;
pub mod memory;
pub mod paths;
pub mod payloads;
pub mod poller;
pub mod presets;
pub mod progress;
pub mod search;
pub mod session;
pub mod settings;
pub mod shared_limits;
pub mod spend;
pub mod studio;
pub mod studio_config;
pub mod surface;
pub mod tasks;
pub mod thumbs;
pub mod uploads;

pub use app::{App, Headless, Host};
pub use db::{Db, DbError, StoreError};
pub use error::{ApiError, ApiErrorCode, StudioError};
pub use poller::Until;
pub use studio::Studio;
pub use studio_config::{PollConfig, StudioConfig};
