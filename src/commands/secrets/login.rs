//! `--check`: logs in to each entry's registry with the entry's credentials.
//!
//! Each login is a pull check of one image at depth [`Depth::Digest`]. It
//! requests the `/v2/` challenge, sends the Basic header or runs the Bearer
//! token flow with a pull scope, and sends one manifest HEAD. The registry's
//! failures map to causes as in diagnose, because [`check_image`] maps them.

use std::sync::Arc;

use futures::stream::{self, StreamExt};

use super::report::{LoginReport, SecretsReport};
use crate::cause::Cause;
use crate::credentials::{AuthEntry, match_explanation, normalize_image};
use crate::registry::{Depth, ImageRef, Login, RegistryClient, SourcedLogin, check_image};

/// Registry logins in flight at once.
const LOGIN_CONCURRENCY: usize = 4;

/// Repository whose manifest is requested when neither `--repository` nor
/// an image names one. Any response after authentication (found, not found or
/// access denied) shows that the registry accepted the credentials.
const PROBE_REPOSITORY: &str = "kubectl-zot/login-check";

/// Rejects a `--repository` value that is not a repository path.
pub fn validate_repository(repository: &str) -> anyhow::Result<()> {
    let valid = !repository.is_empty()
        && !repository.contains([':', '@'])
        && ImageRef::parse(&format!("registry.invalid/{repository}")).is_ok();
    if !valid {
        anyhow::bail!(
            "--repository {repository:?}: expected a repository path such as team/app, \
             without registry, tag or digest"
        );
    }
    Ok(())
}

/// One planned login.
struct Plan {
    secret: usize,
    entry: usize,
    target: Result<Target, String>,
}

/// Image and credential of one login.
struct Target {
    image: ImageRef,
    /// Whether the image was chosen only to test the credentials, so that
    /// "access denied" and "not found" still prove the login.
    probe: bool,
    login: Login,
    source: String,
}

/// Logs in with every entry of every secret in the report and stores the
/// result in the entry's `login`.
pub async fn check_all(
    client: &Arc<RegistryClient>,
    report: &mut SecretsReport,
    repository: Option<&str>,
) {
    let mut plans = Vec::new();
    for (secret_index, secret) in report.secrets.iter().enumerate() {
        let Some(decoded) = &secret.decoded else {
            continue;
        };
        for (entry_index, entry) in decoded.entries.iter().enumerate() {
            // The kubelet's host rules, also for a secret it ignores, so that
            // an Opaque secret is checked against the image it was meant for.
            let matched_image = secret
                .used_by
                .images
                .iter()
                .map(|used| used.image.as_str())
                .find(|image| {
                    normalize_image(image)
                        .is_ok_and(|name| match_explanation(&entry.key, &name).is_ok())
                });
            let source = format!(
                "secret {}/{}, entry {}",
                secret.namespace, secret.name, entry.key
            );
            plans.push(Plan {
                secret: secret_index,
                entry: entry_index,
                target: plan_target(entry, matched_image, repository, source),
            });
        }
    }

    let results: Vec<(usize, usize, LoginReport)> = stream::iter(plans)
        .map(|plan| async move {
            let login = match plan.target {
                Ok(target) => log_in(client, target).await,
                Err(detail) => LoginReport {
                    status: "not-checked".to_string(),
                    image: None,
                    auth: None,
                    detail,
                },
            };
            (plan.secret, plan.entry, login)
        })
        .buffer_unordered(LOGIN_CONCURRENCY)
        .collect()
        .await;
    for (secret, entry, login) in results {
        report.secrets[secret].entries[entry].login = Some(login);
    }
}

/// Chooses the image to request for an entry: `--repository` on the entry's
/// host, else the first image the entry matches, else a probe repository.
fn plan_target(
    entry: &AuthEntry,
    matched_image: Option<&str>,
    repository: Option<&str>,
    source: String,
) -> Result<Target, String> {
    let Some(normalized) = &entry.normalized else {
        return Err("the kubelet skips this entry because its key is not a valid host".into());
    };
    let Some(credential) = entry.kubelet_credential() else {
        return Err(
            "the entry holds no username or password, which is all the kubelet \
                    sends"
                .into(),
        );
    };
    let matched = matched_image.and_then(|image| ImageRef::parse(image).ok());
    // The key's host, or the matched image's host when the key is a pattern.
    let key_host = normalized.split('/').next().unwrap_or_default();
    let host = if key_host.contains('*') {
        match &matched {
            Some(image) => image.registry.clone(),
            None => {
                return Err(format!(
                    "the key {} is a pattern and no image of a pod that lists the secret \
                     matches it, so there is no host to log in to",
                    entry.key
                ));
            }
        }
    } else if key_host == "index.docker.io" {
        "docker.io".to_string()
    } else {
        key_host.to_string()
    };
    let (reference, probe) = match (repository, matched) {
        (Some(repository), _) => (format!("{host}/{repository}"), false),
        (None, Some(image)) => (image.original.clone(), false),
        (None, None) => (format!("{host}/{PROBE_REPOSITORY}"), true),
    };
    let image = ImageRef::parse(&reference)
        .map_err(|error| format!("cannot build an image reference to log in with: {error}"))?;
    Ok(Target {
        image,
        probe,
        login: Login::from(credential),
        source,
    })
}

async fn log_in(client: &RegistryClient, target: Target) -> LoginReport {
    let logins = [SourcedLogin {
        source: target.source,
        login: target.login,
    }];
    let check = check_image(client, &target.image, &logins, None, Depth::Digest).await;
    let auth = check
        .attempts
        .first()
        .and_then(|attempt| attempt.auth.clone());
    let image = Some(target.image.original.clone());
    let no_login_needed = auth.as_deref() == Some("none required");
    let (status, detail) = match &check.problem {
        None if no_login_needed => (
            "ok".to_string(),
            format!(
                "{} requires no login; it pulls {} anonymously",
                target.image.api_host(),
                target.image
            ),
        ),
        None => (
            "ok".to_string(),
            format!(
                "the registry accepted the credentials and resolves {} to {}",
                target.image,
                check.digest.as_deref().unwrap_or("a manifest")
            ),
        ),
        Some(problem) => {
            let proves_login = matches!(
                problem.cause,
                Cause::TagNotFound
                    | Cause::RepositoryNotFound
                    | Cause::DigestNotFound
                    | Cause::ManifestNotFound
            ) || (target.probe && problem.cause == Cause::AccessDenied);
            if proves_login && target.probe {
                (
                    "ok".to_string(),
                    "the registry accepted the credentials; pull access was not checked \
                     because no image of a pod that lists the secret matches this entry (pass \
                     --repository to check it)"
                        .to_string(),
                )
            } else if proves_login {
                (
                    "ok".to_string(),
                    format!(
                        "the registry accepted the credentials, but: {}",
                        problem.detail
                    ),
                )
            } else {
                (problem.cause.as_str().to_string(), problem.detail.clone())
            }
        }
    };
    LoginReport {
        status,
        image,
        auth,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_flag_rejects_references() {
        assert!(validate_repository("team/app").is_ok());
        assert!(validate_repository("app").is_ok());
        assert!(validate_repository("team/app:v1").is_err());
        assert!(validate_repository("team/app@sha256:00").is_err());
        assert!(validate_repository("Team/App").is_err());
        assert!(validate_repository("").is_err());
    }
}
