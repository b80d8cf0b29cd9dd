//! `kubectl zot secrets` against the real lab registries and the Kubernetes API test server,
//! on the `secrets` fixture cluster (see tests/clusters/secrets).
//!
//! Needs the lab environment: run through `lab/test`.

mod support;

use serde_json::Value;
use support::kube::{KubeApi, KubeOptions, cluster_subset};
use support::lab::{OTHER_HOST, lab};
use support::{ZotOutput, zot};

const NAMESPACE: &str = "secrets";

fn start() -> KubeApi {
    KubeApi::start("secrets", KubeOptions::new().namespace(NAMESPACE))
}

fn ca() -> String {
    lab().ca.display().to_string()
}

/// Runs `secrets` in the fixture namespace with `extra` arguments.
fn secrets(api: &KubeApi, extra: &[&str]) -> ZotOutput {
    let mut args = vec!["secrets", "-n", NAMESPACE];
    args.extend_from_slice(extra);
    zot(args).kube(api).run()
}

/// Returns the report's secret called `name`.
fn secret<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["secrets"]
        .as_array()
        .expect("secrets array")
        .iter()
        .find(|secret| secret["name"] == name)
        .unwrap_or_else(|| panic!("no secret {name} in {report:#}"))
}

fn problem_kinds(secret: &Value) -> Vec<String> {
    secret["problems"]
        .as_array()
        .expect("problems array")
        .iter()
        .map(|problem| problem["kind"].as_str().unwrap_or("-").to_string())
        .collect()
}

fn login_status(secret: &Value) -> String {
    secret["entries"][0]["login"]["status"]
        .as_str()
        .unwrap_or_else(|| panic!("no login status in {secret:#}"))
        .to_string()
}

#[test]
fn good_secret_shows_entry_and_users() {
    let api = start();
    let output = secrets(&api, &["-o", "json"]);
    output.assert_code(1);
    let report = output.json();
    let regcred = secret(&report, "regcred");
    let registry = &lab().tls_registry;
    assert_eq!(regcred["namespace"], NAMESPACE);
    assert_eq!(regcred["type"], "kubernetes.io/dockerconfigjson");
    assert_eq!(regcred["kubelet_reads"], true);
    assert_eq!(regcred["problems"], serde_json::json!([]));

    let entry = &regcred["entries"][0];
    assert_eq!(entry["registry"], registry.as_str());
    assert_eq!(entry["normalized"], registry.as_str());
    assert_eq!(entry["username"], lab().user.as_str());
    assert_eq!(entry["password"], "***");
    assert_eq!(
        entry["fields"],
        serde_json::json!(["auth", "username", "password"])
    );
    assert!(entry.get("login").is_none(), "login only with --check");

    let used_by = &regcred["used_by"];
    assert_eq!(used_by["service_accounts"], serde_json::json!(["default"]));
    assert_eq!(used_by["pods"], serde_json::json!(["web"]));
    assert!(
        used_by.get("pods_missing_it").is_none(),
        "pods with pull secrets of their own do not get the account's: {used_by:#}"
    );
    assert_eq!(
        used_by["images"],
        serde_json::json!([{
            "image": format!("{registry}/openclaw/openclaw:latest"),
            "entry": registry,
        }])
    );
}

