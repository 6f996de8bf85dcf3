//! `bench`: the gallery with libraries of 10, 10,000 and 100,000 videos, measured side by
//! side in one run, beside a blank Tauri window of the same Tauri version. Not a test:
//! nothing here passes or fails on time; it prints figures, their ratios and their goals.
//!
//! 1. Makes real-sized posters (1280×720 and 1920×1080 JPEGs and their portrait twins) and
//!    seeds the libraries with them (SQL in one transaction, hard links; a thumb per poster,
//!    as the app makes them).
//! 2. Core: the gallery's first page and full-text search (first page of 120 + the count,
//!    as the window asks for them) over each, straight through `studio::library`.
//! 3. Window (skipped with `--core-only`): launches the real app on each library and the
//!    blank window (`--runs` times, interleaved, after an unmeasured warm-up of each) and
//!    measures launch → first screen, → first gallery tile, and the memory (PSS) of the
//!    whole process tree idle with the gallery open; in the last run of each library,
//!    search typed into the gallery, a scroll at wheel speed and a fling top to bottom with
//!    their frame times.
//! 4. I/O (skipped with `--no-io`): the 1 GiB download beside curl and the poller with 200
//!    running tasks (`e2e::bench_io`).
//!
//! Run it through `scripts/bench.sh`, which builds everything in release and provides Xvfb,
//! D-Bus and the keyring; `--core-only` needs none of them.

#[path = "bench/procmem.rs"]
mod procmem;
#[path = "bench/table.rs"]
mod table;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use e2e::bench_io;
use e2e::seed::{self, PosterSet, SeedOptions, SeedReport, Writer};
use e2e::{App, Launch};
use fantoccini::wd::TimeoutConfiguration;
use kie_sim::{Sim, SimConfig};
use serde_json::{json, Map, Value};
use studio::library::{self, ResultQuery, ResultSort};
use studio::Db;
use table::{fmt_ms, thousands, Cell, Table};

const USAGE: &str = "\
bench: the gallery at 10, 10,000 and 100,000 videos side by side, against a blank Tauri window

usage: bench [options]
  --libraries N,N,...  videos in each library (default 10,10000,100000); ratios are to the smallest
  --runs N             launches of each library and of the blank window, after one unmeasured
                       launch of each (default 5; median reported)
  --idle-seconds S     idle with the gallery open before the memory is read (default 3)
  --queries N          core search queries (default 200)
  --window-queries N   searches typed into the window (default 20)
  --scroll-seconds S   length of each scroll through the gallery (default 5)
  --seed N             seed of the libraries, posters and queries (default 1)
  --writer sql|api     how the libraries are written (default sql; api is the app's own calls)
  --sample-posters     the simulator's 320×180 posters instead of real-sized ones
  --no-blank           no blank window (KIE_BENCH_BLANK is its binary; scripts/bench.sh builds it)
  --no-io              no download and poller figures
  --core-only          seeding and core search only: no window, no tauri-driver, no I/O
  --keep               keep the seeded libraries (their folders are printed)
  --json               print one JSON line last, with every figure";

#[derive(Debug, Clone)]
struct Args {
    libraries: Vec<usize>,
    runs: usize,
    idle: Duration,
    queries: usize,
    window_queries: usize,
    scroll_ms: f64,
    seed: u64,
    writer: Writer,
    sample_posters: bool,
    blank: bool,
    io: bool,
    core_only: bool,
    keep: bool,
    json: bool,
}

/// "10,10000,100000" → sorted, without repeats; `None` if any is not a positive number.
fn parse_libraries(v: &str) -> Option<Vec<usize>> {
    let set: BTreeSet<usize> = v
        .split(',')
        .map(|s| s.trim().replace('_', "").parse::<usize>().ok().filter(|&n| n > 0))
        .collect::<Option<_>>()?;
    (!set.is_empty()).then(|| set.into_iter().collect())
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
    let mut a = Args {
        libraries: vec![10, 10_000, 100_000],
        runs: 5,
        idle: Duration::from_secs(3),
        queries: 200,
        window_queries: 20,
        scroll_ms: 5000.0,
        seed: 1,
        writer: Writer::Sql,
        sample_posters: false,
        blank: true,
        io: true,
        core_only: false,
        keep: false,
        json: false,
    };
    let mut it = args.into_iter();
    fn num<T: std::str::FromStr>(name: &str, v: Option<String>) -> Result<T, String> {
        let v = v.ok_or_else(|| format!("{name} needs a value"))?;
        v.parse().map_err(|_| format!("{name}: {v:?} is not a number"))
    }
    while let Some(flag) = it.next() {
        match flag.as_str() {
            "--libraries" => {
                let v = it.next().ok_or("--libraries needs a value")?;
                a.libraries =
                    parse_libraries(&v).ok_or_else(|| format!("--libraries: {v:?} is not a list of sizes"))?;
            }
            "--runs" => a.runs = num(&flag, it.next())?,
            "--idle-seconds" => a.idle = Duration::from_secs_f64(num::<f64>(&flag, it.next())?.max(0.0)),
            "--queries" => a.queries = num(&flag, it.next())?,
            "--window-queries" => a.window_queries = num(&flag, it.next())?,
            "--scroll-seconds" => a.scroll_ms = num::<f64>(&flag, it.next())? * 1000.0,
            "--seed" => a.seed = num(&flag, it.next())?,
            "--writer" => {
                a.writer = match it.next().as_deref() {
                    Some("sql") => Writer::Sql,
                    Some("api") => Writer::Api,
                    other => return Err(format!("--writer: {other:?} is neither sql nor api")),
                }
            }
            "--sample-posters" => a.sample_posters = true,
            "--no-blank" => a.blank = false,
            "--no-io" => a.io = false,
            "--core-only" => a.core_only = true,
            "--keep" => a.keep = true,
            "--json" => a.json = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other:?}")),
        }
    }
    if a.runs == 0 || a.queries == 0 {
        return Err("--runs and --queries must be at least 1".into());
    }
    if a.core_only {
        (a.blank, a.io) = (false, false);
    }
    Ok(a)
}

