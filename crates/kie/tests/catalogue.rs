//! The model catalogue and input validation: both sides of every limit, for every model.

use kie::catalogue::{credits_to_usd, Catalogue, FieldSpec, MentionSource, ModelSpec, OutputKind, CREDIT_USD};
use kie::validate::{validate, Problem};
use serde_json::{json, Map, Value};

const T2V: &str = "sora-2-text-to-video";
const I2V: &str = "sora-2-image-to-video";
const T2V_STABLE: &str = "sora-2-text-to-video-stable";
const I2V_STABLE: &str = "sora-2-image-to-video-stable";
const PRO_T2V: &str = "sora-2-pro-text-to-video";
const PRO_I2V: &str = "sora-2-pro-image-to-video";
const STORYBOARD: &str = "sora-2-pro-storyboard";
const REMOVER: &str = "sora-watermark-remover";
const CHARACTERS: &str = "sora-2-characters-pro";
const CLIP_CHARACTERS: &str = "sora-2-characters";

/// The Sora family, in catalogue order.
const SORA: [&str; 10] =
    [T2V, I2V, T2V_STABLE, I2V_STABLE, PRO_T2V, PRO_I2V, STORYBOARD, REMOVER, CHARACTERS, CLIP_CHARACTERS];
/// The families, in the order their first model appears in the catalogue.
const FAMILIES: [&str; 7] = ["Sora", "Kling", "Seedance", "Wan", "Hailuo", "Grok Imagine", "Veo"];
/// Models with a prompt, n_frames "10"/"15", aspect ratio and characters.
const GENERATORS: [&str; 6] = [T2V, I2V, T2V_STABLE, I2V_STABLE, PRO_T2V, PRO_I2V];
/// The generators with a watermark toggle (the stable ones have none).
const WATERMARKED: [&str; 4] = [T2V, I2V, PRO_T2V, PRO_I2V];
const STABLE: [&str; 2] = [T2V_STABLE, I2V_STABLE];
const PRO: [&str; 2] = [PRO_T2V, PRO_I2V];
/// Image to video: exactly one start picture.
const IMAGE: [&str; 3] = [I2V, I2V_STABLE, PRO_I2V];

const IMG: &str = "https://example.com/cat.png";
const CLIP: &str = "https://example.com/clips/wave.mp4";
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
        T2V | T2V_STABLE | PRO_T2V => json!({"prompt": "A fox in the snow."}),
        I2V | I2V_STABLE | PRO_I2V => json!({"prompt": "The cat wakes up.", "image_urls": [IMG]}),
        STORYBOARD => json!({"shots": [{"Scene": "A door opens.", "duration": 5}]}),
        REMOVER => json!({"video_url": SORA_LINK}),
        CHARACTERS => json!({
            "origin_task_id": "task_123",
            "character_prompt": "cheerful barista, green apron",
            "timestamps": "2,5"
        }),
        CLIP_CHARACTERS => json!({"character_file_url": [CLIP]}),
        other => panic!("no minimal input for {other}"),
    })
}

/// `minimal(id)` with `key` set to `value`.
fn with(id: &str, key: &str, value: Value) -> Map<String, Value> {
    let mut input = minimal(id);
    input.insert(key.into(), value);
    input
}

