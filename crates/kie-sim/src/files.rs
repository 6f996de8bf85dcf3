//! Served files: the bundled media, synthetic files of any size, uploads; byte ranges.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream;

pub(crate) static LANDSCAPE_MP4: &[u8] = include_bytes!("../assets/landscape.mp4");
pub(crate) static PORTRAIT_MP4: &[u8] = include_bytes!("../assets/portrait.mp4");
pub(crate) static LANDSCAPE_JPG: &[u8] = include_bytes!("../assets/landscape.jpg");
pub(crate) static PORTRAIT_JPG: &[u8] = include_bytes!("../assets/portrait.jpg");

const CHUNK: u64 = 64 * 1024;

/// Where a served file's bytes come from.
#[derive(Clone, Debug)]
pub(crate) enum Src {
    Static(&'static [u8]),
    /// A deterministic file of this many bytes, made on the fly.
    Synthetic(u64),
    Shared(Bytes),
}

impl Src {
    pub fn len(&self) -> u64 {
        match self {
            Src::Static(b) => b.len() as u64,
            Src::Synthetic(n) => *n,
            Src::Shared(b) => b.len() as u64,
        }
    }

    /// Bytes `start..end` (end exclusive, within the file).
    pub fn slice(&self, start: u64, end: u64) -> Bytes {
        match self {
            Src::Static(b) => Bytes::from_static(&b[start as usize..end as usize]),
            Src::Shared(b) => b.slice(start as usize..end as usize),
            Src::Synthetic(n) => Bytes::from(synthetic(*n, start, end)),
        }
    }

    /// A validator that changes whenever the content would.
    pub fn etag(&self) -> String {
        match self {
            Src::Synthetic(n) => format!("\"syn-{n}\""),
            other => {
                // FNV-1a over the first and last KiB plus the length: cheap and good enough here.
                let len = other.len();
                let head = other.slice(0, len.min(1024));
                let tail = other.slice(len.saturating_sub(1024), len);
                let mut h: u64 = 0xcbf2_9ce4_8422_2325;
                for b in head.iter().chain(tail.iter()) {
                    h ^= u64::from(*b);
                    h = h.wrapping_mul(0x0100_0000_01b3);
                }
                format!("\"{len:x}-{h:016x}\"")
            }
        }
    }
}

/// The `moov` box that closes a synthetic file big enough for it: an `mvhd` (10 s), so the
/// file is a whole MP4 (`ftyp`, `mdat`, `moov`) whose boxes add up to its length.
fn synthetic_trailer() -> [u8; TRAILER] {
    let mut t = [0u8; TRAILER];
    t[0..4].copy_from_slice(&(TRAILER as u32).to_be_bytes());
    t[4..8].copy_from_slice(b"moov");
    t[8..12].copy_from_slice(&(TRAILER as u32 - 8).to_be_bytes());
    t[12..16].copy_from_slice(b"mvhd");
    t[28..32].copy_from_slice(&1000u32.to_be_bytes());
    t[32..36].copy_from_slice(&10_000u32.to_be_bytes());
    t
}

const TRAILER: usize = 116;

/// Where the trailing `moov` of a synthetic file of `n` bytes starts (`n` when too small for one).
fn trailer_start(n: u64) -> u64 {
    if n >= 32 + 16 + TRAILER as u64 {
        n - TRAILER as u64
    } else {
        n
    }
}

/// The header of a synthetic file of `n` bytes: an `ftyp` box, then an `mdat` box
/// holding the rest but the closing `moov` (64-bit size when needed).
fn synthetic_header(n: u64) -> Vec<u8> {
    let mut h = Vec::with_capacity(48);
    h.extend_from_slice(&32u32.to_be_bytes());
    h.extend_from_slice(b"ftypisom");
    h.extend_from_slice(&0x200u32.to_be_bytes());
    h.extend_from_slice(b"isomiso2avc1mp41");
    let rest = trailer_start(n).saturating_sub(32);
    if rest <= u64::from(u32::MAX) {
        h.extend_from_slice(&(rest as u32).to_be_bytes());
        h.extend_from_slice(b"mdat");
    } else {
        h.extend_from_slice(&1u32.to_be_bytes());
        h.extend_from_slice(b"mdat");
        h.extend_from_slice(&rest.to_be_bytes());
    }
    h
}

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Bytes `start..end` of the synthetic file of `n` bytes.
pub(crate) fn synthetic(n: u64, start: u64, end: u64) -> Vec<u8> {
    let end = end.min(n);
    let mut out = Vec::with_capacity(end.saturating_sub(start) as usize);
    let header = synthetic_header(n);
    let hl = header.len() as u64;
    let mut pos = start;
    while pos < end && pos < hl {
        out.push(header[pos as usize]);
        pos += 1;
    }
    let body_end = trailer_start(n);
    while pos < end.min(body_end) {
        let word = splitmix(pos / 8).to_le_bytes();
        let from = (pos % 8) as usize;
        let take = (8 - from).min((end.min(body_end) - pos) as usize);
        out.extend_from_slice(&word[from..from + take]);
        pos += take as u64;
    }
    if pos < end {
        let trailer = synthetic_trailer();
        out.extend_from_slice(&trailer[(pos - body_end) as usize..(end - body_end) as usize]);
    }
    out
}

/// Parses a `Range` header against a file of `len` bytes.
/// `None`: serve the whole file (no header, several ranges, or one we do not understand);
/// `Some(Err)`: 416; `Some(Ok((start, end)))`: end inclusive.
pub(crate) fn parse_range(value: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = value.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let suffix: u64 = b.parse().ok()?;
        if suffix == 0 || len == 0 {
            return Some(Err(()));
        }
        return Some(Ok((len.saturating_sub(suffix), len - 1)));
    }
    let start: u64 = a.parse().ok()?;
    let end: u64 = if b.is_empty() { u64::MAX } else { b.parse().ok()? };
    if end < start {
        return None;
    }
    if start >= len {
        return Some(Err(()));
    }
    Some(Ok((start, end.min(len - 1))))
}

