//! HTTP access to the OCI distribution API, with the auth challenge flow.
//!
//! The registry is asked directly over reqwest, not through oci-client's
//! `Client`, because diagnosis needs what that client hides: the error body of
//! a 401 or 404, `Link` paging, and the difference between NAME_UNKNOWN and
//! MANIFEST_UNKNOWN.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use tokio::sync::OnceCell;

use super::challenge::{Challenge, parse_next_link, parse_www_authenticate};
use super::error::{Failure, TransportKind, classify_transport};
use super::reference::{is_loopback_host, strip_port};
use crate::credentials::SecretString;

/// Largest manifest accepted, as containerd limits it (4 MiB).
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;
/// Largest JSON body read from anything else (config blobs, token and error bodies).
const MAX_JSON_BYTES: usize = 8 * 1024 * 1024;
/// Number of retries of a GET or HEAD that returned 429 or 502/503/504.
const MAX_RETRIES: u32 = 2;
/// Maximum wait that a `Retry-After` header may impose before a retry.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(10);

/// Manifest media types the runtime accepts, in containerd's order of preference.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json";

/// How to authenticate to a registry.
#[derive(Clone, Debug, Default)]
pub enum Login {
    #[default]
    Anonymous,
    Basic {
        username: String,
        password: SecretString,
    },
    /// An OAuth2 refresh token (Docker's `identitytoken`).
    IdentityToken { token: SecretString },
    /// A bearer token sent as it is (Docker's `registrytoken`).
    RegistryToken { token: SecretString },
}

impl Login {
    /// Short label for logs and evidence, without the secret.
    pub fn describe(&self) -> String {
        match self {
            Login::Anonymous => "anonymous".to_string(),
            Login::Basic { username, .. } => format!("user {username:?}"),
            Login::IdentityToken { .. } => "identity token".to_string(),
            Login::RegistryToken { .. } => "registry token".to_string(),
        }
    }

    pub fn is_anonymous(&self) -> bool {
        matches!(self, Login::Anonymous)
    }

    /// Returns a key that distinguishes logins in caches without holding the secret in clear.
    pub fn fingerprint(&self) -> String {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        match self {
            Login::Anonymous => 0u8.hash(&mut hasher),
            Login::Basic { username, password } => {
                (1u8, username, password.expose()).hash(&mut hasher)
            }
            Login::IdentityToken { token } => (2u8, token.expose()).hash(&mut hasher),
            Login::RegistryToken { token } => (3u8, token.expose()).hash(&mut hasher),
        }
        format!("{:x}", hasher.finish())
    }
}

/// Settings for talking to registries.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Extra CA certificate (PEM) trusted besides the system roots.
    pub ca_file: Option<PathBuf>,
    /// Hosts (`host` or `host:port`) to reach over plain HTTP.
    pub plain_http: Vec<String>,
    /// Timeout of one request.
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            ca_file: None,
            plain_http: Vec::new(),
            timeout: Duration::from_secs(10),
        }
    }
}

/// Result of the first `GET /v2/` to a registry.
#[derive(Clone, Debug, Serialize)]
pub struct Probe {
    /// `https` or `http`.
    pub scheme: String,
    /// Status of `GET /v2/`.
    pub status: u16,
    /// The auth challenge, when `/v2/` returned 401.
    #[serde(skip)]
    pub challenge: Option<Challenge>,
    /// `basic`, `bearer` or empty when no auth is required.
    pub auth_scheme: String,
    /// Whether HTTPS was tried first and the registry only speaks plain HTTP.
    pub fell_back_to_http: bool,
    /// Zot's management extension, when the registry is Zot.
    pub zot: Option<ZotInfo>,
}

/// Zot's management extension (`/v2/_zot/ext/mgmt`) response.
#[derive(Clone, Debug, Serialize)]
pub struct ZotInfo {
    pub dist_spec_version: Option<String>,
    /// Auth methods switched on: htpasswd, bearer, ldap, openid, apikey, mtls.
    pub auth_methods: Vec<String>,
}

/// A fetched manifest.
#[derive(Clone, Debug)]
pub struct FetchedManifest {
    pub bytes: Vec<u8>,
    pub media_type: String,
    pub digest: String,
}

/// Counts of requests sent, by kind, for the report and the benchmark.
#[derive(Debug, Default)]
pub struct RequestCounts {
    pub ping: AtomicUsize,
    pub token: AtomicUsize,
    pub manifest: AtomicUsize,
    pub blob: AtomicUsize,
    pub tags: AtomicUsize,
    pub other: AtomicUsize,
}

