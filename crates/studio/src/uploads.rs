//! The [`Uploads`] service, and the checks before it. A link field of a model that takes a
//! local file says so in the catalogue (`limits.media`: image, video or audio, with
//! `file_types`, `max_file_mb` and, for clips, `min_seconds`/`max_seconds`); nothing here
//! knows a model or a field by name.
//!
//! A picked file is judged by its bytes, never its name ([`MediaKind`]): the right kind of
//! media, a format the field allows, not too large, and for clips, long enough and not too
//! long (when its header says how long it is; when it does not, the file is let through with
//! a note). Then a copy is kept in `<library>/uploads/` (for the thumbnail and for remixing
//! later) and uploaded through Kie's upload API, named by its real format, with progress.
//! Reading and copying run on the blocking pool.

pub mod local_files;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use kie::catalogue::{Catalogue, FieldSpec, FieldType, Limits, MediaType};
use kie::media::MediaKind;
use kie::validate::Problem;
use sha2::{Digest, Sha256};

use crate::error::StudioError;
use crate::paths::LibraryPaths;
use crate::payloads::{UploadProgress, UploadedFile};
use crate::progress::throttled_transfer;
use crate::studio::{blocking, Studio};

/// The folder of kept copies, relative to the library root.
pub const UPLOADS_DIR: &str = "uploads";
/// The folder on Kie's upload host; a subfolder per kind of media.
pub const UPLOAD_PATH: &str = "kie-studio";
/// A clip this close to a length limit passes (headers round).
const SECONDS_TOLERANCE: f64 = 0.005;

/// What the native file dialog is asked for ([`crate::Host::pick_files`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePick {
    pub title: String,
    /// The filter's name, e.g. "Videos (MP4, WebM, AVI)".
    pub filter_name: String,
    /// The filter's extensions without dots, in lower and upper case (the bytes decide in
    /// the end, not the name).
    pub extensions: Vec<String>,
    /// Several files (a list of links that may hold more than one), or one.
    pub multiple: bool,
}

/// A link field that takes a local file, found by its path in a model's form.
#[derive(Debug, Clone)]
pub struct MediaField {
    /// The path as given, e.g. `image_urls`, `first_frame_url`,
    /// `kling_elements[0].element_input_urls`; problems name it.
    pub path: String,
    /// What messages call it: a list's label for a list of links, else the link's own.
    pub label: String,
    pub media: MediaType,
    /// The link's limits (`file_types`, `max_file_mb`, `min_seconds`, `max_seconds`).
    pub limits: Limits,
    /// The value is a list of links (else one link).
    pub list: bool,
    /// Several files may be picked at once: a list of links that may hold more than one.
    pub multiple: bool,
}

/// A picked file that passed the checks.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedFile {
    pub path: PathBuf,
    /// The file's name as the user knows it.
    pub name: String,
    /// The real format, by its bytes.
    pub kind: MediaKind,
    pub size: u64,
    /// A clip's length, when its header says.
    pub seconds: Option<f64>,
    /// For the user: the length could not be read, so it was not checked.
    pub note: Option<String>,
}

impl MediaField {
    /// `field` (a link, or a list of links) when it takes local files; `path` names it in
    /// problems.
    pub fn of(field: &FieldSpec, path: &str) -> Option<MediaField> {
        match field.kind {
            FieldType::Url => MediaField::link(field, &field.label, path, false, false),
            FieldType::List => {
                let multiple = field.limits.max_items.is_none_or(|max| max > 1);
                MediaField::link(field.items.as_deref()?, &field.label, path, true, multiple)
            }
            _ => None,
        }
    }

    fn link(link: &FieldSpec, label: &str, path: &str, list: bool, multiple: bool) -> Option<MediaField> {
        let media = link.limits.media.filter(|_| link.kind == FieldType::Url)?;
        Some(MediaField {
            path: path.to_string(),
            label: label.to_string(),
            media,
            limits: link.limits.clone(),
            list,
            multiple,
        })
    }

    /// The field at `path` of `model`'s form: a top-level field (`image_urls`), a row of a
    /// list (`image_urls[1]`: one file), or a field inside a list of groups
    /// (`kling_elements[0].element_input_urls`; the index may be left out or empty:
    /// `kling_elements[].element_input_urls`). `invalid_input` when there is no such field or
    /// it does not take files.
    pub fn find(catalogue: &Catalogue, model: &str, path: &str) -> Result<MediaField, StudioError> {
        let spec = catalogue
            .model(model)
            .ok_or_else(|| StudioError::invalid("model", "unknown_model", format!("There is no model {model:?}.")))?;
        let missing = || StudioError::invalid(path, "unknown_field", format!("{} has no field {path:?}.", spec.name));
        let mut fields: &[FieldSpec] = &spec.fields;
        let mut at: Option<&FieldSpec> = None;
        // The list a trailing index stepped into (its label names the file).
        let mut row_of: Option<&FieldSpec> = None;
        for segment in path.split('.') {
            let (name, indexes) = split_indexes(segment).ok_or_else(missing)?;
            if let Some(parent) = at {
                fields = match (parent.kind, parent.items.as_deref()) {
                    (FieldType::Object, _) => &parent.fields,
                    (FieldType::List, Some(items)) if items.kind == FieldType::Object => &items.fields,
                    _ => return Err(missing()),
                };
            }
            let mut field = fields.iter().find(|f| f.name == name).ok_or_else(missing)?;
            row_of = None;
            for _ in 0..indexes {
                let items = field.items.as_deref().filter(|_| field.kind == FieldType::List).ok_or_else(missing)?;
                row_of = Some(field);
                field = items;
            }
            at = Some(field);
        }
        let field = at.ok_or_else(missing)?;
        let found = match (field.kind, row_of) {
            (FieldType::Url, Some(list)) => MediaField::link(field, &list.label, path, false, false),
            _ => MediaField::of(field, path),
        };
        found.ok_or_else(|| {
            StudioError::invalid(
                path,
                "not_a_file_field",
                format!("{} does not take files from the computer.", field.label),
            )
        })
    }

