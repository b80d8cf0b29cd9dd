//! Client for Zot's search extension (`GET /v2/_zot/ext/search?query=...`), a GraphQL API.
//!
//! `ImageList(repo)` returns every tag of a repository with its digest, media type, size
//! and push time in one request per page, where the plain distribution API needs one
//! manifest request per tag. Field names follow Zot's schema (`pkg/extensions/search/
//! schema.graphql`): `PaginatedImagesResult { Page { TotalCount ItemCount } Results
//! [ImageSummary] }`, `ImageSummary { Tag Digest MediaType Size LastUpdated Manifests }`.
//! `Size` is a string there because GraphQL's Int has 32 bits.

use serde::{Deserialize, Serialize};

use super::client::{RegistryClient, Session, read_limited};
use super::error::Failure;

/// Tags asked for per search request.
pub const PAGE_SIZE: usize = 500;
/// Largest search response read.
const MAX_RESPONSE_BYTES: usize = 16 * 1024 * 1024;
/// Pages read at most, so that a registry whose `TotalCount` never drops cannot loop.
const MAX_PAGES: usize = 1000;

/// One tag as the search extension describes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TagSummary {
    pub tag: String,
    pub digest: String,
    pub media_type: String,
    /// Total size in bytes of the manifest, config and layers, as Zot counts it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// When the tag was last pushed (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed: Option<String>,
    /// Platforms of the image, as `os/arch[/variant]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
}

/// One page of `ImageList`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageListPage {
    pub tags: Vec<TagSummary>,
    /// `Page.TotalCount`: tags in the repository, across pages.
    pub total: Option<usize>,
}

/// Builds the `ImageList` query for `repository`, `limit` results from `offset`.
pub fn image_list_query(repository: &str, limit: usize, offset: usize) -> String {
    // A JSON string literal is a valid GraphQL string literal for these characters.
    let repo = serde_json::to_string(repository).expect("a string always serializes");
    format!(
        "{{ImageList(repo: {repo}, requestedPage: {{limit: {limit}, offset: {offset}, \
         sortBy: ALPHABETIC_ASC}}) {{Page {{TotalCount ItemCount}} Results {{RepoName Tag \
         Digest MediaType Size LastUpdated Manifests {{Digest Size Platform {{Os Arch}}}}}}}}}}"
    )
}

#[derive(Deserialize)]
struct Response {
    #[serde(default)]
    data: Option<Data>,
    #[serde(default)]
    errors: Vec<GraphqlError>,
}

#[derive(Deserialize)]
struct GraphqlError {
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "ImageList")]
    image_list: Option<PaginatedImages>,
}

#[derive(Deserialize)]
struct PaginatedImages {
    #[serde(rename = "Page", default)]
    page: Option<PageInfo>,
    #[serde(rename = "Results", default)]
    results: Vec<ImageSummary>,
}

#[derive(Deserialize)]
struct PageInfo {
    #[serde(rename = "TotalCount")]
    total_count: Option<i64>,
}

#[derive(Deserialize)]
struct ImageSummary {
    #[serde(rename = "Tag", default)]
    tag: Option<String>,
    #[serde(rename = "Digest", default)]
    digest: Option<String>,
    #[serde(rename = "MediaType", default)]
    media_type: Option<String>,
    #[serde(rename = "Size", default)]
    size: Option<String>,
    #[serde(rename = "LastUpdated", default)]
    last_updated: Option<String>,
    #[serde(rename = "Manifests", default)]
    manifests: Option<Vec<ManifestSummary>>,
}

#[derive(Deserialize)]
struct ManifestSummary {
    #[serde(rename = "Platform", default)]
    platform: Option<OsArch>,
}

#[derive(Deserialize)]
struct OsArch {
    #[serde(rename = "Os", default)]
    os: Option<String>,
    #[serde(rename = "Arch", default)]
    arch: Option<String>,
    #[serde(rename = "Variant", default)]
    variant: Option<String>,
}

