//! Issue 10: `KIE_API_KEY` is read once at start and removed from the process's environment,
//! so the web view's processes (and any other child) never inherit it; the app still uses
//! it and says where its key comes from. One test in this binary: it changes the process's
//! environment, which nothing else may read at the same time.
// Reads a child's environment through `env`: Unix only.
#![cfg(unix)]

use std::sync::Arc;

use studio::keys::{self, KeySource};
use studio::session::SessionConfig;
use studio::{App, Headless};

#[test]
fn the_key_is_read_once_and_removed_from_the_environment() {
    std::env::set_var(keys::ENV_VAR, " env-key-5678\n");
    assert!(keys::take_env_key());
    assert!(std::env::var_os(keys::ENV_VAR).is_none(), "still in the environment");

    // A process started now does not inherit it.
    let out = std::process::Command::new("env").output().unwrap();
    let child_env = String::from_utf8_lossy(&out.stdout);
    assert!(!child_env.contains(keys::ENV_VAR) && !child_env.contains("env-key-5678"), "{child_env}");

    // The app still has it, and says where it comes from (its last four only).
    let env = studio::app::process_env();
    assert_eq!(env(keys::ENV_VAR).as_deref(), Some("env-key-5678"));
    let dir = tempfile::tempdir().unwrap();
    let args = ["kie-studio".to_string(), "--library".into(), dir.path().join("lib").display().to_string()];
    let cfg = SessionConfig::from_args_and_env(args, |n| env(n)).unwrap();
    let app = App::new(cfg, Arc::new(Headless), env.clone());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let info = rt.block_on(app.get_app_info()).unwrap();
    assert_eq!(
        (info.key.set, info.key.source, info.key.last4.as_deref()),
        (true, Some(KeySource::Environment), Some("5678"))
    );
    assert!(!serde_json::to_string(&info).unwrap().contains("env-key"));

    // Read once: a value set later is neither read nor removed.
    std::env::set_var(keys::ENV_VAR, "later-key-0000");
    assert!(keys::take_env_key());
    assert_eq!(env(keys::ENV_VAR).as_deref(), Some("env-key-5678"));
    std::env::remove_var(keys::ENV_VAR);
}
