use crate::tasks;
use serde_json::json;

use super::*;

fn req(format: BatchFormat, text: &str) -> BatchRequest {
    BatchRequest {
        model: "sora-2-text-to-video".into(),
        base: json!({"aspect_ratio": "landscape", "n_frames": "10"}).as_object().unwrap().clone(),
        format: Some(format),
        file_name: None,
        text: text.into(),
        count: 0,
        cap_credits: None,
        name: None,
    }
}

fn cat() -> &'static kie::catalogue::Catalogue {
    kie::catalogue::Catalogue::builtin()
}

#[test]
fn a_plan_prices_every_item_and_adds_them_up() {
    let p = plan(cat(), &req(BatchFormat::Lines, "a fox\nan owl\n\nbees")).unwrap();
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.items.iter().map(|i| i.line).collect::<Vec<_>>(), [1, 2, 4]);
    let each = p.items[0].credits_estimated.unwrap();
    assert!(each > 0.0);
    assert_eq!(p.estimate_credits, Some(each * 3.0));
    assert_eq!(p.unpriced, 0);
}

#[test]
fn one_bad_line_is_named_and_no_item_is_kept() {
    let long = "x".repeat(10_001);
    let p = plan(cat(), &req(BatchFormat::Lines, &format!("a fox\n{long}\nan owl"))).unwrap();
    assert!(p.items.is_empty(), "nothing is sendable while a line is wrong");
    assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
    let pr = &p.problems[0];
    assert_eq!((pr.line, pr.field.as_str()), (2, "prompt"));
    assert!(
        pr.message.starts_with("Line 2: ") && pr.message.contains("10000") || pr.message.contains("10,000"),
        "{}",
        pr.message
    );
    // As the error envelope: the field names the line.
    let StudioError::InvalidInput(ps) = problems_error(&p) else { panic!() };
    assert_eq!(ps[0].field, "lines[2].prompt");
}

#[test]
fn csv_values_are_checked_by_the_catalogue() {
    let p = plan(cat(), &req(BatchFormat::Csv, "prompt,n_frames\na fox,15\nan owl,7\n")).unwrap();
    assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
    assert_eq!((p.problems[0].line, p.problems[0].field.as_str()), (3, "n_frames"));
}

#[test]
fn variations_cost_their_number_and_an_unknown_model_is_named() {
    let mut r = req(BatchFormat::Variations, "");
    r.base.insert("prompt".into(), json!("a fox"));
    r.count = 3;
    let p = plan(cat(), &r).unwrap();
    assert_eq!(p.items.len(), 3);
    assert_eq!(p.estimate_credits, Some(p.items[0].credits_estimated.unwrap() * 3.0));
    // The form's problems are said once, named as the form names them.
    r.base.insert("prompt".into(), json!(""));
    let p = plan(cat(), &r).unwrap();
    assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
    assert_eq!((p.problems[0].line, p.problems[0].field.as_str()), (0, "prompt"));
    let StudioError::InvalidInput(ps) = problems_error(&p) else { panic!() };
    assert_eq!(ps[0].field, "prompt");
    r.model = "nope".into();
    assert!(matches!(plan(cat(), &r), Err(StudioError::InvalidInput(ps)) if ps[0].field == "model"));
}

#[test]
fn a_missing_local_picture_is_named_with_its_line() {
    let mut r = req(BatchFormat::Csv, "prompt,image_urls\na fox,/nowhere/fox.png\n");
    r.model = "sora-2-image-to-video".into();
    let p = plan(cat(), &r).unwrap();
    assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
    assert_eq!(p.problems[0].line, 2);
    assert!(p.problems[0].field.starts_with("image_urls"), "{:?}", p.problems[0]);
}

fn db_with_plan(n: usize) -> (Db, Batch) {
    let db = Db::open_in_memory().unwrap();
    let text: String = (0..n).map(|i| format!("prompt {i}\n")).collect();
    let p = plan(cat(), &req(BatchFormat::Lines, &text)).unwrap();
    let b = insert(&db, "test", BatchFormat::Lines, &p, Some(100.0), None, 5).unwrap();
    (db, b)
}

#[test]
fn an_item_is_sent_once_in_the_transaction_that_writes_its_task() {
    let (db, b) = db_with_plan(2);
    assert_eq!((b.items, b.pending, b.state), (2, 2, BatchState::Running));
    let item = next_pending(&db, b.id).unwrap().unwrap();
    let link = ItemLink { batch_id: b.id, item_id: item.id };
    let t = tasks::insert_submitting_for(&db, &b.model, &item.input, Some(3.0), false, None, Some(link), 10).unwrap();
    assert_eq!(t.batch_id, Some(b.id));
    // A second send of the same item is refused and writes no task.
    let again = tasks::insert_submitting_for(&db, &b.model, &item.input, Some(3.0), false, None, Some(link), 11);
    assert!(matches!(again, Err(StoreError::InvalidTransition { .. })));
    let count: i64 = db.with(|c| Ok(c.query_row("SELECT count(*) FROM tasks", [], |r| r.get(0))?)).unwrap();
    assert_eq!(count, 1);
    let b = get(&db, b.id).unwrap();
    assert_eq!((b.sent, b.pending, b.committed_credits), (1, 1, 3.0));
    assert_eq!(next_pending(&db, b.id).unwrap().unwrap().position, 2);

    // Paused between the sender's look and its send: the send is refused, nothing written.
    pause(&db, b.id, 12).unwrap();
    let item = next_pending(&db, b.id).unwrap().unwrap();
    let link = ItemLink { batch_id: b.id, item_id: item.id };
    let late = tasks::insert_submitting_for(&db, &b.model, &item.input, Some(3.0), false, None, Some(link), 13);
    assert!(matches!(late, Err(StoreError::InvalidTransition { .. })), "{late:?}");
    let count: i64 = db.with(|c| Ok(c.query_row("SELECT count(*) FROM tasks", [], |r| r.get(0))?)).unwrap();
    assert_eq!(count, 1);
}