    /// The formats the field takes: those of its kind of media that `file_types` names (by
    /// any of their extensions), or when it names none, all of them but GIF (an animation is
    /// not a picture to start from; a field that wants one names it).
    pub fn kinds(&self) -> Vec<MediaKind> {
        let named: Vec<String> =
            self.limits.file_types.iter().map(|t| t.trim().trim_start_matches('.').to_ascii_lowercase()).collect();
        MediaKind::ALL
            .into_iter()
            .filter(|k| k.media() == self.media)
            .filter(|k| match named.is_empty() {
                true => *k != MediaKind::Gif,
                false => k.extensions().iter().any(|e| named.iter().any(|n| n == e)),
            })
            .collect()
    }

    /// "an MP4, WebM or AVI video": the catalogue's `file_types_label`, else made from the formats.
    pub fn types_label(&self) -> String {
        if let Some(label) = self.limits.file_types_label.as_deref().filter(|l| !l.trim().is_empty()) {
            return label.to_string();
        }
        let kinds = self.kinds();
        match kinds.first() {
            Some(first) => format!("{} {} {}", article(*first), or_list(&kinds), noun(self.media)),
            None => format!("no {} format Kie Studio knows", noun(self.media)),
        }
    }

    /// What a file for it must be, in a few words: "an MP4 or MOV video, at most 50 MB,
    /// 2 to 15 s".
    pub fn summary(&self) -> String {
        let mut parts = vec![self.types_label()];
        if let Some(mb) = self.limits.max_file_mb {
            parts.push(format!("at most {} MB", plain(mb)));
        }
        if let Some(range) = seconds_range(self.limits.min_seconds, self.limits.max_seconds) {
            parts.push(range);
        }
        parts.join(", ")
    }

    /// The largest file, in bytes.
    pub fn max_bytes(&self) -> Option<u64> {
        self.limits.max_file_mb.map(|mb| (mb * 1024.0 * 1024.0).floor() as u64)
    }

    /// The native dialog for this field: its formats only, several when it is a list.
    pub fn pick(&self) -> FilePick {
        let mut extensions: Vec<String> = Vec::new();
        for kind in self.kinds() {
            for ext in kind.extensions() {
                for e in [ext.to_string(), ext.to_ascii_uppercase()] {
                    if !extensions.contains(&e) {
                        extensions.push(e);
                    }
                }
            }
        }
        let labels: Vec<&str> = self.kinds().iter().map(|k| k.label()).collect();
        let (many, one, group) = match self.media {
            MediaType::Image => ("Choose images", "Choose an image", "Images"),
            MediaType::Video => ("Choose clips", "Choose a clip", "Videos"),
            MediaType::Audio => ("Choose audio files", "Choose an audio file", "Audio"),
        };
        FilePick {
            title: format!("{} for {}", if self.multiple { many } else { one }, self.label),
            filter_name: format!("{group} ({})", labels.join(", ")),
            extensions,
            multiple: self.multiple,
        }
    }

    /// What the `KIE_STUDIO_E2E_PICK` test hook's files give for this field: those the dialog
    /// would offer (by their extension, as its filter does), only the first when it takes one.
    pub fn e2e_pick(&self, files: &[PathBuf]) -> Vec<PathBuf> {
        let offered = self.pick().extensions;
        let ext = |p: &PathBuf| p.extension().map(|e| e.to_string_lossy().to_string()).unwrap_or_default();
        let mut picked: Vec<PathBuf> = files.iter().filter(|p| offered.contains(&ext(p))).cloned().collect();
        if !self.multiple {
            picked.truncate(1);
        }
        picked
    }

