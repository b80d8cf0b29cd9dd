//! Command-line interface, with kubectl's global flags and conventions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Explain image pull failures with live checks against the OCI registry.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-zot",
    bin_name = "kubectl zot",
    version,
    disable_version_flag = true,
    about = "Explain image pull failures with live checks against the OCI registry.",
    long_about = "kubectl zot joins failing pods, their events, the cluster's pull secrets and \
                  live checks against the registry into one report with one cause per failing \
                  image.\n\nFind more information at the project's README."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Flags shared by every subcommand, spelled as kubectl spells them.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Path to the kubeconfig file to use for CLI requests.
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// The name of the kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// If present, the namespace scope for this CLI request.
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,

    /// The length of time to wait before giving up on a single server request. Non-zero
    /// values should contain a corresponding time unit (e.g. 1s, 2m, 3h). A value of zero
    /// means don't timeout requests.
    #[arg(long, global = true, value_name = "DURATION", default_value = "0")]
    pub request_timeout: String,

    /// Number for the log level verbosity (logs go to stderr).
    #[arg(
        short = 'v',
        long = "v",
        global = true,
        value_name = "LEVEL",
        default_value_t = 0
    )]
    pub verbosity: u8,

    /// Extra CA certificate (PEM) to trust for registry TLS, in addition to the system roots.
    #[arg(long, global = true, value_name = "PATH")]
    pub ca_file: Option<PathBuf>,

    /// Use plain HTTP for this registry (HOST or HOST:PORT). Repeatable. Loopback registries
    /// fall back to plain HTTP on their own when they do not speak TLS.
    #[arg(long, global = true, value_name = "HOST[:PORT]")]
    pub plain_http: Vec<String>,

    /// Timeout of each registry request (e.g. 10s, 500ms).
    #[arg(long, global = true, value_name = "DURATION", default_value = "10s")]
    pub registry_timeout: String,

    /// Print passwords and tokens from pull secrets instead of masking them.
    #[arg(long, global = true)]
    pub show_secrets: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Explain why pods fail to pull their images.
    Diagnose(DiagnoseArgs),
    /// Classify an error message from an event, a CI log or `docker pull`.
    Explain(ExplainArgs),
    /// List the tags of a repository, as the cluster's pull secrets see them.
    Tags(crate::commands::tags::TagsArgs),
    /// Show an image's digest, platforms, config and layers.
    Inspect(crate::commands::inspect::InspectArgs),
    /// Print the digest an image reference resolves to.
    Digest(crate::commands::inspect::DigestArgs),
    /// Restart workloads, or only those running stale digests (--stale).
    Restart(crate::commands::restart::RestartArgs),
    /// Decode and test pull secrets without printing them.
    Secrets(crate::commands::secrets::SecretsArgs),
    /// Print a shell completion script (bash, zsh or fish).
    Completion(crate::commands::completion::CompletionArgs),
    /// Print the version, commit and build target.
    Version(VersionArgs),
}

/// Output formats, as kubectl names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Table,
    Json,
    Yaml,
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// A pod name, or TYPE/NAME for deployment, statefulset, daemonset, job or cronjob.
    #[arg(value_name = "TARGET")]
    pub target: Option<String>,

    /// If present, diagnose pods across all namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,

    /// Selector (label query) to filter pods on, e.g. -l app=web,tier!=cache.
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,

    /// Check every image of the selected pods, not only failing ones: finds deleted
    /// tags, rotated passwords and stale digests before the next reschedule.
    #[arg(long)]
    pub all: bool,

    /// Check the images of these manifests instead of running pods: a file, a directory
    /// or - for stdin (multi-document YAML or JSON, e.g. from helm template). Repeatable.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub filenames: Vec<PathBuf>,

    /// With -f: a Secret manifest or Docker config.json to use as pull secrets instead
    /// of reading them from the cluster. Repeatable.
    #[arg(long, value_name = "FILE", requires = "filenames")]
    pub secret_file: Vec<PathBuf>,

    /// With -f: node platform (os/arch[/variant]) to check; default: every platform of
    /// the cluster's nodes, else linux/amd64. Repeatable.
    #[arg(long, value_name = "PLATFORM", requires = "filenames")]
    pub platform: Vec<String>,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The error text; read from standard input when absent or "-".
    #[arg(value_name = "MESSAGE", num_args = 0..)]
    pub message: Vec<String>,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn verbosity_accepts_both_spellings() {
        let short = Cli::try_parse_from(["kubectl-zot", "-v", "6", "version"]).unwrap();
        assert_eq!(short.global.verbosity, 6);
        let long = Cli::try_parse_from(["kubectl-zot", "--v=4", "version"]).unwrap();
        assert_eq!(long.global.verbosity, 4);
    }

    #[test]
    fn namespace_flag_works_after_subcommand() {
        let cli = Cli::try_parse_from(["kubectl-zot", "diagnose", "-n", "openclaw"]).unwrap();
        assert_eq!(cli.global.namespace.as_deref(), Some("openclaw"));
    }
}
