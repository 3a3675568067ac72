//! The Supervisor's kube-scheduler for vSphere Pods. It keeps a watch
//! cache of pods, nodes, VMs, VM classes and claims; binds each new unbound
//! pod at once (the decision itself is [`super::scheduling`]). A pod that
//! fits nowhere stays Pending with upstream's message and waits, as in
//! kube-scheduler's unschedulable queue, until a cluster event could make
//! it fit (capacity freed, a node or VM changed; for a pod with required
//! pod affinity, also a pod bound) and its backoff (1 s doubling to 10 s)
//! is over, or until the periodic flush after 5 minutes. A pod WPS un-binds
//! (DRS refused the host) waits the same way: the scheduler cannot see why
//! DRS said no, but only freed capacity can change its answer. A pod whose
//! bind call failed waits for its backoff only.
//!
//! Binds are assumed at once (the node's requests include the pod before
//! the API's watch event confirms it), as kube-scheduler's assume cache.

use super::calls::{Calls, Wakeup, backoff};
use super::scheduling::{
    Decision, NodeView, PodRef, VolumeHosts, effective_requests, nonzero_requests, schedule_from,
};
use crate::actor::{Actor, Context};
use crate::api::addrs::{Addrs, Part};
use crate::api::msg::{ApiError, ControllerTimer, SupMsg, SystemOp};
use crate::api::objects::{Body, Kind, Node, Object, ObjectKey, PodPhase, PodSpec};
use crate::event::Event;
use crate::model::{HostId, Lookup, Resources, SimDuration, SimTime};
use crate::scenario::SupervisorConfig;
use std::collections::{BTreeMap, BTreeSet};

const BACKOFF_BASE: SimDuration = SimDuration::from_secs(1);
const BACKOFF_CAP: SimDuration = SimDuration::from_secs(10);
/// Upstream's podMaxInUnschedulablePodsDuration: a pod no event has moved
/// is tried again after this long.
const UNSCHEDULABLE_FLUSH: SimDuration = SimDuration::from_secs(300);

#[derive(Clone, Debug)]
struct CachedPod {
    meta_labels: BTreeMap<String, String>,
    creation: SimTime,
    spec: PodSpec,
    node: Option<String>,
    phase: PodPhase,
    reason: Option<String>,
}

impl CachedPod {
    fn active(&self) -> bool {
        !matches!(self.phase, PodPhase::Succeeded | PodPhase::Failed)
    }
}

/// An unschedulable (or un-bound) pod waiting for its retry.
#[derive(Clone, Debug)]
struct Waiting {
    /// When it is tried next: the end of its backoff, or the periodic
    /// flush for a pod the filters refused (until an event moves it).
    until: SimTime,
    /// The end of its backoff: an event that moves the pod brings `until`
    /// back to this.
    backoff_until: SimTime,
    /// Its bind call failed: only the timer retries it.
    bind_failed: bool,
    /// Its spec requires pod affinity: a pod bound may be what it waits for.
    wants_pods: bool,
}

/// How a pod that did not bind is retried.
#[derive(Clone, Copy, Debug)]
enum Retry {
    /// After its backoff (its bind call failed).
    Backoff,
    /// When an event could make it fit (after its backoff), or at the flush.
    Event,
}

/// What a change could do for the pods that wait: free capacity (or
/// change a node, VM, class or claim), or bind a pod somewhere.
#[derive(Clone, Copy, Debug, Default)]
struct Moves {
    freed: bool,
    assigned: bool,
}

impl Moves {
    const ALL: Moves = Moves {
        freed: true,
        assigned: true,
    };

    fn moves(self, w: &Waiting) -> bool {
        !w.bind_failed && (self.freed || (self.assigned && w.wants_pods))
    }
}

