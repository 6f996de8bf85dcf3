//! Issue 4 end to end, in the real window against the simulator: first run with a key,
//! first run with the demo, every model, a validation error that keeps the input, a failure
//! in plain words, and a task that finishes while the app is closed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use e2e::{App, Launch};
use kie_sim::{Endpoint, Fault, FaultRule, Sim, SimConfig};

const KEY: &str = "e2e-test-key-7777";

fn sim_config() -> SimConfig {
    SimConfig { key: KEY.into(), gen_ms: 1200, invisible_ms: 200, ..SimConfig::default() }
}

/// A real photo for image-to-video (the simulator's first-frame picture).
fn test_image(dir: &Path) -> PathBuf {
    let path = dir.join("holiday.jpg");
    std::fs::copy(e2e::workspace_root().join("crates/kie-sim/assets/landscape.jpg"), &path).unwrap();
    path
}

async fn choose_model(app: &App, model: &str) {
    app.click("nav-create").await;
    app.click(&format!("model-option-{model}")).await;
    app.el("model-form").await;
}

/// Submit the form and return the new task's id.
async fn submit(app: &App) -> i64 {
    app.submit_new_task().await
}

#[tokio::test]
async fn first_run_with_a_key() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let launch = Launch::new(dir.path(), &sim, "key");
    let app = App::launch(&launch).await;
    app.el("welcome").await;
    app.screenshot("issue4-01-welcome").await;

    // A key Kie rejects: said plainly, and what was typed stays.
    app.fill("key-input", "not-a-valid-key").await;
    app.click("key-save").await;
    app.el("key-error").await;
    assert_eq!(app.value("key-input").await, "not-a-valid-key");
    app.screenshot("issue4-02-welcome-bad-key").await;

    app.fill("key-input", KEY).await;
    app.click("key-save").await;
    app.el("model-form").await;
    app.wait_for("the balance", Duration::from_secs(10), || async { app.text("balance").await.contains("10") }).await;
    app.screenshot("issue4-03-create").await;

    // The key went to the keyring; the window only ever sees its last four.
    let stored = studio::keys::KeyStore::with_service(launch.keyring_service.clone()).load(|_| None).unwrap();
    assert_eq!(stored.map(|(k, _)| k.expose().to_string()), Some(KEY.to_string()));
    app.click("nav-settings").await;
    assert!(app.text("key-last4").await.contains("7777"));
    let page = app.client.source().await.unwrap();
    assert!(!page.contains(KEY), "the full key reached the web view");
    app.screenshot("issue4-04-settings").await;
    app.quit().await;
}

#[tokio::test]
async fn first_run_with_the_demo() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("library");
    let app = App::launch(&Launch::new(&lib, &sim, "demo")).await;
    app.click("try-demo").await;
    app.el("demo-badge").await;
    choose_model(&app, "sora-2-text-to-video").await;
    app.fill("input-prompt", "a paper boat on a rainy street").await;
    let id = submit(&app).await;
    app.wait_task_ready(id, Duration::from_secs(90)).await;
    app.screenshot("issue4-05-demo-ready").await;
    app.quit().await;
    // The demo never touched the real Kie stand-in, and kept its own library.
    assert_eq!(sim.stats().creates_received, 0);
    let real_tasks = if lib.join("library.db").exists() {
        let db = studio::Db::open(&lib.join("library.db"), 0).unwrap();
        studio::tasks::list(&db, &Default::default()).unwrap().len()
    } else {
        0
    };
    assert_eq!(real_tasks, 0, "demo work landed in the real library");
}

