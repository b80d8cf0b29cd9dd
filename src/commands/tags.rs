//! `kubectl zot tags`: every tag of a repository.

use clap::Args;

use crate::app::Outcome;
use crate::cli::{GlobalArgs, OutputFormat};

#[derive(Debug, Args)]
pub struct TagsArgs {
    /// Repository, e.g. zot.example.com/team/app, or team/app with --registry.
    #[arg(value_name = "REPOSITORY")]
    pub repository: String,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

pub async fn run(_global: &GlobalArgs, _args: &TagsArgs) -> anyhow::Result<Outcome> {
    // TODO: list tags; this command is being built.
    anyhow::bail!("kubectl zot tags is not built yet")
}
