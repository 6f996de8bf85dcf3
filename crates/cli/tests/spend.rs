//! `kie spend` on a library written here: the totals are the sum of Kie's `creditsConsumed`
//! plus estimates where Kie gave none, in JSON and in text, with no key needed.

use std::path::Path;
use std::process::Output;

use serde_json::{json, Map, Value};
use studio::clock::{Clock, SystemClock};
use studio::spend::DAY_MS;
use studio::tasks;
use studio::Db;

fn kie(lib: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kie"))
        .args(args)
        .env("KIE_STUDIO_LIBRARY", lib)
        // A fixed zone: days are counted from UTC midnight.
        .env("TZ", "UTC")
        .env_remove("KIE_API_KEY")
        .env("KIE_STUDIO_KEYRING_SERVICE", "ai.kie.studio.cli-spend-tests")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn input() -> Map<String, Value> {
    json!({"prompt": "a fox"}).as_object().unwrap().clone()
}

/// A task created at `at` that succeeded with `consumed` (or is still running).
fn task(db: &Db, model: &str, at: i64, est: f64, consumed: Option<f64>, running: bool) {
    let t = tasks::insert_submitting(db, model, &input(), Some(est), false, at).unwrap();
    let kie_id = format!("k{}", t.id);
    tasks::mark_submitted(db, t.id, &kie_id, at + 1).unwrap();
    if !running {
        let result = kie::TaskResult { result_urls: vec!["https://x/a.mp4".into()], ..Default::default() };
        tasks::mark_succeeded(db, t.id, &result, consumed, at + 2).unwrap();
    }
}

#[test]
fn spend_totals_are_the_sum_of_credits_consumed() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("lib");
    let now = SystemClock.now_ms();
    // Noon UTC of today, or of yesterday if it is not noon yet: never in the future.
    let noon = (now - DAY_MS / 2).div_euclid(DAY_MS) * DAY_MS + DAY_MS / 2;
    {
        let db = Db::open(&lib.join("library.db"), now).unwrap();
        task(&db, "sora-2-text-to-video", noon - 2 * DAY_MS, 30.0, Some(18.5), false);
        task(&db, "sora-2-text-to-video", noon - 2 * DAY_MS, 30.0, Some(30.0), false);
        task(&db, "kling-3.0/video", noon - 5 * DAY_MS, 100.0, Some(90.0), false);
        // No figure from Kie: the estimate, marked.
        task(&db, "kling-3.0/video", noon, 70.0, None, true);
        // A rejected create costs nothing.
        let r = tasks::insert_submitting(&db, "kling-3.0/video", &input(), Some(500.0), false, noon).unwrap();
        tasks::mark_rejected(&db, r.id, "insufficient_credits", "no", noon).unwrap();
        // Too old for the window.
        task(&db, "sora-2-text-to-video", noon - 45 * DAY_MS, 30.0, Some(30.0), false);
    }

    let out = kie(&lib, &["spend", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["days"].as_array().unwrap().len(), 30);
    assert_eq!(v["utc_offset_minutes"], 0);
    let total = &v["total"];
    assert_eq!(total["actual_credits"], json!(18.5 + 30.0 + 90.0));
    assert_eq!(total["estimated_credits"], json!(70.0));
    assert_eq!(total["credits"], json!(208.5));
    assert_eq!(total["usd"], json!(kie::catalogue::credits_to_usd(208.5)));
    assert_eq!((total["tasks"].as_u64(), total["pending_tasks"].as_u64()), (Some(4), Some(1)));
    let per_model: Vec<(&str, f64)> = v["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["model"].as_str().unwrap(), m["spend"]["credits"].as_f64().unwrap()))
        .collect();
    assert_eq!(per_model, [("kling-3.0/video", 160.0), ("sora-2-text-to-video", 48.5)]);
    let day_sum: f64 =
        v["days"].as_array().unwrap().iter().map(|d| d["spend"]["actual_credits"].as_f64().unwrap()).sum();
    assert_eq!(day_sum, 138.5);

    // A shorter window leaves the older days out: the one ending 2 days before `noon`'s day.
    let ago = now.div_euclid(DAY_MS) - noon.div_euclid(DAY_MS);
    let days = (3 + ago).to_string();
    let out = kie(&lib, &["--json", "spend", "--days", &days]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"]["credits"].as_f64(), Some(118.5), "{v}");

    // Text: only days with spend, each model, the total in credits and dollars, estimates marked.
    let out = kie(&lib, &["spend"]);
    assert!(out.status.success(), "{}", text(&out));
    let s = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(s.contains("Spend over the last 30 days"), "{s}");
    assert!(s.lines().any(|l| l.starts_with("Total") && l.contains("208.50*") && l.contains("$1.04")), "{s}");
    assert!(s.lines().any(|l| l.starts_with("kling-3.0/video") && l.contains("160*")), "{s}");
    assert!(s.lines().any(|l| l.starts_with("sora-2-text-to-video") && l.contains("48.50 ")), "{s}");
    let dated = s.lines().filter(|l| l.starts_with("20")).count();
    assert_eq!(dated, 3, "one line per day with spend: {s}");
    assert!(s.contains("includes 70 credits estimated for 1 task Kie gave no figure for (1 not finished yet)"), "{s}");
    assert!(s.contains("Kie's own figures: 138.50 credits ($0.69)"), "{s}");

    // An empty library: nothing spent, still a full window.
    let empty = dir.path().join("empty");
    let out = kie(&empty, &["spend"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Nothing spent."), "{}", text(&out));
    let out = kie(&lib, &["spend", "--days", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}
