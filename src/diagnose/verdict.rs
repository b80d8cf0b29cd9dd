//! Chooses the one cause of a failing image from the facts gathered about it.
//!
//! Pure logic: the facts come in as plain data, so every rule is tested with
//! table cases and no I/O.

use crate::cause::Cause;
use crate::classify::Classification;
use crate::registry::ImageCheck;

/// Waiting reasons the kubelet sets while an image cannot be pulled.
pub const PULL_WAITING_REASONS: [&str; 7] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "ErrImageNeverPull",
    "RegistryUnavailable",
    "SignatureValidationFailed",
    "ImageInspectError",
];

/// Facts from a pod's pull secrets about one image.
#[derive(Debug, Clone, Default)]
pub struct SecretFacts {
    /// Referenced secrets that do not exist.
    pub missing: Vec<String>,
    /// Referenced secrets that exist but that the kubelet cannot use, with the reason.
    pub invalid: Vec<(String, String)>,
    /// Referenced secrets that could not be read (forbidden, API error).
    pub unreadable: Vec<String>,
    /// Registry keys of usable entries that do not match the image.
    pub other_hosts: Vec<String>,
    /// How many credentials the kubelet would try for the image.
    pub matching: usize,
    /// Secrets listed by the ServiceAccount but absent from the pod spec.
    pub service_account_only: Vec<String>,
}

/// Everything known about one image of one pod.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub invalid_reference: Option<String>,
    pub waiting_reason: Option<String>,
    pub classification: Option<Classification>,
    pub check: Option<ImageCheck>,
    /// Reason the registry was not checked.
    pub not_checked: Option<String>,
    pub secrets: SecretFacts,
    /// Digest of the image the container runs, from `imageID`.
    pub running_digest: Option<String>,
    pub pinned: bool,
    pub crash_looping: bool,
    /// Report registry problems of images that are not failing now (`--all`, `-f`).
    pub check_all: bool,
}

/// The chosen cause and a one-line message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub cause: Cause,
    pub message: String,
}

fn is_auth(cause: Cause) -> bool {
    matches!(
        cause,
        Cause::CredentialsMissing | Cause::CredentialsRejected | Cause::AccessDenied
    )
}

fn is_network(cause: Cause) -> bool {
    matches!(
        cause,
        Cause::TlsError | Cause::HttpHttpsMismatch | Cause::DnsError | Cause::RegistryUnreachable
    )
}

/// Decides the verdict; None when nothing is wrong with the image.
pub fn decide(facts: &Facts) -> Option<Verdict> {
    let waiting = facts.waiting_reason.as_deref();
    let pull_failing = waiting.is_some_and(|w| PULL_WAITING_REASONS.contains(&w));
    let message_cause = facts.classification.as_ref().map(|c| c.cause);

    if let Some(reason) = &facts.invalid_reference {
        return Some(verdict(
            Cause::InvalidReference,
            format!("the image reference is invalid: {reason}"),
        ));
    }
    if waiting == Some("InvalidImageName") {
        return Some(verdict(
            Cause::InvalidReference,
            "the kubelet cannot parse the image reference".into(),
        ));
    }
    if waiting == Some("ErrImageNeverPull") || message_cause == Some(Cause::ImageNotPresent) {
        return Some(verdict(
            Cause::ImageNotPresent,
            "the pull policy is Never and the node does not have the image".into(),
        ));
    }

    if let Some(check) = &facts.check {
        match &check.problem {
            None => return decide_resolvable(facts, check, pull_failing),
            Some(problem) if is_network(problem.cause) => {
                // The registry is out of reach from here, so the node's message
                // decides unless it is no more specific.
                if let Some(cause) =
                    message_cause.filter(|c| *c != Cause::Unknown && !is_network(*c))
                {
                    return Some(from_message(facts, cause, Some(&problem.detail)));
                }
                if !pull_failing {
                    if facts.check_all && facts.running_digest.is_none() && !facts.crash_looping {
                        // An image from a manifest: nothing has pulled it yet.
                        return Some(verdict(problem.cause, problem.detail.clone()));
                    }
                    // A running or crash-looping container was pulled by its node, so a
                    // registry out of reach from here proves nothing about it.
                    return None;
                }
                return Some(verdict(problem.cause, problem.detail.clone()));
            }
            Some(problem) => {
                if !pull_failing && !facts.crash_looping && !facts.check_all {
                    // A running container: only a stale digest is a finding.
                    return None;
                }
                if facts.crash_looping
                    && !facts.check_all
                    && problem.cause != Cause::PlatformNotFound
                {
                    return None;
                }
                if is_auth(problem.cause)
                    && !facts.secrets.unreadable.is_empty()
                    && facts.secrets.matching == 0
                {
                    // The check ran without the credentials the node has, so it proves nothing.
                    let why = format!(
                        "pull secrets {} could not be read, so the registry was not asked with the \
                         pod's credentials",
                        facts.secrets.unreadable.join(", ")
                    );
                    let cause = message_cause.unwrap_or(Cause::Unknown);
                    return Some(from_message(facts, cause, Some(&why)));
                }
                if is_auth(problem.cause) {
                    return Some(refine_auth(facts, problem.cause, &problem.detail));
                }
                return Some(verdict(problem.cause, problem.detail.clone()));
            }
        }
    }

    if !pull_failing {
        return None;
    }
    let cause = message_cause.unwrap_or(Cause::Unknown);
    Some(from_message(facts, cause, facts.not_checked.as_deref()))
}

