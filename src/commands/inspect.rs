//! `kubectl zot inspect` and `kubectl zot digest`.

use std::collections::BTreeMap;
use std::io::Write;

use clap::Args;
use serde::{Deserialize, Serialize};

use super::registry_auth::{self, CredentialArgs, Opened};
use crate::app::{Outcome, registry_client};
use crate::cli::{GlobalArgs, OutputFormat};
use crate::output;
use crate::registry::client::{FetchedManifest, RegistryClient, ZotInfo};
use crate::registry::error::Failure;
use crate::registry::manifest::{Descriptor, ManifestBody};
use crate::registry::{ImageRef, Platform};

/// Config media types of container images, whose config blob is read.
const IMAGE_CONFIG_MEDIA_TYPES: [&str; 2] = [
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
];

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Image reference.
    #[arg(value_name = "IMAGE")]
    pub image: String,

    /// Show only this platform of a multi-platform image (os/arch[/variant]).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,

    /// Print the manifest bytes exactly as the registry served them.
    #[arg(long)]
    pub raw: bool,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

#[derive(Debug, Args)]
pub struct DigestArgs {
    /// Image reference.
    #[arg(value_name = "IMAGE")]
    pub image: String,

    /// Print the digest of this platform's manifest instead of the index digest.
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,

    #[command(flatten)]
    pub credentials: CredentialArgs,
}

/// The JSON and YAML output of `inspect`.
#[derive(Debug, Serialize)]
pub struct InspectReport {
    pub image: String,
    pub registry: String,
    pub repository: String,
    pub credential_source: String,
    pub auth: String,
    /// Digest the reference resolves to (the index digest for a multi-platform image).
    pub digest: String,
    pub media_type: String,
    /// Size of the manifest or index itself, in bytes.
    pub manifest_size: usize,
    /// Platforms of an index with their manifest digests; empty for a single manifest.
    pub platforms: Vec<PlatformEntry>,
    /// The platform images described: all of them, or the one --platform chose.
    pub images: Vec<ImageDetail>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zot: Option<ZotInfo>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlatformEntry {
    pub platform: String,
    pub digest: String,
    pub media_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

/// One image manifest with its config and layers.
#[derive(Debug, Clone, Serialize)]
pub struct ImageDetail {
    /// `os/arch[/variant]` from the index, else from the config.
    pub platform: String,
    pub digest: String,
    pub media_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<ConfigSummary>,
    /// Config media type when it is not a container image config (an artifact).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub layers: Vec<LayerEntry>,
    /// Bytes of the config and all layers as stored (compressed), what a pull downloads.
    pub total_size: u64,
}

/// Summary of the image config, with environment variable names only (values may contain
/// secrets).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConfigSummary {
    pub digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    pub os: String,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env_names: Vec<String>,
    pub labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LayerEntry {
    pub digest: String,
    pub media_type: String,
    pub size: u64,
}

#[derive(Deserialize, Default)]
struct ImageConfig {
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    config: Option<RuntimeConfig>,
}

#[derive(Deserialize, Default)]
struct RuntimeConfig {
    #[serde(rename = "Entrypoint", default)]
    entrypoint: Option<Vec<String>>,
    #[serde(rename = "Cmd", default)]
    cmd: Option<Vec<String>>,
    #[serde(rename = "Env", default)]
    env: Option<Vec<String>>,
    #[serde(rename = "Labels", default)]
    labels: Option<BTreeMap<String, String>>,
    #[serde(rename = "User", default)]
    user: Option<String>,
    #[serde(rename = "WorkingDir", default)]
    working_dir: Option<String>,
}

/// A reason the command stops: a registry failure or a platform the image lacks.
enum Stop {
    Registry(Failure),
    NoPlatform(String),
    Invalid(String),
}

impl From<Failure> for Stop {
    fn from(failure: Failure) -> Stop {
        Stop::Registry(failure)
    }
}

fn parse_body(manifest: &FetchedManifest) -> Result<ManifestBody, Stop> {
    serde_json::from_slice(&manifest.bytes)
        .map_err(|err| Stop::Invalid(format!("manifest {} is not valid: {err}", manifest.digest)))
}

fn media_type_of(manifest: &FetchedManifest, body: &ManifestBody) -> String {
    if manifest.media_type.is_empty() || manifest.media_type == "application/json" {
        body.media_type.clone().unwrap_or_default()
    } else {
        manifest.media_type.clone()
    }
}

fn parse_platform(text: Option<&str>) -> anyhow::Result<Option<Platform>> {
    text.map(Platform::parse)
        .transpose()
        .map_err(anyhow::Error::msg)
}

/// Prints a stop reason and returns the command's outcome.
fn finish(stop: Stop, image: &ImageRef, opened: &Opened) -> anyhow::Result<Outcome> {
    match stop {
        Stop::Registry(failure) => {
            let report = registry_auth::describe_failure(
                &failure,
                image,
                &format!("image {image}"),
                &opened.source,
            );
            registry_auth::finish_with_failure(&report)
        }
        Stop::NoPlatform(message) => {
            eprintln!("error: {}", output::sanitize(&message));
            eprintln!("fix: build and push the image for that platform, or pick one listed.");
            Ok(Outcome::Findings)
        }
        Stop::Invalid(message) => anyhow::bail!("{}", output::sanitize(&message)),
    }
}

/// Picks the index entry for `wanted`: the first whose platform it accepts.
fn choose<'a>(
    manifests: &'a [Descriptor],
    wanted: &Platform,
    image: &ImageRef,
) -> Result<&'a Descriptor, Stop> {
    manifests
        .iter()
        .find(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p| wanted.accepts(&p.to_platform()))
        })
        .ok_or_else(|| {
            let listed: Vec<String> = manifests
                .iter()
                .filter_map(|d| d.platform.as_ref().map(|p| p.to_platform().to_string()))
                .collect();
            Stop::NoPlatform(format!(
                "{image} has no {wanted} image; its platforms: {}",
                listed.join(", ")
            ))
        })
}

