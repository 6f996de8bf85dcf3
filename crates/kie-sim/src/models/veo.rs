//! Veo 3.1's flat `veo/generate` body (contract: "Veo 3.1: a second protocol").

use super::{Output, Plan, UNSUPPORTED_MODEL};
use crate::catalogue::{Catalogue, Protocol};
use crate::rules::{self, count, int, opt, req, text, Input, Kind, ANY_LEN};

/// Kie's ids and their price per video at 720p / 1080p / 4k.
pub(crate) const MODELS: [(&str, [f64; 3]); 3] =
    [("veo3", [250.0, 255.0, 370.0]), ("veo3_fast", [60.0, 65.0, 180.0]), ("veo3_lite", [30.0, 35.0, 150.0])];

/// The model used when the body names none (Kie's documented default).
pub(crate) const DEFAULT_MODEL: &str = "veo3_fast";

pub(crate) fn prices(model: &str) -> Option<[f64; 3]> {
    MODELS.iter().find(|(id, _)| *id == model).map(|(_, p)| *p)
}

const TEXT: &str = "TEXT_2_VIDEO";
const FRAMES: &str = "FIRST_AND_LAST_FRAMES_2_VIDEO";
const REFERENCE: &str = "REFERENCE_2_VIDEO";

/// Validates a `veo/generate` body: the model (named or default) and its plan. The error
/// is the message of a 422 answer.
pub(crate) fn validate(body: &Input, cat: &Catalogue) -> Result<(String, Plan), String> {
    let model = match rules::present(body, "model") {
        None => DEFAULT_MODEL.to_string(),
        Some(serde_json::Value::String(m)) if !m.trim().is_empty() => m.trim().to_string(),
        Some(_) => return Err("model must be a string".into()),
    };
    let table = prices(&model);
    let extra = cat.get(&model).filter(|e| e.protocol == Protocol::Veo);
    if table.is_none() && extra.is_none() {
        return Err(UNSUPPORTED_MODEL.into());
    }
    rules::check_fields(
        "",
        body,
        &[
            req("prompt", Kind::Text { min: 1, max: ANY_LEN }),
            opt("imageUrls", Kind::Urls { min: 0, max: 3 }),
            opt("generationType", Kind::Choice(&[TEXT, FRAMES, REFERENCE])),
            // Snake case: the camelCase `aspectRatio` is ignored.
            opt("aspect_ratio", Kind::Choice(&["16:9", "9:16", "Auto"])),
            opt("resolution", Kind::Choice(&["720p", "1080p", "4k"])),
            // A number; a string holding one is taken too (the contract does not say).
            opt("duration", Kind::IntOrText { min: 4, max: 8 }),
            opt("enableTranslation", Kind::Bool),
            opt("watermark", Kind::Text { min: 0, max: ANY_LEN }),
        ],
    )?;
    let duration = int(body, "duration").unwrap_or(8);
    if ![4, 6, 8].contains(&duration) {
        return Err(format!("duration must be 4, 6 or 8 (got {duration})"));
    }
    let images = count(body, "imageUrls");
    let kind = text(body, "generationType").unwrap_or(if images > 0 { FRAMES } else { TEXT });
    match kind {
        TEXT if images > 0 => return Err(format!("imageUrls must be empty for {TEXT} (got {images})")),
        FRAMES if !(1..=2).contains(&images) => {
            return Err(format!("imageUrls must hold 1 or 2 images for {FRAMES} (got {images})"))
        }
        REFERENCE => {
            if !(1..=3).contains(&images) {
                return Err(format!("imageUrls must hold 1 to 3 images for {REFERENCE} (got {images})"));
            }
            if table.is_some() && model == "veo3" {
                return Err(format!("generationType {REFERENCE} is only available with veo3_fast and veo3_lite"));
            }
            if duration != 8 {
                return Err(format!("generationType {REFERENCE} needs duration 8 (got {duration})"));
            }
        }
        _ => {}
    }
    let resolution = text(body, "resolution").unwrap_or("720p");
    let price = match (table, extra) {
        (Some(p), _) => match resolution {
            "1080p" => p[1],
            "4k" => p[2],
            _ => p[0],
        },
        (None, Some(e)) => e.first_credits,
        (None, None) => 0.0,
    };
    let portrait = text(body, "aspect_ratio") == Some("9:16");
    let mut plan = Plan::new(price, Output::Video { portrait, seconds: duration as u32 });
    plan.resolution = Some(resolution.to_string());
    Ok((model, plan))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn run(body: Value) -> Result<(String, Plan), String> {
        validate(body.as_object().unwrap(), &Catalogue::default())
    }

    fn price(body: Value) -> f64 {
        run(body).unwrap().1.price
    }

    fn err(body: Value) -> String {
        run(body.clone()).map(|p| panic!("{body} accepted: {p:?}")).unwrap_err()
    }

    #[test]
    fn prices_per_video() {
        assert_eq!(run(json!({"prompt":"x"})).unwrap().0, "veo3_fast");
        assert_eq!(price(json!({"prompt":"x"})), 60.0);
        assert_eq!(price(json!({"prompt":"x","model":"veo3"})), 250.0);
        assert_eq!(price(json!({"prompt":"x","model":"veo3","resolution":"1080p"})), 255.0);
        assert_eq!(price(json!({"prompt":"x","model":"veo3","resolution":"4k"})), 370.0);
        assert_eq!(price(json!({"prompt":"x","model":"veo3_fast","resolution":"1080p"})), 65.0);
        assert_eq!(price(json!({"prompt":"x","model":"veo3_fast","resolution":"4k"})), 180.0);
        assert_eq!(price(json!({"prompt":"x","model":"veo3_lite"})), 30.0);
        assert_eq!(price(json!({"prompt":"x","model":"veo3_lite","resolution":"1080p"})), 35.0);
        assert_eq!(price(json!({"prompt":"x","model":"veo3_lite","resolution":"4k"})), 150.0);
        let plan = run(json!({"prompt":"x","aspect_ratio":"9:16","duration":4,"resolution":"1080p"})).unwrap().1;
        assert_eq!(plan.output, Output::Video { portrait: true, seconds: 4 });
        assert_eq!(plan.resolution.as_deref(), Some("1080p"));
    }

    #[test]
    fn body_rules() {
        assert_eq!(err(json!({"prompt":"x","model":"sora-2-text-to-video"})), UNSUPPORTED_MODEL);
        assert_eq!(err(json!({"prompt":"x","model":"veo2"})), UNSUPPORTED_MODEL);
        assert!(err(json!({"model":"veo3"})).contains("prompt is required"));
        assert!(err(json!({"prompt":"x","model":5})).contains("model"));
        assert!(err(json!({"prompt":"x","aspect_ratio":"1:1"})).contains("aspect_ratio"));
        assert!(run(json!({"prompt":"x","aspectRatio":"1:1"})).is_ok(), "camelCase is ignored");
        assert!(run(json!({"prompt":"x","aspect_ratio":"Auto"})).is_ok());
        assert!(err(json!({"prompt":"x","resolution":"4K"})).contains("resolution"));
        assert!(err(json!({"prompt":"x","duration":5})).contains("duration"));
        assert!(err(json!({"prompt":"x","duration":10})).contains("duration"));
        assert!(run(json!({"prompt":"x","duration":"6"})).is_ok());
        assert!(err(json!({"prompt":"x","enableTranslation":"yes"})).contains("enableTranslation"));
        assert!(err(json!({"prompt":"x","watermark":true})).contains("watermark"));
        assert!(err(json!({"prompt":"x","generationType":"IMAGE"})).contains("generationType"));

        let img = |n: usize| json!(vec!["https://a/i.png"; n]);
        // TEXT: no images
        assert!(err(json!({"prompt":"x","generationType":TEXT,"imageUrls":img(1)})).contains("imageUrls"));
        assert!(run(json!({"prompt":"x","generationType":TEXT,"imageUrls":[]})).is_ok());
        // FIRST_AND_LAST: 1–2
        assert!(run(json!({"prompt":"x","generationType":FRAMES,"imageUrls":img(1)})).is_ok());
        assert!(run(json!({"prompt":"x","generationType":FRAMES,"imageUrls":img(2)})).is_ok());
        assert!(err(json!({"prompt":"x","generationType":FRAMES})).contains("imageUrls"));
        assert!(err(json!({"prompt":"x","generationType":FRAMES,"imageUrls":img(3)})).contains("imageUrls"));
        assert!(run(json!({"prompt":"x","imageUrls":img(2)})).is_ok(), "images without a type: frames");
        assert!(err(json!({"prompt":"x","imageUrls":img(3)})).contains("imageUrls"));
        // REFERENCE: 1–3, fast/lite only, 8 s only
        let reference = |model: &str, n: usize, d: i64| json!({"prompt":"x","model":model,"generationType":REFERENCE,"imageUrls":img(n),"duration":d});
        assert_eq!(price(reference("veo3_fast", 3, 8)), 60.0);
        assert_eq!(price(reference("veo3_lite", 1, 8)), 30.0);
        assert!(err(reference("veo3", 1, 8)).contains("veo3_fast"));
        assert!(err(reference("veo3_fast", 1, 6)).contains("duration 8"));
        assert!(err(reference("veo3_fast", 0, 8)).contains("imageUrls"));
        assert!(err(reference("veo3_fast", 4, 8)).contains("imageUrls"));
        assert!(err(json!({"prompt":"x","imageUrls":["ftp://a"]})).contains("imageUrls[0]"));
    }

    #[test]
    fn catalogue_veo_models() {
        let mut cat = Catalogue::default();
        cat.add_json(
            r#"[{"id":"veo4","protocol":"veo","pricing":{"rules":[{"when":{},"credits":99}]}},{"id":"jobby"}]"#,
        )
        .unwrap();
        let body = json!({"prompt":"x","model":"veo4"});
        let (model, plan) = validate(body.as_object().unwrap(), &cat).unwrap();
        assert_eq!((model.as_str(), plan.price), ("veo4", 99.0));
        let body = json!({"prompt":"x","model":"jobby"});
        assert_eq!(validate(body.as_object().unwrap(), &cat).unwrap_err(), UNSUPPORTED_MODEL);
    }
}
