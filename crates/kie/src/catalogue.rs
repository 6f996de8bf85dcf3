//! The model catalogue: every model's input fields, limits, widgets, cross-field rules and
//! prices, as data (`catalogue/models.json`). Adding one of Kie's other jobs-API models is a
//! JSON entry, not code: [`Catalogue::extend`] takes more entries at run time, and
//! [`crate::validate::validate`] checks input against whatever the entry says.

use std::collections::HashSet;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::conditions;
use crate::validate::{self, Checked, Problem};

/// What one credit costs in US dollars (contract: 1 credit ≈ $0.005).
pub const CREDIT_USD: f64 = 0.005;

/// The built-in catalogue's source, embedded so the app works offline and cannot lose it.
const BUILTIN_JSON: &str = include_str!("../catalogue/models.json");

/// Credits to a hundredth: per-second prices like 11.7 × 7 stay readable.
fn round_credits(c: f64) -> f64 {
    (c * 100.0).round() / 100.0
}

/// Dollars for `credits`, rounded to a millionth so 30 credits show as exactly $0.15.
pub fn credits_to_usd(credits: f64) -> f64 {
    (credits * CREDIT_USD * 1e6).round() / 1e6
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
pub struct Catalogue {
    pub models: Vec<ModelSpec>,
}

/// What a model makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum OutputKind {
    Video,
    /// A reusable character (`resultObject` with `character_id`), not a media file.
    Character,
    Image,
    Audio,
    Text,
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// The API's model name, sent as `model`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// One plain sentence of what the model does.
    pub summary: String,
    pub output: OutputKind,
    /// How the model is called: Kie's jobs API (createTask/recordInfo) or Veo's endpoints.
    #[serde(default)]
    pub protocol: Protocol,
    /// The family the picker groups it under ("Sora", "Kling", "Veo").
    pub family: String,
    /// What the user gives it, for the picker ("text", "image", "clip", "audio", "video").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub takes: Vec<String>,
    /// What it makes, in a few words for the picker ("5–15 s · 720p–4K · sound").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub makes: Option<String>,
    /// Models of the same kind to offer, in order, when Kie says this one is paused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<String>,
    /// A typical valid input: the docs show it and the tests send it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<Map<String, Value>>,
    /// A note on the model's availability (e.g. paused upstream), shown as is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_note: Option<String>,
    /// The `input` object's fields, in the order a form shows them.
    pub fields: Vec<FieldSpec>,
    /// Rules that involve more than one field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<CrossRule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing: Option<Pricing>,
}

/// How a model is called. Protocols are code; models are data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// `POST /api/v1/jobs/createTask` with `{model, input}`; `GET /api/v1/jobs/recordInfo`.
    #[default]
    Jobs,
    /// `POST /api/v1/veo/generate` with a flat body; `GET /api/v1/veo/record-info`
    /// (`successFlag`); `get-1080p-video` for the HD copy.
    Veo,
}

/// The kind of value a field holds. Validation is generic over these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    Text,
    Number,
    Integer,
    Boolean,
    /// One of `options`; the value sent is the option's `value` exactly (e.g. the string "10").
    Choice,
    Url,
    /// An array of `items`.
    List,
    /// An object with `fields` (e.g. a storyboard shot).
    Object,
    /// A slice of time written `"start,end"` in seconds (e.g. `"2,5"`).
    Range,
}

/// Which control a UI renders for the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Widget {
    Text,
    Textarea,
    Number,
    Select,
    Toggle,
    Url,
    UrlList,
    TextList,
    /// The storyboard's list of scenes with durations.
    Shots,
    /// A generic list of groups.
    ObjectList,
    /// A group of fields (a list item of type object).
    Group,
    TimeRange,
}

