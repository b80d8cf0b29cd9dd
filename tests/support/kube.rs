//! Starts `lab/kube-apiserver` on a fixture cluster for one test, with a kubeconfig that points
//! at it, and reads back its request log.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;
use tempfile::TempDir;

use super::lab::{Vars, lab};

/// How long the server may take to write its port file (it runs openssl three times first).
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the server may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Returns the directory of a named fixture cluster (`openclaw`, `token`, `empty`).
pub fn cluster_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/clusters")
        .join(name)
}

/// Copies some files of a fixture cluster into a new directory, to build a smaller cluster.
///
/// `files` are names inside `tests/clusters/<name>/` (e.g. `deployment-api.json`). The
/// directory lives as long as the returned [`TempDir`].
pub fn cluster_subset(name: &str, files: &[&str]) -> TempDir {
    let dir = TempDir::new().expect("create a temporary cluster directory");
    for file in files {
        let source = cluster_dir(name).join(file);
        fs::copy(&source, dir.path().join(file))
            .unwrap_or_else(|error| panic!("cannot copy {}: {error}", source.display()));
    }
    dir
}

/// Options for [`KubeApi::start`]. The defaults: the lab's standard variables, no faults,
/// context `lab` in namespace `openclaw` and context `other` in namespace `default`.
#[derive(Debug, Clone)]
pub struct KubeOptions {
    dummy_vars: bool,
    vars: Vars,
    forbid: Vec<String>,
    fail: Vec<String>,
    delay: Vec<String>,
    page_size: Option<usize>,
    namespace: String,
    other_namespace: String,
}

impl Default for KubeOptions {
    fn default() -> Self {
        KubeOptions {
            dummy_vars: false,
            vars: Vars::default(),
            forbid: Vec::new(),
            fail: Vec::new(),
            delay: Vec::new(),
            page_size: None,
            namespace: "openclaw".to_string(),
            other_namespace: "default".to_string(),
        }
    }
}

impl KubeOptions {
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses [`Vars::dummy`] instead of the lab's variables, so no lab environment is needed.
    pub fn dummy_vars(mut self) -> Self {
        self.dummy_vars = true;
        self
    }

    /// Sets one fixture variable, replacing the standard value of the same name.
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.vars.set(name, value);
        self
    }

    /// Returns 403 Forbidden for `VERB:RESOURCE[:SCOPE]`, e.g. `get:secrets`.
    pub fn forbid(mut self, rule: &str) -> Self {
        self.forbid.push(rule.to_string());
        self
    }

    /// Returns STATUS for `VERB:RESOURCE:STATUS[:TIMES]`, e.g. `list:events:500`.
    pub fn fail(mut self, rule: &str) -> Self {
        self.fail.push(rule.to_string());
        self
    }

    /// Sleeps SECONDS before responding to `VERB:RESOURCE:SECONDS`, e.g. `list:pods:2`.
    pub fn delay(mut self, rule: &str) -> Self {
        self.delay.push(rule.to_string());
        self
    }

    /// Caps every LIST page at `size` items, so clients must follow `continue` tokens.
    pub fn page_size(mut self, size: usize) -> Self {
        self.page_size = Some(size);
        self
    }

    /// Namespace of the `lab` context (the current one).
    pub fn namespace(mut self, namespace: &str) -> Self {
        self.namespace = namespace.to_string();
        self
    }

    /// Namespace of the `other` context.
    pub fn other_namespace(mut self, namespace: &str) -> Self {
        self.other_namespace = namespace.to_string();
        self
    }
}

/// A running `lab/kube-apiserver`. Dropping it stops the server (SIGTERM, then SIGKILL).
pub struct KubeApi {
    child: Child,
    dir: TempDir,
    pub port: u16,
    /// `https://127.0.0.1:PORT`.
    pub url: String,
    pub token: String,
    /// Kubeconfig with contexts `lab` (current) and `other`.
    pub kubeconfig: PathBuf,
    /// CA certificate that signed the server's certificate.
    pub ca: PathBuf,
    pub log: PathBuf,
    /// The variables the fixtures were loaded with.
    pub vars: Vars,
}

