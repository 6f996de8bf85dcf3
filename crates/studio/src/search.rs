//! Full-text search (SQLite FTS5) over task prompts and storyboard scenes, characters
//! (handle and prompt) and result notes. The index (`search_fts`) and the triggers that keep
//! it in sync are in the migrations (`db.rs`); this module only turns what the user typed
//! into a safe query.

use rusqlite::params;
use serde::Serialize;

use crate::db::{Db, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HitKind {
    /// `id` is a task id.
    Task,
    /// `id` is a character id.
    Character,
    /// `id` is a result id (found by its notes).
    Result,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct SearchHit {
    pub kind: HitKind,
    pub id: i64,
}

/// More words than anyone types; keeps a pasted essay from making a huge query.
const MAX_TERMS: usize = 16;

/// Turn user text into an FTS5 query: every word becomes a quoted prefix term
/// (`"fox"* "sno"*`), ANDed, so FTS syntax (`"`, `*`, `NEAR`, `OR`, `-`, `:` ...) is only ever
/// literal text, and "fox sno" finds "a fox in the snow" as the user types.
/// `None` when nothing searchable is left (blank, or punctuation only).
pub fn match_expression(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        // A word with no letter or digit would be an empty phrase once tokenized.
        .filter(|w| w.chars().any(char::is_alphanumeric))
        .take(MAX_TERMS)
        .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// Best matches first (bm25), newest first among equals.
pub fn search(db: &Db, query: &str, limit: u32) -> Result<Vec<SearchHit>, StoreError> {
    let Some(expr) = match_expression(query) else { return Ok(Vec::new()) };
    db.with(|c| {
        // What a row is comes from its rowid (`id * 4 + tag`, migration 3): reading the
        // UNINDEXED `kind` and `ref_id` columns would fetch every hit's stored row.
        let mut st = c.prepare_cached(
            "SELECT rowid FROM search_fts WHERE search_fts MATCH ?1 ORDER BY rank, rowid DESC LIMIT ?2",
        )?;
        let rows = st.query_map(params![expr, limit], |r| r.get::<_, i64>(0))?;
        let mut hits = Vec::new();
        for rowid in rows {
            let rowid = rowid?;
            let kind = match rowid & 3 {
                1 => HitKind::Task,
                2 => HitKind::Character,
                3 => HitKind::Result,
                // Written by a newer schema; this version cannot show it.
                _ => continue,
            };
            hits.push(SearchHit { kind, id: rowid >> 2 });
        }
        Ok(hits)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::characters::{self, NewCharacter};
    use crate::library::{self, NewResult};
    use crate::tasks::{self, tests::input};
    use serde_json::json;

    fn hit(kind: HitKind, id: i64) -> SearchHit {
        SearchHit { kind, id }
    }

    #[test]
    fn expressions_are_quoted_prefixes() {
        assert_eq!(match_expression("fox sno").as_deref(), Some("\"fox\"* \"sno\"*"));
        assert_eq!(match_expression("say \"hi\"").as_deref(), Some("\"say\"* \"\"\"hi\"\"\"*"));
        assert_eq!(match_expression("  "), None);
        assert_eq!(match_expression("@ * \" -"), None);
        assert_eq!(match_expression(&"w ".repeat(100)).unwrap().matches('*').count(), MAX_TERMS);
    }

    #[test]
    fn finds_prompts_scenes_characters_and_notes() {
        let db = Db::open_in_memory().unwrap();
        let fox = tasks::insert_submitting(&db, "m", &input(json!({"prompt": "A fox in the snow"})), None, false, 1)
            .unwrap()
            .id;
        let board = tasks::insert_submitting(
            &db,
            "sora-2-pro-storyboard",
            &input(
                json!({"shots": [{"Scene": "Waves crash", "duration": 5}, {"Scene": "a café at night"}, "junk", 7]}),
            ),
            None,
            false,
            2,
        )
        .unwrap()
        .id;
        let odd =
            tasks::insert_submitting(&db, "m", &input(json!({"prompt": 42, "shots": "not a list"})), None, false, 3)
                .unwrap()
                .id;
        let cap = characters::add(
            &db,
            NewCharacter {
                handle: "@Captain_Whiskers".into(),
                prompt: Some("a pirate cat".into()),
                ..Default::default()
            },
            4,
        )
        .unwrap()
        .id;
        let r = library::add_result(&db, NewResult { task_id: fox, ..Default::default() }, 5).unwrap().id;
        library::set_notes(&db, r, Some("best one for the reel")).unwrap();

        let s = |q| search(&db, q, 10).unwrap();
        assert_eq!(s("fox sno"), vec![hit(HitKind::Task, fox)]);
        assert_eq!(s("FOX"), vec![hit(HitKind::Task, fox)]);
        assert_eq!(s("crash"), vec![hit(HitKind::Task, board)]);
        assert_eq!(s("cafe"), vec![hit(HitKind::Task, board)], "diacritics are folded");
        assert_eq!(s("42"), vec![hit(HitKind::Task, odd)]);
        assert_eq!(s("@captain"), vec![hit(HitKind::Character, cap)]);
        assert_eq!(s("whisk"), vec![hit(HitKind::Character, cap)]);
        assert_eq!(s("pirate"), vec![hit(HitKind::Character, cap)]);
        assert_eq!(s("reel"), vec![hit(HitKind::Result, r)]);
        assert!(s("fox cat").is_empty(), "all words must match");
        assert!(s("").is_empty());
        // FTS syntax in user text is literal, never an error.
        for q in ["\"", "fox\"", "NEAR(fox", "fox OR", "-fox", "title:fox", "^fox", "fox*", "(", "AND", "a'b"] {
            assert!(search(&db, q, 10).is_ok(), "{q:?}");
        }
        assert_eq!(s("fox*"), vec![hit(HitKind::Task, fox)]);

        // Triggers keep the index in step with edits and deletes.
        library::set_notes(&db, r, Some("changed my mind")).unwrap();
        assert!(s("reel").is_empty());
        assert_eq!(s("mind"), vec![hit(HitKind::Result, r)]);
        library::set_notes(&db, r, None).unwrap();
        assert!(s("mind").is_empty());
        characters::remove(&db, cap).unwrap();
        assert!(s("pirate").is_empty());
        db.with(|c| Ok(c.execute("UPDATE tasks SET input_json = '{\"prompt\":\"a hawk\"}' WHERE id = ?1", [fox])?))
            .unwrap();
        assert!(s("fox").is_empty());
        assert_eq!(s("hawk"), vec![hit(HitKind::Task, fox)]);
        // Status changes do not touch the index.
        tasks::mark_submitted(&db, fox, "k", 6).unwrap();
        assert_eq!(s("hawk"), vec![hit(HitKind::Task, fox)]);
        assert_eq!(search(&db, "a", 1).unwrap().len(), 1, "limit");
    }
}
