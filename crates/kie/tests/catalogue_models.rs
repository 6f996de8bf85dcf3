//! The built-in catalogue's models, entry by entry: every model's example is valid and costs
//! what the contract (shared/kie-api.md) says, and the rules that Kie enforces across fields
//! are refused here before anything is sent.

use kie::catalogue::{Catalogue, FieldSpec, ModelSpec, Protocol};
use kie::validate::{validate, Problem};
use serde_json::{json, Map, Value};

/// Every model, in catalogue order, with the price of its `example` in credits.
const EXAMPLE_PRICES: [(&str, f64); 25] = [
    ("sora-2-text-to-video", 45.0),               // 15 s
    ("sora-2-image-to-video", 30.0),              // 10 s
    ("sora-2-text-to-video-stable", 35.0),        // 10 s (unconfirmed)
    ("sora-2-image-to-video-stable", 40.0),       // 15 s (unconfirmed)
    ("sora-2-pro-text-to-video", 330.0),          // 10 s, high
    ("sora-2-pro-image-to-video", 270.0),         // 15 s, standard
    ("sora-2-pro-storyboard", 270.0),             // 15 s
    ("sora-watermark-remover", 10.0),             // per video
    ("sora-2-characters-pro", 10.0),              // estimate
    ("sora-2-characters", 10.0),                  // estimate
    ("kling-3.0/video", 200.0),                   // std with sound, 20 × 10 s
    ("kling-2.6/text-to-video", 110.0),           // 5 s with sound
    ("kling-2.6/image-to-video", 110.0),          // 10 s without sound
    ("bytedance/seedance-2", 816.0),              // 1080p, 102 × 8 s
    ("bytedance/seedance-2-fast", 70.2),          // 480p, 11.7 × 6 s
    ("wan/2-6-text-to-video", 140.0),             // 10 s at 720p
    ("wan/2-6-image-to-video", 104.5),            // 5 s at 1080p
    ("hailuo/2-3-image-to-video-pro", 80.0),      // 6 s at 1080P
    ("hailuo/2-3-image-to-video-standard", 50.0), // 10 s at 768P
    ("hailuo/02-text-to-video-pro", 57.0),        // per video
    ("grok-imagine/text-to-video", 45.0),         // 720p, 4.5 × 10 s
    ("grok-imagine/image-to-video", 36.0),        // 720p, 4.5 × 8 s
    ("veo3", 370.0),                              // 4k
    ("veo3_fast", 65.0),                          // 1080p
    ("veo3_lite", 30.0),                          // 720p
];

const FAMILIES: [&str; 7] = ["Sora", "Kling", "Seedance", "Wan", "Hailuo", "Grok Imagine", "Veo"];
const TAKES: [&str; 5] = ["text", "image", "clip", "audio", "video"];
const IMG: &str = "https://example.com/a.png";

fn spec(id: &str) -> &'static ModelSpec {
    Catalogue::builtin().model(id).unwrap_or_else(|| panic!("no model {id}"))
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().expect("an object").clone()
}

fn ok(id: &str, input: Value) -> Map<String, Value> {
    match validate(spec(id), &obj(input.clone())) {
        Ok(out) => out,
        Err(problems) => panic!("{id}: expected valid, got {problems:#?}\ninput: {input}"),
    }
}

fn bad(id: &str, input: Value) -> Vec<Problem> {
    match validate(spec(id), &obj(input)) {
        Ok(out) => panic!("{id}: expected problems, got valid {out:?}"),
        Err(problems) => problems,
    }
}

/// The problems as (field, rule) pairs.
fn pairs(problems: &[Problem]) -> Vec<(&str, &str)> {
    problems.iter().map(|p| (p.field.as_str(), p.rule.as_str())).collect()
}

fn price(id: &str, input: Value) -> Option<f64> {
    spec(id).estimate_credits(&obj(input))
}

fn every_field(fields: &[FieldSpec], out: &mut Vec<(String, FieldSpec)>, prefix: &str) {
    for f in fields {
        let path = format!("{prefix}{}", f.name);
        out.push((path.clone(), f.clone()));
        if let Some(items) = f.items.as_deref() {
            every_field(&items.fields, out, &format!("{path}[]."));
        }
        every_field(&f.fields, out, &format!("{path}."));
    }
}

