//! The wording of the problems found while decoding: each message names the
//! field, the consequence and the fix.

use std::collections::BTreeMap;

use super::authfield::AuthError;
use super::dockerconfig::{
    AuthEntry, CredentialHelpers, DOCKER_CONFIG_JSON_KEY, DOCKER_CONFIG_JSON_TYPE, DOCKERCFG_KEY,
    DOCKERCFG_TYPE, Layout, RawFields, SecretKind,
};
use super::gojson::Json;
use super::problem::{Origin, ProblemKind, SecretProblem};

impl CredentialHelpers {
    pub(crate) fn problem(&self, empty_entries: &[String], origin: Origin) -> SecretProblem {
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

pub(crate) fn wrong_type_problem(
    type_name: &str,
    data: &BTreeMap<String, Vec<u8>>,
) -> SecretProblem {
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

pub(crate) fn missing_key_problem(
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

pub(crate) fn missing_auths_problem(top: &[(String, Json)], origin: Origin) -> SecretProblem {
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

pub(crate) fn looks_like_registry(key: &str) -> bool {
    key.contains(['.', ':']) || key == "localhost" || key.starts_with("http")
}

pub(crate) fn auths_wrapper_problem(
    key: &str,
    nested: &[(String, Json)],
    layout: Layout,
) -> SecretProblem {
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

pub(crate) fn no_credential_problem(key: &str) -> SecretProblem {
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

pub(crate) fn field_type_problem(
    key: &str,
    field: &str,
    type_name: &str,
    origin: Origin,
) -> SecretProblem {
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

pub(crate) fn auth_problem(key: &str, error: &AuthError, origin: Origin) -> SecretProblem {
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

pub(crate) fn auth_mismatch_message(
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

pub(crate) fn suspect_username_message(entry: &AuthEntry) -> Option<String> {
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

pub(crate) fn quoted_list(items: &[String]) -> String {
    items
        .iter()
        .map(|item| format!("{item:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
