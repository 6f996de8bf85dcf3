//! The API key, in a type that never prints or serializes itself.

use std::fmt;

/// A Kie API key. `Debug` and `Display` redact it; it has no `Serialize`, so it cannot
/// end up in JSON, logs or the web view by accident. Read it with [`ApiKey::expose`]
/// only where it is put into an `Authorization` header or a keyring.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Trims surrounding whitespace (pasted keys often carry a newline).
    /// Returns `None` for an empty key.
    pub fn new(key: impl Into<String>) -> Option<Self> {
        let key = key.into();
        let trimmed = key.trim();
        if trimmed.is_empty() {
            None
        } else {
            Some(ApiKey(trimmed.to_string()))
        }
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
}
