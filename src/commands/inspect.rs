//! `kubectl zot inspect` and `kubectl zot digest`.

use clap::Args;

use crate::app::Outcome;
use crate::cli::{GlobalArgs, OutputFormat};

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Image reference.
    #[arg(value_name = "IMAGE")]
    pub image: String,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// Image reference.
    #[arg(value_name = "IMAGE")]
    pub image: String,
}

pub async fn run(_global: &GlobalArgs, _args: &InspectArgs) -> anyhow::Result<Outcome> {
    // TODO: inspect an image; this command is being built.
    anyhow::bail!("kubectl zot inspect is not built yet")
}

pub async fn run_digest(_global: &GlobalArgs, _args: &DigestArgs) -> anyhow::Result<Outcome> {
    // TODO: print the digest; this command is being built.
    anyhow::bail!("kubectl zot digest is not built yet")
}