/// Decides a verdict for an image that pulls from here: stale, available now, or a node-side
/// problem.
fn decide_resolvable(facts: &Facts, check: &ImageCheck, pull_failing: bool) -> Option<Verdict> {
    if pull_failing {
        let message_cause = facts.classification.as_ref().map(|c| c.cause);
        if let Some(cause) = message_cause.filter(|c| is_network(*c)) {
            return Some(verdict(
                cause,
                "the node could not reach the registry, though it answers from here; \
                 the problem is between the node and the registry"
                    .into(),
            ));
        }
        return Some(verdict(
            Cause::ImageAvailableNow,
            format!(
                "the image resolves now ({}) with the pod's credentials; the pod waits for its \
                 pull back-off",
                check.digest.as_deref().unwrap_or("digest unknown")
            ),
        ));
    }
    if facts.pinned {
        return None;
    }
    match (&facts.running_digest, &check.digest) {
        (Some(running), Some(current)) if running != current => Some(verdict(
            Cause::StaleImage,
            format!("the container runs {running}, but its tag now points to {current}"),
        )),
        _ => None,
    }
}

/// Picks the cause from the message alone, refined by the pull secrets.
fn from_message(facts: &Facts, cause: Cause, not_checked: Option<&str>) -> Verdict {
    let suffix = not_checked
        .map(|why| format!(" (registry not checked: {why})"))
        .unwrap_or_default();
    let candidates = facts
        .classification
        .as_ref()
        .map(|c| c.candidates.clone())
        .unwrap_or_default();
    let auth_possible = is_auth(cause) || candidates.iter().any(|c| is_auth(*c));
    if auth_possible {
        let refined = refine_auth(facts, cause, "");
        if refined.cause != cause {
            return Verdict {
                message: format!("{}{suffix}", refined.message),
                ..refined
            };
        }
    }
    let detail = facts
        .classification
        .as_ref()
        .and_then(|c| c.detail.clone())
        .unwrap_or_else(|| cause.meaning().to_string());
    verdict(cause, format!("the runtime reported: {detail}{suffix}"))
}

/// Turns "no usable credentials" into the secret problem behind it.
fn refine_auth(facts: &Facts, cause: Cause, detail: &str) -> Verdict {
    let secrets = &facts.secrets;
    if cause == Cause::CredentialsMissing && secrets.matching > 0 {
        // The message says "unauthorized", but a matching secret entry means the
        // runtime did send credentials: the registry rejected them.
        let detail = if detail.is_empty() {
            "the registry rejected the credentials of the matching pull secret".to_string()
        } else {
            detail.to_string()
        };
        return verdict(Cause::CredentialsRejected, detail);
    }
    let no_credentials_sent = cause == Cause::CredentialsMissing || secrets.matching == 0;
    if no_credentials_sent {
        if let Some(name) = secrets.missing.first() {
            return verdict(
                Cause::SecretNotFound,
                format!("pull secret {name} does not exist, so the pull sent no credentials"),
            );
        }
        if let Some((name, reason)) = secrets.invalid.first() {
            return verdict(
                Cause::SecretInvalid,
                format!("pull secret {name} cannot be used: {reason}"),
            );
        }
        if !secrets.other_hosts.is_empty() {
            return verdict(
                Cause::SecretHostMismatch,
                format!(
                    "the pull secrets hold credentials for {}, none for this registry",
                    secrets.other_hosts.join(", ")
                ),
            );
        }
        if !secrets.service_account_only.is_empty() {
            return verdict(
                Cause::CredentialsMissing,
                format!(
                    "the ServiceAccount lists {} but the pod spec does not; ServiceAccount pull \
                     secrets are copied into a pod only when it is created",
                    secrets.service_account_only.join(", ")
                ),
            );
        }
        if cause == Cause::CredentialsMissing {
            let detail = if detail.is_empty() {
                "the registry requires a login and the pod has no pull secret for it".to_string()
            } else {
                detail.to_string()
            };
            return verdict(Cause::CredentialsMissing, detail);
        }
    }
    let detail = if detail.is_empty() {
        cause.meaning().to_string()
    } else {
        detail.to_string()
    };
    verdict(cause, detail)
}

