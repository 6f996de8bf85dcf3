//! The model catalogue and input validation: both sides of every limit, for every model.

use kie::catalogue::{credits_to_usd, Catalogue, ModelSpec, OutputKind, CREDIT_USD};
use kie::validate::{validate, Problem};
use serde_json::{json, Map, Value};

const T2V: &str = "sora-2-text-to-video";
const I2V: &str = "sora-2-image-to-video";
const PRO_T2V: &str = "sora-2-pro-text-to-video";
const PRO_I2V: &str = "sora-2-pro-image-to-video";
const STORYBOARD: &str = "sora-2-pro-storyboard";
const REMOVER: &str = "sora-watermark-remover";
const CHARACTERS: &str = "sora-2-characters-pro";

const ALL: [&str; 7] = [T2V, I2V, PRO_T2V, PRO_I2V, STORYBOARD, REMOVER, CHARACTERS];
/// Models with a prompt, n_frames "10"/"15", aspect ratio, watermark toggle and characters.
const GENERATORS: [&str; 4] = [T2V, I2V, PRO_T2V, PRO_I2V];
const PRO: [&str; 2] = [PRO_T2V, PRO_I2V];
const IMAGE: [&str; 2] = [I2V, PRO_I2V];

const IMG: &str = "https://example.com/cat.png";
const SORA_LINK: &str = "https://sora.chatgpt.com/p/s_68e83bd7eee88191be79d2ba7158516f";

fn spec(id: &str) -> &'static ModelSpec {
    Catalogue::builtin().model(id).unwrap_or_else(|| panic!("no model {id}"))
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().expect("an object").clone()
}

/// The smallest valid input: required fields only.
fn minimal(id: &str) -> Map<String, Value> {
    obj(match id {
        T2V | PRO_T2V => json!({"prompt": "A fox in the snow."}),
        I2V | PRO_I2V => json!({"prompt": "The cat wakes up.", "image_urls": [IMG]}),
        STORYBOARD => json!({"shots": [{"Scene": "A door opens.", "duration": 5}]}),
        REMOVER => json!({"video_url": SORA_LINK}),
        CHARACTERS => json!({"origin_task_id": "task_123", "character_prompt": "cheerful barista, green apron"}),
        other => panic!("no minimal input for {other}"),
    })
}

/// `minimal(id)` with `key` set to `value`.
fn with(id: &str, key: &str, value: Value) -> Map<String, Value> {
    let mut input = minimal(id);
    input.insert(key.into(), value);
    input
}

fn ok(id: &str, input: Map<String, Value>) -> Map<String, Value> {
    match validate(spec(id), &input) {
        Ok(out) => out,
        Err(problems) => panic!("{id}: expected valid, got {problems:#?}\ninput: {input:?}"),
    }
}

fn bad(id: &str, input: Map<String, Value>) -> Vec<Problem> {
    match validate(spec(id), &input) {
        Ok(out) => panic!("{id}: expected problems, got valid {out:?}"),
        Err(problems) => problems,
    }
}

/// Exactly one problem, on `field`, with `rule`; returns its message.
fn one(id: &str, input: Map<String, Value>, field: &str, rule: &str) -> String {
    let problems = bad(id, input);
    assert_eq!(problems.len(), 1, "{id}: expected one problem, got {problems:#?}");
    assert_eq!((problems[0].field.as_str(), problems[0].rule.as_str()), (field, rule), "{id}: {problems:#?}");
    problems[0].message.clone()
}

// ---- the catalogue itself ----

#[test]
fn builtin_catalogue_parses_with_the_seven_models() {
    let c = Catalogue::builtin();
    assert_eq!(c.models.len(), 7);
    for id in ALL {
        let m = spec(id);
        assert!(!m.name.is_empty() && m.summary.ends_with('.'), "{id}");
        assert!(m.pricing.is_some(), "{id} has a price");
        for f in &m.fields {
            assert!(!f.label.is_empty() && !f.help.is_empty(), "{id}.{}: label and help", f.name);
        }
    }
    assert_eq!(spec(CHARACTERS).output, OutputKind::Character);
    assert_eq!(spec(T2V).output, OutputKind::Video);
    assert!(spec(CHARACTERS).price_is_estimate());
    assert!(!spec(T2V).price_is_estimate());
    // The same JSON parses again through the public entry point.
    let json = serde_json::to_string(c).unwrap();
    assert_eq!(Catalogue::from_json(&json).unwrap().models.len(), 7);
}

#[test]
fn every_models_defaults_validate_with_required_fields_filled() {
    for id in ALL {
        let m = spec(id);
        let mut input = m.defaults();
        input.extend(minimal(id));
        let out = ok(id, input);
        for (k, v) in m.defaults() {
            assert_eq!(out.get(&k), Some(&v), "{id}.{k}");
        }
    }
}

