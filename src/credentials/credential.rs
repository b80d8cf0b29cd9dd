//! The credential a client sends to a registry.

use std::fmt;

use serde::Serialize;

use super::SecretString;

/// A registry credential taken from a Docker config entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Credential {
    /// HTTP basic authentication, or the basic-authenticated token request
    /// of the registry token flow.
    Basic {
        username: String,
        password: SecretString,
    },
    /// An OAuth2 refresh token (Docker's `identitytoken`), exchanged at the
    /// token endpoint for an access token. Docker credential helpers return
    /// it with the username `<token>`.
    IdentityToken { token: SecretString },
    /// A bearer token sent as it is (Docker's `registrytoken`).
    RegistryToken { token: SecretString },
}

impl Credential {
    /// Describes the credential for evidence and logs, without the secret.
    pub fn describe(&self) -> String {
        match self {
            Credential::Basic { username, .. } if username.is_empty() => {
                "password with an empty username".to_string()
            }
            Credential::Basic { username, .. } => format!("username {username:?} and password"),
            Credential::IdentityToken { .. } => "identity token".to_string(),
            Credential::RegistryToken { .. } => "registry token".to_string(),
        }
    }
}

impl fmt::Display for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}
