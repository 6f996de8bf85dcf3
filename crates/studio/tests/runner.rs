//! The engine against the simulator, in-process: submit (journal), poll (poller), download
//! into the library (downloader), resume after a restart, every kind of failure, and
//! verified files.

mod common;

use std::time::Duration;

use common::*;
use kie::media::MediaKind;
use kie::TaskResult;
use kie_sim::{Endpoint, Fault, FaultRule, Sim, SimConfig};
use serde_json::{json, Map, Value};
use studio::downloader::sha256_file;
use studio::library::{self, ResultKind};
use studio::poller::Until;
use studio::tasks::{self, TaskStatus};
use studio::{characters, Studio};

fn input(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

async fn run_until_done(studio: &Studio, id: i64) {
    tokio::time::timeout(Duration::from_secs(20), studio.poller().run(Until::TaskDone(id)))
        .await
        .expect("the task finished in time")
        .unwrap();
}

/// The files of a task are in the library, verified, and nothing partial is left.
fn assert_in_library(studio: &Studio, id: i64) {
    let t = tasks::get(studio.db(), id).unwrap();
    assert_eq!(t.status, TaskStatus::Succeeded, "{t:?}");
    assert!(t.downloads_done);
    let results = library::results_for_task(studio.db(), id).unwrap();
    let videos: Vec<_> = results.iter().filter(|r| r.kind == ResultKind::Video).collect();
    assert_eq!(videos.len(), 1, "{results:?}");
    let v = videos[0];
    let path = studio.paths().resolve(v.path.as_deref().unwrap()).unwrap();
    let (size, sha) = sha256_file(&path).unwrap();
    assert_eq!(Some(size as i64), v.size);
    assert_eq!(Some(sha), v.sha256);
    let head = std::fs::read(&path).unwrap();
    assert_eq!(MediaKind::sniff(&head), Some(MediaKind::Mp4));
    let partials: Vec<_> =
        files_under(studio.paths().root()).into_iter().filter(|p| p.to_string_lossy().ends_with(".partial")).collect();
    assert!(partials.is_empty(), "partial files left: {partials:?}");
}

#[tokio::test]
async fn a_prompt_becomes_a_verified_file_with_a_poster() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    let mut events = studio.subscribe();
    let task =
        studio.journal().submit("sora-2-text-to-video", &input(json!({"prompt": "a fox in the snow"}))).await.unwrap();
    assert_eq!(task.status, TaskStatus::Running);
    assert!(task.kie_task_id.is_some());
    assert_eq!(task.credits_estimated, Some(30.0));
    run_until_done(&studio, task.id).await;
    assert_in_library(&studio, task.id);
    let t = tasks::get(studio.db(), task.id).unwrap();
    assert_eq!(t.credits_consumed, Some(30.0));
    let r = &library::results_for_task(studio.db(), task.id).unwrap()[0];
    let poster = studio.paths().resolve(r.poster_path.as_deref().expect("a poster")).unwrap();
    assert!(MediaKind::sniff(&std::fs::read(poster).unwrap()).unwrap().is_image());
    // Subscribers heard the task move and the result arrive.
    let mut kinds = Vec::new();
    while let Ok(ev) = events.try_recv() {
        kinds.push(serde_json::to_value(&ev).unwrap()["type"].as_str().unwrap().to_string());
    }
    assert!(kinds.contains(&"task_changed".to_string()) && kinds.contains(&"result_added".to_string()), "{kinds:?}");
    // Search finds it by its prompt.
    let found = library::list_results(
        studio.db(),
        &library::ResultQuery { search: Some("fox sno".into()), ..Default::default() },
    )
    .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(sim.stats().creates_received, 1);
}

