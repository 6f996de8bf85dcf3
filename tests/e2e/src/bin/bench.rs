//! `bench`: the gallery with a small and a large library, measured side by side in one run.
//! Not a test: nothing here passes or fails on time; it prints numbers and their ratios.
//!
//! 1. Seeds two libraries (10 and 10,000 videos by default) in temporary folders.
//! 2. Core: the gallery's first page and full-text search (first page of 120 + the count,
//!    as the window asks for them) over both, straight through `studio::library`.
//! 3. Window (skipped with `--core-only`): launches the real app on each library (`--runs`
//!    times, interleaved, after one unmeasured warm-up) and measures launch to the first
//!    gallery tile on screen; in the last run of each, search typed into the gallery and a
//!    5 s scroll from top to bottom with its frame times.
//!
//! Run it through `scripts/bench.sh`, which builds the app and provides Xvfb, D-Bus and
//! the keyring; `--core-only` needs none of them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use e2e::seed::{self, SeedReport, Writer};
use e2e::{App, Launch};
use fantoccini::wd::TimeoutConfiguration;
use kie_sim::{Sim, SimConfig};
use serde_json::{json, Value};
use studio::library::{self, ResultQuery, ResultSort};
use studio::Db;

const USAGE: &str = "\
bench: launch, search and scroll timings of the gallery, 10 vs 10,000 videos, side by side

usage: bench [options]
  --runs N             app launches per library (default 5; median reported)
  --queries N          core search queries (default 200)
  --window-queries N   searches typed into the window (default 20)
  --scroll-seconds S   length of the scroll through the gallery (default 5)
  --small N            videos in the small library (default 10)
  --large N            videos in the large library (default 10000)
  --seed N             seed of the libraries and queries (default 1)
  --writer sql|api     how the libraries are written (default sql; api is the app's own calls)
  --core-only          seeding and core search only: no window, no tauri-driver
  --keep               keep the seeded libraries (their folders are printed)";

#[derive(Debug, Clone)]
struct Args {
    runs: usize,
    queries: usize,
    window_queries: usize,
    scroll_ms: f64,
    small: usize,
    large: usize,
    seed: u64,
    writer: Writer,
    core_only: bool,
    keep: bool,
}

fn parse_args() -> Args {
    let mut a = Args {
        runs: 5,
        queries: 200,
        window_queries: 20,
        scroll_ms: 5000.0,
        small: 10,
        large: 10_000,
        seed: 1,
        writer: Writer::Sql,
        core_only: false,
        keep: false,
    };
    let mut it = std::env::args().skip(1);
    let fail = |msg: String| -> ! {
        eprintln!("{msg}\n\n{USAGE}");
        std::process::exit(2)
    };
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().unwrap_or_else(|| fail(format!("{name} needs a value")));
        fn num<T: std::str::FromStr>(name: &str, v: String, fail: impl Fn(String) -> T) -> T {
            v.parse().unwrap_or_else(|_| fail(format!("{name}: {v:?} is not a number")))
        }
        match flag.as_str() {
            "--runs" => a.runs = num(&flag, value(&flag), |m| fail(m)),
            "--queries" => a.queries = num(&flag, value(&flag), |m| fail(m)),
            "--window-queries" => a.window_queries = num(&flag, value(&flag), |m| fail(m)),
            "--scroll-seconds" => a.scroll_ms = num::<f64>(&flag, value(&flag), |m| fail(m)) * 1000.0,
            "--small" => a.small = num(&flag, value(&flag), |m| fail(m)),
            "--large" => a.large = num(&flag, value(&flag), |m| fail(m)),
            "--seed" => a.seed = num(&flag, value(&flag), |m| fail(m)),
            "--writer" => {
                a.writer = match value(&flag).as_str() {
                    "sql" => Writer::Sql,
                    "api" => Writer::Api,
                    other => fail(format!("--writer: {other:?} is neither sql nor api")),
                }
            }
            "--core-only" => a.core_only = true,
            "--keep" => a.keep = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0)
            }
            other => fail(format!("unknown option {other:?}")),
        }
    }
    if a.runs == 0 || a.queries == 0 || a.small == 0 || a.large == 0 {
        fail("--runs, --queries, --small and --large must be at least 1".into());
    }
    a
}

