//! Decoding of Kubernetes pull secrets and Docker config files the way the
//! kubelet decodes them.
//!
//! As the kubelet does in k8s.io/kubernetes pkg/credentialprovider
//! (config.go and secrets/secrets.go):
//! - it reads a secret of type `kubernetes.io/dockerconfigjson` from the key
//!   `.dockerconfigjson`, and one of type `kubernetes.io/dockercfg` from
//!   `.dockercfg`, skips any other secret and skips an empty value,
//! - `.dockerconfigjson` lists registries under `auths`, while the legacy
//!   `.dockercfg` lists them at the top level,
//! - each entry keeps only `username`, `password`, `email` and `auth`, and a
//!   non-empty `auth` is decoded as base64 of `username:password` and
//!   replaces both fields (`DockerConfigEntry.UnmarshalJSON`),
//! - any decoding error fails the whole keyring, so the pull fails.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::{Serialize, Serializer};

use super::credential::Credential;
use super::gojson::{self, Json};
use super::problem::{Origin, ProblemKind, SecretProblem};
use super::urlmatch::kubelet_key;
use super::{SecretString, urlmatch};

/// Secret type of a `.dockerconfigjson` pull secret.
pub const DOCKER_CONFIG_JSON_TYPE: &str = "kubernetes.io/dockerconfigjson";
/// Data key of a `kubernetes.io/dockerconfigjson` secret.
pub const DOCKER_CONFIG_JSON_KEY: &str = ".dockerconfigjson";
/// Secret type of a legacy `.dockercfg` pull secret.
pub const DOCKERCFG_TYPE: &str = "kubernetes.io/dockercfg";
/// Data key of a `kubernetes.io/dockercfg` secret.
pub const DOCKERCFG_KEY: &str = ".dockercfg";

/// The type of a decoded secret.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SecretKind {
    DockerConfigJson,
    DockerCfg,
    /// Any other type, such as `Opaque`, which the kubelet ignores.
    Other(String),
}

impl SecretKind {
    /// Returns the kind of a secret of type `type_name`. An empty type is
    /// `Opaque`, the default the API server gives a secret.
    pub fn from_type(type_name: &str) -> Self {
        match type_name {
            DOCKER_CONFIG_JSON_TYPE => SecretKind::DockerConfigJson,
            DOCKERCFG_TYPE => SecretKind::DockerCfg,
            "" => SecretKind::Other("Opaque".to_string()),
            other => SecretKind::Other(other.to_string()),
        }
    }

    /// Returns the Kubernetes secret type.
    pub fn type_name(&self) -> &str {
        match self {
            SecretKind::DockerConfigJson => DOCKER_CONFIG_JSON_TYPE,
            SecretKind::DockerCfg => DOCKERCFG_TYPE,
            SecretKind::Other(type_name) => type_name,
        }
    }
}

impl Serialize for SecretKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.type_name())
    }
}

/// A pull secret or Docker config file after decoding.
#[derive(Clone, Debug, Serialize)]
pub struct DecodedSecret {
    pub kind: SecretKind,
    /// Whether the kubelet reads this secret at all: the type is a pull
    /// secret type and its data key is present and not empty. A file that is
    /// not empty counts as read.
    pub kubelet_reads: bool,
    /// Registry entries in document order. A key written twice appears once,
    /// at its first position, with the value written last, as Go's map
    /// decoding keeps it.
    pub entries: Vec<AuthEntry>,
    /// Problems in document order. A problem about credential helpers,
    /// which concerns several entries, comes last.
    pub problems: Vec<SecretProblem>,
}

impl DecodedSecret {
    /// Returns the first problem that makes the kubelet's decoder fail, if
    /// any. For a pull secret this error fails every pull of the pod.
    pub fn unparsable(&self) -> Option<&SecretProblem> {
        self.problems
            .iter()
            .find(|problem| problem.effect == super::Effect::Unparsable)
    }

    /// Returns the entry written with registry key `key`.
    pub fn entry(&self, key: &str) -> Option<&AuthEntry> {
        self.entries.iter().find(|entry| entry.key == key)
    }

    /// Returns the problems about the entry with registry key `key`.
    pub fn problems_for<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a SecretProblem> {
        self.problems
            .iter()
            .filter(move |problem| problem.entry.as_deref() == Some(key))
    }
}

impl fmt::Display for DecodedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self
            .entries
            .iter()
            .map(|entry| entry.key.as_str())
            .collect();
        write!(
            f,
            "{} with {} entries ({}) and {} problems",
            self.kind.type_name(),
            self.entries.len(),
            keys.join(", "),
            self.problems.len()
        )
    }
}

