//! `kubectl zot restart`: what `kubectl rollout restart` does, optionally only for stale workloads.

mod report;
mod rollout;
mod stale;
mod target;

use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use kube::api::DynamicObject;

use crate::app::Outcome;
use crate::cli::{GlobalArgs, OutputFormat};
use crate::cluster::{ApiFailure, Cluster, parse_request_timeout};
use crate::diagnose::collect::Target;
use crate::diagnose::{DiagnoseOptions, diagnose};
use crate::output;
use report::{Action, RestartReport, Restarted, Skipped, first_digests};
use rollout::{RolloutState, rollout_state};
use stale::{StaleContainer, stale_workloads};
use target::{Selection, WorkloadId, WorkloadKind, parse_targets};

/// How often `--wait` reads a workload's status.
const WAIT_POLL_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Workloads as TYPE/NAME: deployment, statefulset or daemonset (also deploy/, sts/, ds/).
    /// With -l, resource types only (all three when none is given). With --stale, limits
    /// the restart to these workloads.
    #[arg(value_name = "TYPE/NAME")]
    pub targets: Vec<String>,

    /// Restart only the workloads whose running containers use an older digest than their
    /// tag resolves to now, as checked against the registry with the pods' pull secrets.
    #[arg(long)]
    pub stale: bool,

    /// With --stale or -l: look in every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,

    /// Selector (label query) on the workloads, e.g. -l app=web; with --stale, on the pods.
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,

    /// Show what would be restarted: "client" sends no PATCH, "server" sends it with
    /// dryRun=All so the API server validates it and stores nothing. --dry-run alone means
    /// client.
    #[arg(
        long,
        value_enum,
        value_name = "STRATEGY",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "client",
        default_value_t = DryRun::None
    )]
    pub dry_run: DryRun,

    /// Restart several workloads without asking. Needed when standard input is not a
    /// terminal and more than one workload would be restarted.
    #[arg(long)]
    pub yes: bool,

    /// After restarting, wait until each rollout has finished (as kubectl rollout status).
    #[arg(long)]
    pub wait: bool,

    /// How long --wait waits for all rollouts, e.g. 90s or 5m; 0 waits without a limit.
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub timeout: String,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// kubectl's `--dry-run` strategies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DryRun {
    None,
    Client,
    Server,
}

/// A workload that passed the checks and gets the PATCH.
struct Candidate {
    id: WorkloadId,
    containers: Vec<StaleContainer>,
}

/// The candidates, what was left out, and the errors that make the run exit with status 2.
#[derive(Default)]
struct Plan {
    candidates: Vec<Candidate>,
    skipped: Vec<Skipped>,
    errors: Vec<String>,
}

impl Plan {
    fn skip(&mut self, id: &WorkloadId, containers: Vec<StaleContainer>, reason: String) {
        let (old_digest, new_digest) = first_digests(&containers);
        self.skipped.push(Skipped {
            namespace: id.namespace.clone(),
            workload: id.label(),
            old_digest,
            new_digest,
            reason,
            containers,
        });
    }
}

