//! The bench's I/O figures (issue 11), each measured on the real programs in child processes
//! against an in-process simulator:
//!
//! - [`download`] : a 1 GiB result fetched by `kie generate --wait` (create → poll → the
//!   downloader, as for any finished task) beside `curl` fetching the same bytes from the
//!   same simulator into the same folder, and how much the `kie` process's memory grew.
//! - [`poller`] : `kie-studio-server` (the app's core, its real poller at the real cadence)
//!   on a library of running tasks the simulator keeps generating: record queries per
//!   second, 429s, the interval between two polls of one task, and the process's CPU.
//!
//! Not a test: nothing passes or fails here; the bench prints the figures. The programs must
//! be built first, in release (`cargo build --release -p kie-cli -p studio-server`); they are
//! looked for beside the running executable, or in `KIE_BENCH_BIN_DIR`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use kie::catalogue::Catalogue;
use kie::client::{ClientConfig, KieClient};
use kie::limits::LimitsConfig;
use kie::ApiKey;
use kie_sim::{Endpoint, Sim, SimConfig};
use serde::Serialize;
use serde_json::{json, Map, Value};
use studio::paths::LibraryPaths;
use studio::{tasks, Db, PollConfig};
use tokio::io::{AsyncBufReadExt, BufReader};

const KEY: &str = "bench-io-key";
const MODEL: &str = "sora-2-text-to-video";
const MIB: f64 = 1024.0 * 1024.0;
/// How often the child's memory is read.
const RSS_EVERY: Duration = Duration::from_millis(20);

/// The 1 GiB download, the app beside curl.
#[derive(Debug, Clone, Serialize)]
pub struct DownloadFigures {
    /// The result's size.
    pub bytes: u64,
    /// Runs of each (curl and the app, taking turns to go first); the figures are medians.
    pub runs: usize,
    /// curl writing the same bytes to a file in the same folder (no sync), MiB/s.
    pub curl_mib_s: f64,
    /// The same, counting an fsync of curl's file after it (the app syncs before it trusts a
    /// download), MiB/s.
    pub curl_synced_mib_s: f64,
    /// The app: from its request for the video to the moment the video is fetched, synced,
    /// checked whole, renamed into place and hashed (marked by its next request, the
    /// poster's), MiB/s.
    pub app_mib_s: f64,
    /// The app's speed over curl's in the same run, median over runs (the goal: at least 0.9).
    pub ratio: f64,
    /// The `kie` process's largest resident memory during the download, less what it had
    /// just before it, MiB, the most of any run (the goal: at most 16).
    pub rss_growth_mib: f64,
    /// Its resident memory just before the download, MiB.
    pub rss_before_mib: f64,
}

/// The poller with many running tasks.
#[derive(Debug, Clone, Serialize)]
pub struct PollerFigures {
    /// Running tasks in the library (all kept generating by the simulator).
    pub tasks: usize,
    /// Finished videos in the library besides them.
    pub finished: usize,
    /// How long the poller was watched, from the server's start.
    pub seconds: f64,
    /// Record queries the simulator received, per second on average.
    pub record_info_per_s_avg: f64,
    /// The most in any one-second window (the goal: at most 10).
    pub record_info_per_s_max: u32,
    /// Answers with HTTP 429 (the simulator enforces Kie's 10 record queries a second).
    pub http_429: u64,
    /// The server process's CPU time over the watch, in % of one core (the goal: at most 1).
    pub cpu_percent_of_core: f64,
    /// Every interval between two polls of one task was at least the documented one for
    /// its age, and at most what the shared 10-a-second budget stretches a round of all
    /// tasks to.
    pub cadence_ok: bool,
    /// The intervals seen against the documented cadence, in words.
    pub cadence_note: String,
}

/// What [`download`] fetches.
#[derive(Debug, Clone)]
pub struct DownloadOptions {
    pub bytes: u64,
    /// Runs of each, side by side (the machine's load varies).
    pub runs: usize,
    /// Where `kie` is.
    pub bin_dir: PathBuf,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions { bytes: 1 << 30, runs: 3, bin_dir: bin_dir() }
    }
}