#[test]
fn defaults_are_filled_in() {
    let out = ok(T2V, obj(json!({"prompt": "  A fox in the snow.\n"})));
    assert_eq!(
        Value::Object(out),
        json!({
            "prompt": "A fox in the snow.",
            "aspect_ratio": "landscape",
            "n_frames": "10",
            "remove_watermark": true,
            "upload_method": "s3"
        })
    );
    let out = ok(PRO_I2V, minimal(PRO_I2V));
    assert_eq!(out["size"], "standard");
    assert_eq!(out["image_urls"], json!([IMG]));
    let out = ok(STORYBOARD, minimal(STORYBOARD));
    assert_eq!(out["n_frames"], "10");
    assert!(!out.contains_key("image_urls"), "no default for optional lists");
    let out = ok(REMOVER, minimal(REMOVER));
    assert_eq!(out["upload_method"], "s3");
    let out = ok(CHARACTERS, minimal(CHARACTERS));
    assert_eq!(out.len(), 2, "characters has no defaults: {out:?}");
    // Null means absent.
    let out = ok(T2V, with(T2V, "aspect_ratio", Value::Null));
    assert_eq!(out["aspect_ratio"], "landscape");
}

#[test]
fn plain_labels_for_values() {
    let m = spec(PRO_T2V);
    assert_eq!(m.field("n_frames").unwrap().label, "Length");
    assert_eq!(m.field("aspect_ratio").unwrap().label, "Shape");
    assert_eq!(m.field("size").unwrap().label, "Quality");
    assert_eq!(m.field("n_frames").unwrap().label_for(&json!("10")), Some("10 s"));
    assert_eq!(m.field("n_frames").unwrap().label_for(&json!(15)), Some("15 s"));
    assert_eq!(m.field("aspect_ratio").unwrap().label_for(&json!("portrait")), Some("Portrait"));
    assert_eq!(m.field("size").unwrap().label_for(&json!("standard")), Some("Standard (720p)"));
    assert_eq!(m.field("size").unwrap().label_for(&json!("high")), Some("High (1080p)"));
    assert_eq!(m.field("size").unwrap().label_for(&json!("ultra")), None);
}

// ---- prompt and text lengths ----

#[test]
fn prompt_up_to_10000_characters() {
    for id in GENERATORS {
        ok(id, with(id, "prompt", json!("a".repeat(10_000))));
        let msg = one(id, with(id, "prompt", json!("a".repeat(10_001))), "prompt", "too_long");
        assert_eq!(msg, "Prompt is too long: 10,001 characters, the limit is 10,000.");
        // Characters, not bytes: 10,000 two-byte letters are fine.
        ok(id, with(id, "prompt", json!("é".repeat(10_000))));
        one(id, with(id, "prompt", json!("日".repeat(10_001))), "prompt", "too_long");
    }
}

#[test]
fn prompt_is_required_and_not_blank() {
    for id in GENERATORS {
        let mut input = minimal(id);
        input.remove("prompt");
        assert_eq!(one(id, input, "prompt", "required"), "Prompt is required.");
        assert_eq!(one(id, with(id, "prompt", json!("  \n ")), "prompt", "required"), "Prompt must not be empty.");
    }
}

#[test]
fn required_fields_missing() {
    let cases: [(&str, &[&str]); 7] = [
        (T2V, &["prompt"]),
        (PRO_T2V, &["prompt"]),
        (I2V, &["prompt", "image_urls"]),
        (PRO_I2V, &["prompt", "image_urls"]),
        (STORYBOARD, &["shots"]),
        (REMOVER, &["video_url"]),
        (CHARACTERS, &["origin_task_id", "character_prompt"]),
    ];
    for (id, required) in cases {
        let problems = bad(id, Map::new());
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, required, "{id}");
        assert!(problems.iter().all(|p| p.rule == "required" && p.message.ends_with("is required.")), "{id}");
    }
}

// ---- choices ----

#[test]
fn n_frames_values() {
    for id in GENERATORS {
        assert_eq!(ok(id, with(id, "n_frames", json!("10")))["n_frames"], "10");
        assert_eq!(ok(id, with(id, "n_frames", json!("15")))["n_frames"], "15");
        // Forgiving: a number, spaces, the label.
        assert_eq!(ok(id, with(id, "n_frames", json!(15)))["n_frames"], "15");
        assert_eq!(ok(id, with(id, "n_frames", json!(10.0)))["n_frames"], "10");
        assert_eq!(ok(id, with(id, "n_frames", json!(" 15 ")))["n_frames"], "15");
        assert_eq!(ok(id, with(id, "n_frames", json!("15s")))["n_frames"], "15");
        let msg = one(id, with(id, "n_frames", json!("20")), "n_frames", "not_allowed");
        assert_eq!(msg, "Length must be one of 10 s or 15 s; got \"20\".");
        one(id, with(id, "n_frames", json!("25")), "n_frames", "not_allowed");
        one(id, with(id, "n_frames", json!(25)), "n_frames", "not_allowed");
        one(id, with(id, "n_frames", json!([10])), "n_frames", "not_allowed");
    }
    for n in ["10", "15", "25"] {
        let shots = json!([{"Scene": "A door opens.", "duration": 5}]);
        let mut input = with(STORYBOARD, "n_frames", json!(n));
        input.insert("shots".into(), shots);
        assert_eq!(ok(STORYBOARD, input)["n_frames"], n);
    }
    let msg = one(STORYBOARD, with(STORYBOARD, "n_frames", json!("20")), "n_frames", "not_allowed");
    assert_eq!(msg, "Length must be one of 10 s, 15 s or 25 s; got \"20\".");
}

