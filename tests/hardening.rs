//! Hostile registries, broken clusters and process behaviour: no credential leaks, no hang and
//! no crash, and the rest of the report still comes out.
//!
//! Needs the lab environment: run through `lab/test`.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use tempfile::TempDir;

use kubectl_zot::registry::client::sha256_digest;
use support::kube::{KubeApi, KubeOptions, SYSTEM_PATH, cluster_subset};
use support::lab::{docker_config_json, lab};
use support::proxy::{FaultProxy, ProxySetup};
use support::zot;

fn ca() -> String {
    lab().ca.display().to_string()
}

/// The fixture files of the `openclaw` cluster that every subset needs.
const OPENCLAW_BASE: [&str; 4] = [
    "namespace.json",
    "nodes.json",
    "secrets.json",
    "serviceaccounts.json",
];

/// Formats Basic credentials as fault-proxy logs them: the SHA-256 prefix of the base64 text.
fn logged_basic(user: &str, pass: &str) -> String {
    let encoded = STANDARD.encode(format!("{user}:{pass}"));
    let digest = sha256_digest(encoded.as_bytes());
    format!("Basic {}", &digest[..19])
}

/// Starts the API server on the one-pod `transport` cluster with its image on `registry`
/// and a pull secret for that host.
fn transport_api(registry: &str) -> KubeApi {
    let secret = docker_config_json(registry, &lab().user, &lab().pass);
    let options = KubeOptions::new()
        .var("REGISTRY", registry)
        .var("DOCKERCONFIGJSON", &secret);
    KubeApi::start("transport", options)
}

/// Starts the API server on the whole `openclaw` cluster with every image on `registry`.
fn openclaw_api(registry: &str) -> KubeApi {
    let secret = docker_config_json(registry, &lab().user, &lab().pass);
    let bad = docker_config_json(registry, &lab().user, "wrong-password");
    let options = KubeOptions::new()
        .var("REGISTRY", registry)
        .var("DOCKERCONFIGJSON", &secret)
        .var("BAD_DOCKERCONFIGJSON", &bad);
    KubeApi::start("openclaw", options)
}

/// Runs `diagnose -n openclaw -o json` with `extra` and returns exit code, JSON and stderr.
fn diagnose_json(api: &KubeApi, extra: &[&str]) -> (Option<i32>, Value, String) {
    let mut args = vec!["diagnose", "-n", "openclaw", "-o", "json"];
    args.extend_from_slice(extra);
    let output = zot(args).kube(api).run();
    assert!(
        output.stdout.trim_start().starts_with('{'),
        "no JSON on stdout (exit {:?}); stderr:\n{}",
        output.code,
        output.stderr
    );
    let report = output.json();
    (output.code, report, output.stderr)
}

/// Findings keyed by workload name (`deployment/api` is `api`), value the cause.
fn causes(report: &Value) -> BTreeMap<String, String> {
    report["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|finding| {
            let workload = finding["workload"]
                .as_str()
                .or(finding["pod"].as_str())
                .unwrap();
            let name = workload.rsplit('/').next().unwrap().to_string();
            (name, finding["cause"].as_str().unwrap().to_string())
        })
        .collect()
}

fn finding<'a>(report: &'a Value, workload: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|finding| finding["workload"].as_str() == Some(workload))
        .unwrap_or_else(|| panic!("no finding for {workload} in {report:#}"))
}

