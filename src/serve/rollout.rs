//! A Deployment's and a ReplicaSet's status as kubectl reads it (`rollout
//! status`, `wait --for=condition=Available`, the READY column): counted
//! from the pods each ReplicaSet owns, and summed over a Deployment's
//! ReplicaSets, as the store's changes go by, so reading it costs a
//! lookup. Derived from the store, like everything `serve` renders; the
//! simulation does not write status.

use crate::api::objects::{Body, Kind, Object, ObjectKey, PodPhase};
use crate::supervisor::api_server::{Change, ChangeKind};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Pods not finished (`pods`) and of those Running (ready and available:
/// no minReadySeconds). For a Deployment, over all its ReplicaSets, with
/// those of its newest (`updated`, `updated_running`, at `revision`); for
/// a ReplicaSet, updated is all of its own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SetCounts {
    pub pods: u32,
    pub running: u32,
    pub updated: u32,
    pub updated_running: u32,
    pub revision: u64,
}

/// What one owned pod adds to its set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Share {
    active: bool,
    running: bool,
}

/// Every set's pods, kept from the changes.
#[derive(Clone, Debug, Default)]
pub struct Rollouts {
    /// Per ReplicaSet: (pods, running).
    sets: BTreeMap<ObjectKey, (u32, u32)>,
    /// Each owned pod: its set and what it adds there.
    pods: BTreeMap<ObjectKey, (ObjectKey, Share)>,
    /// Each Deployment's ReplicaSet: its Deployment and revision.
    owners: BTreeMap<ObjectKey, (ObjectKey, u64)>,
    by_deployment: BTreeMap<ObjectKey, BTreeSet<ObjectKey>>,
}

impl Rollouts {
    /// Takes one change into account; returns the sets and Deployments
    /// whose counts it changed.
    pub fn apply(&mut self, change: &Change) -> Vec<ObjectKey> {
        match &change.object.body {
            Body::ReplicaSet(rs) => self.set_changed(change, rs.revision),
            Body::Pod(p) => self.pod_changed(change, p.phase),
            _ => Vec::new(),
        }
    }

    fn set_changed(&mut self, change: &Change, revision: u64) -> Vec<ObjectKey> {
        let key = change.object.key();
        let Some(owner) = &change.object.meta.owner else {
            return Vec::new();
        };
        let d = ObjectKey::new(Kind::Deployment, &key.namespace, owner);
        let now = (change.kind != ChangeKind::Deleted).then(|| (d.clone(), revision));
        let before = match &now {
            Some(o) => self.owners.insert(key.clone(), o.clone()),
            None => self.owners.remove(&key),
        };
        if before == now {
            return Vec::new();
        }
        let sets = self.by_deployment.entry(d.clone()).or_default();
        if now.is_some() {
            sets.insert(key);
        } else {
            sets.remove(&key);
            if sets.is_empty() {
                self.by_deployment.remove(&d);
            }
        }
        vec![d]
    }

    fn pod_changed(&mut self, change: &Change, phase: PodPhase) -> Vec<ObjectKey> {
        let key = change.object.key();
        let Some(owner) = change.object.meta.owner.as_ref() else {
            return Vec::new();
        };
        let set = ObjectKey::new(Kind::ReplicaSet, &key.namespace, owner);
        let share = (change.kind != ChangeKind::Deleted).then(|| Share {
            active: !matches!(phase, PodPhase::Succeeded | PodPhase::Failed),
            running: phase == PodPhase::Running,
        });
        let old = match share {
            Some(s) => self.pods.insert(key, (set.clone(), s)),
            None => self.pods.remove(&key),
        }
        .map(|(_, s)| s);
        if old == share {
            return Vec::new();
        }
        let counts = self.sets.entry(set.clone()).or_default();
        for (s, up) in [(old, false), (share, true)] {
            let Some(s) = s else { continue };
            let step = |n: &mut u32, on: bool| {
                if on {
                    *n = if up { *n + 1 } else { n.saturating_sub(1) };
                }
            };
            step(&mut counts.0, s.active);
            step(&mut counts.1, s.running && s.active);
        }
        let mut moved = vec![set.clone()];
        moved.extend(self.owners.get(&set).map(|(d, _)| d.clone()));
        moved
    }

