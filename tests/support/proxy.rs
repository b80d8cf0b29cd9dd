//! A `lab/fault-proxy` per test, in front of a lab registry, for causes a plain registry never
//! produces (429, 5xx, slow or dropped answers, plain HTTP, redirects).

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use super::lab::lab;

/// A `lab/fault-proxy` in front of a lab registry, with its request log; killed on drop.
pub struct FaultProxy {
    child: Child,
    /// `HOST:PORT` as image references name it.
    pub address: String,
    pub port: u16,
    pub log: PathBuf,
    _dir: TempDir,
}

/// How a [`FaultProxy`] listens and where it forwards.
pub struct ProxySetup<'a> {
    /// `https://...` or `http://...` of the registry behind the proxy.
    pub upstream: String,
    /// Plain HTTP listener instead of TLS.
    pub plain: bool,
    /// Host name that image references use for the proxy (`127.0.0.1`, `plain.lab.test`).
    pub host: &'a str,
    pub rules: Vec<String>,
}

impl<'a> ProxySetup<'a> {
    /// Sets up a TLS proxy on 127.0.0.1 in front of the basic-auth TLS registry.
    pub fn tls(rules: &[&str]) -> ProxySetup<'a> {
        ProxySetup {
            upstream: format!("https://{}", lab().tls_registry),
            plain: false,
            host: "127.0.0.1",
            rules: rules.iter().map(|rule| rule.to_string()).collect(),
        }
    }
}

impl FaultProxy {
    pub fn start(rules: &[&str]) -> FaultProxy {
        FaultProxy::start_with(ProxySetup::tls(rules))
    }

    pub fn start_with(setup: ProxySetup) -> FaultProxy {
        let dir = TempDir::new().unwrap();
        let port_file = dir.path().join("port");
        let log = dir.path().join("proxy.log");
        let mut command = Command::new(lab().bin.join("fault-proxy"));
        command
            .args(["--listen", "127.0.0.1:0", "--upstream", &setup.upstream])
            .arg("--upstream-ca")
            .arg(&lab().ca)
            .arg("--port-file")
            .arg(&port_file)
            .arg("--log")
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if setup.plain {
            command.arg("--plain-listener");
        } else {
            command
                .arg("--tls-cert")
                .arg(lab().dir.join("tls/server.crt"))
                .arg("--tls-key")
                .arg(lab().dir.join("tls/server.key"));
        }
        for rule in &setup.rules {
            command.arg("--rule").arg(rule);
        }
        let child = command.spawn().expect("start lab/fault-proxy");
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            if let Ok(text) = fs::read_to_string(&port_file)
                && let Ok(port) = text.trim().parse::<u16>()
            {
                break port;
            }
            assert!(Instant::now() < deadline, "fault-proxy did not start");
            thread::sleep(Duration::from_millis(50));
        };
        FaultProxy {
            child,
            address: format!("{}:{port}", setup.host),
            port,
            log,
            _dir: dir,
        }
    }

    /// Returns the logged requests, without connection-level events.
    pub fn requests(&self) -> Vec<Value> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str::<Value>(line).expect("proxy log line is JSON"))
            .filter(|record| record["event"] == "request")
            .collect()
    }

    /// Returns the request targets (path and query) the proxy received.
    pub fn paths(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter_map(|record| record["path"].as_str().map(str::to_string))
            .collect()
    }

    /// Returns the logged `Authorization` values ("SCHEME sha256:PREFIX").
    pub fn authorizations(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter_map(|record| record["headers"]["authorization"].as_str())
            .map(str::to_string)
            .collect()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
