//! An ESXi host: capacity, up or down, and the VMs it runs.
//!
//! A host accepts a power-on only while up and only for its current
//! incarnation (bumped at every repair), so power-ons sent before a failure
//! can never start a VM twice. Random failures come from the host's own
//! stream: time to failure from `mtbf` while up, time to repair from `mttr`.
//!
//! A partition isolates the host: it applies the HA isolation response and
//! holds back what placement sent it. When the partition heals, a host that
//! placement had declared failed is fenced: it powers off what it still runs
//! (HA restarted those VMs elsewhere) and returns as a new incarnation.

use crate::actor::{Actor, Context, Note};
use crate::event::Event;
use crate::model::{ActorId, Dist, HostId, Resources, SimDuration, VmId, VmSizes};

/// Random failure behaviour of one host.
#[derive(Clone, Debug)]
pub struct FailureModel {
    pub mtbf: Dist,
    pub mttr: Dist,
}

pub struct Host {
    id: HostId,
    capacity: Resources,
    placement: ActorId,
    failures: Option<FailureModel>,
    up: bool,
    incarnation: u32,
    /// Bumped whenever a pending failure/repair timer must be forgotten.
    timer_generation: u32,
    used: Resources,
    vms: VmSizes,
    isolated: bool,
    /// The incarnation when the partition began (a crash or repair during
    /// it must be reported at the heal).
    isolated_incarnation: u32,
    /// Placement's messages that reached the host's side of a partition.
    deferred: Vec<Event>,
    /// The Supervisor's Spherelet on this host, told of power and
    /// reachability changes (it heartbeats only while both hold).
    spherelet: Option<ActorId>,
}

impl Host {
    pub fn new(
        id: HostId,
        capacity: Resources,
        placement: ActorId,
        failures: Option<FailureModel>,
    ) -> Self {
        Host {
            id,
            capacity,
            placement,
            failures,
            up: true,
            incarnation: 0,
            timer_generation: 0,
            used: Resources::ZERO,
            vms: VmSizes::default(),
            isolated: false,
            isolated_incarnation: 0,
            deferred: Vec::new(),
            spherelet: None,
        }
    }

    pub fn set_spherelet(&mut self, spherelet: ActorId) {
        self.spherelet = Some(spherelet);
    }

    fn tell_spherelet<C: Context>(&self, ctx: &mut C) {
        if let Some(s) = self.spherelet {
            let msg = crate::api::SupMsg::HostState {
                up: self.up,
                reachable: !self.isolated,
            };
            ctx.send(s, SimDuration::ZERO, msg.event());
        }
    }

    pub fn is_up(&self) -> bool {
        self.up
    }

    /// Cut off from placement by a partition.
    pub fn is_isolated(&self) -> bool {
        self.isolated
    }

    pub fn incarnation(&self) -> u32 {
        self.incarnation
    }

    pub fn id(&self) -> HostId {
        self.id
    }

    pub fn used(&self) -> Resources {
        self.used
    }

    pub fn capacity(&self) -> Resources {
        self.capacity
    }

    pub fn runs(&self, vm: VmId) -> bool {
        self.vms.contains(vm)
    }

    /// Whether any VM runs here.
    pub fn runs_any(&self) -> bool {
        !self.vms.is_empty()
    }

