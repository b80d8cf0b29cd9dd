//! Reads the secrets, ServiceAccounts and pods that `secrets` reports on.

use std::collections::BTreeSet;

use anyhow::Context;
use k8s_openapi::api::core::v1::{Pod, Secret, ServiceAccount};
use kube::api::{Api, ListParams, ObjectList};
use serde::de::DeserializeOwned;

use crate::cluster::Cluster;
use crate::credentials::{DOCKER_CONFIG_JSON_KEY, DOCKERCFG_KEY, SecretKind};
use crate::diagnose::collect::pod_pull_secrets;

/// Page size of LIST requests, as kubectl uses for `get`.
const LIST_PAGE_SIZE: u32 = 500;

/// Objects read from the cluster.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// Pull secrets in scope, sorted by namespace and name.
    pub secrets: Vec<Secret>,
    /// Secrets that were named on the command line, or that a pod or
    /// ServiceAccount lists, but do not exist: `(namespace, name)`.
    pub missing: Vec<(String, String)>,
    pub service_accounts: Vec<ServiceAccount>,
    pub pods: Vec<Pod>,
    /// Failed reads, and what the report lacks because of them.
    pub warnings: Vec<String>,
}

/// Reads the pull secrets of `namespace` (every namespace when `None`), or
/// only the secrets in `names`, and the ServiceAccounts and pods that may
/// use them.
pub async fn read(
    cluster: &Cluster,
    namespace: Option<&str>,
    names: &[String],
) -> anyhow::Result<Snapshot> {
    let mut snapshot = Snapshot::default();
    let scope = match namespace {
        Some(namespace) => format!("in namespace {namespace}"),
        None => "in all namespaces".to_string(),
    };

    match list::<ServiceAccount>(cluster, namespace, "serviceaccounts").await {
        Ok(accounts) => snapshot.service_accounts = accounts,
        Err(error) => snapshot.warnings.push(format!(
            "cannot list serviceaccounts {scope}: {error:#}; the report does not show which \
             ServiceAccounts list each secret"
        )),
    }
    match list::<Pod>(cluster, namespace, "pods").await {
        Ok(pods) => snapshot.pods = pods,
        Err(error) => snapshot.warnings.push(format!(
            "cannot list pods {scope}: {error:#}; the report does not show which pods and \
             images use each secret"
        )),
    }

    if let (Some(namespace), false) = (namespace, names.is_empty()) {
        let api: Api<Secret> = Api::namespaced(cluster.client.clone(), namespace);
        for name in names {
            tracing::debug!(namespace, name, "GET secret");
            match api.get_opt(name).await {
                Ok(Some(secret)) => snapshot.secrets.push(secret),
                Ok(None) => snapshot
                    .missing
                    .push((namespace.to_string(), name.to_string())),
                Err(error) => {
                    return Err(error).with_context(|| {
                        format!("cannot get secret {name} in namespace {namespace}")
                    });
                }
            }
        }
        return Ok(snapshot);
    }

    let all = list::<Secret>(cluster, namespace, "secrets")
        .await
        .with_context(|| format!("cannot list secrets {scope}"))?;
    let referenced = referenced_secrets(&snapshot);
    let mut found = BTreeSet::new();
    for secret in all {
        let key = (
            secret.metadata.namespace.clone().unwrap_or_default(),
            secret.metadata.name.clone().unwrap_or_default(),
        );
        if is_pull_secret(&secret) || referenced.contains(&key) {
            found.insert(key);
            snapshot.secrets.push(secret);
        }
    }
    snapshot.missing = referenced.difference(&found).cloned().collect();
    snapshot.secrets.sort_by(|a, b| {
        (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
    });
    Ok(snapshot)
}

/// Returns whether a secret is of a pull-secret type, or contains a data key
/// that only a Docker config would use.
fn is_pull_secret(secret: &Secret) -> bool {
    let type_name = secret.type_.as_deref().unwrap_or_default();
    if !matches!(SecretKind::from_type(type_name), SecretKind::Other(_)) {
        return true;
    }
    let data = secret.data.iter().flatten().map(|(key, _)| key.as_str());
    let string_data = secret
        .string_data
        .iter()
        .flatten()
        .map(|(key, _)| key.as_str());
    data.chain(string_data)
        .any(|key| key == DOCKER_CONFIG_JSON_KEY || key == DOCKERCFG_KEY)
}

/// Returns `(namespace, name)` of every secret that a pod or ServiceAccount
/// lists as an image pull secret.
fn referenced_secrets(snapshot: &Snapshot) -> BTreeSet<(String, String)> {
    let mut referenced = BTreeSet::new();
    for pod in &snapshot.pods {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        for name in pod_pull_secrets(pod) {
            referenced.insert((namespace.clone(), name));
        }
    }
    for account in &snapshot.service_accounts {
        let namespace = account.metadata.namespace.clone().unwrap_or_default();
        for reference in account.image_pull_secrets.iter().flatten() {
            if !reference.name.is_empty() {
                referenced.insert((namespace.clone(), reference.name.clone()));
            }
        }
    }
    referenced
}

/// Lists every object of one resource, following `continue` pages.
async fn list<K>(
    cluster: &Cluster,
    namespace: Option<&str>,
    resource: &str,
) -> Result<Vec<K>, kube::Error>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
    <K as kube::Resource>::DynamicType: Default,
{
    let api: Api<K> = match namespace {
        Some(namespace) => Api::namespaced(cluster.client.clone(), namespace),
        None => Api::all(cluster.client.clone()),
    };
    let mut items = Vec::new();
    let mut params = ListParams::default().limit(LIST_PAGE_SIZE);
    loop {
        tracing::debug!(resource, namespace, "LIST");
        let page: ObjectList<K> = api.list(&params).await?;
        items.extend(page.items);
        match page.metadata.continue_.filter(|token| !token.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(items),
        }
    }
}
