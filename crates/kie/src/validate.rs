//! Validation of a model's input against the catalogue, before anything is sent.
//!
//! Generic over the catalogue's field types: nothing here knows a model by name, so a model
//! added as JSON is validated like the built-in ones. Every problem is collected (never
//! only the first), each with the field's path, a stable rule id and a plain message that
//! names the field by its label. On success the input comes back normalized for sending:
//! defaults filled in, text trimmed, forgiving spellings (`10` for `"10"`, `"yes"` for
//! `true`, `"Portrait"` for `"portrait"`) turned into what the API expects.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::catalogue::{CrossRule, FieldSpec, FieldType, MentionSource, ModelSpec, SendAs};
use crate::conditions::{effective_values, holds};

/// One thing wrong with the input, in words a non-technical user understands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct Problem {
    /// The input field, e.g. `prompt`, `image_urls[1]` or `shots[2].duration` (indexes
    /// count from 0 here; messages count from 1).
    pub field: String,
    /// A stable rule id the UI can branch on, e.g. `too_long`, `required`.
    pub rule: String,
    /// The message, naming the field, the limit and what is wrong.
    pub message: String,
}

impl Problem {
    pub fn new(field: impl Into<String>, rule: impl Into<String>, message: impl Into<String>) -> Self {
        Problem { field: field.into(), rule: rule.into(), message: message.into() }
    }
}

/// All problems as one message.
pub fn describe(problems: &[Problem]) -> String {
    problems.iter().map(|p| p.message.as_str()).collect::<Vec<_>>().join("\n")
}

/// Check `input` against `spec`. Returns the input normalized for sending, or every problem.
pub fn validate(spec: &ModelSpec, input: &Map<String, Value>) -> Result<Map<String, Value>, Vec<Problem>> {
    let mut problems = Vec::new();
    let owner = format!("a setting of {}", spec.name);
    let hidden = hidden_fields(spec, input);
    let out = check_object(&spec.fields, input, "", None, &owner, &hidden, &mut problems);
    for rule in &spec.rules {
        check_cross_rule(spec, rule, &out, &mut problems);
    }
    check_mentions(spec, &out, &mut problems);
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

/// The top-level fields that `show_when`/`hide_when` leave out for this input: a form hides
/// them, and validation neither checks nor sends them (a value left in one is dropped).
pub fn hidden_fields(spec: &ModelSpec, input: &Map<String, Value>) -> Vec<String> {
    if spec.fields.iter().all(|f| f.show_when.is_none() && f.hide_when.is_none()) {
        return Vec::new();
    }
    let values = effective_values(spec, input);
    spec.fields
        .iter()
        .filter(|f| {
            f.show_when.as_ref().is_some_and(|c| !holds(c, &values))
                || f.hide_when.as_ref().is_some_and(|c| holds(c, &values))
        })
        .map(|f| f.name.clone())
        .collect()
}

/// The outcome of checking one value.
pub(crate) enum Checked {
    Ok(Value),
    /// Empty text, an empty list, or whitespace: treated as absent.
    Blank,
    /// Problems were reported.
    Bad,
}

/// `value` normalized as `field` would send it, or `None` if it is invalid or blank.
pub(crate) fn normalize(field: &FieldSpec, value: &Value) -> Option<Value> {
    match check_value(field, value, &field.name, &field.label, &mut Vec::new()) {
        Checked::Ok(v) => Some(v),
        _ => None,
    }
}

/// A scalar as text for comparing choice values ("10" and 10 are the same length).
pub(crate) fn canonical(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(match n.as_f64() {
            Some(f) if n.as_i64().is_none() && n.as_u64().is_none() => plain_num(f),
            _ => n.to_string(),
        }),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A number, or text that is one.
pub(crate) fn as_number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|n| n.is_finite())
}

/// Where a value sits and how messages name it; collects problems.
struct At<'a> {
    path: &'a str,
    label: &'a str,
    problems: &'a mut Vec<Problem>,
}

impl At<'_> {
    fn push(&mut self, rule: &str, message: String) -> Checked {
        self.problems.push(Problem::new(self.path, rule, message));
        Checked::Bad
    }

    fn wrong_type(&mut self, expected: &str, got: &Value) -> Checked {
        let message = format!("{} must be {expected}; got {}.", self.label, show(got));
        self.push("wrong_type", message)
    }
}