/// One registry entry of a Docker config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuthEntry {
    /// Registry key as written, for example `https://index.docker.io/v1/`.
    pub key: String,
    /// Key as the kubelet files it (`index.docker.io`), or `None` when the
    /// kubelet rejects the key and skips the entry.
    pub normalized: Option<String>,
    /// Username the kubelet sends: decoded from `auth` when that is set,
    /// otherwise the `username` field. `None` when empty, and when `auth`
    /// is invalid, because the kubelet then uses nothing.
    pub username: Option<String>,
    /// Password the kubelet sends, chosen like `username`.
    pub password: Option<SecretString>,
    /// The `username` field as written, which `auth` overrides.
    pub username_field: Option<String>,
    /// Whether a non-empty `auth` is present.
    pub auth_present: bool,
    /// Whether `auth` decodes to exactly the `username` and `password`
    /// fields. `None` unless `auth` decodes and either field is set.
    pub auth_agrees: Option<bool>,
    /// Docker's `identitytoken`, which the kubelet ignores.
    pub identity_token: Option<SecretString>,
    /// Docker's `registrytoken`, which the kubelet ignores.
    pub registry_token: Option<SecretString>,
    pub email_present: bool,
    /// Names of the fields among `auth`, `username`, `password`,
    /// `identitytoken` and `registrytoken` that are set to a non-empty
    /// string, in that order.
    pub fields: Vec<&'static str>,
}

impl AuthEntry {
    /// Returns the credential a Docker client would send, preferring
    /// `registrytoken`, then `identitytoken`, then username and password, as
    /// Docker's registry client does.
    pub fn credential(&self) -> Option<Credential> {
        if let Some(token) = &self.registry_token {
            return Some(Credential::RegistryToken {
                token: token.clone(),
            });
        }
        if let Some(token) = &self.identity_token {
            return Some(Credential::IdentityToken {
                token: token.clone(),
            });
        }
        self.kubelet_credential()
    }

    /// Returns the credential the kubelet passes to the container runtime
    /// for this entry: username and password only, because its
    /// `DockerConfigEntry` has no token fields. `None` means the runtime
    /// pulls without credentials.
    pub fn kubelet_credential(&self) -> Option<Credential> {
        if self.username.is_none() && self.password.is_none() {
            return None;
        }
        Some(Credential::Basic {
            username: self.username.clone().unwrap_or_default(),
            password: self.password.clone().unwrap_or_default(),
        })
    }
}

impl fmt::Display for AuthEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.key)?;
        match &self.normalized {
            Some(normalized) => write!(f, " (kubelet key {normalized})")?,
            None => f.write_str(" (skipped by the kubelet)")?,
        }
        match self.kubelet_credential() {
            Some(credential) => write!(f, ": {credential}")?,
            None => f.write_str(": no credential")?,
        }
        write!(f, "; fields: {}", self.fields.join(", "))
    }
}

/// Decodes a Kubernetes secret given as its type and data, where `data`
/// contains the values already base64-decoded (as k8s-openapi's `ByteString`
/// does).
pub fn decode_secret(type_name: &str, data: &BTreeMap<String, Vec<u8>>) -> DecodedSecret {
    let kind = SecretKind::from_type(type_name);
    let mut decoded = DecodedSecret {
        kind: kind.clone(),
        kubelet_reads: false,
        entries: Vec::new(),
        problems: Vec::new(),
    };

    let (data_key, layout) = match &kind {
        SecretKind::DockerConfigJson => (DOCKER_CONFIG_JSON_KEY, Layout::ConfigJson),
        SecretKind::DockerCfg => (DOCKERCFG_KEY, Layout::Dockercfg),
        SecretKind::Other(type_name) => {
            decoded.problems.push(wrong_type_problem(type_name, data));
            // Decode the content anyway, so the evidence can show which
            // registries the author meant.
            if let Some(bytes) = data.get(DOCKER_CONFIG_JSON_KEY).filter(|b| !b.is_empty()) {
                let origin = Origin::Secret(DOCKER_CONFIG_JSON_KEY);
                decode_document(bytes, Layout::ConfigJson, origin, &mut decoded);
            } else if let Some(bytes) = data.get(DOCKERCFG_KEY).filter(|b| !b.is_empty()) {
                decode_document(
                    bytes,
                    Layout::Dockercfg,
                    Origin::Secret(DOCKERCFG_KEY),
                    &mut decoded,
                );
            }
            return decoded;
        }
    };

    match data.get(data_key) {
        None => decoded
            .problems
            .push(missing_key_problem(&kind, data_key, data)),
        Some(bytes) if bytes.is_empty() => decoded.problems.push(SecretProblem::new(
            ProblemKind::EmptyData,
            None,
            format!(
                "the {data_key} value is empty, so the kubelet ignores the secret. Store the \
                 registry credentials in it: {}.",
                Origin::Secret(data_key).recreate_hint()
            ),
        )),
        Some(bytes) => {
            decoded.kubelet_reads = true;
            decode_document(bytes, layout, Origin::Secret(data_key), &mut decoded);
        }
    }
    decoded
}

