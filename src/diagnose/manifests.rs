//! `diagnose -f`: checks the images of Kubernetes manifests before they are applied.
//!
//! Every pod template becomes a pod that has not started yet, with the pull
//! secrets it would get in its namespace: its own `imagePullSecrets`, else its
//! ServiceAccount's, as the ServiceAccount admission plugin copies them at
//! creation. The secrets come from the cluster when one is reachable, or from
//! `--secret-file` offline.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use k8s_openapi::api::core::v1::{LocalObjectReference, Pod, PodSpec, Secret, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use serde::Deserialize;
use serde_json::Value;

use super::collect::Snapshot;
use super::report::Report;
use super::{DiagnoseOptions, analyze, items};
use crate::cluster::{ApiFailure, Cluster};
use crate::registry::{Platform, RegistryClient};

/// Largest manifest input read, to keep a wrong path from filling memory.
const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// Sources of manifests and offline secrets.
pub struct ManifestInput {
    /// Files, directories (searched for .yaml, .yml and .json) or `-` for stdin.
    pub paths: Vec<PathBuf>,
    /// Secret manifests, or Docker config files that apply to every pod.
    pub secret_files: Vec<PathBuf>,
    /// Node platforms to check against when no cluster lists its nodes.
    pub platforms: Vec<Platform>,
    /// Namespace for objects that name none.
    pub namespace: String,
}

/// A pod template found in a manifest.
#[derive(Debug, Clone)]
pub struct Template {
    pub kind: String,
    pub name: String,
    pub namespace: String,
    pub spec: PodSpec,
}

/// Reads every document of the inputs as JSON values (YAML streams, JSON, Lists expanded).
pub fn read_documents(paths: &[PathBuf]) -> anyhow::Result<Vec<Value>> {
    let mut documents = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .take(MAX_INPUT_BYTES)
                .read_to_string(&mut text)
                .context("cannot read manifests from standard input")?;
            parse_stream(&text, "standard input", &mut documents)?;
        } else if path.is_dir() {
            for file in manifest_files(path)? {
                let text = read_file(&file)?;
                parse_stream(&text, &file.display().to_string(), &mut documents)?;
            }
        } else {
            let text = read_file(path)?;
            parse_stream(&text, &path.display().to_string(), &mut documents)?;
        }
    }
    Ok(documents)
}

fn read_file(path: &Path) -> anyhow::Result<String> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut text = String::new();
    file.take(MAX_INPUT_BYTES)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))?;
    Ok(text)
}

/// YAML and JSON files under `dir`, sorted, recursing into subdirectories.
fn manifest_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current)
            .with_context(|| format!("cannot list {}", current.display()))?;
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Parses a multi-document YAML (or JSON) stream, expanding `List` kinds.
fn parse_stream(text: &str, origin: &str, documents: &mut Vec<Value>) -> anyhow::Result<()> {
    for (index, document) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let value = Value::deserialize(document).with_context(|| {
            format!("{origin}: document {} is not valid YAML or JSON", index + 1)
        })?;
        expand_lists(value, documents);
    }
    Ok(())
}

fn expand_lists(value: Value, documents: &mut Vec<Value>) {
    if value.is_null() {
        return;
    }
    let is_list = value
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|kind| kind == "List" || kind.ends_with("List"));
    if is_list && let Some(items) = value.get("items").and_then(Value::as_array) {
        for item in items.clone() {
            expand_lists(item, documents);
        }
        return;
    }
    documents.push(value);
}

/// Finds the pod templates of Pods, Deployments, StatefulSets, DaemonSets,
/// ReplicaSets, Jobs and CronJobs.
pub fn templates(documents: &[Value], default_namespace: &str) -> anyhow::Result<Vec<Template>> {
    let mut found = Vec::new();
    for document in documents {
        let Some(kind) = document.get("kind").and_then(Value::as_str) else {
            continue;
        };
        let spec = match kind {
            "Pod" => document.get("spec"),
            "Deployment"
            | "StatefulSet"
            | "DaemonSet"
            | "ReplicaSet"
            | "Job"
            | "ReplicationController" => document.pointer("/spec/template/spec"),
            "CronJob" => document.pointer("/spec/jobTemplate/spec/template/spec"),
            _ => continue,
        };
        let name = document
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("unnamed")
            .to_string();
        let Some(spec) = spec else {
            bail!("{kind} {name} has no pod template");
        };
        let spec: PodSpec = serde_json::from_value(spec.clone())
            .with_context(|| format!("{kind} {name}: invalid pod template"))?;
        let namespace = document
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or(default_namespace)
            .to_string();
        found.push(Template {
            kind: kind.to_string(),
            name,
            namespace,
            spec,
        });
    }
    Ok(found)
}

