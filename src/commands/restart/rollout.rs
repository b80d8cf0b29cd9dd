//! Rollout progress of a restarted workload, judged from its status with the rules and messages
//! of `kubectl rollout status` (k8s.io/kubectl pkg/polymorphichelpers/rollout_status.go).

use serde_json::Value;

use super::target::WorkloadKind;

/// The state of a rollout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RolloutState {
    /// Still in progress. The message names what it waits for.
    Waiting(String),
    /// Every replica runs the new template and is ready.
    Done(String),
    /// It cannot finish, or cannot be followed (e.g. the OnDelete strategy).
    Failed(String),
}

/// Judges the rollout of the workload `name` from its `metadata.generation` and its
/// `spec`/`status` (the object's JSON without metadata).
pub fn rollout_state(
    kind: WorkloadKind,
    name: &str,
    generation: i64,
    data: &Value,
) -> RolloutState {
    let spec = &data["spec"];
    let status = &data["status"];
    let number = |value: &Value, field: &str| value[field].as_i64().unwrap_or(0);
    let observed = number(status, "observedGeneration");
    match kind {
        WorkloadKind::Deployment => {
            if generation > observed {
                return RolloutState::Waiting(
                    "Waiting for deployment spec update to be observed...".into(),
                );
            }
            let deadline_exceeded = status["conditions"].as_array().is_some_and(|conditions| {
                conditions.iter().any(|c| {
                    c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded"
                })
            });
            if deadline_exceeded {
                return RolloutState::Failed(format!(
                    "deployment {name:?} exceeded its progress deadline"
                ));
            }
            let updated = number(status, "updatedReplicas");
            let replicas = number(status, "replicas");
            let available = number(status, "availableReplicas");
            if let Some(wanted) = spec["replicas"].as_i64()
                && updated < wanted
            {
                return RolloutState::Waiting(format!(
                    "Waiting for deployment {name:?} rollout to finish: {updated} out of \
                     {wanted} new replicas have been updated..."
                ));
            }
            if replicas > updated {
                return RolloutState::Waiting(format!(
                    "Waiting for deployment {name:?} rollout to finish: {} old replicas are \
                     pending termination...",
                    replicas - updated
                ));
            }
            if available < updated {
                return RolloutState::Waiting(format!(
                    "Waiting for deployment {name:?} rollout to finish: {available} of \
                     {updated} updated replicas are available..."
                ));
            }
            RolloutState::Done(format!("deployment {name:?} successfully rolled out"))
        }
        WorkloadKind::DaemonSet => {
            let strategy = spec["updateStrategy"]["type"]
                .as_str()
                .unwrap_or("RollingUpdate");
            if strategy != "RollingUpdate" {
                return RolloutState::Failed(format!(
                    "daemon set {name:?} uses the {strategy} strategy; its rollout can only be \
                     followed with RollingUpdate"
                ));
            }
            if generation > observed {
                return RolloutState::Waiting(
                    "Waiting for daemon set spec update to be observed...".into(),
                );
            }
            let desired = number(status, "desiredNumberScheduled");
            let updated = number(status, "updatedNumberScheduled");
            let available = number(status, "numberAvailable");
            if updated < desired {
                return RolloutState::Waiting(format!(
                    "Waiting for daemon set {name:?} rollout to finish: {updated} out of \
                     {desired} new pods have been updated..."
                ));
            }
            if available < desired {
                return RolloutState::Waiting(format!(
                    "Waiting for daemon set {name:?} rollout to finish: {available} of \
                     {desired} updated pods are available..."
                ));
            }
            RolloutState::Done(format!("daemon set {name:?} successfully rolled out"))
        }
        WorkloadKind::StatefulSet => {
            let strategy = spec["updateStrategy"]["type"]
                .as_str()
                .unwrap_or("RollingUpdate");
            if strategy != "RollingUpdate" {
                return RolloutState::Failed(format!(
                    "statefulset {name:?} uses the {strategy} strategy; its rollout can only be \
                     followed with RollingUpdate"
                ));
            }
            if observed == 0 || generation > observed {
                return RolloutState::Waiting(
                    "Waiting for statefulset spec update to be observed...".into(),
                );
            }
            let ready = number(status, "readyReplicas");
            let updated = number(status, "updatedReplicas");
            let wanted = spec["replicas"].as_i64();
            if let Some(wanted) = wanted
                && ready < wanted
            {
                return RolloutState::Waiting(format!(
                    "Waiting for {} pods to be ready...",
                    wanted - ready
                ));
            }
            // As kubectl does: with a rollingUpdate block (the API server defaults one), the
            // rollout is done once the replicas above the partition are updated.
            let rolling_update = &spec["updateStrategy"]["rollingUpdate"];
            if rolling_update.is_object() {
                if let (Some(wanted), Some(partition)) =
                    (wanted, rolling_update["partition"].as_i64())
                    && updated < wanted - partition
                {
                    return RolloutState::Waiting(format!(
                        "Waiting for partitioned roll out to finish: {updated} out of {} new \
                         pods have been updated...",
                        wanted - partition
                    ));
                }
                return RolloutState::Done(format!(
                    "partitioned roll out complete: {updated} new pods have been updated..."
                ));
            }
            let update_revision = status["updateRevision"].as_str().unwrap_or_default();
            let current_revision = status["currentRevision"].as_str().unwrap_or_default();
            if update_revision != current_revision {
                return RolloutState::Waiting(format!(
                    "waiting for statefulset rolling update to complete {updated} pods at \
                     revision {update_revision}..."
                ));
            }
            let current = number(status, "currentReplicas");
            RolloutState::Done(format!(
                "statefulset rolling update complete {current} pods at revision \
                 {current_revision}..."
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn is_waiting(state: &RolloutState) -> bool {
        matches!(state, RolloutState::Waiting(_))
    }

    #[test]
    fn deployment_waits_for_observed_generation() {
        let data = json!({"spec": {"replicas": 1}, "status": {"observedGeneration": 1,
            "replicas": 1, "updatedReplicas": 1, "availableReplicas": 1}});
        let state = rollout_state(WorkloadKind::Deployment, "web", 2, &data);
        assert_eq!(
            state,
            RolloutState::Waiting("Waiting for deployment spec update to be observed...".into())
        );
    }

    #[test]
    fn deployment_waits_for_updated_then_available() {
        let updating = json!({"spec": {"replicas": 2}, "status": {"observedGeneration": 2,
            "replicas": 3, "updatedReplicas": 1, "availableReplicas": 2}});
        let state = rollout_state(WorkloadKind::Deployment, "web", 2, &updating);
        assert!(is_waiting(&state), "{state:?}");
        assert!(format!("{state:?}").contains("1 out of 2 new replicas"));

        let terminating = json!({"spec": {"replicas": 2}, "status": {"observedGeneration": 2,
            "replicas": 3, "updatedReplicas": 2, "availableReplicas": 2}});
        let state = rollout_state(WorkloadKind::Deployment, "web", 2, &terminating);
        assert!(format!("{state:?}").contains("1 old replicas are pending termination"));

        let unavailable = json!({"spec": {"replicas": 2}, "status": {"observedGeneration": 2,
            "replicas": 2, "updatedReplicas": 2, "availableReplicas": 1}});
        let state = rollout_state(WorkloadKind::Deployment, "web", 2, &unavailable);
        assert!(format!("{state:?}").contains("1 of 2 updated replicas are available"));
    }

    #[test]
    fn deployment_rolled_out() {
        let data = json!({"spec": {"replicas": 2}, "status": {"observedGeneration": 3,
            "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}});
        assert_eq!(
            rollout_state(WorkloadKind::Deployment, "web", 3, &data),
            RolloutState::Done("deployment \"web\" successfully rolled out".into())
        );
    }

    #[test]
    fn deployment_past_deadline_fails() {
        let data = json!({"spec": {"replicas": 1}, "status": {"observedGeneration": 2,
            "conditions": [{"type": "Progressing", "status": "False",
                            "reason": "ProgressDeadlineExceeded"}]}});
        let state = rollout_state(WorkloadKind::Deployment, "web", 2, &data);
        assert!(matches!(state, RolloutState::Failed(_)), "{state:?}");
    }

    #[test]
    fn daemonset_states() {
        let waiting = json!({"spec": {}, "status": {"observedGeneration": 2,
            "desiredNumberScheduled": 3, "updatedNumberScheduled": 1, "numberAvailable": 3}});
        let state = rollout_state(WorkloadKind::DaemonSet, "agent", 2, &waiting);
        assert!(format!("{state:?}").contains("1 out of 3 new pods"));

        let done = json!({"spec": {}, "status": {"observedGeneration": 2,
            "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 3}});
        let state = rollout_state(WorkloadKind::DaemonSet, "agent", 2, &done);
        assert!(matches!(state, RolloutState::Done(_)), "{state:?}");

        let on_delete = json!({"spec": {"updateStrategy": {"type": "OnDelete"}}, "status": {}});
        let state = rollout_state(WorkloadKind::DaemonSet, "agent", 2, &on_delete);
        assert!(matches!(state, RolloutState::Failed(_)), "{state:?}");
    }

    #[test]
    fn statefulset_states() {
        let unready = json!({"spec": {"replicas": 3}, "status": {"observedGeneration": 2,
            "readyReplicas": 1, "updatedReplicas": 1}});
        let state = rollout_state(WorkloadKind::StatefulSet, "db", 2, &unready);
        assert_eq!(
            state,
            RolloutState::Waiting("Waiting for 2 pods to be ready...".into())
        );

        let revisions = json!({"spec": {"replicas": 1}, "status": {"observedGeneration": 2,
            "readyReplicas": 1, "updatedReplicas": 0, "currentRevision": "db-1",
            "updateRevision": "db-2"}});
        let state = rollout_state(WorkloadKind::StatefulSet, "db", 2, &revisions);
        assert!(is_waiting(&state), "{state:?}");

        let done = json!({"spec": {"replicas": 1}, "status": {"observedGeneration": 2,
            "readyReplicas": 1, "updatedReplicas": 1, "currentRevision": "db-2",
            "updateRevision": "db-2"}});
        let state = rollout_state(WorkloadKind::StatefulSet, "db", 2, &done);
        assert!(matches!(state, RolloutState::Done(_)), "{state:?}");

        let partitioned = json!({"spec": {"replicas": 4, "updateStrategy": {
            "type": "RollingUpdate", "rollingUpdate": {"partition": 2}}},
            "status": {"observedGeneration": 2, "readyReplicas": 4, "updatedReplicas": 1}});
        let state = rollout_state(WorkloadKind::StatefulSet, "db", 2, &partitioned);
        assert!(
            format!("{state:?}").contains("1 out of 2 new pods"),
            "{state:?}"
        );
    }
}