/// One line of the server's request log.
#[derive(Debug, Clone, Deserialize)]
pub struct Request {
    pub time: String,
    pub method: String,
    pub path: String,
    /// Query parameters, first value of each.
    pub query: BTreeMap<String, String>,
    /// `get`, `list`, `watch`, `patch`, `create`, `update`, `delete` or `deletecollection`;
    /// absent for discovery and rejected requests.
    pub verb: Option<String>,
    pub resource: Option<String>,
    /// `log` for `pods/NAME/log`.
    #[serde(default)]
    pub subresource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub content_type: Option<String>,
    pub user_agent: Option<String>,
    /// PATCH body, parsed as JSON when it is JSON.
    pub body: Option<Value>,
    pub status: u16,
    pub token_present: bool,
}

impl Request {
    /// Returns whether the request could change state (anything but GET, HEAD and OPTIONS).
    pub fn is_write(&self) -> bool {
        !matches!(self.method.as_str(), "GET" | "HEAD" | "OPTIONS")
    }
}

/// Status and JSON body of one raw HTTP request to the server.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Value,
}

impl KubeApi {
    /// Starts the server on `cluster`: a fixture name under `tests/clusters/` or an absolute
    /// directory (see [`cluster_subset`]).
    ///
    /// # Panics
    /// When the lab environment is missing (unless [`KubeOptions::dummy_vars`]), or when the
    /// server does not start; the message then contains the server's stderr.
    pub fn start(cluster: &str, options: KubeOptions) -> KubeApi {
        let cluster_path = if Path::new(cluster).is_absolute() {
            PathBuf::from(cluster)
        } else {
            cluster_dir(cluster)
        };
        let mut vars = if options.dummy_vars {
            Vars::dummy()
        } else {
            lab().vars()
        };
        vars.extend(&options.vars);

        let dir = TempDir::new().expect("create the API server's directory");
        let port_file = dir.path().join("port");
        let log = dir.path().join("requests.jsonl");
        let tls_dir = dir.path().join("tls");
        let stderr_path = dir.path().join("server.log");
        let token = random_token();

        let mut command = Command::new(server_script());
        command
            .arg("--cluster")
            .arg(&cluster_path)
            .arg("--port-file")
            .arg(&port_file)
            .arg("--log")
            .arg(&log)
            .arg("--tls-dir")
            .arg(&tls_dir)
            .arg("--token")
            .arg(&token);
        // Values go through a file, because the process list would show the passwords.
        let vars_file = dir.path().join("vars.json");
        let values: serde_json::Map<String, Value> = vars
            .iter()
            .map(|(name, value)| (name.to_string(), Value::from(value)))
            .collect();
        fs::write(&vars_file, Value::Object(values).to_string()).expect("write vars.json");
        command.arg("--vars-file").arg(&vars_file);
        for (flag, rules) in [
            ("--forbid", &options.forbid),
            ("--fail", &options.fail),
            ("--delay", &options.delay),
        ] {
            for rule in rules {
                command.arg(flag).arg(rule);
            }
        }
        if let Some(size) = options.page_size {
            command.arg("--page-size").arg(size.to_string());
        }
        let stderr = fs::File::create(&stderr_path).expect("create the server log");
        command
            .stdin(Stdio::null())
            .stdout(stderr.try_clone().expect("clone the server log handle"))
            .stderr(stderr);
        let mut child = command
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", server_script().display()));

        let port = wait_for_port(&mut child, &port_file, &stderr_path);
        let ca = tls_dir.join("ca.crt");
        let url = format!("https://127.0.0.1:{port}");
        let kubeconfig = dir.path().join("kubeconfig");
        write_kubeconfig(&kubeconfig, &url, &ca, &token, &options);
        KubeApi {
            child,
            dir,
            port,
            url,
            token,
            kubeconfig,
            ca,
            log,
            vars,
        }
    }

