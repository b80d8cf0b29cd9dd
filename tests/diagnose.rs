//! `kubectl zot diagnose` against the real lab registries and the Kubernetes API test server.
//!
//! Needs the lab environment: run through `lab/test`.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;
use support::kube::{KubeApi, KubeOptions};
use support::lab::lab;
use support::proxy::FaultProxy;
use support::zot;
use tempfile::TempDir;

fn ca() -> String {
    lab().ca.display().to_string()
}

/// Runs `diagnose -o json` in the `openclaw` namespace and returns exit code and JSON.
fn diagnose_json(api: &KubeApi, extra: &[&str]) -> (Option<i32>, Value) {
    let mut args = vec!["diagnose", "-n", "openclaw", "-o", "json"];
    args.extend_from_slice(extra);
    let output = zot(args).kube(api).run();
    assert!(
        output.stdout.trim_start().starts_with('{'),
        "no JSON on stdout; stderr:\n{}",
        output.stderr
    );
    (output.code, output.json())
}

/// Findings keyed by the pod's name up to its ReplicaSet hash (`api-96gq...` is `api`).
fn causes_by_workload(report: &Value) -> BTreeMap<String, String> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            let workload = f["workload"].as_str().unwrap_or(f["pod"].as_str().unwrap());
            let name = workload.rsplit('/').next().unwrap().to_string();
            (name, f["cause"].as_str().unwrap().to_string())
        })
        .collect()
}

fn finding<'a>(report: &'a Value, workload: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["workload"].as_str() == Some(workload))
        .unwrap_or_else(|| panic!("no finding for {workload} in {report:#}"))
}

#[test]
fn openclaw_pods_get_their_causes() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let (code, report) = diagnose_json(&api, &["--ca-file", &ca()]);
    assert_eq!(code, Some(1), "findings give exit status 1");
    let causes = causes_by_workload(&report);
    let expected = [
        ("api", "tag-not-found"),
        ("worker", "repository-not-found"),
        ("pinned", "digest-not-found"),
        ("armonly", "platform-not-found"),
        ("arm-single", "platform-not-found"),
        ("broken", "blob-not-found"),
        ("anon", "credentials-missing"),
        ("rotated", "credentials-rejected"),
        ("ghost", "secret-not-found"),
        ("opaque", "secret-invalid"),
        ("elsewhere", "secret-host-mismatch"),
        ("typo", "invalid-reference"),
        ("offline", "image-not-present"),
        ("recovered", "image-available-now"),
        ("stale", "stale-image"),
    ];
    let mut wrong = Vec::new();
    for (workload, cause) in expected {
        match causes.get(workload) {
            Some(found) if found == cause => {}
            other => wrong.push(format!("{workload}: expected {cause}, got {other:?}")),
        }
    }
    assert!(wrong.is_empty(), "wrong causes:\n{}", wrong.join("\n"));
    for healthy in ["web", "db", "agent", "nightly"] {
        assert!(
            !causes.contains_key(healthy),
            "healthy {healthy} has a finding: {causes:?}"
        );
    }
    assert_eq!(causes.len(), expected.len(), "{causes:?}");
}