/// Reads secrets from `--secret-file`s: Secret manifests (by name) and Docker
/// config files (for every pod, under the name `file:PATH`).
fn secret_files(paths: &[PathBuf], namespace: &str) -> anyhow::Result<(Vec<Secret>, Vec<String>)> {
    let mut secrets = Vec::new();
    let mut shared = Vec::new();
    for path in paths {
        let text = read_file(path)?;
        let mut documents = Vec::new();
        parse_stream(&text, &path.display().to_string(), &mut documents)?;
        for document in documents {
            if document.get("kind").and_then(Value::as_str) == Some("Secret") {
                let mut secret: Secret = serde_json::from_value(document)
                    .with_context(|| format!("{}: invalid Secret", path.display()))?;
                if secret.metadata.namespace.is_none() {
                    secret.metadata.namespace = Some(namespace.to_string());
                }
                // The API server turns stringData into data on create; do the same.
                if let Some(string_data) = secret.string_data.take() {
                    let data = secret.data.get_or_insert_with(Default::default);
                    for (key, value) in string_data {
                        data.insert(key, k8s_openapi::ByteString(value.into_bytes()));
                    }
                }
                secrets.push(secret);
            } else if document.get("auths").is_some() || document.get("credHelpers").is_some() {
                let name = format!("file:{}", path.display());
                let mut data = std::collections::BTreeMap::new();
                data.insert(
                    ".dockerconfigjson".to_string(),
                    k8s_openapi::ByteString(text.clone().into_bytes()),
                );
                secrets.push(Secret {
                    metadata: ObjectMeta {
                        name: Some(name.clone()),
                        namespace: Some(namespace.to_string()),
                        ..ObjectMeta::default()
                    },
                    type_: Some("kubernetes.io/dockerconfigjson".to_string()),
                    data: Some(data),
                    ..Secret::default()
                });
                shared.push(name);
            } else {
                bail!(
                    "{}: expected a Secret manifest or a Docker config.json with \"auths\"",
                    path.display()
                );
            }
        }
    }
    Ok((secrets, shared))
}