// ---- every model ----

#[test]
fn catalogue_order_and_examples_with_their_prices() {
    let c = Catalogue::builtin();
    let ids: Vec<&str> = c.models.iter().map(|m| m.id.as_str()).collect();
    let expected: Vec<&str> = EXAMPLE_PRICES.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, expected);
    for (id, credits) in EXAMPLE_PRICES {
        let m = spec(id);
        let example = m.example.clone().unwrap_or_else(|| panic!("{id} has an example"));
        let sent = validate(m, &example).unwrap_or_else(|p| panic!("{id}: its example fails: {p:#?}"));
        assert_eq!(m.estimate_credits(&example), Some(credits), "{id}: the example's price");
        assert_eq!(m.estimate_credits(&sent), Some(credits), "{id}: the price of what is sent");
    }
}

#[test]
fn every_model_is_described_for_the_picker() {
    let c = Catalogue::builtin();
    for m in &c.models {
        let id = m.id.as_str();
        assert!(FAMILIES.contains(&m.family.as_str()), "{id}: family {:?}", m.family);
        assert!(
            !m.takes.is_empty() && m.takes.iter().all(|t| TAKES.contains(&t.as_str())),
            "{id}: takes {:?}",
            m.takes
        );
        assert!(m.makes.as_deref().is_some_and(|s| !s.is_empty()), "{id}: makes");
        assert!(m.summary.ends_with('.') && !m.summary.contains("  "), "{id}: summary");
        let pricing = m.pricing.as_ref().unwrap_or_else(|| panic!("{id} has a price"));
        assert!(!pricing.source.trim().is_empty(), "{id}: price source");
        assert!(pricing.note.as_deref().is_some_and(|n| !n.is_empty()), "{id}: price note");
        let mut fields = Vec::new();
        every_field(&m.fields, &mut fields, "");
        for (path, f) in fields {
            assert!(!f.label.trim().is_empty() && !f.help.trim().is_empty(), "{id}.{path}: label and help");
            assert!(!f.label.contains('_'), "{id}.{path}: a plain label, not {:?}", f.label);
        }
        for alt in &m.alternatives {
            let other = c.model(alt).unwrap_or_else(|| panic!("{id}: alternative {alt} is in the catalogue"));
            assert_ne!(other.id, m.id);
            assert_eq!(other.output, m.output, "{id}: alternative {alt} makes the same kind of thing");
            if m.family == "Sora" {
                assert_ne!(other.family, "Sora", "{id}: Sora is paused, so its alternatives are other families");
            }
        }
        let veo = m.family == "Veo";
        assert_eq!(m.protocol == Protocol::Veo, veo, "{id}: protocol");
    }
    // Characters and the watermark remover have nothing of the same kind to fall back on.
    for id in ["sora-2-characters-pro", "sora-2-characters", "sora-watermark-remover"] {
        assert!(spec(id).alternatives.is_empty(), "{id}");
    }
    assert_eq!(spec("sora-2-text-to-video").alternatives, ["kling-3.0/video", "veo3_fast", "bytedance/seedance-2"]);
}

// ---- Sora ----

