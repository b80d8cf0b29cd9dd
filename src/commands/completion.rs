//! Shell completion: `kubectl zot completion SHELL` prints a script for the `kubectl-zot`
//! executable, and [`plan`] with [`fetch`] handle kubectl's plugin completion requests for
//! `kubectl zot <TAB>` (the `kubectl_complete-zot` executable).
//!
//! kubectl 1.26 and later complete a plugin by running `kubectl_complete-PLUGIN ARGS...`,
//! where ARGS are the words after the plugin name and the last one is the word being
//! completed (possibly empty). The answer uses cobra's `__complete` protocol: one candidate a
//! line, optionally followed by a tab and a description, then a line `:N` with the
//! ShellCompDirective bits (spf13/cobra completions.go).

use std::collections::HashSet;
use std::time::Duration;

use clap::builder::PossibleValue;
use clap::{Arg, ArgAction, Args, CommandFactory, ValueEnum, ValueHint};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, ListParams};
use kube::config::Kubeconfig;

use crate::app::Outcome;
use crate::cli::Cli;
use crate::cluster::{Cluster, ClusterOptions};
use crate::diagnose::collect::{Target, WorkloadKind, parse_target};
use crate::output;

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// Shell: bash, zsh or fish.
    #[arg(value_name = "SHELL", value_enum)]
    pub shell: Shell,
}

/// Shells that `kubectl zot completion` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Name the printed scripts complete: the executable itself, because kubectl completes
/// `kubectl zot` through `kubectl_complete-zot` instead.
const SCRIPT_BIN_NAME: &str = "kubectl-zot";

/// Prints the completion script for `args.shell`.
pub fn run(args: &CompletionArgs) -> anyhow::Result<Outcome> {
    output::print(&script(args.shell))?;
    Ok(Outcome::Clean)
}

/// Returns the completion script of `shell` for the `kubectl-zot` executable.
pub fn script(shell: Shell) -> String {
    let generator = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut command = Cli::command();
    let mut bytes = Vec::new();
    clap_complete::generate(generator, &mut command, SCRIPT_BIN_NAME, &mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// cobra's ShellCompDirective bits, as spf13/cobra completions.go defines them.
pub mod directive {
    /// Let the shell complete file names when no candidate matches.
    pub const DEFAULT: u32 = 0;
    /// An error occurred: the shell ignores the candidates.
    pub const ERROR: u32 = 1;
    /// No space after a single candidate.
    pub const NO_SPACE: u32 = 2;
    /// No file name completion, even when no candidate matches.
    pub const NO_FILE_COMP: u32 = 4;
}

/// One completion candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub value: String,
    pub description: Option<String>,
}

impl Candidate {
    fn plain(value: impl Into<String>) -> Candidate {
        Candidate {
            value: value.into(),
            description: None,
        }
    }
}

/// Candidates and the directive for the shell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completions {
    pub candidates: Vec<Candidate>,
    pub directive: u32,
}

impl Completions {
    fn none(directive: u32) -> Completions {
        Completions {
            candidates: Vec::new(),
            directive,
        }
    }

    /// Renders the output in cobra's protocol: candidates one a line, then `:DIRECTIVE`.
    ///
    /// Descriptions follow a tab unless `with_descriptions` is false (cobra's
    /// `__completeNoDesc`). Line breaks and tabs inside a value or description are replaced,
    /// because the shell scripts read one candidate per line.
    pub fn render(&self, with_descriptions: bool) -> String {
        let mut text = String::new();
        for candidate in &self.candidates {
            text.push_str(&one_line(&candidate.value));
            if with_descriptions && let Some(description) = &candidate.description {
                let description = one_line(description);
                if !description.is_empty() {
                    text.push('\t');
                    text.push_str(&description);
                }
            }
            text.push('\n');
        }
        text.push_str(&format!(":{}\n", self.directive));
        text
    }
}

fn one_line(text: &str) -> String {
    let first = text.lines().next().unwrap_or("");
    first.replace('\t', " ").trim().to_string()
}