#[derive(Clone, Debug)]
struct CachedVm {
    class: String,
    host: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Scheduler {
    addrs: Addrs,
    /// Datastore name -> hosts that see it.
    datastores: BTreeMap<String, BTreeSet<HostId>>,
    /// Datastores CNS reported failed and not yet repaired: no host sees
    /// them, so pods with a claim there wait.
    failed_datastores: BTreeSet<String>,
    nodes: BTreeMap<String, (BTreeMap<String, String>, Node)>,
    pods: Lookup<ObjectKey, CachedPod>,
    vms: BTreeMap<ObjectKey, CachedVm>,
    classes: BTreeMap<String, Resources>,
    /// Claim -> its datastore once bound.
    claims: BTreeMap<ObjectKey, Option<String>>,
    /// Binds sent and not yet answered: pod -> node (None: a reason write).
    calls: Calls<(ObjectKey, Option<String>)>,
    /// Nodes of binds in flight (what the cache assumes).
    assumed: Lookup<ObjectKey, String>,
    /// New pods to schedule at the next pass.
    queue: BTreeSet<ObjectKey>,
    waiting: BTreeMap<ObjectKey, Waiting>,
    /// Failed attempts per pod (filters or DRS), kept until it runs or is
    /// gone, so that a pod DRS keeps refusing backs off further each time.
    attempts: Lookup<ObjectKey, u32>,
    /// When each pod was last tried: at most one attempt per instant.
    tried: Lookup<ObjectKey, SimTime>,
    wakeup: Wakeup,
    views: ViewCache,
}

/// The node views the filters and scores see, kept up to date pod by pod
/// rather than rebuilt from every pod at each pass (which made a pass cost
/// O(pods)). Derived state: it is left out of `Debug`, which is what a
/// crashed part's rebuild is compared by.
#[derive(Clone, Default)]
struct ViewCache {
    views: Option<Views>,
    /// Pods whose contribution may have changed since the views were made.
    dirty: BTreeSet<ObjectKey>,
    /// Where the next pod's search for feasible nodes starts (upstream's
    /// nextStartNodeIndex: memory only, 0 after a restart).
    next_start: usize,
}

impl std::fmt::Debug for ViewCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ViewCache")
    }
}

#[derive(Clone)]
struct Views {
    nodes: Vec<NodeView>,
    index: BTreeMap<String, usize>,
    /// Each counted pod: its node's index and what it added there.
    counted: Lookup<ObjectKey, (usize, PodRef, Resources, Resources)>,
}

impl Views {
    fn uncount(&mut self, key: &ObjectKey) {
        let Some((i, r, requests, nonzero)) = self.counted.remove(key) else {
            return;
        };
        let node = &mut self.nodes[i];
        node.requested = node.requested.saturating_sub(&requests);
        node.requested_nonzero = node.requested_nonzero.saturating_sub(&nonzero);
        node.remove_pod(&r);
    }
}

impl Scheduler {
    pub fn new(config: &SupervisorConfig, addrs: Addrs) -> Self {
        Scheduler {
            addrs,
            datastores: config
                .datastores
                .iter()
                .map(|d| (d.name.clone(), d.hosts.iter().copied().collect()))
                .collect(),
            failed_datastores: BTreeSet::new(),
            nodes: BTreeMap::new(),
            pods: Lookup::default(),
            vms: BTreeMap::new(),
            classes: BTreeMap::new(),
            claims: BTreeMap::new(),
            calls: Calls::default(),
            assumed: Lookup::default(),
            queue: BTreeSet::new(),
            waiting: BTreeMap::new(),
            attempts: Lookup::default(),
            tried: Lookup::default(),
            wakeup: Wakeup::default(),
            views: ViewCache::default(),
        }
    }

    /// The node each pod is bound to (or assumed to be), for tests.
    pub fn binding(&self, pod: &ObjectKey) -> Option<&str> {
        self.assumed
            .get(pod)
            .map(String::as_str)
            .or_else(|| self.pods.get(pod).and_then(|p| p.node.as_deref()))
    }

    /// Pods waiting to be retried.
    pub fn unschedulable(&self) -> impl Iterator<Item = &ObjectKey> {
        self.waiting.keys()
    }