#[test]
fn every_secret_case_is_decoded() {
    let api = start();
    let output = secrets(&api, &["-o", "json"]);
    output.assert_code(1);
    let report = output.json();
    let names: Vec<&str> = report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|secret| secret["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "does-not-exist",
            "regcred",
            "regcred-badauth",
            "regcred-helper",
            "regcred-legacy",
            "regcred-old",
            "regcred-opaque",
            "regcred-other",
            "regcred-sa",
        ],
        "db-password holds no Docker config and no pod lists it"
    );

    let rotated = secret(&report, "regcred-old");
    assert_eq!(problem_kinds(rotated), Vec::<String>::new());
    assert_eq!(rotated["entries"][0]["password"], "***");

    let other = secret(&report, "regcred-other");
    assert_eq!(other["entries"][0]["registry"], OTHER_HOST);
    let image = &other["used_by"]["images"][0];
    assert_eq!(image["entry"], Value::Null);
    let reason = image["reason"].as_str().unwrap();
    assert!(reason.contains(OTHER_HOST), "{reason}");
    let tls_host = lab().tls_registry.split(':').next().unwrap();
    assert!(reason.contains(tls_host), "{reason}");

    let opaque = secret(&report, "regcred-opaque");
    assert_eq!(opaque["type"], "Opaque");
    assert_eq!(opaque["kubelet_reads"], false);
    assert_eq!(problem_kinds(opaque), ["wrong-type"]);
    assert_eq!(opaque["problems"][0]["cause"], "secret-invalid");
    assert_eq!(opaque["problems"][0]["effect"], "ignored");
    assert_eq!(opaque["entries"][0]["username"], lab().user.as_str());
    assert_eq!(opaque["used_by"]["images"][0]["entry"], Value::Null);

    let legacy = secret(&report, "regcred-legacy");
    assert_eq!(legacy["type"], "kubernetes.io/dockercfg");
    assert_eq!(problem_kinds(legacy), Vec::<String>::new());
    assert_eq!(legacy["entries"][0]["username"], "puller");
    assert_eq!(legacy["entries"][0]["fields"], serde_json::json!(["auth"]));
    assert_eq!(
        legacy["used_by"]["images"][0]["entry"],
        lab().tls_registry.as_str()
    );

    let bad = secret(&report, "regcred-badauth");
    assert_eq!(problem_kinds(bad), ["invalid-auth-base64"]);
    assert_eq!(bad["problems"][0]["cause"], "secret-invalid");
    assert_eq!(bad["problems"][0]["effect"], "unparsable");
    let reason = bad["used_by"]["images"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("cannot parse"), "{reason}");

    let helper = secret(&report, "regcred-helper");
    let image = &helper["used_by"]["images"][0];
    assert_eq!(image["entry"], lab().tls_registry.as_str());
    let reason = image["reason"].as_str().unwrap();
    assert!(reason.contains("without credentials"), "{reason}");
    let kinds = problem_kinds(helper);
    assert!(
        kinds.contains(&"credential-helper-only".to_string()),
        "{kinds:?}"
    );

    let missing = secret(&report, "does-not-exist");
    assert_eq!(missing["problems"][0]["cause"], "secret-not-found");
    assert_eq!(missing["used_by"]["pods"], serde_json::json!(["ghost"]));
    assert!(missing.get("type").is_none());
}

#[test]
fn service_account_secret_names_account() {
    let api = start();
    let output = secrets(&api, &["regcred-sa", "-o", "json"]);
    output.assert_code(0);
    let report = output.json();
    let account = secret(&report, "regcred-sa");
    assert_eq!(
        account["used_by"]["service_accounts"],
        serde_json::json!(["deployer"])
    );
    assert_eq!(account["used_by"]["pods"], serde_json::json!(["deployer"]));
    assert_eq!(
        account["used_by"]["pods_missing_it"],
        serde_json::json!(["deployer-old"]),
        "deployer-old lists no pull secret, so it was created before the account listed one"
    );
    assert_eq!(
        account["entries"][0]["username"],
        lab().limited_user.as_str()
    );
    assert_eq!(
        account["used_by"]["images"][0]["entry"],
        lab().token_registry.as_str()
    );
}

#[test]
fn named_secrets_are_read_with_get() {
    let api = start();
    let output = secrets(&api, &["regcred", "-o", "json"]);
    output.assert_code(0);
    assert_eq!(output.json()["secrets"].as_array().unwrap().len(), 1);
    let requests = api.requests();
    let secret_requests: Vec<_> = requests
        .iter()
        .filter(|request| request.resource.as_deref() == Some("secrets"))
        .collect();
    assert_eq!(secret_requests.len(), 1, "{secret_requests:?}");
    assert_eq!(secret_requests[0].verb.as_deref(), Some("get"));
    assert_eq!(secret_requests[0].name.as_deref(), Some("regcred"));
    assert!(
        requests.iter().all(|request| !request.is_write()),
        "secrets wrote to the cluster"
    );
}

#[test]
fn named_missing_secret_is_reported() {
    let api = start();
    let output = secrets(&api, &["nothere", "-o", "json"]);
    output.assert_code(1);
    let report = output.json();
    assert_eq!(
        secret(&report, "nothere")["problems"][0]["cause"],
        "secret-not-found"
    );
}

#[test]
fn check_reports_login_per_entry() {
    let api = start();
    let output = secrets(&api, &["--check", "--ca-file", &ca(), "-o", "json"]);
    output.assert_code(1);
    let report = output.json();
    let expected = [
        ("regcred", "ok"),
        ("regcred-old", "credentials-rejected"),
        ("regcred-legacy", "credentials-rejected"),
        ("regcred-other", "dns-error"),
        ("regcred-opaque", "ok"),
        ("regcred-sa", "ok"),
        ("regcred-badauth", "not-checked"),
        ("regcred-helper", "not-checked"),
    ];
    for (name, status) in expected {
        assert_eq!(
            login_status(secret(&report, name)),
            status,
            "{name}: {:#}",
            secret(&report, name)["entries"][0]
        );
    }

    let login = &secret(&report, "regcred")["entries"][0]["login"];
    assert_eq!(
        login["image"],
        format!("{}/openclaw/openclaw:latest", lab().tls_registry)
    );
    assert!(
        login["auth"].as_str().unwrap().starts_with("basic"),
        "{login:#}"
    );

    let login = &secret(&report, "regcred-opaque")["entries"][0]["login"];
    assert_eq!(
        login["image"],
        format!("{}/openclaw/openclaw:latest", lab().tls_registry),
        "an ignored secret is checked against the image it was meant for"
    );

    let login = &secret(&report, "regcred-sa")["entries"][0]["login"];
    assert!(
        login["auth"].as_str().unwrap().starts_with("bearer"),
        "{login:#}"
    );
}

