//! The restart report: its JSON and YAML form (documented in docs/restart.md) and its table.

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

use super::stale::StaleContainer;
use crate::output::sanitize;

/// The workloads one run restarted and those it left alone.
#[derive(Debug, Default, Serialize)]
pub struct RestartReport {
    pub restarted: Vec<Restarted>,
    pub skipped: Vec<Skipped>,
}

/// The kind of restart: stored, or one of the two dry runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// The PATCH was stored.
    Restarted,
    /// `--dry-run=client`: nothing was sent.
    DryRunClient,
    /// `--dry-run=server`: the server validated the PATCH and stored nothing.
    DryRunServer,
}

/// A workload that was (or, in a dry run, would be) restarted.
#[derive(Debug, Serialize)]
pub struct Restarted {
    pub namespace: String,
    /// `kind/name`, e.g. `deployment/web`.
    pub workload: String,
    /// The digest the first stale container runs; null unless `--stale` chose the workload.
    pub old_digest: Option<String>,
    /// The digest its tag resolves to now; null unless `--stale` chose the workload.
    pub new_digest: Option<String>,
    /// True for `--dry-run=client` and `--dry-run=server`: the workload did not change.
    pub dry_run: bool,
    pub action: Action,
    /// The `kubectl.kubernetes.io/restartedAt` value sent; absent for a client dry run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restarted_at: Option<String>,
    /// Every stale container of the workload (`--stale` only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<StaleContainer>,
}

/// A workload that was not restarted, and why.
#[derive(Debug, Serialize)]
pub struct Skipped {
    pub namespace: String,
    /// `kind/name`, or `pod/NAME` for a stale pod without a controller.
    pub workload: String,
    pub old_digest: Option<String>,
    pub new_digest: Option<String>,
    pub reason: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<StaleContainer>,
}

/// Returns the first container's digests, as the table and the top-level JSON fields show them.
pub fn first_digests(containers: &[StaleContainer]) -> (Option<String>, Option<String>) {
    match containers.first() {
        Some(first) => (
            Some(first.old_digest.clone()).filter(|d| !d.is_empty()),
            Some(first.new_digest.clone()).filter(|d| !d.is_empty()),
        ),
        None => (None, None),
    }
}

/// Shortens `sha256:HEX` to 12 hex digits for the table; JSON keeps the full digest.
fn short_digest(digest: Option<&str>) -> String {
    match digest {
        Some(digest) => match digest.split_once(':') {
            Some((algorithm, hex)) if hex.len() > 12 => format!("{algorithm}:{}", &hex[..12]),
            _ => digest.to_string(),
        },
        None => "-".to_string(),
    }
}

/// Renders the report as a table: WORKLOAD, NAMESPACE, OLD DIGEST, NEW DIGEST, ACTION.
pub fn render_table(report: &RestartReport) -> String {
    if report.restarted.is_empty() && report.skipped.is_empty() {
        return "No workloads to restart.\n".to_string();
    }
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header([
            "WORKLOAD",
            "NAMESPACE",
            "OLD DIGEST",
            "NEW DIGEST",
            "ACTION",
        ]);
    for entry in &report.restarted {
        let action = match entry.action {
            Action::Restarted => "restarted",
            Action::DryRunClient => "would restart (dry run)",
            Action::DryRunServer => "would restart (server dry run)",
        };
        table.add_row([
            sanitize(&entry.workload),
            sanitize(&entry.namespace),
            short_digest(entry.old_digest.as_deref()),
            short_digest(entry.new_digest.as_deref()),
            action.to_string(),
        ]);
    }
    for entry in &report.skipped {
        table.add_row([
            sanitize(&entry.workload),
            sanitize(&entry.namespace),
            short_digest(entry.old_digest.as_deref()),
            short_digest(entry.new_digest.as_deref()),
            format!("skipped: {}", sanitize(&entry.reason)),
        ]);
    }
    let mut text = table.to_string();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lists_restarted_and_skipped() {
        let report = RestartReport {
            restarted: vec![Restarted {
                namespace: "openclaw".into(),
                workload: "deployment/stale".into(),
                old_digest: Some(format!("sha256:{}", "a".repeat(64))),
                new_digest: Some(format!("sha256:{}", "b".repeat(64))),
                dry_run: false,
                action: Action::Restarted,
                restarted_at: Some("2026-01-01T00:00:00Z".into()),
                containers: Vec::new(),
            }],
            skipped: vec![Skipped {
                namespace: "openclaw".into(),
                workload: "deployment/held".into(),
                old_digest: None,
                new_digest: None,
                reason: "paused".into(),
                containers: Vec::new(),
            }],
        };
        let text = render_table(&report);
        assert!(text.contains("OLD DIGEST"), "{text}");
        assert!(text.contains("sha256:aaaaaaaaaaaa "), "{text}");
        assert!(text.contains("restarted"), "{text}");
        assert!(text.contains("skipped: paused"), "{text}");
    }

    #[test]
    fn action_serializes_kebab_case() {
        let json = serde_json::to_value(Action::DryRunServer).unwrap();
        assert_eq!(json, "dry-run-server");
    }
}
