//! The models the simulator knows, their input validation and prices, written from the
//! contract's model table (independently of the client's catalogue).

use serde_json::{Map, Value};

pub(crate) const UNSUPPORTED_MODEL: &str = "The model name you specified is not supported";

/// The Sora video generators (valid origins for a character).
pub(crate) const VIDEO_MODELS: [&str; 5] = [
    "sora-2-text-to-video",
    "sora-2-image-to-video",
    "sora-2-pro-text-to-video",
    "sora-2-pro-image-to-video",
    "sora-2-pro-storyboard",
];

/// What a validated create will produce.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Output {
    /// A video (plus watermarked copy and first frame).
    Video { portrait: bool, seconds: u32 },
    /// The watermark remover: one landscape video.
    Remover,
    /// A character (`resultObject`).
    Character { handle: String },
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub price: f64,
    pub output: Output,
}

/// What the simulator knows of a task named as `origin_task_id`.
pub(crate) struct Origin {
    pub model: String,
    pub succeeded: bool,
    pub seconds: Option<u32>,
}

type Input = Map<String, Value>;

/// Validates `input` for `model`; the error is the message of a 422 answer.
pub(crate) fn validate(model: &str, input: &Input, origin: &dyn Fn(&str) -> Option<Origin>) -> Result<Plan, String> {
    match model {
        "sora-2-text-to-video" | "sora-2-image-to-video" => {
            let (portrait, seconds) = sora_video(model, input)?;
            let price = if seconds == 15 { 45.0 } else { 30.0 };
            Ok(Plan { price, output: Output::Video { portrait, seconds } })
        }
        "sora-2-pro-text-to-video" | "sora-2-pro-image-to-video" => {
            let (portrait, seconds) = sora_video(model, input)?;
            let size = one_of(input, "size", &["standard", "high"])?.unwrap_or("standard");
            let price = match (size, seconds) {
                ("high", 15) => 630.0,
                ("high", _) => 330.0,
                (_, 15) => 270.0,
                _ => 150.0,
            };
            Ok(Plan { price, output: Output::Video { portrait, seconds } })
        }
        "sora-2-pro-storyboard" => storyboard(input),
        "sora-watermark-remover" => {
            let url = required_str(input, "video_url", 500)?;
            if !url.starts_with("https://sora.chatgpt.com/") {
                return Err("input.video_url must be a public https://sora.chatgpt.com/ link".into());
            }
            one_of(input, "upload_method", &["s3", "oss"])?;
            Ok(Plan { price: 10.0, output: Output::Remover })
        }
        "sora-2-characters-pro" => character(input, origin),
        _ => Err(UNSUPPORTED_MODEL.into()),
    }
}

/// The four Sora 2 text/image models: returns (portrait, seconds).
fn sora_video(model: &str, input: &Input) -> Result<(bool, u32), String> {
    required_str(input, "prompt", 10_000)?;
    let aspect = one_of(input, "aspect_ratio", &["portrait", "landscape"])?.unwrap_or("landscape");
    let frames = one_of(input, "n_frames", &["10", "15"])?.unwrap_or("10");
    opt_bool(input, "remove_watermark")?;
    one_of(input, "upload_method", &["s3", "oss"])?;
    if let Some(list) = opt_array(input, "character_id_list")? {
        if list.len() > 5 {
            return Err(format!("input.character_id_list has {} ids; at most 5 are allowed", list.len()));
        }
        for (i, v) in list.iter().enumerate() {
            if !matches!(v.as_str(), Some(s) if !s.trim().is_empty()) {
                return Err(format!("input.character_id_list[{i}] must be a non-empty string"));
            }
        }
    }
    if model.contains("image-to-video") {
        let urls = opt_array(input, "image_urls")?.ok_or("input.image_urls is required")?;
        if urls.is_empty() {
            return Err("input.image_urls must hold at least one image URL".into());
        }
        check_urls("image_urls", urls)?;
    }
    Ok((aspect == "portrait", frames.parse().unwrap_or(10)))
}