// ---------- numbers ----------

/// Nearest-rank percentile of values in ms; `None` for none.
fn percentile(values: &[f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil().max(1.0) as usize;
    Some(v[rank.min(v.len()) - 1])
}

fn median(values: &[f64]) -> Option<f64> {
    percentile(values, 50.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn fmt_ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else if v >= 10.0 {
        format!("{v:.0} ms")
    } else if v >= 1.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.2} ms")
    }
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A row of the table: a value for each library, in ms or a plain count.
#[derive(Debug, Clone)]
enum Cell {
    Ms(f64),
    Count(f64),
    Text(String),
    None,
}

impl Cell {
    fn show(&self) -> String {
        match self {
            Cell::Ms(v) => fmt_ms(*v),
            Cell::Count(v) => format!("{v}"),
            Cell::Text(t) => t.clone(),
            Cell::None => "n/a".into(),
        }
    }

    fn value(&self) -> Option<f64> {
        match self {
            Cell::Ms(v) | Cell::Count(v) => Some(*v),
            _ => None,
        }
    }
}

fn ms_cell(v: Option<f64>) -> Cell {
    v.map(Cell::Ms).unwrap_or(Cell::None)
}

struct Table {
    rows: Vec<(String, Cell, Cell)>,
}

impl Table {
    fn row(&mut self, label: impl Into<String>, small: Cell, large: Cell) {
        self.rows.push((label.into(), small, large));
    }

    fn print(&self, small: usize, large: usize) {
        let head_s = format!("{} videos", thousands(small));
        let head_l = format!("{} videos", thousands(large));
        let head_r = format!("{} / {}", thousands(large), thousands(small));
        let w0 = self.rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0).max(6);
        let w1 = self.rows.iter().map(|r| r.1.show().len()).max().unwrap_or(0).max(head_s.len());
        let w2 = self.rows.iter().map(|r| r.2.show().len()).max().unwrap_or(0).max(head_l.len());
        let w3 = head_r.len().max(7);
        println!("{:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}", "", head_s, head_l, head_r);
        println!("{}", "-".repeat(w0 + w1 + w2 + w3 + 6));
        for (label, s, l) in &self.rows {
            let ratio = match (s.value(), l.value()) {
                (Some(a), Some(b)) if a > 0.0 => format!("{:.2}×", b / a),
                _ => "".into(),
            };
            println!("{:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}", label, s.show(), l.show(), ratio);
        }
    }
}

// ---------- core ----------

/// The query the window sends for the gallery's first page.
fn first_page(search: Option<&str>) -> ResultQuery {
    ResultQuery {
        search: search.map(str::to_string),
        sort: ResultSort::Date,
        desc: true,
        limit: 120,
        offset: 0,
        ..Default::default()
    }
}

struct CoreNumbers {
    /// First page + count without a search, ms (median of repeats).
    open_ms: f64,
    search: Vec<Timed>,
}

/// One first page + count: the whole, each part (ms), and the number of matches.
#[derive(Debug, Clone, Copy)]
struct Timed {
    total_ms: f64,
    page_ms: f64,
    count_ms: f64,
    hits: i64,
}

fn page_and_count(db: &Db, q: &ResultQuery) -> Timed {
    let t = Instant::now();
    let items = library::list_results(db, q).expect("list_results");
    let page = t.elapsed();
    let hits = library::count_results(db, q).expect("count_results");
    let total = t.elapsed();
    assert!(items.len() as i64 <= hits);
    Timed { total_ms: ms(total), page_ms: ms(page), count_ms: ms(total - page), hits }
}

