//! Kie Studio's core, shared by the desktop app and the `kie` CLI: the library folder,
//! the SQLite store (task journal, results, characters, settings) and its full-text search.
//! No Tauri here, ever: the app is a thin shell over this crate.

pub mod api;
pub mod characters;
pub mod cli;
pub mod clock;
pub mod db;
pub mod downloader;
pub mod error;
pub mod events;
pub mod keys;
pub mod library;
pub mod paths;
pub mod poller;
pub mod runner;
pub mod search;
pub mod settings;
pub mod tasks;

pub use db::{Db, DbError, StoreError};
pub use error::StudioError;
pub use runner::{RunnerConfig, Studio};
