//! The few settings kept in the library database, each typed and checked.
//!
//! The API key is deliberately not one of them: it lives in the OS keyring, never in a file
//! that may be synced, backed up or attached to a bug report. There is no way to store an
//! arbitrary key here, so it cannot slip in by accident.

use std::path::{Path, PathBuf};

use rusqlite::OptionalExtension;

use crate::db::{Db, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// An absolute path to the library folder (see `paths::resolve_root` for precedence).
    LibraryPath,
    /// Overrides Kie's API base (`https://api.kie.ai`), e.g. for the local simulator.
    ApiBase,
    /// Overrides Kie's upload base.
    UploadBase,
    /// The model last submitted, preselected in the form.
    LastModel,
}

impl Setting {
    pub const ALL: [Setting; 4] = [Setting::LibraryPath, Setting::ApiBase, Setting::UploadBase, Setting::LastModel];

    /// The row's key; stable, as it is stored.
    pub fn key(self) -> &'static str {
        match self {
            Setting::LibraryPath => "library_path",
            Setting::ApiBase => "api_base",
            Setting::UploadBase => "upload_base",
            Setting::LastModel => "last_model",
        }
    }

    pub fn parse(key: &str) -> Option<Setting> {
        Setting::ALL.into_iter().find(|s| s.key() == key)
    }

    /// Refuse values the app could not use, so a bad one is caught when set, not at startup.
    fn check(self, value: &str) -> Result<(), StoreError> {
        let bad = |why: &str| Err(StoreError::InvalidInput(format!("{}: {why}, not {value:?}", self.key())));
        match self {
            Setting::LibraryPath if !Path::new(value).is_absolute() => bad("must be an absolute path"),
            Setting::ApiBase | Setting::UploadBase
                if !(value.starts_with("http://") || value.starts_with("https://"))
                    || value.contains(char::is_whitespace) =>
            {
                bad("must be an http:// or https:// address")
            }
            _ => Ok(()),
        }
    }
}

/// The stored value, if any.
pub fn get(db: &Db, setting: Setting) -> Result<Option<String>, StoreError> {
    db.with(|c| {
        Ok(c.query_row("SELECT value FROM settings WHERE key = ?1", [setting.key()], |r| r.get(0)).optional()?)
    })
}

/// Set (trimmed) or, with `None` or a blank value, clear.
pub fn set(db: &Db, setting: Setting, value: Option<&str>) -> Result<(), StoreError> {
    let value = value.map(str::trim).filter(|v| !v.is_empty());
    if let Some(v) = value {
        setting.check(v)?;
    }
    db.with(|c| {
        match value {
            Some(v) => c.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [setting.key(), v],
            )?,
            None => c.execute("DELETE FROM settings WHERE key = ?1", [setting.key()])?,
        };
        Ok(())
    })
}

pub fn library_path(db: &Db) -> Result<Option<PathBuf>, StoreError> {
    Ok(get(db, Setting::LibraryPath)?.map(PathBuf::from))
}

pub fn set_library_path(db: &Db, path: Option<&Path>) -> Result<(), StoreError> {
    let s = match path {
        Some(p) => {
            Some(p.to_str().ok_or_else(|| StoreError::InvalidInput(format!("library_path: not valid text: {p:?}")))?)
        }
        None => None,
    };
    set(db, Setting::LibraryPath, s)
}

/// Without a trailing `/`, so a path can be appended as is.
pub fn api_base(db: &Db) -> Result<Option<String>, StoreError> {
    Ok(get(db, Setting::ApiBase)?.map(|s| s.trim_end_matches('/').to_string()))
}

pub fn set_api_base(db: &Db, base: Option<&str>) -> Result<(), StoreError> {
    set(db, Setting::ApiBase, base)
}

/// Without a trailing `/`.
pub fn upload_base(db: &Db) -> Result<Option<String>, StoreError> {
    Ok(get(db, Setting::UploadBase)?.map(|s| s.trim_end_matches('/').to_string()))
}

pub fn set_upload_base(db: &Db, base: Option<&str>) -> Result<(), StoreError> {
    set(db, Setting::UploadBase, base)
}