    /// Returns the request log so far, oldest first. Each line is written before the response
    /// is sent, so a client that has its response finds its request here.
    pub fn requests(&self) -> Vec<Request> {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|error| panic!("invalid request log line {line:?}: {error}"))
            })
            .collect()
    }

    /// Returns the raw request log text, e.g. to check that no secret appears in it.
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Forgets the requests logged so far, so a test can count only what follows.
    pub fn clear_requests(&self) {
        fs::write(&self.log, "").expect("truncate the request log");
    }

    /// Returns the server's own stderr (start, stop and internal errors).
    pub fn server_log(&self) -> String {
        fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Runs kubectl against this server (`--kubeconfig` set, empty HOME, no proxies).
    pub fn kubectl<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let home = self.dir.path().join("kubectl-home");
        fs::create_dir_all(&home).expect("create kubectl's HOME");
        Command::new("kubectl")
            .env_clear()
            .env("PATH", SYSTEM_PATH)
            .env("HOME", &home)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run kubectl")
    }

    /// Sends one HTTP request with curl, with the bearer token unless `token` is `None`.
    ///
    /// `path` includes the query (e.g. `/api/v1/pods?limit=2`).
    pub fn http(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Option<&str>,
    ) -> HttpResponse {
        let mut command = Command::new("curl");
        command
            .env_clear()
            .env("PATH", SYSTEM_PATH)
            .args(["-sS", "--max-time", "30", "-X", method, "--cacert"])
            .arg(&self.ca)
            .args(["-o", "-", "-w", "\n%{http_code}"]);
        if let Some(token) = token {
            command
                .arg("-H")
                .arg(format!("Authorization: Bearer {token}"));
        }
        if let Some(content_type) = content_type {
            command
                .arg("-H")
                .arg(format!("Content-Type: {content_type}"));
        }
        if let Some(body) = body {
            command.arg("--data-binary").arg(body);
        }
        let output = command
            .arg(format!("{}{path}", self.url))
            .output()
            .expect("run curl");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "curl {method} {path} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let (text, code) = stdout
            .rsplit_once('\n')
            .unwrap_or_else(|| panic!("curl printed no status code: {stdout:?}"));
        let status = code
            .trim()
            .parse()
            .expect("curl's %{http_code} is a number");
        let body = serde_json::from_str(text)
            .unwrap_or_else(|error| panic!("{method} {path}: body is not JSON ({error}): {text}"));
        HttpResponse { status, body }
    }

    /// Sends a GET with the right token.
    pub fn get(&self, path: &str) -> HttpResponse {
        self.http("GET", path, Some(&self.token), None, None)
    }
}

impl Drop for KubeApi {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        // std offers only SIGKILL; SIGTERM lets the server flush its log and exit cleanly.
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// PATH for child processes, independent of the developer's shell.
pub const SYSTEM_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

fn server_script() -> PathBuf {
    // KZ_LAB_BIN points at the lab scripts when lab/test runs the tests.
    let bin = std::env::var_os("KZ_LAB_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("lab"));
    bin.join("kube-apiserver")
}

fn wait_for_port(child: &mut Child, port_file: &Path, stderr_path: &Path) -> u16 {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(text) = fs::read_to_string(port_file)
            && let Ok(port) = text.trim().parse()
        {
            return port;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "lab/kube-apiserver exited with {status} before listening:\n{}",
                fs::read_to_string(stderr_path).unwrap_or_default()
            );
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "lab/kube-apiserver wrote no port file within {START_TIMEOUT:?}:\n{}",
                fs::read_to_string(stderr_path).unwrap_or_default()
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn write_kubeconfig(path: &Path, url: &str, ca: &Path, token: &str, options: &KubeOptions) {
    let ca_pem =
        fs::read(ca).unwrap_or_else(|error| panic!("cannot read {}: {error}", ca.display()));
    let config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{
            "name": "lab",
            "cluster": {"server": url, "certificate-authority-data": STANDARD.encode(ca_pem)},
        }],
        "users": [{"name": "lab-token", "user": {"token": token}}],
        "contexts": [
            {
                "name": "lab",
                "context": {"cluster": "lab", "user": "lab-token", "namespace": options.namespace},
            },
            {
                "name": "other",
                "context": {
                    "cluster": "lab",
                    "user": "lab-token",
                    "namespace": options.other_namespace,
                },
            },
        ],
        "current-context": "lab",
        "preferences": {},
    });
    let yaml = serde_yaml::to_string(&config).expect("a kubeconfig serializes to YAML");
    fs::write(path, yaml)
        .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
}

/// Returns a token unique to this server: not secret, but never the same in two runs.
fn random_token() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos())
            .unwrap_or_default(),
    );
    hasher.write_u32(std::process::id());
    format!(
        "kz-{:016x}{:016x}",
        hasher.finish(),
        RandomState::new().build_hasher().finish()
    )
}
