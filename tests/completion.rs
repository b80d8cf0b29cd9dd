//! Shell completion: `kubectl_complete-zot` speaks cobra's `__complete` protocol, kubectl's
//! own bash completion uses it for `kubectl zot <TAB>`, and `completion SHELL` prints scripts.

mod support;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::kube::{KubeApi, KubeOptions, SYSTEM_PATH};
use support::zot;
use tempfile::TempDir;

/// Output of one `kubectl_complete-zot` run.
#[derive(Debug)]
struct CompletionOutput {
    code: Option<i32>,
    /// Candidate lines without their descriptions.
    values: Vec<String>,
    /// The full candidate lines, descriptions included.
    lines: Vec<String>,
    /// The directive line, e.g. `:4`.
    directive: String,
    elapsed: Duration,
    stdout: String,
}

/// Runs `kubectl_complete-zot ARGS` with a cleared environment and an empty HOME, and
/// KUBECONFIG when given.
fn complete(args: &[&str], kubeconfig: Option<&Path>) -> CompletionOutput {
    let home = TempDir::new().expect("create a temporary HOME");
    let mut command = Command::new(env!("CARGO_BIN_EXE_kubectl_complete-zot"));
    command
        .args(args)
        .env_clear()
        .env("PATH", SYSTEM_PATH)
        .env("HOME", home.path())
        .stdin(Stdio::null());
    if let Some(kubeconfig) = kubeconfig {
        command.env("KUBECONFIG", kubeconfig);
    }
    let started = Instant::now();
    let output = command.output().expect("run kubectl_complete-zot");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut lines: Vec<String> = stdout.lines().map(str::to_string).collect();
    let directive = lines.pop().unwrap_or_default();
    let values = lines
        .iter()
        .map(|line| line.split('\t').next().unwrap_or("").to_string())
        .collect();
    CompletionOutput {
        code: output.status.code(),
        values,
        lines,
        directive,
        elapsed,
        stdout,
    }
}

#[test]
fn complete_protocol_offers_diagnose() {
    let answer = complete(&["__complete", "d"], None);
    assert_eq!(answer.code, Some(0), "{answer:?}");
    assert!(
        answer.values.contains(&"diagnose".to_string()),
        "{answer:?}"
    );
    assert!(
        answer
            .lines
            .contains(&"diagnose\tExplain why pods fail to pull their images".to_string()),
        "{answer:?}"
    );
    assert!(
        answer.values.iter().all(|value| value.starts_with('d')),
        "{answer:?}"
    );
    // ShellCompDirectiveNoFileComp: subcommand names are not file names.
    assert_eq!(answer.directive, ":4", "{answer:?}");
}

#[test]
fn kubectl_form_without_complete_word() {
    // kubectl 1.26+ runs the executable with the words after the plugin name only.
    let answer = complete(&["dia"], None);
    assert_eq!(answer.code, Some(0), "{answer:?}");
    assert_eq!(answer.values, ["diagnose"], "{answer:?}");
    assert_eq!(answer.directive, ":4", "{answer:?}");
}

#[test]
fn no_descriptions_form_drops_tabs() {
    let answer = complete(&["__completeNoDesc", "d"], None);
    assert!(answer.lines.contains(&"diagnose".to_string()), "{answer:?}");
    assert!(!answer.stdout.contains('\t'), "{answer:?}");
}

#[test]
fn flags_and_values_complete() {
    let flags = complete(&["diagnose", "--out"], None);
    assert_eq!(flags.values, ["--output"], "{flags:?}");
    assert_eq!(flags.directive, ":4");
    let values = complete(&["diagnose", "-o", ""], None);
    assert_eq!(values.values, ["table", "json", "yaml"], "{values:?}");
    let shells = complete(&["completion", ""], None);
    assert_eq!(shells.values, ["bash", "zsh", "fish"], "{shells:?}");
}

#[test]
fn namespaces_come_from_the_cluster() {
    let api = KubeApi::start("empty", KubeOptions::new().dummy_vars().namespace("quiet"));
    let answer = complete(&["-n", ""], Some(&api.kubeconfig));
    assert_eq!(answer.code, Some(0), "{answer:?}");
    for namespace in ["default", "kube-system", "quiet"] {
        assert!(
            answer.values.contains(&namespace.to_string()),
            "{namespace} missing: {answer:?}"
        );
    }
    assert_eq!(answer.directive, ":4");
    let narrowed = complete(&["diagnose", "--namespace", "qu"], Some(&api.kubeconfig));
    assert_eq!(narrowed.values, ["quiet"], "{narrowed:?}");
    let requests = api.requests();
    assert!(
        requests.iter().all(|request| !request.is_write()),
        "{requests:?}"
    );
    assert!(
        requests.iter().any(|request| {
            request.verb.as_deref() == Some("list")
                && request.resource.as_deref() == Some("namespaces")
        }),
        "{requests:?}"
    );
}

