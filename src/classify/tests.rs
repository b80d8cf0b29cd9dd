use serde_json::Value;

use super::*;
use crate::cause::Cause::{self, *};

/// Real runtime texts recorded in the lab and texts from public bug reports,
/// one JSON object a line.
const CORPUS: &str = include_str!("../../tests/data/messages.jsonl");

fn cause_named(name: &str) -> Cause {
    Cause::ALL
        .into_iter()
        .find(|c| c.as_str() == name)
        .unwrap_or_else(|| panic!("unknown cause name {name:?} in the corpus"))
}

/// Compares one corpus row with the classification of its message and
/// returns a line per field that differs.
fn corpus_row_mismatches(row: &Value) -> Vec<String> {
    let message = row["message"].as_str().expect("row without message");
    let got = classify(message);
    let mut mismatches = Vec::new();

    let expected = cause_named(row["expected"].as_str().expect("row without expected"));
    if got.cause != expected {
        mismatches.push(format!("cause: expected {expected}, got {}", got.cause));
    }
    if let Some(list) = row.get("candidates").and_then(Value::as_array) {
        let expected: Vec<Cause> = list
            .iter()
            .map(|c| cause_named(c.as_str().expect("candidate is not a string")))
            .collect();
        if got.candidates != expected {
            mismatches.push(format!(
                "candidates: expected {expected:?}, got {:?}",
                got.candidates
            ));
        }
    }
    for (field, value) in [("image", &got.image), ("registry", &got.registry)] {
        if let Some(expected) = row.get(field).and_then(Value::as_str)
            && value.as_deref() != Some(expected)
        {
            mismatches.push(format!("{field}: expected {expected:?}, got {value:?}"));
        }
    }
    if let Some(expected) = row.get("http_status").and_then(Value::as_u64)
        && got.http_status.map(u64::from) != Some(expected)
    {
        mismatches.push(format!(
            "http_status: expected {expected}, got {:?}",
            got.http_status
        ));
    }
    mismatches
}

#[test]
fn corpus_rows_classify_as_expected() {
    let mut failures = Vec::new();
    let mut rows = 0;
    for (index, line) in CORPUS.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row: Value = serde_json::from_str(line)
            .unwrap_or_else(|err| panic!("corpus line {} is not JSON: {err}", index + 1));
        rows += 1;
        let mismatches = corpus_row_mismatches(&row);
        if !mismatches.is_empty() {
            failures.push(format!(
                "line {} ({}):\n    {}\n    message: {}",
                index + 1,
                row["origin"].as_str().unwrap_or("no origin"),
                mismatches.join("\n    "),
                row["message"]
            ));
        }
    }
    assert!(rows >= 100, "corpus has only {rows} rows");
    assert!(
        failures.is_empty(),
        "{} of {rows} corpus rows differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_rows_have_origin_and_known_causes() {
    for (index, line) in CORPUS.lines().enumerate() {
        let row: Value = serde_json::from_str(line).expect("corpus line is not JSON");
        let origin = row["origin"].as_str().unwrap_or("");
        assert!(!origin.is_empty(), "line {} has no origin", index + 1);
        cause_named(row["expected"].as_str().unwrap_or(""));
        if let Some(list) = row.get("candidates").and_then(Value::as_array) {
            assert_eq!(
                list.first().and_then(Value::as_str),
                row["expected"].as_str(),
                "line {}: candidates must start with the expected cause",
                index + 1
            );
        }
    }
}

#[test]
fn candidates_start_with_cause_and_are_unique() {
    for line in CORPUS.lines() {
        let row: Value = serde_json::from_str(line).expect("corpus line is not JSON");
        let got = classify(row["message"].as_str().unwrap_or(""));
        assert_eq!(got.candidates.first(), Some(&got.cause), "{got:?}");
        let mut unique = got.candidates.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), got.candidates.len(), "{got:?}");
    }
}

/// One hand-written wording: the text and the cause, image and registry the
/// classifier must find in it.
struct Case {
    text: &'static str,
    cause: Cause,
    image: Option<&'static str>,
    registry: Option<&'static str>,
}

const fn case(
    text: &'static str,
    cause: Cause,
    image: Option<&'static str>,
    registry: Option<&'static str>,
) -> Case {
    Case {
        text,
        cause,
        image,
        registry,
    }
}

