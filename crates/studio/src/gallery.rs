//! What the gallery does to the files behind results: export with a sidecar, delete file
//! and record together, keep an app-captured poster, and check and repair the library's
//! health (files missing from disk, files on disk without a record). Nothing is dropped
//! silently: anything that cannot be repaired is reported.

use std::io::Write;
use std::path::{Path, PathBuf};

use kie::media::MediaKind;
use serde::Serialize;
use serde_json::json;

use crate::db::Db;
use crate::downloader::sha256_file;
use crate::error::StudioError;
use crate::library::{self, NewResult, ResultKind, ResultRow};
use crate::paths::{self, LibraryPaths};
use crate::tasks;
use crate::thumbs;

/// Files written by an export.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Exported {
    pub video: String,
    pub sidecar: String,
}

/// Copy a result's file to `dest_dir` with a JSON sidecar of its prompt and parameters.
/// Nothing there is ever overwritten or written through: a name taken by anything (a file,
/// a folder, a link to nowhere) gets a number instead, `name (2).mp4`. Each file is written
/// under a temporary name in the folder, synced, and only then given its name, so a failed
/// or interrupted export leaves no half file under the name.
pub fn export_result(db: &Db, lib: &LibraryPaths, id: i64, dest_dir: &Path) -> Result<Exported, StudioError> {
    let row = library::get_result(db, id)?;
    let rel = row.path.as_deref().ok_or_else(|| StudioError::Refused("This result has no file to export.".into()))?;
    let src = lib.resolve(rel)?;
    if !paths::is_plain_file(&src) {
        return Err(StudioError::NotFound(format!("The file {} is missing from the library.", src.display())));
    }
    let task = tasks::get(db, row.task_id)?;
    let ext = src.extension().and_then(|e| e.to_str()).unwrap_or("mp4");
    let stem = export_stem(task.prompt().unwrap_or(&task.model), task.id, row.idx);
    std::fs::create_dir_all(dest_dir).map_err(StudioError::io(format!("create {}", dest_dir.display())))?;
    let meta = json!({
        "prompt": task.prompt(),
        "model": task.model,
        "input": task.input,
        "kie_task_id": task.kie_task_id,
        "created_at_ms": task.created_at,
        "finished_at_ms": task.finished_at,
        "credits": task.credits_consumed.or(task.credits_estimated),
        "sha256": row.sha256,
        "exported_by": "Kie Studio",
    });
    let text = serde_json::to_string_pretty(&meta).map_err(crate::db::StoreError::from)?;
    for n in 1..=10_000 {
        let s = if n == 1 { stem.clone() } else { format!("{stem} ({n})") };
        let (video, sidecar) = (dest_dir.join(format!("{s}.{ext}")), dest_dir.join(format!("{s}.json")));
        if taken(&video) || taken(&sidecar) {
            continue;
        }
        match write_new(&video, |f| std::io::copy(&mut std::fs::File::open(&src)?, f).map(drop)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(StudioError::io(format!("copy to {}", video.display()))(e)),
        }
        match write_new(&sidecar, |f| f.write_all(text.as_bytes())) {
            Ok(()) => {
                return Ok(Exported { video: video.display().to_string(), sidecar: sidecar.display().to_string() })
            }
            // Taken in the meantime: the video just written is ours to take back.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let _ = std::fs::remove_file(&video);
            }
            Err(e) => {
                let _ = std::fs::remove_file(&video);
                return Err(StudioError::io(format!("write {}", sidecar.display()))(e));
            }
        }
    }
    Err(StudioError::Refused(format!("{} holds too many exports named {stem}.", dest_dir.display())))
}

