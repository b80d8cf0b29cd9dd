//! Tests of the Kubernetes API test server (`lab/kube-apiserver`), of the cluster fixtures in
//! `tests/clusters/` and of the harness in `tests/support/`.
//!
//! The server is checked with real clients: kubectl and curl. These tests load the fixtures
//! with dummy variables, so they need no registry; `lab_vars_name_seeded_images` alone needs
//! the lab environment that `lab/test` exports.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, ReplicaSet, StatefulSet};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{Event, Namespace, Node, Pod, Secret, ServiceAccount};
use serde_json::{Value, json};

use support::kube::{KubeApi, KubeOptions, cluster_dir, cluster_subset};
use support::lab::{Vars, lab};

/// The clusters whose every message follows the kubelet's forms (see the fixtures README).
const CLUSTERS: [&str; 3] = ["openclaw", "token", "empty"];
const OPENCLAW_POD_COUNT: usize = 21;

// ---------------------------------------------------------------------------------------------
// Helpers

fn start(cluster: &str) -> KubeApi {
    KubeApi::start(cluster, KubeOptions::new().dummy_vars())
}

fn start_with(cluster: &str, options: KubeOptions) -> KubeApi {
    KubeApi::start(cluster, options.dummy_vars())
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn kubectl_ok(api: &KubeApi, args: &[&str]) -> String {
    let output = api.kubectl(args);
    assert!(
        output.status.success(),
        "kubectl {args:?} failed:\n{}",
        stderr(&output)
    );
    stdout(&output)
}

fn kubectl_json(api: &KubeApi, args: &[&str]) -> Value {
    let text = kubectl_ok(api, args);
    serde_json::from_str(&text)
        .unwrap_or_else(|error| panic!("kubectl {args:?} printed no JSON ({error}):\n{text}"))
}

fn kubectl_err(api: &KubeApi, args: &[&str]) -> String {
    let output = api.kubectl(args);
    assert!(
        !output.status.success(),
        "kubectl {args:?} succeeded, expected an error:\n{}",
        stdout(&output)
    );
    stderr(&output)
}

fn item_names(list: &Value) -> BTreeSet<String> {
    list["items"]
        .as_array()
        .expect("a list has items")
        .iter()
        .map(|item| item["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

/// Returns the name of the app label's pods, e.g. `api` → `api-xxxxxxxxxx-yyyyy`.
fn pod_of(api: &KubeApi, app: &str) -> String {
    let list = kubectl_json(
        api,
        &["get", "pods", "-l", &format!("app={app}"), "-o", "json"],
    );
    let names = item_names(&list);
    assert_eq!(names.len(), 1, "expected one pod with app={app}: {names:?}");
    names.into_iter().next().unwrap()
}

/// Loads every object of a fixture cluster with dummy variables, flattening lists.
fn fixture_objects(cluster: &str) -> Vec<(String, Value)> {
    let vars = Vars::dummy();
    let mut objects = Vec::new();
    let dir = cluster_dir(cluster);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} contains no fixtures", dir.display());
    for path in files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(&path).unwrap();
        let text = vars
            .substitute(&text)
            .unwrap_or_else(|error| panic!("{cluster}/{file}: {error}"));
        let document: Value = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{cluster}/{file}: invalid JSON: {error}"));
        let kind = document["kind"].as_str().unwrap_or_default();
        if kind == "List" || kind.ends_with("List") {
            for item in document["items"].as_array().expect("a List has items") {
                objects.push((file.clone(), item.clone()));
            }
        } else {
            objects.push((file, document));
        }
    }
    objects
}

/// Returns every fixture cluster directory name, including those other test files add.
fn all_clusters() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clusters");
    let mut names: Vec<String> = fs::read_dir(&root)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", root.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for expected in CLUSTERS {
        assert!(names.iter().any(|name| name == expected), "{names:?}");
    }
    names
}

fn deserialize_as(kind: &str, object: &Value) -> Result<(), String> {
    fn check<T: serde::de::DeserializeOwned>(object: &Value) -> Result<(), String> {
        serde_json::from_value::<T>(object.clone())
            .map(|_| ())
            .map_err(|error| error.to_string())
    }
    match kind {
        "Pod" => check::<Pod>(object),
        "Event" => check::<Event>(object),
        "Secret" => check::<Secret>(object),
        "ServiceAccount" => check::<ServiceAccount>(object),
        "Node" => check::<Node>(object),
        "Namespace" => check::<Namespace>(object),
        "Deployment" => check::<Deployment>(object),
        "ReplicaSet" => check::<ReplicaSet>(object),
        "StatefulSet" => check::<StatefulSet>(object),
        "DaemonSet" => check::<DaemonSet>(object),
        "Job" => check::<Job>(object),
        "CronJob" => check::<CronJob>(object),
        other => Err(format!("kind {other} is not served by lab/kube-apiserver")),
    }
}

fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// Fixtures

