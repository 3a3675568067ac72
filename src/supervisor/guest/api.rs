//! The guest cluster's own API: create, update, delete and get of
//! Deployments / ReplicaSets (both a replica set of pods) and Pods, with
//! the ReplicaSet controller folded in (a set's pods are made or removed
//! as the call is applied). Authentication inside the guest is out of
//! scope: every call the scenario makes is allowed.

use super::{GuestCluster, GuestPhase, GuestPod, GuestSet};
use crate::api::Verb;
use crate::api::msg::ApiError;
use crate::api::objects::{Body, Object, ReplicaSet};
use crate::model::SimTime;

impl GuestCluster {
    /// Applies one call; `Ok(resourceVersion)` as the Supervisor's API does.
    pub fn call(&mut self, verb: Verb, object: Object, now: SimTime) -> Result<u64, ApiError> {
        if !self.api_available() {
            return Err(ApiError::Unavailable(format!(
                "guest cluster {} has no Ready control-plane node",
                self.name
            )));
        }
        let key = (object.meta.namespace.clone(), object.meta.name.clone());
        let what = format!("{} {}/{}", object.kind().name(), key.0, key.1);
        // The guest keeps a Deployment as the set of pods it is (no
        // ReplicaSets of its own).
        let body = match object.body {
            Body::Deployment(d) => Body::ReplicaSet(ReplicaSet {
                replicas: d.replicas,
                template_labels: d.template_labels,
                template: d.template,
                revision: 0,
                annotations: d.annotations,
            }),
            body => body,
        };
        match (verb, body) {
            (Verb::Create, Body::ReplicaSet(rs)) => {
                if self.sets.contains_key(&key) {
                    return Err(ApiError::AlreadyExists(what));
                }
                let set = GuestSet {
                    replicas: rs.replicas,
                    labels: rs.template_labels,
                    template: rs.template,
                    next: 0,
                    created: now,
                };
                self.sets.insert(key.clone(), set);
                self.reconcile(&key, now);
            }
            (Verb::Update, Body::ReplicaSet(rs)) => {
                let Some(set) = self.sets.get_mut(&key) else {
                    return Err(ApiError::NotFound(what));
                };
                // New pods take the new template; running ones stay (no
                // rollout of template changes is modelled).
                set.replicas = rs.replicas;
                set.labels = rs.template_labels;
                set.template = rs.template;
                self.reconcile(&key, now);
            }
            (Verb::Delete, Body::ReplicaSet(_)) => {
                if self.sets.remove(&key).is_none() {
                    return Err(ApiError::NotFound(what));
                }
                let owner = key.1.clone();
                self.pods
                    .retain(|k, p| !(k.0 == key.0 && p.owner.as_deref() == Some(owner.as_str())));
            }
            (Verb::Create, Body::Pod(pod)) => {
                if self.pods.contains_key(&key) {
                    return Err(ApiError::AlreadyExists(what));
                }
                let seq = self.next_seq();
                let pod = new_pod(None, object.meta.labels, pod.spec, seq, now);
                self.pods.insert(key, pod);
            }
            (Verb::Delete, Body::Pod(_)) => {
                let Some(pod) = self.pods.remove(&key) else {
                    return Err(ApiError::NotFound(what));
                };
                // Its set makes a replacement.
                if let Some(owner) = pod.owner {
                    self.reconcile(&(key.0, owner), now);
                }
            }
            (Verb::Get, Body::ReplicaSet(_)) if !self.sets.contains_key(&key) => {
                return Err(ApiError::NotFound(what));
            }
            (Verb::Get, Body::Pod(_)) if !self.pods.contains_key(&key) => {
                return Err(ApiError::NotFound(what));
            }
            (Verb::Get, _) => {}
            (verb, _) => {
                return Err(ApiError::Invalid(format!(
                    "a guest cluster takes Deployments, ReplicaSets and Pods: cannot {} {what}",
                    verb.name()
                )));
            }
        }
        self.rv += 1;
        Ok(self.rv)
    }

    /// The ReplicaSet controller for one set: make or remove pods until
    /// `replicas` exist. Removal order as upstream's: unbound first, then
    /// starting, then running; newest first within each.
    pub(super) fn reconcile(&mut self, key: &(String, String), now: SimTime) {
        let Some(set) = self.sets.get(key) else {
            return;
        };
        let (replicas, labels, template) = (set.replicas, set.labels.clone(), set.template.clone());
        let mut mine: Vec<(u8, std::cmp::Reverse<u64>, (String, String))> = self
            .pods
            .iter()
            .filter(|(k, p)| k.0 == key.0 && p.owner.as_deref() == Some(key.1.as_str()))
            .map(|(k, p)| {
                let rank = match (&p.node, &p.phase) {
                    (None, _) => 0,
                    (Some(_), GuestPhase::Pending | GuestPhase::Starting) => 1,
                    (Some(_), GuestPhase::Running) => 2,
                };
                (rank, std::cmp::Reverse(p.seq), k.clone())
            })
            .collect();
        let have = mine.len() as u32;
        if have > replicas {
            mine.sort();
            for (_, _, k) in mine.into_iter().take((have - replicas) as usize) {
                self.pods.remove(&k);
            }
            return;
        }
        for _ in have..replicas {
            let set = self.sets.get_mut(key).expect("checked");
            let mut name = format!("{}-{}", key.1, set.next);
            set.next += 1;
            while self.pods.contains_key(&(key.0.clone(), name.clone())) {
                let set = self.sets.get_mut(key).expect("checked");
                name = format!("{}-{}", key.1, set.next);
                set.next += 1;
            }
            let seq = self.next_seq();
            let pod = new_pod(
                Some(key.1.clone()),
                labels.clone(),
                template.clone(),
                seq,
                now,
            );
            self.pods.insert((key.0.clone(), name), pod);
        }
    }
}

fn new_pod(
    owner: Option<String>,
    labels: crate::supervisor::scheduling::Labels,
    spec: crate::api::objects::PodSpec,
    seq: u64,
    created: SimTime,
) -> GuestPod {
    GuestPod {
        owner,
        labels,
        spec,
        node: None,
        phase: GuestPhase::Pending,
        reason: None,
        generation: 0,
        seq,
        created,
    }
}