    /// Check one file: readable, not empty, by its bytes the kind of media and a format the
    /// field takes, at most `max_file_mb`, and for a clip with length limits, within them. The
    /// problem names the field's label, the file and the limit. Blocking (reads headers).
    pub fn check(&self, path: &Path) -> Result<CheckedFile, Problem> {
        let name = display_name(path);
        let label = &self.label;
        let problem = |rule: &str, message: String| Problem::new(self.path.as_str(), rule, message);
        let unreadable = |e: std::io::Error| problem("unreadable", format!("{name} could not be read: {e}."));
        let meta = std::fs::metadata(path).map_err(unreadable)?;
        if !meta.is_file() {
            return Err(problem("unreadable", format!("{name} is not a file.")));
        }
        let size = meta.len();
        if size == 0 {
            return Err(problem("empty", format!("{name} is empty.")));
        }
        let kind = MediaKind::sniff_path(path).map_err(unreadable)?;
        let Some(kind) = kind.filter(|k| self.kinds().contains(k)) else {
            let is = match kind {
                Some(k) => format!("is {} {} {}", article(k), k.label(), noun(k.media())),
                None => "is not a kind of file Kie Studio recognises".to_string(),
            };
            return Err(problem("unsupported_type", format!("{name} {is}; for {label}, use {}.", self.types_label())));
        };
        if let Some(max_mb) = self.limits.max_file_mb.filter(|_| self.max_bytes().is_some_and(|max| size > max)) {
            let mb = one_decimal(size as f64 / (1024.0 * 1024.0));
            let is = if mb.parse::<f64>().is_ok_and(|shown| shown <= max_mb) {
                format!("just over {} MB", plain(max_mb))
            } else {
                format!("{mb} MB")
            };
            return Err(problem(
                "too_large",
                format!("{name} is {is}; files for {label} can be at most {} MB.", plain(max_mb)),
            ));
        }
        let (min, max) = (self.limits.min_seconds, self.limits.max_seconds);
        let mut seconds = None;
        let mut note = None;
        if kind.is_video() || kind.is_audio() {
            seconds = kind.duration_of(path).map_err(unreadable)?;
            let range = seconds_range(min, max);
            match (seconds, range) {
                (Some(s), Some(range)) => {
                    if min.is_some_and(|m| s < m - SECONDS_TOLERANCE) {
                        return Err(problem(
                            "too_short",
                            format!("{name} is {} s; {label} must be {range}.", plain(s)),
                        ));
                    }
                    if max.is_some_and(|m| s > m + SECONDS_TOLERANCE) {
                        return Err(problem("too_long", format!("{name} is {} s; {label} must be {range}.", plain(s))));
                    }
                }
                (None, Some(range)) => {
                    note = Some(format!(
                        "The length of {name} could not be read, so it was not checked here ({label} must be {range}); Kie will check it."
                    ));
                }
                _ => {}
            }
        }
        Ok(CheckedFile { path: path.to_path_buf(), name, kind, size, seconds, note })
    }

    /// Check every file; all problems at once (`invalid_input`), so nothing is uploaded when
    /// one of the files cannot be used. Blocking.
    pub fn check_all(&self, paths: &[PathBuf]) -> Result<Vec<CheckedFile>, StudioError> {
        let mut ok = Vec::new();
        let mut problems = Vec::new();
        for p in paths {
            match self.check(p) {
                Ok(c) => ok.push(c),
                Err(problem) => problems.push(problem),
            }
        }
        if problems.is_empty() {
            Ok(ok)
        } else {
            Err(StudioError::InvalidInput(problems))
        }
    }
}

/// `name`, then any number of `[n]` or `[]`: the name and how many indexes.
fn split_indexes(segment: &str) -> Option<(&str, usize)> {
    let (name, mut rest) = match segment.find('[') {
        Some(i) => (&segment[..i], &segment[i..]),
        None => (segment, ""),
    };
    let mut indexes = 0;
    while !rest.is_empty() {
        let close = rest.find(']')?;
        if !rest.starts_with('[') || !rest[1..close].chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        indexes += 1;
        rest = &rest[close + 1..];
    }
    (!name.is_empty()).then_some((name, indexes))
}

fn article(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Mp4 | MediaKind::Avi | MediaKind::Mp3 | MediaKind::M4a => "an",
        _ => "a",
    }
}

fn noun(media: MediaType) -> &'static str {
    match media {
        MediaType::Image => "image",
        MediaType::Video => "video",
        MediaType::Audio => "audio file",
    }
}

/// "MP4, WebM or AVI".
fn or_list(kinds: &[MediaKind]) -> String {
    let labels: Vec<&str> = kinds.iter().map(|k| k.label()).collect();
    match labels.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.to_string(),
        None => String::new(),
    }
}

/// "1 to 4 s", "at least 2 s", "at most 15 s".
fn seconds_range(min: Option<f64>, max: Option<f64>) -> Option<String> {
    match (min, max) {
        (Some(a), Some(b)) => Some(format!("{} to {} s", plain(a), plain(b))),
        (Some(a), None) => Some(format!("at least {} s", plain(a))),
        (None, Some(b)) => Some(format!("at most {} s", plain(b))),
        (None, None) => None,
    }
}

/// At most two decimals, no trailing zeros: 6.2, 4, 0.35.
fn plain(n: f64) -> String {
    let s = format!("{:.2}", n);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn one_decimal(n: f64) -> String {
    format!("{n:.1}")
}

/// Copy the file into `<library>/uploads/<sha256 prefix>.<real extension>` (the same file
/// is kept once) and return its path relative to the root. Copied to a temporary name while
/// hashing, checked again (the file may have changed since it was checked), then renamed,
/// so a crash never leaves half a file under the final name. Blocking.
pub fn keep_copy(lib: &LibraryPaths, field: &MediaField, file: &CheckedFile) -> Result<String, StudioError> {
    let changed = || {
        StudioError::InvalidInput(vec![Problem::new(
            field.path.as_str(),
            "changed",
            format!("{} changed while it was being added; pick it again.", file.name),
        )])
    };
    let dir = lib.root().join(UPLOADS_DIR);
    std::fs::create_dir_all(&dir).map_err(StudioError::io(format!("create {}", dir.display())))?;
    let tmp = dir.join(format!(".{}.{}.partial", std::process::id(), unique()));
    let copied = copy_hashing(&file.path, &tmp, field.max_bytes());
    let (size, hash) = match copied {
        Ok(Some(done)) => done,
        Ok(None) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(changed());
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            return Err(StudioError::io(format!("copy {}", file.name))(e));
        }
    };
    if MediaKind::sniff_path(&tmp).ok().flatten() != Some(file.kind) || size == 0 {
        let _ = std::fs::remove_file(&tmp);
        return Err(changed());
    }
    let rel = format!("{UPLOADS_DIR}/{hash}.{}", file.kind.extension());
    let dest = lib.resolve(&rel)?;
    if dest.is_file() && std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0) == size {
        let _ = std::fs::remove_file(&tmp);
        return Ok(rel);
    }
    std::fs::rename(&tmp, &dest).map_err(StudioError::io(format!("move into {}", dest.display())))?;
    Ok(rel)
}

