//! Image references, normalised the way Docker and the kubelet normalise them.

use std::fmt;

use oci_client::Reference;

/// The registry host Docker Hub images are named with.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that serves Docker Hub's registry API.
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A parsed image reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageRef {
    /// The reference as the pod spec or the user wrote it.
    pub original: String,
    /// Registry host with optional port, `docker.io` for Docker Hub.
    pub registry: String,
    /// Repository path inside the registry, e.g. `library/nginx`.
    pub repository: String,
    /// Tag, `latest` when neither tag nor digest is given.
    pub tag: Option<String>,
    /// Digest such as `sha256:...`; when present it wins over the tag, as in containerd.
    pub digest: Option<String>,
}

/// An invalid image reference and the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference {reference:?}: {reason}")]
pub struct ReferenceError {
    pub reference: String,
    pub reason: String,
}

impl ImageRef {
    /// Parses `reference` with Docker's normalisation (`nginx` is
    /// `docker.io/library/nginx:latest`).
    pub fn parse(reference: &str) -> Result<ImageRef, ReferenceError> {
        let invalid = |reason: &str| ReferenceError {
            reference: reference.to_string(),
            reason: reason.to_string(),
        };
        if reference.trim() != reference || reference.is_empty() {
            return Err(invalid("empty, or has leading or trailing white space"));
        }
        let parsed = Reference::try_from(reference).map_err(|err| {
            // The OCI grammar allows only lowercase repository paths. Report that plainly,
            // as Docker's "repository name must be lowercase" does.
            let name = reference.split(['@']).next().unwrap_or(reference);
            let path = name.split_once('/').map_or(name, |(_, rest)| rest);
            let path = path.rsplit_once(':').map_or(path, |(p, _)| p);
            if path.chars().any(|c| c.is_ascii_uppercase()) {
                invalid("repository name must be lowercase")
            } else {
                invalid(&err.to_string())
            }
        })?;
        let digest = parsed.digest().map(str::to_string);
        let tag = parsed.tag().map(str::to_string);
        Ok(ImageRef {
            original: reference.to_string(),
            registry: parsed.registry().to_string(),
            repository: parsed.repository().to_string(),
            tag,
            digest,
        })
    }

    /// Host (and port) that serves the registry API for this image.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// Returns the manifest reference to request: the digest when pinned, else the tag.
    pub fn manifest_reference(&self) -> &str {
        self.digest
            .as_deref()
            .or(self.tag.as_deref())
            .unwrap_or("latest")
    }

    /// `registry/repository`, the name the kubelet looks credentials up with.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// Returns whether the reference names a digest, so its content can never change.
    pub fn is_pinned(&self) -> bool {
        self.digest.is_some()
    }

    /// Returns the same repository with another tag, for suggestions and commands.
    pub fn with_tag(&self, tag: &str) -> String {
        format!("{}:{}", self.name(), tag)
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Returns whether `host` (with optional port) is a loopback address or `localhost`.
pub fn is_loopback_host(host: &str) -> bool {
    let name = strip_port(host);
    let name = name.trim_start_matches('[').trim_end_matches(']');
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    name.parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// `host:port` without the port; IPv6 literals keep their brackets.
pub fn strip_port(host: &str) -> &str {
    if let Some(end) = host.find(']') {
        return &host[..=end];
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_normalises_docker_hub_names() {
        let cases = [
            ("nginx", "docker.io", "library/nginx", Some("latest"), None),
            (
                "bitnami/redis:7",
                "docker.io",
                "bitnami/redis",
                Some("7"),
                None,
            ),
            (
                "index.docker.io/library/alpine",
                "docker.io",
                "library/alpine",
                Some("latest"),
                None,
            ),
            (
                "127.0.0.1:5000/openclaw/openclaw:v1",
                "127.0.0.1:5000",
                "openclaw/openclaw",
                Some("v1"),
                None,
            ),
            ("localhost/app", "localhost", "app", Some("latest"), None),
        ];
        for (input, registry, repository, tag, digest) in cases {
            let image = ImageRef::parse(input).unwrap();
            assert_eq!(image.registry, registry, "{input}");
            assert_eq!(image.repository, repository, "{input}");
            assert_eq!(image.tag.as_deref(), tag, "{input}");
            assert_eq!(image.digest.as_deref(), digest, "{input}");
        }
    }

    #[test]
    fn parse_keeps_digest_and_prefers_it() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let image = ImageRef::parse(&format!("reg.example.test/app@{digest}")).unwrap();
        assert!(image.is_pinned());
        assert_eq!(image.manifest_reference(), digest);
    }

    #[test]
    fn parse_rejects_uppercase_repository() {
        let err = ImageRef::parse("reg.example.test/openclaw/OpenClaw:latest").unwrap_err();
        assert_eq!(err.reason, "repository name must be lowercase");
    }

    #[test]
    fn parse_rejects_malformed_references() {
        for input in [
            "",
            " nginx",
            "reg.example.test/app@sha256:abc",
            "a//b",
            "app:",
        ] {
            assert!(
                ImageRef::parse(input).is_err(),
                "{input:?} should be invalid"
            );
        }
    }

    #[test]
    fn docker_hub_uses_its_api_host() {
        assert_eq!(
            ImageRef::parse("nginx").unwrap().api_host(),
            "registry-1.docker.io"
        );
        assert_eq!(
            ImageRef::parse("zot.example.test:5000/a")
                .unwrap()
                .api_host(),
            "zot.example.test:5000"
        );
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in ["127.0.0.1:5000", "localhost", "[::1]:443", "127.9.9.9"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "registry.lab.test:5000",
            "10.0.0.1",
            "localhost.example.test",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
