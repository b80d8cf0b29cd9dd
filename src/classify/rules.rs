//! The ordered rule table: which phrases point to which cause.
//!
//! Rules are tried in table order and the first match decides the cause, so
//! the most specific evidence comes first. Every other rule that matches a
//! part of the text the earlier matches did not cover adds its cause to the
//! candidates. Wordings come from containerd 1.6 to 2.x (ctr and CRI),
//! CRI-O and podman (containers/image), the Docker daemon, skopeo, crane and
//! the kubelet. The containerd 1.6.20 and skopeo 1.9.3 texts in the test
//! corpus were recorded against a real registry. The other wordings come
//! from the runtimes' source and from public bug reports.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use super::extract::{HttpStatus, is_digest_reference};
use crate::cause::Cause::{self, *};

/// The registry does not tell whether credentials were sent, wrong or
/// lacking rights, and a registry with auth returns the same status for a
/// missing repository.
const CREDENTIALS: &[Cause] = &[
    CredentialsMissing,
    CredentialsRejected,
    AccessDenied,
    SecretNotFound,
    SecretInvalid,
    SecretHostMismatch,
    RepositoryNotFound,
];
/// The client reports that it sent no credentials at all.
const NO_CREDENTIALS_SENT: &[Cause] = &[
    CredentialsMissing,
    SecretNotFound,
    SecretInvalid,
    SecretHostMismatch,
    RepositoryNotFound,
];
/// The registry reports that the username or password is wrong.
const REJECTED: &[Cause] = &[CredentialsRejected, SecretInvalid];
/// containers/image reports any 401 from the token server as "invalid
/// username/password", also when it sent no credentials.
const REJECTED_OR_MISSING: &[Cause] = &[
    CredentialsRejected,
    CredentialsMissing,
    SecretNotFound,
    SecretInvalid,
    SecretHostMismatch,
];
/// The token server rejected the credentials containerd sent.
const TOKEN_REJECTED: &[Cause] = &[CredentialsRejected, SecretInvalid, AccessDenied];
const ACCESS: &[Cause] = &[
    AccessDenied,
    CredentialsMissing,
    CredentialsRejected,
    RepositoryNotFound,
];
/// Docker's and containerd's "pull access denied, repository does not exist
/// or may require authorization".
const PULL_ACCESS_DENIED: &[Cause] = &[
    RepositoryNotFound,
    CredentialsMissing,
    CredentialsRejected,
    AccessDenied,
    SecretNotFound,
    SecretInvalid,
    SecretHostMismatch,
];
/// containerd's bare "not found" for a tag: the tag or the whole repository
/// may be missing.
const RUNTIME_NOT_FOUND: &[Cause] = &[ManifestNotFound, TagNotFound, RepositoryNotFound];
/// "manifest unknown" for a tag: distribution also returns it for a
/// repository that does not exist.
const TAG_NOT_FOUND: &[Cause] = &[TagNotFound, RepositoryNotFound];
const DIGEST_NOT_FOUND: &[Cause] = &[DigestNotFound, RepositoryNotFound];
const SECRET_NOT_FOUND: &[Cause] = &[SecretNotFound, CredentialsMissing];
const SECRET_INVALID: &[Cause] = &[SecretInvalid, SecretNotFound];
const PLATFORM: &[Cause] = &[PlatformNotFound];
const MEDIA_TYPE: &[Cause] = &[UnsupportedMediaType];
const BLOB: &[Cause] = &[BlobNotFound];
const BLOB_OR_NETWORK: &[Cause] = &[BlobNotFound, RegistryUnreachable];
const NETWORK_OR_BLOB: &[Cause] = &[RegistryUnreachable, BlobNotFound];
const REPOSITORY: &[Cause] = &[RepositoryNotFound];
const TLS: &[Cause] = &[TlsError];
const SCHEME: &[Cause] = &[HttpHttpsMismatch];
const DNS: &[Cause] = &[DnsError];
const UNREACHABLE: &[Cause] = &[RegistryUnreachable];
const SERVER_ERROR: &[Cause] = &[RegistryError];
const RATE_LIMIT: &[Cause] = &[RateLimited];
const INVALID_REFERENCE: &[Cause] = &[InvalidReference];
const NOT_PRESENT: &[Cause] = &[ImageNotPresent];
const UNKNOWN: &[Cause] = &[Unknown];