#[tokio::test]
async fn every_model_submits_and_lands_in_the_library() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let png = test_image(dir.path());
    let lib = dir.path().join("library");
    let launch = Launch::new(&lib, &sim, "models").with_key(KEY).with_env("KIE_STUDIO_E2E_PICK", png.to_str().unwrap());
    let app = App::launch(&launch).await;
    let within = Duration::from_secs(40);

    choose_model(&app, "sora-2-text-to-video").await;
    app.fill("input-prompt", "a red fox running through fresh snow").await;
    let first = submit(&app).await;
    app.wait_task_ready(first, within).await;
    app.screenshot("issue4-10-text-to-video").await;

    choose_model(&app, "sora-2-image-to-video").await;
    app.fill("input-prompt", "the photo comes alive").await;
    app.click("pick-image_urls").await;
    app.el("thumb-0").await;
    app.screenshot("issue4-11-image-to-video").await;
    let id = submit(&app).await;
    app.wait_task_ready(id, within).await;
    assert_eq!(sim.stats().uploads, 1);

    choose_model(&app, "sora-2-pro-text-to-video").await;
    app.fill("input-prompt", "a lighthouse at dusk, cinematic").await;
    app.click("input-size-high").await;
    let id = submit(&app).await;
    app.wait_task_ready(id, within).await;

    choose_model(&app, "sora-2-pro-image-to-video").await;
    app.fill("input-prompt", "slow zoom").await;
    app.click("pick-image_urls").await;
    app.el("thumb-0").await;
    let id = submit(&app).await;
    app.wait_task_ready(id, within).await;

    choose_model(&app, "sora-2-pro-storyboard").await;
    app.fill("shot-0-scene", "a kite lifts off a beach").await;
    app.fill("shot-0-duration", "4").await;
    app.click("add-shot").await;
    app.fill("shot-1-scene", "it climbs into the clouds").await;
    app.fill("shot-1-duration", "5").await;
    app.wait_for("time left", Duration::from_secs(5), || async { app.text("time-left").await.contains('1') }).await;
    app.screenshot("issue4-12-storyboard").await;
    let id = submit(&app).await;
    app.wait_task_ready(id, within).await;

    choose_model(&app, "sora-watermark-remover").await;
    app.fill("input-video_url", "https://sora.chatgpt.com/p/s_0123456789abcdef").await;
    let id = submit(&app).await;
    app.wait_task_ready(id, within).await;

    choose_model(&app, "sora-2-characters-pro").await;
    app.click("origin-video-picker").await;
    app.click(&format!("origin-video-{first}")).await;
    app.fill("input-character_prompt", "a clever red fox").await;
    app.fill("input-character_user_name", "redfox").await;
    app.fill("input-timestamps-start", "0").await;
    app.fill("input-timestamps-end", "1.5").await;
    app.screenshot("issue4-13-character").await;
    let id = submit(&app).await;
    app.wait_task_ready(id, within).await;
    app.screenshot("issue4-14-queue").await;
    app.quit().await;

    let s = sim.stats();
    assert_eq!((s.creates_received, s.tasks_created), (7, 7));
    let db = studio::Db::open(&lib.join("library.db"), 0).unwrap();
    assert!(studio::characters::get_by_handle(&db, "redfox").unwrap().is_some());
}

#[tokio::test]
async fn a_validation_error_is_shown_and_the_input_kept() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = App::launch(&Launch::new(dir.path(), &sim, "invalid").with_key(KEY)).await;
    choose_model(&app, "sora-watermark-remover").await;
    let link = "https://example.com/my-video.mp4";
    app.fill("input-video_url", link).await;
    let msg = app.text("error-video_url").await;
    assert!(msg.contains("sora.chatgpt.com"), "{msg}");
    app.click("submit").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.value("input-video_url").await, link, "the input was kept");
    assert!(app.text("error-video_url").await.contains("sora.chatgpt.com"));
    app.screenshot("issue4-20-validation").await;

    // Storyboard shots longer than the video.
    choose_model(&app, "sora-2-pro-storyboard").await;
    app.fill("shot-0-scene", "one long shot").await;
    app.fill("shot-0-duration", "30").await;
    app.wait_any(&["error-shots", "error-shots[0].duration"]).await;
    assert_eq!(app.value("shot-0-duration").await, "30");
    app.quit().await;
    assert_eq!(sim.stats().creates_received, 0, "nothing invalid was sent");
}

#[tokio::test]
async fn failures_from_kie_are_said_in_plain_words() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = App::launch(&Launch::new(dir.path(), &sim, "fail").with_key(KEY)).await;

    sim.set_credits(0.0);
    choose_model(&app, "sora-2-text-to-video").await;
    app.fill("input-prompt", "a quiet forest").await;
    let id = submit(&app).await;
    app.wait_attr(&format!("task-{id}"), "data-status", "failed", Duration::from_secs(15)).await;
    let msg = app.text(&format!("task-{id}-message")).await.to_lowercase();
    assert!(msg.contains("credits"), "{msg}");
    app.screenshot("issue4-21-no-credits").await;
    sim.set_credits(10_000.0);

    sim.push_fault(FaultRule::new(
        Endpoint::Create,
        Fault::FailGeneration { code: "400".into(), msg: "The prompt was flagged by the content filter".into() },
    ));
    let id = submit(&app).await;
    app.wait_attr(&format!("task-{id}"), "data-status", "failed", Duration::from_secs(30)).await;
    let msg = app.text(&format!("task-{id}-message")).await;
    assert!(msg.contains("flagged"), "{msg}");

    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::LoseResponse));
    let id = submit(&app).await;
    app.wait_attr(&format!("task-{id}"), "data-status", "outcome_unknown", Duration::from_secs(15)).await;
    app.el(&format!("task-{id}-resubmit")).await;
    app.screenshot("issue4-22-failures").await;
    app.quit().await;
}

#[tokio::test]
async fn a_task_that_finishes_while_the_app_is_closed_is_picked_up() {
    let sim = Sim::start(SimConfig { gen_ms: 3000, ..sim_config() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let launch = Launch::new(dir.path(), &sim, "restart").with_key(KEY);
    let app = App::launch(&launch).await;
    choose_model(&app, "sora-2-text-to-video").await;
    app.fill("input-prompt", "a clock tower at midnight").await;
    let id = submit(&app).await;
    app.quit().await;

    tokio::time::sleep(Duration::from_secs(4)).await;
    let app = App::launch(&launch).await;
    app.click("nav-create").await;
    app.wait_task_ready(id, Duration::from_secs(30)).await;
    app.screenshot("issue4-23-resumed").await;
    app.quit().await;
    assert_eq!(sim.stats().creates_received, 1);
}
