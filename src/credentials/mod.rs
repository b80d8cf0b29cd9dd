//! Pull-secret decoding and the kubelet's rules for choosing credentials.

mod secret_string;

pub use secret_string::{REDACTED, SecretString};
