//! Every limit and rule of every model in the built-in catalogue, from both sides, driven by
//! the catalogue itself: a value at the limit passes, one past it is refused with a problem
//! on that field. A model added as data is covered by adding it.

use kie::catalogue::{Catalogue, Conditions, CrossRule, FieldSpec, FieldType, ModelSpec, SendAs};
use kie::validate::{validate, Problem};
use serde_json::{json, Map, Value};

/// Rule ids a field's own limits report (cross-field rules use others).
const LIMIT_RULES: [&str; 9] = [
    "too_long",
    "too_short",
    "out_of_range",
    "too_many",
    "too_few",
    "wrong_type",
    "not_allowed",
    "bad_url",
    "required",
];

fn problems_at<'a>(problems: &'a [Problem], path: &str) -> Vec<&'a Problem> {
    problems.iter().filter(|p| p.field == path && LIMIT_RULES.contains(&p.rule.as_str())).collect()
}

fn check(spec: &ModelSpec, input: &Map<String, Value>) -> Vec<Problem> {
    validate(spec, input).err().unwrap_or_default()
}

/// A value the field accepts.
fn valid_value(field: &FieldSpec) -> Value {
    if let Some(d) = &field.default {
        return d.clone();
    }
    let l = &field.limits;
    match field.kind {
        FieldType::Text => Value::String("a".repeat(l.min_length.unwrap_or(1).max(1))),
        FieldType::Number | FieldType::Integer => {
            let n = l.min.map(|m| if l.min_exclusive { m + 1.0 } else { m }).unwrap_or(1.0);
            number(field, n)
        }
        FieldType::Boolean => Value::Bool(true),
        FieldType::Choice => field.options[0].value.clone(),
        FieldType::Url => {
            let ext = l.file_types.first().map(String::as_str).unwrap_or("png");
            let host = l.hosts.first().map(|h| h.trim_start_matches("*.")).unwrap_or("example.com");
            Value::String(format!("https://{host}/file.{ext}"))
        }
        FieldType::List => {
            let items = field.items.as_deref().unwrap();
            let n = l.min_items.unwrap_or(1).max(1);
            Value::Array((0..n).map(|_| valid_value(items)).collect())
        }
        FieldType::Object => Value::Object(
            field.fields.iter().filter(|f| f.required).map(|f| (f.name.clone(), valid_value(f))).collect(),
        ),
        FieldType::Range => {
            let start = l.min.unwrap_or(0.0);
            let span = l.min_span.unwrap_or(1.0);
            Value::String(format!("{start},{}", start + span))
        }
    }
}

fn number(field: &FieldSpec, n: f64) -> Value {
    match field.send_as {
        Some(SendAs::String) => Value::String(if n.fract() == 0.0 { format!("{}", n as i64) } else { n.to_string() }),
        _ if n.fract() == 0.0 => json!(n as i64),
        _ => json!(n),
    }
}

/// Make `conditions` hold in `input` (as far as a value can be chosen for each).
fn satisfy(spec: &ModelSpec, input: &mut Map<String, Value>, conditions: &Conditions) {
    for (name, test) in conditions {
        let field = spec.field(name).unwrap();
        match test {
            Value::Array(options) => {
                input.insert(name.clone(), options[0].clone());
            }
            Value::Object(t) => {
                if t.get("present") == Some(&Value::Bool(false)) {
                    input.remove(name);
                }
                if t.get("present") == Some(&Value::Bool(true)) && !input.contains_key(name) {
                    input.insert(name.clone(), valid_value(field));
                }
                if let Some(n) = t.get("min_items").and_then(Value::as_u64) {
                    let item = valid_value(field.items.as_deref().unwrap());
                    input.insert(name.clone(), Value::Array(vec![item; n as usize]));
                }
                if let Some(n) = t.get("max_items").and_then(Value::as_u64) {
                    let item = valid_value(field.items.as_deref().unwrap());
                    input.insert(name.clone(), Value::Array(vec![item; n.max(1) as usize]));
                }
                if let Some(not) = t.get("not") {
                    let banned: Vec<&Value> = match not {
                        Value::Array(v) => v.iter().collect(),
                        v => vec![v],
                    };
                    let same =
                        |a: &Value, b: &Value| a.to_string().trim_matches('"') == b.to_string().trim_matches('"');
                    if let Some(o) = field.options.iter().find(|o| !banned.iter().any(|b| same(b, &o.value))) {
                        input.insert(name.clone(), o.value.clone());
                    } else if field.kind == FieldType::Boolean {
                        input.insert(name.clone(), Value::Bool(!banned.iter().any(|b| **b == Value::Bool(false))));
                    }
                }
                if let Some(n) = t.get("min").and_then(Value::as_f64) {
                    input.insert(name.clone(), number(field, n));
                }
                if let Some(n) = t.get("max").and_then(Value::as_f64) {
                    input.insert(name.clone(), number(field, n));
                }
            }
            v => {
                input.insert(name.clone(), v.clone());
            }
        }
    }
}

