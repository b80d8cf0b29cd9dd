//! A string type for passwords and tokens that never prints its value.

use std::fmt;

use serde::{Serialize, Serializer};

/// Placeholder printed in place of a secret.
pub const REDACTED: &str = "***";

/// A password, token or `auth` value.
///
/// `Debug`, `Display` and `Serialize` write [`REDACTED`] instead of the value,
/// so a credential cannot reach a log line, an error message, a panic message
/// or JSON output by accident. Only [`SecretString::expose`] returns the value.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        SecretString(value.into())
    }

    /// Returns the secret value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Returns whether the value is empty, which Docker and the kubelet treat
    /// as "not set".
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        SecretString(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        SecretString(value.to_string())
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for SecretString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: &str = "canary-7f3a9c-secret-value";

    #[test]
    fn secret_string_formats_redacted() {
        let secret = SecretString::new(CANARY);
        let cases = [
            ("debug", format!("{secret:?}")),
            ("display", format!("{secret}")),
            ("alternate debug", format!("{secret:#?}")),
            ("padded display", format!("{secret:>40}")),
            ("json", serde_json::to_string(&secret).unwrap()),
            ("debug in option", format!("{:?}", Some(secret.clone()))),
        ];
        for (name, text) in cases {
            assert!(!text.contains(CANARY), "{name} shows the secret");
            assert!(text.contains(REDACTED), "{name} lacks the placeholder");
        }
    }

    #[test]
    fn secret_string_exposes_value() {
        let secret = SecretString::from(CANARY);
        assert_eq!(secret.expose(), CANARY);
        assert!(!secret.is_empty());
        assert!(SecretString::default().is_empty());
    }
}
