//! The Spherelet: the kubelet of one ESXi host. Registers the host as a
//! node, heartbeats to the node controller while the host is up and
//! reachable, starts vSphere Pods (CRX boot + image pull, sampled from its
//! own stream) and reports their phases.
//!
//! When its host fails the pods are gone and nothing is reported (the node
//! goes NotReady and the node controller evicts, as in the real system);
//! when the host comes back before that, the pods it lost are reported
//! Failed (`NodeLost`) so that their owners replace them. Status writes
//! made while the host is cut off, or refused while the control plane is
//! down, are kept and sent again at the next heartbeat. Pods whose CRX
//! vSphere HA powered off while the host was cut off are reported Failed
//! the same way (a pod object must not stay Running with no CRX).

use super::calls::Calls;
use crate::actor::{Actor, Context, Note};
use crate::api::addrs::{Addrs, Part};
use crate::api::msg::{ApiError, SupMsg, SystemOp};
use crate::api::notes::SupNote;
use crate::api::objects::{Body, Meta, Node, Object, ObjectKey, PodPhase, Taint};
use crate::event::Event;
use crate::model::{HostId, Resources, SimDuration, SimTime, VmId};
use crate::scenario::{SphereletConfig, SupervisorConfig};
use std::collections::BTreeMap;

/// The reason of a pod whose CRX HA powered off while its host was cut off.
const CRX_FENCED: &str =
    "NodeLost: vSphere HA powered the pod's CRX off while its host was cut off";
const CRX_NEVER_STARTED: &str = "NodeLost: the pod's CRX never powered on: its host was cut off, \
     and vSphere HA had declared it failed before the power-on ran";

#[derive(Clone, Debug)]
struct RunningPod {
    vm: VmId,
    generation: u64,
    asked: SimTime,
    /// When the CRX is up (and, once running, when it finishes).
    due: SimTime,
    run_for: Option<SimDuration>,
    running: bool,
}

#[derive(Clone, Debug)]
pub struct Spherelet {
    addrs: Addrs,
    host: HostId,
    capacity: Resources,
    taints: Vec<Taint>,
    config: SphereletConfig,
    up: bool,
    reachable: bool,
    /// Restarted and not yet told its host's state (a change while the
    /// process was down was lost): silent until then.
    asking_host: bool,
    registered: bool,
    /// When the next heartbeat is due (None: the loop is stopped). A
    /// timer arriving before it is stale (armed before a process restart).
    heartbeat_due: Option<SimTime>,
    pods: BTreeMap<ObjectKey, RunningPod>,
    /// Pods the host lost in a failure, reported Failed when it returns.
    lost: Vec<ObjectKey>,
    next_generation: u64,
    calls: Calls<SystemOp>,
    /// Writes to send again at the next heartbeat.
    outbox: Vec<SystemOp>,
}

impl Spherelet {
    pub fn new(config: &SupervisorConfig, addrs: Addrs, host: HostId, capacity: Resources) -> Self {
        let taints = config
            .node_taints
            .iter()
            .filter(|(h, _)| *h == host)
            .map(|(_, t)| t.clone())
            .collect();
        Spherelet {
            addrs,
            host,
            capacity,
            taints,
            config: config.spherelet.clone(),
            up: true,
            reachable: true,
            asking_host: false,
            registered: false,
            heartbeat_due: None,
            pods: BTreeMap::new(),
            lost: Vec::new(),
            next_generation: 0,
            calls: Calls::default(),
            outbox: Vec::new(),
        }
    }

    /// The pods whose CRX runs (or boots) here, in key order.
    pub fn pods(&self) -> impl Iterator<Item = &ObjectKey> {
        self.pods.keys()
    }

    pub fn registered(&self) -> bool {
        self.registered
    }

    /// The node this Spherelet registers (its host's name).
    pub fn node(&self) -> &str {
        self.addrs.node_name(self.host)
    }

    pub fn host(&self) -> HostId {
        self.host
    }

    /// The CRX of a pod this Spherelet runs, and whether it has booted.
    pub fn crx_of(&self, pod: &ObjectKey) -> Option<(VmId, bool)> {
        self.pods.get(pod).map(|p| (p.vm, p.running))
    }

