//! The `secrets` report: each pull secret decoded, who uses it, and which
//! entry the kubelet picks for each image. Its JSON form is documented in
//! docs/secrets.md; add fields, never rename them.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{Pod, Secret};
use serde::Serialize;

use super::collect::Snapshot;
use crate::cause::Cause;
use crate::credentials::{
    AuthEntry, DecodedSecret, Effect, Keyring, ProblemKind, REDACTED, SecretString, decode_secret,
    match_explanation, normalize_image,
};
use crate::diagnose::collect::{pod_pull_secrets, pod_service_account};
use crate::diagnose::items::pod_items;
use crate::registry::ImageRef;

/// The whole report of one `secrets` run.
#[derive(Debug, Default, Serialize)]
pub struct SecretsReport {
    pub secrets: Vec<SecretReport>,
    /// Images that no pull secret of their pod covers; only with `--images`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncovered_images: Option<Vec<UncoveredImage>>,
    /// Failed reads from the cluster, and what the report lacks because of them.
    pub warnings: Vec<String>,
}

impl SecretsReport {
    /// Returns whether anything is wrong: a secret problem, a failed login,
    /// or an image without a matching secret.
    pub fn has_findings(&self) -> bool {
        let secret_findings = self.secrets.iter().any(|secret| {
            !secret.problems.is_empty()
                || secret
                    .entries
                    .iter()
                    .filter_map(|entry| entry.login.as_ref())
                    .any(|login| login.is_failure())
        });
        let uncovered = self
            .uncovered_images
            .as_ref()
            .is_some_and(|images| !images.is_empty());
        secret_findings || uncovered
    }
}

/// One pull secret.
#[derive(Debug, Serialize)]
pub struct SecretReport {
    pub namespace: String,
    pub name: String,
    /// The secret's type; absent when the secret does not exist.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    /// Whether the kubelet reads the secret at all (its type and data key).
    pub kubelet_reads: bool,
    pub problems: Vec<ProblemReport>,
    pub entries: Vec<EntryReport>,
    pub used_by: UsedBy,
    /// The decoded secret, for the login checks; never serialised.
    #[serde(skip)]
    pub decoded: Option<DecodedSecret>,
}

/// One problem of a secret.
#[derive(Debug, Serialize)]
pub struct ProblemReport {
    /// `secret-invalid` for decoding problems, `secret-not-found` for a
    /// secret that does not exist.
    pub cause: Cause,
    /// The decoder's problem kind, e.g. `invalid-auth-base64`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<ProblemKind>,
    /// Effect on the kubelet, e.g. `unparsable` or `ignored`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effect: Option<Effect>,
    /// Registry key, as written, of the entry the problem is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry: Option<String>,
    pub message: String,
}

/// One registry entry of a secret.
#[derive(Debug, Serialize)]
pub struct EntryReport {
    /// Registry key as written in the secret.
    pub registry: String,
    /// Key as the kubelet files it; `null` when the kubelet skips the entry.
    pub normalized: Option<String>,
    pub username: Option<String>,
    /// Credential fields set to a non-empty value (`auth`, `username`,
    /// `password`, `identitytoken`, `registrytoken`).
    pub fields: Vec<&'static str>,
    /// `***`, or the password itself with `--show-secrets`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_token: Option<String>,
    /// The result of logging in with this entry; only with `--check`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login: Option<LoginReport>,
}

/// The result of logging in to an entry's registry.
#[derive(Debug, Clone, Serialize)]
pub struct LoginReport {
    /// `ok`, `credentials-rejected`, `access-denied`, `tls-error`,
    /// `dns-error`, `registry-unreachable`, another cause name for rarer
    /// failures, or `not-checked`.
    pub status: String,
    /// The image whose pull access was requested.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Authentication scheme and login of the session, e.g. `basic, user "puller"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    pub detail: String,
}

impl LoginReport {
    /// Returns whether the login failed; `not-checked` is no failure.
    pub fn is_failure(&self) -> bool {
        self.status != "ok" && self.status != "not-checked"
    }
}

/// Users of a secret.
#[derive(Debug, Default, Serialize)]
pub struct UsedBy {
    /// ServiceAccounts that list the secret in `imagePullSecrets`.
    pub service_accounts: Vec<String>,
    /// Pods whose spec lists the secret, which is all the kubelet reads.
    pub pods: Vec<String>,
    /// The images of those pods, and the entry the kubelet picks for each.
    pub images: Vec<ImageUse>,
    /// Pods that run as one of those ServiceAccounts but list no pull secret,
    /// because they were created before the ServiceAccount listed this one.
    /// The kubelet does not use the secret for them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pods_missing_it: Vec<String>,
}