fn warnings(report: &Value) -> Vec<String> {
    report["checked"]["warnings"]
        .as_array()
        .expect("checked.warnings array")
        .iter()
        .map(|warning| warning.as_str().unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------
// Credentials in the output

/// Lists every form in which the lab password could leak into the output.
fn password_forms() -> Vec<(&'static str, String)> {
    let lab = lab();
    let config = docker_config_json(&lab.tls_registry, &lab.user, &lab.pass);
    vec![
        ("password", lab.pass.clone()),
        (
            "base64 of user:pass",
            STANDARD.encode(format!("{}:{}", lab.user, lab.pass)),
        ),
        ("base64 of the password", STANDARD.encode(&lab.pass)),
        ("base64 of the dockerconfigjson", STANDARD.encode(&config)),
    ]
}

#[test]
fn diagnose_never_prints_the_password() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    for format in ["table", "json", "yaml"] {
        let output = zot([
            "diagnose",
            "-n",
            "openclaw",
            "-o",
            format,
            "-v",
            "9",
            "--ca-file",
            &ca(),
        ])
        .kube(&api)
        .run();
        output.assert_code(1);
        for (form, value) in password_forms() {
            assert!(
                !output.stdout.contains(&value),
                "-o {format}: the {form} appears on stdout"
            );
            assert!(
                !output.stderr.contains(&value),
                "-o {format} -v 9: the {form} appears on stderr"
            );
        }
        assert!(
            output.stderr.contains("DEBUG") || output.stderr.contains("TRACE"),
            "-v 9 wrote no debug log, so the stderr check proves nothing:\n{}",
            output.stderr
        );
    }
}

#[test]
fn no_subcommand_prints_the_password() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let image = format!("{}/openclaw/openclaw:latest", lab().tls_registry);
    let repository = format!("{}/openclaw/openclaw", lab().tls_registry);
    let ca = ca();
    let runs: Vec<Vec<&str>> = vec![
        vec!["tags", &repository, "--digests", "-n", "openclaw"],
        vec!["inspect", &image, "-n", "openclaw"],
        vec![
            "inspect",
            &image,
            "--secret",
            "regcred-old",
            "-n",
            "openclaw",
        ],
        vec!["digest", &image, "--secret", "regcred", "-n", "openclaw"],
        vec!["secrets", "-n", "openclaw", "--check"],
        vec!["restart", "--stale", "-n", "openclaw", "--dry-run"],
        vec!["diagnose", "--all", "-n", "openclaw"],
    ];
    for args in runs {
        for format in ["table", "json", "yaml"] {
            let mut all = args.clone();
            all.extend(["-o", format, "-v", "9", "--ca-file", &ca]);
            let output = zot(all.clone()).kube(&api).run();
            assert!(
                output.code.is_some_and(|code| code <= 2),
                "{all:?} ended with {:?}: {}",
                output.code,
                output.stderr
            );
            for (form, value) in password_forms() {
                assert!(
                    !output.stdout.contains(&value),
                    "{all:?}: the {form} appears on stdout"
                );
                assert!(
                    !output.stderr.contains(&value),
                    "{all:?}: the {form} appears on stderr"
                );
            }
        }
    }
}

#[test]
fn show_secrets_prints_the_password() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let (code, report, _) = diagnose_json(&api, &["--ca-file", &ca(), "--show-secrets"]);
    assert_eq!(code, Some(1));
    let text = report.to_string();
    assert!(
        text.contains(&format!("\"{}\"", lab().pass)),
        "--show-secrets -o json does not show the password"
    );
}

#[test]
fn explain_takes_a_message_with_the_password() {
    let message = format!(
        "failed to pull image \"{}/openclaw/openclaw:v1\": 401 Unauthorized, basic auth {}:{} \
         (auth {})",
        lab().tls_registry,
        lab().user,
        lab().pass,
        STANDARD.encode(format!("{}:{}", lab().user, lab().pass))
    );
    for format in ["table", "json", "yaml"] {
        let output = zot(["explain", "-o", format, &message]).run();
        assert!(
            matches!(output.code, Some(0) | Some(1)),
            "explain -o {format} exited with {:?}:\n{}",
            output.code,
            output.stderr
        );
        assert!(
            !output.stderr.contains("panicked"),
            "explain -o {format} panicked:\n{}",
            output.stderr
        );
    }
    let output = zot(["explain", "-o", "json"]).stdin(&message).run();
    assert!(
        matches!(output.code, Some(0) | Some(1)),
        "{}",
        output.stderr
    );
    assert!(output.json()["cause"].is_string(), "{}", output.stdout);
}

