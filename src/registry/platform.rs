//! Platforms (os/architecture/variant) and how containerd matches them.

use std::fmt;

use serde::Serialize;

/// An OS and CPU architecture, as image indexes and nodes describe them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// Builds a normalised platform (`x86_64` is `amd64`, `aarch64` is `arm64`).
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Platform {
        let os = os.to_ascii_lowercase();
        let (architecture, implied_variant) = match architecture.to_ascii_lowercase().as_str() {
            "x86_64" | "x86-64" => ("amd64".to_string(), None),
            "aarch64" => ("arm64".to_string(), None),
            "armhf" => ("arm".to_string(), Some("v7")),
            "armel" => ("arm".to_string(), Some("v6")),
            "i386" | "i686" => ("386".to_string(), None),
            other => (other.to_string(), None),
        };
        let variant = variant
            .filter(|v| !v.is_empty())
            .map(str::to_ascii_lowercase)
            .or(implied_variant.map(str::to_string));
        Platform {
            os,
            architecture,
            variant,
        }
    }

    /// Parses `os/arch[/variant]`.
    pub fn parse(text: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(Platform::new(os, arch, None)),
            [os, arch, variant] if !os.is_empty() && !arch.is_empty() && !variant.is_empty() => {
                Ok(Platform::new(os, arch, Some(variant)))
            }
            _ => Err(format!(
                "invalid platform {text:?}: expected os/arch or os/arch/variant"
            )),
        }
    }

    /// The variant containerd assumes when none is given.
    fn effective_variant(&self) -> Option<&str> {
        match (self.architecture.as_str(), self.variant.as_deref()) {
            ("arm64", None) => Some("v8"),
            ("arm", None) => Some("v7"),
            (_, variant) => variant,
        }
    }

    /// Whether a node of platform `self` can run an image built for `image`,
    /// following containerd's default matcher: same OS and architecture, and for
    /// 32-bit arm an image variant no newer than the node's.
    pub fn accepts(&self, image: &Platform) -> bool {
        if self.os != image.os || self.architecture != image.architecture {
            return false;
        }
        match (self.effective_variant(), image.effective_variant()) {
            (Some(node), Some(image)) if self.architecture == "arm" => {
                arm_version(image) <= arm_version(node)
            }
            (node, image) => node == image || image.is_none(),
        }
    }
}

fn arm_version(variant: &str) -> u32 {
    variant.trim_start_matches('v').parse().unwrap_or(0)
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_accepts_matching_images() {
        let cases = [
            ("linux/amd64", "linux/amd64", true),
            ("linux/amd64", "linux/arm64/v8", false),
            ("linux/arm64", "linux/arm64/v8", true),
            ("linux/arm64", "linux/arm64", true),
            ("linux/arm64/v8", "linux/arm64", true),
            ("linux/arm/v7", "linux/arm/v6", true),
            ("linux/arm/v6", "linux/arm/v7", false),
            ("linux/amd64", "windows/amd64", false),
        ];
        for (node, image, expected) in cases {
            let node_platform = Platform::parse(node).unwrap();
            let image_platform = Platform::parse(image).unwrap();
            assert_eq!(
                node_platform.accepts(&image_platform),
                expected,
                "node {node} image {image}"
            );
        }
    }

    #[test]
    fn kernel_architecture_names_are_normalised() {
        assert_eq!(
            Platform::new("Linux", "x86_64", None).to_string(),
            "linux/amd64"
        );
        assert_eq!(
            Platform::new("linux", "aarch64", None).to_string(),
            "linux/arm64"
        );
    }

    #[test]
    fn parse_rejects_bad_platforms() {
        for text in ["linux", "linux/", "/amd64", "a/b/c/d", ""] {
            assert!(Platform::parse(text).is_err(), "{text:?}");
        }
    }
}
