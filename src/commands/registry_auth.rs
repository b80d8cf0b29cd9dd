//! Credential sources for commands that talk to a registry directly (`tags`, `inspect`,
//! `digest`), and the shared report of a registry failure.
//!
//! Without a flag, the credentials are those the kubelet would use for a pod of the
//! namespace's `default` ServiceAccount: its pull secrets, matched to the registry with the
//! kubelet's keyring rules. Then the user's Docker or containers auth file, then none.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};
use clap::Args;
use serde::Serialize;

use crate::app::{Outcome, connect};
use crate::cli::GlobalArgs;
use crate::cluster::Cluster;
use crate::credentials::{Keyring, SecretString, decode_docker_config_json, decode_secret};
use crate::registry::client::{Probe, Session};
use crate::registry::error::Failure;
use crate::registry::{ImageRef, Login, RegistryClient, SourcedLogin};

/// Flags that choose where registry credentials come from.
#[derive(Debug, Clone, Default, Args)]
pub struct CredentialArgs {
    /// Use this pull secret (in -n NAMESPACE) instead of the ServiceAccount's.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["service_account", "docker_config", "username", "anonymous"])]
    pub secret: Option<String>,

    /// Use the pull secrets of this ServiceAccount (default: default).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["docker_config", "username", "anonymous"])]
    pub service_account: Option<String>,

    /// Use a Docker config.json or containers auth.json file; runs the credential helper it
    /// names when `docker-credential-NAME` is on PATH.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["username", "anonymous"])]
    pub docker_config: Option<PathBuf>,

    /// Log in with this username; the password is read from stdin (--password-stdin).
    #[arg(
        long,
        value_name = "USER",
        requires = "password_stdin",
        conflicts_with = "anonymous"
    )]
    pub username: Option<String>,

    /// Read the password for --username from stdin.
    #[arg(long, requires = "username")]
    pub password_stdin: bool,

    /// Send no credentials.
    #[arg(long)]
    pub anonymous: bool,
}

/// The logins to try, in order, and where they came from.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// Short description of the source, such as `secret openclaw/regcred`.
    pub source: String,
    pub logins: Vec<SourcedLogin>,
    /// Sources that could not be read, for stderr and the JSON `warnings`.
    pub warnings: Vec<String>,
}

/// Resolves the credentials for `image` from the flags, the cluster or the user's files.
pub async fn resolve(
    global: &GlobalArgs,
    args: &CredentialArgs,
    image: &ImageRef,
) -> anyhow::Result<Credentials> {
    let name = image.name();
    if args.anonymous {
        return Ok(anonymous("--anonymous", Vec::new()));
    }
    if let Some(username) = &args.username {
        let password = read_password_stdin()?;
        let source = format!("--username {username}");
        return Ok(Credentials {
            logins: vec![SourcedLogin {
                source: source.clone(),
                login: Login::Basic {
                    username: username.clone(),
                    password,
                },
            }],
            source,
            warnings: Vec::new(),
        });
    }
    if let Some(path) = &args.docker_config {
        return match from_docker_config(path, image)? {
            Some(credentials) => Ok(credentials),
            None => bail!(
                "{} has no credentials for {}: add an auths entry for {} or pick another source",
                path.display(),
                image.registry,
                image.registry
            ),
        };
    }
    if let Some(secret) = &args.secret {
        let cluster = connect(global).await?;
        let namespace = namespace_of(global, &cluster);
        let mut keyring = Keyring::new();
        let source = format!("{namespace}/{secret}");
        read_secret_into(&cluster, &namespace, secret, &mut keyring)
            .await
            .map_err(anyhow::Error::msg)?;
        let logins = lookup(&keyring, &name, "secret");
        if logins.is_empty() {
            bail!(
                "secret {source} has no entry that the kubelet matches to {} (entries: {}); \
                 add one with kubectl create secret docker-registry --docker-server={}",
                image.registry,
                keyring.keys().join(", "),
                image.registry
            );
        }
        return Ok(Credentials {
            source: format!("secret {source}"),
            logins,
            warnings: Vec::new(),
        });
    }

    let mut warnings = Vec::new();
    let explicit_account = args.service_account.is_some();
    let account = args.service_account.as_deref().unwrap_or("default");
    match service_account_logins(global, account, explicit_account, &name, &mut warnings).await {
        Ok(Some(credentials)) => return Ok(credentials),
        Ok(None) => {}
        Err(err) if explicit_account => return Err(err),
        Err(err) => warnings.push(format!(
            "no cluster reachable, so no pull secret is used: {err:#}"
        )),
    }
    for path in default_auth_files() {
        if !path.is_file() {
            continue;
        }
        match from_docker_config(&path, image) {
            Ok(Some(mut credentials)) => {
                credentials.warnings.splice(0..0, warnings);
                return Ok(credentials);
            }
            Ok(None) => {}
            Err(err) => warnings.push(format!("{err:#}")),
        }
    }
    Ok(anonymous("anonymous (no credentials found)", warnings))
}

