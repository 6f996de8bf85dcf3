//! `kie-studio-server`: the real core over HTTP on 127.0.0.1, for the UI in a browser and
//! the UI's tests. Its first line of standard output is
//! `kie-studio-server {"url", "token", "library", "sim_url", "sim_key"}`; it serves until
//! standard input closes (so a test runner that dies takes it along) or it is killed.
//!
//! ```text
//! kie-studio-server [--library DIR] [--port N] [--test-hooks] [--sim] [--sim-key KEY] [--gen-ms MS]
//! ```
//! Without `--library`, a temporary library is used and removed at exit. `--sim` starts a
//! local Kie simulator for the real library (key `--sim-key`, default `sim-good-key-1234`),
//! so that setting a key, faults (its `/_sim/*` endpoints at `sim_url`) and generation all
//! run with nothing sent anywhere. The demo works as in the app.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use studio::session::SessionConfig;
use studio::{App, Headless};
use studio_server::{serve, ServerOptions};

struct Args {
    library: Option<PathBuf>,
    port: u16,
    test_hooks: bool,
    sim: bool,
    sim_key: String,
    gen_ms: u64,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        library: None,
        port: 0,
        test_hooks: false,
        sim: false,
        sim_key: "sim-good-key-1234".into(),
        gen_ms: 1500,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--library" => a.library = Some(PathBuf::from(value()?)),
            "--port" => a.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--test-hooks" => a.test_hooks = true,
            "--sim" => a.sim = true,
            "--sim-key" => a.sim_key = value()?,
            "--gen-ms" => a.gen_ms = value()?.parse().map_err(|e| format!("--gen-ms: {e}"))?,
            "-h" | "--help" => {
                println!(
                    "kie-studio-server [--library DIR] [--port N] [--test-hooks] [--sim] [--sim-key KEY] [--gen-ms MS]"
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

#[tokio::main]
async fn main() {
    studio::keys::take_env_key();
    // The core's diagnostic lines, on stderr as before (no log file: this is a dev and test server).
    studio::logs::init_stderr("kie-studio");
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("kie-studio-server: {e}");
            std::process::exit(2);
        }
    };
    let temp = tempfile::tempdir().expect("a temporary folder");
    let library = args.library.clone().unwrap_or_else(|| temp.path().join("library"));
    let sim = if args.sim {
        let cfg = kie_sim::SimConfig {
            key: args.sim_key.clone(),
            gen_ms: args.gen_ms,
            invisible_ms: 100,
            ..kie_sim::SimConfig::default()
        };
        Some(kie_sim::Sim::start(cfg).await.expect("start the simulator"))
    } else {
        None
    };
    let mut cli = vec!["kie-studio-server".to_string(), "--library".into(), library.display().to_string()];
    if let Some(sim) = &sim {
        cli.extend(["--api-base".into(), sim.base_url(), "--upload-base".into(), sim.upload_base_url()]);
    }
    let env = studio::app::process_env();
    let cfg = match SessionConfig::from_args_and_env(cli, |n| env(n)) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("kie-studio-server: {e}");
            std::process::exit(2);
        }
    };
    let app = Arc::new(App::new(cfg, Arc::new(Headless), env));
    if let Err(e) = app.open_with_saved_key().await {
        eprintln!("kie-studio-server: cannot open the library: {e}");
    }
    let server = serve(app.clone(), ServerOptions { test_hooks: args.test_hooks, port: args.port })
        .await
        .expect("bind 127.0.0.1");
    let line = serde_json::json!({
        "url": server.url(),
        "token": server.token(),
        "library": library.display().to_string(),
        "sim_url": sim.as_ref().map(|s| s.base_url()),
        "sim_key": sim.as_ref().map(|_| args.sim_key.clone()),
    });
    println!("kie-studio-server {line}");
    // Serve until standard input closes (the parent went away) or we are killed.
    let _ = tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        let _ = std::io::stdin().read_to_end(&mut sink);
    })
    .await;
    app.close();
    drop(server);
}
