//! `kie-sim`: runs the simulator until killed. Its first line of stdout is exactly
//! `listening on http://127.0.0.1:PORT`.

use std::io::Write;
use std::time::Duration;

use kie_sim::{Sim, SimConfig};

const USAGE: &str = "usage: kie-sim [--port N] [--key KEY] [--gen-ms MS] [--invisible-ms MS] [--credits N]
               [--create-limit N] [--create-window-ms MS] [--link-ttl-secs S]
               [--download-link-ttl-secs S] [--hd-ready-ms MS] [--result-size BYTES] [--record-limit N]
               [--http-status-errors] [--catalogue FILE]... [--paused MODEL]... [--disabled MODEL]...

Serves a local stand-in for Kie.ai (jobs and Veo APIs, uploads) on 127.0.0.1 (port 0: a
free one) and prints `listening on http://127.0.0.1:PORT` as its first line.
--catalogue adds the models of a catalogue file (the app's models.json format);
--paused / --disabled make a model's creates answer code 500 / 505.
Control endpoints: /_sim/... (see crates/kie-sim/README.md)";

fn main() {
    let (cfg, port) = match parse(std::env::args().skip(1).collect()) {
        Ok(Some(v)) => v,
        Ok(None) => {
            println!("{USAGE}");
            return;
        }
        Err(e) => {
            eprintln!("kie-sim: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime");
    rt.block_on(async move {
        let sim = match Sim::start_on(cfg.clone(), port).await {
            Ok(sim) => sim,
            Err(e) => {
                eprintln!("kie-sim: cannot start on 127.0.0.1:{port}: {e}");
                std::process::exit(1);
            }
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", sim.base_url());
        let _ = out.flush();
        drop(out);
        eprintln!(
            "kie-sim: gen {} ms, invisible {} ms, credits {}, {} creates per {:?}, links {:?} (renewed {:?}), \
             1080p/4k after {:?}, result size {:?}, http status errors {}, extra catalogues {:?}, paused {:?}, disabled {:?}",
            cfg.gen_ms,
            cfg.invisible_ms,
            cfg.initial_credits,
            cfg.create_limit,
            cfg.create_window,
            cfg.link_ttl,
            cfg.download_link_ttl,
            cfg.hd_ready_after,
            cfg.result_size,
            cfg.http_status_errors,
            cfg.extra_catalogues,
            cfg.paused,
            cfg.disabled
        );
        stopped().await;
        sim.shutdown().await;
    });
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

fn parse(args: Vec<String>) -> Result<Option<(SimConfig, u16)>, String> {
    let mut cfg = SimConfig::default();
    let mut port = 0u16;
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (flag.clone(), None),
        };
        if name == "--help" || name == "-h" {
            return Ok(None);
        }
        if name == "--http-status-errors" {
            cfg.http_status_errors = true;
            continue;
        }
        let mut value = || inline.clone().or_else(|| it.next()).ok_or_else(|| format!("{name} needs a value"));
        fn num<T: std::str::FromStr>(name: &str, v: String) -> Result<T, String> {
            v.trim().parse().map_err(|_| format!("{name}: not a number: {v}"))
        }
        match name.as_str() {
            "--port" => port = num(&name, value()?)?,
            "--key" => cfg.key = value()?,
            "--gen-ms" => cfg.gen_ms = num(&name, value()?)?,
            "--invisible-ms" => cfg.invisible_ms = num(&name, value()?)?,
            "--credits" => cfg.initial_credits = num(&name, value()?)?,
            "--create-limit" => cfg.create_limit = num(&name, value()?)?,
            "--create-window-ms" => cfg.create_window = Duration::from_millis(num(&name, value()?)?),
            "--link-ttl-secs" => cfg.link_ttl = Duration::from_secs(num(&name, value()?)?),
            "--download-link-ttl-secs" => cfg.download_link_ttl = Duration::from_secs(num(&name, value()?)?),
            "--hd-ready-ms" => cfg.hd_ready_after = Duration::from_millis(num(&name, value()?)?),
            "--catalogue" => cfg.extra_catalogues.push(value()?.into()),
            "--paused" => cfg.paused.push(value()?),
            "--disabled" => cfg.disabled.push(value()?),
            "--result-size" => cfg.result_size = Some(num(&name, value()?)?),
            "--record-limit" => cfg.record_limit = Some(num(&name, value()?)?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if cfg.key.trim().is_empty() {
        return Err("--key must not be empty".into());
    }
    Ok(Some((cfg, port)))
}
