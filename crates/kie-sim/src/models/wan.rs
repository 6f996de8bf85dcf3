//! Wan 2.6 (contract: "Kie's other video models").

use super::{no_rules, Output, Spec};
use crate::rules::{opt, req, text, Field, Input, Kind};

fn fields(prompt_min: usize, image: bool) -> Vec<Field> {
    let mut f = vec![
        req("prompt", Kind::Text { min: prompt_min, max: 5000 }),
        opt("duration", Kind::Choice(&["5", "10", "15"])),
        opt("resolution", Kind::Choice(&["720p", "1080p"])),
        opt("multi_shots", Kind::Bool),
        opt("nsfw_checker", Kind::Bool),
    ];
    if image {
        f.push(req("image_urls", Kind::Urls { min: 1, max: 1 }));
    }
    f
}

fn seconds(input: &Input) -> u32 {
    text(input, "duration").and_then(|d| d.parse().ok()).unwrap_or(5)
}

/// 720p 70/140/209.5, 1080p 104.5/209.5/315 (5/10/15 s).
fn price(input: &Input) -> f64 {
    let hd = text(input, "resolution").unwrap_or("1080p") == "1080p";
    match (hd, seconds(input)) {
        (false, 10) => 140.0,
        (false, 15) => 209.5,
        (false, _) => 70.0,
        (true, 10) => 209.5,
        (true, 15) => 315.0,
        (true, _) => 104.5,
    }
}

fn output(input: &Input) -> Output {
    Output::Video { portrait: false, seconds: seconds(input) }
}

pub(super) fn specs() -> Vec<Spec> {
    vec![
        Spec {
            id: "wan/2-6-text-to-video",
            family: "Wan",
            fields: fields(1, false),
            absent: &["aspect_ratio"],
            rules: no_rules,
            price,
            output,
        },
        Spec {
            id: "wan/2-6-image-to-video",
            family: "Wan",
            fields: fields(2, true),
            absent: &["aspect_ratio"],
            rules: no_rules,
            price,
            output,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::json;

    const T: &str = "wan/2-6-text-to-video";
    const I: &str = "wan/2-6-image-to-video";

    #[test]
    fn prices_and_types() {
        assert_eq!(price(T, json!({"prompt":"x"})), 104.5);
        assert_eq!(price(T, json!({"prompt":"x","duration":"10"})), 209.5);
        assert_eq!(price(T, json!({"prompt":"x","duration":"15"})), 315.0);
        assert_eq!(price(T, json!({"prompt":"x","resolution":"720p"})), 70.0);
        assert_eq!(price(T, json!({"prompt":"x","resolution":"720p","duration":"10"})), 140.0);
        assert_eq!(price(T, json!({"prompt":"x","resolution":"720p","duration":"15","multi_shots":true})), 209.5);
        assert!(err(T, json!({"prompt":"x","duration":5})).contains("input.duration"));
        assert!(err(T, json!({"prompt":"x","duration":"20"})).contains("input.duration"));
        assert!(err(T, json!({"prompt":"x","resolution":"480p"})).contains("input.resolution"));
        assert!(err(T, json!({"prompt":"x","aspect_ratio":"16:9"})).contains("input.aspect_ratio"));
        assert!(err(T, json!({"prompt":"x","multi_shots":"yes"})).contains("input.multi_shots"));
        assert!(err(T, json!({"prompt":"x".repeat(5001)})).contains("input.prompt"));

        let img = json!(["https://a/i.png"]);
        assert_eq!(price(I, json!({"prompt":"xy","image_urls":img})), 104.5);
        assert!(err(I, json!({"prompt":"x","image_urls":img})).contains("input.prompt"), "prompt 2–5000");
        assert!(err(I, json!({"prompt":"xy"})).contains("input.image_urls"));
        assert!(err(I, json!({"prompt":"xy","image_urls":"https://a/i.png"})).contains("input.image_urls"));
        assert!(err(I, json!({"prompt":"xy","image_urls":["https://a/1.png","https://a/2.png"]}))
            .contains("input.image_urls"));
    }
}
