//! A Deployment's status as kubectl reads it (`rollout status`, `wait
//! --for=condition=Available`, the READY column): counted from the pods it
//! owns as the store's changes go by, so reading it costs a lookup. The
//! counts are derived from the store, like everything `serve` renders; the
//! simulation does not write them.

use crate::api::objects::{Body, Kind, Object, ObjectKey, PodPhase, ReplicaSet};
use crate::supervisor::api_server::{Change, ChangeKind};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// A set's pods: not finished, and of those Running (Ready).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetCounts {
    pub pods: u32,
    pub running: u32,
}

/// What one owned pod adds to its set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Share {
    active: bool,
    running: bool,
}

/// Every set's counts, kept from the changes.
#[derive(Clone, Debug, Default)]
pub struct Rollouts {
    sets: BTreeMap<ObjectKey, SetCounts>,
    /// Each owned pod: its set and what it adds there.
    pods: BTreeMap<ObjectKey, (ObjectKey, Share)>,
}

impl Rollouts {
    /// Takes one change into account; returns the set whose counts it
    /// changed, if any.
    pub fn apply(&mut self, change: &Change) -> Option<ObjectKey> {
        let Body::Pod(p) = &change.object.body else {
            return None;
        };
        let key = change.object.key();
        let owner = change.object.meta.owner.as_ref()?;
        let set = ObjectKey::new(Kind::ReplicaSet, &key.namespace, owner);
        let share = (change.kind != ChangeKind::Deleted).then(|| Share {
            active: !matches!(p.phase, PodPhase::Succeeded | PodPhase::Failed),
            running: p.phase == PodPhase::Running,
        });
        let old = match share {
            Some(s) => self.pods.insert(key, (set.clone(), s)),
            None => self.pods.remove(&key),
        }
        .map(|(_, s)| s);
        if old == share {
            return None;
        }
        let counts = self.sets.entry(set.clone()).or_default();
        for (s, up) in [(old, false), (share, true)] {
            let Some(s) = s else { continue };
            let step = |n: &mut u32, on: bool| {
                if on {
                    *n = if up { *n + 1 } else { n.saturating_sub(1) };
                }
            };
            step(&mut counts.pods, s.active);
            step(&mut counts.running, s.running && s.active);
        }
        Some(set)
    }

    /// The counts of the set `object` is, if it is one.
    pub fn counts(&self, object: &Object) -> Option<SetCounts> {
        matches!(object.body, Body::ReplicaSet(_))
            .then(|| self.sets.get(&object.key()).copied().unwrap_or_default())
    }
}

/// `status` of a Deployment: its pods are all of one revision, so updated
/// = all, and a Running pod is ready and available (no minReadySeconds).
/// The generation is the set's resourceVersion (it changes with the
/// spec), always observed.
pub fn deployment_status(rs: &ReplicaSet, generation: u64, c: SetCounts) -> Value {
    let available = c.running >= rs.replicas;
    let condition = |kind: &str, ok: bool, reason: &str, message: String| json!({"type": kind, "status": if ok { "True" } else { "False" }, "reason": reason, "message": message});
    let mut status = json!({
        "observedGeneration": generation,
        "replicas": c.pods,
        "updatedReplicas": c.pods,
        "readyReplicas": c.running,
        "availableReplicas": c.running,
        "conditions": [
            condition(
                "Available",
                available,
                if available { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
                format!("{} of {} replicas available", c.running, rs.replicas),
            ),
            condition(
                "Progressing",
                true,
                if c.pods == rs.replicas && available { "NewReplicaSetAvailable" } else { "ReplicaSetUpdated" },
                format!("{} of {} replicas updated", c.pods, rs.replicas),
            ),
        ],
    });
    if c.pods > c.running {
        status["unavailableReplicas"] = (c.pods - c.running).into();
    }
    status
}

/// `status` of the ReplicaSet a Deployment owns (the same pods).
pub fn replica_set_status(generation: u64, c: SetCounts) -> Value {
    json!({
        "observedGeneration": generation,
        "replicas": c.pods,
        "fullyLabeledReplicas": c.pods,
        "readyReplicas": c.running,
        "availableReplicas": c.running,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::objects::{Meta, Pod, PodSpec};
    use crate::model::SimTime;

    fn pod_change(name: &str, phase: PodPhase, kind: ChangeKind) -> Change {
        Change {
            rv: 1,
            at: SimTime::ZERO,
            object: Object {
                meta: Meta {
                    name: name.into(),
                    namespace: "web".into(),
                    owner: Some("nginx".into()),
                    ..Meta::default()
                },
                body: Body::Pod(Pod {
                    spec: PodSpec::default(),
                    node: None,
                    phase,
                    reason: None,
                    ip: None,
                    started: None,
                }),
            },
            kind,
        }
    }

    #[test]
    fn counts_follow_each_pod_through_its_phases() {
        let mut r = Rollouts::default();
        let set = ObjectKey::new(Kind::ReplicaSet, "web", "nginx");
        let get = |r: &Rollouts| r.sets.get(&set).copied().unwrap_or_default();
        assert_eq!(
            r.apply(&pod_change("nginx-0", PodPhase::Pending, ChangeKind::Added)),
            Some(set.clone())
        );
        r.apply(&pod_change("nginx-1", PodPhase::Pending, ChangeKind::Added));
        assert_eq!(
            get(&r),
            SetCounts {
                pods: 2,
                running: 0
            }
        );
        r.apply(&pod_change(
            "nginx-0",
            PodPhase::Running,
            ChangeKind::Modified,
        ));
        assert_eq!(
            get(&r),
            SetCounts {
                pods: 2,
                running: 1
            }
        );
        // The same state again changes nothing.
        assert_eq!(
            r.apply(&pod_change(
                "nginx-0",
                PodPhase::Running,
                ChangeKind::Modified
            )),
            None
        );
        r.apply(&pod_change(
            "nginx-0",
            PodPhase::Failed,
            ChangeKind::Modified,
        ));
        assert_eq!(
            get(&r),
            SetCounts {
                pods: 1,
                running: 0
            }
        );
        r.apply(&pod_change(
            "nginx-1",
            PodPhase::Running,
            ChangeKind::Deleted,
        ));
        assert_eq!(
            get(&r),
            SetCounts {
                pods: 0,
                running: 0
            }
        );
    }

    #[test]
    fn a_deployment_is_available_when_its_replicas_run() {
        let rs = ReplicaSet {
            replicas: 3,
            template_labels: BTreeMap::new(),
            template: PodSpec::default(),
        };
        let s = deployment_status(
            &rs,
            7,
            SetCounts {
                pods: 3,
                running: 2,
            },
        );
        assert_eq!(s["readyReplicas"], 2);
        assert_eq!(s["unavailableReplicas"], 1);
        assert_eq!(s["conditions"][0]["status"], "False");
        let s = deployment_status(
            &rs,
            7,
            SetCounts {
                pods: 3,
                running: 3,
            },
        );
        assert_eq!(s["conditions"][0]["status"], "True");
        assert_eq!(s["conditions"][1]["reason"], "NewReplicaSetAvailable");
        assert_eq!(s["observedGeneration"], 7);
        assert!(s.get("unavailableReplicas").is_none());
    }
}
