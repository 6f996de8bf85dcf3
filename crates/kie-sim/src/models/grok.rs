//! Grok Imagine text-to-video and image-to-video (contract: "Kie's other video models").
//! `duration` is a number in one schema and a string in another's example: both are taken.

use super::{Output, Spec};
use crate::rules::{count, int, opt, present, req, tall, text, Input, Kind};

const ASPECT: Kind = Kind::Choice(&["2:3", "3:2", "1:1", "16:9", "9:16"]);
const MODE: Kind = Kind::Choice(&["fun", "normal", "spicy"]);
const RESOLUTION: Kind = Kind::Choice(&["480p", "720p", "1080p"]);
const DURATION: Kind = Kind::IntOrText { min: 6, max: 30 };

fn seconds(input: &Input) -> u32 {
    int(input, "duration").and_then(|d| u32::try_from(d).ok()).unwrap_or(6)
}

/// Per second: 480p 2.4, 720p 4.5, 1080p 8.
fn price(input: &Input) -> f64 {
    let rate = match text(input, "resolution").unwrap_or("480p") {
        "720p" => 4.5,
        "1080p" => 8.0,
        _ => 2.4,
    };
    rate * f64::from(seconds(input))
}

fn output(input: &Input) -> Output {
    // The default shape is 2:3, a tall one.
    Output::Video { portrait: tall(text(input, "aspect_ratio").unwrap_or("2:3")), seconds: seconds(input) }
}

fn i2v_rules(input: &Input) -> Result<(), String> {
    let images = count(input, "image_urls");
    if images == 0 && present(input, "task_id").is_none() {
        return Err("input.image_urls or input.task_id is required".into());
    }
    if images > 1 && text(input, "resolution") == Some("1080p") {
        return Err(format!("input.resolution \"1080p\" takes at most 1 image (input.image_urls has {images})"));
    }
    if images > 0 && text(input, "mode") == Some("spicy") {
        return Err("input.mode \"spicy\" is not available with input.image_urls (external images)".into());
    }
    Ok(())
}

pub(super) fn specs() -> Vec<Spec> {
    vec![
        Spec {
            id: "grok-imagine/text-to-video",
            family: "Grok",
            fields: vec![
                req("prompt", Kind::Text { min: 1, max: 5000 }),
                opt("aspect_ratio", ASPECT),
                opt("mode", MODE),
                opt("duration", DURATION),
                opt("resolution", RESOLUTION),
                opt("nsfw_checker", Kind::Bool),
            ],
            absent: &[],
            rules: super::no_rules,
            price,
            output,
        },
        Spec {
            id: "grok-imagine/image-to-video",
            family: "Grok",
            fields: vec![
                opt("image_urls", Kind::Urls { min: 0, max: 7 }),
                opt("task_id", Kind::Text { min: 1, max: 200 }),
                opt("prompt", Kind::Text { min: 0, max: 5000 }),
                opt("mode", MODE),
                opt("duration", DURATION),
                opt("resolution", RESOLUTION),
                opt("aspect_ratio", ASPECT),
                opt("nsfw_checker", Kind::Bool),
            ],
            absent: &[],
            rules: i2v_rules,
            price,
            output,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::json;

    const T: &str = "grok-imagine/text-to-video";
    const I: &str = "grok-imagine/image-to-video";

    #[test]
    fn text_to_video() {
        assert_eq!(price(T, json!({"prompt":"x"})), 14.4);
        assert_eq!(price(T, json!({"prompt":"x","duration":10,"resolution":"720p"})), 45.0);
        assert_eq!(price(T, json!({"prompt":"x","duration":"30","resolution":"1080p"})), 240.0);
        assert!(err(T, json!({"prompt":"x","duration":5})).contains("input.duration"));
        assert!(err(T, json!({"prompt":"x","duration":31})).contains("input.duration"));
        assert!(err(T, json!({"prompt":"x","duration":[6]})).contains("input.duration"));
        assert!(err(T, json!({"prompt":"x","mode":"wild"})).contains("input.mode"));
        assert!(err(T, json!({"prompt":"x","aspect_ratio":"4:3"})).contains("input.aspect_ratio"));
        assert!(err(T, json!({"prompt":"x","resolution":"1080P"})).contains("input.resolution"));
        assert!(err(T, json!({})).contains("input.prompt"));
    }

    #[test]
    fn image_to_video() {
        let img = |n: usize| json!(vec!["https://a/i.png"; n]);
        assert_eq!(price(I, json!({"image_urls":img(1),"duration":"6"})), 14.4);
        assert_eq!(price(I, json!({"task_id":"t1","duration":6,"resolution":"1080p","mode":"spicy"})), 48.0);
        assert!(v(I, json!({"image_urls":img(7),"prompt":"@image1 waves"})).is_ok());
        assert!(err(I, json!({"image_urls":img(8)})).contains("input.image_urls"));
        assert!(err(I, json!({"prompt":"x"})).contains("input.image_urls or input.task_id"));
        assert!(err(I, json!({"image_urls":[]})).contains("input.image_urls or input.task_id"));
        // 1080p only with at most 1 image
        assert!(v(I, json!({"image_urls":img(1),"resolution":"1080p"})).is_ok());
        assert!(err(I, json!({"image_urls":img(2),"resolution":"1080p"})).contains("1080p"));
        // spicy not with external images
        assert!(err(I, json!({"image_urls":img(1),"mode":"spicy"})).contains("spicy"));
        assert!(err(I, json!({"image_urls":img(1),"duration":"5"})).contains("input.duration"));
        assert!(err(I, json!({"image_urls":img(1),"duration":true})).contains("input.duration"));
    }
}
