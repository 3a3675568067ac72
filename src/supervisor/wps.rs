//! The Workload Platform Service for vSphere Pods: a pod the scheduler
//! bound becomes a placement request for its CRX on that one host (DRS
//! makes the final check), then a start on that host's Spherelet. When
//! DRS refuses, the pod is handed back to the scheduler (un-bound, with the
//! reason) and retried after its backoff. A deleted or finished pod's CRX is
//! powered off and its Spherelet told to stop it. When the host fails, the
//! CRX is simply gone: the pod object stays until the node controller
//! evicts it (or the Spherelet, back, reports it Failed).

use super::addrs::{Addrs, IdRange, workload_id};
use super::calls::Calls;
use super::config::SupervisorConfig;
use super::msg::{PlaceRule, SupMsg, SystemOp};
use super::objects::{Body, Object, ObjectKey, PodPhase};
use super::scheduling::effective_requests;
use crate::actor::Context;
use crate::event::Event;
use crate::model::{HostId, SimDuration, VmId};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrxState {
    /// Asked placement for the node's host.
    Placing,
    /// Placed and started on the host's Spherelet.
    Started,
    /// DRS refused; the pod is being handed back to the scheduler.
    Unbinding,
    /// Its host failed; nothing to power off.
    Lost,
}

#[derive(Clone, Debug)]
pub struct Crx {
    pub vm: VmId,
    pub node: String,
    pub host: HostId,
    pub state: CrxState,
    run_for: Option<SimDuration>,
    /// While un-binding: the reason given, and whether the call is out.
    unbind_reason: Option<String>,
    unbind_inflight: bool,
}

#[derive(Clone, Debug)]
pub struct Wps {
    addrs: Addrs,
    crxs: BTreeMap<ObjectKey, Crx>,
    by_vm: BTreeMap<VmId, ObjectKey>,
    /// CRX numbers are never reused (placement may still know an old one).
    next_vm: u64,
    /// Un-binds in flight.
    calls: Calls<ObjectKey>,
}

impl Wps {
    pub fn new(_config: &SupervisorConfig, addrs: Addrs) -> Self {
        Wps {
            addrs,
            crxs: BTreeMap::new(),
            by_vm: BTreeMap::new(),
            next_vm: 0,
            calls: Calls::default(),
        }
    }

    /// The CRX of each pod WPS handles, in key order.
    pub fn crxs(&self) -> impl Iterator<Item = (&ObjectKey, &Crx)> {
        self.crxs.iter()
    }

