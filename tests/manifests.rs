//! `kubectl zot diagnose -f`: images of manifests checked before they are applied, against the
//! real lab registry, with a cluster (secrets from the ServiceAccount, platforms from nodes) and
//! offline (`--secret-file`, `--platform`).
//!
//! Needs the lab environment: run through `lab/test`.

mod support;

use std::collections::BTreeMap;

use serde_json::Value;
use support::kube::{KubeApi, KubeOptions};
use support::lab::{docker_config_json, lab};
use support::zot;
use tempfile::TempDir;

/// One manifest of each workload kind; `broken` gives each kind one image that cannot be
/// pulled. The images are multi-arch, because the openclaw cluster has amd64 and arm64 nodes.
fn manifests(broken: bool) -> String {
    let registry = &lab().tls_registry;
    let missing_digest = format!("openclaw/openclaw@sha256:{}", "0".repeat(64));
    let pick = |bad: &str, good: &str| {
        if broken {
            bad.to_string()
        } else {
            good.to_string()
        }
    };
    let web = pick(&missing_digest, "openclaw/openclaw:latest");
    let db = pick("openclaw/openclaw:v9.9.9", "openclaw/openclaw:v1.2.0");
    let agent = pick("openclaw/armonly:index", "openclaw/openclaw:latest");
    let batch = pick("openclaw/nothere:latest", "openclaw/openclaw:sha-aaaa");
    let prepare = pick("openclaw/openclaw:v0.0.1", "openclaw/openclaw:sha-aaaa");
    let volume = pick("openclaw/nothere:data", "openclaw/openclaw:v1.1.0");
    let solo = pick("openclaw/OpenClaw:latest", "openclaw/openclaw:v1.0.0");
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: web, image: "{registry}/{web}"}}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {{name: db}}
spec:
  selector: {{matchLabels: {{app: db}}}}
  serviceName: db
  template:
    metadata: {{labels: {{app: db}}}}
    spec:
      containers: [{{name: db, image: "{registry}/{db}"}}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent}}
spec:
  selector: {{matchLabels: {{app: agent}}}}
  template:
    metadata: {{labels: {{app: agent}}}}
    spec:
      containers: [{{name: agent, image: "{registry}/{agent}"}}]
---
apiVersion: batch/v1
kind: Job
metadata: {{name: migrate}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{{name: migrate, image: "{registry}/{batch}"}}]
---
apiVersion: v1
kind: List
items:
- apiVersion: batch/v1
  kind: CronJob
  metadata: {{name: nightly}}
  spec:
    schedule: "0 3 * * *"
    jobTemplate:
      spec:
        template:
          spec:
            restartPolicy: OnFailure
            initContainers: [{{name: prepare, image: "{registry}/{prepare}"}}]
            containers: [{{name: run, image: "{registry}/openclaw/openclaw:latest"}}]
            volumes: [{{name: data, image: {{reference: "{registry}/{volume}"}}}}]
- apiVersion: v1
  kind: Pod
  metadata: {{name: solo}}
  spec:
    containers: [{{name: solo, image: "{registry}/{solo}"}}]
"#
    )
}

fn write(dir: &TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn causes(report: &Value) -> BTreeMap<String, String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                format!(
                    "{}/{}",
                    f["workload"].as_str().unwrap(),
                    f["container"].as_str().unwrap()
                ),
                f["cause"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn expected_broken() -> BTreeMap<String, String> {
    [
        ("deployment/web/web", "digest-not-found"),
        ("statefulset/db/db", "tag-not-found"),
        ("daemonset/agent/agent", "platform-not-found"),
        ("job/migrate/migrate", "repository-not-found"),
        ("cronjob/nightly/prepare", "tag-not-found"),
        ("cronjob/nightly/data", "repository-not-found"),
        ("pod/solo/solo", "invalid-reference"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn offline_args(dir: &TempDir, manifest: &str) -> Vec<String> {
    let config = docker_config_json(&lab().tls_registry, &lab().user, &lab().pass);
    let secret = write(dir, "config.json", &config);
    vec![
        "diagnose".into(),
        "-f".into(),
        manifest.into(),
        "--secret-file".into(),
        secret,
        "--platform".into(),
        "linux/amd64".into(),
        "--ca-file".into(),
        lab().ca.display().to_string(),
        "-o".into(),
        "json".into(),
    ]
}

#[test]
fn offline_broken_manifests_exit_one() {
    let dir = TempDir::new().unwrap();
    let manifest = write(&dir, "app.yaml", &manifests(true));
    let output = zot(offline_args(&dir, &manifest)).run();
    output.assert_code(1);
    assert_eq!(
        causes(&output.json()),
        expected_broken(),
        "{}",
        output.stdout
    );
}

#[test]
fn offline_clean_manifests_exit_zero() {
    let dir = TempDir::new().unwrap();
    let manifest = write(&dir, "app.yaml", &manifests(false));
    let output = zot(offline_args(&dir, &manifest)).run();
    output.assert_code(0);
    assert!(causes(&output.json()).is_empty(), "{}", output.stdout);
}

#[test]
fn offline_without_secret_needs_credentials() {
    let dir = TempDir::new().unwrap();
    let manifest = write(&dir, "app.yaml", &manifests(false));
    let output = zot([
        "diagnose",
        "-f",
        &manifest,
        "--platform",
        "linux/amd64",
        "--ca-file",
        &lab().ca.display().to_string(),
        "-o",
        "json",
    ])
    .run();
    output.assert_code(1);
    let found = causes(&output.json());
    assert_eq!(
        found.get("deployment/web/web").map(String::as_str),
        Some("credentials-missing"),
        "{found:?}"
    );
}

#[test]
fn online_manifests_use_the_service_account_secret() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let dir = TempDir::new().unwrap();
    let manifest = write(&dir, "app.yaml", &manifests(true));
    let ca = lab().ca.display().to_string();
    let output = zot([
        "diagnose",
        "-f",
        &manifest,
        "-n",
        "openclaw",
        "--ca-file",
        &ca,
        "-o",
        "json",
    ])
    .kube(&api)
    .run();
    output.assert_code(1);
    // The cluster has amd64 and arm64 nodes: the arm64-only image fails on amd64 only.
    assert_eq!(
        causes(&output.json()),
        expected_broken(),
        "{}",
        output.stdout
    );
    let requests = api.requests();
    assert!(
        requests.iter().all(|r| !r.is_write()),
        "diagnose -f wrote to the cluster"
    );
    assert!(
        requests
            .iter()
            .any(|r| r.resource.as_deref() == Some("serviceaccounts")),
        "the default ServiceAccount was not read"
    );
}

#[test]
fn manifests_from_stdin_are_read() {
    let dir = TempDir::new().unwrap();
    let mut args = offline_args(&dir, "-");
    args[2] = "-".into();
    let output = zot(args).stdin(&manifests(false)).run();
    output.assert_code(0);
}

#[test]
fn online_clean_manifests_exit_zero() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let dir = TempDir::new().unwrap();
    let manifest = write(&dir, "app.yaml", &manifests(false));
    let ca = lab().ca.display().to_string();
    let output = zot([
        "diagnose",
        "-f",
        &manifest,
        "-n",
        "openclaw",
        "--ca-file",
        &ca,
        "-o",
        "json",
    ])
    .kube(&api)
    .run();
    output.assert_code(0);
    assert!(causes(&output.json()).is_empty(), "{}", output.stdout);
}
