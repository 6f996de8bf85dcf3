//! The app's command surface, declared once: every command with its arguments and result,
//! every app-wide event with its payload. From this one list come the dispatcher that both
//! transports call (the Tauri shell's invoke handler and the browser server), the shell's
//! permissions, the typed TypeScript client and the IPC table in docs (`tests/generated.rs`
//! writes them and fails when a committed copy is stale).
//!
//! A command is an `App` method of the same name taking the same arguments in the same
//! order. Arguments travel as one JSON object with camelCase keys; a [`Sink`] argument is a
//! channel the transport opens (`Channel` in Tauri, the event stream in the browser server).

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};
use ts_rs::{Config, TS};

use crate::app::App;
use crate::error::{ApiError, ApiErrorCode};
use crate::events::StudioEvent;

/// A command's result sink for a stream of values (progress): the window's `Channel`.
/// `send` answers false once the other side is gone.
pub struct Sink<T>(Arc<dyn Fn(T) -> bool + Send + Sync>);

impl<T> Clone for Sink<T> {
    fn clone(&self) -> Self {
        Sink(self.0.clone())
    }
}

impl<T> std::fmt::Debug for Sink<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sink")
    }
}

impl<T> Sink<T> {
    pub fn new(f: impl Fn(T) -> bool + Send + Sync + 'static) -> Self {
        Sink(Arc::new(f))
    }

    pub fn send(&self, value: T) -> bool {
        (self.0)(value)
    }
}

/// What a transport provides for the arguments it cannot carry as plain JSON.
pub trait Channels: Send + Sync {
    /// The channel a command argument names (its JSON value as the client sent it).
    fn open(&self, arg: &Value) -> Result<Sink<Value>, ApiError>;
}

/// How an argument type crosses the wire and reads in TypeScript.
pub trait SurfaceArg: Sized {
    fn from_wire(value: Value, channels: &dyn Channels) -> Result<Self, String>;
    fn ts(cfg: &Config) -> String;
    fn visit(v: &mut TypeRefs);
}

macro_rules! plain_args {
    ($($t:ty),* $(,)?) => {$(
        impl SurfaceArg for $t {
            fn from_wire(value: Value, _: &dyn Channels) -> Result<Self, String> {
                serde_json::from_value(value).map_err(|e| e.to_string())
            }
            fn ts(cfg: &Config) -> String {
                <$t as TS>::name(cfg)
            }
            fn visit(v: &mut TypeRefs) {
                v.add::<$t>();
            }
        }
    )*};
}
plain_args!(String, Option<String>, i64, Option<i64>, u32, bool, Map<String, Value>, crate::library::ResultQuery, crate::payloads::Folder, crate::batches::BatchRequest);

impl<T: Serialize + TS + 'static> SurfaceArg for Sink<T> {
    fn from_wire(value: Value, channels: &dyn Channels) -> Result<Self, String> {
        let raw = channels.open(&value).map_err(|e| e.message)?;
        Ok(Sink::new(move |v: T| match serde_json::to_value(v) {
            Ok(json) => raw.send(json),
            Err(_) => true,
        }))
    }
    fn ts(cfg: &Config) -> String {
        format!("(event: {}) => void", T::name(cfg))
    }
    fn visit(v: &mut TypeRefs) {
        v.add::<T>();
    }
}

/// Writes a type (and what it depends on) into the bindings folder.
pub type Exporter = fn(&Config) -> Result<(), ts_rs::ExportError>;

/// The TypeScript types a signature mentions that live in files of their own (to import),
/// found through wrappers (`Vec<T>`, `Option<T>`, maps).
#[derive(Default)]
pub struct TypeRefs {
    pub cfg: Config,
    /// (type name, path of its file relative to the bindings folder)
    pub found: Vec<(String, String)>,
    /// Exports a type and its dependencies into the bindings folder.
    pub exporters: Vec<Exporter>,
}

struct Visit<'a>(&'a mut TypeRefs);

