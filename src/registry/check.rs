//! Live checks of one image against its registry, as the runtime would pull it.

use futures::future::join_all;
use oci_client::manifest::{
    IMAGE_DOCKER_CONFIG_MEDIA_TYPE, IMAGE_MANIFEST_LIST_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE,
    OCI_IMAGE_INDEX_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE,
};
use serde::Serialize;

use super::client::{FetchedManifest, Login, RegistryClient, Session, ZotInfo};
use super::error::{ApiError, Failure, TransportKind};
use super::manifest::{ManifestBody, effective_media_type};
use super::platform::Platform;
use super::reference::ImageRef;
use crate::cause::Cause;

/// Config media type of OCI images.
const OCI_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// Docker's long-gone schema 1 manifests, which containerd 1.7+ no longer pulls.
const DOCKER_SCHEMA1_MEDIA_TYPES: [&str; 2] = [
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/// A login and where it came from (e.g. `secret openclaw/regcred, entry 127.0.0.1:5000`).
#[derive(Clone, Debug)]
pub struct SourcedLogin {
    pub source: String,
    pub login: Login,
}

/// How much to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Depth {
    /// Resolve the reference to a digest only (one HEAD), for stale checks.
    Digest,
    /// Manifest, platform, config and every layer blob, as a pull would.
    Full,
}

/// Problem that keeps an image from pulling, as found in the registry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub cause: Cause,
    pub detail: String,
}

/// One login tried against the registry.
#[derive(Clone, Debug, Serialize)]
pub struct Attempt {
    pub credential: String,
    pub auth: Option<String>,
    pub result: String,
}

/// Everything a check found out about one image.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImageCheck {
    pub image: String,
    pub registry: String,
    /// Digest the reference resolves to now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Platforms of an index, as `os/arch[/variant]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    /// Digest of the manifest chosen for the node's platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_digest: Option<String>,
    /// The login that the verdict rests on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<Attempt>,
    /// Result of the extra anonymous try made when every credential failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anonymous: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub registry_errors: Vec<ApiError>,
    /// Existing tags closest to a missing one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub closest_tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zot: Option<ZotInfo>,
    /// None when the image would pull.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
}

