//! `kubectl zot diagnose`: joins pods, events, pull secrets and registry
//! checks into one finding per failing image.

pub mod collect;
pub mod fix;
pub mod items;
pub mod manifests;
pub mod report;
pub mod secrets;
pub mod verdict;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use futures::stream::{self, StreamExt};
use k8s_openapi::api::core::v1::{Event, Pod};

use crate::classify::classify;
use crate::cluster::{ApiFailure, Cluster};
use crate::registry::{
    Depth, ImageCheck, ImageRef, Platform, RegistryClient, SourcedLogin, check_image,
};
use collect::{Needs, Snapshot, Target};
use items::{ImageItem, ItemKind};
use report::{Checked, EventEvidence, Evidence, Finding, RegistryStatus, Report};
use secrets::PodSecrets;
use verdict::{Facts, decide};

/// Registry checks in flight at once. Each is a few small requests, so latency, not
/// bandwidth, limits them.
const REGISTRY_CONCURRENCY: usize = 32;

/// Selection and settings of a diagnose run.
#[derive(Clone, Debug, Default)]
pub struct DiagnoseOptions {
    /// None means every namespace (`-A`).
    pub namespace: Option<String>,
    pub target: Target,
    pub selector: Option<String>,
    pub show_secrets: bool,
    /// Check every image of the selected pods, not only failing ones (`--all`).
    pub check_all: bool,
}

/// Runs the diagnosis. Only a failure to list the pods is an error; any other
/// failed read becomes a warning in the report.
pub async fn diagnose(
    cluster: &Cluster,
    registry: Arc<RegistryClient>,
    options: &DiagnoseOptions,
) -> Result<Report, ApiFailure> {
    let pods = collect::fetch_pods(
        cluster,
        options.namespace.as_deref(),
        &options.target,
        options.selector.as_deref(),
    )
    .await?;
    tracing::info!(pods = pods.len(), namespace = ?options.namespace, "read pods");
    let mut snapshot = Snapshot {
        pods,
        ..Snapshot::default()
    };

    let pod_items: Vec<Vec<ImageItem>> = snapshot.pods.iter().map(items::pod_items).collect();
    let needs = plan_reads(
        &snapshot.pods,
        &pod_items,
        options.namespace.is_none(),
        options.check_all,
    );
    collect::fetch_related(cluster, needs, &mut snapshot).await;

    // Image volumes have no status: a volume image is failing when an event reports a failed pull.
    let mut pod_items = pod_items;
    for (pod, items) in snapshot.pods.iter().zip(pod_items.iter_mut()) {
        let events = events_for_pod(&snapshot, pod);
        for item in items.iter_mut().filter(|i| i.kind == ItemKind::ImageVolume) {
            if let Some(event) = latest_pull_failure(&events, item) {
                item.waiting_reason = Some("ErrImagePull".to_string());
                item.waiting_message = event.message.clone();
            }
        }
    }

    let mut report = analyze(snapshot, pod_items, registry, options).await;
    if report.checked.pods == 0
        && options.target == Target::All
        && let Some(namespace) = &options.namespace
        && let Err(failure) = cluster.get_namespace(namespace).await
        && failure.is_not_found()
    {
        report.checked.warnings.push(format!(
            "namespace {namespace} not found: check the name (kubectl get namespaces)"
        ));
    }
    Ok(report)
}

