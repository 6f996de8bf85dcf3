//! The [`Downloader`] service: fetches a finished task's results into the library at once
//! (links expire): streamed to a partial file in the same folder, synced, verified, then
//! renamed into place and hashed (sha256, recorded). A half file never sits under a final
//! name. Interrupted downloads resume with Range; expired links are renewed through
//! `download-url`. Hashing, checking and renaming run on the blocking pool.
//!
//! Verified means: the length the server announced (checked by the client), and the file
//! whole by its own structure ([`MediaKind::check_whole`]: a complete MP4 box structure, an
//! image that decodes), which is all there is to go by when no length was announced. A file
//! found under its final name is trusted only when it passes the same checks, and a
//! recorded one only when it still has its recorded sha256 ([`check_recorded`]); one that
//! does not is set aside (`.bad`, never deleted, never overwritten) and fetched again.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use kie::catalogue::{MediaType, Protocol};
use kie::client::HdVideo;
use kie::media::MediaKind;
use kie::record::MAX_RESULT_URLS;
use kie::{Failure, KieError, TaskResult};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::characters::{self, NewCharacter};
use crate::db::StoreError;
use crate::error::StudioError;
use crate::events::StudioEvent;
use crate::library::{self, NewResult, ResultKind, ResultRow, HD_IDX_OFFSET};
use crate::paths::{self, LibraryPaths};
use crate::progress::throttled_transfer;
use crate::studio::{blocking, Studio};
use crate::studio_config::PollConfig;
use crate::tasks::{self, Task, TaskStatus};
use crate::thumbs;

mod tail_hash;

use tail_hash::TailHash;

/// How patiently Veo's 1080p copy is asked for: Kie makes it 1–3 minutes after success and
/// answers "processing" until then. Asking is free; nothing paid is ever re-sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HdPolicy {
    /// The wait after the first "still processing"; it doubles each time, up to `max_wait`.
    pub first_wait: Duration,
    pub max_wait: Duration,
    /// Stop asking (and say so; the action stays offered) once this much time has passed.
    pub give_up_after: Duration,
}

impl Default for HdPolicy {
    fn default() -> Self {
        HdPolicy {
            first_wait: Duration::from_secs(5),
            max_wait: Duration::from_secs(20),
            give_up_after: Duration::from_secs(5 * 60),
        }
    }
}

impl HdPolicy {
    /// The default, scaled as the poll cadence is (the demo and tests poll faster).
    pub fn following(poll: &PollConfig) -> HdPolicy {
        let factor = poll.fast_ms as f64 / PollConfig::default().fast_ms as f64;
        let d = HdPolicy::default();
        let s = |v: Duration| v.mul_f64(factor.clamp(0.0001, 100.0)).max(Duration::from_millis(1));
        HdPolicy { first_wait: s(d.first_wait), max_wait: s(d.max_wait), give_up_after: s(d.give_up_after) }
    }
}

/// Releases a task's HD claim however the fetch ends (success, error, or the caller gone).
struct HdClaim<'a>(&'a Studio, i64);

impl Drop for HdClaim<'_> {
    fn drop(&mut self) {
        self.0.hd_busy().release(self.1);
    }
}

/// What a fetched file must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Video,
    Image,
}

/// A verified file in its final place.
struct Placed {
    rel_path: String,
    size: u64,
    sha256: String,
}

/// The downloader of one library (from [`Studio::downloader`]).
#[derive(Clone, Copy)]
pub struct Downloader<'a> {
    studio: &'a Studio,
}

impl<'a> Downloader<'a> {
    pub(crate) fn new(studio: &'a Studio) -> Self {
        Downloader { studio }
    }

    /// Download, and on failure leave the task for a later pass (its files stay pending).
    pub(crate) async fn download_or_reschedule(self, task: &Task) {
        let studio = self.studio;
        if let Err(e) = self.download_results(task).await {
            tracing::warn!("download of task {} failed, will retry: {e}", task.id);
            let backoff = studio.config().poll.backoff(task.poll_errors + 1);
            let _ = tasks::schedule_poll(studio.db(), task.id, Some(studio.now_ms() + backoff), task.poll_errors + 1);
        }
    }

