//! An open library: the real one with the user's key, or the demo (an in-process simulator
//! over a library of its own), with its poller and media server; and where things are
//! ([`SessionConfig`]), read once at startup from the command line and the environment.
//! [`crate::app::App`] holds the open session; nothing else does.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use kie::catalogue::Catalogue;
use kie::client::{ClientConfig, DEFAULT_API_BASE, DEFAULT_UPLOAD_BASE};
use kie::validate::Problem;
use kie::{ApiKey, KieClient};
use tokio::task::JoinHandle;

use crate::clock::{Clock, SystemClock};
use crate::db::Db;
use crate::error::StudioError;
use crate::keys::{KeySource, KeyStatus, KeyStore};
use crate::library_lock::{self, PollerLock};
use crate::paths::{LibraryPaths, RootSource};
use crate::payloads::{AppInfo, Hosts, KeyCheck};
use crate::poller::Until;
use crate::settings;
use crate::shared_limits::{LibraryLimits, SharedLimitsConfig};
use crate::studio::Studio;
use crate::studio_config::{PollConfig, StudioConfig};

/// The key the demo's simulator accepts. Not a secret: it only opens the local simulator.
pub const DEMO_KEY: &str = "demo-key";
/// Environment names of the app's test hooks (besides `KIE_STUDIO_LIBRARY` and `KIE_API_KEY`).
pub const API_BASE_ENV: &str = "KIE_API_BASE";
pub const UPLOAD_BASE_ENV: &str = "KIE_UPLOAD_BASE";
pub const KEYRING_SERVICE_ENV: &str = "KIE_STUDIO_KEYRING_SERVICE";
pub const POLL_SCALE_ENV: &str = "KIE_STUDIO_POLL_SCALE";
/// Test hook: abort the process at this named step of a task (see `Studio::crash_point`).
pub const CRASH_AT_ENV: &str = "KIE_STUDIO_CRASH_AT";
/// Test hook: the lease, in milliseconds, after which an interrupted create is called
/// outcome-unknown (60 s by default).
pub const SUBMIT_LEASE_ENV: &str = "KIE_STUDIO_SUBMIT_LEASE_MS";
pub const E2E_PICK_ENV: &str = "KIE_STUDIO_E2E_PICK";
/// Test hook: the folder `export_result` uses instead of asking (WebDriver cannot drive a
/// native dialog).
pub const E2E_EXPORT_DIR_ENV: &str = "KIE_STUDIO_E2E_EXPORT_DIR";

/// Where the app's things are and which hosts it talks to. Read once at startup.
///
/// Kie's hosts, where the key is sent, come only from here (a flag, an environment
/// variable, else Kie's own) or from the demo: never from a library, which may have been
/// handed over by someone else.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The real library.
    pub library: LibraryPaths,
    /// Whether `--library` or `KIE_STUDIO_LIBRARY` chose it.
    pub library_overridden: bool,
    /// `--api-base` / `KIE_API_BASE`; else Kie's.
    pub api_base: Option<String>,
    /// `--upload-base` / `KIE_UPLOAD_BASE`; else Kie's.
    pub upload_base: Option<String>,
    /// `KIE_STUDIO_KEYRING_SERVICE`: another keyring entry (tests keep apart).
    pub keyring_service: Option<String>,
    /// `KIE_STUDIO_POLL_SCALE`: every polling interval of the real library scaled (tests).
    pub poll_scale: Option<f64>,
    /// `KIE_STUDIO_CRASH_AT`: the real library's runner aborts the process at this step (tests).
    pub crash_at: Option<String>,
    /// `KIE_STUDIO_SUBMIT_LEASE_MS`: the real library's lease on interrupted creates (tests).
    pub submit_lease_ms: Option<i64>,
    /// `KIE_STUDIO_E2E_PICK`: the files the file picker offers instead of opening the
    /// native dialog (WebDriver cannot drive one); each field gets those its dialog's filter
    /// would show (`uploads::MediaField::e2e_pick`).
    pub e2e_pick: Option<Vec<PathBuf>>,
    pub e2e_export_dir: Option<PathBuf>,
    /// The built-in model catalogue plus the entries of the JSON files `KIE_STUDIO_CATALOGUE`
    /// names (`:`-separated): a model of a known protocol added with no new code.
    pub catalogue: Arc<Catalogue>,
}

/// `KIE_STUDIO_CATALOGUE`: more catalogue entries, from JSON files.
pub const CATALOGUE_ENV: &str = "KIE_STUDIO_CATALOGUE";

/// The built-in catalogue, extended by each `:`-separated file in `extra`. A file that does
/// not load is an error naming it: a model silently missing would be worse.
pub fn load_catalogue(extra: Option<&str>) -> Result<Catalogue, StudioError> {
    let mut catalogue = Catalogue::builtin().clone();
    // Separated as PATH is: `:`, and `;` on Windows (whose paths hold a `:`).
    for path in std::env::split_paths(extra.unwrap_or_default()) {
        let path = path.to_string_lossy();
        let path = path.trim();
        if path.is_empty() {
            continue;
        }
        let more = std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|json| Catalogue::from_json(&json).map_err(|e| e.to_string()))
            .and_then(|more| catalogue.extend(more).map_err(|e| e.to_string()));
        if let Err(why) = more {
            return Err(StudioError::InvalidInput(vec![Problem::new(
                CATALOGUE_ENV,
                "bad_catalogue",
                format!("The model catalogue file {path} could not be added: {why}"),
            )]));
        }
    }
    Ok(catalogue)
}

