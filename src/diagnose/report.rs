//! The diagnose report: findings and what was checked. Its JSON form is the
//! contract documented in the README; add fields, never rename them.

use serde::Serialize;

use crate::cause::Cause;
use crate::classify::Classification;
use crate::registry::ImageCheck;

/// The whole report of one diagnose run.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub checked: Checked,
}

/// One failing (pod, container or image volume) with its single cause.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub namespace: String,
    pub pod: String,
    /// Container name, or the image volume's name.
    pub container: String,
    pub image: String,
    pub cause: Cause,
    pub message: String,
    pub evidence: Evidence,
    pub fix: String,
    /// The owning workload as `kind/name`, e.g. `deployment/web`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
}

/// Evidence the cause rests on.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Evidence {
    /// `container`, `initContainer`, `ephemeralContainer` or `imageVolume`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_message: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventEvidence>,
    /// Classification of the message text alone, before the registry check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_cause: Option<Classification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_platform: Option<String>,
    /// The registry check; absent when the registry could not be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<ImageCheck>,
    /// Reason the registry was not checked, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_not_checked: Option<String>,
    pub secrets: Vec<SecretEvidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub running_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pull_policy: Option<String>,
}

/// A kubelet event about the container.
#[derive(Debug, Clone, Serialize)]
pub struct EventEvidence {
    pub reason: String,
    pub message: String,
    pub count: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
}

/// A pull secret the pod refers to, decoded and matched to the image.
#[derive(Debug, Clone, Serialize)]
pub struct SecretEvidence {
    pub name: String,
    /// `pod` when the pod lists it, `serviceaccount/NAME` when only its ServiceAccount does.
    pub referenced_by: String,
    /// `ok`, `not-found`, `forbidden`, `invalid` or `not-used`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    pub entries: Vec<EntryEvidence>,
}

/// One `auths` entry of a pull secret.
#[derive(Debug, Clone, Serialize)]
pub struct EntryEvidence {
    /// The key as written in the secret.
    pub registry: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Credential fields present: auth, username, password, identitytoken, registrytoken.
    pub fields: Vec<String>,
    /// Masked unless `--show-secrets`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Whether the kubelet would use this entry for the image.
    pub matches_image: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mismatch: Option<String>,
}

/// Scope of the run, and the reads and checks that failed.
#[derive(Debug, Default, Serialize)]
pub struct Checked {
    pub namespaces: Vec<String>,
    pub pods: usize,
    pub failing_pods: usize,
    pub images: usize,
    pub registries: Vec<RegistryStatus>,
    /// Things that could not be read or checked, with the reason and how to fix access.
    pub warnings: Vec<String>,
    pub registry_requests: serde_json::Value,
}

/// Result of the first request to a registry.
#[derive(Debug, Clone, Serialize)]
pub struct RegistryStatus {
    pub host: String,
    pub reachable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zot_auth_methods: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
