//! The downloader against broken and hostile answers (issue 10, items 4 and 5): a file is
//! kept only when it is whole (its announced length, a complete MP4, an image that
//! decodes), a recorded file is checked against its sha256 when met again, answers are
//! bounded, and result links are https.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use kie::catalogue::Catalogue;
use kie::client::ClientConfig;
use kie::protocol::Protocol;
use kie::record::MAX_RESULT_URLS;
use kie::{KieClient, TaskResult};
use kie_sim::{Endpoint, Fault, FaultRule, Sim};
use serde_json::{json, Map};
use studio::clock::{Clock, SystemClock};
use studio::downloader::sha256_file;
use studio::library::{self, NewResult, ResultKind};
use studio::paths::{self, LibraryPaths};
use studio::tasks::{self, Task};
use studio::{Db, Studio};

const SIZE: u64 = 300_000;

fn studio_with(sim: &Sim, root: &Path, tweak: impl FnOnce(&mut ClientConfig)) -> Studio {
    let paths = LibraryPaths::new(root.to_path_buf()).unwrap();
    paths.create_dirs().unwrap();
    let db = Db::open(&paths.db(), SystemClock.now_ms()).unwrap();
    let mut cfg = client_config(sim);
    tweak(&mut cfg);
    let client = KieClient::new(cfg).unwrap();
    Studio::new(db, paths, client, Catalogue::builtin().clone(), Arc::new(SystemClock), studio_config())
}

/// A task Kie said succeeded with `result` (nothing downloaded yet).
fn succeeded(studio: &Studio, result: &TaskResult) -> Task {
    let now = studio.now_ms();
    let t = tasks::insert_submitting(studio.db(), "sora-2-text-to-video", &Map::new(), None, false, now).unwrap();
    tasks::mark_submitted(studio.db(), t.id, &format!("kie-{}", t.id), now).unwrap();
    tasks::mark_succeeded(studio.db(), t.id, result, Some(30.0), now).unwrap()
}

fn synthetic(sim: &Sim) -> String {
    format!("{}/files/synthetic/{SIZE}.mp4", sim.base_url())
}

fn video_result(url: &str) -> TaskResult {
    TaskResult { result_urls: vec![url.to_string()], ..Default::default() }
}

async fn download(studio: &Studio, task: &Task) -> Result<(), studio::StudioError> {
    tokio::time::timeout(Duration::from_secs(5), studio.downloader().download_results(task))
        .await
        .expect("the download ended (it was not left to run without end)")
}

/// Where the downloader puts result `idx` of `task` (without the extension).
fn final_path(studio: &Studio, task: &Task, idx: u32, ext: &str) -> PathBuf {
    let rel = paths::media_rel_path(task.created_at, &paths::result_file_name(task.id, idx, ext));
    studio.paths().resolve(&rel).unwrap()
}

fn media_files(studio: &Studio) -> Vec<String> {
    let root = studio.paths().root();
    let mut names: Vec<String> = files_under(&root.join("media"))
        .into_iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_video_cut_short_without_a_length_is_not_kept() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = studio_with(&sim, dir.path(), |_| {});
    let task = succeeded(&studio, &video_result(&synthetic(&sim)));
    // The answer is chunked, starts with ftyp, and ends cleanly halfway.
    sim.push_fault(FaultRule::new(Endpoint::File, Fault::CutUnannounced { after_bytes: SIZE / 2 }));
    let err = download(&studio, &task).await.unwrap_err();
    assert_eq!(err.code(), "corrupt_download", "{err}");
    let t = tasks::get(studio.db(), task.id).unwrap();
    assert!(!t.downloads_done, "still pending, so it is fetched again");
    assert!(library::results_for_task(studio.db(), task.id).unwrap().is_empty());
    assert!(media_files(&studio).is_empty(), "nothing kept under any name: {:?}", media_files(&studio));
    // The next pass gets the whole file.
    download(&studio, &t).await.unwrap();
    let rows = library::results_for_task(studio.db(), task.id).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].size, Some(SIZE as i64));
    assert_eq!(media_files(&studio), vec![format!("task-{}-0.mp4", task.id)]);
}