#[tokio::test]
async fn a_restart_resumes_polling_and_downloading() {
    let sim = Sim::start(SimConfig { gen_ms: 400, ..sim_config() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let id = {
        let studio = open_studio(&sim, dir.path());
        let t = studio.journal().submit("sora-2-text-to-video", &input(json!({"prompt": "p"}))).await.unwrap();
        t.id
        // The app closes here, before any poll.
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let studio = open_studio(&sim, dir.path());
    tokio::time::timeout(Duration::from_secs(20), studio.poller().run(Until::Idle)).await.unwrap().unwrap();
    assert_in_library(&studio, id);
    assert_eq!(sim.stats().creates_received, 1);
}

#[tokio::test]
async fn a_lost_create_response_is_outcome_unknown_and_never_resent() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    for fault in [Fault::LoseResponse, Fault::HttpStatus { status: 502 }, Fault::Slow { ms: 2500 }] {
        let before = sim.stats();
        sim.push_fault(FaultRule::new(Endpoint::Create, fault.clone()).times(3));
        let t = studio.journal().submit("sora-2-text-to-video", &input(json!({"prompt": "p"}))).await.unwrap();
        assert_eq!(t.status, TaskStatus::OutcomeUnknown, "{fault:?}");
        assert_eq!(t.error_code.as_deref(), Some("outcome_unknown"));
        assert!(t.fail_message.as_deref().unwrap().contains("not sent again"), "{t:?}");
        sim.clear_faults();
        // Running the poller to idle sends nothing more.
        tokio::time::timeout(Duration::from_secs(10), studio.poller().run(Until::Idle)).await.unwrap().unwrap();
        assert_eq!(sim.stats().creates_received - before.creates_received, 1, "{fault:?}");
    }
    // Resubmitting is the user's deliberate choice, and makes a new task.
    let first = tasks::list(studio.db(), &Default::default()).unwrap().last().unwrap().clone();
    let again = studio.journal().resubmit(first.id).await.unwrap();
    assert_ne!(again.id, first.id);
    assert_eq!(again.status, TaskStatus::Running);
}

#[tokio::test]
async fn refusals_and_failures_are_recorded_in_plain_words() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());

    sim.set_credits(1.0);
    let t = studio.journal().submit("sora-2-text-to-video", &input(json!({"prompt": "p"}))).await.unwrap();
    assert_eq!(t.status, TaskStatus::Failed);
    assert_eq!(t.error_code.as_deref(), Some("insufficient_credits"));
    sim.set_credits(1000.0);

    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::Paused));
    let t = studio.journal().submit("sora-2-text-to-video", &input(json!({"prompt": "p"}))).await.unwrap();
    assert_eq!((t.status, t.error_code.as_deref()), (TaskStatus::Failed, Some("model_paused")));

    sim.push_fault(FaultRule::new(
        Endpoint::Create,
        Fault::FailGeneration { code: "400".into(), msg: "Your prompt was flagged".into() },
    ));
    let t = studio.journal().submit("sora-2-text-to-video", &input(json!({"prompt": "p"}))).await.unwrap();
    run_until_done(&studio, t.id).await;
    let t = tasks::get(studio.db(), t.id).unwrap();
    assert_eq!(t.status, TaskStatus::Failed);
    assert_eq!(t.fail_message.as_deref(), Some("Your prompt was flagged"));
    assert_eq!(t.error_code.as_deref(), Some("generation_failed"));

    // Invalid input never reaches the journal or Kie.
    let err = studio.journal().submit("sora-2-text-to-video", &input(json!({"prompt": ""}))).await.unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    assert_eq!(sim.stats().creates_received, 3);
}

#[tokio::test]
async fn polls_survive_faults() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    // More consecutive failures than one call retries: the scheduler backs off and carries on.
    sim.push_fault(FaultRule::new(Endpoint::RecordInfo, Fault::HttpStatus { status: 500 }).times(6));
    sim.push_fault(FaultRule::new(Endpoint::RecordInfo, Fault::MalformedJson).times(2));
    sim.push_fault(FaultRule::new(
        Endpoint::RecordInfo,
        Fault::RateLimited { retry_after_secs: Some(0), retry_after_date: false },
    ));
    let t = studio.journal().submit("sora-2-text-to-video", &input(json!({"prompt": "p"}))).await.unwrap();
    run_until_done(&studio, t.id).await;
    assert_in_library(&studio, t.id);
}