/// Plans and runs the registry checks for every image item, and decides the findings.
pub(crate) async fn analyze(
    mut snapshot: Snapshot,
    pod_items: Vec<Vec<ImageItem>>,
    registry: Arc<RegistryClient>,
    options: &DiagnoseOptions,
) -> Report {
    // Work out, per item, the credentials and the check to run.
    struct Planned {
        pod_index: usize,
        item: ImageItem,
        parsed: Result<ImageRef, String>,
        secrets: PodSecrets,
        platform: Option<Platform>,
        check_key: Option<String>,
    }
    let mut planned = Vec::new();
    let mut jobs: HashMap<String, (ImageRef, Vec<SourcedLogin>, Option<Platform>, Depth)> =
        HashMap::new();
    let mut failing_pods = BTreeSet::new();
    // The login sources of the item that planned each check, to relabel shared checks.
    let mut job_sources: HashMap<String, Vec<String>> = HashMap::new();
    for (pod_index, (pod, items)) in snapshot.pods.iter().zip(pod_items).enumerate() {
        let platform = node_platform(&snapshot, pod);
        for item in items {
            let failing = item.is_pull_failing() || item.is_crash_looping();
            let stale_candidate = item.running && item.running_digest.is_some();
            if !failing && !stale_candidate && !options.check_all {
                continue;
            }
            if failing {
                failing_pods.insert(pod_index);
            }
            let parsed = ImageRef::parse(&item.image).map_err(|e| e.reason);
            let pod_secrets =
                secrets::pod_secrets(&snapshot, pod, parsed.as_ref().ok(), options.show_secrets);
            let mut check_key = None;
            if let Ok(image) = &parsed
                && item.waiting_reason.as_deref() != Some("ErrImageNeverPull")
                && (options.check_all || !(stale_candidate && image.is_pinned() && !failing))
            {
                let depth = if failing || options.check_all {
                    Depth::Full
                } else {
                    Depth::Digest
                };
                let logins = pod_secrets.logins.clone();
                // One check per image and set of credentials, whichever secrets hold them,
                // so namespaces that share a pull secret share the check.
                let key = format!(
                    "{}|{}|{}|{:?}",
                    image,
                    logins
                        .iter()
                        .map(|l| l.login.fingerprint())
                        .collect::<Vec<_>>()
                        .join(","),
                    match depth {
                        Depth::Full => platform.as_ref().map(|p| p.to_string()).unwrap_or_default(),
                        Depth::Digest => String::new(),
                    },
                    depth
                );
                job_sources
                    .entry(key.clone())
                    .or_insert_with(|| logins.iter().map(|l| l.source.clone()).collect());
                jobs.entry(key.clone())
                    .or_insert_with(|| (image.clone(), logins, platform.clone(), depth));
                check_key = Some(key);
            }
            planned.push(Planned {
                pod_index,
                item,
                parsed,
                secrets: pod_secrets,
                platform: platform.clone(),
                check_key,
            });
        }
    }

    tracing::info!(
        pods = snapshot.pods.len(),
        checks = jobs.len(),
        "checking images against their registries"
    );
    let results: HashMap<String, ImageCheck> = stream::iter(jobs)
        .map(|(key, (image, logins, platform, depth))| {
            let registry = registry.clone();
            async move {
                let check = check_image(&registry, &image, &logins, platform.as_ref(), depth).await;
                (key, check)
            }
        })
        .buffer_unordered(REGISTRY_CONCURRENCY)
        .collect()
        .await;

    let mut report = Report::default();
    // Running containers per registry host that could not be checked from here.
    let mut unverified: BTreeMap<String, usize> = BTreeMap::new();
    let mut images = BTreeSet::new();
    let mut hosts = BTreeSet::new();
    for planned_item in planned {
        let pod = &snapshot.pods[planned_item.pod_index];
        let item = &planned_item.item;
        images.insert(item.image.clone());
        if let Ok(image) = &planned_item.parsed {
            hosts.insert(image.api_host().to_string());
        }
        let events = events_for_item(&snapshot, pod, item);
        let message = pull_failure_message(item, &events);
        let check = planned_item.check_key.as_ref().and_then(|key| {
            let mut check = results.get(key).cloned()?;
            if let Some(sources) = job_sources.get(key) {
                relabel_sources(&mut check, sources, &planned_item.secrets.logins);
            }
            Some(check)
        });
        let facts = Facts {
            invalid_reference: planned_item.parsed.as_ref().err().cloned(),
            waiting_reason: item.waiting_reason.clone(),
            classification: message.as_deref().map(classify),
            check: check.clone(),
            not_checked: None,
            secrets: planned_item.secrets.facts.clone(),
            running_digest: item.running_digest.clone(),
            pinned: planned_item.parsed.as_ref().is_ok_and(|i| i.is_pinned()),
            crash_looping: item.is_crash_looping(),
            check_all: options.check_all,
        };
        let Some(verdict) = decide(&facts) else {
            if let Some(problem) = check.as_ref().and_then(|c| c.problem.as_ref())
                && is_network_cause(problem.cause)
                && let Ok(image) = &planned_item.parsed
            {
                *unverified.entry(image.api_host().to_string()).or_default() += 1;
            }
            continue;
        };
        report.findings.push(build_finding(
            &snapshot,
            pod,
            &planned_item.item,
            &planned_item.parsed,
            planned_item.secrets,
            planned_item.platform,
            facts,
            verdict,
            events,
        ));
    }

    for (host, count) in unverified {
        snapshot.warnings.push(format!(
            "registry {host} could not be reached from here, so {count} running or restarting \
             container{} using it {} not checked (stale digests, platforms)",
            if count == 1 { "" } else { "s" },
            if count == 1 { "was" } else { "were" }
        ));
    }
    let mut namespaces: BTreeSet<String> = snapshot
        .pods
        .iter()
        .filter_map(|p| p.metadata.namespace.clone())
        .collect();
    if let Some(ns) = &options.namespace {
        namespaces.insert(ns.clone());
    }
    let mut registries = Vec::new();
    for host in hosts {
        registries.push(match registry.probe(&host).await {
            Ok(probe) => RegistryStatus {
                host,
                reachable: true,
                scheme: Some(probe.scheme),
                auth: Some(if probe.auth_scheme.is_empty() {
                    "none".to_string()
                } else {
                    probe.auth_scheme
                }),
                zot_auth_methods: probe.zot.map(|z| z.auth_methods),
                error: None,
            },
            Err(failure) => RegistryStatus {
                host,
                reachable: false,
                scheme: None,
                auth: None,
                zot_auth_methods: None,
                error: Some(failure.to_string()),
            },
        });
    }
    report.findings.sort_by(|a, b| {
        (&a.namespace, &a.workload, &a.pod, &a.container).cmp(&(
            &b.namespace,
            &b.workload,
            &b.pod,
            &b.container,
        ))
    });
    report.checked = Checked {
        namespaces: namespaces.into_iter().collect(),
        pods: snapshot.pods.len(),
        failing_pods: failing_pods.len(),
        images: images.len(),
        registries,
        warnings: std::mem::take(&mut snapshot.warnings),
        registry_requests: registry.counts.snapshot(),
    };
    report
}

