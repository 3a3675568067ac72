//! The controller manager's ReplicaSet and Deployment controllers.
//!
//! A Deployment owns a ReplicaSet per template (named by the template's
//! hash, with a revision), and its controller moves the pods from the old
//! ones to the newest as its strategy allows ([`super::deployment`] holds
//! those decisions). While its writes are out it waits for their answers
//! (its view of the sets is then the API's), as upstream's expectations do.
//!
//! The ReplicaSet controller keeps the number of active (not Succeeded or
//! Failed) pods each ReplicaSet owns at its `replicas`. Pods are named
//! `<rs>-<n>`, n increasing and never reused; scale-down deletes the newest.
//! Pods evicted, deleted or failed are replaced at once. A create the API
//! refuses (quota, no IP left, no quorum) is retried after a backoff (1 s
//! doubling to 5 min), or sooner when one of the set's pods goes away,
//! never in a loop at one instant. After a refusal the set creates in slow
//! start, as upstream's controller does: one pod, then twice as many as
//! each is stored, so a set that cannot grow asks for one pod per backoff
//! rather than for all its missing replicas.

use super::calls::{Calls, Wakeup, backoff};
use super::deployment::{self, SetView, Step};
use crate::actor::{Actor, Context};
use crate::api::addrs::{Addrs, Part};
use crate::api::msg::{ApiError, ControllerTimer, SupMsg, SystemOp};
use crate::api::objects::{
    Body, Deployment, Kind, Meta, Object, ObjectKey, Pod, PodPhase, ReplicaSet,
};
use crate::event::Event;
use crate::model::{SimDuration, SimTime};
use crate::scenario::SupervisorConfig;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const BACKOFF_BASE: SimDuration = SimDuration::from_secs(1);
const BACKOFF_CAP: SimDuration = SimDuration::from_secs(300);

#[derive(Clone, Debug)]
struct SetState {
    spec: ReplicaSet,
    /// The Deployment that owns it, if any.
    owner: Option<String>,
    attempts: u32,
    /// No creates before this (backoff after a refusal).
    until: SimTime,
    /// Slow start: at most this many creates at a time, doubled by each
    /// pod stored; 0 (no refusal since the set was last whole): no limit.
    batch: u32,
}

#[derive(Clone, Debug)]
struct OwnedPod {
    /// The owning set's key.
    set: ObjectKey,
    n: u64,
    active: bool,
    running: bool,
}

#[derive(Clone, Debug)]
enum Call {
    Create {
        set: ObjectKey,
        pod: ObjectKey,
    },
    Delete,
    /// A Deployment's write of one of its ReplicaSets.
    SetWrite {
        deployment: ObjectKey,
    },
}

#[derive(Clone, Debug)]
pub struct ReplicaSetController {
    addrs: Addrs,
    sets: BTreeMap<ObjectKey, SetState>,
    /// Next pod number per set name (kept when a set is deleted, so a set
    /// created again under the same name never reuses a pod name).
    next: BTreeMap<ObjectKey, u64>,
    pods: BTreeMap<ObjectKey, OwnedPod>,
    /// Pods asked to be deleted and not yet gone.
    deleting: BTreeSet<ObjectKey>,
    calls: Calls<Call>,
    wakeup: Wakeup,
    tally: Tally,
    /// Each Deployment with its template's hash (computed once per spec:
    /// a rollout plans at every pod change).
    deployments: BTreeMap<ObjectKey, (Deployment, String)>,
    /// Each Deployment's ReplicaSets.
    owned: BTreeMap<ObjectKey, BTreeSet<ObjectKey>>,
    /// Deployments with writes out: how many.
    busy: BTreeMap<ObjectKey, u32>,
}

/// Per-set counts kept as pods and calls change, so that `active` costs a
/// lookup rather than a scan of every pod and call in flight (which made
/// creating a large set quadratic). Derived from `pods`, `deleting` and
/// the calls in flight, so left out of `Debug`, which is what a crashed
/// part's rebuild is compared by.
#[derive(Clone, Default)]
struct Tally {
    /// Active pods not being deleted, per set.
    live: BTreeMap<ObjectKey, usize>,
    /// Pods whose create is in flight -> their set.
    creating: BTreeMap<ObjectKey, ObjectKey>,
    /// Of those, the ones not in `pods` yet, per set.
    unseen: BTreeMap<ObjectKey, usize>,
    /// Live pods that are Running (available), per set.
    running: BTreeMap<ObjectKey, usize>,
}

