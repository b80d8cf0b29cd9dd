//! `kubectl zot restart` against the Kubernetes API test server and the real lab registry.
//!
//! Needs the lab environment: run through `lab/test`.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::kube::{KubeApi, KubeOptions, Request};
use support::lab::lab;
use support::zot;

const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

fn ca() -> String {
    lab().ca.display().to_string()
}

/// Returns the requests that could change state (anything but GET, HEAD and OPTIONS).
fn writes(api: &KubeApi) -> Vec<Request> {
    api.requests()
        .into_iter()
        .filter(|r| r.is_write())
        .collect()
}

/// `kind/name` of every JSON entry in `report[list]`.
fn workloads(report: &Value, list: &str) -> Vec<String> {
    report[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} array in {report:#}"))
        .iter()
        .map(|entry| entry["workload"].as_str().unwrap().to_string())
        .collect()
}

fn entry<'a>(report: &'a Value, list: &str, workload: &str) -> &'a Value {
    report[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["workload"] == workload)
        .unwrap_or_else(|| panic!("no {workload} in {list} of {report:#}"))
}

/// Returns the restartedAt value that a PATCH body sets.
fn restarted_at(body: &Value) -> &str {
    body["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT]
        .as_str()
        .unwrap_or_else(|| panic!("no {RESTARTED_AT} annotation in {body:#}"))
}

#[test]
fn stale_restarts_only_stale_deployment() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let output = zot([
        "restart",
        "--stale",
        "-n",
        "openclaw",
        "--yes",
        "-o",
        "json",
        "--ca-file",
        &ca(),
    ])
    .kube(&api)
    .run();
    output.assert_code(0);
    let report = output.json();
    assert_eq!(workloads(&report, "restarted"), ["deployment/stale"]);

    let stale = entry(&report, "restarted", "deployment/stale");
    assert_eq!(stale["namespace"], "openclaw");
    assert_eq!(stale["old_digest"], api.vars.get("DIGEST_OLD").unwrap());
    assert_eq!(stale["new_digest"], api.vars.get("DIGEST_LATEST").unwrap());
    assert_eq!(stale["dry_run"], false);

    let writes = writes(&api);
    assert_eq!(writes.len(), 1, "exactly one write: {writes:#?}");
    let patch = &writes[0];
    assert_eq!(patch.method, "PATCH");
    assert_eq!(patch.resource.as_deref(), Some("deployments"));
    assert_eq!(patch.namespace.as_deref(), Some("openclaw"));
    assert_eq!(patch.name.as_deref(), Some("stale"));
    assert_eq!(patch.status, 200);
    assert_eq!(patch.query.get("dryRun"), None);
    let sent = restarted_at(patch.body.as_ref().expect("PATCH body"));
    assert!(
        chrono::DateTime::parse_from_rfc3339(sent).is_ok(),
        "restartedAt {sent:?} is RFC 3339"
    );
    assert_eq!(stale["restarted_at"], sent);
}

#[test]
fn stale_patches_each_workload_once() {
    let api = KubeApi::start("restart", KubeOptions::new());
    let output = zot([
        "restart",
        "--stale",
        "-n",
        "openclaw",
        "--yes",
        "-o",
        "json",
        "--ca-file",
        &ca(),
    ])
    .kube(&api)
    .run();
    output.assert_code(0);
    let report = output.json();
    assert_eq!(
        workloads(&report, "restarted"),
        ["deployment/fleet", "deployment/stale"]
    );
    let fleet = entry(&report, "restarted", "deployment/fleet");
    assert_eq!(fleet["containers"].as_array().unwrap().len(), 2);

    // The paused Deployment is stale too, but skipped with kubectl's reason.
    let held = entry(&report, "skipped", "deployment/held");
    assert!(
        held["reason"]
            .as_str()
            .unwrap()
            .contains("can't restart paused deployment"),
        "{held:#}"
    );
    assert_eq!(held["old_digest"], api.vars.get("DIGEST_OLD").unwrap());

    let patched: Vec<String> = writes(&api)
        .iter()
        .map(|w| format!("{} {}", w.method, w.name.clone().unwrap_or_default()))
        .collect();
    assert_eq!(patched, ["PATCH fleet", "PATCH stale"]);
}

