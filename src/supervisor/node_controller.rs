//! The node lifecycle controller. A node whose Spherelet has been silent
//! for the grace period becomes NotReady at exactly last heartbeat + grace;
//! a NotReady node's pods are evicted at exactly NotReady + toleration
//! (upstream's default `not-ready:NoExecute` toleration of 300 s; a pod
//! that tolerates the taint itself stays). The next heartbeat makes it
//! Ready again.
//!
//! One timer per node, armed for its next deadline and re-armed lazily when
//! it fires (heartbeats only move the deadline), so a quiet cluster costs
//! one timer per node per grace period, not a periodic scan. Writes the API
//! refuses below quorum are made again at the relist that follows its
//! return: the controller compares what it wants with what it sees.

use super::calls::Calls;
use super::scheduling::{not_ready_taint, tolerated};
use crate::actor::{Actor, Context, Note};
use crate::api::addrs::{Addrs, Part};
use crate::api::msg::{ApiError, SupMsg, SystemOp};
use crate::api::notes::SupNote;
use crate::api::objects::{Body, Object, ObjectKey, PodPhase};
use crate::event::Event;
use crate::model::{HostId, Lookup, SimTime};
use crate::scenario::{SphereletConfig, SupervisorConfig};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug)]
pub struct NodeState {
    pub name: String,
    /// Seen as a Node object (heartbeats may come first).
    pub known: bool,
    pub last_heartbeat: SimTime,
    /// The controller's view.
    pub ready: bool,
    pub not_ready_since: Option<SimTime>,
    /// Its pods were evicted for this NotReady period.
    pub evicted: bool,
    /// What the API store says.
    pub api_ready: bool,
    timer_at: Option<SimTime>,
}

#[derive(Clone, Debug)]
enum Call {
    /// The node and the Ready value written.
    Status(HostId, bool),
    Evict(ObjectKey),
}

#[derive(Clone, Debug)]
pub struct NodeController {
    addrs: Addrs,
    config: SphereletConfig,
    nodes: BTreeMap<HostId, NodeState>,
    /// Active pods per node name, and whether each may stay on a NotReady node.
    pods: BTreeMap<String, BTreeMap<ObjectKey, bool>>,
    pod_node: Lookup<ObjectKey, String>,
    calls: Calls<Call>,
    status_inflight: BTreeSet<HostId>,
    evicting: BTreeSet<ObjectKey>,
    /// A write was refused for want of quorum: reconcile at the next watch event.
    api_down: bool,
}

impl NodeController {
    pub fn new(config: &SupervisorConfig, addrs: Addrs) -> Self {
        NodeController {
            addrs,
            config: config.spherelet.clone(),
            nodes: BTreeMap::new(),
            pods: BTreeMap::new(),
            pod_node: Lookup::default(),
            calls: Calls::default(),
            status_inflight: BTreeSet::new(),
            evicting: BTreeSet::new(),
            api_down: false,
        }
    }

    pub fn node(&self, host: HostId) -> Option<&NodeState> {
        self.nodes.get(&host)
    }

    /// At time 0 and after a process restart: timers were lost, and the
    /// heartbeats that came meanwhile too, so every Ready node gets a fresh
    /// grace period (as upstream's controller does when it starts).
    fn restarted<C: Context>(&mut self, ctx: &mut C) {
        let now = ctx.now();
        let hosts: Vec<HostId> = self.nodes.keys().copied().collect();
        for host in hosts {
            let node = self.nodes.get_mut(&host).expect("listed");
            node.timer_at = None;
            if node.ready {
                node.last_heartbeat = node.last_heartbeat.max(now);
            }
            self.arm(host, ctx);
        }
    }

    fn heartbeat<C: Context>(&mut self, host: HostId, ctx: &mut C) {
        let now = ctx.now();
        let name = self.addrs.node_name(host).to_string();
        let node = self.nodes.entry(host).or_insert_with(|| NodeState {
            name,
            known: false,
            last_heartbeat: now,
            ready: true,
            not_ready_since: None,
            evicted: false,
            api_ready: true,
            timer_at: None,
        });
        node.last_heartbeat = now;
        if !node.ready {
            node.ready = true;
            node.not_ready_since = None;
            node.evicted = false;
            ctx.note(Note::Sup(SupNote::NodeReady { host, ready: true }));
            self.write_status(host, ctx);
        }
        self.arm(host, ctx);
    }