/// Diagnoses the images of the manifests in `input`, against `cluster` when given.
pub async fn diagnose_manifests(
    cluster: Option<&Cluster>,
    registry: Arc<RegistryClient>,
    input: &ManifestInput,
    show_secrets: bool,
) -> anyhow::Result<Report> {
    let documents = read_documents(&input.paths)?;
    let templates = templates(&documents, &input.namespace)?;
    let (file_secrets, shared_secrets) = secret_files(&input.secret_files, &input.namespace)?;
    let mut snapshot = Snapshot::default();

    // ServiceAccounts: from the cluster when reachable (one GET each).
    let mut accounts: BTreeSet<(String, String)> = BTreeSet::new();
    for template in &templates {
        let account = template
            .spec
            .service_account_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".to_string());
        accounts.insert((template.namespace.clone(), account));
    }
    let mut account_secrets: HashMap<(String, String), Vec<String>> = HashMap::new();
    if let Some(cluster) = cluster {
        for (namespace, name) in &accounts {
            match cluster.get_service_account(namespace, name).await {
                Ok(account) => {
                    account_secrets.insert((namespace.clone(), name.clone()), names_of(&account));
                }
                Err(failure) if failure.is_not_found() => snapshot.warnings.push(format!(
                    "serviceaccount {namespace}/{name} not found; its pods would not be created"
                )),
                Err(failure) => snapshot.warnings.push(format!(
                    "cannot read serviceaccount {namespace}/{name}: {failure}"
                )),
            }
        }
    }

    // Pods as the API server would create them from each template.
    for template in &templates {
        let mut spec = template.spec.clone();
        let account = spec
            .service_account_name
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".to_string());
        let mut pull_secrets: Vec<String> = spec
            .image_pull_secrets
            .iter()
            .flatten()
            .map(|r| r.name.clone())
            .collect();
        if pull_secrets.is_empty()
            && let Some(names) = account_secrets.get(&(template.namespace.clone(), account))
        {
            pull_secrets = names.clone();
        }
        pull_secrets.extend(shared_secrets.iter().cloned());
        spec.image_pull_secrets = Some(
            pull_secrets
                .iter()
                .map(|name| LocalObjectReference { name: name.clone() })
                .collect(),
        );
        snapshot.pods.push(Pod {
            metadata: ObjectMeta {
                name: Some(template.name.clone()),
                namespace: Some(template.namespace.clone()),
                owner_references: Some(vec![OwnerReference {
                    api_version: String::new(),
                    kind: template.kind.clone(),
                    name: template.name.clone(),
                    uid: String::new(),
                    controller: Some(true),
                    block_owner_deletion: None,
                }]),
                ..ObjectMeta::default()
            },
            spec: Some(spec),
            status: None,
        });
    }

    // Secrets: files first, then the cluster for the names still missing.
    for secret in file_secrets {
        let key = (
            secret.metadata.namespace.clone().unwrap_or_default(),
            secret.metadata.name.clone().unwrap_or_default(),
        );
        snapshot.secrets.insert(key, Ok(secret));
    }
    let wanted: BTreeSet<(String, String)> = snapshot
        .pods
        .iter()
        .flat_map(|pod| {
            let namespace = pod.metadata.namespace.clone().unwrap_or_default();
            super::collect::pod_pull_secrets(pod)
                .into_iter()
                .map(move |name| (namespace.clone(), name))
        })
        .collect();
    for (namespace, name) in wanted {
        if snapshot
            .secrets
            .contains_key(&(namespace.clone(), name.clone()))
        {
            continue;
        }
        let result = match cluster {
            Some(cluster) => cluster.get_secret(&namespace, &name).await,
            None => Err(ApiFailure {
                code: 404,
                reason: "NotFound".to_string(),
                message: format!(
                    "secret {name} is not among the --secret-file inputs and no cluster was read"
                ),
            }),
        };
        snapshot.secrets.insert((namespace, name), result);
    }

    let platforms = node_platforms(cluster, &input.platforms, &mut snapshot).await;
    let mut report = Report::default();
    for platform in &platforms {
        let mut per_platform = snapshot.clone();
        let node_name = format!("platform {platform}");
        for pod in &mut per_platform.pods {
            if let Some(spec) = pod.spec.as_mut() {
                spec.node_name = Some(node_name.clone());
            }
        }
        per_platform
            .nodes
            .insert(node_name, Ok(platform_node(platform)));
        let pod_items = per_platform.pods.iter().map(items::pod_items).collect();
        let options = DiagnoseOptions {
            namespace: Some(input.namespace.clone()),
            show_secrets,
            check_all: true,
            ..DiagnoseOptions::default()
        };
        let part = analyze(per_platform, pod_items, registry.clone(), &options).await;
        merge(&mut report, part);
    }
    Ok(report)
}

fn names_of(account: &ServiceAccount) -> Vec<String> {
    account
        .image_pull_secrets
        .iter()
        .flatten()
        .map(|r| r.name.clone())
        .collect()
}