    /// Bring every result of a succeeded task into the library. Safe to run again after a
    /// crash at any point: finished files are recognised, partial ones resumed.
    pub async fn download_results(self, task: &Task) -> Result<(), StudioError> {
        let studio = self.studio;
        let result: TaskResult = task.result().unwrap_or_default();
        let existing = library::results_for_task(studio.db(), task.id)?;
        let have = |idx: u32, kind: ResultKind| existing.iter().any(|r| r.idx == idx && r.kind == kind);

        if let Some(obj) = &result.result_object {
            if !have(0, ResultKind::Character) {
                self.record_character(task, &result, obj.clone())?;
            }
        }
        if result.result_urls.len() > MAX_RESULT_URLS || result.extra_urls > 0 {
            tracing::warn!(
                "task {} listed {} result links; only the first {MAX_RESULT_URLS} are brought in",
                task.id,
                result.result_urls.len() + result.extra_urls as usize
            );
        }
        for (i, url) in result.result_urls.iter().take(MAX_RESULT_URLS).enumerate() {
            let idx = i as u32;
            let kind = if self.is_image_model(&task.model) { ResultKind::Image } else { ResultKind::Video };
            let recorded = existing.iter().find(|r| r.idx == idx && r.kind == kind);
            if let Some(row) = recorded {
                // Met again (the app stopped before the task was marked downloaded): trusted
                // only if it still is what was recorded; else set aside and fetched again.
                let (lib, row2) = (studio.paths().clone(), row.clone());
                let check = blocking("Checking a downloaded file", move || check_recorded(&lib, &row2)).await?;
                match check {
                    Recorded::Intact => continue,
                    Recorded::Missing => {
                        tracing::warn!("result {idx} of task {} is missing; fetching it again", task.id)
                    }
                    Recorded::SetAside { path } => {
                        tracing::warn!(
                            "result {idx} of task {} changed since it was recorded; set aside as {path}",
                            task.id
                        )
                    }
                }
            }
            let expect = if kind == ResultKind::Image { Expect::Image } else { Expect::Video };
            let name = paths::result_file_name(task.id, idx, "partial");
            let dir_rel = parent_rel(&paths::media_rel_path(task.created_at, &name));
            let placed = self.fetch_verified(task.id, idx, url, &dir_rel, &name, expect).await?;
            studio.crash_point("after_rename_before_record");
            let has_poster = recorded.is_some_and(|r| r.poster_path.is_some());
            let poster = if idx == 0 && !has_poster { self.fetch_poster(task, &result).await } else { None };
            let poster_landed = poster.is_some();
            let row = library::add_result(
                studio.db(),
                NewResult {
                    task_id: task.id,
                    idx,
                    kind,
                    path: Some(placed.rel_path),
                    size: Some(placed.size as i64),
                    sha256: Some(placed.sha256),
                    poster_path: poster,
                    text_json: None,
                    source_url: Some(url.clone()),
                },
                studio.now_ms(),
            )?;
            // An image is its own poster: its thumb is made from it.
            let row = if poster_landed || kind == ResultKind::Image { self.make_thumb(task, row).await } else { row };
            studio.emit(StudioEvent::ResultAdded { result: row });
        }
        let t = tasks::mark_downloaded(studio.db(), task.id, studio.now_ms())?;
        studio.emit_task(&t);
        Ok(())
    }