#[tokio::test]
async fn an_endless_video_is_stopped_at_its_cap() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = studio_with(&sim, dir.path(), |c| c.max_video_bytes = 1 << 20);
    let task = succeeded(&studio, &video_result(&synthetic(&sim)));
    sim.push_fault(FaultRule::new(Endpoint::File, Fault::EndlessBody));
    let err = download(&studio, &task).await.unwrap_err();
    assert_eq!(err.code(), "unexpected_response", "{err}");
    assert!(err.to_string().contains("1 MiB"), "{err}");
    assert_eq!(sim.stats().file_gets, 1, "not retried at once: the same answer would come");
    let on_disk: u64 = files_under(studio.paths().root()).iter().map(|p| std::fs::metadata(p).unwrap().len()).sum();
    assert!(on_disk <= (1 << 20) + (4 << 20), "at most the cap (and the database) on disk: {on_disk}");
    assert!(media_files(&studio).is_empty(), "nothing kept to be resumed: {:?}", media_files(&studio));
    assert!(library::results_for_task(studio.db(), task.id).unwrap().is_empty());
}

#[tokio::test]
async fn a_task_brings_in_at_most_ten_results() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = studio_with(&sim, dir.path(), |_| {});
    // A result stored before records were capped (or written by hand) still brings in ten.
    let result = TaskResult { result_urls: vec![synthetic(&sim); 50], ..Default::default() };
    let task = succeeded(&studio, &result);
    download(&studio, &task).await.unwrap();
    assert_eq!(library::results_for_task(studio.db(), task.id).unwrap().len(), MAX_RESULT_URLS);
    assert_eq!(sim.stats().file_gets, MAX_RESULT_URLS as u64);
    assert!(tasks::get(studio.db(), task.id).unwrap().downloads_done);
}

#[tokio::test]
async fn a_plain_http_result_link_from_kie_is_refused() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Talking to Kie itself (https), a result link on plain http is not fetched, loopback
    // or not.
    let studio = studio_with(&sim, dir.path(), |c| c.api_base = "https://api.kie.ai".into());
    for url in [synthetic(&sim), "http://results.invalid/v.mp4".to_string()] {
        let task = succeeded(&studio, &video_result(&url));
        let err = download(&studio, &task).await.unwrap_err();
        assert_eq!(err.code(), "unexpected_response", "{url}: {err}");
        assert!(err.to_string().contains("https"), "{err}");
    }
    assert_eq!(sim.stats().file_gets, 0);
    assert!(media_files(&studio).is_empty(), "not even an empty partial: {:?}", media_files(&studio));
}