fn anonymous(source: &str, warnings: Vec<String>) -> Credentials {
    Credentials {
        source: source.to_string(),
        logins: vec![SourcedLogin {
            source: source.to_string(),
            login: Login::Anonymous,
        }],
        warnings,
    }
}

fn namespace_of(global: &GlobalArgs, cluster: &Cluster) -> String {
    global
        .namespace
        .clone()
        .unwrap_or_else(|| cluster.default_namespace.clone())
}

/// Reads the password for `--username` from stdin, without its final line break.
fn read_password_stdin() -> anyhow::Result<SecretString> {
    let mut text = String::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .context("cannot read the password from stdin")?;
    let password = text.strip_suffix('\n').unwrap_or(&text);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.is_empty() {
        bail!("--password-stdin: stdin is empty; pipe the password in");
    }
    Ok(SecretString::new(password))
}

/// Reads one pull secret and adds it to `keyring` as the kubelet would.
async fn read_secret_into(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
    keyring: &mut Keyring,
) -> Result<(), String> {
    let secret = cluster
        .get_secret(namespace, name)
        .await
        .map_err(|err| err.to_string())?;
    let data: BTreeMap<String, Vec<u8>> = secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| (key, value.0))
        .collect();
    let type_name = secret.type_.unwrap_or_default();
    let decoded = decode_secret(&type_name, &data);
    if !keyring.add_secret(&format!("{namespace}/{name}"), &decoded) {
        let reason = decoded
            .problems
            .first()
            .map(|problem| problem.to_string())
            .unwrap_or_else(|| "the kubelet does not read it".to_string());
        return Err(format!(
            "secret {namespace}/{name} is not a usable pull secret: {reason}"
        ));
    }
    Ok(())
}

/// Looks up the kubelet's logins for `image_name` in `keyring`, labelled with `kind`.
fn lookup(keyring: &Keyring, image_name: &str, kind: &str) -> Vec<SourcedLogin> {
    keyring
        .lookup(image_name)
        .into_iter()
        .map(|found| SourcedLogin {
            source: format!("{kind} {}, entry {}", found.source, found.key),
            login: found.credential.map(Login::from).unwrap_or_default(),
        })
        .collect()
}

