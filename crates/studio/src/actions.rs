//! The window's requests that are more than one call into the core: the live form check,
//! the balance, a gallery page, the task queue, and characters added or removed by hand
//! (with the event other listeners need). Each app command converts and calls one of these
//! or a `Studio` method.

use kie::catalogue::{credits_to_usd, Catalogue};
use serde_json::{Map, Value};

use crate::api::{Balance, InputCheck, ResultPage};
use crate::characters::{self, Character, NewCharacter};
use crate::error::StudioError;
use crate::events::StudioEvent;
use crate::library::{self, ResultQuery};
use crate::runner::Studio;
use crate::tasks::{self, Task, TaskQuery};

/// Most rows one request returns (the queue, a gallery page, completions).
pub const MAX_PAGE: u32 = 500;

/// The form's live check: every problem, and the price of what is filled in so far
/// (absent fields count at their defaults). Touches nothing; works with no key set.
pub fn check_input(catalogue: &Catalogue, model: &str, input: &Map<String, Value>) -> InputCheck {
    let (problems, credits) = match (catalogue.validate(model, input), catalogue.model(model)) {
        (Ok(normalized), Some(spec)) => (Vec::new(), spec.estimate_credits(&normalized)),
        (Err(problems), Some(spec)) => (problems, spec.estimate_credits(input)),
        (Err(problems), None) => (problems, None),
        (Ok(_), None) => (Vec::new(), None),
    };
    InputCheck { problems, credits, usd: credits.map(credits_to_usd) }
}

impl Studio {
    /// Kie's balance for this studio's key.
    pub async fn balance(&self) -> Result<Balance, StudioError> {
        let credits = self.client().credits().await?;
        Ok(Balance { credits, usd: credits_to_usd(credits) })
    }

    /// The queue: newest first.
    pub fn recent_tasks(&self, limit: u32) -> Result<Vec<Task>, StudioError> {
        let q = TaskQuery { limit: limit.clamp(1, MAX_PAGE), ..TaskQuery::default() };
        Ok(tasks::list(self.db(), &q)?)
    }

    /// One page of the gallery, with the total for the pager.
    pub fn result_page(&self, query: &ResultQuery) -> Result<ResultPage, StudioError> {
        let q = ResultQuery { limit: query.limit.clamp(1, MAX_PAGE), ..query.clone() };
        Ok(ResultPage { items: library::list_results(self.db(), &q)?, total: library::count_results(self.db(), &q)? })
    }

    /// `@` completion while typing a prompt.
    pub fn complete_characters(&self, prefix: &str, limit: u32) -> Result<Vec<Character>, StudioError> {
        Ok(characters::complete(self.db(), prefix, limit.clamp(1, MAX_PAGE))?)
    }

    /// Register a handle the user already has (`duplicate_handle` if taken in any case).
    pub fn add_character(
        &self,
        handle: &str,
        character_id: Option<String>,
        prompt: Option<String>,
    ) -> Result<Character, StudioError> {
        let clean = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let new = NewCharacter {
            handle: handle.to_string(),
            character_id: clean(character_id),
            prompt: clean(prompt),
            ..NewCharacter::default()
        };
        let c = characters::add(self.db(), new, self.now_ms())?;
        self.emit(StudioEvent::CharacterAdded { character: c.clone() });
        Ok(c)
    }

    pub fn remove_character(&self, id: i64) -> Result<Character, StudioError> {
        Ok(characters::remove(self.db(), id)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn input(pairs: &[(&str, Value)]) -> Map<String, Value> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    #[test]
    fn live_check_gives_problems_and_a_price() {
        let cat = Catalogue::builtin();
        let ok = check_input(cat, "sora-2-text-to-video", &input(&[("prompt", "a fox in the snow".into())]));
        assert!(ok.problems.is_empty(), "{:?}", ok.problems);
        let credits = ok.credits.expect("priced");
        assert_eq!(ok.usd, Some(credits_to_usd(credits)));

        let empty = check_input(cat, "sora-2-text-to-video", &Map::new());
        assert!(empty.problems.iter().any(|p| p.field == "prompt"), "{:?}", empty.problems);
        assert_eq!(empty.credits, Some(credits), "the price at the defaults, while the form is incomplete");

        let unknown = check_input(cat, "no-such-model", &Map::new());
        assert_eq!(unknown.problems[0].rule, "unknown_model");
        assert_eq!((unknown.credits, unknown.usd), (None, None));
    }

    fn studio(dir: &std::path::Path) -> Studio {
        let lib = crate::paths::LibraryPaths::new(dir.join("lib")).unwrap();
        lib.create_dirs().unwrap();
        let db = crate::Db::open(&lib.db(), 0).unwrap();
        let client = kie::KieClient::new(kie::ClientConfig::new(kie::ApiKey::new("unused").unwrap())).unwrap();
        Studio::new(
            db,
            lib,
            client,
            Catalogue::builtin().clone(),
            Arc::new(crate::clock::SystemClock),
            crate::RunnerConfig::default(),
        )
    }

    #[test]
    fn characters_by_hand_announce_themselves() {
        let dir = tempfile::tempdir().unwrap();
        let s = studio(dir.path());
        let mut rx = s.subscribe();
        let c = s.add_character("@Maya", Some("  ".into()), Some(" a red-haired skater ".into())).unwrap();
        assert_eq!((c.handle.as_str(), c.character_id.as_deref()), ("Maya", None));
        assert_eq!(c.prompt.as_deref(), Some("a red-haired skater"));
        match rx.try_recv().unwrap() {
            StudioEvent::CharacterAdded { character } => assert_eq!(character, c),
            other => panic!("{other:?}"),
        }
        let dup = s.add_character("maya", None, None).unwrap_err();
        assert_eq!(dup.code(), "duplicate_handle");
        assert_eq!(s.complete_characters("ma", 10).unwrap(), vec![c.clone()]);
        assert_eq!(s.remove_character(c.id).unwrap(), c);
        assert_eq!(s.remove_character(c.id).unwrap_err().code(), "not_found");
    }

    #[test]
    fn empty_pages() {
        let dir = tempfile::tempdir().unwrap();
        let s = studio(dir.path());
        assert!(s.recent_tasks(0).unwrap().is_empty());
        let page = s.result_page(&ResultQuery { limit: 100_000, ..ResultQuery::default() }).unwrap();
        assert_eq!((page.items.len(), page.total), (0, 0));
    }
}