// ---------- numbers ----------

/// Nearest-rank percentile; `None` for none.
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

/// Rounded for the JSON line: three decimals are well below any figure's noise.
fn round3(v: Option<f64>) -> Value {
    v.map(|v| json!((v * 1000.0).round() / 1000.0)).unwrap_or(Value::Null)
}

/// The 1-minute load average (`/proc/loadavg`): what else the machine was doing.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
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

impl CoreNumbers {
    fn search_ms(&self, f: fn(&Timed) -> f64, p: f64) -> Option<f64> {
        percentile(&self.search.iter().map(f).collect::<Vec<_>>(), p)
    }
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

/// The result tiles in view, how many show a loaded picture, and the first one's size and
/// address (a thumb or the poster itself).
const PICTURES_JS: &str = r#"
const re = /^result-\d+$/;
const inView = [...document.querySelectorAll('[data-testid^="result-"]')].filter(el => {
  if (!re.test(el.getAttribute('data-testid'))) return false;
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight;
});
const imgs = inView.map(el => el.querySelector('img')).filter(Boolean);
const loaded = imgs.filter(i => i.complete && i.naturalWidth > 0);
const first = loaded[0];
return {
  in_view: inView.length, loaded: loaded.length,
  natural: first ? [first.naturalWidth, first.naturalHeight] : null,
  src: first ? (first.currentSrc || first.src) : null,
};
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

impl Scroll {
    fn p(&self, p: f64) -> Option<f64> {
        if self.ran {
            percentile(&self.deltas, p)
        } else {
            None
        }
    }

    fn slow_frames(&self) -> Cell {
        if !self.ran {
            return Cell::Missing;
        }
        Cell::Text(format!("{} of {}", self.deltas.iter().filter(|&&d| d > 50.0).count(), self.deltas.len()))
    }
}

/// The pictures of the tiles in view, after idling with the gallery open.
#[derive(Debug, Default, Clone)]
struct Pictures {
    in_view: u64,
    loaded: u64,
    natural: Option<(u64, u64)>,
    src: Option<String>,
}

impl Pictures {
    /// Thumbs, or the posters themselves.
    fn kind(&self) -> &'static str {
        match &self.src {
            Some(src) if src.contains("/thumbs/") => "thumbs",
            Some(_) => "posters",
            None => "pictures",
        }
    }

    /// "15/15 thumbs": loaded of those in view.
    fn cell(&self) -> String {
        format!("{}/{} {}", self.loaded, self.in_view, self.kind())
    }

    fn show(&self) -> String {
        match self.natural {
            Some((w, h)) => format!("{}, {w}×{h}", self.cell()),
            None => self.cell(),
        }
    }
}

#[derive(Debug, Default, Clone)]
struct WindowNumbers {
    /// The first launch on the library, not counted.
    warmup: Option<LaunchRun>,
    runs: Vec<LaunchRun>,
    memory: Vec<procmem::TreePss>,
    pictures: Option<Pictures>,
    search_ms: Vec<f64>,
    search_timeouts: usize,
    search_note: Option<String>,
    scroll: Option<Scroll>,
    wheel: Option<Scroll>,
    /// The wheel scroll again with the grid's scroll handler stopped: what this machine's
    /// WebKit costs to move the page alone (the floor under the frame times).
    floor: Option<Scroll>,
    notes: Vec<String>,
}

impl WindowNumbers {
    fn med(&self, f: fn(&LaunchRun) -> f64) -> Option<f64> {
        median(&self.runs.iter().map(f).collect::<Vec<_>>())
    }

    fn poster_ms(&self) -> Option<f64> {
        median(&self.runs.iter().filter_map(|r| r.poster_ms).collect::<Vec<_>>())
    }
}

fn memory_mib(m: &[procmem::TreePss]) -> Option<f64> {
    median(&m.iter().map(procmem::TreePss::mib).collect::<Vec<_>>())
}