#[test]
fn sora_updates() {
    for id in ["sora-2-image-to-video", "sora-2-pro-image-to-video", "sora-2-image-to-video-stable"] {
        let problems = bad(id, json!({"prompt": "x", "image_urls": [IMG, IMG]}));
        assert_eq!(pairs(&problems), [("image_urls", "too_many")], "{id}");
        assert_eq!(pairs(&bad(id, json!({"prompt": "x"}))), [("image_urls", "required")], "{id}");
    }
    assert_eq!(ok("sora-2-pro-text-to-video", json!({"prompt": "x"}))["size"], "high");
    assert_eq!(ok("sora-2-pro-image-to-video", json!({"prompt": "x", "image_urls": [IMG]}))["size"], "standard");
    let sb = ok("sora-2-pro-storyboard", json!({"shots": [{"Scene": "A", "duration": 12}]}));
    assert_eq!(sb["n_frames"], "15");
    let problems =
        bad("sora-2-pro-storyboard", json!({"shots": [{"Scene": "A", "duration": 5}], "image_urls": [IMG, IMG]}));
    assert_eq!(pairs(&problems), [("image_urls", "too_many")]);

    let cp = "sora-2-characters-pro";
    let base =
        json!({"origin_task_id": "t1", "character_prompt": "a".repeat(5000), "safety_instruction": "b".repeat(5000)});
    assert_eq!(pairs(&bad(cp, base.clone())), [("timestamps", "required")]);
    let mut good = base.clone();
    good["timestamps"] = json!("1,5");
    ok(cp, good.clone());
    good["character_prompt"] = json!("a".repeat(5001));
    assert_eq!(pairs(&bad(cp, good)), [("character_prompt", "too_long")]);

    // Stable models have no watermark switch.
    for id in ["sora-2-text-to-video-stable", "sora-2-image-to-video-stable"] {
        assert!(spec(id).field("remove_watermark").is_none(), "{id}");
        assert!(spec(id).price_is_estimate(), "{id}");
    }
    assert_eq!(price("sora-2-text-to-video-stable", json!({"n_frames": "15"})), Some(40.0));

    // A clip of exactly one video, 1 to 4 s.
    let ch = "sora-2-characters";
    let clip = spec(ch).field("character_file_url").unwrap().items.as_deref().unwrap();
    assert_eq!(
        (clip.limits.min_seconds, clip.limits.max_seconds, clip.limits.max_file_mb),
        (Some(1.0), Some(4.0), Some(10.0))
    );
    assert_eq!(pairs(&bad(ch, json!({}))), [("character_file_url", "required")]);
    let problems = bad(ch, json!({"character_file_url": ["https://e.example/a.mov"]}));
    assert_eq!(pairs(&problems), [("character_file_url[0]", "bad_file_type")]);
    assert_eq!(spec(ch).output, kie::catalogue::OutputKind::Character);
}

// ---- Kling ----

#[test]
fn kling_3_prices_by_quality_sound_and_length() {
    let k = "kling-3.0/video";
    assert_eq!(price(k, json!({})), Some(90.0), "pro, 5 s, no sound");
    assert_eq!(price(k, json!({"mode": "std", "duration": "3"})), Some(42.0));
    assert_eq!(price(k, json!({"mode": "std", "sound": true, "duration": "15"})), Some(300.0));
    assert_eq!(price(k, json!({"mode": "pro", "sound": true, "duration": "10"})), Some(270.0));
    assert_eq!(price(k, json!({"mode": "4K", "sound": true, "duration": "15"})), Some(1005.0));
    assert_eq!(spec(k).price_range(), Some((42.0, 1005.0)));
}

#[test]
fn kling_3_single_and_multi_shot() {
    let k = "kling-3.0/video";
    let out = ok(k, json!({"prompt": "A fox."}));
    assert_eq!(
        Value::Object(out),
        json!({"prompt": "A fox.", "aspect_ratio": "16:9", "duration": "5", "mode": "pro", "sound": false, "multi_shots": false})
    );
    // With pictures the shape follows them, so it is not sent.
    let out = ok(k, json!({"prompt": "A fox.", "image_urls": [IMG, IMG], "aspect_ratio": "1:1"}));
    assert!(!out.contains_key("aspect_ratio"), "{out:?}");
    assert_eq!(pairs(&bad(k, json!({"prompt": "x", "image_urls": [IMG, IMG, IMG]}))), [("image_urls", "too_many")]);
    assert_eq!(pairs(&bad(k, json!({}))), [("prompt", "required")]);

    // Several shots: no prompt needed (none sent), sound on, shots within the length.
    let multi = json!({
        "multi_shots": true, "sound": true, "duration": "10", "prompt": "ignored",
        "multi_prompt": [{"prompt": "Wide shot.", "duration": 4}, {"prompt": "Close-up.", "duration": "6"}]
    });
    let out = ok(k, multi.clone());
    assert!(!out.contains_key("prompt"));
    assert_eq!(out["multi_prompt"][1]["duration"], json!(6));
    assert_eq!(price(k, multi), Some(270.0));

    let problems = bad(k, json!({"multi_shots": true}));
    assert_eq!(pairs(&problems), [("multi_prompt", "not_allowed_together"), ("sound", "not_allowed_together")]);
    assert_eq!(problems[1].message, "Multi-shot videos always have sound: turn Sound on.");
    let over = json!({"multi_shots": true, "sound": true, "duration": "5",
                      "multi_prompt": [{"prompt": "A", "duration": 3}, {"prompt": "B", "duration": 3}]});
    assert_eq!(pairs(&bad(k, over)), [("multi_prompt", "sum_too_large")]);
    let long = json!({"multi_shots": true, "sound": true, "duration": "15",
                      "multi_prompt": [{"prompt": "A", "duration": 13}]});
    assert_eq!(pairs(&bad(k, long)), [("multi_prompt[0].duration", "out_of_range")]);
    // Shots are not sent when multi-shot is off.
    let out = ok(k, json!({"prompt": "x", "multi_prompt": [{"prompt": "A", "duration": 3}]}));
    assert!(!out.contains_key("multi_prompt"));
}