impl ImageCheck {
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// The state of one attempt: resolved data, or a problem with its evidence.
struct AttemptResult {
    check: ImageCheck,
    auth: Option<String>,
}

/// Checks `image` as the runtime would pull it with `logins` tried in order
/// (the kubelet's order), on a node of `platform`.
pub async fn check_image(
    client: &RegistryClient,
    image: &ImageRef,
    logins: &[SourcedLogin],
    platform: Option<&Platform>,
    depth: Depth,
) -> ImageCheck {
    let host = image.api_host().to_string();
    let zot = client.probe(&host).await.ok().and_then(|p| p.zot);
    let mut attempts = Vec::new();
    let mut auth_failures: Vec<ImageCheck> = Vec::new();
    let mut chosen: Option<ImageCheck> = None;

    if logins.is_empty() {
        let result = attempt(client, image, &Login::Anonymous, platform, depth).await;
        let mut check = result.check;
        check.credential = Some("none (anonymous pull)".to_string());
        chosen = Some(check);
    } else {
        for sourced in logins {
            let result = attempt(client, image, &sourced.login, platform, depth).await;
            let mut check = result.check;
            check.credential = Some(sourced.source.clone());
            attempts.push(Attempt {
                credential: sourced.source.clone(),
                auth: result.auth,
                result: describe_result(&check),
            });
            if is_auth_problem(&check) {
                auth_failures.push(check);
                continue;
            }
            chosen = Some(check);
            break;
        }
    }

    let mut check = match chosen {
        Some(check) => check,
        None => {
            // Every credential failed to authenticate. The most specific failure wins:
            // a valid login without access is more specific than a rejected one.
            let index = auth_failures
                .iter()
                .position(|c| c.problem.as_ref().map(|p| p.cause) == Some(Cause::AccessDenied))
                .unwrap_or(0);
            let mut check = auth_failures.swap_remove(index);
            let anonymous = attempt(client, image, &Login::Anonymous, platform, depth).await;
            check.anonymous = Some(match &anonymous.check.problem {
                None => "the image pulls anonymously; the runtime sends the failing credentials \
                         and does not fall back to anonymous access"
                    .to_string(),
                Some(problem) => format!("{}: {}", problem.cause, problem.detail),
            });
            check
        }
    };
    check.attempts = attempts;
    check.zot = zot;
    check
}

fn is_auth_problem(check: &ImageCheck) -> bool {
    matches!(
        check.problem.as_ref().map(|p| p.cause),
        Some(Cause::CredentialsMissing | Cause::CredentialsRejected | Cause::AccessDenied)
    )
}

fn describe_result(check: &ImageCheck) -> String {
    match &check.problem {
        None => format!("ok, {}", check.digest.as_deref().unwrap_or("resolved")),
        Some(problem) => format!("{}: {}", problem.cause, problem.detail),
    }
}

async fn attempt(
    client: &RegistryClient,
    image: &ImageRef,
    login: &Login,
    platform: Option<&Platform>,
    depth: Depth,
) -> AttemptResult {
    let host = image.api_host();
    let mut check = ImageCheck {
        image: image.original.clone(),
        registry: image.registry.clone(),
        ..ImageCheck::default()
    };
    let session = match client.session(host, &image.repository, login).await {
        Ok(session) => session,
        Err(failure) => {
            fail(&mut check, &failure, login, image, false);
            return AttemptResult { check, auth: None };
        }
    };
    let auth = Some(session.auth.clone());
    if depth == Depth::Digest {
        match client
            .manifest_digest(&session, image.manifest_reference())
            .await
        {
            Ok(digest) => check.digest = Some(digest),
            Err(failure) => {
                not_found_or_fail(client, &session, &mut check, &failure, login, image).await
            }
        }
        return AttemptResult { check, auth };
    }
    let manifest = match client.manifest(&session, image.manifest_reference()).await {
        Ok(manifest) => manifest,
        Err(failure) => {
            not_found_or_fail(client, &session, &mut check, &failure, login, image).await;
            return AttemptResult { check, auth };
        }
    };
    check.digest = Some(manifest.digest.clone());
    check.media_type = Some(manifest.media_type.clone());
    inspect_manifest(
        client, &session, &mut check, manifest, platform, login, image,
    )
    .await;
    AttemptResult { check, auth }
}

/// Follows an index to the platform's manifest, then checks config and layers.
async fn inspect_manifest(
    client: &RegistryClient,
    session: &Session,
    check: &mut ImageCheck,
    manifest: FetchedManifest,
    platform: Option<&Platform>,
    login: &Login,
    image: &ImageRef,
) {
    let Some(body) = parse_body(check, &manifest) else {
        return;
    };
    let media_type = effective_media_type(&manifest, &body);
    let single = if media_type == OCI_IMAGE_INDEX_MEDIA_TYPE
        || media_type == IMAGE_MANIFEST_LIST_MEDIA_TYPE
    {
        let children = body.manifests.unwrap_or_default();
        check.platforms = children
            .iter()
            .filter_map(|d| d.platform.as_ref())
            .map(|p| p.to_platform().to_string())
            .collect();
        let Some(node) = platform else {
            // Without a node there is no platform to choose; the index itself resolves.
            return;
        };
        let matching = children.iter().find(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p| node.accepts(&p.to_platform()))
        });
        let Some(child) = matching else {
            set_problem(
                check,
                Cause::PlatformNotFound,
                format!(
                    "the index has no manifest for {node}; it offers {}",
                    list_or_none(&check.platforms)
                ),
            );
            return;
        };
        check.platform_digest = Some(child.digest.clone());
        match client.manifest(session, &child.digest).await {
            Ok(child_manifest) => {
                let Some(child_body) = parse_body(check, &child_manifest) else {
                    return;
                };
                if !is_image_manifest(&effective_media_type(&child_manifest, &child_body)) {
                    set_problem(
                        check,
                        Cause::UnsupportedMediaType,
                        format!(
                            "the index entry for {node} is of media type {:?}, not an image manifest",
                            child.media_type
                        ),
                    );
                    return;
                }
                child_body
            }
            Err(failure) => {
                if failure.status() == Some(404) {
                    set_problem(
                        check,
                        Cause::DigestNotFound,
                        format!(
                            "the index names {} for {node}, but the registry has no such manifest",
                            child.digest
                        ),
                    );
                } else {
                    fail(check, &failure, login, image, session.is_bearer());
                }
                return;
            }
        }
    } else if is_image_manifest(&media_type) {
        body
    } else {
        set_problem(
            check,
            Cause::UnsupportedMediaType,
            unsupported_detail(&media_type),
        );
        return;
    };

    let Some(config) = single.config else {
        set_problem(
            check,
            Cause::UnsupportedMediaType,
            "the manifest has no config descriptor".to_string(),
        );
        return;
    };
    if config.media_type != OCI_CONFIG_MEDIA_TYPE
        && config.media_type != IMAGE_DOCKER_CONFIG_MEDIA_TYPE
    {
        set_problem(
            check,
            Cause::UnsupportedMediaType,
            format!(
                "the manifest's config is of media type {:?}: an OCI artifact, not a container image",
                config.media_type
            ),
        );
        return;
    }
    match client.blob_json(session, &config.digest).await {
        Ok(value) => {
            if let Some(node) = platform {
                let os = value.get("os").and_then(|v| v.as_str()).unwrap_or_default();
                let arch = value
                    .get("architecture")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                let variant = value.get("variant").and_then(|v| v.as_str());
                let built_for = Platform::new(os, arch, variant);
                if check.platforms.is_empty() {
                    check.platforms = vec![built_for.to_string()];
                }
                if !node.accepts(&built_for) {
                    set_problem(
                        check,
                        Cause::PlatformNotFound,
                        format!(
                            "the image is a single manifest built for {built_for}, the node is {node}; \
                             the runtime pulls it and the container then fails with \"exec format error\""
                        ),
                    );
                    return;
                }
            }
        }
        Err(failure) => {
            blob_failure(
                check,
                &failure,
                &config.digest,
                "config",
                login,
                image,
                session.is_bearer(),
            );
            return;
        }
    }
    let layers = single.layers.unwrap_or_default();
    let results = join_all(
        layers
            .iter()
            .map(|layer| client.blob_exists(session, &layer.digest)),
    )
    .await;
    for (layer, result) in layers.iter().zip(results) {
        if let Err(failure) = result {
            blob_failure(
                check,
                &failure,
                &layer.digest,
                "layer",
                login,
                image,
                session.is_bearer(),
            );
            return;
        }
    }
}

