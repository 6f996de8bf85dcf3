//! The one way the command line opens Kie Studio: the app's own facade ([`App`]), built from
//! the app's [`SessionConfig`] (the `--library`, `--api-base` and `--upload-base` flags as
//! the app's arguments, then the environment, then the user's settings) with a
//! [`Headless`] host. Libraries are opened without the app's background poller: commands
//! that wait drive polling themselves (`studio.poller().run(Until::…)`) and exit.

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
        }
        Need::Library => app.open_real_unstarted(ApiKey::new(LOCAL_ONLY_KEY).expect("not empty"))?,
    }
    app.studio()
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
}