/// Decides which namespaces, secrets, ServiceAccounts, nodes and Jobs to read.
fn plan_reads(
    pods: &[Pod],
    pod_items: &[Vec<ImageItem>],
    all_namespaces: bool,
    check_all: bool,
) -> Needs {
    let mut needs = Needs {
        event_namespaces: BTreeSet::new(),
        events_all_namespaces: all_namespaces,
        secrets: BTreeSet::new(),
        service_accounts: BTreeSet::new(),
        nodes: BTreeSet::new(),
        jobs: BTreeSet::new(),
    };
    for (pod, items) in pods.iter().zip(pod_items) {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let failing = items
            .iter()
            .any(|i| i.is_pull_failing() || i.is_crash_looping());
        let has_volume = items.iter().any(|i| i.kind == ItemKind::ImageVolume);
        let pending = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Pending");
        let stale_candidate = items
            .iter()
            .any(|i| i.running && i.running_digest.is_some());
        if failing || (has_volume && pending) {
            needs.event_namespaces.insert(namespace.clone());
        }
        if !(failing || stale_candidate || (has_volume && pending) || check_all) {
            continue;
        }
        for name in collect::pod_pull_secrets(pod) {
            needs.secrets.insert((namespace.clone(), name));
        }
        needs
            .service_accounts
            .insert((namespace.clone(), collect::pod_service_account(pod)));
        if let Some(node) = pod.spec.as_ref().and_then(|s| s.node_name.clone()) {
            needs.nodes.insert(node);
        }
        if let Some(job) = collect::owner_name(pod, "Job") {
            needs.jobs.insert((namespace.clone(), job.to_string()));
        }
    }
    needs
}

/// Returns the node's platform from its nodeInfo, with the arm variant from its label when set.
fn node_platform(snapshot: &Snapshot, pod: &Pod) -> Option<Platform> {
    let node_name = pod.spec.as_ref()?.node_name.as_ref()?;
    let node = snapshot.nodes.get(node_name)?.as_ref().ok()?;
    let info = node.status.as_ref()?.node_info.as_ref()?;
    let labels = collect::node_labels(node);
    let variant = labels.get("kubernetes.io/arch-variant").map(String::as_str);
    Some(Platform::new(
        &info.operating_system,
        &info.architecture,
        variant,
    ))
}

