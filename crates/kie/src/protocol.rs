//! One adapter per protocol: where a create goes, what its body looks like, where a task's
//! record is asked for and how it reads. Models are data (the catalogue names each model's
//! protocol); protocols are code, here. The client ([`crate::client::KieClient`]) keeps
//! the rules every protocol shares: the envelope, retries, the create's outcome-unknown
//! rule, the limits, and "not visible yet" right after a create.
//!
//! - [`Protocol::Jobs`]: `POST /api/v1/jobs/createTask` `{"model", "callBackUrl"?, "input"}`;
//!   `GET /api/v1/jobs/recordInfo` (the record with `state`).
//! - [`Protocol::Veo`]: `POST /api/v1/veo/generate` with a flat body
//!   `{"model", ...input fields, "callBackUrl"?}`; `GET /api/v1/veo/record-info` (the record
//!   with `successFlag`), read into the same [`TaskRecord`]; and
//!   `GET /api/v1/veo/get-1080p-video` for the HD copy of a finished video.

use serde_json::{Map, Value};

pub use crate::catalogue::Protocol;
use crate::record::TaskRecord;

/// Veo's HD copy of a finished video (`?taskId=&index=`).
pub const VEO_1080P_PATH: &str = "/api/v1/veo/get-1080p-video";

impl Protocol {
    /// Where a create is sent (`POST`).
    pub fn create_path(self) -> &'static str {
        match self {
            Protocol::Jobs => "/api/v1/jobs/createTask",
            Protocol::Veo => "/api/v1/veo/generate",
        }
    }

    /// Where a task's record is asked for (`GET ?taskId=`).
    pub fn record_path(self) -> &'static str {
        match self {
            Protocol::Jobs => "/api/v1/jobs/recordInfo",
            Protocol::Veo => "/api/v1/veo/record-info",
        }
    }

    /// The create request's body for `model` with this (already validated) input.
    pub fn create_body(self, model: &str, input: &Map<String, Value>, callback_url: Option<&str>) -> Value {
        let mut body = Map::new();
        match self {
            Protocol::Jobs => {
                body.insert("model".into(), Value::String(model.to_string()));
                body.insert("input".into(), Value::Object(input.clone()));
            }
            Protocol::Veo => {
                // Flat: the input's fields beside the model. The model named by the caller
                // wins over any `model` key in the input.
                body.extend(input.iter().map(|(k, v)| (k.clone(), v.clone())));
                body.insert("model".into(), Value::String(model.to_string()));
            }
        }
        if let Some(cb) = callback_url {
            body.insert("callBackUrl".into(), Value::String(cb.to_string()));
        }
        Value::Object(body)
    }

    /// Read the `data` of a record answer.
    pub fn parse_record(self, data: &Value) -> TaskRecord {
        match self {
            Protocol::Jobs => TaskRecord::from_value(data),
            Protocol::Veo => TaskRecord::from_veo_value(data),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn jobs_body_nests_the_input() {
        let body = Protocol::Jobs.create_body("sora-2-text-to-video", &input(json!({"prompt": "p"})), None);
        assert_eq!(body, json!({"model": "sora-2-text-to-video", "input": {"prompt": "p"}}));
        let body = Protocol::Jobs.create_body("m", &Map::new(), Some("https://cb"));
        assert_eq!(body, json!({"model": "m", "input": {}, "callBackUrl": "https://cb"}));
    }

    #[test]
    fn veo_body_is_flat() {
        let inp = input(json!({"prompt": "a fox", "aspect_ratio": "16:9", "duration": 8, "model": "wrong"}));
        let body = Protocol::Veo.create_body("veo3_fast", &inp, Some("https://cb"));
        assert_eq!(
            body,
            json!({"prompt": "a fox", "aspect_ratio": "16:9", "duration": 8, "model": "veo3_fast", "callBackUrl": "https://cb"})
        );
        let body = Protocol::Veo.create_body("veo3", &input(json!({"prompt": "p"})), None);
        assert_eq!(body, json!({"model": "veo3", "prompt": "p"}));
    }

    #[test]
    fn paths() {
        assert_eq!(Protocol::default(), Protocol::Jobs);
        assert_eq!(Protocol::Jobs.record_path(), "/api/v1/jobs/recordInfo");
        assert_eq!(Protocol::Veo.create_path(), "/api/v1/veo/generate");
        assert_eq!(Protocol::Veo.record_path(), "/api/v1/veo/record-info");
    }
}
