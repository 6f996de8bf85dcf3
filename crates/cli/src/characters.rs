//! `kie characters`: the @handle registry, through the app's commands; `create-from` sends
//! the characters-pro model for a video in the library.

use serde_json::{json, Map, Value};
use studio::{App, StudioError};

use crate::args::CharacterAction;
use crate::open::{self, Need};
use crate::output::{ellipsize, Out};
use crate::{exit, generate, tasks};

pub async fn run(app: &App, out: &Out, action: &CharacterAction) -> Result<i32, StudioError> {
    match action {
        CharacterAction::List => {
            open::library(app, Need::Library).await?;
            let list = app.list_characters().await?;
            out.print(&serde_json::to_value(&list).unwrap_or_default(), || {
                if list.is_empty() {
                    return "No characters yet. `kie characters create-from <task> --prompt ...` makes one.".into();
                }
                list.iter()
                    .map(|c| {
                        let c = &c.character;
                        format!(
                            "@{:<30} {}",
                            c.handle,
                            c.prompt.as_deref().map(|p| ellipsize(p, 60)).unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
            Ok(exit::OK)
        }
        CharacterAction::Add { handle, id, prompt } => {
            open::library(app, Need::Library).await?;
            let c = app.add_character(handle.clone(), id.clone(), prompt.clone()).await?;
            out.print(&serde_json::to_value(&c).unwrap_or_default(), || format!("Added @{}.", c.handle));
            Ok(exit::OK)
        }
        CharacterAction::Remove { handle } => {
            let studio = open::library(app, Need::Library).await?;
            let c = studio::characters::get_by_handle(studio.db(), handle)?.ok_or_else(|| {
                StudioError::NotFound(format!("No character @{}.", studio::characters::normalize_handle(handle)))
            })?;
            let c = app.remove_character(c.id).await?;
            out.print(&json!({"removed": c.handle}), || format!("Removed @{}.", c.handle));
            Ok(exit::OK)
        }
        CharacterAction::CreateFrom { task, handle, prompt, safety, timestamps, wait } => {
            let studio = open::library(app, Need::Key).await?;
            let origin = tasks::find(app, task).await?;
            let Some(kie_id) = origin.kie_task_id.clone() else {
                return Err(StudioError::Refused(format!(
                    "Task #{} has no Kie task id to make a character from.",
                    origin.id
                )));
            };
            let mut input = Map::new();
            input.insert("origin_task_id".into(), Value::String(kie_id));
            input.insert("character_prompt".into(), Value::String(prompt.clone()));
            if let Some(h) = handle {
                input.insert("character_user_name".into(), Value::String(h.clone()));
            }
            if let Some(s) = safety {
                input.insert("safety_instruction".into(), Value::String(s.clone()));
            }
            if let Some(t) = timestamps {
                input.insert("timestamps".into(), Value::String(t.clone()));
            }
            let Some(maker) = studio.catalogue().character_from_task() else {
                return Err(StudioError::Refused("No model in the catalogue makes characters from a video.".into()));
            };
            let model = maker.id.clone();
            generate::submit(app, &studio, out, &model, input, *wait).await
        }
    }
}