pub async fn run(global: &GlobalArgs, args: &InspectArgs) -> anyhow::Result<Outcome> {
    let image = ImageRef::parse(&args.image)?;
    let wanted = parse_platform(args.platform.as_deref())?;
    let client = registry_client(global)?;
    let what = format!("image {image}");
    let (opened, credentials) =
        match registry_auth::connect_registry(global, &args.credentials, &client, &image, &what)
            .await?
        {
            Ok(pair) => pair,
            Err(outcome) => return outcome,
        };
    match inspect(&client, &image, &opened, wanted.as_ref(), args.raw).await {
        Ok(Inspected::Raw(bytes)) => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(&bytes).and_then(|()| stdout.flush()) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {}
                Err(err) => return Err(err.into()),
            }
            Ok(Outcome::Clean)
        }
        Ok(Inspected::Report(mut report)) => {
            report.warnings.splice(0..0, credentials.warnings);
            let text = match args.output {
                OutputFormat::Table => {
                    registry_auth::print_context(
                        &report.credential_source,
                        &opened.probe,
                        &report.warnings,
                    );
                    render_table(&report)
                }
                format => {
                    registry_auth::print_warnings_for_machine(&report.warnings);
                    output::to_machine_text(&report, format)?
                }
            };
            output::print(&text)?;
            Ok(Outcome::Clean)
        }
        Err(stop) => {
            registry_auth::print_warnings_for_machine(&credentials.warnings);
            finish(stop, &image, &opened)
        }
    }
}

enum Inspected {
    Raw(Vec<u8>),
    Report(Box<InspectReport>),
}

async fn inspect(
    client: &RegistryClient,
    image: &ImageRef,
    opened: &Opened,
    wanted: Option<&Platform>,
    raw: bool,
) -> Result<Inspected, Stop> {
    let session = &opened.session;
    let top = client.manifest(session, image.manifest_reference()).await?;
    let body = parse_body(&top)?;
    let media_type = media_type_of(&top, &body);
    let mut warnings = Vec::new();
    let mut report = InspectReport {
        image: image.to_string(),
        registry: image.registry.clone(),
        repository: image.repository.clone(),
        credential_source: opened.source.clone(),
        auth: session.auth.clone(),
        digest: top.digest.clone(),
        media_type: media_type.clone(),
        manifest_size: top.bytes.len(),
        platforms: Vec::new(),
        images: Vec::new(),
        zot: opened.probe.zot.clone(),
        warnings: Vec::new(),
    };
    if let Some(warning) = registry_auth::docker_media_type_warning(&opened.probe, &media_type) {
        warnings.push(warning);
    }

    match &body.manifests {
        Some(manifests) => {
            for descriptor in manifests {
                report.platforms.push(PlatformEntry {
                    platform: descriptor
                        .platform
                        .as_ref()
                        .map(|p| p.to_platform().to_string())
                        .unwrap_or_else(|| "unknown".to_string()),
                    digest: descriptor.digest.clone(),
                    media_type: descriptor.media_type.clone(),
                    size: descriptor.size,
                });
            }
            let chosen: Vec<&Descriptor> = match wanted {
                Some(wanted) => vec![choose(manifests, wanted, image)?],
                None => manifests
                    .iter()
                    .filter(|d| {
                        // Build attestations sit in indexes as unknown/unknown; they are no image.
                        d.platform.as_ref().is_some_and(|p| p.os != "unknown")
                    })
                    .collect(),
            };
            if raw {
                if wanted.is_none() {
                    return Ok(Inspected::Raw(top.bytes));
                }
                let child = client.manifest(session, &chosen[0].digest).await?;
                return Ok(Inspected::Raw(child.bytes));
            }
            for descriptor in chosen {
                let child = client.manifest(session, &descriptor.digest).await?;
                let platform = descriptor
                    .platform
                    .as_ref()
                    .map(|p| p.to_platform().to_string());
                report
                    .images
                    .push(describe_image(client, opened, &child, platform).await?);
            }
        }
        None => {
            if raw && wanted.is_none() {
                return Ok(Inspected::Raw(top.bytes));
            }
            let detail = describe_image(client, opened, &top, None).await?;
            if let Some(wanted) = wanted {
                let actual = Platform::parse(&detail.platform).ok();
                if !actual.as_ref().is_some_and(|p| wanted.accepts(p)) {
                    return Err(Stop::NoPlatform(format!(
                        "{image} is a single {} image, not {wanted}",
                        detail.platform
                    )));
                }
            }
            if raw {
                return Ok(Inspected::Raw(top.bytes));
            }
            report.images.push(detail);
        }
    }
    report.warnings = warnings;
    Ok(Inspected::Report(Box::new(report)))
}

