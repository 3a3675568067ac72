//! The ReplicaSet controller: keeps the number of active (not Succeeded or
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
use crate::actor::{Actor, Context};
use crate::api::addrs::{Addrs, Part};
use crate::api::msg::{ApiError, ControllerTimer, SupMsg, SystemOp};
use crate::api::objects::{Body, Kind, Meta, Object, ObjectKey, Pod, PodPhase, ReplicaSet};
use crate::event::Event;
use crate::model::{SimDuration, SimTime};
use crate::scenario::SupervisorConfig;
use std::collections::{BTreeMap, BTreeSet};

const BACKOFF_BASE: SimDuration = SimDuration::from_secs(1);
const BACKOFF_CAP: SimDuration = SimDuration::from_secs(300);

#[derive(Clone, Debug)]
struct SetState {
    spec: ReplicaSet,
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
}

#[derive(Clone, Debug)]
enum Call {
    Create { set: ObjectKey, pod: ObjectKey },
    Delete,
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
        }
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

    /// Runs `change` to `pods` or `deleting` for `key`, keeping the tally.
    fn recount<R>(&mut self, key: &ObjectKey, change: impl FnOnce(&mut Self) -> R) -> R {
        let (before, stored) = (self.live_set(key), self.pods.contains_key(key));
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
        let now_stored = self.pods.contains_key(key);
        if stored != now_stored
            && let Some(set) = self.tally.creating.get(key).cloned()
        {
            bump(&mut self.tally.unseen, &set, !now_stored);
        }
        r
    }

    fn observe<C: Context>(&mut self, object: Object, deleted: bool, ctx: &mut C) {
        let key = object.key();
        match object.body {
            Body::ReplicaSet(rs) => {
                if deleted {
                    self.sets.remove(&key);
                    return;
                }
                let state = self.sets.entry(key.clone()).or_insert(SetState {
                    spec: rs.clone(),
                    attempts: 0,
                    until: SimTime::ZERO,
                    batch: 0,
                });
                state.spec = rs;
                self.reconcile(&key, false, ctx);
            }
            Body::Pod(pod) => {
                let Some(owner) = object.meta.owner else {
                    return;
                };
                let set = ObjectKey::new(Kind::ReplicaSet, &key.namespace, &owner);
                let n = pod_number(&owner, &key.name).unwrap_or(0);
                let next = self.next.entry(set.clone()).or_default();
                *next = (*next).max(n + 1);
                let active =
                    !deleted && !matches!(pod.phase, PodPhase::Succeeded | PodPhase::Failed);
                let was = self.recount(&key, |me| {
                    if deleted {
                        me.deleting.remove(&key);
                        me.pods.remove(&key)
                    } else {
                        let p = OwnedPod {
                            set: set.clone(),
                            n,
                            active,
                        };
                        me.pods.insert(key.clone(), p)
                    }
                });
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
            }
            _ => {}
        }
    }

    fn replied<C: Context>(&mut self, id: u64, result: Result<u64, ApiError>, ctx: &mut C) {
        let Some(call) = self.calls.reply(id) else {
            return;
        };
        let Call::Create { set, pod } = call else {
            return;
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
