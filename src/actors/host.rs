//! An ESXi host: capacity, up or down, and the VMs it runs.
//!
//! A host accepts a power-on only while up and only for its current
//! incarnation (bumped at every repair), so power-ons sent before a failure
//! can never start a VM twice. Random failures come from the host's own
//! stream: time to failure from `mtbf` while up, time to repair from `mttr`.

use crate::actor::{Context, Note};
use crate::event::Event;
use crate::model::{ActorId, Dist, HostId, Resources, SimDuration, VmId};
use std::collections::BTreeMap;

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
    vms: BTreeMap<VmId, Resources>,
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
            vms: BTreeMap::new(),
        }
    }

    pub fn is_up(&self) -> bool {
        self.up
    }

    pub fn used(&self) -> Resources {
        self.used
    }

    pub fn capacity(&self) -> Resources {
        self.capacity
    }

    /// The VMs running here, in id order.
    pub fn vms(&self) -> impl Iterator<Item = (VmId, Resources)> + '_ {
        self.vms.iter().map(|(v, r)| (*v, *r))
    }

    pub fn handle<C: Context>(&mut self, event: Event, ctx: &mut C) {
        match event {
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
            other => unexpected(self.id, &other),
        }
    }

    fn power_on<C: Context>(&mut self, vm: VmId, size: Resources, incarnation: u32, ctx: &mut C) {
        // A stale or refused power-on is dropped: placement has already
        // re-placed this VM when it learnt of the failure.
        if !self.up || incarnation != self.incarnation {
            return;
        }
        let after = self.used + size;
        assert!(
            after.fits_in(&self.capacity),
            "{} over capacity: placement bug",
            self.id
        );
        self.used = after;
        self.vms.insert(vm, size);
        ctx.note(Note::VmStarted {
            vm,
            host: self.id,
            size,
        });
    }

    fn power_off<C: Context>(&mut self, vm: VmId, ctx: &mut C) {
        if let Some(size) = self.vms.remove(&vm) {
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
        self.vms.clear();
        self.used = Resources::ZERO;
        self.timer_generation += 1;
        ctx.send(
            self.placement,
            SimDuration::ZERO,
            Event::HostDown { host: self.id },
        );
        if let Some(f) = &self.failures {
            let delay = SimDuration(ctx.rng().sample(&f.mttr));
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
        let incarnation = self.incarnation;
        ctx.send(
            self.placement,
            SimDuration::ZERO,
            Event::HostUp {
                host: self.id,
                incarnation,
            },
        );
        self.arm_failure(ctx);
    }

    fn arm_failure<C: Context>(&mut self, ctx: &mut C) {
        if let Some(f) = &self.failures {
            let delay = SimDuration(ctx.rng().sample(&f.mtbf));
            let generation = self.timer_generation;
            ctx.send(ctx.me(), delay, Event::FailureTimer { generation });
        }
    }
}

/// An event no host should ever receive: a wiring bug, not bad input.
fn unexpected(id: HostId, event: &Event) {
    tracing::warn!(host = %id, kind = event.kind(), "host ignored an unexpected event");
}