fn blob_failure(
    check: &mut ImageCheck,
    failure: &Failure,
    digest: &str,
    what: &str,
    login: &Login,
    image: &ImageRef,
    bearer: bool,
) {
    if failure.status() == Some(404) {
        check.http_status = Some(404);
        check.registry_errors = failure.registry_errors();
        set_problem(
            check,
            Cause::BlobNotFound,
            format!("the manifest resolves but its {what} blob {digest} is missing ({failure})"),
        );
    } else {
        fail(check, failure, login, image, bearer);
    }
}

fn parse_body(check: &mut ImageCheck, manifest: &FetchedManifest) -> Option<ManifestBody> {
    if DOCKER_SCHEMA1_MEDIA_TYPES.contains(&manifest.media_type.as_str()) {
        set_problem(
            check,
            Cause::UnsupportedMediaType,
            unsupported_detail(&manifest.media_type),
        );
        return None;
    }
    match serde_json::from_slice::<ManifestBody>(&manifest.bytes) {
        Ok(body) => Some(body),
        Err(err) => {
            set_problem(
                check,
                Cause::RegistryError,
                format!("manifest {} is not valid JSON: {err}", manifest.digest),
            );
            None
        }
    }
}

fn is_image_manifest(media_type: &str) -> bool {
    media_type == OCI_IMAGE_MEDIA_TYPE || media_type == IMAGE_MANIFEST_MEDIA_TYPE
}

