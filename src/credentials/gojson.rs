//! JSON values read with the Go `encoding/json` rules that the kubelet's
//! pull-secret parser depends on.
//!
//! The kubelet decodes pull secrets with Go's `json.Unmarshal` into structs
//! (k8s.io/kubernetes pkg/credentialprovider/config.go). Three of its rules
//! change which credential the kubelet ends up with, so this module keeps
//! the document order that `serde_json::Value` would lose:
//! - struct field names match case-insensitively (`Username` fills `username`),
//! - of several keys for one field, the last non-null one wins,
//! - a `null` leaves a string field unchanged but resets a map.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

/// A parsed JSON value that keeps object keys in document order.
///
/// There is deliberately no `Debug`: strings may be passwords.
pub(crate) enum Json {
    Null,
    Bool,
    Number,
    String(String),
    Array,
    Object(Vec<(String, Json)>),
}

impl Json {
    /// Names the JSON type the way an error message reads ("a number").
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool => "a boolean",
            Json::Number => "a number",
            Json::String(_) => "a string",
            Json::Array => "an array",
            Json::Object(_) => "an object",
        }
    }
}

/// A JSON syntax error with serde_json's position.
///
/// The message is one of serde_json's fixed syntax and EOF error texts
/// ("expected `,` or `}`", "EOF while parsing a string"), which do not quote
/// the input, so it cannot leak a password. [`parse`] uses no other kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) message: String,
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

/// Parses `bytes` as one JSON value, rejecting trailing data as Go does.
///
/// Go replaces invalid UTF-8 inside strings with U+FFFD where serde_json
/// rejects the document, so the bytes are converted the same way first.
/// Outside strings, U+FFFD is a syntax error for both.
pub(crate) fn parse(bytes: &[u8]) -> Result<Json, SyntaxError> {
    let text = String::from_utf8_lossy(bytes);
    serde_json::from_str::<Json>(&text).map_err(|error| {
        let message = match error.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                syntax_message(&error)
            }
            // Json accepts every value, so only syntax errors are expected.
            // Anything else gets a generic text rather than serde's message.
            _ => "invalid JSON".to_string(),
        };
        SyntaxError {
            message,
            line: error.line(),
            column: error.column(),
        }
    })
}

/// Returns serde_json's message without the " at line L column C" suffix,
/// which callers add in their own words.
fn syntax_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match text.strip_suffix(&suffix) {
        Some(stripped) => stripped.to_string(),
        None => text,
    }
}

/// Compares an object key with a struct field name as Go's `encoding/json`
/// does, with Unicode simple case folding. For the field names read here,
/// that folds ASCII letters, the long s (U+017F) to s and the Kelvin sign
/// (U+212A) to k.
pub(crate) fn go_field_name_eq(key: &str, field: &str) -> bool {
    let fold = |c: char| match c {
        '\u{017F}' => 's',
        '\u{212A}' => 'k',
        other => other.to_ascii_lowercase(),
    };
    key.chars().map(fold).eq(field.chars().map(fold))
}

/// Returns the values whose keys match `field`, in document order.
pub(crate) fn field_values<'a>(
    object: &'a [(String, Json)],
    field: &'a str,
) -> impl Iterator<Item = &'a Json> + 'a {
    object
        .iter()
        .filter(move |(key, _)| go_field_name_eq(key, field))
        .map(|(_, value)| value)
}

/// Reads a Go `string` struct field: the last non-null value wins, and a
/// value of another type is an error that names that type.
pub(crate) fn string_field(
    object: &[(String, Json)],
    field: &str,
) -> Result<Option<String>, &'static str> {
    let mut result = None;
    let mut type_error = None;
    for value in field_values(object, field) {
        match value {
            Json::Null => {}
            Json::String(text) => result = Some(text.clone()),
            other => {
                type_error.get_or_insert(other.type_name());
            }
        }
    }
    match type_error {
        Some(type_name) => Err(type_name),
        None => Ok(result),
    }
}

