//! Issue 14, keyboard only: one whole flow in the real window, in the demo, with nothing but
//! keys (Tab, Shift+Tab, Enter, Space, Escape, arrows, Home/End, Ctrl+Enter, typing): start
//! the demo, pick a model, write a prompt, send it, watch the queue (and what its live region
//! announces), open the gallery, move between tiles with the arrows, open one, pause and play
//! the video, favourite it, cancel and confirm a delete, add characters by hand and complete
//! one with @ in a prompt. After every step the focus is on a visible element (never the
//! page's body, also after a dialog closes or a list re-renders) that shows a focus ring.

use std::time::Duration;

use e2e::{App, Launch};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use kie_sim::{Sim, SimConfig};
use serde_json::{json, Value};

/// Where the focus is, as the page sees it.
#[derive(Debug)]
struct Focus {
    /// The focused element's `data-testid`, else the nearest one around it.
    testid: String,
    /// The gallery position of the tile it is in, if any.
    index: Option<i64>,
    body: bool,
    visible: bool,
    /// A computed outline or box-shadow (the focus came from keys: `:focus-visible`).
    ring: bool,
    /// Inside the result's detail panel.
    in_detail: bool,
}

const FOCUS_JS: &str = "
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return {body: true};
  const r = el.getBoundingClientRect();
  const cs = getComputedStyle(el);
  const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
  const shadow = cs.boxShadow && cs.boxShadow !== 'none';
  const own = el.getAttribute('data-testid');
  const near = el.closest('[data-testid]');
  const tile = el.closest('[data-index]');
  return {
    body: false,
    testid: own || (near ? near.getAttribute('data-testid') : ''),
    index: tile ? Number(tile.getAttribute('data-index')) : null,
    visible: r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && r.bottom > 0 && r.right > 0
      && r.top < innerHeight && r.left < innerWidth,
    // Drawn while focused by the keyboard (WebKit never matches :focus-visible on a video,
    // whose ring is a :focus style).
    ring: outline || shadow,
    in_detail: !!el.closest('[data-testid=\"detail\"]'),
  };";

async fn focus(app: &App) -> Focus {
    let v = app.client.execute(FOCUS_JS, vec![]).await.unwrap();
    Focus {
        testid: v["testid"].as_str().unwrap_or("").to_string(),
        index: v["index"].as_i64(),
        body: v["body"].as_bool().unwrap_or(true),
        visible: v["visible"].as_bool().unwrap_or(false),
        ring: v["ring"].as_bool().unwrap_or(false),
        in_detail: v["in_detail"].as_bool().unwrap_or(false),
    }
}

