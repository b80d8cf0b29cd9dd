//! Classifies runtime, kubelet and registry error texts into a [`Cause`].
//!
//! The input is whatever text the cluster or a tool printed: a kubelet event,
//! a container's waiting message, a containerd, CRI-O, Docker, skopeo, crane
//! or podman error, or a CI log excerpt with several lines. The classifier
//! works on the text alone and does no I/O. Where the text cannot tell causes
//! apart (containerd's bare "not found", Docker's "pull access denied"), the
//! result lists every compatible cause in `candidates`, and the registry
//! checks and pull secrets decide between them.
//!
//! Rules live in [`rules`], ordered so that the most specific evidence wins:
//! an x509 error inside "failed to resolve reference" is a TLS error, and a
//! 401 inside "failed to copy" is about credentials, not a missing blob.

mod extract;
mod rules;

#[cfg(test)]
mod tests;

use serde::Serialize;

use crate::cause::Cause;

/// Cause, image and registry that an error text names for a failed pull.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    /// Best single cause from the text alone.
    pub cause: Cause,
    /// Every cause the text is compatible with, `cause` first.
    pub candidates: Vec<Cause>,
    /// Image reference named in the text, as written there. containers/image's
    /// "reading manifest TAG in REPO" gives `REPO:TAG`, or `REPO@DIGEST`.
    pub image: Option<String>,
    /// Registry host, with port when given, of `image` or of the request the
    /// text names.
    pub registry: Option<String>,
    /// HTTP status named in the text.
    pub http_status: Option<u16>,
    /// Short phrase of the text that decided `cause`.
    pub detail: Option<String>,
}

/// Maximum length of [`Classification::detail`], in characters.
const MAX_DETAIL_CHARS: usize = 120;

/// Classifies one error text, which may span several lines.
pub fn classify(message: &str) -> Classification {
    let text = unescape(message);
    let statuses = extract::http_statuses(&text);
    let image = extract::image(&text);
    let registry = image
        .as_deref()
        .map(extract::registry_of_image)
        .or_else(|| extract::registry_in_text(&text));

    let hits = rules::find_hits(&text, &statuses);
    let Some(winner) = hits.first() else {
        return Classification {
            cause: Cause::Unknown,
            candidates: vec![Cause::Unknown],
            image,
            registry,
            http_status: statuses.first().map(|s| s.code),
            detail: None,
        };
    };

    // A "not found" rule decides between tag and digest from the reference
    // the rule captured, else from the image the text names, else from the
    // manifest URL in the text.
    let reference = winner
        .reference
        .clone()
        .or_else(|| image.clone())
        .or_else(|| extract::manifest_reference_in_url(&text));
    let outcome = winner.outcome(reference.as_deref());

    let mut candidates = outcome.to_vec();
    let mut covered = vec![winner.span.clone()];
    for hit in &hits[1..] {
        if covered.iter().any(|span| overlaps(span, &hit.span)) {
            continue;
        }
        covered.push(hit.span.clone());
        let cause = hit.outcome(reference.as_deref())[0];
        if cause != Cause::Unknown && !candidates.contains(&cause) {
            candidates.push(cause);
        }
    }

    let http_status = statuses
        .iter()
        .find(|s| overlaps(&s.span, &winner.span))
        .or(statuses.first())
        .map(|s| s.code);

    Classification {
        cause: outcome[0],
        candidates,
        image,
        registry,
        http_status,
        detail: Some(shorten(&winner.detail)),
    }
}

/// Removes the backslash escapes that Go's `%q`, logrus and klog add when an
/// error is quoted inside another message, so `\"` reads as `"` again.
fn unescape(message: &str) -> String {
    let mut text = message.to_string();
    // A message quoted twice contains `\\\"`, and each pass removes one level.
    for _ in 0..4 {
        let next = text.replace("\\\\", "\\").replace("\\\"", "\"");
        if next == text {
            break;
        }
        text = next;
    }
    text.replace("\\n", "\n")
}

fn overlaps(a: &std::ops::Range<usize>, b: &std::ops::Range<usize>) -> bool {
    a.start < b.end && b.start < a.end
}

fn shorten(phrase: &str) -> String {
    let phrase = phrase.trim();
    if phrase.chars().count() <= MAX_DETAIL_CHARS {
        return phrase.to_string();
    }
    let cut: String = phrase.chars().take(MAX_DETAIL_CHARS - 3).collect();
    format!("{}...", cut.trim_end())
}