    /// Veo: ask Kie for the 1080p copy of a finished task's video (free; asked again while
    /// Kie says it is still being made, as `policy` says), then bring it into the library as
    /// one more video result of the task, at `idx` [`HD_IDX_OFFSET`] (`task-<id>-1000.mp4`),
    /// fetched, verified and renamed like every download, with a copy of the original's
    /// poster. Emits `result_added` and `task_changed` (the action is no longer offered).
    /// Returns the new result, or the one already there.
    pub async fn fetch_hd(self, task_id: i64, policy: HdPolicy) -> Result<ResultRow, StudioError> {
        let studio = self.studio;
        let task = tasks::get(studio.db(), task_id)?;
        let index = 0u32;
        let idx = HD_IDX_OFFSET + index;
        let existing = library::results_for_task(studio.db(), task.id)?;
        if let Some(row) = existing.iter().find(|r| r.idx == idx && r.kind == ResultKind::Video) {
            return Ok(row.clone());
        }
        if studio.protocol_of(&task.model) != Protocol::Veo {
            return Err(StudioError::Refused(format!(
                "Task {task_id} was made with {}, which has no 1080p copy to fetch (only Veo videos do).",
                task.model
            )));
        }
        if task.status != TaskStatus::Succeeded {
            return Err(StudioError::Refused(format!(
                "Task {task_id} is {}; its 1080p copy can be fetched once it has succeeded.",
                task.status
            )));
        }
        if !tasks::hd_possible(&task.model, &task.input, 0) {
            return Err(StudioError::Refused(format!(
                "Task {task_id} was made at 1080p or more already; there is no higher copy to fetch."
            )));
        }
        let Some(kie_id) = task.kie_task_id.clone() else {
            return Err(StudioError::Refused(format!("Task {task_id} has no Kie task id to ask about.")));
        };
        if !studio.hd_busy().try_claim(task.id) {
            return Err(StudioError::Refused(format!("The 1080p copy of task {task_id} is already being fetched.")));
        }
        let _claim = HdClaim(studio, task.id);

        let url = self.wait_for_hd(&kie_id, index, policy).await?;
        let name = paths::result_file_name(task.id, idx, "partial");
        let dir_rel = parent_rel(&paths::media_rel_path(task.created_at, &name));
        let placed = self.fetch_verified(task.id, idx, &url, &dir_rel, &name, Expect::Video).await?;
        let original = existing.iter().find(|r| r.idx == index && r.kind == ResultKind::Video);
        let poster = match original.and_then(|r| r.poster_path.clone()) {
            Some(rel) => self.copy_poster(&rel, task.id, idx).await,
            None => None,
        };
        let poster_landed = poster.is_some();
        let row = library::add_result(
            studio.db(),
            NewResult {
                task_id: task.id,
                idx,
                kind: ResultKind::Video,
                path: Some(placed.rel_path),
                size: Some(placed.size as i64),
                sha256: Some(placed.sha256),
                poster_path: poster,
                text_json: Some(json!({ "hd_of": index, "resolution": "1080p" })),
                source_url: Some(url),
            },
            studio.now_ms(),
        )?;
        let row = if poster_landed { self.make_thumb(&task, row).await } else { row };
        studio.emit(StudioEvent::ResultAdded { result: row.clone() });
        // Its actions changed: the HD copy is in.
        studio.emit_task(&tasks::get(studio.db(), task.id)?);
        Ok(row)
    }

    /// Ask until Kie gives the link, backing off while it says "processing".
    async fn wait_for_hd(self, kie_id: &str, index: u32, policy: HdPolicy) -> Result<String, StudioError> {
        let started = tokio::time::Instant::now();
        let mut wait = policy.first_wait;
        loop {
            match self.studio.client().get_1080p_video(kie_id, index).await? {
                HdVideo::Ready { url } => return Ok(url),
                HdVideo::Processing { message } => {
                    if started.elapsed() + wait > policy.give_up_after {
                        let msg = format!(
                            "Kie was still making the 1080p copy after {} s (it said: {message}). \
                             Nothing was charged; ask again in a minute or two.",
                            started.elapsed().as_secs()
                        );
                        return Err(KieError::Timeout(Failure::new(None, None, msg, "")).into());
                    }
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(policy.max_wait.max(policy.first_wait));
                }
            }
        }
    }

