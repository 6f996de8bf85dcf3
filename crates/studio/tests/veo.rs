//! Veo through the engine, against the simulator: a task submitted through the journal is
//! created with Veo's flat body, polled to success and downloaded; its free 1080p copy is
//! fetched on request into the library beside it; failures are recorded.

mod common;

use std::time::Duration;

use common::*;
use kie::catalogue::{Catalogue, Protocol};
use kie::media::MediaKind;
use kie_sim::{Endpoint, Fault, FaultRule, Sim, SimConfig};
use serde_json::{json, Map, Value};
use studio::downloader::{sha256_file, HdPolicy};
use studio::events::StudioEvent;
use studio::library::{self, ResultKind, HD_IDX_OFFSET};
use studio::poller::Until;
use studio::tasks::{self, TaskAction, TaskStatus};
use studio::{ApiErrorCode, Studio, StudioError};

fn input(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

/// A Veo model, found by its protocol (no model id in the code).
fn veo_model() -> String {
    Catalogue::builtin().models.iter().find(|m| m.protocol == Protocol::Veo).expect("a Veo model").id.clone()
}

fn quick_hd() -> HdPolicy {
    HdPolicy {
        first_wait: Duration::from_millis(40),
        max_wait: Duration::from_millis(120),
        give_up_after: Duration::from_secs(5),
    }
}

async fn run_until_done(studio: &Studio, id: i64) {
    tokio::time::timeout(Duration::from_secs(20), studio.poller().run(Until::TaskDone(id)))
        .await
        .expect("the task finished in time")
        .unwrap();
}

/// The file of a result is in the library, and is what the row says.
fn assert_verified(studio: &Studio, row: &library::ResultRow) {
    let path = studio.paths().resolve(row.path.as_deref().expect("a file")).unwrap();
    let (size, sha) = sha256_file(&path).unwrap();
    assert_eq!((Some(size as i64), Some(sha)), (row.size, row.sha256.clone()));
    assert_eq!(MediaKind::sniff(&std::fs::read(&path).unwrap()), Some(MediaKind::Mp4));
}

fn no_partials(studio: &Studio) {
    let partials: Vec<_> =
        files_under(studio.paths().root()).into_iter().filter(|p| p.to_string_lossy().ends_with(".partial")).collect();
    assert!(partials.is_empty(), "partial files left: {partials:?}");
}

#[tokio::test]
async fn a_veo_task_is_polled_downloaded_and_its_1080p_copy_fetched() {
    let sim = Sim::start(SimConfig { hd_ready_after: Duration::from_millis(250), ..sim_config() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    let model = veo_model();
    let task = studio
        .journal()
        .submit(&model, &input(json!({"prompt": "a paper crane takes flight", "resolution": "720p"})))
        .await
        .unwrap();
    assert_eq!(task.status, TaskStatus::Running, "{task:?}");
    let kie_id = task.kie_task_id.clone().unwrap();
    // Sent as Veo's flat body: the stored input beside the model.
    let param: Value = serde_json::from_str(sim.task(&kie_id).unwrap()["paramJson"].as_str().unwrap()).unwrap();
    let mut want = task.input.clone();
    want.insert("model".into(), json!(model));
    assert_eq!(param, Value::Object(want));

    run_until_done(&studio, task.id).await;
    let t = tasks::get(studio.db(), task.id).unwrap();
    assert_eq!((t.status, t.downloads_done), (TaskStatus::Succeeded, true), "{t:?}");
    assert_eq!(t.actions, vec![TaskAction::GetHd], "the 1080p copy is offered");
    let results = library::results_for_task(studio.db(), task.id).unwrap();
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!((results[0].idx, results[0].kind), (0, ResultKind::Video));
    assert_verified(&studio, &results[0]);

    // Ask for the 1080p copy: Kie says "processing" for a while, then gives the link.
    let mut events = studio.subscribe();
    let hd = studio.downloader().fetch_hd(task.id, quick_hd()).await.unwrap();
    assert_eq!((hd.task_id, hd.idx, hd.kind), (task.id, HD_IDX_OFFSET, ResultKind::Video));
    assert_eq!(hd.text_json, Some(json!({"hd_of": 0, "resolution": "1080p"})));
    assert!(hd.path.as_deref().unwrap().ends_with(&format!("task-{}-1000.mp4", task.id)), "{hd:?}");
    assert_verified(&studio, &hd);
    assert!(sim.stats().hd_queries >= 2, "asked again while processing: {:?}", sim.stats());
    no_partials(&studio);
    let results = library::results_for_task(studio.db(), task.id).unwrap();
    assert_eq!(results.iter().map(|r| r.idx).collect::<Vec<_>>(), vec![0, HD_IDX_OFFSET]);
    // The gallery shows it (as a video of the task), and heard about it.
    let gallery = library::list_results(studio.db(), &library::ResultQuery::default()).unwrap();
    assert_eq!(gallery.len(), 2);
    let (mut added, mut actions) = (false, None);
    while let Ok(ev) = events.try_recv() {
        match ev {
            StudioEvent::ResultAdded { result } => added |= result.id == hd.id,
            StudioEvent::TaskChanged { task: t } if t.id == task.id => actions = Some(t.actions),
            _ => {}
        }
    }
    assert!(added, "result_added was emitted");
    assert_eq!(actions, Some(vec![]), "task_changed: no longer offered");
    assert_eq!(tasks::get(studio.db(), task.id).unwrap().actions, vec![]);

    // Asking again changes nothing and asks Kie nothing.
    let queries = sim.stats().hd_queries;
    assert_eq!(studio.downloader().fetch_hd(task.id, quick_hd()).await.unwrap(), hd);
    assert_eq!(sim.stats().hd_queries, queries);
    // Nothing paid was sent again.
    assert_eq!((sim.stats().creates_received, sim.stats().tasks_created), (1, 1));
}

#[tokio::test]
async fn the_1080p_wait_gives_up_in_plain_words_and_stays_offered() {
    let sim = Sim::start(SimConfig { hd_ready_after: Duration::from_secs(60), ..sim_config() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    let task = studio.journal().submit(&veo_model(), &input(json!({"prompt": "a lighthouse at night"}))).await.unwrap();
    run_until_done(&studio, task.id).await;

    let patient = HdPolicy { give_up_after: Duration::from_millis(600), ..quick_hd() };
    let first = {
        let studio = studio.clone();
        tokio::spawn(async move { studio.downloader().fetch_hd(task.id, patient).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // One fetch per task at a time.
    let twice = studio.downloader().fetch_hd(task.id, quick_hd()).await.unwrap_err();
    assert_eq!(twice.code(), ApiErrorCode::Refused, "{twice}");
    let err = first.await.unwrap().unwrap_err();
    assert_eq!(err.code(), ApiErrorCode::Timeout, "{err}");
    assert!(err.to_string().contains("still making the 1080p copy"), "{err}");
    assert!(sim.stats().hd_queries >= 3, "{:?}", sim.stats());
    assert_eq!(library::results_for_task(studio.db(), task.id).unwrap().len(), 1);
    assert_eq!(tasks::get(studio.db(), task.id).unwrap().actions, vec![TaskAction::GetHd], "still offered");
    // The claim was released: a later ask is allowed (and a Kie error is passed on).
    sim.push_fault(FaultRule::new(Endpoint::VeoHd, Fault::Code { code: 401, msg: "bad key".into() }));
    let err = studio.downloader().fetch_hd(task.id, quick_hd()).await.unwrap_err();
    assert_eq!(err.code(), ApiErrorCode::Unauthorized, "{err}");
}

#[tokio::test]
async fn only_finished_veo_videos_below_1080p_have_an_hd_copy() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    let refused = |r: Result<library::ResultRow, StudioError>| {
        let e = r.unwrap_err();
        assert_eq!(e.code(), ApiErrorCode::Refused, "{e}");
        e.to_string()
    };

    let sora = studio.journal().submit("sora-2-text-to-video", &input(json!({"prompt": "a fox"}))).await.unwrap();
    run_until_done(&studio, sora.id).await;
    assert!(!tasks::get(studio.db(), sora.id).unwrap().actions.contains(&TaskAction::GetHd));
    assert!(refused(studio.downloader().fetch_hd(sora.id, quick_hd()).await).contains("only Veo"));

    let full_hd =
        studio.journal().submit(&veo_model(), &input(json!({"prompt": "a fox", "resolution": "1080p"}))).await.unwrap();
    let running = refused(studio.downloader().fetch_hd(full_hd.id, quick_hd()).await);
    assert!(running.contains("running"), "{running}");
    run_until_done(&studio, full_hd.id).await;
    assert_eq!(tasks::get(studio.db(), full_hd.id).unwrap().actions, vec![]);
    assert!(refused(studio.downloader().fetch_hd(full_hd.id, quick_hd()).await).contains("1080p or more"));
    assert_eq!(sim.stats().hd_queries, 0, "nothing was asked of Kie");
    assert!(
        matches!(studio.downloader().fetch_hd(9999, quick_hd()).await, Err(e) if e.code() == ApiErrorCode::NotInLibrary)
    );
}

#[tokio::test]
async fn veo_failures_are_recorded() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    for (fault, flag) in [
        (Fault::FailGeneration { code: "400".into(), msg: "The prompt was flagged".into() }, 2),
        (Fault::FailUpstream { code: "501".into(), msg: "Generation failed upstream".into() }, 3),
    ] {
        sim.push_fault(FaultRule::new(Endpoint::Create, fault.clone()));
        let t = studio.journal().submit(&veo_model(), &input(json!({"prompt": "a storm"}))).await.unwrap();
        run_until_done(&studio, t.id).await;
        assert_eq!(sim.task(t.kie_task_id.as_deref().unwrap()).unwrap()["successFlag"], flag);
        let t = tasks::get(studio.db(), t.id).unwrap();
        assert_eq!(t.status, TaskStatus::Failed, "{fault:?}");
        let (Fault::FailGeneration { code, msg } | Fault::FailUpstream { code, msg }) = fault else { unreachable!() };
        assert_eq!((t.fail_code, t.fail_message), (Some(code), Some(msg)));
        assert_eq!(t.actions, vec![TaskAction::Resubmit]);
    }
}

#[tokio::test]
async fn a_task_whose_model_left_the_catalogue_polls_as_jobs() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let studio = open_studio(&sim, dir.path());
    assert_eq!(studio.protocol_of("a-model-no-longer-in-the-catalogue"), Protocol::Jobs);
    assert_eq!(studio.protocol_of(&veo_model()), Protocol::Veo);
    // A jobs task recorded under a model name the catalogue no longer has is still polled
    // (through the jobs API) to the end.
    let t = studio.journal().submit("sora-2-text-to-video", &input(json!({"prompt": "p"}))).await.unwrap();
    studio.db().with(|c| Ok(c.execute("UPDATE tasks SET model = 'retired-model' WHERE id = ?1", [t.id])?)).unwrap();
    run_until_done(&studio, t.id).await;
    assert_eq!(tasks::get(studio.db(), t.id).unwrap().status, TaskStatus::Succeeded);
}