    pub fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        let Event::Supervisor(msg) = event else {
            return;
        };
        match *msg {
            SupMsg::Changed {
                object, deleted, ..
            } => self.observe(object, deleted, ctx),
            SupMsg::Placed { vm, host } => self.placed(vm, host, ctx),
            SupMsg::PlaceFailed { vm, reason } => self.place_failed(vm, reason, ctx),
            SupMsg::Displaced { vm } => {
                if let Some(key) = self.by_vm.remove(&vm)
                    && let Some(c) = self.crxs.get_mut(&key)
                {
                    c.state = CrxState::Lost;
                }
            }
            SupMsg::Reply { id, result } => {
                // A refused un-bind is made again at the pod's next watch
                // event (the relist after the control plane's return).
                if let Some(key) = self.calls.reply(id)
                    && let Some(c) = self.crxs.get_mut(&key)
                {
                    c.unbind_inflight = false;
                    if result.is_ok() && c.state == CrxState::Unbinding {
                        // Its watch event came first: nothing left to do.
                        self.crxs.remove(&key);
                    }
                }
            }
            _ => {}
        }
    }

    fn observe<C: Context>(&mut self, object: Object, deleted: bool, ctx: &mut C) {
        let key = object.key();
        let Body::Pod(pod) = object.body else {
            return; // claims: the scheduler already chose a host that sees them
        };
        let terminal = matches!(pod.phase, PodPhase::Succeeded | PodPhase::Failed);
        if deleted || terminal {
            return self.release(&key, ctx);
        }
        let Some(node) = pod.node else {
            // Un-bound (by us after a refusal, or never bound).
            if self
                .crxs
                .get(&key)
                .is_some_and(|c| c.state == CrxState::Unbinding)
            {
                self.crxs.remove(&key);
            }
            return;
        };
        match self.crxs.get(&key) {
            Some(c) if c.state == CrxState::Unbinding => {
                if !c.unbind_inflight {
                    // The un-bind was refused: try again.
                    self.unbind(&key, ctx);
                }
                return;
            }
            Some(_) => return,
            None => {}
        }
        let Some(host) = self.addrs.host_of(&node) else {
            return;
        };
        let vm = workload_id(IdRange::Pods, self.next_vm);
        self.next_vm += 1;
        self.by_vm.insert(vm, key.clone());
        self.crxs.insert(
            key,
            Crx {
                vm,
                node,
                host,
                state: CrxState::Placing,
                run_for: pod.spec.run_for,
                unbind_reason: None,
                unbind_inflight: false,
            },
        );
        let msg = SupMsg::Place {
            vm,
            size: effective_requests(&pod.spec),
            rule: PlaceRule {
                only: vec![host],
                anti_affinity_group: None,
                soft_anti_affinity: false,
                restart: false,
            },
        };
        ctx.send(self.addrs.placement, SimDuration::ZERO, msg.event());
    }

    fn placed<C: Context>(&mut self, vm: VmId, host: HostId, ctx: &mut C) {
        let Some(key) = self.by_vm.get(&vm).cloned() else {
            // Its pod went away while placement worked: power it off.
            let msg = Event::VmDeleteRequested { vm };
            return ctx.send(self.addrs.placement, SimDuration::ZERO, msg);
        };
        let Some(c) = self.crxs.get_mut(&key) else {
            return;
        };
        c.state = CrxState::Started;
        c.host = host;
        let msg = SupMsg::StartPod {
            pod: key,
            vm,
            run_for: c.run_for,
        };
        ctx.send(self.addrs.spherelet(host), SimDuration::ZERO, msg.event());
    }

    fn place_failed<C: Context>(&mut self, vm: VmId, reason: String, ctx: &mut C) {
        let Some(key) = self.by_vm.remove(&vm) else {
            return;
        };
        let Some(c) = self.crxs.get_mut(&key) else {
            return;
        };
        c.state = CrxState::Unbinding;
        c.unbind_reason = Some(format!(
            "DRS could not place the pod on node {}: {reason}",
            c.node
        ));
        self.unbind(&key, ctx);
    }

    fn unbind<C: Context>(&mut self, key: &ObjectKey, ctx: &mut C) {
        let Some(c) = self.crxs.get_mut(key) else {
            return;
        };
        c.unbind_inflight = true;
        let op = SystemOp::Bind {
            pod: key.clone(),
            node: None,
            reason: c.unbind_reason.clone(),
        };
        self.calls.send(self.addrs.api_server, op, key.clone(), ctx);
    }

    /// The pod is gone or done: power its CRX off and stop it.
    fn release<C: Context>(&mut self, key: &ObjectKey, ctx: &mut C) {
        let Some(c) = self.crxs.remove(key) else {
            return;
        };
        self.by_vm.remove(&c.vm);
        if matches!(c.state, CrxState::Placing | CrxState::Started) {
            let msg = Event::VmDeleteRequested { vm: c.vm };
            ctx.send(self.addrs.placement, SimDuration::ZERO, msg);
        }
        // Lost too: a Spherelet cut off (not down) still counts the pod.
        if matches!(c.state, CrxState::Started | CrxState::Lost) {
            let msg = SupMsg::StopPod { pod: key.clone() };
            ctx.send(self.addrs.spherelet(c.host), SimDuration::ZERO, msg.event());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::testing::TestCtx;
    use crate::supervisor::msg::ApiError;
    use crate::supervisor::testutil::{addrs, bound, config, pod_object};

    fn changed(object: Object, deleted: bool) -> Event {
        SupMsg::Changed {
            rv: 1,
            object,
            deleted,
        }
        .event()
    }

    fn sent(ctx: &mut TestCtx) -> Vec<(crate::model::ActorId, Event)> {
        ctx.take_sent()
            .into_iter()
            .map(|(to, _, e)| (to, e))
            .collect()
    }

    #[test]
    fn a_bound_pod_is_placed_on_its_host_started_and_released() {
        let a = addrs(3);
        let mut w = Wps::new(&config(), a.clone());
        let mut ctx = TestCtx::new(a.wps);
        let vm = workload_id(IdRange::Pods, 0);
        w.handle(changed(pod_object("p", 2, 4), false), &mut ctx);
        assert!(sent(&mut ctx).is_empty(), "unbound: nothing to do");
        let p = bound(pod_object("p", 2, 4), "esx-02", PodPhase::Pending);
        w.handle(changed(p.clone(), false), &mut ctx);
        let place = SupMsg::Place {
            vm,
            size: crate::model::Resources::cores(2, 4),
            rule: PlaceRule {
                only: vec![HostId(1)],
                anti_affinity_group: None,
                soft_anti_affinity: false,
                restart: false,
            },
        };
        assert_eq!(sent(&mut ctx), vec![(a.placement, place.event())]);
        // Later watch events of the same pod change nothing.
        w.handle(changed(p.clone(), false), &mut ctx);
        w.handle(
            SupMsg::Placed {
                vm,
                host: HostId(1),
            }
            .event(),
            &mut ctx,
        );
        let key = p.key();
        let start = SupMsg::StartPod {
            pod: key.clone(),
            vm,
            run_for: None,
        };
        assert_eq!(sent(&mut ctx), vec![(a.spherelets[1], start.event())]);
        let done = bound(pod_object("p", 2, 4), "esx-02", PodPhase::Succeeded);
        w.handle(changed(done, false), &mut ctx);
        assert_eq!(
            sent(&mut ctx),
            vec![
                (a.placement, Event::VmDeleteRequested { vm }),
                (a.spherelets[1], SupMsg::StopPod { pod: key }.event())
            ]
        );
        assert_eq!(w.crxs().count(), 0);
    }

    #[test]
    fn a_refused_placement_unbinds_the_pod_and_a_lost_crx_is_forgotten() {
        let a = addrs(2);
        let mut w = Wps::new(&config(), a.clone());
        let mut ctx = TestCtx::new(a.wps);
        let p = bound(pod_object("p", 2, 4), "esx-01", PodPhase::Pending);
        w.handle(changed(p.clone(), false), &mut ctx);
        sent(&mut ctx);
        let vm0 = workload_id(IdRange::Pods, 0);
        w.handle(
            SupMsg::PlaceFailed {
                vm: vm0,
                reason: "no room".into(),
            }
            .event(),
            &mut ctx,
        );
        let out = sent(&mut ctx);
        assert!(matches!(&out[0].1, Event::Supervisor(m) if matches!(&**m,
            SupMsg::System { op: SystemOp::Bind { node: None, reason: Some(r), .. }, .. }
            if r == "DRS could not place the pod on node esx-01: no room")));
        // The un-bind is refused below quorum; the relist shows the pod
        // still bound: un-bind again (not a new placement).
        let down = Err(ApiError::Unavailable("no quorum".into()));
        w.handle(
            SupMsg::Reply {
                id: 0,
                result: down,
            }
            .event(),
            &mut ctx,
        );
        w.handle(changed(p.clone(), false), &mut ctx);
        let out = sent(&mut ctx);
        assert_eq!(out.len(), 1);
        assert!(matches!(&out[0].1, Event::Supervisor(m) if matches!(&**m,
            SupMsg::System { op: SystemOp::Bind { node: None, .. }, .. })));
        w.handle(changed(pod_object("p", 2, 4), false), &mut ctx);
        // Bound again, elsewhere: a fresh CRX id.
        let q = bound(pod_object("p", 2, 4), "esx-02", PodPhase::Pending);
        w.handle(changed(q.clone(), false), &mut ctx);
        let vm1 = workload_id(IdRange::Pods, 1);
        let out = sent(&mut ctx);
        assert!(
            matches!(&out[0].1, Event::Supervisor(m) if matches!(&**m, SupMsg::Place { vm, .. } if *vm == vm1))
        );
        w.handle(
            SupMsg::Placed {
                vm: vm1,
                host: HostId(1),
            }
            .event(),
            &mut ctx,
        );
        sent(&mut ctx);
        // The host fails: forgotten, and the eviction powers nothing off
        // (only tells the Spherelet, which may have been cut off, not down).
        w.handle(SupMsg::Displaced { vm: vm1 }.event(), &mut ctx);
        w.handle(changed(q.clone(), true), &mut ctx);
        let stop = SupMsg::StopPod { pod: q.key() }.event();
        assert_eq!(sent(&mut ctx), vec![(a.spherelets[1], stop)]);
        assert_eq!(w.crxs().count(), 0);
    }
}
