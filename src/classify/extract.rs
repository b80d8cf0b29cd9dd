//! Pulls the image reference, registry host and HTTP statuses out of an
//! error text.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

/// The host Docker gives images whose name has no registry host.
const DOCKER_HUB: &str = "docker.io";
/// The old name of Docker Hub that Docker rewrites to [`DOCKER_HUB`].
const DOCKER_HUB_LEGACY: &str = "index.docker.io";

/// An HTTP status code named in the text, and where.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct HttpStatus {
    pub code: u16,
    pub span: Range<usize>,
}

/// Phrases that name a registry's HTTP status, each with the code in group
/// `code`. Docker's "API error (500)" is left out on purpose: that status
/// belongs to the Docker Engine API, not to the registry.
static STATUS_PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"\b(?P<code>[1-5]\d\d) (?:Unauthorized|Forbidden|Not Found|Too Many Requests|Bad Request|Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout|Method Not Allowed|Request Timeout|Unsupported Media Type|Proxy Authentication Required|Conflict)\b",
        r"\b(?P<code>[1-5]\d\d) \((?:Unauthorized|Forbidden|Not Found|Too Many Requests|Bad Request|Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout)\)",
        r"\b(?:status|status code|statusCode|invalid status code from registry)[:= ]+(?P<code>[1-5]\d\d)\b",
        r"\berror parsing HTTP (?P<code>[1-5]\d\d) response body",
        r"\brequest to \S+: (?P<code>[1-5]\d\d)\b",
        r"\bHTTP (?:status )?(?P<code>[1-5]\d\d)\b",
    ]
    .iter()
    .map(|p| compile(p))
    .collect()
});

/// Phrases that name the image being pulled, in order of trust: the kubelet
/// quotes the reference as the pod spec wrote it, runtimes often print the
/// normalised form.
static IMAGE_PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r#"Failed to pull image "(?P<image>[^"]+)""#,
        r#"Back-off pulling image "(?P<image>[^"]+)""#,
        r#"Container image "(?P<image>[^"]+)" is not present"#,
        r#"Failed to apply default image tag "(?P<image>[^"]+)""#,
        r#"couldn't parse image (?:reference|name) "(?P<image>[^"]+)""#,
        r#"Pulling image "(?P<image>[^"]+)""#,
        r#"failed to pull and unpack image "(?P<image>[^"]+)""#,
        r#"failed to get sandbox image "(?P<image>[^"]+)""#,
        r#"failed to resolve (?:reference|image):? "(?P<image>[^"]+)""#,
        r#"PullImage "(?P<image>[^"]+)""#,
        r"pull access denied for (?P<image>[^\s,]+),",
        r"manifest for (?P<image>\S+) not found",
        r"initializing source docker://(?P<image>[^\s]+?)(?:: |$)",
        r#"Error parsing image name "docker://(?P<image>[^"]+)""#,
        r"reading manifest (?P<object>\S+) in (?P<repository>[^\s:]+(?::\d+)?[^\s:]*):",
        r"trying to pull repository (?P<image>[^\s;]+?):?\s",
        r"image pull failed for (?P<image>[^\s,]+),",
        r#"\bimage="(?P<image>[^"]+)""#,
        r"\brepository (?P<image>[^\s:]+(?::\d+)?[^\s:]*) not found",
    ]
    .iter()
    .map(|p| compile(p))
    .collect()
});

/// Phrases that name the registry host when the text names no image.
static REGISTRY_PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"pulling from host (?P<host>\S+) failed",
        r"pinging (?:container |docker )?registry (?P<host>[^\s:]+(?::\d+)?)",
        r"error pinging (?P<host>[^\s:]+(?::\d+)?)",
        r#"https?://(?P<host>[^/\s"]+)/v2/"#,
        r"dial tcp: lookup (?P<host>[^\s:]+)",
        r"dial tcp (?P<host>\[[0-9a-f:]+\]:\d+|[^\s:\[]+:\d+): ",
    ]
    .iter()
    .map(|p| compile(p))
    .collect()
});