#[tokio::test]
async fn a_recorded_file_that_no_longer_matches_its_hash_is_set_aside_and_fetched_again() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = studio_with(&sim, dir.path(), |_| {});
    // A first download into another library gives the right bytes and hash.
    let other = tempfile::tempdir().unwrap();
    let first = studio_with(&sim, other.path(), |_| {});
    let t0 = succeeded(&first, &video_result(&synthetic(&sim)));
    download(&first, &t0).await.unwrap();
    let good = final_path(&first, &t0, 0, "mp4");
    let (size, sha) = sha256_file(&good).unwrap();

    // Here: the app stopped after recording the result, before the task was marked
    // downloaded; since then the file has changed on disk (same length, one byte).
    let task = succeeded(&studio, &video_result(&synthetic(&sim)));
    let path = final_path(&studio, &task, 0, "mp4");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut bytes = std::fs::read(&good).unwrap();
    bytes[100_000] ^= 0xFF;
    std::fs::write(&path, &bytes).unwrap();
    let rel = path.strip_prefix(studio.paths().root()).unwrap().to_string_lossy().into_owned();
    let new = NewResult {
        task_id: task.id,
        idx: 0,
        kind: ResultKind::Video,
        path: Some(rel.clone()),
        size: Some(size as i64),
        sha256: Some(sha.clone()),
        source_url: Some(synthetic(&sim)),
        ..Default::default()
    };
    library::add_result(studio.db(), new, studio.now_ms()).unwrap();

    download(&studio, &task).await.unwrap();
    // The changed file is set aside, never deleted; the result is whole again.
    let bad = path.with_file_name(format!("task-{}-0.mp4.bad", task.id));
    assert_eq!(std::fs::read(&bad).unwrap(), bytes, "the changed file is kept aside");
    assert_eq!(sha256_file(&path).unwrap(), (size, sha.clone()));
    let rows = library::results_for_task(studio.db(), task.id).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].path.as_deref(), rows[0].sha256.as_deref()), (Some(rel.as_str()), Some(sha.as_str())));
    assert!(tasks::get(studio.db(), task.id).unwrap().downloads_done);
    assert_eq!(sim.stats().file_gets, 2);

    // A file that matches its hash is trusted as it is: nothing is fetched.
    let again = succeeded(&studio, &video_result(&synthetic(&sim)));
    let path = final_path(&studio, &again, 0, "mp4");
    std::fs::copy(&good, &path).unwrap();
    let rel = path.strip_prefix(studio.paths().root()).unwrap().to_string_lossy().into_owned();
    let new = NewResult {
        task_id: again.id,
        idx: 0,
        kind: ResultKind::Video,
        path: Some(rel),
        size: Some(size as i64),
        sha256: Some(sha),
        source_url: Some(synthetic(&sim)),
        ..Default::default()
    };
    library::add_result(studio.db(), new, studio.now_ms()).unwrap();
    download(&studio, &again).await.unwrap();
    assert_eq!(sim.stats().file_gets, 2);
    assert!(!path.with_file_name(format!("task-{}-0.mp4.bad", again.id)).exists());
}

#[tokio::test]
async fn a_final_file_found_cut_short_after_a_crash_is_set_aside() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = studio_with(&sim, dir.path(), |_| {});
    let whole = reqwest::get(synthetic(&sim)).await.unwrap().bytes().await.unwrap();
    // A crash after the rename, before the record, of a file that was cut short (it
    // starts with ftyp, as the whole one does).
    let task = succeeded(&studio, &video_result(&synthetic(&sim)));
    let path = final_path(&studio, &task, 0, "mp4");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &whole[..whole.len() / 2]).unwrap();
    download(&studio, &task).await.unwrap();
    let bad = path.with_file_name(format!("task-{}-0.mp4.bad", task.id));
    assert_eq!(std::fs::read(&bad).unwrap(), &whole[..whole.len() / 2]);
    assert_eq!(std::fs::read(&path).unwrap(), whole.as_ref());
    let rows = library::results_for_task(studio.db(), task.id).unwrap();
    assert_eq!(rows[0].size, Some(SIZE as i64));
    // One set aside earlier stays as it was: the next goes beside it.
    let t2 = succeeded(&studio, &video_result(&synthetic(&sim)));
    let p2 = final_path(&studio, &t2, 0, "mp4");
    let older = p2.with_file_name(format!("task-{}-0.mp4.bad", t2.id));
    std::fs::write(&older, b"set aside before").unwrap();
    std::fs::write(&p2, &whole[..1000]).unwrap();
    download(&studio, &t2).await.unwrap();
    assert_eq!(std::fs::read(&older).unwrap(), b"set aside before");
    let names = media_files(&studio);
    let bads: Vec<_> = names.iter().filter(|n| n.starts_with(&format!("task-{}-0.mp4.bad", t2.id))).collect();
    assert_eq!(bads.len(), 2, "{names:?}");
    assert_eq!(std::fs::read(&p2).unwrap(), whole.as_ref());
}

