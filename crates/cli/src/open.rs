//! The one way the command line opens Kie Studio: the app's own facade ([`App`]), built from
//! the app's [`SessionConfig`] (the `--library`, `--api-base` and `--upload-base` flags as
//! the app's arguments, then the environment, then the user's settings) with a
//! [`Headless`] host. Libraries are opened without the app's background poller: commands
//! that wait drive polling themselves ([`crate::resume::drive`]) when they can take the
//! library's lock, and otherwise leave it to whoever holds it (the app).
//!
//! Hosts that are not Kie's own (from `--api-base`/`--upload-base` or the environment) are
//! said on standard error whenever the key is about to be sent.

use std::sync::Arc;

use kie::ApiKey;
use studio::app::process_env;
use studio::session::SessionConfig;
use studio::{App, Headless, Studio, StudioError};

use crate::args::Cli;

/// Stands in for a key in commands that only read or write the library (list, status,
/// characters by hand): they never ask Kie, so it is never sent, and they work with no key
/// set and no keyring at hand.
const LOCAL_ONLY_KEY: &str = "kie-cli-local-only";

/// What a command needs open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The library and the user's key (`KIE_API_KEY`, else the keyring): `no_key` without one.
    Key,
    /// The library alone.
    Library,
}

/// The app, configured as the desktop app would be with these flags.
pub fn app(cli: &Cli) -> Result<App, StudioError> {
    let env = process_env();
    let cfg = SessionConfig::from_args_and_env(session_args(cli)?, |name| env(name))?;
    Ok(App::new(cfg, Arc::new(Headless), env))
}

/// The flags the app's configuration reads, as the app's own arguments.
fn session_args(cli: &Cli) -> Result<Vec<String>, StudioError> {
    let mut args = vec!["kie".to_string()];
    if let Some(dir) = &cli.library {
        let dir = dir.to_str().ok_or_else(|| {
            StudioError::invalid("library", "bad_format", format!("{} is not a UTF-8 path.", dir.display()))
        })?;
        args.extend(["--library".to_string(), dir.to_string()]);
    }
    if let Some(url) = &cli.api_base {
        args.extend(["--api-base".to_string(), url.clone()]);
    }
    if let Some(url) = &cli.upload_base {
        args.extend(["--upload-base".to_string(), url.clone()]);
    }
    Ok(args)
}

/// Opens the real library (its poller not started) and returns its studio.
pub async fn library(app: &App, need: Need) -> Result<Studio, StudioError> {
    match need {
        Need::Key => {
            if !app.open_real_with_saved_key_unstarted().await? {
                return Err(StudioError::NoKey);
            }
            say_hosts(app);
        }
        Need::Library => app.open_real_unstarted(ApiKey::new(LOCAL_ONLY_KEY).expect("not empty"))?,
    }
    app.studio()
}

/// Says, on standard error, where the key goes when that is not Kie's own hosts.
pub fn say_hosts(app: &App) {
    if let Some(line) = hosts_note(app.config()) {
        eprintln!("{line}");
    }
}

fn hosts_note(cfg: &SessionConfig) -> Option<String> {
    let hosts = cfg.custom_hosts()?;
    let mut named = Vec::new();
    if hosts.api_base != kie::client::DEFAULT_API_BASE {
        named.push(format!("{} (API)", hosts.api_base));
    }
    if hosts.upload_base != kie::client::DEFAULT_UPLOAD_BASE {
        named.push(format!("{} (uploads)", hosts.upload_base));
    }
    Some(format!(
        "Note: your key is sent to hosts that are not Kie's own: {}. They come from --api-base/--upload-base \
         or KIE_API_BASE/KIE_UPLOAD_BASE.",
        named.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn the_flags_become_the_apps_arguments() {
        let cli = Cli::parse_from(["kie", "--library", "/tmp/lib", "--api-base", "http://127.0.0.1:1", "resume"]);
        assert_eq!(session_args(&cli).unwrap(), ["kie", "--library", "/tmp/lib", "--api-base", "http://127.0.0.1:1"]);
        let cfg = SessionConfig::from_args_and_env(session_args(&cli).unwrap(), |_| None).unwrap();
        assert_eq!(cfg.library.root(), std::path::Path::new("/tmp/lib"));
        assert_eq!((cfg.api_base.as_deref(), cfg.upload_base.as_deref()), (Some("http://127.0.0.1:1"), None));
        let cli = Cli::parse_from(["kie", "list"]);
        assert_eq!(session_args(&cli).unwrap(), ["kie"]);
    }

    #[test]
    fn hosts_that_are_not_kies_own_are_named() {
        let cfg = |args: &[&str]| {
            let args = std::iter::once("kie").chain(args.iter().copied()).map(String::from);
            SessionConfig::from_args_and_env(args, |k| (k == "HOME").then(|| "/h".to_string())).unwrap()
        };
        assert_eq!(hosts_note(&cfg(&[])), None);
        assert_eq!(hosts_note(&cfg(&["--api-base", "https://api.kie.ai/"])), None);
        let note = hosts_note(&cfg(&["--upload-base", "http://127.0.0.1:9/"])).unwrap();
        assert!(note.contains("not Kie's own: http://127.0.0.1:9 (uploads)."), "{note}");
        let note =
            hosts_note(&cfg(&["--api-base", "http://127.0.0.1:8", "--upload-base", "http://127.0.0.1:9"])).unwrap();
        assert!(note.contains("http://127.0.0.1:8 (API), http://127.0.0.1:9 (uploads)"), "{note}");
    }
}
