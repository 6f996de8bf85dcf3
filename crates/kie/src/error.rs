//! One error type for every way a call to Kie can go wrong, each with a stable code.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::validate::Problem;

/// What Kie (or the wire) said, kept whole for logs and bug reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The HTTP status of the response, when there was one.
    pub http_status: Option<u16>,
    /// The `code` field of Kie's envelope, when there was one.
    pub kie_code: Option<i64>,
    /// Kie's `msg` (or `message`), or a description of what went wrong on the wire.
    pub message: String,
    /// The raw response body (truncated to a few KiB).
    pub body: String,
}

impl Failure {
    pub fn new(
        http_status: Option<u16>,
        kie_code: Option<i64>,
        message: impl Into<String>,
        body: impl Into<String>,
    ) -> Self {
        let mut body = body.into();
        if body.len() > MAX_BODY {
            let mut cut = MAX_BODY;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
            body.push('…');
        }
        Failure { http_status, kie_code, message: message.into(), body }
    }

    /// A failure that never got an answer from Kie.
    pub fn wire(message: impl Into<String>) -> Self {
        Failure::new(None, None, message, "")
    }
}

const MAX_BODY: usize = 4096;

/// Stable, closed set of error codes. The UI and CLI branch on these, never on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidInput,
    InvalidRequest,
    Unauthorized,
    InsufficientCredits,
    NotFound,
    UpstreamTimeout,
    RateLimited,
    Unavailable,
    ModelPaused,
    ServerError,
    GenerationFailed,
    FeatureDisabled,
    UnexpectedResponse,
    MalformedResponse,
    Timeout,
    Connection,
    OutcomeUnknown,
    LinkExpired,
    Truncated,
    File,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::InsufficientCredits => "insufficient_credits",
            ErrorCode::NotFound => "not_found",
            ErrorCode::UpstreamTimeout => "upstream_timeout",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::ModelPaused => "model_paused",
            ErrorCode::ServerError => "server_error",
            ErrorCode::GenerationFailed => "generation_failed",
            ErrorCode::FeatureDisabled => "feature_disabled",
            ErrorCode::UnexpectedResponse => "unexpected_response",
            ErrorCode::MalformedResponse => "malformed_response",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Connection => "connection",
            ErrorCode::OutcomeUnknown => "outcome_unknown",
            ErrorCode::LinkExpired => "link_expired",
            ErrorCode::Truncated => "truncated",
            ErrorCode::File => "file",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KieError {
    /// Local validation against the catalogue failed; nothing was sent.
    #[error("{}", crate::validate::describe(.0))]
    InvalidInput(Vec<Problem>),
    /// 400, 422, 1001, 1004: Kie rejected the request. Never retried.
    #[error("Kie rejected the request: {}", .0.message)]
    InvalidRequest(Failure),
    /// 401: the key is missing, wrong or revoked.
    #[error("Kie did not accept the API key: {}", .0.message)]
    Unauthorized(Failure),
    /// 402, 1002.
    #[error("Not enough Kie credits: {}", .0.message)]
    InsufficientCredits(Failure),
    /// 404, or a task record that is not there (yet).
    #[error("Kie has no such record: {}", .0.message)]
    NotFound(Failure),
    /// 408: upstream produced nothing for too long.
    #[error("Kie's upstream timed out: {}", .0.message)]
    UpstreamTimeout(Failure),
    /// 429, 433: too many requests; `retry_after` when Kie said how long to wait.
    #[error("Kie is rate limiting requests: {}", failure.message)]
    RateLimited { failure: Failure, retry_after: Option<Duration> },
    /// 455, 1003: maintenance or overload.
    #[error("Kie is temporarily unavailable: {}", failure.message)]
    Unavailable { failure: Failure, retry_after: Option<Duration> },
    /// 500 "This interface is temporarily paused.": the model is switched off upstream.
    #[error("This model is paused by Kie: {}", .0.message)]
    ModelPaused(Failure),
    /// Any other 5xx except 501 and 505.
    #[error("Kie had a server error: {}", .0.message)]
    Server(Failure),
    /// 501: generation failed.
    #[error("Generation failed: {}", .0.message)]
    GenerationFailed(Failure),
    /// 505: the feature is disabled.
    #[error("This feature is disabled at Kie: {}", .0.message)]
    FeatureDisabled(Failure),
    /// A code the contract does not list, or a success envelope without the expected data.
    #[error("Kie answered something unexpected: {}", .0.message)]
    Unexpected(Failure),
    /// The body was not the JSON envelope the contract describes.
    #[error("Kie's answer could not be read: {}", .0.message)]
    Malformed(Failure),
    /// No answer in time.
    #[error("Kie did not answer in time: {}", .0.message)]
    Timeout(Failure),
    /// The connection could not be made or broke before an answer.
    #[error("Could not reach Kie: {}", failure.message)]
    Connection {
        failure: Failure,
        /// True only when the request surely never left (the connection was never made).
        never_sent: bool,
    },
    /// A create that may or may not have reached Kie. It is never sent again by the client.
    /// `task_id`: a task id Kie's answer named although it was not a success (seen with
    /// code 201); if the user's Kie account shows it, it is theirs to attach.
    #[error("{}", outcome_unknown_words(cause, task_id.as_deref()))]
    OutcomeUnknown { cause: Box<KieError>, task_id: Option<String> },
    /// The request never left: it could not be built (an address that cannot be used).
    /// Nothing reached Kie; nothing was charged.
    #[error("Not sent: the request to Kie could not be made ({}); check the API address", .0.message)]
    NotBuilt(Failure),
    /// A create waited the configured bound for a running slot and gave up, unsent.
    #[error(
        "Not sent: Kie already has {} in progress for this key; try again when one finishes",
        videos(*in_progress)
    )]
    SlotsFull {
        /// Tasks running (and creates in flight) through this client when it gave up.
        in_progress: usize,
    },
    /// A result file's link answered 403, 404 or 410: ask `download-url` for a fresh one.
    #[error("The download link has expired: {}", .0.message)]
    LinkExpired(Failure),
    /// A download ended before the length the server announced.
    #[error("The download stopped early: got {got} of {expected} bytes")]
    Truncated { got: u64, expected: u64 },
    /// A local file could not be read or written.
    #[error("{message}")]
    File { path: String, message: String },
}

