//! The gallery's queries, quick at 100,000 results (docs/decisions.md, "The gallery at
//! 100,000 results"):
//! - a page comes straight off an index in the gallery's order, from a cursor (the last
//!   item's sort key) rather than skipped to with OFFSET. A page asked for by position alone,
//!   deep down, starts from a sparse list of every [`BLOCK`]th key, made in one index-only
//!   pass the first time and kept until the gallery changes;
//! - counts add up a few rows of `gallery_counts` (kept by triggers) for the model, family,
//!   kind and favourite filters; a date range counts an index range; a search counts its
//!   matches in `gallery_fts`, which has one row per result;
//! - no plan sorts: every order is an index's (the cost sorts' are expression indexes), or a
//!   small set sorted here;
//! - what is kept between calls is keyed by `gallery_generation`, which the triggers bump on
//!   every change the gallery can see, made by any process.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rusqlite::types::Value;
use rusqlite::{params_from_iter, CachedStatement, Connection, Row, Rows};
use serde::{Deserialize, Serialize};

use super::{view_from_row, ResultKind, ResultQuery, ResultSort, ResultView, COLUMNS, VIEW_COLUMNS};
use crate::db::{Db, StoreError};
use crate::search;

/// Where a gallery page ends: its last result's place in the order. Pass a page's `next`
/// back as the query's `after` to get the page that follows, however deep.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ts_rs::TS)]
pub struct ResultCursor {
    pub id: i64,
    pub created_at: i64,
    /// The cost sort's value (credits consumed, else estimated); `None` when unknown, and
    /// with the date sort.
    #[serde(default)]
    pub cost: Option<f64>,
}

/// A page with what the window needs around it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<ResultView>,
    /// Every result the filters match.
    pub total: i64,
    /// The cursor after the last item; `None` when there is nothing after it.
    pub next: Option<ResultCursor>,
}

/// Keys between two entries of the sparse list of a deep walk.
const BLOCK: usize = 128;
/// Offsets below this are walked to from the start; deeper ones start from the sparse list.
const SPARSE_FROM: usize = 2 * BLOCK;
/// The page size the strategies are weighed for (the window's), so that a query's strategy,
/// and what is kept for it, does not change with the limit.
const PAGE: f64 = 120.0;
/// Index steps per row lookup, roughly (measured at 100,000 results: a step to the next entry
/// of an index takes about 0.12 µs, a row looked up by id about 1 µs).
const LOOKUP_COST: f64 = 8.0;
/// Lists and searches kept per library handle.
const KEEP: usize = 8;

/// The cost sorts' keys: written exactly as in their indexes (migration 7), or SQLite will
/// not use them. `-9e999` is minus infinity: unknown costs come last both ways.
const COST_DESC_KEY: &str = "coalesce(r.cost, -9e999)";
const COST_ASC_KEY: &str = "coalesce(-r.cost, -9e999)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Order {
    DateDesc,
    DateAsc,
    /// Descending on `COST_DESC_KEY`, then newest first.
    CostDesc,
    /// Descending on `COST_ASC_KEY` (cheapest first), then newest first.
    CostAsc,
}

impl Order {
    fn of(q: &ResultQuery) -> Order {
        match (q.sort, q.desc) {
            (ResultSort::Date, true) => Order::DateDesc,
            (ResultSort::Date, false) => Order::DateAsc,
            (ResultSort::Cost, true) => Order::CostDesc,
            (ResultSort::Cost, false) => Order::CostAsc,
        }
    }

    fn is_cost(self) -> bool {
        matches!(self, Order::CostDesc | Order::CostAsc)
    }