pub fn last_model(db: &Db) -> Result<Option<String>, StoreError> {
    get(db, Setting::LastModel)
}

pub fn set_last_model(db: &Db, model: Option<&str>) -> Result<(), StoreError> {
    set(db, Setting::LastModel, model)
}

/// The client's settings for Kie's hosts: `api_base` / `upload_base` given by the caller
/// (command line or environment) win, then the library's settings, then Kie's own hosts.
pub fn client_config(
    db: &Db,
    key: kie::ApiKey,
    api_base: Option<String>,
    upload_base: Option<String>,
) -> Result<kie::ClientConfig, StoreError> {
    let mut cfg = kie::ClientConfig::new(key);
    if let Some(base) = api_base.or(self::api_base(db)?) {
        cfg.api_base = base;
    }
    if let Some(base) = upload_base.or(self::upload_base(db)?) {
        cfg.upload_base = base;
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_round_trips_and_clearing() {
        let db = Db::open_in_memory().unwrap();
        assert_eq!(api_base(&db).unwrap(), None);
        set_api_base(&db, Some(" http://127.0.0.1:8787/ ")).unwrap();
        assert_eq!(api_base(&db).unwrap().as_deref(), Some("http://127.0.0.1:8787"));
        set_api_base(&db, Some("https://api.kie.ai")).unwrap();
        assert_eq!(api_base(&db).unwrap().as_deref(), Some("https://api.kie.ai"));
        set_upload_base(&db, Some("https://kieai.redpandaai.co")).unwrap();
        assert_eq!(upload_base(&db).unwrap().as_deref(), Some("https://kieai.redpandaai.co"));
        set_last_model(&db, Some("sora-2-text-to-video")).unwrap();
        assert_eq!(last_model(&db).unwrap().as_deref(), Some("sora-2-text-to-video"));
        let dir = tempfile::tempdir().unwrap();
        set_library_path(&db, Some(dir.path())).unwrap();
        assert_eq!(library_path(&db).unwrap().as_deref(), Some(dir.path()));
        set_api_base(&db, None).unwrap();
        set_last_model(&db, Some("  ")).unwrap();
        assert_eq!((api_base(&db).unwrap(), last_model(&db).unwrap()), (None, None));
        set_library_path(&db, None).unwrap();
        assert_eq!(library_path(&db).unwrap(), None);
    }

    #[test]
    fn bad_values_are_refused() {
        let db = Db::open_in_memory().unwrap();
        assert!(matches!(set_api_base(&db, Some("api.kie.ai")), Err(StoreError::InvalidInput(_))));
        assert!(matches!(set_upload_base(&db, Some("ftp://x")), Err(StoreError::InvalidInput(_))));
        assert!(matches!(set_api_base(&db, Some("http://a b")), Err(StoreError::InvalidInput(_))));
        assert!(matches!(set_library_path(&db, Some(Path::new("relative/lib"))), Err(StoreError::InvalidInput(_))));
        assert_eq!(api_base(&db).unwrap(), None);
    }

    #[test]
    fn there_is_no_setting_for_the_api_key() {
        for s in Setting::ALL {
            let k = s.key();
            assert!(!["key", "token", "secret", "password", "bearer"].iter().any(|w| k.contains(w)), "{k}");
            assert_eq!(Setting::parse(k), Some(s));
        }
        for k in ["api_key", "apikey", "kie_api_key", "key", "token"] {
            assert_eq!(Setting::parse(k), None, "{k}");
        }
        // And nothing this module writes ends up under such a key.
        let db = Db::open_in_memory().unwrap();
        set_api_base(&db, Some("https://api.kie.ai")).unwrap();
        set_last_model(&db, Some("m")).unwrap();
        let keys: Vec<String> = db
            .with(|c| {
                let mut st = c.prepare("SELECT key FROM settings")?;
                let keys = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
                Ok(keys)
            })
            .unwrap();
        assert!(keys.iter().all(|k| Setting::parse(k).is_some()), "{keys:?}");
    }
}