impl std::fmt::Debug for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tally")
    }
}

fn bump(counts: &mut BTreeMap<ObjectKey, usize>, set: &ObjectKey, up: bool) {
    let n = counts.entry(set.clone()).or_default();
    *n = if up { *n + 1 } else { n.saturating_sub(1) };
    if *n == 0 {
        counts.remove(set);
    }
}

/// The number in `<set>-<n>`, if the pod is named so.
fn pod_number(set: &str, pod: &str) -> Option<u64> {
    pod.strip_prefix(set)?.strip_prefix('-')?.parse().ok()
}

impl ReplicaSetController {
    pub fn new(_config: &SupervisorConfig, addrs: Addrs) -> Self {
        ReplicaSetController {
            addrs,
            sets: BTreeMap::new(),
            next: BTreeMap::new(),
            pods: BTreeMap::new(),
            deleting: BTreeSet::new(),
            calls: Calls::default(),
            wakeup: Wakeup::default(),
            tally: Tally::default(),
            deployments: BTreeMap::new(),
            owned: BTreeMap::new(),
            busy: BTreeMap::new(),
        }
    }

    /// Running pods of a set, not being deleted.
    fn available(&self, set: &ObjectKey) -> usize {
        self.tally.running.get(set).copied().unwrap_or(0)
    }

    /// Active pods of a set, not being deleted, plus creates in flight
    /// whose pod is not stored yet.
    pub fn active(&self, set: &ObjectKey) -> usize {
        let count = |m: &BTreeMap<ObjectKey, usize>| m.get(set).copied().unwrap_or(0);
        count(&self.tally.live) + count(&self.tally.unseen)
    }

    /// The set `key` counts for, if it is active and not being deleted.
    fn live_set(&self, key: &ObjectKey) -> Option<ObjectKey> {
        self.pods
            .get(key)
            .filter(|p| p.active && !self.deleting.contains(key))
            .map(|p| p.set.clone())
    }

    /// The set `key` counts as available for, if it is also Running.
    fn running_set(&self, key: &ObjectKey) -> Option<ObjectKey> {
        self.live_set(key)
            .filter(|_| self.pods.get(key).is_some_and(|p| p.running))
    }

    /// Runs `change` to `pods` or `deleting` for `key`, keeping the tally.
    fn recount<R>(&mut self, key: &ObjectKey, change: impl FnOnce(&mut Self) -> R) -> R {
        let (before, stored) = (self.live_set(key), self.pods.contains_key(key));
        let was_running = self.running_set(key);
        let r = change(self);
        let after = self.live_set(key);
        if before != after {
            if let Some(set) = before {
                bump(&mut self.tally.live, &set, false);
            }
            if let Some(set) = after {
                bump(&mut self.tally.live, &set, true);
            }
        }
        let is_running = self.running_set(key);
        if was_running != is_running {
            if let Some(set) = was_running {
                bump(&mut self.tally.running, &set, false);
            }
            if let Some(set) = is_running {
                bump(&mut self.tally.running, &set, true);
            }
        }
        let now_stored = self.pods.contains_key(key);
        if stored != now_stored
            && let Some(set) = self.tally.creating.get(key).cloned()
        {
            bump(&mut self.tally.unseen, &set, !now_stored);
        }
        r
    }

    fn observe<C: Context>(&mut self, object: Arc<Object>, deleted: bool, ctx: &mut C) {
        if let Body::Pod(pod) = &object.body {
            return self.observe_pod(&object, pod, deleted, ctx);
        }
        let object = Arc::unwrap_or_clone(object);
        let key = object.key();
        match object.body {
            Body::Deployment(d) => {
                if deleted {
                    self.deployments.remove(&key);
                } else {
                    let hash = deployment::template_hash(&d.template_labels, &d.template);
                    self.deployments.insert(key.clone(), (d, hash));
                    self.reconcile_deployment(&key, ctx);
                }
            }
            Body::ReplicaSet(rs) => {
                let owner = object
                    .meta
                    .owner
                    .map(|o| ObjectKey::new(Kind::Deployment, &key.namespace, &o));
                if let Some(d) = &owner {
                    let sets = self.owned.entry(d.clone()).or_default();
                    if deleted {
                        sets.remove(&key);
                        if sets.is_empty() {
                            self.owned.remove(d);
                        }
                    } else {
                        sets.insert(key.clone());
                    }
                }
                if deleted {
                    self.sets.remove(&key);
                } else {
                    let state = self.sets.entry(key.clone()).or_insert(SetState {
                        spec: rs.clone(),
                        owner: None,
                        attempts: 0,
                        until: SimTime::ZERO,
                        batch: 0,
                    });
                    state.spec = rs;
                    state.owner = owner.as_ref().map(|d| d.name.clone());
                    self.reconcile(&key, false, ctx);
                }
                if let Some(d) = owner {
                    self.reconcile_deployment(&d, ctx);
                }
            }
            _ => {}
        }
    }

