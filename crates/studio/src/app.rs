//! [`App`]: the one facade the desktop shell, the browser server and the `kie` CLI call.
//! It owns where things are ([`SessionConfig`], read once), the open library (real or demo,
//! or none: the welcome screen), the app-wide event stream and the progress channels (one
//! throttle). Every command of the surface (`surface.rs`) is a method here of the same name.
//!
//! What only a desktop can do (native dialogs, the file manager, the web view's file scope)
//! is asked of a [`Host`]; the shell gives a Tauri one, the CLI and the browser server a
//! [`Headless`] one. Blocking work (the keyring, hashing, copying, dialogs) runs on
//! `spawn_blocking`; no lock is held across an `.await`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use kie::catalogue::{credits_to_usd, Catalogue, ModelSpec};
use kie::ApiKey;
use serde_json::{Map, Value};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::task::JoinHandle;

use crate::availability::{self, ModelStatus};
use crate::batches::{self, Batch, BatchItem, BatchPlan, BatchRequest};
use crate::characters::{self, Character, NewCharacter};
use crate::clock::Clock;
use crate::db::Repaired;
use crate::error::{ApiError, ApiErrorCode, StudioError};
use crate::events::StudioEvent;
use crate::gallery::{self, CharacterView, Exported, Health, Rescan, ResultDetail};
use crate::keys::KeyStatus;
use crate::library::{self, ResultQuery, ResultRow};
use crate::payloads::{
    AppInfo, Balance, Folder, InputCheck, KeyCheck, ModelCard, ProgressEvent, ResultPage, UploadProgress, UploadedFile,
};
use crate::progress::ProgressThrottle;
use crate::session::{Mode, Session, SessionConfig};
use crate::studio::blocking;
use crate::surface::Sink;
use crate::tasks::{self, Task, TaskQuery};
use crate::uploads;
use crate::Studio;

/// Most rows one request returns (the queue, a gallery page, completions).
pub const MAX_PAGE: u32 = 500;
/// A window that reloads registers its progress channel again; older ones beyond this many
/// are dropped.
const MAX_PROGRESS_SINKS: usize = 8;

/// What only a desktop can do. Methods may block (a dialog waits for the user): the app
/// calls them off the async workers.
pub trait Host: Send + Sync + 'static {
    /// Files the user chose (one unless `pick.multiple`), `None` when cancelled.
    fn pick_files(&self, pick: &uploads::FilePick) -> Option<Vec<PathBuf>>;
    /// A folder the user chose, `None` when cancelled.
    fn pick_folder(&self, title: &str) -> Option<PathBuf>;
    /// Shows a file in the file manager.
    fn reveal(&self, path: &Path) -> Result<(), String>;
    /// Opens a folder in the file manager.
    fn open_folder(&self, path: &Path) -> Result<(), String> {
        Err(format!("There is no file manager here; the folder is {}", path.display()))
    }
    /// A library folder was opened (the shell lets its web view show files under it).
    fn library_opened(&self, _root: &Path) {}
}

/// No desktop: picking is cancelled (unless the test hooks name files), nothing is revealed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Headless;

impl Host for Headless {
    fn pick_files(&self, _: &uploads::FilePick) -> Option<Vec<PathBuf>> {
        None
    }
    fn pick_folder(&self, _: &str) -> Option<PathBuf> {
        None
    }
    fn reveal(&self, path: &Path) -> Result<(), String> {
        Err(format!("There is no file manager here; the file is {}", path.display()))
    }
}

/// How the app reads its environment (tests give their own).
pub type Env = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The process environment, with empty values counting as unset. `KIE_API_KEY` is the
/// value [`crate::keys::take_env_key`] took out of the environment at start, when it did.
pub fn process_env() -> Env {
    Arc::new(|name: &str| {
        if name == crate::keys::ENV_VAR {
            if let Some(taken) = crate::keys::taken_env_key() {
                return taken.map(|key| key.expose().to_string());
            }
        }
        std::env::var(name).ok().filter(|v| !v.is_empty())
    })
}