#[test]
fn findings_carry_evidence_and_fix() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let (_, report) = diagnose_json(&api, &["--ca-file", &ca()]);

    let tag = finding(&report, "deployment/api");
    let closest: Vec<&str> = tag["evidence"]["registry"]["closest_tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(closest.contains(&"v1.2.0"), "{closest:?}");
    assert!(
        tag["fix"]
            .as_str()
            .unwrap()
            .contains("kubectl set image deployment/api")
    );
    assert_eq!(tag["evidence"]["registry"]["http_status"], 404);
    assert!(
        tag["evidence"]["events"]
            .as_array()
            .is_some_and(|e| !e.is_empty())
    );

    let repo = finding(&report, "deployment/worker");
    let codes: Vec<&str> = repo["evidence"]["registry"]["registry_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"NAME_UNKNOWN"), "{codes:?}");

    let ghost = finding(&report, "deployment/ghost");
    let fix = ghost["fix"].as_str().unwrap();
    assert!(
        fix.contains("kubectl create secret docker-registry does-not-exist"),
        "{fix}"
    );
    assert!(
        fix.contains(&format!("--docker-server={}", lab().tls_registry)),
        "{fix}"
    );

    let stale = finding(&report, "deployment/stale");
    assert_eq!(
        stale["fix"],
        "kubectl zot restart deployment/stale -n openclaw"
    );
    assert_eq!(
        stale["evidence"]["registry"]["digest"],
        lab().digest("openclaw/openclaw", "latest").as_str()
    );

    let rotated = finding(&report, "deployment/rotated");
    let secret = &rotated["evidence"]["secrets"][0];
    assert_eq!(secret["name"], "regcred-old");
    assert_eq!(secret["entries"][0]["password"], "***");
    assert!(rotated["evidence"]["registry"]["anonymous"].is_string());

    let platform = finding(&report, "deployment/armonly");
    assert_eq!(platform["evidence"]["node_platform"], "linux/amd64");
}

#[test]
fn diagnose_is_read_only_and_frugal() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let (_, report) = diagnose_json(&api, &["--ca-file", &ca()]);
    assert!(!report["findings"].as_array().unwrap().is_empty());
    let requests = api.requests();
    let writes: Vec<_> = requests.iter().filter(|r| r.is_write()).collect();
    assert!(writes.is_empty(), "diagnose wrote: {writes:?}");
    let count = |verb: &str, resource: &str| {
        requests
            .iter()
            .filter(|r| r.verb.as_deref() == Some(verb) && r.resource.as_deref() == Some(resource))
            .count()
    };
    assert_eq!(count("list", "pods"), 1, "one pod LIST");
    assert_eq!(count("list", "events"), 1, "one event LIST per namespace");
    let distinct = |resource: &str| {
        let gets: Vec<_> = requests
            .iter()
            .filter(|r| r.verb.as_deref() == Some("get") && r.resource.as_deref() == Some(resource))
            .map(|r| r.name.clone())
            .collect();
        let mut unique = gets.clone();
        unique.sort();
        unique.dedup();
        (gets.len(), unique.len())
    };
    for resource in ["secrets", "serviceaccounts", "nodes"] {
        let (all, unique) = distinct(resource);
        assert_eq!(all, unique, "{resource} fetched more than once each");
        assert!(all > 0, "no {resource} read");
    }
}

#[test]
fn healthy_namespace_exits_zero() {
    let api = KubeApi::start("empty", KubeOptions::new());
    let output = zot(["diagnose", "-n", "openclaw", "--ca-file", &ca()])
        .kube(&api)
        .run();
    output.assert_code(0);
    assert!(
        output.stdout.contains("No image pull problems found."),
        "{}",
        output.stdout
    );
}

#[test]
fn token_user_without_scope_is_access_denied() {
    let api = KubeApi::start("token", KubeOptions::new().namespace("tokens"));
    let output = zot(["diagnose", "-o", "json", "--ca-file", &ca()])
        .kube(&api)
        .run();
    output.assert_code(1);
    let report = output.json();
    let causes = causes_by_workload(&report);
    assert_eq!(
        causes.get("denied").map(String::as_str),
        Some("access-denied"),
        "{causes:?}"
    );
    assert!(!causes.contains_key("allowed"), "{causes:?}");
}

#[test]
fn kubectl_finds_the_plugin() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let bin_dir = PathBuf::from(env!("CARGO_BIN_EXE_kubectl-zot"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!("{}:/usr/local/bin:/usr/bin:/bin", bin_dir.display());
    let home = TempDir::new().unwrap();
    let output = Command::new("kubectl")
        .args([
            "zot",
            "diagnose",
            "-n",
            "openclaw",
            "--ca-file",
            &ca(),
            "-o",
            "json",
        ])
        .env_clear()
        .env("PATH", path)
        .env("HOME", home.path())
        .env("KUBECONFIG", &api.kubeconfig)
        .output()
        .expect("run kubectl");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        causes_by_workload(&report).get("api").map(String::as_str),
        Some("tag-not-found")
    );
}

