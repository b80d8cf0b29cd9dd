//! Parsers for the `WWW-Authenticate` and `Link` headers registries send.
//!
//! Hand-written because the crates that parse RFC 7235 challenges are
//! unmaintained, and the registry API uses only the small subset below.

use std::collections::BTreeMap;

/// An authentication challenge from a registry's 401 answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// Lowercase scheme: `basic` or `bearer` in practice.
    pub scheme: String,
    /// Parameters with lowercase names: `realm`, `service`, `scope`, `error`.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    pub fn is_bearer(&self) -> bool {
        self.scheme == "bearer"
    }

    pub fn is_basic(&self) -> bool {
        self.scheme == "basic"
    }
}

/// Parses a `WWW-Authenticate` value into its challenges, in order.
///
/// Accepts `Bearer realm="https://auth.example/token",service="reg",scope="a b"`
/// and several challenges in one value. Malformed parts are skipped.
pub fn parse_www_authenticate(value: &str) -> Vec<Challenge> {
    let mut challenges = Vec::new();
    let mut rest = value.trim();
    while !rest.is_empty() {
        let before = rest.len();
        let scheme_end = rest
            .find(|c: char| c.is_whitespace() || c == ',')
            .unwrap_or(rest.len());
        let scheme = rest[..scheme_end].to_ascii_lowercase();
        rest = rest[scheme_end..].trim_start_matches([' ', '\t', ',']);
        let mut params = BTreeMap::new();
        while let Some((name, after_name)) = split_param_name(rest) {
            let (param_value, after_value) = parse_param_value(after_name);
            params.insert(name.to_ascii_lowercase(), param_value);
            rest = after_value.trim_start_matches([' ', '\t']);
            match rest.strip_prefix(',') {
                Some(next) => rest = next.trim_start(),
                None => break,
            }
        }
        if !scheme.is_empty() {
            challenges.push(Challenge { scheme, params });
        }
        if rest.len() == before {
            break;
        }
    }
    challenges
}

/// Splits `name=...` at the `=`, or returns None when `rest` starts a new challenge.
fn split_param_name(rest: &str) -> Option<(&str, &str)> {
    let end = rest.find(|c: char| c == '=' || c.is_whitespace() || c == ',')?;
    if !rest[end..].starts_with('=') || end == 0 {
        return None;
    }
    Some((&rest[..end], &rest[end + 1..]))
}

/// Parses a token or quoted-string value; returns it and the remaining text.
fn parse_param_value(text: &str) -> (String, &str) {
    let Some(quoted) = text.strip_prefix('"') else {
        let end = text.find([',', ' ', '\t']).unwrap_or(text.len());
        return (text[..end].to_string(), &text[end..]);
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            '"' => return (value, &quoted[index + 1..]),
            _ => value.push(c),
        }
    }
    (value, "")
}

/// Returns the target of the `rel="next"` link in a `Link` header, if any.
///
/// The registry API pages `tags/list` and `_catalog` with
/// `Link: </v2/x/tags/list?n=100&last=t99>; rel="next"`.
pub fn parse_next_link(value: &str) -> Option<String> {
    for link in value.split(',') {
        let link = link.trim();
        let Some(rest) = link.strip_prefix('<') else {
            continue;
        };
        let Some((target, params)) = rest.split_once('>') else {
            continue;
        };
        let is_next = params.split(';').any(|param| {
            let param = param.trim();
            let Some((name, value)) = param.split_once('=') else {
                return false;
            };
            name.trim().eq_ignore_ascii_case("rel")
                && value
                    .trim()
                    .trim_matches('"')
                    .split_whitespace()
                    .any(|rel| rel.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(target.to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge_with_all_params() {
        let value = r#"Bearer realm="https://auth.example.test/token",service="registry.example.test",scope="repository:a/b:pull""#;
        let challenges = parse_www_authenticate(value);
        assert_eq!(challenges.len(), 1);
        let challenge = &challenges[0];
        assert!(challenge.is_bearer());
        assert_eq!(
            challenge.param("realm"),
            Some("https://auth.example.test/token")
        );
        assert_eq!(challenge.param("service"), Some("registry.example.test"));
        assert_eq!(challenge.param("scope"), Some("repository:a/b:pull"));
    }

    #[test]
    fn insufficient_scope_error_is_kept() {
        let value = r#"Bearer realm="https://a/token",service="s",scope="repository:x:pull",error="insufficient_scope""#;
        let challenge = &parse_www_authenticate(value)[0];
        assert_eq!(challenge.param("error"), Some("insufficient_scope"));
    }

    #[test]
    fn basic_challenge_and_case_folding() {
        let challenges = parse_www_authenticate(r#"BASIC Realm="lab registry""#);
        assert_eq!(challenges.len(), 1);
        assert!(challenges[0].is_basic());
        assert_eq!(challenges[0].param("realm"), Some("lab registry"));
    }

    #[test]
    fn two_challenges_in_one_value() {
        let challenges =
            parse_www_authenticate(r#"Basic realm="a", Bearer realm="https://b/token""#);
        let schemes: Vec<_> = challenges.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["basic", "bearer"]);
        assert_eq!(challenges[1].param("realm"), Some("https://b/token"));
    }

    #[test]
    fn quoted_values_keep_escapes_and_commas() {
        let challenge = &parse_www_authenticate(r#"Bearer realm="a\"b,c",service=plain"#)[0];
        assert_eq!(challenge.param("realm"), Some("a\"b,c"));
        assert_eq!(challenge.param("service"), Some("plain"));
    }

    #[test]
    fn garbage_does_not_loop_or_panic() {
        for value in [
            "",
            "=",
            ",,,",
            "Bearer =x",
            "Bearer realm=\"unterminated",
            "\"",
            "a=b=c",
        ] {
            let _ = parse_www_authenticate(value);
        }
    }

    #[test]
    fn next_link_is_found() {
        let value = r#"</v2/a/tags/list?n=100&last=t99>; rel="next""#;
        assert_eq!(
            parse_next_link(value).as_deref(),
            Some("/v2/a/tags/list?n=100&last=t99")
        );
        assert_eq!(parse_next_link(r#"</x>; rel="prev""#), None);
        assert_eq!(
            parse_next_link(r#"</p>; rel="prev", <https://h/n>; rel=next"#).as_deref(),
            Some("https://h/n")
        );
    }
}
