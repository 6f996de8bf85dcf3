//! The Sora family (contract: "Models and their input").

use serde_json::Value;

use super::{no_rules, OriginLookup, Output, Spec};
use crate::rules::{opt, req, tall, text, Field, Input, Kind};

const ASPECT: Kind = Kind::Choice(&["portrait", "landscape"]);
const FRAMES: Kind = Kind::Choice(&["10", "15"]);
const UPLOAD: Kind = Kind::Choice(&["s3", "oss"]);
const SIZE: Kind = Kind::Choice(&["standard", "high"]);

/// prompt, aspect_ratio, n_frames, [remove_watermark,] upload_method, character_id_list.
fn video_fields(watermark: bool, image: bool) -> Vec<Field> {
    let mut f = vec![
        req("prompt", Kind::Text { min: 1, max: 10_000 }),
        opt("aspect_ratio", ASPECT),
        opt("n_frames", FRAMES),
        opt("upload_method", UPLOAD),
        opt("character_id_list", Kind::Ids { max: 5 }),
    ];
    if watermark {
        f.push(opt("remove_watermark", Kind::Bool));
    }
    if image {
        // Exactly one: the first frame (last published docs, 2026).
        f.push(req("image_urls", Kind::Urls { min: 1, max: 1 }));
    }
    f
}

fn seconds(input: &Input) -> u32 {
    text(input, "n_frames").and_then(|s| s.parse().ok()).unwrap_or(10)
}

fn video(input: &Input) -> Output {
    Output::Video { portrait: text(input, "aspect_ratio").is_some_and(tall), seconds: seconds(input) }
}

fn plain_price(input: &Input) -> f64 {
    if seconds(input) == 15 {
        45.0
    } else {
        30.0
    }
}

fn stable_price(input: &Input) -> f64 {
    if seconds(input) == 15 {
        40.0
    } else {
        35.0
    }
}

fn pro_price(size: &str, seconds: u32) -> f64 {
    match (size, seconds) {
        ("high", 15) => 630.0,
        ("high", _) => 330.0,
        (_, 15) => 270.0,
        _ => 150.0,
    }
}