/// The blank window's figures.
#[derive(Debug, Default, Clone)]
struct BlankNumbers {
    first_screen_ms: Vec<f64>,
    memory: Vec<procmem::TreePss>,
    notes: Vec<String>,
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

async fn pictures(app: &App) -> Pictures {
    let v = app.client.execute(PICTURES_JS, vec![]).await.unwrap_or(Value::Null);
    let n = |k: &str| v[k].as_u64().unwrap_or(0);
    Pictures {
        in_view: n("in_view"),
        loaded: n("loaded"),
        natural: v["natural"].as_array().and_then(|a| Some((a.first()?.as_u64()?, a.get(1)?.as_u64()?))),
        src: v["src"].as_str().map(str::to_string),
    }
}

/// The PSS of the program `app` launched (found below its tauri-driver) and everything it
/// started; a note when it cannot be read.
fn memory_of(app: &App, program: &Path) -> Result<procmem::TreePss, String> {
    let driver = app.driver_pid().ok_or("tauri-driver has exited")?;
    let pid = procmem::find_program(driver, program)
        .ok_or_else(|| format!("no process of {} below tauri-driver ({driver})", program.display()))?;
    let tree = procmem::tree_pss(pid);
    if tree.total_kib == 0 {
        return Err(format!("no readable /proc/<pid>/smaps_rollup for {pid}"));
    }
    Ok(tree)
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

/// Stops (true) or lets again (false) gallery-scroll's own scroll handlers: a capture listener
/// on the element runs first and stops the event, so the grid keeps the rows it has.
const HOLD_GRID_JS: &str = r#"
const el = document.querySelector('[data-testid="gallery-scroll"]');
if (!el) return false;
window.__benchHold ??= (e) => e.stopImmediatePropagation();
if (arguments[0]) el.addEventListener('scroll', window.__benchHold, true);
else el.removeEventListener('scroll', window.__benchHold, true);
return true;
"#;

/// The wheel scroll with the grid held still: the page moves, nothing in it changes.
async fn floor_scroll(app: &App, duration_ms: f64, name: &str) -> Scroll {
    let held = app.client.execute(HOLD_GRID_JS, vec![json!(true)]).await.ok().and_then(|v| v.as_bool());
    if held != Some(true) {
        return Scroll { note: Some("could not hold the grid still".into()), ..Default::default() };
    }
    let s = window_scroll(app, duration_ms, Some(WHEEL_PX_PER_MS), None, name).await;
    let _ = app.client.execute(HOLD_GRID_JS, vec![json!(false)]).await;
    s
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
    app.screenshot(&format!("bench-{name}-scrolled")).await;
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
    report: &'a SeedReport,
    /// Queries for the window: (text, matches), chosen to change the count.
    picks: Vec<(String, i64)>,
}

impl Lib<'_> {
    fn name(&self) -> String {
        self.report.n.to_string()
    }
}

async fn with_script_timeout(app: &App) {
    let mut timeouts = TimeoutConfiguration::default();
    timeouts.set_script(Some(Duration::from_secs(120)));
    app.client.update_timeouts(timeouts).await.expect("set the script timeout");
}

/// Launches that failed to start (the driver or its WebDriver session) and were tried again.
static LAUNCH_RETRIES: AtomicUsize = AtomicUsize::new(0);

/// `App::launch`, and when it fails to start (it panics: the driver or the WebDriver session
/// did not come up), a fresh try, up to 3: one hiccup must not lose a whole run. Returns the
/// app and when its successful launch began.
async fn launch_app(launch: &Launch, what: &str) -> (App, Instant) {
    for attempt in 1..=3 {
        let l = launch.clone();
        let started = Instant::now();
        match tokio::spawn(async move { App::launch(&l).await }).await {
            Ok(app) => return (app, started),
            Err(e) if attempt < 3 => {
                LAUNCH_RETRIES.fetch_add(1, Ordering::Relaxed);
                eprintln!("window: {what}: launch {attempt} failed ({e}); trying again");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            Err(e) => panic!("{what}: 3 launches failed, the last: {e}"),
        }
    }
    unreachable!()
}

async fn launch_once(lib: &Lib<'_>, sim: &Sim, tag: &str) -> (App, LaunchRun) {
    let launch = Launch::new(&lib.report.root, sim, &format!("bench-{}-{tag}", lib.name())).with_key("bench-key");
    let (app, started) = launch_app(&launch, &format!("{} videos", thousands(lib.report.n))).await;
    let first_screen = started.elapsed();
    with_script_timeout(&app).await;
    let mut run = open_gallery(&app, started).await;
    run.first_screen_ms = ms(first_screen);
    eprintln!("window: {} videos, {tag}: start-up: {}", thousands(lib.report.n), startup_marks(&app, started).await);
    (app, run)
}

/// When the page began after the launch began (the process, WebKit and the driver), then the
/// page's own start-up marks (`kie:*`, ui/src/main.ts and the studio state) in ms since the
/// page began: where launch time goes.
async fn startup_marks(app: &App, started: Instant) -> String {
    let v = app
        .client
        .execute(
            "return {now: performance.now(), marks: performance.getEntriesByType('mark') \
               .filter(m => m.name.startsWith('kie:')).map(m => [m.name.slice(4), m.startTime])};",
            vec![],
        )
        .await
        .unwrap_or(Value::Null);
    // Both clocks read at about the same moment (one script's round trip apart).
    let began = v["now"].as_f64().map(|now| ms(started.elapsed()) - now);
    let marks = v["marks"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| Some(format!("{} {}", m.get(0)?.as_str()?, fmt_ms(m.get(1)?.as_f64()?))));
    let began = began.map_or("page began ?".into(), |b| format!("page began {} after the launch", fmt_ms(b)));
    std::iter::once(began).chain(marks).collect::<Vec<_>>().join(", ")
}

/// The blank window, launched as the app is (same driver, same first-screen check: its page
/// carries what `App::launch` waits for); returns it and launch → first screen, ms.
async fn launch_blank(program: &Path, sim: &Sim, tag: &str) -> (App, f64) {
    let nowhere = tempfile::tempdir().expect("a temporary folder");
    let launch = Launch::new(nowhere.path(), sim, &format!("bench-blank-{tag}")).with_program(program);
    let (app, started) = launch_app(&launch, "blank window").await;
    let first_screen = ms(started.elapsed());
    eprintln!("window: blank window, {tag}: start-up: {}", startup_marks(&app, started).await);
    (app, first_screen)
}

async fn window_numbers(
    libs: &[Lib<'_>],
    blank: Option<&Path>,
    args: &Args,
) -> (Vec<WindowNumbers>, Option<BlankNumbers>) {
    let sim =
        Sim::start(SimConfig { key: "bench-key".into(), ..SimConfig::default() }).await.expect("start the simulator");
    let app_program = e2e::app_binary();
    let mut out: Vec<WindowNumbers> = libs.iter().map(|_| WindowNumbers::default()).collect();
    let mut blank_out = blank.map(|_| BlankNumbers::default());
    // One unmeasured launch of each library and of the blank window: the programs' files in
    // the page cache, and whatever the app does once on a library it opens for the first time
    // (a real library of 100,000 videos has been opened before). Its time is reported apart.
    for (lib, out) in libs.iter().zip(out.iter_mut()) {
        let (app, r) = launch_once(lib, &sim, "warmup").await;
        app.quit().await;
        eprintln!(
            "window: {} videos, warm-up launch (not counted): {} to the first tile",
            thousands(lib.report.n),
            fmt_ms(r.total_ms)
        );
        out.warmup = Some(r);
    }
    if let Some(b) = blank {
        let (app, t) = launch_blank(b, &sim, "warmup").await;
        app.quit().await;
        eprintln!("window: blank window warm-up (not counted): {} to the first screen", fmt_ms(t));
    }
    for run in 0..args.runs {
        let last = run + 1 == args.runs;
        for (lib, out) in libs.iter().zip(out.iter_mut()) {
            let n = thousands(lib.report.n);
            let (app, r) = launch_once(lib, &sim, &run.to_string()).await;
            // Idle with the gallery open, then the memory of everything the app runs.
            tokio::time::sleep(args.idle).await;
            let mem = memory_of(&app, &app_program);
            let pics = pictures(&app).await;
            eprintln!(
                "window: {n} videos, run {}/{}: first screen {}, first tile {} ({} after the click); memory {}; \
                 pictures in view {}",
                run + 1,
                args.runs,
                fmt_ms(r.first_screen_ms),
                fmt_ms(r.total_ms),
                fmt_ms(r.click_to_tile_ms),
                mem.as_ref().map(|m| format!("{:.0} MiB", m.mib())).unwrap_or_else(|e| e.clone()),
                pics.show(),
            );
            match mem {
                Ok(m) => out.memory.push(m),
                Err(e) => out.notes.push(format!("memory: {e}")),
            }
            out.runs.push(r);
            if last {
                out.pictures = Some(pics);
                app.screenshot(&format!("bench-{}-gallery", lib.name())).await;
                window_search(&app, &lib.picks, out).await;
                eprintln!("window: {n} videos: {} searches typed", out.search_ms.len() + out.search_timeouts);
                let wheel =
                    window_scroll(&app, args.scroll_ms, Some(WHEEL_PX_PER_MS), None, &format!("{}-wheel", lib.name()))
                        .await;
                eprintln!("window: {n} videos: scrolled at wheel speed ({} frames)", wheel.deltas.len());
                out.wheel = Some(wheel);
                let fling = window_scroll(
                    &app,
                    args.scroll_ms,
                    None,
                    lib.report.oldest_result_id(),
                    &format!("{}-fling", lib.name()),
                )
                .await;
                eprintln!("window: {n} videos: flung top to bottom ({} frames)", fling.deltas.len());
                out.scroll = Some(fling);
                let floor = floor_scroll(&app, args.scroll_ms, &format!("{}-floor", lib.name())).await;
                eprintln!("window: {n} videos: scrolled with the grid held still ({} frames)", floor.deltas.len());
                out.floor = Some(floor);
            }
            app.quit().await;
        }
        if let (Some(b), Some(bo)) = (blank, blank_out.as_mut()) {
            let (app, t) = launch_blank(b, &sim, &run.to_string()).await;
            tokio::time::sleep(args.idle).await;
            let mem = memory_of(&app, b);
            eprintln!(
                "window: blank window, run {}/{}: first screen {}; memory {}",
                run + 1,
                args.runs,
                fmt_ms(t),
                mem.as_ref().map(|m| format!("{:.0} MiB", m.mib())).unwrap_or_else(|e| e.clone()),
            );
            bo.first_screen_ms.push(t);
            match mem {
                Ok(m) => bo.memory.push(m),
                Err(e) => bo.notes.push(format!("memory: {e}")),
            }
            if last {
                app.screenshot("bench-blank-window").await;
            }
            app.quit().await;
        }
    }
    (out, blank_out)
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

// ---------- I/O ----------

#[derive(Debug, Default)]
struct IoNumbers {
    download: Option<Value>,
    poller: Option<Value>,
    notes: Vec<String>,
}

async fn io_numbers() -> IoNumbers {
    let mut out = IoNumbers::default();
    eprintln!("io: downloading a 1 GiB result, the app and curl ...");
    match bench_io::download(&bench_io::DownloadOptions::default()).await {
        Ok(d) => out.download = serde_json::to_value(d).ok(),
        Err(e) => out.notes.push(format!("download: {e}")),
    }
    eprintln!("io: the poller with its running tasks ...");
    match bench_io::poller(&bench_io::PollerOptions::default()).await {
        Ok(p) => out.poller = serde_json::to_value(p).ok(),
        Err(e) => out.notes.push(format!("poller: {e}")),
    }
    out
}

/// The goal of an I/O figure, by its name in `e2e::bench_io`.
fn io_goal(key: &str) -> &'static str {
    match key {
        "ratio" => "≥ 0.9 (app / curl)",
        "rss_growth_mib" => "≤ 16",
        "record_info_per_s_max" => "≤ 10",
        "cpu_percent_of_core" => "≤ 1",
        "cadence_ok" | "http_429" => "as documented",
        _ => "",
    }
}

/// A text too long for a column of figures.
fn is_sentence(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.chars().count() > 16)
}

/// The sentences among the I/O figures, as "poller: cadence_note: …".
fn io_notes(io: &IoNumbers) -> Vec<String> {
    let mut out = Vec::new();
    for (what, v) in [("download", &io.download), ("poller", &io.poller)] {
        if let Some(Value::Object(m)) = v {
            for (k, v) in m.iter().filter(|(_, v)| is_sentence(v)) {
                out.push(format!("{what}: {k}: {}", v.as_str().unwrap_or_default()));
            }
        }
    }
    out
}

/// A figure of `e2e::bench_io` as a cell: numbers as they are, anything else as text.
fn io_cell(v: &Value) -> Cell {
    match v {
        Value::Number(n) => Cell::Count(n.as_f64().map(|f| (f * 1000.0).round() / 1000.0).unwrap_or(0.0)),
        Value::String(s) => Cell::Text(s.clone()),
        Value::Null => Cell::Missing,
        other => Cell::Text(other.to_string()),
    }
}

// ---------- the report ----------

struct Report<'a> {
    args: &'a Args,
    reports: &'a [SeedReport],
    core: &'a [CoreNumbers],
    queries: usize,
    window: Option<&'a [WindowNumbers]>,
    blank: Option<&'a BlankNumbers>,
    io: Option<&'a IoNumbers>,
}

impl Report<'_> {
    fn per_lib<T>(&self, f: impl Fn(usize) -> T) -> Vec<T> {
        (0..self.reports.len()).map(f).collect()
    }

