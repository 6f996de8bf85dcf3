//! A seeded library for benchmarks: `n` finished Sora videos, deterministic from a seed.
//!
//! Each task is what the app would have left behind after a real run: the input as the
//! catalogue normalises it, its estimated and consumed credits, Kie's result, one video
//! result with its poster, and the files themselves. Files are hard links of the simulator's
//! small real MP4s and of a few posters (copies only when a link is impossible), so 100,000
//! videos take a few MB and seconds. The posters are the simulator's small samples, or, for
//! the bench, frames as big as real ones ([`posters`]): 720p or 1080p as the input asks.
//!
//! Prompts are put together from phrase lists with skewed weights, so a search word can
//! match most of the library or almost none of it, as in a real one.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kie::catalogue::{Catalogue, FieldSpec, FieldType, ModelSpec, OutputKind, Widget};
use kie::TaskResult;
use rusqlite::params;
use serde_json::{Map, Value};
use studio::library::{self, NewResult, ResultKind};
use studio::paths::{self, LibraryPaths};
use studio::{tasks, thumbs, Db};

pub mod posters;

pub use posters::{realistic_posters, PosterSet};

/// 2025-01-01T00:00:00Z: tasks are spread over the year that follows.
pub const START_MS: i64 = 1_735_689_600_000;
pub const YEAR_MS: i64 = 365 * 86_400_000;

// Phrase lists, most common first: items are drawn with weight 1 / (rank + 1).
const SUBJECTS: &[&str] = &[
    "a red fox",
    "an old fisherman",
    "a golden retriever",
    "a little girl",
    "an astronaut",
    "a street musician",
    "a tiny robot",
    "a hummingbird",
    "a ballet dancer",
    "a vintage convertible",
    "a lighthouse keeper",
    "a snow leopard",
    "a paper boat",
    "a samurai",
    "a jellyfish",
    "a hot air balloon",
    "a barista",
    "a skateboarder",
    "a grey whale",
    "a chef",
    "an octopus",
    "a knitting grandmother",
    "a steam locomotive",
    "a monarch butterfly",
    "a marching band",
    "a sleepy panda",
    "a firefighter",
    "a glass sculpture",
    "a clockmaker",
    "a flamingo",
    "a surfer",
    "an origami crane",
    "a beekeeper",
    "a wolf pack",
    "a cyclist",
    "a hermit crab",
];

const ACTIONS: &[&str] = &[
    "walks slowly through",
    "trots across",
    "dances in",
    "drifts above",
    "runs along",
    "sleeps beside",
    "explores",
    "waits patiently in",
    "flies over",
    "plays the violin in",
    "repairs a bicycle in",
    "paints a mural in",
    "searches for treasure in",
    "celebrates a birthday in",
    "reads a letter in",
    "juggles oranges in",
    "builds a sandcastle on",
    "chases fireflies in",
    "tiptoes through",
    "hides from the rain in",
];

const PLACES: &[&str] = &[
    "fresh snow at dawn",
    "a misty pine forest",
    "a neon-lit Tokyo alley",
    "a crowded Moroccan market",
    "a quiet library",
    "a coral reef",
    "a desert canyon",
    "a rainy Paris street",
    "a wheat field at sunset",
    "an abandoned subway station",
    "the surface of Mars",
    "a Venetian canal",
    "a bamboo grove",
    "an Icelandic glacier",
    "a cozy kitchen",
    "a lavender meadow",
    "a rooftop garden",
    "a foggy harbour",
    "a volcanic beach",
    "a cathedral nave",
    "a greenhouse full of orchids",
    "a frozen lake",
    "a night carnival",
    "a Scottish castle",
];

const CAMERAS: &[&str] = &[
    "The camera follows low to the ground",
    "Slow dolly in",
    "Aerial drone shot",
    "Handheld close-up",
    "Wide establishing shot",
    "Tracking shot from the side",
    "Time-lapse",
    "Slow motion",
    "Static tripod shot",
    "Orbiting camera",
    "Overhead top-down view",
    "First-person point of view",
];

const STYLES: &[&str] = &[
    "golden hour light",
    "cinematic, 35mm film grain",
    "soft overcast light",
    "moody blue tones",
    "shallow depth of field",
    "vivid watercolor style",
    "black and white",
    "stop-motion claymation look",
    "pastel colors",
    "anamorphic lens flares",
    "documentary style",
    "dreamy haze",
    "high contrast noir",
    "warm candlelight",
];