#[test]
fn kling_3_elements_are_named_in_the_prompt() {
    let k = "kling-3.0/video";
    let el = |name: &str, n: usize| json!({"name": name, "description": "a hero", "element_input_urls": vec![IMG; n]});
    ok(k, json!({"prompt": "@hero waves.", "kling_elements": [el("hero", 2)]}));
    let problems = bad(k, json!({"prompt": "@villain waves.", "kling_elements": [el("hero", 2)]}));
    assert_eq!(pairs(&problems), [("prompt", "unknown_mention")]);
    let problems = bad(k, json!({"prompt": "x", "kling_elements": [el("my hero", 1)]}));
    assert_eq!(
        pairs(&problems),
        [("kling_elements[0].name", "bad_format"), ("kling_elements[0].element_input_urls", "too_few")]
    );
    // Kie asks for a description of each element.
    let problems =
        bad(k, json!({"prompt": "@hero", "kling_elements": [{"name": "hero", "element_input_urls": [IMG, IMG]}]}));
    assert_eq!(pairs(&problems), [("kling_elements[0].description", "required")]);
    let four = vec![el("a", 2); 4];
    assert_eq!(pairs(&bad(k, json!({"prompt": "x", "kling_elements": four}))), [("kling_elements", "too_many")]);
}

#[test]
fn kling_2_6_fills_sound_shape_and_length() {
    let out = ok("kling-2.6/text-to-video", json!({"prompt": "A fox."}));
    assert_eq!(
        Value::Object(out),
        json!({"prompt": "A fox.", "aspect_ratio": "16:9", "sound": false, "duration": "5"})
    );
    let i2v = "kling-2.6/image-to-video";
    assert!(spec(i2v).field("aspect_ratio").is_none());
    assert_eq!(
        pairs(&bad(i2v, json!({"prompt": "x", "image_urls": ["https://e.example/a.webp"]}))),
        [("image_urls[0]", "bad_file_type")]
    );
    for (d, sound, credits) in [("5", false, 55.0), ("5", true, 110.0), ("10", false, 110.0), ("10", true, 220.0)] {
        assert_eq!(price(i2v, json!({"duration": d, "sound": sound})), Some(credits));
        assert_eq!(price("kling-2.6/text-to-video", json!({"duration": d, "sound": sound})), Some(credits));
    }
    assert_eq!(pairs(&bad("kling-2.6/text-to-video", json!({"prompt": "a".repeat(1001)}))), [("prompt", "too_long")]);
}

// ---- Seedance ----

#[test]
fn seedance_modes_lengths_and_prices() {
    let s = "bytedance/seedance-2";
    let out = ok(s, json!({"prompt": "A fox.", "duration": "12"}));
    assert_eq!(out["duration"], json!(12), "sent as a number");
    assert_eq!(out["generate_audio"], json!(true));
    assert_eq!(pairs(&bad(s, json!({"prompt": "ab"}))), [("prompt", "too_short")]);
    assert_eq!(pairs(&bad(s, json!({"prompt": "abc", "duration": 3}))), [("duration", "out_of_range")]);
    assert_eq!(pairs(&bad(s, json!({"prompt": "abc", "duration": 16}))), [("duration", "out_of_range")]);
    let mixed = json!({"prompt": "abc", "first_frame_url": IMG, "reference_audio_urls": ["https://e.example/a.mp3"]});
    assert_eq!(pairs(&bad(s, mixed)), [("reference_audio_urls", "not_allowed_together")]);
    ok(
        s,
        json!({"prompt": "abc", "reference_image_urls": vec![IMG; 9], "reference_video_urls": ["https://e.example/a.mov"]}),
    );
    assert_eq!(
        pairs(&bad(s, json!({"prompt": "abc", "reference_image_urls": vec![IMG; 10]}))),
        [("reference_image_urls", "too_many")]
    );
    for (r, per) in [("480p", 19.0), ("720p", 41.0), ("1080p", 102.0), ("4k", 208.0)] {
        assert_eq!(price(s, json!({"resolution": r, "duration": 10})), Some(per * 10.0), "{r}");
    }
    assert_eq!(price(s, json!({})), Some(205.0), "720p, 5 s");

    let f = "bytedance/seedance-2-fast";
    assert_eq!(pairs(&bad(f, json!({"prompt": "abc", "resolution": "1080p"}))), [("resolution", "not_allowed")]);
    assert_eq!(price(f, json!({"resolution": "720p", "duration": 15})), Some(372.0));
    assert_eq!(price(f, json!({"resolution": "480p", "duration": 4})), Some(46.8));
}