    fn node_name(&self) -> String {
        self.node().to_string()
    }

    fn start<C: Context>(&mut self, ctx: &mut C) {
        if !self.registered && !self.registering() {
            self.register(ctx);
        }
        self.heartbeat_due = None;
        self.heartbeat(ctx);
        let now = ctx.now();
        for (pod, p) in &self.pods {
            let msg = if p.running {
                match p.run_for {
                    Some(_) => SupMsg::PodFinished {
                        pod: pod.clone(),
                        generation: p.generation,
                    },
                    None => continue,
                }
            } else {
                SupMsg::PodBooted {
                    pod: pod.clone(),
                    generation: p.generation,
                }
            };
            ctx.send(ctx.me(), p.due.max(now).since(now), msg.event());
        }
    }

    fn registering(&self) -> bool {
        self.calls
            .inflight()
            .any(|op| matches!(op, SystemOp::Create(_)))
    }

    fn register<C: Context>(&mut self, ctx: &mut C) {
        let name = self.node_name();
        let node = Object {
            meta: Meta {
                name: name.clone(),
                labels: [("kubernetes.io/hostname".to_string(), name)].into(),
                ..Meta::default()
            },
            body: Body::Node(Node {
                host: self.host,
                capacity: self.capacity,
                ready: true,
                taints: self.taints.clone(),
                unschedulable: false,
            }),
        };
        self.write(SystemOp::Create(Box::new(node)), ctx);
    }

    fn online(&self) -> bool {
        self.up && self.reachable && !self.asking_host
    }

    /// Heartbeats (and re-sends what failed) while the host is online; the
    /// loop stops while it is not and restarts when it is back.
    fn heartbeat<C: Context>(&mut self, ctx: &mut C) {
        if !self.online() || self.heartbeat_due.is_some() {
            return;
        }
        let msg = SupMsg::Heartbeat { host: self.host };
        ctx.send(
            self.addrs[Part::NodeController],
            SimDuration::ZERO,
            msg.event(),
        );
        if !self.registered && !self.registering() {
            self.register(ctx);
        }
        for op in std::mem::take(&mut self.outbox) {
            self.write(op, ctx);
        }
        let interval = self.config.heartbeat_interval;
        self.heartbeat_due = Some(ctx.now() + interval);
        ctx.send(ctx.me(), interval, SupMsg::HeartbeatTimer.event());
    }

    fn host_state<C: Context>(&mut self, up: bool, reachable: bool, ctx: &mut C) {
        self.asking_host = false;
        if self.up && !up {
            // The CRXs died with the host.
            let lost = std::mem::take(&mut self.pods);
            self.lost.extend(lost.into_keys());
        }
        let returned = !self.up && up;
        self.up = up;
        self.reachable = reachable;
        if returned {
            for pod in std::mem::take(&mut self.lost) {
                self.report_lost(pod, "NodeLost", ctx);
            }
        }
        self.heartbeat(ctx);
    }

    /// These CRXs are not running here (HA powered them off while the host
    /// was cut off, or their power-on was dropped at a fenced heal): their
    /// pods are gone, and reported Failed with `reason`.
    fn crxs_gone<C: Context>(&mut self, vms: &[VmId], reason: &str, ctx: &mut C) {
        let gone: Vec<ObjectKey> = self
            .pods
            .iter()
            .filter(|(_, p)| vms.contains(&p.vm))
            .map(|(k, _)| k.clone())
            .collect();
        for pod in gone {
            self.pods.remove(&pod);
            self.report_lost(pod, reason, ctx);
        }
    }

    /// Reports a pod whose CRX is gone Failed, so that its owner replaces it.
    fn report_lost<C: Context>(&mut self, pod: ObjectKey, reason: &str, ctx: &mut C) {
        let op = SystemOp::PodStatus {
            pod,
            phase: PodPhase::Failed,
            reason: Some(reason.into()),
        };
        self.write(op, ctx);
    }