impl Widget {
    /// Widgets that can show a field of this type (checked when a catalogue loads).
    fn fits(self, kind: FieldType) -> bool {
        use FieldType as T;
        match self {
            Widget::Text | Widget::Textarea => matches!(kind, T::Text),
            Widget::Number => matches!(kind, T::Number | T::Integer),
            Widget::Select => matches!(kind, T::Choice),
            Widget::Toggle => matches!(kind, T::Boolean),
            Widget::Url => matches!(kind, T::Url),
            Widget::UrlList | Widget::TextList | Widget::Shots | Widget::ObjectList => matches!(kind, T::List),
            Widget::Group => matches!(kind, T::Object),
            Widget::TimeRange => matches!(kind, T::Range),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// The API's key. Empty for a list's `items`.
    #[serde(default)]
    pub name: String,
    /// Plain label for a non-technical user ("Length", "Shape").
    pub label: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub required: bool,
    /// Filled in when the field is absent (only for optional fields).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// The allowed values of a `choice`, each with a plain label.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChoiceOption>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub help: String,
    pub widget: Widget,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
    /// A unit shown after numbers in forms and messages ("s").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Rarely changed: a form may fold it away.
    #[serde(default)]
    pub advanced: bool,
    /// Trim surrounding whitespace from text before checking and sending it.
    #[serde(default = "yes")]
    pub trim: bool,
    /// A list's element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<Box<FieldSpec>>,
    /// An object's fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldSpec>,
    /// Numbers: how the API wants them (`"string"`: `"5"`, not `5`). A number sent as the
    /// wrong type is a 422.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_as: Option<SendAs>,
    /// Top-level fields: shown, checked and sent only when the other fields' values match
    /// (e.g. `{"multi_shots": true}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_when: Option<Conditions>,
    /// Top-level fields: hidden, not checked and not sent when these match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_when: Option<Conditions>,
    /// Text: what `@name` may refer to (characters, a list's items, numbered images).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<MentionSource>,
}

/// How a number goes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum SendAs {
    Number,
    String,
}

/// Conditions on other fields' values (after defaults), all of which must hold.
pub type Conditions = Map<String, Value>;

/// What an `@name` in a text field may name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "from", rename_all = "snake_case", deny_unknown_fields)]
pub enum MentionSource {
    /// The user's character registry (`@handle`); not checked: Kie may know more.
    Characters,
    /// The `key` of each item of the list field `list` (Kling's elements by `name`).
    Items { list: String, key: String },
    /// `@{prefix}1` … `@{prefix}N` for the N items of the list field `list` (`@image1`).
    Numbered { list: String, prefix: String },
}

fn yes() -> bool {
    true
}

impl FieldSpec {
    /// The plain label of a choice's value, e.g. `"10"` → "10 s".
    pub fn label_for(&self, value: &Value) -> Option<&str> {
        let key = validate::canonical(value)?;
        self.options
            .iter()
            .find(|o| validate::canonical(&o.value).as_deref() == Some(key.as_str()))
            .map(|o| o.label.as_str())
    }