fn core_numbers(root: &Path, queries: &[String]) -> CoreNumbers {
    let db = Db::open(&root.join(studio::paths::DB_FILE), 0).expect("open the seeded library");
    // Warm up as a running app would be: the statement cache and the page cache.
    for q in queries.iter().take(20) {
        page_and_count(&db, &first_page(Some(q)));
    }
    let open: Vec<f64> = (0..30).map(|_| page_and_count(&db, &first_page(None)).total_ms).collect();
    let search = queries.iter().map(|q| page_and_count(&db, &first_page(Some(q)))).collect();
    CoreNumbers { open_ms: median(&open).unwrap(), search }
}

// ---------- window ----------

/// Clicks nav-gallery inside the page and waits, frame by frame, for the first result tile
/// inside the viewport; answers after that frame has been painted. Also waits (a little
/// longer) for a poster in a visible tile to be loaded.
const OPEN_GALLERY_JS: &str = r#"
const [limit] = arguments;
const done = arguments[arguments.length - 1];
const re = /^result-\d+$/;
const visibleTile = () => {
  for (const el of document.querySelectorAll('[data-testid^="result-"]')) {
    const id = el.getAttribute('data-testid');
    if (!re.test(id)) continue;
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth) {
      const s = getComputedStyle(el);
      if (s.visibility !== 'hidden' && s.display !== 'none' && s.opacity !== '0') return el;
    }
  }
  return null;
};
const nav = document.querySelector('[data-testid="nav-gallery"]');
if (!nav) return done({ error: 'no nav-gallery' });
const t0 = performance.now();
nav.click();
let tileMs = null, tileId = null, frames = 0;
const tick = () => {
  frames++;
  const now = performance.now();
  if (tileMs === null) {
    const el = visibleTile();
    if (el) {
      tileId = el.getAttribute('data-testid');
      // This frame paints it: take the time once the paint is done.
      setTimeout(() => { tileMs = performance.now() - t0; requestAnimationFrame(tick); }, 0);
      return;
    }
  } else {
    const img = [...document.querySelectorAll('[data-testid^="result-"] img')].find(i => {
      const r = i.getBoundingClientRect();
      return i.complete && i.naturalWidth > 0 && r.bottom > 0 && r.top < innerHeight;
    });
    if (img) return done({ ms: tileMs, tile: tileId, poster_ms: now - t0, frames });
    if (now - t0 > tileMs + 3000) return done({ ms: tileMs, tile: tileId, poster_ms: null, frames });
  }
  if (now - t0 > limit) return done({ error: 'no result tile on screen after ' + limit + ' ms', frames });
  requestAnimationFrame(tick);
};
requestAnimationFrame(tick);
"#;

