//! `kubectl zot tags`: every tag of a repository, with the cluster's pull secret by default.

use std::cmp::Ordering;
use std::collections::HashSet;

use anyhow::bail;
use clap::Args;
use futures::stream::{self, StreamExt};
use serde::Serialize;

use super::registry_auth::{self, CredentialArgs};
use crate::app::{Outcome, registry_client};
use crate::cli::{GlobalArgs, OutputFormat};
use crate::output;
use crate::registry::check::is_signature_tag;
use crate::registry::client::{RegistryClient, Session, read_limited};
use crate::registry::error::Failure;
use crate::registry::zot::{self, TagSummary};
use crate::registry::{ImageRef, client::ZotInfo};

/// Default tags asked for per `tags/list` request (`n`).
const PAGE_SIZE: u16 = 1000;
/// `tags/list` pages read at most.
const MAX_PAGES: usize = 1000;
/// Manifest requests in flight at once for `--digests` on registries without search.
const CONCURRENT_MANIFESTS: usize = 8;

#[derive(Debug, Args)]
pub struct TagsArgs {
    /// Repository, e.g. zot.example.com/team/app, or team/app with --registry.
    #[arg(value_name = "REPOSITORY")]
    pub repository: String,

    /// Registry host (HOST[:PORT]) of a REPOSITORY given without one.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub registry: Option<String>,

    /// Add each tag's digest, media type and, where the registry offers them, size and push time.
    #[arg(long)]
    pub digests: bool,

    /// Also list signature, attestation and SBOM tags (sha256-*.sig, .att, .sbom).
    #[arg(long)]
    pub all: bool,

    /// Tags asked for per tags/list request (the `n` parameter); registries may ignore it.
    #[arg(long, value_name = "N", default_value_t = PAGE_SIZE, value_parser = clap::value_parser!(u16).range(1..))]
    pub page_size: u16,