#[test]
fn aspect_ratios() {
    for id in [T2V, I2V, PRO_T2V, PRO_I2V, STORYBOARD] {
        assert_eq!(ok(id, with(id, "aspect_ratio", json!("landscape")))["aspect_ratio"], "landscape");
        assert_eq!(ok(id, with(id, "aspect_ratio", json!("portrait")))["aspect_ratio"], "portrait");
        assert_eq!(ok(id, with(id, "aspect_ratio", json!("Portrait")))["aspect_ratio"], "portrait");
        let msg = one(id, with(id, "aspect_ratio", json!("square")), "aspect_ratio", "not_allowed");
        assert_eq!(msg, "Shape must be one of Landscape or Portrait; got \"square\".");
        one(id, with(id, "aspect_ratio", json!("16:9")), "aspect_ratio", "not_allowed");
    }
    for id in [REMOVER, CHARACTERS] {
        one(id, with(id, "aspect_ratio", json!("landscape")), "aspect_ratio", "unknown_field");
    }
}

#[test]
fn sizes_only_on_pro_models() {
    for id in PRO {
        assert_eq!(ok(id, with(id, "size", json!("standard")))["size"], "standard");
        assert_eq!(ok(id, with(id, "size", json!("high")))["size"], "high");
        assert_eq!(ok(id, with(id, "size", json!("High (1080p)")))["size"], "high");
        let msg = one(id, with(id, "size", json!("ultra")), "size", "not_allowed");
        assert_eq!(msg, "Quality must be one of Standard (720p) or High (1080p); got \"ultra\".");
    }
    for id in [T2V, I2V, STORYBOARD, REMOVER, CHARACTERS] {
        let msg = one(id, with(id, "size", json!("high")), "size", "unknown_field");
        assert!(msg.starts_with("\"size\" is not a setting of "), "{msg}");
    }
}

#[test]
fn upload_method_values() {
    for id in [T2V, I2V, PRO_T2V, PRO_I2V, STORYBOARD, REMOVER] {
        assert_eq!(ok(id, with(id, "upload_method", json!("s3")))["upload_method"], "s3");
        assert_eq!(ok(id, with(id, "upload_method", json!("oss")))["upload_method"], "oss");
        assert_eq!(ok(id, with(id, "upload_method", json!("OSS")))["upload_method"], "oss");
        one(id, with(id, "upload_method", json!("gcs")), "upload_method", "not_allowed");
    }
    one(CHARACTERS, with(CHARACTERS, "upload_method", json!("s3")), "upload_method", "unknown_field");
}

#[test]
fn remove_watermark_is_a_forgiving_bool() {
    for id in GENERATORS {
        for (given, want) in [
            (json!(true), true),
            (json!(false), false),
            (json!("false"), false),
            (json!(" TRUE "), true),
            (json!("no"), false),
            (json!(1), true),
            (json!(0), false),
        ] {
            assert_eq!(ok(id, with(id, "remove_watermark", given.clone()))["remove_watermark"], want, "{given}");
        }
        for wrong in [json!("maybe"), json!(2), json!([true]), json!({"a": 1})] {
            let msg = one(id, with(id, "remove_watermark", wrong), "remove_watermark", "wrong_type");
            assert!(msg.starts_with("Remove watermark must be yes or no"), "{msg}");
        }
    }
    one(STORYBOARD, with(STORYBOARD, "remove_watermark", json!(true)), "remove_watermark", "unknown_field");
}

// ---- lists ----

#[test]
fn character_id_list_up_to_5() {
    let ids = |n: usize| json!((0..n).map(|i| format!("char_{i}")).collect::<Vec<_>>());
    for id in GENERATORS {
        assert_eq!(ok(id, with(id, "character_id_list", ids(5)))["character_id_list"], ids(5));
        let msg = one(id, with(id, "character_id_list", ids(6)), "character_id_list", "too_many");
        assert_eq!(msg, "Characters: 6 given, the limit is 5.");
        // An empty list is as good as none; a single id stands for a list of one.
        assert!(!ok(id, with(id, "character_id_list", json!([]))).contains_key("character_id_list"));
        assert_eq!(ok(id, with(id, "character_id_list", json!(" c1 ")))["character_id_list"], json!(["c1"]));
        one(id, with(id, "character_id_list", json!({"id": "c1"})), "character_id_list", "wrong_type");
        one(id, with(id, "character_id_list", json!(["c1", ""])), "character_id_list[1]", "required");
        one(id, with(id, "character_id_list", json!(["c1", ["x"]])), "character_id_list[1]", "wrong_type");
    }
}

fn urls(n: usize) -> Value {
    json!((0..n).map(|i| format!("https://example.com/img/{i}.jpg")).collect::<Vec<_>>())
}