/// Cluster objects whose names complete the current word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// Namespace names, for `-n`.
    Namespaces,
    /// Context names from the kubeconfig, for `--context`.
    Contexts,
    /// diagnose's TARGET: pod names and TYPE/NAME of workloads in `namespace` (the context's
    /// namespace when None).
    Targets { namespace: Option<String> },
}

/// A completion that needs the cluster or the kubeconfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub query: Query,
    /// The word being completed.
    pub prefix: String,
    /// `--kubeconfig` and `--context` from the command line being completed.
    pub kubeconfig: Option<std::path::PathBuf>,
    pub context: Option<String>,
}

/// Completion plan of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Completions that follow from the command-line definition alone.
    Ready(Completions),
    /// A lookup that [`fetch`] resolves.
    Lookup(Lookup),
}

/// Parser state after the words before the completed one.
struct Position<'a> {
    command: &'a clap::Command,
    /// Whether `command` is a subcommand reached by name (not the root).
    in_subcommand: bool,
    positionals: usize,
    /// A flag whose value is the word being completed.
    pending: Option<&'a Arg>,
    /// Whether `--` ended the flags.
    only_positionals: bool,
    /// Ids of the flags already given.
    seen: HashSet<String>,
    namespace: Option<String>,
    kubeconfig: Option<std::path::PathBuf>,
    context: Option<String>,
}

/// Plans the completion of `words`: the words after `kubectl zot`, of which the last is the
/// word being completed. Subcommands, flags and fixed values come from the clap definition
/// of [`Cli`].
pub fn plan(words: &[String]) -> Plan {
    let mut root = Cli::command();
    root.build();
    let (current, before) = match words.split_last() {
        Some((current, before)) => (current.as_str(), before),
        None => ("", &[][..]),
    };
    let position = walk(&root, before);
    complete_word(&position, current)
}

fn walk<'a>(root: &'a clap::Command, words: &[String]) -> Position<'a> {
    let mut position = Position {
        command: root,
        in_subcommand: false,
        positionals: 0,
        pending: None,
        only_positionals: false,
        seen: HashSet::new(),
        namespace: None,
        kubeconfig: None,
        context: None,
    };
    for word in words {
        if let Some(arg) = position.pending.take() {
            record_value(&mut position, arg, word);
            continue;
        }
        if word == "--" && !position.only_positionals {
            position.only_positionals = true;
            continue;
        }
        if position.only_positionals || word == "-" || !word.starts_with('-') {
            let subcommand = if position.positionals == 0 && !position.only_positionals {
                position.command.find_subcommand(word)
            } else {
                None
            };
            match subcommand {
                Some(subcommand) => {
                    position.command = subcommand;
                    position.in_subcommand = true;
                    position.positionals = 0;
                }
                None => position.positionals += 1,
            }
            continue;
        }
        if let Some(long) = word.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (long, None),
            };
            let Some(arg) = find_long(position.command, name) else {
                continue;
            };
            position.seen.insert(arg.get_id().to_string());
            match inline {
                Some(value) => record_value(&mut position, arg, value),
                None if takes_value(arg) => position.pending = Some(arg),
                None => {}
            }
            continue;
        }
        // A cluster of short flags such as `-Al`, where the last may take the next word, or
        // `-nopenclaw`, where the rest of the word is the value.
        let shorts = &word[1..];
        for (index, short) in shorts.char_indices() {
            let Some(arg) = find_short(position.command, short) else {
                break;
            };
            position.seen.insert(arg.get_id().to_string());
            if takes_value(arg) {
                let rest = &shorts[index + short.len_utf8()..];
                let rest = rest.strip_prefix('=').unwrap_or(rest);
                if rest.is_empty() {
                    position.pending = Some(arg);
                } else {
                    record_value(&mut position, arg, rest);
                }
                break;
            }
        }
    }
    position
}

