//! A small table-driven checker for request fields: each model lists its fields with an
//! exact JSON type, limits and whether they are required; rules across fields are plain
//! functions beside the model. Error texts name the field (`input.duration ...`).

use serde_json::{Map, Value};

pub(crate) type Input = Map<String, Value>;

/// What a field must hold. Every kind is strict about its JSON type: a number sent as a
/// string, or the reverse, is refused.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// A string of `min..=max` characters (a required text must not be blank).
    Text {
        min: usize,
        max: usize,
    },
    /// One of these strings.
    Choice(&'static [&'static str]),
    Bool,
    /// A JSON integer (not a float, not a string).
    Int {
        min: i64,
        max: i64,
    },
    /// A string holding a whole number, e.g. Kling's duration `"3"`…`"15"`.
    IntText {
        min: i64,
        max: i64,
    },
    /// A whole number, sent as a JSON integer or as a string holding one.
    IntOrText {
        min: i64,
        max: i64,
    },
    /// One public http(s) URL, as a string (not a list).
    Url,
    /// An array of `min..=max` public http(s) URLs.
    Urls {
        min: usize,
        max: usize,
    },
    /// An array of at most `max` non-empty strings (ids).
    Ids {
        max: usize,
    },
    /// Checked by the model's own rules (present-or-not is still checked here).
    Custom,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

pub(crate) const fn req(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: true }
}

pub(crate) const fn opt(name: &'static str, kind: Kind) -> Field {
    Field { name, kind, required: false }
}

/// Any text up to this many characters (no limit stated).
pub(crate) const ANY_LEN: usize = 100_000;

/// The value of `field`, unless it is absent or null.
pub(crate) fn present<'a>(input: &'a Input, field: &str) -> Option<&'a Value> {
    input.get(field).filter(|v| !v.is_null())
}

/// Checks every listed field of `input`; `prefix` is `"input."` for jobs models and `""`
/// for Veo's flat body. Fields not listed are ignored.
pub(crate) fn check_fields(prefix: &str, input: &Input, fields: &[Field]) -> Result<(), String> {
    for f in fields {
        check_field(prefix, input, f)?;
    }
    Ok(())
}

fn is_url(s: &str) -> bool {
    (s.starts_with("https://") || s.starts_with("http://")) && s.len() > "http://".len()
}

fn quoted(list: &[&str]) -> String {
    let list: Vec<String> = list.iter().map(|a| format!("\"{a}\"")).collect();
    list.join(", ")
}

fn whole(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| v.as_u64().and_then(|u| i64::try_from(u).ok()))
}

fn check_field(prefix: &str, input: &Input, f: &Field) -> Result<(), String> {
    let name = format!("{prefix}{}", f.name);
    let Some(v) = present(input, f.name) else {
        return if f.required { Err(format!("{name} is required")) } else { Ok(()) };
    };
    match f.kind {
        Kind::Text { min, max } => {
            let s = v.as_str().ok_or_else(|| format!("{name} must be a string"))?;
            let n = s.chars().count();
            if f.required && s.trim().is_empty() {
                return Err(format!("{name} is required"));
            }
            if n > max {
                return Err(format!("{name} is too long: {n} characters, at most {max} allowed"));
            }
            if n < min {
                return Err(format!("{name} is too short: {n} characters, at least {min} required"));
            }
        }
        Kind::Choice(allowed) => {
            if !v.as_str().is_some_and(|s| allowed.contains(&s)) {
                return Err(format!("{name} must be one of {} (a string)", quoted(allowed)));
            }
        }
        Kind::Bool => {
            if !v.is_boolean() {
                return Err(format!("{name} must be true or false"));
            }
        }
        Kind::Int { min, max } => {
            let n = whole(v).ok_or_else(|| match v {
                Value::String(_) => format!("{name} must be a number from {min} to {max}, not a string"),
                _ => format!("{name} must be a whole number from {min} to {max}"),
            })?;
            if !(min..=max).contains(&n) {
                return Err(format!("{name} must be from {min} to {max} (got {n})"));
            }
        }
        Kind::IntText { min, max } => {
            let bad = || format!("{name} must be a string holding a whole number from \"{min}\" to \"{max}\"");
            let s = match v {
                Value::String(s) => s,
                Value::Number(_) => return Err(format!("{} (a string, not a number)", bad())),
                _ => return Err(bad()),
            };
            let n: i64 = s.parse().map_err(|_| bad())?;
            if !(min..=max).contains(&n) {
                return Err(bad());
            }
        }
        Kind::IntOrText { min, max } => {
            let n = match v {
                Value::String(s) => s.trim().parse::<i64>().ok(),
                other => whole(other),
            };
            match n {
                Some(n) if (min..=max).contains(&n) => {}
                _ => return Err(format!("{name} must be a whole number from {min} to {max}")),
            }
        }
        Kind::Url => match v {
            Value::String(s) if is_url(s) => {}
            Value::Array(_) => return Err(format!("{name} must be a string (one URL, not a list)")),
            _ => return Err(format!("{name} must be a public http(s) URL (a string)")),
        },
        Kind::Urls { min, max } => {
            let list = v.as_array().ok_or_else(|| format!("{name} must be an array of URLs"))?;
            let n = list.len();
            if n < min || n > max {
                let want = if min == max {
                    format!("exactly {min}")
                } else if min == 0 {
                    format!("at most {max}")
                } else {
                    format!("{min} to {max}")
                };
                return Err(format!("{name} must hold {want} URL{} (got {n})", if max == 1 { "" } else { "s" }));
            }
            for (i, u) in list.iter().enumerate() {
                if !u.as_str().is_some_and(is_url) {
                    return Err(format!("{name}[{i}] must be a public http(s) URL"));
                }
            }
        }
        Kind::Ids { max } => {
            let list = v.as_array().ok_or_else(|| format!("{name} must be an array"))?;
            if list.len() > max {
                return Err(format!("{name} has {} ids; at most {max} are allowed", list.len()));
            }
            for (i, v) in list.iter().enumerate() {
                if !matches!(v.as_str(), Some(s) if !s.trim().is_empty()) {
                    return Err(format!("{name}[{i}] must be a non-empty string"));
                }
            }
        }
        Kind::Custom => {}
    }
    Ok(())
}