// ---- Wan and Hailuo ----

#[test]
fn wan_prices_by_length_and_resolution() {
    for id in ["wan/2-6-text-to-video", "wan/2-6-image-to-video"] {
        for (d, low, high) in [("5", 70.0, 104.5), ("10", 140.0, 209.5), ("15", 209.5, 315.0)] {
            assert_eq!(price(id, json!({"duration": d, "resolution": "720p"})), Some(low), "{id} {d}");
            assert_eq!(price(id, json!({"duration": d})), Some(high), "{id} {d} at the default 1080p");
        }
    }
    assert_eq!(
        pairs(&bad("wan/2-6-image-to-video", json!({"prompt": "a", "image_urls": [IMG]}))),
        [("prompt", "too_short")]
    );
    ok("wan/2-6-text-to-video", json!({"prompt": "a"}));
}

#[test]
fn hailuo_10_s_only_at_768p() {
    for (id, prices) in [
        ("hailuo/2-3-image-to-video-pro", [45.0, 90.0, 80.0]),
        ("hailuo/2-3-image-to-video-standard", [30.0, 50.0, 50.0]),
    ] {
        let base = json!({"prompt": "x", "image_url": IMG});
        let out = ok(id, base.clone());
        assert_eq!((out["duration"].clone(), out["resolution"].clone()), (json!("6"), json!("768P")));
        let mut wrong = base.clone();
        wrong["duration"] = json!("10");
        wrong["resolution"] = json!("1080p");
        assert_eq!(pairs(&bad(id, wrong)), [("resolution", "not_allowed_together")], "{id}");
        assert_eq!(price(id, json!({})), Some(prices[0]));
        assert_eq!(price(id, json!({"duration": "10"})), Some(prices[1]));
        assert_eq!(price(id, json!({"resolution": "1080P"})), Some(prices[2]));
        assert_eq!(
            pairs(&bad(id, json!({"prompt": "x", "image_url": [IMG]}))),
            [("image_url", "wrong_type")],
            "one link, not a list"
        );
    }
    let h = "hailuo/02-text-to-video-pro";
    assert_eq!(ok(h, json!({"prompt": "x"}))["prompt_optimizer"], json!(true));
    assert_eq!(pairs(&bad(h, json!({"prompt": "a".repeat(1501)}))), [("prompt", "too_long")]);
}

// ---- Grok Imagine ----

#[test]
fn grok_lengths_are_sent_as_each_schema_wants() {
    let out = ok("grok-imagine/text-to-video", json!({"prompt": "x", "duration": "12"}));
    assert_eq!(out["duration"], json!(12));
    let out = ok("grok-imagine/image-to-video", json!({"image_urls": [IMG], "duration": 12}));
    assert_eq!(out["duration"], json!("12"));
    assert_eq!(
        pairs(&bad("grok-imagine/text-to-video", json!({"prompt": "x", "duration": 31}))),
        [("duration", "out_of_range")]
    );
    assert_eq!(price("grok-imagine/text-to-video", json!({})), Some(14.4), "480p, 6 s");
    assert_eq!(price("grok-imagine/image-to-video", json!({"resolution": "1080p", "duration": "30"})), Some(240.0));
}

