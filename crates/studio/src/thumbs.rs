//! Tile-sized copies of the posters, for the gallery grid: decoding a full 1280×720 or
//! 1920×1080 frame per tile made scrolling slow. Made once, here, when a poster lands (the
//! downloader, `gallery::save_poster`), by [`backfill`] for libraries from before, and again
//! by a rescan when one is missing or broken. The detail view keeps the full poster.
//!
//! A thumb fits in [`MAX_SIDE`]×[`MAX_SIDE`] keeping the poster's aspect (a tile is ~230 CSS
//! px wide, at most ~300), is a JPEG of quality [`QUALITY`], and is named after its poster:
//! `posters/task-12-poster.png` → `thumbs/task-12-poster.jpg`. Beside it, for HiDPI screens,
//! one twice as big ([`MAX_SIDE_HIDPI`], [`hidpi_rel`]: `thumbs/task-12-poster@2x.jpg`); the
//! grid asks for it only on such a screen (`srcset`). A 1× screen decoding the 2× thumb paid
//! four times the pixels: the bench measured the web process 13 MiB smaller at 100,000 videos
//! with 1× thumbs. Thumbs made before there were two sizes are 2×-sized and have no `@2x`
//! file: the grid shows them on every screen, as before.
//!
//! Measured in release (`cargo test --release -p studio --lib thumbs::tests::speed -- --ignored
//! --nocapture`; `KIE_THUMB_BENCH=<folder>` adds real frames) on the 2-core build machine while
//! other builds ran (load ~5, so an idle machine is quicker), whole `make_from_file` per poster:
//! frames made with ffmpeg (photo-like, mandelbrot, test pattern; 55–510 KB) 1280×720 18–35 ms,
//! 1920×1080 27–50 ms, thumbs 512×288 of 17–23 KB; the worst case, a 1920×1080 of pure noise
//! (1.3 MB), 63 ms: decode 38, shrink 16, encode + write 9 ms, thumb 52 KB. Shrinking with
//! `DynamicImage::thumbnail` took half the time of `resize` with `Triangle` (16 against 35 ms
//! at 1920×1080) and looks the same at tile size.

use std::io::{BufReader, Read, Seek};
use std::path::{Path, PathBuf};

use image::codecs::jpeg::JpegEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ExtendedColorType, ImageDecoder, ImageEncoder, ImageError, ImageFormat, ImageReader};
use kie::media::{MediaKind, SNIFF_LEN};
use rusqlite::params;

use crate::db::{Db, StoreError};
use crate::library::{self, ResultKind, ResultRow};
use crate::paths::{self, LibraryPaths, PathError};
use crate::tasks;

