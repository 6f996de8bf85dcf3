//! Shared helpers for the `kie` binary's tests (the simulator's settings and a file walk),
//! as in the studio crate's own tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use kie_sim::SimConfig;

pub const KEY: &str = "studio-test-key-4242";

pub fn sim_config() -> SimConfig {
    SimConfig { key: KEY.into(), gen_ms: 120, invisible_ms: 40, ..SimConfig::default() }
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    studio::paths::files_under(dir)
}

/// The `kie` binary on `lib`, against `sim`, with the key from the environment and polling
/// scaled down for tests.
pub fn kie_command(sim: &kie_sim::Sim, lib: &Path) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_kie"));
    c.env("KIE_API_KEY", KEY)
        .env("KIE_API_BASE", sim.base_url())
        .env("KIE_UPLOAD_BASE", sim.upload_base_url())
        .env("KIE_STUDIO_LIBRARY", lib)
        .env("KIE_STUDIO_POLL_SCALE", "0.01")
        .env("KIE_STUDIO_KEYRING_SERVICE", "ai.kie.studio.cli-tests")
        .env_remove("KIE_STUDIO_CATALOGUE")
        .env_remove("KIE_STUDIO_CRASH_AT")
        .kill_on_drop(true);
    c
}
