//! Issue 13 end to end, in the real window with the demo (its own simulated Kie: 1 s between
//! creates, 8 s per video): four prompts pasted into the batch panel, reviewed as a table with
//! the total, started; the batch in the queue until all four are sent and have landed; the
//! gallery filtered to the batch; the spend screen's chart drawn, with the total in credits.

use std::time::Duration;

use e2e::{App, Launch};
use kie_sim::{Sim, SimConfig};
use serde_json::Value;

const PROMPTS: [&str; 4] = [
    "a red fox in fresh snow",
    "an owl at dusk over a quiet field",
    "a paper boat in the rain",
    "waves on a quiet beach",
];

/// Run a script in the page; its value as JSON.
async fn js(app: &App, script: &str) -> Value {
    app.client.execute(script, vec![]).await.unwrap_or_else(|e| panic!("{script}: {e}"))
}

/// The ids of the result tiles in the DOM.
async fn tiles(app: &App) -> usize {
    js(
        app,
        "return Array.from(document.querySelectorAll('[data-testid^=\"result-\"]'))\
         .filter(e => /^result-[0-9]+$/.test(e.getAttribute('data-testid'))).length",
    )
    .await
    .as_u64()
    .unwrap() as usize
}

/// The batch rows in the queue: their ids.
async fn batch_ids(app: &App) -> Vec<i64> {
    let v = js(
        app,
        "return Array.from(document.querySelectorAll('[data-testid^=\"batch-\"][data-state]'))\
         .map(e => Number(e.getAttribute('data-testid').slice(6)))",
    )
    .await;
    v.as_array().unwrap().iter().filter_map(Value::as_i64).collect()
}