#[test]
fn pinned_pod_is_never_stale() {
    // deployment/fixed runs :latest@DIGEST_OLD while :latest points elsewhere.
    let api = KubeApi::start("restart", KubeOptions::new());
    let output = zot([
        "restart",
        "--stale",
        "deployment/fixed",
        "deployment/web",
        "-n",
        "openclaw",
        "-o",
        "json",
        "--ca-file",
        &ca(),
    ])
    .kube(&api)
    .run();
    output.assert_code(0);
    let report = output.json();
    assert!(workloads(&report, "restarted").is_empty(), "{report:#}");
    let fixed = entry(&report, "skipped", "deployment/fixed");
    assert!(
        fixed["reason"].as_str().unwrap().contains("not stale"),
        "{fixed:#}"
    );
    assert!(writes(&api).is_empty(), "no write: {:#?}", writes(&api));
}

#[test]
fn dry_run_client_sends_no_patch() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let output = zot([
        "restart",
        "--stale",
        "-n",
        "openclaw",
        "--dry-run",
        "-o",
        "json",
        "--ca-file",
        &ca(),
    ])
    .kube(&api)
    .run();
    output.assert_code(0);
    let report = output.json();
    let stale = entry(&report, "restarted", "deployment/stale");
    assert_eq!(stale["dry_run"], true);
    assert_eq!(stale["action"], "dry-run-client");
    assert!(writes(&api).is_empty(), "no write: {:#?}", writes(&api));
}

#[test]
fn dry_run_server_sends_dry_run_all() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let output = zot([
        "restart",
        "deployment/web",
        "-n",
        "openclaw",
        "--dry-run=server",
        "-o",
        "json",
    ])
    .kube(&api)
    .run();
    output.assert_code(0);
    let report = output.json();
    let web = entry(&report, "restarted", "deployment/web");
    assert_eq!(web["dry_run"], true);
    assert_eq!(web["action"], "dry-run-server");

    let writes = writes(&api);
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert_eq!(
        writes[0].query.get("dryRun").map(String::as_str),
        Some("All")
    );

    // The server stored nothing.
    let stored = api.get("/apis/apps/v1/namespaces/openclaw/deployments/web");
    assert_eq!(stored.status, 200);
    assert!(
        stored.body["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT].is_null(),
        "{:#}",
        stored.body
    );
}

#[test]
fn patch_matches_kubectl_rollout_restart() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let kubectl = api.kubectl(["rollout", "restart", "deployment/web", "-n", "openclaw"]);
    assert!(
        kubectl.status.success(),
        "kubectl rollout restart failed: {}",
        String::from_utf8_lossy(&kubectl.stderr)
    );
    let theirs = writes(&api);
    assert_eq!(theirs.len(), 1, "kubectl sent one write: {theirs:#?}");
    api.clear_requests();

    zot(["restart", "deployment/web", "-n", "openclaw"])
        .kube(&api)
        .run()
        .assert_code(0);
    let ours = writes(&api);
    assert_eq!(ours.len(), 1, "we sent one write: {ours:#?}");

    let (theirs, ours) = (&theirs[0], &ours[0]);
    assert_eq!(ours.method, theirs.method);
    assert_eq!(ours.path, theirs.path);
    assert_eq!(ours.content_type, theirs.content_type);
    assert_eq!(ours.query, theirs.query);
    assert_eq!(
        ours.query.get("fieldManager").map(String::as_str),
        Some("kubectl-rollout")
    );
    assert_eq!(ours.status, 200);

    // Equal bodies once the timestamps are set aside.
    let mut their_body = theirs.body.clone().expect("kubectl's PATCH body");
    let mut our_body = ours.body.clone().expect("our PATCH body");
    for body in [&mut their_body, &mut our_body] {
        let annotations = &mut body["spec"]["template"]["metadata"]["annotations"];
        let time = annotations[RESTARTED_AT].as_str().expect("restartedAt");
        assert!(chrono::DateTime::parse_from_rfc3339(time).is_ok(), "{time}");
        annotations[RESTARTED_AT] = Value::from("TIME");
    }
    assert_eq!(our_body, their_body);
}