    /// The original's poster, copied for the HD copy (each result owns its poster file, as
    /// deleting a result deletes its poster). A poster that cannot be copied is left out.
    async fn copy_poster(self, rel: &str, task_id: i64, idx: u32) -> Option<String> {
        let lib = self.studio.paths().clone();
        let rel = rel.to_string();
        let copied = blocking("Copying the poster", move || {
            let src = lib.resolve(&rel)?;
            let ext = src.extension().and_then(|e| e.to_str()).unwrap_or("jpg").to_string();
            let new_rel = paths::poster_rel_path(&format!("task-{task_id}-{idx}-poster.{ext}"));
            let dest = lib.resolve(&new_rel)?;
            std::fs::copy(&src, &dest).map_err(StudioError::io("copy the poster"))?;
            Ok(new_rel)
        })
        .await;
        copied.inspect_err(|e| tracing::warn!("poster of the HD copy of task {task_id} not copied: {e}")).ok()
    }

    /// The grid's thumb of a poster that just landed (thumbs.rs), on the blocking pool. One
    /// that cannot be made fails nothing: it is logged, and the grid shows the poster.
    async fn make_thumb(self, task: &Task, row: ResultRow) -> ResultRow {
        let (db, lib, r) = (self.studio.db().clone(), self.studio.paths().clone(), row.clone());
        let made = blocking("Making a thumbnail", move || Ok(thumbs::make_for(&db, &lib, &r)))
            .await
            .map_err(|e| e.to_string())
            .and_then(|made| made.map_err(|e| e.to_string()));
        match made {
            Ok(row) => row,
            Err(e) => {
                let kie = task.kie_task_id.as_deref().map(|k| format!(" (Kie task {k})")).unwrap_or_default();
                tracing::warn!(
                    "thumbnail of the poster of task {}{kie} not made, the grid shows the poster: {e}",
                    task.id
                );
                // The poster may stand in for it now (recorded by make_for).
                library::get_result(self.studio.db(), row.id).unwrap_or(row)
            }
        }
    }

    fn is_image_model(self, model: &str) -> bool {
        self.studio.catalogue().model(model).map(|m| m.output == kie::catalogue::OutputKind::Image).unwrap_or(false)
    }

