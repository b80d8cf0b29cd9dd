//! Cluster access: kubeconfig handling as kubectl does it, and the reads diagnose needs.
//!
//! Everything here is read-only (GET and LIST) except `patch_restart`, which
//! only `restart` calls.

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Pod, Secret, ServiceAccount};
use kube::api::{Api, ListParams, ObjectList};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde::de::DeserializeOwned;

/// Page size of LIST requests, as kubectl uses for `get` (500).
const LIST_PAGE_SIZE: u32 = 500;

/// How to reach the cluster: kubectl's `--kubeconfig`, `--context` and `--request-timeout`.
#[derive(Clone, Debug, Default)]
pub struct ClusterOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub request_timeout: Option<Duration>,
}

/// Failure to reach or read the cluster.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("cannot load kubeconfig {path}: {source}")]
    Kubeconfig {
        path: String,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error(
        "no kubeconfig found: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config \
         (and no in-cluster service account is available)"
    )]
    NoConfig,
    #[error("invalid cluster configuration: {0}")]
    Config(String),
    #[error("{0}")]
    Api(#[from] ApiFailure),
}

/// A failed API request, with the server's own status reason and message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiFailure {
    /// HTTP status, 0 when the request got no response.
    pub code: u16,
    /// The Status reason (NotFound, Forbidden, ...) or a transport description.
    pub reason: String,
    pub message: String,
}

impl ApiFailure {
    pub fn is_not_found(&self) -> bool {
        self.code == 404
    }

    pub fn is_forbidden(&self) -> bool {
        self.code == 403
    }

    fn from_kube(err: kube::Error, what: &str) -> ApiFailure {
        match err {
            kube::Error::Api(status) => ApiFailure {
                code: status.code,
                reason: status.reason.clone(),
                message: if status.message.is_empty() {
                    format!("{what}: {} ({})", status.reason, status.code)
                } else {
                    status.message.clone()
                },
            },
            other => ApiFailure {
                code: 0,
                reason: "Unreachable".to_string(),
                message: format!("{what}: {}", describe_chain(&other)),
            },
        }
    }
}

fn describe_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(current) = source {
        let part = current.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = current.source();
    }
    text
}

/// A connected cluster.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    /// The namespace of the current context, `default` when it names none.
    pub default_namespace: String,
}

impl Cluster {
    /// Connects as kubectl would: `--kubeconfig`, else `KUBECONFIG` (a list of
    /// files merged in order), else `~/.kube/config`, else the in-cluster config.
    pub async fn connect(options: &ClusterOptions) -> Result<Cluster, ClusterError> {
        let kube_options = KubeConfigOptions {
            context: options.context.clone(),
            cluster: None,
            user: None,
        };
        let kubeconfig =
            match &options.kubeconfig {
                Some(path) => Some(Kubeconfig::read_from(path).map_err(|source| {
                    ClusterError::Kubeconfig {
                        path: path.display().to_string(),
                        source,
                    }
                })?),
                None => match Kubeconfig::from_env() {
                    Ok(Some(config)) => Some(config),
                    Ok(None) => default_kubeconfig()?,
                    Err(source) => {
                        return Err(ClusterError::Kubeconfig {
                            path: std::env::var("KUBECONFIG").unwrap_or_default(),
                            source,
                        });
                    }
                },
            };
        let mut config = match kubeconfig {
            Some(kubeconfig) => Config::from_custom_kubeconfig(kubeconfig, &kube_options)
                .await
                .map_err(|err| ClusterError::Config(describe_chain(&err)))?,
            None => Config::incluster().map_err(|_| ClusterError::NoConfig)?,
        };
        config.read_timeout = options.request_timeout;
        config.write_timeout = options.request_timeout;
        config.connect_timeout = options.request_timeout.or(Some(Duration::from_secs(30)));
        let default_namespace = config.default_namespace.clone();
        let client =
            Client::try_from(config).map_err(|err| ClusterError::Config(describe_chain(&err)))?;
        Ok(Cluster {
            client,
            default_namespace,
        })
    }

    fn namespaced<K>(&self, namespace: Option<&str>) -> Api<K>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
        <K as kube::Resource>::DynamicType: Default,
    {
        match namespace {
            Some(namespace) => Api::namespaced(self.client.clone(), namespace),
            None => Api::all(self.client.clone()),
        }
    }