/// Runs diagnose on the one-pod `transport` cluster with the image on `registry`.
fn transport_cause(registry: &str, extra: &[&str]) -> (String, Value) {
    let secret = support::lab::docker_config_json(registry, &lab().user, &lab().pass);
    let options = KubeOptions::new()
        .var("REGISTRY", registry)
        .var("DOCKERCONFIGJSON", &secret);
    let api = KubeApi::start("transport", options);
    let (code, report) = diagnose_json(&api, extra);
    assert_eq!(code, Some(1), "{report:#}");
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{report:#}");
    (
        findings[0]["cause"].as_str().unwrap().to_string(),
        findings[0].clone(),
    )
}

#[test]
fn untrusted_certificate_is_tls_error() {
    let (cause, finding) = transport_cause(&lab().tls_registry, &[]);
    assert_eq!(cause, "tls-error", "{finding:#}");
    assert!(finding["evidence"]["registry_not_checked"].is_string());
}

#[test]
fn refused_connection_is_registry_unreachable() {
    let (cause, finding) = transport_cause("127.0.0.1:9", &[]);
    assert_eq!(cause, "registry-unreachable", "{finding:#}");
}

#[test]
fn plain_http_registry_is_scheme_mismatch() {
    let (cause, finding) = transport_cause(&lab().plain_name_registry, &[]);
    assert_eq!(cause, "http-https-mismatch", "{finding:#}");
}

#[test]
fn loopback_plain_registry_falls_back_to_http() {
    let (cause, finding) = transport_cause(&lab().plain_registry, &[]);
    // The plain lab registry has the image and needs no login, so it resolves.
    assert_eq!(cause, "image-available-now", "{finding:#}");
}

#[test]
fn unknown_host_is_dns_error() {
    assert!(lab().netns, "DNS tests run only inside lab/netns");
    let (cause, finding) = transport_cause("missing.lab.test:5000", &[]);
    assert_eq!(cause, "dns-error", "{finding:#}");
}

#[test]
fn too_many_requests_is_rate_limited() {
    let proxy = FaultProxy::start(&["/manifests/=status:429:retry-after=0"]);
    let (cause, finding) = transport_cause(&proxy.address, &["--ca-file", &ca()]);
    assert_eq!(cause, "rate-limited", "{finding:#}");
}

#[test]
fn server_error_is_registry_error() {
    let proxy = FaultProxy::start(&["/manifests/=status:500"]);
    let (cause, finding) = transport_cause(&proxy.address, &["--ca-file", &ca()]);
    assert_eq!(cause, "registry-error", "{finding:#}");
    assert_eq!(finding["evidence"]["registry"]["http_status"], 500);
}

#[test]
fn retried_rate_limit_recovers() {
    let proxy = FaultProxy::start(&["/manifests/=status:429:retry-after=0:times=1"]);
    let (cause, finding) = transport_cause(&proxy.address, &["--ca-file", &ca()]);
    assert_eq!(cause, "image-available-now", "{finding:#}");
}

/// Pushes, with curl, an OCI artifact whose config is a Helm chart config.
fn push_artifact(repository: &str, tag: &str) {
    let lab = lab();
    let config = br#"{"name":"chart","version":"1.0.0"}"#;
    let config_digest = {
        let output = Command::new("sha256sum")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(config)?;
                child.wait_with_output()
            })
            .expect("sha256sum");
        format!(
            "sha256:{}",
            String::from_utf8_lossy(&output.stdout)
                .split_whitespace()
                .next()
                .unwrap()
        )
    };
    let base = format!("https://{}/v2/{repository}", lab.tls_registry);
    let user = format!("{}:{}", lab.user, lab.pass);
    let dir = TempDir::new().unwrap();
    let config_path = dir.path().join("config.json");
    std::fs::write(&config_path, config).unwrap();
    let curl = |args: &[&str]| {
        let output = Command::new("curl")
            .args(["-sS", "-f", "--cacert", &ca(), "-u", &user])
            .args(args)
            .output()
            .expect("curl");
        assert!(
            output.status.success(),
            "curl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).to_string()
    };
    // A two-step upload: POST opens a session, PUT with the digest completes it.
    let headers = curl(&[
        "-X",
        "POST",
        "-D",
        "-",
        "-o",
        "/dev/null",
        &format!("{base}/blobs/uploads/"),
    ]);
    let location = headers
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("location")
                .then(|| value.trim().to_string())
        })
        .expect("upload location");
    let location = if location.starts_with('/') {
        format!("https://{}{location}", lab.tls_registry)
    } else {
        location
    };
    let separator = if location.contains('?') { '&' } else { '?' };
    curl(&[
        "-X",
        "PUT",
        "--data-binary",
        &format!("@{}", config_path.display()),
        "-H",
        "Content-Type: application/octet-stream",
        &format!("{location}{separator}digest={config_digest}"),
    ]);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.cncf.helm.config.v1+json",
            "digest": config_digest,
            "size": config.len()
        },
        "layers": []
    })
    .to_string();
    curl(&[
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/vnd.oci.image.manifest.v1+json",
        "--data-binary",
        &manifest,
        &format!("{base}/manifests/{tag}"),
    ]);
}