#[test]
fn bearer_tokens_are_never_printed() {
    let lab = lab();
    let api = KubeApi::start("token", KubeOptions::new().namespace("tokens"));
    for format in ["table", "json", "yaml"] {
        let output = zot(["diagnose", "-o", format, "-v", "9", "--ca-file", &ca()])
            .kube(&api)
            .run();
        output.assert_code(1);
        assert!(
            output.stderr.contains("token"),
            "-v 9 logged nothing about the token flow, so the check proves nothing:\n{}",
            output.stderr
        );
        // The lab's tokens are JWTs, and every JWT starts with the base64 of `{"`.
        for (stream, text) in [("stdout", &output.stdout), ("stderr", &output.stderr)] {
            assert!(
                !text.contains("eyJ"),
                "-o {format}: a bearer token appears on {stream}"
            );
            assert!(
                !text.contains(&lab.token_pass),
                "-o {format}: the token user's password appears on {stream}"
            );
            assert!(
                !text.contains(&lab.limited_pass),
                "-o {format}: the limited user's password appears on {stream}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Credentials on the wire

#[test]
fn plain_http_host_gets_no_credentials() {
    assert!(lab().netns, "plain.lab.test resolves only inside lab/netns");
    let proxy = FaultProxy::start_with(ProxySetup {
        upstream: format!("https://{}", lab().tls_registry),
        plain: true,
        host: "plain.lab.test",
        rules: Vec::new(),
    });
    let api = transport_api(&proxy.address);
    let (code, report, _) = diagnose_json(&api, &["--ca-file", &ca()]);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(
        report["findings"][0]["cause"], "http-https-mismatch",
        "{report:#}"
    );
    assert!(
        proxy.authorizations().is_empty(),
        "credentials went over plain HTTP to {}: {:?}",
        proxy.address,
        proxy.authorizations()
    );
}

#[test]
fn plain_http_flag_allows_credentials() {
    assert!(lab().netns, "plain.lab.test resolves only inside lab/netns");
    let proxy = FaultProxy::start_with(ProxySetup {
        upstream: format!("https://{}", lab().tls_registry),
        plain: true,
        host: "plain.lab.test",
        rules: Vec::new(),
    });
    let api = transport_api(&proxy.address);
    let (code, report, _) = diagnose_json(&api, &["--plain-http", &proxy.address]);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(
        report["findings"][0]["cause"], "image-available-now",
        "{report:#}"
    );
    let expected = logged_basic(&lab().user, &lab().pass);
    assert!(
        proxy.authorizations().contains(&expected),
        "--plain-http {} sent no Basic credentials: {:?}",
        proxy.address,
        proxy.authorizations()
    );
}

#[test]
fn redirect_to_other_host_drops_credentials() {
    let target = FaultProxy::start(&[]);
    let redirect = format!(
        "/manifests/=redirect:https://127.0.0.1:{}{{path}}",
        target.port
    );
    let proxy = FaultProxy::start(&[&redirect]);
    let api = transport_api(&proxy.address);
    let (code, report, _) = diagnose_json(&api, &["--ca-file", &ca()]);
    assert_eq!(code, Some(1), "{report:#}");
    assert!(
        proxy
            .authorizations()
            .contains(&logged_basic(&lab().user, &lab().pass)),
        "the first registry got no credentials, so the test proves nothing: {:?}",
        proxy.authorizations()
    );
    assert!(
        !target.requests().is_empty(),
        "the redirect was not followed, so the test proves nothing"
    );
    assert!(
        target.authorizations().is_empty(),
        "credentials were forwarded to the redirect target: {:?}",
        target.authorizations()
    );
}

#[test]
fn token_registry_gets_only_bearer_tokens() {
    let proxy = FaultProxy::start_with(ProxySetup {
        upstream: format!("https://{}", lab().token_registry),
        plain: false,
        host: "127.0.0.1",
        rules: Vec::new(),
    });
    let lab = lab();
    let options = KubeOptions::new()
        .namespace("tokens")
        .var("TOKEN_REGISTRY", &proxy.address)
        .var(
            "TOKEN_DOCKERCONFIGJSON",
            &docker_config_json(&proxy.address, &lab.token_user, &lab.token_pass),
        )
        .var(
            "LIMITED_DOCKERCONFIGJSON",
            &docker_config_json(&proxy.address, &lab.limited_user, &lab.limited_pass),
        );
    let api = KubeApi::start("token", options);

    let token_log = lab.dir.join("token/token.log");
    let token_requests_before = fs::read_to_string(&token_log)
        .unwrap_or_default()
        .lines()
        .count();
    let output = zot(["diagnose", "-o", "json", "--ca-file", &ca()])
        .kube(&api)
        .run();
    output.assert_code(1);

    let authorizations = proxy.authorizations();
    assert!(
        authorizations
            .iter()
            .any(|value| value.starts_with("Bearer ")),
        "no bearer token reached the registry: {authorizations:?}"
    );
    assert!(
        authorizations
            .iter()
            .all(|value| value.starts_with("Bearer ")),
        "the registry got something other than a bearer token: {authorizations:?}"
    );

    let token_log = fs::read_to_string(&token_log).unwrap_or_default();
    assert!(
        token_log.lines().count() > token_requests_before,
        "no token was requested from the realm the challenge names"
    );
    assert!(
        !token_log.contains(&lab.token_pass),
        "the token server's log holds the password"
    );
}

// ---------------------------------------------------------------------------------------
// Hostile registries

#[test]
fn slow_registry_ends_in_bounded_time() {
    for rule in [
        "/manifests/=delay:60",
        "^/v2/$=delay:60",
        "/tags/list=delay:60",
    ] {
        let proxy = FaultProxy::start(&[rule]);
        let (api, _cluster) = api_only_cluster(&proxy.address);
        let started = Instant::now();
        let (code, report, _) =
            diagnose_json(&api, &["--ca-file", &ca(), "--registry-timeout", "2s"]);
        let elapsed = started.elapsed();
        assert_eq!(code, Some(1), "{rule}: {report:#}");
        assert!(
            elapsed < Duration::from_secs(30),
            "{rule}: a 2 s registry timeout took {elapsed:?}"
        );
        let text = report["findings"][0].to_string();
        assert!(text.contains(&proxy.address), "{rule}: {report:#}");
    }
}

#[test]
fn slow_registry_bounds_a_whole_namespace() {
    let proxy = FaultProxy::start(&["/manifests/=delay:60"]);
    let api = openclaw_api(&proxy.address);
    let started = Instant::now();
    let (code, report, _) = diagnose_json(&api, &["--ca-file", &ca(), "--registry-timeout", "2s"]);
    let elapsed = started.elapsed();
    assert_eq!(code, Some(1), "{report:#}");
    // Ten images, each with a few timed-out requests: far less than a minute unless the
    // timeouts add up one after another for every attempt.
    assert!(
        elapsed < Duration::from_secs(60),
        "15 failing pods behind a 2 s registry timeout took {elapsed:?}"
    );
    assert!(
        report["findings"].as_array().unwrap().len() >= 10,
        "{report:#}"
    );
}

/// Starts the API server on the `openclaw` cluster cut down to `deployment/api`, whose tag
/// is missing, so its check lists tags, with every image on `registry`. The fixture copy
/// lives as long as the returned directory.
fn api_only_cluster(registry: &str) -> (KubeApi, TempDir) {
    let secret = docker_config_json(registry, &lab().user, &lab().pass);
    let mut files = OPENCLAW_BASE.to_vec();
    files.push("deployment-api.json");
    let cluster = cluster_subset("openclaw", &files);
    let options = KubeOptions::new()
        .var("REGISTRY", registry)
        .var("DOCKERCONFIGJSON", &secret);
    let api = KubeApi::start(cluster.path().to_str().unwrap(), options);
    (api, cluster)
}

#[test]
fn hostile_tag_lists_give_a_finding() {
    // Whether tags/list still parses under the fault: a wrong Content-Type alone does not
    // stop a client that reads the body as JSON.
    let rules = [
        ("/tags/list=malformed-json", false),
        ("/tags/list=wrong-content-type", true),
        ("/tags/list=oversize:9000000", false),
        ("/tags/list=status:500", false),
        ("/tags/list=drop", false),
        ("/tags/list=redirect-loop", false),
    ];
    for (rule, readable) in rules {
        let proxy = FaultProxy::start(&[rule]);
        let (api, _cluster) = api_only_cluster(&proxy.address);
        let (code, report, stderr) = diagnose_json(&api, &["--ca-file", &ca()]);
        assert_eq!(code, Some(1), "{rule}: {report:#}\n{stderr}");
        assert!(!stderr.contains("panicked"), "{rule}: {stderr}");
        assert!(
            proxy
                .requests()
                .iter()
                .any(|record| record["rule"].as_str() == Some(rule)),
            "{rule}: the rule never applied"
        );

        let api_finding = finding(&report, "deployment/api");
        assert_eq!(
            api_finding["cause"], "tag-not-found",
            "{rule}: {api_finding:#}"
        );
        assert!(
            api_finding.to_string().contains(&proxy.address),
            "{rule}: the finding does not name the registry: {api_finding:#}"
        );
        let message = api_finding["message"].as_str().unwrap();
        if readable {
            assert!(message.contains("closest of its"), "{rule}: {message}");
        } else {
            assert!(
                message.contains("tags could not be listed"),
                "{rule}: the finding hides why no closest tags are given: {message}"
            );
        }
    }
}

#[test]
fn manifest_under_the_limit_is_accepted() {
    let rule = "GET /v2/openclaw/workspace/manifests/=oversize:4000000";
    let (report, proxy) = openclaw_through(&[rule]);
    let recovered = finding(&report, "deployment/recovered");
    assert_eq!(
        recovered["cause"], "image-available-now",
        "a 4 000 000-byte manifest is within the 4 MiB limit: {recovered:#}"
    );
    assert!(
        proxy
            .requests()
            .iter()
            .any(|record| record["rule"].as_str() == Some(rule)),
        "the padding rule never applied"
    );
}

/// Runs the whole `openclaw` cluster through a proxy with `rules` and checks that the rest of
/// the report still comes out. Returns the report and the proxy for further checks.
fn openclaw_through(rules: &[&str]) -> (Value, FaultProxy) {
    let proxy = FaultProxy::start(rules);
    let api = openclaw_api(&proxy.address);
    let started = Instant::now();
    let (code, report, stderr) = diagnose_json(&api, &["--ca-file", &ca()]);
    assert!(
        started.elapsed() < Duration::from_secs(90),
        "{rules:?}: the run took {:?}",
        started.elapsed()
    );
    assert_eq!(code, Some(1), "{rules:?}: {report:#}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{rules:?}: {stderr}");
    let causes = causes(&report);
    assert_eq!(
        causes.get("api").map(String::as_str),
        Some("tag-not-found"),
        "{rules:?}: a fault in openclaw/workspace changed another image's finding: {causes:?}"
    );
    assert_eq!(
        causes.get("worker").map(String::as_str),
        Some("repository-not-found"),
        "{rules:?}: {causes:?}"
    );
    (report, proxy)
}

/// Asserts that the `recovered` pod, whose image is `openclaw/workspace:latest`, has a finding
/// that names the registry.
fn assert_workspace_finding_names_registry(report: &Value, proxy: &FaultProxy, fault: &str) {
    let recovered = finding(report, "deployment/recovered");
    let text = format!("{} {}", recovered["message"], recovered["evidence"]);
    assert!(
        text.contains(&proxy.address),
        "{fault}: the finding does not name the registry {}: {recovered:#}",
        proxy.address
    );
}

#[test]
fn dropped_connections_give_a_finding() {
    let (report, proxy) = openclaw_through(&["/v2/openclaw/workspace/manifests/=drop"]);
    assert_workspace_finding_names_registry(&report, &proxy, "drop");
}

#[test]
fn reset_connections_give_a_finding() {
    let (report, proxy) = openclaw_through(&["/v2/openclaw/workspace/manifests/=reset"]);
    assert_workspace_finding_names_registry(&report, &proxy, "reset");
}

#[test]
fn malformed_manifest_gives_a_finding() {
    let (report, proxy) =
        openclaw_through(&["GET /v2/openclaw/workspace/manifests/=malformed-json"]);
    let recovered = finding(&report, "deployment/recovered");
    assert_ne!(recovered["cause"], "image-available-now", "{recovered:#}");
    assert_workspace_finding_names_registry(&report, &proxy, "malformed-json");
}

#[test]
fn wrong_content_type_gives_a_report() {
    let (report, _proxy) =
        openclaw_through(&["/v2/openclaw/workspace/manifests/=wrong-content-type"]);
    assert!(finding(&report, "deployment/recovered")["cause"].is_string());
}

#[test]
fn oversized_manifest_is_rejected() {
    for rule in [
        "GET /v2/openclaw/workspace/manifests/=oversize:5000000",
        "GET /v2/openclaw/workspace/manifests/=oversize:5000000:chunked",
    ] {
        let (report, proxy) = openclaw_through(&[rule]);
        let recovered = finding(&report, "deployment/recovered");
        assert_ne!(
            recovered["cause"], "image-available-now",
            "{rule}: {recovered:#}"
        );
        assert!(
            recovered.to_string().contains("limit"),
            "{rule}: the finding does not say the manifest is over the limit: {recovered:#}"
        );
        assert_workspace_finding_names_registry(&report, &proxy, rule);
        let sent: u64 = proxy
            .requests()
            .iter()
            .filter(|record| record["rule"].as_str() == Some(rule))
            .map(|record| record["response_bytes"].as_u64().unwrap_or(0))
            .sum();
        assert!(sent > 0, "{rule}: the rule never applied");
    }
}

#[test]
fn redirect_loop_ends() {
    let (report, proxy) = openclaw_through(&["/v2/openclaw/workspace/manifests/=redirect-loop"]);
    let looped = proxy
        .requests()
        .iter()
        .filter(|record| record["action"].as_str() == Some("redirect-loop"))
        .count();
    assert!(looped > 0, "the redirect loop never applied");
    assert!(looped <= 60, "{looped} requests to a redirect loop");
    assert_workspace_finding_names_registry(&report, &proxy, "redirect-loop");
}

#[test]
fn server_error_retries_are_bounded() {
    let (report, proxy) =
        openclaw_through(&["/v2/openclaw/workspace/manifests/=status:503:retry-after=0"]);
    let recovered = finding(&report, "deployment/recovered");
    assert_eq!(recovered["cause"], "registry-error", "{recovered:#}");
    let mut attempts: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    for record in proxy.requests() {
        if record["action"].as_str() != Some("status") {
            continue;
        }
        let method = record["method"].as_str().unwrap().to_string();
        assert!(
            method == "GET" || method == "HEAD",
            "a {method} request got a retryable fault"
        );
        let key = (
            method,
            record["path"].as_str().unwrap().to_string(),
            record["headers"]["authorization"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        );
        *attempts.entry(key).or_default() += 1;
    }
    assert!(!attempts.is_empty(), "the 503 rule never applied");
    let max = attempts.values().max().copied().unwrap();
    assert!(max >= 2, "503 was never retried: {attempts:?}");
    assert!(max <= 3, "503 was retried more than twice: {attempts:?}");
}

#[test]
fn rate_limit_honours_retry_after() {
    let proxy = FaultProxy::start(&["/manifests/=status:429:retry-after=2:times=1"]);
    let api = transport_api(&proxy.address);
    let (code, report, _) = diagnose_json(&api, &["--ca-file", &ca()]);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(
        report["findings"][0]["cause"], "image-available-now",
        "{report:#}"
    );
    let requests = proxy.requests();
    let limited = requests
        .iter()
        .position(|record| record["status"] == 429)
        .expect("the 429 rule never applied");
    let retry = &requests[limited + 1..]
        .iter()
        .find(|record| record["path"] == requests[limited]["path"])
        .expect("the rate-limited request was not retried");
    let first =
        chrono::DateTime::parse_from_rfc3339(requests[limited]["time"].as_str().unwrap()).unwrap();
    let second = chrono::DateTime::parse_from_rfc3339(retry["time"].as_str().unwrap()).unwrap();
    let waited = (second - first).num_milliseconds();
    assert!(
        waited >= 1900,
        "the retry came {waited} ms after a Retry-After of 2 s"
    );
}

#[test]
fn long_retry_after_is_not_waited_for() {
    let proxy = FaultProxy::start(&["/manifests/=status:429:retry-after=3600"]);
    let api = transport_api(&proxy.address);
    let started = Instant::now();
    let (code, report, _) = diagnose_json(&api, &["--ca-file", &ca()]);
    assert_eq!(code, Some(1), "{report:#}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "a Retry-After of an hour held the run for {:?}",
        started.elapsed()
    );
    assert_eq!(report["findings"][0]["cause"], "rate-limited", "{report:#}");
}

#[test]
fn link_to_other_host_is_not_followed() {
    let target = FaultProxy::start(&[]);
    let link = format!("/tags/list=link:https://127.0.0.1:{}{{path}}", target.port);
    let proxy = FaultProxy::start(&[&link]);
    let (api, _cluster) = api_only_cluster(&proxy.address);

    let (code, report, _) = diagnose_json(&api, &["--ca-file", &ca()]);
    assert_eq!(code, Some(1), "{report:#}");
    assert_eq!(
        causes(&report).get("api").map(String::as_str),
        Some("tag-not-found"),
        "{report:#}"
    );

    assert!(
        proxy
            .requests()
            .iter()
            .any(|record| record["action"].as_str() == Some("link")),
        "the Link rule never applied"
    );
    assert!(
        target.requests().is_empty(),
        "a Link to another host was followed: {:?}",
        target.requests()
    );
}

#[test]
fn link_loop_is_read_once() {
    let proxy = FaultProxy::start(&["/tags/list=link:{path}"]);
    let (api, _cluster) = api_only_cluster(&proxy.address);

    let (code, report, _) = diagnose_json(&api, &["--ca-file", &ca()]);
    assert_eq!(code, Some(1), "{report:#}");
    let api_finding = finding(&report, "deployment/api");
    assert_eq!(api_finding["cause"], "tag-not-found", "{api_finding:#}");
    assert!(
        api_finding["message"]
            .as_str()
            .unwrap()
            .contains("closest of its 9 tags"),
        "a Link back to the same page repeated its tags: {api_finding:#}"
    );
    let tag_pages = proxy
        .requests()
        .iter()
        .filter(|record| record["action"].as_str() == Some("link"))
        .count();
    assert!(tag_pages >= 1, "the Link rule never applied");
    assert!(
        tag_pages <= 2,
        "{tag_pages} tags/list requests for a Link that points back to its own page"
    );
}

// ---------------------------------------------------------------------------------------
// Broken clusters

#[test]
fn forbidden_reads_become_warnings() {
    let cases = [
        ("get:secrets", "secrets"),
        ("get:serviceaccounts", "serviceaccounts"),
        ("list:events", "events"),
        ("get:nodes", "nodes"),
    ];
    for (rule, resource) in cases {
        let api = KubeApi::start("openclaw", KubeOptions::new().forbid(rule));
        let (code, report, stderr) = diagnose_json(&api, &["--ca-file", &ca()]);
        assert_eq!(code, Some(1), "forbid {rule}: {stderr}");
        let warnings = warnings(&report);
        let warning = warnings
            .iter()
            .find(|warning| warning.contains(resource) && warning.contains("forbidden"))
            .unwrap_or_else(|| panic!("forbid {rule}: no warning names {resource}: {warnings:?}"));
        assert!(
            warning.contains("kubectl create")
                && warning.contains(&format!("--resource={resource}")),
            "forbid {rule}: the warning does not say how to grant it: {warning}"
        );
        assert!(
            !report["findings"].as_array().unwrap().is_empty(),
            "forbid {rule}: no findings"
        );
    }
}

#[test]
fn failing_event_list_still_gives_a_report() {
    let api = KubeApi::start("openclaw", KubeOptions::new().fail("list:events:500"));
    let (code, report, stderr) = diagnose_json(&api, &["--ca-file", &ca()]);
    assert_eq!(code, Some(1), "{stderr}");
    let warnings = warnings(&report);
    assert!(
        warnings.iter().any(|warning| warning.contains("events")),
        "{warnings:?}"
    );
    assert_eq!(
        causes(&report).get("api").map(String::as_str),
        Some("tag-not-found")
    );
}

#[test]
fn missing_pod_exits_two() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let output = zot(["diagnose", "no-such-pod-7f3k", "-n", "openclaw"])
        .kube(&api)
        .run();
    output.assert_code(2);
    assert!(output.stderr.contains("not found"), "{}", output.stderr);
    assert!(
        output.stderr.contains("no-such-pod-7f3k"),
        "the error does not name the pod: {}",
        output.stderr
    );
    assert!(!output.stderr.contains("panicked"), "{}", output.stderr);
}

#[test]
fn pod_get_404_exits_two() {
    let api = KubeApi::start("openclaw", KubeOptions::new().fail("get:pods:404"));
    let pods = api.get("/api/v1/namespaces/openclaw/pods");
    assert_eq!(pods.status, 200);
    let name = pods.body["items"][0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let output = zot(["diagnose", &name, "-n", "openclaw"]).kube(&api).run();
    output.assert_code(2);
    assert!(
        output.stderr.contains("404") || output.stderr.contains("NotFound"),
        "{}",
        output.stderr
    );
    assert!(
        output.stdout.is_empty(),
        "a report after a failed GET: {}",
        output.stdout
    );
}

#[test]
fn slow_cluster_honours_request_timeout() {
    let api = KubeApi::start("openclaw", KubeOptions::new().delay("list:pods:60"));
    let started = Instant::now();
    let output = zot(["diagnose", "-n", "openclaw", "--request-timeout", "2s"])
        .kube(&api)
        .run();
    let elapsed = started.elapsed();
    output.assert_code(2);
    assert!(
        elapsed < Duration::from_secs(20),
        "--request-timeout 2s took {elapsed:?}"
    );
    assert!(!output.stderr.contains("panicked"), "{}", output.stderr);
}

#[test]
fn paged_lists_diagnose_every_pod() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let (_, whole, _) = diagnose_json(&api, &["--ca-file", &ca()]);
    let paged_api = KubeApi::start("openclaw", KubeOptions::new().page_size(2));
    let (code, paged, _) = diagnose_json(&paged_api, &["--ca-file", &ca()]);
    assert_eq!(code, Some(1));
    assert_eq!(
        causes(&paged),
        causes(&whole),
        "paging changed the findings"
    );
    assert_eq!(paged["checked"]["pods"], whole["checked"]["pods"]);
    let pod_lists: Vec<_> = paged_api
        .requests()
        .into_iter()
        .filter(|request| {
            request.verb.as_deref() == Some("list") && request.resource.as_deref() == Some("pods")
        })
        .collect();
    assert!(
        pod_lists.len() > 2,
        "{} pod LIST requests for pages of 2",
        pod_lists.len()
    );
    assert!(
        pod_lists
            .iter()
            .skip(1)
            .all(|request| request.query.contains_key("continue")),
        "a follow-up LIST has no continue token: {pod_lists:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Process behaviour

/// Builds a command for the binary with the harness's clean environment.
fn raw_command(api: &KubeApi, home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kubectl-zot"));
    command
        .env_clear()
        .env("PATH", SYSTEM_PATH)
        .env("HOME", home)
        .env("KUBECONFIG", &api.kubeconfig);
    command
}

#[test]
fn closed_stdout_ends_quietly() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let home = TempDir::new().unwrap();
    let mut child = raw_command(&api, home.path())
        .args(["diagnose", "-n", "openclaw", "--ca-file", &ca()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closing the read end first makes every write to stdout fail with EPIPE.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.trim().is_empty(), "stderr: {stderr}");

    // A whole report may fit in the pipe buffer before `head` exits, so the writer's own
    // status may be 1 (findings); it must never be 2 or the 141 of a SIGPIPE death.
    let script = format!(
        "'{}' diagnose -n openclaw -o yaml --ca-file '{}' | head -1; echo \"writer=${{PIPESTATUS[0]}}\"",
        env!("CARGO_BIN_EXE_kubectl-zot"),
        ca()
    );
    let output = Command::new("bash")
        .args(["-c", &script])
        .env_clear()
        .env("PATH", SYSTEM_PATH)
        .env("HOME", home.path())
        .env("KUBECONFIG", &api.kubeconfig)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.trim().is_empty(), "stderr: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[1] == "writer=0" || lines[1] == "writer=1",
        "kubectl-zot | head -1 ended with {}",
        lines[1]
    );
}

#[test]
fn interrupt_exits_130() {
    let proxy = FaultProxy::start(&["/v2/=delay:60"]);
    let api = transport_api(&proxy.address);
    let home = TempDir::new().unwrap();
    let mut child = raw_command(&api, home.path())
        .args(["diagnose", "-n", "openclaw", "--ca-file", &ca()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The proxy logs a delayed request only when it answers, so wait until the run must
    // be inside the registry check (the cluster reads take well under a second).
    thread::sleep(Duration::from_secs(3));
    assert!(
        child.try_wait().unwrap().is_none(),
        "kubectl-zot ended before the interrupt, so the test proves nothing"
    );
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = Instant::now();
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            panic!("kubectl-zot did not stop within 10 s of SIGINT");
        }
        thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(code, Some(130));
}

#[test]
fn no_temporary_files_are_written() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let tmp = TempDir::new().unwrap();
    for format in ["table", "json"] {
        let output = zot([
            "diagnose",
            "-n",
            "openclaw",
            "-o",
            format,
            "--ca-file",
            &ca(),
        ])
        .kube(&api)
        .env("TMPDIR", tmp.path())
        .run();
        output.assert_code(1);
    }
    let left: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert!(left.is_empty(), "files left in TMPDIR: {left:?}");
}