    /// Lists pods in `namespace` (all when None), following `continue` pages.
    pub async fn list_pods(
        &self,
        namespace: Option<&str>,
        selector: Option<&str>,
    ) -> Result<Vec<Pod>, ApiFailure> {
        list_all(
            self.namespaced::<Pod>(namespace),
            selector,
            None,
            "list pods",
        )
        .await
    }

    pub async fn get_pod(&self, namespace: &str, name: &str) -> Result<Pod, ApiFailure> {
        tracing::debug!(namespace, name, "GET pod");
        self.namespaced::<Pod>(Some(namespace))
            .get(name)
            .await
            .map_err(|err| ApiFailure::from_kube(err, &format!("get pod {namespace}/{name}")))
    }

    /// Lists the events about pods in `namespace` (all when None).
    pub async fn list_pod_events(&self, namespace: Option<&str>) -> Result<Vec<Event>, ApiFailure> {
        list_all(
            self.namespaced::<Event>(namespace),
            None,
            Some("involvedObject.kind=Pod"),
            "list events",
        )
        .await
    }

    pub async fn get_secret(&self, namespace: &str, name: &str) -> Result<Secret, ApiFailure> {
        tracing::debug!(namespace, name, "GET secret");
        self.namespaced::<Secret>(Some(namespace))
            .get(name)
            .await
            .map_err(|err| ApiFailure::from_kube(err, &format!("get secret {namespace}/{name}")))
    }

    pub async fn get_service_account(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<ServiceAccount, ApiFailure> {
        tracing::debug!(namespace, name, "GET serviceaccount");
        self.namespaced::<ServiceAccount>(Some(namespace))
            .get(name)
            .await
            .map_err(|err| {
                ApiFailure::from_kube(err, &format!("get serviceaccount {namespace}/{name}"))
            })
    }

    pub async fn get_node(&self, name: &str) -> Result<Node, ApiFailure> {
        tracing::debug!(name, "GET node");
        Api::<Node>::all(self.client.clone())
            .get(name)
            .await
            .map_err(|err| ApiFailure::from_kube(err, &format!("get node {name}")))
    }

    /// Lists every node, for the platforms present in the cluster.
    pub async fn list_nodes(&self) -> Result<Vec<Node>, ApiFailure> {
        list_all(
            Api::<Node>::all(self.client.clone()),
            None,
            None,
            "list nodes",
        )
        .await
    }

    pub async fn get_namespace(&self, name: &str) -> Result<Namespace, ApiFailure> {
        tracing::debug!(name, "GET namespace");
        Api::<Namespace>::all(self.client.clone())
            .get(name)
            .await
            .map_err(|err| ApiFailure::from_kube(err, &format!("get namespace {name}")))
    }

    pub async fn get_job(&self, namespace: &str, name: &str) -> Result<Job, ApiFailure> {
        tracing::debug!(namespace, name, "GET job");
        self.namespaced::<Job>(Some(namespace))
            .get(name)
            .await
            .map_err(|err| ApiFailure::from_kube(err, &format!("get job {namespace}/{name}")))
    }

    /// GETs any namespaced object as JSON, by its API path pieces.
    pub async fn get_namespaced<K>(
        &self,
        namespace: &str,
        name: &str,
        what: &str,
    ) -> Result<K, ApiFailure>
    where
        K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
        <K as kube::Resource>::DynamicType: Default,
    {
        self.namespaced::<K>(Some(namespace))
            .get(name)
            .await
            .map_err(|err| ApiFailure::from_kube(err, &format!("get {what} {namespace}/{name}")))
    }
}

fn default_kubeconfig() -> Result<Option<Kubeconfig>, ClusterError> {
    let Some(home) = std::env::var_os("HOME") else {
        return Ok(None);
    };
    let path = PathBuf::from(home).join(".kube").join("config");
    if !path.exists() {
        return Ok(None);
    }
    Kubeconfig::read_from(&path)
        .map(Some)
        .map_err(|source| ClusterError::Kubeconfig {
            path: path.display().to_string(),
            source,
        })
}

async fn list_all<K>(
    api: Api<K>,
    labels: Option<&str>,
    fields: Option<&str>,
    what: &str,
) -> Result<Vec<K>, ApiFailure>
where
    K: Clone + DeserializeOwned + std::fmt::Debug,
{
    let mut items = Vec::new();
    let mut params = ListParams::default().limit(LIST_PAGE_SIZE);
    if let Some(labels) = labels {
        params = params.labels(labels);
    }
    if let Some(fields) = fields {
        params = params.fields(fields);
    }
    loop {
        tracing::debug!(what, labels, fields, "LIST");
        let page: ObjectList<K> = api
            .list(&params)
            .await
            .map_err(|err| ApiFailure::from_kube(err, what))?;
        items.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => return Ok(items),
        }
    }
}