fn storyboard(input: &Input) -> Result<Plan, String> {
    let frames = one_of(input, "n_frames", &["10", "15", "25"])?.unwrap_or("15");
    let seconds: u32 = frames.parse().unwrap_or(15);
    let aspect = one_of(input, "aspect_ratio", &["portrait", "landscape"])?.unwrap_or("landscape");
    one_of(input, "upload_method", &["s3", "oss"])?;
    if let Some(urls) = opt_array(input, "image_urls")? {
        check_urls("image_urls", urls)?;
    }
    let shots = opt_array(input, "shots")?.ok_or("input.shots is required")?;
    if shots.is_empty() || shots.len() > 10 {
        return Err(format!("input.shots must hold 1 to 10 shots (got {})", shots.len()));
    }
    let mut total = 0.0;
    for (i, shot) in shots.iter().enumerate() {
        let shot = shot.as_object().ok_or_else(|| format!("input.shots[{i}] must be an object"))?;
        match shot.get("Scene") {
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            Some(Value::String(_)) | None | Some(Value::Null) => {
                return Err(format!("input.shots[{i}].Scene is required"))
            }
            Some(_) => return Err(format!("input.shots[{i}].Scene must be a string")),
        }
        let d = shot
            .get("duration")
            .and_then(Value::as_f64)
            .ok_or_else(|| format!("input.shots[{i}].duration is required (a number of seconds)"))?;
        if d <= 0.0 {
            return Err(format!("input.shots[{i}].duration must be more than 0 seconds"));
        }
        total += d;
    }
    if total > f64::from(seconds) + 1e-9 {
        return Err(format!("input.shots durations add up to {total} s, more than n_frames ({seconds} s)"));
    }
    let price = match seconds {
        10 => 150.0,
        15 => 270.0,
        _ => 450.0,
    };
    Ok(Plan { price, output: Output::Video { portrait: aspect == "portrait", seconds } })
}

fn character(input: &Input, origin: &dyn Fn(&str) -> Option<Origin>) -> Result<Plan, String> {
    let origin_id = required_str(input, "origin_task_id", 100)?;
    required_str(input, "character_prompt", 1000)?;
    let handle = optional_str(input, "character_user_name", 40)?;
    optional_str(input, "safety_instruction", 1000)?;
    let found = origin(origin_id);
    let ok = found.as_ref().is_some_and(|o| o.succeeded && VIDEO_MODELS.contains(&o.model.as_str()));
    if !ok {
        return Err(format!(
            "input.origin_task_id must be a successful Sora video task of this account ({origin_id} is not)"
        ));
    }
    if let Some(ts) = optional_str(input, "timestamps", 100)? {
        let bad = || format!("input.timestamps must be \"start,end\" in seconds, 1 to 4 s apart (got \"{ts}\")");
        let (a, b) = ts.split_once(',').ok_or_else(bad)?;
        let a: f64 = a.trim().parse().map_err(|_| bad())?;
        let b: f64 = b.trim().parse().map_err(|_| bad())?;
        if a < 0.0 || !(1.0..=4.0).contains(&(b - a)) {
            return Err(bad());
        }
        if let Some(len) = found.and_then(|o| o.seconds) {
            if b > f64::from(len) {
                return Err(format!("input.timestamps ends at {b} s, after the end of the {len} s origin video"));
            }
        }
    }
    let handle = match handle {
        Some(h) => h.trim_start_matches('@').to_string(),
        None => format!("sim{}.ab", crate::util::short_hex(6)),
    };
    Ok(Plan { price: 10.0, output: Output::Character { handle } })
}

fn present<'a>(input: &'a Input, field: &str) -> Option<&'a Value> {
    input.get(field).filter(|v| !v.is_null())
}

fn optional_str<'a>(input: &'a Input, field: &str, max: usize) -> Result<Option<&'a str>, String> {
    match present(input, field) {
        None => Ok(None),
        Some(Value::String(s)) => {
            let n = s.chars().count();
            if n > max {
                Err(format!("input.{field} is too long: {n} characters, at most {max} allowed"))
            } else {
                Ok(Some(s))
            }
        }
        Some(_) => Err(format!("input.{field} must be a string")),
    }
}

fn required_str<'a>(input: &'a Input, field: &str, max: usize) -> Result<&'a str, String> {
    match optional_str(input, field, max)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(format!("input.{field} is required")),
    }
}

fn one_of<'a>(input: &'a Input, field: &str, allowed: &[&str]) -> Result<Option<&'a str>, String> {
    let bad = || {
        let list: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
        format!("input.{field} must be one of {} (a string)", list.join(", "))
    };
    match present(input, field) {
        None => Ok(None),
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(Some(s)),
        Some(_) => Err(bad()),
    }
}

fn opt_bool(input: &Input, field: &str) -> Result<Option<bool>, String> {
    match present(input, field) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(format!("input.{field} must be true or false")),
    }
}

fn opt_array<'a>(input: &'a Input, field: &str) -> Result<Option<&'a Vec<Value>>, String> {
    match present(input, field) {
        None => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(format!("input.{field} must be an array")),
    }
}