    /// A field of an object field, by key.
    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub value: Value,
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// Every limit a field may have; each applies only to the types it names.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Text and URLs: length in characters (not bytes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Lists: number of items.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<usize>,
    /// Numbers; for ranges, the earliest start and latest end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// `min` itself is not allowed (durations must be more than 0).
    #[serde(default, skip_serializing_if = "is_false")]
    pub min_exclusive: bool,
    /// Ranges: shortest and longest span (end − start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_span: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_span: Option<f64>,
    /// URLs: allowed schemes; http and https when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemes: Vec<String>,
    /// URLs: allowed hosts (exact, or `*.example.com` for subdomains); any when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// URLs: allowed file extensions, checked only when the URL's path shows one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub file_types: Vec<String>,
    /// How messages name the file types ("a JPEG, PNG or WebP image").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_types_label: Option<String>,
    /// URLs: largest file Kie accepts, in MB. Not checkable from a URL: for uploaders and help.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_file_mb: Option<f64>,
    /// URLs: the kind of local file that may be picked and uploaded for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaType>,
    /// URLs of clips: shortest and longest length in seconds (checked on a local file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_seconds: Option<f64>,
    /// Text: the only characters allowed, as ranges and single characters ("A-Za-z0-9_.").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_chars: Option<String>,
    /// How messages name `allowed_chars` ("letters, digits, underscores and dots").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_chars_label: Option<String>,
}

/// The kind of local file a URL field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum MediaType {
    Image,
    Video,
    Audio,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A rule involving more than one field.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CrossRule {
    /// The `item_key` numbers of the objects in list `list` add up to at most the value of
    /// `limit_field` (a number, or a choice whose values are numbers), or to `limit`.
    SumAtMost {
        list: String,
        item_key: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit_field: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        limit: Option<f64>,
        /// Message template: `{label}` (the list), `{item_label}`, `{sum}`, `{limit}`,
        /// `{limit_label}`, `{unit}`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// A combination of values Kie refuses: every condition in `when` holds. The problem is
    /// reported on `field` (default: the first field named in `when`).
    Refuse {
        when: Conditions,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
    },
    /// Fields in different groups cannot be used together (first/last frame vs references).
    Exclusive {
        groups: Vec<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// At least one of these fields must be given.
    AtLeastOne {
        fields: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
}

/// Prices in credits, as rules on field values; the first whose `when` all match wins.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    /// True when the figures are this project's guess rather than a published price.
    #[serde(default)]
    pub estimate: bool,
    /// Where the figures come from, or why they are a guess.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Where the figures come from, in a few words (shown in the README's model table).
    pub source: String,
    /// The field whose value is the video's length in seconds, for `per_second` prices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds_field: Option<String>,
    /// The length when no field gives it (a model with a fixed length).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
    pub rules: Vec<PriceRule>,
}

/// `credits` + `per_second` × seconds, for inputs matching `when`.
#[derive(Debug, Clone, Serialize, Deserialize, ts_rs::TS)]
#[serde(deny_unknown_fields)]
pub struct PriceRule {
    /// Conditions on field values (after defaults and normalizing); empty: always.
    #[serde(default)]
    pub when: Conditions,
    /// A fixed price, or the base of a base-plus-per-second price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_second: Option<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("the model catalogue is not valid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the model catalogue lists model {0:?} more than once")]
    DuplicateModel(String),
    #[error("model {model:?}, field {field:?}: {problem}")]
    BadField { model: String, field: String, problem: String },
    #[error("model {model:?}: {problem}")]
    BadModel { model: String, problem: String },
}

impl Catalogue {
    /// The embedded catalogue, parsed and checked once.
    pub fn builtin() -> &'static Catalogue {
        static BUILTIN: OnceLock<Catalogue> = OnceLock::new();
        BUILTIN.get_or_init(|| {
            // A test checks the embedded JSON, so this cannot fail in a released build.
            Catalogue::from_json(BUILTIN_JSON).expect("the built-in model catalogue is valid")
        })
    }

    /// Parse a catalogue (`{"models": [...]}`) and check that it is sane: unique ids and
    /// field names, defaults that pass their own field's checks, rules and prices that
    /// name real fields and values, widgets that fit their types.
    pub fn from_json(json: &str) -> Result<Catalogue, CatalogueError> {
        let catalogue: Catalogue = serde_json::from_str(json)?;
        let mut ids = HashSet::new();
        for model in &catalogue.models {
            if !ids.insert(model.id.as_str()) {
                return Err(CatalogueError::DuplicateModel(model.id.clone()));
            }
            check_model(model)?;
        }
        Ok(catalogue)
    }

    /// Add `other`'s models. All or nothing: fails, adding none, if any is not sane or has
    /// the id of a model already here.
    pub fn extend(&mut self, other: Catalogue) -> Result<(), CatalogueError> {
        let mut ids: HashSet<&str> = self.models.iter().map(|m| m.id.as_str()).collect();
        for model in &other.models {
            if !ids.insert(model.id.as_str()) {
                return Err(CatalogueError::DuplicateModel(model.id.clone()));
            }
            check_model(model)?;
        }
        self.models.extend(other.models);
        Ok(())
    }

    pub fn model(&self, id: &str) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.id == id)
    }

    /// The model that makes a character from a finished video: one whose output is a
    /// character and that takes the video's task as `origin_task_id`.
    pub fn character_from_task(&self) -> Option<&ModelSpec> {
        self.models.iter().find(|m| m.output == OutputKind::Character && m.field("origin_task_id").is_some())
    }

    /// Validate `input` for the model `id`; an unknown model is a problem (rule
    /// `unknown_model`, field `model`) like any other.
    pub fn validate(&self, id: &str, input: &Map<String, Value>) -> Result<Map<String, Value>, Vec<Problem>> {
        match self.model(id) {
            Some(spec) => validate::validate(spec, input),
            None => {
                let known: Vec<&str> = self.models.iter().map(|m| m.id.as_str()).collect();
                Err(vec![Problem::new(
                    "model",
                    "unknown_model",
                    format!("\"{id}\" is not a model this app knows; the known ones are: {}.", known.join(", ")),
                )])
            }
        }
    }
}