#[test]
fn image_url_count() {
    for id in IMAGE {
        ok(id, with(id, "image_urls", urls(1)));
        ok(id, with(id, "image_urls", urls(10)));
        let msg = one(id, with(id, "image_urls", urls(11)), "image_urls", "too_many");
        assert_eq!(msg, "Images: 11 given, the limit is 10.");
        let msg = one(id, with(id, "image_urls", json!([])), "image_urls", "too_few");
        assert_eq!(msg, "Images: none given, at least 1 needed.");
        // One link on its own is a list of one.
        assert_eq!(ok(id, with(id, "image_urls", json!(IMG)))["image_urls"], json!([IMG]));
    }
    // Optional on the storyboard, with the same upper limit.
    ok(STORYBOARD, with(STORYBOARD, "image_urls", urls(10)));
    one(STORYBOARD, with(STORYBOARD, "image_urls", urls(11)), "image_urls", "too_many");
    assert!(!ok(STORYBOARD, with(STORYBOARD, "image_urls", json!([]))).contains_key("image_urls"));
    for id in [T2V, PRO_T2V] {
        one(id, with(id, "image_urls", urls(1)), "image_urls", "unknown_field");
    }
}

#[test]
fn image_url_schemes() {
    for id in [I2V, PRO_I2V, STORYBOARD] {
        ok(id, with(id, "image_urls", json!(["http://example.com/a.png", "https://example.com/b.webp"])));
        for wrong in [
            "ftp://example.com/a.png",
            "javascript:alert(1)",
            "/images/a.png",
            "a.png",
            "example.com/a.png",
            "https://",
            "file:///home/me/a.png",
            "data:image/png;base64,AAAA",
        ] {
            let msg = one(id, with(id, "image_urls", json!([IMG, wrong])), "image_urls[1]", "bad_url");
            assert_eq!(
                msg,
                format!("Image link 2 must be a full web link starting with https:// or http://; got \"{wrong}\".")
            );
        }
        one(id, with(id, "image_urls", json!([IMG, 5])), "image_urls[1]", "wrong_type");
        one(id, with(id, "image_urls", json!([IMG, " "])), "image_urls[1]", "required");
        let long = format!("https://example.com/{}.png", "a".repeat(2000));
        one(id, with(id, "image_urls", json!([long])), "image_urls[0]", "too_long");
    }
}

#[test]
fn image_file_types_by_extension() {
    for id in [I2V, PRO_I2V, STORYBOARD] {
        for good in [
            "https://example.com/a.jpg",
            "https://example.com/a.JPEG",
            "https://example.com/a.png?sig=abc.gif",
            "https://example.com/a.webp#x",
            "https://example.com/image/12345",
            "https://example.com/",
            "https://example.com",
            "https://tempfile.redpandaai.co/kieai/123/photo.png",
        ] {
            ok(id, with(id, "image_urls", json!([good])));
        }
        for (wrong, ext) in [("https://example.com/a.gif", "gif"), ("https://example.com/v/clip.MP4", "mp4")] {
            let msg = one(id, with(id, "image_urls", json!([wrong])), "image_urls[0]", "bad_file_type");
            let name = wrong.rsplit('/').next().unwrap();
            assert_eq!(msg, format!("Image link 1 must be a JPEG, PNG or WebP image; \"{name}\" is a .{ext} file."));
        }
    }
}

#[test]
fn trims_urls_and_keeps_them_as_written() {
    let out = ok(I2V, with(I2V, "image_urls", json!(["  https://Example.com/A%20b.PNG \n"])));
    assert_eq!(out["image_urls"], json!(["https://Example.com/A%20b.PNG"]));
}

// ---- storyboard ----

fn shots(durations: &[f64]) -> Value {
    json!(durations
        .iter()
        .enumerate()
        .map(|(i, d)| json!({"Scene": format!("Scene {i}"), "duration": d}))
        .collect::<Vec<_>>())
}

fn storyboard(n_frames: &str, durations: &[f64]) -> Map<String, Value> {
    obj(json!({"n_frames": n_frames, "shots": shots(durations)}))
}

#[test]
fn storyboard_shot_count_1_to_10() {
    ok(STORYBOARD, storyboard("10", &[10.0]));
    ok(STORYBOARD, storyboard("25", &[2.5; 10]));
    let msg = one(STORYBOARD, storyboard("25", &[2.0; 11]), "shots", "too_many");
    assert_eq!(msg, "Shots: 11 given, the limit is 10.");
    let msg = one(STORYBOARD, storyboard("25", &[]), "shots", "too_few");
    assert_eq!(msg, "Shots: none given, at least 1 needed.");
}

#[test]
fn storyboard_durations_sum_to_at_most_n_frames() {
    for (n, whole) in [("10", 10.0), ("15", 15.0), ("25", 25.0)] {
        let out = ok(STORYBOARD, storyboard(n, &[whole - 5.0, 5.0]));
        assert_eq!(out["shots"][1]["duration"], json!(5), "whole numbers stay whole");
        ok(STORYBOARD, storyboard(n, &[whole / 4.0; 4]));
        let msg = one(STORYBOARD, storyboard(n, &[whole - 5.0, 5.5]), "shots", "sum_too_large");
        assert_eq!(
            msg,
            format!(
                "Shots last {} s in total, but the video is {n} s long: shorten a shot or choose a longer length.",
                whole + 0.5
            )
        );
    }
    // The default length is 10 s.
    let mut input = storyboard("10", &[6.0, 6.0]);
    input.remove("n_frames");
    let msg = one(STORYBOARD, input, "shots", "sum_too_large");
    assert_eq!(msg, "Shots last 12 s in total, but the video is 10 s long: shorten a shot or choose a longer length.");
    // The brief's example.
    let msg = one(STORYBOARD, storyboard("15", &[10.0, 8.0]), "shots", "sum_too_large");
    assert_eq!(msg, "Shots last 18 s in total, but the video is 15 s long: shorten a shot or choose a longer length.");
}