    /// A pod of one of its sets: counted, replaced when it goes, and its
    /// Deployment's rollout moved on.
    fn observe_pod<C: Context>(&mut self, object: &Object, pod: &Pod, deleted: bool, ctx: &mut C) {
        let key = object.key();
        let Some(owner) = &object.meta.owner else {
            return;
        };
        let set = ObjectKey::new(Kind::ReplicaSet, &key.namespace, owner);
        let n = pod_number(owner, &key.name).unwrap_or(0);
        let next = self.next.entry(set.clone()).or_default();
        *next = (*next).max(n + 1);
        let active = !deleted && !matches!(pod.phase, PodPhase::Succeeded | PodPhase::Failed);
        let running = active && pod.phase == PodPhase::Running;
        let was = self.recount(&key, |me| {
            if deleted {
                me.deleting.remove(&key);
                me.pods.remove(&key)
            } else {
                let p = OwnedPod {
                    set: set.clone(),
                    n,
                    active,
                    running,
                };
                me.pods.insert(key.clone(), p)
            }
        });
        let moved = was
            .as_ref()
            .is_none_or(|w| w.active != active || w.running != running);
        // A pod that went away is replaced at once; a pod not seen
        // before (another writer, a relist) may be one too many.
        let lost = was.as_ref().is_some_and(|w| w.active) && !active;
        // A new pod stored: slow start doubles (the next batch goes
        // out now, when the pod counts as there).
        if was.is_none()
            && active
            && let Some(s) = self.sets.get_mut(&set)
            && s.batch > 0
        {
            s.batch = s.batch.saturating_mul(2);
        }
        if lost || was.is_none() {
            self.reconcile(&set, lost, ctx);
        }
        // Its Deployment's rollout moves on as pods become
        // available or go.
        let owner = self.sets.get(&set).and_then(|s| s.owner.clone());
        if moved && let Some(owner) = owner {
            let d = ObjectKey::new(Kind::Deployment, &set.namespace, &owner);
            self.reconcile_deployment(&d, ctx);
        }
    }

    fn replied<C: Context>(&mut self, id: u64, result: Result<u64, ApiError>, ctx: &mut C) {
        let Some(call) = self.calls.reply(id) else {
            return;
        };
        let (set, pod) = match call {
            Call::Create { set, pod } => (set, pod),
            Call::Delete => return,
            Call::SetWrite { deployment } => return self.set_written(deployment, result, ctx),
        };
        self.tally.creating.remove(&pod);
        if !self.pods.contains_key(&pod) {
            bump(&mut self.tally.unseen, &set, false);
        }
        let now = ctx.now();
        match result {
            Ok(_) => match self.sets.get_mut(&set) {
                Some(s) => s.attempts = 0,
                // The set was deleted while the create was out.
                None => self.delete(pod, ctx),
            },
            Err(_) => {
                let Some(s) = self.sets.get_mut(&set) else {
                    return;
                };
                s.batch = 1;
                // One backoff step per instant, however many creates failed.
                if s.until <= now {
                    s.attempts = s.attempts.saturating_add(1);
                    s.until = now + backoff(s.attempts, BACKOFF_BASE, BACKOFF_CAP);
                }
                let until = s.until;
                self.wakeup.arm(until, ctx);
            }
        }
    }

    fn reconcile_all<C: Context>(&mut self, ctx: &mut C) {
        let sets: Vec<ObjectKey> = self.sets.keys().cloned().collect();
        for set in sets {
            self.reconcile(&set, false, ctx);
        }
        let deployments: Vec<ObjectKey> = self.deployments.keys().cloned().collect();
        for d in deployments {
            self.reconcile_deployment(&d, ctx);
        }
    }