/// Logins from a ServiceAccount's pull secrets; `Ok(None)` when none matches the registry.
/// A failed read of the ServiceAccount is an error only when `explicit` (--service-account).
async fn service_account_logins(
    global: &GlobalArgs,
    account: &str,
    explicit: bool,
    image_name: &str,
    warnings: &mut Vec<String>,
) -> anyhow::Result<Option<Credentials>> {
    let cluster = connect(global).await?;
    let namespace = namespace_of(global, &cluster);
    let service_account = match cluster.get_service_account(&namespace, account).await {
        Ok(service_account) => service_account,
        Err(err) if explicit => bail!("{err}"),
        Err(err) => {
            warnings.push(format!("no pull secret is used: {err}"));
            return Ok(None);
        }
    };
    let mut keyring = Keyring::new();
    for reference in service_account.image_pull_secrets.unwrap_or_default() {
        let name = reference.name;
        if let Err(problem) = read_secret_into(&cluster, &namespace, &name, &mut keyring).await {
            warnings.push(format!("serviceaccount {namespace}/{account}: {problem}"));
        }
    }
    let label = format!("serviceaccount {namespace}/{account}, secret");
    let logins = lookup(&keyring, image_name, &label);
    if logins.is_empty() {
        warnings.push(format!(
            "serviceaccount {namespace}/{account} has no pull secret for {}",
            image_name.split('/').next().unwrap_or(image_name)
        ));
        return Ok(None);
    }
    Ok(Some(Credentials {
        source: format!("serviceaccount {namespace}/{account}"),
        logins,
        warnings: std::mem::take(warnings),
    }))
}

/// Lists the auth files tried without a flag, in order: `$REGISTRY_AUTH_FILE`, Docker's
/// `config.json` (in `$DOCKER_CONFIG` or `~/.docker`), then `$XDG_RUNTIME_DIR/containers/auth.json`.
fn default_auth_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Some(path) = std::env::var_os("REGISTRY_AUTH_FILE") {
        files.push(PathBuf::from(path));
    }
    match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => files.push(PathBuf::from(dir).join("config.json")),
        None => {
            if let Some(home) = std::env::var_os("HOME") {
                files.push(PathBuf::from(home).join(".docker/config.json"));
            }
        }
    }
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR") {
        files.push(PathBuf::from(dir).join("containers/auth.json"));
    }
    files
}

/// Credentials for `image` from a Docker or containers auth file: a credential helper named
/// for the registry, else a matching `auths` entry, else the `credsStore` helper.
fn from_docker_config(path: &Path, image: &ImageRef) -> anyhow::Result<Option<Credentials>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let label = format!("file {}", path.display());
    let helpers = credential_helpers(&bytes);
    if let Some(helper) = helpers.per_registry.get(&image.registry)
        && let Some(credentials) = run_helper(helper, &image.registry, &label)?
    {
        return Ok(Some(credentials));
    }
    let decoded = decode_docker_config_json(&bytes);
    let mut keyring = Keyring::new();
    keyring.add(&path.display().to_string(), &decoded.entries);
    let logins: Vec<SourcedLogin> = lookup(&keyring, &image.name(), "file")
        .into_iter()
        .filter(|sourced| !sourced.login.is_anonymous())
        .collect();
    if !logins.is_empty() {
        return Ok(Some(Credentials {
            source: label,
            logins,
            warnings: Vec::new(),
        }));
    }
    if let Some(store) = &helpers.store {
        return run_helper(store, &image.registry, &label);
    }
    Ok(None)
}

#[derive(Default)]
struct CredentialHelpers {
    store: Option<String>,
    per_registry: BTreeMap<String, String>,
}

fn credential_helpers(bytes: &[u8]) -> CredentialHelpers {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return CredentialHelpers::default();
    };
    let store = value
        .get("credsStore")
        .and_then(|v| v.as_str())
        .filter(|name| !name.is_empty())
        .map(str::to_string);
    let per_registry = value
        .get("credHelpers")
        .and_then(|v| v.as_object())
        .map(|map| {
            map.iter()
                .filter_map(|(host, name)| Some((host.clone(), name.as_str()?.to_string())))
                .filter(|(_, name)| !name.is_empty())
                .collect()
        })
        .unwrap_or_default();
    CredentialHelpers {
        store,
        per_registry,
    }
}