    fn window_cells(&self, f: impl Fn(&WindowNumbers) -> Cell) -> Vec<Cell> {
        match self.window {
            Some(w) => w.iter().map(f).collect(),
            None => Vec::new(),
        }
    }

    fn table(&self) -> Table {
        let libs: Vec<usize> = self.reports.iter().map(|r| r.n).collect();
        let small = thousands(libs[0]);
        let mut t = Table::new(libs.clone(), self.blank.is_some());
        let blank_cell = |f: &dyn Fn(&BlankNumbers) -> Option<f64>, mk: fn(Option<f64>) -> Cell| match self.blank {
            Some(b) => mk(f(b)),
            None => Cell::Empty,
        };
        let vs_small = |x: &str| format!("≤ {x}× the {small}");
        if let Some(w) = self.window {
            let runs = self.args.runs;
            t.section(format!("launch (median of {runs}; the blank window is timed by the same check)"));
            t.row_with_blank(
                "launch → first screen",
                w.iter().map(|w| Cell::ms(w.med(|r| r.first_screen_ms))).collect(),
                blank_cell(&|b| median(&b.first_screen_ms), Cell::ms),
                &format!("100k: ≤ 1.1× the {small}, ≤ 1.2× blank"),
            );
            t.row(
                "launch → first gallery tile on screen",
                w.iter().map(|w| Cell::ms(w.med(|r| r.total_ms))).collect(),
                &format!("100k: ≤ 1.1× the {small}"),
            );
            t.row(
                "  click Gallery → first tile",
                w.iter().map(|w| Cell::ms(w.med(|r| r.click_to_tile_ms))).collect(),
                "",
            );
            t.row("  click Gallery → first picture loaded", w.iter().map(|w| Cell::ms(w.poster_ms())).collect(), "");
            let idle = self.args.idle.as_secs_f64();
            t.section(format!("memory: PSS of the app and every process it started, idle {idle} s with the gallery open (median of {runs})"));
            t.row_with_blank(
                "memory, whole process tree",
                w.iter().map(|w| Cell::mib(memory_mib(&w.memory))).collect(),
                blank_cell(&|b| memory_mib(&b.memory), Cell::mib),
                "100k: ≤ 1.3× blank",
            );
            // Each kind of process, in the last run.
            let mut names: BTreeSet<String> = BTreeSet::new();
            for m in w.iter().filter_map(|w| w.memory.last()).chain(self.blank.and_then(|b| b.memory.last())) {
                names.extend(m.by_name.keys().cloned());
            }
            for name in names {
                let part = |m: Option<&procmem::TreePss>| match m.and_then(|m| m.by_name.get(&name)) {
                    Some((_, kib)) => Cell::Mib(*kib as f64 / 1024.0),
                    None => Cell::Empty,
                };
                t.row_with_blank(
                    format!("  {name} (last run)"),
                    w.iter().map(|w| part(w.memory.last())).collect(),
                    match self.blank {
                        Some(b) => part(b.memory.last()),
                        None => Cell::Empty,
                    },
                    "",
                );
            }
            t.row(
                "  tiles in view with their picture loaded",
                self.window_cells(|w| w.pictures.as_ref().map(|p| Cell::Text(p.cell())).unwrap_or(Cell::Missing)),
                "",
            );
        }
        let profile = if cfg!(debug_assertions) { "DEBUG" } else { "release" };
        t.section(format!("core: this bench's {profile} build of studio and SQLite"));
        t.row(
            "gallery first page + count (median of 30)",
            self.per_lib(|i| Cell::Ms(self.core[i].open_ms)),
            "100k: ≤ 2 ms",
        );
        for p in [50.0, 95.0] {
            t.row(
                format!("search, first page of 120 + count, p{p} ({} queries)", self.queries),
                self.per_lib(|i| Cell::ms(self.core[i].search_ms(|t| t.total_ms, p))),
                if p == 95.0 { "100k: ≤ 5 ms" } else { "" },
            );
        }
        t.row("  the page alone, p50", self.per_lib(|i| Cell::ms(self.core[i].search_ms(|t| t.page_ms, 50.0))), "");
        t.row("  the count alone, p50", self.per_lib(|i| Cell::ms(self.core[i].search_ms(|t| t.count_ms, 50.0))), "");
        if let Some(w) = self.window {
            let secs = self.args.scroll_ms / 1000.0;
            t.section("window: search, and scrolling (the last run of each library)");
            t.row(
                "search typed → gallery-count updated, p50 (debounce included)",
                w.iter().map(|w| Cell::ms(median(&w.search_ms))).collect(),
                "",
            );
            let wheel = |f: &dyn Fn(&Scroll) -> Cell| -> Vec<Cell> {
                w.iter().map(|w| w.wheel.as_ref().map(f).unwrap_or(Cell::Missing)).collect()
            };
            t.row(
                format!("scroll at {} px/s for {secs} s, frame time p50", WHEEL_PX_PER_MS * 1000.0),
                wheel(&|s| Cell::ms(s.p(50.0))),
                "",
            );
            t.row("  frame time p95", wheel(&|s| Cell::ms(s.p(95.0))), &vs_small("1.25"));
            t.row("  frames > 50 ms", wheel(&Scroll::slow_frames), "");
            let floor = |f: &dyn Fn(&Scroll) -> Cell| -> Vec<Cell> {
                w.iter().map(|w| w.floor.as_ref().map(f).unwrap_or(Cell::Missing)).collect()
            };
            t.row("  the floor: same scroll, grid held still, p50", floor(&|s| Cell::ms(s.p(50.0))), "");
            t.row("  the floor, p95", floor(&|s| Cell::ms(s.p(95.0))), "");
            let fling = |f: &dyn Fn(&Scroll) -> Cell| -> Vec<Cell> {
                w.iter().map(|w| w.scroll.as_ref().map(f).unwrap_or(Cell::Missing)).collect()
            };
            t.row(format!("fling top → bottom in {secs} s, frame time p50"), fling(&|s| Cell::ms(s.p(50.0))), "");
            t.row("  frame time p95", fling(&|s| Cell::ms(s.p(95.0))), &vs_small("1.25"));
            t.row("  frame time max", fling(&|s| Cell::ms(s.p(100.0))), "");
            t.row("  frames > 50 ms", fling(&Scroll::slow_frames), "");
            t.row("  most result tiles in the DOM at once", fling(&|s| Cell::Count(s.max_tiles)), "");
            t.row("  distinct tiles rendered during the fling", fling(&|s| Cell::Count(s.distinct_tiles)), "");
            t.row(
                "  reached the bottom / oldest video shown",
                fling(&|s| {
                    let shown = format!("{} / {}", yes(s.at_bottom), yes(s.last_tile_shown));
                    Cell::Text(if s.scrollable { shown } else { format!("no scroll, {shown}") })
                }),
                "",
            );
        }
        if let Some(io) = self.io {
            for (what, v) in [("download of a 1 GiB result", &io.download), ("poller", &io.poller)] {
                t.section(format!("{what} (one figure, not per library; e2e::bench_io)"));
                match v {
                    Some(Value::Object(m)) => {
                        // Sentences go under the table (io_notes), not in a column.
                        for (k, v) in m.iter().filter(|(_, v)| !is_sentence(v)) {
                            t.row(format!("  {k}"), vec![io_cell(v)], io_goal(k));
                        }
                    }
                    _ => t.row("  not measured", vec![Cell::Missing], ""),
                }
            }
        }
        t
    }