#[test]
fn fixtures_deserialize_into_k8s_types() {
    let mut failures = Vec::new();
    for cluster in &all_clusters() {
        let objects = fixture_objects(cluster);
        assert!(
            objects.len() > 5,
            "{cluster} has only {} objects",
            objects.len()
        );
        for (file, object) in &objects {
            let kind = text(object, "/kind");
            if let Err(error) = deserialize_as(kind, object) {
                let name = text(object, "/metadata/name");
                failures.push(format!("{cluster}/{file}: {kind} {name}: {error}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "fixtures that do not deserialize:\n{}",
        failures.join("\n")
    );
}

#[test]
fn fixture_references_resolve() {
    for cluster in &all_clusters() {
        let objects = fixture_objects(cluster);
        let by_key: BTreeMap<(String, String, String), &Value> = objects
            .iter()
            .map(|(_, object)| {
                let key = (
                    text(object, "/kind").to_string(),
                    text(object, "/metadata/namespace").to_string(),
                    text(object, "/metadata/name").to_string(),
                );
                (key, object)
            })
            .collect();
        let uid_of = |kind: &str, namespace: &str, name: &str| {
            by_key
                .get(&(kind.to_string(), namespace.to_string(), name.to_string()))
                .map(|object| text(object, "/metadata/uid").to_string())
        };
        let mut problems = Vec::new();
        for (file, object) in &objects {
            let namespace = text(object, "/metadata/namespace");
            let name = text(object, "/metadata/name");
            let owners = object["metadata"]["ownerReferences"].as_array();
            for owner in owners.into_iter().flatten() {
                let (kind, owner_name) = (text(owner, "/kind"), text(owner, "/name"));
                if uid_of(kind, namespace, owner_name).as_deref() != Some(text(owner, "/uid")) {
                    problems.push(format!(
                        "{file}: {name} owner {kind}/{owner_name} uid mismatch"
                    ));
                }
            }
            match text(object, "/kind") {
                "Event" => {
                    let involved = &object["involvedObject"];
                    let (kind, target) = (text(involved, "/kind"), text(involved, "/name"));
                    let uid = uid_of(kind, text(involved, "/namespace"), target);
                    if uid.as_deref() != Some(text(involved, "/uid")) {
                        problems.push(format!(
                            "{file}: event {name} names {kind}/{target} wrongly"
                        ));
                    }
                }
                "Pod" => {
                    let node = text(object, "/spec/nodeName");
                    if uid_of("Node", "", node).is_none() {
                        problems.push(format!("{file}: pod {name} on unknown node {node:?}"));
                    }
                    let account = text(object, "/spec/serviceAccountName");
                    if uid_of("ServiceAccount", namespace, account).is_none() {
                        problems.push(format!("{file}: pod {name} uses unknown account {account}"));
                    }
                    let secrets = object["spec"]["imagePullSecrets"].as_array();
                    for secret in secrets.into_iter().flatten() {
                        let secret = text(secret, "/name");
                        // `ghost` names a missing secret on purpose.
                        if secret != "does-not-exist"
                            && uid_of("Secret", namespace, secret).is_none()
                        {
                            problems
                                .push(format!("{file}: pod {name} names unknown secret {secret}"));
                        }
                    }
                    let images: Vec<&str> = object["spec"]["containers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|container| text(container, "/image"))
                        .collect();
                    for status in object["status"]["containerStatuses"].as_array().unwrap() {
                        if !images.contains(&text(status, "/image")) {
                            problems.push(format!("{file}: pod {name} status image differs"));
                        }
                    }
                }
                _ => {}
            }
        }
        assert!(problems.is_empty(), "{cluster}:\n{}", problems.join("\n"));
    }
}

#[test]
fn fixture_nodes_are_linux_amd64_and_arm64() {
    for cluster in &all_clusters() {
        let architectures: BTreeSet<String> = fixture_objects(cluster)
            .iter()
            .filter(|(_, object)| text(object, "/kind") == "Node")
            .map(|(_, node)| {
                assert_eq!(text(node, "/status/nodeInfo/operatingSystem"), "linux");
                text(node, "/status/nodeInfo/architecture").to_string()
            })
            .collect();
        let expected: BTreeSet<String> = ["amd64", "arm64"].map(String::from).into();
        assert_eq!(architectures, expected, "{cluster} node architectures");
    }
}

/// Deployment name → the container state reason its pod reports (`running` when running).
const OPENCLAW_DEPLOYMENTS: [(&str, &str); 16] = [
    ("web", "running"),
    ("stale", "running"),
    ("api", "ErrImagePull"),
    ("worker", "ImagePullBackOff"),
    ("pinned", "ImagePullBackOff"),
    ("armonly", "ImagePullBackOff"),
    ("arm-single", "CrashLoopBackOff"),
    ("broken", "ErrImagePull"),
    ("anon", "ImagePullBackOff"),
    ("rotated", "ErrImagePull"),
    ("ghost", "ImagePullBackOff"),
    ("opaque", "ImagePullBackOff"),
    ("elsewhere", "ErrImagePull"),
    ("typo", "InvalidImageName"),
    ("offline", "ErrImageNeverPull"),
    ("recovered", "ImagePullBackOff"),
];

fn pod_state(pod: &Value) -> String {
    let state = &pod["status"]["containerStatuses"][0]["state"];
    if state.get("running").is_some() {
        "running".to_string()
    } else if state.get("terminated").is_some() {
        text(state, "/terminated/reason").to_string()
    } else {
        text(state, "/waiting/reason").to_string()
    }
}

#[test]
fn openclaw_fixture_has_every_case() {
    let objects = fixture_objects("openclaw");
    let of_kind = |kind: &str| -> Vec<&Value> {
        objects
            .iter()
            .map(|(_, object)| object)
            .filter(|object| text(object, "/kind") == kind)
            .collect()
    };
    let deployments: BTreeSet<&str> = of_kind("Deployment")
        .iter()
        .map(|deployment| text(deployment, "/metadata/name"))
        .collect();
    let expected: BTreeSet<&str> = OPENCLAW_DEPLOYMENTS.iter().map(|(name, _)| *name).collect();
    assert_eq!(deployments, expected);

    let pods = of_kind("Pod");
    let replica_sets = of_kind("ReplicaSet");
    for (deployment, state) in OPENCLAW_DEPLOYMENTS {
        let pod = pods
            .iter()
            .find(|pod| text(pod, "/metadata/labels/app") == deployment)
            .unwrap_or_else(|| panic!("no pod for deployment {deployment}"));
        assert_eq!(pod_state(pod), state, "state of {deployment}'s pod");
        let owner = text(pod, "/metadata/ownerReferences/0/name");
        let replica_set = replica_sets
            .iter()
            .find(|rs| text(rs, "/metadata/name") == owner)
            .unwrap_or_else(|| panic!("{deployment}'s pod has no ReplicaSet {owner}"));
        assert_eq!(
            text(replica_set, "/metadata/ownerReferences/0/name"),
            deployment,
            "ReplicaSet {owner} owner"
        );
    }

    let workload_pod = |app: &str| {
        pods.iter()
            .find(|pod| text(pod, "/metadata/labels/app") == app)
            .copied()
    };
    assert_eq!(pod_state(workload_pod("db").expect("db-0")), "running");
    let agents = pods
        .iter()
        .filter(|pod| text(pod, "/metadata/labels/app") == "agent")
        .count();
    assert_eq!(agents, 3, "one agent pod per node");
    let nightly = pods
        .iter()
        .find(|pod| text(pod, "/metadata/ownerReferences/0/kind") == "Job")
        .expect("a pod of the nightly job");
    assert_eq!(text(nightly, "/status/phase"), "Succeeded");
    assert_eq!(of_kind("CronJob").len(), 1);
    assert_eq!(pods.len(), OPENCLAW_POD_COUNT);
}

#[test]
fn fixture_messages_follow_kubelet_forms() {
    let mut problems = Vec::new();
    for cluster in CLUSTERS {
        let objects = fixture_objects(cluster);
        let kubelet_of: BTreeMap<&str, &str> = objects
            .iter()
            .filter(|(_, object)| text(object, "/kind") == "Node")
            .map(|(_, node)| {
                (
                    text(node, "/metadata/name"),
                    text(node, "/status/nodeInfo/kubeletVersion"),
                )
            })
            .collect();
        for (file, pod) in objects.iter().filter(|(_, o)| text(o, "/kind") == "Pod") {
            let image = text(pod, "/spec/containers/0/image");
            let waiting = &pod["status"]["containerStatuses"][0]["state"]["waiting"];
            let message = text(waiting, "/message");
            let backoff = format!("Back-off pulling image \"{image}\"");
            match text(waiting, "/reason") {
                "ErrImagePull" if !message.starts_with("rpc error: code = ") => {
                    problems.push(format!("{file}: ErrImagePull message {message:?}"));
                }
                "ImagePullBackOff" => {
                    // Kubelets since v1.32 append the previous pull error.
                    let node = text(pod, "/spec/nodeName");
                    let detailed = kubelet_of[node] >= "v1.32";
                    let prefix = format!("{backoff}: ErrImagePull: rpc error: code = ");
                    let ok = if detailed {
                        message.starts_with(&prefix)
                    } else {
                        message == backoff
                    };
                    if !ok {
                        problems.push(format!("{file}: back-off message on {node}: {message:?}"));
                    }
                }
                _ => {}
            }
        }
        for (file, event) in objects.iter().filter(|(_, o)| text(o, "/kind") == "Event") {
            let message = text(event, "/message");
            let reason = text(event, "/reason");
            let pulled_or_failed = message.starts_with("Failed to pull image \"")
                && message.contains("\": rpc error: code = ");
            let ok = match reason {
                "Failed" => pulled_or_failed || message.starts_with("Error: "),
                "Pulling" => message.starts_with("Pulling image \""),
                "BackOff" => {
                    message.starts_with("Back-off pulling image \"")
                        || message.starts_with("Back-off restarting failed container ")
                }
                _ => true,
            };
            if !ok {
                problems.push(format!("{file}: {reason} event message {message:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn fixture_image_ids_come_from_vars() {
    let vars = Vars::dummy();
    let objects = fixture_objects("openclaw");
    let image_id = |app: &str| {
        objects
            .iter()
            .map(|(_, object)| object)
            .find(|object| {
                text(object, "/kind") == "Pod" && text(object, "/metadata/labels/app") == app
            })
            .map(|pod| text(pod, "/status/containerStatuses/0/imageID").to_string())
            .unwrap_or_else(|| panic!("no pod for {app}"))
    };
    assert_eq!(image_id("web"), vars.get("IMAGE_ID_LATEST").unwrap());
    assert_eq!(image_id("stale"), vars.get("IMAGE_ID_OLD").unwrap());
    assert_ne!(image_id("web"), image_id("stale"));
}

#[test]
fn substitute_escapes_and_rejects_unknown_names() {
    let mut vars = Vars::default();
    vars.set("CONFIG", r#"{"auths":{"a":{"auth":"x"}}}"#);
    let output = vars.substitute(r#"{"data": "${CONFIG}"}"#).unwrap();
    let parsed: Value = serde_json::from_str(&output).unwrap();
    assert_eq!(parsed["data"], r#"{"auths":{"a":{"auth":"x"}}}"#);

    let error = vars.substitute("${MISSING}").unwrap_err();
    assert!(error.contains("MISSING"), "{error}");
    let error = vars.substitute("${CONFIG-5m}").unwrap_err();
    assert!(error.contains("offset"), "{error}");

    let micro = vars.substitute("${NOW_MICRO-1h}").unwrap();
    assert_eq!(micro.len(), "2026-01-01T00:00:00.000000Z".len(), "{micro}");
    let plain = vars.substitute("${NOW-30m}").unwrap();
    assert_eq!(plain.len(), "2026-01-01T00:00:00Z".len(), "{plain}");
}

// ---------------------------------------------------------------------------------------------
// Server: reads

#[test]
fn kubectl_lists_pods_as_json() {
    let api = start("openclaw");
    let list = kubectl_json(&api, &["get", "pods", "-n", "openclaw", "-o", "json"]);
    assert_eq!(list["kind"], "List");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), OPENCLAW_POD_COUNT);
    for item in items {
        deserialize_as("Pod", item).unwrap();
    }
    let table = kubectl_ok(&api, &["get", "pods"]);
    assert!(table.starts_with("NAME"), "{table}");
    assert!(table.contains("ImagePullBackOff"), "{table}");
    assert!(table.contains("ErrImageNeverPull"), "{table}");
}

#[test]
fn list_items_omit_kind_and_api_version() {
    let api = start("openclaw");
    let response = api.get("/apis/apps/v1/namespaces/openclaw/deployments");
    assert_eq!(response.status, 200);
    assert_eq!(response.body["kind"], "DeploymentList");
    assert_eq!(response.body["apiVersion"], "apps/v1");
    assert!(response.body["metadata"]["resourceVersion"].is_string());
    for item in response.body["items"].as_array().unwrap() {
        assert!(item.get("kind").is_none(), "{item}");
        assert!(item.get("apiVersion").is_none(), "{item}");
    }
    let web = api.get("/apis/apps/v1/namespaces/openclaw/deployments/web");
    assert_eq!(web.status, 200);
    assert_eq!(web.body["kind"], "Deployment");
    assert_eq!(web.body["apiVersion"], "apps/v1");
}

#[test]
fn all_namespaces_and_cluster_scoped_paths() {
    let api = start("openclaw");
    let pods = api.get("/api/v1/pods");
    assert_eq!(pods.status, 200);
    assert_eq!(
        pods.body["items"].as_array().unwrap().len(),
        OPENCLAW_POD_COUNT
    );
    let node = api.get("/api/v1/nodes/lab-node-arm");
    assert_eq!(node.status, 200);
    assert_eq!(node.body["status"]["nodeInfo"]["architecture"], "arm64");
    let jobs = api.get("/apis/batch/v1/jobs");
    assert_eq!(jobs.body["items"].as_array().unwrap().len(), 1);
    let cronjob = api.get("/apis/batch/v1/namespaces/openclaw/cronjobs/nightly");
    assert_eq!(cronjob.status, 200);
    let empty = api.get("/api/v1/namespaces/nowhere/pods");
    assert_eq!(
        empty.status, 200,
        "listing an unknown namespace is an empty list"
    );
    assert_eq!(empty.body["items"], json!([]));
    let unknown = api.get("/api/v1/namespaces/openclaw/configmaps");
    assert_eq!(unknown.status, 404);
}

#[test]
fn label_selectors_filter_pods() {
    let api = start("openclaw");
    // Selector, number of matching pods, a pod name prefix every match has ("" for any).
    let cases = [
        ("app=api", 1, "api-"),
        ("app==web", 1, "web-"),
        ("app in (api,web)", 2, ""),
        ("app notin (api,web)", OPENCLAW_POD_COUNT - 2, ""),
        ("app!=agent", OPENCLAW_POD_COUNT - 3, ""),
        ("job-name", 1, "nightly-"),
        ("!job-name", OPENCLAW_POD_COUNT - 1, ""),
        ("app=agent,pod-template-generation=1", 3, "agent-"),
    ];
    for (selector, count, prefix) in cases {
        let list = kubectl_json(&api, &["get", "pods", "-l", selector, "-o", "json"]);
        let names = item_names(&list);
        assert_eq!(
            names.len(),
            count,
            "selector {selector:?} matched {names:?}"
        );
        assert!(
            names.iter().all(|name| name.starts_with(prefix)),
            "selector {selector:?} matched {names:?}"
        );
    }
    let both = item_names(&kubectl_json(
        &api,
        &["get", "pods", "-l", "app in (api,web)", "-o", "json"],
    ));
    assert!(both.iter().any(|name| name.starts_with("api-")), "{both:?}");
    assert!(both.iter().any(|name| name.starts_with("web-")), "{both:?}");
    let response = api.get("/api/v1/namespaces/openclaw/pods?labelSelector=app%20in%20(a%20b)");
    assert_eq!(response.status, 400, "{}", response.body);
    assert_eq!(response.body["reason"], "BadRequest");
}

#[test]
fn field_selectors_filter_pods_and_events() {
    let api = start("openclaw");
    let on_node = |node: &str| {
        let selector = format!("spec.nodeName={node}");
        item_names(&kubectl_json(
            &api,
            &["get", "pods", "--field-selector", &selector, "-o", "json"],
        ))
    };
    let (one, two, arm) = (
        on_node("lab-node-1"),
        on_node("lab-node-2"),
        on_node("lab-node-arm"),
    );
    assert_eq!(one.len() + two.len() + arm.len(), OPENCLAW_POD_COUNT);
    assert_eq!(
        arm.len(),
        1,
        "only an agent pod runs on the arm64 node: {arm:?}"
    );

    let running = kubectl_json(
        &api,
        &[
            "get",
            "pods",
            "--field-selector",
            "status.phase=Running",
            "-o",
            "json",
        ],
    );
    let not_running = kubectl_json(
        &api,
        &[
            "get",
            "pods",
            "--field-selector",
            "status.phase!=Running",
            "-o",
            "json",
        ],
    );
    assert_eq!(
        item_names(&running).len() + item_names(&not_running).len(),
        OPENCLAW_POD_COUNT
    );
    assert!(item_names(&running).contains("db-0"));

    let pod = pod_of(&api, "api");
    let selector = format!("involvedObject.kind=Pod,involvedObject.name={pod},reason=Failed");
    let events = kubectl_json(
        &api,
        &["get", "events", "--field-selector", &selector, "-o", "json"],
    );
    let messages: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| text(event, "/message"))
        .collect();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("Failed to pull image")),
        "{messages:?}"
    );
    let warnings = kubectl_json(
        &api,
        &[
            "get",
            "events",
            "--field-selector",
            "type=Warning",
            "-o",
            "json",
        ],
    );
    for event in warnings["items"].as_array().unwrap() {
        assert_eq!(event["type"], "Warning");
    }
}

#[test]
fn unsupported_field_selector_is_bad_request() {
    let api = start("openclaw");
    let response = api.get("/api/v1/namespaces/openclaw/events?fieldSelector=spec.nodeName%3Dx");
    assert_eq!(response.status, 400);
    assert_eq!(
        response.body,
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "field label not supported: spec.nodeName",
            "reason": "BadRequest",
            "code": 400
        })
    );
    let error = kubectl_err(&api, &["get", "pods", "--field-selector", "spec.image=x"]);
    assert!(
        error.contains("field label not supported: spec.image"),
        "{error}"
    );
}

#[test]
fn list_pages_follow_continue_tokens() {
    let api = start("openclaw");
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut path = "/api/v1/namespaces/openclaw/pods?limit=4".to_string();
        if let Some(token) = &token {
            path.push_str(&format!("&continue={token}"));
        }
        let page = api.get(&path);
        assert_eq!(page.status, 200, "{}", page.body);
        pages += 1;
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 4);
        names.extend(
            items
                .iter()
                .map(|item| text(item, "/metadata/name").to_string()),
        );
        match page.body["metadata"]["continue"].as_str() {
            Some(next) => {
                let remaining = page.body["metadata"]["remainingItemCount"]
                    .as_u64()
                    .unwrap();
                assert_eq!(remaining as usize, OPENCLAW_POD_COUNT - names.len());
                token = Some(next.to_string());
            }
            None => break,
        }
        assert!(pages < 20, "paging does not end");
    }
    assert_eq!(pages, OPENCLAW_POD_COUNT.div_ceil(4));
    let unique: BTreeSet<&String> = names.iter().collect();
    assert_eq!(
        unique.len(),
        OPENCLAW_POD_COUNT,
        "pages overlap or skip items"
    );
    let full = api.get("/api/v1/namespaces/openclaw/pods");
    assert!(full.body["metadata"].get("continue").is_none());
    assert_eq!(
        item_names(&full.body),
        unique.into_iter().cloned().collect()
    );

    let invalid = api.get("/api/v1/namespaces/openclaw/pods?limit=4&continue=not-a-token");
    assert_eq!(invalid.status, 400);
    assert_eq!(invalid.body["reason"], "BadRequest");
}

#[test]
fn page_size_caps_every_page() {
    let api = start_with("openclaw", KubeOptions::new().page_size(4));
    let capped = api.get("/api/v1/namespaces/openclaw/pods?limit=100");
    assert_eq!(capped.body["items"].as_array().unwrap().len(), 4);
    assert!(capped.body["metadata"]["continue"].is_string());
    let unlimited = api.get("/api/v1/namespaces/openclaw/pods");
    assert_eq!(unlimited.body["items"].as_array().unwrap().len(), 4);

    api.clear_requests();
    let list = kubectl_json(&api, &["get", "pods", "-o", "json"]);
    assert_eq!(list["items"].as_array().unwrap().len(), OPENCLAW_POD_COUNT);
    let lists: Vec<_> = api
        .requests()
        .into_iter()
        .filter(|request| request.verb.as_deref() == Some("list"))
        .collect();
    assert_eq!(lists.len(), OPENCLAW_POD_COUNT.div_ceil(4), "{lists:#?}");
    assert!(
        lists[1..]
            .iter()
            .all(|request| request.query.contains_key("continue"))
    );
}

#[test]
fn missing_pod_is_not_found_status() {
    let api = start("openclaw");
    let response = api.get("/api/v1/namespaces/openclaw/pods/x");
    assert_eq!(response.status, 404);
    assert_eq!(
        response.body,
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "pods \"x\" not found",
            "reason": "NotFound",
            "details": {"name": "x", "kind": "pods"},
            "code": 404
        })
    );
    let error = kubectl_err(&api, &["get", "pod", "x"]);
    assert!(
        error.contains("Error from server (NotFound): pods \"x\" not found"),
        "{error}"
    );
}

#[test]
fn missing_deployment_status_names_group() {
    let api = start("openclaw");
    let response = api.get("/apis/apps/v1/namespaces/openclaw/deployments/nope");
    assert_eq!(response.status, 404);
    assert_eq!(
        response.body["message"],
        "deployments.apps \"nope\" not found"
    );
    assert_eq!(
        response.body["details"],
        json!({"name": "nope", "group": "apps", "kind": "deployments"})
    );
}

#[test]
fn forbidden_get_matches_rbac_status() {
    let api = start_with("openclaw", KubeOptions::new().forbid("get:secrets"));
    let response = api.get("/api/v1/namespaces/openclaw/secrets/regcred");
    assert_eq!(response.status, 403);
    assert_eq!(
        response.body,
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "secrets \"regcred\" is forbidden: User \"system:serviceaccount:openclaw:kubectl-zot\" cannot get resource \"secrets\" in API group \"\" in the namespace \"openclaw\"",
            "reason": "Forbidden",
            "details": {"name": "regcred", "kind": "secrets"},
            "code": 403
        })
    );
    let listed = api.get("/api/v1/namespaces/openclaw/secrets");
    assert_eq!(listed.status, 200, "only get is forbidden");
    let error = kubectl_err(&api, &["get", "secret", "regcred"]);
    assert!(error.contains("Error from server (Forbidden)"), "{error}");
}