const SOUNDS: &[&str] = &[
    "Birds sing in the distance.",
    "Rain patters softly.",
    "A gentle piano melody plays.",
    "Waves crash nearby.",
    "Wind howls.",
    "A crowd cheers.",
    "Someone whispers: \"we made it\".",
    "Church bells ring.",
    "Jazz drifts from a radio.",
    "Thunder rumbles far away.",
];

const NOTES: &[&str] =
    &["keeper for the reel", "client liked this one", "use for the intro", "reshoot with a longer take", "best so far"];

/// Words too common or too short to be worth typing into a search box.
const STOP: &[&str] = &["the", "and", "from", "for", "with", "two", "full", "nearby", "far", "away", "made"];

/// How the rows were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer {
    /// Plain SQL in one transaction, matching what the API writes (checked by a test).
    Sql,
    /// `studio::tasks` and `studio::library`, one transaction per call, as the app writes.
    Api,
}

/// How a library is made.
#[derive(Debug, Clone)]
pub struct SeedOptions {
    pub writer: Writer,
    pub posters: PosterSet,
}

impl Default for SeedOptions {
    fn default() -> SeedOptions {
        SeedOptions { writer: Writer::Sql, posters: PosterSet::samples() }
    }
}

/// What was made.
#[derive(Debug, Clone)]
pub struct SeedReport {
    pub root: PathBuf,
    pub n: usize,
    pub seed: u64,
    pub writer: Writer,
    /// Result ids, in gallery order oldest first (the gallery shows the last one first).
    pub result_ids: Vec<i64>,
    pub per_model: BTreeMap<String, usize>,
    /// Files hard-linked and copied (videos, posters and thumbs).
    pub linked: usize,
    pub copied: usize,
    /// Total size of the files as the library records them.
    pub bytes: u64,
    pub elapsed: Duration,
}

impl SeedReport {
    pub fn newest_result_id(&self) -> Option<i64> {
        self.result_ids.last().copied()
    }

    pub fn oldest_result_id(&self) -> Option<i64> {
        self.result_ids.first().copied()
    }
}

/// SplitMix64: tiny, fast, and the same everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Item `i` with weight 1 / (i + 1): a few very common, a long tail of rare ones.
    pub fn skewed<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let weights: Vec<f64> = (0..items.len()).map(|i| 1.0 / (i + 1) as f64).collect();
        let total: f64 = weights.iter().sum();
        let mut x = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * total;
        for (item, w) in items.iter().zip(weights) {
            if x < w {
                return item;
            }
            x -= w;
        }
        items.last().expect("a non-empty list")
    }

    fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            s.push_str(&format!("{:016x}", self.next_u64()));
        }
        s.truncate(len);
        s
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// One scene: "a red fox trots across fresh snow at dawn".
fn scene(rng: &mut Rng) -> String {
    format!("{} {} {}", rng.skewed(SUBJECTS), rng.skewed(ACTIONS), rng.skewed(PLACES))
}

/// A prompt of 15 to 40 words, like people write them.
pub fn prompt(rng: &mut Rng) -> String {
    let mut p = format!("{}. {}, {}.", capitalise(&scene(rng)), rng.skewed(CAMERAS), rng.skewed(STYLES));
    if rng.percent(50) {
        p.push(' ');
        p.push_str(rng.skewed::<&str>(SOUNDS));
    }
    if rng.percent(25) {
        p.push_str(&format!(" Later, {}.", scene(rng)));
    }
    p
}

fn words_of(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.len() >= 3).map(str::to_lowercase)
}

/// Every searchable word the prompts are made of (no stop words), sorted.
pub fn vocabulary() -> Vec<String> {
    let mut set = std::collections::BTreeSet::new();
    for list in [SUBJECTS, ACTIONS, PLACES, CAMERAS, STYLES, SOUNDS] {
        for phrase in list {
            set.extend(words_of(phrase).filter(|w| !STOP.contains(&w.as_str())));
        }
    }
    set.into_iter().collect()
}

