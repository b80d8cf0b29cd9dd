//! Failures of registry requests, classified for diagnosis.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One entry of the registry API's `{"errors": [...]}` body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            f.write_str(&self.code)
        } else {
            write!(f, "{}: {}", self.code, self.message)
        }
    }
}

/// Kinds of failure below HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransportKind {
    /// Certificate not trusted, expired or for another name.
    Tls,
    /// HTTPS was spoken to a server that responded in plain HTTP.
    NotTls,
    /// Plain HTTP was spoken to a server that wants HTTPS.
    HttpToTls,
    Dns,
    Refused,
    Timeout,
    Reset,
    Other,
}

/// A failed registry request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    Transport {
        kind: TransportKind,
        detail: String,
    },
    /// The registry returned a non-success status.
    Status {
        status: u16,
        errors: Vec<ApiError>,
        /// The `error` parameter of a Bearer challenge, e.g. `insufficient_scope`.
        challenge_error: Option<String>,
        /// `Retry-After` as sent, for 429 and 503.
        retry_after: Option<String>,
    },
    /// The token realm refused the credentials.
    TokenDenied {
        status: u16,
        errors: Vec<ApiError>,
    },
    /// A malformed, oversized or otherwise unusable response, or a request that was not sent
    /// because it would have exposed credentials.
    Invalid {
        detail: String,
    },
}

impl Failure {
    /// Builds a `Status` failure from an unsuccessful response, reading its error body.
    pub async fn from_response(response: reqwest::Response, what: &str) -> Failure {
        let status = response.status().as_u16();
        let challenge_error = response
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                super::challenge::parse_www_authenticate(v)
                    .into_iter()
                    .find_map(|c| c.param("error").map(str::to_string))
            });
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = super::client::read_limited(response, 64 * 1024)
            .await
            .unwrap_or_default();
        let errors = parse_error_body(&body);
        tracing::debug!(what, status, ?errors, "registry responded with an error");
        Failure::Status {
            status,
            errors,
            challenge_error,
            retry_after,
        }
    }

    /// Returns the HTTP status, when the registry responded.
    pub fn status(&self) -> Option<u16> {
        match self {
            Failure::Status { status, .. } | Failure::TokenDenied { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Returns whether the registry sent this error code (NAME_UNKNOWN, MANIFEST_UNKNOWN, ...).
    pub fn has_code(&self, code: &str) -> bool {
        match self {
            Failure::Status { errors, .. } | Failure::TokenDenied { errors, .. } => {
                errors.iter().any(|e| e.code.eq_ignore_ascii_case(code))
            }
            _ => false,
        }
    }

    /// Returns the registry's own error codes and messages, for evidence.
    pub fn registry_errors(&self) -> Vec<ApiError> {
        match self {
            Failure::Status { errors, .. } | Failure::TokenDenied { errors, .. } => errors.clone(),
            _ => Vec::new(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Transport { detail, .. } => f.write_str(detail),
            Failure::Status {
                status,
                errors,
                challenge_error,
                ..
            } => {
                write!(f, "HTTP {status}")?;
                if let Some(reason) = reqwest::StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                {
                    write!(f, " {reason}")?;
                }
                for error in errors {
                    write!(f, ", {error}")?;
                }
                if let Some(challenge_error) = challenge_error {
                    write!(f, " ({challenge_error})")?;
                }
                Ok(())
            }
            Failure::TokenDenied { status, errors } => {
                write!(
                    f,
                    "the token service refused the credentials (HTTP {status})"
                )?;
                for error in errors {
                    write!(f, ", {error}")?;
                }
                Ok(())
            }
            Failure::Invalid { detail } => f.write_str(detail),
        }
    }
}

impl std::error::Error for Failure {}

/// Parses `{"errors":[{"code":...,"message":...}]}`; other bodies give no entries.
pub fn parse_error_body(body: &[u8]) -> Vec<ApiError> {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        errors: Vec<ApiError>,
    }
    serde_json::from_slice::<Body>(body)
        .map(|b| b.errors)
        .unwrap_or_default()
}

/// Classifies a reqwest error by walking its source chain.
pub fn classify_transport(err: &reqwest::Error, host: &str) -> Failure {
    let mut chain = Vec::new();
    let mut source: Option<&dyn std::error::Error> = Some(err);
    let mut kind = None;
    while let Some(current) = source {
        chain.push(current.to_string());
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            kind = Some(match tls {
                rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
                    TransportKind::NotTls
                }
                _ => TransportKind::Tls,
            });
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && let Some(tls) = io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            // io::Error::source() skips the error it wraps, so look inside it here.
            chain.push(tls.to_string());
            kind = Some(match tls {
                rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
                    TransportKind::NotTls
                }
                _ => TransportKind::Tls,
            });
        }
        if kind.is_none()
            && let Some(io) = current.downcast_ref::<std::io::Error>()
        {
            kind = match io.kind() {
                std::io::ErrorKind::ConnectionRefused => Some(TransportKind::Refused),
                std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::UnexpectedEof => Some(TransportKind::Reset),
                std::io::ErrorKind::TimedOut => Some(TransportKind::Timeout),
                _ => None,
            };
        }
        source = current.source();
    }
    let text = chain.join(": ").to_ascii_lowercase();
    let kind = kind.unwrap_or_else(|| {
        if err.is_timeout() {
            TransportKind::Timeout
        } else if text.contains("dns error") || text.contains("failed to lookup address") {
            TransportKind::Dns
        } else if text.contains("corrupt message") || text.contains("invalidcontenttype") {
            TransportKind::NotTls
        } else if text.contains("certificate") || text.contains("tls") {
            TransportKind::Tls
        } else if text.contains("connection closed") || text.contains("incomplete message") {
            TransportKind::Reset
        } else {
            TransportKind::Other
        }
    });
    // A timeout on a reset-looking chain is still a timeout.
    let kind = if err.is_timeout() {
        TransportKind::Timeout
    } else {
        kind
    };
    let detail = match kind {
        TransportKind::Tls => format!("TLS handshake with {host} failed: {}", last(&chain)),
        TransportKind::NotTls => {
            format!(
                "{host} answered in plain HTTP to an HTTPS request ({})",
                last(&chain)
            )
        }
        TransportKind::HttpToTls => format!("{host} wants HTTPS"),
        TransportKind::Dns => format!(
            "cannot resolve {}: {}",
            super::reference::strip_port(host),
            last(&chain)
        ),
        TransportKind::Refused => format!("connection to {host} refused"),
        TransportKind::Timeout => format!("request to {host} timed out"),
        TransportKind::Reset => {
            format!("connection to {host} closed unexpectedly: {}", last(&chain))
        }
        TransportKind::Other => format!("request to {host} failed: {}", chain.join(": ")),
    };
    Failure::Transport { kind, detail }
}

