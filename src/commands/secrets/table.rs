//! The `secrets` report as text for a terminal.

use super::report::{SecretReport, SecretsReport};
use crate::output::sanitize;

/// Renders the report: one block per secret, then uncovered images and
/// warnings. Every text from the cluster or a registry is sanitised.
pub fn render(report: &SecretsReport, show_namespace: bool) -> String {
    let mut out = String::new();
    if report.secrets.is_empty() {
        out.push_str("No pull secrets found.\n");
    }
    for secret in &report.secrets {
        render_secret(&mut out, secret, show_namespace);
    }
    if let Some(images) = &report.uncovered_images {
        if images.is_empty() {
            out.push_str("\nEvery image is covered by a pull secret of its pod.\n");
        } else {
            out.push_str("\nImages that no pull secret of their pod covers:\n");
        }
        for image in images {
            let namespace = if show_namespace {
                format!(" (namespace {})", sanitize(&image.namespace))
            } else {
                String::new()
            };
            out.push_str(&format!(
                "  {}{namespace}, pods {}\n    fix: {}\n",
                sanitize(&image.image),
                sanitize(&image.pods.join(", ")),
                sanitize(&image.fix)
            ));
        }
    }
    for warning in &report.warnings {
        out.push_str(&format!("warning: {}\n", sanitize(warning)));
    }
    out
}

fn render_secret(out: &mut String, secret: &SecretReport, show_namespace: bool) {
    let name = if show_namespace {
        format!("{}/{}", secret.namespace, secret.name)
    } else {
        secret.name.clone()
    };
    let login_failed = secret
        .entries
        .iter()
        .filter_map(|entry| entry.login.as_ref())
        .any(|login| login.is_failure());
    let state = if !secret.problems.is_empty() {
        "problems"
    } else if login_failed {
        "login failed"
    } else {
        "ok"
    };
    out.push_str(&format!(
        "{} ({}): {state}\n",
        sanitize(&name),
        sanitize(secret.type_name.as_deref().unwrap_or("not found"))
    ));
    for problem in &secret.problems {
        out.push_str(&format!(
            "  problem [{}]: {}\n",
            problem.cause,
            one_line(&problem.message)
        ));
    }
    for entry in &secret.entries {
        let normalized = match &entry.normalized {
            Some(key) if key == &entry.registry => String::new(),
            Some(key) => format!(" (kubelet key {})", sanitize(key)),
            None => " (skipped by the kubelet)".to_string(),
        };
        out.push_str(&format!(
            "  entry {}{normalized}: user {}, fields {}",
            sanitize(&entry.registry),
            sanitize(entry.username.as_deref().unwrap_or("-")),
            if entry.fields.is_empty() {
                "none".to_string()
            } else {
                entry.fields.join(", ")
            }
        ));
        if let Some(password) = &entry.password {
            out.push_str(&format!(", password {}", sanitize(password)));
        }
        out.push('\n');
        if let Some(login) = &entry.login {
            out.push_str(&format!(
                "    login: {}: {}\n",
                login.status,
                one_line(&login.detail)
            ));
        }
    }
    let used_by = &secret.used_by;
    if !used_by.service_accounts.is_empty() {
        out.push_str(&format!(
            "  serviceaccounts: {}\n",
            sanitize(&used_by.service_accounts.join(", "))
        ));
    }
    if used_by.pods.is_empty() {
        out.push_str("  pods: none list it\n");
    } else {
        out.push_str(&format!("  pods: {}\n", sanitize(&used_by.pods.join(", "))));
    }
    if !used_by.pods_missing_it.is_empty() {
        out.push_str(&format!(
            "  pods of those serviceaccounts that list no pull secret, so the kubelet does \
             not use it for them (re-create them): {}\n",
            sanitize(&used_by.pods_missing_it.join(", "))
        ));
    }
    for image in &used_by.images {
        let choice = match (&image.entry, &image.reason) {
            (Some(entry), None) => format!("entry {}", sanitize(entry)),
            (Some(entry), Some(reason)) => {
                format!("entry {}, but {}", sanitize(entry), one_line(reason))
            }
            (None, Some(reason)) => format!("no entry: {}", one_line(reason)),
            (None, None) => "no entry".to_string(),
        };
        out.push_str(&format!("  image {}: {choice}\n", sanitize(&image.image)));
    }
}

fn one_line(text: &str) -> String {
    sanitize(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}