    /// Updates the cache; says what the change may do for waiting pods.
    fn observe(&mut self, object: &Object, deleted: bool, now: SimTime) -> Moves {
        let key = object.key();
        let Object { meta, body } = object;
        if matches!(
            body,
            Body::Node(_) | Body::VirtualMachine(_) | Body::VirtualMachineClass(_)
        ) {
            self.views.views = None;
        }
        match body {
            Body::Pod(p) => {
                // Where the pod counted before: (active, its node).
                let (before, counted_alike) = if deleted {
                    (self.pods.remove(&key).map(|o| (o.active(), o.node)), false)
                } else if let Some(cached) = self.pods.get_mut(&key) {
                    // Updated in place: most changes are status writes.
                    let before = (cached.active(), cached.node.clone());
                    let labels_alike = cached.meta_labels == meta.labels;
                    let spec_alike = cached.spec == p.spec;
                    if !labels_alike {
                        cached.meta_labels = meta.labels.clone();
                    }
                    if !spec_alike {
                        cached.spec = p.spec.clone();
                    }
                    cached.creation = meta.creation;
                    cached.node.clone_from(&p.node);
                    cached.phase = p.phase;
                    cached.reason.clone_from(&p.reason);
                    // What the pod adds to its node's view is as it was.
                    let alike = labels_alike
                        && spec_alike
                        && before.0 == cached.active()
                        && before.1 == cached.node;
                    (Some(before), alike)
                } else {
                    let cached = CachedPod {
                        meta_labels: meta.labels.clone(),
                        creation: meta.creation,
                        spec: p.spec.clone(),
                        node: p.node.clone(),
                        phase: p.phase,
                        reason: p.reason.clone(),
                    };
                    self.pods.insert(key.clone(), cached);
                    (None, false)
                };
                if !counted_alike {
                    self.views.dirty.insert(key.clone());
                }
                let was_on = before
                    .filter(|(active, _)| *active)
                    .and_then(|(_, node)| self.assumed.get(&key).cloned().or(node));
                let active = !deleted && !matches!(p.phase, PodPhase::Succeeded | PodPhase::Failed);
                let now_on = if active {
                    self.assumed.get(&key).or(p.node.as_ref()).cloned()
                } else {
                    None
                };
                if !active || now_on.is_some() {
                    self.queue.remove(&key);
                    self.waiting.remove(&key);
                    if !active || p.phase == PodPhase::Running {
                        self.tried.remove(&key);
                        self.attempts.remove(&key);
                    }
                } else if was_on.is_some() {
                    // WPS gave it back: DRS refused the node. Like a pod
                    // the filters refused, it waits for capacity to free up
                    // (retrying every 10 s, as before, made a cluster DRS
                    // keeps refusing spend its time in this loop).
                    self.back_off(&key, now, Retry::Event);
                } else if !self.waiting.contains_key(&key) {
                    self.queue.insert(key.clone());
                }
                // A pod given back by WPS never held its node's capacity
                // in vSphere: that is no reason to try the others again.
                let given_back = active && was_on.is_some() && now_on.is_none();
                Moves {
                    freed: was_on.is_some() && was_on != now_on && !given_back,
                    assigned: now_on.is_some() && was_on != now_on,
                }
            }
            Body::Node(n) => {
                if deleted {
                    self.nodes.remove(&meta.name);
                } else {
                    self.nodes
                        .insert(meta.name.clone(), (meta.labels.clone(), n.clone()));
                }
                Moves::ALL
            }
            Body::VirtualMachine(vm) => {
                let old = if deleted {
                    self.vms.remove(&key)
                } else {
                    self.vms.insert(
                        key,
                        CachedVm {
                            class: vm.class_name.clone(),
                            host: vm.host.clone(),
                        },
                    )
                };
                // Only where it runs, and its class, reserve capacity.
                let same =
                    !deleted && old.is_some_and(|o| o.host == vm.host && o.class == vm.class_name);
                if same { Moves::default() } else { Moves::ALL }
            }
            Body::VirtualMachineClass(c) => {
                if deleted {
                    self.classes.remove(&meta.name);
                } else {
                    self.classes.insert(meta.name.clone(), c.requests);
                }
                Moves::ALL
            }
            Body::PersistentVolumeClaim(c) => {
                if deleted {
                    self.claims.remove(&key);
                } else {
                    self.claims.insert(key, c.datastore.clone());
                }
                Moves::ALL
            }
            _ => Moves::default(),
        }
    }

    fn replied<C: Context>(&mut self, id: u64, result: Result<u64, ApiError>, ctx: &mut C) {
        let Some((pod, node)) = self.calls.reply(id) else {
            return;
        };
        if node.is_none() {
            return; // a reason write; nothing depends on it
        }
        self.assumed.remove(&pod);
        self.views.dirty.insert(pod.clone());
        if result.is_err()
            && self
                .pods
                .get(&pod)
                .is_some_and(|p| p.node.is_none() && p.active())
        {
            // Unavailable (or a conflict): the pod is unbound after all.
            let until = self.back_off(&pod, ctx.now(), Retry::Backoff);
            self.wakeup.arm(until, ctx);
        }
    }

