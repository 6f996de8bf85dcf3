//! The user's own settings that must be known before any library is opened: which library
//! folder to use. A small JSON file in the per-user config folder
//! (`$XDG_CONFIG_HOME/kie-studio/config.json`, else `~/.config/kie-studio/config.json`),
//! shared by the app and the CLI. Settings that belong to a library live in its database.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::StudioError;
use crate::paths::{self, LibraryPaths, PathError, RootSource};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserConfig {
    /// The library folder to use instead of the default (the environment still wins).
    pub library_path: Option<PathBuf>,
}

/// Where the config file is, from the environment (passed in).
pub fn config_file(env: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    // The platform's own folder on macOS and Windows (which has no `HOME` as a rule); XDG's
    // elsewhere, as `paths::default_root` does.
    if cfg!(any(target_os = "macos", target_os = "windows")) {
        return dirs::config_dir().map(|d| d.join(paths::APP_DIR).join("config.json"));
    }
    let base = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join(paths::APP_DIR).join("config.json"))
}

impl UserConfig {
    /// The config, or the defaults when there is no file. A file that cannot be read is an
    /// error the user sees, rather than silently opening another library.
    pub fn load(file: &Path) -> Result<UserConfig, StudioError> {
        match std::fs::read_to_string(file) {
            Ok(text) => serde_json::from_str(&text)
                .map_err(|e| StudioError::Refused(format!("{} is not valid: {e}. Fix or delete it.", file.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(UserConfig::default()),
            Err(e) => Err(StudioError::Io { context: format!("read {}", file.display()), source: e }),
        }
    }

    /// Written whole to a temporary file, then renamed over the old one.
    pub fn save(&self, file: &Path) -> Result<(), StudioError> {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(StudioError::io(format!("create {}", dir.display())))?;
        }
        let tmp = file.with_extension("json.partial");
        let text = serde_json::to_string_pretty(self).map_err(crate::db::StoreError::from)?;
        std::fs::write(&tmp, text).map_err(StudioError::io(format!("write {}", tmp.display())))?;
        std::fs::rename(&tmp, file).map_err(StudioError::io(format!("replace {}", file.display())))?;
        Ok(())
    }
}

/// The library to open when no `--library` was given: `KIE_STUDIO_LIBRARY`, else the config
/// file's `library_path`, else the per-user data folder.
pub fn resolve_library(env: impl Fn(&str) -> Option<OsString>) -> Result<(LibraryPaths, RootSource), StudioError> {
    let setting = match config_file(&env) {
        Some(file) => UserConfig::load(&file)?.library_path,
        None => None,
    };
    paths::resolve_root(&env, setting.as_deref()).map_err(|e: PathError| e.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<OsString> {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| OsString::from(v))
    }

    #[test]
    fn environment_then_config_then_default() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().display().to_string();
        let file = config_file(env_of(vec![("HOME", home.clone())])).unwrap();
        assert_eq!(file, dir.path().join(".config/kie-studio/config.json"));

        // No file: the default data folder.
        let (lib, src) = resolve_library(env_of(vec![("HOME", home.clone())])).unwrap();
        assert_eq!((lib.root().to_path_buf(), src), (dir.path().join(".local/share/kie-studio"), RootSource::Default));

        // The setting.
        let chosen = dir.path().join("Videos/Kie");
        UserConfig { library_path: Some(chosen.clone()) }.save(&file).unwrap();
        let (lib, src) = resolve_library(env_of(vec![("HOME", home.clone())])).unwrap();
        assert_eq!((lib.root().to_path_buf(), src), (chosen, RootSource::Setting));

        // The environment wins.
        let (lib, src) =
            resolve_library(env_of(vec![("HOME", home.clone()), ("KIE_STUDIO_LIBRARY", "/elsewhere".into())])).unwrap();
        assert_eq!((lib.root().to_path_buf(), src), (PathBuf::from("/elsewhere"), RootSource::Env));

        // XDG_CONFIG_HOME moves the file.
        let xdg = dir.path().join("xdg");
        assert_eq!(
            config_file(env_of(vec![("HOME", home.clone()), ("XDG_CONFIG_HOME", xdg.display().to_string())])),
            Some(xdg.join("kie-studio/config.json"))
        );
    }

    #[test]
    fn a_broken_file_is_reported_not_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        std::fs::write(&file, "{ not json").unwrap();
        let err = UserConfig::load(&file).unwrap_err();
        assert!(err.to_string().contains("not valid"), "{err}");
        // A relative library path in the file is refused too.
        UserConfig { library_path: Some(PathBuf::from("relative/dir")) }.save(&file).unwrap();
        let cfg = UserConfig::load(&file).unwrap();
        assert!(paths::resolve_root(|_| None, cfg.library_path.as_deref()).is_err());
    }
}
