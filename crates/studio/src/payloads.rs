//! The values the surface's commands take and return that belong to no one service: what
//! the window needs at start, a key check, the live form check, the balance, uploads and
//! their progress, a gallery page. TypeScript types are generated from these.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::keys::KeyStatus;
use crate::library::{ResultCursor, ResultView};
use kie::catalogue::MediaType;
use kie::validate::Problem;

/// What the window needs at start and after the key or mode changes.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct AppInfo {
    pub version: String,
    /// Ready to make things: a key is set, or the demo is running.
    pub ready: bool,
    pub demo: bool,
    pub library_path: String,
    /// Where the log files and crash notes are (`studio::logs`), for the user to send;
    /// `None` when this computer has no such folder.
    pub log_dir: Option<String>,
    /// Where videos and posters load from: `{media_base}/{result.path}` and
    /// `{media_base}/{result.poster_path}` (loopback HTTP with a token: WebKitGTK cannot play
    /// video from the asset protocol, and loads it on its UI thread). `None` until a library
    /// is open.
    pub media_base: Option<String>,
    /// Never the key itself: whether one is set, where (the keyring or `KIE_API_KEY`), its
    /// last four.
    pub key: KeyStatus,
    /// Where the key is sent, when that is not Kie's own hosts (`--api-base`, `--upload-base`,
    /// `KIE_API_BASE`, `KIE_UPLOAD_BASE`): the window says so. `None` with Kie's own hosts,
    /// and in the demo (its simulator runs inside the app).
    pub hosts: Option<Hosts>,
    /// Why the library could not be opened, when that is the library's own problem:
    /// `db_corrupt` (its database is damaged and was left as it is: `repair_library` sets it
    /// aside and starts afresh with what it can read), `db_too_new`, `db_io`. `None` once a
    /// library is open.
    pub library_problem: Option<crate::error::ApiError>,
    pub rules: Rules,
}

/// One of the app's own folders, to show in the file manager (`open_folder`): the window
/// names which, never a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Folder {
    /// The log files and crash notes.
    Logs,
    /// The library open now (the demo's, in the demo).
    Library,
}

/// Kie's hosts in use, when either is not Kie's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Hosts {
    pub api_base: String,
    pub upload_base: String,
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
    /// Fields the form hides for this input (`show_when`/`hide_when`); they are not sent.
    pub hidden: Vec<String>,
    /// Names `@`-completion offers from the form's own input (Kling's elements, `@image1`).
    pub mentions: Vec<kie::validate::MentionOffer>,
}

/// One model in the picker.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ModelCard {
    pub id: String,
    pub name: String,
    pub family: String,
    pub summary: String,
    pub output: kie::catalogue::OutputKind,
    /// What it takes: "text", "image", "clip"…
    pub takes: Vec<String>,
    /// What it makes, in a few words.
    pub makes: Option<String>,
    /// The cheapest and dearest run, in credits.
    pub credits_min: Option<f64>,
    pub credits_max: Option<f64>,
    pub price_is_estimate: bool,
    /// What Kie last said when it refused a create: paused or disabled, since when.
    pub status: Option<crate::availability::ModelStatus>,
    /// When unavailable: the closest live model of the same kind.
    pub alternative: Option<String>,
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

/// A local file (image, clip or audio) uploaded through Kie's upload API for a link field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct UploadedFile {
    /// Public URL to put into the link field (or its list).
    pub url: String,
    /// The file's name as the user knows it.
    pub name: String,
    /// A copy inside the library (for the thumbnail, through the asset protocol, and for
    /// remixing offline), named by its real format.
    pub local_path: String,
    pub size: u64,
    /// Image, video or audio, by the file's bytes.
    pub kind: MediaType,
    /// The real format, as the uploaded file's extension ("mp4", "png").
    pub format: String,
    /// A clip's length in seconds, as its file says; `null` for images and when it does not say.
    pub seconds: Option<f64>,
    /// For the user, when there is something to know (the length could not be read, so
    /// only Kie will check it).
    pub note: Option<String>,
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
    /// Pass as the query's `after` for the page that follows this one; `None` at the end.
    pub next: Option<ResultCursor>,
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
