//! How every command that waits gets its result: it polls and downloads only while it holds
//! the library's lock (`studio::library_lock`). While another process holds it (Kie Studio
//! is open on the library, or another `kie` command polls), it says so and watches the
//! library's database until what it waits for has landed, taking over if the holder goes.

use std::time::Duration;

use studio::library_lock::{Busy, PollerLock};
use studio::poller::Until;
use studio::{App, Studio, StudioError};

use crate::output::{progress_line, Out};

/// Whether this process may poll the library.
pub enum Claim {
    /// It holds the lock (`None`: locks do not work there; it polls as before).
    Mine(Option<PollerLock>),
    Elsewhere(Busy),
}

/// Tries to take the library's lock, as `command` (e.g. `kie resume`).
pub fn claim(studio: &Studio, command: &str) -> Claim {
    let root = studio.paths().root();
    match PollerLock::try_acquire(root, command) {
        Ok(Ok(lock)) => Claim::Mine(Some(lock)),
        Ok(Err(busy)) => Claim::Elsewhere(busy),
        Err(e) => {
            tracing::warn!("cannot lock {} ({e}); polling without the lock", root.display());
            Claim::Mine(None)
        }
    }
}

/// Who polls instead of this command, and that it will `what` ("download the result").
pub fn busy_line(busy: &Busy, what: &str) -> String {
    match &busy.holder {
        Some(h) if h.is_app() => format!("Kie Studio is open on this library; it will {what}."),
        _ => {
            let who = busy.who();
            let mut chars = who.chars();
            let who: String = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
            format!("{who} is polling this library; it will {what}.")
        }
    }
}

/// Until `until` holds: polling here (with the progress line) while this process holds
/// the library, else watching the library while its holder polls.
pub async fn drive(
    app: &App,
    studio: &Studio,
    out: &Out,
    until: Until,
    command: &str,
    what: &str,
) -> Result<(), StudioError> {
    let pause = Duration::from_millis(studio.config().poll.tick_ms.saturating_mul(4).max(20));
    let mut said = false;
    loop {
        match claim(studio, command) {
            Claim::Mine(lock) => {
                if said {
                    eprintln!("kie: the library is free now; polling here.");
                }
                let progress = progress_line(app, out.json);
                let done = studio.poller().run(until).await;
                progress.abort();
                drop(lock);
                return done;
            }
            Claim::Elsewhere(busy) => {
                if !said {
                    eprintln!("{} Waiting for it (Ctrl-C stops waiting; nothing is lost).", busy_line(&busy, what));
                    said = true;
                }
                if studio.poller().reached(until)? {
                    return Ok(());
                }
                tokio::time::sleep(pause).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use studio::library_lock::{Holder, APP};

    #[test]
    fn who_polls_in_words() {
        let app = Busy { holder: Some(Holder { pid: 7, program: APP.into() }) };
        assert_eq!(
            busy_line(&app, "download the result"),
            "Kie Studio is open on this library; it will download the result."
        );
        let cli = Busy { holder: Some(Holder { pid: 7, program: "kie resume".into() }) };
        assert_eq!(
            busy_line(&cli, "download the result"),
            "Kie resume (pid 7) is polling this library; it will download the result."
        );
        let unknown = Busy { holder: None };
        assert!(busy_line(&unknown, "x").starts_with("Another Kie Studio process is polling"));
    }
}