impl ModelSpec {
    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The price in credits of running the model with `input`, using defaults for absent
    /// fields. `None` when the model has no price or no rule matches (e.g. an invalid length).
    pub fn estimate_credits(&self, input: &Map<String, Value>) -> Option<f64> {
        let pricing = self.pricing.as_ref()?;
        let values = conditions::effective_values(self, input);
        let rule = pricing.rules.iter().find(|rule| conditions::holds(&rule.when, &values))?;
        let seconds = || match &pricing.seconds_field {
            Some(name) => values.get(name).and_then(validate::as_number),
            None => pricing.seconds,
        };
        let per_second = match rule.per_second {
            Some(rate) => rate * seconds()?,
            None => 0.0,
        };
        Some(round_credits(rule.credits.unwrap_or(0.0) + per_second))
    }

    /// The cheapest and dearest price over every length and tier the catalogue lists, for
    /// the picker ("30–630 credits").
    pub fn price_range(&self) -> Option<(f64, f64)> {
        let pricing = self.pricing.as_ref()?;
        let lengths: Vec<f64> = match &pricing.seconds_field {
            Some(name) => {
                let field = self.field(name)?;
                if field.options.is_empty() {
                    [field.limits.min, field.limits.max].into_iter().flatten().collect()
                } else {
                    field.options.iter().filter_map(|o| validate::as_number(&o.value)).collect()
                }
            }
            None => pricing.seconds.into_iter().collect(),
        };
        let mut prices = Vec::new();
        for rule in &pricing.rules {
            match rule.per_second {
                None => prices.push(rule.credits.unwrap_or(0.0)),
                Some(rate) => {
                    // Only the lengths this tier allows, when the tier names the length.
                    let tier = pricing.seconds_field.as_ref().and_then(|n| rule.when.get(n).map(|t| (n, t)));
                    for secs in &lengths {
                        let fits = tier.is_none_or(|(n, t)| {
                            let mut one = Conditions::new();
                            one.insert(n.clone(), t.clone());
                            let mut v = Map::new();
                            v.insert(n.clone(), Value::from(*secs));
                            conditions::holds(&one, &v)
                        });
                        if fits {
                            prices.push(round_credits(rule.credits.unwrap_or(0.0) + rate * secs));
                        }
                    }
                }
            }
        }
        let lo = prices.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = prices.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        lo.is_finite().then_some((lo, hi))
    }

    /// The optional fields' defaults, as they would be sent.
    pub fn defaults(&self) -> Map<String, Value> {
        self.fields.iter().filter_map(|f| Some((f.name.clone(), f.default.clone()?))).collect()
    }

    /// Whether the price is this project's guess rather than a published one.
    pub fn price_is_estimate(&self) -> bool {
        self.pricing.as_ref().is_some_and(|p| p.estimate)
    }
}

// ---- sanity checks of a catalogue entry ----

fn check_model(model: &ModelSpec) -> Result<(), CatalogueError> {
    let bad = |problem: String| CatalogueError::BadModel { model: model.id.clone(), problem };
    if model.id.trim().is_empty() || model.id.chars().any(char::is_whitespace) {
        return Err(bad("the id must be non-empty and without spaces".into()));
    }
    if model.name.trim().is_empty() || model.summary.trim().is_empty() {
        return Err(bad("the name and summary must not be empty".into()));
    }
    if model.family.trim().is_empty() {
        return Err(bad("the family must not be empty".into()));
    }
    check_fields(&model.id, &model.fields, "")?;
    for field in &model.fields {
        let what = format!("field {:?}", field.name);
        for c in [&field.show_when, &field.hide_when].into_iter().flatten() {
            conditions::check(model, c, &what).map_err(bad)?;
            if c.contains_key(&field.name) {
                return Err(bad(format!("{what} is shown or hidden by its own value")));
            }
        }
        for m in &field.mentions {
            let list = match m {
                MentionSource::Characters => continue,
                MentionSource::Items { list, .. } | MentionSource::Numbered { list, .. } => list,
            };
            if model.field(list).is_none_or(|f| f.kind != FieldType::List) {
                return Err(bad(format!("{what} mentions items of {list:?}, which is not a list field")));
            }
        }
    }
    if let Some(example) = &model.example {
        validate::validate(model, example)
            .map_err(|p| bad(format!("the example input fails its own checks: {}", validate::describe(&p))))?;
    }
    for alt in &model.alternatives {
        if alt == &model.id {
            return Err(bad("a model cannot be its own alternative".into()));
        }
    }
    for rule in &model.rules {
        check_rule(model, rule).map_err(bad)?;
    }
    if let Some(pricing) = &model.pricing {
        check_pricing(model, pricing).map_err(bad)?;
    }
    Ok(())
}

