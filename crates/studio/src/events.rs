//! What the core tells its subscribers (the app's window, the CLI's progress line).

use serde::Serialize;

use crate::batches::Batch;
use crate::characters::Character;
use crate::library::ResultRow;
use crate::tasks::Task;

#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StudioEvent {
    /// A task's state, progress or details changed; the whole row, so a listener never
    /// has to ask again.
    TaskChanged {
        task: Task,
    },
    /// Bytes of a result arriving.
    DownloadProgress {
        task_id: i64,
        idx: u32,
        done: u64,
        total: Option<u64>,
    },
    /// A result file (or a character) is in the library.
    ResultAdded {
        result: ResultRow,
    },
    CharacterAdded {
        character: Character,
    },
    /// A batch started, sent an item, or changed state.
    BatchChanged {
        batch: Batch,
    },
    /// Kie refused the key while polling: ask the user for a new one.
    KeyRejected,
    /// The check after opening found the library's database damaged: nothing is polled,
    /// and the window asks the user (`AppInfo.library_problem`, `repair_library`).
    LibraryDamaged {
        message: String,
    },
}