    /// The node's next deadline: NotReady, then eviction.
    fn deadline(&self, node: &NodeState) -> Option<SimTime> {
        if !node.known {
            return None;
        }
        match node.not_ready_since {
            None => Some(node.last_heartbeat + self.config.node_grace_period),
            Some(_) if node.evicted => None,
            Some(since) => Some(since + self.config.not_ready_toleration),
        }
    }

    /// Arms the node's timer unless one is due at or before its deadline.
    fn arm<C: Context>(&mut self, host: HostId, ctx: &mut C) {
        let Some(node) = self.nodes.get(&host) else {
            return;
        };
        let Some(due) = self.deadline(node) else {
            return;
        };
        let now = ctx.now();
        let node = self.nodes.get_mut(&host).expect("checked");
        if node.timer_at.is_some_and(|t| t <= due && t >= now) {
            return;
        }
        node.timer_at = Some(due);
        let msg = SupMsg::NodeCheck {
            host,
            generation: due.0,
        };
        ctx.send(ctx.me(), due.since(now), msg.event());
    }

    fn check<C: Context>(&mut self, host: HostId, generation: u64, ctx: &mut C) {
        let now = ctx.now();
        let Some(node) = self.nodes.get_mut(&host) else {
            return;
        };
        if node.timer_at != Some(SimTime(generation)) {
            return; // superseded by an earlier timer
        }
        node.timer_at = None;
        let due = self.deadline(&self.nodes[&host]);
        if due.is_some_and(|d| d <= now) {
            let node = self.nodes.get_mut(&host).expect("checked");
            if node.ready {
                node.ready = false;
                node.not_ready_since = Some(now);
                ctx.note(Note::Sup(SupNote::NodeReady { host, ready: false }));
                self.write_status(host, ctx);
            } else {
                node.evicted = true;
                self.evict(host, ctx);
            }
        }
        self.arm(host, ctx);
    }

    /// Writes the node's Ready condition when the store disagrees.
    fn write_status<C: Context>(&mut self, host: HostId, ctx: &mut C) {
        let node = &self.nodes[&host];
        if !node.known || node.ready == node.api_ready || self.status_inflight.contains(&host) {
            return;
        }
        let ready = node.ready;
        let op = SystemOp::NodeStatus {
            node: node.name.clone(),
            ready,
        };
        self.status_inflight.insert(host);
        let call = Call::Status(host, ready);
        self.calls.send(self.addrs[Part::ApiServer], op, call, ctx);
        // Optimistic: the watch event confirms it; a refusal is reconciled.
        let node = self.nodes.get_mut(&host).expect("checked");
        node.api_ready = node.ready;
    }

    fn evict<C: Context>(&mut self, host: HostId, ctx: &mut C) {
        let name = self.nodes[&host].name.clone();
        let victims: Vec<ObjectKey> = self
            .pods
            .get(&name)
            .into_iter()
            .flatten()
            .filter(|(k, stays)| !**stays && !self.evicting.contains(*k))
            .map(|(k, _)| k.clone())
            .collect();
        for pod in victims {
            self.evicting.insert(pod.clone());
            let op = SystemOp::Delete(pod.clone());
            self.calls
                .send(self.addrs[Part::ApiServer], op, Call::Evict(pod), ctx);
        }
    }

    fn replied<C: Context>(&mut self, id: u64, result: Result<u64, ApiError>, ctx: &mut C) {
        let Some(call) = self.calls.reply(id) else {
            return;
        };
        let unavailable = matches!(result, Err(ApiError::Unavailable(_)));
        self.api_down |= unavailable;
        match call {
            Call::Status(host, written) => {
                self.status_inflight.remove(&host);
                if unavailable && let Some(n) = self.nodes.get_mut(&host) {
                    // The store kept the other value: reconcile writes again.
                    n.api_ready = !written;
                } else if self.nodes.contains_key(&host) {
                    // The node may have changed its mind meanwhile.
                    self.write_status(host, ctx);
                }
            }
            Call::Evict(pod) => {
                self.evicting.remove(&pod);
                if result.is_ok() {
                    ctx.note(Note::Sup(SupNote::PodEvicted));
                }
            }
        }
    }

