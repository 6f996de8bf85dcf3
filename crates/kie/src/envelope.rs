//! Kie's response envelope: `{"code", "msg" | "message", "data"}`, where an error may
//! arrive inside an HTTP 200.

use std::time::Duration;

use serde_json::Value;

use crate::error::{Failure, KieError};

/// A successful envelope's `data`, with the message for logs.
#[derive(Debug, Clone)]
pub struct Envelope {
    pub data: Value,
    pub message: String,
}

/// Turn an HTTP status and body into `data`, or the error they mean.
/// `retry_after` comes from the response's header, already parsed.
pub fn parse(http_status: u16, body: &str, retry_after: Option<Duration>) -> Result<Envelope, KieError> {
    let parsed: Option<Value> = serde_json::from_str(body).ok();
    let obj = parsed.as_ref().and_then(Value::as_object);
    let Some(obj) = obj else {
        // No envelope at all. A non-2xx status still says what happened; a 2xx with junk
        // is a malformed answer (seen now and then from recordInfo: retry it).
        let snippet: String = body.chars().take(200).collect();
        if !(200..300).contains(&http_status) {
            let msg = if snippet.trim().is_empty() { format!("HTTP {http_status}") } else { snippet };
            let failure = Failure::new(Some(http_status), None, msg, body);
            return Err(KieError::from_code(i64::from(http_status), failure, retry_after));
        }
        return Err(KieError::Malformed(Failure::new(Some(http_status), None, "the answer was not valid JSON", body)));
    };
    let message = obj.get("msg").or_else(|| obj.get("message")).and_then(Value::as_str).unwrap_or("").to_string();
    let code = obj.get("code").and_then(as_i64);
    // Some answers (the upload host) carry `success` and no code.
    let code = match code {
        Some(c) => c,
        None if obj.get("success").and_then(Value::as_bool) == Some(true) && (200..300).contains(&http_status) => 200,
        None => i64::from(http_status),
    };
    if code == 200 && (200..300).contains(&http_status) {
        return Ok(Envelope { data: obj.get("data").cloned().unwrap_or(Value::Null), message });
    }
    // The envelope's code wins; when it says 200 but HTTP did not, HTTP wins.
    let effective = if code == 200 { i64::from(http_status) } else { code };
    let msg = if message.is_empty() { format!("code {effective}") } else { message };
    let failure = Failure::new(Some(http_status), Some(code), msg, body);
    Err(KieError::from_code(effective, failure, retry_after))
}

/// Numbers drift between JSON numbers and strings; read both.
pub(crate) fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn success_with_msg_or_message() {
        let e = parse(200, r#"{"code":200,"msg":"success","data":{"taskId":"t1"}}"#, None).unwrap();
        assert_eq!(e.data["taskId"], "t1");
        let e = parse(200, r#"{"code":200,"message":"ok","data":5}"#, None).unwrap();
        assert_eq!(e.message, "ok");
        assert_eq!(e.data, 5);
    }

    #[test]
    fn error_inside_http_200() {
        let err = parse(200, r#"{"code":402,"msg":"Credits insufficient","data":null}"#, None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InsufficientCredits);
        let f = err.failure().unwrap();
        assert_eq!(f.http_status, Some(200));
        assert_eq!(f.kie_code, Some(402));
        assert_eq!(f.message, "Credits insufficient");
        assert!(f.body.contains("Credits insufficient"));
    }

    #[test]
    fn error_as_real_http_status_with_message_field() {
        let err = parse(401, r#"{"code":401,"message":"You do not have access permissions"}"#, None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::Unauthorized);
        assert_eq!(err.failure().unwrap().message, "You do not have access permissions");
    }

    #[test]
    fn http_error_without_envelope() {
        let err = parse(502, "<html>Bad gateway</html>", None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ServerError);
        let err = parse(429, "", Some(Duration::from_secs(3))).unwrap_err();
        assert_eq!(err.code(), ErrorCode::RateLimited);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(3)));
    }

    #[test]
    fn http_error_with_code_200_envelope_is_still_an_error() {
        let err = parse(500, r#"{"code":200,"msg":"ok"}"#, None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::ServerError);
    }

    #[test]
    fn malformed_json_in_200() {
        let err = parse(200, r#"{"code":200,"data":{"#, None).unwrap_err();
        assert_eq!(err.code(), ErrorCode::MalformedResponse);
        assert!(err.is_transient());
    }

    #[test]
    fn code_as_string_and_upload_success_flag() {
        let e = parse(200, r#"{"code":"200","msg":"ok","data":1}"#, None).unwrap();
        assert_eq!(e.data, 1);
        let e = parse(200, r#"{"success":true,"msg":"File uploaded successfully","data":{"downloadUrl":"x"}}"#, None)
            .unwrap();
        assert_eq!(e.data["downloadUrl"], "x");
    }
}