fn events_for_pod<'a>(snapshot: &'a Snapshot, pod: &Pod) -> Vec<&'a Event> {
    let key = (
        pod.metadata.namespace.clone().unwrap_or_default(),
        pod.metadata.name.clone().unwrap_or_default(),
    );
    let uid = pod.metadata.uid.as_deref();
    snapshot
        .events
        .get(&key)
        .map(|events| {
            events
                .iter()
                .filter(|e| {
                    uid.is_none()
                        || e.involved_object.uid.is_none()
                        || e.involved_object.uid.as_deref() == uid
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Events about one image of the pod, newest first.
fn events_for_item<'a>(snapshot: &'a Snapshot, pod: &Pod, item: &ImageItem) -> Vec<&'a Event> {
    let field_path = item.kind.field_path(&item.name);
    let quoted = format!("\"{}\"", item.image);
    let mut events: Vec<&Event> = events_for_pod(snapshot, pod)
        .into_iter()
        .filter(|e| {
            e.involved_object.field_path.as_deref() == Some(field_path.as_str())
                || e.message.as_deref().is_some_and(|m| m.contains(&quoted))
        })
        .collect();
    events.sort_by_key(|e| std::cmp::Reverse(event_time(e)));
    events
}

fn event_time(event: &Event) -> Option<String> {
    event
        .last_timestamp
        .as_ref()
        .map(|t| t.0.to_string())
        .or_else(|| event.event_time.as_ref().map(|t| t.0.to_string()))
        .or_else(|| event.first_timestamp.as_ref().map(|t| t.0.to_string()))
}

fn latest_pull_failure<'a>(events: &[&'a Event], item: &ImageItem) -> Option<&'a Event> {
    let quoted = format!("\"{}\"", item.image);
    events
        .iter()
        .filter(|e| e.reason.as_deref() == Some("Failed"))
        .filter(|e| e.message.as_deref().is_some_and(|m| m.contains(&quoted)))
        .max_by_key(|e| event_time(e))
        .copied()
}

/// Returns the most specific error text: the newest event with the runtime's error,
/// else the waiting message. The kubelet also emits Failed events that only
/// repeat the waiting reason ("Error: ImagePullBackOff"), which carry no cause.
fn pull_failure_message(item: &ImageItem, events: &[&Event]) -> Option<String> {
    let detailed = |event: &&&Event| {
        matches!(
            event.reason.as_deref(),
            Some("Failed" | "InspectFailed" | "ErrImageNeverPull")
        ) && event
            .message
            .as_deref()
            .is_some_and(|m| !m.starts_with("Error: "))
    };
    let failed = events.iter().find(detailed).and_then(|e| e.message.clone());
    let waiting = item
        .waiting_message
        .clone()
        .filter(|m| !m.starts_with("Back-off pulling image"));
    failed.or(waiting).or_else(|| item.waiting_message.clone())
}

/// Returns whether an event carries the runtime's own error text.
pub fn is_detailed_failure(message: &str) -> bool {
    !message.starts_with("Error: ") && !message.starts_with("Back-off pulling image")
}

#[allow(clippy::too_many_arguments)]
fn build_finding(
    snapshot: &Snapshot,
    pod: &Pod,
    item: &ImageItem,
    parsed: &Result<ImageRef, String>,
    pod_secrets: PodSecrets,
    platform: Option<Platform>,
    facts: Facts,
    verdict: verdict::Verdict,
    events: Vec<&Event>,
) -> Finding {
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    let pod_name = pod.metadata.name.clone().unwrap_or_default();
    let workload = workload_of(snapshot, pod);
    let check = facts.check.clone();
    let node = pod.spec.as_ref().and_then(|s| s.node_name.clone());
    let platform_text = platform.as_ref().map(|p| p.to_string());
    let secret_for_fix = pod_secrets.fix_secret(verdict.cause);
    let fix = fix::fix_for(
        verdict.cause,
        &fix::FixContext {
            namespace: &namespace,
            pod: &pod_name,
            container: &item.name,
            image: &item.image,
            parsed: parsed.as_ref().ok(),
            workload: workload.as_deref(),
            closest_tags: check
                .as_ref()
                .map(|c| c.closest_tags.as_slice())
                .unwrap_or_default(),
            node: node.as_deref(),
            node_platform: platform_text.as_deref(),
            platforms: check
                .as_ref()
                .map(|c| c.platforms.as_slice())
                .unwrap_or_default(),
            secret: secret_for_fix.as_deref(),
            service_account: &collect::pod_service_account(pod),
            username: pod_secrets.username.as_deref(),
            http_status: check.as_ref().and_then(|c| c.http_status),
        },
    );
    let registry_not_checked = match (&check, parsed) {
        (None, Err(_)) => Some("the image reference is invalid".to_string()),
        (None, Ok(_)) if item.waiting_reason.as_deref() == Some("ErrImageNeverPull") => {
            Some("the pull policy is Never, so the registry plays no part".to_string())
        }
        (None, Ok(_)) => Some("no check was planned".to_string()),
        (Some(c), _) => c
            .problem
            .as_ref()
            .filter(|p| {
                matches!(
                    p.cause,
                    crate::cause::Cause::DnsError
                        | crate::cause::Cause::RegistryUnreachable
                        | crate::cause::Cause::TlsError
                        | crate::cause::Cause::HttpHttpsMismatch
                )
            })
            .map(|p| format!("the registry could not be reached from here: {}", p.detail)),
    };
    Finding {
        namespace,
        pod: pod_name,
        container: item.name.clone(),
        image: item.image.clone(),
        cause: verdict.cause,
        message: verdict.message,
        evidence: Evidence {
            kind: item.kind.as_str().to_string(),
            waiting_reason: item.waiting_reason.clone(),
            waiting_message: item.waiting_message.clone(),
            events: events
                .iter()
                .take(5)
                .map(|e| EventEvidence {
                    reason: e.reason.clone().unwrap_or_default(),
                    message: e.message.clone().unwrap_or_default(),
                    count: e.count.unwrap_or(1),
                    last_seen: event_time(e),
                })
                .collect(),
            message_cause: facts.classification,
            node_platform: platform_text,
            registry: check,
            registry_not_checked,
            secrets: pod_secrets.evidence,
            running_digest: item.running_digest.clone(),
            pull_policy: item.pull_policy.clone(),
        },
        fix,
        workload,
    }
}

