//! Presets: a form's values kept under a name, to start a form (or `kie generate --preset`)
//! from. A preset may be half a form: only its model is checked against the catalogue, and
//! its values are kept as given (a form ignores fields its model does not have).
//!
//! Names are unique regardless of case (SQLite's NOCASE): saving under a taken name replaces
//! that preset, with the new spelling.

use kie::catalogue::Catalogue;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::db::{required, Db, StoreError};
use crate::error::StudioError;

/// The longest name, in characters: it fits a menu row.
pub const MAX_NAME_CHARS: usize = 60;

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Preset {
    pub id: i64,
    pub name: String,
    /// The catalogue model the values are for.
    pub model: String,
    /// The form's values as they were saved (maybe not all of its fields).
    pub input: Map<String, Value>,
    pub created_at: i64,
    /// When it was last saved (the same as `created_at` until it is saved again).
    pub updated_at: i64,
}

const COLUMNS: &str = "id, name, model, input_json, created_at, updated_at";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Preset> {
    let json: String = r.get("input_json")?;
    // The column is checked as JSON; an object is all `save` writes.
    let input = serde_json::from_str(&json).unwrap_or_default();
    Ok(Preset {
        id: r.get("id")?,
        name: r.get("name")?,
        model: r.get("model")?,
        input,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

/// Trimmed, 1 to [`MAX_NAME_CHARS`] characters; otherwise `invalid_input` on `name`.
pub fn valid_name(name: &str) -> Result<&str, StudioError> {
    let n = name.trim();
    if n.is_empty() {
        return Err(StudioError::invalid(
            "name",
            "required",
            format!("A preset needs a name (1 to {MAX_NAME_CHARS} characters)."),
        ));
    }
    let count = n.chars().count();
    if count > MAX_NAME_CHARS {
        return Err(StudioError::invalid(
            "name",
            "too_long",
            format!("A preset name is at most {MAX_NAME_CHARS} characters; this one has {count}."),
        ));
    }
    Ok(n)
}

fn load(c: &Connection, id: i64) -> Result<Preset, StoreError> {
    let p = c.query_row(&format!("SELECT {COLUMNS} FROM presets WHERE id = ?1"), [id], from_row).optional()?;
    required(p, "preset", id)
}

/// Saves `input` for `model` under `name`: a new preset, or the one of that name (in any
/// case) replaced. The model must be in the catalogue (`invalid_input` on `model`).
pub fn save(
    db: &Db,
    catalogue: &Catalogue,
    name: &str,
    model: &str,
    input: &Map<String, Value>,
    now_ms: i64,
) -> Result<Preset, StudioError> {
    let name = valid_name(name)?;
    if catalogue.model(model).is_none() {
        return Err(StudioError::invalid(
            "model",
            "unknown_model",
            format!("\"{model}\" is not a model this app knows: a preset is for one of the catalogue's models."),
        ));
    }
    let json = serde_json::to_string(input).map_err(StoreError::from)?;
    Ok(db.tx(|tx| {
        let found: Option<i64> =
            tx.query_row("SELECT id FROM presets WHERE name = ?1", [name], |r| r.get(0)).optional()?;
        let id = match found {
            Some(id) => {
                tx.execute(
                    "UPDATE presets SET name = ?2, model = ?3, input_json = ?4, updated_at = ?5 WHERE id = ?1",
                    params![id, name, model, json, now_ms],
                )?;
                id
            }
            None => {
                tx.execute(
                    "INSERT INTO presets (name, model, input_json, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?4)",
                    params![name, model, json, now_ms],
                )?;
                tx.last_insert_rowid()
            }
        };
        load(tx, id)
    })?)
}

/// By name (case-insensitive, trimmed).
pub fn get_by_name(db: &Db, name: &str) -> Result<Option<Preset>, StoreError> {
    db.with(|c| {
        Ok(c.query_row(&format!("SELECT {COLUMNS} FROM presets WHERE name = ?1"), [name.trim()], from_row)
            .optional()?)
    })
}

pub fn get(db: &Db, id: i64) -> Result<Preset, StoreError> {
    db.with(|c| load(c, id))
}

/// Every preset, by name (case-insensitive).
pub fn list(db: &Db) -> Result<Vec<Preset>, StoreError> {
    db.with(|c| {
        let mut st = c.prepare(&format!("SELECT {COLUMNS} FROM presets ORDER BY name, id"))?;
        let rows = st.query_map([], from_row)?.collect::<Result<_, _>>()?;
        Ok(rows)
    })
}

/// Removes and returns it.
pub fn delete(db: &Db, id: i64) -> Result<Preset, StoreError> {
    db.tx(|tx| {
        let p = load(tx, id)?;
        tx.execute("DELETE FROM presets WHERE id = ?1", [id])?;
        Ok(p)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiErrorCode;
    use serde_json::json;

    fn input(v: Value) -> Map<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    fn field_of(e: &StudioError) -> (String, String, String) {
        match e {
            StudioError::InvalidInput(p) if p.len() == 1 => {
                (p[0].field.clone(), p[0].rule.clone(), p[0].message.clone())
            }
            other => panic!("not one problem: {other:?}"),
        }
    }

    #[test]
    fn saving_under_a_taken_name_in_any_case_replaces_it() {
        let db = Db::open_in_memory().unwrap();
        let cat = Catalogue::builtin();
        let half = input(json!({"prompt": "a fox", "not_a_field": 3}));
        let a = save(&db, cat, "  Foxes ", "sora-2-text-to-video", &half, 10).unwrap();
        assert_eq!(
            (a.name.as_str(), a.model.as_str(), a.created_at, a.updated_at),
            ("Foxes", "sora-2-text-to-video", 10, 10)
        );
        assert_eq!(a.input, half, "kept as given, unknown fields too");
        let b = save(&db, cat, "FOXES", "sora-2-image-to-video", &input(json!({"prompt": "b"})), 20).unwrap();
        assert_eq!(b.id, a.id);
        assert_eq!(
            (b.name.as_str(), b.model.as_str(), b.created_at, b.updated_at),
            ("FOXES", "sora-2-image-to-video", 10, 20)
        );
        assert_eq!(b.input, input(json!({"prompt": "b"})));
        assert_eq!(list(&db).unwrap(), vec![b.clone()]);
        assert_eq!(get_by_name(&db, " foxes").unwrap(), Some(b.clone()));
        assert_eq!(get(&db, b.id).unwrap(), b);
        assert_eq!(get_by_name(&db, "fox").unwrap(), None);
    }

    #[test]
    fn names_are_checked_and_the_model_must_exist() {
        let db = Db::open_in_memory().unwrap();
        let cat = Catalogue::builtin();
        let m = "sora-2-text-to-video";
        for blank in ["", "   "] {
            let e = save(&db, cat, blank, m, &Map::new(), 1).unwrap_err();
            let (field, rule, message) = field_of(&e);
            assert_eq!((field.as_str(), rule.as_str()), ("name", "required"));
            assert!(message.contains("60"), "{message}");
            assert_eq!(e.code(), ApiErrorCode::InvalidInput);
        }
        let e = save(&db, cat, &"é".repeat(61), m, &Map::new(), 1).unwrap_err();
        let (field, rule, message) = field_of(&e);
        assert_eq!((field.as_str(), rule.as_str()), ("name", "too_long"));
        assert!(message.contains("60") && message.contains("61"), "{message}");
        // Exactly the limit, counted in characters.
        save(&db, cat, &"é".repeat(60), m, &Map::new(), 1).unwrap();
        let e = save(&db, cat, "ok", "no-such-model", &Map::new(), 1).unwrap_err();
        assert_eq!(field_of(&e).0, "model");
        assert_eq!(list(&db).unwrap().len(), 1, "nothing written for a refused save");
    }

    #[test]
    fn listed_by_name_in_any_case_and_deleted() {
        let db = Db::open_in_memory().unwrap();
        let cat = Catalogue::builtin();
        let m = "sora-2-text-to-video";
        for (i, n) in ["beta", "Alpha", "gamma"].iter().enumerate() {
            save(&db, cat, n, m, &Map::new(), i as i64).unwrap();
        }
        let names = |db: &Db| list(db).unwrap().into_iter().map(|p| p.name).collect::<Vec<_>>();
        assert_eq!(names(&db), ["Alpha", "beta", "gamma"]);
        let beta = get_by_name(&db, "BETA").unwrap().unwrap();
        assert_eq!(delete(&db, beta.id).unwrap(), beta);
        assert_eq!(names(&db), ["Alpha", "gamma"]);
        assert!(matches!(delete(&db, beta.id), Err(StoreError::NotFound { what: "preset", .. })));
    }

    #[test]
    fn the_table_refuses_what_is_not_json() {
        let db = Db::open_in_memory().unwrap();
        let bad = db.with(|c| {
            Ok(c.execute(
                "INSERT INTO presets (name, model, input_json, created_at, updated_at) VALUES ('x', 'm', '{', 1, 1)",
                [],
            )?)
        });
        assert!(bad.is_err());
    }
}

#[cfg(all(test, feature = "demo"))]
mod surface_tests {
    use std::sync::Arc;

    use serde_json::{json, Value};

    use crate::error::ApiErrorCode;
    use crate::session::SessionConfig;
    use crate::surface::{dispatch, Channels, Sink};
    use crate::{App, Headless};

    struct NoChannels;
    impl Channels for NoChannels {
        fn open(&self, _: &Value) -> Result<Sink<Value>, crate::ApiError> {
            Ok(Sink::new(|_| true))
        }
    }

    #[tokio::test]
    async fn presets_through_the_surface() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = SessionConfig::from_args_and_env(
            ["kie-studio".to_string(), "--library".into(), dir.path().join("lib").display().to_string()],
            |n| (n == crate::session::KEYRING_SERVICE_ENV).then(|| "ai.kie.studio.test-presets-none".to_string()),
        )
        .unwrap();
        let app = App::new(cfg, Arc::new(Headless), Arc::new(|_: &str| None));
        dispatch(&app, "start_demo", json!({}), &NoChannels).await.unwrap();
        let saved = dispatch(
            &app,
            "save_preset",
            json!({"name": " Snow ", "model": "sora-2-text-to-video", "input": {"prompt": "a fox"}}),
            &NoChannels,
        )
        .await
        .unwrap();
        assert_eq!((saved["name"].clone(), saved["input"].clone()), (json!("Snow"), json!({"prompt": "a fox"})));
        let long = "x".repeat(61);
        let err = dispatch(
            &app,
            "save_preset",
            json!({"name": long, "model": "sora-2-text-to-video", "input": {}}),
            &NoChannels,
        )
        .await
        .unwrap_err();
        assert_eq!((err.code, err.problems[0].field.as_str()), (ApiErrorCode::InvalidInput, "name"));
        let list = dispatch(&app, "list_presets", json!({}), &NoChannels).await.unwrap();
        assert_eq!(list.as_array().unwrap().len(), 1);
        let gone = dispatch(&app, "delete_preset", json!({"id": saved["id"]}), &NoChannels).await.unwrap();
        assert_eq!(gone["name"], "Snow");
        assert_eq!(dispatch(&app, "list_presets", json!({}), &NoChannels).await.unwrap(), json!([]));
    }
}