/// Whether the test hooks (`KIE_STUDIO_KEYRING_SERVICE`, `KIE_STUDIO_CRASH_AT`,
/// `KIE_STUDIO_E2E_PICK`, `KIE_STUDIO_E2E_EXPORT_DIR`) are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hooks {
    Read,
    Ignored,
}

impl Hooks {
    /// What this build does: only a build with the `test-hooks` feature (the tests' builds:
    /// `kie-cli`'s and `studio-server`'s tests, `scripts/test.sh`'s browser server,
    /// `scripts/e2e.sh`'s app) and the crate's own unit tests read them. What is packaged,
    /// and what `scripts/run.sh` builds, ignores them.
    pub const BUILT: Hooks = if cfg!(any(test, feature = "test-hooks")) { Hooks::Read } else { Hooks::Ignored };
}

impl SessionConfig {
    /// From the program's arguments (`--library DIR`, `--api-base URL`, `--upload-base URL`,
    /// also as `--name=value`; the program name first, as `std::env::args` gives it) and the
    /// environment. Arguments win over the environment. Unknown arguments are ignored. Test
    /// hooks are read as this build does ([`Hooks::BUILT`]).
    pub fn from_args_and_env(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<SessionConfig, StudioError> {
        SessionConfig::from_args_and_env_with(args, env, Hooks::BUILT)
    }

    /// [`SessionConfig::from_args_and_env`], reading the test hooks or not.
    pub fn from_args_and_env_with(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
        hooks: Hooks,
    ) -> Result<SessionConfig, StudioError> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let hook = |name: &str| match hooks {
            Hooks::Read => env(name),
            Hooks::Ignored => {
                if env(name).is_some() {
                    tracing::warn!("ignoring {name}: a test hook, and this build has none");
                }
                None
            }
        };
        let (mut library, mut api_base, mut upload_base) = (None, None, None);
        let mut it = args.into_iter().skip(1);
        while let Some(arg) = it.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (arg.clone(), None),
            };
            let slot = match name.as_str() {
                "--library" => &mut library,
                "--api-base" => &mut api_base,
                "--upload-base" => &mut upload_base,
                _ => {
                    // Only an option's name is echoed: a stray value could be anything, a key too.
                    let shown = if name.starts_with('-') { name.as_str() } else { "(a value)" };
                    tracing::warn!("ignoring the argument {shown}");
                    continue;
                }
            };
            match inline.or_else(|| it.next()) {
                Some(v) if !v.trim().is_empty() => *slot = Some(v),
                _ => {
                    return Err(StudioError::InvalidInput(vec![Problem::new(
                        name.trim_start_matches('-'),
                        "required",
                        format!("{name} needs a value."),
                    )]))
                }
            }
        }
        let (library, library_overridden) = match library {
            Some(dir) => (LibraryPaths::new(absolute(Path::new(&dir)))?, true),
            None => {
                let (paths, source) = crate::config::resolve_library(|k| env(k).map(OsString::from))?;
                (paths, source == RootSource::Env)
            }
        };
        let api_base = api_base.or_else(|| env(API_BASE_ENV)).map(|b| host_base("api-base", b)).transpose()?;
        let upload_base =
            upload_base.or_else(|| env(UPLOAD_BASE_ENV)).map(|b| host_base("upload-base", b)).transpose()?;
        let e2e_pick = hook(E2E_PICK_ENV).map(|v| {
            std::env::split_paths(&v)
                .map(|p| p.to_string_lossy().trim().to_string())
                .filter(|p| !p.is_empty())
                .map(|p| absolute(Path::new(&p)))
                .collect()
        });
        Ok(SessionConfig {
            library,
            library_overridden,
            api_base,
            upload_base,
            keyring_service: hook(KEYRING_SERVICE_ENV),
            poll_scale: env(POLL_SCALE_ENV).and_then(|s| s.trim().parse::<f64>().ok()).filter(|s| *s > 0.0),
            crash_at: hook(CRASH_AT_ENV).map(|s| s.trim().to_string()),
            submit_lease_ms: env(SUBMIT_LEASE_ENV).and_then(|s| s.trim().parse::<i64>().ok()).filter(|ms| *ms > 0),
            e2e_pick,
            e2e_export_dir: hook(E2E_EXPORT_DIR_ENV).map(|d| absolute(Path::new(d.trim()))),
            catalogue: Arc::new(load_catalogue(env(CATALOGUE_ENV).as_deref())?),
        })
    }

    /// The demo's own library, beside the real one: `<library>-demo` (by default
    /// `~/.local/share/kie-studio-demo`), so demo work never mixes with real work.
    pub fn demo_library(&self) -> LibraryPaths {
        let root = self.library.root();
        let mut name = root.file_name().map(OsString::from).unwrap_or_else(|| OsString::from("kie-studio"));
        name.push("-demo");
        LibraryPaths::new(root.with_file_name(name)).expect("a sibling of an absolute path is absolute")
    }

    /// The desktop app's single-instance name: one window per library (a second launch on
    /// the same library focuses the first). A D-Bus name, from the app's identifier and a
    /// digest of the library's path.
    pub fn instance_id(&self) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(self.library.root().to_string_lossy().as_bytes());
        let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        format!("{}.library_{hex}", crate::keys::SERVICE)
    }

    /// The app's keyring entry, or the one `KIE_STUDIO_KEYRING_SERVICE` names.
    pub fn key_store(&self) -> KeyStore {
        self.keyring_service.clone().map(KeyStore::with_service).unwrap_or_default()
    }

    /// The key in use, if any: `KIE_API_KEY` first, then the keyring.
    pub fn load_key(&self, env: impl Fn(&str) -> Option<String>) -> Result<Option<(ApiKey, KeySource)>, StudioError> {
        Ok(self.key_store().load(env)?)
    }

    /// What the window may know about the key. A keyring that cannot be read counts as no
    /// key (the welcome screen then asks for one, and saving says what is wrong).
    pub fn key_status(&self, env: impl Fn(&str) -> Option<String>) -> KeyStatus {
        self.key_store().status(env).unwrap_or_else(|e| {
            tracing::warn!("{e}");
            KeyStatus { set: false, source: None, last4: None }
        })
    }

    fn open_library(&self, paths: &LibraryPaths) -> Result<Db, StudioError> {
        paths.create_dirs().map_err(StudioError::io(format!("create the library at {}", paths.root().display())))?;
        Ok(Db::open(&paths.db(), SystemClock.now_ms())?)
    }

    /// The client for the real library: Kie's hosts from the command line or environment,
    /// else Kie's own (never from the library); Kie's limits shared with every other process
    /// on this library.
    fn client_config(&self, key: ApiKey) -> ClientConfig {
        let mut cfg = ClientConfig::new(key);
        if let Some(base) = &self.api_base {
            cfg.api_base = base.clone();
        }
        if let Some(base) = &self.upload_base {
            cfg.upload_base = base.clone();
        }
        let shared = LibraryLimits::new(self.library.root(), SharedLimitsConfig::from_client(&cfg.limits));
        cfg.shared_limits = Some(Arc::new(shared));
        cfg
    }

    /// The hosts the real library sends the key to, when either is not Kie's own.
    pub fn custom_hosts(&self) -> Option<Hosts> {
        let api_base = self.api_base.as_deref().unwrap_or(DEFAULT_API_BASE);
        let upload_base = self.upload_base.as_deref().unwrap_or(DEFAULT_UPLOAD_BASE);
        (api_base != DEFAULT_API_BASE || upload_base != DEFAULT_UPLOAD_BASE)
            .then(|| Hosts { api_base: api_base.to_string(), upload_base: upload_base.to_string() })
    }

    /// The library's database, with what older versions kept there about Kie's hosts
    /// removed (and said): they are not used, and an older copy of the app must not use them.
    fn open_real_library(&self) -> Result<Db, StudioError> {
        let db = self.open_library(&self.library)?;
        for (name, value) in settings::forget_hosts(&db)? {
            tracing::warn!(
                "this library named {value} as Kie's {name}; ignored and removed (Kie's hosts come \
                 only from --api-base/--upload-base or KIE_API_BASE/KIE_UPLOAD_BASE)"
            );
        }
        Ok(db)
    }

    fn studio_config(&self) -> StudioConfig {
        let mut studio = StudioConfig::default();
        if let Some(scale) = self.poll_scale {
            studio.poll = PollConfig::scaled(scale);
            studio.verify_delay_ms = (studio.verify_delay_ms as f64 * scale) as u64;
        }
        if let Some(ms) = self.submit_lease_ms {
            studio.submit_lease_ms = ms;
        }
        studio.crash_at = self.crash_at.clone();
        studio
    }
}