    fn json(&self) -> Value {
        let mut libraries = Map::new();
        for (i, r) in self.reports.iter().enumerate() {
            let w = self.window.map(|w| &w[i]);
            let c = &self.core[i];
            let scroll_p = |s: Option<&Scroll>, p: f64| round3(s.and_then(|s| s.p(p)));
            let lib = json!({
                "videos": r.n,
                "launch_first_screen_ms": round3(w.and_then(|w| w.med(|r| r.first_screen_ms))),
                "launch_first_tile_ms": round3(w.and_then(|w| w.med(|r| r.total_ms))),
                "scroll_frame_p95_ms": scroll_p(w.and_then(|w| w.wheel.as_ref()), 95.0),
                "fling_frame_p95_ms": scroll_p(w.and_then(|w| w.scroll.as_ref()), 95.0),
                "core_page_count_ms": round3(Some(c.open_ms)),
                "core_search_p95_ms": round3(c.search_ms(|t| t.total_ms, 95.0)),
                "memory_pss_mib": round3(w.and_then(|w| memory_mib(&w.memory))),
                "click_to_first_tile_ms": round3(w.and_then(|w| w.med(|r| r.click_to_tile_ms))),
                "first_launch_first_tile_ms": round3(w.and_then(|w| w.warmup.as_ref()).map(|r| r.total_ms)),
                "click_to_first_picture_ms": round3(w.and_then(WindowNumbers::poster_ms)),
                "scroll_frame_p50_ms": scroll_p(w.and_then(|w| w.wheel.as_ref()), 50.0),
                "fling_frame_p50_ms": scroll_p(w.and_then(|w| w.scroll.as_ref()), 50.0),
                "scroll_floor_p50_ms": scroll_p(w.and_then(|w| w.floor.as_ref()), 50.0),
                "scroll_floor_p95_ms": scroll_p(w.and_then(|w| w.floor.as_ref()), 95.0),
                "fling_reached_bottom": w.and_then(|w| w.scroll.as_ref()).map(|s| s.at_bottom && s.last_tile_shown),
                "core_search_p50_ms": round3(c.search_ms(|t| t.total_ms, 50.0)),
                "window_search_p50_ms": round3(w.and_then(|w| median(&w.search_ms))),
                "seed_ms": round3(Some(ms(r.elapsed))),
            });
            libraries.insert(r.n.to_string(), lib);
        }
        let blank = self.blank.map(|b| {
            json!({
                "launch_first_screen_ms": round3(median(&b.first_screen_ms)),
                "memory_pss_mib": round3(memory_mib(&b.memory)),
            })
        });
        json!({
            "libraries": libraries,
            "blank_window": blank,
            "download": self.io.and_then(|io| io.download.clone()),
            "poller": self.io.and_then(|io| io.poller.clone()),
            "runs": self.args.runs,
            "seed": self.args.seed,
        })
    }
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

#[tokio::main]
async fn main() {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return;
        }
        Err(e) => {
            eprintln!("{e}\n\n{USAGE}");
            std::process::exit(2)
        }
    };
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    let sizes: Vec<String> = args.libraries.iter().map(|&n| thousands(n)).collect();
    println!("Kie Studio bench: the gallery with {} videos (seed {})", sizes.join(" / "), args.seed);
    let blank_program: Option<PathBuf> = if args.blank {
        match std::env::var_os("KIE_BENCH_BLANK").map(PathBuf::from) {
            Some(p) if p.is_file() => Some(p),
            other => {
                println!(
                    "Blank window: skipped ({}); scripts/bench.sh builds it.",
                    match other {
                        Some(p) => format!("{} is not there", p.display()),
                        None => "KIE_BENCH_BLANK is not set".into(),
                    }
                );
                None
            }
        }
    } else {
        None
    };
    if args.core_only {
        println!("Window and I/O: skipped (--core-only).");
    } else {
        let app = e2e::app_binary();
        let kind = if app.components().any(|c| c.as_os_str() == "release") {
            "a release build"
        } else {
            "NOT a release build"
        };
        println!("App: {} ({kind}); window timings are for that build.", app.display());
        if let Some(b) = &blank_program {
            println!("Blank window: {} (a Tauri 2 window of the app's Tauri version, one static page).", b.display());
        }
    }
    println!("Core timings: this bench's own {profile} build of studio and SQLite.");

    // 1. Posters and libraries.
    let posters_dir = tempfile::tempdir().expect("a temporary folder");
    let posters = if args.sample_posters {
        println!("Posters: the simulator's 320×180 samples (--sample-posters).");
        PosterSet::samples()
    } else {
        let t = Instant::now();
        let set = seed::realistic_posters(posters_dir.path(), args.seed).expect("write the posters");
        let sizes: Vec<String> = set
            .all()
            .iter()
            .map(|p| {
                let name = p.file_name().unwrap_or_default().to_string_lossy();
                let kb = std::fs::metadata(p).map(|m| m.len() / 1024).unwrap_or(0);
                format!("{} {kb} KB", name.trim_start_matches("poster-").trim_end_matches(".jpg"))
            })
            .collect();
        println!("Posters: JPEGs of real frames' size made in {} ({}).", fmt_ms(ms(t.elapsed())), sizes.join(", "));
        set
    };
    let opts = SeedOptions { writer: args.writer, posters };
    let dirs: Vec<tempfile::TempDir> = args.libraries.iter().map(|_| tempfile::tempdir().unwrap()).collect();
    let reports: Vec<SeedReport> = args
        .libraries
        .iter()
        .zip(&dirs)
        .map(|(&n, dir)| {
            let r = seed::seed_library_opts(&dir.path().join("library"), n, args.seed, &opts);
            println!(
                "Seeded {:>7} videos in {:>8} ({:?} writer; {} hard links, {} copies){}",
                thousands(n),
                fmt_ms(ms(r.elapsed)),
                r.writer,
                r.linked,
                r.copied,
                if args.keep { format!(" at {}", r.root.display()) } else { String::new() },
            );
            r
        })
        .collect();
    let largest = reports.last().expect("a library");
    let models: Vec<String> = largest.per_model.iter().map(|(m, c)| format!("{m} {c}")).collect();
    println!("  models in the largest library: {}", models.join(", "));

    // 2. Core.
    let queries = seed::search_queries(args.queries, args.seed);
    let core: Vec<CoreNumbers> = reports.iter().map(|r| core_numbers(&r.root, &queries)).collect();
    let hits: Vec<f64> = core.last().unwrap().search.iter().map(|t| t.hits as f64).collect();
    println!(
        "  {} search queries (1-3 words, last often cut short), e.g. {}; matches in the largest library: \
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
    let load_before = load_average();
    let (window, blank) = if args.core_only {
        (None, None)
    } else {
        let libs: Vec<Lib> = reports
            .iter()
            .zip(&core)
            .map(|(r, c)| Lib { report: r, picks: pick_window_queries(c, &queries, r.n, args.window_queries) })
            .collect();
        let (w, b) = window_numbers(&libs, blank_program.as_deref(), &args).await;
        (Some(w), b)
    };

    let load_after = load_average();

    // 4. I/O.
    let io = if args.io { Some(io_numbers().await) } else { None };

    // 5. The table, its notes, and the JSON line.
    let report = Report {
        args: &args,
        reports: &reports,
        core: &core,
        queries: queries.len(),
        window: window.as_deref(),
        blank: blank.as_ref(),
        io: io.as_ref(),
    };
    println!();
    print!("{}", report.table().render());
    println!();
    if let Some(w) = &window {
        for (r, w) in reports.iter().zip(w) {
            let runs: Vec<String> = w.runs.iter().map(|r| fmt_ms(r.total_ms)).collect();
            let mem: Vec<String> = w.memory.iter().map(|m| format!("{:.0}", m.mib())).collect();
            let first = w.warmup.as_ref().map(|r| fmt_ms(r.total_ms)).unwrap_or_default();
            if let Some(p) = &w.pictures {
                println!("{} videos: pictures in view after idling: {}", thousands(r.n), p.show());
            }
            println!(
                "{} videos: launch → first tile per run: {} (first launch on the library, not counted: {first}); \
                 memory per run (MiB): {}",
                thousands(r.n),
                runs.join(", "),
                mem.join(", ")
            );
            let mut notes: Vec<&String> = w
                .search_note
                .iter()
                .chain(w.wheel.iter().chain(&w.scroll).filter_map(|s| s.note.as_ref()))
                .chain(&w.notes)
                .collect();
            notes.dedup();
            for note in notes {
                println!("  note: {note}");
            }
        }
        if let Some(b) = &blank {
            let runs: Vec<String> = b.first_screen_ms.iter().map(|&t| fmt_ms(t)).collect();
            println!("blank window: launch → first screen per run: {}", runs.join(", "));
            for note in &b.notes {
                println!("  note: {note}");
            }
        }
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
        let load = |l: Option<f64>| l.map(|l| format!("{l:.1}")).unwrap_or_else(|| "?".into());
        println!(
            "Load average (1 min) before / after the window runs: {} / {} on {cores} cores (other programs' work \
             slows launches and frames: compare runs made on a quiet machine).",
            load(load_before),
            load(load_after)
        );
        let retries = LAUNCH_RETRIES.load(Ordering::Relaxed);
        if retries > 0 {
            println!("note: {retries} launches failed to start (driver or WebDriver session) and were tried again");
        }
        println!(
            "Launch times include starting tauri-driver and the WebDriver session, and the harness's polling (every \
             10 ms) for the first screen; click → tile, search and scroll are timed inside the page, frame by frame. \
             Memory is PSS from /proc/<pid>/smaps_rollup summed over the app and its descendants (WebKit's web and \
             network processes). Screenshots: target/e2e-screenshots/bench-*.png"
        );
    }
    if let Some(io) = &io {
        for note in io_notes(io).iter().chain(&io.notes) {
            println!("note: {note}");
        }
    }
    if args.keep {
        for d in dirs {
            let kept: PathBuf = d.keep();
            println!("kept {}", kept.display());
        }
    }
    if args.json {
        println!("{}", report.json());
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
    fn window_queries_change_the_count_each_time() {
        let timed = |hits| Timed { total_ms: 1.0, page_ms: 0.5, count_ms: 0.5, hits };
        let core = CoreNumbers { open_ms: 1.0, search: [0, 5, 5, 100, 7, 8].map(timed).to_vec() };
        let queries: Vec<String> = ["a", "b", "c", "d", "e", "f"].map(String::from).to_vec();
        let picks = pick_window_queries(&core, &queries, 100, 10);
        assert_eq!(picks, vec![("b".to_string(), 5), ("e".to_string(), 7), ("f".to_string(), 8)]);
        assert_eq!(pick_window_queries(&core, &queries, 100, 1).len(), 1);
    }

    fn args(v: &[&str]) -> Result<Args, String> {
        parse_args(v.iter().map(|s| s.to_string()))
    }

    #[test]
    fn libraries_are_a_sorted_list_and_flags_turn_parts_off() {
        let a = args(&[]).unwrap();
        assert_eq!(a.libraries, vec![10, 10_000, 100_000]);
        assert!(a.blank && a.io && !a.json);
        let a = args(&["--libraries", "10000,10,10_000", "--no-io", "--json", "--runs", "2"]).unwrap();
        assert_eq!((a.libraries, a.io, a.blank, a.json, a.runs), (vec![10, 10_000], false, true, true, 2));
        let a = args(&["--core-only"]).unwrap();
        assert!(!a.blank && !a.io);
        for bad in
            [&["--libraries", "10,x"][..], &["--libraries", "0"], &["--libraries", ""], &["--runs", "0"], &["--what"]]
        {
            assert!(args(bad).is_err(), "{bad:?}");
        }
        assert_eq!(args(&["--help"]).unwrap_err(), "");
    }

    fn scroll(deltas: &[f64]) -> Scroll {
        Scroll {
            ran: true,
            deltas: deltas.to_vec(),
            scrollable: true,
            at_bottom: true,
            last_tile_shown: true,
            ..Default::default()
        }
    }

    fn tree(mib: f64) -> procmem::TreePss {
        procmem::TreePss { total_kib: (mib * 1024.0) as u64, ..Default::default() }
    }

    /// The JSON line has every key the issue names, per library and for the blank window,
    /// with the figures behind the table.
    #[test]
    fn the_json_line_has_the_named_keys() {
        let a = args(&["--libraries", "10,1000", "--runs", "1"]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let reports: Vec<SeedReport> =
            [10, 1000].iter().map(|&n| seed::seed_library(&dir.path().join(n.to_string()), n, 1)).collect();
        let timed = |ms| Timed { total_ms: ms, page_ms: ms / 2.0, count_ms: ms / 2.0, hits: 1 };
        let core = vec![
            CoreNumbers { open_ms: 0.5, search: vec![timed(1.0), timed(2.0)] },
            CoreNumbers { open_ms: 1.5, search: vec![timed(3.0), timed(4.0)] },
        ];
        let win = |first: f64, mem: f64| WindowNumbers {
            runs: vec![LaunchRun {
                first_screen_ms: first,
                click_to_tile_ms: 100.0,
                total_ms: first + 100.0,
                poster_ms: None,
            }],
            memory: vec![tree(mem)],
            wheel: Some(scroll(&[16.0, 17.0, 40.0])),
            scroll: Some(scroll(&[16.0, 90.0])),
            ..Default::default()
        };
        let window = vec![win(1000.0, 300.0), win(1200.0, 330.0)];
        let blank = BlankNumbers { first_screen_ms: vec![800.0], memory: vec![tree(150.0)], notes: vec![] };
        let note = "200 of 200 tasks polled, every 20 s";
        let io = IoNumbers {
            download: Some(json!({"ratio": 0.95})),
            poller: Some(json!({"cadence_ok": true, "cadence_note": note})),
            notes: vec![],
        };
        let report = Report {
            args: &a,
            reports: &reports,
            core: &core,
            queries: 2,
            window: Some(&window),
            blank: Some(&blank),
            io: Some(&io),
        };
        let v = report.json();
        let line = v.to_string();
        assert!(!line.contains('\n'));
        let big = &v["libraries"]["1000"];
        assert_eq!(big["launch_first_screen_ms"], json!(1200.0));
        assert_eq!(big["launch_first_tile_ms"], json!(1300.0));
        assert_eq!(big["scroll_frame_p95_ms"], json!(40.0));
        assert_eq!(big["fling_frame_p95_ms"], json!(90.0));
        assert_eq!(big["core_page_count_ms"], json!(1.5));
        assert_eq!(big["core_search_p95_ms"], json!(4.0));
        assert_eq!(big["memory_pss_mib"], json!(330.0));
        assert_eq!(v["libraries"]["10"]["memory_pss_mib"], json!(300.0));
        assert_eq!(v["blank_window"], json!({"launch_first_screen_ms": 800.0, "memory_pss_mib": 150.0}));
        assert_eq!((v["download"]["ratio"].clone(), v["poller"]["cadence_note"].clone()), (json!(0.95), json!(note)));

        // The table: the ratios against the smallest library and the blank window.
        let text = report.table().render();
        let row =
            |label: &str| text.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("{label}: {text}"));
        assert!(
            row("launch → first screen").contains("1.20×") && row("launch → first screen").contains("1.50×"),
            "{text}"
        );
        assert!(row("memory, whole process tree").contains("2.20×"), "{text}");
        assert!(row("  ratio").contains("0.95") && row("  cadence_ok").contains("true"), "{text}");
        // A sentence goes under the table, not in a column of figures.
        assert!(!text.contains(note), "{text}");
        assert_eq!(io_notes(&io), vec![format!("poller: cadence_note: {note}")]);
    }
}
