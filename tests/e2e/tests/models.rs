//! Issue 9 end to end, in the real window against the simulator: Kling 3.0 picked from its
//! family, its price following length, quality and sound as they change, made, and found
//! in the gallery; and a model Kie has paused, said so with the date, with a live
//! alternative one click away, nothing sent again on its own.

use std::time::Duration;

use e2e::{App, Launch};
use kie_sim::{Sim, SimConfig};

const KEY: &str = "e2e-test-key-9999";
const KLING: &str = "kling-3.0/video";

fn sim_config() -> SimConfig {
    SimConfig { key: KEY.into(), gen_ms: 1200, invisible_ms: 200, ..SimConfig::default() }
}

async fn wait_price(app: &App, credits: &str) {
    let want = format!("{credits} credits");
    app.wait_for(&format!("the price {want}"), Duration::from_secs(10), || async {
        app.text("cost-estimate").await.contains(&want)
    })
    .await;
}

#[tokio::test]
async fn kling_3_prices_as_it_is_filled_and_lands_in_the_gallery() {
    let sim = Sim::start(sim_config()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let launch = Launch::new(&dir.path().join("library"), &sim, "kling").with_key(KEY);
    let app = App::launch(&launch).await;
    app.click("nav-create").await;
    // The picker: families, Sora first, Kling among them.
    app.el("model-family-Sora").await;
    app.el("model-family-Kling").await;
    app.fill("model-search", "kling 3").await;
    app.click(&format!("model-option-{KLING}")).await;
    app.wait_attr("model-form", "data-model", KLING, Duration::from_secs(10)).await;
    app.screenshot("issue9-01-kling-picked").await;

    app.fill("input-prompt", "a paper lantern drifts over a night market").await;
    // Pro quality, 5 s, no sound: 18 credits a second.
    wait_price(&app, "90").await;
    app.select("input-duration", "10 s").await;
    wait_price(&app, "180").await;
    if app.exists("input-mode-std").await {
        app.click("input-mode-std").await;
    } else {
        app.select("input-mode", "Standard (720p)").await;
    }
    wait_price(&app, "140").await;
    app.click("input-sound").await;
    wait_price(&app, "200").await;
    app.screenshot("issue9-02-kling-priced").await;

    let id = app.submit_new_task().await;
    app.wait_task_ready(id, Duration::from_secs(60)).await;

    // Sent as Kie's schema wants it: the length a string, sound a boolean.
    let db = studio::Db::open(&dir.path().join("library").join("library.db"), 0).unwrap();
    let task = studio::tasks::get(&db, id).unwrap();
    assert_eq!(task.model, KLING);
    assert_eq!(task.credits_estimated, Some(200.0));
    let record = sim.task(task.kie_task_id.as_deref().unwrap()).unwrap();
    let param: serde_json::Value = serde_json::from_str(record["param"].as_str().unwrap()).unwrap();
    assert_eq!(param["input"]["duration"], "10");
    assert_eq!(param["input"]["mode"], "std");
    assert_eq!(param["input"]["sound"], true);

    app.click("nav-gallery").await;
    app.wait_for("the Kling video in the gallery", Duration::from_secs(15), || async { app.exists("result-1").await })
        .await;
    app.click("result-1").await;
    app.wait_for("its details", Duration::from_secs(10), || async {
        // The model's own settings, by their labels (values may hold a no-break space).
        let text = app.text("detail").await.replace(['\u{a0}', '\u{202f}'], " ");
        text.contains("Length")
            && text.contains("10 s")
            && text.contains("Standard (720p)")
            && text.contains("200 credits")
    })
    .await;
    app.screenshot("issue9-03-kling-in-gallery").await;
    app.quit().await;
}

#[tokio::test]
async fn a_paused_model_says_so_and_offers_a_live_alternative() {
    let sora = "sora-2-text-to-video";
    let sim = Sim::start(SimConfig { paused: vec![sora.into()], ..sim_config() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let launch = Launch::new(&dir.path().join("library"), &sim, "paused").with_key(KEY);
    let app = App::launch(&launch).await;
    app.click("nav-create").await;
    app.click(&format!("model-option-{sora}")).await;
    app.wait_attr("model-form", "data-model", sora, Duration::from_secs(10)).await;
    app.fill("input-prompt", "a red fox running through fresh snow").await;
    app.click("submit").await;

    // Kie's answer, remembered with the date, on the form and the picker.
    app.wait_for("the paused notice", Duration::from_secs(20), || async {
        app.exists("model-status").await && app.text("model-status").await.contains("Kie said this model was paused on")
    })
    .await;
    app.el(&format!("model-status-{sora}")).await;
    app.screenshot("issue9-04-paused").await;
    let alternative = app.attr("try-alternative", "data-model").await.expect("an alternative is offered");
    assert_ne!(alternative, sora);

    // One click: the alternative's form, with the prompt carried over. Nothing was re-sent.
    app.click("try-alternative").await;
    app.wait_attr("model-form", "data-model", &alternative, Duration::from_secs(10)).await;
    assert_eq!(app.value("input-prompt").await, "a red fox running through fresh snow");
    app.screenshot("issue9-05-alternative").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let s = sim.stats();
    assert_eq!((s.creates_received, s.tasks_created), (1, 0), "the paused create was sent once and never again");
    app.quit().await;
}