    /// The first part of the key, as SQL.
    fn k_sql(self) -> &'static str {
        match self {
            Order::CostDesc => COST_DESC_KEY,
            Order::CostAsc => COST_ASC_KEY,
            Order::DateDesc | Order::DateAsc => "0.0",
        }
    }

    /// `Less`: `a` comes first.
    fn cmp(self, a: &Key, b: &Key) -> Ordering {
        let date = (a.created_at, a.id).cmp(&(b.created_at, b.id));
        match self {
            Order::DateAsc => date,
            Order::DateDesc => date.reverse(),
            // partial_cmp: -0.0 and 0.0 are one cost, as SQLite has them.
            Order::CostDesc | Order::CostAsc => a.k.partial_cmp(&b.k).unwrap_or(Ordering::Equal).then(date).reverse(),
        }
    }
}

/// A result's place in an order: `k` is the cost sorts' key (0 for the date sorts).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Key {
    k: f64,
    created_at: i64,
    id: i64,
}

impl Key {
    fn read(row: &Row<'_>) -> rusqlite::Result<Key> {
        Ok(Key { id: row.get(0)?, created_at: row.get(1)?, k: row.get(2)? })
    }

    fn from_cursor(c: &ResultCursor, order: Order) -> Key {
        let k = match order {
            Order::CostDesc => c.cost.unwrap_or(f64::NEG_INFINITY),
            Order::CostAsc => c.cost.map_or(f64::NEG_INFINITY, |cost| -cost),
            Order::DateDesc | Order::DateAsc => 0.0,
        };
        Key { k, created_at: c.created_at, id: c.id }
    }

    fn cursor(&self, order: Order) -> ResultCursor {
        let cost = match order {
            Order::CostDesc => Some(self.k),
            Order::CostAsc => Some(-self.k),
            Order::DateDesc | Order::DateAsc => None,
        };
        ResultCursor { id: self.id, created_at: self.created_at, cost: cost.filter(|c| c.is_finite()) }
    }
}

/// The query, normalised: what its plan depends on, and what is kept for it is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Shape {
    /// The FTS5 expression.
    search: Option<String>,
    /// Results of one of these models (a model, or a family's); `None`: any model.
    models: Option<Vec<String>>,
    kind: Option<ResultKind>,
    favourites: bool,
    from: Option<i64>,
    to: Option<i64>,
    /// Only this batch's results: like a search, a set of ids (small).
    batch: Option<i64>,
    order: Order,
}

impl Shape {
    fn of(q: &ResultQuery) -> Shape {
        let mut models = q.family.as_ref().map(|_| q.models_in.clone());
        if let Some(m) = &q.model {
            models = Some(match models {
                Some(family) => family.into_iter().filter(|f| f == m).collect(),
                None => vec![m.clone()],
            });
        }
        if let Some(models) = models.as_mut() {
            models.sort();
            models.dedup();
        }
        Shape {
            search: q.search.as_deref().and_then(search::match_expression),
            models,
            kind: q.kind,
            favourites: q.favourites_only,
            from: q.from_ms,
            to: q.to_ms,
            batch: q.batch,
            order: Order::of(q),
        }
    }

    /// A family with no models here: nothing matches.
    fn matches_nothing(&self) -> bool {
        self.models.as_ref().is_some_and(Vec::is_empty)
    }

    fn has_filters(&self) -> bool {
        self.models.is_some() || self.kind.is_some() || self.favourites || self.from.is_some() || self.to.is_some()
    }

    /// `WHERE` terms over `results r` for every filter but the search; `model`: the one model
    /// of a walk's arm, in place of the model filter. `checks`: terms only checked on rows
    /// found otherwise (`+` keeps SQLite from going down their indexes).
    fn terms(&self, model: Option<&str>, args: &mut Vec<Value>, checks: bool) -> Vec<String> {
        let r = if checks { "+r" } else { "r" };
        let mut terms = Vec::new();
        match (model, &self.models) {
            (Some(m), _) => {
                terms.push(format!("{r}.model = ?"));
                args.push(Value::Text(m.to_string()));
            }
            (None, Some(models)) => {
                terms.push(format!("{r}.model IN ({})", vec!["?"; models.len()].join(", ")));
                args.extend(models.iter().map(|m| Value::Text(m.clone())));
            }
            (None, None) => {}
        }
        if let Some(kind) = self.kind {
            terms.push(format!("{r}.kind = ?"));
            args.push(Value::Text(kind.as_str().into()));
        }
        if self.favourites {
            terms.push(format!("{r}.favourite = 1"));
        }
        if let Some(from) = self.from {
            terms.push(format!("{r}.created_at >= ?"));
            args.push(Value::Integer(from));
        }
        if let Some(to) = self.to {
            terms.push(format!("{r}.created_at < ?"));
            args.push(Value::Integer(to));
        }
        terms
    }
}

