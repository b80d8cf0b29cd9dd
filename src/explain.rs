//! `kubectl zot explain`: the message classifier on its own.

use serde::Serialize;

use crate::cause::Cause;
use crate::classify::classify;

/// Output of `explain -o json`.
#[derive(Debug, Serialize)]
pub struct Explanation {
    pub cause: Cause,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// Every cause the text is compatible with, the chosen one first.
    pub candidates: Vec<Cause>,
    pub meaning: String,
    pub next: String,
}

/// Classifies `message` and suggests what to check next.
pub fn explain(message: &str) -> Explanation {
    let classification = classify(message);
    let image = classification.image.clone();
    let next = next_step(
        classification.cause,
        image.as_deref(),
        classification.registry.as_deref(),
    );
    Explanation {
        cause: classification.cause,
        image,
        registry: classification.registry,
        candidates: classification.candidates,
        meaning: classification.cause.meaning().to_string(),
        next,
    }
}

/// Returns what to check next for `cause`, naming the image and registry when known.
pub fn next_step(cause: Cause, image: Option<&str>, registry: Option<&str>) -> String {
    let image = image.unwrap_or("IMAGE");
    let registry = registry.unwrap_or("REGISTRY");
    let repository = image.split(['@']).next().unwrap_or(image);
    let repository = match repository.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => repository,
    };
    match cause {
        Cause::TagNotFound | Cause::ManifestNotFound => {
            format!("List the tags that exist: skopeo list-tags docker://{repository}")
        }
        Cause::RepositoryNotFound => format!(
            "Check the repository path; skopeo list-tags docker://{repository} tells whether it exists."
        ),
        Cause::DigestNotFound => {
            format!("Resolve the tag you meant: skopeo inspect docker://{repository}:TAG")
        }
        Cause::PlatformNotFound => {
            format!("See which platforms the image has: skopeo inspect --raw docker://{image}")
        }
        Cause::BlobNotFound => {
            format!("Push {image} again; kubectl zot diagnose shows which blob is missing.")
        }
        Cause::CredentialsMissing => format!(
            "Check that the pod lists a pull secret for {registry}: kubectl zot diagnose -n NAMESPACE"
        ),
        Cause::CredentialsRejected => {
            format!("Update the pull secret for {registry} with the current password.")
        }
        Cause::AccessDenied => {
            format!("Check that the login may pull {repository} in the registry.")
        }
        Cause::SecretNotFound => {
            "Create the missing pull secret with kubectl create secret docker-registry.".to_string()
        }
        Cause::SecretInvalid => {
            "Recreate the pull secret as type kubernetes.io/dockerconfigjson.".to_string()
        }
        Cause::SecretHostMismatch => format!("Add an entry for {registry} to the pull secret."),
        Cause::TlsError => {
            format!("Check the certificate of {registry} and whether the nodes trust its CA.")
        }
        Cause::HttpHttpsMismatch => format!(
            "Check whether {registry} serves HTTPS or plain HTTP, and configure the runtime to match."
        ),
        Cause::DnsError => format!("Check that {registry} resolves from the nodes."),
        Cause::RegistryUnreachable => {
            format!("Check that {registry} runs and is reachable from the nodes.")
        }
        Cause::RegistryError => format!("Check the logs and storage of {registry}."),
        Cause::RateLimited => "Wait, authenticate the pulls, or mirror the image.".to_string(),
        Cause::InvalidReference => {
            "Fix the image reference: lowercase repository, valid tag or digest.".to_string()
        }
        Cause::ImageNotPresent => {
            "Load the image onto the node or change imagePullPolicy from Never.".to_string()
        }
        Cause::UnsupportedMediaType => {
            "Push the image as an OCI or Docker schema 2 image.".to_string()
        }
        Cause::ImageAvailableNow => {
            "Wait for the pull back-off or delete the pod to retry now.".to_string()
        }
        Cause::StaleImage => "Restart the workload: kubectl rollout restart TYPE/NAME".to_string(),
        Cause::Unknown => "Run kubectl zot diagnose on the namespace for a live check.".to_string(),
    }
}

/// Renders an explanation for a terminal.
pub fn render_table(explanation: &Explanation) -> String {
    let mut out = format!(
        "cause:    {}\nmeaning:  {}\n",
        explanation.cause, explanation.meaning
    );
    if let Some(image) = &explanation.image {
        out.push_str(&format!("image:    {image}\n"));
    }
    if let Some(registry) = &explanation.registry {
        out.push_str(&format!("registry: {registry}\n"));
    }
    let others: Vec<&str> = explanation
        .candidates
        .iter()
        .filter(|c| **c != explanation.cause)
        .map(|c| c.as_str())
        .collect();
    if !others.is_empty() {
        out.push_str(&format!(
            "also possible: {} (the text alone cannot tell; kubectl zot diagnose asks the registry)\n",
            others.join(", ")
        ));
    }
    out.push_str(&format!("next:     {}\n", explanation.next));
    out
}