/// Reads one image manifest's config and lists its layers.
async fn describe_image(
    client: &RegistryClient,
    opened: &Opened,
    manifest: &FetchedManifest,
    index_platform: Option<String>,
) -> Result<ImageDetail, Stop> {
    let body = parse_body(manifest)?;
    let media_type = media_type_of(manifest, &body);
    let layers: Vec<LayerEntry> = body
        .layers
        .unwrap_or_default()
        .into_iter()
        .map(|layer| LayerEntry {
            digest: layer.digest,
            media_type: layer.media_type,
            size: layer.size.unwrap_or(0),
        })
        .collect();
    let mut total_size: u64 = layers.iter().map(|layer| layer.size).sum();
    let mut config = None;
    let mut artifact_type = None;
    if let Some(descriptor) = &body.config {
        total_size += descriptor.size.unwrap_or(0);
        if IMAGE_CONFIG_MEDIA_TYPES.contains(&descriptor.media_type.as_str()) {
            let value = client
                .blob_json(&opened.session, &descriptor.digest)
                .await?;
            let parsed: ImageConfig = serde_json::from_value(value).unwrap_or_default();
            config = Some(summarise_config(&descriptor.digest, parsed));
        } else {
            artifact_type = Some(descriptor.media_type.clone());
        }
    }
    let platform = index_platform.unwrap_or_else(|| match &config {
        Some(config) if !config.os.is_empty() => {
            Platform::new(&config.os, &config.architecture, config.variant.as_deref()).to_string()
        }
        _ => "unknown".to_string(),
    });
    Ok(ImageDetail {
        platform,
        digest: manifest.digest.clone(),
        media_type,
        config,
        artifact_type,
        layers,
        total_size,
    })
}

fn summarise_config(digest: &str, parsed: ImageConfig) -> ConfigSummary {
    let runtime = parsed.config.unwrap_or_default();
    ConfigSummary {
        digest: digest.to_string(),
        created: parsed.created,
        os: parsed.os,
        architecture: parsed.architecture,
        variant: parsed.variant.filter(|v| !v.is_empty()),
        entrypoint: runtime.entrypoint.unwrap_or_default(),
        cmd: runtime.cmd.unwrap_or_default(),
        env_names: runtime
            .env
            .unwrap_or_default()
            .iter()
            .map(|entry| entry.split('=').next().unwrap_or(entry).to_string())
            .collect(),
        labels: runtime.labels.unwrap_or_default(),
        user: runtime.user.filter(|v| !v.is_empty()),
        working_dir: runtime.working_dir.filter(|v| !v.is_empty()),
    }
}

