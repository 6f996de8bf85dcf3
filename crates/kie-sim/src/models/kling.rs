//! Kling 3.0 and 2.6 (contract: "Kie's other video models").

use serde_json::Value;

use super::{no_rules, Output, Spec};
use crate::rules::{count, flag, int, opt, present, req, tall, text, Input, Kind, ANY_LEN};

const NSFW: &str = "nsfw_checker";

fn seconds(input: &Input, default: u32) -> u32 {
    int(input, "duration").and_then(|d| u32::try_from(d).ok()).unwrap_or(default)
}

fn video(input: &Input, default: u32) -> Output {
    Output::Video { portrait: text(input, "aspect_ratio").is_some_and(tall), seconds: seconds(input, default) }
}

/// Kling 3.0 per second: std 14 (20 with sound), pro 18 (27), 4K 67.
fn v3_price(input: &Input) -> f64 {
    let sound = flag(input, "sound").unwrap_or(false);
    let rate = match (text(input, "mode").unwrap_or("pro"), sound) {
        ("std", false) => 14.0,
        ("std", true) => 20.0,
        ("4K", _) => 67.0,
        (_, false) => 18.0,
        (_, true) => 27.0,
    };
    rate * f64::from(seconds(input, 5))
}

/// Kling 2.6: 5 s 55 (110 with sound), 10 s 110 (220).
fn v26_price(input: &Input) -> f64 {
    let base = if seconds(input, 5) == 10 { 110.0 } else { 55.0 };
    if flag(input, "sound").unwrap_or(false) {
        base * 2.0
    } else {
        base
    }
}

fn v3_rules(input: &Input) -> Result<(), String> {
    let multi = flag(input, "multi_shots").unwrap_or(false);
    if multi {
        if flag(input, "sound") != Some(true) {
            return Err("input.sound must be true when input.multi_shots is true".into());
        }
        let duration = int(input, "duration").unwrap_or(5);
        let shots = match present(input, "multi_prompt") {
            None => return Err("input.multi_prompt is required when input.multi_shots is true".into()),
            Some(Value::Array(a)) => a,
            Some(_) => return Err("input.multi_prompt must be an array".into()),
        };
        if shots.is_empty() || shots.len() > 5 {
            return Err(format!("input.multi_prompt must hold 1 to 5 shots (got {})", shots.len()));
        }
        let mut total = 0;
        for (i, shot) in shots.iter().enumerate() {
            let shot = shot.as_object().ok_or_else(|| format!("input.multi_prompt[{i}] must be an object"))?;
            match shot.get("prompt") {
                Some(Value::String(p)) if !p.trim().is_empty() => {
                    let n = p.chars().count();
                    if n > 500 {
                        return Err(format!("input.multi_prompt[{i}].prompt is too long: {n} characters, at most 500"));
                    }
                }
                Some(Value::String(_)) | None | Some(Value::Null) => {
                    return Err(format!("input.multi_prompt[{i}].prompt is required"))
                }
                Some(_) => return Err(format!("input.multi_prompt[{i}].prompt must be a string")),
            }
            let d = match shot.get("duration") {
                Some(v) if v.is_i64() || v.is_u64() => v.as_i64().unwrap_or(0),
                None | Some(Value::Null) => return Err(format!("input.multi_prompt[{i}].duration is required")),
                Some(_) => {
                    return Err(format!(
                        "input.multi_prompt[{i}].duration must be a whole number (1 to 12), not a string"
                    ))
                }
            };
            if !(1..=12).contains(&d) {
                return Err(format!("input.multi_prompt[{i}].duration must be from 1 to 12 (got {d})"));
            }
            total += d;
        }
        if total > duration {
            return Err(format!(
                "input.multi_prompt durations add up to {total} s, more than input.duration ({duration} s)"
            ));
        }
    } else if text(input, "prompt").is_none_or(|p| p.trim().is_empty()) {
        return Err("input.prompt is required (unless input.multi_shots is true)".into());
    }
    if count(input, "image_urls") == 0 && present(input, "aspect_ratio").is_none() {
        return Err("input.aspect_ratio is required when there is no image".into());
    }
    if let Some(elements) = present(input, "kling_elements") {
        let elements = elements.as_array().ok_or("input.kling_elements must be an array")?;
        if elements.len() > 3 {
            return Err(format!("input.kling_elements must hold at most 3 elements (got {})", elements.len()));
        }
        for (i, el) in elements.iter().enumerate() {
            let el = el.as_object().ok_or_else(|| format!("input.kling_elements[{i}] must be an object"))?;
            if !matches!(el.get("name"), Some(Value::String(s)) if !s.trim().is_empty()) {
                return Err(format!("input.kling_elements[{i}].name is required (a string)"));
            }
            if !matches!(el.get("description"), Some(Value::String(_))) {
                return Err(format!("input.kling_elements[{i}].description is required (a string)"));
            }
            let urls = el
                .get("element_input_urls")
                .and_then(Value::as_array)
                .ok_or_else(|| format!("input.kling_elements[{i}].element_input_urls must be an array of URLs"))?;
            if !(2..=4).contains(&urls.len()) {
                return Err(format!(
                    "input.kling_elements[{i}].element_input_urls must hold 2 to 4 images (got {})",
                    urls.len()
                ));
            }
            for (j, u) in urls.iter().enumerate() {
                if !u.as_str().is_some_and(|s| s.starts_with("https://") || s.starts_with("http://")) {
                    return Err(format!(
                        "input.kling_elements[{i}].element_input_urls[{j}] must be a public http(s) URL"
                    ));
                }
            }
        }
    }
    Ok(())
}

