//! Turns diagnose's `stale-image` findings into one restart candidate per workload.

use std::collections::BTreeMap;

use serde::Serialize;

use super::target::{WorkloadId, parse_reported_workload};
use crate::cause::Cause;
use crate::diagnose::report::Report;

/// One container that runs an older digest than its tag resolves to now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StaleContainer {
    pub pod: String,
    pub container: String,
    pub image: String,
    pub old_digest: String,
    pub new_digest: String,
}

/// A workload with stale containers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaleWorkload {
    pub id: WorkloadId,
    pub containers: Vec<StaleContainer>,
}

/// Stale containers that `restart` cannot fix with a rollout restart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unrestartable {
    pub namespace: String,
    /// `kind/name` from diagnose, or `pod/NAME` for a pod without an owner.
    pub workload: String,
    pub reason: String,
    pub containers: Vec<StaleContainer>,
}

/// Groups the stale-image findings of `report` by workload, one entry per workload however
/// many of its pods and containers are stale. Findings whose owner cannot be restarted (a bare
/// pod, a ReplicaSet, a Job or CronJob) come back in the second list.
pub fn stale_workloads(report: &Report) -> (Vec<StaleWorkload>, Vec<Unrestartable>) {
    let mut restartable: BTreeMap<WorkloadId, Vec<StaleContainer>> = BTreeMap::new();
    let mut others: BTreeMap<(String, String), Vec<StaleContainer>> = BTreeMap::new();
    for finding in &report.findings {
        if finding.cause != Cause::StaleImage {
            continue;
        }
        let container = StaleContainer {
            pod: finding.pod.clone(),
            container: finding.container.clone(),
            image: finding.image.clone(),
            old_digest: finding.evidence.running_digest.clone().unwrap_or_default(),
            new_digest: finding
                .evidence
                .registry
                .as_ref()
                .and_then(|check| check.digest.clone())
                .unwrap_or_default(),
        };
        let workload = finding.workload.as_deref();
        match workload.and_then(parse_reported_workload) {
            Some((kind, name)) => {
                let id = WorkloadId {
                    namespace: finding.namespace.clone(),
                    kind,
                    name,
                };
                restartable.entry(id).or_default().push(container);
            }
            None => {
                let label = workload
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("pod/{}", finding.pod));
                others
                    .entry((finding.namespace.clone(), label))
                    .or_default()
                    .push(container);
            }
        }
    }
    let workloads = restartable
        .into_iter()
        .map(|(id, containers)| StaleWorkload { id, containers })
        .collect();
    let unrestartable = others
        .into_iter()
        .map(|((namespace, workload), containers)| {
            let reason = unrestartable_reason(&namespace, &workload);
            Unrestartable {
                namespace,
                workload,
                reason,
                containers,
            }
        })
        .collect();
    (workloads, unrestartable)
}

fn unrestartable_reason(namespace: &str, workload: &str) -> String {
    let (kind, name) = workload.split_once('/').unwrap_or(("pod", workload));
    match kind {
        "pod" => format!(
            "the pod has no controller to restart; delete it (kubectl delete pod {name} -n \
             {namespace}) if something recreates it"
        ),
        "cronjob" | "job" => {
            format!("a {kind} cannot be restarted; its next run pulls the tag again")
        }
        _ => format!("restarting a {kind} is not supported; restart its owner instead"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnose::report::{Evidence, Finding};
    use crate::registry::ImageCheck;

    fn finding(workload: Option<&str>, pod: &str, container: &str, cause: Cause) -> Finding {
        let check = ImageCheck {
            image: "r/app:latest".into(),
            registry: "r".into(),
            digest: Some("sha256:new".into()),
            ..ImageCheck::default()
        };
        Finding {
            namespace: "ns".into(),
            pod: pod.into(),
            container: container.into(),
            image: "r/app:latest".into(),
            cause,
            message: String::new(),
            evidence: Evidence {
                running_digest: Some("sha256:old".into()),
                registry: Some(check),
                ..Evidence::default()
            },
            fix: String::new(),
            workload: workload.map(str::to_string),
        }
    }

    #[test]
    fn one_candidate_per_workload() {
        let report = Report {
            findings: vec![
                finding(Some("deployment/app"), "app-1", "main", Cause::StaleImage),
                finding(Some("deployment/app"), "app-2", "main", Cause::StaleImage),
                finding(
                    Some("deployment/app"),
                    "app-2",
                    "sidecar",
                    Cause::StaleImage,
                ),
                finding(Some("deployment/api"), "api-1", "api", Cause::TagNotFound),
            ],
            ..Report::default()
        };
        let (workloads, others) = stale_workloads(&report);
        assert_eq!(workloads.len(), 1);
        assert_eq!(workloads[0].id.label(), "deployment/app");
        assert_eq!(workloads[0].containers.len(), 3);
        assert_eq!(workloads[0].containers[0].old_digest, "sha256:old");
        assert_eq!(workloads[0].containers[0].new_digest, "sha256:new");
        assert!(others.is_empty());
    }

    #[test]
    fn bare_pods_and_jobs_are_unrestartable() {
        let report = Report {
            findings: vec![
                finding(None, "loner", "main", Cause::StaleImage),
                finding(Some("cronjob/nightly"), "n-1", "main", Cause::StaleImage),
            ],
            ..Report::default()
        };
        let (workloads, others) = stale_workloads(&report);
        assert!(workloads.is_empty());
        let labels: Vec<&str> = others.iter().map(|o| o.workload.as_str()).collect();
        assert_eq!(labels, ["cronjob/nightly", "pod/loner"]);
        assert!(others[1].reason.contains("kubectl delete pod loner -n ns"));
    }
}