fn check_cases(cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        let got = classify(case.text);
        if got.cause != case.cause {
            failures.push(format!(
                "cause: expected {}, got {} ({:?}) for {:?}",
                case.cause, got.cause, got.detail, case.text
            ));
        }
        if got.image.as_deref() != case.image {
            failures.push(format!(
                "image: expected {:?}, got {:?} for {:?}",
                case.image, got.image, case.text
            ));
        }
        if got.registry.as_deref() != case.registry {
            failures.push(format!(
                "registry: expected {:?}, got {:?} for {:?}",
                case.registry, got.registry, case.text
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn crio_wordings() {
    check_cases(&[
        case(
            "Error reading manifest v9 in quay.io/org/app: manifest unknown: manifest unknown",
            TagNotFound,
            Some("quay.io/org/app:v9"),
            Some("quay.io"),
        ),
        case(
            "rpc error: code = Unknown desc = initializing source docker://quay.io/org/app:v9: \
             reading manifest v9 in quay.io/org/app: manifest unknown",
            TagNotFound,
            Some("quay.io/org/app:v9"),
            Some("quay.io"),
        ),
        case(
            "rpc error: code = Unknown desc = Source image rejected: A signature was required, \
             but no signature exists",
            Unknown,
            None,
            None,
        ),
        case(
            "rpc error: code = Unknown desc = Source image rejected: Running image \
             docker://quay.io/org/app:v1 is rejected by policy.",
            Unknown,
            None,
            None,
        ),
        case(
            "rpc error: code = Unknown desc = pinging container registry registry.example.test: \
             Get \"https://registry.example.test/v2/\": dial tcp 10.0.0.5:443: i/o timeout",
            RegistryUnreachable,
            None,
            Some("registry.example.test"),
        ),
        case(
            "rpc error: code = Unknown desc = pinging container registry registry.example.test:5000: \
             Get \"https://registry.example.test:5000/v2/\": x509: certificate has expired or \
             is not yet valid: current time 2026-01-02T00:00:00Z is after 2025-12-31T00:00:00Z",
            TlsError,
            None,
            Some("registry.example.test:5000"),
        ),
        case(
            "rpc error: code = Unknown desc = choosing image instance: no image found in manifest \
             list for architecture arm64, variant \"v8\", OS linux",
            PlatformNotFound,
            None,
            None,
        ),
        case(
            "rpc error: code = Unknown desc = reading blob sha256:abcd: fetching blob: blob \
             unknown: blob unknown to registry",
            BlobNotFound,
            None,
            None,
        ),
        case(
            "rpc error: code = Unknown desc = short-name \"app\" did not resolve to an alias and \
             no unqualified-search registries are defined in \"/etc/containers/registries.conf\"",
            InvalidReference,
            None,
            None,
        ),
        case(
            "Failed to pull image \"registry.example.test/team/app:1\": rpc error: code = Unknown \
             desc = unable to retrieve auth token: invalid username/password: unauthorized: \
             authentication required",
            CredentialsRejected,
            Some("registry.example.test/team/app:1"),
            Some("registry.example.test"),
        ),
        case(
            "rpc error: code = Unknown desc = reading manifest 1.0 in quay.io/org/private: \
             unauthorized: access to the requested resource is not authorized",
            CredentialsMissing,
            Some("quay.io/org/private:1.0"),
            Some("quay.io"),
        ),
    ]);
}

#[test]
fn docker_wordings() {
    check_cases(&[
        case(
            "Error response from daemon: manifest for ghcr.io/org/app:v2 not found: manifest \
             unknown: manifest unknown",
            TagNotFound,
            Some("ghcr.io/org/app:v2"),
            Some("ghcr.io"),
        ),
        case(
            "Error response from daemon: manifest for ghcr.io/org/app@sha256:\
             0000000000000000000000000000000000000000000000000000000000000000 not found: \
             manifest unknown: manifest unknown",
            DigestNotFound,
            Some(
                "ghcr.io/org/app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
            ),
            Some("ghcr.io"),
        ),
        case(
            "Error response from daemon: Get \"https://registry.example.test/v2/\": x509: \
             certificate signed by unknown authority",
            TlsError,
            None,
            Some("registry.example.test"),
        ),
        case(
            "Error response from daemon: Get \"https://registry.example.test:5000/v2/\": x509: \
             certificate is valid for other.example.test, not registry.example.test",
            TlsError,
            None,
            Some("registry.example.test:5000"),
        ),
        case(
            "Error response from daemon: Get \"https://registry.example.test:5000/v2/\": http: \
             server gave HTTP response to HTTPS client",
            HttpHttpsMismatch,
            None,
            Some("registry.example.test:5000"),
        ),
        case(
            "Error response from daemon: Get \"https://registry.example.test/v2/\": dial tcp: \
             lookup registry.example.test on 127.0.0.53:53: server misbehaving",
            DnsError,
            None,
            Some("registry.example.test"),
        ),
        case(
            "Error response from daemon: Get \"https://registry-1.docker.io/v2/\": net/http: \
             request canceled while waiting for connection (Client.Timeout exceeded while \
             awaiting headers)",
            RegistryUnreachable,
            None,
            Some("registry-1.docker.io"),
        ),
        case(
            "Error response from daemon: Get \"https://registry-1.docker.io/v2/\": unauthorized: \
             incorrect username or password",
            CredentialsRejected,
            None,
            Some("registry-1.docker.io"),
        ),
        case(
            "Error response from daemon: pull access denied for private/app, repository does not \
             exist or may require 'docker login': denied: requested access to the resource is \
             denied",
            RepositoryNotFound,
            Some("private/app"),
            Some("docker.io"),
        ),
        case(
            "Error response from daemon: no matching manifest for linux/arm64/v8 in the manifest \
             list entries",
            PlatformNotFound,
            None,
            None,
        ),
        case(
            "Error response from daemon: received unexpected HTTP status: 503 Service Unavailable",
            RegistryError,
            None,
            None,
        ),
        case(
            "Error response from daemon: mediaType in manifest should be \
             'application/vnd.docker.distribution.manifest.v2+json' not \
             'application/vnd.oci.image.manifest.v1+json'",
            UnsupportedMediaType,
            None,
            None,
        ),
        case(
            "Error response from daemon: repository quay.io/org/gone not found: does not exist \
             or no pull access",
            RepositoryNotFound,
            Some("quay.io/org/gone"),
            Some("quay.io"),
        ),
        case(
            "docker: invalid reference format: repository name must be lowercase.",
            InvalidReference,
            None,
            None,
        ),
    ]);
}

#[test]
fn containerd_2_wordings() {
    check_cases(&[
        case(
            "rpc error: code = NotFound desc = failed to pull and unpack image \
             \"docker.io/library/nginx:nope\": failed to resolve image: \
             docker.io/library/nginx:nope: not found",
            ManifestNotFound,
            Some("docker.io/library/nginx:nope"),
            Some("docker.io"),
        ),
        case(
            "rpc error: code = Unknown desc = failed to pull and unpack image \
             \"registry.example.test/a/b:1\": failed to resolve reference \
             \"registry.example.test/a/b:1\": unexpected status from HEAD request to \
             https://registry.example.test/v2/a/b/manifests/1: 401 Unauthorized",
            CredentialsMissing,
            Some("registry.example.test/a/b:1"),
            Some("registry.example.test"),
        ),
        case(
            "rpc error: code = Unknown desc = failed to pull and unpack image \
             \"registry.example.test/a/b:1\": failed to resolve reference \
             \"registry.example.test/a/b:1\": unexpected status from HEAD request to \
             https://registry.example.test/v2/a/b/manifests/1: 403 Forbidden",
            AccessDenied,
            Some("registry.example.test/a/b:1"),
            Some("registry.example.test"),
        ),
        case(
            "failed to pull and unpack image \"registry.example.test/a/b:1\": failed to resolve \
             reference \"registry.example.test/a/b:1\": unexpected status from HEAD request to \
             https://registry.example.test/v2/a/b/manifests/1: 502 Bad Gateway",
            RegistryError,
            Some("registry.example.test/a/b:1"),
            Some("registry.example.test"),
        ),
        case(
            "failed to pull and unpack image \"docker.io/old/app:1\": failed to resolve reference \
             \"docker.io/old/app:1\": not implemented: media type \
             \"application/vnd.docker.distribution.manifest.v1+prettyjws\" is no longer \
             supported since containerd v2.0, please rebuild the image",
            UnsupportedMediaType,
            Some("docker.io/old/app:1"),
            Some("docker.io"),
        ),
        case(
            "failed to pull and unpack image \"r.example.test/a/b:1\": failed to copy: \
             httpReadSeeker: failed open: content at \
             https://r.example.test/v2/a/b/blobs/sha256:abcd not found: not found",
            BlobNotFound,
            Some("r.example.test/a/b:1"),
            Some("r.example.test"),
        ),
        case(
            "failed to pull and unpack image \"r.example.test/a/b:1\": failed to copy: \
             httpReadSeeker: failed open: unexpected status code \
             https://r.example.test/v2/a/b/blobs/sha256:abcd: 401 Unauthorized",
            CredentialsMissing,
            Some("r.example.test/a/b:1"),
            Some("r.example.test"),
        ),
        case(
            "failed to pull and unpack image \"r.example.test/a/b:1\": failed to extract layer \
             sha256:abcd: failed to copy: read tcp 10.0.0.2:4711->10.0.0.9:443: read: \
             connection reset by peer",
            RegistryUnreachable,
            Some("r.example.test/a/b:1"),
            Some("r.example.test"),
        ),
        case(
            "failed to pull and unpack image \"r.example.test/a/b:1\": failed to copy: \
             httpReadSeeker: failed open: failed to do request: Get \
             \"https://r.example.test/v2/a/b/blobs/sha256:abcd\": unexpected EOF",
            BlobNotFound,
            Some("r.example.test/a/b:1"),
            Some("r.example.test"),
        ),
    ]);
}

#[test]
fn registry_specific_wordings() {
    check_cases(&[
        // Harbor 2.x names the missing artifact.
        case(
            "reading manifest v3 in harbor.example.test/lib/app: not found: artifact lib/app:v3 \
             not found",
            TagNotFound,
            Some("harbor.example.test/lib/app:v3"),
            Some("harbor.example.test"),
        ),
        // ECR returns NAME_UNKNOWN for a repository that does not exist.
        case(
            "reading manifest 1 in 123456789012.dkr.ecr.eu-west-1.amazonaws.com/gone: name \
             unknown: The repository with name 'gone' does not exist in the registry with id \
             '123456789012'",
            RepositoryNotFound,
            Some("123456789012.dkr.ecr.eu-west-1.amazonaws.com/gone:1"),
            Some("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
        ),
        // Artifact Registry rejects the token request without read access.
        case(
            "failed to pull and unpack image \"europe-docker.pkg.dev/p/r/app:1\": failed to \
             resolve reference \"europe-docker.pkg.dev/p/r/app:1\": failed to authorize: failed \
             to fetch oauth token: unexpected status from GET request to \
             https://europe-docker.pkg.dev/v2/token?scope=repository%3Ap%2Fr%2Fapp%3Apull: \
             403 Forbidden",
            AccessDenied,
            Some("europe-docker.pkg.dev/p/r/app:1"),
            Some("europe-docker.pkg.dev"),
        ),
        case(
            "failed to authorize: failed to fetch oauth token: unexpected status: 401 Unauthorized",
            CredentialsRejected,
            None,
            None,
        ),
        case(
            "failed to copy: httpReadSeeker: failed open: unexpected status code \
             https://r.example.test/v2/a/b/blobs/sha256:abcd: 404 Not Found",
            BlobNotFound,
            None,
            Some("r.example.test"),
        ),
        case(
            "Error: short-name resolution enforced but cannot prompt without a TTY",
            InvalidReference,
            None,
            None,
        ),
        case(
            "failed to pull and unpack image \"r.example.test/big:1\": failed to copy: context \
             canceled; cancel pulling image r.example.test/big:1 because of no progress in 5m0s",
            RegistryUnreachable,
            Some("r.example.test/big:1"),
            Some("r.example.test"),
        ),
    ]);
}

#[test]
fn kubelet_wordings() {
    check_cases(&[
        case(
            "Container image \"local/app:dev\" is not present with pull policy of Never",
            ImageNotPresent,
            Some("local/app:dev"),
            Some("docker.io"),
        ),
        case("Error: ErrImageNeverPull", ImageNotPresent, None, None),
        case(
            "Failed to apply default image tag \"Registry.Example/App\": couldn't parse image \
             reference \"Registry.Example/App\": invalid reference format: repository name must \
             be lowercase",
            InvalidReference,
            Some("Registry.Example/App"),
            Some("Registry.Example"),
        ),
        case("Error: InvalidImageName", InvalidReference, None, None),
        case(
            "Unable to retrieve some image pull secrets (regcred); attempting to pull the image \
             may not succeed.",
            SecretNotFound,
            None,
            None,
        ),
        case(
            "Back-off pulling image \"ghcr.io/org/app:1\"",
            Unknown,
            Some("ghcr.io/org/app:1"),
            Some("ghcr.io"),
        ),
        case("Error: ImagePullBackOff", Unknown, None, None),
        case(
            "Failed to pull image \"ghcr.io/org/app:1\": pull QPS exceeded",
            RateLimited,
            Some("ghcr.io/org/app:1"),
            Some("ghcr.io"),
        ),
        case(
            "exec /usr/local/bin/app: exec format error",
            PlatformNotFound,
            None,
            None,
        ),
        case("everything is fine", Unknown, None, None),
        case("", Unknown, None, None),
    ]);
}

#[test]
fn crane_and_podman_wordings() {
    check_cases(&[
        case(
            "Error: GET https://r.example.test/v2/a/b/manifests/nope: MANIFEST_UNKNOWN: manifest \
             unknown; unknown tag=nope",
            TagNotFound,
            None,
            Some("r.example.test"),
        ),
        case(
            "Error: GET https://r.example.test/v2/a/b/manifests/sha256:\
             1111111111111111111111111111111111111111111111111111111111111111: MANIFEST_UNKNOWN: \
             manifest unknown",
            DigestNotFound,
            None,
            Some("r.example.test"),
        ),
        case(
            "Error: GET https://r.example.test/v2/a/gone/tags/list: NAME_UNKNOWN: repository name \
             not known to registry",
            RepositoryNotFound,
            None,
            Some("r.example.test"),
        ),
        case(
            "Error: GET https://r.example.test/v2/a/b/manifests/1: TOOMANYREQUESTS: slow down",
            RateLimited,
            None,
            Some("r.example.test"),
        ),
        case(
            "Error: initializing source docker://r.example.test/a/b:1: pinging container registry \
             r.example.test: Get \"https://r.example.test/v2/\": tls: failed to verify \
             certificate: x509: certificate signed by unknown authority",
            TlsError,
            Some("r.example.test/a/b:1"),
            Some("r.example.test"),
        ),
    ]);
}

#[test]
fn specific_evidence_beats_general() {
    // An x509 error inside "failed to resolve reference" is about TLS.
    let got = classify(
        "failed to resolve reference \"r.example.test/a/b:1\": failed to do request: Head \
         \"https://r.example.test/v2/a/b/manifests/1\": x509: certificate signed by unknown \
         authority",
    );
    assert_eq!(got.cause, TlsError);
    assert_eq!(
        got.detail.as_deref(),
        Some("x509: certificate signed by unknown authority")
    );

    // "tls: first record ..." names the wrong scheme, not a certificate problem.
    let got = classify(
        "Get \"https://r.example.test:5000/v2/\": tls: first record does not look like a TLS \
         handshake",
    );
    assert_eq!(got.cause, HttpHttpsMismatch);

    // A DNS server timeout is still a failed lookup.
    let got = classify(
        "dial tcp: lookup r.example.test on 10.0.0.53:53: read udp \
         10.0.0.6:33734->10.0.0.53:53: i/o timeout",
    );
    assert_eq!(got.cause, DnsError);
    assert_eq!(got.candidates, vec![DnsError]);

    // Docker Hub's 429 body contains "authenticating", which is no auth error.
    let got = classify(
        "429 Too Many Requests - Server message: toomanyrequests: You have reached your pull \
         rate limit. You may increase the limit by authenticating and upgrading",
    );
    assert_eq!(got.cause, RateLimited);
    assert_eq!(got.http_status, Some(429));

    // insufficient_scope during a blob fetch is denied access, not a missing blob.
    let got = classify(
        "failed to copy: httpReadSeeker: failed open: server message: insufficient_scope: \
         authorization failed",
    );
    assert_eq!(got.cause, AccessDenied);

    // Docker's "API error (500)" is the engine's status, not the registry's.
    let got = classify(
        "API error (500): Get https://r.example.test:5000/v2/app/manifests/latest: no basic \
         auth credentials",
    );
    assert_eq!(got.cause, CredentialsMissing);
    assert_eq!(got.http_status, None);
}

#[test]
fn ambiguous_texts_list_candidates() {
    let got = classify(
        "failed to resolve reference \"r.example.test/a/b:1\": r.example.test/a/b:1: not found",
    );
    assert_eq!(got.cause, ManifestNotFound);
    assert_eq!(
        got.candidates,
        vec![ManifestNotFound, TagNotFound, RepositoryNotFound]
    );

    let got = classify(
        "Error response from daemon: pull access denied for app, repository does not exist or \
         may require 'docker login'",
    );
    assert_eq!(got.cause, RepositoryNotFound);
    for cause in [CredentialsMissing, AccessDenied] {
        assert!(got.candidates.contains(&cause), "{cause} not in {got:?}");
    }

    let got = classify(
        "pulling from host r.example.test failed with status code [manifests 1]: 401 Unauthorized",
    );
    assert_eq!(got.cause, CredentialsMissing);
    assert!(got.candidates.contains(&CredentialsRejected), "{got:?}");
    assert_eq!(got.http_status, Some(401));
    assert_eq!(got.registry.as_deref(), Some("r.example.test"));
}

#[test]
fn several_lines_add_candidates() {
    let got = classify(
        "Get \"https://r.example.test/v2/\": x509: certificate signed by unknown authority\n\
         r.example.test/a/b:1: not found",
    );
    assert_eq!(got.cause, TlsError);
    assert_eq!(got.candidates, vec![TlsError, ManifestNotFound]);
}

#[test]
fn describe_events_block() {
    let events = r#"
  Normal   Pulling    12s (x3 over 55s)  kubelet  Pulling image "ghcr.io/org/app:v9"
  Warning  Failed     11s (x3 over 54s)  kubelet  Failed to pull image "ghcr.io/org/app:v9": rpc error: code = NotFound desc = failed to pull and unpack image "ghcr.io/org/app:v9": failed to resolve reference "ghcr.io/org/app:v9": ghcr.io/org/app:v9: not found
  Warning  Failed     11s (x3 over 54s)  kubelet  Error: ErrImagePull
  Normal   BackOff    1s (x4 over 53s)   kubelet  Back-off pulling image "ghcr.io/org/app:v9"
  Warning  Failed     1s (x4 over 53s)   kubelet  Error: ImagePullBackOff
"#;
    let got = classify(events);
    assert_eq!(got.cause, ManifestNotFound);
    assert_eq!(
        got.candidates,
        vec![ManifestNotFound, TagNotFound, RepositoryNotFound]
    );
    assert_eq!(got.image.as_deref(), Some("ghcr.io/org/app:v9"));
    assert_eq!(got.registry.as_deref(), Some("ghcr.io"));
}

#[test]
fn kubelet_json_log_line() {
    let digest = "2".repeat(64);
    let line = format!(
        r#"{{"level":"error","msg":"Failed to pull image","err":"failed to pull and unpack image \"quay.io/a/b:1@sha256:{digest}\": failed to resolve reference \"quay.io/a/b:1@sha256:{digest}\": quay.io/a/b:1@sha256:{digest}: not found","image":"quay.io/a/b:1@sha256:{digest}"}}"#
    );
    let got = classify(&line);
    assert_eq!(got.cause, DigestNotFound);
    assert_eq!(got.candidates, vec![DigestNotFound, RepositoryNotFound]);
    assert_eq!(got.image, Some(format!("quay.io/a/b:1@sha256:{digest}")));
    assert_eq!(got.registry.as_deref(), Some("quay.io"));
}

#[test]
fn tagged_digest_reference_not_found() {
    let digest = "3".repeat(64);
    let got = classify(&format!("ctr: quay.io/a/b:1@sha256:{digest}: not found"));
    assert_eq!(got.cause, DigestNotFound);
    assert_eq!(got.image, None);
}

#[test]
fn long_detail_is_shortened() {
    let long_name = "a".repeat(300);
    let got = classify(&format!("x509: certificate is valid for {long_name}"));
    let detail = got.detail.expect("x509 text has a detail");
    assert_eq!(detail.chars().count(), MAX_DETAIL_CHARS);
    assert!(detail.ends_with("..."), "{detail}");
}

#[test]
fn classification_serializes_kebab_case_causes() {
    let got = classify("Error: ErrImageNeverPull");
    let json = serde_json::to_value(&got).expect("classification serializes");
    assert_eq!(json["cause"], "image-not-present");
    assert_eq!(json["candidates"][0], "image-not-present");
    assert_eq!(json["detail"], "ErrImageNeverPull");
    assert!(json["image"].is_null());
}