    /// A character result: into the results table and the registry.
    fn record_character(self, task: &Task, result: &TaskResult, obj: serde_json::Value) -> Result<(), StudioError> {
        let studio = self.studio;
        let now = studio.now_ms();
        let row = library::add_result(
            studio.db(),
            NewResult {
                task_id: task.id,
                idx: 0,
                kind: ResultKind::Character,
                text_json: Some(obj),
                ..Default::default()
            },
            now,
        )?;
        studio.emit(StudioEvent::ResultAdded { result: row });
        let Some(ch) = result.character() else { return Ok(()) };
        let input_str = |k: &str| task.input.get(k).and_then(|v| v.as_str()).map(str::to_string);
        let Some(handle) = ch.character_user_name.clone().or_else(|| input_str("character_user_name")) else {
            return Ok(());
        };
        let new = NewCharacter {
            handle,
            character_id: Some(ch.character_id.clone()),
            prompt: input_str("character_prompt"),
            safety_instruction: input_str("safety_instruction"),
            origin_task_id: Some(task.id),
        };
        match characters::add(studio.db(), new, now) {
            Ok(c) => studio.emit(StudioEvent::CharacterAdded { character: c }),
            // Already registered (a re-run after a crash, or the user added it by hand).
            Err(StoreError::DuplicateHandle(_)) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// The first-frame image as the poster; a missing poster is not worth failing a task.
    async fn fetch_poster(self, task: &Task, result: &TaskResult) -> Option<String> {
        let url = result.first_frame_url.as_deref()?;
        let name = format!("task-{}-poster.partial", task.id);
        match self.fetch_verified(task.id, 0, url, paths::POSTERS_DIR, &name, Expect::Image).await {
            Ok(p) => Some(p.rel_path),
            Err(e) => {
                tracing::warn!("poster of task {} not fetched: {e}", task.id);
                None
            }
        }
    }

    /// Fetch `url` to `<dir_rel>/<partial_name>`, resuming what is there, then verify and
    /// rename it to its final name (the partial name with the real extension).
    async fn fetch_verified(
        self,
        task_id: i64,
        idx: u32,
        url: &str,
        dir_rel: &str,
        partial_name: &str,
        expect: Expect,
    ) -> Result<Placed, StudioError> {
        let studio = self.studio;
        let root = studio.paths().root().to_path_buf();
        let dir = studio.paths().resolve(dir_rel)?;
        tokio::fs::create_dir_all(&dir).await.map_err(StudioError::io(format!("create {}", dir.display())))?;
        let stem = partial_name.trim_end_matches(".partial").to_string();
        // A crash after the rename but before the record: the final file is already there.
        let found = {
            let (dir, stem, root) = (dir.clone(), stem.clone(), root.clone());
            blocking("Checking a finished download", move || Ok(already_placed(&dir, &stem, &root, expect))).await?
        };
        if let Some(placed) = found {
            return Ok(placed);
        }
        let partial = dir.join(partial_name);
        let mut link = url.to_string();
        let mut renewed = false;
        let mut attempt = 0;
        let hashed = loop {
            attempt += 1;
            let mut file = tokio::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&partial)
                .await
                .map_err(StudioError::io(format!("open {}", partial.display())))?;
            let already = file.metadata().await.map_err(StudioError::io("read the partial file"))?.len();
            // Hashed as it lands, not read again after (a 1 GiB video: seconds).
            let tail = TailHash::start(partial.clone());
            let (feed, report) = (tail.feed(), self.progress(task_id, idx));
            let progress: kie::client::Progress = Arc::new(move |done, total| {
                feed.wrote(done);
                report(done, total);
            });
            match studio.client().fetch_media_to(&link, expect.media(), &mut file, already, Some(progress)).await {
                Ok(fetched) => {
                    // The hash is finished while the file is synced.
                    let hash = async {
                        if appended_only(already, &fetched) {
                            tail.finish(fetched.total).await
                        } else {
                            None
                        }
                    };
                    let (synced, hash) = tokio::join!(file.sync_all(), hash);
                    synced.map_err(StudioError::io("sync the downloaded file"))?;
                    // The client compared the bytes with the announced length as they came;
                    // what is on disk must come to it too.
                    let on_disk = file.metadata().await.map_err(StudioError::io("read the partial file"))?.len();
                    if fetched.announced.is_some_and(|n| n != on_disk) || on_disk != fetched.total {
                        drop(file);
                        let _ = tokio::fs::remove_file(&partial).await;
                        return Err(StudioError::Corrupt(format!(
                            "the download came to {on_disk} bytes on disk, not the {} announced",
                            fetched.announced.unwrap_or(fetched.total)
                        )));
                    }
                    break hash;
                }
                Err(KieError::LinkExpired(_)) if !renewed => {
                    link = studio.client().download_url(url).await?;
                    renewed = true;
                }
                Err(e) if e.is_transient() && attempt < studio.config().download_attempts => {
                    let wait = studio.config().poll.backoff(attempt as i64).min(5_000);
                    tokio::time::sleep(Duration::from_millis(wait as u64)).await;
                }
                Err(e) => {
                    // Nothing worth resuming (a refused link, a file over its cap): no partial left.
                    if file.metadata().await.is_ok_and(|m| m.len() == 0) {
                        drop(file);
                        let _ = tokio::fs::remove_file(&partial).await;
                    }
                    return Err(e.into());
                }
            }
        };
        studio.crash_point("before_rename");
        blocking("Moving the download into place", move || place(&partial, &dir, &stem, &root, expect, hashed)).await
    }

    /// Progress of one file: the crash-point hook sees every report, subscribers hear them
    /// through the one throttle.
    fn progress(self, task_id: i64, idx: u32) -> kie::client::Progress {
        let emitter = self.studio.clone();
        let report = throttled_transfer(move |done, total| {
            emitter.emit(StudioEvent::DownloadProgress { task_id, idx, done, total });
        });
        let studio = self.studio.clone();
        Arc::new(move |done, total| {
            if done > 0 && total.is_some_and(|t| done < t) {
                studio.crash_point("mid_download");
            }
            report(done, total);
        })
    }
}

impl Expect {
    /// The client's kind, which sets the download's cap.
    fn media(self) -> MediaType {
        match self {
            Expect::Video => MediaType::Video,
            Expect::Image => MediaType::Image,
        }
    }

