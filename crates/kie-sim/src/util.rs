//! Small helpers: time, ids, signatures, MIME types, encodings.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// 32 lowercase hex characters, as Kie's task ids.
pub(crate) fn task_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

pub(crate) fn short_hex(n: usize) -> String {
    let s = format!("{:032x}", rand::random::<u128>());
    s[..n.min(32)].to_string()
}

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// Kie's callback signature, written from the contract (independently of the client):
/// base64(HMAC-SHA256(key, taskId + "." + timestamp)).
pub(crate) fn callback_signature(key: &str, task_id: &str, timestamp: i64) -> String {
    let mac = hmac(key.as_bytes(), format!("{task_id}.{timestamp}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac)
}

/// The `sig` of a result link: hex of HMAC(secret, path "|" exp), 32 characters.
pub(crate) fn link_signature(secret: &[u8], path: &str, exp: u64) -> String {
    let mac = hmac(secret, format!("{path}|{exp}").as_bytes());
    mac[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Content-Type by a file name's extension, as the upload host serves files.
pub(crate) fn mime_for_name(name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "m4a" => "audio/mp4",
        "txt" => "text/plain",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// A file extension for a MIME type (for uploads named by the simulator).
pub(crate) fn ext_for_mime(mime: &str) -> Option<&'static str> {
    Some(match mime.trim().to_ascii_lowercase().as_str() {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpg",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "video/mp4" => "mp4",
        "video/quicktime" => "mov",
        "video/webm" => "webm",
        "audio/mpeg" | "audio/mp3" => "mp3",
        "audio/wav" | "audio/x-wav" => "wav",
        "text/plain" => "txt",
        "application/json" => "json",
        _ => return None,
    })
}

/// A file extension from a file's first bytes (magic numbers), when recognisable.
pub(crate) fn sniff_ext(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("png")
    } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("jpg")
    } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("webp")
    } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WAVE" {
        Some("wav")
    } else if data.starts_with(b"GIF8") {
        Some("gif")
    } else if data.len() >= 8 && &data[4..8] == b"ftyp" {
        Some("mp4")
    } else if data.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        Some("webm")
    } else if data.starts_with(b"ID3") {
        Some("mp3")
    } else {
        None
    }
}

/// Percent-encodes one path segment (RFC 3986 unreserved characters stay).
pub(crate) fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `2025-01-02T03:04:05.678Z`.
pub(crate) fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, ms % 1000)
}

/// Days since 1970-01-01 to (year, month, day), after Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_signature_known_answer() {
        // Computed with Python: base64(hmac.new(b"sim-key", b"0123456789abcdef0123456789abcdef.1700000000", sha256))
        assert_eq!(
            callback_signature("sim-key", "0123456789abcdef0123456789abcdef", 1_700_000_000),
            "NvXLNP4/qWgypCBcipKaKJRmY/lF5RELKG3bQZ2PByY="
        );
    }

    #[test]
    fn dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(iso8601(1_700_000_000_000), "2023-11-14T22:13:20.000Z");
    }

    #[test]
    fn ids_and_encoding() {
        let id = task_id();
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(encode_segment("a b/ü.png"), "a%20b%2F%C3%BC.png");
        assert_eq!(mime_for_name("X.PNG"), "image/png");
        assert_eq!(mime_for_name("noext"), "application/octet-stream");
        assert_eq!(ext_for_mime("image/PNG"), Some("png"));
        assert_eq!(ext_for_mime("application/x-nope"), None);
        assert_eq!(sniff_ext(b"\x89PNG\r\n\x1a\nrest"), Some("png"));
        assert_eq!(sniff_ext(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("jpg"));
        assert_eq!(sniff_ext(b"\0\0\0\x20ftypisom"), Some("mp4"));
        assert_eq!(sniff_ext(b"hello"), None);
    }
}
