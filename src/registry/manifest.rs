//! The fields of image manifests and indexes that the checks and `inspect` read.
//!
//! Hand-written instead of oci-client's manifest types, which require fields that
//! Docker manifest lists and hostile registries leave out; every field here is
//! optional or defaulted, so a partial body still parses.

use oci_client::manifest::{OCI_IMAGE_INDEX_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE};
use serde::Deserialize;

use super::client::FetchedManifest;
use super::platform::Platform;

/// A content descriptor: a manifest of an index, a config or a layer.
#[derive(Debug, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    pub digest: String,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub platform: Option<DescriptorPlatform>,
}

/// The platform of an index entry.
#[derive(Debug, Deserialize)]
pub struct DescriptorPlatform {
    pub os: String,
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl DescriptorPlatform {
    /// Converts to a normalised [`Platform`].
    pub fn to_platform(&self) -> Platform {
        Platform::new(&self.os, &self.architecture, self.variant.as_deref())
    }
}

/// An image manifest or index body.
#[derive(Debug, Deserialize)]
pub struct ManifestBody {
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    #[serde(default)]
    pub manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    pub config: Option<Descriptor>,
    #[serde(default)]
    pub layers: Option<Vec<Descriptor>>,
}

/// Returns the media type from the body when present, else from the Content-Type header,
/// else the OCI type the body's shape implies.
pub fn effective_media_type(manifest: &FetchedManifest, body: &ManifestBody) -> String {
    match &body.media_type {
        Some(media_type) if !media_type.is_empty() => media_type.clone(),
        _ if body.manifests.is_some() && manifest.media_type.is_empty() => {
            OCI_IMAGE_INDEX_MEDIA_TYPE.to_string()
        }
        _ if body.config.is_some() && manifest.media_type.is_empty() => {
            OCI_IMAGE_MEDIA_TYPE.to_string()
        }
        _ => manifest.media_type.clone(),
    }
}