/// `minimal(id)` without `key`.
fn without(id: &str, key: &str) -> Map<String, Value> {
    let mut input = minimal(id);
    assert!(input.remove(key).is_some(), "{id}: minimal input has no {key}");
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

/// The problems as (field, rule) pairs.
fn pairs(problems: &[Problem]) -> Vec<(&str, &str)> {
    problems.iter().map(|p| (p.field.as_str(), p.rule.as_str())).collect()
}

/// Every named field, with its path: top-level fields, object fields and list items' fields.
fn every_field<'a>(fields: &'a [FieldSpec], prefix: &str, out: &mut Vec<(String, &'a FieldSpec)>) {
    for f in fields {
        let path = format!("{prefix}{}", f.name);
        out.push((path.clone(), f));
        if let Some(items) = f.items.as_deref() {
            every_field(&items.fields, &format!("{path}[]."), out);
        }
        every_field(&f.fields, &format!("{path}."), out);
    }
}

// ---- the catalogue itself ----

#[test]
fn builtin_catalogue_parses_with_the_sora_family_and_the_others() {
    let c = Catalogue::builtin();
    assert_eq!(c.models.len(), 25);
    let sora: Vec<&str> = c.models.iter().filter(|m| m.family == "Sora").map(|m| m.id.as_str()).collect();
    assert_eq!(sora, SORA, "the Sora family's ids, in order");
    let mut families: Vec<&str> = Vec::new();
    for m in &c.models {
        let id = m.id.as_str();
        assert!(!m.name.is_empty() && m.summary.ends_with('.'), "{id}");
        assert!(!m.family.trim().is_empty(), "{id} has a family");
        if !families.contains(&m.family.as_str()) {
            families.push(&m.family);
        }
        let pricing = m.pricing.as_ref().unwrap_or_else(|| panic!("{id} has a price"));
        assert!(!pricing.source.trim().is_empty(), "{id}: its price names a source");
        assert!(!pricing.rules.is_empty(), "{id}: its price has rules");
        let mut fields = Vec::new();
        every_field(&m.fields, "", &mut fields);
        assert!(!fields.is_empty(), "{id} has fields");
        for (path, f) in fields {
            assert!(!f.label.trim().is_empty() && !f.help.trim().is_empty(), "{id}.{path}: label and help");
        }
    }
    assert_eq!(families, FAMILIES, "every family, grouped");
    for id in [CHARACTERS, CLIP_CHARACTERS] {
        assert_eq!(spec(id).output, OutputKind::Character, "{id}");
        assert!(spec(id).price_is_estimate(), "{id}");
    }
    for id in [T2V, I2V, T2V_STABLE, I2V_STABLE, PRO_T2V, PRO_I2V, STORYBOARD, REMOVER] {
        assert_eq!(spec(id).output, OutputKind::Video, "{id}");
    }
    for id in STABLE {
        assert!(spec(id).price_is_estimate(), "{id}: its prices are unconfirmed");
    }
    assert!(!spec(T2V).price_is_estimate());
    assert!(!spec(PRO_T2V).price_is_estimate());
    // The same JSON parses again through the public entry point.
    let json = serde_json::to_string(c).unwrap();
    let again = Catalogue::from_json(&json).unwrap();
    assert_eq!(again.models.len(), 25);
    let ids: Vec<&str> = again.models.iter().filter(|m| m.family == "Sora").map(|m| m.id.as_str()).collect();
    assert_eq!(ids, SORA);
}

#[test]
fn every_models_defaults_validate_with_required_fields_filled() {
    for id in SORA {
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
    // The stable models have no watermark toggle, so nothing of it is sent.
    let out = ok(T2V_STABLE, obj(json!({"prompt": "  A fox in the snow.\n"})));
    assert_eq!(
        Value::Object(out),
        json!({
            "prompt": "A fox in the snow.",
            "aspect_ratio": "landscape",
            "n_frames": "10",
            "upload_method": "s3"
        })
    );
    // Pro: image to video starts at standard quality, text to video at high (Kie's last docs).
    let out = ok(PRO_I2V, minimal(PRO_I2V));
    assert_eq!(out["size"], "standard");
    assert_eq!(out["image_urls"], json!([IMG]));
    let out = ok(PRO_T2V, minimal(PRO_T2V));
    assert_eq!(out["size"], "high");
    // The storyboard starts at 15 s (Kie's last docs).
    let out = ok(STORYBOARD, minimal(STORYBOARD));
    assert_eq!(out["n_frames"], "15");
    assert!(!out.contains_key("image_urls"), "no default for optional lists");
    let out = ok(REMOVER, minimal(REMOVER));
    assert_eq!(out["upload_method"], "s3");
    let out = ok(CHARACTERS, minimal(CHARACTERS));
    assert_eq!(out.len(), 3, "characters has no defaults: {out:?}");
    let out = ok(CLIP_CHARACTERS, minimal(CLIP_CHARACTERS));
    assert_eq!(Value::Object(out), json!({"character_file_url": [CLIP]}), "no defaults");
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
fn prompts_name_characters_by_handle() {
    for id in GENERATORS {
        let prompt = spec(id).field("prompt").unwrap();
        assert_eq!(prompt.mentions, [MentionSource::Characters], "{id}");
        // The registry is the user's and Kie may know more: an @handle is never a problem.
        let out = ok(id, with(id, "prompt", json!("@sky_ranger waves at @nobody_known.")));
        assert_eq!(out["prompt"], "@sky_ranger waves at @nobody_known.");
    }
}

#[test]
fn required_fields_missing() {
    let cases: [(&str, &[&str]); 10] = [
        (T2V, &["prompt"]),
        (T2V_STABLE, &["prompt"]),
        (PRO_T2V, &["prompt"]),
        (I2V, &["prompt", "image_urls"]),
        (I2V_STABLE, &["prompt", "image_urls"]),
        (PRO_I2V, &["prompt", "image_urls"]),
        (STORYBOARD, &["shots"]),
        (REMOVER, &["video_url"]),
        (CHARACTERS, &["origin_task_id", "character_prompt", "timestamps"]),
        (CLIP_CHARACTERS, &["character_file_url"]),
    ];
    for (id, required) in cases {
        let problems = bad(id, Map::new());
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, required, "{id}");
        assert!(problems.iter().all(|p| p.rule == "required" && p.message.ends_with("is required.")), "{id}");
        // Each one alone is missed too.
        for field in required {
            let msg = one(id, without(id, field), field, "required");
            assert!(msg.ends_with("is required."), "{id}.{field}: {msg}");
        }
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
    for id in [T2V, I2V, T2V_STABLE, I2V_STABLE, PRO_T2V, PRO_I2V, STORYBOARD] {
        assert_eq!(ok(id, with(id, "aspect_ratio", json!("landscape")))["aspect_ratio"], "landscape");
        assert_eq!(ok(id, with(id, "aspect_ratio", json!("portrait")))["aspect_ratio"], "portrait");
        assert_eq!(ok(id, with(id, "aspect_ratio", json!("Portrait")))["aspect_ratio"], "portrait");
        let msg = one(id, with(id, "aspect_ratio", json!("square")), "aspect_ratio", "not_allowed");
        assert_eq!(msg, "Shape must be one of Landscape or Portrait; got \"square\".");
        one(id, with(id, "aspect_ratio", json!("16:9")), "aspect_ratio", "not_allowed");
    }
    for id in [REMOVER, CHARACTERS, CLIP_CHARACTERS] {
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
    for id in [T2V, I2V, T2V_STABLE, I2V_STABLE, STORYBOARD, REMOVER, CHARACTERS, CLIP_CHARACTERS] {
        let msg = one(id, with(id, "size", json!("high")), "size", "unknown_field");
        assert!(msg.starts_with("\"size\" is not a setting of "), "{msg}");
    }
}

#[test]
fn upload_method_values() {
    for id in [T2V, I2V, T2V_STABLE, I2V_STABLE, PRO_T2V, PRO_I2V, STORYBOARD, REMOVER] {
        assert_eq!(ok(id, with(id, "upload_method", json!("s3")))["upload_method"], "s3");
        assert_eq!(ok(id, with(id, "upload_method", json!("oss")))["upload_method"], "oss");
        assert_eq!(ok(id, with(id, "upload_method", json!("OSS")))["upload_method"], "oss");
        one(id, with(id, "upload_method", json!("gcs")), "upload_method", "not_allowed");
    }
    for id in [CHARACTERS, CLIP_CHARACTERS] {
        one(id, with(id, "upload_method", json!("s3")), "upload_method", "unknown_field");
    }
}

#[test]
fn remove_watermark_is_a_forgiving_bool() {
    for id in WATERMARKED {
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
    // The stable models and the storyboard have no watermark toggle.
    for id in [T2V_STABLE, I2V_STABLE, STORYBOARD] {
        one(id, with(id, "remove_watermark", json!(true)), "remove_watermark", "unknown_field");
    }
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
        // Exactly one start picture (Kie's last docs).
        assert_eq!(ok(id, with(id, "image_urls", urls(1)))["image_urls"], urls(1));
        let msg = one(id, with(id, "image_urls", urls(2)), "image_urls", "too_many");
        assert_eq!(msg, "Start picture: 2 given, the limit is 1.");
        one(id, with(id, "image_urls", urls(10)), "image_urls", "too_many");
        let msg = one(id, with(id, "image_urls", json!([])), "image_urls", "too_few");
        assert_eq!(msg, "Start picture: none given, at least 1 needed.");
        let msg = one(id, without(id, "image_urls"), "image_urls", "required");
        assert_eq!(msg, "Start picture is required.");
        // One link on its own is a list of one.
        assert_eq!(ok(id, with(id, "image_urls", json!(IMG)))["image_urls"], json!([IMG]));
    }
    // Optional on the storyboard, and at most one there too.
    assert_eq!(ok(STORYBOARD, with(STORYBOARD, "image_urls", urls(1)))["image_urls"], urls(1));
    let msg = one(STORYBOARD, with(STORYBOARD, "image_urls", urls(2)), "image_urls", "too_many");
    assert_eq!(msg, "Start picture: 2 given, the limit is 1.");
    assert!(!ok(STORYBOARD, with(STORYBOARD, "image_urls", json!([]))).contains_key("image_urls"));
    for id in [T2V, T2V_STABLE, PRO_T2V] {
        one(id, with(id, "image_urls", urls(1)), "image_urls", "unknown_field");
    }
}

#[test]
fn image_url_schemes() {
    for id in [I2V, I2V_STABLE, PRO_I2V, STORYBOARD] {
        ok(id, with(id, "image_urls", json!(["http://example.com/a.png"])));
        ok(id, with(id, "image_urls", json!(["https://example.com/b.webp"])));
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
            let msg = one(id, with(id, "image_urls", json!([wrong])), "image_urls[0]", "bad_url");
            assert_eq!(
                msg,
                format!("Image link 1 must be a full web link starting with https:// or http://; got \"{wrong}\".")
            );
        }
        one(id, with(id, "image_urls", json!([5])), "image_urls[0]", "wrong_type");
        one(id, with(id, "image_urls", json!([" "])), "image_urls[0]", "required");
        let long = format!("https://example.com/{}.png", "a".repeat(2000));
        one(id, with(id, "image_urls", json!([long])), "image_urls[0]", "too_long");
        // A second link is one too many, and still checked on its own, by its number.
        let problems = bad(id, with(id, "image_urls", json!([IMG, "ftp://example.com/b.png"])));
        assert_eq!(pairs(&problems), [("image_urls", "too_many"), ("image_urls[1]", "bad_url")], "{id}");
        assert!(problems[1].message.starts_with("Image link 2 must be a full web link"), "{problems:#?}");
    }
}

#[test]
fn image_file_types_by_extension() {
    for id in [I2V, I2V_STABLE, PRO_I2V, STORYBOARD] {
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
    // Shots that fill each length exactly, none longer than 15 s; the last lasts 5 s.
    let filled: [(&str, f64, &[f64]); 3] =
        [("10", 10.0, &[5.0, 5.0]), ("15", 15.0, &[10.0, 5.0]), ("25", 25.0, &[15.0, 5.0, 5.0])];
    for (n, whole, fits) in filled {
        let out = ok(STORYBOARD, storyboard(n, fits));
        assert_eq!(out["shots"][fits.len() - 1]["duration"], json!(5), "whole numbers stay whole");
        ok(STORYBOARD, storyboard(n, &[whole / 4.0; 4]));
        let mut over = fits.to_vec();
        *over.last_mut().unwrap() += 0.5;
        let msg = one(STORYBOARD, storyboard(n, &over), "shots", "sum_too_large");
        assert_eq!(
            msg,
            format!(
                "Shots last {} s in total, but the video is {n} s long: shorten a shot or choose a longer length.",
                whole + 0.5
            )
        );
    }
    // The default length is 15 s: 15 s of shots fit, 16 s do not.
    let mut input = storyboard("15", &[7.5, 7.5]);
    input.remove("n_frames");
    ok(STORYBOARD, input);
    let mut input = storyboard("15", &[8.0, 8.0]);
    input.remove("n_frames");
    let msg = one(STORYBOARD, input, "shots", "sum_too_large");
    assert_eq!(msg, "Shots last 16 s in total, but the video is 15 s long: shorten a shot or choose a longer length.");
    // The brief's example.
    let msg = one(STORYBOARD, storyboard("15", &[10.0, 8.0]), "shots", "sum_too_large");
    assert_eq!(msg, "Shots last 18 s in total, but the video is 15 s long: shorten a shot or choose a longer length.");
}

#[test]
fn storyboard_shot_fields() {
    // Each shot lasts 0.1 to 15 s (Kie's last docs), both ends included.
    let shot = |d: Value| obj(json!({"n_frames": "25", "shots": [{"Scene": "A", "duration": d}]}));
    ok(STORYBOARD, shot(json!(0.1)));
    ok(STORYBOARD, shot(json!(15)));
    let msg = one(STORYBOARD, shot(json!(0.05)), "shots[0].duration", "out_of_range");
    assert_eq!(msg, "Shot 1 duration must be at least 0.1 s; got 0.05 s.");
    let msg = one(STORYBOARD, shot(json!(0)), "shots[0].duration", "out_of_range");
    assert_eq!(msg, "Shot 1 duration must be at least 0.1 s; got 0 s.");
    one(STORYBOARD, shot(json!(-2)), "shots[0].duration", "out_of_range");
    let msg = one(STORYBOARD, shot(json!(15.5)), "shots[0].duration", "out_of_range");
    assert_eq!(msg, "Shot 1 duration must be at most 15 s; got 15.5 s.");
    let msg = one(STORYBOARD, shot(json!("soon")), "shots[0].duration", "wrong_type");
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
    // Just past the longest shot, and so past the length: still one problem.
    let problems = bad(STORYBOARD, storyboard("15", &[15.5]));
    assert_eq!(pairs(&problems), [("shots[0].duration", "out_of_range")]);
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
    for (id, field, max, message) in [
        (CHARACTERS, "origin_task_id", 100, "Source video is too long: 101 characters, the limit is 100."),
        (
            CHARACTERS,
            "character_prompt",
            5000,
            "Character description is too long: 5,001 characters, the limit is 5,000.",
        ),
        (
            CHARACTERS,
            "safety_instruction",
            5000,
            "Safety instruction is too long: 5,001 characters, the limit is 5,000.",
        ),
        (CHARACTERS, "character_user_name", 40, "Handle is too long: 41 characters, the limit is 40."),
        (
            CLIP_CHARACTERS,
            "character_prompt",
            5000,
            "Character description is too long: 5,001 characters, the limit is 5,000.",
        ),
        (
            CLIP_CHARACTERS,
            "safety_instruction",
            5000,
            "Safety instruction is too long: 5,001 characters, the limit is 5,000.",
        ),
    ] {
        ok(id, with(id, field, json!("a".repeat(max))));
        assert_eq!(one(id, with(id, field, json!("a".repeat(max + 1))), field, "too_long"), message, "{id}");
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
    // Required in Kie's last docs.
    let msg = one(CHARACTERS, without(CHARACTERS, "timestamps"), "timestamps", "required");
    assert_eq!(msg, "Time slice is required.");
    one(CHARACTERS, with(CHARACTERS, "timestamps", Value::Null), "timestamps", "required");
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

#[test]
fn character_from_exactly_one_clip() {
    let id = CLIP_CHARACTERS;
    let clips = |n: usize| json!((0..n).map(|i| format!("https://example.com/clips/{i}.mp4")).collect::<Vec<_>>());
    assert_eq!(ok(id, with(id, "character_file_url", clips(1)))["character_file_url"], clips(1));
    let msg = one(id, with(id, "character_file_url", clips(2)), "character_file_url", "too_many");
    assert_eq!(msg, "Clip: 2 given, the limit is 1.");
    let msg = one(id, with(id, "character_file_url", json!([])), "character_file_url", "too_few");
    assert_eq!(msg, "Clip: none given, at least 1 needed.");
    one(id, without(id, "character_file_url"), "character_file_url", "required");
    // One link on its own is a list of one.
    assert_eq!(ok(id, with(id, "character_file_url", json!(CLIP)))["character_file_url"], json!([CLIP]));
    for good in ["https://example.com/a.MP4", "http://example.com/a.webm", "https://example.com/a.avi"] {
        ok(id, with(id, "character_file_url", json!([good])));
    }
    for wrong in ["https://example.com/a.mov", "https://example.com/a.png"] {
        one(id, with(id, "character_file_url", json!([wrong])), "character_file_url[0]", "bad_file_type");
    }
    one(id, with(id, "character_file_url", json!(["ftp://example.com/a.mp4"])), "character_file_url[0]", "bad_url");
    // It takes a clip, not a finished task.
    one(id, with(id, "origin_task_id", json!("task_123")), "origin_task_id", "unknown_field");
    one(id, with(id, "timestamps", json!("2,5")), "timestamps", "unknown_field");
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
    for id in SORA {
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
    one(
        CLIP_CHARACTERS,
        with(CLIP_CHARACTERS, "character_file_url", json!({"url": CLIP})),
        "character_file_url",
        "wrong_type",
    );
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

    // Two pictures where one is allowed, each bad in its own way: all of it at once.
    let problems = bad(I2V, obj(json!({"image_urls": ["ftp://x/a.png", "https://x.example/b.gif"]})));
    assert_eq!(
        pairs(&problems),
        [
            ("prompt", "required"),
            ("image_urls", "too_many"),
            ("image_urls[0]", "bad_url"),
            ("image_urls[1]", "bad_file_type")
        ]
    );

    let problems = bad(CHARACTERS, obj(json!({"character_prompt": "a".repeat(5001), "timestamps": "2,8"})));
    assert_eq!(
        pairs(&problems),
        [("origin_task_id", "required"), ("character_prompt", "too_long"), ("timestamps", "out_of_range")]
    );

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
        assert_eq!(price(id, json!({"n_frames": null})), Some(30.0), "null is absent: the default");
        // A length given but not allowed has no price: it does not fall back to the default.
        assert_eq!(price(id, json!({"n_frames": "20"})), None);
    }
    for id in STABLE {
        assert_eq!(price(id, json!({})), Some(35.0), "default is 10 s");
        assert_eq!(price(id, json!({"n_frames": "10"})), Some(35.0));
        assert_eq!(price(id, json!({"n_frames": "15"})), Some(40.0));
        assert_eq!(price(id, json!({"n_frames": "20"})), None);
    }
    // The defaults differ: Pro text to video starts at high quality, image to video at standard.
    assert_eq!(price(PRO_T2V, json!({})), Some(330.0));
    assert_eq!(price(PRO_T2V, json!({"n_frames": "15"})), Some(630.0));
    assert_eq!(price(PRO_I2V, json!({})), Some(150.0));
    assert_eq!(price(PRO_I2V, json!({"n_frames": "15"})), Some(270.0));
    for id in PRO {
        assert_eq!(price(id, json!({"n_frames": "10", "size": "standard"})), Some(150.0));
        assert_eq!(price(id, json!({"n_frames": "15", "size": "standard"})), Some(270.0));
        assert_eq!(price(id, json!({"size": "standard"})), Some(150.0));
        assert_eq!(price(id, json!({"n_frames": "10", "size": "high"})), Some(330.0));
        assert_eq!(price(id, json!({"n_frames": "15", "size": "high"})), Some(630.0));
        assert_eq!(price(id, json!({"size": "high"})), Some(330.0));
        assert_eq!(price(id, json!({"n_frames": "15", "size": "High (1080p)"})), Some(630.0));
        // Given but not allowed: no price, whichever the default is.
        assert_eq!(price(id, json!({"size": "ultra"})), None);
        assert_eq!(price(id, json!({"n_frames": "20", "size": "standard"})), None);
    }
    assert_eq!(price(STORYBOARD, json!({})), Some(270.0), "default is 15 s");
    assert_eq!(price(STORYBOARD, json!({"n_frames": "10"})), Some(150.0));
    assert_eq!(price(STORYBOARD, json!({"n_frames": "15"})), Some(270.0));
    assert_eq!(price(STORYBOARD, json!({"n_frames": "25"})), Some(450.0));
    assert_eq!(price(STORYBOARD, json!({"n_frames": "20"})), None, "no fall back to the default");
    assert_eq!(price(REMOVER, json!({})), Some(10.0));
    assert_eq!(price(CHARACTERS, json!({})), Some(10.0));
    assert_eq!(price(CLIP_CHARACTERS, json!({})), Some(10.0));
    // On the normalized output too.
    let out = ok(PRO_T2V, obj(json!({"prompt": "x", "n_frames": 15, "size": "high"})));
    assert_eq!(spec(PRO_T2V).estimate_credits(&out), Some(630.0));
    let out = ok(PRO_I2V, obj(json!({"prompt": "x", "image_urls": IMG, "n_frames": 15})));
    assert_eq!(spec(PRO_I2V).estimate_credits(&out), Some(270.0));
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
    assert_eq!(credits_to_usd(35.0), 0.175);
    assert_eq!(credits_to_usd(40.0), 0.2);
    assert_eq!(credits_to_usd(450.0), 2.25);
}

// ---- adding a model is data ----

/// A made-up model, added as JSON. Its id is not the built-in `veo3_fast`.
const ADDED: &str = "test/veo3-fast";

fn fixture_json() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/catalogue/veo3-fast.json"))
        .expect("fixture")
}

fn fixture() -> Catalogue {
    Catalogue::from_json(&fixture_json()).expect("the fixture is a valid catalogue")
}

#[test]
fn a_model_added_as_json_validates_without_new_code() {
    let mut catalogue = Catalogue::builtin().clone();
    let builtin = catalogue.models.len();
    assert_eq!(builtin, 25);
    catalogue.extend(fixture()).unwrap();
    assert_eq!(catalogue.models.len(), builtin + 1);
    let veo = catalogue.model(ADDED).expect("added");
    assert_eq!(veo.family, "Test", "a family is data too");
    assert_eq!(veo.pricing.as_ref().map(|p| p.source.as_str()), Some("Made up for the test"));
    assert!(catalogue.model(T2V).is_some(), "the built-in models stay");
    assert_eq!(catalogue.model("veo3_fast").map(|m| m.family.as_str()), Some("Veo"), "the built-in Veo stays");

    let out = validate(veo, &obj(json!({"prompt": " A lighthouse in a storm. ", "seed": "12345"}))).unwrap();
    assert_eq!(
        Value::Object(out.clone()),
        json!({"prompt": "A lighthouse in a storm.", "resolution": "720p", "seed": 12345})
    );
    assert_eq!(veo.estimate_credits(&out), Some(60.0));
    assert_eq!(veo.estimate_credits(&obj(json!({"resolution": "1080p"}))), Some(80.0));
    assert_eq!(veo.estimate_credits(&obj(json!({"resolution": "4k"}))), None, "no fall back to the default");
    assert!(veo.price_is_estimate());

    let out = catalogue
        .validate(ADDED, &obj(json!({"prompt": "x", "resolution": "1080P", "image_urls": ["https://e.example/a.jpg"]})))
        .unwrap();
    assert_eq!(out["resolution"], "1080p");
    // Both ends of its limits.
    let two = json!(["https://e.example/a.jpg", "https://e.example/b.png"]);
    catalogue.validate(ADDED, &obj(json!({"prompt": "a".repeat(2000), "image_urls": two, "seed": 99999}))).unwrap();
    catalogue.validate(ADDED, &obj(json!({"prompt": "x", "seed": 10000}))).unwrap();

    let problems = catalogue
        .validate(
            ADDED,
            &obj(json!({
                "prompt": "a".repeat(2001),
                "resolution": "4k",
                "image_urls": ["https://e.example/a.webp", "https://e.example/b.png", "https://e.example/c.png"],
                "seed": 5.5,
                "n_frames": "10",
            })),
        )
        .unwrap_err();
    assert_eq!(
        pairs(&problems),
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
    let problems = validate(veo, &obj(json!({"prompt": "x", "seed": 100_000}))).unwrap_err();
    assert_eq!(pairs(&problems), [("seed", "out_of_range")]);

    // Adding it twice is refused, and changes nothing.
    assert!(catalogue.extend(fixture()).is_err());
    assert_eq!(catalogue.models.len(), builtin + 1);
    // So is an added model with a built-in model's id.
    let clash = Catalogue::from_json(&fixture_json().replace(ADDED, "veo3_fast")).expect("valid on its own");
    assert!(catalogue.extend(clash).is_err());
    assert_eq!(catalogue.models.len(), builtin + 1);
    assert_eq!(catalogue.model("veo3_fast").map(|m| m.family.as_str()), Some("Veo"), "the built-in is kept");
}

#[test]
fn a_broken_added_model_is_refused() {
    let json = fixture_json();
    let broken = json.replace("\"default\": \"720p\"", "\"default\": \"480p\"");
    assert_ne!(broken, json);
    let err = Catalogue::from_json(&broken).unwrap_err();
    assert!(err.to_string().contains("resolution"), "{err}");

    // The family and the price's source are required.
    let no_family = json.replace("\"family\": \"Test\",", "");
    assert_ne!(no_family, json);
    let err = Catalogue::from_json(&no_family).unwrap_err();
    assert!(err.to_string().contains("family"), "{err}");
    let blank_family = json.replace("\"family\": \"Test\"", "\"family\": \" \"");
    let err = Catalogue::from_json(&blank_family).unwrap_err();
    assert!(err.to_string().contains("family"), "{err}");
    let no_source = json.replace("\"source\": \"Made up for the test\",", "");
    assert_ne!(no_source, json);
    let err = Catalogue::from_json(&no_source).unwrap_err();
    assert!(err.to_string().contains("source"), "{err}");
    let blank_source = json.replace("\"source\": \"Made up for the test\"", "\"source\": \"\"");
    let err = Catalogue::from_json(&blank_source).unwrap_err();
    assert!(err.to_string().contains("source"), "{err}");
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