    /// One more failed attempt: its backoff grows (1 s doubling to 10 s);
    /// it waits for that, or for an event or the flush (`Retry::Event`).
    fn back_off(&mut self, key: &ObjectKey, now: SimTime, retry: Retry) -> SimTime {
        let attempts = self.attempts.get_or_insert_with(key.clone(), u32::default);
        *attempts = attempts.saturating_add(1);
        let backoff_until = now + backoff(*attempts, BACKOFF_BASE, BACKOFF_CAP);
        let wants_pods = self
            .pods
            .get(key)
            .is_some_and(|p| !p.spec.affinity.pod_required.is_empty());
        let (until, bind_failed) = match retry {
            Retry::Backoff => (backoff_until, true),
            Retry::Event => (now + UNSCHEDULABLE_FLUSH, false),
        };
        self.waiting.insert(
            key.clone(),
            Waiting {
                until,
                backoff_until,
                bind_failed,
                wants_pods,
            },
        );
        until
    }

    /// Schedules the new pods and the waiting pods that are due: the
    /// `moves` of a change bring a waiting pod's retry back to the end of
    /// its backoff.
    fn pass<C: Context>(&mut self, moves: Moves, ctx: &mut C) {
        let now = ctx.now();
        if moves.freed || moves.assigned {
            for w in self.waiting.values_mut().filter(|w| moves.moves(w)) {
                w.until = w.until.min(w.backoff_until.max(now));
            }
        }
        let mut due: Vec<ObjectKey> = std::mem::take(&mut self.queue).into_iter().collect();
        due.extend(
            self.waiting
                .iter()
                .filter(|(_, w)| w.until <= now)
                .map(|(k, _)| k.clone()),
        );
        due.retain(|k| self.tried.get(k) != Some(&now));
        if !due.is_empty() {
            // Queue order: oldest first, then by key.
            due.sort_by_key(|k| (self.pods.get(k).map(|p| p.creation), k.clone()));
            due.dedup();
            let mut views = self.take_views();
            for key in due {
                self.attempt(&key, &mut views, ctx);
            }
            self.views.views = Some(views);
        }
        if let Some(next) = self.waiting.values().map(|w| w.until).min() {
            self.wakeup.arm(next, ctx);
        }
    }

    fn attempt<C: Context>(&mut self, key: &ObjectKey, views: &mut Views, ctx: &mut C) {
        let nodes = &mut views.nodes;
        let now = ctx.now();
        let Some(pod) = self.pods.get(key) else {
            self.waiting.remove(key);
            return;
        };
        if !pod.active() || pod.node.is_some() || self.assumed.contains_key(key) {
            self.waiting.remove(key);
            return;
        }
        self.tried.insert(key.clone(), now);
        let me = PodRef {
            namespace: key.namespace.clone(),
            labels: pod.meta_labels.clone(),
            anti_required: pod.spec.affinity.pod_anti_required.clone(),
        };
        let volumes = self.volume_hosts(key, &pod.spec);
        let (decision, seen) =
            schedule_from(&me, &pod.spec, nodes, &volumes, self.views.next_start);
        if !nodes.is_empty() {
            self.views.next_start = (self.views.next_start + seen) % nodes.len();
        }
        match decision {
            Decision::Bind(i) => {
                nodes[i].add_pod(&me, &pod.spec);
                let added = (effective_requests(&pod.spec), nonzero_requests(&pod.spec));
                views
                    .counted
                    .insert(key.clone(), (i, me.clone(), added.0, added.1));
                let node = nodes[i].name.clone();
                self.waiting.remove(key);
                self.assumed.insert(key.clone(), node.clone());
                let op = SystemOp::Bind {
                    pod: key.clone(),
                    node: Some(node.clone()),
                    reason: None,
                };
                self.calls.send(
                    self.addrs[Part::ApiServer],
                    op,
                    (key.clone(), Some(node)),
                    ctx,
                );
            }
            Decision::Unschedulable(reason) => {
                let stale = pod.reason.as_deref() != Some(reason.as_str());
                if stale && let Some(p) = self.pods.get_mut(key) {
                    p.reason = Some(reason.clone());
                }
                self.back_off(key, now, Retry::Event);
                if stale {
                    let op = SystemOp::Bind {
                        pod: key.clone(),
                        node: None,
                        reason: Some(reason),
                    };
                    self.calls
                        .send(self.addrs[Part::ApiServer], op, (key.clone(), None), ctx);
                }
            }
        }
    }