/// A name part no other copy running now has.
fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Copies `from` to `to` and hashes it; `None` when it grew past `max` meanwhile.
fn copy_hashing(from: &Path, to: &Path, max: Option<u64>) -> std::io::Result<Option<(u64, String)>> {
    let mut src = std::fs::File::open(from)?;
    let mut dst = std::fs::File::create(to)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut size = 0u64;
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        size += n as u64;
        if max.is_some_and(|m| size > m) {
            return Ok(None);
        }
        hasher.update(&buf[..n]);
        dst.write_all(&buf[..n])?;
    }
    dst.sync_all()?;
    let hex: String = hasher.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect();
    Ok(Some((size, hex)))
}

/// Uploads for one library (from [`Studio::uploads`]).
#[derive(Clone, Copy)]
pub struct Uploads<'a> {
    studio: &'a Studio,
}

impl<'a> Uploads<'a> {
    pub(crate) fn new(studio: &'a Studio) -> Self {
        Uploads { studio }
    }

    /// Check every file for `field` (all before any is uploaded), then keep and upload each
    /// in turn. The CLI and the app's picker both come here.
    pub async fn check_and_upload(
        self,
        field: &MediaField,
        paths: Vec<PathBuf>,
        progress: impl Fn(UploadProgress) + Clone + Send + Sync + 'static,
    ) -> Result<Vec<UploadedFile>, StudioError> {
        let checker = field.clone();
        let files = blocking("Checking the files", move || checker.check_all(&paths)).await?;
        let mut uploaded = Vec::with_capacity(files.len());
        for file in &files {
            uploaded.push(self.upload(field, file, progress.clone()).await?);
        }
        Ok(uploaded)
    }

    /// Keep a copy of a checked file in the library, then upload it through Kie's upload
    /// API (named by its real format), reporting progress (through the one throttle; the
    /// start and the end always go). Returns the public URL for the link field.
    pub async fn upload(
        self,
        field: &MediaField,
        file: &CheckedFile,
        progress: impl Fn(UploadProgress) + Send + Sync + 'static,
    ) -> Result<UploadedFile, StudioError> {
        let studio = self.studio;
        let lib = studio.paths().clone();
        let (owned_field, owned) = (field.clone(), file.clone());
        let rel = blocking(&format!("Adding {}", file.name), move || keep_copy(&lib, &owned_field, &owned)).await?;
        let copy = studio.paths().resolve(&rel)?;
        let report = reporter(file.name.clone(), file.size, progress);
        report(0, Some(file.size));
        let folder = format!(
            "{UPLOAD_PATH}/{}",
            match field.media {
                MediaType::Image => "images",
                MediaType::Video => "videos",
                MediaType::Audio => "audio",
            }
        );
        let up = studio.client().upload_file(&copy, &folder, Some(report.clone())).await?;
        report(file.size, Some(file.size));
        Ok(UploadedFile {
            url: up.download_url,
            name: file.name.clone(),
            local_path: rel,
            size: file.size,
            kind: file.kind.media(),
            format: file.kind.extension().to_string(),
            seconds: file.seconds,
            note: file.note.clone(),
        })
    }
}

/// Progress of one file as [`UploadProgress`], through the one throttle.
fn reporter(
    name: String,
    size: u64,
    progress: impl Fn(UploadProgress) + Send + Sync + 'static,
) -> kie::client::Progress {
    throttled_transfer(move |done, total| {
        progress(UploadProgress { name: name.clone(), done, total: total.unwrap_or(size) })
    })
}

