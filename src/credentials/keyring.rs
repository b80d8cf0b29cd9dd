//! The kubelet's credential keyring: which pull-secret entries it tries for
//! an image, and in which order.
//!
//! Ported from `BasicDockerKeyring` in k8s.io/kubernetes
//! pkg/credentialprovider/keyring.go. Entries are filed under the key from
//! [`AuthEntry::normalized`], and the index of keys is sorted in reverse
//! byte order so that `quay.io/coreos` comes before `quay.io`. A lookup
//! returns the credentials of every key that matches, in index order. Only
//! when no key matches and the image is a Docker Hub name does the kubelet
//! fall back to the entries filed under `index.docker.io`.
//!
//! The kubelet builds one keyring from the pod's pull secrets, in the order
//! the pod lists them, and appends the results of the node's own keyring.
//! [`lookup_union`] joins keyrings that way.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;

use super::credential::Credential;
use super::dockerconfig::{AuthEntry, DecodedSecret};
use super::urlmatch::{self, BadPattern};

/// Key under which the kubelet looks for Docker Hub credentials when no
/// key matched a Docker Hub image.
const DOCKER_HUB_FALLBACK_KEY: &str = "index.docker.io";

/// Hosts that serve Docker Hub but that the kubelet never matches to a
/// Docker Hub image name.
const DOCKER_HUB_OTHER_HOSTS: [&str; 2] = ["registry-1.docker.io", "registry.hub.docker.com"];

/// Pull-secret entries indexed the way the kubelet indexes them.
#[derive(Clone, Debug, Default)]
pub struct Keyring {
    /// Distinct keys in reverse byte order, the kubelet's lookup order.
    index: Vec<String>,
    /// Entries per key, in the order they were added.
    entries: HashMap<String, Vec<Stored>>,
}

#[derive(Clone, Debug)]
struct Stored {
    source: String,
    entry: AuthEntry,
}

/// One entry the kubelet would try for an image.
#[derive(Clone, Debug, Serialize)]
pub struct Match {
    /// Source of the entry as given to [`Keyring::add`], for example
    /// `namespace/name` of a secret.
    pub source: String,
    /// Registry key of the entry as written in the secret.
    pub key: String,
    /// Kubelet key the entry is filed under.
    pub normalized: String,
    /// Whether the entry matched only through the kubelet's Docker Hub
    /// fallback to `index.docker.io`.
    pub docker_hub_fallback: bool,
    /// Credential the kubelet sends for this entry, from
    /// [`AuthEntry::kubelet_credential`]. `None` means the runtime tries the
    /// pull without credentials.
    pub credential: Option<Credential>,
    pub entry: AuthEntry,
}

impl Keyring {
    /// Creates an empty keyring.
    pub fn new() -> Self {
        Keyring::default()
    }

    /// Adds `entries` from `source`, as the kubelet's `Add` does. Entries
    /// whose key the kubelet rejects (`normalized` is `None`) are skipped.
    ///
    /// The caller decides which secrets the kubelet reads at all; use
    /// [`Keyring::add_secret`] to apply the kubelet's own rule.
    ///
    /// NOTE: when one secret has two keys that normalise alike (`r.io` and
    /// `https://r.io/v2/`), the kubelet orders their entries by Go map
    /// iteration, which is random. This keeps document order.
    pub fn add(&mut self, source: &str, entries: &[AuthEntry]) {
        for entry in entries {
            let Some(key) = entry.normalized.clone() else {
                continue;
            };
            if !self.entries.contains_key(&key) {
                self.index.push(key.clone());
            }
            self.entries.entry(key).or_default().push(Stored {
                source: source.to_string(),
                entry: entry.clone(),
            });
        }
        self.index.sort_unstable_by(|a, b| b.cmp(a));
    }

