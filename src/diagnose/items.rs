//! The images of a pod, with the state the kubelet reports for each.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};

/// Location of an image in the pod spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Container,
    InitContainer,
    EphemeralContainer,
    ImageVolume,
}

impl ItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemKind::Container => "container",
            ItemKind::InitContainer => "initContainer",
            ItemKind::EphemeralContainer => "ephemeralContainer",
            ItemKind::ImageVolume => "imageVolume",
        }
    }

    /// Returns the field path kubelet events use for this kind, e.g. `spec.containers{web}`.
    pub fn field_path(self, name: &str) -> String {
        match self {
            ItemKind::Container => format!("spec.containers{{{name}}}"),
            ItemKind::InitContainer => format!("spec.initContainers{{{name}}}"),
            ItemKind::EphemeralContainer => format!("spec.ephemeralContainers{{{name}}}"),
            ItemKind::ImageVolume => format!("spec.volumes{{{name}}}"),
        }
    }
}

/// One image use in a pod.
#[derive(Clone, Debug)]
pub struct ImageItem {
    pub kind: ItemKind,
    pub name: String,
    pub image: String,
    pub pull_policy: Option<String>,
    pub waiting_reason: Option<String>,
    pub waiting_message: Option<String>,
    /// Digest from the status `imageID` of a started container.
    pub running_digest: Option<String>,
    pub running: bool,
}

impl ImageItem {
    pub fn is_crash_looping(&self) -> bool {
        self.waiting_reason.as_deref() == Some("CrashLoopBackOff")
    }

    pub fn is_pull_failing(&self) -> bool {
        self.waiting_reason
            .as_deref()
            .is_some_and(|reason| super::verdict::PULL_WAITING_REASONS.contains(&reason))
    }
}

/// Extracts `sha256:...` from an `imageID` such as `reg/app@sha256:...` or `docker-pullable://...`.
pub fn digest_of_image_id(image_id: &str) -> Option<String> {
    let (_, digest) = image_id.rsplit_once('@')?;
    digest.starts_with("sha256:").then(|| digest.to_string())
}

fn status_for<'a>(
    statuses: Option<&'a Vec<ContainerStatus>>,
    name: &str,
) -> Option<&'a ContainerStatus> {
    statuses?.iter().find(|s| s.name == name)
}

fn item_from(
    kind: ItemKind,
    name: &str,
    image: &str,
    pull_policy: Option<&String>,
    status: Option<&ContainerStatus>,
) -> ImageItem {
    let state = status.and_then(|s| s.state.as_ref());
    let waiting = state.and_then(|s| s.waiting.as_ref());
    let running = state.is_some_and(|s| s.running.is_some());
    let running_digest = status
        .filter(|_| running || state.is_some_and(|s| s.terminated.is_none()))
        .and_then(|s| digest_of_image_id(&s.image_id));
    ImageItem {
        kind,
        name: name.to_string(),
        image: image.to_string(),
        pull_policy: pull_policy.cloned(),
        waiting_reason: waiting.and_then(|w| w.reason.clone()),
        waiting_message: waiting.and_then(|w| w.message.clone()),
        running_digest,
        running,
    }
}

/// Lists every image the pod uses: containers, init and ephemeral containers, image volumes.
pub fn pod_items(pod: &Pod) -> Vec<ImageItem> {
    let Some(spec) = &pod.spec else {
        return Vec::new();
    };
    let status = pod.status.as_ref();
    let mut items = Vec::new();
    for container in &spec.containers {
        let s = status_for(
            status.and_then(|s| s.container_statuses.as_ref()),
            &container.name,
        );
        items.push(item_from(
            ItemKind::Container,
            &container.name,
            container.image.as_deref().unwrap_or_default(),
            container.image_pull_policy.as_ref(),
            s,
        ));
    }
    for container in spec.init_containers.iter().flatten() {
        let s = status_for(
            status.and_then(|s| s.init_container_statuses.as_ref()),
            &container.name,
        );
        items.push(item_from(
            ItemKind::InitContainer,
            &container.name,
            container.image.as_deref().unwrap_or_default(),
            container.image_pull_policy.as_ref(),
            s,
        ));
    }
    for container in spec.ephemeral_containers.iter().flatten() {
        let s = status_for(
            status.and_then(|s| s.ephemeral_container_statuses.as_ref()),
            &container.name,
        );
        items.push(item_from(
            ItemKind::EphemeralContainer,
            &container.name,
            container.image.as_deref().unwrap_or_default(),
            container.image_pull_policy.as_ref(),
            s,
        ));
    }
    for volume in spec.volumes.iter().flatten() {
        if let Some(image) = &volume.image {
            items.push(ImageItem {
                kind: ItemKind::ImageVolume,
                name: volume.name.clone(),
                image: image.reference.clone().unwrap_or_default(),
                pull_policy: image.pull_policy.clone(),
                waiting_reason: None,
                waiting_message: None,
                running_digest: None,
                running: false,
            });
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_is_taken_from_image_ids() {
        let digest = format!("sha256:{}", "b".repeat(64));
        assert_eq!(
            digest_of_image_id(&format!("reg.test/app@{digest}")),
            Some(digest.clone())
        );
        assert_eq!(
            digest_of_image_id(&format!("docker-pullable://app@{digest}")),
            Some(digest)
        );
        assert_eq!(digest_of_image_id("sha256:abc"), None);
        assert_eq!(digest_of_image_id(""), None);
    }

    #[test]
    fn items_cover_every_image_location() {
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "n"},
            "spec": {
                "containers": [{"name": "app", "image": "reg.test/app:1"}],
                "initContainers": [{"name": "init", "image": "reg.test/init:1"}],
                "ephemeralContainers": [{"name": "debug", "image": "reg.test/debug:1"}],
                "volumes": [{"name": "data", "image": {"reference": "reg.test/data:1", "pullPolicy": "Always"}}]
            },
            "status": {
                "containerStatuses": [{
                    "name": "app", "image": "reg.test/app:1", "imageID": "", "ready": false,
                    "restartCount": 0,
                    "state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}
                }]
            }
        }))
        .unwrap();
        let items = pod_items(&pod);
        let kinds: Vec<_> = items.iter().map(|i| (i.kind, i.image.as_str())).collect();
        assert_eq!(
            kinds,
            [
                (ItemKind::Container, "reg.test/app:1"),
                (ItemKind::InitContainer, "reg.test/init:1"),
                (ItemKind::EphemeralContainer, "reg.test/debug:1"),
                (ItemKind::ImageVolume, "reg.test/data:1"),
            ]
        );
        assert!(items[0].is_pull_failing());
        assert_eq!(items[3].pull_policy.as_deref(), Some("Always"));
    }
}
