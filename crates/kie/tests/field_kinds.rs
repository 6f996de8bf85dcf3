//! The catalogue's field, rule and price kinds on a small made-up model, each from both
//! sides: what it accepts, what it refuses, with which message, and what goes on the wire.

use kie::catalogue::Catalogue;
use kie::validate::{hidden_fields, mention_offers, validate, Problem};
use serde_json::{json, Map, Value};

fn model() -> Catalogue {
    let json = json!({"models": [{
        "id": "test/clip", "name": "Test clip", "summary": "A model made up for tests.", "output": "video",
        "family": "Test",
        "fields": [
            {"name": "prompt", "label": "Prompt", "type": "text", "widget": "textarea", "limits": {"max_length": 100},
             "hide_when": {"multi_shots": true},
             "mentions": [{"from": "items", "list": "elements", "key": "name"},
                          {"from": "numbered", "list": "image_urls", "prefix": "image"}]},
            {"name": "image_urls", "label": "Images", "type": "list", "widget": "url_list", "limits": {"max_items": 2},
             "items": {"label": "Image", "type": "url", "widget": "url", "limits": {"media": "image", "file_types": ["png"]}}},
            {"name": "first_frame_url", "label": "First frame", "type": "url", "widget": "url"},
            {"name": "reference_urls", "label": "References", "type": "list", "widget": "url_list",
             "items": {"label": "Reference", "type": "url", "widget": "url"}},
            {"name": "duration", "label": "Length", "type": "integer", "widget": "number", "unit": "s",
             "default": 5, "send_as": "string", "limits": {"min": 4, "max": 15}},
            {"name": "steps", "label": "Steps", "type": "integer", "widget": "number", "send_as": "number",
             "limits": {"min": 1, "max": 3}},
            {"name": "resolution", "label": "Resolution", "type": "choice", "widget": "select", "default": "720p",
             "options": [{"value": "720p", "label": "720p"}, {"value": "1080p", "label": "1080p"}]},
            {"name": "sound", "label": "Sound", "type": "boolean", "widget": "toggle", "default": false},
            {"name": "multi_shots", "label": "Several shots", "type": "boolean", "widget": "toggle", "default": false},
            {"name": "shots", "label": "Shots", "type": "list", "widget": "object_list", "limits": {"max_items": 3},
             "show_when": {"multi_shots": true},
             "items": {"label": "Shot", "type": "object", "widget": "group", "fields": [
                 {"name": "prompt", "label": "Prompt", "type": "text", "widget": "text", "required": true},
                 {"name": "duration", "label": "Length", "type": "integer", "widget": "number", "unit": "s",
                  "required": true, "limits": {"min": 1, "max": 12}}]}},
            {"name": "elements", "label": "Elements", "type": "list", "widget": "object_list",
             "items": {"label": "Element", "type": "object", "widget": "group", "fields": [
                 {"name": "name", "label": "Name", "type": "text", "widget": "text", "required": true}]}},
            {"name": "task_id", "label": "Task", "type": "text", "widget": "text"}
        ],
        "rules": [
            {"kind": "sum_at_most", "list": "shots", "item_key": "duration", "limit_field": "duration"},
            {"kind": "refuse", "when": {"resolution": "1080p", "image_urls": {"min_items": 2}},
             "message": "1080p takes at most 1 image.", "field": "image_urls"},
            {"kind": "refuse", "when": {"multi_shots": true, "sound": false}, "message": "Several shots need sound."},
            {"kind": "exclusive", "groups": [["first_frame_url"], ["reference_urls"]]},
            {"kind": "at_least_one", "fields": ["prompt", "shots"]}
        ],
        "pricing": {"source": "made up", "seconds_field": "duration", "rules": [
            {"when": {"resolution": "1080p", "sound": true}, "credits": 10, "per_second": 3},
            {"when": {"resolution": "1080p"}, "per_second": 2},
            {"when": {"duration": {"max": 5}}, "credits": 7},
            {"per_second": 1.5}
        ]}
    }]});
    Catalogue::from_json(&json.to_string()).unwrap()
}