/// A file name from the prompt's first words, safe on every file system.
fn export_stem(prompt: &str, task_id: i64, idx: u32) -> String {
    let words: String = prompt
        .chars()
        .map(|c| if c.is_alphanumeric() { c.to_ascii_lowercase() } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .take(6)
        .collect::<Vec<_>>()
        .join("-");
    let words: String = words.chars().take(60).collect();
    if words.is_empty() {
        format!("kie-{task_id}-{idx}")
    } else {
        format!("{words}-{task_id}-{idx}")
    }
}

/// Whether anything at all is at `path` (a dangling link too).
fn taken(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Create `path` with what `fill` writes, all or nothing: written to a temporary file in the
/// same folder, synced, then linked under `path` (which fails with `AlreadyExists` if
/// anything is there, a link included: nothing is replaced or written through). Where the
/// file system has no hard links (FAT, some network shares), renamed instead, after a check.
fn write_new(path: &Path, fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{:08x}.partial", rand::random::<u32>()));
    let written = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp).and_then(|mut f| {
        fill(&mut f)?;
        f.sync_all()
    });
    let placed = written.and_then(|()| match std::fs::hard_link(&tmp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
        Err(_) if taken(path) => Err(std::io::ErrorKind::AlreadyExists.into()),
        Err(_) => std::fs::rename(&tmp, path),
    });
    let _ = std::fs::remove_file(&tmp);
    placed
}

/// Delete a result: its record and its files, together. The files are first moved aside, so
/// a failure to delete the record puts them back rather than leaving a record without a file.
pub fn delete_result_and_files(db: &Db, lib: &LibraryPaths, id: i64) -> Result<ResultRow, StudioError> {
    let row = library::get_result(db, id)?;
    let mut moved: Vec<(PathBuf, PathBuf)> = Vec::new();
    // The thumb may be the poster standing in (thumbs.rs): moved once.
    let thumb = row.thumb_path.as_deref().filter(|t| Some(*t) != row.poster_path.as_deref());
    let hidpi = row.thumb_hidpi_path.as_deref();
    for rel in [row.path.as_deref(), row.poster_path.as_deref(), thumb, hidpi].into_iter().flatten() {
        let p = lib.resolve(rel)?;
        if p.exists() {
            let aside =
                p.with_extension(format!("{}.deleting", p.extension().and_then(|e| e.to_str()).unwrap_or_default()));
            std::fs::rename(&p, &aside).map_err(StudioError::io(format!("move {}", p.display())))?;
            moved.push((p, aside));
        }
    }
    match library::delete_result(db, id) {
        Ok(row) => {
            for (_, aside) in moved {
                let _ = std::fs::remove_file(aside);
            }
            Ok(row)
        }
        Err(e) => {
            for (p, aside) in moved {
                let _ = std::fs::rename(aside, p);
            }
            Err(e.into())
        }
    }
}

/// Keep a poster the app captured from the video (Kie gave no first frame), and make its
/// thumb for the grid (a thumb that cannot be made fails nothing: the grid shows the poster).
pub fn save_poster(db: &Db, lib: &LibraryPaths, id: i64, image: &[u8]) -> Result<ResultRow, StudioError> {
    let row = library::get_result(db, id)?;
    let kind = MediaKind::sniff(image)
        .filter(|k| k.is_image())
        .ok_or_else(|| StudioError::Refused("A poster must be a JPEG, PNG or WebP image.".into()))?;
    if image.len() > 5 * 1024 * 1024 {
        return Err(StudioError::Refused("A poster must be at most 5 MB.".into()));
    }
    let rel = paths::poster_rel_path(&format!("task-{}-{}-poster.{}", row.task_id, row.idx, kind.extension()));
    let path = lib.resolve(&rel)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(StudioError::io("create the posters folder"))?;
    }
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, image).map_err(StudioError::io("write the poster"))?;
    std::fs::rename(&tmp, &path).map_err(StudioError::io("move the poster into place"))?;
    let row = library::set_poster(db, id, Some(&rel))?;
    Ok(match thumbs::make_for(db, lib, &row) {
        Ok(row) => row,
        Err(e) => {
            tracing::warn!("{}: no thumbnail of the saved poster: {e}", thumbs::who(db, &row));
            library::get_result(db, id).unwrap_or(row)
        }
    })
}

/// What a health check found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct Health {
    /// Results whose file is not on disk.
    pub missing: Vec<ResultRow>,
    /// Files under media/ that no result points at (relative paths).
    pub orphans: Vec<String>,
    /// Interrupted downloads waiting to be resumed (relative paths).
    pub partials: Vec<String>,
}

