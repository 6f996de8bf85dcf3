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