fn check_object(
    fields: &[FieldSpec],
    input: &Map<String, Value>,
    prefix: &str,
    label_prefix: Option<&str>,
    owner: &str,
    hidden: &[String],
    problems: &mut Vec<Problem>,
) -> Map<String, Value> {
    // Which input key feeds which field: exact names first, then the same name in other
    // letter case (a kindness to people typing on a command line).
    let mut given: Vec<Option<(&str, &Value)>> = vec![None; fields.len()];
    let mut loose = Vec::new();
    for (key, value) in input {
        match fields.iter().position(|f| f.name == *key) {
            Some(i) => given[i] = Some((key, value)),
            None => loose.push((key, value)),
        }
    }
    let mut stray = Vec::new();
    for (key, value) in loose {
        match fields.iter().position(|f| f.name.eq_ignore_ascii_case(key)) {
            Some(i) if given[i].is_none() => given[i] = Some((key, value)),
            Some(i) => stray.push(Problem::new(
                format!("{prefix}{key}"),
                "duplicate_field",
                format!(
                    "\"{key}\" repeats {} (already given as \"{}\"); keep one.",
                    join_label(label_prefix, &fields[i].label),
                    given[i].map_or("", |g| g.0)
                ),
            )),
            None => {
                let valid: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                stray.push(Problem::new(
                    format!("{prefix}{key}"),
                    "unknown_field",
                    format!("\"{key}\" is not {owner}; the valid ones are: {}.", valid.join(", ")),
                ));
            }
        }
    }

    let mut out = Map::new();
    for (field, given) in fields.iter().zip(&given) {
        if hidden.contains(&field.name) {
            continue;
        }
        let path = format!("{prefix}{}", field.name);
        let label = join_label(label_prefix, &field.label);
        let value = given.map(|g| g.1).filter(|v| !v.is_null());
        let checked = match value {
            Some(v) => check_value(field, v, &path, &label, problems),
            None => Checked::Blank,
        };
        match checked {
            Checked::Ok(v) => {
                out.insert(field.name.clone(), v);
            }
            Checked::Bad => {}
            Checked::Blank if field.required => {
                let (rule, message) = match (value, field.kind) {
                    (None, _) => ("required", format!("{label} is required.")),
                    (Some(_), FieldType::List) => {
                        let min = field.limits.min_items.unwrap_or(1).max(1);
                        ("too_few", format!("{label}: none given, at least {} needed.", fmt_count(min)))
                    }
                    (Some(_), _) => ("required", format!("{label} must not be empty.")),
                };
                problems.push(Problem::new(path, rule, message));
            }
            Checked::Blank => {
                if let Some(default) = &field.default {
                    out.insert(field.name.clone(), default.clone());
                }
            }
        }
    }
    problems.extend(stray);
    out
}

/// Check one value against its field (not `required`: the caller decides what blank means).
pub(crate) fn check_value(
    field: &FieldSpec,
    value: &Value,
    path: &str,
    label: &str,
    problems: &mut Vec<Problem>,
) -> Checked {
    let before = problems.len();
    let mut at = At { path, label, problems };
    let checked = match field.kind {
        FieldType::Text => check_text(field, value, &mut at),
        FieldType::Number | FieldType::Integer => check_number(field, value, &mut at),
        FieldType::Boolean => check_bool(value, &mut at),
        FieldType::Choice => check_choice(field, value, &mut at),
        FieldType::Url => check_url(field, value, &mut at),
        FieldType::Range => check_range(field, value, &mut at),
        FieldType::List => check_list(field, value, &mut at),
        FieldType::Object => match value {
            Value::Object(map) => {
                let owner = format!("part of {label}");
                let out = check_object(&field.fields, map, &format!("{path}."), Some(label), &owner, &[], at.problems);
                Checked::Ok(Value::Object(out))
            }
            other => {
                let names: Vec<&str> = field.fields.iter().map(|f| f.label.as_str()).collect();
                at.wrong_type(&format!("a group of {}", join_list(&names, "and")), other)
            }
        },
    };
    // Several checks report and go on, so that all problems show at once.
    if problems.len() > before {
        Checked::Bad
    } else {
        checked
    }
}

fn check_text(field: &FieldSpec, value: &Value, at: &mut At) -> Checked {
    let text = match value {
        Value::String(s) => s.clone(),
        // Ids typed on a command line may arrive as numbers.
        Value::Number(n) => n.to_string(),
        other => return at.wrong_type("text", other),
    };
    let text = if field.trim { text.trim().to_string() } else { text };
    if text.trim().is_empty() {
        return Checked::Blank;
    }
    check_length(&text, field, at);
    if let Some(set) = field.limits.allowed_chars.as_deref().and_then(CharSet::parse) {
        if let Some(bad) = text.chars().find(|c| !set.contains(*c)) {
            let allowed = field.limits.allowed_chars_label.clone().unwrap_or_else(|| set.describe());
            at.push("bad_format", format!("{} may only contain {allowed}; \"{bad}\" is not allowed.", at.label));
        }
    }
    Checked::Ok(Value::String(text))
}

