//! Shared helpers for the studio tests: a simulator, a library in a temp folder, a studio.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kie::catalogue::Catalogue;
use kie::client::ClientConfig;
use kie::limits::LimitsConfig;
use kie::retry::RetryPolicy;
use kie::{ApiKey, KieClient};
use kie_sim::{Sim, SimConfig};
use studio::clock::{Clock, SystemClock};
use studio::paths::LibraryPaths;
use studio::{Db, PollConfig, Studio, StudioConfig};

pub const KEY: &str = "studio-test-key-4242";

pub fn sim_config() -> SimConfig {
    SimConfig { key: KEY.into(), gen_ms: 120, invisible_ms: 40, ..SimConfig::default() }
}

pub fn client_config(sim: &Sim) -> ClientConfig {
    let mut cfg = ClientConfig::new(ApiKey::new(KEY).unwrap());
    cfg.api_base = sim.base_url();
    cfg.upload_base = sim.upload_base_url();
    cfg.request_timeout = Duration::from_millis(1500);
    cfg.transfer_idle_timeout = Duration::from_millis(1500);
    cfg.retry = RetryPolicy {
        max_attempts: 4,
        base: Duration::from_millis(10),
        cap: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(2),
    };
    cfg.limits = LimitsConfig { min_spacing: Duration::ZERO, ..LimitsConfig::default() };
    cfg
}

pub fn studio_config() -> StudioConfig {
    StudioConfig { poll: PollConfig::scaled(0.01), submit_lease_ms: 300, ..StudioConfig::default() }
}

pub fn open_studio(sim: &Sim, root: &Path) -> Studio {
    open_studio_with(sim, root, studio_config())
}

pub fn open_studio_with(sim: &Sim, root: &Path, cfg: StudioConfig) -> Studio {
    let paths = LibraryPaths::new(root.to_path_buf()).unwrap();
    paths.create_dirs().unwrap();
    let db = Db::open(&paths.db(), SystemClock.now_ms()).unwrap();
    let client = KieClient::new(client_config(sim)).unwrap();
    Studio::new(db, paths, client, Catalogue::builtin().clone(), Arc::new(SystemClock), cfg)
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    studio::paths::files_under(dir)
}