/// Decodes a Docker `config.json` or containers `auth.json` file with the
/// rules the kubelet applies to `.dockerconfigjson`.
pub fn decode_docker_config_json(bytes: &[u8]) -> DecodedSecret {
    let mut decoded = DecodedSecret {
        kind: SecretKind::DockerConfigJson,
        kubelet_reads: !bytes.is_empty(),
        entries: Vec::new(),
        problems: Vec::new(),
    };
    if bytes.is_empty() {
        decoded.problems.push(SecretProblem::new(
            ProblemKind::EmptyData,
            None,
            format!("the file is empty: {}.", Origin::File.recreate_hint()),
        ));
        return decoded;
    }
    decode_document(bytes, Layout::ConfigJson, Origin::File, &mut decoded);
    decoded
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// `{"auths": {REGISTRY: ENTRY}}`, from `.dockerconfigjson` and files.
    ConfigJson,
    /// `{REGISTRY: ENTRY}`, the legacy `.dockercfg`.
    Dockercfg,
}

fn decode_document(bytes: &[u8], layout: Layout, origin: Origin, decoded: &mut DecodedSecret) {
    let document = match gojson::parse(bytes) {
        Ok(document) => document,
        Err(error) => {
            decoded.problems.push(SecretProblem::new(
                ProblemKind::InvalidJson,
                None,
                format!(
                    "{} is not valid JSON ({} at line {} column {}), {}. Fix the JSON or {}.",
                    origin.document(),
                    error.message,
                    error.line,
                    error.column,
                    origin.unparsable_consequence(),
                    origin.recreate_hint()
                ),
            ));
            return;
        }
    };

    let top = match document {
        Json::Object(pairs) => pairs,
        Json::Null => Vec::new(),
        other => {
            let expected = match layout {
                Layout::ConfigJson => "an object with an \"auths\" object",
                Layout::Dockercfg => "an object keyed by registry",
            };
            decoded.problems.push(SecretProblem::new(
                ProblemKind::InvalidFieldType,
                None,
                format!(
                    "{} is {} where the kubelet expects {expected}, {}. {}.",
                    origin.document(),
                    other.type_name(),
                    origin.unparsable_consequence(),
                    capitalise(&origin.recreate_hint())
                ),
            ));
            return;
        }
    };

    match layout {
        Layout::ConfigJson => decode_config_json(&top, origin, decoded),
        Layout::Dockercfg => decode_dockercfg(top, origin, decoded),
    }
}

/// Decodes the top level of a `.dockerconfigjson` document, as Go decodes
/// it into `DockerConfigJSON`: `auths` objects written more than once are
/// merged, and a `null` `auths` clears what came before.
fn decode_config_json(top: &[(String, Json)], origin: Origin, decoded: &mut DecodedSecret) {
    let mut auths: Option<Vec<(String, &Json)>> = None;
    for value in gojson::field_values(top, "auths") {
        match value {
            Json::Null => auths = None,
            Json::Object(pairs) => {
                let merged = auths.get_or_insert_with(Vec::new);
                for (key, entry) in pairs {
                    match merged.iter_mut().find(|(existing, _)| existing == key) {
                        Some(slot) => slot.1 = entry,
                        None => merged.push((key.clone(), entry)),
                    }
                }
            }
            other => {
                decoded.problems.push(SecretProblem::new(
                    ProblemKind::InvalidFieldType,
                    None,
                    format!(
                        "\"auths\" in {} is {} where the kubelet expects an object keyed by \
                         registry, {}. {}.",
                        origin.document(),
                        other.type_name(),
                        origin.unparsable_consequence(),
                        capitalise(&origin.recreate_hint())
                    ),
                ));
                return;
            }
        }
    }
    check_http_headers(top, origin, decoded);

    let helpers = CredentialHelpers::read(top);
    let Some(auths) = auths else {
        if helpers.is_empty() {
            decoded.problems.push(missing_auths_problem(top, origin));
        } else {
            decoded.problems.push(helpers.problem(&[], origin));
        }
        return;
    };
    if auths.is_empty() && helpers.is_empty() {
        decoded.problems.push(SecretProblem::new(
            ProblemKind::NoEntries,
            None,
            format!(
                "\"auths\" in {} is empty, so it contains no credential for any registry. {}.",
                origin.document(),
                capitalise(&origin.recreate_hint())
            ),
        ));
        return;
    }

    let mut without_credential = Vec::new();
    for (key, value) in auths {
        let outcome = decode_entry(&key, value, origin, decoded);
        if outcome != EntryOutcome::NoCredential {
            continue;
        }
        if let Some(nested) = wrapped_registries(&key, value) {
            let problem = auths_wrapper_problem(&key, nested, Layout::ConfigJson);
            decoded.problems.push(problem);
        } else if helpers.is_empty() {
            decoded.problems.push(no_credential_problem(&key));
        } else {
            without_credential.push(key);
        }
    }
    if !helpers.is_empty() && (decoded.entries.is_empty() || !without_credential.is_empty()) {
        decoded
            .problems
            .push(helpers.problem(&without_credential, origin));
    }
}