#[test]
fn forbid_scope_cluster_blocks_all_namespaces_only() {
    let api = start_with(
        "openclaw",
        KubeOptions::new()
            .forbid("list:pods:cluster")
            .forbid("patch:deployments"),
    );
    let all = api.get("/api/v1/pods");
    assert_eq!(all.status, 403);
    assert_eq!(
        all.body["message"],
        "pods is forbidden: User \"system:serviceaccount:openclaw:kubectl-zot\" cannot list resource \"pods\" in API group \"\" at the cluster scope"
    );
    assert_eq!(api.get("/api/v1/namespaces/openclaw/pods").status, 200);
    let patch = api.http(
        "PATCH",
        "/apis/apps/v1/namespaces/openclaw/deployments/web",
        Some(&api.token),
        Some("application/merge-patch+json"),
        Some("{}"),
    );
    assert_eq!(patch.status, 403);
    assert_eq!(
        patch.body["message"],
        "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:openclaw:kubectl-zot\" cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"openclaw\""
    );
    assert_eq!(
        patch.body["details"],
        json!({"name": "web", "group": "apps", "kind": "deployments"})
    );
}

#[test]
fn missing_or_wrong_token_is_unauthorized() {
    let api = start("openclaw");
    let expected = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401
    });
    let missing = api.http("GET", "/api/v1/namespaces/openclaw/pods", None, None, None);
    assert_eq!(missing.status, 401);
    assert_eq!(missing.body, expected);
    let wrong = api.http("GET", "/version", Some("wrong"), None, None);
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.body, expected);
    let requests = api.requests();
    assert_eq!(requests.len(), 2);
    assert!(!requests[0].token_present);
    assert!(requests[1].token_present);
    assert!(requests.iter().all(|request| request.status == 401));
}

