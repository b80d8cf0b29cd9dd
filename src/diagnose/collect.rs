//! Reads from the cluster what diagnose needs, with as few requests as possible:
//! one pod LIST (paged), one event LIST per namespace, and one GET per distinct
//! secret, ServiceAccount, node and Job.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::stream::{self, StreamExt};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event, Node, Pod, Secret, ServiceAccount};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::cluster::{ApiFailure, Cluster};

/// Concurrent GETs in flight against the API server.
const API_CONCURRENCY: usize = 8;

/// Selection of pods: one pod, one workload's pods, or every pod matching a selector.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Target {
    #[default]
    All,
    Pod(String),
    Workload {
        kind: WorkloadKind,
        name: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    Job,
    CronJob,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
            WorkloadKind::DaemonSet => "daemonset",
            WorkloadKind::Job => "job",
            WorkloadKind::CronJob => "cronjob",
        }
    }
}

/// Parses diagnose's TARGET: `NAME`, `pod/NAME` or `KIND/NAME` with kubectl's spellings.
pub fn parse_target(text: &str) -> Result<Target, String> {
    let Some((kind, name)) = text.split_once('/') else {
        return Ok(Target::Pod(text.to_string()));
    };
    if name.is_empty() || name.contains('/') {
        return Err(format!(
            "invalid target {text:?}: expected NAME or TYPE/NAME"
        ));
    }
    let kind = match kind.to_ascii_lowercase().as_str() {
        "pod" | "pods" | "po" => return Ok(Target::Pod(name.to_string())),
        "deployment" | "deployments" | "deploy" | "deployment.apps" => WorkloadKind::Deployment,
        "statefulset" | "statefulsets" | "sts" | "statefulset.apps" => WorkloadKind::StatefulSet,
        "daemonset" | "daemonsets" | "ds" | "daemonset.apps" => WorkloadKind::DaemonSet,
        "job" | "jobs" | "job.batch" => WorkloadKind::Job,
        "cronjob" | "cronjobs" | "cj" | "cronjob.batch" => WorkloadKind::CronJob,
        other => {
            return Err(format!(
                "unsupported target type {other:?}: use a pod name, or deployment/, statefulset/, \
                 daemonset/, job/ or cronjob/ NAME"
            ));
        }
    };
    Ok(Target::Workload {
        kind,
        name: name.to_string(),
    })
}

/// Turns a LabelSelector into the `-l` string form the API takes.
pub fn selector_string(selector: &LabelSelector) -> String {
    let mut parts = Vec::new();
    for (key, value) in selector.match_labels.iter().flatten() {
        parts.push(format!("{key}={value}"));
    }
    for expression in selector.match_expressions.iter().flatten() {
        let values = expression.values.clone().unwrap_or_default().join(",");
        match expression.operator.as_str() {
            "In" => parts.push(format!("{} in ({values})", expression.key)),
            "NotIn" => parts.push(format!("{} notin ({values})", expression.key)),
            "Exists" => parts.push(expression.key.clone()),
            "DoesNotExist" => parts.push(format!("!{}", expression.key)),
            _ => {}
        }
    }
    parts.join(",")
}

/// The pods diagnose looks at, and the objects they refer to.
#[derive(Clone, Default)]
pub struct Snapshot {
    pub pods: Vec<Pod>,
    pub events: HashMap<(String, String), Vec<Event>>,
    pub secrets: HashMap<(String, String), Result<Secret, ApiFailure>>,
    pub service_accounts: HashMap<(String, String), Result<ServiceAccount, ApiFailure>>,
    pub nodes: HashMap<String, Result<Node, ApiFailure>>,
    /// Job name to its owning CronJob, for Jobs that have one.
    pub job_owners: HashMap<(String, String), String>,
    pub warnings: Vec<String>,
}