fn check_urls(field: &str, urls: &[Value]) -> Result<(), String> {
    for (i, u) in urls.iter().enumerate() {
        let ok = u.as_str().is_some_and(|s| s.starts_with("https://") || s.starts_with("http://"));
        if !ok {
            return Err(format!("input.{field}[{i}] must be a public http(s) URL"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(model: &str, input: Value) -> Result<Plan, String> {
        let none = |_: &str| None;
        validate(model, input.as_object().unwrap(), &none)
    }

    #[test]
    fn prices() {
        let p = |m: &str, i: Value| v(m, i).unwrap().price;
        assert_eq!(p("sora-2-text-to-video", json!({"prompt":"x"})), 30.0);
        assert_eq!(p("sora-2-text-to-video", json!({"prompt":"x","n_frames":"15"})), 45.0);
        assert_eq!(p("sora-2-pro-text-to-video", json!({"prompt":"x"})), 150.0);
        assert_eq!(p("sora-2-pro-text-to-video", json!({"prompt":"x","n_frames":"15"})), 270.0);
        assert_eq!(p("sora-2-pro-text-to-video", json!({"prompt":"x","size":"high"})), 330.0);
        assert_eq!(
            p(
                "sora-2-pro-image-to-video",
                json!({"prompt":"x","size":"high","n_frames":"15","image_urls":["https://a/b.png"]})
            ),
            630.0
        );
        let shots = json!([{"Scene":"a","duration":10},{"Scene":"b","duration":15}]);
        assert_eq!(p("sora-2-pro-storyboard", json!({"n_frames":"25","shots":shots})), 450.0);
        assert_eq!(p("sora-watermark-remover", json!({"video_url":"https://sora.chatgpt.com/p/s_1"})), 10.0);
    }

    #[test]
    fn messages_name_the_field() {
        let e = |m: &str, i: Value| v(m, i).unwrap_err();
        assert!(e("sora-2-text-to-video", json!({})).contains("input.prompt"));
        assert!(e("sora-2-text-to-video", json!({"prompt":"x".repeat(10_001)})).contains("input.prompt"));
        assert!(e("sora-2-text-to-video", json!({"prompt":"x","n_frames":10})).contains("input.n_frames"));
        assert!(e("sora-2-text-to-video", json!({"prompt":"x","aspect_ratio":"16:9"})).contains("input.aspect_ratio"));
        assert!(e("sora-2-text-to-video", json!({"prompt":"x","remove_watermark":"yes"}))
            .contains("input.remove_watermark"));
        assert!(e("sora-2-text-to-video", json!({"prompt":"x","character_id_list":["a","b","c","d","e","f"]}))
            .contains("character_id_list"));
        assert!(e("sora-2-image-to-video", json!({"prompt":"x"})).contains("input.image_urls"));
        assert!(
            e("sora-2-image-to-video", json!({"prompt":"x","image_urls":["file:///a.png"]})).contains("image_urls[0]")
        );
        assert!(e("sora-2-pro-text-to-video", json!({"prompt":"x","size":"4k"})).contains("input.size"));
        assert!(e(
            "sora-2-pro-storyboard",
            json!({"n_frames":"10","shots":[{"Scene":"a","duration":6},{"Scene":"b","duration":5}]})
        )
        .contains("n_frames"));
        assert!(e("sora-2-pro-storyboard", json!({"shots":[{"duration":6}]})).contains("shots[0].Scene"));
        assert!(e("sora-2-pro-storyboard", json!({"shots":[]})).contains("input.shots"));
        assert!(
            e("sora-watermark-remover", json!({"video_url":"https://example.com/v.mp4"})).contains("input.video_url")
        );
        assert!(
            e("sora-2-characters-pro", json!({"origin_task_id":"x","character_prompt":"y"})).contains("origin_task_id")
        );
        assert_eq!(e("sora-3", json!({})), UNSUPPORTED_MODEL);
    }

    #[test]
    fn characters() {
        let origin = |id: &str| {
            (id == "good").then(|| Origin { model: "sora-2-text-to-video".into(), succeeded: true, seconds: Some(10) })
        };
        let ok = validate(
            "sora-2-characters-pro",
            json!({"origin_task_id":"good","character_prompt":"a barista","character_user_name":"@sky","timestamps":"1,3"})
                .as_object()
                .unwrap(),
            &origin,
        )
        .unwrap();
        assert_eq!(ok.output, Output::Character { handle: "sky".into() });
        let bad_ts = validate(
            "sora-2-characters-pro",
            json!({"origin_task_id":"good","character_prompt":"a","timestamps":"1,9"}).as_object().unwrap(),
            &origin,
        );
        assert!(bad_ts.unwrap_err().contains("timestamps"));
        let late = validate(
            "sora-2-characters-pro",
            json!({"origin_task_id":"good","character_prompt":"a","timestamps":"8,11"}).as_object().unwrap(),
            &origin,
        );
        assert!(late.unwrap_err().contains("timestamps"));
    }
}
