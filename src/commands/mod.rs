//! Subcommands other than diagnose and explain, one module each.

pub mod completion;
pub mod inspect;
pub mod registry_auth;
pub mod restart;
pub mod secrets;
pub mod tags;