#[tokio::test]
async fn interrupted_downloads_resume_and_expired_links_are_renewed() {
    let sim = Sim::start(SimConfig { result_size: Some(3_000_000), ..sim_config() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    sim.push_fault(FaultRule::new(Endpoint::File, Fault::ExpiredLink));
    sim.push_fault(FaultRule::new(Endpoint::File, Fault::TruncateBody { after_bytes: 1_000_000 }));
    sim.push_fault(FaultRule::new(Endpoint::File, Fault::ResetBody { after_bytes: 500_000 }));
    let t = studio.journal().submit("sora-2-pro-text-to-video", &input(json!({"prompt": "p"}))).await.unwrap();
    run_until_done(&studio, t.id).await;
    assert_in_library(&studio, t.id);
    let r = &library::results_for_task(studio.db(), t.id).unwrap()[0];
    assert_eq!(r.size, Some(3_000_000));
    assert_eq!(sim.stats().download_url_calls, 1, "one renewal of the expired link");
}

#[tokio::test]
async fn a_file_that_is_not_a_video_is_refused() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    // Kie "succeeds" with a link to an image where a video was promised.
    let png = dir.path().join("frame.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n not really a video").unwrap();
    let up = studio.client().upload_file(&png, "t", None).await.unwrap();
    let now = studio.now_ms();
    let t = tasks::insert_submitting(studio.db(), "sora-2-text-to-video", &Map::new(), None, false, now).unwrap();
    tasks::mark_submitted(studio.db(), t.id, "fake-kie-id", now).unwrap();
    let result = TaskResult { result_urls: vec![up.download_url], ..Default::default() };
    let t = tasks::mark_succeeded(studio.db(), t.id, &result, Some(30.0), now).unwrap();
    let err = studio.downloader().download_results(&t).await.unwrap_err();
    assert_eq!(err.code(), "corrupt_download");
    let t = tasks::get(studio.db(), t.id).unwrap();
    assert!(!t.downloads_done, "still pending, so nothing is lost");
    assert!(library::results_for_task(studio.db(), t.id).unwrap().is_empty());
    let media = files_under(&studio.paths().root().join("media"));
    assert!(media.is_empty(), "nothing left under any name: {media:?}");
}

#[tokio::test]
async fn a_task_kie_never_shows_goes_stale_and_can_be_checked_again() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    let now = studio.now_ms();
    let t = tasks::insert_submitting(studio.db(), "sora-2-text-to-video", &Map::new(), None, false, now).unwrap();
    tasks::mark_submitted(studio.db(), t.id, "00000000000000000000000000000000", now).unwrap();
    run_until_done(&studio, t.id).await;
    let t = tasks::get(studio.db(), t.id).unwrap();
    assert_eq!(t.status, TaskStatus::Running);
    assert!(t.stale, "given up for now, still recoverable");
    let again = studio.journal().check_again(t.id).unwrap();
    assert!(!again.stale);
}

/// A task set aside for its age is asked again when the user says so, and lands if Kie has
/// finished it (it used to be set aside again at once, without asking).
#[tokio::test]
async fn a_task_stale_by_age_checked_again_is_asked_and_lands() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = studio_config();
    cfg.poll.give_up_after_ms = 1;
    let studio = open_studio_with(&sim, dir.path(), cfg);
    let task = studio.journal().submit("sora-2-text-to-video", &input(json!({"prompt": "a fox"}))).await.unwrap();
    run_until_done(&studio, task.id).await;
    let t = tasks::get(studio.db(), task.id).unwrap();
    assert!(t.status == TaskStatus::Running && t.stale, "still generating past the give-up age: set aside");
    // Kie finishes meanwhile; the user checks again.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let before = sim.stats().record_queries;
    studio.journal().check_again(task.id).unwrap();
    run_until_done(&studio, task.id).await;
    assert!(sim.stats().record_queries > before, "Kie was asked");
    assert_in_library(&studio, task.id);
}

#[tokio::test]
async fn an_interrupted_create_is_marked_outcome_unknown_at_startup() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    let now = studio.now_ms();
    // A row another process left `submitting` (it died mid-create) ...
    let dead =
        tasks::insert_submitting(studio.db(), "sora-2-text-to-video", &Map::new(), None, false, now - 10_000).unwrap();
    // ... and one whose sender is alive and keeps its lease fresh.
    let alive = tasks::insert_submitting(studio.db(), "sora-2-text-to-video", &Map::new(), None, false, now).unwrap();
    let changed = studio.journal().recover().unwrap();
    assert_eq!(changed.iter().map(|t| t.id).collect::<Vec<_>>(), vec![dead.id]);
    assert_eq!(tasks::get(studio.db(), dead.id).unwrap().status, TaskStatus::OutcomeUnknown);
    assert_eq!(tasks::get(studio.db(), alive.id).unwrap().status, TaskStatus::Submitting);
    // The user found the id in their Kie account: tracking resumes.
    let t = studio.journal().attach_kie_id(dead.id, "found-it").unwrap();
    assert_eq!(t.status, TaskStatus::Running);
}