/// Decodes a legacy `.dockercfg` document, whose top-level keys are the
/// registries.
fn decode_dockercfg(top: Vec<(String, Json)>, origin: Origin, decoded: &mut DecodedSecret) {
    let mut registries: Vec<(String, Json)> = Vec::new();
    for (key, value) in top {
        match registries.iter_mut().find(|(existing, _)| *existing == key) {
            Some(slot) => slot.1 = value,
            None => registries.push((key, value)),
        }
    }
    if registries.is_empty() {
        decoded.problems.push(SecretProblem::new(
            ProblemKind::NoEntries,
            None,
            format!(
                "{} lists no registry, so it contains no credential. {}.",
                origin.document(),
                capitalise(&origin.recreate_hint())
            ),
        ));
        return;
    }

    for (key, value) in &registries {
        let outcome = decode_entry(key, value, origin, decoded);
        if outcome != EntryOutcome::NoCredential {
            continue;
        }
        match wrapped_registries(key, value) {
            Some(nested) => {
                let problem = auths_wrapper_problem(key, nested, Layout::Dockercfg);
                decoded.problems.push(problem);
            }
            None => decoded.problems.push(no_credential_problem(key)),
        }
    }
}

/// Returns the registries inside an entry named `auths`, which is an
/// `auths` wrapper where the kubelet expects a registry.
fn wrapped_registries<'a>(key: &str, value: &'a Json) -> Option<&'a [(String, Json)]> {
    match value {
        Json::Object(nested) if key.eq_ignore_ascii_case("auths") => Some(nested),
        _ => None,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum EntryOutcome {
    Credential,
    NoCredential,
    /// The entry has a problem already reported (a type or `auth` error,
    /// or tokens the kubelet ignores).
    Reported,
}

/// Decodes one registry entry as `DockerConfigEntry.UnmarshalJSON` does,
/// appends it to `decoded.entries` and reports its problems.
fn decode_entry(
    key: &str,
    value: &Json,
    origin: Origin,
    decoded: &mut DecodedSecret,
) -> EntryOutcome {
    let mut fields = RawFields::default();
    let mut type_errors = Vec::new();
    match value {
        Json::Null => {}
        Json::Object(pairs) => {
            for name in ["username", "password", "email", "auth"] {
                match gojson::string_field(pairs, name) {
                    Ok(text) => fields.set(name, text.filter(|text| !text.is_empty())),
                    Err(type_name) => type_errors.push((name, type_name)),
                }
            }
            fields.identity_token = gojson::optional_string_field(pairs, "identitytoken")
                .filter(|text| !text.is_empty());
            fields.registry_token = gojson::optional_string_field(pairs, "registrytoken")
                .filter(|text| !text.is_empty());
        }
        other => type_errors.push(("", other.type_name())),
    }

    let normalized = check_registry_key(key, decoded);
    for (field, type_name) in &type_errors {
        decoded
            .problems
            .push(field_type_problem(key, field, type_name, origin));
    }

    let mut entry = AuthEntry {
        key: key.to_string(),
        normalized,
        username: None,
        password: None,
        username_field: fields.username.clone(),
        auth_present: fields.auth.is_some(),
        auth_agrees: None,
        identity_token: fields.identity_token.clone().map(SecretString::from),
        registry_token: fields.registry_token.clone().map(SecretString::from),
        email_present: fields.email.is_some(),
        fields: fields.present(),
    };

    let mut outcome = EntryOutcome::Credential;
    match fields.auth.as_deref().map(decode_auth) {
        None => {
            entry.username = fields.username.clone();
            entry.password = fields.password.clone().map(SecretString::from);
        }
        Some(Ok((username, password))) => {
            if fields.username.is_some() || fields.password.is_some() {
                let same_username = fields.username.as_deref().unwrap_or("") == username;
                let same_password = fields.password.as_deref().unwrap_or("") == password;
                entry.auth_agrees = Some(same_username && same_password);
                if !(same_username && same_password) {
                    let message = auth_mismatch_message(key, &fields, &username, same_password);
                    decoded.problems.push(SecretProblem::new(
                        ProblemKind::AuthMismatch,
                        Some(key),
                        message,
                    ));
                }
            }
            entry.username = Some(username).filter(|text| !text.is_empty());
            entry.password = Some(password)
                .filter(|text| !text.is_empty())
                .map(SecretString::from);
        }
        Some(Err(error)) => {
            decoded.problems.push(auth_problem(key, &error, origin));
            outcome = EntryOutcome::Reported;
        }
    }

    if outcome == EntryOutcome::Credential && !type_errors.is_empty() {
        outcome = EntryOutcome::Reported;
    }
    if outcome == EntryOutcome::Credential {
        outcome = classify_credential(&entry, origin, decoded);
    }
    decoded.entries.push(entry);
    outcome
}

/// Checks whether an entry with no type or `auth` error gives the kubelet
/// a credential, and reports a suspicious username.
fn classify_credential(
    entry: &AuthEntry,
    origin: Origin,
    decoded: &mut DecodedSecret,
) -> EntryOutcome {
    if let Some(message) = suspect_username_message(entry) {
        decoded.problems.push(SecretProblem::new(
            ProblemKind::SuspectUsername,
            Some(&entry.key),
            message,
        ));
    }
    if entry.kubelet_credential().is_some() {
        return EntryOutcome::Credential;
    }
    let tokens: Vec<&str> = entry
        .fields
        .iter()
        .copied()
        .filter(|field| *field == "identitytoken" || *field == "registrytoken")
        .collect();
    if tokens.is_empty() {
        return EntryOutcome::NoCredential;
    }
    if let Origin::Secret(_) = origin {
        decoded.problems.push(SecretProblem::new(
            ProblemKind::TokenIgnored,
            Some(&entry.key),
            format!(
                "entry {:?} has only {}, which the kubelet does not read from pull secrets (it \
                 reads auth, username, password and email), so a pull that matches this entry \
                 is sent without credentials. Store a username and password instead, for \
                 example with `{}`.",
                entry.key,
                tokens.join(" and "),
                super::problem::CREATE_SECRET
            ),
        ));
        return EntryOutcome::Reported;
    }
    EntryOutcome::Credential
}

/// The string fields of one entry, before `auth` is applied.
#[derive(Default)]
struct RawFields {
    username: Option<String>,
    password: Option<String>,
    email: Option<String>,
    auth: Option<String>,
    identity_token: Option<String>,
    registry_token: Option<String>,
}

impl RawFields {
    fn set(&mut self, name: &str, value: Option<String>) {
        match name {
            "username" => self.username = value,
            "password" => self.password = value,
            "email" => self.email = value,
            _ => self.auth = value,
        }
    }

    fn present(&self) -> Vec<&'static str> {
        [
            ("auth", self.auth.is_some()),
            ("username", self.username.is_some()),
            ("password", self.password.is_some()),
            ("identitytoken", self.identity_token.is_some()),
            ("registrytoken", self.registry_token.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect()
    }
}

/// Go's `base64.StdEncoding`: padding required, non-zero trailing bits
/// accepted.
const PADDED: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Go's `base64.RawStdEncoding`: no padding allowed.
const UNPADDED: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// Reason an `auth` value cannot be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AuthError {
    /// Not base64, with a hint about the likely mistake.
    Base64(Option<&'static str>),
    /// Decodes, but without a colon. `true` when the text decodes once more
    /// to something with a colon, that is, it was encoded twice.
    NoColon(bool),
}

/// Decodes `auth` as the kubelet's `decodeDockerConfigFieldAuth`: padded
/// base64 when the trimmed value ends in `=`, unpadded otherwise, with line
/// breaks skipped as Go's decoder skips them, then split at the first colon.
fn decode_auth(value: &str) -> Result<(String, String), AuthError> {
    let padded = value.trim().ends_with('=');
    let cleaned: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    let engine = if padded { &PADDED } else { &UNPADDED };
    let Ok(bytes) = engine.decode(cleaned.as_bytes()) else {
        return Err(AuthError::Base64(base64_hint(value)));
    };

    let Some(colon) = bytes.iter().position(|byte| *byte == b':') else {
        return Err(AuthError::NoColon(is_encoded_twice(&bytes)));
    };
    // NOTE: Go keeps invalid UTF-8 as it is, while this replaces it with
    // U+FFFD, so such a credential would differ from the kubelet's.
    let username = String::from_utf8_lossy(&bytes[..colon]).into_owned();
    let password = String::from_utf8_lossy(&bytes[colon + 1..]).into_owned();
    Ok((username, password))
}

fn base64_hint(value: &str) -> Option<&'static str> {
    if value.contains(':') {
        Some("it contains a colon, so it looks like USERNAME:PASSWORD that was never encoded")
    } else if value.contains(['-', '_']) {
        Some("it contains - or _, which belong to the URL-safe alphabet, not the standard one")
    } else if value.trim().contains(char::is_whitespace) {
        Some("it contains a space or tab")
    } else if value != value.trim() {
        Some("it has a leading or trailing space")
    } else {
        None
    }
}

fn is_encoded_twice(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    let padded = text.trim().ends_with('=');
    let engine = if padded { &PADDED } else { &UNPADDED };
    engine
        .decode(text.trim().as_bytes())
        .is_ok_and(|inner| inner.contains(&b':'))
}

/// Returns the kubelet key for `key`, reporting a key that the kubelet
/// skips or that can never match an image.
fn check_registry_key(key: &str, decoded: &mut DecodedSecret) -> Option<String> {
    match kubelet_key(key) {
        Err(reason) => {
            decoded.problems.push(SecretProblem::new(
                ProblemKind::InvalidRegistryKey,
                Some(key),
                format!(
                    "registry key {key:?} is not a valid host ({reason}), so the kubelet skips \
                     this entry. Write the key as HOST[:PORT][/PATH], for example \
                     registry.example.com:5000, with no spaces or line breaks."
                ),
            ));
            None
        }
        Ok(normalized) => {
            let has_scheme = key.starts_with("https://") || key.starts_with("http://");
            if !has_scheme && key.contains("://") {
                let host = urlmatch::parse_schemeless(&normalized)
                    .map(|url| urlmatch::split_host(&url.host).0.join("."))
                    .unwrap_or_default();
                decoded.problems.push(SecretProblem::new(
                    ProblemKind::InvalidRegistryKey,
                    Some(key),
                    format!(
                        "registry key {key:?} starts with a scheme the kubelet does not strip \
                         (it strips only lowercase http:// and https://), so it reads the host \
                         as {host:?} and the entry matches no image. Write the key as \
                         HOST[:PORT], for example registry.example.com."
                    ),
                ));
            }
            Some(normalized)
        }
    }
}

fn check_http_headers(top: &[(String, Json)], origin: Origin, decoded: &mut DecodedSecret) {
    for value in gojson::field_values(top, "httpheaders") {
        let valid = match value {
            Json::Null => true,
            Json::Object(pairs) => pairs
                .iter()
                .all(|(_, header)| matches!(header, Json::String(_) | Json::Null)),
            _ => false,
        };
        if !valid {
            decoded.problems.push(SecretProblem::new(
                ProblemKind::InvalidFieldType,
                None,
                format!(
                    "\"HttpHeaders\" in {} is not an object of strings, {}. Remove it or make \
                     every header value a string.",
                    origin.document(),
                    origin.unparsable_consequence()
                ),
            ));
            return;
        }
    }
}

/// The credential helpers a Docker config names. The kubelet never runs
/// them.
struct CredentialHelpers {
    store: Option<String>,
    registries: Vec<String>,
}

impl CredentialHelpers {
    fn read(top: &[(String, Json)]) -> Self {
        let store =
            gojson::optional_string_field(top, "credsStore").filter(|text| !text.is_empty());
        let registries = match gojson::field_values(top, "credHelpers").last() {
            Some(Json::Object(pairs)) => pairs.iter().map(|(key, _)| key.clone()).collect(),
            _ => Vec::new(),
        };
        CredentialHelpers { store, registries }
    }

    fn is_empty(&self) -> bool {
        self.store.is_none() && self.registries.is_empty()
    }

    fn problem(&self, empty_entries: &[String], origin: Origin) -> SecretProblem {
        let mut named = Vec::new();
        if let Some(store) = &self.store {
            named.push(format!("credsStore {store:?}"));
        }
        if !self.registries.is_empty() {
            named.push(format!("credHelpers for {}", self.registries.join(", ")));
        }
        let entries = if empty_entries.is_empty() {
            "it has no entry with a credential".to_string()
        } else {
            format!(
                "the entries {} contain no credential",
                quoted_list(empty_entries)
            )
        };
        let consequence = match origin {
            Origin::Secret(_) => {
                "The kubelet never runs credential helpers, so it sends no credential for \
                 these registries"
            }
            Origin::File => "No credential for these registries can be read from this file",
        };
        SecretProblem::new(
            ProblemKind::CredentialHelperOnly,
            None,
            format!(
                "{} names credential helpers ({}), which keep the passwords outside the file, \
                 and {entries}. {consequence}. {}.",
                origin.document(),
                named.join("; "),
                capitalise(&origin.recreate_hint())
            ),
        )
    }
}

fn wrong_type_problem(type_name: &str, data: &BTreeMap<String, Vec<u8>>) -> SecretProblem {
    let content_hint = if data.contains_key(DOCKER_CONFIG_JSON_KEY) {
        " Its .dockerconfigjson key can be reused: `kubectl create secret generic NAME \
         --type=kubernetes.io/dockerconfigjson --from-file=.dockerconfigjson=config.json`."
    } else {
        ""
    };
    SecretProblem::new(
        ProblemKind::WrongType,
        None,
        format!(
            "secret type is {type_name:?}, so the kubelet ignores this secret: it reads pull \
             secrets only of type {DOCKER_CONFIG_JSON_TYPE} (key {DOCKER_CONFIG_JSON_KEY}) or \
             {DOCKERCFG_TYPE} (key {DOCKERCFG_KEY}). The type of a secret cannot be changed, \
             so delete it and re-create it with `{}`.{content_hint}",
            super::problem::CREATE_SECRET
        ),
    )
}

fn missing_key_problem(
    kind: &SecretKind,
    data_key: &str,
    data: &BTreeMap<String, Vec<u8>>,
) -> SecretProblem {
    let present = if data.is_empty() {
        "it has no data keys".to_string()
    } else {
        let keys: Vec<String> = data.keys().cloned().collect();
        format!("its keys are {}", quoted_list(&keys))
    };
    let other_layout = match kind {
        SecretKind::DockerConfigJson if data.contains_key(DOCKERCFG_KEY) => format!(
            " The kubelet reads {DOCKERCFG_KEY} only from secrets of type {DOCKERCFG_TYPE}."
        ),
        SecretKind::DockerCfg if data.contains_key(DOCKER_CONFIG_JSON_KEY) => format!(
            " The kubelet reads {DOCKER_CONFIG_JSON_KEY} only from secrets of type \
             {DOCKER_CONFIG_JSON_TYPE}."
        ),
        _ => String::new(),
    };
    SecretProblem::new(
        ProblemKind::MissingKey,
        None,
        format!(
            "secret of type {} has no {data_key} key ({present}), so the kubelet ignores it.{} \
             Put the Docker config under the key {data_key}, or re-create the secret with `{}`.",
            kind.type_name(),
            other_layout,
            super::problem::CREATE_SECRET
        ),
    )
}

fn missing_auths_problem(top: &[(String, Json)], origin: Origin) -> SecretProblem {
    let registry_like: Vec<String> = top
        .iter()
        .filter(|(key, value)| matches!(value, Json::Object(_)) && looks_like_registry(key))
        .map(|(key, _)| key.clone())
        .collect();
    let hint = if registry_like.is_empty() {
        String::new()
    } else {
        format!(
            " The top-level keys {} look like registries in the legacy .dockercfg layout: wrap \
             them as {{\"auths\": {{...}}}}.",
            quoted_list(&registry_like)
        )
    };
    SecretProblem::new(
        ProblemKind::MissingAuths,
        None,
        format!(
            "{} has no \"auths\" object, so the kubelet finds no registry in it.{hint} {}.",
            origin.document(),
            capitalise(&origin.recreate_hint())
        ),
    )
}

fn looks_like_registry(key: &str) -> bool {
    key.contains(['.', ':']) || key == "localhost" || key.starts_with("http")
}

fn auths_wrapper_problem(key: &str, nested: &[(String, Json)], layout: Layout) -> SecretProblem {
    let registries: Vec<String> = nested.iter().map(|(name, _)| name.clone()).collect();
    let inner = if registries.is_empty() {
        String::new()
    } else {
        format!(" for {}", quoted_list(&registries))
    };
    let message = match layout {
        Layout::Dockercfg => format!(
            "the .dockercfg value contains a config.json document with an \"auths\" wrapper. \
             The legacy .dockercfg layout lists registries at the top level, so the kubelet \
             reads {key:?} as a registry name, finds no credential in it and never sends the \
             credentials{inner}. Re-create the secret with type {DOCKER_CONFIG_JSON_TYPE} and \
             key {DOCKER_CONFIG_JSON_KEY}, or remove the wrapper."
        ),
        Layout::ConfigJson => format!(
            "entry {key:?} contains an \"auths\" object, so the registries are wrapped in \
             \"auths\" twice and the kubelet never sends the credentials{inner}. Remove the \
             inner wrapper."
        ),
    };
    SecretProblem::new(ProblemKind::AuthsWrapper, Some(key), message)
}

fn no_credential_problem(key: &str) -> SecretProblem {
    SecretProblem::new(
        ProblemKind::NoCredential,
        Some(key),
        format!(
            "entry {key:?} has no auth, username or password, so a pull that matches it is sent \
             without credentials. Add the credentials, for example with `{}`.",
            super::problem::CREATE_SECRET
        ),
    )
}

fn field_type_problem(key: &str, field: &str, type_name: &str, origin: Origin) -> SecretProblem {
    let message = if field.is_empty() {
        let setting_hint = if matches!(key, "credsStore" | "credHelpers" | "auths" | "HttpHeaders")
        {
            format!(" ({key:?} is a config.json setting, not a registry)")
        } else {
            String::new()
        };
        format!(
            "entry {key:?} is {type_name} where the kubelet expects an object with auth, or \
             username and password{setting_hint}, {}. {}.",
            origin.unparsable_consequence(),
            capitalise(&origin.recreate_hint())
        )
    } else {
        format!(
            "field {field:?} of entry {key:?} is {type_name} where the kubelet expects a \
             string, {}. Write the value as a JSON string.",
            origin.unparsable_consequence()
        )
    };
    SecretProblem::new(ProblemKind::InvalidFieldType, Some(key), message)
}

fn auth_problem(key: &str, error: &AuthError, origin: Origin) -> SecretProblem {
    let fix = "Set auth to the base64 encoding of USERNAME:PASSWORD, for example the output of \
               `printf '%s' 'USERNAME:PASSWORD' | base64 -w0`";
    match error {
        AuthError::Base64(hint) => {
            let hint = hint.map(|text| format!(" ({text})")).unwrap_or_default();
            SecretProblem::new(
                ProblemKind::InvalidAuthBase64,
                Some(key),
                format!(
                    "the auth value of entry {key:?} is not valid base64{hint}, {} (Go reports \
                     \"illegal base64 data at input byte N\"). {fix}.",
                    origin.unparsable_consequence()
                ),
            )
        }
        AuthError::NoColon(twice) => {
            let hint = if *twice {
                " It is base64-encoded twice: decode it once."
            } else {
                ""
            };
            SecretProblem::new(
                ProblemKind::AuthWithoutColon,
                Some(key),
                format!(
                    "the auth value of entry {key:?} decodes to text without a colon and \
                     cannot be split into username and password, {} (\"unable to parse auth \
                     field, must be formatted as base64(username:password)\").{hint} {fix}.",
                    origin.unparsable_consequence()
                ),
            )
        }
    }
}

fn auth_mismatch_message(
    key: &str,
    fields: &RawFields,
    auth_username: &str,
    same_password: bool,
) -> String {
    let mut differences = Vec::new();
    let field_username = fields.username.as_deref().unwrap_or("");
    if field_username != auth_username {
        differences.push(format!(
            "auth contains username {auth_username:?} but the username field is {field_username:?}"
        ));
    }
    if !same_password {
        differences.push("auth and the password field contain different passwords".to_string());
    }
    format!(
        "entry {key:?}: {}. The kubelet uses the values in auth and ignores the username and \
         password fields. Make them agree, or drop the fields that are wrong.",
        differences.join(", and ")
    )
}

fn suspect_username_message(entry: &AuthEntry) -> Option<String> {
    let key = &entry.key;
    match entry.username.as_deref() {
        None if entry.password.is_some() => Some(format!(
            "entry {key:?} has a password but an empty username. A shell expands a username \
             that starts with $ (such as NGC's $oauthtoken) to nothing unless it is in single \
             quotes, so re-create the secret with the username quoted."
        )),
        Some(username) if username == "robot" || username.starts_with("robot+") => Some(format!(
            "entry {key:?} has username {username:?}, which looks like a Harbor robot account \
             name robot$NAME after a shell expanded $NAME. Re-create the secret with the \
             username in single quotes."
        )),
        _ => None,
    }
}

fn quoted_list(items: &[String]) -> String {
    items
        .iter()
        .map(|item| format!("{item:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