/// The focus is somewhere a user can see, with a focus ring (after transitions end).
async fn assert_focus_shown(app: &App, step: &str) -> Focus {
    let mut last = focus(app).await;
    for _ in 0..20 {
        if !last.body && last.visible && last.ring {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        last = focus(app).await;
    }
    app.screenshot(&format!("keyboard-focus-lost-{}", step.replace(' ', "-"))).await;
    panic!("{step}: the focus is not shown: {last:?}");
}

/// Press keys together (a chord: Control then Enter), then release them in reverse.
async fn press(app: &App, chord: &[Key]) {
    let mut a = KeyActions::new("keyboard".into());
    for k in chord {
        a = a.then(KeyAction::Down { value: char::from(*k) });
    }
    for k in chord.iter().rev() {
        a = a.then(KeyAction::Up { value: char::from(*k) });
    }
    app.client.perform_actions(a).await.unwrap();
    app.client.release_actions().await.unwrap();
    // Let the page react (re-render, focus moves) before the next look.
    tokio::time::sleep(Duration::from_millis(60)).await;
}

/// Type text, key by key, into whatever has the focus.
async fn type_text(app: &App, text: &str) {
    let mut a = KeyActions::new("keyboard".into());
    for c in text.chars() {
        a = a.then(KeyAction::Down { value: c }).then(KeyAction::Up { value: c });
    }
    app.client.perform_actions(a).await.unwrap();
    tokio::time::sleep(Duration::from_millis(60)).await;
}

/// Tab (or Shift+Tab) until `done` says the focus is there; every stop on the way is a
/// visible element, never the body.
async fn tab_until<F: Fn(&Focus) -> bool>(app: &App, what: &str, back: bool, done: F) -> Focus {
    for _ in 0..120 {
        let f = focus(app).await;
        if done(&f) {
            return assert_focus_shown(app, what).await;
        }
        if back {
            press(app, &[Key::Shift, Key::Tab]).await;
        } else {
            press(app, &[Key::Tab]).await;
        }
        let f = focus(app).await;
        assert!(!f.body, "tabbing to {what}: the focus fell to the page's body");
    }
    app.screenshot(&format!("keyboard-never-reached-{}", what.replace(' ', "-"))).await;
    panic!("tabbing never reached {what}; the focus is on {:?}", focus(app).await);
}

async fn tab_to(app: &App, testid: &str) -> Focus {
    tab_until(app, testid, false, |f| f.testid == testid).await
}

async fn back_to(app: &App, testid: &str) -> Focus {
    tab_until(app, testid, true, |f| f.testid == testid).await
}

async fn js(app: &App, script: &str) -> Value {
    app.client.execute(script, vec![]).await.unwrap()
}

/// Keeps every message the queue's live region says, in order.
const RECORD_NEWS: &str = "
  window.__news = [];
  const watch = () => {
    const el = document.querySelector('[data-testid=\"queue-news\"]');
    if (!el) return setTimeout(watch, 50);
    let last = el.textContent.trim();
    new MutationObserver(() => {
      const t = el.textContent.trim();
      if (t && t !== last) window.__news.push(t);
      last = t;
    }).observe(el, {childList: true, characterData: true, subtree: true});
  };
  watch();
  return true;";

#[tokio::test]
async fn one_whole_flow_with_the_keyboard_only() {
    // The demo runs without Kie; the simulator is only an address the app never needs.
    let sim = Sim::start(SimConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let launch = Launch::new(dir.path(), &sim, "keyboard").with_env("GTK_THEME", "Adwaita");
    let app = App::launch(&launch).await;
    app.el("welcome").await;

    // ---- the welcome screen: the demo ----
    tab_to(&app, "try-demo").await;
    press(&app, &[Key::Enter]).await;
    app.el("model-form").await;
    assert!(!focus(&app).await.body, "the focus fell to the body when the demo started");

    // ---- a model, from the search box: typed, then Enter picks the best match (the model
    // already chosen when it matches: which one that is depends on what earlier runs chose,
    // so the list's own keys make the choice certain) ----
    tab_to(&app, "model-search").await;
    type_text(&app, "sora 2 text").await;
    press(&app, &[Key::Enter]).await;
    app.el("model-form").await;
    // ↓ into the list, Home to the first match, and the arrows move the choice.
    press(&app, &[Key::Down]).await;
    let on_list = assert_focus_shown(&app, "the model list").await;
    assert!(on_list.testid.starts_with("model-option-"), "↓ from the search went to {on_list:?}");
    press(&app, &[Key::Home]).await;
    app.wait_attr("model-form", "data-model", "sora-2-text-to-video", Duration::from_secs(10)).await;
    press(&app, &[Key::Down]).await;
    press(&app, &[Key::Up]).await;
    app.wait_attr("model-form", "data-model", "sora-2-text-to-video", Duration::from_secs(10)).await;

    // ---- the prompt, sent with Ctrl+Enter; the queue's news recorded meanwhile ----
    tab_to(&app, "input-prompt").await;
    type_text(&app, "a red fox in fresh snow").await;
    assert_eq!(app.value("input-prompt").await, "a red fox in fresh snow");
    js(&app, RECORD_NEWS).await;
    let before = app.task_ids().await;
    press(&app, &[Key::Control, Key::Enter]).await;
    app.wait_for("a new task", Duration::from_secs(20), || async { app.task_ids().await.len() > before.len() }).await;
    let first = app.task_ids().await.into_iter().filter(|id| !before.contains(id)).max().unwrap();
    assert_focus_shown(&app, "after Ctrl+Enter").await;

    // ---- a second one by the button and Enter, a third by the button and Space ----
    // A press while the last send is still answered is ignored on purpose (nothing is sent
    // twice): each press waits until the form says it is no longer sending.
    let sent = || async {
        app.wait_for("the form to finish sending", Duration::from_secs(20), || async {
            !app.text("submit").await.contains("Sending")
        })
        .await
    };
    sent().await;
    let submit = tab_to(&app, "submit").await;
    assert!(submit.ring);
    press(&app, &[Key::Enter]).await;
    app.wait_for("a second task", Duration::from_secs(20), || async { app.task_ids().await.len() > before.len() + 1 })
        .await;
    assert_focus_shown(&app, "after the submit button").await;
    sent().await;
    press(&app, &[Key::Space]).await;
    app.wait_for("a third task", Duration::from_secs(20), || async { app.task_ids().await.len() > before.len() + 2 })
        .await;
    let ids = app.task_ids().await;
    for id in &ids {
        app.wait_task_ready(*id, Duration::from_secs(90)).await;
    }
    app.screenshot("keyboard-01-queue").await;

    // What the live region said: each task sent, then ready; no progress steps.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let news: Vec<String> = serde_json::from_value(js(&app, "return window.__news").await).unwrap();
    eprintln!("queue news: {news:?}");
    let said = news.join(" | ");
    for id in &ids {
        assert!(said.contains(&format!("Task {id}: sent to Kie")), "no 'sent' for task {id}: {news:?}");
        assert!(said.contains(&format!("Task {id}: ready")), "no 'ready' for task {id}: {news:?}");
    }
    assert!(!said.contains('%'), "progress was announced: {news:?}");
    assert!(news.len() <= ids.len() * 2, "more announcements than sent + ready per task: {news:?}");
    assert!(app.text(&format!("task-{first}-state")).await.contains("Ready"));

    // ---- the gallery, by the top bar ----
    back_to(&app, "nav-gallery").await;
    press(&app, &[Key::Enter]).await;
    app.el("gallery").await;
    app.el(&format!("result-{first}")).await;
    let f = tab_until(&app, "the first tile", false, |f| f.index.is_some()).await;
    assert_eq!(f.index, Some(0), "the first tile reached by Tab");

    // The arrows move between tiles by the grid's columns; Home and End go to the ends.
    let columns = js(
        &app,
        "const w = document.querySelector('.window'); return getComputedStyle(w).gridTemplateColumns.split(' ').length",
    )
    .await
    .as_i64()
    .unwrap();
    let count = ids.len() as i64;
    eprintln!("grid: {columns} column(s), {count} tile(s)");
    press(&app, &[Key::Right]).await;
    assert_eq!(assert_focus_shown(&app, "→").await.index, Some(1.min(count - 1)));
    press(&app, &[Key::Left]).await;
    assert_eq!(assert_focus_shown(&app, "←").await.index, Some(0));
    press(&app, &[Key::End]).await;
    assert_eq!(assert_focus_shown(&app, "End").await.index, Some(count - 1));
    press(&app, &[Key::Home]).await;
    assert_eq!(assert_focus_shown(&app, "Home").await.index, Some(0));
    press(&app, &[Key::Down]).await;
    let down = if columns < count { columns } else { 0 };
    assert_eq!(assert_focus_shown(&app, "↓").await.index, Some(down));
    press(&app, &[Key::Up]).await;
    assert_eq!(assert_focus_shown(&app, "↑").await.index, Some(0));
    press(&app, &[Key::Right]).await;
    app.screenshot("keyboard-02-gallery-focus").await;

    // ---- a tile opened with Enter: the player's button has the focus ----
    press(&app, &[Key::Enter]).await;
    app.el("detail").await;
    let f = assert_focus_shown(&app, "the detail opened").await;
    assert_eq!(f.testid, "detail-play", "the detail's first control");
    app.wait_attr("detail-play", "data-playing", "true", Duration::from_secs(15)).await;
    // Space pauses, Enter plays: the video itself, not only the button.
    press(&app, &[Key::Space]).await;
    app.wait_attr("detail-play", "data-playing", "false", Duration::from_secs(5)).await;
    assert_eq!(js(&app, "return document.querySelector('[data-testid=\"detail-video\"]').paused").await, json!(true));
    assert_eq!(app.attr("detail-play", "aria-label").await.as_deref(), Some("Play the video"));
    press(&app, &[Key::Enter]).await;
    // `data-playing` follows the video's own play event; the demo's clips are short, so by
    // now it may have played to its end.
    app.wait_attr("detail-play", "data-playing", "true", Duration::from_secs(5)).await;
    assert_eq!(
        js(&app, "const v = document.querySelector('[data-testid=\"detail-video\"]'); return !v.paused || v.ended")
            .await,
        json!(true)
    );
    // The button's name says what it will do, whatever the video did meanwhile.
    let named = js(
        &app,
        "const b = document.querySelector('[data-testid=\"detail-play\"]'); \
         return b.getAttribute('aria-label') === (b.dataset.playing === 'true' ? 'Pause the video' : 'Play the video')",
    )
    .await;
    assert_eq!(named, json!(true));
    app.screenshot("keyboard-03-detail").await;

    // The panel is modal: Shift+Tab from its first control stays inside it.
    press(&app, &[Key::Shift, Key::Tab]).await;
    let f = assert_focus_shown(&app, "Shift+Tab in the detail").await;
    assert!(f.in_detail, "Shift+Tab left the detail panel: {f:?}");
    press(&app, &[Key::Tab]).await;
    assert!(focus(&app).await.in_detail);

    // ---- favourite ----
    let opened = app.attr("detail", "data-result").await.unwrap();
    tab_to(&app, "detail-favourite").await;
    press(&app, &[Key::Enter]).await;
    app.wait_attr("detail-favourite", "data-on", "true", Duration::from_secs(5)).await;
    app.wait_attr(&format!("result-{opened}"), "data-favourite", "true", Duration::from_secs(5)).await;
    assert_focus_shown(&app, "after favourite").await;

    // ---- delete: Escape cancels and the focus is back on Delete; Enter on confirm deletes ----
    tab_to(&app, "detail-delete").await;
    press(&app, &[Key::Enter]).await;
    app.el("confirm-dialog").await;
    let f = assert_focus_shown(&app, "the confirm dialog").await;
    assert_eq!(f.testid, "confirm-no", "a dangerous question starts on Cancel");
    press(&app, &[Key::Tab]).await;
    assert_eq!(focus(&app).await.testid, "confirm-yes");
    press(&app, &[Key::Tab]).await;
    assert_eq!(focus(&app).await.testid, "confirm-no", "Tab stays in the dialog");
    press(&app, &[Key::Escape]).await;
    app.wait_for("the dialog to close", Duration::from_secs(5), || async { !app.exists("confirm-dialog").await }).await;
    assert!(app.exists("detail").await, "Escape in the dialog closed the detail too");
    let f = assert_focus_shown(&app, "after Escape").await;
    assert_eq!(f.testid, "detail-delete", "the focus is back on the button that opened the dialog");

    press(&app, &[Key::Enter]).await;
    app.el("confirm-dialog").await;
    press(&app, &[Key::Tab]).await;
    assert_eq!(focus(&app).await.testid, "confirm-yes");
    press(&app, &[Key::Enter]).await;
    app.wait_for("the detail to close", Duration::from_secs(10), || async { !app.exists("detail").await }).await;
    app.wait_for("the result gone", Duration::from_secs(10), || async {
        !app.exists(&format!("result-{opened}")).await
    })
    .await;
    let f = assert_focus_shown(&app, "after the delete").await;
    assert!(f.index.is_some(), "after the delete the focus is on a tile, not {f:?}");
    app.screenshot("keyboard-04-after-delete").await;

    // ---- characters, added by hand ----
    back_to(&app, "nav-characters").await;
    press(&app, &[Key::Enter]).await;
    app.el("characters").await;
    for handle in ["kbhero", "kbhelper"] {
        tab_to(&app, "character-add-handle").await;
        type_text(&app, handle).await;
        tab_to(&app, "character-add-prompt").await;
        type_text(&app, "made with the keyboard").await;
        // Enter in a field sends its form.
        press(&app, &[Key::Enter]).await;
        app.el(&format!("character-{handle}")).await;
        assert_focus_shown(&app, "after adding a character").await;
        if handle == "kbhero" {
            // Next time round, the handle field is found again from wherever the focus is.
            back_to(&app, "character-add-handle").await;
        }
    }
    app.screenshot("keyboard-05-characters").await;

    // ---- @-completion in a prompt: ↓ then Enter inserts the handle ----
    back_to(&app, "nav-create").await;
    press(&app, &[Key::Enter]).await;
    app.el("model-form").await;
    tab_to(&app, "input-prompt").await;
    // Ctrl+A, then the new text replaces the last prompt.
    let all = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: char::from(Key::Control) })
        .then(KeyAction::Down { value: 'a' })
        .then(KeyAction::Up { value: 'a' })
        .then(KeyAction::Up { value: char::from(Key::Control) });
    app.client.perform_actions(all).await.unwrap();
    type_text(&app, "A day out with @kbhe").await;
    app.el("handle-completion-kbhero").await;
    app.el("handle-completion-kbhelper").await;
    let chosen_before = js(&app, "return document.querySelector('[data-testid^=\"handle-completion-\"][aria-selected=\"true\"]')?.getAttribute('data-testid')").await;
    press(&app, &[Key::Down]).await;
    let chosen = js(&app, "return document.querySelector('[data-testid^=\"handle-completion-\"][aria-selected=\"true\"]')?.getAttribute('data-testid')").await;
    assert_ne!(chosen, chosen_before, "↓ moved the choice");
    let handle = chosen.as_str().unwrap().trim_start_matches("handle-completion-").to_string();
    press(&app, &[Key::Enter]).await;
    app.wait_for("the handle inserted", Duration::from_secs(5), || async {
        app.value("input-prompt").await == format!("A day out with @{handle} ")
    })
    .await;
    let f = assert_focus_shown(&app, "after the completion").await;
    assert_eq!(f.testid, "input-prompt", "the focus stays in the prompt");
    app.screenshot("keyboard-06-completion").await;

    app.quit().await;
}