impl KieError {
    pub fn code(&self) -> ErrorCode {
        match self {
            KieError::InvalidInput(_) => ErrorCode::InvalidInput,
            KieError::InvalidRequest(_) => ErrorCode::InvalidRequest,
            KieError::Unauthorized(_) => ErrorCode::Unauthorized,
            KieError::InsufficientCredits(_) => ErrorCode::InsufficientCredits,
            KieError::NotFound(_) => ErrorCode::NotFound,
            KieError::UpstreamTimeout(_) => ErrorCode::UpstreamTimeout,
            KieError::RateLimited { .. } => ErrorCode::RateLimited,
            KieError::Unavailable { .. } => ErrorCode::Unavailable,
            KieError::ModelPaused(_) => ErrorCode::ModelPaused,
            KieError::Server(_) => ErrorCode::ServerError,
            KieError::GenerationFailed(_) => ErrorCode::GenerationFailed,
            KieError::FeatureDisabled(_) => ErrorCode::FeatureDisabled,
            KieError::Unexpected(_) => ErrorCode::UnexpectedResponse,
            KieError::Malformed(_) => ErrorCode::MalformedResponse,
            KieError::Timeout(_) => ErrorCode::Timeout,
            KieError::Connection { .. } => ErrorCode::Connection,
            KieError::OutcomeUnknown { .. } => ErrorCode::OutcomeUnknown,
            // Never sent: as a connection never made.
            KieError::NotBuilt(_) => ErrorCode::Connection,
            // Our own cap on running tasks, kept to stay under Kie's.
            KieError::SlotsFull { .. } => ErrorCode::RateLimited,
            KieError::LinkExpired(_) => ErrorCode::LinkExpired,
            KieError::Truncated { .. } => ErrorCode::Truncated,
            KieError::File { .. } => ErrorCode::File,
        }
    }

    /// What Kie said, when it said anything.
    pub fn failure(&self) -> Option<&Failure> {
        match self {
            KieError::InvalidRequest(f)
            | KieError::Unauthorized(f)
            | KieError::InsufficientCredits(f)
            | KieError::NotFound(f)
            | KieError::UpstreamTimeout(f)
            | KieError::ModelPaused(f)
            | KieError::Server(f)
            | KieError::GenerationFailed(f)
            | KieError::FeatureDisabled(f)
            | KieError::Unexpected(f)
            | KieError::Malformed(f)
            | KieError::Timeout(f)
            | KieError::LinkExpired(f)
            | KieError::NotBuilt(f) => Some(f),
            KieError::RateLimited { failure, .. }
            | KieError::Unavailable { failure, .. }
            | KieError::Connection { failure, .. } => Some(failure),
            KieError::OutcomeUnknown { cause, .. } => cause.failure(),
            KieError::InvalidInput(_)
            | KieError::Truncated { .. }
            | KieError::File { .. }
            | KieError::SlotsFull { .. } => None,
        }
    }