/// Reads a string field that the kubelet does not decode, so a value of
/// another type counts as absent instead of as an error.
pub(crate) fn optional_string_field(object: &[(String, Json)], field: &str) -> Option<String> {
    field_values(object, field)
        .filter_map(|value| match value {
            Json::String(text) => Some(text.clone()),
            _ => None,
        })
        .last()
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E: de::Error>(self, _value: bool) -> Result<Json, E> {
        Ok(Json::Bool)
    }

    fn visit_i64<E: de::Error>(self, _value: i64) -> Result<Json, E> {
        Ok(Json::Number)
    }

    fn visit_u64<E: de::Error>(self, _value: u64) -> Result<Json, E> {
        Ok(Json::Number)
    }

    fn visit_f64<E: de::Error>(self, _value: f64) -> Result<Json, E> {
        Ok(Json::Number)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Json, E> {
        Ok(Json::String(value.to_string()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Json, E> {
        Ok(Json::String(value))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        while seq.next_element::<Json>()?.is_some() {}
        Ok(Json::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut pairs = Vec::new();
        while let Some((key, value)) = map.next_entry::<String, Json>()? {
            pairs.push((key, value));
        }
        Ok(Json::Object(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(text: &str) -> Vec<(String, Json)> {
        match parse(text.as_bytes()) {
            Ok(Json::Object(pairs)) => pairs,
            Ok(other) => panic!("{text} parsed as {}", other.type_name()),
            Err(error) => panic!("{text} failed to parse: {error}"),
        }
    }

    /// (name, document, field, expected value or JSON type name)
    type FieldCase = (
        &'static str,
        &'static str,
        &'static str,
        Result<Option<&'static str>, &'static str>,
    );

    #[test]
    fn string_field_go_rules() {
        let cases: [FieldCase; 9] = [
            (
                "exact key",
                r#"{"username":"a"}"#,
                "username",
                Ok(Some("a")),
            ),
            (
                "capitalised key",
                r#"{"Username":"a"}"#,
                "username",
                Ok(Some("a")),
            ),
            (
                "upper-case key",
                r#"{"USERNAME":"a"}"#,
                "username",
                Ok(Some("a")),
            ),
            (
                "long s folds",
                "{\"u\u{017F}ername\":\"a\"}",
                "username",
                Ok(Some("a")),
            ),
            (
                "last key wins",
                r#"{"username":"a","Username":"b"}"#,
                "username",
                Ok(Some("b")),
            ),
            (
                "null keeps earlier",
                r#"{"username":"a","username":null}"#,
                "username",
                Ok(Some("a")),
            ),
            ("absent", r#"{"user":"a"}"#, "username", Ok(None)),
            ("number", r#"{"username":5}"#, "username", Err("a number")),
            ("object", r#"{"auth":{}}"#, "auth", Err("an object")),
        ];
        for (name, document, field, expected) in cases {
            let pairs = object(document);
            let got = string_field(&pairs, field);
            assert_eq!(
                got,
                expected.map(|value| value.map(str::to_string)),
                "{name}"
            );
        }
    }

    #[test]
    fn optional_string_field_ignores_types() {
        let pairs = object(r#"{"identitytoken":"t","IdentityToken":7}"#);
        assert_eq!(
            optional_string_field(&pairs, "identitytoken"),
            Some("t".to_string())
        );
    }

    #[test]
    fn parse_replaces_invalid_utf8() {
        let document = b"{\"username\":\"a\xffb\"}";
        let pairs = match parse(document) {
            Ok(Json::Object(pairs)) => pairs,
            _ => panic!("document with invalid UTF-8 in a string did not parse"),
        };
        assert_eq!(
            string_field(&pairs, "username"),
            Ok(Some("a\u{FFFD}b".to_string()))
        );
        assert!(parse(b"{\xff}").is_err());
    }

    #[test]
    fn parse_keeps_duplicate_keys_in_order() {
        let pairs = object(r#"{"b":1,"a":2,"b":3}"#);
        let keys: Vec<&str> = pairs.iter().map(|(key, _)| key.as_str()).collect();
        assert_eq!(keys, ["b", "a", "b"]);
    }

    #[test]
    fn parse_error_position() {
        // (name, document, line, column, message start)
        let cases = [
            (
                "missing comma",
                "{\"a\":1\n \"b\":2}",
                2,
                2,
                "expected `,` or `}`",
            ),
            ("unterminated", "{\"auths\":", 1, 9, "EOF while parsing"),
            ("trailing data", "{} {}", 1, 4, "trailing characters"),
            ("empty", "", 1, 0, "EOF while parsing"),
        ];
        for (name, document, line, column, message) in cases {
            let error = match parse(document.as_bytes()) {
                Ok(_) => panic!("{name}: parsed"),
                Err(error) => error,
            };
            assert_eq!(error.line, line, "{name}: line");
            assert_eq!(error.column, column, "{name}: column");
            assert!(
                error.message.starts_with(message),
                "{name}: {}",
                error.message
            );
            assert!(
                !error.message.contains("at line"),
                "{name}: {}",
                error.message
            );
        }
    }
}