/// Returns the innermost error text without the documentation link that rustls appends to
/// some errors (": https://docs.rs/rustls/..."), which tells a user nothing about the registry.
fn last(chain: &[String]) -> &str {
    let text = chain.last().map(String::as_str).unwrap_or("");
    match text.find(": https://docs.rs/") {
        Some(start) => &text[..start],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_error_drops_rustls_doc_link() {
        let chain = vec![
            "error sending request".to_string(),
            "peer closed connection without sending TLS close_notify: \
             https://docs.rs/rustls/latest/rustls/manual/_03_howto/index.html#unexpected-eof"
                .to_string(),
        ];
        assert_eq!(
            last(&chain),
            "peer closed connection without sending TLS close_notify"
        );
        assert_eq!(last(&["connection reset".to_string()]), "connection reset");
        assert_eq!(last(&[]), "");
    }

    #[test]
    fn error_body_is_parsed() {
        let body = br#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"a"}}]}"#;
        let errors = parse_error_body(body);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, "NAME_UNKNOWN");
        assert_eq!(errors[0].message, "repository name not known to registry");
    }

    #[test]
    fn non_json_error_body_gives_no_entries() {
        assert!(parse_error_body(b"<html>502 Bad Gateway</html>").is_empty());
        assert!(parse_error_body(b"").is_empty());
    }

    #[test]
    fn status_failure_displays_codes() {
        let failure = Failure::Status {
            status: 404,
            errors: vec![ApiError {
                code: "MANIFEST_UNKNOWN".into(),
                message: "manifest unknown".into(),
            }],
            challenge_error: None,
            retry_after: None,
        };
        assert_eq!(
            failure.to_string(),
            "HTTP 404 Not Found, MANIFEST_UNKNOWN: manifest unknown"
        );
        assert!(failure.has_code("manifest_unknown"));
    }
}
