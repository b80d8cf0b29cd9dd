//! `kubectl zot completion`: shell completion scripts.

use clap::Args;

use crate::app::Outcome;

#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// Shell: bash, zsh or fish.
    #[arg(value_name = "SHELL")]
    pub shell: String,
}

pub fn run(_args: &CompletionArgs) -> anyhow::Result<Outcome> {
    // TODO: print completion scripts; this command is being built.
    anyhow::bail!("kubectl zot completion is not built yet")
}