    /// One of a Deployment's writes answered; when the last is, its view
    /// of the sets is the API's and it plans again (a refusal: after a
    /// second).
    fn set_written<C: Context>(
        &mut self,
        deployment: ObjectKey,
        result: Result<u64, ApiError>,
        ctx: &mut C,
    ) {
        let left = self.busy.get_mut(&deployment).map(|n| {
            *n -= 1;
            *n
        });
        if left == Some(0) {
            self.busy.remove(&deployment);
            if result.is_ok() {
                self.reconcile_deployment(&deployment, ctx);
            }
        }
        if result.is_err() {
            self.wakeup.arm(ctx.now() + BACKOFF_BASE, ctx);
        }
    }

    /// Brings a Deployment's ReplicaSets forward (see the module docs).
    fn reconcile_deployment<C: Context>(&mut self, key: &ObjectKey, ctx: &mut C) {
        if self.busy.contains_key(key) {
            return;
        }
        let Some((d, hash)) = self.deployments.get(key) else {
            return;
        };
        let views: Vec<SetView> = (self.owned.get(key).into_iter().flatten())
            .filter_map(|set| {
                let s = self.sets.get(set)?;
                Some(SetView {
                    name: set.name.clone(),
                    replicas: s.spec.replicas,
                    revision: s.spec.revision,
                    hash: (s.spec.template_labels.get(deployment::HASH_LABEL))
                        .cloned()
                        .unwrap_or_default(),
                    active: self.active(set) as u32,
                    available: self.available(set) as u32,
                    annotations: s.spec.annotations.clone(),
                })
            })
            .collect();
        let steps = deployment::plan(d, &key.name, hash, &views);
        if steps.is_empty() {
            return;
        }
        let (d, hash) = (d.clone(), hash.clone());
        self.busy.insert(key.clone(), steps.len() as u32);
        for step in steps {
            let op = match step {
                Step::Create {
                    name,
                    replicas,
                    revision,
                } => {
                    let mut labels = d.template_labels.clone();
                    labels.insert(deployment::HASH_LABEL.into(), hash.clone());
                    let rs = ReplicaSet {
                        replicas,
                        template_labels: labels,
                        template: d.template.clone(),
                        revision,
                        annotations: deployment::copied_annotations(&d),
                    };
                    SystemOp::Create(Box::new(set_object(key, &name, rs)))
                }
                Step::Set {
                    name,
                    replicas,
                    revision,
                    annotations,
                } => SystemOp::SetReplicas {
                    set: ObjectKey::new(Kind::ReplicaSet, &key.namespace, &name),
                    replicas,
                    revision,
                    annotations,
                },
                Step::Delete { name } => {
                    SystemOp::Delete(ObjectKey::new(Kind::ReplicaSet, &key.namespace, &name))
                }
            };
            let call = Call::SetWrite {
                deployment: key.clone(),
            };
            self.calls.send(self.addrs[Part::ApiServer], op, call, ctx);
        }
    }

    /// Creates or deletes pods towards `replicas`; `now_anyway` ignores the
    /// backoff (a pod of the set just went away).
    fn reconcile<C: Context>(&mut self, set: &ObjectKey, now_anyway: bool, ctx: &mut C) {
        let now = ctx.now();
        let Some(state) = self.sets.get(set) else {
            return;
        };
        let want = state.spec.replicas as usize;
        let have = self.active(set);
        if have < want {
            if state.until > now && !now_anyway {
                let until = state.until;
                return self.wakeup.arm(until, ctx);
            }
            let missing = match state.batch {
                0 => want - have,
                batch => (want - have).min(batch as usize),
            };
            for _ in 0..missing {
                self.create(set, ctx);
            }
            return;
        }
        if let Some(s) = self.sets.get_mut(set) {
            s.batch = 0; // whole again
        }
        if have > want {
            let mut extra: Vec<(u64, ObjectKey)> = self
                .pods
                .iter()
                .filter(|(k, p)| &p.set == set && p.active && !self.deleting.contains(*k))
                .map(|(k, p)| (p.n, k.clone()))
                .collect();
            extra.sort();
            for (_, pod) in extra.into_iter().rev().take(have - want) {
                self.delete(pod, ctx);
            }
        }
    }

