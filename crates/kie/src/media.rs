//! Recognising files by their first bytes, never by a name or a URL.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Jpeg,
    Png,
    Webp,
    Gif,
    Mp4,
}

impl MediaKind {
    pub fn sniff(head: &[u8]) -> Option<MediaKind> {
        if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(MediaKind::Jpeg)
        } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(MediaKind::Png)
        } else if head.len() >= 12 && &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
            Some(MediaKind::Webp)
        } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
            Some(MediaKind::Gif)
        } else if head.len() >= 8 && &head[4..8] == b"ftyp" {
            Some(MediaKind::Mp4)
        } else {
            None
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            MediaKind::Jpeg => "jpg",
            MediaKind::Png => "png",
            MediaKind::Webp => "webp",
            MediaKind::Gif => "gif",
            MediaKind::Mp4 => "mp4",
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            MediaKind::Jpeg => "image/jpeg",
            MediaKind::Png => "image/png",
            MediaKind::Webp => "image/webp",
            MediaKind::Gif => "image/gif",
            MediaKind::Mp4 => "video/mp4",
        }
    }

    pub fn is_image(self) -> bool {
        !matches!(self, MediaKind::Mp4)
    }

    /// What the file at `path` is, by its first bytes (only those are read).
    pub fn sniff_path(path: &std::path::Path) -> std::io::Result<Option<MediaKind>> {
        use std::io::Read;
        let mut head = Vec::with_capacity(16);
        std::fs::File::open(path)?.take(16).read_to_end(&mut head)?;
        Ok(MediaKind::sniff(&head))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_by_magic() {
        assert_eq!(MediaKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(MediaKind::Jpeg));
        assert_eq!(MediaKind::sniff(b"\x89PNG\r\n\x1a\n...."), Some(MediaKind::Png));
        assert_eq!(MediaKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(MediaKind::Webp));
        assert_eq!(MediaKind::sniff(b"\0\0\0\x20ftypisom"), Some(MediaKind::Mp4));
        assert_eq!(MediaKind::sniff(b"GIF89a.."), Some(MediaKind::Gif));
        assert_eq!(MediaKind::sniff(b"<html>"), None);
        assert_eq!(MediaKind::sniff(b""), None);
    }

    #[test]
    fn sniffs_files_by_their_first_bytes() {
        let dir = std::env::temp_dir().join(format!("kie-media-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let video = dir.join("clip.dat");
        let mut bytes = b"\0\0\0\x20ftypisom".to_vec();
        bytes.resize(100_000, 7);
        std::fs::write(&video, &bytes).unwrap();
        assert_eq!(MediaKind::sniff_path(&video).unwrap(), Some(MediaKind::Mp4));
        let short = dir.join("short");
        std::fs::write(&short, b"GIF").unwrap();
        assert_eq!(MediaKind::sniff_path(&short).unwrap(), None);
        assert!(MediaKind::sniff_path(&dir.join("missing")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