#[test]
fn injected_failure_returns_status_then_recovers() {
    let api = start_with(
        "openclaw",
        KubeOptions::new()
            .fail("list:events:500:1")
            .fail("get:nodes:503"),
    );
    let failed = api.get("/api/v1/namespaces/openclaw/events");
    assert_eq!(failed.status, 500);
    assert_eq!(failed.body["reason"], "InternalError");
    assert_eq!(failed.body["code"], 500);
    assert!(
        text(&failed.body, "/message").starts_with("Internal error occurred: "),
        "{}",
        failed.body
    );
    let retried = api.get("/api/v1/namespaces/openclaw/events");
    assert_eq!(retried.status, 200, "the rule applies once");
    let node = api.get("/api/v1/nodes/lab-node-1");
    assert_eq!(node.status, 503);
    assert_eq!(node.body["reason"], "ServiceUnavailable");
    assert_eq!(
        api.get("/api/v1/nodes/lab-node-1").status,
        503,
        "no TIMES: always"
    );
}

#[test]
fn delay_slows_matching_requests() {
    let api = start_with("openclaw", KubeOptions::new().delay("get:nodes:1.5"));
    let started = Instant::now();
    assert_eq!(api.get("/api/v1/nodes/lab-node-1").status, 200);
    assert!(started.elapsed() >= Duration::from_millis(1500));
    let request = api.requests()[0].clone();
    assert_eq!(request.verb.as_deref(), Some("get"));
    assert_eq!(request.resource.as_deref(), Some("nodes"));
}