/// Parses one `ImageList` response body. GraphQL errors become `Err` with their messages.
pub fn parse_image_list(body: &[u8]) -> Result<ImageListPage, String> {
    let response: Response = serde_json::from_slice(body)
        .map_err(|err| format!("the search response is not valid JSON: {err}"))?;
    if !response.errors.is_empty() {
        let messages: Vec<String> = response.errors.into_iter().map(|e| e.message).collect();
        return Err(format!(
            "the search extension returned errors: {}",
            messages.join("; ")
        ));
    }
    let list = response
        .data
        .and_then(|data| data.image_list)
        .ok_or_else(|| "the search response has no data.ImageList".to_string())?;
    let mut tags = Vec::new();
    for image in list.results {
        let (Some(tag), Some(digest)) = (image.tag, image.digest) else {
            continue;
        };
        let platforms = image
            .manifests
            .unwrap_or_default()
            .into_iter()
            .filter_map(|manifest| {
                let platform = manifest.platform?;
                let os = platform.os.filter(|v| !v.is_empty())?;
                let arch = platform.arch.filter(|v| !v.is_empty())?;
                Some(match platform.variant.filter(|v| !v.is_empty()) {
                    Some(variant) => format!("{os}/{arch}/{variant}"),
                    None => format!("{os}/{arch}"),
                })
            })
            .collect();
        tags.push(TagSummary {
            tag,
            digest,
            media_type: image.media_type.unwrap_or_default(),
            size: image.size.and_then(|size| size.trim().parse().ok()),
            pushed: image.last_updated.filter(|time| !time.is_empty()),
            platforms,
        });
    }
    let total = list
        .page
        .and_then(|page| page.total_count)
        .and_then(|count| usize::try_from(count).ok());
    Ok(ImageListPage { tags, total })
}

/// Lists every tag of the session's repository through `ImageList`, page by page.
pub async fn image_list(
    client: &RegistryClient,
    session: &Session,
) -> Result<Vec<TagSummary>, Failure> {
    let mut tags: Vec<TagSummary> = Vec::new();
    for page_number in 0..MAX_PAGES {
        let offset = page_number * PAGE_SIZE;
        let mut url = session.url("_zot/ext/search")?;
        url.query_pairs_mut().append_pair(
            "query",
            &image_list_query(&session.repository, PAGE_SIZE, offset),
        );
        client
            .counts
            .other
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let response = client
            .get_url(session, url, Some("application/json"))
            .await?;
        if !response.status().is_success() {
            return Err(Failure::from_response(response, "_zot/ext/search").await);
        }
        let body = read_limited(response, MAX_RESPONSE_BYTES).await?;
        let page = parse_image_list(&body).map_err(|detail| Failure::Invalid { detail })?;
        let received = page.tags.len();
        for summary in page.tags {
            if !tags.iter().any(|known| known.tag == summary.tag) {
                tags.push(summary);
            }
        }
        let done = match page.total {
            Some(total) => offset + received >= total,
            None => received < PAGE_SIZE,
        };
        if done || received == 0 {
            return Ok(tags);
        }
    }
    Err(Failure::Invalid {
        detail: format!(
            "{} returned more than {MAX_PAGES} pages of search results",
            session.host
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = include_str!("../../tests/data/zot/imagelist-openclaw.json");
    const ERRORS: &str = include_str!("../../tests/data/zot/imagelist-error.json");

    #[test]
    fn query_names_the_repository_and_page() {
        let query = image_list_query("openclaw/openclaw", 500, 1000);
        assert!(
            query.starts_with("{ImageList(repo: \"openclaw/openclaw\""),
            "{query}"
        );
        assert!(query.contains("limit: 500, offset: 1000"), "{query}");
        assert!(query.contains("LastUpdated"), "{query}");
    }

    #[test]
    fn query_escapes_quotes() {
        let query = image_list_query("a\"b", 1, 0);
        assert!(query.contains(r#"repo: "a\"b""#), "{query}");
    }

    #[test]
    fn recorded_page_parses() {
        let page = parse_image_list(PAGE.as_bytes()).unwrap();
        assert_eq!(page.total, Some(3));
        assert_eq!(page.tags.len(), 3);
        let latest = page.tags.iter().find(|t| t.tag == "latest").unwrap();
        assert_eq!(latest.media_type, "application/vnd.oci.image.index.v1+json");
        assert!(latest.digest.starts_with("sha256:"));
        assert_eq!(latest.size, Some(1742));
        assert_eq!(latest.pushed.as_deref(), Some("2026-11-30T09:12:44.512Z"));
        assert_eq!(latest.platforms, ["linux/amd64", "linux/arm64"]);
        let docker = page.tags.iter().find(|t| t.tag == "v1.0.0").unwrap();
        assert_eq!(
            docker.media_type,
            "application/vnd.docker.distribution.manifest.v2+json"
        );
    }

    #[test]
    fn graphql_errors_are_reported() {
        let error = parse_image_list(ERRORS.as_bytes()).unwrap_err();
        assert!(error.contains("repository: not found"), "{error}");
    }

    #[test]
    fn invalid_json_is_an_error() {
        assert!(parse_image_list(b"<html>").is_err());
        assert!(parse_image_list(b"{\"data\":{}}").is_err());
    }
}