fn input(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn problems(v: Value) -> Vec<Problem> {
    let cat = model();
    validate(&cat.models[0], &input(v)).err().unwrap_or_default()
}

fn sent(v: Value) -> Map<String, Value> {
    let cat = model();
    validate(&cat.models[0], &input(v)).unwrap()
}

fn rules(v: Value) -> Vec<(String, String)> {
    problems(v).into_iter().map(|p| (p.field, p.rule)).collect()
}

#[test]
fn numbers_go_out_as_the_type_kie_wants() {
    let s = sent(json!({"prompt": "a fox", "duration": 10, "steps": "2"}));
    assert_eq!(s["duration"], json!("10"), "send_as string");
    assert_eq!(s["steps"], json!(2), "send_as number, even when typed as text");
    assert_eq!(sent(json!({"prompt": "a"}))["duration"], json!(5), "a default is sent as written");
    assert_eq!(rules(json!({"prompt": "a", "duration": 16})), [("duration".into(), "out_of_range".into())]);
    assert!(problems(json!({"prompt": "a", "duration": 15})).is_empty());
    assert_eq!(rules(json!({"prompt": "a", "duration": 4.5})), [("duration".into(), "wrong_type".into())]);
}

#[test]
fn fields_shown_only_when_another_has_a_value() {
    let cat = model();
    let spec = &cat.models[0];
    assert_eq!(hidden_fields(spec, &input(json!({}))), ["shots"]);
    assert_eq!(hidden_fields(spec, &input(json!({"multi_shots": true}))), ["prompt"]);
    // Hidden: a leftover value is neither checked nor sent.
    let s = sent(json!({"prompt": "a", "shots": "rubbish"}));
    assert!(!s.contains_key("shots"));
    let s = sent(json!({"multi_shots": true, "sound": true, "prompt": "left over",
                        "shots": [{"prompt": "one", "duration": 2}]}));
    assert!(!s.contains_key("prompt"));
    assert_eq!(s["shots"][0]["duration"], json!(2));
}

#[test]
fn group_lists_have_item_limits_and_a_budget() {
    let ok = json!({"multi_shots": true, "sound": true, "duration": 10,
                    "shots": [{"prompt": "a", "duration": 6}, {"prompt": "b", "duration": 4}]});
    assert!(problems(ok).is_empty());
    let over = json!({"multi_shots": true, "sound": true, "duration": 10,
                      "shots": [{"prompt": "a", "duration": 6}, {"prompt": "b", "duration": 5}]});
    let p = problems(over);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!((p[0].field.as_str(), p[0].rule.as_str()), ("shots", "sum_too_large"));
    assert!(p[0].message.contains("11 s") && p[0].message.contains("10 s"), "{}", p[0].message);
    let item = json!({"multi_shots": true, "sound": true, "duration": 15, "shots": [{"prompt": "a", "duration": 13}]});
    assert_eq!(rules(item), [("shots[0].duration".into(), "out_of_range".into())]);
    let many = json!({"multi_shots": true, "sound": true, "duration": 15,
                      "shots": [{"prompt": "a", "duration": 1}, {"prompt": "a", "duration": 1},
                                {"prompt": "a", "duration": 1}, {"prompt": "a", "duration": 1}]});
    assert_eq!(rules(many), [("shots".into(), "too_many".into())]);
}

#[test]
fn combinations_kie_refuses() {
    assert!(problems(json!({"prompt": "a", "resolution": "1080p", "image_urls": ["https://x/a.png"]})).is_empty());
    let p =
        problems(json!({"prompt": "a", "resolution": "1080p", "image_urls": ["https://x/a.png", "https://x/b.png"]}));
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].field.as_str(), p[0].rule.as_str()), ("image_urls", "not_allowed_together"));
    assert_eq!(p[0].message, "1080p takes at most 1 image.");
    assert!(problems(
        json!({"prompt": "a", "resolution": "720p", "image_urls": ["https://x/a.png", "https://x/b.png"]})
    )
    .is_empty());
    // A default counts: sound is off unless turned on.
    assert_eq!(
        rules(json!({"multi_shots": true, "shots": [{"prompt": "a", "duration": 2}]})),
        [("multi_shots".into(), "not_allowed_together".into())]
    );
}

#[test]
fn mutually_exclusive_groups() {
    assert!(problems(json!({"prompt": "a", "first_frame_url": "https://x/a.png"})).is_empty());
    assert!(problems(json!({"prompt": "a", "reference_urls": ["https://x/a.png"]})).is_empty());
    let p =
        problems(json!({"prompt": "a", "first_frame_url": "https://x/a.png", "reference_urls": ["https://x/b.png"]}));
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].rule, "not_allowed_together");
    assert!(p[0].message.contains("First frame") && p[0].message.contains("References"), "{}", p[0].message);
}

#[test]
fn at_least_one_of() {
    let p = problems(json!({}));
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!((p[0].field.as_str(), p[0].rule.as_str()), ("prompt", "required"));
    assert!(p[0].message.contains("Prompt or Shots"), "{}", p[0].message);
}

#[test]
fn mentions_name_what_exists() {
    let ok = json!({"prompt": "@hero walks to @image2.", "image_urls": ["https://x/a.png", "https://x/b.png"],
                    "elements": [{"name": "hero"}]});
    assert!(problems(ok).is_empty());
    let p = problems(json!({"prompt": "@image3 glows", "image_urls": ["https://x/a.png", "https://x/b.png"]}));
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].rule, "unknown_mention");
    assert!(p[0].message.contains("@image3") && p[0].message.contains("@image1 to @image2"), "{}", p[0].message);
    let p = problems(json!({"prompt": "@villain laughs", "elements": [{"name": "hero"}]}));
    assert_eq!(p.len(), 1);
    assert!(p[0].message.contains("@villain") && p[0].message.contains("@hero"), "{}", p[0].message);
    assert!(problems(json!({"prompt": "mail me at ann@example.com"})).is_empty(), "an e-mail is not a mention");
    let cat = model();
    let offers = mention_offers(
        &cat.models[0],
        &input(json!({"image_urls": ["https://x/a.png", ""], "elements": [{"name": "hero"}, {"name": " "}]})),
    );
    let names: Vec<&str> = offers.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["hero", "image1"]);
}

#[test]
fn prices_per_run_per_second_by_tier_and_base_plus_per_second() {
    let cat = model();
    let spec = &cat.models[0];
    let price = |v: Value| spec.estimate_credits(&input(v));
    assert_eq!(price(json!({"resolution": "1080p", "sound": true, "duration": 10})), Some(40.0), "base + per second");
    assert_eq!(price(json!({"resolution": "1080p", "duration": 10})), Some(20.0), "per second by tier");
    assert_eq!(price(json!({"duration": 5})), Some(7.0), "per run");
    assert_eq!(price(json!({})), Some(7.0), "defaults count");
    assert_eq!(price(json!({"duration": "7"})), Some(10.5), "a length typed as text");
    assert_eq!(spec.price_range(), Some((6.0, 55.0)));
}
