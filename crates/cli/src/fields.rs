//! A model's input from `--field value` pairs: list fields collect repeated flags, a JSON
//! array or object is read as JSON, a library task number given as `origin_task_id` stands
//! for its Kie id, and a local file given for a link that takes one (the catalogue's
//! `limits.media`: an image, a clip or a sound; a link, a list of links, or one inside a
//! list of groups given as JSON) is handled as the app handles a picked file: checked by its
//! bytes against the field's limits, kept in the library, uploaded, and its link put in its
//! place.

use std::path::PathBuf;

use kie::catalogue::{FieldSpec, FieldType, ModelSpec};
use kie::validate::Problem;
use serde_json::{Map, Value};
use studio::uploads::MediaField;
use studio::{App, Studio, StudioError};

use crate::models::unknown_model;
use crate::tasks;

pub async fn parse(
    app: &App,
    studio: &Studio,
    model: &str,
    args: &[String],
) -> Result<Map<String, Value>, StudioError> {
    let spec = studio.catalogue().model(model).ok_or_else(|| unknown_model(model))?;
    let mut input = Map::new();
    let mut problems = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let Some(name) = arg.strip_prefix("--") else {
            problems.push(Problem::new(
                arg.as_str(),
                "bad_format",
                format!("Expected --<field> <value>, got {arg:?}. See `kie models {model}`."),
            ));
            continue;
        };
        let (name, inline) = match name.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (name.to_string(), None),
        };
        // Accept --n-frames for n_frames.
        let name = if spec.field(&name).is_none() && spec.field(&name.replace('-', "_")).is_some() {
            name.replace('-', "_")
        } else {
            name
        };
        let Some(raw) = inline.or_else(|| it.next().cloned()) else {
            problems.push(Problem::new(&name, "required", format!("--{name} needs a value.")));
            continue;
        };
        let mut value = parse_value(&raw);
        if spec.field(&name).is_some_and(|f| f.kind == FieldType::List) {
            let list = input.entry(name).or_insert_with(|| Value::Array(Vec::new()));
            match (list, value) {
                (Value::Array(items), Value::Array(more)) => items.extend(more),
                (Value::Array(items), v) => items.push(v),
                _ => {}
            }
            continue;
        }
        if name == "origin_task_id" {
            if let Value::String(reference) = &value {
                if let Ok(Some(kie_id)) = tasks::find(app, reference).await.map(|t| t.kie_task_id) {
                    value = Value::String(kie_id);
                }
            }
        }
        input.insert(name, value);
    }
    if !problems.is_empty() {
        return Err(StudioError::InvalidInput(problems));
    }
    upload_local_files(studio, spec, &mut input).await?;
    Ok(input)
}

fn parse_value(raw: &str) -> Value {
    let t = raw.trim();
    if (t.starts_with('[') && t.ends_with(']')) || (t.starts_with('{') && t.ends_with('}')) {
        if let Ok(v) = serde_json::from_str(t) {
            return v;
        }
    }
    Value::String(raw.to_string())
}

/// A value that names a local file rather than a link: `file://…`, or anything without a
/// scheme.
fn local_path(s: &str) -> Option<PathBuf> {
    match s.strip_prefix("file://") {
        Some(path) => Some(PathBuf::from(path)),
        None if s.contains("://") => None,
        None => Some(PathBuf::from(s)),
    }
}

/// A local file given for a link that takes one: where its link goes, and its field (its
/// path naming the row, e.g. `reference_video_urls[1]`).
struct Slot<'a> {
    field: MediaField,
    file: PathBuf,
    value: &'a mut Value,
}

/// The local files in `value`, the value of `field` at `path`: a link or a list of links
/// that takes files, or such a field inside groups and lists of groups.
fn local_files<'a>(field: &FieldSpec, path: String, value: &'a mut Value, out: &mut Vec<Slot<'a>>) {
    if let Some(media) = MediaField::of(field, &path) {
        let mut slot = |path: String, value: &'a mut Value| {
            if let Some(file) = value.as_str().and_then(local_path) {
                out.push(Slot {
                    field: MediaField { path, list: false, multiple: false, ..media.clone() },
                    file,
                    value,
                });
            }
        };
        if !media.list {
            slot(path, value);
        } else if let Value::Array(items) = value {
            for (i, v) in items.iter_mut().enumerate() {
                slot(format!("{path}[{i}]"), v);
            }
        }
        return;
    }
    match (field.kind, value) {
        (FieldType::List, Value::Array(items)) => {
            if let Some(item) = field.items.as_deref() {
                for (i, v) in items.iter_mut().enumerate() {
                    local_files(item, format!("{path}[{i}]"), v, out);
                }
            }
        }
        (FieldType::Object, Value::Object(map)) => {
            for (name, v) in map.iter_mut() {
                if let Some(sub) = field.field(name) {
                    local_files(sub, format!("{path}.{name}"), v, out);
                }
            }
        }
        _ => {}
    }
}