/// One image of a pod that lists the secret.
#[derive(Debug, Serialize)]
pub struct ImageUse {
    pub image: String,
    /// Registry key, as written, of the first entry the kubelet tries for
    /// the image; `null` when no entry matches.
    pub entry: Option<String>,
    /// Reason no entry matches, or that the matching entry sends no credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An image that no pull secret of its pod covers.
#[derive(Debug, Serialize)]
pub struct UncoveredImage {
    pub namespace: String,
    pub image: String,
    /// Registry host as the image names it.
    pub registry: String,
    pub pods: Vec<String>,
    /// The command that creates a pull secret for the registry.
    pub command: String,
    pub fix: String,
}

/// Builds the report from what was read; `show_secrets` prints passwords in
/// clear, and `images` adds the uncovered images.
pub fn build(snapshot: &Snapshot, show_secrets: bool, images: bool) -> SecretsReport {
    let mut report = SecretsReport {
        warnings: snapshot.warnings.clone(),
        ..SecretsReport::default()
    };
    for secret in &snapshot.secrets {
        report
            .secrets
            .push(secret_report(snapshot, secret, show_secrets));
    }
    for (namespace, name) in &snapshot.missing {
        report
            .secrets
            .push(missing_report(snapshot, namespace, name));
    }
    report
        .secrets
        .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    if images {
        report.uncovered_images = Some(uncovered_images(snapshot));
    }
    report
}

fn secret_report(snapshot: &Snapshot, secret: &Secret, show_secrets: bool) -> SecretReport {
    let namespace = secret.metadata.namespace.clone().unwrap_or_default();
    let name = secret.metadata.name.clone().unwrap_or_default();
    let type_name = secret
        .type_
        .clone()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "Opaque".to_string());
    let decoded = decode_secret(&type_name, &secret_data(secret));
    let problems = decoded
        .problems
        .iter()
        .map(|problem| ProblemReport {
            cause: Cause::SecretInvalid,
            kind: Some(problem.kind),
            effect: Some(problem.effect),
            entry: problem.entry.clone(),
            message: problem.message.clone(),
        })
        .collect();
    let entries = decoded
        .entries
        .iter()
        .map(|entry| entry_report(entry, show_secrets))
        .collect();
    let mut used_by = users(snapshot, &namespace, &name);
    used_by.images = image_uses(snapshot, &namespace, &name, &decoded);
    SecretReport {
        namespace,
        name,
        type_name: Some(type_name),
        kubelet_reads: decoded.kubelet_reads,
        problems,
        entries,
        used_by,
        decoded: Some(decoded),
    }
}

/// Returns the secret's data with `stringData` merged in, as the API server
/// merges it on write.
fn secret_data(secret: &Secret) -> BTreeMap<String, Vec<u8>> {
    let mut data: BTreeMap<String, Vec<u8>> = secret
        .data
        .iter()
        .flatten()
        .map(|(key, value)| (key.clone(), value.0.clone()))
        .collect();
    for (key, value) in secret.string_data.iter().flatten() {
        data.insert(key.clone(), value.clone().into_bytes());
    }
    data
}

fn missing_report(snapshot: &Snapshot, namespace: &str, name: &str) -> SecretReport {
    let used_by = users(snapshot, namespace, name);
    let mut listed_by: Vec<String> = used_by
        .pods
        .iter()
        .map(|pod| format!("pod {pod}"))
        .collect();
    listed_by.extend(
        used_by
            .service_accounts
            .iter()
            .map(|account| format!("serviceaccount {account}")),
    );
    let message = if listed_by.is_empty() {
        format!("secret {name} does not exist in namespace {namespace}")
    } else {
        format!(
            "secret {name} does not exist in namespace {namespace}, but {} {} it. Create it \
             with `kubectl create secret docker-registry {name} --docker-server=REGISTRY \
             --docker-username=USERNAME --docker-password=PASSWORD -n {namespace}`.",
            listed_by.join(", "),
            if listed_by.len() == 1 {
                "lists"
            } else {
                "list"
            }
        )
    };
    SecretReport {
        namespace: namespace.to_string(),
        name: name.to_string(),
        type_name: None,
        kubelet_reads: false,
        problems: vec![ProblemReport {
            cause: Cause::SecretNotFound,
            kind: None,
            effect: None,
            entry: None,
            message,
        }],
        entries: Vec::new(),
        used_by,
        decoded: None,
    }
}

