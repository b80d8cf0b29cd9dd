//! `kubectl zot secrets`: pull secrets decoded, matched and tested, never printed.

use clap::Args;

use crate::app::Outcome;
use crate::cli::{GlobalArgs, OutputFormat};

#[derive(Debug, Args)]
pub struct SecretsArgs {
    /// Secret names; every pull secret in scope when absent.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

pub async fn run(_global: &GlobalArgs, _args: &SecretsArgs) -> anyhow::Result<Outcome> {
    // TODO: list and check pull secrets; this command is being built.
    anyhow::bail!("kubectl zot secrets is not built yet")
}