    fn observe<C: Context>(&mut self, object: &Object, deleted: bool, ctx: &mut C) {
        let key = object.key();
        match &object.body {
            Body::Node(n) => {
                if deleted {
                    self.nodes.remove(&n.host);
                    return;
                }
                let now = ctx.now();
                let name = object.meta.name.clone();
                let node = self.nodes.entry(n.host).or_insert_with(|| NodeState {
                    name,
                    known: false,
                    last_heartbeat: now,
                    ready: true,
                    not_ready_since: None,
                    evicted: false,
                    api_ready: n.ready,
                    timer_at: None,
                });
                node.api_ready = n.ready;
                if !node.known {
                    // First sight: the grace period starts now at the latest
                    // (upstream's probe timestamp).
                    node.known = true;
                    node.last_heartbeat = node.last_heartbeat.max(now);
                    // Registration: the node counts in the Ready timeline.
                    ctx.note(Note::Sup(SupNote::NodeReady {
                        host: n.host,
                        ready: n.ready,
                    }));
                }
                self.write_status(n.host, ctx);
                self.arm(n.host, ctx);
            }
            Body::Pod(p) => {
                let active = !matches!(p.phase, PodPhase::Succeeded | PodPhase::Failed);
                let now_on = p.node.as_ref().filter(|_| !deleted && active);
                // Most pod changes are status writes on the same node:
                // nothing to move (tolerations cannot change on a pod).
                if now_on.is_some() && self.pod_node.get(&key) == now_on {
                    return;
                }
                if let Some(old) = self.pod_node.remove(&key)
                    && let Some(on) = self.pods.get_mut(&old)
                {
                    on.remove(&key);
                }
                if let Some(node) = now_on {
                    let stays = tolerated(&p.spec.tolerations, &not_ready_taint());
                    self.pods
                        .entry(node.clone())
                        .or_default()
                        .insert(key.clone(), stays);
                    self.pod_node.insert(key, node.clone());
                }
            }
            _ => {}
        }
    }

    /// After the control plane's return: write what the store lacks, evict
    /// what is overdue.
    fn reconcile_all<C: Context>(&mut self, ctx: &mut C) {
        let hosts: Vec<HostId> = self.nodes.keys().copied().collect();
        for host in hosts {
            self.write_status(host, ctx);
            if self.nodes[&host].evicted {
                self.evict(host, ctx);
            }
        }
    }
}

