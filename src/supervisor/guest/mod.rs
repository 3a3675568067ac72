//! One actor per guest cluster (TanzuKubernetesCluster), named
//! `guest/<namespace>/<name>`: the guest's own API (Deployments,
//! ReplicaSets and Pods inside it), its scheduler, its kubelets' pod
//! starts, its taint manager (pods leave a NotReady node after a
//! toleration) and its cluster autoscaler. Its nodes come and go by
//! Cluster API's messages (`GuestNodeUp`, `GuestDrain`, ...); its pods use
//! the nodes' capacity only, so they are capacity inside capacity: the
//! VMs already hold the hosts.
//!
//! The state is a fold of the events handled (no clocks read elsewhere, no
//! hash maps), so a rebuild from the journal gives the same state.
//!
//! `place`: the scheduler's pure choice; `autoscaler`: the pure scale
//! decisions; `api`: the guest's API calls.

pub mod api;
pub mod autoscaler;
pub mod place;
#[cfg(test)]
mod tests;

use super::scheduling::{Labels, effective_requests};
use crate::actor::{Actor, Context};
use crate::api::msg::{GuestTimer, SupMsg};
use crate::api::objects::{NodePool, PodSpec, TanzuKubernetesCluster};
use crate::event::Event;
use crate::model::{ActorId, Resources, SimDuration, SimTime};
use crate::scenario::GuestClustersConfig;
use place::{NodeFit, POOL_LABEL};
use std::collections::BTreeMap;

/// (namespace, name) inside the guest cluster.
pub type GuestKey = (String, String);

#[derive(Clone, Debug)]
pub struct Pool {
    /// The pool's VM class hardware: what one node brings.
    pub node_capacity: Resources,
    pub bounds: Option<(u32, u32)>,
    /// Replicas the cluster asked of Cluster API (the TKC's, then the
    /// autoscaler's).
    pub desired: u32,
}

#[derive(Clone, Debug)]
pub struct GuestNode {
    pub pool: String,
    pub control_plane: bool,
    pub capacity: Resources,
    pub ready: bool,
    /// Cordoned for a drain.
    pub cordoned: bool,
    /// Bumped when readiness changes, so a stale toleration timer is known.
    pub generation: u64,
    /// Requests below the threshold since (autoscaler scale-down).
    pub unneeded_since: Option<SimTime>,
    /// When it first joined.
    pub joined: SimTime,
}

/// A Deployment or ReplicaSet inside the guest.
#[derive(Clone, Debug)]
pub struct GuestSet {
    pub replicas: u32,
    pub labels: Labels,
    pub template: PodSpec,
    /// Suffix of the next pod it creates.
    pub next: u64,
    pub created: SimTime,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GuestPhase {
    /// Not bound (`reason`: why nothing fits).
    Pending,
    /// Bound, containers starting.
    Starting,
    Running,
}

#[derive(Clone, Debug)]
pub struct GuestPod {
    pub owner: Option<String>,
    pub labels: Labels,
    pub spec: PodSpec,
    pub node: Option<String>,
    pub phase: GuestPhase,
    pub reason: Option<String>,
    /// Bumped at every (un)binding: a start timer of an old binding is stale.
    pub generation: u64,
    /// Creation order: the scheduling queue's order.
    pub seq: u64,
    pub created: SimTime,
}

/// A node joining (capi's `GuestNodeUp`).
struct NodeUp {
    name: String,
    pool: String,
    control_plane: bool,
    capacity: Resources,
}

/// What happened in the cluster, for the summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GuestCounters {
    /// Autoscaler decisions (each a `GuestScalePool`) and the nodes they
    /// added or removed.
    pub scale_ups: u64,
    pub scale_downs: u64,
    pub nodes_added: u64,
    pub nodes_removed: u64,
    /// Pods moved off drained nodes (upgrade, scale-down, remediation).
    pub disrupted: u64,
    /// Pods taken off NotReady nodes after the toleration, or off nodes
    /// deleted without a drain.
    pub evicted: u64,
    pub calls_accepted: u64,
    pub calls_refused: u64,
}

#[derive(Clone, Debug)]
pub struct GuestCluster {
    /// `namespace/name` of the TanzuKubernetesCluster.
    pub name: String,
    capi: ActorId,
    config: GuestClustersConfig,
    control_plane_replicas: u32,
    pools: BTreeMap<String, Pool>,
    nodes: BTreeMap<String, GuestNode>,
    sets: BTreeMap<GuestKey, GuestSet>,
    pods: BTreeMap<GuestKey, GuestPod>,
    rv: u64,
    seq: u64,
    scan_armed: bool,
    pub counters: GuestCounters,
}

