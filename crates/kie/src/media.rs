//! Recognising files by their first bytes, never by a name or a URL, and reading how long a
//! clip is from its own header.
//!
//! Formats: JPEG, PNG, WebP, GIF (images); MP4, MOV (`ftyp` with the `qt  ` brand), WebM
//! (EBML), AVI (`RIFF….AVI `) (videos); WAV (`RIFF….WAVE`), MP3 (an ID3 tag or an MPEG
//! Layer III frame), M4A (`ftyp` with an `M4A ` brand) (audio).
//!
//! Lengths: MP4, MOV and M4A from the `mvhd` box (or `mehd` for fragmented files); WAV from
//! the byte rate and the `data` chunk; AVI from the main header; WebM from the segment's
//! `Info`; MP3 from a Xing/Info/VBRI header, else from the first frame's bit rate (constant
//! bit rate). `None` when a file does not say: the caller accepts it and says so.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use crate::catalogue::MediaType;

/// How many first bytes [`MediaKind::sniff_path`] reads.
pub const SNIFF_LEN: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    Jpeg,
    Png,
    Webp,
    Gif,
    /// MP4 (any `ftyp` brand but QuickTime's and the audio-only ones).
    Mp4,
    /// QuickTime (`ftyp` brand `qt  `).
    Mov,
    Webm,
    Avi,
    Wav,
    Mp3,
    /// MPEG-4 audio (`ftyp` brand `M4A `, `M4B `, `M4P `).
    M4a,
}

impl MediaKind {
    pub const ALL: [MediaKind; 11] = [
        MediaKind::Jpeg,
        MediaKind::Png,
        MediaKind::Webp,
        MediaKind::Gif,
        MediaKind::Mp4,
        MediaKind::Mov,
        MediaKind::Webm,
        MediaKind::Avi,
        MediaKind::Wav,
        MediaKind::Mp3,
        MediaKind::M4a,
    ];

    /// What `head` (a file's first bytes, [`SNIFF_LEN`] are enough) is.
    pub fn sniff(head: &[u8]) -> Option<MediaKind> {
        let riff = |form: &[u8; 4]| head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == form;
        if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(MediaKind::Jpeg)
        } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(MediaKind::Png)
        } else if riff(b"WEBP") {
            Some(MediaKind::Webp)
        } else if riff(b"WAVE") {
            Some(MediaKind::Wav)
        } else if riff(b"AVI ") {
            Some(MediaKind::Avi)
        } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
            Some(MediaKind::Gif)
        } else if head.len() >= 12 && &head[4..8] == b"ftyp" {
            Some(match &head[8..12] {
                b"qt  " => MediaKind::Mov,
                b"M4A " | b"M4B " | b"M4P " => MediaKind::M4a,
                _ => MediaKind::Mp4,
            })
        } else if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
            // EBML: WebM, unless the header names plain Matroska.
            (!contains(head, b"matroska")).then_some(MediaKind::Webm)
        } else if is_id3(head) || (head.len() >= 4 && Mp3Frame::parse(&head[0..4]).is_some()) {
            // An ID3 tag, or straight into an MPEG Layer III frame.
            Some(MediaKind::Mp3)
        } else {
            None
        }
    }

    /// The extension a file of this format is named with (uploads are named by it: Kie's
    /// upload host serves a file with the type of its name).
    pub fn extension(self) -> &'static str {
        self.extensions()[0]
    }

    /// Every extension a file of this format goes by, the usual one first (lower case).
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            MediaKind::Jpeg => &["jpg", "jpeg", "jpe", "jfif"],
            MediaKind::Png => &["png"],
            MediaKind::Webp => &["webp"],
            MediaKind::Gif => &["gif"],
            MediaKind::Mp4 => &["mp4", "m4v"],
            MediaKind::Mov => &["mov", "qt"],
            MediaKind::Webm => &["webm"],
            MediaKind::Avi => &["avi"],
            MediaKind::Wav => &["wav", "wave"],
            MediaKind::Mp3 => &["mp3"],
            MediaKind::M4a => &["m4a", "m4b"],
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            MediaKind::Jpeg => "image/jpeg",
            MediaKind::Png => "image/png",
            MediaKind::Webp => "image/webp",
            MediaKind::Gif => "image/gif",
            MediaKind::Mp4 => "video/mp4",
            MediaKind::Mov => "video/quicktime",
            MediaKind::Webm => "video/webm",
            MediaKind::Avi => "video/x-msvideo",
            MediaKind::Wav => "audio/wav",
            MediaKind::Mp3 => "audio/mpeg",
            MediaKind::M4a => "audio/mp4",
        }
    }

    /// The format's name for people ("MP4", "WebP").
    pub fn label(self) -> &'static str {
        match self {
            MediaKind::Jpeg => "JPEG",
            MediaKind::Png => "PNG",
            MediaKind::Webp => "WebP",
            MediaKind::Gif => "GIF",
            MediaKind::Mp4 => "MP4",
            MediaKind::Mov => "MOV",
            MediaKind::Webm => "WebM",
            MediaKind::Avi => "AVI",
            MediaKind::Wav => "WAV",
            MediaKind::Mp3 => "MP3",
            MediaKind::M4a => "M4A",
        }
    }

    /// Image, video or audio.
    pub fn media(self) -> MediaType {
        match self {
            MediaKind::Jpeg | MediaKind::Png | MediaKind::Webp | MediaKind::Gif => MediaType::Image,
            MediaKind::Mp4 | MediaKind::Mov | MediaKind::Webm | MediaKind::Avi => MediaType::Video,
            MediaKind::Wav | MediaKind::Mp3 | MediaKind::M4a => MediaType::Audio,
        }
    }

    pub fn is_image(self) -> bool {
        self.media() == MediaType::Image
    }

    pub fn is_video(self) -> bool {
        self.media() == MediaType::Video
    }

    pub fn is_audio(self) -> bool {
        self.media() == MediaType::Audio
    }

    /// The format a file name's extension stands for (any case, with or without the dot).
    pub fn from_extension(ext: &str) -> Option<MediaKind> {
        let ext = ext.trim().trim_start_matches('.').to_ascii_lowercase();
        MediaKind::ALL.into_iter().find(|k| k.extensions().contains(&ext.as_str()))
    }

    /// What the file at `path` is, by its first bytes (only those are read).
    pub fn sniff_path(path: &Path) -> io::Result<Option<MediaKind>> {
        let mut head = Vec::with_capacity(SNIFF_LEN);
        std::fs::File::open(path)?.take(SNIFF_LEN as u64).read_to_end(&mut head)?;
        Ok(MediaKind::sniff(&head))
    }

    /// How long the clip at `path` (a file of this format) plays, in seconds; `None` for
    /// images and when the file does not say.
    pub fn duration_of(self, path: &Path) -> io::Result<Option<f64>> {
        let mut file = io::BufReader::new(std::fs::File::open(path)?);
        self.read_duration(&mut file)
    }

    /// As [`MediaKind::duration_of`], from any reader. A malformed file gives `None` (or an
    /// I/O error), never a panic.
    pub fn read_duration<R: Read + Seek>(self, r: &mut R) -> io::Result<Option<f64>> {
        let len = r.seek(SeekFrom::End(0))?;
        let seconds = match self {
            MediaKind::Mp4 | MediaKind::Mov | MediaKind::M4a => mp4_duration(r, len)?,
            MediaKind::Wav => wav_duration(r, len)?,
            MediaKind::Avi => avi_duration(r, len)?,
            MediaKind::Webm => webm_duration(r, len)?,
            MediaKind::Mp3 => mp3_duration(r, len)?,
            MediaKind::Jpeg | MediaKind::Png | MediaKind::Webp | MediaKind::Gif => None,
        };
        Ok(seconds.filter(|s| s.is_finite() && *s >= 0.0))
    }
}