pub(super) fn specs() -> Vec<Spec> {
    let with_size = |image: bool| {
        let mut f = video_fields(true, image);
        f.push(opt("size", SIZE));
        f
    };
    vec![
        Spec {
            id: "sora-2-text-to-video",
            family: "Sora",
            fields: video_fields(true, false),
            absent: &[],
            rules: no_rules,
            price: plain_price,
            output: video,
        },
        Spec {
            id: "sora-2-image-to-video",
            family: "Sora",
            fields: video_fields(true, true),
            absent: &[],
            rules: no_rules,
            price: plain_price,
            output: video,
        },
        Spec {
            id: "sora-2-text-to-video-stable",
            family: "Sora",
            fields: video_fields(false, false),
            absent: &["remove_watermark"],
            rules: no_rules,
            price: stable_price,
            output: video,
        },
        Spec {
            id: "sora-2-image-to-video-stable",
            family: "Sora",
            fields: video_fields(false, true),
            absent: &["remove_watermark"],
            rules: no_rules,
            price: stable_price,
            output: video,
        },
        Spec {
            id: "sora-2-pro-text-to-video",
            family: "Sora",
            fields: with_size(false),
            absent: &[],
            rules: no_rules,
            // Pro text-to-video's size defaults to high in the last docs.
            price: |i| pro_price(text(i, "size").unwrap_or("high"), seconds(i)),
            output: video,
        },
        Spec {
            id: "sora-2-pro-image-to-video",
            family: "Sora",
            fields: with_size(true),
            absent: &[],
            rules: no_rules,
            price: |i| pro_price(text(i, "size").unwrap_or("standard"), seconds(i)),
            output: video,
        },
        Spec {
            id: "sora-2-pro-storyboard",
            family: "Sora",
            fields: vec![
                req("shots", Kind::Custom),
                opt("n_frames", Kind::Choice(&["10", "15", "25"])),
                opt("image_urls", Kind::Urls { min: 0, max: 1 }),
                opt("aspect_ratio", ASPECT),
                opt("upload_method", UPLOAD),
            ],
            absent: &[],
            rules: storyboard_shots,
            price: |i| match storyboard_seconds(i) {
                10 => 150.0,
                15 => 270.0,
                _ => 450.0,
            },
            output: |i| Output::Video {
                portrait: text(i, "aspect_ratio").is_some_and(tall),
                seconds: storyboard_seconds(i),
            },
        },
        Spec {
            id: "sora-watermark-remover",
            family: "Sora",
            fields: vec![req("video_url", Kind::Text { min: 1, max: 500 }), opt("upload_method", UPLOAD)],
            absent: &[],
            rules: |i| match text(i, "video_url") {
                Some(u) if u.starts_with("https://sora.chatgpt.com/") => Ok(()),
                _ => Err("input.video_url must be a public https://sora.chatgpt.com/ link".into()),
            },
            price: |_| 10.0,
            output: |_| Output::Remover,
        },
        Spec {
            id: "sora-2-characters-pro",
            family: "Sora",
            fields: vec![
                req("origin_task_id", Kind::Text { min: 1, max: 100 }),
                req("character_prompt", Kind::Text { min: 1, max: 5000 }),
                opt("character_user_name", Kind::Text { min: 0, max: 40 }),
                opt("safety_instruction", Kind::Text { min: 0, max: 5000 }),
                // Required in the last docs.
                req("timestamps", Kind::Text { min: 1, max: 100 }),
            ],
            absent: &[],
            rules: |i| timestamps(i).map(|_| ()),
            // No source states a price: our choice.
            price: |_| 10.0,
            output: |i| {
                let handle = match text(i, "character_user_name").map(|h| h.trim().trim_start_matches('@')) {
                    Some(h) if !h.is_empty() => h.to_string(),
                    _ => format!("sim{}.ab", crate::util::short_hex(6)),
                };
                Output::Character { handle: Some(handle) }
            },
        },
        Spec {
            id: "sora-2-characters",
            family: "Sora",
            fields: vec![
                req("character_file_url", Kind::Urls { min: 1, max: 1 }),
                opt("character_prompt", Kind::Text { min: 0, max: 5000 }),
                opt("safety_instruction", Kind::Text { min: 0, max: 5000 }),
            ],
            absent: &[],
            rules: no_rules,
            // No source states a price: our choice.
            price: |_| 10.0,
            output: |_| Output::Character { handle: None },
        },
    ]
}

fn storyboard_seconds(input: &Input) -> u32 {
    // Default "15" (public docs).
    text(input, "n_frames").and_then(|s| s.parse().ok()).unwrap_or(15)
}

fn storyboard_shots(input: &Input) -> Result<(), String> {
    let seconds = storyboard_seconds(input);
    let shots = input.get("shots").and_then(Value::as_array).ok_or("input.shots must be an array")?;
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
        let d = match shot.get("duration") {
            Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
            None | Some(Value::Null) => return Err(format!("input.shots[{i}].duration is required (seconds)")),
            Some(_) => return Err(format!("input.shots[{i}].duration must be a number of seconds")),
        };
        if !(0.1..=15.0).contains(&d) {
            return Err(format!("input.shots[{i}].duration must be from 0.1 to 15 seconds (got {d})"));
        }
        total += d;
    }
    if total > f64::from(seconds) + 1e-9 {
        return Err(format!("input.shots durations add up to {total} s, more than n_frames ({seconds} s)"));
    }
    Ok(())
}

/// characters-pro's `timestamps` "x,y": (x, y) with y − x from 1 to 4 s.
fn timestamps(input: &Input) -> Result<(f64, f64), String> {
    let ts = text(input, "timestamps").unwrap_or("");
    let bad = || format!("input.timestamps must be \"start,end\" in seconds, 1 to 4 s apart (got \"{ts}\")");
    let (a, b) = ts.split_once(',').ok_or_else(bad)?;
    let a: f64 = a.trim().parse().map_err(|_| bad())?;
    let b: f64 = b.trim().parse().map_err(|_| bad())?;
    if a < 0.0 || !(1.0..=4.0).contains(&(b - a)) {
        return Err(bad());
    }
    Ok((a, b))
}