#[tokio::test]
async fn a_character_made_from_a_video_joins_the_registry() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    let video = studio.journal().submit("sora-2-text-to-video", &input(json!({"prompt": "a fox"}))).await.unwrap();
    run_until_done(&studio, video.id).await;
    let kie_id = video.kie_task_id.unwrap();
    let ch = studio
        .journal()
        .submit(
            "sora-2-characters-pro",
            &input(
                json!({"origin_task_id": kie_id, "character_prompt": "a clever fox", "character_user_name": "foxy", "timestamps": "0,2"}),
            ),
        )
        .await
        .unwrap();
    run_until_done(&studio, ch.id).await;
    let t = tasks::get(studio.db(), ch.id).unwrap();
    assert_eq!((t.status, t.downloads_done), (TaskStatus::Succeeded, true));
    let c = characters::get_by_handle(studio.db(), "@FOXY").unwrap().expect("registered");
    assert!(c.character_id.is_some());
    assert_eq!(c.prompt.as_deref(), Some("a clever fox"));
    assert_eq!(c.origin_task_id, Some(ch.id));
    let rows = library::results_for_task(studio.db(), ch.id).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].kind, ResultKind::Character);
}

#[tokio::test]
async fn cancel_stops_tracking() {
    let sim = Sim::start(SimConfig { gen_ms: 300, ..sim_config() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    let t = studio.journal().submit("sora-2-text-to-video", &input(json!({"prompt": "p"}))).await.unwrap();
    let c = studio.journal().cancel(t.id).unwrap();
    assert_eq!(c.status, TaskStatus::Cancelled);
    tokio::time::timeout(Duration::from_secs(5), studio.poller().run(Until::Idle)).await.unwrap().unwrap();
    assert_eq!(tasks::get(studio.db(), t.id).unwrap().status, TaskStatus::Cancelled, "not polled");
    assert_eq!(studio.client().running_tasks(), 0);
}

/// The buttons the window shows (`Task::actions`) and what the journal accepts agree: an
/// offered "check again" is never refused, and for an unknown outcome it changes nothing.
#[tokio::test]
async fn an_offered_check_again_is_never_refused() {
    use studio::tasks::TaskAction;
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    let now = studio.now_ms();
    let db = studio.db();
    let new = || tasks::insert_submitting(db, "sora-2-text-to-video", &Map::new(), None, false, now).unwrap();
    let kie_id = |n: u32| format!("{n:032x}");
    let submitting = new();
    let running = tasks::mark_submitted(db, new().id, &kie_id(1), now).unwrap();
    let stale =
        tasks::mark_stale(db, tasks::mark_submitted(db, new().id, &kie_id(2), now).unwrap().id, true, now).unwrap();
    let failed = tasks::mark_rejected(db, new().id, "insufficient_credits", "no credits", now).unwrap();
    let unknown = tasks::mark_outcome_unknown(db, new().id, "outcome_unknown", "lost", now).unwrap();
    let cancelled =
        tasks::mark_cancelled(db, tasks::mark_submitted(db, new().id, &kie_id(3), now).unwrap().id, now).unwrap();
    for t in [submitting, running, stale, failed, unknown.clone(), cancelled] {
        if t.actions.contains(&TaskAction::CheckAgain) {
            let again = studio.journal().check_again(t.id);
            assert!(again.is_ok(), "{:?} offers check again but it was refused: {again:?}", t.status);
        }
    }
    assert!(unknown.actions.contains(&TaskAction::CheckAgain));
    let again = studio.journal().check_again(unknown.id).unwrap();
    assert_eq!(again, tasks::get(db, unknown.id).unwrap());
    assert_eq!((again.status, again.next_poll_at), (TaskStatus::OutcomeUnknown, None), "nothing scheduled");
    assert_eq!(sim.stats().creates_received, 0, "nothing sent");
}