#[test]
fn check_good_secret_exits_zero() {
    let api = start();
    let output = secrets(&api, &["regcred", "--check", "--ca-file", &ca()]);
    output.assert_code(0);
    assert!(output.stdout.contains("login: ok"), "{}", output.stdout);
}

#[test]
fn check_denies_limited_user_repository() {
    let api = start();
    let output = secrets(
        &api,
        &[
            "regcred-sa",
            "--check",
            "--repository",
            "openclaw/openclaw",
            "--ca-file",
            &ca(),
            "-o",
            "json",
        ],
    );
    output.assert_code(1);
    let report = output.json();
    let account = secret(&report, "regcred-sa");
    assert_eq!(login_status(account), "access-denied");
    assert_eq!(
        account["entries"][0]["login"]["image"],
        format!("{}/openclaw/openclaw", lab().token_registry)
    );
}

#[test]
fn check_without_image_probes_login() {
    // Without pods, no image names a repository, so a probe repository is asked.
    let dir = cluster_subset("secrets", &["namespace.json", "nodes.json", "secrets.json"]);
    let api = KubeApi::start(
        dir.path().to_str().unwrap(),
        KubeOptions::new().namespace(NAMESPACE),
    );
    let output = secrets(
        &api,
        &[
            "regcred",
            "regcred-old",
            "--check",
            "--ca-file",
            &ca(),
            "-o",
            "json",
        ],
    );
    output.assert_code(1);
    let report = output.json();
    assert_eq!(login_status(secret(&report, "regcred")), "ok");
    assert_eq!(
        login_status(secret(&report, "regcred-old")),
        "credentials-rejected"
    );
}

