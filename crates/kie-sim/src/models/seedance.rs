//! Seedance 2 and 2-fast (contract: "Kie's other video models").

use super::{Output, Spec};
use crate::rules::{count, int, opt, present, req, tall, text, Field, Input, Kind};

const RESOLUTIONS: &[&str] = &["480p", "720p", "1080p", "4k"];
const FAST_RESOLUTIONS: &[&str] = &["480p", "720p"];
const REFERENCES: [&str; 3] = ["reference_image_urls", "reference_video_urls", "reference_audio_urls"];

fn fields(resolutions: &'static [&'static str]) -> Vec<Field> {
    vec![
        req("prompt", Kind::Text { min: 3, max: 20_000 }),
        opt("first_frame_url", Kind::Url),
        opt("last_frame_url", Kind::Url),
        opt("reference_image_urls", Kind::Urls { min: 0, max: 9 }),
        opt("reference_video_urls", Kind::Urls { min: 0, max: 3 }),
        opt("reference_audio_urls", Kind::Urls { min: 0, max: 3 }),
        opt("generate_audio", Kind::Bool),
        opt("resolution", Kind::Choice(resolutions)),
        opt("aspect_ratio", Kind::Choice(&["1:1", "4:3", "3:4", "16:9", "9:16", "21:9", "adaptive"])),
        opt("duration", Kind::Int { min: 4, max: 15 }),
        opt("web_search", Kind::Bool),
        opt("nsfw_checker", Kind::Bool),
    ]
}

/// First/last frame and references are exclusive modes.
fn rules(input: &Input) -> Result<(), String> {
    let frames = present(input, "first_frame_url").is_some() || present(input, "last_frame_url").is_some();
    if let Some(r) = REFERENCES.iter().find(|r| count(input, r) > 0) {
        if frames {
            return Err(format!(
                "input.{r} cannot be used with input.first_frame_url/last_frame_url (frames and references are exclusive modes)"
            ));
        }
    }
    Ok(())
}

fn seconds(input: &Input) -> f64 {
    int(input, "duration").unwrap_or(5) as f64
}

fn output(input: &Input) -> Output {
    Output::Video { portrait: text(input, "aspect_ratio").is_some_and(tall), seconds: seconds(input) as u32 }
}

pub(super) fn specs() -> Vec<Spec> {
    vec![
        Spec {
            id: "bytedance/seedance-2",
            family: "Seedance",
            fields: fields(RESOLUTIONS),
            absent: &[],
            rules,
            price: |i| {
                let rate = match text(i, "resolution").unwrap_or("720p") {
                    "480p" => 19.0,
                    "1080p" => 102.0,
                    "4k" => 208.0,
                    _ => 41.0,
                };
                rate * seconds(i)
            },
            output,
        },
        Spec {
            id: "bytedance/seedance-2-fast",
            family: "Seedance",
            fields: fields(FAST_RESOLUTIONS),
            absent: &[],
            rules,
            price: |i| {
                let rate = if text(i, "resolution") == Some("480p") { 11.7 } else { 24.8 };
                rate * seconds(i)
            },
            output,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::json;

    const S: &str = "bytedance/seedance-2";
    const F: &str = "bytedance/seedance-2-fast";

    #[test]
    fn prices_types_and_modes() {
        assert_eq!(price(S, json!({"prompt":"a fox"})), 205.0);
        assert_eq!(price(S, json!({"prompt":"a fox","resolution":"480p","duration":4})), 76.0);
        assert_eq!(price(S, json!({"prompt":"a fox","resolution":"1080p","duration":10})), 1020.0);
        assert_eq!(price(S, json!({"prompt":"a fox","resolution":"4k","duration":15})), 3120.0);
        assert_eq!(price(F, json!({"prompt":"a fox"})), 124.0);
        assert_eq!(price(F, json!({"prompt":"a fox","resolution":"480p"})), 58.5);
        assert!(err(F, json!({"prompt":"a fox","resolution":"1080p"})).contains("input.resolution"));
        assert!(err(S, json!({"prompt":"a fox","duration":"5"})).contains("input.duration"));
        assert!(err(S, json!({"prompt":"a fox","duration":5.5})).contains("input.duration"));
        assert!(err(S, json!({"prompt":"a fox","duration":3})).contains("input.duration"));
        assert!(err(S, json!({"prompt":"a fox","duration":16})).contains("input.duration"));
        assert!(err(S, json!({"prompt":"ab"})).contains("input.prompt"));
        assert!(err(S, json!({"prompt":"a fox","generate_audio":"true"})).contains("input.generate_audio"));
        assert!(err(S, json!({"prompt":"a fox","aspect_ratio":"2:3"})).contains("input.aspect_ratio"));
        let ten = vec!["https://a/i.png"; 10];
        assert!(err(S, json!({"prompt":"a fox","reference_image_urls":ten})).contains("reference_image_urls"));
        let four = vec!["https://a/v.mp4"; 4];
        assert!(err(S, json!({"prompt":"a fox","reference_video_urls":four})).contains("reference_video_urls"));
        assert!(err(S, json!({"prompt":"a fox","first_frame_url":["https://a/f.png"]})).contains("first_frame_url"));

        // first/last frame and references are exclusive
        let frames = json!({"prompt":"a fox","first_frame_url":"https://a/f.png","last_frame_url":"https://a/l.png"});
        assert!(v(S, frames.clone()).is_ok());
        let refs = json!({"prompt":"a fox","reference_image_urls":["https://a/r.png"],"reference_audio_urls":["https://a/a.mp3"]});
        assert!(v(S, refs).is_ok());
        let mut both = frames;
        both["reference_video_urls"] = json!(["https://a/v.mp4"]);
        assert!(err(S, both).contains("exclusive"));
        let last_and_ref =
            json!({"prompt":"a fox","last_frame_url":"https://a/l.png","reference_image_urls":["https://a/r.png"]});
        assert!(err(F, last_and_ref).contains("exclusive"));
    }
}