    /// The hosts the pod's claims allow (their datastores' hosts).
    fn volume_hosts(&self, key: &ObjectKey, spec: &PodSpec) -> VolumeHosts {
        let mut allowed: Option<BTreeSet<HostId>> = None;
        for claim in &spec.volumes {
            let ck = ObjectKey::new(Kind::PersistentVolumeClaim, &key.namespace, claim);
            let Some(Some(ds)) = self.claims.get(&ck) else {
                return Err("pod has unbound immediate PersistentVolumeClaims.".into());
            };
            if self.failed_datastores.contains(ds) {
                return Err(format!(
                    "pod's PersistentVolumeClaim {claim} is on datastore {ds}, which has failed."
                ));
            }
            let hosts = self.datastores.get(ds).cloned().unwrap_or_default();
            allowed = Some(match allowed {
                None => hosts,
                Some(a) => a.intersection(&hosts).copied().collect(),
            });
        }
        Ok(allowed)
    }

    /// The views, brought up to date for the pods that changed (or built
    /// afresh after a node, VM or class changed); put back after the pass.
    fn take_views(&mut self) -> Views {
        let dirty = std::mem::take(&mut self.views.dirty);
        match self.views.views.take() {
            None => self.build_views(),
            Some(mut views) => {
                for key in &dirty {
                    views.uncount(key);
                    self.count(&mut views, key);
                }
                views
            }
        }
    }

    /// Every node with its bound pods and the VMs reserved on it.
    fn build_views(&self) -> Views {
        let nodes: Vec<NodeView> = self
            .nodes
            .iter()
            .map(|(name, (labels, n))| NodeView {
                name: name.clone(),
                host: n.host,
                labels: labels.clone(),
                capacity: n.capacity,
                ready: n.ready,
                unschedulable: n.unschedulable,
                taints: n.taints.clone(),
                requested: Resources::ZERO,
                requested_nonzero: Resources::ZERO,
                pods: Vec::new(),
                pods_with_anti: 0,
            })
            .collect();
        let index: BTreeMap<String, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, v)| (v.name.clone(), i))
            .collect();
        let mut views = Views {
            nodes,
            index,
            counted: Lookup::default(),
        };
        for (key, _) in self.pods.sorted() {
            self.count(&mut views, key);
        }
        for vm in self.vms.values() {
            let Some(&i) = vm.host.as_ref().and_then(|h| views.index.get(h)) else {
                continue;
            };
            let reservation = self.classes.get(&vm.class).copied().unwrap_or_default();
            views.nodes[i].requested += reservation;
            views.nodes[i].requested_nonzero += reservation;
        }
        views
    }

    /// Adds `key`'s pod to its node's view, if it is active and bound (or
    /// assumed) there.
    fn count(&self, views: &mut Views, key: &ObjectKey) {
        let Some(pod) = self.pods.get(key) else {
            return;
        };
        if !pod.active() {
            return;
        }
        let node = self.assumed.get(key).or(pod.node.as_ref());
        let Some(&i) = node.and_then(|n| views.index.get(n)) else {
            return;
        };
        let r = PodRef {
            namespace: key.namespace.clone(),
            labels: pod.meta_labels.clone(),
            anti_required: pod.spec.affinity.pod_anti_required.clone(),
        };
        views.nodes[i].add_pod(&r, &pod.spec);
        let added = (effective_requests(&pod.spec), nonzero_requests(&pod.spec));
        views.counted.insert(key.clone(), (i, r, added.0, added.1));
    }
}