/// `kind/name` of the pod's top owner: Deployment (through its ReplicaSet),
/// StatefulSet, DaemonSet, Job or CronJob.
fn workload_of(snapshot: &Snapshot, pod: &Pod) -> Option<String> {
    let owner = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true))
        .or_else(|| pod.metadata.owner_references.iter().flatten().next())?;
    let namespace = pod.metadata.namespace.clone().unwrap_or_default();
    match owner.kind.as_str() {
        "ReplicaSet" => {
            // A Deployment names its ReplicaSets NAME-HASH with HASH the pod-template-hash label.
            let hash = pod
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("pod-template-hash"));
            match hash.and_then(|h| owner.name.strip_suffix(&format!("-{h}"))) {
                Some(deployment) => Some(format!("deployment/{deployment}")),
                None => Some(format!("replicaset/{}", owner.name)),
            }
        }
        "Job" => match snapshot.job_owners.get(&(namespace, owner.name.clone())) {
            Some(cron) => Some(format!("cronjob/{cron}")),
            None => Some(format!("job/{}", owner.name)),
        },
        kind => Some(format!("{}/{}", kind.to_ascii_lowercase(), owner.name)),
    }
}

fn is_network_cause(cause: crate::cause::Cause) -> bool {
    use crate::cause::Cause;
    matches!(
        cause,
        Cause::DnsError | Cause::RegistryUnreachable | Cause::TlsError | Cause::HttpHttpsMismatch
    )
}

/// Names this item's own secrets in a check that another item with the same
/// credentials planned: the logins are the same and in the same order.
fn relabel_sources(check: &mut ImageCheck, planned: &[String], own: &[SourcedLogin]) {
    if planned.len() != own.len() {
        return;
    }
    let rename = |label: &mut String| {
        if let Some(index) = planned.iter().position(|source| source == label) {
            *label = own[index].source.clone();
        }
    };
    if let Some(credential) = check.credential.as_mut() {
        rename(credential);
    }
    for attempt in &mut check.attempts {
        rename(&mut attempt.credential);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Login;
    use crate::registry::check::Attempt;

    fn sourced(source: &str) -> SourcedLogin {
        SourcedLogin {
            source: source.to_string(),
            login: Login::Anonymous,
        }
    }

    #[test]
    fn shared_check_names_own_secrets() {
        let mut check = ImageCheck {
            credential: Some("secret a/regcred, entry r".into()),
            attempts: vec![Attempt {
                credential: "secret a/regcred, entry r".into(),
                auth: None,
                result: "ok".into(),
            }],
            ..ImageCheck::default()
        };
        let planned = vec!["secret a/regcred, entry r".to_string()];
        relabel_sources(&mut check, &planned, &[sourced("secret b/pull, entry r")]);
        assert_eq!(check.credential.as_deref(), Some("secret b/pull, entry r"));
        assert_eq!(check.attempts[0].credential, "secret b/pull, entry r");
    }

    #[test]
    fn anonymous_label_is_kept() {
        let mut check = ImageCheck {
            credential: Some("none (anonymous pull)".into()),
            ..ImageCheck::default()
        };
        relabel_sources(&mut check, &[], &[]);
        assert_eq!(check.credential.as_deref(), Some("none (anonymous pull)"));
    }
}