impl GuestCluster {
    /// `classes`: hardware of each VirtualMachineClass (a pool's node size
    /// before any of its nodes exists).
    pub fn new(
        name: String,
        tkc: &TanzuKubernetesCluster,
        classes: &BTreeMap<String, Resources>,
        config: &GuestClustersConfig,
        capi: ActorId,
    ) -> Self {
        let pool = |p: &NodePool| Pool {
            node_capacity: classes.get(&p.vm_class).copied().unwrap_or_default(),
            bounds: p.autoscale,
            desired: p.replicas,
        };
        GuestCluster {
            name,
            capi,
            config: config.clone(),
            control_plane_replicas: tkc.control_plane.replicas,
            pools: tkc
                .node_pools
                .iter()
                .map(|p| (p.name.clone(), pool(p)))
                .collect(),
            nodes: BTreeMap::new(),
            sets: BTreeMap::new(),
            pods: BTreeMap::new(),
            rv: 0,
            seq: 0,
            scan_armed: false,
            counters: GuestCounters::default(),
        }
    }

    pub fn nodes(&self) -> &BTreeMap<String, GuestNode> {
        &self.nodes
    }

    pub fn pods(&self) -> &BTreeMap<GuestKey, GuestPod> {
        &self.pods
    }

    pub fn pools(&self) -> &BTreeMap<String, Pool> {
        &self.pools
    }

    /// Its Deployments and ReplicaSets.
    pub fn sets(&self) -> &BTreeMap<GuestKey, GuestSet> {
        &self.sets
    }

    /// Bumped by every call its API accepted.
    pub fn resource_version(&self) -> u64 {
        self.rv
    }

    /// Control-plane replicas plus every pool's desired replicas.
    pub fn nodes_desired(&self) -> u32 {
        self.control_plane_replicas + self.pools.values().map(|p| p.desired).sum::<u32>()
    }

    /// The guest's API answers once a control-plane node is Ready.
    pub fn api_available(&self) -> bool {
        self.nodes.values().any(|n| n.control_plane && n.ready)
    }

    fn node_up(&mut self, up: NodeUp, now: SimTime) {
        let NodeUp {
            name,
            pool,
            control_plane,
            capacity,
        } = up;
        let node = self.nodes.entry(name).or_insert(GuestNode {
            pool,
            control_plane,
            capacity,
            ready: false,
            cordoned: false,
            generation: 0,
            unneeded_since: None,
            joined: now,
        });
        // A node seen again is Ready again (its VM came back).
        node.ready = true;
        node.capacity = capacity;
        node.generation += 1;
    }

    fn node_down<C: Context>(&mut self, name: &str, ctx: &mut C) {
        let Some(node) = self.nodes.get_mut(name) else {
            return;
        };
        if !node.ready {
            return;
        }
        node.ready = false;
        node.generation += 1;
        let timer = GuestTimer::NotReadyExpired {
            node: name.to_string(),
            generation: node.generation,
        };
        let me = ctx.me();
        ctx.send(
            me,
            self.config.not_ready_toleration,
            SupMsg::GuestTimer(timer).event(),
        );
    }

    /// Cordons the node and sends its pods back to the queue; how many.
    pub fn drain(&mut self, name: &str) -> u32 {
        let Some(node) = self.nodes.get_mut(name) else {
            return 0;
        };
        node.cordoned = true;
        let moved = self.unbind_node(name);
        self.counters.disrupted += u64::from(moved);
        moved
    }

    /// Every pod bound to `node` becomes Pending and unbound again.
    fn unbind_node(&mut self, node: &str) -> u32 {
        let mut moved = 0;
        for pod in self.pods.values_mut() {
            if pod.node.as_deref() == Some(node) {
                pod.node = None;
                pod.phase = GuestPhase::Pending;
                pod.generation += 1;
                moved += 1;
            }
        }
        moved
    }

    fn timer<C: Context>(&mut self, timer: GuestTimer, ctx: &mut C) {
        match timer {
            GuestTimer::PodStarted {
                namespace,
                name,
                generation,
            } => {
                if let Some(pod) = self.pods.get_mut(&(namespace, name))
                    && pod.generation == generation
                    && pod.phase == GuestPhase::Starting
                {
                    pod.phase = GuestPhase::Running;
                }
            }
            GuestTimer::NotReadyExpired { node, generation } => {
                let expired = self
                    .nodes
                    .get(&node)
                    .is_some_and(|n| n.generation == generation && !n.ready);
                if expired {
                    self.counters.evicted += u64::from(self.unbind_node(&node));
                }
            }
            GuestTimer::Scan => {
                self.scan_armed = false;
                self.autoscale(ctx);
            }
        }
    }

