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

use serde::{Serialize, Serializer};

use super::authfield::decode_auth;
use super::credential::Credential;
use super::gojson::{self, Json};
use super::messages::{
    auth_mismatch_message, auth_problem, auths_wrapper_problem, capitalise, field_type_problem,
    missing_auths_problem, missing_key_problem, no_credential_problem, suspect_username_message,
    wrong_type_problem,
};
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
    /// A secret the kubelet does not read never fails its decoder, even when
    /// its content would.
    pub fn unparsable(&self) -> Option<&SecretProblem> {
        if !self.kubelet_reads {
            return None;
        }
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
pub(crate) enum Layout {
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
pub(crate) struct RawFields {
    pub(crate) username: Option<String>,
    pub(crate) password: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) auth: Option<String>,
    pub(crate) identity_token: Option<String>,
    pub(crate) registry_token: Option<String>,
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
pub(crate) struct CredentialHelpers {
    pub(crate) store: Option<String>,
    pub(crate) registries: Vec<String>,
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
}
