//! A minimal `multipart/form-data` reader for the upload endpoint (the whole body is in
//! memory already; this saves a parser dependency).

use bytes::Bytes;

#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

/// The `boundary` parameter of a `multipart/form-data` Content-Type.
pub(crate) fn boundary(content_type: &str) -> Option<String> {
    let (mime, params) = content_type.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case("boundary").then(|| v.trim().trim_matches('"').to_string())
    })
}

pub(crate) fn parse(boundary: &str, body: &Bytes) -> Result<Vec<Part>, String> {
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    let mut pos = find(body, delim, 0).ok_or("multipart body has no boundary")? + delim.len();
    let mut parts = Vec::new();
    loop {
        if body[pos..].starts_with(b"--") {
            return Ok(parts);
        }
        // The rest of the boundary line.
        pos = find(body, b"\r\n", pos).ok_or("multipart body ends inside a boundary line")? + 2;
        let head_end = find(body, b"\r\n\r\n", pos).ok_or("multipart part has no header end")?;
        let head = std::str::from_utf8(&body[pos..head_end]).map_err(|_| "multipart part headers are not UTF-8")?;
        let data_start = head_end + 4;
        let mut close = b"\r\n".to_vec();
        close.extend_from_slice(delim);
        let data_end = find(body, &close, data_start).ok_or("multipart part is not closed")?;
        let mut part =
            Part { name: String::new(), filename: None, content_type: None, data: body.slice(data_start..data_end) };
        for line in head.split("\r\n") {
            let Some((k, v)) = line.split_once(':') else { continue };
            if k.trim().eq_ignore_ascii_case("content-disposition") {
                for param in v.split(';').skip(1) {
                    let Some((pk, pv)) = param.split_once('=') else { continue };
                    let pv = pv.trim().trim_matches('"').to_string();
                    match pk.trim().to_ascii_lowercase().as_str() {
                        "name" => part.name = pv,
                        "filename" => part.filename = Some(pv),
                        _ => {}
                    }
                }
            } else if k.trim().eq_ignore_ascii_case("content-type") {
                part.content_type = Some(v.trim().to_string());
            }
        }
        parts.push(part);
        pos = data_end + close.len();
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    let first = needle[0];
    let mut i = from;
    while i + needle.len() <= hay.len() {
        match hay[i..hay.len() - needle.len() + 1].iter().position(|&b| b == first) {
            None => return None,
            Some(off) => {
                i += off;
                if &hay[i..i + needle.len()] == needle {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_fields_and_binary_file() {
        let ct = "multipart/form-data; boundary=\"XyZ\"";
        let b = boundary(ct).unwrap();
        assert_eq!(b, "XyZ");
        let mut body = Vec::new();
        body.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"uploadPath\"\r\n\r\nkie/in\r\n");
        body.extend_from_slice(b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n");
        body.extend_from_slice(b"\x89PNG\r\n\x1a\n\r\n--X not the end");
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
        let parts = parse(&b, &Bytes::from(body)).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "uploadPath");
        assert_eq!(&parts[0].data[..], b"kie/in");
        assert_eq!(parts[1].filename.as_deref(), Some("a.png"));
        assert_eq!(parts[1].content_type.as_deref(), Some("image/png"));
        assert_eq!(&parts[1].data[..], b"\x89PNG\r\n\x1a\n\r\n--X not the end");
        assert!(boundary("application/json").is_none());
        assert!(parse("q", &Bytes::from_static(b"junk")).is_err());
    }
}