#[test]
fn discovery_serves_kubectl() {
    let api = start("openclaw");
    let version = kubectl_json(&api, &["version", "-o", "json"]);
    assert_eq!(version["serverVersion"]["gitVersion"], "v1.33.0");
    let resources = kubectl_ok(&api, &["api-resources", "--no-headers"]);
    for expected in [
        "pods",
        "events",
        "secrets",
        "deployments",
        "cronjobs",
        "nodes",
    ] {
        assert!(
            resources.lines().any(|line| line.starts_with(expected)),
            "{expected} missing from:\n{resources}"
        );
    }
    let groups = api.get("/apis");
    assert_eq!(groups.body["kind"], "APIGroupList");
    let core = api.get("/api/v1");
    assert_eq!(core.body["kind"], "APIResourceList");
    assert_eq!(core.body["groupVersion"], "v1");
}

#[test]
fn implicit_namespaces_and_default_accounts_exist() {
    let api = start("token");
    let namespaces = item_names(&api.get("/api/v1/namespaces").body);
    for expected in ["default", "kube-system", "tokens"] {
        assert!(namespaces.contains(expected), "{namespaces:?}");
    }
    let account = api.get("/api/v1/namespaces/kube-system/serviceaccounts/default");
    assert_eq!(account.status, 200);
    let fixture_account = api.get("/api/v1/namespaces/tokens/serviceaccounts/default");
    assert_eq!(
        fixture_account.body["imagePullSecrets"],
        json!([{"name": "limited-cred"}])
    );
}

