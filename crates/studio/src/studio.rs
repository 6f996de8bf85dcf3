//! [`Studio`]: the engine of one open library. It holds what its services share (the
//! database, the folder, Kie's client, the catalogue, the clock, the config, the event
//! stream, the scheduler's wake-up and busy set) and hands out the services, each a type in
//! a file of its own:
//!
//! - [`Journal`] (`journal.rs`): submit with the journal written first, recover what a crash
//!   left behind, and the user's deliberate actions (cancel, check again, attach a Kie id,
//!   resubmit);
//! - [`Poller`] (`poller.rs`): the one scheduler, polling every running task;
//! - [`Downloader`] (`downloader.rs`): a finished task's results, fetched, verified and
//!   renamed into the library (and, on request, a Veo video's 1080p copy);
//! - [`Uploads`] (`uploads.rs`): the user's input images, kept and uploaded to Kie.
//!
//! A service is a `Copy` view over the studio, and its methods take it by value, so a call's
//! future borrows only the studio (`studio.journal().submit(..)` can be kept and awaited
//! later). Only `Studio` itself is cloned (cheaply) when work moves to another task.

use std::sync::Arc;

use kie::catalogue::{Catalogue, Protocol};
use kie::KieClient;
use tokio::sync::{broadcast, Notify};

use crate::clock::Clock;
use crate::db::Db;
use crate::downloader::Downloader;
use crate::error::StudioError;
use crate::events::StudioEvent;
use crate::journal::Journal;
use crate::paths::LibraryPaths;
use crate::poller::{BusySet, Poller};
use crate::studio_config::StudioConfig;
use crate::tasks::Task;
use crate::uploads::Uploads;

/// The engine of one library. Cheap to clone.
#[derive(Clone)]
pub struct Studio {
    shared: Arc<Shared>,
}

/// What every service of one library works with.
struct Shared {
    db: Db,
    paths: LibraryPaths,
    client: KieClient,
    catalogue: Catalogue,
    clock: Arc<dyn Clock>,
    cfg: StudioConfig,
    events: broadcast::Sender<StudioEvent>,
    /// Wakes the scheduler: a task was submitted, or the user asked to check again.
    wake: Notify,
    /// Tasks with a poll or download under way, so none runs twice.
    busy: BusySet,
    /// Tasks whose HD copy is being fetched, so it is not fetched twice at once.
    hd_busy: BusySet,
}

impl Studio {
    pub fn new(
        db: Db,
        paths: LibraryPaths,
        client: KieClient,
        catalogue: Catalogue,
        clock: Arc<dyn Clock>,
        cfg: StudioConfig,
    ) -> Studio {
        let (events, _) = broadcast::channel(1024);
        Studio {
            shared: Arc::new(Shared {
                db,
                paths,
                client,
                catalogue,
                clock,
                cfg,
                events,
                wake: Notify::new(),
                busy: BusySet::default(),
                hd_busy: BusySet::default(),
            }),
        }
    }

    // ---- the services ----

    /// Submitting, recovering, and the user's actions on tasks.
    pub fn journal(&self) -> Journal<'_> {
        Journal::new(self)
    }

    /// The scheduler that polls every running task.
    pub fn poller(&self) -> Poller<'_> {
        Poller::new(self)
    }

    /// Results into the library.
    pub fn downloader(&self) -> Downloader<'_> {
        Downloader::new(self)
    }

    /// Input images out to Kie.
    pub fn uploads(&self) -> Uploads<'_> {
        Uploads::new(self)
    }

    /// Many creates from one form, sent in order within a cap.
    pub fn batches(&self) -> crate::batches::Batches<'_> {
        crate::batches::Batches::new(self)
    }

    // ---- the shared context ----

    pub fn db(&self) -> &Db {
        &self.shared.db
    }

    pub fn paths(&self) -> &LibraryPaths {
        &self.shared.paths
    }

    pub fn client(&self) -> &KieClient {
        &self.shared.client
    }

    pub fn catalogue(&self) -> &Catalogue {
        &self.shared.catalogue
    }

    /// How a model's tasks are created and queried: its catalogue entry's protocol, or the
    /// jobs API for a model no longer in the catalogue.
    pub fn protocol_of(&self, model: &str) -> Protocol {
        self.shared.catalogue.model(model).map(|m| m.protocol).unwrap_or_default()
    }

    pub fn config(&self) -> &StudioConfig {
        &self.shared.cfg
    }

    pub fn now_ms(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<StudioEvent> {
        self.shared.events.subscribe()
    }

    pub(crate) fn emit(&self, event: StudioEvent) {
        // No subscriber is fine: the database is the source of truth.
        let _ = self.shared.events.send(event);
    }

    pub(crate) fn emit_task(&self, task: &Task) {
        self.emit(StudioEvent::TaskChanged { task: task.clone() });
    }

    /// Wakes the scheduler (it is also woken by its own tick).
    pub(crate) fn wake(&self) -> &Notify {
        &self.shared.wake
    }

    pub(crate) fn busy(&self) -> &BusySet {
        &self.shared.busy
    }

    pub(crate) fn hd_busy(&self) -> &BusySet {
        &self.shared.hd_busy
    }

    /// Test hook: die here, as `kill -9` would, if told to.
    pub(crate) fn crash_point(&self, step: &str) {
        if self.shared.cfg.crash_at.as_deref() == Some(step) {
            tracing::warn!("crash point {step}: aborting");
            std::process::abort();
        }
    }
}

/// Runs blocking file work (hashing, copying, syncing, renaming) on Tokio's blocking pool,
/// never on an async worker. `what` names the work for the error if the job dies.
pub(crate) async fn blocking<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> Result<T, StudioError> + Send + 'static,
) -> Result<T, StudioError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| StudioError::Internal(format!("{what} was interrupted: {e}")))?
}