/// The model's example with `field` shown.
fn base_for(spec: &ModelSpec, field: &FieldSpec) -> Map<String, Value> {
    let mut input = spec.example.clone().unwrap_or_default();
    if let Some(c) = &field.show_when {
        satisfy(spec, &mut input, c);
    }
    if let Some(c) = &field.hide_when {
        // Flip each hiding condition: take it away or choose another value.
        for name in c.keys() {
            input.remove(name);
        }
    }
    input
}

/// For one field at `path`: each limit, at the limit and one past it. `put` places a value.
fn sweep_field(
    spec: &ModelSpec,
    field: &FieldSpec,
    path: &str,
    put: &dyn Fn(Value) -> Map<String, Value>,
    checked: &mut usize,
) {
    let l = &field.limits;
    let mut both = |at: Value, past: Value, what: &str| {
        let ok = check(spec, &put(at.clone()));
        assert!(
            problems_at(&ok, path).is_empty(),
            "{}: {path} {what}: the value at the limit ({at}) was refused: {ok:?}",
            spec.id
        );
        let bad = check(spec, &put(past.clone()));
        assert!(
            !problems_at(&bad, path).is_empty(),
            "{}: {path} {what}: the value past the limit ({past}) passed: {bad:?}",
            spec.id
        );
        for p in problems_at(&bad, path) {
            assert!(
                p.message.contains(&field.label) || path.contains('['),
                "{}: message names the field: {}",
                spec.id,
                p.message
            );
        }
        *checked += 1;
    };
    match field.kind {
        FieldType::Text => {
            if let Some(max) = l.max_length {
                both(json!("x".repeat(max)), json!("x".repeat(max + 1)), "max_length");
            }
            if let Some(min) = l.min_length.filter(|m| *m > 1) {
                both(json!("x".repeat(min)), json!("x".repeat(min - 1)), "min_length");
            }
        }
        FieldType::Number | FieldType::Integer => {
            let step = if field.kind == FieldType::Integer { 1.0 } else { 0.5 };
            if let (Some(min), false) = (l.min, l.min_exclusive) {
                both(number(field, min), number(field, min - step), "min");
            }
            if let Some(max) = l.max {
                both(number(field, max), number(field, max + step), "max");
            }
            // The wrong JSON type for a strict field is normalized, never sent as given.
            let sent = validate(spec, &put(number(field, l.min.unwrap_or(1.0).max(l.max.unwrap_or(1.0).min(1.0)))));
            if let (Ok(sent), Some(how)) = (sent, field.send_as) {
                let v = lookup(&sent, path);
                match how {
                    SendAs::String => {
                        assert!(v.is_none_or(Value::is_string), "{}: {path} is sent as a string", spec.id)
                    }
                    SendAs::Number => {
                        assert!(v.is_none_or(Value::is_number), "{}: {path} is sent as a number", spec.id)
                    }
                }
            }
        }
        FieldType::Choice => {
            let first = field.options[0].value.clone();
            both(first, json!("surely-not-an-option"), "options");
        }
        FieldType::List => {
            let item = valid_value(field.items.as_deref().unwrap());
            if let Some(max) = l.max_items {
                both(Value::Array(vec![item.clone(); max]), Value::Array(vec![item.clone(); max + 1]), "max_items");
            }
            if let Some(min) = l.min_items.filter(|m| *m > 1) {
                both(Value::Array(vec![item.clone(); min]), Value::Array(vec![item.clone(); min - 1]), "min_items");
            }
            // Each item's own limits, inside a list of one.
            let items = field.items.as_deref().unwrap();
            let inner = format!("{path}[0]");
            if items.kind == FieldType::Object {
                for sub in &items.fields {
                    let sub_path = format!("{inner}.{}", sub.name);
                    let put_sub = |v: Value| {
                        let mut obj = item.as_object().cloned().unwrap_or_default();
                        obj.insert(sub.name.clone(), v);
                        put(Value::Array(vec![Value::Object(obj)]))
                    };
                    sweep_field(spec, sub, &sub_path, &put_sub, checked);
                }
            } else {
                let put_item = |v: Value| put(Value::Array(vec![v]));
                sweep_field(spec, items, &inner, &put_item, checked);
            }
        }
        _ => {}
    }
}