pub async fn run(global: &GlobalArgs, args: &RestartArgs) -> anyhow::Result<Outcome> {
    if args.all_namespaces && global.namespace.is_some() {
        bail!("-A/--all-namespaces and -n/--namespace cannot be used together");
    }
    // With --stale, -l selects pods for diagnose and the arguments stay TYPE/NAME filters.
    let selection = parse_targets(&args.targets, args.selector.is_some() && !args.stale)
        .map_err(anyhow::Error::msg)?;
    if !args.stale && matches!(&selection, Selection::Named(named) if named.is_empty()) {
        bail!(
            "no workload given: name TYPE/NAME (e.g. deployment/web), select with -l, or pass \
             --stale to restart the workloads that run outdated digests"
        );
    }
    if args.all_namespaces && !args.stale && args.selector.is_none() {
        bail!("-A needs --stale or -l: TYPE/NAME arguments name workloads of one namespace");
    }
    if args.all_namespaces && matches!(&selection, Selection::Named(named) if !named.is_empty()) {
        bail!("TYPE/NAME arguments name workloads of one namespace: use -n instead of -A");
    }
    let timeout =
        parse_request_timeout(&args.timeout).map_err(|err| anyhow::anyhow!("--timeout: {err}"))?;
    let registry = if args.stale {
        Some(crate::app::registry_client(global)?)
    } else {
        None
    };

    let cluster = crate::app::connect(global).await?;
    let namespace = if args.all_namespaces {
        None
    } else {
        Some(
            global
                .namespace
                .clone()
                .unwrap_or_else(|| cluster.default_namespace.clone()),
        )
    };

    let plan = match registry {
        Some(registry) => {
            let options = DiagnoseOptions {
                namespace: namespace.clone(),
                target: Target::All,
                selector: args.selector.clone(),
                show_secrets: global.show_secrets,
                check_all: false,
            };
            let report = diagnose(&cluster, registry, &options)
                .await
                .with_context(|| match &namespace {
                    Some(ns) => format!("cannot read pods in namespace {ns}"),
                    None => "cannot read pods in all namespaces".to_string(),
                })?;
            for warning in &report.checked.warnings {
                eprintln!("warning: {}", output::sanitize(warning));
            }
            // A running container whose registry cannot be checked is never reported as
            // stale, so say which registries were out of reach.
            for registry in report.checked.registries.iter().filter(|r| !r.reachable) {
                eprintln!(
                    "warning: registry {} could not be reached ({}); containers that pull from \
                     it were not checked for stale digests",
                    output::sanitize(&registry.host),
                    output::sanitize(registry.error.as_deref().unwrap_or("no details"))
                );
            }
            let filter = match selection {
                Selection::Named(named) if !named.is_empty() => Some(named),
                _ => None,
            };
            plan_stale(&cluster, &report, filter, namespace.as_deref()).await
        }
        None => plan_selected(&cluster, selection, namespace.as_deref(), args).await?,
    };

    let needs_confirmation = plan.candidates.len() > 1 && args.dry_run == DryRun::None && !args.yes;
    if needs_confirmation && !confirm(&plan.candidates).await? {
        eprintln!("Nothing was restarted.");
        return Ok(Outcome::Clean);
    }

    let restarted_at = chrono::Local::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut report = RestartReport {
        restarted: Vec::new(),
        skipped: plan.skipped,
    };
    let mut errors = plan.errors;
    let mut to_wait = Vec::new();
    for candidate in plan.candidates {
        let (old_digest, new_digest) = first_digests(&candidate.containers);
        let id = candidate.id;
        let action = match args.dry_run {
            DryRun::Client => Action::DryRunClient,
            dry_run => {
                let resource = id.kind.api_resource();
                let sent = cluster
                    .patch_restart(
                        &resource,
                        &id.namespace,
                        &id.name,
                        &restarted_at,
                        dry_run == DryRun::Server,
                    )
                    .await;
                if let Err(failure) = sent {
                    let message = describe_failure(&failure, "patch", &id);
                    report.skipped.push(Skipped {
                        namespace: id.namespace.clone(),
                        workload: id.label(),
                        old_digest,
                        new_digest,
                        reason: message.clone(),
                        containers: candidate.containers,
                    });
                    errors.push(message);
                    continue;
                }
                if dry_run == DryRun::Server {
                    Action::DryRunServer
                } else {
                    to_wait.push(id.clone());
                    Action::Restarted
                }
            }
        };
        report.restarted.push(Restarted {
            namespace: id.namespace.clone(),
            workload: id.label(),
            old_digest,
            new_digest,
            dry_run: action != Action::Restarted,
            action,
            restarted_at: (action != Action::DryRunClient).then(|| restarted_at.clone()),
            containers: candidate.containers,
        });
    }

    let text = match args.output {
        OutputFormat::Table => report::render_table(&report),
        format => output::to_machine_text(&report, format)?,
    };
    output::print(&text)?;

    let mut outcome = Outcome::Clean;
    if args.wait {
        if args.dry_run != DryRun::None {
            eprintln!("--wait has nothing to wait for in a dry run.");
        } else if !wait_for_rollouts(&cluster, &to_wait, timeout).await? {
            outcome = Outcome::Findings;
        }
    }
    match errors.len() {
        0 => Ok(outcome),
        1 => bail!("{}", errors.remove(0)),
        count => bail!(
            "{count} workloads could not be restarted:\n  {}",
            errors.join("\n  ")
        ),
    }
}