/// Which library a session works in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Real,
    Demo,
}

/// An open studio and its poller. Dropping it stops the poller (and the demo's simulator);
/// unfinished work is picked up again by the next session over the same library.
pub struct Session {
    studio: Studio,
    mode: Mode,
    runner: Option<JoinHandle<()>>,
    /// Set while the runner holds the library's lock (it polls and downloads).
    polling: Arc<AtomicBool>,
    /// Set when the check after opening found the database damaged (nothing was polled).
    damaged: Arc<AtomicBool>,
    media: Option<crate::media_server::MediaServer>,
    #[cfg(feature = "demo")]
    _sim: Option<kie_sim::Sim>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("mode", &self.mode).field("root", &self.root()).finish_non_exhaustive()
    }
}

impl Session {
    fn new(studio: Studio, mode: Mode) -> Session {
        Session {
            studio,
            mode,
            runner: None,
            polling: Arc::new(AtomicBool::new(false)),
            damaged: Arc::new(AtomicBool::new(false)),
            media: None,
            #[cfg(feature = "demo")]
            _sim: None,
        }
    }

    /// The real library with this key (from the environment or the keyring). Not started.
    pub fn open_real(cfg: &SessionConfig, key: ApiKey) -> Result<Session, StudioError> {
        let db = cfg.open_real_library()?;
        let client = KieClient::new(cfg.client_config(key))?;
        Ok(Session::over(cfg.library.clone(), db, client, cfg, cfg.studio_config(), Mode::Real))
    }