/// Runs `docker-credential-NAME get` for `host`; `Ok(None)` when the binary is not on PATH.
fn run_helper(name: &str, host: &str, label: &str) -> anyhow::Result<Option<Credentials>> {
    if name.contains('/') || name.contains(char::is_whitespace) {
        bail!("{label} names an invalid credential helper {name:?}");
    }
    let binary = format!("docker-credential-{name}");
    let Some(path) = find_on_path(&binary) else {
        tracing::warn!(helper = %binary, "credential helper not found on PATH; skipped");
        return Ok(None);
    };
    let mut child = Command::new(&path)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", path.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin
            .write_all(host.as_bytes())
            .with_context(|| format!("cannot write to {binary}"))?;
    }
    let output = child
        .wait_with_output()
        .with_context(|| format!("cannot run {binary}"))?;
    if !output.status.success() {
        // The helper's stdout may hold part of a secret; only its stderr is shown.
        bail!(
            "{binary} get failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    #[derive(serde::Deserialize)]
    struct HelperOutput {
        #[serde(rename = "Username", default)]
        username: String,
        #[serde(rename = "Secret", default)]
        secret: String,
    }
    let parsed: HelperOutput = serde_json::from_slice(&output.stdout)
        .map_err(|_| anyhow::anyhow!("{binary} get printed no valid credentials JSON"))?;
    // Docker's helpers return identity tokens with the username "<token>".
    let login = if parsed.username == "<token>" {
        Login::IdentityToken {
            token: SecretString::new(parsed.secret),
        }
    } else {
        Login::Basic {
            username: parsed.username,
            password: SecretString::new(parsed.secret),
        }
    };
    let source = format!("{label}, credential helper {binary}");
    Ok(Some(Credentials {
        logins: vec![SourcedLogin {
            source: source.clone(),
            login,
        }],
        source,
        warnings: Vec::new(),
    }))
}

fn find_on_path(binary: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(binary))
        .find(|candidate| candidate.is_file())
}

/// A session opened with the first login the registry accepts.
pub struct Opened {
    pub session: Session,
    pub probe: Probe,
    /// Source of the accepted login.
    pub source: String,
}

/// Opens a session on `image`'s repository, trying each login in order as the kubelet does.
/// A login counts as rejected when the token service denies it or `GET /v2/` returns 401.
pub async fn open(
    client: &RegistryClient,
    image: &ImageRef,
    credentials: &Credentials,
) -> Result<Opened, (Failure, String)> {
    let host = image.api_host().to_string();
    let probe = client
        .probe(&host)
        .await
        .map_err(|failure| (failure, credentials.source.clone()))?;
    let mut last = None;
    for sourced in &credentials.logins {
        let session = match client
            .session(&host, &image.repository, &sourced.login)
            .await
        {
            Ok(session) => session,
            Err(failure) => {
                last = Some((failure, sourced.source.clone()));
                continue;
            }
        };
        if !sourced.login.is_anonymous() && probe.auth_scheme == "basic" {
            match check_basic_login(client, &session).await {
                Ok(()) => {}
                Err(failure) => {
                    last = Some((failure, sourced.source.clone()));
                    continue;
                }
            }
        }
        return Ok(Opened {
            session,
            probe,
            source: sourced.source.clone(),
        });
    }
    Err(last.unwrap_or_else(|| {
        (
            Failure::Invalid {
                detail: "no login to try".to_string(),
            },
            credentials.source.clone(),
        )
    }))
}

/// Sends `GET /v2/` with the session's basic credentials; 401 means they are rejected.
async fn check_basic_login(client: &RegistryClient, session: &Session) -> Result<(), Failure> {
    let url = session.url("")?;
    let response = client.get_url(session, url, None).await?;
    if response.status().is_success() {
        return Ok(());
    }
    Err(Failure::from_response(response, "/v2/").await)
}

/// A registry failure as the commands print it.
#[derive(Debug, Clone, Serialize)]
pub struct FailureReport {
    /// Short kind: not-found, credentials-missing, credentials-rejected, access-denied,
    /// registry-error or unreachable.
    pub kind: &'static str,
    pub message: String,
    pub fix: String,
    /// Whether the registry responded with a refusal (exit status 1) rather than failing
    /// (exit status 2).
    #[serde(skip)]
    pub answered: bool,
}

