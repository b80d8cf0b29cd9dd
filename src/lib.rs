//! kubectl-zot: explains image pull failures by joining what the cluster
//! reports with live checks against the OCI registry.

pub mod app;
pub mod cause;
pub mod classify;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod credentials;
pub mod diagnose;
pub mod explain;
pub mod output;
pub mod registry;

pub use app::main_exit_code;