fn record_value(position: &mut Position<'_>, arg: &Arg, value: &str) {
    match arg.get_id().as_str() {
        "namespace" => position.namespace = Some(value.to_string()),
        "context" => position.context = Some(value.to_string()),
        "kubeconfig" => position.kubeconfig = Some(value.into()),
        _ => {}
    }
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

fn find_long<'a>(command: &'a clap::Command, name: &str) -> Option<&'a Arg> {
    command.get_arguments().find(|arg| {
        arg.get_long() == Some(name)
            || arg
                .get_all_aliases()
                .is_some_and(|aliases| aliases.contains(&name))
    })
}

fn find_short(command: &clap::Command, short: char) -> Option<&Arg> {
    command.get_arguments().find(|arg| {
        arg.get_short() == Some(short)
            || arg
                .get_all_short_aliases()
                .is_some_and(|aliases| aliases.contains(&short))
    })
}

fn complete_word(position: &Position<'_>, current: &str) -> Plan {
    if let Some(arg) = position.pending {
        return complete_value(position, arg, current);
    }
    if !position.only_positionals && current.starts_with('-') {
        if let Some((name, value)) = current
            .strip_prefix("--")
            .and_then(|long| long.split_once('='))
        {
            return match find_long(position.command, name) {
                Some(arg) if takes_value(arg) => complete_value(position, arg, value),
                _ => Plan::Ready(Completions::none(directive::NO_FILE_COMP)),
            };
        }
        return Plan::Ready(flag_names(position, current));
    }
    if position.positionals == 0 && !position.only_positionals && position.command.has_subcommands()
    {
        return Plan::Ready(subcommand_names(position.command, current));
    }
    let positionals: Vec<&Arg> = position
        .command
        .get_positionals()
        .filter(|arg| !arg.is_hide_set())
        .collect();
    let arg = positionals.get(position.positionals).or_else(|| {
        // A last positional that takes many values (explain's MESSAGE) absorbs the rest.
        positionals
            .last()
            .filter(|arg| matches!(arg.get_action(), ArgAction::Append))
    });
    let Some(arg) = arg else {
        return Plan::Ready(Completions::none(directive::NO_FILE_COMP));
    };
    if position.in_subcommand
        && position.command.get_name() == "diagnose"
        && arg.get_id().as_str() == "target"
    {
        return Plan::Lookup(lookup(
            position,
            Query::Targets {
                namespace: position.namespace.clone(),
            },
            current,
        ));
    }
    complete_value(position, arg, current)
}

fn lookup(position: &Position<'_>, query: Query, prefix: &str) -> Lookup {
    Lookup {
        query,
        prefix: prefix.to_string(),
        kubeconfig: position.kubeconfig.clone(),
        context: position.context.clone(),
    }
}

fn complete_value(position: &Position<'_>, arg: &Arg, prefix: &str) -> Plan {
    match arg.get_id().as_str() {
        "namespace" => return Plan::Lookup(lookup(position, Query::Namespaces, prefix)),
        "context" => return Plan::Lookup(lookup(position, Query::Contexts, prefix)),
        _ => {}
    }
    let values: Vec<PossibleValue> = arg
        .get_possible_values()
        .into_iter()
        .filter(|value| !value.is_hide_set())
        .collect();
    if !values.is_empty() {
        let candidates = values
            .iter()
            .filter(|value| value.get_name().starts_with(prefix))
            .map(|value| Candidate {
                value: value.get_name().to_string(),
                description: value.get_help().map(|help| help.to_string()),
            })
            .collect();
        return Plan::Ready(Completions {
            candidates,
            directive: directive::NO_FILE_COMP,
        });
    }
    let is_path = matches!(
        arg.get_value_hint(),
        ValueHint::AnyPath | ValueHint::FilePath | ValueHint::DirPath | ValueHint::ExecutablePath
    );
    Plan::Ready(Completions::none(if is_path {
        directive::DEFAULT
    } else {
        directive::NO_FILE_COMP
    }))
}