    /// Timers died with a crash: arm them again from the state.
    fn restart_timers<C: Context>(&mut self, ctx: &mut C) {
        self.scan_armed = false;
        let me = ctx.me();
        for ((namespace, name), pod) in &self.pods {
            if pod.phase == GuestPhase::Starting {
                let timer = GuestTimer::PodStarted {
                    namespace: namespace.clone(),
                    name: name.clone(),
                    generation: pod.generation,
                };
                ctx.send(me, SimDuration::ZERO, SupMsg::GuestTimer(timer).event());
            }
        }
        for (name, node) in &self.nodes {
            if !node.ready {
                let timer = GuestTimer::NotReadyExpired {
                    node: name.clone(),
                    generation: node.generation,
                };
                let delay = self.config.not_ready_toleration;
                ctx.send(me, delay, SupMsg::GuestTimer(timer).event());
            }
        }
        self.arm_scan(ctx);
    }

    /// The scheduler's view of every node, in name order.
    pub fn node_fits(&self) -> Vec<NodeFit> {
        let mut requested: BTreeMap<&str, Resources> = BTreeMap::new();
        for pod in self.pods.values() {
            if let Some(n) = &pod.node {
                *requested.entry(n).or_default() += effective_requests(&pod.spec);
            }
        }
        self.nodes
            .iter()
            .map(|(name, n)| NodeFit {
                name: name.clone(),
                labels: [
                    ("kubernetes.io/hostname".to_string(), name.clone()),
                    (POOL_LABEL.to_string(), n.pool.clone()),
                ]
                .into(),
                capacity: n.capacity,
                requested: requested.get(name.as_str()).copied().unwrap_or_default(),
                schedulable: n.ready && !n.cordoned,
                control_plane: n.control_plane,
            })
            .collect()
    }

    /// Unbound pods in queue order (creation order).
    fn queue(&self) -> Vec<GuestKey> {
        let mut q: Vec<(u64, &GuestKey)> = self
            .pods
            .iter()
            .filter(|(_, p)| p.node.is_none())
            .map(|(k, p)| (p.seq, k))
            .collect();
        q.sort();
        q.into_iter().map(|(_, k)| k.clone()).collect()
    }

    /// Binds what fits, in queue order; the rest stays Pending with a reason.
    fn schedule<C: Context>(&mut self, ctx: &mut C) {
        let queue = self.queue();
        if queue.is_empty() {
            return;
        }
        let mut fits = self.node_fits();
        let me = ctx.me();
        for key in queue {
            let pod = self.pods.get_mut(&key).expect("queued pods exist");
            match place::pick(&pod.spec, &fits) {
                Some(i) => {
                    fits[i].requested += effective_requests(&pod.spec);
                    pod.node = Some(fits[i].name.clone());
                    pod.phase = GuestPhase::Starting;
                    pod.reason = None;
                    pod.generation += 1;
                    let delay = SimDuration(ctx.sample(&self.config.pod_start_latency));
                    let timer = GuestTimer::PodStarted {
                        namespace: key.0.clone(),
                        name: key.1.clone(),
                        generation: pod.generation,
                    };
                    ctx.send(me, delay, SupMsg::GuestTimer(timer).event());
                }
                None => pod.reason = Some(place::unschedulable_reason(&pod.spec, &fits)),
            }
        }
    }

    fn autoscales(&self) -> bool {
        self.pools.values().any(|p| p.bounds.is_some())
    }

    /// Scans every `scan_interval` while there is something to decide:
    /// pending pods, or a pool above its min.
    fn arm_scan<C: Context>(&mut self, ctx: &mut C) {
        if self.scan_armed || !self.autoscales() {
            return;
        }
        let pending = self.pods.values().any(|p| p.node.is_none());
        let above_min = self
            .pools
            .values()
            .any(|p| p.bounds.is_some_and(|(min, _)| p.desired > min));
        if pending || above_min {
            self.scan_armed = true;
            let me = ctx.me();
            ctx.send(
                me,
                self.config.scan_interval,
                SupMsg::GuestTimer(GuestTimer::Scan).event(),
            );
        }
    }

    fn pool_views(&self) -> Vec<autoscaler::PoolView> {
        self.pools
            .iter()
            .map(|(name, p)| autoscaler::PoolView {
                name: name.clone(),
                node_capacity: p.node_capacity,
                bounds: p.bounds,
                desired: p.desired,
                nodes: self.nodes.values().filter(|n| &n.pool == name).count() as u32,
            })
            .collect()
    }