    #[command(flatten)]
    pub credentials: CredentialArgs,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// The JSON and YAML output of `tags`.
#[derive(Debug, Serialize)]
pub struct TagsReport {
    pub registry: String,
    pub repository: String,
    pub credential_source: String,
    /// Authentication of the registry session, e.g. `basic, user "puller"`.
    pub auth: String,
    /// Tags in natural order (v1.2 before v1.10).
    pub tags: Vec<String>,
    /// Signature, attestation and SBOM tags left out (0 with --all).
    pub hidden: usize,
    /// One entry per tag with --digests, in the order of `tags`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digests: Option<Vec<TagSummary>>,
    /// `zot-search` or `distribution` with --digests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digests_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zot: Option<ZotInfo>,
    pub warnings: Vec<String>,
}

pub async fn run(global: &GlobalArgs, args: &TagsArgs) -> anyhow::Result<Outcome> {
    let image = parse_repository(&args.repository, args.registry.as_deref())?;
    let client = registry_client(global)?;
    let what = format!("repository {}", image.repository);
    let (opened, credentials) =
        match registry_auth::connect_registry(global, &args.credentials, &client, &image, &what)
            .await?
        {
            Ok(pair) => pair,
            Err(outcome) => return outcome,
        };
    let session = &opened.session;
    let mut warnings = credentials.warnings.clone();

    let all_tags = match list_tags(&client, session, usize::from(args.page_size)).await {
        Ok(tags) => tags,
        Err(failure) => {
            registry_auth::print_warnings_for_machine(&warnings);
            let report = registry_auth::describe_failure(&failure, &image, &what, &opened.source);
            return registry_auth::finish_with_failure(&report);
        }
    };
    let mut tags: Vec<String> = all_tags
        .iter()
        .filter(|tag| args.all || !is_signature_tag(tag))
        .cloned()
        .collect();
    let hidden = all_tags.len() - tags.len();
    tags.sort_by(|a, b| natural_cmp(a, b));

    let (digests, digests_from) = if args.digests {
        let (summaries, from) = tag_details(
            &client,
            session,
            opened.probe.zot.is_some(),
            &tags,
            &mut warnings,
        )
        .await;
        for summary in &summaries {
            if let Some(warning) =
                registry_auth::docker_media_type_warning(&opened.probe, &summary.media_type)
            {
                warnings.push(format!("{}: {warning}", summary.tag));
                break;
            }
        }
        (Some(summaries), Some(from.to_string()))
    } else {
        (None, None)
    };

    let report = TagsReport {
        registry: image.registry.clone(),
        repository: image.repository.clone(),
        credential_source: opened.source.clone(),
        auth: session.auth.clone(),
        tags,
        hidden,
        digests,
        digests_from,
        zot: opened.probe.zot.clone(),
        warnings,
    };
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

/// Splits REPOSITORY (with or without `--registry`) into registry and repository.
fn parse_repository(text: &str, registry: Option<&str>) -> anyhow::Result<ImageRef> {
    let last = text.rsplit('/').next().unwrap_or(text);
    if text.contains('@') || last.contains(':') {
        bail!("REPOSITORY {text:?} takes no tag or digest: pass only the repository name");
    }
    let full = match registry {
        Some(host) => {
            if host.is_empty() || host.contains('/') {
                bail!("--registry {host:?}: expected HOST or HOST:PORT");
            }
            let first = text.split('/').next().unwrap_or(text);
            if text.contains('/')
                && (first.contains('.') || first.contains(':') || first == "localhost")
            {
                bail!("REPOSITORY {text:?} already names a registry; drop --registry or the host");
            }
            format!("{host}/{text}")
        }
        None => text.to_string(),
    };
    Ok(ImageRef::parse(&full)?)
}

/// Lists every tag, following `Link` headers and, when a registry pages with `n` but sends
/// no `Link`, asking for the next page with `last`. Duplicates are dropped. The `last`
/// paging stops at a page that adds no tag, so a registry that ignores `last` and repeats
/// its tags still ends the loop.
pub async fn list_tags(
    client: &RegistryClient,
    session: &Session,
    page_size: usize,
) -> Result<Vec<String>, Failure> {
    let mut tags = Vec::new();
    let mut seen = HashSet::new();
    let base = format!("{}/tags/list", session.repository);
    let first = session.url(&format!("{base}?n={page_size}"))?;
    // Link targets already read, so that a Link pointing back cannot loop.
    let mut visited = HashSet::from([first.to_string()]);
    let mut next = Some(first);
    let mut pages = 0;
    while let Some(url) = next.take() {
        pages += 1;
        if pages > MAX_PAGES {
            return Err(Failure::Invalid {
                detail: format!("{} sent more than {MAX_PAGES} pages of tags", session.host),
            });
        }
        client
            .counts
            .tags
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let response = client.get_url(session, url.clone(), None).await?;
        if !response.status().is_success() {
            return Err(Failure::from_response(response, "tags/list").await);
        }
        let link = response
            .headers()
            .get(reqwest::header::LINK)
            .and_then(|v| v.to_str().ok())
            .and_then(crate::registry::challenge::parse_next_link);
        let body = read_limited(response, 8 * 1024 * 1024).await?;
        #[derive(serde::Deserialize)]
        struct TagList {
            tags: Option<Vec<String>>,
        }
        let page: TagList = serde_json::from_slice(&body).map_err(|err| Failure::Invalid {
            detail: format!(
                "tags/list of {} is not valid JSON: {err}",
                session.repository
            ),
        })?;
        let page_tags = page.tags.unwrap_or_default();
        let received = page_tags.len();
        let mut added = 0;
        for tag in page_tags {
            if seen.insert(tag.clone()) {
                tags.push(tag);
                added += 1;
            }
        }
        if let Some(link) = link {
            let target = url.join(&link).map_err(|err| Failure::Invalid {
                detail: format!("invalid Link header {link:?}: {err}"),
            })?;
            // get_url rejects other hosts, so log and stop here instead of failing the listing.
            if target.host_str() != url.host_str()
                || target.port_or_known_default() != url.port_or_known_default()
                || target.scheme() != url.scheme()
            {
                tracing::warn!(link = %target, "ignoring a tags/list Link to another host");
            } else if !visited.insert(target.to_string()) {
                tracing::warn!(link = %target, "ignoring a tags/list Link to a page already read");
            } else {
                next = Some(target);
            }
        } else if received == page_size
            && added > 0
            && let Some(last) = tags.last()
        {
            let mut target = session.url(&base)?;
            target
                .query_pairs_mut()
                .append_pair("n", &page_size.to_string())
                .append_pair("last", last);
            next = Some(target);
        }
    }
    Ok(tags)
}

/// Digest, media type and, where offered, size and push time of each of `tags`: from Zot's
/// search extension in one request per page when `is_zot`, else one manifest GET per tag.
async fn tag_details(
    client: &RegistryClient,
    session: &Session,
    is_zot: bool,
    tags: &[String],
    warnings: &mut Vec<String>,
) -> (Vec<TagSummary>, &'static str) {
    if is_zot {
        match zot::image_list(client, session).await {
            Ok(found) => {
                let mut ordered = Vec::new();
                let mut missing = Vec::new();
                for tag in tags {
                    match found.iter().find(|summary| &summary.tag == tag) {
                        Some(summary) => ordered.push(summary.clone()),
                        None => missing.push(tag.clone()),
                    }
                }
                if missing.is_empty() {
                    return (ordered, "zot-search");
                }
                warnings.push(format!(
                    "Zot's search extension lacks {} of the tags; asking the manifests instead",
                    missing.len()
                ));
            }
            Err(failure) => warnings.push(format!(
                "Zot's search extension failed ({failure}); asking the manifests instead"
            )),
        }
    }
    let results: Vec<(String, Result<TagSummary, Failure>)> = stream::iter(tags.iter().cloned())
        .map(|tag| async move {
            let result = client
                .manifest(session, &tag)
                .await
                .map(|manifest| TagSummary {
                    tag: tag.clone(),
                    digest: manifest.digest,
                    media_type: manifest.media_type,
                    size: None,
                    pushed: None,
                    platforms: manifest_platforms(&manifest.bytes),
                });
            (tag, result)
        })
        .buffered(CONCURRENT_MANIFESTS)
        .collect()
        .await;
    let mut summaries = Vec::new();
    for (tag, result) in results {
        match result {
            Ok(summary) => summaries.push(summary),
            Err(failure) => warnings.push(format!("{tag}: cannot read the manifest: {failure}")),
        }
    }
    (summaries, "distribution")
}

/// Platforms an index lists, as `os/arch[/variant]`; empty for a single manifest.
fn manifest_platforms(bytes: &[u8]) -> Vec<String> {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Vec::new();
    };
    value
        .get("manifests")
        .and_then(|m| m.as_array())
        .map(|manifests| {
            manifests
                .iter()
                .filter_map(|m| {
                    let platform = m.get("platform")?;
                    let os = platform.get("os")?.as_str()?;
                    let arch = platform.get("architecture")?.as_str()?;
                    Some(match platform.get("variant").and_then(|v| v.as_str()) {
                        Some(variant) if !variant.is_empty() => format!("{os}/{arch}/{variant}"),
                        _ => format!("{os}/{arch}"),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn render_table(report: &TagsReport) -> String {
    let mut text = String::new();
    match &report.digests {
        None => {
            for tag in &report.tags {
                text.push_str(&output::sanitize(tag));
                text.push('\n');
            }
        }
        Some(summaries) => {
            // Size and push time come only from Zot's search, so other registries get no
            // empty columns.
            let with_size = summaries.iter().any(|s| s.size.is_some());
            let with_pushed = summaries.iter().any(|s| s.pushed.is_some());
            let mut table = comfy_table::Table::new();
            table.load_style(comfy_table::presets::NOTHING);
            let mut header = vec!["TAG", "DIGEST", "MEDIA TYPE"];
            if with_size {
                header.push("SIZE");
            }
            if with_pushed {
                header.push("PUSHED");
            }
            table.set_header(header);
            for summary in summaries {
                let mut row = vec![
                    output::sanitize(&summary.tag),
                    summary.digest.clone(),
                    output::sanitize(&summary.media_type),
                ];
                if with_size {
                    row.push(summary.size.map(|s| s.to_string()).unwrap_or_default());
                }
                if with_pushed {
                    row.push(output::sanitize(
                        &summary.pushed.clone().unwrap_or_default(),
                    ));
                }
                table.add_row(row);
            }
            text.push_str(&table.to_string());
            text.push('\n');
        }
    }
    if report.hidden > 0 {
        // On stderr, so that stdout holds only tags for scripts.
        eprintln!(
            "signature, attestation and SBOM tags hidden: {}; --all lists them",
            report.hidden
        );
    }
    text
}

/// Compares tags as people read versions: digit runs by value, so v1.2 < v1.10.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let mut left = a.chars().peekable();
    let mut right = b.chars().peekable();
    loop {
        match (left.peek().copied(), right.peek().copied()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let take_digits = |chars: &mut std::iter::Peekable<std::str::Chars>| {
                    let mut digits = String::new();
                    while let Some(c) = chars.peek().copied().filter(char::is_ascii_digit) {
                        digits.push(c);
                        chars.next();
                    }
                    digits
                };
                let x_digits = take_digits(&mut left);
                let y_digits = take_digits(&mut right);
                let x_trimmed = x_digits.trim_start_matches('0');
                let y_trimmed = y_digits.trim_start_matches('0');
                let order = x_trimmed
                    .len()
                    .cmp(&y_trimmed.len())
                    .then_with(|| x_trimmed.cmp(y_trimmed));
                if order != Ordering::Equal {
                    return order;
                }
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                left.next();
                right.next();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_compares_numbers_by_value() {
        let mut tags = vec![
            "v1.10", "v1.2", "latest", "v1.9.1", "v10.0", "v2.0", "t010", "t9",
        ];
        tags.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            tags,
            [
                "latest", "t9", "t010", "v1.2", "v1.9.1", "v1.10", "v2.0", "v10.0"
            ]
        );
    }

    #[test]
    fn natural_order_is_total_on_leading_zeros() {
        assert_eq!(natural_cmp("t01", "t1"), "t01".cmp("t1"));
        assert_ne!(natural_cmp("t01", "t1"), Ordering::Equal);
    }

    #[test]
    fn repository_with_registry_flag() {
        let image = parse_repository("openclaw/openclaw", Some("127.0.0.1:5000")).unwrap();
        assert_eq!(image.registry, "127.0.0.1:5000");
        assert_eq!(image.repository, "openclaw/openclaw");
    }

    #[test]
    fn repository_rejects_tags_and_double_hosts() {
        assert!(parse_repository("127.0.0.1:5000/a/b:v1", None).is_err());
        assert!(parse_repository("127.0.0.1:5000/a/b@sha256:00", None).is_err());
        assert!(parse_repository("r.example.test/a", Some("127.0.0.1:5000")).is_err());
    }

    #[test]
    fn index_platforms_are_listed() {
        let index = br#"{"manifests":[{"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},{"platform":{"os":"linux","architecture":"amd64"}}]}"#;
        assert_eq!(manifest_platforms(index), ["linux/arm64/v8", "linux/amd64"]);
        assert!(manifest_platforms(br#"{"layers":[]}"#).is_empty());
    }
}