    fn create<C: Context>(&mut self, set: &ObjectKey, ctx: &mut C) {
        let Some(state) = self.sets.get(set) else {
            return;
        };
        let next = self.next.entry(set.clone()).or_default();
        let n = *next;
        *next += 1;
        let object = Object {
            meta: Meta {
                name: format!("{}-{n}", set.name),
                namespace: set.namespace.clone(),
                labels: state.spec.template_labels.clone(),
                owner: Some(set.name.clone()),
                ..Meta::default()
            },
            body: Body::Pod(Pod {
                spec: state.spec.template.clone(),
                node: None,
                phase: PodPhase::Pending,
                reason: None,
                ip: None,
                started: None,
            }),
        };
        let call = Call::Create {
            set: set.clone(),
            pod: object.key(),
        };
        self.tally.creating.insert(object.key(), set.clone());
        if !self.pods.contains_key(&object.key()) {
            bump(&mut self.tally.unseen, set, true);
        }
        let op = SystemOp::Create(Box::new(object));
        self.calls.send(self.addrs[Part::ApiServer], op, call, ctx);
    }

    fn delete<C: Context>(&mut self, pod: ObjectKey, ctx: &mut C) {
        self.recount(&pod, |me| me.deleting.insert(pod.clone()));
        let op = SystemOp::Delete(pod);
        self.calls
            .send(self.addrs[Part::ApiServer], op, Call::Delete, ctx);
    }
}

/// A Deployment's ReplicaSet as stored: labelled as its pods, owned by it.
fn set_object(deployment: &ObjectKey, name: &str, rs: ReplicaSet) -> Object {
    Object {
        meta: Meta {
            name: name.to_string(),
            namespace: deployment.namespace.clone(),
            labels: rs.template_labels.clone(),
            owner: Some(deployment.name.clone()),
            ..Meta::default()
        },
        body: Body::ReplicaSet(rs),
    }
}