/// Describes `failure` for `what` (a repository or image), naming the credential source.
pub fn describe_failure(
    failure: &Failure,
    image: &ImageRef,
    what: &str,
    source: &str,
) -> FailureReport {
    let codes = failure
        .registry_errors()
        .iter()
        .map(|error| error.to_string())
        .collect::<Vec<_>>()
        .join("; ");
    let said = if codes.is_empty() {
        failure.to_string()
    } else {
        codes
    };
    let host = &image.registry;
    let repository = &image.repository;
    let anonymous = source.starts_with("anonymous") || source == "--anonymous";
    match failure {
        Failure::TokenDenied { .. } => FailureReport {
            kind: "credentials-rejected",
            message: format!("{host} rejected the credentials from {source}: {failure}"),
            fix: format!(
                "Update the credentials (for a pull secret: kubectl create secret \
                 docker-registry NAME --docker-server={host} --docker-username=USER \
                 --docker-password=... --dry-run=client -o yaml | kubectl apply -f -)."
            ),
            answered: true,
        },
        Failure::Status { status: 404, .. } if failure.has_code("NAME_UNKNOWN") => FailureReport {
            kind: "not-found",
            message: format!("{host} has no repository {repository}: {said}"),
            fix: format!(
                "Check the repository name (list them with the registry's catalog), or push \
                     the image to {host}/{repository}."
            ),
            answered: true,
        },
        Failure::Status { status: 404, .. } => FailureReport {
            kind: "not-found",
            message: format!("{what} not found on {host}: {said}"),
            fix: format!(
                "List the existing tags with kubectl zot tags {host}/{repository}, or push the \
                 missing tag."
            ),
            answered: true,
        },
        Failure::Status { status: 401, .. } if anonymous => FailureReport {
            kind: "credentials-missing",
            message: format!("{host} requires a login and none was sent: {said}"),
            fix: "Pass --secret NAME, --docker-config PATH or --username USER \
                  --password-stdin."
                .to_string(),
            answered: true,
        },
        Failure::Status { status: 401, .. } => FailureReport {
            kind: "credentials-rejected",
            message: format!("{host} rejected the credentials from {source}: {said}"),
            fix: format!(
                "Check the username and password for {host} in {source}, or pick another \
                 source with --secret, --docker-config or --username."
            ),
            answered: true,
        },
        Failure::Status { status: 403, .. } => FailureReport {
            kind: "access-denied",
            message: format!(
                "{host} accepted the login from {source} but denies access to {repository}: \
                 {said}"
            ),
            fix: format!("Grant the user pull access to {repository} on {host}."),
            answered: true,
        },
        Failure::Status { .. } => FailureReport {
            kind: "registry-error",
            message: format!("{host} failed: {said}"),
            fix: "Retry later, or check the registry's logs.".to_string(),
            answered: false,
        },
        Failure::Transport { .. } => FailureReport {
            kind: "unreachable",
            message: failure.to_string(),
            fix: "Check the address, --ca-file for a private CA, and --plain-http for a \
                  registry without TLS."
                .to_string(),
            answered: false,
        },
        Failure::Invalid { .. } => FailureReport {
            kind: "registry-error",
            message: failure.to_string(),
            fix: "Check the registry address and its answers with -v 6.".to_string(),
            answered: false,
        },
    }
}

/// Prints a failure on stderr and returns the command's outcome: exit status 1 when the
/// registry refused the request, an error (exit status 2) when it could not be reached.
pub fn finish_with_failure(report: &FailureReport) -> anyhow::Result<Outcome> {
    let message = crate::output::sanitize(&report.message);
    if report.answered {
        eprintln!("error: {message}");
        eprintln!("fix: {}", report.fix);
        Ok(Outcome::Findings)
    } else {
        bail!("{message}\nfix: {}", report.fix)
    }
}

