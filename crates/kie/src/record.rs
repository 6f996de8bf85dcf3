//! The task record from `recordInfo` and callbacks, read leniently: any field may be null
//! or absent, `param` and `resultJson` are JSON strings, and types drift. Veo's
//! `record-info` (`successFlag`, `response`, `paramJson`) is read into the same record
//! ([`TaskRecord::from_veo_value`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::envelope::as_i64;

/// A task's state. Decide by this alone (a `waiting` record may already carry a result).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskState {
    Waiting,
    Queuing,
    Generating,
    Success,
    Fail,
    /// A state the contract does not list: treated as still running.
    Other(String),
}

impl TaskState {
    pub fn parse(s: &str) -> TaskState {
        match s.trim().to_ascii_lowercase().as_str() {
            "waiting" => TaskState::Waiting,
            "queuing" | "queueing" => TaskState::Queuing,
            "generating" => TaskState::Generating,
            "success" => TaskState::Success,
            "fail" | "failed" => TaskState::Fail,
            _ => TaskState::Other(s.to_string()),
        }
    }

    pub fn is_final(&self) -> bool {
        matches!(self, TaskState::Success | TaskState::Fail)
    }

    pub fn as_str(&self) -> &str {
        match self {
            TaskState::Waiting => "waiting",
            TaskState::Queuing => "queuing",
            TaskState::Generating => "generating",
            TaskState::Success => "success",
            TaskState::Fail => "fail",
            TaskState::Other(s) => s,
        }
    }
}

/// The create request as Kie echoes it back in `param`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TaskParam {
    pub model: Option<String>,
    pub call_back_url: Option<String>,
    pub input: Map<String, Value>,
}

/// A character made by one of the catalogue's character models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharacterResult {
    pub character_id: String,
    pub character_user_name: Option<String>,
    pub remark: Option<String>,
}

/// The most result links of one kind a record may list: more are dropped (counted in
/// [`TaskResult::extra_urls`]), so a broken or hostile answer cannot fill the disk.
pub const MAX_RESULT_URLS: usize = 10;

/// The longest result link kept (signed links run to a few hundred bytes).
pub const MAX_LINK_LEN: usize = 8192;

