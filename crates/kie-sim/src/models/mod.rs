//! The models the simulator knows, their input validation and prices, written from the
//! contract (`shared/kie-api.md`: "Models and their input", "Kie's other video models",
//! "Veo 3.1"), independently of the client's catalogue. Which models exist also comes from
//! the catalogue files (see `catalogue.rs`): a catalogue model these tables do not know is
//! accepted with any input at its catalogue price.

mod grok;
mod hailuo;
mod kling;
mod seedance;
pub(crate) mod sora;
pub(crate) mod veo;
mod wan;

use std::sync::OnceLock;

use crate::catalogue::{Catalogue, Protocol};
use crate::rules::{self, Field, Input};

pub(crate) const UNSUPPORTED_MODEL: &str = "The model name you specified is not supported";

/// What a validated create will produce.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Output {
    /// A video (plus watermarked copy and first frame).
    Video { portrait: bool, seconds: u32 },
    /// The watermark remover: one landscape video.
    Remover,
    /// A character (`resultObject`): with a handle (characters-pro), or a bare
    /// `{character_id}` (sora-2-characters).
    Character { handle: Option<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub price: f64,
    pub output: Output,
    /// Veo's `response.resolution`.
    pub resolution: Option<String>,
}

impl Plan {
    pub fn new(price: f64, output: Output) -> Plan {
        Plan { price: rules::credits(price), output, resolution: None }
    }
}

/// What the simulator knows of a task named as `origin_task_id`.
pub(crate) struct Origin {
    pub succeeded: bool,
    /// A video made by a Sora generator (not the watermark remover, not a character).
    pub sora_video: bool,
    pub seconds: Option<u32>,
}

pub(crate) type OriginLookup<'a> = &'a dyn Fn(&str) -> Option<Origin>;

/// One jobs-API model, from the contract.
pub(crate) struct Spec {
    pub id: &'static str,
    pub family: &'static str,
    pub fields: Vec<Field>,
    /// Fields the contract says this model does not have.
    pub absent: &'static [&'static str],
    /// Rules across fields (after every field passed its own check).
    pub rules: fn(&Input) -> Result<(), String>,
    pub price: fn(&Input) -> f64,
    pub output: fn(&Input) -> Output,
}

impl Spec {
    fn validate(&self, input: &Input) -> Result<Plan, String> {
        rules::check_fields("input.", input, &self.fields)?;
        rules::check_absent("input.", self.id, input, self.absent)?;
        (self.rules)(input)?;
        Ok(Plan::new((self.price)(input), (self.output)(input)))
    }
}

pub(crate) fn no_rules(_: &Input) -> Result<(), String> {
    Ok(())
}

fn specs() -> &'static [Spec] {
    static SPECS: OnceLock<Vec<Spec>> = OnceLock::new();
    SPECS.get_or_init(|| {
        let mut v = sora::specs();
        v.extend(kling::specs());
        v.extend(seedance::specs());
        v.extend(wan::specs());
        v.extend(hailuo::specs());
        v.extend(grok::specs());
        v
    })
}

fn spec(model: &str) -> Option<&'static Spec> {
    specs().iter().find(|s| s.id == model)
}

/// Every model id the simulator's own tables know, with its protocol and family.
pub(crate) fn table_models() -> Vec<(&'static str, Protocol, &'static str)> {
    let mut v: Vec<_> = specs().iter().map(|s| (s.id, Protocol::Jobs, s.family)).collect();
    v.extend(veo::MODELS.iter().map(|(id, _)| (*id, Protocol::Veo, "Veo")));
    v
}

/// A model's protocol: the tables' for the contract's models, else the catalogue's.
pub(crate) fn protocol(model: &str, cat: &Catalogue) -> Option<Protocol> {
    if spec(model).is_some() {
        Some(Protocol::Jobs)
    } else if veo::prices(model).is_some() {
        Some(Protocol::Veo)
    } else {
        cat.get(model).map(|e| e.protocol)
    }
}

