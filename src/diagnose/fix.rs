//! The fix line of a finding: what to change, naming the user's real objects.

use crate::cause::Cause;
use crate::registry::ImageRef;

/// Objects and facts that a fix line may name.
pub struct FixContext<'a> {
    pub namespace: &'a str,
    pub pod: &'a str,
    pub container: &'a str,
    pub image: &'a str,
    pub parsed: Option<&'a ImageRef>,
    /// `deployment/web` and the like, when the pod has an owner.
    pub workload: Option<&'a str>,
    pub closest_tags: &'a [String],
    pub node: Option<&'a str>,
    pub node_platform: Option<&'a str>,
    pub platforms: &'a [String],
    /// The secret the fix is about: the missing, invalid or rejected one.
    pub secret: Option<&'a str>,
    pub service_account: &'a str,
    pub username: Option<&'a str>,
    pub http_status: Option<u16>,
}

/// Writes the fix for `cause`.
pub fn fix_for(cause: Cause, cx: &FixContext<'_>) -> String {
    let ns = cx.namespace;
    let server = cx.parsed.map(|p| p.registry.as_str()).unwrap_or("REGISTRY");
    let target = cx
        .workload
        .map(str::to_string)
        .unwrap_or_else(|| format!("pod/{}", cx.pod));
    let create_secret = |name: &str| {
        format!(
            "kubectl create secret docker-registry {name} -n {ns} --docker-server={server} \
             --docker-username={} --docker-password=PASSWORD",
            cx.username.unwrap_or("USER")
        )
    };
    match cause {
        Cause::TagNotFound => {
            let repository = cx
                .parsed
                .map(|p| p.name())
                .unwrap_or_else(|| cx.image.to_string());
            match cx.closest_tags.first() {
                Some(tag) => format!(
                    "Use an existing tag ({}), e.g. kubectl set image {target} {}={repository}:{tag} -n {ns}, \
                     or push the missing tag.",
                    cx.closest_tags.join(", "),
                    cx.container
                ),
                None => {
                    format!("Push the image to {repository}, or point {target} at an existing tag.")
                }
            }
        }
        Cause::RepositoryNotFound => format!(
            "Correct the repository in {target}'s image, or push the image to {}.",
            cx.parsed
                .map(|p| p.name())
                .unwrap_or_else(|| cx.image.to_string())
        ),
        Cause::DigestNotFound => format!(
            "Pin {target} to a digest that exists (skopeo inspect --format {{{{.Digest}}}} docker://{}:TAG prints one), or push the image.",
            cx.parsed
                .map(|p| p.name())
                .unwrap_or_else(|| cx.image.to_string())
        ),
        Cause::ManifestNotFound => format!(
            "Check that the tag and repository exist: skopeo list-tags docker://{}",
            cx.parsed
                .map(|p| p.name())
                .unwrap_or_else(|| cx.image.to_string())
        ),
        Cause::PlatformNotFound => {
            let mut wanted: Vec<&str> = cx.node_platform.into_iter().collect();
            for platform in cx.platforms {
                if !wanted.contains(&platform.as_str()) {
                    wanted.push(platform);
                }
            }
            if wanted.is_empty() {
                wanted.push("linux/amd64");
            }
            format!(
                "Push a variant for {} (e.g. docker buildx build --platform {} --push), or schedule \
                 {target} on matching nodes with a nodeSelector on kubernetes.io/arch.",
                cx.node_platform.unwrap_or("the node's platform"),
                wanted.join(",")
            )
        }
        Cause::BlobNotFound => format!(
            "Push {} again: the registry lost a blob it names (garbage collection or an interrupted push).",
            cx.image
        ),
        Cause::CredentialsMissing => format!(
            "List a pull secret for {server} in {target}'s imagePullSecrets (or in serviceaccount \
             {} and recreate the pod); if the namespace has none, create one: {}",
            cx.service_account,
            create_secret(&format!("{}-pull", sanitize_name(server)))
        ),
        Cause::CredentialsRejected => format!(
            "Update secret {} with the current password: {} --dry-run=client -o yaml | kubectl apply -f -",
            cx.secret.unwrap_or("regcred"),
            create_secret(cx.secret.unwrap_or("regcred"))
        ),
        Cause::AccessDenied => format!(
            "Grant {} pull access to {} in the registry, or use credentials that have it.",
            cx.username
                .map(|u| format!("user {u}"))
                .unwrap_or_else(|| "the login".to_string()),
            cx.parsed.map(|p| p.repository.as_str()).unwrap_or(cx.image)
        ),
        Cause::SecretNotFound => format!(
            "Create the secret: {}",
            create_secret(cx.secret.unwrap_or("regcred"))
        ),
        Cause::SecretInvalid => format!(
            "Recreate secret {} as type kubernetes.io/dockerconfigjson: kubectl delete secret {} -n {ns} && {}",
            cx.secret.unwrap_or("regcred"),
            cx.secret.unwrap_or("regcred"),
            create_secret(cx.secret.unwrap_or("regcred"))
        ),
        Cause::SecretHostMismatch => format!(
            "Add a pull secret whose key names {server} exactly (host and port) and list it \
             beside {} in {target}'s imagePullSecrets; recreating {} would drop its other \
             entries: {}",
            cx.secret.unwrap_or("the existing secret"),
            cx.secret.unwrap_or("the existing secret"),
            create_secret(&format!("{}-pull", sanitize_name(server)))
        ),
        Cause::TlsError => format!(
            "Make the nodes trust the registry's CA (containerd: ca = \"...\" in \
             /etc/containerd/certs.d/{server}/hosts.toml) or fix its certificate; check with \
             skopeo inspect --cert-dir DIR docker://{}.",
            cx.image
        ),
        Cause::HttpHttpsMismatch => format!(
            "Serve the registry over TLS, or configure the runtime for plain HTTP (containerd: \
             server = \"http://{server}\" in /etc/containerd/certs.d/{server}/hosts.toml)."
        ),
        Cause::DnsError => format!(
            "Make {} resolvable from the nodes (cluster DNS and node resolv.conf), or use a resolvable host.",
            crate::registry::reference::strip_port(server)
        ),
        Cause::RegistryUnreachable => format!(
            "Check that the registry {server} is running and reachable from the nodes (port, firewall, proxy)."
        ),
        Cause::RegistryError => format!(
            "The registry {server} failed{}: check its logs and storage, then retry.",
            cx.http_status
                .map(|s| format!(" with HTTP {s}"))
                .unwrap_or_default()
        ),
        Cause::RateLimited => "Wait for the limit to reset, pull with credentials (higher limits), or mirror the image to a registry you run.".to_string(),
        Cause::InvalidReference => format!(
            "Fix the image reference of container {} in {target}: lowercase repository, valid tag or digest.",
            cx.container
        ),
        Cause::ImageNotPresent => format!(
            "Load the image onto node {} or set imagePullPolicy: IfNotPresent in {target}.",
            cx.node.unwrap_or("NODE")
        ),
        Cause::UnsupportedMediaType => format!(
            "Push {} as an OCI or Docker schema 2 image, e.g. skopeo copy --format oci SOURCE docker://{}.",
            cx.image, cx.image
        ),
        Cause::ImageAvailableNow => format!(
            "Nothing to fix now; the kubelet retries after its back-off (at most 5 minutes). To retry at once: \
             kubectl delete pod {} -n {ns}",
            cx.pod
        ),
        Cause::StaleImage => match cx.workload {
            Some(workload) => format!("kubectl zot restart {workload} -n {ns}"),
            None => format!(
                "Delete pod {} -n {ns} so that it is recreated with the current image.",
                cx.pod
            ),
        },
        Cause::Unknown => format!(
            "Read the pod's events: kubectl describe pod {} -n {ns}",
            cx.pod
        ),
    }
}

/// Turns a registry host into a valid secret name: `zot.example.com:5000` is
/// `zot-example-com-5000`.
fn sanitize_name(host: &str) -> String {
    let name: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    name.trim_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_from_hosts_are_valid() {
        assert_eq!(
            sanitize_name("zot.example.com:5000"),
            "zot-example-com-5000"
        );
        assert_eq!(sanitize_name("[::1]:443"), "1--443");
    }
}