fn entry_report(entry: &AuthEntry, show_secrets: bool) -> EntryReport {
    let reveal = |value: &SecretString| {
        if show_secrets {
            value.expose().to_string()
        } else {
            REDACTED.to_string()
        }
    };
    EntryReport {
        registry: entry.key.clone(),
        normalized: entry.normalized.clone(),
        username: entry.username.clone(),
        fields: entry.fields.clone(),
        password: entry.password.as_ref().map(reveal),
        identity_token: entry.identity_token.as_ref().map(reveal),
        registry_token: entry.registry_token.as_ref().map(reveal),
        login: None,
    }
}

/// Returns the ServiceAccounts and pods of `namespace` that list the secret.
fn users(snapshot: &Snapshot, namespace: &str, name: &str) -> UsedBy {
    let service_accounts = snapshot
        .service_accounts
        .iter()
        .filter(|account| account.metadata.namespace.as_deref() == Some(namespace))
        .filter(|account| {
            account
                .image_pull_secrets
                .iter()
                .flatten()
                .any(|reference| reference.name == name)
        })
        .filter_map(|account| account.metadata.name.clone())
        .collect::<Vec<String>>();
    let pods = pods_listing(snapshot, namespace, name)
        .filter_map(|pod| pod.metadata.name.clone())
        .collect();
    let pods_missing_it = snapshot
        .pods
        .iter()
        .filter(|pod| pod.metadata.namespace.as_deref() == Some(namespace))
        .filter(|pod| service_accounts.contains(&pod_service_account(pod)))
        // The admission controller copies a ServiceAccount's pull secrets
        // only into a pod that lists none of its own.
        .filter(|pod| pod_pull_secrets(pod).is_empty())
        .filter_map(|pod| pod.metadata.name.clone())
        .collect();
    UsedBy {
        service_accounts,
        pods,
        images: Vec::new(),
        pods_missing_it,
    }
}

fn pods_listing<'a>(
    snapshot: &'a Snapshot,
    namespace: &'a str,
    name: &'a str,
) -> impl Iterator<Item = &'a Pod> {
    snapshot
        .pods
        .iter()
        .filter(move |pod| pod.metadata.namespace.as_deref() == Some(namespace))
        .filter(move |pod| pod_pull_secrets(pod).iter().any(|listed| listed == name))
}

/// Matches every image of the pods that list the secret against the
/// secret's entries, with the kubelet's rules.
fn image_uses(
    snapshot: &Snapshot,
    namespace: &str,
    name: &str,
    decoded: &DecodedSecret,
) -> Vec<ImageUse> {
    let mut keyring = Keyring::new();
    let added = keyring.add_secret(&format!("{namespace}/{name}"), decoded);
    let images: BTreeSet<String> = pods_listing(snapshot, namespace, name)
        .flat_map(pod_items)
        .map(|item| item.image)
        .filter(|image| !image.is_empty())
        .collect();
    images
        .into_iter()
        .map(|image| {
            let (entry, reason) = if added {
                pick_entry(&keyring, decoded, &image)
            } else {
                (None, Some(unused_reason(decoded)))
            };
            ImageUse {
                image,
                entry,
                reason,
            }
        })
        .collect()
}

/// Returns the key of the first entry the kubelet tries for `image`, or why
/// none matches.
fn pick_entry(
    keyring: &Keyring,
    decoded: &DecodedSecret,
    image: &str,
) -> (Option<String>, Option<String>) {
    let normalized = match normalize_image(image) {
        Ok(normalized) => normalized,
        Err(error) => return (None, Some(error.to_string())),
    };
    if let Some(found) = keyring.lookup(&normalized).into_iter().next() {
        let reason = found.credential.is_none().then(|| {
            "the entry holds no username or password, so the runtime pulls without \
             credentials"
                .to_string()
        });
        return (Some(found.key), reason);
    }
    let reasons: Vec<String> = decoded
        .entries
        .iter()
        .filter_map(|entry| match_explanation(&entry.key, &normalized).err())
        .map(|reason| reason.to_string())
        .collect();
    let reason = if reasons.is_empty() {
        "the secret has no registry entry".to_string()
    } else {
        reasons.join("; ")
    };
    (None, Some(reason))
}

/// Explains why the kubelet uses no entry of a secret for any image. The
/// secret's problems carry the details and the fix.
fn unused_reason(decoded: &DecodedSecret) -> String {
    if decoded.unparsable().is_some() {
        "the kubelet cannot parse the secret, so every pull of the pod fails (see the \
         secret's problems)"
            .to_string()
    } else {
        "the kubelet ignores the secret (see the secret's problems)".to_string()
    }
}

