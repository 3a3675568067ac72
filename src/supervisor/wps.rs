//! The Workload Platform Service for vSphere Pods: a pod the scheduler
//! bound becomes a placement request for its CRX on that one host (DRS
//! makes the final check), then a start on that host's Spherelet. When
//! DRS refuses, the pod is handed back to the scheduler (un-bound, with the
//! reason) and retried after its backoff. A deleted or finished pod's CRX is
//! powered off and its Spherelet told to stop it. When the host fails, the
//! CRX is simply gone: the pod object stays until the node controller
//! evicts it (or the Spherelet, back, reports it Failed).
//!
//! When CNS reports a datastore failed, a pod with a PersistentVolumeClaim
//! on it cannot do its I/O: as vSphere HA's VM Component Protection does on
//! a permanent device loss, its CRX is powered off at once, and the pod is
//! written Failed with the reason (a ReplicaSet then replaces it, and the
//! scheduler holds the replacement until the datastore is repaired). A
//! refused write is made again at the pod's next watch event.

use super::calls::Calls;
use super::scheduling::effective_requests;
use crate::actor::{Actor, Context};
use crate::api::addrs::{Addrs, IdRange, Part, workload_id};
use crate::api::msg::{PlaceRule, SupMsg, SystemOp};
use crate::api::objects::{Body, Kind, Object, ObjectKey, PodPhase};
use crate::event::Event;
use crate::model::{HostId, Lookup, SimDuration, VmId};
use crate::scenario::SupervisorConfig;
use std::collections::{BTreeMap, BTreeSet};

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
    /// Powered off because a volume's datastore failed; the pod is being
    /// written Failed.
    VolumeLost,
}

#[derive(Clone, Debug)]
pub struct Crx {
    pub vm: VmId,
    pub node: String,
    pub host: HostId,
    pub state: CrxState,
    run_for: Option<SimDuration>,
    /// The pod's PersistentVolumeClaims (names in its namespace).
    claims: Vec<String>,
    /// While un-binding or failing the pod: the reason given, and whether
    /// that write is out.
    reason: Option<String>,
    write_inflight: bool,
}

#[derive(Clone, Debug)]
pub struct Wps {
    addrs: Addrs,
    crxs: Lookup<ObjectKey, Crx>,
    by_vm: BTreeMap<VmId, ObjectKey>,
    /// CRX numbers are never reused (placement may still know an old one).
    next_vm: u64,
    /// Un-binds and Failed writes in flight.
    calls: Calls<ObjectKey>,
    /// Claim -> its datastore once bound.
    claim_datastores: BTreeMap<ObjectKey, String>,
    /// Datastores CNS reported failed and not yet repaired.
    failed_datastores: BTreeSet<String>,
    /// Restarted and not yet caught up (its relist, placement's answer).
    restarted: bool,
}

impl Wps {
    pub fn new(_config: &SupervisorConfig, addrs: Addrs) -> Self {
        Wps {
            addrs,
            crxs: Lookup::default(),
            by_vm: BTreeMap::new(),
            next_vm: 0,
            calls: Calls::default(),
            claim_datastores: BTreeMap::new(),
            failed_datastores: BTreeSet::new(),
            restarted: false,
        }
    }

    /// The CRX of each pod WPS handles, in key order.
    pub fn crxs(&self) -> impl Iterator<Item = (&ObjectKey, &Crx)> {
        self.crxs.sorted().into_iter()
    }