fn render_table(report: &InspectReport) -> String {
    let clean = |text: &str| output::sanitize(text);
    let mut text = String::new();
    text.push_str(&format!("image:       {}\n", clean(&report.image)));
    text.push_str(&format!("digest:      {}\n", clean(&report.digest)));
    text.push_str(&format!("media type:  {}\n", clean(&report.media_type)));
    if !report.platforms.is_empty() {
        text.push_str("platforms:\n");
        for entry in &report.platforms {
            text.push_str(&format!(
                "  {:<16} {}\n",
                clean(&entry.platform),
                clean(&entry.digest)
            ));
        }
    }
    for detail in &report.images {
        text.push('\n');
        text.push_str(&format!(
            "{}  {}\n",
            clean(&detail.platform),
            clean(&detail.digest)
        ));
        text.push_str(&format!("  media type:  {}\n", clean(&detail.media_type)));
        if let Some(artifact) = &detail.artifact_type {
            text.push_str(&format!("  artifact:    {}\n", clean(artifact)));
        }
        if let Some(config) = &detail.config {
            if let Some(created) = &config.created {
                text.push_str(&format!("  created:     {}\n", clean(created)));
            }
            if !config.entrypoint.is_empty() {
                text.push_str(&format!(
                    "  entrypoint:  {}\n",
                    clean(&format!("{:?}", config.entrypoint))
                ));
            }
            if !config.cmd.is_empty() {
                text.push_str(&format!(
                    "  cmd:         {}\n",
                    clean(&format!("{:?}", config.cmd))
                ));
            }
            if !config.env_names.is_empty() {
                text.push_str(&format!(
                    "  env:         {}\n",
                    clean(&config.env_names.join(", "))
                ));
            }
            for (key, value) in &config.labels {
                text.push_str(&format!("  label:       {}={}\n", clean(key), clean(value)));
            }
        }
        text.push_str("  layers:\n");
        for layer in &detail.layers {
            text.push_str(&format!(
                "    {}  {:>10}  {}\n",
                clean(&layer.digest),
                layer.size,
                clean(&layer.media_type)
            ));
        }
        text.push_str(&format!("  total size:  {} bytes\n", detail.total_size));
    }
    text
}

pub async fn run_digest(global: &GlobalArgs, args: &DigestArgs) -> anyhow::Result<Outcome> {
    let image = ImageRef::parse(&args.image)?;
    let wanted = parse_platform(args.platform.as_deref())?;
    let client = registry_client(global)?;
    let what = format!("image {image}");
    let (opened, credentials) =
        match registry_auth::connect_registry(global, &args.credentials, &client, &image, &what)
            .await?
        {
            Ok(pair) => pair,
            Err(outcome) => return outcome,
        };
    registry_auth::print_warnings_for_machine(&credentials.warnings);
    eprintln!("credentials: {}", output::sanitize(&opened.source));
    match resolve_digest(&client, &image, &opened, wanted.as_ref()).await {
        Ok(digest) => {
            output::print(&format!("{digest}\n"))?;
            Ok(Outcome::Clean)
        }
        Err(stop) => finish(stop, &image, &opened),
    }
}

/// Resolves the digest of `image`: one HEAD without --platform, as `crane digest` does.
async fn resolve_digest(
    client: &RegistryClient,
    image: &ImageRef,
    opened: &Opened,
    wanted: Option<&Platform>,
) -> Result<String, Stop> {
    let session = &opened.session;
    let Some(wanted) = wanted else {
        return Ok(client
            .manifest_digest(session, image.manifest_reference())
            .await?);
    };
    let top = client.manifest(session, image.manifest_reference()).await?;
    let body = parse_body(&top)?;
    match &body.manifests {
        Some(manifests) => Ok(choose(manifests, wanted, image)?.digest.clone()),
        None => {
            let detail = describe_image(client, opened, &top, None).await?;
            let actual = Platform::parse(&detail.platform).ok();
            if actual.as_ref().is_some_and(|p| wanted.accepts(p)) {
                Ok(top.digest)
            } else {
                Err(Stop::NoPlatform(format!(
                    "{image} is a single {} image, not {wanted}",
                    detail.platform
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_keeps_env_names_only() {
        let parsed: ImageConfig = serde_json::from_str(
            r#"{"os":"linux","architecture":"amd64","config":{"Env":["PATH=/bin","TOKEN=s3cret"],"Cmd":["run"]}}"#,
        )
        .unwrap();
        let summary = summarise_config("sha256:00", parsed);
        assert_eq!(summary.env_names, ["PATH", "TOKEN"]);
        assert_eq!(summary.cmd, ["run"]);
        let json = serde_json::to_string(&summary).unwrap();
        assert!(!json.contains("s3cret"), "{json}");
    }

    #[test]
    fn choose_reports_available_platforms() {
        let manifests: Vec<Descriptor> = serde_json::from_str(
            r#"[{"mediaType":"m","digest":"sha256:aa","platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]"#,
        )
        .unwrap();
        let image = ImageRef::parse("r.example.test/a:b").unwrap();
        let wanted = Platform::parse("linux/amd64").unwrap();
        match choose(&manifests, &wanted, &image) {
            Err(Stop::NoPlatform(message)) => assert!(message.contains("linux/arm64/v8")),
            _ => panic!("expected NoPlatform"),
        }
        let arm = Platform::parse("linux/arm64").unwrap();
        assert!(choose(&manifests, &arm, &image).is_ok());
    }
}