fn check_length(text: &str, field: &FieldSpec, at: &mut At) {
    let n = text.chars().count();
    if let Some(max) = field.limits.max_length.filter(|max| n > *max) {
        let message =
            format!("{} is too long: {} characters, the limit is {}.", at.label, fmt_count(n), fmt_count(max));
        at.push("too_long", message);
    }
    if let Some(min) = field.limits.min_length.filter(|min| n < *min) {
        let message =
            format!("{} is too short: {} characters, it needs at least {}.", at.label, fmt_count(n), fmt_count(min));
        at.push("too_short", message);
    }
}

/// A number typed as text, maybe with its unit ("5", "5 s", "5s").
fn parse_number_text(text: &str, unit: Option<&str>) -> Option<f64> {
    let text = text.trim();
    let text = unit.and_then(|u| text.strip_suffix(u)).map_or(text, str::trim_end);
    text.parse::<f64>().ok().filter(|n| n.is_finite())
}

fn check_number(field: &FieldSpec, value: &Value, at: &mut At) -> Checked {
    let integer = field.kind == FieldType::Integer;
    let expected = if integer { "a whole number" } else { "a number" };
    let n = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if s.trim().is_empty() => return Checked::Blank,
        Value::String(s) => parse_number_text(s, field.unit.as_deref()),
        _ => None,
    };
    let Some(n) = n else { return at.wrong_type(expected, value) };
    if integer && n.fract() != 0.0 {
        return at.wrong_type(expected, value);
    }
    let unit = unit_suffix(field);
    let l = &field.limits;
    if let Some(min) = l.min {
        if l.min_exclusive && n <= min {
            let message = format!("{} must be more than {}{unit}; got {}{unit}.", at.label, fmt_num(min), fmt_num(n));
            at.push("out_of_range", message);
        } else if n < min {
            let message = format!("{} must be at least {}{unit}; got {}{unit}.", at.label, fmt_num(min), fmt_num(n));
            at.push("out_of_range", message);
        }
    }
    if let Some(max) = l.max.filter(|max| n > *max) {
        let message = format!("{} must be at most {}{unit}; got {}{unit}.", at.label, fmt_num(max), fmt_num(n));
        at.push("out_of_range", message);
    }
    match field.send_as {
        Some(SendAs::String) => Checked::Ok(Value::String(plain_num(n))),
        _ => Checked::Ok(number_value(n)),
    }
}

fn check_bool(value: &Value, at: &mut At) -> Checked {
    let b = match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" => return Checked::Blank,
            "true" | "yes" | "y" | "on" | "1" => Some(true),
            "false" | "no" | "n" | "off" | "0" => Some(false),
            _ => None,
        },
        Value::Number(n) if n.as_f64() == Some(1.0) => Some(true),
        Value::Number(n) if n.as_f64() == Some(0.0) => Some(false),
        _ => None,
    };
    match b {
        Some(b) => Checked::Ok(Value::Bool(b)),
        None => at.wrong_type("yes or no (true or false)", value),
    }
}

fn check_choice(field: &FieldSpec, value: &Value, at: &mut At) -> Checked {
    let given = canonical(value);
    if given.as_deref() == Some("") {
        return Checked::Blank;
    }
    // Accept the value in any letter case, or the option's label ("High (1080p)", "10 s").
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
    let found = given.as_deref().and_then(|g| {
        let g = squash(g);
        field.options.iter().find(|o| canonical(&o.value).is_some_and(|v| squash(&v) == g)).or_else(|| {
            // Only when no value matched, so a label can never shadow another option's value.
            field.options.iter().find(|o| squash(&o.label) == g)
        })
    });
    match found {
        Some(option) => Checked::Ok(option.value.clone()),
        None => {
            let labels: Vec<&str> = field.options.iter().map(|o| o.label.as_str()).collect();
            let got = match &given {
                Some(g) => quote(g),
                None => show(value),
            };
            let message = format!("{} must be one of {}; got {got}.", at.label, join_list(&labels, "or"));
            at.push("not_allowed", message)
        }
    }
}

