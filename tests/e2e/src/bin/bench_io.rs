//! `bench_io`: the bench's two I/O figures on their own (see `e2e::bench_io`), printed as one
//! JSON line `{"download": {...}, "poller": {...}}`. Build in release, with the programs it
//! runs: `cargo build --release -p kie-cli -p studio-server && cargo run --release -p e2e --bin bench_io`.

use e2e::bench_io::{self, DownloadOptions, PollerOptions};

const USAGE: &str = "\
bench_io: a 1 GiB result downloaded by the app vs curl, and the poller with 200 running tasks

usage: bench_io [--only download|poller] [--bytes N] [--runs N] [--tasks N] [--finished N] [--seconds S]
  --runs: downloads of each (curl, the app), side by side (default 3)
  --finished: finished videos in the poller's library besides its running tasks (default 0)";

#[tokio::main]
async fn main() {
    let (mut dl, mut poll) = (DownloadOptions::default(), PollerOptions::default());
    let mut only: Option<String> = None;
    let mut it = std::env::args().skip(1);
    let fail = |msg: &str| -> ! {
        eprintln!("{msg}\n\n{USAGE}");
        std::process::exit(2)
    };
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| fail(&format!("{flag} needs a value")));
        match flag.as_str() {
            "--only" => only = Some(value()),
            "--bytes" => dl.bytes = value().parse().unwrap_or_else(|_| fail("--bytes: not a number")),
            "--runs" => dl.runs = value().parse().unwrap_or_else(|_| fail("--runs: not a number")),
            "--tasks" => poll.tasks = value().parse().unwrap_or_else(|_| fail("--tasks: not a number")),
            "--finished" => poll.finished = value().parse().unwrap_or_else(|_| fail("--finished: not a number")),
            "--seconds" => poll.seconds = value().parse().unwrap_or_else(|_| fail("--seconds: not a number")),
            "-h" | "--help" => {
                println!("{USAGE}");
                return;
            }
            other => fail(&format!("unknown option {other:?}")),
        }
    }
    let want = |what: &str| only.as_deref().is_none_or(|o| o == what);
    let download = if want("download") {
        Some(bench_io::download(&dl).await.unwrap_or_else(|e| fail(&format!("download: {e}"))))
    } else {
        None
    };
    let poller = if want("poller") {
        Some(bench_io::poller(&poll).await.unwrap_or_else(|e| fail(&format!("poller: {e}"))))
    } else {
        None
    };
    println!("{}", bench_io::to_json(download.as_ref(), poller.as_ref()));
}
