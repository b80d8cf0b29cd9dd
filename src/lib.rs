//! kubectl-zot: explains image pull failures by joining what the cluster
//! reports with live checks against the OCI registry.

pub mod cause;
pub mod classify;
pub mod credentials;