/// Results per filter, from `gallery_counts`.
#[derive(Debug, Clone, Copy, Default)]
struct Sizes {
    total: i64,
    /// Matching the model, kind and favourite filters together.
    matching: i64,
    models: i64,
    kind: i64,
    favourites: i64,
}

fn sizes(c: &Connection, shape: &Shape) -> Result<Sizes, StoreError> {
    let mut args = Vec::new();
    let models = match &shape.models {
        Some(models) => {
            args.extend(models.iter().map(|m| Value::Text(m.clone())));
            format!("model IN ({})", vec!["?"; models.len()].join(", "))
        }
        None => "1".into(),
    };
    let kind = match shape.kind {
        Some(k) => {
            args.push(Value::Text(k.as_str().into()));
            "kind = ?".to_string()
        }
        None => "1".into(),
    };
    let favourites = if shape.favourites { "favourite = 1" } else { "1" };
    // The model and kind arguments go twice: once for `matching`, once on their own.
    let mut all = args.clone();
    all.extend(args);
    let sql = format!(
        "SELECT coalesce(sum(n), 0),
                coalesce(sum(n) FILTER (WHERE {models} AND {kind} AND {favourites}), 0),
                coalesce(sum(n) FILTER (WHERE {models}), 0),
                coalesce(sum(n) FILTER (WHERE {kind}), 0),
                coalesce(sum(n) FILTER (WHERE favourite = 1), 0)
         FROM gallery_counts"
    );
    let mut st = prepare(c, &sql)?;
    Ok(st.query_row(params_from_iter(all), |r| {
        Ok(Sizes { total: r.get(0)?, matching: r.get(1)?, models: r.get(2)?, kind: r.get(3)?, favourites: r.get(4)? })
    })?)
}

/// Which index a date-ordered walk goes down: the one with the fewest entries for the filters.
#[derive(Debug, Clone, PartialEq)]
enum Path {
    All,
    /// One index range per model, merged.
    Models(Vec<String>),
    Kind,
    Favourites,
}

impl Path {
    fn choose(shape: &Shape, sizes: &Sizes) -> (Path, i64) {
        let mut best = (Path::All, sizes.total);
        let mut consider = |path: Path, size: i64| {
            if size < best.1 {
                best = (path, size);
            }
        };
        if let Some(models) = &shape.models {
            consider(Path::Models(models.clone()), sizes.models);
        }
        if shape.favourites {
            consider(Path::Favourites, sizes.favourites);
        }
        if shape.kind.is_some() {
            consider(Path::Kind, sizes.kind);
        }
        best
    }

    fn index(&self) -> &'static str {
        match self {
            Path::All => "results_created_at",
            Path::Models(_) => "results_model_date",
            Path::Kind => "results_kind_date",
            Path::Favourites => "results_favourite_date",
        }
    }
}

/// Statements whose rows are `(id, created_at, k)` keys: read one after the other, or merged
/// by the order when each is in it (the arms of a family).
#[derive(Debug, Clone)]
struct Source {
    arms: Vec<(String, Vec<Value>)>,
    merge: bool,
}

/// How a page is found.
#[derive(Debug, Clone)]
enum How {
    /// Down the source in order, keeping the keys the search (if any) matched.
    Walk(Walk),
    /// Every key of the source, sorted here and kept: for small sets.
    Sorted(Source),
}

