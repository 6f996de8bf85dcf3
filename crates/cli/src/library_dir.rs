//! `kie library`: which folder the library is in, a per-user setting shared with the app
//! (`~/.config/kie-studio/config.json`). Only the settings file is touched here.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde_json::json;
use studio::config::{self, UserConfig};
use studio::paths::{LibraryPaths, RootSource};
use studio::StudioError;

use crate::exit;
use crate::output::Out;

pub fn run(out: &Out, dir: Option<&Path>, to_default: bool) -> Result<i32, StudioError> {
    let file = config::config_file(env_os)
        .ok_or_else(|| StudioError::Refused("No home folder: cannot keep settings.".into()))?;
    if dir.is_some() || to_default {
        let mut cfg = UserConfig::load(&file)?;
        cfg.library_path = dir.map(absolute);
        if let Some(d) = &cfg.library_path {
            // Refuse a folder that cannot hold a library before writing it down.
            let lib = LibraryPaths::new(d.clone())?;
            lib.create_dirs().map_err(StudioError::io(format!("create the library at {}", d.display())))?;
        }
        cfg.save(&file)?;
    }
    let (lib, source) = config::resolve_library(env_os)?;
    let why = match source {
        RootSource::Env => "from KIE_STUDIO_LIBRARY",
        RootSource::Setting => "chosen with `kie library`",
        RootSource::Default => "the default",
    };
    let v = json!({"library": lib.root(), "source": format!("{source:?}").to_lowercase(), "config": file});
    out.print(&v, || format!("Library: {} ({why})", lib.root().display()));
    Ok(exit::OK)
}

fn env_os(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf())
    }
}