/// Why a file is not a whole file of its kind, in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage(pub String);

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Damage {}

impl MediaKind {
    /// Whether the file at `path`, a file of this format, is whole: an MP4, MOV or M4A when
    /// its boxes add up to its length and its index's samples all lie in it
    /// ([`check_iso_file`]); an image when it decodes ([`check_image`]). Other formats are
    /// taken on their signature. `Err` only when the file cannot be read.
    pub fn check_whole(self, path: &Path) -> io::Result<Result<(), Damage>> {
        match self {
            MediaKind::Mp4 | MediaKind::Mov | MediaKind::M4a => {
                check_iso_file(&mut io::BufReader::new(std::fs::File::open(path)?))
            }
            MediaKind::Jpeg | MediaKind::Png | MediaKind::Webp | MediaKind::Gif => check_image(self, path),
            MediaKind::Webm | MediaKind::Avi | MediaKind::Wav | MediaKind::Mp3 => Ok(Ok(())),
        }
    }
}

fn is_id3(head: &[u8]) -> bool {
    head.len() >= 10 && head.starts_with(b"ID3") && head[3] < 0xFF && head[4] < 0xFF
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Most boxes, chunks or elements walked in one file: a loop over a malformed file ends.
const MAX_STEPS: usize = 10_000;

/// Reads up to `buf.len()` bytes at `pos`; how many there were.
fn read_at<R: Read + Seek>(r: &mut R, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
    r.seek(SeekFrom::Start(pos))?;
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Exactly `N` bytes at `pos`, or `None` past the end.
fn bytes_at<R: Read + Seek, const N: usize>(r: &mut R, pos: u64) -> io::Result<Option<[u8; N]>> {
    let mut buf = [0u8; N];
    Ok((read_at(r, pos, &mut buf)? == N).then_some(buf))
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be64(b: &[u8]) -> u64 {
    u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

// ---- MP4 / MOV / M4A: ISO boxes --------------------------------------------------------------

/// A box: its type and where its payload lies.
struct IsoBox {
    kind: [u8; 4],
    body: u64,
    end: u64,
}

/// The boxes between `start` and `end`, in order (stops at the first malformed header).
fn iso_boxes<R: Read + Seek>(r: &mut R, start: u64, end: u64) -> io::Result<Vec<IsoBox>> {
    let mut out = Vec::new();
    let mut pos = start;
    while pos + 8 <= end && out.len() < MAX_STEPS {
        let Some(h) = bytes_at::<R, 8>(r, pos)? else { break };
        let size32 = be32(&h[0..4]) as u64;
        let kind = [h[4], h[5], h[6], h[7]];
        let (size, header) = match size32 {
            0 => (end - pos, 8),
            1 => match bytes_at::<R, 8>(r, pos + 8)? {
                Some(large) => (be64(&large), 16),
                None => break,
            },
            n => (n, 8),
        };
        if size < header || pos.checked_add(size).is_none_or(|e| e > end) {
            // A box running past its parent: use what is there, then stop.
            out.push(IsoBox { kind, body: pos + header, end });
            break;
        }
        out.push(IsoBox { kind, body: pos + header, end: pos + size });
        pos += size;
    }
    Ok(out)
}

fn mp4_duration<R: Read + Seek>(r: &mut R, len: u64) -> io::Result<Option<f64>> {
    let top = iso_boxes(r, 0, len)?;
    let Some(moov) = top.iter().find(|b| &b.kind == b"moov") else { return Ok(None) };
    let children = iso_boxes(r, moov.body, moov.end)?;
    let Some(mvhd) = children.iter().find(|b| &b.kind == b"mvhd") else { return Ok(None) };
    let Some(head) = bytes_at::<R, 32>(r, mvhd.body)? else { return Ok(None) };
    // version(1) flags(3), then creation and modification times (4 or 8 bytes each).
    let (timescale, duration, unknown) = if head[0] == 1 {
        (be32(&head[20..24]), be64(&head[24..32]), u64::MAX)
    } else {
        (be32(&head[12..16]), be32(&head[16..20]) as u64, u32::MAX as u64)
    };
    if timescale == 0 || duration == unknown {
        return Ok(None);
    }
    let mut duration = duration;
    if duration == 0 {
        // A fragmented file: the whole length is in mvex/mehd.
        if let Some(mvex) = children.iter().find(|b| &b.kind == b"mvex") {
            if let Some(mehd) = iso_boxes(r, mvex.body, mvex.end)?.into_iter().find(|b| &b.kind == b"mehd") {
                let version = bytes_at::<R, 1>(r, mehd.body)?.map(|[v]| v);
                duration = match version {
                    Some(1) => bytes_at::<R, 8>(r, mehd.body + 4)?.map_or(0, |d| be64(&d)),
                    Some(_) => bytes_at::<R, 4>(r, mehd.body + 4)?.map_or(0, |d| be32(&d) as u64),
                    None => 0,
                };
            }
        }
        if duration == 0 {
            return Ok(None);
        }
    }
    Ok(Some(duration as f64 / timescale as f64))
}

// ---- Whole MP4 / MOV / M4A files ---------------------------------------------------------------

/// The largest `moov` read into memory to check a file: a real one is a few MB even for hours
/// of video, and a result is at most a few GB.
const MAX_MOOV: u64 = 64 << 20;

/// Whether an ISO base-media file (MP4, MOV, M4A) is whole, as a download cut short is not:
/// - its top-level boxes follow one another from byte 0 to exactly its length, the first an
///   `ftyp` (a box running past the end, or bytes after the last one, mean it is not whole);
/// - it has one `moov` (with an `mvhd`) and at least one `mdat`;
/// - the boxes of `moov` down to each track's sample table add up to their parents;
/// - every sample a track's table lists (`stsz`/`stz2`, `stsc`, `stco`/`co64`) lies within the
///   file: this catches an `mdat` of size 0 ("to the end of the file") cut short.
///
/// A fragmented file (`moof` boxes) is checked for its boxes only. `Ok(Err)` says what is
/// wrong in plain words; `Err` only when reading fails. Reads the box headers and `moov`,
/// never the media data.
pub fn check_iso_file<R: Read + Seek>(r: &mut R) -> io::Result<Result<(), Damage>> {
    let len = r.seek(SeekFrom::End(0))?;
    let damaged = |why: String| Ok(Err(Damage(why)));
    let mut top = Vec::new();
    let mut pos = 0u64;
    while pos < len {
        if top.len() >= MAX_STEPS {
            return damaged(format!("it has more than {MAX_STEPS} boxes"));
        }
        let Some(h) = bytes_at::<R, 8>(r, pos)? else {
            return damaged(format!(
                "it ends inside a box header at byte {pos} (cut short, or junk after its last box)"
            ));
        };
        let kind = [h[4], h[5], h[6], h[7]];
        let (size, header) = match be32(&h[0..4]) {
            0 => (len - pos, 8),
            1 => match bytes_at::<R, 8>(r, pos + 8)? {
                Some(large) => (be64(&large), 16),
                None => return damaged(format!("it ends inside the header of its {} box", fourcc(&kind))),
            },
            n => (u64::from(n), 8),
        };
        if size < header {
            return damaged(format!("its {} box at byte {pos} has an impossible size ({size})", fourcc(&kind)));
        }
        let Some(end) = pos.checked_add(size).filter(|e| *e <= len) else {
            return damaged(format!(
                "it is cut short: its {} box at byte {pos} needs {size} bytes, {} are there",
                fourcc(&kind),
                len - pos
            ));
        };
        top.push(IsoBox { kind, body: pos + header, end });
        pos = end;
    }
    if top.first().map(|b| &b.kind) != Some(b"ftyp") {
        return damaged("it does not start with an ftyp box".into());
    }
    let moovs: Vec<&IsoBox> = top.iter().filter(|b| &b.kind == b"moov").collect();
    let moov = match moovs[..] {
        [moov] => moov,
        [] => return damaged("it has no moov box (the index of its media): it is incomplete".into()),
        _ => return damaged(format!("it has {} moov boxes", moovs.len())),
    };
    if !top.iter().any(|b| &b.kind == b"mdat") {
        return damaged("it has no mdat box (its media data)".into());
    }
    if moov.end - moov.body > MAX_MOOV {
        return damaged(format!("its moov box is larger than {} MiB", MAX_MOOV >> 20));
    }
    let mut index = vec![0u8; (moov.end - moov.body) as usize];
    if read_at(r, moov.body, &mut index)? != index.len() {
        return damaged("its moov box could not be read whole".into());
    }
    Ok(check_moov(&index, len))
}

/// A box inside a parent held in memory.
struct Inner<'a> {
    kind: [u8; 4],
    body: &'a [u8],
}

/// The boxes filling `data` (the body of a `parent` box), which must add up to it (4 zero
/// bytes at the end, QuickTime's terminator, are let through).
fn inner_boxes<'a>(data: &'a [u8], parent: &str) -> Result<Vec<Inner<'a>>, Damage> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        let rest = &data[pos..];
        if rest.len() < 8 {
            if rest.iter().all(|b| *b == 0) {
                break;
            }
            return Err(Damage(format!("its {parent} box ends inside a box header")));
        }
        let kind = [rest[4], rest[5], rest[6], rest[7]];
        let (size, header) = match be32(&rest[0..4]) {
            0 => (rest.len() as u64, 8),
            1 if rest.len() >= 16 => (be64(&rest[8..16]), 16),
            1 => return Err(Damage(format!("its {parent} box ends inside a box header"))),
            n => (u64::from(n), 8),
        };
        if size < header as u64 || size > rest.len() as u64 {
            return Err(Damage(format!(
                "the {} box in its {parent} box claims {size} bytes, {} are there",
                fourcc(&kind),
                rest.len()
            )));
        }
        out.push(Inner { kind, body: &rest[header..size as usize] });
        pos += size as usize;
        if out.len() > MAX_STEPS {
            return Err(Damage(format!("its {parent} box has more than {MAX_STEPS} boxes")));
        }
    }
    Ok(out)
}