    /// How long Kie asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            KieError::RateLimited { retry_after, .. } | KieError::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Whether a read-only call (query, credits, download link) may be tried again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            KieError::RateLimited { .. }
                | KieError::Unavailable { .. }
                | KieError::Server(_)
                | KieError::Malformed(_)
                | KieError::Timeout(_)
                | KieError::Connection { .. }
                | KieError::Truncated { .. }
        )
    }

    /// Whether a create may be sent again: only when it surely never reached Kie,
    /// or Kie said it did not take it (429, 433, 455).
    pub fn create_may_retry(&self) -> bool {
        matches!(
            self,
            KieError::RateLimited { .. } | KieError::Unavailable { .. } | KieError::Connection { never_sent: true, .. }
        )
    }

    /// Whether this answer to a create surely means Kie did not take it (and did not charge).
    /// Only the contract's refusals: 400, 401, 402, 422, 429 and 433 (rate limited: not
    /// queued), 455, 505, seed 001's 1001–1004, and 500 "temporarily paused" (a paused model
    /// takes nothing); and what never left (local validation, no connection made, a request
    /// that could not be built, no running slot). Everything else — an unknown code, a 2xx
    /// other than 200, any other 5xx, 403, 404, 408, a timeout, a broken or unreadable
    /// answer, a success without a task id — may have been taken: "outcome unknown".
    pub fn create_not_taken(&self) -> bool {
        match self {
            KieError::InvalidInput(_) | KieError::NotBuilt(_) | KieError::SlotsFull { .. } => true,
            KieError::Connection { never_sent, .. } => *never_sent,
            KieError::ModelPaused(f) => answered_code(f) == Some(500),
            KieError::InvalidRequest(f)
            | KieError::Unauthorized(f)
            | KieError::InsufficientCredits(f)
            | KieError::FeatureDisabled(f)
            | KieError::RateLimited { failure: f, .. }
            | KieError::Unavailable { failure: f, .. } => {
                matches!(answered_code(f), Some(400 | 401 | 402 | 422 | 429 | 433 | 455 | 505 | 1001..=1004))
            }
            _ => false,
        }
    }

    /// Classify Kie's `code` (from the envelope, or the HTTP status when the body has none).
    pub fn from_code(code: i64, failure: Failure, retry_after: Option<Duration>) -> KieError {
        match code {
            400 | 422 | 1001 | 1004 => KieError::InvalidRequest(failure),
            401 | 403 => KieError::Unauthorized(failure),
            402 | 1002 => KieError::InsufficientCredits(failure),
            404 => KieError::NotFound(failure),
            408 => KieError::UpstreamTimeout(failure),
            429 | 433 => KieError::RateLimited { failure, retry_after },
            455 | 1003 => KieError::Unavailable { failure, retry_after },
            501 => KieError::GenerationFailed(failure),
            505 => KieError::FeatureDisabled(failure),
            500..=599 if is_paused_message(&failure.message) => KieError::ModelPaused(failure),
            500..=599 => KieError::Server(failure),
            _ => KieError::Unexpected(failure),
        }
    }
}

/// The code an answer was classified by: the envelope's, unless it said 200 (or had none),
/// then the HTTP status (as [`crate::envelope::parse`] decides).
fn answered_code(f: &Failure) -> Option<i64> {
    match f.kie_code {
        Some(code) if code != 200 => Some(code),
        _ => f.http_status.map(i64::from),
    }
}

fn videos(n: usize) -> String {
    if n == 1 {
        "1 video".into()
    } else {
        format!("{n} videos")
    }
}

fn outcome_unknown_words(cause: &KieError, task_id: Option<&str>) -> String {
    // The code Kie answered, when it answered one: the key to what happened.
    let code = cause.failure().and_then(answered_code).map(|c| format!("code {c}: ")).unwrap_or_default();
    let mut s = format!(
        "The request may or may not have reached Kie ({code}{cause}); it was not sent again, to avoid paying twice"
    );
    if let Some(id) = task_id {
        s.push_str(&format!(". Kie's answer named task id {id}: if your Kie account shows it, attach it to this task"));
    }
    s
}