#[tokio::test]
async fn four_prompts_are_reviewed_started_land_and_show_in_the_spend_chart() {
    // The real Kie stand-in, untouched: the demo brings its own.
    let sim = Sim::start(SimConfig { key: "e2e-batches-key-1313".into(), ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = App::launch(&Launch::new(&dir.path().join("library"), &sim, "batches")).await;
    app.click("try-demo").await;
    app.el("demo-badge").await;
    app.click("nav-create").await;
    app.click("model-option-sora-2-text-to-video").await;
    app.el("model-form").await;

    // Paste the list, review it: a table of four, priced, and the total.
    app.click("batch-open").await;
    app.el("batch-panel").await;
    // Typed as a user would, Enter between lines (WebDriver's Enter key: a bare "\n" is dropped).
    app.fill("batch-text", &PROMPTS.join("\u{E007}")).await;
    assert_eq!(app.value("batch-text").await, PROMPTS.join("\n"));
    app.click("batch-review").await;
    app.visible("batch-table").await;
    let rows = js(&app, "return document.querySelectorAll('[data-testid=\"batch-table\"] tbody tr').length").await;
    assert_eq!(rows.as_u64(), Some(4));
    let total = app.text("batch-total").await;
    assert!(total.starts_with("4 items, about ") && total.contains("credits in all"), "{total}");
    assert_eq!(app.text("batch-start").await, "Start 4 items");
    // The review and its Start button in view together; bringing it into view scrolls the
    // form, never the window's frame (hidden words placed against the page once made it
    // scrollable: the model list's, the review's caption).
    app.visible("batch-start").await;
    let frame = js(&app, "return [document.documentElement.scrollTop, document.body.scrollTop]").await;
    assert_eq!(frame, serde_json::json!([0, 0]), "the window's frame scrolled");
    // The variations choice shows its words whole ("1 video", not "1 v").
    let fits = js(
        &app,
        "const s = document.querySelector('[data-testid=\"variations\"]');
         const probe = document.createElement('span');
         probe.style.font = getComputedStyle(s).font;
         probe.style.position = 'fixed';
         probe.textContent = [...s.options].map((o) => o.text).sort((a, b) => b.length - a.length)[0];
         document.body.append(probe);
         const text = probe.getBoundingClientRect().width;
         probe.remove();
         return s.clientWidth - parseFloat(getComputedStyle(s).paddingLeft) - parseFloat(getComputedStyle(s).paddingRight) >= text - 1;",
    )
    .await;
    assert_eq!(fits, Value::Bool(true), "the variations choice is cut off");
    app.screenshot("issue13-01-batch-review").await;

    // Start: the batch in the queue, its four tasks sent one by one, then landed.
    app.click("batch-start").await;
    app.el("batch-started").await;
    app.wait_for("the batch in the queue", Duration::from_secs(10), || async { batch_ids(&app).await.len() == 1 })
        .await;
    let batch = batch_ids(&app).await[0];
    let row = format!("batch-{batch}");
    app.wait_for("four tasks", Duration::from_secs(20), || async { app.task_ids().await.len() == 4 }).await;
    for id in app.task_ids().await {
        app.wait_task_ready(id, Duration::from_secs(60)).await;
    }
    app.wait_attr(&row, "data-state", "done", Duration::from_secs(10)).await;
    assert!(app.text(&row).await.contains("All sent"));
    let figures = app.text(&format!("{row}-figures")).await;
    assert!(figures.starts_with("4 of 4 sent"), "{figures}");
    app.visible(&row).await;
    app.screenshot("issue13-02-queue-batch").await;

    // The gallery, by the batch: its four.
    app.click(&format!("{row}-show")).await;
    app.el("gallery").await;
    app.el("gallery-filter-batch").await;
    app.wait_for("the batch's four results", Duration::from_secs(10), || async { tiles(&app).await == 4 }).await;
    assert!(app.text("gallery-count").await.contains('4'));
    app.wait_for("the posters", Duration::from_secs(15), || async {
        let v = js(
            &app,
            "const imgs = [...document.querySelectorAll('[data-testid^=\"result-\"] img')];
             return imgs.length === 4 && imgs.every((i) => i.complete && i.naturalWidth > 0);",
        )
        .await;
        v == Value::Bool(true)
    })
    .await;
    app.screenshot("issue13-03-gallery-batch").await;

    // The spend screen: the chart drawn (a canvas with size and bars in the first model's
    // colour), the total in credits.
    app.click("nav-spend").await;
    app.el("spend").await;
    app.wait_for("the spend total", Duration::from_secs(10), || async {
        let t = app.text("spend-total").await;
        t.contains("credits") && !t.starts_with("0 credits")
    })
    .await;
    app.wait_for("the chart's bars", Duration::from_secs(10), || async {
        let drawn = js(
            &app,
            "const c = document.querySelector('[data-testid=\"spend-chart\"]');
             if (!c || c.width === 0 || c.height === 0) return 0;
             const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
             let n = 0;
             for (let i = 0; i < d.length; i += 4) {
               if (d[i + 3] > 200 && Math.abs(d[i] - 0x4a) < 12 && Math.abs(d[i + 1] - 0x5b) < 12 && Math.abs(d[i + 2] - 0xd4) < 12) n++;
             }
             return n;",
        )
        .await;
        drawn.as_u64().unwrap_or(0) > 100
    })
    .await;
    let size = js(
        &app,
        "const r = document.querySelector('[data-testid=\"spend-chart\"]').getBoundingClientRect(); return [r.width, r.height]",
    )
    .await;
    let (w, h) = (size[0].as_f64().unwrap(), size[1].as_f64().unwrap());
    assert!(w > 300.0 && h > 200.0, "the chart is {w}×{h}");
    // Under the model's name, as the queue and gallery say it.
    let row = app.text("spend-model-row").await;
    assert!(row.starts_with("Sora 2 – Text to video"), "{row}");
    app.screenshot("issue13-04-spend").await;
    app.quit().await;
    assert_eq!(sim.stats().creates_received, 0, "the demo never touched the real Kie stand-in");
}
