//! Problems in a pull secret or Docker config, and their effect on the
//! kubelet.

use std::fmt;

use serde::Serialize;

/// The kind of a [`SecretProblem`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// The secret type is not one the kubelet reads as a pull secret.
    WrongType,
    /// The type is right but the data key the kubelet reads is missing.
    MissingKey,
    /// The data key or file is empty.
    EmptyData,
    /// The document is not valid JSON.
    InvalidJson,
    /// A field has a JSON type the kubelet's decoder rejects.
    InvalidFieldType,
    /// A `.dockerconfigjson` document without an `auths` object.
    MissingAuths,
    /// The document lists no registry.
    NoEntries,
    /// An `auths` object where the kubelet expects registry names: in a
    /// legacy `.dockercfg`, or nested inside `auths`.
    AuthsWrapper,
    /// The credentials live in a credential helper (`credsStore`,
    /// `credHelpers`), which the kubelet never runs.
    CredentialHelperOnly,
    /// An entry without `auth`, `username` or `password`.
    NoCredential,
    /// An entry whose only credential is `identitytoken` or `registrytoken`,
    /// which the kubelet does not read from pull secrets.
    TokenIgnored,
    /// `auth` is not valid base64.
    InvalidAuthBase64,
    /// `auth` decodes to text without the colon of `username:password`.
    AuthWithoutColon,
    /// `auth` and the `username` or `password` field disagree.
    AuthMismatch,
    /// A registry key that Go's URL parser rejects, or that cannot match any
    /// image.
    InvalidRegistryKey,
    /// A username that looks cut short by shell expansion of `$`.
    SuspectUsername,
}

impl ProblemKind {
    /// Returns what the kubelet does because of a problem of this kind.
    pub fn effect(self) -> Effect {
        match self {
            ProblemKind::InvalidJson
            | ProblemKind::InvalidFieldType
            | ProblemKind::InvalidAuthBase64
            | ProblemKind::AuthWithoutColon => Effect::Unparsable,
            ProblemKind::WrongType
            | ProblemKind::MissingKey
            | ProblemKind::EmptyData
            | ProblemKind::MissingAuths
            | ProblemKind::NoEntries => Effect::Ignored,
            ProblemKind::AuthsWrapper
            | ProblemKind::CredentialHelperOnly
            | ProblemKind::NoCredential
            | ProblemKind::TokenIgnored
            | ProblemKind::InvalidRegistryKey => Effect::EntryUnusable,
            ProblemKind::AuthMismatch | ProblemKind::SuspectUsername => Effect::Warning,
        }
    }
}

/// Effect of a problem on what the kubelet does with the secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// The kubelet's decoder returns an error. For a pull secret, every image
    /// pull of a pod that lists the secret fails with that error, public
    /// images included. The kubelet skips a node config file instead.
    Unparsable,
    /// The kubelet skips the secret, or finds no registry in it, and pulls as
    /// if the secret were not listed.
    Ignored,
    /// The kubelet skips the entry, or matches it and sends no usable
    /// credential.
    EntryUnusable,
    /// The kubelet uses the secret, but probably not as its author meant.
    Warning,
}

/// One problem found while decoding a pull secret or Docker config.
///
/// The message names the field and the fix, and never contains a password,
/// token or `auth` value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SecretProblem {
    pub kind: ProblemKind,
    pub effect: Effect,
    /// Registry key, as written, of the entry the problem is about.
    pub entry: Option<String>,
    pub message: String,
}

impl SecretProblem {
    pub(crate) fn new(kind: ProblemKind, entry: Option<&str>, message: String) -> Self {
        SecretProblem {
            kind,
            effect: kind.effect(),
            entry: entry.map(str::to_string),
            message,
        }
    }
}

impl fmt::Display for SecretProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Source of a Docker config document, which changes the wording of
/// consequences and fixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The value of this data key of a Kubernetes secret.
    Secret(&'static str),
    /// A Docker `config.json` or containers `auth.json` file.
    File,
}

/// The command that creates a well-formed pull secret.
pub(crate) const CREATE_SECRET: &str = "kubectl create secret docker-registry NAME \
     --docker-server=REGISTRY --docker-username=USERNAME --docker-password=PASSWORD";

impl Origin {
    /// Names the document in a sentence ("the .dockerconfigjson value").
    pub(crate) fn document(self) -> String {
        match self {
            Origin::Secret(key) => format!("the {key} value"),
            Origin::File => "the file".to_string(),
        }
    }

    /// States the consequence of a document the kubelet's decoder rejects.
    pub(crate) fn unparsable_consequence(self) -> &'static str {
        match self {
            Origin::Secret(_) => {
                "so the kubelet cannot parse the secret and fails every image pull of a pod \
                 that lists it"
            }
            Origin::File => "so the file cannot be read as a Docker config",
        }
    }

    /// Returns the usual way to write a correct document of this origin.
    pub(crate) fn recreate_hint(self) -> String {
        match self {
            Origin::Secret(_) => format!("re-create the secret with `{CREATE_SECRET}`"),
            Origin::File => "log in again with `docker login REGISTRY`".to_string(),
        }
    }
}