    /// After a restart, WPS's list of the pods placed here: those whose
    /// CRX died with the host while it was down are reported Failed (unless
    /// already to be reported); the others it does not list were released
    /// (their stop was lost) and are forgotten; those it does not run are
    /// started.
    fn sync_pods<C: Context>(
        &mut self,
        listed: Vec<(ObjectKey, VmId, Option<SimDuration>)>,
        lost: Vec<ObjectKey>,
        ctx: &mut C,
    ) {
        for pod in lost {
            self.pods.remove(&pod);
            if !self.lost.contains(&pod) {
                self.report_lost(pod, "NodeLost", ctx);
            }
        }
        let keep: std::collections::BTreeSet<&ObjectKey> =
            listed.iter().map(|(k, _, _)| k).collect();
        self.pods.retain(|k, _| keep.contains(k));
        for (pod, vm, run_for) in listed {
            self.start_pod(pod, vm, run_for, ctx);
        }
    }

    fn start_pod<C: Context>(
        &mut self,
        pod: ObjectKey,
        vm: VmId,
        run_for: Option<SimDuration>,
        ctx: &mut C,
    ) {
        // A start sent again after a restart: not for a pod it runs, nor
        // for one it finished whose report still waits to be sent.
        let finished = self.outbox.iter().any(|op| {
            matches!(op, SystemOp::PodStatus { pod: p, phase: PodPhase::Succeeded | PodPhase::Failed, .. } if *p == pod)
        });
        if !self.up || finished || self.pods.contains_key(&pod) {
            return;
        }
        let generation = self.next_generation;
        self.next_generation += 1;
        let latency = SimDuration(ctx.sample(&self.config.pod_start_latency));
        self.pods.insert(
            pod.clone(),
            RunningPod {
                vm,
                generation,
                asked: ctx.now(),
                due: ctx.now() + latency,
                run_for,
                running: false,
            },
        );
        let msg = SupMsg::PodBooted { pod, generation };
        ctx.send(ctx.me(), latency, msg.event());
    }

    fn booted<C: Context>(&mut self, pod: ObjectKey, generation: u64, ctx: &mut C) {
        let Some(p) = self
            .pods
            .get_mut(&pod)
            .filter(|p| p.generation == generation && !p.running)
        else {
            return;
        };
        p.running = true;
        let latency = ctx.now().since(p.asked);
        let run_for = p.run_for;
        if let Some(d) = run_for {
            p.due = ctx.now() + d;
        }
        ctx.note(Note::Sup(SupNote::PodStarted { latency }));
        if let Some(d) = run_for {
            let msg = SupMsg::PodFinished {
                pod: pod.clone(),
                generation,
            };
            ctx.send(ctx.me(), d, msg.event());
        }
        let op = SystemOp::PodStatus {
            pod,
            phase: PodPhase::Running,
            reason: None,
        };
        self.write(op, ctx);
    }

    fn finished<C: Context>(&mut self, pod: ObjectKey, generation: u64, ctx: &mut C) {
        let now = ctx.now();
        if !self
            .pods
            .get(&pod)
            .is_some_and(|p| p.generation == generation && p.running && p.due <= now)
        {
            return;
        }
        self.pods.remove(&pod);
        let op = SystemOp::PodStatus {
            pod,
            phase: PodPhase::Succeeded,
            reason: None,
        };
        self.write(op, ctx);
    }

    /// A write to the API server, held back while the host is cut off.
    fn write<C: Context>(&mut self, op: SystemOp, ctx: &mut C) {
        // A Running report waiting to be sent again is stale once the pod is
        // no longer run here (its CRX is gone and Failed reported): sent
        // after that report, it would make the pod Running again.
        if let SystemOp::PodStatus {
            pod,
            phase: PodPhase::Running,
            ..
        } = &op
            && !self.pods.contains_key(pod)
        {
            return;
        }
        if !self.online() {
            self.outbox.push(op);
            return;
        }
        let api = self.addrs[Part::ApiServer];
        self.calls.send(api, op.clone(), op, ctx);
    }

    fn replied(&mut self, id: u64, result: Result<u64, ApiError>) {
        let Some(op) = self.calls.reply(id) else {
            return;
        };
        match result {
            Ok(_) => {
                if matches!(op, SystemOp::Create(_)) {
                    self.registered = true;
                }
            }
            // Sent again at the next heartbeat.
            Err(ApiError::Unavailable(_)) => {
                if !matches!(op, SystemOp::Create(_)) {
                    self.outbox.push(op);
                }
            }
            // The pod is gone (evicted, deleted): nothing to report.
            Err(_) => {}
        }
    }
}

