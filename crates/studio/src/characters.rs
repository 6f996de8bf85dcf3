//! Characters (made by a character model of the catalogue, or added by hand), used as `@handle` in prompts.
//!
//! Handles are stored without the `@` and are unique regardless of case (SQLite's NOCASE,
//! which folds ASCII only: Kie's handles are short user names).

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use crate::db::{required, Db, StoreError};

/// Kie's limit for `character_user_name`.
pub const MAX_HANDLE_CHARS: usize = 40;
/// The characters @-completion reads as part of a handle (Kie's user names), as a regex
/// character class body.
pub const HANDLE_CHARS: &str = "A-Za-z0-9_.";

#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewCharacter {
    /// With or without a leading `@`.
    pub handle: String,
    /// Kie's `character_id`.
    pub character_id: Option<String>,
    pub prompt: Option<String>,
    pub safety_instruction: Option<String>,
    /// The task the character was made from (or by).
    pub origin_task_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Character {
    pub id: i64,
    /// Without the `@`.
    pub handle: String,
    pub character_id: Option<String>,
    pub prompt: Option<String>,
    pub safety_instruction: Option<String>,
    /// `None` once that task is deleted.
    pub origin_task_id: Option<i64>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, handle, character_id, prompt, safety_instruction, origin_task_id, created_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Character> {
    Ok(Character {
        id: r.get("id")?,
        handle: r.get("handle")?,
        character_id: r.get("character_id")?,
        prompt: r.get("prompt")?,
        safety_instruction: r.get("safety_instruction")?,
        origin_task_id: r.get("origin_task_id")?,
        created_at: r.get("created_at")?,
    })
}

/// `@Name` → `Name`: trimmed, one leading `@` dropped.
pub fn normalize_handle(handle: &str) -> &str {
    let h = handle.trim();
    h.strip_prefix('@').unwrap_or(h)
}

/// A handle must be usable as `@handle` inside a prompt: no spaces, no second `@`.
fn valid_handle(handle: &str) -> Result<&str, StoreError> {
    let h = normalize_handle(handle);
    if h.is_empty() || h.chars().count() > MAX_HANDLE_CHARS || h.chars().any(|c| c.is_whitespace() || c == '@') {
        return Err(StoreError::InvalidInput(format!(
            "A character handle must be 1 to {MAX_HANDLE_CHARS} characters without spaces, not {handle:?}"
        )));
    }
    Ok(h)
}

fn load(c: &Connection, id: i64) -> Result<Character, StoreError> {
    let ch = c.query_row(&format!("SELECT {COLUMNS} FROM characters WHERE id = ?1"), [id], from_row).optional()?;
    required(ch, "character", id)
}

/// A handle already taken, in any case, is `DuplicateHandle`.
pub fn add(db: &Db, new: NewCharacter, now_ms: i64) -> Result<Character, StoreError> {
    let handle = valid_handle(&new.handle)?;
    db.tx(|tx| {
        // Checked first (in the write transaction, so no race) for a clear error, rather
        // than reading SQLite's constraint message.
        let taken: Option<String> =
            tx.query_row("SELECT handle FROM characters WHERE handle = ?1", [handle], |r| r.get(0)).optional()?;
        if let Some(existing) = taken {
            return Err(StoreError::DuplicateHandle(existing));
        }
        tx.execute(
            "INSERT INTO characters (handle, character_id, prompt, safety_instruction, origin_task_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![handle, new.character_id, new.prompt, new.safety_instruction, new.origin_task_id, now_ms],
        )?;
        load(tx, tx.last_insert_rowid())
    })
}

/// Remove and return it.
pub fn remove(db: &Db, id: i64) -> Result<Character, StoreError> {
    db.tx(|tx| {
        let ch = load(tx, id)?;
        tx.execute("DELETE FROM characters WHERE id = ?1", [id])?;
        Ok(ch)
    })
}

pub fn get(db: &Db, id: i64) -> Result<Character, StoreError> {
    db.with(|c| load(c, id))
}

/// Case-insensitive; a leading `@` is ignored.
pub fn get_by_handle(db: &Db, handle: &str) -> Result<Option<Character>, StoreError> {
    let h = normalize_handle(handle);
    db.with(|c| {
        Ok(c.query_row(&format!("SELECT {COLUMNS} FROM characters WHERE handle = ?1"), [h], from_row).optional()?)
    })
}

/// Newest first.
pub fn list(db: &Db) -> Result<Vec<Character>, StoreError> {
    db.with(|c| {
        let mut st = c.prepare(&format!("SELECT {COLUMNS} FROM characters ORDER BY created_at DESC, id DESC"))?;
        let rows = st.query_map([], from_row)?.collect::<Result<_, _>>()?;
        Ok(rows)
    })
}

/// `@`-completion: handles starting with `prefix` (case-insensitive, `@` ignored), newest first.
pub fn complete(db: &Db, prefix: &str, limit: u32) -> Result<Vec<Character>, StoreError> {
    let p = normalize_handle(prefix);
    // LIKE wildcards in what was typed are literal.
    let pattern = format!("{}%", p.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    db.with(|c| {
        let mut st = c.prepare(&format!(
            "SELECT {COLUMNS} FROM characters WHERE handle LIKE ?1 ESCAPE '\\'
             ORDER BY created_at DESC, id DESC LIMIT ?2"
        ))?;
        let rows = st.query_map(params![pattern, limit], from_row)?.collect::<Result<_, _>>()?;
        Ok(rows)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::{self, tests::input};
    use serde_json::json;

    fn named(handle: &str) -> NewCharacter {
        NewCharacter { handle: handle.into(), ..Default::default() }
    }

    #[test]
    fn handles_are_unique_in_any_case_and_stored_without_at() {
        let db = Db::open_in_memory().unwrap();
        let c = add(
            &db,
            NewCharacter {
                handle: " @Captain ".into(),
                character_id: Some("ch_1".into()),
                prompt: Some("a pirate cat".into()),
                safety_instruction: Some("no weapons".into()),
                origin_task_id: None,
            },
            10,
        )
        .unwrap();
        assert_eq!((c.handle.as_str(), c.character_id.as_deref(), c.created_at), ("Captain", Some("ch_1"), 10));
        assert!(matches!(add(&db, named("captain"), 11), Err(StoreError::DuplicateHandle(h)) if h == "Captain"));
        assert!(matches!(add(&db, named("@CAPTAIN"), 11), Err(StoreError::DuplicateHandle(_))));
        assert_eq!(get_by_handle(&db, "@cApTaIn").unwrap().unwrap().id, c.id);
        assert_eq!(get_by_handle(&db, "captain ").unwrap().unwrap().id, c.id);
        assert_eq!(get_by_handle(&db, "cap").unwrap(), None);
        for bad in ["", "@", "two words", "a@b", &"x".repeat(41)] {
            assert!(matches!(add(&db, named(bad), 12), Err(StoreError::InvalidInput(_))), "{bad:?}");
        }
        assert_eq!(remove(&db, c.id).unwrap(), c);
        assert!(matches!(remove(&db, c.id), Err(StoreError::NotFound { .. })));
        add(&db, named("captain"), 13).unwrap();
    }

    #[test]
    fn completion_is_by_prefix_and_recency() {
        let db = Db::open_in_memory().unwrap();
        add(&db, named("capybara"), 1).unwrap();
        add(&db, named("Captain"), 2).unwrap();
        add(&db, named("cap_hat"), 3).unwrap();
        add(&db, named("capXhat"), 4).unwrap();
        add(&db, named("bob"), 5).unwrap();
        let ids = |p: &str, n| complete(&db, p, n).unwrap().into_iter().map(|c| c.handle).collect::<Vec<_>>();
        assert_eq!(ids("@CAP", 10), vec!["capXhat", "cap_hat", "Captain", "capybara"]);
        assert_eq!(ids("cap_", 10), vec!["cap_hat"], "_ is literal");
        assert_eq!(ids("capt", 10), vec!["Captain"]);
        assert_eq!(ids("%", 10), Vec::<String>::new());
        assert_eq!(ids("@", 2).len(), 2);
        assert_eq!(ids("", 10).len(), 5);
        assert_eq!(list(&db).unwrap().len(), 5);
        assert_eq!(list(&db).unwrap()[0].handle, "bob");
    }

    #[test]
    fn origin_task_is_cleared_when_the_task_goes() {
        let db = Db::open_in_memory().unwrap();
        let t = tasks::insert_submitting(
            &db,
            "sora-2-characters-pro",
            &input(json!({"character_prompt": "x"})),
            None,
            false,
            1,
        )
        .unwrap();
        let c = add(&db, NewCharacter { origin_task_id: Some(t.id), ..named("hero") }, 2).unwrap();
        assert_eq!(c.origin_task_id, Some(t.id));
        db.with(|conn| Ok(conn.execute("DELETE FROM tasks WHERE id = ?1", [t.id])?)).unwrap();
        assert_eq!(get(&db, c.id).unwrap().origin_task_id, None);
    }
}