pub(super) fn specs() -> Vec<Spec> {
    vec![
        Spec {
            id: "kling-3.0/video",
            family: "Kling",
            fields: vec![
                opt("prompt", Kind::Text { min: 0, max: ANY_LEN }),
                opt("image_urls", Kind::Urls { min: 0, max: 2 }),
                req("sound", Kind::Bool),
                req("duration", Kind::IntText { min: 3, max: 15 }),
                opt("aspect_ratio", Kind::Choice(&["16:9", "9:16", "1:1"])),
                req("mode", Kind::Choice(&["std", "pro", "4K"])),
                req("multi_shots", Kind::Bool),
                opt("multi_prompt", Kind::Custom),
                opt("kling_elements", Kind::Custom),
                opt(NSFW, Kind::Bool),
            ],
            absent: &[],
            rules: v3_rules,
            price: v3_price,
            output: |i| video(i, 5),
        },
        Spec {
            id: "kling-2.6/text-to-video",
            family: "Kling",
            fields: vec![
                req("prompt", Kind::Text { min: 1, max: 1000 }),
                req("sound", Kind::Bool),
                req("aspect_ratio", Kind::Choice(&["1:1", "16:9", "9:16"])),
                req("duration", Kind::Choice(&["5", "10"])),
                opt(NSFW, Kind::Bool),
            ],
            absent: &[],
            rules: no_rules,
            price: v26_price,
            output: |i| video(i, 5),
        },
        Spec {
            id: "kling-2.6/image-to-video",
            family: "Kling",
            fields: vec![
                req("prompt", Kind::Text { min: 1, max: 1000 }),
                req("image_urls", Kind::Urls { min: 1, max: 1 }),
                req("sound", Kind::Bool),
                req("duration", Kind::Choice(&["5", "10"])),
                opt(NSFW, Kind::Bool),
            ],
            absent: &["aspect_ratio"],
            rules: no_rules,
            price: v26_price,
            output: |i| video(i, 5),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::{json, Value};

    const K3: &str = "kling-3.0/video";

    fn k3(extra: Value) -> Value {
        let mut v = json!({"prompt":"a fox","sound":false,"duration":"5","aspect_ratio":"16:9","mode":"pro","multi_shots":false});
        for (k, x) in extra.as_object().unwrap() {
            v[k] = x.clone();
        }
        v
    }

    #[test]
    fn kling_3_types_and_prices() {
        assert_eq!(price(K3, k3(json!({}))), 90.0);
        assert_eq!(price(K3, k3(json!({"sound": true}))), 135.0);
        assert_eq!(price(K3, k3(json!({"mode": "std", "duration": "10"}))), 140.0);
        assert_eq!(price(K3, k3(json!({"mode": "std", "sound": true, "duration": "3"}))), 60.0);
        assert_eq!(price(K3, k3(json!({"mode": "4K", "duration": "15"}))), 1005.0);
        assert!(err(K3, k3(json!({"duration": 5}))).contains("input.duration"));
        assert!(err(K3, k3(json!({"duration": "2"}))).contains("input.duration"));
        assert!(err(K3, k3(json!({"duration": "16"}))).contains("input.duration"));
        assert!(err(K3, k3(json!({"sound": "false"}))).contains("input.sound"));
        assert!(err(K3, k3(json!({"mode": "4k"}))).contains("input.mode"));
        assert!(err(K3, k3(json!({"aspect_ratio": "4:3"}))).contains("input.aspect_ratio"));
        let mut no_sound = k3(json!({}));
        no_sound.as_object_mut().unwrap().remove("sound");
        assert!(err(K3, no_sound).contains("input.sound is required"));
        // aspect_ratio may be left out with images, not without.
        let mut no_ar = k3(json!({}));
        no_ar.as_object_mut().unwrap().remove("aspect_ratio");
        assert!(err(K3, no_ar.clone()).contains("input.aspect_ratio"));
        no_ar["image_urls"] = json!(["https://a/1.png", "https://a/2.png"]);
        assert_eq!(price(K3, no_ar.clone()), 90.0);
        no_ar["image_urls"] = json!(["https://a/1.png", "https://a/2.png", "https://a/3.png"]);
        assert!(err(K3, no_ar).contains("input.image_urls"));
        assert!(err(K3, k3(json!({"prompt": ""}))).contains("input.prompt"));
    }

    #[test]
    fn kling_3_multi_shots() {
        let shots = json!([{"prompt":"a","duration":3},{"prompt":"b","duration":2}]);
        let ok = k3(json!({"multi_shots": true, "sound": true, "multi_prompt": shots, "prompt": null}));
        assert_eq!(price(K3, ok.clone()), 135.0);
        // multi_shots → sound must be true
        let mut no_sound = ok.clone();
        no_sound["sound"] = json!(false);
        assert!(err(K3, no_sound).contains("input.sound"));
        // the shots' durations sum to at most duration
        let mut long = ok.clone();
        long["duration"] = json!("4");
        assert!(err(K3, long).contains("input.multi_prompt"));
        let mut six = ok.clone();
        six["multi_prompt"] = json!([
            {"prompt":"a","duration":1},{"prompt":"a","duration":1},{"prompt":"a","duration":1},
            {"prompt":"a","duration":1},{"prompt":"a","duration":1},{"prompt":"a","duration":1}]);
        six["duration"] = json!("10");
        assert!(err(K3, six).contains("1 to 5"));
        let mut bad = ok.clone();
        bad["multi_prompt"] = json!([{"prompt":"a","duration":"3"}]);
        assert!(err(K3, bad).contains("multi_prompt[0].duration"));
        let mut bad = ok.clone();
        bad["multi_prompt"] = json!([{"prompt":"a","duration":13}]);
        bad["duration"] = json!("15");
        assert!(err(K3, bad).contains("multi_prompt[0].duration"));
        let mut bad = ok.clone();
        bad["multi_prompt"] = json!([{"prompt":"x".repeat(501),"duration":2}]);
        assert!(err(K3, bad).contains("multi_prompt[0].prompt"));
        let mut none = ok;
        none.as_object_mut().unwrap().remove("multi_prompt");
        assert!(err(K3, none).contains("input.multi_prompt"));
    }

    #[test]
    fn kling_3_elements() {
        let el =
            |n: usize| json!({"name":"hero","description":"the hero","element_input_urls": vec!["https://a/e.png"; n]});
        assert!(v(K3, k3(json!({"kling_elements": [el(2), el(4), el(3)]}))).is_ok());
        assert!(err(K3, k3(json!({"kling_elements": [el(2), el(2), el(2), el(2)]}))).contains("at most 3"));
        assert!(err(K3, k3(json!({"kling_elements": [el(1)]}))).contains("element_input_urls"));
        assert!(err(K3, k3(json!({"kling_elements": [el(5)]}))).contains("element_input_urls"));
        assert!(err(
            K3,
            k3(json!({"kling_elements": [{"description":"x","element_input_urls":["https://a","https://b"]}]}))
        )
        .contains("kling_elements[0].name"));
    }

    #[test]
    fn kling_2_6() {
        let t2v = "kling-2.6/text-to-video";
        let ok = json!({"prompt":"x","sound":false,"aspect_ratio":"16:9","duration":"5"});
        assert_eq!(price(t2v, ok.clone()), 55.0);
        let mut s = ok.clone();
        s["sound"] = json!(true);
        assert_eq!(price(t2v, s.clone()), 110.0);
        s["duration"] = json!("10");
        assert_eq!(price(t2v, s), 220.0);
        let mut ten = ok.clone();
        ten["duration"] = json!("10");
        assert_eq!(price(t2v, ten), 110.0);
        let mut bad = ok.clone();
        bad["duration"] = json!(5);
        assert!(err(t2v, bad).contains("input.duration"));
        let mut bad = ok.clone();
        bad.as_object_mut().unwrap().remove("aspect_ratio");
        assert!(err(t2v, bad).contains("input.aspect_ratio"));
        let mut bad = ok;
        bad["prompt"] = json!("x".repeat(1001));
        assert!(err(t2v, bad).contains("input.prompt"));

        let i2v = "kling-2.6/image-to-video";
        let ok = json!({"prompt":"x","sound":true,"duration":"10","image_urls":["https://a/1.png"]});
        assert_eq!(price(i2v, ok.clone()), 220.0);
        let mut bad = ok.clone();
        bad["image_urls"] = json!(["https://a/1.png", "https://a/2.png"]);
        assert!(err(i2v, bad).contains("input.image_urls"));
        let mut bad = ok.clone();
        bad["aspect_ratio"] = json!("16:9");
        assert!(err(i2v, bad).contains("input.aspect_ratio"));
        let mut bad = ok;
        bad["sound"] = json!(1);
        assert!(err(i2v, bad).contains("input.sound"));
    }
}
