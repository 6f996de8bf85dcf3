//! The gallery's queries against a realistic library: every plan off an index, cursor pages
//! equal to offset pages and to the order worked out here from every row, counts that follow
//! every change.

use std::cell::RefCell;

use rusqlite::params;

use super::*;
use crate::library::{self, NewResult};
use crate::tasks;

thread_local! {
    static LOG: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

pub(super) fn log(sql: &str) {
    LOG.with(|l| l.borrow_mut().push(sql.to_string()));
}

fn take_log() -> Vec<String> {
    LOG.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// A tiny deterministic generator (the same library every run).
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

const MODELS: [&str; 6] =
    ["sora-2-text-to-video", "sora-2-pro-text-to-video", "kling-3.0", "veo3", "sora-2-pro-storyboard", "rare-model"];
const WORDS: [&str; 12] =
    ["fox", "snow", "boat", "sea", "city", "night", "forest", "robot", "dance", "rain", "golden", "lighthouse"];

/// `n` tasks as a library holds them: most with one video, some failed with none, some with
/// an HD copy, a few images and characters; models skewed, one rare; favourites, notes,
/// unknown costs; results added in bursts that share a millisecond, and some added out of
/// date order.
fn library(n: i64) -> Db {
    let db = Db::open_in_memory().unwrap();
    let mut rng = Lcg(7);
    db.tx(|tx| {
        for b in [1, 2] {
            tx.execute(
                "INSERT INTO batches (id, name, model, source, state, created_at, updated_at)
                 VALUES (?1, 'b', 'm', 'lines', 'done', 0, 0)",
                [b],
            )?;
        }
        for i in 0..n {
            let model = match rng.below(100) {
                0..=44 => MODELS[0],
                45..=69 => MODELS[1],
                70..=84 => MODELS[2],
                85..=94 => MODELS[3],
                95..=98 => MODELS[4],
                _ => MODELS[5],
            };
            let mut prompt = format!("a {} in the {}", WORDS[rng.below(6) as usize], WORDS[6 + rng.below(6) as usize]);
            if rng.below(4) == 0 {
                prompt.push_str(&format!(" number {i}"));
            }
            let estimated = (rng.below(10) != 0).then(|| (rng.below(8) * 10) as f64);
            let consumed = (rng.below(3) != 0).then(|| (rng.below(8) * 10) as f64);
            let failed = rng.below(20) == 0;
            // A big batch and a small one.
            let batch = match rng.below(50) {
                0..=6 => Some(1),
                7 => Some(2),
                _ => None,
            };
            tx.execute(
                "INSERT INTO tasks (model, input_json, status, created_at, updated_at, credits_estimated, credits_consumed,
                    batch_id)
                 VALUES (?1, json_object('prompt', ?2), ?3, ?4, ?4, ?5, ?6, ?7)",
                params![model, prompt, if failed { "failed" } else { "succeeded" }, i, estimated, consumed, batch],
            )?;
            let task = tx.last_insert_rowid();
            if failed {
                continue;
            }
            // Bursts of three share a millisecond; one in 16 lands earlier than its neighbours.
            let at = if rng.below(16) == 0 { 1_000 + (i / 3) * 10 - 500 } else { 1_000 + (i / 3) * 10 };
            let kinds: &[(u32, &str)] = match rng.below(40) {
                0 => &[(0, "image"), (1, "image")],
                1 => &[(0, "character")],
                2..=4 => &[(0, "video"), (1000, "video")],
                _ => &[(0, "video")],
            };
            for (idx, kind) in kinds {
                let notes = (rng.below(25) == 0).then_some("keeper for the reel");
                tx.execute(
                    "INSERT INTO results (task_id, idx, kind, path, favourite, notes, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![task, idx, kind, format!("media/x/task-{task}-{idx}.mp4"), rng.below(10) == 0, notes, at],
                )?;
            }
        }
        Ok(())
    })
    .unwrap();
    db
}

/// A result as the reference order sees it.
#[derive(Debug, Clone)]
struct Row {
    id: i64,
    created_at: i64,
    model: String,
    kind: String,
    favourite: bool,
    cost: Option<f64>,
    batch: Option<i64>,
}

fn rows(db: &Db, search: Option<&str>) -> Vec<Row> {
    let found: Option<Vec<i64>> = search.and_then(search::match_expression).map(|expr| {
        db.with(|c| {
            let mut st = c.prepare("SELECT rowid FROM gallery_fts WHERE gallery_fts MATCH ?1")?;
            let ids = st.query_map([expr], |r| r.get(0))?.collect::<Result<_, _>>()?;
            Ok(ids)
        })
        .unwrap()
    });
    db.with(|c| {
        let mut st = c.prepare(
            "SELECT r.id, r.created_at, t.model, r.kind, r.favourite, coalesce(t.credits_consumed, t.credits_estimated),
                    t.batch_id
             FROM results r JOIN tasks t ON t.id = r.task_id",
        )?;
        let all = st
            .query_map([], |r| {
                Ok(Row {
                    id: r.get(0)?,
                    created_at: r.get(1)?,
                    model: r.get(2)?,
                    kind: r.get(3)?,
                    favourite: r.get(4)?,
                    cost: r.get(5)?,
                    batch: r.get(6)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(all)
    })
    .unwrap()
    .into_iter()
    .filter(|r| found.as_ref().is_none_or(|f| f.contains(&r.id)))
    .collect()
}

/// The gallery's order and filters worked out from every row, the plain way.
fn reference(db: &Db, q: &ResultQuery) -> Vec<i64> {
    let mut all: Vec<Row> = rows(db, q.search.as_deref())
        .into_iter()
        .filter(|r| q.model.as_ref().is_none_or(|m| &r.model == m))
        .filter(|r| q.family.is_none() || q.models_in.contains(&r.model))
        .filter(|r| q.kind.is_none_or(|k| r.kind == k.as_str()))
        .filter(|r| !q.favourites_only || r.favourite)
        .filter(|r| q.from_ms.is_none_or(|f| r.created_at >= f) && q.to_ms.is_none_or(|t| r.created_at < t))
        .filter(|r| q.batch.is_none() || r.batch == q.batch)
        .collect();
    let newest_first = |a: &Row, b: &Row| (b.created_at, b.id).cmp(&(a.created_at, a.id));
    all.sort_by(|a, b| match q.sort {
        ResultSort::Date if q.desc => newest_first(a, b),
        ResultSort::Date => newest_first(b, a),
        ResultSort::Cost => {
            let by_cost = match (a.cost, b.cost) {
                (Some(x), Some(y)) if q.desc => y.partial_cmp(&x).unwrap(),
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap(),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            by_cost.then_with(|| newest_first(a, b))
        }
    });
    all.into_iter().map(|r| r.id).collect()
}

fn ids(items: &[ResultView]) -> Vec<i64> {
    items.iter().map(|v| v.result.id).collect()
}

fn family(models: &[&str]) -> ResultQuery {
    ResultQuery {
        family: Some("F".into()),
        models_in: models.iter().map(|m| m.to_string()).collect(),
        ..Default::default()
    }
}

/// Every shape of query the window sends: each filter alone and together, searches common
/// and rare, both sorts both ways.
fn shapes() -> Vec<(&'static str, ResultQuery)> {
    let q = ResultQuery::default;
    let base = vec![
        ("no filter", q()),
        ("model", ResultQuery { model: Some(MODELS[1].into()), ..q() }),
        ("rare model", ResultQuery { model: Some(MODELS[5].into()), ..q() }),
        ("family", family(&MODELS[..2])),
        ("rare family", family(&[MODELS[4], MODELS[5]])),
        ("kind", ResultQuery { kind: Some(ResultKind::Video), ..q() }),
        ("rare kind", ResultQuery { kind: Some(ResultKind::Character), ..q() }),
        ("favourites", ResultQuery { favourites_only: true, ..q() }),
        ("dates", ResultQuery { from_ms: Some(2_000), to_ms: Some(6_000), ..q() }),
        (
            "model, favourites, dates",
            ResultQuery { model: Some(MODELS[0].into()), favourites_only: true, from_ms: Some(3_000), ..q() },
        ),
        ("search", ResultQuery { search: Some("fox".into()), ..q() }),
        ("search, cut short", ResultQuery { search: Some("in the sn".into()), ..q() }),
        ("rare search", ResultQuery { search: Some("number 12".into()), ..q() }),
        ("search notes", ResultQuery { search: Some("reel".into()), ..q() }),
        ("search + model", ResultQuery { search: Some("fox".into()), model: Some(MODELS[0].into()), ..q() }),
        ("search + family", ResultQuery { search: Some("sea".into()), ..family(&MODELS[1..4]) }),
        ("search + favourites", ResultQuery { search: Some("golden".into()), favourites_only: true, ..q() }),
        ("batch", ResultQuery { batch: Some(1), ..q() }),
        ("small batch", ResultQuery { batch: Some(2), ..q() }),
        ("batch + search", ResultQuery { batch: Some(1), search: Some("fox".into()), ..q() }),
        ("batch + model", ResultQuery { batch: Some(1), model: Some(MODELS[1].into()), ..q() }),
    ];
    let mut all = Vec::new();
    for (name, query) in base {
        for (sort, desc) in
            [(ResultSort::Date, true), (ResultSort::Date, false), (ResultSort::Cost, true), (ResultSort::Cost, false)]
        {
            all.push((name, ResultQuery { sort, desc, ..query.clone() }));
        }
    }
    all
}

/// Why a plan line is refused, if it is: a sort (every order comes off an index or is sorted
/// here), or a scan of results or tasks other than a walk down an index in the gallery's
/// order that the page's limit stops.
fn refused(line: &str, filtered: bool) -> Option<&'static str> {
    if line.contains("TEMP B-TREE") {
        return Some("sorts in SQL");
    }
    let scan = ["SCAN r", "SCAN t ", "SCAN t\n", "SCAN results", "SCAN tasks"].iter().any(|s| line.contains(s))
        || line == "SCAN t";
    if !scan {
        return None;
    }
    let walk = |index: &str| {
        line.contains(&format!("USING INDEX {index}")) || line.contains(&format!("USING COVERING INDEX {index}"))
    };
    if walk("results_cost_desc") || walk("results_cost_asc") || walk("results_favourite_date") {
        return None;
    }
    if walk("results_created_at") && !filtered {
        return None;
    }
    Some("scans results or tasks")
}

fn explain(db: &Db, sql: &str) -> Vec<String> {
    db.with(|c| {
        let mut st = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
        let nulls = vec![Value::Null; st.parameter_count()];
        let lines = st.query_map(params_from_iter(nulls), |r| r.get::<_, String>(3))?.collect::<Result<_, _>>()?;
        Ok(lines)
    })
    .unwrap()
}

/// The plans of every statement the gallery sends, for every shape, first page and the
/// next, by cursor and by a deep offset.
#[test]
fn every_plan_comes_off_an_index() {
    let db = library(3_000);
    let mut failures = Vec::new();
    let mut seen = std::collections::BTreeMap::<String, Vec<String>>::new();
    for (name, q) in shapes() {
        take_log();
        let first = page(&db, &ResultQuery { limit: 120, ..q.clone() }).unwrap();
        page(&db, &ResultQuery { limit: 120, after: first.next, ..q.clone() }).unwrap();
        page(&db, &ResultQuery { limit: 120, offset: 600, ..q.clone() }).unwrap();
        count(&db, &q).unwrap();
        // A search alone walks the whole order (it is only walked when it matches much).
        let filtered = Shape::of(&q).has_filters();
        for sql in take_log() {
            let plan = explain(&db, &sql);
            for line in &plan {
                if let Some(why) = refused(line, filtered) {
                    failures.push(format!("{name} ({:?}, desc {}): {why}: {line}\n  in {sql}", q.sort, q.desc));
                }
            }
            seen.entry(sql).or_insert(plan);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // What each filter goes down, by name.
    let plans: Vec<String> = seen.values().flatten().cloned().collect();
    for index in [
        "results_created_at",
        "results_model_date (model=?",
        "results_kind_date (kind=?",
        "results_favourite_date",
        "results_cost_desc",
        "results_cost_asc",
        "gallery_fts VIRTUAL TABLE",
    ] {
        assert!(plans.iter().any(|l| l.contains(index)), "no plan uses {index}: {plans:#?}");
    }
    // A cursor is a range of the index, not a filter on its rows.
    for range in [
        "results_created_at (created_at<?)",
        "results_created_at (created_at>?)",
        "results_model_date (model=? AND created_at<?)",
        "results_cost_desc (<expr>=? AND created_at<?)",
        "results_cost_desc (<expr><?)",
        "results_cost_asc (<expr><?)",
    ] {
        assert!(plans.iter().any(|l| l.starts_with("SEARCH r") && l.contains(range)), "{range}: {plans:#?}");
    }
    // The rows of a page: by id.
    assert!(plans.iter().any(|l| l == "SEARCH t USING INTEGER PRIMARY KEY (rowid=?)"), "{plans:#?}");
}

/// Paging by cursor and by offset (deep ones from the sparse list) gives the same results, in
/// the order worked out from every row: no duplicates, no gaps, ties on the date included.
#[test]
fn cursor_and_offset_pages_match_the_whole_order() {
    let db = library(2_400);
    for (name, q) in shapes() {
        let want = reference(&db, &q);
        let what = format!("{name} ({:?}, desc {})", q.sort, q.desc);
        assert_eq!(count(&db, &q).unwrap(), want.len() as i64, "{what}: count");
        for limit in [50, 333] {
            let (mut by_cursor, mut by_offset) = (Vec::new(), Vec::new());
            let mut after = None;
            loop {
                // With a cursor the offset is not used.
                let offset = if after.is_some() { 999_999 } else { 0 };
                let p = page(&db, &ResultQuery { limit, after, offset, ..q.clone() }).unwrap();
                by_cursor.extend(ids(&p.items));
                assert_eq!(p.total, want.len() as i64, "{what}");
                match p.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
                assert!(by_cursor.len() <= want.len(), "{what}: runs past the end");
            }
            for offset in (0..=want.len() as u32).step_by(limit as usize) {
                by_offset.extend(ids(&list(&db, &ResultQuery { limit, offset, ..q.clone() }).unwrap()));
            }
            assert_eq!(by_cursor, want, "{what}: by cursor, {limit} a page");
            assert_eq!(by_offset, want, "{what}: by offset, {limit} a page");
        }
        // An offset that is not a page's start, deep in the list.
        if want.len() > 700 {
            let got = ids(&list(&db, &ResultQuery { limit: 10, offset: 517, ..q.clone() }).unwrap());
            assert_eq!(got, want[517..527], "{what}: offset 517");
        }
    }
}

fn counts_match(db: &Db, when: &str) {
    for (name, q) in shapes().into_iter().filter(|(_, q)| q.sort == ResultSort::Date && q.desc) {
        assert_eq!(count(db, &q).unwrap(), reference(db, &q).len() as i64, "{when}: {name}");
    }
    let deep = ResultQuery { limit: 20, offset: 300, ..Default::default() };
    assert_eq!(ids(&list(db, &deep).unwrap()), reference(db, &deep)[300..320], "{when}: a deep page");
    let rows: i64 = db.with(|c| Ok(c.query_row("SELECT sum(n) FROM gallery_counts", [], |r| r.get(0))?)).unwrap();
    assert_eq!(rows, reference(db, &ResultQuery::default()).len() as i64, "{when}: gallery_counts");
}

/// Counts (and what is kept between calls) follow results added and deleted, favourites,
/// notes, a task's model, cost and text, and a task deleted with its results.
#[test]
fn counts_follow_every_change() {
    let db = library(800);
    counts_match(&db, "seeded");
    let generation =
        || -> i64 { db.with(|c| Ok(c.query_row("SELECT value FROM gallery_generation", [], |r| r.get(0))?)).unwrap() };
    let g0 = generation();

    let t = tasks::insert_submitting(
        &db,
        MODELS[5],
        &tasks::tests::input(serde_json::json!({"prompt": "a new fox"})),
        Some(40.0),
        false,
        9,
    )
    .unwrap()
    .id;
    let added = library::add_result(
        &db,
        NewResult { task_id: t, path: Some("media/x/new.mp4".into()), ..Default::default() },
        99_999,
    )
    .unwrap();
    assert!(generation() > g0);
    counts_match(&db, "added");
    assert_eq!(list(&db, &ResultQuery { limit: 1, ..Default::default() }).unwrap()[0].result.id, added.id);
    // The same download again changes nothing.
    let g1 = generation();
    library::add_result(&db, NewResult { task_id: t, path: Some("media/x/new.mp4".into()), ..Default::default() }, 5)
        .unwrap();
    assert_eq!(generation(), g1, "a download met again");
    library::set_poster(&db, added.id, Some("posters/p.jpg")).unwrap();
    assert_eq!(generation(), g1, "a poster is not the gallery's business");

    library::set_favourite(&db, added.id, true).unwrap();
    counts_match(&db, "favourite");
    library::set_notes(&db, added.id, Some("the keeper")).unwrap();
    assert_eq!(
        ids(&list(&db, &ResultQuery { search: Some("keeper".into()), limit: 1000, ..Default::default() }).unwrap())
            .first(),
        Some(&added.id)
    );
    counts_match(&db, "notes");
    db.with(|c| {
        Ok(c.execute("UPDATE tasks SET model = ?2, credits_consumed = 0 WHERE id = ?1", params![t, MODELS[0]])?)
    })
    .unwrap();
    counts_match(&db, "a task's model and cost");
    let cheapest = ResultQuery { sort: ResultSort::Cost, desc: false, limit: 1, ..Default::default() };
    assert_eq!(reference(&db, &cheapest)[0], added.id);
    assert_eq!(ids(&list(&db, &cheapest).unwrap()), vec![added.id]);
    db.with(|c| Ok(c.execute("UPDATE tasks SET input_json = '{\"prompt\":\"a heron\"}' WHERE id = ?1", [t])?)).unwrap();
    assert_eq!(count(&db, &ResultQuery { search: Some("heron".into()), ..Default::default() }).unwrap(), 1);
    counts_match(&db, "a task's text");

    let some = reference(&db, &ResultQuery::default())[10];
    library::delete_result(&db, some).unwrap();
    counts_match(&db, "deleted");
    // A task deleted: its results go with it (the cascade fires the triggers).
    let task_of = |id: i64| library::get_result(&db, id).unwrap().task_id;
    let doomed = task_of(reference(&db, &ResultQuery::default())[20]);
    db.with(|c| Ok(c.execute("DELETE FROM tasks WHERE id = ?1", [doomed])?)).unwrap();
    counts_match(&db, "a task deleted");
    assert!(library::results_for_task(&db, doomed).unwrap().is_empty());
}

/// What one handle keeps is not used once another (another process, say) changed the
/// gallery.
#[test]
fn another_handles_writes_are_seen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("library.db");
    let (a, b) = (Db::open(&path, 1).unwrap(), Db::open(&path, 1).unwrap());
    let input = |p: &str| tasks::tests::input(serde_json::json!({ "prompt": p }));
    for i in 0..400 {
        let t = tasks::insert_submitting(&b, MODELS[0], &input("a fox"), None, false, i).unwrap().id;
        library::add_result(&b, NewResult { task_id: t, ..Default::default() }, i).unwrap();
    }
    let deep = ResultQuery { limit: 10, offset: 300, ..Default::default() };
    let search = ResultQuery { search: Some("fox".into()), ..Default::default() };
    let before = ids(&list(&a, &deep).unwrap());
    assert_eq!((count(&a, &search).unwrap(), before.len()), (400, 10));
    let t = tasks::insert_submitting(&b, MODELS[0], &input("a fox"), None, false, 1_000).unwrap().id;
    library::add_result(&b, NewResult { task_id: t, ..Default::default() }, 1_000).unwrap();
    assert_eq!(ids(&list(&a, &deep).unwrap()), reference(&a, &deep)[300..310]);
    assert_ne!(ids(&list(&a, &deep).unwrap()), before);
    assert_eq!(count(&a, &search).unwrap(), 401);
}

/// A cursor from the cost sort carries the cost, unknown costs included, and reads back.
#[test]
fn cursors_carry_their_sort_key() {
    for order in [Order::DateDesc, Order::DateAsc, Order::CostDesc, Order::CostAsc] {
        for cost in [None, Some(0.0), Some(30.5)] {
            let c = ResultCursor { id: 7, created_at: 11, cost: if order.is_cost() { cost } else { None } };
            assert_eq!(Key::from_cursor(&c, order).cursor(order), c, "{order:?}");
        }
    }
    let json = serde_json::to_value(ResultCursor { id: 1, created_at: 2, cost: None }).unwrap();
    assert_eq!(json, serde_json::json!({"id": 1, "created_at": 2, "cost": null}));
    let q: ResultQuery = serde_json::from_value(serde_json::json!({"after": {"id": 1, "created_at": 2}})).unwrap();
    assert_eq!(q.after, Some(ResultCursor { id: 1, created_at: 2, cost: None }));
}