fn check_moov(moov: &[u8], file_len: u64) -> Result<(), Damage> {
    let children = inner_boxes(moov, "moov")?;
    if !children.iter().any(|b| &b.kind == b"mvhd") {
        return Err(Damage("its moov box has no mvhd".into()));
    }
    for (n, trak) in children.iter().filter(|b| &b.kind == b"trak").enumerate() {
        let mut level = trak.body;
        let mut parent = "trak";
        let mut found = true;
        for kind in [b"mdia", b"minf", b"stbl"] {
            match inner_boxes(level, parent)?.into_iter().find(|b| &b.kind == kind) {
                Some(b) => {
                    level = b.body;
                    parent = std::str::from_utf8(kind).unwrap_or("box");
                }
                None => {
                    found = false;
                    break;
                }
            }
        }
        if found {
            check_samples(&inner_boxes(level, "stbl")?, file_len)
                .map_err(|d| Damage(format!("track {}: {d}", n + 1)))?;
        }
    }
    Ok(())
}

/// The sizes of a track's samples (`stsz`, or the compact `stz2`).
enum SampleSizes<'a> {
    Same { size: u64, count: u64 },
    Each { bits: u8, count: u64, table: &'a [u8] },
}

impl SampleSizes<'_> {
    fn count(&self) -> u64 {
        match self {
            SampleSizes::Same { count, .. } | SampleSizes::Each { count, .. } => *count,
        }
    }

    /// The bytes of samples `from..to`.
    fn bytes(&self, from: u64, to: u64) -> u64 {
        match self {
            SampleSizes::Same { size, .. } => size.saturating_mul(to - from),
            SampleSizes::Each { bits, table, .. } => (from..to)
                .map(|i| {
                    let i = i as usize;
                    match bits {
                        32 => u64::from(be32(&table[i * 4..])),
                        16 => u64::from(u16::from_be_bytes([table[i * 2], table[i * 2 + 1]])),
                        8 => u64::from(table[i]),
                        _ => u64::from(if i.is_multiple_of(2) { table[i / 2] >> 4 } else { table[i / 2] & 0x0F }),
                    }
                })
                .sum(),
        }
    }
}

/// A full box's table of `count` entries of `entry` bytes after a header of `head` bytes
/// (version and flags included): the table, if the box holds it.
fn table<'a>(body: &'a [u8], head: usize, count: u64, entry_bits: u64, name: &str) -> Result<&'a [u8], Damage> {
    let need = count.saturating_mul(entry_bits).div_ceil(8);
    let have = body.len().saturating_sub(head) as u64;
    if body.len() < head || need > have {
        return Err(Damage(format!("its {name} table claims {count} entries, its box holds fewer")));
    }
    Ok(&body[head..head + need as usize])
}