#[test]
fn secret_string_data_becomes_base64_data() {
    let api = start("openclaw");
    let secret = api.get("/api/v1/namespaces/openclaw/secrets/regcred");
    assert_eq!(secret.status, 200);
    assert!(secret.body.get("stringData").is_none());
    assert_eq!(secret.body["type"], "kubernetes.io/dockerconfigjson");
    let encoded = text(&secret.body, "/data/.dockerconfigjson");
    let decoded = String::from_utf8(STANDARD.decode(encoded).unwrap()).unwrap();
    assert_eq!(decoded, Vars::dummy().get("DOCKERCONFIGJSON").unwrap());
    let opaque = api.get("/api/v1/namespaces/openclaw/secrets/regcred-opaque");
    assert_eq!(opaque.body["type"], "Opaque");
}

#[test]
fn watch_is_rejected() {
    let api = start("openclaw");
    let response = api.get("/api/v1/namespaces/openclaw/pods?watch=true");
    assert_eq!(response.status, 405);
    assert_eq!(response.body["reason"], "MethodNotAllowed");
}

#[test]
fn kube_rs_client_pages_and_reads_statuses() {
    use kube::api::{Api, ListParams};
    use kube::config::{KubeConfigOptions, Kubeconfig};

    let api = start_with(
        "openclaw",
        KubeOptions::new().page_size(5).forbid("get:secrets"),
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build a tokio runtime");
    runtime.block_on(async {
        let kubeconfig = Kubeconfig::read_from(&api.kubeconfig).expect("read the kubeconfig");
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .expect("load the kubeconfig");
        assert_eq!(config.default_namespace, "openclaw");
        let client = kube::Client::try_from(config).expect("build a kube client");

        let pods: Api<Pod> = Api::default_namespaced(client.clone());
        let mut params = ListParams::default().limit(100);
        let mut names = Vec::new();
        let mut pages = 0;
        loop {
            let page = pods.list(&params).await.expect("list pods");
            pages += 1;
            names.extend(
                page.items
                    .iter()
                    .filter_map(|pod| pod.metadata.name.clone()),
            );
            match page.metadata.continue_ {
                Some(token) if !token.is_empty() => params = params.continue_token(&token),
                _ => break,
            }
        }
        assert_eq!(names.len(), OPENCLAW_POD_COUNT);
        assert_eq!(pages, OPENCLAW_POD_COUNT.div_ceil(5));

        match pods.get("nope").await {
            Err(kube::Error::Api(status)) => {
                assert_eq!(status.code, 404);
                assert_eq!(status.reason, "NotFound");
                assert_eq!(status.message, "pods \"nope\" not found");
            }
            other => panic!("expected a NotFound status, got {other:?}"),
        }
        let secrets: Api<Secret> = Api::default_namespaced(client.clone());
        match secrets.get("regcred").await {
            Err(kube::Error::Api(status)) => {
                assert_eq!(status.code, 403);
                assert_eq!(status.reason, "Forbidden");
            }
            other => panic!("expected a Forbidden status, got {other:?}"),
        }

        let events: Api<Event> = Api::default_namespaced(client);
        let warnings = events
            .list(&ListParams::default().fields("involvedObject.kind=Pod,type=Warning"))
            .await
            .expect("list warning events");
        assert!(!warnings.items.is_empty());
        assert!(
            warnings
                .items
                .iter()
                .all(|event| event.type_.as_deref() == Some("Warning"))
        );
    });
}

#[test]
fn pod_log_returns_container_output() {
    let api = start("openclaw");
    let arm = pod_of(&api, "arm-single");
    let current = kubectl_ok(&api, &["logs", &arm]);
    assert_eq!(current, "exec /hello.txt: exec format error\n");
    let previous = kubectl_ok(&api, &["logs", &arm, "--previous"]);
    assert_eq!(
        previous, current,
        "a crash-looping container shows its last run"
    );
    let web = pod_of(&api, "web");
    let tail = kubectl_ok(&api, &["logs", &web, "--tail", "1"]);
    assert_eq!(tail, "openclaw: ready\n");
    let db = kubectl_ok(&api, &["logs", "db-0"]);
    assert_eq!(db, "", "a container without a log file has empty output");
    let request = api
        .requests()
        .into_iter()
        .find(|request| request.subresource.as_deref() == Some("log"))
        .expect("the log request is logged");
    assert_eq!(request.verb.as_deref(), Some("get"));
    assert_eq!(request.resource.as_deref(), Some("pods"));
}

#[test]
fn pod_log_errors_match_kubelet() {
    let api = start("openclaw");
    let cases = [
        ("api", false, "is waiting to start: image can't be pulled"),
        (
            "worker",
            false,
            "is waiting to start: trying and failing to pull image",
        ),
        ("typo", false, "is waiting to start: InvalidImageName"),
        ("web", true, "previous terminated container \"web\""),
    ];
    for (app, previous, expected) in cases {
        let pod = pod_of(&api, app);
        let path = format!("/api/v1/namespaces/openclaw/pods/{pod}/log?previous={previous}");
        let response = api.get(&path);
        assert_eq!(response.status, 400, "{app}: {}", response.body);
        assert_eq!(response.body["reason"], "BadRequest");
        let message = text(&response.body, "/message");
        assert!(message.contains(expected), "{app}: {message}");
        assert!(message.contains(&pod), "{app}: {message}");
    }
    let api_pod = pod_of(&api, "api");
    let error = kubectl_err(&api, &["logs", &api_pod]);
    assert!(
        error.contains("Error from server (BadRequest): container \"api\""),
        "{error}"
    );
    let wrong = api.get(&format!(
        "/api/v1/namespaces/openclaw/pods/{api_pod}/log?container=nope"
    ));
    assert_eq!(wrong.status, 400);
    assert_eq!(
        wrong.body["message"],
        format!("container nope is not valid for pod {api_pod}")
    );
    let missing = api.get("/api/v1/namespaces/openclaw/pods/nope/log");
    assert_eq!(missing.status, 404);
}

#[test]
fn forbidden_pod_log_names_subresource() {
    let api = start_with("openclaw", KubeOptions::new().forbid("get:pods/log"));
    let pod = pod_of(&api, "web");
    let response = api.get(&format!("/api/v1/namespaces/openclaw/pods/{pod}/log"));
    assert_eq!(response.status, 403);
    assert_eq!(
        response.body["message"],
        format!(
            "pods \"{pod}\" is forbidden: User \"system:serviceaccount:openclaw:kubectl-zot\" cannot get resource \"pods/log\" in API group \"\" in the namespace \"openclaw\""
        )
    );
    let own = api.get(&format!("/api/v1/namespaces/openclaw/pods/{pod}"));
    assert_eq!(own.status, 200, "only the log subresource is forbidden");
}

// ---------------------------------------------------------------------------------------------
// Server: writes

#[test]
fn merge_patch_updates_deployment() {
    let api = start("openclaw");
    let before = api
        .get("/apis/apps/v1/namespaces/openclaw/deployments/web")
        .body;
    let patch =
        r#"{"spec":{"template":{"metadata":{"annotations":{"kubectl-zot/checked":"yes"}}}}}"#;
    let output = kubectl_json(
        &api,
        &[
            "patch",
            "deployment",
            "web",
            "--type",
            "merge",
            "--field-manager",
            "kubectl-zot",
            "-p",
            patch,
            "-o",
            "json",
        ],
    );
    assert_eq!(
        output["spec"]["template"]["metadata"]["annotations"]["kubectl-zot/checked"],
        "yes"
    );
    assert_eq!(output["metadata"]["generation"], 2);
    let old_version: u64 = text(&before, "/metadata/resourceVersion").parse().unwrap();
    let new_version: u64 = text(&output, "/metadata/resourceVersion").parse().unwrap();
    assert!(new_version > old_version);
    let after = api
        .get("/apis/apps/v1/namespaces/openclaw/deployments/web")
        .body;
    assert_eq!(
        after["spec"]["template"]["metadata"]["labels"]["app"],
        "web"
    );
    assert_eq!(after["metadata"]["generation"], 2);
    // kubectl hides managedFields in its output, so read them from the stored object.
    let managers: Vec<&str> = after["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields after a patch")
        .iter()
        .map(|entry| text(entry, "/manager"))
        .collect();
    assert_eq!(managers, ["kubectl-zot"]);

    let request = api
        .requests()
        .into_iter()
        .find(|request| request.method == "PATCH")
        .expect("the PATCH is logged");
    assert_eq!(
        request.content_type.as_deref(),
        Some("application/merge-patch+json")
    );
    assert_eq!(
        request.query.get("fieldManager").map(String::as_str),
        Some("kubectl-zot")
    );
    assert_eq!(request.body, Some(serde_json::from_str(patch).unwrap()));
    assert_eq!(request.status, 200);
    assert!(request.token_present);
    assert!(
        !api.log_text().contains(&api.token),
        "the log must not contain the token"
    );
}

#[test]
fn strategic_patch_on_statefulset_and_daemonset() {
    let api = start("openclaw");
    let patch = r#"{"spec":{"template":{"metadata":{"annotations":{"restarted":"1"}}}}}"#;
    for target in ["statefulset/db", "daemonset/agent"] {
        let output = kubectl_json(&api, &["patch", target, "-p", patch, "-o", "json"]);
        assert_eq!(
            output["spec"]["template"]["metadata"]["annotations"]["restarted"], "1",
            "{target}"
        );
    }
    let types: Vec<Option<String>> = api
        .requests()
        .into_iter()
        .filter(|request| request.method == "PATCH")
        .map(|request| request.content_type)
        .collect();
    assert_eq!(
        types,
        [
            Some("application/strategic-merge-patch+json".to_string()),
            Some("application/strategic-merge-patch+json".to_string())
        ]
    );
}

#[test]
fn dry_run_patch_changes_nothing() {
    let api = start("openclaw");
    let before = api
        .get("/apis/apps/v1/namespaces/openclaw/deployments/api")
        .body;
    let output = kubectl_json(
        &api,
        &[
            "patch",
            "deployment",
            "api",
            "--dry-run=server",
            "--type",
            "merge",
            "-p",
            r#"{"metadata":{"annotations":{"x":"y"}}}"#,
            "-o",
            "json",
        ],
    );
    assert_eq!(output["metadata"]["annotations"]["x"], "y");
    let after = api
        .get("/apis/apps/v1/namespaces/openclaw/deployments/api")
        .body;
    assert_eq!(before, after);
    let request = api
        .requests()
        .into_iter()
        .find(|request| request.method == "PATCH")
        .unwrap();
    assert_eq!(request.query.get("dryRun").map(String::as_str), Some("All"));
}

#[test]
fn unsupported_patch_type_is_415() {
    let api = start("openclaw");
    let response = api.http(
        "PATCH",
        "/apis/apps/v1/namespaces/openclaw/deployments/web",
        Some(&api.token),
        Some("application/json-patch+json"),
        Some(r#"[{"op":"add","path":"/metadata/labels/x","value":"y"}]"#),
    );
    assert_eq!(response.status, 415);
    assert_eq!(response.body["reason"], "UnsupportedMediaType");
}

#[test]
fn writes_to_other_resources_are_not_allowed() {
    let api = start("openclaw");
    let pod = pod_of(&api, "web");
    let delete = api.http(
        "DELETE",
        &format!("/api/v1/namespaces/openclaw/pods/{pod}"),
        Some(&api.token),
        None,
        None,
    );
    assert_eq!(delete.status, 405);
    assert_eq!(
        delete.body,
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "the server does not allow this method on the requested resource",
            "reason": "MethodNotAllowed",
            "details": {},
            "code": 405
        })
    );
    let create = api.http(
        "POST",
        "/api/v1/namespaces/openclaw/secrets",
        Some(&api.token),
        Some("application/json"),
        Some(r#"{"metadata":{"name":"s"}}"#),
    );
    assert_eq!(create.status, 405);
    let error = kubectl_err(&api, &["label", "pod", &pod, "x=y"]);
    assert!(
        error.contains("MethodNotAllowed") || error.contains("not allow"),
        "{error}"
    );
    assert_eq!(
        api.get(&format!("/api/v1/namespaces/openclaw/pods/{pod}"))
            .status,
        200
    );
}

// ---------------------------------------------------------------------------------------------
// Harness

#[test]
fn kubeconfig_has_lab_and_other_contexts() {
    let api = start_with(
        "openclaw",
        KubeOptions::new().other_namespace("kube-system"),
    );
    let contexts = kubectl_ok(&api, &["config", "get-contexts", "-o", "name"]);
    assert_eq!(contexts.lines().collect::<Vec<_>>(), ["lab", "other"]);
    let current = kubectl_ok(&api, &["config", "current-context"]);
    assert_eq!(current.trim(), "lab");
    let other = kubectl_json(
        &api,
        &["--context", "other", "get", "serviceaccounts", "-o", "json"],
    );
    assert_eq!(item_names(&other), BTreeSet::from(["default".to_string()]));
    assert_eq!(other["items"][0]["metadata"]["namespace"], "kube-system");
}

#[test]
fn cluster_subset_serves_only_chosen_files() {
    let dir = cluster_subset(
        "openclaw",
        &["namespace.json", "nodes.json", "deployment-api.json"],
    );
    let api = start(dir.path().to_str().unwrap());
    let pods = api.get("/api/v1/namespaces/openclaw/pods");
    assert_eq!(pods.body["items"].as_array().unwrap().len(), 1);
    let account = api.get("/api/v1/namespaces/openclaw/serviceaccounts/default");
    assert_eq!(account.status, 200, "the implicit default account exists");
}

#[test]
fn unknown_placeholder_stops_server() {
    let dir = tempfile::TempDir::new().unwrap();
    fs::write(
        dir.path().join("secret.json"),
        r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"n"},"stringData":{"k":"${NOT_GIVEN}"}}"#,
    )
    .unwrap();
    let output = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("lab/kube-apiserver"))
        .arg("--cluster")
        .arg(dir.path())
        .arg("--port-file")
        .arg(dir.path().join("port"))
        .arg("--log")
        .arg(dir.path().join("log"))
        .output()
        .expect("run lab/kube-apiserver");
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(message.contains("${NOT_GIVEN}"), "{message}");
    assert!(message.contains("--var NOT_GIVEN=VALUE"), "{message}");
    assert!(!dir.path().join("port").exists());
}

