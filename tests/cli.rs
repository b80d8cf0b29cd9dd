//! Command-line behaviour that needs no lab: explain, version, flags and exit statuses.

mod support;

use support::zot;

#[test]
fn explain_classifies_a_containerd_message() {
    let message = "Failed to pull image \"reg.example.test:5000/team/app:v2\": rpc error: code = NotFound \
                   desc = failed to pull and unpack image \"reg.example.test:5000/team/app:v2\": failed to \
                   resolve reference \"reg.example.test:5000/team/app:v2\": reg.example.test:5000/team/app:v2: not found";
    let output = zot(["explain", "-o", "json", message]).run();
    output.assert_code(0);
    let json = output.json();
    assert_eq!(json["cause"], "manifest-not-found");
    assert_eq!(json["image"], "reg.example.test:5000/team/app:v2");
    assert_eq!(json["registry"], "reg.example.test:5000");
    let candidates: Vec<&str> = json["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(candidates.contains(&"tag-not-found"), "{candidates:?}");
}

#[test]
fn explain_reads_standard_input() {
    let output = zot(["explain"])
        .stdin("x509: certificate signed by unknown authority\n")
        .run();
    output.assert_code(0);
    assert!(
        output.stdout.contains("cause:    tls-error"),
        "{}",
        output.stdout
    );
}

#[test]
fn explain_without_message_exits_two() {
    let output = zot(["explain"]).stdin("").run();
    output.assert_code(2);
    assert!(
        output.stderr.contains("no message given"),
        "{}",
        output.stderr
    );
}

#[test]
fn version_prints_target() {
    let output = zot(["version", "-o", "json"]).run();
    output.assert_code(0);
    let json = output.json();
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    assert!(json["target"].as_str().unwrap().contains("linux"));
}

#[test]
fn unknown_flag_exits_two() {
    zot(["diagnose", "--no-such-flag"]).run().assert_code(2);
}

#[test]
fn missing_kubeconfig_exits_two() {
    let output = zot(["diagnose", "--kubeconfig", "/nonexistent/kubeconfig"]).run();
    output.assert_code(2);
    assert!(
        output.stderr.contains("/nonexistent/kubeconfig"),
        "{}",
        output.stderr
    );
}

#[test]
fn all_namespaces_with_namespace_is_rejected() {
    let output = zot(["diagnose", "-A", "-n", "x"]).run();
    output.assert_code(2);
    assert!(
        output.stderr.contains("cannot be used together"),
        "{}",
        output.stderr
    );
}
