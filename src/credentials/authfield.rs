//! The `auth` field of a Docker config entry: base64 of `username:password`.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

/// Go's `base64.StdEncoding`: padding required, non-zero trailing bits
/// accepted.
const PADDED: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Go's `base64.RawStdEncoding`: no padding allowed.
const UNPADDED: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// Reason an `auth` value cannot be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AuthError {
    /// Not base64, with a hint about the likely mistake.
    Base64(Option<&'static str>),
    /// Decodes, but without a colon. `true` when the text decodes once more
    /// to something with a colon, that is, it was encoded twice.
    NoColon(bool),
}

/// Decodes `auth` as the kubelet's `decodeDockerConfigFieldAuth`: padded
/// base64 when the trimmed value ends in `=`, unpadded otherwise, with line
/// breaks skipped as Go's decoder skips them, then split at the first colon.
pub(crate) fn decode_auth(value: &str) -> Result<(String, String), AuthError> {
    let padded = value.trim().ends_with('=');
    let cleaned: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    let engine = if padded { &PADDED } else { &UNPADDED };
    let Ok(bytes) = engine.decode(cleaned.as_bytes()) else {
        return Err(AuthError::Base64(base64_hint(value)));
    };

    let Some(colon) = bytes.iter().position(|byte| *byte == b':') else {
        return Err(AuthError::NoColon(is_encoded_twice(&bytes)));
    };
    // NOTE: Go keeps invalid UTF-8 as it is, while this replaces it with
    // U+FFFD, so such a credential would differ from the kubelet's.
    let username = String::from_utf8_lossy(&bytes[..colon]).into_owned();
    let password = String::from_utf8_lossy(&bytes[colon + 1..]).into_owned();
    Ok((username, password))
}

fn base64_hint(value: &str) -> Option<&'static str> {
    if value.contains(':') {
        Some("it contains a colon, so it looks like USERNAME:PASSWORD that was never encoded")
    } else if value.contains(['-', '_']) {
        Some("it contains - or _, which belong to the URL-safe alphabet, not the standard one")
    } else if value.trim().contains(char::is_whitespace) {
        Some("it contains a space or tab")
    } else if value != value.trim() {
        Some("it has a leading or trailing space")
    } else {
        None
    }
}

fn is_encoded_twice(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let padded = text.trim().ends_with('=');
    let engine = if padded { &PADDED } else { &UNPADDED };
    engine
        .decode(text.trim().as_bytes())
        .is_ok_and(|inner| inner.contains(&b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (name, auth value, username and password, or the error)
    type AuthCase = (
        &'static str,
        &'static str,
        Result<(&'static str, &'static str), AuthError>,
    );

    #[test]
    fn decode_auth_go_rules() {
        let cases: [AuthCase; 12] = [
            ("padded", "dXNlcjpwYXNz", Ok(("user", "pass"))),
            ("padding present", "dXNlcjpwYXNzdw==", Ok(("user", "passw"))),
            ("unpadded", "dXNlcjpwYXNzdw", Ok(("user", "passw"))),
            (
                "line breaks skipped",
                "dXNl\r\ncjpwYXNz\n",
                Ok(("user", "pass")),
            ),
            ("non-zero trailing bits", "YTp=", Ok(("a", ""))),
            ("password keeps colons", "dTpwOnE6cg==", Ok(("u", "p:q:r"))),
            ("empty parts", "Og==", Ok(("", ""))),
            (
                "padding missing a char",
                "dXNlcjpwYXNzdw=",
                Err(AuthError::Base64(None)),
            ),
            ("too much padding", "YQ===", Err(AuthError::Base64(None))),
            (
                "plain text",
                "user:pass",
                Err(AuthError::Base64(base64_hint("user:pass"))),
            ),
            ("no colon", "dXNlcnBhc3M=", Err(AuthError::NoColon(false))),
            (
                "encoded twice",
                "ZFhObGNqcHdZWE56",
                Err(AuthError::NoColon(true)),
            ),
        ];
        for (name, value, expected) in cases {
            let got = decode_auth(value);
            let got = got
                .as_ref()
                .map(|(user, password)| (user.as_str(), password.as_str()));
            assert_eq!(got, expected.as_ref().map(|pair| *pair), "{name}");
        }
    }
}