/// A model's family ("Sora", "Kling", ...): the tables' or the catalogue's.
pub(crate) fn family(model: &str, cat: &Catalogue) -> String {
    match spec(model) {
        Some(s) => s.family.to_string(),
        None if veo::prices(model).is_some() => "Veo".into(),
        None => cat.get(model).map(|e| e.family.clone()).unwrap_or_default(),
    }
}

/// Whether `createTask` knows this model (it then needs an `input` object).
pub(crate) fn jobs_model(model: &str, cat: &Catalogue) -> bool {
    protocol(model, cat) == Some(Protocol::Jobs)
}

/// Validates a createTask `input` for `model`; the error is the message of a 422 answer.
pub(crate) fn validate(model: &str, input: &Input, origin: OriginLookup, cat: &Catalogue) -> Result<Plan, String> {
    if let Some(spec) = spec(model) {
        let plan = spec.validate(input)?;
        if model == "sora-2-characters-pro" {
            sora::check_origin(input, origin)?;
        }
        return Ok(plan);
    }
    match (protocol(model, cat), cat.get(model)) {
        (Some(Protocol::Jobs), Some(entry)) => {
            let output = if entry.output == "character" {
                Output::Character { handle: Some(format!("sim{}.ab", crate::util::short_hex(6))) }
            } else {
                Output::Video { portrait: false, seconds: 10 }
            };
            Ok(Plan::new(entry.first_credits, output))
        }
        _ => Err(UNSUPPORTED_MODEL.into()),
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use serde_json::Value;

    pub fn none(_: &str) -> Option<Origin> {
        None
    }

    pub fn v(model: &str, input: Value) -> Result<Plan, String> {
        validate(model, input.as_object().unwrap(), &none, &Catalogue::default())
    }

    pub fn price(model: &str, input: Value) -> f64 {
        match v(model, input.clone()) {
            Ok(p) => p.price,
            Err(e) => panic!("{model} {input}: {e}"),
        }
    }

    pub fn err(model: &str, input: Value) -> String {
        match v(model, input.clone()) {
            Ok(p) => panic!("{model} {input} was accepted: {p:?}"),
            Err(e) => e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn every_table_model_is_unique_and_veo_is_not_a_jobs_model() {
        let models = table_models();
        let mut ids: Vec<_> = models.iter().map(|m| m.0).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), models.len());
        assert_eq!(err("veo3_fast", json!({"prompt": "x"})), UNSUPPORTED_MODEL);
        assert_eq!(err("sora-3", json!({})), UNSUPPORTED_MODEL);
    }

    #[test]
    fn catalogue_models_unknown_to_the_tables() {
        let mut cat = Catalogue::default();
        cat.add_json(
            r#"{"models":[{"id":"acme/v1","family":"Acme","pricing":{"rules":[{"when":{},"credits":12}]}},
                        {"id":"acme/char","output":"character"},{"id":"veo9","protocol":"veo"}]}"#,
        )
        .unwrap();
        let input = json!({"anything": [1, 2], "goes": true});
        let plan = validate("acme/v1", input.as_object().unwrap(), &none, &cat).unwrap();
        assert_eq!(plan.price, 12.0);
        assert!(matches!(plan.output, Output::Video { .. }));
        let plan = validate("acme/char", input.as_object().unwrap(), &none, &cat).unwrap();
        assert_eq!(plan.price, 0.0);
        assert!(matches!(plan.output, Output::Character { .. }));
        assert_eq!(validate("veo9", input.as_object().unwrap(), &none, &cat).unwrap_err(), UNSUPPORTED_MODEL);
        assert_eq!(family("acme/v1", &cat), "Acme");
        assert_eq!(family("kling-3.0/video", &cat), "Kling");
        assert_eq!(protocol("veo9", &cat), Some(Protocol::Veo));
        assert_eq!(protocol("veo3", &cat), Some(Protocol::Veo));
        assert!(jobs_model("sora-2-characters", &cat));
        assert!(!jobs_model("nope", &cat));
    }
}