/// Fields that this model does not have: sending one is an error.
pub(crate) fn check_absent(prefix: &str, model: &str, input: &Input, fields: &[&str]) -> Result<(), String> {
    match fields.iter().find(|f| present(input, f).is_some()) {
        Some(f) => Err(format!("{prefix}{f} is not a field of {model}")),
        None => Ok(()),
    }
}

// ---- reading checked values (for prices and output plans) --------------------------------------

pub(crate) fn text<'a>(input: &'a Input, field: &str) -> Option<&'a str> {
    present(input, field).and_then(Value::as_str)
}

pub(crate) fn flag(input: &Input, field: &str) -> Option<bool> {
    present(input, field).and_then(Value::as_bool)
}

/// A whole number sent as a number or as a string.
pub(crate) fn int(input: &Input, field: &str) -> Option<i64> {
    match present(input, field)? {
        Value::String(s) => s.trim().parse().ok(),
        v => whole(v),
    }
}

/// The length of an array field (0 when absent).
pub(crate) fn count(input: &Input, field: &str) -> usize {
    present(input, field).and_then(Value::as_array).map_or(0, Vec::len)
}

/// Rounds a price to hundredths (so 11.7 × 5 is 58.5).
pub(crate) fn credits(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Whether an aspect ratio makes a tall video.
pub(crate) fn tall(aspect: &str) -> bool {
    matches!(aspect, "portrait" | "9:16" | "2:3" | "3:4")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: Value, f: Field) -> Result<(), String> {
        check_fields("input.", v.as_object().unwrap(), &[f])
    }

    #[test]
    fn kinds_are_strict_about_types() {
        let d = req("duration", Kind::IntText { min: 3, max: 15 });
        assert!(check(json!({"duration": "3"}), d).is_ok());
        assert!(check(json!({"duration": "15"}), d).is_ok());
        assert!(check(json!({"duration": 5}), d).unwrap_err().contains("not a number"));
        assert!(check(json!({"duration": "16"}), d).unwrap_err().contains("input.duration"));
        assert!(check(json!({"duration": "5.0"}), d).is_err());
        assert!(check(json!({}), d).unwrap_err().contains("is required"));

        let i = opt("duration", Kind::Int { min: 4, max: 15 });
        assert!(check(json!({"duration": 4}), i).is_ok());
        assert!(check(json!({}), i).is_ok());
        assert!(check(json!({"duration": "5"}), i).unwrap_err().contains("not a string"));
        assert!(check(json!({"duration": 5.5}), i).is_err());
        assert!(check(json!({"duration": 16}), i).is_err());

        let g = opt("duration", Kind::IntOrText { min: 6, max: 30 });
        assert!(check(json!({"duration": 6}), g).is_ok());
        assert!(check(json!({"duration": "30"}), g).is_ok());
        assert!(check(json!({"duration": "31"}), g).is_err());
        assert!(check(json!({"duration": true}), g).is_err());

        let u = req("image_url", Kind::Url);
        assert!(check(json!({"image_url": "https://a/b.png"}), u).is_ok());
        assert!(check(json!({"image_url": ["https://a/b.png"]}), u).unwrap_err().contains("not a list"));

        let us = req("image_urls", Kind::Urls { min: 1, max: 1 });
        assert!(check(json!({"image_urls": ["https://a"]}), us).is_ok());
        assert!(check(json!({"image_urls": ["https://a", "https://b"]}), us).unwrap_err().contains("exactly 1"));
        assert!(check(json!({"image_urls": "https://a"}), us).is_err());
        assert!(check(json!({"image_urls": ["ftp://a"]}), us).unwrap_err().contains("image_urls[0]"));

        let t = req("prompt", Kind::Text { min: 3, max: 5 });
        assert!(check(json!({"prompt": "abc"}), t).is_ok());
        assert!(check(json!({"prompt": "ab"}), t).unwrap_err().contains("too short"));
        assert!(check(json!({"prompt": "abcdef"}), t).unwrap_err().contains("too long"));
        assert!(check(json!({"prompt": "   "}), t).unwrap_err().contains("is required"));
        assert!(check(json!({"prompt": 5}), t).unwrap_err().contains("must be a string"));

        let c = opt("n_frames", Kind::Choice(&["10", "15"]));
        assert!(check(json!({"n_frames": 10}), c).unwrap_err().contains("(a string)"));
        assert!(check(json!({"n_frames": null}), c).is_ok());
    }

    #[test]
    fn prices_round_to_hundredths() {
        assert_eq!(credits(11.7 * 5.0), 58.5);
        assert_eq!(credits(2.4 * 7.0), 16.8);
    }
}
