//! A pod's pull secrets: decoded, matched to an image as the kubelet matches
//! them, and turned into logins for the registry check.

use k8s_openapi::api::core::v1::Pod;

use super::collect::{self, Snapshot};
use super::report::{EntryEvidence, SecretEvidence};
use super::verdict::SecretFacts;
use crate::cause::Cause;
use crate::credentials::{AuthEntry, DecodedSecret, decode_secret};
use crate::credentials::{Credential, REDACTED};
use crate::credentials::{Keyring, match_explanation};
use crate::registry::{ImageRef, Login, SourcedLogin};

/// What a pod's pull secrets give one image.
#[derive(Clone, Debug, Default)]
pub struct PodSecrets {
    /// Logins the kubelet would try, in its order.
    pub logins: Vec<SourcedLogin>,
    pub facts: SecretFacts,
    pub evidence: Vec<SecretEvidence>,
    /// Username of the first matching entry, for fix commands.
    pub username: Option<String>,
    /// Name of the secret whose entry matched first.
    pub matched_secret: Option<String>,
}

impl PodSecrets {
    /// The secret a fix for `cause` should name.
    pub fn fix_secret(&self, cause: Cause) -> Option<String> {
        match cause {
            Cause::SecretNotFound => self.facts.missing.first().cloned(),
            Cause::SecretInvalid => self.facts.invalid.first().map(|(name, _)| name.clone()),
            Cause::CredentialsRejected | Cause::AccessDenied => self.matched_secret.clone(),
            Cause::SecretHostMismatch => self.evidence.first().map(|s| s.name.clone()),
            _ => None,
        }
    }
}

impl From<Credential> for Login {
    fn from(credential: Credential) -> Login {
        match credential {
            Credential::Basic { username, password } => Login::Basic { username, password },
            Credential::IdentityToken { token } => Login::IdentityToken { token },
            Credential::RegistryToken { token } => Login::RegistryToken { token },
        }
    }
}

/// Decodes the pod's pull secrets and matches them to `image`.
pub fn pod_secrets(
    snapshot: &Snapshot,
    pod: &Pod,
    image: Option<&ImageRef>,
    show_secrets: bool,
) -> PodSecrets {
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let pod_list = collect::pod_pull_secrets(pod);
    let account = collect::pod_service_account(pod);
    let account_list: Vec<String> = snapshot
        .service_accounts
        .get(&(namespace.clone(), account.clone()))
        .and_then(|r| r.as_ref().ok())
        .and_then(|sa| sa.image_pull_secrets.as_ref())
        .map(|list| list.iter().map(|r| r.name.clone()).collect())
        .unwrap_or_default();

    let mut result = PodSecrets::default();
    let mut keyring = Keyring::new();
    let mut decoded: Vec<(String, DecodedSecret)> = Vec::new();
    for name in &pod_list {
        let mut evidence = SecretEvidence {
            name: name.clone(),
            referenced_by: "pod".to_string(),
            status: "ok".to_string(),
            r#type: None,
            problems: Vec::new(),
            entries: Vec::new(),
        };
        match snapshot.secrets.get(&(namespace.clone(), name.clone())) {
            None => evidence.status = "not-read".to_string(),
            Some(Err(failure)) if failure.is_not_found() => {
                evidence.status = "not-found".to_string();
                result.facts.missing.push(name.clone());
            }
            Some(Err(failure)) => {
                evidence.status = if failure.is_forbidden() {
                    "forbidden"
                } else {
                    "unreadable"
                }
                .to_string();
                evidence.problems.push(failure.to_string());
                result.facts.unreadable.push(name.clone());
            }
            Some(Ok(secret)) => {
                let type_name = secret.type_.clone().unwrap_or_else(|| "Opaque".to_string());
                let data = secret
                    .data
                    .iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), v.0.clone()))
                    .collect();
                let secret_decoded = decode_secret(&type_name, &data);
                evidence.r#type = Some(type_name);
                evidence.problems = secret_decoded
                    .problems
                    .iter()
                    .map(|p| p.message.clone())
                    .collect();
                if let Some(problem) = secret_decoded.unparsable() {
                    evidence.status = "invalid".to_string();
                    result
                        .facts
                        .invalid
                        .push((name.clone(), problem.message.clone()));
                } else if !secret_decoded.kubelet_reads {
                    evidence.status = "invalid".to_string();
                    let reason = secret_decoded
                        .problems
                        .first()
                        .map(|p| p.message.clone())
                        .unwrap_or_else(|| "the kubelet does not read this secret".to_string());
                    result.facts.invalid.push((name.clone(), reason));
                } else if secret_decoded
                    .entries
                    .iter()
                    .all(|e| e.kubelet_credential().is_none())
                {
                    evidence.status = "invalid".to_string();
                    let reason = secret_decoded
                        .problems
                        .first()
                        .map(|p| p.message.clone())
                        .unwrap_or_else(|| "no entry holds a username and password".to_string());
                    result.facts.invalid.push((name.clone(), reason));
                }
                keyring.add_secret(&format!("{namespace}/{name}"), &secret_decoded);
                decoded.push((name.clone(), secret_decoded));
            }
        }
        result.evidence.push(evidence);
    }

    for name in &account_list {
        if !pod_list.contains(name) {
            result.facts.service_account_only.push(name.clone());
            result.evidence.push(SecretEvidence {
                name: name.clone(),
                referenced_by: format!("serviceaccount/{account}"),
                status: "not-used".to_string(),
                r#type: None,
                problems: vec![
                    "listed by the ServiceAccount but not in the pod spec; the kubelet uses only \
                     the pod's imagePullSecrets"
                        .to_string(),
                ],
                entries: Vec::new(),
            });
        }
    }

    let Some(image) = image else {
        return result;
    };
    let image_name = image.name();
    for found in keyring.lookup(&image_name) {
        if result.username.is_none()
            && let Some(Credential::Basic { username, .. }) = &found.credential
        {
            result.username = Some(username.clone());
        }
        if result.matched_secret.is_none() {
            result.matched_secret = found.source.rsplit('/').next().map(str::to_string);
        }
        result.logins.push(SourcedLogin {
            source: format!("secret {}, entry {}", found.source, found.key),
            // A matching entry without a credential makes the runtime pull anonymously.
            login: found
                .credential
                .clone()
                .map(Login::from)
                .unwrap_or_default(),
        });
    }
    result.facts.matching = result.logins.len();

    for (name, secret) in &decoded {
        let Some(evidence) = result
            .evidence
            .iter_mut()
            .find(|e| &e.name == name && e.referenced_by == "pod")
        else {
            continue;
        };
        for entry in &secret.entries {
            let mismatch = match_explanation(&entry.key, &image_name)
                .err()
                .map(|m| m.to_string());
            if mismatch.is_some() && entry.kubelet_credential().is_some() {
                result.facts.other_hosts.push(entry.key.clone());
            }
            evidence
                .entries
                .push(entry_evidence(entry, mismatch, show_secrets));
        }
    }
    result
}

fn entry_evidence(
    entry: &AuthEntry,
    mismatch: Option<String>,
    show_secrets: bool,
) -> EntryEvidence {
    let password = entry.password.as_ref().map(|p| {
        if show_secrets {
            p.expose().to_string()
        } else {
            REDACTED.to_string()
        }
    });
    EntryEvidence {
        registry: entry.key.clone(),
        username: entry.username.clone(),
        fields: entry.fields.iter().map(|f| f.to_string()).collect(),
        password,
        matches_image: mismatch.is_none(),
        mismatch,
    }
}
