//! The one invoke handler: every command of the surface, by name, into `studio::App` through
//! the core's dispatcher. Tauri has already checked the call against the capabilities (one
//! permission per command, generated from the same surface). Channels (`Channel` arguments)
//! are opened on the calling webview.

use std::str::FromStr;
use std::sync::Arc;

use serde_json::Value;
use studio::surface::{self, Channels, Sink};
use studio::{ApiError, ApiErrorCode, App};
use tauri::ipc::{Channel, Invoke, InvokeBody, InvokeError, JavaScriptChannelId};
use tauri::{Manager, Runtime, Webview};

/// True once start-up (the key and the library) is done: commands wait for it.
pub struct Starting(pub tokio::sync::watch::Receiver<bool>);

struct WebviewChannels<R: Runtime>(Webview<R>);

impl<R: Runtime> Channels for WebviewChannels<R> {
    fn open(&self, arg: &Value) -> Result<Sink<Value>, ApiError> {
        let id = arg
            .as_str()
            .and_then(|s| JavaScriptChannelId::from_str(s).ok())
            .ok_or_else(|| ApiError::new(ApiErrorCode::InvalidRequest, format!("Not a channel: {arg}")))?;
        let channel: Channel<Value> = id.channel_on(self.0.clone());
        Ok(Sink::new(move |v| channel.send(v).is_ok()))
    }
}

/// Answers `true` when the command is the surface's (then it is answered asynchronously).
pub fn handler<R: Runtime>(invoke: Invoke<R>) -> bool {
    let name = invoke.message.command().to_string();
    if !surface::COMMAND_NAMES.contains(&name.as_str()) {
        return false;
    }
    let webview = invoke.message.webview();
    let Some(app) = webview.try_state::<Arc<App>>().map(|s| s.inner().clone()) else {
        invoke.resolver.reject(ApiError::new(ApiErrorCode::NotReady, "Kie Studio is still starting."));
        return true;
    };
    let args = match invoke.message.payload() {
        InvokeBody::Json(v) => v.clone(),
        InvokeBody::Raw(_) => Value::Null,
    };
    let starting = webview.try_state::<Starting>().map(|s| s.0.clone());
    let channels = WebviewChannels(webview);
    let asked = std::time::Instant::now();
    invoke.resolver.respond_async(async move {
        if let Some(mut starting) = starting {
            // Err only when the sender is gone, i.e. start-up ended without saying so: go on.
            let _ = starting.wait_for(|done| *done).await;
        }
        let began = std::time::Instant::now();
        let answer = surface::dispatch(&app, &name, args, &channels)
            .await
            .map_err(|e| InvokeError(serde_json::to_value(e).unwrap_or_default()));
        tracing::debug!("command {name}: waited {:?}, ran {:?}", began.duration_since(asked), began.elapsed());
        answer
    });
    true
}