    /// Adds a decoded secret if the kubelet would use it: the kubelet reads
    /// its type and key, and its decoder accepts it. Returns whether the
    /// secret was added.
    ///
    /// A secret that the decoder rejects is not added, because the kubelet
    /// then fails the pull before any lookup (see
    /// [`DecodedSecret::unparsable`]).
    pub fn add_secret(&mut self, source: &str, secret: &DecodedSecret) -> bool {
        if !secret.kubelet_reads || secret.unparsable().is_some() {
            return false;
        }
        self.add(source, &secret.entries);
        true
    }

    /// Returns whether the keyring has no entries.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Returns the kubelet keys in lookup order.
    pub fn keys(&self) -> &[String] {
        &self.index
    }

    /// Returns every entry the kubelet tries for `image`, in the order it
    /// tries them. `image` is the normalised repository name without tag or
    /// digest (`docker.io/library/nginx`, `host:5000/team/app`), as
    /// [`super::normalize_image`] returns it.
    pub fn lookup(&self, image: &str) -> Vec<Match> {
        let mut found = Vec::new();
        for key in &self.index {
            if urlmatch::urls_match(key, image) {
                self.push_matches(key, false, &mut found);
            }
        }
        if found.is_empty() && urlmatch::is_default_registry_match(image) {
            self.push_matches(DOCKER_HUB_FALLBACK_KEY, true, &mut found);
        }
        found
    }

    fn push_matches(&self, key: &str, docker_hub_fallback: bool, found: &mut Vec<Match>) {
        for stored in self.entries.get(key).into_iter().flatten() {
            found.push(Match {
                source: stored.source.clone(),
                key: stored.entry.key.clone(),
                normalized: key.to_string(),
                docker_hub_fallback,
                credential: stored.entry.kubelet_credential(),
                entry: stored.entry.clone(),
            });
        }
    }
}

/// Returns the matches of every keyring for `image`, one keyring after the
/// other, as the kubelet's `UnionDockerKeyring` does.
pub fn lookup_union(keyrings: &[&Keyring], image: &str) -> Vec<Match> {
    keyrings
        .iter()
        .flat_map(|keyring| keyring.lookup(image))
        .collect()
}

/// Reason a registry key does not match an image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum MismatchReason {
    /// The kubelet rejects the key and skips the entry.
    InvalidKey { key: String, error: String },
    /// The key names a Docker Hub host that the kubelet does not treat as
    /// Docker Hub.
    DockerHubHost { key: String, host: String },
    /// The hosts have a different number of dot-separated labels.
    LabelCountDiffers {
        key_host: String,
        image_host: String,
    },
    /// A label of the key does not match the image's label.
    HostDiffers {
        key_host: String,
        image_host: String,
        /// The hosts are equal apart from letter case.
        case_only: bool,
    },
    /// A label of the key is a malformed glob, which matches nothing.
    InvalidGlob { key_host: String, label: String },
    /// The ports differ, counting "no port" as a value of its own.
    PortDiffers {
        key: String,
        key_port: Option<String>,
        image_port: Option<String>,
    },
    /// The key's path is not a prefix of the image's path.
    PathNotPrefix {
        key_path: String,
        image_path: String,
    },
}