/// Types a query into gallery-search (sets the value and fires `input`, as typing does),
/// waits for gallery-count to change to a text with the expected count in it, then clears
/// the search and waits for the count to come back.
const SEARCH_JS: &str = r#"
const [q, expected, limit] = arguments;
const done = arguments[arguments.length - 1];
const input = document.querySelector('[data-testid="gallery-search"]');
if (!input) return done({ error: 'no gallery-search' });
const countText = () => (document.querySelector('[data-testid="gallery-count"]')?.textContent ?? '').trim();
const digits = (t) => t.replace(/[^0-9]/g, '');
const setValue = (v) => {
  const d = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(input), 'value');
  d.set.call(input, v);
  input.dispatchEvent(new Event('input', { bubbles: true }));
};
const waitFor = (ok, t0, then) => {
  const tick = () => {
    const t = countText();
    if (ok(t)) return then({ ms: performance.now() - t0, text: t });
    if (performance.now() - t0 > limit) return then({ error: 'timeout', text: t });
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
};
input.focus();
const before = countText();
const t0 = performance.now();
setValue(q);
waitFor(t => t !== '' && t !== before && digits(t).includes(String(expected)), t0, (r) => {
  const t1 = performance.now();
  setValue('');
  waitFor(t => t === before, t1, (back) => done({ ...r, before, reset_ms: back.ms ?? null }));
});
"#;

/// A brisk, steady scroll with a mouse wheel or trackpad: 3,000 px a second.
const WHEEL_PX_PER_MS: f64 = 3.0;

/// Scrolls gallery-scroll, one step per animation frame, recording each frame's delta
/// (performance.now()) and the result tiles in the DOM: from top to bottom over `duration`
/// ms (a fling through everything), or, with `speed` (px/ms), at that steady speed for
/// `duration` ms (a person scrolling with the wheel).
const SCROLL_JS: &str = r#"
const [duration, lastId, speed] = arguments;
const done = arguments[arguments.length - 1];
const el = document.querySelector('[data-testid="gallery-scroll"]');
if (!el) return done({ error: 'no gallery-scroll' });
const re = /^result-\d+$/;
const seen = new Set();
let maxTiles = 0;
const countTiles = () => {
  let n = 0;
  for (const t of document.querySelectorAll('[data-testid^="result-"]')) {
    const id = t.getAttribute('data-testid');
    if (re.test(id)) { n++; seen.add(id); }
  }
  maxTiles = Math.max(maxTiles, n);
};
el.scrollTop = 0;
const deltas = [];
let start = null, last = null, steps = 0;
const startHeight = el.scrollHeight, clientHeight = el.clientHeight;
const frame = () => {
  const now = performance.now();
  if (start === null) { start = now; } else { deltas.push(now - last); }
  last = now;
  const p = Math.min(1, (now - start) / duration);
  const max = el.scrollHeight - el.clientHeight;
  el.scrollTop = speed ? Math.min(max, (now - start) * speed) : p * max;
  steps++;
  countTiles();
  if (p < 1) return requestAnimationFrame(frame);
  // Let the last step settle, then see where we are.
  setTimeout(() => {
    countTiles();
    done({
      deltas, steps, max_tiles: maxTiles, distinct_tiles: seen.size,
      scroll_height_start: startHeight, scroll_height_end: el.scrollHeight, client_height: clientHeight,
      at_bottom: el.scrollTop >= el.scrollHeight - el.clientHeight - 2,
      last_tile_shown: lastId !== null && !!document.querySelector(`[data-testid="result-${lastId}"]`),
      elapsed_ms: now - start,
    });
  }, 500);
};
// Two frames at the top first, so the scroll starts from a rendered first screen.
requestAnimationFrame(() => requestAnimationFrame(frame));
"#;

#[derive(Debug, Default, Clone)]
struct LaunchRun {
    first_screen_ms: f64,
    click_to_tile_ms: f64,
    total_ms: f64,
    poster_ms: Option<f64>,
}

#[derive(Debug, Default, Clone)]
struct Scroll {
    /// The script ran (there is a gallery-scroll); frames are recorded even when nothing
    /// can scroll, as an idle baseline.
    ran: bool,
    deltas: Vec<f64>,
    max_tiles: f64,
    distinct_tiles: f64,
    scrollable: bool,
    at_bottom: bool,
    last_tile_shown: bool,
    note: Option<String>,
}

/// One row of the scroll numbers.
type ScrollCell = fn(&Scroll) -> Cell;

#[derive(Debug, Default, Clone)]
struct WindowNumbers {
    runs: Vec<LaunchRun>,
    search_ms: Vec<f64>,
    search_timeouts: usize,
    search_note: Option<String>,
    scroll: Option<Scroll>,
    wheel: Option<Scroll>,
}

async fn open_gallery(app: &App, started: Instant) -> LaunchRun {
    let before_click = started.elapsed();
    let v = app.client.execute_async(OPEN_GALLERY_JS, vec![json!(60_000)]).await.expect("run the gallery script");
    if let Some(e) = v.get("error") {
        app.screenshot("bench-no-gallery-tile").await;
        panic!("the gallery did not show a result tile: {e} (screenshot: target/e2e-screenshots/bench-no-gallery-tile.png)");
    }
    let click = v["ms"].as_f64().expect("a time");
    LaunchRun {
        first_screen_ms: 0.0,
        click_to_tile_ms: click,
        total_ms: ms(before_click) + click,
        poster_ms: v["poster_ms"].as_f64(),
    }
}

async fn window_search(app: &App, picks: &[(String, i64)], out: &mut WindowNumbers) {
    if !app.exists("gallery-search").await || !app.exists("gallery-count").await {
        out.search_note = Some("no gallery-search / gallery-count in this UI".into());
        return;
    }
    for (q, expected) in picks {
        let v = app
            .client
            .execute_async(SEARCH_JS, vec![json!(q), json!(expected), json!(10_000)])
            .await
            .expect("run the search script");
        match v["ms"].as_f64() {
            Some(t) => out.search_ms.push(t),
            None => {
                out.search_timeouts += 1;
                out.search_note = Some(format!(
                    "{q:?}: gallery-count never showed {expected} (it read {:?}); {}",
                    v["text"].as_str().unwrap_or(""),
                    v["error"].as_str().unwrap_or("")
                ));
            }
        }
    }
}

async fn window_scroll(app: &App, duration_ms: f64, speed: Option<f64>, oldest: Option<i64>, name: &str) -> Scroll {
    if !app.exists("gallery-scroll").await {
        return Scroll { note: Some("no gallery-scroll in this UI".into()), ..Default::default() };
    }
    // Let the first screen's posters arrive before scrolling.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let v = app
        .client
        .execute_async(SCROLL_JS, vec![json!(duration_ms), json!(oldest), json!(speed)])
        .await
        .expect("run the scroll script");
    if let Some(e) = v.get("error") {
        return Scroll { note: Some(e.to_string()), ..Default::default() };
    }
    app.screenshot(&format!("bench-{name}-scrolled-to-bottom")).await;
    let f = |k: &str| v[k].as_f64().unwrap_or(0.0);
    let deltas: Vec<f64> =
        v["deltas"].as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default();
    let scrollable = f("scroll_height_start") > f("client_height") + 1.0;
    Scroll {
        ran: true,
        deltas,
        max_tiles: f("max_tiles"),
        distinct_tiles: f("distinct_tiles"),
        scrollable,
        at_bottom: v["at_bottom"].as_bool().unwrap_or(false),
        last_tile_shown: v["last_tile_shown"].as_bool().unwrap_or(false),
        note: (!scrollable)
            .then(|| "gallery-scroll is not scrollable (every tile fits): its frame times are idle frames".into()),
    }
}

struct Lib<'a> {
    name: String,
    report: &'a SeedReport,
    /// Queries for the window: (text, matches), chosen to change the count.
    picks: Vec<(String, i64)>,
}