/// Plans the restart of TYPE/NAME arguments or of the workloads that `-l` selects. A missing
/// or paused workload is an error, as in `kubectl rollout restart`.
async fn plan_selected(
    cluster: &Cluster,
    selection: Selection,
    namespace: Option<&str>,
    args: &RestartArgs,
) -> anyhow::Result<Plan> {
    let mut plan = Plan::default();
    let mut found = Vec::new();
    match selection {
        Selection::Named(named) => {
            let namespace = namespace.unwrap_or_default();
            for (kind, name) in named {
                let id = WorkloadId {
                    namespace: namespace.to_string(),
                    kind,
                    name,
                };
                match cluster
                    .get_workload(&kind.api_resource(), &id.namespace, &id.name)
                    .await
                {
                    Ok(object) => found.push((id, object)),
                    Err(failure) => {
                        let message = describe_failure(&failure, "get", &id);
                        plan.skip(&id, Vec::new(), message.clone());
                        plan.errors.push(message);
                    }
                }
            }
        }
        Selection::Kinds(kinds) => {
            for kind in kinds {
                let objects = cluster
                    .list_workloads(&kind.api_resource(), namespace, args.selector.as_deref())
                    .await
                    .map_err(|failure| {
                        anyhow::anyhow!(forbidden_hint(&failure, "list", kind, namespace))
                    })?;
                for object in objects {
                    let id = WorkloadId {
                        namespace: object.metadata.namespace.clone().unwrap_or_default(),
                        kind,
                        name: object.metadata.name.clone().unwrap_or_default(),
                    };
                    found.push((id, object));
                }
            }
        }
    }
    for (id, object) in found {
        if is_paused(&object) {
            let message = paused_message(&id);
            plan.skip(&id, Vec::new(), message.clone());
            plan.errors.push(message);
        } else {
            plan.candidates.push(Candidate {
                id,
                containers: Vec::new(),
            });
        }
    }
    Ok(plan)
}

/// Plans the restart of the workloads with stale containers. `filter` limits it to named
/// workloads. A paused Deployment is skipped, not an error, because no one asked for it by name.
async fn plan_stale(
    cluster: &Cluster,
    report: &crate::diagnose::report::Report,
    filter: Option<Vec<(WorkloadKind, String)>>,
    namespace: Option<&str>,
) -> Plan {
    let mut plan = Plan::default();
    let (workloads, unrestartable) = stale_workloads(report);
    let wanted = |id: &WorkloadId| {
        filter
            .as_ref()
            .is_none_or(|named| named.iter().any(|(k, n)| *k == id.kind && *n == id.name))
    };
    for other in unrestartable {
        if filter.is_some() {
            continue;
        }
        let (old_digest, new_digest) = first_digests(&other.containers);
        plan.skipped.push(Skipped {
            namespace: other.namespace,
            workload: other.workload,
            old_digest,
            new_digest,
            reason: other.reason,
            containers: other.containers,
        });
    }
    if let Some(named) = &filter {
        for (kind, name) in named {
            let stale = workloads
                .iter()
                .any(|w| w.id.kind == *kind && w.id.name == *name);
            if !stale {
                let id = WorkloadId {
                    namespace: namespace.unwrap_or_default().to_string(),
                    kind: *kind,
                    name: name.clone(),
                };
                plan.skip(
                    &id,
                    Vec::new(),
                    "not stale: no running container of it uses an outdated digest".into(),
                );
            }
        }
    }
    for workload in workloads.into_iter().filter(|w| wanted(&w.id)) {
        let id = workload.id;
        match cluster
            .get_workload(&id.kind.api_resource(), &id.namespace, &id.name)
            .await
        {
            Ok(object) if is_paused(&object) => {
                plan.skip(&id, workload.containers, paused_message(&id));
            }
            Ok(_) => plan.candidates.push(Candidate {
                id,
                containers: workload.containers,
            }),
            Err(failure) => {
                let message = describe_failure(&failure, "get", &id);
                plan.skip(&id, workload.containers, message.clone());
                plan.errors.push(message);
            }
        }
    }
    plan
}

fn is_paused(object: &DynamicObject) -> bool {
    object.data["spec"]["paused"].as_bool() == Some(true)
}

