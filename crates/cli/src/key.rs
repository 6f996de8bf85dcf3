//! `kie key`: the key in the system keyring, by the app's own rules. `set` is the app's
//! `set_key` (Kie is asked for the balance first; only a key Kie accepted is saved, and
//! nothing is saved when Kie cannot be asked), except with `--no-check`.

use std::io::{IsTerminal, Read};

use kie::secret::KeyProblem;
use kie::ApiKey;
use serde_json::json;
use studio::app::process_env;
use studio::keys::KeySource;
use studio::{App, StudioError};

use crate::args::KeyAction;
use crate::exit;
use crate::output::Out;

pub async fn run(app: &App, out: &Out, action: &KeyAction) -> Result<i32, StudioError> {
    match action {
        KeyAction::Set { no_check: false } => {
            crate::open::say_hosts(app);
            let check = match app.set_key(read_key()?).await {
                Ok(check) => check,
                Err(e) => {
                    let code = out.error(&e);
                    if !out.json {
                        eprintln!("The key was not saved.");
                    }
                    return Ok(code);
                }
            };
            let v = json!({"saved": true, "last4": check.last4, "credits": check.credits});
            out.print(&v, || {
                format!("Key …{} saved to the system keyring. Balance: {} credits.", check.last4, check.credits)
            });
            Ok(exit::OK)
        }
        KeyAction::Set { no_check: true } => {
            // The one deliberate exception: saved without asking Kie.
            let key = ApiKey::parse(&read_key()?).map_err(|problem| {
                let rule = if problem == KeyProblem::Empty { "required" } else { "bad_format" };
                StudioError::invalid("key", rule, problem.to_string())
            })?;
            app.config().key_store().save(&key)?;
            out.print(&json!({"saved": true, "last4": key.last4()}), || {
                format!("Key …{} saved to the system keyring, without asking Kie whether it works.", key.last4())
            });
            Ok(exit::OK)
        }
        KeyAction::Status => {
            // The app's key store, but a keyring that cannot be read is an error here (the
            // window shows it as "no key"; a script should learn why).
            let env = process_env();
            let status = app.config().key_store().status(|name| env(name))?;
            out.print(&serde_json::to_value(&status).unwrap_or_default(), || match (&status.source, &status.last4) {
                (Some(src), Some(l4)) => format!(
                    "A key is set (…{l4}), from the {}.",
                    match src {
                        KeySource::Environment => "KIE_API_KEY environment variable",
                        KeySource::Keyring => "system keyring",
                    }
                ),
                _ => "No key is set. Run `kie key set`.".into(),
            });
            Ok(if status.set { exit::OK } else { exit::KEY })
        }
        KeyAction::Delete => {
            let info = app.delete_key().await?;
            out.print(&json!({"deleted": true}), || {
                let mut s = "The key was removed from the system keyring.".to_string();
                if info.key.source == Some(KeySource::Environment) {
                    s.push_str(" KIE_API_KEY still gives one.");
                }
                s
            });
            Ok(exit::OK)
        }
    }
}

/// The key comes from a hidden prompt or from standard input, never from an argument
/// (arguments show up in process lists and shell history).
fn read_key() -> Result<String, StudioError> {
    if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Kie API key (input hidden): ").map_err(StudioError::io("read the key"))
    } else {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(StudioError::io("read the key from standard input"))?;
        Ok(s)
    }
}
