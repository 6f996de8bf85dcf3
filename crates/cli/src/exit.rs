//! Exit codes, from the typed error code (never from its wording): 0 ok, 2 invalid input,
//! 3 key missing or rejected, 4 insufficient credits, 5 generation failed, 6 outcome
//! unknown, 1 anything else.

use studio::tasks::{Task, TaskStatus};
use studio::ApiErrorCode;

pub const OK: i32 = 0;
pub const OTHER: i32 = 1;
pub const INVALID: i32 = 2;
pub const KEY: i32 = 3;
pub const CREDITS: i32 = 4;
pub const FAILED: i32 = 5;
pub const UNKNOWN: i32 = 6;

/// The documented exit code of an error. Exhaustive: a new code does not compile until it
/// has its place here.
pub fn for_code(code: ApiErrorCode) -> i32 {
    use ApiErrorCode as C;
    match code {
        C::InvalidInput | C::InvalidRequest => INVALID,
        C::NoKey | C::Unauthorized | C::KeyringUnavailable => KEY,
        C::InsufficientCredits => CREDITS,
        C::GenerationFailed | C::UpstreamTimeout | C::ModelPaused | C::FeatureDisabled => FAILED,
        C::OutcomeUnknown => UNKNOWN,
        C::NotFound
        | C::RateLimited
        | C::Unavailable
        | C::ServerError
        | C::UnexpectedResponse
        | C::MalformedResponse
        | C::Timeout
        | C::Connection
        | C::LinkExpired
        | C::Truncated
        | C::File
        | C::DbTooNew
        | C::DbCorrupt
        | C::DbIo
        | C::DbError
        | C::Json
        | C::InvalidTransition
        | C::DuplicateHandle
        | C::KieIdInUse
        | C::NotInLibrary
        | C::BadPath
        | C::Io
        | C::CorruptDownload
        | C::Refused
        | C::NotReady
        | C::Internal => OTHER,
    }
}

/// The exit code of a command that ends on this task: a failed task exits with its
/// error's code (a plain generation failure, or a code this build does not know, with 5).
pub fn for_task(task: &Task) -> i32 {
    match task.status {
        TaskStatus::Failed => match task.error_code.as_deref().and_then(parse_code) {
            Some(code) if code != ApiErrorCode::GenerationFailed => for_code(code),
            _ => FAILED,
        },
        TaskStatus::OutcomeUnknown => UNKNOWN,
        TaskStatus::Submitting | TaskStatus::Running | TaskStatus::Succeeded | TaskStatus::Cancelled => OK,
    }
}

/// A stored code (its wire name) back into the enum.
fn parse_code(name: &str) -> Option<ApiErrorCode> {
    studio::error::ALL.iter().find(|(_, n)| *n == name).map(|(code, _)| *code)
}

/// What to do about an error, when there is something to say beyond its message.
pub fn hint(code: ApiErrorCode) -> Option<&'static str> {
    use ApiErrorCode as C;
    Some(match code {
        C::NoKey | C::Unauthorized | C::KeyringUnavailable => {
            "Set a working key with `kie key set` (get one at https://kie.ai/api-key)."
        }
        C::InsufficientCredits => "Top up your credits at https://kie.ai, then try again.",
        C::OutcomeUnknown => {
            "Kie may or may not have this task; it was not sent again, so you are not charged twice. \
             Check your Kie account; resubmit on purpose if it is not there."
        }
        C::ModelPaused | C::FeatureDisabled => "Kie has switched this model off for now; try again later.",
        C::RateLimited | C::Unavailable | C::ServerError | C::Timeout | C::Connection => {
            "Kie is busy or unreachable; try again in a little while."
        }
        C::DbCorrupt => {
            "Nothing was changed. Open Kie Studio and choose \"Set it aside and start afresh\": it keeps the \
             damaged file and starts a new library with every task it can still read."
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_table() {
        use ApiErrorCode as C;
        let want = [
            (C::InvalidInput, 2),
            (C::InvalidRequest, 2),
            (C::NoKey, 3),
            (C::Unauthorized, 3),
            (C::KeyringUnavailable, 3),
            (C::InsufficientCredits, 4),
            (C::GenerationFailed, 5),
            (C::ModelPaused, 5),
            (C::OutcomeUnknown, 6),
            (C::NotFound, 1),
            (C::NotInLibrary, 1),
            (C::Connection, 1),
            (C::Internal, 1),
        ];
        for (code, exit) in want {
            assert_eq!(for_code(code), exit, "{code}");
        }
        for (code, name) in studio::error::ALL {
            assert_eq!(parse_code(name), Some(*code));
        }
        assert_eq!(parse_code("something_new"), None);
    }
}
