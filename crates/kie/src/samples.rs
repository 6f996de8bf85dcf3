//! The smallest valid media files of a given length, built in memory: what the tests of
//! every crate (uploads, the CLI, the window) pick as the user's clips and sounds.

/// An ISO base-media box: 32-bit size, four-letter kind, body.
pub fn iso_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut b = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    b.extend_from_slice(body);
    b
}

/// An MP4 (or, with brand `qt  `, a MOV) whose `mvhd` says it plays `seconds`, its `mdat`
/// padded so the file is about `size` bytes (never less than the boxes need).
pub fn mp4(brand: &[u8; 4], seconds: f64, size: usize) -> Vec<u8> {
    let mut mvhd = vec![0u8; 12];
    mvhd.extend_from_slice(&1000u32.to_be_bytes());
    mvhd.extend_from_slice(&((seconds * 1000.0).round() as u32).to_be_bytes());
    mvhd.resize(100, 0);
    let mut f = iso_box(b"ftyp", &[&brand[..], &[0u8; 4][..], &b"isom"[..]].concat());
    f.extend(iso_box(b"moov", &iso_box(b"mvhd", &mvhd)));
    let pad = size.saturating_sub(f.len() + 8);
    f.extend(iso_box(b"mdat", &vec![0u8; pad]));
    f
}

/// A PCM WAV of `seconds`: 8 kHz, 16-bit mono (16 000 bytes a second).
pub fn wav(seconds: f64) -> Vec<u8> {
    let data = (seconds * 16_000.0) as u32;
    let mut f = b"RIFF".to_vec();
    f.extend_from_slice(&(36 + data).to_le_bytes());
    f.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0\x01\0");
    f.extend_from_slice(&8000u32.to_le_bytes());
    f.extend_from_slice(&16_000u32.to_le_bytes());
    f.extend_from_slice(b"\x02\0\x10\0data");
    f.extend_from_slice(&data.to_le_bytes());
    f.resize(f.len() + data as usize, 0);
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::MediaKind;

    #[test]
    fn samples_are_what_they_say() {
        assert_eq!(MediaKind::sniff(&mp4(b"isom", 2.0, 4096)), Some(MediaKind::Mp4));
        assert!(mp4(b"isom", 2.0, 4096).len() >= 4096 - 8);
        assert_eq!(MediaKind::sniff(&wav(0.5)), Some(MediaKind::Wav));
        assert_eq!(wav(0.5).len(), 44 + 8000);
    }
}