/// A walk in the gallery's order, from anywhere.
#[derive(Debug, Clone)]
enum Walk {
    /// Down a date index (or one range per model, merged).
    Date(Path),
    /// Down a cost sort's expression index.
    Cost,
}

struct Plan {
    shape: Shape,
    sizes: Sizes,
    /// The date path: the fewest entries for the filters (what a count or a sort reads).
    path: (Path, i64),
    /// The ids of the results the search matches, ascending.
    found: Option<Arc<Vec<i64>>>,
    how: How,
}

impl Plan {
    fn make(c: &Connection, memo: &Memo, q: &ResultQuery) -> Result<Plan, StoreError> {
        let shape = Shape::of(q);
        let sizes = sizes(c, &shape)?;
        let path = Path::choose(&shape, &sizes);
        let found = match (&shape.search, shape.batch) {
            (Some(expr), None) => Some(memo.found(c, expr)?),
            (None, Some(batch)) => Some(Arc::new(batch_ids(c, batch)?)),
            (Some(expr), Some(batch)) => {
                let searched = memo.found(c, expr)?;
                Some(Arc::new(
                    batch_ids(c, batch)?.into_iter().filter(|id| searched.binary_search(id).is_ok()).collect(),
                ))
            }
            (None, None) => None,
        };
        let order = shape.order;
        let total = sizes.total.max(1) as f64;
        // Results a walk passes per page found: the filters' and the search's selectivity.
        let mut share = sizes.matching.max(1) as f64 / total;
        if let Some(found) = &found {
            share *= found.len().max(1) as f64 / total;
        }
        let walk_steps = (PAGE / share).min(total);
        // A date walk never passes more than its index range holds.
        let steps = if order.is_cost() { walk_steps } else { walk_steps.min(path.1.max(1) as f64) };
        let how = match &found {
            // A search that matches little: its results, sorted, cost less than a walk that
            // passes many results to find a page of them.
            Some(found) if (found.len() as f64) * LOOKUP_COST <= steps => {
                How::Sorted(Source { arms: vec![found_keys(&shape, order, found)?], merge: false })
            }
            _ if !order.is_cost() => How::Walk(Walk::Date(path.0.clone())),
            // A cost walk checks each filter on the row: sort the filter's own index range
            // when that is cheaper.
            _ if shape.has_filters() && (path.1 as f64) < walk_steps * LOOKUP_COST => {
                How::Sorted(date_source(&shape, &path.0, None, None))
            }
            _ => How::Walk(Walk::Cost),
        };
        Ok(Plan { shape, sizes, path, found, how })
    }

    fn matches(&self, id: i64) -> bool {
        self.found.as_ref().is_none_or(|found| found.binary_search(&id).is_ok())
    }

    /// The walk's statements from just after `after`.
    fn walk_source(&self, walk: &Walk, after: Option<&Key>) -> Source {
        match walk {
            Walk::Date(path) => date_source(&self.shape, path, after, Some(self.shape.order)),
            Walk::Cost => cost_source(&self.shape, after),
        }
    }
}

/// The ids of a batch's results, ascending (through `tasks_batch`: a batch is small).
fn batch_ids(c: &Connection, batch: i64) -> Result<Vec<i64>, StoreError> {
    let mut st = prepare(c, BATCH_IDS)?;
    let mut ids = st.query_map([batch], |r| r.get(0))?.collect::<Result<Vec<i64>, _>>()?;
    // Sorted here: a batch's few results, not worth an order in SQL.
    ids.sort_unstable();
    Ok(ids)
}

const BATCH_IDS: &str =
    "SELECT r.id FROM results r WHERE r.task_id IN (SELECT t.id FROM tasks t WHERE t.batch_id = ?1)";