fn check_fields(model: &str, fields: &[FieldSpec], prefix: &str) -> Result<(), CatalogueError> {
    let mut names = HashSet::new();
    for field in fields {
        let path = format!("{prefix}{}", field.name);
        if field.name.trim().is_empty() {
            return Err(CatalogueError::BadModel {
                model: model.into(),
                problem: format!("a field under {prefix:?} has no name"),
            });
        }
        if !names.insert(field.name.to_lowercase()) {
            // Lowercased: validation matches keys case-insensitively as a kindness.
            return Err(bad_field(model, &path, "appears more than once"));
        }
        check_field(model, field, &path)?;
    }
    Ok(())
}

fn bad_field(model: &str, field: &str, problem: impl Into<String>) -> CatalogueError {
    CatalogueError::BadField { model: model.into(), field: field.into(), problem: problem.into() }
}

fn check_field(model: &str, field: &FieldSpec, path: &str) -> Result<(), CatalogueError> {
    let bad = |problem: &str| bad_field(model, path, problem);
    if field.label.trim().is_empty() {
        return Err(bad("has no label"));
    }
    if !field.widget.fits(field.kind) {
        return Err(bad(&format!("widget {:?} cannot show a {:?} field", field.widget, field.kind)));
    }
    match field.kind {
        FieldType::Choice => {
            if field.options.is_empty() {
                return Err(bad("is a choice without options"));
            }
            let mut seen = HashSet::new();
            for option in &field.options {
                let key =
                    validate::canonical(&option.value).ok_or_else(|| bad("has an option that is not a plain value"))?;
                if !seen.insert(key.to_lowercase()) || option.label.trim().is_empty() {
                    return Err(bad("has a repeated or unlabelled option"));
                }
            }
        }
        _ if !field.options.is_empty() => return Err(bad("has options but is not a choice")),
        _ => {}
    }
    match (field.kind, &field.items) {
        (FieldType::List, None) => return Err(bad("is a list without items")),
        (FieldType::List, Some(items)) => {
            if items.required || items.default.is_some() {
                return Err(bad("has items marked required or with a default; use the list's limits"));
            }
            check_field(model, items, &format!("{path}[]"))?;
        }
        (_, Some(_)) => return Err(bad("has items but is not a list")),
        _ => {}
    }
    match field.kind {
        FieldType::Object if field.fields.is_empty() => return Err(bad("is an object without fields")),
        FieldType::Object => check_fields(model, &field.fields, &format!("{path}."))?,
        _ if !field.fields.is_empty() => return Err(bad("has fields but is not an object")),
        _ => {}
    }
    let l = &field.limits;
    let ordered = |lo: Option<f64>, hi: Option<f64>| !matches!((lo, hi), (Some(lo), Some(hi)) if lo > hi);
    if !ordered(l.min_length.map(|n| n as f64), l.max_length.map(|n| n as f64))
        || !ordered(l.min_items.map(|n| n as f64), l.max_items.map(|n| n as f64))
        || !ordered(l.min, l.max)
        || !ordered(l.min_span, l.max_span)
    {
        return Err(bad("has a lower limit above its upper limit"));
    }
    if let Some(spec) = &l.allowed_chars {
        validate::CharSet::parse(spec).ok_or_else(|| bad("has allowed_chars that do not parse"))?;
    }
    if field.send_as.is_some() && !matches!(field.kind, FieldType::Number | FieldType::Integer) {
        return Err(bad("has send_as but is not a number"));
    }
    if (field.limits.media.is_some() || field.limits.min_seconds.is_some() || field.limits.max_seconds.is_some())
        && field.kind != FieldType::Url
    {
        return Err(bad("has media limits but is not a link"));
    }
    if !field.mentions.is_empty() && field.kind != FieldType::Text {
        return Err(bad("has mentions but is not text"));
    }
    if field.required && field.default.is_some() {
        return Err(bad("is required and also has a default"));
    }
    if let Some(default) = &field.default {
        let mut problems = Vec::new();
        if !matches!(validate::check_value(field, default, path, &field.label, &mut problems), Checked::Ok(_)) {
            return Err(bad(&format!("has a default that fails its own checks: {}", validate::describe(&problems))));
        }
    }
    Ok(())
}