impl Actor for ReplicaSetController {
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        let msg = match event {
            Event::Supervisor(msg) => msg,
            // After a process restart the backoff timer was lost.
            Event::Start => {
                self.wakeup = Wakeup::default();
                return self.reconcile_all(ctx);
            }
            _ => return,
        };
        match *msg {
            SupMsg::Changed {
                object, deleted, ..
            } => self.observe(object, deleted, ctx),
            SupMsg::Reply { id, result } => self.replied(id, result, ctx),
            // Its own restart: creates and deletes whose answer was lost
            // no longer count; the relist shows what they did.
            SupMsg::Restart => {
                drop(self.calls.abandon());
                self.tally.creating.clear();
                self.tally.unseen.clear();
                self.busy.clear();
            }
            SupMsg::ControllerTimer(ControllerTimer::Wakeup { due }) if self.wakeup.fired(due) => {
                self.reconcile_all(ctx)
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::testing::TestCtx;
    use crate::supervisor::testkit::{changed, sup_sent};
    use crate::supervisor::testutil::{addrs, config, set_object};

    /// (call id, op) of the system calls sent; timers as ("timer", delay s).
    fn calls(ctx: &mut TestCtx) -> Vec<(u64, SystemOp)> {
        (sup_sent(ctx).into_iter())
            .filter_map(|(_, _, m)| match m {
                SupMsg::System { id, op } => Some((id, op)),
                _ => None,
            })
            .collect()
    }

    fn created_names(ops: &[(u64, SystemOp)]) -> Vec<String> {
        ops.iter()
            .filter_map(|(_, op)| match op {
                SystemOp::Create(o) => Some(o.meta.name.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn creates_replaces_and_scales_down_newest_first() {
        let a = addrs(1);
        let mut c = ReplicaSetController::new(&config(), a.clone());
        let mut ctx = TestCtx::new(a[Part::ReplicaSetController]);
        c.handle(changed(set_object("web", 3), false), &mut ctx);
        let ops = calls(&mut ctx);
        assert_eq!(created_names(&ops), vec!["web-0", "web-1", "web-2"]);
        // The API's watch events for them, then the replies.
        let mut pods = Vec::new();
        for (id, op) in ops {
            let SystemOp::Create(o) = op else { panic!() };
            c.handle(changed((*o).clone(), false), &mut ctx);
            c.handle(SupMsg::Reply { id, result: Ok(1) }.event(), &mut ctx);
            pods.push(*o);
        }
        assert!(calls(&mut ctx).is_empty());
        // web-1 is evicted: replaced by web-3 at once.
        c.handle(changed(pods[1].clone(), true), &mut ctx);
        let ops = calls(&mut ctx);
        assert_eq!(created_names(&ops), vec!["web-3"]);
        let SystemOp::Create(o) = &ops[0].1 else {
            panic!()
        };
        c.handle(changed((**o).clone(), false), &mut ctx);
        // Scale to 1: the two newest (web-3, web-2) go.
        c.handle(changed(set_object("web", 1), false), &mut ctx);
        let ops = calls(&mut ctx);
        let deleted: Vec<&str> = ops
            .iter()
            .filter_map(|(_, op)| match op {
                SystemOp::Delete(k) => Some(k.name.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(deleted, vec!["web-3", "web-2"]);
        let set = ObjectKey::new(Kind::ReplicaSet, "ns", "web");
        assert_eq!(c.active(&set), 1);
    }

    #[test]
    fn refused_creates_back_off_instead_of_spinning() {
        let a = addrs(1);
        let mut c = ReplicaSetController::new(&config(), a.clone());
        let mut ctx = TestCtx::new(a[Part::ReplicaSetController]);
        c.handle(changed(set_object("web", 2), false), &mut ctx);
        let ops = calls(&mut ctx);
        let quota = Err(ApiError::QuotaExceeded("cpu".into()));
        for (id, _) in &ops {
            c.handle(
                SupMsg::Reply {
                    id: *id,
                    result: quota.clone(),
                }
                .event(),
                &mut ctx,
            );
        }
        // One backoff step for the batch: a timer at 1 s, nothing else.
        let sent = ctx.take_sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].1, SimDuration::from_secs(1));
        // The set's own update does not hurry it.
        c.handle(changed(set_object("web", 2), false), &mut ctx);
        assert!(calls(&mut ctx).is_empty());
        ctx.now = SimTime(1_000_000_000);
        c.handle(
            SupMsg::ControllerTimer(crate::api::msg::ControllerTimer::Wakeup { due: ctx.now })
                .event(),
            &mut ctx,
        );
        // Slow start: one create, not both.
        let ops = calls(&mut ctx);
        assert_eq!(created_names(&ops), vec!["web-2"]);
        for (id, _) in &ops {
            c.handle(
                SupMsg::Reply {
                    id: *id,
                    result: quota.clone(),
                }
                .event(),
                &mut ctx,
            );
        }
        assert_eq!(ctx.take_sent()[0].1, SimDuration::from_secs(2));
    }

    /// After a refusal a set creates one pod, then twice as many after each
    /// success, and without a limit again once it is whole.
    #[test]
    fn after_a_refusal_creates_start_slow_and_double_on_success() {
        let a = addrs(1);
        let mut c = ReplicaSetController::new(&config(), a.clone());
        let mut ctx = TestCtx::new(a[Part::ReplicaSetController]);
        let reply = |c: &mut ReplicaSetController, ctx: &mut TestCtx, id: u64, ok: bool| {
            let result = match ok {
                true => Ok(1),
                false => Err(ApiError::IpExhausted("full".into())),
            };
            c.handle(SupMsg::Reply { id, result }.event(), ctx);
        };
        c.handle(changed(set_object("web", 6), false), &mut ctx);
        let first = calls(&mut ctx);
        assert_eq!(first.len(), 6);
        for (id, _) in &first {
            reply(&mut c, &mut ctx, *id, false);
        }
        ctx.take_sent();
        ctx.now = SimTime(1_000_000_000);
        let wake =
            SupMsg::ControllerTimer(crate::api::msg::ControllerTimer::Wakeup { due: ctx.now });
        c.handle(wake.event(), &mut ctx);
        // Each create is stored (the watch event first, as the API server
        // sends it) and acknowledged; what the controller sends meanwhile
        // is the next batch.
        let mut sizes = Vec::new();
        let mut batch = calls(&mut ctx);
        while !batch.is_empty() && sizes.len() < 10 {
            sizes.push(batch.len());
            let mut next = Vec::new();
            for (id, op) in batch {
                let SystemOp::Create(pod) = op else {
                    panic!("{op:?}")
                };
                c.handle(changed(*pod, false), &mut ctx);
                next.extend(calls(&mut ctx));
                reply(&mut c, &mut ctx, id, true);
                next.extend(calls(&mut ctx));
            }
            batch = next;
        }
        assert_eq!(sizes, vec![1, 2, 3]);
        let set = ObjectKey::new(Kind::ReplicaSet, "ns", "web");
        assert_eq!(c.active(&set), 6);
    }
}
