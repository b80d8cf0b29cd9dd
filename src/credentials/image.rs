//! The repository name under which the kubelet looks up credentials.

use oci_client::Reference;
use thiserror::Error;

/// Maximum length of a repository name, registry included, that Docker
/// accepts.
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// An image reference that the kubelet's parser rejects.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("invalid image reference {reference:?}: {reason}")]
pub struct ImageNameError {
    pub reference: String,
    pub reason: String,
}

/// Returns the repository name the kubelet passes to its keyring for
/// `reference`: Docker's normalised name without tag or digest, for example
/// `docker.io/library/nginx` for `nginx:1.27` and `host:5000/team/app` for
/// `host:5000/team/app@sha256:...`.
///
/// The kubelet gets this name from `reference.ParseNormalizedNamed` of
/// github.com/distribution/reference. The syntax check uses
/// [`oci_client::Reference`]. The split into registry and path follows
/// distribution's `splitDockerDomain` instead of oci-client's, because
/// oci-client's puts a first component with upper-case letters (`Team/app`)
/// on Docker Hub, while Docker reads it as a registry host. The total
/// length limit also counts the registry, as Docker's does.
pub fn normalize_image(reference: &str) -> Result<String, ImageNameError> {
    let error = |reason: &str| ImageNameError {
        reference: reference.to_string(),
        reason: reason.to_string(),
    };
    if reference.len() == 64
        && reference
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
        return Err(error(
            "a 64-character hexadecimal string is an image ID, not a name",
        ));
    }
    Reference::try_from(reference).map_err(|parse_error| error(&parse_error.to_string()))?;

    let name = strip_tag_and_digest(reference);
    let (domain, remote) = split_docker_domain(name);
    if remote.to_lowercase() != remote {
        return Err(error("repository name must be lowercase"));
    }
    let normalized = format!("{domain}/{remote}");
    if normalized.len() > NAME_TOTAL_LENGTH_MAX {
        return Err(error(
            "repository name must not be more than 255 characters",
        ));
    }
    Ok(normalized)
}

fn strip_tag_and_digest(reference: &str) -> &str {
    let name = reference.split('@').next().unwrap_or(reference);
    let last_slash = name.rfind('/').map_or(0, |index| index + 1);
    match name[last_slash..].find(':') {
        Some(colon) => &name[..last_slash + colon],
        None => name,
    }
}

/// Splits a name into registry and path as distribution's
/// `splitDockerDomain` does.
fn split_docker_domain(name: &str) -> (String, String) {
    let (domain, remote) = match name.split_once('/') {
        None => ("docker.io", name.to_string()),
        Some(("localhost", rest)) => ("localhost", rest.to_string()),
        Some(("index.docker.io", rest)) => ("docker.io", rest.to_string()),
        Some((first, rest)) if first.contains(['.', ':']) => (first, rest.to_string()),
        Some((first, rest)) if first.to_lowercase() != first => (first, rest.to_string()),
        Some(_) => ("docker.io", name.to_string()),
    };
    if domain == "docker.io" && !remote.contains('/') {
        return (domain.to_string(), format!("library/{remote}"));
    }
    (domain.to_string(), remote)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_image_docker_rules() {
        // (name, reference, repository name)
        let cases = [
            ("official image", "nginx", "docker.io/library/nginx"),
            ("official with tag", "nginx:1.27", "docker.io/library/nginx"),
            ("user image", "team/app:v1", "docker.io/team/app"),
            (
                "docker.io single",
                "docker.io/nginx",
                "docker.io/library/nginx",
            ),
            (
                "legacy hub host",
                "index.docker.io/team/app",
                "docker.io/team/app",
            ),
            (
                "registry-1 stays",
                "registry-1.docker.io/library/nginx",
                "registry-1.docker.io/library/nginx",
            ),
            (
                "private host",
                "registry.example.com/team/app:v1",
                "registry.example.com/team/app",
            ),
            (
                "host and port",
                "registry.example.com:5000/app",
                "registry.example.com:5000/app",
            ),
            ("localhost", "localhost/app", "localhost/app"),
            (
                "localhost port",
                "localhost:5000/app:dev",
                "localhost:5000/app",
            ),
            (
                "host with no path slash",
                "registry.example.com:5000/a/b/c",
                "registry.example.com:5000/a/b/c",
            ),
            (
                "digest",
                "quay.io/coreos/etcd@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "quay.io/coreos/etcd",
            ),
            (
                "tag and digest",
                "nginx:1.27@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "docker.io/library/nginx",
            ),
            (
                "upper-case host",
                "Registry.example.com/app",
                "Registry.example.com/app",
            ),
            ("upper-case first part", "Team/app", "Team/app"),
            ("ipv4 host", "10.0.0.5:9595/app", "10.0.0.5:9595/app"),
        ];
        for (name, reference, expected) in cases {
            assert_eq!(
                normalize_image(reference).as_deref(),
                Ok(expected),
                "{name}"
            );
        }
    }

    #[test]
    fn normalize_image_rejects_invalid() {
        // (name, reference, reason start)
        let cases = [
            ("empty", "", "repository name must have"),
            ("upper-case path", "team/App", "invalid reference format"),
            ("space", "nginx latest", "invalid reference format"),
            (
                "short digest",
                "nginx@sha256:0123456789abcdef0123456789abcdef01234567",
                "invalid checksum digest length",
            ),
            (
                "digest not hex",
                "nginx@sha256:abc",
                "invalid reference format",
            ),
            (
                "image id",
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                "a 64-character",
            ),
        ];
        for (name, reference, reason) in cases {
            match normalize_image(reference) {
                Ok(normalized) => panic!("{name}: accepted as {normalized}"),
                Err(error) => assert!(error.reason.starts_with(reason), "{name}: {error}"),
            }
        }
    }
}