impl Actor for Scheduler {
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        let msg = match event {
            Event::Supervisor(msg) => msg,
            // After a process restart the backoff timer was lost.
            Event::Start => {
                self.wakeup = Wakeup::default();
                return self.pass(Moves::default(), ctx);
            }
            _ => return,
        };
        match *msg {
            SupMsg::Changed {
                object, deleted, ..
            } => {
                let moves = self.observe(&object, deleted, ctx.now());
                self.pass(moves, ctx);
            }
            SupMsg::Reply { id, result } => self.replied(id, result, ctx),
            // Its own restart: binds whose answer was lost are no longer
            // assumed; the relist says whether they took.
            SupMsg::Restart => {
                for (pod, node) in self.calls.abandon() {
                    if node.is_some() {
                        self.assumed.remove(&pod);
                        self.views.dirty.insert(pod);
                    }
                }
            }
            SupMsg::DatastoreFailed { datastore } => {
                self.failed_datastores.insert(datastore);
            }
            // Pods that waited for it are tried again now.
            SupMsg::DatastoreRepaired { datastore } => {
                let repaired = self.failed_datastores.remove(&datastore);
                self.pass(
                    if repaired {
                        Moves::ALL
                    } else {
                        Moves::default()
                    },
                    ctx,
                );
            }
            SupMsg::ControllerTimer(ControllerTimer::Wakeup { due }) if self.wakeup.fired(due) => {
                self.pass(Moves::default(), ctx)
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::testing::TestCtx;
    use crate::api::objects::{Meta, Taint, TaintEffect};
    use crate::model::ActorId;
    use crate::supervisor::testkit::{changed, sup_sent};
    use crate::supervisor::testutil::{addrs, config, node_object, pod_object};

    fn binds(ctx: &mut TestCtx) -> Vec<(String, Option<String>, Option<String>)> {
        (sup_sent(ctx).into_iter())
            .filter_map(|(_, _, m)| match m {
                SupMsg::System {
                    op: SystemOp::Bind { pod, node, reason },
                    ..
                } => Some((pod.name, node, reason)),
                _ => None,
            })
            .collect()
    }

    /// A scheduler that knows `hosts` Ready nodes of 4 cores and 16 GiB.
    fn with_nodes(hosts: usize) -> (Scheduler, TestCtx) {
        let a = addrs(hosts);
        let mut s = Scheduler::new(&config(), a.clone());
        let mut ctx = TestCtx::new(a[Part::Scheduler]);
        for h in 0..hosts {
            let name = format!("esx-{:02}", h + 1);
            let node = node_object(&name, h as u32, 4, 16, &[]);
            s.handle(changed(node, false), &mut ctx);
        }
        (s, ctx)
    }

    #[test]
    fn binds_new_pods_with_the_assume_cache_and_retries_unschedulable_ones() {
        let (mut s, mut ctx) = with_nodes(2);
        s.handle(changed(pod_object("p1", 3, 1), false), &mut ctx);
        s.handle(changed(pod_object("p2", 3, 1), false), &mut ctx);
        // p1 fills esx-01 (the name wins the tie), p2 goes to esx-02.
        assert_eq!(
            binds(&mut ctx),
            vec![
                ("p1".into(), Some("esx-01".into()), None),
                ("p2".into(), Some("esx-02".into()), None)
            ]
        );
        s.handle(changed(pod_object("p3", 3, 1), false), &mut ctx);
        let reason = "0/2 nodes are available: 2 Insufficient cpu.".to_string();
        // Unschedulable: its reason is written once, and it waits for an
        // event that could make it fit, or for the flush after 5 minutes.
        let sent = ctx.take_sent();
        assert_eq!(sent.len(), 2, "{sent:?}");
        assert!(format!("{:?}", sent[0]).contains(&reason), "{sent:?}");
        assert_eq!(sent[1].1, SimDuration::from_secs(300));
        // A pod bound elsewhere cannot make it fit: it is not retried.
        ctx.now = SimTime(200_000_000);
        s.handle(changed(pod_object("p4", 1, 1), false), &mut ctx);
        let p4 = binds(&mut ctx);
        assert_eq!(p4, vec![("p4".into(), Some("esx-01".into()), None)]);
        let mut bound = pod_object("p4", 1, 1);
        if let Body::Pod(p) = &mut bound.body {
            p.node = Some("esx-01".into());
        }
        s.handle(changed(bound.clone(), false), &mut ctx);
        assert!(binds(&mut ctx).is_empty());
        // p1 finishes and frees esx-01: p3 is moved, and tried when its
        // backoff (1 s after its attempt) is over.
        ctx.now = SimTime(500_000_000);
        let mut done = pod_object("p1", 3, 1);
        if let Body::Pod(p) = &mut done.body {
            p.node = Some("esx-01".into());
            p.phase = PodPhase::Succeeded;
        }
        s.handle(changed(done, false), &mut ctx);
        let sent = ctx.take_sent();
        assert_eq!(sent.len(), 1, "only the timer: {sent:?}");
        assert_eq!(sent[0].1, SimDuration::from_millis(500));
        // p4 goes too, so that p3 fits on esx-01 again.
        if let Body::Pod(p) = &mut bound.body {
            p.phase = PodPhase::Succeeded;
        }
        s.handle(changed(bound, false), &mut ctx);
        ctx.now = SimTime(1_000_000_000);
        s.handle(
            SupMsg::ControllerTimer(crate::api::msg::ControllerTimer::Wakeup { due: ctx.now })
                .event(),
            &mut ctx,
        );
        assert_eq!(
            binds(&mut ctx),
            vec![("p3".into(), Some("esx-01".into()), None)]
        );
        assert_eq!(
            s.binding(&ObjectKey::new(Kind::Pod, "ns", "p3")),
            Some("esx-01")
        );
    }

    /// A bind whose answer was lost with a crash is no longer assumed at
    /// the restart: the pod's capacity is free again until the relist
    /// shows whether the bind took.
    #[test]
    fn a_restart_forgets_binds_whose_answer_was_lost() {
        let (mut s, mut ctx) = with_nodes(1);
        let p1 = pod_object("p1", 1, 1);
        s.handle(changed(p1.clone(), false), &mut ctx);
        assert_eq!(binds(&mut ctx).len(), 1);
        assert_eq!(s.binding(&p1.key()), Some("esx-01"));
        s.handle(SupMsg::Restart.event(), &mut ctx);
        assert_eq!(s.binding(&p1.key()), None);
        // A late answer to the forgotten call changes nothing.
        s.handle(
            SupMsg::Reply {
                id: 0,
                result: Ok(5),
            }
            .event(),
            &mut ctx,
        );
        assert_eq!(s.binding(&p1.key()), None);
    }

    #[test]
    fn a_pod_wps_gives_back_waits_for_capacity_or_the_flush() {
        let (mut s, mut ctx) = with_nodes(1);
        s.handle(changed(pod_object("p1", 1, 1), false), &mut ctx);
        assert_eq!(binds(&mut ctx).len(), 1);
        s.handle(
            SupMsg::Reply {
                id: 0,
                result: Ok(5),
            }
            .event(),
            &mut ctx,
        );
        // Bound, then WPS un-binds (DRS refused).
        let mut bound = pod_object("p1", 1, 1);
        if let Body::Pod(p) = &mut bound.body {
            p.node = Some("esx-01".into());
        }
        s.handle(changed(bound, false), &mut ctx);
        let mut back = pod_object("p1", 1, 1);
        if let Body::Pod(p) = &mut back.body {
            p.reason = Some("placement failed".into());
        }
        ctx.now = SimTime(7);
        s.handle(changed(back, false), &mut ctx);
        let sent = ctx.take_sent();
        assert_eq!(sent.len(), 1, "only the flush timer: {sent:?}");
        assert_eq!(sent[0].1, SimDuration::from_secs(300));
        // A node that could take it moves it: tried when its backoff (1 s)
        // is over.
        s.handle(
            changed(node_object("esx-02", 1, 4, 16, &[]), false),
            &mut ctx,
        );
        let sent = ctx.take_sent();
        assert_eq!(sent.len(), 1, "an earlier timer: {sent:?}");
        assert_eq!(sent[0].1, SimDuration::from_secs(1));
        ctx.now = SimTime(7 + 1_000_000_000);
        s.handle(
            SupMsg::ControllerTimer(crate::api::msg::ControllerTimer::Wakeup { due: ctx.now })
                .event(),
            &mut ctx,
        );
        // DRS's reason is invisible here: the same (emptiest) node again.
        assert_eq!(
            binds(&mut ctx),
            vec![("p1".into(), Some("esx-01".into()), None)]
        );
    }

    #[test]
    fn vm_reservations_taints_and_claims_are_filters() {
        let a = addrs(3);
        let mut cfg = config();
        cfg.datastores.push(crate::scenario::DatastoreConfig {
            name: "ds-b".into(),
            capacity_bytes: 1 << 40,
            hosts: vec![HostId(1)],
        });
        let mut s = Scheduler::new(&cfg, a.clone());
        let mut ctx = TestCtx::new(ActorId(0));
        let gpu = Taint {
            key: "dedicated".into(),
            value: "gpu".into(),
            effect: TaintEffect::NoSchedule,
        };
        s.handle(
            changed(node_object("esx-01", 0, 4, 16, &[]), false),
            &mut ctx,
        );
        s.handle(
            changed(node_object("esx-02", 1, 4, 16, &[]), false),
            &mut ctx,
        );
        s.handle(
            changed(node_object("esx-03", 2, 4, 16, &[gpu]), false),
            &mut ctx,
        );
        let class = Object {
            meta: Meta {
                name: "big".into(),
                ..Meta::default()
            },
            body: Body::VirtualMachineClass(crate::api::objects::VirtualMachineClass {
                hardware: Resources::cores(4, 16),
                requests: Resources::cores(4, 16),
            }),
        };
        s.handle(changed(class, false), &mut ctx);
        let vm = Object {
            meta: Meta {
                name: "vm".into(),
                namespace: "ns".into(),
                ..Meta::default()
            },
            body: Body::VirtualMachine(crate::api::objects::VirtualMachine {
                class_name: "big".into(),
                image_name: "img".into(),
                storage_class: "sc".into(),
                power_state: crate::api::objects::PowerState::PoweredOn,
                volumes: vec![],
                phase: crate::api::objects::VmPhase::Created,
                actual_power: crate::api::objects::PowerState::PoweredOn,
                host: Some("esx-01".into()),
                ip: None,
                reason: None,
            }),
        };
        s.handle(changed(vm, false), &mut ctx);
        let mut p = pod_object("p", 1, 1);
        if let Body::Pod(pod) = &mut p.body {
            pod.spec.volumes = vec!["data".into()];
        }
        s.handle(changed(p.clone(), false), &mut ctx);
        assert_eq!(
            binds(&mut ctx),
            vec![(
                "p".into(),
                None,
                Some("pod has unbound immediate PersistentVolumeClaims.".into())
            )]
        );
        let claim = Object {
            meta: Meta {
                name: "data".into(),
                namespace: "ns".into(),
                ..Meta::default()
            },
            body: Body::PersistentVolumeClaim(crate::api::objects::PersistentVolumeClaim {
                storage_class: "sc".into(),
                bytes: 1,
                datastore: Some("ds-b".into()),
            }),
        };
        let ds_b = || "ds-b".to_string();
        s.handle(
            SupMsg::DatastoreFailed { datastore: ds_b() }.event(),
            &mut ctx,
        );
        // Bound after the pod's first backoff (1 s): it is tried again.
        ctx.now = SimTime(1_000_000_000);
        s.handle(changed(claim, false), &mut ctx);
        assert_eq!(
            binds(&mut ctx),
            vec![(
                "p".into(),
                None,
                Some(
                    "pod's PersistentVolumeClaim data is on datastore ds-b, which has failed."
                        .into()
                )
            )]
        );
        // The repair moves it: tried again when its second backoff (2 s)
        // is over, long before the flush.
        ctx.now = SimTime(2_000_000_000);
        s.handle(
            SupMsg::DatastoreRepaired { datastore: ds_b() }.event(),
            &mut ctx,
        );
        assert!(binds(&mut ctx).is_empty());
        ctx.now = SimTime(3_000_000_000);
        s.handle(
            SupMsg::ControllerTimer(crate::api::msg::ControllerTimer::Wakeup { due: ctx.now })
                .event(),
            &mut ctx,
        );
        assert_eq!(
            binds(&mut ctx),
            vec![("p".into(), Some("esx-02".into()), None)]
        );
        // Without the claim: esx-01 is full of the VM, esx-03 tainted.
        let mut q = pod_object("q", 1, 1);
        if let Body::Pod(pod) = &mut q.body {
            pod.spec.requests = Resources::cores(4, 1);
        }
        s.handle(changed(q, false), &mut ctx);
        assert_eq!(
            binds(&mut ctx),
            vec![(
                "q".into(),
                None,
                Some(
                    "0/3 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu."
                        .into()
                )
            )]
        );
    }
}
