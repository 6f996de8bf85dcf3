//! When and how long to wait before trying a call again. Pure: the clock and the random
//! jitter are passed in, so the schedule is testable.

use std::time::{Duration, SystemTime};

use crate::error::KieError;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The first backoff; it doubles each attempt.
    pub base: Duration,
    /// No backoff grows beyond this.
    pub cap: Duration,
    /// A `Retry-After` longer than this is not waited out inside one call: the error is
    /// returned so the caller (the poller, the user) can decide, instead of hanging.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// No retries at all.
    pub fn none() -> Self {
        RetryPolicy { max_attempts: 1, ..RetryPolicy::default() }
    }

    /// Capped exponential backoff with "equal jitter": half fixed, half random, so retries
    /// from many tasks spread out but never collapse to zero. `failures` counts the failed
    /// attempts so far (1 after the first failure); `jitter` is uniform in [0, 1).
    pub fn backoff(&self, failures: u32, jitter: f64) -> Duration {
        let exp = self.base.saturating_mul(1u32.checked_shl(failures.saturating_sub(1)).unwrap_or(u32::MAX));
        let ceiling = exp.min(self.cap);
        let half = ceiling / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }

    /// How long to wait after `err`, or `None` if the call should not be retried now:
    /// attempts are used up, or Kie asked for a longer pause than we wait out in-line.
    pub fn next_delay(&self, err: &KieError, failures: u32, jitter: f64) -> Option<Duration> {
        if failures >= self.max_attempts {
            return None;
        }
        match err.retry_after() {
            Some(wait) if wait > self.max_retry_after => None,
            // Kie's own figure wins, but never less than our backoff floor of zero.
            Some(wait) => Some(wait),
            None => Some(self.backoff(failures, jitter)),
        }
    }
}

/// Reads a `Retry-After` header: delay-seconds or an HTTP date (relative to `now`).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    if let Ok(secs) = value.parse::<f64>() {
        if secs.is_finite() && secs >= 0.0 {
            return Some(Duration::from_secs_f64(secs));
        }
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Failure;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_bounded_jitter() {
        let p = RetryPolicy {
            max_attempts: 10,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(1),
            ..Default::default()
        };
        assert_eq!(p.backoff(1, 0.0), Duration::from_millis(50));
        assert_eq!(p.backoff(1, 0.999_999).as_millis(), 99);
        assert_eq!(p.backoff(2, 0.0), Duration::from_millis(100));
        assert_eq!(p.backoff(3, 0.0), Duration::from_millis(200));
        assert_eq!(p.backoff(5, 0.0), Duration::from_millis(500));
        assert_eq!(p.backoff(6, 0.0), Duration::from_millis(500));
        assert_eq!(p.backoff(60, 1.0), Duration::from_secs(1));
    }

    #[test]
    fn honours_retry_after_and_gives_up() {
        let p = RetryPolicy { max_attempts: 3, ..Default::default() };
        let limited = KieError::RateLimited { failure: Failure::wire("x"), retry_after: Some(Duration::from_secs(7)) };
        assert_eq!(p.next_delay(&limited, 1, 0.5), Some(Duration::from_secs(7)));
        assert_eq!(p.next_delay(&limited, 3, 0.5), None);
        let long = KieError::RateLimited { failure: Failure::wire("x"), retry_after: Some(Duration::from_secs(3600)) };
        assert_eq!(p.next_delay(&long, 1, 0.5), None);
        let server = KieError::Server(Failure::wire("x"));
        assert!(p.next_delay(&server, 1, 0.5).unwrap() <= p.base);
    }

    #[test]
    fn parses_retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("5", now), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(30)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }
}
