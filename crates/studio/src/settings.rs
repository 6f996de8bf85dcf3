//! The few settings kept in the library database, each typed and checked.
//!
//! The API key is deliberately not one of them: it lives in the OS keyring, never in a file
//! that may be synced, backed up or attached to a bug report. There is no way to store an
//! arbitrary key here, so it cannot slip in by accident.
//!
//! Nor are Kie's hosts, where the key is sent: a library can be handed over, so a host named
//! in it could send the key anywhere. They come from the command line or the environment
//! (`session::SessionConfig`). Rows older versions kept for them (`api_base`,
//! `upload_base`) are removed when a library is opened ([`forget_hosts`]).

use std::path::{Path, PathBuf};

use rusqlite::OptionalExtension;

use crate::db::{Db, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// An absolute path to the library folder (see `paths::resolve_root` for precedence).
    LibraryPath,
    /// The model last submitted, preselected in the form.
    LastModel,
}

/// Rows older versions kept for Kie's hosts, no longer read (see the module's docs).
pub const FORGOTTEN_HOST_KEYS: [&str; 2] = ["api_base", "upload_base"];

impl Setting {
    pub const ALL: [Setting; 2] = [Setting::LibraryPath, Setting::LastModel];

    /// The row's key; stable, as it is stored.
    pub fn key(self) -> &'static str {
        match self {
            Setting::LibraryPath => "library_path",
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

pub fn last_model(db: &Db) -> Result<Option<String>, StoreError> {
    get(db, Setting::LastModel)
}

pub fn set_last_model(db: &Db, model: Option<&str>) -> Result<(), StoreError> {
    set(db, Setting::LastModel, model)
}

/// Removes the rows older versions kept for Kie's hosts; returns what they said (name,
/// value), so the caller can tell the user. They are never used as hosts.
pub fn forget_hosts(db: &Db) -> Result<Vec<(String, String)>, StoreError> {
    db.with(|c| {
        let mut found = Vec::new();
        for key in FORGOTTEN_HOST_KEYS {
            let value: Option<String> =
                c.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0)).optional()?;
            if let Some(value) = value {
                c.execute("DELETE FROM settings WHERE key = ?1", [key])?;
                found.push((key.replace('_', " "), value));
            }
        }
        Ok(found)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_round_trips_and_clearing() {
        let db = Db::open_in_memory().unwrap();
        set_last_model(&db, Some("sora-2-text-to-video")).unwrap();
        assert_eq!(last_model(&db).unwrap().as_deref(), Some("sora-2-text-to-video"));
        let dir = tempfile::tempdir().unwrap();
        set_library_path(&db, Some(dir.path())).unwrap();
        assert_eq!(library_path(&db).unwrap().as_deref(), Some(dir.path()));
        set_last_model(&db, Some("  ")).unwrap();
        assert_eq!(last_model(&db).unwrap(), None);
        set_library_path(&db, None).unwrap();
        assert_eq!(library_path(&db).unwrap(), None);
    }

    #[test]
    fn bad_values_are_refused() {
        let db = Db::open_in_memory().unwrap();
        assert!(matches!(set_library_path(&db, Some(Path::new("relative/lib"))), Err(StoreError::InvalidInput(_))));
        assert_eq!(library_path(&db).unwrap(), None);
    }

    /// Issue 10: a library handed over with hosts in its settings sends the key nowhere;
    /// the rows go (said to the caller), and nothing in this module can write them again.
    #[test]
    fn hosts_an_older_version_kept_are_forgotten() {
        let db = Db::open_in_memory().unwrap();
        db.with(|c| {
            c.execute("INSERT INTO settings (key, value) VALUES ('api_base', 'http://127.0.0.1:9')", [])?;
            c.execute("INSERT INTO settings (key, value) VALUES ('upload_base', 'http://evil.example')", [])?;
            Ok(())
        })
        .unwrap();
        set_last_model(&db, Some("m")).unwrap();
        let found = forget_hosts(&db).unwrap();
        assert_eq!(
            found,
            [
                ("api base".to_string(), "http://127.0.0.1:9".to_string()),
                ("upload base".into(), "http://evil.example".into())
            ]
        );
        assert_eq!(forget_hosts(&db).unwrap(), []);
        assert_eq!(last_model(&db).unwrap().as_deref(), Some("m"));
        for key in FORGOTTEN_HOST_KEYS {
            assert_eq!(Setting::parse(key), None, "{key}");
        }
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