#[test]
fn paused_deployment_is_refused() {
    let api = KubeApi::start("restart", KubeOptions::new());
    let output = zot(["restart", "deployment/held", "-n", "openclaw"])
        .kube(&api)
        .run();
    output.assert_code(2);
    assert!(
        output.stderr.contains(
            "deployments.apps \"held\" can't restart paused deployment (run rollout resume first)"
        ),
        "{}",
        output.stderr
    );
    assert!(writes(&api).is_empty(), "no write: {:#?}", writes(&api));
}

#[test]
fn forbidden_patch_names_the_grant() {
    let api = KubeApi::start("openclaw", KubeOptions::new().forbid("patch:deployments"));
    let output = zot(["restart", "deployment/web", "-n", "openclaw"])
        .kube(&api)
        .run();
    output.assert_code(2);
    assert!(output.stderr.contains("forbidden"), "{}", output.stderr);
    assert!(
        output
            .stderr
            .contains("--verb=get,list,patch --resource=deployments.apps -n openclaw"),
        "{}",
        output.stderr
    );
    let writes = writes(&api);
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert_eq!(writes[0].status, 403);
}

#[test]
fn several_without_yes_need_a_terminal() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let output = zot([
        "restart",
        "deployment/web",
        "deployment/stale",
        "-n",
        "openclaw",
    ])
    .kube(&api)
    .run();
    output.assert_code(2);
    assert!(output.stderr.contains("--yes"), "{}", output.stderr);
    assert!(
        output.stderr.contains("not a terminal"),
        "{}",
        output.stderr
    );
    assert!(writes(&api).is_empty(), "no write: {:#?}", writes(&api));

    zot([
        "restart",
        "deploy/web",
        "deploy/stale",
        "-n",
        "openclaw",
        "--yes",
    ])
    .kube(&api)
    .run()
    .assert_code(0);
    assert_eq!(writes(&api).len(), 2);
}

#[test]
fn selector_restarts_matching_workloads() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let output = zot([
        "restart", "deploy", "-l", "app=web", "-n", "openclaw", "-o", "json",
    ])
    .kube(&api)
    .run();
    output.assert_code(0);
    assert_eq!(workloads(&output.json(), "restarted"), ["deployment/web"]);
    let names: Vec<Option<String>> = writes(&api).into_iter().map(|w| w.name).collect();
    assert_eq!(names, [Some("web".to_string())]);
}

#[test]
fn unsupported_kind_is_rejected() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let output = zot(["restart", "cronjob/nightly", "-n", "openclaw"])
        .kube(&api)
        .run();
    output.assert_code(2);
    assert!(output.stderr.contains("not supported"), "{}", output.stderr);
    assert!(api.requests().is_empty(), "{:#?}", api.requests());
}

#[test]
fn missing_deployment_exits_2() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let output = zot(["restart", "deployment/nothere", "-n", "openclaw"])
        .kube(&api)
        .run();
    output.assert_code(2);
    assert!(output.stderr.contains("not found"), "{}", output.stderr);
    assert!(writes(&api).is_empty());
}

#[test]
fn wait_times_out_with_progress() {
    // The test server never updates status, so the new generation is never observed.
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let output = zot([
        "restart",
        "deployment/web",
        "-n",
        "openclaw",
        "--wait",
        "--timeout",
        "2s",
    ])
    .kube(&api)
    .timeout(Duration::from_secs(60))
    .run();
    output.assert_code(1);
    assert!(
        output
            .stderr
            .contains("Waiting for deployment spec update to be observed..."),
        "{}",
        output.stderr
    );
    assert!(output.stderr.contains("timed out"), "{}", output.stderr);
    assert_eq!(writes(&api).len(), 1);
}