/// A GET answer for `src`: 200, or 206 for a satisfiable single range, or 416.
/// Always sets `Content-Length`, `Accept-Ranges: bytes` and an `ETag`.
pub(crate) fn serve(src: Src, mime: &str, req: &HeaderMap) -> Response {
    let len = src.len();
    let etag = src.etag();
    let if_range_ok = match req.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(v) => v.trim() == etag,
    };
    let range = if if_range_ok {
        req.get(header::RANGE).and_then(|v| v.to_str().ok()).and_then(|v| parse_range(v, len))
    } else {
        None
    };
    let (status, start, end) = match range {
        None => (StatusCode::OK, 0, len),
        Some(Ok((s, e))) => (StatusCode::PARTIAL_CONTENT, s, e + 1),
        Some(Err(())) => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_RANGE, hv(&format!("bytes */{len}")));
            h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
            return r;
        }
    };
    let body = Body::from_stream(stream::unfold((src, start), move |(src, pos)| async move {
        if pos >= end {
            return None;
        }
        let next = (pos + CHUNK).min(end);
        let chunk = src.slice(pos, next);
        Some((Ok::<Bytes, std::io::Error>(chunk), (src, next)))
    }));
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, hv(mime));
    h.insert(header::CONTENT_LENGTH, hv(&(end - start).to_string()));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(header::ETAG, hv(&etag));
    if status == StatusCode::PARTIAL_CONTENT {
        h.insert(header::CONTENT_RANGE, hv(&format!("bytes {start}-{}/{len}", end - 1)));
    }
    r
}

/// An S3-style XML error, as a storage CDN answers.
pub(crate) fn storage_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>\n"
    );
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/xml"));
    r
}

pub(crate) fn hv(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some(Ok((0, 99))));
        assert_eq!(parse_range("bytes=900-", 1000), Some(Ok((900, 999))));
        assert_eq!(parse_range("bytes=900-5000", 1000), Some(Ok((900, 999))));
        assert_eq!(parse_range("bytes=-100", 1000), Some(Ok((900, 999))));
        assert_eq!(parse_range("bytes=-5000", 1000), Some(Ok((0, 999))));
        assert_eq!(parse_range("bytes=1000-", 1000), Some(Err(())));
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
        assert_eq!(parse_range("bytes=5-1", 1000), None);
    }

    #[test]
    fn synthetic_is_consistent_and_starts_with_ftyp() {
        let n = 300_000;
        let whole = synthetic(n, 0, n);
        assert_eq!(whole.len() as u64, n);
        assert_eq!(&whole[4..8], b"ftyp");
        assert_eq!(&whole[36..40], b"mdat");
        assert_eq!(u32::from_be_bytes(whole[32..36].try_into().unwrap()) as u64, n - 32 - TRAILER as u64);
        assert_eq!(&whole[whole.len() - TRAILER + 4..whole.len() - TRAILER + 8], b"moov");
        for (a, b) in [(0, 10), (3, 77), (39, 41), (1001, 70_003), (n - 5, n)] {
            assert_eq!(synthetic(n, a, b), whole[a as usize..b as usize]);
        }
        for (a, b) in [(n - 200, n - 100), (n - TRAILER as u64 - 3, n - TRAILER as u64 + 9)] {
            assert_eq!(synthetic(n, a, b), whole[a as usize..b as usize]);
        }
        let big = synthetic(5 << 30, 32, 48);
        assert_eq!(u32::from_be_bytes(big[0..4].try_into().unwrap()), 1);
        assert_eq!(&big[4..8], b"mdat");
        assert_eq!(u64::from_be_bytes(big[8..16].try_into().unwrap()), (5 << 30) - 32 - TRAILER as u64);
        assert_eq!(synthetic(10, 0, 10).len(), 10);
    }

    #[test]
    fn bundled_media_are_what_they_claim() {
        for mp4 in [LANDSCAPE_MP4, PORTRAIT_MP4] {
            assert_eq!(&mp4[4..8], b"ftyp");
            assert!(mp4.len() < 60_000);
        }
        for jpg in [LANDSCAPE_JPG, PORTRAIT_JPG] {
            assert!(jpg.starts_with(&[0xFF, 0xD8, 0xFF]));
        }
    }
}
