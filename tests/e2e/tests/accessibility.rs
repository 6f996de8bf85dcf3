//! Issue 14, the automated part: axe-core (from the UI's npm packages) injected into the real
//! window and run on every screen and state that matters, in the light and the dark theme.
//! A serious or critical finding fails the test; each is printed with its rule, impact, the
//! elements it found and axe's summary. What an audit cannot see (a screen reader's
//! experience, keyboard-only use) is said in docs/accessibility.md.
//!
//! One app launch per group of states: the welcome screen, a wrong key and the queue's
//! failures need a real key against the simulator; the rest is the demo.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use e2e::{App, Launch};
use kie_sim::{Endpoint, Fault, FaultRule, Sim, SimConfig};
use serde_json::{json, Value};

const KEY: &str = "e2e-a11y-key-1414";

/// The impacts that fail the audit (axe's scale: minor, moderate, serious, critical).
const FAILING: [&str; 2] = ["serious", "critical"];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Theme {
    Light,
    Dark,
}

impl Theme {
    fn name(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// The system's theme as the window sees it: WebKitGTK answers `prefers-color-scheme`
    /// from the GTK theme, so the dark run is the real dark palette, not an imitation.
    fn apply(self, launch: Launch) -> Launch {
        match self {
            Theme::Light => launch.with_env("GTK_THEME", "Adwaita"),
            Theme::Dark => launch.with_env("GTK_THEME", "Adwaita:dark"),
        }
    }
}

/// axe-core as the UI's `npm ci` installed it (pinned in ui/package.json).
fn axe_source() -> String {
    let path = e2e::workspace_root().join("ui/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} is missing ({e}): run scripts/ui-deps.sh (scripts/e2e.sh does)", path.display()))
}

/// The audits of one app launch, and what failed in them, written for a person to read.
struct Audits {
    axe: String,
    theme: Theme,
    /// (state, finding) for every failing finding.
    failures: Vec<(String, String)>,
    /// How many states were audited.
    states: usize,
}

impl Audits {
    fn new(theme: Theme) -> Audits {
        Audits { axe: axe_source(), theme, failures: Vec::new(), states: 0 }
    }

    /// Run axe on the whole document as it is now; remember what fails.
    async fn audit(&mut self, app: &App, state: &str) {
        let state = format!("{}/{state}", self.theme.name());
        // Let transitions and fades end: axe measures the colours shown.
        tokio::time::sleep(Duration::from_millis(350)).await;
        let loaded = app
            .client
            .execute("return typeof window.axe === 'object' && typeof window.axe.run === 'function'", vec![])
            .await
            .unwrap();
        if loaded != Value::Bool(true) {
            // Evaluated by the driver, not as a page script: the app's CSP allows no inline code.
            app.client.execute(&format!("{}\n;return true;", self.axe), vec![]).await.expect("axe-core loads");
        }
        // axe.run is asynchronous: start it, then poll for its answer.
        app.client
            .execute(
                "window.__a11y = null;
                 axe.run(document, {resultTypes: ['violations']}).then(
                   (r) => { window.__a11y = {ok: r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
                     nodes: v.nodes.map((n) => ({target: n.target, html: n.html.slice(0, 240), summary: n.failureSummary}))}))}; },
                   (e) => { window.__a11y = {error: String(e)}; });
                 return true;",
                vec![],
            )
            .await
            .unwrap();
        let start = Instant::now();
        let answer = loop {
            let v = app.client.execute("return window.__a11y", vec![]).await.unwrap();
            if !v.is_null() {
                break v;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "axe did not finish on {state}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        if let Some(e) = answer.get("error") {
            panic!("axe failed on {state}: {e}");
        }
        let shot = format!("a11y-{}", state.replace(['/', ' '], "-"));
        let violations = answer["ok"].as_array().cloned().unwrap_or_default();
        let mut lines = Vec::new();
        for v in &violations {
            let impact = v["impact"].as_str().unwrap_or("?");
            let nodes = v["nodes"].as_array().cloned().unwrap_or_default();
            let fails = FAILING.contains(&impact);
            lines.push(format!(
                "  {} {} ({impact}, {} element(s)): {}",
                if fails { "FAIL" } else { "note" },
                v["id"].as_str().unwrap_or("?"),
                nodes.len(),
                v["help"].as_str().unwrap_or("")
            ));
            if fails {
                for n in &nodes {
                    let summary = n["summary"].as_str().unwrap_or("").replace('\n', " / ");
                    let (target, html) = (&n["target"], n["html"].as_str().unwrap_or(""));
                    lines.push(format!("      {target} {html}\n        {summary}"));
                    self.failures.push((
                        state.clone(),
                        format!("{} ({impact}) at {target} {html}: {summary}", v["id"].as_str().unwrap_or("?")),
                    ));
                }
            }
        }
        self.states += 1;
        if lines.is_empty() {
            eprintln!("a11y {state}: no violations");
        } else {
            eprintln!("a11y {state}:\n{}", lines.join("\n"));
            app.screenshot(&shot).await;
        }
    }

    /// Fail with every serious or critical finding, grouped by state.
    fn finish(self) {
        eprintln!("a11y: {} state(s) audited in the {} theme", self.states, self.theme.name());
        if self.failures.is_empty() {
            return;
        }
        let text: Vec<String> = self.failures.iter().map(|(s, f)| format!("{s}: {f}")).collect();
        panic!("{} serious or critical accessibility finding(s):\n{}", self.failures.len(), text.join("\n"));
    }
}