#[test]
fn grok_image_to_video_rules() {
    let g = "grok-imagine/image-to-video";
    assert_eq!(pairs(&bad(g, json!({"prompt": "x"}))), [("image_urls", "required")]);
    let out = ok(g, json!({"task_id": "task_grok_1", "index": 2, "mode": "spicy"}));
    assert_eq!(out["index"], json!(2));
    assert!(!out.contains_key("aspect_ratio"));
    let out = ok(g, json!({"image_urls": [IMG]}));
    assert!(!out.contains_key("aspect_ratio"), "one picture: its own shape");
    assert!(!out.contains_key("index"), "no index without a task");
    let out = ok(g, json!({"image_urls": [IMG, IMG]}));
    assert_eq!(out["aspect_ratio"], "2:3");

    assert_eq!(pairs(&bad(g, json!({"image_urls": [IMG], "task_id": "t"}))), [("task_id", "not_allowed_together")]);
    assert_eq!(
        pairs(&bad(g, json!({"image_urls": [IMG, IMG], "resolution": "1080p"}))),
        [("resolution", "not_allowed_together")]
    );
    ok(g, json!({"image_urls": [IMG], "resolution": "1080p"}));
    assert_eq!(pairs(&bad(g, json!({"image_urls": [IMG], "mode": "spicy"}))), [("mode", "not_allowed_together")]);
    assert_eq!(pairs(&bad(g, json!({"image_urls": vec![IMG; 8]}))), [("image_urls", "too_many")]);
    ok(g, json!({"image_urls": [IMG, IMG], "prompt": "@image1 meets @image2."}));
    let problems = bad(g, json!({"image_urls": [IMG, IMG], "prompt": "@image3 waves."}));
    assert_eq!(pairs(&problems), [("prompt", "unknown_mention")]);
}

// ---- Veo ----

#[test]
fn veo_generation_types_and_prices() {
    for (id, prices) in
        [("veo3", [250.0, 255.0, 370.0]), ("veo3_fast", [60.0, 65.0, 180.0]), ("veo3_lite", [30.0, 35.0, 150.0])]
    {
        assert_eq!(spec(id).protocol, Protocol::Veo);
        let out = ok(id, json!({"prompt": "x"}));
        assert_eq!(
            Value::Object(out),
            json!({"prompt": "x", "generationType": "TEXT_2_VIDEO", "aspect_ratio": "16:9", "resolution": "720p",
                   "duration": 8, "enableTranslation": true}),
            "{id}"
        );
        for (r, p) in ["720p", "1080p", "4k"].into_iter().zip(prices) {
            assert_eq!(price(id, json!({"resolution": r, "duration": 4})), Some(p), "{id} {r}");
        }
        assert_eq!(
            pairs(&bad(id, json!({"prompt": "x", "imageUrls": [IMG]}))),
            [("imageUrls", "not_allowed_together")]
        );
        let fl = |n: usize| json!({"prompt": "x", "generationType": "FIRST_AND_LAST_FRAMES_2_VIDEO", "imageUrls": vec![IMG; n], "duration": "6"});
        assert_eq!(ok(id, fl(2))["duration"], json!(6));
        ok(id, fl(1));
        assert_eq!(pairs(&bad(id, fl(3))), [("imageUrls", "not_allowed_together")]);
        let none = json!({"prompt": "x", "generationType": "FIRST_AND_LAST_FRAMES_2_VIDEO"});
        assert_eq!(pairs(&bad(id, none)), [("imageUrls", "not_allowed_together")]);
        assert_eq!(pairs(&bad(id, json!({"prompt": "x", "duration": 5}))), [("duration", "not_allowed")]);
    }
    let refs = json!({"prompt": "x", "generationType": "REFERENCE_2_VIDEO", "imageUrls": [IMG, IMG, IMG]});
    assert_eq!(pairs(&bad("veo3", refs.clone())), [("generationType", "not_allowed")], "reference: fast and lite only");
    for id in ["veo3_fast", "veo3_lite"] {
        ok(id, refs.clone());
        let mut short = refs.clone();
        short["duration"] = json!(6);
        assert_eq!(pairs(&bad(id, short)), [("duration", "not_allowed_together")]);
        let empty = json!({"prompt": "x", "generationType": "REFERENCE_2_VIDEO"});
        assert_eq!(pairs(&bad(id, empty)), [("imageUrls", "not_allowed_together")]);
    }
}