fn flag_names(position: &Position<'_>, prefix: &str) -> Completions {
    let mut candidates = Vec::new();
    for arg in position.command.get_arguments() {
        if arg.is_positional() || arg.is_hide_set() {
            continue;
        }
        let repeatable = matches!(arg.get_action(), ArgAction::Append | ArgAction::Count);
        if position.seen.contains(arg.get_id().as_str()) && !repeatable {
            continue;
        }
        let description = arg.get_help().map(|help| help.to_string());
        let mut names = Vec::new();
        if let Some(long) = arg.get_long() {
            names.push(format!("--{long}"));
        }
        if let Some(short) = arg.get_short() {
            names.push(format!("-{short}"));
        }
        for name in names {
            if name.starts_with(prefix) {
                candidates.push(Candidate {
                    value: name,
                    description: description.clone(),
                });
            }
        }
    }
    Completions {
        candidates,
        directive: directive::NO_FILE_COMP,
    }
}

fn subcommand_names(command: &clap::Command, prefix: &str) -> Completions {
    let candidates = command
        .get_subcommands()
        .filter(|subcommand| !subcommand.is_hide_set())
        .filter(|subcommand| subcommand.get_name().starts_with(prefix))
        .map(|subcommand| Candidate {
            value: subcommand.get_name().to_string(),
            description: subcommand.get_about().map(|about| about.to_string()),
        })
        .collect();
    Completions {
        candidates,
        directive: directive::NO_FILE_COMP,
    }
}

/// Maximum names per LIST request. Completion reads one page only, because a longer
/// list is of no use at a prompt.
const LIST_LIMIT: u32 = 500;

/// Workload kinds that diagnose takes as TYPE/NAME, with the spelling offered.
const WORKLOAD_KINDS: [WorkloadKind; 5] = [
    WorkloadKind::Deployment,
    WorkloadKind::StatefulSet,
    WorkloadKind::DaemonSet,
    WorkloadKind::Job,
    WorkloadKind::CronJob,
];

/// Resolves a [`Lookup`] from the cluster or the kubeconfig within `timeout`.
///
/// Any failure (no kubeconfig, unreachable or slow server, forbidden LIST) gives no
/// candidates, so the prompt never shows an error.
pub async fn fetch(lookup: &Lookup, timeout: Duration) -> Completions {
    let names = match tokio::time::timeout(timeout, fetch_names(lookup, timeout)).await {
        Ok(Some(names)) => names,
        Ok(None) | Err(_) => Vec::new(),
    };
    let mut names: Vec<String> = names
        .into_iter()
        .filter(|name| name.starts_with(&lookup.prefix))
        .collect();
    names.sort();
    names.dedup();
    Completions {
        candidates: names.into_iter().map(Candidate::plain).collect(),
        directive: directive::NO_FILE_COMP,
    }
}

async fn fetch_names(lookup: &Lookup, timeout: Duration) -> Option<Vec<String>> {
    if lookup.query == Query::Contexts {
        return context_names(lookup);
    }
    let cluster = Cluster::connect(&ClusterOptions {
        kubeconfig: lookup.kubeconfig.clone(),
        context: lookup.context.clone(),
        request_timeout: Some(timeout),
    })
    .await
    .ok()?;
    match &lookup.query {
        Query::Namespaces => list_names(Api::<Namespace>::all(cluster.client.clone())).await,
        Query::Contexts => None,
        Query::Targets { namespace } => {
            let namespace = namespace
                .clone()
                .unwrap_or_else(|| cluster.default_namespace.clone());
            Some(target_names(&cluster, &namespace, &lookup.prefix).await)
        }
    }
}

fn context_names(lookup: &Lookup) -> Option<Vec<String>> {
    let kubeconfig = match &lookup.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).ok()?,
        None => match Kubeconfig::from_env().ok()? {
            Some(config) => config,
            None => {
                let home = std::env::var_os("HOME")?;
                Kubeconfig::read_from(std::path::Path::new(&home).join(".kube/config")).ok()?
            }
        },
    };
    Some(
        kubeconfig
            .contexts
            .into_iter()
            .map(|context| context.name)
            .collect(),
    )
}