/// characters-pro: the origin must be a successful Sora video task, and the time slice
/// inside it.
pub(super) fn check_origin(input: &Input, origin: OriginLookup) -> Result<(), String> {
    let id = text(input, "origin_task_id").unwrap_or("");
    let found = origin(id);
    if !found.as_ref().is_some_and(|o| o.succeeded && o.sora_video) {
        return Err(format!("input.origin_task_id must be a successful Sora video task of this account ({id} is not)"));
    }
    let (_, end) = timestamps(input)?;
    if let Some(len) = found.and_then(|o| o.seconds) {
        if end > f64::from(len) {
            return Err(format!("input.timestamps ends at {end} s, after the end of the {len} s origin video"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{validate, Origin, Output};
    use crate::catalogue::Catalogue;
    use serde_json::{json, Value};

    const IMG: &str = "https://example.com/a.png";

    #[test]
    fn prices() {
        assert_eq!(price("sora-2-text-to-video", json!({"prompt":"x"})), 30.0);
        assert_eq!(price("sora-2-text-to-video", json!({"prompt":"x","n_frames":"15"})), 45.0);
        assert_eq!(price("sora-2-image-to-video", json!({"prompt":"x","image_urls":[IMG]})), 30.0);
        assert_eq!(price("sora-2-text-to-video-stable", json!({"prompt":"x"})), 35.0);
        assert_eq!(
            price("sora-2-image-to-video-stable", json!({"prompt":"x","n_frames":"15","image_urls":[IMG]})),
            40.0
        );
        assert_eq!(price("sora-2-pro-text-to-video", json!({"prompt":"x"})), 330.0, "Pro t2v defaults to high");
        assert_eq!(price("sora-2-pro-text-to-video", json!({"prompt":"x","size":"standard"})), 150.0);
        assert_eq!(price("sora-2-pro-text-to-video", json!({"prompt":"x","size":"standard","n_frames":"15"})), 270.0);
        assert_eq!(price("sora-2-pro-image-to-video", json!({"prompt":"x","image_urls":[IMG]})), 150.0);
        assert_eq!(
            price("sora-2-pro-image-to-video", json!({"prompt":"x","size":"high","n_frames":"15","image_urls":[IMG]})),
            630.0
        );
        let shots = json!([{"Scene":"a","duration":10},{"Scene":"b","duration":15}]);
        assert_eq!(price("sora-2-pro-storyboard", json!({"n_frames":"25","shots":shots})), 450.0);
        assert_eq!(price("sora-2-pro-storyboard", json!({"shots":[{"Scene":"a","duration":15}]})), 270.0);
        assert_eq!(price("sora-watermark-remover", json!({"video_url":"https://sora.chatgpt.com/p/s_1"})), 10.0);
        assert_eq!(price("sora-2-characters", json!({"character_file_url":["https://a/c.mp4"]})), 10.0);
    }

    #[test]
    fn messages_name_the_field() {
        let e = |m: &str, i: Value| err(m, i);
        assert!(e("sora-2-text-to-video", json!({})).contains("input.prompt"));
        assert!(e("sora-2-text-to-video", json!({"prompt":"x".repeat(10_001)})).contains("input.prompt"));
        assert!(e("sora-2-text-to-video", json!({"prompt":"x","n_frames":10})).contains("input.n_frames"));
        assert!(e("sora-2-text-to-video", json!({"prompt":"x","aspect_ratio":"16:9"})).contains("input.aspect_ratio"));
        assert!(e("sora-2-text-to-video", json!({"prompt":"x","remove_watermark":"yes"}))
            .contains("input.remove_watermark"));
        assert!(e("sora-2-text-to-video", json!({"prompt":"x","character_id_list":["a","b","c","d","e","f"]}))
            .contains("character_id_list"));
        assert!(e("sora-2-image-to-video", json!({"prompt":"x"})).contains("input.image_urls"));
        assert!(e("sora-2-image-to-video", json!({"prompt":"x","image_urls":[]})).contains("exactly 1"));
        assert!(e("sora-2-image-to-video", json!({"prompt":"x","image_urls":[IMG, IMG]})).contains("exactly 1"));
        assert!(
            e("sora-2-image-to-video", json!({"prompt":"x","image_urls":["file:///a.png"]})).contains("image_urls[0]")
        );
        assert!(e("sora-2-pro-text-to-video", json!({"prompt":"x","size":"4k"})).contains("input.size"));
        assert!(e("sora-2-text-to-video-stable", json!({"prompt":"x","remove_watermark":true}))
            .contains("input.remove_watermark"));
        assert!(e(
            "sora-2-pro-storyboard",
            json!({"n_frames":"10","shots":[{"Scene":"a","duration":6},{"Scene":"b","duration":5}]})
        )
        .contains("n_frames"));
        assert!(e("sora-2-pro-storyboard", json!({"shots":[{"duration":6}]})).contains("shots[0].Scene"));
        assert!(
            e("sora-2-pro-storyboard", json!({"shots":[{"Scene":"a","duration":"6"}]})).contains("shots[0].duration")
        );
        assert!(e("sora-2-pro-storyboard", json!({"shots":[{"Scene":"a","duration":0.05}]})).contains("0.1"));
        assert!(e("sora-2-pro-storyboard", json!({"shots":[]})).contains("input.shots"));
        assert!(e("sora-2-pro-storyboard", json!({})).contains("input.shots"));
        let two = json!({"shots":[{"Scene":"a","duration":5}],"image_urls":[IMG, IMG]});
        assert!(e("sora-2-pro-storyboard", two).contains("input.image_urls"));
        assert!(
            e("sora-watermark-remover", json!({"video_url":"https://example.com/v.mp4"})).contains("input.video_url")
        );
        assert!(e("sora-2-characters-pro", json!({"origin_task_id":"x","character_prompt":"y","timestamps":"0,2"}))
            .contains("origin_task_id"));
        assert!(e("sora-2-characters-pro", json!({"origin_task_id":"x","character_prompt":"y"})).contains("timestamps"));
        assert!(e("sora-2-characters", json!({"character_file_url":"https://a/c.mp4"})).contains("character_file_url"));
        assert!(e("sora-2-characters", json!({"character_file_url":["https://a/c.mp4","https://a/d.mp4"]}))
            .contains("character_file_url"));
        assert!(e(
            "sora-2-characters",
            json!({"character_file_url":["https://a/c.mp4"],"character_prompt":"x".repeat(5001)})
        )
        .contains("character_prompt"));
    }

    #[test]
    fn characters() {
        let origin =
            |id: &str| (id == "good").then_some(Origin { succeeded: true, sora_video: true, seconds: Some(10) });
        let cat = Catalogue::default();
        let run = |input: Value| validate("sora-2-characters-pro", input.as_object().unwrap(), &origin, &cat);
        let ok = run(json!({"origin_task_id":"good","character_prompt":"a barista","character_user_name":"@sky","timestamps":"1,3"}))
            .unwrap();
        assert_eq!(ok.output, Output::Character { handle: Some("sky".into()) });
        let long = "p".repeat(5000);
        assert!(run(json!({"origin_task_id":"good","character_prompt":long,"timestamps":"0,4"})).is_ok());
        let long = "p".repeat(5001);
        assert!(run(json!({"origin_task_id":"good","character_prompt":long,"timestamps":"0,4"}))
            .unwrap_err()
            .contains("character_prompt"));
        for bad in ["1,9", "3,3.5", "2", "a,b", "-1,1"] {
            let e = run(json!({"origin_task_id":"good","character_prompt":"a","timestamps":bad})).unwrap_err();
            assert!(e.contains("timestamps"), "{bad}: {e}");
        }
        let late = run(json!({"origin_task_id":"good","character_prompt":"a","timestamps":"8,11"}));
        assert!(late.unwrap_err().contains("timestamps"));
        let bare = price("sora-2-characters", json!({"character_file_url":["https://a/c.mp4"]}));
        assert_eq!(bare, 10.0);
        let plan = v("sora-2-characters", json!({"character_file_url":["https://a/c.mp4"]})).unwrap();
        assert_eq!(plan.output, Output::Character { handle: None });
    }
}
