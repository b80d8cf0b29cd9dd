//! Runs a parsed command line and maps the outcome to an exit status.

use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Parser;

use crate::cli::{Cli, Command, DiagnoseArgs, ExplainArgs, GlobalArgs, OutputFormat, VersionArgs};
use crate::cluster::{Cluster, ClusterOptions, parse_request_timeout};
use crate::diagnose::collect::{Target, parse_target};
use crate::diagnose::{DiagnoseOptions, diagnose};
use crate::output;
use crate::registry::{ClientOptions, RegistryClient};

/// Outcome of a command that ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing wrong: exit status 0.
    Clean,
    /// Findings reported: exit status 1.
    Findings,
}

/// Exit status for "the command could not run" (no cluster, bad flags).
pub const EXIT_ERROR: u8 = 2;
/// Exit status after Ctrl-C, as shells report SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Parses the command line, runs it and returns the exit status.
pub fn main_exit_code() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return match err.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(EXIT_ERROR),
            };
        }
    };
    init_logging(cli.global.verbosity);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let result = runtime.block_on(async {
        tokio::select! {
            result = run(cli) => Some(result),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    // Do not wait for in-flight requests on the way out.
    runtime.shutdown_background();
    match result {
        None => ExitCode::from(EXIT_INTERRUPTED),
        Some(Ok(Outcome::Clean)) => ExitCode::SUCCESS,
        Some(Ok(Outcome::Findings)) => ExitCode::from(1),
        Some(Err(err)) => {
            eprintln!("error: {}", describe_error(&err));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Joins an error and its causes with ": ", skipping a cause whose text the
/// message already contains (kube's errors repeat their sources).
fn describe_error(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

/// Maps kubectl's `-v` levels to log filters: 0 warnings, 1-3 info, 4-5 debug,
/// 6 and more trace. Other crates stay silent: kube-rs logs a whole response
/// body, secrets included, when an object fails to decode.
fn init_logging(verbosity: u8) {
    let level = match verbosity {
        0 => "warn",
        1..=3 => "info",
        4..=5 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::new(format!("off,kubectl_zot={level}"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_target(false)
        .try_init();
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match &cli.command {
        Command::Diagnose(args) => run_diagnose(&cli.global, args).await,
        Command::Explain(args) => run_explain(args),
        Command::Version(args) => run_version(args),
        Command::Tags(args) => crate::commands::tags::run(&cli.global, args).await,
        Command::Inspect(args) => crate::commands::inspect::run(&cli.global, args).await,
        Command::Digest(args) => crate::commands::inspect::run_digest(&cli.global, args).await,
        Command::Restart(args) => crate::commands::restart::run(&cli.global, args).await,
        Command::Secrets(args) => crate::commands::secrets::run(&cli.global, args).await,
        Command::Completion(args) => crate::commands::completion::run(args),
    }
}

pub fn registry_client(global: &GlobalArgs) -> anyhow::Result<Arc<RegistryClient>> {
    let timeout = parse_request_timeout(&global.registry_timeout)
        .map_err(|err| anyhow::anyhow!("--registry-timeout: {err}"))?
        .unwrap_or(std::time::Duration::from_secs(3600));
    for host in &global.plain_http {
        if host.is_empty() || host.contains('/') {
            bail!("--plain-http {host:?}: expected HOST or HOST:PORT, without a scheme or path");
        }
    }
    let client = RegistryClient::new(ClientOptions {
        ca_file: global.ca_file.clone(),
        plain_http: global.plain_http.clone(),
        timeout,
    })?;
    Ok(Arc::new(client))
}

pub async fn connect(global: &GlobalArgs) -> anyhow::Result<Cluster> {
    let request_timeout = parse_request_timeout(&global.request_timeout)
        .map_err(|err| anyhow::anyhow!("--request-timeout: {err}"))?;
    Ok(Cluster::connect(&ClusterOptions {
        kubeconfig: global.kubeconfig.clone(),
        context: global.context.clone(),
        request_timeout,
    })
    .await?)
}

/// Runs `diagnose -f`: the cluster is optional, and only read when it can be reached.
async fn run_diagnose_manifests(
    global: &GlobalArgs,
    args: &DiagnoseArgs,
) -> anyhow::Result<Outcome> {
    if args.target.is_some() || args.all_namespaces || args.selector.is_some() || args.all {
        bail!("-f checks manifests: it cannot be combined with a TARGET, -A, -l or --all");
    }
    let platforms = args
        .platform
        .iter()
        .map(|text| crate::registry::Platform::parse(text).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let registry = registry_client(global)?;
    let cluster = match connect(global).await {
        Ok(cluster) => Some(cluster),
        Err(err) => {
            tracing::warn!("no cluster is used: {}", describe_error(&err));
            None
        }
    };
    let namespace = global
        .namespace
        .clone()
        .or_else(|| cluster.as_ref().map(|c| c.default_namespace.clone()))
        .unwrap_or_else(|| "default".to_string());
    let input = crate::diagnose::manifests::ManifestInput {
        paths: args.filenames.clone(),
        secret_files: args.secret_file.clone(),
        platforms,
        namespace,
    };
    let report = crate::diagnose::manifests::diagnose_manifests(
        cluster.as_ref(),
        registry,
        &input,
        global.show_secrets,
    )
    .await?;
    let text = match args.output {
        OutputFormat::Table => {
            output::render_report_table(&report, report.checked.namespaces.len() > 1)
        }
        format => output::to_machine_text(&report, format)?,
    };
    if !output::print(&text)? {
        return Ok(Outcome::Clean);
    }
    Ok(if report.findings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

async fn run_diagnose(global: &GlobalArgs, args: &DiagnoseArgs) -> anyhow::Result<Outcome> {
    if !args.filenames.is_empty() {
        return run_diagnose_manifests(global, args).await;
    }
    let target = match &args.target {
        Some(text) => parse_target(text).map_err(anyhow::Error::msg)?,
        None => Target::All,
    };
    if args.all_namespaces && global.namespace.is_some() {
        bail!("-A/--all-namespaces and -n/--namespace cannot be used together");
    }
    if args.all_namespaces && target != Target::All {
        bail!("a TARGET needs one namespace: use -n instead of -A");
    }
    let registry = registry_client(global)?;
    let cluster = connect(global).await?;
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
    let options = DiagnoseOptions {
        namespace: namespace.clone(),
        target,
        selector: args.selector.clone(),
        show_secrets: global.show_secrets,
        check_all: args.all,
    };
    let report = diagnose(&cluster, registry, &options)
        .await
        .with_context(|| match (&options.target, &namespace) {
            (Target::Pod(name), Some(ns)) => format!("cannot read pod {name} in namespace {ns}"),
            (Target::Workload { kind, name }, Some(ns)) => {
                format!(
                    "cannot read {}/{name} or its pods in namespace {ns}",
                    kind.as_str()
                )
            }
            (_, Some(ns)) => format!("cannot read pods in namespace {ns}"),
            (_, None) => "cannot read pods in all namespaces".to_string(),
        })?;
    let text = match args.output {
        OutputFormat::Table => output::render_report_table(&report, namespace.is_none()),
        format => output::to_machine_text(&report, format)?,
    };
    if !output::print(&text)? {
        // A reader that closed the pipe (`| head`) took what it wanted.
        return Ok(Outcome::Clean);
    }
    Ok(if report.findings.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

fn run_explain(args: &ExplainArgs) -> anyhow::Result<Outcome> {
    let message = if args.message.is_empty() || args.message == ["-"] {
        let mut text = String::new();
        std::io::stdin()
            .take(16 * 1024 * 1024)
            .read_to_string(&mut text)
            .context("cannot read the message from standard input")?;
        text
    } else {
        args.message.join(" ")
    };
    if message.trim().is_empty() {
        bail!("no message given: pass the error text as an argument or on standard input");
    }
    let explanation = crate::explain::explain(&message);
    let text = match args.output {
        OutputFormat::Table => crate::explain::render_table(&explanation),
        format => output::to_machine_text(&explanation, format)?,
    };
    output::print(&text)?;
    Ok(Outcome::Clean)
}

fn run_version(args: &VersionArgs) -> anyhow::Result<Outcome> {
    let info = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "commit": env!("KUBECTL_ZOT_COMMIT"),
        "target": env!("KUBECTL_ZOT_TARGET"),
    });
    let text = match args.output {
        OutputFormat::Table => format!(
            "kubectl-zot v{} (commit {}, {})\n",
            env!("CARGO_PKG_VERSION"),
            env!("KUBECTL_ZOT_COMMIT"),
            env!("KUBECTL_ZOT_TARGET")
        ),
        format => output::to_machine_text(&info, format)?,
    };
    output::print(&text)?;
    Ok(Outcome::Clean)
}