/// The window's `prefers-color-scheme` is the theme asked for (else the dark run proves nothing).
async fn assert_theme(app: &App, theme: Theme) {
    let dark = app.client.execute("return matchMedia('(prefers-color-scheme: dark)').matches", vec![]).await.unwrap();
    assert_eq!(dark, Value::Bool(theme == Theme::Dark), "the window is not in the {} theme", theme.name());
}

async fn js(app: &App, script: &str) -> Value {
    app.client.execute(script, vec![]).await.unwrap()
}

async fn choose_model(app: &App, model: &str) {
    app.click(&format!("model-option-{model}")).await;
    app.wait_attr("model-form", "data-model", model, Duration::from_secs(10)).await;
}

/// Welcome, a key Kie refuses, and a queue holding a running, a failed and an
/// outcome-unknown task: the states that need a real key (the demo cannot fail).
async fn welcome_and_the_queue(theme: Theme) {
    // Generation takes long enough for the first task to be running while it is audited.
    let sim = Sim::start(SimConfig { key: KEY.into(), gen_ms: 600_000, invisible_ms: 100, ..SimConfig::default() })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let launch = theme.apply(Launch::new(dir.path(), &sim, &format!("a11y-key-{}", theme.name())));
    let app = App::launch(&launch).await;
    let mut audits = Audits::new(theme);
    assert_theme(&app, theme).await;

    app.el("welcome").await;
    app.wait_for("the model families", Duration::from_secs(10), || async { app.exists("welcome-families").await })
        .await;
    audits.audit(&app, "welcome").await;
    app.screenshot(&format!("a11y-{}-welcome", theme.name())).await;
    app.fill("key-input", "not-a-valid-key").await;
    app.click("key-save").await;
    app.el("key-error").await;
    audits.audit(&app, "welcome-key-error").await;
    app.screenshot(&format!("a11y-{}-welcome-key-error", theme.name())).await;

    app.fill("key-input", KEY).await;
    app.click("key-save").await;
    app.el("model-form").await;
    choose_model(&app, "sora-2-text-to-video").await;
    app.fill("input-prompt", "a lighthouse at dusk").await;
    let running = app.submit_new_task().await;
    app.wait_attr(&format!("task-{running}"), "data-status", "running", Duration::from_secs(20)).await;

    sim.set_credits(0.0);
    let failed = app.submit_new_task().await;
    app.wait_attr(&format!("task-{failed}"), "data-status", "failed", Duration::from_secs(15)).await;
    sim.set_credits(10_000.0);

    sim.push_fault(FaultRule::new(Endpoint::Create, Fault::LoseResponse));
    let unknown = app.submit_new_task().await;
    app.wait_attr(&format!("task-{unknown}"), "data-status", "outcome_unknown", Duration::from_secs(15)).await;
    app.screenshot(&format!("a11y-{}-queue", theme.name())).await;
    audits.audit(&app, "create-queue-running-failed-unknown").await;

    // The queue beside another screen.
    app.click("nav-gallery").await;
    app.el("gallery").await;
    app.click("nav-queue").await;
    app.el("queue").await;
    audits.audit(&app, "gallery-empty-with-queue").await;
    app.quit().await;
    audits.finish();
}