fn lookup<'a>(sent: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    // Only top-level paths are checked for their wire type here.
    sent.get(path)
}

#[test]
fn every_examples_passes_and_every_limit_holds_from_both_sides() {
    let cat = Catalogue::builtin();
    let mut checked = 0;
    for spec in &cat.models {
        let example = spec.example.clone().unwrap_or_else(|| panic!("{} has no example input", spec.id));
        assert!(validate(spec, &example).is_ok(), "{}: the example fails: {:?}", spec.id, validate(spec, &example));
        for field in &spec.fields {
            let base = base_for(spec, field);
            let put = |v: Value| {
                let mut input = base.clone();
                input.insert(field.name.clone(), v);
                input
            };
            sweep_field(spec, field, &field.name, &put, &mut checked);
        }
    }
    assert!(checked > 50, "only {checked} limits were checked");
}

#[test]
fn every_cross_rule_holds_from_both_sides() {
    let cat = Catalogue::builtin();
    let mut kinds = std::collections::HashSet::new();
    for spec in &cat.models {
        let example = spec.example.clone().unwrap();
        for rule in &spec.rules {
            match rule {
                CrossRule::Refuse { when, field, .. } => {
                    let mut input = example.clone();
                    satisfy(spec, &mut input, when);
                    let at = field.clone().unwrap_or_else(|| when.keys().next().unwrap().clone());
                    let problems = check(spec, &input);
                    assert!(
                        problems.iter().any(|p| p.rule == "not_allowed_together" && p.field == at),
                        "{}: refuse {when:?} did not refuse {input:?}: {problems:?}",
                        spec.id
                    );
                    kinds.insert("refuse");
                }
                CrossRule::Exclusive { groups, .. } => {
                    let mut input = example.clone();
                    for g in groups {
                        let f = spec.field(&g[0]).unwrap();
                        input.insert(f.name.clone(), valid_value(f));
                    }
                    let problems = check(spec, &input);
                    assert!(problems.iter().any(|p| p.rule == "not_allowed_together"), "{}: {problems:?}", spec.id);
                    // One group alone is fine.
                    let mut one = example.clone();
                    for g in groups.iter().skip(1).flatten() {
                        one.remove(g);
                    }
                    let f = spec.field(&groups[0][0]).unwrap();
                    one.insert(f.name.clone(), valid_value(f));
                    let problems = check(spec, &one);
                    assert!(!problems.iter().any(|p| p.rule == "not_allowed_together"), "{}: {problems:?}", spec.id);
                    kinds.insert("exclusive");
                }
                CrossRule::AtLeastOne { fields, .. } => {
                    let mut none = example.clone();
                    for f in fields {
                        none.remove(f);
                    }
                    let problems = check(spec, &none);
                    assert!(
                        problems.iter().any(|p| p.field == fields[0] && p.rule == "required"),
                        "{}: {problems:?}",
                        spec.id
                    );
                    let mut one = none.clone();
                    let f = spec.field(&fields[0]).unwrap();
                    one.insert(f.name.clone(), valid_value(f));
                    assert!(check(spec, &one).iter().all(|p| p.field != fields[0]), "{}", spec.id);
                    kinds.insert("at_least_one");
                }
                CrossRule::SumAtMost { list, item_key, limit_field, limit, .. } => {
                    let mut input = example.clone();
                    let list_field = spec.field(list).unwrap();
                    if let Some(c) = &list_field.show_when {
                        satisfy(spec, &mut input, c);
                    }
                    let lim = match (limit_field, limit) {
                        (Some(name), _) => {
                            let f = spec.field(name).unwrap();
                            let v = input
                                .get(name)
                                .cloned()
                                .or_else(|| f.default.clone())
                                .unwrap_or_else(|| valid_value(f));
                            kie::validate::budgets(spec, &input);
                            v.as_f64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).unwrap()
                        }
                        (None, Some(l)) => *l,
                        _ => unreachable!(),
                    };
                    let items = list_field.items.as_deref().unwrap();
                    let item_max = items.field(item_key).unwrap().limits.max.unwrap_or(lim);
                    let mut make = |total: f64| {
                        // Items of at most item_max adding up to `total`.
                        let mut left = total;
                        let mut out = Vec::new();
                        while left > 1e-9 {
                            let d = left.min(item_max);
                            let mut obj = valid_value(items).as_object().cloned().unwrap();
                            obj.insert(item_key.clone(), json!(d));
                            out.push(Value::Object(obj));
                            left -= d;
                        }
                        input.insert(list.clone(), Value::Array(out));
                        check(spec, &input)
                    };
                    let at = make(lim);
                    assert!(!at.iter().any(|p| p.rule == "sum_too_large"), "{}: {at:?}", spec.id);
                    let past = make(lim + 1.0);
                    assert!(
                        past.iter().any(|p| p.rule == "sum_too_large" && p.field == *list),
                        "{}: {past:?}",
                        spec.id
                    );
                    kinds.insert("sum_at_most");
                }
            }
        }
    }
    for kind in ["refuse", "exclusive", "at_least_one", "sum_at_most"] {
        assert!(kinds.contains(kind), "no model in the catalogue uses {kind}");
    }
}

