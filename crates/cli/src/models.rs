//! `kie models`: the app's model catalogue, with fields and prices.

use kie::catalogue::{credits_to_usd, ModelSpec};
use serde_json::Value;
use studio::{App, StudioError};

use crate::exit;
use crate::output::Out;

pub async fn run(app: &App, out: &Out, model: Option<&str>) -> Result<i32, StudioError> {
    let models = app.get_catalogue().await?;
    match model {
        None => {
            out.print(&serde_json::to_value(&models).unwrap_or_default(), || {
                let mut s = String::new();
                for m in &models {
                    s.push_str(&format!("{:<26} {}\n{:<26} {}\n", m.id, m.name, "", m.summary));
                }
                s.push_str("\n`kie models <model>` shows its fields and prices.");
                s
            });
        }
        Some(id) => {
            let m = models.iter().find(|m| m.id == id).ok_or_else(|| unknown_model(id))?;
            out.print(&serde_json::to_value(m).unwrap_or_default(), || describe(m));
        }
    }
    Ok(exit::OK)
}

/// `invalid_input` for a model the catalogue does not have.
pub fn unknown_model(id: &str) -> StudioError {
    StudioError::invalid("model", "unknown_model", format!("There is no model {id:?}. Run `kie models` to see them."))
}

fn describe(m: &ModelSpec) -> String {
    let mut s = format!("{} ({})\n{}\n\nFields:\n", m.name, m.id, m.summary);
    for f in &m.fields {
        let req = if f.required { " (required)" } else { "" };
        s.push_str(&format!("  --{:<22} {}{}\n", f.name, f.label, req));
        if !f.options.is_empty() {
            let opts: Vec<String> = f.options.iter().map(|o| format!("{} = {}", plain(&o.value), o.label)).collect();
            s.push_str(&format!("  {:<24} one of: {}\n", "", opts.join(", ")));
        }
        if let Some(d) = &f.default {
            s.push_str(&format!("  {:<24} default: {}\n", "", plain(d)));
        }
        if !f.help.is_empty() {
            s.push_str(&format!("  {:<24} {}\n", "", f.help));
        }
        if let Some(media) = studio::uploads::MediaField::of(f, &f.name) {
            s.push_str(&format!("  {:<24} or a local file: {}\n", "", media.summary()));
        }
    }
    if let Some(p) = &m.pricing {
        s.push_str("\nPrice:\n");
        for r in &p.rules {
            let when: Vec<String> = r.when.iter().map(|(k, v)| format!("{k}={}", plain(v))).collect();
            let when = if when.is_empty() { "always".to_string() } else { when.join(", ") };
            let unit =
                p.seconds_field.as_deref().map_or(" per second".to_string(), |f| format!(" per second of --{f}"));
            let price = match (r.credits, r.per_second) {
                (Some(c), None) => format!("{c} credits (${:.2})", credits_to_usd(c)),
                (None, Some(ps)) => format!("{ps} credits{unit} (${:.3})", credits_to_usd(ps)),
                (Some(c), Some(ps)) => format!("{c} credits + {ps}{unit}"),
                (None, None) => "free".into(),
            };
            s.push_str(&format!("  {when:<30} {price}\n"));
        }
        s.push_str(&format!("  Source: {}\n", p.source));
    }
    s
}

/// A JSON value as typed on the command line: strings without their quotes.
fn plain(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}