impl RequestCounts {
    pub fn snapshot(&self) -> serde_json::Value {
        serde_json::json!({
            "ping": self.ping.load(Ordering::Relaxed),
            "token": self.token.load(Ordering::Relaxed),
            "manifest": self.manifest.load(Ordering::Relaxed),
            "blob": self.blob.load(Ordering::Relaxed),
            "tags": self.tags.load(Ordering::Relaxed),
            "other": self.other.load(Ordering::Relaxed),
        })
    }
}

type ProbeCell = Arc<OnceCell<Result<Probe, Failure>>>;

/// A client for many registries, shared by all checks of one run.
pub struct RegistryClient {
    http: reqwest::Client,
    options: ClientOptions,
    probes: Mutex<HashMap<String, ProbeCell>>,
    tokens: Mutex<HashMap<String, String>>,
    pub counts: RequestCounts,
}

/// An authorised view of one repository.
#[derive(Clone, Debug)]
pub struct Session {
    pub host: String,
    pub repository: String,
    base: Url,
    authorization: Option<HeaderValue>,
    /// Authentication method of the session, for evidence.
    pub auth: String,
}

impl Session {
    /// Returns whether the session authenticates with a bearer token from a token realm.
    pub fn is_bearer(&self) -> bool {
        self.auth.starts_with("bearer")
    }

    /// URL of `path`, relative to this registry's `/v2/` (for example
    /// `team/app/tags/list?n=100` or `_zot/ext/search?query=...`).
    pub fn url(&self, path: &str) -> Result<Url, Failure> {
        self.base.join(path).map_err(|err| Failure::Invalid {
            detail: format!("invalid registry path {path}: {err}"),
        })
    }
}

