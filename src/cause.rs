//! The vocabulary of root causes that diagnose and explain report.
//!
//! Each finding carries exactly one cause. The kebab-case names are part of
//! the JSON contract documented in the README, so renaming a variant is a
//! breaking change.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Root cause of a failing image pull, or of an image that will fail to pull.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    TagNotFound,
    RepositoryNotFound,
    DigestNotFound,
    /// The runtime reported "not found" and the registry could not be asked
    /// which of tag, repository or digest is missing.
    ManifestNotFound,
    PlatformNotFound,
    BlobNotFound,
    CredentialsMissing,
    CredentialsRejected,
    AccessDenied,
    SecretNotFound,
    SecretInvalid,
    SecretHostMismatch,
    TlsError,
    HttpHttpsMismatch,
    DnsError,
    RegistryUnreachable,
    RegistryError,
    RateLimited,
    InvalidReference,
    ImageNotPresent,
    UnsupportedMediaType,
    ImageAvailableNow,
    StaleImage,
    Unknown,
}

impl Cause {
    /// Every cause, in the order the README lists them.
    pub const ALL: [Cause; 24] = [
        Cause::TagNotFound,
        Cause::RepositoryNotFound,
        Cause::DigestNotFound,
        Cause::ManifestNotFound,
        Cause::PlatformNotFound,
        Cause::BlobNotFound,
        Cause::CredentialsMissing,
        Cause::CredentialsRejected,
        Cause::AccessDenied,
        Cause::SecretNotFound,
        Cause::SecretInvalid,
        Cause::SecretHostMismatch,
        Cause::TlsError,
        Cause::HttpHttpsMismatch,
        Cause::DnsError,
        Cause::RegistryUnreachable,
        Cause::RegistryError,
        Cause::RateLimited,
        Cause::InvalidReference,
        Cause::ImageNotPresent,
        Cause::UnsupportedMediaType,
        Cause::ImageAvailableNow,
        Cause::StaleImage,
        Cause::Unknown,
    ];

    /// Returns the kebab-case name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::TagNotFound => "tag-not-found",
            Cause::RepositoryNotFound => "repository-not-found",
            Cause::DigestNotFound => "digest-not-found",
            Cause::ManifestNotFound => "manifest-not-found",
            Cause::PlatformNotFound => "platform-not-found",
            Cause::BlobNotFound => "blob-not-found",
            Cause::CredentialsMissing => "credentials-missing",
            Cause::CredentialsRejected => "credentials-rejected",
            Cause::AccessDenied => "access-denied",
            Cause::SecretNotFound => "secret-not-found",
            Cause::SecretInvalid => "secret-invalid",
            Cause::SecretHostMismatch => "secret-host-mismatch",
            Cause::TlsError => "tls-error",
            Cause::HttpHttpsMismatch => "http-https-mismatch",
            Cause::DnsError => "dns-error",
            Cause::RegistryUnreachable => "registry-unreachable",
            Cause::RegistryError => "registry-error",
            Cause::RateLimited => "rate-limited",
            Cause::InvalidReference => "invalid-reference",
            Cause::ImageNotPresent => "image-not-present",
            Cause::UnsupportedMediaType => "unsupported-media-type",
            Cause::ImageAvailableNow => "image-available-now",
            Cause::StaleImage => "stale-image",
            Cause::Unknown => "unknown",
        }
    }

    /// Returns one sentence on what the cause means, for `explain` and the README.
    pub fn meaning(self) -> &'static str {
        match self {
            Cause::TagNotFound => "The repository exists but has no such tag.",
            Cause::RepositoryNotFound => "The registry has no repository of that name.",
            Cause::DigestNotFound => "The repository has no manifest with that digest.",
            Cause::ManifestNotFound => {
                "The runtime got \"not found\" for the manifest; the tag, the repository \
                 or the digest is missing."
            }
            Cause::PlatformNotFound => {
                "The image exists but has no variant for the node's OS and architecture."
            }
            Cause::BlobNotFound => {
                "The manifest resolves but a layer or config blob it names is missing \
                 (half-pushed or garbage-collected image)."
            }
            Cause::CredentialsMissing => {
                "The registry requires authentication and the pull sent no credentials."
            }
            Cause::CredentialsRejected => "The registry rejected the username or password.",
            Cause::AccessDenied => {
                "The credentials are valid but have no pull access to this repository."
            }
            Cause::SecretNotFound => "A pull secret the pod refers to does not exist.",
            Cause::SecretInvalid => "A pull secret exists but the kubelet cannot use it.",
            Cause::SecretHostMismatch => {
                "The pull secrets hold credentials, but none for this registry host."
            }
            Cause::TlsError => {
                "The TLS handshake failed: the registry's certificate is not trusted, \
                 expired or issued for another name."
            }
            Cause::HttpHttpsMismatch => {
                "The client spoke HTTPS to a plain-HTTP registry, or the reverse."
            }
            Cause::DnsError => "The registry host name does not resolve.",
            Cause::RegistryUnreachable => {
                "The registry did not answer: connection refused, reset or timed out."
            }
            Cause::RegistryError => "The registry responded with a server error (5xx).",
            Cause::RateLimited => "The registry answered 429 Too Many Requests.",
            Cause::InvalidReference => "The image reference is not a valid name.",
            Cause::ImageNotPresent => {
                "The pull policy is Never and the node does not have the image."
            }
            Cause::UnsupportedMediaType => {
                "The manifest has a media type the runtime does not accept."
            }
            Cause::ImageAvailableNow => {
                "The pull failed earlier but the image resolves now; the pod is waiting \
                 for its back-off to expire."
            }
            Cause::StaleImage => {
                "The running container's digest differs from what its tag points to now."
            }
            Cause::Unknown => "The message matches no known cause.",
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_name_matches_as_str() {
        for cause in Cause::ALL {
            let json = serde_json::to_string(&cause).unwrap();
            assert_eq!(json, format!("\"{}\"", cause.as_str()));
            let back: Cause = serde_json::from_str(&json).unwrap();
            assert_eq!(back, cause);
        }
    }

    #[test]
    fn all_lists_each_cause_once() {
        let mut names: Vec<_> = Cause::ALL.iter().map(|c| c.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Cause::ALL.len());
    }
}
