//! A model's input from `--field value` pairs: list fields collect repeated flags, a JSON
//! array or object is read as JSON, a library task number given as `origin_task_id` stands
//! for its Kie id, and a local file given for a link that takes one (the catalogue's
//! `limits.media`: an image, a clip or a sound; a link, a list of links, or one inside a
//! list of groups given as JSON) is handled as the app handles a picked file: checked by its
//! bytes against the field's limits, kept in the library, uploaded, and its link put in its
//! place.

use kie::catalogue::{FieldType, ModelSpec};
use kie::validate::Problem;
use serde_json::{Map, Value};
use studio::uploads::local_files;
use studio::{App, Studio, StudioError};

use crate::models::unknown_model;
use crate::tasks;

pub async fn parse(
    app: &App,
    studio: &Studio,
    model: &str,
    args: &[String],
) -> Result<Map<String, Value>, StudioError> {
    let mut input = parse_given(app, studio, model, args).await?;
    let spec = studio.catalogue().model(model).ok_or_else(|| unknown_model(model))?;
    upload_local_files(studio, spec, &mut input).await?;
    Ok(input)
}

/// The values as given, local files left as paths (a preset keeps them so, and they are
/// uploaded when it is used).
pub async fn parse_given(
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

/// Every local file in `input` is checked (all of them, every problem at once, before any
/// is uploaded), kept in the library and uploaded, with the app's own code; its link takes
/// its place.
pub async fn upload_local_files(
    studio: &Studio,
    spec: &ModelSpec,
    input: &mut Map<String, Value>,
) -> Result<(), StudioError> {
    let mut done = local_files::Uploaded::new();
    local_files::upload(studio, spec, input, &mut done, &|line: &str| eprintln!("{line}")).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use studio::uploads::MediaField;

    #[test]
    fn values() {
        assert_eq!(parse_value(" [1, 2] "), serde_json::json!([1, 2]));
        assert_eq!(parse_value("[not json"), Value::String("[not json".into()));
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
