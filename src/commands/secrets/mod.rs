//! `kubectl zot secrets`: pull secrets decoded, matched and tested, never printed.
//!
//! The command reads the secrets, ServiceAccounts and pods of a namespace with
//! GET and LIST only, and decodes every pull secret as the kubelet does. It
//! shows which entry the kubelet picks for each image of the pods that list
//! the secret, and with `--check` logs in to each entry's registry.

mod collect;
mod login;
mod report;
mod table;

use anyhow::bail;
use clap::Args;

use crate::app::{Outcome, connect, registry_client};
use crate::cli::{GlobalArgs, OutputFormat};
use crate::output;

#[derive(Debug, Args)]
pub struct SecretsArgs {
    /// Secret names; every pull secret in scope when absent.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// If present, list pull secrets across all namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,

    /// Log in to each entry's registry and report whether it accepts the credentials.
    #[arg(long)]
    pub check: bool,

    /// Repository to request pull access for with --check (e.g. team/app), instead of the
    /// first image that uses the entry.
    #[arg(long, value_name = "REPO", requires = "check")]
    pub repository: Option<String>,

    /// Also list every image whose registry no pull secret of its pod covers, with the
    /// command that creates a secret for it.
    #[arg(long)]
    pub images: bool,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

pub async fn run(global: &GlobalArgs, args: &SecretsArgs) -> anyhow::Result<Outcome> {
    if args.all_namespaces && global.namespace.is_some() {
        bail!("-A/--all-namespaces and -n/--namespace cannot be used together");
    }
    if args.all_namespaces && !args.names.is_empty() {
        bail!("secret names need one namespace: use -n instead of -A");
    }
    if let Some(repository) = &args.repository {
        login::validate_repository(repository)?;
    }
    let registry = if args.check {
        Some(registry_client(global)?)
    } else {
        None
    };
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

    let snapshot = collect::read(&cluster, namespace.as_deref(), &args.names).await?;
    let mut report = report::build(&snapshot, global.show_secrets, args.images);
    if let Some(registry) = &registry {
        login::check_all(registry, &mut report, args.repository.as_deref()).await;
    }

    let text = match args.output {
        OutputFormat::Table => table::render(&report, namespace.is_none()),
        format => output::to_machine_text(&report, format)?,
    };
    if !output::print(&text)? {
        // A reader that closed the pipe (`| head`) took what it wanted.
        return Ok(Outcome::Clean);
    }
    Ok(if report.has_findings() {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}