#[test]
fn pause_resume_cancel_follow_the_states() {
    let (db, b) = db_with_plan(3);
    assert_eq!(due(&db, 0).unwrap(), Some(b.id));
    let p = pause(&db, b.id, 1).unwrap();
    assert_eq!((p.state, p.actions.clone()), (BatchState::Paused, vec![BatchAction::Resume, BatchAction::Cancel]));
    assert_eq!(due(&db, 0).unwrap(), None, "a paused batch sends nothing");
    assert!(!any_running(&db).unwrap());
    assert!(pause(&db, b.id, 2).is_err());
    let r = resume(&db, b.id, Some(50.0), 3).unwrap();
    assert_eq!(r.state, BatchState::Running);
    let c = cancel(&db, b.id, 4).unwrap();
    assert_eq!((c.state, c.pending, c.cancelled, c.actions.len()), (BatchState::Cancelled, 0, 3, 0));
    assert!(resume(&db, b.id, None, 5).is_err());
}

#[test]
fn the_core_reads_the_list_as_its_file_name_says_unless_a_format_is_given() {
    let csv = "prompt,n_frames\na fox,10\nan owl,15\n";
    let mut r = req(BatchFormat::Lines, csv);
    r.format = None;
    r.file_name = Some("shots.CSV".into());
    let p = plan(cat(), &r).unwrap();
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.format, BatchFormat::Csv);
    assert_eq!(
        p.items.iter().map(|i| (i.line, i.input["prompt"].clone())).collect::<Vec<_>>(),
        [(2, json!("a fox")), (3, json!("an owl"))]
    );
    r.file_name = Some("shots.ndjson".into());
    r.text = "{\"prompt\": \"a fox\"}\n".into();
    assert_eq!(plan(cat(), &r).unwrap().format, BatchFormat::Jsonl);
    // A format given wins over the name; with neither, one prompt per line.
    r.format = Some(BatchFormat::Lines);
    r.file_name = Some("shots.csv".into());
    r.text = csv.into();
    let p = plan(cat(), &r).unwrap();
    assert_eq!((p.format, p.items.len()), (BatchFormat::Lines, 3));
    r.format = None;
    r.file_name = None;
    assert_eq!(plan(cat(), &r).unwrap().format, BatchFormat::Lines);
    // As the window sends it: `format` and `file_name` may be left out or null.
    let r: BatchRequest = serde_json::from_value(json!({
        "model": "sora-2-text-to-video", "format": null, "file_name": "a.jsonl", "text": "{}"
    }))
    .unwrap();
    assert_eq!(r.format(), BatchFormat::Jsonl);
    let r: BatchRequest = serde_json::from_value(json!({"model": "sora-2-text-to-video", "text": "a"})).unwrap();
    assert_eq!(r.format(), BatchFormat::Lines);
}

#[test]
fn local_files_are_checked_by_their_bytes_and_the_rest_of_the_line_by_the_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("fox.png");
    std::fs::write(&png, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0").unwrap();
    let missing = dir.path().join("owl.png");
    let line = |prompt: &str, file: &std::path::Path, frames: &str| {
        json!({"prompt": prompt, "image_urls": [file.display().to_string()], "n_frames": frames}).to_string()
    };
    let mut r = req(BatchFormat::Jsonl, "");
    r.model = "sora-2-image-to-video".into();

    // A good file passes (no link problem for it) and the item keeps its path, not a stand-in.
    r.text = format!("{}\n{}\n", line("a fox", &png, "10"), line("a fox", &png, "15"));
    let p = plan(cat(), &r).unwrap();
    assert!(p.problems.is_empty(), "{:?}", p.problems);
    assert_eq!(p.items[1].input["image_urls"], json!([png.display().to_string()]));
    assert!(p.items[0].credits_estimated.is_some());

    // Every problem at once, each with its line: a missing file (by its bytes, once), and a
    // value the catalogue refuses on a line whose file is good.
    r.text = format!("{}\n{}\n", line("a fox", &png, "7"), line("an owl", &missing, "10"));
    let p = plan(cat(), &r).unwrap();
    assert!(p.items.is_empty());
    let got: Vec<(u32, &str, &str)> = p.problems.iter().map(|p| (p.line, p.field.as_str(), p.rule.as_str())).collect();
    assert_eq!(got.len(), 2, "{:?}", p.problems);
    assert_eq!((got[0].0, got[0].1), (1, "n_frames"));
    assert_eq!((got[1].0, got[1].1, got[1].2), (2, "image_urls[0]", "unreadable"));
    assert!(p.problems[1].message.starts_with("Line 2: ") && p.problems[1].message.contains("owl.png"));
}

#[test]
fn formats_by_file_name() {
    assert_eq!(BatchFormat::of_file_name("a.CSV"), BatchFormat::Csv);
    assert_eq!(BatchFormat::of_file_name("a.jsonl"), BatchFormat::Jsonl);
    assert_eq!(BatchFormat::of_file_name("a.ndjson"), BatchFormat::Jsonl);
    assert_eq!(BatchFormat::of_file_name("prompts.txt"), BatchFormat::Lines);
}
