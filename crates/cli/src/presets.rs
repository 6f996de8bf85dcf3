//! `kie presets` (list, save, delete: the app's commands) and what `kie generate --preset`
//! starts from: the preset's values, the fields given over them, local files uploaded.

use serde_json::{json, Map, Value};
use studio::presets::Preset;
use studio::{App, Studio, StudioError};

use crate::args::PresetAction;
use crate::exit;
use crate::fields;
use crate::models::unknown_model;
use crate::open::{self, Need};
use crate::output::{ellipsize, Out};

pub async fn run(app: &App, out: &Out, action: Option<&PresetAction>) -> Result<i32, StudioError> {
    match action {
        None | Some(PresetAction::List) => {
            open::library(app, Need::Library).await?;
            let list = app.list_presets().await?;
            out.print(&serde_json::to_value(&list).unwrap_or_default(), || {
                if list.is_empty() {
                    return "No presets yet. `kie presets save NAME MODEL --FIELD VALUE ...` makes one.".into();
                }
                list.iter().map(line).collect::<Vec<_>>().join("\n")
            });
            Ok(exit::OK)
        }
        Some(PresetAction::Save { name, model, fields: args }) => {
            let studio = open::library(app, Need::Library).await?;
            // Kept as given: a local file stays a path, uploaded each time the preset is used.
            let input = fields::parse_given(app, &studio, model, args).await?;
            let p = app.save_preset(name.clone(), model.clone(), input).await?;
            let verb = if p.updated_at != p.created_at { "Updated" } else { "Saved" };
            out.print(&serde_json::to_value(&p).unwrap_or_default(), || format!("{verb} preset \"{}\".", p.name));
            Ok(exit::OK)
        }
        Some(PresetAction::Delete { name }) => {
            let studio = open::library(app, Need::Library).await?;
            let p = studio::presets::get_by_name(studio.db(), name)?
                .ok_or_else(|| StudioError::NotFound(format!("No preset named \"{}\".", name.trim())))?;
            let p = app.delete_preset(p.id).await?;
            out.print(&json!({"removed": p.name}), || format!("Deleted preset \"{}\".", p.name));
            Ok(exit::OK)
        }
    }
}

fn line(p: &Preset) -> String {
    let fields: Vec<String> = p
        .input
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={}", ellipsize(s, 40)),
            other => format!("{k}={}", ellipsize(&other.to_string(), 40)),
        })
        .collect();
    format!("{:<24} {:<32} {}", p.name, p.model, fields.join("  "))
}

/// `--preset NAME` (or `--preset=NAME`) given after the model's fields: clap leaves it among
/// them. Taken out, with what is left; one given before the fields too is refused.
pub fn take_flag(before: Option<&str>, fields: Vec<String>) -> Result<(Option<String>, Vec<String>), StudioError> {
    let mut preset = before.map(str::to_string);
    let mut rest = Vec::with_capacity(fields.len());
    let mut it = fields.into_iter();
    while let Some(f) = it.next() {
        let found = if f == "--preset" {
            Some(it.next().ok_or_else(|| StudioError::invalid("preset", "required", "--preset needs a name."))?)
        } else {
            f.strip_prefix("--preset=").map(str::to_string)
        };
        match found {
            Some(_) if preset.is_some() => {
                return Err(StudioError::invalid("preset", "bad_format", "Give --preset once."));
            }
            Some(name) => preset = Some(name),
            None => rest.push(f),
        }
    }
    Ok((preset, rest))
}

/// The model and input `kie generate --preset NAME [MODEL] [--FIELD VALUE ...]` sends: the
/// preset's values with the given fields over them (a given list replaces the preset's),
/// every local file uploaded. A model given must be the preset's.
pub async fn start_from(
    app: &App,
    studio: &Studio,
    name: &str,
    model: Option<&str>,
    args: &[String],
) -> Result<(String, Map<String, Value>), StudioError> {
    let Some(preset) = studio::presets::get_by_name(studio.db(), name)? else {
        let known: Vec<String> = studio::presets::list(studio.db())?.into_iter().map(|p| p.name).collect();
        let hint = if known.is_empty() {
            "There are no presets yet: `kie presets save NAME MODEL --FIELD VALUE ...` makes one.".to_string()
        } else {
            format!("The presets are: {}.", known.join(", "))
        };
        return Err(StudioError::invalid(
            "preset",
            "unknown_preset",
            format!("No preset named \"{}\". {hint}", name.trim()),
        ));
    };
    if let Some(given) = model.filter(|m| *m != preset.model) {
        return Err(StudioError::invalid(
            "model",
            "not_the_presets",
            format!(
                "Preset \"{}\" is for {}, not {given}. Leave the model out to use the preset's, or save a preset \
                 for {given}.",
                preset.name, preset.model
            ),
        ));
    }
    let spec = studio.catalogue().model(&preset.model).ok_or_else(|| unknown_model(&preset.model))?;
    let mut input = preset.input.clone();
    input.extend(fields::parse_given(app, studio, &preset.model, args).await?);
    fields::upload_local_files(studio, spec, &mut input).await?;
    Ok((preset.model, input))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_preset_flag_is_found_among_the_fields() {
        let (p, rest) = take_flag(None, strings(&["--prompt", "x", "--preset", "snow"])).unwrap();
        assert_eq!((p.as_deref(), rest), (Some("snow"), strings(&["--prompt", "x"])));
        let (p, rest) = take_flag(Some("a"), strings(&["--prompt", "x"])).unwrap();
        assert_eq!((p.as_deref(), rest), (Some("a"), strings(&["--prompt", "x"])));
        let (p, _) = take_flag(None, strings(&["--preset=b"])).unwrap();
        assert_eq!(p.as_deref(), Some("b"));
        assert!(take_flag(Some("a"), strings(&["--preset", "b"])).is_err());
        assert!(take_flag(None, strings(&["--preset"])).is_err());
    }
}