fn display_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F', 0, 1];

    /// A catalogue of made-up models with every shape of file field: a list of images, a
    /// single image link, lists of clips and of audio, one clip of 1 to 4 s, and images
    /// inside a list of groups. Nothing in the code under test knows these names.
    const CATALOGUE: &str = r#"{"models": [
      {"id": "test/files", "name": "Files", "summary": "Takes every kind of file.", "output": "video",
       "family": "Test",
       "fields": [
         {"name": "prompt", "label": "Prompt", "type": "text", "widget": "textarea"},
         {"name": "image_urls", "label": "Images", "type": "list", "widget": "url_list",
          "limits": {"max_items": 3},
          "items": {"label": "Image link", "type": "url", "widget": "url",
                    "limits": {"file_types": ["jpg", "jpeg", "png", "webp"], "max_file_mb": 10, "media": "image"}}},
         {"name": "first_frame_url", "label": "First frame", "type": "url", "widget": "url",
          "limits": {"file_types": ["jpg", "png"], "max_file_mb": 10, "media": "image"}},
         {"name": "reference_video_urls", "label": "Reference videos", "type": "list", "widget": "url_list",
          "limits": {"max_items": 3},
          "items": {"label": "Video link", "type": "url", "widget": "url",
                    "limits": {"file_types": ["mp4", "mov"], "max_file_mb": 50, "media": "video",
                               "min_seconds": 2, "max_seconds": 15}}},
         {"name": "reference_audio_urls", "label": "Reference audio", "type": "list", "widget": "url_list",
          "items": {"label": "Audio link", "type": "url", "widget": "url",
                    "limits": {"file_types": ["wav", "mp3"], "max_file_mb": 15, "media": "audio",
                               "min_seconds": 2, "max_seconds": 15}}},
         {"name": "character_file_url", "label": "Character clip", "type": "list", "widget": "url_list",
          "limits": {"min_items": 1, "max_items": 1},
          "items": {"label": "Clip link", "type": "url", "widget": "url",
                    "limits": {"file_types": ["mp4", "webm", "avi"], "max_file_mb": 10, "media": "video",
                               "min_seconds": 1, "max_seconds": 4}}},
         {"name": "clip_url", "label": "Clip", "type": "url", "widget": "url",
          "limits": {"media": "video", "max_seconds": 4}},
         {"name": "elements", "label": "Elements", "type": "list", "widget": "object_list",
          "items": {"label": "Element", "type": "object", "widget": "group", "fields": [
            {"name": "name", "label": "Name", "type": "text", "widget": "text"},
            {"name": "element_input_urls", "label": "Element images", "type": "list", "widget": "url_list",
             "items": {"label": "Image link", "type": "url", "widget": "url",
                       "limits": {"file_types": ["jpg", "png"], "max_file_mb": 10, "media": "image"}}}]}},
         {"name": "video_link", "label": "Video link", "type": "url", "widget": "url"}
       ]}
    ]}"#;

    fn catalogue() -> Catalogue {
        Catalogue::from_json(CATALOGUE).unwrap()
    }

    fn field(path: &str) -> MediaField {
        MediaField::find(&catalogue(), "test/files", path).unwrap()
    }

    // ---- tiny valid files ----

    use kie::samples::{mp4, wav};

    /// A WebM whose header gives no length (as live recordings).
    fn webm_without_length() -> Vec<u8> {
        let mut f = vec![0x1A, 0x45, 0xDF, 0xA3, 0x87, 0x42, 0x82, 0x84];
        f.extend_from_slice(b"webm");
        f.extend_from_slice(&[0x18, 0x53, 0x80, 0x67, 0xFF, 0x1F, 0x43, 0xB6, 0x75, 0xFF, 0, 0, 0]);
        f
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn fields_are_found_by_their_path_as_the_form_names_them() {
        let list = field("image_urls");
        assert_eq!((list.label.as_str(), list.media, list.multiple), ("Images", MediaType::Image, true));
        let one = field("first_frame_url");
        assert_eq!((one.label.as_str(), one.multiple, one.path.as_str()), ("First frame", false, "first_frame_url"));
        let row = field("image_urls[1]");
        assert_eq!((row.label.as_str(), row.multiple), ("Images", false), "a row takes one file");
        for nested in ["elements[0].element_input_urls", "elements[].element_input_urls", "elements.element_input_urls"]
        {
            let f = field(nested);
            assert_eq!((f.label.as_str(), f.multiple, f.path.as_str()), ("Element images", true, nested));
        }
        let clip = field("character_file_url");
        assert_eq!(
            (clip.media, clip.limits.min_seconds, clip.limits.max_seconds),
            (MediaType::Video, Some(1.0), Some(4.0))
        );
        assert_eq!((clip.list, clip.multiple), (true, false), "a list of at most one: one file at a time");
        assert_eq!((list.list, one.list, row.list), (true, false, false));

        let cat = catalogue();
        let err = |model: &str, path: &str| match MediaField::find(&cat, model, path).unwrap_err() {
            StudioError::InvalidInput(p) => (p[0].field.clone(), p[0].rule.clone()),
            other => panic!("{other:?}"),
        };
        assert_eq!(err("no/such", "image_urls"), ("model".into(), "unknown_model".into()));
        assert_eq!(err("test/files", "nope").1, "unknown_field");
        assert_eq!(err("test/files", "image_urls[x]").1, "unknown_field");
        assert_eq!(err("test/files", "image_urls[1][2]").1, "unknown_field");
        assert_eq!(err("test/files", "elements[0].nope").1, "unknown_field");
        assert_eq!(err("test/files", "").1, "unknown_field");
        assert_eq!(err("test/files", "prompt"), ("prompt".into(), "not_a_file_field".into()));
        assert_eq!(err("test/files", "video_link").1, "not_a_file_field", "a link without media");
        assert_eq!(err("test/files", "elements").1, "not_a_file_field");
        assert_eq!(err("test/files", "elements[0].name").1, "not_a_file_field");
    }

    #[test]
    fn formats_labels_and_the_dialog_come_from_the_limits() {
        let video = field("reference_video_urls");
        assert_eq!(video.kinds(), [MediaKind::Mp4, MediaKind::Mov]);
        assert_eq!(video.types_label(), "an MP4 or MOV video");
        assert_eq!(video.summary(), "an MP4 or MOV video, at most 50 MB, 2 to 15 s");
        assert_eq!(field("clip_url").summary(), "an MP4, MOV, WebM or AVI video, at most 4 s");
        assert_eq!(video.max_bytes(), Some(50 * 1024 * 1024));
        let pick = video.pick();
        assert_eq!(
            (pick.title.as_str(), pick.filter_name.as_str()),
            ("Choose clips for Reference videos", "Videos (MP4, MOV)")
        );
        assert!(pick.multiple);
        for ext in ["mp4", "MP4", "mov", "MOV"] {
            assert!(pick.extensions.contains(&ext.to_string()), "{ext}: {:?}", pick.extensions);
        }
        assert!(!pick.extensions.iter().any(|e| e == "webm" || e == "png"));

        let audio = field("reference_audio_urls");
        assert_eq!(audio.types_label(), "a WAV or MP3 audio file");
        assert_eq!(audio.pick().filter_name, "Audio (WAV, MP3)");
        let clip = field("character_file_url");
        assert_eq!(clip.types_label(), "an MP4, WebM or AVI video");
        let one = field("first_frame_url");
        assert_eq!((one.pick().title.as_str(), one.pick().multiple), ("Choose an image for First frame", false));
        assert_eq!(one.kinds(), [MediaKind::Jpeg, MediaKind::Png]);
        // No file_types: every format of the kind.
        assert_eq!(field("clip_url").kinds(), [MediaKind::Mp4, MediaKind::Mov, MediaKind::Webm, MediaKind::Avi]);
        assert_eq!(field("clip_url").max_bytes(), None);
        let mut any_image = field("first_frame_url");
        any_image.limits.file_types.clear();
        assert_eq!(any_image.kinds(), [MediaKind::Jpeg, MediaKind::Png, MediaKind::Webp]);
        any_image.limits.file_types = vec![".GIF".into()];
        assert_eq!(any_image.kinds(), [MediaKind::Gif]);
        // The catalogue's own words win.
        let mut labelled = field("image_urls");
        labelled.limits.file_types_label = Some("a JPEG, PNG or WebP image".into());
        assert_eq!(labelled.types_label(), "a JPEG, PNG or WebP image");
    }

    #[test]
    fn the_e2e_hook_gives_what_the_dialog_would_offer() {
        let files: Vec<PathBuf> =
            ["/x/a.png", "/x/clip.MP4", "/x/b.JPG", "/x/song.mp3", "/x/noext"].iter().map(PathBuf::from).collect();
        assert_eq!(field("image_urls").e2e_pick(&files), [PathBuf::from("/x/a.png"), PathBuf::from("/x/b.JPG")]);
        assert_eq!(field("first_frame_url").e2e_pick(&files), [PathBuf::from("/x/a.png")], "one file");
        assert_eq!(field("reference_video_urls").e2e_pick(&files), [PathBuf::from("/x/clip.MP4")]);
        assert_eq!(field("reference_audio_urls").e2e_pick(&files), [PathBuf::from("/x/song.mp3")]);
        assert!(field("clip_url").e2e_pick(&files[..1]).is_empty());
    }

    #[test]
    fn images_are_recognised_by_their_bytes_not_their_names() {
        let dir = tempfile::tempdir().unwrap();
        let images = field("image_urls");
        let c = images.check(&write(dir.path(), "photo.jpg", PNG)).unwrap();
        assert_eq!((c.kind, c.name.as_str(), c.size, c.seconds), (MediaKind::Png, "photo.jpg", PNG.len() as u64, None));
        let mut webp = b"RIFF\0\0\0\0WEBPVP8 ".to_vec();
        webp.extend_from_slice(&[0; 16]);
        assert_eq!(images.check(&write(dir.path(), "w", &webp)).unwrap().kind, MediaKind::Webp);

        let html = images.check(&write(dir.path(), "fake.png", b"<html>not an image</html>")).unwrap_err();
        assert_eq!((html.field.as_str(), html.rule.as_str()), ("image_urls", "unsupported_type"));
        assert_eq!(
            html.message,
            "fake.png is not a kind of file Kie Studio recognises; for Images, use a JPEG, PNG or WebP image."
        );
        let gif = images.check(&write(dir.path(), "anim.gif", b"GIF89a......")).unwrap_err();
        assert_eq!(gif.message, "anim.gif is a GIF image; for Images, use a JPEG, PNG or WebP image.");
        // WebP is an image, but not one this field takes.
        let p = field("first_frame_url").check(&write(dir.path(), "w.webp", &webp)).unwrap_err();
        assert_eq!(p.message, "w.webp is a WebP image; for First frame, use a JPEG or PNG image.");
        assert_eq!(images.check(&write(dir.path(), "empty.png", b"")).unwrap_err().rule, "empty");
        assert_eq!(images.check(&dir.path().join("missing.png")).unwrap_err().rule, "unreadable");
        assert_eq!(images.check(dir.path()).unwrap_err().rule, "unreadable");
    }

    #[test]
    fn the_kind_of_media_must_match() {
        let dir = tempfile::tempdir().unwrap();
        let clip = write(dir.path(), "clip.mp4", &mp4(b"isom", 3.0, 0));
        let song = write(dir.path(), "song.wav", &wav(3.0));
        let audio = field("reference_audio_urls");
        let p = audio.check(&clip).unwrap_err();
        assert_eq!(
            (p.rule.as_str(), p.message.as_str()),
            ("unsupported_type", "clip.mp4 is an MP4 video; for Reference audio, use a WAV or MP3 audio file.")
        );
        let p = field("character_file_url").check(&song).unwrap_err();
        assert_eq!(p.message, "song.wav is a WAV audio file; for Character clip, use an MP4, WebM or AVI video.");
        let p = field("image_urls").check(&clip).unwrap_err();
        assert_eq!(p.message, "clip.mp4 is an MP4 video; for Images, use a JPEG, PNG or WebP image.");
        // A MOV is refused where only MP4, WebM and AVI go, whatever it is called.
        let mov = write(dir.path(), "clip.mp4.mp4", &mp4(b"qt  ", 2.0, 0));
        let p = field("character_file_url").check(&mov).unwrap_err();
        assert_eq!(p.message, "clip.mp4.mp4 is a MOV video; for Character clip, use an MP4, WebM or AVI video.");
        assert_eq!(field("reference_video_urls").check(&mov).unwrap().kind, MediaKind::Mov);
    }

    #[test]
    fn size_limits_from_both_sides() {
        let dir = tempfile::tempdir().unwrap();
        let mut at_limit = JPEG.to_vec();
        at_limit.resize(10 * 1024 * 1024, 0);
        let images = field("image_urls");
        assert!(images.check(&write(dir.path(), "ok.jpg", &at_limit)).is_ok());
        at_limit.push(0);
        let p = images.check(&write(dir.path(), "big.jpg", &at_limit)).unwrap_err();
        assert_eq!(
            (p.rule.as_str(), p.message.as_str()),
            ("too_large", "big.jpg is just over 10 MB; files for Images can be at most 10 MB.")
        );
        let clip = field("character_file_url");
        assert!(clip.check(&write(dir.path(), "ok.mp4", &mp4(b"isom", 2.0, 10 * 1024 * 1024))).is_ok());
        let p = clip.check(&write(dir.path(), "big.mp4", &mp4(b"isom", 2.0, 12 * 1024 * 1024 + 400_000))).unwrap_err();
        assert_eq!(p.message, "big.mp4 is 12.4 MB; files for Character clip can be at most 10 MB.");
    }

    #[test]
    fn clip_lengths_from_both_sides() {
        let dir = tempfile::tempdir().unwrap();
        let clip = field("character_file_url");
        let check = |name: &str, bytes: Vec<u8>| clip.check(&write(dir.path(), name, &bytes));
        let p = check("clip.mp4", mp4(b"isom", 6.2, 0)).unwrap_err();
        assert_eq!((p.field.as_str(), p.rule.as_str()), ("character_file_url", "too_long"));
        assert_eq!(p.message, "clip.mp4 is 6.2 s; Character clip must be 1 to 4 s.");
        let p = check("short.mp4", mp4(b"isom", 0.9, 0)).unwrap_err();
        assert_eq!(
            (p.rule.as_str(), p.message.as_str()),
            ("too_short", "short.mp4 is 0.9 s; Character clip must be 1 to 4 s.")
        );
        assert_eq!(check("min.mp4", mp4(b"isom", 1.0, 0)).unwrap().seconds, Some(1.0));
        assert_eq!(check("max.mp4", mp4(b"isom", 4.0, 0)).unwrap().seconds, Some(4.0));
        assert!(check("max-ish.mp4", mp4(b"isom", 4.004, 0)).is_ok(), "within a header's rounding");
        assert_eq!(
            check("over.mp4", mp4(b"isom", 4.02, 0)).unwrap_err().message,
            "over.mp4 is 4.02 s; Character clip must be 1 to 4 s."
        );

        let audio = field("reference_audio_urls");
        let song = audio.check(&write(dir.path(), "song.wav", &wav(2.5))).unwrap();
        assert_eq!((song.kind, song.seconds, song.note.clone()), (MediaKind::Wav, Some(2.5), None));
        let p = audio.check(&write(dir.path(), "blip.wav", &wav(1.5))).unwrap_err();
        assert_eq!(p.message, "blip.wav is 1.5 s; Reference audio must be 2 to 15 s.");
        let p = audio.check(&write(dir.path(), "long.wav", &wav(16.0))).unwrap_err();
        assert_eq!(p.message, "long.wav is 16 s; Reference audio must be 2 to 15 s.");
        let only_max = field("clip_url").check(&write(dir.path(), "c.mp4", &mp4(b"isom", 5.0, 0))).unwrap_err();
        assert_eq!(only_max.message, "c.mp4 is 5 s; Clip must be at most 4 s.");

        // A clip whose file does not say how long it is: let through, and said so.
        let live = check("live.webm", webm_without_length()).unwrap();
        assert_eq!((live.kind, live.seconds), (MediaKind::Webm, None));
        assert_eq!(
            live.note.as_deref(),
            Some("The length of live.webm could not be read, so it was not checked here (Character clip must be 1 to 4 s); Kie will check it.")
        );
    }

    #[test]
    fn one_bad_file_stops_the_whole_pick_with_every_problem() {
        let dir = tempfile::tempdir().unwrap();
        let good = write(dir.path(), "a.png", PNG);
        let bad1 = write(dir.path(), "b.txt", b"hello");
        let bad2 = write(dir.path(), "c.gif", b"GIF87a..");
        let images = field("image_urls");
        assert_eq!(images.check_all(std::slice::from_ref(&good)).unwrap().len(), 1);
        let err = images.check_all(&[good, bad1, bad2]).unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        let crate::StudioError::InvalidInput(problems) = err else { unreachable!() };
        assert_eq!(problems.len(), 2);
        assert!(problems.iter().all(|p| p.field == "image_urls"));
        assert!(problems[0].message.starts_with("b.txt ") && problems[1].message.starts_with("c.gif "));
    }

    #[test]
    fn copies_are_kept_once_inside_the_library_by_their_real_format() {
        let dir = tempfile::tempdir().unwrap();
        let lib = LibraryPaths::new(dir.path().join("lib")).unwrap();
        let images = field("image_urls");
        let img = images.check(&write(dir.path(), "me.jpg", PNG)).unwrap();
        let rel = keep_copy(&lib, &images, &img).unwrap();
        assert!(rel.starts_with("uploads/") && rel.ends_with(".png"), "{rel}");
        assert_eq!(std::fs::read(lib.resolve(&rel).unwrap()).unwrap(), PNG);
        let again = images.check(&write(dir.path(), "same-again.png", PNG)).unwrap();
        assert_eq!(keep_copy(&lib, &images, &again).unwrap(), rel);

        let clips = field("reference_video_urls");
        let mov = clips.check(&write(dir.path(), "holiday.MP4", &mp4(b"qt  ", 3.0, 0))).unwrap();
        let rel = keep_copy(&lib, &clips, &mov).unwrap();
        assert!(rel.ends_with(".mov"), "{rel}");
        let names: Vec<_> = std::fs::read_dir(lib.root().join(UPLOADS_DIR)).unwrap().flatten().collect();
        assert_eq!(names.len(), 2, "no temporary files left behind");

        // Swapped for something else, or grown past the limit, after the check: refused.
        std::fs::write(&img.path, b"<html>").unwrap();
        assert_eq!(keep_copy(&lib, &images, &img).unwrap_err().code(), "invalid_input");
        let mut big = PNG.to_vec();
        big.resize(11 * 1024 * 1024, 0);
        std::fs::write(&img.path, &big).unwrap();
        assert_eq!(keep_copy(&lib, &images, &img).unwrap_err().code(), "invalid_input");
        let names: Vec<_> = std::fs::read_dir(lib.root().join(UPLOADS_DIR)).unwrap().flatten().collect();
        assert_eq!(names.len(), 2, "nothing left of the refused copies");
    }

    #[test]
    fn progress_is_throttled_but_keeps_the_ends() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let report = reporter("a.png".into(), 1000, move |p| s.lock().unwrap().push(p.done));
        for done in (0..=1000).step_by(10) {
            report(done, Some(1000));
        }
        report(1000, Some(1000));
        let seen = seen.lock().unwrap();
        assert_eq!(seen.first(), Some(&0));
        assert_eq!(seen.last(), Some(&1000));
        assert!(seen.len() <= 3, "{seen:?}");
    }

    #[tokio::test]
    async fn uploads_go_through_kie_named_by_their_real_format_with_progress() {
        let sim = kie_sim::Sim::start(kie_sim::SimConfig { key: "up-key".into(), ..Default::default() }).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let lib = LibraryPaths::new(dir.path().join("lib")).unwrap();
        lib.create_dirs().unwrap();
        let db = crate::Db::open(&lib.db(), 0).unwrap();
        let mut cfg = kie::ClientConfig::new(kie::ApiKey::new("up-key").unwrap());
        cfg.api_base = sim.base_url();
        cfg.upload_base = sim.upload_base_url();
        let studio = Studio::new(
            db,
            lib.clone(),
            kie::KieClient::new(cfg).unwrap(),
            catalogue(),
            Arc::new(crate::clock::SystemClock),
            crate::StudioConfig::default(),
        );
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let progress = move |p: UploadProgress| s.lock().unwrap().push(p);
        let photo = write(dir.path(), "My Photo.png", PNG);
        let up = studio.uploads().check_and_upload(&field("image_urls"), vec![photo], progress.clone()).await.unwrap();
        assert_eq!(up.len(), 1);
        // Uploaded from the kept copy: named by its hash (not the user's file name) and real format.
        assert!(up[0].url.starts_with("http") && up[0].url.ends_with(".png"), "{}", up[0].url);
        assert!(!up[0].url.contains("Photo"), "{}", up[0].url);
        assert_eq!((up[0].name.as_str(), up[0].size, up[0].kind), ("My Photo.png", PNG.len() as u64, MediaType::Image));
        assert!(lib.resolve(&up[0].local_path).unwrap().is_file());

        // A clip called .dat is uploaded as what it is.
        let bytes = mp4(b"isom", 3.0, 4096);
        let clip = write(dir.path(), "take2.dat", &bytes);
        let up = studio.uploads().check_and_upload(&field("reference_video_urls"), vec![clip], progress).await.unwrap();
        assert!(up[0].url.ends_with(".mp4") && up[0].local_path.ends_with(".mp4"), "{}", up[0].url);
        assert_eq!((up[0].kind, up[0].format.as_str(), up[0].seconds), (MediaType::Video, "mp4", Some(3.0)));
        assert_eq!(reqwest::get(&up[0].url).await.unwrap().bytes().await.unwrap().as_ref(), &bytes[..]);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.last().map(|p| (p.name.as_str(), p.done, p.total)), Some(("take2.dat", 4096, 4096)));
        assert_eq!(sim.stats().uploads, 2);

        // A refused file uploads nothing, and neither do the good ones picked with it.
        let good = write(dir.path(), "ok.wav", &wav(3.0));
        let bad = write(dir.path(), "short.wav", &wav(1.0));
        let err = studio.uploads().check_and_upload(&field("reference_audio_urls"), vec![good, bad], |_| {}).await;
        assert_eq!(err.unwrap_err().code(), "invalid_input");
        assert_eq!(sim.stats().uploads, 2);
        sim.shutdown().await;
    }
}