#[test]
fn diagnose_target_lists_pods_and_workloads() {
    let api = KubeApi::start("empty", KubeOptions::new().dummy_vars().namespace("quiet"));
    let answer = complete(&["diagnose", ""], Some(&api.kubeconfig));
    assert_eq!(answer.code, Some(0), "{answer:?}");
    for target in [
        "web-p4v5gbsh4l-mq9mv",
        "web-p4v5gbsh4l-xr2gv",
        "deployment/web",
    ] {
        assert!(
            answer.values.contains(&target.to_string()),
            "{target} missing: {answer:?}"
        );
    }
    assert_eq!(answer.directive, ":4");

    let workloads = complete(&["diagnose", "dep"], Some(&api.kubeconfig));
    assert_eq!(workloads.values, ["deployment/web"], "{workloads:?}");
    // kubectl's short type names stay as typed.
    let short = complete(&["diagnose", "deploy/w"], Some(&api.kubeconfig));
    assert_eq!(short.values, ["deploy/web"], "{short:?}");
}

#[test]
fn target_follows_namespace_flag() {
    // The kubeconfig's context points at openclaw, where the empty cluster has no pods.
    let api = KubeApi::start("empty", KubeOptions::new().dummy_vars());
    let without = complete(&["diagnose", "web"], Some(&api.kubeconfig));
    assert!(without.values.is_empty(), "{without:?}");
    let with = complete(&["-n", "quiet", "diagnose", "web"], Some(&api.kubeconfig));
    assert_eq!(
        with.values,
        ["web-p4v5gbsh4l-mq9mv", "web-p4v5gbsh4l-xr2gv"],
        "{with:?}"
    );
}

#[test]
fn unreachable_cluster_gives_no_candidates() {
    let dir = TempDir::new().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    // Port 1 on loopback: nothing listens there, so the connection is refused.
    fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
         clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n\
         users:\n- name: u\n  user:\n    token: abc\n\
         contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n",
    )
    .unwrap();
    let answer = complete(&["-n", ""], Some(&kubeconfig));
    assert_eq!(answer.code, Some(0), "{answer:?}");
    assert!(answer.values.is_empty(), "{answer:?}");
    assert_eq!(answer.directive, ":4");
    // No kubeconfig at all: the same quiet answer.
    let missing = complete(&["-n", ""], Some(&dir.path().join("absent")));
    assert_eq!(missing.code, Some(0), "{missing:?}");
    assert!(missing.values.is_empty(), "{missing:?}");
}

#[test]
fn slow_cluster_times_out_quietly() {
    let api = KubeApi::start(
        "empty",
        KubeOptions::new().dummy_vars().delay("list:namespaces:20"),
    );
    let answer = complete(&["-n", ""], Some(&api.kubeconfig));
    assert_eq!(answer.code, Some(0), "{answer:?}");
    assert!(answer.values.is_empty(), "{answer:?}");
    assert_eq!(answer.directive, ":4");
    assert!(
        answer.elapsed < Duration::from_secs(10),
        "completion waited {:?} for a slow cluster",
        answer.elapsed
    );
}

#[test]
fn contexts_come_from_the_kubeconfig() {
    let api = KubeApi::start("empty", KubeOptions::new().dummy_vars());
    let answer = complete(&["--context", ""], Some(&api.kubeconfig));
    assert_eq!(answer.values, ["lab", "other"], "{answer:?}");
}

/// bash-completion's `_get_comp_words_by_ref` for command lines without quotes, `=` or `:`.
const MINIMAL_GET_COMP_WORDS: &str = r#"_get_comp_words_by_ref() {
  local name
  for name in "$@"; do
    case $name in
      cur) cur=${COMP_WORDS[COMP_CWORD]} ;;
      prev) prev=${COMP_WORDS[COMP_CWORD-1]} ;;
      words) words=("${COMP_WORDS[@]}") ;;
      cword) cword=$COMP_CWORD ;;
    esac
  done
}"#;