/// Lists diagnose targets that can start with `prefix`: pod names, and `TYPE/NAME` of each
/// workload kind whose `TYPE/` fits the prefix. A prefix with a slash keeps the TYPE
/// spelling typed (`deploy/`, `sts/`), as diagnose accepts kubectl's short names.
async fn target_names(cluster: &Cluster, namespace: &str, prefix: &str) -> Vec<String> {
    if let Some((typed_kind, _)) = prefix.split_once('/') {
        // parse_target resolves kubectl's spellings of the type; the name is a placeholder.
        return match parse_target(&format!("{typed_kind}/x")) {
            Ok(Target::Pod(_)) => prefixed(typed_kind, list_pods(cluster, namespace).await),
            Ok(Target::Workload { kind, .. }) => {
                prefixed(typed_kind, list_workloads(cluster, namespace, kind).await)
            }
            Ok(Target::All) | Err(_) => Vec::new(),
        };
    }
    let kinds = WORKLOAD_KINDS
        .into_iter()
        .filter(|kind| format!("{}/", kind.as_str()).starts_with(prefix));
    let workloads = futures::future::join_all(kinds.map(|kind| async move {
        prefixed(
            kind.as_str(),
            list_workloads(cluster, namespace, kind).await,
        )
    }));
    let (pods, workloads) = futures::join!(list_pods(cluster, namespace), workloads);
    let mut names = pods;
    names.extend(workloads.into_iter().flatten());
    names
}

fn prefixed(kind: &str, names: Vec<String>) -> Vec<String> {
    names
        .into_iter()
        .map(|name| format!("{kind}/{name}"))
        .collect()
}

async fn list_pods(cluster: &Cluster, namespace: &str) -> Vec<String> {
    list_names(Api::<Pod>::namespaced(cluster.client.clone(), namespace))
        .await
        .unwrap_or_default()
}

async fn list_workloads(cluster: &Cluster, namespace: &str, kind: WorkloadKind) -> Vec<String> {
    let client = cluster.client.clone();
    let names = match kind {
        WorkloadKind::Deployment => {
            list_names(Api::<Deployment>::namespaced(client, namespace)).await
        }
        WorkloadKind::StatefulSet => {
            list_names(Api::<StatefulSet>::namespaced(client, namespace)).await
        }
        WorkloadKind::DaemonSet => {
            list_names(Api::<DaemonSet>::namespaced(client, namespace)).await
        }
        WorkloadKind::Job => list_names(Api::<Job>::namespaced(client, namespace)).await,
        WorkloadKind::CronJob => list_names(Api::<CronJob>::namespaced(client, namespace)).await,
    };
    names.unwrap_or_default()
}

