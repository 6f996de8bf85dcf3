//! Conditions on field values, as the catalogue writes them: in `show_when`/`hide_when`,
//! `refuse` rules and price tiers. `{"field": value}` means equal to that value, an array
//! means one of those values, and an object tests: `{"present": true}`, `{"not": value or
//! [values]}`, `{"min_items": 2}`, `{"max_items": 1}`, `{"min": 5}`, `{"max": 10}`.

use serde_json::{Map, Value};

use crate::catalogue::{Conditions, FieldSpec, FieldType, ModelSpec};
use crate::validate::{as_number, canonical, normalize};

/// Every top-level field's value as it would be sent: the given value normalized, else the
/// default; fields whose value is invalid or blank are absent. Conditions look at these.
pub fn effective_values(spec: &ModelSpec, input: &Map<String, Value>) -> Map<String, Value> {
    spec.fields
        .iter()
        .filter_map(|f| {
            // A value given but invalid is absent: it does not fall back to the default.
            let value = match lookup(input, &f.name).filter(|v| !v.is_null()) {
                Some(v) => normalize(f, v).or_else(|| blank(v).then(|| f.default.clone()).flatten())?,
                None => f.default.clone()?,
            };
            Some((f.name.clone(), value))
        })
        .collect()
}

/// The input's value for `name`, exactly or in another letter case (as validation matches).
fn lookup<'a>(input: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    input.get(name).or_else(|| input.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v))
}

/// Empty text or an empty list: as if not given.
fn blank(v: &Value) -> bool {
    match v {
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Whether every condition holds for these (effective) values.
pub fn holds(conditions: &Conditions, values: &Map<String, Value>) -> bool {
    conditions.iter().all(|(name, test)| holds_one(test, values.get(name)))
}

fn same(a: &Value, b: &Value) -> bool {
    match (canonical(a), canonical(b)) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(&b),
        _ => false,
    }
}

fn equals_any(want: &Value, got: &Value) -> bool {
    match want {
        Value::Array(options) => options.iter().any(|o| same(o, got)),
        other => same(other, got),
    }
}

fn count(value: Option<&Value>) -> usize {
    match value {
        Some(Value::Array(items)) => items.len(),
        Some(Value::Null) | None => 0,
        Some(_) => 1,
    }
}

fn holds_one(test: &Value, value: Option<&Value>) -> bool {
    match test {
        Value::Object(t) => t.iter().all(|(op, arg)| match op.as_str() {
            "present" => arg.as_bool() == Some(value.is_some_and(|v| !v.is_null())),
            "not" => !value.is_some_and(|v| equals_any(arg, v)),
            "min_items" => arg.as_u64().is_some_and(|n| count(value) as u64 >= n),
            "max_items" => arg.as_u64().is_some_and(|n| count(value) as u64 <= n),
            "min" => value.and_then(as_number).zip(arg.as_f64()).is_some_and(|(v, n)| v >= n),
            "max" => value.and_then(as_number).zip(arg.as_f64()).is_some_and(|(v, n)| v <= n),
            _ => false,
        }),
        want => value.is_some_and(|v| equals_any(want, v)),
    }
}

/// Catalogue sanity: every condition names a top-level field, uses a known test, and
/// compares with values the field allows as written.
pub(crate) fn check(spec: &ModelSpec, conditions: &Conditions, what: &str) -> Result<(), String> {
    for (name, test) in conditions {
        let field = spec.field(name).ok_or_else(|| format!("{what} names no field {name:?}"))?;
        let values: Vec<&Value> = match test {
            Value::Object(t) => {
                let mut values = Vec::new();
                for (op, arg) in t {
                    match op.as_str() {
                        "present" if arg.is_boolean() => {}
                        "min_items" | "max_items" if arg.is_u64() && field.kind == FieldType::List => {}
                        "min" | "max" if arg.is_number() => {}
                        "not" => values.extend(scalars(arg)),
                        _ => return Err(format!("{what}: {name}: {op:?} is not a test this catalogue knows")),
                    }
                }
                values
            }
            other => scalars(other),
        };
        for v in values {
            allowed_as_written(field, v).map_err(|e| format!("{what}: {name} = {v}: {e}"))?;
        }
    }
    Ok(())
}

fn scalars(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn allowed_as_written(field: &FieldSpec, v: &Value) -> Result<(), &'static str> {
    let normalized = normalize(field, v).ok_or("the field does not allow that value")?;
    match (canonical(&normalized), canonical(v)) {
        (Some(a), Some(b)) if a == b => Ok(()),
        _ => Err("write the value exactly as it is sent"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn cond(v: Value) -> Conditions {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn equality_one_of_and_tests() {
        let v = values(json!({"duration": "10", "resolution": "1080P", "image_urls": ["a", "b"], "sound": true}));
        assert!(holds(&cond(json!({"duration": "10", "resolution": "1080p"})), &v));
        assert!(!holds(&cond(json!({"duration": "6"})), &v));
        assert!(holds(&cond(json!({"duration": ["6", "10"]})), &v));
        assert!(holds(&cond(json!({"duration": 10})), &v), "\"10\" and 10 are the same value");
        assert!(holds(&cond(json!({"image_urls": {"min_items": 2}})), &v));
        assert!(!holds(&cond(json!({"image_urls": {"min_items": 3}})), &v));
        assert!(holds(&cond(json!({"image_urls": {"max_items": 2}})), &v));
        assert!(holds(&cond(json!({"task_id": {"present": false}})), &v));
        assert!(!holds(&cond(json!({"sound": {"present": false}})), &v));
        assert!(holds(&cond(json!({"sound": {"not": false}})), &v));
        assert!(!holds(&cond(json!({"duration": {"not": ["10", "15"]}})), &v));
        assert!(holds(&cond(json!({"duration": {"min": 10, "max": 10}})), &v));
        assert!(!holds(&cond(json!({"duration": {"min": 11}})), &v));
        assert!(holds(&Conditions::new(), &v), "no conditions always hold");
        assert!(!holds(&cond(json!({"missing": "x"})), &v), "an absent value equals nothing");
    }
}
