//! Pull-secret decoding and the kubelet's rules for choosing credentials.
//!
//! Pure logic over plain data: callers pass what they read from the API
//! server or from files, and get back decoded entries, problems and the
//! credentials the kubelet would try for an image.

mod authfield;
mod credential;
mod dockerconfig;
mod gojson;
mod image;
pub mod keyring;
mod messages;
mod problem;
mod secret_string;
mod urlmatch;

pub use credential::Credential;
pub use dockerconfig::{
    AuthEntry, DOCKER_CONFIG_JSON_KEY, DOCKER_CONFIG_JSON_TYPE, DOCKERCFG_KEY, DOCKERCFG_TYPE,
    DecodedSecret, SecretKind, decode_docker_config_json, decode_secret,
};
pub use image::{ImageNameError, normalize_image};
pub use keyring::{Keyring, Match, MismatchReason, lookup_union, match_explanation};
pub use problem::{Effect, ProblemKind, SecretProblem};
pub use secret_string::{REDACTED, SecretString};

#[cfg(test)]
mod tests;