#[test]
fn storyboard_shot_fields() {
    let msg =
        one(STORYBOARD, obj(json!({"shots": [{"Scene": "A", "duration": 0}]})), "shots[0].duration", "out_of_range");
    assert_eq!(msg, "Shot 1 duration must be more than 0 s; got 0 s.");
    one(STORYBOARD, obj(json!({"shots": [{"Scene": "A", "duration": -2}]})), "shots[0].duration", "out_of_range");
    ok(STORYBOARD, obj(json!({"shots": [{"Scene": "A", "duration": 0.1}]})));
    let msg =
        one(STORYBOARD, obj(json!({"shots": [{"Scene": "A", "duration": "soon"}]})), "shots[0].duration", "wrong_type");
    assert_eq!(msg, "Shot 1 duration must be a number; got \"soon\".");
    let out = ok(STORYBOARD, obj(json!({"shots": [{"scene": " A ", "duration": "2.5 s"}]})));
    assert_eq!(out["shots"], json!([{"Scene": "A", "duration": 2.5}]), "key case and units forgiven");

    let msg = one(
        STORYBOARD,
        obj(json!({"shots": [{"Scene": "A", "duration": 1}, {"duration": 2}]})),
        "shots[1].Scene",
        "required",
    );
    assert_eq!(msg, "Shot 2 scene is required.");
    one(STORYBOARD, obj(json!({"shots": [{"Scene": "  ", "duration": 1}]})), "shots[0].Scene", "required");
    ok(STORYBOARD, obj(json!({"shots": [{"Scene": "a".repeat(10_000), "duration": 1}]})));
    let msg = one(
        STORYBOARD,
        obj(json!({"shots": [{"Scene": "a".repeat(10_001), "duration": 1}]})),
        "shots[0].Scene",
        "too_long",
    );
    assert_eq!(msg, "Shot 1 scene is too long: 10,001 characters, the limit is 10,000.");
    let msg = one(
        STORYBOARD,
        obj(json!({"shots": [{"Scene": "A", "duration": 1, "camera": "pan"}]})),
        "shots[0].camera",
        "unknown_field",
    );
    assert_eq!(msg, "\"camera\" is not part of Shot 1; the valid ones are: Scene, duration.");
    one(STORYBOARD, obj(json!({"shots": ["A door opens."]})), "shots[0]", "wrong_type");
    one(STORYBOARD, obj(json!({"shots": "A door opens."})), "shots", "wrong_type");
    one(STORYBOARD, obj(json!({"shots": [{"Scene": "A", "duration": 1}], "prompt": "x"})), "prompt", "unknown_field");
}

#[test]
fn storyboard_sum_is_not_checked_over_broken_shots() {
    // A bad duration is reported once, not again as a sum.
    let problems = bad(STORYBOARD, obj(json!({"n_frames": "10", "shots": [{"Scene": "A", "duration": 30}]})));
    let rules: Vec<&str> = problems.iter().map(|p| p.rule.as_str()).collect();
    assert_eq!(rules, ["out_of_range"], "{problems:#?}");
}

// ---- watermark remover ----

#[test]
fn watermark_video_url() {
    ok(REMOVER, with(REMOVER, "video_url", json!(SORA_LINK)));
    let prefix = "https://sora.chatgpt.com/p/";
    let at_limit = format!("{prefix}{}", "a".repeat(500 - prefix.len()));
    ok(REMOVER, with(REMOVER, "video_url", json!(at_limit)));
    let msg = one(REMOVER, with(REMOVER, "video_url", json!(format!("{at_limit}a"))), "video_url", "too_long");
    assert_eq!(msg, "Video link is too long: 501 characters, the limit is 500.");

    for (wrong, rule) in [
        ("https://example.com/p/s_1", "bad_host"),
        ("https://sora.chatgpt.com.evil.example/p/s_1", "bad_host"),
        ("https://chatgpt.com/p/s_1", "bad_host"),
        ("http://sora.chatgpt.com/p/s_1", "bad_url"),
        ("sora.chatgpt.com/p/s_1", "bad_url"),
        ("javascript:alert(1)", "bad_url"),
    ] {
        let msg = one(REMOVER, with(REMOVER, "video_url", json!(wrong)), "video_url", rule);
        assert_eq!(msg, format!("Video link must be a https://sora.chatgpt.com/… link; got \"{wrong}\"."));
    }
    // Host names are not case-sensitive.
    ok(REMOVER, with(REMOVER, "video_url", json!("https://SORA.chatgpt.com/p/s_1")));
}

// ---- characters ----

