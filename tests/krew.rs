//! The krew manifest: `krew-manifest/release` builds the archives and renders a manifest
//! that passes krew's checks. kubectl krew is not installed, so the checks of krew's
//! pkg/index/validation (ValidatePlugin) and of its installer (file operations, bin) are
//! written out here.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;
use serde_yaml::Value;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

const API_VERSION: &str = "krew.googlecontainertools.github.com/v1alpha2";
/// Platforms the manifest template lists, one block each.
const PLATFORMS: [(&str, &str); 5] = [
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("windows", "amd64"),
];
/// os/arch pairs checked for overlapping selectors: the template's and others krew users run.
const PROBE_PLATFORMS: [(&str, &str); 10] = [
    ("linux", "amd64"),
    ("linux", "arm64"),
    ("linux", "arm"),
    ("linux", "386"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
    ("windows", "amd64"),
    ("windows", "arm64"),
    ("windows", "386"),
    ("freebsd", "amd64"),
];
/// Device names Windows reserves, which krew rejects as plugin names.
const WINDOWS_FORBIDDEN: [&str; 22] = [
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Returns the problems krew's ValidatePlugin would report for a manifest file: the name
/// must be the file name, safe, and every platform well formed.
fn validate_plugin(path: &Path, manifest: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let file_name = path.file_stem().unwrap().to_string_lossy().to_string();
    if manifest["apiVersion"].as_str() != Some(API_VERSION) {
        problems.push(format!("apiVersion is {:?}", manifest["apiVersion"]));
    }
    if manifest["kind"].as_str() != Some("Plugin") {
        problems.push(format!("kind is {:?}", manifest["kind"]));
    }

    let name = manifest["metadata"]["name"].as_str().unwrap_or("");
    if !Regex::new(r"^[\w-]+$").unwrap().is_match(name) {
        problems.push(format!("name {name:?} does not match ^[\\w-]+$"));
    }
    if WINDOWS_FORBIDDEN
        .iter()
        .any(|forbidden| forbidden.eq_ignore_ascii_case(name))
    {
        problems.push(format!("name {name:?} is a reserved Windows name"));
    }
    if name != file_name {
        problems.push(format!(
            "name {name:?} differs from the file name {file_name:?}"
        ));
    }

    let spec = &manifest["spec"];
    if spec["shortDescription"].as_str().unwrap_or("").is_empty() {
        problems.push("shortDescription is empty".to_string());
    }

    let version = spec["version"].as_str().unwrap_or("");
    let semver = Regex::new(
        r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$",
    )
    .unwrap();
    if !semver.is_match(version) {
        problems.push(format!(
            "version {version:?} is not semver with a leading v"
        ));
    }

    let platforms = spec["platforms"].as_sequence().cloned().unwrap_or_default();
    if platforms.is_empty() {
        problems.push("no platforms".to_string());
    }
    let sha256 = Regex::new(r"^[a-f0-9]{64}$").unwrap();
    for (index, platform) in platforms.iter().enumerate() {
        let label = format!("platform {index}");
        if platform["uri"].as_str().unwrap_or("").is_empty() {
            problems.push(format!("{label}: uri is empty"));
        }
        let checksum = platform["sha256"].as_str().unwrap_or("");
        if !sha256.is_match(checksum) {
            problems.push(format!(
                "{label}: sha256 {checksum:?} is not 64 lowercase hex"
            ));
        }
        if platform["bin"].as_str().unwrap_or("").is_empty() {
            problems.push(format!("{label}: bin is empty"));
        }
        if platform["files"]
            .as_sequence()
            .is_none_or(|files| files.is_empty())
        {
            problems.push(format!("{label}: no file operations"));
        }
        problems.extend(
            validate_selector(&platform["selector"])
                .into_iter()
                .map(|problem| format!("{label}: {problem}")),
        );
    }

    for (os, arch) in PROBE_PLATFORMS {
        let matching = platforms
            .iter()
            .filter(|platform| selector_matches(&platform["selector"], os, arch))
            .count();
        if matching > 1 {
            problems.push(format!("{matching} platforms match {os}/{arch}"));
        }
    }
    problems
}

/// krew's validateSelector: present, not empty, keys os and arch only.
fn validate_selector(selector: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if selector.is_null() {
        return vec!["no selector".to_string()];
    }
    let labels = selector["matchLabels"].as_mapping();
    let expressions = selector["matchExpressions"].as_sequence();
    if labels.is_none_or(|labels| labels.is_empty())
        && expressions.is_none_or(|expressions| expressions.is_empty())
    {
        problems.push("empty selector".to_string());
    }
    let mut keys: Vec<String> = labels
        .into_iter()
        .flatten()
        .map(|(key, _)| key.as_str().unwrap_or("").to_string())
        .collect();
    keys.extend(
        expressions
            .into_iter()
            .flatten()
            .map(|expression| expression["key"].as_str().unwrap_or("").to_string()),
    );
    for key in keys {
        if key != "os" && key != "arch" {
            problems.push(format!("selector key {key:?} is not supported"));
        }
    }
    problems
}

/// Evaluates a label selector against the labels os and arch, as krew picks a platform.
fn selector_matches(selector: &Value, os: &str, arch: &str) -> bool {
    let label = |key: &str| match key {
        "os" => Some(os),
        "arch" => Some(arch),
        _ => None,
    };
    for (key, value) in selector["matchLabels"].as_mapping().into_iter().flatten() {
        if label(key.as_str().unwrap_or("")) != value.as_str() {
            return false;
        }
    }
    for expression in selector["matchExpressions"]
        .as_sequence()
        .into_iter()
        .flatten()
    {
        let actual = label(expression["key"].as_str().unwrap_or(""));
        let values: Vec<&str> = expression["values"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let holds = match expression["operator"].as_str().unwrap_or("") {
            "In" => actual.is_some_and(|actual| values.contains(&actual)),
            "NotIn" => actual.is_none_or(|actual| !values.contains(&actual)),
            "Exists" => actual.is_some(),
            "DoesNotExist" => actual.is_none(),
            _ => false,
        };
        if !holds {
            return false;
        }
    }
    true
}

fn load(path: &Path) -> Value {
    let text = fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_yaml::from_str(&text)
        .unwrap_or_else(|error| panic!("{} is not YAML: {error}", path.display()))
}

fn os_arch(platform: &Value) -> (String, String) {
    let labels = &platform["selector"]["matchLabels"];
    (
        labels["os"].as_str().unwrap_or("").to_string(),
        labels["arch"].as_str().unwrap_or("").to_string(),
    )
}

/// Runs the release script with the test build's binaries into a new directory.
fn release_with_test_binaries() -> TempDir {
    let out = TempDir::new().expect("create the release directory");
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_kubectl-zot"))
        .parent()
        .unwrap();
    let output = Command::new(root().join("krew-manifest/release"))
        .arg("--out")
        .arg(out.path())
        .arg("--bin-dir")
        .arg(bin_dir)
        .current_dir(root())
        .output()
        .expect("run krew-manifest/release");
    assert!(
        output.status.success(),
        "krew-manifest/release failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    out
}

/// Lists the entries of a .tar.gz as `tar -tvzf` shows them: type letter and path.
fn tar_entries(archive: &Path) -> Vec<(char, String)> {
    let output = Command::new("tar")
        .arg("-tvzf")
        .arg(archive)
        .output()
        .expect("run tar");
    assert!(output.status.success(), "tar -tvzf {}", archive.display());
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let kind = line.chars().next().unwrap_or('?');
            let path = line.split_whitespace().last().unwrap_or("").to_string();
            (kind, path)
        })
        .collect()
}

/// Applies krew's file operations: each `from` (a glob relative to the unpacked archive)
/// is moved into `to` (a directory relative to the install directory).
fn install(unpacked: &Path, files: &[Value], install_dir: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for operation in files {
        let from = operation["from"].as_str().unwrap_or("");
        let to = operation["to"].as_str().unwrap_or("");
        for part in [from, to] {
            if part.starts_with('/') || part.split('/').any(|piece| piece == "..") {
                problems.push(format!("{part:?} leaves the archive or install directory"));
            }
        }
        let pattern = Regex::new(&format!(
            "^{}$",
            regex::escape(from)
                .replace(r"\*", "[^/]*")
                .replace(r"\?", "[^/]")
        ))
        .unwrap();
        let matched: Vec<String> = fs::read_dir(unpacked)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().to_string())
            .filter(|name| pattern.is_match(name))
            .collect();
        if matched.is_empty() {
            problems.push(format!("from {from:?} matches nothing in the archive"));
        }
        let target = install_dir.join(to);
        fs::create_dir_all(&target).unwrap();
        for name in matched {
            fs::copy(unpacked.join(&name), target.join(&name)).unwrap();
        }
    }
    problems
}

/// Runs the release script once, because packing the debug binaries takes a while, and
/// checks the rendered manifest and the archive.
#[test]
fn release_output_passes_krew_checks() {
    let out = release_with_test_binaries();
    check_rendered_manifest(out.path());
    check_archive(out.path());
}

/// Checks the rendered manifest against krew's validation and the platforms built.
fn check_rendered_manifest(out: &Path) {
    let manifest_path = out.join("zot.yaml");
    let manifest = load(&manifest_path);
    let problems = validate_plugin(&manifest_path, &manifest);
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    assert_eq!(
        manifest["spec"]["version"].as_str(),
        Some(format!("v{}", env!("CARGO_PKG_VERSION")).as_str())
    );
    let platforms = manifest["spec"]["platforms"].as_sequence().unwrap();
    // Only the host's binaries were given, so only linux/amd64 is in the manifest.
    let built: Vec<(String, String)> = platforms.iter().map(os_arch).collect();
    assert_eq!(built, [("linux".to_string(), "amd64".to_string())]);
    let text = fs::read_to_string(&manifest_path).unwrap();
    for (os, arch) in &PLATFORMS[1..] {
        assert!(
            text.contains(&format!("# Not built, so left out: {os}/{arch} (")),
            "no note for {os}/{arch}:\n{text}"
        );
    }
}

/// Checks that the archive matches the manifest's URI and checksum, contains regular files
/// only, and installs the bin and the licence through the manifest's file operations.
fn check_archive(out: &Path) {
    let manifest = load(&out.join("zot.yaml"));
    let platform = &manifest["spec"]["platforms"][0];
    let uri = platform["uri"].as_str().unwrap();
    let version = format!("v{}", env!("CARGO_PKG_VERSION"));
    let name = format!("kubectl-zot_{version}_linux_amd64.tar.gz");
    assert_eq!(
        uri,
        format!("https://github.com/kubectl-zot/kubectl-zot/releases/download/{version}/{name}")
    );
    let archive = out.join(&name);
    let bytes = fs::read(&archive).expect("the archive the URI names");
    let checksum = format!("{:x}", Sha256::digest(&bytes));
    assert_eq!(platform["sha256"].as_str(), Some(checksum.as_str()));

    // Regular files at the top level only: no directories, symlinks or hard links.
    let entries = tar_entries(&archive);
    for (kind, path) in &entries {
        assert_eq!(*kind, '-', "{path} is not a regular file: {entries:?}");
        assert!(!path.contains('/'), "{path} is not at the top level");
    }
    let names: BTreeSet<&str> = entries.iter().map(|(_, path)| path.as_str()).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "LICENSE",
            "README.md",
            "kubectl-zot",
            "kubectl_complete-zot"
        ])
    );

    let unpacked = TempDir::new().unwrap();
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(unpacked.path())
        .status()
        .unwrap();
    assert!(status.success());
    let license = fs::read_to_string(unpacked.path().join("LICENSE")).unwrap();
    assert!(license.contains("Apache License"), "{license}");
    assert!(license.contains("Version 2.0, January 2004"));

    let install_dir = TempDir::new().unwrap();
    let files = platform["files"].as_sequence().unwrap();
    let problems = install(unpacked.path(), files, install_dir.path());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let bin = install_dir.path().join(platform["bin"].as_str().unwrap());
    assert!(bin.is_file(), "bin {} is not installed", bin.display());
    let completion = install_dir.path().join("kubectl_complete-zot");
    assert!(
        completion.is_file(),
        "kubectl_complete-zot is not installed"
    );
    let licence_installed = fs::read_dir(install_dir.path()).unwrap().any(|entry| {
        entry
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("LICENSE")
    });
    assert!(
        licence_installed,
        "no licence file among the installed files"
    );

    // A fresh bash with only the unpacked archive and the system on PATH completes
    // `kubectl zot d<TAB>` through kubectl's own completion and kubectl_complete-zot.
    let replies = bash_complete_in(unpacked.path(), "kubectl zot d");
    assert!(replies.contains(&"diagnose".to_string()), "{replies:?}");
    assert_eq!(
        bash_complete_in(unpacked.path(), "kubectl zot dia"),
        ["diagnose"]
    );

    // The installed binary runs and reports the manifest's version.
    let output = Command::new(&bin)
        .args(["version", "-o", "json"])
        .output()
        .unwrap();
    let reported: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(reported["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn template_lists_every_platform() {
    let template = fs::read_to_string(root().join("krew-manifest/zot.yaml.in")).unwrap();
    for (os, arch) in PLATFORMS {
        let marker = format!("# @platform {os}/{arch}\n");
        assert!(template.contains(&marker), "no block for {os}/{arch}");
        let key = format!("{os}_{arch}");
        assert!(
            template.contains(&format!("@URI_{key}@")),
            "no URI for {key}"
        );
        assert!(
            template.contains(&format!("@SHA256_{key}@")),
            "no sha256 for {key}"
        );
    }
    let markers: Vec<&str> = template.lines().map(str::trim).collect();
    let blocks = markers
        .iter()
        .filter(|line| line.starts_with("# @platform "))
        .count();
    let ends = markers.iter().filter(|line| **line == "# @end").count();
    assert_eq!(blocks, PLATFORMS.len());
    assert_eq!(ends, PLATFORMS.len());
}

#[test]
fn committed_manifest_passes_krew_validation() {
    let path = root().join("plugin.yaml");
    let manifest = load(&path);
    // krew-index stores the manifest as NAME.yaml, so the file name check uses zot.yaml.
    let problems = validate_plugin(Path::new("zot.yaml"), &manifest);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        manifest["spec"]["version"].as_str(),
        Some(format!("v{}", env!("CARGO_PKG_VERSION")).as_str()),
        "plugin.yaml is for another version: run krew-manifest/release"
    );
    for platform in manifest["spec"]["platforms"].as_sequence().unwrap() {
        let (os, arch) = os_arch(platform);
        assert!(
            PLATFORMS.contains(&(os.as_str(), arch.as_str())),
            "{os}/{arch} is not a release platform"
        );
        let files = platform["files"].as_sequence().unwrap();
        assert!(
            files
                .iter()
                .any(|file| file["from"].as_str() == Some("LICENSE")),
            "{os}/{arch} installs no LICENSE"
        );
    }
}