pub struct App {
    cfg: SessionConfig,
    host: Arc<dyn Host>,
    env: Env,
    open: Mutex<Option<Open>>,
    events: broadcast::Sender<StudioEvent>,
    sinks: Arc<Mutex<Vec<Sink<ProgressEvent>>>>,
    /// Why a library could not be opened last (its database damaged, too new…), and the
    /// damaged file if that was it; cleared when a library opens (`AppInfo.library_problem`).
    library_problem: Mutex<Option<(ApiError, Option<PathBuf>)>>,
}

/// The open library with the task forwarding its events.
struct Open {
    session: Session,
    forwarder: JoinHandle<()>,
}

impl Drop for Open {
    fn drop(&mut self) {
        self.forwarder.abort();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The form's live check: every problem, and the price of what is filled in so far (absent
/// fields count at their defaults). Touches nothing; works with no key set.
pub fn check_input(catalogue: &Catalogue, model: &str, input: &Map<String, Value>) -> InputCheck {
    let (problems, credits) = match (catalogue.validate(model, input), catalogue.model(model)) {
        (Ok(normalized), Some(spec)) => (Vec::new(), spec.estimate_credits(&normalized)),
        (Err(problems), Some(spec)) => (problems, spec.estimate_credits(input)),
        (Err(problems), None) => (problems, None),
        (Ok(_), None) => (Vec::new(), None),
    };
    let spec = catalogue.model(model);
    let budgets = spec.map(|spec| kie::validate::budgets(spec, input)).unwrap_or_default();
    let hidden = spec.map(|spec| kie::validate::hidden_fields(spec, input)).unwrap_or_default();
    let mentions = spec.map(|spec| kie::validate::mention_offers(spec, input)).unwrap_or_default();
    InputCheck { problems, credits, usd: credits.map(credits_to_usd), budgets, hidden, mentions }
}

/// The picker's cards, in catalogue order (so families come in the catalogue's order,
/// Sora first), each with its price range, what Kie last said of it and a live alternative.
pub fn model_cards(catalogue: &Catalogue, unavailable: &HashMap<String, ModelStatus>) -> Vec<ModelCard> {
    catalogue
        .models
        .iter()
        .map(|m| {
            let range = m.price_range();
            let status = unavailable.get(&m.id).cloned();
            let alternative = status
                .as_ref()
                .and_then(|_| availability::alternative(catalogue, m, unavailable))
                .map(|a| a.id.clone());
            ModelCard {
                id: m.id.clone(),
                name: m.name.clone(),
                family: m.family.clone(),
                summary: m.summary.clone(),
                output: m.output,
                takes: m.takes.clone(),
                makes: m.makes.clone(),
                credits_min: range.map(|r| r.0),
                credits_max: range.map(|r| r.1),
                price_is_estimate: m.price_is_estimate(),
                status,
                alternative,
            }
        })
        .collect()
}

impl App {
    pub fn new(cfg: SessionConfig, host: Arc<dyn Host>, env: Env) -> App {
        let (events, _) = broadcast::channel(1024);
        App {
            cfg,
            host,
            env,
            open: Mutex::new(None),
            events,
            sinks: Arc::new(Mutex::new(Vec::new())),
            library_problem: Mutex::new(None),
        }
    }

    pub fn config(&self) -> &SessionConfig {
        &self.cfg
    }

    /// Every app-wide change (tasks, results, characters, a rejected key), whichever library
    /// is open.
    pub fn subscribe(&self) -> broadcast::Receiver<StudioEvent> {
        self.events.subscribe()
    }

    /// The open library's studio, or `not_ready`.
    pub fn studio(&self) -> Result<Studio, StudioError> {
        lock(&self.open).as_ref().map(|o| o.session.studio().clone()).ok_or(StudioError::NotReady)
    }

    pub fn mode(&self) -> Option<Mode> {
        lock(&self.open).as_ref().map(|o| o.session.mode())
    }

    /// Whether this process polls and downloads the open library (it holds the library's
    /// lock). False with no library open, or while another process (the `kie` command line)
    /// holds it: the app then takes over when that one is done.
    pub fn polls_library(&self) -> bool {
        lock(&self.open).as_ref().is_some_and(|o| o.session.polls())
    }

    /// The key in use, if any: `KIE_API_KEY`, else the keyring (read off the async workers).
    async fn saved_key(&self) -> Result<Option<ApiKey>, StudioError> {
        let (cfg, env) = (self.cfg.clone(), self.env.clone());
        Ok(blocking("Reading the keyring", move || cfg.load_key(|n| env(n))).await?.map(|(key, _)| key))
    }

    /// What the window may know about the key (read off the async workers).
    async fn key_status(&self) -> Result<KeyStatus, StudioError> {
        let (cfg, env) = (self.cfg.clone(), self.env.clone());
        blocking("Reading the keyring", move || Ok(cfg.key_status(|n| env(n)))).await
    }

    /// With a key (`KIE_API_KEY` or the keyring), open the real library and start its poller,
    /// which resumes whatever the last run left unfinished. Without one, nothing is opened
    /// (the window shows the welcome screen). Must run inside a Tokio runtime.
    pub async fn open_with_saved_key(&self) -> Result<bool, StudioError> {
        let Some(key) = self.saved_key().await? else { return Ok(false) };
        self.install(self.noting(Session::open_real(&self.cfg, key))?);
        Ok(true)
    }

    /// For one-shot tools (the `kie` CLI): opens the real library with the key in use
    /// (`KIE_API_KEY`, else the keyring) as [`App::open_with_saved_key`] does, but does not
    /// start its poller or media server: the caller polls with `studio.poller().run(Until::…)` and
    /// exits. Without a key nothing is opened (`Ok(false)`).
    pub async fn open_real_with_saved_key_unstarted(&self) -> Result<bool, StudioError> {
        let Some(key) = self.saved_key().await? else { return Ok(false) };
        self.open_real_unstarted(key)?;
        Ok(true)
    }

    /// Opens the real library with this key ([`Session::open_real`]) and makes it the open
    /// one without starting its poller or media server (see
    /// [`App::open_real_with_saved_key_unstarted`]).
    pub fn open_real_unstarted(&self, key: ApiKey) -> Result<(), StudioError> {
        self.hold(self.noting(Session::open_real(&self.cfg, key))?, false);
        Ok(())
    }

    /// Remembers why a library could not be opened, when it is the library's own problem
    /// (the window says so, and a damaged database waits for `repair_library`).
    fn noting<T>(&self, opened: Result<T, StudioError>) -> Result<T, StudioError> {
        if let Err(e) = &opened {
            let damaged = match e {
                StudioError::Db(crate::db::DbError::Corrupt { path }) => Some(path.clone()),
                _ => None,
            };
            let code = e.code();
            if matches!(code, ApiErrorCode::DbCorrupt | ApiErrorCode::DbTooNew | ApiErrorCode::DbIo) {
                *lock(&self.library_problem) = Some((ApiError::new(code, e.to_string()), damaged));
            }
        }
        opened
    }

    /// Makes `session` the open one: the host is told its folder, its events are forwarded
    /// (progress through the one throttle), and its poller starts. The one it replaces closes.
    pub fn install(&self, session: Session) {
        self.hold(session, true);
    }

    fn hold(&self, mut session: Session, start: bool) {
        *lock(&self.library_problem) = None;
        self.host.library_opened(session.root());
        let forwarder = forward(session.studio().subscribe(), self.events.clone(), self.sinks.clone());
        if start {
            session.start();
            tracing::info!(
                "opened the {} library at {}",
                if session.is_demo() { "demo" } else { "real" },
                session.root().display()
            );
        }
        let old = lock(&self.open).replace(Open { session, forwarder });
        drop(old);
    }

    /// The open library's database was found damaged after it opened (its runner stopped
    /// before polling): it is closed and the problem kept, as if the open had failed.
    fn close_if_damaged(&self) {
        let mut open = lock(&self.open);
        if !open.as_ref().is_some_and(|o| o.session.damaged()) {
            return;
        }
        let Some(old) = open.take() else { return };
        drop(open);
        let path = old.session.studio().db().path().map(Path::to_path_buf);
        drop(old);
        if let Some(path) = path {
            let e = StudioError::Db(crate::db::DbError::Corrupt { path: path.clone() });
            *lock(&self.library_problem) = Some((ApiError::new(e.code(), e.to_string()), Some(path)));
        }
    }

    /// Closes the open library (the welcome screen comes back).
    pub fn close(&self) {
        let old = lock(&self.open).take();
        drop(old);
    }

    // ---- the surface's commands (surface.rs), in its order ----

    pub async fn get_app_info(&self) -> Result<AppInfo, StudioError> {
        let key = self.key_status().await?;
        self.close_if_damaged();
        let open = lock(&self.open);
        let mut info = crate::session::app_info(&self.cfg, open.as_ref().map(|o| &o.session), key);
        info.log_dir = self.log_dir().map(|d| d.display().to_string());
        info.library_problem = lock(&self.library_problem).as_ref().map(|(problem, _)| problem.clone());
        Ok(info)
    }

    pub async fn set_key(&self, key: String) -> Result<KeyCheck, StudioError> {
        let (session, check) = self.noting(Session::open_with_new_key(&self.cfg, &key).await)?;
        self.install(session);
        Ok(check)
    }

    pub async fn delete_key(&self) -> Result<AppInfo, StudioError> {
        let store = self.cfg.key_store();
        blocking("Removing the key", move || Ok(store.delete()?)).await?;
        if self.mode() == Some(Mode::Real) && !self.key_status().await?.set {
            self.close();
        }
        self.get_app_info().await
    }

    pub async fn start_demo(&self) -> Result<AppInfo, StudioError> {
        if self.mode() != Some(Mode::Demo) {
            #[cfg(feature = "demo")]
            self.install(self.noting(Session::open_demo(&self.cfg).await)?);
            #[cfg(not(feature = "demo"))]
            return Err(StudioError::Refused("This build of Kie Studio has no demo.".into()));
        }
        self.get_app_info().await
    }

    pub async fn get_catalogue(&self) -> Result<Vec<ModelSpec>, StudioError> {
        Ok(self.cfg.catalogue.models.clone())
    }

    pub async fn list_models(&self) -> Result<Vec<ModelCard>, StudioError> {
        let unavailable = match self.studio() {
            Ok(studio) => availability::all(studio.db())?,
            Err(_) => Default::default(),
        };
        Ok(model_cards(&self.cfg.catalogue, &unavailable))
    }

    pub async fn check_input(&self, model: String, input: Map<String, Value>) -> Result<InputCheck, StudioError> {
        Ok(check_input(&self.cfg.catalogue, &model, &input))
    }

    pub async fn get_balance(&self) -> Result<Balance, StudioError> {
        let credits = self.studio()?.client().credits().await?;
        Ok(Balance { credits, usd: credits_to_usd(credits) })
    }

    pub async fn get_spend(
        &self,
        days: u32,
        utc_offset_minutes: i64,
    ) -> Result<crate::spend::SpendReport, StudioError> {
        let studio = self.studio()?;
        Ok(crate::spend::report(studio.db(), days, utc_offset_minutes, studio.now_ms())?)
    }

    pub async fn submit_task(&self, model: String, input: Map<String, Value>) -> Result<Task, StudioError> {
        self.studio()?.journal().submit(&model, &input).await
    }

    pub async fn plan_batch(&self, request: BatchRequest) -> Result<BatchPlan, StudioError> {
        let studio = self.studio()?.clone();
        crate::studio::blocking("Checking the list", move || batches::plan(studio.catalogue(), &request)).await
    }

    pub async fn start_batch(&self, request: BatchRequest) -> Result<Batch, StudioError> {
        self.studio()?.batches().start(&request, &|line: &str| tracing::info!("{line}")).await
    }

    pub async fn list_batches(&self, limit: u32) -> Result<Vec<Batch>, StudioError> {
        Ok(batches::list(self.studio()?.db(), limit.clamp(1, MAX_PAGE))?)
    }

    pub async fn list_batch_items(&self, id: i64) -> Result<Vec<BatchItem>, StudioError> {
        Ok(batches::items(self.studio()?.db(), id)?)
    }

    pub async fn pause_batch(&self, id: i64) -> Result<Batch, StudioError> {
        self.studio()?.batches().pause(id)
    }

    pub async fn resume_batch(&self, id: i64) -> Result<Batch, StudioError> {
        self.studio()?.batches().resume(id).await
    }

    pub async fn cancel_batch(&self, id: i64) -> Result<Batch, StudioError> {
        self.studio()?.batches().cancel(id)
    }

    pub async fn list_tasks(&self, limit: u32) -> Result<Vec<Task>, StudioError> {
        let q = TaskQuery { limit: limit.clamp(1, MAX_PAGE), ..TaskQuery::default() };
        Ok(tasks::list(self.studio()?.db(), &q)?)
    }

    pub async fn list_queue(&self, newest: u32, before: Option<i64>) -> Result<Vec<Task>, StudioError> {
        Ok(tasks::queue(self.studio()?.db(), newest.clamp(1, MAX_PAGE), before)?)
    }

    pub async fn get_task(&self, id: i64) -> Result<Task, StudioError> {
        Ok(tasks::get(self.studio()?.db(), id)?)
    }

    pub async fn cancel_task(&self, id: i64) -> Result<Task, StudioError> {
        self.studio()?.journal().cancel(id)
    }

    pub async fn check_task_again(&self, id: i64) -> Result<Task, StudioError> {
        self.studio()?.journal().check_again(id)
    }

    pub async fn resubmit_task(&self, id: i64) -> Result<Task, StudioError> {
        self.studio()?.journal().resubmit(id).await
    }

    pub async fn attach_kie_id(&self, id: i64, kie_task_id: String) -> Result<Task, StudioError> {
        self.studio()?.journal().attach_kie_id(id, &kie_task_id)
    }

    pub async fn get_hd_video(&self, task_id: i64) -> Result<ResultRow, StudioError> {
        let studio = self.studio()?;
        let policy = crate::downloader::HdPolicy::following(&studio.config().poll);
        studio.downloader().fetch_hd(task_id, policy).await
    }

    pub async fn pick_files(
        &self,
        model: String,
        field: String,
        on_progress: Sink<UploadProgress>,
    ) -> Result<Vec<UploadedFile>, StudioError> {
        let studio = self.studio()?;
        let target = uploads::MediaField::find(studio.catalogue(), &model, &field)?;
        let paths = match &self.cfg.e2e_pick {
            Some(paths) => target.e2e_pick(paths),
            None => {
                let (host, pick) = (self.host.clone(), target.pick());
                match blocking("Choosing files", move || Ok(host.pick_files(&pick))).await? {
                    Some(paths) => paths,
                    None => return Ok(Vec::new()),
                }
            }
        };
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        studio
            .uploads()
            .check_and_upload(&target, paths, move |p| {
                on_progress.send(p);
            })
            .await
    }

    pub async fn list_results(&self, query: ResultQuery) -> Result<ResultPage, StudioError> {
        let studio = self.studio()?;
        let models_in = match &query.family {
            Some(family) => {
                self.cfg.catalogue.models.iter().filter(|m| &m.family == family).map(|m| m.id.clone()).collect()
            }
            None => Vec::new(),
        };
        let q = ResultQuery { limit: query.limit.clamp(1, MAX_PAGE), models_in, ..query };
        let page = library::result_page(studio.db(), &q)?;
        Ok(ResultPage { items: page.items, total: page.total, next: page.next })
    }

    pub async fn list_characters(&self) -> Result<Vec<CharacterView>, StudioError> {
        gallery::characters_with_posters(self.studio()?.db())
    }

    pub async fn complete_characters(&self, prefix: String, limit: u32) -> Result<Vec<Character>, StudioError> {
        Ok(characters::complete(self.studio()?.db(), &prefix, limit.clamp(1, MAX_PAGE))?)
    }

    pub async fn add_character(
        &self,
        handle: String,
        character_id: Option<String>,
        prompt: Option<String>,
    ) -> Result<Character, StudioError> {
        let studio = self.studio()?;
        let clean = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let new = NewCharacter {
            handle,
            character_id: clean(character_id),
            prompt: clean(prompt),
            ..NewCharacter::default()
        };
        let c = characters::add(studio.db(), new, studio.now_ms())?;
        studio.emit(StudioEvent::CharacterAdded { character: c.clone() });
        Ok(c)
    }

    pub async fn remove_character(&self, id: i64) -> Result<Character, StudioError> {
        Ok(characters::remove(self.studio()?.db(), id)?)
    }

    pub async fn watch_progress(&self, channel: Sink<ProgressEvent>) -> Result<(), StudioError> {
        let mut sinks = lock(&self.sinks);
        sinks.push(channel);
        let excess = sinks.len().saturating_sub(MAX_PROGRESS_SINKS);
        sinks.drain(..excess);
        Ok(())
    }

    pub async fn get_result(&self, id: i64) -> Result<ResultDetail, StudioError> {
        let studio = self.studio()?;
        blocking("Reading the result", move || gallery::result_detail(studio.db(), studio.paths(), id)).await
    }

    pub async fn set_favourite(&self, id: i64, favourite: bool) -> Result<ResultRow, StudioError> {
        Ok(library::set_favourite(self.studio()?.db(), id, favourite)?)
    }

    pub async fn set_notes(&self, id: i64, notes: Option<String>) -> Result<ResultRow, StudioError> {
        let notes = notes.as_deref().map(str::trim).filter(|n| !n.is_empty());
        Ok(library::set_notes(self.studio()?.db(), id, notes)?)
    }

    pub async fn delete_result(&self, id: i64) -> Result<ResultRow, StudioError> {
        let studio = self.studio()?;
        blocking("Deleting the result", move || gallery::delete_result_and_files(studio.db(), studio.paths(), id)).await
    }

    pub async fn export_result(&self, id: i64) -> Result<Option<Exported>, StudioError> {
        let studio = self.studio()?;
        let dir = match &self.cfg.e2e_export_dir {
            Some(dir) => dir.clone(),
            None => {
                let host = self.host.clone();
                match blocking("Choosing a folder", move || Ok(host.pick_folder("Export to folder"))).await? {
                    Some(dir) => dir,
                    None => return Ok(None),
                }
            }
        };
        blocking("Exporting", move || gallery::export_result(studio.db(), studio.paths(), id, &dir).map(Some)).await
    }

    pub async fn reveal_result(&self, id: i64) -> Result<(), StudioError> {
        let studio = self.studio()?;
        let row = library::get_result(studio.db(), id)?;
        let rel = row.path.ok_or_else(|| StudioError::Refused("This result has no file.".into()))?;
        let path = studio.paths().resolve(&rel)?;
        let host = self.host.clone();
        blocking("Opening the file manager", move || {
            host.reveal(&path).map_err(|e| StudioError::Io {
                context: "Could not open the file manager".into(),
                source: std::io::Error::other(e),
            })
        })
        .await
    }

    pub async fn open_folder(&self, which: Folder) -> Result<(), StudioError> {
        let path = match which {
            Folder::Library => {
                lock(&self.open).as_ref().map_or(self.cfg.library.root(), |o| o.session.root()).to_path_buf()
            }
            Folder::Logs => {
                self.log_dir().ok_or_else(|| StudioError::Refused("This computer has no folder for logs.".into()))?
            }
        };
        let host = self.host.clone();
        blocking("Opening the file manager", move || {
            host.open_folder(&path).map_err(|e| StudioError::Io {
                context: "Could not open the file manager".into(),
                source: std::io::Error::other(e),
            })
        })
        .await
    }

    /// Where this process logs ([`crate::logs::init`]), else where it would.
    fn log_dir(&self) -> Option<PathBuf> {
        crate::logs::active_dir().or_else(|| crate::logs::folder(&|name| (self.env)(name)))
    }

    pub async fn save_poster(&self, id: i64, image: String) -> Result<ResultRow, StudioError> {
        use base64::Engine;
        let data = image.trim();
        let data = data.split_once(";base64,").map_or(data, |(_, b64)| b64);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data)
            .map_err(|_| StudioError::Refused("The poster was not valid base64.".into()))?;
        let studio = self.studio()?;
        blocking("Saving the poster", move || gallery::save_poster(studio.db(), studio.paths(), id, &bytes)).await
    }

    pub async fn library_health(&self) -> Result<Health, StudioError> {
        let studio = self.studio()?;
        blocking("Checking the library", move || {
            let health = gallery::health(studio.db(), studio.paths());
            crate::memory::release(studio.db());
            health
        })
        .await
    }

    pub async fn rescan_library(&self) -> Result<Rescan, StudioError> {
        let studio = self.studio()?;
        blocking("Rescanning the library", move || {
            let rescan = gallery::rescan(studio.db(), studio.paths(), studio.now_ms());
            crate::memory::release(studio.db());
            rescan
        })
        .await
    }

    /// The user chose to start afresh from a damaged library database (`db_corrupt`): it is
    /// set aside, kept, and a new one made with the rows that could be read; then the real
    /// library opens as at startup. Refused when that database is not damaged.
    pub async fn repair_library(&self) -> Result<Repaired, StudioError> {
        let damaged = lock(&self.library_problem).as_ref().and_then(|(_, path)| path.clone());
        let db_path = damaged.unwrap_or_else(|| self.cfg.library.db());
        if lock(&self.open).as_ref().is_some_and(|o| o.session.studio().db().path() == Some(db_path.as_path())) {
            return Err(StudioError::Refused("This library is open and working: there is nothing to repair.".into()));
        }
        let now = crate::clock::SystemClock.now_ms();
        let path = db_path.clone();
        let repaired = blocking("Repairing the library", move || {
            let (db, repaired) = crate::db::Db::repair(&path, now)?;
            if repaired.is_some() {
                if let Some(root) = path.parent().map(Path::to_path_buf) {
                    gallery::keep_file_ids(&db, &crate::paths::LibraryPaths::new(root)?)?;
                }
            }
            Ok(repaired)
        })
        .await?;
        let Some(repaired) = repaired else {
            return Err(StudioError::Refused("The library's database is not damaged: nothing was changed.".into()));
        };
        tracing::warn!("set the damaged library database aside at {}", repaired.set_aside);
        *lock(&self.library_problem) = None;
        if self.mode().is_none() && db_path == self.cfg.library.db() {
            // As at startup; a failure is kept for the window to show.
            let _ = self.open_with_saved_key().await;
        }
        Ok(repaired)
    }

    pub async fn list_presets(&self) -> Result<Vec<crate::presets::Preset>, StudioError> {
        Ok(crate::presets::list(self.studio()?.db())?)
    }

    pub async fn save_preset(
        &self,
        name: String,
        model: String,
        input: Map<String, Value>,
    ) -> Result<crate::presets::Preset, StudioError> {
        let studio = self.studio()?;
        crate::presets::save(studio.db(), studio.catalogue(), &name, &model, &input, studio.now_ms())
    }

    pub async fn delete_preset(&self, id: i64) -> Result<crate::presets::Preset, StudioError> {
        Ok(crate::presets::delete(self.studio()?.db(), id)?)
    }
}

/// Forwards one library's events to the app-wide stream, and progress (through the one
/// throttle) to the registered channels, until the library is closed.
fn forward(
    mut rx: broadcast::Receiver<StudioEvent>,
    out: broadcast::Sender<StudioEvent>,
    sinks: Arc<Mutex<Vec<Sink<ProgressEvent>>>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut throttle = ProgressThrottle::default();
        loop {
            match rx.recv().await {
                Ok(event) => {
                    if let Some(progress) = throttle.filter(&event, Instant::now()) {
                        lock(&sinks).retain(|s| s.send(progress.clone()));
                    }
                    // No listener is fine: the database is the source of truth.
                    let _ = out.send(event);
                }
                // Listeners re-read what they show on the next change; nothing to replay.
                Err(RecvError::Lagged(n)) => tracing::warn!("{n} events were skipped"),
                Err(RecvError::Closed) => break,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surface::{dispatch, Channels};
    use serde_json::json;

    fn input(pairs: &[(&str, Value)]) -> Map<String, Value> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn live_check_gives_problems_and_a_price() {
        let cat = Catalogue::builtin();
        let ok = check_input(cat, "sora-2-text-to-video", &input(&[("prompt", "a fox in the snow".into())]));
        assert!(ok.problems.is_empty(), "{:?}", ok.problems);
        let credits = ok.credits.expect("priced");
        assert_eq!(ok.usd, Some(credits_to_usd(credits)));

        let empty = check_input(cat, "sora-2-text-to-video", &Map::new());
        assert!(empty.problems.iter().any(|p| p.field == "prompt"), "{:?}", empty.problems);
        assert_eq!(empty.credits, Some(credits), "the price at the defaults, while the form is incomplete");

        let unknown = check_input(cat, "no-such-model", &Map::new());
        assert_eq!(unknown.problems[0].rule, "unknown_model");
        assert_eq!((unknown.credits, unknown.usd), (None, None));
    }

    struct NoChannels;
    impl Channels for NoChannels {
        fn open(&self, _: &Value) -> Result<Sink<Value>, crate::error::ApiError> {
            Ok(Sink::new(|_| true))
        }
    }

    fn app(dir: &Path) -> App {
        let cfg = SessionConfig::from_args_and_env(
            ["kie-studio".to_string(), "--library".into(), dir.join("lib").display().to_string()],
            |n| (n == crate::session::KEYRING_SERVICE_ENV).then(|| "ai.kie.studio.test-app-none".to_string()),
        )
        .unwrap();
        App::new(cfg, Arc::new(Headless), Arc::new(|_: &str| None))
    }

    #[tokio::test]
    async fn commands_answer_not_ready_before_a_library_is_open() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path());
        let err = dispatch(&app, "list_tasks", json!({"limit": 5}), &NoChannels).await.unwrap_err();
        assert_eq!(err.code, crate::error::ApiErrorCode::NotReady);
        let info = dispatch(&app, "get_app_info", Value::Null, &NoChannels).await.unwrap();
        assert_eq!(info["ready"], false);
        // Arguments are checked by name and type, and unknown ones are refused.
        let err = dispatch(&app, "check_input", json!({"model": 3}), &NoChannels).await.unwrap_err();
        assert_eq!(err.code, crate::error::ApiErrorCode::InvalidRequest);
        let err = dispatch(&app, "get_task", json!({"id": 1, "extra": 2}), &NoChannels).await.unwrap_err();
        assert!(err.message.contains("extra"), "{}", err.message);
        let err = dispatch(&app, "no_such_command", json!({}), &NoChannels).await.unwrap_err();
        assert_eq!(err.code, crate::error::ApiErrorCode::InvalidRequest);
    }

    #[cfg(feature = "demo")]
    #[tokio::test]
    async fn the_demo_through_the_surface() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path());
        let mut events = app.subscribe();
        let info = dispatch(&app, "start_demo", json!({}), &NoChannels).await.unwrap();
        assert_eq!((info["ready"].clone(), info["demo"].clone()), (json!(true), json!(true)));
        let check = dispatch(&app, "check_input", json!({"model": "sora-2-text-to-video", "input": {}}), &NoChannels)
            .await
            .unwrap();
        assert_eq!(check["problems"][0]["field"], "prompt");
        let c = dispatch(
            &app,
            "add_character",
            json!({"handle": "@Maya", "characterId": "  ", "prompt": " a red-haired skater "}),
            &NoChannels,
        )
        .await
        .unwrap();
        assert_eq!((c["handle"].clone(), c["character_id"].clone()), (json!("Maya"), Value::Null));
        assert!(matches!(events.recv().await.unwrap(), StudioEvent::CharacterAdded { .. }));
        let dup = dispatch(&app, "add_character", json!({"handle": "maya"}), &NoChannels).await.unwrap_err();
        assert_eq!(dup.code, crate::error::ApiErrorCode::DuplicateHandle);
        let gone = dispatch(&app, "remove_character", json!({"id": 999}), &NoChannels).await.unwrap_err();
        assert_eq!(gone.code, crate::error::ApiErrorCode::NotInLibrary);
        let page = dispatch(&app, "list_results", json!({"query": {"limit": 100000}}), &NoChannels).await.unwrap();
        assert_eq!(page["total"], 0);
    }
}