fn check_url(field: &FieldSpec, value: &Value, at: &mut At) -> Checked {
    let text = match value {
        Value::String(s) => s.trim().to_string(),
        other => return at.wrong_type("a web link", other),
    };
    if text.is_empty() {
        return Checked::Blank;
    }
    check_length(&text, field, at);
    let l = &field.limits;
    let default_schemes = ["https".to_string(), "http".to_string()];
    let schemes: &[String] = if l.schemes.is_empty() { &default_schemes } else { &l.schemes };
    // With fixed hosts the message shows the exact shape of a good link.
    let shape = if l.hosts.is_empty() {
        let starts: Vec<String> = schemes.iter().map(|s| format!("{s}://")).collect();
        format!("a full web link starting with {}", join_list(&starts, "or"))
    } else {
        let shapes: Vec<String> = l.hosts.iter().map(|h| format!("{}://{h}/…", schemes[0])).collect();
        format!("a {} link", join_list(&shapes, "or"))
    };
    let bad_shape = |at: &mut At, rule: &str| {
        let message = format!("{} must be {shape}; got {}.", at.label, quote(&text));
        at.push(rule, message);
    };
    let parsed = match url::Url::parse(&text) {
        Ok(u)
            if schemes.iter().any(|s| s.eq_ignore_ascii_case(u.scheme()))
                && u.host_str().is_some_and(|h| !h.is_empty()) =>
        {
            u
        }
        _ => {
            bad_shape(at, "bad_url");
            return Checked::Bad;
        }
    };
    let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
    if !l.hosts.is_empty() && !l.hosts.iter().any(|h| host_matches(&host, h)) {
        bad_shape(at, "bad_host");
    }
    if !l.file_types.is_empty() {
        let name = parsed.path_segments().and_then(|mut s| s.next_back()).unwrap_or_default();
        if let Some((_, ext)) = name.rsplit_once('.').filter(|(_, ext)| !ext.is_empty()) {
            if !l.file_types.iter().any(|t| t.trim_start_matches('.').eq_ignore_ascii_case(ext)) {
                let wanted = l.file_types_label.clone().unwrap_or_else(|| {
                    let exts: Vec<String> =
                        l.file_types.iter().map(|t| format!(".{}", t.trim_start_matches('.'))).collect();
                    format!("a {} file", join_list(&exts, "or"))
                });
                let message = format!("{} must be {wanted}; \"{name}\" is a .{} file.", at.label, ext.to_lowercase());
                at.push("bad_file_type", message);
            }
        }
    }
    Checked::Ok(Value::String(text))
}

fn host_matches(host: &str, allowed: &str) -> bool {
    let allowed = allowed.to_ascii_lowercase();
    match allowed.strip_prefix("*.") {
        Some(parent) => host.strip_suffix(parent).is_some_and(|sub| sub.ends_with('.') && sub.len() > 1),
        None => host == allowed,
    }
}

fn check_range(field: &FieldSpec, value: &Value, at: &mut At) -> Checked {
    let unit = field.unit.as_deref();
    let pair = match value {
        Value::String(s) if s.trim().is_empty() => return Checked::Blank,
        Value::String(s) => s.split_once(',').and_then(|(a, b)| {
            (!b.contains(',')).then_some(())?;
            Some((parse_number_text(a, unit)?, parse_number_text(b, unit)?))
        }),
        Value::Array(items) if items.len() == 2 => as_number(&items[0]).zip(as_number(&items[1])),
        _ => None,
    };
    let Some((start, end)) = pair else {
        let message = format!("{} must be a start and an end in seconds, like \"2,5\"; got {}.", at.label, show(value));
        return at.push("bad_format", message);
    };
    let u = unit_suffix(field);
    let written = format!("{},{}", plain_num(start), plain_num(end));
    let l = &field.limits;
    if let Some(min) = l.min.filter(|min| start < *min) {
        let message = format!("{} must start at {}{u} or later; got \"{written}\".", at.label, fmt_num(min));
        at.push("out_of_range", message);
    }
    if let Some(max) = l.max.filter(|max| end > *max) {
        let message = format!("{} must end by {}{u}; got \"{written}\".", at.label, fmt_num(max));
        at.push("out_of_range", message);
    }
    let span = end - start;
    if span <= 0.0 {
        let message = format!("{} must end after it starts; got \"{written}\".", at.label);
        at.push("out_of_range", message);
    } else if l.min_span.is_some_and(|m| span < m) || l.max_span.is_some_and(|m| span > m) {
        let long = match (l.min_span, l.max_span) {
            (Some(a), Some(b)) => format!("{} to {}{u}", fmt_num(a), fmt_num(b)),
            (Some(a), None) => format!("at least {}{u}", fmt_num(a)),
            (None, Some(b)) => format!("at most {}{u}", fmt_num(b)),
            (None, None) => unreachable!("checked just above"),
        };
        let message = format!("{} must be {long} long; \"{written}\" is {}{u}.", at.label, fmt_num(span));
        at.push("out_of_range", message);
    }
    Checked::Ok(Value::String(written))
}