    fn over(
        paths: LibraryPaths,
        db: Db,
        client: KieClient,
        session: &SessionConfig,
        cfg: StudioConfig,
        mode: Mode,
    ) -> Session {
        let studio = Studio::new(db, paths, client, (*session.catalogue).clone(), Arc::new(SystemClock), cfg);
        Session::new(studio, mode)
    }

    /// The demo: a simulator on loopback (key [`DEMO_KEY`]), a library of its own beside the
    /// real one, quicker polling, and every task marked demo. Not started. Needs a Tokio
    /// runtime, which must outlive the session (the simulator is served on it).
    #[cfg(feature = "demo")]
    pub async fn open_demo(cfg: &SessionConfig) -> Result<Session, StudioError> {
        let sim = kie_sim::Sim::start(kie_sim::SimConfig {
            key: DEMO_KEY.into(),
            gen_ms: 8_000,
            invisible_ms: 1_000,
            initial_credits: 2_000.0,
            ..kie_sim::SimConfig::default()
        })
        .await
        .map_err(StudioError::io("start the demo's simulator"))?;
        let paths = cfg.demo_library();
        let db = cfg.open_library(&paths)?;
        let mut client_cfg = ClientConfig::new(ApiKey::new(DEMO_KEY).expect("non-empty"));
        client_cfg.api_base = sim.base_url();
        client_cfg.upload_base = sim.upload_base_url();
        let client = KieClient::new(client_cfg)?;
        let studio_cfg = StudioConfig { demo: true, poll: PollConfig::scaled(0.2), ..StudioConfig::default() };
        let mut session = Session::over(paths, db, client, cfg, studio_cfg, Mode::Demo);
        session._sim = Some(sim);
        Ok(session)
    }

    /// Check a key the user pasted (asking Kie for the balance), save it in the keyring, and
    /// open the real library with it. A key Kie refuses is not saved (`unauthorized`); when
    /// Kie cannot be asked, nothing is saved either and the error says why.
    pub async fn open_with_new_key(cfg: &SessionConfig, raw: &str) -> Result<(Session, KeyCheck), StudioError> {
        // Refused as entered, in plain words: empty, or a character no header can carry.
        let key = ApiKey::parse(raw).map_err(|problem| {
            let rule = match problem {
                kie::secret::KeyProblem::Empty => "required",
                kie::secret::KeyProblem::BadCharacter { .. } => "bad_format",
            };
            StudioError::InvalidInput(vec![Problem::new("key", rule, problem.to_string())])
        })?;
        let db = cfg.open_real_library()?;
        let client = KieClient::new(cfg.client_config(key.clone()))?;
        let credits = client.credits().await?;
        cfg.key_store().save(&key)?;
        let check = KeyCheck { last4: key.last4(), credits };
        Ok((Session::over(cfg.library.clone(), db, client, cfg, cfg.studio_config(), Mode::Real), check))
    }