#[test]
fn character_text_limits() {
    for (field, max, message) in [
        ("origin_task_id", 100, "Source video is too long: 101 characters, the limit is 100."),
        ("character_prompt", 1000, "Character description is too long: 1,001 characters, the limit is 1,000."),
        ("safety_instruction", 1000, "Safety instruction is too long: 1,001 characters, the limit is 1,000."),
        ("character_user_name", 40, "Handle is too long: 41 characters, the limit is 40."),
    ] {
        ok(CHARACTERS, with(CHARACTERS, field, json!("a".repeat(max))));
        assert_eq!(one(CHARACTERS, with(CHARACTERS, field, json!("a".repeat(max + 1))), field, "too_long"), message);
    }
}

#[test]
fn character_handle_characters() {
    for good in ["sky_ranger", "mzsdaag.ab", "R2D2", "a"] {
        assert_eq!(ok(CHARACTERS, with(CHARACTERS, "character_user_name", json!(good)))["character_user_name"], good);
    }
    let msg = one(
        CHARACTERS,
        with(CHARACTERS, "character_user_name", json!("@sky_ranger")),
        "character_user_name",
        "bad_format",
    );
    assert_eq!(msg, "Handle may only contain letters, digits, underscores (_) and dots (.); \"@\" is not allowed.");
    for wrong in ["sky ranger", "sky-ranger", "café"] {
        one(CHARACTERS, with(CHARACTERS, "character_user_name", json!(wrong)), "character_user_name", "bad_format");
    }
    // Too long and bad characters at once.
    let problems = bad(CHARACTERS, with(CHARACTERS, "character_user_name", json!("@".repeat(41))));
    let rules: Vec<&str> = problems.iter().map(|p| p.rule.as_str()).collect();
    assert_eq!(rules, ["too_long", "bad_format"]);
    // Empty optional text is simply left out.
    assert!(!ok(CHARACTERS, with(CHARACTERS, "character_user_name", json!(" "))).contains_key("character_user_name"));
}

#[test]
fn character_timestamps_slice_1_to_4_s() {
    for (good, sent) in
        [("0,1", "0,1"), ("2,6", "2,6"), (" 2.5 , 5 ", "2.5,5"), ("1.5,2.5", "1.5,2.5"), ("2s,5s", "2,5")]
    {
        assert_eq!(ok(CHARACTERS, with(CHARACTERS, "timestamps", json!(good)))["timestamps"], sent, "{good}");
    }
    assert_eq!(ok(CHARACTERS, with(CHARACTERS, "timestamps", json!([2, 5])))["timestamps"], "2,5");
    let msg = one(CHARACTERS, with(CHARACTERS, "timestamps", json!("2,6.5")), "timestamps", "out_of_range");
    assert_eq!(msg, "Time slice must be 1 to 4 s long; \"2,6.5\" is 4.5 s.");
    let msg = one(CHARACTERS, with(CHARACTERS, "timestamps", json!("2,2.5")), "timestamps", "out_of_range");
    assert_eq!(msg, "Time slice must be 1 to 4 s long; \"2,2.5\" is 0.5 s.");
    let msg = one(CHARACTERS, with(CHARACTERS, "timestamps", json!("-1,1")), "timestamps", "out_of_range");
    assert_eq!(msg, "Time slice must start at 0 s or later; got \"-1,1\".");
    let msg = one(CHARACTERS, with(CHARACTERS, "timestamps", json!("5,3")), "timestamps", "out_of_range");
    assert_eq!(msg, "Time slice must end after it starts; got \"5,3\".");
    for wrong in [json!("abc"), json!("2"), json!("1,2,3"), json!("2;5"), json!(5), json!([1])] {
        let msg = one(CHARACTERS, with(CHARACTERS, "timestamps", wrong.clone()), "timestamps", "bad_format");
        assert!(msg.starts_with("Time slice must be a start and an end in seconds, like \"2,5\""), "{msg}");
    }
}

// ---- unknown fields, types, several problems ----

#[test]
fn unknown_field_names_the_valid_ones() {
    let msg = one(T2V, with(T2V, "duration", json!(10)), "duration", "unknown_field");
    assert_eq!(
        msg,
        "\"duration\" is not a setting of Sora 2 – Text to video; the valid ones are: prompt, aspect_ratio, \
         n_frames, remove_watermark, upload_method, character_id_list."
    );
    for id in ALL {
        one(id, with(id, "callBackUrl", json!("https://x.example/cb")), "callBackUrl", "unknown_field");
    }
}

#[test]
fn key_case_is_forgiven_but_duplicates_are_reported() {
    let out = ok(T2V, obj(json!({"Prompt": "A fox.", "N_Frames": 15})));
    assert_eq!(out["prompt"], "A fox.");
    assert_eq!(out["n_frames"], "15");
    let msg = one(T2V, obj(json!({"prompt": "A fox.", "Prompt": "B"})), "Prompt", "duplicate_field");
    assert_eq!(msg, "\"Prompt\" repeats Prompt (already given as \"prompt\"); keep one.");
}

