//! Test harness shared by the integration test binaries (`mod support;`): the lab environment
//! ([`lab`]), the Kubernetes API test server ([`kube`]) and a runner for the built
//! `kubectl-zot` binary ([`zot`]).

// Each test binary uses a different part of the harness.
#![allow(dead_code)]

pub mod kube;
pub mod lab;
pub mod proxy;

use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use kube::{KubeApi, SYSTEM_PATH};

/// How long one `kubectl-zot` run may take before the test kills it and fails.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// Builds a run of the `kubectl-zot` binary with `args`.
///
/// The child gets a cleared environment: PATH is the system path, HOME an empty temporary
/// directory, KUBECONFIG the harness's (see [`Zot::kube`]) or unset, and no NO_COLOR, proxy
/// or in-cluster variables.
pub fn zot<I, S>(args: I) -> Zot
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Zot {
        args: args
            .into_iter()
            .map(|arg| arg.as_ref().to_owned())
            .collect(),
        envs: Vec::new(),
        kubeconfig: None,
        timeout: DEFAULT_TIMEOUT,
        stdin: None,
    }
}

/// A pending `kubectl-zot` run; see [`zot`].
#[derive(Debug, Clone)]
pub struct Zot {
    args: Vec<OsString>,
    envs: Vec<(OsString, OsString)>,
    kubeconfig: Option<PathBuf>,
    timeout: Duration,
    stdin: Option<String>,
}

impl Zot {
    /// Points KUBECONFIG at the test server's kubeconfig.
    pub fn kube(mut self, api: &KubeApi) -> Self {
        self.kubeconfig = Some(api.kubeconfig.clone());
        self
    }

    /// Sets one more environment variable for the child.
    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.envs
            .push((name.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    /// Feeds `text` to the child's standard input (else it reads from /dev/null).
    pub fn stdin(mut self, text: &str) -> Self {
        self.stdin = Some(text.to_string());
        self
    }

    /// Overrides [`DEFAULT_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs the binary to completion.
    ///
    /// # Panics
    /// When it cannot start, or runs longer than the timeout (it is killed first).
    pub fn run(self) -> ZotOutput {
        let home = TempDir::new().expect("create a temporary HOME");
        let mut command = Command::new(env!("CARGO_BIN_EXE_kubectl-zot"));
        command
            .args(&self.args)
            .env_clear()
            .env("PATH", SYSTEM_PATH)
            .env("HOME", home.path())
            .env("RUST_BACKTRACE", "1")
            .stdin(if self.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(kubeconfig) = &self.kubeconfig {
            command.env("KUBECONFIG", kubeconfig);
        }
        for (name, value) in &self.envs {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("start kubectl-zot");
        let stdout = read_in_background(child.stdout.take().expect("piped stdout"));
        let stderr = read_in_background(child.stderr.take().expect("piped stderr"));
        // Written after the readers start, so a child that prints before it reads cannot
        // block on a full stdout pipe. Dropping the pipe then closes the child's stdin.
        if let Some(text) = &self.stdin {
            let mut pipe = child.stdin.take().expect("piped stdin");
            // A child that exits without reading its input closes the pipe first.
            if let Err(error) = pipe.write_all(text.as_bytes())
                && error.kind() != std::io::ErrorKind::BrokenPipe
            {
                panic!("cannot write kubectl-zot's stdin: {error}");
            }
        }
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for kubectl-zot") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "kubectl-zot {:?} ran longer than {:?}; stderr so far:\n{}",
                    self.args,
                    self.timeout,
                    stderr.join().unwrap_or_default()
                );
            }
            thread::sleep(Duration::from_millis(10));
        };
        ZotOutput {
            args: self.args,
            code: status.code(),
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        }
    }
}

fn read_in_background(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Exit status and output of one `kubectl-zot` run.
#[derive(Debug, Clone)]
pub struct ZotOutput {
    pub args: Vec<OsString>,
    /// Exit code; `None` when a signal ended the process.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl ZotOutput {
    /// Asserts the exit code, printing both streams when it differs.
    pub fn assert_code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(expected),
            "kubectl-zot {:?} exited with {:?}, expected {expected}\nstdout:\n{}\nstderr:\n{}",
            self.args,
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    /// Parses stdout as one JSON document.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| {
            panic!(
                "stdout of kubectl-zot {:?} is not JSON ({error})\nstdout:\n{}\nstderr:\n{}",
                self.args, self.stdout, self.stderr
            )
        })
    }

    /// Parses stdout as JSON lines, one document per non-empty line.
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|error| panic!("stdout line is not JSON ({error}): {line}"))
            })
            .collect()
    }
}