    fn accepts(self, kind: Option<MediaKind>) -> bool {
        match self {
            Expect::Video => kind == Some(MediaKind::Mp4),
            Expect::Image => kind.is_some_and(MediaKind::is_image),
        }
    }

    fn words(self) -> &'static str {
        match self {
            Expect::Video => "an MP4 video",
            Expect::Image => "an image",
        }
    }
}

fn expected_extensions(expect: Expect) -> &'static [&'static str] {
    match expect {
        Expect::Video => &["mp4"],
        Expect::Image => &["jpg", "png", "webp", "gif"],
    }
}

fn parent_rel(rel: &str) -> String {
    rel.rsplit_once('/').map(|(dir, _)| dir.to_string()).unwrap_or_default()
}

fn sniff_file(path: &Path) -> Result<Option<MediaKind>, StudioError> {
    MediaKind::sniff_path(path).map_err(StudioError::io(format!("read {}", path.display())))
}

/// A file left under a final name (a crash after the rename, before the record) that
/// verifies; one that does not is set aside (`.bad`), never trusted, never deleted.
/// Blocking.
fn already_placed(dir: &Path, stem: &str, root: &Path, expect: Expect) -> Option<Placed> {
    for ext in expected_extensions(expect) {
        let done = dir.join(format!("{stem}.{ext}"));
        if done.exists() {
            match verify(&done, root, expect) {
                Ok(placed) => return Some(placed),
                Err(e) => match set_aside(&done) {
                    Ok(bad) => tracing::warn!("{} was not whole ({e}); set aside as {}", done.display(), bad.display()),
                    Err(io) => {
                        tracing::warn!("{} was not whole ({e}) and could not be set aside: {io}", done.display())
                    }
                },
            }
        }
    }
    None
}

/// Whether a fetch into a file that held `already` bytes only appended to them (a fresh file,
/// or one resumed where it stopped), so that a hash taken as it was written is the file's.
/// A server that answered a resume with the whole file started it over.
fn appended_only(already: u64, fetched: &kie::client::Fetched) -> bool {
    already == 0 || fetched.resumed
}

/// Check a synced partial file (its kind, and that it is whole), rename it to its final
/// name (with the extension its bytes call for), make the rename durable and describe the
/// file (with `hashed`, its size and sha256 taken as it was written, when there is one).
/// A partial that fails is removed: the next pass starts over rather than resume it.
/// Blocking.
fn place(
    partial: &Path,
    dir: &Path,
    stem: &str,
    root: &Path,
    expect: Expect,
    hashed: Option<(u64, String)>,
) -> Result<Placed, StudioError> {
    let kind = sniff_file(partial)?;
    if !expect.accepts(kind) {
        let _ = std::fs::remove_file(partial);
        return Err(StudioError::Corrupt(format!(
            "expected {} but got {}",
            expect.words(),
            kind.map(|k| k.mime()).unwrap_or("something unrecognisable")
        )));
    }
    let kind = kind.expect("checked above");
    if let Err(damage) = check_whole(partial, kind)? {
        let _ = std::fs::remove_file(partial);
        return Err(StudioError::Corrupt(format!("the downloaded {} is not whole: {damage}", kind.label())));
    }
    let final_path = dir.join(format!("{stem}.{}", kind.extension()));
    std::fs::rename(partial, &final_path).map_err(StudioError::io("move the download into place"))?;
    sync_dir(dir);
    match hashed {
        Some((size, sha256)) if std::fs::metadata(&final_path).is_ok_and(|m| m.len() == size) => {
            placed(&final_path, root, size, sha256)
        }
        _ => describe(&final_path, root),
    }
}

/// Check a file found in its final place (kind, whole) and describe it for the library.
/// Blocking (hashes it).
fn verify(path: &Path, root: &Path, expect: Expect) -> Result<Placed, StudioError> {
    let kind = sniff_file(path)?;
    if !expect.accepts(kind) {
        return Err(StudioError::Corrupt(format!("{} is not {}", path.display(), expect.words())));
    }
    if let Err(damage) = check_whole(path, kind.expect("checked above"))? {
        return Err(StudioError::Corrupt(format!("{} is not whole: {damage}", path.display())));
    }
    describe(path, root)
}