#[test]
fn table_lists_digests_and_action() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let output = zot([
        "restart",
        "--stale",
        "-n",
        "openclaw",
        "--dry-run",
        "--ca-file",
        &ca(),
    ])
    .kube(&api)
    .run();
    output.assert_code(0);
    for header in [
        "WORKLOAD",
        "NAMESPACE",
        "OLD DIGEST",
        "NEW DIGEST",
        "ACTION",
    ] {
        assert!(output.stdout.contains(header), "{}", output.stdout);
    }
    let row = output
        .stdout
        .lines()
        .find(|line| line.contains("deployment/stale"))
        .unwrap_or_else(|| panic!("no row for deployment/stale:\n{}", output.stdout));
    let old = api.vars.get("DIGEST_OLD").unwrap();
    assert!(row.contains(&old[..19]), "{row}");
    assert!(row.contains("would restart (dry run)"), "{row}");
}

/// Runs kubectl-zot with a pseudo-terminal as standard input, through util-linux `script`, and
/// types `input` into it. Returns the exit code and the terminal's output (stdout and stderr).
fn zot_on_terminal(api: &KubeApi, args: &[&str], input: &str) -> (Option<i32>, String) {
    let mut command_line = shell_quote(env!("CARGO_BIN_EXE_kubectl-zot"));
    for arg in args {
        command_line.push(' ');
        command_line.push_str(&shell_quote(arg));
    }
    let home = tempfile::TempDir::new().expect("create a temporary HOME");
    let mut child = Command::new("script")
        .args(["-qec", &command_line, "/dev/null"])
        .env_clear()
        .env("PATH", support::kube::SYSTEM_PATH)
        .env("HOME", home.path())
        .env("KUBECONFIG", &api.kubeconfig)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run util-linux script");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        .expect("type into the terminal");
    let output = child.wait_with_output().expect("wait for script");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[test]
fn terminal_prompt_asks_once() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let args = ["restart", "deploy/web", "deploy/stale", "-n", "openclaw"];

    let (code, screen) = zot_on_terminal(&api, &args, "n\n");
    assert_eq!(code, Some(0), "{screen}");
    assert_eq!(screen.matches("[y/N]").count(), 1, "{screen}");
    assert!(screen.contains("deployment/stale -n openclaw"), "{screen}");
    assert!(screen.contains("Nothing was restarted."), "{screen}");
    assert!(writes(&api).is_empty(), "no write: {:#?}", writes(&api));

    let (code, screen) = zot_on_terminal(&api, &args, "y\n");
    assert_eq!(code, Some(0), "{screen}");
    let names: Vec<Option<String>> = writes(&api).into_iter().map(|w| w.name).collect();
    assert_eq!(names, [Some("web".to_string()), Some("stale".to_string())]);
}

#[test]
fn unreachable_registry_is_a_warning() {
    // Nothing listens on port 1, so no running container can be checked.
    let api = KubeApi::start(
        "openclaw",
        KubeOptions::new().var("REGISTRY", "127.0.0.1:1"),
    );
    let output = zot([
        "restart", "--stale", "-n", "openclaw", "--yes", "-o", "json",
    ])
    .kube(&api)
    .run();
    output.assert_code(0);
    assert!(workloads(&output.json(), "restarted").is_empty());
    assert!(
        output
            .stderr
            .contains("warning: registry 127.0.0.1:1 could not be reached"),
        "{}",
        output.stderr
    );
    assert!(writes(&api).is_empty(), "no write: {:#?}", writes(&api));
}

#[test]
fn all_namespaces_rejects_named_workloads() {
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let output = zot(["restart", "--stale", "-A", "deployment/stale"])
        .kube(&api)
        .run();
    output.assert_code(2);
    assert!(
        output.stderr.contains("use -n instead of -A"),
        "{}",
        output.stderr
    );
    assert!(api.requests().is_empty(), "{:#?}", api.requests());
}
