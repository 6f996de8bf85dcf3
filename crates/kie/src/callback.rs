//! Callback signing: `X-Webhook-Signature` = base64(HMAC-SHA256(taskId + "." + timestamp, key)).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::secret::ApiKey;

pub const TIMESTAMP_HEADER: &str = "X-Webhook-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Webhook-Signature";

/// The signature Kie puts on a callback for `task_id` at `timestamp` (seconds).
pub fn sign(key: &ApiKey, task_id: &str, timestamp: i64) -> String {
    base64::engine::general_purpose::STANDARD.encode(mac(key, task_id, timestamp).finalize().into_bytes())
}

/// Checks a callback's signature in constant time, and that its timestamp is within
/// `max_skew_secs` of `now_secs` (replays of old callbacks are refused).
pub fn verify(key: &ApiKey, task_id: &str, timestamp: i64, signature: &str, now_secs: i64, max_skew_secs: i64) -> bool {
    if (now_secs - timestamp).abs() > max_skew_secs {
        return false;
    }
    let Ok(given) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    mac(key, task_id, timestamp).verify_slice(&given).is_ok()
}

fn mac(key: &ApiKey, task_id: &str, timestamp: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose().as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{task_id}.{timestamp}").as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let key = ApiKey::new("k1").unwrap();
        let sig = sign(&key, "task-1", 1_700_000_000);
        assert!(verify(&key, "task-1", 1_700_000_000, &sig, 1_700_000_010, 300));
        assert!(!verify(&key, "task-2", 1_700_000_000, &sig, 1_700_000_010, 300));
        assert!(!verify(&ApiKey::new("k2").unwrap(), "task-1", 1_700_000_000, &sig, 1_700_000_010, 300));
        assert!(!verify(&key, "task-1", 1_700_000_000, &sig, 1_700_009_000, 300));
        assert!(!verify(&key, "task-1", 1_700_000_000, "not base64!", 1_700_000_000, 300));
    }
}