fn check_rule(model: &ModelSpec, rule: &CrossRule) -> Result<(), String> {
    match rule {
        CrossRule::SumAtMost { list, item_key, limit_field, limit, .. } => {
            let list_field = model.field(list).ok_or_else(|| format!("sum_at_most names no field {list:?}"))?;
            let item = list_field
                .items
                .as_deref()
                .and_then(|items| items.field(item_key))
                .ok_or_else(|| format!("sum_at_most: {list:?} is not a list of objects with {item_key:?}"))?;
            if !matches!(item.kind, FieldType::Number | FieldType::Integer) {
                return Err(format!("sum_at_most: {list}.{item_key} is not a number"));
            }
            match (limit_field, limit) {
                (Some(name), None) => {
                    let f = model.field(name).ok_or_else(|| format!("sum_at_most names no field {name:?}"))?;
                    let numeric = match f.kind {
                        FieldType::Number | FieldType::Integer => true,
                        FieldType::Choice => f.options.iter().all(|o| validate::as_number(&o.value).is_some()),
                        _ => false,
                    };
                    if !numeric {
                        return Err(format!("sum_at_most: limit field {name:?} is not numeric"));
                    }
                }
                (None, Some(_)) => {}
                _ => return Err("sum_at_most needs exactly one of limit_field and limit".into()),
            }
            Ok(())
        }
        CrossRule::Refuse { when, message, field } => {
            if when.is_empty() || message.trim().is_empty() {
                return Err("refuse needs conditions and a message".into());
            }
            if let Some(f) = field.as_ref().filter(|f| model.field(f).is_none()) {
                return Err(format!("refuse reports on unknown field {f:?}"));
            }
            conditions::check(model, when, "refuse")
        }
        CrossRule::Exclusive { groups, .. } => {
            if groups.len() < 2 || groups.iter().any(Vec::is_empty) {
                return Err("exclusive needs at least two non-empty groups".into());
            }
            match groups.iter().flatten().find(|f| model.field(f).is_none()) {
                Some(f) => Err(format!("exclusive names no field {f:?}")),
                None => Ok(()),
            }
        }
        CrossRule::AtLeastOne { fields, .. } => {
            if fields.len() < 2 {
                return Err("at_least_one needs two or more fields".into());
            }
            match fields.iter().find(|f| model.field(f).is_none()) {
                Some(f) => Err(format!("at_least_one names no field {f:?}")),
                None => Ok(()),
            }
        }
    }
}