fn check_list(field: &FieldSpec, value: &Value, at: &mut At) -> Checked {
    let Some(item_spec) = field.items.as_deref() else {
        // The catalogue check guarantees items; without them there is nothing to check.
        return Checked::Ok(value.clone());
    };
    let scalar_items = !matches!(item_spec.kind, FieldType::List | FieldType::Object);
    let items: Vec<Value> = match value {
        Value::Array(items) => items.clone(),
        // One link or id on its own stands for a list of one.
        Value::String(s) if scalar_items && s.trim().is_empty() => return Checked::Blank,
        Value::String(_) | Value::Number(_) | Value::Bool(_) if scalar_items => vec![value.clone()],
        other => return at.wrong_type("a list", other),
    };
    if items.is_empty() {
        return Checked::Blank;
    }
    let n = items.len();
    let l = &field.limits;
    if let Some(max) = l.max_items.filter(|max| n > *max) {
        let message = format!("{}: {} given, the limit is {}.", at.label, fmt_count(n), fmt_count(max));
        at.push("too_many", message);
    }
    if let Some(min) = l.min_items.filter(|min| n < *min) {
        let message = format!("{}: {} given, at least {} needed.", at.label, fmt_count(n), fmt_count(min));
        at.push("too_few", message);
    }
    let mut out = Vec::with_capacity(n);
    for (i, item) in items.iter().enumerate() {
        let path = format!("{}[{i}]", at.path);
        let label = format!("{} {}", item_spec.label, i + 1);
        let checked =
            if item.is_null() { Checked::Blank } else { check_value(item_spec, item, &path, &label, at.problems) };
        match checked {
            Checked::Ok(v) => out.push(v),
            Checked::Blank => {
                at.problems.push(Problem::new(path, "required", format!("{label} is empty: fill it in or remove it.")));
            }
            Checked::Bad => {}
        }
    }
    Checked::Ok(Value::Array(out))
}

fn check_cross_rule(spec: &ModelSpec, rule: &CrossRule, out: &Map<String, Value>, problems: &mut Vec<Problem>) {
    match rule {
        CrossRule::Refuse { .. } | CrossRule::Exclusive { .. } | CrossRule::AtLeastOne { .. } => {
            check_other_rule(spec, rule, out, problems)
        }
        CrossRule::SumAtMost { list, item_key, limit_field, limit, message } => {
            // A sum of values already reported as wrong would only add noise.
            if touched(problems, list) || limit_field.as_deref().is_some_and(|f| touched(problems, f)) {
                return;
            }
            let Some(Value::Array(items)) = out.get(list) else { return };
            let sum: f64 = items.iter().filter_map(|item| item.get(item_key)).filter_map(as_number).sum();
            let lim = match (limit_field, limit) {
                (Some(name), _) => out.get(name).and_then(as_number),
                (None, Some(lim)) => Some(*lim),
                (None, None) => None,
            };
            let Some(lim) = lim else { return };
            // Durations like 2.5 add up exactly in binary, but allow for ones that do not.
            if sum <= lim + 1e-9 {
                return;
            }
            let list_spec = spec.field(list);
            let item_field = list_spec.and_then(|f| f.items.as_deref()).and_then(|i| i.field(item_key));
            let unit = item_field.map(unit_suffix).unwrap_or_default();
            let limit_label =
                limit_field.as_deref().and_then(|n| spec.field(n)).map_or("the limit", |f| f.label.as_str());
            let template =
                message.as_deref().unwrap_or("{label} add up to {sum}{unit}, more than {limit_label} ({limit}{unit}).");
            let text = template
                .replace("{label}", list_spec.map_or(list.as_str(), |f| f.label.as_str()))
                .replace("{item_label}", item_field.map_or(item_key.as_str(), |f| f.label.as_str()))
                .replace("{sum}", &fmt_num(sum))
                .replace("{limit_label}", limit_label)
                .replace("{limit}", &fmt_num(lim))
                .replace("{unit}", &unit);
            problems.push(Problem::new(list.clone(), "sum_too_large", text));
        }
    }
}

/// Whether problems were already reported on this field (or inside it): a rule about it
/// would only add noise.
fn touched(problems: &[Problem], name: &str) -> bool {
    problems.iter().any(|p| {
        p.field == name || p.field.starts_with(&format!("{name}[")) || p.field.starts_with(&format!("{name}."))
    })
}

fn label_of<'a>(spec: &'a ModelSpec, name: &'a str) -> &'a str {
    spec.field(name).map_or(name, |f| f.label.as_str())
}

fn check_other_rule(spec: &ModelSpec, rule: &CrossRule, out: &Map<String, Value>, problems: &mut Vec<Problem>) {
    match rule {
        CrossRule::SumAtMost { .. } => {}
        CrossRule::Refuse { when, message, field } => {
            if when.keys().any(|k| touched(problems, k)) || !holds(when, out) {
                return;
            }
            let at = field.clone().or_else(|| when.keys().next().cloned()).unwrap_or_default();
            problems.push(Problem::new(at, "not_allowed_together", message.clone()));
        }
        CrossRule::Exclusive { groups, message } => {
            let used: Vec<Vec<&String>> =
                groups.iter().map(|g| g.iter().filter(|f| out.contains_key(f.as_str())).collect()).collect();
            let in_use: Vec<&Vec<&String>> = used.iter().filter(|g| !g.is_empty()).collect();
            if in_use.len() < 2 {
                return;
            }
            let names = |g: &Vec<&String>| {
                let labels: Vec<&str> = g.iter().map(|f| label_of(spec, f)).collect();
                join_list(&labels, "and")
            };
            let text = message.clone().unwrap_or_else(|| {
                let parts: Vec<String> = in_use.iter().map(|g| names(g)).collect();
                format!("{} cannot be used together: keep one.", join_list(&parts, "and"))
            });
            problems.push(Problem::new(in_use[1][0].clone(), "not_allowed_together", text));
        }
        CrossRule::AtLeastOne { fields, message } => {
            if fields.iter().any(|f| out.contains_key(f.as_str()) || touched(problems, f)) {
                return;
            }
            let labels: Vec<&str> = fields.iter().map(|f| label_of(spec, f)).collect();
            let text = message.clone().unwrap_or_else(|| format!("Give {}.", join_list(&labels, "or")));
            problems.push(Problem::new(fields.first().cloned().unwrap_or_default(), "required", text));
        }
    }
}