    /// The VMs running here in no particular order (deterministic, but sort
    /// before relying on it); cheaper than [`Host::vms`] for whole-world
    /// checks that sort everything anyway.
    pub fn vm_ids_unsorted(&self) -> impl Iterator<Item = VmId> + '_ {
        self.vms.ids_unsorted()
    }

    /// The VMs running here, in id order.
    pub fn vms(&self) -> impl Iterator<Item = (VmId, Resources)> + '_ {
        self.vms.sorted().into_iter()
    }

    /// Starts loading the VMs' entries, which a power-off scans (see
    /// [`crate::actor::Actor::prefetch_heap`]).
    pub fn prefetch_heap(&self) {
        self.vms.prefetch_heap();
    }

    fn power_on<C: Context>(&mut self, vm: VmId, size: Resources, incarnation: u32, ctx: &mut C) {
        // A stale or refused power-on is dropped: placement has already
        // re-placed this VM when it learnt of the failure.
        if !self.up || incarnation != self.incarnation {
            return;
        }
        // A duplicate (message fault) is ignored: power-on is idempotent.
        if !self.vms.insert_new(vm, size) {
            return;
        }
        // Over capacity is a placement bug; the invariant checker reports it
        // (`host-capacity`) with its causal chain, so no panic here.
        self.used += size;
        ctx.note(Note::VmStarted {
            vm,
            host: self.id,
            size,
        });
    }

    fn power_off<C: Context>(&mut self, vm: VmId, ctx: &mut C) {
        if let Some(size) = self.vms.remove(vm) {
            self.used -= size;
            ctx.note(Note::VmStopped {
                vm,
                host: self.id,
                size,
            });
        }
    }

    fn crash<C: Context>(&mut self, ctx: &mut C) {
        if !self.up {
            return;
        }
        ctx.note(Note::HostFailed {
            host: self.id,
            running: self.used,
            vms: self.vms.len() as u32,
        });
        self.up = false;
        self.deferred.clear();
        self.vms.clear();
        self.used = Resources::ZERO;
        self.timer_generation += 1;
        self.tell_spherelet(ctx);
        // Cut off: placement hears of it when the partition heals.
        if !self.isolated {
            ctx.send(
                self.placement,
                SimDuration::ZERO,
                Event::HostDown { host: self.id },
            );
        }
        if let Some(f) = &self.failures {
            let delay = SimDuration(ctx.sample(&f.mttr));
            let generation = self.timer_generation;
            ctx.send(ctx.me(), delay, Event::RepairTimer { generation });
        }
    }

    fn repair<C: Context>(&mut self, ctx: &mut C) {
        if self.up {
            return;
        }
        self.up = true;
        self.incarnation += 1;
        self.timer_generation += 1;
        ctx.note(Note::HostRepaired { host: self.id });
        self.tell_spherelet(ctx);
        if !self.isolated {
            self.send_up(ctx);
        }
        self.arm_failure(ctx);
    }

    fn send_up<C: Context>(&mut self, ctx: &mut C) {
        let incarnation = self.incarnation;
        ctx.send(
            self.placement,
            SimDuration::ZERO,
            Event::HostUp {
                host: self.id,
                incarnation,
            },
        );
    }

    fn isolate<C: Context>(&mut self, power_off: bool, ctx: &mut C) {
        if self.isolated {
            return;
        }
        self.isolated = true;
        self.isolated_incarnation = self.incarnation;
        ctx.note(Note::HostIsolated { host: self.id });
        self.tell_spherelet(ctx);
        if power_off {
            self.power_off_all(ctx);
        }
    }

    fn reconnect<C: Context>(&mut self, fenced: bool, ctx: &mut C) {
        if !self.isolated {
            return;
        }
        self.isolated = false;
        self.tell_spherelet(ctx);
        let deferred = std::mem::take(&mut self.deferred);
        if fenced {
            // Placement declared this host failed (it is down in its view):
            // what still runs here was restarted elsewhere, and the
            // power-ons held back are dropped with the old incarnation.
            if self.up {
                self.power_off_all(ctx);
                self.tell_dropped_starts(&deferred, ctx);
                self.incarnation += 1;
                self.send_up(ctx);
            }
            return;
        }
        let changed = !self.up || self.incarnation != self.isolated_incarnation;
        if changed {
            // It crashed (and maybe came back) while cut off.
            let host = self.id;
            ctx.send(self.placement, SimDuration::ZERO, Event::HostDown { host });
            if self.up {
                self.send_up(ctx);
            }
        }
        for event in deferred {
            self.handle(event, ctx);
        }
    }

    /// HA's power-off of everything here while cut off; the Spherelet is
    /// told, since the CRXs among these ran its pods.
    fn power_off_all<C: Context>(&mut self, ctx: &mut C) {
        let vms: Vec<VmId> = self.vms.sorted().into_iter().map(|(vm, _)| vm).collect();
        for &vm in &vms {
            self.power_off(vm, ctx);
        }
        if let Some(s) = self.spherelet
            && !vms.is_empty()
        {
            let msg = crate::api::SupMsg::CrxsPoweredOff { vms };
            ctx.send(s, SimDuration::ZERO, msg.event());
        }
    }

    /// Tells the Spherelet which held-back power-ons a fenced heal drops:
    /// it may have started those CRXs' pods while the host was cut off,
    /// and none of them will ever run here.
    fn tell_dropped_starts<C: Context>(&self, deferred: &[Event], ctx: &mut C) {
        let Some(s) = self.spherelet else {
            return;
        };
        let vms: Vec<VmId> = (deferred.iter())
            .filter_map(|e| match e {
                Event::VmPowerOn { vm, .. } => Some(*vm),
                _ => None,
            })
            .collect();
        if !vms.is_empty() {
            let msg = crate::api::SupMsg::CrxStartsDropped { vms };
            ctx.send(s, SimDuration::ZERO, msg.event());
        }
    }

    fn arm_failure<C: Context>(&mut self, ctx: &mut C) {
        if let Some(f) = &self.failures {
            let delay = SimDuration(ctx.sample(&f.mtbf));
            let generation = self.timer_generation;
            ctx.send(ctx.me(), delay, Event::FailureTimer { generation });
        }
    }
}

impl Actor for Host {
    fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        match event {
            Event::VmPowerOn { .. } | Event::VmPowerOff { .. } if self.isolated => {
                self.deferred.push(event)
            }
            Event::HostIsolated { power_off } => self.isolate(power_off, ctx),
            Event::HostReconnected { fenced } => self.reconnect(fenced, ctx),
            Event::Start => self.arm_failure(ctx),
            Event::VmPowerOn {
                vm,
                size,
                incarnation,
            } => self.power_on(vm, size, incarnation, ctx),
            Event::VmPowerOff { vm } => self.power_off(vm, ctx),
            Event::HostCrash => self.crash(ctx),
            Event::HostRepair => self.repair(ctx),
            Event::FailureTimer { generation } if generation == self.timer_generation => {
                self.crash(ctx)
            }
            Event::RepairTimer { generation } if generation == self.timer_generation => {
                self.repair(ctx)
            }
            Event::FailureTimer { .. } | Event::RepairTimer { .. } => {}
            // Its Spherelet restarted and asks what it missed.
            Event::Supervisor(msg) if *msg == crate::api::SupMsg::HostStateAsked => {
                self.tell_spherelet(ctx)
            }
            other => ctx.note(Note::Unexpected {
                actor: "host",
                kind: other.kind(),
            }),
        }
    }
}