/// Conclusion of a rule. The first cause of each list is the verdict, and the
/// rest are the other causes the phrase is compatible with.
enum Outcome {
    Fixed(&'static [Cause]),
    /// A "not found" whose cause depends on whether the reference is a tag or
    /// a digest. A tag is assumed when the text names neither.
    ByReference {
        tag: &'static [Cause],
        digest: &'static [Cause],
    },
}

enum Matcher {
    /// A case-insensitive regex. A group named `reference` captures the
    /// image reference or manifest reference the phrase is about.
    Pattern(Regex),
    /// Any HTTP status the text names in this inclusive range.
    Status(u16, u16),
}

struct Rule {
    matcher: Matcher,
    outcome: Outcome,
    /// Replaces the matched text as the detail, where that text alone would
    /// be too long or would not explain itself.
    detail: Option<&'static str>,
}

/// One rule that matched, with the text it matched.
pub(super) struct Hit {
    rule: &'static Rule,
    pub span: Range<usize>,
    pub reference: Option<String>,
    pub detail: String,
}

impl Hit {
    /// Returns the causes this hit points to, the verdict first, using
    /// `fallback_reference` when the rule captured no reference itself.
    pub fn outcome(&self, fallback_reference: Option<&str>) -> &'static [Cause] {
        match self.rule.outcome {
            Outcome::Fixed(causes) => causes,
            Outcome::ByReference { tag, digest } => {
                let reference = self.reference.as_deref().or(fallback_reference);
                if reference.is_some_and(is_digest_reference) {
                    digest
                } else {
                    tag
                }
            }
        }
    }
}

/// Finds every rule that matches `text`, in rule order.
pub(super) fn find_hits(text: &str, statuses: &[HttpStatus]) -> Vec<Hit> {
    let mut hits = Vec::new();
    for rule in RULES.iter() {
        if let Some(hit) = rule.find(text, statuses) {
            hits.push(hit);
        }
    }
    hits
}

impl Rule {
    fn find(&'static self, text: &str, statuses: &[HttpStatus]) -> Option<Hit> {
        let (span, matched, reference) = match &self.matcher {
            Matcher::Pattern(regex) => {
                let captures = regex.captures(text)?;
                let whole = captures.get(0)?;
                let reference = captures
                    .name("reference")
                    .map(|m| m.as_str().trim_matches('"').to_string());
                (whole.range(), whole.as_str().to_string(), reference)
            }
            Matcher::Status(low, high) => {
                let status = statuses.iter().find(|s| (*low..=*high).contains(&s.code))?;
                (
                    status.span.clone(),
                    text[status.span.clone()].to_string(),
                    None,
                )
            }
        };
        let detail = self.detail.map_or(matched, str::to_string);
        Some(Hit {
            rule: self,
            span,
            reference,
            detail,
        })
    }
}

fn pattern(regex: &str, causes: &'static [Cause]) -> Rule {
    Rule {
        matcher: Matcher::Pattern(compile(regex)),
        outcome: Outcome::Fixed(causes),
        detail: None,
    }
}

fn status(low: u16, high: u16, causes: &'static [Cause]) -> Rule {
    Rule {
        matcher: Matcher::Status(low, high),
        outcome: Outcome::Fixed(causes),
        detail: None,
    }
}

fn by_reference(regex: &str, tag: &'static [Cause], digest: &'static [Cause]) -> Rule {
    Rule {
        matcher: Matcher::Pattern(compile(regex)),
        outcome: Outcome::ByReference { tag, digest },
        detail: None,
    }
}

fn compile(regex: &str) -> Regex {
    Regex::new(&format!("(?i){regex}"))
        .unwrap_or_else(|err| panic!("invalid classifier pattern {regex:?}: {err}"))
}

impl Rule {
    fn with_detail(mut self, detail: &'static str) -> Rule {
        self.detail = Some(detail);
        self
    }
}

/// An image reference as runtimes print it: an optional host, a path with at
/// least one slash, and a tag or digest.
const IMAGE_REFERENCE: &str = r"[a-z0-9][\w.-]*(?::\d+)?/[\w./-]+(?::\w[\w.-]{0,127}(?:@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64})";