/// The `@names` in a text, skipping `@` inside words (e-mail addresses) and a sentence's
/// closing dot.
pub fn mentions_in(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut prev: Option<char> = None;
    for (i, c) in text.char_indices() {
        if c == '@' && !prev.is_some_and(|p| p.is_alphanumeric() || p == '_') {
            let rest = &text[i + 1..];
            let end = rest
                .find(|ch: char| !(ch.is_alphanumeric() || ch == '_' || ch == '.' || ch == '-'))
                .unwrap_or(rest.len());
            let name = rest[..end].trim_end_matches(['.', '-']);
            if !name.is_empty() {
                out.push(name);
            }
        }
        prev = Some(c);
    }
    out
}

fn check_mentions(spec: &ModelSpec, out: &Map<String, Value>, problems: &mut Vec<Problem>) {
    for field in spec.fields.iter().filter(|f| !f.mentions.is_empty()) {
        let Some(Value::String(text)) = out.get(&field.name) else { continue };
        let characters = field.mentions.contains(&MentionSource::Characters);
        for name in mentions_in(text) {
            let mut known = false;
            let mut wanted: Vec<String> = Vec::new();
            for source in &field.mentions {
                match source {
                    MentionSource::Characters => {}
                    // A list already reported as wrong would only add noise here.
                    MentionSource::Items { list, .. } | MentionSource::Numbered { list, .. }
                        if touched(problems, list) =>
                    {
                        known = true
                    }
                    MentionSource::Numbered { list, prefix } => {
                        let n = count_items(out.get(list));
                        let number = name
                            .get(..prefix.len())
                            .filter(|p| p.eq_ignore_ascii_case(prefix))
                            .and_then(|_| name[prefix.len()..].parse::<usize>().ok());
                        match number {
                            Some(k) if (1..=n).contains(&k) => known = true,
                            Some(_) => {
                                let label = lower_first(label_of(spec, list));
                                let have = match n {
                                    0 => format!("there are no {label}"),
                                    1 => format!("there is only 1 (@{prefix}1)"),
                                    n => format!("there are {n} (@{prefix}1 to @{prefix}{n})"),
                                };
                                let message = format!("{} mentions @{name}, but {have}.", field.label);
                                problems.push(Problem::new(field.name.clone(), "unknown_mention", message));
                                known = true; // reported
                            }
                            None => {}
                        }
                    }
                    MentionSource::Items { list, key } => {
                        let names: Vec<String> = match out.get(list) {
                            Some(Value::Array(items)) => items
                                .iter()
                                .filter_map(|i| i.get(key).and_then(Value::as_str).map(str::to_string))
                                .collect(),
                            _ => Vec::new(),
                        };
                        if names.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                            known = true;
                        } else {
                            let what = spec
                                .field(list)
                                .and_then(|f| f.items.as_deref())
                                .map_or("item".to_string(), |i| lower_first(&i.label));
                            wanted.push(if names.is_empty() {
                                format!("no {what} is defined")
                            } else {
                                let at: Vec<String> = names.iter().map(|n| format!("@{n}")).collect();
                                format!("the {what}s are {}", join_list(&at, "and"))
                            });
                        }
                    }
                }
            }
            if !known && !characters && !wanted.is_empty() {
                let message = format!("{} mentions @{name}, but {}.", field.label, wanted.join("; "));
                problems.push(Problem::new(field.name.clone(), "unknown_mention", message));
            }
        }
    }
}

/// A name `@`-completion may offer in a text field, drawn from the input itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
pub struct MentionOffer {
    /// The text field it may be written in.
    pub field: String,
    /// The name, without `@`.
    pub name: String,
    /// What it names ("Element", "Image 2").
    pub label: String,
}