#[test]
fn images_lists_uncovered_with_fix() {
    let api = start();
    let output = secrets(&api, &["--images", "-o", "json"]);
    output.assert_code(1);
    let report = output.json();
    let uncovered = report["uncovered_images"].as_array().expect("images array");
    let public_image = format!("{}/openclaw/openclaw:latest", lab().plain_registry);
    let public = uncovered
        .iter()
        .find(|image| image["image"] == public_image.as_str())
        .unwrap_or_else(|| panic!("{public_image} not listed: {uncovered:#?}"));
    assert_eq!(public["pods"], serde_json::json!(["public"]));
    assert_eq!(public["registry"], lab().plain_registry.as_str());
    let command = public["command"].as_str().unwrap();
    assert!(
        command.starts_with("kubectl create secret docker-registry "),
        "{command}"
    );
    assert!(
        command.contains(&format!("--docker-server={}", lab().plain_registry)),
        "{command}"
    );
    assert!(command.ends_with(&format!("-n {NAMESPACE}")), "{command}");

    let tls_image = format!("{}/openclaw/openclaw:latest", lab().tls_registry);
    let tls = uncovered
        .iter()
        .find(|image| image["image"] == tls_image.as_str())
        .expect("the TLS registry image of elsewhere and opaque");
    let pods: Vec<&str> = tls["pods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pod| pod.as_str().unwrap())
        .collect();
    for pod in ["elsewhere", "opaque", "badauth", "helper", "ghost"] {
        assert!(pods.contains(&pod), "{pod} missing from {pods:?}");
    }
    for pod in ["web", "rotated"] {
        assert!(
            !pods.contains(&pod),
            "{pod} has a matching secret: {pods:?}"
        );
    }
}

#[test]
fn without_images_flag_no_uncovered_list() {
    let api = start();
    let output = secrets(&api, &["regcred", "-o", "json"]);
    assert!(output.json().get("uncovered_images").is_none());
}

#[test]
fn password_never_printed_without_flag() {
    let api = start();
    let passwords = [
        lab().pass.as_str(),
        lab().limited_pass.as_str(),
        lab().token_pass.as_str(),
        "legacy-password",
    ];
    for format in ["table", "json", "yaml"] {
        for check in [false, true] {
            let ca = ca();
            let mut extra = vec!["-o", format, "-v", "9", "--images", "--ca-file", &ca];
            if check {
                extra.push("--check");
            }
            let output = secrets(&api, &extra);
            output.assert_code(1);
            for password in passwords {
                assert!(
                    !output.stdout.contains(password),
                    "-o {format} (check {check}) prints a password on stdout"
                );
                assert!(
                    !output.stderr.contains(password),
                    "-o {format} (check {check}) prints a password on stderr"
                );
            }
        }
    }
}

#[test]
fn show_secrets_prints_password() {
    let api = start();
    for format in ["table", "json", "yaml"] {
        let output = secrets(&api, &["regcred", "--show-secrets", "-o", format]);
        output.assert_code(0);
        assert!(
            output.stdout.contains(&lab().pass),
            "-o {format} --show-secrets lacks the password:\n{}",
            output.stdout
        );
    }
}

#[test]
fn table_names_problems_and_logins() {
    let api = start();
    let output = secrets(&api, &["--check", "--ca-file", &ca()]);
    output.assert_code(1);
    let text = &output.stdout;
    assert!(text.contains("login: credentials-rejected"), "{text}");
    assert!(
        text.contains("regcred-old (kubernetes.io/dockerconfigjson): login failed"),
        "{text}"
    );
    assert!(text.contains("problem [secret-invalid]"), "{text}");
    assert!(text.contains("problem [secret-not-found]"), "{text}");
}

#[test]
fn all_namespaces_with_names_is_usage_error() {
    let api = start();
    let output = zot(["secrets", "-A", "regcred"]).kube(&api).run();
    output.assert_code(2);
    assert!(output.stderr.contains("-n"), "{}", output.stderr);
}

#[test]
fn all_namespaces_lists_namespace_names() {
    let api = start();
    let output = zot(["secrets", "-A", "-o", "json"]).kube(&api).run();
    output.assert_code(1);
    let report = output.json();
    assert_eq!(secret(&report, "regcred")["namespace"], NAMESPACE);
    let table = zot(["secrets", "-A"]).kube(&api).run();
    assert!(
        table.stdout.contains(&format!("{NAMESPACE}/regcred ")),
        "{}",
        table.stdout
    );
}

#[test]
fn forbidden_secret_list_exits_two() {
    let api = KubeApi::start(
        "secrets",
        KubeOptions::new()
            .namespace(NAMESPACE)
            .forbid("list:secrets"),
    );
    let output = secrets(&api, &[]);
    output.assert_code(2);
    assert!(
        output.stderr.contains("cannot list secrets"),
        "{}",
        output.stderr
    );
}

#[test]
fn legacy_dockercfg_logs_in() {
    // The fixture's legacy secret has a made-up password; this one has the lab's.
    let dir = cluster_subset("secrets", &["namespace.json", "nodes.json", "pods.json"]);
    let auth = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{}:{}", lab().user, lab().pass),
    );
    let dockercfg = serde_json::json!({lab().tls_registry.as_str(): {"auth": auth}}).to_string();
    let object = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "regcred-legacy", "namespace": NAMESPACE},
        "type": "kubernetes.io/dockercfg",
        "stringData": {".dockercfg": dockercfg},
    });
    std::fs::write(dir.path().join("secrets.json"), object.to_string()).unwrap();

    let api = KubeApi::start(
        dir.path().to_str().unwrap(),
        KubeOptions::new().namespace(NAMESPACE),
    );
    let output = secrets(
        &api,
        &[
            "regcred-legacy",
            "--check",
            "--ca-file",
            &ca(),
            "-o",
            "json",
        ],
    );
    output.assert_code(0);

    let report = output.json();
    let legacy = secret(&report, "regcred-legacy");
    assert_eq!(legacy["type"], "kubernetes.io/dockercfg");
    assert_eq!(login_status(legacy), "ok");
    assert_eq!(
        legacy["entries"][0]["login"]["image"],
        format!("{}/openclaw/workspace:latest", lab().tls_registry)
    );
    assert!(!output.stdout.contains(&lab().pass), "password printed");
}

#[test]
fn paged_lists_keep_every_secret() {
    let api = KubeApi::start(
        "secrets",
        KubeOptions::new().namespace(NAMESPACE).page_size(2),
    );
    let output = secrets(&api, &["-o", "json"]);
    output.assert_code(1);
    let report = output.json();
    assert_eq!(report["secrets"].as_array().unwrap().len(), 9);
    assert_eq!(
        secret(&report, "regcred-sa")["used_by"]["pods"],
        serde_json::json!(["deployer"])
    );
    let continued = api
        .requests()
        .iter()
        .filter(|request| request.resource.as_deref() == Some("secrets"))
        .filter(|request| request.query.contains_key("continue"))
        .count();
    assert!(
        continued > 0,
        "no LIST of secrets followed a continue token"
    );
}
