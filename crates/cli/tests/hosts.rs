//! Issue 10, "the key goes only to Kie": hosts come from the built-in defaults, a flag or an
//! environment variable (or the demo), never from the library's database; a host that is
//! not Kie's own is said.

mod common;

use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use kie_sim::Sim;
use studio::clock::{Clock, SystemClock};
use studio::Db;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// A local listener that records the head of every request it gets and answers `reply`.
async fn listener(reply: &'static str) -> (u16, Arc<Mutex<Vec<String>>>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await {
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&buf[..n]);
                    if got.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                log.lock().unwrap().push(String::from_utf8_lossy(&got).to_string());
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    (port, seen)
}

/// A library whose settings table names `base` for both of Kie's hosts, as an old version
/// (or whoever handed the library over) could have left it.
fn library_naming(lib: &Path, base: &str) {
    std::fs::create_dir_all(lib).unwrap();
    let db = Db::open(&lib.join("library.db"), SystemClock.now_ms()).unwrap();
    db.with(|c| {
        for key in ["api_base", "upload_base"] {
            c.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)", [key, base])?;
        }
        Ok(())
    })
    .unwrap();
}

fn plain_kie(lib: &Path) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_kie"));
    c.env("KIE_API_KEY", KEY)
        .env("KIE_STUDIO_LIBRARY", lib)
        .env("KIE_STUDIO_KEYRING_SERVICE", "ai.kie.studio.cli-tests")
        .env_remove("KIE_API_BASE")
        .env_remove("KIE_UPLOAD_BASE")
        .env_remove("KIE_STUDIO_CRASH_AT")
        .kill_on_drop(true);
    for v in
        ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"]
    {
        c.env_remove(v);
    }
    c
}

async fn run(mut c: tokio::process::Command, args: &[&str]) -> Output {
    tokio::time::timeout(Duration::from_secs(60), c.args(args).output()).await.expect("kie finished in time").unwrap()
}

#[tokio::test]
async fn a_library_naming_another_host_never_gets_the_key_sent_there() {
    // Where the library says Kie is: records whatever arrives.
    let (elsewhere, seen_elsewhere) = listener("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
    // Kie's own host is reached through this proxy, which refuses every tunnel: nothing
    // leaves the machine, and it tells which host the key would have gone to.
    let (proxy, seen_by_proxy) = listener("HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n").await;
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("handed-over");
    library_naming(&lib, &format!("http://127.0.0.1:{elsewhere}"));

    let mut c = plain_kie(&lib);
    c.env("HTTPS_PROXY", format!("http://127.0.0.1:{proxy}"));
    let out = run(c, &["generate", "sora-2-text-to-video", "--prompt", "a lighthouse"]).await;
    assert!(!out.status.success(), "Kie cannot be reached here: {}", text(&out));

    let got = seen_elsewhere.lock().unwrap().clone();
    assert!(got.is_empty(), "the key went to the host the library named: {got:?}");
    let tunnels = seen_by_proxy.lock().unwrap().clone();
    assert!(!tunnels.is_empty() && tunnels.iter().all(|t| t.starts_with("CONNECT api.kie.ai:443")), "{tunnels:?}");
    // And the user is told what the library said, and that it was dropped.
    let said = text(&out);
    assert!(
        said.contains(&format!("named http://127.0.0.1:{elsewhere} as Kie's api base; ignored and removed")),
        "{said}"
    );
    // Once: the rows are gone.
    let out = run(plain_kie(&lib), &["list"]).await;
    assert!(!text(&out).contains("ignored and removed"), "{}", text(&out));
}

#[tokio::test]
async fn a_host_that_is_not_kies_own_is_said() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path();
    let mut c = plain_kie(lib);
    c.env("KIE_API_BASE", sim.base_url()).env("KIE_UPLOAD_BASE", sim.upload_base_url());
    let out = run(c, &["generate", "sora-2-text-to-video", "--prompt", "a fox"]).await;
    assert!(out.status.success(), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(said.contains(&format!("not Kie's own: {}", sim.base_url())), "{said}");

    // With --json the note stays on stderr: standard output is one JSON document.
    let mut c = plain_kie(lib);
    c.env("KIE_UPLOAD_BASE", sim.upload_base_url());
    let out =
        run(c, &["--json", "--api-base", &sim.base_url(), "generate", "sora-2-text-to-video", "--prompt", "x"]).await;
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("JSON on stdout");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not Kie's own"), "{}", text(&out));

    // Kie's own hosts: nothing to say (listing sends nothing anyway).
    let out = run(plain_kie(lib), &["list"]).await;
    assert!(!text(&out).contains("not Kie's own"), "{}", text(&out));
}