/// Parses kubectl's `--request-timeout`: `0` means none, a bare number is seconds.
pub fn parse_request_timeout(text: &str) -> Result<Option<Duration>, String> {
    let text = text.trim();
    if text.is_empty() || text == "0" {
        return Ok(None);
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Some(Duration::from_secs(seconds)));
    }
    match humantime::parse_duration(text) {
        Ok(duration) if duration.is_zero() => Ok(None),
        Ok(duration) => Ok(Some(duration)),
        Err(err) => Err(format!(
            "invalid duration {text:?}: {err}; use a number with a unit, e.g. 30s, 2m or 1h"
        )),
    }
}

/// Reads and the restart PATCH for apps/v1 workloads (Deployments, StatefulSets, DaemonSets),
/// addressed by their `ApiResource` so one set of functions serves the three kinds.
impl Cluster {
    /// GETs one workload.
    pub async fn get_workload(
        &self,
        resource: &kube::api::ApiResource,
        namespace: &str,
        name: &str,
    ) -> Result<kube::api::DynamicObject, ApiFailure> {
        tracing::debug!(namespace, name, kind = resource.kind, "GET workload");
        Api::<kube::api::DynamicObject>::namespaced_with(self.client.clone(), namespace, resource)
            .get(name)
            .await
            .map_err(|err| {
                ApiFailure::from_kube(err, &format!("get {} {namespace}/{name}", resource.plural))
            })
    }

    /// Lists the workloads of one kind in `namespace` (all when None), following `continue` pages.
    pub async fn list_workloads(
        &self,
        resource: &kube::api::ApiResource,
        namespace: Option<&str>,
        selector: Option<&str>,
    ) -> Result<Vec<kube::api::DynamicObject>, ApiFailure> {
        let api = match namespace {
            Some(namespace) => Api::namespaced_with(self.client.clone(), namespace, resource),
            None => Api::all_with(self.client.clone(), resource),
        };
        list_all(api, selector, None, &format!("list {}", resource.plural)).await
    }

    /// Sends the PATCH that `kubectl rollout restart` sends: a strategic-merge patch that sets
    /// the pod template's `kubectl.kubernetes.io/restartedAt` annotation, with fieldManager
    /// `kubectl-rollout`. With `dry_run` the server validates it (`dryRun=All`) and stores
    /// nothing.
    pub async fn patch_restart(
        &self,
        resource: &kube::api::ApiResource,
        namespace: &str,
        name: &str,
        restarted_at: &str,
        dry_run: bool,
    ) -> Result<kube::api::DynamicObject, ApiFailure> {
        tracing::debug!(
            namespace,
            name,
            kind = resource.kind,
            dry_run,
            "PATCH restartedAt"
        );
        let patch = serde_json::json!({
            "spec": {"template": {"metadata": {"annotations": {
                "kubectl.kubernetes.io/restartedAt": restarted_at
            }}}}
        });
        let params = kube::api::PatchParams {
            dry_run,
            field_manager: Some("kubectl-rollout".to_string()),
            ..kube::api::PatchParams::default()
        };
        Api::<kube::api::DynamicObject>::namespaced_with(self.client.clone(), namespace, resource)
            .patch(name, &params, &kube::api::Patch::Strategic(patch))
            .await
            .map_err(|err| {
                ApiFailure::from_kube(
                    err,
                    &format!("patch {} {namespace}/{name}", resource.plural),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_timeout_forms() {
        assert_eq!(parse_request_timeout("0").unwrap(), None);
        assert_eq!(
            parse_request_timeout("5").unwrap(),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            parse_request_timeout("30s").unwrap(),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_request_timeout("1m30s").unwrap(),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_request_timeout("250ms").unwrap(),
            Some(Duration::from_millis(250))
        );
        assert!(parse_request_timeout("soon").is_err());
        assert!(parse_request_timeout("-1s").is_err());
    }
}
