//! The [`Uploads`] service, and the checks before it: images the user picks for
//! image-to-video are checked by their first bytes (JPEG, PNG or WebP, at most 10 MB), kept
//! as a copy in `<library>/uploads/` (for the thumbnail and for remixing later), and
//! uploaded through Kie's upload API with progress. Reading and copying run on the
//! blocking pool.

use std::path::{Path, PathBuf};

use kie::media::MediaKind;
use kie::validate::Problem;
use sha2::{Digest, Sha256};

use crate::error::StudioError;
use crate::paths::LibraryPaths;
use crate::payloads::{UploadProgress, UploadedImage};
use crate::progress::throttled_transfer;
use crate::studio::{blocking, Studio};

/// The folder of kept copies, relative to the library root.
pub const UPLOADS_DIR: &str = "uploads";
/// Kie's limit for an input image.
pub const MAX_IMAGE_BYTES: u64 = 10 * 1024 * 1024;
/// What the native picker offers (the bytes decide, not the name: see `check_image`).
pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "JPG", "JPEG", "PNG", "WEBP"];
/// The folder on Kie's upload host.
pub const UPLOAD_PATH: &str = "kie-studio/images";

/// A picked file that passed the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedImage {
    pub path: PathBuf,
    /// The file's name as the user knows it.
    pub name: String,
    pub kind: MediaKind,
    pub size: u64,
}

/// Check one file: readable, a JPEG, PNG or WebP by its magic bytes (whatever its name
/// says), not empty and at most 10 MB. The problem names the file in plain words.
pub fn check_image(path: &Path) -> Result<CheckedImage, Problem> {
    let name = display_name(path);
    let problem = |rule: &str, message: String| Problem::new("image_urls", rule, message);
    let meta = std::fs::metadata(path).map_err(|e| problem("unreadable", format!("{name} could not be read: {e}.")))?;
    if !meta.is_file() {
        return Err(problem("unreadable", format!("{name} is not a file.")));
    }
    let size = meta.len();
    if size == 0 {
        return Err(problem("empty", format!("{name} is empty.")));
    }
    if size > MAX_IMAGE_BYTES {
        return Err(problem(
            "too_large",
            format!("{name} is {:.1} MB; images can be at most 10 MB.", size as f64 / (1024.0 * 1024.0)),
        ));
    }
    let kind =
        MediaKind::sniff_path(path).map_err(|e| problem("unreadable", format!("{name} could not be read: {e}.")))?;
    match kind {
        Some(kind @ (MediaKind::Jpeg | MediaKind::Png | MediaKind::Webp)) => {
            Ok(CheckedImage { path: path.to_path_buf(), name, kind, size })
        }
        _ => Err(problem("unsupported_type", format!("{name} is not a JPEG, PNG or WebP image."))),
    }
}