#[test]
fn wrong_types() {
    let msg = one(T2V, with(T2V, "prompt", json!(["a"])), "prompt", "wrong_type");
    assert_eq!(msg, "Prompt must be text; got a list.");
    one(T2V, with(T2V, "prompt", json!({"text": "a"})), "prompt", "wrong_type");
    one(T2V, with(T2V, "prompt", json!(true)), "prompt", "wrong_type");
    one(REMOVER, with(REMOVER, "video_url", json!(["https://sora.chatgpt.com/p/1"])), "video_url", "wrong_type");
    one(I2V, with(I2V, "image_urls", json!({"url": IMG})), "image_urls", "wrong_type");
    // A number where an id is expected is taken as text.
    assert_eq!(ok(CHARACTERS, with(CHARACTERS, "origin_task_id", json!(12345)))["origin_task_id"], "12345");
}

#[test]
fn several_problems_are_reported_together() {
    let input = obj(json!({
        "prompt": "a".repeat(10_012),
        "n_frames": "20",
        "aspect_ratio": "square",
        "remove_watermark": "perhaps",
        "character_id_list": ["1", "2", "3", "4", "5", "6"],
        "colour": "red",
    }));
    let problems = bad(T2V, input);
    let got: Vec<(&str, &str)> = problems.iter().map(|p| (p.field.as_str(), p.rule.as_str())).collect();
    assert_eq!(
        got,
        [
            ("prompt", "too_long"),
            ("aspect_ratio", "not_allowed"),
            ("n_frames", "not_allowed"),
            ("remove_watermark", "wrong_type"),
            ("character_id_list", "too_many"),
            ("colour", "unknown_field"),
        ]
    );
    assert_eq!(problems[0].message, "Prompt is too long: 10,012 characters, the limit is 10,000.");
    let text = kie::validate::describe(&problems);
    assert_eq!(text.lines().count(), 6);

    let problems = bad(I2V, obj(json!({"image_urls": ["ftp://x/a.png", "https://x.example/b.gif"]})));
    let got: Vec<(&str, &str)> = problems.iter().map(|p| (p.field.as_str(), p.rule.as_str())).collect();
    assert_eq!(got, [("prompt", "required"), ("image_urls[0]", "bad_url"), ("image_urls[1]", "bad_file_type")]);

    let problems =
        bad(STORYBOARD, obj(json!({"n_frames": 20, "shots": [{"duration": 0}, {"Scene": "B", "duration": "x"}]})));
    let got: Vec<(&str, &str)> = problems.iter().map(|p| (p.field.as_str(), p.rule.as_str())).collect();
    assert_eq!(
        got,
        [
            ("shots[0].Scene", "required"),
            ("shots[0].duration", "out_of_range"),
            ("shots[1].duration", "wrong_type"),
            ("n_frames", "not_allowed"),
        ]
    );
}

// ---- prices ----

#[test]
fn credit_estimates_for_every_model_duration_and_size() {
    let price = |id: &str, input: Value| spec(id).estimate_credits(&obj(input));
    for id in [T2V, I2V] {
        assert_eq!(price(id, json!({})), Some(30.0), "default is 10 s");
        assert_eq!(price(id, json!({"n_frames": "10"})), Some(30.0));
        assert_eq!(price(id, json!({"n_frames": "15"})), Some(45.0));
        assert_eq!(price(id, json!({"n_frames": 15})), Some(45.0));
        assert_eq!(price(id, json!({"n_frames": "20"})), None);
    }
    for id in PRO {
        assert_eq!(price(id, json!({})), Some(150.0));
        assert_eq!(price(id, json!({"n_frames": "10", "size": "standard"})), Some(150.0));
        assert_eq!(price(id, json!({"n_frames": "15", "size": "standard"})), Some(270.0));
        assert_eq!(price(id, json!({"n_frames": "15"})), Some(270.0));
        assert_eq!(price(id, json!({"n_frames": "10", "size": "high"})), Some(330.0));
        assert_eq!(price(id, json!({"n_frames": "15", "size": "high"})), Some(630.0));
        assert_eq!(price(id, json!({"n_frames": "15", "size": "High (1080p)"})), Some(630.0));
        assert_eq!(price(id, json!({"size": "ultra"})), None);
    }
    assert_eq!(price(STORYBOARD, json!({})), Some(150.0));
    assert_eq!(price(STORYBOARD, json!({"n_frames": "10"})), Some(150.0));
    assert_eq!(price(STORYBOARD, json!({"n_frames": "15"})), Some(270.0));
    assert_eq!(price(STORYBOARD, json!({"n_frames": "25"})), Some(450.0));
    assert_eq!(price(REMOVER, json!({})), Some(10.0));
    assert_eq!(price(CHARACTERS, json!({})), Some(10.0));
    // On the normalized output too.
    let out = ok(PRO_T2V, obj(json!({"prompt": "x", "n_frames": 15, "size": "high"})));
    assert_eq!(spec(PRO_T2V).estimate_credits(&out), Some(630.0));
}