/// Search queries as someone types them: 1 to 3 words of the vocabulary, the last one often
/// cut short (to at least 3 letters). Three in four are taken from a prompt like those in
/// the library, so their words belong together and usually match; the rest are one or two
/// words picked at random, rarer and sometimes matching nothing. Different seeds give
/// different queries.
pub fn search_queries(count: usize, seed: u64) -> Vec<String> {
    let vocab_list = vocabulary();
    let vocab: HashSet<&str> = vocab_list.iter().map(String::as_str).collect();
    let mut rng = Rng::new(seed ^ 0x5EA2_C4E5);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let mut q: Vec<String> = if rng.percent(75) {
            let words: Vec<String> = words_of(&prompt(&mut rng)).filter(|w| vocab.contains(w.as_str())).collect();
            if words.is_empty() {
                continue;
            }
            let k = (1 + rng.below(3) as usize).min(words.len());
            let start = rng.below((words.len() - k + 1) as u64) as usize;
            words[start..start + k].to_vec()
        } else {
            (0..1 + rng.below(2)).map(|_| rng.pick(&vocab_list).clone()).collect()
        };
        let last = q.last_mut().expect("at least one word");
        if rng.percent(60) {
            let len = last.chars().count();
            let keep = rng.range(3.min(len as i64), len as i64) as usize;
            *last = last.chars().take(keep).collect();
        }
        out.push(q.join(" "));
    }
    out
}

/// One generated task, before it is written.
struct Planned {
    model: String,
    input: Map<String, Value>,
    credits: f64,
    kie_task_id: String,
    portrait: bool,
    /// A 1080p (or larger) video: its poster is the 1080p one.
    hd: bool,
    created: i64,
    submitted: i64,
    finished: i64,
    saved: i64,
    downloaded: i64,
    favourite: bool,
    notes: Option<&'static str>,
}

impl Planned {
    fn result(&self) -> TaskResult {
        let base = format!("https://tempfile.aiquickdraw.com/s/{}", self.kie_task_id);
        TaskResult {
            result_urls: vec![format!("{base}/video.mp4")],
            watermark_urls: Vec::new(),
            first_frame_url: Some(format!("{base}/first.jpg")),
            last_frame_url: None,
            result_object: None,
            ..TaskResult::default()
        }
    }
}

/// The catalogue's video models that have an example input, earlier ones more often (the
/// catalogue lists the original Sora family first).
fn video_models(catalogue: &Catalogue) -> Vec<&ModelSpec> {
    catalogue.models.iter().filter(|m| m.output == OutputKind::Video && m.example.is_some()).collect()
}

/// A varied valid input for `spec`: its example with a new prompt (and new scene texts in
/// lists of groups), and each choice re-drawn now and then when the result stays valid.
fn vary(rng: &mut Rng, spec: &ModelSpec, catalogue: &Catalogue) -> Map<String, Value> {
    let mut input = spec.example.clone().unwrap_or_default();
    for field in &spec.fields {
        match (field.kind, input.get_mut(&field.name)) {
            (FieldType::Text, Some(v)) if field.widget == Widget::Textarea => *v = Value::String(prompt(rng)),
            (FieldType::List, Some(Value::Array(items))) => {
                let Some(item) = field.items.as_deref() else { continue };
                for it in items.iter_mut().filter_map(Value::as_object_mut) {
                    // Free text only: names with a character set stay as the example has them.
                    let free =
                        |f: &&FieldSpec| f.kind == FieldType::Text && f.required && f.limits.allowed_chars.is_none();
                    for sub in item.fields.iter().filter(free) {
                        it.insert(sub.name.clone(), Value::String(capitalise(&scene(rng))));
                    }
                }
            }
            _ => {}
        }
    }
    if catalogue.validate(&spec.id, &input).is_err() {
        // A made-up text broke a limit: the example as it is, with only its prompt new.
        input = spec.example.clone().unwrap_or_default();
        if let Some(Value::String(p)) = input.get_mut("prompt") {
            *p = prompt(rng);
        }
        if catalogue.validate(&spec.id, &input).is_err() {
            input = spec.example.clone().unwrap_or_default();
        }
    }
    for field in spec.fields.iter().filter(|f| f.kind == FieldType::Choice) {
        if rng.percent(50) {
            let mut tried = input.clone();
            tried.insert(field.name.clone(), rng.pick(&field.options).value.clone());
            if catalogue.validate(&spec.id, &tried).is_ok() {
                input = tried;
            }
        }
    }
    input
}

