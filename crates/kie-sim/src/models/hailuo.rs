//! Hailuo 2.3 image-to-video (pro, standard) and Hailuo 02 text-to-video pro
//! (contract: "Kie's other video models").

use super::{no_rules, Output, Spec};
use crate::rules::{opt, req, text, Field, Input, Kind};

fn i2v_fields() -> Vec<Field> {
    vec![
        req("prompt", Kind::Text { min: 1, max: 5000 }),
        // One string, not a list.
        req("image_url", Kind::Url),
        opt("duration", Kind::Choice(&["6", "10"])),
        // Capital P.
        opt("resolution", Kind::Choice(&["768P", "1080P"])),
        opt("nsfw_checker", Kind::Bool),
    ]
}

fn i2v_rules(input: &Input) -> Result<(), String> {
    if text(input, "duration") == Some("10") && text(input, "resolution") == Some("1080P") {
        return Err("input.duration \"10\" is not available at input.resolution \"1080P\" (6 s only)".into());
    }
    Ok(())
}

fn seconds(input: &Input) -> u32 {
    text(input, "duration").and_then(|d| d.parse().ok()).unwrap_or(6)
}

/// (6 s 768P, 10 s 768P, 6 s 1080P).
fn i2v_price(table: [f64; 3], input: &Input) -> f64 {
    match (seconds(input), text(input, "resolution").unwrap_or("768P")) {
        (_, "1080P") => table[2],
        (10, _) => table[1],
        _ => table[0],
    }
}

fn output(input: &Input) -> Output {
    Output::Video { portrait: false, seconds: seconds(input) }
}

pub(super) fn specs() -> Vec<Spec> {
    vec![
        Spec {
            id: "hailuo/2-3-image-to-video-pro",
            family: "Hailuo",
            fields: i2v_fields(),
            absent: &[],
            rules: i2v_rules,
            price: |i| i2v_price([45.0, 90.0, 80.0], i),
            output,
        },
        Spec {
            id: "hailuo/2-3-image-to-video-standard",
            family: "Hailuo",
            fields: i2v_fields(),
            absent: &[],
            rules: i2v_rules,
            price: |i| i2v_price([30.0, 50.0, 50.0], i),
            output,
        },
        Spec {
            id: "hailuo/02-text-to-video-pro",
            family: "Hailuo",
            fields: vec![
                req("prompt", Kind::Text { min: 1, max: 1500 }),
                opt("prompt_optimizer", Kind::Bool),
                opt("nsfw_checker", Kind::Bool),
            ],
            absent: &[],
            rules: no_rules,
            // Fixed 6 s 1080p.
            price: |_| 57.0,
            output: |_| Output::Video { portrait: false, seconds: 6 },
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::json;

    const PRO: &str = "hailuo/2-3-image-to-video-pro";
    const STD: &str = "hailuo/2-3-image-to-video-standard";
    const IMG: &str = "https://a/i.png";

    #[test]
    fn image_to_video() {
        assert_eq!(price(PRO, json!({"prompt":"x","image_url":IMG})), 45.0);
        assert_eq!(price(PRO, json!({"prompt":"x","image_url":IMG,"duration":"10"})), 90.0);
        assert_eq!(price(PRO, json!({"prompt":"x","image_url":IMG,"resolution":"1080P"})), 80.0);
        assert_eq!(price(STD, json!({"prompt":"x","image_url":IMG})), 30.0);
        assert_eq!(price(STD, json!({"prompt":"x","image_url":IMG,"duration":"10","resolution":"768P"})), 50.0);
        assert_eq!(price(STD, json!({"prompt":"x","image_url":IMG,"duration":"6","resolution":"1080P"})), 50.0);
        // "10" not at 1080P
        assert!(err(PRO, json!({"prompt":"x","image_url":IMG,"duration":"10","resolution":"1080P"})).contains("1080P"));
        assert!(err(PRO, json!({"prompt":"x","image_url":[IMG]})).contains("input.image_url"));
        assert!(err(PRO, json!({"prompt":"x","image_urls":[IMG]})).contains("input.image_url is required"));
        assert!(err(PRO, json!({"prompt":"x","image_url":IMG,"duration":6})).contains("input.duration"));
        assert!(err(PRO, json!({"prompt":"x","image_url":IMG,"resolution":"1080p"})).contains("input.resolution"));
        assert!(err(STD, json!({"prompt":"x".repeat(5001),"image_url":IMG})).contains("input.prompt"));
    }

    #[test]
    fn text_to_video() {
        let t = "hailuo/02-text-to-video-pro";
        assert_eq!(price(t, json!({"prompt":"x","prompt_optimizer":true})), 57.0);
        assert!(err(t, json!({"prompt":"x".repeat(1501)})).contains("input.prompt"));
        assert!(err(t, json!({"prompt":"x","prompt_optimizer":"true"})).contains("input.prompt_optimizer"));
        assert!(err(t, json!({})).contains("input.prompt"));
    }
}
