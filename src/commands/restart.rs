//! `kubectl zot restart`: what `kubectl rollout restart` does, optionally only for stale workloads.

use clap::Args;

use crate::app::Outcome;
use crate::cli::{GlobalArgs, OutputFormat};

#[derive(Debug, Args)]
pub struct RestartArgs {
    /// Workloads as TYPE/NAME: deployment, statefulset or daemonset.
    #[arg(value_name = "TYPE/NAME")]
    pub targets: Vec<String>,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

pub async fn run(_global: &GlobalArgs, _args: &RestartArgs) -> anyhow::Result<Outcome> {
    // TODO: restart workloads; this command is being built.
    anyhow::bail!("kubectl zot restart is not built yet")
}
