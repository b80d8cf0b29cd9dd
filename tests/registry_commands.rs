//! `kubectl zot tags`, `inspect` and `digest` against the real lab registries, and the Zot
//! search extension against a local server that replays recorded Zot responses.
//!
//! Needs the lab environment: run through `lab/test`.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::kube::{KubeApi, KubeOptions, SYSTEM_PATH};
use support::lab::{docker_config_json, lab};
use support::proxy::FaultProxy;
use support::{ZotOutput, zot};
use tempfile::TempDir;

fn ca() -> String {
    lab().ca.display().to_string()
}

/// Runs `args` with the TLS registry's user logged in through --password-stdin.
fn with_password(args: &[&str]) -> ZotOutput {
    let mut all: Vec<&str> = args.to_vec();
    all.extend([
        "--ca-file",
        ca_static(),
        "--username",
        &lab().user,
        "--password-stdin",
    ]);
    zot(all).stdin(&format!("{}\n", lab().pass)).run()
}

fn ca_static() -> &'static str {
    static CA: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CA.get_or_init(ca)
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array, got {value}"))
        .iter()
        .map(|item| item.as_str().expect("string item").to_string())
        .collect()
}

fn wait_for_port(port_file: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(port_file).unwrap_or_default();
        if !text.trim().is_empty() {
            return text.trim().to_string();
        }
        assert!(Instant::now() < deadline, "server did not write its port");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn tags_follow_link_pages_once_each() {
    // distribution 2.8 ignores n and last and sends every tag on each page, so the proxy's
    // Link headers force three pages that each repeat all 150 tags.
    let proxy = FaultProxy::start(&[
        r"tags/list\?n=1000$=link:/v2/openclaw/many/tags/list?n=50&last=t049",
        r"last=t049$=link:/v2/openclaw/many/tags/list?n=50&last=t099",
    ]);
    let repository = format!("{}/openclaw/many", proxy.address);
    let output = with_password(&["tags", &repository, "-o", "json"]);
    output.assert_code(0);
    let tags = strings(&output.json()["tags"]);
    let expected: Vec<String> = (0..150).map(|i| format!("t{i:03}")).collect();
    assert_eq!(tags, expected);
    let pages: Vec<String> = proxy
        .paths()
        .into_iter()
        .filter(|path| path.contains("/tags/list"))
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert!(pages[1].ends_with("last=t049"), "{pages:?}");
    assert!(pages[2].ends_with("last=t099"), "{pages:?}");
}

#[test]
fn tags_sort_versions_naturally() {
    let plain = &lab().plain_registry;
    for tag in ["v1.10.0", "v1.9.1", "v1.2.0"] {
        let status = Command::new(lab().bin.join("make-image"))
            .arg("--tag-move")
            .arg(lab().dir.join("plain"))
            .args(["openclaw/workspace", "latest", tag])
            .stdout(Stdio::null())
            .status()
            .expect("run lab/make-image --tag-move");
        assert!(status.success(), "tag-move to {tag} failed");
    }
    let output = zot([
        "tags",
        "openclaw/workspace",
        "--registry",
        plain,
        "--anonymous",
        "-o",
        "json",
    ])
    .run();
    output.assert_code(0);
    let tags = strings(&output.json()["tags"]);
    let position = |tag: &str| {
        tags.iter()
            .position(|t| t == tag)
            .unwrap_or_else(|| panic!("{tag} missing from {tags:?}"))
    };
    assert!(position("v1.2.0") < position("v1.9.1"), "{tags:?}");
    assert!(position("v1.9.1") < position("v1.10.0"), "{tags:?}");
    assert!(position("latest") < position("v1.2.0"), "{tags:?}");
}

#[test]
fn signature_tag_hidden_unless_all() {
    let repository = format!("{}/openclaw/openclaw", lab().tls_registry);
    let signature = lab()
        .images
        .iter()
        .find(|image| image.repo == "openclaw/openclaw" && image.tag.starts_with("sha256-"))
        .expect("images.json lists a signature tag")
        .tag
        .clone();

    let output = with_password(&["tags", &repository, "-o", "json"]);
    output.assert_code(0);
    let report = output.json();
    let tags = strings(&report["tags"]);
    assert!(!tags.contains(&signature), "{tags:?}");
    assert!(tags.contains(&"v1.2.0".to_string()), "{tags:?}");
    assert_eq!(report["hidden"], 1);

    let output = with_password(&["tags", &repository, "--all", "-o", "json"]);
    output.assert_code(0);
    let report = output.json();
    assert!(strings(&report["tags"]).contains(&signature));
    assert_eq!(report["hidden"], 0);
}

#[test]
fn tags_with_digests_match_the_lab() {
    let repository = format!("{}/openclaw/openclaw", lab().tls_registry);
    let output = with_password(&["tags", &repository, "--digests", "-o", "json"]);
    output.assert_code(0);
    let report = output.json();
    assert_eq!(report["digests_from"], "distribution");
    let entries = report["digests"].as_array().unwrap();
    assert_eq!(entries.len(), strings(&report["tags"]).len());
    for entry in entries {
        let tag = entry["tag"].as_str().unwrap();
        let expected = lab().image("openclaw/openclaw", tag);
        assert_eq!(entry["digest"], expected.digest.as_str(), "{tag}");
        assert_eq!(entry["media_type"], expected.media_type.as_str(), "{tag}");
    }
}

#[test]
fn inspect_lists_index_platforms() {
    let image = format!("{}/openclaw/openclaw:latest", lab().tls_registry);
    let expected = lab().image("openclaw/openclaw", "latest");
    let output = with_password(&["inspect", &image, "-o", "json"]);
    output.assert_code(0);
    let report = output.json();
    assert_eq!(report["digest"], expected.digest.as_str());
    assert_eq!(
        report["media_type"],
        "application/vnd.oci.image.index.v1+json"
    );
    let platforms: BTreeMap<String, String> = report["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["platform"].as_str().unwrap().to_string(),
                p["digest"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let lab_platforms: BTreeMap<String, String> = expected
        .manifests
        .iter()
        .map(|m| (m.platform.clone(), m.digest.clone()))
        .collect();
    assert_eq!(platforms, lab_platforms);

    let images = report["images"].as_array().unwrap();
    assert_eq!(images.len(), 2, "{report:#}");
    for detail in images {
        let child = expected
            .manifests
            .iter()
            .find(|m| m.digest == detail["digest"].as_str().unwrap())
            .expect("image digest is a child of the index");
        let layers: Vec<&str> = detail["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["digest"].as_str().unwrap())
            .collect();
        assert_eq!(
            layers,
            child.layers.iter().map(String::as_str).collect::<Vec<_>>()
        );
        assert!(detail["total_size"].as_u64().unwrap() > 0);
        assert_eq!(detail["config"]["os"], "linux");
        assert_eq!(detail["platform"], child.platform.as_str());
    }

    let output = with_password(&["inspect", &image, "--platform", "linux/arm64", "-o", "json"]);
    output.assert_code(0);
    let report = output.json();
    let images = report["images"].as_array().unwrap();
    assert_eq!(images.len(), 1);
    assert_eq!(images[0]["config"]["architecture"], "arm64");
}

#[test]
fn inspect_raw_prints_served_bytes() {
    let image = format!("{}/openclaw/openclaw:latest", lab().tls_registry);
    let output = with_password(&["inspect", &image, "--raw"]);
    output.assert_code(0);
    use sha2::Digest;
    let digest = format!(
        "sha256:{:x}",
        sha2::Sha256::digest(output.stdout.as_bytes())
    );
    assert_eq!(digest, lab().digest("openclaw/openclaw", "latest"));
}

#[test]
fn digest_prints_index_or_platform_digest() {
    let image = format!("{}/openclaw/openclaw:latest", lab().tls_registry);
    let expected = lab().image("openclaw/openclaw", "latest");
    let output = with_password(&["digest", &image]);
    output.assert_code(0);
    assert_eq!(output.stdout, format!("{}\n", expected.digest));

    let arm = expected
        .manifests
        .iter()
        .find(|m| m.platform.starts_with("linux/arm64"))
        .unwrap();
    let output = with_password(&["digest", &image, "--platform", "linux/arm64/v8"]);
    output.assert_code(0);
    assert_eq!(output.stdout.trim(), arm.digest);

    let output = with_password(&["digest", &image, "--platform", "windows/amd64"]);
    output.assert_code(1);
    assert!(output.stderr.contains("linux/amd64"), "{}", output.stderr);
}

#[test]
fn docker_media_types_are_shown() {
    let registry = &lab().tls_registry;
    let single = lab().image("openclaw/dockertypes", "latest");
    let output = with_password(&[
        "inspect",
        &format!("{registry}/openclaw/dockertypes:latest"),
        "-o",
        "json",
    ]);
    output.assert_code(0);
    let report = output.json();
    assert_eq!(
        report["media_type"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(report["digest"], single.digest.as_str());
    assert_eq!(report["images"][0]["platform"], "linux/amd64");

    let list = lab().image("openclaw/dockertypes", "list");
    let output = with_password(&[
        "inspect",
        &format!("{registry}/openclaw/dockertypes:list"),
        "-o",
        "json",
    ]);
    output.assert_code(0);
    let report = output.json();
    assert_eq!(
        report["media_type"],
        "application/vnd.docker.distribution.manifest.list.v2+json"
    );
    assert_eq!(report["digest"], list.digest.as_str());
    assert_eq!(report["platforms"].as_array().unwrap().len(), 2);
}

#[test]
fn missing_repository_shows_name_unknown() {
    let repository = format!("{}/openclaw/no-such-repo", lab().tls_registry);
    let output = with_password(&["tags", &repository]);
    output.assert_code(1);
    assert!(output.stderr.contains("NAME_UNKNOWN"), "{}", output.stderr);
    assert!(output.stderr.contains("fix:"), "{}", output.stderr);

    let image = format!("{}/openclaw/openclaw:v9.9.9", lab().tls_registry);
    let output = with_password(&["inspect", &image]);
    output.assert_code(1);
    assert!(
        output.stderr.contains("MANIFEST_UNKNOWN"),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("kubectl zot tags"),
        "{}",
        output.stderr
    );
}

#[test]
fn wrong_password_is_rejected() {
    let repository = format!("{}/openclaw/openclaw", lab().tls_registry);
    let output = zot([
        "tags",
        &repository,
        "--ca-file",
        &ca(),
        "--username",
        &lab().user,
        "--password-stdin",
    ])
    .stdin("wrong-password\n")
    .run();
    output.assert_code(1);
    assert!(
        output.stderr.contains("rejected the credentials"),
        "{}",
        output.stderr
    );
    assert!(
        !output.stderr.contains("wrong-password"),
        "{}",
        output.stderr
    );

    let token_repository = format!("{}/openclaw/openclaw", lab().token_registry);
    let output = zot([
        "tags",
        &token_repository,
        "--ca-file",
        &ca(),
        "--username",
        &lab().token_user,
        "--password-stdin",
    ])
    .stdin("wrong-password\n")
    .run();
    output.assert_code(1);
    assert!(
        output.stderr.contains("rejected the credentials"),
        "{}",
        output.stderr
    );
}

#[test]
fn secret_flag_uses_that_secret() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let repository = format!("{}/openclaw/openclaw", lab().tls_registry);
    let output = zot([
        "tags",
        &repository,
        "--secret",
        "regcred",
        "-n",
        "openclaw",
        "--ca-file",
        &ca(),
        "-o",
        "json",
    ])
    .kube(&api)
    .run();
    output.assert_code(0);
    let report = output.json();
    let source = report["credential_source"].as_str().unwrap();
    assert!(source.contains("openclaw/regcred"), "{source}");
    assert!(!output.stdout.contains(&lab().pass));
    let secret_reads = api
        .requests()
        .iter()
        .filter(|r| r.resource.as_deref() == Some("secrets"))
        .count();
    assert_eq!(secret_reads, 1);

    let output = zot([
        "tags",
        &repository,
        "--secret",
        "regcred-old",
        "-n",
        "openclaw",
        "--ca-file",
        &ca(),
    ])
    .kube(&api)
    .run();
    output.assert_code(1);
    assert!(
        output
            .stderr
            .contains("rejected the credentials from secret openclaw/regcred-old"),
        "{}",
        output.stderr
    );
}

#[test]
fn default_service_account_secret_is_used() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let image = format!("{}/openclaw/workspace:latest", lab().tls_registry);
    let output = zot(["inspect", &image, "-n", "openclaw", "--ca-file", &ca()])
        .kube(&api)
        .run();
    output.assert_code(0);
    assert!(
        output
            .stderr
            .contains("credentials: serviceaccount openclaw/default, secret openclaw/regcred"),
        "{}",
        output.stderr
    );
    assert!(
        output
            .stdout
            .contains(&lab().digest("openclaw/workspace", "latest")),
        "{}",
        output.stdout
    );
}

#[test]
fn docker_config_file_is_used() {
    let dir = TempDir::new().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        docker_config_json(&lab().tls_registry, &lab().user, &lab().pass),
    )
    .unwrap();
    let image = format!("{}/openclaw/workspace:latest", lab().tls_registry);
    let output = zot([
        "digest",
        &image,
        "--ca-file",
        &ca(),
        "--docker-config",
        config.to_str().unwrap(),
    ])
    .run();
    output.assert_code(0);
    assert_eq!(
        output.stdout.trim(),
        lab().digest("openclaw/workspace", "latest")
    );
    assert!(
        output.stderr.contains("credentials: file "),
        "{}",
        output.stderr
    );
}

#[test]
fn credential_helper_from_config_runs() {
    let dir = TempDir::new().unwrap();
    let helper = dir.path().join("docker-credential-labtest");
    let reply = serde_json::json!({
        "ServerURL": lab().tls_registry,
        "Username": lab().user,
        "Secret": lab().pass,
    });
    std::fs::write(&helper, format!("#!/bin/sh\nread host\necho '{reply}'\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = dir.path().join("auth.json");
    std::fs::write(
        &config,
        serde_json::json!({"credHelpers": {lab().tls_registry.clone(): "labtest"}}).to_string(),
    )
    .unwrap();
    let image = format!("{}/openclaw/workspace:latest", lab().tls_registry);
    let output = zot([
        "digest",
        &image,
        "--ca-file",
        &ca(),
        "--docker-config",
        config.to_str().unwrap(),
    ])
    .env("PATH", format!("{}:{SYSTEM_PATH}", dir.path().display()))
    .run();
    output.assert_code(0);
    assert_eq!(
        output.stdout.trim(),
        lab().digest("openclaw/workspace", "latest")
    );
    assert!(
        output
            .stderr
            .contains("credential helper docker-credential-labtest"),
        "{}",
        output.stderr
    );
}

#[test]
fn anonymous_without_cluster_reaches_plain_registry() {
    let repository = format!("{}/openclaw/openclaw", lab().plain_registry);
    let output = zot(["tags", &repository, "-o", "json"]).run();
    output.assert_code(0);
    assert!(
        output.stderr.contains("warning: no cluster reachable"),
        "{}",
        output.stderr
    );
    let report = output.json();
    assert_eq!(
        report["credential_source"],
        "anonymous (no credentials found)"
    );
    assert!(strings(&report["tags"]).contains(&"latest".to_string()));

    let tls = format!("{}/openclaw/openclaw", lab().tls_registry);
    let output = zot(["tags", &tls, "--anonymous", "--ca-file", &ca()]).run();
    output.assert_code(1);
    assert!(
        output.stderr.contains("requires a login"),
        "{}",
        output.stderr
    );
}

#[test]
fn conflicting_sources_are_usage_errors() {
    let output = zot([
        "tags",
        "127.0.0.1:9/a",
        "--anonymous",
        "--secret",
        "regcred",
    ])
    .run();
    output.assert_code(2);
    let output = zot(["tags", "127.0.0.1:9/a:v1"]).run();
    output.assert_code(2);
}

/// Every image of the TLS registry: `digest` through the cluster's secret agrees with the
/// SHA-256 of the manifest that `skopeo inspect --raw` reads.
#[test]
fn digests_agree_with_skopeo() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let registry = lab().tls_registry.clone();
    let cert_dir = lab().dir.join("tls/client");
    let creds = format!("{}:{}", lab().user, lab().pass);
    let images: Vec<(String, String)> = lab()
        .images
        .iter()
        .map(|image| (image.repo.clone(), image.tag.clone()))
        .collect();
    assert!(
        images.len() > 100,
        "images.json lists {} images",
        images.len()
    );
    let mismatches = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for chunk in images.chunks(images.len().div_ceil(4)) {
            let api = &api;
            let mismatches = &mismatches;
            let registry = &registry;
            let cert_dir = &cert_dir;
            let creds = &creds;
            scope.spawn(move || {
                for (repo, tag) in chunk {
                    let reference = format!("{registry}/{repo}:{tag}");
                    let output = zot([
                        "digest",
                        &reference,
                        "--secret",
                        "regcred",
                        "-n",
                        "openclaw",
                        "--ca-file",
                        ca_static(),
                    ])
                    .kube(api)
                    .run();
                    let ours = if output.code == Some(0) {
                        output.stdout.trim().to_string()
                    } else {
                        format!("exit {:?}: {}", output.code, output.stderr)
                    };
                    let skopeo = Command::new("skopeo")
                        .args(["inspect", "--raw", "--cert-dir"])
                        .arg(cert_dir)
                        .args(["--creds", creds])
                        .arg(format!("docker://{reference}"))
                        .output()
                        .expect("run skopeo");
                    assert!(
                        skopeo.status.success(),
                        "skopeo inspect {reference}: {}",
                        String::from_utf8_lossy(&skopeo.stderr)
                    );
                    use sha2::Digest;
                    let theirs = format!("sha256:{:x}", sha2::Sha256::digest(&skopeo.stdout));
                    if ours != theirs {
                        mismatches
                            .lock()
                            .unwrap()
                            .push(format!("{reference}: kubectl-zot {ours}, skopeo {theirs}"));
                    }
                }
            });
        }
    });
    let mismatches = mismatches.into_inner().unwrap();
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// A stand-in for Zot on 127.0.0.1 that serves `/v2/`, the management extension and the
/// search extension from the recorded responses in tests/data/zot, and `tags/list`.
/// Manifest requests get 404, so a test detects a client that skipped the search.
const FAKE_ZOT: &str = r#"
import http.server, json, os, sys, urllib.parse
data = sys.argv[1]
log = open(sys.argv[2], "a")
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        log.write(self.path + "\n"); log.flush()
        url = urllib.parse.urlparse(self.path)
        if url.path == "/v2/":
            return self.reply(200, b"{}")
        if url.path == "/v2/_zot/ext/mgmt":
            return self.reply(200, open(os.path.join(data, "mgmt.json"), "rb").read())
        if url.path == "/v2/_zot/ext/search":
            query = urllib.parse.parse_qs(url.query).get("query", [""])[0]
            name = "imagelist-openclaw.json" if '"openclaw/openclaw"' in query else "imagelist-error.json"
            return self.reply(200, open(os.path.join(data, name), "rb").read())
        if url.path == "/v2/paged/app/tags/list":
            # Pages with n and last only, without Link headers, as the OCI spec allows.
            params = urllib.parse.parse_qs(url.query)
            n = int(params.get("n", ["1000"])[0])
            last = params.get("last", [""])[0]
            tags = [t for t in ("t%03d" % i for i in range(120)) if t > last][:n]
            return self.reply(200, json.dumps({"name": "paged/app", "tags": tags}).encode())
        if url.path == "/v2/openclaw/openclaw/tags/list":
            body = json.load(open(os.path.join(data, "imagelist-openclaw.json")))
            tags = [r["Tag"] for r in body["data"]["ImageList"]["Results"]]
            return self.reply(200, json.dumps({"name": "openclaw/openclaw", "tags": tags}).encode())
        self.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
open(sys.argv[3], "w").write(str(server.server_port))
server.serve_forever()
"#;

struct FakeZot {
    child: Child,
    address: String,
    log: PathBuf,
    _dir: TempDir,
}

impl FakeZot {
    fn start() -> FakeZot {
        let dir = TempDir::new().unwrap();
        let port_file = dir.path().join("port");
        let log = dir.path().join("requests.log");
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/zot");
        let child = Command::new("python3")
            .args(["-c", FAKE_ZOT])
            .arg(&data)
            .arg(&log)
            .arg(&port_file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start python3");
        let port = wait_for_port(&port_file);
        FakeZot {
            child,
            address: format!("127.0.0.1:{port}"),
            log,
            _dir: dir,
        }
    }

    fn paths(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for FakeZot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn zot_search_gives_digests_in_one_request() {
    let server = FakeZot::start();
    let repository = format!("{}/openclaw/openclaw", server.address);
    let output = zot([
        "tags",
        &repository,
        "--digests",
        "--all",
        "--anonymous",
        "--plain-http",
        &server.address,
        "-o",
        "json",
    ])
    .run();
    output.assert_code(0);
    let report = output.json();
    assert_eq!(report["digests_from"], "zot-search");
    let methods = strings(&report["zot"]["auth_methods"]);
    assert!(methods.contains(&"htpasswd".to_string()), "{methods:?}");
    let latest = report["digests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["tag"] == "latest")
        .expect("latest listed");
    assert_eq!(latest["pushed"], "2026-11-30T09:12:44.512Z");
    assert_eq!(latest["size"], 1742);
    let warnings = strings(&report["warnings"]);
    assert!(
        warnings.iter().any(|w| w.contains("docker2s2")),
        "{warnings:?}"
    );
    let paths = server.paths();
    let searches = paths
        .iter()
        .filter(|p| p.contains("/_zot/ext/search"))
        .count();
    assert_eq!(searches, 1, "{paths:?}");
    assert!(
        !paths.iter().any(|p| p.contains("/manifests/")),
        "{paths:?}"
    );
}

#[test]
fn zot_auth_methods_shown_in_table() {
    let server = FakeZot::start();
    let repository = format!("{}/openclaw/openclaw", server.address);
    let output = zot([
        "tags",
        &repository,
        "--anonymous",
        "--plain-http",
        &server.address,
    ])
    .run();
    output.assert_code(0);
    assert!(
        output
            .stderr
            .contains("registry: Zot, auth methods: apikey, htpasswd"),
        "{}",
        output.stderr
    );
    assert!(output.stdout.contains("v1.0.0"), "{}", output.stdout);
}

#[test]
fn tags_page_with_n_and_last() {
    let server = FakeZot::start();
    let repository = format!("{}/paged/app", server.address);
    let output = zot([
        "tags",
        &repository,
        "--page-size",
        "50",
        "--anonymous",
        "--plain-http",
        &server.address,
        "-o",
        "json",
    ])
    .run();
    output.assert_code(0);
    let tags = strings(&output.json()["tags"]);
    let expected: Vec<String> = (0..120).map(|i| format!("t{i:03}")).collect();
    assert_eq!(tags, expected);
    let pages: Vec<String> = server
        .paths()
        .into_iter()
        .filter(|path| path.contains("/tags/list"))
        .collect();
    assert_eq!(
        pages,
        [
            "/v2/paged/app/tags/list?n=50",
            "/v2/paged/app/tags/list?n=50&last=t049",
            "/v2/paged/app/tags/list?n=50&last=t099",
        ]
    );
}

#[test]
fn unreachable_registry_exits_two() {
    let output = zot([
        "digest",
        "127.0.0.1:9/openclaw/openclaw:latest",
        "--anonymous",
    ])
    .run();
    output.assert_code(2);
    assert!(
        output.stderr.contains("connection to 127.0.0.1:9 refused"),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains("fix: "), "{}", output.stderr);
    assert!(output.stdout.is_empty(), "{}", output.stdout);
}

/// `digest` of one image of each kind (OCI index, OCI manifest, Docker list, Docker manifest)
/// agrees with skopeo for every credential source.
#[test]
fn digest_agrees_with_skopeo_for_every_source() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let registry = lab().tls_registry.clone();
    let dir = TempDir::new().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        docker_config_json(&registry, &lab().user, &lab().pass),
    )
    .unwrap();
    let config = config.display().to_string();
    let sources: [(&str, Vec<&str>); 4] = [
        ("--secret", vec!["--secret", "regcred", "-n", "openclaw"]),
        ("default serviceaccount", vec!["-n", "openclaw"]),
        ("--docker-config", vec!["--docker-config", &config]),
        (
            "--username",
            vec!["--username", &lab().user, "--password-stdin"],
        ),
    ];
    let mut mismatches = Vec::new();
    for (repo, tag) in [
        ("openclaw/openclaw", "latest"),
        ("openclaw/workspace", "latest"),
        ("openclaw/dockertypes", "list"),
        ("openclaw/dockertypes", "latest"),
    ] {
        let reference = format!("{registry}/{repo}:{tag}");
        let skopeo = Command::new("skopeo")
            .args(["inspect", "--raw", "--cert-dir"])
            .arg(lab().dir.join("tls/client"))
            .args(["--creds", &format!("{}:{}", lab().user, lab().pass)])
            .arg(format!("docker://{reference}"))
            .output()
            .expect("run skopeo");
        assert!(skopeo.status.success(), "skopeo inspect {reference}");
        use sha2::Digest;
        let theirs = format!("sha256:{:x}", sha2::Sha256::digest(&skopeo.stdout));
        for (source, flags) in &sources {
            let mut args = vec!["digest", reference.as_str(), "--ca-file", ca_static()];
            args.extend(flags.iter().copied());
            let mut run = zot(args);
            if *source == "--username" {
                run = run.stdin(&format!("{}\n", lab().pass));
            } else if *source != "--docker-config" {
                run = run.kube(&api);
            }
            let output = run.run();
            let ours = output.stdout.trim().to_string();
            if output.code != Some(0) || ours != theirs {
                mismatches.push(format!(
                    "{reference} with {source}: exit {:?}, {ours:?} (skopeo {theirs}); {}",
                    output.code, output.stderr
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