/// Check every file; all problems at once (`invalid_input`), so nothing is uploaded when
/// one of the files cannot be used.
pub fn check_images(paths: &[PathBuf]) -> Result<Vec<CheckedImage>, StudioError> {
    let mut ok = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        match check_image(p) {
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

/// Copy the image into `<library>/uploads/<sha256 prefix>.<ext>` (the same picture is
/// kept once) and return its path relative to the root. Written to a temporary name, then
/// renamed, so a crash never leaves half a picture under the final name.
pub fn keep_copy(lib: &LibraryPaths, img: &CheckedImage) -> Result<String, StudioError> {
    let bytes = std::fs::read(&img.path).map_err(StudioError::io(format!("read {}", img.name)))?;
    // Checked again on what was actually read: the file may have changed since.
    if bytes.len() as u64 > MAX_IMAGE_BYTES || MediaKind::sniff(&bytes) != Some(img.kind) {
        return Err(StudioError::InvalidInput(vec![Problem::new(
            "image_urls",
            "changed",
            format!("{} changed while it was being added; pick it again.", img.name),
        )]));
    }
    let hash = Sha256::digest(&bytes);
    let hex: String = hash.iter().take(12).map(|b| format!("{b:02x}")).collect();
    let rel = format!("{UPLOADS_DIR}/{hex}.{}", img.kind.extension());
    let dest = lib.resolve(&rel)?;
    if dest.is_file() && std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0) == bytes.len() as u64 {
        return Ok(rel);
    }
    let dir = lib.root().join(UPLOADS_DIR);
    std::fs::create_dir_all(&dir).map_err(StudioError::io(format!("create {}", dir.display())))?;
    let tmp = dir.join(format!(".{hex}.{}.partial", std::process::id()));
    std::fs::write(&tmp, &bytes).map_err(StudioError::io(format!("write {}", tmp.display())))?;
    std::fs::rename(&tmp, &dest).map_err(StudioError::io(format!("move into {}", dest.display())))?;
    Ok(rel)
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

    /// Keep a copy of a checked image in the library, then upload it through Kie's upload
    /// API, reporting progress (through the one throttle; the start and the end always
    /// go). Returns the public URL for `image_urls`.
    pub async fn upload_image(
        self,
        img: &CheckedImage,
        progress: impl Fn(UploadProgress) + Send + Sync + 'static,
    ) -> Result<UploadedImage, StudioError> {
        let studio = self.studio;
        let lib = studio.paths().clone();
        let owned = img.clone();
        let rel = blocking(&format!("Adding {}", img.name), move || keep_copy(&lib, &owned)).await?;
        let copy = studio.paths().resolve(&rel)?;
        let report = reporter(img.name.clone(), img.size, progress);
        report(0, Some(img.size));
        let up = studio.client().upload_file(&copy, UPLOAD_PATH, Some(report.clone())).await?;
        report(img.size, Some(img.size));
        Ok(UploadedImage { url: up.download_url, name: img.name.clone(), local_path: rel, size: img.size })
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

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn images_are_recognised_by_their_bytes_not_their_names() {
        let dir = tempfile::tempdir().unwrap();
        let png_named_jpg = write(dir.path(), "photo.jpg", PNG);
        let c = check_image(&png_named_jpg).unwrap();
        assert_eq!((c.kind, c.name.as_str(), c.size), (MediaKind::Png, "photo.jpg", PNG.len() as u64));
        let mut webp = b"RIFF\0\0\0\0WEBPVP8 ".to_vec();
        webp.extend_from_slice(&[0; 16]);
        assert_eq!(check_image(&write(dir.path(), "w", &webp)).unwrap().kind, MediaKind::Webp);

        let html = write(dir.path(), "fake.png", b"<html>not an image</html>");
        assert_eq!(check_image(&html).unwrap_err().rule, "unsupported_type");
        let gif = write(dir.path(), "anim.gif", b"GIF89a......");
        assert_eq!(check_image(&gif).unwrap_err().rule, "unsupported_type");
        let empty = write(dir.path(), "empty.png", b"");
        assert_eq!(check_image(&empty).unwrap_err().rule, "empty");
        assert_eq!(check_image(&dir.path().join("missing.png")).unwrap_err().rule, "unreadable");
        assert_eq!(check_image(dir.path()).unwrap_err().rule, "unreadable");
    }

    #[test]
    fn size_limit_is_ten_megabytes() {
        let dir = tempfile::tempdir().unwrap();
        let mut at_limit = JPEG.to_vec();
        at_limit.resize(MAX_IMAGE_BYTES as usize, 0);
        assert!(check_image(&write(dir.path(), "ok.jpg", &at_limit)).is_ok());
        at_limit.push(0);
        let p = check_image(&write(dir.path(), "big.jpg", &at_limit)).unwrap_err();
        assert_eq!(p.rule, "too_large");
        assert!(p.message.contains("big.jpg") && p.message.contains("10 MB"), "{}", p.message);
    }

    #[test]
    fn one_bad_file_stops_the_whole_pick_with_every_problem() {
        let dir = tempfile::tempdir().unwrap();
        let good = write(dir.path(), "a.png", PNG);
        let bad1 = write(dir.path(), "b.txt", b"hello");
        let bad2 = write(dir.path(), "c.gif", b"GIF87a..");
        assert_eq!(check_images(std::slice::from_ref(&good)).unwrap().len(), 1);
        let err = check_images(&[good, bad1, bad2]).unwrap_err();
        assert_eq!(err.code(), "invalid_input");
        let crate::StudioError::InvalidInput(problems) = err else { unreachable!() };
        assert_eq!(problems.len(), 2);
        assert!(problems.iter().all(|p| p.field == "image_urls"));
    }

    #[test]
    fn copies_are_kept_once_inside_the_library() {
        let dir = tempfile::tempdir().unwrap();
        let lib = LibraryPaths::new(dir.path().join("lib")).unwrap();
        let img = check_image(&write(dir.path(), "me.png", PNG)).unwrap();
        let rel = keep_copy(&lib, &img).unwrap();
        assert!(rel.starts_with("uploads/") && rel.ends_with(".png"), "{rel}");
        assert_eq!(std::fs::read(lib.resolve(&rel).unwrap()).unwrap(), PNG);
        let again = check_image(&write(dir.path(), "same-again.png", PNG)).unwrap();
        assert_eq!(keep_copy(&lib, &again).unwrap(), rel);
        let names: Vec<_> = std::fs::read_dir(lib.root().join(UPLOADS_DIR)).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "no temporary files left behind");

        // Swapped for something else after the check: refused.
        std::fs::write(&img.path, b"<html>").unwrap();
        assert_eq!(keep_copy(&lib, &img).unwrap_err().code(), "invalid_input");
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
    async fn upload_goes_through_kie_with_progress() {
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
            kie::catalogue::Catalogue::builtin().clone(),
            Arc::new(crate::clock::SystemClock),
            crate::StudioConfig::default(),
        );
        let img = check_image(&write(dir.path(), "My Photo.png", PNG)).unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let up = studio.uploads().upload_image(&img, move |p| s.lock().unwrap().push(p)).await.unwrap();
        assert!(up.url.starts_with("http"), "{}", up.url);
        assert_eq!((up.name.as_str(), up.size), ("My Photo.png", PNG.len() as u64));
        assert!(lib.resolve(&up.local_path).unwrap().is_file());
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.last().map(|p| (p.done, p.total)), Some((PNG.len() as u64, PNG.len() as u64)));
        assert!(seen.iter().all(|p| p.name == "My Photo.png"));
        assert_eq!(sim.stats().uploads, 1);
        sim.shutdown().await;
    }
}