#[test]
fn helm_artifact_is_unsupported_media_type() {
    push_artifact("openclaw/chart", "1.0.0");
    let api = KubeApi::start("transport", KubeOptions::new());
    let dir = TempDir::new().unwrap();
    // Point the one pod at the artifact instead of the workspace image.
    let text =
        std::fs::read_to_string(support::kube::cluster_dir("transport").join("pod-pull.json"))
            .unwrap()
            .replace("openclaw/workspace:latest", "openclaw/chart:1.0.0");
    drop(api);
    for file in [
        "namespace.json",
        "nodes.json",
        "secrets.json",
        "serviceaccounts.json",
    ] {
        std::fs::copy(
            support::kube::cluster_dir("transport").join(file),
            dir.path().join(file),
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("pod-pull.json"), text).unwrap();
    let api = KubeApi::start(dir.path().to_str().unwrap(), KubeOptions::new());
    let (code, report) = diagnose_json(&api, &["--ca-file", &ca()]);
    assert_eq!(code, Some(1));
    assert_eq!(
        report["findings"][0]["cause"], "unsupported-media-type",
        "{report:#}"
    );
}

#[test]
fn forbidden_secrets_still_give_a_report() {
    let api = KubeApi::start("openclaw", KubeOptions::new().forbid("get:secrets"));
    let (code, report) = diagnose_json(&api, &["--ca-file", &ca()]);
    assert_eq!(code, Some(1));
    let warnings = report["checked"]["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("cannot read secrets")),
        "{warnings:?}"
    );
    // Without the pod's credentials the registry cannot be asked as the node asks it,
    // so the runtime's message decides and the finding says what was not read.
    let api_finding = finding(&report, "deployment/api");
    assert_eq!(
        api_finding["cause"], "manifest-not-found",
        "{api_finding:#}"
    );
    assert!(
        api_finding["message"].as_str().unwrap().contains("regcred"),
        "{api_finding:#}"
    );
}

#[test]
fn missing_pod_target_exits_two() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let output = zot(["diagnose", "no-such-pod", "-n", "openclaw"])
        .kube(&api)
        .run();
    output.assert_code(2);
    assert!(output.stderr.contains("not found"), "{}", output.stderr);
}

#[test]
fn workload_target_limits_the_report() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let (code, report) = diagnose_json(&api, &["deployment/api", "--ca-file", &ca()]);
    assert_eq!(code, Some(1));
    let causes = causes_by_workload(&report);
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert_eq!(causes.get("api").map(String::as_str), Some("tag-not-found"));
}