    fn own(&self, set: &ObjectKey) -> (u32, u32) {
        self.sets.get(set).copied().unwrap_or_default()
    }

    /// The counts of the set or Deployment `object` is, if it is one.
    pub fn counts(&self, object: &Object) -> Option<SetCounts> {
        let key = object.key();
        match &object.body {
            Body::ReplicaSet(rs) => {
                let (pods, running) = self.own(&key);
                Some(SetCounts {
                    pods,
                    running,
                    updated: pods,
                    updated_running: running,
                    revision: rs.revision,
                })
            }
            Body::Deployment(d) => {
                let mut c = SetCounts::default();
                let sets = self.by_deployment.get(&key).into_iter().flatten();
                let mut current_set = false;
                let current = format!(
                    "{}-{}",
                    key.name,
                    crate::supervisor::deployment::template_hash(&d.template_labels, &d.template)
                );
                for set in sets {
                    let (pods, running) = self.own(set);
                    c.pods += pods;
                    c.running += running;
                    current_set |= set.name == current;
                    let revision = self.owners.get(set).map_or(0, |(_, r)| *r);
                    if revision >= c.revision {
                        (c.revision, c.updated, c.updated_running) = (revision, pods, running);
                    }
                }
                // Paused with a template no set has yet: upstream's
                // controller makes no new set, so no pod is updated, and
                // `kubectl rollout status` waits for the resume.
                if d.paused && !current_set {
                    (c.updated, c.updated_running) = (0, 0);
                }
                Some(c)
            }
            _ => None,
        }
    }
}