/// Keys of the results the search (or batch) found (`found`, ascending ids), and the filters
/// keep, in no order: for [`How::Sorted`]. They are looked up by id: running the search again
/// inside the statement read the full-text index twice, which was most of a search of several
/// words.
fn found_keys(shape: &Shape, order: Order, found: &[i64]) -> Result<(String, Vec<Value>), StoreError> {
    let mut args = vec![Value::Text(serde_json::to_string(found)?)];
    let mut terms = vec!["r.id IN (SELECT value FROM json_each(?))".to_string()];
    terms.extend(shape.terms(None, &mut args, true));
    let sql = format!("SELECT r.id, r.created_at, {} FROM results r WHERE {}", order.k_sql(), terms.join(" AND "));
    Ok((sql, args))
}

/// Down a date path, in the date `order` (`None`: in no order, for a count or a sort here).
fn date_source(shape: &Shape, path: &Path, after: Option<&Key>, order: Option<Order>) -> Source {
    let k_sql = shape.order.k_sql();
    let arm = |model: Option<&str>| {
        let mut args = Vec::new();
        let mut terms = shape.terms(model, &mut args, false);
        let dir = match order {
            Some(Order::DateAsc) => Some(("ASC", ">")),
            Some(Order::DateDesc) => Some(("DESC", "<")),
            _ => None,
        };
        if let (Some(after), Some((_, cmp))) = (after, dir) {
            terms.push(format!("(r.created_at, r.id) {cmp} (?, ?)"));
            args.extend([Value::Integer(after.created_at), Value::Integer(after.id)]);
        }
        let filter = if terms.is_empty() { String::new() } else { format!(" WHERE {}", terms.join(" AND ")) };
        let order_by = dir.map(|(d, _)| format!(" ORDER BY r.created_at {d}, r.id {d}")).unwrap_or_default();
        let sql =
            format!("SELECT r.id, r.created_at, {k_sql} FROM results r INDEXED BY {}{filter}{order_by}", path.index());
        (sql, args)
    };
    match path {
        Path::Models(models) => Source { arms: models.iter().map(|m| arm(Some(m))).collect(), merge: order.is_some() },
        _ => Source { arms: vec![arm(None)], merge: false },
    }
}

/// Down a cost sort's index. After a cursor: the rest of its cost, then the costs after it
/// (two ranges: a row value on an expression index is not used as one).
fn cost_source(shape: &Shape, after: Option<&Key>) -> Source {
    let order = shape.order;
    let (k_sql, index) = match order {
        Order::CostAsc => (COST_ASC_KEY, "results_cost_asc"),
        _ => (COST_DESC_KEY, "results_cost_desc"),
    };
    let arm = |extra: Option<(&str, Vec<Value>)>, order_by: &str| {
        let mut args = Vec::new();
        let mut terms = shape.terms(None, &mut args, false);
        if let Some((term, values)) = extra {
            terms.push(term.to_string());
            args.extend(values);
        }
        let filter = if terms.is_empty() { String::new() } else { format!("WHERE {}", terms.join(" AND ")) };
        (
            format!(
                "SELECT r.id, r.created_at, {k_sql} FROM results r INDEXED BY {index} {filter} ORDER BY {order_by}"
            ),
            args,
        )
    };
    let all = format!("{k_sql} DESC, r.created_at DESC, r.id DESC");
    let arms = match after {
        None => vec![arm(None, &all)],
        Some(a) => {
            let same = format!("{k_sql} = ? AND (r.created_at, r.id) < (?, ?)");
            let below = format!("{k_sql} < ?");
            vec![
                arm(
                    Some((&same, vec![Value::Real(a.k), Value::Integer(a.created_at), Value::Integer(a.id)])),
                    "r.created_at DESC, r.id DESC",
                ),
                arm(Some((&below, vec![Value::Real(a.k)])), &all),
            ]
        }
    };
    Source { arms, merge: false }
}

/// Every statement of the gallery is prepared here (the plan test reads them back).
fn prepare<'c>(c: &'c Connection, sql: &str) -> rusqlite::Result<CachedStatement<'c>> {
    #[cfg(test)]
    tests::log(sql);
    c.prepare_cached(sql)
}

