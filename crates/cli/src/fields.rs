//! A model's input from `--field value` pairs: list fields collect repeated flags, a JSON
//! array or object is read as JSON, a library task number given as `origin_task_id` stands
//! for its Kie id, and a local image given for an image link is handled as the app handles
//! a picked image: checked by its bytes, kept in the library, uploaded.

use std::path::PathBuf;

use kie::catalogue::{FieldSpec, FieldType};
use kie::validate::Problem;
use serde_json::{Map, Value};
use studio::{uploads, App, Studio, StudioError};

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
    for field in spec.fields.iter().filter(|f| takes_local_images(f)) {
        if let Some(value) = input.get_mut(&field.name) {
            upload_local_images(studio, value).await?;
        }
    }
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

/// A link to an image Kie fetches (a size limit for uploaders), or a list of them.
fn takes_local_images(f: &FieldSpec) -> bool {
    let link = |f: &FieldSpec| f.kind == FieldType::Url && f.limits.max_file_mb.is_some();
    link(f) || (f.kind == FieldType::List && f.items.as_deref().is_some_and(link))
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

/// Every local file in `value` (a link or a list of links) is checked (all of them before
/// any is uploaded), kept in the library and uploaded, with the app's own code; its link
/// takes its place.
async fn upload_local_images(studio: &Studio, value: &mut Value) -> Result<(), StudioError> {
    let slots: Vec<&mut Value> = match value {
        Value::Array(items) => items.iter_mut().collect(),
        one => vec![one],
    };
    let mut local: Vec<(&mut Value, PathBuf)> =
        slots.into_iter().filter_map(|v| local_path(v.as_str()?).map(|p| (v, p))).collect();
    if local.is_empty() {
        return Ok(());
    }
    let paths: Vec<PathBuf> = local.iter().map(|(_, p)| p.clone()).collect();
    let images = tokio::task::spawn_blocking(move || uploads::check_images(&paths))
        .await
        .map_err(|e| StudioError::Internal(format!("Checking the images failed: {e}")))??;
    for ((slot, _), img) in local.iter_mut().zip(&images) {
        eprintln!("Uploading {} …", img.name);
        let up = studio.uploads().upload_image(img, |_| {}).await?;
        **slot = Value::String(up.url);
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
    fn only_image_links_take_local_files() {
        let cat = kie::catalogue::Catalogue::builtin();
        let fields = |model: &str| -> Vec<String> {
            let spec = cat.model(model).unwrap();
            spec.fields.iter().filter(|f| takes_local_images(f)).map(|f| f.name.clone()).collect()
        };
        assert_eq!(fields("sora-2-image-to-video"), ["image_urls"]);
        assert!(fields("sora-watermark-remover").is_empty(), "a Sora video link is never a local file");
        assert!(fields("sora-2-text-to-video").is_empty());
    }
}