#[test]
fn invalid_fault_rule_is_usage_error() {
    let dir = tempfile::TempDir::new().unwrap();
    for (flag, rule, expected) in [
        ("--fail", "get:pods:999", "status 999 is not one of"),
        ("--delay", "get:pods", "expected VERB:RESOURCE:SECONDS"),
        ("--forbid", "get", "expected VERB:RESOURCE[:SCOPE]"),
    ] {
        let output = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("lab/kube-apiserver"))
            .arg("--cluster")
            .arg(cluster_dir("empty"))
            .arg("--port-file")
            .arg(dir.path().join("port"))
            .arg("--log")
            .arg(dir.path().join("log"))
            .args([flag, rule])
            .output()
            .expect("run lab/kube-apiserver");
        assert_eq!(output.status.code(), Some(2), "{flag} {rule}");
        let message = stderr(&output);
        assert!(message.contains(expected), "{flag} {rule}: {message}");
    }
    assert!(!dir.path().join("port").exists());
}

#[test]
fn server_stops_on_drop() {
    let api = start("empty");
    let port = api.port;
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    drop(api);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}

#[test]
fn zot_runs_built_binary() {
    // Only the exit code is checked: the harness must not depend on the plugin's help text.
    let output = support::zot(["--help"]).run();
    output.assert_code(0);
    let with_input = support::zot(["--help"]).stdin("unread input\n").run();
    with_input.assert_code(0);
}

#[test]
fn lab_vars_name_seeded_images() {
    let lab = lab();
    let vars = lab.vars();
    let latest = lab.digest("openclaw/openclaw", "latest");
    assert_eq!(
        vars.get("IMAGE_ID_LATEST").unwrap(),
        format!("{}/openclaw/openclaw@{latest}", lab.tls_registry)
    );
    assert_ne!(vars.get("IMAGE_ID_OLD"), vars.get("IMAGE_ID_LATEST"));
    let config: Value = serde_json::from_str(vars.get("DOCKERCONFIGJSON").unwrap()).unwrap();
    let auth = text(&config, &format!("/auths/{}/auth", lab.tls_registry)).to_string();
    let decoded = String::from_utf8(STANDARD.decode(auth).unwrap()).unwrap();
    assert_eq!(decoded, format!("{}:{}", lab.user, lab.pass));
    let api = KubeApi::start("openclaw", KubeOptions::new());
    let web = api.get("/api/v1/namespaces/openclaw/pods?labelSelector=app%3Dweb");
    assert_eq!(
        web.body["items"][0]["status"]["containerStatuses"][0]["imageID"],
        vars.get("IMAGE_ID_LATEST").unwrap()
    );
}