impl RegistryClient {
    pub fn new(options: ClientOptions) -> Result<RegistryClient, Failure> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("kubectl-zot/", env!("CARGO_PKG_VERSION")))
            .timeout(options.timeout)
            .connect_timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .no_proxy();
        if let Some(path) = &options.ca_file {
            let pem = std::fs::read(path).map_err(|err| Failure::Invalid {
                detail: format!("cannot read --ca-file {}: {err}", path.display()),
            })?;
            let certs =
                reqwest::Certificate::from_pem_bundle(&pem).map_err(|err| Failure::Invalid {
                    detail: format!(
                        "--ca-file {} holds no valid PEM certificate: {err}",
                        path.display()
                    ),
                })?;
            if certs.is_empty() {
                return Err(Failure::Invalid {
                    detail: format!("--ca-file {} holds no PEM certificate", path.display()),
                });
            }
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder.build().map_err(|err| Failure::Invalid {
            detail: format!("cannot set up the HTTP client: {err}"),
        })?;
        Ok(RegistryClient {
            http,
            options,
            probes: Mutex::new(HashMap::new()),
            tokens: Mutex::new(HashMap::new()),
            counts: RequestCounts::default(),
        })
    }

    /// Returns whether `--plain-http` names this host (with or without its port).
    fn plain_http_named(&self, host: &str) -> bool {
        self.options.plain_http.iter().any(|named| {
            named.eq_ignore_ascii_case(host) || named.eq_ignore_ascii_case(strip_port(host))
        })
    }

    /// Returns whether credentials may be sent over plain HTTP to `host`.
    fn may_send_credentials_in_clear(&self, host: &str) -> bool {
        is_loopback_host(host) || self.plain_http_named(host)
    }

    /// Probes `GET /v2/` once per host and run, choosing the scheme.
    pub async fn probe(&self, host: &str) -> Result<Probe, Failure> {
        let cell = {
            let mut probes = self.probes.lock().expect("probe cache lock");
            probes.entry(host.to_string()).or_default().clone()
        };
        cell.get_or_init(|| self.probe_uncached(host)).await.clone()
    }

    async fn probe_uncached(&self, host: &str) -> Result<Probe, Failure> {
        if self.plain_http_named(host) {
            return self.probe_scheme(host, "http", false).await;
        }
        match self.probe_scheme(host, "https", false).await {
            Err(Failure::Transport {
                kind: TransportKind::NotTls,
                ..
            }) if is_loopback_host(host) => {
                // Docker falls back to plain HTTP for loopback registries; so do we.
                tracing::debug!(
                    host,
                    "registry does not speak TLS; retrying over plain HTTP"
                );
                self.probe_scheme(host, "http", true).await
            }
            other => other,
        }
    }

    async fn probe_scheme(
        &self,
        host: &str,
        scheme: &str,
        fell_back: bool,
    ) -> Result<Probe, Failure> {
        let url = base_url(scheme, host)?;
        self.counts.ping.fetch_add(1, Ordering::Relaxed);
        let response = self.send(Method::GET, url.clone(), None, None).await?;
        let status = response.status();
        let challenge = response
            .headers()
            .get_all(reqwest::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(parse_www_authenticate)
            .find(|c| c.is_bearer() || c.is_basic());
        if status == StatusCode::BAD_REQUEST && scheme == "http" {
            // Go's TLS servers respond to a plain-HTTP request with 400 "Client sent an
            // HTTP request to an HTTPS server."
            let body = read_limited(response, MAX_JSON_BYTES)
                .await
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&body);
            if text.contains("HTTPS") {
                return Err(Failure::Transport {
                    kind: TransportKind::HttpToTls,
                    detail: format!("{host} speaks HTTPS but was asked over plain HTTP"),
                });
            }
            return Err(Failure::Status {
                status: 400,
                errors: super::error::parse_error_body(&body),
                challenge_error: None,
                retry_after: None,
            });
        }
        if status != StatusCode::OK && status != StatusCode::UNAUTHORIZED {
            return Err(Failure::from_response(response, "/v2/").await);
        }
        let zot = self.zot_info(&url).await;
        Ok(Probe {
            scheme: scheme.to_string(),
            status: status.as_u16(),
            auth_scheme: challenge
                .as_ref()
                .map(|c| c.scheme.clone())
                .unwrap_or_default(),
            challenge,
            fell_back_to_http: fell_back,
            zot,
        })
    }

    /// Reads Zot's management extension; None on any other registry.
    async fn zot_info(&self, base: &Url) -> Option<ZotInfo> {
        let url = base.join("_zot/ext/mgmt").ok()?;
        self.counts.other.fetch_add(1, Ordering::Relaxed);
        let response = self.send(Method::GET, url, None, None).await.ok()?;
        if response.status() != StatusCode::OK {
            return None;
        }
        let body = read_limited(response, MAX_JSON_BYTES).await.ok()?;
        let value: serde_json::Value = serde_json::from_slice(&body).ok()?;
        let auth = value.pointer("/http/auth").and_then(|a| a.as_object());
        let mut auth_methods: Vec<String> = auth
            .map(|a| {
                a.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        auth_methods.sort();
        Some(ZotInfo {
            dist_spec_version: value
                .get("distSpecVersion")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            auth_methods,
        })
    }

    /// Opens a session for `repository` with `login`, fetching a token when the
    /// registry's challenge requires one. Requests pull access only.
    pub async fn session(
        &self,
        host: &str,
        repository: &str,
        login: &Login,
    ) -> Result<Session, Failure> {
        let probe = self.probe(host).await?;
        let base = base_url(&probe.scheme, host)?;
        let clear_text = probe.scheme == "http";
        if clear_text && !login.is_anonymous() && !self.may_send_credentials_in_clear(host) {
            return Err(Failure::Invalid {
                detail: format!(
                    "{host} is reached over plain HTTP; credentials are withheld unless \
                     --plain-http names it"
                ),
            });
        }
        let (authorization, auth) = match &probe.challenge {
            None => (None, "none required".to_string()),
            Some(challenge) if challenge.is_basic() => match login {
                Login::Basic { username, password } => (
                    Some(basic_header(username, password.expose())),
                    format!("basic, {}", login.describe()),
                ),
                Login::RegistryToken { token } => (
                    Some(bearer_header(token.expose())?),
                    "registry token".to_string(),
                ),
                _ => (None, format!("basic, {}", login.describe())),
            },
            Some(challenge) => {
                let scope = format!("repository:{repository}:pull");
                let token = self.token(host, challenge, &scope, login).await?;
                (
                    Some(bearer_header(&token)?),
                    format!("bearer token, {}", login.describe()),
                )
            }
        };
        Ok(Session {
            host: host.to_string(),
            repository: repository.to_string(),
            base,
            authorization,
            auth,
        })
    }

    /// Fetches (or reuses) a bearer token from the realm the challenge names.
    async fn token(
        &self,
        host: &str,
        challenge: &Challenge,
        scope: &str,
        login: &Login,
    ) -> Result<String, Failure> {
        if let Login::RegistryToken { token } = login {
            return Ok(token.expose().to_string());
        }
        let realm = challenge.param("realm").ok_or_else(|| Failure::Invalid {
            detail: format!("{host} sent a Bearer challenge without a realm"),
        })?;
        let mut url = Url::parse(realm).map_err(|err| Failure::Invalid {
            detail: format!("{host} named an invalid token realm {realm:?}: {err}"),
        })?;
        let realm_host = url_host(&url);
        if url.scheme() != "https"
            && !login.is_anonymous()
            && !self.may_send_credentials_in_clear(&realm_host)
        {
            return Err(Failure::Invalid {
                detail: format!(
                    "token realm {realm} uses plain HTTP; credentials are withheld unless \
                     --plain-http names {realm_host}"
                ),
            });
        }
        let key = format!("{realm}|{scope}|{}", login.fingerprint());
        if let Some(token) = self.tokens.lock().expect("token cache lock").get(&key) {
            return Ok(token.clone());
        }
        let service = challenge.param("service").unwrap_or_default().to_string();
        self.counts.token.fetch_add(1, Ordering::Relaxed);
        let response = match login {
            Login::IdentityToken { token } => {
                let form = [
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.expose()),
                    ("service", service.as_str()),
                    ("scope", scope),
                    ("client_id", "kubectl-zot"),
                ];
                let request = self.http.post(url.clone()).form(&form);
                tracing::debug!(realm, scope, "POST token (refresh token)");
                request
                    .send()
                    .await
                    .map_err(|err| classify_transport(&err, &realm_host))?
            }
            _ => {
                {
                    let mut query = url.query_pairs_mut();
                    if !service.is_empty() {
                        query.append_pair("service", &service);
                    }
                    query.append_pair("scope", scope);
                }
                let mut request = self.http.get(url.clone());
                if let Login::Basic { username, password } = login {
                    request = request.basic_auth(username, Some(password.expose()));
                }
                tracing::debug!(realm, scope, login = %login.describe(), "GET token");
                request
                    .send()
                    .await
                    .map_err(|err| classify_transport(&err, &realm_host))?
            }
        };
        let status = response.status();
        if !status.is_success() {
            let failure = Failure::from_response(response, "token").await;
            return Err(match failure {
                Failure::Status { status, errors, .. } if status == 401 || status == 403 => {
                    Failure::TokenDenied { status, errors }
                }
                other => other,
            });
        }
        let body = read_limited(response, MAX_JSON_BYTES).await?;
        let value: serde_json::Value =
            serde_json::from_slice(&body).map_err(|err| Failure::Invalid {
                detail: format!("token realm {realm} answered with invalid JSON: {err}"),
            })?;
        let token = value
            .get("token")
            .or_else(|| value.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Failure::Invalid {
                detail: format!("token realm {realm} answered without a token"),
            })?
            .to_string();
        self.tokens
            .lock()
            .expect("token cache lock")
            .insert(key, token.clone());
        Ok(token)
    }

    /// GETs a manifest by tag or digest with the full Accept list.
    pub async fn manifest(
        &self,
        session: &Session,
        reference: &str,
    ) -> Result<FetchedManifest, Failure> {
        let path = format!("{}/manifests/{reference}", session.repository);
        self.counts.manifest.fetch_add(1, Ordering::Relaxed);
        let response = self
            .request(session, Method::GET, &path, Some(MANIFEST_ACCEPT))
            .await?;
        if !response.status().is_success() {
            return Err(Failure::from_response(response, &path).await);
        }
        let media_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or(v).trim().to_string())
            .unwrap_or_default();
        let header_digest = response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = read_limited(response, MAX_MANIFEST_BYTES).await?;
        // A body that is not a JSON object is no manifest, whatever the status said;
        // its hash must never pass for the image's digest.
        if !serde_json::from_slice::<serde_json::Value>(&bytes).is_ok_and(|v| v.is_object()) {
            return Err(Failure::Invalid {
                detail: format!(
                    "{} sent a manifest for {reference} that is not valid JSON",
                    session.host
                ),
            });
        }
        let digest = header_digest.unwrap_or_else(|| sha256_digest(&bytes));
        Ok(FetchedManifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// HEADs a manifest and returns its digest, the cheapest way to resolve a tag.
    pub async fn manifest_digest(
        &self,
        session: &Session,
        reference: &str,
    ) -> Result<String, Failure> {
        let path = format!("{}/manifests/{reference}", session.repository);
        self.counts.manifest.fetch_add(1, Ordering::Relaxed);
        let response = self
            .request(session, Method::HEAD, &path, Some(MANIFEST_ACCEPT))
            .await?;
        if !response.status().is_success() {
            return Err(Failure::from_response(response, &path).await);
        }
        match response
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
        {
            Some(digest) => Ok(digest.to_string()),
            // Without the header, only the body tells the digest.
            None => Ok(self.manifest(session, reference).await?.digest),
        }
    }

    /// HEADs a blob; Ok when the registry has it (a redirect to storage counts).
    pub async fn blob_exists(&self, session: &Session, digest: &str) -> Result<(), Failure> {
        let path = format!("{}/blobs/{digest}", session.repository);
        self.counts.blob.fetch_add(1, Ordering::Relaxed);
        let response = self.request(session, Method::HEAD, &path, None).await?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(Failure::from_response(response, &path).await)
    }

    /// GETs a small JSON blob, such as an image config.
    pub async fn blob_json(
        &self,
        session: &Session,
        digest: &str,
    ) -> Result<serde_json::Value, Failure> {
        let path = format!("{}/blobs/{digest}", session.repository);
        self.counts.blob.fetch_add(1, Ordering::Relaxed);
        let response = self.request(session, Method::GET, &path, None).await?;
        if !response.status().is_success() {
            return Err(Failure::from_response(response, &path).await);
        }
        let body = read_limited(response, MAX_JSON_BYTES).await?;
        serde_json::from_slice(&body).map_err(|err| Failure::Invalid {
            detail: format!("blob {digest} is not valid JSON: {err}"),
        })
    }

    /// Lists every tag, following `Link` paging on the same registry only.
    pub async fn tags(&self, session: &Session) -> Result<Vec<String>, Failure> {
        let mut tags = Vec::new();
        let mut next = Some(
            session
                .base
                .join(&format!("{}/tags/list", session.repository))
                .map_err(|err| Failure::Invalid {
                    detail: format!("invalid repository path {}: {err}", session.repository),
                })?,
        );
        let mut pages = 0;
        let mut fetched: HashSet<Url> = HashSet::new();
        while let Some(url) = next.take() {
            pages += 1;
            fetched.insert(url.clone());
            if pages > 1000 {
                return Err(Failure::Invalid {
                    detail: format!("{} sent more than 1000 pages of tags", session.host),
                });
            }
            self.counts.tags.fetch_add(1, Ordering::Relaxed);
            let response = self
                .send(
                    Method::GET,
                    url.clone(),
                    session.authorization.clone(),
                    None,
                )
                .await?;
            if !response.status().is_success() {
                return Err(Failure::from_response(response, "tags/list").await);
            }
            let link = response
                .headers()
                .get(reqwest::header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_next_link);
            let body = read_limited(response, MAX_JSON_BYTES).await?;
            let page: TagList = serde_json::from_slice(&body).map_err(|err| Failure::Invalid {
                detail: format!(
                    "tags/list of {} is not valid JSON: {err}",
                    session.repository
                ),
            })?;
            tags.extend(page.tags.unwrap_or_default());
            if let Some(link) = link {
                let target = url.join(&link).map_err(|err| Failure::Invalid {
                    detail: format!("invalid Link header {link:?}: {err}"),
                })?;
                if url_host(&target) != url_host(&url) || target.scheme() != url.scheme() {
                    tracing::warn!(link = %target, "ignoring a tags/list Link to another host");
                } else if fetched.contains(&target) {
                    // A Link back to a page already read would repeat its tags forever.
                    tracing::warn!(link = %target, "ignoring a tags/list Link to a page already read");
                } else {
                    next = Some(target);
                }
            }
        }
        Ok(tags)
    }

    /// GETs `url` with the session's authorization and returns the response,
    /// whatever its status. `url` must be on the session's registry, with the
    /// same scheme, so that the session's credentials go nowhere else.
    pub async fn get_url(
        &self,
        session: &Session,
        url: Url,
        accept: Option<&str>,
    ) -> Result<reqwest::Response, Failure> {
        if url_host(&url) != url_host(&session.base) || url.scheme() != session.base.scheme() {
            return Err(Failure::Invalid {
                detail: format!(
                    "refusing to send the credentials of {} to {url}",
                    session.host
                ),
            });
        }
        self.send(Method::GET, url, session.authorization.clone(), accept)
            .await
    }

    async fn request(
        &self,
        session: &Session,
        method: Method,
        path: &str,
        accept: Option<&str>,
    ) -> Result<reqwest::Response, Failure> {
        let url = session.base.join(path).map_err(|err| Failure::Invalid {
            detail: format!("invalid registry path {path}: {err}"),
        })?;
        self.send(method, url, session.authorization.clone(), accept)
            .await
    }

    /// Sends one request, retrying GET and HEAD on 429 and 502/503/504.
    async fn send(
        &self,
        method: Method,
        url: Url,
        authorization: Option<HeaderValue>,
        accept: Option<&str>,
    ) -> Result<reqwest::Response, Failure> {
        let host = url_host(&url);
        let mut attempt = 0;
        loop {
            let mut headers = HeaderMap::new();
            if let Some(value) = &authorization {
                headers.insert(AUTHORIZATION, value.clone());
            }
            if let Some(accept) = accept {
                headers.insert(
                    ACCEPT,
                    HeaderValue::from_str(accept).expect("static Accept value"),
                );
            }
            let result = self
                .http
                .request(method.clone(), url.clone())
                .headers(headers)
                .send()
                .await;
            let response = match result {
                Ok(response) => response,
                Err(err) => {
                    let failure = classify_transport(&err, &host);
                    tracing::debug!(%method, %url, error = %failure, "registry request failed");
                    return Err(failure);
                }
            };
            let status = response.status();
            tracing::debug!(%method, %url, status = status.as_u16(), "registry request");
            let retryable = matches!(status.as_u16(), 429 | 502 | 503 | 504);
            if !retryable
                || attempt >= MAX_RETRIES
                || !(method == Method::GET || method == Method::HEAD)
            {
                return Ok(response);
            }
            attempt += 1;
            let wait = retry_wait(response.headers().get(RETRY_AFTER), attempt);
            if wait > MAX_RETRY_WAIT {
                return Ok(response);
            }
            tracing::debug!(%url, status = status.as_u16(), attempt, wait_ms = wait.as_millis() as u64, "retrying");
            tokio::time::sleep(wait).await;
        }
    }
}

#[derive(serde::Deserialize)]
struct TagList {
    tags: Option<Vec<String>>,
}

/// Back-off before retry `attempt`: `Retry-After` seconds when given, else 200 ms doubling.
fn retry_wait(retry_after: Option<&HeaderValue>, attempt: u32) -> Duration {
    retry_after
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or_else(|| Duration::from_millis(200 * 2u64.pow(attempt - 1)))
}

fn base_url(scheme: &str, host: &str) -> Result<Url, Failure> {
    Url::parse(&format!("{scheme}://{host}/v2/")).map_err(|err| Failure::Invalid {
        detail: format!("invalid registry host {host:?}: {err}"),
    })
}

/// `host[:port]` of a URL, the port only when it is not the scheme's default.
pub fn url_host(url: &Url) -> String {
    let host = match url.host() {
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        Some(host) => host.to_string(),
        None => String::new(),
    };
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

fn basic_header(username: &str, password: &str) -> HeaderValue {
    use base64::Engine;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let mut value =
        HeaderValue::from_str(&format!("Basic {encoded}")).expect("base64 is a valid header");
    value.set_sensitive(true);
    value
}

fn bearer_header(token: &str) -> Result<HeaderValue, Failure> {
    let mut value =
        HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| Failure::Invalid {
            detail: "the registry token holds characters not allowed in an HTTP header".to_string(),
        })?;
    value.set_sensitive(true);
    Ok(value)
}

/// Reads at most `limit` bytes of a body; a larger body is an error.
pub async fn read_limited(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Vec<u8>, Failure> {
    if let Some(length) = response.content_length()
        && length as usize > limit
    {
        return Err(Failure::Invalid {
            detail: format!(
                "{} answered with {length} bytes, more than the {limit}-byte limit",
                response.url()
            ),
        });
    }
    let mut body = Vec::new();
    loop {
        let chunk = response
            .chunk()
            .await
            .map_err(|err| classify_transport(&err, &url_host(response.url())))?;
        let Some(chunk) = chunk else { break };
        if body.len() + chunk.len() > limit {
            return Err(Failure::Invalid {
                detail: format!(
                    "{} sent a body larger than the {limit}-byte limit",
                    response.url()
                ),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let hash = Sha256::digest(bytes);
    let mut hex = String::with_capacity(64);
    for byte in hash {
        hex.push_str(&format!("{byte:02x}"));
    }
    format!("sha256:{hex}")
}