/// Names from the (raw, maybe incomplete) input that `@` may refer to: each element's name,
/// `@image1`… for each image given. Characters come from the registry, not from here.
pub fn mention_offers(spec: &ModelSpec, input: &Map<String, Value>) -> Vec<MentionOffer> {
    let mut out = Vec::new();
    for field in spec.fields.iter().filter(|f| !f.mentions.is_empty()) {
        for source in &field.mentions {
            let item_label = |list: &str| {
                spec.field(list).and_then(|f| f.items.as_deref()).map_or(String::new(), |i| i.label.clone())
            };
            match source {
                MentionSource::Characters => {}
                MentionSource::Items { list, key } => {
                    if let Some(Value::Array(items)) = input.get(list) {
                        for item in items {
                            if let Some(name) =
                                item.get(key).and_then(Value::as_str).map(str::trim).filter(|n| !n.is_empty())
                            {
                                out.push(MentionOffer {
                                    field: field.name.clone(),
                                    name: name.to_string(),
                                    label: item_label(list),
                                });
                            }
                        }
                    }
                }
                MentionSource::Numbered { list, prefix } => {
                    let n = match input.get(list) {
                        Some(Value::Array(items)) => {
                            items.iter().filter(|v| v.as_str().is_some_and(|s| !s.trim().is_empty())).count()
                        }
                        _ => 0,
                    };
                    for k in 1..=n {
                        out.push(MentionOffer {
                            field: field.name.clone(),
                            name: format!("{prefix}{k}"),
                            label: format!("{} {k}", item_label(list)),
                        });
                    }
                }
            }
        }
    }
    out
}

fn count_items(value: Option<&Value>) -> usize {
    match value {
        Some(Value::Array(items)) => items.len(),
        Some(Value::Null) | None => 0,
        Some(_) => 1,
    }
}

/// The characters a text field allows, from a spec like "A-Za-z0-9_.".
pub(crate) struct CharSet(Vec<(char, char)>);

impl CharSet {
    pub(crate) fn parse(spec: &str) -> Option<CharSet> {
        let chars: Vec<char> = spec.chars().collect();
        let mut ranges = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if i + 2 < chars.len() && chars[i + 1] == '-' {
                if chars[i] > chars[i + 2] {
                    return None;
                }
                ranges.push((chars[i], chars[i + 2]));
                i += 3;
            } else {
                ranges.push((chars[i], chars[i]));
                i += 1;
            }
        }
        (!ranges.is_empty()).then_some(CharSet(ranges))
    }

    fn contains(&self, c: char) -> bool {
        self.0.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c))
    }

    fn describe(&self) -> String {
        let parts: Vec<String> =
            self.0.iter().map(|(lo, hi)| if lo == hi { format!("\"{lo}\"") } else { format!("{lo}–{hi}") }).collect();
        join_list(&parts, "and")
    }
}

// ---- wording ----

fn join_label(prefix: Option<&str>, label: &str) -> String {
    match prefix {
        Some(p) => format!("{p} {}", lower_first(label)),
        None => label.to_string(),
    }
}

/// "Duration" → "duration", but "URL" stays "URL".
fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(a), Some(b)) if a.is_uppercase() && !b.is_uppercase() => {
            a.to_lowercase().chain(std::iter::once(b)).chain(chars).collect()
        }
        _ => s.to_string(),
    }
}

/// "a", "a or b", "a, b or c".
fn join_list<S: AsRef<str>>(items: &[S], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.as_ref().to_string(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} {word} {}", init.join(", "), last.as_ref())
        }
    }
}

fn unit_suffix(field: &FieldSpec) -> String {
    field.unit.as_deref().map(|u| format!(" {u}")).unwrap_or_default()
}

/// A value as a message shows it.
fn show(value: &Value) -> String {
    match value {
        Value::String(s) => quote(s),
        Value::Number(_) | Value::Bool(_) => canonical(value).unwrap_or_default(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a group of fields".into(),
        Value::Null => "nothing".into(),
    }
}

/// Quoted, and cut short: a 10,000-character prompt does not belong in a message.
fn quote(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() > MAX {
        format!("\"{}…\"", s.chars().take(MAX).collect::<String>())
    } else {
        format!("\"{s}\"")
    }
}

/// 10012 → "10,012".
fn fmt_count(n: usize) -> String {
    let digits = n.to_string();
    let head = match digits.len() % 3 {
        0 => 3,
        r => r,
    };
    let mut out = digits[..head].to_string();
    // ASCII digits: every 3-byte chunk is a whole str.
    for group in digits.as_bytes()[head..].chunks(3) {
        out.push(',');
        out.push_str(std::str::from_utf8(group).unwrap_or_default());
    }
    out
}

/// For messages: 10000 → "10,000", 17.5 → "17.5", 1/3 → "0.333".
fn fmt_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        let grouped = fmt_count(n.abs() as usize);
        if n < 0.0 {
            format!("-{grouped}")
        } else {
            grouped
        }
    } else {
        plain_num(n)
    }
}