fn check_samples(stbl: &[Inner<'_>], file_len: u64) -> Result<(), Damage> {
    let get = |k: &[u8; 4]| stbl.iter().find(|b| &b.kind == k).map(|b| b.body);
    let sizes = if let Some(b) = get(b"stsz") {
        if b.len() < 12 {
            return Err(Damage("its stsz box is too short".into()));
        }
        let (size, count) = (u64::from(be32(&b[4..8])), u64::from(be32(&b[8..12])));
        if size != 0 {
            SampleSizes::Same { size, count }
        } else {
            SampleSizes::Each { bits: 32, count, table: table(b, 12, count, 32, "stsz")? }
        }
    } else if let Some(b) = get(b"stz2") {
        if b.len() < 12 || ![4, 8, 16].contains(&b[7]) {
            return Err(Damage("its stz2 box is malformed".into()));
        }
        let (bits, count) = (b[7], u64::from(be32(&b[8..12])));
        SampleSizes::Each { bits, count, table: table(b, 12, count, u64::from(bits), "stz2")? }
    } else {
        // No samples listed here (a fragmented file lists them in its fragments).
        return Ok(());
    };
    if sizes.count() == 0 {
        return Ok(());
    }
    let offsets = match (get(b"stco"), get(b"co64")) {
        (Some(b), _) if b.len() >= 8 => (table(b, 8, u64::from(be32(&b[4..8])), 32, "stco")?, 4),
        (None, Some(b)) if b.len() >= 8 => (table(b, 8, u64::from(be32(&b[4..8])), 64, "co64")?, 8),
        _ => return Err(Damage("it lists samples but no chunk offsets".into())),
    };
    let offset_of = |i: usize| match offsets.1 {
        4 => u64::from(be32(&offsets.0[i * 4..])),
        _ => be64(&offsets.0[i * 8..]),
    };
    let chunks = offsets.0.len() / offsets.1;
    let stsc = match get(b"stsc") {
        Some(b) if b.len() >= 8 => table(b, 8, u64::from(be32(&b[4..8])), 96, "stsc")?,
        _ => return Err(Damage("it lists samples but no sample-to-chunk table".into())),
    };
    let runs = stsc.len() / 12;
    let first_chunk = |i: usize| u64::from(be32(&stsc[i * 12..]));
    let per_chunk = |i: usize| u64::from(be32(&stsc[i * 12 + 4..]));
    if runs == 0 || first_chunk(0) != 1 {
        return Err(Damage("its sample-to-chunk table does not start at the first chunk".into()));
    }
    let mut run = 0;
    let mut sample = 0u64;
    for chunk in 0..chunks {
        let number = chunk as u64 + 1;
        while run + 1 < runs && first_chunk(run + 1) <= number {
            run += 1;
        }
        let n = per_chunk(run).min(sizes.count() - sample);
        let bytes = sizes.bytes(sample, sample + n);
        sample += n;
        let offset = offset_of(chunk);
        let end = offset.saturating_add(bytes);
        if end > file_len {
            return Err(Damage(format!(
                "it is cut short: its sample data runs to byte {end}, the file ends at byte {file_len}"
            )));
        }
        if sample >= sizes.count() {
            break;
        }
    }
    Ok(())
}

/// A box type for people: its four letters, or `?` for bytes that are not.
fn fourcc(kind: &[u8; 4]) -> String {
    kind.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '?' }).collect()
}

// ---- Whole images ------------------------------------------------------------------------------

/// The largest picture decoded to check an image: each side, and the memory it may take.
const MAX_SIDE: u32 = 16_384;
const MAX_DECODE_BYTES: u64 = 512 << 20;

/// Whether the image at `path` (a JPEG, PNG, WebP or GIF) decodes, with the `image` crate
/// (only those decoders built), within [`MAX_SIDE`] a side, and ends as its format ends
/// ([`ends_whole`]): decoders let a file cut short through (a JPEG's missing scan is filled
/// with grey, a GIF decodes from its first frame, a PNG without its `IEND` still shows).
pub fn check_image(kind: MediaKind, path: &Path) -> io::Result<Result<(), Damage>> {
    let format = match kind {
        MediaKind::Jpeg => image::ImageFormat::Jpeg,
        MediaKind::Png => image::ImageFormat::Png,
        MediaKind::Webp => image::ImageFormat::WebP,
        MediaKind::Gif => image::ImageFormat::Gif,
        _ => return Ok(Ok(())),
    };
    let mut reader = image::ImageReader::with_format(io::BufReader::new(std::fs::File::open(path)?), format);
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    if let Err(e) = reader.decode() {
        return Ok(Err(Damage(format!("the {} image does not decode: {e}", kind.label()))));
    }
    if !ends_whole(kind, path)? {
        return Ok(Err(Damage(format!("the {} image is cut short: it does not end as one does", kind.label()))));
    }
    Ok(Ok(()))
}

/// Whether an image file ends as its format ends: a JPEG with its end-of-image marker
/// `FF D9` (zero padding after it let through), a PNG with its `IEND` chunk, a GIF with its
/// trailer `3B`, a WebP where its RIFF header says (its size + 8, padded to even).
fn ends_whole(kind: MediaKind, path: &Path) -> io::Result<bool> {
    let mut f = std::fs::File::open(path)?;
    let len = f.seek(SeekFrom::End(0))?;
    let mut tail = vec![0u8; len.min(4096) as usize];
    let got = read_at(&mut f, len - tail.len() as u64, &mut tail)?;
    let tail = &tail[..got];
    Ok(match kind {
        MediaKind::Jpeg => {
            let end = tail.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
            tail[..end].ends_with(&[0xFF, 0xD9])
        }
        MediaKind::Png => tail.ends_with(b"\0\0\0\0IEND\xaeB`\x82"),
        MediaKind::Gif => tail.ends_with(&[0x3B]),
        MediaKind::Webp => match bytes_at::<_, 4>(&mut f, 4)? {
            Some(size) => {
                let riff = u64::from(le32(&size)) + 8;
                len == riff || len == riff + (riff & 1)
            }
            None => false,
        },
        _ => true,
    })
}

// ---- WAV and AVI: RIFF chunks -----------------------------------------------------------------

/// A chunk: its id, where its data starts and its declared size.
struct Chunk {
    id: [u8; 4],
    data: u64,
    size: u64,
}

/// The chunks between `start` and `end` (padded to even sizes).
fn riff_chunks<R: Read + Seek>(r: &mut R, start: u64, end: u64) -> io::Result<Vec<Chunk>> {
    let mut out = Vec::new();
    let mut pos = start;
    while pos + 8 <= end && out.len() < MAX_STEPS {
        let Some(h) = bytes_at::<R, 8>(r, pos)? else { break };
        let size = le32(&h[4..8]) as u64;
        out.push(Chunk { id: [h[0], h[1], h[2], h[3]], data: pos + 8, size });
        pos = pos + 8 + size + (size & 1);
    }
    Ok(out)
}

