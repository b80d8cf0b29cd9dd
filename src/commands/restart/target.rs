//! The workload kinds `restart` patches, and the TYPE/NAME arguments that name them.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use kube::api::ApiResource;

/// An apps/v1 kind that `kubectl rollout restart` can restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

impl WorkloadKind {
    pub const ALL: [WorkloadKind; 3] = [
        WorkloadKind::Deployment,
        WorkloadKind::StatefulSet,
        WorkloadKind::DaemonSet,
    ];

    /// The lowercase kind, as in `deployment/web`.
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::Deployment => "deployment",
            WorkloadKind::StatefulSet => "statefulset",
            WorkloadKind::DaemonSet => "daemonset",
        }
    }

    /// The resource with its group, as API errors name it (`deployments.apps`).
    pub fn resource_name(self) -> String {
        format!("{}.apps", self.api_resource().plural)
    }

    pub fn api_resource(self) -> ApiResource {
        match self {
            WorkloadKind::Deployment => ApiResource::erase::<Deployment>(&()),
            WorkloadKind::StatefulSet => ApiResource::erase::<StatefulSet>(&()),
            WorkloadKind::DaemonSet => ApiResource::erase::<DaemonSet>(&()),
        }
    }

    /// Parses a resource type as kubectl spells it: singular, plural, short name or with group.
    pub fn parse(text: &str) -> Result<WorkloadKind, String> {
        match text.to_ascii_lowercase().as_str() {
            "deployment" | "deployments" | "deploy" | "deployment.apps" | "deployments.apps" => {
                Ok(WorkloadKind::Deployment)
            }
            "statefulset" | "statefulsets" | "sts" | "statefulset.apps" | "statefulsets.apps" => {
                Ok(WorkloadKind::StatefulSet)
            }
            "daemonset" | "daemonsets" | "ds" | "daemonset.apps" | "daemonsets.apps" => {
                Ok(WorkloadKind::DaemonSet)
            }
            other => Err(format!(
                "restarting {other:?} is not supported: restart works on deployment, statefulset \
                 and daemonset (kubectl's rollout restart supports the same kinds)"
            )),
        }
    }
}

/// One workload, as `kind/name` in a namespace.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkloadId {
    pub namespace: String,
    pub kind: WorkloadKind,
    pub name: String,
}

impl WorkloadId {
    /// `kind/name`, as diagnose reports the workload.
    pub fn label(&self) -> String {
        format!("{}/{}", self.kind.as_str(), self.name)
    }
}

/// What the command-line arguments select.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// TYPE/NAME arguments.
    Named(Vec<(WorkloadKind, String)>),
    /// Every workload of these kinds that matches `-l` (all three kinds when no TYPE is given).
    Kinds(Vec<WorkloadKind>),
}

/// Parses TYPE/NAME arguments, or bare TYPE arguments when a label selector is given.
pub fn parse_targets(targets: &[String], has_selector: bool) -> Result<Selection, String> {
    if has_selector {
        let mut kinds = Vec::new();
        for text in targets {
            if text.contains('/') {
                return Err(format!(
                    "{text:?}: name a resource type only (e.g. deployment) when -l selects the \
                     workloads"
                ));
            }
            let kind = WorkloadKind::parse(text)?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if kinds.is_empty() {
            kinds = WorkloadKind::ALL.to_vec();
        }
        return Ok(Selection::Kinds(kinds));
    }
    let mut named = Vec::new();
    for text in targets {
        let Some((kind, name)) = text.split_once('/') else {
            return Err(format!(
                "invalid workload {text:?}: expected TYPE/NAME, e.g. deployment/web, or pass -l \
                 to select by label"
            ));
        };
        if name.is_empty() || name.contains('/') {
            return Err(format!(
                "invalid workload {text:?}: expected TYPE/NAME, e.g. deployment/web"
            ));
        }
        let entry = (WorkloadKind::parse(kind)?, name.to_string());
        if !named.contains(&entry) {
            named.push(entry);
        }
    }
    Ok(Selection::Named(named))
}

/// Parses diagnose's `kind/name` workload into a restartable kind and name; None for other
/// owners (ReplicaSet, Job, CronJob).
pub fn parse_reported_workload(workload: &str) -> Option<(WorkloadKind, String)> {
    let (kind, name) = workload.split_once('/')?;
    let kind = match kind {
        "deployment" => WorkloadKind::Deployment,
        "statefulset" => WorkloadKind::StatefulSet,
        "daemonset" => WorkloadKind::DaemonSet,
        _ => return None,
    };
    Some((kind, name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn kubectl_spellings_parse() {
        let selection = parse_targets(
            &strings(&["deploy/a", "sts/b", "ds/c", "deployment.apps/d", "deploy/a"]),
            false,
        )
        .unwrap();
        assert_eq!(
            selection,
            Selection::Named(vec![
                (WorkloadKind::Deployment, "a".into()),
                (WorkloadKind::StatefulSet, "b".into()),
                (WorkloadKind::DaemonSet, "c".into()),
                (WorkloadKind::Deployment, "d".into()),
            ])
        );
    }

    #[test]
    fn unsupported_kind_is_rejected() {
        let error = parse_targets(&strings(&["job/x"]), false).unwrap_err();
        assert!(error.contains("not supported"), "{error}");
        let error = parse_targets(&strings(&["cronjob/x"]), false).unwrap_err();
        assert!(error.contains("not supported"), "{error}");
    }

    #[test]
    fn bare_name_without_selector_is_rejected() {
        let error = parse_targets(&strings(&["web"]), false).unwrap_err();
        assert!(error.contains("TYPE/NAME"), "{error}");
        assert!(parse_targets(&strings(&["deploy/"]), false).is_err());
    }

    #[test]
    fn selector_takes_kinds() {
        assert_eq!(
            parse_targets(&[], true).unwrap(),
            Selection::Kinds(WorkloadKind::ALL.to_vec())
        );
        assert_eq!(
            parse_targets(&strings(&["sts"]), true).unwrap(),
            Selection::Kinds(vec![WorkloadKind::StatefulSet])
        );
        assert!(parse_targets(&strings(&["deploy/web"]), true).is_err());
    }

    #[test]
    fn reported_workloads_map_to_kinds() {
        assert_eq!(
            parse_reported_workload("deployment/stale"),
            Some((WorkloadKind::Deployment, "stale".into()))
        );
        assert_eq!(parse_reported_workload("cronjob/nightly"), None);
        assert_eq!(parse_reported_workload("replicaset/orphan"), None);
    }

    #[test]
    fn resource_names_carry_group() {
        assert_eq!(WorkloadKind::Deployment.resource_name(), "deployments.apps");
        assert_eq!(WorkloadKind::DaemonSet.resource_name(), "daemonsets.apps");
    }
}