#[test]
fn hidden_fields_are_neither_checked_nor_sent() {
    let cat = Catalogue::builtin();
    let mut seen = 0;
    for spec in &cat.models {
        for field in spec.fields.iter().filter(|f| f.show_when.is_some()) {
            let mut input = spec.example.clone().unwrap();
            // Shown: a value is sent; hidden (conditions undone): dropped, even when invalid.
            let mut shown = input.clone();
            satisfy(spec, &mut shown, field.show_when.as_ref().unwrap());
            shown.insert(field.name.clone(), valid_value(field));
            if let Ok(sent) = validate(spec, &shown) {
                assert!(sent.contains_key(&field.name), "{}: {} shown but not sent", spec.id, field.name);
            }
            for name in field.show_when.as_ref().unwrap().keys() {
                input.remove(name);
            }
            input.insert(field.name.clone(), json!({"not": "valid at all"}));
            let hidden = kie::validate::hidden_fields(spec, &input);
            assert!(hidden.contains(&field.name), "{}: {} should be hidden", spec.id, field.name);
            let problems = check(spec, &input);
            assert!(problems.iter().all(|p| !p.field.starts_with(&field.name)), "{}: {problems:?}", spec.id);
            if let Ok(sent) = validate(spec, &input) {
                assert!(!sent.contains_key(&field.name), "{}: hidden {} was sent", spec.id, field.name);
            }
            seen += 1;
        }
    }
    assert!(seen > 0, "no model shows a field only when another has a value");
}