/// What [`poller`] runs.
#[derive(Debug, Clone)]
pub struct PollerOptions {
    pub tasks: usize,
    pub seconds: f64,
    /// How long ago the tasks were sent: spread evenly over this range (ms). The default,
    /// 3 to 10 minutes, puts every task in the documented slow phase (one poll per 20 s),
    /// which is what a library with that many running tasks is in.
    pub ages_ms: (i64, i64),
    /// Finished videos already in the library (seeded as the gallery bench does): the
    /// scheduler's queries must not grow with them.
    pub finished: usize,
    /// Where `kie-studio-server` is.
    pub bin_dir: PathBuf,
}

impl Default for PollerOptions {
    fn default() -> Self {
        PollerOptions { tasks: 200, seconds: 60.0, ages_ms: (180_000, 600_000), finished: 0, bin_dir: bin_dir() }
    }
}

/// Where the release programs are: `KIE_BENCH_BIN_DIR`, else beside this executable
/// (`target/release` for a release bench).
pub fn bin_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("KIE_BENCH_BIN_DIR") {
        return PathBuf::from(d);
    }
    std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)).unwrap_or_default()
}

fn program(dir: &Path, name: &str) -> Result<PathBuf, String> {
    let p = dir.join(name);
    if p.is_file() {
        Ok(p)
    } else {
        Err(format!(
            "{} is missing: build it first (cargo build --release -p kie-cli -p studio-server), or set KIE_BENCH_BIN_DIR",
            p.display()
        ))
    }
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn mib_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / MIB / d.as_secs_f64().max(1e-9)
}

fn round(x: f64, places: i32) -> f64 {
    let f = 10f64.powi(places);
    (x * f).round() / f
}

// ---------- /proc ----------

/// Resident memory of `pid` in KiB (`VmRSS`), if it still runs.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU time of `pid` so far, in clock ticks.
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