/// The longest side of a thumb, in pixels.
pub const MAX_SIDE: u32 = 256;
/// The longest side of the HiDPI thumb beside it.
pub const MAX_SIDE_HIDPI: u32 = 512;
/// The thumbs' JPEG quality: at tile size, 80 is indistinguishable from the poster.
pub const QUALITY: u8 = 80;
/// Posters are at most this big (Kie's frames are a few hundred KB, captured ones ≤ 5 MB).
pub const MAX_POSTER_BYTES: u64 = 20 << 20;
/// The largest poster decoded: each side, and the memory its pixels may take (an 8K frame
/// with alpha fits). Checked from the header, before any pixel is decoded.
const MAX_POSTER_SIDE: u32 = 8192;
const MAX_DECODE_BYTES: u64 = 160 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ThumbError {
    #[error("the poster {0} is not a file")]
    NotAFile(PathBuf),
    #[error("the poster is {0} bytes, more than a poster may be ({MAX_POSTER_BYTES})")]
    TooBig(u64),
    #[error("the poster is not a JPEG, PNG, WebP or GIF image")]
    NotAnImage,
    #[error("the poster is too large to decode: {0}")]
    TooLarge(String),
    #[error("the poster does not decode: {0}")]
    Decode(String),
    #[error("the thumbnail could not be encoded: {0}")]
    Encode(String),
    #[error(transparent)]
    Path(#[from] PathError),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ThumbError {
    /// The poster itself is why: trying again is no use until it changes (a rescan does).
    /// Anything else (the disk, the database) may pass.
    pub fn is_the_posters(&self) -> bool {
        matches!(
            self,
            ThumbError::NotAFile(_)
                | ThumbError::TooBig(_)
                | ThumbError::NotAnImage
                | ThumbError::TooLarge(_)
                | ThumbError::Decode(_)
                | ThumbError::Path(_)
        )
    }
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> ThumbError {
    let context = context.into();
    move |source| ThumbError::Io { context, source }
}

/// Make the thumb of the poster at `poster_rel` (relative to the library) and return where
/// it is, relative to the library (`thumbs/<poster's stem>.jpg`). Blocking: decodes.
pub fn make(lib: &LibraryPaths, poster_rel: &str) -> Result<String, ThumbError> {
    let src = lib.resolve(poster_rel)?;
    let rel = thumb_rel_for(poster_rel);
    make_from_file(&src, &lib.resolve(&rel)?)?;
    Ok(rel)
}

/// Make a thumb of the image at `src` as `dest` (written under a temporary name beside it
/// and renamed, so `dest` is never half a file; its folder is made if missing). For the
/// bench's seeder too, which makes one thumb per source poster and links it. Blocking.
pub fn make_from_file(src: &Path, dest: &Path) -> Result<(), ThumbError> {
    // The 1× thumb from the 2× one (a quarter of the pixels to shrink); the 2× written first, so
    // a sound 1× thumb means both were made.
    let hidpi = shrink(decode(src)?, MAX_SIDE_HIDPI);
    write_atomically(&hidpi_path(dest), &encode(&hidpi)?)?;
    write_atomically(dest, &encode(&shrink(hidpi, MAX_SIDE))?)
}

/// `thumbs/task-12-poster.jpg` → `thumbs/task-12-poster@2x.jpg`: the HiDPI thumb beside it.
pub fn hidpi_rel(thumb_rel: &str) -> String {
    match thumb_rel.rsplit_once('.') {
        Some((stem, ext)) if !ext.contains('/') => format!("{stem}@2x.{ext}"),
        _ => format!("{thumb_rel}@2x"),
    }
}

/// [`hidpi_rel`] of a file's path.
pub fn hidpi_path(thumb: &Path) -> PathBuf {
    let name = thumb.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    thumb.with_file_name(hidpi_rel(&name))
}

/// Removes a thumb and the HiDPI one beside it, as far as they are there.
fn remove_both(lib: &LibraryPaths, thumb_rel: &str) {
    for rel in [thumb_rel.to_string(), hidpi_rel(thumb_rel)] {
        let _ = lib.resolve(&rel).map(std::fs::remove_file);
    }
}

/// Whether a recorded thumb is whole ([`is_sound`]), and its HiDPI one too when there is
/// one. A missing HiDPI thumb is a thumb from before there were two (the window shows the 1×
/// one instead), not damage: a rescan does not remake a whole library for it.
pub fn both_sound(thumb: &Path) -> bool {
    let hidpi = hidpi_path(thumb);
    is_sound(thumb) && (!hidpi.exists() || is_sound(&hidpi))
}

/// `posters/task-12-poster.png` → `thumbs/task-12-poster.jpg`.
pub fn thumb_rel_for(poster_rel: &str) -> String {
    let name = poster_rel.rsplit('/').next().unwrap_or(poster_rel);
    let stem = name.rsplit_once('.').map(|(s, _)| s).filter(|s| !s.is_empty()).unwrap_or(name);
    paths::thumb_rel_path(&format!("{stem}.jpg"))
}

/// Whether a recorded picture is a thumb this module made (not the poster standing in).
pub fn is_thumb_rel(rel: &str) -> bool {
    rel.strip_prefix(paths::THUMBS_DIR).is_some_and(|rest| rest.starts_with('/'))
}

/// Whether the thumb at `path` looks whole: a plain file that starts and ends as a JPEG does
/// (what a crash while one was written or a stray edit would break). Reads 5 bytes, so a
/// rescan can check every thumb of a big library.
pub fn is_sound(path: &Path) -> bool {
    fn ends(path: &Path) -> std::io::Result<bool> {
        let mut f = std::fs::File::open(path)?;
        let mut head = [0u8; 3];
        f.read_exact(&mut head)?;
        let mut tail = [0u8; 2];
        f.seek(std::io::SeekFrom::End(-2))?;
        f.read_exact(&mut tail)?;
        Ok(head == [0xFF, 0xD8, 0xFF] && tail == [0xFF, 0xD9])
    }
    paths::is_plain_file(path) && ends(path).unwrap_or(false)
}

/// What `row`'s thumb is made from: its poster, or for an image result with none, the image
/// itself (the grid would otherwise decode the full picture, or show no picture at all).
pub fn source_of(row: &ResultRow) -> Option<&str> {
    match (row.poster_path.as_deref(), row.kind) {
        (Some(poster), _) => Some(poster),
        (None, ResultKind::Image) => row.path.as_deref(),
        (None, _) => None,
    }
}

/// The results a thumb is made from ([`source_of`], in SQL).
const HAS_SOURCE: &str = "(poster_path IS NOT NULL OR (kind = 'image' AND path IS NOT NULL))";

/// The results [`backfill`] still has to do, `thumb_path IS NULL AND` [`HAS_SOURCE`]: what
/// `results_thumb_todo` (migration 9, whose comment calls this `TODO`) holds, written the same
/// way so that SQLite uses that partial index.
fn todo() -> String {
    format!("thumb_path IS NULL AND {HAS_SOURCE}")
}

/// A page of the results a thumb is made from, with the thumb they have: `(id, thumb_path)`,
/// ids after `after` in order. Ids and paths only, so a rescan walks 100,000 results without
/// holding their rows.
pub fn page_with_sources(db: &Db, after: i64, limit: u32) -> Result<Vec<(i64, Option<String>)>, StoreError> {
    db.with(|c| {
        let mut st = c.prepare_cached(&format!(
            "SELECT id, thumb_path FROM results WHERE id > ?1 AND {HAS_SOURCE} ORDER BY id LIMIT ?2"
        ))?;
        let rows = st.query_map(params![after, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    })
}

/// Make the thumb of `row`'s poster (see [`source_of`]) and record it. When the poster itself
/// is why none can be made, the poster is recorded as the grid's picture instead (so
/// [`backfill`] does not try it again; a rescan does) and the error returned for the caller
/// to log. A thumb the row had of an earlier poster goes. Blocking.
pub fn make_for(db: &Db, lib: &LibraryPaths, row: &ResultRow) -> Result<ResultRow, ThumbError> {
    let Some(poster) = source_of(row) else { return Ok(row.clone()) };
    let (picture, failed) = match make(lib, poster) {
        Ok(rel) => (rel, None),
        Err(e) if e.is_the_posters() => (poster.to_string(), Some(e)),
        Err(e) => return Err(e),
    };
    let updated = match library::set_thumb(db, row.id, Some(&picture)) {
        Ok(r) => r,
        Err(e) => {
            // Deleted meanwhile (the backfill runs beside the window): leave no thumb behind.
            if failed.is_none() && matches!(e, StoreError::NotFound { .. }) {
                remove_both(lib, &picture);
            }
            return Err(e.into());
        }
    };
    if let Some(old) = row.thumb_path.as_deref().filter(|old| *old != picture && is_thumb_rel(old)) {
        remove_both(lib, old);
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(updated),
    }
}

/// Make thumbs for up to `limit` results that have a poster (or are an image) but no thumb yet, newest first,
/// and return how many were dealt with (made, or the poster recorded in place of one that
/// cannot be made): 0 when none is left. For the app to call in the background after
/// start-up, a batch at a time. Stops at the first failure that is not the poster's (the
/// disk, the database) and returns it. Blocking.
///
/// Each call finds its batch through the partial index `results_thumb_todo` (migration 9),
/// so it does not scan the whole table once most results have their thumb.
pub fn backfill(db: &Db, lib: &LibraryPaths, limit: u32) -> Result<usize, ThumbError> {
    let ids: Vec<i64> = db.with(|c| {
        let mut st = c.prepare(&format!("SELECT id FROM results WHERE {} ORDER BY id DESC LIMIT ?1", todo()))?;
        let ids = st.query_map(params![limit], |r| r.get(0))?.collect::<Result<_, _>>()?;
        Ok(ids)
    })?;
    let mut done = 0;
    for id in ids {
        let row = match library::get_result(db, id) {
            Ok(row) => row,
            Err(StoreError::NotFound { .. }) => continue,
            Err(e) => return Err(e.into()),
        };
        match make_for(db, lib, &row) {
            Ok(_) => {}
            Err(e) if e.is_the_posters() => {
                tracing::warn!("{}: no thumbnail, the grid shows the poster: {e}", who(db, &row))
            }
            Err(ThumbError::Store(StoreError::NotFound { .. })) => continue,
            Err(e) => return Err(e),
        }
        done += 1;
    }
    Ok(done)
}

/// "result 7 of task 3 (Kie task abc)", for logs.
pub fn who(db: &Db, row: &ResultRow) -> String {
    match tasks::get(db, row.task_id).ok().and_then(|t| t.kie_task_id) {
        Some(kie) => format!("result {} of task {} (Kie task {kie})", row.idx, row.task_id),
        None => format!("result {} of task {}", row.idx, row.task_id),
    }
}

fn limits() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_POSTER_SIDE);
    limits.max_image_height = Some(MAX_POSTER_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    limits
}

/// Decode a poster: only a plain file of at most [`MAX_POSTER_BYTES`], only as the image its
/// first bytes say it is (never a format guessed otherwise), only within [`limits`], checked
/// against its header before its pixels are decoded. Turned as its EXIF says, as the window
/// shows the poster.
fn decode(src: &Path) -> Result<DynamicImage, ThumbError> {
    // Not a link, a folder or a pipe (reading a pipe would wait forever).
    if !paths::is_plain_file(src) {
        return Err(ThumbError::NotAFile(src.to_path_buf()));
    }
    let file = std::fs::File::open(src).map_err(io(format!("open {}", src.display())))?;
    let len = file.metadata().map_err(io(format!("read {}", src.display())))?.len();
    if len > MAX_POSTER_BYTES {
        return Err(ThumbError::TooBig(len));
    }
    let mut file = BufReader::new(file);
    let mut head = Vec::with_capacity(SNIFF_LEN);
    file.by_ref().take(SNIFF_LEN as u64).read_to_end(&mut head).map_err(io(format!("read {}", src.display())))?;
    file.rewind().map_err(io(format!("read {}", src.display())))?;
    let format = match MediaKind::sniff(&head) {
        Some(MediaKind::Jpeg) => ImageFormat::Jpeg,
        Some(MediaKind::Png) => ImageFormat::Png,
        Some(MediaKind::Webp) => ImageFormat::WebP,
        Some(MediaKind::Gif) => ImageFormat::Gif,
        _ => return Err(ThumbError::NotAnImage),
    };
    let mut reader = ImageReader::with_format(file, format);
    reader.limits(limits());
    // Reads the header and checks the sides; no pixel yet.
    let mut decoder = reader.into_decoder().map_err(image_error)?;
    limits().reserve(decoder.total_bytes()).map_err(image_error)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(image_error)?;
    img.apply_orientation(orientation);
    Ok(img)
}

fn image_error(e: ImageError) -> ThumbError {
    match e {
        ImageError::Limits(l) => ThumbError::TooLarge(l.to_string()),
        e => ThumbError::Decode(e.to_string()),
    }
}

/// Fit in `side`×`side`, keeping the aspect; a smaller picture is kept as it is.
/// `thumbnail` (an area average) measured twice as quick as `resize` with `Triangle` and is
/// as good when shrinking this much.
fn shrink(img: DynamicImage, side: u32) -> DynamicImage {
    if img.width() <= side && img.height() <= side {
        return img;
    }
    img.thumbnail(side, side)
}

/// A JPEG of `img` (an alpha channel is dropped: posters are video frames, opaque).
fn encode(img: &DynamicImage) -> Result<Vec<u8>, ThumbError> {
    let rgb = img.to_rgb8();
    let mut out = Vec::with_capacity(64 * 1024);
    JpegEncoder::new_with_quality(&mut out, QUALITY)
        .write_image(rgb.as_raw(), rgb.width(), rgb.height(), ExtendedColorType::Rgb8)
        .map_err(|e| ThumbError::Encode(e.to_string()))?;
    Ok(out)
}

/// Write under a temporary name in `dest`'s folder, then rename over `dest` (a link there is
/// replaced, never written through). Not synced: a thumb is remade from its poster, and a
/// rescan remakes one a crash left torn ([`is_sound`]).
fn write_atomically(dest: &Path, bytes: &[u8]) -> Result<(), ThumbError> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(format!("create {}", dir.display())))?;
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{:08x}.partial", rand::random::<u32>()));
    let written = std::fs::write(&tmp, bytes)
        .map_err(io(format!("write {}", tmp.display())))
        .and_then(|()| std::fs::rename(&tmp, dest).map_err(io(format!("move the thumbnail to {}", dest.display()))));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::library::{NewResult, ResultKind};
    use image::{ImageBuffer, Rgb, RgbImage};

    /// A picture with detail everywhere (gradients, stripes, noise), as a JPEG of quality 90:
    /// decoding it costs about what a real frame does.
    pub(crate) fn frame_jpeg(width: u32, height: u32) -> Vec<u8> {
        let mut seed = 0x2545_f491_u32;
        let img: RgbImage = ImageBuffer::from_fn(width, height, |x, y| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let n = (seed & 0x1f) as u8;
            let stripe = if (x / 7 + y / 11) % 2 == 0 { 40 } else { 0 };
            Rgb([
                ((x * 255 / width) as u8).saturating_add(n),
                ((y * 255 / height) as u8).saturating_add(stripe),
                (((x + y) % 256) as u8).wrapping_add(n),
            ])
        });
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 90)
            .write_image(img.as_raw(), width, height, ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img: RgbImage = ImageBuffer::from_fn(width, height, |x, y| Rgb([x as u8, y as u8, 99]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).unwrap();
        out.into_inner()
    }

    fn lib() -> (tempfile::TempDir, LibraryPaths) {
        let dir = tempfile::tempdir().unwrap();
        let lib = LibraryPaths::new(dir.path().to_path_buf()).unwrap();
        lib.create_dirs().unwrap();
        (dir, lib)
    }

    fn decoded(path: &Path) -> DynamicImage {
        let mut r = ImageReader::open(path).unwrap();
        r.set_format(ImageFormat::Jpeg);
        r.decode().unwrap()
    }

    #[test]
    fn a_full_hd_poster_gives_a_small_jpeg_that_decodes() {
        let (_dir, lib) = lib();
        std::fs::write(lib.root().join("posters/task-3-poster.jpg"), frame_jpeg(1920, 1080)).unwrap();
        let rel = make(&lib, "posters/task-3-poster.jpg").unwrap();
        assert_eq!(rel, "thumbs/task-3-poster.jpg");
        let path = lib.resolve(&rel).unwrap();
        assert!(is_sound(&path));
        let img = decoded(&path);
        assert_eq!((img.width(), img.height()), (256, 144));
        // And the HiDPI one beside it, twice the size.
        let hidpi = lib.resolve(&hidpi_rel(&rel)).unwrap();
        assert_eq!(hidpi, lib.root().join("thumbs/task-3-poster@2x.jpg"));
        assert!(both_sound(&path));
        let img = decoded(&hidpi);
        assert_eq!((img.width(), img.height()), (512, 288));
        for p in [&path, &hidpi] {
            let size = std::fs::metadata(p).unwrap().len();
            assert!(size < 120_000, "{size} bytes");
        }
        // Nothing else is left in the folder (no temporary file).
        assert_eq!(std::fs::read_dir(lib.thumbs_dir()).unwrap().count(), 2);
        // A torn HiDPI thumb is damage; none at all is a thumb from before there were two.
        std::fs::write(&hidpi, &std::fs::read(&hidpi).unwrap()[..100]).unwrap();
        assert!(is_sound(&path) && !both_sound(&path));
        std::fs::remove_file(&hidpi).unwrap();
        assert!(both_sound(&path));
    }

    #[test]
    fn a_portrait_poster_keeps_its_aspect_and_a_small_one_its_size() {
        let (_dir, lib) = lib();
        std::fs::write(lib.root().join("posters/task-4-0-poster.png"), png(720, 1280)).unwrap();
        let rel = make(&lib, "posters/task-4-0-poster.png").unwrap();
        assert_eq!(rel, "thumbs/task-4-0-poster.jpg");
        let img = decoded(&lib.resolve(&rel).unwrap());
        assert_eq!((img.width(), img.height()), (144, 256));
        let img = decoded(&lib.resolve(&hidpi_rel(&rel)).unwrap());
        assert_eq!((img.width(), img.height()), (288, 512));
        // The simulator's own small frames are not blown up.
        let small = Path::new(env!("CARGO_MANIFEST_DIR")).join("../kie-sim/assets/landscape.jpg");
        let dest = lib.thumbs_dir().join("small.jpg");
        make_from_file(&small, &dest).unwrap();
        let img = decoded(&hidpi_path(&dest));
        assert_eq!((img.width(), img.height()), (320, 180));
        let img = decoded(&dest);
        assert_eq!((img.width(), img.height()), (256, 144));
    }

    #[test]
    #[cfg(unix)] // Makes symlinks (or a pipe) the Unix way.
    fn what_is_not_a_whole_image_gives_an_error_and_no_file() {
        let (_dir, lib) = lib();
        let posters = lib.posters_dir();
        let jpeg = frame_jpeg(640, 360);
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("text.jpg", b"<svg>not an image</svg>".to_vec()),
            ("video.jpg", kie::samples::mp4(b"isom", 1.0, 4096)),
            ("cut.jpg", jpeg[..200].to_vec()),
            ("garbled.png", [&b"\x89PNG\r\n\x1a\n"[..], &[7u8; 300][..]].concat()),
            ("empty.jpg", Vec::new()),
        ];
        for (name, bytes) in &cases {
            std::fs::write(posters.join(name), bytes).unwrap();
            let e = make(&lib, &format!("posters/{name}")).unwrap_err();
            assert!(e.is_the_posters(), "{name}: {e}");
        }
        assert!(matches!(make(&lib, "posters/missing.jpg"), Err(ThumbError::NotAFile(_))));
        std::os::unix::fs::symlink(posters.join("text.jpg"), posters.join("link.jpg")).unwrap();
        assert!(matches!(make(&lib, "posters/link.jpg"), Err(ThumbError::NotAFile(_))));
        assert!(matches!(make(&lib, "../outside.jpg"), Err(ThumbError::Path(_))));
        assert_eq!(std::fs::read_dir(lib.thumbs_dir()).unwrap().count(), 0, "no file, not even a temporary one");
    }

    #[test]
    fn huge_posters_are_refused_before_decoding() {
        let (_dir, lib) = lib();
        // A PNG header claiming 20000×20000 pixels, and nothing behind it.
        let mut huge = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        huge.extend_from_slice(&20_000u32.to_be_bytes());
        huge.extend_from_slice(&20_000u32.to_be_bytes());
        huge.extend_from_slice(&[8, 2, 0, 0, 0]);
        let crc = crc32(&huge[12..]);
        huge.extend_from_slice(&crc.to_be_bytes());
        std::fs::write(lib.posters_dir().join("huge.png"), &huge).unwrap();
        assert!(matches!(make(&lib, "posters/huge.png"), Err(ThumbError::TooLarge(_))));
        // A JPEG over the size a poster may be is not even read.
        let big = lib.posters_dir().join("big.jpg");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_POSTER_BYTES + 1).unwrap();
        assert!(matches!(make(&lib, "posters/big.jpg"), Err(ThumbError::TooBig(_))));
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    #[test]
    fn soundness_is_judged_by_the_ends() {
        let (_dir, lib) = lib();
        let p = lib.thumbs_dir().join("t.jpg");
        std::fs::write(&p, frame_jpeg(64, 64)).unwrap();
        assert!(is_sound(&p));
        let whole = std::fs::read(&p).unwrap();
        std::fs::write(&p, &whole[..whole.len() - 10]).unwrap();
        assert!(!is_sound(&p));
        std::fs::write(&p, b"").unwrap();
        assert!(!is_sound(&p));
        assert!(!is_sound(&lib.thumbs_dir().join("none.jpg")));
        assert!(is_thumb_rel("thumbs/a.jpg") && !is_thumb_rel("posters/a.jpg") && !is_thumb_rel("thumbsx/a.jpg"));
        assert_eq!(thumb_rel_for("posters/task-1-1000-poster.webp"), "thumbs/task-1-1000-poster.jpg");
    }

    /// A library with `n` results (one task each), each with a poster; every third poster is
    /// not an image.
    fn with_posters(n: usize) -> (tempfile::TempDir, Db, LibraryPaths, Vec<ResultRow>) {
        let (dir, lib) = lib();
        let db = Db::open_in_memory().unwrap();
        let jpeg = frame_jpeg(640, 360);
        let mut rows = Vec::new();
        for i in 0..n {
            let input = serde_json::Map::new();
            let t = tasks::insert_submitting(&db, "sora-2-text-to-video", &input, None, false, 1).unwrap();
            let poster = paths::poster_rel_path(&format!("task-{}-poster.jpg", t.id));
            let bytes = if i % 3 == 2 { b"broken".to_vec() } else { jpeg.clone() };
            std::fs::write(lib.resolve(&poster).unwrap(), bytes).unwrap();
            let new = NewResult {
                task_id: t.id,
                kind: ResultKind::Video,
                path: Some(format!("media/task-{}-0.mp4", t.id)),
                poster_path: Some(poster),
                ..Default::default()
            };
            rows.push(library::add_result(&db, new, 10).unwrap());
        }
        (dir, db, lib, rows)
    }

    #[test]
    fn pages_with_sources_hold_what_a_thumb_is_made_from_in_id_order() {
        let db = Db::open_in_memory().unwrap();
        let t = tasks::insert_submitting(&db, "m", &serde_json::Map::new(), None, false, 1).unwrap().id;
        let video = |idx: u32| NewResult {
            task_id: t,
            idx,
            kind: ResultKind::Video,
            path: Some(format!("media/2026/03/task-{t}-{idx}.mp4")),
            ..Default::default()
        };
        let add = |new: NewResult| library::add_result(&db, new, 1).unwrap();
        let no_poster = add(video(0));
        let with_poster = add(NewResult { poster_path: Some("posters/a.jpg".into()), ..video(1) });
        let image = add(NewResult { kind: ResultKind::Image, path: Some("media/2026/03/i.png".into()), ..video(2) });
        let thumbed = add(NewResult { poster_path: Some("posters/b.jpg".into()), ..video(3) });
        library::set_thumb(&db, thumbed.id, Some("thumbs/b.jpg")).unwrap();
        assert_eq!(
            page_with_sources(&db, 0, 10).unwrap(),
            vec![(with_poster.id, None), (image.id, None), (thumbed.id, Some("thumbs/b.jpg".into()))]
        );
        assert!(page_with_sources(&db, 0, 10).unwrap().iter().all(|(id, _)| *id != no_poster.id));
        // Pages follow on from the last id, and end empty.
        assert_eq!(page_with_sources(&db, 0, 2).unwrap().len(), 2);
        assert_eq!(page_with_sources(&db, image.id, 2).unwrap(), vec![(thumbed.id, Some("thumbs/b.jpg".into()))]);
        assert!(page_with_sources(&db, thumbed.id, 2).unwrap().is_empty());
    }

    #[test]
    fn backfill_goes_newest_first_and_stops_at_the_limit() {
        let (_dir, db, lib, rows) = with_posters(5);
        // One without a poster is never a candidate.
        let input = serde_json::Map::new();
        let t = tasks::insert_submitting(&db, "sora-2-text-to-video", &input, None, false, 1).unwrap();
        library::add_result(
            &db,
            NewResult { task_id: t.id, path: Some("media/x.mp4".into()), ..Default::default() },
            10,
        )
        .unwrap();
        let thumbs =
            |db: &Db| rows.iter().map(|r| library::get_result(db, r.id).unwrap().thumb_path).collect::<Vec<_>>();

        assert_eq!(backfill(&db, &lib, 2).unwrap(), 2);
        let got = thumbs(&db);
        assert_eq!(got[..3], [None, None, None]);
        // The newest two: rows[4] made, rows[3] made.
        assert_eq!(got[3].as_deref(), Some(format!("thumbs/task-{}-poster.jpg", rows[3].task_id).as_str()));
        assert_eq!(got[4].as_deref(), Some(format!("thumbs/task-{}-poster.jpg", rows[4].task_id).as_str()));

        // rows[2]'s poster is not an image: the poster stands in, and it is not tried again.
        assert_eq!(backfill(&db, &lib, 1).unwrap(), 1);
        assert_eq!(thumbs(&db)[2], rows[2].poster_path);
        assert_eq!(backfill(&db, &lib, 10).unwrap(), 2);
        assert!(thumbs(&db).iter().all(Option::is_some));
        assert_eq!(backfill(&db, &lib, 10).unwrap(), 0);
        // Two thumbs (1× and HiDPI) for each of the four posters that are images.
        assert_eq!(std::fs::read_dir(lib.thumbs_dir()).unwrap().count(), 8);
    }

    /// An image result has no poster: its thumb is made from the image itself, by the
    /// backfill like any other, found through the partial index.
    #[test]
    fn an_image_result_gets_a_thumb_of_itself() {
        let (_dir, db, lib, _) = with_posters(0);
        let input = serde_json::Map::new();
        let t = tasks::insert_submitting(&db, "some-image-model", &input, None, false, 1).unwrap();
        let image = format!("media/task-{}-0.png", t.id);
        std::fs::create_dir_all(lib.resolve("media").unwrap()).unwrap();
        std::fs::write(lib.resolve(&image).unwrap(), png(1600, 900)).unwrap();
        let new = NewResult { task_id: t.id, kind: ResultKind::Image, path: Some(image), ..Default::default() };
        let row = library::add_result(&db, new, 10).unwrap();
        let plan: Vec<String> = db
            .with(|c| {
                let mut st =
                    c.prepare(&format!("EXPLAIN QUERY PLAN SELECT id FROM results WHERE {} ORDER BY id DESC", todo()))?;
                let rows = st.query_map([], |r| r.get(3))?.collect::<Result<Vec<String>, _>>()?;
                Ok(rows)
            })
            .unwrap();
        assert!(plan.iter().any(|p| p.contains("results_thumb_todo")), "{plan:?}");

        assert_eq!(backfill(&db, &lib, 10).unwrap(), 1);
        let thumb = library::get_result(&db, row.id).unwrap().thumb_path.unwrap();
        assert_eq!(thumb, format!("thumbs/task-{}-0.jpg", t.id));
        let img = decoded(&lib.resolve(&thumb).unwrap());
        assert_eq!((img.width(), img.height()), (256, 144));
        assert_eq!(backfill(&db, &lib, 10).unwrap(), 0);
    }

    /// A thumb of an earlier poster goes when the poster changes, and a thumb made for a row
    /// deleted meanwhile is not left behind.
    #[test]
    fn make_for_keeps_one_thumb_per_result() {
        let (_dir, db, lib, rows) = with_posters(1);
        let row = make_for(&db, &lib, &rows[0]).unwrap();
        let first = lib.resolve(row.thumb_path.as_deref().unwrap()).unwrap();
        std::fs::write(lib.posters_dir().join("other.png"), png(100, 50)).unwrap();
        let row = library::set_poster(&db, row.id, Some("posters/other.png")).unwrap();
        let row = make_for(&db, &lib, &row).unwrap();
        assert_eq!(row.thumb_path.as_deref(), Some("thumbs/other.jpg"));
        assert!(!first.exists() && !hidpi_path(&first).exists());

        let gone = library::delete_result(&db, row.id).unwrap();
        std::fs::remove_file(lib.thumbs_dir().join("other.jpg")).unwrap();
        std::fs::remove_file(lib.thumbs_dir().join("other@2x.jpg")).unwrap();
        assert!(matches!(make_for(&db, &lib, &gone), Err(ThumbError::Store(StoreError::NotFound { .. }))));
        assert_eq!(std::fs::read_dir(lib.thumbs_dir()).unwrap().count(), 0);
    }

    /// The numbers in the module's doc comment. `cargo test --release -p studio --lib
    /// thumbs::tests::speed -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement, for release builds"]
    fn speed() {
        let dir = tempfile::tempdir().unwrap();
        for (w, h) in [(1280, 720), (1920, 1080)] {
            let src = dir.path().join(format!("{w}.jpg"));
            std::fs::write(&src, frame_jpeg(w, h)).unwrap();
            let dest = dir.path().join(format!("{w}-thumb.jpg"));
            let runs = 20;
            let mut stages = [0.0f64; 4];
            for _ in 0..runs {
                let t = std::time::Instant::now();
                let img = decode(&src).unwrap();
                let t1 = t.elapsed();
                let thumb = img.thumbnail(MAX_SIDE_HIDPI, MAX_SIDE_HIDPI);
                let t2 = t.elapsed();
                let _ = img.resize(MAX_SIDE_HIDPI, MAX_SIDE_HIDPI, image::imageops::FilterType::Triangle);
                let t3 = t.elapsed();
                let jpeg = encode(&thumb).unwrap();
                write_atomically(&dest, &jpeg).unwrap();
                let t4 = t.elapsed();
                for (s, d) in stages.iter_mut().zip([t1, t2 - t1, t3 - t2, t4 - t3]) {
                    *s += d.as_secs_f64() * 1000.0 / runs as f64;
                }
            }
            let t = std::time::Instant::now();
            for _ in 0..runs {
                make_from_file(&src, &dest).unwrap();
            }
            let whole = t.elapsed().as_secs_f64() * 1000.0 / runs as f64;
            println!(
                "{w}x{h} ({} KB): decode {:.1} ms, thumbnail {:.1} ms, Triangle {:.1} ms, encode+write {:.1} ms; \
                 make_from_file {whole:.1} ms; thumb {} KB",
                std::fs::metadata(&src).unwrap().len() / 1024,
                stages[0],
                stages[1],
                stages[2],
                stages[3],
                std::fs::metadata(&dest).unwrap().len() / 1024
            );
        }
        // Real frames, when given: KIE_THUMB_BENCH=<folder of JPEGs>.
        if let Some(folder) = std::env::var_os("KIE_THUMB_BENCH") {
            for f in paths::files_under(Path::new(&folder)) {
                let dest = dir.path().join("real-thumb.jpg");
                let t = std::time::Instant::now();
                for _ in 0..10 {
                    make_from_file(&f, &dest).unwrap();
                }
                println!(
                    "{} ({} KB): {:.1} ms, thumb {} KB",
                    f.display(),
                    std::fs::metadata(&f).unwrap().len() / 1024,
                    t.elapsed().as_secs_f64() * 100.0,
                    std::fs::metadata(&dest).unwrap().len() / 1024
                );
            }
        }
    }
}