impl Actor for Spherelet {
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        match event {
            // At time 0, and again after a process restart (its timers
            // were lost with the process).
            Event::Start => self.start(ctx),
            Event::Supervisor(msg) => match *msg {
                // Early: armed before a process restart, superseded.
                SupMsg::HeartbeatTimer if self.heartbeat_due.is_some_and(|d| d <= ctx.now()) => {
                    self.heartbeat_due = None;
                    self.heartbeat(ctx);
                }
                SupMsg::HostState { up, reachable } => self.host_state(up, reachable, ctx),
                SupMsg::StartPod { pod, vm, run_for } => self.start_pod(pod, vm, run_for, ctx),
                SupMsg::StopPod { pod } => {
                    self.pods.remove(&pod);
                }
                SupMsg::CrxsPoweredOff { vms } => self.crxs_gone(&vms, CRX_FENCED, ctx),
                SupMsg::CrxStartsDropped { vms } => self.crxs_gone(&vms, CRX_NEVER_STARTED, ctx),
                SupMsg::SphereletPods { pods, lost } => self.sync_pods(pods, lost, ctx),
                SupMsg::PodBooted { pod, generation } => self.booted(pod, generation, ctx),
                SupMsg::PodFinished { pod, generation } => self.finished(pod, generation, ctx),
                SupMsg::Reply { id, result } => self.replied(id, result),
                // Its own restart: writes whose answer was lost are sent
                // again at the next heartbeat (registration redoes itself),
                // which waits for the host's state.
                SupMsg::Restart => {
                    self.asking_host = true;
                    let lost = self.calls.abandon();
                    let lost = lost
                        .into_iter()
                        .filter(|op| !matches!(op, SystemOp::Create(_)));
                    self.outbox.extend(lost);
                }
                _ => {}
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::testing::TestCtx;
    use crate::supervisor::testkit::sup_sent;
    use crate::supervisor::testutil::{addrs, config};

    fn key(name: &str) -> ObjectKey {
        ObjectKey::new(crate::api::objects::Kind::Pod, "ns", name)
    }

    fn msgs(ctx: &mut TestCtx) -> Vec<(u64, SupMsg)> {
        (sup_sent(ctx).into_iter())
            .map(|(_, d, m)| (d.0 / 1_000_000_000, m))
            .collect()
    }

    #[test]
    fn registers_heartbeats_starts_and_finishes_a_pod() {
        let a = addrs(2);
        let mut s = Spherelet::new(&config(), a.clone(), HostId(1), Resources::cores(8, 64));
        let mut ctx = TestCtx::new(a.spherelets[1]);
        s.handle(Event::Start, &mut ctx);
        let sent = msgs(&mut ctx);
        assert!(
            matches!(&sent[0].1, SupMsg::System { op: SystemOp::Create(o), .. }
            if o.meta.name == "esx-02" && matches!(&o.body, Body::Node(n) if n.capacity == Resources::cores(8, 64)))
        );
        assert_eq!(sent[1].1, SupMsg::Heartbeat { host: HostId(1) });
        assert_eq!(sent[2], (10, SupMsg::HeartbeatTimer));
        s.handle(
            SupMsg::Reply {
                id: 0,
                result: Ok(1),
            }
            .event(),
            &mut ctx,
        );
        assert!(s.registered());

        let start = SupMsg::StartPod {
            pod: key("p"),
            vm: VmId(7),
            run_for: Some(SimDuration::from_secs(60)),
        };
        s.handle(start.event(), &mut ctx);
        let sent = msgs(&mut ctx);
        assert_eq!(
            sent,
            vec![(
                5,
                SupMsg::PodBooted {
                    pod: key("p"),
                    generation: 0
                }
            )]
        );
        ctx.now = SimTime(5_000_000_000);
        s.handle(
            SupMsg::PodBooted {
                pod: key("p"),
                generation: 0,
            }
            .event(),
            &mut ctx,
        );
        assert_eq!(
            ctx.notes,
            vec![Note::Sup(SupNote::PodStarted {
                latency: SimDuration::from_secs(5)
            })]
        );
        let sent = msgs(&mut ctx);
        assert_eq!(
            sent[0],
            (
                60,
                SupMsg::PodFinished {
                    pod: key("p"),
                    generation: 0
                }
            )
        );
        assert!(matches!(
            &sent[1].1,
            SupMsg::System {
                op: SystemOp::PodStatus {
                    phase: PodPhase::Running,
                    ..
                },
                ..
            }
        ));
        // Early (a timer from before a restart) does nothing; on time, it ends.
        s.handle(
            SupMsg::PodFinished {
                pod: key("p"),
                generation: 0,
            }
            .event(),
            &mut ctx,
        );
        assert_eq!(msgs(&mut ctx), vec![]);
        ctx.now = SimTime(65_000_000_000);
        s.handle(
            SupMsg::PodFinished {
                pod: key("p"),
                generation: 0,
            }
            .event(),
            &mut ctx,
        );
        let sent = msgs(&mut ctx);
        assert!(matches!(
            &sent[0].1,
            SupMsg::System {
                op: SystemOp::PodStatus {
                    phase: PodPhase::Succeeded,
                    ..
                },
                ..
            }
        ));
        assert_eq!(s.pods().count(), 0);
    }

    /// After a restart WPS lists the pods placed here: one that finished
    /// while the host was cut off (its Succeeded still in the outbox) is
    /// not started a second time, one it never heard of is, and one WPS
    /// no longer lists (its stop was lost) is forgotten.
    #[test]
    fn the_pods_wps_lists_after_a_restart_are_started_and_the_others_forgotten() {
        let a = addrs(1);
        let mut s = Spherelet::new(&config(), a.clone(), HostId(0), Resources::cores(8, 64));
        let mut ctx = TestCtx::new(a.spherelets[0]);
        s.handle(Event::Start, &mut ctx);
        let start = |name: &str| (key(name), VmId(7), Some(SimDuration::from_secs(60)));
        for name in ["p", "ghost"] {
            let (pod, vm, run_for) = start(name);
            s.handle(SupMsg::StartPod { pod, vm, run_for }.event(), &mut ctx);
        }
        let cut_off = SupMsg::HostState {
            up: true,
            reachable: false,
        };
        s.handle(cut_off.event(), &mut ctx);
        ctx.now = SimTime(5_000_000_000);
        let booted = SupMsg::PodBooted {
            pod: key("p"),
            generation: 0,
        };
        s.handle(booted.event(), &mut ctx);
        ctx.now = SimTime(65_000_000_000);
        let finished = SupMsg::PodFinished {
            pod: key("p"),
            generation: 0,
        };
        s.handle(finished.event(), &mut ctx);
        assert_eq!(s.pods().collect::<Vec<_>>(), [&key("ghost")]);
        msgs(&mut ctx);
        let listed = SupMsg::SphereletPods {
            pods: vec![start("p"), start("q")],
            lost: Vec::new(),
        };
        s.handle(listed.event(), &mut ctx);
        assert_eq!(s.pods().collect::<Vec<_>>(), [&key("q")]);
    }

    /// A restarted Spherelet is silent until its host answers; a pod whose
    /// CRX WPS says died with the host is reported Failed once, even if the
    /// Spherelet also saw the failure itself (it is then reported at the
    /// host's return only).
    #[test]
    fn after_a_restart_it_waits_for_its_host_and_reports_the_pods_wps_says_were_lost() {
        let a = addrs(1);
        let mut s = Spherelet::new(&config(), a.clone(), HostId(0), Resources::cores(8, 64));
        let mut ctx = TestCtx::new(a.spherelets[0]);
        s.handle(Event::Start, &mut ctx);
        let registered = SupMsg::Reply {
            id: 0,
            result: Ok(1),
        };
        s.handle(registered.event(), &mut ctx);
        for (name, vm) in [("p", 7), ("q", 8)] {
            let (pod, vm, run_for) = (key(name), VmId(vm), None);
            s.handle(SupMsg::StartPod { pod, vm, run_for }.event(), &mut ctx);
        }
        msgs(&mut ctx);
        s.handle(SupMsg::Restart.event(), &mut ctx);
        s.handle(Event::Start, &mut ctx);
        let silent = msgs(&mut ctx)
            .iter()
            .all(|(_, m)| matches!(m, SupMsg::PodBooted { .. }));
        assert!(silent, "no heartbeat or write before the host answers");
        let up = SupMsg::HostState {
            up: true,
            reachable: true,
        };
        s.handle(up.clone().event(), &mut ctx);
        let sent = msgs(&mut ctx);
        assert_eq!(sent[0].1, SupMsg::Heartbeat { host: HostId(0) });
        let failed = |sent: &[(u64, SupMsg)]| -> Vec<ObjectKey> {
            sent.iter()
                .filter_map(|(_, m)| match m {
                    SupMsg::System {
                        op:
                            SystemOp::PodStatus {
                                pod,
                                phase: PodPhase::Failed,
                                reason: Some(r),
                            },
                        ..
                    } if r == "NodeLost" => Some(pod.clone()),
                    _ => None,
                })
                .collect()
        };
        let listed = SupMsg::SphereletPods {
            pods: vec![(key("q"), VmId(8), None)],
            lost: vec![key("p")],
        };
        s.handle(listed.event(), &mut ctx);
        assert_eq!(failed(&msgs(&mut ctx)), [key("p")]);
        assert_eq!(s.pods().collect::<Vec<_>>(), [&key("q")]);
        // Restarted again, and this time the host is down: q is lost with
        // it, and WPS's list (naming q too) does not report it twice.
        s.handle(SupMsg::Restart.event(), &mut ctx);
        let down = SupMsg::HostState {
            up: false,
            reachable: true,
        };
        s.handle(down.event(), &mut ctx);
        let listed = SupMsg::SphereletPods {
            pods: Vec::new(),
            lost: vec![key("q")],
        };
        s.handle(listed.event(), &mut ctx);
        assert_eq!(failed(&msgs(&mut ctx)), Vec::<ObjectKey>::new());
        s.handle(up.event(), &mut ctx);
        assert_eq!(failed(&msgs(&mut ctx)), [key("q")]);
    }

    #[test]
    fn a_failed_host_stops_heartbeats_and_reports_its_lost_pods_when_back() {
        let a = addrs(1);
        let mut s = Spherelet::new(&config(), a.clone(), HostId(0), Resources::cores(8, 64));
        let mut ctx = TestCtx::new(a.spherelets[0]);
        s.handle(Event::Start, &mut ctx);
        s.handle(
            SupMsg::Reply {
                id: 0,
                result: Ok(1),
            }
            .event(),
            &mut ctx,
        );
        let start = SupMsg::StartPod {
            pod: key("p"),
            vm: VmId(7),
            run_for: None,
        };
        s.handle(start.event(), &mut ctx);
        msgs(&mut ctx);
        s.handle(
            SupMsg::HostState {
                up: false,
                reachable: true,
            }
            .event(),
            &mut ctx,
        );
        assert_eq!(msgs(&mut ctx), vec![], "nothing is reported at the failure");
        // The boot timer of the dead CRX is ignored; the heartbeat loop ends.
        s.handle(
            SupMsg::PodBooted {
                pod: key("p"),
                generation: 0,
            }
            .event(),
            &mut ctx,
        );
        ctx.now = SimTime(10_000_000_000);
        s.handle(SupMsg::HeartbeatTimer.event(), &mut ctx);
        assert_eq!(msgs(&mut ctx), vec![]);
        s.handle(
            SupMsg::HostState {
                up: true,
                reachable: true,
            }
            .event(),
            &mut ctx,
        );
        let sent = msgs(&mut ctx);
        assert!(
            matches!(&sent[0].1, SupMsg::System { op: SystemOp::PodStatus { phase: PodPhase::Failed, reason: Some(r), .. }, .. } if r == "NodeLost")
        );
        assert_eq!(sent[1].1, SupMsg::Heartbeat { host: HostId(0) });
        assert_eq!(sent[2], (10, SupMsg::HeartbeatTimer));
    }

    #[test]
    fn writes_refused_below_quorum_or_while_cut_off_are_sent_at_the_next_heartbeat() {
        let a = addrs(1);
        let mut s = Spherelet::new(&config(), a.clone(), HostId(0), Resources::cores(8, 64));
        let mut ctx = TestCtx::new(a.spherelets[0]);
        s.handle(Event::Start, &mut ctx);
        let refused = Err(ApiError::Unavailable("down".into()));
        s.handle(
            SupMsg::Reply {
                id: 0,
                result: refused,
            }
            .event(),
            &mut ctx,
        );
        msgs(&mut ctx);
        ctx.now = SimTime(10_000_000_000);
        s.handle(SupMsg::HeartbeatTimer.event(), &mut ctx);
        let sent = msgs(&mut ctx);
        assert!(
            matches!(
                &sent[1].1,
                SupMsg::System {
                    op: SystemOp::Create(_),
                    ..
                }
            ),
            "{sent:?}"
        );
        s.handle(
            SupMsg::HostState {
                up: true,
                reachable: false,
            }
            .event(),
            &mut ctx,
        );
        s.handle(
            SupMsg::StartPod {
                pod: key("p"),
                vm: VmId(1),
                run_for: None,
            }
            .event(),
            &mut ctx,
        );
        s.handle(
            SupMsg::PodBooted {
                pod: key("p"),
                generation: 0,
            }
            .event(),
            &mut ctx,
        );
        // The heartbeat tick while cut off ends the loop.
        ctx.now = SimTime(20_000_000_000);
        s.handle(SupMsg::HeartbeatTimer.event(), &mut ctx);
        let sent = msgs(&mut ctx);
        assert_eq!(sent.len(), 1, "only the boot timer: {sent:?}");
        s.handle(
            SupMsg::HostState {
                up: true,
                reachable: true,
            }
            .event(),
            &mut ctx,
        );
        let sent = msgs(&mut ctx);
        // Heartbeat first, then the held-back Running.
        assert_eq!(sent[0].1, SupMsg::Heartbeat { host: HostId(0) });
        assert!(sent.iter().any(|(_, m)| matches!(
            m,
            SupMsg::System {
                op: SystemOp::PodStatus {
                    phase: PodPhase::Running,
                    ..
                },
                ..
            }
        )));
    }

    /// A pod started while the host was cut off, whose CRX a fenced heal
    /// dropped: its Running report, refused below quorum and waiting for
    /// the next heartbeat, is not sent after the Failed one (it would make
    /// the pod Running again, with no CRX).
    #[test]
    fn a_pod_whose_crx_start_was_dropped_is_reported_failed_and_never_running_again() {
        let a = addrs(1);
        let mut s = Spherelet::new(&config(), a.clone(), HostId(0), Resources::cores(8, 64));
        let mut ctx = TestCtx::new(a.spherelets[0]);
        s.handle(Event::Start, &mut ctx);
        let reply = |id, result| SupMsg::Reply { id, result }.event();
        s.handle(reply(0, Ok(1)), &mut ctx);
        let unreachable = SupMsg::HostState {
            up: true,
            reachable: false,
        };
        s.handle(unreachable.event(), &mut ctx);
        let start = SupMsg::StartPod {
            pod: key("p"),
            vm: VmId(9),
            run_for: None,
        };
        s.handle(start.event(), &mut ctx);
        let booted = SupMsg::PodBooted {
            pod: key("p"),
            generation: 0,
        };
        s.handle(booted.event(), &mut ctx);
        let reachable = SupMsg::HostState {
            up: true,
            reachable: true,
        };
        s.handle(reachable.event(), &mut ctx);
        msgs(&mut ctx);
        // The held-back Running (call 1) is refused below quorum.
        s.handle(
            reply(1, Err(ApiError::Unavailable("quorum".into()))),
            &mut ctx,
        );
        let dropped = SupMsg::CrxStartsDropped { vms: vec![VmId(9)] };
        s.handle(dropped.event(), &mut ctx);
        assert_eq!(s.pods().count(), 0);
        ctx.now = SimTime(60_000_000_000);
        s.handle(SupMsg::HeartbeatTimer.event(), &mut ctx);
        let phases: Vec<PodPhase> = (msgs(&mut ctx).into_iter())
            .filter_map(|(_, m)| match m {
                SupMsg::System {
                    op: SystemOp::PodStatus { phase, .. },
                    ..
                } => Some(phase),
                _ => None,
            })
            .collect();
        assert!(!phases.contains(&PodPhase::Running), "{phases:?}");
    }
}