fn clock_ticks_per_s() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// Reads a process's resident memory every [`RSS_EVERY`] on a thread of its own (so the
/// samples keep time whatever the runtime is doing) until stopped.
struct RssSampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<Vec<(Instant, u64)>>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                match rss_kib(pid) {
                    Some(kib) => samples.push((Instant::now(), kib)),
                    None => break,
                }
                std::thread::sleep(RSS_EVERY);
            }
            samples
        });
        RssSampler { stop, thread }
    }

    fn finish(self) -> Vec<(Instant, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

// ---------- download ----------

/// One curl fetch into `dir`: (its time, the time of an fsync of its file after it).
async fn curl_once(url: &str, dir: &Path, bytes: u64) -> Result<(Duration, Duration), String> {
    let file = dir.join("curl.mp4");
    let started = Instant::now();
    let out = tokio::process::Command::new("curl")
        .args(["-sS", "--fail", "-o"])
        .arg(&file)
        .arg(url)
        .output()
        .await
        .map_err(|e| format!("run curl: {e}"))?;
    let took = started.elapsed();
    if !out.status.success() {
        return Err(format!("curl failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let synced = Instant::now();
    let f = std::fs::File::open(&file).map_err(|e| format!("open curl's file: {e}"))?;
    f.sync_all().map_err(|e| format!("sync curl's file: {e}"))?;
    let sync = synced.elapsed();
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    drop(f);
    let _ = std::fs::remove_file(&file);
    if len != bytes {
        return Err(format!("curl wrote {len} bytes, not {bytes}"));
    }
    Ok((took, sync))
}

/// One app download: `kie generate --wait` into a new library under `dir`.
/// (the download's time, resident KiB before it, the most during it).
async fn app_once(sim: &Sim, kie_bin: &Path, dir: &Path, bytes: u64) -> Result<(Duration, u64, u64), String> {
    let library = dir.join("library");
    let log = dir.join("kie.log");
    let log_file = std::fs::File::create(&log).map_err(|e| format!("create {}: {e}", log.display()))?;
    let spawned = Instant::now();
    let mut child = tokio::process::Command::new(kie_bin)
        .args(["generate", MODEL, "--prompt", "a one-gigabyte fox", "--wait"])
        .env("KIE_API_KEY", KEY)
        .env("KIE_API_BASE", sim.base_url())
        .env("KIE_UPLOAD_BASE", sim.upload_base_url())
        .env("KIE_STUDIO_LIBRARY", &library)
        // The first poll soon after the create: only the download is measured.
        .env("KIE_STUDIO_POLL_SCALE", "0.05")
        .env("KIE_STUDIO_KEYRING_SERVICE", format!("ai.kie.studio.bench-io-{}", std::process::id()))
        .env_remove("KIE_STUDIO_CRASH_AT")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_file)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("run {}: {e}", kie_bin.display()))?;
    let pid = child.id().ok_or("kie exited at once")?;
    let sampler = RssSampler::start(pid);
    let status = tokio::time::timeout(Duration::from_secs(600), child.wait())
        .await
        .map_err(|_| "kie generate did not finish in 10 minutes".to_string())?
        .map_err(|e| format!("wait for kie: {e}"))?;
    let exited = Instant::now();
    let samples = sampler.finish();
    if !status.success() {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(format!("kie generate failed ({status}): {}", text.trim()));
    }
    // Earlier requests (curl's, earlier runs') are not this one's.
    let files: Vec<Instant> = sim.arrivals(Endpoint::File).into_iter().filter(|t| *t >= spawned).collect();
    let start = *files.first().ok_or("the app fetched no file")?;
    // The poster is asked for right after the video is placed and hashed.
    let end = files.get(1).copied().unwrap_or(exited);
    let placed = studio::paths::files_under(&library.join("media"));
    let video = placed.iter().find(|p| p.extension().is_some_and(|e| e == "mp4")).ok_or("no video in the library")?;
    let kept = std::fs::metadata(video).map(|m| m.len()).unwrap_or(0);
    let _ = std::fs::remove_dir_all(&library);
    if kept != bytes {
        return Err(format!("the app kept {kept} bytes, not {bytes}"));
    }
    let before = samples.iter().rfind(|(t, _)| *t <= start).map(|(_, k)| *k);
    let before = before.or_else(|| samples.first().map(|(_, k)| *k)).unwrap_or(0);
    let peak = samples.iter().filter(|(t, _)| *t >= start && *t <= exited).map(|(_, k)| *k).max().unwrap_or(before);
    Ok((end.duration_since(start), before, peak))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The 1 GiB download: curl and the app, `runs` times (taking turns to go first), on one
/// simulator, into one temporary folder. Speeds are medians; the ratio is the median of each run's (curl and the
/// app side by side, under the same load); the memory growth is the largest.
pub async fn download(opts: &DownloadOptions) -> Result<DownloadFigures, String> {
    let kie_bin = program(&opts.bin_dir, "kie")?;
    let dir = tempfile::tempdir().map_err(|e| format!("a temporary folder: {e}"))?;
    let cfg = SimConfig {
        key: KEY.into(),
        gen_ms: 300,
        invisible_ms: 0,
        result_size: Some(opts.bytes),
        ..SimConfig::default()
    };
    let sim = Sim::start(cfg).await.map_err(|e| format!("start the simulator: {e}"))?;
    // The simulator's synthetic file of that size is the very bytes of the result.
    let url = format!("{}/files/synthetic/{}.mp4", sim.base_url(), opts.bytes);
    let (mut curl, mut synced, mut app, mut ratios) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut growth, mut before_kib) = (0u64, 0u64);
    for run in 0..opts.runs.max(1) {
        // Each goes first every other run: neither gains from what the other left behind.
        let ((took, sync), (app_took, before, peak)) = if run % 2 == 0 {
            let c = curl_once(&url, dir.path(), opts.bytes).await?;
            (c, app_once(&sim, &kie_bin, dir.path(), opts.bytes).await?)
        } else {
            let a = app_once(&sim, &kie_bin, dir.path(), opts.bytes).await?;
            (curl_once(&url, dir.path(), opts.bytes).await?, a)
        };
        let (c, a) = (mib_s(opts.bytes, took), mib_s(opts.bytes, app_took));
        curl.push(c);
        synced.push(mib_s(opts.bytes, took + sync));
        app.push(a);
        ratios.push(a / c);
        if peak.saturating_sub(before) >= growth {
            growth = peak.saturating_sub(before);
            before_kib = before;
        }
    }
    sim.shutdown().await;
    Ok(DownloadFigures {
        bytes: opts.bytes,
        runs: opts.runs.max(1),
        curl_mib_s: round(median(curl), 1),
        curl_synced_mib_s: round(median(synced), 1),
        app_mib_s: round(median(app), 1),
        ratio: round(median(ratios), 3),
        rss_growth_mib: round(growth as f64 / 1024.0, 2),
        rss_before_mib: round(before_kib as f64 / 1024.0, 2),
    })
}

// ---------- poller ----------

/// Makes `n` tasks at the simulator (straight through the client, its own limits opened
/// wide: this is setup) and writes them into a new library (holding `finished` videos) as
/// running, sent `ages_ms` ago. Returns each Kie id with when it was sent (ms).
async fn running_library(
    sim: &Sim,
    root: &Path,
    n: usize,
    ages_ms: (i64, i64),
    finished: usize,
) -> Result<Vec<(String, i64)>, String> {
    if finished > 0 {
        crate::seed::seed_library(root, finished, 1);
    }
    let key = ApiKey::new(KEY).ok_or("the bench key")?;
    let wide = LimitsConfig {
        creates_per_window: u32::MAX,
        window: Duration::from_secs(1),
        min_spacing: Duration::ZERO,
        max_running: usize::MAX,
        ..LimitsConfig::default()
    };
    let client = KieClient::new(ClientConfig {
        api_base: sim.base_url(),
        upload_base: sim.upload_base_url(),
        limits: wide,
        ..ClientConfig::new(key)
    })
    .map_err(|e| format!("a client: {e}"))?;
    let spec = Catalogue::builtin().model(MODEL).ok_or("sora-2-text-to-video is in the catalogue")?;
    let lib = LibraryPaths::new(root.to_path_buf()).map_err(|e| format!("library: {e}"))?;
    lib.create_dirs().map_err(|e| format!("library folders: {e}"))?;
    let now = now_ms();
    let db = Db::open(&lib.db(), now).map_err(|e| format!("open the library: {e}"))?;
    let mut sent = Vec::with_capacity(n);
    for i in 0..n {
        let mut input = Map::new();
        input.insert("prompt".into(), json!(format!("bench task {i}: a fox that never finishes")));
        let kie_id = client.create_task(spec, &input, None).await.map_err(|e| format!("create task {i}: {e}"))?;
        let (lo, hi) = ages_ms;
        let age = lo + (hi - lo) * i as i64 / n.max(1) as i64;
        let submitted = now - age;
        let t = tasks::insert_submitting(&db, MODEL, &input, spec.estimate_credits(&input), false, submitted - 500)
            .map_err(|e| format!("write task {i}: {e}"))?;
        tasks::mark_submitted(&db, t.id, &kie_id, submitted).map_err(|e| format!("write task {i}: {e}"))?;
        sent.push((kie_id, submitted));
    }
    Ok(sent)
}

/// Counts in the busiest one-second window of `times` (sorted).
fn busiest_second(times: &[Instant]) -> u32 {
    let mut best = 0;
    let mut lo = 0;
    for hi in 0..times.len() {
        while times[hi].duration_since(times[lo]) >= Duration::from_secs(1) {
            lo += 1;
        }
        best = best.max(hi - lo + 1);
    }
    best as u32
}

/// The intervals between polls of each task against the documented cadence. `round_ms`:
/// how long the shared budget needs to ask about every task once.
fn cadence(
    queries: &HashMap<String, Vec<Instant>>,
    sent: &[(String, i64)],
    t0: (Instant, i64),
    poll: &PollConfig,
    round_ms: f64,
) -> (bool, String) {
    // A poll is scheduled after the previous answer and taken on the scheduler's tick; the
    // request may then wait a little for the budget.
    let early = poll.tick_ms as f64 + 100.0;
    let mut ok = true;
    let (mut n, mut min, mut max, mut sum) = (0usize, f64::MAX, 0f64, 0f64);
    let mut expected_lo = f64::MAX;
    let mut polled = 0;
    let mut worst = String::new();
    for (kie_id, submitted) in sent {
        let Some(times) = queries.get(kie_id) else { continue };
        polled += 1;
        for w in times.windows(2) {
            let gap = w[1].duration_since(w[0]).as_secs_f64() * 1000.0;
            let at_ms = t0.1 + w[0].saturating_duration_since(t0.0).as_millis() as i64;
            let expected = poll.interval(at_ms - submitted) as f64;
            let late = expected.max(round_ms) * 1.25 + 1000.0;
            if gap < expected - early || gap > late {
                ok = false;
                if worst.is_empty() {
                    worst = format!("; e.g. {gap:.0} ms where {expected:.0} ms was due");
                }
            }
            expected_lo = expected_lo.min(expected);
            n += 1;
            min = min.min(gap);
            max = max.max(gap);
            sum += gap;
        }
    }
    if n == 0 {
        return (false, format!("no task was polled twice ({polled} of {} polled once)", sent.len()));
    }
    let note = format!(
        "{polled} of {} tasks polled; {n} intervals {:.1}–{:.1} s (mean {:.1} s); documented {:.0} s for their \
         age, a round of all tasks at the budget of 10 per 1.1 s takes {:.1} s{worst}",
        sent.len(),
        min / 1000.0,
        max / 1000.0,
        sum / n as f64 / 1000.0,
        expected_lo / 1000.0,
        round_ms / 1000.0,
    );
    (ok, note)
}

/// The poller of `kie-studio-server` on `opts.tasks` running tasks, watched `opts.seconds`.
pub async fn poller(opts: &PollerOptions) -> Result<PollerFigures, String> {
    let server_bin = program(&opts.bin_dir, "kie-studio-server")?;
    let dir = tempfile::tempdir().map_err(|e| format!("a temporary folder: {e}"))?;
    let cfg = SimConfig {
        key: KEY.into(),
        // Still generating long after the watch ends.
        gen_ms: 24 * 3_600_000,
        invisible_ms: 0,
        initial_credits: 1e12,
        create_limit: u32::MAX,
        create_window: Duration::from_secs(1),
        // Kie's limit: a poller over it would see 429s.
        record_limit: Some(10),
        ..SimConfig::default()
    };
    let sim = Sim::start(cfg).await.map_err(|e| format!("start the simulator: {e}"))?;
    let library = dir.path().join("library");
    let sent = running_library(&sim, &library, opts.tasks, opts.ages_ms, opts.finished).await?;
    let limited_before = sim.stats().rate_limited;

    let log = dir.path().join("server.log");
    let log_file = std::fs::File::create(&log).map_err(|e| format!("create {}: {e}", log.display()))?;
    let mut child = tokio::process::Command::new(&server_bin)
        .arg("--library")
        .arg(&library)
        .env("KIE_API_KEY", KEY)
        .env("KIE_API_BASE", sim.base_url())
        .env("KIE_UPLOAD_BASE", sim.upload_base_url())
        .env("KIE_STUDIO_KEYRING_SERVICE", format!("ai.kie.studio.bench-io-{}", std::process::id()))
        .env_remove("KIE_STUDIO_POLL_SCALE")
        .env_remove("KIE_STUDIO_CRASH_AT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log_file)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("run {}: {e}", server_bin.display()))?;
    let pid = child.id().ok_or("the server exited at once")?;
    let stdin = child.stdin.take();
    let mut lines = BufReader::new(child.stdout.take().ok_or("the server's output")?).lines();
    let ready = tokio::time::timeout(Duration::from_secs(30), lines.next_line()).await;
    if !matches!(&ready, Ok(Ok(Some(l))) if l.starts_with("kie-studio-server ")) {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(format!("the server did not start: {ready:?} {}", text.trim()));
    }
    let t0 = (Instant::now(), now_ms());
    let cpu0 = cpu_ticks(pid).ok_or("the server's CPU time")?;
    tokio::time::sleep(Duration::from_secs_f64(opts.seconds)).await;
    let cpu1 = cpu_ticks(pid).ok_or("the server's CPU time (it exited)")?;
    let t1 = Instant::now();
    // Standard input closed: the server stops.
    drop(stdin);
    if tokio::time::timeout(Duration::from_secs(10), child.wait()).await.is_err() {
        let _ = child.kill().await;
    }
    let elapsed = t1.duration_since(t0.0).as_secs_f64();

    let arrivals: Vec<Instant> =
        sim.arrivals(Endpoint::RecordInfo).into_iter().filter(|t| *t >= t0.0 && *t <= t1).collect();
    let stats = sim.stats();
    let poll = PollConfig::default();
    let demand: f64 = sent.iter().map(|(_, s)| 1000.0 / poll.interval(t0.1 - s) as f64).sum();
    // The shared budget: 10 record queries per 1.1 s.
    let budget = 10.0 / 1.1;
    let round_ms = if demand > budget { opts.tasks as f64 / budget * 1000.0 } else { 0.0 };
    let mut queries = sim.record_queries();
    for times in queries.values_mut() {
        times.retain(|t| *t <= t1);
    }
    let (cadence_ok, cadence_note) = cadence(&queries, &sent, t0, &poll, round_ms);
    sim.shutdown().await;

    Ok(PollerFigures {
        tasks: opts.tasks,
        finished: opts.finished,
        seconds: round(elapsed, 1),
        record_info_per_s_avg: round(arrivals.len() as f64 / elapsed, 2),
        record_info_per_s_max: busiest_second(&arrivals),
        http_429: stats.rate_limited - limited_before,
        cpu_percent_of_core: round((cpu1 - cpu0) as f64 / clock_ticks_per_s() / elapsed * 100.0, 2),
        cadence_ok,
        cadence_note,
    })
}

/// Both, as the bench's `--json` line has them.
pub fn to_json(download: Option<&DownloadFigures>, poller: Option<&PollerFigures>) -> Value {
    json!({ "download": download, "poller": poller })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn busiest_second_counts_a_sliding_window() {
        let t = Instant::now();
        let at = |ms: u64| t + Duration::from_millis(ms);
        assert_eq!(busiest_second(&[]), 0);
        assert_eq!(busiest_second(&[at(0), at(999), at(1000), at(1500), at(1900)]), 4);
        assert_eq!(busiest_second(&[at(0), at(1000), at(2000)]), 1);
    }

    #[test]
    fn cpu_ticks_and_rss_of_this_process() {
        let me = std::process::id();
        assert!(rss_kib(me).is_some_and(|k| k > 0));
        assert!(cpu_ticks(me).is_some());
        assert_eq!(rss_kib(u32::MAX), None);
    }

    #[test]
    fn cadence_flags_polls_too_early_or_too_late() {
        let poll = PollConfig::default();
        let t = Instant::now();
        let now = 1_000_000_000;
        // Sent 5 minutes ago: one poll per 20 s is due.
        let sent = vec![("a".to_string(), now - 300_000)];
        let with = |gaps: &[u64]| {
            let mut times = vec![t];
            for g in gaps {
                times.push(*times.last().unwrap() + Duration::from_millis(*g));
            }
            HashMap::from([("a".to_string(), times)])
        };
        assert!(cadence(&with(&[20_100, 21_000]), &sent, (t, now), &poll, 0.0).0);
        assert!(!cadence(&with(&[20_100, 2_500]), &sent, (t, now), &poll, 0.0).0);
        assert!(!cadence(&with(&[40_000]), &sent, (t, now), &poll, 0.0).0);
        // The budget stretches a round of 200 tasks to 22 s: 25 s is fine then.
        assert!(cadence(&with(&[25_000]), &sent, (t, now), &poll, 22_000.0).0);
        assert!(!cadence(&with(&[]), &sent, (t, now), &poll, 0.0).0);
    }
}