static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        // The pull never reached a registry: policy, local socket, name syntax.
        pattern(
            r"Source image rejected: [^\n]*|signature validation failed",
            UNKNOWN,
        )
            .with_detail("the node's signature policy rejected the image"),
        pattern(r"dial unix [^\s:]+: connect: [^\n]*", UNKNOWN)
            .with_detail("the container runtime's socket did not answer"),
        pattern(
            r"ErrImageNeverPull|is not present with pull policy of Never",
            NOT_PRESENT,
        ),
        pattern(
            r"invalid reference format(?:: repository name must be lowercase)?|couldn't parse image (?:reference|name)|\bInvalidImageName\b|Failed to apply default image tag|repository name must be lowercase|short-name \S+ did not resolve to an alias|short-name resolution enforced",
            INVALID_REFERENCE,
        ),
        // The kubelet could not read the pod's pull secrets.
        pattern(
            r"Unable to retrieve some image pull secrets|Unable to retrieve pull secret|FailedToRetrieveImagePullSecret|\bsecrets? \S+ not found",
            SECRET_NOT_FOUND,
        ),
        pattern(
            r"data\[\.docker(?:configjson|cfg)\]: (?:Invalid|Required) value",
            SECRET_INVALID,
        ),
        // Rate limits come before auth because Docker Hub's 429 text contains
        // "authenticating".
        status(429, 429, RATE_LIMIT),
        pattern(
            r"toomanyrequests|too many requests|\brate limit|pull QPS exceeded",
            RATE_LIMIT,
        ),
        // Transport errors, before any status: "tls: first record does not
        // look like a TLS handshake" is the wrong scheme, not a bad certificate.
        pattern(
            r"server gave HTTP response to HTTPS client|first record does not look like a TLS handshake|client sent an HTTP request to an HTTPS server|plain HTTP request was sent to HTTPS port",
            SCHEME,
        ),
        pattern(
            r#"x509: [^\n"]*|tls: failed to verify certificate[^\n"]*|remote error: tls: [^\n"]*|tls: (?:bad certificate|handshake failure|unknown certificate authority|protocol version|internal error)|certificate is valid for [^\n"]*|certificate has expired|certificate is not yet valid|certificate verify failed|doesn't contain any IP SANs|SSL routines"#,
            TLS,
        ),
        // A failed lookup is a DNS error even when the DNS server timed out.
        pattern(
            r#"\blookup [^\s:]+(?: on \S+)?: [^\n"]*|no such host|server misbehaving|Temporary failure in name resolution|Name or service not known|could not resolve host|nodename nor servname provided"#,
            DNS,
        ),
        pattern(
            r"connection refused|i/o timeout|context deadline exceeded|connection reset by peer|no route to host|network is unreachable|host is down|connection timed out|operation timed out|TLS handshake timeout|Client\.Timeout exceeded|timeout awaiting response headers|request canceled while waiting for connection|proxyconnect tcp|because of no progress in|broken pipe|(?m:^|: )EOF\b",
            UNREACHABLE,
        ),
        // The registry responded, but the image does not fit the node.
        pattern(
            r#"no match for platform in manifest|no matching manifest for \S+ in the manifest list entries|does not match the specified platform|its platform \([^)]*\) does not match|no image found in (?:image index|manifest list) for architecture [\w.-]+,(?: variant "[^"]*",)? OS [\w.-]+|exec format error|image operating system "[^"]+" cannot be used on this platform"#,
            PLATFORM,
        ),
        status(415, 415, MEDIA_TYPE),
        pattern(
            r"unsupported media ?type|unsupported manifest (?:media )?type|manifest schema v1|schema 1 support|manifest\.v1\+prettyjws|mediaType in manifest should be|no longer supported since containerd|MANIFEST_INVALID|manifest invalid",
            MEDIA_TYPE,
        ),
        // Credentials, from the most to the least explicit wording.
        pattern(
            r"incorrect username or password|authorization token has expired|token (?:has )?expired",
            REJECTED,
        ),
        pattern(
            r"invalid username/password|invalid username or password",
            REJECTED_OR_MISSING,
        ),
        pattern(
            r"no basic auth credentials|failed to fetch anonymous token|no credentials on this request",
            NO_CREDENTIALS_SENT,
        ),
        pattern(r"authentication (?:is )?required", CREDENTIALS),
        pattern(
            r"pull access denied(?: for [^\s,]+)?, repository does not exist or may require [^:\n]*(?:: denied: requested access to the resource is denied|: server message: insufficient_scope: authorization failed)?|repository \S+ not found: does not exist or no pull access",
            PULL_ACCESS_DENIED,
        ),
        status(403, 403, ACCESS),
        pattern(
            r#"insufficient_scope|requested access to the resource is denied|\bForbidden\b|\bdenied: |permission "[^"]+" denied on resource|unauthorized to access repository"#,
            ACCESS,
        ),
        // containerd sends credentials when it requests an OAuth token.
        pattern(r"failed to fetch oauth token", TOKEN_REJECTED),
        status(401, 401, CREDENTIALS),
        pattern(r"\bunauthorized\b|authorization failed", CREDENTIALS),
        // Missing blobs, after auth: a 401 during "failed to copy" is credentials.
        pattern(
            r#"blob unknown|BLOB_UNKNOWN|could not fetch content descriptor \S+ \([^)]*\) from remote: not found|content at \S+/blobs/\S+ not found|(?:reading|fetching) blob[^\n]*?(?:\b404\b|not found)|\bblob \S+ not found|/blobs/[^\s"]+"?: 404\b"#,
            BLOB,
        ),
        pattern(
            r"(?:failed to copy|httpReadSeeker|reading blob|fetching blob|Error writing blob)[^\n]*unexpected EOF",
            BLOB_OR_NETWORK,
        ),
        pattern(r"unexpected EOF", NETWORK_OR_BLOB),
        pattern(
            r"NAME_UNKNOWN|name unknown|repository name not known to registry|\brepository (?:\S+ )?not found",
            REPOSITORY,
        ),
        // Missing manifests: tag or digest, as the reference shows.
        by_reference(
            r"manifest for (?P<reference>\S+) not found",
            TAG_NOT_FOUND,
            DIGEST_NOT_FOUND,
        ),
        by_reference(
            r"reading manifest (?P<reference>\S+) in \S+?: manifest unknown",
            TAG_NOT_FOUND,
            DIGEST_NOT_FOUND,
        ),
        by_reference(r"manifest unknown|MANIFEST_UNKNOWN", TAG_NOT_FOUND, DIGEST_NOT_FOUND),
        // Harbor's wording for a missing tag or digest.
        by_reference(
            r"artifact (?P<reference>\S+) not found",
            TAG_NOT_FOUND,
            DIGEST_NOT_FOUND,
        ),
        by_reference(
            r#"failed to resolve (?:reference|image):? "?(?P<reference>[^"\s]+?)"?: (?:[^"\s]+: )?not found"#,
            RUNTIME_NOT_FOUND,
            DIGEST_NOT_FOUND,
        )
        .with_detail("not found while resolving the reference"),
        by_reference(
            &format!(r"(?P<reference>{IMAGE_REFERENCE}): not found"),
            RUNTIME_NOT_FOUND,
            DIGEST_NOT_FOUND,
        )
        .with_detail("not found while resolving the reference"),
        by_reference(
            r"content at \S+/manifests/(?P<reference>\S+) not found",
            RUNTIME_NOT_FOUND,
            DIGEST_NOT_FOUND,
        ),
        Rule {
            matcher: Matcher::Status(404, 404),
            outcome: Outcome::ByReference {
                tag: RUNTIME_NOT_FOUND,
                digest: DIGEST_NOT_FOUND,
            },
            detail: None,
        },
        status(500, 599, SERVER_ERROR),
        pattern(
            r"Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout",
            SERVER_ERROR,
        ),
        // Go's TLS server returns a bare 400 to plain HTTP, so containerd
        // speaking HTTP to an HTTPS port reports only this status (recorded
        // with containerd 1.6.20 against distribution 2.8.2 with TLS).
        // NOTE: a registry may also return 400 for a malformed name.
        status(400, 400, SCHEME)
            .with_detail("400 Bad Request, the answer of an HTTPS port to plain HTTP"),
        // Only the retry notice: the reason is in the earlier Failed event.
        pattern(r"Back-off pulling image|ImagePullBackOff|ErrImagePull", UNKNOWN).with_detail(
            "the kubelet is waiting to retry the pull, and the Failed event before it names the reason",
        ),
    ]
});