/// Finds the images that no pull secret of their pod covers, grouped by
/// namespace and image.
///
/// TODO: public images that pull anonymously are listed too; with --check,
/// an anonymous pull check could drop them.
fn uncovered_images(snapshot: &Snapshot) -> Vec<UncoveredImage> {
    let decoded: BTreeMap<(String, String), DecodedSecret> = snapshot
        .secrets
        .iter()
        .map(|secret| {
            let key = (
                secret.metadata.namespace.clone().unwrap_or_default(),
                secret.metadata.name.clone().unwrap_or_default(),
            );
            let type_name = secret.type_.clone().unwrap_or_default();
            (key, decode_secret(&type_name, &secret_data(secret)))
        })
        .collect();
    let mut found: BTreeMap<(String, String), ImageUsers> = BTreeMap::new();
    for pod in &snapshot.pods {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        let mut keyring = Keyring::new();
        for name in pod_pull_secrets(pod) {
            if let Some(secret) = decoded.get(&(namespace.clone(), name.clone())) {
                keyring.add_secret(&format!("{namespace}/{name}"), secret);
            }
        }
        for item in pod_items(pod) {
            let (Ok(normalized), Ok(reference)) =
                (normalize_image(&item.image), ImageRef::parse(&item.image))
            else {
                continue;
            };
            // An entry without a credential matches, but the pull is anonymous.
            let covered = keyring
                .lookup(&normalized)
                .iter()
                .any(|found| found.credential.is_some());
            if covered {
                continue;
            }
            let users = found
                .entry((namespace.clone(), item.image.clone()))
                .or_insert_with(|| ImageUsers {
                    reference,
                    pods: BTreeSet::new(),
                    accounts: BTreeSet::new(),
                });
            users.pods.insert(pod_name.clone());
            users.accounts.insert(pod_service_account(pod));
        }
    }
    found
        .into_iter()
        .map(|((namespace, image), users)| {
            let ImageUsers {
                reference,
                pods,
                accounts,
            } = users;
            let secret_name = suggested_secret_name(&reference.registry);
            let command = format!(
                "kubectl create secret docker-registry {secret_name} --docker-server={} \
                 --docker-username=USERNAME --docker-password=PASSWORD -n {namespace}",
                reference.registry
            );
            let accounts: Vec<String> = accounts.into_iter().collect();
            let fix = format!(
                "If {} needs a login, create a pull secret with `{command}`, then list \
                 {secret_name} in the imagePullSecrets of the pod template or of \
                 ServiceAccount {} (pods get a ServiceAccount's pull secrets only when they \
                 are created).",
                reference.registry,
                accounts.join(", ")
            );
            UncoveredImage {
                namespace,
                image,
                registry: reference.registry,
                pods: pods.into_iter().collect(),
                command,
                fix,
            }
        })
        .collect()
}

/// The pods and ServiceAccounts that use one uncovered image.
struct ImageUsers {
    reference: ImageRef,
    pods: BTreeSet<String>,
    accounts: BTreeSet<String>,
}

/// Returns a secret name derived from a registry host, e.g.
/// `pull-registry-example-com-5000`.
fn suggested_secret_name(registry: &str) -> String {
    let mut name = String::from("pull-");
    for c in registry.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    name.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_name_is_a_dns_label() {
        assert_eq!(
            suggested_secret_name("127.0.0.1:5000"),
            "pull-127-0-0-1-5000"
        );
        assert_eq!(suggested_secret_name("Quay.IO"), "pull-quay-io");
        assert_eq!(suggested_secret_name("[::1]:5000"), "pull-1-5000");
    }

    #[test]
    fn failed_login_counts_as_finding() {
        let mut report = SecretsReport::default();
        assert!(!report.has_findings());
        report.secrets.push(SecretReport {
            namespace: "ns".to_string(),
            name: "s".to_string(),
            type_name: None,
            kubelet_reads: true,
            problems: Vec::new(),
            entries: vec![EntryReport {
                registry: "r".to_string(),
                normalized: Some("r".to_string()),
                username: None,
                fields: Vec::new(),
                password: None,
                identity_token: None,
                registry_token: None,
                login: Some(LoginReport {
                    status: "not-checked".to_string(),
                    image: None,
                    auth: None,
                    detail: String::new(),
                }),
            }],
            used_by: UsedBy::default(),
            decoded: None,
        });
        assert!(!report.has_findings(), "not-checked is no finding");
        report.secrets[0].entries[0].login.as_mut().unwrap().status =
            "credentials-rejected".to_string();
        assert!(report.has_findings(), "a rejected login is a finding");
    }
}