/// Prints what the table output puts on stderr: the credential source, Zot's auth methods
/// and warnings.
pub fn print_context(source: &str, probe: &Probe, warnings: &[String]) {
    eprintln!("credentials: {}", crate::output::sanitize(source));
    if let Some(zot) = &probe.zot {
        let methods = if zot.auth_methods.is_empty() {
            "none".to_string()
        } else {
            zot.auth_methods.join(", ")
        };
        eprintln!("registry: Zot, auth methods: {methods}");
    }
    for warning in warnings {
        eprintln!("warning: {}", crate::output::sanitize(warning));
    }
}

/// Warning for a Docker media type on Zot, which rejects such pushes unless configured.
pub fn docker_media_type_warning(probe: &Probe, media_type: &str) -> Option<String> {
    if probe.zot.is_some() && media_type.starts_with("application/vnd.docker.") {
        Some(format!(
            "this manifest has the Docker media type {media_type}; Zot rejects pushes of \
             Docker media types unless its storage option compat: [\"docker2s2\"] is on"
        ))
    } else {
        None
    }
}

/// Warnings that go to stderr in every output mode (the JSON carries them too).
pub fn print_warnings_for_machine(warnings: &[String]) {
    for warning in warnings {
        eprintln!("warning: {}", crate::output::sanitize(warning));
    }
}

/// Resolves `image`'s credentials, opens a session, and on failure prints the report.
/// `Err(outcome)` is the command's result when the session could not be opened.
pub async fn connect_registry(
    global: &GlobalArgs,
    args: &CredentialArgs,
    client: &RegistryClient,
    image: &ImageRef,
    what: &str,
) -> anyhow::Result<Result<(Opened, Credentials), anyhow::Result<Outcome>>> {
    let credentials = resolve(global, args, image).await?;
    match open(client, image, &credentials).await {
        Ok(opened) => Ok(Ok((opened, credentials))),
        Err((failure, source)) => {
            print_warnings_for_machine(&credentials.warnings);
            let report = describe_failure(&failure, image, what, &source);
            Ok(Err(finish_with_failure(&report)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers_are_read_from_config() {
        let helpers = credential_helpers(
            br#"{"credsStore":"desktop","credHelpers":{"r.example.test":"ecr-login","x":""}}"#,
        );
        assert_eq!(helpers.store.as_deref(), Some("desktop"));
        assert_eq!(
            helpers
                .per_registry
                .get("r.example.test")
                .map(String::as_str),
            Some("ecr-login")
        );
        assert!(!helpers.per_registry.contains_key("x"));
    }

    #[test]
    fn missing_helper_binary_is_skipped() {
        let result = run_helper(
            "kubectl-zot-test-no-such-helper",
            "r.example.test",
            "file x",
        );
        assert!(result.unwrap().is_none());
    }

    #[test]
    fn helper_name_with_path_is_rejected() {
        assert!(run_helper("../evil", "r.example.test", "file x").is_err());
    }

    #[test]
    fn not_found_repository_names_the_code() {
        let image = ImageRef::parse("127.0.0.1:5000/team/app:v1").unwrap();
        let failure = Failure::Status {
            status: 404,
            errors: vec![crate::registry::error::ApiError {
                code: "NAME_UNKNOWN".into(),
                message: "repository name not known to registry".into(),
            }],
            challenge_error: None,
            retry_after: None,
        };
        let report = describe_failure(&failure, &image, "team/app:v1", "anonymous");
        assert_eq!(report.kind, "not-found");
        assert!(report.answered);
        assert!(
            report
                .message
                .contains("NAME_UNKNOWN: repository name not known to registry"),
            "{}",
            report.message
        );
    }

    #[test]
    fn unauthorized_with_login_is_rejected() {
        let image = ImageRef::parse("127.0.0.1:5000/team/app").unwrap();
        let failure = Failure::Status {
            status: 401,
            errors: Vec::new(),
            challenge_error: None,
            retry_after: None,
        };
        let rejected = describe_failure(&failure, &image, "team/app", "secret ns/regcred");
        assert_eq!(rejected.kind, "credentials-rejected");
        let missing = describe_failure(&failure, &image, "team/app", "--anonymous");
        assert_eq!(missing.kind, "credentials-missing");
    }
}
