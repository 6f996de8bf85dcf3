//! Which models exist, and their protocol: read from the app's model catalogue
//! (`crates/kie/catalogue/models.json`, embedded at build time) plus any extra catalogue
//! files given in `SimConfig::extra_catalogues` (or added at run time).
//!
//! Only `id`, `protocol`, `output`, `family` and the first `pricing.rules[].credits` are read,
//! with the simulator's own minimal structs (the `kie` crate's parser is not used). A model's
//! input rules and prices come from the simulator's own tables written from the contract;
//! a catalogue model those tables do not know is accepted with any object input, at the
//! first `credits` of its pricing rules (or 0).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

static BUILTIN: &str = include_str!("../../kie/catalogue/models.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// `createTask` / `recordInfo`.
    Jobs,
    /// `veo/generate` / `veo/record-info`.
    Veo,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Jobs => "jobs",
            Protocol::Veo => "veo",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub protocol: Protocol,
    pub output: String,
    pub family: String,
    /// The first `credits` among the pricing rules (0 when none).
    pub first_credits: f64,
}

#[derive(Deserialize)]
struct RawEntry {
    id: String,
    #[serde(default)]
    protocol: Option<String>,
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    family: Option<String>,
    #[serde(default)]
    pricing: Option<RawPricing>,
}

#[derive(Deserialize)]
struct RawPricing {
    #[serde(default)]
    rules: Vec<RawRule>,
}

#[derive(Deserialize)]
struct RawRule {
    #[serde(default)]
    credits: Option<f64>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Catalogue {
    entries: BTreeMap<String, Entry>,
}

impl Catalogue {
    /// The embedded app catalogue. A broken entry (or file) is reported on stderr and
    /// skipped: the catalogue is being edited by others, and the simulator's own tables
    /// still know the contract's models.
    pub fn builtin() -> Catalogue {
        let mut c = Catalogue::default();
        match parse(BUILTIN) {
            Ok(entries) => {
                for e in entries {
                    match e {
                        Ok((id, entry)) => {
                            c.entries.insert(id, entry);
                        }
                        Err(msg) => eprintln!("kie-sim: models.json: skipped an entry: {msg}"),
                    }
                }
            }
            Err(msg) => eprintln!("kie-sim: models.json is unreadable ({msg}); only the built-in tables are used"),
        }
        c
    }

    /// Adds (or replaces) the models of a catalogue text: `{"models":[...]}`, a bare array
    /// of models, or one model object. Strict: any bad entry refuses the whole text.
    /// Returns the ids added.
    pub fn add_json(&mut self, text: &str) -> Result<Vec<String>, String> {
        let entries = parse(text)?.into_iter().collect::<Result<Vec<_>, _>>()?;
        let ids = entries.iter().map(|(id, _)| id.clone()).collect();
        self.entries.extend(entries);
        Ok(ids)
    }

    pub fn get(&self, id: &str) -> Option<&Entry> {
        self.entries.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Entry)> {
        self.entries.iter()
    }
}

type Parsed = Vec<Result<(String, Entry), String>>;

fn parse(text: &str) -> Result<Parsed, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let models = match v {
        Value::Object(mut o) if o.contains_key("models") => match o.remove("models") {
            Some(Value::Array(a)) => a,
            _ => return Err("\"models\" must be an array".into()),
        },
        Value::Object(o) => vec![Value::Object(o)],
        Value::Array(a) => a,
        _ => return Err("a catalogue is {\"models\": [...]}".into()),
    };
    Ok(models.into_iter().map(entry).collect())
}

fn entry(v: Value) -> Result<(String, Entry), String> {
    let raw: RawEntry = serde_json::from_value(v).map_err(|e| format!("a model entry: {e}"))?;
    let id = raw.id.trim().to_string();
    if id.is_empty() {
        return Err("a model entry has an empty id".into());
    }
    let protocol = match raw.protocol.as_deref().map(str::trim) {
        None | Some("") | Some("jobs") => Protocol::Jobs,
        Some("veo") => Protocol::Veo,
        Some(other) => return Err(format!("model {id}: unknown protocol \"{other}\" (jobs or veo)")),
    };
    let first_credits = raw.pricing.and_then(|p| p.rules.iter().find_map(|r| r.credits)).unwrap_or(0.0);
    let entry = Entry {
        protocol,
        output: raw.output.unwrap_or_else(|| "video".into()),
        family: raw.family.unwrap_or_default(),
        first_credits,
    };
    Ok((id, entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_catalogue_is_read() {
        let c = Catalogue::builtin();
        let t2v = c.get("sora-2-text-to-video").expect("the app catalogue holds sora-2-text-to-video");
        assert_eq!(t2v.protocol, Protocol::Jobs);
        assert_eq!(t2v.output, "video");
        assert_eq!(t2v.family, "Sora");
        assert_eq!(t2v.first_credits, 30.0);
        for (id, e) in c.iter() {
            if id.starts_with("veo3") {
                assert_eq!(e.protocol, Protocol::Veo, "{id}");
            }
        }
    }

    #[test]
    fn extra_catalogues_add_models() {
        let mut c = Catalogue::default();
        let ids = c
            .add_json(r#"{"models":[{"id":"acme/v1","family":"Acme","output":"video","pricing":{"rules":[{"when":{},"per_second":2},{"when":{"x":"1"},"credits":12}]},"fields":[]},{"id":"veo4","protocol":"veo"}]}"#)
            .unwrap();
        assert_eq!(ids, ["acme/v1", "veo4"]);
        assert_eq!(c.get("acme/v1").unwrap().first_credits, 12.0);
        assert_eq!(c.get("veo4").unwrap().protocol, Protocol::Veo);
        assert_eq!(c.get("veo4").unwrap().first_credits, 0.0);
        assert!(c.add_json(r#"{"id":"x","protocol":"grpc"}"#).unwrap_err().contains("grpc"));
        assert!(c.add_json("[1]").is_err());
        assert!(c.add_json("nope").is_err());
        assert!(c.get("x").is_none());
        c.add_json(r#"[{"id":"one"}]"#).unwrap();
        assert_eq!(c.get("one").unwrap().protocol, Protocol::Jobs);
    }
}
