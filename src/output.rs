//! Rendering of reports as tables for people and JSON or YAML for programs.

use std::io::{self, IsTerminal, Write};

use comfy_table::{ContentArrangement, Table, presets};
use owo_colors::{OwoColorize, Stream};
use serde::Serialize;

use crate::cli::OutputFormat;
use crate::diagnose::report::Report;

/// Serialises `value` as JSON (pretty, with a final newline) or YAML.
pub fn to_machine_text<T: Serialize>(value: &T, format: OutputFormat) -> anyhow::Result<String> {
    Ok(match format {
        OutputFormat::Yaml => serde_yaml::to_string(value)?,
        _ => {
            let mut text = serde_json::to_string_pretty(value)?;
            text.push('\n');
            text
        }
    })
}

/// Writes `text` to stdout and returns whether all of it was written. A closed
/// pipe (`| head`) is not an error: it returns `Ok(false)`.
pub fn print(text: &str) -> io::Result<bool> {
    let mut stdout = io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(err) => Err(err),
    }
}

/// Escapes control characters from cluster or registry text, so that a pod
/// or event cannot move the cursor or recolour the terminal.
pub fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Maximum table cell width in characters. The JSON output keeps full values.
const MAX_CELL: usize = 100;

fn new_table() -> Table {
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    if io::stdout().is_terminal() {
        table.set_content_arrangement(ContentArrangement::Dynamic);
    } else {
        table.set_content_arrangement(ContentArrangement::Disabled);
    }
    table
}

fn cause_text(cause: &str) -> String {
    format!("{}", cause.if_supports_color(Stream::Stdout, |c| c.red()))
}

fn heading(text: &str) -> String {
    format!("{}", text.if_supports_color(Stream::Stdout, |t| t.bold()))
}

/// Renders the diagnose report for a terminal, grouped by workload.
pub fn render_report_table(report: &Report, show_namespace: bool) -> String {
    let mut out = String::new();
    if report.findings.is_empty() {
        out.push_str("No image pull problems found.\n");
    } else {
        let mut table = new_table();
        let mut header = Vec::new();
        if show_namespace {
            header.push("NAMESPACE");
        }
        header.extend(["WORKLOAD", "POD", "CONTAINER", "IMAGE", "CAUSE"]);
        table.set_header(header);
        for finding in &report.findings {
            let mut row = Vec::new();
            if show_namespace {
                row.push(cell(&finding.namespace, MAX_CELL));
            }
            row.push(cell(finding.workload.as_deref().unwrap_or("-"), MAX_CELL));
            row.push(cell(&finding.pod, MAX_CELL));
            row.push(cell(&finding.container, MAX_CELL));
            row.push(cell(&finding.image, MAX_CELL));
            row.push(cause_text(finding.cause.as_str()));
            table.add_row(row);
        }
        out.push_str(&table.to_string());
        out.push('\n');

        let mut current_group: Option<(String, String)> = None;
        for finding in &report.findings {
            let group = (
                finding.namespace.clone(),
                finding
                    .workload
                    .clone()
                    .unwrap_or_else(|| format!("pod/{}", finding.pod)),
            );
            if current_group.as_ref() != Some(&group) {
                out.push('\n');
                out.push_str(&heading(&format!("{} (namespace {})", group.1, group.0)));
                out.push('\n');
                current_group = Some(group);
            }
            out.push_str(&format!(
                "  {} {} [{}]: {}\n",
                sanitize(&finding.pod),
                sanitize(&finding.container),
                cause_text(finding.cause.as_str()),
                one_line(&finding.message)
            ));
            let evidence = &finding.evidence;
            let detailed = evidence
                .events
                .iter()
                .find(|e| e.reason == "Failed" && crate::diagnose::is_detailed_failure(&e.message));
            if let Some(event) = detailed {
                out.push_str(&format!("    event:    {}\n", one_line(&event.message)));
            } else if let Some(message) = &evidence.waiting_message {
                out.push_str(&format!("    waiting:  {}\n", one_line(message)));
            }
            if let Some(check) = &evidence.registry {
                let answer = match &check.problem {
                    Some(problem) => problem.detail.clone(),
                    None => format!("resolves to {}", check.digest.as_deref().unwrap_or("?")),
                };
                out.push_str(&format!("    registry: {}\n", one_line(&answer)));
                if let Some(credential) = &check.credential {
                    out.push_str(&format!("    login:    {credential}\n"));
                }
            } else if let Some(why) = &evidence.registry_not_checked {
                out.push_str(&format!("    registry: not checked: {why}\n"));
            }
            for secret in evidence.secrets.iter().filter(|s| s.status != "ok") {
                out.push_str(&format!(
                    "    secret:   {} ({}): {}\n",
                    secret.name, secret.referenced_by, secret.status
                ));
            }
            out.push_str(&format!(
                "    {} {}\n",
                "fix:".if_supports_color(Stream::Stdout, |t| t.green()),
                one_line(&finding.fix)
            ));
        }
    }
    let checked = &report.checked;
    out.push_str(&format!(
        "\nChecked {} in {}, {}",
        plural(checked.pods, "pod", "pods") + &format!(" ({} failing)", checked.failing_pods),
        match (checked.namespaces.as_slice(), show_namespace) {
            ([one], false) => format!("namespace {}", sanitize(one)),
            (many, _) => plural(many.len(), "namespace", "namespaces"),
        },
        plural(checked.images, "image", "images")
    ));
    if checked.registries.is_empty() {
        out.push_str(".\n");
    } else {
        let registries: Vec<String> = checked
            .registries
            .iter()
            .map(|r| {
                if r.reachable {
                    let mut text = format!(
                        "{} ({}, auth {})",
                        r.host,
                        r.scheme.as_deref().unwrap_or("?"),
                        r.auth.as_deref().unwrap_or("?")
                    );
                    if let Some(methods) = &r.zot_auth_methods {
                        text.push_str(&format!(", Zot with {}", methods.join("+")));
                    }
                    text
                } else {
                    format!(
                        "{} (unreachable: {})",
                        r.host,
                        r.error.as_deref().unwrap_or("?")
                    )
                }
            })
            .collect();
        out.push_str(&format!(" on {}.\n", registries.join(", ")));
    }
    for warning in &checked.warnings {
        out.push_str(&format!(
            "{} {warning}\n",
            "warning:".if_supports_color(Stream::Stdout, |t| t.yellow())
        ));
    }
    out
}

fn one_line(text: &str) -> String {
    sanitize(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// `1 pod`, `2 pods`.
fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// Cuts a table cell to `max` characters, so one long value cannot widen every row.
fn cell(text: &str, max: usize) -> String {
    let text = sanitize(text);
    if text.chars().count() <= max {
        return text;
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}