/// Whether an input asks for a tall video, by its values ("portrait", "9:16").
fn is_portrait(input: &Map<String, Value>) -> bool {
    input.values().any(|v| matches!(v.as_str(), Some("portrait" | "9:16" | "2:3" | "3:4")))
}

/// Whether an input asks for 1080p or more, by its values (Sora's "high", "1080p", "4k").
fn is_hd(input: &Map<String, Value>) -> bool {
    input.values().any(|v| matches!(v.as_str(), Some("high" | "1080p" | "1080P" | "4k" | "4K")))
}

fn plan(rng: &mut Rng, i: usize, n: usize, catalogue: &Catalogue) -> Planned {
    let models = video_models(catalogue);
    let spec = *rng.skewed(&models);
    let model = spec.id.clone();
    let raw = vary(rng, spec, catalogue);
    let input =
        catalogue.validate(&model, &raw).unwrap_or_else(|p| panic!("seeded input for {model} is invalid: {p:?}"));
    let credits = spec.estimate_credits(&input).expect("every video model has a price");
    let (portrait, hd) = (is_portrait(&input), is_hd(&input));
    // Spread over the year, in id order, as a real library grows.
    let slot = YEAR_MS / n.max(1) as i64;
    let created = START_MS + slot * i as i64 + rng.range(0, (slot - 1).clamp(0, 3_600_000));
    let submitted = created + rng.range(300, 2_500);
    let finished = submitted + rng.range(60_000, 400_000);
    let saved = finished + rng.range(1_000, 8_000);
    let downloaded = saved + rng.range(50, 500);
    Planned {
        model,
        input,
        credits,
        kie_task_id: rng.hex(32),
        portrait,
        hd,
        created,
        submitted,
        finished,
        saved,
        downloaded,
        favourite: rng.percent(6),
        notes: rng.percent(3).then(|| *rng.pick(NOTES)),
    }
}

/// A source file, and where its copy in the library is (to link the rest to, which works
/// even when the library is on another file system than the sources).
struct Source {
    path: PathBuf,
    size: u64,
    sha256: String,
    first: Option<PathBuf>,
}

impl Source {
    fn new(path: PathBuf) -> Source {
        let (size, sha256) =
            studio::downloader::sha256_file(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        Source { path, size, sha256, first: None }
    }
}

struct Files {
    /// The two videos (landscape, portrait), then the posters in [`PosterSet::all`]'s order,
    /// then each poster's thumb in the same order ([`THUMBS`] after its poster), then their
    /// HiDPI thumbs ([`HIDPI_THUMBS`] after the poster).
    sources: Vec<Source>,
    /// Where the thumbs were made, until each has its first link in the library.
    _thumbs_made: tempfile::TempDir,
    made_dirs: HashSet<PathBuf>,
    linked: usize,
    copied: usize,
}

impl Files {
    fn new(posters: &PosterSet) -> Files {
        let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../kie-sim/assets");
        let videos = ["landscape.mp4", "portrait.mp4"].map(|name| assets.join(name));
        // One thumb per poster, made as the app makes them, linked for every result.
        let made = tempfile::tempdir().expect("a temporary folder for the thumbs");
        let thumbs: Vec<PathBuf> = posters
            .all()
            .iter()
            .enumerate()
            .map(|(i, poster)| {
                let dest = made.path().join(format!("thumb-{i}.jpg"));
                thumbs::make_from_file(poster, &dest).unwrap_or_else(|e| panic!("thumb of {}: {e}", poster.display()));
                dest
            })
            .collect();
        let hidpi: Vec<PathBuf> = thumbs.iter().map(|t| thumbs::hidpi_path(t)).collect();
        let all = videos
            .iter()
            .map(PathBuf::as_path)
            .chain(posters.all())
            .chain(thumbs.iter().map(PathBuf::as_path))
            .chain(hidpi.iter().map(PathBuf::as_path));
        Files {
            sources: all.map(|p| Source::new(p.to_path_buf())).collect(),
            _thumbs_made: made,
            made_dirs: HashSet::new(),
            linked: 0,
            copied: 0,
        }
    }