/// Reads the pods of `target`.
pub async fn fetch_pods(
    cluster: &Cluster,
    namespace: Option<&str>,
    target: &Target,
    selector: Option<&str>,
) -> Result<Vec<Pod>, ApiFailure> {
    let ns = namespace.unwrap_or("default");
    match target {
        Target::All => cluster.list_pods(namespace, selector).await,
        Target::Pod(name) => Ok(vec![cluster.get_pod(ns, name).await?]),
        Target::Workload { kind, name } => {
            let template_selector = match kind {
                WorkloadKind::Deployment => cluster
                    .get_namespaced::<Deployment>(ns, name, "deployment")
                    .await?
                    .spec
                    .map(|s| s.selector),
                WorkloadKind::StatefulSet => cluster
                    .get_namespaced::<StatefulSet>(ns, name, "statefulset")
                    .await?
                    .spec
                    .map(|s| s.selector),
                WorkloadKind::DaemonSet => cluster
                    .get_namespaced::<DaemonSet>(ns, name, "daemonset")
                    .await?
                    .spec
                    .map(|s| s.selector),
                WorkloadKind::Job => {
                    let job = cluster.get_namespaced::<Job>(ns, name, "job").await?;
                    return Ok(cluster
                        .list_pods(Some(ns), Some(&format!("job-name={name}")))
                        .await?
                        .into_iter()
                        .filter(|pod| {
                            owned_by(pod, "Job", job.metadata.name.as_deref().unwrap_or_default())
                        })
                        .collect());
                }
                WorkloadKind::CronJob => {
                    cluster
                        .get_namespaced::<CronJob>(ns, name, "cronjob")
                        .await?;
                    // Pods of a CronJob carry their Job's name, which starts with the CronJob's.
                    let prefix = format!("{name}-");
                    return Ok(cluster
                        .list_pods(Some(ns), selector)
                        .await?
                        .into_iter()
                        .filter(|pod| {
                            owner_name(pod, "Job").is_some_and(|job| job.starts_with(&prefix))
                        })
                        .collect());
                }
            };
            let mut labels = template_selector
                .map(|s| selector_string(&s))
                .unwrap_or_default();
            if let Some(extra) = selector {
                if !labels.is_empty() {
                    labels.push(',');
                }
                labels.push_str(extra);
            }
            cluster
                .list_pods(
                    Some(ns),
                    Some(&labels).filter(|l| !l.is_empty()).map(|l| l.as_str()),
                )
                .await
        }
    }
}

pub fn owner_name<'a>(pod: &'a Pod, kind: &str) -> Option<&'a str> {
    pod.metadata
        .owner_references
        .iter()
        .flatten()
        .find(|owner| owner.kind == kind)
        .map(|owner| owner.name.as_str())
}

fn owned_by(pod: &Pod, kind: &str, name: &str) -> bool {
    owner_name(pod, kind) == Some(name)
}

/// Objects to read besides the pods.
pub struct Needs {
    /// Namespaces whose events to list.
    pub event_namespaces: BTreeSet<String>,
    /// List events across all namespaces in one request instead.
    pub events_all_namespaces: bool,
    pub secrets: BTreeSet<(String, String)>,
    pub service_accounts: BTreeSet<(String, String)>,
    pub nodes: BTreeSet<String>,
    pub jobs: BTreeSet<(String, String)>,
}

/// The events of one namespace (None: all namespaces), or why they could not be listed.
type EventList = (Option<String>, Result<Vec<Event>, ApiFailure>);

/// Reads events, secrets, ServiceAccounts, nodes and Jobs. A failed read
/// becomes a warning or a per-object error; it never aborts the report.
pub async fn fetch_related(cluster: &Cluster, needs: Needs, snapshot: &mut Snapshot) {
    let mut event_lists: Vec<EventList> = Vec::new();
    if needs.events_all_namespaces && !needs.event_namespaces.is_empty() {
        event_lists.push((None, cluster.list_pod_events(None).await));
    } else {
        let namespaces: Vec<String> = needs.event_namespaces.iter().cloned().collect();
        event_lists = stream::iter(namespaces)
            .map(|ns| async move {
                let result = cluster.list_pod_events(Some(&ns)).await;
                (Some(ns), result)
            })
            .buffer_unordered(API_CONCURRENCY)
            .collect()
            .await;
    }
    for (namespace, result) in event_lists {
        match result {
            Ok(events) => {
                for event in events {
                    let object = &event.involved_object;
                    let key = (
                        object.namespace.clone().unwrap_or_default(),
                        object.name.clone().unwrap_or_default(),
                    );
                    snapshot.events.entry(key).or_default().push(event);
                }
            }
            Err(failure) => snapshot.warnings.push(access_warning(
                &failure,
                "events",
                namespace.as_deref(),
                "list",
                "the waiting messages of the containers are used instead",
            )),
        }
    }

    let secrets: Vec<(String, String)> = needs.secrets.into_iter().collect();
    let fetched: Vec<_> = stream::iter(secrets)
        .map(|(ns, name)| async move {
            let result = cluster.get_secret(&ns, &name).await;
            ((ns, name), result)
        })
        .buffer_unordered(API_CONCURRENCY)
        .collect()
        .await;
    let mut forbidden_secrets = BTreeSet::new();
    for (key, result) in fetched {
        if let Err(failure) = &result
            && failure.is_forbidden()
        {
            forbidden_secrets.insert(key.0.clone());
        }
        snapshot.secrets.insert(key, result);
    }
    for ns in forbidden_secrets {
        snapshot.warnings.push(format!(
            "cannot read secrets in namespace {ns}: forbidden; pull secrets were not decoded \
             (grant get on secrets, e.g. kubectl create role zot-reader --verb=get --resource=secrets -n {ns})"
        ));
    }

    let accounts: Vec<(String, String)> = needs.service_accounts.into_iter().collect();
    let fetched: Vec<_> = stream::iter(accounts)
        .map(|(ns, name)| async move {
            let result = cluster.get_service_account(&ns, &name).await;
            ((ns, name), result)
        })
        .buffer_unordered(API_CONCURRENCY)
        .collect()
        .await;
    for (key, result) in fetched {
        if let Err(failure) = &result
            && !failure.is_not_found()
        {
            snapshot.warnings.push(access_warning(
                failure,
                "serviceaccounts",
                Some(&key.0),
                "get",
                "ServiceAccount pull secrets were not compared",
            ));
        }
        snapshot.service_accounts.insert(key, result);
    }

    let nodes: Vec<String> = needs.nodes.into_iter().collect();
    let fetched: Vec<_> = stream::iter(nodes)
        .map(|name| async move {
            let result = cluster.get_node(&name).await;
            (name, result)
        })
        .buffer_unordered(API_CONCURRENCY)
        .collect()
        .await;
    let mut node_warned = false;
    for (name, result) in fetched {
        if let Err(failure) = &result
            && !node_warned
        {
            node_warned = true;
            snapshot.warnings.push(access_warning(
                failure,
                "nodes",
                None,
                "get",
                "node platforms are unknown, so platforms were not checked",
            ));
        }
        snapshot.nodes.insert(name, result);
    }

    let jobs: Vec<(String, String)> = needs.jobs.into_iter().collect();
    let fetched: Vec<_> = stream::iter(jobs)
        .map(|(ns, name)| async move {
            let result = cluster.get_job(&ns, &name).await;
            ((ns, name), result)
        })
        .buffer_unordered(API_CONCURRENCY)
        .collect()
        .await;
    for (key, result) in fetched {
        if let Ok(job) = result
            && let Some(cron) = job
                .metadata
                .owner_references
                .iter()
                .flatten()
                .find(|owner| owner.kind == "CronJob")
        {
            snapshot.job_owners.insert(key, cron.name.clone());
        }
    }
}