/// Kie says a paused model only in words; this is the one place that reads them.
fn is_paused_message(message: &str) -> bool {
    message.to_ascii_lowercase().contains("temporarily paused")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(code: i64) -> Failure {
        Failure::new(Some(200), Some(code), "m", "{}")
    }

    #[test]
    fn classifies_every_code_of_the_contract() {
        let cases: &[(i64, ErrorCode)] = &[
            (400, ErrorCode::InvalidRequest),
            (422, ErrorCode::InvalidRequest),
            (401, ErrorCode::Unauthorized),
            (402, ErrorCode::InsufficientCredits),
            (404, ErrorCode::NotFound),
            (408, ErrorCode::UpstreamTimeout),
            (429, ErrorCode::RateLimited),
            (433, ErrorCode::RateLimited),
            (455, ErrorCode::Unavailable),
            (500, ErrorCode::ServerError),
            (502, ErrorCode::ServerError),
            (501, ErrorCode::GenerationFailed),
            (505, ErrorCode::FeatureDisabled),
            (1001, ErrorCode::InvalidRequest),
            (1002, ErrorCode::InsufficientCredits),
            (1003, ErrorCode::Unavailable),
            (1004, ErrorCode::InvalidRequest),
            (777, ErrorCode::UnexpectedResponse),
        ];
        for (code, want) in cases {
            assert_eq!(KieError::from_code(*code, f(*code), None).code(), *want, "code {code}");
        }
        let paused = Failure::new(Some(200), Some(500), "This interface is temporarily paused.", "");
        assert_eq!(KieError::from_code(500, paused, None).code(), ErrorCode::ModelPaused);
    }

    #[test]
    fn create_retry_only_when_kie_surely_did_not_take_it() {
        assert!(KieError::from_code(429, f(429), None).create_may_retry());
        assert!(KieError::from_code(455, f(455), None).create_may_retry());
        assert!(KieError::Connection { failure: Failure::wire("refused"), never_sent: true }.create_may_retry());
        assert!(!KieError::Connection { failure: Failure::wire("reset"), never_sent: false }.create_may_retry());
        assert!(!KieError::Timeout(Failure::wire("t")).create_may_retry());
        assert!(!KieError::from_code(500, f(500), None).create_may_retry());
        assert!(!KieError::Malformed(Failure::wire("x")).create_may_retry());
    }

    #[test]
    fn only_the_contracts_refusals_mean_a_create_was_not_taken() {
        let not_taken = [400, 401, 402, 422, 429, 433, 455, 505, 1001, 1002, 1003, 1004];
        for code in not_taken {
            assert!(KieError::from_code(code, f(code), None).create_not_taken(), "code {code}");
            // The same as a real HTTP status without an envelope.
            let bare = Failure::new(Some(code as u16), None, "m", "<html>");
            if code < 1000 {
                assert!(KieError::from_code(code, bare, None).create_not_taken(), "HTTP {code}");
            }
        }
        for code in [201, 202, 204, 299, 302, 403, 404, 408, 418, 500, 501, 502, 503, 504, 777, 1005] {
            assert!(!KieError::from_code(code, f(code), None).create_not_taken(), "code {code}");
        }
        let paused = |code: i64| Failure::new(Some(200), Some(code), "This interface is temporarily paused.", "");
        assert!(KieError::from_code(500, paused(500), None).create_not_taken());
        assert!(!KieError::from_code(503, paused(503), None).create_not_taken());
        // An envelope saying 200 over an HTTP error status: the status decides.
        let over_500 = Failure::new(Some(500), Some(200), "ok", "");
        assert!(!KieError::from_code(500, over_500, None).create_not_taken());
        assert!(KieError::Connection { failure: Failure::wire("refused"), never_sent: true }.create_not_taken());
        assert!(!KieError::Connection { failure: Failure::wire("reset"), never_sent: false }.create_not_taken());
        assert!(!KieError::Timeout(Failure::wire("t")).create_not_taken());
        assert!(!KieError::Malformed(Failure::wire("x")).create_not_taken());
        assert!(!KieError::Unexpected(Failure::new(Some(200), Some(200), "no task id", "{}")).create_not_taken());
        assert!(KieError::NotBuilt(Failure::wire("bad url")).create_not_taken());
        assert!(KieError::SlotsFull { in_progress: 10 }.create_not_taken());
        assert!(!KieError::SlotsFull { in_progress: 10 }.create_may_retry());
        assert!(!KieError::NotBuilt(Failure::wire("bad url")).create_may_retry());
    }

    #[test]
    fn not_sent_and_outcome_unknown_in_plain_words() {
        assert_eq!(
            KieError::SlotsFull { in_progress: 10 }.to_string(),
            "Not sent: Kie already has 10 videos in progress for this key; try again when one finishes"
        );
        let cause = Box::new(KieError::from_code(201, f(201), None));
        let e = KieError::OutcomeUnknown { cause, task_id: Some("t-201".into()) };
        assert!(e.to_string().contains("may or may not have reached Kie"), "{e}");
        assert!(e.to_string().contains("named task id t-201"), "{e}");
        assert!(e.to_string().contains("(code 201: Kie answered something unexpected: m)"), "{e}");
        assert_eq!(e.code(), ErrorCode::OutcomeUnknown);
    }

    #[test]
    fn keeps_bodies_short_on_char_boundaries() {
        let fl = Failure::new(None, None, "m", "é".repeat(5000));
        assert!(fl.body.len() <= MAX_BODY + '…'.len_utf8());
        assert!(fl.body.ends_with('…'));
    }
}