fn wav_duration<R: Read + Seek>(r: &mut R, len: u64) -> io::Result<Option<f64>> {
    let chunks = riff_chunks(r, 12, len)?;
    let Some(fmt) = chunks.iter().find(|c| &c.id == b"fmt ") else { return Ok(None) };
    let Some(f) = bytes_at::<R, 16>(r, fmt.data)? else { return Ok(None) };
    let byte_rate = le32(&f[8..12]) as u64;
    let Some(data) = chunks.iter().find(|c| &c.id == b"data") else { return Ok(None) };
    if byte_rate == 0 {
        return Ok(None);
    }
    // Writers that stream leave the size 0 or all ones: count what is there.
    let there = len.saturating_sub(data.data);
    let size = if data.size == 0 || data.size == u32::MAX as u64 || data.size > there { there } else { data.size };
    Ok(Some(size as f64 / byte_rate as f64))
}

fn avi_duration<R: Read + Seek>(r: &mut R, len: u64) -> io::Result<Option<f64>> {
    for list in riff_chunks(r, 12, len)?.iter().filter(|c| &c.id == b"LIST") {
        if bytes_at::<R, 4>(r, list.data)?.as_ref() != Some(b"hdrl") {
            continue;
        }
        let end = (list.data + list.size).min(len);
        let Some(avih) = riff_chunks(r, list.data + 4, end)?.into_iter().find(|c| &c.id == b"avih") else {
            return Ok(None);
        };
        let Some(h) = bytes_at::<R, 20>(r, avih.data)? else { return Ok(None) };
        let (us_per_frame, frames) = (le32(&h[0..4]), le32(&h[16..20]));
        if us_per_frame == 0 || frames == 0 {
            return Ok(None);
        }
        return Ok(Some(us_per_frame as f64 * frames as f64 / 1e6));
    }
    Ok(None)
}

// ---- WebM: EBML ------------------------------------------------------------------------------

const EBML_HEADER: u32 = 0x1A45_DFA3;
const SEGMENT: u32 = 0x1853_8067;
const INFO: u32 = 0x1549_A966;
const CLUSTER: u32 = 0x1F43_B675;
const TIMECODE_SCALE: u32 = 0x2A_D7B1;
const DURATION: u32 = 0x4489;

/// An element's id, where its data starts and its size (`None`: unknown, to its parent's end).
struct Element {
    id: u32,
    data: u64,
    size: Option<u64>,
}

/// A variable-length integer at `pos`: its value (with the length marker kept for ids, or
/// removed for sizes), its length, and whether all its value bits were ones.
fn vint<R: Read + Seek>(r: &mut R, pos: u64, keep_marker: bool) -> io::Result<Option<(u64, u64, bool)>> {
    let Some([first]) = bytes_at::<R, 1>(r, pos)? else { return Ok(None) };
    let n = first.leading_zeros() as usize + 1;
    if n > 8 || (keep_marker && n > 4) {
        return Ok(None);
    }
    let mut buf = [0u8; 8];
    if read_at(r, pos, &mut buf[..n])? != n {
        return Ok(None);
    }
    let mut value = 0u64;
    for b in &buf[..n] {
        value = (value << 8) | *b as u64;
    }
    let bits = 7 * n as u32;
    let mask = (1u64 << bits) - 1;
    let all_ones = value & mask == mask;
    Ok(Some((if keep_marker { value } else { value & mask }, n as u64, all_ones)))
}

fn element<R: Read + Seek>(r: &mut R, pos: u64) -> io::Result<Option<Element>> {
    let Some((id, id_len, _)) = vint(r, pos, true)? else { return Ok(None) };
    let Some((size, size_len, unknown)) = vint(r, pos + id_len, false)? else { return Ok(None) };
    Ok(Some(Element { id: id as u32, data: pos + id_len + size_len, size: (!unknown).then_some(size) }))
}

fn webm_duration<R: Read + Seek>(r: &mut R, len: u64) -> io::Result<Option<f64>> {
    let Some(header) = element(r, 0)? else { return Ok(None) };
    let Some(header_size) = header.size.filter(|_| header.id == EBML_HEADER) else { return Ok(None) };
    let Some(segment) = element(r, header.data + header_size)? else { return Ok(None) };
    if segment.id != SEGMENT {
        return Ok(None);
    }
    let segment_end = segment.size.map_or(len, |s| (segment.data + s).min(len));
    let mut pos = segment.data;
    for _ in 0..MAX_STEPS {
        if pos >= segment_end {
            break;
        }
        let Some(el) = element(r, pos)? else { break };
        if el.id == CLUSTER {
            break; // Info comes before the media; a live recording has none.
        }
        let Some(size) = el.size else { break };
        if el.id == INFO {
            return webm_info(r, el.data, (el.data + size).min(segment_end));
        }
        pos = el.data + size;
    }
    Ok(None)
}

fn webm_info<R: Read + Seek>(r: &mut R, start: u64, end: u64) -> io::Result<Option<f64>> {
    let (mut scale, mut duration) = (1_000_000u64, None);
    let mut pos = start;
    for _ in 0..MAX_STEPS {
        if pos >= end {
            break;
        }
        let Some(el) = element(r, pos)? else { break };
        let Some(size) = el.size else { break };
        if el.id == TIMECODE_SCALE && (1..=8).contains(&size) {
            let mut buf = [0u8; 8];
            if read_at(r, el.data, &mut buf[..size as usize])? == size as usize {
                scale = buf[..size as usize].iter().fold(0u64, |v, b| (v << 8) | *b as u64);
            }
        } else if el.id == DURATION && (size == 4 || size == 8) {
            let mut buf = [0u8; 8];
            if read_at(r, el.data, &mut buf[..size as usize])? == size as usize {
                duration = Some(if size == 4 {
                    f32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as f64
                } else {
                    f64::from_be_bytes(buf)
                });
            }
        }
        pos = el.data + size;
    }
    Ok(duration.filter(|d| *d > 0.0 && scale > 0).map(|d| d * scale as f64 / 1e9))
}

// ---- MP3: MPEG audio frames ------------------------------------------------------------------

/// An MPEG-1/2/2.5 Layer III frame header.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Mp3Frame {
    mpeg1: bool,
    mono: bool,
    /// Bits per second; 0 for free format.
    bitrate: u32,
    sample_rate: u32,
    samples: u32,
    /// Bytes in the frame, header included (0 for free format).
    length: u32,
}