fn verdict(cause: Cause, message: String) -> Verdict {
    Verdict { cause, message }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::check::Problem;

    fn check_with(cause: Option<Cause>, digest: &str) -> ImageCheck {
        ImageCheck {
            digest: Some(digest.to_string()),
            problem: cause.map(|cause| Problem {
                cause,
                detail: format!("{cause} detail"),
            }),
            ..ImageCheck::default()
        }
    }

    fn failing(check: Option<ImageCheck>) -> Facts {
        Facts {
            waiting_reason: Some("ImagePullBackOff".into()),
            check,
            ..Facts::default()
        }
    }

    fn classified(cause: Cause, candidates: &[Cause]) -> Classification {
        let mut classification = crate::classify::classify("");
        classification.cause = cause;
        classification.candidates = candidates.to_vec();
        classification
    }

    #[test]
    fn registry_problem_decides() {
        for cause in [
            Cause::TagNotFound,
            Cause::RepositoryNotFound,
            Cause::DigestNotFound,
            Cause::PlatformNotFound,
            Cause::BlobNotFound,
            Cause::RateLimited,
            Cause::RegistryError,
            Cause::UnsupportedMediaType,
            Cause::CredentialsRejected,
            Cause::AccessDenied,
        ] {
            let facts = Facts {
                secrets: SecretFacts {
                    matching: 1,
                    ..SecretFacts::default()
                },
                ..failing(Some(check_with(Some(cause), "sha256:a")))
            };
            assert_eq!(decide(&facts).unwrap().cause, cause, "{cause}");
        }
    }

    #[test]
    fn missing_credentials_are_traced_to_secrets() {
        let base = failing(Some(check_with(
            Some(Cause::CredentialsMissing),
            "sha256:a",
        )));
        let cases = [
            (
                SecretFacts {
                    missing: vec!["regcred".into()],
                    ..SecretFacts::default()
                },
                Cause::SecretNotFound,
            ),
            (
                SecretFacts {
                    invalid: vec![("regcred".into(), "type Opaque".into())],
                    ..SecretFacts::default()
                },
                Cause::SecretInvalid,
            ),
            (
                SecretFacts {
                    other_hosts: vec!["other.example.test".into()],
                    ..SecretFacts::default()
                },
                Cause::SecretHostMismatch,
            ),
            (SecretFacts::default(), Cause::CredentialsMissing),
        ];
        for (secrets, expected) in cases {
            let facts = Facts {
                secrets: secrets.clone(),
                ..base.clone()
            };
            assert_eq!(decide(&facts).unwrap().cause, expected, "{secrets:?}");
        }
    }

    #[test]
    fn resolvable_image_while_failing_is_available_now() {
        let facts = failing(Some(check_with(None, "sha256:a")));
        assert_eq!(decide(&facts).unwrap().cause, Cause::ImageAvailableNow);
    }

    #[test]
    fn running_container_with_moved_tag_is_stale() {
        let facts = Facts {
            running_digest: Some("sha256:old".into()),
            check: Some(check_with(None, "sha256:new")),
            ..Facts::default()
        };
        assert_eq!(decide(&facts).unwrap().cause, Cause::StaleImage);
    }

    #[test]
    fn current_or_pinned_container_is_healthy() {
        let current = Facts {
            running_digest: Some("sha256:a".into()),
            check: Some(check_with(None, "sha256:a")),
            ..Facts::default()
        };
        assert_eq!(decide(&current), None);
        let pinned = Facts {
            running_digest: Some("sha256:old".into()),
            pinned: true,
            check: Some(check_with(None, "sha256:new")),
            ..Facts::default()
        };
        assert_eq!(decide(&pinned), None);
    }

    #[test]
    fn running_registry_problem_no_finding() {
        let facts = Facts {
            running_digest: Some("sha256:a".into()),
            check: Some(check_with(Some(Cause::TagNotFound), "sha256:a")),
            ..Facts::default()
        };
        assert_eq!(decide(&facts), None);
    }

    #[test]
    fn unreachable_registry_falls_back_to_message() {
        let facts = Facts {
            classification: Some(classified(
                Cause::ManifestNotFound,
                &[Cause::ManifestNotFound],
            )),
            ..failing(Some(check_with(
                Some(Cause::RegistryUnreachable),
                "sha256:a",
            )))
        };
        let verdict = decide(&facts).unwrap();
        assert_eq!(verdict.cause, Cause::ManifestNotFound);
        assert!(
            verdict.message.contains("registry not checked"),
            "{}",
            verdict.message
        );
    }

    #[test]
    fn unchecked_auth_message_uses_missing_secret() {
        let facts = Facts {
            classification: Some(classified(
                Cause::CredentialsMissing,
                &[Cause::CredentialsMissing, Cause::CredentialsRejected],
            )),
            not_checked: Some("DNS".into()),
            secrets: SecretFacts {
                missing: vec!["regcred".into()],
                ..SecretFacts::default()
            },
            ..failing(None)
        };
        assert_eq!(decide(&facts).unwrap().cause, Cause::SecretNotFound);
    }

    #[test]
    fn unreadable_secrets_defer_to_the_message() {
        let facts = Facts {
            classification: Some(classified(
                Cause::ManifestNotFound,
                &[Cause::ManifestNotFound],
            )),
            secrets: SecretFacts {
                unreadable: vec!["regcred".into()],
                ..SecretFacts::default()
            },
            ..failing(Some(check_with(
                Some(Cause::CredentialsMissing),
                "sha256:a",
            )))
        };
        let verdict = decide(&facts).unwrap();
        assert_eq!(verdict.cause, Cause::ManifestNotFound);
        assert!(verdict.message.contains("regcred"), "{}", verdict.message);
    }

    #[test]
    fn unauthorized_message_with_matching_secret_is_rejected() {
        let facts = Facts {
            classification: Some(classified(
                Cause::CredentialsMissing,
                &[Cause::CredentialsMissing, Cause::CredentialsRejected],
            )),
            secrets: SecretFacts {
                matching: 1,
                service_account_only: vec!["regcred".into()],
                ..SecretFacts::default()
            },
            ..failing(Some(check_with(Some(Cause::TlsError), "sha256:a")))
        };
        assert_eq!(decide(&facts).unwrap().cause, Cause::CredentialsRejected);
    }

    #[test]
    fn unreachable_registry_spares_crash_loops() {
        let facts = Facts {
            waiting_reason: Some("CrashLoopBackOff".into()),
            crash_looping: true,
            check: Some(check_with(Some(Cause::TlsError), "sha256:a")),
            ..Facts::default()
        };
        assert_eq!(decide(&facts), None);
    }

    #[test]
    fn check_all_reports_problems_of_running_images() {
        let running = Facts {
            running_digest: Some("sha256:a".into()),
            check: Some(check_with(Some(Cause::TagNotFound), "sha256:a")),
            check_all: true,
            ..Facts::default()
        };
        assert_eq!(decide(&running).unwrap().cause, Cause::TagNotFound);
        let manifest_image_ok = Facts {
            check: Some(check_with(None, "sha256:a")),
            check_all: true,
            ..Facts::default()
        };
        assert_eq!(decide(&manifest_image_ok), None);
        let manifest_unreachable = Facts {
            check: Some(check_with(Some(Cause::DnsError), "sha256:a")),
            check_all: true,
            ..Facts::default()
        };
        assert_eq!(
            decide(&manifest_unreachable).unwrap().cause,
            Cause::DnsError
        );
    }

    #[test]
    fn never_pull_and_invalid_names_win() {
        let never = Facts {
            waiting_reason: Some("ErrImageNeverPull".into()),
            ..Facts::default()
        };
        assert_eq!(decide(&never).unwrap().cause, Cause::ImageNotPresent);
        let invalid = Facts {
            waiting_reason: Some("InvalidImageName".into()),
            ..Facts::default()
        };
        assert_eq!(decide(&invalid).unwrap().cause, Cause::InvalidReference);
    }

    #[test]
    fn crash_loop_reports_only_platform() {
        let wrong_arch = Facts {
            waiting_reason: Some("CrashLoopBackOff".into()),
            crash_looping: true,
            check: Some(check_with(Some(Cause::PlatformNotFound), "sha256:a")),
            ..Facts::default()
        };
        assert_eq!(decide(&wrong_arch).unwrap().cause, Cause::PlatformNotFound);
        let app_crash = Facts {
            check: Some(check_with(None, "sha256:a")),
            ..wrong_arch
        };
        assert_eq!(decide(&app_crash), None);
    }
}
