//! What Kie last said about each model's availability. When a create is answered "This
//! interface is temporarily paused." (or 505, disabled), the model is remembered as such,
//! with the date, so the picker and the form can say so and offer a live alternative. A
//! later accepted create clears it. Nothing is retried on its own.

use std::collections::HashMap;

use kie::catalogue::{Catalogue, ModelSpec};
use kie::KieError;
use serde::Serialize;
use ts_rs::TS;

use crate::db::{Db, StoreError};

/// Paused (Kie's words) or disabled (505).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ModelState {
    Paused,
    Disabled,
}

impl ModelState {
    fn as_str(self) -> &'static str {
        match self {
            ModelState::Paused => "paused",
            ModelState::Disabled => "disabled",
        }
    }

    /// The state a create's refusal says the model is in, if any.
    pub fn from_error(err: &KieError) -> Option<ModelState> {
        match err {
            KieError::ModelPaused(_) => Some(ModelState::Paused),
            KieError::FeatureDisabled(_) => Some(ModelState::Disabled),
            _ => None,
        }
    }
}

/// What Kie said, and when it was first said.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
pub struct ModelStatus {
    pub model: String,
    pub state: ModelState,
    /// Kie's own words.
    pub message: String,
    /// When Kie first said so (kept while it keeps saying so).
    pub since_ms: i64,
}

/// Remember that Kie refused a create for `model` as paused or disabled.
pub fn record(db: &Db, model: &str, state: ModelState, message: &str, now_ms: i64) -> Result<(), StoreError> {
    db.with(|c| {
        c.execute(
            "INSERT INTO model_status (model, state, message, since_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (model) DO UPDATE SET message = excluded.message,
                 since_ms = CASE WHEN state = excluded.state THEN since_ms ELSE excluded.since_ms END,
                 state = excluded.state",
            rusqlite::params![model, state.as_str(), message, now_ms],
        )?;
        Ok(())
    })
}

/// Kie took a create for `model`: it is available again.
pub fn clear(db: &Db, model: &str) -> Result<bool, StoreError> {
    db.with(|c| Ok(c.execute("DELETE FROM model_status WHERE model = ?1", [model])? > 0))
}

/// Every model Kie has said is unavailable.
pub fn all(db: &Db) -> Result<HashMap<String, ModelStatus>, StoreError> {
    db.with(|c| {
        let mut stmt = c.prepare("SELECT model, state, message, since_ms FROM model_status")?;
        let rows = stmt.query_map([], |r| {
            let state: String = r.get(1)?;
            Ok(ModelStatus {
                model: r.get(0)?,
                state: if state == "disabled" { ModelState::Disabled } else { ModelState::Paused },
                message: r.get(2)?,
                since_ms: r.get(3)?,
            })
        })?;
        let mut out = HashMap::new();
        for row in rows {
            let row = row?;
            out.insert(row.model.clone(), row);
        }
        Ok(out)
    })
}

/// The first of the model's listed alternatives that is in the catalogue and not known to
/// be unavailable.
pub fn alternative<'a>(
    catalogue: &'a Catalogue,
    spec: &ModelSpec,
    unavailable: &HashMap<String, ModelStatus>,
) -> Option<&'a ModelSpec> {
    spec.alternatives.iter().filter(|id| !unavailable.contains_key(id.as_str())).find_map(|id| catalogue.model(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_first_date_and_forgets_on_success() {
        let db = Db::open_in_memory().unwrap();
        record(&db, "m1", ModelState::Paused, "This interface is temporarily paused.", 100).unwrap();
        record(&db, "m1", ModelState::Paused, "This interface is temporarily paused.", 200).unwrap();
        let all1 = all(&db).unwrap();
        assert_eq!(all1["m1"].since_ms, 100, "the first time Kie said so");
        record(&db, "m1", ModelState::Disabled, "disabled", 300).unwrap();
        assert_eq!(all(&db).unwrap()["m1"].since_ms, 300, "a new state starts a new date");
        assert!(clear(&db, "m1").unwrap());
        assert!(all(&db).unwrap().is_empty());
        assert!(!clear(&db, "m1").unwrap());
    }

    #[test]
    fn the_alternative_skips_unavailable_ones() {
        let cat = Catalogue::builtin();
        let spec = cat.models.iter().find(|m| m.alternatives.len() >= 2).expect("some model lists two alternatives");
        let none = HashMap::new();
        assert_eq!(alternative(cat, spec, &none).map(|m| m.id.clone()), Some(spec.alternatives[0].clone()));
        let mut first_paused = HashMap::new();
        first_paused.insert(
            spec.alternatives[0].clone(),
            ModelStatus {
                model: spec.alternatives[0].clone(),
                state: ModelState::Paused,
                message: String::new(),
                since_ms: 1,
            },
        );
        assert_eq!(alternative(cat, spec, &first_paused).map(|m| m.id.clone()), Some(spec.alternatives[1].clone()));
    }
}