/// For values sent: 5.0 → "5", 2.5 → "2.5", no grouping.
fn plain_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        let s = format!("{n:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Whole numbers as JSON integers (5, not 5.0), which is what the API's examples send.
fn number_value(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        Value::from(n as i64)
    } else {
        Value::from(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wording_helpers() {
        assert_eq!(fmt_count(10_012), "10,012");
        assert_eq!(fmt_count(999), "999");
        assert_eq!(fmt_count(1_000_000), "1,000,000");
        assert_eq!(fmt_num(17.5), "17.5");
        assert_eq!(fmt_num(10_000.0), "10,000");
        assert_eq!(fmt_num(1.0 / 3.0), "0.333");
        assert_eq!(plain_num(2.0), "2");
        assert_eq!(join_list(&["a"], "or"), "a");
        assert_eq!(join_list(&["a", "b"], "or"), "a or b");
        assert_eq!(join_list(&["a", "b", "c"], "or"), "a, b or c");
        assert_eq!(lower_first("Duration"), "duration");
        assert_eq!(lower_first("URL"), "URL");
        assert_eq!(quote(&"x".repeat(100)).chars().count(), 63);
    }

    #[test]
    fn char_sets() {
        let set = CharSet::parse("A-Za-z0-9_.").unwrap();
        assert!("sky_ranger.2".chars().all(|c| set.contains(c)));
        assert!(!set.contains('@'));
        assert!(!set.contains('-'));
        assert!(!set.contains('é'));
        assert!(CharSet::parse("z-a").is_none());
        assert!(CharSet::parse("").is_none());
        assert!(CharSet::parse("a-").unwrap().contains('-'));
    }

    #[test]
    fn hosts() {
        assert!(host_matches("sora.chatgpt.com", "sora.chatgpt.com"));
        assert!(!host_matches("evil-sora.chatgpt.com.example", "sora.chatgpt.com"));
        assert!(host_matches("a.example.com", "*.example.com"));
        assert!(!host_matches("example.com", "*.example.com"));
        assert!(!host_matches("badexample.com", "*.example.com"));
    }

    #[test]
    fn canonical_values() {
        assert_eq!(canonical(&json!(10)).as_deref(), Some("10"));
        assert_eq!(canonical(&json!(10.0)).as_deref(), Some("10"));
        assert_eq!(canonical(&json!(" 10 ")).as_deref(), Some("10"));
        assert_eq!(canonical(&json!(true)).as_deref(), Some("true"));
        assert_eq!(canonical(&json!([1])), None);
        assert_eq!(as_number(&json!("2.5")), Some(2.5));
        assert_eq!(number_value(5.0), json!(5));
        assert_eq!(number_value(2.5), json!(2.5));
    }
}

/// How much of a total a list has used, for lists held to one by a `sum_at_most` rule (a
/// storyboard's shots and the video's length): shown while the user types.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
pub struct Budget {
    /// The list field.
    pub list: String,
    /// The sub-field of its items that the total counts (a shot's `duration`).
    pub item_key: String,
    /// The total allowed (e.g. the video's length).
    pub limit: f64,
    /// What the items add up to so far (items not yet a number count as 0).
    pub used: f64,
    /// `limit - used`; negative when over.
    pub left: f64,
    /// The items' unit ("s"), or "".
    pub unit: String,
}

/// Every budget of `spec` for this (raw, possibly incomplete) input; absent limit fields
/// count at their defaults.
pub fn budgets(spec: &ModelSpec, input: &Map<String, Value>) -> Vec<Budget> {
    let round = |n: f64| (n * 1000.0).round() / 1000.0;
    let mut out = Vec::new();
    for rule in &spec.rules {
        // Only sums are budgets; the other rules are yes-or-no.
        let CrossRule::SumAtMost { list, item_key, limit_field, limit, .. } = rule else { continue };
        let lim = match (limit_field, limit) {
            (Some(name), _) => {
                let given = input.get(name).filter(|v| !v.is_null() && v.as_str() != Some(""));
                given.or_else(|| spec.field(name).and_then(|f| f.default.as_ref())).and_then(as_number)
            }
            (None, Some(lim)) => Some(*lim),
            (None, None) => None,
        };
        let Some(lim) = lim else { continue };
        let used: f64 = match input.get(list) {
            Some(Value::Array(items)) => {
                items.iter().filter_map(|i| i.get(item_key)).filter_map(as_number).filter(|n| *n > 0.0).sum()
            }
            _ => 0.0,
        };
        let unit = spec
            .field(list)
            .and_then(|f| f.items.as_deref())
            .and_then(|i| i.field(item_key))
            .and_then(|f| f.unit.clone())
            .unwrap_or_default();
        out.push(Budget {
            list: list.clone(),
            item_key: item_key.clone(),
            limit: lim,
            used: round(used),
            left: round(lim - used),
            unit,
        });
    }
    out
}