/// Formats a warning for a failed read, with how to grant it when it was forbidden.
fn access_warning(
    failure: &ApiFailure,
    resource: &str,
    namespace: Option<&str>,
    verb: &str,
    consequence: &str,
) -> String {
    let scope = namespace
        .map(|ns| format!(" in namespace {ns}"))
        .unwrap_or_default();
    if failure.is_forbidden() {
        let grant = match namespace {
            Some(ns) => format!(
                "kubectl create role zot-reader --verb={verb} --resource={resource} -n {ns}"
            ),
            None => {
                format!("kubectl create clusterrole zot-reader --verb={verb} --resource={resource}")
            }
        };
        format!(
            "cannot {verb} {resource}{scope}: forbidden; {consequence} (grant it, e.g. {grant})"
        )
    } else {
        format!("cannot {verb} {resource}{scope}: {failure}; {consequence}")
    }
}

/// Groups container names by the pod's own pull secrets (helper for the analysis).
pub fn pod_pull_secrets(pod: &Pod) -> Vec<String> {
    pod.spec
        .as_ref()
        .and_then(|s| s.image_pull_secrets.as_ref())
        .map(|list| {
            list.iter()
                .map(|r| r.name.clone())
                .filter(|n| !n.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Returns the ServiceAccount a pod runs as (`default` when unset).
pub fn pod_service_account(pod: &Pod) -> String {
    pod.spec
        .as_ref()
        .and_then(|s| s.service_account_name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".to_string())
}

/// Labels of a node, for the platform variant.
pub fn node_labels(node: &Node) -> BTreeMap<String, String> {
    node.metadata.labels.clone().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_kubectl_spellings() {
        assert_eq!(parse_target("web-1").unwrap(), Target::Pod("web-1".into()));
        assert_eq!(
            parse_target("po/web-1").unwrap(),
            Target::Pod("web-1".into())
        );
        assert_eq!(
            parse_target("deploy/web").unwrap(),
            Target::Workload {
                kind: WorkloadKind::Deployment,
                name: "web".into()
            }
        );
        assert_eq!(
            parse_target("statefulset.apps/db").unwrap(),
            Target::Workload {
                kind: WorkloadKind::StatefulSet,
                name: "db".into()
            }
        );
        assert!(parse_target("service/web").is_err());
        assert!(parse_target("deployment/").is_err());
        assert!(parse_target("a/b/c").is_err());
    }

    #[test]
    fn selector_string_covers_expressions() {
        let selector: LabelSelector = serde_json::from_value(serde_json::json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["a", "b"]},
                {"key": "canary", "operator": "DoesNotExist"}
            ]
        }))
        .unwrap();
        assert_eq!(selector_string(&selector), "app=web,tier in (a,b),!canary");
    }
}