impl Mp3Frame {
    fn parse(h: &[u8]) -> Option<Mp3Frame> {
        if h.len() < 4 || h[0] != 0xFF || h[1] & 0xE0 != 0xE0 {
            return None;
        }
        let version = (h[1] >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5, 1: reserved
        let layer = (h[1] >> 1) & 3; // 1: Layer III (0 is reserved, and AAC's ADTS)
        let bitrate_index = (h[2] >> 4) as usize;
        let rate_index = ((h[2] >> 2) & 3) as usize;
        if version == 1 || layer != 1 || bitrate_index == 15 || rate_index == 3 {
            return None;
        }
        let mpeg1 = version == 3;
        const V1: [u32; 15] = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
        const V2: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
        let bitrate = if mpeg1 { V1 } else { V2 }[bitrate_index] * 1000;
        let base = [44_100, 48_000, 32_000][rate_index];
        let sample_rate = match version {
            3 => base,
            2 => base / 2,
            _ => base / 4,
        };
        let samples = if mpeg1 { 1152 } else { 576 };
        let padding = ((h[2] >> 1) & 1) as u32;
        let length = if bitrate == 0 { 0 } else { samples / 8 * bitrate / sample_rate + padding };
        Some(Mp3Frame { mpeg1, mono: h[3] >> 6 == 3, bitrate, sample_rate, samples, length })
    }
}

fn mp3_duration<R: Read + Seek>(r: &mut R, len: u64) -> io::Result<Option<f64>> {
    // Skip an ID3v2 tag (its size is "syncsafe": 7 bits a byte).
    let mut start = 0u64;
    if let Some(h) = bytes_at::<R, 10>(r, 0)? {
        if &h[0..3] == b"ID3" {
            let size = h[6..10].iter().fold(0u64, |v, b| (v << 7) | (*b & 0x7F) as u64);
            start = 10 + size + if h[5] & 0x10 != 0 { 10 } else { 0 };
        }
    }
    let mut end = len;
    if len >= 128 && bytes_at::<R, 3>(r, len - 128)?.as_ref() == Some(b"TAG") {
        end -= 128; // ID3v1
    }
    // The first frame whose successor (if any) also starts a frame: padding and stray bytes
    // before it are passed over, within reason.
    let window = 64 * 1024;
    let mut buf = vec![0u8; window + 4];
    let got = read_at(r, start, &mut buf)?;
    let buf = &buf[..got];
    let mut first = None;
    for i in 0..buf.len().saturating_sub(3) {
        let Some(frame) = Mp3Frame::parse(&buf[i..]) else { continue };
        let at = start + i as u64;
        if frame.length == 0 {
            continue;
        }
        let next = at + frame.length as u64;
        let confirmed = next + 4 > end || bytes_at::<R, 4>(r, next)?.is_some_and(|h| Mp3Frame::parse(&h).is_some());
        if confirmed {
            first = Some((at, frame));
            break;
        }
    }
    let Some((at, frame)) = first else { return Ok(None) };
    // A Xing/Info header (after the side information) or a VBRI one counts the frames.
    let side = match (frame.mpeg1, frame.mono) {
        (true, false) => 32,
        (true, true) | (false, false) => 17,
        (false, true) => 9,
    };
    let frames = if let Some(x) = bytes_at::<R, 12>(r, at + 4 + side)? {
        if (&x[0..4] == b"Xing" || &x[0..4] == b"Info") && be32(&x[4..8]) & 1 == 1 {
            Some(be32(&x[8..12]))
        } else {
            None
        }
    } else {
        None
    };
    let frames = match frames {
        Some(f) => Some(f),
        None => match bytes_at::<R, 18>(r, at + 36)? {
            Some(v) if &v[0..4] == b"VBRI" => Some(be32(&v[14..18])),
            _ => None,
        },
    };
    if let Some(frames) = frames.filter(|f| *f > 0) {
        return Ok(Some(frames as f64 * frame.samples as f64 / frame.sample_rate as f64));
    }
    // Constant bit rate: the bytes of audio at the first frame's rate.
    Ok(Some(end.saturating_sub(at) as f64 * 8.0 / frame.bitrate as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    // ---- tiny valid files, built here ----

    fn iso(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        b.extend_from_slice(kind);
        b.extend_from_slice(body);
        b
    }

    fn mvhd_v0(timescale: u32, duration: u32) -> Vec<u8> {
        let mut body = vec![0u8; 4 + 4 + 4];
        body.extend_from_slice(&timescale.to_be_bytes());
        body.extend_from_slice(&duration.to_be_bytes());
        body.resize(100, 0);
        iso(b"mvhd", &body)
    }

    fn mvhd_v1(timescale: u32, duration: u64) -> Vec<u8> {
        let mut body = vec![1u8, 0, 0, 0];
        body.extend_from_slice(&[0; 16]);
        body.extend_from_slice(&timescale.to_be_bytes());
        body.extend_from_slice(&duration.to_be_bytes());
        body.resize(112, 0);
        iso(b"mvhd", &body)
    }

    /// An MP4 (or MOV with brand `qt  `) of `seconds`, its `moov` after a 1 KB `mdat`.
    fn mp4(brand: &[u8; 4], seconds: f64) -> Vec<u8> {
        let mut f = iso(b"ftyp", &[&brand[..], &[0u8, 0, 2, 0][..], &b"isommp41"[..]].concat());
        f.extend(iso(b"mdat", &[7u8; 1024]));
        f.extend(iso(b"moov", &mvhd_v0(600, (seconds * 600.0).round() as u32)));
        f
    }

    /// A PCM WAV: 8 kHz, 16-bit mono (16 000 bytes a second), with a LIST chunk first.
    fn wav(seconds: f64) -> Vec<u8> {
        let data = vec![0u8; (seconds * 16_000.0) as usize];
        let mut fmt = Vec::new();
        fmt.extend_from_slice(&1u16.to_le_bytes()); // PCM
        fmt.extend_from_slice(&1u16.to_le_bytes()); // mono
        fmt.extend_from_slice(&8000u32.to_le_bytes());
        fmt.extend_from_slice(&16_000u32.to_le_bytes());
        fmt.extend_from_slice(&2u16.to_le_bytes());
        fmt.extend_from_slice(&16u16.to_le_bytes());
        let chunk = |id: &[u8; 4], body: &[u8]| {
            let mut c = id.to_vec();
            c.extend_from_slice(&(body.len() as u32).to_le_bytes());
            c.extend_from_slice(body);
            if body.len() % 2 == 1 {
                c.push(0);
            }
            c
        };
        let mut body = b"WAVE".to_vec();
        body.extend(chunk(b"LIST", b"INFOISFT\x03\0\0\0ab\0"));
        body.extend(chunk(b"fmt ", &fmt));
        body.extend(chunk(b"data", &data));
        let mut f = b"RIFF".to_vec();
        f.extend_from_slice(&(body.len() as u32).to_le_bytes());
        f.extend(body);
        f
    }

    #[test]
    fn sniffs_by_magic() {
        assert_eq!(MediaKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(MediaKind::Jpeg));
        assert_eq!(MediaKind::sniff(b"\x89PNG\r\n\x1a\n...."), Some(MediaKind::Png));
        assert_eq!(MediaKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(MediaKind::Webp));
        assert_eq!(MediaKind::sniff(b"\0\0\0\x20ftypisom"), Some(MediaKind::Mp4));
        assert_eq!(MediaKind::sniff(b"\0\0\0\x20ftypmp42"), Some(MediaKind::Mp4));
        assert_eq!(MediaKind::sniff(b"\0\0\0\x14ftypqt  "), Some(MediaKind::Mov));
        assert_eq!(MediaKind::sniff(b"\0\0\0\x20ftypM4A "), Some(MediaKind::M4a));
        assert_eq!(MediaKind::sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm"), Some(MediaKind::Webm));
        assert_eq!(MediaKind::sniff(b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska"), None);
        assert_eq!(MediaKind::sniff(b"RIFF\0\0\0\0AVI LIST"), Some(MediaKind::Avi));
        assert_eq!(MediaKind::sniff(b"RIFF\0\0\0\0WAVEfmt "), Some(MediaKind::Wav));
        assert_eq!(MediaKind::sniff(b"ID3\x04\0\0\0\0\0\x10"), Some(MediaKind::Mp3));
        assert_eq!(MediaKind::sniff(&[0xFF, 0xFB, 0x90, 0x64]), Some(MediaKind::Mp3), "MPEG-1 Layer III");
        assert_eq!(MediaKind::sniff(&[0xFF, 0xF3, 0x64, 0xC4]), Some(MediaKind::Mp3), "MPEG-2 Layer III");
        assert_eq!(MediaKind::sniff(&[0xFF, 0xE3, 0x18, 0xC4]), Some(MediaKind::Mp3), "MPEG-2.5 Layer III");
        assert_eq!(MediaKind::sniff(&[0xFF, 0xF1, 0x50, 0x80]), None, "AAC in ADTS is not MP3");
        assert_eq!(MediaKind::sniff(&[0xFF, 0xFD, 0x90, 0x64]), None, "Layer II");
        assert_eq!(MediaKind::sniff(&[0xFF, 0xFB, 0xF0, 0x64]), None, "a bad bit rate");
        assert_eq!(MediaKind::sniff(b"GIF89a.."), Some(MediaKind::Gif));
        assert_eq!(MediaKind::sniff(b"RIFF\0\0\0\0CDXA"), None);
        assert_eq!(MediaKind::sniff(b"<html>"), None);
        assert_eq!(MediaKind::sniff(b""), None);
    }

    #[test]
    fn names_types_and_kinds() {
        for kind in MediaKind::ALL {
            assert_eq!(MediaKind::from_extension(kind.extension()), Some(kind));
            assert_eq!(MediaKind::from_extension(&format!(".{}", kind.extension().to_uppercase())), Some(kind));
            let top = kind.mime().split('/').next().unwrap();
            let media = match top {
                "image" => MediaType::Image,
                "video" => MediaType::Video,
                _ => MediaType::Audio,
            };
            assert_eq!(kind.media(), media, "{kind:?}");
        }
        assert_eq!((MediaKind::Mov.extension(), MediaKind::Mov.mime()), ("mov", "video/quicktime"));
        assert_eq!(MediaKind::from_extension("jpeg"), Some(MediaKind::Jpeg));
        assert_eq!(MediaKind::from_extension("txt"), None);
        assert!(MediaKind::Gif.is_image() && !MediaKind::Mp4.is_image() && !MediaKind::Wav.is_image());
        assert!(MediaKind::Webm.is_video() && MediaKind::Mp3.is_audio());
    }

    #[test]
    fn sniffs_files_by_their_first_bytes() {
        let dir = std::env::temp_dir().join(format!("kie-media-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let video = dir.join("clip.dat");
        let mut bytes = b"\0\0\0\x20ftypisom".to_vec();
        bytes.resize(100_000, 7);
        std::fs::write(&video, &bytes).unwrap();
        assert_eq!(MediaKind::sniff_path(&video).unwrap(), Some(MediaKind::Mp4));
        let short = dir.join("short");
        std::fs::write(&short, b"GIF").unwrap();
        assert_eq!(MediaKind::sniff_path(&short).unwrap(), None);
        assert!(MediaKind::sniff_path(&dir.join("missing")).is_err());
        let clip = dir.join("clip.mov");
        std::fs::write(&clip, mp4(b"qt  ", 3.5)).unwrap();
        assert_eq!(MediaKind::sniff_path(&clip).unwrap(), Some(MediaKind::Mov));
        assert_eq!(MediaKind::Mov.duration_of(&clip).unwrap(), Some(3.5));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn duration(kind: MediaKind, bytes: &[u8]) -> Option<f64> {
        kind.read_duration(&mut Cursor::new(bytes)).unwrap()
    }

    #[test]
    fn mp4_length_from_mvhd() {
        let f = mp4(b"isom", 6.2);
        assert_eq!(MediaKind::sniff(&f), Some(MediaKind::Mp4));
        assert_eq!(duration(MediaKind::Mp4, &f), Some(6.2));
        // Version 1, moov first, a 64-bit mdat after it.
        let mut f = iso(b"ftyp", b"mp42\0\0\0\0");
        f.extend(iso(b"moov", &[iso(b"trak", &[0; 20]), mvhd_v1(90_000, 90_000 * 3)].concat()));
        let mut mdat = 1u32.to_be_bytes().to_vec();
        mdat.extend_from_slice(b"mdat");
        mdat.extend_from_slice(&(16u64 + 100).to_be_bytes());
        mdat.extend_from_slice(&[0; 100]);
        f.extend(mdat);
        assert_eq!(duration(MediaKind::Mp4, &f), Some(3.0));
        // Fragmented: mvhd says 0, mehd has it.
        let mut mehd = vec![0u8; 4];
        mehd.extend_from_slice(&2500u32.to_be_bytes());
        let moov = [mvhd_v0(1000, 0), iso(b"mvex", &iso(b"mehd", &mehd))].concat();
        let f = [iso(b"ftyp", b"iso6\0\0\0\0"), iso(b"moov", &moov)].concat();
        assert_eq!(duration(MediaKind::Mp4, &f), Some(2.5));
        // Unknown or unreadable: None, never a panic.
        let f = [iso(b"ftyp", b"isom\0\0\0\0"), iso(b"moov", &mvhd_v0(1000, u32::MAX))].concat();
        assert_eq!(duration(MediaKind::Mp4, &f), None);
        let f = [iso(b"ftyp", b"isom\0\0\0\0"), iso(b"moov", &mvhd_v0(0, 10))].concat();
        assert_eq!(duration(MediaKind::Mp4, &f), None);
        assert_eq!(duration(MediaKind::Mp4, &iso(b"ftyp", b"isom\0\0\0\0")), None, "no moov");
        let whole = mp4(b"isom", 6.2);
        for cut in [0, 7, 20, whole.len() - 90, whole.len() - 1] {
            let _ = duration(MediaKind::Mp4, &whole[..cut]);
        }
        let mut liar = iso(b"ftyp", b"isom\0\0\0\0");
        liar.extend_from_slice(&[0, 0, 0, 3, b'm', b'o', b'o', b'v', 0, 0]);
        assert_eq!(duration(MediaKind::Mp4, &liar), None);
    }

    #[test]
    fn wav_length_from_its_byte_rate() {
        let f = wav(2.5);
        assert_eq!(MediaKind::sniff(&f), Some(MediaKind::Wav));
        assert_eq!(duration(MediaKind::Wav, &f), Some(2.5));
        // A streamed file with the data size left at all ones: what is there counts.
        let mut streamed = wav(1.0);
        let at = streamed.len() - 16_000 - 4;
        streamed[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(duration(MediaKind::Wav, &streamed), Some(1.0));
        assert_eq!(duration(MediaKind::Wav, b"RIFF\x04\0\0\0WAVE"), None);
        let _ = duration(MediaKind::Wav, &f[..30]);
    }

    #[test]
    fn avi_length_from_its_main_header() {
        let mut avih = 40_000u32.to_le_bytes().to_vec(); // 25 frames a second
        avih.extend_from_slice(&[0; 12]);
        avih.extend_from_slice(&75u32.to_le_bytes());
        avih.resize(56, 0);
        let mut hdrl = b"hdrl".to_vec();
        hdrl.extend_from_slice(b"avih");
        hdrl.extend_from_slice(&56u32.to_le_bytes());
        hdrl.extend(avih);
        let mut body = b"AVI ".to_vec();
        body.extend_from_slice(b"LIST");
        body.extend_from_slice(&(hdrl.len() as u32).to_le_bytes());
        body.extend(hdrl);
        let mut f = b"RIFF".to_vec();
        f.extend_from_slice(&(body.len() as u32).to_le_bytes());
        f.extend(body);
        assert_eq!(MediaKind::sniff(&f), Some(MediaKind::Avi));
        assert_eq!(duration(MediaKind::Avi, &f), Some(3.0));
        assert_eq!(duration(MediaKind::Avi, &f[..40]), None);
    }

    fn ebml(id: &[u8], body: &[u8]) -> Vec<u8> {
        let mut e = id.to_vec();
        e.push(0x80 | body.len() as u8); // one-byte size (bodies here are short)
        e.extend_from_slice(body);
        e
    }

    fn webm(info: &[u8]) -> Vec<u8> {
        let mut f = ebml(&[0x1A, 0x45, 0xDF, 0xA3], &[ebml(&[0x42, 0x82], b"webm")].concat());
        f.extend_from_slice(&[0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]); // unknown size
        f.extend(ebml(&[0x11, 0x4D, 0x9B, 0x74], &[0; 8])); // SeekHead
        f.extend(ebml(&[0x15, 0x49, 0xA9, 0x66], info));
        f.extend_from_slice(&[0x1F, 0x43, 0xB6, 0x75, 0xFF]); // a Cluster of unknown size
        f
    }

    #[test]
    fn webm_length_from_its_info() {
        let scale = ebml(&[0x2A, 0xD7, 0xB1], &[0x0F, 0x42, 0x40]); // 1 ms
        let f = webm(&[scale.clone(), ebml(&[0x44, 0x89], &2500f64.to_be_bytes())].concat());
        assert_eq!(MediaKind::sniff(&f), Some(MediaKind::Webm));
        assert_eq!(duration(MediaKind::Webm, &f), Some(2.5));
        let f = webm(&ebml(&[0x44, 0x89], &1500f32.to_be_bytes()));
        assert_eq!(duration(MediaKind::Webm, &f), Some(1.5), "the default scale, a 4-byte float");
        assert_eq!(duration(MediaKind::Webm, &webm(&scale)), None, "a live recording says nothing");
        let _ = duration(MediaKind::Webm, &f[..20]);
    }

    /// MPEG-1 Layer III frames at 128 kb/s, 44.1 kHz, stereo: 417 bytes each, 1152 samples.
    fn mp3_frames(n: usize) -> Vec<u8> {
        let mut frame = vec![0xFF, 0xFB, 0x90, 0x00];
        frame.resize(417, 0);
        frame.repeat(n)
    }

    #[test]
    fn mp3_length_from_a_xing_header_or_the_bit_rate() {
        let id3 = b"ID3\x04\0\0\0\0\0\x0A".iter().copied().chain([0u8; 10]).collect::<Vec<_>>();
        // Constant bit rate: 100 frames of 417 bytes at 128 kb/s.
        let cbr = [id3.clone(), mp3_frames(100)].concat();
        assert_eq!(MediaKind::sniff(&cbr), Some(MediaKind::Mp3));
        let secs = duration(MediaKind::Mp3, &cbr).unwrap();
        assert!((secs - 100.0 * 417.0 * 8.0 / 128_000.0).abs() < 1e-9, "{secs}");
        // A Xing header counting 200 frames (VBR): 200 × 1152 / 44 100.
        let mut vbr = mp3_frames(3);
        vbr[4 + 32..4 + 32 + 12].copy_from_slice(&[b'X', b'i', b'n', b'g', 0, 0, 0, 1, 0, 0, 0, 200]);
        let secs = duration(MediaKind::Mp3, &[id3.clone(), vbr].concat()).unwrap();
        assert!((secs - 200.0 * 1152.0 / 44_100.0).abs() < 1e-9, "{secs}");
        // Junk between the tag and the first frame is passed over; a file of none is None.
        let padded = [id3.clone(), vec![0; 33], mp3_frames(10)].concat();
        assert!(duration(MediaKind::Mp3, &padded).unwrap() > 0.2);
        assert_eq!(duration(MediaKind::Mp3, &[id3, vec![0; 100]].concat()), None);
        assert_eq!(MediaKind::Mp3.read_duration(&mut Cursor::new(Vec::new())).unwrap(), None);
    }

    #[test]
    fn a_real_mp4_made_by_ffmpeg() {
        let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../kie-sim/assets");
        let clip = assets.join("landscape.mp4");
        assert_eq!(MediaKind::sniff_path(&clip).unwrap(), Some(MediaKind::Mp4));
        assert_eq!(MediaKind::Mp4.duration_of(&clip).unwrap(), Some(2.0));
        assert_eq!(MediaKind::sniff_path(&assets.join("landscape.jpg")).unwrap(), Some(MediaKind::Jpeg));
    }

    #[test]
    fn images_have_no_length() {
        assert_eq!(duration(MediaKind::Png, b"\x89PNG\r\n\x1a\n"), None);
    }
}