    /// Put source `which` at `dest`: a hard link, else a copy.
    fn place(&mut self, which: usize, dest: &Path) {
        let dir = dest.parent().expect("a file in a folder");
        if !self.made_dirs.contains(dir) {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
            self.made_dirs.insert(dir.to_path_buf());
        }
        let src = &mut self.sources[which];
        // Links go to this library's own copy, never to the source: the source's link count
        // would grow with every library (and a file has at most 65,000 on ext4).
        if src.first.as_ref().is_some_and(|first| std::fs::hard_link(first, dest).is_ok()) {
            self.linked += 1;
        } else {
            std::fs::copy(&src.path, dest).unwrap_or_else(|e| panic!("copy to {}: {e}", dest.display()));
            self.copied += 1;
            // The first copy, or a fresh one once the last has all the links it may have.
            src.first = Some(dest.to_path_buf());
        }
    }
}

/// How far after its poster a poster's thumb is in [`Files::sources`].
const THUMBS: usize = 4;
/// How far after its poster a poster's HiDPI thumb is in [`Files::sources`].
const HIDPI_THUMBS: usize = 8;

/// Where the thumb of a result's poster goes: where the app puts it.
fn thumb_rel(new: &NewResult) -> String {
    thumbs::thumb_rel_for(new.poster_path.as_deref().expect("every seeded result has a poster"))
}

/// What the result row of task `id` records, and its files: (result, video source, poster source).
fn new_result(p: &Planned, id: i64, files: &Files) -> (NewResult, usize, usize) {
    let video = usize::from(p.portrait);
    let poster = 2 + 2 * video + usize::from(p.hd);
    let src = &files.sources[video];
    let new = NewResult {
        task_id: id,
        idx: 0,
        kind: ResultKind::Video,
        path: Some(paths::media_rel_path(p.created, &paths::result_file_name(id, 0, "mp4"))),
        size: Some(src.size as i64),
        sha256: Some(src.sha256.clone()),
        poster_path: Some(paths::poster_rel_path(&format!("task-{id}-poster.jpg"))),
        text_json: None,
        source_url: p.result().result_urls.first().cloned(),
    };
    (new, video, poster)
}

/// Make a library of `n` finished videos at `root` (which must not hold one yet), the fast
/// way: plain SQL in one transaction. See [`seed_library_with`].
pub fn seed_library(root: &Path, n: usize, seed: u64) -> SeedReport {
    seed_library_with(root, n, seed, Writer::Sql)
}

/// Make a library of `n` finished videos at `root`, deterministic from `seed`, with the
/// sample posters.
pub fn seed_library_with(root: &Path, n: usize, seed: u64, writer: Writer) -> SeedReport {
    seed_library_opts(root, n, seed, &SeedOptions { writer, ..SeedOptions::default() })
}

/// Make a library of `n` finished videos at `root`, deterministic from `seed`, as `opts` say.
pub fn seed_library_opts(root: &Path, n: usize, seed: u64, opts: &SeedOptions) -> SeedReport {
    let writer = opts.writer;
    let started = Instant::now();
    let lib = LibraryPaths::new(root.to_path_buf()).expect("an absolute library folder");
    lib.create_dirs().expect("create the library folders");
    let now = START_MS + YEAR_MS;
    let db = Db::open(&lib.db(), now).expect("open the library database");
    let existing: i64 = db.with(|c| Ok(c.query_row("SELECT count(*) FROM tasks", [], |r| r.get(0))?)).unwrap();
    assert_eq!(existing, 0, "{} already holds a library", root.display());

    let catalogue = Catalogue::builtin();
    let mut rng = Rng::new(seed);
    let planned: Vec<Planned> = (0..n).map(|i| plan(&mut rng, i, n, catalogue)).collect();
    let mut files = Files::new(&opts.posters);
    let mut result_ids = Vec::with_capacity(n);
    let mut bytes = 0u64;
    let mut per_model = BTreeMap::new();
    for p in &planned {
        *per_model.entry(p.model.to_string()).or_insert(0) += 1;
    }

    // Every result has its thumb already, as after the app's backfill: the app finds none
    // to make.
    let mut place = |files: &mut Files, new: &NewResult, video: usize, poster: usize| {
        files.place(video, &lib.resolve(new.path.as_deref().unwrap()).unwrap());
        files.place(poster, &lib.resolve(new.poster_path.as_deref().unwrap()).unwrap());
        files.place(poster + THUMBS, &lib.resolve(&thumb_rel(new)).unwrap());
        files.place(poster + HIDPI_THUMBS, &lib.resolve(&thumbs::hidpi_rel(&thumb_rel(new))).unwrap());
        bytes += files.sources[video].size + files.sources[poster].size;
    };

    match writer {
        Writer::Sql => {
            db.tx(|tx| {
                let mut add_task = tx.prepare(
                    "INSERT INTO tasks (model, input_json, status, kie_task_id, kie_state, progress, created_at,
                        submitted_at, updated_at, finished_at, credits_estimated, credits_consumed, result_json,
                        downloads_done, stale, poll_errors, demo)
                     VALUES (?1, ?2, 'succeeded', ?3, 'success', 100, ?4, ?5, ?6, ?7, ?8, ?8, ?9, 1, 0, 0, 0)",
                )?;
                let mut add_result = tx.prepare(
                    "INSERT INTO results (task_id, idx, kind, path, size, sha256, poster_path, thumb_path,
                        favourite, notes, source_url, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )?;
                for p in &planned {
                    let input = serde_json::to_string(&p.input)?;
                    add_task.execute(params![
                        p.model,
                        input,
                        p.kie_task_id,
                        p.created,
                        p.submitted,
                        p.downloaded,
                        p.finished,
                        p.credits,
                        serde_json::to_string(&p.result())?,
                    ])?;
                    let id = tx.last_insert_rowid();
                    let (new, video, poster) = new_result(p, id, &files);
                    add_result.execute(params![
                        id,
                        new.idx,
                        new.kind,
                        new.path,
                        new.size,
                        new.sha256,
                        new.poster_path,
                        thumb_rel(&new),
                        p.favourite,
                        p.notes,
                        new.source_url,
                        p.saved,
                    ])?;
                    result_ids.push((p.saved, tx.last_insert_rowid()));
                    place(&mut files, &new, video, poster);
                }
                Ok(())
            })
            .expect("write the seeded library");
        }
        Writer::Api => {
            for p in &planned {
                let t = tasks::insert_submitting(&db, &p.model, &p.input, Some(p.credits), false, p.created).unwrap();
                tasks::mark_submitted(&db, t.id, &p.kie_task_id, p.submitted).unwrap();
                tasks::mark_succeeded(&db, t.id, &p.result(), Some(p.credits), p.finished).unwrap();
                let (new, video, poster) = new_result(p, t.id, &files);
                place(&mut files, &new, video, poster);
                let thumb = thumb_rel(&new);
                let r = library::add_result(&db, new, p.saved).unwrap();
                library::set_thumb(&db, r.id, Some(&thumb)).unwrap();
                if p.favourite {
                    library::set_favourite(&db, r.id, true).unwrap();
                }
                if let Some(notes) = p.notes {
                    library::set_notes(&db, r.id, Some(notes)).unwrap();
                }
                tasks::mark_downloaded(&db, t.id, p.downloaded).unwrap();
                result_ids.push((p.saved, r.id));
            }
        }
    }
    // Closing the last connection checkpoints the WAL: the app opens a tidy file.
    drop(db);
    // The gallery's order (newest first is `created_at DESC, id DESC`), reversed.
    result_ids.sort_unstable();
    SeedReport {
        root: root.to_path_buf(),
        n,
        seed,
        writer,
        result_ids: result_ids.into_iter().map(|(_, id)| id).collect(),
        per_model,
        linked: files.linked,
        copied: files.copied,
        bytes,
        elapsed: started.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use studio::library::{ResultQuery, ResultSort};

    fn dump(db: &Db, sql: &str) -> Vec<Vec<String>> {
        db.with(|c| {
            let mut st = c.prepare(sql)?;
            let cols = st.column_count();
            let rows = st
                .query_map([], |r| {
                    (0..cols).map(|i| r.get_ref(i).map(|v| format!("{v:?}"))).collect::<rusqlite::Result<Vec<String>>>()
                })?
                .collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .unwrap()
    }

    /// The fast writer leaves exactly what the app's own calls leave: every column of every
    /// task and result, and the search index.
    #[test]
    fn sql_writer_matches_the_api() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let sql = seed_library_with(a.path(), 60, 7, Writer::Sql);
        let api = seed_library_with(b.path(), 60, 7, Writer::Api);
        assert_eq!(sql.result_ids, api.result_ids);
        assert_eq!(sql.per_model, api.per_model);
        let (da, db) =
            (Db::open(&a.path().join("library.db"), 0).unwrap(), Db::open(&b.path().join("library.db"), 0).unwrap());
        for q in [
            "SELECT * FROM tasks ORDER BY id",
            "SELECT * FROM results ORDER BY id",
            "SELECT rowid, body, kind, ref_id FROM search_fts ORDER BY rowid",
        ] {
            assert_eq!(dump(&da, q), dump(&db, q), "{q}");
        }
    }

    #[test]
    fn same_seed_same_library_other_seed_other_library() {
        let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
        let one = seed_library(dirs[0].path(), 40, 1);
        seed_library(dirs[1].path(), 40, 1);
        seed_library(dirs[2].path(), 40, 2);
        let rows = |d: &tempfile::TempDir| {
            let db = Db::open(&d.path().join("library.db"), 0).unwrap();
            (dump(&db, "SELECT * FROM tasks ORDER BY id"), dump(&db, "SELECT * FROM results ORDER BY id"))
        };
        assert_eq!(rows(&dirs[0]), rows(&dirs[1]));
        assert_ne!(rows(&dirs[0]).0, rows(&dirs[2]).0);
        assert_eq!(one.result_ids.len(), 40);
        assert_eq!(search_queries(30, 1), search_queries(30, 1));
        assert_ne!(search_queries(30, 1), search_queries(30, 2));
    }

    /// What the app needs of a library: valid inputs with prices, a year of dates, files that
    /// are there with the recorded size and hash, posters, and prompts found by search.
    #[test]
    fn a_library_the_app_can_show() {
        let dir = tempfile::tempdir().unwrap();
        let report = seed_library(dir.path(), 300, 42);
        assert_eq!((report.n, report.result_ids.len()), (300, 300));
        assert_eq!(report.linked + report.copied, 1200, "a video, a poster and two thumbs each");
        assert!(report.copied <= 14, "{report:?}");
        assert!(report.per_model.len() >= 5, "{:?}", report.per_model);

        let db = Db::open(&dir.path().join("library.db"), 0).unwrap();
        let lib = LibraryPaths::new(dir.path().to_path_buf()).unwrap();
        let catalogue = Catalogue::builtin();
        let all = library::list_results(&db, &ResultQuery { limit: 1000, ..Default::default() }).unwrap();
        assert_eq!(all.len(), 300);
        // Newest first: the gallery's first tile is the last result made.
        let shown: Vec<i64> = all.iter().map(|v| v.result.id).collect();
        assert_eq!(shown, report.result_ids.iter().rev().copied().collect::<Vec<_>>());
        assert_eq!(all[0].result.id, report.newest_result_id().unwrap());
        assert_eq!(all[299].result.id, report.oldest_result_id().unwrap());
        let (first, last) = (all[299].task_created_at, all[0].task_created_at);
        assert!(first >= START_MS && last < START_MS + YEAR_MS && last - first > YEAR_MS * 9 / 10);
        let mut hashes = HashSet::new();
        for v in &all {
            let task = tasks::get(&db, v.result.task_id).unwrap();
            assert_eq!(task.status, tasks::TaskStatus::Succeeded);
            assert!(task.downloads_done);
            let normalized = catalogue.validate(&task.model, &task.input).unwrap();
            assert_eq!(normalized, task.input);
            let price = catalogue.model(&task.model).unwrap().estimate_credits(&task.input);
            assert_eq!((task.credits_estimated, task.credits_consumed), (price, price));
            assert_eq!(task.result().unwrap().result_urls.first(), v.result.source_url.as_ref());
            let path = lib.resolve(v.result.path.as_deref().unwrap()).unwrap();
            assert!(path.to_string_lossy().ends_with(&format!("task-{}-0.mp4", task.id)));
            let (size, sha) = studio::downloader::sha256_file(&path).unwrap();
            assert_eq!((Some(size as i64), v.result.sha256.as_deref()), (v.result.size, Some(sha.as_str())));
            hashes.insert(sha);
            assert!(lib.resolve(v.result.poster_path.as_deref().unwrap()).unwrap().is_file());
            let thumb = v.result.thumb_path.as_deref().expect("a thumb recorded");
            assert!(thumbs::is_thumb_rel(thumb) && thumbs::is_sound(&lib.resolve(thumb).unwrap()), "{thumb}");
            let hidpi = v.result.thumb_hidpi_path.as_deref().expect("a HiDPI thumb beside it");
            assert!(thumbs::is_sound(&lib.resolve(hidpi).unwrap()), "{hidpi}");
            if catalogue.model(&task.model).unwrap().field("prompt").is_some_and(|f| f.widget == Widget::Textarea) {
                assert!(v.prompt.as_deref().is_some_and(|p| p.len() > 20), "{v:?}");
            }
        }
        assert_eq!(hashes.len(), 2, "landscape and portrait");

        // Search selectivity varies: some queries match much of the library, some little.
        let counts: Vec<i64> = search_queries(60, 42)
            .iter()
            .map(|q| {
                let q = ResultQuery { search: Some(q.clone()), sort: ResultSort::Date, ..Default::default() };
                library::count_results(&db, &q).unwrap()
            })
            .collect();
        assert!(counts.iter().any(|&c| c > 60), "{counts:?}");
        assert!(counts.iter().any(|&c| (1..15).contains(&c)), "{counts:?}");
        assert!(counts.iter().filter(|&&c| c > 0).count() > 40, "{counts:?}");
    }

    /// Files are linked to a copy in the library, never to the source, and a copy that can
    /// take no more links is followed by a fresh one.
    #[test]
    fn links_go_to_a_copy_in_the_library() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let inode = |p: &Path| std::fs::metadata(p).map(|m| (m.dev(), m.ino())).unwrap();
        let mut files = Files::new(&PosterSet::samples());
        let at = |name: &str| dir.path().join("media").join(name);
        for name in ["a", "b"] {
            files.place(0, &at(name));
        }
        assert_eq!(inode(&at("a")), inode(&at("b")));
        assert_ne!(inode(&at("a")), inode(&files.sources[0].path));
        // The copy links went to is gone (as when it has all its links): a new copy.
        std::fs::remove_file(at("a")).unwrap();
        std::fs::remove_file(at("b")).unwrap();
        for name in ["c", "d"] {
            files.place(0, &at(name));
        }
        assert_eq!(inode(&at("c")), inode(&at("d")));
        assert_eq!((files.linked, files.copied), (2, 2));
        assert_eq!(std::fs::read(at("d")).unwrap(), std::fs::read(&files.sources[0].path).unwrap());
    }

    /// Each result links the poster of its orientation and resolution, as the input asks.
    #[test]
    fn posters_follow_the_input() {
        let (dir, src) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        // Four tiny distinct pictures stand for the four sizes.
        let names = ["l720", "l1080", "p720", "p1080"];
        let files: Vec<PathBuf> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let path = src.path().join(format!("{name}.jpg"));
                std::fs::write(&path, posters::poster_jpeg(16, 9, i as u64)).unwrap();
                path
            })
            .collect();
        let set = PosterSet {
            landscape: [files[0].clone(), files[1].clone()],
            portrait: [files[2].clone(), files[3].clone()],
        };
        seed_library_opts(dir.path(), 200, 3, &SeedOptions { posters: set.clone(), ..SeedOptions::default() });
        let db = Db::open(&dir.path().join("library.db"), 0).unwrap();
        let lib = LibraryPaths::new(dir.path().to_path_buf()).unwrap();
        let all = library::list_results(&db, &ResultQuery { limit: 1000, ..Default::default() }).unwrap();
        let mut seen = HashSet::new();
        for v in &all {
            let task = tasks::get(&db, v.result.task_id).unwrap();
            let want = set.pick(is_portrait(&task.input), is_hd(&task.input));
            let poster = std::fs::read(lib.resolve(v.result.poster_path.as_deref().unwrap()).unwrap()).unwrap();
            assert_eq!(poster, std::fs::read(want).unwrap(), "{:?}", task.input);
            seen.insert(want.to_path_buf());
        }
        assert_eq!(seen.len(), 4, "every size is used: {seen:?}");
    }

    #[test]
    fn queries_are_one_to_three_prefixes_of_vocabulary_words() {
        let vocab = vocabulary();
        assert!(vocab.len() > 150, "{}", vocab.len());
        let mut lengths = HashSet::new();
        for q in search_queries(200, 3) {
            let words: Vec<&str> = q.split(' ').collect();
            lengths.insert(words.len());
            for w in words {
                assert!(w.len() >= 3 && vocab.iter().any(|v| v.starts_with(w)), "{q:?}");
            }
        }
        assert_eq!(lengths, HashSet::from([1, 2, 3]));
    }
}