static MANIFEST_URL: LazyLock<Regex> =
    LazyLock::new(|| compile(r#"/v2/\S+?/manifests/(?P<reference>[^\s"?:]+(?::[0-9a-f]+)?)"#));

static DIGEST: LazyLock<Regex> =
    LazyLock::new(|| compile(r"(?:^|@)[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-f]{32,}$"));

fn compile(pattern: &str) -> Regex {
    Regex::new(&format!("(?i){pattern}"))
        .unwrap_or_else(|err| panic!("invalid extraction pattern {pattern:?}: {err}"))
}

/// Finds every HTTP status the text names, in text order.
pub(super) fn http_statuses(text: &str) -> Vec<HttpStatus> {
    let mut statuses: Vec<HttpStatus> = Vec::new();
    for regex in STATUS_PATTERNS.iter() {
        for captures in regex.captures_iter(text) {
            let (Some(whole), Some(code)) = (captures.get(0), captures.name("code")) else {
                continue;
            };
            let Ok(code) = code.as_str().parse() else {
                continue;
            };
            let span = whole.range();
            if statuses
                .iter()
                .any(|s| s.span.start < span.end && span.start < s.span.end)
            {
                continue;
            }
            statuses.push(HttpStatus { code, span });
        }
    }
    statuses.sort_by_key(|s| s.span.start);
    statuses
}

/// Returns the image reference the text names, as written there.
pub(super) fn image(text: &str) -> Option<String> {
    for regex in IMAGE_PATTERNS.iter() {
        let Some(captures) = regex.captures(text) else {
            continue;
        };
        if let Some(image) = captures.name("image") {
            let image = clean_image(image.as_str());
            if !image.is_empty() {
                return Some(image);
            }
        }
        // containers/image writes "reading manifest latest in quay.io/org/app".
        if let (Some(object), Some(repository)) =
            (captures.name("object"), captures.name("repository"))
        {
            let separator = if is_digest_reference(object.as_str()) {
                "@"
            } else {
                ":"
            };
            return Some(format!(
                "{}{separator}{}",
                repository.as_str(),
                object.as_str()
            ));
        }
    }
    None
}

fn clean_image(image: &str) -> String {
    let image = image.trim();
    let image = image.strip_prefix("docker://").unwrap_or(image);
    image
        .trim_end_matches([',', ';', ':', '.', ')', '\''])
        .to_string()
}

/// Returns the registry host of an image reference, normalised as Docker
/// does. The first path component is a host only if it contains "." or ":",
/// is "localhost", or has uppercase letters. Any other image is on Docker
/// Hub (github.com/distribution/reference, `splitDockerDomain`).
pub(super) fn registry_of_image(image: &str) -> String {
    let Some((first, _)) = image.split_once('/') else {
        return DOCKER_HUB.to_string();
    };
    let is_host = first.contains(['.', ':'])
        || first == "localhost"
        || first.chars().any(|c| c.is_ascii_uppercase());
    if !is_host || first == DOCKER_HUB_LEGACY {
        return DOCKER_HUB.to_string();
    }
    first.to_string()
}

/// Returns the registry host a text names when it names no image: the host
/// of a request, a ping or a failed DNS lookup.
pub(super) fn registry_in_text(text: &str) -> Option<String> {
    REGISTRY_PATTERNS.iter().find_map(|regex| {
        regex
            .captures(text)
            .and_then(|c| c.name("host"))
            .map(|host| host.as_str().trim_end_matches([':', ',']).to_string())
    })
}

/// Returns the tag or digest in the first manifest URL of the text.
pub(super) fn manifest_reference_in_url(text: &str) -> Option<String> {
    MANIFEST_URL
        .captures(text)
        .and_then(|c| c.name("reference"))
        .map(|m| m.as_str().to_string())
}

/// Tells whether a reference, or the object part of one, is a digest such as
/// `repo@sha256:...` or `sha256:...`.
pub(super) fn is_digest_reference(reference: &str) -> bool {
    DIGEST.is_match(reference.trim_end_matches(['"', ':', ',']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_follows_docker_normalisation() {
        let cases = [
            ("busybox", "docker.io"),
            ("user1/aksweb", "docker.io"),
            ("docker.io/library/busybox:latest", "docker.io"),
            ("index.docker.io/library/busybox", "docker.io"),
            ("localhost/app:1", "localhost"),
            ("localhost:5000/app:1", "localhost:5000"),
            ("127.0.0.1:5000/openclaw/openclaw:nope", "127.0.0.1:5000"),
            ("Registry/app", "Registry"),
            ("ghcr.io/org/app@sha256:00", "ghcr.io"),
        ];
        for (image, expected) in cases {
            assert_eq!(registry_of_image(image), expected, "image {image}");
        }
    }

    #[test]
    fn digest_reference_forms() {
        let sha = "0".repeat(64);
        assert!(is_digest_reference(&format!("quay.io/a/b@sha256:{sha}")));
        assert!(is_digest_reference(&format!("sha256:{sha}")));
        assert!(is_digest_reference(&format!(
            "registry.example.test/a/b:2.7.1@sha256:{sha}"
        )));
        assert!(!is_digest_reference("quay.io/a/b:latest"));
        assert!(!is_digest_reference("127.0.0.1:5000/a/b:nope"));
        assert!(!is_digest_reference("busybox"));
    }

    #[test]
    fn statuses_in_text_order() {
        let text = "Get \"https://r.test/v2/\": 503 Service Unavailable; \
                    retried: invalid status code from registry 404 (Not Found)";
        let codes: Vec<u16> = http_statuses(text).iter().map(|s| s.code).collect();
        assert_eq!(codes, vec![503, 404]);
    }

    #[test]
    fn docker_api_error_is_no_registry_status() {
        let text = "API error (500): Get https://r.test:5000/v2/app/manifests/latest: \
                    no basic auth credentials";
        assert_eq!(http_statuses(text), Vec::new());
    }

    #[test]
    fn image_from_containers_image_wording() {
        let sha = "1".repeat(64);
        let text = format!("reading manifest sha256:{sha} in quay.io/okd/scos-content: x");
        assert_eq!(
            image(&text).as_deref(),
            Some(format!("quay.io/okd/scos-content@sha256:{sha}").as_str())
        );
        let text = "Error reading manifest latest in docker.io/crio/busybox: errors:";
        assert_eq!(
            image(text).as_deref(),
            Some("docker.io/crio/busybox:latest")
        );
    }

    #[test]
    fn registry_from_dial_error() {
        let refused = "dial tcp 127.0.0.1:5000: connect: connection refused";
        assert_eq!(registry_in_text(refused).as_deref(), Some("127.0.0.1:5000"));
        let ipv6 = "dial tcp [::1]:5443: i/o timeout";
        assert_eq!(registry_in_text(ipv6).as_deref(), Some("[::1]:5443"));
    }

    #[test]
    fn registry_from_request_url() {
        let text =
            "https://registry.example.test/v2/: x509: certificate signed by unknown authority";
        assert_eq!(
            registry_in_text(text).as_deref(),
            Some("registry.example.test")
        );
    }
}