impl Actor for NodeController {
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        let msg = match event {
            Event::Supervisor(msg) => msg,
            Event::Start => return self.restarted(ctx),
            _ => return,
        };
        match *msg {
            SupMsg::Heartbeat { host } => self.heartbeat(host, ctx),
            SupMsg::NodeCheck { host, generation } => self.check(host, generation, ctx),
            SupMsg::Changed {
                object, deleted, ..
            } => {
                self.observe(&object, deleted, ctx);
                if std::mem::take(&mut self.api_down) {
                    self.reconcile_all(ctx);
                }
            }
            SupMsg::Reply { id, result } => self.replied(id, result, ctx),
            // Its own restart: status writes and evictions whose answer was
            // lost are made again when due.
            SupMsg::Restart => {
                self.calls.abandon();
                self.status_inflight.clear();
                self.evicting.clear();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::testing::TestCtx;
    use crate::supervisor::testkit::changed;
    use crate::supervisor::testutil::{addrs, bound, config, node_object, pod_object};

    const S: u64 = 1_000_000_000;

    /// Delivers the controller's own timers in time order until `until`,
    /// returning the system ops it sent with their times.
    fn run_until(
        nc: &mut NodeController,
        ctx: &mut TestCtx,
        timers: &mut Vec<(SimTime, Event)>,
        until: SimTime,
        ops: &mut Vec<(SimTime, SystemOp)>,
    ) {
        loop {
            for (to, d, e) in ctx.take_sent() {
                if to == ctx.me {
                    timers.push((ctx.now + d, e));
                } else if let Event::Supervisor(m) = e
                    && let SupMsg::System { op, .. } = *m
                {
                    ops.push((ctx.now, op));
                }
            }
            timers.sort_by_key(|(t, _)| *t);
            if timers.first().is_none_or(|(t, _)| *t > until) {
                ctx.now = until;
                return;
            }
            let (t, e) = timers.remove(0);
            ctx.now = t;
            nc.handle(e, ctx);
        }
    }

    #[test]
    fn not_ready_at_last_heartbeat_plus_grace_and_eviction_after_the_toleration() {
        let a = addrs(2);
        let mut nc = NodeController::new(&config(), a.clone());
        let mut ctx = TestCtx::new(a[Part::NodeController]);
        let (mut timers, mut ops) = (Vec::new(), Vec::new());
        nc.handle(SupMsg::Heartbeat { host: HostId(0) }.event(), &mut ctx);
        nc.handle(
            changed(node_object("esx-01", 0, 8, 32, &[]), false),
            &mut ctx,
        );
        nc.handle(
            changed(
                bound(pod_object("p", 1, 1), "esx-01", PodPhase::Running),
                false,
            ),
            &mut ctx,
        );
        let mut tolerant = bound(pod_object("t", 1, 1), "esx-01", PodPhase::Running);
        if let Body::Pod(p) = &mut tolerant.body {
            p.spec.tolerations.push(crate::api::objects::Toleration {
                key: "node.kubernetes.io/not-ready".into(),
                operator: crate::api::objects::TolerationOperator::Exists,
                value: String::new(),
                effect: None,
            });
        }
        nc.handle(changed(tolerant, false), &mut ctx);
        // Heartbeats every 10 s up to 123 s, then silence (a partition).
        for t in (3..=123).step_by(10) {
            run_until(&mut nc, &mut ctx, &mut timers, SimTime(t * S), &mut ops);
            nc.handle(SupMsg::Heartbeat { host: HostId(0) }.event(), &mut ctx);
        }
        run_until(&mut nc, &mut ctx, &mut timers, SimTime(1000 * S), &mut ops);
        let evict = ObjectKey::new(crate::api::objects::Kind::Pod, "ns", "p");
        assert_eq!(
            ops,
            vec![
                (
                    SimTime(163 * S),
                    SystemOp::NodeStatus {
                        node: "esx-01".into(),
                        ready: false
                    }
                ),
                (SimTime(463 * S), SystemOp::Delete(evict)),
            ]
        );
        assert_eq!(
            ctx.notes,
            vec![
                // Registration, then the NotReady at 163 s.
                Note::Sup(SupNote::NodeReady {
                    host: HostId(0),
                    ready: true
                }),
                Note::Sup(SupNote::NodeReady {
                    host: HostId(0),
                    ready: false
                })
            ]
        );
        // Timers were lazy: about one per grace period while heartbeating.
        assert!(timers.is_empty());
        // Back: Ready at once (once the NotReady write is answered).
        nc.handle(
            SupMsg::Reply {
                id: 0,
                result: Ok(9),
            }
            .event(),
            &mut ctx,
        );
        nc.handle(SupMsg::Heartbeat { host: HostId(0) }.event(), &mut ctx);
        let sent = ctx.take_sent();
        assert!(matches!(&sent[0].2, Event::Supervisor(m) if matches!(&**m,
            SupMsg::System { op: SystemOp::NodeStatus { ready: true, .. }, .. })));
    }

    #[test]
    fn a_refused_write_is_made_again_when_the_control_plane_is_back() {
        let a = addrs(1);
        let mut nc = NodeController::new(&config(), a.clone());
        let mut ctx = TestCtx::new(a[Part::NodeController]);
        let (mut timers, mut ops) = (Vec::new(), Vec::new());
        nc.handle(
            changed(node_object("esx-01", 0, 8, 32, &[]), false),
            &mut ctx,
        );
        nc.handle(
            changed(
                bound(pod_object("p", 1, 1), "esx-01", PodPhase::Running),
                false,
            ),
            &mut ctx,
        );
        run_until(&mut nc, &mut ctx, &mut timers, SimTime(40 * S), &mut ops);
        assert_eq!(ops.len(), 1);
        let down = Err(ApiError::Unavailable("no quorum".into()));
        nc.handle(
            SupMsg::Reply {
                id: 0,
                result: down.clone(),
            }
            .event(),
            &mut ctx,
        );
        run_until(&mut nc, &mut ctx, &mut timers, SimTime(340 * S), &mut ops);
        assert_eq!(ops.len(), 2, "the eviction is tried: {ops:?}");
        nc.handle(
            SupMsg::Reply {
                id: 1,
                result: down,
            }
            .event(),
            &mut ctx,
        );
        ops.clear();
        // The relist at 500 s: the node object still says Ready.
        run_until(&mut nc, &mut ctx, &mut timers, SimTime(500 * S), &mut ops);
        nc.handle(
            changed(node_object("esx-01", 0, 8, 32, &[]), false),
            &mut ctx,
        );
        run_until(&mut nc, &mut ctx, &mut timers, SimTime(500 * S), &mut ops);
        let p = ObjectKey::new(crate::api::objects::Kind::Pod, "ns", "p");
        assert_eq!(
            ops,
            vec![
                (
                    SimTime(500 * S),
                    SystemOp::NodeStatus {
                        node: "esx-01".into(),
                        ready: false
                    }
                ),
                (SimTime(500 * S), SystemOp::Delete(p)),
            ]
        );
    }
}