#[test]
fn uninstalled_target_is_left_out_not_faked() {
    let out = TempDir::new().unwrap();
    // No Rust target for macOS is installed here, so nothing can be built.
    let output = Command::new(root().join("krew-manifest/release"))
        .arg("--out")
        .arg(out.path())
        .args(["--platform", "darwin/arm64"])
        .current_dir(root())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("aarch64-apple-darwin is not installed"),
        "{stderr}"
    );
    assert!(!out.path().join("zot.yaml").exists());
}

/// A change that breaks one krew rule in a manifest.
type ManifestEdit = fn(&mut Value);

#[test]
fn validator_rejects_broken_manifests() {
    let good = load(&root().join("plugin.yaml"));
    let cases: [(&str, ManifestEdit); 5] = [
        ("uppercase sha256", |manifest| {
            manifest["spec"]["platforms"][0]["sha256"] = Value::from("A".repeat(64));
        }),
        ("version without v", |manifest| {
            manifest["spec"]["version"] = Value::from("0.1.0");
        }),
        ("duplicate platform", |manifest| {
            let platforms = manifest["spec"]["platforms"].as_sequence_mut().unwrap();
            let first = platforms[0].clone();
            platforms.push(first);
        }),
        ("unsupported selector key", |manifest| {
            manifest["spec"]["platforms"][0]["selector"]["matchLabels"]["libc"] =
                Value::from("musl");
        }),
        ("reserved name", |manifest| {
            manifest["metadata"]["name"] = Value::from("con");
        }),
    ];
    for (case, break_manifest) in cases {
        let mut manifest = good.clone();
        break_manifest(&mut manifest);
        // The file is named after the plugin, so only the broken field can fail.
        let name = manifest["metadata"]["name"].as_str().unwrap().to_string();
        let problems = validate_plugin(Path::new(&format!("{name}.yaml")), &manifest);
        assert!(!problems.is_empty(), "{case} passed validation");
    }
}

/// Completes `line` in a non-interactive bash whose PATH is `plugin_dir` and the system's,
/// with the bash-completion package and kubectl's bash completion loaded.
fn bash_complete_in(plugin_dir: &Path, line: &str) -> Vec<String> {
    let home = TempDir::new().unwrap();
    let script = r#"source /usr/share/bash-completion/bash_completion
source <(kubectl completion bash)
read -r -a COMP_WORDS <<< "$LINE"
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE=$LINE
COMP_POINT=${#LINE}
__start_kubectl kubectl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let output = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", script])
        .env_clear()
        .env(
            "PATH",
            format!("{}:/usr/local/bin:/usr/bin:/bin", plugin_dir.display()),
        )
        .env("HOME", home.path())
        .env("LINE", line)
        .output()
        .expect("run bash");
    assert!(
        output.status.success(),
        "bash failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}