/// Check every result against the disk, and the disk against the results.
pub fn health(db: &Db, lib: &LibraryPaths) -> Result<Health, StudioError> {
    let files = library::result_files(db)?;
    let mut known = std::collections::HashSet::with_capacity(files.len());
    let mut missing = Vec::new();
    for (id, rel) in files {
        if !lib.resolve(&rel).map(|p| p.is_file()).unwrap_or(false) {
            missing.push(id);
        }
        known.insert(rel);
    }
    // Whole rows only for the few that are missing (shown to the user); one deleted since
    // is no longer missing.
    let missing = missing
        .into_iter()
        .filter_map(|id| match library::get_result(db, id) {
            Err(crate::db::StoreError::NotFound { .. }) => None,
            found => Some(found),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut orphans = Vec::new();
    let mut partials = Vec::new();
    for f in paths::files_under(&lib.root().join(paths::MEDIA_DIR)) {
        let Ok(rel) = f.strip_prefix(lib.root()) else { continue };
        let rel = rel.to_string_lossy().replace('\\', "/");
        if rel.ends_with(".partial") {
            partials.push(rel);
        } else if !known.contains(&rel) && !rel.ends_with(".deleting") {
            orphans.push(rel);
        }
    }
    orphans.sort();
    partials.sort();
    Ok(Health { missing, orphans, partials })
}

/// What a rescan repaired and what it could not.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
pub struct Rescan {
    /// Files on disk linked back to their task's result.
    pub relinked: Vec<String>,
    /// Results whose file was found elsewhere in the library and re-pointed.
    pub found: Vec<String>,
    /// Thumbnails of posters made again (missing, broken, or not made yet).
    pub thumbs: u32,
    /// What is still wrong after the rescan (shown to the user, never dropped).
    pub health: Health,
}

/// Repair what can be repaired: a file named by the app (`task-<id>-<idx>.<ext>`) whose
/// task exists is linked back (verified, hashed); a result whose file moved within the
/// library is re-pointed; a poster's thumb that is missing or broken is made again.
/// Anything else stays reported.
pub fn rescan(db: &Db, lib: &LibraryPaths, now_ms: i64) -> Result<Rescan, StudioError> {
    let before = health(db, lib)?;
    let mut report = Rescan::default();
    for rel in &before.orphans {
        let Some((task_id, idx)) = parse_app_name(rel) else { continue };
        let Ok(task) = tasks::get(db, task_id) else { continue };
        let path = lib.resolve(rel)?;
        // A link, a pipe or a device stays reported: reading a pipe would wait forever.
        if !paths::is_plain_file(&path) {
            continue;
        }
        let Some(found) = MediaKind::sniff_path(&path).ok().flatten() else { continue };
        let kind = match found {
            MediaKind::Mp4 => ResultKind::Video,
            k if k.is_image() => ResultKind::Image,
            _ => continue,
        };
        // Only a whole file is linked back: one cut short stays reported.
        if !matches!(found.check_whole(&path), Ok(Ok(()))) {
            continue;
        }
        let (size, sha) = sha256_file(&path).map_err(StudioError::io(format!("read {}", path.display())))?;
        library::add_result(
            db,
            NewResult {
                task_id: task.id,
                idx,
                kind,
                path: Some(rel.clone()),
                size: Some(size as i64),
                sha256: Some(sha),
                ..Default::default()
            },
            now_ms,
        )?;
        report.relinked.push(rel.clone());
    }
    report.thumbs = remake_thumbs(db, lib)?;
    report.health = health(db, lib)?;
    Ok(report)
}

/// Make the thumbs that are not there: never made, missing or torn on disk, or the poster
/// standing in for one (it may have been replaced since). Returns how many were made. A
/// poster that gives none is logged (the grid shows it); a failure to write one (the disk)
/// ends the round, logged: the rest of the rescan is still worth having.
fn remake_thumbs(db: &Db, lib: &LibraryPaths) -> Result<u32, StudioError> {
    let mut made = 0;
    let mut after = 0;
    loop {
        let page = thumbs::page_with_sources(db, after, 1000)?;
        let Some(&(last, _)) = page.last() else { return Ok(made) };
        after = last;
        for (id, thumb) in page {
            let sound = thumb
                .as_deref()
                .is_some_and(|t| thumbs::is_thumb_rel(t) && lib.resolve(t).is_ok_and(|p| thumbs::both_sound(&p)));
            if sound {
                continue;
            }
            // The whole row only for the few whose thumb is made; one deleted since is skipped.
            let row = match library::get_result(db, id) {
                Err(crate::db::StoreError::NotFound { .. }) => continue,
                found => found?,
            };
            match thumbs::make_for(db, lib, &row) {
                Ok(_) => made += 1,
                Err(e) if e.is_the_posters() => {
                    tracing::warn!("{}: no thumbnail, the grid shows the poster: {e}", thumbs::who(db, &row))
                }
                Err(e) => {
                    tracing::warn!("rescan: thumbnails not made: {e}");
                    return Ok(made);
                }
            }
        }
    }
}

/// After a library database was started afresh (`repair_library`): new tasks must not take
/// the number of a task whose files are still in the library, since files are named after
/// task ids (`task-<id>-<idx>.mp4`, posters `task-<id>-…`). Ids continue after the highest
/// one named under media/ and posters/.
pub fn keep_file_ids(db: &Db, lib: &LibraryPaths) -> Result<(), StudioError> {
    let highest = [paths::MEDIA_DIR, paths::POSTERS_DIR]
        .iter()
        .flat_map(|dir| paths::files_under(&lib.root().join(dir)))
        .filter_map(|f| task_id_in_name(f.file_name()?.to_str()?))
        .max();
    let Some(id) = highest else { return Ok(()) };
    db.tx(|tx| {
        tx.execute("UPDATE sqlite_sequence SET seq = max(seq, ?1) WHERE name = 'tasks'", [id])?;
        tx.execute(
            "INSERT INTO sqlite_sequence (name, seq) \
             SELECT 'tasks', ?1 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'tasks')",
            [id],
        )?;
        Ok(())
    })?;
    Ok(())
}

/// `task-12-0.mp4`, `task-12-poster.partial` → 12.
fn task_id_in_name(name: &str) -> Option<i64> {
    let digits: String = name.strip_prefix("task-")?.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// `…/task-12-0.mp4` → (12, 0).
fn parse_app_name(rel: &str) -> Option<(i64, u32)> {
    let name = rel.rsplit('/').next()?;
    // Exactly `<stem>.<media extension>`: `task-12-0.mp4.bad` or `.partial` is not a result.
    let (stem, ext) = name.split_once('.')?;
    if !["mp4", "jpg", "jpeg", "png", "webp", "gif"].contains(&ext.to_ascii_lowercase().as_str()) {
        return None;
    }
    let mut parts = stem.strip_prefix("task-")?.split('-');
    let id = parts.next()?.parse().ok()?;
    let idx = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((id, idx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kie::TaskResult;
    use serde_json::{Map, Value};

    const MP4: &[u8] = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom rest of a video";
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n png body";

    /// A library with one downloaded video for a task with a prompt.
    fn setup() -> (tempfile::TempDir, Db, LibraryPaths, ResultRow) {
        let dir = tempfile::tempdir().unwrap();
        let lib = LibraryPaths::new(dir.path().to_path_buf()).unwrap();
        lib.create_dirs().unwrap();
        let db = Db::open_in_memory().unwrap();
        let mut input = Map::new();
        input.insert("prompt".into(), Value::String("A fox, in the snow!".into()));
        let t = tasks::insert_submitting(&db, "sora-2-text-to-video", &input, Some(30.0), false, 1_000).unwrap();
        tasks::mark_submitted(&db, t.id, "k1", 1_000).unwrap();
        tasks::mark_succeeded(&db, t.id, &TaskResult::default(), Some(30.0), 2_000).unwrap();
        let rel = paths::media_rel_path(1_000, &paths::result_file_name(t.id, 0, "mp4"));
        let path = lib.resolve(&rel).unwrap();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, MP4).unwrap();
        let (size, sha) = sha256_file(&path).unwrap();
        let row = library::add_result(
            &db,
            NewResult {
                task_id: t.id,
                idx: 0,
                kind: ResultKind::Video,
                path: Some(rel),
                size: Some(size as i64),
                sha256: Some(sha),
                ..Default::default()
            },
            2_000,
        )
        .unwrap();
        (dir, db, lib, row)
    }

    #[test]
    fn export_copies_with_a_sidecar_and_never_overwrites() {
        let (_dir, db, lib, row) = setup();
        let out = tempfile::tempdir().unwrap();
        let a = export_result(&db, &lib, row.id, out.path()).unwrap();
        assert!(a.video.ends_with("a-fox-in-the-snow-1-0.mp4"), "{a:?}");
        assert_eq!(std::fs::read(&a.video).unwrap(), MP4);
        let side: Value = serde_json::from_str(&std::fs::read_to_string(&a.sidecar).unwrap()).unwrap();
        assert_eq!(side["prompt"], "A fox, in the snow!");
        assert_eq!(side["model"], "sora-2-text-to-video");
        assert_eq!(side["input"]["prompt"], "A fox, in the snow!");
        assert_eq!(side["credits"], 30.0);
        let b = export_result(&db, &lib, row.id, out.path()).unwrap();
        assert_ne!(a.video, b.video);
        assert!(b.video.ends_with("a-fox-in-the-snow-1-0 (2).mp4"), "{b:?}");
        assert!(b.sidecar.ends_with("a-fox-in-the-snow-1-0 (2).json"), "{b:?}");
        // Nothing but the two pairs: no temporary file is left behind.
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 4);
    }

    /// A name that is taken by anything, even a link to nowhere, is not written: copying
    /// through a dangling link would create (or overwrite) a file wherever it points.
    #[test]
    #[cfg(unix)] // Makes symlinks (or a pipe) the Unix way.
    fn export_never_writes_through_a_link_or_over_a_file() {
        let (_dir, db, lib, row) = setup();
        let out = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        let target = elsewhere.path().join("victim.mp4");
        std::os::unix::fs::symlink(&target, out.path().join("a-fox-in-the-snow-1-0.mp4")).unwrap();
        let a = export_result(&db, &lib, row.id, out.path()).unwrap();
        assert!(!target.exists(), "the export wrote through the link");
        assert!(a.video.ends_with("a-fox-in-the-snow-1-0 (2).mp4"), "{a:?}");
        assert_eq!(std::fs::read(&a.video).unwrap(), MP4);
        // A sidecar alone also takes the name.
        std::fs::write(out.path().join("a-fox-in-the-snow-1-0 (3).json"), b"mine").unwrap();
        let b = export_result(&db, &lib, row.id, out.path()).unwrap();
        assert!(b.video.ends_with("(4).mp4"), "{b:?}");
        assert_eq!(std::fs::read(out.path().join("a-fox-in-the-snow-1-0 (3).json")).unwrap(), b"mine");
    }

    /// The copy is written under a temporary name and moved into place when whole: a
    /// failure part way leaves no file under the final name and no temporary one.
    #[test]
    fn a_failed_copy_leaves_nothing_under_the_name() {
        let out = tempfile::tempdir().unwrap();
        let target = out.path().join("clip.mp4");
        let err = write_new(&target, |f| {
            f.write_all(b"half a vid")?;
            Err(std::io::Error::other("the disk is full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "the disk is full");
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
        write_new(&target, |f| f.write_all(b"whole")).unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"whole");
        let taken = write_new(&target, |f| f.write_all(b"other")).unwrap_err();
        assert_eq!(taken.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&target).unwrap(), b"whole");
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 1);
    }

    /// Links, pipes and links in loops under media/ are reported, never followed: the walk
    /// ends, a pipe is not opened (reading it would wait forever), a link is not linked back.
    #[test]
    #[cfg(unix)] // Makes symlinks (or a pipe) the Unix way.
    fn health_and_rescan_do_not_follow_links_or_open_pipes() {
        let (_dir, db, lib, row) = setup();
        let media = lib.root().join("media");
        let video = lib.resolve(row.path.as_deref().unwrap()).unwrap();
        std::os::unix::fs::symlink(&media, media.join("loop-a")).unwrap();
        std::os::unix::fs::symlink(".", media.join("loop-b")).unwrap();
        let link = format!("media/task-{}-1.mp4", row.task_id);
        std::os::unix::fs::symlink(&video, lib.root().join(&link)).unwrap();
        let pipe = format!("media/task-{}-2.mp4", row.task_id);
        let made = std::process::Command::new("mkfifo").arg(lib.root().join(&pipe)).status().unwrap();
        assert!(made.success());
        let (db2, lib2) = (db.clone(), lib.clone());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(rescan(&db2, &lib2, 5_000).map_err(|e| e.to_string())).unwrap());
        let r = rx.recv_timeout(std::time::Duration::from_secs(20)).expect("the rescan finished").unwrap();
        assert!(r.relinked.is_empty(), "{r:?}");
        let mut want = vec![link, pipe, "media/loop-a".to_string(), "media/loop-b".to_string()];
        want.sort();
        assert_eq!(r.health.orphans, want);
        assert_eq!(library::results_for_task(&db, row.task_id).unwrap().len(), 1);
    }

    #[test]
    fn delete_removes_file_and_record_together() {
        let (_dir, db, lib, row) = setup();
        let row = save_poster(&db, &lib, row.id, PNG).unwrap();
        let video = lib.resolve(row.path.as_deref().unwrap()).unwrap();
        let poster = lib.resolve(row.poster_path.as_deref().unwrap()).unwrap();
        assert!(video.exists() && poster.exists());
        delete_result_and_files(&db, &lib, row.id).unwrap();
        assert!(!video.exists() && !poster.exists());
        assert!(library::get_result(&db, row.id).is_err());
        assert!(paths::files_under(lib.root()).iter().all(|f| !f.to_string_lossy().ends_with(".deleting")));
    }

    /// A captured poster gets its thumb; deleting the result deletes it; a rescan makes a
    /// missing or torn one again; the health check never calls one an orphan.
    #[test]
    fn thumbs_follow_their_poster() {
        let (_dir, db, lib, row) = setup();
        let jpeg = crate::thumbs::tests::frame_jpeg(640, 360);
        let row = save_poster(&db, &lib, row.id, &jpeg).unwrap();
        let rel = format!("thumbs/task-{}-0-poster.jpg", row.task_id);
        assert_eq!(row.thumb_path.as_deref(), Some(rel.as_str()));
        let thumb = lib.resolve(&rel).unwrap();
        assert!(thumbs::is_sound(&thumb));
        assert_eq!(library::get_result(&db, row.id).unwrap().thumb_path, row.thumb_path);
        // Thumbs live outside media/: not orphans, nor is a temporary file left beside one.
        std::fs::write(lib.thumbs_dir().join(".x.jpg.1234abcd.partial"), b"half").unwrap();
        assert_eq!(health(&db, &lib).unwrap(), Health::default());

        std::fs::remove_file(&thumb).unwrap();
        let r = rescan(&db, &lib, 5_000).unwrap();
        assert_eq!(r.thumbs, 1);
        assert!(thumbs::is_sound(&thumb));
        let whole = std::fs::read(&thumb).unwrap();
        std::fs::write(&thumb, &whole[..whole.len() / 2]).unwrap();
        assert_eq!(rescan(&db, &lib, 5_000).unwrap().thumbs, 1);
        assert_eq!(std::fs::read(&thumb).unwrap().len(), whole.len());
        // A sound one is left alone.
        assert_eq!(rescan(&db, &lib, 5_000).unwrap().thumbs, 0);
        // A torn HiDPI thumb is made again (with its 1× one); a missing one is a thumb from
        // before there were two sizes, left as it is.
        let hidpi = thumbs::hidpi_path(&thumb);
        let whole2x = std::fs::read(&hidpi).unwrap();
        std::fs::write(&hidpi, &whole2x[..whole2x.len() / 2]).unwrap();
        assert_eq!(rescan(&db, &lib, 5_000).unwrap().thumbs, 1);
        assert_eq!(std::fs::read(&hidpi).unwrap(), whole2x);
        std::fs::remove_file(&hidpi).unwrap();
        assert_eq!(rescan(&db, &lib, 5_000).unwrap().thumbs, 0);
        assert!(!hidpi.exists());
        // One never made (a library from before thumbs) is made by a rescan too.
        library::set_thumb(&db, row.id, None).unwrap();
        assert_eq!(rescan(&db, &lib, 5_000).unwrap().thumbs, 1);
        assert_eq!(library::get_result(&db, row.id).unwrap().thumb_path.as_deref(), Some(rel.as_str()));

        assert!(hidpi.exists());
        delete_result_and_files(&db, &lib, row.id).unwrap();
        assert!(!thumb.exists() && !hidpi.exists());
        assert!(paths::files_under(lib.root()).iter().all(|f| !f.to_string_lossy().ends_with(".deleting")));
    }

    /// A poster that is an image by its first bytes but does not decode is still saved: the
    /// grid shows it in place of a thumb, and no thumb file is made.
    #[test]
    fn a_poster_without_a_thumb_is_still_saved() {
        let (_dir, db, lib, row) = setup();
        let row = save_poster(&db, &lib, row.id, PNG).unwrap();
        assert!(row.poster_path.as_deref().unwrap().ends_with("-poster.png"));
        assert_eq!(row.thumb_path, row.poster_path, "the poster stands in");
        assert_eq!(std::fs::read_dir(lib.thumbs_dir()).unwrap().count(), 0);
        // A rescan tries again (the poster may have been replaced), and still makes none.
        assert_eq!(rescan(&db, &lib, 5_000).unwrap().thumbs, 0);
        let poster = lib.resolve(row.poster_path.as_deref().unwrap()).unwrap();
        delete_result_and_files(&db, &lib, row.id).unwrap();
        assert!(!poster.exists());
    }

    #[test]
    fn posters_must_be_images() {
        let (_dir, db, lib, row) = setup();
        assert_eq!(save_poster(&db, &lib, row.id, b"<svg>").unwrap_err().code(), "refused");
        let r = save_poster(&db, &lib, row.id, PNG).unwrap();
        assert!(r.poster_path.unwrap().ends_with("-poster.png"));
    }

    #[test]
    fn health_finds_missing_files_and_orphans_and_rescan_repairs_what_it_can() {
        let (_dir, db, lib, row) = setup();
        assert_eq!(health(&db, &lib).unwrap(), Health::default());
        // The record's file vanishes; it comes back under a different record-less name.
        let video = lib.resolve(row.path.as_deref().unwrap()).unwrap();
        std::fs::remove_file(&video).unwrap();
        let stray = lib.root().join("media/stray.mp4");
        std::fs::write(&stray, MP4).unwrap();
        let partial = lib.root().join("media/task-9-0.partial");
        std::fs::write(&partial, b"half").unwrap();
        let h = health(&db, &lib).unwrap();
        assert_eq!(h.missing.iter().map(|r| r.id).collect::<Vec<_>>(), vec![row.id]);
        assert_eq!(h.orphans, vec!["media/stray.mp4".to_string()]);
        assert_eq!(h.partials, vec!["media/task-9-0.partial".to_string()]);

        // The file is put back under the app's name: the rescan links it again.
        std::fs::write(&video, MP4).unwrap();
        let whole = kie::samples::mp4(b"isom", 2.0, 4096);
        let again = lib.root().join(format!("media/task-{}-1.mp4", row.task_id));
        std::fs::write(&again, &whole).unwrap();
        // A file the downloader set aside, and one cut short, are never linked back.
        let bad = lib.root().join(format!("media/task-{}-2.mp4.bad", row.task_id));
        std::fs::write(&bad, &whole).unwrap();
        let cut = lib.root().join(format!("media/task-{}-3.mp4", row.task_id));
        std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
        let r = rescan(&db, &lib, 5_000).unwrap();
        assert_eq!(r.relinked, vec![format!("media/task-{}-1.mp4", row.task_id)]);
        assert!(bad.exists() && cut.exists(), "nothing is deleted");
        assert!(r.health.missing.is_empty());
        // What it cannot place is still reported, not deleted.
        let t = row.task_id;
        assert_eq!(
            r.health.orphans,
            ["media/stray.mp4".to_string(), format!("media/task-{t}-2.mp4.bad"), format!("media/task-{t}-3.mp4")]
        );
        assert!(stray.exists());
        assert_eq!(library::results_for_task(&db, row.task_id).unwrap().len(), 2);
    }

    #[test]
    fn ids_named_by_files_are_not_given_again() {
        let (_dir, db, lib, row) = setup();
        std::fs::write(lib.root().join("media/task-77-0.mp4.bad"), MP4).unwrap();
        std::fs::write(lib.posters_dir().join("task-80-poster.partial"), PNG).unwrap();
        keep_file_ids(&db, &lib).unwrap();
        let input = serde_json::Map::new();
        let t = tasks::insert_submitting(&db, "sora-2-text-to-video", &input, None, false, 9).unwrap();
        assert_eq!((row.task_id, t.id), (1, 81));
        assert_eq!(task_id_in_name("task-12-0.mp4"), Some(12));
        assert_eq!(task_id_in_name("stray.mp4"), None);
    }

    #[test]
    fn app_names() {
        assert_eq!(parse_app_name("media/2026/11/task-12-0.mp4"), Some((12, 0)));
        assert_eq!(parse_app_name("posters/task-12-0-poster.png"), None);
        assert_eq!(parse_app_name("media/x.mp4"), None);
        // Files the downloader set aside or has not finished are never results.
        assert_eq!(parse_app_name("media/2026/11/task-12-0.mp4.bad"), None);
        assert_eq!(parse_app_name("media/2026/11/task-12-0.mp4.partial"), None);
        assert_eq!(parse_app_name("media/2026/11/task-12-0.MP4"), Some((12, 0)));
    }
}

/// A result with everything the detail panel shows.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct ResultDetail {
    pub view: library::ResultView,
    /// The task: full input (for remix), Kie's id, dates, credits.
    pub task: tasks::Task,
    /// The file is on disk (false: shown as missing, repairable by a rescan).
    pub file_present: bool,
}

pub fn result_detail(db: &Db, lib: &LibraryPaths, id: i64) -> Result<ResultDetail, StudioError> {
    let row = library::get_result(db, id)?;
    let task = tasks::get(db, row.task_id)?;
    let file_present =
        row.path.as_deref().map(|p| lib.resolve(p).map(|p| p.is_file()).unwrap_or(false)).unwrap_or(true);
    let view = library::ResultView {
        model: task.model.clone(),
        prompt: task.prompt().map(str::to_string).or_else(|| first_scene(&task)),
        task_status: task.status,
        credits_estimated: task.credits_estimated,
        credits_consumed: task.credits_consumed,
        task_created_at: task.created_at,
        task_finished_at: task.finished_at,
        demo: task.demo,
        result: row,
    };
    Ok(ResultDetail { view, task, file_present })
}

fn first_scene(task: &tasks::Task) -> Option<String> {
    let shots = task.input.get("shots")?.as_array()?;
    shots.first()?.get("Scene")?.as_str().map(str::to_string)
}

/// A character with the poster of the video it was made from.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct CharacterView {
    #[serde(flatten)]
    pub character: crate::characters::Character,
    /// Relative to the library root, when the origin video is in the library.
    pub poster_path: Option<String>,
    /// The library task of the origin video, when known.
    pub origin_video_task_id: Option<i64>,
}

/// Every character, newest first, with its origin video's poster.
pub fn characters_with_posters(db: &Db) -> Result<Vec<CharacterView>, StudioError> {
    let mut out = Vec::new();
    for c in crate::characters::list(db)? {
        let video = c.origin_task_id.and_then(|id| tasks::get(db, id).ok()).and_then(|t| {
            // A character made here points at its characters-pro task; that task's input
            // names the video's Kie id.
            match t.input.get("origin_task_id").and_then(|v| v.as_str()) {
                Some(kie_id) => tasks::by_kie_id(db, kie_id).ok().flatten(),
                None => Some(t),
            }
        });
        let poster_path = video.as_ref().and_then(|t| {
            library::results_for_task(db, t.id)
                .ok()?
                .into_iter()
                .find(|r| r.kind == ResultKind::Video)
                .and_then(|r| r.poster_path)
        });
        out.push(CharacterView { character: c, poster_path, origin_video_task_id: video.map(|t| t.id) });
    }
    Ok(out)
}