    fn autoscale<C: Context>(&mut self, ctx: &mut C) {
        let pending: Vec<&PodSpec> = self.queue().iter().map(|k| &self.pods[k].spec).collect();
        let views = self.pool_views();
        let mut decisions: BTreeMap<String, u32> =
            autoscaler::scale_up(&views, &pending, self.config.expander);
        if !decisions.is_empty() {
            self.counters.scale_ups += decisions.len() as u64;
        } else {
            let settled = pending.is_empty()
                && views
                    .iter()
                    .filter(|v| v.bounds.is_some())
                    .all(|v| v.nodes == v.desired);
            decisions = self.scale_down(settled, ctx.now());
            self.counters.scale_downs += decisions.len() as u64;
        }
        for (pool, replicas) in decisions {
            let p = self.pools.get_mut(&pool).expect("decided for a known pool");
            if replicas > p.desired {
                self.counters.nodes_added += u64::from(replicas - p.desired);
            } else {
                self.counters.nodes_removed += u64::from(p.desired - replicas);
            }
            p.desired = replicas;
            ctx.send(
                self.capi,
                SimDuration::ZERO,
                SupMsg::GuestScalePool { pool, replicas }.event(),
            );
        }
    }

    /// Tracks each autoscaled worker's unneeded time; with `settled` (no
    /// pending pods, no scaling in flight), removes at most one node per
    /// pool whose time is up and whose pods fit on the other nodes.
    fn scale_down(&mut self, settled: bool, now: SimTime) -> BTreeMap<String, u32> {
        let mut fits = self.node_fits();
        let pct = self.config.scale_down_utilization_pct;
        for fit in &fits {
            let node = self.nodes.get_mut(&fit.name).expect("fits are nodes");
            let autoscaled = self
                .pools
                .get(&node.pool)
                .is_some_and(|p| p.bounds.is_some());
            let candidate = autoscaled
                && fit.schedulable
                && !node.control_plane
                && autoscaler::underutilized(fit, pct);
            if !candidate {
                node.unneeded_since = None;
            } else if node.unneeded_since.is_none() {
                node.unneeded_since = Some(now);
            }
        }
        let mut out = BTreeMap::new();
        if !settled {
            return out;
        }
        let due: Vec<String> = self
            .nodes
            .iter()
            .filter(|(_, n)| {
                n.unneeded_since
                    .is_some_and(|s| now.since(s) >= self.config.scale_down_unneeded_time)
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in due {
            let pool_name = self.nodes[&name].pool.clone();
            let pool = &self.pools[&pool_name];
            let (min, _) = pool.bounds.expect("candidates are autoscaled");
            if out.contains_key(&pool_name) || pool.desired <= min {
                continue;
            }
            let pods: Vec<&PodSpec> = self
                .pods
                .values()
                .filter(|p| p.node.as_deref() == Some(name.as_str()))
                .map(|p| &p.spec)
                .collect();
            let mut others: Vec<NodeFit> =
                fits.iter().filter(|f| f.name != name).cloned().collect();
            if autoscaler::pods_fit_elsewhere(&pods, &mut others) {
                out.insert(pool_name, pool.desired - 1);
                // What moved is accounted for the next candidate.
                fits = others;
            }
        }
        out
    }

    /// Applies a call and replies to `caller`.
    fn answer<C: Context>(
        &mut self,
        id: crate::api::msg::CallId,
        caller: ActorId,
        verb: crate::api::Verb,
        object: crate::api::objects::Object,
        ctx: &mut C,
    ) {
        let result = self.call(verb, object, ctx.now());
        match &result {
            Ok(_) => self.counters.calls_accepted += 1,
            Err(_) => self.counters.calls_refused += 1,
        }
        ctx.send(
            caller,
            SimDuration::ZERO,
            SupMsg::Reply { id, result }.event(),
        );
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

impl Actor for GuestCluster {
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        let msg = match event {
            Event::Start => {
                self.restart_timers(ctx);
                return;
            }
            Event::Supervisor(msg) => *msg,
            _ => return,
        };
        match msg {
            SupMsg::GuestNodeUp {
                node,
                pool,
                control_plane,
                capacity,
            } => {
                let up = NodeUp {
                    name: node,
                    pool,
                    control_plane,
                    capacity,
                };
                self.node_up(up, ctx.now());
            }
            SupMsg::GuestNodeDown { node } => self.node_down(&node, ctx),
            SupMsg::GuestDrain { node } => {
                let disrupted = self.drain(&node);
                ctx.send(
                    ctx.sender(),
                    SimDuration::ZERO,
                    SupMsg::GuestNodeDrained { node, disrupted }.event(),
                );
            }
            SupMsg::GuestNodeGone { node } => {
                if self.nodes.remove(&node).is_some() {
                    self.counters.evicted += self.unbind_node(&node) as u64;
                }
            }
            SupMsg::GuestCall {
                id,
                verb,
                object,
                user: _,
            } => self.answer(id, ctx.sender(), verb, object, ctx),
            // A user's call from outside, through the proxy and capi.
            SupMsg::GuestAuthorized {
                id,
                caller,
                verb,
                object,
                tkc: _,
            } => self.answer(id, caller, verb, object, ctx),
            SupMsg::GuestTimer(timer) => self.timer(timer, ctx),
            _ => return,
        }
        self.schedule(ctx);
        self.arm_scan(ctx);
    }
}