async fn launch_once(lib: &Lib<'_>, sim: &Sim, tag: &str) -> (App, LaunchRun) {
    let launch = Launch::new(&lib.report.root, sim, &format!("bench-{}-{tag}", lib.name)).with_key("bench-key");
    let started = Instant::now();
    let app = App::launch(&launch).await;
    let first_screen = started.elapsed();
    let mut timeouts = TimeoutConfiguration::default();
    timeouts.set_script(Some(Duration::from_secs(120)));
    app.client.update_timeouts(timeouts).await.expect("set the script timeout");
    let mut run = open_gallery(&app, started).await;
    run.first_screen_ms = ms(first_screen);
    (app, run)
}

async fn window_numbers(libs: &[Lib<'_>; 2], args: &Args) -> [WindowNumbers; 2] {
    let sim =
        Sim::start(SimConfig { key: "bench-key".into(), ..SimConfig::default() }).await.expect("start the simulator");
    let mut out: [WindowNumbers; 2] = Default::default();
    let (app, r) = launch_once(&libs[0], &sim, "warmup").await;
    app.quit().await;
    eprintln!("window: warm-up launch (not counted): {} to the first tile", fmt_ms(r.total_ms));
    for run in 0..args.runs {
        for (i, lib) in libs.iter().enumerate() {
            let n = thousands(lib.report.n);
            let (app, r) = launch_once(lib, &sim, &run.to_string()).await;
            eprintln!(
                "window: {n} videos, run {}/{}: {} to the first tile ({} after the click)",
                run + 1,
                args.runs,
                fmt_ms(r.total_ms),
                fmt_ms(r.click_to_tile_ms)
            );
            out[i].runs.push(r);
            if run + 1 == args.runs {
                app.screenshot(&format!("bench-{}-gallery", lib.name)).await;
                window_search(&app, &lib.picks, &mut out[i]).await;
                eprintln!("window: {n} videos: {} searches typed", out[i].search_ms.len() + out[i].search_timeouts);
                let wheel = window_scroll(&app, args.scroll_ms, Some(WHEEL_PX_PER_MS), None, &lib.name).await;
                eprintln!("window: {n} videos: scrolled at wheel speed ({} frames)", wheel.deltas.len());
                out[i].wheel = Some(wheel);
                let scroll = window_scroll(&app, args.scroll_ms, None, lib.report.oldest_result_id(), &lib.name).await;
                eprintln!(
                    "window: {n} videos: scrolled for {} ({} frames)",
                    fmt_ms(args.scroll_ms),
                    scroll.deltas.len()
                );
                out[i].scroll = Some(scroll);
            }
            app.quit().await;
        }
    }
    out
}

/// Up to `want` queries with 1..n-1 matches, each count different from the one before.
fn pick_window_queries(core: &CoreNumbers, queries: &[String], n: usize, want: usize) -> Vec<(String, i64)> {
    let mut picks: Vec<(String, i64)> = Vec::new();
    for (q, t) in queries.iter().zip(&core.search) {
        if picks.len() == want {
            break;
        }
        if t.hits >= 1 && (t.hits as usize) < n && picks.last().map(|p| p.1) != Some(t.hits) {
            picks.push((q.clone(), t.hits));
        }
    }
    picks
}

#[tokio::main]
async fn main() {
    let args = parse_args();
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    println!(
        "Kie Studio bench: the gallery with {} and with {} videos (seed {})",
        thousands(args.small),
        thousands(args.large),
        args.seed
    );
    if args.core_only {
        println!("Window: skipped (--core-only).");
    } else {
        let app = e2e::app_binary();
        let kind = if app.components().any(|c| c.as_os_str() == "debug") {
            "a DEBUG build, as scripts/build-app.sh makes it"
        } else {
            "not a debug build"
        };
        println!("App: {} ({kind}); window timings are for that build.", app.display());
    }
    println!(
        "Core timings: this bench's own {profile} build of studio and SQLite{}.",
        if profile == "debug" { ", like the debug app's" } else { "" }
    );
    println!();

    // 1. Seed.
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let reports: Vec<SeedReport> = [args.small, args.large]
        .iter()
        .zip(&dirs)
        .map(|(&n, dir)| {
            let r = seed::seed_library_with(&dir.path().join("library"), n, args.seed, args.writer);
            println!(
                "Seeded {:>6} videos in {:>8} ({:?} writer; {} hard links, {} copies; {:.1} MB of files as recorded){}",
                thousands(n),
                fmt_ms(ms(r.elapsed)),
                r.writer,
                r.linked,
                r.copied,
                r.bytes as f64 / 1e6,
                if args.keep { format!(" at {}", r.root.display()) } else { String::new() },
            );
            r
        })
        .collect();
    let large_models: Vec<String> = reports[1].per_model.iter().map(|(m, c)| format!("{m} {c}")).collect();
    println!("  models in the large library: {}", large_models.join(", "));

    // 2. Core.
    let queries = seed::search_queries(args.queries, args.seed);
    let core: Vec<CoreNumbers> = reports.iter().map(|r| core_numbers(&r.root, &queries)).collect();
    let hits: Vec<f64> = core[1].search.iter().map(|t| t.hits as f64).collect();
    println!(
        "  {} search queries (1-3 words, last often cut short), e.g. {}; matches in the large library: \
         median {}, p95 {}, max {}, none for {}",
        queries.len(),
        queries.iter().take(4).map(|q| format!("{q:?}")).collect::<Vec<_>>().join(", "),
        median(&hits).unwrap(),
        percentile(&hits, 95.0).unwrap(),
        hits.iter().cloned().fold(0.0, f64::max),
        hits.iter().filter(|&&h| h == 0.0).count(),
    );
    println!();

    // 3. Window.
    let window = if args.core_only {
        None
    } else {
        let libs = [
            Lib {
                name: args.small.to_string(),
                report: &reports[0],
                picks: pick_window_queries(&core[0], &queries, args.small, args.window_queries),
            },
            Lib {
                name: args.large.to_string(),
                report: &reports[1],
                picks: pick_window_queries(&core[1], &queries, args.large, args.window_queries),
            },
        ];
        Some(window_numbers(&libs, &args).await)
    };

    // 4. The table.
    let mut t = Table { rows: Vec::new() };
    if let Some(w) = &window {
        let med =
            |w: &WindowNumbers, f: fn(&LaunchRun) -> f64| ms_cell(median(&w.runs.iter().map(f).collect::<Vec<_>>()));
        t.row(
            format!("launch → first gallery tile on screen (median of {})", args.runs),
            med(&w[0], |r| r.total_ms),
            med(&w[1], |r| r.total_ms),
        );
        t.row("  launch → first screen", med(&w[0], |r| r.first_screen_ms), med(&w[1], |r| r.first_screen_ms));
        t.row(
            "  click nav-gallery → first tile",
            med(&w[0], |r| r.click_to_tile_ms),
            med(&w[1], |r| r.click_to_tile_ms),
        );
        let poster =
            |w: &WindowNumbers| ms_cell(median(&w.runs.iter().filter_map(|r| r.poster_ms).collect::<Vec<_>>()));
        t.row("  click nav-gallery → first poster loaded", poster(&w[0]), poster(&w[1]));
    }
    t.row("core: gallery first page + count, no search (median)", Cell::Ms(core[0].open_ms), Cell::Ms(core[1].open_ms));
    let part = |c: &CoreNumbers, f: fn(&Timed) -> f64, p: f64| {
        ms_cell(percentile(&c.search.iter().map(f).collect::<Vec<_>>(), p))
    };
    for p in [50.0, 95.0] {
        let cell = |c: &CoreNumbers| part(c, |t| t.total_ms, p);
        t.row(
            format!("core: search, first page of 120 + count, p{p} ({} queries)", queries.len()),
            cell(&core[0]),
            cell(&core[1]),
        );
    }
    t.row("  the page alone, p50", part(&core[0], |t| t.page_ms, 50.0), part(&core[1], |t| t.page_ms, 50.0));
    t.row("  the count alone, p50", part(&core[0], |t| t.count_ms, 50.0), part(&core[1], |t| t.count_ms, 50.0));
    if let Some(w) = &window {
        let search = |w: &WindowNumbers| ms_cell(median(&w.search_ms));
        let n = |w: &WindowNumbers| w.search_ms.len() + w.search_timeouts;
        t.row(
            format!("window: search typed → gallery-count updated, p50 ({} / {} queries)", n(&w[0]), n(&w[1])),
            search(&w[0]),
            search(&w[1]),
        );
        let secs = args.scroll_ms / 1000.0;
        let rows: [(String, ScrollCell); 7] = [
            (format!("window: fling {secs} s top → bottom, frame time p50"), |s| ms_cell(median(&s.deltas))),
            ("  frame time p95".into(), |s| ms_cell(percentile(&s.deltas, 95.0))),
            ("  frame time max".into(), |s| ms_cell(s.deltas.iter().cloned().reduce(f64::max))),
            ("  frames > 50 ms (of all frames)".into(), |s| {
                Cell::Text(format!("{} of {}", s.deltas.iter().filter(|&&d| d > 50.0).count(), s.deltas.len()))
            }),
            ("  most result tiles in the DOM at once".into(), |s| Cell::Count(s.max_tiles)),
            ("  distinct tiles rendered during the scroll".into(), |s| Cell::Count(s.distinct_tiles)),
            ("  reached the bottom / oldest video shown".into(), |s| {
                let shown = format!("{} / {}", yes(s.at_bottom), yes(s.last_tile_shown));
                Cell::Text(if s.scrollable { shown } else { format!("no scroll, {shown}") })
            }),
        ];
        let wheel_rows: [(String, ScrollCell); 3] = [
            (format!("window: scroll at {} px/s for {secs} s, frame time p50", WHEEL_PX_PER_MS * 1000.0), |s| {
                ms_cell(median(&s.deltas))
            }),
            ("  frame time p95".into(), |s| ms_cell(percentile(&s.deltas, 95.0))),
            ("  frames > 50 ms (of all frames)".into(), |s| {
                Cell::Text(format!("{} of {}", s.deltas.iter().filter(|&&d| d > 50.0).count(), s.deltas.len()))
            }),
        ];
        for (label, f) in wheel_rows {
            let cell = |w: &WindowNumbers| match &w.wheel {
                Some(s) if s.ran => f(s),
                _ => Cell::None,
            };
            t.row(label, cell(&w[0]), cell(&w[1]));
        }
        for (label, f) in rows {
            let cell = |w: &WindowNumbers| match &w.scroll {
                Some(s) if s.ran => f(s),
                _ => Cell::None,
            };
            t.row(label, cell(&w[0]), cell(&w[1]));
        }
    }
    t.print(args.small, args.large);

    if let Some(w) = &window {
        println!();
        for (lib_n, w) in [args.small, args.large].iter().zip(w.iter()) {
            let runs: Vec<String> = w.runs.iter().map(|r| fmt_ms(r.total_ms)).collect();
            println!("{} videos, launch → first tile per run: {}", thousands(*lib_n), runs.join(", "));
            for note in [w.search_note.as_ref(), w.scroll.as_ref().and_then(|s| s.note.as_ref())].into_iter().flatten()
            {
                println!("  note: {note}");
            }
        }
        println!(
            "Launch times include starting tauri-driver and the WebDriver session, and the harness's polling (every \
             100 ms) for the first screen; click → tile, search and scroll are timed inside the page, frame by frame. \
             Window search includes the search box's debounce. Screenshots: target/e2e-screenshots/bench-*.png"
        );
    }
    if args.keep {
        for d in dirs {
            let kept: PathBuf = d.keep();
            println!("kept {}", kept.display());
        }
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=200).map(f64::from).collect();
        assert_eq!((median(&v), percentile(&v, 95.0), percentile(&v, 100.0)), (Some(100.0), Some(190.0), Some(200.0)));
        assert_eq!(percentile(&[7.0], 95.0), Some(7.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(
            (thousands(10), thousands(10_000), thousands(1_234_567)),
            ("10".into(), "10,000".into(), "1,234,567".into())
        );
        assert_eq!(
            (fmt_ms(0.384), fmt_ms(3.84), fmt_ms(38.4), fmt_ms(3840.0)),
            ("0.38 ms".into(), "3.8 ms".into(), "38 ms".into(), "3.84 s".into())
        );
    }

    #[test]
    fn window_queries_change_the_count_each_time() {
        let timed = |hits| Timed { total_ms: 1.0, page_ms: 0.5, count_ms: 0.5, hits };
        let core = CoreNumbers { open_ms: 1.0, search: [0, 5, 5, 100, 7, 8].map(timed).to_vec() };
        let queries: Vec<String> = ["a", "b", "c", "d", "e", "f"].map(String::from).to_vec();
        let picks = pick_window_queries(&core, &queries, 100, 10);
        assert_eq!(picks, vec![("b".to_string(), 5), ("e".to_string(), 7), ("f".to_string(), 8)]);
        assert_eq!(pick_window_queries(&core, &queries, 100, 1).len(), 1);
    }
}