fn unsupported_detail(media_type: &str) -> String {
    if DOCKER_SCHEMA1_MEDIA_TYPES.contains(&media_type) {
        format!(
            "the manifest uses Docker schema 1 ({media_type}), which current runtimes no longer pull"
        )
    } else {
        format!("the manifest's media type {media_type:?} is not an image manifest or index")
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "no platforms".to_string()
    } else {
        items.join(", ")
    }
}

fn set_problem(check: &mut ImageCheck, cause: Cause, detail: String) {
    check.problem = Some(Problem { cause, detail });
}

/// Tells a missing tag, digest and repository apart after a 404 on the manifest.
async fn not_found_or_fail(
    client: &RegistryClient,
    session: &Session,
    check: &mut ImageCheck,
    failure: &Failure,
    login: &Login,
    image: &ImageRef,
) {
    if failure.status() != Some(404) {
        fail(check, failure, login, image, session.is_bearer());
        return;
    }
    check.http_status = Some(404);
    check.registry_errors = failure.registry_errors();
    let reference = image.manifest_reference();
    match client.tags(session).await {
        Err(tags_failure)
            if tags_failure.has_code("NAME_UNKNOWN") || tags_failure.status() == Some(404) =>
        {
            check.registry_errors.extend(tags_failure.registry_errors());
            set_problem(
                check,
                Cause::RepositoryNotFound,
                format!(
                    "{} has no repository {} ({tags_failure})",
                    image.registry, image.repository
                ),
            );
        }
        Ok(_) if image.is_pinned() => {
            set_problem(
                check,
                Cause::DigestNotFound,
                format!(
                    "{} has no manifest {reference} ({failure})",
                    image.repository
                ),
            );
        }
        Ok(tags) => {
            check.closest_tags = closest_tags(reference, &tags, 3);
            let detail = if tags.is_empty() {
                format!(
                    "{} has no tag {reference}; the repository has no tags at all",
                    image.repository
                )
            } else {
                format!(
                    "{} has no tag {reference}; closest of its {} tags: {}",
                    image.repository,
                    tags.len(),
                    check.closest_tags.join(", ")
                )
            };
            set_problem(check, Cause::TagNotFound, detail);
        }
        Err(_) if failure.has_code("NAME_UNKNOWN") => set_problem(
            check,
            Cause::RepositoryNotFound,
            format!(
                "{} has no repository {} ({failure})",
                image.registry, image.repository
            ),
        ),
        Err(tags_failure) => {
            let cause = if image.is_pinned() {
                Cause::DigestNotFound
            } else {
                Cause::TagNotFound
            };
            // Say why no closest tags are listed, so a broken tags/list is not mistaken
            // for a repository without tags.
            set_problem(
                check,
                cause,
                format!(
                    "{} {reference}: {failure}; its tags could not be listed: {tags_failure}",
                    image.repository
                ),
            );
        }
    }
}