impl ts_rs::TypeVisitor for Visit<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        match T::output_path() {
            Some(path) => {
                let name = T::ident(&self.0.cfg);
                let path = path.to_string_lossy().replace('\\', "/");
                if !self.0.found.iter().any(|(n, _)| *n == name) {
                    self.0.found.push((name, path));
                }
            }
            None => T::visit_generics(self),
        }
    }
}

impl TypeRefs {
    pub fn new(cfg: Config) -> Self {
        TypeRefs { cfg, ..TypeRefs::default() }
    }

    pub fn add<T: TS + 'static>(&mut self) {
        use ts_rs::TypeVisitor;
        Visit(self).visit::<T>();
        self.exporters.push(export_if_possible::<T>);
    }
}

fn export_if_possible<T: TS + 'static>(cfg: &Config) -> Result<(), ts_rs::ExportError> {
    struct Export<'a>(&'a Config, Option<ts_rs::ExportError>);
    impl ts_rs::TypeVisitor for Export<'_> {
        fn visit<T: TS + 'static + ?Sized>(&mut self) {
            if self.1.is_some() {
                return;
            }
            if T::output_path().is_some() {
                if let Err(e) = T::export_all(self.0) {
                    self.1 = Some(e);
                }
            } else {
                T::visit_generics(self);
            }
        }
    }
    use ts_rs::TypeVisitor;
    let mut v = Export(cfg, None);
    v.visit::<T>();
    v.1.map_or(Ok(()), Err)
}

/// One argument of a command, for the generators.
pub struct ArgSpec {
    pub name: &'static str,
    pub ts: fn(&Config) -> String,
    pub visit: fn(&mut TypeRefs),
}

/// One command, for the generators.
pub struct CommandSpec {
    pub name: &'static str,
    pub doc: &'static str,
    pub args: Vec<ArgSpec>,
    pub returns: fn(&Config) -> String,
    pub visit_returns: fn(&mut TypeRefs),
}

/// One app-wide event, for the generators.
pub struct EventSpec {
    /// The name in code (`task_changed`: `onTaskChanged` in TypeScript).
    pub key: &'static str,
    /// The name on the wire.
    pub name: &'static str,
    pub doc: &'static str,
    pub payload: fn(&Config) -> String,
    pub visit: fn(&mut TypeRefs),
}

fn bad_args(command: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError::new(ApiErrorCode::InvalidRequest, format!("The window sent `{command}` arguments it does not take: {e}"))
}

/// Takes one named argument out of the JSON object (absent counts as `null`).
fn take_arg<T: SurfaceArg>(
    command: &str,
    args: &mut Map<String, Value>,
    camel: &str,
    channels: &dyn Channels,
) -> Result<T, ApiError> {
    let value = args.remove(camel).unwrap_or(Value::Null);
    T::from_wire(value, channels).map_err(|e| bad_args(command, format!("`{camel}`: {e}")))
}

/// `snake_case` → `camelCase`, as arguments are named in JavaScript.
pub fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