/// kubectl's refusal, word for word, with the resource named as kubectl names it.
fn paused_message(id: &WorkloadId) -> String {
    format!(
        "{} {:?} can't restart paused deployment (run rollout resume first)",
        id.kind.resource_name(),
        id.name
    )
}

/// Describes a failed request: the API server's message, plus the RBAC rule to grant when it
/// was forbidden.
fn describe_failure(failure: &ApiFailure, verb: &str, id: &WorkloadId) -> String {
    if failure.is_not_found() {
        return format!(
            "{} {:?} not found in namespace {}",
            id.kind.resource_name(),
            id.name,
            id.namespace
        );
    }
    forbidden_hint(failure, verb, id.kind, Some(&id.namespace))
}

fn forbidden_hint(
    failure: &ApiFailure,
    verb: &str,
    kind: WorkloadKind,
    namespace: Option<&str>,
) -> String {
    if !failure.is_forbidden() {
        return failure.message.clone();
    }
    let resource = kind.resource_name();
    match namespace {
        Some(namespace) => format!(
            "{}; restart needs the verbs get and patch on {resource} in namespace {namespace}, \
             e.g. kubectl create role zot-restart --verb=get,list,patch --resource={resource} \
             -n {namespace} (this request needed {verb})",
            failure.message
        ),
        None => format!(
            "{}; restart needs the verbs get and patch on {resource} in every namespace, e.g. \
             kubectl create clusterrole zot-restart --verb=get,list,patch --resource={resource} \
             (this request needed {verb})",
            failure.message
        ),
    }
}

/// Prompts once on the terminal before restarting several workloads. Without a terminal it
/// returns an error that requests --yes.
async fn confirm(candidates: &[Candidate]) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "restarting {} workloads needs confirmation, and standard input is not a terminal: \
             pass --yes, or --dry-run to see the list first",
            candidates.len()
        );
    }
    let names: Vec<String> = candidates
        .iter()
        .map(|c| format!("{} -n {}", c.id.label(), c.id.namespace))
        .collect();
    let prompt = format!(
        "Restart {} workloads?\n  {}\n[y/N] ",
        names.len(),
        output::sanitize(&names.join("\n  "))
    );
    let answer = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
        let mut stderr = std::io::stderr().lock();
        stderr.write_all(prompt.as_bytes())?;
        stderr.flush()?;
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line)
    })
    .await
    .context("the confirmation prompt failed")?
    .context("cannot read the response from standard input")?;
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}

/// Follows each rollout until it finishes, printing progress on stderr. Returns false when
/// a rollout failed or the timeout passed first.
async fn wait_for_rollouts(
    cluster: &Cluster,
    workloads: &[WorkloadId],
    timeout: Option<Duration>,
) -> anyhow::Result<bool> {
    let deadline = timeout.map(|timeout| Instant::now() + timeout);
    for id in workloads {
        let resource = id.kind.api_resource();
        let mut last_message = String::new();
        loop {
            let object = cluster
                .get_workload(&resource, &id.namespace, &id.name)
                .await
                .map_err(|failure| anyhow::anyhow!(describe_failure(&failure, "get", id)))?;
            let generation = object.metadata.generation.unwrap_or(0);
            match rollout_state(id.kind, &id.name, generation, &object.data) {
                RolloutState::Done(message) => {
                    eprintln!("{}", output::sanitize(&message));
                    break;
                }
                RolloutState::Failed(message) => {
                    eprintln!("error: {}", output::sanitize(&message));
                    return Ok(false);
                }
                RolloutState::Waiting(message) => {
                    if message != last_message {
                        eprintln!("{}", output::sanitize(&message));
                        last_message = message;
                    }
                }
            }
            if deadline.is_some_and(|deadline| Instant::now() + WAIT_POLL_INTERVAL > deadline) {
                eprintln!(
                    "error: timed out waiting for the rollout of {} in namespace {} (--timeout \
                     {})",
                    id.label(),
                    id.namespace,
                    humantime::format_duration(timeout.unwrap_or_default())
                );
                return Ok(false);
            }
            tokio::time::sleep(WAIT_POLL_INTERVAL).await;
        }
    }
    Ok(true)
}
