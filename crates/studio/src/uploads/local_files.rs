//! Local files given where a link is expected (`kie generate --image_urls ./me.png`, a batch's
//! CSV column of picture paths): found anywhere in an input (a link, a list of links, one
//! inside a list of groups), checked by their bytes against the field's limits, kept in the
//! library and uploaded as the app's picker does, and their links put in their place.

use std::collections::HashMap;
use std::path::PathBuf;

use kie::catalogue::{FieldSpec, FieldType, ModelSpec};
use kie::validate::Problem;
use serde_json::{Map, Value};

use super::{CheckedFile, MediaField};
use crate::error::StudioError;
use crate::studio::Studio;

/// A value that names a local file rather than a link: `file://…`, or anything without a
/// scheme.
pub fn local_path(s: &str) -> Option<PathBuf> {
    match s.strip_prefix("file://") {
        Some(path) => Some(PathBuf::from(path)),
        None if s.contains("://") => None,
        None => Some(PathBuf::from(s)),
    }
}

/// A local file given for a link that takes one: where its link goes, and its field (its
/// path naming the row, e.g. `reference_video_urls[1]`).
pub struct Slot<'a> {
    pub field: MediaField,
    pub file: PathBuf,
    pub value: &'a mut Value,
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

/// Every local file in `input`, for `spec`'s fields.
pub fn slots<'a>(spec: &ModelSpec, input: &'a mut Map<String, Value>) -> Vec<Slot<'a>> {
    let mut slots = Vec::new();
    for (name, value) in input.iter_mut() {
        if let Some(field) = spec.field(name) {
            local_files(field, name.clone(), value, &mut slots);
        }
    }
    slots
}

/// Check every local file in `input` (all of them, every problem at once). Blocking: reads
/// the files.
pub fn check(spec: &ModelSpec, input: &Map<String, Value>) -> Result<Vec<(MediaField, CheckedFile)>, Vec<Problem>> {
    let mut input = input.clone();
    let mut ok = Vec::new();
    let mut problems = Vec::new();
    for slot in slots(spec, &mut input) {
        match slot.field.check(&slot.file) {
            Ok(c) => ok.push((slot.field, c)),
            Err(p) => problems.push(p),
        }
    }
    if problems.is_empty() {
        Ok(ok)
    } else {
        Err(problems)
    }
}

/// Files already uploaded in this run, by the path given: a batch whose lines share a
/// picture uploads it once.
pub type Uploaded = HashMap<PathBuf, String>;

/// Every local file in `input` is checked (all of them, before any is uploaded), kept in the
/// library and uploaded, with the app's own code; its link takes its place. `note` hears
/// what the user should know ("Uploading me.png …", a length that could not be read).
pub async fn upload(
    studio: &Studio,
    spec: &ModelSpec,
    input: &mut Map<String, Value>,
    done: &mut Uploaded,
    note: &(dyn Fn(&str) + Send + Sync),
) -> Result<(), StudioError> {
    let (spec_owned, input_owned) = (spec.clone(), input.clone());
    let checked = tokio::task::spawn_blocking(move || check(&spec_owned, &input_owned))
        .await
        .map_err(|e| StudioError::Internal(format!("Checking the files failed: {e}")))?
        .map_err(StudioError::InvalidInput)?;
    for (slot, (_, file)) in slots(spec, input).into_iter().zip(&checked) {
        if let Some(url) = done.get(&slot.file) {
            *slot.value = Value::String(url.clone());
            continue;
        }
        if let Some(n) = &file.note {
            note(&format!("Note: {n}"));
        }
        note(&format!("Uploading {} …", file.name));
        let up = studio.uploads().upload(&slot.field, file, |_| {}).await?;
        done.insert(slot.file.clone(), up.url.clone());
        *slot.value = Value::String(up.url);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
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
        let found = slots(spec, &mut input);
        let mut found: Vec<(String, String, String, bool)> = found
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
}