    /// Start the poller on the current Tokio runtime: it recovers first, so everything a
    /// previous run left unfinished is polled and downloaded again. It first takes the
    /// library's lock ([`library_lock`]); while another process (`kie resume`, `kie generate
    /// --wait`) holds it, it waits and takes over when that one is done. Idempotent.
    pub fn start(&mut self) {
        if self.runner.is_some() {
            return;
        }
        match crate::media_server::MediaServer::start(self.root()) {
            Ok(m) => self.media = Some(m),
            // Posters still show; only playing videos in the window needs it.
            Err(e) => tracing::error!("could not start the local media server: {e}"),
        }
        let studio = self.studio.clone();
        let polling = self.polling.clone();
        let damaged = self.damaged.clone();
        self.runner = Some(tokio::spawn(async move {
            if !checked(&studio).await {
                damaged.store(true, Ordering::SeqCst);
                return;
            }
            // Held for as long as this task lives: aborting the runner frees the library.
            let _lock = take_library(&studio).await;
            polling.store(true, Ordering::SeqCst);
            // `run` only returns on a database error; try again after a pause rather than
            // stop polling for the rest of the session.
            let poll = async {
                while let Err(e) = studio.poller().run(Until::Forever).await {
                    tracing::error!("the poller stopped ({e}); restarting in 5 s");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            };
            // In the same task, so closing the library stops both.
            tokio::join!(poll, make_missing_thumbs(&studio));
        }));
    }

    /// Whether the check after opening found the library's database damaged.
    pub fn damaged(&self) -> bool {
        self.damaged.load(Ordering::SeqCst)
    }

    /// Whether this session polls and downloads its library: started, and holding the
    /// library's lock.
    pub fn polls(&self) -> bool {
        self.polling.load(Ordering::SeqCst)
    }

    pub fn studio(&self) -> &Studio {
        &self.studio
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn is_demo(&self) -> bool {
        self.mode == Mode::Demo
    }

    pub fn root(&self) -> &Path {
        self.studio.paths().root()
    }
}

/// The database checked page by page, after a pause (see `verify_delay_ms`) and off the
/// async workers. False (and `LibraryDamaged` told) when it is damaged: nothing may write to
/// it until the user chooses to repair. Any other failure of the check is said and passed
/// over: a busy or unreadable moment is not damage.
async fn checked(studio: &Studio) -> bool {
    tokio::time::sleep(Duration::from_millis(studio.config().verify_delay_ms)).await;
    let db = studio.db().clone();
    let verified = tokio::task::spawn_blocking(move || {
        let verified = db.verify();
        crate::memory::return_free_memory();
        verified
    });
    match verified.await {
        Ok(Err(e @ crate::db::DbError::Corrupt { .. })) => {
            tracing::error!("{e}");
            studio.emit(crate::events::StudioEvent::LibraryDamaged { message: e.to_string() });
            false
        }
        Ok(Err(e)) => {
            tracing::warn!("could not check the library database: {e}");
            true
        }
        Ok(Ok(())) | Err(_) => true,
    }
}

/// Tile-sized thumbnails for results that have a poster but none yet (a library from an
/// earlier version, a thumb that could not be made when its poster landed), newest first, a
/// small batch at a time with a pause between, so the window stays quick while it runs.
async fn make_missing_thumbs(studio: &Studio) {
    loop {
        let s = studio.clone();
        match tokio::task::spawn_blocking(move || crate::thumbs::backfill(s.db(), s.paths(), 16)).await {
            Ok(Ok(0)) | Err(_) => return,
            Ok(Ok(_)) => tokio::time::sleep(Duration::from_millis(20)).await,
            Ok(Err(e)) => {
                tracing::warn!("thumbnails are not being made: {e}");
                return;
            }
        }
    }
}

/// The library's lock, once it is free: tried at once, then again after 20 ms doubling to
/// four scheduler ticks (1 s). Another session of this process frees it within moments (its
/// runner is aborting); another process, when it is done. `None`: locks do not work there
/// (said once), so this session polls as before.
async fn take_library(studio: &Studio) -> Option<PollerLock> {
    let root = studio.paths().root().to_path_buf();
    let longest = Duration::from_millis(studio.config().poll.tick_ms.saturating_mul(4).max(20));
    let mut pause = Duration::from_millis(20).min(longest);
    let mut said = false;
    loop {
        match PollerLock::try_acquire(&root, library_lock::APP) {
            Ok(Ok(lock)) => {
                if said {
                    tracing::info!("polling and downloading {} again", root.display());
                }
                return Some(lock);
            }
            Ok(Err(busy)) => {
                if !said && !busy.is_this_process() {
                    tracing::info!(
                        "{} is polling and downloading {}; Kie Studio takes over when it is done",
                        busy.who(),
                        root.display()
                    );
                    said = true;
                }
            }
            Err(e) => {
                tracing::warn!("cannot lock {} ({e}); polling without the lock", root.display());
                return None;
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(longest);
    }
}

/// `--api-base` / `--upload-base`: an http(s) address, kept without a trailing `/`.
fn host_base(name: &str, value: String) -> Result<String, StudioError> {
    let v = value.trim();
    if !(v.starts_with("http://") || v.starts_with("https://")) || v.contains(char::is_whitespace) {
        return Err(StudioError::InvalidInput(vec![Problem::new(
            name,
            "bad_format",
            format!("--{name} must be an http:// or https:// address, not {v:?}."),
        )]));
    }
    Ok(v.trim_end_matches('/').to_string())
}

/// What the window needs to know, with `open` open (or none: the welcome screen).
pub fn app_info(cfg: &SessionConfig, open: Option<&Session>, key: KeyStatus) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        ready: open.is_some(),
        demo: open.is_some_and(Session::is_demo),
        library_path: open.map_or(cfg.library.root(), Session::root).display().to_string(),
        // Set by `App::get_app_info`, which knows the environment.
        log_dir: None,
        media_base: open.and_then(|s| s.media.as_ref()).map(|m| m.base().to_string()),
        key,
        hosts: if open.is_some_and(Session::is_demo) { None } else { cfg.custom_hosts() },
        library_problem: None,
        rules: crate::payloads::Rules::current(),
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Some(runner) = self.runner.take() {
            runner.abort();
        }
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    fn args(list: &[&str]) -> Vec<String> {
        std::iter::once("kie-studio").chain(list.iter().copied()).map(String::from).collect()
    }

    #[test]
    fn arguments_win_over_the_environment() {
        let e = env(&[
            ("HOME", "/home/ann"),
            (crate::paths::LIBRARY_ENV, "/env/lib"),
            (API_BASE_ENV, "http://env-api"),
            (UPLOAD_BASE_ENV, "http://env-up"),
            (KEYRING_SERVICE_ENV, "svc.test"),
            (POLL_SCALE_ENV, "0.05"),
            (CRASH_AT_ENV, "after_id"),
            (SUBMIT_LEASE_ENV, "200"),
        ]);
        let cfg = SessionConfig::from_args_and_env(
            args(&["--library", "/arg/lib", "--api-base=http://arg-api", "--something-else"]),
            &e,
        )
        .unwrap();
        assert_eq!(cfg.library.root(), Path::new("/arg/lib"));
        assert!(cfg.library_overridden);
        assert_eq!(cfg.api_base.as_deref(), Some("http://arg-api"));
        assert_eq!(cfg.upload_base.as_deref(), Some("http://env-up"));
        assert_eq!(cfg.keyring_service.as_deref(), Some("svc.test"));
        assert_eq!(cfg.poll_scale, Some(0.05));
        assert_eq!(cfg.e2e_pick, None);
        let studio = cfg.studio_config();
        assert_eq!((studio.crash_at.as_deref(), studio.submit_lease_ms), (Some("after_id"), 200));

        let cfg = SessionConfig::from_args_and_env(args(&[]), &e).unwrap();
        assert_eq!((cfg.library.root(), cfg.library_overridden), (Path::new("/env/lib"), true));
        assert_eq!(cfg.api_base.as_deref(), Some("http://env-api"));
    }

    #[test]
    #[cfg(not(any(target_os = "macos", target_os = "windows")))]
    fn defaults_and_the_demo_library_beside_the_real_one() {
        let cfg = SessionConfig::from_args_and_env(args(&[]), env(&[("HOME", "/home/ann")])).unwrap();
        assert_eq!(cfg.library.root(), Path::new("/home/ann/.local/share/kie-studio"));
        assert!(!cfg.library_overridden);
        assert_eq!(cfg.demo_library().root(), Path::new("/home/ann/.local/share/kie-studio-demo"));
        assert_eq!((cfg.api_base, cfg.poll_scale), (None, None));

        let cfg = SessionConfig::from_args_and_env(args(&["--library", "/tmp/x/lib/"]), env(&[])).unwrap();
        assert_eq!(cfg.demo_library().root(), Path::new("/tmp/x/lib-demo"));
    }

    /// A build without the `test-hooks` feature (what is packaged and what `run.sh` builds)
    /// ignores the test hooks: another keyring entry, crash points, files the picker would
    /// return, an export folder.
    #[test]
    fn test_hooks_are_read_only_by_test_builds() {
        let e = env(&[
            ("HOME", "/h"),
            (KEYRING_SERVICE_ENV, "svc.other"),
            (CRASH_AT_ENV, "after_id"),
            (E2E_PICK_ENV, "/a/one.png"),
            (E2E_EXPORT_DIR_ENV, "/tmp/out"),
            (POLL_SCALE_ENV, "0.5"),
        ]);
        let cfg = SessionConfig::from_args_and_env_with(args(&[]), &e, Hooks::Ignored).unwrap();
        assert_eq!((cfg.keyring_service, cfg.crash_at, cfg.e2e_pick, cfg.e2e_export_dir), (None, None, None, None));
        assert_eq!(cfg.poll_scale, Some(0.5), "not a test hook");
        let cfg = SessionConfig::from_args_and_env_with(args(&[]), &e, Hooks::Read).unwrap();
        assert_eq!((cfg.keyring_service.as_deref(), cfg.crash_at.as_deref()), (Some("svc.other"), Some("after_id")));
        assert_eq!(cfg.e2e_export_dir, Some(PathBuf::from("/tmp/out")));
        assert_eq!(Hooks::BUILT, if cfg!(any(test, feature = "test-hooks")) { Hooks::Read } else { Hooks::Ignored });
    }

    #[test]
    fn bad_arguments_and_hooks() {
        let err = SessionConfig::from_args_and_env(args(&["--library"]), env(&[("HOME", "/h")])).unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        let e = env(&[("HOME", "/h"), (E2E_PICK_ENV, "/a/one.png::/b/two.jpg"), (POLL_SCALE_ENV, "fast")]);
        let cfg = SessionConfig::from_args_and_env(args(&[]), e).unwrap();
        assert_eq!(cfg.e2e_pick, Some(vec![PathBuf::from("/a/one.png"), PathBuf::from("/b/two.jpg")]));
        assert_eq!(cfg.e2e_export_dir, None);
        assert_eq!(cfg.poll_scale, None);
        let cfg = SessionConfig::from_args_and_env(args(&["--library", "rel"]), env(&[])).unwrap();
        assert!(cfg.library.root().is_absolute());
    }

    /// Issue 10: the window says where the key goes when that is not Kie's own hosts, and
    /// which key is in use (its source and last four).
    #[test]
    fn app_info_names_hosts_that_are_not_kies_own_and_the_key_in_use() {
        let key = KeyStatus { set: true, source: Some(KeySource::Environment), last4: Some("1234".into()) };
        let cfg = SessionConfig::from_args_and_env(args(&["--library", "/l"]), env(&[])).unwrap();
        let info = app_info(&cfg, None, key.clone());
        assert_eq!((info.hosts, info.key.clone()), (None, key.clone()));
        let cfg = SessionConfig::from_args_and_env(
            args(&["--library", "/l", "--api-base", "https://api.kie.ai/"]),
            env(&[(UPLOAD_BASE_ENV, "http://127.0.0.1:5/")]),
        )
        .unwrap();
        let info = app_info(&cfg, None, key);
        let hosts = Hosts { api_base: DEFAULT_API_BASE.into(), upload_base: "http://127.0.0.1:5".into() };
        assert_eq!(info.hosts, Some(hosts));
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["hosts"]["upload_base"], "http://127.0.0.1:5");
        assert_eq!(
            (json["key"]["source"].as_str(), json["key"]["last4"].as_str()),
            (Some("environment"), Some("1234"))
        );

        for bad in ["ftp://x", "api.kie.ai", "http://a b"] {
            let err =
                SessionConfig::from_args_and_env(args(&["--library", "/l", "--api-base", bad]), env(&[])).unwrap_err();
            assert_eq!(err.code(), "invalid_input", "{bad}");
        }
    }

    /// One window per library: a D-Bus name of its own per library folder.
    #[test]
    fn the_single_instance_name_is_per_library() {
        let id =
            |lib: &str| SessionConfig::from_args_and_env(args(&["--library", lib]), env(&[])).unwrap().instance_id();
        assert_eq!(id("/a/lib"), id("/a/lib"));
        assert_ne!(id("/a/lib"), id("/b/lib"));
        let name = id("/a/lib");
        assert!(name.starts_with("ai.kie.studio.library_") && name.len() < 255, "{name}");
        assert!(name.split('.').all(|e| !e.is_empty() && !e.starts_with(|c: char| c.is_ascii_digit())), "{name}");
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_'), "{name}");
    }

    /// Issue 10: a library handed over with hosts in its settings table: the key goes to
    /// Kie's own hosts (or those given by flag or environment), and the rows are removed.
    #[tokio::test]
    async fn a_library_never_chooses_where_the_key_goes() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("lib");
        std::fs::create_dir_all(&lib).unwrap();
        let db = Db::open(&lib.join("library.db"), SystemClock.now_ms()).unwrap();
        db.with(|c| {
            c.execute("INSERT INTO settings (key, value) VALUES ('api_base', 'http://127.0.0.1:9')", [])?;
            c.execute("INSERT INTO settings (key, value) VALUES ('upload_base', 'http://127.0.0.1:9')", [])?;
            Ok(())
        })
        .unwrap();
        drop(db);
        let cfg = SessionConfig::from_args_and_env(args(&["--library", lib.to_str().unwrap()]), env(&[])).unwrap();
        let session = Session::open_real(&cfg, ApiKey::new("k-1234").unwrap()).unwrap();
        let client = session.studio().client().config();
        assert_eq!((client.api_base.as_str(), client.upload_base.as_str()), (DEFAULT_API_BASE, DEFAULT_UPLOAD_BASE));
        assert_eq!(settings::forget_hosts(session.studio().db()).unwrap(), []);
        drop(session);

        let cfg = SessionConfig::from_args_and_env(
            args(&["--library", lib.to_str().unwrap(), "--api-base", "http://127.0.0.1:7"]),
            env(&[]),
        )
        .unwrap();
        let session = Session::open_real(&cfg, ApiKey::new("k-1234").unwrap()).unwrap();
        assert_eq!(session.studio().client().config().api_base, "http://127.0.0.1:7");
    }

    /// Issue 10: two sessions on one library (two windows, or the app and its browser
    /// server): only one polls; the other takes over when the first closes.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_sessions_on_one_library_take_turns_to_poll() {
        let sim = kie_sim::Sim::start(kie_sim::SimConfig { key: "good-key-1234".into(), ..Default::default() })
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cfg = test_config(&dir.path().join("lib"), &sim);
        let key = || ApiKey::new("good-key-1234").unwrap();
        let until = |what: &str, s: &Session| {
            let (what, deadline) = (what.to_string(), std::time::Instant::now() + Duration::from_secs(10));
            let polls = s.polling.clone();
            async move {
                while !polls.load(Ordering::SeqCst) {
                    assert!(std::time::Instant::now() < deadline, "{what}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        };
        let mut first = Session::open_real(&cfg, key()).unwrap();
        first.start();
        until("the first session polls", &first).await;
        let mut second = Session::open_real(&cfg, key()).unwrap();
        second.start();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(first.polls() && !second.polls(), "two pollers on one library");
        drop(first);
        until("the second session takes over", &second).await;
        sim.shutdown().await;
    }

    fn test_config(root: &Path, sim: &kie_sim::Sim) -> SessionConfig {
        SessionConfig {
            library: LibraryPaths::new(root.to_path_buf()).unwrap(),
            library_overridden: true,
            api_base: Some(sim.base_url()),
            upload_base: Some(sim.upload_base_url()),
            keyring_service: Some(format!("ai.kie.studio.test-session-{}", std::process::id())),
            poll_scale: Some(0.01),
            crash_at: None,
            submit_lease_ms: None,
            e2e_pick: None,
            e2e_export_dir: None,
            catalogue: Arc::new(Catalogue::builtin().clone()),
        }
    }

    #[tokio::test]
    async fn a_rejected_key_is_not_saved_and_opens_nothing() {
        let sim = kie_sim::Sim::start(kie_sim::SimConfig { key: "good-key-1234".into(), ..Default::default() })
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cfg = test_config(&dir.path().join("lib"), &sim);
        let err = Session::open_with_new_key(&cfg, "wrong-key").await.unwrap_err();
        assert_eq!(err.code(), "unauthorized");
        let err = Session::open_with_new_key(&cfg, "   ").await.unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        sim.shutdown().await;
    }

    /// Saving touches the keyring: needs the private Secret Service of scripts/with-keyring.sh.
    #[tokio::test]
    async fn an_accepted_key_is_saved_and_opens_the_real_library() {
        if std::env::var_os("KIE_TEST_SECRET_SERVICE").is_none() {
            eprintln!("skipped: no private Secret Service (run under scripts/with-keyring.sh)");
            return;
        }
        let sim = kie_sim::Sim::start(kie_sim::SimConfig { key: "good-key-1234".into(), ..Default::default() })
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cfg = test_config(&dir.path().join("lib"), &sim);
        let (mut session, check) = Session::open_with_new_key(&cfg, " good-key-1234\n").await.unwrap();
        assert_eq!(check.last4, "1234");
        assert_eq!(check.credits, 10_000.0);
        assert_eq!(session.mode(), Mode::Real);
        assert_eq!(session.root(), dir.path().join("lib"));
        let none = |_: &str| None;
        let info = app_info(&cfg, Some(&session), cfg.key_status(none));
        assert!(info.ready && !info.demo);
        assert_eq!(info.key.last4.as_deref(), Some("1234"));
        session.start();
        let (key, source) = cfg.load_key(none).unwrap().unwrap();
        assert_eq!((key.expose(), source), ("good-key-1234", KeySource::Keyring));
        cfg.key_store().delete().unwrap();
        drop(session);
        sim.shutdown().await;
    }

    #[tokio::test]
    async fn a_real_session_resumes_unfinished_work_when_started() {
        let sim = kie_sim::Sim::start(kie_sim::SimConfig {
            key: "good-key-1234".into(),
            gen_ms: 100,
            invisible_ms: 20,
            ..Default::default()
        })
        .await
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cfg = test_config(&dir.path().join("lib"), &sim);
        let key = || ApiKey::new("good-key-1234").unwrap();
        // Submit in one session that never polls, as an app closed right after submitting.
        let first = Session::open_real(&cfg, key()).unwrap();
        let mut input = serde_json::Map::new();
        input.insert("prompt".into(), "a paper boat on a pond".into());
        let task = first.studio().journal().submit("sora-2-text-to-video", &input).await.unwrap();
        assert!(!task.demo);
        drop(first);
        // The next session picks it up and brings the video in.
        let mut second = Session::open_real(&cfg, key()).unwrap();
        let mut events = second.studio().subscribe();
        second.start();
        let done = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if let Ok(crate::events::StudioEvent::TaskChanged { task: t }) = events.recv().await {
                    if t.id == task.id && t.downloads_done {
                        return t;
                    }
                }
            }
        })
        .await
        .expect("the second session finishes the task");
        assert_eq!(done.status, crate::tasks::TaskStatus::Succeeded);
        drop(second);
        sim.shutdown().await;
    }

    #[cfg(feature = "demo")]
    #[tokio::test]
    async fn the_demo_runs_apart_from_the_real_library() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SessionConfig::from_args_and_env(
            args(&["--library", dir.path().join("lib").to_str().unwrap()]),
            env(&[(KEYRING_SERVICE_ENV, "ai.kie.studio.test-none")]),
        )
        .unwrap();
        let mut demo = Session::open_demo(&cfg).await.unwrap();
        demo.start();
        assert!(demo.is_demo());
        assert_eq!(demo.root(), dir.path().join("lib-demo"));
        assert_eq!(demo.studio().client().credits().await.unwrap(), 2_000.0);
        let mut input = serde_json::Map::new();
        input.insert("prompt".into(), "a lighthouse at dusk".into());
        let task = demo.studio().journal().submit("sora-2-text-to-video", &input).await.unwrap();
        assert!(task.demo);
        assert!(!dir.path().join("lib").exists(), "the real library is not touched");
        // The demo's simulator is no host to warn about.
        let mut cfg = cfg.clone();
        cfg.api_base = Some(demo.studio().client().config().api_base.clone());
        assert!(cfg.custom_hosts().is_some());
        let none = |_: &str| None;
        assert_eq!(app_info(&cfg, Some(&demo), cfg.key_status(none)).hosts, None);
    }
}