fn next_key(rows: &mut Rows<'_>) -> rusqlite::Result<Option<Key>> {
    rows.next()?.map(Key::read).transpose()
}

/// Visit the source's keys that `matches` keeps, in order, until `visit` says stop. A row
/// `matches` refuses is not read further than its id (a search's walk passes many).
fn walk(
    c: &Connection,
    source: &Source,
    order: Order,
    matches: impl Fn(i64) -> bool,
    mut visit: impl FnMut(Key) -> bool,
) -> Result<(), StoreError> {
    let mut statements = source.arms.iter().map(|(sql, _)| prepare(c, sql)).collect::<Result<Vec<_>, _>>()?;
    if !source.merge {
        for (st, (_, args)) in statements.iter_mut().zip(&source.arms) {
            let mut rows = st.query(params_from_iter(args))?;
            while let Some(row) = rows.next()? {
                if matches(row.get(0)?) && !visit(Key::read(row)?) {
                    return Ok(());
                }
            }
        }
        return Ok(());
    }
    let mut rows = statements
        .iter_mut()
        .zip(&source.arms)
        .map(|(st, (_, args))| st.query(params_from_iter(args)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut heads = rows.iter_mut().map(next_key).collect::<Result<Vec<_>, _>>()?;
    loop {
        let first =
            heads.iter().enumerate().filter_map(|(i, head)| head.map(|k| (i, k))).min_by(|a, b| order.cmp(&a.1, &b.1));
        let Some((i, key)) = first else { return Ok(()) };
        if matches(key.id) && !visit(key) {
            return Ok(());
        }
        heads[i] = next_key(&mut rows[i])?;
    }
}

/// What is kept for a query between calls.
enum Kept {
    /// Every matching key, in order.
    Sorted(Arc<Vec<Key>>),
    /// Every [`BLOCK`]th matching key of a whole walk (the last of each block), and how many
    /// matched.
    Sparse(Arc<Vec<Key>>, i64),
}

/// What the gallery keeps between calls on one library handle (see [`Db::memo`]), for the
/// generation of the gallery it was made from.
#[derive(Default)]
pub(crate) struct Memo(Mutex<MemoState>);

#[derive(Default)]
struct MemoState {
    generation: Option<i64>,
    found: Vec<(String, Arc<Vec<i64>>)>,
    kept: Vec<(Shape, Kept)>,
}

impl Memo {
    fn state(&self) -> std::sync::MutexGuard<'_, MemoState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Forget everything made from another generation of the gallery.
    fn sync(&self, c: &Connection) -> Result<(), StoreError> {
        let generation: i64 =
            prepare(c, "SELECT value FROM gallery_generation WHERE id = 1")?.query_row([], |r| r.get(0))?;
        let mut state = self.state();
        if state.generation != Some(generation) {
            *state = MemoState { generation: Some(generation), ..MemoState::default() };
        }
        Ok(())
    }

    /// The ids of the results a search matches, ascending: one pass over its matches in
    /// `gallery_fts`.
    fn found(&self, c: &Connection, expr: &str) -> Result<Arc<Vec<i64>>, StoreError> {
        if let Some(found) = self.state().found.iter().find(|(e, _)| e == expr).map(|(_, f)| f.clone()) {
            return Ok(found);
        }
        let mut st = prepare(c, "SELECT rowid FROM gallery_fts WHERE gallery_fts MATCH ?1")?;
        let mut ids = st.query_map([expr], |r| r.get::<_, i64>(0))?.collect::<Result<Vec<_>, _>>()?;
        ids.sort_unstable(); // FTS5 answers in rowid order already: a check in passing.
        let ids = Arc::new(ids);
        let mut state = self.state();
        state.found.insert(0, (expr.to_string(), ids.clone()));
        state.found.truncate(KEEP);
        Ok(ids)
    }

    fn kept(&self, shape: &Shape, sorted: bool) -> Option<(Arc<Vec<Key>>, Option<i64>)> {
        self.state().kept.iter().find_map(|(s, kept)| match kept {
            Kept::Sorted(keys) if sorted && s == shape => Some((keys.clone(), None)),
            Kept::Sparse(keys, n) if !sorted && s == shape => Some((keys.clone(), Some(*n))),
            _ => None,
        })
    }

    fn keep(&self, shape: &Shape, kept: Kept) {
        let mut state = self.state();
        state.kept.insert(0, (shape.clone(), kept));
        state.kept.truncate(KEEP);
    }
}

/// Every key of a sorted plan, in order (made once per generation).
fn sorted_keys(c: &Connection, memo: &Memo, plan: &Plan, source: &Source) -> Result<Arc<Vec<Key>>, StoreError> {
    if let Some((keys, _)) = memo.kept(&plan.shape, true) {
        return Ok(keys);
    }
    let mut keys = Vec::new();
    walk(
        c,
        source,
        plan.shape.order,
        |id| plan.matches(id),
        |key| {
            keys.push(key);
            true
        },
    )?;
    let order = plan.shape.order;
    keys.sort_unstable_by(|a, b| order.cmp(a, b));
    let keys = Arc::new(keys);
    memo.keep(&plan.shape, Kept::Sorted(keys.clone()));
    Ok(keys)
}

/// The sparse list of a walk, and how many it matched (one pass, made once per generation).
fn sparse_keys(c: &Connection, memo: &Memo, plan: &Plan, walk_: &Walk) -> Result<(Arc<Vec<Key>>, i64), StoreError> {
    if let Some((keys, Some(n))) = memo.kept(&plan.shape, false) {
        return Ok((keys, n));
    }
    let (mut keys, mut n) = (Vec::new(), 0usize);
    walk(
        c,
        &plan.walk_source(walk_, None),
        plan.shape.order,
        |id| plan.matches(id),
        |key| {
            n += 1;
            if n % BLOCK == 0 {
                keys.push(key);
            }
            true
        },
    )?;
    let keys = Arc::new(keys);
    memo.keep(&plan.shape, Kept::Sparse(keys.clone(), n as i64));
    Ok((keys, n as i64))
}

/// The keys of the page `q` asks for.
fn page_keys(c: &Connection, memo: &Memo, plan: &Plan, q: &ResultQuery) -> Result<Vec<Key>, StoreError> {
    let limit = q.limit as usize;
    if limit == 0 || plan.shape.matches_nothing() {
        return Ok(Vec::new());
    }
    let order = plan.shape.order;
    let after = q.after.as_ref().map(|a| Key::from_cursor(a, order));
    match &plan.how {
        How::Sorted(source) => {
            let keys = sorted_keys(c, memo, plan, source)?;
            let start = match &after {
                Some(a) => keys.partition_point(|k| order.cmp(k, a) != Ordering::Greater),
                None => (q.offset as usize).min(keys.len()),
            };
            Ok(keys[start..].iter().take(limit).copied().collect())
        }
        How::Walk(walk_) => {
            let offset = q.offset as usize;
            let (from, mut skip) = match after {
                Some(a) => (Some(a), 0),
                None if offset < SPARSE_FROM => (None, offset),
                None => {
                    let (sparse, _) = sparse_keys(c, memo, plan, walk_)?;
                    let block = offset / BLOCK;
                    match sparse.get(block - 1) {
                        Some(k) => (Some(*k), offset - block * BLOCK),
                        None => return Ok(Vec::new()),
                    }
                }
            };
            let mut keys = Vec::with_capacity(limit);
            walk(
                c,
                &plan.walk_source(walk_, from.as_ref()),
                order,
                |id| plan.matches(id),
                |key| {
                    if skip > 0 {
                        skip -= 1;
                    } else {
                        keys.push(key);
                    }
                    keys.len() < limit
                },
            )?;
            Ok(keys)
        }
    }
}

fn count_plan(c: &Connection, memo: &Memo, plan: &Plan) -> Result<i64, StoreError> {
    let shape = &plan.shape;
    if shape.matches_nothing() {
        return Ok(0);
    }
    let Some(found) = &plan.found else {
        if shape.from.is_none() && shape.to.is_none() {
            return Ok(plan.sizes.matching);
        }
        // A date range: the entries of an index range (one per model on the models path).
        let mut n = 0;
        for (sql, args) in date_source(shape, &plan.path.0, None, None).arms {
            let sql = format!("SELECT count(*) FROM ({sql})");
            n += prepare(c, &sql)?.query_row(params_from_iter(args), |r| r.get::<_, i64>(0))?;
        }
        return Ok(n);
    };
    if !shape.has_filters() {
        return Ok(found.len() as i64);
    }
    if let How::Sorted(source) = &plan.how {
        return Ok(sorted_keys(c, memo, plan, source)?.len() as i64);
    }
    if let Some((_, Some(n))) = memo.kept(shape, false) {
        return Ok(n);
    }
    if (found.len() as f64) * LOOKUP_COST < plan.path.1 as f64 {
        // Look up what the search found.
        let (sql, args) = found_keys(shape, shape.order, found)?;
        let sql = format!("SELECT count(*) FROM ({sql})");
        return Ok(prepare(c, &sql)?.query_row(params_from_iter(args), |r| r.get(0))?);
    }
    match &plan.how {
        How::Walk(walk_) => Ok(sparse_keys(c, memo, plan, walk_)?.1),
        How::Sorted(_) => unreachable!("answered above"),
    }
}

/// The rows of these results with their tasks, in the keys' order.
fn fetch(c: &Connection, keys: &[Key]) -> Result<Vec<ResultView>, StoreError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let ids = serde_json::to_string(&keys.iter().map(|k| k.id).collect::<Vec<_>>())?;
    let mut st = prepare(
        c,
        &format!(
            "SELECT {COLUMNS}, {VIEW_COLUMNS} FROM results r JOIN tasks t ON t.id = r.task_id
         WHERE r.id IN (SELECT value FROM json_each(?1))"
        ),
    )?;
    let mut rows: HashMap<i64, ResultView> =
        st.query_map([ids], view_from_row)?.map(|v| v.map(|v| (v.result.id, v))).collect::<Result<_, _>>()?;
    // A result deleted since its key was read is left out.
    Ok(keys.iter().filter_map(|k| rows.remove(&k.id)).collect())
}

fn with_plan<T>(
    db: &Db,
    q: &ResultQuery,
    f: impl FnOnce(&Connection, &Memo, &Plan) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let memo = db.memo::<Memo>();
    db.with(|c| {
        memo.sync(c)?;
        let plan = Plan::make(c, &memo, q)?;
        f(c, &memo, &plan)
    })
}

/// One page of the gallery, with the count and the cursor after it.
pub fn page(db: &Db, q: &ResultQuery) -> Result<Page, StoreError> {
    with_plan(db, q, |c, memo, plan| {
        let keys = page_keys(c, memo, plan, q)?;
        let next = keys.last().filter(|_| keys.len() == q.limit as usize).map(|k| k.cursor(plan.shape.order));
        Ok(Page { items: fetch(c, &keys)?, total: count_plan(c, memo, plan)?, next })
    })
}

/// One page of the gallery.
pub fn list(db: &Db, q: &ResultQuery) -> Result<Vec<ResultView>, StoreError> {
    with_plan(db, q, |c, memo, plan| fetch(c, &page_keys(c, memo, plan, q)?))
}

/// How many results match, whatever the sort, cursor and page.
pub fn count(db: &Db, q: &ResultQuery) -> Result<i64, StoreError> {
    with_plan(db, q, count_plan)
}

#[cfg(test)]
mod tests;