macro_rules! surface {
    (
        commands {
            $( $(#[doc = $doc:literal])* fn $name:ident ( $( $arg:ident : $ty:ty ),* $(,)? ) -> $ret:ty ; )*
        }
        events {
            $( $(#[doc = $edoc:literal])* $ekey:ident ( $payload:ty ) = $ename:literal ; )*
        }
    ) => {
        /// Every command's name, in declaration order.
        pub const COMMAND_NAMES: &[&str] = &[$(stringify!($name)),*];

        /// Every command, for the generators.
        pub fn commands() -> Vec<CommandSpec> {
            vec![$(CommandSpec {
                name: stringify!($name),
                doc: concat!($($doc, "\n",)* ""),
                args: vec![$(ArgSpec {
                    name: stringify!($arg),
                    ts: <$ty as SurfaceArg>::ts,
                    visit: <$ty as SurfaceArg>::visit,
                }),*],
                returns: <$ret as TS>::name,
                visit_returns: |v: &mut TypeRefs| v.add::<$ret>(),
            }),*]
        }

        /// Every app-wide event, for the generators.
        pub fn events() -> Vec<EventSpec> {
            vec![$(EventSpec {
                key: stringify!($ekey),
                name: $ename,
                doc: concat!($($edoc, "\n",)* ""),
                payload: <$payload as TS>::name,
                visit: |v: &mut TypeRefs| v.add::<$payload>(),
            }),*]
        }

        /// An event's name on the wire, by its name in code.
        fn event_name(key: &str) -> Option<&'static str> {
            match key {
                $(stringify!($ekey) => Some($ename),)*
                _ => None,
            }
        }

        /// Runs a command by name with its JSON arguments: what every transport calls.
        pub async fn dispatch(app: &App, name: &str, args: Value, channels: &dyn Channels) -> Result<Value, ApiError> {
            let mut args = match args {
                Value::Object(map) => map,
                Value::Null => Map::new(),
                other => return Err(bad_args(name, format!("expected an object, got {other}"))),
            };
            match name {
                $(stringify!($name) => {
                    $( let $arg: $ty = take_arg(name, &mut args, &camel(stringify!($arg)), channels)?; )*
                    if let Some(extra) = args.keys().next() {
                        return Err(bad_args(name, format!("unknown argument `{extra}`")));
                    }
                    let out: $ret = app.$name($($arg),*).await.map_err(ApiError::from)?;
                    serde_json::to_value(out).map_err(|e| ApiError::new(ApiErrorCode::Internal, e.to_string()))
                })*
                _ => Err(ApiError::new(ApiErrorCode::InvalidRequest, format!("There is no command `{name}`."))),
            }
        }
    };
}

use crate::batches::{Batch, BatchItem, BatchPlan, BatchRequest};
use crate::characters::Character;
use crate::db::Repaired;
use crate::gallery::{CharacterView, Exported, Health, Rescan, ResultDetail};
use crate::library::{ResultQuery, ResultRow};
use crate::payloads::{
    AppInfo, Balance, Folder, InputCheck, KeyCheck, ModelCard, ProgressEvent, ResultPage, UploadProgress, UploadedFile,
};
use crate::presets::Preset;
use crate::tasks::Task;
use kie::catalogue::ModelSpec;

surface! {
    commands {
        /// What the window needs at start; `ready` false: show the welcome screen.
        fn get_app_info() -> AppInfo;
        /// Asks Kie for the balance first; a key Kie refuses (`unauthorized`) is not saved.
        /// Opens the real library.
        fn set_key(key: String) -> KeyCheck;
        /// Removes the key from the keyring; closes the real library unless `KIE_API_KEY` gives one.
        fn delete_key() -> AppInfo;
        /// A local simulator on loopback and a separate demo library; nothing is sent or charged.
        fn start_demo() -> AppInfo;
        /// The model catalogue: forms are drawn from it.
        fn get_catalogue() -> Vec<ModelSpec>;
        /// The model picker: every model with its family, price range, and what Kie last
        /// said of its availability (with a live alternative).
        fn list_models() -> Vec<ModelCard>;
        /// The core's own validation and price, for inline checks while typing.
        fn check_input(model: String, input: Map<String, Value>) -> InputCheck;
        /// Kie's balance for the key in use.
        fn get_balance() -> Balance;
        /// Credits per local day and per model over the last `days` days (1–366, today
        /// included; every day present): Kie's `creditsConsumed`, and estimates where Kie gave
        /// none but may have charged. `utc_offset_minutes`: the window's offset, east positive.
        fn get_spend(days: u32, utc_offset_minutes: i64) -> crate::spend::SpendReport;
        /// Rejects with `invalid_input` before anything is sent; otherwise the task as written
        /// down (`running`, `failed` with its code, or `outcome_unknown`).
        fn submit_task(model: String, input: Map<String, Value>) -> Task;
        /// Reads and checks a whole list (or N variations of the form) without sending
        /// anything: every item with its price, every problem with its line.
        fn plan_batch(request: BatchRequest) -> BatchPlan;
        /// Checks the whole list again (`invalid_input`, each field named `lines[N].field`,
        /// nothing written), uploads its local files, writes the batch down and starts sending
        /// it, in order, within its credit cap (default: its estimate) and the balance.
        fn start_batch(request: BatchRequest) -> Batch;
        /// Newest first.
        fn list_batches(limit: u32) -> Vec<Batch>;
        /// A batch's items in order, with the task each became.
        fn list_batch_items(id: i64) -> Vec<BatchItem>;
        /// Nothing more is sent until resumed.
        fn pause_batch(id: i64) -> Batch;
        /// Also after a stop (the cap, the balance): checked again before each item.
        fn resume_batch(id: i64) -> Batch;
        /// The items not yet sent will not be.
        fn cancel_batch(id: i64) -> Batch;
        /// Newest first.
        fn list_tasks(limit: u32) -> Vec<Task>;
        /// The queue, newest first: the newest `newest` tasks and every older one still open
        /// (sending, running, its outcome unknown, files coming); with `before` (a task id),
        /// the `newest` tasks older than that one.
        fn list_queue(newest: u32, before: Option<i64>) -> Vec<Task>;
        fn get_task(id: i64) -> Task;
        /// Stops tracking (Kie cannot cancel).
        fn cancel_task(id: i64) -> Task;
        /// Polls a stale task again.
        fn check_task_again(id: i64) -> Task;
        /// On purpose: a new task with the same input, paid again.
        fn resubmit_task(id: i64) -> Task;
        /// For an outcome-unknown task whose Kie id the user found in their Kie account.
        fn attach_kie_id(id: i64, kie_task_id: String) -> Task;
        /// Veo (`get_1080p` in `Task.actions`): the free 1080p copy of the finished video (Kie takes
        /// 1–3 min; asked again for up to ~5 min), added to the library beside it (`idx` 1000).
        fn get_hd_video(task_id: i64) -> ResultRow;
        /// For a link field whose catalogue limits name a `media` (image, video, audio): the
        /// native file dialog for that kind (several files for a list that holds more than
        /// one), then each file is checked by its bytes against the field's limits (format,
        /// size, a clip's length; all problems at once as `invalid_input`, nothing uploaded),
        /// kept in the library and uploaded; `[]` when cancelled. `field` is the field's path as problems name it:
        /// `image_urls`, `first_frame_url`, `kling_elements[0].element_input_urls` (which group
        /// does not matter); a row of a list of links (`image_urls[2]`) takes one file. The
        /// window never names a path.
        fn pick_files(model: String, field: String, on_progress: Sink<UploadProgress>) -> Vec<UploadedFile>;
        /// A page of the gallery with its total.
        fn list_results(query: ResultQuery) -> ResultPage;
        /// Newest first, each with its origin video's poster.
        fn list_characters() -> Vec<CharacterView>;
        /// `@` completion while typing a prompt.
        fn complete_characters(prefix: String, limit: u32) -> Vec<Character>;
        /// `duplicate_handle` if taken (in any case).
        fn add_character(handle: String, character_id: Option<String>, prompt: Option<String>) -> Character;
        fn remove_character(id: i64) -> Character;
        /// Call once: throttled task and download progress.
        fn watch_progress(channel: Sink<ProgressEvent>) -> ();
        /// The detail panel: the result, its task (full input, for remix), whether the file is on disk.
        fn get_result(id: i64) -> ResultDetail;
        fn set_favourite(id: i64, favourite: bool) -> ResultRow;
        /// Notes are searched too; blank clears them.
        fn set_notes(id: i64, notes: Option<String>) -> ResultRow;
        /// The file, its poster and the record together (the window asks first).
        fn delete_result(id: i64) -> ResultRow;
        /// Asks for a folder (natively), copies the video there with a JSON sidecar; `null`
        /// when cancelled.
        fn export_result(id: i64) -> Option<Exported>;
        /// Shows the file in the file manager.
        fn reveal_result(id: i64) -> ();
        /// Opens one of the app's own folders in the file manager: the log folder (to send the
        /// logs) or the library. Only these two: the window never names a path.
        fn open_folder(which: Folder) -> ();
        /// `image`: base64 of a PNG/JPEG the window captured from the video (when Kie gave no
        /// first frame).
        fn save_poster(id: i64, image: String) -> ResultRow;
        /// Files missing from disk, files without a record, interrupted downloads.
        fn library_health() -> Health;
        /// Repairs what it can (files named by the app are linked back); the rest stays reported.
        fn rescan_library() -> Rescan;
        /// Only when the user chose it, after `db_corrupt` (`AppInfo.library_problem`): sets the
        /// damaged database aside (kept, as `library.db.corrupt-<ms>`), starts a new one with
        /// every task, result and character still readable from it, and opens the library.
        /// `refused` when it is not damaged.
        fn repair_library() -> Repaired;
        /// Every preset (a form's values under a name), by name.
        fn list_presets() -> Vec<Preset>;
        /// Saves the form's values (kept as given; a preset may be half a form) under `name`
        /// (trimmed, 1–60 characters): a taken name, in any case, is replaced. `invalid_input`
        /// on `name`, or on `model` when the catalogue has no such model.
        fn save_preset(name: String, model: String, input: Map<String, Value>) -> Preset;
        fn delete_preset(id: i64) -> Preset;
    }
    events {
        /// A task's state, progress or details changed: the whole row.
        task_changed(Task) = "studio://task-changed";
        /// A result file is in the library.
        result_added(ResultRow) = "studio://result-added";
        character_added(Character) = "studio://character-added";
        /// A batch started, sent an item, stopped or changed state: the whole batch.
        batch_changed(Batch) = "studio://batch-changed";
        /// Kie refused the key while polling: ask for a new one.
        key_rejected(()) = "studio://key-rejected";
        /// The library's database was found damaged after it opened: ask `get_app_info`
        /// again (its `library_problem` says what, and `repair_library` is the way out).
        library_damaged(String) = "studio://library-damaged";
    }
}

/// The app-wide event a core event is, with its payload (progress goes to channels instead).
pub fn app_event(event: &StudioEvent) -> Option<(&'static str, Value)> {
    let (key, payload) = match event {
        StudioEvent::TaskChanged { task } => ("task_changed", serde_json::to_value(task)),
        StudioEvent::ResultAdded { result } => ("result_added", serde_json::to_value(result)),
        StudioEvent::CharacterAdded { character } => ("character_added", serde_json::to_value(character)),
        StudioEvent::BatchChanged { batch } => ("batch_changed", serde_json::to_value(batch)),
        StudioEvent::KeyRejected => ("key_rejected", Ok(Value::Null)),
        StudioEvent::LibraryDamaged { message } => ("library_damaged", Ok(Value::String(message.clone()))),
        StudioEvent::DownloadProgress { .. } => return None,
    };
    Some((event_name(key)?, payload.ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_camel_cased_for_javascript() {
        assert_eq!(camel("kie_task_id"), "kieTaskId");
        assert_eq!(camel("id"), "id");
        assert_eq!(camel("on_progress"), "onProgress");
    }

    #[test]
    fn every_event_key_is_declared_once() {
        let evs = events();
        for key in
            ["task_changed", "result_added", "character_added", "batch_changed", "key_rejected", "library_damaged"]
        {
            assert_eq!(evs.iter().filter(|e| e.key == key).count(), 1, "{key}");
        }
        let names: std::collections::HashSet<_> = COMMAND_NAMES.iter().collect();
        assert_eq!(names.len(), COMMAND_NAMES.len(), "a command is declared twice");
    }

    #[test]
    fn core_events_become_app_events_by_their_declared_names() {
        assert_eq!(app_event(&StudioEvent::KeyRejected), Some(("studio://key-rejected", Value::Null)));
        let progress = StudioEvent::DownloadProgress { task_id: 1, idx: 0, done: 1, total: None };
        assert_eq!(app_event(&progress), None, "progress goes to channels");
        for e in events() {
            assert_eq!(event_name(e.key), Some(e.name));
        }
    }
}