#[test]
fn credits_in_dollars() {
    assert_eq!(CREDIT_USD, 0.005);
    assert_eq!(credits_to_usd(30.0), 0.15);
    assert_eq!(credits_to_usd(45.0), 0.225);
    assert_eq!(credits_to_usd(150.0), 0.75);
    assert_eq!(credits_to_usd(270.0), 1.35);
    assert_eq!(credits_to_usd(330.0), 1.65);
    assert_eq!(credits_to_usd(630.0), 3.15);
    assert_eq!(credits_to_usd(10.0), 0.05);
}

// ---- adding a model is data ----

fn fixture() -> Catalogue {
    let json = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/catalogue/veo3-fast.json"))
        .expect("fixture");
    Catalogue::from_json(&json).expect("the fixture is a valid catalogue")
}

#[test]
fn a_model_added_as_json_validates_without_new_code() {
    let mut catalogue = Catalogue::builtin().clone();
    catalogue.extend(fixture()).unwrap();
    assert_eq!(catalogue.models.len(), 8);
    let veo = catalogue.model("veo3-fast").expect("added");
    assert!(catalogue.model(T2V).is_some(), "the built-in models stay");

    let out = validate(veo, &obj(json!({"prompt": " A lighthouse in a storm. ", "seed": "12345"}))).unwrap();
    assert_eq!(
        Value::Object(out.clone()),
        json!({"prompt": "A lighthouse in a storm.", "resolution": "720p", "seed": 12345})
    );
    assert_eq!(veo.estimate_credits(&out), Some(60.0));
    assert_eq!(veo.estimate_credits(&obj(json!({"resolution": "1080p"}))), Some(80.0));
    assert!(veo.price_is_estimate());

    let out = catalogue
        .validate(
            "veo3-fast",
            &obj(json!({"prompt": "x", "resolution": "1080P", "image_urls": ["https://e.example/a.jpg"]})),
        )
        .unwrap();
    assert_eq!(out["resolution"], "1080p");

    let problems = catalogue
        .validate(
            "veo3-fast",
            &obj(json!({
                "prompt": "a".repeat(2001),
                "resolution": "4k",
                "image_urls": ["https://e.example/a.webp", "https://e.example/b.png", "https://e.example/c.png"],
                "seed": 5.5,
                "n_frames": "10",
            })),
        )
        .unwrap_err();
    let got: Vec<(&str, &str)> = problems.iter().map(|p| (p.field.as_str(), p.rule.as_str())).collect();
    assert_eq!(
        got,
        [
            ("prompt", "too_long"),
            ("resolution", "not_allowed"),
            ("image_urls", "too_many"),
            ("image_urls[0]", "bad_file_type"),
            ("seed", "wrong_type"),
            ("n_frames", "unknown_field"),
        ]
    );
    assert_eq!(problems[1].message, "Quality must be one of 720p or 1080p; got \"4k\".");
    assert_eq!(problems[3].message, "Image link 1 must be a .png or .jpg file; \"a.webp\" is a .webp file.");
    assert_eq!(problems[4].message, "Seed must be a whole number; got 5.5.");
    let problems = validate(veo, &obj(json!({"prompt": "x", "seed": 9999}))).unwrap_err();
    assert_eq!(problems[0].message, "Seed must be at least 10,000; got 9,999.");

    // Adding it twice is refused, and changes nothing.
    assert!(catalogue.extend(fixture()).is_err());
    assert_eq!(catalogue.models.len(), 8);
}

#[test]
fn a_broken_added_model_is_refused() {
    let json = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/catalogue/veo3-fast.json"))
        .unwrap()
        .replace("\"default\": \"720p\"", "\"default\": \"480p\"");
    let err = Catalogue::from_json(&json).unwrap_err();
    assert!(err.to_string().contains("resolution"), "{err}");
}

#[test]
fn budgets_say_how_much_of_the_storyboard_is_used_and_left() {
    use kie::validate::budgets;
    let b = budgets(spec(STORYBOARD), &storyboard("10", &[4.0, 5.0]));
    assert_eq!(b.len(), 1, "{b:?}");
    let b = &b[0];
    assert_eq!((b.list.as_str(), b.item_key.as_str(), b.unit.as_str()), ("shots", "duration", "s"));
    assert_eq!((b.limit, b.used, b.left), (10.0, 9.0, 1.0));

    // Over the total: `left` goes negative. Amounts typed as text count; blanks and nonsense do not.
    let over = obj(
        json!({"n_frames": "10", "shots": [{"duration": 6}, {"duration": "5.5"}, {"duration": ""}, {"duration": "x"}]}),
    );
    let b = &budgets(spec(STORYBOARD), &over)[0];
    assert_eq!((b.used, b.left), (11.5, -1.5));

    // No length chosen yet: the field's default is the total.
    let default = spec(STORYBOARD).field("n_frames").and_then(|f| f.default.clone()).expect("a default length");
    let default: f64 = default.as_str().map_or_else(|| default.as_f64(), |s| s.parse().ok()).unwrap();
    let b = &budgets(spec(STORYBOARD), &obj(json!({"shots": shots(&[2.5])})))[0];
    assert_eq!((b.limit, b.used, b.left), (default, 2.5, default - 2.5));

    // A model with no held total has no budget.
    assert!(budgets(spec(T2V), &obj(json!({"prompt": "a fox"}))).is_empty());
}