/// Returns the node platforms to check: every distinct one in the cluster, else
/// `--platform`, else linux/amd64 with a warning.
async fn node_platforms(
    cluster: Option<&Cluster>,
    given: &[Platform],
    snapshot: &mut Snapshot,
) -> Vec<Platform> {
    if !given.is_empty() {
        return given.to_vec();
    }
    if let Some(cluster) = cluster {
        match cluster.list_nodes().await {
            Ok(nodes) => {
                let mut platforms: Vec<Platform> = Vec::new();
                for node in nodes {
                    if let Some(info) = node.status.and_then(|s| s.node_info) {
                        let platform = Platform::new(&info.operating_system, &info.architecture, None);
                        if !platforms.contains(&platform) {
                            platforms.push(platform);
                        }
                    }
                }
                if !platforms.is_empty() {
                    return platforms;
                }
            }
            Err(failure) => snapshot.warnings.push(format!(
                "cannot list nodes ({failure}); checking linux/amd64 only (pass --platform to choose)"
            )),
        }
    } else {
        snapshot
            .warnings
            .push("no cluster and no --platform: checking linux/amd64 only".to_string());
    }
    vec![Platform::new("linux", "amd64", None)]
}

fn platform_node(platform: &Platform) -> k8s_openapi::api::core::v1::Node {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": format!("platform {platform}")},
        "status": {"nodeInfo": {
            "architecture": platform.architecture, "operatingSystem": platform.os,
            "bootID": "", "containerRuntimeVersion": "", "kernelVersion": "", "kubeProxyVersion": "",
            "kubeletVersion": "", "machineID": "", "osImage": "", "systemUUID": ""
        }}
    }))
    .expect("a node built from a platform is valid")
}

/// Adds the findings of one platform's run; a finding with the same cause for
/// another platform is kept once.
fn merge(report: &mut Report, part: Report) {
    for finding in part.findings {
        let duplicate = report.findings.iter().any(|f| {
            f.namespace == finding.namespace
                && f.workload == finding.workload
                && f.container == finding.container
                && f.cause == finding.cause
        });
        if !duplicate {
            report.findings.push(finding);
        }
    }
    let checked = &mut report.checked;
    checked.pods = checked.pods.max(part.checked.pods);
    checked.images = checked.images.max(part.checked.images);
    for namespace in part.checked.namespaces {
        if !checked.namespaces.contains(&namespace) {
            checked.namespaces.push(namespace);
        }
    }
    for registry in part.checked.registries {
        if !checked.registries.iter().any(|r| r.host == registry.host) {
            checked.registries.push(registry);
        }
    }
    for warning in part.checked.warnings {
        if !checked.warnings.contains(&warning) {
            checked.warnings.push(warning);
        }
    }
    checked.registry_requests = part.checked.registry_requests;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_come_from_every_workload_kind() {
        let text = r#"
apiVersion: v1
kind: List
items:
- {kind: Pod, metadata: {name: p}, spec: {containers: [{name: a, image: r.test/a:1}]}}
- {kind: Deployment, metadata: {name: d, namespace: other}, spec: {template: {spec: {containers: [{name: b, image: r.test/b:1}]}}}}
---
kind: CronJob
metadata: {name: c}
spec: {jobTemplate: {spec: {template: {spec: {initContainers: [{name: i, image: r.test/i:1}], containers: [{name: c, image: r.test/c:1}]}}}}}
---
kind: ConfigMap
metadata: {name: ignored}
---
"#;
        let mut documents = Vec::new();
        parse_stream(text, "test", &mut documents).unwrap();
        let found = templates(&documents, "default").unwrap();
        let names: Vec<(&str, &str, &str)> = found
            .iter()
            .map(|t| (t.kind.as_str(), t.name.as_str(), t.namespace.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("Pod", "p", "default"),
                ("Deployment", "d", "other"),
                ("CronJob", "c", "default")
            ]
        );
        assert_eq!(
            found[2].spec.init_containers.as_ref().unwrap()[0]
                .image
                .as_deref(),
            Some("r.test/i:1")
        );
    }

    #[test]
    fn invalid_yaml_names_the_document() {
        let mut documents = Vec::new();
        let err = parse_stream("kind: Pod\n---\n: : :\n", "bad.yaml", &mut documents).unwrap_err();
        assert!(
            format!("{err:#}").contains("bad.yaml: document 2"),
            "{err:#}"
        );
    }

    #[test]
    fn workload_without_template_is_an_error() {
        let documents = vec![serde_json::json!({"kind": "Deployment", "metadata": {"name": "x"}})];
        assert!(templates(&documents, "default").is_err());
    }
}