/// Maps a failure that is not a plain "not found" to a cause.
fn fail(check: &mut ImageCheck, failure: &Failure, login: &Login, image: &ImageRef, bearer: bool) {
    check.http_status = failure.status();
    check.registry_errors = failure.registry_errors();
    let host = image.api_host();
    let (cause, detail) = match failure {
        Failure::Transport { kind, detail } => {
            let cause = match kind {
                TransportKind::Tls => Cause::TlsError,
                TransportKind::NotTls | TransportKind::HttpToTls => Cause::HttpHttpsMismatch,
                TransportKind::Dns => Cause::DnsError,
                TransportKind::Refused
                | TransportKind::Timeout
                | TransportKind::Reset
                | TransportKind::Other => Cause::RegistryUnreachable,
            };
            (cause, detail.clone())
        }
        Failure::TokenDenied { .. } => {
            if login.is_anonymous() {
                (
                    Cause::CredentialsMissing,
                    format!("{host} requires a login: {failure}"),
                )
            } else {
                (
                    Cause::CredentialsRejected,
                    format!("{host} rejected {}: {failure}", login.describe()),
                )
            }
        }
        Failure::Status {
            status,
            challenge_error,
            ..
        } => match status {
            401 if login.is_anonymous() => (
                Cause::CredentialsMissing,
                format!("{host} requires a login and none was sent: {failure}"),
            ),
            401 if challenge_error.as_deref() == Some("insufficient_scope") => (
                Cause::AccessDenied,
                format!(
                    "{} is valid but may not pull {}: {failure}",
                    login.describe(),
                    image.repository
                ),
            ),
            401 if matches!(login, Login::Basic { .. }) && !bearer => (
                Cause::CredentialsRejected,
                format!("{host} rejected {}: {failure}", login.describe()),
            ),
            401 | 403 if login.is_anonymous() => (
                Cause::CredentialsMissing,
                format!("{host} denies anonymous access: {failure}"),
            ),
            401 | 403 => (
                Cause::AccessDenied,
                format!(
                    "{} may not pull {}: {failure}",
                    login.describe(),
                    image.repository
                ),
            ),
            429 => (
                Cause::RateLimited,
                format!("{host} limits the request rate: {failure}"),
            ),
            415 => (Cause::UnsupportedMediaType, format!("{host}: {failure}")),
            500..=599 => (Cause::RegistryError, format!("{host} failed: {failure}")),
            _ => (
                Cause::RegistryError,
                format!("{host} answered unexpectedly: {failure}"),
            ),
        },
        Failure::Invalid { detail } => (Cause::RegistryError, detail.clone()),
    };
    set_problem(check, cause, detail);
}

/// Returns the `count` existing tags most like `missing`: shared prefix first, then edit distance.
pub fn closest_tags(missing: &str, tags: &[String], count: usize) -> Vec<String> {
    let mut scored: Vec<(usize, usize, &String)> = tags
        .iter()
        .filter(|tag| !is_signature_tag(tag))
        .map(|tag| {
            let prefix = missing
                .chars()
                .zip(tag.chars())
                .take_while(|(a, b)| a == b)
                .count();
            (usize::MAX - prefix, edit_distance(missing, tag), tag)
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(count)
        .map(|(_, _, tag)| tag.clone())
        .collect()
}

/// Tags that hold signatures, attestations and SBOMs rather than images.
pub fn is_signature_tag(tag: &str) -> bool {
    tag.starts_with("sha256-")
        && (tag.ends_with(".sig") || tag.ends_with(".att") || tag.ends_with(".sbom"))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_tags_prefer_shared_prefix() {
        let tags: Vec<String> = ["latest", "v1.0.0", "v1.1.0", "v1.2.0", "sha256-abc.sig"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let closest = closest_tags("v1.2.1", &tags, 2);
        assert_eq!(closest.len(), 2);
        assert_eq!(closest[0], "v1.2.0");
        assert!(!closest.contains(&"sha256-abc.sig".to_string()));
        assert_eq!(closest_tags("lates", &tags, 1), ["latest"]);
    }

    #[test]
    fn signature_tags_are_recognised() {
        assert!(is_signature_tag("sha256-0123.sig"));
        assert!(is_signature_tag("sha256-0123.att"));
        assert!(!is_signature_tag("v1.sig"));
        assert!(!is_signature_tag("sha256-0123"));
    }

    #[test]
    fn edit_distance_counts_changes() {
        assert_eq!(edit_distance("v9.9.9", "v1.2.0"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