async fn list_names<K>(api: Api<K>) -> Option<Vec<String>>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let list = api
        .list(&ListParams::default().limit(LIST_LIMIT))
        .await
        .ok()?;
    Some(
        list.items
            .into_iter()
            .filter_map(|item| item.meta().name.clone())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &[&str]) -> Vec<String> {
        line.iter().map(|word| word.to_string()).collect()
    }

    fn ready(line: &[&str]) -> Completions {
        match plan(&words(line)) {
            Plan::Ready(completions) => completions,
            Plan::Lookup(lookup) => panic!("{line:?} needs a lookup: {lookup:?}"),
        }
    }

    fn values(completions: &Completions) -> Vec<&str> {
        completions
            .candidates
            .iter()
            .map(|candidate| candidate.value.as_str())
            .collect()
    }

    #[test]
    fn subcommands_complete_by_prefix() {
        let completions = ready(&["d"]);
        assert_eq!(values(&completions), ["diagnose", "digest"]);
        assert_eq!(completions.directive, directive::NO_FILE_COMP);
        let diagnose = &completions.candidates[0];
        assert_eq!(
            diagnose.description.as_deref(),
            Some("Explain why pods fail to pull their images")
        );
    }

    #[test]
    fn empty_word_lists_every_subcommand() {
        let completions = ready(&[""]);
        let names = values(&completions);
        for name in ["diagnose", "explain", "completion", "version"] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
    }

    #[test]
    fn flags_include_globals_and_locals() {
        let completions = ready(&["diagnose", "-"]);
        let names = values(&completions);
        for name in [
            "--namespace",
            "-n",
            "--all-namespaces",
            "-A",
            "--output",
            "--kubeconfig",
        ] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
    }

    #[test]
    fn given_flag_is_not_offered_again() {
        let completions = ready(&["diagnose", "-A", "--all-n"]);
        assert!(values(&completions).is_empty(), "{completions:?}");
        let repeatable = ready(&["--plain-http", "a", "diagnose", "--plain"]);
        assert_eq!(values(&repeatable), ["--plain-http"]);
    }

    #[test]
    fn output_values_come_from_the_enum() {
        for line in [
            &["diagnose", "-o", ""][..],
            &["diagnose", "--output", ""][..],
            &["diagnose", "--output="][..],
        ] {
            let completions = ready(line);
            assert_eq!(values(&completions), ["table", "json", "yaml"], "{line:?}");
        }
        assert_eq!(values(&ready(&["version", "-o", "y"])), ["yaml"]);
    }

    #[test]
    fn completion_shell_is_completed() {
        assert_eq!(values(&ready(&["completion", ""])), ["bash", "zsh", "fish"]);
    }

    #[test]
    fn namespace_value_needs_the_cluster() {
        for line in [
            &["-n", "op"][..],
            &["diagnose", "-n", "op"][..],
            &["diagnose", "--namespace", "op"][..],
            &["diagnose", "--namespace=op"][..],
        ] {
            let Plan::Lookup(lookup) = plan(&words(line)) else {
                panic!("{line:?} should need a lookup");
            };
            assert_eq!(lookup.query, Query::Namespaces, "{line:?}");
            assert_eq!(lookup.prefix, "op", "{line:?}");
        }
    }

    #[test]
    fn diagnose_target_uses_namespace_and_context() {
        let line = words(&[
            "--context",
            "other",
            "diagnose",
            "-nopenclaw",
            "--kubeconfig=/tmp/kc",
            "ap",
        ]);
        let Plan::Lookup(lookup) = plan(&line) else {
            panic!("the diagnose target should need a lookup");
        };
        assert_eq!(
            lookup.query,
            Query::Targets {
                namespace: Some("openclaw".to_string())
            }
        );
        assert_eq!(lookup.prefix, "ap");
        assert_eq!(lookup.context.as_deref(), Some("other"));
        assert_eq!(
            lookup.kubeconfig.as_deref(),
            Some(std::path::Path::new("/tmp/kc"))
        );
    }

    #[test]
    fn second_diagnose_argument_has_no_candidates() {
        let completions = ready(&["diagnose", "api", ""]);
        assert!(completions.candidates.is_empty());
        assert_eq!(completions.directive, directive::NO_FILE_COMP);
    }

    #[test]
    fn path_flags_fall_back_to_files() {
        let completions = ready(&["diagnose", "--kubeconfig", ""]);
        assert_eq!(completions.directive, directive::DEFAULT);
        let completions = ready(&["--ca-file", "/et"]);
        assert_eq!(completions.directive, directive::DEFAULT);
    }

    #[test]
    fn render_follows_cobra_protocol() {
        let completions = Completions {
            candidates: vec![
                Candidate {
                    value: "diagnose".to_string(),
                    description: Some("Explain\tfailures.\nMore.".to_string()),
                },
                Candidate::plain("digest"),
            ],
            directive: directive::NO_FILE_COMP,
        };
        assert_eq!(
            completions.render(true),
            "diagnose\tExplain failures.\ndigest\n:4\n"
        );
        assert_eq!(completions.render(false), "diagnose\ndigest\n:4\n");
    }

    #[test]
    fn scripts_name_the_executable() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let text = script(shell);
            assert!(text.contains("kubectl-zot"), "{shell:?} script:\n{text}");
            assert!(text.contains("diagnose"), "{shell:?} script:\n{text}");
        }
    }
}