impl fmt::Display for MismatchReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MismatchReason::InvalidKey { key, error } => {
                write!(
                    f,
                    "the kubelet skips key {key:?} because it is not a valid host ({error})"
                )
            }
            MismatchReason::DockerHubHost { key, host } => write!(
                f,
                "key {key:?} is for {host}, which serves Docker Hub, but the kubelet matches \
                 Docker Hub images only with the keys docker.io, index.docker.io or \
                 https://index.docker.io/v1/"
            ),
            MismatchReason::LabelCountDiffers {
                key_host,
                image_host,
            } => write!(
                f,
                "the entry is for {key_host} but the image is on {image_host}, and the kubelet \
                 matches hosts label by label, so a * covers exactly one label"
            ),
            MismatchReason::HostDiffers {
                key_host,
                image_host,
                case_only,
            } => {
                write!(
                    f,
                    "the entry is for {key_host} but the image is on {image_host}"
                )?;
                if *case_only {
                    f.write_str(", and the kubelet compares host names case-sensitively")?;
                }
                Ok(())
            }
            MismatchReason::InvalidGlob { key_host, label } => write!(
                f,
                "label {label:?} of key host {key_host} is a malformed glob pattern, so the \
                 kubelet matches no image with it"
            ),
            MismatchReason::PortDiffers {
                key,
                key_port,
                image_port,
            } => write!(
                f,
                "the entry is for {key} with {} but the image uses {}, and the kubelet requires \
                 the same port as written (a missing port is not :443 or any other port)",
                describe_port(key_port),
                describe_port(image_port)
            ),
            MismatchReason::PathNotPrefix {
                key_path,
                image_path,
            } => write!(
                f,
                "the entry is for the path {key_path} but the image path {image_path} does not \
                 start with it"
            ),
        }
    }
}

fn describe_port(port: &Option<String>) -> String {
    match port {
        Some(port) => format!("port {port}"),
        None => "no port".to_string(),
    }
}

/// Explains why the kubelet does not use the entry written as `key` for
/// `image` (a normalised repository name), or returns `Ok(())` when it
/// would. A key filed under `index.docker.io` counts as matching a Docker
/// Hub image through the fallback, although the kubelet uses that fallback
/// only when no other key matched.
pub fn match_explanation(key: &str, image: &str) -> Result<(), MismatchReason> {
    let normalized = urlmatch::kubelet_key(key).map_err(|error| MismatchReason::InvalidKey {
        key: key.to_string(),
        error,
    })?;
    if urlmatch::urls_match(&normalized, image) {
        return Ok(());
    }
    if normalized == DOCKER_HUB_FALLBACK_KEY && urlmatch::is_default_registry_match(image) {
        return Ok(());
    }

    let (Ok(key_url), Ok(image_url)) = (
        urlmatch::parse_schemeless(&normalized),
        urlmatch::parse_schemeless(image),
    ) else {
        // The image name itself does not parse, so no key can match it.
        return Err(MismatchReason::HostDiffers {
            key_host: normalized,
            image_host: image.to_string(),
            case_only: false,
        });
    };
    let (key_labels, key_port) = urlmatch::split_host(&key_url.host);
    let (image_labels, image_port) = urlmatch::split_host(&image_url.host);
    let key_host = key_labels.join(".");
    let image_host = image_labels.join(".");

    let image_on_docker_hub = image_host == "docker.io";
    if image_on_docker_hub && DOCKER_HUB_OTHER_HOSTS.contains(&key_host.as_str()) {
        return Err(MismatchReason::DockerHubHost {
            key: key.to_string(),
            host: key_host,
        });
    }
    if key_labels.len() != image_labels.len() {
        return Err(MismatchReason::LabelCountDiffers {
            key_host,
            image_host,
        });
    }
    for (pattern, label) in key_labels.iter().zip(&image_labels) {
        match urlmatch::glob_match(pattern, label) {
            Ok(true) => {}
            Ok(false) => {
                return Err(MismatchReason::HostDiffers {
                    case_only: key_host.eq_ignore_ascii_case(&image_host),
                    key_host,
                    image_host,
                });
            }
            Err(BadPattern) => {
                return Err(MismatchReason::InvalidGlob {
                    key_host,
                    label: pattern.clone(),
                });
            }
        }
    }
    if key_port != image_port {
        let non_empty = |port: String| Some(port).filter(|port| !port.is_empty());
        return Err(MismatchReason::PortDiffers {
            key: key_url.host,
            key_port: non_empty(key_port),
            image_port: non_empty(image_port),
        });
    }
    Err(MismatchReason::PathNotPrefix {
        key_path: key_url.path,
        image_path: image_url.path,
    })
}