/// The parsed `resultJson`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TaskResult {
    pub result_urls: Vec<String>,
    pub watermark_urls: Vec<String>,
    pub first_frame_url: Option<String>,
    pub last_frame_url: Option<String>,
    /// Text results (characters).
    pub result_object: Option<Value>,
    /// Veo: `response.originUrls` (the videos before Kie's processing), when given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub origin_urls: Vec<String>,
    /// Veo: `response.resolution` (e.g. "720p"), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// Links past [`MAX_RESULT_URLS`] (or unreasonably long) that the record listed and
    /// were dropped.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub extra_urls: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl TaskResult {
    pub fn character(&self) -> Option<CharacterResult> {
        let obj = self.result_object.as_ref()?.as_object()?;
        let character_id = str_field(obj, &["character_id", "characterId"])?;
        Some(CharacterResult {
            character_id,
            character_user_name: str_field(obj, &["character_user_name", "characterUserName"]),
            remark: str_field(obj, &["remark"]),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub task_id: Option<String>,
    pub model: Option<String>,
    pub state: TaskState,
    pub param: Option<TaskParam>,
    pub result: Option<TaskResult>,
    pub fail_code: Option<String>,
    pub fail_msg: Option<String>,
    /// Milliseconds (the docs say so; some examples look like seconds).
    pub cost_time: Option<i64>,
    pub create_time: Option<i64>,
    pub update_time: Option<i64>,
    pub complete_time: Option<i64>,
    /// 0–100.
    pub progress: Option<f64>,
    pub credits_consumed: Option<f64>,
}

impl TaskRecord {
    /// Read a record from the `data` of a `recordInfo` answer or a callback.
    pub fn from_value(data: &Value) -> TaskRecord {
        let empty = Map::new();
        let obj = data.as_object().unwrap_or(&empty);
        let state = obj
            .get("state")
            .and_then(Value::as_str)
            .map(TaskState::parse)
            .or_else(|| legacy_status(obj))
            .unwrap_or_else(|| TaskState::Other(String::new()));
        TaskRecord {
            task_id: str_field(obj, &["taskId", "task_id"]),
            model: str_field(obj, &["model"]),
            state,
            param: obj.get("param").and_then(parse_param),
            result: obj.get("resultJson").and_then(parse_result).or_else(|| legacy_result(obj)),
            fail_code: obj.get("failCode").and_then(loose_string),
            fail_msg: obj.get("failMsg").and_then(loose_string),
            cost_time: obj.get("costTime").and_then(as_i64),
            create_time: obj.get("createTime").and_then(as_i64),
            update_time: obj.get("updateTime").and_then(as_i64),
            complete_time: obj.get("completeTime").and_then(as_i64),
            progress: obj.get("progress").and_then(as_f64).map(|p| p.clamp(0.0, 100.0)),
            credits_consumed: obj.get("creditsConsumed").or_else(|| obj.get("consumeCredits")).and_then(as_f64),
        }
    }

    /// Read a record from the `data` of Veo's `record-info` answer: `successFlag` 0 is
    /// generating, 1 success, 2 failed, 3 created but failed upstream (both failures);
    /// `response.resultUrls` (and `originUrls`) the results; `errorCode`/`errorMessage` the
    /// failure; `paramJson` (a JSON string of the flat create body) the param, whose fields
    /// other than `model` and `callBackUrl` are the input.
    pub fn from_veo_value(data: &Value) -> TaskRecord {
        let empty = Map::new();
        let obj = data.as_object().unwrap_or(&empty);
        let flag = obj.get("successFlag").and_then(as_i64);
        let state = match flag {
            Some(0) => TaskState::Generating,
            Some(1) => TaskState::Success,
            Some(2 | 3) => TaskState::Fail,
            Some(other) => TaskState::Other(other.to_string()),
            None => TaskState::Other(String::new()),
        };
        let param = obj.get("paramJson").or_else(|| obj.get("param")).and_then(parse_flat_param);
        let fail_msg = obj.get("errorMessage").and_then(loose_string).or_else(|| match flag {
            Some(2) => Some("Kie reported that generation failed (successFlag 2).".to_string()),
            Some(3) => Some("Kie created the task, but generation failed upstream (successFlag 3).".to_string()),
            _ => None,
        });
        TaskRecord {
            task_id: str_field(obj, &["taskId", "task_id"]),
            model: str_field(obj, &["model"]).or_else(|| param.as_ref().and_then(|p| p.model.clone())),
            state,
            param,
            result: obj.get("response").and_then(parse_veo_response),
            fail_code: obj.get("errorCode").and_then(loose_string),
            fail_msg,
            cost_time: None,
            create_time: obj.get("createTime").and_then(time_ms),
            update_time: obj.get("updateTime").and_then(time_ms),
            complete_time: obj.get("completeTime").and_then(time_ms),
            progress: obj.get("progress").and_then(as_f64).map(|p| p.clamp(0.0, 100.0)),
            credits_consumed: obj.get("creditsConsumed").or_else(|| obj.get("consumeCredits")).and_then(as_f64),
        }
    }

    pub fn is_final(&self) -> bool {
        self.state.is_final()
    }
}

/// A callback body: the same record in an envelope whose `code` says success (200)
/// or failure (501). The callback only hints; the poll stays the source of truth.
pub fn parse_callback(body: &str) -> Option<(i64, TaskRecord)> {
    let v: Value = serde_json::from_str(body).ok()?;
    let code = v.get("code").and_then(as_i64).unwrap_or(0);
    Some((code, TaskRecord::from_value(v.get("data")?)))
}

fn str_field(obj: &Map<String, Value>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| obj.get(*n).and_then(loose_string))
}

/// A string, or a number written as one; empty strings and nulls are `None`.
fn loose_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `param` and `resultJson` are JSON strings; tolerate an object too.
fn json_in_string(v: &Value) -> Option<Value> {
    match v {
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => serde_json::from_str(s).ok(),
        Value::Object(_) => Some(v.clone()),
        _ => None,
    }
}

fn parse_param(v: &Value) -> Option<TaskParam> {
    let p = json_in_string(v)?;
    let obj = p.as_object()?;
    Some(TaskParam {
        model: str_field(obj, &["model"]),
        call_back_url: str_field(obj, &["callBackUrl"]),
        input: obj.get("input").and_then(Value::as_object).cloned().unwrap_or_default(),
    })
}

fn parse_result(v: &Value) -> Option<TaskResult> {
    let r = json_in_string(v)?;
    let obj = r.as_object()?;
    let mut extra = 0;
    Some(TaskResult {
        result_urls: link_list(string_list(obj.get("resultUrls")), &mut extra),
        watermark_urls: link_list(string_list(obj.get("resultWaterMarkUrls")), &mut extra),
        first_frame_url: one_link(str_field(obj, &["firstFrameUrl"]), &mut extra),
        last_frame_url: one_link(str_field(obj, &["lastFrameUrl"]), &mut extra),
        result_object: obj.get("resultObject").filter(|o| !o.is_null()).cloned(),
        extra_urls: extra,
        ..TaskResult::default()
    })
}

/// At most [`MAX_RESULT_URLS`] links of at most [`MAX_LINK_LEN`] bytes; the others are
/// counted in `extra`.
fn link_list(links: Vec<String>, extra: &mut u32) -> Vec<String> {
    let all = links.len();
    let kept: Vec<String> = links.into_iter().filter(|l| l.len() <= MAX_LINK_LEN).take(MAX_RESULT_URLS).collect();
    *extra = extra.saturating_add(u32::try_from(all - kept.len()).unwrap_or(u32::MAX));
    kept
}

fn one_link(link: Option<String>, extra: &mut u32) -> Option<String> {
    match link {
        Some(l) if l.len() > MAX_LINK_LEN => {
            *extra = extra.saturating_add(1);
            None
        }
        other => other,
    }
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items.iter().filter_map(loose_string).collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// Veo's `paramJson`: the flat create body. Its fields other than `model` and
/// `callBackUrl` are the input.
fn parse_flat_param(v: &Value) -> Option<TaskParam> {
    let p = json_in_string(v)?;
    let obj = p.as_object()?;
    let input = obj.iter().filter(|(k, _)| *k != "model" && *k != "callBackUrl").map(|(k, v)| (k.clone(), v.clone()));
    Some(TaskParam {
        model: str_field(obj, &["model"]),
        call_back_url: str_field(obj, &["callBackUrl"]),
        input: input.collect(),
    })
}

/// Veo's `response`: `{taskId, resultUrls[], originUrls[], resolution}` (an object, or the
/// same as a JSON string; a list given as a JSON string is read too).
fn parse_veo_response(v: &Value) -> Option<TaskResult> {
    let r = json_in_string(v)?;
    let obj = r.as_object()?;
    let list = |k: &str| match obj.get(k) {
        Some(Value::String(s)) if s.trim_start().starts_with('[') => {
            string_list(serde_json::from_str::<Value>(s).ok().as_ref())
        }
        other => string_list(other),
    };
    let mut extra = 0;
    Some(TaskResult {
        result_urls: link_list(list("resultUrls"), &mut extra),
        origin_urls: link_list(list("originUrls"), &mut extra),
        resolution: str_field(obj, &["resolution"]),
        extra_urls: extra,
        ..TaskResult::default()
    })
}

/// A time as ms since the epoch: a number (or a number in a string), or a date-time text
/// `YYYY-MM-DD HH:MM:SS` (Kie's Veo examples), read as UTC because Kie names no zone.
fn time_ms(v: &Value) -> Option<i64> {
    if let Some(n) = as_i64(v) {
        return Some(n);
    }
    let s = v.as_str()?.trim();
    let (date, time) = s.split_once([' ', 'T']).unwrap_or((s, "00:00:00"));
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let time = time.trim_end_matches('Z');
    let time = time.split('.').next().unwrap_or(time);
    let mut t = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) =
        (t.next().flatten().unwrap_or(0), t.next().flatten().unwrap_or(0), t.next().flatten().unwrap_or(0));
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    Some(((days_from_civil(y, m, day) * 24 + hh) * 60 + mm) * 60_000 + ss * 1000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's days-from-civil).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Seed 001's numeric `status` (0 generating, 1 success, 2 failed), for old-style records.
fn legacy_status(obj: &Map<String, Value>) -> Option<TaskState> {
    match obj.get("status").and_then(as_i64)? {
        0 => Some(TaskState::Generating),
        1 => Some(TaskState::Success),
        2 => Some(TaskState::Fail),
        other => Some(TaskState::Other(other.to_string())),
    }
}

/// Seed 001's `videoUrl`.
fn legacy_result(obj: &Map<String, Value>) -> Option<TaskResult> {
    let url = str_field(obj, &["videoUrl"]).filter(|u| u.len() <= MAX_LINK_LEN)?;
    Some(TaskResult { result_urls: vec![url], ..TaskResult::default() })
}