fn check_whole(path: &Path, kind: MediaKind) -> Result<Result<(), kie::media::Damage>, StudioError> {
    kind.check_whole(path).map_err(StudioError::io(format!("read {}", path.display())))
}

/// A file's place in the library, size and sha256. Blocking.
fn describe(path: &Path, root: &Path) -> Result<Placed, StudioError> {
    let (size, sha256) = sha256_file(path).map_err(StudioError::io("hash the downloaded file"))?;
    placed(path, root, size, sha256)
}

/// A file's place in the library, with its size and sha256 as given.
fn placed(path: &Path, root: &Path, size: u64, sha256: String) -> Result<Placed, StudioError> {
    let rel_path = path
        .strip_prefix(root)
        .map_err(|_| StudioError::Corrupt(format!("{} is outside the library", path.display())))?
        .to_string_lossy()
        .replace('\\', "/");
    Ok(Placed { rel_path, size, sha256 })
}

/// What [`check_recorded`] found of a recorded result's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// There, with its recorded size and sha256 (or, recorded without a hash, whole).
    Intact,
    /// Not on disk.
    Missing,
    /// It differed from what was recorded; now at `path` (relative to the library), beside
    /// where it was.
    SetAside { path: String },
}

/// Compare a recorded result's file with what was recorded: its size and sha256 (re-hashed
/// here), or for a row recorded without a hash, that it is whole. One that differs is set
/// aside (`<name>.bad`, or `.bad-2`… when taken), never deleted. Rows without a file
/// (characters) are intact. Blocking: reads the whole file.
pub fn check_recorded(lib: &LibraryPaths, row: &ResultRow) -> Result<Recorded, StudioError> {
    let Some(rel) = &row.path else { return Ok(Recorded::Intact) };
    let path = lib.resolve(rel)?;
    if !path.is_file() {
        return Ok(Recorded::Missing);
    }
    let intact = match &row.sha256 {
        Some(recorded) => {
            let (size, sha) = sha256_file(&path).map_err(StudioError::io(format!("read {}", path.display())))?;
            sha.eq_ignore_ascii_case(recorded) && row.size.is_none_or(|s| s == size as i64)
        }
        None => match sniff_file(&path)? {
            Some(kind) => check_whole(&path, kind)?.is_ok(),
            None => false,
        },
    };
    if intact {
        return Ok(Recorded::Intact);
    }
    let bad = set_aside(&path).map_err(StudioError::io(format!("set aside {}", path.display())))?;
    let bad_rel = bad.strip_prefix(lib.root()).unwrap_or(&bad).to_string_lossy().replace('\\', "/");
    Ok(Recorded::SetAside { path: bad_rel })
}

/// Move a file that cannot be trusted out of its name, to `<name>.bad` (or `.bad-2`, …, so
/// an earlier one is never overwritten). Blocking.
fn set_aside(path: &Path) -> std::io::Result<std::path::PathBuf> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    for n in 1..=1000 {
        let bad = path.with_file_name(if n == 1 { format!("{name}.bad") } else { format!("{name}.bad-{n}") });
        if !bad.exists() {
            std::fs::rename(path, &bad)?;
            return Ok(bad);
        }
    }
    Err(std::io::Error::other(format!("too many files set aside beside {}", path.display())))
}

pub fn sha256_file(path: &Path) -> std::io::Result<(u64, String)> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    let digest = hasher.finalize();
    Ok((size, digest.iter().map(|b| format!("{b:02x}")).collect()))
}

/// Make the rename durable (best effort: not every filesystem allows syncing a directory).
/// Blocking.
fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use kie::client::Fetched;

    use super::appended_only;

    #[test]
    fn a_hash_taken_while_writing_counts_only_for_appends() {
        let fetched = |resumed| Fetched { total: 100, resumed, announced: Some(100) };
        assert!(appended_only(0, &fetched(false)));
        assert!(appended_only(40, &fetched(true)));
        // Asked to resume, the server sent the whole file: it was started over.
        assert!(!appended_only(40, &fetched(false)));
    }
}