    fn observe<C: Context>(&mut self, object: &Object, deleted: bool, ctx: &mut C) {
        let key = object.key();
        let pod = match &object.body {
            Body::Pod(pod) => pod,
            // The scheduler already chose a host that sees the claim's
            // datastore; WPS needs to know which it is if it fails.
            Body::PersistentVolumeClaim(claim) => {
                match claim.datastore.as_ref().filter(|_| !deleted) {
                    Some(ds) => self.claim_datastores.insert(key, ds.clone()),
                    None => self.claim_datastores.remove(&key),
                };
                return;
            }
            _ => return,
        };
        let terminal = matches!(pod.phase, PodPhase::Succeeded | PodPhase::Failed);
        if deleted || terminal {
            return self.release(&key, ctx);
        }
        let Some(node) = &pod.node else {
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
            Some(c) if matches!(c.state, CrxState::Unbinding | CrxState::VolumeLost) => {
                if !c.write_inflight {
                    // The un-bind or Failed write was refused: try again.
                    self.write_status(&key, ctx);
                }
                return;
            }
            Some(_) => return,
            None => {}
        }
        let Some(host) = self.addrs.host_of(node) else {
            return;
        };
        let vm = workload_id(IdRange::Pods, self.next_vm);
        self.next_vm += 1;
        // Bound just before the scheduler heard of the failure: no CRX.
        let failure = self.volume_failure(&key.namespace, &pod.spec.volumes);
        let state = match failure {
            Some(_) => CrxState::VolumeLost,
            None => CrxState::Placing,
        };
        self.crxs.insert(
            key.clone(),
            Crx {
                vm,
                node: node.clone(),
                host,
                state,
                run_for: pod.spec.run_for,
                claims: pod.spec.volumes.clone(),
                reason: failure.clone(),
                write_inflight: false,
            },
        );
        if failure.is_some() {
            return self.write_status(&key, ctx);
        }
        self.by_vm.insert(vm, key.clone());
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

    /// Tells `host`'s restarted Spherelet the pods placed there: it may
    /// have lost a start or a stop while it was down.
    /// The CRX's host failed (placement forgot it): nothing to power off.
    fn displaced(&mut self, vm: VmId) {
        if let Some(key) = self.by_vm.remove(&vm)
            && let Some(c) = self.crxs.get_mut(&key)
        {
            c.state = CrxState::Lost;
        }
    }

    /// After its restart, what placement still holds: a started CRX it
    /// does not was displaced while WPS was down.
    fn still_held(&mut self, held: &[(VmId, Option<HostId>)]) {
        let holds = |vm: VmId| held.binary_search_by_key(&vm, |(v, _)| *v).is_ok();
        let gone: Vec<VmId> = (self.crxs.sorted().into_iter())
            .filter(|(_, c)| c.state == CrxState::Started && !holds(c.vm))
            .map(|(_, c)| c.vm)
            .collect();
        for vm in gone {
            self.displaced(vm);
        }
    }

    fn restart_pods_on<C: Context>(&self, host: HostId, ctx: &mut C) {
        let crxs = self.crxs.sorted();
        let on_host = || crxs.iter().copied().filter(move |(_, c)| c.host == host);
        let pods = on_host()
            .filter(|(_, c)| c.state == CrxState::Started)
            .map(|(key, c)| (key.clone(), c.vm, c.run_for))
            .collect();
        let lost = on_host()
            .filter(|(_, c)| c.state == CrxState::Lost)
            .map(|(key, _)| key.clone())
            .collect();
        let msg = SupMsg::SphereletPods { pods, lost };
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
        c.reason = Some(format!(
            "DRS could not place the pod on node {}: {reason}",
            c.node
        ));
        self.write_status(&key, ctx);
    }

    /// Writes what WPS has to say of the pod: un-bound after DRS refused
    /// it, or Failed after its volume's datastore failed.
    fn write_status<C: Context>(&mut self, key: &ObjectKey, ctx: &mut C) {
        let Some(c) = self.crxs.get_mut(key) else {
            return;
        };
        let (pod, reason) = (key.clone(), c.reason.clone());
        let op = match c.state {
            CrxState::Unbinding => SystemOp::Bind {
                pod,
                node: None,
                reason,
            },
            CrxState::VolumeLost => SystemOp::PodStatus {
                pod,
                phase: PodPhase::Failed,
                reason,
            },
            _ => return,
        };
        c.write_inflight = true;
        self.calls
            .send(self.addrs[Part::ApiServer], op, key.clone(), ctx);
    }

    /// Why a pod with `claims` in `namespace` cannot do its I/O: the first
    /// of its claims on a failed datastore.
    fn volume_failure(&self, namespace: &str, claims: &[String]) -> Option<String> {
        claims.iter().find_map(|claim| {
            let ck = ObjectKey::new(Kind::PersistentVolumeClaim, namespace, claim);
            let ds = self.claim_datastores.get(&ck)?;
            self.failed_datastores.contains(ds).then(|| {
                format!(
                    "PersistentVolumeClaim {claim} is on datastore {ds}, which failed; VM Component Protection powered the pod's CRX off"
                )
            })
        })
    }

    /// Powers off the CRX of every pod with a volume on `datastore`, and
    /// fails the pods.
    fn datastore_failed<C: Context>(&mut self, datastore: String, ctx: &mut C) {
        if !self.failed_datastores.insert(datastore) {
            return;
        }
        let hit: Vec<(ObjectKey, String)> = self
            .crxs
            .sorted()
            .into_iter()
            .filter(|(_, c)| matches!(c.state, CrxState::Placing | CrxState::Started))
            .filter_map(|(k, c)| Some((k.clone(), self.volume_failure(&k.namespace, &c.claims)?)))
            .collect();
        for (key, reason) in hit {
            self.fail(&key, reason, ctx);
        }
    }

    /// Powers the pod's CRX off and writes the pod Failed with `reason`.
    fn fail<C: Context>(&mut self, key: &ObjectKey, reason: String, ctx: &mut C) {
        let Some(c) = self.crxs.get_mut(key) else {
            return;
        };
        let was = std::mem::replace(&mut c.state, CrxState::VolumeLost);
        c.reason = Some(reason);
        let (vm, host) = (c.vm, c.host);
        self.by_vm.remove(&vm);
        self.power_off(key, vm, host, &was, ctx);
        self.write_status(key, ctx);
    }

    /// The pod is gone or done: power its CRX off and stop it.
    fn release<C: Context>(&mut self, key: &ObjectKey, ctx: &mut C) {
        let Some(c) = self.crxs.remove(key) else {
            return;
        };
        self.by_vm.remove(&c.vm);
        self.power_off(key, c.vm, c.host, &c.state, ctx);
    }

    /// Powers off a CRX that was in `state` and stops its pod.
    fn power_off<C: Context>(
        &self,
        key: &ObjectKey,
        vm: VmId,
        host: HostId,
        state: &CrxState,
        ctx: &mut C,
    ) {
        if matches!(state, CrxState::Placing | CrxState::Started) {
            let msg = Event::VmDeleteRequested { vm };
            ctx.send(self.addrs.placement, SimDuration::ZERO, msg);
        }
        // Lost too: a Spherelet cut off (not down) still counts the pod.
        if matches!(state, CrxState::Started | CrxState::Lost) {
            let msg = SupMsg::StopPod { pod: key.clone() };
            ctx.send(self.addrs.spherelet(host), SimDuration::ZERO, msg.event());
        }
    }
}

impl Actor for Wps {
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        let msg = match event {
            Event::Supervisor(msg) => msg,
            // Caught up after a restart: every Spherelet is sent its list,
            // as if it had asked (an ask made while WPS was down was lost,
            // and one made before may have missed a CRX lost meanwhile).
            Event::Start if std::mem::take(&mut self.restarted) => {
                for host in self.addrs.spherelet_hosts.clone() {
                    self.restart_pods_on(HostId(host), ctx);
                }
                return;
            }
            _ => return,
        };
        match *msg {
            SupMsg::Changed {
                object, deleted, ..
            } => self.observe(&object, deleted, ctx),
            SupMsg::Placed { vm, host } => self.placed(vm, host, ctx),
            SupMsg::PlaceFailed { vm, reason } => self.place_failed(vm, reason, ctx),
            SupMsg::Displaced { vm } => self.displaced(vm),
            SupMsg::Workloads { held } => self.still_held(&held),
            SupMsg::Reply { id, result } => {
                // A refused un-bind or Failed write is made again at the
                // pod's next watch event (the relist after the control
                // plane's return).
                let Some(key) = self.calls.reply(id) else {
                    return;
                };
                if let Some(c) = self.crxs.get_mut(&key) {
                    c.write_inflight = false;
                    if result.is_ok() && c.state == CrxState::Unbinding {
                        // Its watch event came first: nothing left to do.
                        self.crxs.remove(&key);
                    }
                }
            }
            SupMsg::DatastoreFailed { datastore } => self.datastore_failed(datastore, ctx),
            SupMsg::SphereletRestarted { host } => self.restart_pods_on(host, ctx),
            // Its own restart: un-binds and Failed writes whose answer was
            // lost are made again.
            SupMsg::Restart => {
                self.restarted = true;
                for key in self.calls.abandon() {
                    if let Some(c) = self.crxs.get_mut(&key) {
                        c.write_inflight = false;
                    }
                    self.write_status(&key, ctx);
                }
            }
            SupMsg::DatastoreRepaired { datastore } => {
                self.failed_datastores.remove(&datastore);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::testing::TestCtx;
    use crate::api::msg::ApiError;
    use crate::supervisor::testkit::changed;
    use crate::supervisor::testutil::{addrs, bound, config, pod_object};

    /// Placement put CRX `vm` on host `host`.
    fn placed(w: &mut Wps, vm: VmId, host: u32, ctx: &mut TestCtx) {
        w.handle(
            SupMsg::Placed {
                vm,
                host: HostId(host),
            }
            .event(),
            ctx,
        );
    }

    /// The API server refuses call `id` below quorum.
    fn refuse(w: &mut Wps, id: u64, ctx: &mut TestCtx) {
        let down = Err(ApiError::Unavailable("no quorum".into()));
        w.handle(SupMsg::Reply { id, result: down }.event(), ctx);
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
        let mut ctx = TestCtx::new(a[Part::Wps]);
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
        placed(&mut w, vm, 1, &mut ctx);
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
        let mut ctx = TestCtx::new(a[Part::Wps]);
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
        refuse(&mut w, 0, &mut ctx);
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
        placed(&mut w, vm1, 1, &mut ctx);
        sent(&mut ctx);
        // The host fails: forgotten, and the eviction powers nothing off
        // (only tells the Spherelet, which may have been cut off, not down).
        w.handle(SupMsg::Displaced { vm: vm1 }.event(), &mut ctx);
        w.handle(changed(q.clone(), true), &mut ctx);
        let stop = SupMsg::StopPod { pod: q.key() }.event();
        assert_eq!(sent(&mut ctx), vec![(a.spherelets[1], stop)]);
        assert_eq!(w.crxs().count(), 0);
    }

    #[test]
    fn a_failed_datastore_powers_off_the_pods_using_it_and_fails_them_until_written() {
        use crate::api::objects::{Meta, PersistentVolumeClaim};
        let a = addrs(2);
        let mut w = Wps::new(&config(), a.clone());
        let mut ctx = TestCtx::new(a[Part::Wps]);
        let claim = Object {
            meta: Meta {
                name: "d".into(),
                namespace: "ns".into(),
                ..Meta::default()
            },
            body: Body::PersistentVolumeClaim(PersistentVolumeClaim {
                storage_class: "local".into(),
                bytes: 1 << 30,
                datastore: Some("ds-b".into()),
            }),
        };
        w.handle(changed(claim, false), &mut ctx);
        let mut with_claim = pod_object("p", 2, 4);
        if let Body::Pod(p) = &mut with_claim.body {
            p.spec.volumes = vec!["d".into()];
        }
        let p = bound(with_claim, "esx-02", PodPhase::Running);
        let q = bound(pod_object("q", 2, 4), "esx-02", PodPhase::Running);
        for (pod, n) in [(&p, 0), (&q, 1)] {
            w.handle(changed(pod.clone(), false), &mut ctx);
            let vm = workload_id(IdRange::Pods, n);
            placed(&mut w, vm, 1, &mut ctx);
        }
        sent(&mut ctx);

        // Another datastore: nothing. Its own: p's CRX is powered off, its
        // pod stopped and written Failed; q (no claim) is left alone.
        let fail = |ds: &str| {
            SupMsg::DatastoreFailed {
                datastore: ds.into(),
            }
            .event()
        };
        w.handle(fail("ds-a"), &mut ctx);
        assert!(sent(&mut ctx).is_empty());
        w.handle(fail("ds-b"), &mut ctx);
        let reason = "PersistentVolumeClaim d is on datastore ds-b, which failed; \
                      VM Component Protection powered the pod's CRX off";
        let write = |id| SupMsg::System {
            id,
            op: SystemOp::PodStatus {
                pod: p.key(),
                phase: PodPhase::Failed,
                reason: Some(reason.into()),
            },
        };
        let vm = workload_id(IdRange::Pods, 0);
        assert_eq!(
            sent(&mut ctx),
            vec![
                (a.placement, Event::VmDeleteRequested { vm }),
                (a.spherelets[1], SupMsg::StopPod { pod: p.key() }.event()),
                (a[Part::ApiServer], write(0).event()),
            ]
        );
        // Refused below quorum: written again at the pod's next watch
        // event, without powering anything off twice.
        refuse(&mut w, 0, &mut ctx);
        w.handle(changed(p.clone(), false), &mut ctx);
        assert_eq!(sent(&mut ctx), vec![(a[Part::ApiServer], write(1).event())]);
        // Written: its Failed watch event leaves nothing to do.
        let failed = bound(p.clone(), "esx-02", PodPhase::Failed);
        w.handle(changed(failed, false), &mut ctx);
        assert!(sent(&mut ctx).is_empty());
        assert_eq!(
            w.crxs().map(|(k, _)| k.name.as_str()).collect::<Vec<_>>(),
            ["q"]
        );
    }
}