#[tokio::test]
async fn a_poster_that_does_not_decode_is_left_out() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = studio_with(&sim, dir.path(), |_| {});
    // A real task of the simulator, for its signed video and first-frame links.
    let spec = Catalogue::builtin().model("sora-2-text-to-video").unwrap();
    let kie_id = studio.client().create_task(spec, json!({"prompt": "p"}).as_object().unwrap(), None).await.unwrap();
    let result = loop {
        match studio.client().record_info(Protocol::Jobs, &kie_id).await {
            Ok(rec) if rec.is_final() => break rec.result.unwrap(),
            _ => tokio::time::sleep(Duration::from_millis(30)).await,
        }
    };
    assert!(result.first_frame_url.is_some());
    let task = succeeded(&studio, &result);
    // The video comes whole; the first frame is cut short, without a length.
    sim.push_fault(FaultRule::new(Endpoint::File, Fault::Slow { ms: 0 }));
    sim.push_fault(FaultRule::new(Endpoint::File, Fault::CutUnannounced { after_bytes: 3000 }));
    download(&studio, &task).await.unwrap();
    let rows = library::results_for_task(studio.db(), task.id).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].poster_path, None, "a broken poster is not kept");
    let posters = files_under(&studio.paths().root().join(paths::POSTERS_DIR));
    assert!(posters.is_empty(), "{posters:?}");
    assert_eq!(sim.stats().file_gets, 2);
}

/// A finished task of the simulator, with its signed video and first-frame links.
async fn sim_result(studio: &Studio) -> TaskResult {
    let spec = Catalogue::builtin().model("sora-2-text-to-video").unwrap();
    let kie_id = studio.client().create_task(spec, json!({"prompt": "p"}).as_object().unwrap(), None).await.unwrap();
    loop {
        match studio.client().record_info(Protocol::Jobs, &kie_id).await {
            Ok(rec) if rec.is_final() => break rec.result.unwrap(),
            _ => tokio::time::sleep(Duration::from_millis(30)).await,
        }
    }
}

/// The poster's thumb for the gallery grid is made as the poster lands, and the result
/// the window hears of carries it.
#[tokio::test]
async fn a_poster_that_lands_gets_its_thumb() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = studio_with(&sim, dir.path(), |_| {});
    let mut events = studio.subscribe();
    let task = succeeded(&studio, &sim_result(&studio).await);
    download(&studio, &task).await.unwrap();
    let rows = library::results_for_task(studio.db(), task.id).unwrap();
    let thumb = format!("thumbs/task-{}-poster.jpg", task.id);
    assert_eq!(rows[0].poster_path, Some(format!("posters/task-{}-poster.jpg", task.id)));
    assert_eq!(rows[0].thumb_path.as_deref(), Some(thumb.as_str()));
    let path = studio.paths().resolve(&thumb).unwrap();
    assert!(studio::thumbs::is_sound(&path));
    // The simulator's frame is 320×180: the 1× thumb is tile-sized, the HiDPI one keeps the
    // frame's size (not blown up).
    let size = |p: &std::path::Path| {
        let img = image::ImageReader::open(p).unwrap().with_guessed_format().unwrap().decode().unwrap();
        (img.width(), img.height())
    };
    assert_eq!(size(&path), (256, 144));
    let hidpi = rows[0].thumb_hidpi_path.as_deref().expect("a HiDPI thumb");
    assert_eq!(hidpi, format!("thumbs/task-{}-poster@2x.jpg", task.id));
    assert_eq!(size(&studio.paths().resolve(hidpi).unwrap()), (320, 180));
    let added = loop {
        match events.try_recv() {
            Ok(studio::events::StudioEvent::ResultAdded { result }) => break result,
            Ok(_) => {}
            Err(e) => panic!("no result_added: {e:?}"),
        }
    };
    assert_eq!(added.thumb_path.as_deref(), Some(thumb.as_str()));
}

/// A thumb that cannot be made (here: `thumbs` is a file, not a folder) fails nothing: the
/// result and its poster are in, the grid shows the poster.
#[tokio::test]
async fn a_thumb_that_cannot_be_made_does_not_fail_the_download() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = studio_with(&sim, dir.path(), |_| {});
    let thumbs = studio.paths().thumbs_dir();
    std::fs::remove_dir(&thumbs).unwrap();
    std::fs::write(&thumbs, b"in the way").unwrap();
    let task = succeeded(&studio, &sim_result(&studio).await);
    download(&studio, &task).await.unwrap();
    let rows = library::results_for_task(studio.db(), task.id).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(rows[0].poster_path.is_some());
    assert_eq!(rows[0].thumb_path, None, "not made: the backfill or a rescan tries again");
    assert!(tasks::get(studio.db(), task.id).unwrap().downloads_done);
}