/// Every screen of the demo: each model's form (as it opens and with its problems shown), the
/// storyboard, presets, a batch's review, the queue, the gallery (full, filtered, empty), a
/// result playing, a confirm dialog, characters, spend and settings.
async fn the_demo(theme: Theme) {
    let sim = Sim::start(SimConfig { key: KEY.into(), ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let launch = theme.apply(Launch::new(dir.path(), &sim, &format!("a11y-demo-{}", theme.name())));
    let app = App::launch(&launch).await;
    let mut audits = Audits::new(theme);
    assert_theme(&app, theme).await;
    app.click("try-demo").await;
    app.el("demo-badge").await;
    app.click("nav-create").await;
    app.el("model-form").await;
    app.screenshot(&format!("a11y-{}-create", theme.name())).await;

    // Every model the picker offers.
    let models = js(
        &app,
        "return [...document.querySelectorAll('[data-testid^=\"model-option-\"]')]
           .map((e) => e.getAttribute('data-testid').slice('model-option-'.length))",
    )
    .await;
    let models: Vec<String> =
        models.as_array().unwrap().iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
    assert!(models.len() > 5, "the picker lists the models: {models:?}");
    for model in &models {
        choose_model(&app, model).await;
        audits.audit(&app, &format!("form-{model}")).await;
        // Every field: "More options" unfolded.
        if app.exists("more-options").await
            && app.attr("more-options", "aria-expanded").await.as_deref() == Some("false")
        {
            app.click("more-options").await;
            app.wait_attr("more-options", "aria-expanded", "true", Duration::from_secs(5)).await;
        }
        // An empty form sent: every problem shown under its field. (A form with nothing
        // required is sent to the demo; that is fine.)
        let before = app.task_ids().await;
        app.click("submit").await;
        app.wait_for("the form's answer", Duration::from_secs(10), || async {
            app.exists("form-error").await || app.exists("form-sent").await || app.task_ids().await != before
        })
        .await;
        audits.audit(&app, &format!("form-{model}-problems")).await;
    }

    // The storyboard with two shots.
    choose_model(&app, "sora-2-pro-storyboard").await;
    app.fill("shot-0-scene", "a kite lifts off a beach").await;
    app.fill("shot-0-duration", "4").await;
    app.click("add-shot").await;
    app.el("shot-1-scene").await;
    audits.audit(&app, "storyboard-two-shots").await;

    // Presets and a batch's review, on an everyday model.
    choose_model(&app, "sora-2-text-to-video").await;
    app.click("preset-toggle").await;
    audits.audit(&app, "presets-open").await;
    app.click("batch-open").await;
    // Two lines (WebDriver's typing drops the line break in a text area).
    let text = app.visible("batch-text").await;
    app.client
        .execute(
            "arguments[0].value = 'a fox in the snow\\nan owl at dusk'; arguments[0].dispatchEvent(new Event('input', {bubbles: true})); return true",
            vec![serde_json::to_value(&text).unwrap()],
        )
        .await
        .unwrap();
    app.click("batch-review").await;
    app.wait_for("two lines reviewed", Duration::from_secs(10), || async {
        js(&app, "return document.querySelectorAll('[data-testid=\"batch-table\"] tbody tr').length").await == json!(2)
    })
    .await;
    audits.audit(&app, "batch-review").await;
    app.click("batch-open").await;

    // Two videos made; the queue while they run.
    app.fill("input-prompt", "a red fox in fresh snow").await;
    let first = app.submit_new_task().await;
    app.fill("input-prompt", "a paper boat in the rain").await;
    let second = app.submit_new_task().await;
    audits.audit(&app, "create-queue-running").await;
    app.wait_task_ready(first, Duration::from_secs(90)).await;
    app.wait_task_ready(second, Duration::from_secs(90)).await;
    audits.audit(&app, "create-queue-done").await;

    // The gallery: full, filtered, filtered to nothing.
    app.click("nav-gallery").await;
    app.el(&format!("result-{first}")).await;
    audits.audit(&app, "gallery-full").await;
    app.screenshot(&format!("a11y-{}-gallery-full", theme.name())).await;
    app.fill("gallery-search", "fox").await;
    app.wait_for("the search", Duration::from_secs(10), || async { !app.exists(&format!("result-{second}")).await })
        .await;
    audits.audit(&app, "gallery-filtered").await;
    app.fill("gallery-search", "nothing-is-called-this").await;
    app.el("gallery-empty").await;
    audits.audit(&app, "gallery-filtered-empty").await;
    app.fill("gallery-search", "").await;

    // A result playing, then the confirm dialog its delete asks.
    app.click(&format!("result-{first}")).await;
    app.el("detail").await;
    app.wait_any(&["detail-video", "detail-video-failed"]).await;
    app.wait_for("the video to decode", Duration::from_secs(15), || async {
        js(&app, "const v = document.querySelector('[data-testid=\"detail-video\"]'); return !!v && v.readyState >= 2")
            .await
            == Value::Bool(true)
    })
    .await;
    audits.audit(&app, "detail-player").await;
    app.screenshot(&format!("a11y-{}-detail-player", theme.name())).await;
    app.click("detail-delete").await;
    app.el("confirm-dialog").await;
    audits.audit(&app, "confirm-delete").await;
    app.click("confirm-no").await;
    app.click("detail-close").await;

    // Characters (with one added by hand, and a refused duplicate), spend, settings.
    app.click("nav-characters").await;
    app.el("characters").await;
    audits.audit(&app, "characters-empty").await;
    app.fill("character-add-handle", "hero").await;
    app.click("character-add-save").await;
    app.el("character-hero").await;
    app.fill("character-add-handle", "HERO").await;
    app.click("character-add-save").await;
    app.el("character-add-error").await;
    audits.audit(&app, "characters-one-and-an-error").await;
    app.screenshot(&format!("a11y-{}-characters", theme.name())).await;

    app.click("nav-spend").await;
    app.el("spend").await;
    audits.audit(&app, "spend").await;
    app.click("nav-settings").await;
    app.el("settings").await;
    audits.audit(&app, "settings").await;
    app.quit().await;
    audits.finish();
}

#[tokio::test]
async fn welcome_key_error_and_queue_failures_light() {
    welcome_and_the_queue(Theme::Light).await;
}

#[tokio::test]
async fn welcome_key_error_and_queue_failures_dark() {
    welcome_and_the_queue(Theme::Dark).await;
}

#[tokio::test]
async fn every_demo_screen_light() {
    the_demo(Theme::Light).await;
}

#[tokio::test]
async fn every_demo_screen_dark() {
    the_demo(Theme::Dark).await;
}

/// What the system asks of the window, through GTK as a desktop would: `GTK_THEME` (dark,
/// high contrast) and GTK's own settings file (animations off).
fn system(launch: Launch, dir: &Path, theme: &str, animations: bool) -> Launch {
    let config = dir.join(format!("gtk-{theme}-{animations}"));
    std::fs::create_dir_all(config.join("gtk-3.0")).unwrap();
    std::fs::write(config.join("gtk-3.0/settings.ini"), format!("[Settings]\ngtk-enable-animations={animations}\n"))
        .unwrap();
    launch.with_env("GTK_THEME", theme).with_env("XDG_CONFIG_HOME", config.to_str().unwrap())
}

async fn media(app: &App, query: &str) -> bool {
    js(app, &format!("return matchMedia('{query}').matches")).await == Value::Bool(true)
}

/// Elements (and their ::before/::after) with a transition or an animation that takes time.
async fn moving(app: &App) -> (u64, Vec<String>) {
    let v = js(
        app,
        "const secs = (v) => Math.max(...v.split(',').map((t) => parseFloat(t) * (t.trim().endsWith('ms') ? 0.001 : 1)));
         let n = 0; const some = [];
         for (const el of document.querySelectorAll('*')) for (const pseudo of [null, '::before', '::after']) {
           const cs = getComputedStyle(el, pseudo);
           if (secs(cs.transitionDuration) > 0 || (cs.animationName !== 'none' && secs(cs.animationDuration) > 0)) {
             n++; if (some.length < 8) some.push(el.tagName.toLowerCase() + '.' + String(el.className).split(' ')[0] + (pseudo ?? ''));
           }
         }
         return [n, some];",
    )
    .await;
    let some = v[1].as_array().unwrap().iter().map(|s| s.as_str().unwrap_or("").to_string()).collect();
    (v[0].as_u64().unwrap(), some)
}

/// The palette as the window resolved it: these CSS variables' values.
async fn palette(app: &App) -> HashMap<String, String> {
    let names = ["--text", "--muted", "--faint", "--border", "--border-strong", "--bg", "--surface", "--surface-2"];
    let v = js(
        app,
        &format!(
            "const cs = getComputedStyle(document.documentElement); return {}.map((n) => cs.getPropertyValue(n).trim())",
            json!(names)
        ),
    )
    .await;
    names.iter().zip(v.as_array().unwrap()).map(|(n, v)| (n.to_string(), v.as_str().unwrap().to_string())).collect()
}

/// WCAG's contrast ratio of two `#rrggbb` colours.
fn contrast(a: &str, b: &str) -> f64 {
    let lum = |hex: &str| {
        let c = |i: usize| {
            let v =
                f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap_or_else(|_| panic!("a colour: {hex}"))) / 255.0;
            if v <= 0.03928 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * c(1) + 0.7152 * c(3) + 0.0722 * c(5)
    };
    let (x, y) = (lum(a), lum(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

/// At this zoom, the controls a user cannot get to: cut off by a box that clips without
/// scrolling (or by the window, if it cannot scroll). Measured in layout, not by hit tests:
/// WebKit's rectangles and hit tests disagree under CSS zoom.
async fn unreachable_at(app: &App, zoom: u32) -> Vec<String> {
    let v = js(
        app,
        &format!(
            "document.documentElement.style.zoom = '{zoom}';
             const lost = [];
             const clipsX = (cs) => cs.overflowX === 'hidden' || cs.overflowX === 'clip';
             const clipsY = (cs) => cs.overflowY === 'hidden' || cs.overflowY === 'clip';
             // The window scrolls as the root's overflow says, or the body's when the root's is visible.
             const rs = getComputedStyle(document.documentElement);
             const vs = rs.overflowX === 'visible' && rs.overflowY === 'visible' ? getComputedStyle(document.body) : rs;
             // Rectangles are in the zoomed page's px.
             const win = {{left: 0, top: 0, right: innerWidth / {zoom}, bottom: innerHeight / {zoom}}};
             const sel = 'button, input:not([type=hidden]):not([type=file]), select, textarea, a[href], [tabindex]:not([tabindex=\"-1\"])';
             for (const el of document.querySelectorAll(sel)) {{
               if (el.closest('.sr-only')) continue;
               let r = el.getBoundingClientRect();
               if (r.width <= 1 || r.height <= 1 || !el.checkVisibility({{visibilityProperty: true}})) continue;
               const name = el.getAttribute('data-testid') || el.getAttribute('aria-label') || el.textContent.trim().slice(0, 30) || el.tagName;
               const out = (box, cs) => (clipsX(cs) && (r.left < box.left - 1 || r.right > box.right + 1)) ||
                                        (clipsY(cs) && (r.top < box.top - 1 || r.bottom > box.bottom + 1));
               let cut = null;
               for (let a = el.parentElement; a && a !== document.documentElement && !cut; a = a.parentElement) {{
                 const cs = getComputedStyle(a);
                 const box = a.getBoundingClientRect();
                 if (out(box, cs)) cut = name + ' cut off by ' + a.tagName.toLowerCase() + '.' + String(a.className).split(' ')[0];
                 // A box that scrolls brings the control into its own view: what counts above it is the box.
                 else if (/auto|scroll/.test(cs.overflowX + cs.overflowY)) r = box;
               }}
               if (!cut && out(win, vs)) cut = name + ' outside a window that cannot scroll';
               if (cut) lost.push(cut);
             }}
             return lost;"
        ),
    )
    .await;
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap_or("").to_string()).collect()
}

/// Text at 200 %: the page zoomed as a whole, as a browser's zoom or a desktop's scale does
/// (every size here is in px, so the root font size alone would scale nothing).
async fn check_200_percent(app: &App, screen: &str) {
    let lost = unreachable_at(app, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    js(app, "document.documentElement.scrollTop = 0; document.documentElement.scrollLeft = 0; document.querySelectorAll('*').forEach((e) => { if (e.scrollTop) e.scrollTop = 0; }); return true").await;
    app.screenshot(&format!("a11y-200-percent-{screen}")).await;
    js(app, "document.documentElement.style.zoom = ''; return true").await;
    assert!(lost.is_empty(), "{screen} at 200 %: controls out of reach: {lost:#?}");
}

/// The other half of issue 14's preferences, in the real engine: with no preference the app
/// moves and uses its usual palette; with less motion asked for nothing moves; with more
/// contrast asked for, quiet text and borders get stronger (and the audit still passes); text
/// at 200 % keeps every control of the create form and the gallery within reach.
#[tokio::test]
async fn preferences_reduced_motion_more_contrast_and_large_text() {
    let sim = Sim::start(SimConfig { key: KEY.into(), ..SimConfig::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();

    // No preference.
    let launch = system(Launch::new(&dir.path().join("plain"), &sim, "a11y-plain"), dir.path(), "Adwaita", true);
    let app = App::launch(&launch).await;
    assert!(!media(&app, "(prefers-reduced-motion: reduce)").await && !media(&app, "(prefers-contrast: more)").await);
    app.click("try-demo").await;
    app.click("nav-create").await;
    choose_model(&app, "sora-2-text-to-video").await;
    let (n, _) = moving(&app).await;
    assert!(n > 0, "without the preference something moves (else the check below proves nothing)");
    let usual = palette(&app).await;

    check_200_percent(&app, "create").await;
    app.fill("input-prompt", "a red fox in fresh snow").await;
    let id = app.submit_new_task().await;
    app.wait_task_ready(id, Duration::from_secs(90)).await;
    app.click("nav-gallery").await;
    app.el(&format!("result-{id}")).await;
    check_200_percent(&app, "gallery").await;
    app.quit().await;

    // Less motion and more contrast, light and dark.
    for (theme, dark) in [("HighContrast", false), ("HighContrast:dark", true)] {
        let name = if dark { "dark" } else { "light" };
        let launch =
            system(Launch::new(&dir.path().join(name), &sim, &format!("a11y-more-{name}")), dir.path(), theme, false);
        let app = App::launch(&launch).await;
        assert!(media(&app, "(prefers-reduced-motion: reduce)").await, "GTK's animations setting reaches the window");
        assert!(media(&app, "(prefers-contrast: more)").await, "the high-contrast theme reaches the window");
        assert_eq!(media(&app, "(prefers-color-scheme: dark)").await, dark);
        app.click("try-demo").await;
        app.click("nav-create").await;
        choose_model(&app, "sora-2-text-to-video").await;
        app.fill("input-prompt", "a paper boat in the rain").await;
        app.submit_new_task().await;
        let (n, some) = moving(&app).await;
        assert_eq!(n, 0, "{name}: with less motion asked for, these still move: {some:?}");

        let p = palette(&app).await;
        let at_least = |fg: &str, bg: &str, want: f64| {
            let got = contrast(&p[fg], &p[bg]);
            assert!(
                got >= want,
                "{name}, more contrast: {fg} {} on {bg} {} is {got:.2}:1, under {want}:1",
                p[fg],
                p[bg]
            );
        };
        for fg in ["--text", "--muted", "--faint"] {
            for bg in ["--bg", "--surface", "--surface-2"] {
                at_least(fg, bg, 7.0);
            }
        }
        at_least("--border", "--surface", 3.0);
        at_least("--border", "--bg", 3.0);
        if !dark {
            assert!(
                contrast(&p["--border"], &p["--surface"]) > contrast(&usual["--border"], &usual["--surface"]),
                "the borders are stronger than usual"
            );
        }
        let mut audits = Audits::new(if dark { Theme::Dark } else { Theme::Light });
        audits.audit(&app, "more-contrast-create").await;
        app.screenshot(&format!("a11y-more-contrast-{name}")).await;
        app.quit().await;
        audits.finish();
    }
}
