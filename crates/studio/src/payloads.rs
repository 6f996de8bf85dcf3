//! The values the surface's commands take and return that belong to no one service: what
//! the window needs at start, a key check, the live form check, the balance, uploads and
//! their progress, a gallery page. TypeScript types are generated from these.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::keys::KeyStatus;
use crate::library::ResultView;
use kie::validate::Problem;

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
    pub rules: Rules,
}

/// A key that Kie accepted and that was saved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct KeyCheck {
    pub last4: String,
    pub credits: f64,
}

/// Live check of a form: every problem, the price, and how much of each held total
/// (a storyboard's length) the lists use.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct InputCheck {
    pub problems: Vec<Problem>,
    pub credits: Option<f64>,
    pub usd: Option<f64>,
    pub budgets: Vec<kie::validate::Budget>,
}

/// Rules the window needs to read as data rather than restate: what a credit costs, and
/// what an @handle is made of (for spotting one being typed).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct Rules {
    /// US dollars per Kie credit.
    pub usd_per_credit: f64,
    /// Longest handle Kie accepts.
    pub handle_max_len: u32,
    /// The characters a handle is made of, as a regular-expression character class body
    /// (`A-Za-z0-9_.`).
    pub handle_chars: String,
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

impl Rules {
    pub fn current() -> Rules {
        Rules {
            usd_per_credit: kie::catalogue::CREDIT_USD,
            handle_max_len: crate::characters::MAX_HANDLE_CHARS as u32,
            handle_chars: crate::characters::HANDLE_CHARS.to_string(),
        }
    }
}