/// `status` of a Deployment of `replicas` (`paused` or not). The
/// generation is its resourceVersion (it changes with the spec), always
/// observed.
pub fn deployment_status(replicas: u32, paused: bool, generation: u64, c: SetCounts) -> Value {
    let available = c.running >= replicas;
    let done = c.updated == replicas && c.pods == replicas && c.updated_running == replicas;
    let condition = |kind: &str, ok: bool, reason: &str, message: String| json!({"type": kind, "status": if ok { "True" } else { "False" }, "reason": reason, "message": message});
    // Upstream's: a paused Deployment's progress is unknown.
    let progressing = if paused {
        json!({"type": "Progressing", "status": "Unknown", "reason": "DeploymentPaused", "message": "Deployment is paused"})
    } else {
        condition(
            "Progressing",
            true,
            if done {
                "NewReplicaSetAvailable"
            } else {
                "ReplicaSetUpdated"
            },
            format!("{} of {} replicas updated", c.updated, replicas),
        )
    };
    let mut status = json!({
        "observedGeneration": generation,
        "replicas": c.pods,
        "updatedReplicas": c.updated,
        "readyReplicas": c.running,
        "availableReplicas": c.running,
        "conditions": [
            condition(
                "Available",
                available,
                if available { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
                format!("{} of {} replicas available", c.running, replicas),
            ),
            progressing,
        ],
    });
    if c.pods > c.running {
        status["unavailableReplicas"] = (c.pods - c.running).into();
    }
    status
}

/// `status` of a ReplicaSet.
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
    use crate::api::objects::{Deployment, Meta, Pod, PodSpec, ReplicaSet};
    use crate::model::SimTime;

    fn change(object: Object, kind: ChangeKind) -> Change {
        Change {
            rv: 1,
            at: SimTime::ZERO,
            object,
            kind,
        }
    }

    fn pod(name: &str, set: &str, phase: PodPhase) -> Object {
        Object {
            meta: Meta {
                name: name.into(),
                namespace: "web".into(),
                owner: Some(set.into()),
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
        }
    }

    fn set(name: &str, revision: u64) -> Object {
        Object {
            meta: Meta {
                name: name.into(),
                namespace: "web".into(),
                owner: Some("nginx".into()),
                ..Meta::default()
            },
            body: Body::ReplicaSet(ReplicaSet {
                replicas: 2,
                template_labels: BTreeMap::new(),
                template: PodSpec::default(),
                revision,
                annotations: BTreeMap::new(),
            }),
        }
    }

    fn deployment() -> Object {
        Object {
            meta: Meta {
                name: "nginx".into(),
                namespace: "web".into(),
                ..Meta::default()
            },
            body: Body::Deployment(Deployment {
                replicas: 2,
                template_labels: BTreeMap::new(),
                template: PodSpec::default(),
                strategy: Default::default(),
                annotations: BTreeMap::new(),
                paused: false,
            }),
        }
    }

    #[test]
    fn counts_follow_each_pod_through_its_phases() {
        let mut r = Rollouts::default();
        let a = set("nginx-a", 1);
        r.apply(&change(a.clone(), ChangeKind::Added));
        let moved = r.apply(&change(
            pod("nginx-a-0", "nginx-a", PodPhase::Pending),
            ChangeKind::Added,
        ));
        let d = ObjectKey::new(Kind::Deployment, "web", "nginx");
        assert_eq!(moved, vec![a.key(), d.clone()]);
        r.apply(&change(
            pod("nginx-a-1", "nginx-a", PodPhase::Running),
            ChangeKind::Added,
        ));
        let c = r.counts(&a).unwrap();
        assert_eq!((c.pods, c.running), (2, 1));
        // The same state again changes nothing.
        let again = pod("nginx-a-1", "nginx-a", PodPhase::Running);
        assert!(r.apply(&change(again, ChangeKind::Modified)).is_empty());
        r.apply(&change(
            pod("nginx-a-0", "nginx-a", PodPhase::Failed),
            ChangeKind::Modified,
        ));
        let c = r.counts(&a).unwrap();
        assert_eq!((c.pods, c.running), (1, 1));
    }

    /// Mid-rollout: one old pod left, one new pod running and one starting.
    #[test]
    fn a_deployment_sums_its_sets_and_names_its_newest_updated() {
        let mut r = Rollouts::default();
        r.apply(&change(set("nginx-a", 1), ChangeKind::Added));
        r.apply(&change(set("nginx-b", 2), ChangeKind::Added));
        for (p, s, phase) in [
            ("nginx-a-0", "nginx-a", PodPhase::Running),
            ("nginx-b-0", "nginx-b", PodPhase::Running),
            ("nginx-b-1", "nginx-b", PodPhase::Pending),
        ] {
            r.apply(&change(pod(p, s, phase), ChangeKind::Added));
        }
        let c = r.counts(&deployment()).unwrap();
        assert_eq!(
            c,
            SetCounts {
                pods: 3,
                running: 2,
                updated: 2,
                updated_running: 1,
                revision: 2
            }
        );
        let s = deployment_status(2, false, 7, c);
        assert_eq!(s["updatedReplicas"], 2);
        assert_eq!(s["replicas"], 3);
        assert_eq!(s["conditions"][0]["status"], "True");
        assert_eq!(s["conditions"][1]["reason"], "ReplicaSetUpdated");
        assert_eq!(s["unavailableReplicas"], 1);
        // The old set gone and the new pod up: done.
        r.apply(&change(
            pod("nginx-a-0", "nginx-a", PodPhase::Running),
            ChangeKind::Deleted,
        ));
        r.apply(&change(
            pod("nginx-b-1", "nginx-b", PodPhase::Running),
            ChangeKind::Modified,
        ));
        let s = deployment_status(2, false, 8, r.counts(&deployment()).unwrap());
        assert_eq!(s["conditions"][1]["reason"], "NewReplicaSetAvailable");
        assert!(s.get("unavailableReplicas").is_none());
    }
}
