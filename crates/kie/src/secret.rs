//! The API key, in a type that never prints or serializes itself.

use std::fmt;

/// A Kie API key. `Debug` and `Display` redact it; it has no `Serialize`, so it cannot
/// end up in JSON, logs or the web view by accident. Read it with [`ApiKey::expose`]
/// only where it is put into an `Authorization` header or a keyring.
///
/// Every `ApiKey` is printable ASCII without spaces (checked when it is made), so the
/// `Authorization` header it goes into can always be built.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

/// Why a pasted key cannot be used, in words for the person who pasted it. Never contains
/// the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyProblem {
    #[error("Paste your Kie API key (from kie.ai/api-key).")]
    Empty,
    #[error(
        "This key has {what} at character {position}. A Kie key is plain letters, digits and signs, \
         and this one could not be sent to Kie. Paste it again exactly as kie.ai/api-key shows it."
    )]
    BadCharacter {
        /// What the character is, in words ("a space", "a line break", ...).
        what: &'static str,
        /// Where it is in the key (1-based, after trimming), so the user can find it.
        position: usize,
    },
}

impl ApiKey {
    /// Trims surrounding whitespace (pasted keys often carry a newline), then refuses an
    /// empty key, or one with a character an HTTP header cannot carry or a Kie key does not
    /// have (a space, line break or tab inside, a control character, anything not ASCII,
    /// such as a curly quote or an invisible space pasted along).
    pub fn parse(key: &str) -> Result<Self, KeyProblem> {
        let trimmed = key.trim();
        if trimmed.is_empty() {
            return Err(KeyProblem::Empty);
        }
        if let Some((i, c)) = trimmed.chars().enumerate().find(|(_, c)| !c.is_ascii_graphic()) {
            return Err(KeyProblem::BadCharacter { what: describe(c), position: i + 1 });
        }
        Ok(ApiKey(trimmed.to_string()))
    }

    /// As [`ApiKey::parse`], without saying why: `None` for an empty or unusable key.
    pub fn new(key: impl Into<String>) -> Option<Self> {
        Self::parse(&key.into()).ok()
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The last four characters, which the UI may show so the user can tell keys apart.
    pub fn last4(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    }
}

/// A character a key cannot have, in words (never the character itself).
fn describe(c: char) -> &'static str {
    match c {
        '\n' | '\r' | '\u{2028}' | '\u{2029}' => "a line break",
        '\t' => "a tab",
        ' ' => "a space",
        '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{a0}' => "an invisible space",
        '‘' | '’' | '“' | '”' | '«' | '»' => "a curly quote",
        c if c.is_control() => "a control character",
        c if c.is_whitespace() => "a space",
        _ => "a character that is not plain ASCII",
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_itself() {
        let key = ApiKey::new("  sk-secret-1234\n").unwrap();
        assert_eq!(key.expose(), "sk-secret-1234");
        assert_eq!(format!("{key:?}"), "ApiKey(***)");
        assert_eq!(format!("{key}"), "***");
        assert!(!format!("{:?}", Some(&key)).contains("secret"));
        assert_eq!(key.last4(), "1234");
        assert_eq!(ApiKey::new("ab").unwrap().last4(), "ab");
        assert!(ApiKey::new("  \n").is_none());
    }

    #[test]
    fn refuses_characters_a_header_cannot_carry() {
        // A line break, tab or space inside, a control character, an invisible or curly
        // character pasted along: each would make the request unbuildable or the key wrong.
        for bad in ["sk-abc\ndef", "sk-abc\r\ndef", "sk-a\tb", "sk-abc def", "sk-\u{7f}x", "sk-\u{200b}abc", "“sk-abc”"]
        {
            assert!(ApiKey::new(bad).is_none(), "{bad:?}");
        }
        assert!(ApiKey::new("  sk-Abc_123.-~+/=  \n").is_some());
    }

    #[test]
    fn says_plainly_what_is_wrong_without_the_key() {
        assert_eq!(ApiKey::parse(" \n"), Err(KeyProblem::Empty));
        let err = ApiKey::parse("sk-secret\nmore").unwrap_err();
        assert_eq!(err, KeyProblem::BadCharacter { what: "a line break", position: 10 });
        let words = err.to_string();
        assert!(words.contains("a line break at character 10"), "{words}");
        assert!(!words.contains("secret"), "{words}");
        let err = ApiKey::parse("sk-\u{200b}x").unwrap_err();
        assert_eq!(err, KeyProblem::BadCharacter { what: "an invisible space", position: 4 });
        let err = ApiKey::parse("“sk-abc”").unwrap_err();
        assert_eq!(err, KeyProblem::BadCharacter { what: "a curly quote", position: 1 });
        assert_eq!(ApiKey::parse("sk ab").unwrap_err(), KeyProblem::BadCharacter { what: "a space", position: 3 });
        // Every key that parses makes a header value.
        let key = ApiKey::parse("sk-Abc_123.-~+/=!").unwrap();
        assert!(reqwest::header::HeaderValue::from_str(&format!("Bearer {}", key.expose())).is_ok());
    }
}