fn check_pricing(model: &ModelSpec, pricing: &Pricing) -> Result<(), String> {
    if pricing.rules.is_empty() {
        return Err("pricing has no rules".into());
    }
    if pricing.source.trim().is_empty() {
        return Err("pricing names no source".into());
    }
    if let Some(name) = &pricing.seconds_field {
        let field = model.field(name).ok_or_else(|| format!("pricing's seconds_field names no field {name:?}"))?;
        let numeric = match field.kind {
            FieldType::Number | FieldType::Integer => true,
            FieldType::Choice => field.options.iter().all(|o| validate::as_number(&o.value).is_some()),
            _ => false,
        };
        if !numeric {
            return Err(format!("pricing's seconds_field {name:?} is not numeric"));
        }
    }
    for rule in &pricing.rules {
        let sane = |n: Option<f64>| n.is_none_or(|c| c.is_finite() && c >= 0.0);
        if !sane(rule.credits) || !sane(rule.per_second) || (rule.credits.is_none() && rule.per_second.is_none()) {
            return Err(format!(
                "a price rule needs sane credits or per_second: {:?} / {:?}",
                rule.credits, rule.per_second
            ));
        }
        if rule.per_second.is_some() && pricing.seconds_field.is_none() && pricing.seconds.is_none() {
            return Err("a per-second price needs seconds_field or seconds".into());
        }
        conditions::check(model, &rule.when, "a price")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one_model(field: Value) -> String {
        json!({"models": [{
            "id": "m", "name": "M", "summary": "Does things.", "output": "video", "family": "F",
            "fields": [field]
        }]})
        .to_string()
    }

    #[test]
    fn builtin_parses_and_has_the_seven_models() {
        let c = Catalogue::builtin();
        let ids: Vec<&str> = c.models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "sora-2-text-to-video",
                "sora-2-image-to-video",
                "sora-2-text-to-video-stable",
                "sora-2-image-to-video-stable",
                "sora-2-pro-text-to-video",
                "sora-2-pro-image-to-video",
                "sora-2-pro-storyboard",
                "sora-watermark-remover",
                "sora-2-characters-pro",
                "sora-2-characters",
                "kling-3.0/video",
                "kling-2.6/text-to-video",
                "kling-2.6/image-to-video",
                "bytedance/seedance-2",
                "bytedance/seedance-2-fast",
                "wan/2-6-text-to-video",
                "wan/2-6-image-to-video",
                "hailuo/2-3-image-to-video-pro",
                "hailuo/2-3-image-to-video-standard",
                "hailuo/02-text-to-video-pro",
                "grok-imagine/text-to-video",
                "grok-imagine/image-to-video",
                "veo3",
                "veo3_fast",
                "veo3_lite",
            ]
        );
    }

    #[test]
    fn rejects_an_insane_catalogue() {
        let dup = json!({"models": [
            {"id": "m", "name": "M", "summary": "S.", "output": "video", "family": "F", "fields": []},
            {"id": "m", "name": "M", "summary": "S.", "output": "video", "family": "F", "fields": []}
        ]});
        assert!(matches!(Catalogue::from_json(&dup.to_string()), Err(CatalogueError::DuplicateModel(_))));

        let bad_default = one_model(json!({"name": "n", "label": "N", "type": "choice", "widget": "select",
            "default": "3", "options": [{"value": "1", "label": "1"}]}));
        let err = Catalogue::from_json(&bad_default).unwrap_err();
        assert!(err.to_string().contains("default"), "{err}");

        let wrong_widget = one_model(json!({"name": "n", "label": "N", "type": "text", "widget": "toggle"}));
        assert!(Catalogue::from_json(&wrong_widget).is_err());

        let typo = one_model(json!({"name": "n", "label": "N", "type": "text", "widget": "text", "requried": true}));
        assert!(matches!(Catalogue::from_json(&typo), Err(CatalogueError::Json(_))));

        let list_without_items = one_model(json!({"name": "n", "label": "N", "type": "list", "widget": "url_list"}));
        assert!(Catalogue::from_json(&list_without_items).is_err());

        let upside_down = one_model(json!({"name": "n", "label": "N", "type": "text", "widget": "text",
            "limits": {"min_length": 5, "max_length": 2}}));
        assert!(Catalogue::from_json(&upside_down).is_err());
    }

    #[test]
    fn rejects_rules_and_prices_naming_unknown_things() {
        let mut model = serde_json::to_value(Catalogue::builtin().model("sora-2-pro-storyboard").unwrap()).unwrap();
        model["rules"][0]["item_key"] = json!("length");
        let err = Catalogue::from_json(&json!({"models": [model]}).to_string()).unwrap_err();
        assert!(err.to_string().contains("length"), "{err}");

        let mut model = serde_json::to_value(Catalogue::builtin().model("sora-2-text-to-video").unwrap()).unwrap();
        model["pricing"]["rules"][0]["when"] = json!({"n_frames": "20"});
        assert!(Catalogue::from_json(&json!({"models": [model]}).to_string()).is_err());
    }

    #[test]
    fn extend_is_all_or_nothing() {
        let mut c = Catalogue::builtin().clone();
        let before = c.models.len();
        let again = Catalogue { models: vec![c.models[0].clone()] };
        assert!(matches!(c.extend(again), Err(CatalogueError::DuplicateModel(_))));
        assert_eq!(c.models.len(), before);
    }

    #[test]
    fn round_trips_through_json() {
        let c = Catalogue::builtin();
        let again = Catalogue::from_json(&serde_json::to_string(c).unwrap()).unwrap();
        assert_eq!(serde_json::to_value(c).unwrap(), serde_json::to_value(&again).unwrap());
    }

    #[test]
    fn usd() {
        assert_eq!(credits_to_usd(30.0), 0.15);
        assert_eq!(credits_to_usd(630.0), 3.15);
    }

    #[test]
    fn unknown_model_is_a_problem() {
        let problems = Catalogue::builtin().validate("sora-3", &Map::new()).unwrap_err();
        assert_eq!(problems[0].rule, "unknown_model");
        assert!(problems[0].message.contains("sora-2-text-to-video"));
    }
}