/// Every local file in `input` is checked (all of them, every problem at once, before any
/// is uploaded), kept in the library and uploaded, with the app's own code; its link takes
/// its place.
async fn upload_local_files(
    studio: &Studio,
    spec: &ModelSpec,
    input: &mut Map<String, Value>,
) -> Result<(), StudioError> {
    let mut slots = Vec::new();
    for (name, value) in input.iter_mut() {
        if let Some(field) = spec.field(name) {
            local_files(field, name.clone(), value, &mut slots);
        }
    }
    if slots.is_empty() {
        return Ok(());
    }
    let wanted: Vec<(MediaField, PathBuf)> = slots.iter().map(|s| (s.field.clone(), s.file.clone())).collect();
    let checked = tokio::task::spawn_blocking(move || {
        let mut ok = Vec::new();
        let mut problems = Vec::new();
        for (field, file) in &wanted {
            match field.check(file) {
                Ok(c) => ok.push(c),
                Err(p) => problems.push(p),
            }
        }
        if problems.is_empty() {
            Ok(ok)
        } else {
            Err(StudioError::InvalidInput(problems))
        }
    })
    .await
    .map_err(|e| StudioError::Internal(format!("Checking the files failed: {e}")))??;
    for (slot, file) in slots.into_iter().zip(&checked) {
        if let Some(note) = &file.note {
            eprintln!("Note: {note}");
        }
        eprintln!("Uploading {} …", file.name);
        let up = studio.uploads().upload(&slot.field, file, |_| {}).await?;
        *slot.value = Value::String(up.url);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_paths() {
        assert_eq!(parse_value(" [1, 2] "), serde_json::json!([1, 2]));
        assert_eq!(parse_value("[not json"), Value::String("[not json".into()));
        assert_eq!(local_path("./me.png"), Some(PathBuf::from("./me.png")));
        assert_eq!(local_path("file:///tmp/me.png"), Some(PathBuf::from("/tmp/me.png")));
        assert_eq!(local_path("https://example.com/me.png"), None);
    }

    #[test]
    fn links_that_take_files_anywhere_in_the_input() {
        let cat = kie::catalogue::Catalogue::from_json(
            r#"{"models": [{"id": "t/m", "name": "M", "summary": "S.", "output": "video", "family": "T", "fields": [
              {"name": "clip_url", "label": "Clip", "type": "url", "widget": "url", "limits": {"media": "video"}},
              {"name": "image_urls", "label": "Images", "type": "list", "widget": "url_list",
               "items": {"label": "Image", "type": "url", "widget": "url", "limits": {"media": "image"}}},
              {"name": "link", "label": "Link", "type": "url", "widget": "url"},
              {"name": "groups", "label": "Groups", "type": "list", "widget": "object_list",
               "items": {"label": "Group", "type": "object", "widget": "group", "fields": [
                 {"name": "name", "label": "Name", "type": "text", "widget": "text"},
                 {"name": "pics", "label": "Pictures", "type": "list", "widget": "url_list",
                  "items": {"label": "Picture", "type": "url", "widget": "url", "limits": {"media": "image"}}}]}}
            ]}]}"#,
        )
        .unwrap();
        let spec = cat.model("t/m").unwrap();
        let mut input: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "clip_url": "./clip.mp4",
            "image_urls": ["https://example.com/a.png", "file:///tmp/b.png"],
            "link": "./not-a-file-field.png",
            "groups": [{"name": "./no", "pics": ["c.png", "https://example.com/d.png"]}]
        }))
        .unwrap();
        let mut slots = Vec::new();
        for (name, value) in input.iter_mut() {
            local_files(spec.field(name).unwrap(), name.clone(), value, &mut slots);
        }
        let mut found: Vec<(String, String, String, bool)> = slots
            .iter()
            .map(|s| (s.field.path.clone(), s.field.label.clone(), s.file.display().to_string(), s.field.multiple))
            .collect();
        found.sort();
        let want = |p: &str, l: &str, f: &str| (p.to_string(), l.to_string(), f.to_string(), false);
        assert_eq!(
            found,
            [
                want("clip_url", "Clip", "./clip.mp4"),
                want("groups[0].pics[0]", "Pictures", "c.png"),
                want("image_urls[1]", "Images", "/tmp/b.png"),
            ]
        );
    }

    #[test]
    fn built_in_file_fields_take_local_files() {
        let cat = kie::catalogue::Catalogue::builtin();
        let fields = |model: &str| -> Vec<String> {
            let spec = cat.model(model).unwrap();
            spec.fields.iter().filter(|f| MediaField::of(f, &f.name).is_some()).map(|f| f.name.clone()).collect()
        };
        assert_eq!(fields("sora-2-image-to-video"), ["image_urls"]);
        assert!(fields("sora-watermark-remover").is_empty(), "a Sora video link is never a local file");
        assert!(fields("sora-2-text-to-video").is_empty());
    }
}
