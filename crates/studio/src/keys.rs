//! Where the API key lives: the OS keyring (Secret Service on Linux), under the app's
//! identifier. `KIE_API_KEY` in the environment wins, for scripting: it is read once, at the
//! very start of the process ([`take_env_key`]), and removed from the environment, so that
//! no web view, helper or child process inherits it. The key is never written anywhere else.

use std::sync::OnceLock;

use kie::ApiKey;
use serde::Serialize;

// keyring 3 keeps keys in memory, lost at exit, on a platform whose store feature is not on
// (crates/studio/Cargo.toml turns on each platform's): refuse to build anywhere else.
#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "macos",
    target_os = "windows"
)))]
compile_error!("Kie Studio has no keyring store for this platform: the API key would be kept in memory only.");

/// The keyring service name: the app's identifier.
pub const SERVICE: &str = "ai.kie.studio";
const ACCOUNT: &str = "api-key";
pub const ENV_VAR: &str = "KIE_API_KEY";

/// `KIE_API_KEY` as [`take_env_key`] found it (`None` inside: it was not set).
static TAKEN: OnceLock<Option<ApiKey>> = OnceLock::new();

/// Reads `KIE_API_KEY` once and removes it from this process's environment, so that the web
/// view, its helper processes and anything else started later never inherit it. Call it
/// first thing in `main`, before any other thread starts (changing the environment is not
/// thread-safe). The key stays available to [`crate::app::process_env`], which is how the
/// app reads it. Later calls change nothing. Returns whether a key was there.
pub fn take_env_key() -> bool {
    let taken = TAKEN.get_or_init(|| {
        let key = std::env::var(ENV_VAR).ok().and_then(ApiKey::new);
        // Also an empty or unreadable (non-UTF-8) value goes: nothing of it is passed on.
        if std::env::var_os(ENV_VAR).is_some() {
            std::env::remove_var(ENV_VAR);
        }
        key
    });
    taken.is_some()
}

/// What [`take_env_key`] read: `None` when it was not called (the environment is then read
/// as it is), `Some(None)` when `KIE_API_KEY` was not set.
pub fn taken_env_key() -> Option<Option<&'static ApiKey>> {
    TAKEN.get().map(Option::as_ref)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    Environment,
    Keyring,
}

/// What the UI may know about the key: whether there is one, where, and its last four.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct KeyStatus {
    pub set: bool,
    pub source: Option<KeySource>,
    pub last4: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("The system keyring is not available: {0}. On Linux this needs a Secret Service such as GNOME Keyring or KWallet; you can also set KIE_API_KEY.")]
    Unavailable(String),
    #[error("The key is empty.")]
    Empty,
}

/// The keyring, under a service name (tests use their own).
#[derive(Debug, Clone)]
pub struct KeyStore {
    service: String,
}

impl Default for KeyStore {
    fn default() -> Self {
        KeyStore { service: SERVICE.to_string() }
    }
}

impl KeyStore {
    pub fn with_service(service: impl Into<String>) -> Self {
        KeyStore { service: service.into() }
    }

    fn entry(&self) -> Result<keyring::Entry, KeyError> {
        keyring::Entry::new(&self.service, ACCOUNT).map_err(unavailable)
    }

    /// The key in use: the environment's first, then the keyring's.
    pub fn load(&self, env: impl Fn(&str) -> Option<String>) -> Result<Option<(ApiKey, KeySource)>, KeyError> {
        if let Some(key) = env(ENV_VAR).and_then(ApiKey::new) {
            return Ok(Some((key, KeySource::Environment)));
        }
        match self.entry()?.get_password() {
            Ok(secret) => Ok(ApiKey::new(secret).map(|k| (k, KeySource::Keyring))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    pub fn status(&self, env: impl Fn(&str) -> Option<String>) -> Result<KeyStatus, KeyError> {
        Ok(match self.load(env)? {
            Some((key, source)) => KeyStatus { set: true, source: Some(source), last4: Some(key.last4()) },
            None => KeyStatus { set: false, source: None, last4: None },
        })
    }

    pub fn save(&self, key: &ApiKey) -> Result<(), KeyError> {
        self.entry()?.set_password(key.expose()).map_err(unavailable)
    }

    /// Removes the stored key; removing a key that is not there is fine.
    pub fn delete(&self) -> Result<(), KeyError> {
        match self.entry()?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

fn unavailable(e: keyring::Error) -> KeyError {
    // keyring's errors never contain the secret itself.
    KeyError::Unavailable(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The store is the platform's own (Secret Service, macOS Keychain, Windows Credential
    /// Manager), never keyring's in-memory stand-in. Building an entry talks to no service.
    #[test]
    fn keys_go_to_the_platforms_store_not_memory() {
        let entry = keyring::Entry::new("ai.kie.studio.test-store-kind", "api-key").unwrap();
        let credential = entry.get_credential();
        assert!(credential.downcast_ref::<keyring::mock::MockCredential>().is_none(), "an in-memory keyring");
        #[cfg(target_os = "linux")]
        assert!(credential.downcast_ref::<keyring::secret_service::SsCredential>().is_some());
        #[cfg(target_os = "macos")]
        assert!(credential.downcast_ref::<keyring::macos::MacCredential>().is_some());
        #[cfg(target_os = "windows")]
        assert!(credential.downcast_ref::<keyring::windows::WinCredential>().is_some());
    }

    #[test]
    fn environment_wins_without_touching_the_keyring() {
        let store = KeyStore::with_service("ai.kie.studio.test-env");
        let env = |name: &str| (name == ENV_VAR).then(|| " env-key-abcd \n".to_string());
        let (key, source) = store.load(env).unwrap().unwrap();
        assert_eq!(key.expose(), "env-key-abcd");
        assert_eq!(source, KeySource::Environment);
        let status = store.status(env).unwrap();
        assert_eq!(status, KeyStatus { set: true, source: Some(KeySource::Environment), last4: Some("abcd".into()) });
        assert!(!serde_json::to_string(&status).unwrap().contains("env-key"));
    }

    /// Needs a real Secret Service: run under scripts/with-keyring.sh (the test command does).
    #[test]
    fn round_trip_through_the_secret_service() {
        if std::env::var_os("KIE_TEST_SECRET_SERVICE").is_none() {
            eprintln!("skipped: no private Secret Service (run under scripts/with-keyring.sh)");
            return;
        }
        let store = KeyStore::with_service(format!("ai.kie.studio.test-{}", std::process::id()));
        let none = |_: &str| None;
        store.delete().unwrap();
        assert_eq!(store.load(none).unwrap(), None);
        store.save(&ApiKey::new("kie-secret-9876").unwrap()).unwrap();
        let (key, source) = store.load(none).unwrap().unwrap();
        assert_eq!((key.expose(), source), ("kie-secret-9876", KeySource::Keyring));
        assert_eq!(store.status(none).unwrap().last4.as_deref(), Some("9876"));
        store.save(&ApiKey::new("kie-secret-1111").unwrap()).unwrap();
        assert_eq!(store.load(none).unwrap().unwrap().0.expose(), "kie-secret-1111");
        store.delete().unwrap();
        store.delete().unwrap();
        assert_eq!(store.load(none).unwrap(), None);
    }
}