/// A directory with `kubectl-zot` and `kubectl_complete-zot`, to put first on PATH.
fn plugin_dir() -> TempDir {
    let dir = TempDir::new().expect("create the plugin directory");
    for binary in [
        env!("CARGO_BIN_EXE_kubectl-zot"),
        env!("CARGO_BIN_EXE_kubectl_complete-zot"),
    ] {
        let name = Path::new(binary).file_name().unwrap();
        symlink(binary, dir.path().join(name)).expect("link a plugin binary");
    }
    dir
}

/// Completes `line` (ending at the cursor) in a fresh non-interactive bash with kubectl's
/// bash completion loaded, and returns COMPREPLY, one entry a line.
fn bash_complete(line: &str, kubeconfig: Option<&Path>) -> Vec<String> {
    let plugins = plugin_dir();
    let home = TempDir::new().unwrap();
    let path = format!("{}:{SYSTEM_PATH}", plugins.path().display());
    // kubectl's script needs _get_comp_words_by_ref from the Debian package bash-completion.
    let bash_completion = Path::new("/usr/share/bash-completion/bash_completion");
    let load_words = if bash_completion.exists() {
        format!("source {}", bash_completion.display())
    } else {
        // TODO: lab/install should install bash-completion; until then this stand-in splits
        // words on blanks only, which is all these command lines need.
        eprintln!("bash-completion is not installed: using a minimal _get_comp_words_by_ref");
        MINIMAL_GET_COMP_WORDS.to_string()
    };
    let script = format!(
        r#"{load_words}
source <(kubectl completion bash)
read -r -a COMP_WORDS <<< "$LINE"
[[ $LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE=$LINE
COMP_POINT=${{#LINE}}
__start_kubectl kubectl "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}" 2>/dev/null
printf '%s\n' "${{COMPREPLY[@]}}"
"#
    );
    let mut command = Command::new("bash");
    command
        .args(["--norc", "--noprofile", "-c", &script])
        .env_clear()
        .env("PATH", path)
        .env("HOME", home.path())
        .env("LINE", line)
        .stdin(Stdio::null());
    if let Some(kubeconfig) = kubeconfig {
        command.env("KUBECONFIG", kubeconfig);
    }
    let output = command.output().expect("run bash");
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

#[test]
fn bash_completes_kubectl_zot_subcommand() {
    assert_eq!(bash_complete("kubectl zot dia", None), ["diagnose"]);
    let both = bash_complete("kubectl zot d", None);
    assert!(both.contains(&"diagnose".to_string()), "{both:?}");
    assert!(both.contains(&"digest".to_string()), "{both:?}");
}

#[test]
fn bash_completes_kubectl_zot_namespace() {
    let api = KubeApi::start("empty", KubeOptions::new().dummy_vars());
    let reply = bash_complete("kubectl zot diagnose -n qu", Some(&api.kubeconfig));
    assert_eq!(reply, ["quiet"]);
}

#[test]
fn completion_prints_scripts() {
    for shell in ["bash", "zsh", "fish"] {
        let output = zot(["completion", shell]).run();
        output.assert_code(0);
        assert!(
            output.stdout.contains("kubectl-zot"),
            "{shell} script:\n{}",
            output.stdout
        );
        assert!(
            output.stdout.contains("diagnose"),
            "{shell} script:\n{}",
            output.stdout
        );
    }
}

#[test]
fn bash_script_parses_and_completes() {
    let output = zot(["completion", "bash"]).run();
    output.assert_code(0);
    let dir = TempDir::new().unwrap();
    let script = dir.path().join("kubectl-zot.bash");
    fs::write(&script, &output.stdout).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("run bash -n");
    assert!(
        check.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    // The function the script registers for kubectl-zot, called as `complete -F` would.
    let driver = format!(
        r#"source {}
spec=$(complete -p kubectl-zot)
[[ $spec =~ -F\ ([^ ]+) ]] || exit 3
COMP_WORDS=(kubectl-zot dia)
COMP_CWORD=1
COMP_LINE="kubectl-zot dia"
COMP_POINT=${{#COMP_LINE}}
"${{BASH_REMATCH[1]}}" kubectl-zot dia kubectl-zot
printf '%s\n' "${{COMPREPLY[@]}}"
"#,
        script.display()
    );
    let run = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &driver])
        .output()
        .expect("run bash");
    let reply = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        reply.trim(),
        "diagnose",
        "stderr: {}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let output = zot(["completion", "tcsh"]).run();
    output.assert_code(2);
    assert!(output.stderr.contains("tcsh"), "{}", output.stderr);
}
